/*
 * credit_stats_fit.c
 *		riskguard.fit_logistic(bad, x): logistic regression as a parallel aggregate.
 *
 * The transition packs each usable row as k + 1 float8 (bad as 0/1, then the features)
 * into a buffer in the aggregate context and adds it to the moment sums X'X and X'y.
 * A parallel worker fits its rows when it serializes its state; the combine
 * function adds the sums and the fits and takes over the other state's rows.  The final
 * function runs Newton-Raphson (IRLS, irls.c) over all rows, from the workers' fits when
 * there are some.  Rows with a NULL outcome, a NULL array or a NULL element are skipped
 * and counted.
 */
#include "postgres.h"

#include <math.h>
#ifdef __linux__
#include <sys/statvfs.h>
#endif

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "access/parallel.h"
#include "executor/execParallel.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "nodes/nodeFuncs.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/dsm_impl.h"
#include "utils/dsa.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "irls.h"
#include "normal.h"
#include "riskguard.h"

/*
 * The state: rows appended by this process's transitions in a growing buffer, rows taken
 * over from other states by combine (kept where they are, never copied), and the moment
 * sums X'X and X'y of all of them, which give the fit its starting point without a pass.
 */
typedef struct FitSegment
{
	double	   *rows;
	int64		n;
} FitSegment;

typedef struct FitState
{
	int32		k;				/* features per row; -1 until the first usable row */
	int64		n;				/* rows in all segments */
	int64		skipped;		/* rows with NULLs */
	char	   *buf;			/* the growing buffer: room for the serialized header, */
	double	   *own;			/* then own_n rows of k + 1 doubles */
	int64		own_n;
	int64		own_cap;
	FitSegment *segs;			/* rows taken over by combine */
	int32		nsegs;
	int32		segs_cap;
	double	   *xtx;			/* (k + 1)^2, upper triangle used */
	double	   *xty;			/* k + 1 */

	/*
	 * Warm start.  A parallel worker fits its own rows before sending them (one Newton
	 * step over all of them from the step the moment sums give); the leader starts
	 * Newton from the information-weighted mean of those fits, (sum H_i)^-1 sum H_i b_i,
	 * which is close to the fit over all rows, so it needs fewer passes over the rows
	 * than from the intercept-only start.
	 */
	double	   *warm_h;			/* sum of the parts' H_i, upper triangle */
	double	   *warm_hb;		/* sum of H_i b_i */
	int64		warm_n;			/* rows covered by the parts' fits */
} FitState;

/* a part fits itself before it is sent only when it has this many rows per coefficient */
#define WARM_ROWS_PER_COEF 200

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

/* fix the width on the first usable row and allocate the moment sums */
static void
set_width(FitState *s, MemoryContext ctx, int k)
{
	check_width(s, k);
	if (s->k < 0)
	{
		s->k = k;
		s->xtx = MemoryContextAllocZero(ctx, sizeof(double) * (k + 1) * (k + 1));
		s->xty = MemoryContextAllocZero(ctx, sizeof(double) * (k + 1));
	}
}

/*
 * The serialized state, a bytea: after the varlena header k (int32), whether a local fit
 * follows (int32), where the rows are (int32: FIT_ROWS_HERE, FIT_ROWS_LOCAL or
 * FIT_ROWS_SHARED), n (int64) and skipped (int64); then when n > 0 X'X (p x p), X'y (p),
 * the local fit's coefficients (p) and information matrix (p x p, zero when there is no
 * local fit), and the rows: the n rows of p doubles (FIT_ROWS_HERE), a FitLocalRows or a
 * FitSharedRows.  Everything
 * before the rows has a fixed size for a given k, so the buffer the transition appends
 * rows to keeps that much room in front of them and becomes the serialized state
 * without a copy.
 *
 * FIT_ROWS_LOCAL: the leader of a parallel plan serializes its own share too, only for
 * its own Finalize Aggregate to deserialize it again in the same process; for an
 * ungrouped aggregate (one state, which lives in the partial aggregate's memory until
 * the plan ends or is rescanned, both after the final function has used it) the rows
 * stay where they are and the state carries their address.  That saves copying the
 * leader's share twice (and twice more when it is the first tuple the Finalize
 * Aggregate reads, which it copies to keep).  The address is honoured only in the
 * process, and with the per-process key, that wrote it.
 */
