/*
 * rowcache.h
 *		Where rows were last found by key: a fixed-size table from a hash of a
 *		relation's file and a unique key to the heap position that the key's index
 *		entry points to (the root of the row's HOT chain) and the offset, on the same
 *		page, of the row's newest version when it was last written, so that the
 *		transfer trigger can find the account, counter and alert-state rows it updates
 *		on every transfer without descending their indexes or walking their HOT chains
 *		each time.
 *
 * The table is only a hint.  Entries are never invalidated: whoever uses a position
 * checks that its block exists, takes the newest version when the snapshot sees it,
 * else the visible version through the HOT chain from the root, compares the key
 * columns, and falls back to the index when anything differs.  With shared_preload_libraries the table is in shared memory and written
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

/* the positions last recorded for tag, if any (newest is 0 when unknown) */
extern bool rg_rowcache_get(uint64 tag, ItemPointer root, OffsetNumber *newest);

/*
 * record where the row with this tag's index entry points, and the offset of its
 * newest version on that page (0 when unknown)
 */
extern void rg_rowcache_put(uint64 tag, ItemPointer root, OffsetNumber newest);

#endif							/* RG_ROWCACHE_H */
