/*
 * envelope.c
 *		Key derivation, envelope sealing and opening, and blind indexes (see envelope.h).
 *		No postgres.h here: these are pure functions of their arguments.
 */
#include <pthread.h>
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

/*
 * Nonces: runs of RG_ENV_NONCE_RUN, each a 16-byte prefix from the operating system's
 * generator (one getrandom per run) and an 8-byte big-endian counter (see envelope.h).
 * A run belongs to the process that drew it: a fork handler wipes it in the child, and
 * callers that know their process id pass it to rg_env_nonce_owner, so a process never
 * continues a run drawn by its parent (the postmaster never draws one: it seals
 * nothing).
 */
static unsigned char nonce_prefix[RG_ENV_PREFIX_BYTES];
static uint64_t nonce_count = RG_ENV_NONCE_RUN; /* the next counter; RUN: none drawn */
static int	nonce_atfork = 0;
static long nonce_drawn_by = 0;		/* the owner id the prefix was drawn for */
static long nonce_owner = 0;		/* the owner id given last by rg_env_nonce_owner */

static void
nonce_forget(void)
{
	sodium_memzero(nonce_prefix, sizeof(nonce_prefix));
	nonce_count = RG_ENV_NONCE_RUN;
}

void
rg_env_nonce_owner(long owner)
{
	nonce_owner = owner;
}

void
rg_env_nonce(unsigned char out[RG_ENV_NONCE_BYTES])
{
	uint64_t	n;

	if (!nonce_atfork)
	{
		pthread_atfork(NULL, NULL, nonce_forget);
		nonce_atfork = 1;
	}
	if (nonce_count >= RG_ENV_NONCE_RUN || nonce_drawn_by != nonce_owner)
	{
		randombytes_buf(nonce_prefix, sizeof(nonce_prefix));
		nonce_drawn_by = nonce_owner;
		nonce_count = 0;
	}
	n = nonce_count++;
	memcpy(out, nonce_prefix, RG_ENV_PREFIX_BYTES);
	for (int i = RG_ENV_NONCE_BYTES - 1; i >= RG_ENV_PREFIX_BYTES; i--)
	{
		out[i] = (unsigned char) n;
		n >>= 8;
	}
}

void
rg_env_key_cache_clear(RgEnvKeyCache *kc)
{
	sodium_memzero(kc, sizeof(*kc));
}

/*
 * The HChaCha20 subkey of key for the nonce's first 16 bytes: the remembered one when
 * the prefix is the same, else computed into sk.  The prefix is public (it is stored in
 * the envelope), so comparing it need not be constant-time.
 */
static inline const unsigned char *
subkey_for(RgEnvSubkey *sk, const unsigned char *nonce,
		   const unsigned char key[RG_ENV_KEY_BYTES])
{
	if (!sk->valid || memcmp(sk->prefix, nonce, RG_ENV_PREFIX_BYTES) != 0)
	{
		crypto_core_hchacha20(sk->subkey, nonce, key, NULL);
		memcpy(sk->prefix, nonce, RG_ENV_PREFIX_BYTES);
		sk->valid = 1;
	}
	return sk->subkey;
}

/* The 12-byte ChaCha20-Poly1305-IETF nonce: four zero bytes, then nonce[16..24]. */
static inline void
ietf_nonce(unsigned char npub[crypto_aead_chacha20poly1305_ietf_NPUBBYTES],
		   const unsigned char *nonce)
{
	memset(npub, 0, 4);
	memcpy(npub + 4, nonce + RG_ENV_PREFIX_BYTES, RG_ENV_NONCE_BYTES - RG_ENV_PREFIX_BYTES);
}

