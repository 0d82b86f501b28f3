-- riskguard.score_row(model, application): scoring a row directly equals scoring
-- to_jsonb of the row on every row of a realistic table (the credit sample of
-- test/data/credit_sample.csv, with NULLs, NaN, infinities, values on and next to bin
-- bounds and columns of other types mixed in); missing columns and columns of the wrong
-- type count as missing, as in the JSON form; unknown models; overload resolution.
-- Loads the sample with server-side COPY from $RG_TOP (set by test/run).
BEGIN;
CREATE EXTENSION riskguard;
SELECT plan(29);

SELECT has_function('riskguard', 'score_row', ARRAY['text', 'record']);
SELECT function_returns('riskguard', 'score_row', ARRAY['text', 'record'], 'riskguard.credit_score');
SELECT ok((SELECT provolatile = 's' AND proisstrict AND proparallel = 's'
             FROM pg_proc WHERE oid = 'riskguard.score_row(text, record)'::regprocedure),
          'score_row is STABLE STRICT PARALLEL SAFE');

-- the models of 20_credit_models.sql
SELECT riskguard.create_model('ref_scorecard', $spec${"kind": "scorecard", "description": "retail loans, test scorecard", "scaling": {"base_score": 600, "base_odds": 50, "pdo": 20}, "intercept": -2.4, "features": [{"name": "income", "type": "numeric", "coefficient": -0.85, "reason": "INCOME_LOW", "bins": [{"upper": 2500, "woe": -0.61}, {"upper": 5000, "woe": -0.12}, {"upper": 9000, "woe": 0.28}, {"woe": 0.74}], "missing": {"woe": -0.45}}, {"name": "dti", "type": "numeric", "coefficient": -0.92, "reason": "DEBT_HIGH", "bins": [{"upper": 0.2, "woe": 0.55}, {"upper": 0.35, "woe": 0.12}, {"upper": 0.5, "woe": -0.31}, {"woe": -0.88}], "missing": {"woe": -0.2}}, {"name": "delinquencies", "type": "numeric", "coefficient": -1.1, "reason": "DELINQUENT", "bins": [{"upper": 1, "woe": 0.42}, {"upper": 3, "woe": -0.67}, {"woe": -1.35}], "missing": {"woe": 0}}, {"name": "housing", "type": "categorical", "coefficient": -0.7, "reason": "HOUSING", "bins": [{"values": ["own", "mortgage"], "woe": 0.33}, {"values": ["rent"], "woe": -0.21}, {"values": ["family", "other"], "woe": -0.4}], "missing": {"woe": -0.4}}], "grades": {"by": "score", "bands": [{"grade": "A", "min_score": 600}, {"grade": "B", "min_score": 570}, {"grade": "C", "min_score": 540}, {"grade": "D"}]}, "decisions": [{"decision": "approve", "max_pd": 0.04}, {"decision": "review", "max_pd": 0.12}, {"decision": "decline"}]}$spec$);
SELECT riskguard.create_model('ref_points', $spec${"kind": "scorecard", "scaling": {"base_score": 500, "base_odds": 20, "pdo": 40}, "features": [{"name": "months_employed", "type": "numeric", "reason": "SHORT_EMPLOYMENT", "bins": [{"upper": 6, "points": 20}, {"upper": 24, "points": 95}, {"upper": 60, "points": 140}, {"points": 165}], "missing": {"points": 40}}, {"name": "inquiries", "type": "numeric", "reason": "MANY_INQUIRIES", "bins": [{"upper": 1, "points": 180}, {"upper": 3, "points": 150}, {"upper": 6, "points": 110}, {"points": 60}], "missing": {"points": 120}}, {"name": "purpose", "type": "categorical", "reason": "PURPOSE", "bins": [{"values": ["education", "home_improvement"], "points": 190}, {"values": ["car", "medical"], "points": 160}, {"values": ["debt_consolidation"], "points": 130}], "missing": {"points": 100}}], "grades": {"by": "pd", "bands": [{"grade": "prime", "max_pd": 0.05}, {"grade": "near_prime", "max_pd": 0.15}, {"grade": "subprime"}]}, "decisions": [{"decision": "approve", "max_pd": 0.08}, {"decision": "review", "max_pd": 0.2}, {"decision": "decline"}]}$spec$);
SELECT riskguard.create_model('ref_logistic', $spec${"kind": "logistic", "scaling": {"base_score": 600, "base_odds": 30, "pdo": 25}, "intercept": -3.1, "features": [{"name": "dti", "coefficient": 2.3, "reason": "DEBT_HIGH", "missing": 0.35, "best": 0}, {"name": "income_k", "coefficient": -0.012, "reason": "INCOME_LOW", "missing": 40, "best": 150}, {"name": "delinquencies", "coefficient": 0.45, "reason": "DELINQUENT", "missing": 0, "best": 0}, {"name": "age", "coefficient": -0.01, "reason": "AGE", "missing": 40}], "grades": {"by": "score", "bands": [{"grade": "A", "min_score": 640}, {"grade": "B", "min_score": 600}, {"grade": "C"}]}, "decisions": [{"decision": "approve", "max_pd": 0.05}, {"decision": "review", "max_pd": 0.1}, {"decision": "decline"}]}$spec$);

