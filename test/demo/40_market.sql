-- Act 4: market risk.  The risk team looks at the platform's own book: a year and a half
-- of daily returns of its three positions, the book's VaR and Expected Shortfall at 99%,
-- a backtest of the VaR model, a stress test, and how concentrated the loan book is.
\pset footer off
\set QUIET on
\echo
\echo '== Act 4: market risk of the platform''s book'

-- the book: 20 million CNY in an equity index fund, 50 million in government bonds,
-- 8 million in USD deposits; 400 business days of daily returns, simulated with a fixed
-- seed (volatility clustering and fat tails come from a mixture of calm and stressed days)
SELECT setseed(0.2026) \gset
CREATE TABLE book_positions (instrument text PRIMARY KEY, exposure_cny float8 NOT NULL);
INSERT INTO book_positions VALUES
  ('CSI 300 index fund', 20e6), ('10Y government bond', 50e6), ('USD deposits', 8e6);

CREATE TABLE book_returns (d date, instrument text, r float8, PRIMARY KEY (d, instrument));
INSERT INTO book_returns
SELECT d, p.instrument,
       CASE p.instrument
         WHEN 'CSI 300 index fund' THEN 0.0004 + vol * 0.011 * z1
         WHEN '10Y government bond' THEN 0.0001 + vol * 0.0025 * (-0.3 * z1 + 0.95 * z2)
         ELSE vol * 0.0018 * (0.2 * z1 + 0.98 * z3)
       END
  FROM (SELECT d,
               CASE WHEN random() < 0.1 THEN 2.5 ELSE 0.85 END AS vol,
               sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS z1,
               sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS z2,
               sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS z3
          FROM generate_series(date '2025-05-01', date '2026-11-20', interval '1 day') g(d)
         WHERE extract(isodow FROM d) < 6) days,
       book_positions p;

-- the book's daily P&L in CNY
CREATE VIEW book_pnl AS
SELECT r.d, sum(r.r * p.exposure_cny) AS pnl_cny, sum(r.r * p.exposure_cny) / sum(p.exposure_cny) AS r
  FROM book_returns r JOIN book_positions p USING (instrument)
 GROUP BY r.d;

\echo 'Daily returns (first days):'
SELECT d, instrument, round(r::numeric * 100, 3) AS return_pct
  FROM book_returns ORDER BY d, instrument LIMIT 6;

\echo 'One-day VaR and Expected Shortfall at 99%, in CNY, per position and for the book:'
SELECT instrument,
       round((riskguard.var_historical(r, 0.99) * max(exposure_cny))::numeric) AS var_hist_cny,
       round((riskguard.es_historical(r, 0.99) * max(exposure_cny))::numeric) AS es_hist_cny,
       round((riskguard.var_gaussian(r, 0.99) * max(exposure_cny))::numeric) AS var_normal_cny,
       round((riskguard.var_cornish_fisher(r, 0.99) * max(exposure_cny))::numeric) AS var_modified_cny,
       round((riskguard.ewma_volatility(r, 0.94 ORDER BY d) * 100)::numeric, 3) AS vol_tomorrow_pct
  FROM book_returns JOIN book_positions USING (instrument)
 GROUP BY instrument
UNION ALL
SELECT 'whole book',
       round(riskguard.var_historical(pnl_cny, 0.99)::numeric),
       round(riskguard.es_historical(pnl_cny, 0.99)::numeric),
       round(riskguard.var_gaussian(pnl_cny, 0.99)::numeric),
       round(riskguard.var_cornish_fisher(pnl_cny, 0.99)::numeric),
       round((riskguard.ewma_volatility(r, 0.94 ORDER BY d) * 100)::numeric, 3)
  FROM book_pnl
 ORDER BY 1;

\echo 'Parametric 10-day VaR at 99% of the book and what each position contributes (CNY):'
WITH pos AS (
  SELECT array_agg(instrument ORDER BY instrument) AS names,
         array_agg(exposure_cny ORDER BY instrument) AS exposures
    FROM book_positions),
pairs AS (
  SELECT x.instrument AS a, y.instrument AS b, covar_pop(x.r, y.r) AS c
    FROM book_returns x JOIN book_returns y USING (d)
   GROUP BY 1, 2),
cov AS (
  SELECT array_agg(cov_row ORDER BY a) AS cov
    FROM (SELECT a, array_agg(c ORDER BY b) AS cov_row FROM pairs GROUP BY a) s)
SELECT name AS instrument, round(component::numeric) AS component_var_cny,
       round(riskguard.portfolio_var(exposures, cov, 0.99, 10)::numeric) AS book_var_10d_cny
  FROM pos, cov, unnest(names, riskguard.component_var(exposures, cov, 0.99, 10)) AS u(name, component);

