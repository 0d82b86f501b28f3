-- core: the extension installs, reports its version and error catalogue, and can be
-- dropped and created again in one session.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS riskguard;
RESET client_min_messages;

SELECT riskguard.version();

SELECT extname, extversion, extrelocatable, extnamespace::regnamespace AS schema
  FROM pg_extension WHERE extname = 'riskguard';

SELECT * FROM riskguard.error_codes() ORDER BY sqlstate;

-- the roles exist and cannot log in
SELECT rolname, rolcanlogin, rolsuper
  FROM pg_roles WHERE rolname LIKE 'riskguard\_%' ORDER BY rolname;

-- the settings are superuser-only and cannot be changed at run time
SELECT name, context, source <> 'default' AS set_in_config
  FROM pg_settings WHERE name LIKE 'riskguard.%' ORDER BY name;
SET riskguard.root_key_file = '/tmp/other.key';

-- the prefix is reserved: a misspelt setting is refused
SET riskguard.no_such_setting = 'x';

-- drop and create again in the same session
DROP EXTENSION riskguard;
-- PostgreSQL creates the schema named in the control file but does not drop it
SELECT count(*) AS schemas_left FROM pg_namespace WHERE nspname = 'riskguard';
CREATE EXTENSION riskguard;
SELECT riskguard.version();

-- a script from other sources is refused before it creates anything
SELECT riskguard._check_library_version('0.0');
