#!/usr/bin/env bash
# search_path hijacking.  An unprivileged role that may create objects in schema public
# plants functions, operators and domains that shadow builtins riskguard uses (now(),
# format(), =, ->>, jsonb, text, ...), each of which, when run, advances a sequence and
# raises a NOTICE.  Every shadow is first shown to work: an unqualified call from a
# session with search_path = public, pg_catalog runs it.  Then, with that search_path
# (and temporary views named like every riskguard relation, which an unqualified name
# would reach through pg_temp), every SECURITY DEFINER function the catalog lists is
# called, by the role it is granted to, and the attacker's objects must never run.  The
# same goes for the paths that run as another role without being SECURITY DEFINER: the
# transfer trigger (which runs as the ledger's owner), the sealing trigger, the decrypting
# view, and the admin functions that run SQL.
set -u
. "$RG_TOP/test/lib.sh"
. "$RG_TOP/test/shell/tap.sh"

db=privs_hijack_$$
export PGDATABASE=$db
rg_psql -d postgres -c "CREATE DATABASE $db"
roles="pvh_attacker pvh_app pvh_admin pvh_approver"
cleanup() {
	"$PGBIN/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
	for r in $roles; do "$PGBIN/psql" -X -q -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1; done
}
trap cleanup EXIT

rg_psql >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION riskguard;
CREATE ROLE pvh_attacker LOGIN;
CREATE ROLE pvh_admin LOGIN IN ROLE riskguard_admin, riskguard_reader;
CREATE ROLE pvh_approver LOGIN IN ROLE riskguard_approver;
-- the attacker: may create in public, and writes transfers like an application role
GRANT CREATE ON SCHEMA public TO pvh_attacker;
GRANT INSERT, SELECT ON riskguard.transfer TO pvh_attacker;
GRANT SELECT ON riskguard.account TO pvh_attacker;
-- an application role that posts transfers from a session with the attacker's search_path
CREATE ROLE pvh_app LOGIN;
GRANT INSERT, SELECT ON riskguard.transfer TO pvh_app;
GRANT SELECT ON riskguard.account TO pvh_app;
CREATE SCHEMA adm AUTHORIZATION pvh_admin;

SELECT riskguard.open_account('custody', 'client', 'CMB custody', 'entity', 'CNY', 'debit');
SELECT riskguard.open_account('w:li', 'client', 'li', 'individual', 'CNY');
SELECT riskguard.open_account('p:fees', 'platform', NULL, NULL, 'CNY');
SELECT riskguard.open_account('r:reserve', 'reserve', NULL, NULL, 'CNY');
SELECT riskguard.post_transfer('custody', 'w:li', 1000000, 'deposit');
-- a fee provisions the reserve, and a fee over 10 fen raises an alert: the transfer
-- trigger then runs its reserve and alert queries as the ledger's owner
INSERT INTO riskguard.reserve_rule (kind, basis_points, from_account, to_account)
SELECT 'fee', 100, (SELECT id FROM riskguard.account WHERE code = 'p:fees'),
       (SELECT id FROM riskguard.account WHERE code = 'r:reserve');
INSERT INTO riskguard.limit_rule (name, subject, kinds, direction, metric, threshold, currency, action)
VALUES ('h_alert', 'owner', '{fee}', 'outflow', 'per_transfer', 10, 'CNY', 'alert'),
       ('h_day', 'owner', '{fee}', 'outflow', 'daily_sum', 5000000, 'CNY', 'reject');
SQL

li=$(sql_value "SELECT id FROM riskguard.account WHERE code = 'w:li'")
fees=$(sql_value "SELECT id FROM riskguard.account WHERE code = 'p:fees'")

