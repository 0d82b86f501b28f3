/*
 * fuzz_input.h
 *		A cursor over the fuzzer's bytes, shared by the harnesses: take integers, doubles
 *		and byte strings from the front; once the bytes run out every take returns zeros.
 *		Header-only (static functions) so that each harness stays one translation unit.
 */
#ifndef RG_FUZZ_INPUT_H
#define RG_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a broken invariant: print it and abort, so that the fuzzer keeps the input */
#define FUZZ_CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "invariant failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

typedef struct FuzzInput
{
	const uint8_t *p;
	size_t		left;
} FuzzInput;

static inline void
fuzz_take(FuzzInput *in, void *out, size_t n)
{
	size_t		k = n < in->left ? n : in->left;

	memcpy(out, in->p, k);
	memset((char *) out + k, 0, n - k);
	in->p += k;
	in->left -= k;
}

static inline uint8_t
fuzz_u8(FuzzInput *in)
{
	uint8_t		v;

	fuzz_take(in, &v, 1);
	return v;
}

static inline uint32_t
fuzz_u32(FuzzInput *in)
{
	uint32_t	v;

	fuzz_take(in, &v, sizeof(v));
	return v;
}

static inline int64_t
fuzz_i64(FuzzInput *in)
{
	int64_t		v;

	fuzz_take(in, &v, sizeof(v));
	return v;
}

/* an integer in [lo, hi] */
static inline int64_t
fuzz_range(FuzzInput *in, int64_t lo, int64_t hi)
{
	uint64_t	span = (uint64_t) (hi - lo) + 1;
	uint64_t	v;

	fuzz_take(in, &v, sizeof(v));
	return span == 0 ? (int64_t) v : lo + (int64_t) (v % span);
}

/* any double, NaN and infinities included */
static inline double
fuzz_double(FuzzInput *in)
{
	double		v;

	fuzz_take(in, &v, sizeof(v));
	return v;
}

/*
 * A double as the callers' validation lets through: finite, usually of moderate size
 * (a small integer over a power of two), sometimes a raw bit pattern.
 */
static inline double
fuzz_finite(FuzzInput *in)
{
	uint8_t		how = fuzz_u8(in);

	if (how < 200)
	{
		int32_t		m;

		fuzz_take(in, &m, sizeof(m));
		return (double) (m % 100000) / (double) (1 << (how % 16));
	}
	else
	{
		double		v = fuzz_double(in);

		return (v == v && v - v == 0) ? v : 0.0;
	}
}

/* a length-prefixed (1 byte) slice of the input; *len is set */
static inline const uint8_t *
fuzz_bytes(FuzzInput *in, size_t *len)
{
	size_t		n = fuzz_u8(in);
	const uint8_t *p = in->p;

	if (n > in->left)
		n = in->left;
	in->p += n;
	in->left -= n;
	*len = n;
	return p;
}

#endif							/* RG_FUZZ_INPUT_H */
