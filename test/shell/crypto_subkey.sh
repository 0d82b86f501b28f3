#!/usr/bin/env bash
# Nonce runs and cached HChaCha20 subkeys in the server: 70,000 rows of three protected
# columns sealed by one session (210,000 nonces, three keys alternating, four runs) are
# all distinct, come in runs of at most 65,536 under one prefix, and are byte for byte
# what PyNaCl's XChaCha20-Poly1305 makes of the same key, nonce and associated data
# (test/reference/crypto.py check).  The view opens them all, also interleaved with values
# sealed elsewhere with random nonces, and after a key rotation; two sessions sealing at
# once never share a prefix; a tampered counter fails with RG010.
set -u
. "$RG_TOP/test/lib.sh"
. "$RG_TOP/test/shell/tap.sh"

db=crypto_subkey_$$
export PGDATABASE=$db
tmp=$(mktemp -d)
chmod 755 "$tmp"
cleanup() {
	"$PGBIN/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
	rm -rf "$tmp" "$RG_TOP/test/reference/__pycache__"
}
trap cleanup EXIT
rg_psql -d postgres -c "CREATE DATABASE $db"
ref() { /usr/bin/python3 "$RG_TOP/test/reference/crypto.py" "$@"; }
q() { "$PGBIN/psql" -X -q -At -F $'\t' -v ON_ERROR_STOP=1 "$@"; }

rg_psql >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION riskguard;
CREATE TABLE customers (id bigint PRIMARY KEY, national_id text, phone text, card bytea);
SELECT riskguard.protect_column('customers', 'national_id', 'national_id_bidx');
SELECT riskguard.protect_column('customers', 'phone');
SELECT riskguard.protect_column('customers', 'card');
-- the plaintexts of row id, so that every check can recompute them
CREATE FUNCTION nid(bigint) RETURNS text LANGUAGE sql IMMUTABLE
	AS $$ SELECT (110101199000000000 + $1)::text $$;
CREATE FUNCTION phone(bigint) RETURNS text LANGUAGE sql IMMUTABLE
	AS $$ SELECT (13800000000 + $1 * 7)::text $$;
CREATE FUNCTION card(bigint) RETURNS bytea LANGUAGE sql IMMUTABLE
	AS $$ SELECT pg_catalog.convert_to('6222' || lpad($1::text, 15, '0'), 'UTF8') $$;
-- every stored envelope as bytes, with the row and column it belongs to
CREATE VIEW envelopes AS
	SELECT id, 'national_id' AS col, decode(national_id, 'base64') AS env FROM customers
	UNION ALL SELECT id, 'phone', decode(phone, 'base64') FROM customers
	UNION ALL SELECT id, 'card', card FROM customers;
CREATE VIEW nonces AS
	SELECT id, col, substr(env, 6, 16) AS prefix,
		('x' || encode(substr(env, 22, 8), 'hex'))::bit(64)::bigint AS counter
	FROM envelopes;
SQL

# one session, one statement: 210,000 nonces
q -c "INSERT INTO customers (id, national_id, phone, card)
	SELECT g, nid(g), phone(g), card(g) FROM generate_series(1, 70000) g"
is "$(q -c "SELECT count(*), count(DISTINCT substr(env, 6, 24)) FROM envelopes")" $'210000\t210000' \
	"one session seals 210,000 values with 210,000 distinct nonces"
is "$(q -c "SELECT string_agg(n::text, ' ' ORDER BY first) FROM (
	SELECT prefix, count(*) AS n, min(id * 3 + CASE col WHEN 'national_id' THEN 0 WHEN 'phone' THEN 1 ELSE 2 END) AS first,
		min(counter) = 0 AND max(counter) = count(*) - 1 AND count(DISTINCT counter) = count(*) AS counted
	FROM nonces GROUP BY prefix) r WHERE counted")" "65536 65536 65536 13392" \
	"... in four runs: a 16-byte prefix and a counter from 0, a new prefix after 65,536"

# PyNaCl reseals every value with its own nonce to the same bytes
for col in national_id phone card; do
	case $col in
	card) plain="'\\x' || encode(card(id), 'hex')" stored="card::text" ;;
	national_id) plain="nid(id)" stored=$col ;;
	*) plain="$col(id)" stored=$col ;;
	esac
	q -c "SELECT id, $plain, $stored FROM customers ORDER BY id" >"$tmp/$col.tsv"
	is "$(ref check "$RG_KEYFILE" public customers "$col" <"$tmp/$col.tsv")" "checked 70000, wrong 0" \
		"PyNaCl opens all 70,000 $col values and seals them to the same bytes"
done
is "$(q -c "SELECT count(*) FROM customers_decrypted
	WHERE national_id = nid(id) AND phone = phone(id) AND card = card(id)")" "70000" \
	"the view opens all 70,000 rows through the cached subkeys"
is "$(q -c "SELECT count(*) FROM customers
	WHERE national_id_bidx = riskguard.blind_index('customers', 'national_id', nid(id))")" "70000" \
	"... and their blind indexes match"

# values sealed elsewhere with random nonces (as the previous release and other clients
# seal), stored between values the server seals, open alternately with the server's
key_id=$(q -c "SELECT id FROM riskguard.column_key WHERE \"column\" = 'national_id' AND status = 'active'")
seq 70001 2 70799 | while read -r i; do printf '%s\t%s\n' "$i" "$((110101199000000000 + i))"; done \
	| ref seal-rows "$RG_KEYFILE" "$key_id" public customers national_id >"$tmp/client.tsv"
