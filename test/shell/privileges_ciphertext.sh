#!/usr/bin/env bash
# A login role that only has SELECT on a protected table reads ciphertext and nothing
# else, by any path: the table, the generated view (even when granted), the decrypt
# functions, blind indexes, the key check value, the key and audit tables, statistics,
# the maintenance functions, and error messages.  A reader is the positive control, and
# failing decryptions (a tampered value, another row's value) must not show a plaintext
# in the error or in the server log.
set -u
. "$RG_TOP/test/lib.sh"
. "$RG_TOP/test/shell/tap.sh"

db=privs_cipher_$$
export PGDATABASE=$db
rg_psql -d postgres -c "CREATE DATABASE $db"
roles="pvc_select pvc_reader"
cleanup() {
	"$PGBIN/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
	for r in $roles; do "$PGBIN/psql" -X -q -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1; done
}
trap cleanup EXIT

# plaintexts unique to this test, so that the server log can be searched for them
nid1=91000019991231PV01
nid2=91000019991231PV02
card1=PVCARD6222021234567890
rg_psql >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION riskguard;
CREATE TABLE customers (id bigint PRIMARY KEY, name text, national_id text, card bytea);
SELECT riskguard.protect_column('customers', 'national_id', 'national_id_bidx');
SELECT riskguard.protect_column('customers', 'card');
INSERT INTO customers (id, name, national_id, card)
VALUES (1, 'Li Wei', '$nid1', convert_to('$card1', 'UTF8')),
       (2, 'Zhang Min', '$nid2', NULL);
ANALYZE customers;
CREATE ROLE pvc_select LOGIN;
CREATE ROLE pvc_reader LOGIN IN ROLE riskguard_reader;
GRANT SELECT ON customers TO pvc_select, pvc_reader;
GRANT INSERT ON customers TO pvc_reader;
GRANT SELECT ON customers_decrypted TO pvc_reader;
SQL

secrets="$nid1|$nid2|$card1|$(printf '%s' "$card1" | od -An -tx1 | tr -d ' \n')"
as_select() { "$PGBIN/psql" -X -q -A -t -U pvc_select -v VERBOSITY=verbose -c "$1" 2>&1; }
no_secret() {	# no_secret "output" "description"
	TAP_N=$((TAP_N + 1))
	if printf '%s' "$1" | grep -qE -- "$secrets"; then
		echo "not ok $TAP_N - $2"
		printf '%s\n' "$1" | sed 's/^/#   /' | head -n 10
		TAP_FAILED=$((TAP_FAILED + 1))
	else
		echo "ok $TAP_N - $2"
	fi
}

# the positive control: a reader reads plaintext
is "$(sql_value 'SELECT national_id FROM customers_decrypted WHERE id = 1' -U pvc_reader)" "$nid1" \
	"control: a member of riskguard_reader reads the plaintext through the view"
like "$(sql_value 'SELECT national_id, encode(card, $$hex$$) FROM customers_decrypted' -U pvc_reader | tr '\n' ' ')" "$secrets" \
	"control: the search for plaintexts finds them in a reader's output"

# the table holds envelopes
out=$(as_select 'SELECT * FROM customers ORDER BY id')
no_secret "$out" "SELECT * from the table shows no plaintext"
is "$(as_select 'SELECT count(*) FROM customers WHERE riskguard.envelope_key_id(national_id) IS NOT NULL AND riskguard.envelope_key_id(card) IS NOT NULL')" \
	"1" "the SELECT-only role sees envelopes (envelope_key_id reads their headers)"
out=$(as_select "SELECT riskguard.mask(national_id) FROM customers")
no_secret "$out" "mask() of a stored value masks ciphertext"

