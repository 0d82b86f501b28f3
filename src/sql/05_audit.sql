-- Control audit log: one hash-chained entry per control change (rules, models, keys,
-- approvals, reconciliations).  Low volume: appends serialise on an advisory lock.

CREATE TABLE riskguard.audit_log (
  seq       bigint      PRIMARY KEY,
  at        timestamptz NOT NULL,
  actor     text        NOT NULL,
  action    text        NOT NULL,
  target    text,
  payload   jsonb,
  prev_hash bytea       NOT NULL,
  hash      bytea       NOT NULL
);
COMMENT ON TABLE riskguard.audit_log IS
  'append-only, hash-chained log of control changes; check it with riskguard.verify_audit()';
-- the log is the user's history: pg_dump carries it
SELECT pg_catalog.pg_extension_config_dump('riskguard.audit_log', '');
REVOKE ALL ON riskguard.audit_log FROM PUBLIC;
GRANT SELECT ON riskguard.audit_log TO riskguard_admin, riskguard_approver;

CREATE FUNCTION riskguard._refuse_change()
RETURNS trigger
AS 'MODULE_PATHNAME', 'rg_refuse_change'
LANGUAGE C;
COMMENT ON FUNCTION riskguard._refuse_change() IS
  'trigger: refuses UPDATE, DELETE and TRUNCATE of an append-only table (RG004)';
REVOKE ALL ON FUNCTION riskguard._refuse_change() FROM PUBLIC;

CREATE TRIGGER audit_log_append_only
  BEFORE UPDATE OR DELETE ON riskguard.audit_log
  FOR EACH ROW EXECUTE FUNCTION riskguard._refuse_change();
CREATE TRIGGER audit_log_no_truncate
  BEFORE TRUNCATE ON riskguard.audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION riskguard._refuse_change();

CREATE FUNCTION riskguard.audit_hash(
  prev bytea, seq bigint, at timestamptz, actor text, action text, target text, payload jsonb)
RETURNS bytea
AS 'MODULE_PATHNAME', 'rg_audit_hash'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard.audit_hash(bytea, bigint, timestamptz, text, text, text, jsonb) IS
  'BLAKE2b-256 chain hash of one audit entry (encoding documented in the README)';

-- Append one entry.  Called by riskguard's own SECURITY DEFINER functions; the actor is
-- the session user, so a SECURITY DEFINER caller does not hide who acted.
CREATE FUNCTION riskguard._audit(action text, target text, payload jsonb)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  last_seq  bigint;
  last_hash bytea;
  new_seq   bigint;
  new_at    timestamptz := pg_catalog.clock_timestamp();
  who       text := pg_catalog.session_user();
BEGIN
  IF action IS NULL OR action OPERATOR(pg_catalog.=) '' THEN
    RAISE EXCEPTION 'audit action must not be empty' USING ERRCODE = '22023';
  END IF;
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('riskguard.audit_log'));
  SELECT l.seq, l.hash INTO last_seq, last_hash
    FROM riskguard.audit_log l ORDER BY l.seq DESC LIMIT 1;
  new_seq := COALESCE(last_seq, 0) OPERATOR(pg_catalog.+) 1;
  INSERT INTO riskguard.audit_log (seq, at, actor, action, target, payload, prev_hash, hash)
  VALUES (new_seq, new_at, who, action, target, payload,
          COALESCE(last_hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea),
          riskguard.audit_hash(last_hash, new_seq, new_at, who, action, target, payload));
  RETURN new_seq;
END
$$;
COMMENT ON FUNCTION riskguard._audit(text, text, jsonb) IS
  'appends an entry to the control audit log; for riskguard''s own functions';
REVOKE ALL ON FUNCTION riskguard._audit(text, text, jsonb) FROM PUBLIC;

-- Walk the chain from the first entry; report the first broken link, or one row saying
-- the chain is intact.
CREATE FUNCTION riskguard.verify_audit()
RETURNS TABLE(seq bigint, ok boolean, detail text)
LANGUAGE plpgsql STABLE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  e         record;
  expect    bigint := 1;
  prev      bytea := NULL;
  zero      bytea := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
  n         bigint := 0;
BEGIN
  FOR e IN SELECT l.* FROM riskguard.audit_log l ORDER BY l.seq LOOP
    IF e.seq OPERATOR(pg_catalog.<>) expect THEN
      seq := expect; ok := false;
      detail := pg_catalog.format('entry %s is missing: the next entry is %s', expect, e.seq);
      RETURN NEXT; RETURN;
    END IF;
    IF e.prev_hash OPERATOR(pg_catalog.<>) COALESCE(prev, zero) THEN
      seq := e.seq; ok := false;
      detail := pg_catalog.format('entry %s does not link to entry %s: its previous hash differs', e.seq, e.seq - 1);
      RETURN NEXT; RETURN;
    END IF;
    IF e.hash OPERATOR(pg_catalog.<>)
       riskguard.audit_hash(prev, e.seq, e.at, e.actor, e.action, e.target, e.payload) THEN
      seq := e.seq; ok := false;
      detail := pg_catalog.format('entry %s was changed: its contents do not match its hash', e.seq);
      RETURN NEXT; RETURN;
    END IF;
    prev := e.hash;
    expect := expect OPERATOR(pg_catalog.+) 1;
    n := n OPERATOR(pg_catalog.+) 1;
  END LOOP;
  seq := n; ok := true;
  detail := pg_catalog.format('%s entries, chain intact', n);
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION riskguard.verify_audit() IS
  'checks the control audit log''s hash chain: the first broken link, or one row saying it is intact';
REVOKE ALL ON FUNCTION riskguard.verify_audit() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard.verify_audit() TO riskguard_admin, riskguard_approver;

-- The hash of the last entry, to be kept outside the database: a later verify_audit()
-- plus a matching head proves that nothing was removed from the end either.
CREATE FUNCTION riskguard.audit_head(OUT seq bigint, OUT hash bytea)
LANGUAGE sql STABLE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT l.seq, l.hash FROM riskguard.audit_log l ORDER BY l.seq DESC LIMIT 1 $$;
COMMENT ON FUNCTION riskguard.audit_head() IS
  'sequence number and hash of the newest audit entry, to store outside the database';
REVOKE ALL ON FUNCTION riskguard.audit_head() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard.audit_head() TO riskguard_admin, riskguard_approver;
