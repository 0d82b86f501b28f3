-- privileges: a walk over every object the extension owns (pg_depend deptype 'e' on
-- riskguard), so objects added later are checked without touching this file.  The one
-- fixed list is the allow-list of functions PUBLIC may execute, each with its reason.
BEGIN;
CREATE EXTENSION riskguard;
SELECT plan(21);

-- what the extension owns
CREATE TEMP VIEW rg_proc AS
SELECT p.oid, p.oid::regprocedure::text AS name, p.proname, p.prokind, p.prosecdef,
       p.proconfig, p.provolatile, p.proleakproof, p.prorettype
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'riskguard';

CREATE TEMP VIEW rg_rel AS
SELECT c.oid, c.oid::regclass::text AS name, c.relkind, c.relowner, c.relacl,
       c.oid = ANY (e.extconfig) AS config
  FROM pg_class c
  JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'riskguard';

-- The functions PUBLIC may call, and why.  Everything else the extension owns must have
-- lost PUBLIC EXECUTE.
CREATE TEMP TABLE public_allowed (fn text PRIMARY KEY, reason text NOT NULL);
INSERT INTO public_allowed VALUES
  ('riskguard.alert_severity(integer,integer)', 'pure mapping of likelihood x impact to a severity band; reads nothing'),
  ('riskguard.version()', 'the library version string; reads no data'),
  ('riskguard.error_codes()', 'the static catalogue of RG SQLSTATEs, for client error handling'),
  ('riskguard.audit_hash(bytea, bigint, timestamptz, text, text, text, jsonb)',
   'the published, unkeyed chain formula of the audit log over its arguments; reads nothing'),
  ('riskguard.limit_period(text, timestamptz)', 'calendar arithmetic (the window a time falls in); reads no table'),
  ('riskguard.validate_model(jsonb)', 'checks a specification the caller passes; reads no table'),
  ('riskguard.score(text, jsonb)',
   'scoring is for every application role: returns a score, never the model''s specification'),
  ('riskguard.score_row(text, record)',
   'scoring is for every application role: returns a score, never the model''s specification'),
  ('riskguard.normal_cdf(float8)', 'pure math'),
  ('riskguard.normal_quantile(float8)', 'pure math'),
  ('riskguard.chisq_sf(float8, float8)', 'pure math'),
  ('riskguard.psi(float8[], float8[])', 'pure math on the caller''s arrays'),
  ('riskguard.psi_verdict(float8)', 'pure math'),
  ('riskguard.expected_loss(float8, float8, float8)', 'pure formula'),
  ('riskguard.irb_capital(float8, float8, text, float8)', 'pure formula'),
  ('riskguard.irb_rwa(float8, float8, float8, text, float8)', 'pure formula'),
  ('riskguard.risk_based_rate(float8, float8, float8, float8, float8, float8)', 'pure formula'),
  ('riskguard.portfolio_var(float8[], float8[], float8, integer)', 'pure math on the caller''s arrays'),
  ('riskguard.component_var(float8[], float8[], float8, integer)', 'pure math on the caller''s arrays'),
  ('riskguard.kupiec_pof(integer, integer, float8)', 'pure math'),
  ('riskguard.traffic_light(integer, integer, float8)', 'pure math'),
  ('riskguard.stress_loss(float8[], float8[])', 'pure math on the caller''s arrays'),
  ('riskguard.fit_logistic(boolean, float8[])', 'aggregate over the caller''s own rows'),
  ('riskguard.auc(float8, boolean)', 'aggregate over the caller''s own rows'),
  ('riskguard.ks(float8, boolean)', 'aggregate over the caller''s own rows'),
  ('riskguard.hosmer_lemeshow(float8, boolean)', 'aggregate over the caller''s own rows'),
  ('riskguard.hosmer_lemeshow(float8, boolean, integer)', 'aggregate over the caller''s own rows'),
  ('riskguard.woe_bins(float8, boolean)', 'aggregate over the caller''s own rows'),
  ('riskguard.woe_bins(float8, boolean, integer)', 'aggregate over the caller''s own rows'),
  ('riskguard.woe_bins(float8, boolean, integer, float8)', 'aggregate over the caller''s own rows'),
  ('riskguard.woe_categories(text, boolean)', 'aggregate over the caller''s own rows'),
  ('riskguard.brier(float8, boolean)', 'aggregate over the caller''s own rows'),
  ('riskguard.var_historical(float8, float8)', 'aggregate over the caller''s own rows'),
  ('riskguard.es_historical(float8, float8)', 'aggregate over the caller''s own rows'),
  ('riskguard.var_gaussian(float8, float8)', 'aggregate over the caller''s own rows'),
  ('riskguard.es_gaussian(float8, float8)', 'aggregate over the caller''s own rows'),
  ('riskguard.var_cornish_fisher(float8, float8)', 'aggregate over the caller''s own rows'),
  ('riskguard.ewma_volatility(float8, float8)', 'aggregate over the caller''s own rows'),
  ('riskguard.christoffersen(boolean, float8)', 'aggregate over the caller''s own rows'),
  ('riskguard.hhi(float8)', 'aggregate over the caller''s own rows'),
  ('riskguard.max_drawdown(float8)', 'aggregate over the caller''s own rows'),
  ('riskguard.mask(text, integer)', 'masks a string the caller already has'),
  ('riskguard.envelope_key_id(text)', 'reads the key id from an envelope''s 5-byte header; opens nothing, needs no key'),
  ('riskguard.envelope_key_id(bytea)', 'reads the key id from an envelope''s 5-byte header; opens nothing, needs no key'),
  -- the ledger's write path runs with the caller's rights: EXECUTE alone gains nothing,
  -- the caller also needs INSERT on riskguard.transfer and SELECT on riskguard.account
  ('riskguard.post_transfer(text, text, bigint, text, text, text)', 'SECURITY INVOKER; gated by INSERT on riskguard.transfer'),
  ('riskguard.hold_transfer(text, text, bigint, text, text, text)', 'SECURITY INVOKER; gated by INSERT on riskguard.transfer'),
  ('riskguard.post_pending(bigint, bigint)', 'SECURITY INVOKER; gated by INSERT on riskguard.transfer'),
  ('riskguard.void_pending(bigint)', 'SECURITY INVOKER; gated by INSERT on riskguard.transfer'),
  ('riskguard._insert_transfer(bigint, bigint, bigint, text, text, text, text, bigint)',
   'SECURITY INVOKER helper of post_transfer, which calls it with the caller''s rights'),
  ('riskguard._complete_pending(bigint, bigint, text)',
   'SECURITY INVOKER helper of post_pending and void_pending, called with the caller''s rights'),
  ('riskguard._account_id(text)',
   'SECURITY INVOKER helper of post_transfer; gated by SELECT on riskguard.account');

