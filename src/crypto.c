/*
 * crypto.c
 *		Column encryption: the sealing trigger, decryption for the generated views,
 *		blind indexes and small helpers.  The envelope itself is in envelope.c, the
 *		per-backend key cache in crypto_cache.c.
 *
 * Plaintext only ever sits in buffers that are wiped: explicitly when done, and by a
 * memory-context reset callback when an error leaves early.  Errors name the table and
 * column, never a key or a value.
 */
#include "postgres.h"

#include <sodium.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/typcache.h"

#include "crypto.h"
#include "crypto_cache.h"
#include "envelope.h"
#include "rg_errors.h"
#include "rootkey.h"

/* plaintext results up to this size are wiped when their memory context goes away */
#define RG_WIPED_RESULT_MAX 4096

/* A buffer wiped with sodium_memzero when its memory context is reset or deleted. */
typedef struct WipedBuffer
{
	MemoryContextCallback cb;
	void	   *data;
	size_t		len;
} WipedBuffer;

static void
wipe_buffer(void *arg)
{
	WipedBuffer *w = (WipedBuffer *) arg;

	sodium_memzero(w->data, w->len);
}

/*
 * palloc in the current context, wiped when that context goes away.  Callers must not
 * pfree it (the context reset frees it after wiping).
 */
static void *
palloc_wiped(size_t len)
{
	WipedBuffer *w = palloc(MAXALIGN(sizeof(WipedBuffer)) + (len > 0 ? len : 1));

	w->data = ((char *) w) + MAXALIGN(sizeof(WipedBuffer));
	w->len = len;
	w->cb.func = wipe_buffer;
	w->cb.arg = w;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &w->cb);
	return w->data;
}

/* "schema.table" of a relation, for messages */
static char *
rel_display(Oid relid)
{
	char	   *rel = get_rel_name(relid);
	char	   *nsp = get_namespace_name(get_rel_namespace(relid));

	if (rel == NULL || nsp == NULL)
		return psprintf("%u", relid);
	return psprintf("%s.%s", nsp, rel);
}

static void
decrypt_failed(RgCryptTable *t, RgCryptColumn *c, const char *detail)
{
	rg_error(ERRCODE_RG_DECRYPTION_FAILED, detail,
			 "The value was altered, truncated, sealed under a key this server does not hold, or copied from another row or column.",
			 "could not open sealed value of column \"%s\" of table \"%s\"",
			 c->name, t->display);
}

/*
 * A byte buffer that starts inside itself (on the caller's stack) and moves to palloc'd
 * memory only when it outgrows that: the primary key fields, associated data and
 * envelopes of a row are short, so sealing and opening allocate nothing for them.  Never
 * copy one by value (data may point into it).  Holds no plaintext.
 */
#define RG_INLINE_BYTES 512

typedef struct ByteBuf
{
	unsigned char *data;
	size_t		len;
	size_t		cap;
	unsigned char inline_data[RG_INLINE_BYTES];
} ByteBuf;

static inline void
buf_init(ByteBuf *b)
{
	b->data = b->inline_data;
	b->len = 0;
	b->cap = RG_INLINE_BYTES;
}

/* make room for more bytes after the current end */
static void
buf_reserve(ByteBuf *b, size_t more)
{
	unsigned char *d;
	size_t		cap;

	if (b->len + more <= b->cap)
		return;
	cap = Max(b->len + more, b->cap * 2);
	d = palloc(cap);
	memcpy(d, b->data, b->len);
	if (b->data != b->inline_data)
		pfree(b->data);
	b->data = d;
	b->cap = cap;
}

static inline void
buf_append(ByteBuf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap)
		buf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

/* a 4-byte big-endian number, as rg_env_put_u32 writes it */
static inline void
buf_put_u32(ByteBuf *b, uint32 v)
{
	unsigned char *p;

	if (b->len + 4 > b->cap)
		buf_reserve(b, 4);
	p = b->data + b->len;
	p[0] = (unsigned char) (v >> 24);
	p[1] = (unsigned char) (v >> 16);
	p[2] = (unsigned char) (v >> 8);
	p[3] = (unsigned char) v;
	b->len += 4;
}

static inline void
buf_free(ByteBuf *b)
{
	if (b->data != b->inline_data)
		pfree(b->data);
	buf_init(b);
}

/*
 * The primary key part of the associated data for a row: the count of key columns and
 * each value's text form, length-prefixed.
 */
