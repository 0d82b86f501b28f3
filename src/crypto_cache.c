/*
 * crypto_cache.c
 *		Per-backend cache of protected columns and derived keys (see crypto_cache.h).
 */
#include "postgres.h"

#include <sodium.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "crypto_cache.h"
#include "rg_errors.h"
#include "rootkey.h"

uint64		rg_crypt_generation = 0;

static HTAB *crypt_tables = NULL;
static MemoryContext crypt_cxt = NULL;

/* Free what an entry holds; the entry itself stays in the hash table. */
static void
release_entry(RgCryptTable *t)
{
	for (int i = 0; i < t->ncols; i++)
	{
		/* sodium_free wipes what it frees */
		if (t->cols[i].keys)
		{
			sodium_free(t->cols[i].keys);
			t->cols[i].keys = NULL;
		}
		if (t->cols[i].key_caches)
		{
			sodium_free(t->cols[i].key_caches);
			t->cols[i].key_caches = NULL;
		}
	}
	if (t->cxt)
		MemoryContextDelete(t->cxt);
	t->cxt = NULL;
	t->cols = NULL;
	t->ncols = 0;
	t->valid = false;
}

/*
 * Mark an entry invalid and wipe its subkeys now.  The keys themselves stay until the
 * entry is next looked up (a caller may be between rows that use them), but an emptied
 * subkey cache is only ever recomputed from them, so wiping it here is safe.
 */
static void
invalidate_entry(RgCryptTable *t)
{
	t->valid = false;
	for (int i = 0; i < t->ncols; i++)
		if (t->cols[i].key_caches)
			for (int k = 0; k < t->cols[i].nkeys; k++)
				rg_env_key_cache_clear(&t->cols[i].key_caches[k]);
}

/* Relcache invalidation: forget the table (or every table). */
static void
crypt_relcache_callback(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	RgCryptTable *t;

	if (crypt_tables == NULL)
		return;
	rg_crypt_generation++;
	if (OidIsValid(relid))
	{
		t = hash_search(crypt_tables, &relid, HASH_FIND, NULL);
		if (t)
			invalidate_entry(t);
		return;
	}
	hash_seq_init(&status, crypt_tables);
	while ((t = hash_seq_search(&status)) != NULL)
		invalidate_entry(t);
}

