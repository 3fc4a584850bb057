// SPDX-License-Identifier: MIT
/* agent natprobe: the authenticated NAT probe of ESP-in-UDP pairs (docs/nat.md), built and checked; no I/O. */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "natprobe.h"

#define LABEL "vxsec nat probe v1"
#define MAC_AT 32
#define MAC_LEN 16
#define FLAG_REPLY 0x01u

static const uint8_t magic[4] = { 'v', 'x', 'n', 'p' };

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

void natprobe_key(const uint8_t pair_key[PAIRKEY_LEN],
		  uint8_t out[NATPROBE_KEY_LEN])
{
	static const uint8_t no_salt[32]; /* RFC 5869: HashLen zeros */

	pairkey_hkdf(no_salt, sizeof(no_salt), pair_key, PAIRKEY_LEN,
		     (const uint8_t *)LABEL, sizeof(LABEL) - 1, out,
		     NATPROBE_KEY_LEN);
}

static void mac(const uint8_t buf[NATPROBE_LEN],
		const uint8_t key[NATPROBE_KEY_LEN],
		uint8_t out[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, NATPROBE_KEY_LEN);
	crypto_auth_hmacsha256_update(&st, buf, MAC_AT);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

void natprobe_build(const struct natprobe *p,
		    const uint8_t key[NATPROBE_KEY_LEN],
		    uint8_t out[NATPROBE_LEN])
{
	uint8_t full[crypto_auth_hmacsha256_BYTES];

	memset(out, 0, NATPROBE_LEN);
	memcpy(out + 4, magic, sizeof(magic));
	out[8] = NATPROBE_VERSION;
	out[9] = p->reply ? FLAG_REPLY : 0;
	put32(out + 12, p->from);
	put32(out + 16, p->to);
	put32(out + 20, p->generation);
	put32(out + 24, (uint32_t)(p->time_ms >> 32));
	put32(out + 28, (uint32_t)p->time_ms);
	mac(out, key, full);
	memcpy(out + MAC_AT, full, MAC_LEN);
}

int natprobe_parse(const uint8_t *buf, size_t len, struct natprobe *out)
{
	memset(out, 0, sizeof(*out));
	if (len != NATPROBE_LEN || get32(buf) != 0 ||
	    memcmp(buf + 4, magic, sizeof(magic)) != 0 ||
	    buf[8] != NATPROBE_VERSION || (buf[9] & ~FLAG_REPLY) || buf[10] ||
	    buf[11])
		return -EINVAL;
	out->reply = buf[9] & FLAG_REPLY;
	out->from = get32(buf + 12);
	out->to = get32(buf + 16);
	out->generation = get32(buf + 20);
	out->time_ms = (uint64_t)get32(buf + 24) << 32 | get32(buf + 28);
	if (!out->from || !out->to || out->from == out->to ||
	    !out->generation) {
		memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	return 0;
}

bool natprobe_verify(const uint8_t buf[NATPROBE_LEN],
		     const uint8_t key[NATPROBE_KEY_LEN])
{
	uint8_t full[crypto_auth_hmacsha256_BYTES];

	mac(buf, key, full);
	return sodium_memcmp(full, buf + MAC_AT, MAC_LEN) == 0;
}

bool natprobe_fresh(uint64_t time_ms, uint64_t last_ms, uint64_t now_ms,
		    uint64_t window_ms)
{
	uint64_t skew = time_ms > now_ms ? time_ms - now_ms : now_ms - time_ms;

	return time_ms > last_ms && skew <= window_ms;
}
