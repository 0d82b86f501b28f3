-- Ledger: accounts in fund pools, double-entry transfers checked by one C trigger
-- (validity, idempotency, segregation, balance constraints, reserve provisioning,
-- per-account hash chains), two-phase transfers, reconciliation and verification.

CREATE TYPE riskguard.fund_pool AS ENUM ('client', 'platform', 'reserve');
COMMENT ON TYPE riskguard.fund_pool IS
  'money pools that may exchange funds only along riskguard.pool_flow: client money, the platform''s own money, the risk reserve';

CREATE TABLE riskguard.account (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code            text NOT NULL UNIQUE CHECK (code OPERATOR(pg_catalog.<>) ''),
  pool            riskguard.fund_pool NOT NULL,
  owner           text,
  owner_kind      text CHECK (owner_kind IN ('individual', 'entity')),
  currency        char(3) NOT NULL CHECK (currency OPERATOR(pg_catalog.~) '^[A-Z]{3}$'),
  normal_side     text NOT NULL DEFAULT 'credit' CHECK (normal_side IN ('credit', 'debit')),
  allow_overdraft boolean NOT NULL DEFAULT false,
  debits_posted   bigint NOT NULL DEFAULT 0,
  credits_posted  bigint NOT NULL DEFAULT 0,
  debits_pending  bigint NOT NULL DEFAULT 0,
  credits_pending bigint NOT NULL DEFAULT 0,
  head_seq        bigint NOT NULL DEFAULT 0,
  head_hash       bytea,
  created_at      timestamptz NOT NULL DEFAULT pg_catalog.now()
) WITH (fillfactor = 70);
COMMENT ON TABLE riskguard.account IS
  'ledger accounts; balances and chain heads are maintained by the transfer trigger only';

CREATE TABLE riskguard.transfer (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  debit_account   bigint,
  credit_account  bigint,
  amount          bigint,
  kind            text,
  reference       text,
  idempotency_key text,
  status          text NOT NULL DEFAULT 'posted',  -- posted, pending or voided: checked by the trigger
  pending_id      bigint,
  created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
  created_by      text NOT NULL DEFAULT CURRENT_USER,
  debit_seq       bigint,
  debit_hash      bytea,
  credit_seq      bigint,
  credit_hash     bytea
);
COMMENT ON TABLE riskguard.transfer IS
  'append-only double-entry transfers; written by INSERT or riskguard.post_transfer, checked by a C trigger';

-- Idempotency keys and completions, one row each, written by the transfer trigger: the
-- uniqueness of a key and of a pending transfer's completion, and the lookups by them,
-- without an index on riskguard.transfer that every transfer (most have neither) would
-- open, check and close.
CREATE TABLE riskguard.transfer_key (
  idempotency_key text PRIMARY KEY,
  transfer_id     bigint NOT NULL
);
COMMENT ON TABLE riskguard.transfer_key IS
  'the transfer that first used each idempotency key; written by the transfer trigger';
CREATE TABLE riskguard.transfer_completion (
  pending_id  bigint PRIMARY KEY,
  transfer_id bigint NOT NULL
);
COMMENT ON TABLE riskguard.transfer_completion IS
  'the transfer that posted or voided each pending transfer (once); written by the transfer trigger';

CREATE TABLE riskguard.pool_flow (
  from_pool riskguard.fund_pool NOT NULL,
  to_pool   riskguard.fund_pool NOT NULL,
  kind      text NOT NULL CHECK (kind OPERATOR(pg_catalog.<>) ''),
  PRIMARY KEY (from_pool, to_pool, kind)
);
COMMENT ON TABLE riskguard.pool_flow IS
  'allowed flows between fund pools (debit account''s pool to credit account''s pool) by transfer kind, * for any kind';

INSERT INTO riskguard.pool_flow (from_pool, to_pool, kind) VALUES
  ('client', 'client', '*'),
  ('client', 'platform', 'fee'),
  ('client', 'platform', 'repay_interest'),
  ('platform', 'client', '*'),
  ('platform', 'reserve', 'reserve_provision'),
  ('reserve', 'client', 'reserve_compensation');

