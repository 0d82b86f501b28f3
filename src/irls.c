/*
 * irls.c
 *		Logistic regression by Newton-Raphson (IRLS), with a Cholesky factorisation of
 *		the information matrix X'WX.
 *
 * Each iteration is one pass over the rows that accumulates the log-likelihood, the
 * score X'(y - mu) and the upper triangle of X'WX at the current coefficients.  The
 * Newton step solves X'WX d = X'(y - mu).  A step that lowers the log-likelihood is
 * halved (the log-likelihood is concave, so a short enough step always helps).
 *
 * Convergence needs both a log-likelihood change below 1e-11 relative and every step
 * component below 1e-8 (relative to the coefficient, or absolute near zero).  After such a
 * step the Newton error is squared, so the coefficients are accurate to near double
 * precision.  Separated data never meet the step condition (some coefficient keeps
 * growing) and end at the iteration cap, or earlier when the weights underflow and the
 * information matrix stops being positive definite: both report not converged.
 */
#include <math.h>
#include <string.h>

#include "irls.h"

#define TICK_ROWS 65536

size_t
rg_irls_workspace(int k)
{
	size_t		p = (size_t) k + 1;

	/* H, L, grad, step, trial beta, unit vector */
	return 2 * p * p + 4 * p;
}

/* log(1 + exp(eta)), without overflow */
static inline double
log1pexp(double eta)
{
	return eta > 0.0 ? eta + log1p(exp(-eta)) : log1p(exp(eta));
}

/*
 * One pass: log-likelihood, score and information matrix (upper triangle of H, row
 * major, p x p) at beta.
 */
static double
evaluate(const double *rows, size_t n, int k, const double *beta, double *grad,
		 double *H, RgIrlsTick tick, void *tick_arg)
{
	int			p = k + 1;
	double		ll = 0.0;
	size_t		i;

	memset(grad, 0, sizeof(double) * p);
	memset(H, 0, sizeof(double) * p * p);

	for (i = 0; i < n; i++)
	{
		const double *r = rows + i * (size_t) p;
		const double *x = r + 1;
		double		y = r[0];
		double		eta = beta[0];
		double		mu;
		double		w;
		double		res;
		int			a;
		int			b;

		if (tick != NULL && (i % TICK_ROWS) == 0)
			tick(tick_arg);

		for (a = 0; a < k; a++)
			eta += beta[a + 1] * x[a];

		/* mu = 1/(1 + exp(-eta)), computed without overflow */
		if (eta >= 0.0)
			mu = 1.0 / (1.0 + exp(-eta));
		else
		{
			double		e = exp(eta);

			mu = e / (1.0 + e);
		}
		ll += y * eta - log1pexp(eta);
		w = mu * (1.0 - mu);
		res = y - mu;

		/* intercept row of the score and of H */
		grad[0] += res;
		H[0] += w;
		for (b = 0; b < k; b++)
			H[b + 1] += w * x[b];
		for (a = 0; a < k; a++)
		{
			double		wa = w * x[a];
			double	   *Hrow = H + (size_t) (a + 1) * p;

			grad[a + 1] += res * x[a];
			for (b = a; b < k; b++)
				Hrow[b + 1] += wa * x[b];
		}
	}
	return ll;
}

/*
 * Cholesky factorisation H = L L' (L lower triangular, stored row major in L).  Returns
 * -1 on success, or the first column whose pivot vanishes relative to its diagonal.
 */
static int
cholesky(const double *H, double *L, int p)
{
	int			i;
	int			j;
	int			m;

	memset(L, 0, sizeof(double) * p * p);
	for (j = 0; j < p; j++)
	{
		double		diag = H[j * p + j];
		double		d = diag;

		for (m = 0; m < j; m++)
			d -= L[j * p + m] * L[j * p + m];
		if (!(diag > 0.0) || !(d > 1e-10 * diag) || !isfinite(d))
			return j;
		L[j * p + j] = sqrt(d);
		for (i = j + 1; i < p; i++)
		{
			/* H is upper triangular: element (i, j) with i > j is H[j][i] */
			double		s = H[j * p + i];

			for (m = 0; m < j; m++)
				s -= L[i * p + m] * L[j * p + m];
			L[i * p + j] = s / L[j * p + j];
		}
	}
	return -1;
}

