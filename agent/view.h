/* SPDX-License-Identifier: MIT */
/* agent view: the leader's snapshots and deltas as this agent holds them. */
#ifndef VXSEC_AGENT_VIEW_H
#define VXSEC_AGENT_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/why.h"
#include "desired.h"
#include "keyer.h"
#include "static_key.h"
#include "wire.h"

/* A node's identity and public keys as the leader holds them. */
struct view_meta {
	char id[WIRE_NODE_ID_MAX + 1];
	uint32_t index;
	uint64_t incarnation;
	struct wire_node_key keys[WIRE_NODE_KEYS_MAX]; /* oldest first */
	size_t n_keys;
	/* the leader found it behind NAT, reached at public_addr (shown in
	 * status; what is programmed does not use it yet: docs/nat.md) */
	bool nat;
	struct desired_addr public_addr;
};

/*
 * Peers are kept sorted by node id in three parallel arrays: peers (the
 * derived pair keys: locked memory, wiped when freed), meta and cache
 * (each peer's X25519 results: locked). epochs[i] is the epoch secret
 * and SPI slot of gens[i] (locked). self is this node as the leader
 * holds it; sk its private keys (the daemon's, not owned). have_snapshot
 * is false until the first snapshot, and again after a refused delta: the
 * view is then not trusted until the next snapshot (the kernel keeps what
 * it had).
 */
struct view {
	char self_id[WIRE_NODE_ID_MAX + 1];
	const struct static_keys *sk;
	struct view_meta self;
	bool self_nat_second; /* desired_nat_shared(), set by the owner */
	uint64_t revision;
	/* The leader term held: of the last snapshot or delta applied, or
	 * (before any) the one the kernel's revision came with, set by the
	 * owner after view_init(). 0: a leader without election. */
	uint64_t term;
	bool have_snapshot;
	struct desired_gen gens[DESIRED_GENS_MAX];
	struct wire_epoch *epochs;
	size_t n_gens;
	struct desired_peer *peers;
	struct view_meta *meta;
	struct keyer_cache *cache;
	size_t n_peers, cap;
};

/*
 * sk: this node's private keys (the daemon's, bound to the generations
 * the leader names before the view derives with them).
 */
int view_init(struct view *v, const char *self_id,
	      const struct static_keys *sk);
void view_cleanup(struct view *v);

/*
 * A leader of this term may be heard: 0, or -EPROTO and why if the term
 * is older than the one the view holds (a stale leader, e.g. one that was
 * cut off while another took over). view_snapshot() and view_delta()
 * check it too; the owner asks first to act on nothing such a leader says.
 */
int view_term_check(const struct view *v, uint64_t term, struct why *why);

/*
 * Replaces the view with a snapshot (checked by wire_decode()) and
 * derives every peer's keys for every live generation; one of an older
 * term (view_term_check()), one going back in revision within the same
 * term, or one whose keys cannot be derived (see keyer_derive()) leaves
 * the view as it was and gives -EPROTO with the reason. A newer term is
 * a takeover: its snapshot replaces the view whatever its revision, and
 * the view holds that term from now on.
 */
int view_snapshot(struct view *v, const struct wire_snapshot *m,
		  struct why *why);

/*
 * Applies one delta (checked by wire_decode()), which must be of the
 * view's term or a newer one (then held from now on), the next revision,
 * and fit the view: a committed generation when a prepare
 * comes, no prepare of a live generation or beyond DESIRED_GENS_MAX, no
 * commit or retire of a generation that is not live, no retire of the
 * committed one, keys that can be derived. A new peer (incarnation):
 * its keys for every live generation; a prepare: every peer's for it
 * (the key changes it lists applied first: this node's must be bound in
 * sk already); a retire wipes the generation's keys and epoch. -EPROTO
 * and the reason otherwise; the view is then untrusted until the next
 * snapshot. What the view holds, desired_build() accepts.
 */
int view_delta(struct view *v, const struct wire_delta *m, struct why *why);

/*
 * This node was removed: every pair key, epoch and X25519 result is
 * wiped and no generation is live; the peers stay (their policies keep
 * failing closed). Not a state the leader sent: the revision moves on.
 */
void view_forget_keys(struct view *v);

/* What desired_build() needs; points into v (valid until v changes). */
void view_desired(const struct view *v, const struct desired_addr *self,
		  size_t n_self, struct desired_view *out);

/* The committed generation, 0 if none. */
uint32_t view_committed(const struct view *v);
/* The peer's position, or -1. */
long view_find(const struct view *v, const char *id);
const char *view_phase_name(enum desired_phase p);

#endif
