/* SPDX-License-Identifier: MIT */
/* vxsec-agent daemon internals: the agent, shared by agentd.c, agent_status.c and agent_used.c. */
#ifndef VXSEC_AGENTD_INT_H
#define VXSEC_AGENTD_INT_H

#include <time.h>

#include "agent_nat.h"
#include "agentd.h"
#include "common/ctl.h"
#include "common/httpd.h"
#include "common/loop.h"
#include "common/sdnotify.h"
#include "kernel.h"
#include "overlay_set.h"
#include "reconcile.h"
#include "session.h"
#include "static_key.h"
#include "view.h"

struct agent {
	struct agent_config cfg;
	struct loop *loop;
	struct session *session;
	struct view view;
	struct static_keys sk; /* this node's X25519 keys: the view's too */
	struct reconciler rec;
	struct xfrm_sock *xs, *events;
	struct agent_xfrm kx;
	struct agent_kernel k;
	struct ctl_server *ctl;
	struct httpd *metrics; /* metrics_listen: GET /metrics */
	struct sdnotify sd;    /* agent_run under systemd */
	struct overlay_set ov; /* cfg.vxlan: the VXLAN devices */
	struct agent_nat nat;  /* ESP in UDP (docs/nat.md) */
	struct loop_timer *resync, *retry, *rekey, *natkeep;
	bool fresh_key; /* a new static key at start: a new incarnation */
	uint8_t boot_id[WIRE_BOOT_ID_LEN];
	int exit_code;

	/* What the kernel holds, as far as we know. */
	uint64_t applied;    /* the revision the kernel holds (acked) */
	uint64_t saved_rev;  /* the one in state_dir/revision */
	uint64_t saved_term; /* and the leader term saved with it */
	bool in_sync;	     /* the last reconcile succeeded */
	uint64_t retry_ms;   /* after a failed reconcile */
	time_t last_sync;    /* of the last reconcile */
	double last_sync_ms; /* how long it took */
	struct reconcile_result last; /* its result */
	uint64_t n_syncs, n_sync_failures, n_refused, n_soft_expires,
		n_hard_expires, n_events_lost;
	size_t n_sas, n_pols;	  /* in the desired state */
	uint32_t expire_reported; /* the last generation reported expiring */
};

/* Reconcile now (a snapshot, a delta burst, an event, the timer). */
void agent_sync(struct agent *a, const char *reason);

/* agent_keys.c: this node's static keys. */
int agent_keys_open(struct agent *a, struct why *why);
void agent_keys_close(struct agent *a);
/*
 * Binds this node's keys the snapshot's self (or the prepare's key
 * changes) names before the view derives with them. false: the leader
 * names a key this node does not hold; the session restarts asking for
 * a new incarnation, and the message must not be applied.
 */
bool agent_keys_snapshot(struct agent *a, const struct wire_snapshot *m);
bool agent_keys_prepare(struct agent *a, const struct wire_delta *m);
/* Generation g retired: the keys no live generation uses are wiped. */
void agent_keys_retired(struct agent *a, uint32_t g);

/* agent_status.c: the control socket's commands. */
int agent_ctl(void *arg, int argc, char **argv, struct ctl_reply *reply);

/*
 * agent_notify.c, under systemd: READY=1 once this node is ready (the
 * first revision in the kernel, or a certificate and no leader), and the
 * status in one line (sdnotify's callback).
 */
void agent_notify_check(struct agent *a);
void agent_notify_line(void *arg, char *line, size_t len);

/* agent_used.c: the installed keys' digests, kept across restarts. */
int agent_used_load(struct agent *a);
int agent_used_save(struct agent *a);
/* state_dir/revision: the kernel's revision and its leader term (0, 0
 * if none). */
void agent_rev_load(const struct agent *a, uint64_t *revision, uint64_t *term);
int agent_rev_save(const struct agent *a, uint64_t revision, uint64_t term);

#endif
