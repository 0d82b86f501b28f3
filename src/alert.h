/*
 * alert.h
 *		Monitoring: alert rules evaluated by the transfer trigger, and the one place that
 *		records an alert and sends it with NOTIFY riskguard_alert.
 */
#ifndef RG_ALERT_H
#define RG_ALERT_H

#include "postgres.h"

#include "limit_rules.h"

extern void rg_alerts_init(void);

/*
 * Evaluate every active alert rule against a transfer being written, updating the
 * rules' state under its row locks; record an alert for each rule that fires, and
 * refuse the transfer with RG007 (after queueing the attempt for the recorder) when a
 * rule with action block fires.
 */
extern void rg_alerts_check(const RgLimitTransfer *t);

/*
 * Record an alert and queue NOTIFY riskguard_alert with its JSON payload (sent when
 * the transaction commits).  owner, account 0 and transfer_id 0 mean none; detail is a
 * JSON object or NULL.  The caller must be connected to SPI.  Returns the alert's id.
 */
extern int64 rg_alert_raise(const char *rule, const char *severity, const char *owner,
							int64 account, int64 transfer_id, const char *detail);

/*
 * The limits report each counter they updated for a transfer, so that limit_near rules
 * can see the usage before and after it.
 */
extern void rg_alert_note_limit_usage(const RgLimitTransfer *t, const char *limit,
									  const char *subject, const char *period,
									  const RgLimitParty *party,
									  int64 before, int64 after, int64 threshold);

#endif							/* RG_ALERT_H */
