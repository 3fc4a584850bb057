// SPDX-License-Identifier: MIT
/* vxsec-keymgr: the leader daemon — its parts wired to one loop, the round each change triggers, start-up and shutdown. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "admin.h"
#include "ca.h"
#include "cluster.h"
#include "common/addr.h"
#include "common/atomic.h"
#include "common/ctl.h"
#include "common/log.h"
#include "common/loop.h"
#include "leader.h"
#include "leader_int.h"
#include "rotator.h"
#include "session.h"
#include "store.h"

#define TICK_MS 100

_Static_assert((int)ADMIN_EXIT_OK == (int)LEADER_EXIT_OK &&
		       (int)ADMIN_EXIT_FAIL == (int)LEADER_EXIT_FAIL &&
		       (int)ADMIN_EXIT_USAGE == (int)LEADER_EXIT_USAGE,
	       "the control commands exit as the daemon's client says");

struct rot_config leader_rot_cfg(const struct leader_config *cfg)
{
	return (struct rot_config){ .interval_ms = cfg->rotate_interval_ms,
				    .deadline_ms = cfg->ack_deadline_ms,
				    .grace_ms = cfg->grace_ms };
}

int leader_init_state(const struct leader_config *cfg, char *token_text,
		      size_t token_len, char *unlock_text, size_t unlock_len,
		      struct why *why)
{
	return store_create(cfg->state_dir, cfg->autolock, token_text,
			    token_len, unlock_text, unlock_len, why);
}

/* The address we listen on, for tools and tests: a state-dir write. */
static int write_listen_file(struct leader *l, struct why *why)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = sizeof(ss);
	char text[sizeof(l->cfg.listen_text) + 2], p[PATH_MAX + 16];

	int err;

	if (getsockname(l->ss.lfd, (struct sockaddr *)&ss, &len))
		return -errno;
	addr_format(&ss, l->cfg.listen_text, sizeof(l->cfg.listen_text));
	snprintf(text, sizeof(text), "%s\n", l->cfg.listen_text);
	snprintf(p, sizeof(p), "%s/listen", l->cfg.state_dir);
	err = atomic_write(p, text, strlen(text), 0644);
	if (err)
		why_set(why,
			"cannot write %s: %s (the state directory must be "
			"writable, with room for the state)",
			p, strerror(-err));
	return err;
}

/* The listening socket, handed to the sessions. */
int leader_listen(struct leader *l, struct why *why)
{
	int one = 1, err = 0;
	int fd = socket(l->cfg.listen.ss_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&l->cfg.listen, l->cfg.listen_len) ||
	    listen(fd, 4096))
		err = -errno;
	else
		err = session_listen(&l->ss, fd);
	if (err) {
		if (fd >= 0)
			close(fd);
		why_set(why, "cannot listen on %s: %s", l->cfg.listen_text,
			strerror(-err));
		return err;
	}
	return write_listen_file(l, why);
}

/*
 * Saves what is not on disk, paced (store_due); the kick comes back when
 * the next save may start.
 */
static void save_step(struct leader *l, uint64_t now)
{
	uint64_t wait = store_due(&l->st, now);

	if (wait && !l->kicked) {
		l->kicked = true;
		loop_timer_arm(l->kick, wait, 0);
	}
}

/* While the state cannot be saved the rotation stands still: a phase
 * would start that nobody is sent, and its deadline would drop every
 * agent. */
static void rotation_step(struct leader *l)
{
	if (!store_failed(&l->st))
		rotator_step(&l->rot, &l->cl, &l->ss, loop_now_ms());
}

/* What follows a change: persist, then release what waited for it, then send. */
static void round_(struct leader *l)
{
	uint64_t now = loop_mono_ms();

	admin_waits_fire(&l->admin); /* the host's changes saved before */
	if (l->role != LEADER_ROLE_SOLE && l->role != LEADER_ROLE_LEADING)
		return; /* a standby has nothing to serve */
	ca_renew(&l->ca, now);
	rotation_step(l);
	save_step(l, now);
	session_release_replies(&l->ss);
	session_pump_all(&l->ss);
}

static void on_kick(struct loop *lp, struct loop_timer *t, void *arg)
{
	struct leader *l = arg;

	(void)lp, (void)t;
	l->kicked = false;
	round_(l);
}

