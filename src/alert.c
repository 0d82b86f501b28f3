/*
 * alert.c
 *		Alert rules on the write path.
 *
 * Rules live in riskguard.alert_rule and are compiled into a per-backend cache that a
 * relcache invalidation of the rule table (sent by riskguard._config_changed when a
 * change commits) throws away.  What a rule remembers between transfers lives in
 * riskguard.alert_state, one row per (rule, subject).  A row that exists is found through
 * the primary key, locked FOR NO KEY UPDATE as its newest version and updated by direct
 * heap access, with the new state computed here exactly as SQL would compute it (the
 * same operators, overflow checks and floating-point steps); a subject's first row is
 * created by an INSERT ... ON CONFLICT DO UPDATE, which also settles two sessions
 * creating it at once.  Either way the row lock makes concurrent transfers of one
 * subject serialise on it, and a transfer that rolls back leaves no trace in it.  Rows
 * are locked in rule order and, within a rule, in the index's order of subjects, so
 * concurrent transfers cannot deadlock on them.  The ledger is never scanned per
 * transfer, and SPI is entered only when a statement has to run (a first row, an alert,
 * a rule reload).
 *
 *	velocity				count and sum of an owner's transfers within a window that
 *							opens with the first transfer after the previous one closed
 *	amount_anomaly			the owner's running mean and sum of squared deviations
 *							(Welford), compared before this transfer joins them
 *	structuring				transfers in [threshold x (1 - margin), threshold) within a window
 *	limit_near				a limit's usage crossing a share of its threshold, once per
 *							limit, subject and window
 *	dormant_reactivation	an account's previous activity, to flag the first outflow
 *							after N days
 *	reconciliation_shortfall	raised by riskguard.reconcile, not here
 *
 * Every alert goes through rg_alert_raise: a row in riskguard.alert and a NOTIFY on
 * channel riskguard_alert, which PostgreSQL delivers only if the transaction commits.
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/nbtree.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "common/int.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/float.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "alert.h"
#include "ledger.h"
#include "recorder.h"
#include "rg_errors.h"
#include "riskguard.h"

/* below NOTIFY's payload limit of BLCKSZ - NAMEDATALEN - 128 bytes */
#define ALERT_PAYLOAD_MAX 7900

typedef enum AlertKind
{
	KIND_VELOCITY,
	KIND_AMOUNT_ANOMALY,
	KIND_STRUCTURING,
	KIND_LIMIT_NEAR,
	KIND_RECONCILIATION_SHORTFALL,
	KIND_DORMANT_REACTIVATION
} AlertKind;

static const char *const kind_names[] = {
	"velocity", "amount_anomaly", "structuring", "limit_near",
	"reconciliation_shortfall", "dormant_reactivation"
};

typedef struct AlertRule
{
	int32		id;
	char	   *name;
	AlertKind	kind;
	int			nkinds;			/* -1: every transfer kind */
	char	  **kinds;
	char	   *severity;
	bool		block;
	bool		outflow;
	char	   *currency;		/* NULL: any */
	double		window;			/* seconds */
	Interval   *span;			/* the window as make_interval(secs => window) */
	bool		has_max_count;
	int64		max_count;
	bool		has_max_sum;
	int64		max_sum;
	double		k;
	int64		min_history;
	int64		threshold;
	double		margin;
	int64		count;
	double		share;
	int			nlimits;		/* -1: every limit */
	char	  **limits;
	double		days;
} AlertRule;

/* one limit counter a transfer changed */
typedef struct LimitUsage
{
	char	   *limit;
	char	   *subject;
	char	   *period;
	char	   *owner;
	int64		account;
	int64		before;
	int64		after;
	int64		threshold;
} LimitUsage;

static MemoryContext rules_cxt = NULL;
static AlertRule *rules = NULL;
static int	nrules = 0;
static bool rules_valid = false;
static Oid	rules_relid = InvalidOid;

static MemoryContext usage_cxt = NULL;
static int64 usage_transfer = 0;
static LimitUsage *usages = NULL;
static int	nusages = 0;
static int	maxusages = 0;

/* riskguard.alert_state, found again when the rules are reloaded */
static Oid	state_relid = InvalidOid;
static Oid	state_pkey = InvalidOid;
typedef struct StateAtts
{
	AttrNumber	window_start,
				n,
				total,
				mean,
				m2,
				last_at;
} StateAtts;
static StateAtts satt;

static SPIPlanPtr alert_plan = NULL;

/*
 * A subject's first row: INSERT ... ON CONFLICT DO UPDATE, which also applies the change
 * when a concurrent transaction created the row first.  Each RETURNING list gives the
 * row as it is afterwards, in the order the direct path reports it.
 */
static SPIPlanPtr window_plan = NULL;
static SPIPlanPtr anomaly_plan = NULL;
static SPIPlanPtr activity_plan = NULL;
static SPIPlanPtr once_plan = NULL;

