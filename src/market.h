/*
 * market.h
 *		Argument checks shared by the market-risk SQL functions (market.c,
 *		market_backtest.c).
 */
#ifndef MARKET_H
#define MARKET_H

#include "postgres.h"
#include "fmgr.h"

#include <math.h>

/* The name of the aggregate or function being evaluated, for messages. */
extern const char *market_fname(FunctionCallInfo fcinfo, const char *fallback);

/* 22023 unless 0 < v < 1; what names the argument ("confidence", "lambda"). */
extern void market_check_unit(double v, const char *what, const char *fname);

/* 22023 naming a NaN or infinite value; what is "return", "price", ... */
extern void market_not_finite(double x, const char *what, const char *fname) pg_attribute_noreturn();

/* market_not_finite when x is not finite; fname is evaluated only then */
#define MARKET_CHECK_FINITE(x, what, fname) \
	do { \
		if (unlikely(!isfinite(x))) \
			market_not_finite((x), (what), (fname)); \
	} while (0)

/*
 * A per-row argument that must stay constant (confidence, lambda): 22004 when NULL;
 * on the first row (have is false) it is range-checked and becomes *stored,
 * afterwards it must equal *stored (22023).
 */
extern void market_row_confidence(FunctionCallInfo fcinfo, int argno, bool have,
								  double *stored, const char *what);

/* market_row_confidence, skipping the call in the common case of an unchanged value */
#define MARKET_ROW_CONFIDENCE(fcinfo, argno, have, stored, what) \
	do { \
		if (!((have) && !PG_ARGISNULL(argno) && PG_GETARG_FLOAT8(argno) == *(stored))) \
			market_row_confidence((fcinfo), (argno), (have), (stored), (what)); \
	} while (0)

/* v itself (without a negative zero), or 22003 naming the function when not finite. */
extern double market_result(FunctionCallInfo fcinfo, double v);

#endif							/* MARKET_H */
