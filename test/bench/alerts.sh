#!/usr/bin/env bash
# alerts: the ledger benchmark (test/bench/ledger: random transfers between 10,000 client
# wallets, pgbench with 8 clients, prepared statements) with five alert rules active
# (velocity, amount_anomaly, structuring, limit_near, dormant_reactivation:
# test/bench/alerts/rules.sql) against the plain-SQL baseline that does the minimum, and
# against riskguard's own trigger without alert rules (the same rules switched off), all
# in the same run.  Each run lasts ALERTS_BENCH_SECS seconds (default 10); the runs are
# interleaved twice and the better of the two is kept.  The rules are switched off and on
# rather than deleted, so their state rows (one per rule and owner or account) persist:
# the first round with rules starts with none and creates each on a subject's first
# transfer (through the SQL upsert), the second finds them, as a deployment whose rules
# have been running does; the first round is reported on a row of its own.  Then, under
# the same load, a libpq client
# (test/bench/alerts/listen_latency.c, built here with gcc) measures how long after a
# commit its alert reaches a LISTENing connection.
set -eu
. "$RG_TOP/test/bench/lib.sh"

here=$RG_TOP/test/bench/ledger
secs=${ALERTS_BENCH_SECS:-10}
rg_psql -d postgres -c 'DROP DATABASE IF EXISTS bench_alerts' -c 'CREATE DATABASE bench_alerts' >/dev/null
export PGDATABASE=bench_alerts
rg_psql -f "$here/setup.sql" >/dev/null

best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b ? a : b) }'; }
plain=0 norules=0 rules=0 first=0
rg_psql -f "$RG_TOP/test/bench/alerts/rules.sql" >/dev/null
for round in 1 2; do
	rg_psql -c 'UPDATE riskguard.alert_rule SET active = false' >/dev/null
	plain=$(best "$plain" "$(bench_tps "$here/plain.sql" 8 "$secs" -M prepared --max-tries=20)")
	norules=$(best "$norules" "$(bench_tps "$here/riskguard.sql" 8 "$secs" -M prepared --max-tries=20)")
	rg_psql -c 'UPDATE riskguard.alert_rule SET active = true' >/dev/null
	tps=$(bench_tps "$here/riskguard.sql" 8 "$secs" -M prepared --max-tries=20)
	[ "$round" = 1 ] && first=$tps
	rules=$(best "$rules" "$tps")
done
alerts=$(rg_psql -At -c 'SELECT count(*) FROM riskguard.alert')

# LISTEN latency under the same load: 200 probe transfers that each raise an alert,
# while 8 pgbench clients write transfers with the five rules
lat_bin=$RG_WORK/listen_latency
gcc -O2 -o "$lat_bin" "$RG_TOP/test/bench/alerts/listen_latency.c" -I"$("$PGBIN_SYS/pg_config" --includedir)" \
	-L"$("$PGBIN_SYS/pg_config" --libdir)" -lpq
rg_psql -c "INSERT INTO riskguard.alert_rule (name, kind, kinds, params, likelihood, impact)
            VALUES ('bench_probe', 'velocity', '{probe}', '{\"window\": \"1 hour\", \"max_count\": 0}', 1, 1)" >/dev/null
"$PGBIN/pgbench" -n -f "$here/riskguard.sql" -c 8 -j 8 -T $((secs + 10)) -M prepared --max-tries=20 >/dev/null 2>&1 &
load=$!
sleep 2
read -r p50 p99 pmax lost < <("$lat_bin" 200 "SELECT riskguard.post_transfer('w1', 'w2', 1, 'probe')")
wait $load
echo "alerts bench: LISTEN latency over 200 probes under load: median $p50 ms, p99 $p99 ms, max $pmax ms, $lost lost" >&2
echo "alerts bench: plain $plain tps, riskguard without alert rules $norules tps, with five rules $rules tps (first round, creating the state rows: $first tps); $alerts alerts raised" >&2
row="ledger transfer with five alert rules (pgbench, 8 clients, 10,000 wallets, prepared statements)"
bench_row "$row" "plain SQL: insert + update two balances" "$plain tps" "$rules tps" "$(bench_ratio "$rules" "$plain")" "≥ 0.6"
bench_row "$row" "riskguard without alert rules" "$norules tps" "$rules tps" "$(bench_ratio "$rules" "$norules")" "reference"
bench_row "$row, first round only: every state row created on its subject's first transfer" "plain SQL: insert + update two balances" "$plain tps" "$first tps" "$(bench_ratio "$first" "$plain")" "context"
bench_row "alert delivered to a LISTENing client after the commit, p99 of 200 probes under the same load" "none (absolute time)" "median $p50 ms" "p99 $p99 ms" "n/a" "≤ 50 ms"
rg_psql -d postgres -c 'DROP DATABASE bench_alerts' >/dev/null 2>&1 || { sleep 2; rg_psql -d postgres -c 'DROP DATABASE bench_alerts' >/dev/null; }