CREATE TABLE riskguard.reserve_rule (
  kind         text PRIMARY KEY CHECK (kind OPERATOR(pg_catalog.<>) '' AND kind OPERATOR(pg_catalog.<>) 'reserve_provision'),
  basis_points integer NOT NULL CHECK (basis_points BETWEEN 1 AND 10000),
  from_account bigint NOT NULL REFERENCES riskguard.account (id),
  to_account   bigint NOT NULL REFERENCES riskguard.account (id),
  CHECK (from_account OPERATOR(pg_catalog.<>) to_account)
);
COMMENT ON TABLE riskguard.reserve_rule IS
  'reserve provisioning: when a transfer of this kind posts, amount * basis_points / 10000 (rounded down) moves from from_account to to_account';

CREATE TABLE riskguard.reconciliation (
  id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  custody_account        bigint NOT NULL REFERENCES riskguard.account (id),
  currency               char(3) NOT NULL,
  statement_balance      bigint NOT NULL,
  statement_at           timestamptz NOT NULL,
  client_liabilities     bigint NOT NULL,
  custody_ledger_balance bigint NOT NULL,
  statement_minus_liabilities bigint NOT NULL,
  statement_minus_ledger bigint NOT NULL,
  status                 text NOT NULL CHECK (status IN ('matched', 'surplus', 'shortfall')),
  reconciled_at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
  reconciled_by          text NOT NULL DEFAULT CURRENT_USER
);
COMMENT ON TABLE riskguard.reconciliation IS
  'custody bank statements compared with the ledger''s client liabilities and custody balance';

