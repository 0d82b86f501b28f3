-- control audit log: appends chain, verification finds changes, removals and bad links,
-- the table is append-only, and only riskguard's roles can read or verify it
BEGIN;
CREATE EXTENSION riskguard;
SELECT plan(21);

-- the hash encoding, against an independent implementation (test/reference/audit_hash.py,
-- Python hashlib.blake2b over the encoding documented in the README)
SELECT is(riskguard.audit_hash(NULL, 1, '2026-01-01 00:00:00+00', 'alice', 'propose', 'limit_rule',
                               '{"threshold": 20000000}'),
          '\x37bbe330616d48fa2e01e6fccae3ea8f866c46fdfd345976dcaa11d24a3ec0c5'::bytea,
          'audit_hash of a first entry matches the reference');
SELECT is(riskguard.audit_hash('\x37bbe330616d48fa2e01e6fccae3ea8f866c46fdfd345976dcaa11d24a3ec0c5',
                               2, '2026-01-01 00:00:01.5+00', 'bob', 'approve', NULL, NULL),
          '\xc27bb9885ac7a00bc9cc6e75f32fdad45df1b1b27d6551068075dd631c05540d'::bytea,
          'audit_hash of a chained entry with NULL fields matches the reference');
SELECT throws_ok($$SELECT riskguard.audit_hash('\x00', 1, now(), 'a', 'b', NULL, NULL)$$, '22023',
                 'previous audit hash must be 32 bytes, not 1', 'a short previous hash is refused');

SELECT is((SELECT ok FROM riskguard.verify_audit()), true, 'an empty log verifies');
SELECT is(riskguard._audit('propose', 'limit_rule', '{"id": 1}'), 1::bigint, 'first entry is 1');
SELECT is(riskguard._audit('approve', 'limit_rule', '{"id": 1}'), 2::bigint, 'second entry is 2');
SELECT is(riskguard._audit('apply', 'limit_rule', NULL), 3::bigint, 'third entry is 3');
SELECT throws_ok($$SELECT riskguard._audit('', 'x', NULL)$$, '22023', 'audit action must not be empty',
                 'an empty action is refused');

SELECT is((SELECT actor FROM riskguard.audit_log WHERE seq = 1), session_user::text,
          'the actor is the session user');
SELECT is((SELECT prev_hash FROM riskguard.audit_log WHERE seq = 2),
          (SELECT hash FROM riskguard.audit_log WHERE seq = 1), 'entry 2 links to entry 1');
SELECT results_eq($$SELECT seq, ok, detail FROM riskguard.verify_audit()$$,
                  $$VALUES (3::bigint, true, '3 entries, chain intact')$$, 'the chain verifies');
SELECT is((SELECT seq FROM riskguard.audit_head()), 3::bigint, 'audit_head names the newest entry');

-- append-only
SELECT throws_ok($$UPDATE riskguard.audit_log SET actor = 'mallory'$$, 'RG004', NULL, 'UPDATE is refused');
SELECT throws_ok($$DELETE FROM riskguard.audit_log$$, 'RG004', NULL, 'DELETE is refused');
SELECT throws_ok($$TRUNCATE riskguard.audit_log$$, 'RG004', NULL, 'TRUNCATE is refused');

-- privileges
SELECT ok(NOT has_function_privilege('public', 'riskguard._audit(text,text,jsonb)', 'EXECUTE'),
          'PUBLIC cannot append');
SELECT ok(NOT has_table_privilege('public', 'riskguard.audit_log', 'SELECT'), 'PUBLIC cannot read the log');
SELECT ok(NOT has_function_privilege('riskguard_reader', 'riskguard.verify_audit()', 'EXECUTE'),
          'riskguard_reader cannot verify the log');

-- tampering by someone who can bypass the triggers (a superuser) is found
SET LOCAL session_replication_role = replica;
UPDATE riskguard.audit_log SET payload = '{"id": 2}' WHERE seq = 2;
RESET session_replication_role;
SELECT results_eq($$SELECT seq, ok, detail FROM riskguard.verify_audit()$$,
                  $$VALUES (2::bigint, false, 'entry 2 was changed: its contents do not match its hash')$$,
                  'a changed entry is found');

SET LOCAL session_replication_role = replica;
UPDATE riskguard.audit_log SET payload = '{"id": 1}' WHERE seq = 2;
DELETE FROM riskguard.audit_log WHERE seq = 2;
RESET session_replication_role;
SELECT results_eq($$SELECT seq, ok, detail FROM riskguard.verify_audit()$$,
                  $$VALUES (2::bigint, false, 'entry 2 is missing: the next entry is 3')$$,
                  'a removed entry is found');

SET LOCAL session_replication_role = replica;
UPDATE riskguard.audit_log SET seq = 2 WHERE seq = 3;
RESET session_replication_role;
SELECT results_eq($$SELECT seq, ok, detail FROM riskguard.verify_audit()$$,
                  $$VALUES (2::bigint, false, 'entry 2 does not link to entry 1: its previous hash differs')$$,
                  'an entry renumbered to fill the gap does not link to its predecessor');

SELECT * FROM finish();
ROLLBACK;
