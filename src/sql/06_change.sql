-- Maker-checker: control tables change only through a proposal by a riskguard_admin and
-- an approval by a different riskguard_approver.  Nobody writes those tables directly:
-- they grant no INSERT, UPDATE or DELETE, and changes are applied by the SECURITY DEFINER
-- functions below.

-- Which tables are changed this way.  Each capability registers its own.
CREATE TABLE riskguard.change_target (
  target    text PRIMARY KEY,
  tbl         regclass NOT NULL UNIQUE,
  validator   regprocedure,
  after_apply regprocedure
);
COMMENT ON TABLE riskguard.change_target IS
  'control tables changed only through propose_change/approve_change; validator(action text, payload jsonb) may refuse a proposal, after_apply(action text, applied jsonb) runs once an approved change applied';
REVOKE ALL ON riskguard.change_target FROM PUBLIC;
GRANT SELECT ON riskguard.change_target TO riskguard_admin, riskguard_approver;

CREATE TABLE riskguard.change_request (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  target        text NOT NULL,
  action        text NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
  payload       jsonb NOT NULL,
  reason        text,
  status        text NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'approved', 'rejected')),
  proposed_by   text NOT NULL,
  proposed_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
  decided_by    text,
  decided_at    timestamptz,
  decision_note text,
  result        jsonb
);
COMMENT ON TABLE riskguard.change_request IS
  'proposed, approved and rejected changes to control tables';
SELECT pg_catalog.pg_extension_config_dump('riskguard.change_request', '');
-- and its identity sequence, or a restored database would reuse the dumped ids
SELECT pg_catalog.pg_extension_config_dump('riskguard.change_request_id_seq', '');
REVOKE ALL ON riskguard.change_request FROM PUBLIC;
GRANT SELECT ON riskguard.change_request TO riskguard_admin, riskguard_approver;

