-- credit_stats: fitting, binning, validation, pricing and capital on a sample of 5,000
-- loan applicants (test/data/credit_sample.csv, made by test/reference/credit_sample_gen.py).
-- Exact reference values are checked in test/pgtap/21_credit_stats.sql; this file shows the
-- shape of every result and the messages of bad inputs.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS riskguard;
RESET client_min_messages;
\set VERBOSITY terse

CREATE TABLE credit_sample (
  id int PRIMARY KEY, age float8, income float8, dti float8, months_employed float8,
  delinquencies float8, credit_lines float8, utilization float8, home text, bad boolean);
\getenv abs_srcdir PG_ABS_SRCDIR
\set csv :abs_srcdir '/test/data/credit_sample.csv'
COPY credit_sample FROM :'csv' WITH (FORMAT csv, HEADER true);
SELECT count(*) AS applicants, count(*) FILTER (WHERE bad) AS bads,
       count(*) - count(income) AS income_missing FROM credit_sample;

-- the fit: intercept first; rows with a NULL feature are skipped and counted
CREATE TABLE sample_fit AS
SELECT (riskguard.fit_logistic(bad, ARRAY[age, income, dti, months_employed, delinquencies,
                                          credit_lines, utilization])).*
  FROM credit_sample;
SELECT n, skipped, converged, iterations, round(log_likelihood::numeric, 6) AS log_likelihood
  FROM sample_fit;
SELECT t.term, round(u.c::numeric, 6) AS coef, round(u.se::numeric, 6) AS std_err,
       round(u.zv::numeric, 3) AS z, to_char(u.pv, '9.999EEEE') AS p_value
  FROM sample_fit,
       unnest(coef, std_err, z, p_value) WITH ORDINALITY AS u(c, se, zv, pv, i)
  JOIN unnest(ARRAY['(intercept)', 'age', 'income', 'dti', 'months_employed',
                    'delinquencies', 'credit_lines', 'utilization'])
       WITH ORDINALITY AS t(term, j) ON t.j = u.i
 ORDER BY u.i;

-- the same fit with parallel workers forced: the plan has a Partial Aggregate
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF)
SELECT riskguard.fit_logistic(bad, ARRAY[age, income, dti]) FROM credit_sample;
EXPLAIN (COSTS OFF)
SELECT riskguard.auc(-dti, bad), riskguard.ks(-dti, bad), riskguard.brier(dti, bad),
       riskguard.hosmer_lemeshow(dti, bad), riskguard.woe_bins(dti, bad),
       riskguard.woe_categories(home, bad)
  FROM credit_sample;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- perfectly separated data: not converged, finite coefficients, no standard errors
SELECT converged, coef[2] > 10 AS slope_large, std_err IS NULL AS no_std_err,
       iterations <= 50 AS capped, n
  FROM (SELECT (riskguard.fit_logistic(x > 5, ARRAY[x::float8])).* FROM generate_series(1, 10) x) f;
-- one class only: the intercept runs away, not converged
SELECT converged, std_err IS NULL AS no_std_err, n
  FROM (SELECT (riskguard.fit_logistic(false, ARRAY[x::float8])).* FROM generate_series(1, 10) x) f;
-- no usable rows: a row with n = 0 and the skipped count; no rows at all: NULL
SELECT coef, converged, n, skipped
  FROM (SELECT (riskguard.fit_logistic(NULL, ARRAY[1.0::float8])).* FROM generate_series(1, 3)) f;
SELECT riskguard.fit_logistic(true, ARRAY[1.0::float8]) IS NULL AS no_rows FROM generate_series(1, 0);
-- an intercept-only model: logit of the bad rate (2 of 5)
SELECT round(coef[1]::numeric, 12) AS intercept, round(ln(2.0 / 3.0), 12) AS logit_bad_rate
  FROM (SELECT (riskguard.fit_logistic(x <= 2, '{}'::float8[])).* FROM generate_series(1, 5) x) f;

-- bad inputs to fit_logistic
SELECT riskguard.fit_logistic(x % 3 = 0, ARRAY[x, 2 * x]::float8[]) FROM generate_series(1, 10) x;
SELECT riskguard.fit_logistic(x % 3 = 0, ARRAY[x, 1]::float8[]) FROM generate_series(1, 10) x;
SELECT riskguard.fit_logistic(x % 2 = 0, ARRAY[x, x * x, 5]::float8[]) FROM generate_series(1, 2) x;
SELECT riskguard.fit_logistic(x % 3 = 0, CASE WHEN x = 4 THEN ARRAY[x] ELSE ARRAY[x, 1] END::float8[])
  FROM generate_series(1, 10) x;
SELECT riskguard.fit_logistic(x % 3 = 0, ARRAY[x, 'NaN']::float8[]) FROM generate_series(1, 10) x;
SELECT riskguard.fit_logistic(x % 3 = 0, ARRAY[x, 'Infinity']::float8[]) FROM generate_series(1, 10) x;
SELECT riskguard.fit_logistic(x % 3 = 0, ARRAY[[x, 1]]::float8[]) FROM generate_series(1, 10) x;