/* what one rg_alerts_check call has opened */
typedef struct AlertCheck
{
	const RgLimitTransfer *t;
	bool		spi;			/* connected to SPI */
	Relation	rel;			/* riskguard.alert_state, opened on first use */
	Relation	idx;			/* its primary key, (rule_id, subject) */
	Snapshot	snap;			/* the ledger's, or our own */
	bool		own_snap;
	Datum	   *values;			/* for ledger_update_row, one per column */
	bool	   *nulls;
	bool	   *repl;
} AlertCheck;

static void
alerts_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == rules_relid || relid == state_relid)
		rules_valid = false;
}

void
rg_alerts_init(void)
{
	CacheRegisterRelcacheCallback(alerts_relcache_callback, (Datum) 0);
}

static SPIPlanPtr
keep_plan(const char *sql, int nargs, Oid *types)
{
	SPIPlanPtr	p = SPI_prepare(sql, nargs, types);

	if (p == NULL)
		elog(ERROR, "could not prepare \"%s\": %s", sql, SPI_result_code_string(SPI_result));
	SPI_keepplan(p);
	return p;
}

/* ---------- recording an alert ---------- */

int64
rg_alert_raise(const char *rule, const char *severity, const char *owner,
			   int64 account, int64 transfer_id, const char *detail)
{
	Datum		v[6];
	char		n[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	bool		isnull;
	int64		id;
	StringInfoData payload;

	if (alert_plan == NULL)
	{
		Oid			types[6] = {TEXTOID, TEXTOID, TEXTOID, INT8OID, INT8OID, TEXTOID};

		alert_plan = keep_plan("INSERT INTO riskguard.alert (rule, severity, owner, account, transfer_id, detail) "
							   "VALUES ($1, $2, $3, $4, $5, $6::pg_catalog.jsonb) RETURNING id", 6, types);
	}
	v[0] = CStringGetTextDatum(rule);
	v[1] = CStringGetTextDatum(severity);
	v[2] = owner ? CStringGetTextDatum(owner) : (Datum) 0;
	n[2] = owner ? ' ' : 'n';
	v[3] = Int64GetDatum(account);
	n[3] = account ? ' ' : 'n';
	v[4] = Int64GetDatum(transfer_id);
	n[4] = transfer_id ? ' ' : 'n';
	v[5] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
	n[5] = detail ? ' ' : 'n';
	if (SPI_execute_plan(alert_plan, v, n, false, 1) != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "could not record an alert");
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	initStringInfo(&payload);
	appendStringInfo(&payload, "{\"id\": " INT64_FORMAT ", \"rule\": ", id);
	escape_json(&payload, rule);
	appendStringInfoString(&payload, ", \"severity\": ");
	escape_json(&payload, severity);
	appendStringInfoString(&payload, ", \"owner\": ");
	if (owner)
		escape_json(&payload, owner);
	else
		appendStringInfoString(&payload, "null");
	if (transfer_id)
		appendStringInfo(&payload, ", \"transfer_id\": " INT64_FORMAT "}", transfer_id);
	else
		appendStringInfoString(&payload, ", \"transfer_id\": null}");
	if (payload.len >= ALERT_PAYLOAD_MAX)
	{
		/* names too long for a notification: the listener reads the rest by id */
		resetStringInfo(&payload);
		appendStringInfo(&payload, "{\"id\": " INT64_FORMAT ", \"severity\": ", id);
		escape_json(&payload, severity);
		appendStringInfoChar(&payload, '}');
	}
	Async_Notify("riskguard_alert", payload.data);
	return id;
}

PG_FUNCTION_INFO_V1(rg_raise_alert);

/*
 * riskguard._raise_alert(rule, severity, owner, account, transfer_id, detail): record an
 * alert and send it with NOTIFY riskguard_alert when the transaction commits.
 */
Datum
rg_raise_alert(PG_FUNCTION_ARGS)
{
	char	   *rule;
	char	   *severity;
	int64		id;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("an alert needs a rule and a severity")));
	rule = text_to_cstring(PG_GETARG_TEXT_PP(0));
	severity = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "could not connect to SPI");
	id = rg_alert_raise(rule, severity,
						PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2)),
						PG_ARGISNULL(3) ? 0 : PG_GETARG_INT64(3),
						PG_ARGISNULL(4) ? 0 : PG_GETARG_INT64(4),
						PG_ARGISNULL(5) ? NULL : DatumGetCString(DirectFunctionCall1(jsonb_out, PG_GETARG_DATUM(5))));
	SPI_finish();
	PG_RETURN_INT64(id);
}

/* ---------- limit usage reported by the limits ---------- */

