-- crypto: protecting columns, what the disk holds, what readers see, blind indexes,
-- masks, rotation, and the errors of each step.  Ciphertexts are random, so only their
-- shape is shown.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS riskguard;
RESET client_min_messages;
\set SHOW_CONTEXT never

-- identifiers that need quoting everywhere
CREATE SCHEMA "Risk Ops";
CREATE TABLE "Risk Ops"."Customer Data" (
  "Cust Id" integer PRIMARY KEY,
  "Full Name" text NOT NULL,
  "ID No" text,
  phone text,
  photo bytea
);
INSERT INTO "Risk Ops"."Customer Data" VALUES
  (1, 'Li Wei', '110101199003077531', '13800138000', '\x89504e47'),
  (2, 'Zhang Min', '320106198512240023', '13912345678', NULL),
  (3, 'Chen Jie', NULL, '15000001111', '\x');

SELECT riskguard.protect_column('"Risk Ops"."Customer Data"', 'ID No', 'ID No bidx');
SELECT riskguard.protect_column('"Risk Ops"."Customer Data"', 'phone', 'phone_bidx', 12);
SELECT riskguard.protect_column('"Risk Ops"."Customer Data"', 'photo');

-- the metadata holds ids and names, nothing secret
SELECT id > 0 AS has_id, "table", "column", status FROM riskguard.column_key ORDER BY id;
SELECT "table", "column", blind_index_column, blind_index_bits FROM riskguard.protected_column
 ORDER BY "column";

-- the disk holds base64 envelopes (text) and raw envelopes (bytea): 45 bytes of overhead
SELECT "Cust Id",
       "ID No" ~ '^[A-Za-z0-9+/]+={0,2}$' AS id_is_base64,
       length(decode("ID No", 'base64')) AS id_envelope_bytes,
       length(decode(phone, 'base64')) AS phone_envelope_bytes,
       length(photo) AS photo_envelope_bytes,
       get_byte(photo, 0) AS photo_version,
       riskguard.envelope_key_id("ID No") = (SELECT id FROM riskguard.column_key WHERE "column" = 'ID No') AS id_key_ok,
       length("ID No bidx") AS id_bidx_bytes,
       length(phone_bidx) AS phone_bidx_bytes,
       get_byte(phone_bidx, 1) & 15 AS phone_bidx_low_bits
  FROM "Risk Ops"."Customer Data" ORDER BY 1;

-- the view shows plaintext to readers (a superuser is one)
SELECT "Cust Id", "Full Name", "ID No", phone, photo FROM "Risk Ops"."Customer Data_decrypted" ORDER BY 1;
SELECT reloptions FROM pg_class WHERE oid = '"Risk Ops"."Customer Data_decrypted"'::regclass;
SELECT pg_get_viewdef('"Risk Ops"."Customer Data_decrypted"'::regclass);

-- writes are sealed by the trigger; a blind index finds the row
INSERT INTO "Risk Ops"."Customer Data" ("Cust Id", "Full Name", "ID No", phone)
VALUES (4, 'Zhao Lei', '440305199207150018', '13700000000');
SELECT "Cust Id", "Full Name", "ID No"
  FROM "Risk Ops"."Customer Data_decrypted"
 WHERE "ID No bidx" = riskguard.blind_index('"Risk Ops"."Customer Data"', 'ID No', '440305199207150018');
SELECT count(*) AS phone_candidates
  FROM "Risk Ops"."Customer Data"
 WHERE phone_bidx = riskguard.blind_index('"Risk Ops"."Customer Data"', 'phone', '13700000000');

-- an unchanged sealed value is kept as it is, never sealed twice
CREATE TEMP TABLE before AS SELECT "Cust Id", "ID No" FROM "Risk Ops"."Customer Data";
UPDATE "Risk Ops"."Customer Data" SET "Full Name" = "Full Name" || '.';
UPDATE "Risk Ops"."Customer Data" d SET "ID No" = b."ID No" FROM before b WHERE b."Cust Id" = d."Cust Id";
SELECT count(*) AS unchanged FROM "Risk Ops"."Customer Data" d JOIN before b USING ("Cust Id")
 WHERE d."ID No" IS NOT DISTINCT FROM b."ID No";

-- a new primary key reseals the row's values for it
UPDATE "Risk Ops"."Customer Data" SET "Cust Id" = 40 WHERE "Cust Id" = 4;
SELECT "Cust Id", "ID No", phone FROM "Risk Ops"."Customer Data_decrypted" WHERE "Cust Id" = 40;

-- masks
SELECT riskguard.mask("ID No") AS id_no, riskguard.mask(phone, 3) AS phone
  FROM "Risk Ops"."Customer Data_decrypted" ORDER BY "Cust Id";
SELECT riskguard.mask('张三丰', 1) AS multibyte, riskguard.mask('123') AS short,
       riskguard.mask('secret', 0) AS none_visible, riskguard.mask('') AS empty;
SELECT riskguard.mask('123', -1);

-- rotation: new writes use the new key; reencrypt moves the rest, and again finds nothing
SELECT riskguard.rotate_column_key('"Risk Ops"."Customer Data"', 'ID No') AS new_key_id \gset
SELECT :new_key_id = max(id) AS rotated_to_newest FROM riskguard.column_key;
SELECT "column", status, count(*) FROM riskguard.column_key GROUP BY 1, 2 ORDER BY 1, 2;
SELECT riskguard.reencrypt('"Risk Ops"."Customer Data"', 'ID No', 2);
SELECT riskguard.reencrypt('"Risk Ops"."Customer Data"', 'ID No');
SELECT count(DISTINCT riskguard.envelope_key_id("ID No")) AS keys_in_use FROM "Risk Ops"."Customer Data";
SELECT "Cust Id", "ID No" FROM "Risk Ops"."Customer Data_decrypted" ORDER BY 1;
-- the blind index survives rotation
SELECT "Cust Id" FROM "Risk Ops"."Customer Data"
 WHERE "ID No bidx" = riskguard.blind_index('"Risk Ops"."Customer Data"', 'ID No', '110101199003077531');

