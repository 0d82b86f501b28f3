-- alert rule state: what the transfer trigger stores in riskguard.alert_state for each
-- kind, on a subject's first row and on the rows it finds again, within one transaction
-- and one statement, across a rolled-back savepoint, at the window's edge, and the
-- overflow errors SQL's operators raise
BEGIN;
CREATE EXTENSION riskguard;
SELECT plan(23);

-- ann has two wallets (ids 8 and 10), bob one (9); six fillers so that ids reach two digits
SELECT riskguard.open_account('custody', 'client', NULL, NULL, 'CNY', 'debit', false);
SELECT riskguard.open_account('filler' || i, 'client', 'filler' || i, 'individual', 'CNY') FROM generate_series(1, 6) i;
SELECT riskguard.open_account('w:ann', 'client', 'ann', 'individual', 'CNY');
SELECT riskguard.open_account('w:bob', 'client', 'bob', 'individual', 'CNY');
SELECT riskguard.open_account('w:ann2', 'client', 'ann', 'individual', 'CNY');
SELECT riskguard.post_transfer('custody', a, 10000000000, 'deposit') FROM unnest(ARRAY['w:ann', 'w:bob', 'w:ann2']) a;

-- written directly, as the superuser running the tests, to keep the setup short
INSERT INTO riskguard.alert_rule (name, kind, kinds, params, likelihood, impact) VALUES
  ('vel', 'velocity', '{v}', '{"window": "1 hour", "max_count": 1000000}', 1, 1),
  ('ano', 'amount_anomaly', '{a}', '{"k": 1000, "min_history": 2}', 1, 1),
  ('str', 'structuring', '{s}', '{"window": "1 day", "threshold": 1000, "margin": 0.1, "count": 1000}', 1, 1),
  ('dor', 'dormant_reactivation', NULL, '{"days": 30}', 1, 1);
CREATE TEMP VIEW st AS
SELECT r.name, s.subject, s.window_start, s.n, s.total, s.mean, s.m2, s.last_at
  FROM riskguard.alert_state s JOIN riskguard.alert_rule r ON r.id = s.rule_id;

-- amount_anomaly: the first transfer creates the row, the other 14 find it again; the
-- stored mean and m2 must be exactly (as float8) Welford's steps in SQL's float8 arithmetic
CREATE TEMP TABLE amounts AS
SELECT i, a FROM unnest(ARRAY[100003, 7, 999999937, 31337, 250000, 1, 4999, 123456789, 77777, 500, 65536,
                              314159, 2718281, 9, 1000000]::bigint[]) WITH ORDINALITY v(a, i);
SELECT riskguard.post_transfer('w:ann', 'w:bob', a, 'a') FROM amounts ORDER BY i;
SELECT results_eq(
  $$SELECT n, mean, m2 FROM st WHERE name = 'ano'$$,
  $$WITH RECURSIVE w(i, n, mean, m2) AS (
      SELECT 1::bigint, 1::bigint, a::float8, 0::float8 FROM amounts WHERE i = 1
      UNION ALL
      SELECT w.i + 1, w.n + 1, w.mean + ((x.a - w.mean) / (w.n + 1)),
             w.m2 + ((x.a - w.mean) * (x.a - (w.mean + ((x.a - w.mean) / (w.n + 1)))))
        FROM w JOIN amounts x ON x.i = w.i + 1)
    SELECT n, mean, m2 FROM w ORDER BY i DESC LIMIT 1$$,
  'the running mean and m2 are exactly those of the SQL Welford steps');
SELECT is((SELECT subject FROM st WHERE name = 'ano'), 'ann', 'one row, for the debited owner');

-- velocity: one statement inserting four transfers finds the row each earlier one wrote
SELECT riskguard.post_transfer('w:ann', 'w:bob', 100, 'v');
INSERT INTO riskguard.transfer (debit_account, credit_account, amount, kind)
SELECT 10, 9, 10 * i, 'v' FROM generate_series(1, 4) i;
SELECT results_eq($$SELECT n, total, window_start = now(), last_at = now() FROM st WHERE name = 'vel'$$,
                  $$VALUES (5::bigint, 200::bigint, true, true)$$,
                  'both of an owner''s wallets count, each row of a multi-row insert once');

