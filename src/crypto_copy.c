/*
 * crypto_copy.c
 *		COPY ... FROM STDIN into a table with protected columns, sealed in batches.
 *
 * A BEFORE ROW trigger makes PostgreSQL's COPY insert its rows one at a time (it cannot
 * know what the trigger reads), which costs a third of COPY's speed before any sealing.
 * The sealing trigger reads nothing from the table, so a ProcessUtility hook takes over
 * COPY FROM STDIN into such a table: it parses the rows with the server's own COPY
 * parser (BeginCopyFrom/NextCopyFrom, so every format and option behaves as usual),
 * seals each row exactly as the trigger would (rg_seal_row), checks the table's
 * constraints, and writes the rows in batches with table_multi_insert, then their index
 * entries and AFTER ROW triggers, as COPY does for tables without BEFORE ROW triggers.
 *
 * Only the plain case is taken over: a regular, non-partition table whose only BEFORE
 * INSERT ROW trigger is riskguard_seal and which would fire it, no transition tables,
 * no row-level security, COPY from the client without WHERE or FREEZE.  Everything else
 * goes to PostgreSQL's COPY, where the trigger seals row by row: the result is the same.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_trigger.h"
#include "commands/copy.h"
#include "commands/copyfrom_internal.h"
#include "commands/progress.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/nodeModifyTable.h"
#include "miscadmin.h"
#include "parser/parse_relation.h"
#include "pgstat.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/syscache.h"

#include "crypto.h"

/* the batch limits of PostgreSQL's own COPY */
#define SEAL_COPY_MAX_ROWS	1000
#define SEAL_COPY_MAX_BYTES 65535

static ProcessUtility_hook_type prev_utility = NULL;

/* Would trigger trig fire in this session (session_replication_role)? */
static bool
trigger_fires(const Trigger *trig)
{
	switch (trig->tgenabled)
	{
		case TRIGGER_FIRES_ALWAYS:
			return true;
		case TRIGGER_FIRES_ON_ORIGIN:
			return SessionReplicationRole != SESSION_REPLICATION_ROLE_REPLICA;
		case TRIGGER_FIRES_ON_REPLICA:
			return SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA;
		default:
			return false;
	}
}

/*
 * Is fn this library's sealing trigger function (riskguard._seal)?  Asked of pg_proc by
 * its C symbol rather than by name, so that no schema lookup or privilege is involved.
 */
static bool
is_seal_function(Oid fn)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
	bool		ours = false;

	if (!HeapTupleIsValid(tup))
		return false;
	if (((Form_pg_proc) GETSTRUCT(tup))->prolang == ClanguageId)
	{
		bool		isnull;
		Datum		src = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_prosrc, &isnull);
		Datum		bin;

		if (!isnull && strcmp(TextDatumGetCString(src), "rg_seal_trigger") == 0)
		{
			bin = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_probin, &isnull);
			ours = !isnull && strcmp(TextDatumGetCString(bin), "$libdir/riskguard") == 0;
		}
	}
	ReleaseSysCache(tup);
	return ours;
}

/*
 * Is rel a table this module loads: its BEFORE INSERT ROW triggers are exactly one,
 * riskguard._seal() without arguments or WHEN, and it fires; nothing else needs the
 * row-at-a-time path?
 */
static bool
sealed_table(Relation rel)
{
	TriggerDesc *td = rel->trigdesc;
	const Trigger *seal = NULL;
	int			before = 0;

	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relispartition ||
		td == NULL || !td->trig_insert_before_row || td->trig_insert_new_table)
		return false;
	for (int i = 0; i < td->numtriggers; i++)
	{
		const Trigger *trig = &td->triggers[i];

		if (!TRIGGER_FOR_ROW(trig->tgtype) || !TRIGGER_FOR_BEFORE(trig->tgtype) ||
			!TRIGGER_FOR_INSERT(trig->tgtype) || !trigger_fires(trig))
			continue;
		before++;
		seal = trig;
	}
	return before == 1 && seal->tgnargs == 0 && seal->tgqual == NULL &&
		is_seal_function(seal->tgfoid);
}

/* Does the statement name an option PostgreSQL's COPY must handle itself? */
static bool
needs_plain_copy(const CopyStmt *stmt)
{
	ListCell   *lc;

	if (!stmt->is_from || stmt->relation == NULL || stmt->filename != NULL ||
		stmt->is_program || stmt->whereClause != NULL)
		return true;
	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "freeze") == 0)
			return true;
	}
	return false;
}