-- Apply one change to its table and return the row as it now is.  Columns come from the
-- payload's keys; update and delete find the row by the table's primary key.
CREATE FUNCTION riskguard._apply_change(tbl regclass, action text, payload jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  cols      text[];
  pk        text[];
  bad       text;
  setlist   text;
  wherelist text;
  collist   text;
  result    jsonb;
  n         bigint;
BEGIN
  IF payload IS NULL OR pg_catalog.jsonb_typeof(payload) OPERATOR(pg_catalog.<>) 'object' THEN
    RAISE EXCEPTION 'change payload for "%" must be a JSON object', tbl USING ERRCODE = '22023';
  END IF;
  SELECT pg_catalog.array_agg(a.attname::text ORDER BY a.attnum) INTO cols
    FROM pg_catalog.pg_attribute a
   WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attnum OPERATOR(pg_catalog.>) 0
     AND NOT a.attisdropped;
  SELECT k INTO bad FROM pg_catalog.jsonb_object_keys(payload) k
   WHERE NOT k OPERATOR(pg_catalog.=) ANY (cols) LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'table "%" has no column "%"', tbl, bad
      USING ERRCODE = '22023', HINT = pg_catalog.format('Its columns are: %s.', pg_catalog.array_to_string(cols, ', '));
  END IF;
  SELECT pg_catalog.array_agg(a.attname::text ORDER BY a.attnum) INTO pk
    FROM pg_catalog.pg_index i
    JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid
                                  AND a.attnum OPERATOR(pg_catalog.=) ANY (i.indkey)
   WHERE i.indrelid OPERATOR(pg_catalog.=) tbl AND i.indisprimary;

  IF action OPERATOR(pg_catalog.=) 'insert' THEN
    SELECT pg_catalog.string_agg(pg_catalog.quote_ident(k), ', ') INTO collist
      FROM pg_catalog.jsonb_object_keys(payload) k;
    IF collist IS NULL THEN
      EXECUTE pg_catalog.format('INSERT INTO %s DEFAULT VALUES RETURNING pg_catalog.to_jsonb(%s.*)', tbl, tbl)
        INTO result;
    ELSE
      EXECUTE pg_catalog.format(
        'INSERT INTO %s (%s) SELECT %s FROM pg_catalog.jsonb_populate_record(NULL::%s, $1) '
        'RETURNING pg_catalog.to_jsonb(%s.*)', tbl, collist, collist, tbl, tbl)
        USING payload INTO result;
    END IF;
    RETURN result;
  END IF;

  IF pk IS NULL THEN
    RAISE EXCEPTION 'table "%" has no primary key, so its rows cannot be updated or deleted by change', tbl
      USING ERRCODE = '22023';
  END IF;
  SELECT k INTO bad FROM pg_catalog.unnest(pk) k WHERE NOT payload ? k LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION '% of "%" needs the primary key column "%" in the payload', action, tbl, bad
      USING ERRCODE = '22023';
  END IF;
  SELECT pg_catalog.string_agg(pg_catalog.format('t.%1$I IS NOT DISTINCT FROM p.%1$I', k), ' AND ')
    INTO wherelist FROM pg_catalog.unnest(pk) k;

  IF action OPERATOR(pg_catalog.=) 'update' THEN
    SELECT pg_catalog.string_agg(pg_catalog.format('%1$I = p.%1$I', k), ', ') INTO setlist
      FROM pg_catalog.jsonb_object_keys(payload) k WHERE NOT k OPERATOR(pg_catalog.=) ANY (pk);
    IF setlist IS NULL THEN
      RAISE EXCEPTION 'update of "%" changes no column', tbl USING ERRCODE = '22023';
    END IF;
    EXECUTE pg_catalog.format(
      'UPDATE %s t SET %s FROM pg_catalog.jsonb_populate_record(NULL::%s, $1) p WHERE %s '
      'RETURNING pg_catalog.to_jsonb(t.*)', tbl, setlist, tbl, wherelist)
      USING payload INTO result;
  ELSE
    EXECUTE pg_catalog.format(
      'DELETE FROM %s t USING pg_catalog.jsonb_populate_record(NULL::%s, $1) p WHERE %s '
      'RETURNING pg_catalog.to_jsonb(t.*)', tbl, tbl, wherelist)
      USING payload INTO result;
  END IF;
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n OPERATOR(pg_catalog.=) 0 THEN
    RAISE EXCEPTION '% of "%" found no row with that primary key', action, tbl
      USING ERRCODE = 'P0002';
  END IF;
  RETURN result;
END
$$;
REVOKE ALL ON FUNCTION riskguard._apply_change(regclass, text, jsonb) FROM PUBLIC;

CREATE FUNCTION riskguard._check_change(target text, action text, payload jsonb)
RETURNS regclass
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  t riskguard.change_target;
BEGIN
  SELECT * INTO t FROM riskguard.change_target c WHERE c.target OPERATOR(pg_catalog.=) _check_change.target;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unrecognized change target: "%"', target
      USING ERRCODE = '22023',
            HINT = pg_catalog.format('Targets are: %s.',
                     (SELECT pg_catalog.string_agg(c.target, ', ' ORDER BY c.target) FROM riskguard.change_target c));
  END IF;
  IF action IS NULL OR action OPERATOR(pg_catalog.<>) ALL (ARRAY['insert', 'update', 'delete']) THEN
    RAISE EXCEPTION 'unrecognized change action: "%"', action
      USING ERRCODE = '22023', HINT = 'Actions are insert, update and delete.';
  END IF;
  IF t.validator IS NOT NULL THEN
    EXECUTE pg_catalog.format('SELECT %s($1, $2)', t.validator::oid::regproc) USING action, payload;
  END IF;
  RETURN t.tbl;
END
$$;
REVOKE ALL ON FUNCTION riskguard._check_change(text, text, jsonb) FROM PUBLIC;

-- Propose a change.  The payload is applied at once in a subtransaction that is rolled
-- back, so a change that could not apply is refused now, not at approval.
CREATE FUNCTION riskguard.propose_change(target text, action text, payload jsonb, reason text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  tbl regclass;
  id  bigint;
BEGIN
  IF NOT pg_catalog.pg_has_role(session_user, 'riskguard_admin', 'MEMBER') THEN
    RAISE EXCEPTION 'role "%" cannot propose changes', session_user
      USING ERRCODE = '42501', HINT = 'Proposals are made by members of riskguard_admin.';
  END IF;
  tbl := riskguard._check_change(target, action, payload);
  BEGIN
    PERFORM riskguard._apply_change(tbl, action, payload);
    RAISE EXCEPTION USING ERRCODE = 'RG999', MESSAGE = 'dry run';
  EXCEPTION WHEN SQLSTATE 'RG999' THEN
    NULL;
  END;
  INSERT INTO riskguard.change_request (target, action, payload, reason, proposed_by)
  VALUES (target, action, payload, reason, session_user)
  RETURNING change_request.id INTO id;
  PERFORM riskguard._audit('propose', target,
    pg_catalog.jsonb_build_object('change', id, 'action', action, 'payload', payload, 'reason', reason));
  RETURN id;
END
$$;
COMMENT ON FUNCTION riskguard.propose_change(text, text, jsonb, text) IS
  'proposes a change to a control table (riskguard_admin); it applies when another role approves it';
REVOKE ALL ON FUNCTION riskguard.propose_change(text, text, jsonb, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard.propose_change(text, text, jsonb, text) TO riskguard_admin;

-- Lock a proposal and check that the session user may decide it.
CREATE FUNCTION riskguard._decidable_change(change_id bigint, deciding text)
RETURNS riskguard.change_request
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  c riskguard.change_request;
BEGIN
  IF NOT pg_catalog.pg_has_role(session_user, 'riskguard_approver', 'MEMBER') THEN
    RAISE EXCEPTION 'role "%" cannot % changes', session_user, deciding
      USING ERRCODE = 'RG006', HINT = 'Changes are approved or rejected by members of riskguard_approver.';
  END IF;
  SELECT * INTO c FROM riskguard.change_request r WHERE r.id OPERATOR(pg_catalog.=) change_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'change % does not exist', change_id USING ERRCODE = 'P0002';
  END IF;
  IF c.status OPERATOR(pg_catalog.<>) 'proposed' THEN
    RAISE EXCEPTION 'change % is already %', change_id, c.status
      USING ERRCODE = '55000',
            DETAIL = pg_catalog.format('It was %s by "%s" at %s.', c.status, c.decided_by, c.decided_at);
  END IF;
  RETURN c;
END
$$;
REVOKE ALL ON FUNCTION riskguard._decidable_change(bigint, text) FROM PUBLIC;

CREATE FUNCTION riskguard.approve_change(id bigint)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  c       riskguard.change_request;
  tbl     regclass;
  applied jsonb;
  hook    regprocedure;
BEGIN
  c := riskguard._decidable_change(id, 'approve');
  IF c.proposed_by OPERATOR(pg_catalog.=) session_user THEN
    RAISE EXCEPTION 'role "%" cannot approve change % that it proposed', session_user, id
      USING ERRCODE = 'RG006', HINT = 'Another member of riskguard_approver must approve it.';
  END IF;
  tbl := riskguard._check_change(c.target, c.action, c.payload);
  applied := riskguard._apply_change(tbl, c.action, c.payload);
  SELECT t.after_apply INTO hook FROM riskguard.change_target t WHERE t.target OPERATOR(pg_catalog.=) c.target;
  IF hook IS NOT NULL THEN
    EXECUTE pg_catalog.format('SELECT %s($1, $2)', hook::oid::regproc) USING c.action, applied;
  END IF;
  UPDATE riskguard.change_request r
     SET status = 'approved', decided_by = session_user, decided_at = pg_catalog.now(), result = applied
   WHERE r.id OPERATOR(pg_catalog.=) c.id;
  PERFORM riskguard._audit('approve', c.target,
    pg_catalog.jsonb_build_object('change', c.id, 'action', c.action, 'result', applied));
  RETURN applied;
END
$$;
COMMENT ON FUNCTION riskguard.approve_change(bigint) IS
  'approves and applies a proposed change (riskguard_approver, never the proposer: RG006); returns the changed row';
REVOKE ALL ON FUNCTION riskguard.approve_change(bigint) FROM PUBLIC;
-- admins may call it too, so that an admin who is not an approver meets RG006, not a
-- bare permission error
GRANT EXECUTE ON FUNCTION riskguard.approve_change(bigint) TO riskguard_approver, riskguard_admin;

CREATE FUNCTION riskguard.reject_change(id bigint, reason text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  c riskguard.change_request;
BEGIN
  c := riskguard._decidable_change(id, 'reject');
  UPDATE riskguard.change_request r
     SET status = 'rejected', decided_by = session_user, decided_at = pg_catalog.now(), decision_note = reject_change.reason
   WHERE r.id OPERATOR(pg_catalog.=) c.id;
  PERFORM riskguard._audit('reject', c.target,
    pg_catalog.jsonb_build_object('change', c.id, 'reason', reject_change.reason));
END
$$;
COMMENT ON FUNCTION riskguard.reject_change(bigint, text) IS
  'rejects a proposed change (riskguard_approver)';
REVOKE ALL ON FUNCTION riskguard.reject_change(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard.reject_change(bigint, text) TO riskguard_approver, riskguard_admin;