# The attacker's objects.  trap() advances public.hijack_seq and raises a NOTICE; every
# shadow calls it, then behaves like the builtin, so nothing else gives it away.
rg_psql -U pvh_attacker <<'SQL'
CREATE SEQUENCE public.hijack_seq;
GRANT USAGE, SELECT ON SEQUENCE public.hijack_seq TO PUBLIC;
CREATE FUNCTION public.trap(what pg_catalog.text) RETURNS pg_catalog.bool
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM pg_catalog.nextval('public.hijack_seq'::pg_catalog.regclass);
  RAISE NOTICE 'HIJACKED: % ran as %', what, current_user;
  RETURN true;
END $$;
GRANT EXECUTE ON FUNCTION public.trap(pg_catalog.text) TO PUBLIC;
SQL

# shadows: "name^DDL^unqualified call that must reach it"
shadows=(
"now()^CREATE FUNCTION public.now() RETURNS pg_catalog.timestamptz LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN PERFORM public.trap('now()'); RETURN pg_catalog.now(); END \$\$^SELECT now()"
"clock_timestamp()^CREATE FUNCTION public.clock_timestamp() RETURNS pg_catalog.timestamptz LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN PERFORM public.trap('clock_timestamp()'); RETURN pg_catalog.clock_timestamp(); END \$\$^SELECT clock_timestamp()"
"format(text, text)^CREATE FUNCTION public.format(pg_catalog.text, pg_catalog.text) RETURNS pg_catalog.text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN PERFORM public.trap('format()'); RETURN pg_catalog.format(\$1, \$2); END \$\$^SELECT format('%s', 'x')"
"format(text, text, text)^CREATE FUNCTION public.format(pg_catalog.text, pg_catalog.text, pg_catalog.text) RETURNS pg_catalog.text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN PERFORM public.trap('format()'); RETURN pg_catalog.format(\$1, \$2, \$3); END \$\$^SELECT format('%s%s', 'x', 'y')"
"jsonb_build_object(text, text)^CREATE FUNCTION public.jsonb_build_object(pg_catalog.text, pg_catalog.text) RETURNS pg_catalog.jsonb LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN PERFORM public.trap('jsonb_build_object()'); RETURN pg_catalog.jsonb_build_object(\$1, \$2); END \$\$^SELECT jsonb_build_object('a', 'b')"
"to_jsonb(anyelement)^CREATE FUNCTION public.to_jsonb(anyelement) RETURNS pg_catalog.jsonb LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN PERFORM public.trap('to_jsonb()'); RETURN pg_catalog.to_jsonb(\$1); END \$\$^SELECT to_jsonb(1)"
"length(text)^CREATE FUNCTION public.length(pg_catalog.text) RETURNS integer LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN PERFORM public.trap('length()'); RETURN pg_catalog.length(\$1); END \$\$^SELECT length('x'::pg_catalog.text)"
"octet_length(text)^CREATE FUNCTION public.octet_length(pg_catalog.text) RETURNS integer LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN PERFORM public.trap('octet_length()'); RETURN pg_catalog.octet_length(\$1); END \$\$^SELECT octet_length('x'::pg_catalog.text)"
"encode(bytea, text)^CREATE FUNCTION public.encode(pg_catalog.bytea, pg_catalog.text) RETURNS pg_catalog.text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN PERFORM public.trap('encode()'); RETURN pg_catalog.encode(\$1, \$2); END \$\$^SELECT encode('\\x00'::pg_catalog.bytea, 'hex')"
"sha256(bytea)^CREATE FUNCTION public.sha256(pg_catalog.bytea) RETURNS pg_catalog.bytea LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN PERFORM public.trap('sha256()'); RETURN pg_catalog.sha256(\$1); END \$\$^SELECT sha256('\\x00'::pg_catalog.bytea)"
"hashtext(text)^CREATE FUNCTION public.hashtext(pg_catalog.text) RETURNS integer LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN PERFORM public.trap('hashtext()'); RETURN pg_catalog.hashtext(\$1); END \$\$^SELECT hashtext('x')"
"pg_advisory_xact_lock(bigint)^CREATE FUNCTION public.pg_advisory_xact_lock(bigint) RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN PERFORM public.trap('pg_advisory_xact_lock()'); PERFORM pg_catalog.pg_advisory_xact_lock(\$1); END \$\$^SELECT pg_advisory_xact_lock(1::bigint)"
"jsonb_typeof(jsonb)^CREATE FUNCTION public.jsonb_typeof(pg_catalog.jsonb) RETURNS pg_catalog.text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN PERFORM public.trap('jsonb_typeof()'); RETURN pg_catalog.jsonb_typeof(\$1); END \$\$^SELECT jsonb_typeof('{}'::pg_catalog.jsonb)"
"current_setting(text)^CREATE FUNCTION public.current_setting(pg_catalog.text) RETURNS pg_catalog.text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN PERFORM public.trap('current_setting()'); RETURN pg_catalog.current_setting(\$1); END \$\$^SELECT current_setting('work_mem')"
"pg_has_role(name, name, text)^CREATE FUNCTION public.pg_has_role(pg_catalog.name, pg_catalog.name, pg_catalog.text) RETURNS pg_catalog.bool LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN PERFORM public.trap('pg_has_role()'); RETURN pg_catalog.pg_has_role(\$1, \$2, \$3); END \$\$^SELECT pg_has_role(current_user, 'pg_monitor'::pg_catalog.name, 'MEMBER')"
"quote_ident(text)^CREATE FUNCTION public.quote_ident(pg_catalog.text) RETURNS pg_catalog.text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN PERFORM public.trap('quote_ident()'); RETURN pg_catalog.quote_ident(\$1); END \$\$^SELECT quote_ident('x')"
"array_to_string(anyarray, text)^CREATE FUNCTION public.array_to_string(anyarray, pg_catalog.text) RETURNS pg_catalog.text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN PERFORM public.trap('array_to_string()'); RETURN pg_catalog.array_to_string(\$1, \$2); END \$\$^SELECT array_to_string(ARRAY[1], ',')"
"operator = (text, text)^CREATE FUNCTION public.t_eq(pg_catalog.text, pg_catalog.text) RETURNS pg_catalog.bool LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN PERFORM public.trap('= (text, text)'); RETURN pg_catalog.texteq(\$1, \$2); END \$\$; CREATE OPERATOR public.= (LEFTARG = pg_catalog.text, RIGHTARG = pg_catalog.text, FUNCTION = public.t_eq)^SELECT 'a'::pg_catalog.text = 'b'::pg_catalog.text"
"operator <> (text, text)^CREATE FUNCTION public.t_ne(pg_catalog.text, pg_catalog.text) RETURNS pg_catalog.bool LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN PERFORM public.trap('<> (text, text)'); RETURN pg_catalog.textne(\$1, \$2); END \$\$; CREATE OPERATOR public.<> (LEFTARG = pg_catalog.text, RIGHTARG = pg_catalog.text, FUNCTION = public.t_ne)^SELECT 'a'::pg_catalog.text <> 'b'::pg_catalog.text"
"operator = (bigint, bigint)^CREATE FUNCTION public.i8_eq(bigint, bigint) RETURNS pg_catalog.bool LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN PERFORM public.trap('= (bigint, bigint)'); RETURN pg_catalog.int8eq(\$1, \$2); END \$\$; CREATE OPERATOR public.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.i8_eq)^SELECT 1::bigint = 2::bigint"
"operator + (bigint, bigint)^CREATE FUNCTION public.i8_pl(bigint, bigint) RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN PERFORM public.trap('+ (bigint, bigint)'); RETURN pg_catalog.int8pl(\$1, \$2); END \$\$; CREATE OPERATOR public.+ (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.i8_pl)^SELECT 1::bigint + 2::bigint"
"operator = (integer, integer)^CREATE FUNCTION public.i4_eq(integer, integer) RETURNS pg_catalog.bool LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN PERFORM public.trap('= (integer, integer)'); RETURN pg_catalog.int4eq(\$1, \$2); END \$\$; CREATE OPERATOR public.= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = public.i4_eq)^SELECT 1 = 2"
"operator ->> (jsonb, text)^CREATE FUNCTION public.j_get(pg_catalog.jsonb, pg_catalog.text) RETURNS pg_catalog.text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN PERFORM public.trap('->> (jsonb, text)'); RETURN pg_catalog.jsonb_object_field_text(\$1, \$2); END \$\$; CREATE OPERATOR public.->> (LEFTARG = pg_catalog.jsonb, RIGHTARG = pg_catalog.text, FUNCTION = public.j_get)^SELECT '{\"a\": 1}'::pg_catalog.jsonb ->> 'a'"
"operator -> (jsonb, text)^CREATE FUNCTION public.j_obj(pg_catalog.jsonb, pg_catalog.text) RETURNS pg_catalog.jsonb LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN PERFORM public.trap('-> (jsonb, text)'); RETURN pg_catalog.jsonb_object_field(\$1, \$2); END \$\$; CREATE OPERATOR public.-> (LEFTARG = pg_catalog.jsonb, RIGHTARG = pg_catalog.text, FUNCTION = public.j_obj)^SELECT '{\"a\": 1}'::pg_catalog.jsonb -> 'a'"
"operator || (text, text)^CREATE FUNCTION public.t_cat(pg_catalog.text, pg_catalog.text) RETURNS pg_catalog.text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN PERFORM public.trap('|| (text, text)'); RETURN pg_catalog.textcat(\$1, \$2); END \$\$; CREATE OPERATOR public.|| (LEFTARG = pg_catalog.text, RIGHTARG = pg_catalog.text, FUNCTION = public.t_cat)^SELECT 'a'::pg_catalog.text || 'b'::pg_catalog.text"
"domain jsonb^CREATE DOMAIN public.jsonb AS pg_catalog.jsonb CHECK (public.trap('type jsonb'))^SELECT '{}'::jsonb"
"domain text^CREATE DOMAIN public.text AS pg_catalog.text CHECK (public.trap('type text'))^SELECT 'x'::text"
"domain bytea^CREATE DOMAIN public.bytea AS pg_catalog.bytea CHECK (public.trap('type bytea'))^SELECT '\\x00'::bytea"
"domain regclass^CREATE DOMAIN public.regclass AS pg_catalog.regclass CHECK (public.trap('type regclass'))^SELECT 'pg_class'::regclass"
"domain name^CREATE DOMAIN public.name AS pg_catalog.name CHECK (public.trap('type name'))^SELECT 'x'::name"
)