-- a rolled-back savepoint leaves the state as it was
SAVEPOINT s;
SELECT riskguard.post_transfer('w:ann', 'w:bob', 1000, 'v');
SELECT is((SELECT n FROM st WHERE name = 'vel'), 6::bigint, 'counted inside the savepoint');
ROLLBACK TO SAVEPOINT s;
SELECT is((SELECT n FROM st WHERE name = 'vel'), 5::bigint, 'and gone after rolling it back');
SELECT riskguard.post_transfer('w:ann', 'w:bob', 1, 'v');
SELECT is((SELECT total FROM st WHERE name = 'vel'), 201::bigint, 'the next transfer adds to the state before the savepoint');

-- the window's edge: a start exactly one window ago has closed, a microsecond later has not
UPDATE riskguard.alert_state SET window_start = now() - interval '1 hour' + interval '1 microsecond'
 WHERE rule_id = (SELECT id FROM riskguard.alert_rule WHERE name = 'vel');
SELECT riskguard.post_transfer('w:ann', 'w:bob', 2, 'v');
SELECT results_eq($$SELECT n, total, window_start = now() - interval '1 hour' + interval '1 microsecond' FROM st WHERE name = 'vel'$$,
                  $$VALUES (7::bigint, 203::bigint, true)$$, 'a window that started 59:59.999999 ago goes on');
UPDATE riskguard.alert_state SET window_start = now() - interval '1 hour'
 WHERE rule_id = (SELECT id FROM riskguard.alert_rule WHERE name = 'vel');
SELECT riskguard.post_transfer('w:ann', 'w:bob', 3, 'v');
SELECT results_eq($$SELECT n, total, window_start = now() FROM st WHERE name = 'vel'$$,
                  $$VALUES (1::bigint, 3::bigint, true)$$, 'one that started an hour ago has closed: a new one opens');
UPDATE riskguard.alert_state SET window_start = NULL WHERE rule_id = (SELECT id FROM riskguard.alert_rule WHERE name = 'vel');
SELECT riskguard.post_transfer('w:ann', 'w:bob', 4, 'v');
SELECT results_eq($$SELECT n, total, window_start = now() FROM st WHERE name = 'vel'$$,
                  $$VALUES (1::bigint, 4::bigint, true)$$, 'a row without a window start opens one');

-- structuring counts only amounts in [900, 1000)
SELECT riskguard.post_transfer('w:ann', 'w:bob', a, 's') FROM unnest(ARRAY[950, 1000, 899, 999, 900]) a;
SELECT results_eq($$SELECT n, total FROM st WHERE name = 'str'$$, $$VALUES (3::bigint, 2849::bigint)$$,
                  'structuring counts the three amounts in the band');

-- dormant_reactivation: every transfer touches the rows of both owned accounts; the
-- debited account's row keeps its previous activity in window_start
SELECT results_eq($$SELECT subject, n, last_at = now(), window_start = now() FROM st WHERE name = 'dor' ORDER BY subject$$,
                  $$VALUES ('account 10'::text, 4::bigint, true, true), ('account 8', 25, true, true), ('account 9', 29, true, true)$$,
                  'each owned account counts its transfers since the rule exists (the custody account has no owner)');
UPDATE riskguard.alert_state SET last_at = now() - interval '40 days'
 WHERE rule_id = (SELECT id FROM riskguard.alert_rule WHERE name = 'dor') AND subject IN ('account 9', 'account 10');
-- ann2 ("account 10") pays bob ("account 9"): the debited row comes first in the index
SELECT riskguard.post_transfer('w:ann2', 'w:bob', 5, 'p2p');
SELECT results_eq($$SELECT subject, n, window_start = now() - interval '40 days', last_at = now() FROM st
                     WHERE name = 'dor' AND subject IN ('account 9', 'account 10') ORDER BY subject$$,
                  $$VALUES ('account 10'::text, 5::bigint, true, true), ('account 9', 30, true, true)$$,
                  'both rows move on, remembering the activity before');
