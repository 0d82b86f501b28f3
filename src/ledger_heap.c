/*
 * ledger_heap.c
 *		Locking and updating ledger rows by direct heap access, so that the transfer
 *		trigger does not pay for an SQL statement per account.
 *
 * A row is found through its primary key with a recent snapshot (from the positions the
 * row cache recorded for its key when they still hold it, else through the index), and
 * either locked FOR NO KEY UPDATE as its newest version (waiting for a concurrent
 * holder, as SELECT ... FOR NO KEY UPDATE does under READ COMMITTED) or updated as
 * found, the update failing when a concurrent transaction changed it first.  Under
 * REPEATABLE READ or SERIALIZABLE a row changed by a transaction the snapshot does not
 * see raises a serialization failure, as an UPDATE would.  When a new version is not a
 * heap-only tuple the indexes get their entries.  Relations are opened by the callers,
 * whose locks are kept until the transaction ends.
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
#include "storage/predicate.h"
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
 * Pin block blk of rel, or return InvalidBuffer when it does not exist.  A block found
 * in shared buffers exists: a truncation drops the buffers of the blocks it removes
 * first, under a lock that conflicts with the caller's.  Otherwise the relation's
 * length is asked.
 */
static Buffer
pin_block(Relation rel, BlockNumber blk)
{
	PrefetchBufferResult pf = PrefetchBuffer(rel, MAIN_FORKNUM, blk);

	if (BufferIsValid(pf.recent_buffer) &&
		ReadRecentBuffer(rel->rd_node, MAIN_FORKNUM, blk, pf.recent_buffer))
		return pf.recent_buffer;
	if (!block_exists(rel, blk))
		return InvalidBuffer;
	return ReadBuffer(rel, blk);
}

/*
 * Whether the tuple at offset off of the share-locked page in buf is visible to snap,
 * with tuple set to it; the predicate lock and conflict check as heap_fetch's.
 */
static bool
visible_at(Relation rel, Buffer buf, OffsetNumber off, Snapshot snap, HeapTuple tuple)
{
	Page		page = BufferGetPage(buf);
	ItemId		lp;
	bool		valid;

	if (off == InvalidOffsetNumber || off > PageGetMaxOffsetNumber(page))
		return false;
	lp = PageGetItemId(page, off);
	if (!ItemIdIsNormal(lp))
		return false;
	tuple->t_data = (HeapTupleHeader) PageGetItem(page, lp);
	tuple->t_len = ItemIdGetLength(lp);
	tuple->t_tableOid = RelationGetRelid(rel);
	ItemPointerSet(&tuple->t_self, BufferGetBlockNumber(buf), off);
	valid = HeapTupleSatisfiesVisibility(tuple, snap, buf);
	if (valid)
		PredicateLockTID(rel, &tuple->t_self, snap, HeapTupleHeaderGetXmin(tuple->t_data));
	HeapCheckForSerializableConflictOut(valid, rel, tuple, buf, snap);
	return valid;
}

/*
 * Fetch into slot the visible version of the row with these keys from the positions
 * the row cache holds for tag: the newest version it recorded when snap sees it (no
 * walk along the HOT chain), else the one the chain from the root leads to.  True when
 * there is one and its key columns equal the keys, with *root set; false when the
 * index must be asked.
 *
 * The page is pruned only once less than a tenth of it is free.  An index scan prunes
 * a page as soon as it is fuller than its fill factor, which a page of rows updated in
 * place (the fill factor's reserve taken by their newest versions) is on every visit:
 * the whole page walked and a WAL record written per transfer, to free the room of a
 * version or two.  A tenth, the least room PostgreSQL itself prunes for, still leaves
 * room for the next updates to stay on the page; the HOT chains grow meanwhile, which
 * the recorded newest version makes free to skip.
 */
static bool
fetch_cached(Relation rel, Relation idx, Snapshot snap, ScanKey keys, int nkeys,
			 uint64 tag, TupleTableSlot *slot, ItemPointer root)
{
	TupleDesc	idesc = RelationGetDescr(idx);
	HeapTuple	tuple = &((BufferHeapTupleTableSlot *) slot)->base.tupdata;
	OffsetNumber newest;
	Buffer		buf;
	bool		found;

	if (!rg_rowcache_get(tag, root, &newest))
		return false;
	buf = pin_block(rel, ItemPointerGetBlockNumber(root));
	if (!BufferIsValid(buf))
		return false;
	if (PageGetHeapFreeSpace(BufferGetPage(buf)) < BLCKSZ / 10)
		heap_page_prune_opt(rel, buf);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	found = visible_at(rel, buf, newest, snap, tuple);
	if (!found)
	{
		ItemPointerData tid = *root;

		found = heap_hot_search_buffer(&tid, rel, buf, snap, tuple, NULL, true);
	}
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	if (!found)
	{
		ReleaseBuffer(buf);
		return false;
	}
	ExecStorePinnedBufferHeapTuple(tuple, slot, buf);
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

bool
ledger_find_row(Relation rel, Relation idx, Snapshot snap, int64 key, LedgerRow *row)
{
	ScanKeyData skey;

	ScanKeyInit(&skey, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(key));
	return ledger_find_row_by_keys(rel, idx, snap, &skey, 1, row);
}

/* the offset of version when it lies on root's page, else 0 (unknown) */
static OffsetNumber
same_page_offset(ItemPointer root, ItemPointer version)
{
	if (ItemPointerGetBlockNumber(root) != ItemPointerGetBlockNumber(version))
		return InvalidOffsetNumber;
	return ItemPointerGetOffsetNumber(version);
}

/*
 * Fetch into a new slot the version visible to snap of the row with these keys (from
 * its recorded positions, else through the index, recording them), or return NULL;
 * *root is set to the position the row's index entry points to.
 */
static TupleTableSlot *
find_row(Relation rel, Relation idx, Snapshot snap, ScanKey keys, int nkeys, uint64 tag,
		 ItemPointer root)
{
	TupleTableSlot *slot = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsBufferHeapTuple);
	IndexScanDesc scan;
	ItemPointer entry;
	bool		found = false;

	if (fetch_cached(rel, idx, snap, keys, nkeys, tag, slot, root))
		return slot;

	/*
	 * index_getnext_slot's loop, keeping the position the index entry points to (the
	 * root of the HOT chain) rather than that of the version found from it
	 */
	scan = index_beginscan(rel, idx, snap, nkeys, 0);
	index_rescan(scan, keys, nkeys, NULL, 0);
	while (!found && (entry = index_getnext_tid(scan, ForwardScanDirection)) != NULL)
	{
		*root = *entry;
		found = index_fetch_heap(scan, slot);
	}
	index_endscan(scan);
	if (!found)
	{
		ExecDropSingleTupleTableSlot(slot);
		return NULL;
	}
	rg_rowcache_put(tag, root, same_page_offset(root, &slot->tts_tid));
	return slot;
}

