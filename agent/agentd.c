// SPDX-License-Identifier: MIT
/* vxsec-agent daemon: the leader's messages into the view, the view into the kernel, kernel events back to the leader. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "agentd_int.h"
#include "overlay.h"
#include "common/atomic.h"
#include "common/log.h"
#include "common/token.h"
#include "common/why.h"

_Static_assert(AGENT_LEADERS_MAX == SESSION_LEADERS_MAX, "leader list");

#define RETRY_MIN_MS 1000

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

bool agent_has_net_admin(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3
	};
	struct __user_cap_data_struct d[2] = { 0 };

	if (syscall(SYS_capget, &h, d))
		return false;
	return d[CAP_NET_ADMIN / 32].effective & (1u << (CAP_NET_ADMIN % 32));
}

/* ---- reconcile ---- */

static const char *peer_name(const void *arg, size_t i)
{
	return ((const struct view *)arg)->meta[i].id;
}

/* The VXLAN devices' FDBs: one entry per peer, on its pair's family's. */
static void overlay_sync(struct agent *a)
{
	struct desired_view dv;

	if (!a->cfg.vxlan)
		return;
	view_desired(&a->view, a->cfg.addrs, a->cfg.n_addrs, &dv);
	overlay_set_sync(&a->ov, &dv, peer_name, &a->view);
}

static void synced(struct agent *a, const struct desired_state *want)
{
	if (a->last.applied &&
	    (reconciler_prune(&a->rec, want) || agent_used_save(a)))
		log_err("cannot save the installed keys' digests in %s: the "
			"revision is not acknowledged",
			a->cfg.state_dir);
	else
		a->applied = a->view.revision;
	a->in_sync = a->applied == a->view.revision;
	if (a->last.applied)
		log_info("kernel at revision %llu: %zu changes (%zu SAs, %zu "
			 "policies) in %.1f ms",
			 (unsigned long long)a->applied, a->last.applied,
			 a->n_sas, a->n_pols, a->last_sync_ms);
	if (a->in_sync &&
	    (a->applied != a->saved_rev || a->view.term != a->saved_term) &&
	    agent_rev_save(a, a->applied, a->view.term) == 0) {
		a->saved_rev = a->applied;
		a->saved_term = a->view.term;
	}
	if (a->in_sync) {
		session_ack(a->session, a->applied, a->view.term);
		agent_notify_check(a);
	}
	a->retry_ms = 0;
	overlay_sync(a);
	if (a->last.applied) {
		agent_nat_probe_all(a); /* new keys: tell the peers at once */
		agent_nat_mtu_note(a);
	}
}

static void sync_failed(struct agent *a, int err)
{
	a->n_sync_failures++;
	if (err == -EKEYREJECTED) {
		a->n_refused += a->last.refused;
		log_err("%s: that key was installed before and the kernel lost "
			"it; asking the leader for fresh keys",
			a->last.why.msg);
		session_restart(a->session, true, "the kernel lost our SAs");
		return;
	}
	a->retry_ms = a->retry_ms ? a->retry_ms * 2 : RETRY_MIN_MS;
	if (a->retry_ms > a->cfg.resync_ms)
		a->retry_ms = a->cfg.resync_ms;
	log_err("the kernel does not hold revision %llu: %s (%s); retrying "
		"in %llu ms",
		(unsigned long long)a->view.revision,
		a->last.why.msg[0] ? a->last.why.msg : "reconcile failed",
		strerror(-err), (unsigned long long)a->retry_ms);
	loop_timer_arm(a->retry, a->retry_ms, 0);
}

void agent_sync(struct agent *a, const char *reason)
{
	struct desired_view dv;
	struct desired_state want;
	double t0 = now_ms();
	int err;

	if (!a->view.have_snapshot)
		return;
	log_debug("reconcile: %s", reason);
	agent_nat_apply(a);
	view_desired(&a->view, a->cfg.addrs, a->cfg.n_addrs, &dv);
	err = desired_build(&dv, &a->cfg.dc, &want, &a->last.why);
	if (err) { /* out of memory: the view holds only what it can build */
		sync_failed(a, err);
		return;
	}
	err = agent_nat_sockets(a, &want, &a->last.why);
	if (err) { /* no SA with encap before its socket */
		desired_state_free(&want);
		sync_failed(a, err);
		return;
	}
	a->n_sas = want.n_sas, a->n_pols = want.n_pols;
	err = reconcile(&a->rec, &a->k, &want, &a->last);
	a->n_syncs++;
	a->last_sync = time(NULL);
	a->last_sync_ms = now_ms() - t0;
	a->in_sync = false;
	if (err)
		sync_failed(a, err);
	else
		synced(a, &want);
	desired_state_free(&want);
}

