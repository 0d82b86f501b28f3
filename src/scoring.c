/*
 * scoring.c
 *		Credit scoring: fmgr glue for the spec compiler and scoring core in model_spec.c
 *		and scoring_core.c, the per-backend cache of compiled models, riskguard.score()
 *		and the trigger that scores rows as they are written.
 *
 * Models live in riskguard.credit_model.  A backend compiles a model the first time it
 * scores with it and keeps it, by name, in a cache in its own memory context.  Every
 * change to credit_model fires a statement trigger that sends a relcache invalidation
 * for the table; the callback registered here marks the cache stale, and the next
 * lookup drops it.  Lookups read the table with a catalog (latest) snapshot and no
 * privilege check, so roles that may score need no access to the specs themselves.
 * The scoring path reads features with the jsonb C API and never re-parses a spec.
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/typcache.h"

#include "model_spec.h"
#include "rg_errors.h"

/* ---- jsonb to RgJson ---- */

static void *
palloc0_in(void *ctx, size_t size)
{
	return MemoryContextAllocZero((MemoryContext) ctx, size);
}

static RgJson *json_from_container(JsonbContainer *jc, MemoryContext cxt);

/* a NUL-terminated copy of a jsonb string in cxt */
static char *
string_in(MemoryContext cxt, const char *s, int len)
{
	char	   *out = MemoryContextAlloc(cxt, len + 1);

	memcpy(out, s, len);
	out[len] = '\0';
	return out;
}

static RgJson *
json_from_value(JsonbValue *v, MemoryContext cxt)
{
	RgJson	   *j = MemoryContextAllocZero(cxt, sizeof(RgJson));

	switch (v->type)
	{
		case jbvNull:
			j->kind = RG_JSON_NULL;
			break;
		case jbvBool:
			j->kind = RG_JSON_BOOL;
			j->boolean = v->val.boolean;
			break;
		case jbvNumeric:
			{
				MemoryContext old = MemoryContextSwitchTo(cxt);

				j->kind = RG_JSON_NUMBER;
				j->text = DatumGetCString(DirectFunctionCall1(numeric_out,
															  NumericGetDatum(v->val.numeric)));
				/* jsonb numbers are finite; a huge one becomes an infinite double */
				j->number = strtod(j->text, NULL);
				MemoryContextSwitchTo(old);
				break;
			}
		case jbvString:
			j->kind = RG_JSON_STRING;
			j->text = string_in(cxt, v->val.string.val, v->val.string.len);
			break;
		case jbvBinary:
			pfree(j);
			return json_from_container(v->val.binary.data, cxt);
		default:
			elog(ERROR, "unexpected jsonb value type %d", (int) v->type);
	}
	return j;
}

static RgJson *
json_from_container(JsonbContainer *jc, MemoryContext cxt)
{
	RgJson	   *j = MemoryContextAllocZero(cxt, sizeof(RgJson));
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			cap = 0;

	check_stack_depth();
	CHECK_FOR_INTERRUPTS();
	if (JsonContainerIsScalar(jc))
	{
		JsonbValue	scalar;

		pfree(j);
		if (!JsonbExtractScalar(jc, &scalar))
			elog(ERROR, "could not read a jsonb scalar");
		return json_from_value(&scalar, cxt);
	}
	j->kind = JsonContainerIsObject(jc) ? RG_JSON_OBJECT : RG_JSON_ARRAY;
	it = JsonbIteratorInit(jc);
	tok = JsonbIteratorNext(&it, &v, true);	/* WJB_BEGIN_* */
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		const char *key = NULL;

		if (tok == WJB_END_OBJECT || tok == WJB_END_ARRAY)
			continue;
		if (tok == WJB_KEY)
		{
			key = string_in(cxt, v.val.string.val, v.val.string.len);
			tok = JsonbIteratorNext(&it, &v, true);
		}
		if (j->n == cap)
		{
			int			newcap = cap ? cap * 2 : 8;
			RgJson	  **items = MemoryContextAllocZero(cxt, sizeof(RgJson *) * newcap);
			const char **keys = MemoryContextAllocZero(cxt, sizeof(char *) * newcap);

			if (cap)
			{
				memcpy(items, j->items, sizeof(RgJson *) * cap);
				memcpy(keys, j->keys, sizeof(char *) * cap);
			}
			j->items = items;
			j->keys = keys;
			cap = newcap;
		}
		j->keys[j->n] = key;
		j->items[j->n] = json_from_value(&v, cxt);
		j->n++;
	}
	return j;
}

/* compile spec in cxt, raising RG020 with the path of the fault */
static RgModel *
compile_or_error(Jsonb *spec, MemoryContext cxt, const char *model_name)
{
	RgJson	   *tree = json_from_container(&spec->root, cxt);
	RgSpecError err;
	RgModel    *m = rg_model_compile(tree, palloc0_in, cxt, &err);

	if (m == NULL)
	{
		char	   *detail = psprintf("%s.", err.message);

		detail[0] = pg_toupper((unsigned char) detail[0]);
		if (model_name)
			rg_error(ERRCODE_RG_INVALID_SPEC, detail,
					 "Store a corrected specification with riskguard.create_model.",
					 "stored specification of model \"%s\" is invalid at %s", model_name, err.path);
		rg_error(ERRCODE_RG_INVALID_SPEC, detail,
				 "The README's Credit risk section describes the specification format with an example of each kind.",
				 "invalid model specification at %s", err.path);
	}
	return m;
}

