#!/usr/bin/env bash
# Column encryption across clients and servers: an independent client (Python's hashlib
# BLAKE2b and PyNaCl, test/reference/crypto.py) opens what the server sealed and the
# server keeps what the client sealed; login roles with and without riskguard_reader;
# pg_dump and restore; a restart with another root key.  Runs its own cluster.
set -u
. "$RG_TOP/test/lib.sh"
. "$RG_TOP/test/shell/tap.sh"

dir=$RG_WORK/crypto
keys=$RG_WORK/crypto-keys
mkdir -p "$keys"
[ "$(id -u)" = 0 ] && chown postgres "$keys"
chmod 700 "$keys"
rg_new_key "$keys/a.key"
rg_new_key "$keys/b.key"
ref() { /usr/bin/python3 "$RG_TOP/test/reference/crypto.py" "$@"; }

rg_cluster_init "$dir" "shared_preload_libraries = 'riskguard'" "include_if_exists = 'crypto_key.conf'"
start_with_key() {	# start_with_key KEYFILE
	rg_cluster_stop "$dir"
	echo "riskguard.root_key_file = '$1'" >"$dir/data/crypto_key.conf"
	[ "$(id -u)" = 0 ] && chown postgres "$dir/data/crypto_key.conf"
	rg_as_server_user "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
}
start_with_key "$keys/a.key"
trap 'rg_cluster_stop "$dir" immediate' EXIT

rg_psql -d postgres -c 'CREATE DATABASE crypto_src' -c 'CREATE DATABASE crypto_dst'
export PGDATABASE=crypto_src
rg_psql <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION riskguard;
CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL, national_id text, phone text);
INSERT INTO customers VALUES (1, 'Li Wei', '110101199003077531', '13800138000');
SELECT riskguard.protect_column('customers', 'national_id', 'national_id_bidx');
SELECT riskguard.protect_column('customers', 'phone');
COPY customers (id, name, national_id, phone) FROM stdin;
2	Zhang Min	320106198512240023	13912345678
3	Chen Jie	440305199207150018	\N
\.
CREATE ROLE cr_plain LOGIN;
CREATE ROLE cr_reader LOGIN IN ROLE riskguard_reader;
GRANT SELECT, INSERT ON customers TO cr_plain, cr_reader;
GRANT SELECT ON customers_decrypted TO PUBLIC;
SQL

# the independent client opens what the server sealed
for row in "1 110101199003077531 13800138000" "2 320106198512240023 13912345678"; do
	set -- $row
	nid=$(sql_value "SELECT national_id FROM customers WHERE id = $1")
	ph=$(sql_value "SELECT phone FROM customers WHERE id = $1")
	is "$(ref open "$keys/a.key" public customers national_id "$nid" "$1")" "$2" "Python opens row $1's national_id"
	is "$(ref open "$keys/a.key" public customers phone "$ph" "$1")" "$3" "Python opens row $1's phone"
done
bidx_key=$(sql_value "SELECT blind_index_key_id FROM riskguard.protected_column WHERE \"column\" = 'national_id'")
is "$(sql_value "SELECT encode(national_id_bidx, 'hex') FROM customers WHERE id = 2")" \
	"$(ref bidx "$keys/a.key" "$bidx_key" 32 320106198512240023)" "Python computes the same blind index"
nid1=$(sql_value "SELECT national_id FROM customers WHERE id = 1")
ok "another row's key does not open it" bash -c "! /usr/bin/python3 '$RG_TOP/test/reference/crypto.py' open '$keys/a.key' public customers national_id '$nid1' 2"

# the server keeps (never reseals) what the client sealed for the row, and opens it
key_id=$(sql_value "SELECT id FROM riskguard.column_key WHERE \"column\" = 'national_id' AND status = 'active'")
sealed=$(ref seal "$keys/a.key" "$key_id" public customers national_id 510104197001010011 4)
sql_value "INSERT INTO customers (id, name, national_id) VALUES (4, 'Wang Fang', '$sealed')" >/dev/null
is "$(sql_value "SELECT national_id FROM customers WHERE id = 4")" "$sealed" "a client-sealed envelope is stored as it is"
is "$(sql_value "SELECT national_id FROM customers_decrypted WHERE id = 4")" "510104197001010011" "... and opens on the server"
is "$(sql_value "SELECT id FROM customers WHERE national_id_bidx = riskguard.blind_index('customers', 'national_id', '510104197001010011')")" \
	"4" "... and the trigger filled its blind index"

