// SPDX-License-Identifier: MIT
/* vxsec-keymgr with store = etcd: a standby campaigns; elected, it reads the cluster from etcd (or seeds etcd from its state directory) and serves; it steps down when its lease or a fenced write says another leads. */
#define _GNU_SOURCE
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/tls.h"
#include "leader_int.h"

#define RESIGN_MS 300 /* at shutdown: for the revoke to reach etcd */

static void epoch_random(uint8_t *buf, size_t len, void *arg)
{
	(void)arg;
	randombytes_buf(buf, len);
}

const char *leader_role_name(enum leader_role r)
{
	static const char *const names[] = { "leader", "standby", "loading",
					     "leader" };

	return (unsigned)r < 4 ? names[r] : "?";
}

static int new_store_etcd(struct leader *l, struct why *why)
{
	const char *eps[LEADER_ETCD_MAX];
	struct store_etcd_config c = { eps, l->cfg.n_etcd, l->cfg.etcd_prefix,
				       0, l->etcd_tls };

	for (size_t i = 0; i < l->cfg.n_etcd; i++)
		eps[i] = l->cfg.etcd_endpoints[i];
	l->se = store_etcd_new(l->loop, &c, why);
	if (l->se)
		l->st.etcd = l->se;
	return l->se ? 0 : -ENOMEM;
}

/* This instance's role from now, told to the host. */
static void set_role(struct leader *l, enum leader_role r)
{
	struct event ev = { .type = EV_ROLE, .role = (int)r, .term = l->term };

	l->role = r;
	l->since_ms = loop_mono_ms();
	events_emit(&l->ev, &ev);
}

/* An empty cluster: what a standby holds (status reads it). */
static int empty_cluster(struct leader *l)
{
	struct rot_config rc = leader_rot_cfg(&l->cfg);

	cluster_cleanup(&l->cl);
	state_extra_wipe(&l->st.extra);
	free(l->st.ca_pem);
	l->st.ca_pem = NULL;
	l->st.ca_pem_len = 0;
	ca_cleanup(&l->ca);
	return cluster_init(&l->cl, &rc, epoch_random, NULL) ? -ENOMEM : 0;
}

/*
 * Stops serving: agents are told, the listener closes, what was under
 * way with etcd is dropped (operators waiting are told), every secret of
 * the cluster is wiped.
 */
static void stand_by(struct leader *l, const char *why)
{
	struct why w = { "" };

	if (l->role == LEADER_ROLE_STANDBY)
		return;
	log_warn("standing by: %s", why);
	session_refuse_all(&l->ss, NULL);
	session_unlisten(&l->ss);
	store_etcd_free(l->se);
	l->se = NULL;
	l->st.etcd = NULL;
	l->st.committing = false;
	store_sync_end(&l->st, UINT64_MAX, -ESTALE);
	l->st.failed = false;
	l->st.dirty = false;
	l->st.persisted = 0;
	record_set_clear(&l->loaded);
	if (empty_cluster(l) || new_store_etcd(l, &w))
		log_err("standing by: out of memory");
	l->term = 0;
	set_role(l, LEADER_ROLE_STANDBY);
}

/* A takeover that cannot go on: another instance may do better. */
static void give_up(struct leader *l, int err, const char *why)
{
	bool fatal = err == -EKEYREJECTED || err == -EBADMSG ||
		     err == -EPROTONOSUPPORT || err == -EEXIST ||
		     err == -ENOKEY;

	log_err("cannot lead (term %lld): %s", (long long)l->term, why);
	stand_by(l, "the takeover failed");
	if (!fatal) {
		elector_fenced(l->el); /* campaigns again after a pause */
		return;
	}
	log_err("this instance cannot use the cluster in etcd: exiting");
	l->exit_code = LEADER_EXIT_STATE;
	elector_resign(l->el);
	loop_stop(l->loop);
}

/* The records read from etcd become the cluster. */
static int adopt(struct leader *l, struct why *why)
{
	uint64_t revision = 0;
	char *pem = NULL;
	size_t pem_len = 0;
	bool autolock = false;
	int err = empty_cluster(l);

	if (!err)
		err = records_decode(&l->loaded, cluster_registry(&l->cl),
				     cluster_rotation(&l->cl), &revision,
				     &l->st.extra, &pem, &pem_len, &autolock,
				     why);
	record_set_clear(&l->loaded);
	if (err)
		return err;
	cluster_restore(&l->cl, revision);
	l->st.persisted = revision;
	l->st.ca_pem = pem;
	l->st.ca_pem_len = pem_len;
	return ca_load_mem(&l->ca, pem, pem_len, l->st.extra.ca_key_pem,
			   l->st.extra.ca_key_pem_len, l->cfg.cert_life_ms,
			   why);
}

