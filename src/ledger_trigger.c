/*
 * ledger_trigger.c
 *		The transfer trigger: every transfer, whether written by INSERT or by
 *		post_transfer, hold_transfer, post_pending or void_pending, passes through one
 *		code path, in this order:
 *
 *		1. validity: no NULLs, amount > 0, kind non-empty, a known status; both accounts
 *		   exist, differ and share the currency; a completion names a pending transfer
 *		   it matches;
 *		2. idempotency: a key seen before with the same fields keeps the first transfer
 *		   (the row is skipped), with other fields raises RG005; a new key, and the
 *		   pending transfer a completion completes, are recorded (transfer_key,
 *		   transfer_completion);
 *		3. segregation: the flow between the two accounts' pools (see
 *		   check_segregation for its direction) must be in riskguard.pool_flow for
 *		   this kind (RG002);
 *		4. balance constraints and overflow (RG003, 22003);
 *		5. chain hashes and the account updates, in id order;
 *		6. reserve provisioning: the provision's amount and accounts are settled; a
 *		   completion marks its pending transfer posted or voided;
 *		7. the provision transfer, posted through this same trigger.
 *
 * Account rows are locked in id order: a transfer between its two accounts only reads
 * them unlocked and its updates lock them (a concurrent change since its snapshot is
 * caught by the update, and the account read again, rechecked and rechained); one with
 * a reserve rule or completing a pending transfer locks every account it involves, the
 * rule's too, in step 1.  Between steps 5 and 6 the limits count the transfer
 * (limit_rules.c), then the alert rules see it (alert.c), as one call on the
 * LedgerPosting: their rows are always taken after the accounts'.  Account rows are
 * read and written by direct heap access (ledger_heap.c); the configuration comes from
 * the per-backend cache (ledger_cache.c).  Each call works in its own memory context,
 * deleted on return, so a session's memory does not grow
 * with the number of transfers.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/int.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/syscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "ledger.h"
#include "riskguard.h"
#include "alert.h"
#include "ledger_hash.h"
#include "limit_rules.h"
#include "rg_errors.h"

/* the most accounts one transfer locks: its two and the reserve rule's two */
#define LEDGER_MAX_LOCKED 4

/* one account as the transfer sees and changes it */
typedef struct LedgerAccount
{
	int64		id;
	char	   *code;
	int			pool;
	char	   *owner;			/* NULL for the platform's own accounts */
	char	   *owner_kind;		/* NULL, "individual" or "entity" */
	char		currency[4];
	bool		credit_normal;
	bool		allow_overdraft;
	int64		debits_posted;
	int64		credits_posted;
	int64		debits_pending;
	int64		credits_pending;
	int64		head_seq;
	bool		has_head;
	unsigned char head_hash[LEDGER_HASH_BYTES];
	LedgerRow	row;
	int		   *off;			/* where row.tuple holds each value (ledger_row_offsets) */
} LedgerAccount;

/* everything the steps share about the transfer being written */
typedef struct LedgerPosting
{
	const LedgerCache *cache;
	Relation	transfer_rel;
	HeapTuple	newtuple;
	Datum	   *newvalues;		/* its columns, for the row the trigger returns */
	bool	   *newnulls;
	int64		id;
	int64		debit_id;
	int64		credit_id;
	int64		amount;
	char	   *kind;
	char	   *reference;		/* NULL when absent */
	char	   *idempotency_key;	/* NULL when absent */
	char	   *status;
	bool		has_pending_id;
	int64		pending_id;
	int64		pending_amount;	/* a completion: the amount held */
	char	   *pending_status;	/* a completion: the pending transfer's status */
	bool		pending_is_completion;	/* ... which is itself a completion */
	LedgerPhase phase;
	TimestampTz created_at;
	char	   *created_by;

	Snapshot	snapshot;		/* taken once the earlier postings are visible */
	bool		optimistic;		/* accounts read unlocked, locked by their update */
	int			nlocked;
	LedgerAccount locked[LEDGER_MAX_LOCKED];
	LedgerAccount *debit;
	LedgerAccount *credit;

	const LedgerReserveRule *rule;	/* NULL, or &rule_copy */
	LedgerReserveRule rule_copy;	/* the cache may be reloaded by a nested transfer */
	int64		provision;		/* 0 when none */

	bool		spi;			/* connected to SPI (only steps that run SQL connect) */
} LedgerPosting;

/* the role that wrote the outermost transfer, while a provision transfer is posted */
static char *acting_user = NULL;

static SPIPlanPtr idempotency_plan = NULL;
static SPIPlanPtr provision_plan = NULL;
static SPIPlanPtr key_plan = NULL;
static SPIPlanPtr completion_plan = NULL;

/* ---------- reading the new row ---------- */

static void
require_not_null(bool isnull, const char *column)
{
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("null value in column \"%s\" of transfer", column),
				 errdetail("A transfer needs a debit account, a credit account, an amount, a kind and a status.")));
}

