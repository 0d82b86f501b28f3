-- market: VaR, ES, volatility, portfolio VaR, backtests and concentration against
-- reference values computed outside PostgreSQL.
--
-- The data is test/data/market_returns.csv (2,000 simulated business days of an equity
-- index, a government bond and USD/CNY with GARCH volatility and Student-t tails).  The
-- values in market_ref were printed by `/usr/bin/python3 test/reference/market.py` from
-- the same file: numpy's default (linear, R type 7) quantile, population moments, and
-- scipy.stats for the normal, chi-square and binomial distributions.  Floating results
-- must agree to 1e-12 relative.
BEGIN;
CREATE EXTENSION riskguard;
SELECT plan(149);

-- pg_temp.near(got, want, name): ok when |got - want| <= 1e-12 |want|, with a diagnosis
CREATE FUNCTION pg_temp.near(got float8, want float8, descr text, rel float8 DEFAULT 1e-12)
RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN abs(got - want) <= rel * abs(want) THEN ok(true, descr)
         ELSE ok(false, descr) || E'\n' || diag('got ' || coalesce(got::text, 'NULL') || ', want ' || want)
         END
$$;

CREATE TEMP TABLE market_returns (
  t int PRIMARY KEY, d date, equity float8, bond float8, fx float8, equity_px float8);
\getenv top RG_TOP
\set csv :top '/test/data/market_returns.csv'
\set copy_returns '\\copy market_returns FROM ' :'csv' ' WITH (FORMAT csv, HEADER)'
:copy_returns
SELECT is((SELECT count(*)::int FROM market_returns), 2000, 'the 2,000 days of returns are loaded');

CREATE TEMP VIEW returns_long AS
  SELECT t, 'equity' AS asset, equity AS r FROM market_returns
  UNION ALL SELECT t, 'bond', bond FROM market_returns
  UNION ALL SELECT t, 'fx', fx FROM market_returns;