static void on_retry(struct loop *l, struct loop_timer *t, void *arg)
{
	(void)l, (void)t;
	agent_sync(arg, "retry after a failure");
}

/* Behind NAT: every nat_keepalive, a probe keeps each mapping alive. */
static void on_natkeep(struct loop *l, struct loop_timer *t, void *arg)
{
	(void)l, (void)t;
	agent_nat_probe_all(arg);
}

static void on_resync(struct loop *l, struct loop_timer *t, void *arg)
{
	(void)l, (void)t;
	agent_sync(arg, "periodic check");
}

/* ---- the session's news ---- */

static void on_snapshot(void *arg, const struct wire_snapshot *m)
{
	struct agent *a = arg;
	struct why why = { "" };

	if (view_term_check(&a->view, m->term, &why)) {
		session_refuse(a->session,
			       why.msg); /* nothing it says counts */
		return;
	}
	if (!agent_keys_snapshot(a, m))
		return; /* a new session follows */
	if (view_snapshot(&a->view, m, &why))
		session_refuse(a->session, why.msg);
}

static void on_delta(void *arg, const struct wire_delta *m)
{
	struct agent *a = arg;
	struct why why = { "" };

	if (!a->view.have_snapshot)
		return;
	if (view_term_check(&a->view, m->term, &why)) {
		session_refuse(a->session, why.msg);
		return;
	}
	if (m->change == WIRE_PREPARE && !agent_keys_prepare(a, m))
		return; /* a new session follows */
	if (view_delta(&a->view, m, &why))
		session_refuse(a->session, why.msg);
	else if (m->change == WIRE_RETIRE)
		agent_keys_retired(a, m->generation);
}

static void on_settled(void *arg)
{
	struct agent *a = arg;

	if (a->view.have_snapshot && a->view.revision != a->applied)
		agent_sync(a, "news from the leader");
	else if (a->in_sync)
		session_ack(a->session, a->applied, a->view.term);
}

static void on_down(void *arg, const char *why)
{
	(void)arg;
	log_info("the kernel keeps its SAs while the leader is away (%s)", why);
}

/* Without a view: what the kernel holds, less our SAs. */
static void drop_kernel_sas(struct agent *a)
{
	struct desired_state have = { 0 }, want = { 0 };

	if (a->k.dump(a->k.ctx, &have) == 0) {
		want.pols = have.pols, want.n_pols = have.n_pols;
		if (reconcile(&a->rec, &a->k, &want, &a->last))
			log_err("deleting our SAs: %s", a->last.why.msg);
	}
	desired_state_free(&have);
}

/* Removed: every SA goes, the policies stay: nothing crosses in clear. */
static void on_removed(void *arg, const char *why)
{
	struct agent *a = arg;

	log_err("%s: deleting our SAs and keeping the policies (fail closed)",
		why);
	a->exit_code = AGENT_EXIT_REMOVED;
	loop_stop(a->loop);
	if (!a->view.have_snapshot) {
		drop_kernel_sas(a);
		return;
	}
	view_forget_keys(&a->view); /* a new revision: not acked */
	agent_sync(a, "removed from the cluster");
}

static const struct session_ops session_ops = {
	.snapshot = on_snapshot,
	.delta = on_delta,
	.settled = on_settled,
	.down = on_down,
	.removed = on_removed,
};

/* ---- kernel events ---- */

static uint32_t gen_of_spi(const struct view *v, uint32_t spi)
{
	for (size_t i = 0; i < v->n_peers; i++)
		for (size_t k = 0; k < v->peers[i].n_keys; k++)
			if (v->peers[i].keys[k].spi_out == spi ||
			    v->peers[i].keys[k].spi_in == spi)
				return v->peers[i].keys[k].g;
	return 0;
}

