-- credit models and scoring: spec validation (RG020 with the JSON path), scoring values
-- against an independent reference, versions and the compiled-model cache, the scoring
-- trigger, privileges
BEGIN;
CREATE EXTENSION riskguard;
SELECT plan(116);

-- the surface
SELECT has_table('riskguard', 'credit_model', 'models are stored in riskguard.credit_model');
SELECT has_type('riskguard', 'credit_score', 'riskguard.credit_score exists');
SELECT has_function('riskguard', 'create_model', ARRAY['text', 'jsonb']);
SELECT has_function('riskguard', 'activate_model', ARRAY['text', 'integer']);
SELECT has_function('riskguard', 'score', ARRAY['text', 'jsonb']);
SELECT has_function('riskguard', 'attach_scoring', ARRAY['regclass', 'text', 'jsonb']);
SELECT has_function('riskguard', 'detach_scoring', ARRAY['regclass']);
SELECT ok(NOT has_function_privilege('public', 'riskguard.create_model(text, jsonb)', 'EXECUTE'),
          'PUBLIC cannot create models');
SELECT ok(has_function_privilege('riskguard_admin', 'riskguard.create_model(text, jsonb)', 'EXECUTE'),
          'riskguard_admin can create models');
SELECT ok(NOT has_function_privilege('public', 'riskguard.activate_model(text, integer)', 'EXECUTE'),
          'PUBLIC cannot activate models');
SELECT ok(NOT has_function_privilege('public', 'riskguard.attach_scoring(regclass, text, jsonb)', 'EXECUTE'),
          'PUBLIC cannot attach scoring');
SELECT ok(has_function_privilege('public', 'riskguard.score(text, jsonb)', 'EXECUTE'),
          'PUBLIC can score');
SELECT ok(NOT has_table_privilege('public', 'riskguard.credit_model', 'SELECT'),
          'PUBLIC cannot read model specifications');
SELECT ok(NOT has_table_privilege('riskguard_admin', 'riskguard.credit_model', 'INSERT'),
          'riskguard_admin changes models only through create_model and activate_model');
SELECT is((SELECT prosecdef FROM pg_proc WHERE oid = 'riskguard.create_model(text, jsonb)'::regprocedure),
          true, 'create_model is SECURITY DEFINER');
SELECT ok((SELECT proconfig @> ARRAY['search_path=pg_catalog, pg_temp'] FROM pg_proc
            WHERE oid = 'riskguard.create_model(text, jsonb)'::regprocedure),
          'create_model pins search_path');
SELECT ok((SELECT count(*) = 1 FROM pg_extension e, unnest(e.extconfig) c
            WHERE e.extname = 'riskguard' AND c = 'riskguard.credit_model'::regclass),
          'credit_model is dumped with the user''s data');

