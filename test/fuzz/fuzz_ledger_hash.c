/*
 * fuzz_ledger_hash.c
 *		The ledger's hash chain and digest (src/ledger_hash.c) on arbitrary records.
 *		Invariants: hashing is deterministic; the encoding is unambiguous, so moving a
 *		byte from one text field to the next, turning an empty text into a NULL, changing
 *		the side, the position, the previous hash or any number changes the hash; the
 *		digest depends on every account's head.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz_input.h"
#include "ledger_hash.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
take_text(FuzzInput *in, LedgerText *t)
{
	size_t		len;
	const uint8_t *p = fuzz_bytes(in, &len);

	t->data = (const char *) p;
	t->len = len;
	t->present = (fuzz_u8(in) & 3) != 0;
}

static void
hash(const unsigned char *prev, char side, int64_t seq, const LedgerRecord *r,
	 unsigned char *out)
{
	FUZZ_CHECK(ledger_chain_hash(prev, side, seq, r, out) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzInput	in = {data, size};
	LedgerRecord r,
				m;
	unsigned char prev[LEDGER_HASH_BYTES],
				h1[LEDGER_HASH_BYTES],
				h2[LEDGER_HASH_BYTES];
	char		side = (fuzz_u8(&in) & 1) ? 'C' : 'D';
	int64_t		seq = fuzz_i64(&in);
	int			genesis = fuzz_u8(&in) & 1;
	LedgerText *texts[4];
	char		joined[2 * 256 + 1];

	memset(&r, 0, sizeof(r));
	fuzz_take(&in, prev, sizeof(prev));
	r.transfer_id = fuzz_i64(&in);
	r.debit_account = fuzz_i64(&in);
	r.credit_account = fuzz_i64(&in);
	r.amount = fuzz_i64(&in);
	r.pending_id = fuzz_i64(&in);
	r.created_at = fuzz_i64(&in);
	r.phase = (LedgerPhase) (fuzz_u8(&in) & 3);
	take_text(&in, &r.kind);
	take_text(&in, &r.reference);
	take_text(&in, &r.idempotency_key);
	take_text(&in, &r.created_by);

	hash(genesis ? NULL : prev, side, seq, &r, h1);
	hash(genesis ? NULL : prev, side, seq, &r, h2);
	FUZZ_CHECK(memcmp(h1, h2, sizeof(h1)) == 0);

	/* the other side, the next position, another previous hash */
	hash(genesis ? NULL : prev, side == 'D' ? 'C' : 'D', seq, &r, h2);
	FUZZ_CHECK(memcmp(h1, h2, sizeof(h1)) != 0);
	hash(genesis ? NULL : prev, side, seq ^ 1, &r, h2);
	FUZZ_CHECK(memcmp(h1, h2, sizeof(h1)) != 0);
	if (genesis)
	{
		static const unsigned char zeros[LEDGER_HASH_BYTES];

		hash(zeros, side, seq, &r, h2);
		FUZZ_CHECK(memcmp(h1, h2, sizeof(h1)) == 0);	/* NULL means the zero hash */
	}
	else
	{
		prev[fuzz_range(&in, 0, LEDGER_HASH_BYTES - 1)] ^= 0x40;
		hash(prev, side, seq, &r, h2);
		FUZZ_CHECK(memcmp(h1, h2, sizeof(h1)) != 0);
	}

	/* a changed number */
	m = r;
	switch (fuzz_u8(&in) % 7)
	{
		case 0: m.transfer_id ^= 1; break;
		case 1: m.debit_account ^= 1; break;
		case 2: m.credit_account ^= 1; break;
		case 3: m.amount ^= 1; break;
		case 4: m.pending_id ^= 1; break;
		case 5: m.created_at ^= 1; break;
		default: m.phase = (LedgerPhase) ((m.phase + 1) & 3); break;
	}
	hash(genesis ? NULL : prev, side, seq, &m, h1);
	hash(genesis ? NULL : prev, side, seq, &r, h2);
	FUZZ_CHECK(memcmp(h1, h2, sizeof(h1)) != 0);

	/* texts: a byte moved across a boundary, or NULL against empty */
	texts[0] = &m.kind;
	texts[1] = &m.reference;
	texts[2] = &m.idempotency_key;
	texts[3] = &m.created_by;
	m = r;
	{
		int			i = (int) fuzz_range(&in, 0, 2);
		LedgerText *a = texts[i],
				   *b = texts[i + 1];

		if (a->present && b->present && a->len > 0)
		{
			memcpy(joined, a->data, a->len);
			memcpy(joined + a->len, b->data, b->len);
			a->data = joined;
			b->data = joined + a->len - 1;
			a->len--;
			b->len++;
		}
		else if (!a->present)
		{
			a->present = true;
			a->len = 0;
		}
		else
			a->present = false;
	}
	hash(genesis ? NULL : prev, side, seq, &m, h1);
	FUZZ_CHECK(memcmp(h1, h2, sizeof(h1)) != 0);

	/* the digest */
	{
		LedgerDigest d1,
					d2;
		unsigned char o1[LEDGER_HASH_BYTES],
					o2[LEDGER_HASH_BYTES];
		int			accounts = (int) fuzz_range(&in, 1, 8);
		int			changed = (int) fuzz_range(&in, 0, accounts - 1);

		FUZZ_CHECK(ledger_digest_init(&d1) == 0 && ledger_digest_init(&d2) == 0);
		for (int i = 0; i < accounts; i++)
		{
			ledger_digest_add(&d1, i + 1, seq, h1);
			ledger_digest_add(&d2, i + 1, seq, i == changed ? h2 : h1);
		}
		ledger_digest_final(&d1, o1);
		ledger_digest_final(&d2, o2);
		FUZZ_CHECK(memcmp(o1, o2, sizeof(o1)) != 0);
	}
	return 0;
}
