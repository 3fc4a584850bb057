// SPDX-License-Identifier: MIT
/* HTTP/1.1 responses parsed as their bytes arrive: head, then body or lines. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hex.h"
#include "http.h"

enum {
	ST_HEAD,    /* status line and headers */
	ST_LENGTH,  /* a Content-Length body: left bytes to come */
	ST_CSIZE,   /* a chunk-size line */
	ST_CDATA,   /* a chunk's data: left bytes to come */
	ST_CCRLF,   /* the CRLF after a chunk's data */
	ST_TRAILER, /* trailer lines, up to an empty one */
	ST_END,	    /* the body is in: a last line, then HTTP_DONE */
	ST_DONE,    /* HTTP_DONE said */
};

#define BODY_MIN 256 /* first allocation of a chunked body or a line */

/* Says why, keeps the error (sticky) and is it. */
#define fail(r, e, ...) (why_set(&(r)->why, __VA_ARGS__), (r)->err = (e))

static bool ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static bool tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool ows(char c)
{
	return c == ' ' || c == '\t';
}

static void buf_free(void *p, size_t cap)
{
	if (p)
		explicit_bzero(p, cap);
	free(p);
}

/*
 * Grows *buf (of *cap bytes, len used) to hold want bytes and a NUL,
 * doubling, but to no more than limit bytes and a NUL (want <= limit).
 */
static int buf_grow(char **buf, size_t *cap, size_t len, size_t want,
		    size_t limit)
{
	size_t n = *cap ? *cap : BODY_MIN;
	char *p;

	if (want < *cap)
		return 0;
	while (n <= want)
		n = n > SIZE_MAX / 2 ? want + 1 : n * 2;
	if (n > limit + 1)
		n = limit + 1;
	p = malloc(n);
	if (!p)
		return -ENOMEM;
	if (len)
		memcpy(p, *buf, len);
	buf_free(*buf, *cap); /* no realloc: the bytes may be secrets */
	*buf = p;
	*cap = n;
	return 0;
}

void http_resp_init(struct http_resp *r, size_t body_max, size_t line_max)
{
	memset(r, 0, sizeof(*r));
	/* room for a NUL, and for doubling, without overflow */
	r->body_max = body_max < SIZE_MAX / 4 ? body_max : SIZE_MAX / 4;
	r->line_max = line_max < SIZE_MAX / 4 ? line_max : SIZE_MAX / 4;
	r->mode = HTTP_BODY;
	r->keep_alive = true;
}

void http_resp_reset(struct http_resp *r, enum http_mode mode)
{
	size_t body_max = r->body_max, line_max = r->line_max;

	buf_free(r->body, r->body_cap);
	buf_free(r->lbuf, r->lbuf_cap);
	http_resp_init(r, body_max, line_max);
	r->mode = mode;
}

void http_resp_cleanup(struct http_resp *r)
{
	http_resp_reset(r, HTTP_BODY);
}

const char *http_resp_header(const struct http_resp *r, const char *name)
{
	unsigned i;

	if (r->state == ST_HEAD)
		return NULL;
	for (i = 0; i < r->nhdrs; i++)
		if (strcasecmp(r->head + r->hdrs[i].name, name) == 0)
			return r->head + r->hdrs[i].value;
	return NULL;
}

/* Whether the comma-separated list v holds token t (any case). */
static bool list_has(const char *v, const char *t)
{
	size_t n = strlen(t);

	while (*v) {
		while (ows(*v) || *v == ',')
			v++;
		if (strncasecmp(v, t, n) == 0 &&
		    (!v[n] || v[n] == ',' || ows(v[n])))
			return true;
		while (*v && *v != ',')
			v++;
	}
	return false;
}

static int status_line(struct http_resp *r, const char *s, size_t n)
{
	int code;

	if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 ||
	    (s[7] != '0' && s[7] != '1') || s[8] != ' ' ||
	    (n > 12 && s[12] != ' '))
		return fail(r, -EBADMSG,
			    "bad status line (not \"HTTP/1.1 NNN reason\")");
	if (s[9] < '1' || s[9] > '5' || s[10] < '0' || s[10] > '9' ||
	    s[11] < '0' || s[11] > '9')
		return fail(r, -EBADMSG, "bad status code (not 100-599)");
	code = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	if (code == 101)
		return fail(r, -EBADMSG, "101 Switching Protocols unasked");
	r->status = code;
	r->minor = s[7] - '0';
	r->keep_alive = r->minor == 1;
	return 0;
}

