-- limits: the borrowing-cap preset, window metrics, alerts, dry runs, headroom, rule
-- validation and maker-checker, counters rebuilt when a rule is approved
BEGIN;
CREATE EXTENSION riskguard;
SELECT plan(48);

CREATE ROLE lim_maker;   GRANT riskguard_admin TO lim_maker;
CREATE ROLE lim_checker; GRANT riskguard_approver TO lim_checker;
CREATE ROLE lim_nobody;

-- a small platform: custody bank account, investors, borrowers (amounts in fen)
SELECT riskguard.open_account('custody', 'client', NULL, NULL, 'CNY', 'debit', false);
SELECT riskguard.open_account('inv:zhang', 'client', 'zhang', 'individual', 'CNY');
SELECT riskguard.open_account('bor:li', 'client', 'li', 'individual', 'CNY');
SELECT riskguard.open_account('bor:li:2', 'client', 'li', 'individual', 'CNY');
SELECT riskguard.open_account('bor:acme', 'client', 'acme', 'entity', 'CNY');
SELECT riskguard.post_transfer('custody', 'inv:zhang', 500000000, 'deposit');   -- CNY 5,000,000

-- a disbursement before any rule exists: counted when the cap is approved
SELECT riskguard.post_transfer('inv:zhang', 'bor:li', 5000000, 'disburse');       -- CNY 50,000

SET SESSION AUTHORIZATION lim_maker;
CREATE TEMP TABLE preset_ids AS SELECT riskguard.apply_preset('cn_p2p_2016') AS id;
GRANT SELECT ON preset_ids TO PUBLIC;
SELECT is((SELECT count(*)::int FROM preset_ids), 2, 'the cn_p2p_2016 preset proposes two rules');
SELECT throws_ok($$INSERT INTO riskguard.limit_rule (name, subject, kinds, direction, metric, threshold, currency, action)
                   VALUES ('x', 'owner', '{disburse}', 'inflow', 'daily_sum', 1, 'CNY', 'reject')$$,
                 '42501', NULL, 'an admin cannot insert a rule directly');
SELECT throws_ok($$SELECT riskguard.approve_change((SELECT min(id) FROM preset_ids))$$, 'RG006', NULL,
                 'an admin who is not an approver cannot approve');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT count(*)::int FROM riskguard.limit_rule), 0, 'nothing applies before approval');

SET SESSION AUTHORIZATION lim_checker;
SELECT lives_ok($$SELECT riskguard.approve_change(id) FROM preset_ids$$, 'an approver approves the preset');
SELECT throws_ok($$SELECT riskguard.approve_change((SELECT min(id) FROM preset_ids))$$, '55000', NULL,
                 'a change is approved only once');
RESET SESSION AUTHORIZATION;

SELECT results_eq($$SELECT name, threshold FROM riskguard.limit_rule ORDER BY name$$,
                  $$VALUES ('cn_p2p_2016_entity_outstanding', 100000000::bigint),
                           ('cn_p2p_2016_individual_outstanding', 20000000::bigint)$$,
                  'the caps are CNY 200,000 for individuals and CNY 1,000,000 for entities, in fen');
SELECT is((SELECT used FROM riskguard.limit_utilization WHERE subject = 'li'), 5000000::bigint,
          'approval counted the disbursement made before the rule');

-- the individual cap, across two accounts of one owner
SELECT lives_ok($$SELECT riskguard.post_transfer('inv:zhang', 'bor:li:2', 10000000, 'disburse')$$,
                'li borrows CNY 100,000 more on a second account (CNY 150,000 owed)');
SELECT is(riskguard.headroom('cn_p2p_2016_individual_outstanding', 'li'), 5000000::bigint,
          'headroom is CNY 50,000');
SELECT throws_ok($$SELECT riskguard.post_transfer('inv:zhang', 'bor:li', 6000000, 'disburse')$$, 'RG001',
                 'transfer of 6000000 CNY would exceed limit "cn_p2p_2016_individual_outstanding" for owner "li"',
                 'a loan past the cap is refused with RG001 naming rule and subject');
SELECT is((SELECT used FROM riskguard.limit_utilization WHERE subject = 'li'), 15000000::bigint,
          'the refused loan left the counter unchanged');
SELECT results_eq($$SELECT rule, allowed, used, threshold FROM riskguard.check_transfer('inv:zhang', 'bor:li', 6000000, 'disburse')$$,
                  $$VALUES ('cn_p2p_2016_individual_outstanding', false, 15000000::bigint, 20000000::bigint)$$,
                  'check_transfer says the loan would be refused');
SELECT results_eq($$SELECT rule, allowed FROM riskguard.check_transfer('inv:zhang', 'bor:li', 5000000, 'disburse')$$,
                  $$VALUES ('cn_p2p_2016_individual_outstanding', true)$$,
                  'check_transfer allows a loan that fits exactly');
SELECT is((SELECT count(*)::int FROM riskguard.check_transfer('inv:zhang', 'bor:li', 5000000, 'repay_interest')), 0,
          'no rule applies to other kinds');
