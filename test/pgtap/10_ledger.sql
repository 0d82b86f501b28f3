-- ledger: every bad input with its SQLSTATE, and the behaviour of transfers, two-phase
-- transfers, segregation, reserve provisioning, idempotency, privileges and verification
BEGIN;
CREATE EXTENSION riskguard;
SELECT plan(114);

-- the objects the ledger creates
SELECT has_type('riskguard', 'fund_pool', 'type fund_pool');
SELECT enum_has_labels('riskguard', 'fund_pool', ARRAY['client', 'platform', 'reserve'], 'fund_pool labels in order');
SELECT has_table('riskguard', 'account', 'table account');
SELECT has_table('riskguard', 'transfer', 'table transfer');
SELECT has_table('riskguard', 'pool_flow', 'table pool_flow');
SELECT has_table('riskguard', 'reserve_rule', 'table reserve_rule');
SELECT has_table('riskguard', 'reconciliation', 'table reconciliation');
SELECT has_view('riskguard', 'account_balance', 'view account_balance');
SELECT columns_are('riskguard', 'transfer', ARRAY['id', 'debit_account', 'credit_account', 'amount', 'kind',
  'reference', 'idempotency_key', 'status', 'pending_id', 'created_at', 'created_by', 'debit_seq', 'debit_hash',
  'credit_seq', 'credit_hash'], 'transfer columns');
SELECT has_trigger('riskguard', 'transfer', 'transfer_check', 'the transfer trigger');
CREATE TEMP TABLE ledger_functions (name) AS
VALUES ('_account_guard'), ('_account_id'), ('_append_only'), ('_complete_pending'), ('_insert_transfer'),
       ('_config_changed'), ('_transfer_before_insert'), ('hold_transfer'), ('ledger_digest'),
       ('open_account'), ('post_pending'), ('post_transfer'), ('reconcile'), ('verify_ledger'), ('void_pending');
SELECT is((SELECT count(DISTINCT p.proname)::int FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'riskguard' AND p.proname IN (SELECT name FROM ledger_functions)), 15,
          'the ledger''s fifteen functions exist');
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'riskguard' AND p.prosecdef
              AND NOT ('search_path=pg_catalog, pg_temp' = ANY (coalesce(p.proconfig, '{}')))), 0,
          'every SECURITY DEFINER function pins search_path');
SELECT ok(NOT has_function_privilege('public', 'riskguard.open_account(text, riskguard.fund_pool, text, text, char, text, boolean)', 'EXECUTE'),
          'PUBLIC cannot open accounts');
SELECT ok(NOT has_function_privilege('public', 'riskguard.reconcile(text, bigint, timestamptz)', 'EXECUTE'),
          'PUBLIC cannot reconcile');
SELECT ok(NOT has_function_privilege('public', 'riskguard.verify_ledger()', 'EXECUTE'), 'PUBLIC cannot verify');
SELECT ok(has_function_privilege('riskguard_admin', 'riskguard.verify_ledger()', 'EXECUTE'), 'riskguard_admin can verify');
SELECT ok(NOT has_table_privilege('public', 'riskguard.transfer', 'INSERT'), 'PUBLIC cannot write transfers');
SELECT ok(NOT has_table_privilege('riskguard_admin', 'riskguard.account', 'UPDATE'), 'nobody but the owner updates accounts');
SELECT ok((SELECT bool_and(obj_description(p.oid, 'pg_proc') IS NOT NULL) FROM pg_proc p
            JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'riskguard' AND p.proname IN (SELECT name FROM ledger_functions)),
          'every ledger function has a comment');
SELECT is((SELECT count(*)::int FROM pg_catalog.pg_extension e, unnest(e.extconfig) c
            WHERE e.extname = 'riskguard'
              AND c::regclass::text IN ('riskguard.account', 'riskguard.account_id_seq', 'riskguard.transfer',
                                        'riskguard.transfer_id_seq', 'riskguard.pool_flow', 'riskguard.reserve_rule',
                                        'riskguard.reconciliation', 'riskguard.reconciliation_id_seq')),
          8, 'ledger tables and sequences are dumped with the user''s data');

