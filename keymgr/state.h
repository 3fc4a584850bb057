/* SPDX-License-Identifier: MIT */
/* keymgr state: the leader's registry, rotation and secrets on disk, encrypted, crash-safe. */
#ifndef VXSEC_STATE_H
#define VXSEC_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/why.h"
#include "registry.h"
#include "rotation.h"

/*
 * <dir>/state, mode 0600, replaced atomically:
 *
 *   0  magic "VXSEC-ST"       8 bytes
 *   8  format version         u16, STATE_VERSION
 *  10  flags                  u16, bit 0 = autolock; other bits refused
 *  12  key id                 8 bytes: BLAKE2b-256(key), first 8 bytes
 *  20  nonce                  24 bytes, random per write
 *  44  body length            u32, of the plaintext
 *  48  XChaCha20-Poly1305 ciphertext of the body + 16-byte tag; the 48
 *      header bytes are the associated data
 *
 * Body (integers big-endian, every field checked on load and on save):
 *   rotation: u64 revision (the cluster's), u8 phase, u32 target, u64 wait_revision,
 *             u64 next_due, u8 requested, u8 n_gens (<= 3), per gen:
 *             u32 g (strictly increasing), u8 phase, 32-byte epoch
 *             secret E_g;
 *             at most one committed, wait_revision <= revision, and out
 *             of idle the target is live: prepared in PREPARE, committed
 *             in COMMIT and GRACE
 *   extra:    32-byte token secret, u32 PEM length (<= STATE_PEM_MAX),
 *             the CA key PEM (no NUL)
 *   nodes:    u32 count, per node: u8 id length, id ([A-Za-z0-9._-]{1,64}),
 *             u32 index (1..0xffffff), u64 incarnation (>= 1), 16-byte
 *             boot id, u8 state, u8 n_addrs (<= REGISTRY_ADDRS_MAX), per
 *             address u8 length (4 or 16) + bytes, u8 serial length
 *             (<= 47) + hex digits, u8 n_keys (1..REGISTRY_KEYS_MAX for
 *             a member, 0.. for a removed node), per key u32 first
 *             generation (strictly increasing) + 32-byte X25519 public
 *             key, u8 flags (bit 0: a pending key, bit 1: behind NAT;
 *             other bits refused), the 32-byte pending public key if bit
 *             0, u8 length (4 or 16) + the public address if bit 1 (data
 *             written before NAT detection has the flags 0 or 1: not
 *             NAT'd)
 *   nothing after the last node.
 *
 * Default mode: the key is <dir>/state.key (32 raw bytes, mode 0600).
 * Autolock: the key is never stored; the operator holds it as text,
 * VXSEC-UNLOCK-<base32 of the 32 bytes>.
 */
#define STATE_FILE "state"
#define STATE_KEY_FILE "state.key"
#define STATE_KEY_NEW_FILE "state.key.new"
#define STATE_VERSION 2 /* 2: epoch secrets and static keys (protocol 2) */
#define STATE_KEY_LEN 32
#define STATE_PEM_MAX 65536
#define STATE_FILE_MAX (64u << 20)
#define STATE_UNLOCK_PREFIX "VXSEC-UNLOCK-"
#define STATE_UNLOCK_TEXT_LEN (sizeof(STATE_UNLOCK_PREFIX) - 1 + 52)

/* Secrets the leader keeps besides the epoch secrets. */
struct state_extra {
	uint8_t token_secret[32]; /* the current join token's secret */
	char *ca_key_pem;	  /* malloc'd, NUL-terminated; secret */
	size_t ca_key_pem_len;	  /* without the NUL */
};

/* sodium_memzero of everything, free of ca_key_pem. NULL-safe. */
void state_extra_wipe(struct state_extra *x);

/* Default mode, first start: 32 random bytes into <dir>/state.key. */
int state_key_create(const char *dir, uint8_t key[STATE_KEY_LEN]);
/* -ENOENT if there is none, -EINVAL if it is not exactly 32 bytes. */
int state_key_load(const char *dir, uint8_t key[STATE_KEY_LEN]);