SELECT lives_ok($$SELECT riskguard.post_transfer('bor:li', 'inv:zhang', 3000000, 'repay_principal')$$,
                'li repays CNY 30,000 of principal');
SELECT is(riskguard.headroom('cn_p2p_2016_individual_outstanding', 'li'), 8000000::bigint,
          'repaid principal frees headroom');
SELECT lives_ok($$SELECT riskguard.post_transfer('inv:zhang', 'bor:li', 8000000, 'disburse')$$,
                'a loan up to the cap is allowed');
SELECT is(riskguard.headroom('cn_p2p_2016_individual_outstanding', 'li'), 0::bigint, 'the cap is used up');

-- the entity cap
SELECT lives_ok($$SELECT riskguard.post_transfer('inv:zhang', 'bor:acme', 90000000, 'disburse')$$,
                'an entity borrows CNY 900,000');
SELECT throws_ok($$SELECT riskguard.post_transfer('inv:zhang', 'bor:acme', 20000000, 'disburse')$$, 'RG001',
                 NULL, 'an entity loan past CNY 1,000,000 is refused');

-- window metrics, per-transfer caps and alerts
SET SESSION AUTHORIZATION lim_maker;
CREATE TEMP TABLE more_ids AS
SELECT riskguard.propose_change('limit_rule', 'insert',
  '{"name": "withdrawals_per_day", "subject": "owner", "kinds": ["withdrawal"], "direction": "outflow",
    "metric": "daily_count", "threshold": 2, "currency": "CNY", "action": "reject"}', 'velocity') AS id
UNION ALL
SELECT riskguard.propose_change('limit_rule', 'insert',
  '{"name": "big_withdrawal", "subject": "account", "kinds": ["withdrawal"], "direction": "outflow",
    "metric": "per_transfer", "threshold": 5000000, "currency": "CNY", "action": "reject"}', 'single cap')
UNION ALL
SELECT riskguard.propose_change('limit_rule', 'insert',
  '{"name": "monthly_withdrawals", "subject": "owner", "kinds": ["withdrawal"], "direction": "outflow",
    "metric": "monthly_sum", "threshold": 7000000, "currency": "CNY", "action": "reject"}', 'monthly cap')
UNION ALL
SELECT riskguard.propose_change('limit_rule', 'insert',
  '{"name": "watch_daily_withdrawals", "subject": "owner", "kinds": ["withdrawal"], "direction": "outflow",
    "metric": "daily_sum", "threshold": 1000000, "currency": "CNY", "action": "alert"}', 'watch');
GRANT SELECT ON more_ids TO PUBLIC;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION lim_checker;
SELECT lives_ok($$SELECT riskguard.approve_change(id) FROM more_ids$$, 'four more rules approved');
RESET SESSION AUTHORIZATION;

SELECT throws_ok($$SELECT riskguard.post_transfer('inv:zhang', 'custody', 6000000, 'withdrawal')$$, 'RG001',
                 'transfer of 6000000 CNY would exceed limit "big_withdrawal" for account "inv:zhang"',
                 'a withdrawal over the per-transfer cap is refused');
SELECT lives_ok($$SELECT riskguard.post_transfer('inv:zhang', 'custody', 500000, 'withdrawal')$$,
                'a first small withdrawal passes');
SELECT is((SELECT count(*)::int FROM riskguard.alert), 0, 'no alert under the watch threshold');
SELECT lives_ok($$SELECT riskguard.post_transfer('inv:zhang', 'custody', 4000000, 'withdrawal')$$,
                'a second withdrawal passes the reject rules');
SELECT results_eq($$SELECT rule, owner, (detail ->> 'used_before')::bigint, (detail ->> 'threshold')::bigint FROM riskguard.alert$$,
                  $$VALUES ('watch_daily_withdrawals', 'zhang', 500000::bigint, 1000000::bigint)$$,
                  'an alert rule records an alert and lets the transfer through');
SELECT throws_ok($$SELECT riskguard.post_transfer('inv:zhang', 'custody', 100, 'withdrawal')$$, 'RG001',
                 'transfer of 100 CNY would exceed limit "withdrawals_per_day" for owner "zhang"',
                 'a third withdrawal in a day is refused');
SELECT is((SELECT used FROM riskguard.limit_utilization WHERE rule = 'monthly_withdrawals'), 4500000::bigint,
          'the monthly counter holds the two withdrawals');
