#!/usr/bin/env bash
# 16 clients hammer one borrower's outstanding cap at once.  The cap must hold: the
# counter never passes the threshold and equals the sum of the committed loans, and
# every refusal is RG001.
set -u
. "$RG_TOP/test/lib.sh"
. "$RG_TOP/test/shell/tap.sh"

db=limits_concurrency
rg_psql -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
export PGDATABASE=$db

rg_psql <<'SQL'
CREATE EXTENSION riskguard;
CREATE ROLE lc_maker;   GRANT riskguard_admin TO lc_maker;
CREATE ROLE lc_checker; GRANT riskguard_approver TO lc_checker;
SELECT riskguard.open_account('custody', 'client', NULL, NULL, 'CNY', 'debit', false);
SELECT riskguard.open_account('investor', 'client', 'wang', 'individual', 'CNY');
SELECT riskguard.open_account('borrower', 'client', 'zhao', 'individual', 'CNY');
SELECT riskguard.post_transfer('custody', 'investor', 1000000000, 'deposit');
SET SESSION AUTHORIZATION lc_maker;
SELECT riskguard.apply_preset('cn_p2p_2016');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION lc_checker;
SELECT riskguard.approve_change(id) FROM riskguard.change_request WHERE status = 'proposed';
RESET SESSION AUTHORIZATION;
-- one attempt: a loan of CNY 1,000-9,000; RG001 is counted, anything else fails the run
CREATE TABLE attempt_log (ok boolean, sqlstate text);
CREATE FUNCTION try_loan() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM riskguard.post_transfer('investor', 'borrower', (100000 * (1 + floor(random() * 9)))::bigint, 'disburse');
  INSERT INTO attempt_log VALUES (true, NULL);
EXCEPTION WHEN SQLSTATE 'RG001' THEN
  INSERT INTO attempt_log VALUES (false, 'RG001');
END $$;
SQL

script=$RG_WORK/limits_concurrency.sql
echo 'SELECT try_loan();' >"$script"
out=$("$PGBIN/pgbench" -n -f "$script" -c 16 -j 4 -t 40 2>&1)
rc=$?
is "$rc" "0" "16 clients x 40 loan attempts run without a client error"

threshold=20000000
used=$(sql_value "SELECT used FROM riskguard.limit_counter c JOIN riskguard.limit_rule r ON r.id = c.rule_id WHERE r.name = 'cn_p2p_2016_individual_outstanding' AND c.subject = 'zhao'")
committed=$(sql_value "SELECT coalesce(sum(amount), 0) FROM riskguard.transfer WHERE kind = 'disburse' AND credit_account = (SELECT id FROM riskguard.account WHERE code = 'borrower')")
refused=$(sql_value "SELECT count(*) FROM attempt_log WHERE NOT ok")
accepted=$(sql_value "SELECT count(*) FROM attempt_log WHERE ok")
echo "# accepted $accepted, refused $refused, usage $used of $threshold"
ok "the usage never passes the cap" test "$used" -le "$threshold"
is "$used" "$committed" "the counter equals the sum of the committed loans"
ok "the cap was reached: some loans were refused" test "$refused" -gt 0
is "$((accepted + refused))" "640" "every attempt either committed or was refused with RG001"
is "$(sql_value "SELECT count(*) FROM riskguard.limit_counter WHERE used < 0")" "0" "no counter is negative"

# a rebuild from the ledger gives the same usage
rg_psql -c "SELECT riskguard.rebuild_limit_counters('cn_p2p_2016_individual_outstanding')" >/dev/null
is "$(sql_value "SELECT used FROM riskguard.limit_counter c JOIN riskguard.limit_rule r ON r.id = c.rule_id WHERE r.name = 'cn_p2p_2016_individual_outstanding' AND c.subject = 'zhao'")" \
	"$used" "recounting from the ledger gives the same usage"

export PGDATABASE=postgres
rg_psql -c "DROP DATABASE $db" -c "DROP ROLE lc_maker" -c "DROP ROLE lc_checker" >/dev/null
done_testing
