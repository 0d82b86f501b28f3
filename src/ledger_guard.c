/*
 * ledger_guard.c
 *		The ledger's other triggers: the append-only guard that refuses UPDATE, DELETE
 *		and TRUNCATE of ledger tables with RG004, and the statement trigger on
 *		riskguard.pool_flow and riskguard.reserve_rule that invalidates every backend's
 *		cache of them (ledger_cache.c).
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/rel.h"

#include "rg_errors.h"

PG_FUNCTION_INFO_V1(rg_ledger_append_only);

/* UPDATE, DELETE or TRUNCATE on a ledger table: refused with RG004 */
Datum
rg_ledger_append_only(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	const char *op;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("riskguard append-only guard must be called as a trigger")));
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		op = "UPDATE";
	else if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
		op = "DELETE";
	else if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		op = "TRUNCATE";
	else
		op = "INSERT";
	rg_error(ERRCODE_RG_APPEND_ONLY,
			 psprintf("%s of \"riskguard.%s\" is refused; ledger history is never changed in place.",
					  op, RelationGetRelationName(td->tg_relation)),
			 "Correct a transfer with a reversing transfer; complete a pending one with riskguard.post_pending or riskguard.void_pending.",
			 "ledger table \"%s\" is append-only", RelationGetRelationName(td->tg_relation));
	return PointerGetDatum(NULL);
}