static void on_event(const struct xfrm_event *ev, void *arg)
{
	struct agent *a = arg;
	bool *resync = &a->in_sync;

	if (ev->type == XFRM_EVENT_LOST) {
		a->n_events_lost++;
		log_warn("kernel events were lost: checking everything");
		*resync = false;
		return;
	}
	if (ev->reqid != a->cfg.dc.reqid)
		return; /* another IPsec daemon's */
	if (ev->type == XFRM_EVENT_SOFT_EXPIRE) {
		uint32_t g = gen_of_spi(&a->view, ev->spi);

		a->n_soft_expires++;
		if (g && g <= a->expire_reported)
			return; /* one report per generation is enough */
		log_warn("SA spi 0x%08x (generation %u) reached its soft "
			 "lifetime: asking the leader to rotate",
			 ev->spi, g);
		if (session_expire(a->session, g, ev->spi) == 0)
			a->expire_reported = g;
	} else if (ev->type == XFRM_EVENT_MAPPING) {
		agent_nat_mapping(a, ev);
	} else if (ev->type == XFRM_EVENT_HARD_EXPIRE) {
		a->n_hard_expires++;
		log_err("SA spi 0x%08x reached its hard lifetime and is gone",
			ev->spi);
		*resync = false;
	}
}

static void on_events(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct agent *a = arg;
	bool was = a->in_sync;
	int n;

	(void)l, (void)fd, (void)events;
	n = xfrm_events_read(a->events, on_event, a);
	if (n < 0)
		log_warn("reading kernel events: %s", strerror(-n));
	if (was && !a->in_sync)
		agent_sync(a, "kernel event");
}

/* ---- setup ---- */

static int read_boot_id(const char *file, uint8_t out[WIRE_BOOT_ID_LEN])
{
	char text[64], hex[33];
	size_t n = 0, len;
	FILE *f = fopen(file, "re");

	if (!f)
		return -errno;
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';
	for (size_t i = 0; i < len && n < 32; i++)
		if (strchr("0123456789abcdefABCDEF", text[i]) && text[i])
			hex[n++] = text[i];
	hex[n] = '\0';
	if (n != 32 ||
	    sodium_hex2bin(out, WIRE_BOOT_ID_LEN, hex, n, NULL, NULL, NULL))
		return -EINVAL;
	return 0;
}

static int read_token(const char *file, struct join_token *t, struct why *why)
{
	char line[256];
	struct why reason = { "" };
	FILE *f = fopen(file, "re");
	int err = -EINVAL;

	if (!f)
		return why_fail(why, -errno, "token_file %s: %s", file,
				strerror(errno));
	if (fgets(line, sizeof(line), f))
		err = token_parse(line, t, &reason);
	else
		why_set(&reason, "empty");
	fclose(f);
	sodium_memzero(line, sizeof(line));
	if (err)
		why_set(why, "token_file %s: %s", file, reason.msg);
	return err;
}

static void harden(void)
{
	struct rlimit core = { 0, 0 };

	prctl(PR_SET_DUMPABLE, 0); /* keys never reach a core file */
	setrlimit(RLIMIT_CORE, &core);
}

static int open_kernel(struct agent *a, struct why *why)
{
	a->xs = xfrm_sock_open(0);
	a->events = xfrm_sock_open(XFRM_EV_EXPIRE | XFRM_EV_MAPPING);
	if (!a->xs || !a->events)
		return why_fail(why, -errno,
				"cannot open an XFRM netlink socket: %s",
				strerror(errno));
	a->kx = (struct agent_xfrm){ .sock = a->xs,
				     .reqid = a->cfg.dc.reqid,
				     .vxlan_port = a->cfg.dc.vxlan_port };
	agent_kernel_xfrm(&a->k, &a->kx);
	if (loop_add_fd(a->loop, xfrm_sock_fd(a->events), EPOLLIN, on_events,
			a))
		return why_fail(why, -EIO, "cannot watch events");
	return 0;
}

/*
 * Before the leader's first snapshot: the catch-all alone, added or
 * updated, nothing deleted (a restart's pairs stay as the kernel holds
 * them until the snapshot's reconcile adopts them). No cleartext VXLAN to
 * or from a stranger in that window either, whoever owns the VXLAN
 * device; a kernel refusing it stops the start (fail closed).
 */
static int catchall_early(struct agent *a, struct why *why)
{
	struct desired_view dv;
	struct desired_state want;
	struct xfrm_batch *b;
	int err;

	if (!a->cfg.dc.catchall)
		return 0;
	memset(&dv, 0, sizeof(dv));
	dv.n_self = a->cfg.n_addrs;
	memcpy(dv.self, a->cfg.addrs, dv.n_self * sizeof(dv.self[0]));
	err = desired_build(&dv, &a->cfg.dc, &want, why);
	if (err)
		return err;
	b = xfrm_batch_new();
	err = b ? 0 : -ENOMEM;
	for (size_t i = 0; !err && i < want.n_pols; i++)
		if (xfrm_batch_policy(b, XFRM_OP_UPDATE, &want.pols[i]) < 0)
			err = -ENOMEM;
	if (!err)
		err = xfrm_batch_send(a->xs, b);
	xfrm_batch_free(b);
	if (!err)
		log_info("catch-all in the kernel (%zu policies) before the "
			 "leader's first snapshot",
			 want.n_pols);
	desired_state_free(&want);
	return err ? why_fail(why, err,
			      "cannot install the catch-all policies: %s",
			      strerror(-err))
		   : 0;
}

