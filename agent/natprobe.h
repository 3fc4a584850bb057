/* SPDX-License-Identifier: MIT */
/* agent natprobe: the authenticated NAT probe of ESP-in-UDP pairs (docs/nat.md), built and checked; no I/O. */
#ifndef VXSEC_NATPROBE_H
#define VXSEC_NATPROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/pairkey.h"

/*
 * A probe, 48 bytes, integers big-endian:
 *   0  4  non-ESP marker: 0 (the kernel hands it to the socket, RFC 3948)
 *   4  4  magic "vxnp"
 *   8  1  version: 1
 *   9  1  flags: bit 0 a reply; the other bits 0
 *  10  2  0
 *  12  4  sender's index
 *  16  4  receiver's index
 *  20  4  generation whose pair key authenticates it
 *  24  8  the sender's wall clock, ms since the epoch
 *  32 16  HMAC-SHA256 of bytes 0-31 under natprobe_key(), truncated
 */
#define NATPROBE_LEN 48
#define NATPROBE_KEY_LEN 32
#define NATPROBE_VERSION 1

struct natprobe {
	uint32_t from, to; /* node indexes, from 1 */
	uint32_t generation;
	uint64_t time_ms;
	bool reply;
};

/*
 * The probe key of a pair's direction in one generation: HKDF-SHA256 of
 * K(g, from -> to) (PAIRKEY_LEN bytes) with the label "vxsec nat probe
 * v1". The sender uses its out key, the receiver its in key of that peer:
 * the same bytes. Nothing of the ESP key can be learned from it.
 */
void natprobe_key(const uint8_t pair_key[PAIRKEY_LEN],
		  uint8_t out[NATPROBE_KEY_LEN]);

/* Writes p, authenticated with key, into out. */
void natprobe_build(const struct natprobe *p,
		    const uint8_t key[NATPROBE_KEY_LEN],
		    uint8_t out[NATPROBE_LEN]);

/*
 * Reads the header of a datagram without checking its HMAC (the receiver
 * needs from and generation to find the key): 0, or -EINVAL for anything
 * that is not a version 1 probe of NATPROBE_LEN bytes (marker, magic,
 * version, unknown flags, reserved bytes, an index or generation of 0, a
 * probe to its own sender).
 */
int natprobe_parse(const uint8_t *buf, size_t len, struct natprobe *out);

/* Whether a parsed datagram's HMAC verifies under key (constant time). */
bool natprobe_verify(const uint8_t buf[NATPROBE_LEN],
		     const uint8_t key[NATPROBE_KEY_LEN]);

/*
 * Whether an authentic probe from a peer moves that peer's mapping:
 * newer than the last one accepted from it (last_ms, 0: none yet) and
 * within window_ms of now_ms either way (clocks roughly right, as
 * certificates assume), so an old probe replayed from another address
 * moves nothing.
 */
bool natprobe_fresh(uint64_t time_ms, uint64_t last_ms, uint64_t now_ms,
		    uint64_t window_ms);

#endif
