# test/lib.sh: throw-away PostgreSQL clusters for riskguard's tests, demo and benchmarks.
#
# Sourced by test/run and by shell tests.  A cluster runs from a private copy of the
# PostgreSQL 15 installation with riskguard installed into it (make install DESTDIR=...),
# so nothing is installed system-wide and several checkouts can test side by side.
# As root, the server runs as the postgres user; otherwise as the caller.

PGVER=15
PGBIN_SYS=/usr/lib/postgresql/$PGVER/bin
# The installation the clusters run from, named by its pg_config: Debian's, or with
# SANITIZE=address the ASan build that test/asan/build-postgres.sh keeps in its cache.
RG_ASAN_CACHE=${RG_ASAN_CACHE:-/var/cache/riskguard/asan}
if [ -z "${PG_CONFIG:-}" ]; then
	if [ "${SANITIZE:-}" = address ]; then
		PG_CONFIG=$RG_ASAN_CACHE/postgresql-$PGVER/bin/pg_config
	else
		PG_CONFIG=$PGBIN_SYS/pg_config
	fi
fi

rg_as_server_user() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# rg_make_install TOP ROOT: build riskguard in TOP and install it into a copy of
# the PostgreSQL installation that PG_CONFIG names (its bin, lib and share directories,
# at the same paths under ROOT).  Sets PGBIN.
rg_make_install() {
	local top=$1 root=$2 d bindir
	if [ "${SANITIZE:-}" = address ]; then rg_asan_options "$root/sanitizer"; fi
	bindir=$("$PG_CONFIG" --bindir) || return 1
	for d in "$bindir" "$("$PG_CONFIG" --pkglibdir)" "$("$PG_CONFIG" --sharedir)"; do
		mkdir -p "$root$(dirname "$d")"
		cp -a "$d" "$root$(dirname "$d")/"
	done
	make -s -C "$top" with_llvm=no PG_CONFIG="$PG_CONFIG" >"$root/build.log" 2>&1 \
		&& make -s -C "$top" with_llvm=no PG_CONFIG="$PG_CONFIG" install DESTDIR="$root" \
			>>"$root/build.log" 2>&1 \
		|| { cat "$root/build.log" >&2; echo "riskguard: build failed" >&2; return 1; }
	PGBIN=$root$bindir
	export PGBIN
	if [ -n "${SANITIZE:-}" ]; then rg_sanitize_server "$PGBIN"; fi
}

# rg_asan_options DIR: the AddressSanitizer options for every instrumented program of
# the ASan build (server and clients alike): no leak checking (PostgreSQL frees by
# memory context, and its clients at exit), the first report aborts the process, and
# reports go to DIR/asan.PID, where test/run looks for them.  DIR is writable by the
# server user.
rg_asan_options() {
	local dir=$1
	mkdir -p "$dir"
	chmod 1777 "$dir"
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1:print_summary=1:log_path=$dir/asan
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$dir/ubsan
	export ASAN_OPTIONS UBSAN_OPTIONS
}

# rg_sanitize_server BINDIR: make the private copy's postgres run with the sanitizer
# options, so that every cluster any test starts has them.  With SANITIZE=1 the
# extension brings its UBSan runtime into Debian's server and a report lands in the
# server's log; with SANITIZE=address the server itself is the ASan build (see
# test/asan/build-postgres.sh) and reports land in the directory rg_asan_options names.
# A report aborts the backend; test/run scans for them.  (Preloading the ASan runtime
# into Debian's postgres deadlocks in glibc's bindtextdomain at startup; see README,
# "Memory safety".)
rg_sanitize_server() {
	local bin=$1
	mv "$bin/postgres" "$bin/postgres.bin"
	{
		echo '#!/bin/sh'
		if [ "${SANITIZE:-}" = address ]; then
			echo "export ASAN_OPTIONS='$ASAN_OPTIONS'"
			echo "export UBSAN_OPTIONS='$UBSAN_OPTIONS'"
		else
			echo 'export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1'
		fi
		echo 'exec "$(dirname "$0")/postgres.bin" "$@"'
	} >"$bin/postgres"
	chmod 755 "$bin/postgres"
}

# rg_free_port: a TCP port nobody listens on (the socket is a Unix one, but the
# port number also names it).
rg_free_port() {
	local p
	for p in $(shuf -i 20000-60000 -n 50); do
		if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && [ ! -e "/tmp/.s.PGSQL.$p" ]; then
			echo "$p"; return 0
		fi
	done
	return 1
}

# rg_new_key FILE: write a fresh 32-byte root key as 64 hex characters, mode 0600,
# owned by the server user.
rg_new_key() {
	local f=$1
	( umask 077; od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$f"; echo >>"$f" )
	[ "$(id -u)" = 0 ] && chown postgres "$f"
	chmod 600 "$f"
}

# rg_cluster_init DIR [extra postgresql.conf lines...]: initdb a cluster in DIR/data
# with sockets in DIR/sock.  Sets PGDATA, PGHOST, PGPORT, PGUSER, PGDATABASE.
rg_cluster_init() {
	local dir=$1; shift
	mkdir -p "$dir/data" "$dir/sock"
	[ "$(id -u)" = 0 ] && chown postgres "$dir" "$dir/data" "$dir/sock"
	PGDATA=$dir/data
	PGHOST=$dir/sock
	PGPORT=$(rg_free_port)
	PGUSER=$(if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi)
	PGDATABASE=postgres
	export PGDATA PGHOST PGPORT PGUSER PGDATABASE
	rg_as_server_user "$PGBIN/initdb" -D "$PGDATA" -U "$PGUSER" --auth=trust \
		--encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
		|| { cat "$dir/initdb.log" >&2; return 1; }
	{
		echo "port = $PGPORT"
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$PGHOST'"
		echo "max_connections = 40"
		echo "shared_buffers = 256MB"
		echo "fsync = off"
		echo "synchronous_commit = off"
		echo "full_page_writes = off"
		echo "logging_collector = off"
		echo "log_min_messages = warning"
		echo "lc_messages = 'C'"
		echo "max_worker_processes = 16"
		for line in "$@"; do echo "$line"; done
	} >>"$PGDATA/postgresql.conf"
}

# rg_cluster_start DIR: start the cluster, log in DIR/server.log
rg_cluster_start() {
	local dir=$1
	rg_as_server_user "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
		|| { tail -n 30 "$dir/server.log" >&2; return 1; }
}

rg_cluster_stop() {
	local dir=$1 mode=${2:-fast}
	[ -f "$dir/data/postmaster.pid" ] || return 0
	rg_as_server_user "$PGBIN/pg_ctl" -D "$dir/data" -m "$mode" -w -t 60 stop >/dev/null 2>&1 || true
}

# rg_psql ...: psql against the current cluster, quiet, stop on error
rg_psql() {
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"
}
