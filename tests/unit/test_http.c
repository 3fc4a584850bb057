// SPDX-License-Identifier: MIT
/* Unit tests: HTTP responses however split, refusals, caps, keep-alive. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/http.h"

#define TX_MAX (1 << 16)
#define MIB (1u << 20)

/* What a parser made of a stream: its events, as text. */
struct tx {
	char s[TX_MAX];
	size_t n;
};

static void tx_add(struct tx *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void tx_add(struct tx *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	t->n += (size_t)vsnprintf(t->s + t->n, sizeof(t->s) - t->n, fmt, ap);
	va_end(ap);
	assert_true(t->n < sizeof(t->s));
}

struct run {
	enum http_mode mode;
	size_t body_max, line_max;
};

static const struct run body_mode = { HTTP_BODY, MIB, 4096 };
static const struct run lines_mode = { HTTP_LINES, MIB, 4096 };

static void tx_event(struct tx *t, struct http_resp *r, int e)
{
	switch (e) {
	case HTTP_HEAD:
		tx_add(t, "HEAD %d %s%s\n", r->status,
		       r->chunked      ? "chunked"
		       : r->has_length ? "length"
				       : "none",
		       r->keep_alive ? "" : " close");
		break;
	case HTTP_LINE:
		assert_int_equal(strlen(r->line), r->line_len);
		tx_add(t, "LINE %s\n", r->line);
		break;
	case HTTP_DONE:
		if (r->mode == HTTP_BODY) {
			assert_non_null(r->body);
			assert_int_equal(r->body[r->body_len], '\0');
			tx_add(t, "DONE %zu %s\n", r->body_len, r->body);
		} else {
			tx_add(t, "DONE\n");
		}
		break;
	default:
		assert_true(e < 0);
		assert_true(r->why.msg[0] != '\0');
		tx_add(t, "ERR %d %s\n", e, r->why.msg);
	}
}

/*
 * Feeds in[] in pieces (cuts: piece lengths, summing to len), as a caller
 * would: each piece until HTTP_MORE, a reset after each response.
 */
static void drive(const struct run *m, const char *in, size_t len,
		  const size_t *cuts, size_t ncuts, struct tx *t)
{
	struct http_resp r;
	size_t off = 0, i, used;
	int e = 0;

	t->n = 0;
	t->s[0] = '\0';
	http_resp_init(&r, m->body_max, m->line_max);
	http_resp_reset(&r, m->mode);
	for (i = 0; i < ncuts && e >= 0; i++) {
		const char *p = in + off;
		size_t left = cuts[i];

		off += cuts[i];
		do {
			e = http_resp_feed(&r, p, left, &used, NULL);
			assert_true(used <= left);
			p += used;
			left -= used;
			if (e != HTTP_MORE)
				tx_event(t, &r, e);
			if (e == HTTP_DONE)
				http_resp_reset(&r, m->mode);
		} while (e > 0);
		assert_true(e < 0 || left == 0);
	}
	assert_int_equal(off, e < 0 ? off : len);
	http_resp_cleanup(&r);
}

static void drive_whole(const struct run *m, const char *in, size_t len,
			struct tx *t)
{
	drive(m, in, len, &len, 1, t);
}

/* Every split gives the transcript of the whole: returns it. */
static const char *splits(const struct run *m, const char *in, size_t len,
			  bool every)
{
	static struct tx whole, part;
	size_t *cuts = calloc(len + 1, sizeof(*cuts)), i, k, n;

	assert_non_null(cuts);
	drive_whole(m, in, len, &whole);
	for (i = 0; i < len; i++)
		cuts[i] = 1;
	drive(m, in, len, cuts, len, &part);
	assert_string_equal(part.s, whole.s);
	for (i = 0; every && i <= len; i++) {
		cuts[0] = i;
		cuts[1] = len - i;
		drive(m, in, len, cuts, 2, &part);
		assert_string_equal(part.s, whole.s);
	}
	srandom((unsigned)len);
	for (k = 0; k < 50; k++) {
		for (i = n = 0; i < len; i += cuts[n++])
			cuts[n] = 1 + (size_t)random() %
					      (len - i < 40 ? len - i : 40);
		drive(m, in, len, cuts, n, &part);
		assert_string_equal(part.s, whole.s);
	}
	free(cuts);
	return whole.s;
}

#define S(lit) (lit), sizeof(lit) - 1

static const char range_resp[] =
	"HTTP/1.1 200 OK\r\n"
	"Access-Control-Allow-Headers: accept, content-type, authorization\r\n"
	"Content-Type: application/json\r\n"
	"Grpc-Metadata-Content-Type: application/grpc\r\n"
	"Date: Sun, 06 Dec 2026 00:00:00 GMT\r\n"
	"Content-Length: 63\r\n\r\n"
	"{\"header\":{\"cluster_id\":\"14841639068965178418\",\"revision\":"
	"\"7\"}}";

static void test_content_length(void **state)
{
	struct http_resp r;
	size_t used;

	(void)state;
	assert_string_equal(
		splits(&body_mode, S(range_resp), true),
		"HEAD 200 length\nDONE 63 {\"header\":{\"cluster_id\":"
		"\"14841639068965178418\",\"revision\":\"7\"}}\n");
	http_resp_init(&r, MIB, 4096);
	assert_int_equal(http_resp_feed(&r, range_resp, 40, &used, NULL),
			 HTTP_MORE);
	assert_null(http_resp_header(&r, "content-type")); /* not yet */
	assert_int_equal(http_resp_feed(&r, range_resp + 40,
					sizeof(range_resp) - 1 - 40, &used,
					NULL),
			 HTTP_HEAD);
	used += 40;
	assert_string_equal(http_resp_header(&r, "content-TYPE"),
			    "application/json");
	assert_string_equal(http_resp_header(&r, "Grpc-Metadata-Content-Type"),
			    "application/grpc");
	assert_null(http_resp_header(&r, "Content-Typ"));
	assert_int_equal(r.content_length, 63);
	assert_int_equal(used, sizeof(range_resp) - 1 - 63);
	http_resp_cleanup(&r);
}

static const char chunked_resp[] =
	"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	"Transfer-Encoding: chunked\r\n\r\n"
	"7\r\n{\"a\":1,\r\n"
	"00A;name=value;x\r\n\"b\":[1,2]}\r\n"
	"0\r\nX-Trailer: t\r\nGrpc-Trailer-Status: 0\r\n\r\n";

static void test_chunked(void **state)
{
	(void)state;
	assert_string_equal(
		splits(&body_mode, S(chunked_resp), true),
		"HEAD 200 chunked\nDONE 17 {\"a\":1,\"b\":[1,2]}\n");
}

/* A watch: objects cut across chunks, several in one, then an end. */
static const char watch_resp[] =
	"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	"Grpc-Metadata-Content-Type: application/grpc\r\n"
	"Transfer-Encoding: chunked\r\n\r\n"
	"36\r\n{\"result\":{\"header\":{\"revision\":\"7\"},\"created\":true}}"
	"\n\r\n"
	"b\r\n{\"result\":{\r\n"
	"19\r\n\"events\":[{\"kv\":\"k1\"}]}}\n\r\n"
	"2d\r\n{\"result\":{\"n\":2}}\n\n{\"result\":{\"n\":3}}\r\n{\"res\r\n"
	"e\r\nult\":{\"n\":4}}\n\r\n"
	"0\r\n\r\n";

static void test_watch(void **state)
{
	static const char lines[] =
		"HEAD 200 chunked\n"
		"LINE {\"result\":{\"header\":{\"revision\":\"7\"},"
		"\"created\":true}}\n"
		"LINE {\"result\":{\"events\":[{\"kv\":\"k1\"}]}}\n"
		"LINE {\"result\":{\"n\":2}}\n"
		"LINE {\"result\":{\"n\":3}}\n"
		"LINE {\"result\":{\"n\":4}}\n";
	char want[sizeof(lines) + 8];
	struct tx t;

	(void)state;
	snprintf(want, sizeof(want), "%sDONE\n", lines);
	assert_string_equal(splits(&lines_mode, S(watch_resp), true), want);
	/* Still open: the lines so far, no end. */
	drive_whole(&lines_mode, watch_resp, sizeof(watch_resp) - 8, &t);
	assert_string_equal(t.s, lines);
	/* An error object without '\n' is the last line. */
	assert_string_equal(
		splits(&lines_mode,
		       S("HTTP/1.1 400 Bad Request\r\nContent-Length: "
			 "25\r\n\r\n"
			 "\r\n\n{\"error\":\"x\",\"code\":3}"),
		       true),
		"HEAD 400 length\nLINE {\"error\":\"x\",\"code\":3}\n"
		"DONE\n");
}

/* Interim responses, bodiless ones, keep-alive and HTTP/1.0. */
static void test_keep_alive(void **state)
{
	static const char two[] =
		"HTTP/1.1 100 Continue\r\n\r\n"
		"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
		"Content-Length: 2\r\n\r\nok"
		"HTTP/1.1 204 No Content\r\n\r\n"
		"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
		"Transfer-Encoding: chunked\r\n\r\n3\r\n{}\n\r\n0\r\n\r\n"
		"HTTP/1.0 200\r\nConnection: Keep-Alive\r\nContent-Length: 0"
		"\r\n\r\nHTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
	struct http_resp r;
	size_t used;

	(void)state;
	assert_string_equal(splits(&body_mode, S(two), true),
			    "HEAD 200 length\nDONE 2 ok\n"
			    "HEAD 204 none\nDONE 0 \n"
			    "HEAD 503 chunked close\nDONE 3 {}\n\n"
			    "HEAD 200 length\nDONE 0 \n"
			    "HEAD 200 length close\nDONE 0 \n");
	/* What follows a response is left for the next. */
	http_resp_init(&r, MIB, 4096);
	assert_int_equal(http_resp_feed(&r, S(two), &used, NULL), HTTP_HEAD);
	assert_int_equal(http_resp_feed(&r, two + used, 10, &used, NULL),
			 HTTP_DONE);
	assert_int_equal(used, 2);
	assert_int_equal(http_resp_feed(&r, "x", 1, &used, NULL), HTTP_DONE);
	assert_int_equal(used, 0);
	http_resp_cleanup(&r);
}

struct bad {
	const char *in;
	int err;
	const char *why;
};

static const struct bad refusals[] = {
	{ "HTTP/2 200 OK\r\n\r\n", -EBADMSG, "bad status line" },
	{ "HTTP/1.2 200 OK\r\n\r\n", -EBADMSG, "bad status line" },
	{ "HTTP/1.1 200OK\r\n\r\n", -EBADMSG, "bad status line" },
	{ "HTTP/1.1  200 OK\r\n\r\n", -EBADMSG, "bad status line" },
	{ "http/1.1 200 OK\r\n\r\n", -EBADMSG, "bad status line" },
	{ "\r\nHTTP/1.1 200 OK\r\n\r\n", -EBADMSG, "bad status line" },
	{ "HTTP/1.1 099 X\r\n\r\n", -EBADMSG, "bad status code" },
	{ "HTTP/1.1 600 X\r\n\r\n", -EBADMSG, "bad status code" },
	{ "HTTP/1.1 2x0 X\r\n\r\n", -EBADMSG, "bad status code" },
	{ "HTTP/1.1 101 Switching Protocols\r\n\r\n", -EBADMSG, "101" },
	{ "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", -EBADMSG, "bare LF" },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 0\n\n", -EBADMSG, "bare LF" },
	{ "HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", -EBADMSG, "CR without LF" },
	{ "HTTP/1.1 200 OK\r\nA: b\x01\r\n\r\n", -EBADMSG, "control char" },
	{ "HTTP/1.1 200 OK\r\nContent-Length 0\r\n\r\n", -EBADMSG,
	  "bad character in a header name" },
	{ "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", -EBADMSG, "without a colon" },
	{ "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", -EBADMSG,
	  "bad character in a header name" },
	{ "HTTP/1.1 200 OK\r\n: v\r\n\r\n", -EBADMSG, "empty header name" },
	{ "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", -EBADMSG, "obs-fold" },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n",
	  -EBADMSG, "both Content-Length and Transfer-Encoding" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	  "Content-Length: 2\r\n\r\n",
	  -EBADMSG, "both Content-Length and Transfer-Encoding" },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
	  -EBADMSG, "two different Content-Lengths" },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\n", -EBADMSG,
	  "not all digits" },
	{ "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\n", -EBADMSG,
	  "not all digits" },
	{ "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", -EBADMSG,
	  "not all digits" },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n", -EBADMSG,
	  "not all digits" },
	{ "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", -EBADMSG,
	  "empty Content-Length" },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n",
	  -EBADMSG, "Content-Length overflows" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", -EBADMSG,
	  "other than chunked" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	  -EBADMSG, "other than chunked" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n",
	  -EBADMSG, "Transfer-Encoding twice" },
	{ "HTTP/1.1 200 OK\r\nContent-Type: a/json\r\n\r\n{}", -EBADMSG,
	  "read-until-close is not supported" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	  -EBADMSG, "chunk size not in hex" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\n",
	  -EBADMSG, "chunk size not in hex" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n",
	  -EBADMSG, "chunk size not in hex" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\n",
	  -EBADMSG, "junk after a chunk size" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\n",
	  -EBADMSG, "junk after a chunk size" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "10000000000000000\r\n",
	  -EMSGSIZE, "chunk size overflows" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\n", -EBADMSG,
	  "bare LF in a chunk-size line" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\n",
	  -EBADMSG, "not followed by CRLF" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r0",
	  -EBADMSG, "not followed by CRLF" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT\r\n",
	  -EBADMSG, "trailer line without a colon" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
	  "T: 1\r\n 2\r\n",
	  -EBADMSG, "folded trailer" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
	  "T: 1\n",
	  -EBADMSG, "bare LF in the trailers" },
};