PG_FUNCTION_INFO_V1(rg_validate_model);

/* riskguard.validate_model(spec): the spec's kind, or RG020 naming the path of the fault */
Datum
rg_validate_model(PG_FUNCTION_ARGS)
{
	Jsonb	   *spec = PG_GETARG_JSONB_P(0);
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "riskguard spec check",
											  ALLOCSET_DEFAULT_SIZES);
	RgModel    *m = compile_or_error(spec, cxt, NULL);
	text	   *kind = cstring_to_text(rg_model_kind_name(m->kind));

	MemoryContextDelete(cxt);
	PG_RETURN_TEXT_P(kind);
}

/* ---- the per-backend cache of compiled models ---- */

typedef struct CompiledModel
{
	char		name[NAMEDATALEN];	/* hash key */
	int32		version;
	RgModel    *model;
	Datum		name_text;		/* the name as text, for results */
	Datum	   *grade_text;		/* labels as text, by band */
	Datum	   *decision_text;
	Datum	   *reason_text;	/* by feature */
	int		   *name_len;		/* by feature */
	Datum	  **bounds;			/* numeric features: each bin's upper bound as numeric */

	/*
	 * Numeric features read from integer and double precision columns compare without
	 * converting the value to numeric.  below_int: the largest integer below each
	 * bound; below_float: the smallest double whose shortest decimal (what to_jsonb
	 * writes) is not below the bound, so x < below_float[j] exactly when that decimal
	 * is below bound j.  NULL when a bound is beyond what the fast compare covers.
	 */
	int64	  **below_int;
	double	  **below_float;
} CompiledModel;

static MemoryContext cache_cxt = NULL;
static HTAB *cache = NULL;
static bool cache_stale = false;
static uint64 cache_generation = 1;
static bool callback_registered = false;
static Oid	models_relid = InvalidOid;

static void
models_changed_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == models_relid)
	{
		cache_stale = true;
		cache_generation++;
	}
}

static Oid
models_table(void)
{
	if (!OidIsValid(models_relid))
	{
		Oid			nsp = get_namespace_oid("riskguard", true);

		if (OidIsValid(nsp))
			models_relid = get_relname_relid("credit_model", nsp);
		if (!OidIsValid(models_relid))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table \"riskguard.credit_model\" does not exist"),
					 errhint("Run CREATE EXTENSION riskguard in this database.")));
	}
	return models_relid;
}

static Datum
text_datum_in(MemoryContext cxt, const char *s)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	Datum		d = CStringGetTextDatum(s);

	MemoryContextSwitchTo(old);
	return d;
}

/* a double's shortest decimal as numeric: the number to_jsonb writes for it */
static Datum
float8_shortest_numeric(double x)
{
	char		buf[DOUBLE_SHORTEST_DECIMAL_LEN];

	double_to_shortest_decimal_buf(x, buf);
	return DirectFunctionCall3(numeric_in, CStringGetDatum(buf),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

static bool
numeric_below(Datum a, Datum b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, a, b)) < 0;
}

/*
 * below_int and below_float of numeric feature i (allocated in the current context).
 * Bounds within +-2^62 have both; a feature with a bound beyond keeps the numeric
 * compare for every value.
 */
static void
prepare_fast_bounds(CompiledModel *cm, int i)
{
	RgFeature  *f = &cm->model->features[i];
	int64	   *bi = palloc0(sizeof(int64) * f->nbins);
	double	   *bf = palloc0(sizeof(double) * f->nbins);
	Datum		lim = DirectFunctionCall1(int8_numeric, Int64GetDatum(INT64CONST(1) << 62));
	Datum		neglim = DirectFunctionCall1(numeric_uminus, lim);

	for (int j = 0; j < f->nbins; j++)
	{
		Datum		b = cm->bounds[i][j];
		double		t;
		int			steps;

		if (f->bins[j].open)
			continue;
		if (!numeric_below(b, lim) || !numeric_below(neglim, b))
			return;
		/* integers v below b: v <= ceil(b) - 1 */
		bi[j] = DatumGetInt64(DirectFunctionCall1(numeric_int8,
												  DirectFunctionCall1(numeric_ceil, b))) - 1;

		/*
		 * The double nearest b has b in its rounding interval, so every double two
		 * steps below it has a shortest decimal below b; walk up to the first one
		 * whose shortest decimal is not.
		 */
		t = nextafter(nextafter(f->bins[j].upper, -HUGE_VAL), -HUGE_VAL);
		for (steps = 0; steps < 8; steps++)
		{
			if (!numeric_below(float8_shortest_numeric(t), b))
				break;
			t = nextafter(t, HUGE_VAL);
		}
		if (steps == 0 || steps == 8)
			return;
		bf[j] = t;
	}
	cm->below_int[i] = bi;
	cm->below_float[i] = bf;
}

