#!/usr/bin/env bash
# crypto: sealing on write and opening on read, on a customer table of 13 columns
# (test/bench/crypto/schema.sql; rows from test/bench/crypto/rows.sql, about 190 bytes
# each as text).
#   - COPY of N customer rows (default 1,000,000) into a table with two protected
#     columns, one with a blind index, against the same COPY into an unprotected table;
#   - the same against a PL/pgSQL trigger calling pgcrypto's pgp_sym_encrypt for the
#     same two columns, measured on fewer rows (PGC_ROWS, default 20,000) since it is
#     about three orders of magnitude slower, and compared as rows per second;
#   - reading every row through the decrypted view against a plain scan of the same rows;
#   - for context, COPY into the table with contrib's insert_username, a minimal C BEFORE
#     ROW trigger: any such trigger stops COPY from batching its inserts.
# Each COPY is timed on a freshly truncated table; the best of RUNS (default 3), with the
# tables interleaved.
# Set ROWS / PGC_ROWS / RUNS to scale.  Reproduce: make bench BENCH=crypto
set -eu
. "$RG_TOP/test/bench/lib.sh"

ROWS=${ROWS:-1000000}
PGC_ROWS=${PGC_ROWS:-20000}
RUNS=${RUNS:-3}
tmp=$(mktemp -d)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT

rg_psql -f "$RG_TOP/test/bench/crypto/schema.sql" >/dev/null
rg_psql -v rows="$ROWS" -c "\\copy ($(grep -v '^--' "$RG_TOP/test/bench/crypto/rows.sql" | sed "s/:rows/$ROWS/")) TO '$tmp/rows.tsv'"
head -n "$PGC_ROWS" "$tmp/rows.tsv" >"$tmp/rows_pgc.tsv"

# copy_secs TABLE FILE: wall time in seconds of one COPY into the emptied table
copy_secs() {
	local table=$1 file=$2 t0 t1
	rg_psql -c "TRUNCATE $table" -c "CHECKPOINT" >/dev/null
	t0=$(date +%s.%N)
	rg_psql -c "\\copy $table (id, name, national_id, phone, email, birth_date, city, address, credit_limit, currency, status, opened) FROM '$file'" >/dev/null
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
# best A B: the smaller of two times (A may be empty)
best() { if [ -z "$1" ] || awk -v s="$2" -v b="$1" 'BEGIN { exit !(s < b) }'; then echo "$2"; else echo "$1"; fi; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }

# the runs interleave the tables, so that a stall on the shared machine hits them alike
plain_s= trig_s= rg_s= pgc_s=
for ((i = 0; i < RUNS; i++)); do
	plain_s=$(best "$plain_s" "$(copy_secs cb_plain "$tmp/rows.tsv")")
	trig_s=$(best "$trig_s" "$(copy_secs cb_trig "$tmp/rows.tsv")")
	rg_s=$(best "$rg_s" "$(copy_secs cb_rg "$tmp/rows.tsv")")
	pgc_s=$(best "$pgc_s" "$(copy_secs cb_pgc "$tmp/rows_pgc.tsv")")
done
plain_r=$(rate "$ROWS" "$plain_s"); trig_r=$(rate "$ROWS" "$trig_s"); rg_r=$(rate "$ROWS" "$rg_s"); pgc_r=$(rate "$PGC_ROWS" "$pgc_s")

# sanity: what was written is sealed and opens to what was copied
check=$(rg_psql -At -c "SELECT count(*) FROM cb_rg r JOIN cb_plain p USING (id)
  WHERE riskguard.envelope_key_id(r.national_id) IS NOT NULL
    AND r.national_id_bidx = riskguard.blind_index('cb_rg', 'national_id', p.national_id)
    AND r.id % 1000 = 0")
[ "$check" = "$((ROWS / 1000))" ] || { echo "crypto bench: sealed rows do not check out ($check)" >&2; exit 1; }

rg_psql -c "VACUUM ANALYZE cb_plain" -c "VACUUM ANALYZE cb_rg" >/dev/null
# interleaved too: the best of READS (default 5) of each after a warm-up
scan_ms= view_ms=
for ((i = 0; i < ${READS:-5}; i++)); do
	scan_ms=$(best "$scan_ms" "$(bench_ms "COPY (SELECT * FROM cb_plain) TO '/dev/null'" 1)")
	view_ms=$(best "$view_ms" "$(bench_ms "COPY (SELECT * FROM cb_rg_decrypted) TO '/dev/null'" 1)")
done
scan_r=$(rate "$ROWS" "$(awk -v m="$scan_ms" 'BEGIN { print m / 1000 }')")
view_r=$(rate "$ROWS" "$(awk -v m="$view_ms" 'BEGIN { print m / 1000 }')")

bench_row "COPY $ROWS rows, 2 sealed columns + blind index" "COPY into unprotected table" \
	"$plain_r rows/s" "$rg_r rows/s" "$(bench_ratio "$rg_r" "$plain_r")" "≥ 0.6"
bench_row "COPY $ROWS rows, 2 sealed columns + blind index" "COPY with a minimal C BEFORE ROW trigger" \
	"$trig_r rows/s" "$rg_r rows/s" "$(bench_ratio "$rg_r" "$trig_r")" "(context)"
bench_row "COPY $ROWS rows, minimal C BEFORE ROW trigger" "COPY into unprotected table" \
	"$plain_r rows/s" "$trig_r rows/s" "$(bench_ratio "$trig_r" "$plain_r")" "(the floor of any row trigger)"
bench_row "COPY, 2 sealed columns ($PGC_ROWS rows for pgcrypto)" "PL/pgSQL trigger + pgp_sym_encrypt" \
	"$pgc_r rows/s" "$rg_r rows/s" "$(bench_ratio "$rg_r" "$pgc_r")" "≥ 5"
bench_row "read $ROWS rows through _decrypted view" "plain scan (COPY TO /dev/null)" \
	"$scan_r rows/s" "$view_r rows/s" "$(bench_ratio "$view_r" "$scan_r")" "≥ 0.5"
