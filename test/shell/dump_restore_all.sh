#!/usr/bin/env bash
# pg_dump of a database that uses every riskguard capability (test/shell/dump/setup.sql),
# restored into a fresh cluster started with the same root key file: the same balances,
# rules, models, scores, plaintexts, counters, change history, alerts, alert rule state,
# refused attempts and chain heads; both chains verify; limits, alert rules (recording and
# blocking), scoring, encryption and maker-checker keep working.  Restarted with
# another root key, the restored columns refuse to open (RG010).
set -u
. "$RG_TOP/test/lib.sh"
. "$RG_TOP/test/shell/tap.sh"

src=dump_all_$$
dir=$RG_WORK/dump_all
mkdir -p "$dir"
[ "$(id -u)" = 0 ] && chown postgres "$dir"

# roles are cluster-wide: pg_dump does not carry them, so each cluster gets its own
make_roles() {
	rg_psql -d postgres <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'riskguard_admin') THEN CREATE ROLE riskguard_admin NOLOGIN; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'riskguard_approver') THEN CREATE ROLE riskguard_approver NOLOGIN; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'riskguard_reader') THEN CREATE ROLE riskguard_reader NOLOGIN; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dr_maker') THEN CREATE ROLE dr_maker LOGIN IN ROLE riskguard_admin; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dr_checker') THEN CREATE ROLE dr_checker LOGIN IN ROLE riskguard_approver; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dr_reader') THEN CREATE ROLE dr_reader LOGIN IN ROLE riskguard_reader; END IF;
END $$;
SQL
}

# --- the source: the main test cluster
make_roles
rg_psql -d postgres -c "CREATE DATABASE $src"
rg_psql -d "$src" -f "$RG_TOP/test/shell/dump/setup.sql" >"$dir/setup.log" 2>&1
rc=$?
is "$rc" "0" "a database using every capability is set up"
[ "$rc" = 0 ] || tail -n 5 "$dir/setup.log" | sed 's/^/# /'
src_port=$PGPORT src_host=$PGHOST

# named state queries, each compared between source and restored database
declare -A Q
Q[balances]="SELECT string_agg(format('%s %s %s/%s/%s', code, pool, posted, available, held), '; ' ORDER BY id) FROM riskguard.account_balance"
Q[transfers]="SELECT count(*) || ' ' || sum(amount) || ' ' || max(id) || ' ' || md5(string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s', id, debit_account, credit_account, amount, kind, status, encode(debit_hash, 'hex'), encode(credit_hash, 'hex')), ',' ORDER BY id)) FROM riskguard.transfer"
Q[digest]="SELECT encode(riskguard.ledger_digest(), 'hex')"
Q[audit_head]="SELECT seq || ' ' || encode(hash, 'hex') FROM riskguard.audit_head()"
Q[limit_rules]="SELECT string_agg(to_jsonb(r)::text, '; ' ORDER BY id) FROM riskguard.limit_rule r"
Q[limit_counters]="SELECT string_agg(format('%s %s %s %s %s', rule_id, subject, period, used, transfers), '; ' ORDER BY rule_id, subject, period) FROM riskguard.limit_counter"
Q[reserve_rules]="SELECT string_agg(to_jsonb(r)::text, '; ' ORDER BY kind) FROM riskguard.reserve_rule r"
Q[pool_flows]="SELECT string_agg(format('%s>%s:%s', from_pool, to_pool, kind), ' ' ORDER BY 1) FROM riskguard.pool_flow"
Q[reconciliations]="SELECT string_agg(to_jsonb(r)::text, '; ' ORDER BY id) FROM riskguard.reconciliation r"
Q[changes]="SELECT string_agg(format('%s %s %s %s %s %s', id, target, action, status, proposed_by, decided_by), '; ' ORDER BY id) FROM riskguard.change_request"
Q[models]="SELECT string_agg(format('%s v%s %s %s %s', name, version, kind, active, md5(spec::text)), '; ' ORDER BY name, version) FROM riskguard.credit_model"
Q[scored_rows]="SELECT string_agg(format('%s %s %s %s %s %s', id, credit_score, round(credit_pd::numeric, 12), credit_grade, credit_decision, credit_reasons), '; ' ORDER BY id) FROM applications"
Q[score_sample]="SELECT to_jsonb(s)::text FROM riskguard.score('retail_logit', '{\"dti\": 0.3, \"delinquencies_2y\": 1, \"months_employed\": 30}') s"
Q[key_metadata]="SELECT (SELECT string_agg(format('%s %s %s %s %s', id, \"table\"::text, \"column\", status, root_key_check), '; ' ORDER BY id) FROM riskguard.column_key) || ' | ' || (SELECT string_agg(format('%s %s %s', \"table\"::text, \"column\", blind_index_key_id), '; ' ORDER BY 1) FROM riskguard.protected_column)"
Q[envelopes]="SELECT md5(string_agg(format('%s %s %s %s', id, national_id, encode(national_id_bidx, 'hex'), phone), ';' ORDER BY id)) FROM customers"
Q[alert_rules]="SELECT string_agg(to_jsonb(r)::text, '; ' ORDER BY id) FROM riskguard.alert_rule r"
Q[alerts]="SELECT string_agg(to_jsonb(a)::text, '; ' ORDER BY id) FROM riskguard.alert a"
Q[alert_state]="SELECT string_agg(to_jsonb(s)::text, '; ' ORDER BY rule_id, subject) FROM riskguard.alert_state s"
Q[rejected_attempts]="SELECT string_agg(to_jsonb(r)::text, '; ' ORDER BY id) FROM riskguard.rejected_attempt r"
Q[market]="SELECT round(riskguard.var_historical(r, 0.99)::numeric, 10) || ' ' || round(riskguard.es_gaussian(r, 0.975)::numeric, 10) FROM (SELECT sin(i * 12.9898) * 0.02 AS r FROM generate_series(1, 500) i) s"
plain="SELECT string_agg(format('%s %s %s', id, national_id, phone), '; ' ORDER BY id) FROM customers_decrypted"