/* the glue's part of compiling: text datums and numeric bounds */
static void
prepare_model(CompiledModel *cm, MemoryContext cxt)
{
	RgModel    *m = cm->model;
	MemoryContext old;

	cm->name_text = text_datum_in(cxt, cm->name);
	cm->grade_text = MemoryContextAllocZero(cxt, sizeof(Datum) * m->ngrades);
	for (int g = 0; g < m->ngrades; g++)
		cm->grade_text[g] = text_datum_in(cxt, m->grades[g].label);
	cm->decision_text = MemoryContextAllocZero(cxt, sizeof(Datum) * m->ndecisions);
	for (int d = 0; d < m->ndecisions; d++)
		cm->decision_text[d] = text_datum_in(cxt, m->decisions[d].label);
	cm->reason_text = MemoryContextAllocZero(cxt, sizeof(Datum) * m->nfeatures);
	cm->name_len = MemoryContextAllocZero(cxt, sizeof(int) * m->nfeatures);
	cm->bounds = MemoryContextAllocZero(cxt, sizeof(Datum *) * m->nfeatures);
	cm->below_int = MemoryContextAllocZero(cxt, sizeof(int64 *) * m->nfeatures);
	cm->below_float = MemoryContextAllocZero(cxt, sizeof(double *) * m->nfeatures);
	old = MemoryContextSwitchTo(cxt);
	for (int i = 0; i < m->nfeatures; i++)
	{
		RgFeature  *f = &m->features[i];

		cm->reason_text[i] = CStringGetTextDatum(f->reason);
		cm->name_len[i] = strlen(f->name);
		if (m->kind == RG_MODEL_SCORECARD && f->type == RG_FEATURE_NUMERIC)
		{
			cm->bounds[i] = palloc0(sizeof(Datum) * f->nbins);
			for (int j = 0; j < f->nbins; j++)
				if (!f->bins[j].open)
					cm->bounds[i][j] = DirectFunctionCall3(numeric_in,
														   CStringGetDatum(f->bins[j].upper_text),
														   ObjectIdGetDatum(InvalidOid),
														   Int32GetDatum(-1));
			prepare_fast_bounds(cm, i);
		}
	}
	MemoryContextSwitchTo(old);
}

/* read the active version of model name from credit_model and compile it into cm */
static bool
load_model(CompiledModel *cm, const char *name)
{
	Relation	rel;
	TupleDesc	desc;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	AttrNumber	att_name,
				att_version,
				att_spec,
				att_active;
	bool		found = false;
	Jsonb	   *spec = NULL;

	rel = table_open(models_table(), AccessShareLock);
	desc = RelationGetDescr(rel);
	att_name = SPI_fnumber(desc, "name");
	att_version = SPI_fnumber(desc, "version");
	att_spec = SPI_fnumber(desc, "spec");
	att_active = SPI_fnumber(desc, "active");
	if (att_name <= 0 || att_version <= 0 || att_spec <= 0 || att_active <= 0)
		elog(ERROR, "table \"riskguard.credit_model\" lacks its columns");
	ScanKeyInit(&key, att_name, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(name));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		active = heap_getattr(tup, att_active, desc, &isnull);

		if (isnull || !DatumGetBool(active))
			continue;
		cm->version = DatumGetInt32(heap_getattr(tup, att_version, desc, &isnull));
		spec = DatumGetJsonbPCopy(heap_getattr(tup, att_spec, desc, &isnull));
		found = true;
		break;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (!found)
		return false;
	cm->model = compile_or_error(spec, cache_cxt, cm->name);
	prepare_model(cm, cache_cxt);
	return true;
}

/* the compiled active version of model name; RG021 when there is none */
static CompiledModel *
lookup_model(const char *name, int len)
{
	char		key[NAMEDATALEN];
	CompiledModel *cm;
	bool		found;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(models_changed_callback, (Datum) 0);
		callback_registered = true;
	}
	if (cache_stale && cache_cxt != NULL)
	{
		MemoryContextDelete(cache_cxt);
		cache_cxt = NULL;
		cache = NULL;
		models_relid = InvalidOid;
	}
	cache_stale = false;
	if (cache == NULL)
	{
		HASHCTL		ctl;

		cache_cxt = AllocSetContextCreate(CacheMemoryContext, "riskguard compiled models",
										  ALLOCSET_DEFAULT_SIZES);
		ctl.keysize = NAMEDATALEN;
		ctl.entrysize = sizeof(CompiledModel);
		ctl.hcxt = cache_cxt;
		cache = hash_create("riskguard compiled models", 16, &ctl,
							HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	if (len >= NAMEDATALEN)
		rg_error(ERRCODE_RG_UNKNOWN_MODEL, NULL,
				 "Model names have 1 to 63 characters.",
				 "model \"%.*s...\" does not exist", 32, name);
	memcpy(key, name, len);
	key[len] = '\0';
	cm = hash_search(cache, key, HASH_FIND, &found);
	if (found)
		return cm;
	{
		CompiledModel tmp;
		HTAB	   *h = cache;

		memset(&tmp, 0, sizeof(tmp));
		strlcpy(tmp.name, key, NAMEDATALEN);
		if (!load_model(&tmp, key))
			rg_error(ERRCODE_RG_UNKNOWN_MODEL, NULL,
					 "Create it with riskguard.create_model, or check the name in riskguard.credit_model.",
					 "model \"%s\" does not exist or has no active version", key);
		/* the cache may have been marked stale while loading: still use it once */
		cm = hash_search(h, key, HASH_ENTER, &found);
		memcpy(cm, &tmp, sizeof(tmp));
		return cm;
	}
}

/* ---- feature values ---- */

typedef enum ValueKind
{
	VALUE_MISSING,
	VALUE_NUMBER,
	VALUE_STRING
} ValueKind;

/* bin or value of feature i of cm for one input value, into *in */
static void
feature_input(CompiledModel *cm, int i, ValueKind kind, Datum num, const char *str, int len,
			  RgFeatureInput *in)
{
	RgFeature  *f = &cm->model->features[i];

	in->missing = false;
	in->bin = -1;
	if (cm->model->kind == RG_MODEL_LOGISTIC)
	{
		if (kind != VALUE_NUMBER)
			in->missing = true;
		else
			in->value = DatumGetFloat8(DirectFunctionCall1(numeric_float8, num));
		return;
	}
	if (f->type == RG_FEATURE_NUMERIC)
	{
		int			lo = 0,
					hi = f->nbins - 1;
		Datum	   *bounds = cm->bounds[i];

		if (kind != VALUE_NUMBER)
		{
			in->missing = true;
			return;
		}
		/* the first bin whose upper bound exceeds the value; the last bin is open */
		while (lo < hi)
		{
			int			mid = lo + (hi - lo) / 2;

			if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, num, bounds[mid])) < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
		in->bin = lo;
		return;
	}
	/* categorical */
	if (kind == VALUE_MISSING)
	{
		in->missing = true;
		return;
	}
	if (kind == VALUE_NUMBER)
	{
		str = DatumGetCString(DirectFunctionCall1(numeric_out, num));
		len = strlen(str);
	}
	in->bin = rg_categorical_bin(f, str, len);
	if (in->bin < 0)
		in->missing = true;
}

