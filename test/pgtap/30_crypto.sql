-- crypto: SQLSTATEs of bad input, tampered values (RG010), and who may decrypt
BEGIN;
CREATE EXTENSION riskguard;
SELECT plan(80);

CREATE TABLE tap_cust (id bigint PRIMARY KEY, national_id text, phone text, card bytea, note integer);
INSERT INTO tap_cust VALUES
  (1, '110101199003077531', '13800138000', '\x4000123456789010', 1),
  (2, '320106198512240023', '13912345678', '\x5500000000000004', 2),
  (3, '440305199207150018', NULL, NULL, 3);
SET client_min_messages = warning;
SELECT lives_ok($$SELECT riskguard.protect_column('tap_cust', 'national_id', 'national_id_bidx')$$,
                'protect a text column with a blind index');
SELECT lives_ok($$SELECT riskguard.protect_column('tap_cust', 'phone')$$, 'protect a second text column');
SELECT lives_ok($$SELECT riskguard.protect_column('tap_cust', 'card')$$, 'protect a bytea column');
RESET client_min_messages;

SELECT results_eq($$SELECT id, national_id, phone, card FROM tap_cust_decrypted ORDER BY id$$,
  $$VALUES (1::bigint, '110101199003077531'::text, '13800138000'::text, '\x4000123456789010'::bytea),
           (2, '320106198512240023', '13912345678', '\x5500000000000004'),
           (3, '440305199207150018', NULL, NULL)$$,
  'the view gives back every plaintext');
SELECT is((SELECT count(*)::int FROM tap_cust WHERE national_id LIKE '%1101011990%' OR phone LIKE '%138001%'), 0,
          'no plaintext is stored');
SELECT is((SELECT count(*)::int FROM tap_cust WHERE riskguard.envelope_key_id(national_id) IS NULL), 0,
          'every national_id is an envelope');

SELECT results_eq($$SELECT action, target, payload ? 'key_id' FROM riskguard.audit_log ORDER BY seq$$,
  $$VALUES ('protect_column', 'public.tap_cust.national_id', true),
           ('protect_column', 'public.tap_cust.phone', true),
           ('protect_column', 'public.tap_cust.card', true)$$,
  'protecting is written to the control audit log');

-- bad input
SELECT throws_ok($$SELECT riskguard.protect_column('tap_cust', 'phone')$$, '42710', NULL, 'protecting twice: 42710');
SELECT throws_ok($$SELECT riskguard.protect_column('tap_cust', 'note')$$, '42804', NULL, 'an integer column: 42804');
CREATE TABLE tap_nopk (id integer, secret text);
SELECT throws_ok($$SELECT riskguard.protect_column('tap_nopk', 'secret')$$, '22023', NULL, 'no primary key: 22023');
SELECT throws_ok($$SELECT riskguard.protect_column('tap_cust', 'id')$$, '42804', NULL, 'the primary key (bigint): 42804');
SELECT throws_ok($$SELECT riskguard.protect_column('tap_cust', 'nothing')$$, '42703', NULL, 'a missing column: 42703');
SELECT throws_ok($$SELECT riskguard.protect_column('tap_cust_decrypted', 'phone')$$, '42809', NULL, 'a view: 42809');
SELECT throws_ok($$SELECT riskguard.protect_column('tap_nopk', 'secret', 'b', 300)$$, '22023', NULL, 'blind_index_bits 300: 22023');
SELECT throws_ok($$SELECT riskguard.protect_column('no_such_table', 'x')$$, '42P01', NULL, 'a missing table: 42P01');
CREATE TABLE tap_gone (id integer PRIMARY KEY, secret text);
SELECT riskguard.protect_column('tap_gone', 'secret');
SELECT 'tap_gone'::regclass::oid AS gone \gset
SET client_min_messages = warning;
DROP TABLE tap_gone CASCADE;
RESET client_min_messages;
SELECT throws_ok(format('SELECT riskguard.rotate_column_key(%s::regclass, %L)', :gone, 'secret'), '42P01', NULL,
                 'a dropped table: 42P01');
