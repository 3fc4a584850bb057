/* SPDX-License-Identifier: MIT */
/* vxsec-keymgr: what the parts report as it happens (members, rotation phases, saves, role), for the embedding host's callback. */
#ifndef VXSEC_EVENTS_H
#define VXSEC_EVENTS_H

#include <stdint.h>

#include "registry.h"

/* The same values as leader.h's enum leader_event_type (leader_api.c
 * checks): the parts do not include the public header. */
enum event_type {
	EV_MEMBER_JOINED = 1,	/* its join answer left: the member is saved */
	EV_MEMBER_CONNECTED,	/* a hello: it has a session */
	EV_MEMBER_DISCONNECTED, /* its session ended */
	EV_MEMBER_INCARNATION,	/* a hello with a new incarnation */
	EV_MEMBER_REMOVED,	/* removed for good, saved, its session ended */
	EV_ROTATION,		/* the rotation entered a phase */
	EV_SAVE_FAILED,		/* a save failed: the leader holds still */
	EV_SAVED,		/* saves succeed again */
	EV_ROLE,		/* store = etcd: this instance's role changed */
};

struct event {
	enum event_type type;
	const struct node *node; /* member events */
	int phase;		 /* EV_ROTATION: enum rot_phase */
	uint32_t generation;	 /* EV_ROTATION */
	int error;		 /* EV_SAVE_FAILED: -errno */
	const char *why;	 /* what the log says, or NULL */
	int role;		 /* EV_ROLE: leader_int.h's enum leader_role */
	int64_t term;		 /* EV_ROLE */
};

/* Who hears them; fn NULL (or no struct events at all): nobody. */
struct events {
	void (*fn)(void *arg, const struct event *ev);
	void *arg;
};

/* NULL-safe e. */
void events_emit(const struct events *e, const struct event *ev);
/* A member event of node n. */
void events_node(const struct events *e, enum event_type type,
		 const struct node *n, const char *why);

#endif