static void test_refusals(void **state)
{
	static const struct run *modes[] = { &body_mode, &lines_mode };
	size_t i, m;
	const char *t, *e;

	(void)state;
	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		for (m = 0; m < 2; m++) {
			t = splits(modes[m], refusals[i].in,
				   strlen(refusals[i].in), true);
			e = strstr(t, "ERR ");
			if (!e || atoi(e + 4) != refusals[i].err ||
			    !strstr(e, refusals[i].why))
				fail_msg("case %zu: got %s", i, t);
		}
	}
}

/* A head of n bytes exactly, its last line "Content-Length: 0". */
static char *head_of(size_t n)
{
	static const char pre[] = "HTTP/1.1 200 OK\r\nX: ";
	static const char end[] = "\r\nContent-Length: 0\r\n\r\n";
	size_t fill = n - (sizeof(pre) - 1) - (sizeof(end) - 1);
	char *s = malloc(n + 1);

	assert_non_null(s);
	memcpy(s, pre, sizeof(pre) - 1);
	memset(s + sizeof(pre) - 1, 'x', fill);
	memcpy(s + n - (sizeof(end) - 1), end, sizeof(end));
	return s;
}

static void expect(const struct run *m, const char *in, size_t len, bool every,
		   const char *want)
{
	const char *t = splits(m, in, len, every);

	if (!strstr(t, want))
		fail_msg("want %s, got %s", want, t);
}

