/*
 * ledger_heap.c
 *		Locking and updating ledger rows by direct heap access, so that the transfer
 *		trigger does not pay for an SQL statement per account.
 *
 * A row is found through its primary key with a recent snapshot (from the position the
 * row cache recorded for its key when that still holds it, else through the index) and
 * locked FOR NO KEY UPDATE as its newest version (waiting for a concurrent holder, as SELECT ... FOR
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
#include "storage/proc.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "ledger.h"
#include "rowcache.h"

/*
 * Whether block blk of rel exists.  The number of blocks is measured once per command
 * and relation (again when blk lies beyond it, as the relation may have grown): the
 * caller's lock on rel keeps VACUUM from truncating it until the end of the
 * transaction, and a TRUNCATE in this transaction (which may keep the file of a table
 * created in it) is a command of its own.
 */
static bool
block_exists(Relation rel, BlockNumber blk)
{
	static struct
	{
		Oid			relid;
		LocalTransactionId lxid;
		CommandId	cid;
		BlockNumber nblocks;
	}			known[4];
	static int	next = 0;
	CommandId	cid = GetCurrentCommandId(false);
	int			i;

	for (i = 0; i < lengthof(known); i++)
		if (known[i].relid == RelationGetRelid(rel) && known[i].lxid == MyProc->lxid &&
			known[i].cid == cid)
			break;
	if (i == lengthof(known))
	{
		i = next;
		next = (next + 1) % lengthof(known);
		known[i].relid = RelationGetRelid(rel);
		known[i].lxid = MyProc->lxid;
		known[i].cid = cid;
		known[i].nblocks = RelationGetNumberOfBlocks(rel);
	}
	else if (blk >= known[i].nblocks)
		known[i].nblocks = RelationGetNumberOfBlocks(rel);
	return blk < known[i].nblocks;
}

/*
 * Fetch into slot the visible version of the row with these keys from the position
 * the row cache holds for tag: true when there is one and its key columns equal the
 * keys, false when the index must be asked.
 */
static bool
fetch_cached(Relation rel, Relation idx, Snapshot snap, ScanKey keys, int nkeys,
			 uint64 tag, TupleTableSlot *slot)
{
	TupleDesc	idesc = RelationGetDescr(idx);
	ItemPointerData tid;
	IndexFetchTableData *fetch;
	bool		call_again = false;
	bool		all_dead = false;
	bool		found;

	if (!rg_rowcache_get(tag, &tid) || !block_exists(rel, ItemPointerGetBlockNumber(&tid)))
		return false;
	fetch = table_index_fetch_begin(rel);
	found = table_index_fetch_tuple(fetch, &tid, snap, slot, &call_again, &all_dead);
	table_index_fetch_end(fetch);
	if (!found)
		return false;
	for (int i = 0; i < nkeys; i++)
	{
		Form_pg_attribute att = TupleDescAttr(idesc, keys[i].sk_attno - 1);
		AttrNumber	attno = idx->rd_index->indkey.values[keys[i].sk_attno - 1];
		bool		isnull = true;
		Datum		d = attno > 0 ? slot_getattr(slot, attno, &isnull) : (Datum) 0;

		/* an expression column cannot be compared here: ask the index */
		if (isnull || !datum_image_eq(d, keys[i].sk_argument, att->attbyval, att->attlen))
		{
			ExecClearTuple(slot);
			return false;
		}
	}
	return true;
}

bool
ledger_lock_row(Relation rel, Relation idx, Snapshot snap, int64 key, LedgerRow *row)
{
	ScanKeyData skey;

	ScanKeyInit(&skey, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(key));
	return ledger_lock_row_by_keys(rel, idx, snap, &skey, 1, row);
}

/*
 * Fetch into a new slot the version visible to snap of the row with these keys (from
 * its recorded position, else through the index, recording it), or return NULL.
 */
