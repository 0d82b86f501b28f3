-- Credit models and scoring: versioned model specs, score(), and the scoring trigger.

CREATE FUNCTION riskguard.validate_model(spec jsonb)
RETURNS text
AS 'MODULE_PATHNAME', 'rg_validate_model'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard.validate_model(jsonb) IS
  'checks a credit model specification and returns its kind (scorecard or logistic); RG020 names the JSON path of the first fault';

CREATE TABLE riskguard.credit_model (
  name       text NOT NULL,
  version    integer NOT NULL CHECK (version OPERATOR(pg_catalog.>) 0),
  kind       text NOT NULL,
  spec       jsonb NOT NULL,
  active     boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
  created_by name NOT NULL DEFAULT CURRENT_USER,
  PRIMARY KEY (name, version),
  CONSTRAINT credit_model_name_length
    CHECK (pg_catalog.length(name) OPERATOR(pg_catalog.>=) 1
           AND pg_catalog.octet_length(name) OPERATOR(pg_catalog.<=) 63),
  CONSTRAINT credit_model_spec_valid
    CHECK (riskguard.validate_model(spec) OPERATOR(pg_catalog.=) kind)
);
CREATE UNIQUE INDEX credit_model_one_active ON riskguard.credit_model (name) WHERE active;
COMMENT ON TABLE riskguard.credit_model IS
  'credit models: every version of every model''s specification; at most one active version per name';
SELECT pg_catalog.pg_extension_config_dump('riskguard.credit_model', '');
REVOKE ALL ON TABLE riskguard.credit_model FROM PUBLIC;
GRANT SELECT ON TABLE riskguard.credit_model TO riskguard_admin;

-- every change to the models drops the compiled models cached by every backend
CREATE TRIGGER credit_model_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON riskguard.credit_model
  FOR EACH STATEMENT EXECUTE FUNCTION riskguard._config_changed();

CREATE TYPE riskguard.credit_score AS (
  model    text,
  version  integer,
  score    integer,
  pd       double precision,
  grade    text,
  decision text,
  reasons  text[]
);
COMMENT ON TYPE riskguard.credit_score IS
  'the result of scoring one application: model and version used, score, probability of default, grade, decision and up to four reason codes';

CREATE FUNCTION riskguard.create_model(name text, spec jsonb)
RETURNS integer
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  v_kind text;
  v_version integer;
BEGIN
  IF pg_catalog.length(create_model.name) OPERATOR(pg_catalog.<) 1
     OR pg_catalog.octet_length(create_model.name) OPERATOR(pg_catalog.>) 63 THEN
    RAISE EXCEPTION 'model name "%" must have 1 to 63 bytes', create_model.name
      USING ERRCODE = '22023';
  END IF;
  v_kind := riskguard.validate_model(create_model.spec);
  -- versions of one name are numbered without gaps: serialise concurrent creations
  LOCK TABLE riskguard.credit_model IN SHARE ROW EXCLUSIVE MODE;
  SELECT COALESCE(pg_catalog.max(m.version), 0) OPERATOR(pg_catalog.+) 1
    INTO v_version
    FROM riskguard.credit_model m
   WHERE m.name OPERATOR(pg_catalog.=) create_model.name;
  UPDATE riskguard.credit_model m SET active = false
   WHERE m.name OPERATOR(pg_catalog.=) create_model.name AND m.active;
  INSERT INTO riskguard.credit_model (name, version, kind, spec, active, created_by)
  VALUES (create_model.name, v_version, v_kind, create_model.spec, true, SESSION_USER);
  PERFORM riskguard._audit('create_model', create_model.name,
    pg_catalog.jsonb_build_object(
      'version', v_version, 'kind', v_kind,
      'features', pg_catalog.jsonb_array_length(create_model.spec OPERATOR(pg_catalog.->) 'features'),
      'spec_sha256', pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(create_model.spec::text, 'UTF8')), 'hex')));
  RETURN v_version;
END
$fn$;
COMMENT ON FUNCTION riskguard.create_model(text, jsonb) IS
  'validates a credit model specification (RG020 with the JSON path of the fault) and stores it as the next version of the model, which becomes active; logged in the control audit log; returns the version';
