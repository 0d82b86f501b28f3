/*
 * ledger_verify.c
 *		riskguard.verify_ledger(): walk every account's hash chain and recompute its
 *		balances from the transfers; riskguard.ledger_digest(): one hash over all
 *		accounts' chain heads.
 *
 * The walk reads the chain entries (two per transfer) in account and position order
 * through a cursor, so memory stays bounded whatever the ledger's size.  A changed
 * transfer breaks its hash; a removed one leaves a gap in the positions or a head that
 * no transfer reaches; an inserted one repeats a position or breaks the next hash; a
 * changed status disagrees with the phase that was hashed.  Rewriting a whole chain
 * consistently is possible for a superuser: ledger_digest() kept outside the database
 * detects that.
 */
#include "postgres.h"

#include "common/int.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "ledger_hash.h"

#define VERIFY_BATCH 1000

/* the walk's state for one account */
typedef struct VerifyAccount
{
	int64		id;
	bool		exists;
	int64		expect_seq;		/* next position expected */
	bool		has_prev;
	unsigned char prev[LEDGER_HASH_BYTES];
	bool		bad;
	bool		has_bad_transfer;
	int64		bad_transfer;
	char	   *detail;
	bool		overflow;
	int64		debits_posted,
				credits_posted,
				debits_pending,
				credits_pending;
} VerifyAccount;

static void
mark_bad(VerifyAccount *v, bool has_transfer, int64 transfer, char *detail)
{
	if (v->bad)
		return;
	v->bad = true;
	v->has_bad_transfer = has_transfer;
	v->bad_transfer = transfer;
	v->detail = detail;
}

static void
add_to(VerifyAccount *v, int64 *total, int64 amount)
{
	if (pg_add_s64_overflow(*total, amount, total))
		v->overflow = true;
}

static bool
get_text(HeapTuple t, TupleDesc d, int col, LedgerText *out)
{
	bool		isnull;
	Datum		v = SPI_getbinval(t, d, col, &isnull);

	out->present = !isnull;
	out->data = NULL;
	out->len = 0;
	if (!isnull)
	{
		text	   *tx = DatumGetTextPP(v);

		out->data = VARDATA_ANY(tx);
		out->len = VARSIZE_ANY_EXHDR(tx);
	}
	return !isnull;
}

static int64
get_int64(HeapTuple t, TupleDesc d, int col, bool *isnull)
{
	Datum		v = SPI_getbinval(t, d, col, isnull);

	return *isnull ? 0 : DatumGetInt64(v);
}