static void test_caps_head(void **state)
{
	char *s, buf[64 * 8 + 64];
	size_t n = 0;
	int i;

	(void)state;
	s = head_of(HTTP_HEAD_MAX);
	expect(&body_mode, s, strlen(s), false, "DONE 0");
	free(s);
	s = head_of(HTTP_HEAD_MAX + 1);
	expect(&body_mode, s, strlen(s), false,
	       "ERR -90 status line and headers over 16384 bytes");
	free(s);
	n = (size_t)sprintf(buf, "HTTP/1.1 200 OK\r\n");
	for (i = 0; i < HTTP_HEADERS_MAX - 1; i++)
		n += (size_t)sprintf(buf + n, "A:\r\n");
	memcpy(buf + n, "Content-Length: 0\r\n\r\n", 22);
	expect(&body_mode, buf, n + 21, true, "DONE 0");
	memcpy(buf + n, "A:\r\nContent-Length: 0\r\n\r\n", 26);
	expect(&body_mode, buf, n + 25, false, "ERR -90 more than 64 header");
	n = (size_t)sprintf(buf, "HTTP/1.1 100 Continue\r\n\r\n");
	assert_string_equal(splits(&body_mode, buf, n, true), "");
	for (i = 0; i < HTTP_INTERIM_MAX; i++)
		n += (size_t)sprintf(buf + n, "HTTP/1.1 100 Continue\r\n\r\n");
	expect(&body_mode, buf, n, false, "ERR -90 more than 8 interim");
}