CREATE TEMP TABLE market_ref (name text PRIMARY KEY, value float8);
-- printed by test/reference/market.py
INSERT INTO market_ref(name, value) VALUES
  ('var_historical/equity/0.99', 0.025503875448999992),
  ('es_historical/equity/0.99', 0.033629704845),
  ('var_historical/equity/0.975', 0.01719006675249998),
  ('es_historical/equity/0.975', 0.025703677502),
  ('var_historical/equity/0.95', 0.012657017684999997),
  ('es_historical/equity/0.95', 0.020264513709000002),
  ('var_gaussian/equity/0.99', 0.01988768078509086),
  ('es_gaussian/equity/0.99', 0.02282294195815664),
  ('var_cornish_fisher/equity/0.99', 0.031142856909216057),
  ('var_gaussian/equity/0.95', 0.013984575844274802),
  ('es_gaussian/equity/0.95', 0.01760407315307854),
  ('var_cornish_fisher/equity/0.95', 0.012599280458770947),
  ('ewma_volatility/equity/0.94', 0.004600219870866908),
  ('ewma_volatility/equity/0.97', 0.005242545238795161),
  ('var_historical/bond/0.99', 0.006670442654999987),
  ('es_historical/bond/0.99', 0.009794212785000003),
  ('var_historical/bond/0.975', 0.0056102932074999995),
  ('es_historical/bond/0.975', 0.007533723417999999),
  ('var_historical/bond/0.95', 0.004262785735),
  ('es_historical/bond/0.95', 0.006177151087),
  ('var_gaussian/bond/0.99', 0.0062562127289878654),
  ('es_gaussian/bond/0.99', 0.007175240939868902),
  ('var_cornish_fisher/bond/0.99', 0.009019300157590032),
  ('var_gaussian/bond/0.95', 0.004407954719723621),
  ('es_gaussian/bond/0.95', 0.0055412167839386075),
  ('var_cornish_fisher/bond/0.95', 0.004335646950496057),
  ('ewma_volatility/bond/0.94', 0.0032140126373369007),
  ('ewma_volatility/bond/0.97', 0.0027750254957482606),
  ('var_historical/fx/0.99', 0.003151959927),
  ('es_historical/fx/0.99', 0.00399651805),
  ('var_historical/fx/0.975', 0.0024702452649999996),
  ('es_historical/fx/0.975', 0.003252338744),
  ('var_historical/fx/0.95', 0.0019654820749999994),
  ('es_historical/fx/0.95', 0.002711471768),
  ('var_gaussian/fx/0.99', 0.0028229463071460454),
  ('es_gaussian/fx/0.99', 0.00323288874370008),
  ('var_cornish_fisher/fx/0.99', 0.003596709317012394),
  ('var_gaussian/fx/0.95', 0.0019985109060042926),
  ('es_gaussian/fx/0.95', 0.002504014661338614),
  ('var_cornish_fisher/fx/0.95', 0.0019113857628350356),
  ('ewma_volatility/fx/0.94', 0.0007913768985779464),
  ('ewma_volatility/fx/0.97', 0.0009404715439445057),
  ('max_drawdown/equity_px', 0.23256010313772857),
  ('portfolio_var/0.99/1', 23000.31484082235),
  ('component_var/0.99/1/equity', 12614.420510820277),
  ('component_var/0.99/1/bond', 10193.37863985839),
  ('component_var/0.99/1/fx', 192.51569014367928),
  ('portfolio_var/0.99/10', 72733.38179797176),
  ('component_var/0.99/10/equity', 39890.30017733676),
  ('component_var/0.99/10/bond', 32234.293554461732),
  ('component_var/0.99/10/fx', 608.7880661732548),
  ('portfolio_var/0.975/1', 19377.92246126578),
  ('component_var/0.975/1/equity', 10627.735500325713),
  ('component_var/0.975/1/bond', 8587.991176143241),
  ('component_var/0.975/1/fx', 162.19578479682693),
  ('backtest/exceptions', 27.0),
  ('backtest/observations', 1750.0),
  ('backtest/exceptions_last_250', 1.0),
  ('backtest/kupiec_lr', 4.4685310225429475),
  ('backtest/kupiec_p', 0.034524661709933575),
  ('backtest/christoffersen_lr_ind', 0.8467245912839303),
  ('backtest/christoffersen_p_ind', 0.3574805893968339),
  ('backtest/christoffersen_lr_cc', 5.315255613826878),
  ('backtest/christoffersen_p_cc', 0.07011434939822675),
  ('kupiec/0/250/0.99/lr', 5.025167926750726),
  ('kupiec/0/250/0.99/p', 0.02498150305344973),
  ('kupiec/1/250/0.99/lr', 1.1764911353210774),
  ('kupiec/1/250/0.99/p', 0.2780714900139528),
  ('kupiec/7/250/0.99/lr', 5.496990447792683),
  ('kupiec/7/250/0.99/p', 0.019049230890526535),
  ('kupiec/250/250/0.99/lr', 2302.585092994045),
  ('kupiec/250/250/0.99/p', 0.0),
  ('kupiec/30/1000/0.99/lr', 26.323526355544686),
  ('kupiec/30/1000/0.99/p', 2.887497971471689e-07),
  ('kupiec/3/500/0.999/lr', 5.763090255340707),
  ('kupiec/3/500/0.999/p', 0.01636626263705322),
  ('kupiec/60/1000/0.95/lr', 1.9842212738649891),
  ('kupiec/60/1000/0.95/p', 0.158946409794037),
  ('binom_cdf/0/250/0.99', 0.08105851616218143),
  ('binom_cdf/1/250/0.99', 0.28575173879395216),
  ('binom_cdf/2/250/0.99', 0.5431689733157261),
  ('binom_cdf/3/250/0.99', 0.7581166977648832),
  ('binom_cdf/4/250/0.99', 0.8921876269036252),
  ('binom_cdf/5/250/0.99', 0.9588168159301517),
  ('binom_cdf/6/250/0.99', 0.9862985521447963),
  ('binom_cdf/7/250/0.99', 0.9959746612881922),
  ('binom_cdf/8/250/0.99', 0.9989434675026432),
  ('binom_cdf/9/250/0.99', 0.9997498099312595),
  ('binom_cdf/10/250/0.99', 0.999946101370953),
  ('binom_cdf/11/250/0.99', 0.999989361192373),
  ('binom_cdf/12/250/0.99', 0.9999980641362446),
  ('binom_cdf/9/500/0.99', 0.9688978933515119),
  ('binom_cdf/10/500/0.99', 0.9867564329002205),
  ('binom_cdf/15/500/0.99', 0.999938541434184),
  ('binom_cdf/18/500/0.99', 0.9999988405364473),
  ('binom_cdf/19/500/0.99', 0.9999997225370076),
  ('binom_cdf/20/250/0.95', 0.9851434048791328),
  ('binom_cdf/25/1000/0.99', 0.9999844133494706),
  ('hhi/book', 1731.9511772853186);

