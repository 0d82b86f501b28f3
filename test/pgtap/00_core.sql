-- core: schema, roles, settings, version and privileges of what the core installs
BEGIN;
CREATE EXTENSION riskguard;
SELECT plan(19);

SELECT has_schema('riskguard');
SELECT is((SELECT extrelocatable FROM pg_extension WHERE extname = 'riskguard'), false,
          'riskguard is not relocatable');
SELECT is(riskguard.version(), '0.1', 'library version matches the install script');
SELECT is((SELECT extversion FROM pg_extension WHERE extname = 'riskguard'), riskguard.version(),
          'installed SQL version equals the library version');

SELECT has_role('riskguard_admin');
SELECT has_role('riskguard_approver');
SELECT has_role('riskguard_reader');
SELECT is((SELECT count(*)::int FROM pg_roles WHERE rolname LIKE 'riskguard\_%' AND rolcanlogin), 0,
          'riskguard roles cannot log in');

SELECT is((SELECT count(*)::int FROM riskguard.error_codes()), 11, 'eleven RG codes');
SELECT ok((SELECT bool_and(sqlstate ~ '^RG[0-9]{3}$') FROM riskguard.error_codes()),
          'every code is in class RG');

SELECT is((SELECT context FROM pg_settings WHERE name = 'riskguard.root_key_file'), 'postmaster',
          'root_key_file is set at server start only');
SELECT is((SELECT context FROM pg_settings WHERE name = 'riskguard.root_key_command'), 'postmaster',
          'root_key_command is set at server start only');
SELECT throws_ok($$SET riskguard.root_key_file = '/tmp/x'$$, '55P02', NULL,
                 'root_key_file cannot be changed at run time');

SELECT matches(riskguard.key_check_value(), '^[0-9a-f]{16}$',
               'with the key loaded, the key check value is 16 hex digits');
SELECT is(riskguard.key_check_value(), riskguard.key_check_value(), 'the check value is stable');

SELECT ok(NOT has_function_privilege('public', 'riskguard.key_check_value()', 'EXECUTE'),
          'PUBLIC cannot call key_check_value');
SELECT ok(has_function_privilege('riskguard_admin', 'riskguard.key_check_value()', 'EXECUTE'),
          'riskguard_admin can call key_check_value');
SELECT ok(NOT has_function_privilege('public', 'riskguard._check_library_version(text)', 'EXECUTE'),
          'PUBLIC cannot call _check_library_version');
SELECT throws_ok($$SELECT riskguard._check_library_version('9.9')$$, '55000',
                 'riskguard library version 0.1 does not match the extension script version 9.9',
                 'a script of another version is refused');

SELECT * FROM finish();
ROLLBACK;
