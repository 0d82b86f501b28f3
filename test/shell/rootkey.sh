#!/usr/bin/env bash
# Root key loading at server start: good and bad key files and commands, and a server
# without preloading.  Each bad case must log a clear message, leave the rest of
# riskguard working, and make encryption raise RG011; the key never reaches the log.
set -u
. "$RG_TOP/test/lib.sh"
. "$RG_TOP/test/shell/tap.sh"

dir=$RG_WORK/rootkey
keys=$RG_WORK/rootkey-keys
mkdir -p "$keys"
[ "$(id -u)" = 0 ] && chown postgres "$keys"
chmod 700 "$keys"

main_kcv=$(sql_value 'CREATE EXTENSION IF NOT EXISTS riskguard; SELECT riskguard.key_check_value()' -d postgres | tail -n 1)
like "$main_kcv" '^[0-9a-f]{16}$' "the main cluster's key check value is 16 hex digits"
key_hex=$(tr -d '\n' <"$RG_KEYFILE")

rg_cluster_init "$dir" "include_if_exists = 'riskguard_key.conf'"

# start_with LABEL CONF-LINES...: restart the cluster with these settings
start_with() {
	local label=$1; shift
	rg_cluster_stop "$dir"
	printf '%s\n' "$@" >"$dir/data/riskguard_key.conf"
	[ "$(id -u)" = 0 ] && chown postgres "$dir/data/riskguard_key.conf"
	LOG=$dir/server-$label.log
	rg_as_server_user "$PGBIN/pg_ctl" -D "$dir/data" -l "$LOG" -w -t 60 start >/dev/null
}

preload="shared_preload_libraries = 'riskguard'"

# a bad case: the server starts, logs the reason, riskguard works, encryption says RG011
bad_case() {
	local label=$1 reason=$2; shift 2
	start_with "$label" "$preload" "$@"
	ok "$label: server starts" "$PGBIN/pg_isready" -q
	like "$(cat "$LOG")" "could not load riskguard root key" "$label: start-up logs that no key was loaded"
	like "$(cat "$LOG")" "$reason" "$label: the log says why"
	is "$(sql_value 'DROP EXTENSION IF EXISTS riskguard; CREATE EXTENSION riskguard; SELECT riskguard.version()' | tail -n 1)" \
		"0.1" "$label: the extension installs and works"
	like "$(sql_error 'SELECT riskguard.key_check_value()')" '^RG011: no riskguard root key is loaded' \
		"$label: encryption raises RG011"
}

printf '%s\n' "$key_hex" >"$keys/good.key"
cp "$keys/good.key" "$keys/open.key"
printf '%s\n' "${key_hex:0:63}" >"$keys/short.key"
printf '%s\n' "${key_hex:0:62}zz" >"$keys/nothex.key"
for f in good open short nothex; do [ "$(id -u)" = 0 ] && chown postgres "$keys/$f.key"; chmod 600 "$keys/$f.key"; done
chmod 644 "$keys/open.key"
cp "$keys/good.key" "$dir/data/inside.key"
[ "$(id -u)" = 0 ] && chown postgres "$dir/data/inside.key"
chmod 600 "$dir/data/inside.key"

bad_case missing "could not be read: No such file" "riskguard.root_key_file = '$keys/absent.key'"
bad_case world-readable "accessible by group or others \(mode 0644\)" "riskguard.root_key_file = '$keys/open.key'"
bad_case short "exactly 64 hexadecimal characters" "riskguard.root_key_file = '$keys/short.key'"
bad_case not-hex "exactly 64 hexadecimal characters" "riskguard.root_key_file = '$keys/nothex.key'"
bad_case inside-datadir "inside the data directory" "riskguard.root_key_file = '$dir/data/inside.key'"
bad_case command-fails "key command exited with status" "riskguard.root_key_command = 'exit 3'"
bad_case both-set "Both riskguard.root_key_file and riskguard.root_key_command are set" \
	"riskguard.root_key_file = '$keys/good.key'" "riskguard.root_key_command = 'cat $keys/good.key'"

# RG011's hint tells the remedy
hint=$("$PGBIN/psql" -X -q -v VERBOSITY=verbose -c 'SELECT riskguard.key_check_value()' 2>&1 || true)
like "$hint" "HINT:.*riskguard.root_key_file" "RG011 carries a hint naming the settings"

# good key from a file and from a command: the same check value as the main cluster
start_with file "$preload" "riskguard.root_key_file = '$keys/good.key'"
like "$(cat "$LOG")" 'riskguard root key loaded from file' "a good key file is loaded"
is "$(sql_value 'SELECT riskguard.key_check_value()')" "$main_kcv" "the same key gives the same check value"

start_with command "$preload" "riskguard.root_key_command = 'cat $keys/good.key'"
like "$(cat "$LOG")" 'root key loaded from riskguard.root_key_command' "a key command is run"
is "$(sql_value 'SELECT riskguard.key_check_value()')" "$main_kcv" "a key from a command gives the same check value"

# without preloading: create, drop, create in one session; RG011 names the remedy
start_with no-preload ""
is "$(sql_value 'DROP EXTENSION IF EXISTS riskguard; CREATE EXTENSION riskguard; DROP EXTENSION riskguard; CREATE EXTENSION riskguard; SELECT riskguard.version()' | tail -n 1)" \
	"0.1" "without preloading, create/drop/create works in one session"
like "$(sql_error 'SELECT riskguard.key_check_value()')" '^RG011' "without preloading, encryption raises RG011"
detail=$("$PGBIN/psql" -X -q -v VERBOSITY=verbose -c 'SELECT riskguard.key_check_value()' 2>&1 || true)
like "$detail" "DETAIL:.*not in shared_preload_libraries" "RG011 says the library was not preloaded"

# with preloading, create/drop/create in one session
start_with preload-again "$preload" "riskguard.root_key_file = '$keys/good.key'"
is "$(sql_value 'DROP EXTENSION IF EXISTS riskguard; CREATE EXTENSION riskguard; DROP EXTENSION riskguard; CREATE EXTENSION riskguard; SELECT riskguard.version()' | tail -n 1)" \
	"0.1" "with preloading, create/drop/create works in one session"

# the settings are hidden from ordinary roles
sql_value "CREATE ROLE rk_plain LOGIN" >/dev/null
like "$(sql_error 'SHOW riskguard.root_key_file' -U rk_plain)" '^42501' "an ordinary role cannot read riskguard.root_key_file"
like "$(sql_error 'SELECT riskguard.key_check_value()' -U rk_plain)" '^42501' "an ordinary role cannot call key_check_value"

# the key itself never reaches a log
ok "no log holds the key" bash -c "! grep -q -i '$key_hex' $dir/server-*.log $RG_WORK/main/server.log"
rg_cluster_stop "$dir"

done_testing