/* the new row's fields, from one pass over the tuple */
static void
read_new_row(LedgerPosting *p, TupleDesc desc)
{
	const LedgerTransferAtts *a = &p->cache->tr;
	Datum	   *v = palloc(sizeof(Datum) * desc->natts);
	bool	   *n = palloc(sizeof(bool) * desc->natts);

	heap_deform_tuple(p->newtuple, desc, v, n);
	p->newvalues = v;
	p->newnulls = n;
#define REQUIRED(att) (require_not_null(n[a->att - 1], #att), v[a->att - 1])
#define TEXT_OR_NULL(att) (n[a->att - 1] ? NULL : TextDatumGetCString(v[a->att - 1]))
	p->id = DatumGetInt64(REQUIRED(id));
	p->debit_id = DatumGetInt64(REQUIRED(debit_account));
	p->credit_id = DatumGetInt64(REQUIRED(credit_account));
	p->amount = DatumGetInt64(REQUIRED(amount));
	p->kind = TextDatumGetCString(REQUIRED(kind));
	p->status = TextDatumGetCString(REQUIRED(status));
	p->reference = TEXT_OR_NULL(reference);
	p->idempotency_key = TEXT_OR_NULL(idempotency_key);
	p->has_pending_id = !n[a->pending_id - 1];
	p->pending_id = p->has_pending_id ? DatumGetInt64(v[a->pending_id - 1]) : 0;
#undef TEXT_OR_NULL
#undef REQUIRED
}

/* ---------- step 1: validity ---------- */

static void
check_fields(LedgerPosting *p)
{
	if (p->amount <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("transfer amount must be positive"),
				 errdetail("The amount from account %lld to account %lld is " INT64_FORMAT ".",
						   (long long) p->debit_id, (long long) p->credit_id, p->amount)));
	if (p->kind[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("transfer kind must not be empty"),
				 errhint("Name the kind of movement, such as deposit, withdrawal, invest or fee.")));
	if (p->idempotency_key && p->idempotency_key[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("idempotency key must not be empty"),
				 errhint("Leave it NULL when the transfer needs none.")));
	if (p->debit_id == p->credit_id)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("debit and credit account of a transfer must differ"),
				 errdetail("Both are account %lld; the amount is " INT64_FORMAT ".",
						   (long long) p->debit_id, p->amount)));

	if (!p->has_pending_id)
	{
		if (strcmp(p->status, "posted") == 0)
			p->phase = LEDGER_PHASE_POSTED;
		else if (strcmp(p->status, "pending") == 0)
			p->phase = LEDGER_PHASE_HOLD;
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a new transfer must have status posted or pending, not \"%s\"", p->status),
					 errhint("Void a pending transfer with riskguard.void_pending.")));
	}
	else
	{
		if (strcmp(p->status, "posted") == 0)
			p->phase = LEDGER_PHASE_POST;
		else if (strcmp(p->status, "voided") == 0)
			p->phase = LEDGER_PHASE_VOID;
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a transfer completing pending transfer %lld must have status posted or voided, not \"%s\"",
							(long long) p->pending_id, p->status)));
	}

	if (p->phase == LEDGER_PHASE_POSTED || p->phase == LEDGER_PHASE_POST)
	{
		const LedgerReserveRule *r = ledger_reserve_rule(p->cache, p->kind);

		if (r != NULL)
		{
			p->rule_copy = *r;
			p->rule = &p->rule_copy;
		}
	}
}

static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a,
				y = *(const int64 *) b;

	return (x > y) - (x < y);
}

static void
read_account(const LedgerCache *c, LedgerAccount *acc)
{
	TupleDesc	desc = RelationGetDescr(acc->row.rel);
	HeapTupleHeader tup = acc->row.tuple->t_data;
	char	   *tp = (char *) tup + tup->t_hoff;
	int		   *off = palloc(sizeof(int) * desc->natts);
	text	   *t;
	size_t		len;

	/* one pass over the tuple, keeping where each value lies for write_account */
	ledger_row_offsets(acc->row.tuple, desc, off);
	acc->off = off;
#define ISNULL(att) (off[c->acc.att - 1] < 0)
#define GET(att) (ISNULL(att) ? (Datum) 0 : \
				  fetchatt(TupleDescAttr(desc, c->acc.att - 1), tp + off[c->acc.att - 1]))
	acc->code = TextDatumGetCString(GET(code));
	acc->pool = ledger_pool_index(c, DatumGetObjectId(GET(pool)));
	acc->owner = ISNULL(owner) ? NULL : TextDatumGetCString(GET(owner));
	acc->owner_kind = ISNULL(owner_kind) ? NULL : TextDatumGetCString(GET(owner_kind));
	t = DatumGetTextPP(GET(currency));
	len = Min(VARSIZE_ANY_EXHDR(t), sizeof(acc->currency) - 1);
	memcpy(acc->currency, VARDATA_ANY(t), len);
	acc->currency[len] = '\0';
	t = DatumGetTextPP(GET(normal_side));
	acc->credit_normal = VARSIZE_ANY_EXHDR(t) == 6 && memcmp(VARDATA_ANY(t), "credit", 6) == 0;
	acc->allow_overdraft = DatumGetBool(GET(allow_overdraft));
	acc->debits_posted = DatumGetInt64(GET(debits_posted));
	acc->credits_posted = DatumGetInt64(GET(credits_posted));
	acc->debits_pending = DatumGetInt64(GET(debits_pending));
	acc->credits_pending = DatumGetInt64(GET(credits_pending));
	acc->head_seq = DatumGetInt64(GET(head_seq));
	acc->has_head = !ISNULL(head_hash);
	if (acc->has_head)
	{
		bytea	   *h = DatumGetByteaPP(GET(head_hash));

		if (VARSIZE_ANY_EXHDR(h) != LEDGER_HASH_BYTES)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("chain head of account \"%s\" is not %d bytes", acc->code, LEDGER_HASH_BYTES),
					 errhint("Run riskguard.verify_ledger() to find the damage.")));
		memcpy(acc->head_hash, VARDATA_ANY(h), LEDGER_HASH_BYTES);
	}
#undef GET
#undef ISNULL
}

/* one of the transfer's two accounts does not exist (23503) */
static void account_missing(LedgerPosting *p, int64 id) pg_attribute_noreturn();

