#!/usr/bin/env bash
# The pure-C envelope core (src/envelope.c, no PostgreSQL) on its own: key derivation and
# blind indexes against the independent Python client, sealing and opening, strict base64
# (the encoder and decoder against libsodium's), nonce runs and fresh nonces after fork,
# and sealing and opening through cached HChaCha20 subkeys against libsodium's
# XChaCha20-Poly1305 and PyNaCl's.
set -u
. "$RG_TOP/test/lib.sh"
. "$RG_TOP/test/shell/tap.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ref() { /usr/bin/python3 "$RG_TOP/test/reference/crypto.py" "$@"; }

cat >"$tmp/t.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sodium.h>
#include "envelope.h"

static void hex(const char *label, const unsigned char *b, size_t n)
{
	printf("%s ", label);
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	printf("\n");
}

static int b64(const char *s)
{
	unsigned char out[64];
	size_t n;

	return rg_env_from_base64(out, sizeof(out), &n, s, strlen(s)) ? (int) n : -1;
}

/*
 * The table-driven base64 against libsodium's: the same text for every length up to 300
 * bytes, and, for single-character mutations of such texts, the same verdict and bytes
 * as sodium_base642bin (strict: padded, no whitespace, no leftover bits).  Returns the
 * number of disagreements.
 */
static int b64_against_sodium(void)
{
	static unsigned char bin[300], dec[300], sdec[300];
	static char ours[404], theirs[404];
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= -_";
	int			bad = 0;

	for (size_t len = 0; len <= sizeof(bin); len++)
	{
		size_t		tlen = RG_B64_LEN(len);

		randombytes_buf(bin, len);
		rg_env_to_base64(ours, bin, len);
		sodium_bin2base64(theirs, sizeof(theirs), bin, len, sodium_base64_VARIANT_ORIGINAL);
		if (strcmp(ours, theirs) != 0)
			bad++;
		for (int m = 0; m < 40 && tlen > 0; m++)
		{
			size_t		n1, n2;
			const char *end;
			int			ok1, ok2;

			strcpy(theirs, ours);
			theirs[randombytes_uniform((uint32_t) tlen)] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
			ok1 = rg_env_from_base64(dec, sizeof(dec), &n1, theirs, tlen);
			ok2 = sodium_base642bin(sdec, sizeof(sdec), theirs, tlen, NULL, &n2, &end,
									sodium_base64_VARIANT_ORIGINAL) == 0 && end == theirs + tlen;
			if (ok1 != ok2 || (ok1 && (n1 != n2 || memcmp(dec, sdec, n1) != 0)))
				bad++;
		}
	}
	return bad;
}

/*
 * The prepared blind index key against the one-shot keyed BLAKE2b: every length to 300
 * bytes (BLAKE2b's blocks are 128), every bit count from 1 to 256 in turn, and the same
 * prepared key used over and over.  Returns the number of differences.
 */
static int blind_prepared_against_oneshot(const unsigned char *key)
{
	static unsigned char value[300];
	unsigned char a[32], b[32];
	RgEnvBlindKey bk;
	int			bad = 0;

	rg_env_blind_key_prepare(&bk, key);
	for (size_t len = 0; len <= sizeof(value); len++)
	{
		int			bits = (int) (len % 256) + 1;

		randombytes_buf(value, len);
		rg_env_blind_index(a, bits, value, len, key);
		rg_env_blind_index_prepared(b, bits, value, len, &bk);
		bad += memcmp(a, b, rg_env_blind_index_bytes(bits)) != 0;
	}
	return bad;
}

static int cmp24(const void *a, const void *b)
{
	return memcmp(a, b, 24);
}

/* associated data for key_id, column col of public.customers, primary key "pk" */
static size_t make_ad(unsigned char *ad, uint32_t key_id, const char *col, long pk)
{
	size_t		len = 5;
	char		num[24];

	rg_env_ad_header(ad, key_id);
	rg_env_put_field(ad, &len, "public", 6);
	rg_env_put_field(ad, &len, "customers", 9);
	rg_env_put_field(ad, &len, col, strlen(col));
	rg_env_put_u32(ad, &len, 1);
	snprintf(num, sizeof(num), "%ld", pk);
	rg_env_put_field(ad, &len, num, strlen(num));
	return len;
}