SELECT is((SELECT "window" FROM riskguard.limit_utilization WHERE rule = 'monthly_withdrawals'),
          to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM'), 'the monthly window is the calendar month in UTC');
SELECT is(riskguard.headroom('withdrawals_per_day', 'zhang'), 0::bigint, 'daily_count headroom counts transfers');
SELECT is(riskguard.headroom('big_withdrawal', 'inv:zhang'), 5000000::bigint, 'per_transfer headroom is the threshold');

-- windows follow riskguard.timezone
SET riskguard.timezone = 'Asia/Shanghai';
SELECT is(riskguard.limit_period('daily_sum', '2026-11-25 20:00:00+00'), '2026-11-26',
          '20:00 UTC is the next day in Shanghai');
SELECT is(riskguard.limit_period('monthly_sum', '2026-11-30 17:00:00+00'), '2026-12',
          'and may be the next month');
RESET riskguard.timezone;
SELECT is(riskguard.limit_period('daily_sum', '2026-11-25 20:00:00+00'), '2026-11-25', 'the default is UTC');
SELECT throws_ok($$SET riskguard.timezone = 'Mars/Olympus'$$, '22023', NULL, 'an unknown time zone is refused');

-- bad rule proposals
SET SESSION AUTHORIZATION lim_maker;
SELECT throws_ok($$SELECT riskguard.propose_change('limit_rule', 'insert', '{"name": "b", "subject": "owner", "kinds": ["x"],
                   "direction": "outflow", "metric": "hourly_sum", "threshold": 1, "currency": "CNY", "action": "reject"}', NULL)$$,
                 '22023', 'unrecognized limit metric: "hourly_sum"', 'an unknown metric is refused');
SELECT throws_ok($$SELECT riskguard.propose_change('limit_rule', 'insert', '{"name": "b", "subject": "branch", "kinds": ["x"],
                   "direction": "outflow", "metric": "daily_sum", "threshold": 1, "currency": "CNY", "action": "reject"}', NULL)$$,
                 '22023', 'unrecognized limit subject: "branch"', 'an unknown subject is refused');
SELECT throws_ok($$SELECT riskguard.propose_change('limit_rule', 'insert', '{"name": "b", "subject": "owner", "kinds": ["x"],
                   "direction": "outflow", "metric": "daily_sum", "threshold": 1, "currency": "CNY", "action": "warn"}', NULL)$$,
                 '22023', 'unrecognized limit action: "warn"', 'an unknown action is refused');
SELECT throws_ok($$SELECT riskguard.propose_change('limit_rule', 'insert', '{"name": "b", "subject": "owner", "kinds": ["x"],
                   "direction": "outflow", "metric": "daily_sum", "threshold": 1, "currency": "CNY", "action": null}', NULL)$$,
                 '22023', 'unrecognized limit action: "null"', 'a window metric with action null is refused');
SELECT throws_ok($$SELECT riskguard.propose_change('limit_rule', 'insert', '{"name": "b", "subject": "owner", "kinds": ["x"],
                   "direction": "outflow", "metric": "daily_sum", "threshold": -5, "currency": "CNY", "action": "reject"}', NULL)$$,
                 '22023', 'limit threshold must be a non-negative amount in minor units, not -5', 'a negative threshold is refused');
SELECT throws_ok($$SELECT riskguard.propose_change('limit_rule', 'insert', '{"name": "b", "subject": "owner", "kinds": ["x"],
                   "direction": "outflow", "metric": "daily_sum", "threshold": null, "currency": "CNY", "action": "reject"}', NULL)$$,
                 '22023', 'limit threshold must be a non-negative amount in minor units, not null', 'a null threshold is refused');
SELECT throws_ok($$SELECT riskguard.propose_change('limit_rule', 'insert', '{"name": "b", "subject": "owner", "kinds": [],
                   "direction": "outflow", "metric": "daily_sum", "threshold": 1, "currency": "CNY", "action": "reject"}', NULL)$$,
                 '22023', 'limit kinds must be a non-empty array of transfer kinds', 'empty kinds are refused');
SELECT throws_ok($$SELECT riskguard.propose_change('limit_rule', 'insert', '{"name": "b", "subject": "owner", "kinds": ["disburse"],
                   "direction": "inflow", "metric": "outstanding", "threshold": 1, "currency": "CNY", "action": "reject"}', NULL)$$,
                 '22023', 'an outstanding limit needs release_kinds', 'outstanding without release kinds is refused');
SELECT throws_ok($$SELECT riskguard.propose_change('limit_rule', 'insert', '{"name": "b", "subject": "owner", "kinds": ["x"],
                   "direction": "outflow", "metric": "daily_sum", "threshold": 1, "currency": "CNY"}', NULL)$$,
                 '23502', NULL, 'a rule without an action is refused');
SELECT is(riskguard.propose_change('limit_rule', 'update',
            jsonb_build_object('id', (SELECT id FROM riskguard.limit_rule WHERE name = 'cn_p2p_2016_individual_outstanding'),
                               'threshold', 30000000), 'raise'), 7::bigint,
          'a threshold change is proposed');
SELECT throws_ok($$SELECT riskguard.approve_change(7)$$, 'RG006', NULL, 'the proposer cannot approve it');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION lim_nobody;
SELECT throws_ok($$SELECT riskguard.apply_preset('cn_p2p_2016')$$, '42501', NULL, 'PUBLIC cannot apply presets');
RESET SESSION AUTHORIZATION;

SELECT * FROM finish();
ROLLBACK;
