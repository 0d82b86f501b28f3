/*
 * credit_stats_core.c
 *		Credit statistics without PostgreSQL: AUC, KS, Hosmer-Lemeshow, WoE binning,
 *		PSI, Basel IRB capital and risk-based pricing.  See credit_stats_core.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "credit_stats_core.h"
#include "normal.h"

static int
pair_cmp(const void *a, const void *b)
{
	const RgPair *x = a;
	const RgPair *y = b;

	if (x->v < y->v)
		return -1;
	if (x->v > y->v)
		return 1;
	if (x->bad < y->bad)
		return -1;
	if (x->bad > y->bad)
		return 1;
	return 0;
}

void
rg_pairs_sort(RgPair *pairs, size_t n)
{
	if (n > 1)
		qsort(pairs, n, sizeof(RgPair), pair_cmp);
}

void
rg_pairs_count(const RgPair *pairs, size_t n, int64_t *goods, int64_t *bads)
{
	int64_t		b = 0;
	size_t		i;

	for (i = 0; i < n; i++)
		b += pairs[i].bad != 0.0;
	*bads = b;
	*goods = (int64_t) n - b;
}

double
rg_auc_sorted(const RgPair *pairs, size_t n)
{
	int64_t		goods;
	int64_t		bads;
	double		bads_below = 0.0;
	double		wins = 0.0;
	size_t		i = 0;

	rg_pairs_count(pairs, n, &goods, &bads);
	if (goods == 0 || bads == 0)
		return NAN;
	while (i < n)
	{
		size_t		j = i;
		double		g = 0.0;
		double		b = 0.0;

		/* a run of equal values: goods there beat every bad below, tie with bads here */
		while (j < n && pairs[j].v == pairs[i].v)
		{
			if (pairs[j].bad != 0.0)
				b += 1.0;
			else
				g += 1.0;
			j++;
		}
		wins += g * bads_below + 0.5 * g * b;
		bads_below += b;
		i = j;
	}
	return wins / ((double) goods * (double) bads);
}

double
rg_ks_sorted(const RgPair *pairs, size_t n)
{
	int64_t		goods;
	int64_t		bads;
	double		cg = 0.0;
	double		cb = 0.0;
	double		ks = 0.0;
	size_t		i = 0;

	rg_pairs_count(pairs, n, &goods, &bads);
	if (goods == 0 || bads == 0)
		return NAN;
	while (i < n)
	{
		size_t		j = i;
		double		d;

		while (j < n && pairs[j].v == pairs[i].v)
		{
			if (pairs[j].bad != 0.0)
				cb += 1.0;
			else
				cg += 1.0;
			j++;
		}
		d = fabs(cb / (double) bads - cg / (double) goods);
		if (d > ks)
			ks = d;
		i = j;
	}
	return ks;
}

double
rg_hosmer_lemeshow_sorted(const RgPair *pairs, size_t n, int groups)
{
	double		chi2 = 0.0;
	int			g;

	for (g = 0; g < groups; g++)
	{
		size_t		lo = (size_t) ((double) g * (double) n / groups);
		size_t		hi = (size_t) ((double) (g + 1) * (double) n / groups);
		double		observed = 0.0;
		double		expected = 0.0;
		double		m = (double) (hi - lo);
		double		var;
		size_t		i;

		for (i = lo; i < hi; i++)
		{
			observed += pairs[i].bad;
			expected += pairs[i].v;
		}
		if (m <= 0.0)
			continue;
		var = expected * (1.0 - expected / m);
		if (var > 0.0)
			chi2 += (observed - expected) * (observed - expected) / var;
	}
	return chi2;
}

