-- credit statistics: results against reference values computed outside PostgreSQL by
-- test/reference/credit_stats.py (numpy/scipy, mpmath at 40 digits for the normal
-- distribution, and the WoE binning written again in Python) on
-- test/data/credit_sample.csv; parallel equivalence; every bad input's SQLSTATE;
-- markings.  Loads the sample with server-side COPY from $RG_TOP (set by test/run).
BEGIN;
CREATE EXTENSION riskguard;
SELECT plan(95);

-- |got - want| <= tol * |want|
CREATE FUNCTION pg_temp.near(got float8, want float8, tol float8) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$ SELECT abs(got - want) <= tol * abs(want) $$;
CREATE FUNCTION pg_temp.all_near(got float8[], want float8[], tol float8) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT cardinality(got) = cardinality(want)
         AND bool_and(abs(g - w) <= tol * abs(w))
    FROM unnest(got, want) AS u(g, w) $$;
CREATE FUNCTION pg_temp.plan_of(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE 'EXPLAIN (COSTS OFF) ' || q;
END $$;

CREATE TABLE credit_sample (
  id int PRIMARY KEY, age float8, income float8, dti float8, months_employed float8,
  delinquencies float8, credit_lines float8, utilization float8, home text, bad boolean);
\getenv top RG_TOP
\set csv :top '/test/data/credit_sample.csv'
COPY credit_sample FROM :'csv' WITH (FORMAT csv, HEADER true);
ANALYZE credit_sample;

-- fit_logistic against a Newton-Raphson fit in numpy (std errors from the inverse Hessian)
CREATE TEMP TABLE fit AS
SELECT (riskguard.fit_logistic(bad, ARRAY[age, income, dti, months_employed, delinquencies,
                                          credit_lines, utilization])).*
  FROM credit_sample;
SELECT is((SELECT n FROM fit), 4748::bigint, 'fit_logistic uses the 4748 complete rows');
SELECT is((SELECT skipped FROM fit), 252::bigint, 'fit_logistic skips and counts the 252 rows with a NULL');
SELECT ok((SELECT converged FROM fit), 'the fit converges');
SELECT ok((SELECT iterations BETWEEN 3 AND 10 FROM fit), 'in a handful of Newton steps');
SELECT ok(pg_temp.all_near((SELECT coef FROM fit),
  ARRAY[-1.86467574115481, -0.0191383275112311, -0.0941190975272963, 2.30395286410163,
        -0.00809558572198793, 0.47781340401907, 0.0146757820010209, 1.6987309367732], 1e-9),
  'coefficients match the reference within 1e-9');
SELECT ok(pg_temp.all_near((SELECT std_err FROM fit),
  ARRAY[0.287572688173957, 0.00475683795116605, 0.0117846016453, 0.225865989977962,
        0.00156471393678179, 0.0519065628852474, 0.0188994975629904, 0.235812629901546], 1e-8),
  'standard errors match the reference within 1e-8');
SELECT ok(pg_temp.all_near((SELECT p_value FROM fit),
  ARRAY[8.92101710326395e-11, 5.7381074604492e-05, 1.38692353084055e-15, 1.97192931851636e-24,
        2.29326385882096e-07, 3.40845245594802e-20, 0.437443760608735, 5.85865578994248e-13], 1e-6),
  'p-values match the reference within 1e-6 relative');
SELECT ok(pg_temp.all_near((SELECT z FROM fit),
  (SELECT array_agg(c / s ORDER BY i) FROM fit, unnest(coef, std_err) WITH ORDINALITY u(c, s, i)), 1e-15),
  'z is coef / std_err');
SELECT ok(pg_temp.near((SELECT log_likelihood FROM fit), -1628.4723631552993, 1e-11),
  'log-likelihood matches the reference');

-- parallel: Partial Aggregate in the plan, the same coefficients within 1e-9
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
CREATE TABLE book AS SELECT s.*, k FROM credit_sample s, generate_series(1, 8) k;
ANALYZE book;
SELECT ok(EXISTS (SELECT 1 FROM pg_temp.plan_of(
  'SELECT riskguard.fit_logistic(bad, ARRAY[age, dti, delinquencies]) FROM book') l
  WHERE l LIKE '%Partial Aggregate%'), 'fit_logistic runs as a Partial Aggregate');
CREATE TEMP TABLE par AS
SELECT riskguard.fit_logistic(bad, ARRAY[age, income, dti, months_employed, delinquencies,
                                         credit_lines, utilization]) AS f,
       riskguard.auc(-dti, bad) AS auc, riskguard.ks(-dti, bad) AS ks,
       riskguard.brier(dti / 1.2, bad) AS brier, riskguard.hosmer_lemeshow(dti / 1.2, bad) AS hl,
       riskguard.woe_bins(income, bad) AS wb, riskguard.woe_categories(home, bad) AS wc
  FROM book;
SET LOCAL max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE ser AS
SELECT riskguard.fit_logistic(bad, ARRAY[age, income, dti, months_employed, delinquencies,
                                         credit_lines, utilization]) AS f,
       riskguard.auc(-dti, bad) AS auc, riskguard.ks(-dti, bad) AS ks,
       riskguard.brier(dti / 1.2, bad) AS brier, riskguard.hosmer_lemeshow(dti / 1.2, bad) AS hl,
       riskguard.woe_bins(income, bad) AS wb, riskguard.woe_categories(home, bad) AS wc
  FROM book;
SET LOCAL max_parallel_workers_per_gather = 2;
SELECT throws_ok($$SELECT riskguard.fit_logistic(bad, ARRAY[age, dti, 2 * age]) FROM book$$,
  '22023', 'design matrix of "fit_logistic" is singular at feature 3', 'a singular design fails the same way in parallel');
SELECT is((SELECT ((f).converged, (f).std_err IS NULL, (f).n)
             FROM (SELECT riskguard.fit_logistic(dti > 0.4, ARRAY[dti, age]) AS f FROM book) t),
  (false, true, 40000::bigint), 'separated data in parallel: not converged, no standard errors');
RESET max_parallel_workers_per_gather;
SELECT ok(pg_temp.all_near((SELECT (f).coef FROM par), (SELECT (f).coef FROM ser), 1e-9),
  'parallel and serial fits agree within 1e-9');
SELECT ok(pg_temp.all_near((SELECT (f).std_err FROM par), (SELECT (f).std_err FROM ser), 1e-9),
  'parallel and serial standard errors agree within 1e-9');
SELECT is((SELECT ((f).n, (f).skipped) FROM par), (SELECT ((f).n, (f).skipped) FROM ser),
  'parallel and serial fits count the same rows');
SELECT ok((SELECT (f).iterations FROM par) < (SELECT (f).iterations FROM ser),
  'starting from the parts'' own fits takes fewer Newton steps');
SELECT ok(pg_temp.all_near((SELECT (f).coef FROM ser), (SELECT coef FROM fit), 1e-9),
  'eight copies of the rows give the same coefficients');
SELECT is((SELECT (auc, ks, hl) FROM par), (SELECT (auc, ks, hl) FROM ser),
  'parallel auc, ks and hosmer_lemeshow equal the serial ones');
SELECT ok((SELECT pg_temp.near(par.brier, ser.brier, 1e-12) FROM par, ser), 'parallel brier agrees');
SELECT is((SELECT wb FROM par), (SELECT wb FROM ser), 'parallel woe_bins equals serial');
SELECT is((SELECT wc FROM par), (SELECT wc FROM ser), 'parallel woe_categories equals serial');

-- AUC as Mann-Whitney U / (goods * bads) and KS as scipy's ks_2samp, on an integer score with ties
CREATE TEMP TABLE scored AS
SELECT 700 - 40 * delinquencies - 5 * credit_lines + floor(months_employed / 6) AS score,
       1 / (1 + exp(-(-2.1 + 2 * dti + 0.5 * delinquencies - 0.01 * months_employed))) AS pd,
       bad
  FROM credit_sample;
SELECT ok(pg_temp.near((SELECT riskguard.auc(score, bad) FROM scored), 0.5943873669842815, 1e-13),
  'auc matches Mann-Whitney U');
SELECT ok(pg_temp.near((SELECT riskguard.ks(score, bad) FROM scored), 0.14839801548662307, 1e-13),
  'ks matches ks_2samp');
SELECT ok(pg_temp.near((SELECT riskguard.auc(-score, bad) FROM scored), 1 - 0.5943873669842815, 1e-13),
  'reversing the score gives 1 - auc');
SELECT ok(pg_temp.near((SELECT riskguard.brier(pd, bad) FROM scored), 0.10841948487690409, 1e-12),
  'brier matches numpy');
SELECT ok((SELECT pg_temp.near((h).chi2, 95.8441601762084, 1e-11) AND (h).df = 8
                  AND pg_temp.near((h).p_value, 3.010370772052114e-17, 1e-9)
             FROM (SELECT riskguard.hosmer_lemeshow(pd, bad) AS h FROM scored) t),
  'hosmer_lemeshow in 10 groups matches numpy and scipy chi2');
SELECT ok((SELECT pg_temp.near((h).chi2, 99.10992269503124, 1e-11) AND (h).df = 6
                  AND pg_temp.near((h).p_value, 3.847877141998605e-19, 1e-9)
             FROM (SELECT riskguard.hosmer_lemeshow(pd, bad, 8) AS h FROM scored) t),
  'hosmer_lemeshow in 8 groups matches numpy and scipy chi2');
SELECT is((SELECT riskguard.auc(s, b) FROM (VALUES (1.0, true), (1.0, false), (2.0, false)) t(s, b)),
  0.75::float8, 'a tie counts one half');

-- woe_bins recomputed from the raw rows
CREATE TEMP TABLE wb AS SELECT riskguard.woe_bins(income, bad) AS w FROM credit_sample;
CREATE TEMP TABLE wb_bins AS
SELECT i, b.upper, lag(b.upper) OVER (ORDER BY i) AS lower, b.goods, b.bads, b.woe, b.iv
  FROM wb, ROWS FROM (jsonb_to_recordset(w -> 'bins') AS (upper float8, goods int, bads int, woe float8, iv float8))
       WITH ORDINALITY AS b(upper, goods, bads, woe, iv, i);
SELECT ok((SELECT count(*) BETWEEN 2 AND 10 FROM wb_bins), 'woe_bins makes between 2 and 10 bins');
SELECT ok((SELECT bool_and(b.goods = r.goods AND b.bads = r.bads)
             FROM wb_bins b,
                  LATERAL (SELECT count(*) FILTER (WHERE NOT bad) AS goods, count(*) FILTER (WHERE bad) AS bads
                             FROM credit_sample
                            WHERE income >= coalesce(b.lower, '-Infinity')
                              AND income < coalesce(b.upper, 'Infinity')) r),
  'every bin holds the rows with lower <= income < upper');
SELECT ok((SELECT bool_and(pg_temp.near(woe, ln((goods / 4368.0) / (bads / 632.0)), 1e-12)) FROM wb_bins),
  'woe = ln(share of goods / share of bads), over all 4368 goods and 632 bads');
SELECT ok((SELECT bool_and(woe > prev) FROM (SELECT woe, lag(woe) OVER (ORDER BY i) AS prev FROM wb_bins) t
            WHERE prev IS NOT NULL), 'income WoE rises strictly from bin to bin');
SELECT is((SELECT w ->> 'trend' FROM wb), 'increasing', 'trend says so');
SELECT ok((SELECT bool_and(goods + bads >= 0.05 * 4863) FROM wb_bins), 'every bin holds at least 5% of the non-missing rows');
SELECT ok((SELECT pg_temp.near((w ->> 'iv')::float8,
                               (SELECT sum(iv) FROM wb_bins) + (w -> 'missing' ->> 'iv')::float8, 1e-12) FROM wb),
  'total iv is the sum over the bins and the missing bin');
SELECT is((SELECT (w -> 'missing' ->> 'count')::int FROM wb), 137, 'the 137 missing incomes form the missing bin');
SELECT ok((SELECT bool_and(pg_temp.near(iv, (goods / 4368.0 - bads / 632.0) * woe, 1e-12)) FROM wb_bins),
  'iv of a bin = (share of goods - share of bads) * woe');
SELECT ok((SELECT bool_and(b.woe < 0) FROM wb_bins b WHERE i = 1), 'low incomes carry negative WoE (riskier)');
SELECT is((SELECT jsonb_array_length(riskguard.woe_bins(dti, bad, 3) -> 'bins') <= 3 FROM credit_sample), true,
  'max_bins caps the number of bins');
SELECT is((SELECT riskguard.woe_bins(v, v IN (1, 2, 3, 6), 4, 0.0) -> 'bins' -> 0 -> 'upper' FROM generate_series(1, 8) v),
  '5'::jsonb, 'a pure first pre-bin joins its neighbour (bound 5: values below 5)');

-- cut points against the binning written again in Python from the README's description
-- (exclusive bounds: each is the smallest value of the next bin)
SELECT is((SELECT jsonb_path_query_array(riskguard.woe_bins(income, bad), '$.bins[*].upper') FROM credit_sample),
  '[5.06, 9.08, 10.17, 13.34, 16.45, null]'::jsonb, 'income cut points match the reference binning');
SELECT is((SELECT jsonb_path_query_array(riskguard.woe_bins(dti, bad, 4, 0.2), '$.bins[*].upper') FROM credit_sample),
  '[0.2205, 0.3457, 0.493, null]'::jsonb, 'dti cut points (4 bins of at least 20%) match the reference binning');
SELECT is((SELECT jsonb_path_query_array(riskguard.woe_bins(utilization, bad, 8), '$.bins[*].upper') FROM credit_sample),
  '[0.1363, 0.2098, 0.3397, 0.4901, 0.6013, null]'::jsonb, 'utilization cut points (8 pre-bins) match the reference binning');

-- round trip: woe_bins output pasted into a scorecard spec (coefficient 1, intercept 0, so
-- pd = 1 / (1 + exp(-woe)) of the row's bin, distinct per bin) scores every row into the
-- bin woe_bins counted it in, boundary values included, and NULL incomes into "missing"
SELECT riskguard.create_model('woe_roundtrip', jsonb_build_object(
  'kind', 'scorecard',
  'scaling', '{"base_score": 600, "base_odds": 50, "pdo": 20}'::jsonb,
  'intercept', 0,
  'features', jsonb_build_array(jsonb_build_object(
    'name', 'income', 'type', 'numeric', 'coefficient', 1, 'reason', 'INCOME',
    'bins', (SELECT jsonb_agg(b - ARRAY['count', 'goods', 'bads', 'bad_rate', 'iv'] ORDER BY i)
               FROM jsonb_array_elements(w -> 'bins') WITH ORDINALITY AS e(b, i)),
    'missing', jsonb_build_object('woe', w -> 'missing' -> 'woe'))),
  'grades', '{"by": "score", "bands": [{"grade": "A"}]}'::jsonb,
  'decisions', '[{"decision": "review"}]'::jsonb))
  FROM wb \g /dev/null
CREATE TEMP TABLE rt_groups AS
SELECT pd, count(*)::int AS n, (count(*) FILTER (WHERE bad))::int AS bads, row_number() OVER (ORDER BY pd) AS k
  FROM (SELECT (riskguard.score('woe_roundtrip', jsonb_build_object('income', income))).pd, bad
          FROM credit_sample) s
 GROUP BY pd;
CREATE TEMP TABLE rt_bins AS
SELECT b.count, b.bads, b.woe, row_number() OVER (ORDER BY b.woe) AS k
  FROM wb, jsonb_to_recordset((w -> 'bins') || jsonb_build_array(w -> 'missing')) AS b(count int, bads int, woe float8);
SELECT results_eq(
  $$SELECT g.n, g.bads, pg_temp.near(g.pd, 1 / (1 + exp(-b.woe)), 1e-12)
      FROM rt_groups g LEFT JOIN rt_bins b USING (k) ORDER BY g.k$$,
  $$SELECT count, bads, true FROM rt_bins ORDER BY k$$,
  'a scorecard built from woe_bins scores every row into the bin woe_bins counted it in');

-- woe_bins and woe_categories output pasted in whole (bins and missing bin with their
-- count, goods, bads, bad_rate and iv) is a valid spec, and scores every row exactly as
-- the same spec with those statistics stripped
CREATE TEMP TABLE paste_src AS
SELECT riskguard.woe_bins(income, bad) AS inc, riskguard.woe_categories(home, bad) AS cat FROM credit_sample;
CREATE FUNCTION pg_temp.strip(b jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE jsonb_typeof(b)
         WHEN 'array' THEN (SELECT jsonb_agg(e - ARRAY['count', 'goods', 'bads', 'bad_rate', 'iv'] ORDER BY i)
                              FROM jsonb_array_elements(b) WITH ORDINALITY AS t(e, i))
         ELSE b - ARRAY['count', 'goods', 'bads', 'bad_rate', 'iv'] END $$;
CREATE FUNCTION pg_temp.pasted_card(inc_bins jsonb, inc_missing jsonb, cat_bins jsonb, cat_missing jsonb)
  RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object(
    'kind', 'scorecard',
    'scaling', '{"base_score": 600, "base_odds": 50, "pdo": 20}'::jsonb,
    'intercept', -1.9,
    'features', jsonb_build_array(
      jsonb_build_object('name', 'income', 'type', 'numeric', 'coefficient', -0.9, 'reason', 'INCOME',
                         'bins', inc_bins, 'missing', inc_missing),
      jsonb_build_object('name', 'home', 'type', 'categorical', 'coefficient', -0.7, 'reason', 'HOME',
                         'bins', cat_bins, 'missing', cat_missing)),
    'grades', '{"by": "score", "bands": [{"grade": "A", "min_score": 620}, {"grade": "B"}]}'::jsonb,
    'decisions', '[{"decision": "approve", "max_pd": 0.1}, {"decision": "decline"}]'::jsonb) $$;
SELECT is((SELECT riskguard.create_model('woe_pasted',
                    pg_temp.pasted_card(inc -> 'bins', inc -> 'missing', cat -> 'bins', cat -> 'missing'))
             FROM paste_src), 1, 'woe_bins and woe_categories output pasted in unchanged is accepted');
SELECT is((SELECT riskguard.create_model('woe_stripped',
                    pg_temp.pasted_card(pg_temp.strip(inc -> 'bins'), pg_temp.strip(inc -> 'missing'),
                                        pg_temp.strip(cat -> 'bins'), pg_temp.strip(cat -> 'missing')))
             FROM paste_src), 1, 'the same spec with the statistics stripped is accepted');
SELECT ok((SELECT spec #> '{features,0,bins,0}' ?& ARRAY['count', 'goods', 'bads', 'bad_rate', 'iv']
                  AND spec #> '{features,1,bins,0}' ?& ARRAY['values', 'count', 'iv']
                  AND spec #> '{features,1,missing}' ?& ARRAY['count', 'bad_rate', 'woe']
             FROM riskguard.credit_model WHERE name = 'woe_pasted'),
  'the stored pasted spec keeps the statistics');
SELECT results_eq(
  $$SELECT id, s.score, s.pd, s.grade, s.decision, s.reasons
      FROM credit_sample, riskguard.score('woe_pasted', jsonb_build_object('income', income, 'home', home)) s
     ORDER BY id$$,
  $$SELECT id, s.score, s.pd, s.grade, s.decision, s.reasons
      FROM credit_sample, riskguard.score('woe_stripped', jsonb_build_object('income', income, 'home', home)) s
     ORDER BY id$$,
  'the pasted spec scores every row as the stripped one');

-- woe_categories recomputed from the raw rows
SELECT ok((SELECT bool_and(b.count = r.n AND b.bads = r.bads
                           AND pg_temp.near(b.woe, ln(((r.n - r.bads) / 4368.0) / (r.bads / 632.0)), 1e-12))
             FROM jsonb_to_recordset((SELECT riskguard.woe_categories(home, bad) -> 'bins' FROM credit_sample))
                  AS b("values" jsonb, count int, bads int, woe float8),
                  LATERAL (SELECT count(*) AS n, count(*) FILTER (WHERE bad) AS bads
                             FROM credit_sample WHERE home = b.values ->> 0) r),
  'woe_categories counts and WoE per category');
SELECT is((SELECT jsonb_path_query_array(riskguard.woe_categories(home, bad), '$.bins[*].values[0]') FROM credit_sample),
  '["own", "mortgage", "family", "rent"]'::jsonb, 'categories in order of bad rate');

-- normal distribution against mpmath at 40 digits
SELECT ok(bool_and(pg_temp.near(riskguard.normal_cdf(x), want, 1e-14)), 'normal_cdf within 1e-14 relative, -37 to 8')
  FROM (VALUES (-37.0, 5.725571222524577e-300), (-20.0, 2.7536241186062337e-89),
               (-8.5, 9.479534822203318e-18), (-3.0, 0.0013498980316300946),
               (-1.5, 0.06680720126885807), (-0.25, 0.4012936743170763), (0.0, 0.5),
               (0.7, 0.758036347776927), (2.0, 0.9772498680518208), (5.0, 0.9999997133484281),
               (8.0, 0.9999999999999993)) t(x, want);
SELECT ok(bool_and(pg_temp.near(riskguard.normal_quantile(p), want, 1e-14) OR (p = 0.5 AND riskguard.normal_quantile(p) = 0)),
          'normal_quantile within 1e-14 relative, 1e-300 to 1 - 1e-7')
  FROM (VALUES (1e-300, -37.0470962993612), (1e-100, -21.273453560965326),
               (1e-20, -9.262340089798407), (1e-10, -6.361340902404057),
               (0.0001, -3.7190164854556804), (0.025, -1.9599639845400543),
               (0.3, -0.5244005127080408), (0.5, 0.0), (0.8, 0.8416212335729144),
               (0.975, 1.9599639845400538), (0.999, 3.090232306167813),
               (0.9999999, 5.199337582290661)) t(p, want);
SELECT ok(bool_and(pg_temp.near(riskguard.normal_cdf(riskguard.normal_quantile(p)), p, 1e-15)),
          'normal_cdf(normal_quantile(p)) = p within 1e-15 relative for p = 0.001 .. 0.999')
  FROM generate_series(1, 999) i, LATERAL (SELECT i / 1000.0 AS p) t;
SELECT is(riskguard.normal_quantile(0), '-Infinity'::float8, 'normal_quantile(0) is -Infinity');
SELECT is(riskguard.normal_quantile(1), 'Infinity'::float8, 'normal_quantile(1) is Infinity');
SELECT ok(bool_and(pg_temp.near(riskguard.chisq_sf(x, df), want, 1e-12)), 'chisq_sf matches scipy')
  FROM (VALUES (3.84, 1, 0.05004352124870519), (15.5, 8, 0.0501220545326652),
               (0.5, 3, 0.9188914116546758), (60.0, 10, 3.6243009520614924e-09),
               (200.0, 150, 0.003973185970821635)) t(x, df, want);

-- IRB capital against scipy.stats.norm
SELECT ok(bool_and(pg_temp.near(riskguard.irb_capital(pd, lgd, cls, m), want, 1e-12)),
          'irb_capital matches the reference for every asset class')
  FROM (VALUES (0.01, 0.45, 'corporate', 2.5, 0.07385344111364114),
               (0.0001, 0.45, 'corporate', 2.5, 0.011554853832932805),
               (0.05, 0.40, 'corporate', 1.0, 0.09379512771466737),
               (0.02, 0.45, 'corporate', 7.0, 0.11732808898113993),
               (0.005, 0.20, 'residential_mortgage', 2.5, 0.012472613452267689),
               (0.03, 0.85, 'qualifying_revolving', 2.5, 0.05842582344729566),
               (0.02, 0.60, 'other_retail', 2.5, 0.0618522058405256),
               (0.15, 0.60, 'other_retail', 2.5, 0.0945075299629625),
               (0.9999, 0.45, 'corporate', 2.5, 4.589289326761107e-05)) t(pd, lgd, cls, m, want);
SELECT ok(pg_temp.near(riskguard.irb_capital(0.01, 0.45, 'corporate'), 0.07385344111364114, 1e-12),
  'maturity defaults to 2.5 years');
SELECT ok(pg_temp.near(riskguard.irb_rwa(0.01, 0.45, 2000000, 'corporate'), 0.07385344111364114 * 12.5 * 2000000, 1e-12),
  'irb_rwa = K * 12.5 * EAD');
SELECT ok(pg_temp.near(riskguard.expected_loss(0.02, 0.45, 100000), 900, 1e-15), 'expected_loss = pd * lgd * ead');
SELECT ok(pg_temp.near(riskguard.risk_based_rate(0.03, 0.6, 0.035, 0.02, 0.1, 0.15),
                       (0.9 * 0.035 + 0.1 * 0.15 + 0.03 * 0.6 + 0.02) / 0.97, 1e-14),
  'risk_based_rate = ((1 - c) funding + c hurdle + pd lgd + opcost) / (1 - pd)');
SELECT ok(pg_temp.near(riskguard.psi(ARRAY[120, 340, 280, 160, 100], ARRAY[90, 300, 310, 200, 100]),
                       0.025616210773580332, 1e-12), 'psi matches numpy');

-- bad inputs and their SQLSTATEs
SELECT throws_ok($$SELECT riskguard.fit_logistic(x % 3 = 0, ARRAY[x, 2 * x]::float8[]) FROM generate_series(1, 10) x$$,
  '22023', 'design matrix of "fit_logistic" is singular at feature 2', 'singular design: 22023');
SELECT throws_ok($$SELECT riskguard.fit_logistic(true, ARRAY[x]::float8[]) FROM generate_series(1, 1) x$$,
  '22023', NULL, 'fewer rows than coefficients: 22023');
SELECT throws_ok($$SELECT riskguard.fit_logistic(x % 2 = 0, CASE WHEN x = 3 THEN ARRAY[x] ELSE ARRAY[x, 1] END::float8[]) FROM generate_series(1, 5) x$$,
  '22023', NULL, 'rows with different numbers of features: 22023');
SELECT throws_ok($$SELECT riskguard.fit_logistic(true, ARRAY['NaN']::float8[])$$, '22023', NULL, 'NaN feature: 22023');
SELECT throws_ok($$SELECT riskguard.fit_logistic(true, ARRAY['-Infinity']::float8[])$$, '22023', NULL, 'infinite feature: 22023');
SELECT throws_ok($$SELECT riskguard.fit_logistic(true, ARRAY[[1, 2]]::float8[])$$, '22023', NULL, 'two-dimensional x: 22023');
SELECT throws_ok($$SELECT riskguard.auc('NaN', true)$$, '22023', NULL, 'NaN score: 22023');
SELECT throws_ok($$SELECT riskguard.brier(1.01, true)$$, '22023', '"pd" must be between 0 and 1', 'pd above 1: 22023');
SELECT throws_ok($$SELECT riskguard.brier(-0.01, true)$$, '22023', NULL, 'pd below 0: 22023');
SELECT throws_ok($$SELECT riskguard.hosmer_lemeshow('NaN', true)$$, '22023', NULL, 'NaN pd: 22023');
SELECT throws_ok($$SELECT riskguard.hosmer_lemeshow(0.1, true, 2)$$, '22023', NULL, 'fewer than 3 groups: 22023');
SELECT throws_ok($$SELECT riskguard.hosmer_lemeshow(0.1, s > 1) FROM generate_series(1, 4) s$$, '22023', NULL, 'fewer rows than groups: 22023');
SELECT throws_ok($$SELECT riskguard.woe_bins(1, true)$$, '22023', NULL, 'woe_bins without goods: 22023');
SELECT throws_ok($$SELECT riskguard.woe_bins('Infinity', true)$$, '22023', NULL, 'woe_bins of Infinity: 22023');
SELECT throws_ok($$SELECT riskguard.woe_bins(1, true, 101)$$, '22023', NULL, 'max_bins above 100: 22023');
SELECT throws_ok($$SELECT riskguard.woe_bins(1, true, 10, -0.1)$$, '22023', NULL, 'negative min_bin_share: 22023');
SELECT throws_ok($$SELECT riskguard.woe_categories('a', false)$$, '22023', NULL, 'woe_categories without bads: 22023');
SELECT throws_ok($$SELECT riskguard.psi(ARRAY[1, 2], ARRAY[1])$$, '22023', NULL, 'psi of vectors of different lengths: 22023');
SELECT throws_ok($$SELECT riskguard.psi(ARRAY[1, -1], ARRAY[1, 2])$$, '22023', NULL, 'psi of a negative count: 22023');
SELECT throws_ok($$SELECT riskguard.irb_capital(0.01, 0.45, 'sovereign')$$, '22023',
  'unrecognized asset class: "sovereign"', 'unknown asset class: 22023 naming it');
SELECT throws_ok($$SELECT riskguard.irb_capital(1.5, 0.45, 'corporate')$$, '22023', NULL, 'irb pd above 1: 22023');
SELECT throws_ok($$SELECT riskguard.irb_capital(0.01, 'NaN', 'corporate')$$, '22023', NULL, 'irb NaN lgd: 22023');
SELECT throws_ok($$SELECT riskguard.irb_capital(0.01, 0.45, 'corporate', '-Infinity')$$, '22023', NULL, 'infinite maturity: 22023');
SELECT throws_ok($$SELECT riskguard.irb_rwa(0.01, 0.45, 'Infinity', 'corporate')$$, '22023', NULL, 'infinite ead: 22023');
SELECT throws_ok($$SELECT riskguard.expected_loss(0.01, 1.2, 100)$$, '22023', NULL, 'lgd above 1: 22023');
SELECT throws_ok($$SELECT riskguard.risk_based_rate(1, 0.45, 0.03, 0.02, 0.08, 0.15)$$, '22023', NULL, 'pd of 1 has no rate: 22023');
SELECT throws_ok($$SELECT riskguard.risk_based_rate(0.01, 0.45, 'NaN', 0.02, 0.08, 0.15)$$, '22023', NULL, 'NaN funding rate: 22023');
SELECT throws_ok($$SELECT riskguard.normal_quantile(-0.5)$$, '22023', NULL, 'quantile of a negative probability: 22023');

-- markings: every aggregate that does not depend on row order is PARALLEL SAFE with a
-- combine function (and serial/deserial for internal state); the ones that take ORDER BY
-- (a recursion over time) are exactly those without
SELECT is((SELECT count(*)::int FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
            WHERE p.pronamespace = 'riskguard'::regnamespace
              AND a.aggcombinefn <> 0 AND p.proparallel = 's'
              AND (a.aggtranstype <> 'internal'::regtype OR (a.aggserialfn <> 0 AND a.aggdeserialfn <> 0))),
  (SELECT count(*)::int FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
    WHERE p.pronamespace = 'riskguard'::regnamespace
      AND p.proname NOT IN ('ewma_volatility', 'christoffersen', 'max_drawdown')),
  'every order-independent riskguard aggregate is PARALLEL SAFE with combine (and serial/deserial for internal state)');
SELECT is((SELECT count(*)::int FROM pg_proc p
            WHERE p.pronamespace = 'riskguard'::regnamespace AND p.proname IN
              ('fit_logistic', 'woe_bins', 'woe_categories', 'auc', 'ks', 'brier', 'hosmer_lemeshow')),
  10, 'the ten credit statistics aggregates exist');
SELECT is((SELECT count(*)::int FROM pg_proc p
            WHERE p.pronamespace = 'riskguard'::regnamespace AND p.proname !~ '^_'
              AND obj_description(p.oid, 'pg_proc') IS NULL), 0,
  'every public riskguard function has a comment');
SELECT is((SELECT count(*)::int FROM pg_proc p
            WHERE p.pronamespace = 'riskguard'::regnamespace AND p.proname ~ '^_(fit|pairs|score|pd|woe|brier|auc|ks|hosmer)'
              AND obj_description(p.oid, 'pg_proc') IS NULL), 0,
  'every support function of the statistics aggregates has a comment');
SELECT is((SELECT count(*)::int FROM pg_proc p
            WHERE p.pronamespace = 'riskguard'::regnamespace
              AND p.proname IN ('normal_cdf', 'normal_quantile', 'chisq_sf', 'psi', 'psi_verdict',
                                'expected_loss', 'irb_capital', 'irb_rwa', 'risk_based_rate')
              AND p.provolatile = 'i' AND p.proisstrict AND p.proparallel = 's'), 9,
  'pricing, capital and distribution functions are IMMUTABLE STRICT PARALLEL SAFE');

SELECT * FROM finish();
ROLLBACK;
