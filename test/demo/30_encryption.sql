-- Act 30: column encryption.  The platform keeps national ID numbers and phone numbers
-- of its borrowers sealed: the disk and the backups hold ciphertext, the collections
-- team (riskguard_reader) reads plaintext, support staff see masked values, and the
-- security team rotates the key.
\set QUIET on
\pset footer off
\echo
\echo '== Act 30: sealed columns (national ID numbers, phone numbers)'
SET client_min_messages = warning;
CREATE TABLE borrowers (
  borrower_id bigint PRIMARY KEY,
  full_name text NOT NULL,
  city text NOT NULL,
  national_id text NOT NULL,
  phone text
);
INSERT INTO borrowers VALUES
  (1001, 'Li Wei',     'Shanghai', '310104198806150036', '13816880021'),
  (1002, 'Wang Fang',  'Beijing',  '110105199203041228', '13901234567'),
  (1003, 'Zhang Min',  'Shenzhen', '440305198511270413', '15012345678'),
  (1004, 'Chen Jie',   'Hangzhou', '330106199907190022', NULL);

\echo 'Protect both columns; national_id gets a 32-bit blind index for lookups:'
SELECT 'national_id' AS protected FROM riskguard.protect_column('borrowers', 'national_id', 'national_id_bidx')
UNION ALL
SELECT 'phone' FROM riskguard.protect_column('borrowers', 'phone');
RESET client_min_messages;
SELECT "column", blind_index_column, blind_index_bits FROM riskguard.protected_column
 WHERE "table" = 'borrowers'::regclass ORDER BY 1;

\echo 'What the disk (and every backup) holds: base64 envelopes, never the numbers:'
SELECT borrower_id, full_name, left(national_id, 40) || '...' AS national_id_on_disk,
       length(national_id) AS chars, encode(national_id_bidx, 'hex') AS blind_index,
       left(phone, 24) || '...' AS phone_on_disk
  FROM borrowers ORDER BY borrower_id;

\echo 'New rows are sealed as they are written, by COPY or INSERT:'
INSERT INTO borrowers VALUES (1005, 'Zhao Lei', 'Chengdu', '510107199310100517', '18628001234');
COPY borrowers (borrower_id, full_name, city, national_id, phone) FROM stdin;
1010	Liu Yang	Nanjing	320102199402283311	13770001234
1011	Huang Qing	Xiamen	350203198907070628	\N
\.
SELECT borrower_id, riskguard.envelope_key_id(national_id) AS key_id,
       length(national_id) AS chars, phone IS NULL AS no_phone
  FROM borrowers WHERE borrower_id IN (1005, 1010, 1011) ORDER BY borrower_id;

-- what a statement raises, as "SQLSTATE: message", so the act can show refusals
CREATE FUNCTION pg_temp.attempt(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text;
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
  RETURN st || ': ' || msg;
END $$;

CREATE ROLE demo_collections IN ROLE riskguard_reader;
CREATE ROLE demo_support;
GRANT SELECT ON borrowers, borrowers_decrypted TO demo_collections, demo_support;

\echo 'The collections team (a member of riskguard_reader) reads plaintext through the view:'
SET ROLE demo_collections;
SELECT borrower_id, full_name, national_id, phone FROM borrowers_decrypted ORDER BY borrower_id;

\echo 'Looking a borrower up by national ID: an ordinary btree index on the blind index column:'
RESET ROLE;
CREATE INDEX borrowers_national_id_bidx ON borrowers (national_id_bidx);
SET ROLE demo_collections;
SELECT borrower_id, full_name, national_id
  FROM borrowers_decrypted
 WHERE national_id_bidx = riskguard.blind_index('borrowers', 'national_id', '440305198511270413')
   AND national_id = '440305198511270413';

\echo 'A masked display for screens that only need the last digits:'
SELECT borrower_id, full_name, riskguard.mask(national_id) AS national_id,
       riskguard.mask(phone, 4) AS phone
  FROM borrowers_decrypted ORDER BY borrower_id;
RESET ROLE;

\echo 'Support staff without riskguard_reader get 42501, from the view or the function:'
SET ROLE demo_support;
SELECT 'borrowers_decrypted' AS path,
       pg_temp.attempt($$SELECT national_id FROM borrowers_decrypted WHERE borrower_id = 1001$$) AS result
UNION ALL
SELECT 'riskguard.decrypt()',
       pg_temp.attempt($$SELECT riskguard.decrypt(b.*, 'national_id') FROM borrowers b WHERE borrower_id = 1001$$);
\echo 'They still see the columns that are not protected:'
SELECT borrower_id, full_name, city FROM borrowers_decrypted ORDER BY borrower_id;
RESET ROLE;

\echo 'Key rotation: a new key for new writes, then the older values resealed in batches:'
SELECT riskguard.rotate_column_key('borrowers', 'national_id') AS new_key_id;
SELECT id AS key_id, "column", status FROM riskguard.column_key
 WHERE "table" = 'borrowers'::regclass ORDER BY id;
INSERT INTO borrowers VALUES (1006, 'Sun Li', 'Wuhan', '420106199512120044', '13307001234');
SELECT riskguard.envelope_key_id(national_id) AS key_id, count(*) AS values_sealed
  FROM borrowers GROUP BY 1 ORDER BY 1;
SET client_min_messages = warning;
SELECT riskguard.reencrypt('borrowers', 'national_id', 2) AS resealed;
RESET client_min_messages;
SELECT riskguard.envelope_key_id(national_id) AS key_id, count(*) AS values_sealed
  FROM borrowers GROUP BY 1 ORDER BY 1;
\echo 'The blind index does not change with the key, and every value still opens:'
SET ROLE demo_collections;
SELECT borrower_id, national_id FROM borrowers_decrypted
 WHERE national_id_bidx = riskguard.blind_index('borrowers', 'national_id', '310104198806150036');
RESET ROLE;

\echo 'A sealed value moved to another row does not open (RG010):'
SET session_replication_role = replica;
UPDATE borrowers SET national_id = (SELECT national_id FROM borrowers WHERE borrower_id = 1001)
 WHERE borrower_id = 1002;
RESET session_replication_role;
SELECT pg_temp.attempt($$SELECT national_id FROM borrowers_decrypted WHERE borrower_id = 1002$$) AS reading_row_1002;

\echo 'Every key operation is in the control audit log:'
SELECT seq, actor, action, target, payload FROM riskguard.audit_log
 WHERE action IN ('protect_column', 'rotate_column_key', 'unprotect_column') ORDER BY seq;