void
rg_alert_note_limit_usage(const RgLimitTransfer *t, const char *limit, const char *subject,
						  const char *period, const RgLimitParty *party,
						  int64 before, int64 after, int64 threshold)
{
	MemoryContext old;
	LimitUsage *u;

	if (usage_cxt == NULL)
		usage_cxt = AllocSetContextCreate(TopMemoryContext, "riskguard limit usage",
										  ALLOCSET_SMALL_SIZES);
	if (usages == NULL || usage_transfer != t->transfer_id)
	{
		MemoryContextReset(usage_cxt);
		usages = NULL;
		nusages = maxusages = 0;
		usage_transfer = t->transfer_id;
	}
	old = MemoryContextSwitchTo(usage_cxt);
	if (nusages == maxusages)
	{
		maxusages = Max(8, maxusages * 2);
		usages = usages ? repalloc(usages, sizeof(LimitUsage) * maxusages)
			: palloc(sizeof(LimitUsage) * maxusages);
	}
	u = &usages[nusages++];
	u->limit = pstrdup(limit);
	u->subject = pstrdup(subject);
	u->period = pstrdup(period);
	u->owner = party->owner ? pstrdup(party->owner) : NULL;
	u->account = party->account_id;
	u->before = before;
	u->after = after;
	u->threshold = threshold;
	MemoryContextSwitchTo(old);
}

static void
forget_limit_usage(void)
{
	if (usage_cxt)
		MemoryContextReset(usage_cxt);
	usages = NULL;
	nusages = maxusages = 0;
	usage_transfer = 0;
}

/* ---------- the rule cache ---------- */

static AttrNumber
state_att(Oid relid, const char *name)
{
	AttrNumber	att = get_attnum(relid, name);

	if (att == InvalidAttrNumber)
		elog(ERROR, "riskguard.alert_state has no column \"%s\"", name);
	return att;
}

