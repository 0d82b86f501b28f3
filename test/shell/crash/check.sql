-- crash_recovery.sh: after a restart, one line per check, "name value"; every value
-- but the figures (transfers, customers, alerts, counters) must be 0.
-- psql variables: tids and cids name files of acknowledged transfer and customer ids.
\pset format unaligned
\pset tuples_only on
\pset fieldsep ' '
CREATE TEMP TABLE acked_transfer (id bigint);
CREATE TEMP TABLE acked_customer (id bigint);
\set copy_t '\\copy acked_transfer FROM ' :'tids'
\set copy_c '\\copy acked_customer FROM ' :'cids'
:copy_t
:copy_c

-- every transfer and every customer whose commit a client saw is there
SELECT 'missing_transfers', count(*) FROM acked_transfer a
 WHERE NOT EXISTS (SELECT 1 FROM riskguard.transfer t WHERE t.id = a.id);
SELECT 'missing_customers', count(*) FROM acked_customer a
 WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = a.id);
SELECT 'acked_transfers', count(*) FROM acked_transfer;
SELECT 'transfers', count(*) FROM riskguard.transfer;

-- no half-applied transfer: debits equal credits; each account's posted totals equal its
-- direct transfers and posted completions, its pending totals its open holds; each
-- completed hold has exactly one completion of its own status, each open hold none
SELECT 'debits_minus_credits', (sum(debits_posted) - sum(credits_posted)) + (sum(debits_pending) - sum(credits_pending))
  FROM riskguard.account;
CREATE TEMP TABLE counted AS
  SELECT t.*, CASE
      WHEN t.pending_id IS NOT NULL THEN CASE WHEN t.status = 'posted' THEN 'posted' END
      WHEN t.status = 'pending' THEN 'pending'
      WHEN EXISTS (SELECT 1 FROM riskguard.transfer c WHERE c.pending_id = t.id) THEN NULL
      ELSE 'posted' END AS counts_as
    FROM riskguard.transfer t;
SELECT 'accounts_off', count(*) FROM riskguard.account a
 WHERE a.debits_posted <> (SELECT coalesce(sum(amount), 0) FROM counted t WHERE t.debit_account = a.id AND counts_as = 'posted')
    OR a.credits_posted <> (SELECT coalesce(sum(amount), 0) FROM counted t WHERE t.credit_account = a.id AND counts_as = 'posted')
    OR a.debits_pending <> (SELECT coalesce(sum(amount), 0) FROM counted t WHERE t.debit_account = a.id AND counts_as = 'pending')
    OR a.credits_pending <> (SELECT coalesce(sum(amount), 0) FROM counted t WHERE t.credit_account = a.id AND counts_as = 'pending');
CREATE TEMP TABLE holds AS
  SELECT h.id, h.status,
         (SELECT count(*) FROM riskguard.transfer c WHERE c.pending_id = h.id) AS completions,
         (SELECT count(*) FROM riskguard.transfer c WHERE c.pending_id = h.id AND c.status = h.status) AS matching
    FROM riskguard.transfer h
   WHERE h.pending_id IS NULL
     AND (h.status IN ('pending', 'voided')
          OR EXISTS (SELECT 1 FROM riskguard.transfer c WHERE c.pending_id = h.id));
SELECT 'holds', count(*) FROM holds;
SELECT 'holds_open', count(*) FROM holds WHERE status = 'pending';
SELECT 'holds_off', count(*) FROM holds
 WHERE CASE WHEN status = 'pending' THEN completions <> 0 ELSE completions <> 1 OR matching <> 1 END;
-- each fee came with its reserve provision, in the same transaction
SELECT 'provisions_off',
       abs((SELECT count(*) FROM riskguard.transfer WHERE kind = 'fee')
           - (SELECT count(*) FROM riskguard.transfer WHERE kind = 'reserve_provision'))
     + abs((SELECT coalesce(sum(amount * 1000 / 10000), 0) FROM riskguard.transfer WHERE kind = 'fee')
           - (SELECT coalesce(sum(amount), 0) FROM riskguard.transfer WHERE kind = 'reserve_provision'));
-- every alert references a committed transfer; each large disbursement has its limit alert
SELECT 'alerts', count(*) FROM riskguard.alert;
SELECT 'alerts_orphaned', count(*) FROM riskguard.alert al
 WHERE NOT EXISTS (SELECT 1 FROM riskguard.transfer t WHERE t.id = al.transfer_id);
SELECT 'alerts_off',
       (SELECT count(*) FROM riskguard.alert al
         WHERE al.rule = 'large_disbursement'
           AND NOT EXISTS (SELECT 1 FROM riskguard.transfer t WHERE t.id = al.transfer_id
                              AND t.kind = 'disburse' AND t.amount > 2500000))
     + (SELECT count(*) FROM riskguard.transfer t
         WHERE t.kind = 'disburse' AND t.amount > 2500000 AND t.pending_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM riskguard.alert al WHERE al.transfer_id = t.id
                              AND al.rule = 'large_disbursement'))
     + (SELECT count(*) FROM riskguard.alert al
         WHERE al.rule NOT IN ('large_disbursement', 'busy_payer'));
