#!/usr/bin/env bash
# market: exact historical VaR and ES against PostgreSQL's percentile_cont (and the SQL
# that computes ES from it) over 10,000,000 returns, serial and with 2 parallel workers;
# the moment aggregates (Gaussian and Cornish-Fisher VaR) against stddev_pop.
#
# Speed-up = baseline time / riskguard time (target >= 2 for the historical aggregates);
# time ratio = riskguard time / stddev_pop time (target <= 1.5 for the moment aggregates).
# Times on a shared machine are noisy; the ratios are the result.  Baseline and
# riskguard statements run alternately (medians of 3 runs after a warm-up of each), so
# the load of a shared machine falls on both alike.  Setup
# (10M rows) takes about 15 s, the whole benchmark about a minute and a half (longer when
# the machine is busy).  MARKET_BENCH_ROWS=n changes the size.
set -eu
. "$RG_TOP/test/bench/lib.sh"

ROWS=${MARKET_BENCH_ROWS:-10000000}
RUNS=3

# one timed run of a statement, in ms
once_ms() {
	{ echo '\timing on'; echo "$1"; } | "$PGBIN/psql" -X -q -o /dev/null 2>&1 \
		| sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 1
}

# pair_ms "SQL A" "SQL B" RUNS: medians of A and B, run alternately after a warm-up of
# each, so that the load of a shared machine falls on both alike
pair_ms() {
	local i a=() b=()
	once_ms "$1" >/dev/null
	once_ms "$2" >/dev/null
	for ((i = 0; i < $3; i++)); do
		a+=("$(once_ms "$1")")
		b+=("$(once_ms "$2")")
	done
	echo "$(printf '%s\n' "${a[@]}" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')" \
		"$(printf '%s\n' "${b[@]}" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')"
}

rg_psql -c 'CREATE EXTENSION IF NOT EXISTS riskguard'
rg_psql -c 'DROP TABLE IF EXISTS bench_returns'
rg_psql -c 'CREATE UNLOGGED TABLE bench_returns (r float8)'
rg_psql -c "SELECT setseed(0.5); INSERT INTO bench_returns
            SELECT 0.01 * (random() - 0.5) / (0.05 + random()) FROM generate_series(1, $ROWS)" >/dev/null
rg_psql -c 'VACUUM ANALYZE bench_returns'

serial='SET max_parallel_workers_per_gather = 0;'
parallel='SET max_parallel_workers_per_gather = 2;'
rows=$(printf "%'d" "$ROWS" 2>/dev/null || echo "$ROWS")

# the answers agree before anything is timed
check=$(rg_psql -At -c "$serial SELECT abs(riskguard.var_historical(r, 0.99) + percentile_cont(0.01) WITHIN GROUP (ORDER BY r)) <= 1e-12 * abs(percentile_cont(0.01) WITHIN GROUP (ORDER BY r)) FROM bench_returns")
[ "$check" = t ] || echo "market: var_historical differs from percentile_cont" >&2

# how much two workers can gain on this machine at all
read -r cn cp < <(pair_ms "$serial SELECT count(r) FROM bench_returns" "$parallel SELECT count(r) FROM bench_returns" $RUNS)
bench_row "count(r), $rows rows, 2 workers (machine check)" "count(r), serial" "$cn ms" "$cp ms" \
	"$(bench_ratio "$cn" "$cp")" "speed-up the machine allows"

pcq="$serial SELECT percentile_cont(0.01) WITHIN GROUP (ORDER BY r) FROM bench_returns"
read -r pc vs < <(pair_ms "$pcq" "$serial SELECT riskguard.var_historical(r, 0.99) FROM bench_returns" $RUNS)
read -r pc2 vp < <(pair_ms "$pcq" "$parallel SELECT riskguard.var_historical(r, 0.99) FROM bench_returns" $RUNS)
bench_row "var_historical, $rows returns, serial" "percentile_cont(0.01)" "$pc ms" "$vs ms" \
	"$(bench_ratio "$pc" "$vs")" "speed-up >= 2"
bench_row "var_historical, $rows returns, 2 workers" "percentile_cont(0.01)" "$pc2 ms" "$vp ms" \
	"$(bench_ratio "$pc2" "$vp")" "speed-up > serial's"

esq="$serial SELECT -avg(r) FROM bench_returns WHERE r < (SELECT percentile_cont(0.01) WITHIN GROUP (ORDER BY r) FROM bench_returns)"
read -r eb es < <(pair_ms "$esq" "$serial SELECT riskguard.es_historical(r, 0.99) FROM bench_returns" $RUNS)
read -r eb2 ep < <(pair_ms "$esq" "$parallel SELECT riskguard.es_historical(r, 0.99) FROM bench_returns" $RUNS)
bench_row "es_historical, $rows returns, serial" "-avg(r) below percentile_cont" "$eb ms" "$es ms" \
	"$(bench_ratio "$eb" "$es")" "speed-up >= 2"
bench_row "es_historical, $rows returns, 2 workers" "-avg(r) below percentile_cont" "$eb2 ms" "$ep ms" \
	"$(bench_ratio "$eb2" "$ep")" "speed-up > serial's"

sdq="$serial SELECT stddev_pop(r) FROM bench_returns"
read -r sd gs < <(pair_ms "$sdq" "$serial SELECT riskguard.var_gaussian(r, 0.99) FROM bench_returns" $RUNS)
bench_row "var_gaussian, $rows returns, serial" "stddev_pop(r)" "$sd ms" "$gs ms" \
	"$(bench_ratio "$gs" "$sd")" "time ratio <= 1.5"
read -r sd2 cs < <(pair_ms "$sdq" "$serial SELECT riskguard.var_cornish_fisher(r, 0.99) FROM bench_returns" $RUNS)
bench_row "var_cornish_fisher, $rows returns, serial" "stddev_pop(r)" "$sd2 ms" "$cs ms" \
	"$(bench_ratio "$cs" "$sd2")" "time ratio <= 1.5"
read -r sdp csp < <(pair_ms "$parallel SELECT stddev_pop(r) FROM bench_returns" \
	"$parallel SELECT riskguard.var_cornish_fisher(r, 0.99) FROM bench_returns" $RUNS)
bench_row "var_cornish_fisher, $rows returns, 2 workers" "stddev_pop(r), 2 workers" "$sdp ms" "$csp ms" \
	"$(bench_ratio "$csp" "$sdp")" "time ratio <= 1.5"

rg_psql -c 'DROP TABLE bench_returns'
