-- Data for test/bench/ledger.sh: 10,000 funded client wallets in each of three
-- implementations of the same transfer: riskguard's C trigger, a plain-SQL baseline that
-- does the minimum, and a PL/pgSQL trigger enforcing riskguard's rules (plpgsql.sql).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS riskguard;

-- riskguard: a custody account, 10,000 wallets, a reserve rule on another kind
SELECT riskguard.open_account('custody', 'client', 'custody bank', 'entity', 'CNY', 'debit');
SELECT count(riskguard.open_account('w' || i, 'client', 'client ' || i, 'individual', 'CNY'))
  FROM generate_series(1, 10000) i;
SELECT riskguard.open_account('platform:fees', 'platform', NULL, NULL, 'CNY');
SELECT riskguard.open_account('reserve', 'reserve', NULL, NULL, 'CNY');
INSERT INTO riskguard.reserve_rule VALUES ('invest', 50,
  (SELECT id FROM riskguard.account WHERE code = 'platform:fees'),
  (SELECT id FROM riskguard.account WHERE code = 'reserve'));
INSERT INTO riskguard.transfer (debit_account, credit_account, amount, kind)
SELECT 1, a.id, 100000000, 'deposit' FROM riskguard.account a WHERE a.code LIKE 'w%';

-- baseline: insert the transfer, update two balances
CREATE SCHEMA plain;
CREATE TABLE plain.account (id bigint PRIMARY KEY, balance bigint NOT NULL) WITH (fillfactor = 70);
CREATE TABLE plain.transfer (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  debit_account bigint NOT NULL, credit_account bigint NOT NULL, amount bigint NOT NULL,
  kind text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO plain.account SELECT id, 100000000 FROM generate_series(1, 10002) id;
VACUUM ANALYZE;
