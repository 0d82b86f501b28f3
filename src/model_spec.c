/*
 * model_spec.c
 *		The credit model spec compiler: validates a spec given as an RgJson tree and
 *		compiles it into an RgModel whose bins already carry their points.
 *
 * Pure C, no postgres.h.  Every fault is reported with the JSON path of the value at
 * fault; specs are strict (unrecognized keys are faults, so a misspelt key is not
 * silently ignored).  The one allowance: a scorecard bin may keep the statistics that
 * woe_bins and woe_categories write beside its bounds and WoE, so their output can be
 * pasted in; those are type-checked and otherwise ignored.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "model_spec.h"

typedef struct Compiler
{
	RgAllocFn	alloc;
	void	   *alloc_ctx;
	RgSpecError *err;
	char		path[RG_SPEC_PATH_LEN];
	size_t		pathlen;
	bool		failed;
} Compiler;

/* ---- paths and errors ---- */

static size_t
path_push_key(Compiler *c, const char *key)
{
	size_t		saved = c->pathlen;
	int			n = snprintf(c->path + c->pathlen, sizeof(c->path) - c->pathlen, ".%s", key);

	if (n > 0)
		c->pathlen += ((size_t) n < sizeof(c->path) - c->pathlen) ? (size_t) n : sizeof(c->path) - c->pathlen - 1;
	return saved;
}

static size_t
path_push_index(Compiler *c, int i)
{
	size_t		saved = c->pathlen;
	int			n = snprintf(c->path + c->pathlen, sizeof(c->path) - c->pathlen, "[%d]", i);

	if (n > 0)
		c->pathlen += ((size_t) n < sizeof(c->path) - c->pathlen) ? (size_t) n : sizeof(c->path) - c->pathlen - 1;
	return saved;
}

static void
path_pop(Compiler *c, size_t saved)
{
	c->pathlen = saved;
	c->path[saved] = '\0';
}

#if defined(__GNUC__)
static bool fail(Compiler *c, const char *key, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));
#endif

/* record the first fault, at the current path (plus key when not NULL) */
static bool
fail(Compiler *c, const char *key, const char *fmt,...)
{
	va_list		args;

	if (c->failed)
		return false;
	c->failed = true;
	if (key)
		snprintf(c->err->path, sizeof(c->err->path), "%s.%s", c->path, key);
	else
		snprintf(c->err->path, sizeof(c->err->path), "%s", c->path);
	va_start(args, fmt);
	vsnprintf(c->err->message, sizeof(c->err->message), fmt, args);
	va_end(args);
	return false;
}

static void *
alloc(Compiler *c, size_t size)
{
	return c->alloc(c->alloc_ctx, size);
}

static const char *
kind_name(RgJsonKind kind)
{
	switch (kind)
	{
		case RG_JSON_NULL:
			return "null";
		case RG_JSON_BOOL:
			return "a boolean";
		case RG_JSON_NUMBER:
			return "a number";
		case RG_JSON_STRING:
			return "a string";
		case RG_JSON_ARRAY:
			return "an array";
		case RG_JSON_OBJECT:
			return "an object";
	}
	return "a value";
}

/* ---- object access ---- */

