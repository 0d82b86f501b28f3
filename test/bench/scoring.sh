#!/usr/bin/env bash
# scoring: riskguard.score() with a 12-feature scorecard over a table of loan
# applications, against building the JSON it reads (to_jsonb of each row), and against
# the same scorecard written in PL/pgSQL (test/bench/scoring/plpgsql.sql).  Then the row
# form, riskguard.score_row('m', a), which reads the columns and builds no JSON: its
# baseline is SELECT count(a), which builds the same whole-row value that score_row
# receives, so the difference is score_row's own work; and the PL/pgSQL scorecard taking
# the row (bench_score_plpgsql_row), so that both forms are compared like for like.
#
# Rows: SCORING_ROWS (default 1000000).  Queries aggregate with count() so that the
# server's work, not shipping a million rows to psql, is measured; parallel query is
# off so that the comparison is one core against one core.  Times are the CPU time
# (user + system) of the backend running the query, median of 3 runs after a warm-up:
# wall times on a shared machine swing with other people's load, CPU time much less.
# PL/pgSQL is measured on a tenth of the rows and scaled up, to keep the run short.
set -eu
. "$RG_TOP/test/bench/lib.sh"

ROWS=${SCORING_ROWS:-1000000}
DIR=$RG_TOP/test/bench/scoring
DB=bench_scoring

rg_psql -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
rg_psql -d $DB -c 'CREATE EXTENSION riskguard' -v rows="$ROWS" -f "$DIR/setup.sql" \
	-f "$DIR/model.sql" -f "$DIR/plpgsql.sql" >/dev/null

# cpu_ms SQL [RUNS]: median CPU milliseconds of the backend running SQL
cpu_ms() {
	local sql=$1 runs=${2:-3} pid line t0 t1 i times=() hz
	hz=$(getconf CLK_TCK)
	coproc PSQL { "$PGBIN/psql" -X -q -A -t -d "$DB" 2>&1; }
	echo "SET max_parallel_workers_per_gather = 0; SELECT pg_backend_pid();" >&"${PSQL[1]}"
	read -r pid <&"${PSQL[0]}"
	for ((i = 0; i <= runs; i++)); do
		t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
		echo "$sql; SELECT 'rg-bench-done';" >&"${PSQL[1]}"
		while read -r line <&"${PSQL[0]}"; do
			[ "$line" = rg-bench-done ] && break
			case $line in *ERROR*) echo "$line" >&2; return 1 ;; esac
		done
		t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
		[ "$i" -gt 0 ] && times+=("$(( (t1 - t0) * 1000 / hz ))")
	done
	echo '\q' >&"${PSQL[1]}"
	wait "$PSQL_PID" 2>/dev/null || true
	printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

json=$(cpu_ms "SELECT count(to_jsonb(a)) FROM applications a")
score=$(cpu_ms "SELECT count(riskguard.score('m', to_jsonb(a))) FROM applications a")
tenth=$((ROWS / 10))
plpgsql_tenth=$(cpu_ms "SELECT count(bench_score_plpgsql(to_jsonb(a))) FROM (SELECT * FROM applications WHERE id <= $tenth) a" 1)
plpgsql=$((plpgsql_tenth * 10))
row=$(cpu_ms "SELECT count(a) FROM applications a")
score_row=$(cpu_ms "SELECT count(riskguard.score_row('m', a)) FROM applications a")
plpgsql_row_tenth=$(cpu_ms "SELECT count(bench_score_plpgsql_row(a)) FROM (SELECT * FROM applications WHERE id <= $tenth) a" 1)
plpgsql_row=$((plpgsql_row_tenth * 10))
wall_json=$(PGDATABASE=$DB bench_ms "SET max_parallel_workers_per_gather = 0; SELECT count(to_jsonb(a)) FROM applications a" 1)
wall_score=$(PGDATABASE=$DB bench_ms "SET max_parallel_workers_per_gather = 0; SELECT count(riskguard.score('m', to_jsonb(a))) FROM applications a" 1)

rg_psql -d postgres -c "DROP DATABASE $DB"

bench_row "score() 12-feature scorecard, $ROWS rows (CPU)" "to_jsonb(a)" "$json ms" "$score ms" \
	"$(bench_ratio "$score" "$json")" "≤ 2"
bench_row "same, wall time (noisy)" "to_jsonb(a)" "$wall_json ms" "$wall_score ms" \
	"$(bench_ratio "$wall_score" "$wall_json")" "≤ 2"
bench_row "score() against the same scorecard in PL/pgSQL, whole query (CPU)" "PL/pgSQL" "$plpgsql ms" \
	"$score ms" "$(bench_ratio "$plpgsql" "$score") × faster" "≥ 10 × faster"
bench_row "same, scoring only (each query's time less to_jsonb's)" "PL/pgSQL" "$((plpgsql - json)) ms" \
	"$((score - json)) ms" "$(bench_ratio "$((plpgsql - json))" "$((score - json))") × faster" "≥ 10 × faster"
bench_row "score_row() 12-feature scorecard, $ROWS rows (CPU)" "count(a): building the row it reads" "$row ms" \
	"$score_row ms" "$(bench_ratio "$score_row" "$row")" "(no target)"
bench_row "score_row() against the same scorecard in PL/pgSQL taking the row, whole query (CPU)" "PL/pgSQL" \
	"$plpgsql_row ms" "$score_row ms" "$(bench_ratio "$plpgsql_row" "$score_row") × faster" "≥ 10 × faster"
