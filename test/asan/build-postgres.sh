#!/usr/bin/env bash
# test/asan/build-postgres.sh: a PostgreSQL 15 built under AddressSanitizer, for
# `make test SANITIZE=address`.
#
# Debian's own server cannot run with the ASan runtime preloaded (it hangs at start, see
# README, "Memory safety"), so this builds one from Debian's source of the installed
# postgresql-15 version, with a minimal feature set, assertions and ASan, and installs it
# under the cache directory:
#
#   $RG_ASAN_CACHE (default /var/cache/riskguard/asan)
#     src/           the source package (.dsc, tarballs) and its unpacked tree
#     build.log      configure, make and make install output
#     postgresql-15/ the installation (bin/pg_config is what the test harness uses),
#                    with Debian's pgTAP extension files copied into its share/extension
#
# A second run finds the installation (stamped with the version and flags) and does
# nothing.  As root it installs what it needs (a deb-src entry in
# /etc/apt/sources.list.d/riskguard-src.sources, and the few build packages); as anyone
# else it says what is missing and stops with status 2.  The build takes about ten
# minutes on two cores.
set -euo pipefail

PGVER=15
CACHE=${RG_ASAN_CACHE:-/var/cache/riskguard/asan}
PREFIX=$CACHE/postgresql-$PGVER
SRCLIST=/etc/apt/sources.list.d/riskguard-src.sources
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
CFLAGS_ASAN="-O1 -g -fsanitize=address -fno-omit-frame-pointer"
LDFLAGS_ASAN="-fsanitize=address"
# configure: no readline (psql reads files here), no ICU, no JIT, no SSL; zlib stays so
# that pg_dump -Fc compresses as it does with Debian's build.
CONFIGURE_OPTS=(--enable-debug --enable-cassert --without-readline --without-icu
	--without-llvm --with-zlib)
BUILD_PACKAGES=(dpkg-dev gcc make perl libasan8 zlib1g-dev
	"postgresql-$PGVER-pgtap")

say() { echo "riskguard asan: $*" >&2; }

version=$(dpkg-query -W -f='${Version}' "postgresql-$PGVER" 2>/dev/null || true)
if [ -z "$version" ]; then
	say "postgresql-$PGVER is not installed; its version is the one built here"
	exit 2
fi
stamp="postgresql-$PGVER $version; ${CONFIGURE_OPTS[*]}; CFLAGS=$CFLAGS_ASAN; LDFLAGS=$LDFLAGS_ASAN"
if [ -x "$PREFIX/bin/pg_config" ] && [ -f "$PREFIX/.riskguard-stamp" ] &&
	[ "$(cat "$PREFIX/.riskguard-stamp")" = "$stamp" ]; then
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	say "no ASan build of PostgreSQL $version in $PREFIX"
	say "build it as root (about ten minutes): $0"
	exit 2
fi

missing=()
for p in "${BUILD_PACKAGES[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

mkdir -p "$CACHE/src"
cd "$CACHE/src"

# fetch VERSION: download the source package of postgresql-15 VERSION into the cache
fetch() {
	local v=$1
	[ -f "postgresql-${PGVER}_${v#*:}.dsc" ] && return 0
	apt-get source -qq --download-only "postgresql-$PGVER=$v" >/dev/null 2>&1
}

if [ ! -f "$SRCLIST" ]; then
	say "adding the deb-src entries $SRCLIST"
	cat >"$SRCLIST" <<EOF
# Debian's source packages, for riskguard's ASan build of PostgreSQL
# (test/asan/build-postgres.sh)
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: $KEYRING

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: $KEYRING
EOF
	apt-get update -qq >/dev/null
fi
# The installed version's source, or else the newest one the archive serves (a mirror
# may carry the security archive's binaries but not its sources): a minor version apart,
# the server behaves the same for the extension.  apt checks every file against the
# archive's signed index.
built=
for v in "$version" $(apt-cache showsrc "postgresql-$PGVER" | sed -n 's/^Version: //p' |
		sort -rVu | grep -vxF "$version"); do
	if fetch "$v"; then built=$v; break; fi
	say "could not fetch the source of postgresql-$PGVER $v"
done
if [ -z "$built" ]; then
	say "no source of postgresql-$PGVER could be fetched (deb-src entries: $SRCLIST)"
	exit 1
fi
[ "$built" = "$version" ] || say "building $built instead of the installed $version"
upstream=${built#*:}
upstream=${upstream%-*}
tree=$CACHE/src/postgresql-$PGVER-$upstream
if [ ! -f "$tree/configure" ]; then
	rm -rf "$tree"
	dpkg-source -x "postgresql-${PGVER}_${built#*:}.dsc" "$tree" >/dev/null
fi

log=$CACHE/build.log
say "building PostgreSQL $built with AddressSanitizer into $PREFIX (log: $log)"
start=$(date +%s)
rm -rf "$PREFIX"
(
	set -x
	cd "$tree"
	[ ! -f GNUmakefile ] || make -s distclean
	./configure --prefix="$PREFIX" "${CONFIGURE_OPTS[@]}" \
		CFLAGS="$CFLAGS_ASAN" LDFLAGS="$LDFLAGS_ASAN"
	nice -n 10 make -j"$(nproc)" -s
	make -s install
) >"$log" 2>&1 || { tail -n 40 "$log" >&2; say "build failed (log: $log)"; exit 1; }

# pgTAP is plain SQL: Debian's files serve this installation as well
cp /usr/share/postgresql/$PGVER/extension/pgtap* "$PREFIX/share/extension/"
echo "$built" >"$PREFIX/.riskguard-source"
echo "$stamp" >"$PREFIX/.riskguard-stamp"
say "built in $(( $(date +%s) - start ))s: $PREFIX/bin/pg_config"
