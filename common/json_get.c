// SPDX-License-Identifier: MIT
/* JSON accessors: members by key, iteration, strings, integers, bools, base64. */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "json.h"

#define B64_ALPHABET \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="

static const struct json_tok *tok_get(const struct json_doc *doc, int tok,
				      enum json_type type)
{
	if (tok < 0 || (size_t)tok >= doc->n)
		return NULL;
	if (type && doc->toks[tok].type != type)
		return NULL;
	return &doc->toks[tok];
}

static unsigned hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	return (unsigned)((c | 0x20) - 'a' + 10);
}

static unsigned hex4(const char *s)
{
	return hexval(s[0]) << 12 | hexval(s[1]) << 8 | hexval(s[2]) << 4 |
	       hexval(s[3]);
}

static size_t utf8(uint32_t cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * The next character of a string json_parse() checked, at s[*i]: its
 * bytes into out, how many. Escapes decoded, surrogate pairs joined.
 */
static size_t str_char(const char *s, size_t *i, char out[4])
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	uint32_t cp, lo;

	if (s[*i] != '\\') {
		out[0] = s[(*i)++];
		return 1;
	}
	if (s[*i + 1] != 'u') {
		out[0] = to[strchr(from, s[*i + 1]) - from];
		*i += 2;
		return 1;
	}
	cp = hex4(s + *i + 2);
	*i += 6;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		lo = hex4(s + *i + 2);
		*i += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	return utf8(cp, out);
}

/* Whether a key token decodes to key (a C string). */
static bool key_is(const struct json_doc *doc, const struct json_tok *t,
		   const char *key)
{
	size_t i = t->start + 1, end = t->end - 1, klen = strlen(key), at = 0;
	char c[4];
	size_t n;

	if (!t->esc)
		return end - i == klen && memcmp(doc->text + i, key, klen) == 0;
	while (i < end) {
		n = str_char(doc->text, &i, c);
		if (klen - at < n || memcmp(key + at, c, n) != 0)
			return false;
		at += n;
	}
	return at == klen;
}

int json_get(const struct json_doc *doc, int obj, const char *key)
{
	const struct json_tok *t = tok_get(doc, obj, JSON_OBJECT);
	uint32_t k, left;
	int found = -ENOENT;

	if (!t)
		return -EINVAL;
	/* Every member, not the first found: a key twice is refused. */
	for (k = (uint32_t)obj + 1, left = t->size; left; left--) {
		if (key_is(doc, &doc->toks[k], key)) {
			if (found >= 0)
				return -EBADMSG;
			found = (int)k + 1;
		}
		k = doc->toks[k + 1].skip;
	}
	return found;
}

int json_iter_init(const struct json_doc *doc, int tok, struct json_iter *it)
{
	const struct json_tok *t = tok_get(doc, tok, 0);

	if (!t || (t->type != JSON_OBJECT && t->type != JSON_ARRAY))
		return -EINVAL;
	it->next = (uint32_t)tok + 1;
	it->left = t->size;
	it->object = t->type == JSON_OBJECT;
	return json_iter_next(doc, it);
}

int json_iter_next(const struct json_doc *doc, struct json_iter *it)
{
	uint32_t tok = it->next;

	if (!it->left)
		return -ENOENT;
	if (tok >= doc->n)
		return -EINVAL;
	it->left--;
	/* An object's key is followed by its value: past both. */
	if (it->object && tok + 1 < doc->n)
		it->next = doc->toks[tok + 1].skip;
	else
		it->next = doc->toks[tok].skip;
	return (int)tok;
}

int json_string(const struct json_doc *doc, int tok, char *buf, size_t len)
{
	const struct json_tok *t = tok_get(doc, tok, JSON_STRING);
	size_t i, end, at = 0, n;
	char c[4];

	if (!t)
		return -EINVAL;
	for (i = t->start + 1, end = t->end - 1; i < end; at += n) {
		n = str_char(doc->text, &i, c);
		if (n == 1 && !c[0])
			return -EBADMSG;
		if (at + n >= len)
			return -ENOSPC;
		memcpy(buf + at, c, n);
	}
	if (at >= len)
		return -ENOSPC;
	buf[at] = '\0';
	return (int)at;
}

