/*
 * ledger_hash.h
 *		The ledger's per-account hash chain and digest: pure computations over plain C
 *		values (no postgres.h), so they can be unit-tested and fuzzed on their own.
 *
 * Each transfer carries, for its debit and for its credit account, the hash
 *
 *	  h_n = BLAKE2b-256(key = none, "riskguard.ledger.v1" || h_{n-1} || record)
 *
 * where h_0 is 32 zero bytes and record is the canonical encoding of the transfer's
 * immutable fields and its place in that account's chain (see ledger_chain_hash).
 * The digest is BLAKE2b-256 over ("riskguard.digest.v1", then per account in id order:
 * id, chain length, head hash).
 */
#ifndef RG_LEDGER_HASH_H
#define RG_LEDGER_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LEDGER_HASH_BYTES 32

/* the phase of a transfer as written, which later status changes cannot alter */
typedef enum LedgerPhase
{
	LEDGER_PHASE_POSTED = 0,	/* single-phase posting */
	LEDGER_PHASE_HOLD = 1,		/* pending transfer reserving funds */
	LEDGER_PHASE_POST = 2,		/* completion posting a pending transfer */
	LEDGER_PHASE_VOID = 3		/* completion voiding a pending transfer */
} LedgerPhase;

/* a length-counted string that may be absent (SQL NULL) */
typedef struct LedgerText
{
	const char *data;
	size_t		len;
	bool		present;
} LedgerText;

/* the fields of one transfer that the chain covers */
typedef struct LedgerRecord
{
	int64_t		transfer_id;
	int64_t		debit_account;
	int64_t		credit_account;
	int64_t		amount;
	int64_t		pending_id;		/* 0 when none */
	int64_t		created_at;		/* microseconds since 2000-01-01 UTC */
	LedgerPhase phase;
	LedgerText	kind;
	LedgerText	reference;
	LedgerText	idempotency_key;
	LedgerText	created_by;
} LedgerRecord;

/*
 * ledger_chain_hash: the chain hash of rec on one account's side ('D' debit, 'C'
 * credit), at position seq (1 for the account's first transfer), following prev
 * (LEDGER_HASH_BYTES, or NULL for the genesis hash of zeros).  Returns 0, or -1 when
 * libsodium could not be initialised.
 */
extern int	ledger_chain_hash(const unsigned char *prev, char side, int64_t seq,
							  const LedgerRecord *rec, unsigned char *out);

/* the digest over all accounts' heads, fed one account at a time in id order */
typedef struct LedgerDigest
{
	_Alignas(64) unsigned char state[384];	/* crypto_generichash_state, kept opaque here */
} LedgerDigest;

extern int	ledger_digest_init(LedgerDigest *d);
extern void ledger_digest_add(LedgerDigest *d, int64_t account_id, int64_t head_seq,
							  const unsigned char *head_hash);
extern void ledger_digest_final(LedgerDigest *d, unsigned char *out);

#endif							/* RG_LEDGER_HASH_H */