static int content_length(struct http_resp *r, const char *v)
{
	uint64_t n = 0;

	if (!*v)
		return fail(r, -EBADMSG, "empty Content-Length");
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return fail(r, -EBADMSG,
				    "Content-Length not all digits");
		if (n > (UINT64_MAX - (uint64_t)(*v - '0')) / 10)
			return fail(r, -EBADMSG, "Content-Length overflows");
		n = n * 10 + (uint64_t)(*v - '0');
	}
	if (r->has_length && n != r->content_length)
		return fail(r, -EBADMSG, "two different Content-Lengths");
	r->has_length = true;
	r->content_length = n;
	return 0;
}

/* The headers that frame the body or the connection. */
static int header_meaning(struct http_resp *r, const char *name, const char *v)
{
	int err = 0;

	if (strcasecmp(name, "content-length") == 0)
		err = content_length(r, v);
	else if (strcasecmp(name, "transfer-encoding") == 0) {
		if (r->chunked)
			return fail(r, -EBADMSG, "Transfer-Encoding twice");
		if (strcasecmp(v, "chunked") != 0)
			return fail(r, -EBADMSG,
				    "Transfer-Encoding other than chunked");
		r->chunked = true;
	} else if (strcasecmp(name, "connection") == 0) {
		if (list_has(v, "close"))
			r->keep_alive = false;
		else if (list_has(v, "keep-alive"))
			r->keep_alive = true;
	}
	if (!err && r->chunked && r->has_length)
		return fail(r, -EBADMSG,
			    "both Content-Length and Transfer-Encoding");
	return err;
}

/* The header line at head + line_start, n bytes: indexed in place. */
static int header_line(struct http_resp *r, size_t n)
{
	char *s = r->head + r->line_start;
	size_t i = 0, end = n;

	if (ows(s[0]))
		return fail(r, -EBADMSG, "folded header line (obs-fold)");
	while (i < n && tchar((unsigned char)s[i]))
		i++;
	if (i == n || s[i] != ':')
		return fail(r, -EBADMSG,
			    i == n ? "header line without a colon"
				   : "bad character in a header name");
	if (!i)
		return fail(r, -EBADMSG, "empty header name");
	if (r->nhdrs == HTTP_HEADERS_MAX)
		return fail(r, -EMSGSIZE, "more than %d header lines",
			    HTTP_HEADERS_MAX);
	s[i++] = '\0';
	while (i < n && ows(s[i]))
		i++;
	while (end > i && ows(s[end - 1]))
		end--;
	s[end] = '\0';
	r->hdrs[r->nhdrs].name = (uint16_t)r->line_start;
	r->hdrs[r->nhdrs].value = (uint16_t)(r->line_start + i);
	r->nhdrs++;
	r->head_len = r->line_start = r->line_start + n + 1;
	return header_meaning(r, s, s + i);
}

/* A Content-Length body: room for it in mode HTTP_BODY. */
static int length_body(struct http_resp *r)
{
	uint64_t n = r->content_length;

	if (r->mode == HTTP_BODY) {
		if (n > r->body_max)
			return fail(r, -EMSGSIZE,
				    "Content-Length %llu over %zu bytes",
				    (unsigned long long)n, r->body_max);
		if (n &&
		    buf_grow(&r->body, &r->body_cap, 0, (size_t)n, (size_t)n))
			return fail(r, -ENOMEM, "no memory for a body");
	}
	r->left = n;
	r->state = n ? ST_LENGTH : ST_END;
	return 0;
}

/* Where the body goes: HTTP_HEAD, or 0 for an interim response skipped. */
static int head_done(struct http_resp *r)
{
	if (r->status < 200) {
		if (++r->interim > HTTP_INTERIM_MAX)
			return fail(r, -EMSGSIZE,
				    "more than %d interim (1xx) responses",
				    HTTP_INTERIM_MAX);
		r->status = 0;
		r->nhdrs = 0;
		r->head_len = r->line_start = r->left = 0;
		r->has_length = r->chunked = false;
		return 0;
	}
	if (r->status == 204 || r->status == 304) {
		r->state = ST_END;
	} else if (r->chunked) {
		r->state = ST_CSIZE;
	} else if (r->has_length) {
		if (length_body(r))
			return r->err;
	} else {
		return fail(r, -EBADMSG,
			    "neither Content-Length nor chunked "
			    "(read-until-close is not supported)");
	}
	return HTTP_HEAD;
}

/* A line of the head ended (its CRLF taken): status, header or the end. */
static int head_line(struct http_resp *r)
{
	size_t n = r->head_len - r->line_start;
	int err;

	if (!r->status) {
		err = status_line(r, r->head, n);
		r->head_len = r->line_start = 0;
		return err;
	}
	if (n)
		return header_line(r, n);
	return head_done(r);
}

/*
 * One byte of a CRLF-terminated line: 1 at its end (CRLF taken), 0, or a
 * refusal. Stores it at buf[*n] if buf (room checked by the caller).
 */