#define FIT_ROWS_HERE 0
#define FIT_ROWS_LOCAL 1
#define FIT_ROWS_SHARED 2

/*
 * FIT_ROWS_SHARED: a parallel worker puts its rows in the query's dynamic shared memory
 * area (the one Gather sets up for the plan, which lives until the plan is shut down
 * after the final function) and sends their dsa_pointer with the handle of the
 * parallel segment it was started for; the leader finds the Gather of that segment
 * below its Finalize Aggregate and reads the rows in place.  The rows then never pass
 * through the 64 kB tuple queue, and are not copied again on the leader's side.
 */
typedef struct FitSharedRows
{
	uint32		segment;		/* dsm_segment_handle of the parallel context */
	uint32		pad;
	uint64		rows;			/* dsa_pointer of the first row */
} FitSharedRows;

typedef struct FitLocalRows
{
	int32		pid;			/* MyProcPid of the writer */
	int32		pad;
	uint64		key;			/* local_key of the writer */
	uint64		address;		/* of the first row */
} FitLocalRows;

static uint64 local_key = 0;

#define FIT_SERIAL_HEADER (3 * sizeof(int32) + 2 * sizeof(int64))
#define FIT_PREFIX(p) (VARHDRSZ + FIT_SERIAL_HEADER + 2 * ((p) * (p) + (p)) * sizeof(double))

StaticAssertDecl((VARHDRSZ + FIT_SERIAL_HEADER) % sizeof(double) == 0,
				 "the rows after the serialized header must be aligned for double");

/* a row buffer for cap rows of p doubles, with room for the serialized header in front */
static void
rows_alloc(FitState *s, MemoryContext ctx, int64 cap)
{
	Size		p = (Size) (s->k + 1);
	Size		size = FIT_PREFIX(p) + (Size) cap * p * sizeof(double);

	if (s->buf == NULL)
		s->buf = MemoryContextAllocHuge(ctx, size);
	else
		s->buf = repalloc_huge(s->buf, size);
	s->own = (double *) (s->buf + FIT_PREFIX(p));
	s->own_cap = cap;
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
	vals = (double *) ARR_DATA_PTR(x);
	for (i = 0; i < k; i++)
		if (!isfinite(vals[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("features of \"fit_logistic\" must be finite numbers"),
					 errdetail("Feature %d of a row is %s.", i + 1, float8out_internal(vals[i])),
					 errhint("Replace NaN and Infinity by NULL to skip the row, or by a value.")));
	set_width(s, ctx, k);

	if (s->own_n >= s->own_cap)
		rows_alloc(s, ctx, s->own_cap == 0 ? 4096 : s->own_cap * 2);
	dst = s->own + (Size) s->own_n * (k + 1);
	dst[0] = PG_GETARG_BOOL(1) ? 1.0 : 0.0;
	memcpy(dst + 1, vals, sizeof(double) * k);
	rg_irls_add_moments(s->xtx, s->xty, dst, k);
	s->own_n++;
	s->n++;
	PG_RETURN_POINTER(s);
}

/* take over a run of rows (no copy) */
static void
add_segment(FitState *s, MemoryContext ctx, double *rows, int64 n)
{
	if (n == 0)
		return;
	if (s->nsegs >= s->segs_cap)
	{
		s->segs_cap = s->segs_cap == 0 ? 8 : s->segs_cap * 2;
		if (s->segs == NULL)
			s->segs = MemoryContextAlloc(ctx, sizeof(FitSegment) * s->segs_cap);
		else
			s->segs = repalloc(s->segs, sizeof(FitSegment) * s->segs_cap);
	}
	s->segs[s->nsegs].rows = rows;
	s->segs[s->nsegs].n = n;
	s->nsegs++;
}

PG_FUNCTION_INFO_V1(rg_fit_logistic_combine);

/*
 * combine: add the second state's sums and take over its rows.  Both states live in the
 * aggregate context (transition states, or deserialized into it), so the rows are
 * referenced, not copied.
 */
Datum
rg_fit_logistic_combine(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "fit_logistic combine");
	FitState   *a = PG_ARGISNULL(0) ? NULL : (FitState *) PG_GETARG_POINTER(0);
	FitState   *b = PG_ARGISNULL(1) ? NULL : (FitState *) PG_GETARG_POINTER(1);
	int			i;

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
		int			p = b->k + 1;

		set_width(a, ctx, b->k);
		for (i = 0; i < p * p; i++)
			a->xtx[i] += b->xtx[i];
		for (i = 0; i < p; i++)
			a->xty[i] += b->xty[i];
		add_segment(a, ctx, b->own, b->own_n);
		for (i = 0; i < b->nsegs; i++)
			add_segment(a, ctx, b->segs[i].rows, b->segs[i].n);
		a->n += b->n;
		if (b->warm_n > 0)
		{
			if (a->warm_h == NULL)
			{
				a->warm_h = MemoryContextAllocZero(ctx, sizeof(double) * p * p);
				a->warm_hb = MemoryContextAllocZero(ctx, sizeof(double) * p);
			}
			for (i = 0; i < p * p; i++)
				a->warm_h[i] += b->warm_h[i];
			for (i = 0; i < p; i++)
				a->warm_hb[i] += b->warm_hb[i];
			a->warm_n += b->warm_n;
		}
	}
	PG_RETURN_POINTER(a);
}