static void
pk_value(RgCryptTable *t, int i, Datum d, ByteBuf *buf)
{
	char	   *s;

	/* integers print as plain decimal: the same text as their output functions */
	if (t->pk_types[i] == INT8OID || t->pk_types[i] == INT4OID || t->pk_types[i] == INT2OID)
	{
		char		num[MAXINT8LEN + 1];
		int64		n = t->pk_types[i] == INT8OID ? DatumGetInt64(d) :
			t->pk_types[i] == INT4OID ? (int64) DatumGetInt32(d) : (int64) DatumGetInt16(d);
		int			len = pg_lltoa(n, num);

		buf_put_u32(buf, (uint32) len);
		buf_append(buf, num, len);
		return;
	}
	s = OutputFunctionCall(&t->pk_out[i], d);
	buf_put_u32(buf, (uint32) strlen(s));
	buf_append(buf, s, strlen(s));
	pfree(s);
}

static void
pk_null(RgCryptTable *t, TupleDesc desc, int i)
{
	ereport(ERROR,
			(errcode(ERRCODE_NOT_NULL_VIOLATION),
			 errmsg("primary key column \"%s\" of protected table \"%s\" is null",
					NameStr(TupleDescAttr(desc, t->pk_attnums[i] - 1)->attname),
					t->display)));
}

/* the primary key fields of a stored tuple */
static void
pk_fields(RgCryptTable *t, HeapTuple tup, TupleDesc desc, ByteBuf *buf)
{
	buf_put_u32(buf, (uint32) t->npk);
	for (int i = 0; i < t->npk; i++)
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, t->pk_attnums[i], desc, &isnull);

		if (isnull)
			pk_null(t, desc, i);
		pk_value(t, i, d, buf);
	}
}

/* the same from a deformed row */
static void
pk_fields_deformed(RgCryptTable *t, const Datum *values, const bool *nulls,
				   TupleDesc desc, ByteBuf *buf)
{
	buf_put_u32(buf, (uint32) t->npk);
	for (int i = 0; i < t->npk; i++)
	{
		if (nulls[t->pk_attnums[i] - 1])
			pk_null(t, desc, i);
		pk_value(t, i, values[t->pk_attnums[i] - 1], buf);
	}
}

/*
 * The whole associated data for key_id into ad (initialized by the caller): the 5 header
 * bytes, the column's cached schema, table and column fields, then the row's primary key
 * fields.
 */
static void
build_ad(RgCryptColumn *c, uint32 key_id, const ByteBuf *pk, ByteBuf *ad)
{
	buf_reserve(ad, 5 + c->ad_fields_len + pk->len);
	rg_env_ad_header(ad->data, key_id);
	memcpy(ad->data + 5, c->ad_fields, c->ad_fields_len);
	memcpy(ad->data + 5 + c->ad_fields_len, pk->data, pk->len);
	ad->len = 5 + c->ad_fields_len + pk->len;
}

/*
 * Start the associated data for opening a value of column c, in ad (initialized by the
 * caller): room for the 5 header bytes, which open_stored fills once it has read the
 * value's key id, then the column's cached schema, table and column fields.  The caller
 * appends the row's primary key fields, so they are written once, in place.
 */
static inline void
ad_start(RgCryptColumn *c, ByteBuf *ad)
{
	ad->len = 5;
	buf_append(ad, c->ad_fields, c->ad_fields_len);
}

/*
 * The envelope bytes of a stored value: the bytes themselves for bytea, base64-decoded
 * into scratch (initialized by the caller) for text.  Returns a status; RG_ENV_OK sets
 * *env, *len and *key_id.
 */
static RgEnvStatus
stored_envelope(RgCryptColumn *c, struct varlena *v, const unsigned char **env,
				size_t *len, uint32 *key_id, ByteBuf *scratch)
{
	const char *data = VARDATA_ANY(v);
	size_t		vlen = VARSIZE_ANY_EXHDR(v);

	if (!c->is_text)
	{
		*env = (const unsigned char *) data;
		*len = vlen;
		return rg_env_parse(*env, *len, key_id);
	}
	else
	{
		size_t		binlen;

		if (vlen < RG_B64_LEN(RG_ENV_OVERHEAD))
			return RG_ENV_TOO_SHORT;
		buf_reserve(scratch, vlen / 4 * 3 + 1);
		if (!rg_env_from_base64(scratch->data, vlen / 4 * 3 + 1, &binlen, data, vlen))
			return RG_ENV_NOT_BASE64;
		*env = scratch->data;
		*len = binlen;
		return rg_env_parse(*env, *len, key_id);
	}
}