-- historical VaR and ES (18), one query per confidence level and asset
SELECT pg_temp.near(g.got, r.value, r.name)
  FROM (SELECT f || '/' || asset || '/' || c AS name,
               CASE f WHEN 'var_historical' THEN riskguard.var_historical(l.r, c)
                      ELSE riskguard.es_historical(l.r, c) END AS got
          FROM returns_long l,
               (VALUES (0.99::float8), (0.975), (0.95)) cs(c),
               (VALUES ('var_historical'), ('es_historical')) fs(f)
         GROUP BY f, asset, c) g
  JOIN market_ref r USING (name)
 ORDER BY r.name;

-- Gaussian VaR and ES, Cornish-Fisher VaR (18)
SELECT pg_temp.near(g.got, r.value, r.name)
  FROM (SELECT 'var_gaussian/' || asset || '/' || c AS name, riskguard.var_gaussian(l.r, c) AS got
          FROM returns_long l, (VALUES (0.99::float8), (0.95)) cs(c) GROUP BY asset, c
        UNION ALL
        SELECT 'es_gaussian/' || asset || '/' || c, riskguard.es_gaussian(l.r, c)
          FROM returns_long l, (VALUES (0.99::float8), (0.95)) cs(c) GROUP BY asset, c
        UNION ALL
        SELECT 'var_cornish_fisher/' || asset || '/' || c, riskguard.var_cornish_fisher(l.r, c)
          FROM returns_long l, (VALUES (0.99::float8), (0.95)) cs(c) GROUP BY asset, c) g
  JOIN market_ref r USING (name)
 ORDER BY r.name;

-- EWMA volatility (6) and maximum drawdown (1), in time order
SELECT pg_temp.near(g.got, r.value, r.name)
  FROM (SELECT 'ewma_volatility/' || asset || '/' || lambda AS name,
               riskguard.ewma_volatility(l.r, lambda ORDER BY t) AS got
          FROM returns_long l, (VALUES (0.94::float8), (0.97)) ls(lambda) GROUP BY asset, lambda
        UNION ALL
        SELECT 'max_drawdown/equity_px', riskguard.max_drawdown(equity_px ORDER BY t)
          FROM market_returns) g
  JOIN market_ref r USING (name)
 ORDER BY r.name;

-- the same returns in another row order give the same order-free aggregates
SELECT pg_temp.near(
  (SELECT riskguard.var_historical(r, 0.99) FROM (SELECT equity AS r FROM market_returns ORDER BY bond) s),
  (SELECT value FROM market_ref WHERE name = 'var_historical/equity/0.99'),
  'var_historical does not depend on row order');
SELECT pg_temp.near(
  (SELECT riskguard.var_cornish_fisher(r, 0.99) FROM (SELECT equity AS r FROM market_returns ORDER BY fx DESC) s),
  (SELECT value FROM market_ref WHERE name = 'var_cornish_fisher/equity/0.99'),
  'var_cornish_fisher does not depend on row order');

-- NULL returns are skipped
SELECT pg_temp.near(
  (SELECT riskguard.es_historical(r, 0.99)
     FROM (SELECT equity AS r FROM market_returns UNION ALL SELECT NULL FROM generate_series(1, 50)) s),
  (SELECT value FROM market_ref WHERE name = 'es_historical/equity/0.99'),
  'es_historical skips NULL returns');
SELECT pg_temp.near(
  (SELECT riskguard.var_gaussian(r, 0.99)
     FROM (SELECT NULL::float8 AS r UNION ALL SELECT equity FROM market_returns) s),
  (SELECT value FROM market_ref WHERE name = 'var_gaussian/equity/0.99'),
  'var_gaussian skips NULL returns');
