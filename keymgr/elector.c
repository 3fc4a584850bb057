// SPDX-License-Identifier: MIT
/* vxsec-keymgr elector: the election's actions (election.c) carried out on etcd (etcd.c, etcd_kv.c) over the leader's loop (issue 16). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "elector.h"
#include "etcd.h"
#include "etcd_kv.h"

#define BODY_MAX 1024

struct elector {
	struct loop *loop;
	struct etcd *kv, *watch;
	struct etcd_config ecfg;
	const char *endpoints[ETCD_ENDPOINTS_MAX];
	char *key, *value;
	struct election e;
	struct loop_timer *tick;
	struct elector_ops ops;
	void *arg;
	/* who holds the key, as the last lost campaign found it ("": not
	 * known, or vacant since) */
	char holder[ELECTOR_HOLDER_MAX + 1];
	int64_t holder_term;
};

static void run(struct elector *el, const struct elect_action *a, size_t n);

static struct etcd_bytes text(const char *s)
{
	return (struct etcd_bytes){ (const uint8_t *)s, strlen(s) };
}

/* Opens a reply; 0, or -errno (logged at debug: the election decides). */
static int open_reply(struct json_doc *doc, int err, int status,
		      const char *body, size_t len, struct etcd_header *h,
		      const char *what)
{
	struct why why = { "" };

	json_doc_init(doc, NULL, JSON_TOKENS_MAX);
	if (err)
		return err;
	err = etcd_reply_open(doc, status, body, len, h, &why);
	if (err)
		log_info("etcd %s: %s", what, why.msg);
	return err;
}

static void on_grant(void *arg, int err, int status, const char *body,
		     size_t len, const struct why *w)
{
	struct elector *el = arg;
	struct elect_action a[ELECT_ACTIONS_MAX];
	struct etcd_header h;
	struct json_doc doc;
	struct why why = { "" };
	int64_t id = 0, ttl = 0;

	if (err && w)
		log_info("etcd lease grant: %s", w->msg);
	if (!open_reply(&doc, err, status, body, len, &h, "lease grant") &&
	    etcd_lease_reply(&doc, &id, &ttl, &why))
		id = 0;
	json_doc_cleanup(&doc);
	run(el, a, elect_granted(&el->e, id, loop_mono_ms(), a));
}

/* The key's holder, from the lost campaign's range (the txn's failure
 * branch): its value names the instance, its create revision the term.
 * Shown to operators: only [A-Za-z0-9._:- []] kept, others '?'. */
static int holder_kv(void *arg, const struct etcd_kv *kv)
{
	struct elector *el = arg;
	size_t n = kv->value.len < ELECTOR_HOLDER_MAX ? kv->value.len
						      : ELECTOR_HOLDER_MAX;

	for (size_t i = 0; i < n; i++) {
		char ch = (char)kv->value.p[i];

		el->holder[i] = isalnum((unsigned char)ch) ||
						(ch && strchr("._:- []", ch))
					? ch
					: '?';
	}
	el->holder[n] = '\0';
	el->holder_term = kv->create_rev;
	return 0;
}

static void find_holder(struct elector *el, const struct json_doc *doc,
			int responses)
{
	struct json_iter it;
	struct why why = { "" };
	bool more = false;
	int r = responses >= 0 ? json_iter_init(doc, responses, &it) : -1;
	int range = r >= 0 ? json_get(doc, r, "response_range") : -1;

	el->holder[0] = '\0';
	el->holder_term = 0;
	if (range >= 0)
		(void)etcd_kvs(doc, range, holder_kv, el, &more, &why);
}

static void on_create(void *arg, int err, int status, const char *body,
		      size_t len, const struct why *w)
{
	struct elector *el = arg;
	struct elect_action a[ELECT_ACTIONS_MAX];
	struct etcd_header h = { 0 };
	struct json_doc doc;
	struct why why = { "" };
	bool won = false, lost = false;
	int resp;

	if (err && w)
		log_info("etcd leader key: %s", w->msg);
	if (!open_reply(&doc, err, status, body, len, &h, "leader key") &&
	    !etcd_txn_reply(&doc, &won, &resp, &why)) {
		lost = !won;
		if (lost)
			find_holder(el, &doc, resp);
	}
	json_doc_cleanup(&doc);
	/* won: the put is the txn's one change, its revision the key's
	 * create revision: the term */
	run(el, a,
	    elect_created(&el->e, won, lost, h.revision, h.revision,
			  loop_mono_ms(), a));
}

