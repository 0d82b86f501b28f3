#!/usr/bin/env bash
# Memory safety of the server side: a small cluster whose postmaster, and so every
# backend it forks, runs under valgrind's memcheck, runs the demo acts (test/demo/*.sql:
# every capability on realistic data).  Any memcheck error in any process fails it;
# test/fuzz/valgrind.supp silences PostgreSQL's own known reports (uninitialised padding
# written to WAL and to the relcache init file), never one with riskguard in its stack.
# JIT is off: loading the LLVM provider trips a known false report inside ld.so.  Run by
# `make stress` (test/run stress exports PGBIN, RG_TOP, RG_WORK and RG_KEYFILE).
set -u
. "$RG_TOP/test/lib.sh"
. "$RG_TOP/test/shell/tap.sh"

if ! command -v valgrind >/dev/null; then
	if [ "$(id -u)" = 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null 2>&1
	fi
	command -v valgrind >/dev/null || { echo "not ok 1 - valgrind is installed (apt-get install valgrind)"; exit 1; }
fi

dir=$RG_WORK/valgrind
mkdir -p "$dir/vg"
[ "$(id -u)" = 0 ] && chown postgres "$dir/vg"
rg_cluster_init "$dir" "shared_preload_libraries = 'riskguard'" \
	"riskguard.root_key_file = '$RG_KEYFILE'" "max_connections = 10" "shared_buffers = 32MB" \
	"max_parallel_workers_per_gather = 0" "autovacuum = off" "jit = off"

rg_as_server_user valgrind --tool=memcheck --trace-children=yes --error-limit=no \
	--leak-check=no --num-callers=40 --read-inline-info=yes \
	--suppressions="$RG_TOP/test/fuzz/valgrind.supp" --gen-suppressions=all \
	--log-file="$dir/vg/%p.log" \
	"$PGBIN/$([ -e "$PGBIN/postgres.bin" ] && echo postgres.bin || echo postgres)" -D "$PGDATA" >"$dir/server.log" 2>&1 &
started=0
for _ in $(seq 1 240); do
	if "$PGBIN/pg_isready" -q; then started=1; break; fi
	sleep 1
done
ok "the postmaster starts under valgrind" test "$started" = 1

start=$(date +%s)
rc=0
rg_psql -d postgres -c 'CREATE DATABASE demo' && (
	cd "$RG_TOP"
	for f in test/demo/*.sql; do
		"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -P pager=off -d demo -f "$f" || exit 1
	done
) >"$dir/demo.out" 2>&1 || rc=$?
is "$rc" "0" "the demo acts run under valgrind ($(($(date +%s) - start))s)"
[ "$rc" -eq 0 ] || tail -n 20 "$dir/demo.out" | sed 's/^/#   /'

rg_cluster_stop "$dir"
for _ in $(seq 1 60); do
	pgrep -u "$(if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi)" -f "valgrind.*$PGDATA" \
		>/dev/null || break
	sleep 1
done

procs=$(ls "$dir"/vg/*.log 2>/dev/null | wc -l)
errors=$(cat "$dir"/vg/*.log 2>/dev/null | sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' \
	| awk '{ s += $1 } END { print s + 0 }')
ours=$(cat "$dir"/vg/*.log 2>/dev/null | grep -c 'riskguard\.so)')
echo "# valgrind: $procs processes checked, $errors errors, $ours stack frames in riskguard.so"
ok "valgrind checked the backends (more than the postmaster)" test "$procs" -gt 2
is "$errors" "0" "memcheck reports no error in any process"
if [ "$errors" != 0 ]; then
	grep -h -B2 -A25 -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall|Mismatched|Source and)' \
		"$dir"/vg/*.log | head -n 120 | sed 's/^/#   /'
fi
done_testing