-- scorecard: values computed by test/reference/credit_models.py (python3, independent
-- implementation of the conventions; run it to regenerate the rows below)
SELECT is(riskguard.create_model('ref_scorecard', $spec${"kind": "scorecard", "description": "retail loans, test scorecard", "scaling": {"base_score": 600, "base_odds": 50, "pdo": 20}, "intercept": -2.4, "features": [{"name": "income", "type": "numeric", "coefficient": -0.85, "reason": "INCOME_LOW", "bins": [{"upper": 2500, "woe": -0.61}, {"upper": 5000, "woe": -0.12}, {"upper": 9000, "woe": 0.28}, {"woe": 0.74}], "missing": {"woe": -0.45}}, {"name": "dti", "type": "numeric", "coefficient": -0.92, "reason": "DEBT_HIGH", "bins": [{"upper": 0.2, "woe": 0.55}, {"upper": 0.35, "woe": 0.12}, {"upper": 0.5, "woe": -0.31}, {"woe": -0.88}], "missing": {"woe": -0.2}}, {"name": "delinquencies", "type": "numeric", "coefficient": -1.1, "reason": "DELINQUENT", "bins": [{"upper": 1, "woe": 0.42}, {"upper": 3, "woe": -0.67}, {"woe": -1.35}], "missing": {"woe": 0}}, {"name": "housing", "type": "categorical", "coefficient": -0.7, "reason": "HOUSING", "bins": [{"values": ["own", "mortgage"], "woe": 0.33}, {"values": ["rent"], "woe": -0.21}, {"values": ["family", "other"], "woe": -0.4}], "missing": {"woe": -0.4}}], "grades": {"by": "score", "bands": [{"grade": "A", "min_score": 600}, {"grade": "B", "min_score": 570}, {"grade": "C", "min_score": 540}, {"grade": "D"}]}, "decisions": [{"decision": "approve", "max_pd": 0.04}, {"decision": "review", "max_pd": 0.12}, {"decision": "decline"}]}$spec$), 1, 'model ref_scorecard is created as version 1');
CREATE TEMP TABLE exp_scorecard (id serial, features jsonb, score int, pd float8, grade text, decision text, reasons text[]);
INSERT INTO exp_scorecard (features, score, pd, grade, decision, reasons) VALUES
  ('{"delinquencies": 1, "dti": 0.41, "housing": "family", "income": 800}'::jsonb, 504, 0.359093679556, 'D', 'decline', '{DELINQUENT,INCOME_LOW,DEBT_HIGH,HOUSING}'::text[]),
  ('{"delinquencies": 2, "dti": 0.05, "housing": "rent", "income": 3100}'::jsonb, 543, 0.127861566319, 'C', 'decline', '{DELINQUENT,INCOME_LOW,HOUSING}'::text[]),
  ('{"delinquencies": 5, "dti": 0.62, "housing": "own", "income": 2500}'::jsonb, 494, 0.441666840725, 'D', 'decline', '{DELINQUENT,DEBT_HIGH,INCOME_LOW}'::text[]),
  ('{"delinquencies": 5, "dti": 0.62, "housing": "own", "income": 4999.5}'::jsonb, 494, 0.441666840725, 'D', 'decline', '{DELINQUENT,DEBT_HIGH,INCOME_LOW}'::text[]),
  ('{"delinquencies": 5, "dti": 0.35, "housing": "other", "income": 15000}'::jsonb, 515, 0.273129954769, 'D', 'decline', '{DELINQUENT,DEBT_HIGH,HOUSING}'::text[]),
  ('{"delinquencies": 2, "dti": 0.05, "housing": "rent", "income": 800}'::jsonb, 531, 0.181904091334, 'D', 'decline', '{DELINQUENT,INCOME_LOW,HOUSING}'::text[]),
  ('{"delinquencies": 2, "dti": 0.2, "housing": "own", "income": 15000}'::jsonb, 563, 0.067019542424, 'C', 'review', '{DELINQUENT,DEBT_HIGH}'::text[]),
  ('{"delinquencies": 1, "dti": 0.35, "housing": "other", "income": 3100}'::jsonb, 516, 0.269767992417, 'D', 'decline', '{DELINQUENT,DEBT_HIGH,INCOME_LOW,HOUSING}'::text[]),
  ('{"delinquencies": 0, "dti": 0.27, "housing": "rent", "income": 5000}'::jsonb, 576, 0.044642469970, 'B', 'review', '{DEBT_HIGH,INCOME_LOW,HOUSING}'::text[]),
  ('{"delinquencies": 0, "dti": 0.41, "housing": "rent", "income": 4999.5}'::jsonb, 554, 0.088846598571, 'C', 'review', '{DEBT_HIGH,INCOME_LOW,HOUSING}'::text[]),
  ('{"delinquencies": 1, "dti": 0.62, "housing": "rent", "income": 15000}'::jsonb, 526, 0.208267544704, 'D', 'decline', '{DEBT_HIGH,DELINQUENT,HOUSING}'::text[]),
  ('{"delinquencies": 0, "dti": 0.62, "housing": "mortgage", "income": 1999.99}'::jsonb, 538, 0.146177710935, 'D', 'decline', '{DEBT_HIGH,INCOME_LOW}'::text[]),
  ('{"delinquencies": 0, "dti": 0.62, "housing": "family", "income": 7200}'::jsonb, 545, 0.118115305812, 'C', 'review', '{DEBT_HIGH,HOUSING,INCOME_LOW}'::text[]),
  ('{"delinquencies": 2, "dti": 0.05, "housing": "other", "income": 8999}'::jsonb, 548, 0.106500128411, 'C', 'review', '{DELINQUENT,HOUSING,INCOME_LOW}'::text[]),
  ('{"delinquencies": 1, "dti": 0.35, "housing": "own", "income": 3100}'::jsonb, 531, 0.181413517267, 'D', 'decline', '{DELINQUENT,DEBT_HIGH,INCOME_LOW}'::text[]),
  ('{"delinquencies": 2, "dti": 0.19, "housing": "other", "income": 1999.99}'::jsonb, 527, 0.202539075920, 'D', 'decline', '{DELINQUENT,INCOME_LOW,HOUSING}'::text[]),
  ('{"delinquencies": 2, "dti": 0.2, "housing": "rent", "income": 7200}'::jsonb, 541, 0.134191019956, 'C', 'decline', '{DELINQUENT,DEBT_HIGH,INCOME_LOW,HOUSING}'::text[]),
  ('{"delinquencies": 0, "dti": 0.62, "housing": "rent", "income": 15000}'::jsonb, 560, 0.073481523100, 'C', 'review', '{DEBT_HIGH,HOUSING}'::text[]),
  ('{"delinquencies": 0, "dti": 0.35, "housing": "other", "income": 15000}'::jsonb, 572, 0.050892814178, 'B', 'review', '{DEBT_HIGH,HOUSING}'::text[]),
  ('{"delinquencies": 0, "dti": 0.2, "housing": "rent", "income": 800}'::jsonb, 554, 0.090553115940, 'C', 'review', '{INCOME_LOW,DEBT_HIGH,HOUSING}'::text[]),
  ('{"delinquencies": 5, "dti": 0.35, "housing": "family", "income": 1999.99}'::jsonb, 482, 0.542075259895, 'D', 'decline', '{DELINQUENT,INCOME_LOW,DEBT_HIGH,HOUSING}'::text[]),
  ('{"delinquencies": 5, "dti": 0.35, "housing": "rent", "income": 5000}'::jsonb, 508, 0.327216841810, 'D', 'decline', '{DELINQUENT,DEBT_HIGH,INCOME_LOW,HOUSING}'::text[]),
  ('{"delinquencies": 0, "dti": 0.19, "housing": "other", "income": 7200}'::jsonb, 583, 0.034689927411, 'B', 'approve', '{HOUSING,INCOME_LOW}'::text[]),
  ('{"delinquencies": 1, "dti": 0.41, "housing": "rent", "income": 3100}'::jsonb, 520, 0.244382624637, 'D', 'decline', '{DELINQUENT,DEBT_HIGH,INCOME_LOW,HOUSING}'::text[]),
  ('{}'::jsonb, 532, 0.174581334155, 'D', 'decline', '{INCOME_LOW,DEBT_HIGH,HOUSING,DELINQUENT}'::text[]),
  ('{"delinquencies": null, "dti": null, "housing": null, "income": null}'::jsonb, 532, 0.174581334155, 'D', 'decline', '{INCOME_LOW,DEBT_HIGH,HOUSING,DELINQUENT}'::text[]),
  ('{"delinquencies": "-Infinity", "dti": "Infinity", "housing": "boat", "income": "NaN"}'::jsonb, 532, 0.174581334155, 'D', 'decline', '{INCOME_LOW,DEBT_HIGH,HOUSING,DELINQUENT}'::text[]),
  ('{"delinquencies": [1], "dti": true, "housing": 3, "income": "5000"}'::jsonb, 532, 0.174581334155, 'D', 'decline', '{INCOME_LOW,DEBT_HIGH,HOUSING,DELINQUENT}'::text[]),
  ('{"delinquencies": 0.999, "dti": -0.1, "housing": {"x": 1}, "income": -250}'::jsonb, 561, 0.071127331118, 'C', 'review', '{INCOME_LOW,HOUSING}'::text[]),
  ('{"delinquencies": 40, "dti": 12, "housing": "own", "income": 1000000000.0}'::jsonb, 515, 0.275798328620, 'D', 'decline', '{DELINQUENT,DEBT_HIGH}'::text[]),
  ('{"delinquencies": 0, "dti": 0.05, "extra": "ignored", "housing": "own", "income": 15000}'::jsonb, 609, 0.014371959377, 'A', 'approve', '{}'::text[]);
