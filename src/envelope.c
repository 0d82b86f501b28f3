/*
 * envelope.c
 *		Key derivation, envelope sealing and opening, and blind indexes (see envelope.h).
 *		No postgres.h here: these are pure functions of their arguments.
 */
#include <string.h>
#include <sodium.h>

#include "envelope.h"

int
rg_env_derive_column_key(unsigned char out[RG_ENV_KEY_BYTES],
						 const unsigned char root[RG_ENV_KEY_BYTES], uint32_t key_id)
{
	return crypto_kdf_derive_from_key(out, RG_ENV_KEY_BYTES, (uint64_t) key_id,
									  RG_KDF_COLUMN_CONTEXT, root);
}

int
rg_env_derive_blind_key(unsigned char out[RG_ENV_KEY_BYTES],
						const unsigned char root[RG_ENV_KEY_BYTES], uint32_t key_id)
{
	return crypto_kdf_derive_from_key(out, RG_ENV_KEY_BYTES, (uint64_t) key_id,
									  RG_KDF_BLIND_CONTEXT, root);
}

void
rg_env_put_u32(unsigned char *buf, size_t *pos, uint32_t v)
{
	buf[*pos] = (unsigned char) (v >> 24);
	buf[*pos + 1] = (unsigned char) (v >> 16);
	buf[*pos + 2] = (unsigned char) (v >> 8);
	buf[*pos + 3] = (unsigned char) v;
	*pos += 4;
}

uint32_t
rg_env_get_u32(const unsigned char *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
		((uint32_t) p[2] << 8) | (uint32_t) p[3];
}

void
rg_env_put_field(unsigned char *buf, size_t *pos, const char *data, size_t len)
{
	rg_env_put_u32(buf, pos, (uint32_t) len);
	if (len > 0)
		memcpy(buf + *pos, data, len);
	*pos += len;
}

void
rg_env_ad_header(unsigned char ad[5], uint32_t key_id)
{
	size_t		pos = 1;

	ad[0] = RG_ENV_VERSION;
	rg_env_put_u32(ad, &pos, key_id);
}

RgEnvStatus
rg_env_parse(const unsigned char *env, size_t len, uint32_t *key_id)
{
	if (len < RG_ENV_OVERHEAD)
		return RG_ENV_TOO_SHORT;
	if (env[0] != RG_ENV_VERSION)
		return RG_ENV_BAD_VERSION;
	*key_id = rg_env_get_u32(env + 1);
	return RG_ENV_OK;
}

void
rg_env_seal(unsigned char *out, const unsigned char *pt, size_t ptlen,
			const unsigned char *ad, size_t adlen, uint32_t key_id,
			const unsigned char key[RG_ENV_KEY_BYTES])
{
	unsigned long long clen;
	size_t		pos = 1;

	out[0] = RG_ENV_VERSION;
	rg_env_put_u32(out, &pos, key_id);
	randombytes_buf(out + 5, RG_ENV_NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + RG_ENV_HEADER_BYTES, &clen,
											   pt, ptlen, ad, adlen, NULL,
											   out + 5, key);
}

RgEnvStatus
rg_env_open(unsigned char *pt, const unsigned char *env, size_t len,
			const unsigned char *ad, size_t adlen,
			const unsigned char key[RG_ENV_KEY_BYTES])
{
	unsigned long long ptlen;
	uint32_t	key_id;
	RgEnvStatus st = rg_env_parse(env, len, &key_id);

	if (st != RG_ENV_OK)
		return st;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &ptlen, NULL,
												   env + RG_ENV_HEADER_BYTES,
												   len - RG_ENV_HEADER_BYTES,
												   ad, adlen, env + 5, key) != 0)
	{
		sodium_memzero(pt, len - RG_ENV_OVERHEAD);
		return RG_ENV_AUTH_FAILED;
	}
	return RG_ENV_OK;
}

size_t
rg_env_blind_index_bytes(int bits)
{
	return (size_t) ((bits + 7) / 8);
}

void
rg_env_blind_index(unsigned char *out, int bits, const unsigned char *value, size_t len,
				   const unsigned char key[RG_ENV_KEY_BYTES])
{
	unsigned char full[crypto_generichash_BYTES];
	size_t		n = rg_env_blind_index_bytes(bits);

	crypto_generichash(full, sizeof(full), value, len, key, RG_ENV_KEY_BYTES);
	memcpy(out, full, n);
	if (bits % 8 != 0)
		out[n - 1] &= (unsigned char) (0xFF << (8 - bits % 8));
	sodium_memzero(full, sizeof(full));
}

void
rg_env_to_base64(char *out, const unsigned char *bin, size_t len)
{
	sodium_bin2base64(out, RG_B64_LEN(len) + 1, bin, len, sodium_base64_VARIANT_ORIGINAL);
}

int
rg_env_from_base64(unsigned char *out, size_t cap, size_t *outlen,
				   const char *b64, size_t b64len)
{
	const char *end = NULL;

	if (b64len % 4 != 0)
		return 0;
	if (sodium_base642bin(out, cap, b64, b64len, NULL, outlen, &end,
						  sodium_base64_VARIANT_ORIGINAL) != 0)
		return 0;
	return end == b64 + b64len;
}
