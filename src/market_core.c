/*
 * market_core.c
 *		Pure computations behind riskguard's market-risk functions (see market_core.h).
 *
 * No PostgreSQL headers: inputs are validated by the callers in market.c and
 * market_backtest.c, which also own every buffer passed in.
 */
#include "market_core.h"
#include "normal.h"

#include <math.h>
#include <stdlib.h>

/*
 * Binomial distribution function by summing the mass function in log space.  Terms
 * more than 40 standard deviations below the mean are below e^-800 and skipped; above
 * the mean the sum stops once the terms no longer change it.
 */
double
mc_binom_cdf(int64_t k, int64_t n, double p)
{
	double		mean,
				sd,
				lp,
				lq,
				lgn,
				sum = 0.0;
	int64_t		lo,
				i;

	if (k < 0)
		return 0.0;
	if (k >= n)
		return 1.0;
	mean = (double) n * p;
	sd = sqrt((double) n * p * (1.0 - p));
	lo = (int64_t) floor(mean - 40.0 * sd - 1.0);
	if (lo < 0)
		lo = 0;
	if (k < lo)
		return 0.0;
	lp = log(p);
	lq = log1p(-p);
	lgn = lgamma((double) n + 1.0);
	for (i = lo; i <= k; i++)
	{
		double		t = exp(lgn - lgamma((double) i + 1.0) - lgamma((double) (n - i) + 1.0)
							+ (double) i * lp + (double) (n - i) * lq);

		sum += t;
		if ((double) i > mean && t < 1e-17 * sum)
			break;
	}
	return sum > 1.0 ? 1.0 : sum;
}

/* ---- selection ---- */

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

static inline void
swap_double(double *a, double *b)
{
	double		t = *a;

	*a = *b;
	*b = t;
}

/*
 * Quickselect with a median-of-three pivot and Hoare partitioning (which splits runs of
 * equal values evenly); short ranges are finished by insertion sort, and a range that
 * keeps resisting after 2 log2(n) rounds is sorted instead, bounding the worst case.
 */
void
mc_select(double *v, int64_t n, int64_t k)
{
	int64_t		lo = 0,
				hi = n - 1;
	int			budget = 16;
	int64_t		m;

	if (n <= 1 || k < 0 || k >= n)
		return;
	for (m = n; m > 1; m >>= 1)
		budget += 2;

	while (hi > lo)
	{
		int64_t		mid,
					i,
					j;
		double		pivot;

		if (hi - lo < 24)
		{
			for (i = lo + 1; i <= hi; i++)
			{
				double		x = v[i];

				for (j = i; j > lo && v[j - 1] > x; j--)
					v[j] = v[j - 1];
				v[j] = x;
			}
			return;
		}
		if (budget-- == 0)
		{
			qsort(v + lo, (size_t) (hi - lo + 1), sizeof(double), cmp_double);
			return;
		}

		mid = lo + (hi - lo) / 2;
		if (v[mid] < v[lo])
			swap_double(&v[mid], &v[lo]);
		if (v[hi] < v[lo])
			swap_double(&v[hi], &v[lo]);
		if (v[hi] < v[mid])
			swap_double(&v[hi], &v[mid]);
		pivot = v[mid];

		/* afterwards v[lo..j] <= pivot <= v[j+1..hi], with lo <= j < hi */
		i = lo - 1;
		j = hi + 1;
		for (;;)
		{
			do
				i++;
			while (v[i] < pivot);
			do
				j--;
			while (v[j] > pivot);
			if (i >= j)
				break;
			swap_double(&v[i], &v[j]);
		}
		if (k <= j)
			hi = j;
		else
			lo = j + 1;
	}
}

/* Neumaier-compensated running sum */
typedef struct KahanSum
{
	double		sum;
	double		comp;
} KahanSum;

static inline void
kahan_add(KahanSum *k, double x)
{
	double		t = k->sum + x;

	if (fabs(k->sum) >= fabs(x))
		k->comp += (k->sum - t) + x;
	else
		k->comp += (x - t) + k->sum;
	k->sum = t;
}