static void
crypt_init(void)
{
	HASHCTL		ctl;

	crypt_cxt = AllocSetContextCreate(CacheMemoryContext, "riskguard protected columns",
									  ALLOCSET_SMALL_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(RgCryptTable);
	ctl.hcxt = crypt_cxt;
	crypt_tables = hash_create("riskguard protected tables", 16, &ctl,
							   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	CacheRegisterRelcacheCallback(crypt_relcache_callback, (Datum) 0);
}

static void
append_field(StringInfo buf, const char *s)
{
	size_t		len = strlen(s);
	size_t		pos = 0;
	unsigned char hdr[4];

	rg_env_put_u32(hdr, &pos, (uint32) len);
	appendBinaryStringInfo(buf, (const char *) hdr, 4);
	appendBinaryStringInfo(buf, s, len);
}

/* Resolve a column of the table by name: its attnum and type, or an error. */
static AttrNumber
column_attnum(Relation rel, const char *display, const char *name, Oid *typid)
{
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
		{
			*typid = getBaseType(att->atttypid);
			return att->attnum;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("protected column \"%s\" of table \"%s\" does not exist", name, display),
			 errhint("Run riskguard.unprotect_column for it, or restore the column.")));
	return InvalidAttrNumber;
}

/* The role that owns riskguard's schema (the extension's owner). */
static Oid
metadata_owner(void)
{
	Oid			nsp = get_namespace_oid("riskguard", false);
	HeapTuple	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for schema %u", nsp);
	owner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	ReleaseSysCache(tup);
	return owner;
}

/* Load the table's protected columns into t (already zeroed apart from relid). */
static void
load_entry(RgCryptTable *t)
{
	const unsigned char *root = rg_root_key();
	char		root_check[RG_KEY_CHECK_HEX];
	Relation	rel;
	Oid			pkoid;
	Relation	idx;
	MemoryContext old;
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		args[1];
	volatile int rc = 0;
	uint64		nrows;
	SPITupleTable *tt;
	Oid			save_user;
	int			save_sec;

	rg_root_key_check_value(root_check);
	t->cxt = AllocSetContextCreate(crypt_cxt, "riskguard protected table",
								   ALLOCSET_SMALL_SIZES);

	/*
	 * the columns and their keys, read as the owner of riskguard's schema: whoever may
	 * write the table may have its values sealed, whatever their own privileges on
	 * riskguard's (non-secret) metadata
	 */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	args[0] = ObjectIdGetDatum(t->relid);
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(metadata_owner(),
						   save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		rc = SPI_execute_with_args(
							   "SELECT p.\"column\"::pg_catalog.text, p.blind_index_column::pg_catalog.text, "
							   "p.blind_index_bits, p.blind_index_key_id, k.id, k.status, k.root_key_check "
							   "FROM riskguard.protected_column p "
							   "JOIN riskguard.column_key k "
							   "ON k.\"table\" OPERATOR(pg_catalog.=) p.\"table\" "
							   "AND k.\"column\" OPERATOR(pg_catalog.=) p.\"column\" "
							   "WHERE p.\"table\" OPERATOR(pg_catalog.=) $1 "
							   "ORDER BY 1, 5",
							   1, argtypes, args, NULL, true, 0);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PG_END_TRY();
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %d", rc);
	tt = SPI_tuptable;
	nrows = SPI_processed;
	if (nrows == 0)
	{
		/* not a protected table: the caller drops the entry */
		SPI_finish();
		return;
	}

	old = MemoryContextSwitchTo(t->cxt);
	rel = relation_open(t->relid, AccessShareLock);
	t->schema = pstrdup(get_namespace_name(RelationGetNamespace(rel)));
	t->relname = pstrdup(RelationGetRelationName(rel));
	t->display = psprintf("%s.%s", t->schema, t->relname);

	pkoid = RelationGetPrimaryKeyIndex(rel);
	if (!OidIsValid(pkoid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("protected table \"%s\" has no primary key", t->display),
				 errdetail("Sealed values are bound to their row's primary key."),
				 errhint("Add the primary key back, or unprotect its columns.")));
	idx = index_open(pkoid, AccessShareLock);
	t->npk = idx->rd_index->indnkeyatts;
	t->pk_attnums = palloc(sizeof(AttrNumber) * t->npk);
	t->pk_out = palloc0(sizeof(FmgrInfo) * t->npk);
	t->pk_types = palloc0(sizeof(Oid) * t->npk);
	for (int i = 0; i < t->npk; i++)
	{
		Oid			typoutput;
		bool		varlena;
		Oid			typid;

		t->pk_attnums[i] = idx->rd_index->indkey.values[i];
		typid = TupleDescAttr(RelationGetDescr(rel), t->pk_attnums[i] - 1)->atttypid;
		t->pk_types[i] = getBaseType(typid);
		getTypeOutputInfo(typid, &typoutput, &varlena);
		fmgr_info_cxt(typoutput, &t->pk_out[i], t->cxt);
	}
	index_close(idx, AccessShareLock);

	t->cols = palloc0(sizeof(RgCryptColumn) * nrows);
	t->ncols = 0;
	for (uint64 r = 0; r < nrows; r++)
	{
		HeapTuple	tup = tt->vals[r];
		TupleDesc	desc = tt->tupdesc;
		bool		isnull;
		char	   *name = SPI_getvalue(tup, desc, 1);
		RgCryptColumn *c;
		uint32		key_id = DatumGetInt32(SPI_getbinval(tup, desc, 5, &isnull));
		char	   *status = SPI_getvalue(tup, desc, 6);
		char	   *check = SPI_getvalue(tup, desc, 7);

		if (t->ncols == 0 || strcmp(t->cols[t->ncols - 1].name, name) != 0)
		{
			Oid			typid;
			char	   *bidx = SPI_getvalue(tup, desc, 2);
			StringInfoData ad;

			c = &t->cols[t->ncols++];
			c->name = pstrdup(name);
			c->attnum = column_attnum(rel, t->display, name, &typid);
			if (typid != TEXTOID && typid != BYTEAOID)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("protected column \"%s\" of table \"%s\" is no longer of type text or bytea",
								name, t->display)));
			c->is_text = (typid == TEXTOID);
			c->bidx_attnum = InvalidAttrNumber;
			if (bidx)
			{
				Oid			btyp;

				c->bidx_name = pstrdup(bidx);
				c->bidx_attnum = column_attnum(rel, t->display, bidx, &btyp);
				c->bidx_bits = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
				c->blind_key_id = DatumGetInt32(SPI_getbinval(tup, desc, 4, &isnull));
			}
			c->key_ids = palloc(sizeof(uint32) * nrows);
			c->nkeys = 0;
			initStringInfo(&ad);
			append_field(&ad, t->schema);
			append_field(&ad, t->relname);
			append_field(&ad, c->name);
			c->ad_fields = (unsigned char *) ad.data;
			c->ad_fields_len = ad.len;
		}
		c = &t->cols[t->ncols - 1];
		if (check == NULL || strcmp(check, root_check) != 0)
			rg_error(ERRCODE_RG_DECRYPTION_FAILED,
					 psprintf("The server's root key has check value %s; key %u of this column was derived from a root key with check value %s.",
							  root_check, key_id, check ? check : "(none)"),
					 "Start the server with the root key these values were sealed under; riskguard.key_check_value() shows the loaded key's check value.",
					 "could not open sealed value of column \"%s\" of table \"%s\"",
					 c->name, t->display);
		c->key_ids[c->nkeys++] = key_id;
		if (strcmp(status, "active") == 0)
			c->active_key_id = key_id;
	}
	MemoryContextSwitchTo(old);
	SPI_finish();
	relation_close(rel, AccessShareLock);

	/* derive the keys into secure memory, once every lookup that could fail is done */
	for (int i = 0; i < t->ncols; i++)
	{
		RgCryptColumn *c = &t->cols[i];
		uint32		blind_id = c->bidx_attnum != InvalidAttrNumber ? c->blind_key_id : 0;
		unsigned char *keys;

		if (c->active_key_id == 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("protected column \"%s\" of table \"%s\" has no active key",
							c->name, t->display),
					 errhint("Run riskguard.rotate_column_key for it.")));
		keys = sodium_malloc((size_t) (c->nkeys + 1) * RG_ENV_KEY_BYTES +
							 sizeof(RgEnvBlindKey));
		if (keys == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("could not allocate secure memory for the keys of table \"%s\"",
							t->display)));
		c->keys = keys;
		c->key_caches = sodium_malloc(sizeof(RgEnvKeyCache) * (size_t) c->nkeys);
		if (c->key_caches == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("could not allocate secure memory for the keys of table \"%s\"",
							t->display)));
		for (int k = 0; k < c->nkeys; k++)
			rg_env_key_cache_clear(&c->key_caches[k]);
		for (int k = 0; k < c->nkeys; k++)
			rg_env_derive_column_key(keys + (size_t) k * RG_ENV_KEY_BYTES, root,
									 c->key_ids[k]);
		if (blind_id != 0)
		{
			unsigned char *bk = keys + (size_t) c->nkeys * RG_ENV_KEY_BYTES;

			rg_env_derive_blind_key(bk, root, blind_id);
			rg_env_blind_key_prepare((RgEnvBlindKey *) (bk + RG_ENV_KEY_BYTES), bk);
		}
		else
			sodium_memzero(keys + (size_t) c->nkeys * RG_ENV_KEY_BYTES,
						   RG_ENV_KEY_BYTES + sizeof(RgEnvBlindKey));
		sodium_mprotect_readonly(keys);
	}
}

