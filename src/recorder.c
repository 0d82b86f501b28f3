/*
 * recorder.c
 *		The recorder of refused attempts.
 *
 * A transfer refused by a limit (RG001) or a blocking alert rule (RG007) rolls back, and
 * so would anything it wrote.  Before the error is raised, the refusing backend copies
 * the attempt into a slot of a fixed array in shared memory (RECORDER_SLOTS slots) and
 * wakes the recorder of its database: a background worker, started on demand, connected
 * to that database, that writes each queued attempt to riskguard.rejected_attempt in a
 * transaction of its own and exits after RECORDER_IDLE_MS without work (so it never
 * holds a database that is being dropped).
 *
 * The refused client never waits for the worker: it holds the queue's lock only to copy
 * one slot (a scan of at most RECORDER_SLOTS slots), and when every slot is taken the
 * attempt is dropped and counted.  A slot is freed only after the worker's transaction
 * committed; each attempt carries (server start, sequence number), unique in the table,
 * so a worker that dies between its commit and freeing the slot does not write the
 * attempt twice when the slot is taken again.
 *
 * Without shared_preload_libraries there is no shared memory and no recorder: refused
 * transfers still get their errors, and their attempts are not recorded.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "limit_rules.h"
#include "recorder.h"
#include "riskguard.h"

#define RECORDER_SLOTS		1024
#define RECORDER_WORKERS	8
#define RECORDER_IDLE_MS	1000
#define RECORDER_START_TIMEOUT_MS	10000

typedef enum SlotState
{
	SLOT_FREE = 0,
	SLOT_READY,
	SLOT_TAKEN
} SlotState;

/* which optional fields of a slot are present */
#define HAS_TRANSFER_ID	0x01
#define HAS_DEBIT		0x02
#define HAS_CREDIT		0x04
#define HAS_AMOUNT		0x08
#define HAS_REFERENCE	0x10

typedef struct RecorderSlot
{
	SlotState	state;
	int			taken_by;		/* worker index while TAKEN */
	Oid			dboid;
	uint64		seq;
	int			has;
	TimestampTz at;
	int64		transfer_id;
	int64		debit_account;
	int64		credit_account;
	int64		amount;
	char		who[NAMEDATALEN];
	char		debit_code[128];
	char		credit_code[128];
	char		currency[8];
	char		kind[64];
	char		reference[128];
	char		rule[128];
	char		sqlstate[6];
	char		reason[512];
} RecorderSlot;

typedef struct RecorderWorker
{
	Oid			dboid;			/* InvalidOid when the record is free */
	pid_t		pid;			/* 0 while starting */
	TimestampTz start_requested;
	Latch	   *latch;
} RecorderWorker;

typedef struct RecorderShared
{
	LWLock	   *lock;
	TimestampTz server_started;
	uint64		next_seq;
	int			queued;
	int			hint;			/* where to start looking for a free slot */
	uint64		written;
	uint64		dropped;
	uint64		failed;
	TimestampTz last_start_failure;
	RecorderWorker workers[RECORDER_WORKERS];
	RecorderSlot slots[RECORDER_SLOTS];
} RecorderShared;

PGDLLEXPORT void rg_recorder_main(Datum arg);

static RecorderShared *shared = NULL;
static bool recorder_enabled = true;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static TimestampTz last_log = 0;

static void
recorder_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(RecorderShared)));
	RequestNamedLWLockTranche("riskguard recorder", 1);
}

static void
recorder_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("riskguard recorder", sizeof(RecorderShared), &found);
	if (!found)
	{
		memset(shared, 0, sizeof(RecorderShared));
		shared->lock = &(GetNamedLWLockTranche("riskguard recorder"))->lock;
		shared->server_started = GetCurrentTimestamp();
	}
	LWLockRelease(AddinShmemInitLock);
}

void
rg_recorder_init(void)
{
	DefineCustomBoolVariable("riskguard.recorder_enabled",
							 "Whether refused transfer attempts are written to riskguard.rejected_attempt.",
							 "When off, refused attempts queue in shared memory until the queue is full.",
							 &recorder_enabled,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = recorder_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = recorder_shmem_startup;
}

/* a LOG line at most every ten seconds per backend */
static bool
may_log(void)
{
	TimestampTz now = GetCurrentTimestamp();

	if (last_log != 0 && !TimestampDifferenceExceeds(last_log, now, 10000))
		return false;
	last_log = now;
	return true;
}

static void
copy_text(char *dst, size_t len, const char *src)
{
	if (src)
		strlcpy(dst, src, len);
	else
		dst[0] = '\0';
}

/* the worker record of this database, or -1; the caller holds the lock */
static int
worker_of(Oid dboid)
{
	for (int i = 0; i < RECORDER_WORKERS; i++)
		if (shared->workers[i].dboid == dboid)
			return i;
	return -1;
}

static bool
start_worker(int idx, Oid dboid)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *handle;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(w.bgw_library_name, "riskguard", BGW_MAXLEN);
	strlcpy(w.bgw_function_name, "rg_recorder_main", BGW_MAXLEN);
	snprintf(w.bgw_name, BGW_MAXLEN, "riskguard recorder for database %u", dboid);
	strlcpy(w.bgw_type, "riskguard recorder", BGW_MAXLEN);
	w.bgw_main_arg = ObjectIdGetDatum(dboid);
	memcpy(w.bgw_extra, &idx, sizeof(idx));
	w.bgw_notify_pid = 0;
	return RegisterDynamicBackgroundWorker(&w, &handle);
}

