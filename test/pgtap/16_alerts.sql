-- monitoring: each alert rule kind, severity, blocking, alert handling, rule validation
-- at proposal time, and a flood of alerts that does not stop transfers
BEGIN;
CREATE EXTENSION riskguard;
SELECT plan(65);

CREATE ROLE mon_maker;   GRANT riskguard_admin TO mon_maker;
CREATE ROLE mon_checker; GRANT riskguard_approver TO mon_checker;
CREATE ROLE mon_nobody;

-- one wallet per owner, so that each rule's transfers stay apart (amounts in fen)
SELECT riskguard.open_account('custody', 'client', NULL, NULL, 'CNY', 'debit', false);
SELECT riskguard.open_account('w:' || o, 'client', o, 'individual', 'CNY')
  FROM unnest(ARRAY['vel', 'ano', 'str', 'lim', 'dor', 'blk', 'fld', 'sink']) o;
SELECT riskguard.post_transfer('custody', 'w:' || o, 100000000, 'deposit')
  FROM unnest(ARRAY['vel', 'ano', 'lim', 'dor', 'blk', 'fld']) o;

-- severity = likelihood x impact: 1-4 low, 5-9 medium, 10-16 high, 20-25 critical
SELECT results_eq($$SELECT riskguard.alert_severity(l, i) FROM (VALUES (1,4), (1,5), (3,3), (2,5), (4,4), (4,5), (5,5)) v(l, i)$$,
                  $$VALUES ('low'), ('medium'), ('medium'), ('high'), ('high'), ('critical'), ('critical')$$,
                  'severity bands of likelihood x impact');

-- bad proposals, refused at proposal time
SET SESSION AUTHORIZATION mon_maker;
SELECT throws_ok($$SELECT riskguard.propose_change('alert_rule', 'insert',
                   '{"name": "b", "kind": "velocity", "params": {"max_count": 3}, "likelihood": 1, "impact": 1}', NULL)$$,
                 '22023', 'a velocity rule needs a window', 'a velocity rule without a window');
SELECT throws_ok($$SELECT riskguard.propose_change('alert_rule', 'insert',
                   '{"name": "b", "kind": "velocity", "params": {"window": "soon", "max_count": 3}, "likelihood": 1, "impact": 1}', NULL)$$,
                 '22023', 'alert rule window must be a positive interval, not "soon"', 'a window that is not an interval');
SELECT throws_ok($$SELECT riskguard.propose_change('alert_rule', 'insert',
                   '{"name": "b", "kind": "velocity", "params": {"window": "-1 hour", "max_count": 3}, "likelihood": 1, "impact": 1}', NULL)$$,
                 '22023', NULL, 'a negative window');
SELECT throws_ok($$SELECT riskguard.propose_change('alert_rule', 'insert',
                   '{"name": "b", "kind": "velocity", "params": {"window": "1 hour"}, "likelihood": 1, "impact": 1}', NULL)$$,
                 '22023', 'a velocity rule needs max_count, max_sum or both', 'a velocity rule without a bound');
SELECT throws_ok($$SELECT riskguard.propose_change('alert_rule', 'insert',
                   '{"name": "b", "kind": "velocity", "params": {"window": "1 hour", "max_sum": -5}, "likelihood": 1, "impact": 1}', NULL)$$,
                 '22023', 'alert rule parameter "max_sum" must be a non-negative number, not -5', 'a negative max_sum');
SELECT throws_ok($$SELECT riskguard.propose_change('alert_rule', 'insert',
                   '{"name": "b", "kind": "structuring", "params": {"window": "1 day", "threshold": -1000000, "margin": 0.1, "count": 3},
                     "likelihood": 1, "impact": 1}', NULL)$$,
                 '22023', 'alert rule parameter "threshold" must be a non-negative number, not -1000000', 'a negative threshold');
SELECT throws_ok($$SELECT riskguard.propose_change('alert_rule', 'insert',
                   '{"name": "b", "kind": "structuring", "params": {"window": "1 day", "threshold": 1000000, "margin": 0, "count": 3},
                     "likelihood": 1, "impact": 1}', NULL)$$,
                 '22023', 'structuring margin must be between 0 and 1 exclusive, not 0', 'a margin of 0');
