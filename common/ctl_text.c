// SPDX-License-Identifier: MIT
/* The control socket's text: the reply buffer (wiped, never realloc'd), JSON strings, request words. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "hex.h"
#include "why.h"

#define REPLY_FIRST 4096

/* ---- the reply buffer ---- */

void ctl_reply_init(struct ctl_reply *r)
{
	memset(r, 0, sizeof(*r));
}

/* Replies carry the join token and the unlock key: wiped before free. */
void ctl_reply_cleanup(struct ctl_reply *r)
{
	if (r->buf)
		explicit_bzero(r->buf, r->cap);
	free(r->buf);
	ctl_reply_init(r);
}

/*
 * Room for need more bytes and a NUL; the buffer stays a C string. Never
 * realloc(): the old buffer may hold a secret, so it is copied, wiped and
 * freed here rather than left behind in the heap.
 */
static int reply_grow(struct ctl_reply *r, size_t need)
{
	size_t cap = r->cap ? r->cap : REPLY_FIRST;
	char *p;

	if (r->err)
		return r->err;
	if (need >= CTL_REPLY_MAX - r->len)
		return r->err = -EMSGSIZE;
	while (cap - r->len <= need)
		cap *= 2;
	if (cap == r->cap)
		return 0;
	p = malloc(cap);
	if (!p)
		return r->err = -ENOMEM;
	if (r->buf) {
		memcpy(p, r->buf, r->cap);
		explicit_bzero(r->buf, r->cap);
		free(r->buf);
	}
	r->buf = p;
	r->cap = cap;
	return 0;
}

int ctl_reply_append(struct ctl_reply *r, const void *data, size_t len)
{
	int err = reply_grow(r, len);

	if (err)
		return err;
	memcpy(r->buf + r->len, data, len);
	r->len += len;
	r->buf[r->len] = '\0';
	return 0;
}

int ctl_reply_vprintf(struct ctl_reply *r, const char *fmt, va_list ap)
{
	size_t room = r->cap - r->len;
	va_list cp;
	int n;

	if (r->err)
		return r->err;
	va_copy(cp, ap);
	n = vsnprintf(r->buf ? r->buf + r->len : NULL, room, fmt, cp);
	va_end(cp);
	if (n < 0)
		return r->err = -EINVAL;
	if ((size_t)n >= room) {
		if (reply_grow(r, (size_t)n))
			return r->err;
		vsnprintf(r->buf + r->len, (size_t)n + 1, fmt, ap);
	}
	r->len += (size_t)n;
	return 0;
}

int ctl_reply_printf(struct ctl_reply *r, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = ctl_reply_vprintf(r, fmt, ap);
	va_end(ap);
	return err;
}

static const char *json_escape(unsigned char c, char tmp[7])
{
	static const char hex[] = "0123456789abcdef";

	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\b':
		return "\\b";
	case '\f':
		return "\\f";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	default:
		snprintf(tmp, 7, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
		return tmp;
	}
}

int ctl_json_string(struct ctl_reply *r, const char *s)
{
	const char *run;
	char tmp[7];
	unsigned char c;

	if (!s)
		return ctl_reply_append(r, "null", 4);
	ctl_reply_append(r, "\"", 1);
	for (run = s; *s; s++) {
		c = (unsigned char)*s;
		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		ctl_reply_append(r, run, (size_t)(s - run));
		ctl_reply_printf(r, "%s", json_escape(c, tmp));
		run = s + 1;
	}
	ctl_reply_append(r, run, (size_t)(s - run));
	return ctl_reply_append(r, "\"", 1);
}

/* ---- request words ---- */

/* The byte of "%XX" at p, or -1. */
static int unescape(const char *p)
{
	int hi = hex_value(p[1]), lo = hi < 0 ? -1 : hex_value(p[2]);

	return lo < 0 ? -1 : hi << 4 | lo;
}

int ctl_request_split(char *line, char **argv, int max, struct why *why)
{
	char *r = line, *w = line;
	bool quoted, end;
	int argc = 0, v;

	for (;;) {
		while (*r == ' ' || *r == '\t')
			r++;
		if (!*r)
			break;
		if (argc == max) {
			why_set(why, "more than %d words", max);
			return -EINVAL;
		}
		argv[argc++] = w;
		for (quoted = false;
		     *r && (quoted || (*r != ' ' && *r != '\t')); r++) {
			v = (unsigned char)*r;
			if (v == '"') {
				quoted = !quoted;
				continue;
			}
			if (v == '%') {
				v = unescape(r);
				if (v < 0) {
					why_set(why, "word %d: bad %%-escape",
						argc);
					return -EINVAL;
				}
				r += 2;
			}
			if (v < 0x20 || v == 0x7f) {
				why_set(why, "word %d: control character",
					argc);
				return -EINVAL;
			}
			*w++ = (char)v;
		}
		if (quoted) {
			why_set(why, "word %d: unterminated quote", argc);
			return -EINVAL;
		}
		end = !*r;
		r += !end;
		*w++ = '\0'; /* w <= r: never over what is still to read */
		if (end)
			break;
	}
	argv[argc] = NULL;
	return argc;
}