static void
load_rules(void)
{
	static const char *const sql =
		"SELECT id, name, kind, kinds, severity, action, "
		"COALESCE(params ->> 'direction', 'outflow'), params ->> 'currency', "
		"EXTRACT(epoch FROM (params ->> 'window')::pg_catalog.interval)::float8, "
		"(params ->> 'max_count')::numeric::int8, (params ->> 'max_sum')::numeric::int8, "
		"(params ->> 'k')::float8, COALESCE((params ->> 'min_history')::numeric::int8, 10), "
		"(params ->> 'threshold')::numeric::int8, (params ->> 'margin')::float8, "
		"(params ->> 'count')::numeric::int8, (params ->> 'share')::float8, "
		"CASE WHEN pg_catalog.jsonb_typeof(params -> 'limits') OPERATOR(pg_catalog.=) 'array' THEN "
		"ARRAY(SELECT pg_catalog.jsonb_array_elements_text(params -> 'limits')) END, "
		"(params ->> 'days')::float8 "
		"FROM riskguard.alert_rule WHERE active AND kind OPERATOR(pg_catalog.<>) 'reconciliation_shortfall' "
		"ORDER BY id";
	MemoryContext old;
	Oid			nsp;

	if (rules_cxt == NULL)
		rules_cxt = AllocSetContextCreate(TopMemoryContext, "riskguard alert rules",
										  ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(rules_cxt);
	rules = NULL;
	nrules = 0;
	nsp = get_namespace_oid("riskguard", false);
	rules_relid = get_relname_relid("alert_rule", nsp);
	state_relid = get_relname_relid("alert_state", nsp);
	{
		Relation	srel = table_open(state_relid, AccessShareLock);

		state_pkey = RelationGetPrimaryKeyIndex(srel);
		table_close(srel, AccessShareLock);
	}
#define ATT(name) state_att(state_relid, name)
	satt.window_start = ATT("window_start");
	satt.n = ATT("n");
	satt.total = ATT("total");
	satt.mean = ATT("mean");
	satt.m2 = ATT("m2");
	satt.last_at = ATT("last_at");
#undef ATT

	if (SPI_execute(sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read riskguard.alert_rule");

	old = MemoryContextSwitchTo(rules_cxt);
	rules = palloc0(sizeof(AlertRule) * Max(SPI_processed, 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		AlertRule  *r = &rules[nrules];
		bool		isnull;
		Datum		d;
		char	   *s;
		int			kind = -1;

#define GET(col) (d = SPI_getbinval(tup, desc, (col), &isnull))
		r->id = DatumGetInt32(GET(1));
		r->name = SPI_getvalue(tup, desc, 2);
		s = SPI_getvalue(tup, desc, 3);
		for (int j = 0; j < lengthof(kind_names); j++)
			if (strcmp(s, kind_names[j]) == 0)
				kind = j;
		if (kind < 0)
			continue;
		r->kind = (AlertKind) kind;
		GET(4);
		if (isnull)
			r->nkinds = -1;
		else
			r->kinds = rg_text_array_cstrings(d, &r->nkinds);
		r->severity = SPI_getvalue(tup, desc, 5);
		r->block = strcmp(SPI_getvalue(tup, desc, 6), "block") == 0;
		r->outflow = strcmp(SPI_getvalue(tup, desc, 7), "inflow") != 0;
		r->currency = SPI_getvalue(tup, desc, 8);
		GET(9);
		r->window = isnull ? 0 : DatumGetFloat8(d);
		if (r->kind == KIND_VELOCITY || r->kind == KIND_STRUCTURING)
			r->span = DatumGetIntervalP(DirectFunctionCall7(make_interval,
															Int32GetDatum(0), Int32GetDatum(0),
															Int32GetDatum(0), Int32GetDatum(0),
															Int32GetDatum(0), Int32GetDatum(0),
															Float8GetDatum(r->window)));
		GET(10);
		r->has_max_count = !isnull;
		r->max_count = isnull ? 0 : DatumGetInt64(d);
		GET(11);
		r->has_max_sum = !isnull;
		r->max_sum = isnull ? 0 : DatumGetInt64(d);
		GET(12);
		r->k = isnull ? 0 : DatumGetFloat8(d);
		r->min_history = DatumGetInt64(GET(13));
		GET(14);
		r->threshold = isnull ? 0 : DatumGetInt64(d);
		GET(15);
		r->margin = isnull ? 0 : DatumGetFloat8(d);
		GET(16);
		r->count = isnull ? 1 : DatumGetInt64(d);
		GET(17);
		r->share = isnull ? 1 : DatumGetFloat8(d);
		GET(18);
		if (isnull)
			r->nlimits = -1;
		else
			r->limits = rg_text_array_cstrings(d, &r->nlimits);
		GET(19);
		r->days = isnull ? 0 : DatumGetFloat8(d);
#undef GET
		nrules++;
	}
	MemoryContextSwitchTo(old);
	rules_valid = true;
}

static SPIPlanPtr
upsert_plan(const char *insert_cols, const char *insert_values, const char *set,
			const char *returning, int nargs, Oid *types)
{
	return keep_plan(psprintf("INSERT INTO riskguard.alert_state AS s (rule_id, subject, %s) "
							  "VALUES ($1, $2, %s) ON CONFLICT (rule_id, subject) DO UPDATE SET %s "
							  "RETURNING %s", insert_cols, insert_values, set, returning),
					 nargs, types);
}

/*
 * The SET clauses below are what the direct path (window_step, anomaly_step,
 * activity_step) computes for an existing row: a change to one is a change to both.
 */
static void
prepare_plans(void)
{
	if (window_plan == NULL)
	{
		Oid			types[5] = {INT4OID, TEXTOID, TIMESTAMPTZOID, INT8OID, FLOAT8OID};

		/* OPERATOR() syntax binds all operators alike: parenthesise every step */
#define IN_WINDOW "s.window_start OPERATOR(pg_catalog.>) ($3 OPERATOR(pg_catalog.-) pg_catalog.make_interval(secs => $5))"
		window_plan = upsert_plan("window_start, n, total, last_at", "$3, 1, $4, $3",
								  "window_start = CASE WHEN " IN_WINDOW " THEN s.window_start ELSE $3 END, "
								  "n = CASE WHEN " IN_WINDOW " THEN s.n OPERATOR(pg_catalog.+) 1 ELSE 1 END, "
								  "total = CASE WHEN " IN_WINDOW " THEN s.total OPERATOR(pg_catalog.+) $4 ELSE $4 END, "
								  "last_at = $3", "s.n, s.total, s.window_start", 5, types);
#undef IN_WINDOW
	}
	if (anomaly_plan == NULL)
	{
		Oid			types[4] = {INT4OID, TEXTOID, TIMESTAMPTZOID, FLOAT8OID};

		/* Welford: n' = n + 1, mean' = mean + (x - mean) / n', m2' = m2 + (x - mean)(x - mean') */
#define DELTA "($4 OPERATOR(pg_catalog.-) s.mean)"
#define NEW_MEAN "(s.mean OPERATOR(pg_catalog.+) (" DELTA " OPERATOR(pg_catalog./) (s.n OPERATOR(pg_catalog.+) 1)))"
		anomaly_plan = upsert_plan("n, mean, m2, last_at", "1, $4, 0, $3",
								   "n = s.n OPERATOR(pg_catalog.+) 1, "
								   "mean = " NEW_MEAN ", "
								   "m2 = s.m2 OPERATOR(pg_catalog.+) (" DELTA " OPERATOR(pg_catalog.*) "
								   "($4 OPERATOR(pg_catalog.-) " NEW_MEAN ")), "
								   "last_at = $3", "s.n, s.mean, s.m2", 4, types);
#undef NEW_MEAN
#undef DELTA
	}
	if (activity_plan == NULL)
	{
		Oid			types[3] = {INT4OID, TEXTOID, TIMESTAMPTZOID};

		activity_plan = upsert_plan("n, last_at", "1, $3",
									"window_start = s.last_at, n = s.n OPERATOR(pg_catalog.+) 1, last_at = $3",
									"s.window_start, s.n", 3, types);
	}
	if (once_plan == NULL)
	{
		Oid			types[3] = {INT4OID, TEXTOID, TIMESTAMPTZOID};

		once_plan = keep_plan(
							  "INSERT INTO riskguard.alert_state (rule_id, subject, n, last_at) VALUES ($1, $2, 1, $3) "
							  "ON CONFLICT (rule_id, subject) DO NOTHING", 3, types);
	}
}

/* run a first-row upsert; the row as it is afterwards is SPI_tuptable->vals[0] */
static void
exec_upsert(AlertCheck *c, SPIPlanPtr *plan, Datum *values)
{
	rg_spi_connect_once(&c->spi);
	prepare_plans();
	if (SPI_execute_plan(*plan, values, NULL, false, 1) != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "could not update alert rule state");
}

/* ---------- the state rows, by direct heap access ---------- */

/*
 * Open riskguard.alert_state and its primary key for this check, with the ledger's
 * snapshot (taken after it made this transaction's earlier work visible) or, without
 * one, a fresh snapshot of our own.
 */
static void
state_open(AlertCheck *c)
{
	int			natts;

	if (c->rel != NULL)
		return;
	c->rel = table_open(state_relid, RowExclusiveLock);
	c->idx = index_open(state_pkey, RowExclusiveLock);
	natts = RelationGetDescr(c->rel)->natts;
	c->values = palloc0(sizeof(Datum) * natts);
	c->nulls = palloc0(sizeof(bool) * natts);
	c->repl = palloc0(sizeof(bool) * natts);
	c->snap = ledger_find_snapshot(c->t->snapshot, &c->own_snap);
}

static void
state_close(AlertCheck *c)
{
	if (c->rel == NULL)
		return;
	if (c->own_snap)
		UnregisterSnapshot(c->snap);
	index_close(c->idx, NoLock);
	table_close(c->rel, NoLock);
	c->rel = NULL;
}

/* lock the state row of (rule, subject) if it exists */
static bool
state_lock(AlertCheck *c, int32 rule_id, const char *subject, LedgerRow *row)
{
	ScanKeyData keys[2];

	state_open(c);
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(rule_id));
	ScanKeyEntryInitialize(&keys[1], 0, 2, BTEqualStrategyNumber, InvalidOid,
						   c->idx->rd_indcollation[1], F_TEXTEQ, CStringGetTextDatum(subject));
	return ledger_lock_row_by_keys(c->rel, c->idx, c->snap, keys, 2, row);
}

static Datum
state_get(AlertCheck *c, LedgerRow *row, AttrNumber att, bool *isnull)
{
	return heap_getattr(row->tuple, att, RelationGetDescr(c->rel), isnull);
}

static void
state_set(AlertCheck *c, AttrNumber att, Datum value, bool isnull)
{
	c->values[att - 1] = value;
	c->nulls[att - 1] = isnull;
	c->repl[att - 1] = true;
}

/* write the columns set with state_set into the locked row, and let it go */
static void
state_write(AlertCheck *c, LedgerRow *row)
{
	ledger_update_row(row, c->values, c->nulls, c->repl);
	ledger_release_row(row);
	memset(c->repl, 0, sizeof(bool) * RelationGetDescr(c->rel)->natts);
}

/* the order of two subjects in the primary key */
static int
subject_cmp(AlertCheck *c, const char *a, const char *b)
{
	state_open(c);
	return DatumGetInt32(FunctionCall2Coll(index_getprocinfo(c->idx, 2, BTORDER_PROC),
										   c->idx->rd_indcollation[1],
										   CStringGetTextDatum(a), CStringGetTextDatum(b)));
}

/* int8 + int8 as SQL's operator does it */
static int64
int8_plus(int64 a, int64 b)
{
	int64		r;

	if (pg_add_s64_overflow(a, b, &r))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("bigint out of range")));
	return r;
}

/*
 * velocity and structuring, on an existing row: the window goes on while its start is
 * after at - window, else a new one opens with this transfer.
 */
static void
window_step(AlertCheck *c, const AlertRule *r, LedgerRow *row,
			int64 *n, int64 *total, TimestampTz *start)
{
	const RgLimitTransfer *t = c->t;
	bool		start_null,
				isnull;
	TimestampTz old_start = DatumGetTimestampTz(state_get(c, row, satt.window_start, &start_null));
	int64		old_n = DatumGetInt64(state_get(c, row, satt.n, &isnull));
	int64		old_total = DatumGetInt64(state_get(c, row, satt.total, &isnull));
	TimestampTz edge = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
															   TimestampTzGetDatum(t->at),
															   PointerGetDatum(r->span)));
	bool		in_window = !start_null && old_start > edge;

	*start = in_window ? old_start : t->at;
	*n = in_window ? int8_plus(old_n, 1) : 1;
	*total = in_window ? int8_plus(old_total, t->amount) : t->amount;
	state_set(c, satt.window_start, TimestampTzGetDatum(*start), false);
	state_set(c, satt.n, Int64GetDatum(*n), false);
	state_set(c, satt.total, Int64GetDatum(*total), false);
	state_set(c, satt.last_at, TimestampTzGetDatum(t->at), false);
	state_write(c, row);
}

