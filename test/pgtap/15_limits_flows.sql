-- pool flows and reserve rules change only through maker-checker
BEGIN;
CREATE EXTENSION riskguard;
SELECT plan(8);

CREATE ROLE flow_maker;   GRANT riskguard_admin TO flow_maker;
CREATE ROLE flow_checker; GRANT riskguard_approver TO flow_checker;
SELECT riskguard.open_account('expense', 'platform', NULL, NULL, 'CNY', 'debit') AS expense \gset
SELECT riskguard.open_account('reserve', 'reserve', NULL, NULL, 'CNY') AS reserve \gset

SET SESSION AUTHORIZATION flow_maker;
SELECT throws_ok($$INSERT INTO riskguard.pool_flow VALUES ('client', 'platform', 'invest')$$, '42501', NULL,
                 'an admin cannot widen the flows directly');
SELECT throws_ok($$DELETE FROM riskguard.reserve_rule$$, '42501', NULL, 'nor change reserve rules directly');
SELECT is(riskguard.propose_change('pool_flow', 'insert', '{"from_pool": "reserve", "to_pool": "platform", "kind": "reserve_release"}',
                                   'release the excess reserve'), 1::bigint, 'a new flow is proposed');
SELECT is(riskguard.propose_change('reserve_rule', 'insert',
            format('{"kind": "invest", "basis_points": 80, "from_account": %s, "to_account": %s}', :expense, :reserve)::jsonb,
            '0.8% of investments to the reserve'), 2::bigint, 'a reserve rule is proposed');
SELECT throws_ok($$SELECT riskguard.propose_change('reserve_rule', 'insert', '{"kind": "invest", "basis_points": 0, "from_account": 1, "to_account": 2}', NULL)$$,
                 '23514', NULL, 'a reserve rule the table refuses is refused at proposal');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION flow_checker;
SELECT lives_ok($$SELECT riskguard.approve_change(1), riskguard.approve_change(2)$$, 'another person approves both');
RESET SESSION AUTHORIZATION;
SELECT ok(EXISTS (SELECT 1 FROM riskguard.pool_flow WHERE from_pool = 'reserve' AND to_pool = 'platform'),
          'the flow applies on approval');
SELECT is((SELECT basis_points FROM riskguard.reserve_rule WHERE kind = 'invest'), 80, 'the reserve rule applies on approval');

SELECT * FROM finish();
ROLLBACK;
