/*
 * irls.h
 *		Logistic regression by iteratively reweighted least squares (Newton-Raphson on
 *		the log-likelihood), in plain C (no postgres.h).
 */
#ifndef RG_IRLS_H
#define RG_IRLS_H

#include <stddef.h>

/* outcome of rg_irls_fit */
typedef enum RgIrlsStatus
{
	RG_IRLS_OK = 0,				/* converged */
	RG_IRLS_NOT_CONVERGED,		/* iteration cap, separation, or a step that failed */
	RG_IRLS_SINGULAR			/* the design is singular at the start: no fit */
} RgIrlsStatus;

typedef struct RgIrlsInfo
{
	RgIrlsStatus status;
	int			iterations;		/* Newton steps taken */
	int			singular_column;	/* RG_IRLS_SINGULAR: 0 intercept, j feature j */
	int			have_se;		/* std_err filled (only when converged) */
	double		loglik;			/* log-likelihood at the returned coefficients */
} RgIrlsInfo;

/* called every few thousand rows so the caller can honour interrupts */
typedef void (*RgIrlsTick) (void *arg);

/* the most Newton steps a fit takes before it reports not converging */
#define RG_IRLS_MAX_ITER 50

/* a run of rows: n rows of k + 1 doubles each, y (0 or 1) first, then the k features */
typedef struct RgIrlsSegment
{
	const double *rows;
	size_t		n;
} RgIrlsSegment;

/* doubles of workspace rg_irls_fit needs for k features */
extern size_t rg_irls_workspace(int k);

/*
 * Add one row to the moment sums: the upper triangle of X'X (p x p, row major, with
 * the intercept column of ones first) and X'y (p).  Fits given these sums skip their
 * first pass over the rows.
 */
extern void rg_irls_add_moments(double *xtx, double *xty, const double *row, int k);

/*
 * One Newton step from beta over the rows, in place.  Returns 1 and leaves the
 * information matrix at the old beta at the start of work (upper triangle, p x p), or
 * returns 0 with beta unchanged when the step cannot be taken.
 */
extern int	rg_irls_newton_step(const RgIrlsSegment *segs, int nseg, int k, double *beta,
								double *work, RgIrlsTick tick, void *tick_arg);

/*
 * The first Newton step of a fit from its moment sums alone, without a pass over the
 * rows: from the intercept-only fit of n rows (nbad = xty[0] of them with y = 1) one
 * step, into beta (k + 1).  Returns 1, or 0 when the design is singular (beta is then
 * the intercept-only fit).
 */
extern int	rg_irls_moment_step(int k, const double *xtx, const double *xty, double *beta,
								double *work);

/*
 * Solve H x = b in place (x holds b on entry) for a positive definite H given by its
 * upper triangle (p x p, row major); L is p x p scratch.  Returns -1, or the column at
 * which H is not positive definite (x is then unchanged).
 */
extern int	rg_irls_solve(const double *H, double *L, int p, double *x);

/*
 * Fit logit P(y = 1) = b0 + b1 x1 + ... + bk xk over the rows of nseg segments.
 *
 * xtx, xty: the moment sums of all rows (rg_irls_add_moments), or NULL to compute the
 * starting point with a pass over the rows.  start: k + 1 coefficients to start from
 * instead of the intercept-only fit (taken when their log-likelihood is no worse), or
 * NULL.  beta, std_err: k + 1 doubles each, intercept first.  work: rg_irls_workspace(k) doubles.  On RG_IRLS_NOT_CONVERGED beta
 * holds the last finite iterate and std_err is unset.  On RG_IRLS_OK work begins with
 * the upper triangle of the information matrix X'WX at beta (p x p, row major).
 */
extern void rg_irls_fit(const RgIrlsSegment *segs, int nseg, int k, const double *xtx,
						const double *xty, const double *start, double *beta,
						double *std_err, double *work, RgIrlsTick tick, void *tick_arg,
						RgIrlsInfo *info);

#endif							/* RG_IRLS_H */
