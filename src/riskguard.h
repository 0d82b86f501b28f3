/*
 * riskguard.h
 *		Things every riskguard module shares.
 */
#ifndef RISKGUARD_H
#define RISKGUARD_H

/* the library's version; the install script refuses to run against another one */
#define RISKGUARD_VERSION "0.1"

#include "fmgr.h"

/* the non-NULL elements of a text[] as C strings, palloc'd; *n gets their number */
extern char **rg_text_array_cstrings(Datum d, int *n);

/*
 * Connect to SPI unless *connected says it is already done, for code that runs SQL only
 * on some paths (the transfer trigger's steps, limits, alert rules); the caller calls
 * SPI_finish at its end when *connected is true.
 */
extern void rg_spi_connect_once(bool *connected);

/* a value of the calling function's declared row type from values and nulls */
extern Datum rg_result_tuple(FunctionCallInfo fcinfo, Datum *values, bool *nulls);

#endif							/* RISKGUARD_H */