-- accounts: a custody bank account, two client wallets, the platform's fee income and
-- bank account, the risk reserve, a USD wallet and an overdraft-allowed wallet
CREATE TEMP TABLE acc AS
SELECT riskguard.open_account('custody:icbc', 'client', 'ICBC custody', 'entity', 'CNY', 'debit') AS custody,
       riskguard.open_account('wallet:li', 'client', 'Li Wei', 'individual', 'CNY') AS li,
       riskguard.open_account('wallet:wang', 'client', 'Wang Fang', 'individual', 'CNY') AS wang,
       riskguard.open_account('platform:fees', 'platform', NULL, NULL, 'CNY') AS fees,
       riskguard.open_account('platform:bank', 'platform', NULL, NULL, 'CNY', 'debit') AS pbank,
       riskguard.open_account('reserve:main', 'reserve', NULL, NULL, 'CNY') AS reserve,
       riskguard.open_account('wallet:usd', 'client', 'John Smith', 'individual', 'USD') AS usd,
       riskguard.open_account('wallet:od', 'client', 'Overdraft Co', 'entity', 'CNY', 'credit', true) AS od;

CREATE TEMP TABLE dep AS SELECT riskguard.post_transfer('custody:icbc', 'wallet:li', 1000000, 'deposit', 'bank ref 001') AS id;
SELECT is((SELECT id FROM dep), (SELECT max(id) FROM riskguard.transfer), 'a deposit posts and returns its id');
SELECT results_eq($$SELECT posted, available, held FROM riskguard.account_balance WHERE code = 'wallet:li'$$,
                  $$VALUES (1000000::bigint, 1000000::bigint, 0::bigint)$$, 'the wallet shows the deposit');
SELECT results_eq($$SELECT posted FROM riskguard.account_balance WHERE code = 'custody:icbc'$$,
                  $$VALUES (1000000::bigint)$$, 'the debit-normal custody account shows it on its debit side');

-- NULLs in any column: 23502
SELECT throws_ok(format('INSERT INTO riskguard.transfer (debit_account, credit_account, amount, kind) VALUES (NULL, %s, 1, %L)', (SELECT wang FROM acc), 'invest'),
                 '23502', 'null value in column "debit_account" of transfer', 'NULL debit account: 23502');
SELECT throws_ok(format('INSERT INTO riskguard.transfer (debit_account, credit_account, amount, kind) VALUES (%s, NULL, 1, %L)', (SELECT li FROM acc), 'invest'),
                 '23502', NULL, 'NULL credit account: 23502');
SELECT throws_ok(format('INSERT INTO riskguard.transfer (debit_account, credit_account, amount, kind) VALUES (%s, %s, NULL, %L)', (SELECT li FROM acc), (SELECT wang FROM acc), 'invest'),
                 '23502', 'null value in column "amount" of transfer', 'NULL amount: 23502');
SELECT throws_ok(format('INSERT INTO riskguard.transfer (debit_account, credit_account, amount, kind) VALUES (%s, %s, 1, NULL)', (SELECT li FROM acc), (SELECT wang FROM acc)),
                 '23502', NULL, 'NULL kind: 23502');
SELECT throws_ok(format('INSERT INTO riskguard.transfer (debit_account, credit_account, amount, kind, status) VALUES (%s, %s, 1, %L, NULL)', (SELECT li FROM acc), (SELECT wang FROM acc), 'invest'),
                 '23502', NULL, 'NULL status: 23502');
SELECT throws_ok($$SELECT riskguard.post_transfer(NULL, 'wallet:wang', 1, 'invest')$$, '23502', NULL,
                 'post_transfer with a NULL account code: 23502');
SELECT throws_ok($$SELECT riskguard.post_transfer('wallet:li', 'wallet:wang', NULL, 'invest')$$, '23502', NULL,
                 'post_transfer with a NULL amount: 23502');