static int open_session(struct agent *a, struct why *why)
{
	struct join_token tok, *t = NULL;
	struct session_config sc = { .leaders = a->cfg.leaders,
				     .n_leaders = a->cfg.n_leaders,
				     .node_id = a->cfg.node_id,
				     .state_dir = a->cfg.state_dir,
				     .addrs = a->cfg.addrs,
				     .n_addrs = a->cfg.n_addrs };
	int err;

	if (a->cfg.token_file[0]) {
		err = read_token(a->cfg.token_file, &tok, why);
		if (err == -ENOENT)
			log_warn("%s: the certificate will have to do",
				 why->msg);
		else if (err)
			return err;
		else
			t = &tok;
	}
	sc.token = t;
	memcpy(sc.boot_id, a->boot_id, sizeof(sc.boot_id));
	sc.last_revision = a->saved_rev;
	sc.last_term = a->saved_term;
	sc.sk = &a->sk;
	sc.lost_state = a->fresh_key;
	sc.nat = a->cfg.nat;
	sc.nat_public = a->cfg.nat_public.family ? &a->cfg.nat_public : NULL;
	a->session = session_new(a->loop, &sc, &session_ops, a);
	token_wipe(&tok);
	if (!a->session)
		return why_fail(why, -ENOMEM, "out of memory");
	return session_start(a->session, why);
}

static int open_overlay(struct agent *a, struct why *why)
{
	struct overlay_config o = { .family = a->cfg.addrs[0].family,
				    .local = a->cfg.addrs[0].ip,
				    .vni = a->cfg.vni,
				    .port = a->cfg.dc.vxlan_port,
				    .mtu = a->cfg.mtu };
	int err;

	snprintf(o.ifname, sizeof(o.ifname), "%s", a->cfg.vxlan_dev);
	err = overlay_set_init(&a->ov, &o, a->cfg.addrs, a->cfg.n_addrs, why);
	return err ? err : overlay_set_open(&a->ov, why);
}

/* metrics_listen: the metrics command's text over HTTP, on our loop. */
static int open_metrics(struct agent *a, struct why *why)
{
	struct why w = { "" };

	a->metrics = httpd_new(a->loop, &a->cfg.metrics, a->cfg.metrics_len,
			       "/metrics", "metrics", agent_ctl, a, NULL, &w);
	if (!a->metrics)
		return why_fail(why, -errno, "metrics_listen: %s", w.msg);
	log_info("metrics on http://%s/metrics", httpd_address(a->metrics));
	return 0;
}

static int setup(struct agent *a, struct why *why)
{
	int err;

	if (mkdir(a->cfg.state_dir, 0700) && errno != EEXIST)
		return why_fail(why, -errno, "state_dir %s: %s",
				a->cfg.state_dir, strerror(errno));
	err = atomic_clean(a->cfg.state_dir); /* a crash's temp files */
	if (err < 0)
		return why_fail(why, err,
				"cannot remove temporary files in %s: %s",
				a->cfg.state_dir, strerror(-err));
	if (err)
		log_info("removed %d temporary files a crash left in %s", err,
			 a->cfg.state_dir);
	if (read_boot_id(a->cfg.boot_id_file, a->boot_id))
		return why_fail(why, -EINVAL, "cannot read a boot id from %s",
				a->cfg.boot_id_file);
	err = reconciler_init(&a->rec);
	if (!err)
		err = agent_used_load(a);
	if (err)
		return why_fail(why, err,
				"cannot read the installed keys' digests in "
				"%s: %s",
				a->cfg.state_dir, strerror(-err));
	a->loop = loop_new();
	a->resync = a->loop ? loop_timer_new(a->loop, on_resync, a) : NULL;
	a->retry = a->loop ? loop_timer_new(a->loop, on_retry, a) : NULL;
	a->natkeep = a->loop ? loop_timer_new(a->loop, on_natkeep, a) : NULL;
	if (!a->retry || !a->natkeep ||
	    view_init(&a->view, a->cfg.node_id, &a->sk))
		return why_fail(why, -ENOMEM, "out of memory");
	/* The term the kernel's revision came with: no older leader is
	 * heard, across restarts too. */
	agent_rev_load(a, &a->saved_rev, &a->saved_term);
	a->view.term = a->saved_term;
	err = agent_keys_open(a, why);
	if (err)
		return err;
	err = open_kernel(a, why);
	if (!err)
		err = catchall_early(a, why);
	if (err)
		return err;
	a->ctl = ctl_server_new(a->loop, a->cfg.socket, agent_ctl, a);
	if (!a->ctl)
		return why_fail(why, -errno, "control socket %s: %s",
				a->cfg.socket,
				errno == EADDRINUSE ? "another vxsec-agent is "
						      "running"
						    : strerror(errno));
	if (a->cfg.metrics_len && (err = open_metrics(a, why)))
		return err;
	if (a->cfg.vxlan && (err = open_overlay(a, why)))
		return err;
	loop_timer_arm(a->resync, a->cfg.resync_ms, a->cfg.resync_ms);
	loop_timer_arm(a->natkeep, a->cfg.nat_keepalive_ms,
		       a->cfg.nat_keepalive_ms);
	return open_session(a, why);
}

