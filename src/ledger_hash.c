/*
 * ledger_hash.c
 *		Canonical encoding and BLAKE2b hashing of ledger chain records and of the
 *		digest over all accounts' chain heads.  No PostgreSQL headers: see ledger_hash.h.
 */
#include <string.h>

#include <sodium.h>

#include "ledger_hash.h"

#define CHAIN_DOMAIN "riskguard.ledger.v1"
#define DIGEST_DOMAIN "riskguard.digest.v1"

/* big-endian two's complement, so the encoding does not depend on the machine */
static void
put_i64(crypto_generichash_state *st, int64_t v)
{
	unsigned char b[8];
	uint64_t	u = (uint64_t) v;

	for (int i = 7; i >= 0; i--)
	{
		b[i] = (unsigned char) (u & 0xff);
		u >>= 8;
	}
	crypto_generichash_update(st, b, sizeof(b));
}

/* a presence byte, then the length and the bytes when present */
static void
put_text(crypto_generichash_state *st, const LedgerText *t)
{
	unsigned char flag = t->present ? 1 : 0;

	crypto_generichash_update(st, &flag, 1);
	if (t->present)
	{
		put_i64(st, (int64_t) t->len);
		crypto_generichash_update(st, (const unsigned char *) t->data, t->len);
	}
}

int
ledger_chain_hash(const unsigned char *prev, char side, int64_t seq,
				  const LedgerRecord *rec, unsigned char *out)
{
	static const unsigned char zeros[LEDGER_HASH_BYTES];
	crypto_generichash_state st;
	unsigned char b;

	if (sodium_init() < 0)
		return -1;
	crypto_generichash_init(&st, NULL, 0, LEDGER_HASH_BYTES);
	crypto_generichash_update(&st, (const unsigned char *) CHAIN_DOMAIN, strlen(CHAIN_DOMAIN));
	crypto_generichash_update(&st, prev ? prev : zeros, LEDGER_HASH_BYTES);
	b = (unsigned char) side;
	crypto_generichash_update(&st, &b, 1);
	put_i64(&st, seq);
	put_i64(&st, rec->transfer_id);
	put_i64(&st, rec->debit_account);
	put_i64(&st, rec->credit_account);
	put_i64(&st, rec->amount);
	b = (unsigned char) rec->phase;
	crypto_generichash_update(&st, &b, 1);
	put_i64(&st, rec->pending_id);
	put_i64(&st, rec->created_at);
	put_text(&st, &rec->kind);
	put_text(&st, &rec->reference);
	put_text(&st, &rec->idempotency_key);
	put_text(&st, &rec->created_by);
	crypto_generichash_final(&st, out, LEDGER_HASH_BYTES);
	return 0;
}

int
ledger_digest_init(LedgerDigest *d)
{
	crypto_generichash_state *st = (crypto_generichash_state *) d->state;

	_Static_assert(sizeof(((LedgerDigest *) 0)->state) >= sizeof(crypto_generichash_state),
				   "digest state too small");
	if (sodium_init() < 0)
		return -1;
	crypto_generichash_init(st, NULL, 0, LEDGER_HASH_BYTES);
	crypto_generichash_update(st, (const unsigned char *) DIGEST_DOMAIN, strlen(DIGEST_DOMAIN));
	return 0;
}

void
ledger_digest_add(LedgerDigest *d, int64_t account_id, int64_t head_seq,
				  const unsigned char *head_hash)
{
	static const unsigned char zeros[LEDGER_HASH_BYTES];
	crypto_generichash_state *st = (crypto_generichash_state *) d->state;

	put_i64(st, account_id);
	put_i64(st, head_seq);
	crypto_generichash_update(st, head_hash ? head_hash : zeros, LEDGER_HASH_BYTES);
}

void
ledger_digest_final(LedgerDigest *d, unsigned char *out)
{
	crypto_generichash_final((crypto_generichash_state *) d->state, out, LEDGER_HASH_BYTES);
}
