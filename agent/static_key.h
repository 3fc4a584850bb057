/* SPDX-License-Identifier: MIT */
/* agent static_key: this node's X25519 keys, which generations use each, kept in <state_dir>/static.key. */
#ifndef VXSEC_AGENT_STATIC_KEY_H
#define VXSEC_AGENT_STATIC_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/pairkey.h"
#include "common/why.h"

#define STATIC_KEY_FILE "static.key"
#define STATIC_KEYS_MAX 4 /* live generations (3) and one change pending */
#define STATIC_KEY_BOOT_ID_LEN 16
/*
 * The file: "VXSK", version (1), the boot id (16), the number of keys (1
 * to STATIC_KEYS_MAX), then per key, oldest first: created (u64, ms of
 * wall clock), from (u32), bound (u8), the private key (32); then
 * BLAKE2b-128 of all that (a damaged file is told from a good one).
 * Integers big-endian. Mode 0600, written with atomic_write().
 */
#define STATIC_KEY_FILE_MAX \
	(4 + 1 + STATIC_KEY_BOOT_ID_LEN + 1 + STATIC_KEYS_MAX * 45 + 16)

struct static_key {
	struct pairkey_static *k;
	uint64_t created_ms; /* wall clock */
	/*
	 * bound: the leader said which generation uses it first (from; 0 for
	 * a new incarnation's key: every generation). An unbound key waits
	 * for the prepare that lists it.
	 */
	uint32_t from;
	bool bound;
};

struct static_keys {
	uint8_t boot_id[STATIC_KEY_BOOT_ID_LEN];
	struct static_key key[STATIC_KEYS_MAX]; /* oldest first */
	size_t n;
};

/*
 * Loads <dir>/static.key if it holds keys of this boot. Otherwise — no
 * file, another boot (a reboot), or a file that does not decode (why says
 * so, for the log) — makes one new key, bound from 0, and saves it:
 * *fresh is then true, and the node needs a new incarnation (its peers'
 * keys with it change). 0 or -errno (why says) if nothing could be made
 * or saved.
 */
int static_keys_open(struct static_keys *sk, const char *dir,
		     const uint8_t boot_id[STATIC_KEY_BOOT_ID_LEN],
		     uint64_t now_ms, bool *fresh, struct why *why);
/* Wipes and frees every key. */
void static_keys_close(struct static_keys *sk);

/* The newest key: the one the leader is told of. */
const struct static_key *static_keys_newest(const struct static_keys *sk);

/*
 * The periodic change: a new, unbound key once the newest is lifetime_ms
 * old, the newest is bound (one change at a time) and there is room.
 * Saved before it counts. 1 if made, 0 if not due, -errno.
 */
int static_keys_renew(struct static_keys *sk, const char *dir, uint64_t now_ms,
		      uint64_t lifetime_ms);

/*
 * The leader uses the key with this public key from generation `from`
 * on (saved). Keys older than it that no generation >= from uses stay
 * until static_keys_retire(). -ENOENT if no key has pub, -EINVAL if it
 * would go back before a newer key's generation.
 */
int static_keys_bind(struct static_keys *sk, const char *dir,
		     const uint8_t pub[PAIRKEY_PUB_LEN], uint32_t from);

/*
 * A new incarnation: the leader uses the key with this public key for
 * every generation (from 0). Every other key is wiped but a newer one not
 * yet bound (a change the leader has not taken yet); saved if anything
 * changed. -ENOENT if no key has pub.
 */
int static_keys_restart(struct static_keys *sk, const char *dir,
			const uint8_t pub[PAIRKEY_PUB_LEN]);

/* The private key for generation g (the newest bound with from <= g). */
const struct pairkey_static *static_keys_for(const struct static_keys *sk,
					     uint32_t g);

/*
 * Generations below oldest_live are gone everywhere: a bound key that no
 * generation from oldest_live on uses is wiped (and the file saved).
 */
int static_keys_retire(struct static_keys *sk, const char *dir,
		       uint32_t oldest_live);

/* The file's bytes and back, no I/O (tests, fuzzing). */
size_t static_keys_encode(const struct static_keys *sk,
			  uint8_t out[STATIC_KEY_FILE_MAX]);
int static_keys_decode(struct static_keys *sk, const uint8_t *buf, size_t len,
		       struct why *why);

#endif