/* check one chain entry of account v */
static void
verify_entry(VerifyAccount *v, HeapTuple t, TupleDesc d)
{
	bool		isnull,
				seqnull,
				hashnull,
				pendnull;
	char		side;
	int64		seq,
				id,
				amount;
	char	   *status,
			   *completion;
	LedgerRecord rec;
	LedgerPhase phase;
	Datum		hv;
	unsigned char computed[LEDGER_HASH_BYTES];
	bytea	   *stored;

	memset(&rec, 0, sizeof(rec));
	side = *TextDatumGetCString(SPI_getbinval(t, d, 2, &isnull));
	seq = get_int64(t, d, 3, &seqnull);
	hv = SPI_getbinval(t, d, 4, &hashnull);
	id = get_int64(t, d, 5, &isnull);
	rec.transfer_id = id;
	rec.debit_account = get_int64(t, d, 6, &isnull);
	rec.credit_account = get_int64(t, d, 7, &isnull);
	amount = get_int64(t, d, 8, &isnull);
	rec.amount = amount;
	get_text(t, d, 9, &rec.kind);
	get_text(t, d, 10, &rec.reference);
	get_text(t, d, 11, &rec.idempotency_key);
	status = SPI_getvalue(t, d, 12);
	rec.pending_id = get_int64(t, d, 13, &pendnull);
	rec.created_at = get_int64(t, d, 14, &isnull);
	get_text(t, d, 15, &rec.created_by);
	completion = SPI_getvalue(t, d, 16);

	/* the phase the transfer was written in, and whether its status agrees */
	if (!pendnull)
	{
		if (status && strcmp(status, "posted") == 0)
			phase = LEDGER_PHASE_POST;
		else if (status && strcmp(status, "voided") == 0)
			phase = LEDGER_PHASE_VOID;
		else
		{
			mark_bad(v, true, id, psprintf("Transfer %lld completes transfer %lld but has status %s.",
										   (long long) id, (long long) rec.pending_id, status ? status : "NULL"));
			return;
		}
	}
	else if (completion != NULL)
	{
		phase = LEDGER_PHASE_HOLD;
		if (status == NULL || strcmp(status, completion) != 0)
		{
			mark_bad(v, true, id, psprintf("Transfer %lld has status %s but its completion says %s.",
										   (long long) id, status ? status : "NULL", completion));
			return;
		}
	}
	else if (status && strcmp(status, "pending") == 0)
		phase = LEDGER_PHASE_HOLD;
	else if (status && strcmp(status, "posted") == 0)
		phase = LEDGER_PHASE_POSTED;
	else
	{
		mark_bad(v, true, id, psprintf("Transfer %lld has status %s without a completion.",
									   (long long) id, status ? status : "NULL"));
		return;
	}
	rec.phase = phase;

	if (seqnull || hashnull)
	{
		mark_bad(v, true, id, psprintf("Transfer %lld has no chain entry for this account.", (long long) id));
		return;
	}
	if (seq != v->expect_seq)
	{
		if (seq < v->expect_seq)
			mark_bad(v, true, id, psprintf("Transfer %lld repeats chain position %lld.",
										   (long long) id, (long long) seq));
		else
			mark_bad(v, true, id, psprintf("Chain position %lld is missing before transfer %lld.",
										   (long long) v->expect_seq, (long long) id));
		return;
	}
	stored = DatumGetByteaPP(hv);
	if (ledger_chain_hash(v->has_prev ? v->prev : NULL, side, seq, &rec, computed) != 0)
		elog(ERROR, "could not initialise libsodium");
	if (VARSIZE_ANY_EXHDR(stored) != LEDGER_HASH_BYTES ||
		memcmp(VARDATA_ANY(stored), computed, LEDGER_HASH_BYTES) != 0)
	{
		mark_bad(v, true, id, psprintf("Transfer %lld does not match its chain hash at position %lld.",
									   (long long) id, (long long) seq));
		return;
	}
	memcpy(v->prev, computed, LEDGER_HASH_BYTES);
	v->has_prev = true;
	v->expect_seq++;

	/* the balances the transfers imply */
	if (phase == LEDGER_PHASE_POSTED || phase == LEDGER_PHASE_POST)
		add_to(v, side == 'D' ? &v->debits_posted : &v->credits_posted, amount);
	else if (phase == LEDGER_PHASE_HOLD && completion == NULL)
		add_to(v, side == 'D' ? &v->debits_pending : &v->credits_pending, amount);
}

/* compare the walk's end with the account row: head, length, balances */
static void
verify_account_end(VerifyAccount *v, HeapTuple t, TupleDesc d)
{
	bool		isnull;
	int64		head_seq = get_int64(t, d, 2, &isnull);
	Datum		hv = SPI_getbinval(t, d, 3, &isnull);
	int64		dp = get_int64(t, d, 4, &isnull),
				cp = get_int64(t, d, 5, &isnull),
				dh = get_int64(t, d, 6, &isnull),
				ch = get_int64(t, d, 7, &isnull);

	if (v->bad)
		return;
	if (v->expect_seq - 1 != head_seq)
	{
		mark_bad(v, false, 0, psprintf("The chain has %lld transfers but the account's head is at position %lld.",
									   (long long) (v->expect_seq - 1), (long long) head_seq));
		return;
	}
	if (head_seq > 0)
	{
		bytea	   *h = isnull ? NULL : DatumGetByteaPP(hv);

		if (h == NULL || VARSIZE_ANY_EXHDR(h) != LEDGER_HASH_BYTES ||
			memcmp(VARDATA_ANY(h), v->prev, LEDGER_HASH_BYTES) != 0)
		{
			mark_bad(v, false, 0, pstrdup("The account's head hash does not match its last transfer."));
			return;
		}
	}
	if (v->overflow || dp != v->debits_posted || cp != v->credits_posted ||
		dh != v->debits_pending || ch != v->credits_pending)
		mark_bad(v, false, 0, psprintf("The account's balances (debits %lld/%lld, credits %lld/%lld posted/pending) do not match its transfers (debits %lld/%lld, credits %lld/%lld).",
									   (long long) dp, (long long) dh, (long long) cp, (long long) ch,
									   (long long) v->debits_posted, (long long) v->debits_pending,
									   (long long) v->credits_posted, (long long) v->credits_pending));
}

