/*
 * envelope.h
 *		Sealed values: key derivation, associated data, the envelope format and blind
 *		indexes.  Pure C over libsodium, without postgres.h, so it can be unit-tested and
 *		fuzzed on its own.  README.md, section "Encryption", documents every byte.
 *
 * Envelope (binary; text columns hold it as standard base64 with padding):
 *
 *	 offset  size  field
 *	 0       1     format version, 0x01
 *	 1       4     key id, unsigned big-endian
 *	 5       24    nonce: a 16-byte random prefix, then an 8-byte big-endian counter
 *	 29      n+16  XChaCha20-Poly1305-IETF ciphertext of the n plaintext bytes, then tag
 *
 * Associated data: the envelope's first 5 bytes (version and key id), then the fields
 * schema, table, column, each as a 4-byte big-endian length and the UTF-8 bytes, then the
 * number of primary key columns as 4 bytes big-endian, then each primary key value's
 * text form as a length-prefixed field.
 *
 * Nonces.  A process hands out nonces in runs: a run is 16 random bytes from the
 * operating system's generator (the prefix) followed by an 8-byte big-endian counter
 * from 0 to at most RG_ENV_NONCE_RUN - 1; then a fresh prefix starts the next run.  A
 * run belongs to the process that drew it: it is wiped in a forked child and when the
 * caller names another owner, so no two nonces of a process, nor of two processes, are
 * the same (short of two 128-bit random prefixes colliding).  What this reveals: values
 * sealed in one run share their first 16 nonce bytes (so they were sealed by one
 * process, close together in time), and the counter tells in which order, and how many
 * values that process sealed in between.  Opening treats the nonce as 24 opaque bytes,
 * so values with random nonces (sealed earlier, or by another client) open the same.
 *
 * Subkeys.  XChaCha20-Poly1305 is HChaCha20(key, nonce[0..16]) as a subkey, then
 * ChaCha20-Poly1305-IETF under it with the nonce 00 00 00 00 || nonce[16..24].  Values of
 * one run share the subkey, so an RgEnvKeyCache beside each column key remembers the
 * last subkey used for sealing and the last one used for opening, and computes one only
 * when the prefix changes.  The bytes are exactly crypto_aead_xchacha20poly1305_ietf's.
 */
#ifndef RG_ENVELOPE_H
#define RG_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#define RG_ENV_VERSION		1
#define RG_ENV_KEY_BYTES	32
#define RG_ENV_NONCE_BYTES	24
#define RG_ENV_PREFIX_BYTES 16		/* the part of the nonce HChaCha20 takes */
#define RG_ENV_NONCE_RUN	65536	/* nonces per prefix, at most */
#define RG_ENV_TAG_BYTES	16
#define RG_ENV_HEADER_BYTES (1 + 4 + RG_ENV_NONCE_BYTES)
#define RG_ENV_OVERHEAD		(RG_ENV_HEADER_BYTES + RG_ENV_TAG_BYTES)
/* the length of base64 (with padding) for n bytes */
#define RG_B64_LEN(n)		((((n) + 2) / 3) * 4)

/* crypto_kdf contexts (8 bytes each) */
#define RG_KDF_COLUMN_CONTEXT	"rgcolkey"
#define RG_KDF_BLIND_CONTEXT	"rgbidxky"

/* outcome of parsing or opening an envelope */
typedef enum RgEnvStatus
{
	RG_ENV_OK = 0,
	RG_ENV_TOO_SHORT,			/* fewer bytes than an empty envelope */
	RG_ENV_BAD_VERSION,			/* first byte is not a known format version */
	RG_ENV_NOT_BASE64,			/* text form is not base64 */
	RG_ENV_AUTH_FAILED			/* tag does not verify: tampered, wrong key, wrong row */
} RgEnvStatus;

/* Derive the 32-byte key of column key key_id, or of a blind index, from the root key. */
extern int	rg_env_derive_column_key(unsigned char out[RG_ENV_KEY_BYTES],
									 const unsigned char root[RG_ENV_KEY_BYTES],
									 uint32_t key_id);
extern int	rg_env_derive_blind_key(unsigned char out[RG_ENV_KEY_BYTES],
									const unsigned char root[RG_ENV_KEY_BYTES],
									uint32_t key_id);

/* Append a length-prefixed field to buf at *pos (buf must have len + 4 bytes free). */
extern void rg_env_put_field(unsigned char *buf, size_t *pos, const char *data, size_t len);
extern void rg_env_put_u32(unsigned char *buf, size_t *pos, uint32_t v);
extern uint32_t rg_env_get_u32(const unsigned char *p);

/*
 * Write the associated data's first 5 bytes (version and key id) into ad; the caller
 * appends the fields after them.
 */
