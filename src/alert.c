/*
 * alert.c
 *		Alert rules on the write path.
 *
 * Rules live in riskguard.alert_rule and are compiled into a per-backend cache that a
 * relcache invalidation of the rule table (sent by riskguard._config_changed when a
 * change commits) throws away.  What a rule remembers between transfers lives in
 * riskguard.alert_state, one row per (rule, subject), changed with one UPDATE per rule and
 * transfer (an INSERT ... ON CONFLICT DO UPDATE for a subject's first transfer): that
 * takes the row lock, so concurrent transfers of one owner serialise on it, and a
 * transfer that rolls back leaves no trace in it.  The ledger is never scanned per
 * transfer.
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

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "alert.h"
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

static SPIPlanPtr alert_plan = NULL;
typedef struct StatePlan
{
	SPIPlanPtr	update;
	SPIPlanPtr	upsert;
} StatePlan;

static StatePlan window_plan;
static StatePlan anomaly_plan;
static StatePlan activity_plan;
static SPIPlanPtr activity_pair_plan = NULL;
static SPIPlanPtr once_plan = NULL;

static void
alerts_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == rules_relid)
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

/*
 * Each state change has two plans with the same parameters and RETURNING list: an UPDATE
 * of the existing row (the usual case, and the cheaper statement), and an
 * INSERT ... ON CONFLICT DO UPDATE for the first transfer of a subject (or one that
 * races another session's first).
 */
static void
prepare_state_plan(StatePlan *sp, const char *insert_cols, const char *insert_values,
				   const char *set, const char *returning, int nargs, Oid *types)
{
	if (sp->update != NULL)
		return;
	sp->upsert = keep_plan(psprintf("INSERT INTO riskguard.alert_state AS s (rule_id, subject, %s) "
									"VALUES ($1, $2, %s) ON CONFLICT (rule_id, subject) DO UPDATE SET %s "
									"RETURNING %s", insert_cols, insert_values, set, returning),
						   nargs, types);
	sp->update = keep_plan(psprintf("UPDATE riskguard.alert_state AS s SET %s "
									"WHERE s.rule_id OPERATOR(pg_catalog.=) $1 AND s.subject OPERATOR(pg_catalog.=) $2 "
									"RETURNING %s", set, returning),
						   nargs, types);
}

/* apply a state change; the row as it is afterwards is SPI_tuptable->vals[0] */
static void
exec_state_plan(const StatePlan *sp, Datum *values)
{
	int			ret = SPI_execute_plan(sp->update, values, NULL, false, 1);

	if (ret == SPI_OK_UPDATE_RETURNING && SPI_processed == 1)
		return;
	ret = SPI_execute_plan(sp->upsert, values, NULL, false, 1);
	if (ret != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "could not update alert rule state");
}

