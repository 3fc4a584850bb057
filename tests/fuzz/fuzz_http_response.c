// SPDX-License-Identifier: MIT
/* Fuzz target: HTTP responses (common/http.c) fed whole and in pieces, which must agree. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/http.h"
#include "tests/fuzz/fuzz.h"

/*
 * Input: [flags] [cuts] [stream]. flags bit 0: lines mode (a watch), bit
 * 1: tight caps. cuts seeds the piece sizes: up to 2^(cuts % 17) bytes
 * each, from a generator seeded by it. The stream may hold several
 * responses (keep-alive): the parser is reset after each.
 */
#define TIGHT_BODY 64
#define TIGHT_LINE 16
#define ROOMY_BODY (1u << 20)
#define ROOMY_LINE 4096

struct outcome {
	uint64_t hash; /* of the events and what they delivered */
	size_t events, fed, delivered;
	int err;
};

static void mix(struct outcome *o, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		o->hash = (o->hash ^ b[i]) * 0x100000001b3ull;
}

static void mix_int(struct outcome *o, long long v)
{
	mix(o, &v, sizeof(v));
}

/* The promises of http.h about one event; folds it into o. */
static void event(struct outcome *o, const struct http_resp *r, int e)
{
	o->events++;
	mix_int(o, e);
	if (e == HTTP_HEAD) {
		if (r->status < 200 || r->status > 599 ||
		    (r->chunked && r->has_length))
			abort();
		mix_int(o, r->status);
		mix_int(o, r->chunked);
		mix_int(o, r->has_length ? (long long)r->content_length : -1);
		mix_int(o, r->keep_alive);
	} else if (e == HTTP_LINE) {
		if (!r->line_len || r->line_len > r->line_max ||
		    r->line[r->line_len] || memchr(r->line, '\n', r->line_len))
			abort();
		o->delivered += r->line_len;
		mix(o, r->line, r->line_len);
	} else if (e == HTTP_DONE && r->mode == HTTP_BODY) {
		if (!r->body || r->body_len > r->body_max ||
		    r->body[r->body_len] ||
		    (r->has_length && r->status != 204 && r->status != 304 &&
		     r->body_len != r->content_length))
			abort();
		o->delivered += r->body_len;
		mix(o, r->body, r->body_len);
	}
	if (o->delivered > o->fed)
		abort(); /* more out than in */
}

/* A refusal: says why, is one of the documented codes, and sticks. */
static void refusal(struct outcome *o, struct http_resp *r, int e,
		    const struct why *why)
{
	size_t used = 1;

	if (!why->msg[0] || strcmp(why->msg, r->why.msg) != 0)
		abort();
	if (e != -EBADMSG && e != -EMSGSIZE && e != -ENOMEM)
		abort();
	if (http_resp_feed(r, "x", 1, &used, NULL) != e || used)
		abort();
	o->err = e;
	mix(o, why->msg, strlen(why->msg));
}

static uint32_t next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* One piece, until HTTP_MORE; false once refused. */
static bool piece(struct outcome *o, struct http_resp *r, const uint8_t *p,
		  size_t len, enum http_mode mode)
{
	struct why why;
	size_t used;
	int e;

	do {
		why.msg[0] = '\0';
		e = http_resp_feed(r, p, len, &used, &why);
		if (used > len || (e == HTTP_MORE && used != len))
			abort();
		p += used;
		len -= used;
		o->fed += used;
		if (e < 0) {
			refusal(o, r, e, &why);
			return false;
		}
		if (e != HTTP_MORE)
			event(o, r, e);
		if (e == HTTP_HEAD)
			(void)http_resp_header(r, "Content-Type");
		if (e == HTTP_DONE)
			http_resp_reset(r, mode);
	} while (e != HTTP_MORE);
	return true;
}

static void run(struct outcome *o, const uint8_t *p, size_t len, uint8_t flags,
		uint8_t cuts, bool whole)
{
	enum http_mode mode = flags & 1 ? HTTP_LINES : HTTP_BODY;
	uint32_t seed = (uint32_t)cuts * 2654435761u | 1,
		 max = 1u << (cuts % 17);
	struct http_resp r;
	size_t n;

	memset(o, 0, sizeof(*o));
	o->hash = 0xcbf29ce484222325ull;
	if (flags & 2)
		http_resp_init(&r, TIGHT_BODY, TIGHT_LINE);
	else
		http_resp_init(&r, ROOMY_BODY, ROOMY_LINE);
	http_resp_reset(&r, mode);
	do {
		n = whole ? len : 1 + next(&seed) % max;
		if (n > len)
			n = len;
		if (!piece(o, &r, p, n, mode))
			break;
		p += n;
		len -= n;
	} while (len);
	http_resp_cleanup(&r);
}

int fuzz_http_response(const uint8_t *data, size_t size)
{
	struct outcome whole, cut;

	if (size < 2)
		return 0;
	run(&whole, data + 2, size - 2, data[0], data[1], true);
	run(&cut, data + 2, size - 2, data[0], data[1], false);
	if (whole.hash != cut.hash || whole.events != cut.events ||
	    whole.err != cut.err || whole.delivered != cut.delivered)
		abort(); /* the split changed what came out */
	return 0;
}
