/*
 * credit_stats_core.h
 *		Plain-C cores (no postgres.h) of riskguard's credit statistics: discrimination
 *		(AUC, KS), calibration (Hosmer-Lemeshow), weight-of-evidence binning, population
 *		stability, and the Basel IRB capital and risk-based pricing formulas.
 */
#ifndef RG_CREDIT_STATS_CORE_H
#define RG_CREDIT_STATS_CORE_H

#include <stddef.h>
#include <stdint.h>

/* a (value, outcome) observation; bad is 0 (good) or 1 (bad, the default event) */
typedef struct RgPair
{
	double		v;
	double		bad;
} RgPair;

/* sort by value, then goods before bads (a total order, so results are deterministic) */
extern void rg_pairs_sort(RgPair *pairs, size_t n);

/* count goods and bads */
extern void rg_pairs_count(const RgPair *pairs, size_t n, int64_t *goods, int64_t *bads);

/*
 * AUC of sorted pairs with a higher value meaning a better borrower: the probability
 * that a random good scores above a random bad, ties counting one half.  NaN when
 * there are no goods or no bads.
 */
extern double rg_auc_sorted(const RgPair *pairs, size_t n);

/* Kolmogorov-Smirnov distance between the goods' and the bads' value distributions */
extern double rg_ks_sorted(const RgPair *pairs, size_t n);

/*
 * Hosmer-Lemeshow statistic of pairs (pd, bad) sorted by pd, in `groups` groups of
 * rows [floor(j n / g), floor((j + 1) n / g)).  Groups whose expected variance
 * sum(pd) (1 - mean pd) is zero add nothing.  Returns chi2; df is groups - 2.
 */
extern double rg_hosmer_lemeshow_sorted(const RgPair *pairs, size_t n, int groups);

/* a run of consecutive items (distinct values, or categories) forming one bin */
typedef struct RgWoeBin
{
	size_t		lo;				/* first item */
	size_t		hi;				/* one past the last item */
	int64_t		goods;
	int64_t		bads;
	double		woe;			/* ln(share of goods / share of bads) */
	double		iv;				/* (share of goods - share of bads) * woe */
} RgWoeBin;

/* goods and bads of one item */
typedef struct RgWoeItem
{
	int64_t		goods;
	int64_t		bads;
} RgWoeItem;

/*
 * Quantile pre-bins over ordered items: each bin closes once it holds at least
 * max(n / max_bins, min_share n) observations, and a short last bin joins the one
 * before it.  Returns the number of bins written to bins (at most max_bins).
 */
extern size_t rg_woe_prebin(const RgWoeItem *items, size_t nitems, int max_bins,
							double min_share, RgWoeBin *bins);

/* merge bins without goods or without bads into a neighbour; returns the new count */
extern size_t rg_woe_merge_pure(RgWoeBin *bins, size_t nbins);

/*
 * Merge adjacent bins until the WoE is strictly monotonic, trying both directions and
 * keeping the one with more bins (then the larger IV).  tmp has room for nbins bins.
 * *direction is set to 1 (WoE rises with the value), -1 (falls) or 0 (one bin).
 * Returns the new count.
 */
extern size_t rg_woe_monotonic(RgWoeBin *bins, size_t nbins, int64_t total_goods,
							   int64_t total_bads, RgWoeBin *tmp, int *direction);

/* fill woe and iv of every bin; returns the total IV */
extern double rg_woe_finish(RgWoeBin *bins, size_t nbins, int64_t total_goods,
							int64_t total_bads);

/* WoE of a count pair with a 0.5 pseudo-count when either is zero (0 when both are) */
extern double rg_woe_smoothed(int64_t goods, int64_t bads, int64_t total_goods,
							  int64_t total_bads);

/*
 * Population stability index of two count vectors: sum (a - e) ln(a / e) over the
 * shares, a zero share counting as RG_PSI_FLOOR.
 */
#define RG_PSI_FLOOR 1e-4
extern double rg_psi(const double *expected, const double *actual, size_t n);

/* Basel IRB asset classes */
typedef enum RgAssetClass
{
	RG_AC_CORPORATE,
	RG_AC_RESIDENTIAL_MORTGAGE,
	RG_AC_QUALIFYING_REVOLVING,
	RG_AC_OTHER_RETAIL,
	RG_AC_UNKNOWN
} RgAssetClass;

#define RG_IRB_PD_FLOOR 0.0003

extern RgAssetClass rg_asset_class(const char *name);

/* the asset correlation R of the class at (floored) pd */
extern double rg_irb_correlation(RgAssetClass ac, double pd);

/* capital K per unit of exposure; pd and lgd in [0,1], maturity > 0 (clamped to [1,5]) */
extern double rg_irb_capital(double pd, double lgd, RgAssetClass ac, double maturity);

/*
 * The break-even annual rate of a loan: interest paid by the borrowers who do not
 * default covers funding of the debt-financed part, the hurdle return on the
 * equity-financed part, the expected loss and the operating cost:
 *   (1 - pd) r = (1 - c) funding + c hurdle + pd lgd + opcost
 */
extern double rg_risk_based_rate(double pd, double lgd, double funding, double opcost,
								 double capital_ratio, double hurdle);

#endif							/* RG_CREDIT_STATS_CORE_H */