/* hold the row in slot as row; under a transaction snapshot it must be visible to it */
static void
hold_row(Relation rel, TupleTableSlot *slot, uint64 tag, ItemPointer root, LedgerRow *row)
{
	row->rel = rel;
	row->tag = tag;
	row->root = *root;
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
ledger_find_row_by_keys(Relation rel, Relation idx, Snapshot snap, ScanKey keys, int nkeys,
						LedgerRow *row)
{
	uint64		tag = rg_rowcache_tag(rel, idx, keys, nkeys);
	ItemPointerData root;
	TupleTableSlot *slot = find_row(rel, idx, snap, keys, nkeys, tag, &root);

	if (slot == NULL)
		return false;
	hold_row(rel, slot, tag, &root, row);
	return true;
}

/* the row found, then locked as its newest version (as found under a transaction snapshot) */
bool
ledger_lock_row_by_keys(Relation rel, Relation idx, Snapshot snap, ScanKey keys, int nkeys,
						LedgerRow *row)
{
	TM_Result	res;
	TM_FailureData tmfd;
	ItemPointerData tid;

	if (!ledger_find_row_by_keys(rel, idx, snap, keys, nkeys, row))
		return false;
	tid = row->slot->tts_tid;
	res = table_tuple_lock(rel, &tid, snap, row->slot, GetCurrentCommandId(false),
						   LockTupleNoKeyExclusive, LockWaitBlock,
						   IsolationUsesXactSnapshot() ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION,
						   &tmfd);
	switch (res)
	{
		case TM_Ok:
			break;
		case TM_Deleted:
			ledger_release_row(row);
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
	row->tuple = ExecFetchSlotHeapTuple(row->slot, false, NULL);
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

	/*
	 * a heap-only version is the chain's newest; one outside the chain gets index
	 * entries pointing at it
	 */
	if (row->tag != 0 && HeapTupleIsHeapOnly(newtup))
		rg_rowcache_put(row->tag, &row->root, same_page_offset(&row->root, &newtup->t_self));
	else if (row->tag != 0)
		rg_rowcache_put(row->tag, &newtup->t_self, ItemPointerGetOffsetNumber(&newtup->t_self));
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
	ledger_update_row_to(row, heap_modify_tuple(row->tuple, RelationGetDescr(row->rel),
												values, nulls, repl));
}

void
ledger_update_row_to(LedgerRow *row, HeapTuple newtup)
{
	simple_heap_update(row->rel, &row->tuple->t_self, newtup);
	updated(row, newtup);
}

bool
ledger_try_update_row(LedgerRow *row, Datum *values, bool *nulls, bool *repl)
{
	return ledger_try_update_row_to(row, heap_modify_tuple(row->tuple, RelationGetDescr(row->rel),
														   values, nulls, repl));
}

bool
ledger_try_update_row_to(LedgerRow *row, HeapTuple newtup)
{
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
ledger_row_offsets(HeapTuple tuple, TupleDesc desc, int *off)
{
	HeapTupleHeader tup = tuple->t_data;
	int			stored = Min(HeapTupleHeaderGetNatts(tup), desc->natts);
	bool		hasnulls = HeapTupleHasNulls(tuple);
	char	   *tp = (char *) tup + tup->t_hoff;
	uint32		o = 0;

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (i >= stored || (hasnulls && att_isnull(i, tup->t_bits)))
		{
			off[i] = -1;
			continue;
		}
		if (att->attlen == -1)
			o = att_align_pointer(o, att->attalign, -1, tp + o);
		else
			o = att_align_nominal(o, att->attalign);
		off[i] = (int) o;
		o = att_addlength_pointer(o, att->attlen, tp + o);
	}
}

void
ledger_release_row(LedgerRow *row)
{
	if (row->slot)
		ExecDropSingleTupleTableSlot(row->slot);
	row->slot = NULL;
	row->tuple = NULL;
}
