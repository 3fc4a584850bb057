// SPDX-License-Identifier: MIT
/* HTTP/1.1 requests: one buffer, fields checked so none can inject a header. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "http.h"

/* Visible ASCII, and with space and tab if spaces; never empty. */
static bool field_ok(const char *s, bool spaces)
{
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c == ' ' || c == '\t') && spaces)
			continue;
		if (c <= ' ' || c >= 0x7f)
			return false;
	}
	return true;
}

static bool method_ok(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (*s < 'A' || *s > 'Z')
			return false;
	return true;
}

static int req_check(const struct http_req *q, struct why *why)
{
	if (!method_ok(q->method))
		return why_fail(why, -EINVAL, "HTTP method: A-Z only");
	if (!field_ok(q->host, false))
		return why_fail(why, -EINVAL,
				"HTTP host: empty, or a space or control "
				"character in it");
	if (!field_ok(q->path, false) || q->path[0] != '/')
		return why_fail(why, -EINVAL,
				"HTTP path: not starting with '/', or a "
				"space or control character in it");
	if (q->content_type && !field_ok(q->content_type, true))
		return why_fail(why, -EINVAL,
				"HTTP Content-Type: empty, or a control "
				"character in it");
	if (q->authorization && !field_ok(q->authorization, true))
		return why_fail(why, -EINVAL,
				"HTTP Authorization: empty, or a control "
				"character in it");
	if (q->body_len && !q->body)
		return why_fail(why, -EINVAL, "HTTP body: no bytes");
	return 0;
}

/* Appends pre, a and post; nothing if a is NULL; false if no room. */
static bool put(char *buf, size_t cap, size_t *n, const char *pre,
		const char *a, const char *post)
{
	size_t lp, la, lq;

	if (!a)
		return true;
	lp = strlen(pre);
	la = strlen(a);
	lq = strlen(post);
	if (lp + la + lq > cap - *n)
		return false;
	memcpy(buf + *n, pre, lp);
	memcpy(buf + *n + lp, a, la);
	memcpy(buf + *n + lp + la, post, lq);
	*n += lp + la + lq;
	return true;
}

int http_request_write(char *buf, size_t cap, const struct http_req *req,
		       size_t *len, struct why *why)
{
	char clen[32];
	size_t n = 0;
	int r;

	r = req_check(req, why);
	if (r)
		return r;
	snprintf(clen, sizeof(clen), "%zu", req->body_len);
	if (!put(buf, cap, &n, "", req->method, " ") ||
	    !put(buf, cap, &n, "", req->path, " HTTP/1.1\r\n") ||
	    !put(buf, cap, &n, "Host: ", req->host, "\r\n") ||
	    !put(buf, cap, &n, "Content-Type: ", req->content_type, "\r\n") ||
	    !put(buf, cap, &n, "Authorization: ", req->authorization, "\r\n") ||
	    !put(buf, cap, &n, "Content-Length: ", clen, "\r\n\r\n") ||
	    req->body_len > cap - n)
		return why_fail(why, -ENOSPC,
				"HTTP request of more than %zu bytes", cap);
	if (req->body_len)
		memcpy(buf + n, req->body, req->body_len);
	*len = n + req->body_len;
	return 0;
}