SELECT results_eq(
  $$SELECT e.id, s.model, s.version, s.score, s.grade, s.decision, s.reasons
      FROM exp_scorecard e, riskguard.score('ref_scorecard', e.features) s ORDER BY e.id$$,
  $$SELECT e.id, 'ref_scorecard'::text, 1, e.score, e.grade, e.decision, e.reasons FROM exp_scorecard e ORDER BY e.id$$,
  'ref_scorecard: scores, grades, decisions and reasons match the reference');
SELECT cmp_ok((SELECT max(abs(s.pd - e.pd)) FROM exp_scorecard e, riskguard.score('ref_scorecard', e.features) s),
  '<', 1e-11::float8, 'ref_scorecard: PDs match the reference within 1e-11');

-- points: values computed by test/reference/credit_models.py (python3, independent
-- implementation of the conventions; run it to regenerate the rows below)
SELECT is(riskguard.create_model('ref_points', $spec${"kind": "scorecard", "scaling": {"base_score": 500, "base_odds": 20, "pdo": 40}, "features": [{"name": "months_employed", "type": "numeric", "reason": "SHORT_EMPLOYMENT", "bins": [{"upper": 6, "points": 20}, {"upper": 24, "points": 95}, {"upper": 60, "points": 140}, {"points": 165}], "missing": {"points": 40}}, {"name": "inquiries", "type": "numeric", "reason": "MANY_INQUIRIES", "bins": [{"upper": 1, "points": 180}, {"upper": 3, "points": 150}, {"upper": 6, "points": 110}, {"points": 60}], "missing": {"points": 120}}, {"name": "purpose", "type": "categorical", "reason": "PURPOSE", "bins": [{"values": ["education", "home_improvement"], "points": 190}, {"values": ["car", "medical"], "points": 160}, {"values": ["debt_consolidation"], "points": 130}], "missing": {"points": 100}}], "grades": {"by": "pd", "bands": [{"grade": "prime", "max_pd": 0.05}, {"grade": "near_prime", "max_pd": 0.15}, {"grade": "subprime"}]}, "decisions": [{"decision": "approve", "max_pd": 0.08}, {"decision": "review", "max_pd": 0.2}, {"decision": "decline"}]}$spec$), 1, 'model ref_points is created as version 1');
CREATE TEMP TABLE exp_points (id serial, features jsonb, score int, pd float8, grade text, decision text, reasons text[]);
INSERT INTO exp_points (features, score, pd, grade, decision, reasons) VALUES
  ('{"inquiries": 1, "months_employed": 36, "purpose": "debt_consolidation"}'::jsonb, 420, 0.166666666667, 'subprime', 'review', '{PURPOSE,MANY_INQUIRIES,SHORT_EMPLOYMENT}'::text[]),
  ('{"inquiries": 0, "months_employed": 0, "purpose": "wedding"}'::jsonb, 300, 0.615384615385, 'subprime', 'decline', '{SHORT_EMPLOYMENT,PURPOSE}'::text[]),
  ('{"inquiries": 2, "months_employed": 3, "purpose": "wedding"}'::jsonb, 270, 0.729061061863, 'subprime', 'decline', '{SHORT_EMPLOYMENT,PURPOSE,MANY_INQUIRIES}'::text[]),
  ('{"inquiries": 5, "months_employed": 0, "purpose": "car"}'::jsonb, 290, 0.655496886308, 'subprime', 'decline', '{SHORT_EMPLOYMENT,MANY_INQUIRIES,PURPOSE}'::text[]),
  ('{"inquiries": 0, "months_employed": 0, "purpose": "debt_consolidation"}'::jsonb, 330, 0.487538392164, 'subprime', 'decline', '{SHORT_EMPLOYMENT,PURPOSE}'::text[]),
  ('{"inquiries": 0, "months_employed": 59, "purpose": "car"}'::jsonb, 480, 0.066040882531, 'near_prime', 'approve', '{PURPOSE,SHORT_EMPLOYMENT}'::text[]),
  ('{"inquiries": 5, "months_employed": 3, "purpose": "debt_consolidation"}'::jsonb, 260, 0.761904761905, 'subprime', 'decline', '{SHORT_EMPLOYMENT,MANY_INQUIRIES,PURPOSE}'::text[]),
  ('{"inquiries": 9, "months_employed": 0, "purpose": "wedding"}'::jsonb, 180, 0.927536231884, 'subprime', 'decline', '{SHORT_EMPLOYMENT,MANY_INQUIRIES,PURPOSE}'::text[]),
  ('{"inquiries": 1, "months_employed": 3, "purpose": "home_improvement"}'::jsonb, 360, 0.361302095514, 'subprime', 'decline', '{SHORT_EMPLOYMENT,MANY_INQUIRIES}'::text[]),
  ('{"inquiries": 5, "months_employed": 0, "purpose": "wedding"}'::jsonb, 230, 0.843302851407, 'subprime', 'decline', '{SHORT_EMPLOYMENT,PURPOSE,MANY_INQUIRIES}'::text[]),
  ('{}'::jsonb, 260, 0.761904761905, 'subprime', 'decline', '{SHORT_EMPLOYMENT,PURPOSE,MANY_INQUIRIES}'::text[]),
  ('{"inquiries": 0, "months_employed": 240, "purpose": "education"}'::jsonb, 535, 0.026539164222, 'prime', 'approve', '{}'::text[]);