# login roles: a writer needs no key privileges; only readers see plaintext
sql_value "INSERT INTO customers (id, name, national_id, phone) VALUES (5, 'Liu Yang', '310115198808088888', '13600000000')" -U cr_plain >/dev/null
is "$(sql_value "SELECT riskguard.envelope_key_id(national_id) IS NOT NULL FROM customers WHERE id = 5")" "t" "a plain role's insert is sealed"
like "$(sql_error 'SELECT national_id FROM customers_decrypted' -U cr_plain)" '^42501' "a plain role cannot read the view's plaintext"
like "$(sql_error "SELECT riskguard.decrypt(c.*, 'phone') FROM customers c" -U cr_plain)" '^42501' "... nor call decrypt"
like "$(sql_error "SELECT riskguard.blind_index('customers', 'national_id', '1')" -U cr_plain)" '^42501' "... nor compute blind indexes"
is "$(sql_value 'SELECT national_id FROM customers_decrypted WHERE id = 5' -U cr_reader)" "310115198808088888" "a reader reads plaintext"

# a table owner who is riskguard_admin (and reader), not superuser, runs the whole cycle
sql_value "CREATE ROLE cr_admin LOGIN IN ROLE riskguard_admin, riskguard_reader; GRANT CREATE ON SCHEMA public TO cr_admin" >/dev/null
is "$(sql_value "SET client_min_messages = warning;
  CREATE TABLE accounts (no text PRIMARY KEY, card text);
  INSERT INTO accounts VALUES ('A-1', '6222020200112233445');
  SELECT riskguard.protect_column('accounts', 'card', 'card_bidx', 16);
  INSERT INTO accounts (no, card) VALUES ('A-2', '6222020200998877665');
  SELECT riskguard.rotate_column_key('accounts', 'card') > 0;
  SELECT riskguard.reencrypt('accounts', 'card');
  SELECT string_agg(card, ',' ORDER BY no) FROM accounts_decrypted;
  SELECT riskguard.unprotect_column('accounts', 'card');
  SELECT string_agg(card, ',' ORDER BY no) FROM accounts;" -U cr_admin | tr '\n' ' ')" \
	" t 2 6222020200112233445,6222020200998877665  6222020200112233445,6222020200998877665 " \
	"a non-superuser admin protects, rotates, reencrypts and unprotects its own table"
like "$(sql_error "SELECT riskguard.protect_column('customers', 'name')" -U cr_admin)" '^42501' \
	"... but cannot protect a table it does not own"

# reencrypt_resumable commits batch by batch: an interrupted run keeps its progress
rg_psql -q <<'SQL' >/dev/null
SET client_min_messages = warning;
CREATE TABLE ledger_notes (id integer PRIMARY KEY, note text);
INSERT INTO ledger_notes SELECT g, 'note ' || g FROM generate_series(1, 5000) g;
SELECT riskguard.protect_column('ledger_notes', 'note');
SELECT riskguard.rotate_column_key('ledger_notes', 'note');
CREATE FUNCTION stop_at_4000() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id = 4000 THEN RAISE EXCEPTION 'interrupted'; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER stop_at_4000 BEFORE UPDATE ON ledger_notes FOR EACH ROW EXECUTE FUNCTION stop_at_4000();
SQL
new_key="SELECT count(*) FROM ledger_notes WHERE riskguard.envelope_key_id(note) = (SELECT id FROM riskguard.column_key WHERE \"table\" = 'ledger_notes'::regclass AND status = 'active')"
like "$(sql_error "CALL riskguard.reencrypt_resumable('ledger_notes', 'note', 500)")" '^P0001' "an interrupted reencrypt_resumable stops with the error"
done_before=$(sql_value "$new_key")
ok "... and keeps the batches it committed ($done_before of 5000)" test "$done_before" -gt 0 -a "$done_before" -lt 5000
sql_value "DROP TRIGGER stop_at_4000 ON ledger_notes" >/dev/null
PGOPTIONS='-c client_min_messages=warning' sql_value "CALL riskguard.reencrypt_resumable('ledger_notes', 'note', 500)" >/dev/null
is "$(sql_value "$new_key")" "5000" "a second CALL resumes and finishes"
is "$(sql_value "SELECT count(*) FROM ledger_notes_decrypted WHERE note = 'note ' || id")" "5000" "... and every value reads back"
like "$(sql_error "BEGIN; SELECT riskguard.rotate_column_key('ledger_notes', 'note'); CALL riskguard.reencrypt_resumable('ledger_notes', 'note'); COMMIT;")" '^2D000' \
	"reencrypt_resumable refuses to run inside a transaction block"

