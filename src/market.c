/*
 * market.c
 *		SQL glue of the market-risk aggregates and functions: historical, Gaussian and
 *		Cornish-Fisher VaR and ES, EWMA volatility, concentration (HHI), maximum
 *		drawdown, stress loss and parametric portfolio VaR.
 *
 * The historical aggregates keep every return, 8 bytes each, in a growable float8
 * buffer in the aggregate's memory context (internal state with serial/deserial for
 * parallel workers); the final function selects the order statistics it needs in O(n)
 * instead of sorting.  The moment aggregates keep count, mean and central sums in a
 * float8[] that parallel workers merge with pairwise update formulas.  The
 * computations themselves are in market_core.c.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/primnodes.h"
#include "utils/array.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "market.h"
#include "market_core.h"
#include "normal.h"

/* ---- shared argument checks ---- */

/* the aggregates behind each support function, for messages outside an Agg node */
static const struct
{
	const char *support;
	const char *aggregates;
}			support_names[] = {
	{"_hist_trans", "var_historical or es_historical"},
	{"_var_historical_final", "var_historical"},
	{"_es_historical_final", "es_historical"},
	{"_moments2_trans", "var_gaussian or es_gaussian"},
	{"_var_gaussian_final", "var_gaussian"},
	{"_es_gaussian_final", "es_gaussian"},
	{"_moments4_trans", "var_cornish_fisher"},
	{"_var_cornish_fisher_final", "var_cornish_fisher"},
	{"_ewma_trans", "ewma_volatility"},
	{"_ewma_final", "ewma_volatility"},
	{"_christoffersen_trans", "christoffersen"},
	{"_hhi_trans", "hhi"},
	{"_hhi_final", "hhi"},
	{"_drawdown_trans", "max_drawdown"},
};

/*
 * The aggregate's name from its Aggref; as a window function (no Aggref) the aggregate
 * behind the support function; for a plain function its own name.
 */
const char *
market_fname(FunctionCallInfo fcinfo, const char *fallback)
{
	Aggref	   *aggref = AggGetAggref(fcinfo);
	char	   *name = NULL;
	int			i;

	if (aggref != NULL)
		name = get_func_name(aggref->aggfnoid);
	else if (fcinfo->flinfo != NULL && OidIsValid(fcinfo->flinfo->fn_oid))
	{
		name = get_func_name(fcinfo->flinfo->fn_oid);
		for (i = 0; name != NULL && i < lengthof(support_names); i++)
			if (strcmp(name, support_names[i].support) == 0)
				return support_names[i].aggregates;
	}
	return name != NULL ? name : fallback;
}

void
market_check_unit(double v, const char *what, const char *fname)
{
	if (!(v > 0.0 && v < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s %s is out of range for \"%s\"", what, float8out_internal(v), fname),
				 errdetail("It must lie strictly between 0 and 1.")));
}

void
market_not_finite(double x, const char *what, const char *fname)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s %s is not allowed in \"%s\"", what, float8out_internal(x), fname),
			 errdetail("Inputs must be finite numbers: NaN and infinite values have no meaningful risk figure."),
			 errhint("Filter out or repair the non-finite values first.")));
}

void
market_row_confidence(FunctionCallInfo fcinfo, int argno, bool have, double *stored,
					  const char *what)
{
	double		v;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s of \"%s\" must not be null", what,
						market_fname(fcinfo, "aggregate"))));
	v = PG_GETARG_FLOAT8(argno);
	if (!have)
	{
		if (!(v > 0.0 && v < 1.0))
			market_check_unit(v, what, market_fname(fcinfo, "aggregate"));
		*stored = v;
	}
	else if (unlikely(v != *stored))
	{
		const char *fname = market_fname(fcinfo, "aggregate");

		market_check_unit(v, what, fname);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s changed from %s to %s within \"%s\"", what,
						float8out_internal(*stored), float8out_internal(v), fname),
				 errdetail("One aggregate computes one figure, so its %s must be the same on every row.", what),
				 errhint("Pass a constant, or group by the %s.", what)));
	}
}

double
market_result(FunctionCallInfo fcinfo, double v)
{
	if (unlikely(!isfinite(v)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("result of \"%s\" is out of range", market_fname(fcinfo, "function")),
				 errdetail("The inputs are too large for double precision arithmetic.")));
	return v == 0.0 ? 0.0 : v;	/* no negative zero */
}