void
rg_recorder_enqueue(const RgRefusal *r)
{
	RecorderSlot s;
	Latch	   *latch = NULL;
	int			start = -1;
	bool		dropped = false;
	int			queued;
	char	   *who;

	if (shared == NULL)
	{
		if (may_log())
			ereport(LOG,
					(errmsg("riskguard recorder is not running: refused attempts are not recorded"),
					 errdetail("The recorder needs riskguard in shared_preload_libraries.")));
		return;
	}

	memset(&s, 0, sizeof(s));
	s.dboid = MyDatabaseId;
	s.at = GetCurrentTimestamp();
	who = GetUserNameFromId(GetSessionUserId(), true);
	copy_text(s.who, sizeof(s.who), who ? who : "?");
	if (r->transfer_id != 0)
		s.has |= HAS_TRANSFER_ID;
	s.transfer_id = r->transfer_id;
	if (r->debit_account != 0)
		s.has |= HAS_DEBIT;
	s.debit_account = r->debit_account;
	if (r->credit_account != 0)
		s.has |= HAS_CREDIT;
	s.credit_account = r->credit_account;
	s.has |= HAS_AMOUNT;
	s.amount = r->amount;
	if (r->reference)
		s.has |= HAS_REFERENCE;
	copy_text(s.debit_code, sizeof(s.debit_code), r->debit_code);
	copy_text(s.credit_code, sizeof(s.credit_code), r->credit_code);
	copy_text(s.currency, sizeof(s.currency), r->currency);
	copy_text(s.kind, sizeof(s.kind), r->kind);
	copy_text(s.reference, sizeof(s.reference), r->reference);
	copy_text(s.rule, sizeof(s.rule), r->rule);
	copy_text(s.reason, sizeof(s.reason), r->reason);
	strlcpy(s.sqlstate, unpack_sql_state(r->sqlerrcode), sizeof(s.sqlstate));
	s.state = SLOT_READY;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	{
		int			found = -1;

		for (int n = 0; n < RECORDER_SLOTS; n++)
		{
			int			i = (shared->hint + n) % RECORDER_SLOTS;

			if (shared->slots[i].state == SLOT_FREE)
			{
				found = i;
				break;
			}
		}
		if (found < 0)
		{
			shared->dropped++;
			dropped = true;
		}
		else
		{
			s.seq = ++shared->next_seq;
			shared->slots[found] = s;
			shared->hint = (found + 1) % RECORDER_SLOTS;
			shared->queued++;
		}
		queued = shared->queued;
	}
	if (recorder_enabled)
	{
		int			w = worker_of(MyDatabaseId);
		TimestampTz now = GetCurrentTimestamp();

		if (w >= 0 && shared->workers[w].pid == 0 &&
			TimestampDifferenceExceeds(shared->workers[w].start_requested, now, RECORDER_START_TIMEOUT_MS))
		{
			/* a worker that never came up */
			shared->workers[w].dboid = InvalidOid;
			w = -1;
		}
		if (w >= 0)
			latch = shared->workers[w].latch;
		else
		{
			w = worker_of(InvalidOid);
			if (w >= 0)
			{
				shared->workers[w].dboid = MyDatabaseId;
				shared->workers[w].pid = 0;
				shared->workers[w].latch = NULL;
				shared->workers[w].start_requested = now;
				start = w;
			}
		}
	}
	LWLockRelease(shared->lock);

	if (latch)
		SetLatch(latch);
	if (start >= 0 && !start_worker(start, MyDatabaseId))
	{
		LWLockAcquire(shared->lock, LW_EXCLUSIVE);
		if (shared->workers[start].dboid == MyDatabaseId && shared->workers[start].pid == 0)
			shared->workers[start].dboid = InvalidOid;
		shared->last_start_failure = GetCurrentTimestamp();
		LWLockRelease(shared->lock);
		if (may_log())
			ereport(LOG,
					(errmsg("riskguard recorder is not running: could not start a background worker"),
					 errdetail("%d refused attempts are queued.", queued),
					 errhint("Raise max_worker_processes.")));
	}
	else if (dropped)
	{
		if (may_log())
			ereport(LOG,
					(errmsg("riskguard recorder queue is full: a refused attempt was dropped"),
					 errdetail("The queue holds %d attempts.", RECORDER_SLOTS)));
	}
	else if (!recorder_enabled && may_log())
		ereport(LOG,
				(errmsg("riskguard recorder is not running: riskguard.recorder_enabled is off"),
				 errdetail("%d refused attempts are queued.", queued)));
}