/*
 * Two columns' keys alternating, CACHED_N values, sealed through their subkey caches and
 * opened again through them: every envelope must be exactly what libsodium's
 * crypto_aead_xchacha20poly1305_ietf_encrypt makes of the same key, nonce, associated
 * data and plaintext.  The nonces cross a run boundary (after 65,536) and an owner change
 * in the middle of a run.  Every 100th value, a value with a random nonce (as the
 * previous release and other clients seal) and a value with a flipped prefix bit are
 * opened through the same caches.  Writes every value for the Python check to
 * dir/national_id.tsv and dir/phone.tsv.
 */
#define CACHED_N 140000
static unsigned char cached_nonces[CACHED_N][24];

static void cached_against_sodium(const unsigned char *root, const char *dir)
{
	static const char *cols[2] = {"national_id", "phone"};
	unsigned char keys[2][32];
	RgEnvKeyCache kc[2];
	unsigned char pt[64], ad[128], env[128], ref[128], opened[64], other[128], nonce[24];
	int			mismatch = 0, unopened = 0, old_unopened = 0, tamper_opened = 0;
	int			runs = 1, run_breaks = 0, dup = 0;
	FILE	   *out[2];
	char		path[4096], b64[256];

	for (int k = 0; k < 2; k++)
	{
		rg_env_derive_column_key(keys[k], root, 7 + k);
		rg_env_key_cache_clear(&kc[k]);
		snprintf(path, sizeof(path), "%s/%s.tsv", dir, cols[k]);
		out[k] = fopen(path, "w");
	}
	rg_env_nonce_owner(5000);
	for (long i = 0; i < CACHED_N; i++)
	{
		int			k = (int) (i % 2);
		size_t		ptlen = (size_t) (i % 41);
		size_t		adlen = make_ad(ad, 7 + k, cols[k], i);
		unsigned long long clen;

		if (i == 100001)
			rg_env_nonce_owner(5001);	/* another process: a new run mid-run */
		for (size_t j = 0; j < ptlen; j++)
			pt[j] = (unsigned char) ('0' + (i * 7 + j) % 10);
		rg_env_seal_cached(env, pt, ptlen, ad, adlen, 7 + k, keys[k], &kc[k]);
		memcpy(cached_nonces[i], env + 5, 24);
		crypto_aead_xchacha20poly1305_ietf_encrypt(ref, &clen, pt, ptlen, ad, adlen, NULL,
												   env + 5, keys[k]);
		if (env[0] != 1 || rg_env_get_u32(env + 1) != (uint32_t) (7 + k) ||
			clen != ptlen + 16 || memcmp(env + RG_ENV_HEADER_BYTES, ref, clen) != 0)
			mismatch++;
		if (rg_env_open_cached(opened, env, ptlen + RG_ENV_OVERHEAD, ad, adlen, keys[k],
							   &kc[k]) != RG_ENV_OK || memcmp(opened, pt, ptlen) != 0)
			unopened++;
		rg_env_to_base64(b64, env, ptlen + RG_ENV_OVERHEAD);
		fprintf(out[k], "%ld\t%.*s\t%s\n", i, (int) ptlen, (const char *) pt, b64);

		if (i % 100 == 0)
		{
			/* a random 24-byte nonce, sealed by libsodium itself */
			randombytes_buf(nonce, sizeof(nonce));
			other[0] = 1;
			memcpy(other + 1, env + 1, 4);
			memcpy(other + 5, nonce, 24);
			crypto_aead_xchacha20poly1305_ietf_encrypt(other + RG_ENV_HEADER_BYTES, &clen,
													   pt, ptlen, ad, adlen, NULL, nonce,
													   keys[k]);
			if (rg_env_open_cached(opened, other, ptlen + RG_ENV_OVERHEAD, ad, adlen,
								   keys[k], &kc[k]) != RG_ENV_OK ||
				memcmp(opened, pt, ptlen) != 0)
				old_unopened++;
			/* a flipped bit in the prefix: another subkey, so the tag fails */
			env[5 + i % 16] ^= 0x10;
			if (rg_env_open_cached(opened, env, ptlen + RG_ENV_OVERHEAD, ad, adlen,
								   keys[k], &kc[k]) != RG_ENV_AUTH_FAILED)
				tamper_opened++;
			env[5 + i % 16] ^= 0x10;
			/* and the value itself still opens afterwards */
			if (rg_env_open_cached(opened, env, ptlen + RG_ENV_OVERHEAD, ad, adlen,
								   keys[k], &kc[k]) != RG_ENV_OK)
				unopened++;
		}
	}
	for (int k = 0; k < 2; k++)
		fclose(out[k]);

	/* the runs: a counter from 0 up under one prefix, a new prefix after 65,536 */
	for (long i = 0; i < CACHED_N; i++)
	{
		uint64_t	ctr = 0;

		for (int j = 16; j < 24; j++)
			ctr = (ctr << 8) | cached_nonces[i][j];
		if (i > 0 && memcmp(cached_nonces[i], cached_nonces[i - 1], 16) != 0)
		{
			runs++;
			if (ctr != 0)
				run_breaks++;
		}
		else if (i > 0)
		{
			uint64_t	prev = 0;

			for (int j = 16; j < 24; j++)
				prev = (prev << 8) | cached_nonces[i - 1][j];
			if (ctr != prev + 1 || ctr >= RG_ENV_NONCE_RUN)
				run_breaks++;
		}
	}
	qsort(cached_nonces, CACHED_N, 24, cmp24);
	for (long i = 1; i < CACHED_N; i++)
		dup += memcmp(cached_nonces[i], cached_nonces[i - 1], 24) == 0;
	printf("cached_mismatch %d\n", mismatch);
	printf("cached_unopened %d\n", unopened);
	printf("cached_old_unopened %d\n", old_unopened);
	printf("cached_tamper_opened %d\n", tamper_opened);
	printf("cached_runs %d %d\n", runs, run_breaks);
	printf("cached_nonce_dups %d\n", dup);
	for (int k = 0; k < 2; k++)
		rg_env_key_cache_clear(&kc[k]);
}