-- the day-long velocity rule: its state per borrower equals the count and sum of the
-- borrower's committed repayments and fees, and it fired once per payment past the 100th
-- (on that borrower's own payments)
CREATE TEMP TABLE payer AS
  SELECT a.owner, count(*) AS n, sum(t.amount) AS total,
         (SELECT count(*) FROM riskguard.alert al WHERE al.rule = 'busy_payer' AND al.owner = a.owner
             AND EXISTS (SELECT 1 FROM riskguard.transfer p JOIN riskguard.account pa ON pa.id = p.debit_account
                          WHERE p.id = al.transfer_id AND pa.owner = a.owner
                            AND p.kind IN ('repay_principal', 'fee'))) AS alerts
    FROM riskguard.transfer t JOIN riskguard.account a ON a.id = t.debit_account
   WHERE t.kind IN ('repay_principal', 'fee') AND a.owner IS NOT NULL
   GROUP BY a.owner;
SELECT 'velocity_alerts', coalesce(sum(alerts), 0) FROM payer;
SELECT 'velocity_off',
       (SELECT count(*) FROM payer p FULL JOIN
               (SELECT s.subject, s.n, s.total FROM riskguard.alert_state s
                  JOIN riskguard.alert_rule r ON r.id = s.rule_id WHERE r.name = 'busy_payer') s
            ON s.subject = p.owner
         WHERE p.n IS DISTINCT FROM s.n OR p.total IS DISTINCT FROM s.total
            OR p.alerts IS DISTINCT FROM greatest(p.n - 100, 0))
     + (SELECT count(*) FROM riskguard.alert WHERE rule = 'busy_payer')
     - (SELECT coalesce(sum(alerts), 0) FROM payer);
-- no rule state is negative or points into the future
SELECT 'state_bad', count(*) FROM riskguard.alert_state
 WHERE n < 0 OR total < 0 OR m2 < 0 OR window_start > pg_catalog.now() OR last_at > pg_catalog.now();
-- refused attempts: each written once (server_started, queue_seq unique), none of them a
-- committed transfer
SELECT 'rejected', count(*) FROM riskguard.rejected_attempt;
SELECT 'rejected_rg007', count(*) FROM riskguard.rejected_attempt WHERE sqlstate = 'RG007';
SELECT 'rejected_dup', count(*) - count(DISTINCT (server_started, queue_seq)) FROM riskguard.rejected_attempt;
SELECT 'rejected_committed', count(*) FROM riskguard.rejected_attempt ra
 WHERE EXISTS (SELECT 1 FROM riskguard.transfer t WHERE t.id = ra.transfer_id);

-- every limit counter equals the sum of its committed transfers: computed here from the
-- ledger for the borrowing cap and the daily limit ...
SELECT 'outstanding_off', count(*) FROM (
  SELECT c.subject, c.used,
         (SELECT coalesce(sum(CASE WHEN t.kind = 'disburse' THEN t.amount ELSE -t.amount END), 0)
            FROM riskguard.transfer t JOIN riskguard.account a
              ON a.id = CASE WHEN t.kind = 'disburse' THEN t.credit_account ELSE t.debit_account END
           WHERE a.owner = c.subject AND t.kind IN ('disburse', 'repay_principal')
             AND t.pending_id IS NULL) AS recount
    FROM riskguard.limit_counter c JOIN riskguard.limit_rule r ON r.id = c.rule_id
   WHERE r.name = 'cn_p2p_2016_individual_outstanding') s
 WHERE used <> recount;
SELECT 'daily_off', count(*) FROM (
  SELECT a.owner, riskguard.limit_period('daily_sum', t.created_at) AS period, sum(t.amount) AS used, count(*) AS n
    FROM riskguard.transfer t JOIN riskguard.account a ON a.id = t.debit_account
   WHERE t.kind = 'invest' AND t.pending_id IS NULL GROUP BY 1, 2) x
  FULL JOIN (SELECT c.subject, c.period, c.used, c.transfers FROM riskguard.limit_counter c
               JOIN riskguard.limit_rule r ON r.id = c.rule_id WHERE r.name = 'invest_per_day') y
    ON y.subject = x.owner AND y.period = x.period
 WHERE x.used IS DISTINCT FROM y.used OR x.n IS DISTINCT FROM y.transfers;
-- ... and for every rule by riskguard's own recount, rolled back
BEGIN;
CREATE TEMP TABLE counters_before AS
  SELECT rule_id, subject, period, used, transfers FROM riskguard.limit_counter;
SELECT count(*) = 0 AS dummy FROM (SELECT riskguard.rebuild_limit_counters(name) FROM riskguard.limit_rule) s \gset
SELECT 'counters_off', count(*) FROM (
  (SELECT * FROM counters_before EXCEPT SELECT rule_id, subject, period, used, transfers FROM riskguard.limit_counter)
  UNION ALL
  (SELECT rule_id, subject, period, used, transfers FROM riskguard.limit_counter EXCEPT SELECT * FROM counters_before)) d;
SELECT 'counters', count(*) FROM counters_before;
ROLLBACK;

-- both chains verify
SELECT 'ledger_bad', count(*) FILTER (WHERE NOT ok) FROM riskguard.verify_ledger();
SELECT 'audit_bad', count(*) FILTER (WHERE NOT ok) FROM riskguard.verify_audit();
SELECT 'customers', count(*) FROM customers;
SELECT 'unsealed', count(*) FROM customers WHERE riskguard.envelope_key_id(national_id) IS NULL;
