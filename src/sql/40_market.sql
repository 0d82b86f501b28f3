-- Market risk: VaR and Expected Shortfall (historical, Gaussian, Cornish-Fisher), EWMA
-- volatility, parametric portfolio VaR, backtests, concentration, drawdown and stress.
--
-- Conventions: inputs are returns (float8); VaR and ES are positive losses; confidence
-- c such as 0.99, tail p = 1 - c; the historical quantile is R's type 7; moments are
-- population moments.  Aggregates that do not depend on row order have combine
-- functions and run in parallel workers; the order-dependent ones (ewma_volatility,
-- christoffersen, max_drawdown) are called with ORDER BY t.

CREATE TYPE riskguard.kupiec_result AS (lr float8, p_value float8);
COMMENT ON TYPE riskguard.kupiec_result IS
  'Kupiec proportion-of-failures test: likelihood ratio and its chi-square (1 df) p-value';

CREATE TYPE riskguard.christoffersen_result AS (
  lr_ind float8, p_ind float8, lr_cc float8, p_cc float8);
COMMENT ON TYPE riskguard.christoffersen_result IS
  'Christoffersen tests: independence (1 df) and conditional coverage (2 df) likelihood ratios with p-values';

CREATE TYPE riskguard.traffic_light_result AS (
  zone text, plus_factor float8, cumulative_probability float8);
COMMENT ON TYPE riskguard.traffic_light_result IS
  'Basel traffic light: zone (green, yellow, red), plus factor to the capital multiplier, and P(X <= exceptions) under the model';

-- ---- historical VaR and ES: exact, every value kept (8 bytes per row) ----
-- The final functions reorder the buffer while selecting, but the state is a multiset
-- of returns that no reordering changes, so it stays READ_ONLY: the two aggregates can
-- share one state, and both work as window functions (rolling VaR for backtests).

CREATE FUNCTION riskguard._hist_trans(internal, float8, float8)
RETURNS internal
AS 'MODULE_PATHNAME', 'rg_market_hist_trans'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard._hist_trans(internal, float8, float8) IS
  'transition of var_historical and es_historical: appends a return to the state';