SELECT pg_catalog.pg_extension_config_dump('riskguard.account', '');
SELECT pg_catalog.pg_extension_config_dump('riskguard.account_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('riskguard.transfer', '');
SELECT pg_catalog.pg_extension_config_dump('riskguard.transfer_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('riskguard.transfer_key', '');
SELECT pg_catalog.pg_extension_config_dump('riskguard.transfer_completion', '');
-- the shipped flows are created by the install script; a dump carries the others
SELECT pg_catalog.pg_extension_config_dump('riskguard.pool_flow',
  $$WHERE (from_pool::text, to_pool::text, kind) NOT IN (('client', 'client', '*'), ('client', 'platform', 'fee'), ('client', 'platform', 'repay_interest'), ('platform', 'client', '*'), ('platform', 'reserve', 'reserve_provision'), ('reserve', 'client', 'reserve_compensation'))$$);
SELECT pg_catalog.pg_extension_config_dump('riskguard.reserve_rule', '');
SELECT pg_catalog.pg_extension_config_dump('riskguard.reconciliation', '');
SELECT pg_catalog.pg_extension_config_dump('riskguard.reconciliation_id_seq', '');

CREATE VIEW riskguard.account_balance AS
SELECT a.id, a.code, a.pool, a.owner, a.currency, a.normal_side,
       CASE a.normal_side WHEN 'credit' THEN a.credits_posted OPERATOR(pg_catalog.-) a.debits_posted
            ELSE a.debits_posted OPERATOR(pg_catalog.-) a.credits_posted END AS posted,
       CASE a.normal_side WHEN 'credit' THEN a.credits_posted OPERATOR(pg_catalog.-) a.debits_posted OPERATOR(pg_catalog.-) a.debits_pending
            ELSE a.debits_posted OPERATOR(pg_catalog.-) a.credits_posted OPERATOR(pg_catalog.-) a.credits_pending END AS available,
       CASE a.normal_side WHEN 'credit' THEN a.debits_pending ELSE a.credits_pending END AS held
  FROM riskguard.account a;
COMMENT ON VIEW riskguard.account_balance IS
  'posted balance, available balance (posted less outgoing pending) and held amount of each account, on its normal side';

-- the transfer trigger and the append-only guard

CREATE FUNCTION riskguard._transfer_before_insert()
RETURNS trigger
AS 'MODULE_PATHNAME', 'rg_ledger_transfer_trigger'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION riskguard._transfer_before_insert() IS
  'checks and posts a transfer: validity, idempotency, segregation, balance constraints, reserve provisioning, chain hashes';

CREATE FUNCTION riskguard._append_only()
RETURNS trigger
AS 'MODULE_PATHNAME', 'rg_ledger_append_only'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION riskguard._append_only() IS
  'refuses UPDATE, DELETE and TRUNCATE of ledger tables with RG004';

-- account rows: balances, chain heads and identity change only through transfers
CREATE FUNCTION riskguard._account_guard()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF (NEW.id, NEW.code, NEW.pool, NEW.currency, NEW.normal_side, NEW.debits_posted,
      NEW.credits_posted, NEW.debits_pending, NEW.credits_pending, NEW.head_seq, NEW.head_hash,
      NEW.created_at)
     IS DISTINCT FROM
     (OLD.id, OLD.code, OLD.pool, OLD.currency, OLD.normal_side, OLD.debits_posted,
      OLD.credits_posted, OLD.debits_pending, OLD.credits_pending, OLD.head_seq, OLD.head_hash,
      OLD.created_at) THEN
    RAISE EXCEPTION 'ledger table "account" is append-only'
      USING ERRCODE = 'RG004',
            DETAIL = pg_catalog.format('Account "%s": only owner, owner_kind and allow_overdraft may be updated; balances and chain heads change only through transfers.', OLD.code),
            HINT = 'Post a transfer to move money.';
  END IF;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION riskguard._account_guard() IS
  'refuses updates of an account''s identity, balances and chain head (RG004)';

CREATE TRIGGER account_guard BEFORE UPDATE ON riskguard.account
  FOR EACH ROW EXECUTE FUNCTION riskguard._account_guard();
CREATE TRIGGER transfer_check BEFORE INSERT ON riskguard.transfer
  FOR EACH ROW EXECUTE FUNCTION riskguard._transfer_before_insert();
CREATE TRIGGER transfer_append_only BEFORE UPDATE OR DELETE ON riskguard.transfer
  FOR EACH ROW EXECUTE FUNCTION riskguard._append_only();
CREATE TRIGGER transfer_no_truncate BEFORE TRUNCATE ON riskguard.transfer
  FOR EACH STATEMENT EXECUTE FUNCTION riskguard._append_only();
CREATE TRIGGER account_no_delete BEFORE DELETE ON riskguard.account
  FOR EACH ROW EXECUTE FUNCTION riskguard._append_only();
CREATE TRIGGER account_no_truncate BEFORE TRUNCATE ON riskguard.account
  FOR EACH STATEMENT EXECUTE FUNCTION riskguard._append_only();
CREATE TRIGGER transfer_key_append_only BEFORE UPDATE OR DELETE ON riskguard.transfer_key
  FOR EACH ROW EXECUTE FUNCTION riskguard._append_only();
CREATE TRIGGER transfer_key_no_truncate BEFORE TRUNCATE ON riskguard.transfer_key
  FOR EACH STATEMENT EXECUTE FUNCTION riskguard._append_only();
CREATE TRIGGER transfer_completion_append_only BEFORE UPDATE OR DELETE ON riskguard.transfer_completion
  FOR EACH ROW EXECUTE FUNCTION riskguard._append_only();
CREATE TRIGGER transfer_completion_no_truncate BEFORE TRUNCATE ON riskguard.transfer_completion
  FOR EACH STATEMENT EXECUTE FUNCTION riskguard._append_only();
CREATE TRIGGER reconciliation_append_only BEFORE UPDATE OR DELETE ON riskguard.reconciliation
  FOR EACH ROW EXECUTE FUNCTION riskguard._append_only();
CREATE TRIGGER reconciliation_no_truncate BEFORE TRUNCATE ON riskguard.reconciliation
  FOR EACH STATEMENT EXECUTE FUNCTION riskguard._append_only();
CREATE TRIGGER pool_flow_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON riskguard.pool_flow
  FOR EACH STATEMENT EXECUTE FUNCTION riskguard._config_changed();
CREATE TRIGGER reserve_rule_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON riskguard.reserve_rule
  FOR EACH STATEMENT EXECUTE FUNCTION riskguard._config_changed();

-- functions

CREATE FUNCTION riskguard.open_account(
  code text, pool riskguard.fund_pool, owner text, owner_kind text, currency char(3),
  normal_side text DEFAULT 'credit', allow_overdraft boolean DEFAULT false)
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  INSERT INTO riskguard.account (code, pool, owner, owner_kind, currency, normal_side, allow_overdraft)
  VALUES ($1, $2, $3, $4, $5, $6, $7)
  RETURNING id
$$;
COMMENT ON FUNCTION riskguard.open_account(text, riskguard.fund_pool, text, text, char, text, boolean) IS
  'opens a ledger account in a fund pool and returns its id';

-- account code to id, or 23503 naming the code
CREATE FUNCTION riskguard._account_id(code text)
RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  result bigint;
BEGIN
  IF code IS NULL THEN
    RAISE EXCEPTION 'account code must not be null' USING ERRCODE = '23502';
  END IF;
  SELECT a.id INTO result FROM riskguard.account a WHERE a.code OPERATOR(pg_catalog.=) _account_id.code;
  IF result IS NULL THEN
    RAISE EXCEPTION 'account "%" does not exist', code USING ERRCODE = '23503',
      HINT = 'Open it with riskguard.open_account first.';
  END IF;
  RETURN result;
END
$$;
COMMENT ON FUNCTION riskguard._account_id(text) IS 'the id of the account with this code; 23503 when there is none';

-- insert a transfer; the id of the new transfer, or of the first one with the same key
CREATE FUNCTION riskguard._insert_transfer(
  debit_account bigint, credit_account bigint, amount bigint, kind text, reference text,
  idempotency_key text, status text, pending_id bigint)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  result bigint;
BEGIN
  INSERT INTO riskguard.transfer (debit_account, credit_account, amount, kind, reference,
                                  idempotency_key, status, pending_id)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  RETURNING id INTO result;
  IF result IS NULL THEN
    -- an identical replay: the trigger kept the first transfer
    SELECT k.transfer_id INTO result FROM riskguard.transfer_key k
     WHERE k.idempotency_key OPERATOR(pg_catalog.=) $6;
  END IF;
  RETURN result;
END
$$;
COMMENT ON FUNCTION riskguard._insert_transfer(bigint, bigint, bigint, text, text, text, text, bigint) IS
  'inserts a transfer and returns its id, or the id of the first transfer with the same idempotency key';

CREATE FUNCTION riskguard.post_transfer(
  debit_code text, credit_code text, amount bigint, kind text,
  reference text DEFAULT NULL, idempotency_key text DEFAULT NULL)
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT riskguard._insert_transfer(riskguard._account_id($1), riskguard._account_id($2),
                                    $3, $4, $5, $6, 'posted', NULL)
$$;
COMMENT ON FUNCTION riskguard.post_transfer(text, text, bigint, text, text, text) IS
  'posts a transfer between two accounts given by code; returns its id (or the first transfer''s id for a replayed idempotency key)';

CREATE FUNCTION riskguard.hold_transfer(
  debit_code text, credit_code text, amount bigint, kind text,
  reference text DEFAULT NULL, idempotency_key text DEFAULT NULL)
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT riskguard._insert_transfer(riskguard._account_id($1), riskguard._account_id($2),
                                    $3, $4, $5, $6, 'pending', NULL)
$$;
COMMENT ON FUNCTION riskguard.hold_transfer(text, text, bigint, text, text, text) IS
  'creates a pending transfer that reserves the amount; complete it with post_pending or void_pending';

-- complete a pending transfer with a new transfer row that names it in pending_id
CREATE FUNCTION riskguard._complete_pending(id bigint, amount bigint, status text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  p riskguard.transfer;
BEGIN
  IF id IS NULL THEN
    RAISE EXCEPTION 'pending transfer id must not be null' USING ERRCODE = '23502';
  END IF;
  SELECT * INTO p FROM riskguard.transfer t WHERE t.id OPERATOR(pg_catalog.=) _complete_pending.id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'transfer % does not exist', id USING ERRCODE = '23503';
  END IF;
  RETURN riskguard._insert_transfer(p.debit_account, p.credit_account,
                                    COALESCE(amount, p.amount), p.kind, p.reference,
                                    NULL, status, id);
END
$$;
COMMENT ON FUNCTION riskguard._complete_pending(bigint, bigint, text) IS
  'posts or voids a pending transfer by inserting its completion';

CREATE FUNCTION riskguard.post_pending(id bigint, amount bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT riskguard._complete_pending($1, $2, 'posted') $$;
COMMENT ON FUNCTION riskguard.post_pending(bigint, bigint) IS
  'posts a pending transfer, in full or (with amount) in part, releasing the rest; returns the completing transfer''s id';

CREATE FUNCTION riskguard.void_pending(id bigint)
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT riskguard._complete_pending($1, NULL, 'voided') $$;
COMMENT ON FUNCTION riskguard.void_pending(bigint) IS
  'voids a pending transfer, releasing the held amount; returns the completing transfer''s id';

CREATE FUNCTION riskguard.reconcile(
  custody_account_code text, statement_balance bigint, statement_at timestamptz)
RETURNS riskguard.reconciliation
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  c riskguard.account;
  liabilities numeric;
  ledger numeric;
  result riskguard.reconciliation;
BEGIN
  IF custody_account_code IS NULL OR statement_balance IS NULL OR statement_at IS NULL THEN
    RAISE EXCEPTION 'custody account code, statement balance and statement time must not be null'
      USING ERRCODE = '23502';
  END IF;
  SELECT * INTO c FROM riskguard.account a WHERE a.code OPERATOR(pg_catalog.=) custody_account_code;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'account "%" does not exist', custody_account_code USING ERRCODE = '23503';
  END IF;
  IF c.pool OPERATOR(pg_catalog.<>) 'client' OR c.normal_side OPERATOR(pg_catalog.<>) 'debit' THEN
    RAISE EXCEPTION 'account "%" is not a custody account', custody_account_code
      USING ERRCODE = '22023',
            DETAIL = pg_catalog.format('Account "%s" is in pool %s with normal side %s.', c.code, c.pool, c.normal_side),
            HINT = 'A custody account is a debit-normal account in the client pool.';
  END IF;
  SELECT COALESCE(pg_catalog.sum(a.credits_posted::numeric OPERATOR(pg_catalog.-) a.debits_posted), 0)
    INTO liabilities
    FROM riskguard.account a
   WHERE a.pool OPERATOR(pg_catalog.=) 'client'::riskguard.fund_pool
     AND a.normal_side OPERATOR(pg_catalog.=) 'credit'
     AND a.currency OPERATOR(pg_catalog.=) c.currency;
  ledger := c.debits_posted::numeric OPERATOR(pg_catalog.-) c.credits_posted;
  INSERT INTO riskguard.reconciliation (custody_account, currency, statement_balance, statement_at,
         client_liabilities, custody_ledger_balance, statement_minus_liabilities,
         statement_minus_ledger, status, reconciled_by)
  VALUES (c.id, c.currency, statement_balance, statement_at, liabilities::bigint, ledger::bigint,
          (statement_balance OPERATOR(pg_catalog.-) liabilities)::bigint,
          (statement_balance OPERATOR(pg_catalog.-) ledger)::bigint,
          CASE WHEN statement_balance OPERATOR(pg_catalog.=) liabilities THEN 'matched'
               WHEN statement_balance OPERATOR(pg_catalog.>) liabilities THEN 'surplus'
               ELSE 'shortfall' END,
          SESSION_USER)
  RETURNING * INTO result;
  IF result.status OPERATOR(pg_catalog.=) 'shortfall' THEN
    -- the monitoring capability's reconciliation_shortfall rules
    PERFORM riskguard._reconciliation_alert(result);
  END IF;
  RETURN result;
END
$$;
COMMENT ON FUNCTION riskguard.reconcile(text, bigint, timestamptz) IS
  'compares a custody bank statement with the ledger''s client liabilities and custody balance; records and returns the result';

CREATE FUNCTION riskguard.verify_ledger(
  OUT account_id bigint, OUT ok boolean, OUT first_bad_transfer bigint, OUT detail text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'rg_ledger_verify'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard.verify_ledger() IS
  'walks every account''s hash chain and balances; one row per account, with the first changed, removed or inserted transfer';

CREATE FUNCTION riskguard.ledger_digest()
RETURNS bytea
AS 'MODULE_PATHNAME', 'rg_ledger_digest'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard.ledger_digest() IS
  'BLAKE2b-256 over every account''s chain head, to store outside the database and compare later';

-- privileges: the ledger is written through the trigger; configuration by riskguard_admin

REVOKE ALL ON riskguard.account, riskguard.transfer, riskguard.transfer_key,
              riskguard.transfer_completion, riskguard.pool_flow, riskguard.reserve_rule,
              riskguard.reconciliation, riskguard.account_balance FROM PUBLIC;
GRANT SELECT ON riskguard.account, riskguard.transfer, riskguard.transfer_key,
                riskguard.transfer_completion, riskguard.reconciliation,
                riskguard.account_balance TO riskguard_admin;
-- pool_flow and reserve_rule change only through maker-checker (src/sql/15_limits.sql)
GRANT SELECT ON riskguard.pool_flow, riskguard.reserve_rule TO riskguard_admin, riskguard_approver;
REVOKE ALL ON FUNCTION riskguard.open_account(text, riskguard.fund_pool, text, text, char, text, boolean),
                       riskguard.reconcile(text, bigint, timestamptz),
                       riskguard.verify_ledger(), riskguard.ledger_digest(),
                       riskguard._transfer_before_insert(), riskguard._append_only(),
                       riskguard._account_guard() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard.open_account(text, riskguard.fund_pool, text, text, char, text, boolean),
                          riskguard.reconcile(text, bigint, timestamptz),
                          riskguard.verify_ledger(), riskguard.ledger_digest() TO riskguard_admin;