static void test_caps_body(void **state)
{
	static const char te[] =
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
	static const struct run tight = { HTTP_BODY, 10, 4 };
	static const struct run tight_lines = { HTTP_LINES, 10, 4 };
	static const struct run no_cap = { HTTP_BODY, SIZE_MAX, SIZE_MAX };
	char buf[2048];
	size_t n;
	int i;

	(void)state;
	/* caps of SIZE_MAX: no overflow of cap + 1 */
	expect(&no_cap, S(chunked_resp), false, "DONE 17");
	expect(&no_cap, S(range_resp), false, "DONE 63");
	expect(&tight,
	       S("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
		 "0123456789"),
	       true, "DONE 10 0123456789");
	/* refused at the head, before the body */
	expect(&tight, S("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n"), true,
	       "ERR -90 Content-Length 11 over 10 bytes");
	expect(&tight,
	       S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n"),
	       true, "DONE 10 0123456789");
	expect(&tight,
	       S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "5\r\n01234\r\n6\r\n"),
	       true, "ERR -90 chunked body over 10 bytes");
	/* lines of 4 bytes, not 5; the stream itself has no cap */
	expect(&tight_lines,
	       S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "f\r\n0123\n45\n6789\n\r\n"),
	       true, "LINE 0123\nLINE 45\nLINE 6789\n");
	expect(&tight_lines,
	       S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "f\r\n0123\n45\n67890\r\n"),
	       true, "LINE 45\nERR -90 a line of the stream over 4 bytes");
	n = (size_t)sprintf(buf, "%s1;", te);
	memset(buf + n, 'e', HTTP_CHUNK_LINE_MAX - 2);
	n += HTTP_CHUNK_LINE_MAX - 2;
	n += (size_t)sprintf(buf + n, "\r\nx\r\n0\r\n\r\n");
	expect(&body_mode, buf, n, true, "DONE 1 x");
	n = (size_t)sprintf(buf, "%s1;", te);
	memset(buf + n, 'e', HTTP_CHUNK_LINE_MAX - 1);
	n += HTTP_CHUNK_LINE_MAX - 1;
	n += (size_t)sprintf(buf + n, "\r\nx\r\n0\r\n\r\n");
	expect(&body_mode, buf, n, true, "ERR -90 chunk-size line over 256");
	n = (size_t)sprintf(buf, "%s0\r\n", te);
	for (i = 0; i < HTTP_HEADERS_MAX; i++)
		n += (size_t)sprintf(buf + n, "T:\r\n");
	expect(&body_mode, buf, n + (size_t)sprintf(buf + n, "\r\n"), false,
	       "DONE 0");
	n += (size_t)sprintf(buf + n, "T:\r\n\r\n");
	expect(&body_mode, buf, n, false, "ERR -90 more than 64 trailer");
}