/* "cannot happen" unless a support function is called by hand */
static void
not_aggregate(void)
{
	elog(ERROR, "historical VaR support function called in non-aggregate context");
}

/* ---- historical VaR and ES: every value, in a growable buffer ---- */

typedef struct HistState
{
	int64		n;				/* values held */
	int64		cap;			/* values the buffer has room for */
	double		confidence;
	bool		transient;		/* made by the deserial function, used once */
	double	   *values;			/* allocated in the aggregate context */
} HistState;

#define HIST_INITIAL_CAP 8
#define HIST_SERIAL_HEADER (sizeof(int64) + sizeof(double))

static HistState *
hist_new(MemoryContext ctx, double confidence, int64 cap)
{
	HistState  *st = MemoryContextAlloc(ctx, sizeof(HistState));

	st->n = 0;
	st->cap = Max(cap, HIST_INITIAL_CAP);
	st->confidence = confidence;
	st->transient = false;
	st->values = MemoryContextAllocHuge(ctx, st->cap * sizeof(double));
	return st;
}

static void
hist_free(HistState *st)
{
	pfree(st->values);
	pfree(st);
}

/*
 * Make room for need values.  The buffer doubles: large chunks come from malloc, so
 * capacity that has not been written yet occupies address space, not memory.
 */
static void
hist_reserve(HistState *st, int64 need)
{
	int64		cap = st->cap;

	if (need <= cap)
		return;
	while (cap < need)
		cap *= 2;
	if ((Size) cap > MaxAllocHugeSize / sizeof(double))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many rows for an exact historical quantile: " INT64_FORMAT, need)));
	st->values = repalloc_huge(st->values, cap * sizeof(double));
	st->cap = cap;
}

PG_FUNCTION_INFO_V1(rg_market_hist_trans);

/* transition of var_historical and es_historical: keep the return */
Datum
rg_market_hist_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx;
	HistState  *st = PG_ARGISNULL(0) ? NULL : (HistState *) PG_GETARG_POINTER(0);
	double		conf = 0.0;
	double		r;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		not_aggregate();
	if (PG_ARGISNULL(1))
	{
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	r = PG_GETARG_FLOAT8(1);
	if (st == NULL)
	{
		market_row_confidence(fcinfo, 2, false, &conf, "confidence");
		st = hist_new(aggctx, conf, 0);
	}
	else
		MARKET_ROW_CONFIDENCE(fcinfo, 2, true, &st->confidence, "confidence");
	MARKET_CHECK_FINITE(r, "return", market_fname(fcinfo, "aggregate"));

	if (unlikely(st->n >= st->cap))
		hist_reserve(st, st->n + 1);
	st->values[st->n++] = r;
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(rg_market_hist_combine);

/*
 * combine: append the second state's values to the first, in the aggregate context.
 * A state that the deserial function made is consumed: adopted when the first state is
 * empty and it already lives in this aggregate context, else freed once copied.
 */
Datum
rg_market_hist_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx;
	HistState  *a = PG_ARGISNULL(0) ? NULL : (HistState *) PG_GETARG_POINTER(0);
	HistState  *b = PG_ARGISNULL(1) ? NULL : (HistState *) PG_GETARG_POINTER(1);

	if (!AggCheckCallContext(fcinfo, &aggctx))
		not_aggregate();
	if (b == NULL || b->n == 0)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
	{
		if (b->transient && GetMemoryChunkContext(b) == aggctx &&
			GetMemoryChunkContext(b->values) == aggctx)
		{
			b->transient = false;
			PG_RETURN_POINTER(b);
		}
		a = hist_new(aggctx, b->confidence, b->n);
		memcpy(a->values, b->values, b->n * sizeof(double));
		a->n = b->n;
		if (b->transient)
			hist_free(b);
		PG_RETURN_POINTER(a);
	}
	if (a->confidence != b->confidence)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("confidence changed from %s to %s within \"%s\"",
						float8out_internal(a->confidence), float8out_internal(b->confidence),
						market_fname(fcinfo, "aggregate")),
				 errdetail("One aggregate computes one figure, so its confidence must be the same on every row."),
				 errhint("Pass a constant, or group by the confidence.")));
	hist_reserve(a, a->n + b->n);
	memcpy(a->values + a->n, b->values, b->n * sizeof(double));
	a->n += b->n;
	if (b->transient)
		hist_free(b);
	PG_RETURN_POINTER(a);
}