/* ---------- the worker ---------- */

/* on exit: give back the slots it held, free its record */
static void
recorder_worker_exit(int code, Datum arg)
{
	int			idx = DatumGetInt32(arg);

	if (shared == NULL)
		return;
	LWLockReleaseAll();
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < RECORDER_SLOTS; i++)
		if (shared->slots[i].state == SLOT_TAKEN && shared->slots[i].taken_by == idx)
			shared->slots[i].state = SLOT_READY;
	if (shared->workers[idx].pid == MyProcPid)
	{
		shared->workers[idx].dboid = InvalidOid;
		shared->workers[idx].pid = 0;
		shared->workers[idx].latch = NULL;
	}
	LWLockRelease(shared->lock);
}

/* write one attempt in its own transaction; false when it could not */
static bool
write_attempt(const RecorderSlot *s)
{
	static const char *const sql =
		"INSERT INTO riskguard.rejected_attempt (at, who, transfer_id, debit_account, debit_code, "
		"credit_account, credit_code, amount, currency, kind, reference, rule, sqlstate, reason, "
		"server_started, queue_seq) VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6, NULLIF($7, ''), $8, "
		"NULLIF($9, ''), NULLIF($10, ''), $11, $12, $13, $14, $15, $16) "
		"ON CONFLICT (server_started, queue_seq) DO NOTHING";
	Oid			types[16] = {TIMESTAMPTZOID, TEXTOID, INT8OID, INT8OID, TEXTOID, INT8OID, TEXTOID,
	INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, INT8OID};
	Datum		v[16];
	char		n[16];
	volatile bool ok = false;
	MemoryContext cxt = CurrentMemoryContext;

	memset(n, ' ', sizeof(n));
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		Oid			nsp;

		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, "recording a refused transfer attempt");
		nsp = get_namespace_oid("riskguard", true);
		if (!OidIsValid(nsp) || !OidIsValid(get_relname_relid("rejected_attempt", nsp)))
			ereport(WARNING,
					(errmsg("riskguard recorder dropped a refused attempt: table \"riskguard.rejected_attempt\" does not exist"),
					 errdetail("The transaction that created the extension may have rolled back.")));
		else
		{
			v[0] = TimestampTzGetDatum(s->at);
			v[1] = CStringGetTextDatum(s->who);
			v[2] = Int64GetDatum(s->transfer_id);
			n[2] = (s->has & HAS_TRANSFER_ID) ? ' ' : 'n';
			v[3] = Int64GetDatum(s->debit_account);
			n[3] = (s->has & HAS_DEBIT) ? ' ' : 'n';
			v[4] = CStringGetTextDatum(s->debit_code);
			v[5] = Int64GetDatum(s->credit_account);
			n[5] = (s->has & HAS_CREDIT) ? ' ' : 'n';
			v[6] = CStringGetTextDatum(s->credit_code);
			v[7] = Int64GetDatum(s->amount);
			n[7] = (s->has & HAS_AMOUNT) ? ' ' : 'n';
			v[8] = CStringGetTextDatum(s->currency);
			v[9] = CStringGetTextDatum(s->kind);
			v[10] = CStringGetTextDatum(s->reference);
			n[10] = (s->has & HAS_REFERENCE) ? ' ' : 'n';
			v[11] = CStringGetTextDatum(s->rule);
			v[12] = CStringGetTextDatum(s->sqlstate);
			v[13] = CStringGetTextDatum(s->reason);
			v[14] = TimestampTzGetDatum(shared->server_started);
			v[15] = Int64GetDatum((int64) s->seq);
			if (SPI_execute_with_args(sql, 16, types, v, n, false, 0) != SPI_OK_INSERT)
				elog(ERROR, "could not insert into riskguard.rejected_attempt");
			ok = true;
		}
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		ok = false;
	}
	PG_END_TRY();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
	return ok;
}