/*
 * The key id of a stored value without decoding all of it, or false.  Plaintext is
 * almost always turned away by its length or its first character.
 */
static bool
peek_key_id(RgCryptColumn *c, struct varlena *v, uint32 *key_id)
{
	const char *data = VARDATA_ANY(v);
	size_t		vlen = VARSIZE_ANY_EXHDR(v);
	unsigned char head[6];
	size_t		headlen;

	if (!c->is_text)
		return rg_env_parse((const unsigned char *) data, vlen, key_id) == RG_ENV_OK;
	/* an envelope's first byte, version 0x01, starts with six zero bits: base64 'A' */
	if (vlen < RG_B64_LEN(RG_ENV_OVERHEAD) || vlen % 4 != 0 || data[0] != 'A')
		return false;
	/* the first 8 base64 characters are the first 6 bytes: version and key id */
	if (!rg_env_from_base64(head, sizeof(head), &headlen, data, 8) || headlen != 6)
		return false;
	if (head[0] != RG_ENV_VERSION)
		return false;
	*key_id = rg_env_get_u32(head + 1);
	return true;
}

/*
 * Seal plaintext under the column's active key for the row; the stored datum.  The
 * envelope goes straight into the bytea, or through a scratch buffer into the text.
 */
static Datum
seal_value(RgCryptColumn *c, const unsigned char *pt, size_t ptlen, const ByteBuf *pk)
{
	RgEnvKeyCache *kc;
	const unsigned char *key = rg_crypt_column_key_cache(c, c->active_key_id, &kc);
	ByteBuf		ad;
	size_t		envlen = ptlen + RG_ENV_OVERHEAD;
	Datum		result;

	buf_init(&ad);
	build_ad(c, c->active_key_id, pk, &ad);
	if (!c->is_text)
	{
		bytea	   *out = palloc(VARHDRSZ + envlen);

		SET_VARSIZE(out, VARHDRSZ + envlen);
		rg_env_seal_cached((unsigned char *) VARDATA(out), pt, ptlen, ad.data, ad.len,
						   c->active_key_id, key, kc);
		result = PointerGetDatum(out);
	}
	else
	{
		ByteBuf		env;
		size_t		b64len = RG_B64_LEN(envlen);
		text	   *out = palloc(VARHDRSZ + b64len + 1);

		buf_init(&env);
		buf_reserve(&env, envlen);
		rg_env_seal_cached(env.data, pt, ptlen, ad.data, ad.len, c->active_key_id, key, kc);
		rg_env_to_base64(VARDATA(out), env.data, envlen);
		SET_VARSIZE(out, VARHDRSZ + b64len);
		buf_free(&env);
		result = PointerGetDatum(out);
	}
	buf_free(&ad);
	return result;
}

/* Open an envelope for a row into a wiped buffer, or return the failure. */
static RgEnvStatus
open_for_row(RgCryptColumn *c, const unsigned char *env, size_t envlen, uint32 key_id,
			 const ByteBuf *pk, unsigned char **pt)
{
	RgEnvKeyCache *kc;
	const unsigned char *key = rg_crypt_column_key_cache(c, key_id, &kc);
	ByteBuf		ad;
	RgEnvStatus st;

	if (key == NULL)
		return RG_ENV_AUTH_FAILED;
	buf_init(&ad);
	build_ad(c, key_id, pk, &ad);
	*pt = palloc_wiped(envlen - RG_ENV_OVERHEAD);
	st = rg_env_open_cached(*pt, env, envlen, ad.data, ad.len, key, kc);
	buf_free(&ad);
	return st;
}

static Datum
blind_index_datum(RgCryptColumn *c, const unsigned char *pt, size_t ptlen)
{
	size_t		n = rg_env_blind_index_bytes(c->bidx_bits);
	bytea	   *out = palloc(VARHDRSZ + n);

	SET_VARSIZE(out, VARHDRSZ + n);
	rg_env_blind_index_prepared((unsigned char *) VARDATA(out), c->bidx_bits, pt, ptlen,
								rg_crypt_blind_key_prepared(c));
	return PointerGetDatum(out);
}

