-- Act 0: the extension.  A platform engineer installs riskguard and looks at what it offers.
\pset footer off
\echo
\echo '== Act 0: CREATE EXTENSION riskguard'
CREATE EXTENSION riskguard;
SELECT riskguard.version() AS version,
       riskguard.key_check_value() AS root_key_check_value;

\echo 'What riskguard installed, by kind:'
SELECT CASE c.classid
         WHEN 'pg_proc'::regclass THEN
           (SELECT CASE p.prokind WHEN 'a' THEN 'aggregate' WHEN 'p' THEN 'procedure' ELSE 'function' END
              FROM pg_proc p WHERE p.oid = c.objid)
         WHEN 'pg_class'::regclass THEN
           (SELECT CASE r.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'S' THEN 'sequence'
                                  WHEN 'i' THEN 'index' ELSE r.relkind::text END
              FROM pg_class r WHERE r.oid = c.objid)
         WHEN 'pg_type'::regclass THEN 'type'
         ELSE c.classid::regclass::text
       END AS kind,
       count(*) AS objects
  FROM pg_depend c
 WHERE c.refclassid = 'pg_extension'::regclass
   AND c.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'riskguard')
   AND c.deptype = 'e'
 GROUP BY 1 ORDER BY 1;

\echo 'The errors a client can meet, by SQLSTATE:'
SELECT sqlstate, condition, meaning FROM riskguard.error_codes();