-- an untyped literal still means the JSON form
SELECT is(riskguard.score('ref_scorecard', '{"income": 7200, "dti": 0.2}'),
          riskguard.score('ref_scorecard', '{"income": 7200, "dti": 0.2}'::jsonb),
          'score(model, untyped literal) resolves to score(text, jsonb)');
SELECT is(riskguard.score('ref_scorecard', NULL), NULL, 'score(model, NULL) resolves too and is NULL');

-- a realistic table: the credit sample, with the feature columns under the models'
-- names and in the types an application table would use
CREATE TABLE credit_sample (
  id int PRIMARY KEY, age float8, income float8, dti float8, months_employed float8,
  delinquencies float8, credit_lines float8, utilization float8, home text, bad boolean);
\getenv top RG_TOP
\set csv :top '/test/data/credit_sample.csv'
COPY credit_sample FROM :'csv' WITH (FORMAT csv, HEADER true);
CREATE TABLE applications AS
SELECT id,
       CASE WHEN id % 41 = 0 THEN NULL ELSE round((income * 1000)::numeric, 2) END AS income,
       (income * 1000 / 7)::float8 AS income_f,
       round(income::numeric, 1)::float8 AS income_k,
       CASE WHEN id % 37 = 0 THEN 'NaN'::float8 WHEN id % 43 = 0 THEN 'Infinity'::float8
            WHEN id % 47 = 0 THEN NULL WHEN id % 11 = 0 THEN 0.35::float8
            WHEN id % 13 = 0 THEN 0.1::float8 + 0.25::float8   -- 0.35000000000000003, just above the bound
            WHEN id % 17 = 0 THEN 0.2::float8 - 1e-17::float8
            ELSE dti END AS dti,
       CASE WHEN id % 53 = 0 THEN NULL ELSE delinquencies::int END AS delinquencies,
       age::smallint AS age,
       (months_employed * 12)::bigint AS months_employed,
       CASE WHEN id % 5 = 0 THEN NULL ELSE (credit_lines::int % 7) END::numeric AS inquiries,
       CASE WHEN id % 29 = 0 THEN NULL WHEN id % 31 = 0 THEN 'boat' ELSE home END AS housing,
       (ARRAY['car', 'education', 'medical', 'debt_consolidation', 'home_improvement', 'wedding', NULL])[1 + id % 7]::varchar(20) AS purpose,
       bad
  FROM credit_sample;
SELECT is((SELECT count(*) FROM applications), 5000::bigint, 'the sample has 5000 applications');

SELECT is((SELECT count(*) FROM applications a
            WHERE riskguard.score_row('ref_scorecard', a) IS DISTINCT FROM riskguard.score('ref_scorecard', to_jsonb(a))),
          0::bigint, 'ref_scorecard: score_row equals score(to_jsonb) on every row');
