/*
 * audit.c
 *		The hash that chains the control audit log.
 *
 * Each entry's hash is BLAKE2b-256 over the previous entry's hash and the entry's own
 * fields, each length-prefixed so that no two different entries encode alike:
 *
 *   "riskguard audit v1" || prev(32) || seq(8, big-endian) || at(8, big-endian
 *   microseconds since 2000-01-01 UTC) || for actor, action, target, payload (the
 *   jsonb's canonical text): len(4, big-endian) || bytes, with len 0xFFFFFFFF for NULL.
 *
 * The appending, locking and verification are in SQL (src/sql/05_audit.sql): the log is
 * written a few times a day, by administrators.
 */
#include "postgres.h"

#include <sodium.h>

#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "rg_errors.h"

#define AUDIT_HASH_BYTES 32

static void
put_u64(crypto_generichash_state *st, uint64 v)
{
	unsigned char b[8];

	for (int i = 7; i >= 0; i--)
	{
		b[i] = (unsigned char) (v & 0xff);
		v >>= 8;
	}
	crypto_generichash_update(st, b, sizeof(b));
}

static void
put_field(crypto_generichash_state *st, const char *data, uint32 len, bool isnull)
{
	unsigned char b[4];
	uint32		l = isnull ? 0xFFFFFFFF : len;

	b[0] = (unsigned char) (l >> 24);
	b[1] = (unsigned char) (l >> 16);
	b[2] = (unsigned char) (l >> 8);
	b[3] = (unsigned char) l;
	crypto_generichash_update(st, b, sizeof(b));
	if (!isnull && len > 0)
		crypto_generichash_update(st, (const unsigned char *) data, len);
}

static void
put_text_arg(crypto_generichash_state *st, FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		put_field(st, NULL, 0, true);
	else
	{
		text	   *t = PG_GETARG_TEXT_PP(argno);

		put_field(st, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), false);
	}
}

PG_FUNCTION_INFO_V1(rg_audit_hash);

/*
 * riskguard.audit_hash(prev bytea, seq bigint, at timestamptz, actor text, action text,
 * target text, payload jsonb): the chained hash of one audit entry.  A NULL prev is the
 * start of the chain (32 zero bytes).
 */
Datum
rg_audit_hash(PG_FUNCTION_ARGS)
{
	static const char label[] = "riskguard audit v1";
	unsigned char zero[AUDIT_HASH_BYTES] = {0};
	crypto_generichash_state st;
	bytea	   *result;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("audit entry sequence number and time must not be null")));

	if (sodium_init() < 0)
		elog(ERROR, "libsodium could not be initialised");

	crypto_generichash_init(&st, NULL, 0, AUDIT_HASH_BYTES);
	crypto_generichash_update(&st, (const unsigned char *) label, sizeof(label) - 1);
	if (PG_ARGISNULL(0))
		crypto_generichash_update(&st, zero, sizeof(zero));
	else
	{
		bytea	   *prev = PG_GETARG_BYTEA_PP(0);

		if (VARSIZE_ANY_EXHDR(prev) != AUDIT_HASH_BYTES)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("previous audit hash must be %d bytes, not %d",
							AUDIT_HASH_BYTES, (int) VARSIZE_ANY_EXHDR(prev))));
		crypto_generichash_update(&st, (const unsigned char *) VARDATA_ANY(prev),
								  AUDIT_HASH_BYTES);
	}
	put_u64(&st, (uint64) PG_GETARG_INT64(1));
	put_u64(&st, (uint64) PG_GETARG_TIMESTAMPTZ(2));
	put_text_arg(&st, fcinfo, 3);
	put_text_arg(&st, fcinfo, 4);
	put_text_arg(&st, fcinfo, 5);
	if (PG_ARGISNULL(6))
		put_field(&st, NULL, 0, true);
	else
	{
		Jsonb	   *j = PG_GETARG_JSONB_P(6);
		char	   *s = JsonbToCString(NULL, &j->root, VARSIZE(j));

		put_field(&st, s, strlen(s), false);
	}

	result = palloc(VARHDRSZ + AUDIT_HASH_BYTES);
	SET_VARSIZE(result, VARHDRSZ + AUDIT_HASH_BYTES);
	crypto_generichash_final(&st, (unsigned char *) VARDATA(result), AUDIT_HASH_BYTES);
	PG_RETURN_BYTEA_P(result);
}

PG_FUNCTION_INFO_V1(rg_refuse_change);

/*
 * Trigger for append-only tables: refuses UPDATE, DELETE and TRUNCATE with RG004.
 */
Datum
rg_refuse_change(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const char *what;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function can only be called as a trigger")));
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		what = "UPDATE";
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		what = "DELETE";
	else if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		what = "TRUNCATE";
	else
		what = "INSERT";

	rg_error(ERRCODE_RG_APPEND_ONLY,
			 psprintf("Table \"%s\" keeps history: its rows are never changed or removed.",
					  RelationGetRelationName(trigdata->tg_relation)),
			 NULL,
			 "%s on \"%s\" is refused: the table is append-only",
			 what, RelationGetRelationName(trigdata->tg_relation));
	PG_RETURN_NULL();
}
