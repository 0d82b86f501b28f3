-- market: every bad input of the market-risk functions fails with its SQLSTATE.
-- NaN and infinite values, out-of-range confidence or lambda, a confidence that changes
-- between rows, bad counts and bad covariance matrices are 22023; NULL where a value is
-- required is 22004; a result that overflows double precision is 22003.
BEGIN;
CREATE EXTENSION riskguard;
SELECT plan(67);

CREATE TEMP TABLE r (t int, r float8);
INSERT INTO r SELECT g, sin(g) / 100 FROM generate_series(1, 100) g;

-- NaN and infinite returns, prices and exposures
SELECT throws_ok($$SELECT riskguard.var_historical(x, 0.99) FROM (VALUES (0.01::float8), ('NaN')) v(x)$$,
                 '22023', 'return NaN is not allowed in "var_historical"', 'var_historical: NaN');
SELECT throws_ok($$SELECT riskguard.es_historical(x, 0.99) FROM (VALUES ('Infinity'::float8)) v(x)$$,
                 '22023', 'return Infinity is not allowed in "es_historical"', 'es_historical: Infinity');
SELECT throws_ok($$SELECT riskguard.var_gaussian(x, 0.99) FROM (VALUES ('-Infinity'::float8)) v(x)$$,
                 '22023', 'return -Infinity is not allowed in "var_gaussian"', 'var_gaussian: -Infinity');
SELECT throws_ok($$SELECT riskguard.es_gaussian(x, 0.99) FROM (VALUES (0.01::float8), ('NaN')) v(x)$$,
                 '22023', NULL, 'es_gaussian: NaN');
SELECT throws_ok($$SELECT riskguard.var_cornish_fisher(x, 0.99) FROM (VALUES ('NaN'::float8)) v(x)$$,
                 '22023', NULL, 'var_cornish_fisher: NaN');
SELECT throws_ok($$SELECT riskguard.ewma_volatility(x, 0.94) FROM (VALUES ('Infinity'::float8)) v(x)$$,
                 '22023', NULL, 'ewma_volatility: Infinity');
SELECT throws_ok($$SELECT riskguard.hhi(x) FROM (VALUES ('NaN'::float8)) v(x)$$,
                 '22023', 'exposure NaN is not allowed in "hhi"', 'hhi: NaN');
SELECT throws_ok($$SELECT riskguard.max_drawdown(x) FROM (VALUES (100::float8), ('Infinity')) v(x)$$,
                 '22023', NULL, 'max_drawdown: Infinity');
SELECT throws_ok($$SELECT riskguard.stress_loss('{1,NaN}', '{0.1,0.2}')$$, '22023', NULL, 'stress_loss: NaN exposure');
SELECT throws_ok($$SELECT riskguard.portfolio_var('{1,1}', '{{1,0},{0,Infinity}}', 0.99)$$, '22023', NULL,
                 'portfolio_var: infinite covariance');

-- confidence outside (0, 1)
SELECT throws_ok($$SELECT riskguard.var_historical(r, 1) FROM r$$, '22023',
                 'confidence 1 is out of range for "var_historical"', 'var_historical: confidence 1');
SELECT throws_ok($$SELECT riskguard.es_historical(r, 0) FROM r$$, '22023', NULL, 'es_historical: confidence 0');
SELECT throws_ok($$SELECT riskguard.var_gaussian(r, 1.5) FROM r$$, '22023', NULL, 'var_gaussian: confidence 1.5');
SELECT throws_ok($$SELECT riskguard.es_gaussian(r, -0.99) FROM r$$, '22023', NULL, 'es_gaussian: confidence -0.99');
SELECT throws_ok($$SELECT riskguard.var_cornish_fisher(r, 'NaN') FROM r$$, '22023', NULL, 'var_cornish_fisher: confidence NaN');
SELECT throws_ok($$SELECT riskguard.christoffersen(r < 0, 99) FROM r$$, '22023', NULL, 'christoffersen: confidence 99');
SELECT throws_ok($$SELECT riskguard.kupiec_pof(1, 250, 1)$$, '22023', NULL, 'kupiec_pof: confidence 1');
SELECT throws_ok($$SELECT riskguard.traffic_light(1, 250, 0)$$, '22023', NULL, 'traffic_light: confidence 0');
SELECT throws_ok($$SELECT riskguard.portfolio_var('{1}', '{{1}}', 1.01)$$, '22023', NULL, 'portfolio_var: confidence 1.01');
SELECT throws_ok($$SELECT riskguard.component_var('{1}', '{{1}}', 0)$$, '22023', NULL, 'component_var: confidence 0');

-- confidence NULL, or changing between rows
SELECT throws_ok($$SELECT riskguard.var_historical(r, NULL) FROM r$$, '22004',
                 'confidence of "var_historical" must not be null', 'var_historical: NULL confidence');
