#!/usr/bin/env bash
# Two transfers from the same wallet at once, made to overlap deterministically: the
# first holds its uncommitted transfer while the second posts its own.  The second must
# wait, then see the first's result: posted when it still fits in what the first left,
# refused with RG003 when it no longer does, never an overdraft; under REPEATABLE READ
# the change committed after its snapshot is a serialization failure (40001).  The same
# for two payments counted against one limit: RG001 once the first has used the room.
# Two transfers with one new idempotency key: the second waits for the first and fails
# (23505) once it commits, or goes ahead when the first rolls back: one transfer a key.
set -u
. "$RG_TOP/test/lib.sh"
. "$RG_TOP/test/shell/tap.sh"

db=ledger_race
rg_psql -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
export PGDATABASE=$db
rg_psql >/dev/null <<'SQL'
CREATE EXTENSION riskguard;
SELECT riskguard.open_account('custody', 'client', NULL, NULL, 'CNY', 'debit');
SELECT riskguard.open_account('w:a', 'client', 'a', 'individual', 'CNY');
SELECT riskguard.open_account('w:b', 'client', 'b', 'individual', 'CNY');
SELECT riskguard.open_account('w:c', 'client', 'c', 'individual', 'CNY');
SELECT riskguard.post_transfer('custody', 'w:a', 1000, 'deposit');
SQL

# overlap "FIRST" "SECOND": the first statement runs in a transaction that then sleeps
# three seconds before committing; once it sleeps (its rows written and locked), the
# second runs in a session of its own.  Prints the second's outcome ("no error" or
# SQLSTATE: message) and then "first: " and the first session's exit status.
overlap() {
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -c "BEGIN; $1; SELECT pg_sleep(3); COMMIT;" >/dev/null 2>&1 &
	local first=$! i
	for i in $(seq 100); do
		[ "$(sql_value "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'")" = 1 ] && break
		sleep 0.1
	done
	sql_error "$2"
	wait "$first"
	echo "first: $?"
}

out=$(overlap "SELECT riskguard.post_transfer('w:a', 'w:b', 300, 'transfer')" \
	"SELECT riskguard.post_transfer('w:a', 'w:c', 300, 'transfer')")
like "$out" '^no error' "a transfer that still fits after a concurrent one commits is posted"
like "$out" 'first: 0$' "and the concurrent one committed"
is "$(sql_value "SELECT debits_posted || ' ' || credits_posted || ' ' || head_seq FROM riskguard.account WHERE code = 'w:a'")" \
	"600 1000 3" "the wallet carries both debits and three chain links"

out=$(overlap "SELECT riskguard.post_transfer('w:a', 'w:b', 300, 'transfer')" \
	"SELECT riskguard.post_transfer('w:a', 'w:c', 300, 'transfer')")
like "$out" '^RG003: ' "a transfer that no longer fits once the concurrent one commits is refused with RG003"
like "$out" 'first: 0$' "and the concurrent one committed"
is "$(sql_value "SELECT debits_posted || ' ' || credits_posted || ' ' || head_seq FROM riskguard.account WHERE code = 'w:a'")" \
	"900 1000 4" "the wallet has the first's debit only, 100 left: never overdrawn"

is "$(sql_value "SELECT count(*) FILTER (WHERE NOT ok) || ' of ' || count(*) FROM riskguard.verify_ledger()")" \
	"0 of 4" "every account's chain verifies"
is "$(sql_value "SELECT (SELECT sum(amount) FROM riskguard.transfer WHERE debit_account = a.id) = a.debits_posted FROM riskguard.account a WHERE code = 'w:a'")" \
	"t" "the wallet's debits equal its transfers"

# the same under REPEATABLE READ: the change committed after the snapshot is a
# serialization failure, as an UPDATE would give
out=$(overlap "SELECT riskguard.post_transfer('w:a', 'w:b', 10, 'transfer')" \
	"BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT riskguard.post_transfer('w:a', 'w:c', 10, 'transfer'); COMMIT")
like "$out" '^40001: ' "under REPEATABLE READ the concurrent change raises 40001"

# the same race on a limit's counter: the second payment read the counter before the
# first committed, and must be counted against what the first left
rg_psql >/dev/null <<'SQL'
SELECT riskguard.open_account('w:d', 'client', 'd', 'individual', 'CNY');
SELECT riskguard.post_transfer('custody', 'w:d', 10000, 'deposit');
INSERT INTO riskguard.limit_rule (name, subject, kinds, direction, metric, threshold, currency, action)
VALUES ('pay_cap', 'owner', '{pay}', 'outflow', 'daily_sum', 500, 'CNY', 'reject');
SELECT riskguard.post_transfer('w:d', 'w:c', 100, 'pay');
SQL
pay() { echo "SELECT riskguard.post_transfer('w:d', '$1', $2, 'pay')"; }
like "$(overlap "$(pay w:b 150)" "$(pay w:c 150)")" '^no error' \
	"a payment that fits the cap after a concurrent one commits is counted"
like "$(overlap "$(pay w:b 100)" "$(pay w:c 150)")" '^RG001: ' \
	"one that no longer fits once the concurrent one commits is refused with RG001"
is "$(sql_value "SELECT used || ' ' || transfers FROM riskguard.limit_counter WHERE subject = 'd'")" "500 4" \
	"the counter holds the four committed payments, 500 of the cap of 500"

# one new idempotency key, twice at once
out=$(overlap "SELECT riskguard.post_transfer('custody', 'w:c', 10, 'deposit', NULL, 'race-key-1')" \
	"SELECT riskguard.post_transfer('custody', 'w:c', 10, 'deposit', NULL, 'race-key-1')")
like "$out" '^23505: duplicate key value violates unique constraint "transfer_key_pkey"' \
	"a transfer reusing a key a concurrent one is committing waits, then fails with 23505"
like "$out" 'first: 0$' "and the concurrent one committed"
is "$(sql_value "SELECT count(*) || ' ' || bool_and(k.transfer_id = t.id)::text FROM riskguard.transfer t JOIN riskguard.transfer_key k USING (idempotency_key) WHERE idempotency_key = 'race-key-1'")" \
	"1 true" "the key names its one transfer"
is "$(sql_value "SELECT riskguard.post_transfer('custody', 'w:c', 10, 'deposit', NULL, 'race-key-1') = (SELECT transfer_id FROM riskguard.transfer_key WHERE idempotency_key = 'race-key-1')")" \
	"t" "a replay afterwards returns that transfer"
"$PGBIN/psql" -X -q -c "BEGIN; SELECT riskguard.post_transfer('custody', 'w:c', 10, 'deposit', NULL, 'race-key-2'); SELECT pg_sleep(2); ROLLBACK;" >/dev/null 2>&1 &
first=$!
for i in $(seq 100); do
	[ "$(sql_value "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'")" = 1 ] && break
	sleep 0.1
done
is "$(sql_error "SELECT riskguard.post_transfer('custody', 'w:c', 10, 'deposit', NULL, 'race-key-2')")" "no error" \
	"the same key after the concurrent transfer rolled back is posted"
wait "$first"
is "$(sql_value "SELECT count(*) FROM riskguard.transfer WHERE idempotency_key = 'race-key-2'")" "1" "once"

rg_psql -d postgres -c "DROP DATABASE $db" >/dev/null

done_testing