# every function path to the plaintext is closed
for sql in \
	"SELECT national_id FROM customers_decrypted" \
	"SELECT riskguard.decrypt(c.*, 'national_id') FROM customers c" \
	"SELECT riskguard.decrypt(national_id, 'customers', 'national_id', id) FROM customers" \
	"SELECT riskguard.decrypt_bytea(c.*, 'card') FROM customers c" \
	"SELECT riskguard.decrypt_bytea(card, 'customers', 'card', id) FROM customers" \
	"SELECT riskguard.blind_index('customers', 'national_id', '91000019991231XXXX')" \
	"SELECT riskguard.blind_index('customers', 'card', '\\x00'::bytea)" \
	"SELECT riskguard.key_check_value()" \
	"SELECT riskguard.unprotect_column('customers', 'national_id')" \
	"SELECT riskguard.protect_column('customers', 'name')" \
	"SELECT riskguard.rotate_column_key('customers', 'national_id')" \
	"SELECT riskguard.reencrypt('customers', 'national_id')" \
	"CALL riskguard.reencrypt_resumable('customers', 'national_id')" \
	"SELECT riskguard._key_change('unprotect_column', 'customers', 'national_id')" \
	"SELECT riskguard._regenerate_view('customers')" \
	"SELECT riskguard._reseal('customers', 'national_id', 1, 'x')" \
	"SELECT * FROM riskguard.audit_log" \
	"UPDATE customers SET national_id = national_id" \
	"INSERT INTO riskguard.column_key (\"table\", \"column\") VALUES ('customers', 'name')" \
	"DELETE FROM riskguard.protected_column"; do
	out=$(as_select "$sql")
	like "$out" '^ERROR:  42501' "42501: $sql"
	no_secret "$out" "... and the error shows no plaintext"
done

# even a careless grant of the view does not open it: decrypt checks riskguard_reader
rg_psql -c 'GRANT SELECT ON customers_decrypted TO pvc_select'
out=$(as_select 'SELECT * FROM customers_decrypted')
like "$out" '^ERROR:  42501' "42501: the view, even when granted to the role"
no_secret "$out" "... and the error shows no plaintext"
out=$(as_select 'SELECT id, name FROM customers_decrypted ORDER BY id')
is "$out" "$(printf '1|Li Wei\n2|Zhang Min')" "the view's unprotected columns stay readable"
out=$(as_select "SELECT count(*) FROM customers_decrypted WHERE national_id_bidx IS NOT NULL")
is "$out" "2" "the blind index column is readable (it is not the value, and only readers can compute one to compare)"
out=$(as_select 'EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM customers_decrypted')
no_secret "$out" "EXPLAIN of the view shows no plaintext"

# metadata readable by everyone holds nothing secret
out=$(as_select 'SELECT * FROM riskguard.column_key; SELECT * FROM riskguard.protected_column')
no_secret "$out" "column_key and protected_column hold no plaintext (key ids and check values only)"
out=$(as_select "SELECT most_common_vals::text, histogram_bounds::text FROM pg_stats WHERE tablename LIKE 'customers%'")
no_secret "$out" "pg_stats of the table shows no plaintext"
is "$(as_select "SELECT count(*) FROM pg_stats WHERE tablename = 'customers_decrypted'")" "0" \
	"the view has no statistics to read"

# failing decryptions: a reader opening another row's value, and a tampered value
out=$("$PGBIN/psql" -X -q -U pvc_reader -v VERBOSITY=verbose \
	-c "SELECT riskguard.decrypt(c1.national_id, 'customers', 'national_id', c2.id) FROM customers c1, customers c2 WHERE c1.id = 1 AND c2.id = 2" 2>&1)
like "$out" '^ERROR:  RG010' "RG010: another row's value does not open"
no_secret "$out" "... and the error, its detail, hint and context show no plaintext"
rg_psql <<'SQL'
ALTER TABLE customers DISABLE TRIGGER riskguard_seal;
UPDATE customers SET national_id = overlay(national_id placing (CASE WHEN substr(national_id, 40, 1) = 'A' THEN 'B' ELSE 'A' END) from 40 for 1)
 WHERE id = 1;
ALTER TABLE customers ENABLE TRIGGER riskguard_seal;
SQL
out=$("$PGBIN/psql" -X -q -U pvc_reader -v VERBOSITY=verbose -c 'SELECT * FROM customers_decrypted' 2>&1)
like "$out" '^ERROR:  RG010' "RG010: a tampered value does not open"
no_secret "$out" "... and the error shows no plaintext, of that row or another"
out=$("$PGBIN/psql" -X -q -U pvc_reader -v VERBOSITY=verbose \
	-c "INSERT INTO customers (id, name, national_id) SELECT 3, 'Copy', national_id FROM customers WHERE id = 2" 2>&1)
like "$out" '^ERROR:  RG010' "RG010: a reader copying another row's envelope into a new row is refused"
no_secret "$out" "... and the error shows no plaintext"

# nothing above put a plaintext in the server log
no_secret "$(cat "$RG_WORK/main/server.log")" "the server log holds none of the plaintexts"

done_testing
