/*
 * limit_rules.c
 *		Exposure and velocity limits.
 *
 * Rules live in riskguard.limit_rule and are compiled into a per-backend cache that a
 * relcache invalidation (sent by a trigger on the rule table when it changes) throws
 * away, so a changed rule applies to transfers that start after the change commits.
 * Usage lives in riskguard.limit_counter, one row per (rule, subject, period); the
 * transfer trigger adds to it with INSERT ... ON CONFLICT DO UPDATE, which takes the
 * row lock, so concurrent transfers of one subject serialise on that row and the check
 * that follows sees every committed transfer and none that rolled back.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "utils/fmgroids.h"
#include "utils/snapmgr.h"
#include "utils/rel.h"
#include "access/stratnum.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "common/int.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "alert.h"
#include "ledger.h"
#include "limit_rules.h"
#include "recorder.h"
#include "rg_errors.h"
#include "riskguard.h"

typedef enum LimitSubject
{
	SUBJECT_OWNER,
	SUBJECT_ACCOUNT,
	SUBJECT_PLATFORM
} LimitSubject;

typedef enum LimitMetric
{
	METRIC_PER_TRANSFER,
	METRIC_DAILY_SUM,
	METRIC_DAILY_COUNT,
	METRIC_MONTHLY_SUM,
	METRIC_OUTSTANDING
} LimitMetric;

static const char *const metric_names[] = {
	"per_transfer", "daily_sum", "daily_count", "monthly_sum", "outstanding"
};
static const char *const subject_names[] = {"owner", "account", "platform"};

typedef struct LimitRule
{
	int32		id;
	char	   *name;
	LimitSubject subject;
	char	   *owner_kind;
	char	   *owner;
	int			nkinds;
	char	  **kinds;
	int			nrelease;
	char	  **release_kinds;
	bool		outflow;
	LimitMetric metric;
	int64		threshold;
	char		currency[4];
	bool		reject;
	bool		has_from;
	TimestampTz valid_from;
	bool		has_to;
	TimestampTz valid_to;
} LimitRule;

char	   *rg_limits_timezone = NULL;

static MemoryContext rules_cxt = NULL;
static LimitRule *rules = NULL;
static int	nrules = 0;
static bool rules_valid = false;
static Oid	rules_relid = InvalidOid;
static Oid	counter_relid = InvalidOid;
static Oid	counter_pkey = InvalidOid;

/* counter updates of one transfer go in one statement; plans by number of rows */
#define MAX_BATCH 16
static SPIPlanPtr upsert_plans[MAX_BATCH + 1];
static SPIPlanPtr usage_plan = NULL;

static void
limits_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == rules_relid)
		rules_valid = false;
}

static bool
check_timezone(char **newval, void **extra, GucSource source)
{
	pg_tz	   *tz;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	tz = pg_tzset(*newval);
	if (tz == NULL || !pg_tz_acceptable(tz))
	{
		GUC_check_errdetail("Time zone \"%s\" is not recognized.", *newval);
		return false;
	}
	return true;
}

void
rg_limits_init(void)
{
	DefineCustomStringVariable("riskguard.timezone",
							   "Time zone of the calendar days and months of limit windows.",
							   NULL,
							   &rg_limits_timezone,
							   "UTC",
							   PGC_SUSET,
							   0,
							   check_timezone, NULL, NULL);
	CacheRegisterRelcacheCallback(limits_relcache_callback, (Datum) 0);
}

static pg_tz *
limits_tz(void)
{
	static char cached_name[TZ_STRLEN_MAX + 1] = "";
	static pg_tz *cached = NULL;
	const char *name = (rg_limits_timezone && rg_limits_timezone[0]) ? rg_limits_timezone : "UTC";

	if (cached == NULL || strcmp(cached_name, name) != 0)
	{
		cached = pg_tzset(name);
		if (cached == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("time zone \"%s\" is not recognized", name)));
		strlcpy(cached_name, name, sizeof(cached_name));
	}
	return cached;
}

/* The window a metric counts in at time at: "2026-11-25", "2026-11", "all" or "". */
static void
period_key(LimitMetric metric, TimestampTz at, char *buf, size_t len)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;

	if (metric == METRIC_OUTSTANDING)
	{
		strlcpy(buf, "all", len);
		return;
	}
	if (metric == METRIC_PER_TRANSFER)
	{
		buf[0] = '\0';
		return;
	}
	if (timestamp2tm(at, &tz, &tm, &fsec, NULL, limits_tz()) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	if (metric == METRIC_MONTHLY_SUM)
		snprintf(buf, len, "%04d-%02d", tm.tm_year, tm.tm_mon);
	else
		snprintf(buf, len, "%04d-%02d-%02d", tm.tm_year, tm.tm_mon, tm.tm_mday);
}