size_t
rg_woe_prebin(const RgWoeItem *items, size_t nitems, int max_bins, double min_share,
			  RgWoeBin *bins)
{
	double		n = 0.0;
	double		target;
	size_t		nbins = 0;
	size_t		i;
	RgWoeBin	cur;

	for (i = 0; i < nitems; i++)
		n += (double) (items[i].goods + items[i].bads);
	if (nitems == 0)
		return 0;
	target = fmax(n / max_bins, ceil(min_share * n));
	if (target < 1.0)
		target = 1.0;

	memset(&cur, 0, sizeof(cur));
	for (i = 0; i < nitems; i++)
	{
		cur.goods += items[i].goods;
		cur.bads += items[i].bads;
		cur.hi = i + 1;
		if ((double) (cur.goods + cur.bads) >= target - 1e-9)
		{
			bins[nbins++] = cur;
			memset(&cur, 0, sizeof(cur));
			cur.lo = i + 1;
		}
	}
	if (cur.hi > cur.lo)
	{
		/* a short last bin joins the one before it */
		if (nbins > 0 && (double) (cur.goods + cur.bads) < ceil(min_share * n))
		{
			bins[nbins - 1].hi = cur.hi;
			bins[nbins - 1].goods += cur.goods;
			bins[nbins - 1].bads += cur.bads;
		}
		else
			bins[nbins++] = cur;
	}
	return nbins;
}

/* merge bin i + 1 into bin i */
static size_t
merge_next(RgWoeBin *bins, size_t nbins, size_t i)
{
	bins[i].hi = bins[i + 1].hi;
	bins[i].goods += bins[i + 1].goods;
	bins[i].bads += bins[i + 1].bads;
	memmove(bins + i + 1, bins + i + 2, sizeof(RgWoeBin) * (nbins - i - 2));
	return nbins - 1;
}

static double
bad_rate(const RgWoeBin *b)
{
	return (double) b->bads / (double) (b->goods + b->bads);
}

size_t
rg_woe_merge_pure(RgWoeBin *bins, size_t nbins)
{
	size_t		i = 0;

	while (nbins > 1 && i < nbins)
	{
		if (bins[i].goods > 0 && bins[i].bads > 0)
		{
			i++;
			continue;
		}
		if (i == 0)
			nbins = merge_next(bins, nbins, 0);
		else if (i == nbins - 1)
		{
			nbins = merge_next(bins, nbins, i - 1);
			i--;
		}
		else
		{
			/* join the neighbour whose bad rate is closer */
			double		r = bad_rate(&bins[i]);
			double		dl = fabs(bad_rate(&bins[i - 1]) - r);
			double		dr = fabs(bad_rate(&bins[i + 1]) - r);

			if (dl <= dr)
			{
				nbins = merge_next(bins, nbins, i - 1);
				i--;
			}
			else
				nbins = merge_next(bins, nbins, i);
		}
	}
	return nbins;
}

static double
woe_of(const RgWoeBin *b, int64_t total_goods, int64_t total_bads)
{
	return log(((double) b->goods / (double) total_goods) /
			   ((double) b->bads / (double) total_bads));
}

/* merge until WoE is strictly monotonic in direction dir (1 rising, -1 falling) */
static size_t
make_monotonic(RgWoeBin *bins, size_t nbins, int64_t tg, int64_t tb, int dir)
{
	size_t		i = 0;

	while (i + 1 < nbins)
	{
		double		a = woe_of(&bins[i], tg, tb);
		double		b = woe_of(&bins[i + 1], tg, tb);

		if (dir * (b - a) > 0.0)
		{
			i++;
			continue;
		}
		/* pool the violating pair, then look back: the pooled bin may break the earlier order */
		nbins = merge_next(bins, nbins, i);
		if (i > 0)
			i--;
	}
	return nbins;
}

size_t
rg_woe_monotonic(RgWoeBin *bins, size_t nbins, int64_t total_goods, int64_t total_bads,
				 RgWoeBin *tmp, int *direction)
{
	size_t		nup;
	size_t		ndown;
	double		ivup;
	double		ivdown;

	if (nbins <= 1)
	{
		*direction = 0;
		return nbins;
	}
	memcpy(tmp, bins, sizeof(RgWoeBin) * nbins);
	nup = make_monotonic(tmp, nbins, total_goods, total_bads, 1);
	ndown = make_monotonic(bins, nbins, total_goods, total_bads, -1);
	ivup = rg_woe_finish(tmp, nup, total_goods, total_bads);
	ivdown = rg_woe_finish(bins, ndown, total_goods, total_bads);
	if (nup > ndown || (nup == ndown && ivup > ivdown))
	{
		memcpy(bins, tmp, sizeof(RgWoeBin) * nup);
		*direction = nup > 1 ? 1 : 0;
		return nup;
	}
	*direction = ndown > 1 ? -1 : 0;
	return ndown;
}

