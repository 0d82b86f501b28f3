/*
 * scoring_core.c
 *		The arithmetic of scoring a compiled credit model: points, score, PD, grade,
 *		decision and reason codes.  Pure C, no postgres.h.
 *
 * The score is the sum of the features' points (unrounded; the int score rounds it half
 * away from zero).  PD comes from the unrounded score through the scaling:
 * ln(odds good:bad) = (points - offset) / factor, PD = 1 / (1 + exp(that)).  For woe
 * scorecards and logistic models that is exactly 1 / (1 + exp(-logit)).
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "model_spec.h"

int
rg_categorical_bin(const RgFeature *f, const char *value, size_t len)
{
	for (int j = 0; j < f->nbins; j++)
		for (int k = 0; k < f->bins[j].nvalues; k++)
		{
			const char *v = f->bins[j].values[k];

			if (strncmp(v, value, len) == 0 && v[len] == '\0')
				return j;
		}
	return -1;
}

int
rg_numeric_bin(const RgFeature *f, double value)
{
	int			lo = 0,
				hi = f->nbins - 1;

	if (isnan(value))
		return -1;
	/* the first bin whose upper bound exceeds value; the last bin is open */
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (value < f->bins[mid].upper)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* a feature's points and the points it lost against its best */
static void
feature_points(const RgModel *m, const RgFeature *f, const RgFeatureInput *in,
			   double *points, double *loss)
{
	if (m->kind == RG_MODEL_SCORECARD)
	{
		if (in->missing || in->bin < 0)
			*points = f->missing_points;
		else
			*points = f->bins[in->bin].points;
		*loss = f->best_points - *points;
	}
	else
	{
		double		x = in->missing ? f->missing_value : in->value;
		int			n = m->nfeatures;

		*points = -(f->coefficient * x + m->intercept / n) * m->factor + m->offset / n;
		if (f->has_best)
			*loss = m->factor * f->coefficient * (x - f->best_value);
		else
			*loss = 0;
	}
}

RgScoreStatus
rg_model_score(const RgModel *m, const RgFeatureInput *in, RgScoreResult *out)
{
	double		total = 0;
	double		losses[RG_MAX_REASONS];
	double		rounded;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < m->nfeatures; i++)
	{
		const RgFeature *f = &m->features[i];
		double		points,
					loss;
		int			pos;

		if (m->kind == RG_MODEL_LOGISTIC && in[i].missing && !f->has_missing_value)
		{
			out->bad_feature = i;
			return RG_SCORE_MISSING_VALUE;
		}
		feature_points(m, f, &in[i], &points, &loss);
		total += points;

		/* keep the RG_MAX_REASONS largest losses, largest first, earlier feature on ties */
		if (!(loss > 0))
			continue;
		pos = out->nreasons;
		while (pos > 0 && losses[pos - 1] < loss)
			pos--;
		if (pos >= RG_MAX_REASONS)
			continue;
		for (int k = (out->nreasons < RG_MAX_REASONS ? out->nreasons : RG_MAX_REASONS - 1); k > pos; k--)
		{
			losses[k] = losses[k - 1];
			out->reasons[k] = out->reasons[k - 1];
		}
		losses[pos] = loss;
		out->reasons[pos] = f->reason;
		if (out->nreasons < RG_MAX_REASONS)
			out->nreasons++;
	}

	out->points = total;
	rounded = round(total);
	if (!(rounded >= INT_MIN && rounded <= INT_MAX))
		return RG_SCORE_OUT_OF_RANGE;
	out->score = (int) rounded;
	out->pd = 1.0 / (1.0 + exp((total - m->offset) / m->factor));

	for (int g = 0; g < m->ngrades; g++)
	{
		const RgBand *b = &m->grades[g];

		if (b->open || (m->grades_by_pd ? out->pd <= b->bound : out->score >= b->bound))
		{
			out->grade = b->label;
			break;
		}
	}
	for (int d = 0; d < m->ndecisions; d++)
	{
		const RgBand *b = &m->decisions[d];

		if (b->open || out->pd <= b->bound)
		{
			out->decision = b->label;
			break;
		}
	}
	return RG_SCORE_OK;
}