int main(int argc, char **argv)
{
	unsigned char root[32], key[32], bidx[32], ad[64], env[128], pt[64], nonce[24], other[24];
	const char *msg = "110101199003077531";
	size_t adlen = 5;
	uint32_t kid = 0;
	char text[256];
	int pipefd[2];

	if (argc != 2 || sodium_init() < 0)
		return 1;
	for (int i = 0; i < 32; i++)
		root[i] = (unsigned char) i;
	rg_env_derive_column_key(key, root, 7);
	hex("column_key", key, 32);
	rg_env_derive_blind_key(bidx, root, 7);
	rg_env_blind_index(pt, 12, (const unsigned char *) msg, strlen(msg), bidx);
	hex("blind_index_12", pt, rg_env_blind_index_bytes(12));
	{
		RgEnvBlindKey bk;

		rg_env_blind_key_prepare(&bk, bidx);
		rg_env_blind_index_prepared(pt, 12, (const unsigned char *) msg, strlen(msg), &bk);
		hex("blind_index_12_prepared", pt, rg_env_blind_index_bytes(12));
	}
	printf("blind_prepared_against_oneshot %d\n", blind_prepared_against_oneshot(bidx));

	rg_env_ad_header(ad, 7);
	rg_env_put_field(ad, &adlen, "public", 6);
	rg_env_put_field(ad, &adlen, "customers", 9);
	rg_env_put_field(ad, &adlen, "national_id", 11);
	rg_env_put_u32(ad, &adlen, 1);
	rg_env_put_field(ad, &adlen, "42", 2);
	hex("ad", ad, adlen);

	rg_env_seal(env, (const unsigned char *) msg, strlen(msg), ad, adlen, 7, key);
	rg_env_to_base64(text, env, strlen(msg) + RG_ENV_OVERHEAD);
	printf("sealed %s\n", text);
	{
		int			st = (int) rg_env_parse(env, strlen(msg) + RG_ENV_OVERHEAD, &kid);

		printf("parse %d %u\n", st, kid);
	}
	printf("open %d\n", (int) rg_env_open(pt, env, strlen(msg) + RG_ENV_OVERHEAD, ad, adlen, key));
	printf("plaintext %.*s\n", (int) strlen(msg), pt);
	ad[adlen - 1] ^= 1;			/* another row: primary key "43" */
	printf("open_other_row %d\n", (int) rg_env_open(pt, env, strlen(msg) + RG_ENV_OVERHEAD, ad, adlen, key));
	ad[adlen - 1] ^= 1;
	env[40] ^= 4;
	printf("open_flipped %d\n", (int) rg_env_open(pt, env, strlen(msg) + RG_ENV_OVERHEAD, ad, adlen, key));
	printf("open_truncated %d\n", (int) rg_env_open(pt, env, RG_ENV_OVERHEAD - 1, ad, adlen, key));
	env[0] = 2;
	printf("open_version %d\n", (int) rg_env_open(pt, env, strlen(msg) + RG_ENV_OVERHEAD, ad, adlen, key));

	/*
	 * A value sealed by the previous release (random 24-byte nonce), with this root key,
	 * key 7 and the associated data above: opens without a cache and through a cache
	 * that holds another prefix.
	 */
	{
		const char *old = "AQAAAAcbnoWGS/+OcxLd5V3YqKjia20ZZQDNHCv+myUMZc6t8odrhSPLvxOOHE9tdTfbOp3UajcIFxg3r7Dk";
		unsigned char oldenv[128];
		size_t		oldlen;
		RgEnvKeyCache kc;

		rg_env_key_cache_clear(&kc);
		rg_env_from_base64(oldenv, sizeof(oldenv), &oldlen, old, strlen(old));
		printf("open_old %d", (int) rg_env_open(pt, oldenv, oldlen, ad, adlen, key));
		printf(" %.*s", (int) strlen(msg), pt);
		rg_env_seal_cached(env, (const unsigned char *) msg, strlen(msg), ad, adlen, 7, key, &kc);
		rg_env_open_cached(pt, env, strlen(msg) + RG_ENV_OVERHEAD, ad, adlen, key, &kc);
		memset(pt, 0, sizeof(pt));
		printf(" %d", (int) rg_env_open_cached(pt, oldenv, oldlen, ad, adlen, key, &kc));
		printf(" %.*s\n", (int) strlen(msg), pt);
		rg_env_key_cache_clear(&kc);
	}

	printf("b64 %d %d %d %d %d %d %d\n", b64("QQ=="), b64("QUI="), b64("QUJD"), b64("QR=="),
		   b64("QQ="), b64("Q==="), b64("QU I="));

	printf("b64_against_sodium %d\n", b64_against_sodium());

	cached_against_sodium(root, argv[1]);

	/* nonces stay distinct across runs and when the owner changes */
	{
		static unsigned char many[3000][24];
		int			dup = 0;

		for (int i = 0; i < 3000; i++)
		{
			if (i % 700 == 0)
				rg_env_nonce_owner(1000 + i);
			rg_env_nonce(many[i]);
		}
		for (int i = 0; i < 3000; i++)
			for (int j = i + 1; j < 3000; j++)
				dup += memcmp(many[i], many[j], 24) == 0;
		printf("nonces_distinct %d\n", dup == 0);
	}

	/* a forked child never hands out a nonce its parent could hand out */
	rg_env_nonce(nonce);
	if (pipe(pipefd) != 0)
		return 1;
	if (fork() == 0)
	{
		rg_env_nonce(other);
		if (write(pipefd[1], other, 24) != 24)
			_exit(1);
		_exit(0);
	}
	wait(NULL);
	if (read(pipefd[0], other, 24) != 24)
		return 1;
	rg_env_nonce(nonce);
	printf("fork_nonce_differs %d\n", memcmp(nonce, other, 24) != 0);
	return 0;
}
C
ok "the envelope core compiles without PostgreSQL" \
	gcc -O1 -Wall -Wextra -Werror -I"$RG_TOP/src" -o "$tmp/t" "$tmp/t.c" "$RG_TOP/src/envelope.c" -lsodium -lpthread