typedef struct SealBatch
{
	TupleTableSlot *slots[SEAL_COPY_MAX_ROWS];
	uint64		linenos[SEAL_COPY_MAX_ROWS];
	int			nused;
	int			bytes;
} SealBatch;

/* Write the batch: heap, then index entries and AFTER ROW triggers row by row. */
static void
flush_batch(SealBatch *b, CopyFromState cstate, EState *estate, ResultRelInfo *rri,
			CommandId cid, int ti_options, BulkInsertState bistate, uint64 *processed)
{
	MemoryContext oldcxt;
	bool		line_buf_valid = cstate->line_buf_valid;
	uint64		lineno = cstate->cur_lineno;

	if (b->nused == 0)
		return;
	/* errors below are reported against their own line, without the current one */
	cstate->line_buf_valid = false;
	oldcxt = MemoryContextSwitchTo(GetPerTupleMemoryContext(estate));
	table_multi_insert(rri->ri_RelationDesc, b->slots, b->nused, cid, ti_options, bistate);
	MemoryContextSwitchTo(oldcxt);
	for (int i = 0; i < b->nused; i++)
	{
		List	   *recheck = NIL;

		cstate->cur_lineno = b->linenos[i];
		if (rri->ri_NumIndices > 0)
			recheck = ExecInsertIndexTuples(rri, b->slots[i], estate, false, false,
											NULL, NIL);
		ExecARInsertTriggers(estate, rri, b->slots[i], recheck, NULL);
		list_free(recheck);
		ExecClearTuple(b->slots[i]);
	}
	*processed += b->nused;
	pgstat_progress_update_param(PROGRESS_COPY_TUPLES_PROCESSED, (int64) *processed);
	cstate->line_buf_valid = line_buf_valid;
	cstate->cur_lineno = lineno;
	b->nused = 0;
	b->bytes = 0;
}

/* The rows of an open COPY FROM, sealed and written in batches; returns their number. */
static uint64
seal_copy_rows(CopyFromState cstate, Relation rel, List *rtable)
{
	EState	   *estate = CreateExecutorState();
	ResultRelInfo *rri = makeNode(ResultRelInfo);
	ExprContext *econtext;
	TupleDesc	desc = RelationGetDescr(rel);
	CommandId	cid = GetCurrentCommandId(true);
	int			ti_options = 0;
	BulkInsertState bistate = GetBulkInsertState();
	SealBatch  *b = palloc0(sizeof(SealBatch));
	int			max_rows = cstate->volatile_defexprs ? 1 : SEAL_COPY_MAX_ROWS;
	bool		generated = desc->constr && desc->constr->has_generated_stored;
	uint64		generation = 0;
	RgCryptTable *t = NULL;
	uint64		processed = 0;
	MemoryContext oldcxt = CurrentMemoryContext;
	ErrorContextCallback errcallback;

	/* a table new in this subtransaction has no free space worth looking up */
	if (rel->rd_createSubid != InvalidSubTransactionId ||
		rel->rd_firstRelfilenodeSubid != InvalidSubTransactionId)
		ti_options |= TABLE_INSERT_SKIP_FSM;

	ExecInitRangeTable(estate, rtable);
	ExecInitResultRelation(estate, rri, 1);
	CheckValidResultRel(rri, CMD_INSERT);
	ExecOpenIndices(rri, false);
	AfterTriggerBeginQuery();
	ExecBSInsertTriggers(estate, rri);
	econtext = GetPerTupleExprContext(estate);

	errcallback.callback = CopyFromErrorCallback;
	errcallback.arg = (void *) cstate;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	for (;;)
	{
		TupleTableSlot *slot;

		CHECK_FOR_INTERRUPTS();
		ResetPerTupleExprContext(estate);
		if (b->slots[b->nused] == NULL)
			b->slots[b->nused] = table_slot_create(rel, &estate->es_tupleTable);
		slot = b->slots[b->nused];

		MemoryContextSwitchTo(GetPerTupleMemoryContext(estate));
		ExecClearTuple(slot);
		if (!NextCopyFrom(cstate, econtext, slot->tts_values, slot->tts_isnull))
			break;
		ExecStoreVirtualTuple(slot);
		slot->tts_tableOid = RelationGetRelid(rel);

		/* what the trigger does, in the order the executor runs it */
		if (t == NULL || generation != rg_crypt_generation)
		{
			t = rg_seal_table(rel);
			generation = rg_crypt_generation;
		}
		rg_seal_row(t, desc, slot->tts_values, slot->tts_isnull, NULL);
		MemoryContextSwitchTo(oldcxt);
		if (generated)
			ExecComputeStoredGenerated(rri, estate, slot, CMD_INSERT);
		if (desc->constr)
			ExecConstraints(rri, slot, estate);

		/* the values point into per-row memory: the batch keeps its own copy */
		ExecMaterializeSlot(slot);
		b->linenos[b->nused] = cstate->cur_lineno;
		b->bytes += cstate->line_buf.len;
		b->nused++;
		if (b->nused >= max_rows || b->bytes >= SEAL_COPY_MAX_BYTES)
			flush_batch(b, cstate, estate, rri, cid, ti_options, bistate, &processed);
	}
	MemoryContextSwitchTo(oldcxt);
	flush_batch(b, cstate, estate, rri, cid, ti_options, bistate, &processed);
	error_context_stack = errcallback.previous;

	FreeBulkInsertState(bistate);
	table_finish_bulk_insert(rel, ti_options);
	ExecASInsertTriggers(estate, rri, NULL);
	AfterTriggerEndQuery(estate);
	ExecResetTupleTable(estate->es_tupleTable, false);
	ExecCloseResultRelations(estate);
	ExecCloseRangeTableRelations(estate);
	FreeExecutorState(estate);
	pfree(b);
	return processed;
}