static int
lookup_name(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

static char *
getstr(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/* (Re)load the active rules into the cache. */
static void
load_rules(void)
{
	MemoryContext old;
	Oid			nsp;
	int			ret;

	if (rules_cxt == NULL)
		rules_cxt = AllocSetContextCreate(TopMemoryContext, "riskguard limit rules",
										  ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(rules_cxt);
	rules = NULL;
	nrules = 0;

	nsp = get_namespace_oid("riskguard", false);
	rules_relid = get_relname_relid("limit_rule", nsp);
	counter_relid = get_relname_relid("limit_counter", nsp);
	{
		Relation	crel = table_open(counter_relid, AccessShareLock);

		counter_pkey = RelationGetPrimaryKeyIndex(crel);
		table_close(crel, AccessShareLock);
	}

	ret = SPI_execute("SELECT id, name, subject, owner_kind, owner, kinds, release_kinds, "
					  "direction, metric, threshold, currency, action, valid_from, valid_to "
					  "FROM riskguard.limit_rule WHERE active ORDER BY id",
					  true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read riskguard.limit_rule: %s", SPI_result_code_string(ret));

	old = MemoryContextSwitchTo(rules_cxt);
	rules = palloc0(sizeof(LimitRule) * Max(SPI_processed, 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		LimitRule  *r = &rules[nrules];
		bool		isnull;
		char	   *s;
		Datum		d;

		r->id = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
		r->name = getstr(tup, desc, 2);
		r->subject = lookup_name(getstr(tup, desc, 3), subject_names, lengthof(subject_names));
		r->owner_kind = getstr(tup, desc, 4);
		r->owner = getstr(tup, desc, 5);
		d = SPI_getbinval(tup, desc, 6, &isnull);
		r->kinds = isnull ? NULL : rg_text_array_cstrings(d, &r->nkinds);
		d = SPI_getbinval(tup, desc, 7, &isnull);
		r->release_kinds = isnull ? NULL : rg_text_array_cstrings(d, &r->nrelease);
		s = getstr(tup, desc, 8);
		r->outflow = (strcmp(s, "outflow") == 0);
		r->metric = lookup_name(getstr(tup, desc, 9), metric_names, lengthof(metric_names));
		r->threshold = DatumGetInt64(SPI_getbinval(tup, desc, 10, &isnull));
		strlcpy(r->currency, getstr(tup, desc, 11), sizeof(r->currency));
		r->reject = (strcmp(getstr(tup, desc, 12), "reject") == 0);
		d = SPI_getbinval(tup, desc, 13, &isnull);
		r->has_from = !isnull;
		if (!isnull)
			r->valid_from = DatumGetTimestampTz(d);
		d = SPI_getbinval(tup, desc, 14, &isnull);
		r->has_to = !isnull;
		if (!isnull)
			r->valid_to = DatumGetTimestampTz(d);
		/* the table's checks make these impossible; skip rather than misapply */
		if ((int) r->subject < 0 || (int) r->metric < 0)
			continue;
		nrules++;
	}
	MemoryContextSwitchTo(old);
	rules_valid = true;
}

static void
prepare_plans(void)
{
	if (usage_plan == NULL)
	{
		Oid			types[3] = {INT4OID, TEXTOID, TEXTOID};
		SPIPlanPtr	p = SPI_prepare("SELECT used FROM riskguard.limit_counter "
									"WHERE rule_id OPERATOR(pg_catalog.=) $1 "
									"AND subject OPERATOR(pg_catalog.=) $2 "
									"AND period OPERATOR(pg_catalog.=) $3", 3, types);

		if (p == NULL)
			elog(ERROR, "could not prepare limit usage lookup: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		usage_plan = p;
	}
}

static bool
in_list(const char *kind, char **list, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(kind, list[i]) == 0)
			return true;
	return false;
}

/*
 * Does rule r apply to transfer t?  If so, set the party it counts against, the
 * subject key and the signed amount it adds (a count of 1 for daily_count; minus the
 * amount for an outstanding rule's release kinds, which count on the opposite side).
 */
static bool
rule_applies(const LimitRule *r, const RgLimitTransfer *t, const RgLimitParty **party,
			 const char **subject, int64 *delta)
{
	const RgLimitParty *side = r->outflow ? &t->debit : &t->credit;
	const RgLimitParty *other = r->outflow ? &t->credit : &t->debit;

	if (strcmp(r->currency, t->currency) != 0)
		return false;
	if ((r->has_from && t->at < r->valid_from) || (r->has_to && t->at >= r->valid_to))
		return false;

	if (in_list(t->kind, r->kinds, r->nkinds))
	{
		*party = side;
		*delta = (r->metric == METRIC_DAILY_COUNT) ? 1 : t->amount;
	}
	else if (r->metric == METRIC_OUTSTANDING && in_list(t->kind, r->release_kinds, r->nrelease))
	{
		*party = other;
		*delta = -t->amount;
	}
	else
		return false;

	if (r->owner_kind && (!(*party)->owner_kind || strcmp(r->owner_kind, (*party)->owner_kind) != 0))
		return false;
	if (r->owner && (!(*party)->owner || strcmp(r->owner, (*party)->owner) != 0))
		return false;

	switch (r->subject)
	{
		case SUBJECT_OWNER:
			if ((*party)->owner == NULL)
				return false;
			*subject = (*party)->owner;
			break;
		case SUBJECT_ACCOUNT:
			*subject = (*party)->code;
			break;
		case SUBJECT_PLATFORM:
			*subject = "platform";
			break;
	}
	return true;
}

static void
ensure_rules(bool *connected)
{
	AcceptInvalidationMessages();
	if (!rules_valid)
	{
		rg_spi_connect_once(connected);
		load_rules();
	}
}

/*
 * The multi-row upsert for n counters: rows ($1..$4), ($5..$8), ...; it returns each
 * counter's rule, subject, period and usage after the update.
 */
static SPIPlanPtr
upsert_plan(int n)
{
	StringInfoData sql;
	Oid		   *types;
	SPIPlanPtr	p;

	Assert(n >= 1 && n <= MAX_BATCH);
	if (upsert_plans[n] != NULL)
		return upsert_plans[n];
	initStringInfo(&sql);
	appendStringInfoString(&sql, "INSERT INTO riskguard.limit_counter AS c "
						   "(rule_id, subject, period, used, transfers, updated_at) VALUES ");
	types = palloc(sizeof(Oid) * 4 * n);
	for (int i = 0; i < n; i++)
	{
		appendStringInfo(&sql, "%s($%d, $%d, $%d, $%d, 1, pg_catalog.now())",
						 i > 0 ? ", " : "", 4 * i + 1, 4 * i + 2, 4 * i + 3, 4 * i + 4);
		types[4 * i] = INT4OID;
		types[4 * i + 1] = TEXTOID;
		types[4 * i + 2] = TEXTOID;
		types[4 * i + 3] = INT8OID;
	}
	appendStringInfoString(&sql, " ON CONFLICT (rule_id, subject, period) DO UPDATE "
						   "SET used = c.used OPERATOR(pg_catalog.+) EXCLUDED.used, "
						   "transfers = c.transfers OPERATOR(pg_catalog.+) 1, "
						   "updated_at = EXCLUDED.updated_at "
						   "RETURNING c.rule_id, c.subject, c.period, c.used");
	p = SPI_prepare(sql.data, 4 * n, types);
	if (p == NULL)
		elog(ERROR, "could not prepare limit counter update: %s", SPI_result_code_string(SPI_result));
	SPI_keepplan(p);
	upsert_plans[n] = p;
	return p;
}

/* one counter a transfer updates */
typedef struct CounterHit
{
	const LimitRule *rule;
	const RgLimitParty *party;
	const char *subject;
	char		period[16];
	int64		delta;
	int64		before;
} CounterHit;

/* a total order on counters, so concurrent transfers lock them in the same order */
static int
cmp_hits(const void *a, const void *b)
{
	const CounterHit *x = (const CounterHit *) a;
	const CounterHit *y = (const CounterHit *) b;
	int			c;

	if (x->rule->id != y->rule->id)
		return x->rule->id < y->rule->id ? -1 : 1;
	c = strcmp(x->subject, y->subject);
	return c != 0 ? c : strcmp(x->period, y->period);
}

/*
 * The fast path: add the deltas to counters that already exist by direct heap access
 * (find by primary key and update the version found; when a concurrent transfer
 * updated it first, lock its newest version FOR NO KEY UPDATE and update that), in the
 * hits' order.  Hits whose counter does not exist yet are moved to the front and
 * their number returned, for the SQL upsert, which handles concurrent creation.  The
 * counters are found through the ledger's snapshot when it passes one (it has just
 * made this transaction's earlier work visible), else through a fresh one.
 */
static int
counters_add_existing(CounterHit *hits, int n, Snapshot given)
{
	Relation	rel = table_open(counter_relid, RowExclusiveLock);
	Relation	idx = index_open(counter_pkey, RowExclusiveLock);
	TupleDesc	desc = RelationGetDescr(rel);
	bool		own_snap;
	Snapshot	snap;
	int			nmissing = 0;
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};
	bool		repl[6] = {false, false, false, true, true, true};
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	Assert(desc->natts == 6);
	snap = ledger_find_snapshot(given, &own_snap);
	for (int i = 0; i < n; i++)
	{
		CounterHit *h = &hits[i];
		ScanKeyData keys[3];
		LedgerRow	row = {0};
		bool		isnull;
		int64		used,
					transfers;

		ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(h->rule->id));
		ScanKeyEntryInitialize(&keys[1], 0, 2, BTEqualStrategyNumber, InvalidOid,
							   idx->rd_indcollation[1], F_TEXTEQ, CStringGetTextDatum(h->subject));
		ScanKeyEntryInitialize(&keys[2], 0, 3, BTEqualStrategyNumber, InvalidOid,
							   idx->rd_indcollation[2], F_TEXTEQ, CStringGetTextDatum(h->period));
		/*
		 * the version the snapshot sees, updated at once; when a concurrent transfer
		 * changed it first, its newest version, locked
		 */
		for (bool locked = false;; locked = true)
		{
			if (!(locked ? ledger_lock_row_by_keys(rel, idx, snap, keys, 3, &row)
				  : ledger_find_row_by_keys(rel, idx, snap, keys, 3, &row)))
			{
				CounterHit	tmp = hits[nmissing];

				hits[nmissing++] = *h;
				*h = tmp;
				break;
			}
			used = DatumGetInt64(heap_getattr(row.tuple, 4, desc, &isnull));
			transfers = DatumGetInt64(heap_getattr(row.tuple, 5, desc, &isnull));
			h->before = used;
			if (pg_add_s64_overflow(used, h->delta, &used) ||
				pg_add_s64_overflow(transfers, 1, &transfers))
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("usage of limit \"%s\" for %s \"%s\" is out of range",
								h->rule->name, subject_names[h->rule->subject], h->subject)));
			values[3] = Int64GetDatum(used);
			values[4] = Int64GetDatum(transfers);
			values[5] = TimestampTzGetDatum(now);
			if (locked)
				ledger_update_row(&row, values, nulls, repl);
			else if (!ledger_try_update_row(&row, values, nulls, repl))
			{
				ledger_release_row(&row);
				continue;
			}
			ledger_release_row(&row);
			break;
		}
	}
	if (own_snap)
		UnregisterSnapshot(snap);
	index_close(idx, NoLock);
	table_close(rel, NoLock);
	return nmissing;
}

/* add each hit's delta to its counter in one statement; set each hit's usage before */
static void
counters_add(CounterHit *hits, int n)
{
	for (int start = 0; start < n; start += MAX_BATCH)
	{
		int			m = Min(n - start, MAX_BATCH);
		Datum	   *values = palloc(sizeof(Datum) * 4 * m);
		int			ret;

		for (int i = 0; i < m; i++)
		{
			CounterHit *h = &hits[start + i];

			values[4 * i] = Int32GetDatum(h->rule->id);
			values[4 * i + 1] = CStringGetTextDatum(h->subject);
			values[4 * i + 2] = CStringGetTextDatum(h->period);
			values[4 * i + 3] = Int64GetDatum(h->delta);
		}
		ret = SPI_execute_plan(upsert_plan(m), values, NULL, false, 0);
		if (ret != SPI_OK_INSERT_RETURNING || SPI_processed != (uint64) m)
			elog(ERROR, "could not update limit counters: %s", SPI_result_code_string(ret));
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			bool		isnull;
			int32		rule_id = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
			char	   *subject = TextDatumGetCString(SPI_getbinval(tup, desc, 2, &isnull));
			char	   *period = TextDatumGetCString(SPI_getbinval(tup, desc, 3, &isnull));
			int64		used = DatumGetInt64(SPI_getbinval(tup, desc, 4, &isnull));

			for (int i = 0; i < m; i++)
			{
				CounterHit *h = &hits[start + i];

				if (h->rule->id == rule_id && strcmp(h->subject, subject) == 0 &&
					strcmp(h->period, period) == 0)
				{
					h->before = used - h->delta;
					break;
				}
			}
		}
	}
}

