/*
 * credit_stats.c
 *		Validation and binning aggregates: auc, ks, hosmer_lemeshow, woe_bins (over a
 *		buffer of (value, outcome) pairs), woe_categories (over a hash of categories) and
 *		brier (over a float8[] of sums).  Every one has a combine function and, for
 *		internal state, serial and deserial functions, so it runs in parallel workers.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "credit_stats.h"
#include "credit_stats_core.h"
#include "normal.h"
#include "riskguard.h"

/* ---------------------------------------------------------------------------------
 * pair buffer: auc, ks, hosmer_lemeshow, woe_bins
 * --------------------------------------------------------------------------------- */

typedef struct PairState
{
	int64		n;				/* pairs stored */
	int64		cap;
	int64		skipped;		/* rows with a NULL that could not be used */
	int64		missing_goods;	/* woe_bins: rows with a NULL value */
	int64		missing_bads;
	int32		param_set;		/* the parameters below came from a row */
	int32		param_int;		/* groups, or max_bins */
	double		param_float;	/* min_bin_share */
	RgPair	   *pairs;
} PairState;

#define PAIR_SERIAL_HEADER (5 * sizeof(int64) + 2 * sizeof(int32) + sizeof(double))

static MemoryContext
agg_context(FunctionCallInfo fcinfo, const char *what)
{
	MemoryContext ctx;

	if (!AggCheckCallContext(fcinfo, &ctx))
		elog(ERROR, "%s called in non-aggregate context", what);
	return ctx;
}

static PairState *
pair_state(FunctionCallInfo fcinfo, MemoryContext ctx)
{
	if (PG_ARGISNULL(0))
		return MemoryContextAllocZero(ctx, sizeof(PairState));
	return (PairState *) PG_GETARG_POINTER(0);
}

static void
pair_reserve(PairState *s, MemoryContext ctx, int64 more)
{
	int64		need = s->n + more;

	if (need <= s->cap)
		return;
	if (s->cap == 0)
	{
		s->cap = Max(need, 1024);
		s->pairs = MemoryContextAllocHuge(ctx, (Size) s->cap * sizeof(RgPair));
	}
	else
	{
		s->cap = Max(need, s->cap * 2);
		s->pairs = repalloc_huge(s->pairs, (Size) s->cap * sizeof(RgPair));
	}
}

static inline void
pair_add(PairState *s, MemoryContext ctx, double v, bool bad)
{
	if (s->n >= s->cap)
		pair_reserve(s, ctx, 1);
	s->pairs[s->n].v = v;
	s->pairs[s->n].bad = bad ? 1.0 : 0.0;
	s->n++;
}

/* record the aggregate's parameters from a row; they must not change between rows */
static void
pair_params(PairState *s, int32 pi, double pf, const char *agg)
{
	if (!s->param_set)
	{
		s->param_set = 1;
		s->param_int = pi;
		s->param_float = pf;
	}
	else if (s->param_int != pi || s->param_float != pf)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the parameters of \"%s\" must be the same for every row", agg)));
}

static void
check_score(double v, const char *what)
{
	if (isnan(v))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" must not be NaN", what)));
}

PG_FUNCTION_INFO_V1(rg_score_pairs_trans);

/* auc and ks transition: (score, bad); rows with a NULL are skipped */
Datum
rg_score_pairs_trans(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "score transition");
	PairState  *s = pair_state(fcinfo, ctx);
	double		v;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		s->skipped++;
		PG_RETURN_POINTER(s);
	}
	v = PG_GETARG_FLOAT8(1);
	check_score(v, "score");
	pair_add(s, ctx, v, PG_GETARG_BOOL(2));
	PG_RETURN_POINTER(s);
}

PG_FUNCTION_INFO_V1(rg_pd_pairs_trans);

