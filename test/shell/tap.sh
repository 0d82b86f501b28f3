# test/shell/tap.sh: TAP-style assertions for shell tests (sourced).
# Each check prints "ok N - what" or "not ok N - what"; test/run counts them.
TAP_N=0
TAP_FAILED=0

ok() {	# ok "description" command...
	local desc=$1; shift
	TAP_N=$((TAP_N + 1))
	if "$@" >/dev/null 2>&1; then
		echo "ok $TAP_N - $desc"
	else
		echo "not ok $TAP_N - $desc"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

is() {	# is "got" "expected" "description"
	TAP_N=$((TAP_N + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $TAP_N - $3"
	else
		echo "not ok $TAP_N - $3"
		echo "#   got:      '$1'"
		echo "#   expected: '$2'"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

like() {	# like "got" "extended regex" "description"
	TAP_N=$((TAP_N + 1))
	if printf '%s' "$1" | grep -qE -- "$2"; then
		echo "ok $TAP_N - $3"
	else
		echo "not ok $TAP_N - $3"
		echo "#   got:      '$1'"
		echo "#   expected to match: '$2'"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

done_testing() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}

# sql_error "SQL" [psql args...]: the "SQLSTATE: message" of the error the statement
# raises, or "no error"
sql_error() {
	local sql=$1; shift
	local out
	if out=$("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -v VERBOSITY=verbose "$@" -c "$sql" 2>&1 >/dev/null); then
		echo "no error"
	else
		printf '%s\n' "$out" | sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\): /\1: /p' | head -n 1
	fi
}

# sql_value "SQL" [psql args...]: the single value the statement returns
sql_value() {
	local sql=$1; shift
	"$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 "$@" -c "$sql"
}
