-- Act 10: the ledger.  A day at a lending platform: client deposits arrive at the
-- custody bank, a client invests in a loan (and the risk reserve is provisioned), the
-- platform charges a fee, tries to take client money for itself and is refused, a
-- withdrawal is held and then paid, and the day closes with a reconciliation against
-- the custody bank's statement.  Amounts are CNY in fen.
\pset footer off
\echo
\echo '== Act 10: the segregated ledger'

\echo 'Morning: the accounts.  Client money sits at the custody bank (China Merchants Bank);'
\echo 'the platform has its fee income and a provision expense; the risk reserve is separate.'
SELECT riskguard.open_account('custody:cmb', 'client', 'China Merchants Bank, custody', 'entity', 'CNY', 'debit') AS custody,
       riskguard.open_account('wallet:li.na', 'client', 'Li Na', 'individual', 'CNY') AS li_na,
       riskguard.open_account('wallet:wang.qiang', 'client', 'Wang Qiang', 'individual', 'CNY') AS wang_qiang,
       riskguard.open_account('wallet:hangzhou.tea', 'client', 'Hangzhou Longjing Tea Co.', 'entity', 'CNY') AS borrower,
       riskguard.open_account('platform:fees', 'platform', NULL, NULL, 'CNY') AS fees,
       riskguard.open_account('platform:bank', 'platform', 'Platform operating account, ICBC', 'entity', 'CNY', 'debit') AS pbank,
       riskguard.open_account('platform:provision_expense', 'platform', NULL, NULL, 'CNY', 'debit') AS expense,
       riskguard.open_account('reserve:risk', 'reserve', NULL, NULL, 'CNY') AS reserve
\gset
\echo 'The platform provisions 0.8% of every investment into the risk reserve:'
INSERT INTO riskguard.reserve_rule VALUES ('invest', 80, :expense, :reserve);
SELECT kind, basis_points, f.code AS from_account, t.code AS to_account
  FROM riskguard.reserve_rule r
  JOIN riskguard.account f ON f.id = r.from_account
  JOIN riskguard.account t ON t.id = r.to_account;

\echo '09:10 deposits arrive at the custody bank (idempotency keys are the bank references):'
SELECT riskguard.post_transfer('custody:cmb', 'wallet:li.na', 5000000, 'deposit', 'CMB 20261125-000183', 'cmb-000183') AS li_na_deposit,
       riskguard.post_transfer('custody:cmb', 'wallet:wang.qiang', 2000000, 'deposit', 'CMB 20261125-000184', 'cmb-000184') AS wang_qiang_deposit;
\echo 'The bank''s notification is delivered twice; the replay returns the same transfer:'
SELECT riskguard.post_transfer('custody:cmb', 'wallet:li.na', 5000000, 'deposit', 'CMB 20261125-000183', 'cmb-000183') AS replayed;

\echo '10:30 Li Na invests 30,000.00 in the tea company''s loan; the reserve provision posts with it:'
SELECT riskguard.post_transfer('wallet:li.na', 'wallet:hangzhou.tea', 3000000, 'invest', 'loan HZ-2026-117') AS investment;
\echo '11:00 the platform charges the borrower its 1.5% service fee:'
SELECT riskguard.post_transfer('wallet:hangzhou.tea', 'platform:fees', 45000, 'fee', 'loan HZ-2026-117 service fee') AS fee;

\echo '11:05 someone tries to move client money to the platform as an "invest": refused (RG002):'
\set ON_ERROR_STOP off
\set SHOW_CONTEXT never
SELECT riskguard.post_transfer('wallet:wang.qiang', 'platform:fees', 500000, 'invest', 'bridge loan to platform');
\echo 'and Wang Qiang cannot withdraw more than he has (RG003):'
SELECT riskguard.post_transfer('wallet:wang.qiang', 'custody:cmb', 2500000, 'withdrawal', 'to card ****3108');
\set ON_ERROR_STOP on

\echo '14:00 Wang Qiang withdraws 8,000.00: held while the bank pays, then posted.'
SELECT riskguard.hold_transfer('wallet:wang.qiang', 'custody:cmb', 800000, 'withdrawal', 'to card ****3108') AS hold_id \gset
SELECT code, posted, available, held FROM riskguard.account_balance WHERE code = 'wallet:wang.qiang';
SELECT riskguard.post_pending(:hold_id) AS completed_by;

\echo 'End of day: balances on each account''s normal side'
SELECT code, pool, normal_side, posted, available, held
  FROM riskguard.account_balance WHERE currency = 'CNY' ORDER BY pool, code;

\echo 'The day''s transfers, each chained into both accounts'' hash chains:'
SELECT t.id, d.code AS debit, c.code AS credit, t.amount, t.kind, t.status, t.pending_id,
       t.debit_seq AS d_seq, t.credit_seq AS c_seq, substr(encode(t.credit_hash, 'hex'), 1, 12) AS credit_hash
  FROM riskguard.transfer t
  JOIN riskguard.account d ON d.id = t.debit_account
  JOIN riskguard.account c ON c.id = t.credit_account
 ORDER BY t.id;

\echo '17:30 reconciliation: the custody bank''s statement shows 62,000.00; client money is 61,550.00'
\echo 'and the 450.00 fee is the platform''s money still at the custody bank: a surplus to sweep.'
SELECT statement_balance, client_liabilities, custody_ledger_balance,
       statement_minus_liabilities, statement_minus_ledger, status
  FROM riskguard.reconcile('custody:cmb', 6200000, '2026-11-25 17:30+08');
\echo '17:45 the platform sweeps its fee out of custody to its own bank account (a client -> platform'
\echo 'flow, allowed for fees only); the next statement matches the client liabilities:'
SELECT riskguard.post_transfer('platform:bank', 'custody:cmb', 45000, 'fee', 'fee sweep 2026-11-25') AS sweep;
SELECT statement_balance, client_liabilities, custody_ledger_balance,
       statement_minus_liabilities, statement_minus_ledger, status
  FROM riskguard.reconcile('custody:cmb', 6155000, '2026-11-25 18:00+08');

\echo 'Tamper evidence: every chain verifies, and the digest is exported for safekeeping.'
SELECT count(*) AS accounts, count(*) FILTER (WHERE ok) AS verified FROM riskguard.verify_ledger();
SELECT encode(riskguard.ledger_digest(), 'hex') AS ledger_digest;