SELECT is((SELECT count(*) FROM applications a
            WHERE riskguard.score_row('ref_points', a) IS DISTINCT FROM riskguard.score('ref_points', to_jsonb(a))),
          0::bigint, 'ref_points: score_row equals score(to_jsonb) on every row');
SELECT is((SELECT count(*) FROM applications a
            WHERE riskguard.score_row('ref_logistic', a) IS DISTINCT FROM riskguard.score('ref_logistic', to_jsonb(a))),
          0::bigint, 'ref_logistic: score_row equals score(to_jsonb) on every row, PD to the last bit');
SELECT cmp_ok((SELECT count(DISTINCT (riskguard.score_row('ref_scorecard', a)).score) FROM applications a), '>', 20::bigint,
          'the rows cover many different scores');

-- bounds: a double counts as its shortest decimal, as in to_jsonb
CREATE TEMP TABLE bounds (id int, dti float8);
INSERT INTO bounds VALUES (1, 0.35), (2, 0.1::float8 + 0.25::float8), (3, '0.3499999999999999'), (4, 0.2),
  (5, '0.19999999999999998'), (6, 0.5), (7, '-0'), (8, '1e300'), (9, '-1e-300');
SELECT is((SELECT count(*) FROM bounds b
            WHERE riskguard.score_row('ref_scorecard', b) IS DISTINCT FROM riskguard.score('ref_scorecard', to_jsonb(b))),
          0::bigint, 'values on and next to the bin bounds fall into the same bins in both forms');
SELECT results_eq($$SELECT (riskguard.score_row('ref_scorecard', b)).score FROM bounds b WHERE id IN (1, 2, 3) ORDER BY id$$,
          $$VALUES ((riskguard.score('ref_scorecard', '{"dti": 0.35}')).score),
                  ((riskguard.score('ref_scorecard', '{"dti": 0.35000000000000003}')).score),
                  ((riskguard.score('ref_scorecard', '{"dti": 0.34}')).score)$$,
          '0.35 and the double above it fall above the bound 0.35, the double below it under');

-- NULLs and missing columns: the missing bin, as for a JSON null or an absent key
SELECT is(riskguard.score_row('ref_scorecard', ROW(NULL::numeric, NULL::float8)),
          riskguard.score('ref_scorecard', '{}'), 'a row of NULLs scores as no features at all');
CREATE TEMP TABLE partial_app (income numeric, housing text);
INSERT INTO partial_app VALUES (7200, 'own');
SELECT is((SELECT riskguard.score_row('ref_scorecard', p) FROM partial_app p),
          riskguard.score('ref_scorecard', '{"income": 7200, "housing": "own"}'),
          'columns the row lacks (dti, delinquencies) are missing');
SELECT is((SELECT riskguard.score_row('ref_logistic', p) FROM partial_app p),
          riskguard.score('ref_logistic', '{}'),
          'logistic: absent columns take the features'' missing values');
SELECT is(riskguard.score_row('ref_scorecard', ROW(1, 2)), riskguard.score('ref_scorecard', '{"f1": 1, "f2": 2}'),
          'an anonymous record has columns f1, f2, ...: every feature missing');

-- wrong column types: what the JSON form does with the value to_jsonb gives
CREATE TEMP TABLE typed_app (income text, dti boolean, delinquencies int[], housing text);
INSERT INTO typed_app VALUES ('7200', true, '{1}', 'own'), ('abc', false, NULL, 'rent');
SELECT is((SELECT count(*) FROM typed_app t
            WHERE riskguard.score_row('ref_scorecard', t) IS DISTINCT FROM riskguard.score('ref_scorecard', to_jsonb(t))),
          0::bigint, 'text, boolean and array columns for numeric features: missing, as in the JSON form');
SELECT is((SELECT (riskguard.score_row('ref_scorecard', t)).score FROM typed_app t WHERE housing = 'own'),
          (riskguard.score('ref_scorecard', '{"housing": "own"}')).score,
          'a number written as text is not a number');