SELECT results_eq(
  $$SELECT e.id, s.model, s.version, s.score, s.grade, s.decision, s.reasons
      FROM exp_points e, riskguard.score('ref_points', e.features) s ORDER BY e.id$$,
  $$SELECT e.id, 'ref_points'::text, 1, e.score, e.grade, e.decision, e.reasons FROM exp_points e ORDER BY e.id$$,
  'ref_points: scores, grades, decisions and reasons match the reference');
SELECT cmp_ok((SELECT max(abs(s.pd - e.pd)) FROM exp_points e, riskguard.score('ref_points', e.features) s),
  '<', 1e-11::float8, 'ref_points: PDs match the reference within 1e-11');

-- logistic: values computed by test/reference/credit_models.py (python3, independent
-- implementation of the conventions; run it to regenerate the rows below)
SELECT is(riskguard.create_model('ref_logistic', $spec${"kind": "logistic", "scaling": {"base_score": 600, "base_odds": 30, "pdo": 25}, "intercept": -3.1, "features": [{"name": "dti", "coefficient": 2.3, "reason": "DEBT_HIGH", "missing": 0.35, "best": 0}, {"name": "income_k", "coefficient": -0.012, "reason": "INCOME_LOW", "missing": 40, "best": 150}, {"name": "delinquencies", "coefficient": 0.45, "reason": "DELINQUENT", "missing": 0, "best": 0}, {"name": "age", "coefficient": -0.01, "reason": "AGE", "missing": 40}], "grades": {"by": "score", "bands": [{"grade": "A", "min_score": 640}, {"grade": "B", "min_score": 600}, {"grade": "C"}]}, "decisions": [{"decision": "approve", "max_pd": 0.05}, {"decision": "review", "max_pd": 0.1}, {"decision": "decline"}]}$spec$), 1, 'model ref_logistic is created as version 1');
CREATE TEMP TABLE exp_logistic (id serial, features jsonb, score int, pd float8, grade text, decision text, reasons text[]);
INSERT INTO exp_logistic (features, score, pd, grade, decision, reasons) VALUES
  ('{"age": 49, "delinquencies": 2, "dti": 0.362, "income_k": 128.4}'::jsonb, 600, 0.032351766524, 'B', 'approve', '{DELINQUENT,DEBT_HIGH,INCOME_LOW}'::text[]),
  ('{"age": 53, "delinquencies": 0, "dti": 0.406, "income_k": 134.2}'::jsonb, 633, 0.013300026333, 'B', 'approve', '{DEBT_HIGH,INCOME_LOW}'::text[]),
  ('{"age": 27, "delinquencies": 0, "dti": 0.381, "income_k": 139.7}'::jsonb, 628, 0.015215622725, 'B', 'approve', '{DEBT_HIGH,INCOME_LOW}'::text[]),
  ('{"age": 65, "delinquencies": 4, "dti": 0.357, "income_k": 41.5}'::jsonb, 536, 0.164255472822, 'C', 'decline', '{DELINQUENT,INCOME_LOW,DEBT_HIGH}'::text[]),
  ('{"age": 49, "delinquencies": 2, "dti": 0.508, "income_k": 135.9}'::jsonb, 591, 0.040996815601, 'C', 'approve', '{DEBT_HIGH,DELINQUENT,INCOME_LOW}'::text[]),
  ('{"age": 60, "delinquencies": 0, "dti": 0.523, "income_k": 140.0}'::jsonb, 628, 0.015111089133, 'B', 'approve', '{DEBT_HIGH,INCOME_LOW}'::text[]),
  ('{"age": 23, "delinquencies": 0, "dti": 0.012, "income_k": 121.9}'::jsonb, 649, 0.008449186762, 'A', 'approve', '{INCOME_LOW,DEBT_HIGH}'::text[]),
  ('{"age": 70, "delinquencies": 0, "dti": 0.152, "income_k": 62.3}'::jsonb, 629, 0.014803171482, 'B', 'approve', '{INCOME_LOW,DEBT_HIGH}'::text[]),
  ('{"age": 54, "delinquencies": 0, "dti": 0.371, "income_k": 103.6}'::jsonb, 623, 0.017465636445, 'B', 'approve', '{DEBT_HIGH,INCOME_LOW}'::text[]),
  ('{"age": 63, "delinquencies": 0, "dti": 0.187, "income_k": 73.2}'::jsonb, 628, 0.015093240228, 'B', 'approve', '{INCOME_LOW,DEBT_HIGH}'::text[]),
  ('{}'::jsonb, 592, 0.040117431958, 'C', 'approve', '{INCOME_LOW,DEBT_HIGH}'::text[]),
  ('{"age": 30, "delinquencies": null, "dti": "NaN", "income_k": "high"}'::jsonb, 588, 0.044150340558, 'C', 'approve', '{INCOME_LOW,DEBT_HIGH}'::text[]);
