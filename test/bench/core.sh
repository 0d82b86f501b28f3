#!/usr/bin/env bash
# core: the cost of a call into the riskguard library against a built-in C function,
# showing the harness's shape (pgbench, 2 clients, 10 s each).
set -eu
. "$RG_TOP/test/bench/lib.sh"

rg_psql -c 'CREATE EXTENSION IF NOT EXISTS riskguard'
tmp=$(mktemp -d)
echo 'SELECT pg_catalog.version();' >"$tmp/base.sql"
echo 'SELECT riskguard.version();' >"$tmp/rg.sql"
base=$(bench_tps "$tmp/base.sql" 2 10)
rg=$(bench_tps "$tmp/rg.sql" 2 10)
rm -rf "$tmp"
bench_row "function call" "pg_catalog.version()" "$base tps" "$rg tps" "$(bench_ratio "$rg" "$base")" "≈ 1 (harness check)"
