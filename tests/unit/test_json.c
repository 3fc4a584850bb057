// SPDX-License-Identifier: MIT
/* Unit tests: JSON as etcd's gateway writes it, malformed and hostile documents, caps, the writer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/json.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char range_reply[] =
	"{\"header\":{\"cluster_id\":\"14841639068965178418\","
	"\"member_id\":\"10276657743932975437\",\"revision\":\"42\","
	"\"raft_term\":\"3\"},\"kvs\":[{\"key\":\"Zm9v\","
	"\"create_revision\":\"5\",\"mod_revision\":\"42\",\"version\":\"3\","
	"\"value\":\"YmFy\",\"lease\":\"7587862072907350531\"}],"
	"\"count\":\"1\",\"more\":false}";

/* Parses text (a C string) into doc with heap tokens; fails the test if refused. */
static void parse_ok(struct json_doc *doc, const char *text)
{
	struct why why = { "" };
	int r;

	json_doc_init(doc, NULL, JSON_TOKENS_MAX);
	r = json_parse(doc, text, strlen(text), &why);
	if (r != 0)
		fail_msg("%s: %d %s", text, r, why.msg);
}

static int64_t get_i64(const struct json_doc *doc, int obj, const char *key)
{
	int64_t v = -1;
	int t = json_get(doc, obj, key);

	assert_true(t > 0);
	assert_int_equal(json_int64(doc, t, &v), 0);
	return v;
}

static void test_etcd_range(void **state)
{
	struct json_doc doc;
	struct json_iter it;
	uint64_t id;
	uint8_t bytes[8];
	size_t n;
	bool more = true;
	int hdr, kvs, kv;

	(void)state;
	parse_ok(&doc, range_reply);
	assert_int_equal(doc.toks[0].type, JSON_OBJECT);
	assert_int_equal(doc.toks[0].size, 4);
	assert_int_equal(doc.toks[0].skip, doc.n);
	hdr = json_get(&doc, 0, "header");
	assert_true(hdr > 0);
	assert_int_equal(
		json_uint64(&doc, json_get(&doc, hdr, "cluster_id"), &id), 0);
	assert_true(id == 14841639068965178418ull);
	/* A member id over INT64_MAX is no int64. */
	assert_int_equal(json_int64(&doc, json_get(&doc, hdr, "member_id"),
				    &(int64_t){ 0 }),
			 -ERANGE);
	assert_int_equal(get_i64(&doc, hdr, "revision"), 42);
	assert_int_equal(get_i64(&doc, hdr, "raft_term"), 3);
	assert_int_equal(get_i64(&doc, 0, "count"), 1);
	assert_int_equal(json_bool(&doc, json_get(&doc, 0, "more"), &more), 0);
	assert_false(more);
	kvs = json_get(&doc, 0, "kvs");
	assert_int_equal(doc.toks[kvs].type, JSON_ARRAY);
	kv = json_iter_init(&doc, kvs, &it);
	assert_true(kv > 0);
	assert_int_equal(json_iter_next(&doc, &it), -ENOENT);
	assert_int_equal(json_base64(&doc, json_get(&doc, kv, "key"), bytes,
				     sizeof(bytes), &n),
			 0);
	assert_int_equal(n, 3);
	assert_memory_equal(bytes, "foo", 3);
	assert_int_equal(json_base64(&doc, json_get(&doc, kv, "value"), bytes,
				     sizeof(bytes), &n),
			 0);
	assert_memory_equal(bytes, "bar", 3);
	assert_int_equal(get_i64(&doc, kv, "lease"), 7587862072907350531ll);
	assert_int_equal(get_i64(&doc, kv, "create_revision"), 5);
	assert_int_equal(get_i64(&doc, kv, "mod_revision"), 42);
	assert_int_equal(get_i64(&doc, kv, "version"), 3);
	/* Defaults are omitted: absent, not an error of the document. */
	assert_int_equal(json_get(&doc, 0, "missing"), -ENOENT);
	assert_int_equal(json_get(&doc, kvs, "key"), -EINVAL);
	json_doc_cleanup(&doc);
	assert_null(doc.toks);
	assert_int_equal(doc.n, 0);
}