/* feature i of cm for an integer value */
static void
feature_input_int(CompiledModel *cm, int i, int64 v, RgFeatureInput *in)
{
	RgFeature  *f = &cm->model->features[i];
	const int64 *below = cm->below_int[i];

	if (cm->model->kind == RG_MODEL_LOGISTIC)
	{
		in->missing = false;
		in->bin = -1;
		in->value = (double) v; /* rounds as numeric_float8 does */
		return;
	}
	if (f->type == RG_FEATURE_NUMERIC && below != NULL)
	{
		int			lo = 0,
					hi = f->nbins - 1;

		while (lo < hi)
		{
			int			mid = lo + (hi - lo) / 2;

			if (v <= below[mid])
				hi = mid;
			else
				lo = mid + 1;
		}
		in->missing = false;
		in->bin = lo;
		return;
	}
	feature_input(cm, i, VALUE_NUMBER, NumericGetDatum(int64_to_numeric(v)), NULL, 0, in);
}

/* feature i of cm for a finite double, taken as its shortest decimal (as to_jsonb does) */
static void
feature_input_float8(CompiledModel *cm, int i, double x, RgFeatureInput *in)
{
	RgFeature  *f = &cm->model->features[i];
	const double *below = cm->below_float[i];

	if (cm->model->kind == RG_MODEL_LOGISTIC)
	{
		/* the shortest decimal reads back as x; numeric has no negative zero */
		in->missing = false;
		in->bin = -1;
		in->value = x == 0.0 ? 0.0 : x;
		return;
	}
	if (f->type == RG_FEATURE_NUMERIC && below != NULL)
	{
		int			lo = 0,
					hi = f->nbins - 1;

		while (lo < hi)
		{
			int			mid = lo + (hi - lo) / 2;

			if (x < below[mid])
				hi = mid;
			else
				lo = mid + 1;
		}
		in->missing = false;
		in->bin = lo;
		return;
	}
	feature_input(cm, i, VALUE_NUMBER, float8_shortest_numeric(x), NULL, 0, in);
}

/* feature i from a JSON value, as score(model, features) reads it */
static void
feature_from_jsonb_value(CompiledModel *cm, int i, JsonbValue *v, RgFeatureInput *in)
{
	RgFeature  *f = &cm->model->features[i];

	switch (v->type)
	{
		case jbvNumeric:
			feature_input(cm, i, VALUE_NUMBER, NumericGetDatum(v->val.numeric), NULL, 0, in);
			break;
		case jbvString:
			/* strings never stand for numbers ("NaN", "Infinity", "5000" are missing) */
			if (f->type == RG_FEATURE_CATEGORICAL)
				feature_input(cm, i, VALUE_STRING, (Datum) 0, v->val.string.val, v->val.string.len, in);
			else
				feature_input(cm, i, VALUE_MISSING, (Datum) 0, NULL, 0, in);
			break;
		case jbvBool:
			if (f->type == RG_FEATURE_CATEGORICAL)
				feature_input(cm, i, VALUE_STRING, (Datum) 0, v->val.boolean ? "true" : "false",
							  v->val.boolean ? 4 : 5, in);
			else
				feature_input(cm, i, VALUE_MISSING, (Datum) 0, NULL, 0, in);
			break;
		default:
			/* null, objects and arrays */
			feature_input(cm, i, VALUE_MISSING, (Datum) 0, NULL, 0, in);
			break;
	}
}

/* read feature i from a jsonb object */
static void
feature_from_jsonb(CompiledModel *cm, int i, Jsonb *jb, RgFeatureInput *in)
{
	JsonbValue	v;
	RgFeature  *f = &cm->model->features[i];

	if (getKeyJsonValueFromContainer(&jb->root, f->name, cm->name_len[i], &v) == NULL)
		feature_input(cm, i, VALUE_MISSING, (Datum) 0, NULL, 0, in);
	else
		feature_from_jsonb_value(cm, i, &v, in);
}