static void
fit_tick(void *arg)
{
	CHECK_FOR_INTERRUPTS();
}

/* the state's rows as IRLS segments */
static RgIrlsSegment *
fit_segments(FitState *s)
{
	RgIrlsSegment *segs = palloc(sizeof(RgIrlsSegment) * (s->nsegs + 1));
	int			i;

	segs[0].rows = s->own;
	segs[0].n = (size_t) s->own_n;
	for (i = 0; i < s->nsegs; i++)
	{
		segs[i + 1].rows = s->segs[i].rows;
		segs[i + 1].n = (size_t) s->segs[i].n;
	}
	return segs;
}

/* The state's rows, its own first and then each segment's, one after another from d. */
static void
copy_rows(FitState *s, char *d, Size width)
{
	memcpy(d, s->own, (Size) s->own_n * width);
	d += (Size) s->own_n * width;
	for (int i = 0; i < s->nsegs; i++)
	{
		memcpy(d, s->segs[i].rows, (Size) s->segs[i].n * width);
		d += (Size) s->segs[i].n * width;
	}
}

/* all of a state's rows, one after another, behind room for the header: a new bytea */
static char *
gather_rows(FitState *s, Size len, Size width)
{
	char	   *out = palloc_extended(len, MCXT_ALLOC_HUGE);

	copy_rows(s, out + FIT_PREFIX((Size) (s->k + 1)), width);
	return out;
}

/*
 * Whether POSIX shared memory has room for size more bytes, with room to spare for
 * others: a full /dev/shm makes growing a shared memory area an error (53100), not a
 * failed allocation, so the rows go the slower way rather than risk it.
 */
static bool
shm_has_room(Size size)
{
#ifdef __linux__
	if (dynamic_shared_memory_type == DSM_IMPL_POSIX)
	{
		struct statvfs sv;

		if (statvfs("/dev/shm", &sv) != 0 ||
			(double) sv.f_bavail * (double) sv.f_frsize < 4.0 * (double) size + 256.0 * 1024 * 1024)
			return false;
	}
#endif
	return true;
}

/*
 * In a parallel worker, the state's rows copied into the query's shared memory area, or
 * InvalidDsaPointer when there is no such area or no room in it (the rows then go in
 * the serialized state).
 */
static dsa_pointer
shared_rows(FunctionCallInfo fcinfo, FitState *s, Size width)
{
	dsa_area   *area;
	dsa_pointer dp;

	if (!IsParallelWorker() || MyBgworkerEntry == NULL || fcinfo->context == NULL ||
		!IsA(fcinfo->context, AggState))
		return InvalidDsaPointer;
	area = ((AggState *) fcinfo->context)->ss.ps.state->es_query_dsa;
	if (area == NULL || !shm_has_room((Size) s->n * width))
		return InvalidDsaPointer;
	dp = dsa_allocate_extended(area, (Size) s->n * width, DSA_ALLOC_HUGE | DSA_ALLOC_NO_OOM);
	if (!DsaPointerIsValid(dp))
		return InvalidDsaPointer;
	copy_rows(s, dsa_get_address(area, dp), width);
	return dp;
}