SELECT is((SELECT count(*)::int FROM riskguard.column_key WHERE "table"::oid = :gone), 0,
          'a dropped table leaves no key metadata');
SELECT throws_ok($$SELECT riskguard.rotate_column_key('tap_nopk', 'secret')$$, '22023', NULL, 'rotating an unprotected column: 22023');
SELECT throws_ok($$SELECT riskguard.unprotect_column('tap_nopk', 'secret')$$, '22023', NULL, 'unprotecting an unprotected column: 22023');
SELECT throws_ok($$SELECT riskguard.reencrypt('tap_cust', 'phone', 0)$$, '22023', NULL, 'batch_size 0: 22023');
SELECT throws_ok($$SELECT riskguard.blind_index('tap_cust', 'phone', '1')$$, '22023', NULL, 'a column without blind index: 22023');
SELECT throws_ok($$SELECT riskguard.mask('x', -1)$$, '22023', NULL, 'a negative visible_suffix: 22023');
SELECT throws_ok($$SELECT riskguard.decrypt(t.*, 'card') FROM tap_cust t$$, '42804', NULL, 'decrypt of a bytea column: 42804');
SELECT throws_ok($$SELECT riskguard.decrypt(1, 'card')$$, '42804', NULL, 'decrypt of a non-row: 42804');
SELECT throws_ok($$ALTER TABLE tap_cust RENAME TO tap_customers$$, '55000', NULL, 'renaming a protected table: 55000');
SELECT throws_ok($$ALTER TABLE tap_cust RENAME COLUMN phone TO mobile$$, '55000', NULL, 'renaming a protected column: 55000');
SELECT is((SELECT count(*)::int FROM pg_trigger WHERE tgrelid = 'tap_nopk'::regclass), 0,
          'failed protects leave no trigger');

-- through the trigger: a sealed value copied from another row or column is refused
SELECT throws_ok($$UPDATE tap_cust SET national_id = (SELECT national_id FROM tap_cust WHERE id = 1) WHERE id = 2$$,
                 'RG010', NULL, 'writing another row''s envelope: RG010');
SELECT throws_ok($$UPDATE tap_cust SET phone = (SELECT national_id FROM tap_cust WHERE id = 1) WHERE id = 1$$,
                 'RG010', NULL, 'writing another column''s envelope: RG010');

