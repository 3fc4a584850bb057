/* SPDX-License-Identifier: MIT */
/* vxsec-keymgr: the leader's parts, shared by leader.c (the wiring) and leader_ha.c (store = etcd: standby, takeover, stepping down). */
#ifndef VXSEC_LEADER_INT_H
#define VXSEC_LEADER_INT_H

#include "admin.h"
#include "ca.h"
#include "cluster.h"
#include "common/ctl.h"
#include "common/httpd.h"
#include "common/loop.h"
#include "common/sdnotify.h"
#include "elector.h"
#include "events.h"
#include "leader.h"
#include "records.h"
#include "rotator.h"
#include "session.h"
#include "store.h"
#include "store_etcd.h"

/* The parts, each the one owner of its state; leader.c only wires them. */
struct leader {
	struct leader_config cfg;
	struct loop *loop;
	struct cluster cl;  /* members, generations, the revision */
	struct store st;    /* the state on disk, the token, the state key */
	struct ca ca;	    /* the CA, our own certificate and TLS context */
	struct sessions ss; /* connections, sessions, what they are sent */
	struct rotator rot; /* rotation actions carried out, counted */
	struct events ev;   /* the parts' events, to the host's callback */
	leader_event_fn *on_event;
	void *on_event_arg;
	struct admin admin; /* the control socket's commands */
	struct ctl_server *ctl;
	struct httpd *metrics; /* metrics_listen: GET /metrics */
	struct sdnotify sd;    /* leader_run under systemd */
	struct loop_timer *tick, *kick;
	bool kicked;
	uint64_t started_ms;
	/* store = etcd */
	enum leader_role role;
	int64_t term;
	struct elector *el;
	/* the leader key's holder as status shows it: "instance\0listen" */
	char holder[ELECTOR_HOLDER_MAX + 1];
	struct store_etcd *se;
	struct record_set loaded; /* a takeover's records, until decoded */
	uint8_t *unlock;	  /* autolock: the unlock key (sodium) */
	uint64_t since_ms;	  /* mono_ms() the role began */
	int exit_code; /* set when a takeover found no usable state */
	char leaders[LEADER_ETCD_MAX * 64 + 8]; /* cfg.leaders, "a:p,b:p" */
	struct tls_ctx *etcd_tls; /* etcd_ca set: every etcd connection's */
};

struct rot_config leader_rot_cfg(const struct leader_config *cfg);
/* Binds the listen address and hands it to the sessions. */
int leader_listen(struct leader *l, struct why *why);
/* Runs the round soon (after this loop round): the parts' kick. */
void leader_kick(void *arg);

/* leader_ha.c */
/* store = etcd: the settings that go together, the TLS files read. */
int leader_ha_check(struct leader *l, struct why *why);
/* store = etcd: the state key, an empty cluster, etcd, the campaign. */
int leader_ha_set_up(struct leader *l, const uint8_t *unlock_key,
		     struct why *why);
/* Resigns (a standby takes over at once) and frees the etcd parts. */
void leader_ha_free(struct leader *l);
const char *leader_role_name(enum leader_role r);
/* admin's view of it (struct admin's ha). */
void leader_ha_status(void *arg, struct admin_ha *h);

/* leader_api.c: the parts' events to the host (struct events' fn). */
void leader_api_event(void *arg, const struct event *ev);

#endif