extern void rg_env_ad_header(unsigned char ad[5], uint32_t key_id);

/* Parse an envelope's header: the key id, or a status saying why it is not one. */
extern RgEnvStatus rg_env_parse(const unsigned char *env, size_t len, uint32_t *key_id);

/*
 * One HChaCha20 subkey of a column key and the nonce prefix it was computed for.  Key
 * material: keep it where the column key is kept (secure memory) and wipe it with it.
 * All bytes, so an array of them needs no alignment; all zero is empty.
 */
typedef struct RgEnvSubkey
{
	unsigned char subkey[RG_ENV_KEY_BYTES];
	unsigned char prefix[RG_ENV_PREFIX_BYTES];
	unsigned char valid;
} RgEnvSubkey;

/* The subkeys remembered for one column key: the last one sealed and opened with. */
typedef struct RgEnvKeyCache
{
	RgEnvSubkey seal;
	RgEnvSubkey open;
} RgEnvKeyCache;

/* Forget a key's subkeys (wipes them; the cache is then empty). */
extern void rg_env_key_cache_clear(RgEnvKeyCache *kc);

/*
 * Seal plaintext (pt, ptlen) into out, which must hold ptlen + RG_ENV_OVERHEAD bytes,
 * with a fresh nonce from rg_env_nonce.  ad must start with the 5 header bytes for
 * key_id.  kc is key's subkey cache, which the call reuses or refills.
 */
extern void rg_env_seal_cached(unsigned char *out, const unsigned char *pt, size_t ptlen,
							   const unsigned char *ad, size_t adlen, uint32_t key_id,
							   const unsigned char key[RG_ENV_KEY_BYTES],
							   RgEnvKeyCache *kc);

/*
 * Open an envelope of len bytes into pt, which must hold len - RG_ENV_OVERHEAD bytes;
 * on failure pt is wiped.  kc as for sealing.
 */
extern RgEnvStatus rg_env_open_cached(unsigned char *pt, const unsigned char *env,
									  size_t len, const unsigned char *ad, size_t adlen,
									  const unsigned char key[RG_ENV_KEY_BYTES],
									  RgEnvKeyCache *kc);

/* The same without a cache: the subkey is computed, used and wiped. */
extern void rg_env_seal(unsigned char *out, const unsigned char *pt, size_t ptlen,
						const unsigned char *ad, size_t adlen, uint32_t key_id,
						const unsigned char key[RG_ENV_KEY_BYTES]);
extern RgEnvStatus rg_env_open(unsigned char *pt, const unsigned char *env, size_t len,
							   const unsigned char *ad, size_t adlen,
							   const unsigned char key[RG_ENV_KEY_BYTES]);

/*
 * Blind index: keyed BLAKE2b-256 of the value, truncated to bits (1..256): the first
 * ceil(bits/8) bytes with the low bits of the last byte cleared.  out holds that many.
 */
extern size_t rg_env_blind_index_bytes(int bits);
extern void rg_env_blind_index(unsigned char *out, int bits,
							   const unsigned char *value, size_t len,
							   const unsigned char key[RG_ENV_KEY_BYTES]);

/*
 * A blind index key prepared once: keyed BLAKE2b's state (libsodium's
 * crypto_generichash_state) with the key block already absorbed, copied for each value
 * instead of set up again.  Key material (the state holds the key): keep it in secure
 * memory.  The index is the same as rg_env_blind_index's.
 */
#define RG_ENV_BLIND_STATE_BYTES 384
typedef struct RgEnvBlindKey
{
	unsigned char state[RG_ENV_BLIND_STATE_BYTES];
} RgEnvBlindKey;

extern void rg_env_blind_key_prepare(RgEnvBlindKey *bk,
									 const unsigned char key[RG_ENV_KEY_BYTES]);
extern void rg_env_blind_index_prepared(unsigned char *out, int bits,
										const unsigned char *value, size_t len,
										const RgEnvBlindKey *bk);

/*
 * A fresh nonce: the next of the process's run (see "Nonces" above).  rg_env_nonce_owner
 * names the process (its id) the caller runs in: a run drawn for another owner is never
 * continued.
 */
extern void rg_env_nonce(unsigned char out[RG_ENV_NONCE_BYTES]);
extern void rg_env_nonce_owner(long owner);

/* Base64 (standard alphabet, padded, no line breaks).  out holds RG_B64_LEN(len) + 1. */
extern void rg_env_to_base64(char *out, const unsigned char *bin, size_t len);
/*
 * Decode canonical base64 (padded, no whitespace) into out (capacity cap); *outlen is
 * set.  Returns false if the text is not that.
 */
extern int	rg_env_from_base64(unsigned char *out, size_t cap, size_t *outlen,
							   const char *b64, size_t b64len);

#endif							/* RG_ENVELOPE_H */