/* etcd holds no cluster: this instance's state directory seeds it. */
static int seed(struct leader *l, struct why *why)
{
	struct rot_config rc = leader_rot_cfg(&l->cfg);
	int err = empty_cluster(l);

	cluster_cleanup(&l->cl); /* store_open makes its own */
	if (!err)
		err = store_open(&l->st, &rc, l->unlock, l->st.autolock, why);
	if (!err)
		err = ca_load(&l->ca, l->cfg.state_dir, l->st.extra.ca_key_pem,
			      l->st.extra.ca_key_pem_len, l->cfg.cert_life_ms,
			      why);
	if (!err && !(l->st.ca_pem = ca_cert_pem(&l->ca, &l->st.ca_pem_len)))
		err = -ENOMEM;
	if (err)
		return err;
	log_info("etcd holds no cluster under %s: seeding it from %s (%zu "
		 "members at revision %llu)",
		 l->cfg.etcd_prefix, l->cfg.state_dir, cluster_members(&l->cl),
		 (unsigned long long)cluster_revision(&l->cl));
	l->st.persisted = 0; /* nothing is released before etcd has it */
	l->st.dirty = true;
	return 0;
}

static void on_loaded(void *arg, int err, const struct why *w)
{
	struct leader *l = arg;
	struct why why = { "" };

	if (err && err != -ENOENT) {
		give_up(l, err, w ? w->msg : strerror(-err));
		return;
	}
	err = err == -ENOENT ? seed(l, &why) : adopt(l, &why);
	if (!err)
		err = leader_listen(l, &why);
	if (err) {
		give_up(l, err, why.msg);
		return;
	}
	cluster_resume(&l->cl, loop_now_ms());
	rotator_cleanup(&l->rot);
	rotator_init(&l->rot, l->cfg.ack_deadline_ms, loop_now_ms(),
		     cluster_rot_busy(&l->cl), &l->ev);
	set_role(l, LEADER_ROLE_LEADING);
	log_info("leading (term %lld): %zu members at revision %llu, "
		 "listening on %s",
		 (long long)l->term, cluster_members(&l->cl),
		 (unsigned long long)cluster_revision(&l->cl),
		 l->cfg.listen_text);
	leader_kick(l);
}

static void on_lead(void *arg, int64_t term)
{
	struct leader *l = arg;
	int err;

	l->term = term;
	set_role(l, LEADER_ROLE_LOADING);
	store_etcd_fence(l->se, term);
	session_set_term(&l->ss, (uint64_t)term);
	err = store_etcd_load(l->se, l->st.key, &l->loaded, on_loaded, l);
	if (err)
		give_up(l, err, strerror(-err));
}

static void on_step_down(void *arg, const char *why)
{
	stand_by(arg, why);
}

/* After each commit: a fence that failed means another instance leads. */
static void after_commit(void *arg, int err, const struct why *why)
{
	struct leader *l = arg;

	if (err == -ESTALE) {
		log_err("%s", why ? why->msg : "etcd refused a fenced write");
		stand_by(l, "etcd refused a write fenced by our term");
		elector_fenced(l->el);
		return;
	}
	leader_kick(l);
}

/* The state key: the unlock key, or state_dir's state.key (a first start
 * with neither makes a new cluster there, to seed an empty etcd). */
static int state_key(struct leader *l, const uint8_t *unlock_key,
		     struct why *why)
{
	int err;

	if (unlock_key) {
		l->unlock = sodium_malloc(STATE_KEY_LEN);
		if (!l->unlock)
			return -ENOMEM;
		memcpy(l->unlock, unlock_key, STATE_KEY_LEN);
		memcpy(l->st.key, unlock_key, STATE_KEY_LEN);
		l->st.autolock = true;
		return 0;
	}
	err = state_key_load(l->cfg.state_dir, l->st.key);
	if (err == -ENOENT) {
		err = store_create(l->cfg.state_dir, false, NULL, 0, NULL, 0,
				   why);
		if (!err) {
			log_info("no state key in %s: created a new cluster "
				 "there (it seeds etcd if etcd holds none; "
				 "to join a cluster already in etcd, copy "
				 "its state.key here instead)",
				 l->cfg.state_dir);
			err = state_key_load(l->cfg.state_dir, l->st.key);
		}
	}
	if (err && !why->msg[0])
		why_set(why, "cannot read the state key %s/%s: %s",
			l->cfg.state_dir, STATE_KEY_FILE, strerror(-err));
	return err;
}

/* The leader key's value: who we are and where agents reach us. */
static int elect(struct leader *l, struct why *why)
{
	const char *eps[LEADER_ETCD_MAX];
	char key[LEADER_ETCD_PREFIX_MAX + 16], value[160];
	struct elector_config c = { eps,   l->cfg.n_etcd, key,
				    value, { 0 },	  l->etcd_tls };
	struct elector_ops ops = { on_lead, on_step_down };

	for (size_t i = 0; i < l->cfg.n_etcd; i++)
		eps[i] = l->cfg.etcd_endpoints[i];
	snprintf(key, sizeof(key), "%sleader", l->cfg.etcd_prefix);
	snprintf(value, sizeof(value), "%s %s", l->cfg.instance,
		 l->cfg.listen_text);
	c.elect.ttl_s = (int64_t)(l->cfg.lease_ttl_ms / 1000);
	l->el = elector_new(l->loop, &c, &ops, l, why);
	if (!l->el)
		return -errno;
	elector_start(l->el);
	return 0;
}

