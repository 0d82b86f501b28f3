/*
 * credit_stats_fit.c
 *		riskguard.fit_logistic(bad, x): logistic regression as a parallel aggregate.
 *
 * The transition packs each usable row as k + 1 float8 (bad as 0/1, then the features)
 * into a buffer in the aggregate context; the combine function concatenates buffers, so
 * parallel workers share the scan, the array handling and the copying.  The final
 * function runs Newton-Raphson (IRLS, irls.c) over the buffer.  Rows with a NULL outcome,
 * a NULL array or a NULL element are skipped and counted.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "irls.h"
#include "normal.h"

typedef struct FitState
{
	int32		k;				/* features per row; -1 until the first usable row */
	int64		n;				/* rows stored */
	int64		cap;			/* rows the buffer holds */
	int64		skipped;		/* rows with NULLs */
	double	   *rows;			/* n * (k + 1) doubles */
} FitState;

#define FIT_SERIAL_HEADER (sizeof(int32) + 2 * sizeof(int64))

static MemoryContext
agg_context(FunctionCallInfo fcinfo, const char *what)
{
	MemoryContext ctx;

	if (!AggCheckCallContext(fcinfo, &ctx))
		elog(ERROR, "%s called in non-aggregate context", what);
	return ctx;
}

static FitState *
fit_state_new(MemoryContext ctx)
{
	FitState   *s = MemoryContextAllocZero(ctx, sizeof(FitState));

	s->k = -1;
	return s;
}

/* make room for `more` rows of width k + 1 */
static void
fit_state_reserve(FitState *s, MemoryContext ctx, int64 more)
{
	int64		need = s->n + more;
	Size		width = (Size) (s->k + 1) * sizeof(double);

	if (need <= s->cap)
		return;
	if (s->cap == 0)
	{
		int64		cap = Max(need, 1024);

		s->rows = MemoryContextAllocHuge(ctx, (Size) cap * width);
		s->cap = cap;
	}
	else
	{
		int64		cap = Max(need, s->cap * 2);

		s->rows = repalloc_huge(s->rows, (Size) cap * width);
		s->cap = cap;
	}
}

static void
check_width(FitState *s, int k)
{
	if (s->k >= 0 && s->k != k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("every row of \"fit_logistic\" must have the same number of features"),
				 errdetail_plural("A row has %d feature where earlier rows have %d.",
								  "A row has %d features where earlier rows have %d.",
								  k, k, s->k)));
}

PG_FUNCTION_INFO_V1(rg_fit_logistic_trans);

/* transition: append one row (bad, x) */
Datum
rg_fit_logistic_trans(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "fit_logistic transition");
	FitState   *s = PG_ARGISNULL(0) ? fit_state_new(ctx) : (FitState *) PG_GETARG_POINTER(0);
	ArrayType  *x;
	int			k;
	double	   *vals;
	double	   *dst;
	int			i;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		s->skipped++;
		PG_RETURN_POINTER(s);
	}
	x = PG_GETARG_ARRAYTYPE_P(2);
	if (ARR_NDIM(x) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"x\" of \"fit_logistic\" must be a one-dimensional array"),
				 errdetail("The array has %d dimensions.", ARR_NDIM(x))));
	if (array_contains_nulls(x))
	{
		s->skipped++;
		PG_RETURN_POINTER(s);
	}
	k = ARR_NDIM(x) == 0 ? 0 : ARR_DIMS(x)[0];
	check_width(s, k);
	vals = (double *) ARR_DATA_PTR(x);
	for (i = 0; i < k; i++)
		if (!isfinite(vals[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("features of \"fit_logistic\" must be finite numbers"),
					 errdetail("Feature %d of a row is %s.", i + 1, float8out_internal(vals[i])),
					 errhint("Replace NaN and Infinity by NULL to skip the row, or by a value.")));
	s->k = k;
	fit_state_reserve(s, ctx, 1);
	dst = s->rows + (Size) s->n * (k + 1);
	dst[0] = PG_GETARG_BOOL(1) ? 1.0 : 0.0;
	memcpy(dst + 1, vals, sizeof(double) * k);
	s->n++;
	PG_RETURN_POINTER(s);
}

PG_FUNCTION_INFO_V1(rg_fit_logistic_combine);

/* combine: append the second state's rows to the first, in the aggregate context */
Datum
rg_fit_logistic_combine(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "fit_logistic combine");
	FitState   *a = PG_ARGISNULL(0) ? NULL : (FitState *) PG_GETARG_POINTER(0);
	FitState   *b = PG_ARGISNULL(1) ? NULL : (FitState *) PG_GETARG_POINTER(1);

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		a = fit_state_new(ctx);
	a->skipped += b->skipped;
	if (b->n > 0)
	{
		check_width(a, b->k);
		a->k = b->k;
		fit_state_reserve(a, ctx, b->n);
		memcpy(a->rows + (Size) a->n * (a->k + 1), b->rows,
			   (Size) b->n * (b->k + 1) * sizeof(double));
		a->n += b->n;
	}
	PG_RETURN_POINTER(a);
}

PG_FUNCTION_INFO_V1(rg_fit_logistic_serial);

