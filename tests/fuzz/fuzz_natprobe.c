// SPDX-License-Identifier: MIT
/* Fuzz target: a datagram on the encapsulation socket through agent/natprobe.c; what parses rebuilds to the same bytes. */
/*
 * Input: one datagram as the agent's UDP 4500 socket reads it. The key
 * is fixed (pair key bytes all 0x42): the seeds are probes built with it,
 * so mutations reach both the parser and the HMAC check.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/natprobe.h"
#include "tests/fuzz/fuzz.h"

int fuzz_natprobe(const uint8_t *data, size_t size)
{
	static uint8_t key[NATPROBE_KEY_LEN];
	static int keyed;
	uint8_t again[NATPROBE_LEN];
	struct natprobe p;

	if (!keyed) {
		uint8_t pair[PAIRKEY_LEN];

		memset(pair, 0x42, sizeof(pair));
		natprobe_key(pair, key);
		keyed = 1;
	}
	if (natprobe_parse(data, size, &p) != 0) {
		if (p.from || p.to || p.generation || p.time_ms || p.reply)
			abort(); /* a refusal leaves nothing half-filled */
		return 0;
	}
	if (size != NATPROBE_LEN || !p.from || !p.to || p.from == p.to ||
	    !p.generation)
		abort();
	natprobe_build(&p, key, again);
	if (memcmp(again, data, 32) != 0) /* the header says it all */
		abort();
	if (natprobe_verify(data, key) != (memcmp(again, data, size) == 0))
		abort(); /* verifies exactly when the HMAC is ours */
	return 0;
}
