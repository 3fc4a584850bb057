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

/* What a command returns, the exit code of its client (LEADER_EXIT_*). */
enum admin_exit {
	ADMIN_EXIT_OK = 0,
	ADMIN_EXIT_FAIL = 1,
	ADMIN_EXIT_USAGE = 2,
};

struct admin {
	const char *listen;  /* the address the leader listens on, as text */
	uint64_t started_ms; /* wall clock */
	struct cluster *cl;
	struct store *st;
	struct sessions *ss;
	const struct ca *ca;
	const struct rotator *rot;
	void (*kick)(void *arg); /* a round of the leader soon */
	void *kick_arg;
};

/*
 * The commands (also declared in leader.h, for vxsec-keymgr's command
 * line); their handlers' arg is a struct admin.
 */
extern const struct ctl_table leader_commands;

/* The control socket's handler (ctl_server_new); arg: a struct admin. */
int admin_handle(void *arg, int argc, char **argv, struct ctl_reply *r);

#endif
