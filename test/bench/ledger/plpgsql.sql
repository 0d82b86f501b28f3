-- The comparison for test/bench/ledger.sh: riskguard's transfer rules written as a
-- PL/pgSQL trigger, as a team without the extension would.  Same tables and checks:
-- validity, idempotency, segregation through a pool_flow table, balance constraints,
-- reserve provisioning, per-account chained hashes (sha256, PostgreSQL's built-in hash,
-- standing in for BLAKE2b), account rows locked in id order.
CREATE SCHEMA pl;
CREATE TABLE pl.account (
  id bigint PRIMARY KEY, code text NOT NULL UNIQUE, pool text NOT NULL, currency char(3) NOT NULL,
  normal_side text NOT NULL DEFAULT 'credit', allow_overdraft boolean NOT NULL DEFAULT false,
  debits_posted bigint NOT NULL DEFAULT 0, credits_posted bigint NOT NULL DEFAULT 0,
  debits_pending bigint NOT NULL DEFAULT 0, credits_pending bigint NOT NULL DEFAULT 0,
  head_seq bigint NOT NULL DEFAULT 0, head_hash bytea) WITH (fillfactor = 70);
CREATE TABLE pl.transfer (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, debit_account bigint, credit_account bigint,
  amount bigint, kind text, reference text, idempotency_key text,
  status text NOT NULL DEFAULT 'posted', pending_id bigint,
  created_at timestamptz NOT NULL DEFAULT now(), created_by text NOT NULL DEFAULT current_user,
  debit_seq bigint, debit_hash bytea, credit_seq bigint, credit_hash bytea);
CREATE UNIQUE INDEX ON pl.transfer (idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE TABLE pl.pool_flow (from_pool text, to_pool text, kind text, PRIMARY KEY (from_pool, to_pool, kind));
INSERT INTO pl.pool_flow SELECT from_pool::text, to_pool::text, kind FROM riskguard.pool_flow;
CREATE TABLE pl.reserve_rule (kind text PRIMARY KEY, basis_points int, from_account bigint, to_account bigint);

CREATE FUNCTION pl.transfer_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  d pl.account;
  c pl.account;
  a pl.account;
  prev pl.transfer;
  r pl.reserve_rule;
  provision bigint := 0;
  rec bytea;
BEGIN
  IF NEW.debit_account IS NULL OR NEW.credit_account IS NULL OR NEW.amount IS NULL OR NEW.kind IS NULL THEN
    RAISE EXCEPTION 'null value in transfer' USING ERRCODE = '23502';
  END IF;
  IF NEW.amount <= 0 THEN RAISE EXCEPTION 'transfer amount must be positive' USING ERRCODE = '22023'; END IF;
  IF NEW.kind = '' THEN RAISE EXCEPTION 'transfer kind must not be empty' USING ERRCODE = '22023'; END IF;
  IF NEW.debit_account = NEW.credit_account THEN
    RAISE EXCEPTION 'debit and credit account must differ' USING ERRCODE = '22023';
  END IF;
  SELECT * INTO r FROM pl.reserve_rule WHERE kind = NEW.kind;
  -- lock every account involved in id order
  FOR a IN SELECT * FROM pl.account
            WHERE id IN (NEW.debit_account, NEW.credit_account, r.from_account, r.to_account)
            ORDER BY id FOR NO KEY UPDATE LOOP
    IF a.id = NEW.debit_account THEN d := a; END IF;
    IF a.id = NEW.credit_account THEN c := a; END IF;
  END LOOP;
  IF d.id IS NULL OR c.id IS NULL THEN RAISE EXCEPTION 'account does not exist' USING ERRCODE = '23503'; END IF;
  IF d.currency <> c.currency THEN RAISE EXCEPTION 'different currencies' USING ERRCODE = '22023'; END IF;
  IF NEW.idempotency_key IS NOT NULL THEN
    SELECT * INTO prev FROM pl.transfer WHERE idempotency_key = NEW.idempotency_key;
    IF FOUND THEN
      IF prev.debit_account = NEW.debit_account AND prev.credit_account = NEW.credit_account
         AND prev.amount = NEW.amount AND prev.kind = NEW.kind THEN
        RETURN NULL;
      END IF;
      RAISE EXCEPTION 'idempotency key reused' USING ERRCODE = 'RG005';
    END IF;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pl.pool_flow f
                  WHERE f.from_pool = CASE WHEN c.normal_side = 'credit' THEN d.pool ELSE c.pool END
                    AND f.to_pool = CASE WHEN c.normal_side = 'credit' THEN c.pool ELSE d.pool END
                    AND f.kind IN ('*', NEW.kind)) THEN
    RAISE EXCEPTION 'flow not allowed' USING ERRCODE = 'RG002';
  END IF;
  d.debits_posted := d.debits_posted + NEW.amount;
  c.credits_posted := c.credits_posted + NEW.amount;
  IF NOT d.allow_overdraft AND d.normal_side = 'credit'
     AND d.debits_posted + d.debits_pending > d.credits_posted THEN
    RAISE EXCEPTION 'insufficient funds' USING ERRCODE = 'RG003';
  END IF;
  IF NOT c.allow_overdraft AND c.normal_side = 'debit'
     AND c.credits_posted + c.credits_pending > c.debits_posted THEN
    RAISE EXCEPTION 'insufficient funds' USING ERRCODE = 'RG003';
  END IF;
  IF r.kind IS NOT NULL THEN provision := NEW.amount * r.basis_points / 10000; END IF;
  NEW.created_at := now();
  NEW.created_by := current_user;
  rec := convert_to(concat_ws('|', NEW.id, NEW.debit_account, NEW.credit_account, NEW.amount,
                              NEW.kind, NEW.reference, NEW.idempotency_key, NEW.created_at,
                              NEW.created_by), 'UTF8');
  NEW.debit_seq := d.head_seq + 1;
  NEW.debit_hash := sha256(coalesce(d.head_hash, '\x') || 'D'::bytea || rec);
  NEW.credit_seq := c.head_seq + 1;
  NEW.credit_hash := sha256(coalesce(c.head_hash, '\x') || 'C'::bytea || rec);
  UPDATE pl.account SET debits_posted = d.debits_posted, head_seq = NEW.debit_seq,
         head_hash = NEW.debit_hash WHERE id = d.id;
  UPDATE pl.account SET credits_posted = c.credits_posted, head_seq = NEW.credit_seq,
         head_hash = NEW.credit_hash WHERE id = c.id;
  IF provision > 0 THEN
    INSERT INTO pl.transfer (debit_account, credit_account, amount, kind)
    VALUES (r.from_account, r.to_account, provision, 'reserve_provision');
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER transfer_check BEFORE INSERT ON pl.transfer
  FOR EACH ROW EXECUTE FUNCTION pl.transfer_check();

INSERT INTO pl.account (id, code, pool, currency, normal_side)
SELECT id, code, pool::text, currency, normal_side FROM riskguard.account;
INSERT INTO pl.reserve_rule SELECT * FROM riskguard.reserve_rule;
INSERT INTO pl.transfer (debit_account, credit_account, amount, kind)
SELECT 1, a.id, 100000000, 'deposit' FROM pl.account a WHERE a.code LIKE 'w%';
VACUUM ANALYZE;