/*
 * COPY FROM STDIN into a sealed table, with the checks PostgreSQL's COPY makes first.
 * Returns false, having done nothing, when the statement is not one this module loads.
 */
static bool
seal_copy(const CopyStmt *stmt, const char *query, QueryEnvironment *queryEnv,
		  QueryCompletion *qc)
{
	ParseState *pstate;
	ParseNamespaceItem *nsitem;
	RangeTblEntry *rte;
	Relation	rel;
	CopyFromState cstate;
	List	   *attnums;
	ListCell   *lc;
	uint64		processed;

	if (needs_plain_copy(stmt))
		return false;
	rel = table_openrv(stmt->relation, RowExclusiveLock);
	if (!sealed_table(rel) ||
		check_enable_rls(RelationGetRelid(rel), InvalidOid, false) == RLS_ENABLED)
	{
		/* PostgreSQL's COPY opens it again (and raises what applies) */
		table_close(rel, NoLock);
		return false;
	}

	pstate = make_parsestate(NULL);
	pstate->p_sourcetext = query;
	pstate->p_queryEnv = queryEnv;
	nsitem = addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock, NULL, false, false);
	rte = nsitem->p_rte;
	rte->requiredPerms = ACL_INSERT;
	attnums = CopyGetAttnums(RelationGetDescr(rel), rel, stmt->attlist);
	foreach(lc, attnums)
		rte->insertedCols = bms_add_member(rte->insertedCols,
										   lfirst_int(lc) - FirstLowInvalidHeapAttributeNumber);
	ExecCheckRTPerms(pstate->p_rtable, true);
	if (XactReadOnly && !rel->rd_islocaltemp)
		PreventCommandIfReadOnly("COPY FROM");

	cstate = BeginCopyFrom(pstate, rel, NULL, NULL, false, NULL, stmt->attlist,
						   stmt->options);
	processed = seal_copy_rows(cstate, rel, pstate->p_rtable);
	EndCopyFrom(cstate);
	table_close(rel, NoLock);
	free_parsestate(pstate);
	if (qc)
		SetQueryCompletion(qc, CMDTAG_COPY, processed);
	return true;
}

static void
rg_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
		   ProcessUtilityContext context, ParamListInfo params, QueryEnvironment *queryEnv,
		   DestReceiver *dest, QueryCompletion *qc)
{
	if (IsA(pstmt->utilityStmt, CopyStmt) &&
		seal_copy((CopyStmt *) pstmt->utilityStmt, queryString, queryEnv, qc))
		return;
	if (prev_utility)
		prev_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);
}

void
rg_copy_init(void)
{
	prev_utility = ProcessUtility_hook;
	ProcessUtility_hook = rg_utility;
}
