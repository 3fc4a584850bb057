/* SPDX-License-Identifier: MIT */
/* Join tokens: VXSEC-1-<sha256 of the CA certificate>-<secret>, base32. */
#ifndef VXSEC_TOKEN_H
#define VXSEC_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "why.h"

#define TOKEN_PREFIX "VXSEC-1-"
#define TOKEN_DIGEST_LEN 32
#define TOKEN_SECRET_LEN 32
#define TOKEN_B32_LEN 52 /* 32 bytes in base32, no padding */
#define TOKEN_TEXT_LEN \
	(sizeof(TOKEN_PREFIX) - 1 + TOKEN_B32_LEN + 1 + TOKEN_B32_LEN)

/* The secret half is a secret: token_wipe() when done. */
struct join_token {
	uint8_t ca_digest[TOKEN_DIGEST_LEN];
	uint8_t secret[TOKEN_SECRET_LEN];
};

/*
 * Parses a token (case-insensitive base32, surrounding white space
 * ignored). -EINVAL with the reason in why ("wrong prefix", ...).
 */
int token_parse(const char *text, struct join_token *t, struct why *why);

/* Writes the token as text (TOKEN_TEXT_LEN + 1 bytes with the NUL). */
int token_format(const struct join_token *t, char *out, size_t len);

void token_wipe(struct join_token *t);

/* RFC 4648 base32 without padding. Return the output length or -errno. */
int base32_encode(const uint8_t *in, size_t len, char *out, size_t outlen);
int base32_decode(const char *in, size_t len, uint8_t *out, size_t outlen);

#endif
