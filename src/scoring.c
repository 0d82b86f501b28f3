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
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"

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

/* read feature i from a jsonb object */
static void
feature_from_jsonb(CompiledModel *cm, int i, Jsonb *jb, RgFeatureInput *in)
{
	JsonbValue	v;
	RgFeature  *f = &cm->model->features[i];

	if (getKeyJsonValueFromContainer(&jb->root, f->name, cm->name_len[i], &v) == NULL)
	{
		feature_input(cm, i, VALUE_MISSING, (Datum) 0, NULL, 0, in);
		return;
	}
	switch (v.type)
	{
		case jbvNumeric:
			feature_input(cm, i, VALUE_NUMBER, NumericGetDatum(v.val.numeric), NULL, 0, in);
			break;
		case jbvString:
			/* strings never stand for numbers ("NaN", "Infinity", "5000" are missing) */
			if (f->type == RG_FEATURE_CATEGORICAL)
				feature_input(cm, i, VALUE_STRING, (Datum) 0, v.val.string.val, v.val.string.len, in);
			else
				feature_input(cm, i, VALUE_MISSING, (Datum) 0, NULL, 0, in);
			break;
		case jbvBool:
			if (f->type == RG_FEATURE_CATEGORICAL)
				feature_input(cm, i, VALUE_STRING, (Datum) 0, v.val.boolean ? "true" : "false",
							  v.val.boolean ? 4 : 5, in);
			else
				feature_input(cm, i, VALUE_MISSING, (Datum) 0, NULL, 0, in);
			break;
		default:
			/* null, objects and arrays */
			feature_input(cm, i, VALUE_MISSING, (Datum) 0, NULL, 0, in);
			break;
	}
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

PG_FUNCTION_INFO_V1(rg_score);

/* riskguard.score(model, features): the credit_score of one application */
Datum
rg_score(PG_FUNCTION_ARGS)
{
	text	   *name = PG_GETARG_TEXT_PP(0);
	Jsonb	   *jb = PG_GETARG_JSONB_P(1);
	const char *name_str = VARDATA_ANY(name);
	int			name_len = VARSIZE_ANY_EXHDR(name);
	ScoreCallCache *cc = fcinfo->flinfo->fn_extra;
	CompiledModel *cm;
	RgScoreResult res;
	Datum		values[7];
	bool		nulls[7];

	if (cc == NULL)
	{
		TupleDesc	desc;
		MemoryContext old;

		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		cc = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ScoreCallCache));
		old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		cc->desc = BlessTupleDesc(CreateTupleDescCopy(desc));
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = cc;
	}
	if (cc->cm == NULL || cc->generation != cache_generation || cache_stale ||
		cc->name_len != name_len || memcmp(cc->name, name_str, name_len) != 0)
	{
		uint64		generation = cache_generation;

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
	}
	cm = cc->cm;

	if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("features for model \"%s\" must be a JSON object", cm->name),
				 errhint("Pass an object of feature names and values, such as to_jsonb(row).")));
	for (int i = 0; i < cm->model->nfeatures; i++)
		feature_from_jsonb(cm, i, jb, &cc->inputs[i]);
	score_inputs(cm, cc->inputs, &res);

	values[0] = cm->name_text;
	values[1] = Int32GetDatum(cm->version);
	nulls[0] = nulls[1] = false;
	result_datums(cm, &res, values + 2, nulls + 2);
	PG_FREE_IF_COPY(jb, 1);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(cc->desc, values, nulls)));
}

/* ---- the trigger that scores rows ---- */

#define NOUT 5
static const char *const out_columns[NOUT] = {
	"credit_score", "credit_pd", "credit_grade", "credit_decision", "credit_reasons"
};
static const Oid out_types[NOUT] = {INT4OID, FLOAT8OID, TEXTOID, TEXTOID, TEXTARRAYOID};
static const char *const out_type_names[NOUT] = {"integer", "double precision", "text", "text", "text[]"};

typedef struct TriggerCache
{
	uint64		generation;
	CompiledModel *cm;
	AttrNumber *attnums;		/* by feature */
	Oid		   *typids;
	FmgrInfo   *outfuncs;		/* categorical features of other types than text */
	AttrNumber	out_attnums[NOUT];
	RgFeatureInput *inputs;
} TriggerCache;

static bool
is_number_type(Oid t)
{
	return t == INT2OID || t == INT4OID || t == INT8OID || t == FLOAT4OID ||
		t == FLOAT8OID || t == NUMERICOID;
}

