/*
 * crypto_cache.h
 *		Per-backend cache of protected columns and their derived keys.
 *
 * One entry per table with protected columns, loaded once per backend from
 * riskguard.protected_column and riskguard.column_key, and dropped when the table's
 * relcache entry is invalidated (protect, rotate and unprotect invalidate it), so rows
 * never look keys up in SQL.  Derived keys live in libsodium secure memory, read-only;
 * beside them, also in secure memory but writable, each key's HChaCha20 subkey cache
 * (envelope.h), wiped as soon as the table is invalidated and freed with the keys.
 */
#ifndef RG_CRYPTO_CACHE_H
#define RG_CRYPTO_CACHE_H

#include "postgres.h"

#include "fmgr.h"
#include "access/attnum.h"
#include "lib/stringinfo.h"

#include "envelope.h"

typedef struct RgCryptColumn
{
	char	   *name;
	AttrNumber	attnum;
	bool		is_text;		/* text (base64 envelope) or bytea (raw envelope) */
	AttrNumber	bidx_attnum;	/* blind index column, or InvalidAttrNumber */
	char	   *bidx_name;
	int			bidx_bits;
	uint32		active_key_id;	/* the key new values are sealed under */
	uint32		blind_key_id;	/* the blind index key's id (the column's first key) */
	int			nkeys;
	uint32	   *key_ids;		/* every key of the column, ascending */
	unsigned char *keys;		/* secure memory: nkeys column keys, the blind key, then
								 * the blind key prepared (an RgEnvBlindKey) */
	RgEnvKeyCache *key_caches;	/* secure memory: the subkey cache of each column key */
	unsigned char *ad_fields;	/* schema, table and column as associated-data fields */
	size_t		ad_fields_len;
} RgCryptColumn;

typedef struct RgCryptTable
{
	Oid			relid;			/* hash key */
	bool		valid;
	MemoryContext cxt;
	char	   *schema;
	char	   *relname;
	char	   *display;		/* "schema.table" for messages */
	int			npk;
	AttrNumber *pk_attnums;
	FmgrInfo   *pk_out;
	Oid		   *pk_types;		/* base types; integers are formatted without fmgr */
	int			ncols;
	RgCryptColumn *cols;
} RgCryptTable;

/* bumped whenever any entry is invalidated, so callers may cache entry pointers */
extern uint64 rg_crypt_generation;

/* The protected columns of relid, or NULL when it has none. */
extern RgCryptTable *rg_crypt_table(Oid relid);

/* The column named name, or NULL. */
extern RgCryptColumn *rg_crypt_column(RgCryptTable *t, const char *name);

/* The 32-byte key of key_id for this column, or NULL when it is not one of its keys. */
extern const unsigned char *rg_crypt_column_key(RgCryptColumn *c, uint32 key_id);

/*
 * The same, and the key's subkey cache in *kc, for rg_env_seal_cached and
 * rg_env_open_cached.  Valid while the column's cache entry is.
 */
extern const unsigned char *rg_crypt_column_key_cache(RgCryptColumn *c, uint32 key_id,
													  RgEnvKeyCache **kc);

/* The column's blind index key, prepared for rg_env_blind_index_prepared. */
extern const RgEnvBlindKey *rg_crypt_blind_key_prepared(RgCryptColumn *c);

/* true when key_id belongs to any protected column of the table */
extern bool rg_crypt_table_knows_key(RgCryptTable *t, uint32 key_id);

#endif							/* RG_CRYPTO_CACHE_H */