/* hosmer_lemeshow transition: (pd, bad [, groups]) */
Datum
rg_pd_pairs_trans(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "hosmer_lemeshow transition");
	PairState  *s = pair_state(fcinfo, ctx);
	int32		groups = 10;
	double		pd;

	if (PG_NARGS() > 3)
	{
		if (PG_ARGISNULL(3))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"groups\" of \"hosmer_lemeshow\" must not be NULL")));
		groups = PG_GETARG_INT32(3);
		if (groups < 3 || groups > 1000)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"groups\" of \"hosmer_lemeshow\" must be between 3 and 1000"),
					 errdetail("The value given is %d.", groups)));
	}
	pair_params(s, groups, 0.0, "hosmer_lemeshow");
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		s->skipped++;
		PG_RETURN_POINTER(s);
	}
	pd = PG_GETARG_FLOAT8(1);
	rg_check_probability(pd, "pd");
	pair_add(s, ctx, pd, PG_GETARG_BOOL(2));
	PG_RETURN_POINTER(s);
}

PG_FUNCTION_INFO_V1(rg_woe_pairs_trans);

/* woe_bins transition: (value, bad [, max_bins [, min_bin_share]]) */
Datum
rg_woe_pairs_trans(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "woe_bins transition");
	PairState  *s = pair_state(fcinfo, ctx);
	int32		max_bins = 10;
	double		min_share = 0.05;

	if (PG_NARGS() > 3)
	{
		if (PG_ARGISNULL(3))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"max_bins\" of \"woe_bins\" must not be NULL")));
		max_bins = PG_GETARG_INT32(3);
		if (max_bins < 1 || max_bins > 100)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"max_bins\" of \"woe_bins\" must be between 1 and 100"),
					 errdetail("The value given is %d.", max_bins)));
	}
	if (PG_NARGS() > 4)
	{
		if (PG_ARGISNULL(4))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"min_bin_share\" of \"woe_bins\" must not be NULL")));
		min_share = PG_GETARG_FLOAT8(4);
		if (isnan(min_share) || min_share < 0.0 || min_share > 0.5)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"min_bin_share\" of \"woe_bins\" must be between 0 and 0.5"),
					 errdetail("The value given is %s.", float8out_internal(min_share))));
	}
	pair_params(s, max_bins, min_share, "woe_bins");
	if (PG_ARGISNULL(2))
	{
		s->skipped++;
		PG_RETURN_POINTER(s);
	}
	if (PG_ARGISNULL(1))
	{
		if (PG_GETARG_BOOL(2))
			s->missing_bads++;
		else
			s->missing_goods++;
		PG_RETURN_POINTER(s);
	}
	rg_check_finite(PG_GETARG_FLOAT8(1), "value");
	pair_add(s, ctx, PG_GETARG_FLOAT8(1), PG_GETARG_BOOL(2));
	PG_RETURN_POINTER(s);
}

PG_FUNCTION_INFO_V1(rg_pairs_combine);

/* combine: append the second buffer to the first, in the aggregate context */
Datum
rg_pairs_combine(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "pairs combine");
	PairState  *a = PG_ARGISNULL(0) ? NULL : (PairState *) PG_GETARG_POINTER(0);
	PairState  *b = PG_ARGISNULL(1) ? NULL : (PairState *) PG_GETARG_POINTER(1);

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		a = MemoryContextAllocZero(ctx, sizeof(PairState));
	if (b->param_set)
	{
		if (a->param_set && (a->param_int != b->param_int || a->param_float != b->param_float))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the parameters of an aggregate must be the same for every row")));
		a->param_set = 1;
		a->param_int = b->param_int;
		a->param_float = b->param_float;
	}
	a->skipped += b->skipped;
	a->missing_goods += b->missing_goods;
	a->missing_bads += b->missing_bads;
	if (b->n > 0)
	{
		pair_reserve(a, ctx, b->n);
		memcpy(a->pairs + a->n, b->pairs, (Size) b->n * sizeof(RgPair));
		a->n += b->n;
	}
	PG_RETURN_POINTER(a);
}

PG_FUNCTION_INFO_V1(rg_pairs_serial);

Datum
rg_pairs_serial(PG_FUNCTION_ARGS)
{
	PairState  *s = (PairState *) PG_GETARG_POINTER(0);
	Size		data = (Size) s->n * sizeof(RgPair);
	Size		len = VARHDRSZ + PAIR_SERIAL_HEADER + data;
	bytea	   *out;
	char	   *p;

	if (len > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("aggregate state of %lld rows is too large to pass between parallel workers",
						(long long) s->n),
				 errhint("Run it with max_parallel_workers_per_gather = 0, or on a sample.")));
	out = palloc(len);
	SET_VARSIZE(out, len);
	p = VARDATA(out);