hostile="SET search_path = public, pg_catalog;"
trap_count() {
	sql_value "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM public.hijack_seq"
}

for s in "${shadows[@]}"; do
	IFS='^' read -r name ddl control <<<"$s"
	rg_psql -U pvh_attacker -c "$ddl" -c "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO PUBLIC"
done
# each shadow is live: an unqualified call from a hostile search_path reaches it
for s in "${shadows[@]}"; do
	IFS='^' read -r name ddl control <<<"$s"
	before=$(trap_count)
	out=$("$PGBIN/psql" -X -q -U pvh_attacker -c "$hostile" -c "$control" 2>&1)
	ok "shadow $name is live: an unqualified call reaches it" \
		test "$(trap_count)" -gt "$before" -a -n "$(printf '%s' "$out" | grep HIJACKED)"
done

controls=$(trap_count)

# temporary views named like every riskguard relation, reached only by an unqualified
# relation name through pg_temp; created in the caller's own session before each call
tempviews=$(sql_value "SELECT pg_catalog.string_agg(pg_catalog.format('CREATE TEMP VIEW %I AS SELECT 1 AS x WHERE public.trap(%L);',
                                                c.relname, 'temporary relation ' OPERATOR(pg_catalog.||) c.relname), ' ')
                         FROM pg_class c
                         JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
                         JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'riskguard'")

