/*
 * json_tree.h
 *		A small strict JSON parser building the RgJson tree that src/scoring.c builds from
 *		jsonb, so that the model-spec compiler can be fuzzed from JSON text without a
 *		server.  Numbers keep their text (as jsonb's numeric output would give it for
 *		plain decimals) and their double value; strings are UTF-8 without NUL, like jsonb.
 */
#ifndef RG_FUZZ_JSON_TREE_H
#define RG_FUZZ_JSON_TREE_H

#include <stddef.h>

#include "model_spec.h"

/* allocations of one parse, freed together */
typedef struct JsonArena JsonArena;

extern JsonArena *json_arena_new(void);
extern void json_arena_free(JsonArena *a);
/* zeroed memory from the arena (the RgAllocFn the compiler takes) */
extern void *json_arena_alloc(void *arena, size_t size);

/* parse text (len bytes) into a tree, or NULL when it is not JSON (depth <= 64) */
extern RgJson *json_parse(JsonArena *a, const char *text, size_t len);

#endif							/* RG_FUZZ_JSON_TREE_H */
