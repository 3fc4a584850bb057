// SPDX-License-Identifier: MIT
/* Fuzz target: the agent's static.key decoder; what it accepts encodes back to the same bytes. */
/*
 * Input: the bytes of one <state_dir>/static.key file, whole. They are
 * decoded as they are, then once more with their last 16 bytes made the
 * checksum of the rest (static_key.h): else nearly every mutation stops
 * at the checksum, and the key records behind it are never reached.
 */
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "agent/static_key.h"
#include "tests/fuzz/fuzz.h"

#define SUM_LEN 16 /* static_key.h: BLAKE2b-128 of the rest, at the end */

/* What decoded: 1 to STATIC_KEYS_MAX keys, bound ones in order. */
static void keys_check(const struct static_keys *sk)
{
	if (sk->n < 1 || sk->n > STATIC_KEYS_MAX)
		abort();
	for (size_t i = 0; i < sk->n; i++)
		if (!sk->key[i].k || (!sk->key[i].bound && i + 1 != sk->n))
			abort();
}

/* Both hold the same keys (the public halves: the private ones encode). */
static void same_keys(const struct static_keys *a, const struct static_keys *b)
{
	if (a->n != b->n ||
	    memcmp(a->boot_id, b->boot_id, sizeof(a->boot_id)) != 0)
		abort();
	for (size_t i = 0; i < a->n; i++)
		if (a->key[i].created_ms != b->key[i].created_ms ||
		    a->key[i].from != b->key[i].from ||
		    a->key[i].bound != b->key[i].bound ||
		    memcmp(pairkey_public(a->key[i].k),
			   pairkey_public(b->key[i].k), PAIRKEY_PUB_LEN) != 0)
			abort();
}

/* The file it came from, and it loads again to the same keys. */
static void roundtrip(const struct static_keys *sk, const uint8_t *data,
		      size_t size)
{
	uint8_t *out = sodium_malloc(STATIC_KEY_FILE_MAX);
	struct static_keys again;
	struct why why = { "" };
	size_t len;

	if (!out)
		abort();
	len = static_keys_encode(sk, out);
	if (len != size || memcmp(out, data, len) != 0)
		abort(); /* we would write another file than we read */
	if (static_keys_decode(&again, out, len, &why))
		abort(); /* we refuse what we wrote */
	same_keys(sk, &again);
	if (static_keys_encode(&again, out) != len ||
	    memcmp(out, data, len) != 0)
		abort();
	static_keys_close(&again);
	sodium_free(out); /* wipes */
}

static void decode(const uint8_t *data, size_t size)
{
	struct static_keys sk;
	struct why why = { "" };

	if (static_keys_decode(&sk, data, size, &why) == 0) {
		keys_check(&sk);
		roundtrip(&sk, data, size);
	} else if (why.msg[0] == '\0' || sk.n) {
		abort(); /* a refusal says why and keeps no key */
	}
	static_keys_close(&sk);
}

int fuzz_static_key(const uint8_t *data, size_t size)
{
	static uint8_t *summed;
	static bool ready;

	if (!ready) {
		if (sodium_init() < 0)
			abort();
		/* the secure heap as the agent has it; without, the same */
		(void)pairkey_init();
		summed = sodium_malloc(STATIC_KEY_FILE_MAX);
		if (!summed)
			abort();
		ready = true;
	}
	decode(data, size);
	if (size <= SUM_LEN || size > STATIC_KEY_FILE_MAX)
		return 0;
	memcpy(summed, data, size);
	crypto_generichash(summed + size - SUM_LEN, SUM_LEN, summed,
			   size - SUM_LEN, NULL, 0);
	if (memcmp(summed, data, size) != 0)
		decode(summed, size);
	sodium_memzero(summed, size);
	return 0;
}
