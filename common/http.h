/* SPDX-License-Identifier: MIT */
/* HTTP/1.1 client codec, no I/O: requests written, responses parsed as bytes arrive. */
#ifndef VXSEC_HTTP_H
#define VXSEC_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "why.h"

#define HTTP_HEAD_MAX 16384	/* status line + headers; trailers alike */
#define HTTP_HEADERS_MAX 64	/* header lines of one response (trailers) */
#define HTTP_CHUNK_LINE_MAX 256 /* a chunk-size line with its extensions */
#define HTTP_INTERIM_MAX 8	/* 1xx responses skipped before the final */

/*
 * One request, for etcd's v3 JSON gateway: method, host and path must be
 * visible ASCII (no space, CR, LF or other control: header injection),
 * the path starting with '/'; content_type and authorization (NULL: no
 * such header) may hold spaces and tabs but no other control character.
 */
struct http_req {
	const char *method;	   /* "POST" */
	const char *host;	   /* "127.0.0.1:2379" */
	const char *path;	   /* "/v3/kv/range" */
	const char *content_type;  /* "application/json" or NULL */
	const char *authorization; /* an etcd auth token or NULL */
	const void *body;
	size_t body_len;
};

/*
 * Writes "<method> <path> HTTP/1.1\r\nHost: ...\r\n[Content-Type: ...\r\n]
 * [Authorization: ...\r\n]Content-Length: N\r\n\r\n<body>" into buf
 * (keep-alive is HTTP/1.1's default) and its length into *len. -EINVAL
 * (why says which field) or -ENOSPC (nothing usable written).
 */
int http_request_write(char *buf, size_t cap, const struct http_req *req,
		       size_t *len, struct why *why);

/* What the body of the next response is made of (http_resp_reset). */
enum http_mode {
	HTTP_BODY,  /* the whole body, in r->body at HTTP_DONE */
	HTTP_LINES, /* one HTTP_LINE per '\n'-terminated line: /v3/watch */
};

/* http_resp_feed's events: it stops after each but HTTP_MORE. */
enum http_event {
	HTTP_MORE = 0, /* every byte used: feed more */
	HTTP_HEAD = 1, /* the final response's head is in: status, headers */
	HTTP_LINE = 2, /* r->line, r->line_len: valid until the next call */
	HTTP_DONE = 3, /* the response is complete (until http_resp_reset) */
};

struct http_hdr {
	uint16_t name, value; /* offsets of NUL-terminated strings in head */
};

/*
 * A response parser, reused for each response on a keep-alive
 * connection. Strict, for a server that may be hostile or broken:
 *   - lines end with CRLF; a bare LF or a lone CR is refused, as is any
 *     control character but tab, obs-fold (a line starting with white
 *     space) and white space before a header's colon;
 *   - "HTTP/1.1 NNN reason" or "HTTP/1.0 ...", NNN 100-599; 1xx interim
 *     responses (100 Continue) are skipped, 101 refused;
 *   - a body needs Content-Length (all digits; repeated only with one
 *     value) or Transfer-Encoding: chunked (nothing else, not both);
 *     204 and 304 have none. Read-until-close is refused: etcd always
 *     sends one of the two;
 *   - chunk sizes are hex digits only, then optional ";extensions"
 *     (ignored); trailers are checked like headers and ignored.
 * Errors are sticky until http_resp_reset: -EBADMSG (malformed) or
 * -EMSGSIZE (over a cap), with a reason in why; -ENOMEM.
 */
struct http_resp {
	/* results */
	int status;	 /* of the final response, once HTTP_HEAD is out */
	int minor;	 /* HTTP/1.<minor> */
	bool chunked;	 /* Transfer-Encoding: chunked */
	bool has_length; /* Content-Length given: content_length */
	bool keep_alive; /* the connection may carry the next response */
	uint64_t content_length;
	char *body; /* HTTP_BODY, at HTTP_DONE: body_len bytes and a NUL */
	size_t body_len;
	const char *line; /* HTTP_LINE: without its '\n', NUL after it */
	size_t line_len;
	/* limits and mode */
	size_t body_max, line_max;
	enum http_mode mode;
	/* parser state: private */
	int state, err, interim;
	bool pending_line, cr, in_value;
	char head[HTTP_HEAD_MAX + 1];
	size_t head_len, line_start,
		raw; /* raw: bytes of the head or trailers */
	struct http_hdr hdrs[HTTP_HEADERS_MAX];
	unsigned nhdrs, ntrailers;
	uint64_t left; /* bytes of the body or chunk still to come */
	char cline[HTTP_CHUNK_LINE_MAX + 1];
	size_t cline_len, body_cap;
	char *lbuf;
	size_t lbuf_len, lbuf_cap;
	struct why why;
};

/*
 * A parser for bodies up to body_max bytes (HTTP_BODY: -EMSGSIZE beyond)
 * and lines up to line_max bytes (HTTP_LINES), in mode HTTP_BODY. A
 * Content-Length body is allocated whole when its head is in.
 */
void http_resp_init(struct http_resp *r, size_t body_max, size_t line_max);

/* Wipes and frees what it holds; the next response's mode. */
void http_resp_reset(struct http_resp *r, enum http_mode mode);

void http_resp_cleanup(struct http_resp *r);

/*
 * Parses up to len bytes; *used says how many it took (the rest belongs
 * to a later call, or after HTTP_DONE to the next response). Returns an
 * enum http_event or -errno (r->why says why, and why too if not NULL).
 * Call again until HTTP_MORE, even with no bytes left: an event may be
 * waiting. Lines mode: empty lines are skipped, a last line without '\n'
 * is delivered when the body ends (an error's JSON object, say). The same
 * bytes give the same events, however they are split.
 */
int http_resp_feed(struct http_resp *r, const void *data, size_t len,
		   size_t *used, struct why *why);

/* The first header of that name (any case) once HTTP_HEAD is out, or NULL. */
const char *http_resp_header(const struct http_resp *r, const char *name);

#endif
