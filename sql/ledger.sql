-- ledger: the shape of accounts, balances, transfers, two-phase transfers, reserve
-- provisions, reconciliation and verification, and of the errors a client sees
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS riskguard;
RESET client_min_messages;
\set VERBOSITY default
\set SHOW_CONTEXT never

-- the shipped flow policy
SELECT from_pool, to_pool, kind FROM riskguard.pool_flow ORDER BY 1, 2, 3;

SELECT riskguard.open_account('rg:custody', 'client', 'Bank of Ningbo custody', 'entity', 'CNY', 'debit') AS custody,
       riskguard.open_account('rg:wallet:liu', 'client', 'Liu Yang', 'individual', 'CNY') AS liu,
       riskguard.open_account('rg:wallet:zhao', 'client', 'Zhao Lei', 'individual', 'CNY') AS zhao,
       riskguard.open_account('rg:fees', 'platform', NULL, NULL, 'CNY') AS fees,
       riskguard.open_account('rg:provision_expense', 'platform', NULL, NULL, 'CNY', 'debit') AS expense,
       riskguard.open_account('rg:reserve', 'reserve', NULL, NULL, 'CNY') AS reserve
\gset
INSERT INTO riskguard.reserve_rule VALUES ('invest', 100, :expense, :reserve);

SELECT riskguard.post_transfer('rg:custody', 'rg:wallet:liu', 1000000, 'deposit', 'NBCB 0001') > 0 AS deposited;
SELECT riskguard.post_transfer('rg:custody', 'rg:wallet:zhao', 250000, 'deposit', 'NBCB 0002') > 0 AS deposited;
SELECT riskguard.post_transfer('rg:wallet:liu', 'rg:wallet:zhao', 300000, 'invest', 'loan 88') > 0 AS invested;
SELECT riskguard.post_transfer('rg:wallet:zhao', 'rg:fees', 3000, 'fee', 'servicing fee') > 0 AS fee_charged;
SELECT riskguard.hold_transfer('rg:wallet:zhao', 'rg:custody', 100000, 'withdrawal', 'to card ****6210') AS held \gset
SELECT riskguard.post_pending(:held, 80000) > :held AS posted_in_part;

SELECT code, pool, currency, normal_side, posted, available, held
  FROM riskguard.account_balance WHERE code LIKE 'rg:%' ORDER BY id;

-- transfers, with the chain columns reduced to their shape
SELECT t.id - :held AS rel_id, d.code AS debit, c.code AS credit, t.amount, t.kind, t.status,
       t.pending_id - :held AS rel_pending, t.debit_seq, t.credit_seq,
       length(t.debit_hash) AS dh_len, length(t.credit_hash) AS ch_len,
       CASE t.kind WHEN 'reserve_provision'
         THEN 'provision for ' || (substring(t.reference FROM '\d+$')::bigint - :held)
         ELSE t.reference END AS reference
  FROM riskguard.transfer t
  JOIN riskguard.account d ON d.id = t.debit_account
  JOIN riskguard.account c ON c.id = t.credit_account
 WHERE d.code LIKE 'rg:%'
 ORDER BY t.id;

-- reconciliation against the custody bank's statement: the client liabilities are
-- 1,167,000 fen; the fee of 3,000 is the platform's money still at the custody bank
SELECT custody_account = :custody AS custody, currency, statement_balance, client_liabilities,
       custody_ledger_balance, statement_minus_liabilities, statement_minus_ledger, status
  FROM riskguard.reconcile('rg:custody', 1170000, '2026-11-25 17:00+08');
SELECT status, statement_minus_liabilities, statement_minus_ledger
  FROM riskguard.reconcile('rg:custody', 1167000, '2026-11-25 17:00+08');
SELECT status, statement_minus_liabilities, statement_minus_ledger
  FROM riskguard.reconcile('rg:custody', 1160000, '2026-11-25 17:00+08');
SELECT count(*) AS recorded, min(statement_at) = max(statement_at) AS same_statement_time
  FROM riskguard.reconciliation WHERE custody_account = :custody;

SELECT count(*) AS accounts, bool_and(ok) AS all_ok FROM riskguard.verify_ledger()
 WHERE account_id IN (SELECT id FROM riskguard.account WHERE code LIKE 'rg:%');
SELECT length(riskguard.ledger_digest()) AS digest_bytes;

-- the errors a client sees: SQLSTATE, message, detail and hint (transfer and account
-- ids are replaced by N so the output does not depend on earlier files)
CREATE FUNCTION pg_temp.error_of(stmt text,
  OUT code text, OUT message text, OUT detail text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE stmt;
  code := 'none';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                          detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
  message := regexp_replace(message, 'transfer \d+', 'transfer N', 'g');
  detail := regexp_replace(regexp_replace(detail, 'Transfer \d+', 'Transfer N', 'g'),
                           'account \d+', 'account N', 'g');
END
$$;
SELECT riskguard.post_transfer('rg:wallet:liu', 'rg:wallet:zhao', 10, 'invest', NULL, 'rg-key-1') > 0 AS first_use;
\x on
SELECT * FROM pg_temp.error_of($$SELECT riskguard.post_transfer('rg:wallet:zhao', 'rg:fees', 500, 'invest')$$);
SELECT * FROM pg_temp.error_of($$SELECT riskguard.post_transfer('rg:wallet:zhao', 'rg:wallet:liu', 999999, 'invest')$$);
SELECT * FROM pg_temp.error_of($$SELECT riskguard.post_transfer('rg:wallet:liu', 'rg:wallet:zhao', 11, 'invest', NULL, 'rg-key-1')$$);
SELECT * FROM pg_temp.error_of($$SELECT riskguard.post_transfer('rg:wallet:liu', 'rg:wallet:liu', 10, 'invest')$$);
SELECT * FROM pg_temp.error_of($$SELECT riskguard.post_transfer('rg:wallet:liu', 'rg:nobody', 10, 'invest')$$);
SELECT * FROM pg_temp.error_of($$SELECT riskguard.post_transfer('rg:wallet:liu', 'rg:wallet:zhao', 0, 'invest')$$);
SELECT * FROM pg_temp.error_of(format('SELECT riskguard.post_pending(%s)', :held));
SELECT * FROM pg_temp.error_of($$UPDATE riskguard.transfer SET amount = amount + 1$$);
SELECT * FROM pg_temp.error_of($$DELETE FROM riskguard.transfer$$);
SELECT * FROM pg_temp.error_of($$SELECT * FROM riskguard.reconcile('rg:wallet:liu', 1, now())$$);
\x off
