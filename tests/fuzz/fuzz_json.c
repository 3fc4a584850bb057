// SPDX-License-Identifier: MIT
/* Fuzz target: a JSON document (an etcd reply or not) read token by token with every accessor. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "tests/fuzz/fuzz.h"

#define TIGHT 16    /* tokens of the caller's array most documents overflow */
#define KEYS_MAX 64 /* keys of an object looked up (json_get is linear) */

static void check(bool ok)
{
	if (!ok)
		abort();
}

/* A token's children end where it does, each inside it, its size right. */
static void check_tok(const struct json_doc *doc, uint32_t i)
{
	const struct json_tok *t = &doc->toks[i];
	const char *s = doc->text;
	uint32_t k = i + 1, prev = 0, c, step;

	check(t->type >= JSON_OBJECT && t->type <= JSON_NULL);
	check(t->start < t->end && t->end <= doc->len);
	check(t->skip > i && t->skip <= doc->n);
	if (t->type == JSON_STRING)
		check(t->end - t->start >= 2 && s[t->start] == '"' &&
		      s[t->end - 1] == '"' &&
		      t->esc ==
			      !!memchr(s + t->start, '\\', t->end - t->start));
	if (t->type != JSON_OBJECT && t->type != JSON_ARRAY) {
		check(t->size == 0 && t->skip == i + 1);
		return;
	}
	check(s[t->start] == (t->type == JSON_OBJECT ? '{' : '['));
	check(s[t->end - 1] == (t->type == JSON_OBJECT ? '}' : ']'));
	step = t->type == JSON_OBJECT ? 2 : 1;
	for (c = 0; c < t->size * step; c++) {
		check(k < t->skip);
		check(doc->toks[k].start > t->start &&
		      doc->toks[k].end < t->end);
		if (step == 2 && c % 2 == 0)
			check(doc->toks[k].type == JSON_STRING);
		if (c) /* in order, apart */
			check(doc->toks[k].start >= doc->toks[prev].end);
		prev = k;
		k = doc->toks[k].skip;
	}
	check(k == t->skip);
}

/* json_iter_* gives exactly the children check_tok() walked. */
static void check_iter(const struct json_doc *doc, int tok)
{
	const struct json_tok *t = &doc->toks[tok];
	struct json_iter it;
	uint32_t seen = 0, want = (uint32_t)tok + 1;
	int c;

	for (c = json_iter_init(doc, tok, &it); c >= 0;
	     c = json_iter_next(doc, &it)) {
		check((uint32_t)c == want);
		want = doc->toks[t->type == JSON_OBJECT ? c + 1 : c].skip;
		seen++;
	}
	check(c == -ENOENT && seen == t->size && want == t->skip);
}

/* The string written by json_out and read back: the same bytes. */
static void check_rewrite(const char *str, size_t len)
{
	size_t cap = 6 * len + 3, n;
	char *buf = malloc(cap), *back = malloc(len + 1);
	struct json_out out;
	struct json_doc doc;
	struct json_tok tok;
	struct why why;

	check(buf && back);
	json_out_init(&out, buf, cap);
	check(json_out_string(&out, str, len) == 0);
	check(json_out_finish(&out, &n) == 0 && n < cap);
	json_doc_init(&doc, &tok, 1);
	check(json_parse(&doc, buf, n, &why) == 0);
	check(json_string(&doc, 0, back, len + 1) == (int)len);
	check(memcmp(back, str, len) == 0);
	/* One byte less room: refused, not cut. */
	json_out_init(&out, buf, n);
	check(json_out_string(&out, str, len) == -ENOSPC);
	check(out.len < n);
	json_doc_cleanup(&doc);
	free(buf);
	free(back);
}

static void check_string(const struct json_doc *doc, int tok)
{
	const struct json_tok *t = &doc->toks[tok];
	size_t raw = t->end - t->start; /* decoded is never longer */
	char *buf = malloc(raw);
	int n;

	check(buf != NULL);
	n = json_string(doc, tok, buf, raw);
	check(n >= 0 || n == -EBADMSG);
	if (n >= 0) {
		check((size_t)n < raw && buf[n] == '\0');
		check(strlen(buf) == (size_t)n);
		check(json_string(doc, tok, buf, (size_t)n) == -ENOSPC);
		check_rewrite(buf, (size_t)n);
	}
	free(buf);
}