static void
account_missing(LedgerPosting *p, int64 id)
{
	ereport(ERROR,
			(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
			 errmsg("account %lld does not exist", (long long) id),
			 errdetail("The transfer of " INT64_FORMAT " is from account %lld to account %lld.",
					   p->amount, (long long) p->debit_id, (long long) p->credit_id),
			 errhint("Open accounts with riskguard.open_account.")));
}

static LedgerAccount *
find_locked(LedgerPosting *p, int64 id)
{
	for (int i = 0; i < p->nlocked; i++)
		if (p->locked[i].id == id)
			return &p->locked[i];
	return NULL;
}

/*
 * Find the transfer's accounts and the reserve rule's, in id order.  A transfer that
 * moves money between its two accounts only (no reserve rule, not completing a pending
 * transfer) reads them unlocked: their updates lock them, in id order, and a concurrent
 * change is caught there (post_account).  Otherwise they are locked here, so the
 * provision transfer or the pending row is handled with every account already held.
 */
static void
lock_accounts(LedgerPosting *p, Relation accrel, Relation accidx)
{
	int64		ids[LEDGER_MAX_LOCKED];
	int			n = 0;

	p->optimistic = p->rule == NULL && !p->has_pending_id;

	ids[n++] = p->debit_id;
	ids[n++] = p->credit_id;
	if (p->rule)
	{
		ids[n++] = p->rule->from_account;
		ids[n++] = p->rule->to_account;
	}
	qsort(ids, n, sizeof(int64), cmp_int64);

	/* make this transaction's earlier postings visible to the lookups */
	CommandCounterIncrement();
	p->snapshot = RegisterSnapshot(GetLatestSnapshot());
	for (int i = 0; i < n; i++)
	{
		LedgerAccount *acc;

		if (i > 0 && ids[i] == ids[i - 1])
			continue;
		acc = &p->locked[p->nlocked];
		acc->id = ids[i];
		if (!(p->optimistic ?
			  ledger_find_row(accrel, accidx, p->snapshot, ids[i], &acc->row) :
			  ledger_lock_row(accrel, accidx, p->snapshot, ids[i], &acc->row)))
		{
			if (ids[i] == p->debit_id || ids[i] == p->credit_id)
				account_missing(p, ids[i]);
			ereport(ERROR,
					(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
					 errmsg("account %lld of the reserve rule for kind \"%s\" does not exist",
							(long long) ids[i], p->kind)));
		}
		p->nlocked++;
		read_account(p->cache, acc);
	}
	p->debit = find_locked(p, p->debit_id);
	p->credit = find_locked(p, p->credit_id);

	if (strcmp(p->debit->currency, p->credit->currency) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("accounts \"%s\" and \"%s\" hold different currencies",
						p->debit->code, p->credit->code),
				 errdetail("Account \"%s\" holds %s and account \"%s\" holds %s; the amount is " INT64_FORMAT ".",
						   p->debit->code, p->debit->currency, p->credit->code,
						   p->credit->currency, p->amount),
				 errhint("Convert currencies through accounts of each currency.")));
}

/* a completion: the pending transfer it names must match and still be pending */
static void
check_pending(LedgerPosting *p, LedgerRow *prow, Relation trrel, Relation tridx)
{
	const LedgerTransferAtts *a = &p->cache->tr;
	TupleDesc	desc = RelationGetDescr(trrel);
	bool		isnull;
	int64		debit,
				credit;
	char	   *kind,
			   *status;

	if (!ledger_lock_row(trrel, tridx, p->snapshot, p->pending_id, prow))
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("pending transfer %lld does not exist", (long long) p->pending_id)));
	debit = DatumGetInt64(heap_getattr(prow->tuple, a->debit_account, desc, &isnull));
	credit = DatumGetInt64(heap_getattr(prow->tuple, a->credit_account, desc, &isnull));
	p->pending_amount = DatumGetInt64(heap_getattr(prow->tuple, a->amount, desc, &isnull));
	kind = TextDatumGetCString(heap_getattr(prow->tuple, a->kind, desc, &isnull));
	status = TextDatumGetCString(heap_getattr(prow->tuple, a->status, desc, &isnull));
	heap_getattr(prow->tuple, a->pending_id, desc, &isnull);

	p->pending_status = status;
	p->pending_is_completion = !isnull;
	if (debit != p->debit_id || credit != p->credit_id || strcmp(kind, p->kind) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("completion does not match pending transfer %lld", (long long) p->pending_id),
				 errdetail("The pending transfer is a %s from account %lld to account %lld; the completion is a %s from account %lld to account %lld.",
						   kind, (long long) debit, (long long) credit,
						   p->kind, (long long) p->debit_id, (long long) p->credit_id)));
	if (p->phase == LEDGER_PHASE_POST && p->amount > p->pending_amount)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot post " INT64_FORMAT " from pending transfer %lld, which holds " INT64_FORMAT,
						p->amount, (long long) p->pending_id, p->pending_amount),
				 errdetail("Account \"%s\" to account \"%s\".", p->debit->code, p->credit->code),
				 errhint("Post at most the held amount; the rest is released.")));
	if (p->phase == LEDGER_PHASE_VOID && p->amount != p->pending_amount)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("voiding pending transfer %lld must release its whole amount " INT64_FORMAT ", not " INT64_FORMAT,
						(long long) p->pending_id, p->pending_amount, p->amount)));
}

/* a completion's pending transfer must still be pending (checked after idempotency, so
 * that a replayed completion returns the first one) */
static void
check_still_pending(LedgerPosting *p)
{
	if (p->pending_is_completion || strcmp(p->pending_status, "pending") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("transfer %lld is not pending", (long long) p->pending_id),
				 errdetail("Its status is %s, so it cannot be %s.", p->pending_status,
						   p->phase == LEDGER_PHASE_POST ? "posted" : "voided")));
}