SELECT pg_temp.near(
  (SELECT riskguard.ewma_volatility(r, 0.94 ORDER BY t)
     FROM (SELECT t, fx AS r FROM market_returns
           UNION ALL SELECT t, NULL FROM market_returns WHERE t % 3 = 0) s),
  (SELECT value FROM market_ref WHERE name = 'ewma_volatility/fx/0.94'),
  'ewma_volatility skips NULL returns');

-- ES is at least VaR at every level and for every asset
SELECT ok(bool_and(es >= var), 'ES >= VaR for every asset and level')
  FROM (SELECT riskguard.var_historical(r, c) AS var, riskguard.es_historical(r, c) AS es
          FROM returns_long, (VALUES (0.999::float8), (0.99), (0.9), (0.5)) cs(c) GROUP BY asset, c) s;

-- large inputs (over 65,536 values the quantile is first narrowed with a sample; when the
-- sample misleads, full selection takes over) against percentile_cont, PostgreSQL's own
-- sort-based type-7 quantile, and the SQL mean below it; 4 shapes x 3 levels x 2 (24).
-- ORDER BY g keeps the sorted and periodic shapes in their order.
CREATE TEMP TABLE big_shapes AS
SELECT shape, g, CASE shape
         WHEN 'fat tails' THEN 0.01 * tan(pi() * (((g * 0.6180339887498949) % 1.0) - 0.5)) / 50
         WHEN 'sorted'    THEN g / 1000.0
         WHEN 'ties'      THEN (g % 7) - 3.0
         WHEN 'periodic'  THEN (g % 24)::float8        -- the sample stride: every sample is equal
       END AS r
  FROM unnest(ARRAY['fat tails', 'sorted', 'ties', 'periodic']) shape, generate_series(1, 100000) g;
SELECT pg_temp.near(got, want, shape || ', ' || c || ': ' || what)
  FROM (SELECT shape, c, 'var_historical' AS what, riskguard.var_historical(r, c ORDER BY g) AS got,
               -percentile_cont(1 - c) WITHIN GROUP (ORDER BY r) AS want
          FROM big_shapes, (VALUES (0.99::float8), (0.5), (0.999999)) cs(c) GROUP BY shape, c
        UNION ALL
        SELECT b.shape, b.c, 'es_historical', riskguard.es_historical(b.r, b.c ORDER BY b.g),
               coalesce(-avg(b.r) FILTER (WHERE b.r < q.q), -q.q)
          FROM (SELECT * FROM big_shapes, (VALUES (0.99::float8), (0.5), (0.999999)) cs(c)) b
          JOIN (SELECT shape, c, percentile_cont(1 - c) WITHIN GROUP (ORDER BY r) AS q
                  FROM big_shapes, (VALUES (0.99::float8), (0.5), (0.999999)) cs(c) GROUP BY shape, c) q
            USING (shape, c)
         GROUP BY b.shape, b.c, q.q) s
 ORDER BY shape, c, what;

-- parametric portfolio VaR of the book: 1,000,000 equity, 3,000,000 bonds, 500,000 USD,
-- with the population covariance printed by the reference script (12)
CREATE TEMP TABLE book_cov AS SELECT
  '{{7.503028905874987e-05,-7.458035675482236e-06,1.9091078172350664e-06},{-7.458035675482236e-06,7.355307022834077e-06,-3.348282627049008e-07},{1.9091078172350664e-06,-3.348282627049008e-07,1.4634870236868735e-06}}'::float8[] AS cov,
  '{1000000,3000000,500000}'::float8[] AS w;
SELECT pg_temp.near(g.got, r.value, r.name)
  FROM (SELECT 'portfolio_var/' || c || '/' || h AS name, riskguard.portfolio_var(w, cov, c, h) AS got
          FROM book_cov, (VALUES (0.99::float8, 1), (0.99, 10), (0.975, 1)) ch(c, h)
        UNION ALL
        SELECT 'component_var/' || c || '/' || h || '/' || (ARRAY['equity', 'bond', 'fx'])[i],
               (riskguard.component_var(w, cov, c, h))[i]
          FROM book_cov, (VALUES (0.99::float8, 1), (0.99, 10), (0.975, 1)) ch(c, h),
               generate_series(1, 3) i) g
  JOIN market_ref r USING (name)
 ORDER BY r.name;
