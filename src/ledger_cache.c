/*
 * ledger_cache.c
 *		Per-backend cache of the ledger's relations, column numbers, pool flows and
 *		reserve rules.  A statement trigger on riskguard.pool_flow and
 *		riskguard.reserve_rule sends a relcache invalidation for the changed table; the
 *		callback below marks the cache stale in every backend, and it is reloaded once,
 *		on the next transfer, instead of being looked up per row.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "ledger.h"

const char *const ledger_pool_names[LEDGER_NPOOLS] = {"client", "platform", "reserve"};

static LedgerCache cache;
static bool cache_valid = false;
static bool callback_registered = false;
static MemoryContext cache_context = NULL;

static void
ledger_relcache_callback(Datum arg, Oid relid)
{
	if (!cache_valid)
		return;
	if (relid == InvalidOid || relid == cache.account_rel || relid == cache.transfer_rel ||
		relid == cache.pool_flow_rel || relid == cache.reserve_rule_rel)
		cache_valid = false;
}

static Oid
ledger_relid(Oid nsp, const char *name)
{
	Oid			relid = get_relname_relid(name, nsp);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"riskguard.%s\" does not exist", name),
				 errhint("Install the riskguard extension with CREATE EXTENSION riskguard.")));
	return relid;
}

static AttrNumber
ledger_attnum(Oid relid, const char *name)
{
	AttrNumber	n = get_attnum(relid, name);

	if (n == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist", name, get_rel_name(relid)),
				 errhint("Reinstall the riskguard extension.")));
	return n;
}

static Oid
ledger_pkey(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	Oid			idx = RelationGetPrimaryKeyIndex(rel);

	table_close(rel, AccessShareLock);
	if (!OidIsValid(idx))
		elog(ERROR, "relation \"%s\" has no primary key", get_rel_name(relid));
	return idx;
}

/* run a read-only query whose text columns are fetched by the caller */
static void
ledger_query(const char *sql)
{
	if (SPI_execute(sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the ledger configuration");
}

static void
ledger_cache_load(void)
{
	Oid			nsp = get_namespace_oid("riskguard", false);
	MemoryContext old;
	LedgerCache c;

	if (cache_context == NULL)
		cache_context = AllocSetContextCreate(CacheMemoryContext, "riskguard ledger cache",
											  ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(cache_context);
	memset(&cache, 0, sizeof(cache));
	memset(&c, 0, sizeof(c));

	c.account_rel = ledger_relid(nsp, "account");
	c.transfer_rel = ledger_relid(nsp, "transfer");
	c.pool_flow_rel = ledger_relid(nsp, "pool_flow");
	c.reserve_rule_rel = ledger_relid(nsp, "reserve_rule");
	c.account_pkey = ledger_pkey(c.account_rel);
	c.transfer_pkey = ledger_pkey(c.transfer_rel);

#define ACC(f) c.acc.f = ledger_attnum(c.account_rel, #f)
	ACC(id); ACC(code); ACC(pool); ACC(owner); ACC(owner_kind); ACC(currency); ACC(normal_side); ACC(allow_overdraft);
	ACC(debits_posted); ACC(credits_posted); ACC(debits_pending); ACC(credits_pending);
	ACC(head_seq); ACC(head_hash);
#undef ACC
#define TR(f) c.tr.f = ledger_attnum(c.transfer_rel, #f)
	TR(id); TR(debit_account); TR(credit_account); TR(amount); TR(kind); TR(reference);
	TR(idempotency_key); TR(status); TR(pending_id); TR(created_at); TR(created_by);
	TR(debit_seq); TR(debit_hash); TR(credit_seq); TR(credit_hash);
#undef TR

	ledger_query("SELECT e.oid::pg_catalog.text, e.enumlabel::pg_catalog.text "
				 "FROM pg_catalog.pg_enum e "
				 "WHERE e.enumtypid OPERATOR(pg_catalog.=) 'riskguard.fund_pool'::pg_catalog.regtype");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *oid = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		char	   *label = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);

		for (int p = 0; p < LEDGER_NPOOLS; p++)
			if (strcmp(label, ledger_pool_names[p]) == 0)
				c.pool_enum[p] = (Oid) strtoul(oid, NULL, 10);
	}
	for (int p = 0; p < LEDGER_NPOOLS; p++)
		if (!OidIsValid(c.pool_enum[p]))
			elog(ERROR, "fund pool \"%s\" is missing from riskguard.fund_pool", ledger_pool_names[p]);

	ledger_query("SELECT f.from_pool::pg_catalog.text, f.to_pool::pg_catalog.text, f.kind "
				 "FROM riskguard.pool_flow f ORDER BY 1, 2, 3");
	old = MemoryContextSwitchTo(cache_context);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		char	   *from = SPI_getvalue(t, d, 1);
		char	   *to = SPI_getvalue(t, d, 2);
		char	   *kind = SPI_getvalue(t, d, 3);
		int			f = -1,
					g = -1;
		LedgerFlow *flow;

		for (int p = 0; p < LEDGER_NPOOLS; p++)
		{
			if (strcmp(from, ledger_pool_names[p]) == 0)
				f = p;
			if (strcmp(to, ledger_pool_names[p]) == 0)
				g = p;
		}
		if (f < 0 || g < 0)
			continue;
		flow = &c.flows[f][g];
		if (strcmp(kind, "*") == 0)
			flow->any_kind = true;
		else
		{
			flow->kinds = flow->kinds ? repalloc(flow->kinds, sizeof(char *) * (flow->nkinds + 1))
				: palloc(sizeof(char *));
			flow->kinds[flow->nkinds++] = kind;
		}
	}
	MemoryContextSwitchTo(old);

	ledger_query("SELECT r.kind, r.basis_points::pg_catalog.text, r.from_account::pg_catalog.text, "
				 "r.to_account::pg_catalog.text FROM riskguard.reserve_rule r ORDER BY 1");
	old = MemoryContextSwitchTo(cache_context);
	c.nrules = (int) SPI_processed;
	c.rules = palloc0(sizeof(LedgerReserveRule) * Max(c.nrules, 1));
	for (int i = 0; i < c.nrules; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;

		c.rules[i].kind = SPI_getvalue(t, d, 1);
		c.rules[i].basis_points = pg_strtoint32(SPI_getvalue(t, d, 2));
		c.rules[i].from_account = pg_strtoint64(SPI_getvalue(t, d, 3));
		c.rules[i].to_account = pg_strtoint64(SPI_getvalue(t, d, 4));
	}
	MemoryContextSwitchTo(old);

	cache = c;
	cache_valid = true;
}