/* serialize: k, n, skipped, then the rows */
Datum
rg_fit_logistic_serial(PG_FUNCTION_ARGS)
{
	FitState   *s = (FitState *) PG_GETARG_POINTER(0);
	Size		data = s->n > 0 ? (Size) s->n * (s->k + 1) * sizeof(double) : 0;
	Size		len = VARHDRSZ + FIT_SERIAL_HEADER + data;
	bytea	   *out;
	char	   *p;

	if (len > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("\"fit_logistic\" state of %lld rows is too large to pass between parallel workers",
						(long long) s->n),
				 errhint("Run the fit with max_parallel_workers_per_gather = 0, or on a sample.")));
	out = palloc(len);
	SET_VARSIZE(out, len);
	p = VARDATA(out);
	memcpy(p, &s->k, sizeof(int32));
	p += sizeof(int32);
	memcpy(p, &s->n, sizeof(int64));
	p += sizeof(int64);
	memcpy(p, &s->skipped, sizeof(int64));
	p += sizeof(int64);
	if (data > 0)
		memcpy(p, s->rows, data);
	PG_RETURN_BYTEA_P(out);
}

PG_FUNCTION_INFO_V1(rg_fit_logistic_deserial);

/* deserialize, checking the lengths before trusting them */
Datum
rg_fit_logistic_deserial(PG_FUNCTION_ARGS)
{
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	Size		len = VARSIZE_ANY_EXHDR(in);
	const char *p = VARDATA_ANY(in);
	FitState   *s;
	int32		k;
	int64		n;
	int64		skipped;

	if (len < FIT_SERIAL_HEADER)
		elog(ERROR, "invalid fit_logistic state: %zu bytes", len);
	memcpy(&k, p, sizeof(int32));
	memcpy(&n, p + sizeof(int32), sizeof(int64));
	memcpy(&skipped, p + sizeof(int32) + sizeof(int64), sizeof(int64));
	if (k < -1 || n < 0 || skipped < 0 || (k == -1 && n > 0) ||
		(n > 0 && (Size) n > (len - FIT_SERIAL_HEADER) / ((Size) (k + 1) * sizeof(double))) ||
		len - FIT_SERIAL_HEADER != (n > 0 ? (Size) n * (k + 1) * sizeof(double) : 0))
		elog(ERROR, "invalid fit_logistic state: %zu bytes for %lld rows of %d features",
			 len, (long long) n, k);
	s = palloc0(sizeof(FitState));
	s->k = k;
	s->n = n;
	s->cap = n;
	s->skipped = skipped;
	if (n > 0)
	{
		s->rows = palloc_extended((Size) n * (k + 1) * sizeof(double), MCXT_ALLOC_HUGE);
		memcpy(s->rows, p + FIT_SERIAL_HEADER, (Size) n * (k + 1) * sizeof(double));
	}
	PG_RETURN_POINTER(s);
}

static void
fit_tick(void *arg)
{
	CHECK_FOR_INTERRUPTS();
}

static Datum
float8_array(const double *v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
		d[i] = Float8GetDatum(v[i]);
	return PointerGetDatum(construct_array(d, n, FLOAT8OID, sizeof(float8),
										   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

PG_FUNCTION_INFO_V1(rg_fit_logistic_final);

/*
 * final: the fit as riskguard.logistic_fit (coef, std_err, z, p_value, log_likelihood,
 * iterations, converged, n, skipped).  Without usable rows the coefficients are NULL.
 * std_err, z and p_value are NULL when the fit did not converge.
 */
Datum
rg_fit_logistic_final(PG_FUNCTION_ARGS)
{
	FitState   *s;
	TupleDesc	tupdesc;
	Datum		values[9];
	bool		nulls[9];
	int			p;
	double	   *beta;
	double	   *se;
	double	   *work;
	RgIrlsInfo	info;

	(void) agg_context(fcinfo, "fit_logistic final");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	s = (FitState *) PG_GETARG_POINTER(0);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "fit_logistic must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);
	memset(nulls, 0, sizeof(nulls));

	values[7] = Int64GetDatum(s->n);
	values[8] = Int64GetDatum(s->skipped);
	if (s->n == 0)
	{
		int			i;

		for (i = 0; i < 5; i++)
			nulls[i] = true;
		values[5] = Int32GetDatum(0);
		values[6] = BoolGetDatum(false);
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
	}

	p = s->k + 1;
	beta = palloc(sizeof(double) * p);
	se = palloc(sizeof(double) * p);
	work = palloc_extended(sizeof(double) * rg_irls_workspace(s->k), MCXT_ALLOC_HUGE);
	rg_irls_fit(s->rows, (size_t) s->n, s->k, beta, se, work, fit_tick, NULL, &info);

	if (info.status == RG_IRLS_SINGULAR)
	{
		if (s->n < p)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"fit_logistic\" has too few rows for its %d coefficients", p),
					 errdetail("There are %lld usable rows; the design matrix is singular.",
							   (long long) s->n)));
		if (info.singular_column == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("design matrix of \"fit_logistic\" is singular at the intercept")));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("design matrix of \"fit_logistic\" is singular at feature %d",
						info.singular_column),
				 errdetail("Feature %d is constant or a linear combination of the intercept and the features before it.",
						   info.singular_column),
				 errhint("Drop the feature, or combine it with the features it depends on.")));
	}

	values[0] = float8_array(beta, p);
	if (info.have_se)
	{
		double	   *z = palloc(sizeof(double) * p);
		double	   *pv = palloc(sizeof(double) * p);
		int			j;

		for (j = 0; j < p; j++)
		{
			z[j] = beta[j] / se[j];
			pv[j] = 2.0 * rg_norm_sf(fabs(z[j]));
		}
		values[1] = float8_array(se, p);
		values[2] = float8_array(z, p);
		values[3] = float8_array(pv, p);
	}
	else
		nulls[1] = nulls[2] = nulls[3] = true;
	values[4] = Float8GetDatum(info.loglik);
	values[5] = Int32GetDatum(info.iterations);
	values[6] = BoolGetDatum(info.status == RG_IRLS_OK);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