/* score with cm's model, raising the errors the core reports */
static void
score_inputs(CompiledModel *cm, RgFeatureInput *in, RgScoreResult *res)
{
	switch (rg_model_score(cm->model, in, res))
	{
		case RG_SCORE_OK:
			break;
		case RG_SCORE_MISSING_VALUE:
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("feature \"%s\" of model \"%s\" is missing",
							cm->model->features[res->bad_feature].name, cm->name),
					 errdetail("Version %d of the model gives no value to use for a missing \"%s\".",
							   cm->version, cm->model->features[res->bad_feature].name),
					 errhint("Supply the feature as a number, or give the feature a \"missing\" value in the specification.")));
			break;
		case RG_SCORE_OUT_OF_RANGE:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("score of model \"%s\" is out of range for type integer", cm->name),
					 errdetail("The unrounded score is %g.", res->points)));
			break;
	}
}

static int
band_index(const RgBand *bands, int n, const char *label)
{
	for (int i = 0; i < n; i++)
		if (bands[i].label == label)
			return i;
	return -1;
}

/* the result's datums: score, pd, grade, decision, reasons */
static void
result_datums(CompiledModel *cm, RgScoreResult *res, Datum *values, bool *nulls)
{
	RgModel    *m = cm->model;
	Datum		reasons[RG_MAX_REASONS];
	int			g = band_index(m->grades, m->ngrades, res->grade);
	int			d = band_index(m->decisions, m->ndecisions, res->decision);

	for (int r = 0; r < res->nreasons; r++)
	{
		for (int i = 0; i < m->nfeatures; i++)
			if (m->features[i].reason == res->reasons[r])
			{
				reasons[r] = cm->reason_text[i];
				break;
			}
	}
	values[0] = Int32GetDatum(res->score);
	values[1] = Float8GetDatum(res->pd);
	values[2] = cm->grade_text[g];
	values[3] = cm->decision_text[d];
	values[4] = PointerGetDatum(construct_array(reasons, res->nreasons, TEXTOID, -1, false,
												TYPALIGN_INT));
	memset(nulls, 0, sizeof(bool) * 5);
}

/* ---- riskguard.score(model, features) ---- */

typedef struct ScoreCallCache
{
	uint64		generation;
	char		name[NAMEDATALEN];
	int			name_len;
	CompiledModel *cm;
	TupleDesc	desc;
	RgFeatureInput *inputs;
	int			ninputs;
} ScoreCallCache;

/* fn_extra of score(): the result type and the compiled model of the last name */
static ScoreCallCache *
score_call_cache(FunctionCallInfo fcinfo, Size size)
{
	ScoreCallCache *cc = fcinfo->flinfo->fn_extra;

	if (cc == NULL)
	{
		TupleDesc	desc;
		MemoryContext old;

		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		cc = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, size);
		old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		cc->desc = BlessTupleDesc(CreateTupleDescCopy(desc));
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = cc;
	}
	return cc;
}

/*
 * The compiled model named name for this call site: the one it used last time unless
 * the name or a model changed.  Sets *changed when it had to look the model up.
 */
static CompiledModel *
score_call_model(FunctionCallInfo fcinfo, ScoreCallCache *cc, text *name, bool *changed)
{
	const char *name_str = VARDATA_ANY(name);
	int			name_len = VARSIZE_ANY_EXHDR(name);

	*changed = false;
	if (cc->cm == NULL || cc->generation != cache_generation || cache_stale ||
		cc->name_len != name_len || memcmp(cc->name, name_str, name_len) != 0)
	{
		uint64		generation = cache_generation;
		CompiledModel *cm;

		cc->cm = NULL;
		cm = lookup_model(name_str, name_len);
		if (cache_stale)
			generation = 0;		/* changed while loading: look up again next time */
		if (cm->model->nfeatures > cc->ninputs)
		{
			cc->inputs = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt,
											sizeof(RgFeatureInput) * cm->model->nfeatures);
			cc->ninputs = cm->model->nfeatures;
		}
		memcpy(cc->name, name_str, name_len);
		cc->name_len = name_len;
		cc->generation = generation;
		cc->cm = cm;
		*changed = true;
	}
	return cc->cm;
}

/* the credit_score of the inputs in cc */
static Datum
score_result(ScoreCallCache *cc)
{
	CompiledModel *cm = cc->cm;
	RgScoreResult res;
	Datum		values[7];
	bool		nulls[7];

	score_inputs(cm, cc->inputs, &res);
	values[0] = cm->name_text;
	values[1] = Int32GetDatum(cm->version);
	nulls[0] = nulls[1] = false;
	result_datums(cm, &res, values + 2, nulls + 2);
	return HeapTupleGetDatum(heap_form_tuple(cc->desc, values, nulls));
}

PG_FUNCTION_INFO_V1(rg_score);

/* riskguard.score(model, features): the credit_score of one application */
Datum
rg_score(PG_FUNCTION_ARGS)
{
	text	   *name = PG_GETARG_TEXT_PP(0);
	Jsonb	   *jb = PG_GETARG_JSONB_P(1);
	ScoreCallCache *cc = score_call_cache(fcinfo, sizeof(ScoreCallCache));
	bool		changed;
	CompiledModel *cm = score_call_model(fcinfo, cc, name, &changed);
	Datum		result;

	if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("features for model \"%s\" must be a JSON object", cm->name),
				 errhint("Pass an object of feature names and values, such as to_jsonb(row), or the row itself to riskguard.score_row.")));
	for (int i = 0; i < cm->model->nfeatures; i++)
		feature_from_jsonb(cm, i, jb, &cc->inputs[i]);
	result = score_result(cc);
	PG_FREE_IF_COPY(jb, 1);
	PG_RETURN_DATUM(result);
}

/* ---- the trigger that scores rows ---- */