#define NARROW_MIN_N 65536
#define NARROW_SAMPLE 4096

/*
 * Narrow the search for order statistics k0 and k0 + extra (extra is 0 or 1) with a
 * sample: bounds lo_b <= hi_b taken from a sorted strided sample around rank k0 / n
 * should bracket them.  One pass moves the values in [lo_b, hi_b] to the front of v
 * (all values stay in v), counts the values below lo_b and, when sum is not NULL, adds
 * them up.  Returns the size of the front part, or -1 when the bounds missed (v is then
 * still a permutation of the input, for the caller to select in full).  Most values fall
 * outside the bounds, so the pass is one well-predicted sweep of memory.
 */
static int64_t
narrow(double *v, int64_t n, int64_t k0, int extra, int64_t *below, KahanSum *sum)
{
	double		sample[NARROW_SAMPLE];
	int64_t		stride = n / NARROW_SAMPLE;
	double		frac = (double) k0 / (double) n;
	double		margin = 4.0 * sqrt(NARROW_SAMPLE * frac * (1.0 - frac)) + 8.0;
	double		rank = frac * NARROW_SAMPLE;
	int64_t		rl = (int64_t) floor(rank - margin);
	int64_t		ru = (int64_t) ceil(rank + margin) + 1;
	double		lo_b,
				hi_b;
	int64_t		i,
				m = 0,
				cnt = 0;

	for (i = 0; i < NARROW_SAMPLE; i++)
		sample[i] = v[i * stride];
	qsort(sample, NARROW_SAMPLE, sizeof(double), cmp_double);
	lo_b = rl <= 0 ? -INFINITY : sample[rl];
	hi_b = ru >= NARROW_SAMPLE ? INFINITY : sample[ru];

	for (i = 0; i < n; i++)
	{
		double		x = v[i];

		if (x < lo_b)
		{
			cnt++;
			if (sum != NULL)
				kahan_add(sum, x);
		}
		else if (x <= hi_b)
		{
			v[i] = v[m];
			v[m++] = x;
		}
	}
	*below = cnt;
	if (cnt <= k0 && k0 + extra < cnt + m)
		return m;
	return -1;
}

double
mc_quantile7(double *v, int64_t n, double p, double *es)
{
	double		h = (double) (n - 1) * p;
	int64_t		lo = (int64_t) floor(h);
	double		frac,
				q;
	int64_t		below = 0,
				m = -1,
				i;
	int			extra;
	KahanSum	sum = {0.0, 0.0};
	double	   *w;

	if (lo > n - 1)
		lo = n - 1;
	if (lo < 0)
		lo = 0;
	frac = h - (double) lo;
	extra = (lo + 1 < n && frac > 0.0) ? 1 : 0;

	/* w[0..m-1] holds order statistics below..below+m-1; the rest lies outside */
	if (n >= NARROW_MIN_N)
		m = narrow(v, n, lo, extra, &below, es != NULL ? &sum : NULL);
	if (m < 0)
	{
		below = 0;
		sum.sum = sum.comp = 0.0;
		m = n;
	}
	w = v;

	mc_select(w, m, lo - below);
	q = w[lo - below];
	if (extra)
	{
		double		next = w[lo - below + 1];

		for (i = lo - below + 2; i < m; i++)
			if (w[i] < next)
				next = w[i];
		q = q + frac * (next - q);
	}

	if (es != NULL)
	{
		/* the values below q: those under the narrowing bound, and some of w[0..lo] */
		int64_t		count = below;

		for (i = 0; i <= lo - below; i++)
		{
			if (w[i] < q)
			{
				kahan_add(&sum, w[i]);
				count++;
			}
		}
		*es = count > 0 ? -((sum.sum + sum.comp) / (double) count) : -q;
	}
	return q;
}

/* ---- moments ---- */

