/* SPDX-License-Identifier: MIT */
/* vxsec-keymgr: the operator's commands on the control socket, over the parts of the leader they read and change. */
#ifndef VXSEC_ADMIN_H
#define VXSEC_ADMIN_H

#include <stdint.h>

#include "ca.h"
#include "cluster.h"
#include "common/ctl.h"
#include "common/why.h"
#include "events.h"
#include "rotator.h"
#include "session.h"
#include "store.h"
#include "store_etcd.h"

/* What a command returns, the exit code of its client (LEADER_EXIT_*). */
enum admin_exit {
	ADMIN_EXIT_OK = 0,
	ADMIN_EXIT_FAIL = 1,
	ADMIN_EXIT_USAGE = 2,
};

/* store = etcd: this instance's part (leader_ha.c fills it). */
struct admin_ha {
	bool etcd;    /* false: the file store, nothing else is set */
	bool serving; /* elected and loaded */
	const char *instance, *role, *election, *etcd_endpoint, *prefix;
	const char *leader;	   /* the instance leading ("": not known) */
	const char *leader_listen; /* where it listens for agents, or "" */
	int64_t term, lease_ttl_s; /* a standby: the leader's term (0: ?) */
	uint64_t role_s;	   /* in this role */
	uint64_t loop_late_max_ms; /* loop_late_max_ms(): what leases wait */
	struct store_etcd_stats stats;
};

#define ADMIN_WAITS_MAX 16

enum admin_wait_what { ADMIN_WAIT_ROTATE, ADMIN_WAIT_REMOVE, ADMIN_WAIT_TOKEN };

/* The library's end of a change (leader_api.c: the host's callback). */
struct admin_done {
	void (*fn)(void *arg, int err);
	void *arg;
};

/*
 * A change waiting for its end: with store = etcd, for etcd to hold it
 * (a control command's later, or the library's done); with the file
 * store, a library change already saved (ready), told at the next round.
 */
struct admin_wait {
	struct admin *a; /* NULL: free */
	struct ctl_later *later;
	struct admin_done done;
	bool ready; /* over: done is told err by admin_waits_fire() */
	int err;
	enum admin_wait_what what;
	char node[REGISTRY_ID_MAX + 96]; /* the node, or the answer */
	uint32_t index;
};

struct admin {
	const char *listen;  /* the address the leader listens on, as text */
	const char *leaders; /* the agents' leader list, or "" */
	uint64_t started_ms; /* wall clock */
	struct cluster *cl;
	struct store *st;
	struct sessions *ss;
	const struct ca *ca;
	const struct rotator *rot;
	void (*kick)(void *arg); /* a round of the leader soon */
	void *kick_arg;
	void (*ha)(void *arg, struct admin_ha *out); /* NULL: file store */
	void *ha_arg;
	const struct events *ev; /* removals */
	struct admin_wait waits[ADMIN_WAITS_MAX];
};

/* admin_ops.c: the changes, for the control socket and the library. */
#define ADMIN_WAITING 1
/*
 * Each makes its checks (a save failing refuses), then the change: 0 once
 * it is saved and done (the file store); ADMIN_WAITING with *w waiting
 * for etcd (the caller gives it a later or a done before the loop runs
 * again); or -errno and why, nothing changed. what: the rotation's answer.
 */
int admin_rotate(struct admin *a, char *what, size_t len, struct admin_wait **w,
		 struct why *why);
int admin_remove(struct admin *a, const char *node, struct admin_wait **w,
		 struct why *why);
int admin_token_rotate(struct admin *a, struct admin_wait **w, struct why *why);
/* The join token as text (TOKEN_TEXT_LEN + 1). */
int admin_token_text(struct admin *a, char *text, size_t len, struct why *why);
/* The unlock key as text (STATE_UNLOCK_TEXT_LEN + 1); -ENOKEY, why,
 * without autolock. */
int admin_unlock_show(struct admin *a, char *text, size_t len, struct why *why);
/* A new state key: its text (autolock) or where it is; -EOPNOTSUPP with
 * store = etcd. text is wiped on failure. */
int admin_unlock_rotate(struct admin *a, char *text, size_t len,
			struct why *why);
/* A change is saved: what follows it (a removal's drop), logged. */
void admin_confirmed(struct admin *a, enum admin_wait_what what,
		     const char *node, uint32_t index);
/* Its answer on the control socket. */
int admin_done_reply(struct admin *a, enum admin_wait_what what,
		     const char *node, struct ctl_reply *r);

/* admin_wait.c */
/* store = etcd: *out waits for the next commit; ADMIN_WAITING, or -errno
 * and why. */
int admin_wait_start(struct admin *a, enum admin_wait_what what,
		     const char *node, uint32_t index, struct admin_wait **out,
		     struct why *why);
/* A control command's answer comes when w ends: CTL_LATER, or a code. */
int admin_wait_reply(struct admin_wait *w, struct ctl_reply *r);
/* A slot is free for one more. */
bool admin_wait_room(struct admin *a);
/* A library change that is over (err): d is told at the next round. */
int admin_done_later(struct admin *a, const struct admin_done *d, int err,
		     struct why *why);
/* The round: tells the library the changes that are over. */
void admin_waits_fire(struct admin *a);
/* At the end: every library change not told yet is, -ECANCELED if it was
 * still waiting for etcd. */
void admin_waits_cancel(struct admin *a);
/* The join token as the reply (token show). */
int admin_token_reply(struct admin *a, struct ctl_reply *r);
/* For messages: a rotation phase's name; an address as text. */
const char *admin_rot_phase_name(enum rot_phase p);
void admin_addr_text(const struct node_addr *a, char *out, size_t len);

/* admin_ha.c: status lines, JSON members and metrics of store = etcd. */
void admin_ha_text(const struct admin *a, struct ctl_reply *r);
/* Whether this instance serves agents (always, with the file store). */
bool admin_ha_serving(const struct admin *a);
void admin_ha_json(const struct admin *a, struct ctl_reply *r);
void admin_ha_metrics(const struct admin *a, struct ctl_reply *r);
/* A standby refuses every command but status and metrics: the code, or 0
 * to go on. */
int admin_ha_refuse(const struct admin *a, const char *cmd,
		    struct ctl_reply *r);
/* The same for the library: -EAGAIN and why, or 0. */
int admin_ha_refusal(const struct admin *a, const char *cmd, struct why *why);

/* "idle", "prepare", ...: a rotation phase as status shows it. */
const char *admin_rot_phase_name(enum rot_phase p);

/*
 * admin_line.c: status in one line (systemd's STATUS=): role, members,
 * connected agents, revision, generation, rotation, a failing save.
 */
void admin_status_line(const struct admin *a, char *line, size_t len);

/*
 * The commands (also declared in leader.h, for vxsec-keymgr's command
 * line); their handlers' arg is a struct admin.
 */
extern const struct ctl_table leader_commands;

/* The control socket's handler (ctl_server_new); arg: a struct admin. */
int admin_handle(void *arg, int argc, char **argv, struct ctl_reply *r);

#endif