static bool
values_equal(struct varlena *a, struct varlena *b)
{
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
		memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

/*
 * What the sealing trigger keeps across the rows of one statement (in fn_extra): the
 * table's cache entry, valid while the cache's generation stands, and the arrays a row
 * is deformed into.
 */
typedef struct SealCache
{
	uint64		generation;
	Oid			relid;
	int			natts;
	RgCryptTable *table;
	Datum	   *values;
	bool	   *nulls;
} SealCache;

static SealCache *
seal_cache(FunctionCallInfo fcinfo, Relation rel)
{
	SealCache  *sc = (SealCache *) fcinfo->flinfo->fn_extra;
	TupleDesc	desc = RelationGetDescr(rel);
	RgCryptTable *t;

	if (sc != NULL && sc->generation == rg_crypt_generation &&
		sc->relid == RelationGetRelid(rel) && sc->natts == desc->natts)
		return sc;

	t = rg_seal_table(rel);
	if (sc == NULL)
	{
		sc = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(SealCache));
		fcinfo->flinfo->fn_extra = sc;
	}
	if (sc->natts != desc->natts || sc->values == NULL)
	{
		if (sc->values)
		{
			pfree(sc->values);
			pfree(sc->nulls);
		}
		sc->values = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(Datum) * desc->natts);
		sc->nulls = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(bool) * desc->natts);
		sc->natts = desc->natts;
	}
	sc->table = t;
	sc->relid = RelationGetRelid(rel);
	sc->generation = rg_crypt_generation;
	return sc;
}

/*
 * Seal the protected columns of a deformed new row in place and fill its blind index
 * columns.  oldtup is the row's old version on UPDATE, NULL on INSERT.  A value that
 * already is a valid envelope for its row under the active key is kept as it is; one
 * under an older key, or carried over from the row's old primary key, is resealed.
 * New values are allocated in the current memory context.  Returns true when any value
 * was replaced.
 */
bool
rg_seal_row(RgCryptTable *t, TupleDesc desc, Datum *values, bool *nulls, HeapTuple oldtup)
{
	ByteBuf		pk_new;
	ByteBuf		pk_old;
	bool		pk_changed = false;
	bool		any = false;

	rg_env_nonce_owner((long) MyProcPid);
	buf_init(&pk_new);
	pk_fields_deformed(t, values, nulls, desc, &pk_new);
	buf_init(&pk_old);
	if (oldtup)
	{
		pk_fields(t, oldtup, desc, &pk_old);
		pk_changed = pk_old.len != pk_new.len || memcmp(pk_old.data, pk_new.data, pk_new.len) != 0;
	}

	for (int i = 0; i < t->ncols; i++)
	{
		RgCryptColumn *c = &t->cols[i];
		Datum		d = values[c->attnum - 1];
		struct varlena *v;
		const unsigned char *env;
		size_t		envlen;
		uint32		key_id;
		unsigned char *pt;
		size_t		ptlen;
		bool		keep = false;
		bool		has_bidx = c->bidx_attnum != InvalidAttrNumber;

		CHECK_FOR_INTERRUPTS();
		if (nulls[c->attnum - 1])
		{
			if (has_bidx)
			{
				values[c->bidx_attnum - 1] = (Datum) 0;
				nulls[c->bidx_attnum - 1] = true;
				any = true;
			}
			continue;
		}
		v = PG_DETOAST_DATUM_PACKED(d);

		/* an unchanged value under the active key on an unchanged row stays */
		if (oldtup && !pk_changed)
		{
			bool		oldnull;
			Datum		od = heap_getattr(oldtup, c->attnum, desc, &oldnull);

			if (!oldnull && values_equal(v, PG_DETOAST_DATUM_PACKED(od)) &&
				peek_key_id(c, v, &key_id) && key_id == c->active_key_id)
			{
				if (has_bidx)
				{
					values[c->bidx_attnum - 1] = heap_getattr(oldtup, c->bidx_attnum, desc,
															  &nulls[c->bidx_attnum - 1]);
					any = true;
				}
				continue;
			}
		}

		if (peek_key_id(c, v, &key_id) && rg_crypt_table_knows_key(t, key_id))
		{
			ByteBuf		scratch;
			RgEnvStatus st;

			buf_init(&scratch);
			st = stored_envelope(c, v, &env, &envlen, &key_id, &scratch);
			if (st != RG_ENV_OK)
				decrypt_failed(t, c, "The value looks like an envelope but is malformed or truncated.");
			if (rg_crypt_column_key(c, key_id) == NULL)
				decrypt_failed(t, c, "The value was sealed for another column.");
			st = open_for_row(c, env, envlen, key_id, &pk_new, &pt);
			if (st == RG_ENV_OK)
				keep = (key_id == c->active_key_id);
			else if (pk_changed)
				st = open_for_row(c, env, envlen, key_id, &pk_old, &pt);
			if (st != RG_ENV_OK)
				decrypt_failed(t, c, "The value is an envelope that does not open for this row.");
			ptlen = envlen - RG_ENV_OVERHEAD;
			buf_free(&scratch);
		}
		else
		{
			pt = (unsigned char *) VARDATA_ANY(v);
			ptlen = VARSIZE_ANY_EXHDR(v);
		}

		if (!keep)
		{
			values[c->attnum - 1] = seal_value(c, pt, ptlen, &pk_new);
			any = true;
		}
		if (has_bidx)
		{
			values[c->bidx_attnum - 1] = blind_index_datum(c, pt, ptlen);
			nulls[c->bidx_attnum - 1] = false;
			any = true;
		}
		/* wipe plaintext: the decrypted copy, or the incoming value's detoasted copy */
		if ((Pointer) v != DatumGetPointer(d) || pt != (unsigned char *) VARDATA_ANY(v))
			sodium_memzero(pt, ptlen);
	}
	buf_free(&pk_new);
	buf_free(&pk_old);
	return any;
}