void leader_ha_status(void *arg, struct admin_ha *h)
{
	struct leader *l = arg;

	h->etcd = true;
	h->serving = l->role == LEADER_ROLE_LEADING;
	h->instance = l->cfg.instance;
	h->role = leader_role_name(l->role);
	h->election = elect_state_name(elector_state(l->el));
	h->etcd_endpoint = l->se ? store_etcd_endpoint(l->se) : "?";
	h->prefix = l->cfg.etcd_prefix;
	h->term = l->term;
	h->leader = l->role == LEADER_ROLE_LEADING ? l->cfg.instance : "";
	h->leader_listen =
		l->role == LEADER_ROLE_LEADING ? l->cfg.listen_text : "";
	if (l->role != LEADER_ROLE_LEADING && l->el) {
		int64_t t;
		const char *who = elector_holder(l->el, &t);

		if (who[0] && t > 0) { /* its value: "instance listen" */
			char *sp;

			snprintf(l->holder, sizeof(l->holder), "%s", who);
			sp = strchr(l->holder, ' ');
			if (sp)
				*sp++ = '\0';
			h->term = t, h->leader = l->holder;
			h->leader_listen = sp ? sp : "";
		}
	}
	h->lease_ttl_s = (int64_t)(l->cfg.lease_ttl_ms / 1000);
	h->role_s = (loop_mono_ms() - l->since_ms) / 1000;
	h->loop_late_max_ms = loop_late_max_ms(l->loop);
	if (l->se)
		store_etcd_stats(l->se, &h->stats);
}

/* A key file others may read (or anyone write) is worth a warning. */
static void key_mode(const char *path)
{
	struct stat st;

	if (!stat(path, &st) && (st.st_mode & 0137))
		log_warn("etcd_key %s is mode %04o: make it 0600 or 0640 (the "
			 "client key of etcd's certificate authentication)",
			 path, (unsigned)(st.st_mode & 07777));
}

int leader_ha_check(struct leader *l, struct why *why)
{
	const struct leader_config *c = &l->cfg;
	struct why w = { "" };

	if (!c->n_etcd)
		return why_fail(why, -EINVAL,
				"store = etcd needs etcd_endpoints");
	if ((c->etcd_cert[0] || c->etcd_key[0]) && !c->etcd_ca[0])
		return why_fail(why, -EINVAL,
				"etcd_cert and etcd_key need etcd_ca (the CA "
				"that signs etcd's server certificates)");
	if (!c->etcd_cert[0] != !c->etcd_key[0])
		return why_fail(why, -EINVAL, "%s without %s",
				c->etcd_cert[0] ? "etcd_cert" : "etcd_key",
				c->etcd_cert[0] ? "etcd_key" : "etcd_cert");
	if (!c->etcd_ca[0])
		return 0;
	l->etcd_tls = tls_ctx_client_files(
		c->etcd_ca, c->etcd_cert[0] ? c->etcd_cert : NULL,
		c->etcd_key[0] ? c->etcd_key : NULL, &w);
	if (!l->etcd_tls)
		return why_fail(why, -EINVAL, "etcd TLS: %s", w.msg);
	if (c->etcd_key[0])
		key_mode(c->etcd_key);
	return 0;
}

int leader_ha_set_up(struct leader *l, const uint8_t *unlock_key,
		     struct why *why)
{
	int err;

	l->role = LEADER_ROLE_STANDBY;
	l->since_ms = loop_mono_ms();
	err = state_key(l, unlock_key, why);
	if (!err)
		err = empty_cluster(l);
	if (!err)
		err = new_store_etcd(l, why);
	if (err)
		return err;
	l->st.after = after_commit;
	l->st.after_arg = l;
	err = elect(l, why);
	if (!err)
		log_info("standby: campaigning for %sleader in etcd (%s%s) as "
			 "\"%s\"",
			 l->cfg.etcd_prefix, l->cfg.etcd_endpoints[0],
			 l->etcd_tls ? ", TLS" : "", l->cfg.instance);
	return err;
}

void leader_ha_free(struct leader *l)
{
	uint64_t until;

	if (l->el) {
		elector_resign(l->el);
		until = loop_mono_ms() + RESIGN_MS;
		while (loop_mono_ms() < until && l->loop)
			loop_run_once(l->loop, 50);
	}
	elector_free(l->el);
	l->el = NULL;
	store_etcd_free(l->se);
	l->se = NULL;
	l->st.etcd = NULL;
	store_sync_end(&l->st, UINT64_MAX, -ECANCELED);
	record_set_clear(&l->loaded);
	free(l->st.ca_pem);
	l->st.ca_pem = NULL;
	sodium_free(l->unlock);
	l->unlock = NULL;
	tls_ctx_free(l->etcd_tls);
	l->etcd_tls = NULL;
}