CREATE FUNCTION riskguard._hist_combine(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'rg_market_hist_combine'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard._hist_combine(internal, internal) IS
  'combine of var_historical and es_historical: merges the returns of two partial states';

CREATE FUNCTION riskguard._hist_serial(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'rg_market_hist_serial'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard._hist_serial(internal) IS
  'serialises a var_historical or es_historical state for a parallel worker';

CREATE FUNCTION riskguard._hist_deserial(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'rg_market_hist_deserial'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard._hist_deserial(bytea, internal) IS
  'deserialises a var_historical or es_historical state, checking its length';

CREATE FUNCTION riskguard._var_historical_final(internal)
RETURNS float8
AS 'MODULE_PATHNAME', 'rg_market_var_historical_final'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard._var_historical_final(internal) IS
  'final of var_historical: minus the type-7 quantile, found by selection';

CREATE FUNCTION riskguard._es_historical_final(internal)
RETURNS float8
AS 'MODULE_PATHNAME', 'rg_market_es_historical_final'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard._es_historical_final(internal) IS
  'final of es_historical: minus the mean of the returns strictly below the type-7 quantile';

CREATE AGGREGATE riskguard.var_historical(r float8, confidence float8) (
  SFUNC = riskguard._hist_trans,
  STYPE = internal,
  FINALFUNC = riskguard._var_historical_final,
  FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = riskguard._hist_combine,
  SERIALFUNC = riskguard._hist_serial,
  DESERIALFUNC = riskguard._hist_deserial,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE riskguard.var_historical(float8, float8) IS
  'historical VaR: minus the type-7 (numpy linear) quantile of the returns at tail 1 - confidence; exact';

CREATE AGGREGATE riskguard.es_historical(r float8, confidence float8) (
  SFUNC = riskguard._hist_trans,
  STYPE = internal,
  FINALFUNC = riskguard._es_historical_final,
  FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = riskguard._hist_combine,
  SERIALFUNC = riskguard._hist_serial,
  DESERIALFUNC = riskguard._hist_deserial,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE riskguard.es_historical(float8, float8) IS
  'historical Expected Shortfall: minus the mean of the returns strictly below the var_historical quantile (the VaR when none is)';

-- ---- moment-based VaR and ES ----

CREATE FUNCTION riskguard._moments2_trans(float8[], float8, float8)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'rg_market_moments2_trans'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard._moments2_trans(float8[], float8, float8) IS
  'transition of var_gaussian and es_gaussian: count, mean and sum of squared deviations (Welford)';

CREATE FUNCTION riskguard._moments2_combine(float8[], float8[])
RETURNS float8[]
AS 'MODULE_PATHNAME', 'rg_market_moments2_combine'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard._moments2_combine(float8[], float8[]) IS
  'combine of var_gaussian and es_gaussian (Chan et al. pairwise update)';

CREATE FUNCTION riskguard._var_gaussian_final(float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'rg_market_var_gaussian_final'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard._var_gaussian_final(float8[]) IS
  'final of var_gaussian: -(mu + sigma z_p)';

CREATE FUNCTION riskguard._es_gaussian_final(float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'rg_market_es_gaussian_final'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard._es_gaussian_final(float8[]) IS
  'final of es_gaussian: -mu + sigma phi(z_p) / p';

CREATE AGGREGATE riskguard.var_gaussian(r float8, confidence float8) (
  SFUNC = riskguard._moments2_trans,
  STYPE = float8[],
  INITCOND = '{0,0,0,0}',
  FINALFUNC = riskguard._var_gaussian_final,
  COMBINEFUNC = riskguard._moments2_combine,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE riskguard.var_gaussian(float8, float8) IS
  'Gaussian VaR -(mu + sigma z_p) with population mean and standard deviation of the returns';

CREATE AGGREGATE riskguard.es_gaussian(r float8, confidence float8) (
  SFUNC = riskguard._moments2_trans,
  STYPE = float8[],
  INITCOND = '{0,0,0,0}',
  FINALFUNC = riskguard._es_gaussian_final,
  COMBINEFUNC = riskguard._moments2_combine,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE riskguard.es_gaussian(float8, float8) IS
  'Gaussian Expected Shortfall -mu + sigma phi(z_p) / p with population moments of the returns';

CREATE FUNCTION riskguard._moments4_trans(float8[], float8, float8)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'rg_market_moments4_trans'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard._moments4_trans(float8[], float8, float8) IS
  'transition of var_cornish_fisher: count, mean and central sums of powers 2 to 4 (Terriberry)';

CREATE FUNCTION riskguard._moments4_combine(float8[], float8[])
RETURNS float8[]
AS 'MODULE_PATHNAME', 'rg_market_moments4_combine'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard._moments4_combine(float8[], float8[]) IS
  'combine of var_cornish_fisher (Pebay pairwise update of central moments)';

CREATE FUNCTION riskguard._var_cornish_fisher_final(float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'rg_market_var_cornish_fisher_final'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard._var_cornish_fisher_final(float8[]) IS
  'final of var_cornish_fisher: -(mu + sigma z_cf) with the Cornish-Fisher expansion of z_p';

CREATE AGGREGATE riskguard.var_cornish_fisher(r float8, confidence float8) (
  SFUNC = riskguard._moments4_trans,
  STYPE = float8[],
  INITCOND = '{0,0,0,0,0,0}',
  FINALFUNC = riskguard._var_cornish_fisher_final,
  COMBINEFUNC = riskguard._moments4_combine,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE riskguard.var_cornish_fisher(float8, float8) IS
  'modified (Cornish-Fisher) VaR with skewness and excess kurtosis from population moments of the returns';

-- ---- EWMA volatility (ORDER BY t) ----

CREATE FUNCTION riskguard._ewma_trans(float8[], float8, float8)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'rg_market_ewma_trans'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard._ewma_trans(float8[], float8, float8) IS
  'transition of ewma_volatility: s2 = lambda s2 + (1 - lambda) r^2, started from the first r^2';

CREATE FUNCTION riskguard._ewma_final(float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'rg_market_ewma_final'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard._ewma_final(float8[]) IS
  'final of ewma_volatility: sqrt(s2)';

CREATE AGGREGATE riskguard.ewma_volatility(r float8, lambda float8) (
  SFUNC = riskguard._ewma_trans,
  STYPE = float8[],
  INITCOND = '{0,0,0}',
  FINALFUNC = riskguard._ewma_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE riskguard.ewma_volatility(float8, float8) IS
  'RiskMetrics EWMA volatility forecast after the last return; call with ORDER BY time';

-- ---- parametric portfolio VaR ----

CREATE FUNCTION riskguard.portfolio_var(weights float8[], covariance float8[],
                                        confidence float8, horizon_days int DEFAULT 1)
RETURNS float8
AS 'MODULE_PATHNAME', 'rg_market_portfolio_var'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard.portfolio_var(float8[], float8[], float8, int) IS
  'Gaussian portfolio VaR z_c sqrt(w'' S w) sqrt(horizon_days) for weights (or exposures) w and an n x n covariance S of returns';

CREATE FUNCTION riskguard.component_var(weights float8[], covariance float8[],
                                        confidence float8, horizon_days int DEFAULT 1)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'rg_market_component_var'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard.component_var(float8[], float8[], float8, int) IS
  'Euler components w_i (S w)_i / sqrt(w'' S w) z_c sqrt(horizon_days) of portfolio_var; they sum to it';

-- ---- backtests ----

CREATE FUNCTION riskguard.kupiec_pof(exceptions int, observations int, confidence float8)
RETURNS riskguard.kupiec_result
AS 'MODULE_PATHNAME', 'rg_market_kupiec_pof'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard.kupiec_pof(int, int, float8) IS
  'Kupiec proportion-of-failures test of a VaR model: likelihood ratio and p-value (chi-square, 1 df)';

CREATE FUNCTION riskguard._christoffersen_trans(float8[], boolean, float8)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'rg_market_christoffersen_trans'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard._christoffersen_trans(float8[], boolean, float8) IS
  'transition of christoffersen: counts days, exceptions and day-to-day transitions';

CREATE FUNCTION riskguard._christoffersen_final(float8[])
RETURNS riskguard.christoffersen_result
AS 'MODULE_PATHNAME', 'rg_market_christoffersen_final'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard._christoffersen_final(float8[]) IS
  'final of christoffersen: independence and conditional coverage statistics';

CREATE AGGREGATE riskguard.christoffersen(exception boolean, confidence float8) (
  SFUNC = riskguard._christoffersen_trans,
  STYPE = float8[],
  INITCOND = '{0,0,0,0,0,0,0,0}',
  FINALFUNC = riskguard._christoffersen_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE riskguard.christoffersen(boolean, float8) IS
  'Christoffersen independence and conditional coverage tests of VaR exceptions; call with ORDER BY time';

CREATE FUNCTION riskguard.traffic_light(exceptions int, observations int DEFAULT 250,
                                        confidence float8 DEFAULT 0.99)
RETURNS riskguard.traffic_light_result
AS 'MODULE_PATHNAME', 'rg_market_traffic_light'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard.traffic_light(int, int, float8) IS
  'Basel traffic light for a VaR backtest: the Basel table at 250 days and 99%, binomial 95% / 99.99% boundaries otherwise';

-- ---- concentration, drawdown, stress ----

CREATE FUNCTION riskguard._hhi_trans(float8[], float8)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'rg_market_hhi_trans'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard._hhi_trans(float8[], float8) IS
  'transition of hhi: count, sum and sum of squares of exposures';

CREATE FUNCTION riskguard._hhi_combine(float8[], float8[])
RETURNS float8[]
AS 'MODULE_PATHNAME', 'rg_market_hhi_combine'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard._hhi_combine(float8[], float8[]) IS
  'combine of hhi';

CREATE FUNCTION riskguard._hhi_final(float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'rg_market_hhi_final'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard._hhi_final(float8[]) IS
  'final of hhi: 10000 times the sum of squared shares';

CREATE AGGREGATE riskguard.hhi(exposure float8) (
  SFUNC = riskguard._hhi_trans,
  STYPE = float8[],
  INITCOND = '{0,0,0}',
  FINALFUNC = riskguard._hhi_final,
  COMBINEFUNC = riskguard._hhi_combine,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE riskguard.hhi(float8) IS
  'Herfindahl-Hirschman index of non-negative exposures on a 0 to 10000 scale; NULL when the total is zero';

CREATE FUNCTION riskguard._drawdown_trans(float8[], float8)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'rg_market_drawdown_trans'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard._drawdown_trans(float8[], float8) IS
  'transition of max_drawdown: running peak and worst fall from it';

CREATE FUNCTION riskguard._drawdown_final(float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'rg_market_drawdown_final'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard._drawdown_final(float8[]) IS
  'final of max_drawdown';

CREATE AGGREGATE riskguard.max_drawdown(price float8) (
  SFUNC = riskguard._drawdown_trans,
  STYPE = float8[],
  INITCOND = '{0,0,0}',
  FINALFUNC = riskguard._drawdown_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE riskguard.max_drawdown(float8) IS
  'maximum drawdown of a positive price or value series, as a fraction of the running peak; call with ORDER BY time';

CREATE FUNCTION riskguard.stress_loss(exposures float8[], shocks float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'rg_market_stress_loss'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard.stress_loss(float8[], float8[]) IS
  'loss of a portfolio under a scenario: minus the sum of exposure times shocked return, factor by factor';

-- The aggregates' support functions are not an API: an aggregate checks EXECUTE on them
-- for its owner, not for the caller, so PUBLIC keeps the aggregates without them.
REVOKE ALL ON FUNCTION
  riskguard._hist_trans(internal, float8, float8),
  riskguard._hist_combine(internal, internal),
  riskguard._hist_serial(internal),
  riskguard._hist_deserial(bytea, internal),
  riskguard._var_historical_final(internal),
  riskguard._es_historical_final(internal),
  riskguard._moments2_trans(float8[], float8, float8),
  riskguard._moments2_combine(float8[], float8[]),
  riskguard._var_gaussian_final(float8[]),
  riskguard._es_gaussian_final(float8[]),
  riskguard._moments4_trans(float8[], float8, float8),
  riskguard._moments4_combine(float8[], float8[]),
  riskguard._var_cornish_fisher_final(float8[]),
  riskguard._ewma_trans(float8[], float8, float8),
  riskguard._ewma_final(float8[]),
  riskguard._christoffersen_trans(float8[], boolean, float8),
  riskguard._christoffersen_final(float8[]),
  riskguard._hhi_trans(float8[], float8),
  riskguard._hhi_combine(float8[], float8[]),
  riskguard._hhi_final(float8[]),
  riskguard._drawdown_trans(float8[], float8),
  riskguard._drawdown_final(float8[])
FROM PUBLIC;