/*
 * The protected columns of a table that has the sealing trigger (or is loaded by the
 * sealing COPY), with an error when it has none left.
 */
RgCryptTable *
rg_seal_table(Relation rel)
{
	RgCryptTable *t = rg_crypt_table(RelationGetRelid(rel));

	if (t == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" has the riskguard sealing trigger but no protected columns",
						RelationGetRelationName(rel)),
				 errhint("Protect its columns again with riskguard.protect_column, or drop the trigger riskguard_seal.")));
	return t;
}

PG_FUNCTION_INFO_V1(rg_seal_trigger);

/*
 * riskguard._seal(): BEFORE INSERT OR UPDATE FOR EACH ROW trigger that seals every
 * protected column of the row and fills its blind index columns (rg_seal_row).
 *
 * The new row is deformed once, its protected and blind index values replaced in place,
 * and formed once (as heap_modify_tuple would, without deforming it a second time).
 */
Datum
rg_seal_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	HeapTuple	newtup;
	HeapTuple	oldtup = NULL;
	SealCache  *sc;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!(TRIGGER_FIRED_BY_INSERT(td->tg_event) || TRIGGER_FIRED_BY_UPDATE(td->tg_event)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("riskguard._seal() must be a BEFORE INSERT OR UPDATE row trigger")));

	rel = td->tg_relation;
	desc = RelationGetDescr(rel);
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		oldtup = td->tg_trigtuple;
		newtup = td->tg_newtuple;
	}
	else
		newtup = td->tg_trigtuple;

	sc = seal_cache(fcinfo, rel);
	heap_deform_tuple(newtup, desc, sc->values, sc->nulls);
	if (rg_seal_row(sc->table, desc, sc->values, sc->nulls, oldtup))
	{
		HeapTuple	sealed = heap_form_tuple(desc, sc->values, sc->nulls);

		/* the identification heap_modify_tuple would copy */
		sealed->t_data->t_ctid = newtup->t_data->t_ctid;
		sealed->t_self = newtup->t_self;
		sealed->t_tableOid = newtup->t_tableOid;
		newtup = sealed;
	}
	return PointerGetDatum(newtup);
}

/* Is the current user allowed to see plaintext? */
static void
check_reader(RgCryptTable *t, RgCryptColumn *c)
{
	Oid			reader = get_role_oid("riskguard_reader", true);

	if (!OidIsValid(reader) || !has_privs_of_role(GetUserId(), reader))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to decrypt column \"%s\" of table \"%s\"",
						c->name, t->display),
				 errhint("Only members of riskguard_reader may read protected columns in plaintext.")));
}

/* state kept across calls of decrypt in one query */
typedef struct DecryptCache
{
	uint64		generation;
	Oid			typid;
	char		colname[NAMEDATALEN];
	RgCryptTable *table;
	RgCryptColumn *column;
	TupleDesc	desc;
} DecryptCache;

