#!/usr/bin/env bash
# pg_dump carries the ledger: a dump of a database with transfers, holds, a reserve
# rule and an added flow restores into a fresh database with the same balances, the
# same chain heads (so the same digest), a clean verify_ledger(), and keeps working.
set -u
. "$RG_TOP/test/lib.sh"
. "$RG_TOP/test/shell/tap.sh"

src=ledger_dump_src_$$
dst=ledger_dump_dst_$$
rg_psql -d postgres -c "CREATE DATABASE $src" -c "CREATE DATABASE $dst"
rg_psql -d "$src" -f "$RG_TOP/test/shell/ledger/tamper_setup.sql" >/dev/null
rg_psql -d "$src" -c "INSERT INTO riskguard.pool_flow VALUES ('platform', 'platform', 'capital')" \
	-c "SELECT riskguard.hold_transfer('wallet:chen', 'wallet:zhang', 1000, 'invest')" >/dev/null
q() { sql_value "$1" -d "$2"; }
state="SELECT encode(riskguard.ledger_digest(), 'hex') || ' ' ||
              (SELECT string_agg(code || '=' || posted || '/' || held, ',' ORDER BY id) FROM riskguard.account_balance) || ' ' ||
              (SELECT count(*) FROM riskguard.transfer) || ' ' ||
              (SELECT count(*) FROM riskguard.pool_flow) || ' ' ||
              (SELECT count(*) FROM riskguard.reserve_rule)"
before=$(q "$state" "$src")

"$PGBIN/pg_dump" -d "$src" >"$RG_WORK/ledger_dump.sql" 2>"$RG_WORK/ledger_dump.err"
ok "pg_dump succeeds" test -s "$RG_WORK/ledger_dump.sql"
"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$dst" -f "$RG_WORK/ledger_dump.sql" >"$RG_WORK/ledger_restore.log" 2>&1
rc=$?
is "$rc" "0" "the dump restores without errors"
[ "$rc" = 0 ] || tail -n 5 "$RG_WORK/ledger_restore.log" | sed 's/^/# /'
is "$(q "$state" "$dst")" "$before" "balances, holds, flows, rules and the digest are the same after the restore"
is "$(q "SELECT count(*) FILTER (WHERE NOT ok) FROM riskguard.verify_ledger()" "$dst")" "0" "the restored ledger verifies"
like "$(q "SELECT riskguard.post_transfer('wallet:zhang', 'wallet:chen', 500, 'invest')" "$dst")" '^[0-9]+$' \
	"and takes new transfers"
is "$(q "SELECT count(*) FILTER (WHERE NOT ok) FROM riskguard.verify_ledger()" "$dst")" "0" "which extend the restored chains"
rg_psql -d postgres -c "DROP DATABASE $src" -c "DROP DATABASE $dst"
done_testing
