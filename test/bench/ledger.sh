#!/usr/bin/env bash
# ledger: random transfers between 10,000 client wallets, pgbench with 8 clients,
# riskguard's C trigger (every rule on: validity, segregation, balance constraints, a
# reserve rule lookup, chain hashes) against a plain-SQL baseline that does the minimum
# (one statement: insert the transfer, update two balances) and against the same rules
# in PL/pgSQL (test/bench/ledger/plpgsql.sql); a bare INSERT into a table without
# triggers or balances shows the floor every variant pays (parse, insert, commit,
# round trip).  Measured with prepared statements (as an application would send them)
# and with the simple protocol.  Each run lasts LEDGER_BENCH_SECS seconds (default 10);
# the runs are interleaved twice and the better of the two is kept.
set -eu
. "$RG_TOP/test/bench/lib.sh"

here=$RG_TOP/test/bench/ledger
secs=${LEDGER_BENCH_SECS:-10}
rg_psql -d postgres -c 'DROP DATABASE IF EXISTS bench_ledger' -c 'CREATE DATABASE bench_ledger' >/dev/null
export PGDATABASE=bench_ledger
rg_psql -f "$here/setup.sql" >/dev/null
rg_psql -f "$here/plpgsql.sql" >/dev/null

best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b ? a : b) }'; }
row="ledger transfer (pgbench, 8 clients, 10,000 wallets"
for mode in prepared simple; do
	plain=0 rg=0 pl=0 bare=0
	for round in 1 2; do
		plain=$(best "$plain" "$(bench_tps "$here/plain.sql" 8 "$secs" -M $mode --max-tries=20)")
		rg=$(best "$rg" "$(bench_tps "$here/riskguard.sql" 8 "$secs" -M $mode --max-tries=20)")
		pl=$(best "$pl" "$(bench_tps "$here/plpgsql_run.sql" 8 "$secs" -M $mode --max-tries=20)")
		bare=$(best "$bare" "$(bench_tps "$here/bare.sql" 8 "$secs" -M $mode)")
	done
	echo "ledger bench ($mode): bare insert $bare tps, plain $plain tps, riskguard $rg tps, plpgsql $pl tps" >&2
	bench_row "$row, $mode protocol)" "plain SQL: insert + update two balances" "$plain tps" "$rg tps" "$(bench_ratio "$rg" "$plain")" "≥ 0.8"
	bench_row "$row, $mode protocol)" "the same rules in PL/pgSQL" "$pl tps" "$rg tps" "$(bench_ratio "$rg" "$pl")" "≥ 3"
	bench_row "$row, $mode protocol)" "bare INSERT, no rules, no balances (the floor)" "$bare tps" "$rg tps" "$(bench_ratio "$rg" "$bare")" "reference"
done
bad=$(rg_psql -At -c 'SELECT count(*) FILTER (WHERE NOT ok) FROM riskguard.verify_ledger()')
echo "ledger bench: accounts failing verify_ledger afterwards: $bad" >&2
rg_psql -d postgres -c 'DROP DATABASE bench_ledger' >/dev/null