static int line_byte(struct http_resp *r, char c, char *buf, size_t *n,
		     const char *what)
{
	if (r->cr) {
		if (c != '\n')
			return fail(r, -EBADMSG, "CR without LF in %s", what);
		r->cr = false;
		return 1;
	}
	if (c == '\r') {
		r->cr = true;
		return 0;
	}
	if (c == '\n')
		return fail(r, -EBADMSG, "bare LF in %s (CRLF required)", what);
	if (ctl((unsigned char)c))
		return fail(r, -EBADMSG, "control character in %s", what);
	if (buf)
		buf[(*n)++] = c;
	return 0;
}

static int feed_head(struct http_resp *r, const char *p, size_t len,
		     size_t *used)
{
	int rc = 0;

	while (*used < len && !rc) {
		if (++r->raw > HTTP_HEAD_MAX)
			return fail(r, -EMSGSIZE,
				    "status line and headers over %d bytes",
				    HTTP_HEAD_MAX);
		rc = line_byte(r, p[(*used)++], r->head, &r->head_len,
			       "the head");
		if (rc == 1) {
			rc = head_line(r);
			if (!rc && !r->status) /* an interim response ended */
				r->raw = 0;
		}
	}
	return rc;
}

/* The line in lbuf is complete: HTTP_LINE, or 0 if it is empty. */
static int line_out(struct http_resp *r)
{
	if (r->lbuf_len && r->lbuf[r->lbuf_len - 1] == '\r')
		r->lbuf_len--;
	if (!r->lbuf_len)
		return 0;
	r->lbuf[r->lbuf_len] = '\0';
	r->line = r->lbuf;
	r->line_len = r->lbuf_len;
	r->pending_line = true;
	return HTTP_LINE;
}

/* Body bytes in lines mode: up to and with the next '\n'. */
static int lines_data(struct http_resp *r, const char *p, size_t n,
		      size_t *used)
{
	const char *nl = memchr(p, '\n', n);
	size_t k = nl ? (size_t)(nl - p) : n;

	if (k > r->line_max - r->lbuf_len)
		return fail(r, -EMSGSIZE, "a line of the stream over %zu bytes",
			    r->line_max);
	if (buf_grow(&r->lbuf, &r->lbuf_cap, r->lbuf_len, r->lbuf_len + k,
		     r->line_max))
		return fail(r, -ENOMEM, "no memory for a line of %zu bytes",
			    r->lbuf_len + k);
	memcpy(r->lbuf + r->lbuf_len, p, k);
	r->lbuf_len += k;
	*used = k + (nl != NULL);
	return nl ? line_out(r) : 0;
}

/* Bytes of a Content-Length body or of a chunk: left at most. */
static int body_data(struct http_resp *r, const char *p, size_t len,
		     size_t *used)
{
	size_t n = len < r->left ? len : (size_t)r->left;
	int rc = 0;

	if (r->mode == HTTP_LINES) {
		rc = lines_data(r, p, n, used);
	} else { /* room made by head_done or chunk_size */
		memcpy(r->body + r->body_len, p, n);
		r->body_len += n;
		*used = n;
	}
	r->left -= *used;
	if (!r->left && rc >= 0)
		r->state = r->state == ST_LENGTH ? ST_END : ST_CCRLF;
	return rc;
}

/* The chunk-size line in cline: hex digits, [white space] [";" ext]. */
static int chunk_size(struct http_resp *r)
{
	const char *s = r->cline;
	uint64_t n = 0;

	if (hex_value(*s) < 0)
		return fail(r, -EBADMSG, "chunk size not in hex digits");
	for (; hex_value(*s) >= 0; s++) {
		if (n > UINT64_MAX >> 4)
			return fail(r, -EMSGSIZE, "chunk size overflows");
		n = n << 4 | (uint64_t)hex_value(*s);
	}
	while (ows(*s))
		s++;
	if (*s && *s != ';')
		return fail(r, -EBADMSG, "junk after a chunk size");
	if (!n) {
		r->state = ST_TRAILER;
		r->raw = r->cline_len = 0;
		return 0;
	}
	if (r->mode == HTTP_BODY) {
		if (n > r->body_max - r->body_len)
			return fail(r, -EMSGSIZE, "chunked body over %zu bytes",
				    r->body_max);
		if (buf_grow(&r->body, &r->body_cap, r->body_len,
			     r->body_len + n, r->body_max))
			return fail(r, -ENOMEM, "no memory for a body");
	}
	r->left = n;
	r->state = ST_CDATA;
	return 0;
}