/*
 * amount_anomaly, on an existing row: Welford's step with float8's checked operators,
 * in the order the SQL evaluates them.
 */
static void
anomaly_step(AlertCheck *c, LedgerRow *row, double x, int64 *n, double *mean, double *m2)
{
	bool		isnull;
	int64		old_n = DatumGetInt64(state_get(c, row, satt.n, &isnull));
	double		old_mean = DatumGetFloat8(state_get(c, row, satt.mean, &isnull));
	double		old_m2 = DatumGetFloat8(state_get(c, row, satt.m2, &isnull));
	double		delta;

	*n = int8_plus(old_n, 1);
	delta = float8_mi(x, old_mean);
	*mean = float8_pl(old_mean, float8_div(delta, (double) *n));
	*m2 = float8_pl(old_m2, float8_mul(delta, float8_mi(x, *mean)));
	state_set(c, satt.n, Int64GetDatum(*n), false);
	state_set(c, satt.mean, Float8GetDatum(*mean), false);
	state_set(c, satt.m2, Float8GetDatum(*m2), false);
	state_set(c, satt.last_at, TimestampTzGetDatum(c->t->at), false);
	state_write(c, row);
}

/*
 * dormant_reactivation, on an existing row: the previous activity moves to window_start.
 * Returns whether there was one, in *prev.
 */