static void
resolve_row_column(FunctionCallInfo fcinfo, HeapTupleHeader th, const char *colname,
				   DecryptCache **out)
{
	DecryptCache *dc = (DecryptCache *) fcinfo->flinfo->fn_extra;
	Oid			typid = HeapTupleHeaderGetTypeId(th);
	Oid			relid;

	if (dc != NULL && dc->generation == rg_crypt_generation && dc->typid == typid &&
		strcmp(dc->colname, colname) == 0)
	{
		*out = dc;
		return;
	}
	if (dc == NULL)
	{
		dc = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(DecryptCache));
		fcinfo->flinfo->fn_extra = dc;
	}
	relid = get_typ_typrelid(typid);
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("decryption needs a row of a protected table"),
				 errhint("Pass the whole row, as in riskguard.decrypt(t.*, 'column') FROM table t.")));
	dc->table = rg_crypt_table(relid);
	if (dc->table == NULL || (dc->column = rg_crypt_column(dc->table, colname)) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column \"%s\" of table \"%s\" is not protected", colname,
						rel_display(relid))));
	check_reader(dc->table, dc->column);
	if (dc->desc)
		FreeTupleDesc(dc->desc);
	{
		TupleDesc	td = lookup_rowtype_tupdesc(typid, -1);
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		dc->desc = CreateTupleDescCopy(td);
		MemoryContextSwitchTo(old);
		ReleaseTupleDesc(td);
	}
	dc->typid = typid;
	if (colname != dc->colname)
		strlcpy(dc->colname, colname, NAMEDATALEN);
	dc->generation = rg_crypt_generation;
	*out = dc;
}

/*
 * Open a stored value of column c; ad is its associated data as ad_start began it, with
 * the row's primary key fields appended.
 */
static struct varlena *
open_stored(RgCryptTable *t, RgCryptColumn *c, struct varlena *v, ByteBuf *ad)
{
	const unsigned char *env;
	size_t		envlen;
	uint32		key_id;
	const unsigned char *key;
	RgEnvKeyCache *kc;
	RgEnvStatus st;
	struct varlena *result;
	ByteBuf		scratch;

	buf_init(&scratch);
	st = stored_envelope(c, v, &env, &envlen, &key_id, &scratch);
	if (st == RG_ENV_TOO_SHORT)
		decrypt_failed(t, c, psprintf("The value is %zu bytes long, shorter than any envelope.",
									  VARSIZE_ANY_EXHDR(v)));
	if (st == RG_ENV_NOT_BASE64)
		decrypt_failed(t, c, "The value is not base64 text.");
	if (st == RG_ENV_BAD_VERSION)
		decrypt_failed(t, c, psprintf("The envelope format version %d is not supported.",
									  (int) env[0]));
	key = rg_crypt_column_key_cache(c, key_id, &kc);
	if (key == NULL)
		decrypt_failed(t, c, psprintf("The value was sealed under key id %u, which is not a key of this column.",
									  key_id));

	/*
	 * The result is wiped when the caller's context is reset.  Large results are not:
	 * a caller that frees a large chunk early returns it to the C library, and wiping
	 * it then would write into freed memory.
	 */
	if (envlen - RG_ENV_OVERHEAD <= RG_WIPED_RESULT_MAX)
		result = palloc_wiped(VARHDRSZ + envlen - RG_ENV_OVERHEAD);
	else
		result = palloc(VARHDRSZ + envlen - RG_ENV_OVERHEAD);
	rg_env_ad_header(ad->data, key_id);
	st = rg_env_open_cached((unsigned char *) VARDATA(result), env, envlen, ad->data, ad->len,
							key, kc);
	if (st != RG_ENV_OK)
		decrypt_failed(t, c, "The authentication tag does not verify for this row and column.");
	SET_VARSIZE(result, VARHDRSZ + envlen - RG_ENV_OVERHEAD);
	buf_free(&scratch);
	return result;
}

