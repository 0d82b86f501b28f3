/*
 * crypto.h
 *		Sealing rows of tables with protected columns: shared by the sealing trigger
 *		(crypto.c) and the sealing COPY (crypto_copy.c).
 */
#ifndef RG_CRYPTO_H
#define RG_CRYPTO_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "utils/relcache.h"

#include "crypto_cache.h"

/* The protected columns of rel; an error when it has none. */
extern RgCryptTable *rg_seal_table(Relation rel);

/*
 * Seal the protected columns of a deformed new row in place and fill its blind index
 * columns; oldtup is the old version on UPDATE, NULL on INSERT.  True when anything
 * was replaced.
 */
extern bool rg_seal_row(RgCryptTable *t, TupleDesc desc, Datum *values, bool *nulls,
						HeapTuple oldtup);

/* Install the ProcessUtility hook that loads COPY FROM STDIN into sealed tables. */
extern void rg_copy_init(void);

#endif							/* RG_CRYPTO_H */
