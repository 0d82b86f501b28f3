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
 * A full step whose Newton decrement g' H^-1 g is below 1e-10 sqrt(n) ends the fit,
 * provided no coefficient moved by more than 1e-3 (relative, or absolute near zero); so
 * does a step under 1e-8 in every component with a log-likelihood change below 1e-11
 * relative.  After either the coefficients are within about 1e-10 standard errors of
 * the maximum (see RG_IRLS_DECREMENT).  Separated data never meet the step conditions (some coefficient
 * keeps growing) and end at the iteration cap, or earlier when the weights underflow
 * and the information matrix stops being positive definite: both report not converged.
 */
#include <math.h>
#include <string.h>

#include "irls.h"

#define TICK_ROWS 65536

/*
 * The fit has converged after a full step whose Newton decrement g' H^-1 g (the squared
 * length of the step in standard errors) is below RG_IRLS_DECREMENT x sqrt(n).  Newton's
 * error shrinks as e' = c e^2 with c of order 1 / sqrt(n) in units of standard errors,
 * so the coefficients then lie within about 1e-10 standard errors of the maximum.
 */
#define RG_IRLS_DECREMENT 1e-10

size_t
rg_irls_workspace(int k)
{
	size_t		p = (size_t) k + 1;

	/* H, L, grad, step, trial beta, unit vector */
	return 2 * p * p + 4 * p;
}

/* weight, residual and log-likelihood term of one row at beta */
static inline double
row_terms(const double *r, int k, const double *beta, double *w, double *res)
{
	const double *x = r + 1;
	double		eta0 = beta[0];
	double		eta1 = 0.0;
	double		eta;
	double		e;
	double		mu;
	int			a;

	/* two accumulators halve the dependency chain of the dot product */
	for (a = 0; a + 1 < k; a += 2)
	{
		eta0 += beta[a + 1] * x[a];
		eta1 += beta[a + 2] * x[a + 1];
	}
	if (a < k)
		eta0 += beta[a + 1] * x[a];
	eta = eta0 + eta1;

	/* one exp: e = exp(-|eta|), mu = 1/(1 + exp(-eta)), log(1 + exp(eta)) */
	e = exp(-fabs(eta));
	mu = eta >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
	*w = mu * (1.0 - mu);
	*res = r[0] - mu;
	return r[0] * eta - (fmax(eta, 0.0) + log1p(e));
}

/*
 * One pass: log-likelihood, score and information matrix (upper triangle of H, row
 * major, p x p) at beta.  Rows go four at a time through the update of H, so each
 * element of H is loaded and stored once per four rows.
 */
static double
evaluate(const RgIrlsSegment *segs, int nseg, int k, const double *beta, double *grad,
		 double *H, RgIrlsTick tick, void *tick_arg)
{
	int			p = k + 1;
	double		ll = 0.0;
	int			sg;

	memset(grad, 0, sizeof(double) * p);
	memset(H, 0, sizeof(double) * p * p);

	for (sg = 0; sg < nseg; sg++)
	{
		const double *rows = segs[sg].rows;
		size_t		n = segs[sg].n;
		size_t		i = 0;

		for (; i + 4 <= n; i += 4)
		{
			const double *r0 = rows + i * (size_t) p;
			const double *r1 = r0 + p;
			const double *r2 = r1 + p;
			const double *r3 = r2 + p;
			const double *x0 = r0 + 1;
			const double *x1 = r1 + 1;
			const double *x2 = r2 + 1;
			const double *x3 = r3 + 1;
			double		w0, w1, w2, w3;
			double		e0, e1, e2, e3;
			int			a;
			int			b;

			if (tick != NULL && (i % TICK_ROWS) == 0)
				tick(tick_arg);

			ll += row_terms(r0, k, beta, &w0, &e0);
			ll += row_terms(r1, k, beta, &w1, &e1);
			ll += row_terms(r2, k, beta, &w2, &e2);
			ll += row_terms(r3, k, beta, &w3, &e3);

			grad[0] += (e0 + e1) + (e2 + e3);
			H[0] += (w0 + w1) + (w2 + w3);
			for (b = 0; b < k; b++)
				H[b + 1] += (w0 * x0[b] + w1 * x1[b]) + (w2 * x2[b] + w3 * x3[b]);
			for (a = 0; a < k; a++)
			{
				double		wa0 = w0 * x0[a];
				double		wa1 = w1 * x1[a];
				double		wa2 = w2 * x2[a];
				double		wa3 = w3 * x3[a];
				double	   *Hrow = H + (size_t) (a + 1) * p + 1;

				grad[a + 1] += (e0 * x0[a] + e1 * x1[a]) + (e2 * x2[a] + e3 * x3[a]);
				for (b = a; b < k; b++)
					Hrow[b] += (wa0 * x0[b] + wa1 * x1[b]) + (wa2 * x2[b] + wa3 * x3[b]);
			}
		}
		for (; i < n; i++)
		{
			const double *r = rows + i * (size_t) p;
			const double *x = r + 1;
			double		w;
			double		res;
			int			a;
			int			b;

			ll += row_terms(r, k, beta, &w, &res);
			grad[0] += res;
			H[0] += w;
			for (b = 0; b < k; b++)
				H[b + 1] += w * x[b];
			for (a = 0; a < k; a++)
			{
				double		wa = w * x[a];
				double	   *Hrow = H + (size_t) (a + 1) * p + 1;

				grad[a + 1] += res * x[a];
				for (b = a; b < k; b++)
					Hrow[b] += wa * x[b];
			}
		}
	}
	return ll;
}

