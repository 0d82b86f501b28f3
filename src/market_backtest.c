/*
 * market_backtest.c
 *		SQL glue of the VaR backtests: Kupiec's proportion of failures, Christoffersen's
 *		independence and conditional coverage (an aggregate over exception flags in time
 *		order) and the Basel traffic light.  The statistics are in market_core.c.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "market.h"
#include "market_core.h"
#include "normal.h"
#include "riskguard.h"

/* 22023 unless 0 <= exceptions <= observations and observations > 0 */
static void
check_counts(int32 exceptions, int32 observations, const char *fname)
{
	if (exceptions < 0 || observations < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("negative count for \"%s\": %d exceptions in %d observations",
						fname, exceptions, observations),
				 errdetail("Exceptions and observations are counts of days.")));
	if (observations == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" needs at least one observation", fname)));
	if (exceptions > observations)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("exceptions exceed observations for \"%s\": %d exceptions in %d observations",
						fname, exceptions, observations),
				 errdetail("Each observation can produce at most one exception.")));
}

PG_FUNCTION_INFO_V1(rg_market_kupiec_pof);

/* kupiec_pof(exceptions, observations, confidence): (lr, p_value), chi-square 1 df */
Datum
rg_market_kupiec_pof(PG_FUNCTION_ARGS)
{
	int32		x = PG_GETARG_INT32(0);
	int32		n = PG_GETARG_INT32(1);
	double		confidence = PG_GETARG_FLOAT8(2);
	double		lr;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	check_counts(x, n, "kupiec_pof");
	market_check_unit(confidence, "confidence", "kupiec_pof");
	lr = market_result(fcinfo, mc_kupiec_lr(x, n, confidence));
	values[0] = Float8GetDatum(lr);
	values[1] = Float8GetDatum(rg_chisq_sf(lr, 1));
	PG_RETURN_DATUM(rg_result_tuple(fcinfo, values, nulls));
}

PG_FUNCTION_INFO_V1(rg_market_traffic_light);

/* traffic_light(exceptions, observations, confidence): (zone, plus_factor, cumulative) */
Datum
rg_market_traffic_light(PG_FUNCTION_ARGS)
{
	int32		x = PG_GETARG_INT32(0);
	int32		n = PG_GETARG_INT32(1);
	double		confidence = PG_GETARG_FLOAT8(2);
	double		plus,
				cum;
	McZone		zone;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	check_counts(x, n, "traffic_light");
	market_check_unit(confidence, "confidence", "traffic_light");
	zone = mc_traffic_light(x, n, confidence, &plus, &cum);
	values[0] = CStringGetTextDatum(zone == MC_GREEN ? "green" : zone == MC_YELLOW ? "yellow" : "red");
	values[1] = Float8GetDatum(plus);
	values[2] = Float8GetDatum(cum);
	PG_RETURN_DATUM(rg_result_tuple(fcinfo, values, nulls));
}

/*
 * christoffersen state: n, previous flag, n00, n01, n10, n11, exceptions, confidence.
 * Rows must come in time order (ORDER BY t in the call); NULL flags are skipped.
 */
#define CH_LEN 8

PG_FUNCTION_INFO_V1(rg_market_christoffersen_trans);

/* transition of christoffersen: count the day and the transition from the day before */
Datum
rg_market_christoffersen_trans(PG_FUNCTION_ARGS)
{
	ArrayType  *arr;
	double	   *s;
	bool		exc;

	if (PG_ARGISNULL(0))
		elog(ERROR, "christoffersen state is null");
	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "christoffersen transition called in non-aggregate context");
	arr = PG_GETARG_ARRAYTYPE_P(0);
	if (PG_ARGISNULL(1))
		PG_RETURN_ARRAYTYPE_P(arr);
	if (ARR_NDIM(arr) != 1 || ARR_DIMS(arr)[0] != CH_LEN || ARR_HASNULL(arr) ||
		ARR_ELEMTYPE(arr) != FLOAT8OID)
		elog(ERROR, "expected a float8[] state of %d elements", CH_LEN);
	s = (double *) ARR_DATA_PTR(arr);
	MARKET_ROW_CONFIDENCE(fcinfo, 2, s[0] > 0.0, &s[7], "confidence");
	exc = PG_GETARG_BOOL(1);
	if (s[0] > 0.0)
		s[2 + (s[1] != 0.0 ? 2 : 0) + (exc ? 1 : 0)] += 1.0;
	s[1] = exc ? 1.0 : 0.0;
	if (exc)
		s[6] += 1.0;
	s[0] += 1.0;
	PG_RETURN_ARRAYTYPE_P(arr);
}

PG_FUNCTION_INFO_V1(rg_market_christoffersen_final);

/* final of christoffersen: (lr_ind, p_ind, lr_cc, p_cc) */
Datum
rg_market_christoffersen_final(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);
	double	   *s;
	double		lr_ind,
				lr_cc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	if (ARR_NDIM(arr) != 1 || ARR_DIMS(arr)[0] != CH_LEN || ARR_HASNULL(arr))
		elog(ERROR, "expected a float8[] state of %d elements", CH_LEN);
	s = (double *) ARR_DATA_PTR(arr);
	if (s[0] == 0.0)
		PG_RETURN_NULL();
	lr_ind = mc_christoffersen_lr_ind(s[2], s[3], s[4], s[5]);
	lr_cc = mc_kupiec_lr((int64_t) s[6], (int64_t) s[0], s[7]) + lr_ind;
	values[0] = Float8GetDatum(lr_ind);
	values[1] = Float8GetDatum(rg_chisq_sf(lr_ind, 1));
	values[2] = Float8GetDatum(lr_cc);
	values[3] = Float8GetDatum(rg_chisq_sf(lr_cc, 2));
	PG_RETURN_DATUM(rg_result_tuple(fcinfo, values, nulls));
}