void
mc_moments_add(McMoments *m, double x, bool with_higher)
{
	double		n1 = m->n;
	double		n = n1 + 1.0;
	double		delta = x - m->mean;
	double		dn = delta / n;
	double		term1 = delta * (dn * n1);	/* 0 for the first value, even a huge one */

	m->mean += dn;
	if (with_higher)
	{
		double		dn2 = dn * dn;

		m->m4 += term1 * dn2 * (n * n - 3.0 * n + 3.0) + 6.0 * dn2 * m->m2 - 4.0 * dn * m->m3;
		m->m3 += term1 * dn * (n - 2.0) - 3.0 * dn * m->m2;
	}
	m->m2 += term1;
	m->n = n;
}

void
mc_moments_merge(McMoments *a, const McMoments *b, bool with_higher)
{
	double		na = a->n,
				nb = b->n,
				n,
				d,
				d2,
				a2 = a->m2,
				b2 = b->m2;

	if (nb == 0.0)
		return;
	if (na == 0.0)
	{
		*a = *b;
		return;
	}
	n = na + nb;
	d = b->mean - a->mean;
	d2 = d * d;

	a->mean += d * (nb / n);
	a->m2 = a2 + b2 + d2 * (na * nb / n);
	if (with_higher)
	{
		double		a3 = a->m3,
					b3 = b->m3;

		a->m3 = a3 + b3 + d2 * d * (na * nb * (na - nb) / (n * n))
			+ 3.0 * d * (na * b2 - nb * a2) / n;
		a->m4 = a->m4 + b->m4
			+ d2 * d2 * (na * nb * (na * na - na * nb + nb * nb) / (n * n * n))
			+ 6.0 * d2 * (na * na * b2 + nb * nb * a2) / (n * n)
			+ 4.0 * d * (na * b3 - nb * a3) / n;
	}
	a->n = n;
}

/* population standard deviation; a NaN from overflow propagates to the caller's check */
static double
moments_sigma(const McMoments *m)
{
	return m->m2 == 0.0 ? 0.0 : sqrt(m->m2 / m->n);
}

double
mc_var_gaussian(const McMoments *m, double confidence)
{
	return -(m->mean - moments_sigma(m) * rg_norm_quantile(confidence));
}

double
mc_es_gaussian(const McMoments *m, double confidence)
{
	return -m->mean + moments_sigma(m) * rg_norm_pdf(rg_norm_quantile(confidence)) /
		(1.0 - confidence);
}

double
mc_var_cornish_fisher(const McMoments *m, double confidence)
{
	double		sigma = moments_sigma(m);
	double		z = -rg_norm_quantile(confidence);
	double		s,
				k,
				zcf;

	if (sigma == 0.0)
		return -m->mean;
	s = (m->m3 / m->n) / (sigma * sigma * sigma);
	k = (m->m4 / m->n) / (sigma * sigma * sigma * sigma) - 3.0;
	zcf = z + (z * z - 1.0) * s / 6.0 + (z * z * z - 3.0 * z) * k / 24.0
		- (2.0 * z * z * z - 5.0 * z) * s * s / 36.0;
	return -(m->mean + sigma * zcf);
}

/* ---- backtests ---- */

/* x log(y), taken as 0 when x is 0 (the limit that likelihoods need) */
static double
xlogy(double x, double y)
{
	return x == 0.0 ? 0.0 : x * log(y);
}

double
mc_kupiec_lr(int64_t x, int64_t n, double confidence)
{
	double		fx = (double) x,
				fn = (double) n,
				lr;

	/* log(1 - p) = log(confidence), log(p) = log1p(-confidence) */
	lr = -2.0 * (xlogy(fn - fx, confidence) + (fx == 0.0 ? 0.0 : fx * log1p(-confidence)))
		+ 2.0 * (xlogy(fn - fx, (fn - fx) / fn) + xlogy(fx, fx / fn));
	return lr > 0.0 ? lr : 0.0;
}