/*
 * The unlock key as text and back. Parsing ignores surrounding white
 * space and case; -EINVAL (key wiped) and why (which part is wrong, never
 * the text) for anything but the prefix and 52 base32 characters whose
 * last 4 bits are zero. There is no checksum: a wrong character that is
 * base32 gives another key, which the state refuses. The library's
 * leader_unlock_key_parse() and the command line's --unlock-key-file use
 * it. Format needs STATE_UNLOCK_TEXT_LEN + 1 bytes.
 */
int state_unlock_parse(const char *text, uint8_t key[STATE_KEY_LEN],
		       struct why *why);
int state_unlock_format(const uint8_t key[STATE_KEY_LEN], char *out,
			size_t len);

/*
 * Loads <dir>/state. unlock_key: the operator's key (autolock), or NULL
 * to read <dir>/state.key, or <dir>/state.key.new after a key change that
 * a crash interrupted (the change is then completed). key receives the key
 * that opened the state (pass it to state_save); *autolock the mode.
 * reg comes fresh from registry_new(), rot from rot_init(), x zeroed;
 * *revision receives the cluster's revision.
 * Nodes saved as connected come back disconnected: nobody is connected to
 * a leader that just started. Returns 0; -ENOENT if there is no state
 * yet (first start); or -errno with a one-line reason for the operator in
 * why: -EBADMSG (damaged, modified, truncated), -EPROTONOSUPPORT (another
 * format version), -EKEYREJECTED (another key), -ENOKEY (no key file, or
 * autolocked and no unlock key), -EINVAL (a key file not of 32 bytes), or
 * an I/O error. On error key, rot's persisted fields and x are wiped, reg
 * may hold some records (free it), and the state file was not touched.
 */
int state_load(const char *dir, const uint8_t *unlock_key,
	       uint8_t key[STATE_KEY_LEN], struct registry *reg,
	       struct rotation *rot, uint64_t *revision, struct state_extra *x,
	       bool *autolock, struct why *why);

/*
 * Writes <dir>/state under key (atomic_write, mode 0600). Persists every
 * node, the cluster's revision, the rotation's gens, n_gens, phase, target,
 * wait_revision, next_due and requested (not pending or deadline), and x.
 * -EINVAL, nothing written, if any of it would be refused on load. reg is
 * not modified.
 */
int state_save(const char *dir, const uint8_t key[STATE_KEY_LEN], bool autolock,
	       struct registry *reg, const struct rotation *rot,
	       uint64_t revision, const struct state_extra *x);

/*
 * Re-encrypts <dir>/state from old_key to new_key, in the mode autolock
 * (which may differ from the current one). Default mode: writes
 * state.key.new, then the state, then renames state.key.new to state.key;
 * a crash at any point leaves a state that state_load() opens. Autolock:
 * rewrites the state, then removes any key file (the caller shows the
 * operator the new unlock key). Errors as state_load(); nothing is
 * written if the state does not open with old_key.
 */
int state_rekey(const char *dir, const uint8_t old_key[STATE_KEY_LEN],
		const uint8_t new_key[STATE_KEY_LEN], bool autolock,
		struct why *why);

/*
 * The body codec, for tests and fuzzing. encode: checks everything, then
 * *out from sodium_malloc (sodium_free it). decode: never reads past
 * len; fills reg, rot's persisted fields and x; -EBADMSG and why (no path)
 * for anything wrong, with rot's persisted fields and x wiped.
 */
int state_body_encode(struct registry *reg, const struct rotation *rot,
		      uint64_t revision, const struct state_extra *x,
		      uint8_t **out, size_t *len);
int state_body_decode(const uint8_t *buf, size_t len, struct registry *reg,
		      struct rotation *rot, uint64_t *revision,
		      struct state_extra *x, struct why *why);

#endif