PG_FUNCTION_INFO_V1(rg_market_hist_serial);

/* serial: count, confidence, then the values, in native byte order */
Datum
rg_market_hist_serial(PG_FUNCTION_ARGS)
{
	HistState  *st;
	Size		len;
	bytea	   *out;
	char	   *p;

	if (!AggCheckCallContext(fcinfo, NULL))
		not_aggregate();
	st = (HistState *) PG_GETARG_POINTER(0);
	if ((Size) st->n > (MaxAllocSize - VARHDRSZ - HIST_SERIAL_HEADER) / sizeof(double))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many rows in one parallel worker for an exact historical quantile: " INT64_FORMAT, st->n),
				 errhint("Run the query with max_parallel_workers_per_gather raised or set to 0.")));
	len = VARHDRSZ + HIST_SERIAL_HEADER + st->n * sizeof(double);
	out = palloc(len);
	SET_VARSIZE(out, len);
	p = VARDATA(out);
	memcpy(p, &st->n, sizeof(int64));
	memcpy(p + sizeof(int64), &st->confidence, sizeof(double));
	memcpy(p + HIST_SERIAL_HEADER, st->values, st->n * sizeof(double));
	PG_RETURN_BYTEA_P(out);
}

PG_FUNCTION_INFO_V1(rg_market_hist_deserial);

/*
 * deserial: check the length against the count before trusting the bytes.  The state
 * goes straight into the aggregate context, for the combine function to adopt.
 */
Datum
rg_market_hist_deserial(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx;
	bytea	   *in;
	Size		len;
	const char *p;
	int64		n;
	double		conf;
	HistState  *st;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		not_aggregate();
	in = PG_GETARG_BYTEA_PP(0);
	len = VARSIZE_ANY_EXHDR(in);
	p = VARDATA_ANY(in);
	if (len < HIST_SERIAL_HEADER)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid historical quantile state: %zu bytes", len)));
	memcpy(&n, p, sizeof(int64));
	memcpy(&conf, p + sizeof(int64), sizeof(double));
	if (n < 1 || (Size) n != (len - HIST_SERIAL_HEADER) / sizeof(double) ||
		(len - HIST_SERIAL_HEADER) % sizeof(double) != 0 || !(conf > 0.0 && conf < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid historical quantile state: %zu bytes for " INT64_FORMAT " values",
						len, n)));
	st = hist_new(aggctx, conf, n);
	memcpy(st->values, p + HIST_SERIAL_HEADER, n * sizeof(double));
	st->n = n;
	st->transient = true;
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(rg_market_var_historical_final);