SELECT pg_temp.near((SELECT sum(x) FROM book_cov, unnest(riskguard.component_var(w, cov, 0.99)) x),
                    (SELECT riskguard.portfolio_var(w, cov, 0.99) FROM book_cov),
                    'component VaRs sum to the portfolio VaR');
SELECT is((SELECT riskguard.portfolio_var(w, cov, 0.99) FROM book_cov),
          (SELECT riskguard.portfolio_var(w, cov, 0.99, 1) FROM book_cov),
          'the horizon defaults to one day');
-- the covariance estimated in SQL gives the same VaR (a different summation: 1e-10)
SELECT pg_temp.near(
  (SELECT riskguard.portfolio_var('{1000000,3000000,500000}',
            ARRAY[[covar_pop(equity, equity), covar_pop(equity, bond), covar_pop(equity, fx)],
                  [covar_pop(bond, equity), covar_pop(bond, bond), covar_pop(bond, fx)],
                  [covar_pop(fx, equity), covar_pop(fx, bond), covar_pop(fx, fx)]], 0.99)
     FROM market_returns),
  (SELECT value FROM market_ref WHERE name = 'portfolio_var/0.99/1'),
  'portfolio_var with a covariance from covar_pop', 1e-10);
-- a singular (perfectly correlated) covariance is positive semi-definite and accepted
SELECT pg_temp.near(riskguard.portfolio_var('{1,1}', '{{0.0004,0.0004},{0.0004,0.0004}}', 0.99),
                    0.04 * 2.3263478740408408, 'two perfectly correlated assets add up');
SELECT is(riskguard.component_var('{1,2}', '{{0,0},{0,0}}', 0.99), '{0,0}'::float8[],
          'no variance, no VaR components');

-- backtest: one-day 99% historical VaR of the equity from the 250 previous days, as a
-- window function; exceptions are days whose return falls below minus that VaR
CREATE TEMP TABLE backtest AS
SELECT t, equity < -var AS exception
  FROM (SELECT t, equity,
               riskguard.var_historical(equity, 0.99)
                 OVER (ORDER BY t ROWS BETWEEN 250 PRECEDING AND 1 PRECEDING) AS var,
               count(*) OVER (ORDER BY t ROWS BETWEEN 250 PRECEDING AND 1 PRECEDING) AS days
          FROM market_returns) s
 WHERE days = 250;
SELECT is((SELECT count(*) FILTER (WHERE exception)::float8 FROM backtest),
          (SELECT value FROM market_ref WHERE name = 'backtest/exceptions'),
          'rolling historical VaR: exceptions');
SELECT is((SELECT count(*)::float8 FROM backtest),
          (SELECT value FROM market_ref WHERE name = 'backtest/observations'),
          'rolling historical VaR: observations');
SELECT pg_temp.near(k.lr, (SELECT value FROM market_ref WHERE name = 'backtest/kupiec_lr'), 'backtest: Kupiec LR')
  FROM (SELECT (riskguard.kupiec_pof(count(*) FILTER (WHERE exception)::int, count(*)::int, 0.99)).* FROM backtest) k;
SELECT pg_temp.near(k.p_value, (SELECT value FROM market_ref WHERE name = 'backtest/kupiec_p'), 'backtest: Kupiec p-value')
  FROM (SELECT (riskguard.kupiec_pof(count(*) FILTER (WHERE exception)::int, count(*)::int, 0.99)).* FROM backtest) k;
SELECT pg_temp.near(g.got, r.value, r.name)
  FROM (SELECT 'backtest/christoffersen_' || key AS name, value::float8 AS got
          FROM (SELECT row_to_json(riskguard.christoffersen(exception, 0.99 ORDER BY t))::jsonb AS j
                  FROM backtest) c, jsonb_each_text(c.j)) g
  JOIN market_ref r USING (name)
 ORDER BY r.name;
SELECT is((SELECT (riskguard.traffic_light(count(*) FILTER (WHERE exception)::int)).zone
             FROM (SELECT * FROM backtest ORDER BY t DESC LIMIT 250) s),
          'green', 'the last 250 days are in the green zone');

