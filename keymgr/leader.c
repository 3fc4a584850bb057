// SPDX-License-Identifier: MIT
/* vxsec-keymgr: start-up, persistence, the rotation clock and shutdown of the leader. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/atomic.h"
#include "common/log.h"
#include "common/pki.h"
#include "common/tls.h"
#include "leader_int.h"

#define TICK_MS 100
#define SAVE_MIN_MS 20
#define SAVE_RETRY_MS 1000

uint64_t leader_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void master_random(uint8_t *buf, size_t len, void *arg)
{
	(void)arg;
	randombytes_buf(buf, len);
}

static void path_of(char *out, size_t len, const struct leader_config *cfg,
		    const char *name)
{
	snprintf(out, len, "%s/%s", cfg->state_dir, name);
}

static struct rot_config rot_cfg(const struct leader_config *cfg)
{
	return (struct rot_config){ .interval_ms = cfg->rotate_interval_ms,
				    .deadline_ms = cfg->ack_deadline_ms,
				    .grace_ms = cfg->grace_ms };
}

uint64_t leader_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Our own certificate, issued by the CA at every start. */
static int load_pki(struct leader *l, char *why, size_t whylen)
{
	char p[PATH_MAX + 16];
	int err = -EIO;

	path_of(p, sizeof(p), &l->cfg, "ca.pem");
	errno = 0;
	l->ca = pki_cert_load(p);
	if (!l->ca && errno == ESPIPE) {
		snprintf(why, whylen,
			 "%s is not a regular file (a FIFO, device or "
			 "directory): move it away and put the CA "
			 "certificate back",
			 p);
		return -ESPIPE;
	}
	l->ca_key =
		pki_key_from_pem(l->extra.ca_key_pem, l->extra.ca_key_pem_len);
	if (!l->ca || !l->ca_key ||
	    X509_check_private_key(l->ca, l->ca_key) != 1) {
		snprintf(why, whylen,
			 "%s is missing or does not match the CA key in the "
			 "state",
			 p);
		return -EIO;
	}
	if (!pki_cert_to_der(l->ca, &l->ca_der, &l->ca_der_len))
		err = leader_server_cert(l);
	if (err) {
		snprintf(why, whylen, "cannot set up TLS with the cluster CA");
		return -EIO;
	}
	return 0;
}

/* A day, or half the certificate's life if that is shorter. */
static uint64_t cert_renew_after(const struct leader *l)
{
	return l->cfg.cert_life_ms / 2 < LEADER_CERT_RENEW_MS
		       ? l->cfg.cert_life_ms / 2
		       : LEADER_CERT_RENEW_MS;
}

/*
 * A new key and certificate for the leader's own TLS, valid for
 * cert_lifetime like the nodes', and the context new connections use
 * (those open keep theirs). At every start, then each day (or at half its
 * life, if shorter) from the tick: it never runs out while the leader runs.
 */
int leader_server_cert(struct leader *l)
{
	EVP_PKEY *key = pki_key_new();
	X509_REQ *csr = key ? pki_csr_new(key, LEADER_NODE_ID) : NULL;
	X509 *cert = NULL;
	struct tls_ctx *t = NULL;
	char w[160];

	if (csr && !pki_issue_server_secs(l->ca_key, l->ca, csr, LEADER_NODE_ID,
					  (long)(l->cfg.cert_life_ms / 1000),
					  &cert, w, sizeof(w)))
		t = tls_ctx_server(cert, key, l->ca, true);
	X509_REQ_free(csr);
	if (!t) {
		X509_free(cert);
		EVP_PKEY_free(key);
		return -EIO;
	}
	tls_ctx_free(l->tls);
	X509_free(l->cert);
	EVP_PKEY_free(l->key);
	l->tls = t, l->cert = cert, l->key = key;
	l->cert_renew_ms = leader_mono_ms() + cert_renew_after(l);
	return 0;
}