/* final of var_historical: minus the type-7 quantile at the tail 1 - confidence */
Datum
rg_market_var_historical_final(PG_FUNCTION_ARGS)
{
	HistState  *st = (HistState *) PG_GETARG_POINTER(0);

	if (st->n == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(market_result(fcinfo, -mc_quantile7(st->values, st->n, 1.0 - st->confidence, NULL)));
}

PG_FUNCTION_INFO_V1(rg_market_es_historical_final);

/* final of es_historical: minus the mean of the returns strictly below the quantile */
Datum
rg_market_es_historical_final(PG_FUNCTION_ARGS)
{
	HistState  *st = (HistState *) PG_GETARG_POINTER(0);
	double		es;

	if (st->n == 0)
		PG_RETURN_NULL();
	(void) mc_quantile7(st->values, st->n, 1.0 - st->confidence, &es);
	PG_RETURN_FLOAT8(market_result(fcinfo, es));
}

/* ---- float8[] states: moments, EWMA, HHI, drawdown ---- */

/* The elements of a float8[] state of exactly len elements. */
static double *
state_values(ArrayType *arr, int len)
{
	if (ARR_NDIM(arr) != 1 || ARR_DIMS(arr)[0] != len || ARR_HASNULL(arr) ||
		ARR_ELEMTYPE(arr) != FLOAT8OID)
		elog(ERROR, "expected a float8[] state of %d elements", len);
	return (double *) ARR_DATA_PTR(arr);
}

/*
 * The state array to update: the aggregate's own copy is updated in place (as
 * PostgreSQL's float8_accum does); outside an aggregate, a copy.
 */
static ArrayType *
state_for_update(FunctionCallInfo fcinfo, int argno)
{
	if (AggCheckCallContext(fcinfo, NULL))
		return PG_GETARG_ARRAYTYPE_P(argno);
	return PG_GETARG_ARRAYTYPE_P_COPY(argno);
}

/* moments state: n, mean, m2 [, m3, m4], confidence */
#define M2_LEN 4
#define M4_LEN 6

static void
moments_load(const double *s, McMoments *m, bool higher)
{
	m->n = s[0];
	m->mean = s[1];
	m->m2 = s[2];
	m->m3 = higher ? s[3] : 0.0;
	m->m4 = higher ? s[4] : 0.0;
}

static void
moments_store(double *s, const McMoments *m, bool higher)
{
	s[0] = m->n;
	s[1] = m->mean;
	s[2] = m->m2;
	if (higher)
	{
		s[3] = m->m3;
		s[4] = m->m4;
	}
}

static Datum
moments_trans(FunctionCallInfo fcinfo, bool higher)
{
	int			len = higher ? M4_LEN : M2_LEN;
	ArrayType  *arr;
	double	   *s;
	McMoments	m;
	double		r;

	if (PG_ARGISNULL(0))
		elog(ERROR, "moment state is null");
	arr = state_for_update(fcinfo, 0);
	if (PG_ARGISNULL(1))
		PG_RETURN_ARRAYTYPE_P(arr);
	s = state_values(arr, len);
	MARKET_ROW_CONFIDENCE(fcinfo, 2, s[0] > 0.0, &s[len - 1], "confidence");
	r = PG_GETARG_FLOAT8(1);
	MARKET_CHECK_FINITE(r, "return", market_fname(fcinfo, "aggregate"));
	moments_load(s, &m, higher);
	mc_moments_add(&m, r, higher);
	moments_store(s, &m, higher);
	PG_RETURN_ARRAYTYPE_P(arr);
}

static Datum
moments_combine(FunctionCallInfo fcinfo, bool higher)
{
	int			len = higher ? M4_LEN : M2_LEN;
	ArrayType  *arr = state_for_update(fcinfo, 0);
	double	   *a = state_values(arr, len);
	double	   *b = state_values(PG_GETARG_ARRAYTYPE_P(1), len);
	McMoments	ma,
				mb;

	if (b[0] == 0.0)
		PG_RETURN_ARRAYTYPE_P(arr);
	if (a[0] == 0.0)
	{
		memcpy(a, b, len * sizeof(double));
		PG_RETURN_ARRAYTYPE_P(arr);
	}
	if (a[len - 1] != b[len - 1])
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("confidence changed from %s to %s within \"%s\"",
						float8out_internal(a[len - 1]), float8out_internal(b[len - 1]),
						market_fname(fcinfo, "aggregate")),
				 errdetail("One aggregate computes one figure, so its confidence must be the same on every row."),
				 errhint("Pass a constant, or group by the confidence.")));
	moments_load(a, &ma, higher);
	moments_load(b, &mb, higher);
	mc_moments_merge(&ma, &mb, higher);
	moments_store(a, &ma, higher);
	PG_RETURN_ARRAYTYPE_P(arr);
}

PG_FUNCTION_INFO_V1(rg_market_moments2_trans);
/* transition of var_gaussian and es_gaussian */
Datum
rg_market_moments2_trans(PG_FUNCTION_ARGS)
{
	return moments_trans(fcinfo, false);
}

PG_FUNCTION_INFO_V1(rg_market_moments4_trans);
/* transition of var_cornish_fisher */
Datum
rg_market_moments4_trans(PG_FUNCTION_ARGS)
{
	return moments_trans(fcinfo, true);
}

PG_FUNCTION_INFO_V1(rg_market_moments2_combine);
/* combine of var_gaussian and es_gaussian */
Datum
rg_market_moments2_combine(PG_FUNCTION_ARGS)
{
	return moments_combine(fcinfo, false);
}

PG_FUNCTION_INFO_V1(rg_market_moments4_combine);
/* combine of var_cornish_fisher */
Datum
rg_market_moments4_combine(PG_FUNCTION_ARGS)
{
	return moments_combine(fcinfo, true);
}

PG_FUNCTION_INFO_V1(rg_market_var_gaussian_final);
/* final of var_gaussian */
Datum
rg_market_var_gaussian_final(PG_FUNCTION_ARGS)
{
	double	   *s = state_values(PG_GETARG_ARRAYTYPE_P(0), M2_LEN);
	McMoments	m;

	if (s[0] == 0.0)
		PG_RETURN_NULL();
	moments_load(s, &m, false);
	PG_RETURN_FLOAT8(market_result(fcinfo, mc_var_gaussian(&m, s[M2_LEN - 1])));
}