# the recorder writes the attempt refused in setup.sql in a transaction of its own
for _ in $(seq 1 40); do
	[ "$(sql_value "SELECT count(*) FROM riskguard.rejected_attempt" -d "$src")" = 1 ] && break
	sleep 0.25
done
is "$(sql_value "SELECT rule || ' ' || sqlstate || ' ' || reference FROM riskguard.rejected_attempt" -d "$src")" \
	"one_repayment_a_day RG007 L-1 #2" "the source holds the attempt the blocking rule refused"
is "$(sql_value "SELECT string_agg(rule || ' ' || status, ', ' ORDER BY id) FROM riskguard.alert" -d "$src")" \
	"withdrawal_sum acknowledged" "the source holds the withdrawal's alert, acknowledged"
declare -A BEFORE
for k in "${!Q[@]}"; do BEFORE[$k]=$(sql_value "${Q[$k]}" -d "$src"); done
empty=$(for k in "${!Q[@]}"; do [ -n "${BEFORE[$k]}" ] || echo "$k"; done | sort | tr '\n' ' ')
is "$empty" "" "every state query has a value in the source"
plain_before=$(sql_value "$plain" -d "$src" -U dr_reader 2>&1)
like "$plain_before" '^1 310104198806150036 13816880021; 2 320106198512240023 13912345678; 3 440305199207150018 $' \
	"the source's reader sees the plaintexts"
like "${BEFORE[changes]}" '^1 limit_rule insert approved dr_maker dr_checker; .* rejected dr_maker dr_checker' \
	"the source's change history holds approved and rejected proposals"

"$PGBIN/pg_dump" -d "$src" -f "$dir/all.sql" 2>"$dir/dump.err"
ok "pg_dump succeeds" test -s "$dir/all.sql"
ok "the dump holds no protected plaintext" \
	bash -c "! grep -q -e 310104198806150036 -e 13816880021 -e 440305199207150018 '$dir/all.sql'"

# --- the destination: a fresh cluster with the same root key file
rg_cluster_init "$dir/dst" "shared_preload_libraries = 'riskguard'" "include_if_exists = 'dump_key.conf'"
start_dst() {	# start_dst KEYFILE
	rg_cluster_stop "$dir/dst"
	echo "riskguard.root_key_file = '$1'" >"$dir/dst/data/dump_key.conf"
	[ "$(id -u)" = 0 ] && chown postgres "$dir/dst/data/dump_key.conf"
	rg_as_server_user "$PGBIN/pg_ctl" -D "$dir/dst/data" -l "$dir/dst/server.log" -w -t 60 start >/dev/null
}
start_dst "$RG_KEYFILE"
trap 'rg_cluster_stop "$dir/dst" immediate' EXIT
make_roles
rg_psql -d postgres -c "CREATE DATABASE restored"
export PGDATABASE=restored
"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -f "$dir/all.sql" >"$dir/restore.log" 2>&1
rc=$?
[ "$rc" = 0 ] && grep -q 'ERROR' "$dir/restore.log" && rc=1
is "$rc" "0" "the dump restores into the fresh cluster without errors"
[ "$rc" = 0 ] || grep -m 5 ERROR "$dir/restore.log" | sed 's/^/# /'
is "$(sql_value 'SELECT riskguard.key_check_value()' -d postgres -c 'CREATE EXTENSION IF NOT EXISTS riskguard' | tail -n 1)" \
	"$(sql_value 'SELECT riskguard.key_check_value()' -p "$src_port" -h "$src_host" -d "$src")" \
	"both clusters hold the same root key"