static void on_kept(void *arg, int err, int status, const char *body,
		    size_t len, const struct why *w)
{
	struct elector *el = arg;
	struct elect_action a[ELECT_ACTIONS_MAX];
	uint64_t sent = el->e.keepalive_sent_ms;
	struct etcd_header h;
	struct json_doc doc;
	struct why why = { "" };
	int64_t id = 0, ttl = -1;

	(void)w;
	if (!open_reply(&doc, err, status, body, len, &h, "keepalive")) {
		int r = etcd_lease_reply(&doc, &id, &ttl, &why);

		ttl = r == -ENOENT ? 0 : r ? -1 : ttl;
	}
	json_doc_cleanup(&doc);
	run(el, a, elect_kept(&el->e, sent, ttl, loop_mono_ms(), a));
}

static void on_done(void *arg, int err, int status, const char *body,
		    size_t len, const struct why *w)
{
	(void)arg, (void)err, (void)status, (void)body, (void)len, (void)w;
}

/* A watch line: a deletion of the key (or a canceled watch) is vacancy. */
static void on_watch_line(void *arg, const char *line, size_t len)
{
	struct elector *el = arg;
	struct elect_action a[ELECT_ACTIONS_MAX];
	struct json_doc doc;
	struct why why = { "" };
	bool vacant = false;

	json_doc_init(&doc, NULL, JSON_TOKENS_MAX);
	if (json_parse(&doc, line, len, &why) == 0) {
		int r = json_get(&doc, 0, "result"), ev, c, x, ty;
		bool canceled = false;
		struct json_iter it;
		char type[16];

		ev = r >= 0 ? json_get(&doc, r, "events") : -1;
		c = r >= 0 ? json_get(&doc, r, "canceled") : -1;
		if (c >= 0 && !json_bool(&doc, c, &canceled) && canceled)
			vacant = true;
		/* a delete event names its type; a put leaves it out */
		for (x = ev >= 0 ? json_iter_init(&doc, ev, &it) : -1; x >= 0;
		     x = json_iter_next(&doc, &it)) {
			ty = json_get(&doc, x, "type");
			if (ty >= 0 &&
			    json_string(&doc, ty, type, sizeof(type)) >= 0 &&
			    strcmp(type, "DELETE") == 0)
				vacant = true;
		}
	} else {
		log_info("etcd watch: %s", why.msg);
		vacant = true; /* campaigning is always safe */
	}
	json_doc_cleanup(&doc);
	if (vacant) {
		el->holder[0] = '\0';
		el->holder_term = 0;
		run(el, a, elect_vacant(&el->e, loop_mono_ms(), a));
	}
}

static void on_watch_end(void *arg, int err, int status, const char *body,
			 size_t len, const struct why *w)
{
	struct elector *el = arg;
	struct elect_action a[ELECT_ACTIONS_MAX];

	(void)status, (void)body, (void)len;
	if (err == -ECANCELED)
		return; /* freed by us */
	log_info("etcd watch ended: %s", w ? w->msg : "closed");
	run(el, a, elect_vacant(&el->e, loop_mono_ms(), a));
}

static void post(struct elector *el, const char *path, struct json_out *o,
		 etcd_cb cb)
{
	size_t len;

	if (json_out_finish(o, &len) ||
	    etcd_post(el->kv, path, o->buf, len, cb, el))
		log_err("etcd %s: cannot send the request", path);
}

static void watch(struct elector *el, int64_t from)
{
	char body[BODY_MAX];
	struct json_out o;
	struct why why = { "" };
	size_t len;

	etcd_free(el->watch);
	el->watch = etcd_new(el->loop, &el->ecfg, &why);
	json_out_init(&o, body, sizeof(body));
	json_out_object(&o);
	json_out_key(&o, "create_request");
	json_out_object(&o);
	json_out_key(&o, "key");
	json_out_base64(&o, (const uint8_t *)el->key, strlen(el->key));
	json_out_key(&o, "start_revision");
	json_out_int64(&o, from);
	json_out_object_end(&o);
	json_out_object_end(&o);
	if (!el->watch || json_out_finish(&o, &len) ||
	    etcd_stream(el->watch, "/v3/watch", body, len, on_watch_line,
			on_watch_end, el))
		log_err("etcd watch of %s: cannot start it", el->key);
}