/* ---------- step 2: idempotency ---------- */

static bool
text_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* an account's code when the transfer holds it, else its id */
static char *
account_label(LedgerPosting *p, int64 id)
{
	LedgerAccount *acc = find_locked(p, id);

	return acc ? psprintf("\"%s\"", acc->code) : psprintf("account %lld", (long long) id);
}

/* true when the key names an identical earlier transfer, which is kept */
static bool
check_idempotency(LedgerPosting *p)
{
	Datum		arg;
	HeapTuple	t;
	TupleDesc	d;
	bool		isnull;
	int64		id,
				debit,
				credit,
				amount,
				pending_id;
	bool		has_pending,
				held,
				same;
	char	   *kind,
			   *reference,
			   *status;
	LedgerPhase phase;

	if (p->idempotency_key == NULL)
		return false;
	rg_spi_connect_once(&p->spi);
	if (idempotency_plan == NULL)
	{
		Oid			argtypes[1] = {TEXTOID};
		SPIPlanPtr	plan = SPI_prepare(
									   "SELECT t.id, t.debit_account, t.credit_account, t.amount, t.kind, t.reference, "
									   "t.pending_id, t.status, (t.status OPERATOR(pg_catalog.=) 'pending' OR EXISTS ("
									   "SELECT 1 FROM riskguard.transfer_completion c "
									   "WHERE c.pending_id OPERATOR(pg_catalog.=) t.id)) "
									   "FROM riskguard.transfer_key k JOIN riskguard.transfer t "
									   "ON t.id OPERATOR(pg_catalog.=) k.transfer_id "
									   "WHERE k.idempotency_key OPERATOR(pg_catalog.=) $1",
									   1, argtypes);

		if (plan == NULL)
			elog(ERROR, "could not prepare the idempotency lookup: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		idempotency_plan = plan;
	}
	arg = CStringGetTextDatum(p->idempotency_key);
	if (SPI_execute_plan(idempotency_plan, &arg, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up an idempotency key");
	if (SPI_processed == 0)
		return false;

	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
	debit = DatumGetInt64(SPI_getbinval(t, d, 2, &isnull));
	credit = DatumGetInt64(SPI_getbinval(t, d, 3, &isnull));
	amount = DatumGetInt64(SPI_getbinval(t, d, 4, &isnull));
	kind = SPI_getvalue(t, d, 5);
	reference = SPI_getvalue(t, d, 6);
	pending_id = DatumGetInt64(SPI_getbinval(t, d, 7, &has_pending));
	has_pending = !has_pending;
	status = SPI_getvalue(t, d, 8);
	held = DatumGetBool(SPI_getbinval(t, d, 9, &isnull));
	if (has_pending)
		phase = strcmp(status, "voided") == 0 ? LEDGER_PHASE_VOID : LEDGER_PHASE_POST;
	else
		phase = held ? LEDGER_PHASE_HOLD : LEDGER_PHASE_POSTED;

	same = debit == p->debit_id && credit == p->credit_id && amount == p->amount &&
		text_equal(kind, p->kind) && text_equal(reference, p->reference) &&
		has_pending == p->has_pending_id && (!has_pending || pending_id == p->pending_id) &&
		phase == p->phase;
	if (!same)
		rg_error(ERRCODE_RG_IDEMPOTENCY_CONFLICT,
				 psprintf("Transfer %lld used the key for " INT64_FORMAT " from %s to %s (%s); this transfer is " INT64_FORMAT " from \"%s\" to \"%s\" (%s).",
						  (long long) id, amount, account_label(p, debit), account_label(p, credit), kind,
						  p->amount, p->debit->code, p->credit->code, p->kind),
				 "Use a new idempotency key for a different transfer.",
				 "idempotency key \"%s\" was already used for a different transfer",
				 p->idempotency_key);
	return true;
}

/* insert (value, the transfer's id) with the plan kept in *plan, prepared from sql once */
static void
insert_reference(SPIPlanPtr *plan, const char *sql, Oid valuetype, Datum value,
				 LedgerPosting *p, const char *what)
{
	Datum		args[2];

	rg_spi_connect_once(&p->spi);
	if (*plan == NULL)
	{
		Oid			argtypes[2] = {valuetype, INT8OID};
		SPIPlanPtr	prepared = SPI_prepare(sql, 2, argtypes);

		if (prepared == NULL)
			elog(ERROR, "could not prepare the %s record: %s", what, SPI_result_code_string(SPI_result));
		SPI_keepplan(prepared);
		*plan = prepared;
	}
	args[0] = value;
	args[1] = Int64GetDatum(p->id);
	if (SPI_execute_plan(*plan, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not record the %s of transfer %lld", what, (long long) p->id);
}

/*
 * Record the transfer's idempotency key and the pending transfer it completes, if any,
 * in riskguard.transfer_key and riskguard.transfer_completion, whose primary keys hold
 * each once: a concurrent transfer with the same key, or completing the same pending
 * transfer, waits for this one and fails if it commits (23505).  Done before the
 * accounts are written, so that such a transfer waits holding none of them.
 */
static void
record_references(LedgerPosting *p)
{
	if (p->idempotency_key != NULL)
		insert_reference(&key_plan,
						 "INSERT INTO riskguard.transfer_key (idempotency_key, transfer_id) VALUES ($1, $2)",
						 TEXTOID, CStringGetTextDatum(p->idempotency_key), p, "idempotency key");
	if (p->has_pending_id)
		insert_reference(&completion_plan,
						 "INSERT INTO riskguard.transfer_completion (pending_id, transfer_id) VALUES ($1, $2)",
						 INT8OID, Int64GetDatum(p->pending_id), p, "completion");
}

/* ---------- step 3: segregation ---------- */

/*
 * The direction money moves between pools.  Crediting a credit-normal account (a wallet,
 * fee income, the reserve) pays it from the debit account: debit pool to credit pool.
 * Crediting a debit-normal account (the custody bank account, a platform bank account)
 * takes money out of it: credit pool to debit pool.  So taking cash out of custody into
 * a platform bank account is a client -> platform flow, like any other.
 */
static void
check_segregation(LedgerPosting *p)
{
	LedgerAccount *payer = p->credit->credit_normal ? p->debit : p->credit;
	LedgerAccount *payee = p->credit->credit_normal ? p->credit : p->debit;
	int			from = payer->pool,
				to = payee->pool;

	if (!ledger_flow_allowed(p->cache, from, to, p->kind))
		rg_error(ERRCODE_RG_SEGREGATION_VIOLATION,
				 psprintf("Account \"%s\" (pool %s) may not pay account \"%s\" (pool %s) for kind \"%s\"; the amount is " INT64_FORMAT ".",
						  payer->code, ledger_pool_names[from], payee->code,
						  ledger_pool_names[to], p->kind, p->amount),
				 "The allowed flows are listed in riskguard.pool_flow.",
				 "transfer of kind \"%s\" from pool %s to pool %s is not allowed",
				 p->kind, ledger_pool_names[from], ledger_pool_names[to]);
}

/* ---------- step 4: balance constraints ---------- */

static int64
add_checked(int64 a, int64 b, const LedgerAccount *acc, const char *what)
{
	int64		r;

	if (pg_add_s64_overflow(a, b, &r))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s of account \"%s\" would be out of range", what, acc->code),
				 errdetail("Adding " INT64_FORMAT " to " INT64_FORMAT " overflows bigint.", b, a)));
	return r;
}

/* apply the transfer to one side's account totals */
static void
apply_side(LedgerPosting *p, LedgerAccount *acc, bool debit_side)
{
	int64	   *posted = debit_side ? &acc->debits_posted : &acc->credits_posted;
	int64	   *pending = debit_side ? &acc->debits_pending : &acc->credits_pending;
	const char *pname = debit_side ? "posted debits" : "posted credits";
	const char *hname = debit_side ? "pending debits" : "pending credits";

	switch (p->phase)
	{
		case LEDGER_PHASE_POSTED:
			*posted = add_checked(*posted, p->amount, acc, pname);
			break;
		case LEDGER_PHASE_HOLD:
			*pending = add_checked(*pending, p->amount, acc, hname);
			break;
		case LEDGER_PHASE_POST:
			*pending = add_checked(*pending, -p->pending_amount, acc, hname);
			*posted = add_checked(*posted, p->amount, acc, pname);
			break;
		case LEDGER_PHASE_VOID:
			*pending = add_checked(*pending, -p->pending_amount, acc, hname);
			break;
	}
}

/* what the account has available on its normal side, before this transfer */
static int64
available(const LedgerAccount *acc)
{
	int64		in = acc->credit_normal ? acc->credits_posted : acc->debits_posted;
	int64		out1 = acc->credit_normal ? acc->debits_posted : acc->credits_posted;
	int64		out2 = acc->credit_normal ? acc->debits_pending : acc->credits_pending;
	int64		r;

	if (pg_sub_s64_overflow(in, out1, &r) || pg_sub_s64_overflow(r, out2, &r))
		return in > 0 ? PG_INT64_MAX : PG_INT64_MIN;
	return r;
}

static void
check_constraint(LedgerPosting *p, LedgerAccount *acc, int64 before)
{
	int64		out,
				in;

	if (acc->allow_overdraft)
		return;
	if (acc->credit_normal)
	{
		out = add_checked(acc->debits_posted, acc->debits_pending, acc, "debits");
		in = acc->credits_posted;
	}
	else
	{
		out = add_checked(acc->credits_posted, acc->credits_pending, acc, "credits");
		in = acc->debits_posted;
	}
	if (out > in)
		rg_error(ERRCODE_RG_INSUFFICIENT_FUNDS,
				 psprintf("Account \"%s\" has " INT64_FORMAT " available; the transfer of " INT64_FORMAT " from \"%s\" to \"%s\" would leave it at " INT64_FORMAT ".",
						  acc->code, before, p->amount, p->debit->code, p->credit->code,
						  in - out),
				 "Fund the account first, or open it with allow_overdraft.",
				 "insufficient funds in account \"%s\"", acc->code);
}

static void
check_balances(LedgerPosting *p)
{
	int64		dbefore = available(p->debit);
	int64		cbefore = available(p->credit);

	apply_side(p, p->debit, true);
	apply_side(p, p->credit, false);
	check_constraint(p, p->debit, dbefore);
	check_constraint(p, p->credit, cbefore);
}

/* ---------- limits ---------- */

static void
limit_party(const LedgerAccount *acc, RgLimitParty *party)
{
	party->account_id = acc->id;
	party->code = acc->code;
	party->owner = acc->owner;
	party->owner_kind = acc->owner_kind;
}

/* the transfer as limits and alert rules see it */
static void
rule_view(LedgerPosting *p, RgLimitTransfer *t)
{
	limit_party(p->debit, &t->debit);
	limit_party(p->credit, &t->credit);
	t->currency = p->debit->currency;
	t->kind = p->kind;
	t->amount = p->amount;
	t->transfer_id = p->id;
	t->reference = p->reference;
	t->at = p->created_at;
	t->snapshot = p->snapshot;
}

/* ---------- step 6: reserve provisioning ---------- */

static void
plan_provision(LedgerPosting *p)
{
	int64		q,
				r;

	p->provision = 0;
	if (p->rule == NULL)
		return;
	/* amount * bps / 10000 rounded down, without overflowing */
	q = p->amount / 10000;
	r = p->amount % 10000;
	p->provision = q * p->rule->basis_points + (r * p->rule->basis_points) / 10000;
}

static void
post_provision(LedgerPosting *p)
{
	Datum		args[4];
	char	   *saved = acting_user;

	if (p->provision <= 0)
		return;
	rg_spi_connect_once(&p->spi);
	if (provision_plan == NULL)
	{
		Oid			argtypes[4] = {INT8OID, INT8OID, INT8OID, TEXTOID};
		SPIPlanPtr	plan = SPI_prepare(
									   "INSERT INTO riskguard.transfer (debit_account, credit_account, amount, kind, reference) "
									   "VALUES ($1, $2, $3, 'reserve_provision', $4)",
									   4, argtypes);

		if (plan == NULL)
			elog(ERROR, "could not prepare the reserve provision: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		provision_plan = plan;
	}
	args[0] = Int64GetDatum(p->rule->from_account);
	args[1] = Int64GetDatum(p->rule->to_account);
	args[2] = Int64GetDatum(p->provision);
	args[3] = CStringGetTextDatum(psprintf("reserve provision for transfer %lld", (long long) p->id));
	acting_user = p->created_by;
	PG_TRY();
	{
		if (SPI_execute_plan(provision_plan, args, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not post the reserve provision");
	}
	PG_FINALLY();
	{
		acting_user = saved;
	}
	PG_END_TRY();
}

/* ---------- step 5: chain hashes and account updates ---------- */

static void
fill_record(LedgerPosting *p, LedgerRecord *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->transfer_id = p->id;
	rec->debit_account = p->debit_id;
	rec->credit_account = p->credit_id;
	rec->amount = p->amount;
	rec->pending_id = p->has_pending_id ? p->pending_id : 0;
	rec->created_at = p->created_at;
	rec->phase = p->phase;
	rec->kind = (LedgerText) {p->kind, strlen(p->kind), true};
	if (p->reference)
		rec->reference = (LedgerText) {p->reference, strlen(p->reference), true};
	if (p->idempotency_key)
		rec->idempotency_key = (LedgerText) {p->idempotency_key, strlen(p->idempotency_key), true};
	rec->created_by = (LedgerText) {p->created_by, strlen(p->created_by), true};
}

static bytea *
hash_bytea(const unsigned char *h)
{
	bytea	   *b = palloc(VARHDRSZ + LEDGER_HASH_BYTES);

	SET_VARSIZE(b, VARHDRSZ + LEDGER_HASH_BYTES);
	memcpy(VARDATA(b), h, LEDGER_HASH_BYTES);
	return b;
}

/* extend the account's chain with this transfer; its (seq, hash) go in *seq, hash */
static void
chain_side(LedgerPosting *p, LedgerAccount *acc, char side, int64 *seq, unsigned char *hash)
{
	LedgerRecord rec;

	fill_record(p, &rec);
	*seq = add_checked(acc->head_seq, 1, acc, "chain length");
	if (ledger_chain_hash(acc->has_head ? acc->head_hash : NULL, side, *seq, &rec, hash) != 0)
		elog(ERROR, "could not initialise libsodium");
	acc->head_seq = *seq;
	acc->has_head = true;
	memcpy(acc->head_hash, hash, LEDGER_HASH_BYTES);
}

/*
 * The account's next version: a copy of the row with its totals and chain head
 * overwritten where they lie, when the head is stored as a plain 32-byte value (the
 * row keeps its length and layout); else built column by column.
 */
static HeapTuple
account_version(LedgerPosting *p, LedgerAccount *acc)
{
	const LedgerAccountAtts *a = &p->cache->acc;
	TupleDesc	desc = RelationGetDescr(acc->row.rel);
	HeapTupleHeader tup = acc->row.tuple->t_data;
	const int  *off = acc->off;
	char	   *head = off[a->head_hash - 1] < 0 ? NULL : (char *) tup + tup->t_hoff + off[a->head_hash - 1];
	Datum	   *values;
	bool	   *nulls,
			   *repl;

	if (head != NULL && !VARATT_IS_EXTERNAL(head) &&
		(VARATT_IS_SHORT(head) || VARATT_IS_4B_U(head)) &&
		VARSIZE_ANY_EXHDR(head) == LEDGER_HASH_BYTES &&
		off[a->debits_posted - 1] >= 0 && off[a->credits_posted - 1] >= 0 &&
		off[a->debits_pending - 1] >= 0 && off[a->credits_pending - 1] >= 0 &&
		off[a->head_seq - 1] >= 0)
	{
		HeapTuple	copy = heap_copytuple(acc->row.tuple);
		char	   *tp = (char *) copy->t_data + copy->t_data->t_hoff;

#define PUT(att, v) memcpy(tp + off[a->att - 1], &(v), sizeof(int64))
		PUT(debits_posted, acc->debits_posted);
		PUT(credits_posted, acc->credits_posted);
		PUT(debits_pending, acc->debits_pending);
		PUT(credits_pending, acc->credits_pending);
		PUT(head_seq, acc->head_seq);
#undef PUT
		memcpy(VARDATA_ANY(tp + off[a->head_hash - 1]), acc->head_hash, LEDGER_HASH_BYTES);
		return copy;
	}

	values = palloc0(sizeof(Datum) * desc->natts);
	nulls = palloc0(sizeof(bool) * desc->natts);
	repl = palloc0(sizeof(bool) * desc->natts);
#define SET(att, v) (values[a->att - 1] = (v), repl[a->att - 1] = true)
	SET(debits_posted, Int64GetDatum(acc->debits_posted));
	SET(credits_posted, Int64GetDatum(acc->credits_posted));
	SET(debits_pending, Int64GetDatum(acc->debits_pending));
	SET(credits_pending, Int64GetDatum(acc->credits_pending));
	SET(head_seq, Int64GetDatum(acc->head_seq));
	SET(head_hash, PointerGetDatum(hash_bytea(acc->head_hash)));
#undef SET
	return heap_modify_tuple(acc->row.tuple, desc, values, nulls, repl);
}

/* write the account's totals and chain head; false when try and it changed meanwhile */
static bool
write_account(LedgerPosting *p, LedgerAccount *acc, bool try)
{
	HeapTuple	next = account_version(p, acc);

	if (try)
		return ledger_try_update_row_to(&acc->row, next);
	ledger_update_row_to(&acc->row, next);
	return true;
}

/*
 * Extend the account's chain with this transfer and write it.  An account read unlocked
 * that a concurrent transfer changed since (READ COMMITTED; under a transaction snapshot
 * that is a serialization failure) is locked as its newest version and read again, and
 * the transfer applied, checked and chained against that.
 */
static void
post_account(LedgerPosting *p, LedgerAccount *acc, Relation accrel, Relation accidx,
			 int64 *seq, unsigned char *hash)
{
	bool		debit_side = acc == p->debit;
	int64		before;

	chain_side(p, acc, debit_side ? 'D' : 'C', seq, hash);
	if (write_account(p, acc, p->optimistic))
		return;
	ledger_release_row(&acc->row);
	if (!ledger_lock_row(accrel, accidx, p->snapshot, acc->id, &acc->row))
		account_missing(p, acc->id);
	read_account(p->cache, acc);
	before = available(acc);
	apply_side(p, acc, debit_side);
	check_constraint(p, acc, before);
	chain_side(p, acc, debit_side ? 'D' : 'C', seq, hash);
	write_account(p, acc, false);
}

/* mark the pending transfer posted or voided: the one change the ledger allows */
static void
complete_pending(LedgerPosting *p, LedgerRow *prow)
{
	int			natts = RelationGetDescr(prow->rel)->natts;
	Datum	   *values = palloc0(sizeof(Datum) * natts);
	bool	   *nulls = palloc0(sizeof(bool) * natts);
	bool	   *repl = palloc0(sizeof(bool) * natts);

	values[p->cache->tr.status - 1] = CStringGetTextDatum(p->status);
	repl[p->cache->tr.status - 1] = true;
	ledger_update_row(prow, values, nulls, repl);
}

/* ---------- the trigger ---------- */

static HeapTuple
post_transfer_row(TriggerData *td, char *created_by, MemoryContext callerctx)
{
	LedgerPosting p;
	LedgerRow	prow = {0};
	Relation	accrel,
				accidx,
				tridx = NULL;
	int64		dseq,
				cseq;
	unsigned char dhash[LEDGER_HASH_BYTES],
				chash[LEDGER_HASH_BYTES];
	const LedgerTransferAtts *a;
	Datum	   *values;
	bool	   *nulls;
	HeapTuple	result;
	MemoryContext old;

	memset(&p, 0, sizeof(p));
	p.cache = ledger_cache();
	p.transfer_rel = td->tg_relation;
	p.newtuple = td->tg_trigtuple;
	p.created_by = created_by;
	p.created_at = GetCurrentTransactionStartTimestamp();
	if (RelationGetRelid(p.transfer_rel) != p.cache->transfer_rel)
		elog(ERROR, "the transfer trigger fired on \"%s\"", RelationGetRelationName(p.transfer_rel));

	/* 1. validity */
	read_new_row(&p, RelationGetDescr(p.transfer_rel));
	check_fields(&p);
	accrel = table_open(p.cache->account_rel, RowExclusiveLock);
	accidx = index_open(p.cache->account_pkey, RowExclusiveLock);
	lock_accounts(&p, accrel, accidx);
	if (p.has_pending_id)
	{
		tridx = index_open(p.cache->transfer_pkey, RowExclusiveLock);
		check_pending(&p, &prow, p.transfer_rel, tridx);
	}

	/* 2. idempotency: an identical replay keeps the first transfer */
	if (check_idempotency(&p))
	{
		ledger_release_row(&prow);
		for (int i = 0; i < p.nlocked; i++)
			ledger_release_row(&p.locked[i].row);
		if (tridx)
			index_close(tridx, NoLock);
		index_close(accidx, NoLock);
		table_close(accrel, NoLock);
		UnregisterSnapshot(p.snapshot);
		if (p.spi)
			SPI_finish();
		return NULL;
	}

	if (p.has_pending_id)
		check_still_pending(&p);
	record_references(&p);

	/* 3. segregation */
	check_segregation(&p);

	/* 4. balance constraints */
	check_balances(&p);

	/* 5. chain hashes and account updates, in id order */
	if (p.debit_id < p.credit_id)
	{
		post_account(&p, p.debit, accrel, accidx, &dseq, dhash);
		post_account(&p, p.credit, accrel, accidx, &cseq, chash);
	}
	else
	{
		post_account(&p, p.credit, accrel, accidx, &cseq, chash);
		post_account(&p, p.debit, accrel, accidx, &dseq, dhash);
	}

	/*
	 * limits (RG001 past a reject limit), then alert rules (RG007 from a blocking
	 * rule): a transfer counts once, when it is created; its completion does not
	 */
	if (!p.has_pending_id)
	{
		RgLimitTransfer t;

		rule_view(&p, &t);
		rg_limits_enforce(&t);
		rg_alerts_check(&t);
	}

	/* 6. reserve provisioning */
	plan_provision(&p);

	if (p.has_pending_id)
		complete_pending(&p, &prow);
	ledger_release_row(&prow);
	for (int i = 0; i < p.nlocked; i++)
		ledger_release_row(&p.locked[i].row);
	if (tridx)
		index_close(tridx, NoLock);
	index_close(accidx, NoLock);
	table_close(accrel, NoLock);
	UnregisterSnapshot(p.snapshot);

	/* 7. the provision transfer, through this trigger */
	post_provision(&p);

	a = &p.cache->tr;
	values = p.newvalues;
	nulls = p.newnulls;
#define SET(att, v) (values[a->att - 1] = (v), nulls[a->att - 1] = false)
	SET(created_at, TimestampTzGetDatum(p.created_at));
	SET(created_by, CStringGetTextDatum(p.created_by));
	SET(debit_seq, Int64GetDatum(dseq));
	SET(debit_hash, PointerGetDatum(hash_bytea(dhash)));
	SET(credit_seq, Int64GetDatum(cseq));
	SET(credit_hash, PointerGetDatum(hash_bytea(chash)));
#undef SET
	old = MemoryContextSwitchTo(callerctx);
	result = heap_form_tuple(RelationGetDescr(p.transfer_rel), values, nulls);
	MemoryContextSwitchTo(old);
	result->t_self = p.newtuple->t_self;
	result->t_tableOid = p.newtuple->t_tableOid;
	if (p.spi)
		SPI_finish();
	return result;
}

/* whether the new row already carries both chain entries, as a restored row does */
static bool
restored_row(TriggerData *td)
{
	const LedgerCache *c = ledger_cache();
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	HeapTuple	tup = td->tg_trigtuple;

	return RelationGetRelid(td->tg_relation) == c->transfer_rel &&
		!heap_attisnull(tup, c->tr.debit_seq, desc) && !heap_attisnull(tup, c->tr.debit_hash, desc) &&
		!heap_attisnull(tup, c->tr.credit_seq, desc) && !heap_attisnull(tup, c->tr.credit_hash, desc);
}

/*
 * The name of the role that writes a transfer, kept for the role last seen (a syscache
 * lookup per transfer otherwise); forgotten when any role changes, so a renamed role is
 * recorded under its new name.
 */
static Oid	writer_oid = InvalidOid;
static char writer_name[NAMEDATALEN];
static bool writer_callback = false;

static void
writer_invalidate(Datum arg, int cacheid, uint32 hashvalue)
{
	writer_oid = InvalidOid;
}

static char *
writer_name_of(Oid roleid)
{
	if (!writer_callback)
	{
		CacheRegisterSyscacheCallback(AUTHOID, writer_invalidate, (Datum) 0);
		writer_callback = true;
	}
	if (writer_oid != roleid)
	{
		char	   *name = GetUserNameFromId(roleid, false);

		strlcpy(writer_name, name, sizeof(writer_name));
		writer_oid = roleid;
	}
	return pstrdup(writer_name);
}

PG_FUNCTION_INFO_V1(rg_ledger_transfer_trigger);

/*
 * BEFORE INSERT FOR EACH ROW on riskguard.transfer.  The checks run as the table's
 * owner, so a role needs only INSERT on riskguard.transfer to post transfers; the
 * transfer records the role that wrote it.  While they run as the owner, the search
 * path is pg_catalog alone (an override search path: no temporary schema either), so
 * that no function, operator, type, domain or table the writer put on its own
 * search_path can be reached by the queries the checks run.  Code that runs inside the
 * checks (a trigger someone adds to riskguard.alert, say) sees that path too, whatever
 * its own SET search_path says: it must qualify its names.
 */
Datum
rg_ledger_transfer_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	MemoryContext callerctx = CurrentMemoryContext;
	MemoryContext rowctx;
	Oid			save_user;
	int			save_sec;
	OverrideSearchPath pinned = {NIL, true, false, 0};
	char	   *created_by;
	HeapTuple volatile result = NULL;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) || !TRIGGER_FIRED_BY_INSERT(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("riskguard transfer trigger must fire BEFORE INSERT FOR EACH ROW")));

	/*
	 * A restore (pg_dump's COPY of the extension's data, run by a superuser) brings
	 * transfers that are already posted, with their chain columns, and accounts that
	 * already carry their balances: keep such rows as they are.  verify_ledger() and the
	 * digest check them afterwards like any other.
	 */
	if (superuser() && restored_row(td))
		return PointerGetDatum(td->tg_trigtuple);

	rowctx = AllocSetContextCreate(callerctx, "riskguard transfer", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(rowctx);
	GetUserIdAndSecContext(&save_user, &save_sec);
	created_by = acting_user ? pstrdup(acting_user) : writer_name_of(save_user);
	SetUserIdAndSecContext(td->tg_relation->rd_rel->relowner,
						   save_sec | SECURITY_LOCAL_USERID_CHANGE);

	/*
	 * The search path as an override, not through the search_path setting: the same
	 * protection for a fraction of the cost (no setting to parse, check and restore, no
	 * path to look up twice).  Popped below, or by the (sub)transaction's abort on error.
	 */
	PushOverrideSearchPath(&pinned);
	PG_TRY();
	{
		result = post_transfer_row(td, created_by, callerctx);
	}
	PG_FINALLY();
	{
		PopOverrideSearchPath();
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(callerctx);
	MemoryContextDelete(rowctx);
	return PointerGetDatum(result);
}