# pg_dump and restore into another database: same envelopes, same plaintexts
"$PGBIN/pg_dump" -d crypto_src -f "$dir/dump.sql"
ok "pg_dump succeeds" test -s "$dir/dump.sql"
ok "the dump holds no plaintext" bash -c "! grep -q -e 110101199003077531 -e 13800138000 '$dir/dump.sql'"
rg_psql -d crypto_dst -f "$dir/dump.sql" >"$dir/restore.log" 2>&1
ok "the dump restores without errors" bash -c "! grep -q ERROR '$dir/restore.log'"
raw="SELECT md5(string_agg(concat_ws('|', id, national_id, phone, encode(national_id_bidx, 'hex')), ',' ORDER BY id)) FROM customers"
plain="SELECT string_agg(concat_ws('|', id, national_id, phone), ',' ORDER BY id) FROM customers_decrypted"
is "$(sql_value "$raw" -d crypto_dst)" "$(sql_value "$raw")" "restored envelopes are byte for byte the same (no double sealing)"
is "$(sql_value "$plain" -d crypto_dst)" "$(sql_value "$plain")" "restored plaintexts are the same"
is "$(sql_value "SELECT national_id FROM customers_decrypted WHERE id = 5" -d crypto_dst -U cr_reader)" \
	"310115198808088888" "the view's grants are restored"
like "$(sql_error 'SELECT national_id FROM customers_decrypted' -d crypto_dst -U cr_plain)" '^42501' "... and still refuse others"
sql_value "INSERT INTO customers (id, name, national_id) VALUES (6, 'Sun Li', '120101199101011234')" -d crypto_dst >/dev/null
is "$(sql_value "SELECT national_id FROM customers_decrypted WHERE national_id_bidx = riskguard.blind_index('customers', 'national_id', '120101199101011234')" -d crypto_dst)" \
	"120101199101011234" "the restored table seals new rows and finds them by blind index"
before=$(sql_value "$raw" -d crypto_dst)
sql_value "UPDATE customers SET name = name" -d crypto_dst >/dev/null
is "$(sql_value "$raw" -d crypto_dst)" "$before" "updating other columns leaves the envelopes as they are"
rotated=$(sql_value "SELECT riskguard.rotate_column_key('customers', 'national_id')" -d crypto_dst)
like "$rotated" '^[0-9]+$' "a restored column's key rotates"
is "$(sql_value "SET client_min_messages = warning; SELECT riskguard.reencrypt('customers', 'national_id')" -d crypto_dst | tail -n 1)" \
	"6" "reencrypt reseals the six older values"
is "$(sql_value "$plain" -d crypto_dst | cut -d, -f1-5)" "$(sql_value "$plain")" "... and they read the same"

# another root key after a restart: nothing opens (RG010), nothing is sealed wrongly
kcv_a=$(sql_value 'SELECT riskguard.key_check_value()')
start_with_key "$keys/b.key"
isnt_kcv=$(sql_value 'SELECT riskguard.key_check_value()')
ok "the other key has another check value" test "$kcv_a" != "$isnt_kcv"
like "$(sql_error 'SELECT national_id FROM customers_decrypted WHERE id = 1')" \
	'^RG010: could not open sealed value of column "national_id" of table "public.customers"' "a wrong root key: RG010"
like "$(sql_error "UPDATE customers SET national_id = national_id WHERE id = 1")" '^RG010' "... rewriting a value refuses too"
like "$(sql_error "INSERT INTO customers (id, name, national_id) VALUES (7, 'Zhou', '1')")" '^RG010' "... and nothing is sealed under the wrong key"
start_with_key "$keys/a.key"
is "$(sql_value 'SELECT national_id FROM customers_decrypted WHERE id = 1')" "110101199003077531" "the right key opens it again"
ok "no server log holds a plaintext" bash -c "! grep -q -e 110101199003077531 -e 13800138000 '$dir/server.log'"

rg_cluster_stop "$dir"
trap - EXIT
done_testing
