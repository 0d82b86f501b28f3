/*
 * fuzz_credit_stats.c
 *		Credit statistics cores (src/credit_stats_core.c, src/normal.c) on hostile samples:
 *		sorting, AUC, KS, Hosmer-Lemeshow, weight-of-evidence binning in the order the
 *		woe_bins aggregate runs it (bins arrays of exactly max_bins + 1), PSI, the normal
 *		quantile, and the IRB capital formula.  Inputs are what the SQL layer accepts.
 *		Invariants: AUC and KS in [0, 1]; chi-square statistics and PSI non-negative;
 *		bins partition the items, keep every count, never exceed max_bins, and end with a
 *		strictly monotonic WoE; capital is finite and within [0, lgd].
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "credit_stats_core.h"
#include "fuzz_input.h"
#include "normal.h"

#define MAX_PAIRS 2000

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_bins(const RgWoeBin *bins, size_t nbins, size_t nitems, int64_t goods, int64_t bads)
{
	int64_t		g = 0,
				b = 0;

	FUZZ_CHECK(nbins >= 1 || nitems == 0);
	for (size_t i = 0; i < nbins; i++)
	{
		FUZZ_CHECK(bins[i].lo < bins[i].hi);
		FUZZ_CHECK(i == 0 ? bins[i].lo == 0 : bins[i].lo == bins[i - 1].hi);
		g += bins[i].goods;
		b += bins[i].bads;
	}
	FUZZ_CHECK(nbins == 0 || bins[nbins - 1].hi == nitems);
	FUZZ_CHECK(g == goods && b == bads);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzInput	in = {data, size};
	size_t		n = (size_t) fuzz_range(&in, 1, MAX_PAIRS);
	uint8_t		opts = fuzz_u8(&in);
	RgPair	   *pairs = malloc(sizeof(RgPair) * n);
	int64_t		goods,
				bads;
	int			max_bins = (int) fuzz_range(&in, 1, 100);
	double		min_share = (double) fuzz_range(&in, 0, 500) / 1000.0;
	int			groups = (int) fuzz_range(&in, 3, 1000);

	for (size_t i = 0; i < n; i++)
	{
		/* few distinct values (ties), or spread out */
		pairs[i].v = (opts & 1) ? (double) (fuzz_u8(&in) % 7) : fuzz_finite(&in);
		pairs[i].bad = (fuzz_u8(&in) & 1) ? 1.0 : 0.0;
	}
	rg_pairs_sort(pairs, n);
	for (size_t i = 1; i < n; i++)
		FUZZ_CHECK(pairs[i - 1].v < pairs[i].v ||
				   (pairs[i - 1].v == pairs[i].v && pairs[i - 1].bad <= pairs[i].bad));
	rg_pairs_count(pairs, n, &goods, &bads);
	FUZZ_CHECK(goods + bads == (int64_t) n);

	if (goods > 0 && bads > 0)
	{
		double		auc = rg_auc_sorted(pairs, n);
		double		ks = rg_ks_sorted(pairs, n);

		FUZZ_CHECK(auc >= 0.0 && auc <= 1.0);
		FUZZ_CHECK(ks >= 0.0 && ks <= 1.0 + 1e-12);
	}

	/* Hosmer-Lemeshow over pds in [0, 1], sorted by pd, with at least as many rows as groups */
	if (n >= (size_t) groups)
	{
		RgPair	   *pd = malloc(sizeof(RgPair) * n);
		double		chi2;

		for (size_t i = 0; i < n; i++)
		{
			pd[i].v = (double) (fuzz_u32(&in) % 1000001) / 1000000.0;
			pd[i].bad = pairs[i].bad;
		}
		rg_pairs_sort(pd, n);
		chi2 = rg_hosmer_lemeshow_sorted(pd, n, groups);
		FUZZ_CHECK(!(chi2 < 0.0));
		FUZZ_CHECK(!(rg_chisq_sf(chi2, groups - 2) < 0.0) && !(rg_chisq_sf(chi2, groups - 2) > 1.0));
		free(pd);
	}

	/* weight of evidence, as the woe_bins aggregate runs it */
	if (goods > 0 && bads > 0)
	{
		RgWoeItem  *items = malloc(sizeof(RgWoeItem) * n);
		RgWoeBin   *bins = malloc(sizeof(RgWoeBin) * (max_bins + 1));
		RgWoeBin   *tmp = malloc(sizeof(RgWoeBin) * (max_bins + 1));
		size_t		nitems = 0,
					nbins;
		int			direction = 7;

		for (size_t i = 0; i < n; i++)
		{
			if (nitems == 0 || pairs[i].v != pairs[i - 1].v)
			{
				items[nitems].goods = items[nitems].bads = 0;
				nitems++;
			}
			if (pairs[i].bad != 0.0)
				items[nitems - 1].bads++;
			else
				items[nitems - 1].goods++;
		}
		nbins = rg_woe_prebin(items, nitems, max_bins, min_share, bins);
		FUZZ_CHECK(nbins <= (size_t) max_bins);
		check_bins(bins, nbins, nitems, goods, bads);
		nbins = rg_woe_merge_pure(bins, nbins);
		check_bins(bins, nbins, nitems, goods, bads);
		for (size_t i = 0; i < nbins && nbins > 1; i++)
			FUZZ_CHECK(bins[i].goods > 0 && bins[i].bads > 0);
		nbins = rg_woe_monotonic(bins, nbins, goods, bads, tmp, &direction);
		check_bins(bins, nbins, nitems, goods, bads);
		FUZZ_CHECK(direction == 1 || direction == -1 || direction == 0);
		FUZZ_CHECK(direction != 0 || nbins == 1);
		{
			double		iv = rg_woe_finish(bins, nbins, goods, bads);

			FUZZ_CHECK(!(iv < -1e-12));
			for (size_t i = 1; i < nbins; i++)
				FUZZ_CHECK(direction > 0 ? bins[i].woe > bins[i - 1].woe
						   : bins[i].woe < bins[i - 1].woe);
		}
		free(items);
		free(bins);
		free(tmp);
	}

	/* PSI of two count vectors with positive totals */
	{
		size_t		m = (size_t) fuzz_range(&in, 2, 64);
		double		e[64],
					a[64],
					se = 0,
					sa = 0;

		for (size_t i = 0; i < m; i++)
		{
			e[i] = (double) fuzz_u8(&in);
			a[i] = (double) fuzz_u8(&in);
			se += e[i];
			sa += a[i];
		}
		if (se > 0 && sa > 0)
			FUZZ_CHECK(rg_psi(e, a, m) >= 0.0);
	}

	/* the normal quantile and IRB capital */
	{
		double		p = (double) fuzz_u32(&in) / 4294967295.0;
		double		lgd = (double) fuzz_u32(&in) / 4294967295.0;
		double		maturity = ldexp((double) (fuzz_u32(&in) % 100000 + 1), -(int) (fuzz_u8(&in) % 40));
		RgAssetClass ac = (RgAssetClass) fuzz_range(&in, 0, RG_AC_OTHER_RETAIL);
		double		z = rg_norm_quantile(p),
					k;

		FUZZ_CHECK(p == 0.0 ? z == -INFINITY : p == 1.0 ? z == INFINITY : isfinite(z));
		k = rg_irb_capital(p, lgd, ac, maturity);
		FUZZ_CHECK(isfinite(k) && k >= -1e-12 && k <= lgd * 5 + 1e-12);
	}
	free(pairs);
	return 0;
}