PG_FUNCTION_INFO_V1(rg_market_es_gaussian_final);
/* final of es_gaussian */
Datum
rg_market_es_gaussian_final(PG_FUNCTION_ARGS)
{
	double	   *s = state_values(PG_GETARG_ARRAYTYPE_P(0), M2_LEN);
	McMoments	m;

	if (s[0] == 0.0)
		PG_RETURN_NULL();
	moments_load(s, &m, false);
	PG_RETURN_FLOAT8(market_result(fcinfo, mc_es_gaussian(&m, s[M2_LEN - 1])));
}

PG_FUNCTION_INFO_V1(rg_market_var_cornish_fisher_final);
/* final of var_cornish_fisher */
Datum
rg_market_var_cornish_fisher_final(PG_FUNCTION_ARGS)
{
	double	   *s = state_values(PG_GETARG_ARRAYTYPE_P(0), M4_LEN);
	McMoments	m;

	if (s[0] == 0.0)
		PG_RETURN_NULL();
	moments_load(s, &m, true);
	PG_RETURN_FLOAT8(market_result(fcinfo, mc_var_cornish_fisher(&m, s[M4_LEN - 1])));
}

PG_FUNCTION_INFO_V1(rg_market_ewma_trans);

/* transition of ewma_volatility (rows in time order): n, s2, lambda */
Datum
rg_market_ewma_trans(PG_FUNCTION_ARGS)
{
	ArrayType  *arr;
	double	   *s;
	double		r;

	if (PG_ARGISNULL(0))
		elog(ERROR, "ewma state is null");
	arr = state_for_update(fcinfo, 0);
	if (PG_ARGISNULL(1))
		PG_RETURN_ARRAYTYPE_P(arr);
	s = state_values(arr, 3);
	MARKET_ROW_CONFIDENCE(fcinfo, 2, s[0] > 0.0, &s[2], "lambda");
	r = PG_GETARG_FLOAT8(1);
	MARKET_CHECK_FINITE(r, "return", market_fname(fcinfo, "ewma_volatility"));
	if (s[0] == 0.0)
		s[1] = r * r;
	else
		s[1] = s[2] * s[1] + (1.0 - s[2]) * r * r;
	s[0] += 1.0;
	PG_RETURN_ARRAYTYPE_P(arr);
}

PG_FUNCTION_INFO_V1(rg_market_ewma_final);
/* final of ewma_volatility: the one-step-ahead volatility */
Datum
rg_market_ewma_final(PG_FUNCTION_ARGS)
{
	double	   *s = state_values(PG_GETARG_ARRAYTYPE_P(0), 3);

	if (s[0] == 0.0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(market_result(fcinfo, sqrt(s[1])));
}

PG_FUNCTION_INFO_V1(rg_market_hhi_trans);

/* transition of hhi: n, sum, sum of squares */
Datum
rg_market_hhi_trans(PG_FUNCTION_ARGS)
{
	ArrayType  *arr;
	double	   *s;
	double		e;

	if (PG_ARGISNULL(0))
		elog(ERROR, "hhi state is null");
	arr = state_for_update(fcinfo, 0);
	if (PG_ARGISNULL(1))
		PG_RETURN_ARRAYTYPE_P(arr);
	s = state_values(arr, 3);
	e = PG_GETARG_FLOAT8(1);
	MARKET_CHECK_FINITE(e, "exposure", "hhi");
	if (e < 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("exposure %s is negative in \"hhi\"", float8out_internal(e)),
				 errdetail("Concentration is measured on shares of non-negative exposures."),
				 errhint("Aggregate gross exposures, for example abs() of net positions.")));
	s[0] += 1.0;
	s[1] += e;
	s[2] += e * e;
	PG_RETURN_ARRAYTYPE_P(arr);
}

PG_FUNCTION_INFO_V1(rg_market_hhi_combine);
/* combine of hhi */
Datum
rg_market_hhi_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = state_for_update(fcinfo, 0);
	double	   *a = state_values(arr, 3);
	double	   *b = state_values(PG_GETARG_ARRAYTYPE_P(1), 3);

	a[0] += b[0];
	a[1] += b[1];
	a[2] += b[2];
	PG_RETURN_ARRAYTYPE_P(arr);
}

