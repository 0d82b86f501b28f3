/*
 * fuzz_irls.c
 *		The logistic-regression solver (src/irls.c) on hostile data: up to 8 features and
 *		a few hundred rows of finite values (what fit_logistic accepts), split into two
 *		segments, with and without precomputed moments and a starting point.
 *		Invariants: the status is one of the three, within the iteration cap; a singular
 *		design names a column that exists; a converged fit has finite coefficients and
 *		standard errors and a log-likelihood no worse than the intercept-only model's;
 *		the fit from the moment sums is as well-formed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "irls.h"

#define MAX_K 8
#define MAX_ROWS 400

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzInput	in = {data, size};
	int			k = (int) fuzz_range(&in, 0, MAX_K);
	size_t		n = (size_t) fuzz_range(&in, 0, MAX_ROWS);
	size_t		split = (size_t) fuzz_range(&in, 0, (int64_t) n);
	uint8_t		opts = fuzz_u8(&in);
	int			p = k + 1;
	double	   *rows = malloc(sizeof(double) * (n * p + 1));
	double	   *work = malloc(sizeof(double) * rg_irls_workspace(k));
	double	   *xtx = calloc((size_t) p * p, sizeof(double));
	double	   *xty = calloc((size_t) p, sizeof(double));
	double		beta[MAX_K + 1],
				se[MAX_K + 1],
				beta2[MAX_K + 1],
				se2[MAX_K + 1],
				start[MAX_K + 1];
	double		ybar = 0.0;
	RgIrlsSegment segs[2];
	RgIrlsInfo	info,
				info2;

	for (size_t i = 0; i < n; i++)
	{
		double	   *r = rows + i * p;

		r[0] = (fuzz_u8(&in) & 1) ? 1.0 : 0.0;
		ybar += r[0];
		for (int j = 1; j < p; j++)
			r[j] = (opts & 1) ? (double) (fuzz_u8(&in) % 5) : fuzz_finite(&in);	/* ties, or spread */
		rg_irls_add_moments(xtx, xty, r, k);
	}
	for (int j = 0; j < p; j++)
		start[j] = fuzz_finite(&in) / 64.0;
	segs[0].rows = rows;
	segs[0].n = split;
	segs[1].rows = rows + split * p;
	segs[1].n = n - split;

	rg_irls_fit(segs, 2, k, NULL, NULL, NULL, beta, se, work, NULL, NULL, &info);
	FUZZ_CHECK(info.status == RG_IRLS_OK || info.status == RG_IRLS_NOT_CONVERGED ||
			   info.status == RG_IRLS_SINGULAR);
	FUZZ_CHECK(info.iterations >= 0 && info.iterations <= RG_IRLS_MAX_ITER);
	if (info.status == RG_IRLS_SINGULAR)
		FUZZ_CHECK(info.singular_column >= 0 && info.singular_column <= k);
	if (info.status == RG_IRLS_OK)
	{
		double		ll0 = 0.0;

		for (int j = 0; j < p; j++)
			FUZZ_CHECK(isfinite(beta[j]));
		if (info.have_se)
			for (int j = 0; j < p; j++)
				FUZZ_CHECK(isfinite(se[j]) && se[j] >= 0.0);
		FUZZ_CHECK(isfinite(info.loglik) && info.loglik <= 1e-9);
		if (ybar > 0 && ybar < (double) n)
		{
			double		m = ybar / (double) n;

			ll0 = ybar * log(m) + ((double) n - ybar) * log1p(-m);
			FUZZ_CHECK(info.loglik >= ll0 - 1e-6 * (fabs(ll0) + 1.0));
		}
	}

	/* the same fit from the moment sums, and from a starting point */
	rg_irls_fit(segs, 2, k, xtx, xty, (opts & 2) ? start : NULL, beta2, se2, work, NULL, NULL,
				&info2);
	FUZZ_CHECK(info2.status == RG_IRLS_OK || info2.status == RG_IRLS_NOT_CONVERGED ||
			   info2.status == RG_IRLS_SINGULAR);
	FUZZ_CHECK(info2.iterations >= 0 && info2.iterations <= RG_IRLS_MAX_ITER);

	/* the first step from the moment sums alone, as a parallel part warms up */
	{
		double		b[MAX_K + 1];
		int			ok = rg_irls_moment_step(k, xtx, xty, b, work);

		FUZZ_CHECK(ok == 0 || ok == 1);
		if (n > 0 && ybar > 0 && ybar < (double) n)
			FUZZ_CHECK(isfinite(b[0]));
		if (ok)
			for (int j = 0; j < p; j++)
				FUZZ_CHECK(isfinite(b[j]));
	}

	/*
	 * Both ways must not be held to the same verdict: the start's information matrix is
	 * w X'X from the sums or sum(w x x') from the rows, equal but for rounding, and a
	 * design conditioned at the edge of the singularity tolerance (regressions/irls/:
	 * one value near 1e84) falls on either side of it.
	 */

	free(rows);
	free(work);
	free(xtx);
	free(xty);
	return 0;
}
