/* SPDX-License-Identifier: MIT */
/* vxsec-keymgr: the operator's commands on the control socket, over the parts of the leader they read and change. */
#ifndef VXSEC_ADMIN_H
#define VXSEC_ADMIN_H

#include <stdint.h>

#include "ca.h"
#include "cluster.h"
#include "common/ctl.h"
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

/* A command waiting for its change to be in etcd (admin_wait.c). */
struct admin_wait {
	struct admin *a; /* NULL: free */
	struct ctl_later *later;
	enum admin_wait_what what;
	char node[REGISTRY_ID_MAX + 32]; /* the node, or the answer */
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
	struct admin_wait waits[ADMIN_WAITS_MAX];
};

/*
 * store = etcd: answers the command once a commit holding the change
 * ended (CTL_LATER), doing then what must follow it (a removal's drop);
 * or an answer now (the code) if it cannot wait.
 */
int admin_wait(struct admin *a, struct ctl_reply *r, enum admin_wait_what what,
	       const char *node, uint32_t index);
/* The join token as the reply (token show). */
int admin_token_reply(struct admin *a, struct ctl_reply *r);

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
