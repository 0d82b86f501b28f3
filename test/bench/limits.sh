#!/usr/bin/env bash
# limits: the ledger benchmark (random transfers between 10,000 client wallets, pgbench
# with 8 clients, prepared statements) with five active limits that every transfer
# counts against (per-transfer, daily sum, daily count and monthly sum on the payer,
# outstanding on the payee), against the same plain-SQL baseline (insert the transfer,
# update two balances), and against riskguard with the limits switched off (switching
# them on again recounts their counters from the ledger, outside the timed runs).  Runs are
# interleaved twice and the better of each is kept; LIMITS_BENCH_SECS (default 10).
set -eu
. "$RG_TOP/test/bench/lib.sh"

here=$RG_TOP/test/bench/ledger
secs=${LIMITS_BENCH_SECS:-10}
rg_psql -d postgres -c 'DROP DATABASE IF EXISTS bench_limits' -c 'CREATE DATABASE bench_limits' >/dev/null
export PGDATABASE=bench_limits
rg_psql -f "$here/setup.sql" >/dev/null
# the rules go in directly (a superuser may); thresholds are high enough never to refuse
rg_psql >/dev/null <<'SQL'
INSERT INTO riskguard.limit_rule (name, subject, kinds, release_kinds, direction, metric, threshold, currency, action) VALUES
  ('bench_per_transfer', 'owner', '{transfer}', NULL, 'outflow', 'per_transfer', 1000000, 'CNY', 'reject'),
  ('bench_daily_sum', 'owner', '{transfer}', NULL, 'outflow', 'daily_sum', 1000000000000, 'CNY', 'reject'),
  ('bench_daily_count', 'owner', '{transfer}', NULL, 'outflow', 'daily_count', 1000000000, 'CNY', 'reject'),
  ('bench_monthly_sum', 'owner', '{transfer}', NULL, 'outflow', 'monthly_sum', 1000000000000, 'CNY', 'reject'),
  ('bench_outstanding', 'owner', '{transfer}', '{refund}', 'inflow', 'outstanding', 1000000000000, 'CNY', 'reject');
SQL

best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b ? a : b) }'; }
plain=0 off=0 on=0
for round in 1 2; do
	plain=$(best "$plain" "$(bench_tps "$here/plain.sql" 8 "$secs" -M prepared --max-tries=20)")
	rg_psql -c 'UPDATE riskguard.limit_rule SET active = false' >/dev/null
	off=$(best "$off" "$(bench_tps "$here/riskguard.sql" 8 "$secs" -M prepared --max-tries=20)")
	# switched on again, the counters are recounted from the ledger (as approval does)
	rg_psql -c 'UPDATE riskguard.limit_rule SET active = true' \
		-c "SELECT count(riskguard.rebuild_limit_counters(name)) FROM riskguard.limit_rule" >/dev/null
	on=$(best "$on" "$(bench_tps "$here/riskguard.sql" 8 "$secs" -M prepared --max-tries=20)")
done
echo "limits bench: plain $plain tps, riskguard without limits $off tps, with five limits $on tps" >&2
row="ledger transfer with five active limits (pgbench, 8 clients, 10,000 wallets, prepared)"
bench_row "$row" "plain SQL: insert + update two balances" "$plain tps" "$on tps" "$(bench_ratio "$on" "$plain")" "≥ 0.7"
bench_row "$row" "riskguard, limits inactive" "$off tps" "$on tps" "$(bench_ratio "$on" "$off")" "reference"
# the counters agree with the ledger after the run
bad=$(rg_psql -At <<'SQL'
BEGIN;
CREATE TEMP TABLE before AS SELECT rule_id, subject, period, used FROM riskguard.limit_counter;
SELECT count(riskguard.rebuild_limit_counters(name)) FROM riskguard.limit_rule WHERE metric <> 'per_transfer' \g /dev/null
SELECT count(*) FROM (SELECT * FROM before EXCEPT SELECT rule_id, subject, period, used FROM riskguard.limit_counter) d;
ROLLBACK;
SQL
)
echo "limits bench: counters differing from a recount afterwards: $bad" >&2
rg_psql -d postgres -c 'DROP DATABASE bench_limits' >/dev/null