void
rg_irls_add_moments(double *xtx, double *xty, const double *row, int k)
{
	int			p = k + 1;
	const double *x = row + 1;
	double		y = row[0];
	int			a;
	int			b;

	xtx[0] += 1.0;
	xty[0] += y;
	for (b = 0; b < k; b++)
		xtx[b + 1] += x[b];
	for (a = 0; a < k; a++)
	{
		double	   *row_a = xtx + (size_t) (a + 1) * p + 1;
		double		xa = x[a];

		xty[a + 1] += y * xa;
		for (b = a; b < k; b++)
			row_a[b] += xa * x[b];
	}
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

/*
 * beta += H^-1 grad, through the Cholesky factor L (grad is overwritten with the step);
 * 0, leaving beta as it was, when H is not positive definite or the step not finite.
 */
static int
take_step(int p, const double *H, double *L, double *grad, double *beta)
{
	int			j;

	if (cholesky(H, L, p) >= 0)
		return 0;
	cholesky_solve(L, p, grad);
	for (j = 0; j < p; j++)
		if (!isfinite(grad[j]))
			return 0;
	for (j = 0; j < p; j++)
		beta[j] += grad[j];
	return 1;
}

int
rg_irls_newton_step(const RgIrlsSegment *segs, int nseg, int k, double *beta,
					double *work, RgIrlsTick tick, void *tick_arg)
{
	int			p = k + 1;
	double	   *H = work;
	double	   *L = H + (size_t) p * p;
	double	   *grad = L + (size_t) p * p;
	double		ll = evaluate(segs, nseg, k, beta, grad, H, tick, tick_arg);

	if (!isfinite(ll))
		return 0;
	return take_step(p, H, L, grad, beta);
}

/*
 * At the intercept-only start beta (b0 = logit(mean y), the rest zero) every fitted
 * probability is m = mean y, so the information is m (1 - m) X'X, the score
 * X'y - m X'1 and the log-likelihood closed-form: all from the moment sums.
 */
static double
moment_start(int p, double n, const double *xtx, const double *xty, const double *beta,
			 double *grad, double *H)
{
	double		nbad = xty[0];
	double		m = (nbad > 0.0 && nbad < n) ? nbad / n : 0.5;
	double		w = m * (1.0 - m);
	int			j;

	for (j = 0; j < p * p; j++)
		H[j] = w * xtx[j];
	for (j = 0; j < p; j++)
		grad[j] = xty[j] - m * xtx[j];
	return nbad * beta[0] - n * (fmax(beta[0], 0.0) + log1p(exp(-fabs(beta[0]))));
}

int
rg_irls_moment_step(int k, const double *xtx, const double *xty, double *beta,
					double *work)
{
	int			p = k + 1;
	double	   *H = work;
	double	   *L = H + (size_t) p * p;
	double	   *grad = L + (size_t) p * p;
	double		n = xtx[0];
	double		nbad = xty[0];

	memset(beta, 0, sizeof(double) * p);
	if (nbad > 0.0 && nbad < n)
		beta[0] = log(nbad / (n - nbad));
	(void) moment_start(p, n, xtx, xty, beta, grad, H);
	return take_step(p, H, L, grad, beta);
}

int
rg_irls_solve(const double *H, double *L, int p, double *x)
{
	int			col = cholesky(H, L, p);

	if (col < 0)
		cholesky_solve(L, p, x);
	return col;
}

void
rg_irls_fit(const RgIrlsSegment *segs, int nseg, int k, const double *xtx,
			const double *xty, const double *start, double *beta, double *std_err,
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
	double		n = 0.0;
	double		nbad = 0.0;
	int			sg;
	int			j;
	int			col;

	info->status = RG_IRLS_NOT_CONVERGED;
	info->iterations = 0;
	info->singular_column = -1;
	info->have_se = 0;

	/* start from the intercept-only fit: b0 = logit(mean y), the rest zero */
	for (sg = 0; sg < nseg; sg++)
	{
		size_t		i;

		n += (double) segs[sg].n;
		if (xty == NULL)
			for (i = 0; i < segs[sg].n; i++)
				nbad += segs[sg].rows[i * (size_t) p];
	}
	if (xty != NULL)
		nbad = xty[0];
	memset(beta, 0, sizeof(double) * p);
	if (nbad > 0.0 && nbad < n)
		beta[0] = log(nbad / (n - nbad));

	if (xtx != NULL && xty != NULL)
		ll = moment_start(p, n, xtx, xty, beta, grad, H);
	else
		ll = evaluate(segs, nseg, k, beta, grad, H, tick, tick_arg);
	info->loglik = ll;

	/* at the start every weight is positive, so a failure here is the design's */
	col = cholesky(H, L, p);
	if (col >= 0)
	{
		info->status = RG_IRLS_SINGULAR;
		info->singular_column = col;
		return;
	}

	if (start != NULL)
	{
		/* a warm start replaces the intercept-only one when it is at least as good */
		double		ll_warm;

		for (j = 0; j < p; j++)
			trial[j] = isfinite(start[j]) ? start[j] : 0.0;
		memcpy(unit, grad, sizeof(double) * p);
		memcpy(L + 0, H, sizeof(double) * p * p);	/* keep the intercept-only H */
		ll_warm = evaluate(segs, nseg, k, trial, grad, H, tick, tick_arg);
		if (isfinite(ll_warm) && ll_warm >= ll)
		{
			memcpy(beta, trial, sizeof(double) * p);
			ll = ll_warm;
			info->loglik = ll;
		}
		else
		{
			memcpy(H, L, sizeof(double) * p * p);
			memcpy(grad, unit, sizeof(double) * p);
		}
		if (cholesky(H, L, p) >= 0)
			return;				/* weights underflowed at the start: not converged */
	}

	while (info->iterations < RG_IRLS_MAX_ITER)
	{
		double		ll_new;
		double		scale = 1.0;
		double		decrement = 0.0;
		int			halvings = 0;
		int			small_step = 1;
		int			modest_step = 1;

		memcpy(step, grad, sizeof(double) * p);
		cholesky_solve(L, p, step);
		for (j = 0; j < p; j++)
			decrement += step[j] * grad[j];

		for (;;)
		{
			for (j = 0; j < p; j++)
				trial[j] = beta[j] + scale * step[j];
			ll_new = evaluate(segs, nseg, k, trial, grad, H, tick, tick_arg);
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
			(void) evaluate(segs, nseg, k, beta, grad, H, tick, tick_arg);
			return;
		}

		for (j = 0; j < p; j++)
		{
			double		d = fabs(trial[j] - beta[j]);

			if (!isfinite(trial[j]))
				return;
			if (d > 1e-8 * fmax(1.0, fabs(trial[j])))
				small_step = 0;
			if (d > 1e-3 * fmax(1.0, fabs(trial[j])))
				modest_step = 0;
		}
		memcpy(beta, trial, sizeof(double) * p);

		if (cholesky(H, L, p) >= 0)
		{
			/* weights underflowed: fitted probabilities are 0 or 1 (separation) */
			info->loglik = ll_new;
			return;
		}

		if (ll_new < 0.0 &&
			((decrement < RG_IRLS_DECREMENT * sqrt(n) && modest_step && halvings == 0) ||
			 (small_step && fabs(ll_new - ll) <= 1e-11 * fabs(ll_new))))
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