#define NOUT 5
static const char *const out_columns[NOUT] = {
	"credit_score", "credit_pd", "credit_grade", "credit_decision", "credit_reasons"
};
static const Oid out_types[NOUT] = {INT4OID, FLOAT8OID, TEXTOID, TEXTOID, TEXTARRAYOID};
static const char *const out_type_names[NOUT] = {"integer", "double precision", "text", "text", "text[]"};

/* ---- reading features from the columns of a row ---- */

/*
 * How a column's value becomes a feature's input: as score(model, to_jsonb(row)) would
 * see it.  Numbers are numbers (NaN and infinities become strings in JSON), booleans
 * true or false, dates and timestamps their ISO 8601 text, json and jsonb their value,
 * arrays and composites arrays and objects, anything else its text.
 */
typedef enum ReadAs
{
	READ_ABSENT,				/* no such column: missing */
	READ_INT2,
	READ_INT4,
	READ_INT8,
	READ_FLOAT4,
	READ_FLOAT8,
	READ_NUMERIC,
	READ_TEXT,					/* text, varchar, char(n) */
	READ_BOOL,
	READ_DATETIME,				/* date, timestamp, timestamptz */
	READ_JSONB,
	READ_JSON,
	READ_NESTED,				/* arrays and composites: missing */
	READ_OUTPUT					/* the type's output function */
} ReadAs;

typedef struct ColumnReader
{
	AttrNumber	attnum;			/* 0 for READ_ABSENT */
	Oid			typid;			/* the column's type, domains resolved */
	ReadAs		how;
	FmgrInfo	out;			/* READ_OUTPUT */
} ColumnReader;

static bool
is_number_type(Oid t)
{
	return t == INT2OID || t == INT4OID || t == INT8OID || t == FLOAT4OID ||
		t == FLOAT8OID || t == NUMERICOID;
}

/* how to read column (by name) of rows of desc */
static void
reader_prepare(ColumnReader *r, TupleDesc desc, const char *column, MemoryContext mcxt)
{
	AttrNumber	att = SPI_fnumber(desc, column);
	Oid			t;

	memset(r, 0, sizeof(ColumnReader));
	if (att <= 0)
	{
		r->how = READ_ABSENT;
		return;
	}
	r->attnum = att;
	r->typid = t = getBaseType(TupleDescAttr(desc, att - 1)->atttypid);
	switch (t)
	{
		case INT2OID:
			r->how = READ_INT2;
			break;
		case INT4OID:
			r->how = READ_INT4;
			break;
		case INT8OID:
			r->how = READ_INT8;
			break;
		case FLOAT4OID:
			r->how = READ_FLOAT4;
			break;
		case FLOAT8OID:
			r->how = READ_FLOAT8;
			break;
		case NUMERICOID:
			r->how = READ_NUMERIC;
			break;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			r->how = READ_TEXT;
			break;
		case BOOLOID:
			r->how = READ_BOOL;
			break;
		case DATEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			r->how = READ_DATETIME;
			break;
		case JSONBOID:
			r->how = READ_JSONB;
			break;
		case JSONOID:
			r->how = READ_JSON;
			break;
		default:
			if (OidIsValid(get_element_type(t)) || type_is_rowtype(t))
				r->how = READ_NESTED;
			else
			{
				Oid			outfn;
				bool		varlena;

				getTypeOutputInfo(t, &outfn, &varlena);
				fmgr_info_cxt(outfn, &r->out, mcxt);
				r->how = READ_OUTPUT;
			}
			break;
	}
}

/* a string value: categorical features look it up, numeric ones take it as missing */
static void
feature_from_string(CompiledModel *cm, int i, const char *str, int len, RgFeatureInput *in)
{
	if (cm->model->kind == RG_MODEL_SCORECARD &&
		cm->model->features[i].type == RG_FEATURE_CATEGORICAL)
		feature_input(cm, i, VALUE_STRING, (Datum) 0, str, len, in);
	else
		feature_input(cm, i, VALUE_MISSING, (Datum) 0, NULL, 0, in);
}

