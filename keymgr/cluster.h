/* SPDX-License-Identifier: MIT */
/* keymgr cluster: members, generations, revision and change log as one state, no I/O. */
#ifndef VXSEC_CLUSTER_H
#define VXSEC_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "registry.h"
#include "rotation.h"

/* Changes kept for deltas; a client further behind gets a snapshot. */
#define CLUSTER_LOG_MAX 1024

/*
 * One change; each bumps the revision by exactly one. What it carries is
 * rendered for each agent from the current state when it is sent.
 */
enum change_type {
	CHG_PEER_ADDED,	  /* node joined */
	CHG_PEER_UPDATED, /* node has a new incarnation (boot, addresses) */
	CHG_PEER_REMOVED, /* node removed for good */
	CHG_PREPARE,	  /* generation installed, not transmitting */
	CHG_COMMIT,	  /* generation is the transmit generation */
	CHG_RETIRE,	  /* generation deleted */
};

struct change {
	uint64_t revision;
	enum change_type type;
	uint32_t node;	     /* index, for peer changes */
	uint32_t generation; /* for generation changes */
};

struct cluster {
	struct registry *reg;
	struct rotation rot;
	uint64_t revision;     /* one per change; only cluster.c changes it */
	uint64_t rot_revision; /* of the newest prepare, commit or retire */
	struct change log[CLUSTER_LOG_MAX];
	size_t log_len; /* the newest is log[(revision - 1) % MAX] */
};

int cluster_init(struct cluster *c, const struct rot_config *cfg,
		 rot_random random, void *arg);
/* Wipes every epoch secret and frees. */
void cluster_cleanup(struct cluster *c);

/*
 * A node joins with a token: a new member (-EEXIST if it is one already:
 * it keeps its index), -EPERM if its id was removed, -EADDRINUSE if
 * another member announces one of its addresses, -EINVAL for bad input.
 * Its addresses are set, its static keys are [(0, pub)]; peers learn of
 * it by a change. A member whose join was abandoned unanswered
 * (cluster_join_abandoned), or one without a session joining again with
 * its boot id, newest static key and addresses (its answer lost in a
 * crash or a failover), is taken over instead: same index, a new
 * incarnation, 0.
 */
int cluster_join(struct cluster *c, const char *id,
		 const uint8_t boot_id[REGISTRY_BOOT_ID_LEN],
		 const struct node_addr *addrs, size_t n_addrs,
		 const uint8_t pub[REGISTRY_PUB_LEN], struct node **out);

/*
 * A member connects. A new boot id or other addresses give it a new
 * incarnation (fresh keys for all its pairs: the same key is never
 * installed twice) and its peers a change; so does lost_state (its
 * kernel lost SAs it may not install again). 1 if so, 0 if not, -ENOENT
 * for a stranger, -EPERM for a removed node, -EADDRINUSE if another
 * member announces one of its addresses. public_addr (NULL: not behind
 * NAT; see cluster_nat_detect()) other than the record's is a move too:
 * a new incarnation. It is not an announced address: two members may
 * share it (one NAT), and cluster_addr_owner() ignores it. A new
 * incarnation's keys are
 * [(0, pub)]; otherwise a pub other than the newest known key becomes
 * the pending key, as cluster_key_update(). *key_changed (if given) says
 * whether the pending key changed (nothing for peers to learn yet, but
 * it must reach disk).
 */
int cluster_hello(struct cluster *c, const char *id,
		  const uint8_t boot_id[REGISTRY_BOOT_ID_LEN],
		  const struct node_addr *addrs, size_t n_addrs,
		  bool lost_state, const uint8_t pub[REGISTRY_PUB_LEN],
		  const struct node_addr *public_addr, bool *key_changed);

/*
 * NAT detection (docs/nat.md): the agent's socket of its session had
 * local (Hello.local_address; NULL if it did not say), the leader saw
 * the session come from source. They differ: something between them
 * rewrote the source, the node is behind NAT, and *public_addr (if
 * given) is source. An IPv4-mapped IPv6 address (a leader listening on
 * ::) equals its IPv4 address; public_addr is given in IPv4 form.
 */
bool cluster_nat_detect(const struct node_addr *local,
			const struct node_addr *source,
			struct node_addr *public_addr);

/*
 * Members n cannot reach (docs/nat.md): n and they are behind NAT at
 * different public addresses, so neither can receive first and their
 * agents refuse the pair. Their ids, ", "-separated, into names (cut to
 * len); returns how many.
 */
size_t cluster_nat_unreachable(const struct cluster *c, const struct node *n,
			       char *names, size_t len);

/*
 * The member of the lowest index behind n's public address, if it is not
 * n (docs/nat.md, "Several members behind one NAT": only that one pairs
 * with members outside), else NULL.
 */
const struct node *cluster_nat_first(const struct cluster *c,
				     const struct node *n);

/* The agent's nat setting, as its hello says (docs/nat.md). */
enum cluster_nat_mode {
	CLUSTER_NAT_AUTO,
	CLUSTER_NAT_FORCE,
	CLUSTER_NAT_NEVER
};

/*
 * Whether the member is behind NAT, and where (*public_addr): AUTO is
 * cluster_nat_detect(local, source); NEVER is never; FORCE always, at
 * configured if given, else at the source (IPv4 form), else (no source
 * either) not at all.
 */
bool cluster_nat_decide(enum cluster_nat_mode mode,
			const struct node_addr *local,
			const struct node_addr *source,
			const struct node_addr *configured,
			struct node_addr *public_addr);

