/*
 * rg_errors.h
 *		riskguard's own SQLSTATEs (class RG) and the error helper every module uses.
 *
 * Messages follow PostgreSQL's error message style guide: a short lower-case primary
 * message without a final period, the numbers in a detail sentence, the remedy in a hint.
 */
#ifndef RG_ERRORS_H
#define RG_ERRORS_H

#include "postgres.h"
#include "utils/elog.h"

#define ERRCODE_RG_LIMIT_EXCEEDED			MAKE_SQLSTATE('R','G','0','0','1')
#define ERRCODE_RG_SEGREGATION_VIOLATION	MAKE_SQLSTATE('R','G','0','0','2')
#define ERRCODE_RG_INSUFFICIENT_FUNDS		MAKE_SQLSTATE('R','G','0','0','3')
#define ERRCODE_RG_APPEND_ONLY				MAKE_SQLSTATE('R','G','0','0','4')
#define ERRCODE_RG_IDEMPOTENCY_CONFLICT		MAKE_SQLSTATE('R','G','0','0','5')
#define ERRCODE_RG_MAKER_CHECKER			MAKE_SQLSTATE('R','G','0','0','6')
#define ERRCODE_RG_BLOCKED_BY_ALERT			MAKE_SQLSTATE('R','G','0','0','7')
#define ERRCODE_RG_DECRYPTION_FAILED		MAKE_SQLSTATE('R','G','0','1','0')
#define ERRCODE_RG_NO_ROOT_KEY				MAKE_SQLSTATE('R','G','0','1','1')
#define ERRCODE_RG_INVALID_SPEC				MAKE_SQLSTATE('R','G','0','2','0')
#define ERRCODE_RG_UNKNOWN_MODEL			MAKE_SQLSTATE('R','G','0','2','1')

/* One entry of the error catalogue shown by riskguard.error_codes(). */
typedef struct RgErrorInfo
{
	int			sqlerrcode;
	const char *sqlstate;
	const char *condition;
	const char *meaning;
} RgErrorInfo;

extern const RgErrorInfo rg_error_catalogue[];
extern const int rg_error_catalogue_size;

/*
 * rg_error: raise an ERROR with riskguard's conventions.
 *
 * detail and hint may be NULL; when given they are complete sentences (capitalised, final
 * period).  The primary message is formatted from fmt.  Never pass secrets or plaintexts.
 */
extern void rg_error(int sqlerrcode, const char *detail, const char *hint,
					 const char *fmt,...) pg_attribute_printf(4, 5) pg_attribute_noreturn();

/* The condition name of an RG code ("limit_exceeded"), or NULL for other codes. */
extern const char *rg_condition_name(int sqlerrcode);

#endif							/* RG_ERRORS_H */
