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

/* doubles of workspace rg_irls_fit needs for k features */
extern size_t rg_irls_workspace(int k);

/*
 * Fit logit P(y = 1) = b0 + b1 x1 + ... + bk xk.
 *
 * rows: n rows of k + 1 doubles each, y (0 or 1) first, then the k features.
 * beta, std_err: k + 1 doubles each, intercept first.  work: rg_irls_workspace(k) doubles.
 * On RG_IRLS_NOT_CONVERGED beta holds the last finite iterate and std_err is unset.
 */
extern void rg_irls_fit(const double *rows, size_t n, int k, double *beta,
						double *std_err, double *work, RgIrlsTick tick, void *tick_arg,
						RgIrlsInfo *info);

#endif							/* RG_IRLS_H */