-- monotonic WoE bins of monthly income (thousands); upper bounds are exclusive (each is the
-- smallest income of the next bin), the last bin is unbounded, and missing incomes have
-- their own bin
SELECT b.upper, b.count, b.goods, b.bads, round(b.woe::numeric, 4) AS woe, round(b.iv::numeric, 4) AS iv
  FROM jsonb_to_recordset((SELECT riskguard.woe_bins(income, bad) -> 'bins' FROM credit_sample))
       AS b(upper float8, count int, goods int, bads int, woe float8, iv float8);
SELECT w->'trend' AS trend, w->'n' AS n, w->'skipped' AS skipped,
       w->'missing'->'count' AS missing, round((w->'missing'->>'woe')::numeric, 4) AS missing_woe,
       round((w->>'iv')::numeric, 4) AS total_iv
  FROM (SELECT riskguard.woe_bins(income, bad) AS w FROM credit_sample) s;
-- fewer, larger bins
SELECT jsonb_path_query_array(riskguard.woe_bins(dti, bad, 4, 0.2), '$.bins[*].upper') AS uppers,
       jsonb_path_query_array(riskguard.woe_bins(dti, bad, 4, 0.2), '$.bins[*].count') AS counts
  FROM credit_sample;
-- categories in order of bad rate
SELECT b.values, b.count, b.bads, round(b.woe::numeric, 4) AS woe, round(b.iv::numeric, 4) AS iv
  FROM jsonb_to_recordset((SELECT riskguard.woe_categories(home, bad) -> 'bins' FROM credit_sample))
       AS b("values" jsonb, count int, bads int, woe float8, iv float8);
-- a category without bads joins its neighbour
SELECT riskguard.woe_categories(v, bad)
  FROM (VALUES ('a', true), ('a', false), ('b', false), ('b', false), ('c', true),
               ('c', false), ('c', true), (NULL, false), ('d', NULL)) AS t(v, bad);
-- a small exact case: values 1..8, bads at 1, 2, 3 and 6
SELECT riskguard.woe_bins(v, v IN (1, 2, 3, 6), 4, 0.0)
  FROM generate_series(1, 8) v;

-- bad inputs to the binning aggregates
SELECT riskguard.woe_bins(v, false) FROM generate_series(1, 8) v;
SELECT riskguard.woe_bins(v, v > 4, 0) FROM generate_series(1, 8) v;
SELECT riskguard.woe_bins(v, v > 4, 5, 0.6) FROM generate_series(1, 8) v;
SELECT riskguard.woe_bins(v, v > 4, 5, NULL) FROM generate_series(1, 8) v;
SELECT riskguard.woe_bins(v, v > 4, v::int) FROM generate_series(1, 8) v;
SELECT riskguard.woe_bins(CASE WHEN v = 3 THEN 'NaN'::float8 ELSE v END, v > 4) FROM generate_series(1, 8) v;
SELECT riskguard.woe_categories(v::text, true) FROM generate_series(1, 8) v;

-- validation of a simple score (higher is better) and of a pd formula
SELECT round(riskguard.auc(s, bad)::numeric, 6) AS auc, round(riskguard.ks(s, bad)::numeric, 6) AS ks
  FROM (SELECT 700 - 40 * delinquencies - 5 * credit_lines + floor(months_employed / 6) AS s, bad
          FROM credit_sample) t;
SELECT round(riskguard.brier(pd, bad)::numeric, 6) AS brier,
       round((riskguard.hosmer_lemeshow(pd, bad)).chi2::numeric, 4) AS hl_chi2,
       (riskguard.hosmer_lemeshow(pd, bad, 8)).df AS df_8_groups
  FROM (SELECT 1 / (1 + exp(-(-2.1 + 2 * dti + 0.5 * delinquencies - 0.01 * months_employed))) AS pd, bad
          FROM credit_sample) p;
-- ties count one half; a perfect ranking gives 1 and a reversed one 0
SELECT riskguard.auc(s, b) AS tie_auc, riskguard.ks(s, b) AS tie_ks
  FROM (VALUES (1.0, true), (1.0, false)) t(s, b);
SELECT riskguard.auc(s, s < 3) AS perfect, riskguard.auc(s, s > 3) AS reversed,
       riskguard.ks(s, s < 3) AS perfect_ks
  FROM generate_series(1, 6) s;
-- one class only, or no rows: NULL
SELECT riskguard.auc(s, true) IS NULL AS auc_null, riskguard.ks(s, true) IS NULL AS ks_null,
       riskguard.brier(0.5, b) IS NULL AS brier_null
  FROM generate_series(1, 3) s, (VALUES (NULL::boolean)) v(b);
-- bad inputs to the validation aggregates
SELECT riskguard.auc('NaN', true);
SELECT riskguard.brier(1.5, true);
SELECT riskguard.brier(-0.1, false);
SELECT riskguard.brier('NaN', false);
SELECT riskguard.hosmer_lemeshow(1.2, true);
SELECT riskguard.hosmer_lemeshow(0.1, s > 2, 2) FROM generate_series(1, 20) s;
SELECT riskguard.hosmer_lemeshow(0.1, s > 2) FROM generate_series(1, 5) s;