# attempt ROLE "what" SQL: run SQL as ROLE with the hostile search_path and the temporary
# views; it must succeed and reach none of the attacker's objects
ATTEMPTS=0
attempt() {
	local role=$1 what=$2 sql=$3 before out rc=0
	before=$(trap_count)
	out=$(printf '%s\n' "$tempviews" "$hostile" "$sql" \
		| "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -U "$role" 2>&1) || rc=$?
	ATTEMPTS=$((ATTEMPTS + 1))
	if [ $rc -ne 0 ]; then printf '%s\n' "$out" | sed 's/^/# /'; fi
	ok "$what: runs as $role under search_path = public, pg_catalog" test $rc -eq 0
	if printf '%s' "$out" | grep -q HIJACKED; then printf '%s\n' "$out" | grep HIJACKED | sed 's/^/# /'; fi
	ok "$what: none of the attacker's objects ran" \
		test "$(trap_count)" = "$before" -a -z "$(printf '%s' "$out" | grep HIJACKED)"
	LAST_OUT=$out
}

spec='{"kind": "logistic", "scaling": {"base_score": 600, "base_odds": 50, "pdo": 20}, "intercept": -3, "features": [{"name": "dti", "coefficient": 2.4, "reason": "DTI", "missing": 0.4, "best": 0}], "grades": {"by": "pd", "bands": [{"grade": "A", "max_pd": 0.05}, {"grade": "B"}]}, "decisions": [{"decision": "approve", "max_pd": 0.1}, {"decision": "decline"}]}'
rule='{"name": "h_daily", "subject": "owner", "kinds": ["fee"], "direction": "outflow", "metric": "daily_sum", "threshold": 5000000, "currency": "CNY", "action": "reject"}'

# Recipes for the SECURITY DEFINER functions, by signature: the role that may call it
# and a call that goes through its main path.
declare -A recipe_role recipe_sql
recipe_role['riskguard._audit(text,text,jsonb)']=postgres
recipe_sql['riskguard._audit(text,text,jsonb)']="SELECT riskguard._audit('hijack_probe', 'nothing', '{\"n\": 1}');"
recipe_role['riskguard.verify_audit()']=pvh_admin
recipe_sql['riskguard.verify_audit()']="SELECT * FROM riskguard.verify_audit();"
recipe_role['riskguard.audit_head()']=pvh_approver
recipe_sql['riskguard.audit_head()']="SELECT * FROM riskguard.audit_head();"
recipe_role['riskguard.propose_change(text,text,jsonb,text)']=pvh_admin
recipe_sql['riskguard.propose_change(text,text,jsonb,text)']="SELECT riskguard.propose_change('limit_rule', 'insert', '$rule', 'daily fee cap');"
recipe_role['riskguard.approve_change(bigint)']=pvh_approver
recipe_sql['riskguard.approve_change(bigint)']="SELECT riskguard.approve_change(@change@);"
recipe_role['riskguard.reject_change(bigint,text)']=pvh_approver
recipe_sql['riskguard.reject_change(bigint,text)']="SELECT riskguard.reject_change(@change2@, 'not agreed');"
recipe_role['riskguard.open_account(text,riskguard.fund_pool,text,text,character,text,boolean)']=pvh_admin
recipe_sql['riskguard.open_account(text,riskguard.fund_pool,text,text,character,text,boolean)']="SELECT riskguard.open_account('w:zhao', 'client', 'zhao', 'individual', 'CNY');"
recipe_role['riskguard.reconcile(text,bigint,timestamp with time zone)']=pvh_admin
recipe_sql['riskguard.reconcile(text,bigint,timestamp with time zone)']="SELECT * FROM riskguard.reconcile('custody', 1000000, '2026-11-25 10:00:00+00');"
recipe_role['riskguard.rebuild_limit_counters(text)']=pvh_admin
recipe_sql['riskguard.rebuild_limit_counters(text)']="SELECT riskguard.rebuild_limit_counters('h_alert');"
recipe_role['riskguard.headroom(text,text)']=pvh_approver
recipe_sql['riskguard.headroom(text,text)']="SELECT riskguard.headroom('h_day', 'li');"
recipe_role['riskguard.check_transfer(text,text,bigint,text)']=pvh_admin
recipe_sql['riskguard.check_transfer(text,text,bigint,text)']="SELECT * FROM riskguard.check_transfer('w:li', 'p:fees', 1000, 'fee');"
recipe_role['riskguard.create_model(text,jsonb)']=pvh_admin
recipe_sql['riskguard.create_model(text,jsonb)']="SELECT riskguard.create_model('h_model', '$spec'); SELECT riskguard.create_model('h_model', '$spec');"
recipe_role['riskguard.activate_model(text,integer)']=pvh_admin
recipe_sql['riskguard.activate_model(text,integer)']="SELECT riskguard.activate_model('h_model', 1);"
recipe_role['riskguard._key_change(text,regclass,name,name,integer)']=pvh_admin
recipe_sql['riskguard._key_change(text,regclass,name,name,integer)']="CREATE TABLE adm.cust (id bigint PRIMARY KEY, nid pg_catalog.text, nid_bidx pg_catalog.bytea);
INSERT INTO adm.cust VALUES (1, '110101199003070011', NULL);
SELECT riskguard.protect_column('adm.cust', 'nid', 'nid_bidx');
SELECT riskguard.rotate_column_key('adm.cust', 'nid');
SELECT riskguard.reencrypt('adm.cust', 'nid');
SELECT riskguard.unprotect_column('adm.cust', 'nid');"
recipe_role['riskguard._forget_dropped()']=pvh_admin
recipe_sql['riskguard._forget_dropped()']="CREATE TABLE adm.gone (id bigint PRIMARY KEY, nid pg_catalog.text);
SELECT riskguard.protect_column('adm.gone', 'nid');
DROP TABLE adm.gone CASCADE;"

secdef=$(sql_value "SELECT p.oid::regprocedure::text FROM pg_proc p
                     JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
                     JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'riskguard'
                    WHERE p.prosecdef
                    ORDER BY p.proname OPERATOR(pg_catalog.=) ANY ('{activate_model,approve_change,reject_change}'::pg_catalog.text[]), p.proname")
nsecdef=$(printf '%s\n' "$secdef" | grep -c .)
ok "the catalog lists SECURITY DEFINER functions to attack ($nsecdef)" test "$nsecdef" -ge 10

change=
for fn in $(printf '%s\n' "$secdef" | tr ' ' '~'); do
	fn=${fn//\~/ }
	if [ -n "${recipe_sql[$fn]+x}" ]; then
		sql=${recipe_sql[$fn]}
		if [ "$fn" = 'riskguard.approve_change(bigint)' ] || [ "$fn" = 'riskguard.reject_change(bigint,text)' ]; then
			# a proposal by the admin, decided by the approver
			change=$(sql_value "SELECT riskguard.propose_change('limit_rule', 'insert', pg_catalog.jsonb_set('$rule', '{name}', to_jsonb('h_' || pg_catalog.md5(pg_catalog.random()::text))), 'to decide')" -U pvh_admin)
			sql=${sql//@change@/$change}
			sql=${sql//@change2@/$change}
		fi
		attempt "${recipe_role[$fn]}" "$fn" "$sql"
	else
		# a function added later without a recipe: the owner calls it with NULL arguments
		echo "# no recipe for $fn: called with NULL arguments"
		call=$(sql_value "SELECT pg_catalog.format('SELECT * FROM %s(%s);', p.oid::regproc,
		                                  coalesce(pg_catalog.string_agg(pg_catalog.format('NULL::%I.%I', n.nspname, t.typname), ', ' ORDER BY a.ord), ''))
		                    FROM pg_proc p
		                    LEFT JOIN LATERAL unnest(p.proargtypes::oid[]) WITH ORDINALITY a(typ, ord) ON true
		                    LEFT JOIN pg_type t ON t.oid = a.typ
		                    LEFT JOIN pg_namespace n ON n.oid = t.typnamespace
		                   WHERE p.oid = '$fn'::regprocedure
		                     AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype)
		                   GROUP BY p.oid")
		if [ -n "$call" ]; then
			attempt postgres "$fn (NULL arguments)" "SET client_min_messages = error; DO \$do\$ BEGIN EXECUTE \$q\$$call\$q\$; EXCEPTION WHEN OTHERS THEN NULL; END \$do\$;"
		fi
	fi
done

# paths that run as another role without being SECURITY DEFINER
attempt pvh_attacker "transfer trigger (runs as the ledger's owner): a fee with a reserve provision and a limit alert" \
	"INSERT INTO riskguard.transfer (debit_account, credit_account, amount, kind, idempotency_key) VALUES ($li, $fees, 1000, 'fee', 'hijack-1');
INSERT INTO riskguard.transfer (debit_account, credit_account, amount, kind, idempotency_key) VALUES ($li, $fees, 1000, 'fee', 'hijack-1');"
is "$(sql_value "SELECT count(*) FROM riskguard.alert WHERE rule = 'h_alert'")" "1" "the attacker's transfer raised its alert (the alert path ran)"
is "$(sql_value "SELECT count(*) FROM riskguard.transfer WHERE kind = 'reserve_provision'")" "1" "... and posted its reserve provision"
attempt pvh_app "post_transfer, hold_transfer, post_pending and void_pending" \
	"SELECT riskguard.post_transfer('w:li', 'p:fees', 500, 'fee');
SELECT riskguard.post_pending(riskguard.hold_transfer('w:li', 'p:fees', 700, 'fee'), 300);
SELECT riskguard.void_pending(riskguard.hold_transfer('w:li', 'p:fees', 700, 'fee'));"
attempt pvh_admin "verify_ledger and ledger_digest" \
	"SELECT count(*) FROM riskguard.verify_ledger(); SELECT riskguard.ledger_digest();"
attempt pvh_admin "apply_preset" "SELECT riskguard.apply_preset('cn_p2p_2016');"
attempt pvh_admin "sealing trigger, blind index and decrypting view" \
	"CREATE TABLE adm.people (id bigint PRIMARY KEY, phone pg_catalog.text, phone_bidx pg_catalog.bytea);
SELECT riskguard.protect_column('adm.people', 'phone', 'phone_bidx');
INSERT INTO adm.people (id, phone) VALUES (1, '13800138000'), (2, '13900139000');
SELECT count(*) FROM adm.people_decrypted WHERE phone_bidx = riskguard.blind_index('adm.people', 'phone', '13800138000');
SELECT riskguard.decrypt(p.*, 'phone') FROM adm.people p;"
attempt pvh_admin "attach_scoring and the scoring trigger" \
	"CREATE TABLE adm.apps (id bigint PRIMARY KEY, dti float8, credit_score integer, credit_pd float8,
                       credit_grade pg_catalog.text, credit_decision pg_catalog.text, credit_reasons pg_catalog.text[]);
SELECT riskguard.attach_scoring('adm.apps', 'h_model');
INSERT INTO adm.apps (id, dti) VALUES (1, 0.3);
SELECT riskguard.score('h_model', '{\"dti\": 0.3}');
SELECT riskguard.detach_scoring('adm.apps');"

is "$(trap_count)" "$controls" "in all, the attacker's objects ran only for their own positive controls"
echo "# ${#shadows[@]} shadows planted, $nsecdef SECURITY DEFINER functions attacked, $ATTEMPTS hijack attempts"
done_testing
