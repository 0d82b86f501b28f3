#!/usr/bin/env bash
# Ledger under concurrency: 16 pgbench clients post, hold, complete, charge fees and
# withdraw at random among five wallets (plus custody, fee and reserve accounts, and a
# reserve provision on every investment) for 12 seconds.  Afterwards no balance
# constraint is broken, debits equal credits, no transaction failed (a deadlock would),
# and every hash chain verifies.
set -u
. "$RG_TOP/test/lib.sh"
. "$RG_TOP/test/shell/tap.sh"

db=ledger_conc_$$
here=$RG_TOP/test/shell/ledger
rg_psql -d postgres -c "CREATE DATABASE $db"
rg_psql -d "$db" -f "$here/concurrency_setup.sql" >/dev/null

out=$("$PGBIN/pgbench" -n -d "$db" -f "$here/concurrency_step.sql" -c 16 -j 4 -T 12 2>&1)
echo "$out" | sed 's/^/# /' | grep -E 'transactions|failed|tps|abort' || true
xacts=$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
like "${xacts:-0}" '^[0-9]{3,}$' "16 clients processed hundreds of transactions (${xacts:-0})"
like "$out" 'number of failed transactions: 0 ' "no transaction failed (no deadlock, no unexpected error)"
is "$(grep -ci 'abort' <<<"$out")" "0" "no client aborted"

q() { sql_value "$1" -d "$db"; }
is "$(q "SELECT count(*) FROM riskguard.account
          WHERE NOT allow_overdraft
            AND ((normal_side = 'credit' AND debits_posted + debits_pending > credits_posted)
              OR (normal_side = 'debit' AND credits_posted + credits_pending > debits_posted))")" \
	"0" "no balance constraint is broken"
is "$(q "SELECT sum(debits_posted) = sum(credits_posted) AND sum(debits_pending) = sum(credits_pending)
           FROM riskguard.account")" "t" "the sum of all debits equals the sum of all credits"
is "$(q "SELECT (SELECT sum(amount) FROM riskguard.transfer
                  WHERE status = 'posted' AND (pending_id IS NOT NULL OR NOT EXISTS
                        (SELECT 1 FROM riskguard.transfer c WHERE c.pending_id = transfer.id)))
              = (SELECT sum(debits_posted) FROM riskguard.account)")" \
	"t" "posted transfers add up to the accounts' posted debits"
is "$(q "SELECT count(*) FROM riskguard.transfer WHERE status = 'pending'")" "0" "every hold was completed"
is "$(q "SELECT count(*) FROM riskguard.account WHERE debits_pending <> 0 OR credits_pending <> 0")" "0" \
	"no funds remain held"
like "$(q "SELECT count(*) FROM riskguard.transfer WHERE kind = 'reserve_provision'")" '^[1-9][0-9]*$' \
	"investments provisioned the reserve under concurrency"
is "$(q "SELECT count(*) FILTER (WHERE NOT ok) || '/' || count(*) FROM riskguard.verify_ledger()")" "0/8" \
	"every account's hash chain and balances verify"

# REPEATABLE READ: a transfer on an account changed since the snapshot is a
# serialization failure, as an UPDATE would be
cat >"$RG_WORK/ledger_rr.sql" <<'SQL'
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FROM riskguard.transfer \g /dev/null
SELECT pg_sleep(1.5) \g /dev/null
SELECT riskguard.post_transfer('w1', 'w2', 1, 'invest');
SQL
"$PGBIN/psql" -X -q -v VERBOSITY=sqlstate -d "$db" -f "$RG_WORK/ledger_rr.sql" >"$RG_WORK/ledger_rr.out" 2>&1 &
rr_pid=$!
sleep 0.5
sql_value "SELECT riskguard.post_transfer('custody', 'w1', 100, 'deposit')" -d "$db" >/dev/null
wait "$rr_pid"
rr=$(cat "$RG_WORK/ledger_rr.out")
like "$rr" '40001' "under REPEATABLE READ a concurrently changed account raises 40001"

# the per-backend cache of flows: a change committed by another session applies to this
# session's next transfer, and a removal too
cat >"$RG_WORK/ledger_cache.sql" <<SQL
SELECT riskguard.post_transfer('fees', 'reserve', 10, 'top_up');
\\! "$PGBIN/psql" -X -q -d $db -c "INSERT INTO riskguard.pool_flow VALUES ('platform', 'reserve', 'top_up')"
SELECT 'allowed ' || (riskguard.post_transfer('fees', 'reserve', 10, 'top_up') > 0);
\\! "$PGBIN/psql" -X -q -d $db -c "DELETE FROM riskguard.pool_flow WHERE kind = 'top_up'"
SELECT riskguard.post_transfer('fees', 'reserve', 10, 'top_up');
SQL
cache_out=$("$PGBIN/psql" -X -q -At -v VERBOSITY=sqlstate -d "$db" -f "$RG_WORK/ledger_cache.sql" 2>&1 | tr '\n' ' ')
like "$cache_out" '^psql:[^ ]* ERROR:  RG002 allowed true psql:[^ ]* ERROR:  RG002 $' \
	"one session sees flows added and removed by another at its next transfer"

rg_psql -d postgres -c "DROP DATABASE $db"
done_testing