const LedgerCache *
ledger_cache(void)
{
	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(ledger_relcache_callback, (Datum) 0);
		callback_registered = true;
	}
	if (!cache_valid)
	{
		PG_TRY();
		{
			if (SPI_connect() != SPI_OK_CONNECT)
				elog(ERROR, "could not connect to SPI");
			ledger_cache_load();
			SPI_finish();
		}
		PG_CATCH();
		{
			cache_valid = false;
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	return &cache;
}

int
ledger_pool_index(const LedgerCache *c, Oid enumval)
{
	for (int p = 0; p < LEDGER_NPOOLS; p++)
		if (c->pool_enum[p] == enumval)
			return p;
	elog(ERROR, "unrecognized fund pool value %u", enumval);
	return -1;					/* keep the compiler quiet */
}

bool
ledger_flow_allowed(const LedgerCache *c, int from, int to, const char *kind)
{
	const LedgerFlow *f = &c->flows[from][to];

	if (f->any_kind)
		return true;
	for (int i = 0; i < f->nkinds; i++)
		if (strcmp(f->kinds[i], kind) == 0)
			return true;
	return false;
}

const LedgerReserveRule *
ledger_reserve_rule(const LedgerCache *c, const char *kind)
{
	for (int i = 0; i < c->nrules; i++)
		if (strcmp(c->rules[i].kind, kind) == 0)
			return &c->rules[i];
	return NULL;
}
