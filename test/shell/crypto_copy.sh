#!/usr/bin/env bash
# COPY FROM STDIN into a table with protected columns is loaded in batches by
# src/crypto_copy.c instead of row by row through the sealing trigger.  It must give
# exactly what the trigger gives (sealed values, blind indexes, generated columns,
# constraints, AFTER triggers, foreign keys, errors with their line), refuse what
# PostgreSQL's COPY refuses (privileges, read-only transactions, row-level security),
# and leave the cases it does not take (WHERE, FREEZE, other BEFORE ROW triggers) to
# PostgreSQL's COPY, where the trigger still seals.
set -u
. "$RG_TOP/test/lib.sh"
. "$RG_TOP/test/shell/tap.sh"

db=crypto_copy
tmp=$RG_WORK/crypto_copy
mkdir -p "$tmp"
chmod 777 "$tmp"
rg_psql -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
export PGDATABASE=$db
q() { rg_psql -A -t "$@"; }

rg_psql >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION riskguard;
CREATE TABLE branch (code text PRIMARY KEY);
INSERT INTO branch VALUES ('BJ'), ('SH');
CREATE TABLE cust (
  id bigint PRIMARY KEY,
  name text NOT NULL CHECK (name <> ''),
  branch text REFERENCES branch,
  national_id text,
  national_id_bidx bytea,
  phone text,
  phone_stored_len int GENERATED ALWAYS AS (length(phone)) STORED
);
SELECT riskguard.protect_column('cust', 'national_id', 'national_id_bidx');
SELECT riskguard.protect_column('cust', 'phone');
-- what AFTER ROW and statement triggers see
CREATE TABLE seen (id bigint, national_id text, at text);
CREATE FUNCTION seen_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO seen VALUES (NEW.id, NEW.national_id, 'row'); RETURN NULL; END $$;
CREATE FUNCTION seen_stmt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO seen VALUES (NULL, NULL, TG_WHEN); RETURN NULL; END $$;
CREATE TRIGGER cust_seen AFTER INSERT ON cust FOR EACH ROW EXECUTE FUNCTION seen_row();
CREATE TRIGGER cust_seen_before BEFORE INSERT ON cust FOR EACH STATEMENT EXECUTE FUNCTION seen_stmt();
CREATE TRIGGER cust_seen_after AFTER INSERT ON cust FOR EACH STATEMENT EXECUTE FUNCTION seen_stmt();
-- the source rows: 2,500 customers (more than two batches), some without phone
CREATE TABLE src AS
SELECT i::bigint AS id, 'customer ' || i AS name, CASE WHEN i % 2 = 0 THEN 'BJ' ELSE 'SH' END AS branch,
       lpad((110101199000000000 + i * 7919)::text, 18, '0') AS national_id,
       CASE WHEN i % 10 = 0 THEN NULL ELSE '139' || lpad(i::text, 8, '0') END AS phone
  FROM generate_series(1, 2500) i;
SQL
q -c "\\copy src TO '$tmp/rows.tsv'"

# the sealing trigger's calls, counted once every other session of this database has
# ended (a backend writes its function statistics as it exits)
seal_calls() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(sql_value "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db' AND pid <> pg_backend_pid()")" = 0 ] && break
		sleep 0.1
	done
	sql_value "SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions WHERE funcname = '_seal'"
}
base=$(seal_calls)
out=$("$PGBIN/psql" -X -A -t -c "SET track_functions = 'all'" -c "\\copy cust (id, name, branch, national_id, phone) FROM '$tmp/rows.tsv'" | tail -n 1)
is "$out" "COPY 2500" "COPY reports the rows it loaded"
is "$(seal_calls)" "$base" "the rows were sealed without calling the trigger once per row"
q -c "SET track_functions = 'all'" -c "INSERT INTO cust (id, name, national_id) VALUES (90001, 'x', '1'), (90002, 'y', '2')" >/dev/null
is "$(seal_calls)" "$((base + 2))" "(the count is live: two INSERTed rows call it twice)"
q -c "DELETE FROM cust WHERE id > 90000" >/dev/null

is "$(sql_value "SELECT count(*) FROM cust c JOIN src s USING (id)
  WHERE riskguard.envelope_key_id(c.national_id) IS NOT NULL
    AND c.national_id <> s.national_id
    AND (s.phone IS NULL AND c.phone IS NULL OR riskguard.envelope_key_id(c.phone) IS NOT NULL)")" \
	"2500" "every national_id and phone is stored sealed, NULL phones stay NULL"
is "$(sql_value "SELECT count(*) FROM cust_decrypted d JOIN src s USING (id)
  WHERE d.national_id = s.national_id AND d.phone IS NOT DISTINCT FROM s.phone AND d.name = s.name")" \
	"2500" "the decrypted view gives back every copied value"
