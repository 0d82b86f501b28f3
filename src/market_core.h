/*
 * market_core.h
 *		Pure computations behind riskguard's market-risk functions: order statistics by
 *		selection, mergeable moments, binomial tails, backtest statistics, and the
 *		covariance checks of parametric VaR.  The normal distribution and chi-square
 *		tails come from normal.h, shared with the credit statistics.
 *
 * Nothing here includes postgres.h: callers validate their inputs and own the memory,
 * so these functions can be unit-tested and fuzzed on their own.
 */
#ifndef MARKET_CORE_H
#define MARKET_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- binomial ---- */

/* P(X <= k) for X ~ Binomial(n, p), 0 <= k <= n, 0 < p < 1. */
extern double mc_binom_cdf(int64_t k, int64_t n, double p);

/* ---- historical quantiles ---- */

/*
 * Rearrange v[0..n-1] so that v[k] holds the value a full sort would put there, with
 * nothing larger before it and nothing smaller after it.  Expected O(n); O(n log n)
 * at worst.  The values must not contain NaN.
 */
extern void mc_select(double *v, int64_t n, int64_t k);

/*
 * The type-7 quantile (linear interpolation between order statistics floor(h) and
 * floor(h)+1, h = (n-1)p, 0-based) of v[0..n-1], n >= 1.  Permutes v.  When es is
 * not NULL it receives minus the mean of the values strictly below the quantile, or
 * minus the quantile itself when no value lies strictly below it.
 */
extern double mc_quantile7(double *v, int64_t n, double p, double *es);

/* ---- mergeable moments (population moments, divided by n) ---- */

typedef struct McMoments
{
	double		n;				/* count, as a double so arrays of them stay float8[] */
	double		mean;
	double		m2;				/* sum of squared deviations from the mean */
	double		m3;				/* sum of cubed deviations */
	double		m4;				/* sum of fourth powers of deviations */
} McMoments;

/* Add one value (Welford / Terriberry update).  with_higher: also keep m3 and m4. */
extern void mc_moments_add(McMoments *m, double x, bool with_higher);

/* Merge b into a (Chan et al. / Pébay pairwise formulas). */
extern void mc_moments_merge(McMoments *a, const McMoments *b, bool with_higher);

/*
 * Gaussian VaR -(mu + sigma z_p) and ES -mu + sigma phi(z_p)/p, tail p = 1 - confidence.
 * z_p is taken as minus the confidence's quantile, exact even where 1 - confidence
 * rounds.
 */
extern double mc_var_gaussian(const McMoments *m, double confidence);
extern double mc_es_gaussian(const McMoments *m, double confidence);

/* Cornish-Fisher (modified) VaR with skewness and excess kurtosis of population moments. */
extern double mc_var_cornish_fisher(const McMoments *m, double confidence);

/* ---- backtests ---- */

/* Kupiec's proportion-of-failures likelihood ratio for x exceptions in n observations. */
extern double mc_kupiec_lr(int64_t x, int64_t n, double confidence);

/*
 * Christoffersen's independence likelihood ratio from the transition counts nij
 * (state i on one day, j on the next; 1 = exception).
 */
extern double mc_christoffersen_lr_ind(double n00, double n01, double n10, double n11);

/* Basel traffic-light zones. */
typedef enum McZone
{
	MC_GREEN,
	MC_YELLOW,
	MC_RED
} McZone;

/*
 * Zone and plus factor for x exceptions in n observations at a confidence level.  At
 * n = 250 and confidence 0.99 this is the Basel table; otherwise the zone follows the binomial cumulative
 * probability P(X <= x) (green below 95%, red from 99.99%) and a yellow zone's plus
 * factor is the Basel table's for the highest yellow row whose cumulative probability
 * does not exceed this one (0.40 when none does).  *cumulative receives P(X <= x).
 */
extern McZone mc_traffic_light(int64_t x, int64_t n, double confidence, double *plus_factor,
							   double *cumulative);

/* ---- parametric portfolio VaR ---- */

/*
 * Check that the n x n row-major matrix a is positive semi-definite within tolerance
 * tol (absolute, on the scale of the variances), by a Cholesky factorisation that
 * accepts zero pivots.  work holds n * n doubles.  Returns -1 when it is, else the
 * 0-based row where the factorisation failed.  tick, when not NULL, is called once per
 * row, so that a caller can honour cancellation during the O(n^3) work.
 */
extern int	mc_psd_check(const double *a, int n, double tol, double *work,
						 void (*tick) (void));

/*
 * Component VaR of weights w under covariance a: comp[i] = w_i (a w)_i / sigma * scale
 * where sigma = sqrt(w'aw); returns sigma * scale (the portfolio VaR).  comp may be
 * NULL.  work holds n doubles.
 */
extern double mc_component_var(const double *w, const double *a, int n, double scale,
							   double *comp, double *work);

#endif							/* MARKET_CORE_H */
