/*
 * rg_errors.c
 *		The RG error catalogue, the helper that raises riskguard's errors, and
 *		riskguard.error_codes() which lists them for clients.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "rg_errors.h"

const RgErrorInfo rg_error_catalogue[] = {
	{ERRCODE_RG_LIMIT_EXCEEDED, "RG001", "limit_exceeded",
	"A transfer would take a limit's usage past its threshold."},
	{ERRCODE_RG_SEGREGATION_VIOLATION, "RG002", "segregation_violation",
	"Money may not flow between these fund pools for this transfer kind."},
	{ERRCODE_RG_INSUFFICIENT_FUNDS, "RG003", "insufficient_funds",
	"A transfer would break an account's balance constraint."},
	{ERRCODE_RG_APPEND_ONLY, "RG004", "append_only",
	"The ledger is append-only: update, delete and truncate are refused."},
	{ERRCODE_RG_IDEMPOTENCY_CONFLICT, "RG005", "idempotency_conflict",
	"An idempotency key was reused for a different transfer."},
	{ERRCODE_RG_MAKER_CHECKER, "RG006", "maker_checker_violation",
	"A change was approved by its proposer or by a role that is not an approver."},
	{ERRCODE_RG_BLOCKED_BY_ALERT, "RG007", "blocked_by_alert_rule",
	"An alert rule with action block refused the transfer."},
	{ERRCODE_RG_DECRYPTION_FAILED, "RG010", "decryption_failed",
	"A sealed value could not be opened: tampered, truncated, wrong key or wrong row."},
	{ERRCODE_RG_NO_ROOT_KEY, "RG011", "no_root_key",
	"No root key is loaded, so nothing can be sealed or opened."},
	{ERRCODE_RG_INVALID_SPEC, "RG020", "invalid_specification",
	"A model or rule specification is invalid."},
	{ERRCODE_RG_UNKNOWN_MODEL, "RG021", "unknown_model",
	"No model of that name exists."},
};

const int	rg_error_catalogue_size = lengthof(rg_error_catalogue);

void
rg_error(int sqlerrcode, const char *detail, const char *hint, const char *fmt,...)
{
	StringInfoData message;

	initStringInfo(&message);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&message, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&message, needed);
	}

	ereport(ERROR,
			(errcode(sqlerrcode),
			 errmsg_internal("%s", message.data),
			 detail ? errdetail_internal("%s", detail) : 0,
			 hint ? errhint("%s", hint) : 0));
	pg_unreachable();
}

const char *
rg_condition_name(int sqlerrcode)
{
	for (int i = 0; i < rg_error_catalogue_size; i++)
		if (rg_error_catalogue[i].sqlerrcode == sqlerrcode)
			return rg_error_catalogue[i].condition;
	return NULL;
}

PG_FUNCTION_INFO_V1(rg_error_codes);

/* riskguard.error_codes(): the RG SQLSTATEs, their condition names and meanings */
Datum
rg_error_codes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < rg_error_catalogue_size; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(rg_error_catalogue[i].sqlstate);
		values[1] = CStringGetTextDatum(rg_error_catalogue[i].condition);
		values[2] = CStringGetTextDatum(rg_error_catalogue[i].meaning);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