/* One action; requests go out in order on the one connection. */
static void act(struct elector *el, const struct elect_action *a)
{
	struct etcd_cmp cmp = {
		text(el->key), ETCD_CREATE, ETCD_EQUAL, 0, { NULL, 0 }
	};
	struct etcd_op put = {
		ETCD_PUT, text(el->key), text(el->value), { NULL, 0 }, a->lease
	};
	struct etcd_op get = {
		ETCD_RANGE, text(el->key), { NULL, 0 }, { NULL, 0 }, 0
	};
	char body[BODY_MAX];
	struct json_out o;

	json_out_init(&o, body, sizeof(body));
	switch (a->type) {
	case ELECT_GRANT:
		etcd_lease_grant_req(&o, el->e.cfg.ttl_s);
		post(el, "/v3/lease/grant", &o, on_grant);
		break;
	case ELECT_CREATE:
		etcd_txn_req(&o, &cmp, 1, &put, 1, &get, 1);
		post(el, "/v3/kv/txn", &o, on_create);
		break;
	case ELECT_KEEPALIVE:
		etcd_lease_id_req(&o, a->lease);
		post(el, "/v3/lease/keepalive", &o, on_kept);
		break;
	case ELECT_REVOKE:
		etcd_lease_id_req(&o, a->lease);
		post(el, "/v3/lease/revoke", &o, on_done);
		break;
	case ELECT_WATCH:
		watch(el, a->revision);
		break;
	case ELECT_LEAD:
		log_info("leading, term %lld", (long long)a->term);
		el->ops.lead(el->arg, a->term);
		break;
	case ELECT_STEP_DOWN:
		log_warn("stepping down (term %lld): %s", (long long)a->term,
			 a->why);
		el->ops.step_down(el->arg, a->why);
		break;
	default:
		log_err("election: unknown action %d", (int)a->type);
		break;
	}
}

static void run(struct elector *el, const struct elect_action *a, size_t n)
{
	uint64_t next, now;

	for (size_t i = 0; i < n; i++)
		act(el, &a[i]);
	next = elect_next(&el->e);
	now = loop_mono_ms();
	loop_timer_arm(el->tick,
		       next == UINT64_MAX ? 0
		       : next > now	  ? next - now
					  : 1,
		       0);
}

static void on_tick(struct loop *l, struct loop_timer *t, void *arg)
{
	struct elector *el = arg;
	struct elect_action a[ELECT_ACTIONS_MAX];

	(void)l, (void)t;
	run(el, a, elect_tick(&el->e, loop_mono_ms(), a));
}

struct elector *elector_new(struct loop *l, const struct elector_config *cfg,
			    const struct elector_ops *ops, void *arg,
			    struct why *why)
{
	struct elector *el = calloc(1, sizeof(*el));

	if (!el)
		return NULL;
	el->loop = l;
	el->ops = *ops;
	el->arg = arg;
	for (size_t i = 0; i < cfg->n_endpoints && i < ETCD_ENDPOINTS_MAX; i++)
		el->endpoints[i] = cfg->endpoints[i];
	el->key = strdup(cfg->key);
	el->value = strdup(cfg->value);
	elect_init(&el->e, &cfg->elect);
	/*
	 * A keepalive stuck on a member that lost etcd's quorum or leader
	 * is given up after one keepalive interval and retried on the next
	 * endpoint, well before the lease's deadline.
	 */
	el->ecfg = (struct etcd_config){ el->endpoints, cfg->n_endpoints,
					 el->e.cfg.keepalive_ms > 500
						 ? el->e.cfg.keepalive_ms
						 : 500,
					 cfg->tls };
	el->kv = etcd_new(l, &el->ecfg, why);
	el->tick = loop_timer_new(l, on_tick, el);
	if (!el->key || !el->value || !el->kv || !el->tick) {
		int e = el->kv ? ENOMEM : errno;

		elector_free(el);
		errno = e;
		return NULL;
	}
	return el;
}

void elector_start(struct elector *el)
{
	struct elect_action a[ELECT_ACTIONS_MAX];

	run(el, a, elect_start(&el->e, loop_mono_ms(), a));
}

void elector_resign(struct elector *el)
{
	struct elect_action a[ELECT_ACTIONS_MAX];

	etcd_free(el->watch);
	el->watch = NULL;
	run(el, a, elect_resign(&el->e, a));
}

void elector_fenced(struct elector *el)
{
	struct elect_action a[ELECT_ACTIONS_MAX];

	run(el, a, elect_fenced(&el->e, loop_mono_ms(), a));
}

void elector_free(struct elector *el)
{
	if (!el)
		return;
	etcd_free(el->watch);
	etcd_free(el->kv);
	loop_timer_free(el->tick);
	free(el->key);
	free(el->value);
	free(el);
}

enum elect_state elector_state(const struct elector *el)
{
	return el->e.state;
}

int64_t elector_term(const struct elector *el)
{
	return el->e.term;
}

const char *elector_holder(const struct elector *el, int64_t *term)
{
	*term = el->holder_term;
	return el->holder;
}
