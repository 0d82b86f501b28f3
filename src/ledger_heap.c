/*
 * ledger_heap.c
 *		Locking and updating ledger rows by direct heap access, so that the transfer
 *		trigger does not pay for an SQL statement per account.
 *
 * A row is found through its primary key with a recent snapshot and locked FOR NO
 * KEY UPDATE as its newest version (waiting for a concurrent holder, as SELECT ... FOR
 * NO KEY UPDATE does under READ COMMITTED).  Under REPEATABLE READ or SERIALIZABLE a
 * row changed by a transaction the snapshot does not see raises a serialization
 * failure, as an UPDATE would.  Updates go through simple_heap_update; when the new
 * version is not a heap-only tuple the indexes get their entries.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "nodes/execnodes.h"
#include "storage/bufmgr.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "ledger.h"

bool
ledger_lock_row(Relation rel, Relation idx, Snapshot snap, int64 key, LedgerRow *row)
{
	ScanKeyData skey;

	ScanKeyInit(&skey, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(key));
	return ledger_lock_row_by_keys(rel, idx, snap, &skey, 1, row);
}

bool
ledger_lock_row_by_keys(Relation rel, Relation idx, Snapshot snap, ScanKey keys, int nkeys,
						LedgerRow *row)
{
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	IndexScanDesc scan;
	bool		found;
	TM_Result	res;
	TM_FailureData tmfd;
	ItemPointerData tid;

	scan = index_beginscan(rel, idx, snap, nkeys, 0);
	index_rescan(scan, keys, nkeys, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	index_endscan(scan);
	if (!found)
	{
		ExecDropSingleTupleTableSlot(slot);
		return false;
	}

	tid = slot->tts_tid;
	res = table_tuple_lock(rel, &tid, snap, slot, GetCurrentCommandId(false),
						   LockTupleNoKeyExclusive, LockWaitBlock,
						   IsolationUsesXactSnapshot() ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION,
						   &tmfd);
	switch (res)
	{
		case TM_Ok:
			break;
		case TM_Deleted:
			ExecDropSingleTupleTableSlot(slot);
			return false;
		case TM_Updated:
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to concurrent update")));
			break;
		default:
			elog(ERROR, "unexpected result %d locking a row of \"%s\"", (int) res,
				 RelationGetRelationName(rel));
	}

	row->rel = rel;
	row->slot = slot;
	row->tuple = ExecFetchSlotHeapTuple(slot, false, NULL);

	/* a version the transaction snapshot cannot see was written concurrently */
	if (IsolationUsesXactSnapshot() &&
		!TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(row->tuple->t_data)) &&
		!table_tuple_satisfies_snapshot(rel, slot, GetTransactionSnapshot()))
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to concurrent update")));
	return true;
}

Snapshot
ledger_find_snapshot(Snapshot given, bool *own)
{
	*own = given == NULL;
	if (given)
		return given;
	/* make this transaction's earlier writes visible to the lookups */
	CommandCounterIncrement();
	return RegisterSnapshot(GetLatestSnapshot());
}

void
ledger_update_row(LedgerRow *row, Datum *values, bool *nulls, bool *repl)
{
	Relation	rel = row->rel;
	HeapTuple	newtup;

	newtup = heap_modify_tuple(row->tuple, RelationGetDescr(rel), values, nulls, repl);
	simple_heap_update(rel, &row->tuple->t_self, newtup);

	if (!HeapTupleIsHeapOnly(newtup) && RelationGetForm(rel)->relhasindex)
	{
		EState	   *estate = CreateExecutorState();
		ResultRelInfo *rri = makeNode(ResultRelInfo);
		TupleTableSlot *ns = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsHeapTuple);

		InitResultRelInfo(rri, rel, 1, NULL, 0);
		ExecOpenIndices(rri, false);
		ExecStoreHeapTuple(newtup, ns, false);
		ExecInsertIndexTuples(rri, ns, estate, false, false, NULL, NIL);
		ExecCloseIndices(rri);
		ExecDropSingleTupleTableSlot(ns);
		FreeExecutorState(estate);
	}
	heap_freetuple(newtup);
	row->tuple = NULL;
}

void
ledger_release_row(LedgerRow *row)
{
	if (row->slot)
		ExecDropSingleTupleTableSlot(row->slot);
	row->slot = NULL;
	row->tuple = NULL;
}
