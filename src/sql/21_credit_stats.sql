-- Credit statistics: fitting (fit_logistic), binning (woe_bins, woe_categories),
-- validation (auc, ks, brier, hosmer_lemeshow, psi), pricing and capital (expected_loss,
-- irb_capital, irb_rwa, risk_based_rate), and the normal distribution behind them.
-- Every aggregate has a combine function and runs in parallel workers.

-- normal distribution -------------------------------------------------------------

CREATE FUNCTION riskguard.normal_cdf(x float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'rg_normal_cdf'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION riskguard.normal_cdf(float8) IS
  'standard normal distribution function P(Z <= x), accurate to about 1e-15 relative in both tails';

CREATE FUNCTION riskguard.normal_quantile(p float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'rg_normal_quantile'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION riskguard.normal_quantile(float8) IS
  'inverse of normal_cdf: x with P(Z <= x) = p, accurate to about 1e-15 relative; 0 and 1 give -Infinity and Infinity';

CREATE FUNCTION riskguard.chisq_sf(x float8, df float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'rg_chisq_pvalue'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION riskguard.chisq_sf(float8, float8) IS
  'chi-square upper tail probability P(X > x) with df degrees of freedom';

-- fit_logistic --------------------------------------------------------------------

CREATE TYPE riskguard.logistic_fit AS (
  coef float8[],
  std_err float8[],
  z float8[],
  p_value float8[],
  log_likelihood float8,
  iterations int,
  converged boolean,
  n bigint,
  skipped bigint
);
COMMENT ON TYPE riskguard.logistic_fit IS
  'result of fit_logistic: coefficients with the intercept first, their standard errors, Wald z and two-sided p-values, and the fit''s diagnostics';

CREATE FUNCTION riskguard._fit_logistic_trans(internal, boolean, float8[])
RETURNS internal
AS 'MODULE_PATHNAME', 'rg_fit_logistic_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION riskguard._fit_logistic_combine(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'rg_fit_logistic_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION riskguard._fit_logistic_serial(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'rg_fit_logistic_serial'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION riskguard._fit_logistic_deserial(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'rg_fit_logistic_deserial'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION riskguard._fit_logistic_final(internal)
RETURNS riskguard.logistic_fit
AS 'MODULE_PATHNAME', 'rg_fit_logistic_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE riskguard.fit_logistic(bad boolean, x float8[]) (
  SFUNC = riskguard._fit_logistic_trans,
  STYPE = internal,
  FINALFUNC = riskguard._fit_logistic_final,
  COMBINEFUNC = riskguard._fit_logistic_combine,
  SERIALFUNC = riskguard._fit_logistic_serial,
  DESERIALFUNC = riskguard._fit_logistic_deserial,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE riskguard.fit_logistic(boolean, float8[]) IS
  'logistic regression of P(bad) on x (intercept added as coefficient 1) by Newton-Raphson/IRLS; rows with NULLs are skipped and counted';

-- pairs of (value, outcome): auc, ks, hosmer_lemeshow, woe_bins ---------------------

CREATE FUNCTION riskguard._pairs_combine(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'rg_pairs_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION riskguard._pairs_serial(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'rg_pairs_serial'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION riskguard._pairs_deserial(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'rg_pairs_deserial'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION riskguard._score_pairs_trans(internal, float8, boolean)
RETURNS internal
AS 'MODULE_PATHNAME', 'rg_score_pairs_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION riskguard._auc_final(internal)
RETURNS float8
AS 'MODULE_PATHNAME', 'rg_auc_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION riskguard._ks_final(internal)
RETURNS float8
AS 'MODULE_PATHNAME', 'rg_ks_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- the final functions sort the buffer in place, which keeps its contents: SHAREABLE
CREATE AGGREGATE riskguard.auc(score float8, bad boolean) (
  SFUNC = riskguard._score_pairs_trans,
  STYPE = internal,
  FINALFUNC = riskguard._auc_final,
  FINALFUNC_MODIFY = SHAREABLE,
  COMBINEFUNC = riskguard._pairs_combine,
  SERIALFUNC = riskguard._pairs_serial,
  DESERIALFUNC = riskguard._pairs_deserial,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE riskguard.auc(float8, boolean) IS
  'area under the ROC curve with a higher score meaning a better borrower: P(a random good scores above a random bad), ties counting one half';

CREATE AGGREGATE riskguard.ks(score float8, bad boolean) (
  SFUNC = riskguard._score_pairs_trans,
  STYPE = internal,
  FINALFUNC = riskguard._ks_final,
  FINALFUNC_MODIFY = SHAREABLE,
  COMBINEFUNC = riskguard._pairs_combine,
  SERIALFUNC = riskguard._pairs_serial,
  DESERIALFUNC = riskguard._pairs_deserial,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE riskguard.ks(float8, boolean) IS
  'Kolmogorov-Smirnov statistic: the largest distance between the score distributions of goods and bads';

CREATE TYPE riskguard.hosmer_lemeshow_test AS (
  chi2 float8,
  df int,
  p_value float8
);
COMMENT ON TYPE riskguard.hosmer_lemeshow_test IS
  'Hosmer-Lemeshow goodness-of-fit statistic, its degrees of freedom (groups - 2) and p-value';

CREATE FUNCTION riskguard._pd_pairs_trans(internal, float8, boolean)
RETURNS internal
AS 'MODULE_PATHNAME', 'rg_pd_pairs_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION riskguard._pd_pairs_trans(internal, float8, boolean, int)
RETURNS internal
AS 'MODULE_PATHNAME', 'rg_pd_pairs_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION riskguard._hosmer_lemeshow_final(internal)
RETURNS riskguard.hosmer_lemeshow_test
AS 'MODULE_PATHNAME', 'rg_hl_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE riskguard.hosmer_lemeshow(pd float8, bad boolean) (
  SFUNC = riskguard._pd_pairs_trans,
  STYPE = internal,
  FINALFUNC = riskguard._hosmer_lemeshow_final,
  FINALFUNC_MODIFY = SHAREABLE,
  COMBINEFUNC = riskguard._pairs_combine,
  SERIALFUNC = riskguard._pairs_serial,
  DESERIALFUNC = riskguard._pairs_deserial,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE riskguard.hosmer_lemeshow(float8, boolean) IS
  'Hosmer-Lemeshow calibration test in 10 groups of equal size by pd';

CREATE AGGREGATE riskguard.hosmer_lemeshow(pd float8, bad boolean, groups int) (
  SFUNC = riskguard._pd_pairs_trans,
  STYPE = internal,
  FINALFUNC = riskguard._hosmer_lemeshow_final,
  FINALFUNC_MODIFY = SHAREABLE,
  COMBINEFUNC = riskguard._pairs_combine,
  SERIALFUNC = riskguard._pairs_serial,
  DESERIALFUNC = riskguard._pairs_deserial,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE riskguard.hosmer_lemeshow(float8, boolean, int) IS
  'Hosmer-Lemeshow calibration test in groups (3 to 1000) of equal size by pd';

CREATE FUNCTION riskguard._woe_pairs_trans(internal, float8, boolean)
RETURNS internal
AS 'MODULE_PATHNAME', 'rg_woe_pairs_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION riskguard._woe_pairs_trans(internal, float8, boolean, int)
RETURNS internal
AS 'MODULE_PATHNAME', 'rg_woe_pairs_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION riskguard._woe_pairs_trans(internal, float8, boolean, int, float8)
RETURNS internal
AS 'MODULE_PATHNAME', 'rg_woe_pairs_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION riskguard._woe_bins_final(internal)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'rg_woe_bins_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE riskguard.woe_bins(value float8, bad boolean) (
  SFUNC = riskguard._woe_pairs_trans,
  STYPE = internal,
  FINALFUNC = riskguard._woe_bins_final,
  FINALFUNC_MODIFY = SHAREABLE,
  COMBINEFUNC = riskguard._pairs_combine,
  SERIALFUNC = riskguard._pairs_serial,
  DESERIALFUNC = riskguard._pairs_deserial,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE riskguard.woe_bins(float8, boolean) IS
  'monotonic weight-of-evidence bins of a numeric feature (at most 10 bins of at least 5%), as jsonb ready for a scorecard spec';

CREATE AGGREGATE riskguard.woe_bins(value float8, bad boolean, max_bins int) (
  SFUNC = riskguard._woe_pairs_trans,
  STYPE = internal,
  FINALFUNC = riskguard._woe_bins_final,
  FINALFUNC_MODIFY = SHAREABLE,
  COMBINEFUNC = riskguard._pairs_combine,
  SERIALFUNC = riskguard._pairs_serial,
  DESERIALFUNC = riskguard._pairs_deserial,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE riskguard.woe_bins(float8, boolean, int) IS
  'monotonic weight-of-evidence bins of a numeric feature (at most max_bins bins of at least 5%), as jsonb ready for a scorecard spec';

CREATE AGGREGATE riskguard.woe_bins(value float8, bad boolean, max_bins int, min_bin_share float8) (
  SFUNC = riskguard._woe_pairs_trans,
  STYPE = internal,
  FINALFUNC = riskguard._woe_bins_final,
  FINALFUNC_MODIFY = SHAREABLE,
  COMBINEFUNC = riskguard._pairs_combine,
  SERIALFUNC = riskguard._pairs_serial,
  DESERIALFUNC = riskguard._pairs_deserial,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE riskguard.woe_bins(float8, boolean, int, float8) IS
  'monotonic weight-of-evidence bins of a numeric feature (at most max_bins bins of at least min_bin_share of the rows), as jsonb ready for a scorecard spec';

-- woe_categories --------------------------------------------------------------------

CREATE FUNCTION riskguard._woe_categories_trans(internal, text, boolean)
RETURNS internal
AS 'MODULE_PATHNAME', 'rg_woe_categories_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION riskguard._woe_categories_combine(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'rg_woe_categories_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION riskguard._woe_categories_serial(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'rg_woe_categories_serial'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION riskguard._woe_categories_deserial(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'rg_woe_categories_deserial'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION riskguard._woe_categories_final(internal)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'rg_woe_categories_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE riskguard.woe_categories(value text, bad boolean) (
  SFUNC = riskguard._woe_categories_trans,
  STYPE = internal,
  FINALFUNC = riskguard._woe_categories_final,
  COMBINEFUNC = riskguard._woe_categories_combine,
  SERIALFUNC = riskguard._woe_categories_serial,
  DESERIALFUNC = riskguard._woe_categories_deserial,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE riskguard.woe_categories(text, boolean) IS
  'weight-of-evidence bins of a categorical feature (one per category, ordered by bad rate, pure categories merged into a neighbour), as jsonb ready for a scorecard spec';

-- brier -----------------------------------------------------------------------------

CREATE FUNCTION riskguard._brier_trans(float8[], float8, boolean)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'rg_brier_trans'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION riskguard._brier_combine(float8[], float8[])
RETURNS float8[]
AS 'MODULE_PATHNAME', 'rg_brier_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION riskguard._brier_final(float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'rg_brier_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE riskguard.brier(pd float8, bad boolean) (
  SFUNC = riskguard._brier_trans,
  STYPE = float8[],
  INITCOND = '{0,0}',
  FINALFUNC = riskguard._brier_final,
  COMBINEFUNC = riskguard._brier_combine,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE riskguard.brier(float8, boolean) IS
  'Brier score: mean of (pd - bad)^2 with bad as 1 and good as 0; rows with NULLs are ignored';

-- population stability ----------------------------------------------------------------

CREATE FUNCTION riskguard.psi(expected float8[], actual float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'rg_psi_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION riskguard.psi(float8[], float8[]) IS
  'population stability index of two vectors of bin counts: sum (a - e) ln(a / e) over shares, an empty bin counting as a share of 0.0001';

CREATE FUNCTION riskguard.psi_verdict(psi float8)
RETURNS text
AS 'MODULE_PATHNAME', 'rg_psi_verdict'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION riskguard.psi_verdict(float8) IS
  'stable below 0.1, investigate below 0.25, shifted from 0.25';

-- pricing and capital -------------------------------------------------------------------

CREATE FUNCTION riskguard.expected_loss(pd float8, lgd float8, ead float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'rg_expected_loss'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION riskguard.expected_loss(float8, float8, float8) IS
  'expected loss pd * lgd * ead';

CREATE FUNCTION riskguard.irb_capital(pd float8, lgd float8, asset_class text,
                                      maturity float8 DEFAULT 2.5)
RETURNS float8
AS 'MODULE_PATHNAME', 'rg_irb_capital_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION riskguard.irb_capital(float8, float8, text, float8) IS
  'Basel IRB capital requirement K per unit of exposure for corporate (with maturity adjustment, maturity clamped to 1..5 years), residential_mortgage, qualifying_revolving or other_retail; PD floored at 0.0003';

CREATE FUNCTION riskguard.irb_rwa(pd float8, lgd float8, ead float8, asset_class text,
                                  maturity float8 DEFAULT 2.5)
RETURNS float8
AS 'MODULE_PATHNAME', 'rg_irb_rwa_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION riskguard.irb_rwa(float8, float8, float8, text, float8) IS
  'Basel IRB risk-weighted assets: irb_capital * 12.5 * ead';

CREATE FUNCTION riskguard.risk_based_rate(pd float8, lgd float8, funding_rate float8,
                                          operating_cost_rate float8, capital_ratio float8,
                                          hurdle_rate float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'rg_risk_based_rate_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION riskguard.risk_based_rate(float8, float8, float8, float8, float8, float8) IS
  'break-even annual rate r with (1 - pd) r = (1 - capital_ratio) funding_rate + capital_ratio hurdle_rate + pd lgd + operating_cost_rate';

-- support functions of the aggregates above
COMMENT ON FUNCTION riskguard._fit_logistic_trans(internal, boolean, float8[]) IS
  'fit_logistic transition: appends a row and adds it to the moment sums';
COMMENT ON FUNCTION riskguard._fit_logistic_combine(internal, internal) IS
  'fit_logistic combine: adds the moment sums and takes over the other state''s rows';
COMMENT ON FUNCTION riskguard._fit_logistic_serial(internal) IS
  'fit_logistic serialize: the rows, the moment sums and a fit of the rows as a warm start';
COMMENT ON FUNCTION riskguard._fit_logistic_deserial(bytea, internal) IS
  'fit_logistic deserialize, checking lengths';
COMMENT ON FUNCTION riskguard._fit_logistic_final(internal) IS
  'fit_logistic final: Newton-Raphson over the rows';
COMMENT ON FUNCTION riskguard._pairs_combine(internal, internal) IS
  'auc, ks, hosmer_lemeshow, woe_bins combine: concatenates the (value, outcome) buffers';
COMMENT ON FUNCTION riskguard._pairs_serial(internal) IS
  'auc, ks, hosmer_lemeshow, woe_bins serialize';
COMMENT ON FUNCTION riskguard._pairs_deserial(bytea, internal) IS
  'auc, ks, hosmer_lemeshow, woe_bins deserialize, checking lengths';
COMMENT ON FUNCTION riskguard._score_pairs_trans(internal, float8, boolean) IS
  'auc and ks transition';
COMMENT ON FUNCTION riskguard._auc_final(internal) IS 'auc final';
COMMENT ON FUNCTION riskguard._ks_final(internal) IS 'ks final';
COMMENT ON FUNCTION riskguard._pd_pairs_trans(internal, float8, boolean) IS
  'hosmer_lemeshow transition (10 groups)';
COMMENT ON FUNCTION riskguard._pd_pairs_trans(internal, float8, boolean, int) IS
  'hosmer_lemeshow transition';
COMMENT ON FUNCTION riskguard._hosmer_lemeshow_final(internal) IS 'hosmer_lemeshow final';
COMMENT ON FUNCTION riskguard._woe_pairs_trans(internal, float8, boolean) IS
  'woe_bins transition (10 bins of at least 5%)';
COMMENT ON FUNCTION riskguard._woe_pairs_trans(internal, float8, boolean, int) IS
  'woe_bins transition (bins of at least 5%)';
COMMENT ON FUNCTION riskguard._woe_pairs_trans(internal, float8, boolean, int, float8) IS
  'woe_bins transition';
COMMENT ON FUNCTION riskguard._woe_bins_final(internal) IS 'woe_bins final: binning and jsonb';
COMMENT ON FUNCTION riskguard._woe_categories_trans(internal, text, boolean) IS
  'woe_categories transition: counts per category';
COMMENT ON FUNCTION riskguard._woe_categories_combine(internal, internal) IS
  'woe_categories combine: adds the counts per category';
COMMENT ON FUNCTION riskguard._woe_categories_serial(internal) IS 'woe_categories serialize';
COMMENT ON FUNCTION riskguard._woe_categories_deserial(bytea, internal) IS
  'woe_categories deserialize, checking lengths';
COMMENT ON FUNCTION riskguard._woe_categories_final(internal) IS
  'woe_categories final: bins and jsonb';
COMMENT ON FUNCTION riskguard._brier_trans(float8[], float8, boolean) IS
  'brier transition: count and sum of squared errors';
COMMENT ON FUNCTION riskguard._brier_combine(float8[], float8[]) IS 'brier combine';
COMMENT ON FUNCTION riskguard._brier_final(float8[]) IS 'brier final';

-- The aggregates' support functions are not an API: an aggregate checks EXECUTE on them
-- for its owner, not for the caller, so PUBLIC keeps the aggregates without them.
REVOKE ALL ON FUNCTION
  riskguard._fit_logistic_trans(internal, boolean, float8[]),
  riskguard._fit_logistic_combine(internal, internal),
  riskguard._fit_logistic_serial(internal),
  riskguard._fit_logistic_deserial(bytea, internal),
  riskguard._fit_logistic_final(internal),
  riskguard._pairs_combine(internal, internal),
  riskguard._pairs_serial(internal),
  riskguard._pairs_deserial(bytea, internal),
  riskguard._score_pairs_trans(internal, float8, boolean),
  riskguard._auc_final(internal),
  riskguard._ks_final(internal),
  riskguard._pd_pairs_trans(internal, float8, boolean),
  riskguard._pd_pairs_trans(internal, float8, boolean, int),
  riskguard._hosmer_lemeshow_final(internal),
  riskguard._woe_pairs_trans(internal, float8, boolean),
  riskguard._woe_pairs_trans(internal, float8, boolean, int),
  riskguard._woe_pairs_trans(internal, float8, boolean, int, float8),
  riskguard._woe_bins_final(internal),
  riskguard._woe_categories_trans(internal, text, boolean),
  riskguard._woe_categories_combine(internal, internal),
  riskguard._woe_categories_serial(internal),
  riskguard._woe_categories_deserial(bytea, internal),
  riskguard._woe_categories_final(internal),
  riskguard._brier_trans(float8[], float8, boolean),
  riskguard._brier_combine(float8[], float8[]),
  riskguard._brier_final(float8[])
FROM PUBLIC;