static int64
counter_get(const LimitRule *r, const char *subject, const char *period)
{
	Datum		values[3];
	bool		isnull;
	int			ret;

	values[0] = Int32GetDatum(r->id);
	values[1] = CStringGetTextDatum(subject);
	values[2] = CStringGetTextDatum(period);
	ret = SPI_execute_plan(usage_plan, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read limit counter: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return 0;
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

static const char *
window_phrase(const LimitRule *r, const char *period)
{
	switch (r->metric)
	{
		case METRIC_PER_TRANSFER:
			return "in one transfer";
		case METRIC_OUTSTANDING:
			return "outstanding";
		default:
			return psprintf("in %s", period);
	}
}

static void
record_alert(const LimitRule *r, const RgLimitTransfer *t, const RgLimitParty *party,
			 const char *subject, const char *period, int64 before, int64 delta)
{
	StringInfoData detail;

	initStringInfo(&detail);
	appendStringInfoString(&detail, "{\"source\": \"limit\", \"metric\": ");
	escape_json(&detail, metric_names[r->metric]);
	appendStringInfoString(&detail, ", \"subject\": ");
	escape_json(&detail, subject);
	appendStringInfoString(&detail, ", \"period\": ");
	escape_json(&detail, period);
	appendStringInfo(&detail, ", \"used_before\": " INT64_FORMAT ", \"amount\": " INT64_FORMAT
					 ", \"threshold\": " INT64_FORMAT ", \"currency\": ",
					 before, delta, r->threshold);
	escape_json(&detail, r->currency);
	appendStringInfoChar(&detail, '}');

	/* recorded and sent with NOTIFY riskguard_alert like every alert */
	rg_alert_raise(r->name, "medium", party->owner, party->account_id, t->transfer_id, detail.data);
}

static void
limits_apply(const RgLimitTransfer *t, bool dry_run, RgLimitReport report, void *arg)
{
	CounterHit *hits;
	int			nhits = 0;
	bool		spi = false;

	/* most transfers touch only counters that exist: no SQL runs for them */
	ensure_rules(&spi);

	/* which rules count this transfer, against which counter */
	hits = palloc(sizeof(CounterHit) * Max(nrules, 1));
	for (int i = 0; i < nrules; i++)
	{
		CounterHit *h = &hits[nhits];

		if (!rule_applies(&rules[i], t, &h->party, &h->subject, &h->delta))
			continue;
		h->rule = &rules[i];
		period_key(h->rule->metric, t->at, h->period, sizeof(h->period));
		h->before = 0;
		nhits++;
	}

	/* usage before this transfer: read (dry run) or counted, in one statement */
	if (dry_run)
	{
		rg_spi_connect_once(&spi);
		prepare_plans();
		for (int i = 0; i < nhits; i++)
			if (hits[i].rule->metric != METRIC_PER_TRANSFER)
				hits[i].before = counter_get(hits[i].rule, hits[i].subject, hits[i].period);
	}
	else
	{
		int			ncounted = 0;

		/* per-transfer rules keep no counter: move them behind the others */
		for (int i = 0; i < nhits; i++)
			if (hits[i].rule->metric != METRIC_PER_TRANSFER)
			{
				CounterHit	tmp = hits[ncounted];

				hits[ncounted++] = hits[i];
				hits[i] = tmp;
			}
		qsort(hits, ncounted, sizeof(CounterHit), cmp_hits);
		if (ncounted > 0)
			ncounted = counters_add_existing(hits, ncounted, t->snapshot);
		/* counters new in this window: created (or met concurrently) by the upsert */
		if (ncounted > 0)
		{
			rg_spi_connect_once(&spi);
			qsort(hits, ncounted, sizeof(CounterHit), cmp_hits);
			counters_add(hits, ncounted);
		}
	}

	/* the checks, in rule order for a stable choice of the rule that refuses */
	for (int i = 0; i < nrules; i++)
		for (int j = 0; j < nhits; j++)
		{
			CounterHit *h = &hits[j];
			const LimitRule *r = h->rule;
			int64		after;
			bool		breach;

			if (r != &rules[i])
				continue;
			if (pg_add_s64_overflow(h->before, h->delta, &after))
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("usage of limit \"%s\" for %s \"%s\" is out of range",
								r->name, subject_names[r->subject], h->subject)));
			breach = h->delta > 0 && after > r->threshold;

			if (dry_run)
			{
				report(arg, r->name, !(breach && r->reject), h->before, r->threshold);
				continue;
			}
			if (r->metric != METRIC_PER_TRANSFER)
				rg_alert_note_limit_usage(t, r->name, h->subject, h->period, h->party,
										  h->before, after, r->threshold);
			if (!breach)
				continue;
			if (r->reject)
			{
				char	   *detail = psprintf("Usage %s before this transfer is " INT64_FORMAT " %s; the transfer adds "
											  INT64_FORMAT "; the threshold is " INT64_FORMAT ".",
											  window_phrase(r, h->period), h->before, r->currency,
											  r->metric == METRIC_DAILY_COUNT ? (int64) 1 : t->amount, r->threshold);
				char	   *msg = psprintf("transfer of " INT64_FORMAT " %s would exceed limit \"%s\" for %s \"%s\"",
										   t->amount, t->currency, r->name, subject_names[r->subject], h->subject);

				/* the attempt outlives the rollback through the recorder */
				rg_recorder_refuse(t, r->name, ERRCODE_RG_LIMIT_EXCEEDED, msg, detail);
				rg_error(ERRCODE_RG_LIMIT_EXCEEDED, detail,
						 r->metric == METRIC_DAILY_COUNT
						 ? "The count resets at midnight in riskguard.timezone."
						 : psprintf("At most " INT64_FORMAT " more fits under this limit.",
									Max(r->threshold - h->before, 0)),
						 "%s", msg);
			}
			rg_spi_connect_once(&spi);
			record_alert(r, t, h->party, h->subject, h->period, h->before, h->delta);
		}
	if (spi)
		SPI_finish();
}

