/*
 * credit_stats.h
 *		Shared helpers of riskguard's credit statistics fmgr wrappers.
 */
#ifndef RG_CREDIT_STATS_H
#define RG_CREDIT_STATS_H

#include "postgres.h"

/* raise 22023 unless x is a number in [0,1] (a probability or a ratio); what names the argument */
extern void rg_check_probability(double x, const char *what);

/* raise 22023 unless x is finite; what names the argument */
extern void rg_check_finite(double x, const char *what);

#endif							/* RG_CREDIT_STATS_H */