/* Iterating an object gives its keys, the value after each. */
static void test_iter_object(void **state)
{
	struct json_doc doc;
	struct json_iter it;
	size_t n = 0;
	int hdr, t;

	(void)state;
	parse_ok(&doc, range_reply);
	hdr = json_get(&doc, 0, "header");
	for (t = json_iter_init(&doc, hdr, &it); t >= 0;
	     t = json_iter_next(&doc, &it)) {
		assert_int_equal(doc.toks[t].type, JSON_STRING);
		assert_int_equal(doc.toks[t + 1].type, JSON_STRING);
		n++;
	}
	assert_int_equal(t, -ENOENT);
	assert_int_equal(n, 4);
	assert_int_equal(json_iter_init(&doc, json_get(&doc, 0, "count"), &it),
			 -EINVAL);
	json_doc_cleanup(&doc);
}

static void test_etcd_error_and_watch(void **state)
{
	static const char error[] =
		"{\"error\":\"etcdserver: requested lease not found\","
		"\"message\":\"etcdserver: requested lease not found\","
		"\"code\":5}";
	static const char created[] =
		"{\"result\":{\"header\":{\"cluster_id\":\"1\",\"revision\":"
		"\"42\"},\"created\":true,\"watch_id\":\"0\"}}\r\n";
	static const char events[] =
		"{\"result\":{\"header\":{\"revision\":\"43\"},\"events\":["
		"{\"type\":\"DELETE\",\"kv\":{\"key\":\"Zm9v\","
		"\"mod_revision\":\"43\"}},{\"kv\":{\"key\":\"Zm9v\","
		"\"value\":\"\",\"mod_revision\":\"44\"}}]}}";
	struct json_doc doc;
	struct json_iter it;
	char msg[64], type[8];
	bool b = false;
	int res, ev;

	(void)state;
	parse_ok(&doc, error);
	assert_int_equal(get_i64(&doc, 0, "code"), 5);
	assert_int_equal(json_string(&doc, json_get(&doc, 0, "message"), msg,
				     sizeof(msg)),
			 37);
	assert_string_equal(msg, "etcdserver: requested lease not found");
	json_doc_cleanup(&doc);

	parse_ok(&doc, created);
	res = json_get(&doc, 0, "result");
	assert_int_equal(json_bool(&doc, json_get(&doc, res, "created"), &b),
			 0);
	assert_true(b);
	assert_int_equal(get_i64(&doc, res, "watch_id"), 0);
	json_doc_cleanup(&doc);

	parse_ok(&doc, events);
	res = json_get(&doc, 0, "result");
	ev = json_iter_init(&doc, json_get(&doc, res, "events"), &it);
	assert_int_equal(json_string(&doc, json_get(&doc, ev, "type"), type,
				     sizeof(type)),
			 6);
	assert_string_equal(type, "DELETE");
	ev = json_iter_next(&doc, &it);
	assert_true(ev > 0);
	assert_int_equal(json_get(&doc, ev, "type"), -ENOENT); /* a PUT */
	assert_int_equal(
		get_i64(&doc, json_get(&doc, ev, "kv"), "mod_revision"), 44);
	assert_int_equal(json_iter_next(&doc, &it), -ENOENT);
	json_doc_cleanup(&doc);
}

struct bad {
	const char *text;
	size_t at; /* the byte the reason names */
	const char *why;
	size_t len; /* 0: strlen(text) */
};