double
mc_christoffersen_lr_ind(double n00, double n01, double n10, double n11)
{
	double		r0 = n00 + n01,
				r1 = n10 + n11,
				t = r0 + r1,
				l0,
				l1,
				lr;

	if (t == 0.0)
		return 0.0;
	l0 = xlogy(n00 + n10, (n00 + n10) / t) + xlogy(n01 + n11, (n01 + n11) / t);
	l1 = 0.0;
	if (r0 > 0.0)
		l1 += xlogy(n00, n00 / r0) + xlogy(n01, n01 / r0);
	if (r1 > 0.0)
		l1 += xlogy(n10, n10 / r1) + xlogy(n11, n11 / r1);
	lr = -2.0 * (l0 - l1);
	return lr > 0.0 ? lr : 0.0;
}

McZone
mc_traffic_light(int64_t x, int64_t n, double confidence, double *plus_factor,
				 double *cumulative)
{
	/* Basel Committee (1996), supervisory framework for backtesting: yellow zone */
	static const double basel_plus[5] = {0.40, 0.50, 0.65, 0.75, 0.85};
	const double basel_p = 1.0 - 0.99;
	double		p = 1.0 - confidence;
	double		cum = mc_binom_cdf(x, n, p);
	int			j;

	*cumulative = cum;
	if (n == 250 && confidence == 0.99)
	{
		if (x <= 4)
		{
			*plus_factor = 0.0;
			return MC_GREEN;
		}
		if (x <= 9)
		{
			*plus_factor = basel_plus[x - 5];
			return MC_YELLOW;
		}
		*plus_factor = 1.0;
		return MC_RED;
	}

	if (cum < 0.95)
	{
		*plus_factor = 0.0;
		return MC_GREEN;
	}
	if (cum >= 0.9999)
	{
		*plus_factor = 1.0;
		return MC_RED;
	}
	*plus_factor = basel_plus[0];
	for (j = 4; j >= 0; j--)
	{
		if (mc_binom_cdf(5 + j, 250, basel_p) <= cum)
		{
			*plus_factor = basel_plus[j];
			break;
		}
	}
	return MC_YELLOW;
}

/* ---- parametric portfolio VaR ---- */

int
mc_psd_check(const double *a, int n, double tol, double *l, void (*tick) (void))
{
	double		maxdiag = 0.0,
				abstol,
				offtol;
	int			i,
				j,
				k;

	for (i = 0; i < n; i++)
		if (fabs(a[i * n + i]) > maxdiag)
			maxdiag = fabs(a[i * n + i]);
	abstol = tol * maxdiag;
	/* a zero pivot's column must vanish: |s_ij|^2 <= s_jj s_ii */
	offtol = sqrt(abstol * maxdiag) + abstol;

	for (j = 0; j < n; j++)
	{
		double		d = a[j * n + j];

		if (tick != NULL)
			tick();
		for (k = 0; k < j; k++)
			d -= l[j * n + k] * l[j * n + k];
		if (d < -abstol)
			return j;
		if (d <= abstol)
		{
			l[j * n + j] = 0.0;
			for (i = j + 1; i < n; i++)
			{
				double		s = a[i * n + j];

				for (k = 0; k < j; k++)
					s -= l[i * n + k] * l[j * n + k];
				if (fabs(s) > offtol)
					return j;
				l[i * n + j] = 0.0;
			}
		}
		else
		{
			double		ljj = sqrt(d);

			l[j * n + j] = ljj;
			for (i = j + 1; i < n; i++)
			{
				double		s = a[i * n + j];

				for (k = 0; k < j; k++)
					s -= l[i * n + k] * l[j * n + k];
				l[i * n + j] = s / ljj;
			}
		}
	}
	return -1;
}

double
mc_component_var(const double *w, const double *a, int n, double scale,
				 double *comp, double *aw)
{
	double		var = 0.0,
				sigma;
	int			i,
				j;

	for (i = 0; i < n; i++)
	{
		double		s = 0.0;

		for (j = 0; j < n; j++)
			s += a[i * n + j] * w[j];
		aw[i] = s;
		var += w[i] * s;
	}
	sigma = var > 0.0 ? sqrt(var) : 0.0;
	if (comp != NULL)
		for (i = 0; i < n; i++)
			comp[i] = sigma > 0.0 ? w[i] * aw[i] / sigma * scale : 0.0;
	return sigma * scale;
}
