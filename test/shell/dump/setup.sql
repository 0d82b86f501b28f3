-- A database that uses every riskguard capability, for dump_restore_all.sh:
-- ledger with transfers and holds, a reserve rule and the cn_p2p_2016 caps plus a daily
-- limit, alert rules (one recording, one blocking) (all through maker-checker), a
-- rejected proposal, alerts and a refused attempt, a credit model scoring an
-- applications table, and a customers table with a protected column and a blind index.
SET client_min_messages = warning;
CREATE EXTENSION riskguard;
RESET client_min_messages;

SELECT riskguard.open_account('custody:cmb', 'client', 'CMB custody', 'entity', 'CNY', 'debit');
SELECT riskguard.open_account('inv:zhang', 'client', 'zhang', 'individual', 'CNY');
SELECT riskguard.open_account('bor:li', 'client', 'li', 'individual', 'CNY');
SELECT riskguard.open_account('bor:hz.tea', 'client', 'hz.tea', 'entity', 'CNY');
SELECT riskguard.open_account('platform:fees', 'platform', NULL, NULL, 'CNY');
SELECT riskguard.open_account('platform:bank', 'platform', NULL, NULL, 'CNY', 'debit');
SELECT riskguard.open_account('reserve:fund', 'reserve', NULL, NULL, 'CNY');

SELECT riskguard.post_transfer('custody:cmb', 'inv:zhang', 100000000, 'deposit', 'CMB 0001', 'cmb-0001');
SET SESSION AUTHORIZATION dr_maker;
SELECT riskguard.apply_preset('cn_p2p_2016');
SELECT riskguard.propose_change('limit_rule', 'insert', '{
  "name": "withdrawals_per_day", "subject": "owner", "kinds": ["withdrawal"],
  "direction": "outflow", "metric": "daily_count", "threshold": 3,
  "currency": "CNY", "action": "reject"}', 'three withdrawals a day');
SELECT riskguard.propose_change('reserve_rule', 'insert',
  pg_catalog.jsonb_build_object('kind', 'fee', 'basis_points', 1000,
    'from_account', riskguard._account_id('platform:fees'),
    'to_account', riskguard._account_id('reserve:fund')), 'ten percent of fees to the reserve');
SELECT riskguard.propose_change('pool_flow', 'insert',
  '{"from_pool": "platform", "to_pool": "platform", "kind": "capital"}', 'capital injections');
SELECT riskguard.propose_change('limit_rule', 'insert', '{
  "name": "big_transfer", "subject": "account", "kinds": ["invest"],
  "direction": "outflow", "metric": "per_transfer", "threshold": 1,
  "currency": "CNY", "action": "reject"}', 'a mistake');
SELECT riskguard.propose_change('alert_rule', 'insert', '{
  "name": "withdrawal_sum", "kind": "velocity", "kinds": ["withdrawal"],
  "params": {"window": "1 day", "max_sum": 100000, "currency": "CNY"},
  "likelihood": 3, "impact": 3, "action": "alert"}', 'more than CNY 1,000 withdrawn in a day');
SELECT riskguard.propose_change('alert_rule', 'insert', '{
  "name": "one_repayment_a_day", "kind": "velocity", "kinds": ["repay_principal"],
  "params": {"window": "1 day", "max_count": 1},
  "likelihood": 4, "impact": 5, "action": "block"}', 'a second repayment the same day is refused');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION dr_checker;
SELECT riskguard.approve_change(id) FROM riskguard.change_request
 WHERE status = 'proposed' AND reason IS DISTINCT FROM 'a mistake' ORDER BY id;
SELECT riskguard.reject_change(id, 'one fen is not a cap') FROM riskguard.change_request
 WHERE status = 'proposed';
RESET SESSION AUTHORIZATION;

