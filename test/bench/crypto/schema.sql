-- crypto benchmark: the same customer table three times (plain, riskguard, pgcrypto)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS riskguard;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE EXTENSION IF NOT EXISTS insert_username;
DROP TABLE IF EXISTS cb_plain, cb_rg, cb_pgc, cb_trig CASCADE;
CREATE TABLE cb_plain (
  id bigint PRIMARY KEY,
  name text NOT NULL,
  national_id text,
  phone text,
  email text,
  birth_date date,
  city text,
  address text,
  credit_limit bigint,          -- minor units
  currency char(3),
  status text,
  opened date,
  national_id_bidx bytea
);
CREATE TABLE cb_rg (LIKE cb_plain INCLUDING ALL);
CREATE TABLE cb_pgc (LIKE cb_plain INCLUDING ALL);
CREATE TABLE cb_trig (LIKE cb_plain INCLUDING ALL);

-- the floor of any row trigger: COPY cannot batch inserts into a table with a BEFORE ROW
-- trigger; contrib's insert_username is about the smallest C trigger there is
ALTER TABLE cb_trig ADD COLUMN loaded_by text;
CREATE TRIGGER cb_trig_user BEFORE INSERT ON cb_trig FOR EACH ROW EXECUTE FUNCTION insert_username(loaded_by);
SELECT riskguard.protect_column('cb_rg', 'national_id', 'national_id_bidx');
SELECT riskguard.protect_column('cb_rg', 'phone');

-- the usual hand-written alternative: a PL/pgSQL trigger around pgcrypto
CREATE OR REPLACE FUNCTION cb_pgc_seal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.national_id := encode(pgp_sym_encrypt(NEW.national_id, 'bench passphrase'), 'base64');
  NEW.phone := encode(pgp_sym_encrypt(NEW.phone, 'bench passphrase'), 'base64');
  RETURN NEW;
END
$$;
CREATE TRIGGER cb_pgc_seal BEFORE INSERT OR UPDATE ON cb_pgc FOR EACH ROW EXECUTE FUNCTION cb_pgc_seal();
