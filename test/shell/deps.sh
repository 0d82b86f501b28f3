#!/usr/bin/env bash
# The test command run by someone who is not root, on a machine without the packages:
# it names the missing packages, says how to install them, exits non-zero, and leaves
# nothing behind.
set -u
. "$RG_TOP/test/shell/tap.sh"

shim=$RG_WORK/deps-shim
mkdir -p "$shim"
# a dpkg-query that knows no package, as on a machine where nothing is installed
cat >"$shim/dpkg-query" <<'SH'
#!/bin/sh
exit 1
SH
chmod 755 "$shim" "$shim/dpkg-query"

if [ "$(id -u)" = 0 ]; then
	as_user() { runuser -u nobody -- "$@"; }
else
	as_user() { "$@"; }
fi
# a copy of the commands that any user can read
copy=$RG_WORK/deps-copy
mkdir -p "$copy/test"
cp "$RG_TOP/test/run" "$RG_TOP/test/lib.sh" "$copy/test/"
chmod -R a+rX "$copy"
before=$(ls -d /tmp/riskguard.* 2>/dev/null | sort)
out=$(cd / && as_user env PATH="$shim:$PATH" HOME=/tmp bash "$copy/test/run" test 2>&1)
rc=$?
after=$(ls -d /tmp/riskguard.* 2>/dev/null | sort)

is "$rc" "2" "a non-root run without packages exits with status 2"
like "$out" "missing Debian packages: .*postgresql-server-dev-15" "it names postgresql-server-dev-15"
like "$out" "libsodium-dev" "it names libsodium-dev"
like "$out" "postgresql-15-pgtap" "it names postgresql-15-pgtap"
like "$out" "apt-get update && apt-get install -y " "it says the command that installs them"
is "$after" "$before" "it created no work directory"
ok "it installed nothing" bash -c "! grep -q 'installing' <<<\"\$1\"" _ "$out"

done_testing
