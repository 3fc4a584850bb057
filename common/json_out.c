// SPDX-License-Identifier: MIT
/* JSON writer: request bodies into a fixed buffer, never past its end. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "json.h"

void json_out_init(struct json_out *out, char *buf, size_t cap)
{
	memset(out, 0, sizeof(*out));
	out->buf = buf;
	out->cap = cap;
	if (cap)
		buf[0] = '\0';
	else
		out->err = -ENOSPC; /* not even room for the NUL */
}

static int fail(struct json_out *out, int err)
{
	out->err = err;
	return err;
}

/* n bytes, keeping room for the NUL after them. */
static int put(struct json_out *out, const char *s, size_t n)
{
	if (out->err)
		return out->err;
	if (n >= out->cap - out->len)
		return fail(out, -ENOSPC);
	memcpy(out->buf + out->len, s, n);
	out->len += n;
	out->buf[out->len] = '\0';
	return 0;
}

static bool in_object(const struct json_out *out)
{
	return out->depth && (out->objects & (1u << (out->depth - 1)));
}

/* Before a value: its comma, or nothing; a misplaced value is refused. */
static int value_start(struct json_out *out)
{
	uint32_t bit = out->depth ? 1u << (out->depth - 1) : 0;

	if (out->err)
		return out->err;
	if (in_object(out)) {
		if (!out->keyed)
			return fail(out, -EINVAL);
		out->keyed = false;
		return 0;
	}
	if (!out->depth) {
		if (out->len) /* one document, one value */
			return fail(out, -EINVAL);
		return 0;
	}
	if (out->started & bit)
		return put(out, ",", 1);
	out->started |= bit;
	return 0;
}

static int open_container(struct json_out *out, bool object)
{
	uint32_t bit;
	int r = value_start(out);

	if (r < 0)
		return r;
	if (out->depth >= JSON_DEPTH_MAX)
		return fail(out, -EINVAL);
	bit = 1u << out->depth;
	r = put(out, object ? "{" : "[", 1);
	if (r < 0)
		return r;
	out->objects = object ? out->objects | bit : out->objects & ~bit;
	out->started &= ~bit;
	out->depth++;
	return 0;
}

static int close_container(struct json_out *out, bool object)
{
	if (out->err)
		return out->err;
	if (!out->depth || in_object(out) != object || out->keyed)
		return fail(out, -EINVAL);
	out->depth--;
	return put(out, object ? "}" : "]", 1);
}

int json_out_object(struct json_out *out)
{
	return open_container(out, true);
}

int json_out_object_end(struct json_out *out)
{
	return close_container(out, true);
}

int json_out_array(struct json_out *out)
{
	return open_container(out, false);
}

int json_out_array_end(struct json_out *out)
{
	return close_container(out, false);
}

/* "s", escaped: quote, backslash and bytes under 0x20; the rest as is. */
static int quoted(struct json_out *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = { '\\', 'u', '0', '0' };
	size_t i, from = 0;
	unsigned char c;
	int r = put(out, "\"", 1);

	for (i = 0; i < len && r == 0; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		r = put(out, s + from, i - from);
		from = i + 1;
		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			r = r ? r : put(out, esc, 2);
			esc[1] = 'u';
			continue;
		}
		esc[4] = hex[c >> 4];
		esc[5] = hex[c & 15];
		r = r ? r : put(out, esc, 6);
	}
	r = r ? r : put(out, s + from, len - from);
	return r ? r : put(out, "\"", 1);
}

int json_out_key(struct json_out *out, const char *key)
{
	uint32_t bit = out->depth ? 1u << (out->depth - 1) : 0;
	int r;

	if (out->err)
		return out->err;
	if (!in_object(out) || out->keyed)
		return fail(out, -EINVAL);
	if (out->started & bit) {
		r = put(out, ",", 1);
		if (r < 0)
			return r;
	}
	out->started |= bit;
	r = quoted(out, key, strlen(key));
	if (r == 0)
		r = put(out, ":", 1);
	out->keyed = r == 0;
	return r;
}

int json_out_string(struct json_out *out, const char *s, size_t len)
{
	int r = value_start(out);

	return r ? r : quoted(out, s, len);
}

int json_out_int64(struct json_out *out, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "\"%" PRId64 "\"", v);
	int r = value_start(out);

	return r ? r : put(out, num, (size_t)n);
}

int json_out_uint64(struct json_out *out, uint64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "\"%" PRIu64 "\"", v);
	int r = value_start(out);

	return r ? r : put(out, num, (size_t)n);
}

int json_out_bool(struct json_out *out, bool v)
{
	int r = value_start(out);

	return r ? r : put(out, v ? "true" : "false", v ? 4 : 5);
}

int json_out_base64(struct json_out *out, const uint8_t *bin, size_t len)
{
	size_t b64 =
		sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	int r = value_start(out);

	if (r == 0)
		r = put(out, "\"", 1);
	if (r < 0)
		return r;
	/* b64 counts the NUL sodium writes; the quote takes its place. */
	if (len > SIZE_MAX / 2 || b64 >= out->cap - out->len)
		return fail(out, -ENOSPC);
	sodium_bin2base64(out->buf + out->len, b64, bin, len,
			  sodium_base64_VARIANT_ORIGINAL);
	out->len += b64 - 1;
	return put(out, "\"", 1);
}

int json_out_finish(struct json_out *out, size_t *len)
{
	if (out->err)
		return out->err;
	if (out->depth || out->keyed || !out->len)
		return fail(out, -EINVAL);
	*len = out->len;
	return 0;
}