void
rg_recorder_main(Datum arg)
{
	Oid			dboid = DatumGetObjectId(arg);
	int			idx;
	TimestampTz idle_since;

	memcpy(&idx, MyBgworkerEntry->bgw_extra, sizeof(idx));
	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	if (shared == NULL || idx < 0 || idx >= RECORDER_WORKERS)
		proc_exit(0);
	before_shmem_exit(recorder_worker_exit, Int32GetDatum(idx));

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (shared->workers[idx].dboid != dboid || shared->workers[idx].pid != 0)
	{
		/* the record was given up or taken over meanwhile */
		LWLockRelease(shared->lock);
		proc_exit(0);
	}
	shared->workers[idx].pid = MyProcPid;
	shared->workers[idx].latch = &MyProc->procLatch;
	LWLockRelease(shared->lock);

	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	idle_since = GetCurrentTimestamp();

	for (;;)
	{
		RecorderSlot s;
		int			got = -1;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		LWLockAcquire(shared->lock, LW_EXCLUSIVE);
		if (recorder_enabled)
		{
			for (int i = 0; i < RECORDER_SLOTS; i++)
				if (shared->slots[i].state == SLOT_READY && shared->slots[i].dboid == dboid)
				{
					shared->slots[i].state = SLOT_TAKEN;
					shared->slots[i].taken_by = idx;
					s = shared->slots[i];
					got = i;
					break;
				}
		}
		if (got < 0 && (!recorder_enabled ||
						TimestampDifferenceExceeds(idle_since, GetCurrentTimestamp(), RECORDER_IDLE_MS)))
		{
			/* nothing to do for a while (or switched off): give the record up and leave */
			shared->workers[idx].dboid = InvalidOid;
			shared->workers[idx].pid = 0;
			shared->workers[idx].latch = NULL;
			LWLockRelease(shared->lock);
			proc_exit(0);
		}
		LWLockRelease(shared->lock);

		if (got >= 0)
		{
			bool		ok = write_attempt(&s);

			LWLockAcquire(shared->lock, LW_EXCLUSIVE);
			shared->slots[got].state = SLOT_FREE;
			shared->queued--;
			if (ok)
				shared->written++;
			else
				shared->failed++;
			LWLockRelease(shared->lock);
			idle_since = GetCurrentTimestamp();
			continue;
		}

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 RECORDER_IDLE_MS / 4, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

PG_FUNCTION_INFO_V1(rg_recorder_state);

/*
 * riskguard.recorder_state(): whether the recorder is loaded and enabled, how many
 * workers run, how many attempts are queued, written, dropped and failed.
 */
Datum
rg_recorder_state(PG_FUNCTION_ARGS)
{
	Datum		v[10];
	bool		n[10] = {0};
	int			workers = 0;
	int			queued = 0;
	uint64		written = 0,
				dropped = 0,
				failed = 0;
	TimestampTz failure = 0;
	const char *state;

	if (shared)
	{
		LWLockAcquire(shared->lock, LW_SHARED);
		for (int i = 0; i < RECORDER_WORKERS; i++)
			if (shared->workers[i].dboid != InvalidOid && shared->workers[i].pid != 0)
				workers++;
		queued = shared->queued;
		written = shared->written;
		dropped = shared->dropped;
		failed = shared->failed;
		failure = shared->last_start_failure;
		LWLockRelease(shared->lock);
	}
	if (shared == NULL)
		state = "not loaded";
	else if (!recorder_enabled)
		state = "stopped";
	else if (workers > 0)
		state = "running";
	else if (queued > 0)
		state = "stopped";
	else
		state = "idle";

	v[0] = CStringGetTextDatum(state);
	v[1] = BoolGetDatum(shared != NULL);
	v[2] = BoolGetDatum(recorder_enabled);
	v[3] = Int32GetDatum(workers);
	v[4] = Int32GetDatum(queued);
	v[5] = Int32GetDatum(shared ? RECORDER_SLOTS : 0);
	v[6] = Int64GetDatum((int64) written);
	v[7] = Int64GetDatum((int64) dropped);
	v[8] = Int64GetDatum((int64) failed);
	v[9] = TimestampTzGetDatum(failure);
	n[9] = (failure == 0);
	PG_RETURN_DATUM(rg_result_tuple(fcinfo, v, n));
}

void
rg_recorder_refuse(const RgLimitTransfer *t, const char *rule, int sqlerrcode,
				   const char *message, const char *detail)
{
	RgRefusal	rf;

	memset(&rf, 0, sizeof(rf));
	rf.transfer_id = t->transfer_id;
	rf.debit_account = t->debit.account_id;
	rf.debit_code = t->debit.code;
	rf.credit_account = t->credit.account_id;
	rf.credit_code = t->credit.code;
	rf.amount = t->amount;
	rf.currency = t->currency;
	rf.kind = t->kind;
	rf.reference = t->reference;
	rf.rule = rule;
	rf.sqlerrcode = sqlerrcode;
	rf.reason = psprintf("%s: %s", message, detail);
	rg_recorder_enqueue(&rf);
}
