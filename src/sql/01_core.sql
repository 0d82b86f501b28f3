-- Core: version checks, roles, the error catalogue, the root key check value.

CREATE FUNCTION riskguard._check_library_version(expected text)
RETURNS void
AS 'MODULE_PATHNAME', 'rg_check_library_version'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
REVOKE ALL ON FUNCTION riskguard._check_library_version(text) FROM PUBLIC;

-- refuse to create objects against a library built from other sources
SELECT riskguard._check_library_version('@EXTVERSION@');

CREATE FUNCTION riskguard.version()
RETURNS text
AS 'MODULE_PATHNAME', 'rg_version'
LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION riskguard.version() IS
  'version of the loaded riskguard library; warns when it differs from the installed extension';

-- Roles are cluster-wide: created when missing, never dropped with the extension.
DO $roles$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['riskguard_admin', 'riskguard_approver', 'riskguard_reader'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r) THEN
      EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;
END
$roles$;

COMMENT ON SCHEMA riskguard IS 'riskguard: risk controls inside the database';
REVOKE ALL ON SCHEMA riskguard FROM PUBLIC;
GRANT USAGE ON SCHEMA riskguard TO PUBLIC;

CREATE FUNCTION riskguard.error_codes(
  OUT sqlstate text, OUT condition text, OUT meaning text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'rg_error_codes'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE ROWS 11;
COMMENT ON FUNCTION riskguard.error_codes() IS
  'the RG SQLSTATEs riskguard raises, with condition names for client error handling';

CREATE FUNCTION riskguard.key_check_value()
RETURNS text
AS 'MODULE_PATHNAME', 'rg_key_check_value'
LANGUAGE C STRICT STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION riskguard.key_check_value() IS
  'check value of the loaded root key (keyed BLAKE2b of a fixed label), to compare servers without showing the key; RG011 when none is loaded';
REVOKE ALL ON FUNCTION riskguard.key_check_value() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION riskguard.key_check_value() TO riskguard_admin;

-- Statement trigger for configuration tables: every backend drops its compiled cache of
-- the table when the change commits.
CREATE FUNCTION riskguard._config_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'rg_config_changed'
LANGUAGE C;
COMMENT ON FUNCTION riskguard._config_changed() IS
  'trigger: tells every backend to rebuild its cache of a configuration table when the change commits';
REVOKE ALL ON FUNCTION riskguard._config_changed() FROM PUBLIC;
