/*
 * fuzz_market.c
 *		Market-risk cores (src/market_core.c) under hostile inputs: order statistics by
 *		selection (including the narrowing pass of large samples), type-7 quantiles with
 *		expected shortfall, mergeable moments, the normal quantile, backtest statistics,
 *		and the covariance checks of portfolio VaR.  Inputs are what the SQL layer lets
 *		through (finite returns, confidence in (0, 1), counts 0 <= x <= n).
 *		Invariants: selection puts the sorted value at k with nothing larger before it;
 *		a quantile is the sorted-array answer and lies within [min, max]; merged moments
 *		match one pass; probabilities lie in [0, 1].
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "market_core.h"
#include "normal.h"

#define BIG_N 65536

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the reference sort is not under test: keep the fuzzer's coverage hooks out of it */
__attribute__((no_sanitize("coverage")))
static int
cmp(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

/* a probability strictly inside (0, 1), often near the ends */
static double
fuzz_prob(FuzzInput *in)
{
	uint32_t	u = fuzz_u32(in);
	double		p;

	switch (u & 3)
	{
		case 0:
			p = ldexp(1.0, -(int) ((u >> 2) % 1000));	/* tiny */
			break;
		case 1:
			p = 1.0 - ldexp(1.0, -(int) ((u >> 2) % 53 + 1)); /* near 1 */
			break;
		default:
			p = ((double) (u >> 2) + 0.5) / 1073741824.0;
	}
	if (!(p > 0.0 && p < 1.0))
		p = 0.5;
	return p;
}

static int
close_to(double a, double b, double scale)
{
	return fabs(a - b) <= 1e-9 * (scale + 1.0);
}

static void
check_quantiles(FuzzInput *in, const double *vals, int64_t n)
{
	double	   *sorted = malloc(sizeof(double) * n);
	double	   *v = malloc(sizeof(double) * n);
	double		scale = 0.0;
	int64_t		k = fuzz_range(in, 0, n - 1);

	for (int64_t i = 0; i < n; i++)
	{
		sorted[i] = v[i] = vals[i];
		if (fabs(vals[i]) > scale)
			scale = fabs(vals[i]);
	}
	qsort(sorted, n, sizeof(double), cmp);

	/* selection */
	mc_select(v, n, k);
	FUZZ_CHECK(v[k] == sorted[k]);
	if (n <= 4096)
		for (int64_t i = 0; i < n; i++)
			FUZZ_CHECK(i < k ? v[i] <= v[k] : i > k ? v[i] >= v[k] : 1);

	/* the quantile and expected shortfall, at two tails */
	for (int t = 0; t < 2; t++)
	{
		double		p = fuzz_prob(in);
		double		h = (double) (n - 1) * p;
		int64_t		lo = (int64_t) floor(h);
		double		want,
					es,
					q;

		if (lo >= n - 1)
			want = sorted[n - 1];
		else
			want = sorted[lo] + (h - (double) lo) * (sorted[lo + 1] - sorted[lo]);
		for (int64_t i = 0; i < n; i++)
			v[i] = vals[i];
		q = mc_quantile7(v, n, p, &es);
		FUZZ_CHECK(q >= sorted[0] && q <= sorted[n - 1]);
		FUZZ_CHECK(close_to(q, want, scale));
		/* minus the mean of the values strictly below q: between min and q */
		FUZZ_CHECK(-es >= sorted[0] - 1e-9 * (scale + 1.0) && -es <= q + 1e-9 * (scale + 1.0));
	}
	free(sorted);
	free(v);
}

static void
check_moments(const double *vals, int64_t n, int64_t split)
{
	McMoments	all = {0},
				a = {0},
				b = {0};
	double		lo = INFINITY,
				hi = -INFINITY;
	double		conf = 0.99;

	for (int64_t i = 0; i < n; i++)
	{
		mc_moments_add(&all, vals[i], true);
		mc_moments_add(i < split ? &a : &b, vals[i], true);
		lo = fmin(lo, vals[i]);
		hi = fmax(hi, vals[i]);
	}
	mc_moments_merge(&a, &b, true);
	FUZZ_CHECK(all.n == (double) n && a.n == (double) n);
	if (hi - lo < 1e12)			/* no overflow of the sums of powers */
	{
		double		spread = hi - lo;

		FUZZ_CHECK(all.mean >= lo - 1e-9 * (fabs(lo) + 1) && all.mean <= hi + 1e-9 * (fabs(hi) + 1));
		FUZZ_CHECK(all.m2 >= 0.0 && a.m2 >= -1e-9 * (spread * spread * n + 1));
		FUZZ_CHECK(fabs(a.mean - all.mean) <= 1e-9 * (fabs(all.mean) + spread + 1));
		FUZZ_CHECK(fabs(a.m2 - all.m2) <= 1e-7 * (all.m2 + spread * spread + 1));
	}
	(void) mc_var_gaussian(&all, conf);
	(void) mc_es_gaussian(&all, conf);
	(void) mc_var_cornish_fisher(&all, conf);
}

static void
check_backtests(FuzzInput *in)
{
	uint8_t		size = fuzz_u8(in);
	/* any int4 count now and then (the binomial sum is long there), mostly fewer */
	int64_t		n = fuzz_range(in, 1, size == 0 ? INT32_MAX : (size & 1) ? 1000 : 100000);
	int64_t		x = fuzz_range(in, 0, n);
	double		conf = fuzz_prob(in);
	double		plus = -1,
				cum = -1,
				lr,
				q;
	McZone		z;

	lr = mc_kupiec_lr(x, n, conf);
	FUZZ_CHECK(!isnan(lr));
	q = rg_chisq_sf(lr, 1);
	FUZZ_CHECK(q >= 0.0 && q <= 1.0);
	z = mc_traffic_light(x, n, conf, &plus, &cum);
	FUZZ_CHECK(z == MC_GREEN || z == MC_YELLOW || z == MC_RED);
	FUZZ_CHECK(cum >= 0.0 && cum <= 1.0);
	FUZZ_CHECK(plus >= 0.0 && plus <= 1.0);
	q = mc_binom_cdf(x, n, conf);
	FUZZ_CHECK(q >= 0.0 && q <= 1.0);
	{
		double		c[4];

		for (int i = 0; i < 4; i++)
			c[i] = (double) fuzz_range(in, 0, 1000000);
		(void) mc_christoffersen_lr_ind(c[0], c[1], c[2], c[3]);
	}
	{
		double		p = fuzz_prob(in);
		double		zq = rg_norm_quantile(p);

		FUZZ_CHECK(isfinite(zq));
		FUZZ_CHECK(fabs(rg_norm_cdf(zq) - p) <= 1e-9 * p + 1e-300 || p < 1e-300);
	}
}

static void
check_portfolio(FuzzInput *in)
{
	int			n = (int) fuzz_range(in, 1, 12);
	double		a[144],
				w[12],
				work[144],
				comp[12];
	int			bad;

	for (int i = 0; i < n; i++)
	{
		w[i] = fuzz_finite(in);
		for (int j = 0; j <= i; j++)
			a[i * n + j] = a[j * n + i] = fuzz_finite(in);
	}
	bad = mc_psd_check(a, n, 1e-12, work, NULL);
	FUZZ_CHECK(bad >= -1 && bad < n);
	if (bad == -1)
	{
		double		var = mc_component_var(w, a, n, 2.33, comp, work);

		FUZZ_CHECK(!(var < 0.0));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzInput	in = {data, size};
	uint8_t		mode = fuzz_u8(&in);
	int64_t		n;
	double	   *vals;

	/* the returns: up to 512 from the input, tiled into a large sample on request */
	n = fuzz_range(&in, 1, 512);
	vals = malloc(sizeof(double) * ((mode & 63) == 1 ? BIG_N + 4096 : n));
	for (int64_t i = 0; i < n; i++)
		vals[i] = fuzz_finite(&in);
	if ((mode & 63) == 1)
	{
		int64_t		big = BIG_N + (int64_t) fuzz_range(&in, 0, 4095);

		for (int64_t i = n; i < big; i++)
			vals[i] = vals[i % n] + (double) ((i / n) % 7) * ((mode & 64) ? 0.0 : 1e-3);
		n = big;
	}
	check_quantiles(&in, vals, n);
	check_moments(vals, n, fuzz_range(&in, 0, n));
	check_backtests(&in);
	check_portfolio(&in);
	free(vals);
	return 0;
}