-- Kupiec on fixed counts (14)
SELECT pg_temp.near(g.got, r.value, r.name)
  FROM (SELECT 'kupiec/' || x || '/' || n || '/' || c || '/lr' AS name, (riskguard.kupiec_pof(x, n, c)).lr AS got
          FROM (VALUES (0, 250, 0.99::float8), (1, 250, 0.99), (7, 250, 0.99), (250, 250, 0.99),
                       (30, 1000, 0.99), (3, 500, 0.999), (60, 1000, 0.95)) v(x, n, c)
        UNION ALL
        SELECT 'kupiec/' || x || '/' || n || '/' || c || '/p', (riskguard.kupiec_pof(x, n, c)).p_value
          FROM (VALUES (0, 250, 0.99::float8), (1, 250, 0.99), (7, 250, 0.99), (250, 250, 0.99),
                       (30, 1000, 0.99), (3, 500, 0.999), (60, 1000, 0.95)) v(x, n, c)) g
  JOIN market_ref r USING (name)
 ORDER BY r.name;

-- the Basel table at 250 days and 99%
SELECT results_eq(
  $$SELECT x, (riskguard.traffic_light(x)).zone, (riskguard.traffic_light(x)).plus_factor
      FROM generate_series(0, 12) x ORDER BY x$$,
  $$VALUES (0, 'green', 0.0::float8), (1, 'green', 0.0), (2, 'green', 0.0), (3, 'green', 0.0),
           (4, 'green', 0.0), (5, 'yellow', 0.40), (6, 'yellow', 0.50), (7, 'yellow', 0.65),
           (8, 'yellow', 0.75), (9, 'yellow', 0.85), (10, 'red', 1.0), (11, 'red', 1.0),
           (12, 'red', 1.0)$$,
  'traffic_light reproduces the Basel table at 250 days and 99%');
-- and its cumulative probabilities (13), which the general rule would turn into the same zones
SELECT pg_temp.near((riskguard.traffic_light(x)).cumulative_probability,
                    r.value, r.name)
  FROM generate_series(0, 12) x JOIN market_ref r ON r.name = 'binom_cdf/' || x || '/250/0.99'
 ORDER BY x;
SELECT ok(bool_and(CASE WHEN cum < 0.95 THEN zone = 'green' WHEN cum >= 0.9999 THEN zone = 'red'
                        ELSE zone = 'yellow' END),
          'at 250 days and 99% the binomial boundaries give the Basel zones')
  FROM (SELECT (riskguard.traffic_light(x)).zone, r.value AS cum
          FROM generate_series(0, 12) x JOIN market_ref r ON r.name = 'binom_cdf/' || x || '/250/0.99') s;

-- other sample sizes and levels: binomial 95% / 99.99% boundaries (7 + 7)
SELECT pg_temp.near((riskguard.traffic_light(x, n, c)).cumulative_probability, r.value, r.name)
  FROM (VALUES (9, 500, 0.99::float8), (10, 500, 0.99), (15, 500, 0.99), (18, 500, 0.99),
               (19, 500, 0.99), (20, 250, 0.95), (25, 1000, 0.99)) v(x, n, c)
  JOIN market_ref r ON r.name = 'binom_cdf/' || x || '/' || n || '/' || c
 ORDER BY r.name;
SELECT results_eq(
  $$SELECT x, n, c, (riskguard.traffic_light(x, n, c)).zone, (riskguard.traffic_light(x, n, c)).plus_factor
      FROM (VALUES (5, 500, 0.99::float8), (9, 500, 0.99), (10, 500, 0.99), (15, 500, 0.99),
                   (20, 250, 0.95), (25, 1000, 0.99), (3, 1000, 0.99)) v(x, n, c)$$,
  $$VALUES (5, 500, 0.99::float8, 'green', 0.0::float8), (9, 500, 0.99, 'yellow', 0.40),
           (10, 500, 0.99, 'yellow', 0.50), (15, 500, 0.99, 'red', 1.0),
           (20, 250, 0.95, 'yellow', 0.40), (25, 1000, 0.99, 'red', 1.0),
           (3, 1000, 0.99, 'green', 0.0)$$,
  'zones and plus factors away from 250 days and 99%');