static const RgJson *
member(const RgJson *obj, const char *key)
{
	for (int i = 0; i < obj->n; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return obj->items[i];
	return NULL;
}

/* fault on the first member whose name is not in allowed (NULL-terminated) */
static bool
check_keys(Compiler *c, const RgJson *obj, const char *const *allowed, const char *where)
{
	for (int i = 0; i < obj->n; i++)
	{
		bool		known = false;

		for (const char *const *a = allowed; *a; a++)
			if (strcmp(obj->keys[i], *a) == 0)
				known = true;
		if (!known)
			return fail(c, obj->keys[i], "unrecognized key \"%s\" in %s", obj->keys[i], where);
	}
	return true;
}

static bool
expect_object(Compiler *c, const RgJson *v, const char *key, const char *what)
{
	if (v == NULL)
		return fail(c, key, "%s is missing", what);
	if (v->kind != RG_JSON_OBJECT)
		return fail(c, key, "%s must be an object, not %s", what, kind_name(v->kind));
	return true;
}

static bool
expect_array(Compiler *c, const RgJson *v, const char *key, const char *what)
{
	if (v == NULL)
		return fail(c, key, "%s is missing", what);
	if (v->kind != RG_JSON_ARRAY)
		return fail(c, key, "%s must be an array, not %s", what, kind_name(v->kind));
	if (v->n == 0)
		return fail(c, key, "%s must not be empty", what);
	return true;
}

static bool
get_number(Compiler *c, const RgJson *obj, const char *key, const char *what, double *out)
{
	const RgJson *v = member(obj, key);

	if (v == NULL)
		return fail(c, key, "%s is missing", what);
	if (v->kind != RG_JSON_NUMBER)
		return fail(c, key, "%s must be a number, not %s", what, kind_name(v->kind));
	if (!isfinite(v->number))
		return fail(c, key, "%s must be finite", what);
	*out = v->number;
	return true;
}

/* a label (name, reason code, grade): a string of 1 to RG_MAX_LABEL bytes */
static bool
get_label(Compiler *c, const RgJson *obj, const char *key, const char *what, const char **out)
{
	const RgJson *v = member(obj, key);

	if (v == NULL)
		return fail(c, key, "%s is missing", what);
	if (v->kind != RG_JSON_STRING)
		return fail(c, key, "%s must be a string, not %s", what, kind_name(v->kind));
	if (v->text[0] == '\0' || strlen(v->text) > RG_MAX_LABEL)
		return fail(c, key, "%s must have 1 to %d characters", what, RG_MAX_LABEL);
	*out = v->text;
	return true;
}

static bool
optional_string(Compiler *c, const RgJson *obj, const char *key)
{
	const RgJson *v = member(obj, key);

	if (v != NULL && v->kind != RG_JSON_STRING)
		return fail(c, key, "\"%s\" must be a string, not %s", key, kind_name(v->kind));
	return true;
}

/* ---- scaling, grades, decisions ---- */

static bool
compile_scaling(Compiler *c, const RgJson *spec, RgModel *m)
{
	static const char *const keys[] = {"base_score", "base_odds", "pdo", NULL};
	const RgJson *s = member(spec, "scaling");
	double		base_score,
				base_odds,
				pdo;
	size_t		saved;
	bool		ok;

	if (!expect_object(c, s, "scaling", "\"scaling\""))
		return false;
	saved = path_push_key(c, "scaling");
	ok = check_keys(c, s, keys, "scaling")
		&& get_number(c, s, "base_score", "\"base_score\"", &base_score)
		&& get_number(c, s, "base_odds", "\"base_odds\"", &base_odds)
		&& get_number(c, s, "pdo", "\"pdo\"", &pdo);
	if (ok && base_odds <= 0)
		ok = fail(c, "base_odds", "\"base_odds\" must be greater than 0, not %g", base_odds);
	if (ok && pdo <= 0)
		ok = fail(c, "pdo", "\"pdo\" must be greater than 0, not %g", pdo);
	if (ok)
	{
		m->factor = pdo / log(2.0);
		m->offset = base_score - m->factor * log(base_odds);
	}
	path_pop(c, saved);
	return ok;
}

/*
 * bands: non-empty array of objects with a label key and a bound key; every band but
 * the last has the bound, the last has none (it catches the rest).  Bounds ascend
 * strictly (descending when descending is set).  pd bounds lie in [0, 1].
 */
static bool
compile_bands(Compiler *c, const RgJson *arr, const char *label_key, const char *bound_key,
			  bool descending, bool is_pd, const char *const *labels_allowed,
			  int *nbands, RgBand **bands)
{
	const char *keys[] = {label_key, bound_key, NULL};
	RgBand	   *out;

	out = alloc(c, sizeof(RgBand) * arr->n);
	for (int i = 0; i < arr->n; i++)
	{
		const RgJson *b = arr->items[i];
		size_t		saved = path_push_index(c, i);
		const RgJson *bound;
		bool		last = (i == arr->n - 1);

		if (b->kind != RG_JSON_OBJECT)
			return fail(c, NULL, "a band must be an object, not %s", kind_name(b->kind));
		if (!check_keys(c, b, keys, "a band"))
			return false;
		if (!get_label(c, b, label_key, label_key, &out[i].label))
			return false;
		if (labels_allowed)
		{
			bool		known = false;

			for (const char *const *a = labels_allowed; *a; a++)
				if (strcmp(out[i].label, *a) == 0)
					known = true;
			if (!known)
				return fail(c, label_key, "unrecognized %s \"%s\": expected approve, review or decline",
							label_key, out[i].label);
		}
		bound = member(b, bound_key);
		if (last && bound != NULL && bound->kind != RG_JSON_NULL)
			return fail(c, bound_key, "the last band must have no \"%s\", so that it catches every remaining case",
						bound_key);
		if (!last)
		{
			if (!get_number(c, b, bound_key, bound_key, &out[i].bound))
				return false;
			if (is_pd && (out[i].bound < 0 || out[i].bound > 1))
				return fail(c, bound_key, "\"%s\" must lie between 0 and 1, not %g", bound_key, out[i].bound);
			if (i > 0 && (descending ? out[i].bound >= out[i - 1].bound : out[i].bound <= out[i - 1].bound))
				return fail(c, bound_key, "bands are not sorted: %s %g does not %s the previous band's %g",
							bound_key, out[i].bound, descending ? "fall below" : "exceed", out[i - 1].bound);
		}
		else
			out[i].open = true;
		path_pop(c, saved);
	}
	*nbands = arr->n;
	*bands = out;
	return true;
}

static bool
compile_grades(Compiler *c, const RgJson *spec, RgModel *m)
{
	static const char *const keys[] = {"by", "bands", NULL};
	const RgJson *g = member(spec, "grades");
	const RgJson *by;
	const RgJson *bands;
	size_t		saved;
	bool		ok;

	if (!expect_object(c, g, "grades", "\"grades\""))
		return false;
	saved = path_push_key(c, "grades");
	if (!check_keys(c, g, keys, "grades"))
		return false;
	by = member(g, "by");
	if (by == NULL)
		return fail(c, "by", "\"by\" is missing: grades are by \"score\" or by \"pd\"");
	if (by->kind != RG_JSON_STRING || (strcmp(by->text, "score") != 0 && strcmp(by->text, "pd") != 0))
		return fail(c, "by", "unrecognized grade basis: expected \"score\" or \"pd\"");
	m->grades_by_pd = (strcmp(by->text, "pd") == 0);
	bands = member(g, "bands");
	if (!expect_array(c, bands, "bands", "\"bands\""))
		return false;
	path_push_key(c, "bands");
	if (m->grades_by_pd)
		ok = compile_bands(c, bands, "grade", "max_pd", false, true, NULL, &m->ngrades, &m->grades);
	else
		ok = compile_bands(c, bands, "grade", "min_score", true, false, NULL, &m->ngrades, &m->grades);
	path_pop(c, saved);
	return ok;
}

static bool
compile_decisions(Compiler *c, const RgJson *spec, RgModel *m)
{
	static const char *const decisions[] = {"approve", "review", "decline", NULL};
	const RgJson *d = member(spec, "decisions");
	size_t		saved;
	bool		ok;

	if (!expect_array(c, d, "decisions", "\"decisions\""))
		return false;
	saved = path_push_key(c, "decisions");
	ok = compile_bands(c, d, "decision", "max_pd", false, true, decisions,
					   &m->ndecisions, &m->decisions);
	path_pop(c, saved);
	return ok;
}

/* ---- features ---- */

typedef enum BinMode
{
	MODE_UNKNOWN,
	MODE_WOE,
	MODE_POINTS
} BinMode;

/*
 * A bin's value: "woe" or "points" (not both), consistent across the model.  Returns
 * the raw number in *value.
 */
static bool
bin_value(Compiler *c, const RgJson *bin, BinMode *mode, double *value)
{
	const RgJson *woe = member(bin, "woe");
	const RgJson *points = member(bin, "points");

	if (woe && points)
		return fail(c, "points", "a bin has \"woe\" or \"points\", not both");
	if (!woe && !points)
		return fail(c, NULL, "a bin needs \"woe\" (with the feature's \"coefficient\") or \"points\"");
	if (*mode == MODE_UNKNOWN)
		*mode = woe ? MODE_WOE : MODE_POINTS;
	if (woe && *mode == MODE_POINTS)
		return fail(c, "woe", "this bin has \"woe\" but earlier bins have \"points\": a scorecard uses one or the other");
	if (points && *mode == MODE_WOE)
		return fail(c, "points", "this bin has \"points\" but earlier bins have \"woe\": a scorecard uses one or the other");
	return get_number(c, bin, woe ? "woe" : "points", woe ? "\"woe\"" : "\"points\"", value);
}

/*
 * The statistics woe_bins and woe_categories write into each bin (and the missing bin).
 * A spec bin may carry them; they are checked to be finite numbers (bad_rate may be
 * null: an empty bin has none) and play no part in scoring.
 */
#define BIN_STATS_KEYS "count", "goods", "bads", "bad_rate", "iv"

static bool
check_bin_stats(Compiler *c, const RgJson *bin)
{
	static const char *const keys[] = {BIN_STATS_KEYS, NULL};

	for (const char *const *k = keys; *k; k++)
	{
		const RgJson *v = member(bin, *k);
		char		what[32];
		double		ignored;

		if (v == NULL || (v->kind == RG_JSON_NULL && strcmp(*k, "bad_rate") == 0))
			continue;
		snprintf(what, sizeof(what), "\"%s\"", *k);
		if (!get_number(c, bin, *k, what, &ignored))
			return false;
	}
	return true;
}

static bool
compile_scorecard_feature(Compiler *c, const RgJson *fj, RgFeature *f, BinMode *mode,
						  double *raw_missing, double **raw_bins)
{
	static const char *const keys[] = {"name", "description", "type", "reason", "coefficient",
	"bins", "missing", NULL};
	static const char *const bin_keys_num[] = {"upper", "woe", "points", BIN_STATS_KEYS, NULL};
	static const char *const bin_keys_cat[] = {"values", "woe", "points", BIN_STATS_KEYS, NULL};
	static const char *const missing_keys[] = {"woe", "points", BIN_STATS_KEYS, NULL};
	const RgJson *type;
	const RgJson *bins;
	const RgJson *missing;
	size_t		saved;
	int			ncategories = 0;

	if (!check_keys(c, fj, keys, "a feature")
		|| !get_label(c, fj, "name", "\"name\"", &f->name)
		|| !optional_string(c, fj, "description"))
		return false;
	type = member(fj, "type");
	if (type == NULL)
		return fail(c, "type", "\"type\" is missing: expected \"numeric\" or \"categorical\"");
	if (type->kind == RG_JSON_STRING && strcmp(type->text, "numeric") == 0)
		f->type = RG_FEATURE_NUMERIC;
	else if (type->kind == RG_JSON_STRING && strcmp(type->text, "categorical") == 0)
		f->type = RG_FEATURE_CATEGORICAL;
	else
		return fail(c, "type", "unrecognized feature type: expected \"numeric\" or \"categorical\"");
	if (!get_label(c, fj, "reason", "\"reason\"", &f->reason))
		return false;

	bins = member(fj, "bins");
	if (!expect_array(c, bins, "bins", "\"bins\""))
		return false;
	if (bins->n > RG_MAX_BINS)
		return fail(c, "bins", "a feature may have at most %d bins, not %d", RG_MAX_BINS, bins->n);
	f->nbins = bins->n;
	f->bins = alloc(c, sizeof(RgBin) * bins->n);
	*raw_bins = alloc(c, sizeof(double) * bins->n);
	saved = path_push_key(c, "bins");
	for (int j = 0; j < bins->n; j++)
	{
		const RgJson *b = bins->items[j];
		RgBin	   *bin = &f->bins[j];
		size_t		saved_bin = path_push_index(c, j);
		size_t		saved_values;
		bool		last = (j == bins->n - 1);

		if (b->kind != RG_JSON_OBJECT)
			return fail(c, NULL, "a bin must be an object, not %s", kind_name(b->kind));
		if (f->type == RG_FEATURE_NUMERIC)
		{
			const RgJson *upper = member(b, "upper");

			if (!check_keys(c, b, bin_keys_num, "a numeric bin")
				|| !check_bin_stats(c, b))
				return false;
			if (upper == NULL || upper->kind == RG_JSON_NULL)
			{
				if (!last)
					return fail(c, "upper", "only the last bin may omit \"upper\"");
				bin->open = true;
			}
			else
			{
				if (last)
					return fail(c, "upper", "the last bin must have no \"upper\", so that every value falls in a bin");
				if (!get_number(c, b, "upper", "\"upper\"", &bin->upper))
					return false;
				bin->upper_text = upper->text;
				if (j > 0 && bin->upper <= f->bins[j - 1].upper)
					return fail(c, "upper", "bins overlap or are not sorted: upper bound %g is not above the previous bin's %g",
								bin->upper, f->bins[j - 1].upper);
			}
		}
		else
		{
			const RgJson *values = member(b, "values");

			if (!check_keys(c, b, bin_keys_cat, "a categorical bin")
				|| !check_bin_stats(c, b)
				|| !expect_array(c, values, "values", "\"values\""))
				return false;
			ncategories += values->n;
			if (ncategories > RG_MAX_CATEGORIES)
				return fail(c, "values", "a feature may list at most %d categories", RG_MAX_CATEGORIES);
			bin->nvalues = values->n;
			bin->values = alloc(c, sizeof(char *) * values->n);
			saved_values = path_push_key(c, "values");
			for (int k = 0; k < values->n; k++)
			{
				const RgJson *v = values->items[k];
				size_t		saved_v = path_push_index(c, k);

				if (v->kind != RG_JSON_STRING)
					return fail(c, NULL, "a category must be a string, not %s", kind_name(v->kind));
				/* a value in two bins (or twice in one) would make the bins overlap */
				for (int jj = 0; jj <= j; jj++)
					for (int kk = 0; kk < (jj == j ? k : f->bins[jj].nvalues); kk++)
						if (strcmp(f->bins[jj].values[kk], v->text) == 0)
							return fail(c, NULL, "bins overlap: category \"%s\" is already in bin %d",
										v->text, jj);
				bin->values[k] = v->text;
				path_pop(c, saved_v);
			}
			path_pop(c, saved_values);
		}
		if (!bin_value(c, b, mode, &(*raw_bins)[j]))
			return false;
		path_pop(c, saved_bin);
	}
	path_pop(c, saved);

	missing = member(fj, "missing");
	if (!expect_object(c, missing, "missing", "the \"missing\" bin"))
		return false;
	saved = path_push_key(c, "missing");
	if (!check_keys(c, missing, missing_keys, "the missing bin")
		|| !check_bin_stats(c, missing)
		|| !bin_value(c, missing, mode, raw_missing))
		return false;
	path_pop(c, saved);

	if (*mode == MODE_WOE)
	{
		if (!get_number(c, fj, "coefficient", "\"coefficient\" (bins carry \"woe\")", &f->coefficient))
			return false;
	}
	else if (member(fj, "coefficient") != NULL)
		return fail(c, "coefficient", "\"coefficient\" applies to bins with \"woe\"; these bins carry \"points\"");
	return true;
}

static bool
compile_logistic_feature(Compiler *c, const RgJson *fj, RgFeature *f)
{
	static const char *const keys[] = {"name", "description", "type", "reason", "coefficient",
	"missing", "best", NULL};
	const RgJson *type;
	const RgJson *v;

	if (!check_keys(c, fj, keys, "a feature")
		|| !get_label(c, fj, "name", "\"name\"", &f->name)
		|| !optional_string(c, fj, "description")
		|| !get_label(c, fj, "reason", "\"reason\"", &f->reason)
		|| !get_number(c, fj, "coefficient", "\"coefficient\"", &f->coefficient))
		return false;
	type = member(fj, "type");
	if (type != NULL && !(type->kind == RG_JSON_STRING && strcmp(type->text, "numeric") == 0))
		return fail(c, "type", "a logistic model's features are numeric");
	f->type = RG_FEATURE_NUMERIC;
	v = member(fj, "missing");
	if (v != NULL && v->kind != RG_JSON_NULL)
	{
		if (!get_number(c, fj, "missing", "\"missing\"", &f->missing_value))
			return false;
		f->has_missing_value = true;
	}
	v = member(fj, "best");
	if (v != NULL && v->kind != RG_JSON_NULL)
	{
		if (!get_number(c, fj, "best", "\"best\"", &f->best_value))
			return false;
		f->has_best = true;
	}
	return true;
}

static bool
compile_features(Compiler *c, const RgJson *spec, RgModel *m)
{
	const RgJson *fs = member(spec, "features");
	BinMode		mode = MODE_UNKNOWN;
	double	   *raw_missing;
	double	  **raw_bins;
	size_t		saved;
	int			n;

	if (!expect_array(c, fs, "features", "\"features\""))
		return false;
	if (fs->n > RG_MAX_FEATURES)
		return fail(c, "features", "a model may have at most %d features, not %d", RG_MAX_FEATURES, fs->n);
	n = fs->n;
	m->nfeatures = n;
	m->features = alloc(c, sizeof(RgFeature) * n);
	raw_missing = alloc(c, sizeof(double) * n);
	raw_bins = alloc(c, sizeof(double *) * n);
	saved = path_push_key(c, "features");
	for (int i = 0; i < n; i++)
	{
		const RgJson *fj = fs->items[i];
		RgFeature  *f = &m->features[i];
		size_t		saved_f = path_push_index(c, i);

		if (fj->kind != RG_JSON_OBJECT)
			return fail(c, NULL, "a feature must be an object, not %s", kind_name(fj->kind));
		if (m->kind == RG_MODEL_SCORECARD)
		{
			if (!compile_scorecard_feature(c, fj, f, &mode, &raw_missing[i], &raw_bins[i]))
				return false;
		}
		else if (!compile_logistic_feature(c, fj, f))
			return false;
		for (int k = 0; k < i; k++)
			if (strcmp(m->features[k].name, f->name) == 0)
				return fail(c, "name", "duplicate feature \"%s\" (also feature %d)", f->name, k);
		path_pop(c, saved_f);
	}
	path_pop(c, saved);

	/* the intercept: logistic models, and scorecards whose bins carry woe */
	if (m->kind == RG_MODEL_LOGISTIC || mode == MODE_WOE)
	{
		if (!get_number(c, spec, "intercept", "\"intercept\"", &m->intercept))
			return false;
	}
	else if (member(spec, "intercept") != NULL)
		return fail(c, "intercept", "\"intercept\" applies to bins with \"woe\"; these bins carry \"points\"");

	/* points of every bin, following the conventions in model_spec.h */
	if (m->kind == RG_MODEL_SCORECARD)
	{
		for (int i = 0; i < n; i++)
		{
			RgFeature  *f = &m->features[i];

			if (mode == MODE_WOE)
			{
				double		share = m->intercept / n;
				double		off = m->offset / n;

				for (int j = 0; j < f->nbins; j++)
					f->bins[j].points = -(f->coefficient * raw_bins[i][j] + share) * m->factor + off;
				f->missing_points = -(f->coefficient * raw_missing[i] + share) * m->factor + off;
			}
			else
			{
				for (int j = 0; j < f->nbins; j++)
					f->bins[j].points = raw_bins[i][j];
				f->missing_points = raw_missing[i];
			}
			f->best_points = f->missing_points;
			for (int j = 0; j < f->nbins; j++)
				if (f->bins[j].points > f->best_points)
					f->best_points = f->bins[j].points;
		}
	}
	return true;
}

RgModel *
rg_model_compile(const RgJson *spec, RgAllocFn allocfn, void *alloc_ctx, RgSpecError *err)
{
	static const char *const keys[] = {"kind", "description", "scaling", "intercept",
	"features", "grades", "decisions", NULL};
	Compiler	c;
	RgModel    *m;
	const RgJson *kind;

	memset(&c, 0, sizeof(c));
	c.alloc = allocfn;
	c.alloc_ctx = alloc_ctx;
	c.err = err;
	strcpy(c.path, "$");
	c.pathlen = 1;
	memset(err, 0, sizeof(*err));

	if (spec->kind != RG_JSON_OBJECT)
	{
		fail(&c, NULL, "a model spec must be an object, not %s", kind_name(spec->kind));
		return NULL;
	}
	m = alloc(&c, sizeof(RgModel));
	kind = member(spec, "kind");
	if (kind == NULL)
	{
		fail(&c, "kind", "\"kind\" is missing: expected \"scorecard\" or \"logistic\"");
		return NULL;
	}
	if (kind->kind == RG_JSON_STRING && strcmp(kind->text, "scorecard") == 0)
		m->kind = RG_MODEL_SCORECARD;
	else if (kind->kind == RG_JSON_STRING && strcmp(kind->text, "logistic") == 0)
		m->kind = RG_MODEL_LOGISTIC;
	else
	{
		fail(&c, "kind", "unrecognized model kind: expected \"scorecard\" or \"logistic\"");
		return NULL;
	}
	if (!check_keys(&c, spec, keys, "a model spec")
		|| !optional_string(&c, spec, "description")
		|| !compile_scaling(&c, spec, m)
		|| !compile_features(&c, spec, m)
		|| !compile_grades(&c, spec, m)
		|| !compile_decisions(&c, spec, m))
		return NULL;
	return m;
}

const char *
rg_model_kind_name(RgModelKind kind)
{
	return kind == RG_MODEL_SCORECARD ? "scorecard" : "logistic";
}