-- amounts: 0, negative, bigint max
SELECT throws_ok($$SELECT riskguard.post_transfer('wallet:li', 'wallet:wang', 0, 'invest')$$, '22023',
                 'transfer amount must be positive', 'amount 0: 22023');
SELECT throws_ok($$SELECT riskguard.post_transfer('wallet:li', 'wallet:wang', -500, 'invest')$$, '22023',
                 'transfer amount must be positive', 'negative amount: 22023');
SELECT throws_ok($$SELECT riskguard.post_transfer('wallet:od', 'wallet:li', 9223372036854775807, 'invest')$$, '22003',
                 'posted credits of account "wallet:li" would be out of range', 'bigint max onto a funded account overflows: 22003');
SELECT throws_ok($$SELECT riskguard.post_transfer('wallet:li', 'wallet:wang', 9223372036854775807, 'invest')$$, 'RG003',
                 'insufficient funds in account "wallet:li"', 'bigint max from a wallet: RG003');

-- accounts: unknown, the same, mixed currency; kind empty
SELECT throws_ok($$SELECT riskguard.post_transfer('wallet:li', 'wallet:nobody', 100, 'invest')$$, '23503',
                 'account "wallet:nobody" does not exist', 'unknown account code: 23503');
SELECT throws_ok(format('INSERT INTO riskguard.transfer (debit_account, credit_account, amount, kind) VALUES (%s, 999999, 100, %L)', (SELECT li FROM acc), 'invest'),
                 '23503', 'account 999999 does not exist', 'unknown account id: 23503');
SELECT throws_ok($$SELECT riskguard.post_transfer('wallet:li', 'wallet:li', 100, 'invest')$$, '22023',
                 'debit and credit account of a transfer must differ', 'same account: 22023');
SELECT throws_ok($$SELECT riskguard.post_transfer('wallet:li', 'wallet:usd', 100, 'invest')$$, '22023',
                 'accounts "wallet:li" and "wallet:usd" hold different currencies', 'mixed currency: 22023');
SELECT throws_ok($$SELECT riskguard.post_transfer('wallet:li', 'wallet:wang', 100, '')$$, '22023',
                 'transfer kind must not be empty', 'empty kind: 22023');
SELECT throws_ok(format('INSERT INTO riskguard.transfer (debit_account, credit_account, amount, kind, status) VALUES (%s, %s, 1, %L, %L)', (SELECT li FROM acc), (SELECT wang FROM acc), 'invest', 'voided'),
                 '22023', NULL, 'a new transfer with status voided: 22023');
SELECT throws_ok(format('INSERT INTO riskguard.transfer (debit_account, credit_account, amount, kind, status) VALUES (%s, %s, 1, %L, %L)', (SELECT li FROM acc), (SELECT wang FROM acc), 'invest', 'settled'),
                 '22023', 'a new transfer must have status posted or pending, not "settled"', 'an unknown status: 22023');

-- segregation: the shipped flows
SELECT throws_ok($$SELECT riskguard.post_transfer('wallet:li', 'platform:fees', 100, 'invest')$$, 'RG002',
                 'transfer of kind "invest" from pool client to pool platform is not allowed',
                 'client -> platform for an unlisted kind: RG002');
SELECT lives_ok($$SELECT riskguard.post_transfer('wallet:li', 'platform:fees', 300, 'fee')$$, 'client -> platform fee is allowed');
SELECT lives_ok($$SELECT riskguard.post_transfer('wallet:li', 'platform:fees', 200, 'repay_interest')$$, 'client -> platform repay_interest is allowed');
SELECT lives_ok($$SELECT riskguard.post_transfer('wallet:li', 'wallet:wang', 100000, 'invest')$$, 'client -> client any kind is allowed');
SELECT lives_ok($$SELECT riskguard.post_transfer('platform:fees', 'wallet:wang', 100, 'refund')$$, 'platform -> client any kind is allowed');
SELECT lives_ok($$SELECT riskguard.post_transfer('platform:fees', 'reserve:main', 100, 'reserve_provision')$$, 'platform -> reserve provision is allowed');
SELECT throws_ok($$SELECT riskguard.post_transfer('platform:fees', 'reserve:main', 100, 'fee')$$, 'RG002', NULL,
                 'platform -> reserve for another kind: RG002');
