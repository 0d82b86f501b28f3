#!/usr/bin/env bash
# The README's bad-input table is the one test/bad_inputs.py prints from the catalogue
# that test/pgtap/91_bad_inputs.sql runs, so README and tests cannot drift apart.
set -u
. "$RG_TOP/test/shell/tap.sh"

out=$(/usr/bin/python3 "$RG_TOP/test/bad_inputs.py" --check 2>&1)
like "$out" '^README.md holds the table of [0-9]+ bad inputs$' "the README's bad-input table matches test/pgtap/91_bad_inputs.sql"
n=$(/usr/bin/python3 "$RG_TOP/test/bad_inputs.py" | grep -c '^| [a-z]')
ok "the table has a row for each capability and SQLSTATE ($n)" test "$n" -gt 20
done_testing
