-- Column encryption: protected columns, their keys' metadata, the sealing trigger, the
-- decrypting views, blind indexes, key rotation.  README.md, "Encryption", has the formats.

-- Key metadata.  Nothing secret: a column key is derived from the root key by its id.
CREATE SEQUENCE riskguard.column_key_id_seq AS integer;

CREATE TABLE riskguard.column_key (
  id integer PRIMARY KEY DEFAULT pg_catalog.nextval('riskguard.column_key_id_seq'::pg_catalog.regclass),
  "table" pg_catalog.regclass NOT NULL,
  "column" pg_catalog.name NOT NULL,
  created timestamptz NOT NULL DEFAULT pg_catalog.now(),
  status text NOT NULL DEFAULT 'active' CHECK (status OPERATOR(pg_catalog.=) ANY (ARRAY['active', 'retired'])),
  root_key_check text NOT NULL DEFAULT riskguard.key_check_value()
);
ALTER SEQUENCE riskguard.column_key_id_seq OWNED BY riskguard.column_key.id;
CREATE UNIQUE INDEX column_key_one_active ON riskguard.column_key ("table", "column")
  WHERE status OPERATOR(pg_catalog.=) 'active';
COMMENT ON TABLE riskguard.column_key IS
  'column keys by id (the key is derived from the root key and the id; nothing secret is stored); status active: new values are sealed under it; root_key_check: the check value of the root key it derives from';

CREATE TABLE riskguard.protected_column (
  "table" pg_catalog.regclass NOT NULL,
  "column" pg_catalog.name NOT NULL,
  blind_index_column pg_catalog.name,
  blind_index_bits integer CHECK (blind_index_bits BETWEEN 1 AND 256),
  blind_index_key_id integer,
  schema_name pg_catalog.name NOT NULL,
  table_name pg_catalog.name NOT NULL,
  PRIMARY KEY ("table", "column")
);
COMMENT ON TABLE riskguard.protected_column IS
  'protected columns, with their blind index column, its width in bits, the id its key is derived from, and the schema and table names their values are bound to';