/* a NaN or infinite float as to_jsonb writes it: JSON has no such number, so a string */
static void
feature_from_nonfinite(CompiledModel *cm, int i, double x, RgFeatureInput *in)
{
	const char *str = isnan(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity";

	feature_from_string(cm, i, str, strlen(str), in);
}

/* feature i from a json or jsonb value: scalars as score() reads them, the rest missing */
static void
feature_from_jsonb_datum(CompiledModel *cm, int i, Jsonb *jb, RgFeatureInput *in)
{
	JsonbValue	v;

	if (JB_ROOT_IS_SCALAR(jb) && JsonbExtractScalar(&jb->root, &v))
		feature_from_jsonb_value(cm, i, &v, in);
	else
		feature_input(cm, i, VALUE_MISSING, (Datum) 0, NULL, 0, in);
}

/* feature i from a column's value, read as r says */
static void
feature_from_datum(CompiledModel *cm, int i, const ColumnReader *r, Datum d, bool isnull,
				   RgFeatureInput *in)
{
	if (isnull || r->how == READ_ABSENT || r->how == READ_NESTED)
	{
		feature_input(cm, i, VALUE_MISSING, (Datum) 0, NULL, 0, in);
		return;
	}
	switch (r->how)
	{
		case READ_INT2:
			feature_input_int(cm, i, DatumGetInt16(d), in);
			break;
		case READ_INT4:
			feature_input_int(cm, i, DatumGetInt32(d), in);
			break;
		case READ_INT8:
			feature_input_int(cm, i, DatumGetInt64(d), in);
			break;
		case READ_FLOAT8:
			{
				double		x = DatumGetFloat8(d);

				if (isfinite(x))
					feature_input_float8(cm, i, x, in);
				else
					feature_from_nonfinite(cm, i, x, in);
				break;
			}
		case READ_FLOAT4:
			{
				float		x = DatumGetFloat4(d);
				char		buf[FLOAT_SHORTEST_DECIMAL_LEN];

				if (isfinite(x))
				{
					float_to_shortest_decimal_buf(x, buf);
					feature_input(cm, i, VALUE_NUMBER,
								  DirectFunctionCall3(numeric_in, CStringGetDatum(buf),
													  ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)),
								  NULL, 0, in);
				}
				else
					feature_from_nonfinite(cm, i, x, in);
				break;
			}
		case READ_NUMERIC:
			if (numeric_is_nan(DatumGetNumeric(d)) || numeric_is_inf(DatumGetNumeric(d)))
			{
				char	   *str = DatumGetCString(DirectFunctionCall1(numeric_out, d));

				feature_from_string(cm, i, str, strlen(str), in);
			}
			else
				feature_input(cm, i, VALUE_NUMBER, d, NULL, 0, in);
			break;
		case READ_TEXT:
			{
				text	   *t = DatumGetTextPP(d);

				feature_from_string(cm, i, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), in);
				break;
			}
		case READ_BOOL:
			feature_from_string(cm, i, DatumGetBool(d) ? "true" : "false", DatumGetBool(d) ? 4 : 5, in);
			break;
		case READ_DATETIME:
			{
				char		buf[MAXDATELEN + 1];

				JsonEncodeDateTime(buf, d, r->typid, NULL);
				feature_from_string(cm, i, buf, strlen(buf), in);
				break;
			}
		case READ_JSONB:
			feature_from_jsonb_datum(cm, i, DatumGetJsonbP(d), in);
			break;
		case READ_JSON:
			{
				char	   *str = TextDatumGetCString(d);

				feature_from_jsonb_datum(cm, i, DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(str))), in);
				break;
			}
		default:				/* READ_OUTPUT */
			{
				char	   *str = OutputFunctionCall((FmgrInfo *) &r->out, d);

				feature_from_string(cm, i, str, strlen(str), in);
				break;
			}
	}
}

/* ---- riskguard.score_row(model, application) ---- */

typedef struct RowCallCache
{
	ScoreCallCache score;		/* first: score_call_cache allocates it */
	uint64		row_identifier; /* the row type the readers are for (0: none yet) */
	int			natts;
	ColumnReader *readers;		/* by feature */
	Datum	   *values;			/* a deformed row */
	bool	   *nulls;
} RowCallCache;

PG_FUNCTION_INFO_V1(rg_score_record);

/*
 * riskguard.score_row(model, application): the credit_score of a row, reading each
 * feature from the column of its name as score(model, to_jsonb(application)) would,
 * without building the JSON.  The readers are cached per model and row type.
 */
Datum
rg_score_record(PG_FUNCTION_ARGS)
{
	text	   *name = PG_GETARG_TEXT_PP(0);
	HeapTupleHeader row = PG_GETARG_HEAPTUPLEHEADER(1);
	RowCallCache *rc = (RowCallCache *) score_call_cache(fcinfo, sizeof(RowCallCache));
	bool		changed;
	CompiledModel *cm = score_call_model(fcinfo, &rc->score, name, &changed);
	Oid			typid = HeapTupleHeaderGetTypeId(row);
	int32		typmod = HeapTupleHeaderGetTypMod(row);
	uint64		identifier = assign_record_type_identifier(typid, typmod);
	TupleDesc	desc = lookup_rowtype_tupdesc(typid, typmod);
	HeapTupleData tuple;
	Datum		result;

	if (changed || rc->row_identifier != identifier)
	{
		MemoryContext mcxt = fcinfo->flinfo->fn_mcxt;

		rc->row_identifier = 0;
		rc->readers = MemoryContextAllocZero(mcxt, sizeof(ColumnReader) * cm->model->nfeatures);
		for (int i = 0; i < cm->model->nfeatures; i++)
			reader_prepare(&rc->readers[i], desc, cm->model->features[i].name, mcxt);
		rc->values = MemoryContextAlloc(mcxt, sizeof(Datum) * Max(desc->natts, 1));
		rc->nulls = MemoryContextAlloc(mcxt, sizeof(bool) * Max(desc->natts, 1));
		rc->natts = desc->natts;
		rc->row_identifier = identifier;
	}
	tuple.t_len = HeapTupleHeaderGetDatumLength(row);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = row;
	heap_deform_tuple(&tuple, desc, rc->values, rc->nulls);
	for (int i = 0; i < cm->model->nfeatures; i++)
	{
		const ColumnReader *r = &rc->readers[i];

		if (r->attnum > 0)
			feature_from_datum(cm, i, r, rc->values[r->attnum - 1], rc->nulls[r->attnum - 1],
							   &rc->score.inputs[i]);
		else
			feature_from_datum(cm, i, r, (Datum) 0, true, &rc->score.inputs[i]);
	}
	ReleaseTupleDesc(desc);
	result = score_result(&rc->score);
	PG_RETURN_DATUM(result);
}

/* ---- the trigger that scores rows ---- */

typedef struct TriggerCache
{
	uint64		generation;
	CompiledModel *cm;
	ColumnReader *readers;		/* by feature */
	AttrNumber	out_attnums[NOUT];
	RgFeatureInput *inputs;
} TriggerCache;

