-- Act 21: fitting and validating a credit model in SQL, then pricing it.  The risk team
-- fits a logistic PD model on two years of loan outcomes, bins a feature for the
-- scorecard, checks discrimination and calibration, and prices each grade for capital.
\pset footer off
\set QUIET on
\echo
\echo '== Act 21: fit, validate and price a credit model in SQL'

SELECT setseed(0.2026) \g /dev/null
CREATE TABLE loan_outcomes AS
WITH a AS (
  SELECT i AS loan_id,
         greatest(21, least(70, round(38 + 10 * sqrt(-2 * ln(random())) * cos(2 * pi() * random()))))::float8 AS age,
         round(exp(ln(9) + 0.45 * sqrt(-2 * ln(random())) * cos(2 * pi() * random()))::numeric, 2)::float8 AS income_k,
         round((random() * 0.55 + random() * 0.35)::numeric, 3)::float8 AS dti,
         floor(-24 * ln(random() * random()))::float8 AS months_employed,
         (CASE WHEN random() < 0.82 THEN 0 WHEN random() < 0.7 THEN 1 ELSE 2 + floor(random() * 3) END)::float8 AS delinquencies,
         round(random()::numeric, 3)::float8 AS utilization
    FROM generate_series(1, 20000) i)
SELECT a.*,
       random() < 1 / (1 + exp(-(-2.4 - 0.02 * (age - 38) - 0.09 * (income_k - 9) + 2.2 * (dti - 0.45)
                                 - 0.007 * (months_employed - 48) + 0.6 * delinquencies
                                 + 1.5 * (utilization - 0.5)))) AS defaulted
  FROM a;
\echo 'Two years of loan outcomes:'
SELECT count(*) AS loans, count(*) FILTER (WHERE defaulted) AS defaults,
       round(avg(defaulted::int) * 100, 1) AS default_rate_pct
  FROM loan_outcomes;

\echo 'fit_logistic: logit P(default) by Newton-Raphson, in one (parallel) aggregate:'
CREATE TABLE pd_fit AS
SELECT (riskguard.fit_logistic(defaulted, ARRAY[age, income_k, dti, months_employed,
                                                 delinquencies, utilization])).*
  FROM loan_outcomes;
SELECT n, skipped, converged, iterations, round(log_likelihood::numeric, 2) AS log_likelihood
  FROM pd_fit;
SELECT t.term, round(u.c::numeric, 4) AS coef, round(u.se::numeric, 4) AS std_err,
       round(u.zv::numeric, 2) AS z, to_char(u.pv, '9.99EEEE') AS p_value
  FROM pd_fit,
       unnest(coef, std_err, z, p_value) WITH ORDINALITY AS u(c, se, zv, pv, i)
  JOIN unnest(ARRAY['(intercept)', 'age', 'income_k', 'dti', 'months_employed',
                    'delinquencies', 'utilization']) WITH ORDINALITY AS t(term, j) ON t.j = u.i
 ORDER BY u.i;

\echo 'woe_bins: monotonic weight-of-evidence bins of debt-to-income, ready for a scorecard spec:'
SELECT b.upper AS dti_below, b.count, b.bads AS defaults, round(b.bad_rate::numeric, 3) AS default_rate,
       round(b.woe::numeric, 3) AS woe, round(b.iv::numeric, 4) AS iv
  FROM jsonb_to_recordset((SELECT riskguard.woe_bins(dti, defaulted, 6) -> 'bins' FROM loan_outcomes))
       AS b(upper float8, count int, bads int, bad_rate float8, woe float8, iv float8);
SELECT round((w ->> 'iv')::numeric, 3) AS information_value, w ->> 'trend' AS woe_trend,
       jsonb_path_query_array(w, '$.bins[*] ? (@.upper != null).upper') AS cut_points
  FROM (SELECT riskguard.woe_bins(dti, defaulted, 6) AS w FROM loan_outcomes) s;

\echo 'Validation of the fitted PD (score = -logit, so higher is better):'
CREATE TABLE loan_outcomes_pd AS
SELECT l.loan_id, l.defaulted,
       1 / (1 + exp(-(m.coef[1] + m.coef[2] * age + m.coef[3] * income_k + m.coef[4] * dti
                      + m.coef[5] * months_employed + m.coef[6] * delinquencies
                      + m.coef[7] * utilization))) AS pd
  FROM loan_outcomes l, pd_fit m;
SELECT round(riskguard.auc(-ln(pd / (1 - pd)), defaulted)::numeric, 4) AS auc,
       round(riskguard.ks(-ln(pd / (1 - pd)), defaulted)::numeric, 4) AS ks,
       round(riskguard.brier(pd, defaulted)::numeric, 4) AS brier,
       round((riskguard.hosmer_lemeshow(pd, defaulted)).chi2::numeric, 2) AS hl_chi2,
       (riskguard.hosmer_lemeshow(pd, defaulted)).df AS hl_df,
       round((riskguard.hosmer_lemeshow(pd, defaulted)).p_value::numeric, 3) AS hl_p_value
  FROM loan_outcomes_pd;

\echo 'Population stability of the PD distribution: development sample against this quarter:'
SELECT round(riskguard.psi(ARRAY[2400, 5100, 5600, 4100, 2800], ARRAY[2050, 4800, 5900, 4500, 3100])::numeric, 4) AS psi,
       riskguard.psi_verdict(riskguard.psi(ARRAY[2400, 5100, 5600, 4100, 2800], ARRAY[2050, 4800, 5900, 4500, 3100])) AS verdict;

\echo 'Pricing by grade (other retail, LGD 45%, funding 3%, operating cost 2%, hurdle 15% on IRB capital):'
SELECT grade, round(min(pd)::numeric, 4) AS pd_from, round(max(pd)::numeric, 4) AS pd_to,
       count(*) AS loans, round(avg(pd)::numeric, 4) AS mean_pd,
       round((riskguard.expected_loss(avg(pd), 0.45, 10000))::numeric, 2) AS el_per_10k,
       round((riskguard.irb_capital(avg(pd), 0.45, 'other_retail') * 100)::numeric, 2) AS capital_pct,
       round((riskguard.irb_rwa(avg(pd), 0.45, 10000, 'other_retail'))::numeric, 0) AS rwa_per_10k,
       round((riskguard.risk_based_rate(avg(pd), 0.45, 0.03, 0.02,
                                        riskguard.irb_capital(avg(pd), 0.45, 'other_retail'), 0.15) * 100)::numeric, 2) AS rate_pct
  FROM (SELECT pd, CASE WHEN pd < 0.03 THEN 'A' WHEN pd < 0.06 THEN 'B' WHEN pd < 0.12 THEN 'C'
                        WHEN pd < 0.25 THEN 'D' ELSE 'E' END AS grade
          FROM loan_outcomes_pd) g
 GROUP BY grade ORDER BY grade;