#define PUT(field) do { memcpy(p, &(field), sizeof(field)); p += sizeof(field); } while (0)
	PUT(s->n);
	PUT(s->cap);
	PUT(s->skipped);
	PUT(s->missing_goods);
	PUT(s->missing_bads);
	PUT(s->param_set);
	PUT(s->param_int);
	PUT(s->param_float);
#undef PUT
	if (data > 0)
		memcpy(p, s->pairs, data);
	PG_RETURN_BYTEA_P(out);
}

PG_FUNCTION_INFO_V1(rg_pairs_deserial);

Datum
rg_pairs_deserial(PG_FUNCTION_ARGS)
{
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	Size		len = VARSIZE_ANY_EXHDR(in);
	const char *p = VARDATA_ANY(in);
	PairState  *s;

	if (len < PAIR_SERIAL_HEADER)
		elog(ERROR, "invalid aggregate state: %zu bytes", len);
	s = palloc0(sizeof(PairState));
#define GET(field) do { memcpy(&(field), p, sizeof(field)); p += sizeof(field); } while (0)
	GET(s->n);
	GET(s->cap);
	GET(s->skipped);
	GET(s->missing_goods);
	GET(s->missing_bads);
	GET(s->param_set);
	GET(s->param_int);
	GET(s->param_float);
#undef GET
	if (s->n < 0 || s->skipped < 0 || s->missing_goods < 0 || s->missing_bads < 0 ||
		(Size) s->n != (len - PAIR_SERIAL_HEADER) / sizeof(RgPair) ||
		(len - PAIR_SERIAL_HEADER) % sizeof(RgPair) != 0)
		elog(ERROR, "invalid aggregate state: %zu bytes for %lld pairs", len, (long long) s->n);
	s->cap = s->n;
	if (s->n > 0)
	{
		s->pairs = palloc_extended((Size) s->n * sizeof(RgPair), MCXT_ALLOC_HUGE);
		memcpy(s->pairs, p, (Size) s->n * sizeof(RgPair));
	}
	PG_RETURN_POINTER(s);
}

/*
 * Sort the buffer in place.  Sorting keeps the same multiset, so a final function that
 * sorts may be called again, and states may be shared between auc and ks.
 */
static void
pairs_sorted(PairState *s)
{
	rg_pairs_sort(s->pairs, (size_t) s->n);
}

PG_FUNCTION_INFO_V1(rg_auc_final);

/* auc: P(random good scores above random bad), ties one half; NULL without both classes */
Datum
rg_auc_final(PG_FUNCTION_ARGS)
{
	PairState  *s;
	double		auc;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	s = (PairState *) PG_GETARG_POINTER(0);
	pairs_sorted(s);
	auc = rg_auc_sorted(s->pairs, (size_t) s->n);
	if (isnan(auc))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(auc);
}

PG_FUNCTION_INFO_V1(rg_ks_final);

/* ks: largest distance between the goods' and the bads' score distributions */
Datum
rg_ks_final(PG_FUNCTION_ARGS)
{
	PairState  *s;
	double		ks;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	s = (PairState *) PG_GETARG_POINTER(0);
	pairs_sorted(s);
	ks = rg_ks_sorted(s->pairs, (size_t) s->n);
	if (isnan(ks))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(ks);
}

PG_FUNCTION_INFO_V1(rg_hl_final);

/* hosmer_lemeshow: (chi2, df, p_value) over groups of equal size by pd */
Datum
rg_hl_final(PG_FUNCTION_ARGS)
{
	PairState  *s;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	int			groups;
	double		chi2;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	s = (PairState *) PG_GETARG_POINTER(0);
	groups = s->param_set ? s->param_int : 10;
	if (s->n < groups)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"hosmer_lemeshow\" needs at least as many rows as groups"),
				 errdetail("There are %lld usable rows for %d groups.", (long long) s->n, groups)));
	pairs_sorted(s);
	chi2 = rg_hosmer_lemeshow_sorted(s->pairs, (size_t) s->n, groups);
	values[0] = Float8GetDatum(chi2);
	values[1] = Int32GetDatum(groups - 2);
	values[2] = Float8GetDatum(rg_chisq_sf(chi2, groups - 2));
	PG_RETURN_DATUM(rg_result_tuple(fcinfo, values, nulls));
}