SELECT lives_ok($$SELECT riskguard.post_transfer('reserve:main', 'wallet:wang', 50, 'reserve_compensation')$$, 'reserve -> client compensation is allowed');
SELECT throws_ok($$SELECT riskguard.post_transfer('reserve:main', 'platform:fees', 10, 'refund')$$, 'RG002', NULL,
                 'nothing flows out of the reserve to the platform: RG002');
SELECT throws_ok($$SELECT riskguard.post_transfer('reserve:main', 'platform:fees', 10, 'reserve_compensation')$$, 'RG002', NULL,
                 'not even compensation: RG002');
SELECT throws_ok($$SELECT riskguard.post_transfer('platform:bank', 'platform:fees', 10, 'capital')$$, 'RG002', NULL,
                 'platform -> platform is not in the shipped policy: RG002');
-- crediting an asset account takes money out of it: custody cash into a platform bank
SELECT throws_ok($$SELECT riskguard.post_transfer('platform:bank', 'custody:icbc', 1000, 'refund')$$, 'RG002',
                 'transfer of kind "refund" from pool client to pool platform is not allowed',
                 'moving custody cash to a platform bank account is client -> platform: RG002');
SELECT lives_ok($$SELECT riskguard.post_transfer('platform:bank', 'custody:icbc', 300, 'fee')$$,
                'sweeping fee income out of custody is allowed');
-- the cache sees a new flow at once, in the same session
INSERT INTO riskguard.pool_flow VALUES ('platform', 'platform', 'capital');
SELECT lives_ok($$SELECT riskguard.post_transfer('platform:bank', 'platform:fees', 5000000, 'capital')$$,
                'a flow added to pool_flow applies to the next transfer');
DELETE FROM riskguard.pool_flow WHERE from_pool = 'platform' AND to_pool = 'platform';
SELECT throws_ok($$SELECT riskguard.post_transfer('platform:bank', 'platform:fees', 10, 'capital')$$, 'RG002', NULL,
                 'a removed flow is refused again');

-- balance constraints
SELECT throws_ok($$SELECT riskguard.post_transfer('wallet:wang', 'wallet:li', 100151, 'invest')$$, 'RG003',
                 'insufficient funds in account "wallet:wang"', 'a wallet cannot pay more than it holds: RG003');
SELECT lives_ok($$SELECT riskguard.post_transfer('wallet:wang', 'wallet:li', 100150, 'invest')$$, 'it can pay exactly what it holds');
SELECT results_eq($$SELECT posted FROM riskguard.account_balance WHERE code = 'wallet:wang'$$,
                  $$VALUES (0::bigint)$$, 'leaving zero');
SELECT lives_ok($$SELECT riskguard.post_transfer('wallet:od', 'wallet:wang', 700, 'invest')$$, 'an overdraft account may go below zero');
SELECT results_eq($$SELECT posted FROM riskguard.account_balance WHERE code = 'wallet:od'$$,
                  $$VALUES (-700::bigint)$$, 'and shows a negative balance');
SELECT throws_ok($$SELECT riskguard.post_transfer('wallet:li', 'custody:icbc', 5000000, 'withdrawal')$$, 'RG003',
                 NULL, 'a withdrawal above the wallet balance: RG003');

-- idempotency
SELECT is(riskguard.post_transfer('wallet:li', 'wallet:wang', 1000, 'invest', 'order 77', 'order-77'),
          riskguard.post_transfer('wallet:li', 'wallet:wang', 1000, 'invest', 'order 77', 'order-77'),
          'a replayed key with the same fields returns the first transfer');
SELECT is((SELECT count(*)::int FROM riskguard.transfer WHERE idempotency_key = 'order-77'), 1, 'and posts it once');
SELECT results_eq($$SELECT k.transfer_id FROM riskguard.transfer_key k WHERE k.idempotency_key = 'order-77'$$,
                  $$SELECT t.id FROM riskguard.transfer t WHERE t.idempotency_key = 'order-77'$$,
                  'riskguard.transfer_key names the transfer that used the key, once');