SELECT results_eq(
  $$SELECT e.id, s.model, s.version, s.score, s.grade, s.decision, s.reasons
      FROM exp_logistic e, riskguard.score('ref_logistic', e.features) s ORDER BY e.id$$,
  $$SELECT e.id, 'ref_logistic'::text, 1, e.score, e.grade, e.decision, e.reasons FROM exp_logistic e ORDER BY e.id$$,
  'ref_logistic: scores, grades, decisions and reasons match the reference');
SELECT cmp_ok((SELECT max(abs(s.pd - e.pd)) FROM exp_logistic e, riskguard.score('ref_logistic', e.features) s),
  '<', 1e-11::float8, 'ref_logistic: PDs match the reference within 1e-11');

-- ---- spec validation: RG020 naming the JSON path of the fault ----
CREATE TEMP TABLE good (spec jsonb);
INSERT INTO good VALUES ($${"kind": "scorecard",
  "scaling": {"base_score": 600, "base_odds": 50, "pdo": 20},
  "features": [
    {"name": "a", "type": "numeric", "reason": "A",
     "bins": [{"upper": 1, "points": 150}, {"upper": 5, "points": 170}, {"points": 190}],
     "missing": {"points": 100}},
    {"name": "b", "type": "categorical", "reason": "B",
     "bins": [{"values": ["x"], "points": 160}, {"values": ["y", "z"], "points": 180}],
     "missing": {"points": 100}},
    {"name": "c", "type": "numeric", "reason": "C",
     "bins": [{"upper": 0, "points": 150}, {"upper": 10, "points": 160}, {"points": 170}],
     "missing": {"points": 100}}],
  "grades": {"by": "score", "bands": [{"grade": "A", "min_score": 650}, {"grade": "B"}]},
  "decisions": [{"decision": "approve", "max_pd": 0.05}, {"decision": "review", "max_pd": 0.2},
                {"decision": "decline"}]}$$);
-- bad(path, value): the good spec with one value replaced
CREATE FUNCTION pg_temp.bad(p text[], v jsonb) RETURNS jsonb
  LANGUAGE sql AS $$ SELECT jsonb_set(spec, p, v) FROM good $$;
CREATE FUNCTION pg_temp.without(p text[]) RETURNS jsonb
  LANGUAGE sql AS $$ SELECT spec #- p FROM good $$;

SELECT is(riskguard.create_model('good', (SELECT spec FROM good)), 1, 'the good spec is accepted');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.without('{scaling}'))$$,
  'RG020', 'invalid model specification at $.scaling', 'missing scaling');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{scaling,pdo}', '0'))$$,
  'RG020', 'invalid model specification at $.scaling.pdo', 'pdo = 0');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{scaling,pdo}', '-20'))$$,
  'RG020', 'invalid model specification at $.scaling.pdo', 'pdo < 0');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{scaling,pdo}', '"20"'))$$,
  'RG020', 'invalid model specification at $.scaling.pdo', 'pdo given as a string');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{scaling,base_odds}', '0'))$$,
  'RG020', 'invalid model specification at $.scaling.base_odds', 'base_odds = 0');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{features,2,bins,1,upper}', '-1'))$$,
  'RG020', 'invalid model specification at $.features[2].bins[1].upper', 'unsorted bins');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{features,0,bins,1,upper}', '1'))$$,
  'RG020', 'invalid model specification at $.features[0].bins[1].upper', 'overlapping bins (same upper bound)');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{features,1,bins,1,values}', '["y", "x"]'))$$,
  'RG020', 'invalid model specification at $.features[1].bins[1].values[1]', 'overlapping categorical bins');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{features,0,bins,2,upper}', '100'))$$,
  'RG020', 'invalid model specification at $.features[0].bins[2].upper', 'the last bin is not open');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.without('{features,0,bins,0,upper}'))$$,
  'RG020', 'invalid model specification at $.features[0].bins[0].upper', 'an open bin that is not the last');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{features,0,bins}', '[]'))$$,
  'RG020', 'invalid model specification at $.features[0].bins', 'no bins');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.without('{features,1,bins}'))$$,
  'RG020', 'invalid model specification at $.features[1].bins', 'bins missing');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{features}', '[]'))$$,
  'RG020', 'invalid model specification at $.features', 'no features');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{features,2,name}', '"a"'))$$,
  'RG020', 'invalid model specification at $.features[2].name', 'duplicate features');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.without('{features,0,missing}'))$$,
  'RG020', 'invalid model specification at $.features[0].missing', 'no missing bin');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.without('{features,1,reason}'))$$,
  'RG020', 'invalid model specification at $.features[1].reason', 'no reason code');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{features,0,type}', '"ordinal"'))$$,
  'RG020', 'invalid model specification at $.features[0].type', 'unrecognized feature type');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{features,0,bins,0}', '{"uper": 1, "points": 10}'))$$,
  'RG020', 'invalid model specification at $.features[0].bins[0].uper', 'a misspelt key');
-- bins may keep the statistics woe_bins and woe_categories write (checked, not scored)
SELECT is(riskguard.validate_model(pg_temp.bad('{features,0,bins,1}',
            '{"upper": 5, "count": 120, "goods": 110, "bads": 10, "bad_rate": 0.0833, "points": 170, "iv": 0.012}')),
  'scorecard', 'a numeric bin may carry count, goods, bads, bad_rate and iv');