/* ---------------------------------------------------------------------------------
 * JSON output of bins
 * --------------------------------------------------------------------------------- */

static void
json_num(StringInfo buf, const char *key, double v)
{
	if (isfinite(v))
		appendStringInfo(buf, "\"%s\": %s", key, float8out_internal(v));
	else
		appendStringInfo(buf, "\"%s\": null", key);
}

/* the counts, bad rate, woe and iv of a bin (after its bounds or values and a comma) */
static void
json_bin_stats(StringInfo buf, int64 goods, int64 bads, double woe, double iv)
{
	appendStringInfo(buf, "\"count\": " INT64_FORMAT ", \"goods\": " INT64_FORMAT
					 ", \"bads\": " INT64_FORMAT ", ", goods + bads, goods, bads);
	json_num(buf, "bad_rate", goods + bads > 0 ? (double) bads / (double) (goods + bads) : NAN);
	appendStringInfoString(buf, ", ");
	json_num(buf, "woe", woe);
	appendStringInfoString(buf, ", ");
	json_num(buf, "iv", iv);
	appendStringInfoChar(buf, '}');
}

/* the missing bin: woe with a 0.5 pseudo-count when one class is absent, 0 when empty */
static double
json_missing(StringInfo buf, int64 goods, int64 bads, int64 tg, int64 tb)
{
	double		woe = rg_woe_smoothed(goods, bads, tg, tb);
	double		iv = ((double) goods / tg - (double) bads / tb) * woe;

	appendStringInfoString(buf, "\"missing\": {");
	json_bin_stats(buf, goods, bads, woe, iv);
	return iv;
}

static void
check_both_classes(int64 goods, int64 bads, const char *agg)
{
	if (goods == 0 || bads == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" needs both goods and bads", agg),
				 errdetail("There are " INT64_FORMAT " goods and " INT64_FORMAT " bads; weight of evidence is undefined.",
						   goods, bads)));
}

PG_FUNCTION_INFO_V1(rg_woe_bins_final);

/*
 * woe_bins: quantile pre-bins, bins without goods or bads merged into a neighbour, then
 * adjacent bins merged until WoE is strictly monotonic in the value.
 */