while IFS=$'\t' read -r i env; do
	printf '%s\t%s\n' "$i" "$env"
	printf '%s\t%s\n' "$((i + 1))" "$((110101199000000000 + i + 1))"
done <"$tmp/client.tsv" >"$tmp/mixed.tsv"
q -c "\\copy customers (id, national_id) FROM '$tmp/mixed.tsv'"
is "$(q -c "SELECT count(*) FROM customers c JOIN (VALUES $(sed "s/^\([0-9]*\)\t\(.*\)$/(\1, '\2'),/" "$tmp/client.tsv" | tr -d '\n' | sed 's/,$//')) v(id, env)
	ON v.id = c.id AND v.env = c.national_id")" "400" "400 values sealed with random nonces are kept as they are"
is "$(q -c "SELECT count(*), count(*) FILTER (WHERE national_id = nid(id)) FROM customers_decrypted WHERE id > 70000")" $'800\t800' \
	"... and open through the view, alternating with 400 the server sealed"
is "$(q -c "SELECT count(DISTINCT prefix) FROM nonces WHERE id > 70000 AND col = 'national_id'")" "401" \
	"... which are 400 random prefixes and one run"

# a key rotation: reencrypt opens under the old key and seals under the new one, row by row
q -c "SELECT riskguard.rotate_column_key('customers', 'national_id')" >/dev/null
q -c "SET client_min_messages = warning; SELECT riskguard.reencrypt('customers', 'national_id', 100000)" >/dev/null
is "$(q -c "SELECT count(*) FILTER (WHERE riskguard.envelope_key_id(national_id) = $key_id) FROM customers")" "0" \
	"after rotation, reencrypt reseals every value under the new key"
is "$(q -c "SELECT count(*) FROM customers_decrypted WHERE national_id = nid(id)")" "70800" \
	"... and all 70,800 open"
q -c "SELECT id, nid(id), national_id FROM customers WHERE id % 7 = 0 ORDER BY id" >"$tmp/rotated.tsv"
is "$(ref check "$RG_KEYFILE" public customers national_id <"$tmp/rotated.tsv")" "checked 10114, wrong 0" \
	"... and PyNaCl reseals every 7th of them to the same bytes"
is "$(q -c "SELECT count(DISTINCT substr(env, 6, 24)) FROM envelopes")" "210800" \
	"no nonce repeats across the first writes, the client's values and the reencryption"

# one run across a rotation: a session's values under two keys of one column share a
# prefix, and each key has its own subkeys
q >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE TABLE notes (id int PRIMARY KEY, note text);
SELECT riskguard.protect_column('notes', 'note');
INSERT INTO notes VALUES (1, 'before rotation'), (2, 'before rotation too');
SELECT riskguard.rotate_column_key('notes', 'note');
INSERT INTO notes VALUES (3, 'after rotation'), (4, 'after rotation too');
SQL
is "$(q -c "SELECT count(DISTINCT substr(decode(note, 'base64'), 6, 16)), count(DISTINCT riskguard.envelope_key_id(note)) FROM notes")" \
	$'1\t2' "a session seals under two keys of one column in one run"
is "$(q -c "SELECT string_agg(note, ', ' ORDER BY id) FROM notes_decrypted")" \
	"before rotation, before rotation too, after rotation, after rotation too" "... and the values of both keys open"

# two sessions sealing at once never share a prefix or a nonce
q -c "CREATE TABLE accounts (id bigint PRIMARY KEY, card text);
	SET client_min_messages = warning; SELECT riskguard.protect_column('accounts', 'card')" >/dev/null
for s in 0 1; do
	q -c "INSERT INTO accounts SELECT g, 'card ' || g FROM generate_series($s * 30000 + 1, $s * 30000 + 30000) g" &
done
wait
is "$(q -c "SELECT count(*), count(DISTINCT decode(card, 'base64')), count(DISTINCT substr(decode(card, 'base64'), 6, 16)) FROM accounts")" \
	$'60000\t60000\t2' "two sessions sealing 30,000 values each at once: distinct nonces under one prefix each"
is "$(q -c "SELECT count(*) FROM (SELECT substr(decode(card, 'base64'), 6, 16) FROM accounts
	GROUP BY 1 HAVING count(DISTINCT id > 30000) > 1) s")" "0" "... no prefix is shared by the two"
is "$(q -c "SELECT count(*) FROM accounts_decrypted WHERE card = 'card ' || id")" "60000" "... and all open"

# tampering with the counter: same prefix and subkey, another nonce, so the tag fails
q -c "SET session_replication_role = replica;
	UPDATE customers SET phone = translate(encode(set_byte(decode(phone, 'base64'), 25,
		get_byte(decode(phone, 'base64'), 25) # 1), 'base64'), E'\\n', '') WHERE id = 500" >/dev/null
like "$(sql_error "SELECT phone FROM customers_decrypted WHERE id = 500")" \
	'^RG010: could not open sealed value of column "phone" of table "public.customers"' \
	"a flipped counter bit fails to open (RG010)"
is "$(q -c "SELECT count(*) FROM customers_decrypted WHERE id BETWEEN 490 AND 499 AND phone = phone(id)")" "10" \
	"... while the values of the same run around it open"

done_testing
