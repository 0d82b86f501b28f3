-- Act 16: monitoring.  The risk team puts four alert rules in place through
-- maker-checker; a new client then deposits just under the CNY 50,000 reporting line
-- three times, fans the money out in a burst, and tries to withdraw the rest at once,
-- which a blocking rule refuses.  The alerts are handled, the refused withdrawal is on
-- record although its transaction rolled back, and a short custody statement raises a
-- critical alert.  Amounts are CNY in fen.
\pset footer off
\echo
\echo '== Act 16: monitoring: alerts on the write path, NOTIFY, refused attempts on record'

CREATE ROLE risk_analyst_zhou;     GRANT riskguard_admin TO risk_analyst_zhou;
CREATE ROLE compliance_officer_sun; GRANT riskguard_approver TO compliance_officer_sun;

\echo 'The risk analyst proposes five rules; the compliance officer approves them:'
SET SESSION AUTHORIZATION risk_analyst_zhou;
SELECT riskguard.propose_change('alert_rule', 'insert', r, 'monitoring go-live') AS change FROM (VALUES
  ('{"name": "deposits_just_under_50k", "kind": "structuring", "kinds": ["deposit"], "likelihood": 4, "impact": 4,
     "params": {"window": "1 day", "threshold": 5000000, "margin": 0.05, "count": 3, "direction": "inflow"}}'::jsonb),
  ('{"name": "payout_burst", "kind": "velocity", "kinds": ["p2p", "withdrawal"], "likelihood": 3, "impact": 3,
     "params": {"window": "10 minutes", "max_count": 3}}'),
  ('{"name": "unusual_amount", "kind": "amount_anomaly", "kinds": ["p2p", "withdrawal"], "likelihood": 3, "impact": 4,
     "params": {"k": 4, "min_history": 5}}'),
  ('{"name": "large_withdrawals_hourly", "kind": "velocity", "kinds": ["withdrawal"], "likelihood": 4, "impact": 5,
     "action": "block", "params": {"window": "1 hour", "max_sum": 5000000}}'),
  ('{"name": "custody_shortfall", "kind": "reconciliation_shortfall", "likelihood": 5, "impact": 5,
     "params": {"min_shortfall": 1}}')) v(r);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION compliance_officer_sun;
SELECT count(riskguard.approve_change(id)) AS approved
  FROM riskguard.change_request WHERE target = 'alert_rule' AND status = 'proposed';
RESET SESSION AUTHORIZATION;
SELECT name, kind, kinds, likelihood AS l, impact AS i, severity, action, params
  FROM riskguard.alert_rule ORDER BY id;

\echo '09:05-09:40 a new client, Zhao Lei, deposits three times just under CNY 50,000:'
SELECT riskguard.open_account('wallet:zhao.lei', 'client', 'Zhao Lei', 'individual', 'CNY') AS zhao_lei,
       riskguard.open_account('wallet:sun.mei', 'client', 'Sun Mei', 'individual', 'CNY') AS sun_mei,
       riskguard.open_account('wallet:he.jun', 'client', 'He Jun', 'individual', 'CNY') AS he_jun
\gset
SELECT riskguard.post_transfer('custody:cmb', 'wallet:zhao.lei', a, 'deposit', 'CMB cash deposit') AS deposit
  FROM unnest(ARRAY[4980000, 4950000, 4900000]) a;

\echo '09:45 he sends small amounts to other wallets, then a large one: a burst, and an amount far off his usual:'
SELECT riskguard.post_transfer('wallet:zhao.lei', w, a, 'p2p') AS p2p
  FROM (VALUES ('wallet:sun.mei', 12000), ('wallet:he.jun', 15000), ('wallet:sun.mei', 11000),
               ('wallet:he.jun', 14000), ('wallet:sun.mei', 13000), ('wallet:he.jun', 4500000)) v(w, a);

\echo '09:50 he tries to withdraw CNY 60,000 at once: the blocking rule refuses it (RG007):'
\set ON_ERROR_STOP off
\set SHOW_CONTEXT never
SELECT riskguard.post_transfer('wallet:zhao.lei', 'custody:cmb', 6000000, 'withdrawal', 'to card ****5521');
\set ON_ERROR_STOP on

\echo 'The alerts raised (each was also sent with NOTIFY riskguard_alert when it committed):'
SELECT id, rule, severity, owner, transfer_id, status, detail ->> 'reason' AS reason
  FROM riskguard.alert ORDER BY id;

\echo 'The refused withdrawal rolled back, yet it is on record (written by the recorder):'
SELECT pg_sleep(0.5) \gset
SELECT at::time(0) AS at, who, debit_code, credit_code, amount, kind, reference, rule, sqlstate
  FROM riskguard.rejected_attempt ORDER BY id;
SELECT state, queued, written, dropped FROM riskguard.recorder_status;

\echo 'The compliance officer acknowledges the structuring alert and closes the burst alerts:'
SET SESSION AUTHORIZATION compliance_officer_sun;
SELECT id, status, handled_by, note
  FROM riskguard.acknowledge_alert((SELECT min(id) FROM riskguard.alert WHERE rule = 'deposits_just_under_50k'),
                                   'cash deposits split under the reporting line; suspicious transaction report drafted');
SELECT a.id, a.status, a.handled_by, a.note
  FROM riskguard.alert x, LATERAL riskguard.close_alert(x.id, 'part of the same case as the structuring alert') a
 WHERE x.rule = 'payout_burst' ORDER BY a.id;
RESET SESSION AUTHORIZATION;

\echo '18:30 the custody statement is CNY 1,000.00 short of client money: a critical alert.'
SELECT status, statement_minus_liabilities
  FROM riskguard.reconcile('custody:cmb',
         (SELECT sum(credits_posted - debits_posted) FROM riskguard.account
           WHERE pool = 'client' AND normal_side = 'credit' AND currency = 'CNY')::bigint - 100000,
         '2026-11-25 18:30+08');
SELECT id, rule, severity, detail ->> 'shortfall' AS shortfall, status
  FROM riskguard.alert WHERE rule = 'custody_shortfall';
SELECT status, count(*) FROM riskguard.alert GROUP BY status ORDER BY status;
