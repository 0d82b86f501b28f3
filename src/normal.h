/*
 * normal.h
 *		Standard normal distribution and chi-square tail probabilities, in plain C
 *		(no postgres.h), accurate to about 1e-14.
 */
#ifndef RG_NORMAL_H
#define RG_NORMAL_H

/* density of the standard normal distribution */
extern double rg_norm_pdf(double x);

/* P(Z <= x) for a standard normal Z; relative accuracy about 1e-15 in both tails */
extern double rg_norm_cdf(double x);

/* P(Z > x) */
extern double rg_norm_sf(double x);

/*
 * x such that P(Z <= x) = p.  p = 0 gives -Infinity, p = 1 gives +Infinity, and p
 * outside [0,1] or NaN gives NaN (callers validate first).
 */
extern double rg_norm_quantile(double p);

/*
 * P(X > x) for X chi-square distributed with df degrees of freedom (df > 0); 1 for
 * x <= 0.  The regularized upper incomplete gamma function Q(df/2, x/2).
 */
extern double rg_chisq_sf(double x, double df);

#endif							/* RG_NORMAL_H */