static void
emit(Tuplestorestate *ts, TupleDesc desc, VerifyAccount *v)
{
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	values[0] = Int64GetDatum(v->id);
	values[1] = BoolGetDatum(!v->bad);
	values[2] = Int64GetDatum(v->bad_transfer);
	nulls[2] = !v->has_bad_transfer;
	if (v->detail)
		values[3] = CStringGetTextDatum(v->detail);
	else
		nulls[3] = true;
	tuplestore_putvalues(ts, desc, values, nulls);
}

static const char *const entries_sql =
"SELECT s.account_id, s.side, s.seq, s.hash, t.id, t.debit_account, t.credit_account, t.amount, "
"       t.kind, t.reference, t.idempotency_key, t.status, t.pending_id, "
"       t.created_at, "
"       t.created_by, c.status "
"  FROM riskguard.transfer t "
"  LEFT JOIN riskguard.transfer_completion tc ON tc.pending_id OPERATOR(pg_catalog.=) t.id "
"  LEFT JOIN riskguard.transfer c ON c.id OPERATOR(pg_catalog.=) tc.transfer_id "
"  CROSS JOIN LATERAL (VALUES (t.debit_account, 'D'::pg_catalog.text, t.debit_seq, t.debit_hash), "
"                             (t.credit_account, 'C'::pg_catalog.text, t.credit_seq, t.credit_hash)) "
"       AS s(account_id, side, seq, hash) "
" ORDER BY s.account_id, s.seq, t.id";

static const char *const accounts_sql =
"SELECT a.id, a.head_seq, a.head_hash, a.debits_posted, a.credits_posted, "
"       a.debits_pending, a.credits_pending "
"  FROM riskguard.account a ORDER BY a.id";

PG_FUNCTION_INFO_V1(rg_ledger_verify);

/* riskguard.verify_ledger(): one row per account (and per unknown account named) */
Datum
rg_ledger_verify(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Portal		entries,
				accounts;
	MemoryContext acctx;
	VerifyAccount v;
	bool		have_v = false;
	HeapTuple	acc_tuple = NULL;
	TupleDesc	acc_desc = NULL;
	uint64		acc_pos = 0;
	SPITupleTable *acc_batch = NULL;

	InitMaterializedSRF(fcinfo, 0);
	acctx = AllocSetContextCreate(CurrentMemoryContext, "riskguard verify", ALLOCSET_DEFAULT_SIZES);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "could not connect to SPI");
	accounts = SPI_cursor_open_with_args("rg_verify_accounts", accounts_sql, 0, NULL, NULL, NULL, true, 0);
	entries = SPI_cursor_open_with_args("rg_verify_entries", entries_sql, 0, NULL, NULL, NULL, true, 0);

	/*
	 * Merge the entries (ordered by account) with the accounts (ordered by id).  The
	 * current account row is kept in acc_batch/acc_pos.
	 */
