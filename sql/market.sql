-- market: the market-risk surface on a small book, the shape of each result, and the
-- messages of bad input (values against numpy/scipy are in test/pgtap/40_market.sql).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS riskguard;
RESET client_min_messages;

-- twenty days of a book's daily P&L as returns on its value
CREATE TABLE market_book_returns (d date PRIMARY KEY, r float8);
INSERT INTO market_book_returns VALUES
  ('2026-10-01', 0.0042), ('2026-10-02', -0.0115), ('2026-10-05', 0.0031), ('2026-10-06', -0.0027),
  ('2026-10-07', 0.0068), ('2026-10-08', -0.0241), ('2026-10-09', 0.0012), ('2026-10-12', 0.0095),
  ('2026-10-13', -0.0063), ('2026-10-14', 0.0017), ('2026-10-15', -0.0149), ('2026-10-16', 0.0024),
  ('2026-10-19', 0.0051), ('2026-10-20', -0.0008), ('2026-10-21', 0.0036), ('2026-10-22', -0.0032),
  ('2026-10-23', 0.0077), ('2026-10-26', -0.0054), ('2026-10-27', 0.0009), ('2026-10-28', NULL);

-- h = (19 - 1) * 0.1 = 1.8: VaR = -(-0.0149 + 0.8 * (-0.0115 + 0.0149)) = 0.01218;
-- ES = -mean(-0.0241, -0.0149) = 0.0195
SELECT round(riskguard.var_historical(r, 0.9)::numeric, 8) AS var_90,
       round(riskguard.es_historical(r, 0.9)::numeric, 8) AS es_90,
       round(riskguard.var_gaussian(r, 0.99)::numeric, 8) AS var_gaussian_99,
       round(riskguard.es_gaussian(r, 0.99)::numeric, 8) AS es_gaussian_99,
       round(riskguard.var_cornish_fisher(r, 0.99)::numeric, 8) AS var_cf_99,
       round(riskguard.ewma_volatility(r, 0.94 ORDER BY d)::numeric, 8) AS ewma_vol
  FROM market_book_returns;

-- the value of the book, and its worst fall from a peak
SELECT round(riskguard.max_drawdown(v ORDER BY d)::numeric, 6) AS max_drawdown
  FROM (SELECT d, 100 * exp(sum(ln(1 + r)) OVER (ORDER BY d)) AS v
          FROM market_book_returns WHERE r IS NOT NULL) s;

-- parametric VaR of two positions (money) over 1 and 10 days, and its components
SELECT round(riskguard.portfolio_var('{600000,400000}', '{{0.0001,0.00002},{0.00002,0.0004}}', 0.99)::numeric, 2) AS var_1d,
       round(riskguard.portfolio_var('{600000,400000}', '{{0.0001,0.00002},{0.00002,0.0004}}', 0.99, 10)::numeric, 2) AS var_10d,
       (SELECT array_agg(round(c::numeric, 2))
          FROM unnest(riskguard.component_var('{600000,400000}', '{{0.0001,0.00002},{0.00002,0.0004}}', 0.99)) c) AS components;

-- backtests
SELECT round(lr::numeric, 6) AS lr, round(p_value::numeric, 6) AS p_value
  FROM riskguard.kupiec_pof(6, 250, 0.99);
SELECT round(lr_ind::numeric, 6) AS lr_ind, round(p_ind::numeric, 6) AS p_ind,
       round(lr_cc::numeric, 6) AS lr_cc, round(p_cc::numeric, 6) AS p_cc
  FROM (SELECT (riskguard.christoffersen(r < -0.01, 0.95 ORDER BY d)).*
          FROM market_book_returns) c;
SELECT x AS exceptions, zone, plus_factor, round(cumulative_probability::numeric, 4) AS cumulative
  FROM generate_series(0, 11) x, riskguard.traffic_light(x);
SELECT zone, plus_factor, round(cumulative_probability::numeric, 6) AS cumulative
  FROM riskguard.traffic_light(14, 500, 0.99);

-- concentration and stress
SELECT riskguard.hhi(e) AS hhi FROM (VALUES (50.0::float8), (30), (20)) v(e);
SELECT riskguard.stress_loss('{600000,400000}', '{-0.08,0.02}') AS stress_loss;

-- bad input: the messages
SELECT riskguard.var_historical(r, 0.99) FROM (VALUES (0.01::float8), ('NaN')) v(r);
SELECT riskguard.var_gaussian(r, 1.0) FROM market_book_returns;
SELECT riskguard.es_historical(r, CASE WHEN d < '2026-10-15' THEN 0.99 ELSE 0.975 END) FROM market_book_returns;
SELECT riskguard.var_cornish_fisher(r, NULL) FROM market_book_returns;
SELECT riskguard.ewma_volatility(r, 1.2 ORDER BY d) FROM market_book_returns;
SELECT riskguard.portfolio_var('{1,1}', '{{1,2},{2,1}}', 0.99);
SELECT riskguard.portfolio_var('{1,1}', '{{1,0.5},{0.4,1}}', 0.99);
SELECT riskguard.portfolio_var('{1,1}', '{1,0,0,1}', 0.99);
SELECT riskguard.component_var('{1,1,1}', '{{1,0},{0,1}}', 0.99);
SELECT riskguard.portfolio_var('{1}', '{{1}}', 0.99, 0);
SELECT riskguard.kupiec_pof(300, 250, 0.99);
SELECT riskguard.traffic_light(-1);
SELECT riskguard.hhi(e) FROM (VALUES (-5.0::float8)) v(e);
SELECT riskguard.max_drawdown(p) FROM (VALUES (0.0::float8)) v(p);
SELECT riskguard.stress_loss('{1,2,3}', '{0.1}');

DROP TABLE market_book_returns;