REVOKE ALL ON FUNCTION riskguard.create_model(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard.create_model(text, jsonb) TO riskguard_admin;

CREATE FUNCTION riskguard.activate_model(name text, version integer)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  v_previous integer;
BEGIN
  LOCK TABLE riskguard.credit_model IN SHARE ROW EXCLUSIVE MODE;
  SELECT m.version INTO v_previous FROM riskguard.credit_model m
   WHERE m.name OPERATOR(pg_catalog.=) activate_model.name AND m.active;
  IF NOT EXISTS (SELECT 1 FROM riskguard.credit_model m
                  WHERE m.name OPERATOR(pg_catalog.=) activate_model.name
                    AND m.version OPERATOR(pg_catalog.=) activate_model.version) THEN
    RAISE EXCEPTION 'model "%" has no version %', activate_model.name, activate_model.version
      USING ERRCODE = 'RG021',
            HINT = 'The versions of a model are listed in riskguard.credit_model.';
  END IF;
  UPDATE riskguard.credit_model m SET active = false
   WHERE m.name OPERATOR(pg_catalog.=) activate_model.name AND m.active
     AND m.version OPERATOR(pg_catalog.<>) activate_model.version;
  UPDATE riskguard.credit_model m SET active = true
   WHERE m.name OPERATOR(pg_catalog.=) activate_model.name
     AND m.version OPERATOR(pg_catalog.=) activate_model.version AND NOT m.active;
  PERFORM riskguard._audit('activate_model', activate_model.name,
    pg_catalog.jsonb_build_object('version', activate_model.version, 'previous_version', v_previous));
END
$fn$;
COMMENT ON FUNCTION riskguard.activate_model(text, integer) IS
  'makes a stored version of a credit model the one that scores (RG021 when the model or version does not exist); logged in the control audit log';
REVOKE ALL ON FUNCTION riskguard.activate_model(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard.activate_model(text, integer) TO riskguard_admin;

CREATE FUNCTION riskguard.score(model text, features jsonb)
RETURNS riskguard.credit_score
AS 'MODULE_PATHNAME', 'rg_score'
LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard.score(text, jsonb) IS
  'scores one application (a JSON object of feature values) with the active version of a credit model; RG021 for an unknown model';

-- The row form has its own name: an overload score(text, record) would make
-- score('m', '{"income": 1}') with an untyped literal ambiguous between the two.
CREATE FUNCTION riskguard.score_row(model text, application record)
RETURNS riskguard.credit_score
AS 'MODULE_PATHNAME', 'rg_score_record'
LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard.score_row(text, record) IS
  'scores one application given as a row, reading each feature from the column of its name as score(model, to_jsonb(application)) would, without building the JSON; RG021 for an unknown model';

CREATE FUNCTION riskguard._score_row()
RETURNS trigger
AS 'MODULE_PATHNAME', 'rg_score_row'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION riskguard._score_row() IS
  'row trigger created by attach_scoring: scores each inserted or updated row into its credit_* columns';
REVOKE ALL ON FUNCTION riskguard._score_row() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard._score_row() TO riskguard_admin;

CREATE FUNCTION riskguard.attach_scoring(tbl regclass, model text, feature_columns jsonb DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  v_spec jsonb;
  v_feature record;
  v_column text;
  v_type regtype;
  v_out record;
  v_key text;
BEGIN
  IF tbl IS NULL OR model IS NULL THEN
    RAISE EXCEPTION 'table and model must not be null' USING ERRCODE = '22004';
  END IF;
  SELECT m.spec INTO v_spec FROM riskguard.credit_model m
   WHERE m.name OPERATOR(pg_catalog.=) attach_scoring.model AND m.active;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'model "%" does not exist or has no active version', model
      USING ERRCODE = 'RG021',
            HINT = 'Create it with riskguard.create_model, or check the name in riskguard.credit_model.';
  END IF;
  IF feature_columns IS NOT NULL THEN
    IF pg_catalog.jsonb_typeof(feature_columns) OPERATOR(pg_catalog.<>) 'object' THEN
      RAISE EXCEPTION 'feature_columns must be a JSON object of feature names and column names'
        USING ERRCODE = '22023';
    END IF;
    FOR v_key IN SELECT k FROM pg_catalog.jsonb_object_keys(feature_columns) k LOOP
      IF NOT EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements(v_spec OPERATOR(pg_catalog.->) 'features') f
                      WHERE f OPERATOR(pg_catalog.->>) 'name' OPERATOR(pg_catalog.=) v_key) THEN
        RAISE EXCEPTION 'feature_columns names "%", which is not a feature of model "%"', v_key, model
          USING ERRCODE = '22023';
      END IF;
      IF pg_catalog.jsonb_typeof(feature_columns OPERATOR(pg_catalog.->) v_key) OPERATOR(pg_catalog.<>) 'string' THEN
        RAISE EXCEPTION 'feature_columns maps feature "%" to %, not to a column name', v_key,
          feature_columns OPERATOR(pg_catalog.->) v_key
          USING ERRCODE = '22023';
      END IF;
    END LOOP;
  END IF;
  FOR v_feature IN
    SELECT f OPERATOR(pg_catalog.->>) 'name' AS name,
           COALESCE(f OPERATOR(pg_catalog.->>) 'type', 'numeric') AS type
      FROM pg_catalog.jsonb_array_elements(v_spec OPERATOR(pg_catalog.->) 'features') f
  LOOP
    v_column := COALESCE(feature_columns OPERATOR(pg_catalog.->>) v_feature.name, v_feature.name);
    SELECT a.atttypid::regtype INTO v_type FROM pg_catalog.pg_attribute a
     WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attname OPERATOR(pg_catalog.=) v_column
       AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'column "%" of relation "%" does not exist', v_column, tbl
        USING ERRCODE = '42703',
              DETAIL = pg_catalog.format('Model "%s" reads feature "%s" from that column.', model, v_feature.name),
              HINT = 'Add the column, or name the column to use in feature_columns.';
    END IF;
    IF v_feature.type OPERATOR(pg_catalog.=) 'numeric'
       AND v_type::oid OPERATOR(pg_catalog.<>) ALL (ARRAY['int2'::regtype, 'int4'::regtype, 'int8'::regtype,
                                   'float4'::regtype, 'float8'::regtype, 'numeric'::regtype]::oid[]) THEN
      RAISE EXCEPTION 'column "%" of relation "%" is of type %, but feature "%" of model "%" is numeric',
        v_column, tbl, v_type, v_feature.name, model
        USING ERRCODE = '42804',
              HINT = 'Numeric features read smallint, integer, bigint, real, double precision or numeric columns.';
    END IF;
  END LOOP;
  FOR v_out IN
    SELECT * FROM (VALUES ('credit_score', 'integer'::regtype), ('credit_pd', 'float8'::regtype),
                          ('credit_grade', 'text'::regtype), ('credit_decision', 'text'::regtype),
                          ('credit_reasons', 'text[]'::regtype)) o(col, typ)
  LOOP
    SELECT a.atttypid::regtype INTO v_type FROM pg_catalog.pg_attribute a
     WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attname OPERATOR(pg_catalog.=) v_out.col
       AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'column "%" of relation "%" does not exist', v_out.col, tbl
        USING ERRCODE = '42703',
              HINT = 'Scoring writes credit_score integer, credit_pd double precision, credit_grade text, credit_decision text and credit_reasons text[].';
    END IF;
    IF v_type OPERATOR(pg_catalog.<>) v_out.typ THEN
      RAISE EXCEPTION 'column "%" of relation "%" is of type %, not %', v_out.col, tbl, v_type, v_out.typ
        USING ERRCODE = '42804';
    END IF;
  END LOOP;
  EXECUTE pg_catalog.format(
    'CREATE TRIGGER riskguard_credit_scoring BEFORE INSERT OR UPDATE ON %s '
    'FOR EACH ROW EXECUTE FUNCTION riskguard._score_row(%L, %L)',
    tbl, model, COALESCE(feature_columns, '{}'::jsonb)::text);
END
$fn$;
COMMENT ON FUNCTION riskguard.attach_scoring(regclass, text, jsonb) IS
  'scores every inserted or updated row of a table with a credit model into its credit_score, credit_pd, credit_grade, credit_decision and credit_reasons columns; feature_columns maps feature names to other column names';
REVOKE ALL ON FUNCTION riskguard.attach_scoring(regclass, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard.attach_scoring(regclass, text, jsonb) TO riskguard_admin;

CREATE FUNCTION riskguard.detach_scoring(tbl regclass)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  EXECUTE pg_catalog.format('DROP TRIGGER riskguard_credit_scoring ON %s', tbl);
END
$fn$;
COMMENT ON FUNCTION riskguard.detach_scoring(regclass) IS
  'stops scoring a table''s rows (the credit_* columns keep their values)';
REVOKE ALL ON FUNCTION riskguard.detach_scoring(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard.detach_scoring(regclass) TO riskguard_admin;
