/*
 * recorder.h
 *		The recorder of refused attempts: a refused transfer is put in a bounded queue in
 *		shared memory before its error is raised, and a background worker connected to
 *		the transfer's database writes it to riskguard.rejected_attempt in a transaction
 *		of its own, so the record survives the refused transaction's rollback.
 */
#ifndef RG_RECORDER_H
#define RG_RECORDER_H

#include "postgres.h"

#include "datatype/timestamp.h"

/* a refused transfer as the refusing code sees it; any text may be NULL */
typedef struct RgRefusal
{
	int64		transfer_id;
	int64		debit_account;
	const char *debit_code;
	int64		credit_account;
	const char *credit_code;
	int64		amount;
	const char *currency;
	const char *kind;
	const char *reference;
	const char *rule;
	int			sqlerrcode;
	const char *reason;
} RgRefusal;

/* _PG_init: settings, and the shared memory when the library is preloaded */
extern void rg_recorder_init(void);

/*
 * Queue a refused attempt for the recorder.  Never waits for the worker: when the queue
 * is full the attempt is dropped and counted; without shared_preload_libraries it is
 * not recorded.  Never raises an error.
 */
extern void rg_recorder_enqueue(const RgRefusal *r);

struct RgLimitTransfer;

/*
 * Queue a transfer refused by a rule (limit or alert rule) with its SQLSTATE and the
 * reason "message: detail": the one way the rules fill an RgRefusal.
 */
extern void rg_recorder_refuse(const struct RgLimitTransfer *t, const char *rule,
							   int sqlerrcode, const char *message, const char *detail);

#endif							/* RG_RECORDER_H */