-- grants on the view survive its regeneration
CREATE ROLE crypto_regress_reader;
GRANT SELECT ON "Risk Ops"."Customer Data_decrypted" TO crypto_regress_reader;
SELECT riskguard.unprotect_column('"Risk Ops"."Customer Data"', 'photo');
SELECT has_table_privilege('crypto_regress_reader', '"Risk Ops"."Customer Data_decrypted"', 'SELECT') AS grant_kept,
       (SELECT reloptions FROM pg_class WHERE oid = '"Risk Ops"."Customer Data_decrypted"'::regclass) AS options;
SELECT "Cust Id", photo FROM "Risk Ops"."Customer Data" ORDER BY 1;

-- names and types the sealed values are bound to cannot change under them
ALTER TABLE "Risk Ops"."Customer Data" RENAME TO customers;
ALTER TABLE "Risk Ops"."Customer Data" RENAME COLUMN "ID No" TO id_no;
ALTER TABLE "Risk Ops"."Customer Data" ALTER COLUMN phone TYPE varchar(200);
ALTER SCHEMA "Risk Ops" RENAME TO risk;
ALTER TABLE "Risk Ops"."Customer Data" RENAME COLUMN "Full Name" TO full_name;
ALTER TABLE "Risk Ops"."Customer Data" RENAME COLUMN full_name TO "Full Name";

-- bad input: nothing is half applied
CREATE TABLE crypto_nopk (id integer, secret text);
CREATE TABLE crypto_types (id integer PRIMARY KEY, amount numeric, note varchar(20));
INSERT INTO crypto_types VALUES (1, 10.5, 'n');
CREATE TABLE crypto_tspk (at timestamptz PRIMARY KEY, secret text);
SELECT riskguard.protect_column('"Risk Ops"."Customer Data"', 'ID No');
SELECT riskguard.protect_column('crypto_nopk', 'secret');
SELECT riskguard.protect_column('crypto_types', 'amount');
SELECT riskguard.protect_column('crypto_types', 'note');
SELECT riskguard.protect_column('crypto_types', 'id');
SELECT riskguard.protect_column('crypto_types', 'missing');
SELECT riskguard.protect_column('crypto_tspk', 'secret');
SELECT riskguard.protect_column('"Risk Ops"."Customer Data_decrypted"', 'phone');
SELECT riskguard.protect_column('"Risk Ops"."Customer Data"', 'Full Name', 'b', 0);
SELECT riskguard.protect_column('"Risk Ops"."Customer Data"', 'Full Name', 'Cust Id');
SELECT riskguard.protect_column('"Risk Ops"."Customer Data"', 'Full Name', 'phone_bidx');
SELECT riskguard.protect_column('no_such_table', 'x');
SELECT riskguard.rotate_column_key('crypto_types', 'note');
SELECT riskguard.reencrypt('"Risk Ops"."Customer Data"', 'ID No', 0);
SELECT riskguard.blind_index('"Risk Ops"."Customer Data"', 'photo', 'x');
SELECT riskguard.blind_index('crypto_types', 'note', 'x');
SELECT riskguard.decrypt(t.*, 'note') FROM crypto_types t;
SELECT count(*) AS config_rows FROM riskguard.protected_column
 WHERE "table" IN ('crypto_nopk'::regclass, 'crypto_types'::regclass, 'crypto_tspk'::regclass);
SELECT count(*) AS triggers FROM pg_trigger
 WHERE tgrelid IN ('crypto_nopk'::regclass, 'crypto_types'::regclass, 'crypto_tspk'::regclass);
SELECT count(*) AS columns_added FROM pg_attribute WHERE attrelid = '"Risk Ops"."Customer Data"'::regclass
 AND attname = 'b';

-- a dropped table takes its metadata along; its OID is then refused
CREATE TABLE crypto_dropme (id bigint PRIMARY KEY, secret text);
SELECT riskguard.protect_column('crypto_dropme', 'secret');
SELECT 'crypto_dropme'::regclass::oid AS dropped_oid \gset
DROP TABLE crypto_dropme CASCADE;
SELECT count(*) AS left_behind FROM riskguard.column_key WHERE "table"::oid = :dropped_oid;
\set VERBOSITY sqlstate
SELECT riskguard.protect_column(:dropped_oid::regclass, 'secret');
SELECT riskguard.rotate_column_key(:dropped_oid::regclass, 'secret');
\set VERBOSITY default

-- unprotecting every column gives the plaintext back and removes trigger and view
SELECT riskguard.unprotect_column('"Risk Ops"."Customer Data"', 'ID No');
SELECT riskguard.unprotect_column('"Risk Ops"."Customer Data"', 'phone');
SELECT * FROM "Risk Ops"."Customer Data" ORDER BY 1;
SELECT to_regclass('"Risk Ops"."Customer Data_decrypted"') AS view,
       (SELECT count(*) FROM pg_trigger WHERE tgrelid = '"Risk Ops"."Customer Data"'::regclass) AS triggers,
       (SELECT count(*) FROM riskguard.column_key) AS keys;
SELECT riskguard.unprotect_column('"Risk Ops"."Customer Data"', 'phone');

DROP TABLE crypto_nopk, crypto_types, crypto_tspk;
DROP SCHEMA "Risk Ops" CASCADE;
DROP ROLE crypto_regress_reader;
