# test/bench/lib.sh: helpers for benchmarks (sourced by test/bench/*.sh).
#
# A benchmark measures riskguard against a baseline in the same run and prints one
# markdown row per comparison with bench_row.  Absolute numbers are noted; the ratio
# is the result.  Benchmarks never fail on speed: they report.

. "$RG_TOP/test/lib.sh"

# bench_tps SCRIPT CLIENTS SECONDS [pgbench args...]: transactions per second
bench_tps() {
	local script=$1 clients=$2 secs=$3; shift 3
	"$PGBIN/pgbench" -n -f "$script" -c "$clients" -j "$clients" -T "$secs" "$@" 2>&1 \
		| sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | tail -n 1 | xargs printf '%.0f\n'
}

# bench_ms "SQL" [RUNS]: the median wall time of a statement in ms, over RUNS runs
# (default 5) after one warm-up run
bench_ms() {
	local sql=$1 runs=${2:-5} i t times=()
	rg_psql -c "$sql" >/dev/null
	for ((i = 0; i < runs; i++)); do
		t=$( { echo '\timing on'; echo "$sql"; } | "$PGBIN/psql" -X -q -o /dev/null 2>&1 \
			| sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 1)
		times+=("$t")
	done
	printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

# bench_ratio A B: A / B to two decimals
bench_ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f\n", a / b }'
}

# bench_row NAME BASELINE BASELINE_VALUE RISKGUARD_VALUE RATIO TARGET
bench_row() {
	printf '| %s | %s | %s | %s | %s | %s |\n' "$@"
}