\echo 'Backtest of the last 250 days: each day against a 99% historical VaR from the 100 days before it:'
CREATE VIEW book_backtest AS
SELECT d, r, var, r < -var AS exception
  FROM (SELECT d, r,
               riskguard.var_historical(r, 0.99) OVER (ORDER BY d ROWS BETWEEN 100 PRECEDING AND 1 PRECEDING) AS var,
               row_number() OVER (ORDER BY d DESC) AS age
          FROM book_pnl) s
 WHERE age <= 250;
WITH e AS (SELECT count(*)::int AS days, count(*) FILTER (WHERE exception)::int AS x FROM book_backtest)
SELECT e.days, e.x AS exceptions,
       round(k.lr::numeric, 3) AS kupiec_lr, round(k.p_value::numeric, 3) AS kupiec_p,
       round(c.p_cc::numeric, 3) AS christoffersen_p_cc,
       t.zone AS basel_zone, t.plus_factor
  FROM e,
       riskguard.kupiec_pof(e.x, e.days, 0.99) k,
       riskguard.traffic_light(e.x, e.days, 0.99) t,
       (SELECT (riskguard.christoffersen(exception, 0.99 ORDER BY d)).* FROM book_backtest) c;
\echo 'The exception days:'
SELECT d, round(r::numeric * 100, 2) AS book_return_pct, round(var::numeric * 100, 2) AS var_pct
  FROM book_backtest WHERE exception ORDER BY d;

\echo 'Stress test: losses of the book (CNY) under named scenarios:'
CREATE TABLE stress_shocks (scenario text, instrument text, shock float8,
                            PRIMARY KEY (scenario, instrument));
INSERT INTO stress_shocks VALUES
  ('2015-style equity crash', 'CSI 300 index fund', -0.35), ('2015-style equity crash', '10Y government bond', 0.03),
  ('2015-style equity crash', 'USD deposits', 0.02),
  ('rates +150bp', 'CSI 300 index fund', -0.06), ('rates +150bp', '10Y government bond', -0.09),
  ('rates +150bp', 'USD deposits', 0.00),
  ('CNY devaluation 8%', 'CSI 300 index fund', -0.07), ('CNY devaluation 8%', '10Y government bond', -0.02),
  ('CNY devaluation 8%', 'USD deposits', 0.08),
  ('flight to quality', 'CSI 300 index fund', -0.15), ('flight to quality', '10Y government bond', 0.04),
  ('flight to quality', 'USD deposits', 0.05);
SELECT scenario,
       string_agg(instrument || ' ' || to_char(shock * 100, 'FMSG990') || '%', ', ' ORDER BY instrument) AS shocks,
       round(riskguard.stress_loss(array_agg(p.exposure_cny ORDER BY instrument),
                                   array_agg(s.shock ORDER BY instrument))::numeric) AS loss_cny
  FROM stress_shocks s JOIN book_positions p USING (instrument)
 GROUP BY scenario ORDER BY loss_cny DESC;
\echo 'For scale: the worst fall of the book from a peak over the period:'
SELECT round((riskguard.max_drawdown(v ORDER BY d) * 100)::numeric, 2) AS max_drawdown_pct,
       round(((riskguard.max_drawdown(v ORDER BY d)) * (SELECT sum(exposure_cny) FROM book_positions))::numeric)
         AS max_drawdown_cny
  FROM (SELECT d, exp(sum(ln(1 + r)) OVER (ORDER BY d)) AS v FROM book_pnl) x;

\echo 'Concentration of the loan book by industry (HHI, 0 to 10000; above 2500 is highly concentrated):'
CREATE TABLE loan_book (loan_id int PRIMARY KEY, industry text NOT NULL, outstanding_cny bigint NOT NULL);
INSERT INTO loan_book
SELECT i,
       (ARRAY['retail', 'retail', 'retail', 'manufacturing', 'manufacturing', 'logistics',
              'real estate', 'agriculture', 'technology', 'healthcare', 'education', 'tourism'])
         [1 + floor(random() * 12)::int],
       (20000 + floor(random() * 480000))::bigint
  FROM generate_series(1, 3000) i;
SELECT industry, count(*) AS loans, sum(outstanding_cny) AS outstanding_cny,
       round(100.0 * sum(outstanding_cny) / sum(sum(outstanding_cny)) OVER (), 1) AS share_pct
  FROM loan_book GROUP BY industry ORDER BY 3 DESC;
SELECT round(riskguard.hhi(outstanding)::numeric) AS hhi_by_industry,
       round(10000.0 / count(*)) AS hhi_if_spread_evenly,
       count(*) AS industries
  FROM (SELECT industry, sum(outstanding_cny)::float8 AS outstanding FROM loan_book GROUP BY industry) s;
\set QUIET off