#define NEXT_ACCOUNT() \
	do { \
		if (acc_batch == NULL || acc_pos >= acc_batch->numvals) \
		{ \
			if (acc_batch) SPI_freetuptable(acc_batch); \
			SPI_cursor_fetch(accounts, true, VERIFY_BATCH); \
			acc_batch = SPI_tuptable; acc_pos = 0; \
			acc_desc = acc_batch->tupdesc; \
		} \
		acc_tuple = acc_pos < acc_batch->numvals ? acc_batch->vals[acc_pos++] : NULL; \
	} while (0)

	NEXT_ACCOUNT();
	for (;;)
	{
		SPITupleTable *batch;

		SPI_cursor_fetch(entries, true, VERIFY_BATCH);
		batch = SPI_tuptable;
		if (batch->numvals == 0)
		{
			SPI_freetuptable(batch);
			break;
		}
		for (uint64 i = 0; i < batch->numvals; i++)
		{
			HeapTuple	t = batch->vals[i];
			bool		isnull;
			int64		account = get_int64(t, batch->tupdesc, 1, &isnull);

			CHECK_FOR_INTERRUPTS();
			if (!have_v || isnull || account != v.id)
			{
				/* finish the account walked so far */
				if (have_v)
				{
					if (v.exists)
					{
						verify_account_end(&v, acc_tuple, acc_desc);
						emit(rsinfo->setResult, rsinfo->setDesc, &v);
						NEXT_ACCOUNT();
					}
					else
						emit(rsinfo->setResult, rsinfo->setDesc, &v);
				}
				MemoryContextReset(acctx);
				/* accounts without transfers before this one */
				while (acc_tuple != NULL && !isnull &&
					   get_int64(acc_tuple, acc_desc, 1, &isnull) < account)
				{
					memset(&v, 0, sizeof(v));
					v.id = get_int64(acc_tuple, acc_desc, 1, &isnull);
					v.exists = true;
					v.expect_seq = 1;
					verify_account_end(&v, acc_tuple, acc_desc);
					emit(rsinfo->setResult, rsinfo->setDesc, &v);
					NEXT_ACCOUNT();
					isnull = false;
				}
				memset(&v, 0, sizeof(v));
				v.id = account;
				v.expect_seq = 1;
				have_v = true;
				v.exists = acc_tuple != NULL && !isnull &&
					get_int64(acc_tuple, acc_desc, 1, &isnull) == account;
				if (!v.exists)
				{
					MemoryContext old = MemoryContextSwitchTo(acctx);

					mark_bad(&v, true, get_int64(t, batch->tupdesc, 5, &isnull),
							 psprintf("Transfer %lld names account %lld, which does not exist.",
									  (long long) get_int64(t, batch->tupdesc, 5, &isnull),
									  (long long) account));
					MemoryContextSwitchTo(old);
				}
			}
			if (!v.bad)
			{
				MemoryContext old = MemoryContextSwitchTo(acctx);

				verify_entry(&v, t, batch->tupdesc);
				MemoryContextSwitchTo(old);
			}
		}
		SPI_freetuptable(batch);
	}
	if (have_v)
	{
		if (v.exists)
		{
			verify_account_end(&v, acc_tuple, acc_desc);
			emit(rsinfo->setResult, rsinfo->setDesc, &v);
			NEXT_ACCOUNT();
		}
		else
			emit(rsinfo->setResult, rsinfo->setDesc, &v);
	}
	while (acc_tuple != NULL)
	{
		bool		isnull;

		CHECK_FOR_INTERRUPTS();
		memset(&v, 0, sizeof(v));
		v.id = get_int64(acc_tuple, acc_desc, 1, &isnull);
		v.exists = true;
		v.expect_seq = 1;
		verify_account_end(&v, acc_tuple, acc_desc);
		emit(rsinfo->setResult, rsinfo->setDesc, &v);
		NEXT_ACCOUNT();
	}
#undef NEXT_ACCOUNT
	SPI_cursor_close(entries);
	SPI_cursor_close(accounts);
	SPI_finish();
	MemoryContextDelete(acctx);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(rg_ledger_digest);

/* riskguard.ledger_digest(): BLAKE2b-256 over (id, head position, head hash) by id */
Datum
rg_ledger_digest(PG_FUNCTION_ARGS)
{
	LedgerDigest dg;
	Portal		cur;
	unsigned char out[LEDGER_HASH_BYTES];
	bytea	   *result;

	if (ledger_digest_init(&dg) != 0)
		elog(ERROR, "could not initialise libsodium");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "could not connect to SPI");
	cur = SPI_cursor_open_with_args("rg_digest", accounts_sql, 0, NULL, NULL, NULL, true, 0);
	for (;;)
	{
		SPI_cursor_fetch(cur, true, VERIFY_BATCH);
		if (SPI_processed == 0)
			break;
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	t = SPI_tuptable->vals[i];
			TupleDesc	d = SPI_tuptable->tupdesc;
			bool		isnull;
			int64		id = get_int64(t, d, 1, &isnull);
			int64		seq = get_int64(t, d, 2, &isnull);
			Datum		hv = SPI_getbinval(t, d, 3, &isnull);
			bytea	   *h = isnull ? NULL : DatumGetByteaPP(hv);

			CHECK_FOR_INTERRUPTS();
			ledger_digest_add(&dg, id, seq,
							  h && VARSIZE_ANY_EXHDR(h) == LEDGER_HASH_BYTES ?
							  (const unsigned char *) VARDATA_ANY(h) : NULL);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(cur);
	SPI_finish();
	ledger_digest_final(&dg, out);
	result = palloc(VARHDRSZ + LEDGER_HASH_BYTES);
	SET_VARSIZE(result, VARHDRSZ + LEDGER_HASH_BYTES);
	memcpy(VARDATA(result), out, LEDGER_HASH_BYTES);
	PG_RETURN_BYTEA_P(result);
}