static void on_tick(struct loop *lp, struct loop_timer *t, void *arg)
{
	struct leader *l = arg;

	(void)lp, (void)t;
	session_tick(&l->ss);
	round_(l);
}

/* Runs the round soon (after this loop round): the parts' kick. */
void leader_kick(void *arg)
{
	struct leader *l = arg;

	if (l->kicked)
		return;
	l->kicked = true;
	loop_timer_arm(l->kick, 1, 0);
}

static void on_signal(struct loop *lp, int sig, void *arg)
{
	(void)arg;
	log_info("%s: shutting down", strsignal(sig));
	loop_stop(lp);
}

/* No core files, no ptrace by others; room for many agents. */
static void harden(void)
{
	struct rlimit core = { 0, 0 }, nofile;

	prctl(PR_SET_DUMPABLE, 0);
	setrlimit(RLIMIT_CORE, &core);
	if (!getrlimit(RLIMIT_NOFILE, &nofile)) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	signal(SIGPIPE, SIG_IGN);
}

/* metrics_listen: the metrics command's text over HTTP, on our loop. */
static int metrics(struct leader *l, struct why *why)
{
	struct why w = { "" };

	if (!l->cfg.metrics_len)
		return 0;
	l->metrics = httpd_new(l->loop, &l->cfg.metrics, l->cfg.metrics_len,
			       "/metrics", "metrics", admin_handle, &l->admin,
			       NULL, &w);
	if (!l->metrics)
		return why_fail(why, -errno, "metrics_listen: %s", w.msg);
	log_info("metrics on http://%s/metrics", httpd_address(l->metrics));
	return 0;
}

/* The control socket, its commands over the parts they read and change. */
static int control(struct leader *l, struct why *why)
{
	int err;

	for (size_t i = 0, off = 0; i < l->cfg.n_leaders; i++)
		off += (size_t)snprintf(l->leaders + off,
					sizeof(l->leaders) - off, "%s%s",
					i ? "," : "", l->cfg.leaders[i]);
	l->admin = (struct admin){ .listen = l->cfg.listen_text,
				   .leaders = l->leaders,
				   .started_ms = l->started_ms,
				   .cl = &l->cl,
				   .st = &l->st,
				   .ss = &l->ss,
				   .ca = &l->ca,
				   .rot = &l->rot,
				   .kick = leader_kick,
				   .kick_arg = l,
				   .ha = l->cfg.etcd ? leader_ha_status : NULL,
				   .ha_arg = l,
				   .ev = &l->ev };
	l->ctl =
		ctl_server_new(l->loop, l->cfg.socket, admin_handle, &l->admin);
	if (l->ctl)
		return metrics(l, why);
	err = -errno;
	why_set(why, "control socket %s: %s", l->cfg.socket,
		errno == EADDRINUSE ? "another vxsec-keymgr is running there"
				    : strerror(errno));
	return err;
}

/* The state file and the CA: the single leader of store = file. */
static int open_file(struct leader *l, const uint8_t *unlock_key,
		     struct why *why)
{
	struct rot_config rc = leader_rot_cfg(&l->cfg);
	const char *pem;
	size_t pem_len;
	int err = store_open(&l->st, &rc, unlock_key, l->cfg.autolock, why);

	if (err)
		return err;
	pem = store_ca_key(&l->st, &pem_len);
	return ca_load(&l->ca, l->cfg.state_dir, pem, pem_len,
		       l->cfg.cert_life_ms, why);
}

static int set_up(struct leader *l, const uint8_t *unlock_key, int *code,
		  struct why *why)
{
	int err;

	*code = LEADER_EXIT_USAGE;
	if (l->cfg.etcd && (err = leader_ha_check(l, why)))
		return err;
	*code = LEADER_EXIT_STATE;
	if (!l->cfg.etcd && (err = open_file(l, unlock_key, why)))
		return err;
	*code = LEADER_EXIT_FAIL;
	l->tick = l->loop ? loop_timer_new(l->loop, on_tick, l) : NULL;
	l->kick = l->loop ? loop_timer_new(l->loop, on_kick, l) : NULL;
	if (!l->kick) {
		why_set(why, "cannot set up the event loop");
		return -ENOMEM;
	}
	err = session_admission(&l->ss, l->cfg.unauth_max,
				l->cfg.unauth_per_source, why);
	if (!err && !l->cfg.etcd)
		err = leader_listen(l, why);
	if (!err)
		err = control(l, why);
	if (!err && l->cfg.etcd) {
		*code = LEADER_EXIT_STATE;
		err = leader_ha_set_up(l, unlock_key, why);
	}
	if (err)
		return err;
	if (!l->cfg.etcd)
		cluster_resume(&l->cl, loop_now_ms());
	leader_kick(l);
	return loop_timer_arm(l->tick, TICK_MS, TICK_MS);
}