CREATE TEMP TABLE cat_app (housing boolean, purpose date, inquiries jsonb, months_employed json);
INSERT INTO cat_app VALUES (true, '2024-03-01', '2', '"36"'), (NULL, NULL, '{"a": 1}', '[1]'), (false, '1999-12-31', 'null', '7');
SELECT is((SELECT count(*) FROM cat_app c
            WHERE riskguard.score_row('ref_points', c) IS DISTINCT FROM riskguard.score('ref_points', to_jsonb(c))),
          0::bigint, 'boolean, date, json and jsonb columns read as to_jsonb writes them');
CREATE TEMP TABLE float_app (income real, dti numeric, delinquencies bigint, housing char(5));
INSERT INTO float_app VALUES (4999.99, 'NaN', 2, 'own'), ('Infinity', 'Infinity', NULL, 'rent'), (2500, 0.2, 9000000000, 'other');
SELECT is((SELECT count(*) FROM float_app f
            WHERE riskguard.score_row('ref_scorecard', f) IS DISTINCT FROM riskguard.score('ref_scorecard', to_jsonb(f))),
          0::bigint, 'real, numeric NaN and infinities, bigint and char(n) columns as in the JSON form');
CREATE DOMAIN pg_temp.ratio AS float8 CHECK (VALUE >= 0);
CREATE TEMP TABLE domain_app (dti pg_temp.ratio, income int);
INSERT INTO domain_app VALUES (0.4, 3000);
SELECT is((SELECT riskguard.score_row('ref_scorecard', d) FROM domain_app d),
          riskguard.score('ref_scorecard', '{"dti": 0.4, "income": 3000}'), 'a domain over a number type reads as the number');

-- errors
SELECT throws_ok($$SELECT riskguard.score_row('no_such_model', a) FROM applications a LIMIT 1$$, 'RG021',
          'model "no_such_model" does not exist or has no active version', 'unknown model');
SELECT throws_ok($$SELECT riskguard.score_row('ref_scorecard', 5)$$, '42883', NULL,
          'a scalar is not a row: no such function');
SELECT throws_ok($$SELECT riskguard.score_row('ref_scorecard', '{"income": 1}'::jsonb)$$, '42883', NULL,
          'jsonb goes to score(), not score_row()');
SELECT is(riskguard.score_row('ref_scorecard', NULL::applications), NULL, 'a NULL row scores NULL');
SELECT riskguard.create_model('strict_logistic', jsonb_set((SELECT spec FROM riskguard.credit_model WHERE name = 'ref_logistic'),
  '{features,0}', '{"name": "dti", "coefficient": 2.3, "reason": "DEBT_HIGH"}'));
SELECT throws_ok($$SELECT riskguard.score_row('strict_logistic', p) FROM partial_app p$$, '22004',
          'feature "dti" of model "strict_logistic" is missing', 'a logistic feature without a missing value, absent from the row');

-- the model cache: a new version is used by the next statement
SELECT riskguard.create_model('ref_scorecard', jsonb_set(spec, '{features,3,bins,0,woe}', '0.9'))
  FROM riskguard.credit_model WHERE name = 'ref_scorecard' AND version = 1;
SELECT is((SELECT (riskguard.score_row('ref_scorecard', p)).version FROM partial_app p), 2,
          'after create_model the row form scores with the new version');
SELECT is((SELECT count(*) FROM applications a
            WHERE riskguard.score_row('ref_scorecard', a) IS DISTINCT FROM riskguard.score('ref_scorecard', to_jsonb(a))),
          0::bigint, 'and still equals the JSON form on every row');
SELECT is((SELECT count(*) FROM (SELECT riskguard.score_row('ref_points', a) s, riskguard.score_row('ref_scorecard', a) t
                                   FROM applications a) x WHERE (s).model <> 'ref_points' OR (t).model <> 'ref_scorecard'),
          0::bigint, 'two models in one query keep their own caches');

SELECT * FROM finish();
ROLLBACK;