static void
prepare_plans(void)
{
	{
		Oid			types[5] = {INT4OID, TEXTOID, TIMESTAMPTZOID, INT8OID, FLOAT8OID};

		/* OPERATOR() syntax binds all operators alike: parenthesise every step */
#define IN_WINDOW "s.window_start OPERATOR(pg_catalog.>) ($3 OPERATOR(pg_catalog.-) pg_catalog.make_interval(secs => $5))"
		prepare_state_plan(&window_plan, "window_start, n, total, last_at", "$3, 1, $4, $3",
						   "window_start = CASE WHEN " IN_WINDOW " THEN s.window_start ELSE $3 END, "
						   "n = CASE WHEN " IN_WINDOW " THEN s.n OPERATOR(pg_catalog.+) 1 ELSE 1 END, "
						   "total = CASE WHEN " IN_WINDOW " THEN s.total OPERATOR(pg_catalog.+) $4 ELSE $4 END, "
						   "last_at = $3", "s.n, s.total, s.window_start", 5, types);
#undef IN_WINDOW
	}
	{
		Oid			types[4] = {INT4OID, TEXTOID, TIMESTAMPTZOID, FLOAT8OID};

		/* Welford: n' = n + 1, mean' = mean + (x - mean) / n', m2' = m2 + (x - mean)(x - mean') */
#define DELTA "($4 OPERATOR(pg_catalog.-) s.mean)"
#define NEW_MEAN "(s.mean OPERATOR(pg_catalog.+) (" DELTA " OPERATOR(pg_catalog./) (s.n OPERATOR(pg_catalog.+) 1)))"
		prepare_state_plan(&anomaly_plan, "n, mean, m2, last_at", "1, $4, 0, $3",
						   "n = s.n OPERATOR(pg_catalog.+) 1, "
						   "mean = " NEW_MEAN ", "
						   "m2 = s.m2 OPERATOR(pg_catalog.+) (" DELTA " OPERATOR(pg_catalog.*) "
						   "($4 OPERATOR(pg_catalog.-) " NEW_MEAN ")), "
						   "last_at = $3", "s.n, s.mean, s.m2", 4, types);
#undef NEW_MEAN
#undef DELTA
	}
	{
		Oid			types[3] = {INT4OID, TEXTOID, TIMESTAMPTZOID};

		prepare_state_plan(&activity_plan, "n, last_at", "1, $3",
						   "window_start = s.last_at, n = s.n OPERATOR(pg_catalog.+) 1, last_at = $3",
						   "s.window_start, s.n", 3, types);
	}
	if (activity_pair_plan == NULL)
	{
		Oid			types[4] = {INT4OID, TEXTOID, TIMESTAMPTZOID, TEXTOID};

		/* both accounts of a transfer at once, locked in index order */
		activity_pair_plan = keep_plan(
									   "UPDATE riskguard.alert_state AS s "
									   "SET window_start = s.last_at, n = s.n OPERATOR(pg_catalog.+) 1, last_at = $3 "
									   "WHERE s.rule_id OPERATOR(pg_catalog.=) $1 "
									   "AND s.subject OPERATOR(pg_catalog.=) ANY (ARRAY[$2, $4]) "
									   "RETURNING s.subject, s.window_start", 4, types);
	}
	if (once_plan == NULL)
	{
		Oid			types[3] = {INT4OID, TEXTOID, TIMESTAMPTZOID};

		once_plan = keep_plan(
							  "INSERT INTO riskguard.alert_state (rule_id, subject, n, last_at) VALUES ($1, $2, 1, $3) "
							  "ON CONFLICT (rule_id, subject) DO NOTHING", 3, types);
	}
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
fire(const AlertRule *r, const RgLimitTransfer *t, const char *owner, int64 account,
	 StringInfo detail, const char *why)
{
	if (r->block)
		refuse(r, t, why);
	json_str(detail, "kind", kind_names[r->kind]);
	json_str(detail, "reason", why);
	appendStringInfoChar(detail, '}');
	rg_alert_raise(r->name, r->severity, owner, account, t->transfer_id, detail->data);
}

static void
check_window(const AlertRule *r, const RgLimitTransfer *t, const RgLimitParty *party)
{
	Datum		v[5];
	bool		isnull;
	int64		n,
				total;
	TimestampTz start;
	StringInfoData d;
	bool		over_count,
				over_sum;

	if (r->kind == KIND_STRUCTURING &&
		!(t->amount < r->threshold && (double) t->amount >= (double) r->threshold * (1.0 - r->margin)))
		return;
	v[0] = Int32GetDatum(r->id);
	v[1] = CStringGetTextDatum(party->owner);
	v[2] = TimestampTzGetDatum(t->at);
	v[3] = Int64GetDatum(t->amount);
	v[4] = Float8GetDatum(r->window);
	exec_state_plan(&window_plan, v);
	n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	total = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	start = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));

	initStringInfo(&d);
	appendStringInfoChar(&d, '{');
	json_time(&d, "window_start", start);
	json_num(&d, "window_seconds", r->window);
	json_int(&d, "count", n);
	json_int(&d, "sum", total);
	json_str(&d, "currency", t->currency);
	if (r->kind == KIND_STRUCTURING)
	{
		if (n < r->count)
			return;
		json_int(&d, "threshold", r->threshold);
		json_num(&d, "margin", r->margin);
		fire(r, t, party->owner, party->account_id, &d,
			 psprintf("Owner \"%s\" made " INT64_FORMAT " transfers just under " INT64_FORMAT
					  " %s within %g seconds.", party->owner, n, r->threshold, t->currency, r->window));
		return;
	}
	over_count = r->has_max_count && n > r->max_count;
	over_sum = r->has_max_sum && total > r->max_sum;
	if (!over_count && !over_sum)
		return;
	if (r->has_max_count)
		json_int(&d, "max_count", r->max_count);
	if (r->has_max_sum)
		json_int(&d, "max_sum", r->max_sum);
	fire(r, t, party->owner, party->account_id, &d,
		 psprintf("Owner \"%s\" made " INT64_FORMAT " transfers of " INT64_FORMAT " %s in total within %g seconds.",
				  party->owner, n, total, t->currency, r->window));
}

