/*
 * rowcache.c
 *		Where rows were last found by key (see rowcache.h).
 *
 * The table is two-way set associative: a tag may sit in either slot of its pair, and a
 * new tag replaces an empty slot, its own, or else the slot its hash picks.  A slot is
 * two 64-bit words, written and read one at a time without locks; a reader may see a
 * tag with another tag's position, which the caller's check of the key rejects.
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "rowcache.h"

#define SHARED_SLOTS	(1 << 18)	/* 4 MB of shared memory */
#define LOCAL_SLOTS		(1 << 14)	/* 256 kB per backend when not preloaded */

typedef struct RowCacheSlot
{
	pg_atomic_uint64 tag;
	pg_atomic_uint64 pos;		/* block << 32 | root offset << 16 | newest offset */
} RowCacheSlot;

static RowCacheSlot *slots = NULL;
static uint64 slot_mask = 0;
static bool shared_reserved = false;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
rowcache_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(mul_size(SHARED_SLOTS, sizeof(RowCacheSlot)));
}

static void
rowcache_shmem_startup(void)
{
	bool		found;
	RowCacheSlot *s;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	s = ShmemInitStruct("riskguard row positions", SHARED_SLOTS * sizeof(RowCacheSlot), &found);
	if (!found)
		for (int i = 0; i < SHARED_SLOTS; i++)
		{
			pg_atomic_init_u64(&s[i].tag, 0);
			pg_atomic_init_u64(&s[i].pos, 0);
		}
	LWLockRelease(AddinShmemInitLock);
	slots = s;
	slot_mask = SHARED_SLOTS - 1;
}

void
rg_rowcache_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	shared_reserved = true;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = rowcache_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = rowcache_shmem_startup;
}

/* the table: the shared one, or on first use without it this backend's own */
static RowCacheSlot *
table(void)
{
	if (slots == NULL && !shared_reserved)
	{
		RowCacheSlot *s = MemoryContextAlloc(TopMemoryContext, LOCAL_SLOTS * sizeof(RowCacheSlot));

		for (int i = 0; i < LOCAL_SLOTS; i++)
		{
			pg_atomic_init_u64(&s[i].tag, 0);
			pg_atomic_init_u64(&s[i].pos, 0);
		}
		slot_mask = LOCAL_SLOTS - 1;
		slots = s;
	}
	return slots;
}

uint64
rg_rowcache_tag(Relation rel, Relation idx, ScanKey keys, int nkeys)
{
	TupleDesc	idesc = RelationGetDescr(idx);
	uint64		h = ((uint64) rel->rd_node.dbNode << 32) ^ rel->rd_node.relNode;

	h = hash_bytes_uint32_extended(rel->rd_node.spcNode, h);
	for (int i = 0; i < nkeys; i++)
	{
		Form_pg_attribute att = TupleDescAttr(idesc, keys[i].sk_attno - 1);
		Datum		d = keys[i].sk_argument;

		if (att->attbyval)
			h = hash_bytes_extended((const unsigned char *) &d, sizeof(Datum), h);
		else if (att->attlen == -1)
		{
			struct varlena *v = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(d));

			h = hash_bytes_extended((const unsigned char *) VARDATA_ANY(v),
									VARSIZE_ANY_EXHDR(v), h);
		}
		else if (att->attlen > 0)
			h = hash_bytes_extended((const unsigned char *) DatumGetPointer(d), att->attlen, h);
		else
			h = hash_bytes_extended((const unsigned char *) DatumGetCString(d),
									strlen(DatumGetCString(d)), h);
	}
	return h | 1;
}

bool
rg_rowcache_get(uint64 tag, ItemPointer root, OffsetNumber *newest)
{
	RowCacheSlot *s = table();
	uint64		i = tag & slot_mask & ~(uint64) 1;

	for (int k = 0; k < 2; k++)
	{
		if (pg_atomic_read_u64(&s[i + k].tag) == tag)
		{
			uint64		pos = pg_atomic_read_u64(&s[i + k].pos);

			ItemPointerSet(root, (BlockNumber) (pos >> 32), (OffsetNumber) ((pos >> 16) & 0xFFFF));
			*newest = (OffsetNumber) (pos & 0xFFFF);
			return ItemPointerIsValid(root);
		}
	}
	return false;
}

void
rg_rowcache_put(uint64 tag, ItemPointer root, OffsetNumber newest)
{
	RowCacheSlot *s = table();
	uint64		i = tag & slot_mask & ~(uint64) 1;
	uint64		pos = ((uint64) ItemPointerGetBlockNumber(root) << 32) |
		((uint64) ItemPointerGetOffsetNumber(root) << 16) | newest;
	uint64		first = pg_atomic_read_u64(&s[i].tag);
	uint64		second = pg_atomic_read_u64(&s[i + 1].tag);

	/* its own slot, else an empty one, else the one a bit of the hash picks */
	if (second == tag)
		i++;
	else if (first != tag && first != 0 && (second == 0 || (tag & ((uint64) 1 << 32)) != 0))
		i++;
	pg_atomic_write_u64(&s[i].tag, 0);
	pg_write_barrier();
	pg_atomic_write_u64(&s[i].pos, pos);
	pg_write_barrier();
	pg_atomic_write_u64(&s[i].tag, tag);
}
