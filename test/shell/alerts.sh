#!/usr/bin/env bash
# Monitoring across sessions: NOTIFY delivers committed alerts only; refused attempts
# (RG007 and RG001) are recorded after their transactions rolled back, once each; a
# stopped recorder shows in its view and the server log while refusals keep their
# errors; a full queue drops and counts; a flood of alerts does not stop transfers;
# without shared_preload_libraries refusals still work and the view says so.
set -u
. "$RG_TOP/test/lib.sh"
. "$RG_TOP/test/shell/tap.sh"

db=alerts_shell
rg_psql -d postgres -c "DROP DATABASE IF EXISTS $db" -c "DROP ROLE IF EXISTS al_maker" \
	-c "DROP ROLE IF EXISTS al_checker" -c "CREATE DATABASE $db" >/dev/null
export PGDATABASE=$db
log=$RG_WORK/main/server.log

rg_psql <<'SQL' >/dev/null
CREATE EXTENSION riskguard;
CREATE ROLE al_maker;   GRANT riskguard_admin TO al_maker;
CREATE ROLE al_checker; GRANT riskguard_approver TO al_checker;
SELECT riskguard.open_account('custody', 'client', NULL, NULL, 'CNY', 'debit', false);
SELECT riskguard.open_account('w:chen', 'client', 'chen', 'individual', 'CNY');
SELECT riskguard.open_account('w:liu', 'client', 'liu', 'individual', 'CNY');
SELECT riskguard.open_account('w:flood', 'client', 'flood', 'individual', 'CNY');
SELECT riskguard.post_transfer('custody', a, 1000000000, 'deposit') FROM unnest(ARRAY['w:chen', 'w:flood']) a;
SET SESSION AUTHORIZATION al_maker;
SELECT riskguard.propose_change('alert_rule', 'insert', r, 'test') FROM (VALUES
  ('{"name": "big_gift", "kind": "velocity", "kinds": ["gift"], "likelihood": 3, "impact": 4,
     "params": {"window": "1 hour", "max_sum": 99999}}'::jsonb),
  ('{"name": "no_wires", "kind": "velocity", "kinds": ["wire"], "likelihood": 5, "impact": 4, "action": "block",
     "params": {"window": "1 hour", "max_count": 0}}'),
  ('{"name": "every_transfer", "kind": "velocity", "kinds": ["flood"], "likelihood": 1, "impact": 1,
     "params": {"window": "1 hour", "max_count": 0}}')) v(r);
SELECT riskguard.propose_change('limit_rule', 'insert',
  '{"name": "small_cap", "subject": "owner", "kinds": ["capped"], "direction": "outflow",
    "metric": "per_transfer", "threshold": 5000, "currency": "CNY", "action": "reject"}', 'test');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION al_checker;
SELECT riskguard.approve_change(id) FROM riskguard.change_request WHERE status = 'proposed';
RESET SESSION AUTHORIZATION;
SQL

# ---- NOTIFY: a listener sees the committed alert, not the rolled-back one
listen_out=$RG_WORK/alerts_listen.out
( echo 'LISTEN riskguard_alert;'; sleep 3; echo 'SELECT 1;' ) \
	| "$PGBIN/psql" -X -q -A -t >"$listen_out" 2>&1 &
listener=$!
sleep 1
rg_psql -c "BEGIN" -c "SELECT riskguard.post_transfer('w:chen', 'w:liu', 500000, 'gift', 'rolled back')" -c "ROLLBACK" >/dev/null
committed=$(sql_value "SELECT riskguard.post_transfer('w:chen', 'w:liu', 200000, 'gift', 'committed')")
wait $listener
notes=$(grep -c 'Asynchronous notification "riskguard_alert"' "$listen_out")
is "$notes" "1" "the listener received exactly one alert"
payload=$(sed -n 's/.*with payload "\(.*\)" received from server process.*/\1/p' "$listen_out")
alert_id=$(sql_value "SELECT id FROM riskguard.alert WHERE transfer_id = $committed")
is "$payload" "{\"id\": $alert_id, \"rule\": \"big_gift\", \"severity\": \"high\", \"owner\": \"chen\", \"transfer_id\": $committed}" \
	"its payload names the committed transfer's alert"
is "$(sql_value "SELECT count(*) FROM riskguard.alert")" "1" "the rolled-back transfer left no alert"

# ---- refused attempts are recorded after the rollback
wait_for() {	# wait_for SQL EXPECTED: poll for up to 5 seconds
	local i v
	for i in $(seq 1 50); do
		v=$(sql_value "$1")
		[ "$v" = "$2" ] && break
		sleep 0.1
	done
	echo "$v"
}
state0=$(sql_value "SELECT written FROM riskguard.recorder_status")
err=$(sql_error "SELECT riskguard.post_transfer('w:chen', 'w:liu', 70000, 'wire', 'to an offshore account')")
like "$err" '^RG007: transfer of 70000 CNY blocked by alert rule "no_wires"' "a blocked transfer gets RG007"
got=$(wait_for "SELECT count(*) FROM riskguard.rejected_attempt" 1)
is "$got" "1" "the blocked attempt is recorded although its transaction rolled back"
is "$(sql_value "SELECT who || ' ' || debit_code || ' ' || credit_code || ' ' || amount || ' ' || currency || ' ' || kind || ' ' || reference || ' ' || rule || ' ' || sqlstate FROM riskguard.rejected_attempt")" \
	"$PGUSER w:chen w:liu 70000 CNY wire to an offshore account no_wires RG007" "with who, the transfer's fields, the rule and the SQLSTATE"
like "$(sql_value "SELECT reason FROM riskguard.rejected_attempt")" 'blocked by alert rule "no_wires": Owner "chen" made 1 transfers' \
	"and the reason"
is "$(sql_value "SELECT count(*) FROM riskguard.transfer WHERE kind = 'wire'")" "0" "the transfer itself is not in the ledger"

err=$(sql_error "BEGIN; SELECT riskguard.post_transfer('w:chen', 'w:liu', 6000, 'capped'); COMMIT;")
like "$err" '^RG001: transfer of 6000 CNY would exceed limit "small_cap"' "a limit refusal gets RG001"
got=$(wait_for "SELECT count(*) FROM riskguard.rejected_attempt WHERE sqlstate = 'RG001'" 1)
is "$got" "1" "and is recorded too"

# several refusals from several sessions: each recorded once
for i in 1 2 3 4 5; do
	sql_error "SELECT riskguard.post_transfer('w:chen', 'w:liu', $((1000 + i)), 'wire')" >/dev/null &
done
wait
got=$(wait_for "SELECT count(*) FROM riskguard.rejected_attempt" 7)
sleep 1.5
is "$(sql_value "SELECT count(*) FROM riskguard.rejected_attempt")" "7" "five more refusals, seven records, none twice"
is "$(sql_value "SELECT count(DISTINCT amount) FROM riskguard.rejected_attempt WHERE amount BETWEEN 1001 AND 1005")" "5" \
	"one record per attempt"
is "$(sql_value "SELECT written - $state0 FROM riskguard.recorder_status")" "7" "the view counts them as written"

# ---- a stopped recorder: refusals keep their errors, the view and the log show it
rg_psql -c "ALTER SYSTEM SET riskguard.recorder_enabled = off" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
lines0=$(wc -l <"$log")
err=$(sql_error "SELECT riskguard.post_transfer('w:chen', 'w:liu', 1, 'wire')")
like "$err" '^RG007:' "with the recorder stopped a blocked transfer still gets RG007"
is "$(sql_value "SELECT state || ' ' || queued FROM riskguard.recorder_status")" "stopped 1" "the view shows it stopped with one queued"
ok "the server log says the recorder is not running" \
	bash -c "tail -n +$((lines0 + 1)) '$log' | grep -q 'riskguard recorder is not running: riskguard.recorder_enabled is off'"

# fill the queue: the rest are dropped and counted, the client never waits
dropped0=$(sql_value "SELECT dropped FROM riskguard.recorder_status")
t0=$(date +%s%N)
rg_psql <<'SQL' >/dev/null
DO $$
BEGIN
  FOR i IN 1..1100 LOOP
    BEGIN
      PERFORM riskguard.post_transfer('w:chen', 'w:liu', i, 'wire');
    EXCEPTION WHEN SQLSTATE 'RG007' THEN NULL;
    END;
  END LOOP;
END $$;
SQL
t1=$(date +%s%N)
echo "# 1100 refusals with the recorder stopped took $(((t1 - t0) / 1000000)) ms"
is "$(sql_value "SELECT queued || ' ' || capacity FROM riskguard.recorder_status")" "1024 1024" "the queue is bounded"
is "$(sql_value "SELECT dropped - $dropped0 FROM riskguard.recorder_status")" "77" "the attempts that did not fit are dropped and counted"

rg_psql -c "ALTER SYSTEM RESET riskguard.recorder_enabled" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
sql_error "SELECT riskguard.post_transfer('w:chen', 'w:liu', 2, 'wire')" >/dev/null
got=$(wait_for "SELECT queued FROM riskguard.recorder_status" 0)
is "$got" "0" "once enabled, the next refusal starts the recorder and the queue drains"
is "$(sql_value "SELECT count(*) FROM riskguard.rejected_attempt")" "$((7 + 1024))" "every queued attempt is written"
is "$(sql_value "SELECT count(*) FROM (SELECT server_started, queue_seq FROM riskguard.rejected_attempt GROUP BY 1, 2 HAVING count(*) > 1) d")" \
	"0" "no attempt twice"

# a recorder killed while idle is started again by the next refusal
pid=$(sql_value "SELECT pid FROM pg_stat_activity WHERE backend_type = 'riskguard recorder'")
[ -n "$pid" ] && rg_psql -c "SELECT pg_terminate_backend($pid)" >/dev/null
sleep 0.3
before=$(sql_value "SELECT count(*) FROM riskguard.rejected_attempt")
sql_error "SELECT riskguard.post_transfer('w:chen', 'w:liu', 3, 'wire')" >/dev/null
is "$(wait_for "SELECT count(*) FROM riskguard.rejected_attempt" $((before + 1)))" "$((before + 1))" \
	"a terminated recorder is replaced by the next refusal"

# ---- a flood: every transfer raises an alert; 8 clients x 250 transfers all pass
script=$RG_WORK/alerts_flood.sql
echo "SELECT riskguard.post_transfer('w:flood', 'w:liu', 10, 'flood');" >"$script"
out=$("$PGBIN/pgbench" -n -f "$script" -c 8 -j 4 -t 250 2>&1)
is "$?" "0" "the flood runs without a client error"
is "$(sql_value "SELECT count(*) FROM riskguard.transfer WHERE kind = 'flood'")" "2000" "all 2000 transfers posted"
is "$(sql_value "SELECT count(*) FROM riskguard.alert WHERE rule = 'every_transfer'")" "2000" "each with its alert"
is "$(sql_value "SELECT n FROM riskguard.alert_state WHERE rule_id = (SELECT id FROM riskguard.alert_rule WHERE name = 'every_transfer')")" \
	"2000" "the rule's window count, updated by 8 clients at once, lost none"

rg_psql -d postgres -c "DROP DATABASE $db" >/dev/null 2>&1 || sleep 2
rg_psql -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null

# ---- without shared_preload_libraries
alt=$RG_WORK/alerts_nopreload
rm -rf "$alt"
rg_cluster_init "$alt" >/dev/null && rg_cluster_start "$alt" >/dev/null
rg_psql -d postgres <<'SQL' >/dev/null
CREATE EXTENSION riskguard;
SELECT riskguard.open_account('custody', 'client', NULL, NULL, 'CNY', 'debit', false);
SELECT riskguard.open_account('w:a', 'client', 'a', 'individual', 'CNY');
SELECT riskguard.open_account('w:b', 'client', 'b', 'individual', 'CNY');
SELECT riskguard.post_transfer('custody', 'w:a', 100000, 'deposit');
INSERT INTO riskguard.alert_rule (name, kind, kinds, params, likelihood, impact, action)
VALUES ('no_wires', 'velocity', '{wire}', '{"window": "1 hour", "max_count": 0}', 5, 4, 'block');
SQL
like "$(sql_error "SELECT riskguard.post_transfer('w:a', 'w:b', 5, 'wire')" -d postgres)" '^RG007:' \
	"without preloading a blocked transfer still gets RG007"
is "$(sql_value "SELECT state || ' ' || preloaded FROM riskguard.recorder_status" -d postgres)" "not loaded false" \
	"and the view says the recorder is not loaded"
ok "the server log says refused attempts are not recorded" \
	grep -q 'riskguard recorder is not running: refused attempts are not recorded' "$alt/server.log"
rg_cluster_stop "$alt" fast

done_testing
