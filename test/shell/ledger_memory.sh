#!/usr/bin/env bash
# Memory does not grow with the number of transfers in a session: one connection posts
# 500 transfers to warm its caches, measures its memory contexts, posts 4,000 more (each
# in its own transaction, with holds, completions and reserve provisions among them)
# and measures again.
set -u
. "$RG_TOP/test/lib.sh"
. "$RG_TOP/test/shell/tap.sh"

db=ledger_mem_$$
rg_psql -d postgres -c "CREATE DATABASE $db"
out=$("$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$db" <<'SQL' 2>&1
CREATE EXTENSION riskguard;
SELECT count(riskguard.open_account(c, p::riskguard.fund_pool, NULL, NULL, 'CNY', s))
  FROM (VALUES ('custody', 'client', 'debit'), ('a', 'client', 'credit'), ('b', 'client', 'credit'),
               ('expense', 'platform', 'debit'), ('reserve', 'reserve', 'credit')) v(c, p, s) \g /dev/null
INSERT INTO riskguard.reserve_rule VALUES ('invest', 30, 4, 5);
SELECT riskguard.post_transfer('custody', w, 1000000000, 'deposit') FROM unnest(ARRAY['a', 'b']) w \g /dev/null
-- statements run one by one, each in its own transaction
CREATE TEMP TABLE steps AS
SELECT i, CASE i % 4
            WHEN 0 THEN format('SELECT riskguard.post_transfer(%L, %L, %s, %L)', 'a', 'b', 100 + i % 97, 'invest')
            WHEN 1 THEN format('SELECT riskguard.post_transfer(%L, %L, %s, %L, %L, %L)', 'b', 'a', 50 + i % 31, 'repay_principal', 'loan ' || i, 'k' || i)
            WHEN 2 THEN format('SELECT riskguard.post_pending(riskguard.hold_transfer(%L, %L, %s, %L), %s)', 'a', 'b', 300, 'invest', 200)
            ELSE format('SELECT riskguard.void_pending(riskguard.hold_transfer(%L, %L, %s, %L))', 'a', 'b', 70, 'withdrawal')
          END AS stmt
  FROM generate_series(1, 4500) i;
SELECT stmt FROM steps WHERE i <= 500 ORDER BY i \gexec
SELECT 'm1=' || sum(total_bytes) FROM pg_backend_memory_contexts;
SELECT stmt FROM steps WHERE i > 500 ORDER BY i \gexec
SELECT 'm2=' || sum(total_bytes) FROM pg_backend_memory_contexts;
SELECT 'transfers=' || count(*) FROM riskguard.transfer;
SELECT 'bad=' || count(*) FILTER (WHERE NOT ok) FROM riskguard.verify_ledger();
SQL
)
printf '%s\n' "$out" | grep -vE '^([0-9]+|[a-z0-9]+=[0-9]+)$' | sed 's/^/# /' | head -n 5
val() { printf '%s\n' "$out" | sed -n "s/^$1=//p"; }
m1=$(val m1) m2=$(val m2) transfers=$(val transfers) bad=$(val bad)
echo "# memory after 500 transfers: $m1 bytes; after 4,500: $m2 bytes; $transfers transfer rows"
like "${transfers:-0}" '^[0-9]{4,}$' "the session posted thousands of transfers ($transfers rows)"
ok "memory grew by less than 256 kB over 4,000 more transfers ($m1 -> $m2)" \
	test "$(( ${m2:-999999999} - ${m1:-0} ))" -lt 262144
is "${bad:-x}" "0" "and the ledger verifies"
rg_psql -d postgres -c "DROP DATABASE $db"
done_testing