Datum
rg_woe_bins_final(PG_FUNCTION_ARGS)
{
	PairState  *s;
	int			max_bins;
	double		min_share;
	int64		goods;
	int64		bads;
	int64		tg;
	int64		tb;
	RgWoeItem  *items;
	double	   *values;
	size_t		nitems = 0;
	RgWoeBin   *bins;
	RgWoeBin   *tmp;
	size_t		nbins;
	size_t		i;
	int			direction = 0;
	double		iv;
	StringInfoData buf;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	s = (PairState *) PG_GETARG_POINTER(0);
	max_bins = s->param_set ? s->param_int : 10;
	min_share = s->param_set ? s->param_float : 0.05;
	pairs_sorted(s);
	rg_pairs_count(s->pairs, (size_t) s->n, &goods, &bads);
	tg = goods + s->missing_goods;
	tb = bads + s->missing_bads;
	check_both_classes(tg, tb, "woe_bins");

	/* items: distinct values (ascending) with their counts */
	items = palloc_extended(sizeof(RgWoeItem) * Max(s->n, 1), MCXT_ALLOC_HUGE);
	values = palloc_extended(sizeof(double) * Max(s->n, 1), MCXT_ALLOC_HUGE);
	for (i = 0; i < (size_t) s->n; i++)
	{
		if (nitems == 0 || s->pairs[i].v != values[nitems - 1])
		{
			values[nitems] = s->pairs[i].v;
			items[nitems].goods = 0;
			items[nitems].bads = 0;
			nitems++;
		}
		if (s->pairs[i].bad != 0.0)
			items[nitems - 1].bads++;
		else
			items[nitems - 1].goods++;
	}

	bins = palloc(sizeof(RgWoeBin) * (max_bins + 1));
	tmp = palloc(sizeof(RgWoeBin) * (max_bins + 1));
	nbins = rg_woe_prebin(items, nitems, max_bins, min_share, bins);
	if (nbins > 0 && goods > 0 && bads > 0)
	{
		nbins = rg_woe_merge_pure(bins, nbins);
		nbins = rg_woe_monotonic(bins, nbins, tg, tb, tmp, &direction);
	}
	else if (nbins > 1)
	{
		/* the non-missing values hold one class only: one bin */
		bins[0].hi = bins[nbins - 1].hi;
		bins[0].goods = goods;
		bins[0].bads = bads;
		nbins = 1;
	}
	iv = 0.0;
	for (i = 0; i < nbins; i++)
	{
		bins[i].woe = rg_woe_smoothed(bins[i].goods, bins[i].bads, tg, tb);
		bins[i].iv = ((double) bins[i].goods / tg - (double) bins[i].bads / tb) * bins[i].woe;
		iv += bins[i].iv;
	}

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"bins\": [");
	for (i = 0; i < nbins; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoChar(&buf, '{');
		/* exclusive, as in scorecard specs: the smallest value of the next bin */
		if (i + 1 < nbins)
			json_num(&buf, "upper", values[bins[i + 1].lo]);
		else
			appendStringInfoString(&buf, "\"upper\": null");
		appendStringInfoString(&buf, ", ");
		json_bin_stats(&buf, bins[i].goods, bins[i].bads, bins[i].woe, bins[i].iv);
	}
	appendStringInfoString(&buf, "], ");
	iv += json_missing(&buf, s->missing_goods, s->missing_bads, tg, tb);
	appendStringInfoString(&buf, ", ");
	json_num(&buf, "iv", iv);
	appendStringInfo(&buf, ", \"trend\": \"%s\", \"n\": " INT64_FORMAT ", \"goods\": " INT64_FORMAT
					 ", \"bads\": " INT64_FORMAT ", \"skipped\": " INT64_FORMAT "}",
					 direction > 0 ? "increasing" : direction < 0 ? "decreasing" : "flat",
					 tg + tb, tg, tb, s->skipped);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/* ---------------------------------------------------------------------------------
 * woe_categories: a hash of categories with their goods and bads
 * --------------------------------------------------------------------------------- */

typedef struct CatEntry
{
	char	   *key;			/* NULL when the slot is free */
	int32		len;
	uint32		hash;
	int64		goods;
	int64		bads;
} CatEntry;

typedef struct CatState
{
	int64		skipped;
	int64		missing_goods;
	int64		missing_bads;
	int32		size;			/* slots, a power of two */
	int32		used;
	CatEntry   *slots;
} CatState;

#define CAT_SERIAL_HEADER (3 * sizeof(int64) + sizeof(int32))

static CatState *
cat_state_new(MemoryContext ctx)
{
	CatState   *s = MemoryContextAllocZero(ctx, sizeof(CatState));

	s->size = 64;
	s->slots = MemoryContextAllocZero(ctx, sizeof(CatEntry) * s->size);
	return s;
}

static CatEntry *
cat_lookup(CatState *s, MemoryContext ctx, const char *key, int32 len);

static void
cat_grow(CatState *s, MemoryContext ctx)
{
	CatEntry   *old = s->slots;
	int32		oldsize = s->size;
	int32		i;

	if (s->size >= (1 << 28))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("\"woe_categories\" supports at most %d categories", 1 << 27)));
	s->size *= 2;
	s->used = 0;
	s->slots = MemoryContextAllocZero(ctx, sizeof(CatEntry) * s->size);
	for (i = 0; i < oldsize; i++)
	{
		if (old[i].key != NULL)
		{
			uint32		mask = (uint32) s->size - 1;
			uint32		j = old[i].hash & mask;

			while (s->slots[j].key != NULL)
				j = (j + 1) & mask;
			s->slots[j] = old[i];
			s->used++;
		}
	}
	pfree(old);
}