struct leader *leader_new(const struct leader_config *cfg,
			  const uint8_t *unlock_key, int *exit_code,
			  struct why *why)
{
	struct leader *l = calloc(1, sizeof(*l));

	*exit_code = LEADER_EXIT_FAIL;
	if (!l || sodium_init() < 0) {
		why_set(why, "out of memory");
		free(l);
		return NULL;
	}
	l->cfg = *cfg;
	l->loop = loop_new();
	l->ev = (struct events){ leader_api_event, l };
	session_init(&l->ss, l->loop, &l->cl, &l->ca, &l->st, leader_kick, l);
	l->ss.ev = &l->ev;
	if (store_init(&l->st, l->cfg.state_dir, &l->cl)) {
		why_set(why, "out of memory");
		leader_free(l);
		return NULL;
	}
	l->st.ev = &l->ev;
	l->started_ms = loop_now_ms();
	harden();
	if (set_up(l, unlock_key, exit_code, why)) {
		leader_free(l);
		return NULL;
	}
	if (!cluster_epochs_locked(&l->cl))
		log_warn("the epoch secrets are not in locked memory "
			 "(mlock failed: raise RLIMIT_MEMLOCK, LimitMEMLOCK= "
			 "under systemd)");
	rotator_init(&l->rot, l->cfg.ack_deadline_ms, l->started_ms,
		     cluster_rot_busy(&l->cl), &l->ev);
	*exit_code = LEADER_EXIT_OK;
	if (l->cfg.etcd)
		return l;
	log_info("leader of %zu members at revision %llu, listening on %s, "
		 "control socket %s%s",
		 cluster_members(&l->cl),
		 (unsigned long long)cluster_revision(&l->cl),
		 l->cfg.listen_text, l->cfg.socket,
		 store_autolock(&l->st) ? ", autolock on" : "");
	*exit_code = LEADER_EXIT_OK;
	return l;
}

static void status_line(void *arg, char *line, size_t len)
{
	struct leader *l = arg;

	admin_status_line(&l->admin, line, len);
}

int leader_run(struct leader *l)
{
	static const int sigs[] = { SIGTERM, SIGINT };
	struct why why = { "" };
	int err = loop_signals(l->loop, sigs, 2, on_signal, l);

	if (err)
		return err;
	if (sdnotify_init(&l->sd, l->loop, status_line, l, &why))
		log_warn("%s: systemd is not told when the leader is ready",
			 why.msg);
	sdnotify_ready(&l->sd);
	err = loop_run(l->loop);
	sdnotify_stopping(&l->sd);
	sdnotify_cleanup(&l->sd);
	return err;
}

int leader_exit_code(const struct leader *l)
{
	return l->exit_code;
}

int leader_poll_fd(const struct leader *l)
{
	return loop_fd(l->loop);
}

int leader_dispatch(struct leader *l)
{
	int n = loop_run_once(l->loop, 0);

	return n < 0 ? n : 0;
}

void leader_free(struct leader *l)
{
	if (!l)
		return;
	admin_waits_cancel(&l->admin);
	l->on_event = NULL; /* the sessions' closing is not news */
	if (l->ctl && !l->cfg.etcd && store_behind(&l->st))
		store_save(&l->st);
	if (l->cfg.etcd)
		leader_ha_free(l);
	session_close_all(&l->ss);
	httpd_free(l->metrics);
	ctl_server_free(l->ctl);
	session_cleanup(&l->ss);
	loop_timer_free(l->tick);
	loop_timer_free(l->kick);
	loop_free(l->loop);
	ca_cleanup(&l->ca);
	store_cleanup(&l->st);
	cluster_cleanup(&l->cl);
	rotator_cleanup(&l->rot);
	free(l);
}