RgCryptTable *
rg_crypt_table(Oid relid)
{
	RgCryptTable *t;
	bool		found;

	if (crypt_tables == NULL)
		crypt_init();
	t = hash_search(crypt_tables, &relid, HASH_ENTER, &found);
	if (found && t->valid)
		return t;
	if (found)
		release_entry(t);
	else
	{
		t->cxt = NULL;
		t->cols = NULL;
		t->ncols = 0;
	}

	/* valid before loading, so an invalidation that arrives meanwhile is kept */
	t->valid = true;
	PG_TRY();
	{
		load_entry(t);
	}
	PG_CATCH();
	{
		release_entry(t);
		hash_search(crypt_tables, &relid, HASH_REMOVE, NULL);
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (t->ncols == 0)
	{
		release_entry(t);
		hash_search(crypt_tables, &relid, HASH_REMOVE, NULL);
		return NULL;
	}
	return t;
}

RgCryptColumn *
rg_crypt_column(RgCryptTable *t, const char *name)
{
	for (int i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return &t->cols[i];
	return NULL;
}

const unsigned char *
rg_crypt_column_key(RgCryptColumn *c, uint32 key_id)
{
	for (int k = c->nkeys - 1; k >= 0; k--)
		if (c->key_ids[k] == key_id)
			return c->keys + (size_t) k * RG_ENV_KEY_BYTES;
	return NULL;
}

const unsigned char *
rg_crypt_column_key_cache(RgCryptColumn *c, uint32 key_id, RgEnvKeyCache **kc)
{
	for (int k = c->nkeys - 1; k >= 0; k--)
		if (c->key_ids[k] == key_id)
		{
			*kc = &c->key_caches[k];
			return c->keys + (size_t) k * RG_ENV_KEY_BYTES;
		}
	*kc = NULL;
	return NULL;
}

const RgEnvBlindKey *
rg_crypt_blind_key_prepared(RgCryptColumn *c)
{
	return (const RgEnvBlindKey *) (c->keys + (size_t) (c->nkeys + 1) * RG_ENV_KEY_BYTES);
}

bool
rg_crypt_table_knows_key(RgCryptTable *t, uint32 key_id)
{
	for (int i = 0; i < t->ncols; i++)
		for (int k = 0; k < t->cols[i].nkeys; k++)
			if (t->cols[i].key_ids[k] == key_id)
				return true;
	return false;
}
