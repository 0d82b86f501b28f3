/*
 * credit_stats_pricing.c
 *		SQL wrappers for the normal distribution, population stability, expected loss,
 *		Basel IRB capital and risk-based pricing.  The formulas are in
 *		credit_stats_core.c and normal.c.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "credit_stats.h"
#include "credit_stats_core.h"
#include "normal.h"

void
rg_check_probability(double x, const char *what)
{
	if (isnan(x) || x < 0.0 || x > 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" must be between 0 and 1", what),
				 errdetail("The value given is %s.", float8out_internal(x))));
}

void
rg_check_finite(double x, const char *what)
{
	if (!isfinite(x))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" must be a finite number", what),
				 errdetail("The value given is %s.", float8out_internal(x))));
}

PG_FUNCTION_INFO_V1(rg_normal_cdf);

/* riskguard.normal_cdf(x): P(Z <= x) for a standard normal Z */
Datum
rg_normal_cdf(PG_FUNCTION_ARGS)
{
	double		x = PG_GETARG_FLOAT8(0);

	if (isnan(x))
		rg_check_finite(x, "x");
	PG_RETURN_FLOAT8(rg_norm_cdf(x));
}

PG_FUNCTION_INFO_V1(rg_normal_quantile);

/* riskguard.normal_quantile(p): the x with P(Z <= x) = p; 0 and 1 give -/+Infinity */
Datum
rg_normal_quantile(PG_FUNCTION_ARGS)
{
	double		p = PG_GETARG_FLOAT8(0);

	rg_check_probability(p, "p");
	PG_RETURN_FLOAT8(rg_norm_quantile(p));
}

PG_FUNCTION_INFO_V1(rg_chisq_pvalue);

/* riskguard.chisq_sf(x, df): P(X > x) for a chi-square X with df degrees of freedom */
Datum
rg_chisq_pvalue(PG_FUNCTION_ARGS)
{
	double		x = PG_GETARG_FLOAT8(0);
	double		df = PG_GETARG_FLOAT8(1);

	if (isnan(x))
		rg_check_finite(x, "x");
	rg_check_finite(df, "df");
	if (df <= 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"df\" must be positive"),
				 errdetail("The value given is %s.", float8out_internal(df))));
	PG_RETURN_FLOAT8(rg_chisq_sf(x, df));
}

/* the float8 elements of a one-dimensional array without NULLs, checked */
static double *
count_vector(ArrayType *arr, const char *what, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	double	   *out;
	int			i;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" must be a one-dimensional array", what)));
	deconstruct_array(arr, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, n);
	out = palloc(sizeof(double) * (*n + 1));
	for (i = 0; i < *n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"%s\" must not contain NULL counts", what),
					 errdetail("Element %d is NULL.", i + 1)));
		out[i] = DatumGetFloat8(elems[i]);
		if (!isfinite(out[i]) || out[i] < 0.0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"%s\" must hold finite non-negative counts", what),
					 errdetail("Element %d is %s.", i + 1, float8out_internal(out[i]))));
	}
	return out;
}

PG_FUNCTION_INFO_V1(rg_psi_sql);

/* riskguard.psi(expected, actual): population stability index of two count vectors */
Datum
rg_psi_sql(PG_FUNCTION_ARGS)
{
	ArrayType  *ea = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *aa = PG_GETARG_ARRAYTYPE_P(1);
	int			ne;
	int			na;
	double	   *e = count_vector(ea, "expected", &ne);
	double	   *a = count_vector(aa, "actual", &na);
	double		se = 0.0;
	double		sa = 0.0;
	int			i;

	if (ne != na)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"expected\" and \"actual\" must have the same number of bins"),
				 errdetail("\"expected\" has %d bins and \"actual\" has %d.", ne, na)));
	if (ne < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("population stability needs at least 2 bins"),
				 errdetail("%d bins were given.", ne)));
	for (i = 0; i < ne; i++)
	{
		se += e[i];
		sa += a[i];
	}
	if (se <= 0.0 || sa <= 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("population stability needs a positive total count in each distribution"),
				 errdetail("\"expected\" totals %s and \"actual\" totals %s.",
						   float8out_internal(se), float8out_internal(sa))));
	PG_RETURN_FLOAT8(rg_psi(e, a, ne));
}

PG_FUNCTION_INFO_V1(rg_psi_verdict);