SELECT throws_ok($$SELECT riskguard.propose_change('alert_rule', 'insert',
                   '{"name": "b", "kind": "structuring", "params": {"window": "1 day", "threshold": 1000000, "margin": 1.5, "count": 3},
                     "likelihood": 1, "impact": 1}', NULL)$$,
                 '22023', 'structuring margin must be between 0 and 1 exclusive, not 1.5', 'a margin above 1');
SELECT throws_ok($$SELECT riskguard.propose_change('alert_rule', 'insert',
                   '{"name": "b", "kind": "smurfing", "params": {}, "likelihood": 1, "impact": 1}', NULL)$$,
                 '22023', 'unrecognized alert rule kind: "smurfing"', 'an unknown kind');
SELECT throws_ok($$SELECT riskguard.propose_change('alert_rule', 'insert',
                   '{"name": "b", "kind": "limit_near", "params": {"share": 0.8}, "likelihood": 0, "impact": 1}', NULL)$$,
                 '22023', 'alert rule likelihood must be an integer from 1 to 5, not 0', 'likelihood 0');
SELECT throws_ok($$SELECT riskguard.propose_change('alert_rule', 'insert',
                   '{"name": "b", "kind": "limit_near", "params": {"share": 0.8}, "likelihood": 6, "impact": 1}', NULL)$$,
                 '22023', 'alert rule likelihood must be an integer from 1 to 5, not 6', 'likelihood 6');
SELECT throws_ok($$SELECT riskguard.propose_change('alert_rule', 'insert',
                   '{"name": "b", "kind": "limit_near", "params": {"share": 0.8}, "likelihood": 3, "impact": 2.5}', NULL)$$,
                 '22023', 'alert rule impact must be an integer from 1 to 5, not 2.5', 'a fractional impact');
SELECT throws_ok($$SELECT riskguard.propose_change('alert_rule', 'insert',
                   '{"name": "b", "kind": "limit_near", "params": {"share": 1.5}, "likelihood": 1, "impact": 1}', NULL)$$,
                 '22023', 'limit_near share must be above 0 and at most 1, not 1.5', 'a share above 1');
SELECT throws_ok($$SELECT riskguard.propose_change('alert_rule', 'insert',
                   '{"name": "b", "kind": "amount_anomaly", "params": {"k": 3, "min_history": 1}, "likelihood": 1, "impact": 1}', NULL)$$,
                 '22023', 'an amount_anomaly rule needs a min_history of at least 2 transfers, not 1', 'a min_history below 2');
SELECT throws_ok($$SELECT riskguard.propose_change('alert_rule', 'insert',
                   '{"name": "b", "kind": "dormant_reactivation", "params": {}, "likelihood": 1, "impact": 1}', NULL)$$,
                 '22023', 'a dormant_reactivation rule needs days above 0', 'a dormant rule without days');
SELECT throws_ok($$SELECT riskguard.propose_change('alert_rule', 'insert',
                   '{"name": "b", "kind": "velocity", "params": {"window": "1 hour", "max_count": 1}, "likelihood": 1, "impact": 1,
                     "action": "freeze"}', NULL)$$,
                 '22023', 'unrecognized alert rule action: "freeze"', 'an unknown action');
SELECT throws_ok($$SELECT riskguard.propose_change('alert_rule', 'insert',
                   '{"name": "b", "kind": "reconciliation_shortfall", "params": {}, "likelihood": 1, "impact": 1, "action": "block"}', NULL)$$,
                 '22023', 'a reconciliation_shortfall rule cannot block', 'a reconciliation rule cannot block');
SELECT throws_ok($$INSERT INTO riskguard.alert_rule (name, kind, likelihood, impact) VALUES ('x', 'limit_near', 1, 1)$$,
                 '42501', NULL, 'an admin cannot insert a rule directly');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION mon_nobody;
SELECT throws_ok($$SELECT riskguard.propose_change('alert_rule', 'insert',
                   '{"name": "b", "kind": "limit_near", "params": {"share": 0.8}, "likelihood": 1, "impact": 1}', NULL)$$,
                 '42501', NULL, 'a role outside riskguard_admin cannot propose');
