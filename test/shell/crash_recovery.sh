#!/usr/bin/env bash
# Crash and recovery under load.  A cluster of its own, with fsync, full_page_writes and
# synchronous_commit ON (the other suites run with them off, which would prove nothing
# here), runs clients posting transfers and two-phase holds through limits, an alerting
# limit, alert rules (one recording, one blocking with RG007), a reserve rule and column
# encryption; the cluster is preloaded, so the recorder writes refused attempts.  The server dies mid-load, by `pg_ctl stop -m immediate`
# (CRASH_STOPS times) and by SIGKILL of one backend (the postmaster then reinitialises),
# and after each restart: every transfer and customer row whose COMMIT a client saw is
# there; no transfer is half applied; every limit counter equals the sum of its committed
# transfers; verify_ledger() and verify_audit() are clean; the protected column decrypts;
# every alert belongs to a committed transfer and the alert rules' state matches the
# ledger; refused attempts are written once; the recorder runs again after the restart.
#
# The clients are psql sessions running BEGIN; SELECT crash_step() \gset; COMMIT; \echo
# in a loop: a line reaches the client's file only after the server acknowledged COMMIT.
#
# Environment: CRASH_CLIENTS (4), CRASH_STOPS (3), CRASH_KILLS (1), CRASH_LOAD_SECONDS (4).
set -u
. "$RG_TOP/test/lib.sh"
. "$RG_TOP/test/shell/tap.sh"

clients=${CRASH_CLIENTS:-4}
stops=${CRASH_STOPS:-3}
kills=${CRASH_KILLS:-1}
load_seconds=${CRASH_LOAD_SECONDS:-4}
dir=$RG_WORK/crash
mkdir -p "$dir/clients"
chmod 777 "$dir/clients"

rg_cluster_init "$dir" "shared_preload_libraries = 'riskguard'" \
	"riskguard.root_key_file = '$RG_KEYFILE'" \
	"fsync = on" "full_page_writes = on" "synchronous_commit = on" \
	"restart_after_crash = on" "log_min_messages = log"
rg_cluster_start "$dir"
trap 'rg_cluster_stop "$dir" immediate' EXIT
is "$(sql_value "SELECT current_setting('fsync') || current_setting('full_page_writes') || current_setting('synchronous_commit')")" \
	"ononon" "the crash cluster runs with fsync, full_page_writes and synchronous_commit on"

rg_psql -c "CREATE ROLE crash_maker IN ROLE riskguard_admin" -c "CREATE ROLE crash_checker IN ROLE riskguard_approver" \
	-c "CREATE ROLE crash_reader LOGIN IN ROLE riskguard_reader" 2>/dev/null \
	|| rg_psql -c "CREATE ROLE crash_maker" -c "CREATE ROLE crash_checker" -c "CREATE ROLE crash_reader LOGIN" \
		-c "CREATE EXTENSION riskguard" -c "GRANT riskguard_admin TO crash_maker" \
		-c "GRANT riskguard_approver TO crash_checker" -c "GRANT riskguard_reader TO crash_reader" \
		-c "DROP EXTENSION riskguard"
rg_psql -c "CREATE DATABASE crash"
export PGDATABASE=crash
rg_psql -f "$RG_TOP/test/shell/crash/setup.sql" >"$dir/setup.log" 2>&1
rc=$?
is "$rc" "0" "the platform is set up: accounts, rules through maker-checker, a protected column"
[ "$rc" = 0 ] || { tail -n 5 "$dir/setup.log" | sed 's/^/# /'; done_testing; exit 1; }

# one client's script: many steps, each acknowledged after its COMMIT returns
step_file=$dir/step.sql
{
	echo '\set ON_ERROR_STOP 1'
	for _ in $(seq 1 20000); do
		printf 'BEGIN;\nSELECT crash_step() AS r \\gset\nCOMMIT;\n\\echo :r\n'
	done
} >"$step_file"

LOADERS=()
start_load() {	# start_load ROUND
	LOADERS=()
	local c
	for c in $(seq 1 "$clients"); do
		PGAPPNAME=crash_client "$PGBIN/psql" -X -q -f "$step_file" \
			>"$dir/clients/$1-$c.out" 2>"$dir/clients/$1-$c.err" &
		LOADERS+=($!)
	done
}