SELECT throws_ok($$SELECT riskguard.var_gaussian(r, NULL) FROM r$$, '22004', NULL, 'var_gaussian: NULL confidence');
SELECT throws_ok($$SELECT riskguard.christoffersen(r < 0, NULL) FROM r$$, '22004', NULL, 'christoffersen: NULL confidence');
SELECT throws_ok($$SELECT riskguard.var_historical(r, CASE WHEN t < 50 THEN 0.99 ELSE 0.95 END) FROM r$$, '22023',
                 'confidence changed from 0.99 to 0.95 within "var_historical"', 'var_historical: confidence changes');
SELECT throws_ok($$SELECT riskguard.es_historical(r, 0.9 + t / 1000.0) FROM r$$, '22023', NULL, 'es_historical: confidence changes');
SELECT throws_ok($$SELECT riskguard.es_gaussian(r, CASE WHEN t < 50 THEN 0.99 ELSE 0.95 END) FROM r$$, '22023', NULL,
                 'es_gaussian: confidence changes');
SELECT throws_ok($$SELECT riskguard.var_cornish_fisher(r, CASE WHEN t < 50 THEN 0.99 ELSE 0.95 END) FROM r$$, '22023', NULL,
                 'var_cornish_fisher: confidence changes');
SELECT throws_ok($$SELECT riskguard.christoffersen(r < 0, CASE WHEN t < 50 THEN 0.99 ELSE 0.95 END ORDER BY t) FROM r$$,
                 '22023', NULL, 'christoffersen: confidence changes');

-- lambda outside (0, 1), NULL or changing
SELECT throws_ok($$SELECT riskguard.ewma_volatility(r, 1 ORDER BY t) FROM r$$, '22023',
                 'lambda 1 is out of range for "ewma_volatility"', 'ewma_volatility: lambda 1');
SELECT throws_ok($$SELECT riskguard.ewma_volatility(r, 0 ORDER BY t) FROM r$$, '22023', NULL, 'ewma_volatility: lambda 0');
SELECT throws_ok($$SELECT riskguard.ewma_volatility(r, NULL ORDER BY t) FROM r$$, '22004', NULL, 'ewma_volatility: NULL lambda');
SELECT throws_ok($$SELECT riskguard.ewma_volatility(r, CASE WHEN t < 50 THEN 0.94 ELSE 0.97 END ORDER BY t) FROM r$$,
                 '22023', NULL, 'ewma_volatility: lambda changes');

-- covariance matrices and weights
SELECT throws_ok($$SELECT riskguard.portfolio_var('{1,1}', '{{1,0,0},{0,1,0}}', 0.99)$$, '22023',
                 'covariance of "portfolio_var" must be a square matrix', 'portfolio_var: 2 x 3 covariance');
SELECT throws_ok($$SELECT riskguard.portfolio_var('{1,1}', '{1,0,0,1}', 0.99)$$, '22023', NULL,
                 'portfolio_var: covariance as a flat array');
SELECT throws_ok($$SELECT riskguard.portfolio_var('{1,1,1}', '{{1,0},{0,1}}', 0.99)$$, '22023',
                 'weights and covariance of "portfolio_var" differ in size: 3 weights, 2 x 2 covariance',
                 'portfolio_var: weights and covariance of different sizes');
SELECT throws_ok($$SELECT riskguard.component_var('{1}', '{{1,0},{0,1}}', 0.99)$$, '22023', NULL,
                 'component_var: weights and covariance of different sizes');
SELECT throws_ok($$SELECT riskguard.portfolio_var('{1,1}', '{{1,0.5},{0.4,1}}', 0.99)$$, '22023',
                 'covariance of "portfolio_var" is not symmetric', 'portfolio_var: asymmetric covariance');
SELECT throws_ok($$SELECT riskguard.portfolio_var('{1,1}', '{{1,2},{2,1}}', 0.99)$$, '22023',
                 'covariance of "portfolio_var" is not positive semi-definite', 'portfolio_var: indefinite covariance');
SELECT throws_ok($$SELECT riskguard.component_var('{1,1,1}', '{{1,0.9,0.9},{0.9,1,-0.9},{0.9,-0.9,1}}', 0.99)$$,
                 '22023', NULL, 'component_var: correlations that cannot coexist');
SELECT throws_ok($$SELECT riskguard.portfolio_var('{1,1}', '{{-0.01,0},{0,1}}', 0.99)$$, '22023', NULL,
                 'portfolio_var: negative variance');
SELECT throws_ok($$SELECT riskguard.portfolio_var('{}', '{{1}}', 0.99)$$, '22023', NULL, 'portfolio_var: no weights');
SELECT throws_ok($$SELECT riskguard.portfolio_var('{1,NULL}', '{{1,0},{0,1}}', 0.99)$$, '22004', NULL,
                 'portfolio_var: NULL weight');
SELECT throws_ok($$SELECT riskguard.portfolio_var('{1,1}', '{{1,NULL},{0,1}}', 0.99)$$, '22004', NULL,
                 'portfolio_var: NULL in the covariance');
SELECT throws_ok($$SELECT riskguard.portfolio_var('{1}', '{{1}}', 0.99, 0)$$, '22023',
                 'horizon_days 0 is out of range for "portfolio_var"', 'portfolio_var: horizon 0');
SELECT is(riskguard.portfolio_var('{1}', '{{1}}', 0.99, NULL), NULL, 'portfolio_var: NULL argument, NULL result');