-- population stability of application-score bins: last quarter against development
SELECT round(riskguard.psi(ARRAY[120, 340, 280, 160, 100], ARRAY[90, 300, 310, 200, 100])::numeric, 6) AS psi,
       riskguard.psi_verdict(riskguard.psi(ARRAY[120, 340, 280, 160, 100], ARRAY[90, 300, 310, 200, 100]));
SELECT riskguard.psi_verdict(v) FROM unnest(ARRAY[0, 0.0999, 0.1, 0.2499, 0.25, 3]) v;
-- an empty bin counts as a share of 0.0001
SELECT round(riskguard.psi(ARRAY[50, 50, 0], ARRAY[40, 40, 20])::numeric, 6) AS psi_empty_bin;
SELECT riskguard.psi(ARRAY[1, 2], ARRAY[1, 2, 3]);
SELECT riskguard.psi(ARRAY[1, -2], ARRAY[1, 2]);
SELECT riskguard.psi(ARRAY[1, NULL], ARRAY[1, 2]);
SELECT riskguard.psi(ARRAY[0, 0], ARRAY[1, 2]);
SELECT riskguard.psi(ARRAY[1, 'NaN']::float8[], ARRAY[1, 2]);
SELECT riskguard.psi_verdict('NaN');

-- pricing and capital for a few grades
SELECT grade, pd, lgd,
       round(riskguard.expected_loss(pd, lgd, 100000)::numeric, 2) AS el_per_100k,
       round(riskguard.irb_capital(pd, lgd, 'other_retail')::numeric, 6) AS k_retail,
       round(riskguard.irb_capital(pd, lgd, 'corporate')::numeric, 6) AS k_corporate,
       round(riskguard.irb_rwa(pd, lgd, 100000, 'other_retail')::numeric, 2) AS rwa_per_100k,
       round(riskguard.risk_based_rate(pd, lgd, 0.03, 0.02,
                                       riskguard.irb_capital(pd, lgd, 'other_retail'), 0.15)::numeric, 6) AS rate
  FROM (VALUES ('A', 0.002, 0.45), ('B', 0.01, 0.45), ('C', 0.04, 0.55), ('D', 0.12, 0.60))
       AS g(grade, pd, lgd)
 ORDER BY grade;
SELECT asset_class, round(riskguard.irb_capital(0.02, 0.45, asset_class)::numeric, 6) AS k
  FROM unnest(ARRAY['corporate', 'residential_mortgage', 'qualifying_revolving', 'other_retail']) asset_class;
-- the PD floor, the maturity clamp and a defaulted exposure
SELECT riskguard.irb_capital(0.0, 0.45, 'corporate') = riskguard.irb_capital(0.0003, 0.45, 'corporate') AS pd_floored,
       riskguard.irb_capital(0.01, 0.45, 'corporate', 0.25) = riskguard.irb_capital(0.01, 0.45, 'corporate', 1) AS maturity_floor,
       riskguard.irb_capital(0.01, 0.45, 'corporate', 30) = riskguard.irb_capital(0.01, 0.45, 'corporate', 5) AS maturity_cap,
       riskguard.irb_capital(0.01, 0.45, 'other_retail', 1) = riskguard.irb_capital(0.01, 0.45, 'other_retail', 5) AS retail_no_maturity,
       riskguard.irb_capital(1.0, 0.45, 'corporate') AS defaulted;
SELECT round(riskguard.risk_based_rate(0.02, 0.5, 0.04, 0.015, 0.08, 0.12)::numeric, 10) AS rate,
       round(((0.92 * 0.04 + 0.08 * 0.12 + 0.02 * 0.5 + 0.015) / 0.98)::numeric, 10) AS by_hand;
-- bad inputs to pricing and capital
SELECT riskguard.expected_loss(1.2, 0.45, 100);
SELECT riskguard.expected_loss(0.1, -0.45, 100);
SELECT riskguard.expected_loss(0.1, 0.45, -100);
SELECT riskguard.expected_loss(0.1, 0.45, 'Infinity');
SELECT riskguard.irb_capital(0.01, 0.45, 'sovereign');
SELECT riskguard.irb_capital('NaN', 0.45, 'corporate');
SELECT riskguard.irb_capital(0.01, 1.01, 'corporate');
SELECT riskguard.irb_capital(0.01, 0.45, 'corporate', 0);
SELECT riskguard.irb_capital(0.01, 0.45, 'corporate', 'NaN');
SELECT riskguard.irb_rwa(0.01, 0.45, 'NaN', 'corporate');
SELECT riskguard.risk_based_rate(1.0, 0.45, 0.03, 0.02, 0.08, 0.15);
SELECT riskguard.risk_based_rate(0.01, 0.45, 'Infinity', 0.02, 0.08, 0.15);
SELECT riskguard.risk_based_rate(0.01, 0.45, 0.03, 0.02, 1.5, 0.15);
SELECT riskguard.normal_quantile(1.5);
SELECT riskguard.normal_cdf('NaN');
SELECT riskguard.chisq_sf(1, 0);

DROP TABLE sample_fit;
DROP TABLE credit_sample;