/* solve L L' x = b in place */
static void
cholesky_solve(const double *L, int p, double *x)
{
	int			i;
	int			m;

	for (i = 0; i < p; i++)
	{
		double		s = x[i];

		for (m = 0; m < i; m++)
			s -= L[i * p + m] * x[m];
		x[i] = s / L[i * p + i];
	}
	for (i = p - 1; i >= 0; i--)
	{
		double		s = x[i];

		for (m = i + 1; m < p; m++)
			s -= L[m * p + i] * x[m];
		x[i] = s / L[i * p + i];
	}
}

void
rg_irls_fit(const double *rows, size_t n, int k, double *beta, double *std_err,
			double *work, RgIrlsTick tick, void *tick_arg, RgIrlsInfo *info)
{
	int			p = k + 1;
	double	   *H = work;
	double	   *L = H + (size_t) p * p;
	double	   *grad = L + (size_t) p * p;
	double	   *step = grad + p;
	double	   *trial = step + p;
	double	   *unit = trial + p;
	double		ll;
	double		ybar = 0.0;
	size_t		i;
	int			j;
	int			col;

	info->status = RG_IRLS_NOT_CONVERGED;
	info->iterations = 0;
	info->singular_column = -1;
	info->have_se = 0;

	/* start from the intercept-only fit: b0 = logit(mean y), the rest zero */
	for (i = 0; i < n; i++)
		ybar += rows[i * (size_t) p];
	ybar = n > 0 ? ybar / (double) n : 0.5;
	memset(beta, 0, sizeof(double) * p);
	if (ybar > 0.0 && ybar < 1.0)
		beta[0] = log(ybar / (1.0 - ybar));

	ll = evaluate(rows, n, k, beta, grad, H, tick, tick_arg);
	info->loglik = ll;

	/* at the start every weight is positive, so a failure here is the design's */
	col = cholesky(H, L, p);
	if (col >= 0)
	{
		info->status = RG_IRLS_SINGULAR;
		info->singular_column = col;
		return;
	}

	while (info->iterations < RG_IRLS_MAX_ITER)
	{
		double		ll_new;
		double		scale = 1.0;
		int			halvings = 0;
		int			small_step = 1;

		memcpy(step, grad, sizeof(double) * p);
		cholesky_solve(L, p, step);

		for (;;)
		{
			for (j = 0; j < p; j++)
				trial[j] = beta[j] + scale * step[j];
			ll_new = evaluate(rows, n, k, trial, grad, H, tick, tick_arg);
			if (isfinite(ll_new) && ll_new >= ll - 1e-12 * fabs(ll))
				break;
			if (++halvings > 30)
				break;
			scale *= 0.5;
		}
		info->iterations++;
		if (!isfinite(ll_new) || halvings > 30)
		{
			/* no step helps: keep the last good coefficients */
			(void) evaluate(rows, n, k, beta, grad, H, tick, tick_arg);
			return;
		}

		for (j = 0; j < p; j++)
		{
			double		d = fabs(trial[j] - beta[j]);

			if (!isfinite(trial[j]))
				return;
			if (d > 1e-8 * fmax(1.0, fabs(trial[j])))
				small_step = 0;
		}
		memcpy(beta, trial, sizeof(double) * p);

		if (cholesky(H, L, p) >= 0)
		{
			/* weights underflowed: fitted probabilities are 0 or 1 (separation) */
			info->loglik = ll_new;
			return;
		}

		if (small_step && fabs(ll_new - ll) <= 1e-11 * fabs(ll_new) && ll_new < 0.0)
		{
			info->loglik = ll_new;
			info->status = RG_IRLS_OK;
			break;
		}
		ll = ll_new;
		info->loglik = ll;
	}

	if (info->status != RG_IRLS_OK)
		return;

	/* standard errors: square roots of the diagonal of the inverse information */
	for (j = 0; j < p; j++)
	{
		memset(unit, 0, sizeof(double) * p);
		unit[j] = 1.0;
		cholesky_solve(L, p, unit);
		std_err[j] = unit[j] > 0.0 ? sqrt(unit[j]) : NAN;
	}
	info->have_se = 1;
}