double
rg_woe_finish(RgWoeBin *bins, size_t nbins, int64_t total_goods, int64_t total_bads)
{
	double		iv = 0.0;
	size_t		i;

	for (i = 0; i < nbins; i++)
	{
		double		sg = (double) bins[i].goods / (double) total_goods;
		double		sb = (double) bins[i].bads / (double) total_bads;

		bins[i].woe = log(sg / sb);
		bins[i].iv = (sg - sb) * bins[i].woe;
		iv += bins[i].iv;
	}
	return iv;
}

double
rg_woe_smoothed(int64_t goods, int64_t bads, int64_t total_goods, int64_t total_bads)
{
	double		g = (double) goods;
	double		b = (double) bads;

	if (goods == 0 && bads == 0)
		return 0.0;
	if (goods == 0 || bads == 0)
	{
		g += 0.5;
		b += 0.5;
	}
	return log((g / (double) total_goods) / (b / (double) total_bads));
}

double
rg_psi(const double *expected, const double *actual, size_t n)
{
	double		se = 0.0;
	double		sa = 0.0;
	double		psi = 0.0;
	size_t		i;

	for (i = 0; i < n; i++)
	{
		se += expected[i];
		sa += actual[i];
	}
	for (i = 0; i < n; i++)
	{
		double		e = fmax(expected[i] / se, RG_PSI_FLOOR);
		double		a = fmax(actual[i] / sa, RG_PSI_FLOOR);

		psi += (a - e) * log(a / e);
	}
	return psi;
}

RgAssetClass
rg_asset_class(const char *name)
{
	if (strcmp(name, "corporate") == 0)
		return RG_AC_CORPORATE;
	if (strcmp(name, "residential_mortgage") == 0)
		return RG_AC_RESIDENTIAL_MORTGAGE;
	if (strcmp(name, "qualifying_revolving") == 0)
		return RG_AC_QUALIFYING_REVOLVING;
	if (strcmp(name, "other_retail") == 0)
		return RG_AC_OTHER_RETAIL;
	return RG_AC_UNKNOWN;
}

double
rg_irb_correlation(RgAssetClass ac, double pd)
{
	double		w;

	pd = fmax(pd, RG_IRB_PD_FLOOR);
	switch (ac)
	{
		case RG_AC_CORPORATE:
			w = (1.0 - exp(-50.0 * pd)) / (1.0 - exp(-50.0));
			return 0.12 * w + 0.24 * (1.0 - w);
		case RG_AC_RESIDENTIAL_MORTGAGE:
			return 0.15;
		case RG_AC_QUALIFYING_REVOLVING:
			return 0.04;
		case RG_AC_OTHER_RETAIL:
			w = (1.0 - exp(-35.0 * pd)) / (1.0 - exp(-35.0));
			return 0.03 * w + 0.16 * (1.0 - w);
		default:
			return NAN;
	}
}

double
rg_irb_capital(double pd, double lgd, RgAssetClass ac, double maturity)
{
	double		r;
	double		k;

	pd = fmax(pd, RG_IRB_PD_FLOOR);
	if (pd >= 1.0)
		return 0.0;				/* defaulted: the formula's conditional loss equals EL */
	r = rg_irb_correlation(ac, pd);
	k = lgd * rg_norm_cdf((rg_norm_quantile(pd) + sqrt(r) * rg_norm_quantile(0.999)) /
						  sqrt(1.0 - r)) - pd * lgd;
	if (ac == RG_AC_CORPORATE)
	{
		double		m = fmin(fmax(maturity, 1.0), 5.0);
		double		b = 0.11852 - 0.05478 * log(pd);

		b *= b;
		k *= (1.0 + (m - 2.5) * b) / (1.0 - 1.5 * b);
	}
	return k;
}

double
rg_risk_based_rate(double pd, double lgd, double funding, double opcost,
				   double capital_ratio, double hurdle)
{
	return ((1.0 - capital_ratio) * funding + capital_ratio * hurdle + pd * lgd + opcost) /
		(1.0 - pd);
}