-- backtest counts
SELECT throws_ok($$SELECT riskguard.kupiec_pof(251, 250, 0.99)$$, '22023',
                 'exceptions exceed observations for "kupiec_pof": 251 exceptions in 250 observations',
                 'kupiec_pof: exceptions greater than observations');
SELECT throws_ok($$SELECT riskguard.kupiec_pof(-1, 250, 0.99)$$, '22023', NULL, 'kupiec_pof: negative exceptions');
SELECT throws_ok($$SELECT riskguard.kupiec_pof(0, -250, 0.99)$$, '22023', NULL, 'kupiec_pof: negative observations');
SELECT throws_ok($$SELECT riskguard.kupiec_pof(0, 0, 0.99)$$, '22023', NULL, 'kupiec_pof: no observations');
SELECT throws_ok($$SELECT riskguard.traffic_light(11, 10)$$, '22023', NULL, 'traffic_light: exceptions greater than observations');
SELECT throws_ok($$SELECT riskguard.traffic_light(-3)$$, '22023', NULL, 'traffic_light: negative exceptions');
SELECT throws_ok($$SELECT riskguard.traffic_light(0, -1)$$, '22023', NULL, 'traffic_light: negative observations');

-- concentration, prices, stress
SELECT throws_ok($$SELECT riskguard.hhi(x) FROM (VALUES (10::float8), (-1)) v(x)$$, '22023',
                 'exposure -1 is negative in "hhi"', 'hhi: negative exposure');
SELECT throws_ok($$SELECT riskguard.max_drawdown(x) FROM (VALUES (100::float8), (0)) v(x)$$, '22023',
                 'price 0 is not positive in "max_drawdown"', 'max_drawdown: zero price');
SELECT throws_ok($$SELECT riskguard.stress_loss('{1,2}', '{0.1}')$$, '22023',
                 'exposures and shocks of "stress_loss" differ in size: 2 and 1', 'stress_loss: sizes differ');
SELECT throws_ok($$SELECT riskguard.stress_loss('{{1,2}}', '{{0.1,0.2}}')$$, '22023', NULL, 'stress_loss: two-dimensional');
SELECT throws_ok($$SELECT riskguard.stress_loss('{1,NULL}', '{0.1,0.2}')$$, '22004', NULL, 'stress_loss: NULL exposure');

-- finite inputs whose result overflows double precision: 22003, not a silent NaN
SELECT throws_ok($$SELECT riskguard.var_cornish_fisher(x, 0.99) FROM (VALUES (1e300::float8), (-1e300)) v(x)$$,
                 '22003', 'result of "var_cornish_fisher" is out of range', 'var_cornish_fisher: overflow');
SELECT throws_ok($$SELECT riskguard.var_gaussian(x, 0.99) FROM (VALUES (1e200::float8), (-1e200)) v(x)$$,
                 '22003', NULL, 'var_gaussian: overflow');
SELECT throws_ok($$SELECT riskguard.hhi(x) FROM (VALUES (1e300::float8), (1e300)) v(x)$$,
                 '22003', NULL, 'hhi: overflow');
SELECT throws_ok($$SELECT riskguard.ewma_volatility(x, 0.5) FROM (VALUES (1e200::float8)) v(x)$$,
                 '22003', NULL, 'ewma_volatility: overflow');
SELECT throws_ok($$SELECT riskguard.component_var('{1e200,1e200}', '{{1e200,0},{0,1e200}}', 0.99)$$,
                 '22003', NULL, 'component_var: overflow');

-- as window functions (rolling VaR) the same checks apply
SELECT throws_ok($$SELECT riskguard.var_historical(r, 0.99) OVER (ORDER BY t) FROM (VALUES (1, 0.01::float8), (2, 'NaN')) v(t, r)$$,
                 '22023', 'return NaN is not allowed in "var_historical or es_historical"',
                 'var_historical as a window function: NaN');
SELECT throws_ok($$SELECT riskguard.es_historical(r, 0.9 + t / 100.0) OVER (ORDER BY t) FROM r$$, '22023', NULL,
                 'es_historical as a window function: confidence changes');

-- with forced parallel plans: each worker's confidence may be constant, the combine still refuses
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
CREATE TEMP TABLE big AS SELECT g AS t, sin(g) / 100 AS r FROM generate_series(1, 20000) g;
ANALYZE big;
SELECT throws_ok($$SELECT riskguard.var_historical(r, CASE WHEN t <= 10000 THEN 0.99 ELSE 0.95 END) FROM big$$,
                 '22023', NULL, 'var_historical in parallel: confidence changes');
SELECT throws_ok($$SELECT riskguard.var_cornish_fisher(r, CASE WHEN t <= 10000 THEN 0.99 ELSE 0.95 END) FROM big$$,
                 '22023', NULL, 'var_cornish_fisher in parallel: confidence changes');
SELECT throws_ok($$SELECT riskguard.es_historical(r, 0.99) FROM (SELECT r FROM big UNION ALL SELECT 'NaN') s$$,
                 '22023', NULL, 'es_historical in parallel: NaN');

SELECT * FROM finish();
ROLLBACK;