SELECT results_eq($$SELECT owner, account, (detail ->> 'idle_days')::numeric FROM riskguard.alert WHERE rule = 'dor'$$,
                  $$VALUES ('ann', 10::bigint, 40.00)$$, 'the debited account''s 40 quiet days raise an alert');
UPDATE riskguard.alert_state SET last_at = now() - interval '31 days'
 WHERE rule_id = (SELECT id FROM riskguard.alert_rule WHERE name = 'dor') AND subject IN ('account 9', 'account 10');
-- bob ("account 9") pays ann2 ("account 10"): the debited row comes second
SELECT riskguard.post_transfer('w:bob', 'w:ann2', 5, 'p2p');
SELECT results_eq($$SELECT owner, account, (detail ->> 'idle_days')::numeric FROM riskguard.alert WHERE rule = 'dor' ORDER BY id$$,
                  $$VALUES ('ann', 10::bigint, 40.00), ('bob', 9, 31.00)$$,
                  'so does bob''s 31, when his row is locked after the credited one');
UPDATE riskguard.alert_state SET last_at = NULL
 WHERE rule_id = (SELECT id FROM riskguard.alert_rule WHERE name = 'dor') AND subject = 'account 9';
SELECT riskguard.post_transfer('w:bob', 'w:ann2', 5, 'p2p');
SELECT results_eq($$SELECT n, window_start IS NULL, last_at = now() FROM st WHERE name = 'dor' AND subject = 'account 9'$$,
                  $$VALUES (32::bigint, true, true)$$, 'a row without a last activity passes that on');
SELECT is((SELECT count(*)::int FROM riskguard.alert WHERE rule = 'dor'), 2, 'and raises nothing');
-- a first outflow creates the debited account's row with no previous activity
SELECT riskguard.open_account('w:cy', 'client', 'cy', 'individual', 'CNY');
SELECT riskguard.post_transfer('custody', 'w:cy', 1000, 'deposit');
DELETE FROM riskguard.alert_state WHERE subject = 'account 11';
SELECT riskguard.post_transfer('w:cy', 'w:bob', 5, 'p2p');
SELECT results_eq($$SELECT n, window_start IS NULL, last_at = now() FROM st WHERE name = 'dor' AND subject = 'account 11'$$,
                  $$VALUES (1::bigint, true, true)$$, 'a first row through the upsert');
SELECT is((SELECT count(*)::int FROM riskguard.alert WHERE rule = 'dor'), 2, 'which raises nothing either');

-- SQL's overflow errors, with the state unchanged
UPDATE riskguard.alert_state SET total = 9223372036854775000 WHERE rule_id = (SELECT id FROM riskguard.alert_rule WHERE name = 'vel');
SELECT throws_ok($$SELECT riskguard.post_transfer('w:ann', 'w:bob', 1000, 'v')$$, '22003', 'bigint out of range',
                 'a window sum past bigint is refused');
UPDATE riskguard.alert_state SET n = 9223372036854775807 WHERE rule_id = (SELECT id FROM riskguard.alert_rule WHERE name = 'ano');
SELECT throws_ok($$SELECT riskguard.post_transfer('w:ann', 'w:bob', 1000, 'a')$$, '22003', 'bigint out of range',
                 'so is a count past bigint');
UPDATE riskguard.alert_state SET n = 9223372036854775807
 WHERE rule_id = (SELECT id FROM riskguard.alert_rule WHERE name = 'dor') AND subject = 'account 9';
SELECT throws_ok($$SELECT riskguard.post_transfer('w:ann', 'w:bob', 1000, 'p2p')$$, '22003', 'bigint out of range',
                 'and an activity count past bigint, on the credited side');
SELECT results_eq($$SELECT name, n FROM st WHERE subject IN ('ann', 'account 9') ORDER BY name$$,
                  $$VALUES ('ano'::text, 9223372036854775807::bigint), ('dor', 9223372036854775807), ('str', 3), ('vel', 1)$$,
                  'the refused transfers changed no state');
SELECT is((SELECT count(*)::int FROM riskguard.alert_state), 7, 'seven state rows in all');

SELECT * FROM finish();
ROLLBACK;