static bool
activity_step(AlertCheck *c, LedgerRow *row, TimestampTz *prev)
{
	bool		prev_null,
				isnull;
	Datum		last = state_get(c, row, satt.last_at, &prev_null);
	int64		old_n = DatumGetInt64(state_get(c, row, satt.n, &isnull));

	*prev = prev_null ? 0 : DatumGetTimestampTz(last);
	state_set(c, satt.window_start, last, prev_null);
	state_set(c, satt.n, Int64GetDatum(int8_plus(old_n, 1)), false);
	state_set(c, satt.last_at, TimestampTzGetDatum(c->t->at), false);
	state_write(c, row);
	return !prev_null;
}

/* ---------- evaluation ---------- */

static bool
kind_matches(const AlertRule *r, const char *kind)
{
	if (r->nkinds < 0)
		return true;
	for (int i = 0; i < r->nkinds; i++)
		if (strcmp(r->kinds[i], kind) == 0)
			return true;
	return false;
}

static void
json_key(StringInfo s, const char *key)
{
	if (s->len > 1)
		appendStringInfoString(s, ", ");
	escape_json(s, key);
	appendStringInfoString(s, ": ");
}

static void
json_int(StringInfo s, const char *key, int64 v)
{
	json_key(s, key);
	appendStringInfo(s, INT64_FORMAT, v);
}

static void
json_num(StringInfo s, const char *key, double v)
{
	json_key(s, key);
	if (isfinite(v))
		appendStringInfo(s, "%.15g", v);
	else
		appendStringInfoString(s, "null");
}

static void
json_str(StringInfo s, const char *key, const char *v)
{
	json_key(s, key);
	if (v)
		escape_json(s, v);
	else
		appendStringInfoString(s, "null");
}

static void
json_time(StringInfo s, const char *key, TimestampTz t)
{
	json_str(s, key, timestamptz_to_str(t));
}

/* a block rule fired: queue the attempt for the recorder, then refuse with RG007 */
static void
refuse(const AlertRule *r, const RgLimitTransfer *t, const char *why)
{
	char	   *msg = psprintf("transfer of " INT64_FORMAT " %s blocked by alert rule \"%s\"",
							   t->amount, t->currency, r->name);

	rg_recorder_refuse(t, r->name, ERRCODE_RG_BLOCKED_BY_ALERT, msg, why);
	rg_error(ERRCODE_RG_BLOCKED_BY_ALERT, why,
			 "The rule is in riskguard.alert_rule; while the recorder runs, the attempt is recorded in riskguard.rejected_attempt.",
			 "%s", msg);
}

static void
fire(AlertCheck *c, const AlertRule *r, const char *owner, int64 account,
	 StringInfo detail, const char *why)
{
	if (r->block)
		refuse(r, c->t, why);
	json_str(detail, "kind", kind_names[r->kind]);
	json_str(detail, "reason", why);
	appendStringInfoChar(detail, '}');
	rg_spi_connect_once(&c->spi);
	rg_alert_raise(r->name, r->severity, owner, account, c->t->transfer_id, detail->data);
}