out=$("$tmp/t" "$tmp")
field() { printf '%s\n' "$out" | sed -n "s/^$1 //p"; }

# the root key 00 01 02 ... 1f, as a key file
/usr/bin/python3 -c 'print(bytes(range(32)).hex())' >"$tmp/root.key"
is "$(field column_key)" "$(/usr/bin/python3 -c "
import sys; sys.path.insert(0, '$RG_TOP/test/reference'); import crypto
print(crypto.kdf(bytes(range(32)), 7, b'rgcolkey').hex())")" "column key derivation matches hashlib BLAKE2b"
is "$(field blind_index_12)" "$(ref bidx "$tmp/root.key" 7 12 110101199003077531)" "a 12-bit blind index matches the Python client"
is "$(field blind_index_12_prepared)" "$(ref bidx "$tmp/root.key" 7 12 110101199003077531)" "... and so does the one from the prepared key"
is "$(field blind_prepared_against_oneshot)" "0" "the prepared key gives the one-shot blind index for every length to 300 bytes and 1 to 256 bits"
is "$(field ad)" "$(/usr/bin/python3 -c "
import sys; sys.path.insert(0, '$RG_TOP/test/reference'); import crypto
print(crypto.associated_data(7, 'public', 'customers', 'national_id', ['42']).hex())")" "associated data matches the documented encoding"
is "$(ref open "$tmp/root.key" public customers national_id "$(field sealed)" 42)" "110101199003077531" \
	"the Python client opens what the C core sealed"