SELECT is(riskguard.validate_model(jsonb_set(pg_temp.bad('{features,1,bins,0}',
            '{"values": ["x"], "count": 3, "goods": 2, "bads": 1, "bad_rate": 0.3333, "points": 160, "iv": -0.2}'),
            '{features,1,missing}', '{"count": 0, "goods": 0, "bads": 0, "bad_rate": null, "points": 100, "iv": 0}')),
  'scorecard', 'a categorical bin and the missing bin may carry them too; bad_rate may be null');
SELECT riskguard.create_model('good_stats', pg_temp.bad('{features,0,bins,1}',
         '{"upper": 5, "count": 1, "goods": 1, "bads": 0, "bad_rate": 0, "points": 170, "iv": 99}')) \g /dev/null
SELECT results_eq(
  $$SELECT s.score, s.pd, s.grade, s.decision, s.reasons FROM riskguard.score('good_stats', '{"a": 3, "b": "x", "c": 20}') s$$,
  $$SELECT s.score, s.pd, s.grade, s.decision, s.reasons FROM riskguard.score('good', '{"a": 3, "b": "x", "c": 20}') s$$,
  'the statistics play no part in scoring');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{features,0,bins,1,count}', '"many"'))$$,
  'RG020', 'invalid model specification at $.features[0].bins[1].count', 'a non-numeric count');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{features,1,bins,0,iv}', '[0.1]'))$$,
  'RG020', 'invalid model specification at $.features[1].bins[0].iv', 'a non-numeric iv in a categorical bin');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{features,0,missing,goods}', 'null'))$$,
  'RG020', 'invalid model specification at $.features[0].missing.goods', 'a null goods (only bad_rate may be null)');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{features,0,bins,1,bad_rate}', '"8%"'))$$,
  'RG020', 'invalid model specification at $.features[0].bins[1].bad_rate', 'a bad_rate given as a string');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{features,0,bins,1,colour}', '"red"'))$$,
  'RG020', 'invalid model specification at $.features[0].bins[1].colour', 'any other key in a bin is still refused');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{features,1,missing,colour}', '"red"'))$$,
  'RG020', 'invalid model specification at $.features[1].missing.colour', 'and in the missing bin');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{features,0,bins,1,points}', '"many"'))$$,
  'RG020', 'invalid model specification at $.features[0].bins[1].points', 'non-numeric points');
SELECT throws_ok($$SELECT riskguard.create_model('x', jsonb_set(spec, '{features,0,bins,1,woe}', '"high"'))
                     FROM riskguard.credit_model WHERE name = 'ref_scorecard'$$,
  'RG020', 'invalid model specification at $.features[0].bins[1].woe', 'non-numeric woe');
SELECT throws_ok($$SELECT riskguard.create_model('x', spec #- '{features,2,coefficient}')
                     FROM riskguard.credit_model WHERE name = 'ref_scorecard'$$,
  'RG020', 'invalid model specification at $.features[2].coefficient', 'woe without a coefficient');
SELECT throws_ok($$SELECT riskguard.create_model('x', spec #- '{intercept}')
                     FROM riskguard.credit_model WHERE name = 'ref_scorecard'$$,
  'RG020', 'invalid model specification at $.intercept', 'woe without an intercept');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{features,2,bins,1}', '{"upper": 10, "woe": 0.2}'))$$,
  'RG020', 'invalid model specification at $.features[2].bins[1].woe', 'woe and points mixed');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{grades,bands,0}', '{"grade": "A", "max_pd": 0.1}'))$$,
  'RG020', 'invalid model specification at $.grades.bands[0].max_pd', 'a pd band in grades by score');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{grades,by}', '"rating"'))$$,
  'RG020', 'invalid model specification at $.grades.by', 'unrecognized grade basis');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{grades,bands}', '[{"grade": "A", "min_score": 600}, {"grade": "B", "min_score": 650}, {"grade": "C"}]'))$$,
  'RG020', 'invalid model specification at $.grades.bands[1].min_score', 'grade bands out of order');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.without('{grades}'))$$,
  'RG020', 'invalid model specification at $.grades', 'no grades');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{decisions,0,decision}', '"maybe"'))$$,
  'RG020', 'invalid model specification at $.decisions[0].decision', 'unrecognized decision');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{decisions,1,max_pd}', '0.01'))$$,
  'RG020', 'invalid model specification at $.decisions[1].max_pd', 'decision bands out of order');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{decisions,0,max_pd}', '1.5'))$$,
  'RG020', 'invalid model specification at $.decisions[0].max_pd', 'a PD bound above 1');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{decisions,2,max_pd}', '1'))$$,
  'RG020', 'invalid model specification at $.decisions[2].max_pd', 'the last decision band is not open');
SELECT throws_ok($$SELECT riskguard.create_model('x', pg_temp.bad('{kind}', '"tree"'))$$,
  'RG020', 'invalid model specification at $.kind', 'unrecognized kind');
SELECT throws_ok($$SELECT riskguard.create_model('x', '[1, 2]')$$,
  'RG020', 'invalid model specification at $', 'a spec that is not an object');
SELECT throws_ok($$SELECT riskguard.create_model('x', jsonb_set(spec, '{features,1,coefficient}', '"0.4"'))
                     FROM riskguard.credit_model WHERE name = 'ref_logistic'$$,
  'RG020', 'invalid model specification at $.features[1].coefficient', 'logistic: non-numeric coefficient');
SELECT throws_ok($$SELECT riskguard.create_model('x', jsonb_set(spec, '{features,1,bins}', '[]'))
                     FROM riskguard.credit_model WHERE name = 'ref_logistic'$$,
  'RG020', 'invalid model specification at $.features[1].bins', 'logistic: features have no bins');