void
rg_limits_enforce(const RgLimitTransfer *t)
{
	limits_apply(t, false, NULL, NULL);
}

void
rg_limits_dry_run(const RgLimitTransfer *t, RgLimitReport report, void *arg)
{
	limits_apply(t, true, report, arg);
}

PG_FUNCTION_INFO_V1(rg_limit_period);

/*
 * riskguard.limit_period(metric text, at timestamptz): the window a metric counts in
 * at that time, in riskguard.timezone.
 */
Datum
rg_limit_period(PG_FUNCTION_ARGS)
{
	char	   *metric = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int			m = lookup_name(metric, metric_names, lengthof(metric_names));
	char		period[16];

	if (m < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unrecognized limit metric: \"%s\"", metric),
				 errhint("Metrics are per_transfer, daily_sum, daily_count, monthly_sum and outstanding.")));
	period_key((LimitMetric) m, PG_GETARG_TIMESTAMPTZ(1), period, sizeof(period));
	PG_RETURN_TEXT_P(cstring_to_text(period));
}

/* fill an RgLimitParty from the account with this code, in the caller's SPI context */
static void
party_by_code(const char *code, RgLimitParty *p, char **currency)
{
	Datum		arg = CStringGetTextDatum(code);
	Oid			type = TEXTOID;
	int			ret;
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;

	ret = SPI_execute_with_args("SELECT id, code, owner, owner_kind, currency::pg_catalog.text "
								"FROM riskguard.account WHERE code OPERATOR(pg_catalog.=) $1",
								1, &type, &arg, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read riskguard.account: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("account \"%s\" does not exist", code)));
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	p->account_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
	p->code = SPI_getvalue(tup, desc, 2);
	p->owner = SPI_getvalue(tup, desc, 3);
	p->owner_kind = SPI_getvalue(tup, desc, 4);
	*currency = SPI_getvalue(tup, desc, 5);
}

