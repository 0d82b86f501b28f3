#!/usr/bin/env bash
# The pure-C envelope core (src/envelope.c, no PostgreSQL) on its own: key derivation and
# blind indexes against the independent Python client, sealing and opening, strict base64
# (the encoder and decoder against libsodium's), and fresh nonces after fork.
set -u
. "$RG_TOP/test/lib.sh"
. "$RG_TOP/test/shell/tap.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ref() { /usr/bin/python3 "$RG_TOP/test/reference/crypto.py" "$@"; }

cat >"$tmp/t.c" <<'C'
#include <stdio.h>
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

int main(void)
{
	unsigned char root[32], key[32], bidx[32], ad[64], env[128], pt[64], nonce[24], other[24];
	const char *msg = "110101199003077531";
	size_t adlen = 5;
	uint32_t kid = 0;
	char text[256];
	int pipefd[2];

	if (sodium_init() < 0)
		return 1;
	for (int i = 0; i < 32; i++)
		root[i] = (unsigned char) i;
	rg_env_derive_column_key(key, root, 7);
	hex("column_key", key, 32);
	rg_env_derive_blind_key(bidx, root, 7);
	rg_env_blind_index(pt, 12, (const unsigned char *) msg, strlen(msg), bidx);
	hex("blind_index_12", pt, rg_env_blind_index_bytes(12));

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

	printf("b64 %d %d %d %d %d %d %d\n", b64("QQ=="), b64("QUI="), b64("QUJD"), b64("QR=="),
		   b64("QQ="), b64("Q==="), b64("QU I="));

	printf("b64_against_sodium %d\n", b64_against_sodium());

	/* nonces stay distinct across blocks and when the owner changes */
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
out=$("$tmp/t")
field() { printf '%s\n' "$out" | sed -n "s/^$1 //p"; }

# the root key 00 01 02 ... 1f, as a key file
/usr/bin/python3 -c 'print(bytes(range(32)).hex())' >"$tmp/root.key"
is "$(field column_key)" "$(/usr/bin/python3 -c "
import sys; sys.path.insert(0, '$RG_TOP/test/reference'); import crypto
print(crypto.kdf(bytes(range(32)), 7, b'rgcolkey').hex())")" "column key derivation matches hashlib BLAKE2b"
is "$(field blind_index_12)" "$(ref bidx "$tmp/root.key" 7 12 110101199003077531)" "a 12-bit blind index matches the Python client"
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
is "$(field nonces_distinct)" "1" "3,000 nonces across blocks and owner changes are all distinct"
is "$(field fork_nonce_differs)" "1" "a forked child draws its own nonces"
rm -rf "$RG_TOP/test/reference/__pycache__"
done_testing