typedef struct FindArea
{
	dsm_handle	segment;
	dsa_area   *area;
} FindArea;

/* the shared memory area of the Gather (or Gather Merge) whose workers use segment */
static bool
find_area(PlanState *ps, void *arg)
{
	FindArea   *fa = (FindArea *) arg;
	ParallelExecutorInfo *pei = NULL;

	if (ps == NULL)
		return false;
	if (IsA(ps, GatherState))
		pei = ((GatherState *) ps)->pei;
	else if (IsA(ps, GatherMergeState))
		pei = ((GatherMergeState *) ps)->pei;
	if (pei != NULL && pei->area != NULL && pei->pcxt != NULL && pei->pcxt->seg != NULL &&
		dsm_segment_handle(pei->pcxt->seg) == fa->segment)
	{
		fa->area = pei->area;
		return true;
	}
	return planstate_tree_walker(ps, find_area, arg);
}

PG_FUNCTION_INFO_V1(rg_fit_logistic_serial);

/*
 * serialize.  Serialization happens in a parallel worker at the end of its share of the
 * scan, so the local fit runs there, in parallel with the other workers: from the
 * first Newton step that the moment sums give without a pass over the rows, one Newton
 * step over all of this part's rows.  Its information matrix weighs it against the
 * other parts.
 */
Datum
rg_fit_logistic_serial(PG_FUNCTION_ARGS)
{
	FitState   *s = (FitState *) PG_GETARG_POINTER(0);
	Size		p = (Size) (s->k + 1);
	Size		width = p * sizeof(double);
	int32		warm = 0;
	int32		where = FIT_ROWS_HERE;
	dsa_pointer shared;
	double	   *beta = NULL;
	double	   *work = NULL;
	Size		len;
	char	   *out;
	char	   *d;

	if (s->n == 0)
	{
		len = VARHDRSZ + FIT_SERIAL_HEADER;
		out = palloc(len);
	}
	else
	{
		if (s->warm_n == 0 && s->n >= (int64) (WARM_ROWS_PER_COEF * p))
		{
			beta = palloc(width);
			work = palloc_extended(sizeof(double) * rg_irls_workspace(s->k), MCXT_ALLOC_HUGE);
			warm = rg_irls_moment_step(s->k, s->xtx, s->xty, beta, work) &&
				rg_irls_newton_step(fit_segments(s), s->nsegs + 1, s->k, beta, work,
									fit_tick, NULL);
		}
		if (s->nsegs == 0 && s->buf != NULL && !IsParallelWorker() &&
			fcinfo->context != NULL && IsA(fcinfo->context, AggState) &&
			((AggState *) fcinfo->context)->aggstrategy == AGG_PLAIN)
		{
			/* the leader's own ungrouped state: the rows stay where they are */
			FitLocalRows local;

			while (local_key == 0)
			{
				if (!pg_strong_random(&local_key, sizeof(local_key)))
					elog(ERROR, "could not generate a random key");
			}
			memset(&local, 0, sizeof(local));
			local.pid = MyProcPid;
			local.key = local_key;
			local.address = (uint64) (uintptr_t) s->own;
			where = FIT_ROWS_LOCAL;
			len = FIT_PREFIX(p) + sizeof(FitLocalRows);
			out = palloc(len);
			memcpy(out + FIT_PREFIX(p), &local, sizeof(local));
		}
		else if ((shared = shared_rows(fcinfo, s, width)) != InvalidDsaPointer)
		{
			FitSharedRows ref;

			memset(&ref, 0, sizeof(ref));
			ref.segment = DatumGetUInt32(MyBgworkerEntry->bgw_main_arg);
			ref.rows = (uint64) shared;
			where = FIT_ROWS_SHARED;
			len = FIT_PREFIX(p) + sizeof(FitSharedRows);
			out = palloc(len);
			memcpy(out + FIT_PREFIX(p), &ref, sizeof(ref));
		}
		else
		{
			len = FIT_PREFIX(p) + (Size) s->n * width;
			if (len > MaxAllocSize)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("\"fit_logistic\" state of %lld rows is too large to pass between parallel workers",
								(long long) s->n),
						 errhint("Run the fit with max_parallel_workers_per_gather = 0, or on a sample.")));
			if (s->nsegs == 0 && s->buf != NULL)
				out = s->buf;	/* the rows are in place */
			else
				out = gather_rows(s, len, width);
		}
	}
	SET_VARSIZE(out, len);
	d = VARDATA(out);
	memcpy(d, &s->k, sizeof(int32));
	d += sizeof(int32);
	memcpy(d, &warm, sizeof(int32));
	d += sizeof(int32);
	memcpy(d, &where, sizeof(int32));
	d += sizeof(int32);
	memcpy(d, &s->n, sizeof(int64));
	d += sizeof(int64);
	memcpy(d, &s->skipped, sizeof(int64));
	d += sizeof(int64);
	if (s->n > 0)
	{
		memcpy(d, s->xtx, p * p * sizeof(double));
		d += p * p * sizeof(double);
		memcpy(d, s->xty, width);
		d += width;
		if (warm)
		{
			memcpy(d, beta, width);
			memcpy(d + width, work, p * p * sizeof(double));	/* H at the step's start */
		}
		else
			memset(d, 0, width + p * p * sizeof(double));
	}
	PG_RETURN_BYTEA_P((bytea *) out);
}