static int feed_csize(struct http_resp *r, const char *p, size_t len,
		      size_t *used)
{
	int rc = 0;

	while (*used < len && !rc) {
		char c = p[(*used)++];

		if (r->cline_len == HTTP_CHUNK_LINE_MAX && !r->cr && c != '\r')
			return fail(r, -EMSGSIZE,
				    "chunk-size line over %d bytes",
				    HTTP_CHUNK_LINE_MAX);
		rc = line_byte(r, c, r->cline, &r->cline_len,
			       "a chunk-size line");
	}
	if (rc != 1)
		return rc;
	r->cline[r->cline_len] = '\0';
	r->cline_len = 0;
	return chunk_size(r);
}

static int chunk_crlf(struct http_resp *r, char c)
{
	if (c != (r->cr ? '\n' : '\r'))
		return fail(r, -EBADMSG, "chunk data not followed by CRLF");
	r->cr = !r->cr;
	if (!r->cr)
		r->state = ST_CSIZE;
	return 0;
}

/* A byte of a trailer line (not CR or LF); cline_len counts them. */
static int trailer_char(struct http_resp *r, char c)
{
	if (!r->cline_len && ows(c))
		return fail(r, -EBADMSG, "folded trailer line (obs-fold)");
	if (!r->in_value && c == ':') {
		if (!r->cline_len)
			return fail(r, -EBADMSG, "empty trailer name");
		r->in_value = true;
	} else if (!r->in_value && !tchar((unsigned char)c)) {
		return fail(r, -EBADMSG, "bad character in a trailer name");
	}
	r->cline_len++;
	return 0;
}

/* A trailer line ended: checked and forgotten; an empty one ends them. */
static int trailer_end(struct http_resp *r)
{
	if (!r->cline_len) {
		r->state = ST_END;
		return 0;
	}
	if (!r->in_value)
		return fail(r, -EBADMSG, "trailer line without a colon");
	if (++r->ntrailers > HTTP_HEADERS_MAX)
		return fail(r, -EMSGSIZE, "more than %d trailer lines",
			    HTTP_HEADERS_MAX);
	r->cline_len = 0;
	r->in_value = false;
	return 0;
}

static int feed_trailer(struct http_resp *r, const char *p, size_t len,
			size_t *used)
{
	int rc = 0;

	while (*used < len && !rc && r->state == ST_TRAILER) {
		char c = p[(*used)++];

		if (++r->raw > HTTP_HEAD_MAX)
			return fail(r, -EMSGSIZE, "trailers over %d bytes",
				    HTTP_HEAD_MAX);
		rc = line_byte(r, c, NULL, NULL, "the trailers");
		if (rc == 1)
			rc = trailer_end(r);
		else if (!rc && !r->cr)
			rc = trailer_char(r, c);
	}
	return rc;
}

/* The body is in: a last unterminated line, then HTTP_DONE. */
static int body_end(struct http_resp *r)
{
	int rc;

	if (r->mode == HTTP_LINES && r->lbuf_len) {
		rc = line_out(r);
		if (rc)
			return rc;
	}
	if (r->mode == HTTP_BODY) {
		if (buf_grow(&r->body, &r->body_cap, r->body_len, r->body_len,
			     r->body_len))
			return fail(r, -ENOMEM, "no memory for a body");
		r->body[r->body_len] = '\0';
	}
	r->state = ST_DONE;
	return HTTP_DONE;
}

static int step(struct http_resp *r, const char *p, size_t len, size_t *used)
{
	switch (r->state) {
	case ST_HEAD:
		return feed_head(r, p, len, used);
	case ST_LENGTH:
	case ST_CDATA:
		return body_data(r, p, len, used);
	case ST_CSIZE:
		return feed_csize(r, p, len, used);
	case ST_CCRLF:
		*used = 1;
		return chunk_crlf(r, *p);
	case ST_TRAILER:
		return feed_trailer(r, p, len, used);
	default:
		return fail(r, -EINVAL, "HTTP parser in state %d", r->state);
	}
}

int http_resp_feed(struct http_resp *r, const void *data, size_t len,
		   size_t *used, struct why *why)
{
	const char *p = data;
	int rc = 0;

	*used = 0;
	if (r->pending_line) { /* the caller is done with the last line */
		r->pending_line = false;
		r->lbuf_len = r->line_len = 0;
		r->line = NULL;
	}
	while (!r->err && !rc) {
		size_t n = 0;

		if (r->state == ST_DONE)
			return HTTP_DONE;
		if (r->state == ST_END) {
			rc = body_end(r);
			break;
		}
		if (*used == len)
			return HTTP_MORE;
		rc = step(r, p + *used, len - *used, &n);
		*used += n;
	}
	if (r->err) {
		if (why)
			*why = r->why;
		return r->err;
	}
	return rc;
}