PG_FUNCTION_INFO_V1(rg_market_hhi_final);
/* final of hhi: 10000 times the sum of squared shares; NULL without exposure */
Datum
rg_market_hhi_final(PG_FUNCTION_ARGS)
{
	double	   *s = state_values(PG_GETARG_ARRAYTYPE_P(0), 3);

	if (s[0] == 0.0 || s[1] <= 0.0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(market_result(fcinfo, 10000.0 * s[2] / (s[1] * s[1])));
}

PG_FUNCTION_INFO_V1(rg_market_drawdown_trans);

/* transition of max_drawdown (rows in time order): n, running peak, worst drawdown */
Datum
rg_market_drawdown_trans(PG_FUNCTION_ARGS)
{
	ArrayType  *arr;
	double	   *s;
	double		price;

	if (PG_ARGISNULL(0))
		elog(ERROR, "drawdown state is null");
	arr = state_for_update(fcinfo, 0);
	if (PG_ARGISNULL(1))
		PG_RETURN_ARRAYTYPE_P(arr);
	s = state_values(arr, 3);
	price = PG_GETARG_FLOAT8(1);
	MARKET_CHECK_FINITE(price, "price", "max_drawdown");
	if (price <= 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("price %s is not positive in \"max_drawdown\"", float8out_internal(price)),
				 errdetail("Drawdowns are measured relative to a positive running peak."),
				 errhint("Pass prices or a cumulative value index, not returns.")));
	if (s[0] == 0.0 || price > s[1])
		s[1] = price;
	else
	{
		double		dd = (s[1] - price) / s[1];

		if (dd > s[2])
			s[2] = dd;
	}
	s[0] += 1.0;
	PG_RETURN_ARRAYTYPE_P(arr);
}

PG_FUNCTION_INFO_V1(rg_market_drawdown_final);
/* final of max_drawdown: the largest fall from a running peak, as a fraction of it */
Datum
rg_market_drawdown_final(PG_FUNCTION_ARGS)
{
	double	   *s = state_values(PG_GETARG_ARRAYTYPE_P(0), 3);

	if (s[0] == 0.0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(s[2]);
}

/* ---- vectors and matrices ---- */

/*
 * The elements of a one-dimensional float8 array argument (an empty array has none):
 * 22004 on NULL elements, 22023 on more dimensions or non-finite values.
 */
static double *
vector_arg(FunctionCallInfo fcinfo, int argno, const char *what, const char *fname, int *len)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(argno);
	double	   *v;
	int			i;

	if (ARR_NDIM(arr) == 0)
	{
		*len = 0;
		return NULL;
	}
	if (ARR_NDIM(arr) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s of \"%s\" must be a one-dimensional array", what, fname),
				 errdetail("The array has %d dimensions.", ARR_NDIM(arr))));
	if (ARR_HASNULL(arr) && array_contains_nulls(arr))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s of \"%s\" must not contain nulls", what, fname)));
	*len = ARR_DIMS(arr)[0];
	v = (double *) ARR_DATA_PTR(arr);
	for (i = 0; i < *len; i++)
		MARKET_CHECK_FINITE(v[i], what, fname);
	return v;
}

PG_FUNCTION_INFO_V1(rg_market_stress_loss);

/* stress_loss(exposures, shocks): minus the sum of exposure times shocked return */
Datum
rg_market_stress_loss(PG_FUNCTION_ARGS)
{
	int			ne,
				ns,
				i;
	double	   *e = vector_arg(fcinfo, 0, "exposures", "stress_loss", &ne);
	double	   *s = vector_arg(fcinfo, 1, "shocks", "stress_loss", &ns);
	double		pnl = 0.0;

	if (ne != ns)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("exposures and shocks of \"stress_loss\" differ in size: %d and %d", ne, ns),
				 errdetail("Each exposure needs the shock of its own risk factor.")));
	for (i = 0; i < ne; i++)
		pnl += e[i] * s[i];
	PG_RETURN_FLOAT8(market_result(fcinfo, -pnl));
}

/* lets a long covariance check be cancelled */
static void
interrupt_tick(void)
{
	CHECK_FOR_INTERRUPTS();
}

/* relative tolerance of the symmetry and positive semi-definiteness checks */
#define COVARIANCE_TOLERANCE 1e-10

/*
 * Check portfolio_var's and component_var's arguments; returns the number of assets
 * and sets the weights, the row-major covariance and the scale z_c sqrt(horizon).
 */
