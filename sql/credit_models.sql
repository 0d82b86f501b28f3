-- credit models: the README's example specs, scoring output, error messages, missing
-- values, a change made by another session, and the scoring trigger.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS riskguard;
RESET client_min_messages;

-- the README's scorecard (bins with woe and the feature's coefficient)
SELECT riskguard.create_model('retail_v', $${
  "kind": "scorecard",
  "description": "unsecured retail loans",
  "scaling": {"base_score": 600, "base_odds": 50, "pdo": 20},
  "intercept": -2.2,
  "features": [
    {"name": "annual_income", "type": "numeric", "coefficient": -0.82, "reason": "INCOME_LOW",
     "bins": [{"upper": 30000, "woe": -0.58}, {"upper": 60000, "woe": 0.04},
              {"upper": 100000, "woe": 0.41}, {"woe": 0.77}],
     "missing": {"woe": -0.35}},
    {"name": "dti", "type": "numeric", "coefficient": -0.95, "reason": "DEBT_TO_INCOME_HIGH",
     "bins": [{"upper": 0.2, "woe": 0.61}, {"upper": 0.36, "woe": 0.15},
              {"upper": 0.5, "woe": -0.42}, {"woe": -0.97}],
     "missing": {"woe": -0.3}},
    {"name": "delinquencies_2y", "type": "numeric", "coefficient": -1.05, "reason": "DELINQUENCY",
     "bins": [{"upper": 1, "woe": 0.38}, {"upper": 3, "woe": -0.71}, {"woe": -1.42}],
     "missing": {"woe": -0.2}},
    {"name": "housing", "type": "categorical", "coefficient": -0.7, "reason": "HOUSING",
     "bins": [{"values": ["own", "mortgage"], "woe": 0.31},
              {"values": ["rent"], "woe": -0.18},
              {"values": ["family", "other"], "woe": -0.36}],
     "missing": {"woe": -0.36}}
  ],
  "grades": {"by": "score", "bands": [{"grade": "A", "min_score": 620}, {"grade": "B", "min_score": 590},
                                       {"grade": "C", "min_score": 560}, {"grade": "D"}]},
  "decisions": [{"decision": "approve", "max_pd": 0.05}, {"decision": "review", "max_pd": 0.15},
                {"decision": "decline"}]
}$$) AS version;

-- the README's logistic model (coefficients on raw numeric features)
SELECT riskguard.create_model('retail_logit', $${
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
}$$) AS version;

SELECT name, version, kind, active FROM riskguard.credit_model
 WHERE name IN ('retail_v', 'retail_logit') ORDER BY name, version;

-- scoring: a strong applicant, a weak one, and one with nothing known
SELECT (s).model, (s).version, (s).score, round((s).pd::numeric, 4) AS pd, (s).grade, (s).decision, (s).reasons
  FROM (VALUES
    ('{"annual_income": 120000, "dti": 0.12, "delinquencies_2y": 0, "housing": "own"}'::jsonb),
    ('{"annual_income": 24000, "dti": 0.55, "delinquencies_2y": 4, "housing": "rent"}'),
    ('{}')) v(f),
       LATERAL (SELECT riskguard.score('retail_v', v.f) AS s) x;

SELECT (s).score, round((s).pd::numeric, 4) AS pd, (s).grade, (s).decision, (s).reasons
  FROM (VALUES
    ('{"dti": 0.1, "delinquencies_2y": 0, "months_employed": 96}'::jsonb),
    ('{"dti": 0.62, "delinquencies_2y": 2, "months_employed": 4}'),
    ('{"dti": "NaN", "months_employed": "long"}')) v(f),
       LATERAL (SELECT riskguard.score('retail_logit', v.f) AS s) x;

-- NaN, Infinity, strings where numbers go, unlisted categories: the missing bin
SELECT (riskguard.score('retail_v', '{"annual_income": "NaN", "dti": "Infinity", "delinquencies_2y": "2", "housing": "boat"}')).score
     = (riskguard.score('retail_v', '{}')).score AS same_as_missing;

