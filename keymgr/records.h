/* SPDX-License-Identifier: MIT */
/* keymgr records: the leader's whole state as small named records, each sealed, and back (no I/O). */
#ifndef VXSEC_RECORDS_H
#define VXSEC_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/why.h"
#include "registry.h"
#include "rotation.h"
#include "state.h"

/*
 * The state of state.h as records, for a store that keeps them under a
 * prefix (etcd: docs/design.md, "Records"). Plaintexts (integers
 * big-endian, every field checked both ways, as the state file's):
 *
 *   meta            u16 format (RECORDS_FORMAT), u16 flags (bit 0 =
 *                   autolock; other bits refused), u64 revision (the
 *                   cluster's), the rotation: u8 phase, u32 target, u64
 *                   wait_revision, u64 next_due, u8 requested (0 or 1),
 *                   u8 n_gens (<= 3) + u32 g each (strictly increasing:
 *                   the gen records that must exist), u32 node count
 *                   (<= 0xffffff: the node records that must exist)
 *   ca              u32 length + the CA certificate PEM, u32 length + the
 *                   CA key PEM (each <= STATE_PEM_MAX, no NUL; may be 0)
 *   token           the 32-byte join token secret
 *   gen/<g>         u32 g (as in its name), u8 phase, 32-byte epoch secret
 *                   E_g; <g> is 10 decimal digits, zero-padded
 *   node/<index>    one node exactly as in the state file's body (state.h),
 *                   its index the one in its name; <index> is 8 decimal
 *                   digits, zero-padded. A node is never written
 *                   connected (it says disconnected, as a load makes it):
 *                   a connect or disconnect changes no record.
 *
 * Nothing follows the last field of a record. Names sort (strcmp) as
 * their numbers: gens and nodes come out in order. Only meta grows with
 * the membership, by its count; the largest record is ca (two PEMs).
 *
 * Sealed value of a record (what the store writes):
 *   0   key id     8 bytes: BLAKE2b-256 of the state key, first 8 (as the
 *                  state file's header)
 *   8   nonce      24 bytes, random per seal
 *   32  XChaCha20-Poly1305 of the plaintext + 16-byte tag; associated
 *       data: the key id and the record's name (no prefix, no NUL), so a
 *       value moved to another record, or under another key id, fails.
 */
#define RECORDS_FORMAT 1
#define RECORD_NAME_MAX 32			 /* with its NUL */
#define RECORD_PLAIN_MAX (2 * STATE_PEM_MAX + 8) /* ca at its largest */
#define RECORD_SEAL_OVERHEAD 48			 /* key id, nonce, tag */
#define RECORD_SUM_LEN 16

/*
 * One record: its name ("meta", "gen/0000000042", "node/00000017") and
 * its plaintext, len bytes and a NUL. A secret's (record_name_secret())
 * is from sodium_malloc; meta and node records hold no secret and come
 * from malloc (10,000 guarded allocations would take 40,000 memory maps
 * of the 65,530 a process gets, and 50 us each). Both are wiped when
 * freed.
 */
struct record {
	char name[RECORD_NAME_MAX];
	uint8_t *plain;
	size_t len;
	uint8_t sum[RECORD_SUM_LEN]; /* BLAKE2b-128 of name, NUL, plain */
	bool secret;
};

/* Records sorted by name (strcmp), no name twice. Zeroed is empty. */
struct record_set {
	struct record *v;
	size_t n, cap;
};

/* Wipes and frees every plaintext, frees the array; s is empty. */
void record_set_clear(struct record_set *s);

/*
 * A copy of plain (len <= RECORD_PLAIN_MAX) as record name (in sodium
 * memory if record_name_secret()), keeping s sorted; a record of that name is replaced (its old
 * plaintext wiped). -EINVAL for an empty name or one of RECORD_NAME_MAX
 * bytes or more, -EMSGSIZE, -ENOMEM (s unchanged).
 */
int record_set_add(struct record_set *s, const char *name, const uint8_t *plain,
		   size_t len);

/*
 * The record of that name, NULL if none (binary search). The pointer
 * stays valid until the next record_set_add() or record_set_clear().
 */
const struct record *record_set_find(const struct record_set *s,
				     const char *name);

/* Removes (wiped) the record of that name: whether there was one. */
bool record_set_remove(struct record_set *s, const char *name);

/*
 * Whether record name holds a secret: every name but meta and node/...
 * (ca, token, gen/<g>, and any name not known: the safe side).
 */