static int
portfolio_args(FunctionCallInfo fcinfo, const char *fname, double **w, double **cov,
			   double *scale)
{
	ArrayType  *carr = PG_GETARG_ARRAYTYPE_P(1);
	double		confidence = PG_GETARG_FLOAT8(2);
	int32		horizon = PG_GETARG_INT32(3);
	int			n,
				i,
				j,
				bad;
	double	   *a,
				maxdiag = 0.0;

	*w = vector_arg(fcinfo, 0, "weights", fname, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("weights of \"%s\" must not be empty", fname)));
	if (ARR_NDIM(carr) != 2 || ARR_DIMS(carr)[0] != ARR_DIMS(carr)[1])
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("covariance of \"%s\" must be a square matrix", fname),
				 ARR_NDIM(carr) == 2 ?
				 errdetail("The array is %d x %d.", ARR_DIMS(carr)[0], ARR_DIMS(carr)[1]) :
				 errdetail("The array is not two-dimensional; an n x n array such as '{{0.04,0.01},{0.01,0.09}}' is needed.")));
	if (ARR_DIMS(carr)[0] != n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("weights and covariance of \"%s\" differ in size: %d weights, %d x %d covariance",
						fname, n, ARR_DIMS(carr)[0], ARR_DIMS(carr)[1])));
	if (ARR_HASNULL(carr) && array_contains_nulls(carr))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("covariance of \"%s\" must not contain nulls", fname)));
	a = (double *) ARR_DATA_PTR(carr);
	for (i = 0; i < n * n; i++)
		MARKET_CHECK_FINITE(a[i], "covariance", fname);
	market_check_unit(confidence, "confidence", fname);
	if (horizon < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("horizon_days %d is out of range for \"%s\"", horizon, fname),
				 errdetail("The horizon is a positive number of days.")));

	for (i = 0; i < n; i++)
		maxdiag = Max(maxdiag, fabs(a[i * n + i]));
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			if (fabs(a[i * n + j] - a[j * n + i]) > COVARIANCE_TOLERANCE * maxdiag)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("covariance of \"%s\" is not symmetric", fname),
						 errdetail("Element [%d][%d] is %s but element [%d][%d] is %s.",
								   i + 1, j + 1, float8out_internal(a[i * n + j]),
								   j + 1, i + 1, float8out_internal(a[j * n + i]))));
	bad = mc_psd_check(a, n, COVARIANCE_TOLERANCE, palloc((Size) n * n * sizeof(double)),
					   interrupt_tick);
	if (bad >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("covariance of \"%s\" is not positive semi-definite", fname),
				 errdetail("Its Cholesky factorisation breaks down at row %d: some portfolio would have a negative variance.",
						   bad + 1),
				 errhint("Estimate the covariance from one common set of observations, or repair it to the nearest positive semi-definite matrix.")));
	*cov = a;
	*scale = rg_norm_quantile(confidence) * sqrt((double) horizon);
	return n;
}

PG_FUNCTION_INFO_V1(rg_market_portfolio_var);

/* portfolio_var: z_c sqrt(w' S w) sqrt(horizon), a positive loss */
Datum
rg_market_portfolio_var(PG_FUNCTION_ARGS)
{
	double	   *w,
			   *cov,
				scale;
	int			n = portfolio_args(fcinfo, "portfolio_var", &w, &cov, &scale);

	PG_RETURN_FLOAT8(market_result(fcinfo, mc_component_var(w, cov, n, scale, NULL,
																 palloc(n * sizeof(double)))));
}

PG_FUNCTION_INFO_V1(rg_market_component_var);

/* component_var: w_i (S w)_i / sigma * z_c sqrt(horizon), summing to portfolio_var */
Datum
rg_market_component_var(PG_FUNCTION_ARGS)
{
	double	   *w,
			   *cov,
				scale,
			   *comp;
	int			n = portfolio_args(fcinfo, "component_var", &w, &cov, &scale);
	Datum	   *elems;
	int			i;

	comp = palloc(n * sizeof(double));
	(void) mc_component_var(w, cov, n, scale, comp, palloc(n * sizeof(double)));
	elems = palloc(n * sizeof(Datum));
	for (i = 0; i < n; i++)
		elems[i] = Float8GetDatum(market_result(fcinfo, comp[i]));
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, FLOAT8OID, sizeof(float8),
										  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}
