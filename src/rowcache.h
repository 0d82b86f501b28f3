/*
 * rowcache.h
 *		Where rows were last found by key: a fixed-size table from a hash of a
 *		relation's file and a unique key to the heap position (the root of the row's HOT
 *		chain) that the key's index entry points to, so that the transfer trigger can
 *		find the account, counter and alert-state rows it updates on every transfer
 *		without descending their indexes each time.
 *
 * The table is only a hint.  Entries are never invalidated: whoever uses a position
 * checks that its block exists, fetches the row's visible version from it through the
 * HOT chain and compares the key columns, and falls back to the index when anything
 * differs.  With shared_preload_libraries the table is in shared memory and written
 * without locks (a torn or stale entry is just a miss); otherwise each backend keeps a
 * smaller one of its own.
 */
#ifndef RG_ROWCACHE_H
#define RG_ROWCACHE_H

#include "postgres.h"

#include "access/skey.h"
#include "storage/itemptr.h"
#include "utils/relcache.h"

/* _PG_init: reserve the shared table when the library is being preloaded */
extern void rg_rowcache_init(void);

/* the tag of the key keys[0..nkeys-1] (equality on columns of idx) in rel; never 0 */
extern uint64 rg_rowcache_tag(Relation rel, Relation idx, ScanKey keys, int nkeys);

/* the position last recorded for tag, if any */
extern bool rg_rowcache_get(uint64 tag, ItemPointer tid);

/* record where the row with this tag's index entry points */
extern void rg_rowcache_put(uint64 tag, ItemPointer tid);

#endif							/* RG_ROWCACHE_H */