typedef struct DryRunSink
{
	ReturnSetInfo *rsinfo;
} DryRunSink;

static void
dry_run_row(void *arg, const char *rule, bool allowed, int64 used, int64 threshold)
{
	DryRunSink *sink = (DryRunSink *) arg;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	values[0] = CStringGetTextDatum(rule);
	values[1] = BoolGetDatum(allowed);
	values[2] = Int64GetDatum(used);
	values[3] = Int64GetDatum(threshold);
	tuplestore_putvalues(sink->rsinfo->setResult, sink->rsinfo->setDesc, values, nulls);
}

PG_FUNCTION_INFO_V1(rg_check_transfer);

/*
 * riskguard.check_transfer(debit_code, credit_code, amount, kind): a dry run of the
 * limits for this transfer now, changing nothing: each rule that applies, whether it
 * would allow the transfer, its usage so far and its threshold.
 */
Datum
rg_check_transfer(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	RgLimitTransfer t;
	DryRunSink	sink;
	char	   *debit_currency;
	char	   *credit_currency;
	char	   *debit_code = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *credit_code = text_to_cstring(PG_GETARG_TEXT_PP(1));

	InitMaterializedSRF(fcinfo, 0);
	memset(&t, 0, sizeof(t));
	t.amount = PG_GETARG_INT64(2);
	t.kind = text_to_cstring(PG_GETARG_TEXT_PP(3));
	t.at = GetCurrentTransactionStartTimestamp();
	if (t.amount <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("transfer amount must be positive, not " INT64_FORMAT, t.amount)));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "could not connect to SPI");
	party_by_code(debit_code, &t.debit, &debit_currency);
	party_by_code(credit_code, &t.credit, &credit_currency);
	if (strcmp(debit_currency, credit_currency) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("accounts \"%s\" and \"%s\" hold different currencies", debit_code, credit_code),
				 errdetail("Account \"%s\" holds %s; account \"%s\" holds %s.",
						   debit_code, debit_currency, credit_code, credit_currency)));
	t.currency = debit_currency;
	sink.rsinfo = rsinfo;
	rg_limits_dry_run(&t, dry_run_row, &sink);
	SPI_finish();
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(rg_limit_match);