/* the entry of key, created (with zero counts, key copied into ctx) when missing */
static CatEntry *
cat_lookup(CatState *s, MemoryContext ctx, const char *key, int32 len)
{
	uint32		hash = hash_bytes((const unsigned char *) key, len);
	uint32		mask;
	uint32		j;

	if ((s->used + 1) * 2 > s->size)
		cat_grow(s, ctx);
	mask = (uint32) s->size - 1;
	j = hash & mask;
	while (s->slots[j].key != NULL)
	{
		CatEntry   *e = &s->slots[j];

		if (e->hash == hash && e->len == len && memcmp(e->key, key, len) == 0)
			return e;
		j = (j + 1) & mask;
	}
	s->slots[j].key = MemoryContextAlloc(ctx, len + 1);
	memcpy(s->slots[j].key, key, len);
	s->slots[j].key[len] = '\0';
	s->slots[j].len = len;
	s->slots[j].hash = hash;
	s->slots[j].goods = 0;
	s->slots[j].bads = 0;
	s->used++;
	return &s->slots[j];
}

PG_FUNCTION_INFO_V1(rg_woe_categories_trans);

/* woe_categories transition: (value text, bad) */
Datum
rg_woe_categories_trans(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "woe_categories transition");
	CatState   *s = PG_ARGISNULL(0) ? cat_state_new(ctx) : (CatState *) PG_GETARG_POINTER(0);
	bool		bad;
	text	   *t;
	CatEntry   *e;

	if (PG_ARGISNULL(2))
	{
		s->skipped++;
		PG_RETURN_POINTER(s);
	}
	bad = PG_GETARG_BOOL(2);
	if (PG_ARGISNULL(1))
	{
		if (bad)
			s->missing_bads++;
		else
			s->missing_goods++;
		PG_RETURN_POINTER(s);
	}
	t = PG_GETARG_TEXT_PP(1);
	e = cat_lookup(s, ctx, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	if (bad)
		e->bads++;
	else
		e->goods++;
	PG_RETURN_POINTER(s);
}

PG_FUNCTION_INFO_V1(rg_woe_categories_combine);

Datum
rg_woe_categories_combine(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "woe_categories combine");
	CatState   *a = PG_ARGISNULL(0) ? NULL : (CatState *) PG_GETARG_POINTER(0);
	CatState   *b = PG_ARGISNULL(1) ? NULL : (CatState *) PG_GETARG_POINTER(1);
	int32		i;

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		a = cat_state_new(ctx);
	a->skipped += b->skipped;
	a->missing_goods += b->missing_goods;
	a->missing_bads += b->missing_bads;
	for (i = 0; i < b->size; i++)
	{
		if (b->slots[i].key != NULL)
		{
			CatEntry   *e = cat_lookup(a, ctx, b->slots[i].key, b->slots[i].len);

			e->goods += b->slots[i].goods;
			e->bads += b->slots[i].bads;
		}
	}
	PG_RETURN_POINTER(a);
}

PG_FUNCTION_INFO_V1(rg_woe_categories_serial);

/* serialize: counts, then per category: length, bytes, goods, bads */
Datum
rg_woe_categories_serial(PG_FUNCTION_ARGS)
{
	CatState   *s = (CatState *) PG_GETARG_POINTER(0);
	StringInfoData buf;
	bytea	   *out;
	int32		i;

	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, (char *) &s->skipped, sizeof(int64));
	appendBinaryStringInfo(&buf, (char *) &s->missing_goods, sizeof(int64));
	appendBinaryStringInfo(&buf, (char *) &s->missing_bads, sizeof(int64));
	appendBinaryStringInfo(&buf, (char *) &s->used, sizeof(int32));
	for (i = 0; i < s->size; i++)
	{
		CatEntry   *e = &s->slots[i];

		if (e->key == NULL)
			continue;
		appendBinaryStringInfo(&buf, (char *) &e->len, sizeof(int32));
		appendBinaryStringInfo(&buf, e->key, e->len);
		appendBinaryStringInfo(&buf, (char *) &e->goods, sizeof(int64));
		appendBinaryStringInfo(&buf, (char *) &e->bads, sizeof(int64));
	}
	out = palloc(VARHDRSZ + buf.len);
	SET_VARSIZE(out, VARHDRSZ + buf.len);
	memcpy(VARDATA(out), buf.data, buf.len);
	PG_RETURN_BYTEA_P(out);
}