PG_FUNCTION_INFO_V1(rg_fit_logistic_deserial);

/*
 * deserialize into the aggregate context, checking the lengths before trusting them.
 * The rows a worker sent are copied: the tuple that brought them lives in a buffer the
 * tuple queue frees once every worker has finished, before the final function runs.
 * The leader's own rows (FIT_ROWS_LOCAL) are used where they are.
 */
Datum
rg_fit_logistic_deserial(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "fit_logistic deserialize");
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	Size		len = VARSIZE_ANY_EXHDR(in);
	const char *d = VARDATA_ANY(in);
	FitState   *s;
	int32		k;
	int32		warm;
	int32		where;
	int64		n;
	int64		skipped;
	Size		p;
	Size		width;
	Size		fixed;

	if (len < FIT_SERIAL_HEADER)
		elog(ERROR, "invalid fit_logistic state: %zu bytes", len);
	memcpy(&k, d, sizeof(int32));
	memcpy(&warm, d + sizeof(int32), sizeof(int32));
	memcpy(&where, d + 2 * sizeof(int32), sizeof(int32));
	memcpy(&n, d + 3 * sizeof(int32), sizeof(int64));
	memcpy(&skipped, d + 3 * sizeof(int32) + sizeof(int64), sizeof(int64));
	d += FIT_SERIAL_HEADER;
	len -= FIT_SERIAL_HEADER;
	if (k < -1 || k > 100000 || n < 0 || skipped < 0 || (k == -1 && n > 0) ||
		(warm != 0 && warm != 1) || (warm && n == 0) ||
		(where != FIT_ROWS_HERE && where != FIT_ROWS_LOCAL && where != FIT_ROWS_SHARED))
		elog(ERROR, "invalid fit_logistic state: %lld rows of %d features", (long long) n, k);
	s = fit_state_new(ctx);
	s->skipped = skipped;
	if (n == 0)
	{
		if (len != 0)
			elog(ERROR, "invalid fit_logistic state: %zu trailing bytes", len);
		PG_RETURN_POINTER(s);
	}
	p = (Size) k + 1;
	width = p * sizeof(double);
	fixed = FIT_PREFIX(p) - VARHDRSZ - FIT_SERIAL_HEADER;
	if (where == FIT_ROWS_LOCAL ? len != fixed + sizeof(FitLocalRows) :
		where == FIT_ROWS_SHARED ? len != fixed + sizeof(FitSharedRows) :
		(len < fixed || (Size) n != (len - fixed) / width || (len - fixed) % width != 0))
		elog(ERROR, "invalid fit_logistic state: %zu bytes for %lld rows of %d features",
			 len, (long long) n, k);
	set_width(s, ctx, k);
	memcpy(s->xtx, d, p * p * sizeof(double));
	d += p * p * sizeof(double);
	memcpy(s->xty, d, width);
	d += width;
	if (warm)
	{
		double	   *beta = palloc(width);
		Size		a;
		Size		b;

		memcpy(beta, d, width);
		s->warm_h = MemoryContextAlloc(ctx, p * p * sizeof(double));
		s->warm_hb = MemoryContextAllocZero(ctx, width);
		memcpy(s->warm_h, d + width, p * p * sizeof(double));
		/* H b with H symmetric, given by its upper triangle */
		for (a = 0; a < p; a++)
			for (b = 0; b < p; b++)
				s->warm_hb[a] += (a <= b ? s->warm_h[a * p + b] : s->warm_h[b * p + a]) * beta[b];
		s->warm_n = n;
	}
	d += width + p * p * sizeof(double);
	if (where == FIT_ROWS_LOCAL)
	{
		FitLocalRows local;

		memcpy(&local, d, sizeof(local));
		if (local.pid != MyProcPid || local_key == 0 || local.key != local_key ||
			local.address == 0 || local.address % sizeof(double) != 0)
			elog(ERROR, "invalid fit_logistic state: rows of another process");
		s->own = (double *) (uintptr_t) local.address;
		s->own_cap = n;
	}
	else if (where == FIT_ROWS_SHARED)
	{
		FitSharedRows ref;
		FindArea	fa;

		memcpy(&ref, d, sizeof(ref));
		fa.segment = ref.segment;
		fa.area = NULL;
		if (fcinfo->context == NULL || !IsA(fcinfo->context, AggState) ||
			!find_area((PlanState *) fcinfo->context, &fa) || !DsaPointerIsValid((dsa_pointer) ref.rows))
			elog(ERROR, "invalid fit_logistic state: rows in an unknown shared memory area");
		s->own = (double *) dsa_get_address(fa.area, (dsa_pointer) ref.rows);
		s->own_cap = n;
	}
	else
	{
		rows_alloc(s, ctx, n);
		memcpy(s->own, d, (Size) n * width);
	}
	s->own_n = s->n = n;
	PG_RETURN_POINTER(s);
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
	Datum		values[9];
	bool		nulls[9];
	int			p;
	double	   *beta;
	double	   *se;
	double	   *work;
	double	   *start = NULL;
	RgIrlsInfo	info;
	int			i;

	(void) agg_context(fcinfo, "fit_logistic final");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	s = (FitState *) PG_GETARG_POINTER(0);
	memset(nulls, 0, sizeof(nulls));

	values[7] = Int64GetDatum(s->n);
	values[8] = Int64GetDatum(s->skipped);
	if (s->n == 0)
	{
		for (i = 0; i < 5; i++)
			nulls[i] = true;
		values[5] = Int32GetDatum(0);
		values[6] = BoolGetDatum(false);
		PG_RETURN_DATUM(rg_result_tuple(fcinfo, values, nulls));
	}

	p = s->k + 1;
	beta = palloc(sizeof(double) * p);
	se = palloc(sizeof(double) * p);
	work = palloc_extended(sizeof(double) * rg_irls_workspace(s->k), MCXT_ALLOC_HUGE);
	if (s->warm_n > 0)
	{
		/*
		 * Parts brought their own fits (a part with few rows does not): start from their
		 * weighted mean, which Newton then takes to the fit over all rows.
		 */
		start = palloc(sizeof(double) * p);
		memcpy(start, s->warm_hb, sizeof(double) * p);
		if (rg_irls_solve(s->warm_h, work, p, start) >= 0)
			start = NULL;
	}
	rg_irls_fit(fit_segments(s), s->nsegs + 1, s->k, s->xtx, s->xty, start, beta, se, work,
				fit_tick, NULL, &info);

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
	PG_RETURN_DATUM(rg_result_tuple(fcinfo, values, nulls));
}