/*
 * The digits of an integer in s[0..n): -?(0|[1-9][0-9]*), nothing else.
 * Its magnitude into *mag, its sign into *neg; -ERANGE over UINT64_MAX.
 */
static int integer(const char *s, size_t n, bool *neg, uint64_t *mag)
{
	size_t i = 0;
	unsigned d;

	*neg = n && s[0] == '-';
	i = *neg;
	if (i == n || (s[i] == '0' && n - i > 1))
		return -EINVAL;
	for (*mag = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned)(s[i] - '0');
		if (*mag > (UINT64_MAX - d) / 10)
			return -ERANGE;
		*mag = *mag * 10 + d;
	}
	return 0;
}

/* A NUMBER's text, or a STRING's between its quotes. */
static int integer_tok(const struct json_doc *doc, int tok, bool *neg,
		       uint64_t *mag)
{
	const struct json_tok *t = tok_get(doc, tok, 0);
	int r;

	if (!t)
		return -EINVAL;
	if (t->type == JSON_NUMBER)
		r = integer(doc->text + t->start, t->end - t->start, neg, mag);
	else if (t->type == JSON_STRING)
		r = integer(doc->text + t->start + 1, t->end - t->start - 2,
			    neg, mag);
	else
		r = -EINVAL;
	/* Digits then '.', 'e' or '"': not an integer, however long. */
	return r;
}

int json_int64(const struct json_doc *doc, int tok, int64_t *out)
{
	uint64_t mag;
	bool neg;
	int r = integer_tok(doc, tok, &neg, &mag);

	if (r < 0)
		return r;
	if (!neg && mag > (uint64_t)INT64_MAX)
		return -ERANGE;
	if (neg && mag > (uint64_t)INT64_MAX + 1)
		return -ERANGE;
	*out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	return 0;
}

int json_uint64(const struct json_doc *doc, int tok, uint64_t *out)
{
	uint64_t mag;
	bool neg;
	int r = integer_tok(doc, tok, &neg, &mag);

	if (r < 0)
		return r;
	if (neg && mag)
		return -ERANGE;
	*out = mag;
	return 0;
}

int json_bool(const struct json_doc *doc, int tok, bool *out)
{
	const struct json_tok *t = tok_get(doc, tok, 0);

	if (!t || (t->type != JSON_TRUE && t->type != JSON_FALSE))
		return -EINVAL;
	*out = t->type == JSON_TRUE;
	return 0;
}

int json_base64(const struct json_doc *doc, int tok, uint8_t *buf, size_t len,
		size_t *out_len)
{
	const struct json_tok *t = tok_get(doc, tok, JSON_STRING);
	const char *b64;
	size_t n, need;

	if (!t)
		return -EINVAL;
	b64 = doc->text + t->start + 1;
	n = t->end - t->start - 2;
	/*
	 * libsodium 1.0.18 takes bytes over 0x7f for base64 digits (the
	 * fuzzer found "\xff\xff\xff\xff" decoded): only the alphabet,
	 * up to the closing quote.
	 */
	if (t->esc || n % 4 || strspn(b64, B64_ALPHABET) < n)
		return -EBADMSG;
	need = n / 4 * 3;
	if (n && b64[n - 1] == '=')
		need -= b64[n - 2] == '=' ? 2 : 1;
	if (need > len)
		return -ENOSPC;
	/* b64_end NULL: every character must be base64 or padding. */
	if (sodium_base642bin(buf, len, b64, n, NULL, out_len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0) {
		sodium_memzero(buf, len);
		return -EBADMSG;
	}
	return 0;
}