static void
check_anomaly(const AlertRule *r, const RgLimitTransfer *t, const RgLimitParty *party)
{
	Datum		v[4];
	bool		isnull;
	int64		n;
	double		mean,
				m2,
				sd,
				x = (double) t->amount;
	StringInfoData d;

	v[0] = Int32GetDatum(r->id);
	v[1] = CStringGetTextDatum(party->owner);
	v[2] = TimestampTzGetDatum(t->at);
	v[3] = Float8GetDatum(x);
	exec_state_plan(&anomaly_plan, v);
	/* the state after this transfer joined; recover the state before it */
	n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) - 1;
	if (n < r->min_history || n < 2)
		return;
	{
		double		mean_after = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		double		m2_after = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));

		mean = (mean_after * (double) (n + 1) - x) / (double) n;
		m2 = m2_after - (x - mean) * (x - mean_after);
	}
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
	fire(r, t, party->owner, party->account_id, &d,
		 psprintf("The amount " INT64_FORMAT " %s is more than %g standard deviations (%.2f) from owner \"%s\"'s mean of %.2f over "
				  INT64_FORMAT " transfers.", t->amount, t->currency, r->k, sd, party->owner, mean, n));
}

/*
 * Note activity on both owned accounts (one statement when both rows exist); flag the
 * debited account's first outflow after a long silence.
 */
static void
check_dormant(const AlertRule *r, const RgLimitTransfer *t)
{
	const RgLimitParty *debit = t->debit.owner ? &t->debit : NULL;
	const RgLimitParty *credit = t->credit.owner ? &t->credit : NULL;
	char	   *dsub = NULL,
			   *csub = NULL;
	bool		dseen = false,
				cseen = false,
				has_prev = false,
				isnull;
	TimestampTz last = 0;
	double		idle_days;
	Datum		v[4];
	StringInfoData d;

	if (debit == NULL && credit == NULL)
		return;
	v[0] = Int32GetDatum(r->id);
	v[2] = TimestampTzGetDatum(t->at);
	if (debit)
		dsub = psprintf("account %lld", (long long) debit->account_id);
	if (credit)
		csub = psprintf("account %lld", (long long) credit->account_id);
	if (debit && credit)
	{
		v[1] = CStringGetTextDatum(dsub);
		v[3] = CStringGetTextDatum(csub);
		if (SPI_execute_plan(activity_pair_plan, v, NULL, false, 2) != SPI_OK_UPDATE_RETURNING)
			elog(ERROR, "could not update alert rule state");
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			char	   *subject = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
			Datum		prev = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull);

			if (strcmp(subject, dsub) == 0)
			{
				dseen = true;
				has_prev = !isnull;
				last = isnull ? 0 : DatumGetTimestampTz(prev);
			}
			else
				cseen = true;
		}
	}
	if (debit && !dseen)
	{
		Datum		prev;

		v[1] = CStringGetTextDatum(dsub);
		exec_state_plan(&activity_plan, v);
		/* RETURNING shows the row after the update: window_start is the activity before */
		prev = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		has_prev = !isnull;
		last = isnull ? 0 : DatumGetTimestampTz(prev);
	}
	if (credit && !cseen)
	{
		v[1] = CStringGetTextDatum(csub);
		exec_state_plan(&activity_plan, v);
	}

	if (debit == NULL || !has_prev || !kind_matches(r, t->kind))
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
	fire(r, t, debit->owner, debit->account_id, &d,
		 psprintf("Account \"%s\" pays out after %.1f days without activity.", debit->code, idle_days));
}

static void
check_limit_near(const AlertRule *r, const RgLimitTransfer *t)
{
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
		fire(r, t, u->owner, u->account, &d,
			 psprintf("Limit \"%s\" for \"%s\" is %.0f%% used (" INT64_FORMAT " of " INT64_FORMAT ").",
					  u->limit, u->subject, 100.0 * (double) u->after / (double) u->threshold,
					  u->after, u->threshold));
	}
}

void
rg_alerts_check(const RgLimitTransfer *t)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "could not connect to SPI");
	AcceptInvalidationMessages();
	if (!rules_valid)
		load_rules();
	prepare_plans();
	if (usage_transfer != t->transfer_id)
		forget_limit_usage();

	for (int i = 0; i < nrules; i++)
	{
		const AlertRule *r = &rules[i];
		const RgLimitParty *party = r->outflow ? &t->debit : &t->credit;

		CHECK_FOR_INTERRUPTS();
		if (r->kind == KIND_DORMANT_REACTIVATION)
		{
			check_dormant(r, t);
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
					check_window(r, t, party);
				break;
			case KIND_AMOUNT_ANOMALY:
				if (party->owner)
					check_anomaly(r, t, party);
				break;
			case KIND_LIMIT_NEAR:
				check_limit_near(r, t);
				break;
			default:
				break;
		}
	}
	forget_limit_usage();
	SPI_finish();
}
