/*
 * json_tree.c
 *		The strict JSON parser of json_tree.h: recursive descent with a depth limit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_tree.h"

#define MAX_DEPTH 64

struct JsonArena
{
	void	  **blocks;
	size_t		n,
				cap;
};

JsonArena *
json_arena_new(void)
{
	return calloc(1, sizeof(JsonArena));
}

void
json_arena_free(JsonArena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->blocks[i]);
	free(a->blocks);
	free(a);
}

void *
json_arena_alloc(void *arena, size_t size)
{
	JsonArena  *a = arena;
	void	   *p;

	if (a->n == a->cap)
	{
		a->cap = a->cap ? a->cap * 2 : 64;
		a->blocks = realloc(a->blocks, a->cap * sizeof(void *));
		if (a->blocks == NULL)
			abort();
	}
	p = calloc(1, size ? size : 1);
	if (p == NULL)
		abort();
	a->blocks[a->n++] = p;
	return p;
}

typedef struct Parser
{
	JsonArena  *a;
	const char *s;
	size_t		len,
				pos;
} Parser;

static RgJson *parse_value(Parser *p, int depth);

static void
skip_ws(Parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
							   p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static int
peek(Parser *p)
{
	return p->pos < p->len ? (unsigned char) p->s[p->pos] : -1;
}

static int
literal(Parser *p, const char *word)
{
	size_t		n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return 0;
	p->pos += n;
	return 1;
}

static int
hex4(Parser *p, unsigned *out)
{
	unsigned	v = 0;

	if (p->len - p->pos < 4)
		return 0;
	for (int i = 0; i < 4; i++)
	{
		char		c = p->s[p->pos++];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned) (c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned) (c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned) (c - 'A' + 10);
		else
			return 0;
	}
	*out = v;
	return 1;
}

/* a string's contents after the opening quote, as a NUL-terminated UTF-8 copy */
static const char *
parse_string(Parser *p)
{
	/* escapes never lengthen the text beyond 3 bytes per 2 (\uXXXX is 6 for at most 3) */
	char	   *out = json_arena_alloc(p->a, p->len - p->pos + 1);
	size_t		o = 0;

	for (;;)
	{
		int			c = peek(p);

		if (c < 0 || c < 0x20)
			return NULL;
		p->pos++;
		if (c == '"')
			break;
		if (c != '\\')
		{
			out[o++] = (char) c;
			continue;
		}
		c = peek(p);
		if (c < 0)
			return NULL;
		p->pos++;
		switch (c)
		{
			case '"':
			case '\\':
			case '/':
				out[o++] = (char) c;
				break;
			case 'b':
				out[o++] = '\b';
				break;
			case 'f':
				out[o++] = '\f';
				break;
			case 'n':
				out[o++] = '\n';
				break;
			case 'r':
				out[o++] = '\r';
				break;
			case 't':
				out[o++] = '\t';
				break;
			case 'u':
				{
					unsigned	u;

					if (!hex4(p, &u) || u == 0 || (u >= 0xD800 && u <= 0xDFFF))
						return NULL;	/* no NUL, no surrogates: keep it simple */
					if (u < 0x80)
						out[o++] = (char) u;
					else if (u < 0x800)
					{
						out[o++] = (char) (0xC0 | (u >> 6));
						out[o++] = (char) (0x80 | (u & 0x3F));
					}
					else
					{
						out[o++] = (char) (0xE0 | (u >> 12));
						out[o++] = (char) (0x80 | ((u >> 6) & 0x3F));
						out[o++] = (char) (0x80 | (u & 0x3F));
					}
					break;
				}
			default:
				return NULL;
		}
	}
	out[o] = '\0';
	return out;
}

