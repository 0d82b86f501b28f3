#!/usr/bin/env bash
# Tamper evidence: a superuser who bypasses the append-only trigger (with
# session_replication_role or by disabling the trigger) to change an amount, a status,
# or to delete a transfer is caught by verify_ledger(), naming the account and the first
# bad transfer; the chains and the digest are recomputed outside PostgreSQL
# (test/reference/ledger_chain.py, PyNaCl's BLAKE2b) and must agree.
set -u
. "$RG_TOP/test/lib.sh"
. "$RG_TOP/test/shell/tap.sh"

db=ledger_tamper_$$
# the system interpreter, which has python3-nacl
PY=$(command -v /usr/bin/python3 || command -v python3)
rg_psql -d postgres -c "CREATE DATABASE $db"
rg_psql -d "$db" -f "$RG_TOP/test/shell/ledger/tamper_setup.sql" >/dev/null
q() { sql_value "$1" -d "$db"; }
verify() { q "SELECT string_agg(account_id || ':' || coalesce(first_bad_transfer::text, '-'), ' ' ORDER BY account_id)
                FROM riskguard.verify_ledger() WHERE NOT ok"; }
export_json() {
	q "SELECT json_build_object(
	     'transfers', (SELECT json_agg(json_build_object(
	        'id', t.id, 'debit_account', t.debit_account, 'credit_account', t.credit_account,
	        'amount', t.amount, 'kind', t.kind, 'reference', t.reference,
	        'idempotency_key', t.idempotency_key, 'pending_id', t.pending_id,
	        'created_at_us', (extract(epoch FROM t.created_at - '2000-01-01 00:00:00+00') * 1000000)::bigint,
	        'created_by', t.created_by,
	        'phase', CASE WHEN t.pending_id IS NOT NULL THEN CASE t.status WHEN 'voided' THEN 'void' ELSE 'post' END
	                      WHEN t.status = 'pending' OR EXISTS (SELECT 1 FROM riskguard.transfer c WHERE c.pending_id = t.id) THEN 'hold'
	                      ELSE 'posted' END,
	        'debit_seq', t.debit_seq, 'debit_hash', encode(t.debit_hash, 'hex'),
	        'credit_seq', t.credit_seq, 'credit_hash', encode(t.credit_hash, 'hex')))
	        FROM riskguard.transfer t),
	     'accounts', (SELECT json_agg(json_build_object('id', a.id, 'head_seq', a.head_seq,
	        'head_hash', encode(a.head_hash, 'hex'))) FROM riskguard.account a))"
}

is "$(q 'SELECT count(*) FROM riskguard.transfer')" "9" "the sample ledger has 9 transfers (with a provision and two completions)"
is "$(verify)" "" "an untouched ledger verifies"
digest0=$(q "SELECT encode(riskguard.ledger_digest(), 'hex')")
ref=$(export_json | "$PY" "$RG_TOP/test/reference/ledger_chain.py")
is "$ref" "0 $digest0" "an independent BLAKE2b implementation recomputes every chain hash and the digest"

# 1. change an amount with triggers off for the session
rg_psql -d "$db" -c "SET session_replication_role = replica; UPDATE riskguard.transfer SET amount = 1300000 WHERE reference = 'loan 5531'"
tid=$(q "SELECT id FROM riskguard.transfer WHERE reference = 'loan 5531'")
is "$(verify)" "2:$tid 3:$tid" "a changed amount: both accounts of the transfer report it as the first bad one"
like "$(q "SELECT detail FROM riskguard.verify_ledger() WHERE account_id = 2")" "Transfer $tid does not match its chain hash" \
	"and the detail says so"
ref=$(export_json | "$PY" "$RG_TOP/test/reference/ledger_chain.py")
like "$ref" '^2 ' "the reference finds the same two broken hashes"
rg_psql -d "$db" -c "SET session_replication_role = replica; UPDATE riskguard.transfer SET amount = 1200000 WHERE reference = 'loan 5531'"
is "$(verify)" "" "restoring the amount restores the chain"
is "$(q "SELECT encode(riskguard.ledger_digest(), 'hex')")" "$digest0" "and the digest"

# 2. change a status with the append-only trigger disabled
hold=$(q "SELECT pending_id FROM riskguard.transfer WHERE status = 'voided' AND pending_id IS NOT NULL")
rg_psql -d "$db" -c "ALTER TABLE riskguard.transfer DISABLE TRIGGER transfer_append_only" \
	-c "UPDATE riskguard.transfer SET status = 'posted' WHERE id = $hold" \
	-c "ALTER TABLE riskguard.transfer ENABLE TRIGGER transfer_append_only"
like "$(verify)" "^2:$hold 1:|^1:[0-9]+ 2:$hold|2:$hold" "a voided hold turned posted is caught at that transfer"
rg_psql -d "$db" -c "SET session_replication_role = replica; UPDATE riskguard.transfer SET status = 'voided' WHERE id = $hold"
is "$(verify)" "" "setting it back verifies"

# 3. delete a transfer
fee=$(q "SELECT id FROM riskguard.transfer WHERE kind = 'fee'")
next=$(q "SELECT min(id) FROM riskguard.transfer WHERE id > $fee AND 2 IN (debit_account, credit_account)")
rg_psql -d "$db" -c "SET session_replication_role = replica; DELETE FROM riskguard.transfer WHERE id = $fee"
is "$(verify)" "2:$next 4:-" "a deleted fee: the payer's chain breaks at the next transfer, the fee account's head is unreachable"
like "$(q "SELECT detail FROM riskguard.verify_ledger() WHERE account_id = 2")" "Chain position 2 is missing" \
	"the detail names the missing position"

# 4. a forged history that re-chains consistently is still caught by the digest kept outside
rg_psql -d "$db" -c "SET session_replication_role = replica; UPDATE riskguard.account SET head_hash = NULL, head_seq = 0, credits_posted = 0 WHERE id = 4"
isnt_digest=$(q "SELECT encode(riskguard.ledger_digest(), 'hex') <> '$digest0'")
is "$isnt_digest" "t" "rewritten chain heads change the digest"

rg_psql -d postgres -c "DROP DATABASE $db"
done_testing