wait_ready() {	# the server accepts queries again (at most 60 s)
	local i
	for i in $(seq 1 120); do
		sql_value "SELECT 1" -d postgres >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	return 1
}

total_acked=0
total_refused=0
server_started_before=-infinity
check_round() {	# check_round LABEL
	local label=$1 line k v
	cat "$dir"/clients/*.out | awk '$1 == "T" { print $2 }' >"$dir/acked_transfers"
	cat "$dir"/clients/*.out | awk '$1 == "T" { print $4 }' >"$dir/acked_customers"
	local errors
	errors=$(cat "$dir"/clients/"$round"-*.err | grep -E '^(psql:.*)?ERROR' | head -n 3)
	is "$errors" "" "$label: clients saw no SQL error, only the lost connection"
	declare -A R=()
	while read -r k v; do [ -n "$k" ] && R[$k]=$v; done < <(rg_psql -v tids="$dir/acked_transfers" \
		-v cids="$dir/acked_customers" -f "$RG_TOP/test/shell/crash/check.sql" 2>&1)
	echo "# $label: ${R[acked_transfers]:-?} transfers acknowledged so far, ${R[transfers]:-?} in the ledger," \
		"${R[customers]:-?} customers, ${R[holds]:-?} holds (${R[holds_open]:-?} open), ${R[alerts]:-?} alerts," \
		"${R[counters]:-?} limit counters, ${R[velocity_alerts]:-?} velocity alerts," \
		"${R[rejected]:-?} refused attempts recorded (${R[rejected_rg007]:-?} RG007)"
	is "${R[missing_transfers]:-?}" "0" "$label: every acknowledged transfer is there"
	is "${R[missing_customers]:-?}" "0" "$label: every acknowledged customer row is there"
	is "${R[debits_minus_credits]:-?}" "0" "$label: debits equal credits"
	is "${R[accounts_off]:-?}" "0" "$label: each account's posted and pending totals equal the sums of its transfers and open holds"
	is "${R[holds_off]:-?}" "0" "$label: each completed hold has exactly one completion of its status, each open hold none"
	is "${R[provisions_off]:-?}" "0" "$label: each fee has its reserve provision"
	is "${R[alerts_orphaned]:-?}" "0" "$label: every alert references a committed transfer"
	is "${R[alerts_off]:-?}" "0" "$label: each large disbursement has its limit alert, and each limit alert its disbursement"
	is "${R[velocity_off]:-?}" "0" "$label: the velocity rule's state and alerts equal the recount of each borrower's payments"
	is "${R[state_bad]:-?}" "0" "$label: no alert rule state is negative or in the future"
	is "${R[rejected_dup]:-?}/${R[rejected_committed]:-?}" "0/0" "$label: each refused attempt is recorded once, and none is a committed transfer"
	is "${R[outstanding_off]:-?}/${R[daily_off]:-?}" "0/0" "$label: borrowing-cap and daily counters equal the sums of their transfers"
	is "${R[counters_off]:-?}" "0" "$label: every limit counter equals riskguard's own recount"
	is "${R[ledger_bad]:-?}/${R[audit_bad]:-?}" "0/0" "$label: verify_ledger() and verify_audit() are clean"
	is "${R[unsealed]:-?}" "0" "$label: every national ID is sealed"
	is "$(sql_value "SELECT count(*) FILTER (WHERE national_id IS DISTINCT FROM expected_national_id(id)) || '/' || count(*) FROM customers_decrypted" -U crash_reader 2>&1)" \
		"0/${R[customers]:-?}" "$label: every protected value decrypts for a riskguard_reader member"
	total_acked=${R[acked_transfers]:-0}
	total_transfers=${R[transfers]:-0}
	total_customers=${R[customers]:-0}
	total_holds=${R[holds]:-0}
	total_alerts=${R[alerts]:-0}
	total_velocity=${R[velocity_alerts]:-0}
	total_rejected=${R[rejected]:-0}
	total_rejected7=${R[rejected_rg007]:-0}
	# the recorder starts again: a refusal after the restart is written within seconds
	local probe="probe after $label" i seen=0
	sql_error "SELECT riskguard.post_transfer('inv:1', 'bor:1', 30000000, 'disburse', '$probe')" >/dev/null
	for i in $(seq 1 40); do
		seen=$(sql_value "SELECT count(*) FROM riskguard.rejected_attempt WHERE reference = '$probe' AND sqlstate = 'RG001' AND server_started > '$server_started_before'")
		[ "$seen" = 1 ] && break
		sleep 0.25
	done
	is "$seen" "1" "$label: a refusal after the restart is recorded once, by the restarted server's recorder"
	like "$(sql_value "SELECT state || ' ' || queued || ' ' || failed FROM riskguard.recorder_status")" '^(running|idle) 0 0$' \
		"$label: recorder_status shows the recorder running (or done), nothing queued, nothing failed"
	server_started_before=$(sql_value "SELECT max(server_started) FROM riskguard.rejected_attempt")
}

crashes=0
round=0
for kind in $(for _ in $(seq 1 "$stops"); do echo stop; done; for _ in $(seq 1 "$kills"); do echo kill; done); do
	round=$((round + 1))
	label="crash $round ($kind)"
	log_mark=$(wc -l <"$dir/server.log")
	start_load "$round"
	# a checkpoint mid-load, so recovery starts from one taken under load (and full-page
	# images of pages changed after it are in the WAL)
	sleep "$(awk -v s="$load_seconds" 'BEGIN { print s / 2 }')"
	sql_value "CHECKPOINT" -d postgres >/dev/null
	sleep "$(awk -v s="$load_seconds" 'BEGIN { print s / 2 }')"
	running=0
	for p in "${LOADERS[@]}"; do kill -0 "$p" 2>/dev/null && running=$((running + 1)); done
	is "$running" "$clients" "$label: all $clients clients are still running when the server dies"
	if [ "$kind" = stop ]; then
		rg_as_server_user "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1
		wait "${LOADERS[@]}" 2>/dev/null
		rg_cluster_start "$dir"
	else
		victim=$(sql_value "SELECT pid FROM pg_stat_activity WHERE application_name = 'crash_client' AND state = 'active' ORDER BY random() LIMIT 1" -d postgres)
		[ -z "$victim" ] && victim=$(sql_value "SELECT pid FROM pg_stat_activity WHERE application_name = 'crash_client' LIMIT 1" -d postgres)
		like "$victim" '^[0-9]+$' "$label: a client's backend is found to kill"
		kill -KILL "$victim"
		wait "${LOADERS[@]}" 2>/dev/null
		wait_ready
	fi
	ok "$label: the server is back" wait_ready
	refused=$(cat "$dir"/clients/"$round"-*.out | grep -cE '^R RG00[137]' || true)
	committed=$(cat "$dir"/clients/"$round"-*.out | grep -c '^T ' || true)
	total_refused=$((total_refused + refused))
	ok "$label: the clients were committing when the server died ($committed acknowledged, $refused refused by limits, balances or the blocking rule)" \
		test "$committed" -gt 0
	recovery=$(tail -n +"$((log_mark + 1))" "$dir/server.log")
	if [ "$kind" = stop ]; then
		like "$recovery" 'database system was interrupted|not properly shut down; automatic recovery in progress' \
			"$label: the server ran crash recovery"
	else
		like "$recovery" "terminated by signal 9.*|all server processes terminated; reinitializing" \
			"$label: the postmaster saw the killed backend and reinitialised"
	fi
	like "$recovery" 'redo (done|starts)' "$label: WAL was replayed"
	check_round "$label"
	crashes=$((crashes + 1))
done

echo "# survived $crashes crashes ($stops immediate stops, $kills backend kills);" \
	"$total_acked acknowledged transfers checked, $total_transfers transfers ($total_holds holds) in the ledger," \
	"$total_customers sealed customer rows," \
	"$total_refused attempts refused by limits, balance constraints or the blocking rule" \
	"($total_rejected recorded, $total_rejected7 of them RG007); $total_alerts alerts ($total_velocity from the velocity rule)"
rg_cluster_stop "$dir"
trap - EXIT
done_testing