bool record_name_secret(const char *name);

/*
 * Whether name is one records_encode() may write: meta, ca, token,
 * gen/<10 digits, 1..4294967295>, node/<8 digits, 1..0xffffff>. A
 * store skips other keys under its prefix (the election's "leader").
 */
bool record_name_known(const char *name);

/*
 * The whole state as records, sorted by name, into out (cleared first):
 * meta, ca, token, one gen per live generation, one node per registry
 * entry (removed ones too). ca_cert_pem may be NULL if ca_cert_len is 0.
 * -EINVAL, out empty, for anything records_decode() would refuse (as
 * state_body_encode()); -ENOMEM. reg is not modified.
 */
int records_encode(struct registry *reg, const struct rotation *rot,
		   uint64_t revision, const struct state_extra *x,
		   const char *ca_cert_pem, size_t ca_cert_len, bool autolock,
		   struct record_set *out);

/*
 * Records (added in any order) back into the state: every check
 * state_body_decode() makes, and completeness: meta present in format
 * RECORDS_FORMAT, exactly the gen records meta lists, as many node
 * records as meta counts, ca and token present, no other name. reg from
 * registry_new(), rot from rot_init(), x zeroed, as state_load() takes
 * them. *ca_cert_pem: malloc'd, NUL-terminated (free it), also when
 * empty; x->ca_key_pem as state_body_decode() (NULL when empty).
 * Returns 0; -EPROTONOSUPPORT (meta of another format), -EBADMSG, or
 * -ENOMEM, with a one-line why naming the record ("record node/00000017:
 * ..."). On error rot's persisted fields, *revision, x, *ca_cert_pem and
 * *autolock are wiped or zeroed; reg may hold some nodes (free it).
 */
int records_decode(const struct record_set *in, struct registry *reg,
		   struct rotation *rot, uint64_t *revision,
		   struct state_extra *x, char **ca_cert_pem,
		   size_t *ca_cert_len, bool *autolock, struct why *why);

/*
 * Seals len bytes of plain (<= RECORD_PLAIN_MAX, else -EMSGSIZE) as
 * record name (a name record_set_add() takes, else -EINVAL) under key:
 * *out (malloc'd: a ciphertext is no secret) of len +
 * RECORD_SEAL_OVERHEAD bytes, a fresh nonce each time. -ENOMEM.
 */
int records_seal(const uint8_t key[STATE_KEY_LEN], const char *name,
		 const uint8_t *plain, size_t len, uint8_t **out,
		 size_t *out_len);

/*
 * Opens the sealed value of record name under key: *plain from
 * sodium_malloc (sodium_free it; one byte more than *plain_len). Never
 * reads past len. -EKEYREJECTED (another key id: "sealed under another
 * state key"), -EBADMSG (too short or too long, modified, or sealed as
 * another record), -EINVAL (a name record_set_add() refuses), -ENOMEM;
 * why says which (without the name: the caller adds it).
 */
int records_open(const uint8_t key[STATE_KEY_LEN], const char *name,
		 const uint8_t *val, size_t len, uint8_t **plain,
		 size_t *plain_len, struct why *why);

/*
 * records_open() straight into s (the store's load): the plaintext goes
 * to sodium or heap memory as record_set_add() would put it, with no
 * other copy. Errors as records_open(); s unchanged on error.
 */
int records_open_add(const uint8_t key[STATE_KEY_LEN], const char *name,
		     const uint8_t *val, size_t len, struct record_set *s,
		     struct why *why);

/* What was last written: names and sums, sorted by name. Zeroed is empty. */
struct record_sum {
	char name[RECORD_NAME_MAX];
	uint8_t sum[RECORD_SUM_LEN];
};
struct record_sums {
	struct record_sum *v;
	size_t n, cap;
};

/*
 * The records that differ between old (what was last written) and now,
 * in name order: cb(arg, name, rec) for a record new or changed (rec in
 * now), cb(arg, name, NULL) for one to delete. One pass over both sorted
 * lists. Returns 0, or the first non-zero cb returned (no call after).
 */
int records_diff(const struct record_sums *old, const struct record_set *now,
		 int (*cb)(void *arg, const char *name,
			   const struct record *rec),
		 void *arg);

/* s becomes the names and sums of now (written). 0, or -ENOMEM (s kept). */
int record_sums_take(struct record_sums *s, const struct record_set *now);
/* Frees s; s is empty. */
void record_sums_clear(struct record_sums *s);

#endif