static Datum
decrypt_common(FunctionCallInfo fcinfo, bool want_text, bool *isnull)
{
	HeapTupleHeader th;
	text	   *coltext = PG_GETARG_TEXT_PP(1);
	DecryptCache *dc = (DecryptCache *) fcinfo->flinfo->fn_extra;
	char	   *colname;
	RgCryptTable *t;
	RgCryptColumn *c;
	HeapTupleData tup;
	Datum		d;
	struct varlena *v;
	ByteBuf		ad;

	/* the argument's type is fixed for this call site: check it once */
	if (fcinfo->flinfo->fn_extra == NULL)
	{
		Oid			argtype = get_fn_expr_argtype(fcinfo->flinfo, 0);

		if (!OidIsValid(argtype) || !type_is_rowtype(argtype))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("decryption needs a row of a protected table"),
					 errhint("Pass the whole row, as in riskguard.decrypt(t.*, 'column') FROM table t.")));
	}
	th = PG_GETARG_HEAPTUPLEHEADER(0);
	/* the column name is almost always the cached one: compare without copying */
	if (dc != NULL && VARSIZE_ANY_EXHDR(coltext) == strlen(dc->colname) &&
		memcmp(VARDATA_ANY(coltext), dc->colname, VARSIZE_ANY_EXHDR(coltext)) == 0)
		colname = dc->colname;
	else
		colname = text_to_cstring(coltext);
	resolve_row_column(fcinfo, th, colname, &dc);
	t = dc->table;
	c = dc->column;
	if (c->is_text != want_text)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of table \"%s\" is of type %s", c->name, t->display,
						c->is_text ? "text" : "bytea"),
				 errhint(c->is_text ? "Use riskguard.decrypt for text columns." :
						 "Use riskguard.decrypt_bytea for bytea columns.")));

	tup.t_len = HeapTupleHeaderGetDatumLength(th);
	ItemPointerSetInvalid(&tup.t_self);
	tup.t_tableOid = InvalidOid;
	tup.t_data = th;
	d = heap_getattr(&tup, c->attnum, dc->desc, isnull);
	if (*isnull)
		return (Datum) 0;
	v = PG_DETOAST_DATUM_PACKED(d);

	buf_init(&ad);
	ad_start(c, &ad);
	pk_fields(t, &tup, dc->desc, &ad);
	d = PointerGetDatum(open_stored(t, c, v, &ad));
	buf_free(&ad);
	return d;
}

PG_FUNCTION_INFO_V1(rg_decrypt_text);

/*
 * riskguard.decrypt(row, column): the plaintext of a protected text column of a row,
 * for members of riskguard_reader; 42501 for anyone else, RG010 when it does not open.
 */
Datum
rg_decrypt_text(PG_FUNCTION_ARGS)
{
	bool		isnull = false;
	Datum		d = decrypt_common(fcinfo, true, &isnull);

	if (isnull)
		PG_RETURN_NULL();
	return d;
}

PG_FUNCTION_INFO_V1(rg_decrypt_bytea);

/* riskguard.decrypt_bytea(row, column): the same for bytea columns. */
Datum
rg_decrypt_bytea(PG_FUNCTION_ARGS)
{
	bool		isnull = false;
	Datum		d = decrypt_common(fcinfo, false, &isnull);

	if (isnull)
		PG_RETURN_NULL();
	return d;
}

/* state kept across calls of the value-and-key form of decrypt in one query */
typedef struct OpenCache
{
	uint64		generation;
	Oid			relid;
	char		colname[NAMEDATALEN];
	size_t		colname_len;
	RgCryptTable *table;
	RgCryptColumn *column;
} OpenCache;

static Datum
open_by_key(FunctionCallInfo fcinfo, bool want_text)
{
	struct varlena *v = PG_GETARG_VARLENA_PP(0);
	Oid			relid = PG_GETARG_OID(1);
	text	   *coltext = PG_GETARG_TEXT_PP(2);
	OpenCache  *oc = (OpenCache *) fcinfo->flinfo->fn_extra;
	RgCryptTable *t;
	RgCryptColumn *c;
	ByteBuf		ad;
	Datum		result;

	if (oc == NULL || oc->generation != rg_crypt_generation || oc->relid != relid ||
		oc->colname_len != VARSIZE_ANY_EXHDR(coltext) ||
		memcmp(oc->colname, VARDATA_ANY(coltext), oc->colname_len) != 0)
	{
		char	   *colname = text_to_cstring(coltext);

		if (oc == NULL)
		{
			oc = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(OpenCache));
			fcinfo->flinfo->fn_extra = oc;
		}
		oc->generation = 0;
		oc->table = rg_crypt_table(relid);
		if (oc->table == NULL || (oc->column = rg_crypt_column(oc->table, colname)) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("column \"%s\" of table \"%s\" is not protected", colname,
							rel_display(relid))));
		check_reader(oc->table, oc->column);
		if (oc->column->is_text != want_text)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of table \"%s\" is of type %s", oc->column->name,
							oc->table->display, oc->column->is_text ? "text" : "bytea")));
		/* the primary key values must be of the key columns' types, in order */
		if (PG_NARGS() - 3 != oc->table->npk)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("table \"%s\" has %d primary key columns, not %d",
							oc->table->display, oc->table->npk, PG_NARGS() - 3)));
		for (int i = 0; i < oc->table->npk; i++)
		{
			Oid			argtype = get_fn_expr_argtype(fcinfo->flinfo, 3 + i);

			if (!OidIsValid(argtype) || getBaseType(argtype) != oc->table->pk_types[i])
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("primary key value %d for table \"%s\" is of type %s, not %s",
								i + 1, oc->table->display, format_type_be(argtype),
								format_type_be(oc->table->pk_types[i]))));
		}
		oc->relid = relid;
		strlcpy(oc->colname, colname, NAMEDATALEN);
		oc->colname_len = strlen(oc->colname);
		oc->generation = rg_crypt_generation;
	}
	t = oc->table;
	c = oc->column;

	buf_init(&ad);
	ad_start(c, &ad);
	buf_put_u32(&ad, (uint32) t->npk);
	for (int i = 0; i < t->npk; i++)
		pk_value(t, i, PG_GETARG_DATUM(3 + i), &ad);
	result = PointerGetDatum(open_stored(t, c, v, &ad));
	buf_free(&ad);
	return result;
}