/* riskguard.psi_verdict(psi): stable below 0.1, investigate below 0.25, else shifted */
Datum
rg_psi_verdict(PG_FUNCTION_ARGS)
{
	double		psi = PG_GETARG_FLOAT8(0);
	const char *v;

	if (isnan(psi) || psi < 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"psi\" must be a non-negative number"),
				 errdetail("The value given is %s.", float8out_internal(psi))));
	v = psi < 0.1 ? "stable" : psi < 0.25 ? "investigate" : "shifted";
	PG_RETURN_TEXT_P(cstring_to_text(v));
}

PG_FUNCTION_INFO_V1(rg_expected_loss);

/* riskguard.expected_loss(pd, lgd, ead) = pd * lgd * ead */
Datum
rg_expected_loss(PG_FUNCTION_ARGS)
{
	double		pd = PG_GETARG_FLOAT8(0);
	double		lgd = PG_GETARG_FLOAT8(1);
	double		ead = PG_GETARG_FLOAT8(2);

	rg_check_probability(pd, "pd");
	rg_check_probability(lgd, "lgd");
	rg_check_finite(ead, "ead");
	if (ead < 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"ead\" must not be negative"),
				 errdetail("The value given is %s.", float8out_internal(ead))));
	PG_RETURN_FLOAT8(pd * lgd * ead);
}

/* the asset class argument, checked */
static RgAssetClass
asset_class_arg(text *t)
{
	char	   *name = text_to_cstring(t);
	RgAssetClass ac = rg_asset_class(name);

	if (ac == RG_AC_UNKNOWN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unrecognized asset class: \"%s\"", name),
				 errhint("Use corporate, residential_mortgage, qualifying_revolving or other_retail.")));
	return ac;
}

static double
irb_k(FunctionCallInfo fcinfo, int pd_arg, int lgd_arg, int class_arg, int maturity_arg)
{
	double		pd = PG_GETARG_FLOAT8(pd_arg);
	double		lgd = PG_GETARG_FLOAT8(lgd_arg);
	double		maturity = PG_GETARG_FLOAT8(maturity_arg);
	RgAssetClass ac;

	rg_check_probability(pd, "pd");
	rg_check_probability(lgd, "lgd");
	ac = asset_class_arg(PG_GETARG_TEXT_PP(class_arg));
	rg_check_finite(maturity, "maturity");
	if (maturity <= 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"maturity\" must be positive"),
				 errdetail("The value given is %s years.", float8out_internal(maturity))));
	return rg_irb_capital(pd, lgd, ac, maturity);
}

PG_FUNCTION_INFO_V1(rg_irb_capital_sql);

/* riskguard.irb_capital(pd, lgd, asset_class, maturity): K per unit of exposure */
Datum
rg_irb_capital_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(irb_k(fcinfo, 0, 1, 2, 3));
}

PG_FUNCTION_INFO_V1(rg_irb_rwa_sql);

/* riskguard.irb_rwa(pd, lgd, ead, asset_class, maturity) = K * 12.5 * ead */
Datum
rg_irb_rwa_sql(PG_FUNCTION_ARGS)
{
	double		ead = PG_GETARG_FLOAT8(2);
	double		k = irb_k(fcinfo, 0, 1, 3, 4);

	rg_check_finite(ead, "ead");
	if (ead < 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"ead\" must not be negative"),
				 errdetail("The value given is %s.", float8out_internal(ead))));
	PG_RETURN_FLOAT8(k * 12.5 * ead);
}

PG_FUNCTION_INFO_V1(rg_risk_based_rate_sql);

/*
 * riskguard.risk_based_rate(pd, lgd, funding_rate, operating_cost_rate, capital_ratio,
 * hurdle_rate): the break-even rate, see rg_risk_based_rate.
 */
Datum
rg_risk_based_rate_sql(PG_FUNCTION_ARGS)
{
	double		pd = PG_GETARG_FLOAT8(0);
	double		lgd = PG_GETARG_FLOAT8(1);
	double		funding = PG_GETARG_FLOAT8(2);
	double		opcost = PG_GETARG_FLOAT8(3);
	double		capital = PG_GETARG_FLOAT8(4);
	double		hurdle = PG_GETARG_FLOAT8(5);

	rg_check_probability(pd, "pd");
	rg_check_probability(lgd, "lgd");
	rg_check_finite(funding, "funding_rate");
	rg_check_finite(opcost, "operating_cost_rate");
	rg_check_probability(capital, "capital_ratio");
	rg_check_finite(hurdle, "hurdle_rate");
	if (pd >= 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no rate covers a loan with \"pd\" 1"),
				 errdetail("Every borrower defaults, so no interest is ever paid.")));
	PG_RETURN_FLOAT8(rg_risk_based_rate(pd, lgd, funding, opcost, capital, hurdle));
}
