// SPDX-License-Identifier: MIT
/* Join tokens: parse and format VXSEC-1-<CA digest>-<secret>. */
#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "token.h"

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int base32_encode(const uint8_t *in, size_t len, char *out, size_t outlen)
{
	size_t need = (len * 8 + 4) / 5, i, o = 0;
	unsigned int acc = 0, bits = 0;

	if (outlen < need + 1)
		return -ENOSPC;
	for (i = 0; i < len; i++) {
		acc = (acc << 8 | in[i]) & 0xfff;
		bits += 8;
		while (bits >= 5) {
			out[o++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits)
		out[o++] = b32[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	return (int)o;
}

static int b32_value(char c)
{
	const char *p = strchr(b32, toupper((unsigned char)c));

	return c && p ? (int)(p - b32) : -1;
}

int base32_decode(const char *in, size_t len, uint8_t *out, size_t outlen)
{
	unsigned int acc = 0, bits = 0;
	size_t i, o = 0;
	int v;

	for (i = 0; i < len; i++) {
		v = b32_value(in[i]);
		if (v < 0)
			return -EINVAL;
		acc = (acc << 5 | (unsigned int)v) & 0xfff;
		bits += 5;
		if (bits >= 8) {
			if (o == outlen)
				return -ENOSPC;
			out[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	/* Leftover bits must be zero padding, fewer than 5 of them. */
	if (bits >= 5 || (acc & ((1u << bits) - 1)))
		return -EINVAL;
	return (int)o;
}

static int decode_part(const char *p, size_t len, uint8_t *out,
		       const char *what, struct why *why)
{
	if (len != TOKEN_B32_LEN || base32_decode(p, len, out, 32) != 32) {
		why_set(why, "%s is not 52 base32 characters", what);
		return -EINVAL;
	}
	return 0;
}

int token_parse(const char *text, struct join_token *t, struct why *why)
{
	const char *p = text, *dash, *end;
	size_t plen = strlen(TOKEN_PREFIX);
	int err;

	token_wipe(t); /* a refused token leaves nothing behind */
	while (isspace((unsigned char)*p))
		p++;
	end = p + strlen(p);
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if ((size_t)(end - p) < plen ||
	    strncasecmp(p, TOKEN_PREFIX, plen) != 0) {
		why_set(why, "not a vxsec join token (want "
			     "VXSEC-1-<CA digest>-<secret>)");
		return -EINVAL;
	}
	p += plen;
	dash = memchr(p, '-', (size_t)(end - p));
	if (!dash) {
		why_set(why, "join token without a secret part");
		return -EINVAL;
	}
	err = decode_part(p, (size_t)(dash - p), t->ca_digest, "CA digest",
			  why);
	if (!err)
		err = decode_part(dash + 1, (size_t)(end - dash - 1), t->secret,
				  "secret", why);
	if (err)
		token_wipe(t);
	return err;
}

int token_format(const struct join_token *t, char *out, size_t len)
{
	char d[TOKEN_B32_LEN + 1], s[TOKEN_B32_LEN + 1];
	int n;

	if (len < TOKEN_TEXT_LEN + 1)
		return -ENOSPC;
	base32_encode(t->ca_digest, TOKEN_DIGEST_LEN, d, sizeof(d));
	base32_encode(t->secret, TOKEN_SECRET_LEN, s, sizeof(s));
	n = snprintf(out, len, "%s%s-%s", TOKEN_PREFIX, d, s);
	sodium_memzero(s, sizeof(s));
	return n == (int)TOKEN_TEXT_LEN ? 0 : -EINVAL;
}

void token_wipe(struct join_token *t)
{
	sodium_memzero(t, sizeof(*t));
}