static RgJson *
parse_number(Parser *p, RgJson *j)
{
	size_t		start = p->pos;
	char	   *text;

	if (peek(p) == '-')
		p->pos++;
	if (peek(p) == '0')
		p->pos++;
	else if (peek(p) >= '1' && peek(p) <= '9')
		while (peek(p) >= '0' && peek(p) <= '9')
			p->pos++;
	else
		return NULL;
	if (peek(p) == '.')
	{
		p->pos++;
		if (!(peek(p) >= '0' && peek(p) <= '9'))
			return NULL;
		while (peek(p) >= '0' && peek(p) <= '9')
			p->pos++;
	}
	if (peek(p) == 'e' || peek(p) == 'E')
	{
		p->pos++;
		if (peek(p) == '+' || peek(p) == '-')
			p->pos++;
		if (!(peek(p) >= '0' && peek(p) <= '9'))
			return NULL;
		while (peek(p) >= '0' && peek(p) <= '9')
			p->pos++;
	}
	text = json_arena_alloc(p->a, p->pos - start + 1);
	memcpy(text, p->s + start, p->pos - start);
	j->kind = RG_JSON_NUMBER;
	j->text = text;
	j->number = strtod(text, NULL);
	return j;
}

/* elements or members, growing the arrays as they come */
static int
push(Parser *p, RgJson *j, int *cap, const char *key, RgJson *item)
{
	if (j->n == *cap)
	{
		int			ncap = *cap ? *cap * 2 : 4;
		RgJson	  **items = json_arena_alloc(p->a, sizeof(RgJson *) * ncap);
		const char **keys = json_arena_alloc(p->a, sizeof(char *) * ncap);

		if (j->n)
		{
			memcpy(items, j->items, sizeof(RgJson *) * j->n);
			memcpy(keys, j->keys, sizeof(char *) * j->n);
		}
		j->items = items;
		j->keys = keys;
		*cap = ncap;
	}
	j->items[j->n] = item;
	j->keys[j->n] = key;
	j->n++;
	return 1;
}

static RgJson *
parse_container(Parser *p, RgJson *j, int depth, int object)
{
	int			cap = 0;

	j->kind = object ? RG_JSON_OBJECT : RG_JSON_ARRAY;
	skip_ws(p);
	if (peek(p) == (object ? '}' : ']'))
	{
		p->pos++;
		if (!object)
			j->keys = NULL;
		return j;
	}
	for (;;)
	{
		const char *key = NULL;
		RgJson	   *item;

		skip_ws(p);
		if (object)
		{
			if (peek(p) != '"')
				return NULL;
			p->pos++;
			if ((key = parse_string(p)) == NULL)
				return NULL;
			skip_ws(p);
			if (peek(p) != ':')
				return NULL;
			p->pos++;
		}
		if ((item = parse_value(p, depth + 1)) == NULL)
			return NULL;
		push(p, j, &cap, key, item);
		skip_ws(p);
		if (peek(p) == ',')
		{
			p->pos++;
			continue;
		}
		if (peek(p) == (object ? '}' : ']'))
		{
			p->pos++;
			break;
		}
		return NULL;
	}
	if (!object)
		j->keys = NULL;
	return j;
}

static RgJson *
parse_value(Parser *p, int depth)
{
	RgJson	   *j;
	int			c;

	if (depth > MAX_DEPTH)
		return NULL;
	skip_ws(p);
	j = json_arena_alloc(p->a, sizeof(RgJson));
	c = peek(p);
	if (c == '{' || c == '[')
	{
		p->pos++;
		return parse_container(p, j, depth, c == '{');
	}
	if (c == '"')
	{
		p->pos++;
		j->kind = RG_JSON_STRING;
		j->text = parse_string(p);
		return j->text ? j : NULL;
	}
	if (literal(p, "null"))
	{
		j->kind = RG_JSON_NULL;
		return j;
	}
	if (literal(p, "true") || literal(p, "false"))
	{
		j->kind = RG_JSON_BOOL;
		j->boolean = p->s[p->pos - 1] == 'e' && p->s[p->pos - 2] == 'u';
		return j;
	}
	return parse_number(p, j);
}

RgJson *
json_parse(JsonArena *a, const char *text, size_t len)
{
	Parser		p = {a, text, len, 0};
	RgJson	   *j = parse_value(&p, 0);

	if (j == NULL)
		return NULL;
	skip_ws(&p);
	return p.pos == len ? j : NULL;
}