static void test_caps_trailers(void **state)
{
	static const char te[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
				 "chunked\r\n\r\n0\r\nT: ";
	size_t n = sizeof(te) - 1, fill = HTTP_HEAD_MAX - 7;
	char *s = malloc(n + fill + 8);

	(void)state;
	assert_non_null(s);
	memcpy(s, te, n);
	memset(s + n, 'x', fill);
	memcpy(s + n + fill, "\r\n\r\n", 4);
	expect(&body_mode, s, n + fill + 4, false, "DONE 0");
	s[n + fill] = 'x';
	memcpy(s + n + fill + 1, "\r\n\r\n", 4);
	expect(&body_mode, s, n + fill + 5, false,
	       "ERR -90 trailers over 16384 bytes");
	free(s);
}

/* An error stays until a reset; then the parser is as new. */
static void test_sticky(void **state)
{
	struct http_resp r;
	struct why why = { "" };
	size_t used;

	(void)state;
	http_resp_init(&r, MIB, 4096);
	assert_int_equal(
		http_resp_feed(&r, S("HTTP/1.1 200 OK\n"), &used, &why),
		-EBADMSG);
	assert_string_equal(why.msg, "bare LF in the head (CRLF required)");
	assert_int_equal(used, 16);
	why.msg[0] = '\0';
	assert_int_equal(http_resp_feed(&r, S(range_resp), &used, &why),
			 -EBADMSG);
	assert_int_equal(used, 0);
	assert_string_equal(why.msg, "bare LF in the head (CRLF required)");
	http_resp_reset(&r, HTTP_BODY);
	assert_int_equal(http_resp_feed(&r, S(range_resp), &used, &why),
			 HTTP_HEAD);
	assert_int_equal(http_resp_feed(&r, range_resp + used,
					sizeof(range_resp) - 1 - used, &used,
					&why),
			 HTTP_DONE);
	assert_int_equal(r.body_len, 63);
	http_resp_cleanup(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_watch),
		cmocka_unit_test(test_keep_alive),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_caps_head),
		cmocka_unit_test(test_caps_body),
		cmocka_unit_test(test_caps_trailers),
		cmocka_unit_test(test_sticky),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
