-- Act 15: limits.  The regulator's borrowing cap goes in through maker-checker, a loan
-- is cut by it, and a velocity limit is added the same way.  Amounts are CNY in fen.
\pset footer off
\echo
\echo '== Act 15: borrowing caps and velocity limits'

\echo 'The risk officer proposes the 2016 online-lending borrowing caps; the CFO approves them.'
SET SESSION AUTHORIZATION risk_officer;
SELECT array_agg(id) AS proposed FROM riskguard.apply_preset('cn_p2p_2016') AS id \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION cfo;
SELECT riskguard.approve_change(id) ->> 'name' AS approved FROM unnest(:'proposed'::bigint[]) AS id;
RESET SESSION AUTHORIZATION;
SELECT name, subject, owner_kind, metric, kinds, release_kinds, threshold / 100 AS threshold_cny, action
  FROM riskguard.limit_rule ORDER BY id;

\echo 'An investor funds loans; Zhou Min, an individual, borrows CNY 150,000 for her shop.'
SELECT riskguard.open_account('wallet:chen.jie', 'client', 'Chen Jie', 'individual', 'CNY') AS chen_jie,
       riskguard.open_account('wallet:zhou.min', 'client', 'Zhou Min', 'individual', 'CNY') AS zhou_min \gset
SELECT riskguard.post_transfer('custody:cmb', 'wallet:chen.jie', 50000000, 'deposit', 'CMB 20261125-000201') AS deposit,
       riskguard.post_transfer('wallet:chen.jie', 'wallet:zhou.min', 15000000, 'disburse', 'loan ZM-2026-031') AS loan;

\echo 'She applies for CNY 80,000 more.  The dry run the loan officer''s screen shows:'
SELECT rule, allowed, used / 100 AS owed_cny, threshold / 100 AS cap_cny
  FROM riskguard.check_transfer('wallet:chen.jie', 'wallet:zhou.min', 8000000, 'disburse');
SELECT riskguard.headroom('cn_p2p_2016_individual_outstanding', 'Zhou Min') / 100 AS headroom_cny;

\echo 'Disbursing it anyway is refused (RG001), in the same transaction as the transfer:'
\set ON_ERROR_STOP off
\set SHOW_CONTEXT never
SELECT riskguard.post_transfer('wallet:chen.jie', 'wallet:zhou.min', 8000000, 'disburse', 'loan ZM-2026-032');
\set ON_ERROR_STOP on
\echo 'The loan is cut to the CNY 50,000 that fits:'
SELECT riskguard.post_transfer('wallet:chen.jie', 'wallet:zhou.min', 5000000, 'disburse', 'loan ZM-2026-032') AS loan;

\echo 'The risk officer proposes at most three withdrawals a day per client.  She cannot approve'
\echo 'it herself (RG006); the CFO does.'
SET SESSION AUTHORIZATION risk_officer;
SELECT riskguard.propose_change('limit_rule', 'insert', '{
  "name": "withdrawals_per_day", "subject": "owner", "kinds": ["withdrawal"],
  "direction": "outflow", "metric": "daily_count", "threshold": 3,
  "currency": "CNY", "action": "reject"}', 'card fraud: bursts of withdrawals') AS change_id \gset
\set ON_ERROR_STOP off
SELECT riskguard.approve_change(:change_id);
\set ON_ERROR_STOP on
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION cfo;
SELECT riskguard.approve_change(:change_id) ->> 'name' AS approved;
RESET SESSION AUTHORIZATION;

\echo 'Usage of every limit, by subject and window:'
SELECT rule, subject, "window", used, threshold, share_used
  FROM riskguard.limit_utilization ORDER BY rule, subject;

\echo 'Every proposal and approval is in the hash-chained control audit log:'
SELECT seq, actor, action, target, payload ->> 'reason' AS reason FROM riskguard.audit_log ORDER BY seq;
SELECT * FROM riskguard.verify_audit();