static void
check_window(AlertCheck *c, const AlertRule *r, const RgLimitParty *party)
{
	const RgLimitTransfer *t = c->t;
	LedgerRow	row = {0};
	int64		n,
				total;
	TimestampTz start;
	StringInfoData d;
	bool		over_count,
				over_sum;

	if (r->kind == KIND_STRUCTURING &&
		!(t->amount < r->threshold && (double) t->amount >= (double) r->threshold * (1.0 - r->margin)))
		return;
	if (state_lock(c, r->id, party->owner, &row))
		window_step(c, r, &row, &n, &total, &start);
	else
	{
		Datum		v[5];
		bool		isnull;

		v[0] = Int32GetDatum(r->id);
		v[1] = CStringGetTextDatum(party->owner);
		v[2] = TimestampTzGetDatum(t->at);
		v[3] = Int64GetDatum(t->amount);
		v[4] = Float8GetDatum(r->window);
		exec_upsert(c, &window_plan, v);
		n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		total = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		start = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	}

	if (r->kind == KIND_STRUCTURING)
	{
		if (n < r->count)
			return;
	}
	else
	{
		over_count = r->has_max_count && n > r->max_count;
		over_sum = r->has_max_sum && total > r->max_sum;
		if (!over_count && !over_sum)
			return;
	}
	initStringInfo(&d);
	appendStringInfoChar(&d, '{');
	json_time(&d, "window_start", start);
	json_num(&d, "window_seconds", r->window);
	json_int(&d, "count", n);
	json_int(&d, "sum", total);
	json_str(&d, "currency", t->currency);
	if (r->kind == KIND_STRUCTURING)
	{
		json_int(&d, "threshold", r->threshold);
		json_num(&d, "margin", r->margin);
		fire(c, r, party->owner, party->account_id, &d,
			 psprintf("Owner \"%s\" made " INT64_FORMAT " transfers just under " INT64_FORMAT
					  " %s within %g seconds.", party->owner, n, r->threshold, t->currency, r->window));
		return;
	}
	if (r->has_max_count)
		json_int(&d, "max_count", r->max_count);
	if (r->has_max_sum)
		json_int(&d, "max_sum", r->max_sum);
	fire(c, r, party->owner, party->account_id, &d,
		 psprintf("Owner \"%s\" made " INT64_FORMAT " transfers of " INT64_FORMAT " %s in total within %g seconds.",
				  party->owner, n, total, t->currency, r->window));
}

static void
check_anomaly(AlertCheck *c, const AlertRule *r, const RgLimitParty *party)
{
	const RgLimitTransfer *t = c->t;
	LedgerRow	row = {0};
	int64		n;
	double		mean,
				m2,
				mean_after,
				m2_after,
				sd,
				x = (double) t->amount;
	StringInfoData d;

	if (state_lock(c, r->id, party->owner, &row))
		anomaly_step(c, &row, x, &n, &mean_after, &m2_after);
	else
	{
		Datum		v[4];
		bool		isnull;

		v[0] = Int32GetDatum(r->id);
		v[1] = CStringGetTextDatum(party->owner);
		v[2] = TimestampTzGetDatum(t->at);
		v[3] = Float8GetDatum(x);
		exec_upsert(c, &anomaly_plan, v);
		n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		mean_after = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		m2_after = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	}
	/* the state after this transfer joined; recover the state before it */
	n = n - 1;
	if (n < r->min_history || n < 2)
		return;
	mean = (mean_after * (double) (n + 1) - x) / (double) n;
	m2 = m2_after - (x - mean) * (x - mean_after);
	sd = sqrt(Max(m2, 0.0) / (double) (n - 1));
	if (!(fabs(x - mean) > r->k * sd))
		return;
	initStringInfo(&d);
	appendStringInfoChar(&d, '{');
	json_int(&d, "amount", t->amount);
	json_str(&d, "currency", t->currency);
	json_int(&d, "history", n);
	json_num(&d, "mean", mean);
	json_num(&d, "sd", sd);
	json_num(&d, "k", r->k);
	json_num(&d, "z", sd > 0 ? (x - mean) / sd : (x > mean ? INFINITY : -INFINITY));
	fire(c, r, party->owner, party->account_id, &d,
		 psprintf("The amount " INT64_FORMAT " %s is more than %g standard deviations (%.2f) from owner \"%s\"'s mean of %.2f over "
				  INT64_FORMAT " transfers.", t->amount, t->currency, r->k, sd, party->owner, mean, n));
}

/*
 * Note activity on both owned accounts (existing rows locked in the index's order, then
 * first rows created debit first); flag the debited account's first outflow after a
 * long silence.
 */