struct agent *agent_new(const struct agent_config *c, struct why *why)
{
	struct agent *a;
	int err;

	if (!agent_has_net_admin()) {
		why_set(why,
			"needs CAP_NET_ADMIN to program the kernel's IPsec "
			"state: run as root or with "
			"AmbientCapabilities=CAP_NET_ADMIN");
		errno = EPERM;
		return NULL;
	}
	harden();
	a = calloc(1, sizeof(*a));
	if (!a) {
		why_set(why, "out of memory");
		return NULL;
	}
	a->cfg = *c;
	agent_nat_init(&a->nat);
	err = setup(a, why);
	if (err) {
		agent_free(a);
		errno = -err;
		return NULL;
	}
	return a;
}

static void on_signal(struct loop *l, int sig, void *arg)
{
	(void)arg;
	log_info("signal %d: stopping; the kernel keeps its SAs", sig);
	loop_stop(l);
}

int agent_run(struct agent *a)
{
	static const int sigs[] = { SIGINT, SIGTERM };
	struct why why = { "" };
	char catchall[DESIRED_CATCHALL_MAX * 48 + 64];
	int err;

	signal(SIGPIPE, SIG_IGN);
	if (loop_signals(a->loop, sigs, 2, on_signal, a))
		return AGENT_EXIT_FAIL;
	log_info("vxsec-agent %s: leader %s, reqid %u, VXLAN port %u",
		 a->cfg.node_id, a->cfg.leader_text, a->cfg.dc.reqid,
		 a->cfg.dc.vxlan_port);
	if (!a->cfg.dc.catchall)
		log_warn("catchall = no: cleartext VXLAN (UDP port %u) to or "
			 "from hosts that are not members is neither blocked "
			 "nor refused",
			 a->cfg.dc.vxlan_port);
	else
		log_info("catch-all: cleartext VXLAN (UDP port %u) to or from "
			 "%s is dropped unless it is a member's ESP",
			 a->cfg.dc.vxlan_port,
			 agent_catchall_text(&a->cfg, catchall,
					     sizeof(catchall)));
	if (sdnotify_init(&a->sd, a->loop, agent_notify_line, a, &why))
		log_warn("%s: systemd is not told when the agent is ready",
			 why.msg);
	err = loop_run(a->loop);
	sdnotify_stopping(&a->sd);
	sdnotify_cleanup(&a->sd);
	return err ? AGENT_EXIT_FAIL : a->exit_code;
}

void agent_free(struct agent *a)
{
	if (!a)
		return;
	session_free(a->session);
	httpd_free(a->metrics);
	ctl_server_free(a->ctl);
	if (a->events && a->loop)
		loop_del_fd(a->loop, xfrm_sock_fd(a->events));
	xfrm_sock_close(a->events);
	xfrm_sock_close(a->xs);
	agent_nat_cleanup(a);
	loop_timer_free(a->resync);
	loop_timer_free(a->retry);
	loop_timer_free(a->natkeep);
	agent_keys_close(a); /* its timer, before the loop */
	loop_free(a->loop);
	view_cleanup(&a->view);
	reconciler_cleanup(&a->rec);
	sodium_memzero(a, sizeof(*a));
	free(a);
}