for k in balances transfers digest audit_head limit_rules limit_counters reserve_rules pool_flows \
	reconciliations changes models scored_rows score_sample key_metadata envelopes alert_rules alerts \
	alert_state rejected_attempts market; do
	is "$(sql_value "${Q[$k]}" 2>&1)" "${BEFORE[$k]}" "restored $k are the same"
done
is "$(sql_value "$plain" -U dr_reader 2>&1)" "$plain_before" "restored protected columns decrypt to the same plaintexts"
is "$(sql_value "SELECT count(*) FILTER (WHERE NOT ok) || '/' || count(*) FROM riskguard.verify_ledger()")" "0/7" \
	"the restored ledger verifies, all 7 accounts"
like "$(sql_value "SELECT ok::text || ' ' || detail FROM riskguard.verify_audit()")" '^true .*chain intact' \
	"the restored audit chain verifies"

# the custom format, restored by two parallel jobs, gives the same database
"$PGBIN/pg_dump" -Fc -d "$src" -p "$src_port" -h "$src_host" -f "$dir/all.dump"
rg_psql -d postgres -c "CREATE DATABASE restored_fc"
"$PGBIN/pg_restore" -j 2 -d restored_fc "$dir/all.dump" >"$dir/restore_fc.log" 2>&1
is "$?" "0" "a custom-format dump restores with pg_restore -j 2 without errors"
differ=$(for k in "${!Q[@]}"; do [ "$(sql_value "${Q[$k]}" -d restored_fc 2>&1)" = "${BEFORE[$k]}" ] || echo "$k"; done | sort | tr '\n' ' ')
is "$differ" "" "... with the same balances, chains, rules, counters, changes, models, scores, envelopes, alerts and refused attempts"
is "$(sql_value "$plain" -U dr_reader -d restored_fc 2>&1)" "$plain_before" "... and the same plaintexts"
is "$(sql_value "SELECT (SELECT count(*) FILTER (WHERE NOT ok) FROM riskguard.verify_ledger()) || '/' || (SELECT count(*) FILTER (WHERE NOT ok) FROM riskguard.verify_audit())" -d restored_fc)" \
	"0/0" "... and both chains verify"

# --- and everything keeps working
like "$(sql_error "SELECT riskguard.post_transfer('inv:zhang', 'bor:li', 8000000, 'disburse', 'loan L-3')")" \
	'^RG001: .*cn_p2p_2016_individual_outstanding' "a loan past the restored borrowing cap is refused with RG001"
like "$(sql_value "SELECT riskguard.post_transfer('inv:zhang', 'bor:li', 7000000, 'disburse', 'loan L-3')")" '^[0-9]+$' \
	"a loan up to the cap still posts"
is "$(sql_value "SELECT riskguard.headroom('cn_p2p_2016_individual_outstanding', 'li')")" "0" \
	"the restored counter carries on from the dumped usage"
for i in 1 2; do sql_value "SELECT riskguard.post_transfer('bor:li', 'custody:cmb', 1000, 'withdrawal', 'W-x$i')" >/dev/null; done
like "$(sql_error "SELECT riskguard.post_transfer('bor:li', 'custody:cmb', 1000, 'withdrawal', 'W-x3')")" '^RG001: .*withdrawals_per_day' \
	"the restored daily count refuses a fourth withdrawal today"
is "$(sql_value "SELECT a.detail ->> 'count' || ' ' || (a.detail ->> 'sum') FROM riskguard.alert a JOIN riskguard.transfer t ON t.id = a.transfer_id WHERE a.rule = 'withdrawal_sum' AND t.reference = 'W-x1'")" \
	"2 301000" "the restored alert rule fires on a new withdrawal, counting on from the dumped window"
like "$(sql_error "SELECT riskguard.post_transfer('bor:li', 'inv:zhang', 1000, 'repay_principal', 'L-1 #3')")" '^RG007: .*one_repayment_a_day' \
	"the restored blocking rule still refuses a second repayment (RG007)"