static void
check_dormant(AlertCheck *c, const AlertRule *r)
{
	const RgLimitTransfer *t = c->t;
	const RgLimitParty *sides[2];
	char	   *subjects[2];
	bool		seen[2] = {false, false};
	int			nsides = 0,
				order[2] = {0, 1};
	bool		has_prev = false;
	TimestampTz last = 0;
	double		idle_days;
	StringInfoData d;

	/* sides[0] is the debited account when it has an owner */
	if (t->debit.owner)
		sides[nsides++] = &t->debit;
	if (t->credit.owner)
		sides[nsides++] = &t->credit;
	if (nsides == 0)
		return;
	for (int i = 0; i < nsides; i++)
		subjects[i] = psprintf("account %lld", (long long) sides[i]->account_id);
	if (nsides == 2 && subject_cmp(c, subjects[0], subjects[1]) > 0)
	{
		order[0] = 1;
		order[1] = 0;
	}
	for (int k = 0; k < nsides; k++)
	{
		int			i = order[k];
		LedgerRow	row = {0};
		TimestampTz prev;
		bool		found_prev;

		if (!state_lock(c, r->id, subjects[i], &row))
			continue;
		found_prev = activity_step(c, &row, &prev);
		seen[i] = true;
		if (sides[i] == &t->debit)
		{
			has_prev = found_prev;
			last = prev;
		}
	}
	for (int i = 0; i < nsides; i++)
	{
		Datum		v[3];
		Datum		prev;
		bool		isnull;

		if (seen[i])
			continue;
		v[0] = Int32GetDatum(r->id);
		v[1] = CStringGetTextDatum(subjects[i]);
		v[2] = TimestampTzGetDatum(t->at);
		exec_upsert(c, &activity_plan, v);
		if (sides[i] != &t->debit)
			continue;
		/* RETURNING shows the row after the change: window_start is the activity before */
		prev = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		has_prev = !isnull;
		last = isnull ? 0 : DatumGetTimestampTz(prev);
	}

	if (sides[0] != &t->debit || !has_prev || !kind_matches(r, t->kind))
		return;
	if (r->currency && strcmp(r->currency, t->currency) != 0)
		return;
	idle_days = (double) (t->at - last) / (double) USECS_PER_DAY;
	if (idle_days < r->days)
		return;
	initStringInfo(&d);
	appendStringInfoChar(&d, '{');
	json_time(&d, "last_activity", last);
	json_num(&d, "idle_days", floor(idle_days * 100.0) / 100.0);
	json_num(&d, "days", r->days);
	json_int(&d, "amount", t->amount);
	json_str(&d, "currency", t->currency);
	fire(c, r, t->debit.owner, t->debit.account_id, &d,
		 psprintf("Account \"%s\" pays out after %.1f days without activity.", t->debit.code, idle_days));
}

static void
check_limit_near(AlertCheck *c, const AlertRule *r)
{
	const RgLimitTransfer *t = c->t;

	for (int i = 0; i < nusages; i++)
	{
		const LimitUsage *u = &usages[i];
		double		mark = r->share * (double) u->threshold;
		bool		listed = r->nlimits < 0;
		Datum		v[3];
		StringInfoData d;

		for (int j = 0; !listed && j < r->nlimits; j++)
			listed = strcmp(r->limits[j], u->limit) == 0;
		if (!listed || u->threshold <= 0)
			continue;
		if (!((double) u->before < mark && (double) u->after >= mark))
			continue;
		v[0] = Int32GetDatum(r->id);
		v[1] = CStringGetTextDatum(psprintf("%s|%s|%s", u->limit, u->subject, u->period));
		v[2] = TimestampTzGetDatum(t->at);
		rg_spi_connect_once(&c->spi);
		prepare_plans();
		if (SPI_execute_plan(once_plan, v, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not update alert rule state");
		if (SPI_processed == 0)
			continue;			/* already reported in this window */
		initStringInfo(&d);
		appendStringInfoChar(&d, '{');
		json_str(&d, "limit", u->limit);
		json_str(&d, "subject", u->subject);
		json_str(&d, "window", u->period);
		json_int(&d, "used_before", u->before);
		json_int(&d, "used", u->after);
		json_int(&d, "threshold", u->threshold);
		json_num(&d, "share", r->share);
		fire(c, r, u->owner, u->account, &d,
			 psprintf("Limit \"%s\" for \"%s\" is %.0f%% used (" INT64_FORMAT " of " INT64_FORMAT ").",
					  u->limit, u->subject, 100.0 * (double) u->after / (double) u->threshold,
					  u->after, u->threshold));
	}
}

void
rg_alerts_check(const RgLimitTransfer *t)
{
	AlertCheck	c = {0};

	c.t = t;
	AcceptInvalidationMessages();
	if (!rules_valid)
	{
		rg_spi_connect_once(&c.spi);
		load_rules();
	}
	if (usage_transfer != t->transfer_id)
		forget_limit_usage();

	for (int i = 0; i < nrules; i++)
	{
		const AlertRule *r = &rules[i];
		const RgLimitParty *party = r->outflow ? &t->debit : &t->credit;

		CHECK_FOR_INTERRUPTS();
		if (r->kind == KIND_DORMANT_REACTIVATION)
		{
			check_dormant(&c, r);
			continue;
		}
		if (!kind_matches(r, t->kind))
			continue;
		if (r->currency && strcmp(r->currency, t->currency) != 0)
			continue;
		switch (r->kind)
		{
			case KIND_VELOCITY:
			case KIND_STRUCTURING:
				if (party->owner)
					check_window(&c, r, party);
				break;
			case KIND_AMOUNT_ANOMALY:
				if (party->owner)
					check_anomaly(&c, r, party);
				break;
			case KIND_LIMIT_NEAR:
				check_limit_near(&c, r);
				break;
			default:
				break;
		}
	}
	forget_limit_usage();
	state_close(&c);
	if (c.spi)
		SPI_finish();
}
