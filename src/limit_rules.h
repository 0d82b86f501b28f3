/*
 * limit_rules.h
 *		Exposure and velocity limits, checked and counted inside the transfer's own
 *		transaction by the ledger's transfer trigger.
 */
#ifndef RG_LIMIT_RULES_H
#define RG_LIMIT_RULES_H

#include "datatype/timestamp.h"
#include "utils/snapshot.h"

/* one side of a transfer as the limits see it */
typedef struct RgLimitParty
{
	int64		account_id;
	const char *code;
	const char *owner;			/* NULL for the platform's own accounts */
	const char *owner_kind;		/* NULL, "individual" or "entity" */
} RgLimitParty;

typedef struct RgLimitTransfer
{
	RgLimitParty debit;
	RgLimitParty credit;
	const char *currency;
	const char *kind;
	int64		amount;
	int64		transfer_id;	/* 0 in a dry run */
	const char *reference;		/* NULL when absent */
	TimestampTz at;

	/*
	 * The ledger's snapshot, taken after its CommandCounterIncrement when it locked the
	 * accounts; rows locked through it are followed to their newest version.  NULL when
	 * the caller has none (a dry run): each check then takes its own.
	 */
	Snapshot	snapshot;
} RgLimitTransfer;

/* called by a dry run for each rule that applies */
typedef void (*RgLimitReport) (void *arg, const char *rule, bool allowed,
							   int64 used, int64 threshold);

extern void rg_limits_init(void);

/*
 * Count the transfer against every active rule that applies, under the counters' row
 * locks; raise RG001 for the first rule with action reject that it would breach, and
 * record an alert for rules with action alert.
 */
extern void rg_limits_enforce(const RgLimitTransfer *t);

/* The same matching, changing nothing: report usage and whether it would pass. */
extern void rg_limits_dry_run(const RgLimitTransfer *t, RgLimitReport report, void *arg);

#endif							/* RG_LIMIT_RULES_H */
