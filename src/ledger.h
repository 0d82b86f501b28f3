/*
 * ledger.h
 *		The ledger's shared pieces: the per-backend cache of relations, pool flows and
 *		reserve rules, and row locking and updating by direct heap access.
 */
#ifndef RG_LEDGER_H
#define RG_LEDGER_H

#include "postgres.h"

#include "access/htup.h"
#include "executor/tuptable.h"
#include "utils/relcache.h"
#include "access/skey.h"
#include "utils/snapshot.h"

/* fund pools, in the order of the riskguard.fund_pool enum */
#define LEDGER_POOL_CLIENT		0
#define LEDGER_POOL_PLATFORM	1
#define LEDGER_POOL_RESERVE		2
#define LEDGER_NPOOLS			3

extern const char *const ledger_pool_names[LEDGER_NPOOLS];

/* one allowed flow's kinds between two pools */
typedef struct LedgerFlow
{
	bool		any_kind;		/* a row with kind '*' */
	int			nkinds;
	char	  **kinds;
} LedgerFlow;

typedef struct LedgerReserveRule
{
	char	   *kind;
	int32		basis_points;
	int64		from_account;
	int64		to_account;
} LedgerReserveRule;

/* attribute numbers of riskguard.account's columns */
typedef struct LedgerAccountAtts
{
	AttrNumber	id,
				code,
				pool,
				owner,
				owner_kind,
				currency,
				normal_side,
				allow_overdraft,
				debits_posted,
				credits_posted,
				debits_pending,
				credits_pending,
				head_seq,
				head_hash;
} LedgerAccountAtts;

/* attribute numbers of riskguard.transfer's columns */
typedef struct LedgerTransferAtts
{
	AttrNumber	id,
				debit_account,
				credit_account,
				amount,
				kind,
				reference,
				idempotency_key,
				status,
				pending_id,
				created_at,
				created_by,
				debit_seq,
				debit_hash,
				credit_seq,
				credit_hash;
} LedgerTransferAtts;

typedef struct LedgerCache
{
	Oid			account_rel;
	Oid			account_pkey;
	Oid			transfer_rel;
	Oid			transfer_pkey;
	Oid			pool_flow_rel;
	Oid			reserve_rule_rel;
	Oid			pool_enum[LEDGER_NPOOLS];	/* enum value oid of each pool */
	LedgerAccountAtts acc;
	LedgerTransferAtts tr;
	LedgerFlow	flows[LEDGER_NPOOLS][LEDGER_NPOOLS];
	int			nrules;
	LedgerReserveRule *rules;
} LedgerCache;

/*
 * The cache, loaded on first use and after pool_flow, reserve_rule or the ledger's
 * tables change (in any backend).  The caller must be connected to SPI.
 */
extern const LedgerCache *ledger_cache(void);

/* the pool index of an enum value of riskguard.fund_pool */
extern int	ledger_pool_index(const LedgerCache *c, Oid enumval);

/* whether money may flow from pool to pool for this kind */
extern bool ledger_flow_allowed(const LedgerCache *c, int from, int to, const char *kind);

/* the reserve rule for this kind, or NULL */
extern const LedgerReserveRule *ledger_reserve_rule(const LedgerCache *c, const char *kind);

/* a row held by the trigger: locked FOR NO KEY UPDATE as its latest version, or found unlocked */
typedef struct LedgerRow
{
	Relation	rel;
	uint64		tag;			/* the row cache's tag of its key */
	ItemPointerData root;		/* where its index entry points */
	TupleTableSlot *slot;
	HeapTuple	tuple;			/* the buffer tuple, valid while the row is held */
} LedgerRow;

/*
 * ledger_lock_row: find the row of rel whose bigint key (the first column of index
 * idx) equals key, lock it and return true, or return false when there is none.  The
 * caller must have made its earlier changes visible (CommandCounterIncrement) and
 * taken snap afterwards (GetLatestSnapshot); the newest version of the row is locked
 * whatever snap sees.
 */
extern bool ledger_lock_row(Relation rel, Relation idx, Snapshot snap, int64 key,
							LedgerRow *row);

/* the same for a row found by equality on the leading columns of any unique index */
extern bool ledger_lock_row_by_keys(Relation rel, Relation idx, Snapshot snap, ScanKey keys,
									int nkeys, LedgerRow *row);

/* replace the locked row's columns where repl[i] is set, maintaining indexes */
extern void ledger_update_row(LedgerRow *row, Datum *values, bool *nulls, bool *repl);

/* the same with the new version already built (it is freed) */
extern void ledger_update_row_to(LedgerRow *row, HeapTuple newtup);

/*
 * The offset of each column's value in the data area of tuple (after t_hoff), -1 when
 * it is NULL or not stored in the tuple: the walk heap_deform_tuple makes, kept so that
 * a caller can read the values and build the next version by overwriting fixed-width
 * ones in a copy.
 */
extern void ledger_row_offsets(HeapTuple tuple, TupleDesc desc, int *off);

/*
 * For a row updated as soon as it is read: ledger_find_row_by_keys finds the version
 * snap sees without locking it, and ledger_try_update_row updates that version, or
 * returns false when a concurrent transaction committed a change to it first (at READ
 * COMMITTED; a serialization failure under a transaction snapshot), after which the
 * caller locks the newest version with ledger_lock_row_by_keys and starts again.  One
 * buffer visit and one WAL record fewer than locking first.
 */
extern bool ledger_find_row(Relation rel, Relation idx, Snapshot snap, int64 key,
							LedgerRow *row);
extern bool ledger_find_row_by_keys(Relation rel, Relation idx, Snapshot snap, ScanKey keys,
									int nkeys, LedgerRow *row);
extern bool ledger_try_update_row(LedgerRow *row, Datum *values, bool *nulls, bool *repl);
extern bool ledger_try_update_row_to(LedgerRow *row, HeapTuple newtup);

/*
 * The snapshot to find rows with: given (the ledger's, taken after it made the
 * transaction's earlier work visible) when not NULL, else a fresh one registered here,
 * which *own then says the caller must unregister.
 */
extern Snapshot ledger_find_snapshot(Snapshot given, bool *own);

extern void ledger_release_row(LedgerRow *row);

#endif							/* RG_LEDGER_H */