SELECT throws_ok($$SELECT riskguard.create_model('', (SELECT spec FROM good))$$,
  '22023', NULL, 'an empty model name');
SELECT throws_ok($$INSERT INTO riskguard.credit_model (name, version, kind, spec)
                   SELECT 'direct', 1, 'scorecard', pg_temp.bad('{scaling,pdo}', '0')$$,
  'RG020', 'invalid model specification at $.scaling.pdo', 'the table itself refuses invalid specs');
SELECT is(riskguard.validate_model((SELECT spec FROM good)), 'scorecard', 'validate_model returns the kind');

-- ---- bad inputs to score ----
SELECT throws_ok($$SELECT riskguard.score('no_such_model', '{}')$$,
  'RG021', 'model "no_such_model" does not exist or has no active version', 'unknown model');
SELECT throws_ok($$SELECT riskguard.score('good', '[1, 2]')$$, '22023', NULL, 'features that are not an object');
SELECT throws_ok($$SELECT riskguard.score('good', '42')$$, '22023', NULL, 'features that are a scalar');
SELECT is(riskguard.score('good', NULL), NULL, 'NULL features score NULL (STRICT)');
SELECT is((riskguard.score('good', '{"a": "NaN", "b": 7, "c": "Infinity"}')).score,
          (riskguard.score('good', '{}')).score, 'NaN, Infinity and wrong types score as missing');
SELECT is((riskguard.score('good', '{"a": "3", "b": ["x"], "c": {"v": 1}}')).score,
          (riskguard.score('good', '{}')).score, 'strings where numbers go, arrays and objects are missing');
SELECT is((riskguard.score('good', '{"a": 1, "b": "y", "c": 0}')).score, 170 + 180 + 160,
          'bounds are exclusive: a value equal to a bin''s upper bound falls in the next bin');
SELECT is(riskguard.create_model('lg_nomissing', jsonb_set(spec, '{features,3}', '{"name": "age", "coefficient": -0.01, "reason": "AGE"}'))
            , 1, 'a logistic feature without a value for missing is valid')
  FROM riskguard.credit_model WHERE name = 'ref_logistic';
SELECT throws_ok($$SELECT riskguard.score('lg_nomissing', '{"dti": 0.3}')$$,
  '22004', 'feature "age" of model "lg_nomissing" is missing', 'logistic: a missing feature without a value for missing');
SELECT is((riskguard.score('lg_nomissing', '{"age": 50}')).version, 1, 'logistic: the other features use their missing values');
SELECT throws_ok($$SELECT riskguard.score('lg_nomissing', '{"age": 1e300}')$$,
  '22003', NULL, 'a score out of range for integer');

-- ---- versions and the compiled-model cache ----
SELECT is((riskguard.score('good', '{"a": 7, "b": "z", "c": 11}')).score, 190 + 180 + 170, 'version 1 scores');
SELECT is(riskguard.create_model('good', pg_temp.bad('{features,0,bins,2,points}', '130')), 2,
          'a new version of a model gets the next number');
SELECT results_eq($$SELECT version, score FROM riskguard.score('good', '{"a": 7, "b": "z", "c": 11}')$$,
          $$VALUES (2, 130 + 180 + 170)$$, 'the next score in the same session uses the new version');
SELECT results_eq($$SELECT version, active FROM riskguard.credit_model WHERE name = 'good' ORDER BY version$$,
                  $$VALUES (1, false), (2, true)$$, 'only the new version is active');
SELECT lives_ok($$SELECT riskguard.activate_model('good', 1)$$, 'activate an older version');
SELECT is((riskguard.score('good', '{"a": 7, "b": "z", "c": 11}')).version, 1,
          'after activate_model the older version scores again');
SELECT results_eq(
  $$SELECT action, target, payload ->> 'version', payload ->> 'previous_version', actor = session_user::text
      FROM riskguard.audit_log WHERE target = 'good' ORDER BY seq$$,
  $$VALUES ('create_model', 'good', '1', NULL, true), ('create_model', 'good', '2', NULL, true),
           ('activate_model', 'good', '1', '2', true)$$,
  'create_model and activate_model are recorded in the control audit log');
SELECT is((SELECT payload ->> 'spec_sha256' FROM riskguard.audit_log WHERE target = 'good' ORDER BY seq LIMIT 1),
          encode(sha256(convert_to((SELECT spec FROM good)::text, 'UTF8')), 'hex'),
          'the audit entry binds the stored specification by its SHA-256');
SELECT throws_ok($$SELECT riskguard.activate_model('good', 3)$$, 'RG021', 'model "good" has no version 3',
          'activating a version that does not exist');
SELECT throws_ok($$SELECT riskguard.activate_model('nothing', 1)$$, 'RG021', NULL,
          'activating a model that does not exist');
SAVEPOINT before_rollback;
SELECT riskguard.activate_model('good', 2);
SELECT is((riskguard.score('good', '{}')).version, 2, 'inside a subtransaction version 2 scores');
ROLLBACK TO SAVEPOINT before_rollback;
SELECT is((riskguard.score('good', '{}')).version, 1, 'after rolling it back version 1 scores again');

-- ---- the scoring trigger ----
CREATE TABLE app (
  id serial PRIMARY KEY,
  income numeric(12,2), dti float8, delinquencies int, home text,
  credit_score int, credit_pd float8, credit_grade text, credit_decision text, credit_reasons text[]);
SELECT throws_ok($$SELECT riskguard.attach_scoring('app', 'ref_scorecard')$$, '42703',
  'column "housing" of relation "public.app" does not exist', 'attach: a feature without a column');