/*
 * riskguard._limit_match(rule_id, debit id/code/owner/owner_kind, credit id/code/owner/
 * owner_kind, currency, kind, amount, at): how the active rule counts this transfer, as
 * (subject, period, delta), or NULL when it does not.  Used to rebuild a rule's counters
 * from the ledger with exactly the matching the transfer trigger uses.
 */
Datum
rg_limit_match(PG_FUNCTION_ARGS)
{
	int32		rule_id;
	RgLimitTransfer t;
	const LimitRule *r = NULL;
	const RgLimitParty *party;
	const char *subject;
	int64		delta;
	char		period[16];
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	for (int i = 0; i < 13; i++)
		if (PG_ARGISNULL(i) && i != 3 && i != 4 && i != 7 && i != 8)
			PG_RETURN_NULL();
	rule_id = PG_GETARG_INT32(0);
	memset(&t, 0, sizeof(t));
	t.debit.account_id = PG_GETARG_INT64(1);
	t.debit.code = text_to_cstring(PG_GETARG_TEXT_PP(2));
	t.debit.owner = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	t.debit.owner_kind = PG_ARGISNULL(4) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(4));
	t.credit.account_id = PG_GETARG_INT64(5);
	t.credit.code = text_to_cstring(PG_GETARG_TEXT_PP(6));
	t.credit.owner = PG_ARGISNULL(7) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(7));
	t.credit.owner_kind = PG_ARGISNULL(8) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(8));
	t.currency = text_to_cstring(PG_GETARG_TEXT_PP(9));
	t.kind = text_to_cstring(PG_GETARG_TEXT_PP(10));
	t.amount = PG_GETARG_INT64(11);
	t.at = PG_GETARG_TIMESTAMPTZ(12);

	{
		bool		spi = false;

		ensure_rules(&spi);
		if (spi)
			SPI_finish();
	}
	for (int i = 0; i < nrules; i++)
		if (rules[i].id == rule_id)
			r = &rules[i];
	if (r == NULL || r->metric == METRIC_PER_TRANSFER ||
		!rule_applies(r, &t, &party, &subject, &delta))
		PG_RETURN_NULL();
	period_key(r->metric, t.at, period, sizeof(period));

	values[0] = CStringGetTextDatum(subject);
	values[1] = CStringGetTextDatum(period);
	values[2] = Int64GetDatum(delta);
	PG_RETURN_DATUM(rg_result_tuple(fcinfo, values, nulls));
}