is "$(sql_value "SELECT count(*) FROM cust c JOIN src s USING (id)
  WHERE c.national_id_bidx = riskguard.blind_index('cust', 'national_id', s.national_id)")" \
	"2500" "every blind index is filled"
is "$(sql_value "SELECT id FROM cust WHERE national_id_bidx = riskguard.blind_index('cust', 'national_id', (SELECT national_id FROM src WHERE id = 1234))")" \
	"1234" "a lookup by blind index finds a copied row"
is "$(sql_value "SELECT count(DISTINCT substr(national_id, 1, 40)) FROM cust")" "2500" \
	"no two values share a nonce"

# generated columns are computed from the sealed value, as with the trigger
q -c "INSERT INTO cust (id, name, national_id, phone) VALUES (80001, 'ins', '1', '13900000001')" >/dev/null
is "$(sql_value "SELECT count(DISTINCT phone_stored_len) FROM cust WHERE phone IS NOT NULL")" "1" \
	"a stored generated column sees what the trigger path would store"
q -c "DELETE FROM cust WHERE id = 80001" -c "DELETE FROM seen" >/dev/null

# AFTER ROW and statement triggers
printf '3001\tnew one\tBJ\t320106198512240023\t13912345678\n3002\tnew two\tSH\t440305199207150018\t\\N\n' >"$tmp/two.tsv"
q -c "\\copy cust (id, name, branch, national_id, phone) FROM '$tmp/two.tsv'" >/dev/null
is "$(sql_value "SELECT string_agg(at || ':' || coalesce(id::text, '-'), ',' ORDER BY at <> 'BEFORE', at = 'AFTER', id) FROM seen")" \
	"BEFORE:-,row:3001,row:3002,AFTER:-" "statement triggers fire once, AFTER ROW triggers once a row"
is "$(sql_value "SELECT count(*) FROM seen WHERE at = 'row' AND riskguard.envelope_key_id(national_id) IS NOT NULL")" \
	"2" "AFTER ROW triggers see the sealed value"