-- errors, with their detail and hint
\set SHOW_CONTEXT never
SELECT riskguard.create_model('bad', $${"kind": "scorecard", "scaling": {"base_score": 600, "base_odds": 50, "pdo": 0},
  "features": [], "grades": {}, "decisions": []}$$);
SELECT riskguard.create_model('bad', jsonb_set(spec, '{features,0,bins,2,upper}', '50000'))
  FROM riskguard.credit_model WHERE name = 'retail_v';
SELECT riskguard.create_model('bad', jsonb_set(spec, '{features,3,bins,1,values}', '["rent", "own"]'))
  FROM riskguard.credit_model WHERE name = 'retail_v';
SELECT riskguard.score('retail', '{}');
SELECT riskguard.activate_model('retail_v', 9);

-- another session stores version 2; this session's cached version 1 is dropped
SELECT (riskguard.score('retail_v', '{"housing": "rent"}')).version;
\! ${PGBIN:-/usr/lib/postgresql/15/bin}/psql -X -q -o /dev/null -d contrib_regression -c "SELECT riskguard.create_model('retail_v', jsonb_set(spec, '{features,3,bins,1,woe}', '0.2')) FROM riskguard.credit_model WHERE name = 'retail_v' AND version = 1"
SELECT (s).version, (s).score, (s).reasons FROM (SELECT riskguard.score('retail_v', '{"housing": "rent"}') AS s) x;
SELECT riskguard.activate_model('retail_v', 1);
SELECT (s).version, (s).score, (s).reasons FROM (SELECT riskguard.score('retail_v', '{"housing": "rent"}') AS s) x;

-- score() is parallel safe: workers compile the model themselves, also one created by
-- the leader's own uncommitted transaction, and agree with a serial scan (1620251 is the
-- sum computed by test/reference/credit_models.py for these rows)
CREATE TABLE par AS
SELECT i AS id, 20000 + i * 1000 AS annual_income, (i % 7) / 10.0 AS dti, i % 5 AS delinquencies_2y,
       (ARRAY['own', 'rent', 'family'])[1 + i % 3] AS housing
  FROM generate_series(1, 3000) i;
ANALYZE par;
SET force_parallel_mode = on;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT count(*), sum((riskguard.score('retail_v', to_jsonb(p))).score) FROM par p;
SELECT count(*), sum((riskguard.score('retail_v', to_jsonb(p))).score) FROM par p;
BEGIN;
SELECT riskguard.create_model('par_model', spec) FROM riskguard.credit_model WHERE name = 'retail_v' AND version = 1;
SELECT count(*), sum((riskguard.score('par_model', to_jsonb(p))).score) FROM par p;
ROLLBACK;
RESET force_parallel_mode;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SET max_parallel_workers_per_gather = 0;
SELECT count(*), sum((riskguard.score('retail_v', to_jsonb(p))).score) FROM par p;
RESET max_parallel_workers_per_gather;
DROP TABLE par;

-- the scoring trigger
CREATE TABLE loan_application (
  id int PRIMARY KEY,
  income numeric(12,2), dti float8, delinquencies_2y int, housing text,
  credit_score int, credit_pd float8, credit_grade text, credit_decision text, credit_reasons text[]);
SELECT riskguard.attach_scoring('loan_application', 'retail_v', '{"annual_income": "income"}');
INSERT INTO loan_application (id, income, dti, delinquencies_2y, housing) VALUES
  (1, 120000, 0.12, 0, 'own'), (2, 45000, 0.31, 1, 'rent'), (3, 24000, 0.55, 4, 'family'), (4, NULL, NULL, NULL, NULL);
SELECT id, credit_score, round(credit_pd::numeric, 4) AS pd, credit_grade, credit_decision, credit_reasons
  FROM loan_application ORDER BY id;
UPDATE loan_application SET delinquencies_2y = 0, dti = 0.15 WHERE id = 3;
SELECT id, credit_score, round(credit_pd::numeric, 4) AS pd, credit_grade, credit_decision, credit_reasons
  FROM loan_application WHERE id = 3;
SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'loan_application'::regclass;
SELECT riskguard.detach_scoring('loan_application');
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid = 'loan_application'::regclass;
DROP TABLE loan_application;