/* the column names of the trigger's feature mapping, resolved against the row type */
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
	tc->attnums = MemoryContextAllocZero(mcxt, sizeof(AttrNumber) * m->nfeatures);
	tc->typids = MemoryContextAllocZero(mcxt, sizeof(Oid) * m->nfeatures);
	tc->outfuncs = MemoryContextAllocZero(mcxt, sizeof(FmgrInfo) * m->nfeatures);
	tc->inputs = MemoryContextAllocZero(mcxt, sizeof(RgFeatureInput) * m->nfeatures);
	for (int i = 0; i < m->nfeatures; i++)
	{
		RgFeature  *f = &m->features[i];
		char	   *column = pstrdup(f->name);
		JsonbValue	v;
		AttrNumber	att;

		if (mapping && JB_ROOT_IS_OBJECT(mapping) &&
			getKeyJsonValueFromContainer(&mapping->root, f->name, strlen(f->name), &v) != NULL &&
			v.type == jbvString)
			column = pnstrdup(v.val.string.val, v.val.string.len);
		att = SPI_fnumber(desc, column);
		if (att <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of relation \"%s\" does not exist", column, relname),
					 errdetail("Version %d of model \"%s\" reads feature \"%s\" from that column.",
							   cm->version, cm->name, f->name),
					 errhint("Add the column, or attach scoring again with feature_columns naming the column to use.")));
		tc->attnums[i] = att;
		tc->typids[i] = TupleDescAttr(desc, att - 1)->atttypid;
		if ((m->kind == RG_MODEL_LOGISTIC || f->type == RG_FEATURE_NUMERIC) &&
			!is_number_type(tc->typids[i]))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of relation \"%s\" is of type %s, but feature \"%s\" of model \"%s\" is numeric",
							column, relname, format_type_be(tc->typids[i]), f->name, cm->name),
					 errhint("Numeric features read smallint, integer, bigint, real, double precision or numeric columns.")));
		if (f->type == RG_FEATURE_CATEGORICAL && tc->typids[i] != TEXTOID &&
			tc->typids[i] != VARCHAROID && !is_number_type(tc->typids[i]))
		{
			Oid			outfn;
			bool		varlena;

			getTypeOutputInfo(tc->typids[i], &outfn, &varlena);
			fmgr_info_cxt(outfn, &tc->outfuncs[i], mcxt);
		}
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

/* a column's value as the scoring input of feature i */
static void
feature_from_column(TriggerCache *tc, int i, HeapTuple tuple, TupleDesc desc, RgFeatureInput *in)
{
	CompiledModel *cm = tc->cm;
	bool		isnull;
	Datum		d = heap_getattr(tuple, tc->attnums[i], desc, &isnull);
	Oid			t = tc->typids[i];
	Datum		num;

	if (isnull)
	{
		feature_input(cm, i, VALUE_MISSING, (Datum) 0, NULL, 0, in);
		return;
	}
	if (t == TEXTOID || t == VARCHAROID)
	{
		text	   *s = DatumGetTextPP(d);

		feature_input(cm, i, VALUE_STRING, (Datum) 0, VARDATA_ANY(s), VARSIZE_ANY_EXHDR(s), in);
		return;
	}
	if (!is_number_type(t))
	{
		char	   *s = OutputFunctionCall(&tc->outfuncs[i], d);

		feature_input(cm, i, VALUE_STRING, (Datum) 0, s, strlen(s), in);
		return;
	}
	switch (t)
	{
		case INT2OID:
			num = NumericGetDatum(int64_to_numeric(DatumGetInt16(d)));
			break;
		case INT4OID:
			num = NumericGetDatum(int64_to_numeric(DatumGetInt32(d)));
			break;
		case INT8OID:
			num = NumericGetDatum(int64_to_numeric(DatumGetInt64(d)));
			break;
		case FLOAT4OID:
		case FLOAT8OID:
			{
				double		x = (t == FLOAT4OID) ? DatumGetFloat4(d) : DatumGetFloat8(d);

				/* NaN and infinities are missing, as in score(to_jsonb(row)) */
				if (isnan(x) || isinf(x))
				{
					feature_input(cm, i, VALUE_MISSING, (Datum) 0, NULL, 0, in);
					return;
				}
				num = (t == FLOAT4OID) ? DirectFunctionCall1(float4_numeric, d)
					: DirectFunctionCall1(float8_numeric, d);
				break;
			}
		default:				/* numeric */
			if (numeric_is_nan(DatumGetNumeric(d)) || numeric_is_inf(DatumGetNumeric(d)))
			{
				feature_input(cm, i, VALUE_MISSING, (Datum) 0, NULL, 0, in);
				return;
			}
			num = d;
			break;
	}
	feature_input(cm, i, VALUE_NUMBER, num, NULL, 0, in);
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
		feature_from_column(tc, i, tuple, desc, &tc->inputs[i]);
	score_inputs(cm, tc->inputs, &res);
	result_datums(cm, &res, values, nulls);
	for (int k = 0; k < NOUT; k++)
		cols[k] = tc->out_attnums[k];
	tuple = heap_modify_tuple_by_cols(tuple, desc, NOUT, cols, values, nulls);
	return PointerGetDatum(tuple);
}
