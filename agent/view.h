/* SPDX-License-Identifier: MIT */
/* agent view: the leader's snapshots and deltas as this agent holds them. */
#ifndef VXSEC_AGENT_VIEW_H
#define VXSEC_AGENT_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/why.h"
#include "desired.h"
#include "wire.h"

struct view_meta {
	char id[WIRE_NODE_ID_MAX + 1];
	uint64_t incarnation;
};

/*
 * Peers are kept sorted by node id in two parallel arrays: peers (keys:
 * locked memory, wiped when freed) and meta. have_snapshot is false until
 * the first snapshot, and again after a refused delta: the view is then
 * not trusted until the next snapshot (the kernel keeps what it had).
 */
struct view {
	char self_id[WIRE_NODE_ID_MAX + 1];
	uint64_t revision;
	bool have_snapshot;
	struct desired_gen gens[DESIRED_GENS_MAX];
	size_t n_gens;
	struct desired_peer *peers;
	struct view_meta *meta;
	size_t n_peers, cap;
};

int view_init(struct view *v, const char *self_id);
void view_cleanup(struct view *v);

/*
 * Replaces the view with a snapshot (checked by wire_decode()); one
 * going back in revision leaves the view as it was and gives -EPROTO
 * with the reason.
 */
int view_snapshot(struct view *v, const struct wire_snapshot *m,
		  struct why *why);

/*
 * Applies one delta (checked by wire_decode()), which must be the next
 * revision and fit the view: keys for known peers, in live generations,
 * a committed generation if it brings keys, no prepare of a live
 * generation or beyond DESIRED_GENS_MAX, no commit or retire of a
 * generation that is not live, no retire of the committed one. -EPROTO
 * and the reason otherwise; the view is then untrusted until the next
 * snapshot. What the view holds, desired_build() accepts.
 */
int view_delta(struct view *v, const struct wire_delta *m, struct why *why);

/* What desired_build() needs; points into v (valid until v changes). */
void view_desired(const struct view *v, const struct desired_addr *self,
		  size_t n_self, struct desired_view *out);

/* The committed generation, 0 if none. */
uint32_t view_committed(const struct view *v);
/* The peer's position, or -1. */
long view_find(const struct view *v, const char *id);
const char *view_phase_name(enum desired_phase p);

#endif
