-- crypto: the text form of envelopes, decoded on every read.  Every plaintext length
-- from 0 to 40 bytes (all three base64 endings, envelopes of 45 to 85 bytes) reads back
-- through the view, and stored text that is not canonical base64 raises RG010 saying so,
-- wherever the fault is: in the first groups, in a lone group before the last, in the
-- last group, in its padding or in the bits padding leaves over.
BEGIN;
CREATE EXTENSION riskguard;
SELECT plan(15);

CREATE TABLE tap_b64 (id integer PRIMARY KEY, v text);
INSERT INTO tap_b64 SELECT n, repeat(chr(97 + n % 26), n) FROM generate_series(0, 40) n;
SET client_min_messages = warning;
SELECT lives_ok($$SELECT riskguard.protect_column('tap_b64', 'v')$$, 'protect a text column');
RESET client_min_messages;

SELECT results_eq($$SELECT id, v FROM tap_b64_decrypted ORDER BY id$$,
  $$SELECT n, repeat(chr(97 + n % 26), n) FROM generate_series(0, 40) n$$,
  'every plaintext of 0 to 40 bytes reads back');
SELECT is((SELECT count(*)::int FROM tap_b64 WHERE length(v) <> 4 * ((id + 45 + 2) / 3)), 0,
          'each is stored as the padded base64 of its envelope, 45 bytes longer than the plaintext');

-- The outcome of reading one row: 'opened', or the detail of its RG010.
CREATE FUNCTION pg_temp.read_detail(i integer) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  d text;
  p text;
BEGIN
  SELECT v INTO p FROM tap_b64_decrypted WHERE id = i;
  RETURN 'opened';
EXCEPTION WHEN SQLSTATE 'RG010' THEN
  GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
  RETURN d;
END $$;
CREATE FUNCTION pg_temp.put(s text, pos integer, c text) RETURNS text LANGUAGE sql AS
  $$ SELECT overlay(s placing c from pos for 1) $$;

-- behind the trigger's back (replica mode skips triggers)
SET LOCAL session_replication_role = replica;
-- id 10 (76 characters): a character outside the alphabet among the first groups
UPDATE tap_b64 SET v = pg_temp.put(v, 12, '!') WHERE id = 10;
-- id 11: padding in the middle
UPDATE tap_b64 SET v = pg_temp.put(v, 40, '=') WHERE id = 11;
-- id 14 (80 characters: 18 groups two at a time, then one lone group, then the last):
-- a bad character in the lone group
UPDATE tap_b64 SET v = pg_temp.put(v, 75, '*') WHERE id = 14;
-- id 15: a bad character opening the last group
UPDATE tap_b64 SET v = pg_temp.put(v, length(v) - 3, '.') WHERE id = 15;
-- id 16: the last character cut off
UPDATE tap_b64 SET v = left(v, -1) WHERE id = 16;
-- id 17: a line break inside
UPDATE tap_b64 SET v = pg_temp.put(v, 30, E'\n') WHERE id = 17;
-- id 18: another character of the alphabet: valid text, a different ciphertext
UPDATE tap_b64 SET v = pg_temp.put(v, 50, CASE WHEN substr(v, 50, 1) = 'A' THEN 'B' ELSE 'A' END) WHERE id = 18;
-- id 19 (64-byte envelope, text ends "xx=="): a leftover bit set in the second character
UPDATE tap_b64 SET v = pg_temp.put(v, length(v) - 2, translate(substr(v, length(v) - 2, 1), 'AQgw', 'BRhx'))
 WHERE id = 19;
-- id 20 (65-byte envelope, text ends "xxx="): a leftover bit set in the third character
UPDATE tap_b64 SET v = pg_temp.put(v, length(v) - 1,
         translate(substr(v, length(v) - 1, 1), 'AEIMQUYcgkosw048', 'BFJNRVZdhlptx159'))
 WHERE id = 20;
-- id 21 (66-byte envelope, no padding): padding followed by a character
UPDATE tap_b64 SET v = pg_temp.put(v, length(v) - 1, '=') WHERE id = 21;
RESET session_replication_role;

SELECT is(pg_temp.read_detail(10), 'The value is not base64 text.', 'a character outside the alphabet: RG010, not base64');
SELECT is(pg_temp.read_detail(11), 'The value is not base64 text.', 'padding in the middle: RG010, not base64');
SELECT is(pg_temp.read_detail(14), 'The value is not base64 text.', 'a bad character in a lone group before the last: RG010, not base64');
SELECT is(pg_temp.read_detail(15), 'The value is not base64 text.', 'a bad character in the last group: RG010, not base64');
SELECT is(pg_temp.read_detail(16), 'The value is not base64 text.', 'a length that is not a multiple of 4: RG010, not base64');
SELECT is(pg_temp.read_detail(17), 'The value is not base64 text.', 'a line break: RG010, not base64');
SELECT is(pg_temp.read_detail(18), 'The authentication tag does not verify for this row and column.',
          'another character of the alphabet: RG010, the tag does not verify');
SELECT is(pg_temp.read_detail(19), 'The value is not base64 text.', 'leftover bits before "==": RG010, not base64');
SELECT is(pg_temp.read_detail(20), 'The value is not base64 text.', 'leftover bits before "=": RG010, not base64');
SELECT is(pg_temp.read_detail(21), 'The value is not base64 text.', 'padding before the last character: RG010, not base64');
SELECT throws_ok($$SELECT riskguard.decrypt(t, 'v') FROM tap_b64 t WHERE id = 14$$, 'RG010', NULL,
                 'the whole-row form refuses the same text: RG010');
SELECT results_eq($$SELECT count(v)::int FROM tap_b64_decrypted WHERE id NOT IN (10, 11, 14, 15, 16, 17, 18, 19, 20, 21)$$,
                  $$VALUES (31)$$, 'the untouched rows still read');

SELECT * FROM finish();
ROLLBACK;