static void check_base64(const struct json_doc *doc, int tok)
{
	const struct json_tok *t = &doc->toks[tok];
	size_t raw = t->end - t->start - 2, n = 0, len;
	uint8_t *bin = malloc(raw + 1);
	char *b64 = malloc(raw + 3);
	struct json_out out;
	int r;

	check(bin && b64);
	r = json_base64(doc, tok, bin, raw, &n);
	check(r == 0 || r == -EBADMSG);
	if (r == 0) {
		check(n <= raw * 3 / 4);
		/* Canonical: written again, the same text. */
		json_out_init(&out, b64, raw + 3);
		check(json_out_base64(&out, bin, n) == 0);
		check(json_out_finish(&out, &len) == 0 && len == raw + 2);
		check(memcmp(b64, doc->text + t->start, len) == 0);
		if (n)
			check(json_base64(doc, tok, bin, n - 1, &n) == -ENOSPC);
	}
	free(bin);
	free(b64);
}

static void check_scalars(const struct json_doc *doc, int tok)
{
	uint8_t type = doc->toks[tok].type;
	int64_t v;
	uint64_t u;
	bool b;
	int r, ru;

	r = json_bool(doc, tok, &b);
	check(r == ((type == JSON_TRUE || type == JSON_FALSE) ? 0 : -EINVAL));
	check(r || b == (type == JSON_TRUE));
	r = json_int64(doc, tok, &v);
	ru = json_uint64(doc, tok, &u);
	check(r == 0 || r == -EINVAL || r == -ERANGE);
	check(ru == 0 || ru == -EINVAL || ru == -ERANGE);
	if (type != JSON_NUMBER && type != JSON_STRING)
		check(r == -EINVAL && ru == -EINVAL);
	check((r == -EINVAL) == (ru == -EINVAL)); /* one grammar */
	if (r == 0 && v >= 0)
		check(ru == 0 && u == (uint64_t)v);
	if (r == 0 && v < 0)
		check(ru == -ERANGE);
	if (ru == 0 && u <= INT64_MAX)
		check(r == 0 && (uint64_t)v == u);
	if (type == JSON_STRING) {
		check_string(doc, tok);
		check_base64(doc, tok);
	} else {
		check(json_string(doc, tok, NULL, 0) == -EINVAL);
		check(json_base64(doc, tok, NULL, 0, NULL) == -EINVAL);
	}
}

/* Each key of obj found again by json_get(), or refused as doubled. */
static void check_keys(const struct json_doc *doc, int obj)
{
	struct json_iter it;
	char *key;
	int k, n, got, i = 0;

	for (k = json_iter_init(doc, obj, &it); k >= 0 && i < KEYS_MAX;
	     k = json_iter_next(doc, &it), i++) {
		key = malloc(doc->toks[k].end - doc->toks[k].start);
		check(key != NULL);
		n = json_string(doc, k, key,
				doc->toks[k].end - doc->toks[k].start);
		if (n >= 0) {
			got = json_get(doc, obj, key);
			check(got == k + 1 || got == -EBADMSG); /* a double */
		}
		free(key);
	}
	check(json_get(doc, obj, "\x01never a key") == -ENOENT ||
	      json_get(doc, obj, "\x01never a key") == -EBADMSG);
}

static void check_doc(const struct json_doc *doc)
{
	uint32_t i;

	check(doc->n > 0 && doc->toks[0].skip == doc->n);
	for (i = 0; i < doc->n; i++) {
		check_tok(doc, i);
		if (doc->toks[i].type == JSON_OBJECT ||
		    doc->toks[i].type == JSON_ARRAY) {
			check_iter(doc, (int)i);
			if (doc->toks[i].type == JSON_OBJECT)
				check_keys(doc, (int)i);
			else
				check(json_get(doc, (int)i, "a") == -EINVAL);
		} else {
			check_scalars(doc, (int)i);
		}
	}
	check(json_get(doc, (int)doc->n, "a") == -EINVAL);
}