SELECT results_eq($$SELECT posted FROM riskguard.account_balance WHERE code = 'wallet:wang'$$,
                  $$VALUES (1700::bigint)$$, 'the replay moved no money');
SELECT throws_ok($$SELECT riskguard.post_transfer('wallet:li', 'wallet:wang', 1001, 'invest', 'order 77', 'order-77')$$, 'RG005',
                 'idempotency key "order-77" was already used for a different transfer', 'the same key with another amount: RG005');
SELECT throws_ok($$SELECT riskguard.post_transfer('wallet:li', 'wallet:wang', 1000, 'invest', NULL, '')$$, '22023', NULL,
                 'an empty idempotency key: 22023');

-- two-phase transfers
CREATE TEMP TABLE hold AS SELECT riskguard.hold_transfer('wallet:li', 'wallet:wang', 200000, 'invest', 'loan 9 bid') AS id;
SELECT results_eq($$SELECT posted, available, held FROM riskguard.account_balance WHERE code = 'wallet:li'$$,
                  $$VALUES (998650::bigint, 798650::bigint, 200000::bigint)$$, 'a hold reserves funds: available drops, posted stays');
SELECT throws_ok($$SELECT riskguard.post_transfer('wallet:li', 'wallet:wang', 798651, 'invest')$$, 'RG003', NULL,
                 'held funds cannot be spent: RG003');
SELECT throws_ok(format('SELECT riskguard.post_pending(%s, 200001)', (SELECT id FROM hold)), '22023',
                 format('cannot post 200001 from pending transfer %s, which holds 200000', (SELECT id FROM hold)),
                 'posting more than held: 22023');
SELECT lives_ok(format('SELECT riskguard.post_pending(%s, 150000)', (SELECT id FROM hold)), 'a partial post');
SELECT results_eq($$SELECT posted, available, held FROM riskguard.account_balance WHERE code = 'wallet:li'$$,
                  $$VALUES (848650::bigint, 848650::bigint, 0::bigint)$$, 'posts that part and releases the rest');
SELECT is((SELECT status FROM riskguard.transfer WHERE id = (SELECT id FROM hold)), 'posted', 'the pending transfer is now posted');
SELECT throws_ok(format('SELECT riskguard.void_pending(%s)', (SELECT id FROM hold)), '55000',
                 format('transfer %s is not pending', (SELECT id FROM hold)), 'voiding a posted transfer: 55000');
UPDATE hold SET id = riskguard.hold_transfer('wallet:li', 'wallet:wang', 30000, 'withdrawal');
SELECT lives_ok(format('SELECT riskguard.void_pending(%s)', (SELECT id FROM hold)), 'a void');
SELECT results_eq($$SELECT posted, available, held FROM riskguard.account_balance WHERE code = 'wallet:li'$$,
                  $$VALUES (848650::bigint, 848650::bigint, 0::bigint)$$, 'releases the whole hold');
SELECT throws_ok(format('SELECT riskguard.post_pending(%s)', (SELECT id FROM hold)), '55000', NULL,
                 'posting a voided transfer: 55000');
SELECT throws_ok(format('SELECT riskguard.void_pending(%s)', (SELECT id FROM hold)), '55000', NULL,
                 'voiding it twice: 55000');
SELECT throws_ok('SELECT riskguard.post_pending(1)', '55000', NULL, 'posting a single-phase transfer as pending: 55000');
SELECT throws_ok('SELECT riskguard.post_pending(987654)', '23503', NULL, 'posting an unknown transfer: 23503');
-- a completion written by INSERT with an idempotency key, replayed
UPDATE hold SET id = riskguard.hold_transfer('wallet:li', 'wallet:wang', 500, 'invest');
PREPARE complete_hold AS
INSERT INTO riskguard.transfer (debit_account, credit_account, amount, kind, status, pending_id, idempotency_key)
SELECT acc.li, acc.wang, 500, 'invest', 'posted', hold.id, 'complete-hold' FROM acc, hold;
SELECT lives_ok('EXECUTE complete_hold', 'a completion written by INSERT with an idempotency key');
SELECT lives_ok('EXECUTE complete_hold', 'the replayed completion keeps the first (no 55000)');
SELECT is((SELECT count(*)::int FROM riskguard.transfer WHERE pending_id = (SELECT id FROM hold)), 1,
          'the hold has one completion');