-- (cumulative probabilities: 5/500 0.616, 9/500 0.969 (>= Basel row 5, 0.959),
--  10/500 0.987 (>= row 6, 0.986), 15/500 0.99994, 20/250 at 95% 0.985, 25/1000 0.99998)

-- concentration of a loan book by industry
CREATE TEMP TABLE loan_book (industry text, exposure float8);
INSERT INTO loan_book VALUES
  ('retail', 4.2e8), ('manufacturing', 3.1e8), ('real estate', 2.5e8), ('logistics', 1.9e8),
  ('agriculture', 1.2e8), ('technology', 9.0e7), ('healthcare', 6.5e7), ('education', 4.0e7),
  ('energy', 2.5e7), ('tourism', 1.0e7);
SELECT pg_temp.near((SELECT riskguard.hhi(exposure) FROM loan_book),
                    (SELECT value FROM market_ref WHERE name = 'hhi/book'), 'hhi of the loan book');
SELECT is((SELECT riskguard.hhi(x) FROM (VALUES (5.0::float8)) v(x)), 10000::float8, 'one industry: 10000');
SELECT is((SELECT riskguard.hhi(x) FROM generate_series(1, 4) g, LATERAL (SELECT 25.0::float8) v(x)),
          2500::float8, 'four equal industries: 2500');
SELECT is((SELECT riskguard.hhi(x) FROM (VALUES (0.0::float8), (0.0)) v(x)), NULL, 'no exposure: NULL');

-- stress loss: exposures times shocked returns
SELECT pg_temp.near(riskguard.stress_loss('{1000000,3000000,500000}', '{-0.20,-0.03,0.05}'),
                    265000, 'stress loss of the book: 200,000 + 90,000 - 25,000');
SELECT is(riskguard.stress_loss('{}', '{}'), 0::float8, 'an empty book loses nothing');

-- empty input gives NULL, a single row gives the obvious figures
SELECT is((SELECT ARRAY[riskguard.var_historical(r, 0.99), riskguard.es_historical(r, 0.99),
                        riskguard.var_gaussian(r, 0.99), riskguard.es_gaussian(r, 0.99),
                        riskguard.var_cornish_fisher(r, 0.99), riskguard.ewma_volatility(r, 0.94),
                        riskguard.hhi(r), riskguard.max_drawdown(r)]
             FROM market_returns, LATERAL (SELECT equity AS r) s WHERE false),
          ARRAY[NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL]::float8[], 'empty input: NULL');
SELECT is((SELECT ARRAY[riskguard.var_historical(r, 0.99), riskguard.es_historical(r, 0.99)]
             FROM (VALUES (NULL::float8), (NULL)) v(r)),
          ARRAY[NULL, NULL]::float8[], 'only NULL returns: NULL');
SELECT is((SELECT riskguard.christoffersen(e, 0.99) FROM (VALUES (true)) v(e) WHERE false), NULL,
          'christoffersen of no days: NULL');
SELECT is((SELECT ARRAY[riskguard.var_historical(r, 0.99), riskguard.es_historical(r, 0.99),
                        riskguard.var_gaussian(r, 0.99), riskguard.es_gaussian(r, 0.99),
                        riskguard.var_cornish_fisher(r, 0.99), riskguard.ewma_volatility(r, 0.94)]
             FROM (VALUES (-0.0125::float8)) v(r)),
          ARRAY[0.0125, 0.0125, 0.0125, 0.0125, 0.0125, 0.0125]::float8[],
          'one return: every VaR, ES and volatility is its size');
SELECT is((SELECT riskguard.max_drawdown(p) FROM (VALUES (101.5::float8)) v(p)), 0::float8,
          'one price: no drawdown');
SELECT is((SELECT row(c.*)::text FROM (SELECT (riskguard.christoffersen(true, 0.99)).*) c),
          (SELECT row(0::float8, 1::float8, k.lr, exp(-k.lr / 2))::text
             FROM riskguard.kupiec_pof(1, 1, 0.99) k),
          'one day: no transitions, conditional coverage is the Kupiec statistic');

SELECT * FROM finish();
ROLLBACK;