is "$(field parse)" "0 7" "the header gives key id 7"
is "$(field open)" "0" "the right row opens"
is "$(field plaintext)" "110101199003077531" "... to the plaintext"
is "$(field open_other_row)" "4" "another row's associated data fails authentication"
is "$(field open_flipped)" "4" "a flipped ciphertext bit fails authentication"
is "$(field open_truncated)" "1" "a value shorter than the overhead is too short"
is "$(field open_version)" "2" "an unknown format version is refused"
is "$(field b64)" "1 2 3 -1 -1 -1 -1" "base64 is decoded strictly (padding, leftover bits, whitespace)"
is "$(field b64_against_sodium)" "0" "base64 encodes and decodes exactly as libsodium's (every length to 300 bytes, 12,000 mutations)"
is "$(field open_old)" "0 110101199003077531 0 110101199003077531" \
	"a value the previous release sealed (random nonce) opens, without and through a subkey cache"
is "$(field cached_mismatch)" "0" "140,000 values of two keys alternating, sealed through subkey caches: byte for byte libsodium's XChaCha20-Poly1305"
is "$(field cached_unopened)" "0" "... and each opens through the caches, also right after a failed open"
is "$(field cached_old_unopened)" "0" "values with random nonces open through the same caches"
is "$(field cached_tamper_opened)" "0" "a flipped bit in a nonce prefix fails authentication"
is "$(field cached_runs)" "3 0" "nonces come in runs: a counter from 0 under one prefix, a new prefix after 65,536 and on an owner change"
is "$(field cached_nonce_dups)" "0" "... and all 140,000 are distinct"
for col in national_id phone; do
	is "$(ref check "$tmp/root.key" public customers "$col" <"$tmp/$col.tsv")" "checked 70000, wrong 0" \
		"PyNaCl opens all 70,000 $col values and seals them to the same bytes"
done
is "$(field nonces_distinct)" "1" "3,000 nonces across runs and owner changes are all distinct"
is "$(field fork_nonce_differs)" "1" "a forked child draws its own nonces"
rm -rf "$RG_TOP/test/reference/__pycache__"
done_testing
