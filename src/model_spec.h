/*
 * model_spec.h
 *		Credit model specifications: a small JSON tree, the compiler that validates a
 *		spec and turns it into a model ready to score, and the scoring arithmetic.
 *
 * Pure C (no postgres.h): the fmgr glue in scoring.c converts jsonb into an RgJson
 * tree, hands it to rg_model_compile with an allocator, and maps feature values to
 * bins before calling rg_model_score.  Errors are returned, never raised, with the
 * JSON path of the fault ("$.features[2].bins[1].upper").
 *
 * Conventions (fixed by the project): the event is default ("bad"); a model predicts
 * logit P(bad) = b0 + sum(b_i x_i); factor = pdo / ln 2, offset = base_score -
 * factor * ln(base_odds); a feature's points are -(b_i x_i + b0/n) * factor + offset/n
 * with n features, and the score is the sum of the points, so that
 * score = offset + factor * ln(odds good:bad).
 */
#ifndef MODEL_SPEC_H
#define MODEL_SPEC_H

#include <stdbool.h>
#include <stddef.h>

/* ---- a JSON tree, as the glue builds it from jsonb ---- */

typedef enum RgJsonKind
{
	RG_JSON_NULL,
	RG_JSON_BOOL,
	RG_JSON_NUMBER,
	RG_JSON_STRING,
	RG_JSON_ARRAY,
	RG_JSON_OBJECT
} RgJsonKind;

typedef struct RgJson
{
	RgJsonKind	kind;
	bool		boolean;
	double		number;			/* RG_JSON_NUMBER: its value as a double */
	const char *text;			/* RG_JSON_NUMBER: its decimal text; RG_JSON_STRING: the string */
	int			n;				/* elements or members */
	const char **keys;			/* RG_JSON_OBJECT: member names */
	struct RgJson **items;		/* elements, or member values */
} RgJson;

/* ---- the compiled model ---- */

typedef enum RgModelKind
{
	RG_MODEL_SCORECARD,
	RG_MODEL_LOGISTIC
} RgModelKind;

typedef enum RgFeatureType
{
	RG_FEATURE_NUMERIC,
	RG_FEATURE_CATEGORICAL
} RgFeatureType;

/* one bin of a scorecard feature */
typedef struct RgBin
{
	bool		open;			/* numeric: no upper bound (the last bin) */
	double		upper;			/* numeric: values below this fall here */
	const char *upper_text;		/* numeric: the bound's decimal text, for exact compares */
	int			nvalues;		/* categorical: the values of this bin */
	const char **values;
	double		points;
} RgBin;

typedef struct RgFeature
{
	const char *name;
	const char *reason;			/* reason code */
	RgFeatureType type;
	/* scorecard */
	int			nbins;
	RgBin	   *bins;
	double		missing_points; /* the missing bin */
	double		best_points;	/* the most points any bin (missing bin included) gives */
	/* logistic */
	double		coefficient;
	bool		has_missing_value;
	double		missing_value;	/* value used when the feature is missing */
	bool		has_best;
	double		best_value;		/* reasons are measured against this value */
} RgFeature;

/* a band of grades or decisions; the last band is open */
typedef struct RgBand
{
	const char *label;
	bool		open;
	double		bound;			/* grades by score: min_score; by pd and decisions: max_pd */
} RgBand;

typedef struct RgModel
{
	RgModelKind kind;
	int			nfeatures;
	RgFeature  *features;
	double		factor;
	double		offset;
	double		intercept;
	bool		grades_by_pd;
	int			ngrades;
	RgBand	   *grades;
	int			ndecisions;
	RgBand	   *decisions;
} RgModel;

/* allocator: must return zeroed memory, or not return (the glue's palloc0 errors out) */
typedef void *(*RgAllocFn) (void *ctx, size_t size);

#define RG_SPEC_PATH_LEN 256
#define RG_SPEC_MESSAGE_LEN 256

typedef struct RgSpecError
{
	char		path[RG_SPEC_PATH_LEN];
	char		message[RG_SPEC_MESSAGE_LEN];
} RgSpecError;

#define RG_MAX_FEATURES 1000
#define RG_MAX_BINS 1000
#define RG_MAX_CATEGORIES 10000	/* values listed by one categorical feature */
#define RG_MAX_REASONS 4
#define RG_MAX_LABEL 63

/*
 * rg_model_compile: validate spec and compile it.  Returns the model (allocated with
 * alloc) or NULL with err filled in.
 */
extern RgModel *rg_model_compile(const RgJson *spec, RgAllocFn alloc, void *alloc_ctx,
								 RgSpecError *err);

/* the kind's name as stored: "scorecard" or "logistic" */
extern const char *rg_model_kind_name(RgModelKind kind);

/* ---- scoring ---- */

/* Input of one feature: for scorecards a bin index (-1: missing bin); for logistic a value. */
typedef struct RgFeatureInput
{
	bool		missing;
	int			bin;
	double		value;
} RgFeatureInput;

typedef enum RgScoreStatus
{
	RG_SCORE_OK,
	RG_SCORE_MISSING_VALUE,		/* logistic feature missing and no value for missing */
	RG_SCORE_OUT_OF_RANGE		/* the score does not fit an int */
} RgScoreStatus;

typedef struct RgScoreResult
{
	double		points;			/* unrounded score */
	int			score;
	double		pd;
	const char *grade;
	const char *decision;
	int			nreasons;
	const char *reasons[RG_MAX_REASONS];
	int			bad_feature;	/* for RG_SCORE_MISSING_VALUE */
} RgScoreResult;

extern RgScoreStatus rg_model_score(const RgModel *model, const RgFeatureInput *in,
									RgScoreResult *out);

/* index of the categorical bin holding value (length len), or -1 */
extern int	rg_categorical_bin(const RgFeature *f, const char *value, size_t len);

/* index of the numeric bin holding value, or -1 for NaN (compare as doubles) */
extern int	rg_numeric_bin(const RgFeature *f, double value);

#endif							/* MODEL_SPEC_H */