static int open_state(struct leader *l, const uint8_t *unlock_key, char *why,
		      size_t whylen)
{
	struct rot_config rc = rot_cfg(&l->cfg);
	char w[512];
	int err = leader_clean_temp(&l->cfg, why, whylen);

	if (err)
		return err;
	if (cluster_init(&l->cl, &rc, master_random, NULL))
		return -ENOMEM;
	err = state_load(l->cfg.state_dir, unlock_key, l->state_key, l->cl.reg,
			 &l->cl.rot, &l->extra, &l->autolock, why, whylen);
	if (err != -ENOENT)
		return err;
	if (unlock_key) {
		snprintf(why, whylen, "%s holds no state to unlock",
			 l->cfg.state_dir);
		return -ENOENT;
	}
	err = leader_init_state(&l->cfg, NULL, 0, NULL, 0, w, sizeof(w));
	if (err) {
		snprintf(why, whylen, "%s", w);
		return err;
	}
	log_info("no state in %s: created a new cluster (CA, join token, "
		 "state key)",
		 l->cfg.state_dir);
	cluster_cleanup(&l->cl);
	return open_state(l, NULL, why, whylen);
}

/*
 * The guard's caps; each connection before authentication holds two
 * descriptors (socket, deadline), and together they may take at most
 * half of what the process may open, so agents and the control socket
 * always keep the rest.
 */
static int admission(struct leader *l, char *why, size_t whylen)
{
	size_t max = l->cfg.unauth_max;
	struct rlimit nofile;

	if (!getrlimit(RLIMIT_NOFILE, &nofile) && nofile.rlim_cur / 4 < max) {
		max = nofile.rlim_cur / 4 ? (size_t)nofile.rlim_cur / 4 : 1;
		log_warn("unauth_max lowered from %zu to %zu: the process may "
			 "open %llu descriptors (LimitNOFILE)",
			 l->cfg.unauth_max, max,
			 (unsigned long long)nofile.rlim_cur);
	}
	if (guard_init(&l->guard, max, l->cfg.unauth_per_source)) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* The address we listen on, for tools and tests: a state-dir write. */
static int write_listen_file(struct leader *l, char *why, size_t whylen)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = sizeof(ss);
	char text[sizeof(l->cfg.listen_text) + 2], p[PATH_MAX + 16];

	int err;

	if (getsockname(l->lfd, (struct sockaddr *)&ss, &len))
		return -errno;
	addr_format(&ss, l->cfg.listen_text, sizeof(l->cfg.listen_text));
	snprintf(text, sizeof(text), "%s\n", l->cfg.listen_text);
	path_of(p, sizeof(p), &l->cfg, "listen");
	err = atomic_write(p, text, strlen(text), 0644);
	if (err)
		snprintf(why, whylen,
			 "cannot write %s: %s (the state directory must be "
			 "writable, with room for the state)",
			 p, strerror(-err));
	return err;
}