before_res=$(sql_value "SELECT posted FROM riskguard.account_balance WHERE code = 'reserve:fund'")
sql_value "SELECT riskguard.post_transfer('bor:hz.tea', 'platform:fees', 50000, 'fee', 'L-2 fee 2')" >/dev/null
is "$(sql_value "SELECT posted FROM riskguard.account_balance WHERE code = 'reserve:fund'")" "$((before_res + 5000))" \
	"the restored reserve rule provisions 10% of a new fee"
like "$(sql_error "SELECT riskguard.post_transfer('platform:fees', 'platform:bank', 100, 'dividend')")" '^RG002' \
	"the restored flows still refuse an unlisted flow"
sql_value "INSERT INTO applications (id, applicant, dti, delinquencies_2y, months_employed) VALUES (4, 'zhao', 0.3, 1, 30)" >/dev/null
is "$(sql_value "SELECT to_jsonb(s) - 'model' - 'version' = (SELECT jsonb_build_object('score', credit_score, 'pd', credit_pd, 'grade', credit_grade, 'decision', credit_decision, 'reasons', credit_reasons) FROM applications WHERE id = 4) FROM riskguard.score('retail_logit', '{\"dti\": 0.3, \"delinquencies_2y\": 1, \"months_employed\": 30}') s")" \
	"t" "a row inserted into the restored applications table is scored like score() does"
sql_value "INSERT INTO customers (id, name, national_id, phone) VALUES (4, 'Wang Fang', '510104197001010011', '13600000000')" -U dr_reader >/dev/null
is "$(sql_value "SELECT c.id FROM customers_decrypted c WHERE national_id_bidx = riskguard.blind_index('customers', 'national_id', '510104197001010011')" -U dr_reader)" \
	"4" "the restored table seals a new row and finds it by blind index"
is "$(sql_value "SELECT id FROM customers WHERE national_id_bidx = riskguard.blind_index('customers', 'national_id', '320106198512240023')" -U dr_reader)" \
	"2" "restored blind indexes still match"
n_changes=$(sql_value "SELECT count(*) FROM riskguard.change_request")
new_id=$(sql_value "SELECT riskguard.propose_change('limit_rule', 'update', jsonb_build_object('id', id, 'threshold', 19000000), 'tighter cap') FROM riskguard.limit_rule WHERE name = 'cn_p2p_2016_individual_outstanding'" -U dr_maker 2>&1)
is "$new_id" "$((n_changes + 1))" "a proposal after the restore takes the next change id"
like "$(sql_value "SELECT riskguard.approve_change($new_id) ->> 'threshold'" -U dr_checker 2>&1)" '19000000' \
	"and is approved by another person"
like "$(sql_error "SELECT riskguard.approve_change(1)" -U dr_checker)" '^55000' "a restored approved change cannot be approved again"
new_acct=$(sql_value "SELECT riskguard.open_account('bor:new', 'client', 'new', 'individual', 'CNY')" 2>&1)
like "$new_acct" '^[0-9]+$' "a new account opens after the restore"
is "$(sql_value "SELECT count(*) FILTER (WHERE NOT ok) FROM riskguard.verify_ledger()")" "0" "the ledger still verifies after new transfers"
like "$(sql_value "SELECT bool_and(ok) FROM riskguard.verify_audit()")" '^t$' "the audit chain still verifies after new entries"
is "$(sql_value "SELECT count(*) FROM riskguard.audit_log WHERE seq > ${BEFORE[audit_head]%% *}")" \
	"$(sql_value "SELECT count(*) FROM riskguard.audit_log WHERE at > (SELECT max(at) FROM riskguard.audit_log WHERE seq <= ${BEFORE[audit_head]%% *})")" \
	"new audit entries extend the restored chain"

# --- the same data under another root key does not open
rg_new_key "$dir/other.key"
start_dst "$dir/other.key"
like "$(sql_error "SELECT national_id FROM customers_decrypted WHERE id = 1" -U dr_reader)" '^RG010' \
	"under another root key the restored column does not decrypt (RG010)"
like "$(sql_error "INSERT INTO customers (id, name, national_id) VALUES (5, 'Liu Yang', '310115198808088888')")" '^RG010' \
	"nor seals new values under a key it cannot check"
is "$(sql_value "SELECT count(*) FILTER (WHERE NOT ok) FROM riskguard.verify_ledger()")" "0" "the ledger does not depend on the root key"
rg_cluster_stop "$dir/dst"
trap - EXIT

export PGPORT=$src_port PGHOST=$src_host PGDATABASE=postgres
rg_psql -c "DROP DATABASE $src" >/dev/null
done_testing