static TupleTableSlot *
find_row(Relation rel, Relation idx, Snapshot snap, ScanKey keys, int nkeys, uint64 tag)
{
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	IndexScanDesc scan;
	ItemPointer entry;
	bool		found = false;

	if (fetch_cached(rel, idx, snap, keys, nkeys, tag, slot))
		return slot;

	/*
	 * index_getnext_slot's loop, keeping the position the index entry points to (the
	 * root of the HOT chain) rather than that of the version found from it
	 */
	scan = index_beginscan(rel, idx, snap, nkeys, 0);
	index_rescan(scan, keys, nkeys, NULL, 0);
	while (!found && (entry = index_getnext_tid(scan, ForwardScanDirection)) != NULL)
	{
		ItemPointerData root = *entry;

		found = index_fetch_heap(scan, slot);
		if (found)
			rg_rowcache_put(tag, &root);
	}
	index_endscan(scan);
	if (!found)
	{
		ExecDropSingleTupleTableSlot(slot);
		return NULL;
	}
	return slot;
}

/* hold the row in slot as row; under a transaction snapshot it must be visible to it */
static void
hold_row(Relation rel, TupleTableSlot *slot, uint64 tag, LedgerRow *row)
{
	row->rel = rel;
	row->tag = tag;
	row->slot = slot;
	row->tuple = ExecFetchSlotHeapTuple(slot, false, NULL);

	/* a version the transaction snapshot cannot see was written concurrently */
	if (IsolationUsesXactSnapshot() &&
		!TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(row->tuple->t_data)) &&
		!table_tuple_satisfies_snapshot(rel, slot, GetTransactionSnapshot()))
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to concurrent update")));
}

bool
ledger_lock_row_by_keys(Relation rel, Relation idx, Snapshot snap, ScanKey keys, int nkeys,
						LedgerRow *row)
{
	uint64		tag = rg_rowcache_tag(rel, idx, keys, nkeys);
	TupleTableSlot *slot = find_row(rel, idx, snap, keys, nkeys, tag);
	TM_Result	res;
	TM_FailureData tmfd;
	ItemPointerData tid;

	if (slot == NULL)
		return false;
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
	hold_row(rel, slot, tag, row);
	return true;
}

bool
ledger_find_row_by_keys(Relation rel, Relation idx, Snapshot snap, ScanKey keys, int nkeys,
						LedgerRow *row)
{
	uint64		tag = rg_rowcache_tag(rel, idx, keys, nkeys);
	TupleTableSlot *slot = find_row(rel, idx, snap, keys, nkeys, tag);

	if (slot == NULL)
		return false;
	hold_row(rel, slot, tag, row);
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

/* after an update: the new version's index entries, and its position when it has them */
static void
updated(LedgerRow *row, HeapTuple newtup)
{
	Relation	rel = row->rel;

	/* a version outside the HOT chain gets index entries pointing at it */
	if (!HeapTupleIsHeapOnly(newtup) && row->tag != 0)
		rg_rowcache_put(row->tag, &newtup->t_self);
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
ledger_update_row(LedgerRow *row, Datum *values, bool *nulls, bool *repl)
{
	HeapTuple	newtup = heap_modify_tuple(row->tuple, RelationGetDescr(row->rel), values, nulls, repl);

	simple_heap_update(row->rel, &row->tuple->t_self, newtup);
	updated(row, newtup);
}

bool
ledger_try_update_row(LedgerRow *row, Datum *values, bool *nulls, bool *repl)
{
	HeapTuple	newtup = heap_modify_tuple(row->tuple, RelationGetDescr(row->rel), values, nulls, repl);
	TM_FailureData tmfd;
	LockTupleMode lockmode;
	TM_Result	res;

	res = heap_update(row->rel, &row->tuple->t_self, newtup, GetCurrentCommandId(true),
					  InvalidSnapshot, true, &tmfd, &lockmode);
	switch (res)
	{
		case TM_Ok:
			break;
		case TM_Updated:
		case TM_Deleted:
			if (IsolationUsesXactSnapshot())
				ereport(ERROR,
						(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
						 errmsg("could not serialize access due to concurrent update")));
			heap_freetuple(newtup);
			return false;
		default:
			elog(ERROR, "unexpected result %d updating a row of \"%s\"", (int) res,
				 RelationGetRelationName(row->rel));
	}
	updated(row, newtup);
	return true;
}

void
ledger_release_row(LedgerRow *row)
{
	if (row->slot)
		ExecDropSingleTupleTableSlot(row->slot);
	row->slot = NULL;
	row->tuple = NULL;
}