SELECT riskguard.post_transfer('platform:bank', 'platform:fees', 5000000, 'capital');
SELECT riskguard.post_transfer('inv:zhang', 'bor:li', 15000000, 'disburse', 'loan L-1');
SELECT riskguard.post_transfer('inv:zhang', 'bor:hz.tea', 30000000, 'disburse', 'loan L-2');
SELECT riskguard.post_transfer('bor:li', 'inv:zhang', 2000000, 'repay_principal', 'L-1 #1');
SELECT riskguard.post_transfer('bor:li', 'platform:fees', 120000, 'fee', 'L-1 fee');
SELECT riskguard.post_transfer('bor:hz.tea', 'platform:fees', 450000, 'fee', 'L-2 fee');
SELECT riskguard.hold_transfer('inv:zhang', 'bor:li', 1000000, 'invest', 'pending invest');
SELECT riskguard.post_transfer('bor:li', 'custody:cmb', 300000, 'withdrawal', 'W-1');
SELECT * FROM riskguard.reconcile('custody:cmb', 99700000, '2026-11-25 12:00+00') \gset rec_

-- monitoring: the withdrawal above raised an alert, acknowledged here; a second repayment
-- is refused by the blocking rule (RG007) and the recorder writes the attempt
SET SESSION AUTHORIZATION dr_checker;
SELECT riskguard.acknowledge_alert(id, 'customer confirmed') FROM riskguard.alert WHERE rule = 'withdrawal_sum';
RESET SESSION AUTHORIZATION;
DO $$
BEGIN
  PERFORM riskguard.post_transfer('bor:li', 'inv:zhang', 1000000, 'repay_principal', 'L-1 #2');
  RAISE EXCEPTION 'the second repayment was not refused';
EXCEPTION WHEN SQLSTATE 'RG007' THEN
  NULL;
END $$;

-- credit scoring on an applications table
SELECT riskguard.create_model('retail_logit', '{
  "kind": "logistic",
  "scaling": {"base_score": 600, "base_odds": 50, "pdo": 20},
  "intercept": -3.05,
  "features": [
    {"name": "dti", "coefficient": 2.4, "reason": "DEBT_TO_INCOME_HIGH", "missing": 0.4, "best": 0},
    {"name": "delinquencies_2y", "coefficient": 0.52, "reason": "DELINQUENCY", "missing": 1, "best": 0},
    {"name": "months_employed", "coefficient": -0.006, "reason": "SHORT_EMPLOYMENT", "missing": 12, "best": 120}
  ],
  "grades": {"by": "pd", "bands": [{"grade": "prime", "max_pd": 0.04}, {"grade": "near_prime", "max_pd": 0.1},
                                    {"grade": "subprime"}]},
  "decisions": [{"decision": "approve", "max_pd": 0.06}, {"decision": "review", "max_pd": 0.15},
                {"decision": "decline"}]
}');
CREATE TABLE applications (
  id bigint PRIMARY KEY, applicant text NOT NULL,
  dti float8, delinquencies_2y int, months_employed int,
  credit_score int, credit_pd float8, credit_grade text, credit_decision text, credit_reasons text[]);
SELECT riskguard.attach_scoring('applications', 'retail_logit');
INSERT INTO applications (id, applicant, dti, delinquencies_2y, months_employed) VALUES
  (1, 'li', 0.1, 0, 96), (2, 'wang', 0.45, 2, 8), (3, 'chen', NULL, NULL, NULL);

-- encryption: a protected column with a blind index, and one without
CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL, national_id text, phone text);
SELECT riskguard.protect_column('customers', 'national_id', 'national_id_bidx');
SELECT riskguard.protect_column('customers', 'phone');
INSERT INTO customers (id, name, national_id, phone) VALUES
  (1, 'Li Wei', '310104198806150036', '13816880021'),
  (2, 'Zhang Min', '320106198512240023', '13912345678'),
  (3, 'Chen Jie', '440305199207150018', NULL);
GRANT SELECT, INSERT ON customers TO dr_reader;
GRANT SELECT ON customers_decrypted TO dr_reader;