static bool same_toks(const struct json_doc *a, const struct json_doc *b)
{
	const struct json_tok *x, *y;
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++) {
		x = &a->toks[i];
		y = &b->toks[i];
		if (x->start != y->start || x->end != y->end ||
		    x->size != y->size || x->skip != y->skip ||
		    x->type != y->type || x->esc != y->esc)
			return false;
	}
	return true;
}

/* One writer call chosen by op, its arguments taken from the input. */
static int write_op(struct json_out *out, uint8_t op, const uint8_t *arg,
		    size_t n)
{
	char key[8];

	switch (op % 10) {
	case 0:
		return json_out_object(out);
	case 1:
		return json_out_object_end(out);
	case 2:
		return json_out_array(out);
	case 3:
		return json_out_array_end(out);
	case 4:
		memcpy(key, arg, n < 7 ? n : 7);
		key[n < 7 ? n : 7] = '\0';
		return json_out_key(out, key);
	case 5:
		return json_out_string(out, (const char *)arg, n);
	case 6:
		return json_out_int64(out, (int64_t)0 - (int64_t)n * op);
	case 7:
		return json_out_uint64(out, UINT64_MAX - n);
	case 8:
		return json_out_bool(out, n & 1);
	default:
		return json_out_base64(out, arg, n);
	}
}

/*
 * The input as writer calls (an op byte, an argument length, its bytes)
 * into a room of its first byte: nothing past the room, a whole document
 * parses, a failure sticks.
 */
static void check_writer(const uint8_t *data, size_t size)
{
	char buf[300];
	size_t cap = size ? data[0] : 0, i = 1, n, len;
	struct json_out out;
	struct json_doc doc;
	struct why why;
	int r, first = 0;

	memset(buf, 'Z', sizeof(buf));
	json_out_init(&out, buf, cap);
	while (i + 2 <= size) {
		n = data[i + 1] % 16;
		n = n < size - i - 2 ? n : size - i - 2;
		r = write_op(&out, data[i], data + i + 2, n);
		check(r == 0 || r == -ENOSPC || r == -EINVAL);
		check(!first || r == first);
		first = first ? first : r;
		i += 2 + n;
	}
	for (i = cap; i < sizeof(buf); i++)
		check(buf[i] == 'Z');
	check(!cap || strlen(buf) == out.len);
	if (json_out_finish(&out, &len) != 0)
		return;
	json_doc_init(&doc, NULL, JSON_TOKENS_MAX);
	check(json_parse(&doc, buf, len, &why) == 0);
	json_doc_cleanup(&doc);
}

int fuzz_json(const uint8_t *data, size_t size)
{
	static struct json_tok tight_toks[TIGHT];
	struct json_doc doc, tight;
	struct why why = { "" }, twhy = { "" };
	int r, rt;

	json_doc_init(&doc, NULL, JSON_TOKENS_MAX);
	r = json_parse(&doc, (const char *)data, size, &why);
	check(r == 0 || r == -EBADMSG || r == -E2BIG);
	check(r == 0 || why.msg[0]); /* a refusal says why */
	if (r == 0)
		check_doc(&doc);
	/* The caller's small array: the same verdict, or out of room. */
	json_doc_init(&tight, tight_toks, TIGHT);
	rt = json_parse(&tight, (const char *)data, size, &twhy);
	check(rt == 0 || twhy.msg[0]);
	if (r != 0)
		check(rt == r || rt == -E2BIG);
	if (r == 0 && doc.n <= TIGHT)
		check(rt == 0 && same_toks(&tight, &doc));
	if (r == 0 && doc.n > TIGHT)
		check(rt == -E2BIG);
	json_doc_cleanup(&tight);
	json_doc_cleanup(&doc);
	check_writer(data, size);
	return 0;
}