SELECT results_eq($$SELECT c.transfer_id FROM riskguard.transfer_completion c, hold WHERE c.pending_id = hold.id$$,
                  $$SELECT t.id FROM riskguard.transfer t, hold WHERE t.pending_id = hold.id$$,
                  'riskguard.transfer_completion names it');
SELECT is((SELECT count(*)::int FROM riskguard.transfer_completion c JOIN riskguard.transfer t ON t.id = c.transfer_id
            WHERE t.pending_id IS DISTINCT FROM c.pending_id), 0,
          'every recorded completion is the transfer that names its pending transfer');
SELECT is((SELECT count(*)::int FROM riskguard.transfer t
            WHERE (t.pending_id IS NOT NULL) <> EXISTS (SELECT 1 FROM riskguard.transfer_completion c WHERE c.transfer_id = t.id)), 0,
          'and every completing transfer is recorded');

-- reserve provisioning: 50 bps of every invest, rounded down, posted in the same transaction
INSERT INTO riskguard.reserve_rule VALUES ('invest', 50, (SELECT fees FROM acc), (SELECT reserve FROM acc));
CREATE TEMP TABLE inv AS SELECT riskguard.post_transfer('wallet:li', 'wallet:wang', 123457, 'invest') AS id;
SELECT results_eq(format($$SELECT amount, kind, reference FROM riskguard.transfer WHERE id > %s ORDER BY id$$, (SELECT id FROM inv)),
                  $$VALUES (617::bigint, 'reserve_provision'::text, 'reserve provision for transfer ' || (SELECT id FROM inv))$$,
                  'an invest of 123457 provisions 617 (50 bps, rounded down)');
SELECT throws_ok($$INSERT INTO riskguard.reserve_rule VALUES ('reserve_provision', 10, 4, 6)$$, '23514', NULL,
                 'a rule on provisions themselves is refused');

-- append-only
SELECT throws_ok('UPDATE riskguard.transfer SET amount = 1', 'RG004', 'ledger table "transfer" is append-only', 'UPDATE: RG004');
SELECT throws_ok('DELETE FROM riskguard.transfer', 'RG004', NULL, 'DELETE: RG004');
SELECT throws_ok('TRUNCATE riskguard.transfer', 'RG004', NULL, 'TRUNCATE: RG004');
SELECT throws_ok(format('UPDATE riskguard.transfer SET status = %L WHERE id = %s', 'pending', (SELECT id FROM hold)), 'RG004', NULL,
                 'a status change by hand: RG004');
SELECT throws_ok('DELETE FROM riskguard.account', 'RG004', NULL, 'deleting accounts: RG004');
SELECT throws_ok($$UPDATE riskguard.transfer_key SET transfer_id = 1$$, 'RG004',
                 'ledger table "transfer_key" is append-only', 'changing which transfer a key names: RG004');
SELECT throws_ok('DELETE FROM riskguard.transfer_key', 'RG004', NULL, 'forgetting idempotency keys: RG004');
SELECT throws_ok('TRUNCATE riskguard.transfer_key', 'RG004', NULL, 'truncating them: RG004');
SELECT throws_ok('DELETE FROM riskguard.transfer_completion', 'RG004',
                 'ledger table "transfer_completion" is append-only', 'forgetting completions: RG004');
SELECT throws_ok('TRUNCATE riskguard.transfer_completion', 'RG004', NULL, 'truncating them: RG004');
SELECT throws_ok($$UPDATE riskguard.account SET credits_posted = credits_posted + 100 WHERE code = 'wallet:wang'$$, 'RG004',
                 'ledger table "account" is append-only', 'changing a balance by hand: RG004');