# errors: the statement's SQLSTATE, the line, nothing left behind
count() { sql_value "SELECT count(*) FROM cust"; }
before=$(count)
copy_err() {	# copy_err FILE [COLUMNS [psql args]]: "SQLSTATE: message | context line"
	local file=$1 cols=${2:-id, name, branch, national_id, phone} out
	shift $(($# < 2 ? $# : 2))
	out=$("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -v VERBOSITY=verbose "$@" -c "\\copy cust ($cols) FROM '$file'" 2>&1 >/dev/null)
	printf '%s | %s\n' "$(printf '%s\n' "$out" | sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\): /\1: /p' | head -n 1)" \
		"$(printf '%s\n' "$out" | sed -n 's/^CONTEXT:  //p' | head -n 1)"
}
printf '4001\ta\tBJ\t1\t1\n4002\t\\N\tBJ\t2\t2\n' >"$tmp/nullname.tsv"
like "$(copy_err "$tmp/nullname.tsv")" '^23502: null value in column "name" .*\| COPY cust, line 2' \
	"a NOT NULL violation names its line"
printf '4001\ta\tBJ\t1\t1\n4002\t\tBJ\t2\t2\n' >"$tmp/emptyname.tsv"
like "$(copy_err "$tmp/emptyname.tsv")" '^23514: new row for relation "cust" violates check constraint .*\| COPY cust, line 2' \
	"a CHECK violation names its line"
seq 5001 6500 | awk '{ printf "%d\tc%d\tBJ\t%d\t\\N\n", $1, $1, $1 }' >"$tmp/dup.tsv"
printf '1500\tdup\tBJ\t1\t\\N\n' >>"$tmp/dup.tsv"
like "$(copy_err "$tmp/dup.tsv")" '^23505: duplicate key value violates unique constraint "cust_pkey".*\| COPY cust, line 1501' \
	"a duplicate key in a later batch names its own line"
printf '4001\ta\tXX\t1\t1\n' >"$tmp/fk.tsv"
like "$(copy_err "$tmp/fk.tsv")" '^23503: insert or update on table "cust" violates foreign key constraint' \
	"foreign keys are checked"
is "$(count)" "$before" "a failed COPY leaves no row behind"

# values that already are envelopes: kept when they are for their row, refused otherwise
q -c "\\copy (SELECT id, name, branch, national_id, phone FROM cust WHERE id IN (7, 8)) TO '$tmp/sealed.tsv'"
orig=$(sql_value "SELECT national_id || phone FROM cust WHERE id = 7")
q -c "DELETE FROM cust WHERE id IN (7, 8)" -c "\\copy cust (id, name, branch, national_id, phone) FROM '$tmp/sealed.tsv'" >/dev/null
is "$(sql_value "SELECT national_id || phone FROM cust WHERE id = 7")" "$orig" \
	"a restored envelope for its own row is kept byte for byte, not sealed twice"
is "$(sql_value "SELECT national_id FROM cust_decrypted WHERE id = 8")" \
	"$(sql_value "SELECT national_id FROM src WHERE id = 8")" "and still opens"
printf '4001\tthief\tBJ\t%s\t\\N\n' "$(sql_value "SELECT national_id FROM cust WHERE id = 9")" >"$tmp/stolen.tsv"
like "$(copy_err "$tmp/stolen.tsv")" '^RG010: .*"national_id".*\| COPY cust, line 1' \
	"another row's envelope is refused (RG010)"

# formats: binary and CSV with a header go through the same path
q -c "\\copy (SELECT id + 10000, name, branch, national_id, phone FROM src WHERE id <= 100) TO '$tmp/rows.bin' (FORMAT binary)"
q -c "\\copy cust (id, name, branch, national_id, phone) FROM '$tmp/rows.bin' (FORMAT binary)" >/dev/null
is "$(sql_value "SELECT count(*) FROM cust_decrypted d JOIN src s ON s.id + 10000 = d.id WHERE d.national_id = s.national_id")" \
	"100" "binary COPY seals and opens"
printf 'id,name,national_id\n20001,"Wang, Fang",510104199112120011\n' >"$tmp/rows.csv"
q -c "\\copy cust (id, name, national_id) FROM '$tmp/rows.csv' (FORMAT csv, HEADER)" >/dev/null
is "$(sql_value "SELECT name || '/' || national_id FROM cust_decrypted WHERE id = 20001")" \
	"Wang, Fang/510104199112120011" "CSV with a header seals"

# a primary key from an identity column: the row is sealed for the id it is given
q >/dev/null <<'SQL'
CREATE TABLE applicant (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, national_id text);
SELECT riskguard.protect_column('applicant', 'national_id');
SQL
printf '110101199003077531\n320106198512240023\n' >"$tmp/ident.tsv"
q -c "\\copy applicant (national_id) FROM '$tmp/ident.tsv'" >/dev/null
is "$(sql_value "SELECT string_agg(id || ':' || national_id, ',' ORDER BY id) FROM applicant_decrypted")" \
	"1:110101199003077531,2:320106198512240023" "rows keyed by an identity column open for the ids they were given"

# a volatile default may read the table: rows are then written one by one, as COPY does
q >/dev/null <<'SQL'
CREATE FUNCTION cust_count() RETURNS bigint LANGUAGE sql VOLATILE AS 'SELECT count(*) FROM cust WHERE id >= 30000';
ALTER TABLE cust ADD COLUMN seen_before bigint DEFAULT cust_count();
SQL
seq 30001 30005 | awk '{ printf "%d\tv%d\t%d\n", $1, $1, $1 }' >"$tmp/vol.tsv"
q -c "\\copy cust (id, name, national_id) FROM '$tmp/vol.tsv'" >/dev/null
is "$(sql_value "SELECT string_agg(seen_before::text, ',' ORDER BY id) FROM cust WHERE id >= 30000")" \
	"0,1,2,3,4" "a volatile default sees the rows copied before it"
q -c "ALTER TABLE cust DROP COLUMN seen_before" >/dev/null

# what PostgreSQL's COPY refuses stays refused
q >/dev/null <<'SQL'
CREATE ROLE copy_none LOGIN;
CREATE ROLE copy_cols LOGIN;
GRANT USAGE ON SCHEMA public TO copy_none, copy_cols;
GRANT INSERT (id, name) ON cust TO copy_cols;
GRANT INSERT ON seen TO copy_cols;
SQL
printf '40001\tnobody\n' >"$tmp/min.tsv"
like "$(copy_err "$tmp/min.tsv" "id, name" -U copy_none)" '^42501: permission denied for table cust' \
	"a role without INSERT cannot COPY"
copy_as() { "$PGBIN/psql" -X -A -t -v ON_ERROR_STOP=1 -U "$1" -c "$2" 2>&1; }
like "$(copy_as copy_cols "\\copy cust (id, name) FROM '$tmp/min.tsv'")" '^COPY 1$' \
	"a role with INSERT on the columns it copies can"
like "$(copy_as copy_cols "\\copy cust (id, name, national_id) FROM '$tmp/two.tsv'")" 'permission denied for table cust' \
	"but not into a column it has no INSERT on"
# sealing needs no privilege on riskguard's schema: the keys' metadata is read as its owner
q -c "REVOKE USAGE ON SCHEMA riskguard FROM PUBLIC" -c "GRANT INSERT ON cust TO copy_cols" >/dev/null
printf '40101\tno usage\t\\N\t622202199001010022\t\\N\n' >"$tmp/nousage.tsv"
is "$(copy_as copy_cols "INSERT INTO cust (id, name, national_id) VALUES (40100, 'no usage', '622202199001010011')")" \
	"INSERT 0 1" "a role without USAGE on schema riskguard inserts into a protected table"
is "$(copy_as copy_cols "\\copy cust (id, name, branch, national_id, phone) FROM '$tmp/nousage.tsv'")" "COPY 1" \
	"and COPYs into it"
q -c "GRANT USAGE ON SCHEMA riskguard TO PUBLIC" -c "REVOKE INSERT ON cust FROM copy_cols" \
  -c "GRANT INSERT (id, name) ON cust TO copy_cols" >/dev/null
is "$(sql_value "SELECT count(*) FROM cust_decrypted WHERE id IN (40100, 40101) AND national_id LIKE '6222021990010100__'")" \
	"2" "both rows sealed and opening"
like "$(PGOPTIONS='-c default_transaction_read_only=on' copy_err "$tmp/min.tsv" "id, name")" \
	'^25006: cannot execute COPY FROM in a read-only transaction' "read-only transactions refuse it"
q -c "ALTER TABLE cust ENABLE ROW LEVEL SECURITY" -c "CREATE POLICY all_rows ON cust USING (true) WITH CHECK (true)" >/dev/null
like "$(copy_as copy_cols "\\copy cust (id, name) FROM '$tmp/min.tsv'")" 'COPY FROM not supported with row-level security' \
	"row-level security is refused as PostgreSQL refuses it"
q -c "ALTER TABLE cust DISABLE ROW LEVEL SECURITY" >/dev/null

# what it leaves to PostgreSQL's COPY is still sealed by the trigger
seq 31001 31005 | awk '{ printf "%d\tw%d\t%d\n", $1, $1, $1 }' >"$tmp/where.tsv"
q -c "\\copy cust (id, name, national_id) FROM '$tmp/where.tsv' WHERE id > 31003" >/dev/null
is "$(sql_value "SELECT string_agg(id::text, ',' ORDER BY id) FROM cust WHERE id BETWEEN 31001 AND 31005 AND riskguard.envelope_key_id(national_id) IS NOT NULL")" \
	"31004,31005" "COPY ... WHERE loads the rows it selects, sealed by the trigger"
q >/dev/null <<'SQL'
CREATE FUNCTION upper_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.name := upper(NEW.name); RETURN NEW; END $$;
CREATE TRIGGER cust_upper BEFORE INSERT ON cust FOR EACH ROW EXECUTE FUNCTION upper_name();
SQL
printf '50001\tlower case\t622201199001010011\n' >"$tmp/other.tsv"
q -c "\\copy cust (id, name, national_id) FROM '$tmp/other.tsv'" >/dev/null
is "$(sql_value "SELECT name || '/' || national_id FROM cust_decrypted WHERE id = 50001")" \
	"LOWER CASE/622201199001010011" "with another BEFORE ROW trigger both run, and the value is sealed"
q -c "DROP TRIGGER cust_upper ON cust" >/dev/null
q -c "CREATE TABLE fresh (id bigint PRIMARY KEY, national_id text)" \
  -c "SELECT riskguard.protect_column('fresh', 'national_id')" >/dev/null 2>&1
printf '1\t110101199003077531\n2\t320106198512240023\n' >"$tmp/fresh.tsv"
q >/dev/null <<SQL
BEGIN;
TRUNCATE fresh;
\\copy fresh FROM '$tmp/fresh.tsv' (FREEZE)
COMMIT;
SQL
is "$(sql_value "SELECT count(*) FROM fresh_decrypted f WHERE riskguard.envelope_key_id((SELECT national_id FROM fresh WHERE id = f.id)) IS NOT NULL AND national_id LIKE '%0%'")" \
	"2" "COPY FREEZE loads sealed rows (through the trigger)"

# a rolled-back COPY leaves nothing
printf '60001\trolled back\t1\n' >"$tmp/rollback.tsv"
q >/dev/null <<SQL
BEGIN;
\\copy cust (id, name, national_id) FROM '$tmp/rollback.tsv'
ROLLBACK;
SQL
is "$(sql_value "SELECT count(*) FROM cust WHERE id = 60001")" "0" "a rolled-back COPY adds nothing"

rg_psql -d postgres -c "DROP DATABASE $db" -c "DROP ROLE copy_none" -c "DROP ROLE copy_cols" >/dev/null
done_testing
