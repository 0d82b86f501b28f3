# test/lib.sh: throw-away PostgreSQL clusters for riskguard's tests, demo and benchmarks.
#
# Sourced by test/run and by shell tests.  A cluster runs from a private copy of the
# PostgreSQL 15 installation with riskguard installed into it (make install DESTDIR=...),
# so nothing is installed system-wide and several checkouts can test side by side.
# As root, the server runs as the postgres user; otherwise as the caller.

PGVER=15
PGBIN_SYS=/usr/lib/postgresql/$PGVER/bin
PGSHARE_SYS=/usr/share/postgresql/$PGVER

rg_as_server_user() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# rg_make_install TOP ROOT: build riskguard in TOP and install it into a copy of
# PostgreSQL under ROOT.  Sets PGBIN.
rg_make_install() {
	local top=$1 root=$2
	mkdir -p "$root/usr/lib/postgresql" "$root/usr/share/postgresql"
	cp -a "/usr/lib/postgresql/$PGVER" "$root/usr/lib/postgresql/"
	cp -a "$PGSHARE_SYS" "$root/usr/share/postgresql/"
	make -s -C "$top" with_llvm=no >"$root/build.log" 2>&1 \
		&& make -s -C "$top" with_llvm=no install DESTDIR="$root" >>"$root/build.log" 2>&1 \
		|| { cat "$root/build.log" >&2; echo "riskguard: build failed" >&2; return 1; }
	PGBIN=$root/usr/lib/postgresql/$PGVER/bin
	export PGBIN
	if [ -n "${SANITIZE:-}" ]; then rg_sanitize_server "$PGBIN"; fi
}

# rg_sanitize_server BINDIR: make the private copy's postgres run with the sanitizer
# options (the extension is built with SANITIZE=1 and brings its UBSan runtime), so that
# every cluster any test starts has them.  A report aborts the backend and lands in the
# server's log, which test/run scans.  (Preloading the ASan runtime into Debian's
# postgres deadlocks in glibc's bindtextdomain at startup, so ASan runs on the pure-C
# cores through the fuzz harnesses instead; see README, "Memory safety".)
rg_sanitize_server() {
	local bin=$1
	mv "$bin/postgres" "$bin/postgres.bin"
	cat >"$bin/postgres" <<'SH'
#!/bin/sh
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
exec "$(dirname "$0")/postgres.bin" "$@"
SH
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