RESET SESSION AUTHORIZATION;

-- the rules, each watching its own transfer kind, through maker-checker
SET SESSION AUTHORIZATION mon_maker;
CREATE TEMP TABLE rule_ids AS
SELECT riskguard.propose_change('alert_rule', 'insert', r, 'monitoring test') AS id FROM (VALUES
  ('{"name": "burst", "kind": "velocity", "kinds": ["p2p_v"], "likelihood": 2, "impact": 3,
     "params": {"window": "1 hour", "max_count": 3, "max_sum": 1000000}}'::jsonb),
  ('{"name": "odd_amount", "kind": "amount_anomaly", "kinds": ["p2p_a"], "likelihood": 3, "impact": 4,
     "params": {"k": 3, "min_history": 10}}'),
  ('{"name": "just_under", "kind": "structuring", "kinds": ["cash_in"], "likelihood": 4, "impact": 4,
     "params": {"window": "1 day", "threshold": 1000000, "margin": 0.1, "count": 3, "direction": "inflow"}}'),
  ('{"name": "nearly_used", "kind": "limit_near", "likelihood": 2, "impact": 2,
     "params": {"share": 0.8, "limits": ["lim_daily"]}}'),
  ('{"name": "woke_up", "kind": "dormant_reactivation", "likelihood": 3, "impact": 2, "params": {"days": 30}}'),
  ('{"name": "custody_short", "kind": "reconciliation_shortfall", "likelihood": 5, "impact": 5,
     "params": {"min_shortfall": 1}}'),
  ('{"name": "burst_block", "kind": "velocity", "kinds": ["p2p_b"], "likelihood": 4, "impact": 5, "action": "block",
     "params": {"window": "1 hour", "max_count": 2}}'),
  ('{"name": "every_one", "kind": "velocity", "kinds": ["flood"], "likelihood": 1, "impact": 1,
     "params": {"window": "1 hour", "max_count": 0}}')) v(r)
UNION ALL
SELECT riskguard.propose_change('limit_rule', 'insert',
  '{"name": "lim_daily", "subject": "owner", "kinds": ["p2p_l"], "direction": "outflow",
    "metric": "daily_sum", "threshold": 1000000, "currency": "CNY", "action": "reject"}', 'a daily cap');
GRANT SELECT ON rule_ids TO PUBLIC;
RESET SESSION AUTHORIZATION;
SELECT is((SELECT count(*)::int FROM riskguard.alert_rule), 0, 'nothing applies before approval');
SET SESSION AUTHORIZATION mon_checker;
SELECT lives_ok($$SELECT riskguard.approve_change(id) FROM rule_ids$$, 'an approver approves the rules');
RESET SESSION AUTHORIZATION;
SELECT results_eq($$SELECT name, severity FROM riskguard.alert_rule ORDER BY id$$,
                  $$VALUES ('burst', 'medium'), ('odd_amount', 'high'), ('just_under', 'high'), ('nearly_used', 'low'),
                           ('woke_up', 'medium'), ('custody_short', 'critical'), ('burst_block', 'critical'), ('every_one', 'low')$$,
                  'eight rules with their severities');

-- velocity: at most 3 transfers and CNY 10,000 per hour
SELECT riskguard.post_transfer('w:vel', 'w:sink', 100000, 'p2p_v') FROM generate_series(1, 3);
SELECT is((SELECT count(*)::int FROM riskguard.alert WHERE rule = 'burst'), 0, 'three transfers in the hour: no alert');
SELECT riskguard.post_transfer('w:vel', 'w:sink', 100000, 'p2p_v');
SELECT results_eq($$SELECT owner, severity, (detail ->> 'count')::int, (detail ->> 'sum')::bigint, status
                      FROM riskguard.alert WHERE rule = 'burst'$$,
                  $$VALUES ('vel', 'medium', 4, 400000::bigint, 'open')$$,
                  'the fourth transfer in the hour raises a velocity alert');
SELECT is((SELECT transfer_id FROM riskguard.alert WHERE rule = 'burst'),
          (SELECT max(id) FROM riskguard.transfer WHERE kind = 'p2p_v'), 'the alert names the transfer');
SELECT is((SELECT count(*)::int FROM riskguard.alert WHERE rule = 'burst' AND account = 2), 1,
          'and the owner''s account');
SELECT is((SELECT count(*)::int FROM riskguard.alert WHERE rule = 'burst' AND owner = 'sink'), 0,
          'the receiving owner is not counted (direction outflow)');
-- the window closed an hour ago: the count starts again
UPDATE riskguard.alert_state SET window_start = window_start - interval '61 minutes'
 WHERE rule_id = (SELECT id FROM riskguard.alert_rule WHERE name = 'burst');
SELECT riskguard.post_transfer('w:vel', 'w:sink', 900000, 'p2p_v');
SELECT is((SELECT count(*)::int FROM riskguard.alert WHERE rule = 'burst'), 1, 'a new window starts from one transfer');
SELECT riskguard.post_transfer('w:vel', 'w:sink', 200000, 'p2p_v');
SELECT results_eq($$SELECT (detail ->> 'count')::int, (detail ->> 'sum')::bigint FROM riskguard.alert
                     WHERE rule = 'burst' ORDER BY id DESC LIMIT 1$$,
                  $$VALUES (2, 1100000::bigint)$$, 'the sum bound fires on its own');
SELECT is((SELECT count(*)::int FROM riskguard.alert WHERE rule = 'burst'), 2, 'two velocity alerts in all');

-- amount_anomaly: 20 ordinary amounts, then one far off
-- (reference: test/reference/alerts_anomaly.py; mean 111109.90, sd 5766.89, none of the 20 flagged)
SELECT riskguard.post_transfer('w:ano', 'w:sink', 100000 + (i * 7919) % 20011, 'p2p_a') FROM generate_series(1, 20) i;
SELECT is((SELECT count(*)::int FROM riskguard.alert WHERE rule = 'odd_amount'), 0, 'an ordinary history raises nothing');
SELECT results_eq($$SELECT n, round(mean::numeric, 2), round(sqrt(m2 / (n - 1))::numeric, 2) FROM riskguard.alert_state
                     WHERE rule_id = (SELECT id FROM riskguard.alert_rule WHERE name = 'odd_amount')$$,
                  $$VALUES (20::bigint, 111109.90, 5766.89)$$, 'running mean and deviation match the reference');
SELECT riskguard.post_transfer('w:ano', 'w:sink', 115000, 'p2p_a');
SELECT is((SELECT count(*)::int FROM riskguard.alert WHERE rule = 'odd_amount'), 0, 'an amount 0.67 sd from the mean passes');
-- the 21 before the outlier: the reference's 20 and 115000
SELECT riskguard.post_transfer('w:ano', 'w:sink', 180000, 'p2p_a');
SELECT results_eq($$SELECT severity, (detail ->> 'history')::int, round((detail ->> 'mean')::numeric, 2), round((detail ->> 'sd')::numeric, 2)
                      FROM riskguard.alert WHERE rule = 'odd_amount'$$,
                  $$SELECT 'high', 21, round(avg(a)::numeric, 2), round(stddev_samp(a)::numeric, 2)
                      FROM (SELECT 100000 + (i * 7919) % 20011 AS a FROM generate_series(1, 20) i UNION ALL SELECT 115000) h$$,
                  'an amount far off is flagged, with the mean and deviation of the history before it');

-- structuring: deposits in [900000, 1000000), three within a day
SELECT riskguard.post_transfer('custody', 'w:str', a, 'cash_in') FROM unnest(ARRAY[950000, 1000000, 899999, 990000]) a;
SELECT is((SELECT count(*)::int FROM riskguard.alert WHERE rule = 'just_under'), 0,
          'the threshold itself and amounts under the band do not count');
SELECT riskguard.post_transfer('custody', 'w:str', 999999, 'cash_in');
SELECT results_eq($$SELECT owner, (detail ->> 'count')::int, (detail ->> 'threshold')::bigint FROM riskguard.alert WHERE rule = 'just_under'$$,
                  $$VALUES ('str', 3, 1000000::bigint)$$, 'the third deposit just under the threshold is flagged');

-- limit_near: 80% of a CNY 10,000 daily cap, once per window
SELECT riskguard.post_transfer('w:lim', 'w:sink', 500000, 'p2p_l');
SELECT is((SELECT count(*)::int FROM riskguard.alert WHERE rule = 'nearly_used'), 0, 'half the cap: no alert');
SELECT riskguard.post_transfer('w:lim', 'w:sink', 300000, 'p2p_l');
SELECT results_eq($$SELECT owner, detail ->> 'limit', (detail ->> 'used_before')::bigint, (detail ->> 'used')::bigint
                      FROM riskguard.alert WHERE rule = 'nearly_used'$$,
                  $$VALUES ('lim', 'lim_daily', 500000::bigint, 800000::bigint)$$, 'crossing 80% raises an alert');
SELECT riskguard.post_transfer('w:lim', 'w:sink', 100000, 'p2p_l');
SELECT is((SELECT count(*)::int FROM riskguard.alert WHERE rule = 'nearly_used'), 1, 'once per window');
SELECT throws_ok($$SELECT riskguard.post_transfer('w:lim', 'w:sink', 200000, 'p2p_l')$$, 'RG001', NULL,
                 'the cap still refuses');

-- dormant_reactivation: the wallet was last active 45 days ago
SELECT riskguard.post_transfer('w:dor', 'w:sink', 1000, 'p2p');
SELECT is((SELECT count(*)::int FROM riskguard.alert WHERE rule = 'woke_up'), 0, 'an active account raises nothing');
UPDATE riskguard.alert_state SET last_at = last_at - interval '45 days'
 WHERE rule_id = (SELECT id FROM riskguard.alert_rule WHERE name = 'woke_up') AND subject = 'account 6';
SELECT riskguard.post_transfer('custody', 'w:dor', 1000, 'deposit');
SELECT is((SELECT count(*)::int FROM riskguard.alert WHERE rule = 'woke_up'), 0, 'money coming in is not an outflow');
UPDATE riskguard.alert_state SET last_at = last_at - interval '45 days'
 WHERE rule_id = (SELECT id FROM riskguard.alert_rule WHERE name = 'woke_up') AND subject = 'account 6';
SELECT riskguard.post_transfer('w:dor', 'w:sink', 2000, 'p2p');
SELECT results_eq($$SELECT owner, account, (detail ->> 'idle_days')::numeric >= 45 FROM riskguard.alert WHERE rule = 'woke_up'$$,
                  $$VALUES ('dor', 6::bigint, true)$$, 'the first outflow after 45 quiet days is flagged');
SELECT riskguard.post_transfer('w:dor', 'w:sink', 2000, 'p2p');
SELECT is((SELECT count(*)::int FROM riskguard.alert WHERE rule = 'woke_up'), 1, 'the next outflow is ordinary again');

-- reconciliation_shortfall
SELECT riskguard.reconcile('custody', (SELECT sum(credits_posted - debits_posted) FROM riskguard.account
                                        WHERE pool = 'client' AND normal_side = 'credit')::bigint, now());
SELECT is((SELECT count(*)::int FROM riskguard.alert WHERE rule = 'custody_short'), 0, 'a matched statement raises nothing');
SELECT riskguard.reconcile('custody', (SELECT sum(credits_posted - debits_posted) FROM riskguard.account
                                        WHERE pool = 'client' AND normal_side = 'credit')::bigint - 12345, now());
SELECT results_eq($$SELECT severity, (detail ->> 'shortfall')::bigint, account FROM riskguard.alert WHERE rule = 'custody_short'$$,
                  $$VALUES ('critical', 12345::bigint, 1::bigint)$$, 'a shortfall raises a critical alert');

-- block: the third transfer in the hour is refused with RG007 and leaves nothing behind
SELECT riskguard.post_transfer('w:blk', 'w:sink', 1000, 'p2p_b') FROM generate_series(1, 2);
SELECT throws_ok($$SELECT riskguard.post_transfer('w:blk', 'w:sink', 1000, 'p2p_b')$$, 'RG007',
                 'transfer of 1000 CNY blocked by alert rule "burst_block"', 'a block rule refuses the transfer naming the rule');
SELECT is((SELECT n FROM riskguard.alert_state WHERE rule_id = (SELECT id FROM riskguard.alert_rule WHERE name = 'burst_block')),
          2::bigint, 'the refused transfer is not counted');
SELECT is((SELECT count(*)::int FROM riskguard.alert WHERE rule = 'burst_block'), 0, 'and its alert rolled back with it');
SELECT is((SELECT debits_posted FROM riskguard.account WHERE code = 'w:blk'), 2000::bigint, 'the balance is untouched');
SELECT lives_ok($$SELECT riskguard.post_transfer('w:blk', 'w:sink', 1000, 'p2p')$$, 'other kinds still pass');

-- a rule switched off applies no more; changes are checked against the rule's kind
SET SESSION AUTHORIZATION mon_maker;
SELECT throws_ok($$SELECT riskguard.propose_change('alert_rule', 'update',
                   jsonb_build_object('id', (SELECT id FROM riskguard.alert_rule WHERE name = 'burst'), 'params', '{"max_count": 3}'::jsonb), NULL)$$,
                 '22023', 'a velocity rule needs a window', 'an update of the params is checked against the rule''s kind');
SELECT throws_ok($$SELECT riskguard.propose_change('alert_rule', 'insert', '{"name": "b", "params": {}, "likelihood": 1, "impact": 1}', NULL)$$,
                 '22023', 'an alert rule needs a kind', 'a rule without a kind');
SELECT riskguard.propose_change('alert_rule', 'update',
  jsonb_build_object('id', (SELECT id FROM riskguard.alert_rule WHERE name = 'burst_block'), 'active', false), 'pause');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION mon_checker;
SELECT riskguard.approve_change(max(id)) FROM riskguard.change_request;
RESET SESSION AUTHORIZATION;
SELECT lives_ok($$SELECT riskguard.post_transfer('w:blk', 'w:sink', 1000, 'p2p_b')$$, 'an inactive block rule lets it through');

-- a flood: every transfer matches; 500 transfers in one transaction (test/shell/alerts.sh floods across many) all pass and each has its alert
SELECT lives_ok($$SELECT riskguard.post_transfer('w:fld', 'w:sink', 10, 'flood') FROM generate_series(1, 500)$$,
                'a flood of matching transfers goes through');
SELECT is((SELECT count(*)::int FROM riskguard.alert WHERE rule = 'every_one'), 500, 'one alert per transfer');
SELECT is((SELECT count(*)::int FROM riskguard.transfer WHERE kind = 'flood'), 500, 'every transfer posted');

-- handling alerts
CREATE TEMP TABLE first_alert AS SELECT min(id) AS id FROM riskguard.alert WHERE rule = 'burst';
GRANT SELECT ON first_alert TO PUBLIC;
SET SESSION AUTHORIZATION mon_nobody;
SELECT throws_ok($$SELECT riskguard.acknowledge_alert((SELECT id FROM first_alert), 'mine')$$, '42501', NULL,
                 'a role without riskguard_admin or riskguard_approver cannot handle alerts');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION mon_checker;
SELECT results_eq($$SELECT status, handled_by, note FROM riskguard.acknowledge_alert((SELECT id FROM first_alert), 'calling the customer')$$,
                  $$VALUES ('acknowledged', 'mon_checker', 'calling the customer')$$, 'an approver acknowledges an alert');
SELECT throws_ok($$SELECT riskguard.acknowledge_alert((SELECT id FROM first_alert), 'again')$$, '55000', NULL,
                 'an alert is acknowledged once');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION mon_maker;
SELECT results_eq($$SELECT status, handled_by FROM riskguard.close_alert((SELECT id FROM first_alert), 'salary run, explained')$$,
                  $$VALUES ('closed', 'mon_maker')$$, 'an admin closes it');
SELECT throws_ok($$SELECT riskguard.close_alert((SELECT id FROM first_alert), 'again')$$, '55000', NULL,
                 'a closed alert stays closed');
SELECT throws_ok($$SELECT riskguard.close_alert(-1, 'none')$$, 'P0002', 'alert -1 does not exist', 'an unknown alert');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT count(*)::int FROM riskguard.audit_log WHERE action IN ('acknowledge_alert', 'close_alert')), 2,
          'handling is in the control audit log');

SELECT * FROM finish();
ROLLBACK;
