#!/usr/bin/env bash
# Alert rule state under concurrency: 8 pgbench clients post transfers between the
# wallets of six owners (two wallets each, so that transfers with no account in common
# still share an owner's rows) with the five kinds of transfer-path rules active, first
# under READ COMMITTED with no retries (a deadlock or serialization failure would abort a
# client), then under REPEATABLE READ with retries.  Afterwards every riskguard.alert_state
# row must equal a recount from the committed transfers
# (test/reference/alerts_state_recount.py: counts and sums exactly, the running mean and
# m2 to 1e-9 relative of exact rational values), and the alerts must match the counts.
set -u
. "$RG_TOP/test/lib.sh"
. "$RG_TOP/test/shell/tap.sh"

db=alerts_state_shell
rg_psql -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
export PGDATABASE=$db
log=$RG_WORK/main/server.log
lines0=$(wc -l <"$log")

# wallets 2..13: owner oN has w:oNa and w:oNb; rules written directly, as the superuser
rg_psql <<'SQL' >/dev/null
CREATE EXTENSION riskguard;
SELECT riskguard.open_account('custody', 'client', NULL, NULL, 'CNY', 'debit', false);
SELECT riskguard.open_account('w:o' || o || w, 'client', 'o' || o, 'individual', 'CNY')
  FROM generate_series(1, 6) o, unnest(ARRAY['a', 'b']) w ORDER BY o, w;
SELECT riskguard.post_transfer('custody', code, 1000000000, 'deposit') FROM riskguard.account WHERE code LIKE 'w:%';
INSERT INTO riskguard.limit_rule (name, subject, kinds, direction, metric, threshold, currency, action)
VALUES ('c_cap', 'owner', '{p2p}', 'outflow', 'daily_sum', 150000, 'CNY', 'alert');
INSERT INTO riskguard.alert_rule (name, kind, kinds, params, likelihood, impact) VALUES
  ('c_vel', 'velocity', '{p2p}', '{"window": "1 day", "max_count": 150}', 1, 1),
  ('c_ano', 'amount_anomaly', '{p2p}', '{"k": 3, "min_history": 10}', 1, 1),
  ('c_str', 'structuring', '{p2p}', '{"window": "1 day", "threshold": 1000, "margin": 0.05, "count": 3, "direction": "inflow"}', 1, 1),
  ('c_near', 'limit_near', '{p2p}', '{"share": 0.5, "limits": ["c_cap"]}', 1, 1),
  ('c_dor', 'dormant_reactivation', NULL, '{"days": 30}', 1, 1);
SQL

# a random wallet pays a wallet of another owner 900-1099 fen (a quarter in [950, 1000))
script=$RG_WORK/alerts_state.sql
cat >"$script" <<'SQL'
\set a random(2, 13)
\set b 2 + (:a - 2 + 2 * random(1, 4) + random(0, 1)) % 12
\set amt random(900, 1099)
INSERT INTO riskguard.transfer (debit_account, credit_account, amount, kind) VALUES (:a, :b, :amt, 'p2p');
SQL
out=$("$PGBIN/pgbench" -n -f "$script" -c 8 -j 8 -t 150 2>&1)
rc=$?
is "$rc" "0" "8 clients x 150 transfers under READ COMMITTED, no retries: no client aborted"
like "$out" 'number of transactions actually processed: 1200/1200' "all 1200 committed"

out=$(PGOPTIONS='-c default_transaction_isolation=repeatable\ read' \
	"$PGBIN/pgbench" -n -f "$script" -c 8 -j 8 -t 50 --max-tries=1000 2>&1)
rc=$?
is "$rc" "0" "8 clients x 50 transfers under REPEATABLE READ, retried on serialization failures"
like "$out" 'number of transactions actually processed: 400/400' "all 400 committed"
echo "# $(echo "$out" | grep -E 'number of (failed|transactions retried)' | tr '\n' ' ')"

is "$(sql_value "SELECT count(*) FROM riskguard.transfer WHERE kind = 'p2p'")" "1600" "1600 transfers in the ledger"
ok "no deadlock in the server log" bash -c "! tail -n +$((lines0 + 1)) '$log' | grep -q 'deadlock detected'"

# the recount
transfers=$RG_WORK/alerts_state_transfers.csv
state=$RG_WORK/alerts_state_state.csv
rg_psql -c "\\copy (SELECT t.id, t.debit_account, d.owner AS debit_owner, t.credit_account, c.owner AS credit_owner,
                           t.amount, t.created_at
                      FROM riskguard.transfer t JOIN riskguard.account d ON d.id = t.debit_account
                      JOIN riskguard.account c ON c.id = t.credit_account
                     WHERE t.kind = 'p2p' ORDER BY t.id) TO '$transfers' CSV HEADER"
rg_psql -c "\\copy (SELECT r.name AS rule, s.subject, s.window_start, s.n, s.total, s.mean, s.m2, s.last_at
                      FROM riskguard.alert_state s JOIN riskguard.alert_rule r ON r.id = s.rule_id
                     WHERE r.name <> 'c_near') TO '$state' CSV HEADER"
recount=$(python3 "$RG_TOP/test/reference/alerts_state_recount.py" "$transfers" "$state")
echo "$recount" | sed 's/^/# /'
is "$(echo "$recount" | grep '^c_vel ')" "c_vel ok 6" "velocity: each owner's count and sum equal the recount"
is "$(echo "$recount" | grep '^c_ano ')" "c_ano ok 6" "amount_anomaly: each owner's n, mean and m2 equal the recount"
is "$(echo "$recount" | grep '^c_str ')" "c_str ok 6" "structuring: each owner's count and sum in the band equal the recount"
is "$(echo "$recount" | grep '^c_dor ')" "c_dor ok 12" "dormant_reactivation: each account's activity count equals the recount"

# the alerts: each transfer saw its own count, so the counts say how many fired
is "$(sql_value "SELECT count(*) FROM riskguard.alert WHERE rule = 'c_vel'")" \
	"$(sql_value "SELECT sum(GREATEST(n - 150, 0)) FROM riskguard.alert_state s JOIN riskguard.alert_rule r ON r.id = s.rule_id WHERE r.name = 'c_vel'")" \
	"one velocity alert per transfer past the 150th of its owner"
is "$(sql_value "SELECT count(*) FROM riskguard.alert WHERE rule = 'c_str'")" \
	"$(sql_value "SELECT sum(GREATEST(n - 2, 0)) FROM riskguard.alert_state s JOIN riskguard.alert_rule r ON r.id = s.rule_id WHERE r.name = 'c_str'")" \
	"one structuring alert per transfer in the band past the second"
near=$(sql_value "SELECT count(*) FROM riskguard.limit_counter c JOIN riskguard.limit_rule r ON r.id = c.rule_id
                   WHERE r.name = 'c_cap' AND c.used >= 75000")
ok "every owner passed half the cap" test "$near" -ge 6
is "$(sql_value "SELECT count(*) FROM riskguard.alert WHERE rule = 'c_near'")" "$near" \
	"one limit_near alert per counter that passed half the cap"
is "$(sql_value "SELECT count(*) FROM riskguard.alert_state s JOIN riskguard.alert_rule r ON r.id = s.rule_id WHERE r.name = 'c_near'")" \
	"$near" "and one state row each"

rg_psql -d postgres -c "DROP DATABASE $db" >/dev/null 2>&1 || true
done_testing
