/*
 * fuzz_envelope.c
 *		Sealed values (src/envelope.c) under hostile bytes: parsing and opening arbitrary
 *		envelopes, canonical base64 both ways, key derivation, sealing round trips, and
 *		tampering.  Invariants: a sealed value opens to its plaintext under its key and
 *		associated data; a changed byte, a different associated data or key never opens;
 *		base64 that decodes re-encodes to the same text; blind indexes keep their width.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "envelope.h"
#include "fuzz_input.h"

#define MAX_PT 1024

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Open as the server does: the key id comes from the envelope itself, and both the
 * column key and the associated data's header follow it.
 */
static RgEnvStatus
open_as_server(unsigned char *pt, const unsigned char *env, size_t len,
			   const unsigned char root[RG_ENV_KEY_BYTES], const uint8_t *field, size_t flen)
{
	unsigned char ad[5 + 4 + 255];
	unsigned char key[RG_ENV_KEY_BYTES];
	size_t		adlen = 5;
	uint32_t	key_id;
	RgEnvStatus st = rg_env_parse(env, len, &key_id);

	if (st != RG_ENV_OK)
		return st;
	rg_env_ad_header(ad, key_id);
	rg_env_put_field(ad, &adlen, (const char *) field, flen);
	FUZZ_CHECK(rg_env_derive_column_key(key, root, key_id) == 0);
	return rg_env_open(pt, env, len, ad, adlen, key);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	ready = 0;
	FuzzInput	in = {data, size};
	unsigned char root[RG_ENV_KEY_BYTES];
	unsigned char key[RG_ENV_KEY_BYTES];
	unsigned char other[RG_ENV_KEY_BYTES];
	unsigned char ad[5 + 4 + 255];
	size_t		adlen = 5;
	uint32_t	key_id;
	const uint8_t *pt,
			   *field;
	size_t		ptlen,
				flen;
	unsigned char env[MAX_PT + RG_ENV_OVERHEAD];
	unsigned char opened[MAX_PT + RG_ENV_OVERHEAD];
	char		b64[RG_B64_LEN(MAX_PT + RG_ENV_OVERHEAD) + 1];
	unsigned char back[MAX_PT + RG_ENV_OVERHEAD];
	size_t		backlen;
	uint32_t	parsed;
	size_t		envlen;

	if (!ready)
	{
		FUZZ_CHECK(sodium_init() >= 0);
		ready = 1;
	}

	/* keys derived from a root taken from the input */
	fuzz_take(&in, root, sizeof(root));
	key_id = fuzz_u32(&in);
	FUZZ_CHECK(rg_env_derive_column_key(key, root, key_id) == 0);
	FUZZ_CHECK(rg_env_derive_column_key(other, root, key_id + 1) == 0);
	FUZZ_CHECK(memcmp(key, other, sizeof(key)) != 0);

	/* associated data: the header, then one field */
	rg_env_ad_header(ad, key_id);
	field = fuzz_bytes(&in, &flen);
	rg_env_put_field(ad, &adlen, (const char *) field, flen);

	/* seal, parse, open (directly, and as the server does) */
	pt = fuzz_bytes(&in, &ptlen);
	envlen = ptlen + RG_ENV_OVERHEAD;
	rg_env_seal(env, pt, ptlen, ad, adlen, key_id, key);
	FUZZ_CHECK(rg_env_parse(env, envlen, &parsed) == RG_ENV_OK && parsed == key_id);
	FUZZ_CHECK(rg_env_open(opened, env, envlen, ad, adlen, key) == RG_ENV_OK);
	FUZZ_CHECK(ptlen == 0 || memcmp(opened, pt, ptlen) == 0);
	FUZZ_CHECK(open_as_server(opened, env, envlen, root, field, flen) == RG_ENV_OK);
	FUZZ_CHECK(ptlen == 0 || memcmp(opened, pt, ptlen) == 0);

	/* the text form round-trips */
	rg_env_to_base64(b64, env, envlen);
	FUZZ_CHECK(strlen(b64) == RG_B64_LEN(envlen));
	FUZZ_CHECK(rg_env_from_base64(back, sizeof(back), &backlen, b64, strlen(b64)));
	FUZZ_CHECK(backlen == envlen && memcmp(back, env, envlen) == 0);
	/* ... and does not fit a buffer one byte too small */
	FUZZ_CHECK(!rg_env_from_base64(back, envlen - 1, &backlen, b64, strlen(b64)));

	/* a wrong key or wrong associated data never opens */
	FUZZ_CHECK(rg_env_open(opened, env, envlen, ad, adlen, other) == RG_ENV_AUTH_FAILED);
	FUZZ_CHECK(rg_env_open(opened, env, envlen, ad, adlen - (flen > 0 ? 1 : 0) - 1, key)
			   != RG_ENV_OK);

	/*
	 * nor does any changed byte: a changed version fails to parse, a changed key id
	 * selects another key and header, anything else fails the tag
	 */
	{
		size_t		at = (size_t) fuzz_range(&in, 0, (int64_t) envlen - 1);
		uint8_t		flip = fuzz_u8(&in);

		env[at] ^= (unsigned char) (flip ? flip : 1);
		FUZZ_CHECK(open_as_server(opened, env, envlen, root, field, flen) != RG_ENV_OK);
		if (at >= 5)
			FUZZ_CHECK(rg_env_open(opened, env, envlen, ad, adlen, key) != RG_ENV_OK);
		env[at] ^= (unsigned char) (flip ? flip : 1);
	}
	/* nor a truncated one */
	{
		size_t		cut = (size_t) fuzz_range(&in, 1, (int64_t) envlen);

		FUZZ_CHECK(open_as_server(opened, env, envlen - cut, root, field, flen) != RG_ENV_OK);
	}

	/* blind indexes: width and cleared low bits */
	{
		int			bits = (int) fuzz_range(&in, 1, 256);
		size_t		nb = rg_env_blind_index_bytes(bits);
		unsigned char idx[33];

		FUZZ_CHECK(nb >= 1 && nb <= 32 && nb * 8 >= (size_t) bits && nb * 8 < (size_t) bits + 8);
		memset(idx, 0xA5, sizeof(idx));
		rg_env_blind_index(idx, bits, pt, ptlen, key);
		FUZZ_CHECK(idx[nb] == 0xA5);
		if (bits % 8)
			FUZZ_CHECK((idx[nb - 1] & (0xFF >> (bits % 8))) == 0);
	}

	/* the rest of the input, as an envelope and as base64 text from a column */
	{
		size_t		restlen = in.left;
		unsigned char *rest = malloc(restlen + 1);
		unsigned char *out = malloc(restlen + 1);
		size_t		outlen;

		memcpy(rest, in.p, restlen);
		if (rg_env_parse(rest, restlen, &parsed) == RG_ENV_OK)
		{
			/* forging a tag is out of reach: a random envelope never opens */
			FUZZ_CHECK(open_as_server(out, rest, restlen, root, field, flen) == RG_ENV_AUTH_FAILED);
		}
		if (rg_env_from_base64(out, restlen, &outlen, (const char *) rest, restlen))
		{
			char	   *again = malloc(RG_B64_LEN(outlen) + 1);

			FUZZ_CHECK(outlen <= restlen);
			rg_env_to_base64(again, out, outlen);
			/* only canonical text decodes: encoding gives the text back */
			FUZZ_CHECK(strlen(again) == restlen && memcmp(again, rest, restlen) == 0);
			free(again);
		}
		free(rest);
		free(out);
	}
	return 0;
}