SELECT throws_ok($$SELECT riskguard.attach_scoring('app', 'ref_scorecard', '{"housing": "home", "age": "x"}')$$, '22023',
  'feature_columns names "age", which is not a feature of model "ref_scorecard"', 'attach: mapping an unknown feature');
SELECT throws_ok($$SELECT riskguard.attach_scoring('app', 'no_model', '{}')$$, 'RG021', NULL, 'attach: unknown model');
ALTER TABLE app RENAME COLUMN credit_pd TO pd;
SELECT throws_ok($$SELECT riskguard.attach_scoring('app', 'ref_scorecard', '{"housing": "home"}')$$, '42703',
  'column "credit_pd" of relation "public.app" does not exist', 'attach: an output column missing');
ALTER TABLE app RENAME COLUMN pd TO credit_pd;
ALTER TABLE app ALTER COLUMN credit_score TYPE numeric;
SELECT throws_ok($$SELECT riskguard.attach_scoring('app', 'ref_scorecard', '{"housing": "home"}')$$, '42804',
  'column "credit_score" of relation "public.app" is of type numeric, not integer', 'attach: an output column of the wrong type');
ALTER TABLE app ALTER COLUMN credit_score TYPE int;
ALTER TABLE app ALTER COLUMN delinquencies TYPE text;
SELECT throws_ok($$SELECT riskguard.attach_scoring('app', 'ref_scorecard', '{"housing": "home"}')$$, '42804',
  'column "delinquencies" of relation "public.app" is of type text, but feature "delinquencies" of model "ref_scorecard" is numeric',
  'attach: a numeric feature read from a text column');
ALTER TABLE app ALTER COLUMN delinquencies TYPE int USING delinquencies::int;
SELECT lives_ok($$SELECT riskguard.attach_scoring('app', 'ref_scorecard', '{"housing": "home"}')$$, 'attach scoring');
INSERT INTO app (income, dti, delinquencies, home) VALUES
  (800, 0.41, 1, 'family'), (15000, 0.05, 0, 'own'), (NULL, 'NaN', NULL, NULL), (5000, 'Infinity', 2, 'boat');
SELECT results_eq(
  $$SELECT credit_score, credit_pd, credit_grade, credit_decision, credit_reasons FROM app ORDER BY id$$,
  $$SELECT s.score, s.pd, s.grade, s.decision, s.reasons FROM app a,
      riskguard.score('ref_scorecard', jsonb_build_object('income', a.income, 'dti', a.dti,
                      'delinquencies', a.delinquencies, 'housing', a.home)) s ORDER BY a.id$$,
  'the trigger scores inserted rows as score() does');
SELECT results_eq($$SELECT credit_score, credit_decision FROM app WHERE id = 1$$,
                  $$VALUES (504, 'decline')$$, 'an inserted row carries the reference score');
UPDATE app SET income = 15000, dti = 0.05, delinquencies = 0, home = 'own' WHERE id = 1;
SELECT results_eq($$SELECT credit_score, credit_grade, credit_decision, credit_reasons FROM app WHERE id = 1$$,
                  $$SELECT credit_score, credit_grade, credit_decision, credit_reasons FROM app WHERE id = 2$$,
                  'an updated row is scored again');
SELECT riskguard.create_model('ref_scorecard', jsonb_set(spec, '{features,3,bins,0,woe}', '0.9'))
  FROM riskguard.credit_model WHERE name = 'ref_scorecard' AND version = 1;
INSERT INTO app (income, dti, delinquencies, home) VALUES (15000, 0.05, 0, 'own');
SELECT cmp_ok((SELECT credit_score FROM app WHERE id = 5), '>', (SELECT credit_score FROM app WHERE id = 2),
              'rows written after a new version are scored with it');
ALTER TABLE app DROP COLUMN home;
SELECT throws_ok($$INSERT INTO app (income) VALUES (1)$$, '42703', 'column "home" of relation "public.app" does not exist',
                 'a feature column dropped after attaching is a clear error');
ALTER TABLE app ADD COLUMN home text;
SELECT lives_ok($$SELECT riskguard.detach_scoring('app')$$, 'detach scoring');
UPDATE app SET income = 800 WHERE id = 2;
SELECT is((SELECT credit_score FROM app WHERE id = 2), (SELECT credit_score FROM app WHERE id = 1),
          'after detaching, rows keep their scores and are no longer rescored');
SELECT throws_ok($$SELECT riskguard.detach_scoring('app')$$, '42704', NULL, 'detaching twice');

-- ---- roles ----
CREATE ROLE rg_scoring_admin_t NOLOGIN IN ROLE riskguard_admin;
CREATE ROLE rg_scoring_clerk_t NOLOGIN;
GRANT USAGE ON SCHEMA public TO rg_scoring_admin_t, rg_scoring_clerk_t;
GRANT SELECT ON good TO rg_scoring_admin_t, rg_scoring_clerk_t;
SET ROLE rg_scoring_admin_t;
SELECT is(riskguard.create_model('by_admin', (SELECT spec FROM good)), 1, 'riskguard_admin creates a model');
SELECT throws_ok($$INSERT INTO riskguard.credit_model (name, version, kind, spec) SELECT 'sneak', 1, 'scorecard', spec FROM good$$,
  '42501', NULL, 'riskguard_admin cannot write the model table directly');
RESET ROLE;
SET ROLE rg_scoring_clerk_t;
SELECT throws_ok($$SELECT riskguard.create_model('by_clerk', (SELECT spec FROM good))$$, '42501', NULL,
  'a role without riskguard_admin cannot create models');
SELECT is((riskguard.score('by_admin', '{"a": 7}')).version, 1, 'any role can score');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
