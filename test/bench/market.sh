#!/usr/bin/env bash
# market: exact historical VaR and ES against PostgreSQL's percentile_cont (and the SQL
# that computes ES from it) over 10,000,000 returns, serial and with 2 parallel workers;
# the moment aggregates (Gaussian and Cornish-Fisher VaR) against stddev_pop.
#
# Speed-up = baseline time / riskguard time (target >= 2 for the historical aggregates);
# time ratio = riskguard time / stddev_pop time (target <= 1.5 for the moment aggregates).
# Medians of 3 runs after a warm-up.  Times on a shared machine are noisy; the ratios are
# the result.  Setup (10M rows) takes about 15 s, the whole benchmark about a minute
# (longer when the machine is busy).  MARKET_BENCH_ROWS=n changes the size.
set -eu
. "$RG_TOP/test/bench/lib.sh"

ROWS=${MARKET_BENCH_ROWS:-10000000}
RUNS=3

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
cn=$(bench_ms "$serial SELECT count(r) FROM bench_returns" $RUNS)
cp=$(bench_ms "$parallel SELECT count(r) FROM bench_returns" $RUNS)
bench_row "count(r), $rows rows, 2 workers (machine check)" "count(r), serial" "$cn ms" "$cp ms" \
	"$(bench_ratio "$cn" "$cp")" "speed-up the machine allows"

pc=$(bench_ms "$serial SELECT percentile_cont(0.01) WITHIN GROUP (ORDER BY r) FROM bench_returns" $RUNS)
vs=$(bench_ms "$serial SELECT riskguard.var_historical(r, 0.99) FROM bench_returns" $RUNS)
vp=$(bench_ms "$parallel SELECT riskguard.var_historical(r, 0.99) FROM bench_returns" $RUNS)
bench_row "var_historical, $rows returns, serial" "percentile_cont(0.01)" "$pc ms" "$vs ms" \
	"$(bench_ratio "$pc" "$vs")" "speed-up >= 2"
bench_row "var_historical, $rows returns, 2 workers" "percentile_cont(0.01)" "$pc ms" "$vp ms" \
	"$(bench_ratio "$pc" "$vp")" "speed-up > serial's"

esq="SELECT -avg(r) FROM bench_returns WHERE r < (SELECT percentile_cont(0.01) WITHIN GROUP (ORDER BY r) FROM bench_returns)"
eb=$(bench_ms "$serial $esq" $RUNS)
es=$(bench_ms "$serial SELECT riskguard.es_historical(r, 0.99) FROM bench_returns" $RUNS)
ep=$(bench_ms "$parallel SELECT riskguard.es_historical(r, 0.99) FROM bench_returns" $RUNS)
bench_row "es_historical, $rows returns, serial" "-avg(r) below percentile_cont" "$eb ms" "$es ms" \
	"$(bench_ratio "$eb" "$es")" "speed-up >= 2"
bench_row "es_historical, $rows returns, 2 workers" "-avg(r) below percentile_cont" "$eb ms" "$ep ms" \
	"$(bench_ratio "$eb" "$ep")" "speed-up > serial's"

sd=$(bench_ms "$serial SELECT stddev_pop(r) FROM bench_returns" $RUNS)
gs=$(bench_ms "$serial SELECT riskguard.var_gaussian(r, 0.99) FROM bench_returns" $RUNS)
cs=$(bench_ms "$serial SELECT riskguard.var_cornish_fisher(r, 0.99) FROM bench_returns" $RUNS)
bench_row "var_gaussian, $rows returns, serial" "stddev_pop(r)" "$sd ms" "$gs ms" \
	"$(bench_ratio "$gs" "$sd")" "time ratio <= 1.5"
bench_row "var_cornish_fisher, $rows returns, serial" "stddev_pop(r)" "$sd ms" "$cs ms" \
	"$(bench_ratio "$cs" "$sd")" "time ratio <= 1.5"
sdp=$(bench_ms "$parallel SELECT stddev_pop(r) FROM bench_returns" $RUNS)
csp=$(bench_ms "$parallel SELECT riskguard.var_cornish_fisher(r, 0.99) FROM bench_returns" $RUNS)
bench_row "var_cornish_fisher, $rows returns, 2 workers" "stddev_pop(r), 2 workers" "$sdp ms" "$csp ms" \
	"$(bench_ratio "$csp" "$sdp")" "time ratio <= 1.5"

rg_psql -c 'DROP TABLE bench_returns'