static int listen_on(struct leader *l, char *why, size_t whylen)
{
	int one = 1, err;

	l->lfd = socket(l->cfg.listen.ss_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->lfd < 0 ||
	    setsockopt(l->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(l->lfd, (struct sockaddr *)&l->cfg.listen,
		 l->cfg.listen_len) ||
	    listen(l->lfd, 4096) ||
	    loop_add_fd(l->loop, l->lfd, EPOLLIN, session_accept, l)) {
		err = -errno;
		snprintf(why, whylen, "cannot listen on %s: %s",
			 l->cfg.listen_text, strerror(-err));
		return err;
	}
	return write_listen_file(l, why, whylen);
}

int leader_persist(struct leader *l)
{
	int err = state_save(l->cfg.state_dir, l->state_key, l->autolock,
			     l->cl.reg, &l->cl.rot, &l->extra);
	uint64_t held;

	if (err) {
		if (!l->save_failed || err != l->save_err)
			log_err("cannot save the state in %s: %s; holding "
				"still (no rotation, no join answered, no "
				"removal) and retrying each second",
				l->cfg.state_dir, strerror(-err));
		if (!l->save_failed)
			l->unsaved_ms = leader_mono_ms();
		l->save_failed = true;
		l->save_err = err;
		return err;
	}
	if (l->save_failed) {
		/* Nothing left meanwhile: the phase's deadline waited too. */
		held = leader_mono_ms() - l->unsaved_ms;
		rot_hold(&l->cl.rot, held);
		log_info("state saved again in %s after %llu s: resuming",
			 l->cfg.state_dir, (unsigned long long)held / 1000);
	}
	l->save_failed = false;
	l->save_err = 0;
	l->persisted = cluster_revision(&l->cl);
	l->dirty = false;
	return 0;
}

static void on_action(struct leader *l, const struct rot_action *a,
		      uint64_t now)
{
	char why[128];

	switch (a->type) {
	case ACT_PREPARE:
		l->rot_started_ms = now;
		l->rot_resumed = false;
		log_info("rotation to generation %u: prepare (revision %llu)",
			 a->generation, (unsigned long long)a->revision);
		break;
	case ACT_COMMIT:
		log_info("generation %u committed: agents transmit with it "
			 "(revision %llu)",
			 a->generation, (unsigned long long)a->revision);
		break;
	case ACT_RETIRE:
		l->last_rotation_ms = now - l->rot_started_ms;
		l->last_rotation_gen = rot_transmit(&l->cl.rot)->g;
		l->rotations++;
		log_info("generation %u retired; rotation to %u took %llu ms",
			 a->generation, l->last_rotation_gen,
			 (unsigned long long)l->last_rotation_ms);
		/* A rotation resumed from disk began before this process. */
		if (l->rot_resumed)
			log_info(
				"(counted from this leader's start: it resumed "
				"the rotation from its state)");
		break;
	case ACT_NODE_DOWN:
		snprintf(why, sizeof(why),
			 "no acknowledgement of generation %u within %llu ms",
			 a->generation,
			 (unsigned long long)l->cfg.ack_deadline_ms);
		session_drop(l, a->node, WERR_INTERNAL, why);
		break;
	default:
		break;
	}
}

static void run_step(struct leader *l)
{
	size_t need = cluster_actions_max(&l->cl);
	uint64_t now = leader_now_ms();
	int k;

	if (need > l->acts_cap) {
		free(l->acts);
		l->acts = calloc(need, sizeof(*l->acts));
		l->acts_cap = l->acts ? need : 0;
		if (!l->acts)
			return;
	}
	k = cluster_step(&l->cl, now, l->acts, l->acts_cap);
	if (k < 0)
		log_err("rotation step: %s", strerror(-k));
	for (int i = 0; i < k; i++)
		on_action(l, &l->acts[i], now);
}

static void renew_own_cert(struct leader *l, uint64_t now)
{
	uint64_t retry;

	if (now < l->cert_renew_ms)
		return;
	if (leader_server_cert(l))
		log_err("cannot renew the leader's own certificate; retrying "
			"in an hour (or a quarter of its life)");
	else
		log_info("the leader's own certificate was renewed");
	if (now >= l->cert_renew_ms) {
		retry = cert_renew_after(l) / 2;
		l->cert_renew_ms =
			now + (retry < 3600000ull ? retry : 3600000ull);
	}
}

/*
 * Saves what is not on disk, at most every save_gap_ms: at least
 * SAVE_MIN_MS, and four times the last save's duration, apart. In a storm
 * of joins one save (and one write to each agent) carries every change
 * of that time, and the loop spends most of its time serving. While
 * saves fail: one try a second, whatever changed.
 */
static void save_due(struct leader *l, uint64_t now)
{
	if (cluster_revision(&l->cl) <= l->persisted && !l->dirty &&
	    !l->save_failed)
		return;
	if (now < l->saved_ms + l->save_gap_ms) {
		if (!l->kicked) {
			l->kicked = true;
			loop_timer_arm(l->kick,
				       l->saved_ms + l->save_gap_ms - now, 0);
		}
		return;
	}
	leader_persist(l);
	l->saved_ms = leader_mono_ms();
	/* fsync blocks the loop: at most a fifth of its time. */
	l->save_gap_ms = 4 * (l->saved_ms - now);
	if (l->save_gap_ms < SAVE_MIN_MS)
		l->save_gap_ms = SAVE_MIN_MS;
	if (l->save_failed)
		l->save_gap_ms = SAVE_RETRY_MS;
}

/*
 * Persist, then release what waited for it, then send. While the state
 * cannot be saved the rotation stands still: a phase would start that
 * nobody is sent, and its deadline would drop every agent.
 */
static void round_(struct leader *l)
{
	uint64_t now = leader_mono_ms();

	renew_own_cert(l, now);
	if (!l->save_failed)
		run_step(l);
	save_due(l, now);
	session_release_replies(l);
	session_pump_all(l);
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
	(void)lp, (void)t;
	session_tick(arg);
	round_(arg);
}

void leader_kick(struct leader *l)
{
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

static int set_up(struct leader *l, const uint8_t *unlock_key, int *code,
		  char *why, size_t whylen)
{
	int err;

	*code = LEADER_EXIT_STATE;
	err = open_state(l, unlock_key, why, whylen);
	if (!err)
		err = load_pki(l, why, whylen);
	if (err)
		return err;
	*code = LEADER_EXIT_FAIL;
	l->persisted = cluster_revision(&l->cl);
	l->loop = loop_new();
	l->tick = l->loop ? loop_timer_new(l->loop, on_tick, l) : NULL;
	l->kick = l->loop ? loop_timer_new(l->loop, on_kick, l) : NULL;
	if (!l->kick) {
		snprintf(why, whylen, "cannot set up the event loop");
		return -ENOMEM;
	}
	err = admission(l, why, whylen);
	if (!err)
		err = listen_on(l, why, whylen);
	if (err)
		return err;
	l->ctl = ctl_server_new(l->loop, l->cfg.socket, admin_handle, l);
	if (!l->ctl) {
		err = -errno;
		snprintf(why, whylen, "control socket %s: %s", l->cfg.socket,
			 errno == EADDRINUSE ? "another vxsec-keymgr is "
					       "running there"
					     : strerror(errno));
		return err;
	}
	cluster_resume(&l->cl, leader_now_ms());
	leader_kick(l);
	return loop_timer_arm(l->tick, TICK_MS, TICK_MS);
}

struct leader *leader_new(const struct leader_config *cfg,
			  const uint8_t *unlock_key, int *exit_code, char *why,
			  size_t whylen)
{
	struct leader *l = calloc(1, sizeof(*l));

	*exit_code = LEADER_EXIT_FAIL;
	if (!l || sodium_init() < 0 ||
	    !(l->state_key = sodium_malloc(STATE_KEY_LEN))) {
		snprintf(why, whylen, "out of memory");
		free(l);
		return NULL;
	}
	l->cfg = *cfg;
	l->lfd = -1;
	l->started_ms = leader_now_ms();
	harden();
	if (set_up(l, unlock_key, exit_code, why, whylen)) {
		leader_free(l);
		return NULL;
	}
	if (!l->cl.rot.gens_locked)
		log_warn("the generation masters are not in locked memory "
			 "(mlock failed: raise RLIMIT_MEMLOCK, LimitMEMLOCK= "
			 "under systemd)");
	l->rot_started_ms = l->started_ms;
	l->rot_resumed = l->cl.rot.phase != ROT_IDLE;
	log_info("leader of %zu members at revision %llu, listening on %s, "
		 "control socket %s%s",
		 registry_count(l->cl.reg),
		 (unsigned long long)cluster_revision(&l->cl),
		 l->cfg.listen_text, l->cfg.socket,
		 l->autolock ? ", autolock on" : "");
	*exit_code = LEADER_EXIT_OK;
	return l;
}

int leader_run(struct leader *l)
{
	static const int sigs[] = { SIGTERM, SIGINT };
	int err = loop_signals(l->loop, sigs, 2, on_signal, l);

	return err ? err : loop_run(l->loop);
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
	if (l->loop && l->ctl &&
	    (cluster_revision(&l->cl) > l->persisted || l->dirty))
		leader_persist(l);
	session_close_all(l);
	ctl_server_free(l->ctl);
	if (l->lfd >= 0) {
		if (l->loop)
			loop_del_fd(l->loop, l->lfd);
		close(l->lfd);
	}
	loop_timer_free(l->tick);
	loop_timer_free(l->kick);
	loop_timer_free(l->accept_retry);
	loop_free(l->loop);
	guard_cleanup(&l->guard);
	tls_ctx_free(l->tls);
	X509_free(l->cert), X509_free(l->ca);
	EVP_PKEY_free(l->key), EVP_PKEY_free(l->ca_key);
	OPENSSL_free(l->ca_der);
	state_extra_wipe(&l->extra);
	cluster_cleanup(&l->cl);
	sodium_free(l->state_key);
	free(l->by_index);
	free(l->acts);
	free(l);
}
