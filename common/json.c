// SPDX-License-Identifier: MIT
/* JSON reader: one pass over a document into a flat token array, no recursion. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "json.h"

struct parser {
	const char *s;
	uint32_t len, pos;
	struct json_tok *toks; /* NULL: count only */
	uint32_t cap, n;
	uint32_t depth;
	uint32_t stack[JSON_DEPTH_MAX]; /* open containers' tokens */
	uint32_t objects;		/* bit d: stack[d] is an object */
	struct why *why;
};

static void skip_space(struct parser *p)
{
	while (p->pos < p->len &&
	       (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
		p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static int unexpected(struct parser *p, const char *want)
{
	if (p->pos >= p->len)
		return why_fail(p->why, -EBADMSG,
				"json: document ends at byte %u, expected %s",
				p->pos, want);
	return why_fail(p->why, -EBADMSG,
			"json: byte 0x%02x at byte %u, expected %s",
			(unsigned char)p->s[p->pos], p->pos, want);
}

/* A new token at p->pos; its parent (if any) counts it. */
static int tok_new(struct parser *p, enum json_type type)
{
	struct json_tok *t;

	if (p->n >= p->cap)
		return why_fail(p->why, -E2BIG,
				"json: more than %u tokens at byte %u", p->cap,
				p->pos);
	if (p->toks) {
		t = &p->toks[p->n];
		memset(t, 0, sizeof(*t));
		t->type = (uint8_t)type;
		t->start = p->pos;
		t->skip = p->n + 1;
	}
	return (int)p->n++;
}

static void tok_end(struct parser *p, int tok)
{
	if (p->toks)
		p->toks[tok].end = p->pos;
}

static int hex4(struct parser *p, uint32_t at, unsigned *v)
{
	unsigned c, d, i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		if (at + i >= p->len)
			return why_fail(p->why, -EBADMSG,
					"json: document ends in a \\u escape "
					"at byte %u",
					at - 2);
		c = (unsigned char)p->s[at + i];
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return why_fail(p->why, -EBADMSG,
					"json: bad \\u escape at byte %u",
					at - 2);
		*v = *v << 4 | d;
	}
	return 0;
}

/* p->pos at a backslash: checks the escape and moves past it. */
static int escape(struct parser *p)
{
	uint32_t at = p->pos;
	unsigned u, lo;
	int r;

	if (at + 1 >= p->len)
		return why_fail(p->why, -EBADMSG,
				"json: document ends in an escape at byte %u",
				at);
	if (strchr("\"\\/bfnrt", p->s[at + 1]) && p->s[at + 1]) {
		p->pos += 2;
		return 0;
	}
	if (p->s[at + 1] != 'u')
		return why_fail(p->why, -EBADMSG,
				"json: unknown escape at byte %u", at);
	r = hex4(p, at + 2, &u);
	if (r < 0)
		return r;
	p->pos += 6;
	if (u >= 0xdc00 && u <= 0xdfff)
		return why_fail(p->why, -EBADMSG,
				"json: lone low surrogate \\u%04x at byte %u",
				u, at);
	if (u < 0xd800 || u > 0xdbff)
		return 0;
	if (p->pos + 1 >= p->len || p->s[p->pos] != '\\' ||
	    p->s[p->pos + 1] != 'u' || hex4(p, p->pos + 2, &lo) < 0 ||
	    lo < 0xdc00 || lo > 0xdfff)
		return why_fail(p->why, -EBADMSG,
				"json: high surrogate \\u%04x without a low "
				"one at byte %u",
				u, at);
	p->pos += 6;
	return 0;
}

/* A string (a value or a key) at p->pos, at its opening quote. */
static int string(struct parser *p)
{
	uint32_t start = p->pos;
	bool esc = false;
	unsigned char c;
	int tok, r;

	tok = tok_new(p, JSON_STRING);
	if (tok < 0)
		return tok;
	for (p->pos++; p->pos < p->len; p->pos++) {
		c = (unsigned char)p->s[p->pos];
		if (c == '"')
			break;
		if (c < 0x20)
			return why_fail(p->why, -EBADMSG,
					"json: control byte 0x%02x in a string "
					"at byte %u",
					c, p->pos);
		if (c != '\\')
			continue;
		esc = true;
		r = escape(p);
		if (r < 0)
			return r;
		p->pos--; /* the loop's ++ */
	}
	if (p->pos >= p->len)
		return why_fail(p->why, -EBADMSG,
				"json: string from byte %u does not end",
				start);
	p->pos++;
	tok_end(p, tok);
	if (p->toks)
		p->toks[tok].esc = esc;
	return 0;
}

static uint32_t digits(struct parser *p)
{
	uint32_t from = p->pos;

	while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
		p->pos++;
	return p->pos - from;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int number(struct parser *p)
{
	uint32_t start = p->pos;
	int tok = tok_new(p, JSON_NUMBER);

	if (tok < 0)
		return tok;
	if (p->s[p->pos] == '-')
		p->pos++;
	if (p->pos < p->len && p->s[p->pos] == '0') {
		p->pos++;
		if (p->pos < p->len && p->s[p->pos] >= '0' &&
		    p->s[p->pos] <= '9')
			return why_fail(p->why, -EBADMSG,
					"json: leading zero in the number at "
					"byte %u",
					start);
	} else if (!digits(p)) {
		return unexpected(p, "a digit");
	}
	if (p->pos < p->len && p->s[p->pos] == '.') {
		p->pos++;
		if (!digits(p))
			return unexpected(p, "a digit after '.'");
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len &&
		    (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (!digits(p))
			return unexpected(p, "a digit in the exponent");
	}
	tok_end(p, tok);
	return 0;
}

static int literal(struct parser *p, const char *word, enum json_type type)
{
	size_t n = strlen(word);
	int tok;

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return unexpected(p, "a value");
	tok = tok_new(p, type);
	if (tok < 0)
		return tok;
	p->pos += (uint32_t)n;
	tok_end(p, tok);
	return 0;
}

static int container_open(struct parser *p, enum json_type type)
{
	int tok;

	if (p->depth >= JSON_DEPTH_MAX)
		return why_fail(p->why, -E2BIG,
				"json: nested deeper than %d at byte %u",
				JSON_DEPTH_MAX, p->pos);
	tok = tok_new(p, type);
	if (tok < 0)
		return tok;
	p->pos++;
	p->objects &= ~(1u << p->depth);
	if (type == JSON_OBJECT)
		p->objects |= 1u << p->depth;
	p->stack[p->depth++] = (uint32_t)tok;
	return 1;
}

/* A value at p->pos: 1 if it opened a container, 0 if it was whole. */
static int value(struct parser *p)
{
	skip_space(p);
	if (p->pos >= p->len)
		return unexpected(p, "a value");
	switch (p->s[p->pos]) {
	case '{':
		return container_open(p, JSON_OBJECT);
	case '[':
		return container_open(p, JSON_ARRAY);
	case '"':
		return string(p);
	case 't':
		return literal(p, "true", JSON_TRUE);
	case 'f':
		return literal(p, "false", JSON_FALSE);
	case 'n':
		return literal(p, "null", JSON_NULL);
	default:
		if (p->s[p->pos] == '-' ||
		    (p->s[p->pos] >= '0' && p->s[p->pos] <= '9'))
			return number(p);
		return unexpected(p, "a value");
	}
}

static bool in_object(const struct parser *p)
{
	return p->objects & (1u << (p->depth - 1));
}

/* A member's key and its ':', the innermost container an object. */
static int key(struct parser *p)
{
	int r;

	skip_space(p);
	if (p->pos >= p->len || p->s[p->pos] != '"')
		return unexpected(p, "a key");
	r = string(p);
	if (r < 0)
		return r;
	skip_space(p);
	if (p->pos >= p->len || p->s[p->pos] != ':')
		return unexpected(p, "':'");
	p->pos++;
	return 0;
}

/* The next child of the innermost container is coming: count it. */
static int child(struct parser *p)
{
	if (p->toks)
		p->toks[p->stack[p->depth - 1]].size++;
	return in_object(p) ? key(p) : 0;
}

static void container_close(struct parser *p)
{
	uint32_t tok = p->stack[--p->depth];

	p->pos++;
	if (p->toks) {
		p->toks[tok].end = p->pos;
		p->toks[tok].skip = p->n;
	}
}

/*
 * After a value: ',' and the next child's key, or the innermost
 * container's close (then again), or the end of the document.
 * Returns 1 when a value is to come, 0 at the end.
 */
static int after(struct parser *p)
{
	char closer;
	int r;

	while (p->depth) {
		closer = in_object(p) ? '}' : ']';
		skip_space(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			r = child(p);
			return r < 0 ? r : 1;
		}
		if (p->pos >= p->len || p->s[p->pos] != closer)
			return unexpected(p, closer == '}' ? "',' or '}'"
							   : "',' or ']'");
		container_close(p);
	}
	skip_space(p);
	if (p->pos < p->len)
		return why_fail(p->why, -EBADMSG,
				"json: text after the document at byte %u",
				p->pos);
	return 0;
}

/* A container just opened: its close, or its first child. */
static int first(struct parser *p)
{
	int r;

	skip_space(p);
	if (p->pos < p->len && p->s[p->pos] == (in_object(p) ? '}' : ']')) {
		container_close(p);
		return 0;
	}
	r = child(p);
	return r < 0 ? r : 1;
}

static int run(struct parser *p)
{
	int r;

	for (;;) {
		r = value(p);
		if (r < 0)
			return r;
		if (r == 1) {
			r = first(p);
			if (r < 0)
				return r;
			if (r == 1)
				continue;
		}
		r = after(p);
		if (r <= 0)
			return r;
	}
}

void json_doc_init(struct json_doc *doc, struct json_tok *toks, size_t cap)
{
	memset(doc, 0, sizeof(*doc));
	doc->toks = toks;
	doc->cap = cap < JSON_TOKENS_MAX ? cap : JSON_TOKENS_MAX;
}

/* One pass over the document: the tokens it has in *n, even on failure. */
static int pass(const struct json_doc *doc, struct json_tok *toks, size_t cap,
		size_t *n, struct why *why)
{
	struct parser p = {
		.s = doc->text,
		.len = (uint32_t)doc->len,
		.toks = toks,
		.cap = (uint32_t)cap,
		.why = why,
	};
	int r = run(&p);

	*n = p.n;
	return r;
}

/* Counts the tokens, then allocates exactly those and parses again. */
static int parse_heap(struct json_doc *doc, struct why *why)
{
	size_t n;
	int r = pass(doc, NULL, doc->cap, &n, why);

	if (r < 0)
		return r;
	doc->toks = calloc(n, sizeof(*doc->toks));
	if (!doc->toks)
		return why_fail(why, -ENOMEM, "json: no memory for %zu tokens",
				n);
	doc->heap = true;
	r = pass(doc, doc->toks, n, &doc->n, why);
	if (r < 0) /* the text changed under us */
		json_doc_cleanup(doc);
	return r;
}

int json_parse(struct json_doc *doc, const char *text, size_t len,
	       struct why *why)
{
	size_t cap = doc->cap;
	int r;

	if (doc->heap) /* a document parsed before */
		json_doc_cleanup(doc);
	doc->cap = cap;
	doc->text = text;
	doc->len = len;
	doc->n = 0;
	if (len > JSON_LEN_MAX)
		return why_fail(why, -E2BIG,
				"json: document of %zu bytes, more than %u",
				len, JSON_LEN_MAX);
	if (!doc->toks)
		return parse_heap(doc, why);
	r = pass(doc, doc->toks, doc->cap, &doc->n, why);
	if (r < 0) {
		sodium_memzero(doc->toks, doc->n * sizeof(*doc->toks));
		doc->n = 0;
	}
	return r;
}

/*
 * A heap document goes back to what json_doc_init(doc, NULL, cap) made,
 * a caller's array stays its document's (n = 0).
 */
void json_doc_cleanup(struct json_doc *doc)
{
	if (doc->toks)
		sodium_memzero(doc->toks, doc->n * sizeof(*doc->toks));
	if (doc->heap) {
		free(doc->toks);
		doc->toks = NULL;
		doc->heap = false;
	}
	doc->n = 0;
	doc->text = NULL;
	doc->len = 0;
}