/* Each refused with -EBADMSG, the reason naming the byte. */
static const struct bad malformed[] = {
	{ "", 0, "ends at byte 0", 0 },
	{ "   ", 3, "ends at byte 3", 0 },
	{ "{}x", 2, "text after the document at byte 2", 0 },
	{ "{} {}", 3, "text after the document at byte 3", 0 },
	{ "1 2", 2, "text after the document", 0 },
	{ "[1,]", 3, "expected a value", 0 },
	{ "{\"a\":1,}", 7, "expected a key", 0 },
	{ "{\"a\" 1}", 5, "expected ':'", 0 },
	{ "{1:2}", 1, "expected a key", 0 },
	{ "[1 2]", 3, "expected ',' or ']'", 0 },
	{ "{\"a\":1]", 6, "expected ',' or '}'", 0 },
	{ "[", 1, "ends at byte 1", 0 },
	{ "[[[]]", 5, "ends at byte 5", 0 },
	{ "\"abc", 0, "string from byte 0 does not end", 0 },
	{ "[\"a\\x\"]", 3, "unknown escape at byte 3", 0 },
	{ "\"\\u12g4\"", 1, "bad \\u escape at byte 1", 0 },
	{ "\"\\u12", 1, "ends in a \\u escape at byte 1", 0 },
	{ "\"\\", 1, "ends in an escape at byte 1", 0 },
	{ "\"a\tb\"", 2, "control byte 0x09 in a string at byte 2", 0 },
	{ "\"a\nb\"", 2, "control byte 0x0a", 0 },
	{ "[\"\x00\"]", 2, "control byte 0x00 in a string at byte 2", 4 },
	{ "\"\\ud800\"", 1,
	  "high surrogate \\ud800 without a low one "
	  "at byte 1",
	  0 },
	{ "\"\\ud800\\u0041\"", 1, "without a low one", 0 },
	{ "\"x\\udc00\"", 2, "lone low surrogate \\udc00 at byte 2", 0 },
	{ "01", 0, "leading zero in the number at byte 0", 0 },
	{ "[-01]", 1, "leading zero", 0 },
	{ "-", 1, "expected a digit", 0 },
	{ "1.", 2, "a digit after '.'", 0 },
	{ "1e", 2, "a digit in the exponent", 0 },
	{ "1e+", 3, "a digit in the exponent", 0 },
	{ ".5", 0, "expected a value", 0 },
	{ "+1", 0, "expected a value", 0 },
	{ "tru", 0, "expected a value", 0 },
	{ "nul", 0, "expected a value", 0 },
	{ "True", 0, "expected a value", 0 },
	{ "[true false]", 6, "expected ',' or ']'", 0 },
	{ "{\"a\":1}\x00", 7, "text after the document at byte 7", 8 },
	{ "[1,2,3", 6, "ends at byte 6", 0 },
	{ "'a'", 0, "byte 0x27 at byte 0", 0 },
};

static void test_malformed(void **state)
{
	struct json_tok toks[64];
	struct json_doc doc;
	struct why why;
	char at[32];
	size_t i, len;
	int r;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(malformed); i++) {
		len = malformed[i].len ? malformed[i].len
				       : strlen(malformed[i].text);
		why.msg[0] = '\0';
		json_doc_init(&doc, toks, ARRAY_SIZE(toks));
		r = json_parse(&doc, malformed[i].text, len, &why);
		if (r != -EBADMSG || !strstr(why.msg, malformed[i].why))
			fail_msg("case %zu: %d \"%s\", want \"%s\"", i, r,
				 why.msg, malformed[i].why);
		snprintf(at, sizeof(at), "byte %zu", malformed[i].at);
		if (!strstr(why.msg, at))
			fail_msg("case %zu: \"%s\" names no %s", i, why.msg,
				 at);
		assert_int_equal(doc.n, 0);
		/* Heap tokens: the same verdict, nothing allocated. */
		json_doc_init(&doc, NULL, JSON_TOKENS_MAX);
		assert_int_equal(json_parse(&doc, malformed[i].text, len, NULL),
				 -EBADMSG);
		assert_null(doc.toks);
	}
}

static void test_valid_edges(void **state)
{
	static const char *const ok[] = {
		"0",
		"-0",
		"1.5e-3",
		"-12.0E+7",
		"1e999999",
		"123456789012345678901234567890",
		"true",
		"false",
		"null",
		"\"\"",
		" \t\r\n[ ] ",
		"{}",
		"[[],{}]",
		"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
		"\"\\ud83d\\ude00\"",
		"\"\xff\xfe raw bytes\"",
		"{\"a\":{\"b\":[1,{\"c\":null}]}}",
	};
	struct json_doc doc;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		parse_ok(&doc, ok[i]);
		assert_int_equal(doc.toks[0].skip, doc.n);
		assert_true(doc.toks[0].start < doc.toks[0].end);
		assert_true(doc.toks[0].end <= strlen(ok[i]));
		json_doc_cleanup(&doc);
	}
}