SELECT lives_ok($$UPDATE riskguard.account SET owner = 'Wang Fang (verified)' WHERE code = 'wallet:wang'$$,
                'an account''s owner may be corrected');

-- privileges: pool_flow and reserve_rule change only through maker-checker
CREATE ROLE ledger_tap_app;
GRANT INSERT, SELECT ON riskguard.transfer TO ledger_tap_app;
GRANT SELECT ON riskguard.account TO ledger_tap_app;
SET ROLE ledger_tap_app;
SELECT throws_ok($$INSERT INTO riskguard.pool_flow VALUES ('client', 'platform', 'invest')$$, '42501', NULL,
                 'an application role cannot widen the flows');
SELECT throws_ok($$DELETE FROM riskguard.reserve_rule$$, '42501', NULL, 'nor change reserve rules');
SELECT throws_ok($$INSERT INTO riskguard.transfer_key VALUES ('made-up', 1)$$, '42501', NULL,
                 'nor claim an idempotency key by hand');
SELECT throws_ok($$SELECT * FROM riskguard.transfer_completion$$, '42501', NULL,
                 'nor read the completions without a grant');
SELECT lives_ok($$SELECT riskguard.post_transfer('wallet:li', 'wallet:wang', 100, 'gift')$$,
                'a role with INSERT on transfer posts through the trigger');
RESET ROLE;
SELECT is((SELECT created_by FROM riskguard.transfer WHERE kind = 'gift'), 'ledger_tap_app', 'the transfer records who wrote it');
-- the writer's name is remembered per session: a renamed role is recorded under its new name
ALTER ROLE ledger_tap_app RENAME TO ledger_tap_app2;
SET ROLE ledger_tap_app2;
SELECT riskguard.post_transfer('wallet:li', 'wallet:wang', 100, 'gift', 'after rename');
RESET ROLE;
SELECT is((SELECT created_by FROM riskguard.transfer WHERE reference = 'after rename'), 'ledger_tap_app2',
          'a renamed role is recorded under its new name');
ALTER ROLE ledger_tap_app2 RENAME TO ledger_tap_app;
-- a writer's temporary table named like riskguard's tables is never what the checks read
CREATE TEMP TABLE pool_flow (from_pool text, to_pool text, kind text);
CREATE TEMP TABLE transfer (id bigint, idempotency_key text);
CREATE TEMP TABLE transfer_key (idempotency_key text, transfer_id bigint);
SET search_path = pg_temp, public;
SELECT lives_ok($$SELECT riskguard.post_transfer('wallet:li', 'wallet:wang', 100, 'gift', 'shadowed', 'shadow-key-1')$$,
                'temporary tables shadowing riskguard''s names do not reach the checks');
SELECT throws_ok($$INSERT INTO riskguard.transfer (debit_account, credit_account, amount, kind, idempotency_key)
                   SELECT debit_account, credit_account, amount + 1, kind, idempotency_key
                     FROM riskguard.transfer WHERE reference = 'shadowed'$$,
                 'RG005', NULL, 'the idempotency check still reads riskguard''s tables');
RESET search_path;
DROP TABLE pg_temp.pool_flow, pg_temp.transfer, pg_temp.transfer_key;
SET ROLE riskguard_admin;
SELECT throws_ok($$INSERT INTO riskguard.pool_flow VALUES ('reserve', 'reserve', '*')$$, '42501', NULL,
                 'riskguard_admin changes the flows only by proposing');
RESET ROLE;

-- verification and digest
SELECT is((SELECT count(*)::int FROM riskguard.verify_ledger() WHERE NOT ok), 0, 'every chain verifies');
SELECT is(length(riskguard.ledger_digest()), 32, 'the digest is 32 bytes');
SELECT is((SELECT sum(debits_posted) FROM riskguard.account), (SELECT sum(credits_posted) FROM riskguard.account),
          'debits equal credits');

SELECT * FROM finish();
ROLLBACK;