/*
 * A member made a new static key (its periodic change): it becomes the
 * pending key, attached to the next generation prepared. No revision (no
 * agent is told before that prepare). 1 if the pending key changed, 0 if
 * pub is the newest or pending key already, -ENOENT/-EPERM for a
 * stranger or a removed node.
 */
int cluster_key_update(struct cluster *c, uint32_t index,
		       const uint8_t pub[REGISTRY_PUB_LEN]);

/*
 * The member other than id (removed ones aside) that announces one of
 * addrs, or NULL. Two members on one address would each get the other's
 * traffic and keys: a token holder could announce a member's address.
 */
const struct node *cluster_addr_owner(struct cluster *c, const char *id,
				      const struct node_addr *addrs,
				      size_t n_addrs);

/*
 * The answer to id's join will never leave (its joiner went away before
 * the join was on disk): the id is not "already a member" to its next
 * join, which gets the record (the leader marks only joins whose held
 * answer it dropped: a member with a certificate is never taken over).
 */
void cluster_join_abandoned(struct cluster *c, const char *id);

/* A member disconnected: nobody waits for its acks any more. */
void cluster_disconnect(struct cluster *c, const char *id);

/*
 * Removed for good: peers are told, a rotation is requested (the node
 * knew the current keys), its id and index are never reused.
 */
int cluster_remove(struct cluster *c, const char *id);

/*
 * A removal that cannot be saved is taken back, for nothing of it may be
 * announced before it is on disk: cluster_undo_mark() just before
 * cluster_remove(), cluster_undo() right after (nothing else between)
 * restores the revision, the change log, the request, the node's state
 * and the ack the phase waited for from it.
 */
struct cluster_undo {
	char id[REGISTRY_ID_MAX + 1];
	uint64_t revision;
	size_t log_len;
	struct change slot; /* the log entry the removal overwrites */
	bool requested;
	enum node_state state;
	bool pending;
};
void cluster_undo_mark(const struct cluster *c, const char *id,
		       struct cluster_undo *u);
void cluster_undo(struct cluster *c, const struct cluster_undo *u);

/* A member's kernel holds revision. */
void cluster_ack(struct cluster *c, uint32_t index, uint64_t revision);

/*
 * Runs the rotation machine (rot_step) with the connected members and
 * logs the generation changes it makes. Preparing generation g attaches
 * every pending key as (g, pub); a retire drops the keys no live
 * generation uses. Actions as rot_step; max must be
 * at least cluster_actions_max().
 */
int cluster_step(struct cluster *c, uint64_t now, struct rot_action *out,
		 size_t max);
size_t cluster_actions_max(const struct cluster *c);

/* After a restart from saved state: see rot_resume(). */
int cluster_resume(struct cluster *c, uint64_t now);

uint64_t cluster_revision(const struct cluster *c);

/* The revision of the newest prepare, commit or retire (0: none since
 * start): an agent sent less is owed a step of a rotation. */
uint64_t cluster_rot_revision(const struct cluster *c);
/* A rotation is under way (prepare, commit or grace). */
bool cluster_rot_busy(const struct cluster *c);
/* One is, and its phase waits for no ack any more: it can step now. */
bool cluster_rot_waiting(const struct cluster *c);
/*
 * Asks for a rotation (operator, soft expiry): it starts when idle.
 * Returns whether one was asked for already, for cluster_rot_unrequest()
 * to take back one that could not be saved.
 */
bool cluster_rot_request(struct cluster *c);
void cluster_rot_unrequest(struct cluster *c, bool requested);
/* The committed generation, or 0 before the first. */
uint32_t cluster_transmit_gen(const struct cluster *c);
/* The newest generation live or being rotated to, or 0. */
uint32_t cluster_newest_gen(const struct cluster *c);
/* Nothing could be sent for held ms: the phase waits as long (rot_hold). */
void cluster_hold(struct cluster *c, uint64_t held);
/* The epoch secrets are in locked memory (mlock succeeded). */
bool cluster_epochs_locked(const struct cluster *c);

/* A record by id, or in join order from 0 (removed ones too); NULL if none. */
struct node *cluster_find(const struct cluster *c, const char *id);
struct node *cluster_at(const struct cluster *c, size_t i);
/* Members not removed. */
size_t cluster_members(const struct cluster *c);

/* What the operator is shown of the rotation (no key). */
struct cluster_status {
	uint64_t revision;
	enum rot_phase phase;
	uint32_t target; /* 0 when idle */
	size_t n_pending;
	bool requested;
	uint64_t next_due; /* the next periodic rotation, wall clock ms */
	uint32_t transmit;
	size_t n_gens;
	struct {
		uint32_t g;
		enum gen_phase phase;
	} gens[ROT_GENS_MAX];
};
void cluster_status(const struct cluster *c, struct cluster_status *out);

/* For the state file alone (store.c): the parts it loads and saves. */
struct registry *cluster_registry(struct cluster *c);
struct rotation *cluster_rotation(struct cluster *c);
/* After the state is loaded: its revision; the change log starts empty. */
void cluster_restore(struct cluster *c, uint64_t revision);

/*
 * The change that made revision after + 1: 0, -ENOENT if after is the
 * current revision, -ESTALE if that change is no longer in the log (the
 * client needs a snapshot).
 */
int cluster_change_after(const struct cluster *c, uint64_t after,
			 struct change *out);

/* The member with this index (removed ones too), or NULL. */
struct node *cluster_node(const struct cluster *c, uint32_t index);

/* The live generation g, or NULL. */
const struct rot_gen *cluster_gen(const struct cluster *c, uint32_t g);
/* The live generations, oldest first; *n of them. */
const struct rot_gen *cluster_gens(const struct cluster *c, size_t *n);

#endif