/*
 * The column names of the trigger's feature mapping, resolved against the row type.
 * Unlike score_row, the trigger insists that every feature has a column, and a number
 * column for a numeric feature: a table set up to be scored should be set up right.
 */
static void
trigger_prepare(TriggerCache *tc, TriggerData *td, MemoryContext mcxt)
{
	Trigger    *trig = td->tg_trigger;
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	const char *relname = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(td->tg_relation)),
													 RelationGetRelationName(td->tg_relation));
	CompiledModel *cm = tc->cm;
	RgModel    *m = cm->model;
	Jsonb	   *mapping = NULL;

	if (trig->tgnargs >= 2)
		mapping = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(trig->tgargs[1])));
	tc->readers = MemoryContextAllocZero(mcxt, sizeof(ColumnReader) * m->nfeatures);
	tc->inputs = MemoryContextAllocZero(mcxt, sizeof(RgFeatureInput) * m->nfeatures);
	for (int i = 0; i < m->nfeatures; i++)
	{
		RgFeature  *f = &m->features[i];
		char	   *column = pstrdup(f->name);
		JsonbValue	v;
		ColumnReader *r = &tc->readers[i];

		if (mapping && JB_ROOT_IS_OBJECT(mapping) &&
			getKeyJsonValueFromContainer(&mapping->root, f->name, strlen(f->name), &v) != NULL &&
			v.type == jbvString)
			column = pnstrdup(v.val.string.val, v.val.string.len);
		reader_prepare(r, desc, column, mcxt);
		if (r->how == READ_ABSENT)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of relation \"%s\" does not exist", column, relname),
					 errdetail("Version %d of model \"%s\" reads feature \"%s\" from that column.",
							   cm->version, cm->name, f->name),
					 errhint("Add the column, or attach scoring again with feature_columns naming the column to use.")));
		if ((m->kind == RG_MODEL_LOGISTIC || f->type == RG_FEATURE_NUMERIC) &&
			!is_number_type(r->typid))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of relation \"%s\" is of type %s, but feature \"%s\" of model \"%s\" is numeric",
							column, relname, format_type_be(TupleDescAttr(desc, r->attnum - 1)->atttypid),
							f->name, cm->name),
					 errhint("Numeric features read smallint, integer, bigint, real, double precision or numeric columns.")));
	}
	for (int k = 0; k < NOUT; k++)
	{
		AttrNumber	att = SPI_fnumber(desc, out_columns[k]);

		if (att <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of relation \"%s\" does not exist", out_columns[k], relname),
					 errhint("Scoring writes credit_score, credit_pd, credit_grade, credit_decision and credit_reasons.")));
		if (TupleDescAttr(desc, att - 1)->atttypid != out_types[k])
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of relation \"%s\" must be of type %s", out_columns[k], relname,
							out_type_names[k])));
		tc->out_attnums[k] = att;
	}
}

PG_FUNCTION_INFO_V1(rg_score_row);

/*
 * riskguard._score_row(model, feature_columns): BEFORE INSERT OR UPDATE row trigger
 * that writes the row's credit_score, credit_pd, credit_grade, credit_decision and
 * credit_reasons.  attach_scoring creates it.
 */
Datum
rg_score_row(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TriggerCache *tc;
	HeapTuple	tuple;
	TupleDesc	desc;
	CompiledModel *cm;
	RgScoreResult res;
	Datum		values[NOUT];
	bool		nulls[NOUT];
	int			cols[NOUT];

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("riskguard._score_row() must be called as a trigger")));
	if (!TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!(TRIGGER_FIRED_BY_INSERT(td->tg_event) || TRIGGER_FIRED_BY_UPDATE(td->tg_event)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("riskguard._score_row() must fire BEFORE INSERT OR UPDATE FOR EACH ROW"),
				 errhint("Use riskguard.attach_scoring to attach scoring to a table.")));
	if (td->tg_trigger->tgnargs < 1)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("riskguard._score_row() needs the model's name as its argument")));
	tuple = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	desc = RelationGetDescr(td->tg_relation);

	tc = fcinfo->flinfo->fn_extra;
	if (tc == NULL)
	{
		tc = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(TriggerCache));
		fcinfo->flinfo->fn_extra = tc;
	}
	if (tc->cm == NULL || tc->generation != cache_generation || cache_stale)
	{
		const char *name = td->tg_trigger->tgargs[0];
		uint64		generation = cache_generation;

		tc->cm = NULL;
		cm = lookup_model(name, strlen(name));
		if (cache_stale)
			generation = 0;
		tc->cm = cm;
		trigger_prepare(tc, td, fcinfo->flinfo->fn_mcxt);
		tc->generation = generation;
	}
	cm = tc->cm;

	for (int i = 0; i < cm->model->nfeatures; i++)
	{
		bool		isnull;
		Datum		d = heap_getattr(tuple, tc->readers[i].attnum, desc, &isnull);

		feature_from_datum(cm, i, &tc->readers[i], d, isnull, &tc->inputs[i]);
	}
	score_inputs(cm, tc->inputs, &res);
	result_datums(cm, &res, values, nulls);
	for (int k = 0; k < NOUT; k++)
		cols[k] = tc->out_attnums[k];
	tuple = heap_modify_tuple_by_cols(tuple, desc, NOUT, cols, values, nulls);
	return PointerGetDatum(tuple);
}