-- 1-4: EXECUTE
SELECT is_empty($$
  SELECT name FROM rg_proc
   WHERE has_function_privilege('public', oid, 'EXECUTE')
     AND oid NOT IN (SELECT to_regprocedure(fn) FROM public_allowed WHERE to_regprocedure(fn) IS NOT NULL)
   ORDER BY 1 $$,
  'every function PUBLIC can execute is on the allow-list');
SELECT is_empty($$
  SELECT fn FROM public_allowed a
   WHERE to_regprocedure(a.fn) IS NULL
      OR NOT EXISTS (SELECT 1 FROM rg_proc p WHERE p.oid = to_regprocedure(a.fn))
      OR NOT has_function_privilege('public', to_regprocedure(a.fn), 'EXECUTE')
   ORDER BY 1 $$,
  'every allow-list entry is an extension function that PUBLIC can execute');
SELECT is_empty($$
  SELECT name FROM rg_proc WHERE prosecdef AND has_function_privilege('public', oid, 'EXECUTE') $$,
  'no SECURITY DEFINER function is executable by PUBLIC');
SELECT is_empty($$
  SELECT name FROM rg_proc
   WHERE prorettype IN ('trigger'::regtype, 'event_trigger'::regtype)
     AND has_function_privilege('public', oid, 'EXECUTE') $$,
  'no trigger function is executable by PUBLIC (nobody can attach one to another table)');

-- 5-6: search_path
SELECT is_empty($$
  SELECT name FROM rg_proc
   WHERE prosecdef
     AND NOT coalesce(proconfig && ARRAY['search_path=pg_catalog, pg_temp', 'search_path=""'], false)
   ORDER BY 1 $$,
  'every SECURITY DEFINER function pins search_path to pg_catalog, pg_temp (or empty)');
SELECT is_empty($$
  SELECT name, c FROM rg_proc, unnest(proconfig) c
   WHERE c LIKE 'search_path=%' AND c NOT IN ('search_path=pg_catalog, pg_temp', 'search_path=""')
   ORDER BY 1 $$,
  'every function that sets search_path sets it to pg_catalog, pg_temp (or empty)');

-- 7-12: tables, views and sequences
SELECT is_empty($$
  SELECT r.name, p.priv FROM rg_rel r,
         unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p(priv)
   WHERE r.relkind IN ('r', 'p', 'v', 'm', 'f')
     AND (has_table_privilege('public', r.oid, p.priv)
          OR (p.priv IN ('INSERT', 'UPDATE', 'REFERENCES')
              AND has_any_column_privilege('public', r.oid, p.priv)))
   ORDER BY 1, 2 $$,
  'PUBLIC cannot write, truncate, reference or trigger on any table or view (any column)');
SELECT is_empty($$
  SELECT r.name, p.priv FROM rg_rel r,
         unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p(priv)
   WHERE r.relkind IN ('r', 'p', 'v', 'm', 'f')
     AND (has_table_privilege('riskguard_reader', r.oid, p.priv)
          OR (p.priv IN ('INSERT', 'UPDATE', 'REFERENCES')
              AND has_any_column_privilege('riskguard_reader', r.oid, p.priv)))
   ORDER BY 1, 2 $$,
  'riskguard_reader cannot write, truncate, reference or trigger on any table or view (any column)');
