/* SPDX-License-Identifier: MIT */
/* keymgr rotation: the acknowledged prepare -> commit -> retire state machine, no I/O. */
#ifndef VXSEC_ROTATION_H
#define VXSEC_ROTATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"

#define ROT_GENS_MAX 3
#define ROT_ACTIONS_MIN \
	8 /* rot_step() needs this + nodes pending + connected */

enum rot_phase { ROT_IDLE, ROT_PREPARE, ROT_COMMIT, ROT_GRACE };
enum gen_phase { GEN_PREPARED, GEN_COMMITTED, GEN_RETIRING };

struct rot_gen {
	uint32_t g;
	enum gen_phase phase;
	uint8_t epoch
		[KEYS_EPOCH_LEN]; /* E_g: sent to members only, wiped at retire */
};

struct rot_config {
	uint64_t interval_ms; /* periodic rotation (default 12 h) */
	uint64_t deadline_ms; /* how long to wait for acks per phase */
	uint64_t grace_ms;    /* between the last commit ack and retire */
};

/* What the daemon must do, in order. */
enum rot_action_type {
	ACT_PERSIST,   /* write the state before anything leaves */
	ACT_PREPARE,   /* send every connected node its keys of generation */
	ACT_COMMIT,    /* tell every node to transmit with generation */
	ACT_RETIRE,    /* tell every node to delete generation's SAs */
	ACT_NODE_DOWN, /* node missed a deadline: treat it as disconnected */
};

struct rot_action {
	enum rot_action_type type;
	uint32_t generation;
	uint32_t node;
	uint64_t revision; /* the cluster's revision the change creates */
};

typedef void (*rot_random)(uint8_t *buf, size_t len, void *arg);

struct rotation {
	struct rot_config cfg;
	struct rot_gen gens[ROT_GENS_MAX]; /* locked (mlock) by rot_init */
	size_t n_gens;
	bool gens_locked; /* false if mlock failed (RLIMIT_MEMLOCK) */
	enum rot_phase phase;
	uint32_t target;	/* the generation being rotated to */
	uint64_t wait_revision; /* acks must name at least this */
	uint64_t deadline;	/* of the phase, or the end of the grace */
	uint64_t next_due;	/* the next periodic rotation */
	bool requested;
	uint32_t *pending; /* nodes whose ack the phase waits for */
	size_t n_pending, pending_cap;
	rot_random random;
	void *random_arg;
};

void rot_init(struct rotation *r, const struct rot_config *cfg,
	      rot_random random, void *arg);
/* Wipes every epoch secret and frees. */
void rot_cleanup(struct rotation *r);

/* Asks for a rotation (admin, soft expiry, removal): starts when idle. */
void rot_request(struct rotation *r);

/*
 * Advances the machine at time now (ms) with the nodes connected now.
 * revision is the cluster's (the cluster owns it): each transition
 * creates the next one, carried by its actions, which the caller records;
 * acks must then name at least the transition's revision. Writes up to
 * max actions and returns how many; -ENOSPC, with nothing changed, if
 * max < ROT_ACTIONS_MIN + nodes pending + n_connected.
 */
int rot_step(struct rotation *r, uint64_t now, uint64_t revision,
	     const uint32_t *connected, size_t n_connected,
	     struct rot_action *out, size_t max);

/*
 * After a restart from persisted state (pending and deadlines are not
 * persisted): a prepare or commit under way waits again, for every member
 * given (each acks the snapshot it gets when it reconnects), until a fresh
 * deadline; a grace period starts over. 0 or -ENOMEM.
 */
int rot_resume(struct rotation *r, uint64_t now, const uint32_t *members,
	       size_t n);

/*
 * Nothing could be sent for held ms (the leader could not save its state,
 * and sends nothing that is not on disk): the phase's deadline, or the
 * end of its grace, moves later by as much, so that agents get the whole
 * deadline from when they are sent the phase. Idle: nothing changes.
 */
void rot_hold(struct rotation *r, uint64_t held);

/* A node's kernel holds revision: it no longer holds the phase up. */
void rot_ack(struct rotation *r, uint32_t node, uint64_t revision);
/*
 * A node (re)connected during a prepare or commit: it got a snapshot of
 * the phase, and the phase now waits for its ack too (or the deadline),
 * so nobody transmits on a generation it has not installed. 0 or -ENOMEM.
 */
int rot_expect(struct rotation *r, uint32_t node);

/* A node disconnected or was removed: nobody waits for it. */
void rot_node_gone(struct rotation *r, uint32_t node);

/* The committed (transmit) generation, or NULL before the first. */
const struct rot_gen *rot_transmit(const struct rotation *r);

#endif
