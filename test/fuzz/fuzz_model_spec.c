/*
 * fuzz_model_spec.c
 *		Credit model specifications (src/model_spec.c, src/scoring_core.c) from hostile
 *		JSON: the input up to its first NUL byte is the spec's text, parsed by json_tree.c
 *		into the tree the server builds from jsonb; what follows drives the scoring of a
 *		spec that compiles.  Invariants: a rejected spec names a path and a message that
 *		fit their buffers; binning returns a valid bin; a score has a PD in [0, 1], a
 *		grade and decision when the model has bands, and at most four reasons.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_input.h"
#include "json_tree.h"
#include "model_spec.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t		speclen = nul ? (size_t) (nul - data) : size;
	FuzzInput	in = {nul ? nul + 1 : data + size, nul ? size - speclen - 1 : 0};
	JsonArena  *arena = json_arena_new();
	RgJson	   *tree = json_parse(arena, (const char *) data, speclen);
	RgSpecError err;
	RgModel    *model;

	if (tree == NULL)
		goto done;
	memset(&err, 0, sizeof(err));
	model = rg_model_compile(tree, json_arena_alloc, arena, &err);
	if (model == NULL)
	{
		FUZZ_CHECK(memchr(err.path, 0, sizeof(err.path)) != NULL);
		FUZZ_CHECK(memchr(err.message, 0, sizeof(err.message)) != NULL);
		FUZZ_CHECK(err.message[0] != '\0');
		goto done;
	}
	FUZZ_CHECK(model->nfeatures >= 1 && model->nfeatures <= RG_MAX_FEATURES);
	FUZZ_CHECK(rg_model_kind_name(model->kind) != NULL);

	/* score a few applicants */
	for (int round = 0; round < 4; round++)
	{
		RgFeatureInput *fin = json_arena_alloc(arena, sizeof(RgFeatureInput) * model->nfeatures);
		RgScoreResult res;
		RgScoreStatus st;

		for (int i = 0; i < model->nfeatures; i++)
		{
			const RgFeature *f = &model->features[i];
			uint8_t		how = fuzz_u8(&in);

			fin[i].missing = (how & 3) == 0;
			if (fin[i].missing)
				fin[i].bin = -1;
			else if (model->kind == RG_MODEL_LOGISTIC)
				fin[i].value = (how & 4) ? fuzz_double(&in) : fuzz_finite(&in);
			else if (f->type == RG_FEATURE_NUMERIC)
			{
				double		v = (how & 4) ? fuzz_double(&in) : fuzz_finite(&in);

				fin[i].bin = rg_numeric_bin(f, v);
				FUZZ_CHECK(isnan(v) ? fin[i].bin == -1
						   : (fin[i].bin >= 0 && fin[i].bin < f->nbins));
			}
			else
			{
				size_t		len;
				const uint8_t *s = fuzz_bytes(&in, &len);
				char	   *value = json_arena_alloc(arena, len + 1);

				/* sometimes one of the spec's own categories */
				if ((how & 4) && f->nbins > 0 && f->bins[0].nvalues > 0)
				{
					const char *v = f->bins[how % f->nbins].values[0];

					if (v == NULL)
						v = "";
					value = (char *) v;
					len = strlen(v);
				}
				else
					memcpy(value, s, len);
				fin[i].bin = rg_categorical_bin(f, value, len);
				FUZZ_CHECK(fin[i].bin >= -1 && fin[i].bin < f->nbins);
			}
		}
		memset(&res, 0, sizeof(res));
		st = rg_model_score(model, fin, &res);
		if (st == RG_SCORE_MISSING_VALUE)
		{
			FUZZ_CHECK(res.bad_feature >= 0 && res.bad_feature < model->nfeatures);
			FUZZ_CHECK(fin[res.bad_feature].missing);
			continue;
		}
		if (st != RG_SCORE_OK)
			continue;
		FUZZ_CHECK(isnan(res.pd) || (res.pd >= 0.0 && res.pd <= 1.0));
		FUZZ_CHECK(res.nreasons >= 0 && res.nreasons <= RG_MAX_REASONS &&
				   res.nreasons <= model->nfeatures);
		for (int r = 0; r < res.nreasons; r++)
			FUZZ_CHECK(res.reasons[r] != NULL);
		FUZZ_CHECK(model->ngrades == 0 || isnan(res.pd) || res.grade != NULL);
		FUZZ_CHECK(model->ndecisions == 0 || isnan(res.pd) || res.decision != NULL);
	}
done:
	json_arena_free(arena);
	return 0;
}