SELECT is_empty($$
  SELECT r.name, p.priv FROM rg_rel r, unnest(ARRAY['USAGE', 'UPDATE']) p(priv)
   WHERE r.relkind = 'S'
     AND (has_sequence_privilege('public', r.oid, p.priv)
          OR has_sequence_privilege('riskguard_reader', r.oid, p.priv))
   ORDER BY 1, 2 $$,
  'neither PUBLIC nor riskguard_reader can advance or set any sequence');
SELECT is_empty($$
  SELECT r.name, pg_get_userbyid(a.grantee), a.privilege_type
    FROM rg_rel r, aclexplode(r.relacl) a
   WHERE r.config AND a.grantee <> r.relowner
     AND a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER', 'REFERENCES', 'USAGE')
   ORDER BY 1, 2, 3 $$,
  'no role but the owner holds a write privilege on a configuration table or sequence (pg_extension_config_dump)');
SELECT is_empty($$
  SELECT r.name, pg_get_userbyid(a.grantee), a.privilege_type
    FROM rg_rel r, aclexplode(r.relacl) a
   WHERE a.grantee <> r.relowner
     AND a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER', 'REFERENCES')
   ORDER BY 1, 2, 3 $$,
  'no table or view grants a write privilege to anyone: writes go through riskguard''s functions and triggers');
SELECT set_eq($$
  SELECT name FROM rg_rel
   WHERE relkind IN ('r', 'p', 'v', 'm') AND has_table_privilege('public', oid, 'SELECT') $$,
  ARRAY['riskguard.column_key', 'riskguard.protected_column'],
  'PUBLIC reads only the key metadata every writer''s sealing trigger needs (key ids and check values, nothing secret)');

-- 13-14: riskguard_reader reads plaintext, and nothing else
SELECT is_empty($$
  SELECT name FROM rg_rel
   WHERE relkind IN ('r', 'p', 'v', 'm')
     AND has_table_privilege('riskguard_reader', oid, 'SELECT')
     AND NOT has_table_privilege('public', oid, 'SELECT') $$,
  'riskguard_reader reads no riskguard table beyond what PUBLIC reads');
SELECT is_empty($$
  SELECT name FROM rg_proc
   WHERE has_function_privilege('riskguard_reader', oid, 'EXECUTE')
     AND NOT has_function_privilege('public', oid, 'EXECUTE')
     AND (provolatile = 'v' OR prosecdef OR prokind = 'p')
   ORDER BY 1 $$,
  'every function riskguard_reader may call beyond PUBLIC''s only reads (not volatile, not SECURITY DEFINER)');

-- 15-16: the schema
SELECT ok(NOT has_schema_privilege('public', 'riskguard', 'CREATE')
          AND NOT has_schema_privilege('riskguard_admin', 'riskguard', 'CREATE')
          AND NOT has_schema_privilege('riskguard_approver', 'riskguard', 'CREATE')
          AND NOT has_schema_privilege('riskguard_reader', 'riskguard', 'CREATE'),
          'nobody but the owner can create objects in schema riskguard (where every qualified name points)');
SELECT is_empty($$
  SELECT 'function ' || p.oid::regprocedure::text FROM pg_proc p
   WHERE p.pronamespace = 'riskguard'::regnamespace AND p.oid NOT IN (SELECT oid FROM rg_proc)
  UNION ALL
  SELECT 'relation ' || c.oid::regclass::text FROM pg_class c
   WHERE c.relnamespace = 'riskguard'::regnamespace AND c.relkind NOT IN ('i', 'I', 't', 'c')
     AND c.oid NOT IN (SELECT oid FROM rg_rel)
  UNION ALL
  SELECT 'operator ' || o.oid::regoperator::text FROM pg_operator o
   WHERE o.oprnamespace = 'riskguard'::regnamespace $$,
  'everything in schema riskguard belongs to the extension');

-- 17: markings
SELECT is_empty($$ SELECT name FROM rg_proc WHERE proleakproof $$, 'no function is LEAKPROOF');

-- 18-19: comments
SELECT is_empty($$
  SELECT name FROM rg_proc
   WHERE proname NOT LIKE '\_%' AND obj_description(oid, 'pg_proc') IS NULL
   ORDER BY 1 $$,
  'every user-facing function, aggregate and procedure has a COMMENT');
SELECT is_empty($$
  SELECT name FROM rg_rel
   WHERE relkind IN ('r', 'p', 'v', 'm') AND obj_description(oid, 'pg_class') IS NULL $$,
  'every table and view has a COMMENT');

-- 20-21: the walk saw the extension (a broken join would make every check above vacuous)
SELECT cmp_ok((SELECT count(*)::int FROM rg_proc), '>=', 150, 'the walk covers the extension''s functions');
SELECT cmp_ok((SELECT count(*)::int FROM rg_rel), '>=', 20, 'the walk covers the extension''s relations');

SELECT diag(format('walked %s functions (%s SECURITY DEFINER) and %s relations; PUBLIC may execute %s',
                   (SELECT count(*) FROM rg_proc), (SELECT count(*) FROM rg_proc WHERE prosecdef),
                   (SELECT count(*) FROM rg_rel), (SELECT count(*) FROM public_allowed)));

SELECT * FROM finish();
ROLLBACK;