PG_FUNCTION_INFO_V1(rg_open_text);

/*
 * riskguard.decrypt(value, tbl, col, VARIADIC pk): the plaintext of a stored text value
 * of protected column col, given its row's primary key values; what the generated views
 * call (cheaper than passing the whole row).  Readers only; RG010 when it does not open.
 */
Datum
rg_open_text(PG_FUNCTION_ARGS)
{
	return open_by_key(fcinfo, true);
}

PG_FUNCTION_INFO_V1(rg_open_bytea);

/* riskguard.decrypt_bytea(value, tbl, col, VARIADIC pk): the same for bytea columns. */
Datum
rg_open_bytea(PG_FUNCTION_ARGS)
{
	return open_by_key(fcinfo, false);
}

PG_FUNCTION_INFO_V1(rg_blind_index);

/*
 * riskguard.blind_index(tbl, col, value): the blind index the sealing trigger stores
 * for value, to search the blind index column by equality.
 */
Datum
rg_blind_index(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *colname = NameStr(*PG_GETARG_NAME(1));
	struct varlena *v = PG_GETARG_VARLENA_PP(2);
	RgCryptTable *t = rg_crypt_table(relid);
	RgCryptColumn *c;

	if (t == NULL || (c = rg_crypt_column(t, colname)) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column \"%s\" of table \"%s\" is not protected", colname,
						rel_display(relid))));
	if (c->bidx_attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column \"%s\" of table \"%s\" has no blind index", colname, t->display),
				 errhint("Protect the column with a blind_index_column to search it by equality.")));
	return blind_index_datum(c, (const unsigned char *) VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
}

PG_FUNCTION_INFO_V1(rg_envelope_key_id_text);

/* riskguard.envelope_key_id(text): the key id a stored text value is sealed under. */
Datum
rg_envelope_key_id_text(PG_FUNCTION_ARGS)
{
	text	   *v = PG_GETARG_TEXT_PP(0);
	const char *data = VARDATA_ANY(v);
	size_t		len = VARSIZE_ANY_EXHDR(v);
	unsigned char head[6];
	size_t		headlen;

	if (len < RG_B64_LEN(RG_ENV_OVERHEAD) || len % 4 != 0 ||
		!rg_env_from_base64(head, sizeof(head), &headlen, data, 8) ||
		headlen != 6 || head[0] != RG_ENV_VERSION)
		PG_RETURN_NULL();
	PG_RETURN_INT64((int64) rg_env_get_u32(head + 1));
}

PG_FUNCTION_INFO_V1(rg_envelope_key_id_bytea);

/* riskguard.envelope_key_id(bytea): the same for bytea values. */
Datum
rg_envelope_key_id_bytea(PG_FUNCTION_ARGS)
{
	bytea	   *v = PG_GETARG_BYTEA_PP(0);
	uint32		key_id;

	if (rg_env_parse((const unsigned char *) VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v),
					 &key_id) != RG_ENV_OK)
		PG_RETURN_NULL();
	PG_RETURN_INT64((int64) key_id);
}

PG_FUNCTION_INFO_V1(rg_crypto_invalidate);

/* riskguard._invalidate_keys(tbl): make every backend reload the table's keys. */
Datum
rg_crypto_invalidate(PG_FUNCTION_ARGS)
{
	CacheInvalidateRelcacheByRelid(PG_GETARG_OID(0));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(rg_crypto_require_key);

/* riskguard._require_root_key(): RG011 unless a root key is loaded. */
Datum
rg_crypto_require_key(PG_FUNCTION_ARGS)
{
	(void) rg_root_key();
	PG_RETURN_VOID();
}
