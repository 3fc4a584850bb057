/* SPDX-License-Identifier: MIT */
/* keymgr keys: per-ordered-pair keys from a generation master (HKDF-SHA256), SPIs. */
#ifndef VXSEC_KEYS_H
#define VXSEC_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define KEYS_MASTER_LEN 32
#define KEYS_PAIR_LEN 36 /* AES-256 key + 4-byte salt for rfc4106(gcm(aes)) */
#define KEYS_INDEX_MAX 0xffffffu
#define KEYS_NODE_ID_MAX 64

/* One side of a pair: who, and which life of that node. */
struct keys_node {
	const char *id;
	uint64_t incarnation;
};

/*
 * HKDF-SHA256 (RFC 5869) with libsodium's HMAC: okm of any length up to
 * 255 * 32 bytes. 0 or -EINVAL.
 */
int keys_hkdf(const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
	      size_t ikm_len, const uint8_t *info, size_t info_len,
	      uint8_t *okm, size_t okm_len);

/*
 * K(g, from -> to) = HKDF(M_g, "vxsec pair key v1", generation, from's id
 * and incarnation, to's id and incarnation), 36 bytes. A change of any
 * input gives an unrelated key; the direction matters.
 */
int keys_pair(const uint8_t master[KEYS_MASTER_LEN], uint32_t generation,
	      const struct keys_node *from, const struct keys_node *to,
	      uint8_t out[KEYS_PAIR_LEN]);

/*
 * The SPI a sender uses for generation g: (1 + g mod 255) << 24 | index.
 * Unique per receiver while at most 3 generations live; never below 256.
 * 0 if index is 0 or above KEYS_INDEX_MAX.
 */
uint32_t keys_spi(uint32_t generation, uint32_t sender_index);

#endif
