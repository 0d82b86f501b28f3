#!/usr/bin/env bash
# The transfer trigger finds account and limit-counter rows from the positions it
# recorded (src/rowcache.c) instead of descending their indexes each time.  Those
# positions are hints: they must stop being used when the row moves, when VACUUM
# truncates the table under them, and when another row takes their place, and the
# lookups must then go through the index again.  Run against the preloaded cluster
# (shared table) and against one without shared_preload_libraries (per-backend table).
set -u
. "$RG_TOP/test/lib.sh"
. "$RG_TOP/test/shell/tap.sh"

db=row_positions
setup() {
	rg_psql -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
	rg_psql -d $db >/dev/null <<'SQL'
CREATE EXTENSION riskguard;
SELECT riskguard.open_account('custody', 'client', NULL, NULL, 'CNY', 'debit');
SELECT count(riskguard.open_account('o' || i, 'client', 'o' || i, 'individual', 'CNY'))
  FROM generate_series(1, 300) i;
SELECT count(riskguard.open_account('p' || i, 'client', 'p' || i, 'individual', 'CNY'))
  FROM generate_series(1, 150) i;
INSERT INTO riskguard.transfer (debit_account, credit_account, amount, kind)
SELECT 1, id, 1000000, 'deposit' FROM riskguard.account WHERE id > 1;
INSERT INTO riskguard.limit_rule (name, subject, kinds, direction, metric, threshold, currency, action)
VALUES ('pays_per_day', 'owner', '{pay}', 'outflow', 'daily_count', 1000, 'CNY', 'reject');
-- one payment from each of the owners whose name starts with prefix, to the custody account's
-- neighbour (the next wallet), each its own statement as an application would send them
CREATE FUNCTION pay_all(prefix text, n int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1 .. n LOOP
    INSERT INTO riskguard.transfer (debit_account, credit_account, amount, kind)
    SELECT a.id, b.id, 10, 'pay' FROM riskguard.account a, riskguard.account b
     WHERE a.code = prefix || i AND b.code = prefix || (i % n + 1);
  END LOOP;
END $$;
SQL
}

# counts of the owners whose name starts with $1 by daily count, as "count:owners ..."
counts() {
	sql_value "SELECT string_agg(transfers || ':' || k, ' ' ORDER BY transfers) FROM (SELECT transfers, count(*) AS k FROM riskguard.limit_counter WHERE subject LIKE '$1%' GROUP BY transfers) s" -d $db
}

idx_scans() {
	sql_value "SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = '$1'" -d $db
}

scenario() {
	local where=$1 scans first afirst second asecond
	setup
	# the first payments create the counters, the second find them through the index
	# and record where; a new session's payments use the recorded positions (in shared
	# memory), or with a per-backend table those after the session's first
	rg_psql -d $db -c "SELECT pay_all('o', 300)" -c "SELECT pay_all('o', 300)" >/dev/null
	scans=$(sql_value "BEGIN; SELECT pay_all('o', 300); SELECT pg_stat_get_xact_numscans('riskguard.limit_counter_pkey'::regclass), pg_stat_get_xact_numscans('riskguard.account_pkey'::regclass); SELECT pay_all('o', 300); SELECT pg_stat_get_xact_numscans('riskguard.limit_counter_pkey'::regclass), pg_stat_get_xact_numscans('riskguard.account_pkey'::regclass); COMMIT;" -d $db | tr '\n|' '  ')
	echo "# counter and account index scans in a new session after 300 payments, after 600: $scans"
	read -r first afirst second asecond <<<"$scans"
	is "$(counts o)" "4:300" "$where: 1,200 payments counted, four for each of 300 owners"
	if [ "$where" = shared ]; then
		ok "$where: payments from a new session find their counters without the index" \
			test "$second" -lt 30
		ok "$where: and their accounts" test "$asecond" -lt 30
	else
		ok "$where: the session's first payments find their counters through the index" \
			test "$first" -ge 270
		ok "$where: its second payments find them without the index" \
			test $((second - first)) -lt 30
		ok "$where: and their accounts" test $((asecond - afirst)) -lt 30
	fi
	is "$(sql_value "SELECT (sum(debits_posted) = sum(credits_posted))::text FROM riskguard.account" -d $db)" "true" \
		"$where: the ledger balances"

	# VACUUM truncates the emptied counter table under the recorded positions
	rg_psql -d $db -c "DELETE FROM riskguard.limit_counter" -c "VACUUM riskguard.limit_counter" >/dev/null
	is "$(sql_value "SELECT pg_relation_size('riskguard.limit_counter')" -d $db)" "0" \
		"$where: the counter table is truncated to nothing"
	is "$(sql_error "SELECT pay_all('o', 300); SELECT pay_all('o', 300)" -d $db)" "no error" \
		"$where: payments after the truncation find no stale row and raise no error"
	is "$(counts o)" "2:300" "$where: their counters start again from the truncation"

	# the first half's rows are removed and their space taken by other owners' rows
	rg_psql -d $db -c "DELETE FROM riskguard.limit_counter WHERE subject IN (SELECT 'o' || i FROM generate_series(1, 150) i)" \
		-c "VACUUM riskguard.limit_counter" -c "SELECT pay_all('p', 150)" >/dev/null
	rg_psql -d $db -c "SELECT pay_all('o', 300)" >/dev/null
	is "$(counts p)" "1:150" "$where: the owners that took the freed space have one payment each"
	is "$(counts o)" "1:150 3:150" \
		"$where: the removed owners start from one, the others count on: no counter was taken for another's"

	# rows that move: a full rewrite gives every account and counter a new position
	rg_psql -d $db -c "VACUUM FULL riskguard.account" -c "VACUUM FULL riskguard.limit_counter" >/dev/null
	rg_psql -d $db -c "SELECT pay_all('o', 300)" >/dev/null
	is "$(counts o)" "2:150 4:150" "$where: after VACUUM FULL the payments count on the moved rows"
	is "$(sql_value "SELECT count(*) FROM riskguard.verify_ledger() WHERE NOT ok" -d $db)" "0" \
		"$where: every account's chain verifies"
	rg_psql -d postgres -c "DROP DATABASE $db" >/dev/null
}

scenario shared

# a table created in the transaction is truncated in place, keeping its file: positions
# recorded and used before the TRUNCATE must not be read past the new end
rg_psql -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
setup_sql=$(declare -f setup | sed -n "/<<'SQL'/,/^SQL/p" | sed '1d;$d')
is "$(sql_error "BEGIN; $setup_sql
SELECT pay_all('o', 300); SELECT pay_all('o', 300); SELECT pay_all('o', 300);
TRUNCATE riskguard.limit_counter;
SELECT pay_all('o', 300); SELECT pay_all('o', 300);
COMMIT;" -d $db)" "no error" "payments after an in-place TRUNCATE in the same transaction raise no error"
is "$(counts o)" "2:300" "and count from the truncation"
rg_psql -d postgres -c "DROP DATABASE $db" >/dev/null

# rows updated in place on one page, each transfer its own transaction: the trigger
# takes each account's newest version from its recorded offset and prunes the page only
# when less than a tenth of it is free; every update must still stay on the page
# (heap-only), so the page is pruned in time, and every balance must come out right
rg_psql -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
rg_psql -d $db >/dev/null <<'SQL'
CREATE EXTENSION riskguard;
SELECT riskguard.open_account('custody', 'client', NULL, NULL, 'CNY', 'debit');
SELECT count(riskguard.open_account('h' || i, 'client', 'h' || i, 'individual', 'CNY'))
  FROM generate_series(1, 20) i;
SQL
rg_psql -d $db -c "SELECT pg_stat_reset()" >/dev/null
for i in $(seq 1 20); do echo "SELECT riskguard.post_transfer('custody', 'h$i', 100000, 'deposit');"; done |
	rg_psql -d $db >/dev/null
for r in $(seq 1 150); do
	for i in $(seq 1 20); do echo "SELECT riskguard.post_transfer('h$i', 'h$(( i % 20 + 1 ))', $i, 'pay');"; done
done | rg_psql -d $db >/dev/null
# (a snapshot held elsewhere for a moment may force an update off the page: a few may)
is "$(sql_value "SELECT pg_relation_size('riskguard.account') / current_setting('block_size')::int <= 2" -d $db)" "t" \
	"3,020 transfers among 21 accounts leave them on their page"
is "$(sql_value "SELECT n_tup_upd || ' ' || (n_tup_hot_upd >= 6000) FROM pg_stat_user_tables WHERE relid = 'riskguard.account'::regclass" -d $db)" \
	"6040 true" "6,040 account updates, nearly all of them heap-only"
expect="102850$(printf ' 99850%.0s' $(seq 1 19))"
is "$(sql_value "SELECT string_agg(posted::text, ' ' ORDER BY id) FROM riskguard.account_balance WHERE code LIKE 'h%'" -d $db)" \
	"$expect" "every balance is its deposit and the payments it made and received"
is "$(sql_value "SELECT count(*) FROM riskguard.verify_ledger() WHERE NOT ok" -d $db)" "0" \
	"every account's chain verifies"
rg_psql -d postgres -c "DROP DATABASE $db" >/dev/null

alt=$RG_WORK/row_positions_nopreload
rm -rf "$alt"
rg_cluster_init "$alt" >/dev/null && rg_cluster_start "$alt" >/dev/null
scenario "per-backend"
rg_as_server_user "$PGBIN/pg_ctl" -D "$alt/data" -m fast stop >/dev/null
rm -rf "$alt"

done_testing