PG_FUNCTION_INFO_V1(rg_woe_categories_deserial);

Datum
rg_woe_categories_deserial(PG_FUNCTION_ARGS)
{
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	Size		len = VARSIZE_ANY_EXHDR(in);
	const char *p = VARDATA_ANY(in);
	const char *end = p + len;
	CatState   *s;
	int32		count;
	int32		i;

	if (len < CAT_SERIAL_HEADER)
		elog(ERROR, "invalid woe_categories state: %zu bytes", len);
	s = cat_state_new(CurrentMemoryContext);
	memcpy(&s->skipped, p, sizeof(int64));
	memcpy(&s->missing_goods, p + sizeof(int64), sizeof(int64));
	memcpy(&s->missing_bads, p + 2 * sizeof(int64), sizeof(int64));
	memcpy(&count, p + 3 * sizeof(int64), sizeof(int32));
	p += CAT_SERIAL_HEADER;
	if (count < 0 || s->skipped < 0 || s->missing_goods < 0 || s->missing_bads < 0)
		elog(ERROR, "invalid woe_categories state");
	for (i = 0; i < count; i++)
	{
		int32		klen;
		CatEntry   *e;
		int64		g;
		int64		b;

		if (end - p < (ptrdiff_t) sizeof(int32))
			elog(ERROR, "invalid woe_categories state: truncated");
		memcpy(&klen, p, sizeof(int32));
		p += sizeof(int32);
		if (klen < 0 || end - p < (ptrdiff_t) klen + 2 * (ptrdiff_t) sizeof(int64))
			elog(ERROR, "invalid woe_categories state: truncated");
		e = cat_lookup(s, CurrentMemoryContext, p, klen);
		p += klen;
		memcpy(&g, p, sizeof(int64));
		memcpy(&b, p + sizeof(int64), sizeof(int64));
		p += 2 * sizeof(int64);
		if (g < 0 || b < 0)
			elog(ERROR, "invalid woe_categories state");
		e->goods += g;
		e->bads += b;
	}
	if (p != end)
		elog(ERROR, "invalid woe_categories state: %zu trailing bytes", (Size) (end - p));
	PG_RETURN_POINTER(s);
}

/* order categories by bad rate, then by name, so the result is deterministic */
static int
cat_cmp(const void *x, const void *y)
{
	const CatEntry *a = *(CatEntry *const *) x;
	const CatEntry *b = *(CatEntry *const *) y;
	double		ra = (double) a->bads / (double) (a->goods + a->bads);
	double		rb = (double) b->bads / (double) (b->goods + b->bads);
	int			c;

	if (ra < rb)
		return -1;
	if (ra > rb)
		return 1;
	c = memcmp(a->key, b->key, Min(a->len, b->len));
	if (c != 0)
		return c;
	return a->len < b->len ? -1 : a->len > b->len ? 1 : 0;
}

PG_FUNCTION_INFO_V1(rg_woe_categories_final);

/*
 * woe_categories: one bin per category in order of bad rate, a category without goods or
 * without bads merged into its neighbour, plus the missing bin.
 */