static void test_strings(void **state)
{
	static const char text[] =
		"{\"plain\":\"abc\",\"esc\":\"q\\\"b\\\\s\\/n\\n\","
		"\"u\":\"\\u00e9\\u20AC\\ud83d\\ude00\",\"nul\":\"a\\u0000b\","
		"\"k\\u0065y\":1,\"dup\":1,\"dup\":2,\"n\":5}";
	struct json_doc doc;
	char buf[32];

	(void)state;
	parse_ok(&doc, text);
	assert_int_equal(
		json_string(&doc, json_get(&doc, 0, "plain"), buf, sizeof(buf)),
		3);
	assert_string_equal(buf, "abc");
	/* Exactly room for the bytes and the NUL, and one less. */
	assert_int_equal(json_string(&doc, json_get(&doc, 0, "plain"), buf, 4),
			 3);
	assert_int_equal(json_string(&doc, json_get(&doc, 0, "plain"), buf, 3),
			 -ENOSPC);
	assert_int_equal(json_string(&doc, json_get(&doc, 0, "plain"), buf, 0),
			 -ENOSPC);
	assert_int_equal(
		json_string(&doc, json_get(&doc, 0, "esc"), buf, sizeof(buf)),
		8);
	assert_string_equal(buf, "q\"b\\s/n\n");
	assert_int_equal(
		json_string(&doc, json_get(&doc, 0, "u"), buf, sizeof(buf)), 9);
	assert_string_equal(buf, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	/* Four bytes of one character that do not fit: none written. */
	assert_int_equal(json_string(&doc, json_get(&doc, 0, "u"), buf, 9),
			 -ENOSPC);
	assert_int_equal(
		json_string(&doc, json_get(&doc, 0, "nul"), buf, sizeof(buf)),
		-EBADMSG);
	/* Keys compare after their escapes are decoded. */
	assert_true(json_get(&doc, 0, "key") > 0);
	assert_int_equal(json_get(&doc, 0, "dup"), -EBADMSG);
	assert_int_equal(json_get(&doc, 0, "ke"), -ENOENT);
	assert_int_equal(json_get(&doc, 0, "keyy"), -ENOENT);
	/* Wrong types and bad indexes. */
	assert_int_equal(
		json_string(&doc, json_get(&doc, 0, "n"), buf, sizeof(buf)),
		-EINVAL);
	assert_int_equal(json_string(&doc, -1, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(json_string(&doc, (int)doc.n, buf, sizeof(buf)),
			 -EINVAL);
	assert_int_equal(json_get(&doc, 1, "plain"), -EINVAL);
	json_doc_cleanup(&doc);
}

static void test_integers(void **state)
{
	static const char text[] =
		"[9223372036854775807,\"9223372036854775807\","
		"9223372036854775808,\"9223372036854775808\","
		"-9223372036854775808,\"-9223372036854775809\","
		"18446744073709551615,\"18446744073709551616\",\"-1\",-1,"
		"\"\",\"01\",\"1.0\",1.0,1e3,\" 1\",\"+1\",\"-\",\"-0\",true,"
		"\"1\\u0030\"]";
	struct json_doc doc;
	int64_t v;
	uint64_t u;

	(void)state;
	parse_ok(&doc, text);
	assert_int_equal(json_int64(&doc, 1, &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(json_int64(&doc, 2, &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(json_int64(&doc, 3, &v), -ERANGE);
	assert_int_equal(json_int64(&doc, 4, &v), -ERANGE);
	assert_int_equal(json_uint64(&doc, 4, &u), 0);
	assert_true(u == 9223372036854775808ull);
	assert_int_equal(json_int64(&doc, 5, &v), 0);
	assert_true(v == INT64_MIN);
	assert_int_equal(json_int64(&doc, 6, &v), -ERANGE);
	assert_int_equal(json_uint64(&doc, 7, &u), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(json_int64(&doc, 7, &v), -ERANGE);
	assert_int_equal(json_uint64(&doc, 8, &u), -ERANGE);
	/* Negative, asked for unsigned: refused. */
	assert_int_equal(json_uint64(&doc, 9, &u), -ERANGE);
	assert_int_equal(json_uint64(&doc, 10, &u), -ERANGE);
	assert_int_equal(json_int64(&doc, 10, &v), 0);
	assert_int_equal(v, -1);
	/* Not integers. */
	for (int t = 11; t <= 18; t++)
		if (json_int64(&doc, t, &v) != -EINVAL)
			fail_msg("token %d read as an integer", t);
	assert_int_equal(json_uint64(&doc, 19, &u), 0); /* "-0" */
	assert_true(u == 0);
	assert_int_equal(json_int64(&doc, 20, &v), -EINVAL); /* true */
	assert_int_equal(json_int64(&doc, 21, &v), -EINVAL); /* escaped */
	assert_int_equal(json_int64(&doc, 0, &v), -EINVAL);  /* the array */
	json_doc_cleanup(&doc);
}

static void test_bool_base64(void **state)
{
	static const char text[] =
		"[true,false,null,\"true\",\"AAEC\",\"\",\"QQ==\",\"QUI=\","
		"\"QQ=\",\"QQ\",\"Q===\",\"QR==\",\"Zm9!\",\"Zm9vYmFy====\","
		"\"Zm9v\\/A\",\"Zm9 \",\"-_8=\",\"Zm==Zm9v\",5,"
		"\"\xff\xff\xff\xff\",\"QUJ\xc3\"]";
	struct json_doc doc;
	uint8_t buf[8];
	size_t n = 99;
	bool b;

	(void)state;
	parse_ok(&doc, text);
	assert_int_equal(json_bool(&doc, 1, &b), 0);
	assert_true(b);
	assert_int_equal(json_bool(&doc, 2, &b), 0);
	assert_false(b);
	assert_int_equal(json_bool(&doc, 3, &b), -EINVAL);
	assert_int_equal(json_bool(&doc, 4, &b), -EINVAL);
	assert_int_equal(json_base64(&doc, 5, buf, sizeof(buf), &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(buf, "\0\1\2", 3);
	assert_int_equal(json_base64(&doc, 5, buf, 3, &n), 0);
	assert_int_equal(json_base64(&doc, 5, buf, 2, &n), -ENOSPC);
	assert_int_equal(json_base64(&doc, 6, buf, sizeof(buf), &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(json_base64(&doc, 7, buf, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(buf[0], 'A');
	assert_int_equal(json_base64(&doc, 8, buf, 2, &n), 0);
	assert_memory_equal(buf, "AB", 2);
	/* Bad base64: cut, unpadded, over-padded, stray bits, bad
	 * characters, escapes, space, the URL alphabet, inner padding. */
	for (int t = 9; t <= 18; t++)
		if (json_base64(&doc, t, buf, sizeof(buf), &n) != -EBADMSG)
			fail_msg("token %d read as base64", t);
	assert_int_equal(json_base64(&doc, 19, buf, sizeof(buf), &n), -EINVAL);
	/* Bytes over 0x7f, which libsodium 1.0.18 alone decodes. */
	assert_int_equal(json_base64(&doc, 20, buf, sizeof(buf), &n), -EBADMSG);
	assert_int_equal(json_base64(&doc, 21, buf, sizeof(buf), &n), -EBADMSG);
	json_doc_cleanup(&doc);
}

/* Nested n deep: "[[[...]]]". */
static char *nested(size_t n)
{
	char *s = malloc(2 * n + 1);

	assert_non_null(s);
	memset(s, '[', n);
	memset(s + n, ']', n);
	s[2 * n] = '\0';
	return s;
}

static void test_caps(void **state)
{
	struct json_tok toks[4];
	struct json_doc doc;
	struct why why;
	char *deep;

	(void)state;
	deep = nested(JSON_DEPTH_MAX);
	parse_ok(&doc, deep);
	assert_int_equal(doc.n, JSON_DEPTH_MAX);
	json_doc_cleanup(&doc);
	free(deep);
	deep = nested(JSON_DEPTH_MAX + 1);
	json_doc_init(&doc, NULL, JSON_TOKENS_MAX);
	assert_int_equal(json_parse(&doc, deep, strlen(deep), &why), -E2BIG);
	assert_string_equal(why.msg, "json: nested deeper than 32 at byte 32");
	free(deep);
	/* The caller's room: 4 tokens, a 5th refused. */
	json_doc_init(&doc, toks, ARRAY_SIZE(toks));
	assert_int_equal(json_parse(&doc, "[1,2,3]", 7, &why), 0);
	assert_int_equal(doc.n, 4);
	assert_int_equal(doc.toks[0].size, 3);
	assert_int_equal(json_parse(&doc, "[1,2,3,4]", 9, &why), -E2BIG);
	assert_string_equal(why.msg, "json: more than 4 tokens at byte 7");
	assert_int_equal(doc.n, 0);
	/* A heap document's cap. */
	json_doc_init(&doc, NULL, 2);
	assert_int_equal(json_parse(&doc, "{\"a\":[]}", 8, &why), -E2BIG);
	assert_string_equal(why.msg, "json: more than 2 tokens at byte 5");
	assert_null(doc.toks);
	/* Reparsed: the first document's tokens go. */
	json_doc_init(&doc, NULL, 8);
	assert_int_equal(json_parse(&doc, "[1,[2]]", 7, &why), 0);
	assert_int_equal(doc.n, 4);
	assert_int_equal(json_parse(&doc, "{}", 2, &why), 0);
	assert_int_equal(doc.n, 1);
	assert_int_equal(doc.cap, 8);
	json_doc_cleanup(&doc);
	/* Over JSON_LEN_MAX: refused before a byte is read. */
	json_doc_init(&doc, NULL, JSON_TOKENS_MAX);
	assert_int_equal(json_parse(&doc, "", (size_t)JSON_LEN_MAX + 1, &why),
			 -E2BIG);
	assert_non_null(strstr(why.msg, "more than"));
}

/* The token cap at its default: a million tokens, one more refused. */
static void test_token_cap(void **state)
{
	size_t n = JSON_TOKENS_MAX, len = 2 * n - 1;
	char *s = malloc(len + 2);
	struct json_doc doc;
	struct why why;

	(void)state;
	assert_non_null(s);
	s[0] = '[';
	for (size_t i = 0; i < n - 1; i++) {
		s[1 + 2 * i] = '0';
		s[2 + 2 * i] = ',';
	}
	s[len - 1] = ']'; /* over the last ',' */
	json_doc_init(&doc, NULL, JSON_TOKENS_MAX);
	assert_int_equal(json_parse(&doc, s, len, &why), 0);
	assert_int_equal(doc.n, n);
	assert_int_equal(doc.toks[0].size, n - 1);
	json_doc_cleanup(&doc);
	memcpy(s + len - 1, ",0]", 3);
	assert_int_equal(json_parse(&doc, s, len + 2, &why), -E2BIG);
	assert_non_null(strstr(why.msg, "more than 1048576 tokens"));
	free(s);
}

static void test_writer(void **state)
{
	static const uint8_t key[] = { 0, 1, 2, 0xff, 0xfe };
	char buf[512], back[64];
	struct json_out out;
	struct json_doc doc;
	uint8_t bin[8];
	size_t len, n;
	bool b = false;
	int64_t v;
	int t;

	(void)state;
	json_out_init(&out, buf, sizeof(buf));
	json_out_object(&out);
	json_out_key(&out, "key");
	json_out_base64(&out, key, sizeof(key));
	json_out_key(&out, "lease");
	json_out_int64(&out, INT64_MIN);
	json_out_key(&out, "id");
	json_out_uint64(&out, UINT64_MAX);
	json_out_key(&out, "prev_kv");
	json_out_bool(&out, true);
	json_out_key(&out, "s\"\\");
	json_out_string(&out, "a\"b\\c\n\x01\x1f\x7f\xc3\xa9", 11);
	json_out_key(&out, "list");
	json_out_array(&out);
	json_out_int64(&out, 1);
	json_out_object(&out);
	json_out_object_end(&out);
	json_out_array(&out);
	json_out_array_end(&out);
	json_out_bool(&out, false);
	json_out_array_end(&out);
	json_out_object_end(&out);
	assert_int_equal(json_out_finish(&out, &len), 0);
	assert_int_equal(len, strlen(buf));
	assert_string_equal(
		buf, "{\"key\":\"AAEC//4=\",\"lease\":\"-9223372036854775808\","
		     "\"id\":\"18446744073709551615\",\"prev_kv\":true,"
		     "\"s\\\"\\\\\":\"a\\\"b\\\\c\\u000a\\u0001\\u001f\x7f"
		     "\xc3\xa9\",\"list\":[\"1\",{},[],false]}");
	/* And read back. */
	parse_ok(&doc, buf);
	assert_int_equal(json_base64(&doc, json_get(&doc, 0, "key"), bin,
				     sizeof(bin), &n),
			 0);
	assert_int_equal(n, sizeof(key));
	assert_memory_equal(bin, key, sizeof(key));
	assert_int_equal(get_i64(&doc, 0, "lease"), INT64_MIN);
	assert_int_equal(json_bool(&doc, json_get(&doc, 0, "prev_kv"), &b), 0);
	assert_true(b);
	t = json_get(&doc, 0, "s\"\\");
	assert_int_equal(json_string(&doc, t, back, sizeof(back)), 11);
	assert_string_equal(back, "a\"b\\c\n\x01\x1f\x7f\xc3\xa9");
	t = json_get(&doc, 0, "list");
	assert_int_equal(doc.toks[t].size, 4);
	assert_int_equal(json_int64(&doc, t + 1, &v), 0);
	json_doc_cleanup(&doc);
}

static void test_writer_room(void **state)
{
	char buf[16];
	struct json_out out;
	size_t len, cap;

	(void)state;
	/* Every room too small for {"k":"AAEC"} fails, none writes past it. */
	for (cap = 0; cap <= 14; cap++) { /* 12 bytes and the NUL */
		memset(buf, 'Z', sizeof(buf));
		json_out_init(&out, buf, cap);
		json_out_object(&out);
		json_out_key(&out, "k");
		json_out_base64(&out, (const uint8_t *)"\0\1\2", 3);
		json_out_object_end(&out);
		if (cap < 13) {
			assert_int_equal(json_out_finish(&out, &len), -ENOSPC);
			assert_true(out.len < cap || cap == 0);
		} else {
			assert_int_equal(json_out_finish(&out, &len), 0);
			assert_string_equal(buf, "{\"k\":\"AAEC\"}");
		}
		for (size_t i = cap; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 'Z');
	}
	/* Sticky: after a failure nothing more is written. */
	json_out_init(&out, buf, 4);
	assert_int_equal(json_out_string(&out, "abcdef", 6), -ENOSPC);
	assert_int_equal(json_out_bool(&out, true), -ENOSPC);
	assert_string_equal(buf, "\"");
}

static void test_writer_misuse(void **state)
{
	char buf[64];
	struct json_out out;
	size_t len;

	(void)state;
	json_out_init(&out, buf, sizeof(buf));
	json_out_object(&out);
	assert_int_equal(json_out_bool(&out, true), -EINVAL); /* no key */
	json_out_init(&out, buf, sizeof(buf));
	assert_int_equal(json_out_key(&out, "k"), -EINVAL); /* not in one */
	json_out_init(&out, buf, sizeof(buf));
	json_out_array(&out);
	assert_int_equal(json_out_object_end(&out), -EINVAL);
	json_out_init(&out, buf, sizeof(buf));
	json_out_object(&out);
	json_out_key(&out, "k");
	assert_int_equal(json_out_key(&out, "k"), -EINVAL); /* two keys */
	json_out_init(&out, buf, sizeof(buf));
	json_out_object(&out);
	json_out_key(&out, "k");
	assert_int_equal(json_out_object_end(&out), -EINVAL); /* no value */
	json_out_init(&out, buf, sizeof(buf));
	json_out_bool(&out, true);
	assert_int_equal(json_out_bool(&out, true), -EINVAL); /* 2 values */
	json_out_init(&out, buf, sizeof(buf));
	json_out_array(&out);
	assert_int_equal(json_out_finish(&out, &len), -EINVAL); /* open */
	json_out_init(&out, buf, sizeof(buf));
	assert_int_equal(json_out_finish(&out, &len), -EINVAL); /* empty */
	json_out_init(&out, buf, sizeof(buf));
	for (int i = 0; i < JSON_DEPTH_MAX; i++)
		assert_int_equal(json_out_array(&out), 0);
	assert_int_equal(json_out_array(&out), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_etcd_range),
		cmocka_unit_test(test_iter_object),
		cmocka_unit_test(test_etcd_error_and_watch),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_valid_edges),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_bool_base64),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_token_cap),
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_writer_room),
		cmocka_unit_test(test_writer_misuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