SELECT pg_catalog.pg_extension_config_dump('riskguard.column_key', '');
SELECT pg_catalog.pg_extension_config_dump('riskguard.column_key_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('riskguard.protected_column', '');

-- every writer's sealing trigger reads these (nothing secret); nobody writes them but
-- riskguard._key_change, which checks ownership and writes the audit log
REVOKE ALL ON riskguard.column_key, riskguard.protected_column, riskguard.column_key_id_seq FROM PUBLIC;
GRANT SELECT ON riskguard.column_key, riskguard.protected_column TO PUBLIC;

-- C functions.  Decrypting and blind indexes are PARALLEL SAFE: a parallel worker
-- inherits the root key from the postmaster like any backend and loads its own key cache
-- (read-only), so a scan of a decrypted view can spread the deciphering over workers; their
-- COST tells the planner that deciphering is worth spreading.

CREATE FUNCTION riskguard._seal()
RETURNS trigger
AS 'MODULE_PATHNAME', 'rg_seal_trigger'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION riskguard._seal() IS
  'BEFORE INSERT OR UPDATE row trigger that seals protected columns and fills their blind indexes';
REVOKE ALL ON FUNCTION riskguard._seal() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard._seal() TO riskguard_admin;

CREATE FUNCTION riskguard.decrypt(r anyelement, col text)
RETURNS text
AS 'MODULE_PATHNAME', 'rg_decrypt_text'
LANGUAGE C STABLE STRICT PARALLEL SAFE COST 100;
COMMENT ON FUNCTION riskguard.decrypt(anyelement, text) IS
  'plaintext of protected text column col of row r, for members of riskguard_reader (42501 for others; RG010 when it does not open)';
REVOKE ALL ON FUNCTION riskguard.decrypt(anyelement, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard.decrypt(anyelement, text) TO riskguard_reader;

CREATE FUNCTION riskguard.decrypt_bytea(r anyelement, col text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'rg_decrypt_bytea'
LANGUAGE C STABLE STRICT PARALLEL SAFE COST 100;
COMMENT ON FUNCTION riskguard.decrypt_bytea(anyelement, text) IS
  'plaintext of protected bytea column col of row r, for members of riskguard_reader (42501 for others; RG010 when it does not open)';
REVOKE ALL ON FUNCTION riskguard.decrypt_bytea(anyelement, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard.decrypt_bytea(anyelement, text) TO riskguard_reader;

CREATE FUNCTION riskguard.decrypt(value text, tbl pg_catalog.regclass, col text, VARIADIC pk "any")
RETURNS text
AS 'MODULE_PATHNAME', 'rg_open_text'
LANGUAGE C STABLE STRICT PARALLEL SAFE COST 100;
COMMENT ON FUNCTION riskguard.decrypt(text, pg_catalog.regclass, text, "any") IS
  'plaintext of a stored value of protected text column col of tbl, given its row''s primary key values in key order; for members of riskguard_reader; what the generated views call';
REVOKE ALL ON FUNCTION riskguard.decrypt(text, pg_catalog.regclass, text, "any") FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard.decrypt(text, pg_catalog.regclass, text, "any") TO riskguard_reader;

CREATE FUNCTION riskguard.decrypt_bytea(value bytea, tbl pg_catalog.regclass, col text, VARIADIC pk "any")
RETURNS bytea
AS 'MODULE_PATHNAME', 'rg_open_bytea'
LANGUAGE C STABLE STRICT PARALLEL SAFE COST 100;
COMMENT ON FUNCTION riskguard.decrypt_bytea(bytea, pg_catalog.regclass, text, "any") IS
  'plaintext of a stored value of protected bytea column col of tbl, given its row''s primary key values in key order; for members of riskguard_reader';
REVOKE ALL ON FUNCTION riskguard.decrypt_bytea(bytea, pg_catalog.regclass, text, "any") FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard.decrypt_bytea(bytea, pg_catalog.regclass, text, "any") TO riskguard_reader;

CREATE FUNCTION riskguard.blind_index(tbl pg_catalog.regclass, col pg_catalog.name, value text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'rg_blind_index'
LANGUAGE C STABLE STRICT PARALLEL SAFE COST 50;
COMMENT ON FUNCTION riskguard.blind_index(pg_catalog.regclass, pg_catalog.name, text) IS
  'blind index of value for protected column col (keyed BLAKE2b, truncated), to search its blind index column by equality';
REVOKE ALL ON FUNCTION riskguard.blind_index(pg_catalog.regclass, pg_catalog.name, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard.blind_index(pg_catalog.regclass, pg_catalog.name, text) TO riskguard_reader;

CREATE FUNCTION riskguard.blind_index(tbl pg_catalog.regclass, col pg_catalog.name, value bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'rg_blind_index'
LANGUAGE C STABLE STRICT PARALLEL SAFE COST 50;
COMMENT ON FUNCTION riskguard.blind_index(pg_catalog.regclass, pg_catalog.name, bytea) IS
  'blind index of value for protected bytea column col (keyed BLAKE2b, truncated)';
REVOKE ALL ON FUNCTION riskguard.blind_index(pg_catalog.regclass, pg_catalog.name, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard.blind_index(pg_catalog.regclass, pg_catalog.name, bytea) TO riskguard_reader;

CREATE FUNCTION riskguard.envelope_key_id(value text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'rg_envelope_key_id_text'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION riskguard.envelope_key_id(text) IS
  'key id in the header of a stored (base64) envelope, or NULL when the value is not one; opens nothing';

CREATE FUNCTION riskguard.envelope_key_id(value bytea)
RETURNS bigint
AS 'MODULE_PATHNAME', 'rg_envelope_key_id_bytea'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION riskguard.envelope_key_id(bytea) IS
  'key id in the header of a stored envelope, or NULL when the value is not one; opens nothing';

CREATE FUNCTION riskguard._invalidate_keys(tbl pg_catalog.regclass)
RETURNS void
AS 'MODULE_PATHNAME', 'rg_crypto_invalidate'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION riskguard._invalidate_keys(pg_catalog.regclass) IS
  'makes every backend reload the protected columns and keys of tbl at commit';
REVOKE ALL ON FUNCTION riskguard._invalidate_keys(pg_catalog.regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard._invalidate_keys(pg_catalog.regclass) TO riskguard_admin;

CREATE FUNCTION riskguard._require_root_key()
RETURNS void
AS 'MODULE_PATHNAME', 'rg_crypto_require_key'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION riskguard._require_root_key() IS
  'raises RG011 with the reason unless a root key is loaded';
REVOKE ALL ON FUNCTION riskguard._require_root_key() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard._require_root_key() TO riskguard_admin;

CREATE FUNCTION riskguard.mask(value text, visible_suffix integer DEFAULT 4)
RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF visible_suffix < 0 THEN
    RAISE EXCEPTION 'visible_suffix must not be negative: %', visible_suffix
      USING ERRCODE = '22023';
  END IF;
  -- a value no longer than the visible part is masked entirely, never shown whole
  IF pg_catalog.length(value) OPERATOR(pg_catalog.<=) visible_suffix THEN
    RETURN pg_catalog.repeat('*', pg_catalog.length(value));
  END IF;
  RETURN pg_catalog.repeat('*', pg_catalog.length(value) OPERATOR(pg_catalog.-) visible_suffix)
         OPERATOR(pg_catalog.||) pg_catalog.right(value, visible_suffix);
END
$$;
COMMENT ON FUNCTION riskguard.mask(text, integer) IS
  'value with all but its last visible_suffix characters replaced by *; a value that short is masked entirely';

-- Helpers

-- the protected column's schema and table names, or 22023 when it is not protected
CREATE FUNCTION riskguard._protected(tbl pg_catalog.regclass, col pg_catalog.name,
  OUT nspname pg_catalog.name, OUT relname pg_catalog.name, OUT typ text)
RETURNS record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  SELECT n.nspname, c.relname INTO nspname, relname
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
   WHERE c.oid OPERATOR(pg_catalog.=) tbl::pg_catalog.oid;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'table with OID % does not exist', tbl::pg_catalog.oid
      USING ERRCODE = '42P01';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM riskguard.protected_column p
                  WHERE p."table" OPERATOR(pg_catalog.=) tbl
                    AND p."column" OPERATOR(pg_catalog.=) col) THEN
    RAISE EXCEPTION 'column "%" of table "%.%" is not protected', col, nspname, relname
      USING ERRCODE = '22023',
            HINT = 'Protect it first with riskguard.protect_column.';
  END IF;
  SELECT pg_catalog.format_type(a.atttypid, NULL) INTO typ
    FROM pg_catalog.pg_attribute a
   WHERE a.attrelid OPERATOR(pg_catalog.=) tbl::pg_catalog.oid
     AND a.attname OPERATOR(pg_catalog.=) col AND NOT a.attisdropped;
END
$$;
COMMENT ON FUNCTION riskguard._protected(pg_catalog.regclass, pg_catalog.name) IS
  'schema, table name and type of a protected column; 22023 when the column is not protected';
REVOKE ALL ON FUNCTION riskguard._protected(pg_catalog.regclass, pg_catalog.name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard._protected(pg_catalog.regclass, pg_catalog.name) TO riskguard_admin;

-- The only writer of the key metadata: protect, rotate or forget a column's keys, and
-- record the operation in the control audit log (whose actor is the session user).
-- SECURITY DEFINER, since the metadata grants no writes; it acts only for a session whose
-- login role is a member of the table's owner, so calling it directly gains nothing over
-- the public functions.
CREATE FUNCTION riskguard._key_change(action text, tbl pg_catalog.regclass, col pg_catalog.name,
  blind_index_column pg_catalog.name DEFAULT NULL, blind_index_bits integer DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  owner pg_catalog.oid;
  nsp pg_catalog.name;
  rel pg_catalog.name;
  target text;
  key_id integer;
  old_id integer;
BEGIN
  SELECT c.relowner, n.nspname, c.relname INTO owner, nsp, rel
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
   WHERE c.oid OPERATOR(pg_catalog.=) tbl::pg_catalog.oid;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'table with OID % does not exist', tbl::pg_catalog.oid USING ERRCODE = '42P01';
  END IF;
  IF NOT pg_catalog.pg_has_role(pg_catalog.session_user(), owner, 'MEMBER') THEN
    RAISE EXCEPTION 'must be owner of table "%.%" to change the keys of its columns', nsp, rel
      USING ERRCODE = '42501';
  END IF;
  target := pg_catalog.format('%I.%I.%I', nsp, rel, col);
  IF action OPERATOR(pg_catalog.=) 'protect_column' THEN
    INSERT INTO riskguard.column_key ("table", "column", status)
    VALUES (tbl, col, 'active') RETURNING id INTO key_id;
    INSERT INTO riskguard.protected_column ("table", "column", blind_index_column, blind_index_bits,
                                            blind_index_key_id, schema_name, table_name)
    VALUES (tbl, col, blind_index_column,
            CASE WHEN blind_index_column IS NOT NULL THEN blind_index_bits END,
            CASE WHEN blind_index_column IS NOT NULL THEN key_id END, nsp, rel);
    PERFORM riskguard._audit(action, target,
      pg_catalog.jsonb_build_object('key_id', key_id, 'blind_index_column', blind_index_column,
        'blind_index_bits', CASE WHEN blind_index_column IS NOT NULL THEN blind_index_bits END));
  ELSIF action OPERATOR(pg_catalog.=) 'rotate_column_key' THEN
    UPDATE riskguard.column_key k SET status = 'retired'
     WHERE k."table" OPERATOR(pg_catalog.=) tbl AND k."column" OPERATOR(pg_catalog.=) col
       AND k.status OPERATOR(pg_catalog.=) 'active'
    RETURNING k.id INTO old_id;
    IF old_id IS NULL THEN
      RAISE EXCEPTION 'column "%" of table "%.%" is not protected', col, nsp, rel USING ERRCODE = '22023';
    END IF;
    INSERT INTO riskguard.column_key ("table", "column", status)
    VALUES (tbl, col, 'active') RETURNING id INTO key_id;
    PERFORM riskguard._audit(action, target,
      pg_catalog.jsonb_build_object('key_id', key_id, 'previous_key_id', old_id));
  ELSIF action OPERATOR(pg_catalog.=) 'unprotect_column' THEN
    DELETE FROM riskguard.protected_column c
     WHERE c."table" OPERATOR(pg_catalog.=) tbl AND c."column" OPERATOR(pg_catalog.=) col;
    DELETE FROM riskguard.column_key k
     WHERE k."table" OPERATOR(pg_catalog.=) tbl AND k."column" OPERATOR(pg_catalog.=) col;
    PERFORM riskguard._audit(action, target, '{}'::jsonb);
  ELSE
    RAISE EXCEPTION 'unrecognized key operation: "%"', action USING ERRCODE = '22023';
  END IF;
  PERFORM riskguard._invalidate_keys(tbl);
  RETURN key_id;
END
$$;
COMMENT ON FUNCTION riskguard._key_change(text, pg_catalog.regclass, pg_catalog.name, pg_catalog.name, integer) IS
  'the only writer of column_key and protected_column: protect_column, rotate_column_key or unprotect_column for the table''s owner, audited';
REVOKE ALL ON FUNCTION riskguard._key_change(text, pg_catalog.regclass, pg_catalog.name, pg_catalog.name, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard._key_change(text, pg_catalog.regclass, pg_catalog.name, pg_catalog.name, integer) TO riskguard_admin;

-- Resealing works page range by page range over every non-null value of col that is not
-- yet sealed under the column's active key: plaintexts get sealed, older keys' values
-- resealed (the trigger does both on UPDATE ... SET col = col).  Rows already under the
-- active key are skipped, so running it again resumes.

-- how much is pending, and how many pages make a batch of about batch_size pending rows
CREATE FUNCTION riskguard._reseal_plan(tbl pg_catalog.regclass, col pg_catalog.name, batch_size integer,
  OUT active integer, OUT total bigint, OUT nblocks bigint, OUT pages bigint)
RETURNS record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  p record;
BEGIN
  SELECT * INTO p FROM riskguard._protected(tbl, col);
  SELECT k.id INTO active FROM riskguard.column_key k
   WHERE k."table" OPERATOR(pg_catalog.=) tbl AND k."column" OPERATOR(pg_catalog.=) col
     AND k.status OPERATOR(pg_catalog.=) 'active';
  EXECUTE pg_catalog.format(
    'SELECT pg_catalog.count(*) FROM ONLY %I.%I WHERE %I IS NOT NULL AND riskguard.envelope_key_id(%I) IS DISTINCT FROM $1',
    p.nspname, p.relname, col, col)
    INTO total USING active;
  nblocks := pg_catalog.pg_relation_size(tbl)
             OPERATOR(pg_catalog./) pg_catalog.current_setting('block_size')::integer;
  pages := GREATEST(1, (batch_size::numeric OPERATOR(pg_catalog.*) nblocks
                        OPERATOR(pg_catalog./) GREATEST(total, 1))::bigint);
END
$$;
COMMENT ON FUNCTION riskguard._reseal_plan(pg_catalog.regclass, pg_catalog.name, integer) IS
  'active key, pending values, pages, and pages per batch for resealing a protected column';
REVOKE ALL ON FUNCTION riskguard._reseal_plan(pg_catalog.regclass, pg_catalog.name, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard._reseal_plan(pg_catalog.regclass, pg_catalog.name, integer) TO riskguard_admin;

-- one batch: the pending values in pages [start, start + pages)
CREATE FUNCTION riskguard._reseal_batch(tbl pg_catalog.regclass, col pg_catalog.name, active integer,
  start bigint, pages bigint)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  p record;
  n bigint;
BEGIN
  SELECT * INTO p FROM riskguard._protected(tbl, col);
  EXECUTE pg_catalog.format(
    'UPDATE ONLY %I.%I SET %I = %I WHERE ctid OPERATOR(pg_catalog.>=) $2 AND ctid OPERATOR(pg_catalog.<) $3'
    ' AND %I IS NOT NULL AND riskguard.envelope_key_id(%I) IS DISTINCT FROM $1',
    p.nspname, p.relname, col, col, col, col)
    USING active, pg_catalog.format('(%s,0)', start)::pg_catalog.tid,
          pg_catalog.format('(%s,0)', start OPERATOR(pg_catalog.+) pages)::pg_catalog.tid;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;
COMMENT ON FUNCTION riskguard._reseal_batch(pg_catalog.regclass, pg_catalog.name, integer, bigint, bigint) IS
  'seals or reseals the pending values of a protected column in one range of pages';
REVOKE ALL ON FUNCTION riskguard._reseal_batch(pg_catalog.regclass, pg_catalog.name, integer, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard._reseal_batch(pg_catalog.regclass, pg_catalog.name, integer, bigint, bigint) TO riskguard_admin;

CREATE FUNCTION riskguard._reseal(tbl pg_catalog.regclass, col pg_catalog.name,
  batch_size integer, verb text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  plan record;
  p record;
  start bigint := 0;
  done bigint := 0;
  n bigint;
BEGIN
  SELECT * INTO p FROM riskguard._protected(tbl, col);
  SELECT * INTO plan FROM riskguard._reseal_plan(tbl, col, batch_size);
  IF plan.total OPERATOR(pg_catalog.=) 0 THEN
    RETURN 0;
  END IF;
  WHILE start OPERATOR(pg_catalog.<) plan.nblocks LOOP
    n := riskguard._reseal_batch(tbl, col, plan.active, start, plan.pages);
    done := done OPERATOR(pg_catalog.+) n;
    IF n OPERATOR(pg_catalog.>) 0 THEN
      RAISE NOTICE '% % of % rows of column "%" of table "%.%"',
        verb, done, plan.total, col, p.nspname, p.relname;
    END IF;
    start := start OPERATOR(pg_catalog.+) plan.pages;
  END LOOP;
  RETURN done;
END
$$;
COMMENT ON FUNCTION riskguard._reseal(pg_catalog.regclass, pg_catalog.name, integer, text) IS
  'seals or reseals, in batches of pages, the values of a protected column not yet under its active key';
REVOKE ALL ON FUNCTION riskguard._reseal(pg_catalog.regclass, pg_catalog.name, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard._reseal(pg_catalog.regclass, pg_catalog.name, integer, text) TO riskguard_admin;

-- (Re)create <schema>.<table>_decrypted: every column of the table, protected ones
-- decrypted.  CREATE OR REPLACE keeps the view's owner and grants; when the table's
-- columns changed so that the view cannot be replaced, it is dropped and created again
-- with its grants copied back.
CREATE FUNCTION riskguard._regenerate_view(tbl pg_catalog.regclass)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  nsp pg_catalog.name;
  rel pg_catalog.name;
  cols text;
  pkargs text;
  body text;
  acl pg_catalog.aclitem[];
  g record;
BEGIN
  SELECT n.nspname, c.relname INTO nsp, rel
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
   WHERE c.oid OPERATOR(pg_catalog.=) tbl::pg_catalog.oid;
  -- the row's primary key values, in key order, bind each value to its row
  SELECT pg_catalog.string_agg(pg_catalog.format('t.%I', a.attname), ', ' ORDER BY k.ord)
    INTO pkargs
    FROM pg_catalog.pg_index i
   CROSS JOIN LATERAL pg_catalog.unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY AS k(attnum, ord)
    JOIN pg_catalog.pg_attribute a
      ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid AND a.attnum OPERATOR(pg_catalog.=) k.attnum
   WHERE i.indrelid OPERATOR(pg_catalog.=) tbl::pg_catalog.oid AND i.indisprimary;
  SELECT pg_catalog.string_agg(
           CASE WHEN p."column" IS NULL THEN pg_catalog.format('t.%I', a.attname)
                ELSE pg_catalog.format('riskguard.%s(t.%I, %L::pg_catalog.regclass, %L, %s) AS %I',
                       CASE WHEN a.atttypid OPERATOR(pg_catalog.=) 'pg_catalog.bytea'::pg_catalog.regtype
                            THEN 'decrypt_bytea' ELSE 'decrypt' END,
                       a.attname, pg_catalog.format('%I.%I', nsp, rel), a.attname, pkargs, a.attname)
           END, ', ' ORDER BY a.attnum)
    INTO cols
    FROM pg_catalog.pg_attribute a
    LEFT JOIN riskguard.protected_column p
      ON p."table" OPERATOR(pg_catalog.=) tbl AND p."column" OPERATOR(pg_catalog.=) a.attname
   WHERE a.attrelid OPERATOR(pg_catalog.=) tbl::pg_catalog.oid
     AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
  body := pg_catalog.format('SELECT %s FROM ONLY %I.%I t', cols, nsp, rel);
  BEGIN
    EXECUTE pg_catalog.format('CREATE OR REPLACE VIEW %I.%I WITH (security_invoker = true) AS %s',
                              nsp, rel OPERATOR(pg_catalog.||) '_decrypted', body);
  EXCEPTION WHEN invalid_table_definition THEN
    SELECT c.relacl INTO acl FROM pg_catalog.pg_class c
     WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.format('%I.%I', nsp, rel OPERATOR(pg_catalog.||) '_decrypted')::pg_catalog.regclass;
    EXECUTE pg_catalog.format('DROP VIEW %I.%I', nsp, rel OPERATOR(pg_catalog.||) '_decrypted');
    EXECUTE pg_catalog.format('CREATE VIEW %I.%I WITH (security_invoker = true) AS %s',
                              nsp, rel OPERATOR(pg_catalog.||) '_decrypted', body);
    FOR g IN SELECT * FROM pg_catalog.aclexplode(acl) LOOP
      EXECUTE pg_catalog.format('GRANT %s ON %I.%I TO %s%s', g.privilege_type, nsp,
        rel OPERATOR(pg_catalog.||) '_decrypted',
        CASE WHEN g.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
             ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(g.grantee)) END,
        CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
  END;
  EXECUTE pg_catalog.format('COMMENT ON VIEW %I.%I IS %L', nsp, rel OPERATOR(pg_catalog.||) '_decrypted',
    pg_catalog.format('%s.%s with protected columns decrypted for members of riskguard_reader (generated by riskguard)', nsp, rel));
END
$$;
COMMENT ON FUNCTION riskguard._regenerate_view(pg_catalog.regclass) IS
  'creates or replaces the security_invoker view <table>_decrypted, keeping its grants';
REVOKE ALL ON FUNCTION riskguard._regenerate_view(pg_catalog.regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard._regenerate_view(pg_catalog.regclass) TO riskguard_admin;

-- The SQL surface

CREATE FUNCTION riskguard.protect_column(tbl pg_catalog.regclass, col pg_catalog.name,
  blind_index_column pg_catalog.name DEFAULT NULL, blind_index_bits integer DEFAULT 32)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  nsp pg_catalog.name;
  rel pg_catalog.name;
  kind "char";
  att record;
  pk pg_catalog.int2vector;
  bad record;
  bidx record;
  key_id integer;
BEGIN
  PERFORM riskguard._require_root_key();
  SELECT n.nspname, c.relname, c.relkind INTO nsp, rel, kind
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
   WHERE c.oid OPERATOR(pg_catalog.=) tbl::pg_catalog.oid;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'table with OID % does not exist', tbl::pg_catalog.oid USING ERRCODE = '42P01';
  END IF;
  IF kind OPERATOR(pg_catalog.<>) 'r' THEN
    RAISE EXCEPTION '"%.%" is not a table', nsp, rel
      USING ERRCODE = '42809', HINT = 'Only ordinary tables can have protected columns.';
  END IF;
  -- no writes while the column changes form
  EXECUTE pg_catalog.format('LOCK TABLE %I.%I IN SHARE ROW EXCLUSIVE MODE', nsp, rel);

  SELECT a.attnum, a.atttypid INTO att FROM pg_catalog.pg_attribute a
   WHERE a.attrelid OPERATOR(pg_catalog.=) tbl::pg_catalog.oid
     AND a.attname OPERATOR(pg_catalog.=) col AND a.attnum OPERATOR(pg_catalog.>) 0
     AND NOT a.attisdropped;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'column "%" of table "%.%" does not exist', col, nsp, rel USING ERRCODE = '42703';
  END IF;
  IF att.atttypid OPERATOR(pg_catalog.<>) ALL (ARRAY['pg_catalog.text'::pg_catalog.regtype,
                                                      'pg_catalog.bytea'::pg_catalog.regtype]::pg_catalog.oid[]) THEN
    RAISE EXCEPTION 'column "%" of table "%.%" is of type %, not text or bytea',
      col, nsp, rel, pg_catalog.format_type(att.atttypid, NULL)
      USING ERRCODE = '42804',
            HINT = 'Only text and bytea columns can be protected; store other values as text.';
  END IF;

  SELECT i.indkey INTO pk FROM pg_catalog.pg_index i
   WHERE i.indrelid OPERATOR(pg_catalog.=) tbl::pg_catalog.oid AND i.indisprimary;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'table "%.%" has no primary key', nsp, rel
      USING ERRCODE = '22023',
            DETAIL = 'Sealed values are bound to their row''s primary key, so that a value copied to another row does not open.',
            HINT = 'Add a primary key (ALTER TABLE ... ADD PRIMARY KEY) and protect the column again.';
  END IF;
  IF att.attnum OPERATOR(pg_catalog.=) ANY (pk::pg_catalog.int2[]) THEN
    RAISE EXCEPTION 'column "%" of table "%.%" is part of its primary key', col, nsp, rel
      USING ERRCODE = '22023', HINT = 'Primary key columns cannot be protected: they bind sealed values to their rows.';
  END IF;
  SELECT a.attname, pg_catalog.format_type(a.atttypid, NULL) AS typ INTO bad
    FROM pg_catalog.pg_attribute a
   WHERE a.attrelid OPERATOR(pg_catalog.=) tbl::pg_catalog.oid
     AND a.attnum OPERATOR(pg_catalog.=) ANY (pk::pg_catalog.int2[])
     AND pg_catalog.format_type(a.atttypid, NULL) OPERATOR(pg_catalog.<>) ALL (ARRAY[
       'smallint', 'integer', 'bigint', 'numeric', 'text', 'character varying', 'character', 'uuid'])
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'primary key column "%" of table "%.%" is of type %', bad.attname, nsp, rel, bad.typ
      USING ERRCODE = '22023',
            DETAIL = 'Sealed values are bound to the primary key''s text form, which must not depend on session settings.',
            HINT = 'Use a primary key of type smallint, integer, bigint, numeric, text, varchar, char or uuid.';
  END IF;

  IF EXISTS (SELECT 1 FROM riskguard.protected_column p
              WHERE p."table" OPERATOR(pg_catalog.=) tbl AND p."column" OPERATOR(pg_catalog.=) col) THEN
    RAISE EXCEPTION 'column "%" of table "%.%" is already protected', col, nsp, rel
      USING ERRCODE = '42710',
            HINT = 'Use riskguard.rotate_column_key to change its key, or riskguard.unprotect_column first.';
  END IF;
  IF EXISTS (SELECT 1 FROM riskguard.protected_column p
              WHERE p."table" OPERATOR(pg_catalog.=) tbl
                AND p.blind_index_column OPERATOR(pg_catalog.=) col) THEN
    RAISE EXCEPTION 'column "%" of table "%.%" is a blind index column', col, nsp, rel
      USING ERRCODE = '22023';
  END IF;
  IF pg_catalog.octet_length(rel) OPERATOR(pg_catalog.+) 10 OPERATOR(pg_catalog.>) 63 THEN
    RAISE EXCEPTION 'table name "%" is too long for the view "%_decrypted"', rel, rel
      USING ERRCODE = '42622', HINT = 'Table names of protected columns may have at most 53 bytes.';
  END IF;

  IF blind_index_column IS NOT NULL THEN
    IF blind_index_bits IS NULL OR blind_index_bits NOT BETWEEN 1 AND 256 THEN
      RAISE EXCEPTION 'blind_index_bits must be between 1 and 256: %', blind_index_bits
        USING ERRCODE = '22023';
    END IF;
    IF blind_index_column OPERATOR(pg_catalog.=) col THEN
      RAISE EXCEPTION 'the blind index column of "%" must be another column', col
        USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM riskguard.protected_column p
                WHERE p."table" OPERATOR(pg_catalog.=) tbl
                  AND (p."column" OPERATOR(pg_catalog.=) blind_index_column
                       OR p.blind_index_column OPERATOR(pg_catalog.=) blind_index_column)) THEN
      RAISE EXCEPTION 'column "%" of table "%.%" is already protected or a blind index',
        blind_index_column, nsp, rel USING ERRCODE = '22023';
    END IF;
    SELECT a.attnum, a.atttypid INTO bidx FROM pg_catalog.pg_attribute a
     WHERE a.attrelid OPERATOR(pg_catalog.=) tbl::pg_catalog.oid
       AND a.attname OPERATOR(pg_catalog.=) blind_index_column AND a.attnum OPERATOR(pg_catalog.>) 0
       AND NOT a.attisdropped;
    IF NOT FOUND THEN
      EXECUTE pg_catalog.format('ALTER TABLE %I.%I ADD COLUMN %I bytea', nsp, rel, blind_index_column);
    ELSIF bidx.atttypid OPERATOR(pg_catalog.<>) 'pg_catalog.bytea'::pg_catalog.regtype THEN
      RAISE EXCEPTION 'blind index column "%" of table "%.%" is of type %, not bytea',
        blind_index_column, nsp, rel, pg_catalog.format_type(bidx.atttypid, NULL)
        USING ERRCODE = '42804';
    ELSIF bidx.attnum OPERATOR(pg_catalog.=) ANY (pk::pg_catalog.int2[]) THEN
      RAISE EXCEPTION 'blind index column "%" of table "%.%" is part of its primary key',
        blind_index_column, nsp, rel USING ERRCODE = '22023';
    ELSE
      EXECUTE pg_catalog.format('UPDATE ONLY %I.%I SET %I = NULL WHERE %I IS NULL AND %I IS NOT NULL',
                                nsp, rel, blind_index_column, col, blind_index_column);
    END IF;
  END IF;

  key_id := riskguard._key_change('protect_column', tbl, col, blind_index_column, blind_index_bits);

  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
                  WHERE g.tgrelid OPERATOR(pg_catalog.=) tbl::pg_catalog.oid
                    AND g.tgname OPERATOR(pg_catalog.=) 'riskguard_seal') THEN
    EXECUTE pg_catalog.format(
      'CREATE TRIGGER riskguard_seal BEFORE INSERT OR UPDATE ON %I.%I FOR EACH ROW EXECUTE FUNCTION riskguard._seal()',
      nsp, rel);
  END IF;

  PERFORM riskguard._reseal(tbl, col, 10000, 'sealed');
  PERFORM riskguard._regenerate_view(tbl);
END
$$;
COMMENT ON FUNCTION riskguard.protect_column(pg_catalog.regclass, pg_catalog.name, pg_catalog.name, integer) IS
  'seals a text or bytea column of a table with a primary key: existing values now, new ones by trigger; creates <table>_decrypted';
REVOKE ALL ON FUNCTION riskguard.protect_column(pg_catalog.regclass, pg_catalog.name, pg_catalog.name, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard.protect_column(pg_catalog.regclass, pg_catalog.name, pg_catalog.name, integer) TO riskguard_admin;

CREATE FUNCTION riskguard.rotate_column_key(tbl pg_catalog.regclass, col pg_catalog.name)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  p record;
  new_id integer;
BEGIN
  PERFORM riskguard._require_root_key();
  SELECT * INTO p FROM riskguard._protected(tbl, col);
  new_id := riskguard._key_change('rotate_column_key', tbl, col);
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION riskguard.rotate_column_key(pg_catalog.regclass, pg_catalog.name) IS
  'makes a new key the one new values of the column are sealed under; returns its id (older values still open; see reencrypt)';
REVOKE ALL ON FUNCTION riskguard.rotate_column_key(pg_catalog.regclass, pg_catalog.name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard.rotate_column_key(pg_catalog.regclass, pg_catalog.name) TO riskguard_admin;

CREATE FUNCTION riskguard.reencrypt(tbl pg_catalog.regclass, col pg_catalog.name,
  batch_size integer DEFAULT 10000)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  p record;
BEGIN
  PERFORM riskguard._require_root_key();
  SELECT * INTO p FROM riskguard._protected(tbl, col);
  IF batch_size IS NULL OR batch_size OPERATOR(pg_catalog.<) 1 THEN
    RAISE EXCEPTION 'batch_size must be at least 1: %', batch_size USING ERRCODE = '22023';
  END IF;
  RETURN riskguard._reseal(tbl, col, batch_size, 'resealed');
END
$$;
COMMENT ON FUNCTION riskguard.reencrypt(pg_catalog.regclass, pg_catalog.name, integer) IS
  'reseals, in batches, the values of the column still sealed under older keys; returns how many; running it again resumes';
REVOKE ALL ON FUNCTION riskguard.reencrypt(pg_catalog.regclass, pg_catalog.name, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard.reencrypt(pg_catalog.regclass, pg_catalog.name, integer) TO riskguard_admin;

-- The same, committing after every batch, so that an interrupted run keeps what it did
-- and the next CALL resumes.  No SET clause (it would forbid COMMIT): every name is
-- qualified instead.
CREATE PROCEDURE riskguard.reencrypt_resumable(tbl pg_catalog.regclass, col pg_catalog.name,
  batch_size integer DEFAULT 10000)
LANGUAGE plpgsql
AS $$
DECLARE
  plan record;
  p record;
  start bigint := 0;
  done bigint := 0;
  n bigint;
BEGIN
  PERFORM riskguard._require_root_key();
  SELECT * INTO p FROM riskguard._protected(tbl, col);
  IF batch_size IS NULL OR batch_size OPERATOR(pg_catalog.<) 1 THEN
    RAISE EXCEPTION 'batch_size must be at least 1: %', batch_size USING ERRCODE = '22023';
  END IF;
  SELECT * INTO plan FROM riskguard._reseal_plan(tbl, col, batch_size);
  WHILE start OPERATOR(pg_catalog.<) plan.nblocks AND plan.total OPERATOR(pg_catalog.>) 0 LOOP
    n := riskguard._reseal_batch(tbl, col, plan.active, start, plan.pages);
    done := done OPERATOR(pg_catalog.+) n;
    start := start OPERATOR(pg_catalog.+) plan.pages;
    COMMIT;
    IF n OPERATOR(pg_catalog.>) 0 THEN
      RAISE NOTICE 'resealed % of % rows of column "%" of table "%.%", committed',
        done, plan.total, col, p.nspname, p.relname;
    END IF;
  END LOOP;
END
$$;
COMMENT ON PROCEDURE riskguard.reencrypt_resumable(pg_catalog.regclass, pg_catalog.name, integer) IS
  'reencrypt, committing after every batch: an interrupted run keeps its progress and the next CALL resumes; not inside a transaction block';
REVOKE ALL ON PROCEDURE riskguard.reencrypt_resumable(pg_catalog.regclass, pg_catalog.name, integer) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE riskguard.reencrypt_resumable(pg_catalog.regclass, pg_catalog.name, integer) TO riskguard_admin;

CREATE FUNCTION riskguard.unprotect_column(tbl pg_catalog.regclass, col pg_catalog.name)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  p record;
  pc record;
  remaining bigint;
BEGIN
  PERFORM riskguard._require_root_key();
  SELECT * INTO p FROM riskguard._protected(tbl, col);
  SELECT * INTO pc FROM riskguard.protected_column c
   WHERE c."table" OPERATOR(pg_catalog.=) tbl AND c."column" OPERATOR(pg_catalog.=) col;
  EXECUTE pg_catalog.format('LOCK TABLE %I.%I IN SHARE ROW EXCLUSIVE MODE', p.nspname, p.relname);
  EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS riskguard_seal ON %I.%I', p.nspname, p.relname);
  -- decrypting needs riskguard_reader, like every other path to the plaintext
  EXECUTE pg_catalog.format('UPDATE ONLY %I.%I AS t SET %I = riskguard.%s(t.*, %L)%s WHERE %I IS NOT NULL',
    p.nspname, p.relname, col, CASE WHEN p.typ OPERATOR(pg_catalog.=) 'bytea' THEN 'decrypt_bytea' ELSE 'decrypt' END,
    col, CASE WHEN pc.blind_index_column IS NOT NULL
              THEN pg_catalog.format(', %I = NULL', pc.blind_index_column) ELSE '' END, col);
  PERFORM riskguard._key_change('unprotect_column', tbl, col);
  SELECT pg_catalog.count(*) INTO remaining FROM riskguard.protected_column c
   WHERE c."table" OPERATOR(pg_catalog.=) tbl;
  IF remaining OPERATOR(pg_catalog.>) 0 THEN
    EXECUTE pg_catalog.format(
      'CREATE TRIGGER riskguard_seal BEFORE INSERT OR UPDATE ON %I.%I FOR EACH ROW EXECUTE FUNCTION riskguard._seal()',
      p.nspname, p.relname);
    PERFORM riskguard._regenerate_view(tbl);
  ELSE
    EXECUTE pg_catalog.format('DROP VIEW IF EXISTS %I.%I', p.nspname, p.relname OPERATOR(pg_catalog.||) '_decrypted');
  END IF;
END
$$;
COMMENT ON FUNCTION riskguard.unprotect_column(pg_catalog.regclass, pg_catalog.name) IS
  'decrypts the column back in place (the caller needs riskguard_reader too), clears its blind index, forgets its keys, and removes trigger and view when no protected column remains';
REVOKE ALL ON FUNCTION riskguard.unprotect_column(pg_catalog.regclass, pg_catalog.name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard.unprotect_column(pg_catalog.regclass, pg_catalog.name) TO riskguard_admin;

-- A dropped table or column takes its protection metadata with it, so that a table
-- created later with the same OID does not inherit it.
CREATE FUNCTION riskguard._forget_dropped()
RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF pg_catalog.to_regclass('riskguard.protected_column') IS NULL THEN
    RETURN;
  END IF;
  DELETE FROM riskguard.protected_column p
   USING pg_catalog.pg_event_trigger_dropped_objects() d
   WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
     AND d.objid OPERATOR(pg_catalog.=) p."table"::pg_catalog.oid
     AND (d.objsubid OPERATOR(pg_catalog.=) 0
          OR d.address_names[3] OPERATOR(pg_catalog.=) p."column"::text);
  DELETE FROM riskguard.column_key k
   USING pg_catalog.pg_event_trigger_dropped_objects() d
   WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
     AND d.objid OPERATOR(pg_catalog.=) k."table"::pg_catalog.oid
     AND (d.objsubid OPERATOR(pg_catalog.=) 0
          OR d.address_names[3] OPERATOR(pg_catalog.=) k."column"::text);
END
$$;
COMMENT ON FUNCTION riskguard._forget_dropped() IS
  'event trigger: forgets the protection metadata of dropped tables and columns';
REVOKE ALL ON FUNCTION riskguard._forget_dropped() FROM PUBLIC;

CREATE EVENT TRIGGER riskguard_forget_dropped ON sql_drop
  EXECUTE FUNCTION riskguard._forget_dropped();

-- Sealed values are bound to the names of schema, table and column: renaming either, or
-- changing the column's type, would leave them unreadable, so such changes are refused.
CREATE FUNCTION riskguard._guard_protected()
RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  bad record;
BEGIN
  IF pg_catalog.to_regclass('riskguard.protected_column') IS NULL THEN
    RETURN;
  END IF;
  SELECT p.schema_name, p.table_name, p."column" INTO bad
    FROM riskguard.protected_column p
    JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) p."table"::pg_catalog.oid
    JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
   WHERE n.nspname OPERATOR(pg_catalog.<>) p.schema_name
      OR c.relname OPERATOR(pg_catalog.<>) p.table_name
      OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                      WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid
                        AND a.attname OPERATOR(pg_catalog.=) p."column" AND NOT a.attisdropped
                        AND a.atttypid OPERATOR(pg_catalog.=) ANY (ARRAY['pg_catalog.text'::pg_catalog.regtype,
                                                                          'pg_catalog.bytea'::pg_catalog.regtype]::pg_catalog.oid[]))
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'cannot rename or retype protected column "%" of table "%.%"',
      bad."column", bad.schema_name, bad.table_name
      USING ERRCODE = '55000',
            DETAIL = 'Its sealed values are bound to the names of schema, table and column, and the column must stay text or bytea.',
            HINT = 'Unprotect the column with riskguard.unprotect_column, make the change, and protect it again.';
  END IF;
END
$$;
COMMENT ON FUNCTION riskguard._guard_protected() IS
  'event trigger: refuses renaming a protected column, its table or schema, or changing the column''s type';
REVOKE ALL ON FUNCTION riskguard._guard_protected() FROM PUBLIC;

CREATE EVENT TRIGGER riskguard_guard_protected ON ddl_command_end
  WHEN TAG IN ('ALTER TABLE', 'ALTER SCHEMA')
  EXECUTE FUNCTION riskguard._guard_protected();
