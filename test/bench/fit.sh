#!/usr/bin/env bash
# fit: riskguard.fit_logistic on 1,000,000 rows x 10 features against one full scan that
# reads the same columns and builds the same arrays, and with two parallel workers
# against none.  Targets (issue 6): under 4 x the scan; parallel faster than serial.
set -eu
. "$RG_TOP/test/bench/lib.sh"

ROWS=${FIT_BENCH_ROWS:-1000000}
rg_psql -c 'CREATE EXTENSION IF NOT EXISTS riskguard'
rg_psql <<SQL
DROP TABLE IF EXISTS fit_bench;
CREATE TABLE fit_bench AS
SELECT f1, f2, f3, f4, f5, f6, f7, f8, f9, f10,
       random() < 1 / (1 + exp(-(-2 + 0.8 * f1 - 0.5 * f2 + 0.3 * f3 + 0.2 * f4 - 0.1 * f5 + 0.05 * f6))) AS bad
  FROM (SELECT random() AS f1, random() * 2 AS f2, random() AS f3, random() AS f4, random() AS f5,
               random() AS f6, random() AS f7, random() AS f8, random() AS f9, random() AS f10
          FROM generate_series(1, $ROWS)) s;
VACUUM ANALYZE fit_bench;
SQL

X='ARRAY[f1, f2, f3, f4, f5, f6, f7, f8, f9, f10]'
serial='SET max_parallel_workers_per_gather = 0;'
parallel='SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;'

# The three statements run interleaved, 7 rounds after a warm-up, and each reports its
# median, so a burst of load from other users of a shared machine hits all of them alike.
once() {
	{ echo '\timing on'; echo "$1"; } | "$PGBIN/psql" -X -q -o /dev/null 2>&1 \
		| sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 1
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
q_scan="$serial SELECT sum(cardinality($X)), count(bad) FROM fit_bench"
q_fit="$serial SELECT (riskguard.fit_logistic(bad, $X)).converged FROM fit_bench"
q_fit2="$parallel SELECT (riskguard.fit_logistic(bad, $X)).converged FROM fit_bench"
once "$q_scan" >/dev/null; once "$q_fit" >/dev/null; once "$q_fit2" >/dev/null
ts=(); tf=(); tp=()
for _ in 1 2 3 4 5 6 7; do
	ts+=("$(once "$q_scan")"); tf+=("$(once "$q_fit")"); tp+=("$(once "$q_fit2")")
done
scan=$(median "${ts[@]}"); fit=$(median "${tf[@]}"); fit2=$(median "${tp[@]}")
rg_psql -c 'DROP TABLE fit_bench'

bench_row "fit_logistic, $ROWS rows x 10 features" "scan building the same arrays" "$scan ms" "$fit ms" \
	"$(bench_ratio "$fit" "$scan")" "< 4"
bench_row "fit_logistic, 2 parallel workers" "fit_logistic, no workers" "$fit ms" "$fit2 ms" \
	"$(bench_ratio "$fit2" "$fit")" "< 1"
