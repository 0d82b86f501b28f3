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
be64(unsigned char *b, int64_t v)
{
	uint64_t	u = (uint64_t) v;

	b[0] = (unsigned char) (u >> 56);
	b[1] = (unsigned char) (u >> 48);
	b[2] = (unsigned char) (u >> 40);
	b[3] = (unsigned char) (u >> 32);
	b[4] = (unsigned char) (u >> 24);
	b[5] = (unsigned char) (u >> 16);
	b[6] = (unsigned char) (u >> 8);
	b[7] = (unsigned char) u;
}

static void
put_i64(crypto_generichash_state *st, int64_t v)
{
	unsigned char b[8];

	be64(b, v);
	crypto_generichash_update(st, b, sizeof(b));
}

/*
 * A chain record's encoding is gathered here and handed to BLAKE2b in one call (a
 * record with long texts in a few): the same bytes in the same order, so the same hash,
 * without a call per field.
 */
typedef struct RecordSink
{
	crypto_generichash_state st;
	size_t		len;
	unsigned char buf[256];
} RecordSink;

static void
sink_put(RecordSink *s, const void *p, size_t n)
{
	if (s->len + n > sizeof(s->buf))
	{
		crypto_generichash_update(&s->st, s->buf, s->len);
		s->len = 0;
		if (n > sizeof(s->buf))
		{
			crypto_generichash_update(&s->st, p, n);
			return;
		}
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

static void
sink_i64(RecordSink *s, int64_t v)
{
	unsigned char b[8];

	be64(b, v);
	sink_put(s, b, sizeof(b));
}

static void
sink_byte(RecordSink *s, unsigned char b)
{
	sink_put(s, &b, 1);
}

/* a presence byte, then the length and the bytes when present */
static void
sink_text(RecordSink *s, const LedgerText *t)
{
	sink_byte(s, t->present ? 1 : 0);
	if (t->present)
	{
		sink_i64(s, (int64_t) t->len);
		sink_put(s, t->data, t->len);
	}
}

int
ledger_chain_hash(const unsigned char *prev, char side, int64_t seq,
				  const LedgerRecord *rec, unsigned char *out)
{
	static const unsigned char zeros[LEDGER_HASH_BYTES];
	RecordSink	s;

	if (sodium_init() < 0)
		return -1;
	crypto_generichash_init(&s.st, NULL, 0, LEDGER_HASH_BYTES);
	s.len = 0;
	sink_put(&s, CHAIN_DOMAIN, strlen(CHAIN_DOMAIN));
	sink_put(&s, prev ? prev : zeros, LEDGER_HASH_BYTES);
	sink_byte(&s, (unsigned char) side);
	sink_i64(&s, seq);
	sink_i64(&s, rec->transfer_id);
	sink_i64(&s, rec->debit_account);
	sink_i64(&s, rec->credit_account);
	sink_i64(&s, rec->amount);
	sink_byte(&s, (unsigned char) rec->phase);
	sink_i64(&s, rec->pending_id);
	sink_i64(&s, rec->created_at);
	sink_text(&s, &rec->kind);
	sink_text(&s, &rec->reference);
	sink_text(&s, &rec->idempotency_key);
	sink_text(&s, &rec->created_by);
	crypto_generichash_update(&s.st, s.buf, s.len);
	crypto_generichash_final(&s.st, out, LEDGER_HASH_BYTES);
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