Datum
rg_woe_categories_final(PG_FUNCTION_ARGS)
{
	CatState   *s;
	CatEntry  **order;
	RgWoeBin   *bins;
	size_t		n = 0;
	size_t		nbins;
	size_t		i;
	int64		goods = 0;
	int64		bads = 0;
	int64		tg;
	int64		tb;
	double		iv = 0.0;
	StringInfoData buf;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	s = (CatState *) PG_GETARG_POINTER(0);
	order = palloc(sizeof(CatEntry *) * Max(s->used, 1));
	for (i = 0; i < (size_t) s->size; i++)
		if (s->slots[i].key != NULL)
		{
			order[n++] = &s->slots[i];
			goods += s->slots[i].goods;
			bads += s->slots[i].bads;
		}
	tg = goods + s->missing_goods;
	tb = bads + s->missing_bads;
	check_both_classes(tg, tb, "woe_categories");
	qsort(order, n, sizeof(CatEntry *), cat_cmp);

	bins = palloc(sizeof(RgWoeBin) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		bins[i].lo = i;
		bins[i].hi = i + 1;
		bins[i].goods = order[i]->goods;
		bins[i].bads = order[i]->bads;
	}
	nbins = n;
	if (goods > 0 && bads > 0)
		nbins = rg_woe_merge_pure(bins, nbins);
	else if (nbins > 1)
	{
		bins[0].hi = n;
		bins[0].goods = goods;
		bins[0].bads = bads;
		nbins = 1;
	}

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"bins\": [");
	for (i = 0; i < nbins; i++)
	{
		size_t		j;

		bins[i].woe = rg_woe_smoothed(bins[i].goods, bins[i].bads, tg, tb);
		bins[i].iv = ((double) bins[i].goods / tg - (double) bins[i].bads / tb) * bins[i].woe;
		iv += bins[i].iv;
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, "{\"values\": [");
		for (j = bins[i].lo; j < bins[i].hi; j++)
		{
			if (j > bins[i].lo)
				appendStringInfoString(&buf, ", ");
			escape_json(&buf, order[j]->key);
		}
		appendStringInfoString(&buf, "], ");
		json_bin_stats(&buf, bins[i].goods, bins[i].bads, bins[i].woe, bins[i].iv);
	}
	appendStringInfoString(&buf, "], ");
	iv += json_missing(&buf, s->missing_goods, s->missing_bads, tg, tb);
	appendStringInfoString(&buf, ", ");
	json_num(&buf, "iv", iv);
	appendStringInfo(&buf, ", \"n\": " INT64_FORMAT ", \"goods\": " INT64_FORMAT
					 ", \"bads\": " INT64_FORMAT ", \"skipped\": " INT64_FORMAT "}",
					 tg + tb, tg, tb, s->skipped);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/* ---------------------------------------------------------------------------------
 * brier: float8[] {n, sum of squared errors}
 * --------------------------------------------------------------------------------- */

static double *
brier_values(ArrayType *a)
{
	if (ARR_NDIM(a) != 1 || ARR_DIMS(a)[0] != 2 || ARR_HASNULL(a) ||
		ARR_ELEMTYPE(a) != FLOAT8OID)
		elog(ERROR, "brier state must be a float8 array of 2 elements");
	return (double *) ARR_DATA_PTR(a);
}

PG_FUNCTION_INFO_V1(rg_brier_trans);

/* brier transition (strict): add (pd - bad)^2, in place when called as an aggregate */
Datum
rg_brier_trans(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	double	   *v;
	double		pd = PG_GETARG_FLOAT8(1);
	double		y = PG_GETARG_BOOL(2) ? 1.0 : 0.0;

	rg_check_probability(pd, "pd");
	if (AggCheckCallContext(fcinfo, NULL))
		state = PG_GETARG_ARRAYTYPE_P(0);
	else
		state = PG_GETARG_ARRAYTYPE_P_COPY(0);
	v = brier_values(state);
	v[0] += 1.0;
	v[1] += (pd - y) * (pd - y);
	PG_RETURN_ARRAYTYPE_P(state);
}

PG_FUNCTION_INFO_V1(rg_brier_combine);

/* brier combine (strict): element-wise sum into a new array */
Datum
rg_brier_combine(PG_FUNCTION_ARGS)
{
	double	   *a = brier_values(PG_GETARG_ARRAYTYPE_P(0));
	double	   *b = brier_values(PG_GETARG_ARRAYTYPE_P(1));
	Datum		d[2];

	d[0] = Float8GetDatum(a[0] + b[0]);
	d[1] = Float8GetDatum(a[1] + b[1]);
	PG_RETURN_ARRAYTYPE_P(construct_array(d, 2, FLOAT8OID, sizeof(float8),
										  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

PG_FUNCTION_INFO_V1(rg_brier_final);

/* brier: mean squared error of pd against the outcome; NULL without rows */
Datum
rg_brier_final(PG_FUNCTION_ARGS)
{
	double	   *v = brier_values(PG_GETARG_ARRAYTYPE_P(0));

	if (v[0] == 0.0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(v[1] / v[0]);
}