CREATE FUNCTION pg_temp.detail(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
  RETURN d;
END $$;

-- behind the trigger's back (replica mode skips triggers): reads raise RG010
SET LOCAL session_replication_role = replica;
-- (encode() breaks base64 lines at 76 characters; the stored form has no line breaks)
CREATE FUNCTION pg_temp.b64(bytea) RETURNS text LANGUAGE sql AS $$ SELECT translate(encode($1, 'base64'), E'\n', '') $$;
-- id 1: one bit of the ciphertext flipped
UPDATE tap_cust SET national_id = pg_temp.b64(set_bit(decode(national_id, 'base64'), 300,
         1 - get_bit(decode(national_id, 'base64'), 300))) WHERE id = 1;
-- id 2: truncated by one byte (the tag is cut)
UPDATE tap_cust SET national_id = pg_temp.b64(substr(decode(national_id, 'base64'), 1,
         length(decode(national_id, 'base64')) - 1)) WHERE id = 2;
-- id 3: an unknown key id (bytes 1..4)
UPDATE tap_cust SET national_id = pg_temp.b64(overlay(decode(national_id, 'base64') placing '\x7fffff00'::bytea from 2 for 4))
 WHERE id = 3;
-- phone of id 2 := phone of id 1 (another row); card of id 1 := national_id envelope of id 2 as bytes (another column)
UPDATE tap_cust SET phone = (SELECT phone FROM tap_cust WHERE id = 1) WHERE id = 2;
UPDATE tap_cust SET card = decode((SELECT national_id FROM tap_cust WHERE id = 2), 'base64') WHERE id = 1;
RESET session_replication_role;
SELECT throws_ok($$SELECT national_id FROM tap_cust_decrypted WHERE id = 1$$, 'RG010', NULL, 'a flipped bit: RG010');
SELECT throws_ok($$SELECT national_id FROM tap_cust_decrypted WHERE id = 2$$, 'RG010', NULL, 'a truncated value: RG010');
SELECT throws_ok($$SELECT national_id FROM tap_cust_decrypted WHERE id = 3$$, 'RG010', NULL, 'an unknown key id: RG010');
SELECT throws_ok($$SELECT phone FROM tap_cust_decrypted WHERE id = 2$$, 'RG010', NULL, 'another row''s value: RG010');
SELECT throws_ok($$SELECT card FROM tap_cust_decrypted WHERE id = 1$$, 'RG010', NULL, 'another column''s value: RG010');
-- the detail says what failed, without the value
SELECT is(pg_temp.detail($$SELECT national_id FROM tap_cust_decrypted WHERE id = 1$$),
          'The authentication tag does not verify for this row and column.', 'a flipped bit fails authentication');
SELECT is(pg_temp.detail($$SELECT national_id FROM tap_cust_decrypted WHERE id = 3$$),
          'The value was sealed under key id 2147483392, which is not a key of this column.', 'an unknown key id is named');
SELECT is(pg_temp.detail($$SELECT card FROM tap_cust_decrypted WHERE id = 1$$),
          format('The value was sealed under key id %s, which is not a key of this column.',
                 (SELECT id FROM riskguard.column_key WHERE "column" = 'national_id')),
          'another column''s key id is named');
SELECT throws_like($$SELECT phone FROM tap_cust_decrypted WHERE id = 2$$,
                   '%column "phone" of table "public.tap_cust"', 'RG010 names table and column');
SELECT is((SELECT phone FROM tap_cust_decrypted WHERE id = 1), '13800138000', 'untouched values still open');
SELECT is((SELECT riskguard.decrypt(phone, 'tap_cust', 'phone', id) FROM tap_cust WHERE id = 1), '13800138000',
          'the value-and-key form opens a value with its row''s key');
SELECT throws_ok($$SELECT riskguard.decrypt(phone, 'tap_cust', 'phone', 3::bigint) FROM tap_cust WHERE id = 1$$,
                 'RG010', NULL, '... and not with another row''s key');
SELECT throws_ok($$SELECT riskguard.decrypt(phone, 'tap_cust', 'phone', 1) FROM tap_cust WHERE id = 1$$,
                 '42804', NULL, '... a key value of another type: 42804');
SELECT throws_ok($$SELECT riskguard.decrypt(phone, 'tap_cust', 'phone', id, id) FROM tap_cust WHERE id = 1$$,
                 '42804', NULL, '... too many key values: 42804');

-- who may decrypt
CREATE ROLE tap_plain;
CREATE ROLE tap_reader IN ROLE riskguard_reader;
CREATE ROLE tap_admin IN ROLE riskguard_admin;
CREATE ROLE tap_granted;
GRANT SELECT ON tap_cust, tap_cust_decrypted TO tap_plain, tap_reader, tap_admin, tap_granted;
GRANT EXECUTE ON FUNCTION riskguard.decrypt(anyelement, text) TO tap_granted;
SET LOCAL ROLE tap_reader;
SELECT is((SELECT phone FROM tap_cust_decrypted WHERE id = 1), '13800138000', 'a member of riskguard_reader reads plaintext');
SELECT is((SELECT count(*)::int FROM tap_cust WHERE national_id_bidx = riskguard.blind_index('tap_cust', 'national_id', '110101199003077531')),
          1, 'a reader can search by blind index');
-- in parallel workers too: they load their own keys, and check the role like the leader
SET LOCAL force_parallel_mode = on;
SELECT is((SELECT string_agg(phone, ',' ORDER BY id) FROM tap_cust_decrypted WHERE id = 1), '13800138000',
          'a parallel worker decrypts for a reader');
RESET ROLE;
SET LOCAL ROLE tap_plain;
SELECT throws_ok($$SELECT riskguard.decrypt(t.*, 'phone') FROM tap_cust t$$, '42501', NULL,
                 'a parallel worker refuses a role without riskguard_reader');
RESET force_parallel_mode;
SELECT throws_ok($$SELECT phone FROM tap_cust_decrypted WHERE id = 1$$, '42501', NULL, 'a role without riskguard_reader: 42501 from the view');
SELECT throws_ok($$SELECT riskguard.decrypt(t.*, 'phone') FROM tap_cust t$$, '42501', NULL, '... and from decrypt');
SELECT throws_ok($$SELECT riskguard.decrypt_bytea(t.*, 'card') FROM tap_cust t$$, '42501', NULL, '... and from decrypt_bytea');
SELECT throws_ok($$SELECT riskguard.decrypt(phone, 'tap_cust', 'phone', id) FROM tap_cust$$, '42501', NULL,
                 '... and from the value-and-key form');
SELECT throws_ok($$SELECT riskguard.blind_index('tap_cust', 'national_id', 'x')$$, '42501', NULL, '... and from blind_index');
SELECT is((SELECT count(*)::int FROM tap_cust_decrypted WHERE id = 3), 1,
          'the view''s unprotected columns stay readable');
RESET ROLE;
SET LOCAL ROLE tap_granted;
SELECT throws_ok($$SELECT riskguard.decrypt(t.*, 'phone') FROM tap_cust t WHERE id = 1$$, '42501', NULL,
                 'EXECUTE granted directly, without riskguard_reader: still 42501');
RESET ROLE;
SET LOCAL ROLE tap_admin;
SELECT throws_ok($$SELECT phone FROM tap_cust_decrypted WHERE id = 1$$, '42501', NULL, 'riskguard_admin alone cannot decrypt');
SELECT throws_ok($$SELECT riskguard.unprotect_column('tap_cust', 'phone')$$, '42501', NULL, '... not even by unprotecting');
RESET ROLE;

SELECT ok(NOT has_function_privilege('public', p.oid, 'EXECUTE'), 'PUBLIC cannot execute ' || p.oid::regprocedure)
  FROM pg_proc p
 WHERE p.pronamespace = 'riskguard'::regnamespace
   AND p.proname IN ('decrypt', 'decrypt_bytea', 'protect_column', 'unprotect_column', 'rotate_column_key', 'reencrypt',
                     'reencrypt_resumable', '_seal')
   AND p.oid::regprocedure::text NOT LIKE '%blind_index%'
 ORDER BY p.oid::regprocedure::text;
SELECT ok(NOT bool_or(has_function_privilege('public', p.oid, 'EXECUTE')), 'PUBLIC cannot compute blind indexes')
  FROM pg_proc p WHERE p.pronamespace = 'riskguard'::regnamespace AND p.proname = 'blind_index';
SELECT is((SELECT count(*)::int FROM pg_proc WHERE pronamespace = 'riskguard'::regnamespace AND proleakproof), 0,
          'no riskguard function is LEAKPROOF');
SELECT is((SELECT count(*)::int FROM pg_proc WHERE pronamespace = 'riskguard'::regnamespace AND prosecdef
             AND NOT coalesce(proconfig::text[] @> '{"search_path=pg_catalog, pg_temp"}', false)), 0,
          'every SECURITY DEFINER function pins search_path');

-- composite primary keys of the other accepted types bind values too
CREATE TABLE tap_multi (branch uuid, seq numeric, region varchar(8), card text, PRIMARY KEY (branch, seq, region));
INSERT INTO tap_multi VALUES ('6f1c2a4e-0b9d-4f5e-9a3b-2c1d0e9f8a7b', 1.50, 'sh', '6222020200112233445'),
                             ('6f1c2a4e-0b9d-4f5e-9a3b-2c1d0e9f8a7b', 2, 'sh', '6222020200998877665');
SET client_min_messages = warning;
SELECT riskguard.protect_column('tap_multi', 'card');
RESET client_min_messages;
SELECT results_eq($$SELECT seq::text, card FROM tap_multi_decrypted ORDER BY seq$$,
                  $$VALUES ('1.50', '6222020200112233445'), ('2', '6222020200998877665')$$,
                  'a uuid, numeric and varchar primary key binds and opens');
SET LOCAL session_replication_role = replica;
UPDATE tap_multi SET card = (SELECT card FROM tap_multi WHERE seq = 2) WHERE seq = 1.50;
RESET session_replication_role;
SELECT throws_ok($$SELECT card FROM tap_multi_decrypted WHERE seq = 1.5$$, 'RG010', NULL,
                 '... and a value moved to a row differing only in one key column does not open');

-- the trigger deforms and forms each row itself: dropped columns, and a column added with
-- a default after rows exist (those rows do not store it), come through untouched
CREATE TABLE tap_shape (id integer PRIMARY KEY, gone text, secret text, secret_bidx bytea);
INSERT INTO tap_shape (id, gone, secret) VALUES (1, 'x', 's1'), (2, 'y', 's2');
ALTER TABLE tap_shape DROP COLUMN gone;
SET client_min_messages = warning;
SELECT riskguard.protect_column('tap_shape', 'secret', 'secret_bidx');
RESET client_min_messages;
ALTER TABLE tap_shape ADD COLUMN region text NOT NULL DEFAULT 'north';
SELECT secret AS shape_s2 FROM tap_shape WHERE id = 2 \gset
INSERT INTO tap_shape (id, secret) VALUES (3, 's3');
UPDATE tap_shape SET secret = 's1b' WHERE id = 1;
UPDATE tap_shape SET region = 'south' WHERE id = 2;
SELECT results_eq($$SELECT d.id, d.secret, t.region FROM tap_shape_decrypted d JOIN tap_shape t USING (id) ORDER BY id$$,
  $$VALUES (1, 's1b'::text, 'north'::text), (2, 's2', 'south'), (3, 's3', 'north')$$,
  'a dropped column and a column added with a default survive sealing on insert and update');
SELECT is((SELECT secret FROM tap_shape WHERE id = 2), :'shape_s2',
          '... an update of another column keeps the envelope byte for byte');
SELECT is((SELECT secret_bidx FROM tap_shape WHERE id = 1), riskguard.blind_index('tap_shape', 'secret', 's1b'),
          '... the blind index follows the updated value');
SELECT is((SELECT count(*)::int FROM tap_shape WHERE riskguard.envelope_key_id(secret) IS NULL
           OR secret_bidx IS NULL), 0, '... and every row is sealed and indexed');

-- rotating and unprotecting are audited too, naming the keys
CREATE TABLE tap_audit (id integer PRIMARY KEY, secret text);
INSERT INTO tap_audit VALUES (1, 'x');
SET client_min_messages = warning;
SELECT riskguard.protect_column('tap_audit', 'secret');
RESET client_min_messages;
SELECT riskguard.rotate_column_key('tap_audit', 'secret') AS rotated \gset
SELECT is((SELECT payload->>'key_id' FROM riskguard.audit_log WHERE action = 'rotate_column_key'),
          :'rotated', 'a rotation is audited with its new key id');
SELECT riskguard.unprotect_column('tap_audit', 'secret');
SELECT is((SELECT target FROM riskguard.audit_log WHERE action = 'unprotect_column'),
          'public.tap_audit.secret', 'unprotecting is audited');
SELECT throws_ok($$SELECT riskguard._key_change('drop_everything', 'tap_audit', 'secret')$$, '22023', NULL,
                 'only the three key operations exist');
-- the metadata changes only through the functions, and only for the table's owner
CREATE ROLE tap_admin2 LOGIN IN ROLE riskguard_admin;
SET LOCAL SESSION AUTHORIZATION tap_admin2;
SELECT throws_ok($$INSERT INTO riskguard.column_key ("table", "column") VALUES ('tap_audit', 'secret')$$, '42501', NULL,
                 'an admin cannot write key metadata directly');
SELECT throws_ok($$SELECT riskguard._key_change('rotate_column_key', 'tap_cust', 'phone')$$, '42501', NULL,
                 '... nor change the keys of a table it does not own');
RESET SESSION AUTHORIZATION;

SELECT * FROM finish();
ROLLBACK;