void
rg_env_seal_cached(unsigned char *out, const unsigned char *pt, size_t ptlen,
				   const unsigned char *ad, size_t adlen, uint32_t key_id,
				   const unsigned char key[RG_ENV_KEY_BYTES], RgEnvKeyCache *kc)
{
	unsigned char npub[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
	unsigned long long clen;
	size_t		pos = 1;
	const unsigned char *sub;

	out[0] = RG_ENV_VERSION;
	rg_env_put_u32(out, &pos, key_id);
	rg_env_nonce(out + 5);
	sub = subkey_for(&kc->seal, out + 5, key);
	ietf_nonce(npub, out + 5);
	crypto_aead_chacha20poly1305_ietf_encrypt(out + RG_ENV_HEADER_BYTES, &clen,
											  pt, ptlen, ad, adlen, NULL, npub, sub);
}

RgEnvStatus
rg_env_open_cached(unsigned char *pt, const unsigned char *env, size_t len,
				   const unsigned char *ad, size_t adlen,
				   const unsigned char key[RG_ENV_KEY_BYTES], RgEnvKeyCache *kc)
{
	unsigned char npub[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
	unsigned long long ptlen;
	uint32_t	key_id;
	const unsigned char *sub;
	RgEnvStatus st = rg_env_parse(env, len, &key_id);

	if (st != RG_ENV_OK)
		return st;
	sub = subkey_for(&kc->open, env + 5, key);
	ietf_nonce(npub, env + 5);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(pt, &ptlen, NULL,
												  env + RG_ENV_HEADER_BYTES,
												  len - RG_ENV_HEADER_BYTES,
												  ad, adlen, npub, sub) != 0)
	{
		sodium_memzero(pt, len - RG_ENV_OVERHEAD);
		return RG_ENV_AUTH_FAILED;
	}
	return RG_ENV_OK;
}

void
rg_env_seal(unsigned char *out, const unsigned char *pt, size_t ptlen,
			const unsigned char *ad, size_t adlen, uint32_t key_id,
			const unsigned char key[RG_ENV_KEY_BYTES])
{
	RgEnvKeyCache kc;

	rg_env_key_cache_clear(&kc);
	rg_env_seal_cached(out, pt, ptlen, ad, adlen, key_id, key, &kc);
	rg_env_key_cache_clear(&kc);
}

RgEnvStatus
rg_env_open(unsigned char *pt, const unsigned char *env, size_t len,
			const unsigned char *ad, size_t adlen,
			const unsigned char key[RG_ENV_KEY_BYTES])
{
	RgEnvKeyCache kc;
	RgEnvStatus st;

	rg_env_key_cache_clear(&kc);
	st = rg_env_open_cached(pt, env, len, ad, adlen, key, &kc);
	rg_env_key_cache_clear(&kc);
	return st;
}

size_t
rg_env_blind_index_bytes(int bits)
{
	return (size_t) ((bits + 7) / 8);
}

/* The first bits of the full hash into out, the rest of its last byte cleared; full wiped. */
static void
truncate_blind_index(unsigned char *out, int bits,
					 unsigned char full[crypto_generichash_BYTES])
{
	size_t		n = rg_env_blind_index_bytes(bits);

	memcpy(out, full, n);
	if (bits % 8 != 0)
		out[n - 1] &= (unsigned char) (0xFF << (8 - bits % 8));
	sodium_memzero(full, crypto_generichash_BYTES);
}

void
rg_env_blind_index(unsigned char *out, int bits, const unsigned char *value, size_t len,
				   const unsigned char key[RG_ENV_KEY_BYTES])
{
	unsigned char full[crypto_generichash_BYTES];

	crypto_generichash(full, sizeof(full), value, len, key, RG_ENV_KEY_BYTES);
	truncate_blind_index(out, bits, full);
}

_Static_assert(sizeof(crypto_generichash_state) == RG_ENV_BLIND_STATE_BYTES,
			   "RG_ENV_BLIND_STATE_BYTES is libsodium's BLAKE2b state size");

void
rg_env_blind_key_prepare(RgEnvBlindKey *bk, const unsigned char key[RG_ENV_KEY_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, RG_ENV_KEY_BYTES, crypto_generichash_BYTES);
	memcpy(bk->state, &st, sizeof(st));
	sodium_memzero(&st, sizeof(st));
}

/*
 * The state is copied into an aligned one on the stack (the stored bytes need no
 * alignment), and that copy, which holds the key, is wiped after use.
 */
void
rg_env_blind_index_prepared(unsigned char *out, int bits, const unsigned char *value,
							size_t len, const RgEnvBlindKey *bk)
{
	crypto_generichash_state st;
	unsigned char full[crypto_generichash_BYTES];

	memcpy(&st, bk->state, sizeof(st));
	crypto_generichash_update(&st, value, len);
	crypto_generichash_final(&st, full, sizeof(full));
	sodium_memzero(&st, sizeof(st));
	truncate_blind_index(out, bits, full);
}

static const char b64_alphabet[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/*
 * Encoding: a table of the two characters for each 12-bit value, so a group of three
 * bytes takes two lookups.  What is encoded is an envelope (ciphertext, nonce, key id),
 * none of it secret, so it need not be constant-time like sodium_bin2base64.
 */
static char b64_pairs[4096][2];
static int	b64_pairs_ready = 0;

static void
b64_pairs_init(void)
{
	for (int v = 0; v < 4096; v++)
	{
		b64_pairs[v][0] = b64_alphabet[v >> 6];
		b64_pairs[v][1] = b64_alphabet[v & 63];
	}
	b64_pairs_ready = 1;
}

void
rg_env_to_base64(char *out, const unsigned char *bin, size_t len)
{
	size_t		i = 0;
	char	   *o = out;

	if (!b64_pairs_ready)
		b64_pairs_init();
	for (; i + 3 <= len; i += 3)
	{
		uint32_t	v = ((uint32_t) bin[i] << 16) | ((uint32_t) bin[i + 1] << 8) | bin[i + 2];

		memcpy(o, b64_pairs[v >> 12], 2);
		memcpy(o + 2, b64_pairs[v & 4095], 2);
		o += 4;
	}
	if (len - i == 1)
	{
		o[0] = b64_alphabet[bin[i] >> 2];
		o[1] = b64_alphabet[(bin[i] & 3) << 4];
		o[2] = '=';
		o[3] = '=';
		o += 4;
	}
	else if (len - i == 2)
	{
		o[0] = b64_alphabet[bin[i] >> 2];
		o[1] = b64_alphabet[((bin[i] & 3) << 4) | (bin[i + 1] >> 4)];
		o[2] = b64_alphabet[(bin[i + 1] & 15) << 2];
		o[3] = '=';
		o += 4;
	}
	*o = '\0';
}

/*
 * Decoding tables: the value of each alphabet character already shifted to its place in
 * a group of four (6 bits each, the first character highest); every other byte, '='
 * included, has bits above the 24 a group fills.  A group decodes to the OR of its four
 * characters' entries, and is valid when nothing above bit 23 is set.
 */
#define B64_BAD 0xFF000000u
static uint32_t b64_dec[4][256];
static unsigned char b64_pos[256];	/* the value of a character, or 255 */
static int	b64_ready = 0;

static void
b64_init(void)
{
	for (int i = 0; i < 256; i++)
	{
		b64_pos[i] = 255;
		for (int k = 0; k < 4; k++)
			b64_dec[k][i] = B64_BAD;
	}
	for (int v = 0; v < 64; v++)
	{
		unsigned char ch = (unsigned char) b64_alphabet[v];

		b64_pos[ch] = (unsigned char) v;
		for (int k = 0; k < 4; k++)
			b64_dec[k][ch] = (uint32_t) v << (18 - 6 * k);
	}
	b64_ready = 1;
}

static inline uint32_t
b64_group(const unsigned char *in)
{
	return b64_dec[0][in[0]] | b64_dec[1][in[1]] | b64_dec[2][in[2]] | b64_dec[3][in[3]];
}

int
rg_env_from_base64(unsigned char *out, size_t cap, size_t *outlen,
				   const char *b64, size_t b64len)
{
	const unsigned char *in = (const unsigned char *) b64;
	size_t		pad = 0;
	size_t		n;
	size_t		o = 0;
	size_t		i = 0;
	size_t		body;
	uint32_t	bad = 0;

	if (!b64_ready)
		b64_init();
	if (b64len % 4 != 0)
		return 0;
	if (b64len == 0)
	{
		*outlen = 0;
		return 1;
	}
	if (in[b64len - 1] == '=')
		pad++;
	if (b64len >= 2 && in[b64len - 2] == '=')
		pad++;
	n = b64len / 4 * 3 - pad;
	if (n > cap)
		return 0;

	/*
	 * Every group but the last: four alphabet characters, no padding.  Two groups at a
	 * time make six bytes, stored with one 8-byte write while the buffer has room for
	 * it (the two bytes past the six are overwritten next); validity is checked once,
	 * at the end, since a bad character sets bits no good one does.
	 */
	body = b64len - 4;
	for (; i + 8 <= body && o + 8 <= cap; i += 8)
	{
		uint32_t	a = b64_group(in + i);
		uint32_t	b = b64_group(in + i + 4);
		uint64_t	v = ((uint64_t) a << 40) | ((uint64_t) b << 16);

		bad |= a | b;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		memcpy(out + o, &v, 8);
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		v = __builtin_bswap64(v);
		memcpy(out + o, &v, 8);
#else
		for (int k = 0; k < 6; k++)
			out[o + k] = (unsigned char) (v >> (56 - 8 * k));
#endif
		o += 6;
	}
	for (; i < body; i += 4)
	{
		uint32_t	v = b64_group(in + i);

		bad |= v;
		out[o] = (unsigned char) (v >> 16);
		out[o + 1] = (unsigned char) (v >> 8);
		out[o + 2] = (unsigned char) v;
		o += 3;
	}
	if ((bad & B64_BAD) != 0)
		return 0;

	/* the last group, where padding may end the text */
	{
		unsigned char a = b64_pos[in[i]];
		unsigned char b = b64_pos[in[i + 1]];
		unsigned char c = b64_pos[in[i + 2]];
		unsigned char d = b64_pos[in[i + 3]];

		if (a == 255 || b == 255)
			return 0;
		if (pad == 0 && (c == 255 || d == 255))
			return 0;
		if (pad == 1 && c == 255)
			return 0;
		out[o++] = (unsigned char) ((a << 2) | (b >> 4));
		if (pad < 2)
		{
			out[o++] = (unsigned char) ((b << 4) | (c >> 2));
			if (pad == 0)
				out[o++] = (unsigned char) ((c << 6) | d);
			else if ((c & 3) != 0)
				return 0;		/* non-canonical: leftover bits */
		}
		else if ((b & 15) != 0)
			return 0;			/* non-canonical: leftover bits */
	}
	*outlen = o;
	return 1;
}
