// SPDX-License-Identifier: MIT
/* vxsec-agent: the control socket's commands (status, human or --json; metrics; sync) and their table, agent_commands. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentd_int.h"
#include "common/addr.h"
#include "common/pairkey.h"
#include "keyer.h"
#include "xstat.h"

/* One of our SAs as the kernel holds it: found by destination and SPI. */
struct held {
	union xfrm_ip dst;
	uint32_t spi;
	uint64_t packets;
};

struct held_set {
	struct held *h;
	size_t n, cap;
};

static int held_add(const struct xfrm_sa *sa, void *arg)
{
	struct held_set *s = arg;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct held *more = realloc(s->h, cap * sizeof(*more));

		if (!more)
			return -ENOMEM;
		s->h = more, s->cap = cap;
	}
	s->h[s->n++] = (struct held){ .dst = sa->dst,
				      .spi = sa->spi,
				      .packets = sa->stats.packets };
	return 0;
}

static int held_cmp(const void *a, const void *b)
{
	const struct held *x = a, *y = b;

	if (x->spi != y->spi)
		return x->spi < y->spi ? -1 : 1;
	return memcmp(x->dst.raw, y->dst.raw, sizeof(x->dst.raw));
}

static const struct held *held_find(const struct held_set *s, uint32_t spi,
				    const union xfrm_ip *dst)
{
	struct held key = { .dst = *dst, .spi = spi };

	return s->n ? bsearch(&key, s->h, s->n, sizeof(key), held_cmp) : NULL;
}

static int held_dump(struct agent *a, struct held_set *s)
{
	int err, tries = 0;

	do {
		s->n = 0;
		err = xfrm_sa_dump(a->xs, a->cfg.dc.reqid, held_add, s);
	} while (err == -EINTR && ++tries < 3);
	if (!err && s->n)
		qsort(s->h, s->n, sizeof(*s->h), held_cmp);
	return err;
}

/* Self's address of the pair: what desired_build() pairs. */
static const struct desired_addr *pair_self(const struct agent *a,
					    const struct desired_peer *p,
					    const struct desired_addr **peer)
{
	struct desired_view dv;
	const struct desired_addr *me;

	view_desired(&a->view, a->cfg.addrs, a->cfg.n_addrs, &dv);
	if (desired_pair_addrs(&dv, p, &me, peer))
		return NULL;
	/* dv is gone on return: the same address in the config's array */
	return &a->cfg.addrs[me - dv.self];
}

/* How the pair goes (ESP, ESP in UDP, refused): desired_pair(). */
static void pair_path(const struct agent *a, const struct desired_peer *p,
		      struct desired_pair *pr)
{
	struct desired_view dv;

	view_desired(&a->view, a->cfg.addrs, a->cfg.n_addrs, &dv);
	if (desired_pair(&dv, p, &a->cfg.dc, pr))
		pr->path = DPATH_REFUSED,
		pr->why = "no address family in common";
}

static const char *path_name(enum desired_path p)
{
	return p == DPATH_UDP	? "esp-in-udp"
	       : p == DPATH_ESP ? "esp"
				: "refused";
}

static bool want_json(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--json") == 0)
			return true;
	return false;
}

/* ---- status ---- */

/*
 * A node's public key in use, as `wg show` prints one: the key of the
 * committed generation, else its newest; "" if it has none.
 */
static void key_fpr(const struct view *v, const struct view_meta *m,
		    char out[PAIRKEY_FPR_LEN])
{
	uint32_t g = view_committed(v);
	const uint8_t *pub = g ? keyer_pub_for(m->keys, m->n_keys, g) : NULL;

	if (!pub && m->n_keys)
		pub = m->keys[m->n_keys - 1].pub;
	out[0] = '\0';
	if (pub)
		pairkey_fingerprint(pub, out);
}

/* This node's key: the newest it holds, and whether the leader uses it. */
static void status_key(struct agent *a, bool json, struct ctl_reply *r)
{
	const struct static_key *k = static_keys_newest(&a->sk);
	char fpr[PAIRKEY_FPR_LEN] = "", used[PAIRKEY_FPR_LEN];

	if (k)
		pairkey_fingerprint(pairkey_public(k->k), fpr);
	key_fpr(&a->view, &a->view.self, used);
	if (json) {
		ctl_reply_printf(r, "\"static_key\":");
		ctl_json_string(r, fpr[0] ? fpr : NULL);
		ctl_reply_printf(r,
				 ",\"static_key_bound\":%s,"
				 "\"static_keys_held\":%zu,"
				 "\"static_key_in_use\":",
				 k && k->bound ? "true" : "false", a->sk.n);
		ctl_json_string(r, used[0] ? used : NULL);
		ctl_reply_printf(r, ",");
		return;
	}
	ctl_reply_printf(r, "static key %s%s\n", fpr[0] ? fpr : "none",
			 k && !k->bound ? " (new: from the leader's next "
					  "generation)"
					: "");
	if (used[0] && strcmp(used, fpr) != 0)
		ctl_reply_printf(r, "static key in use %s\n", used);
}

/* A node the leader found behind NAT: its public address as text. */
static bool nat_text(const struct view_meta *m, char *out, size_t len)
{
	if (!m->nat)
		return false;
	xfrm_ip_fmt(m->public_addr.family, &m->public_addr.ip, out, len);
	return true;
}

/* This node behind NAT, as the leader found (docs/nat.md). */
static void status_nat(struct agent *a, bool json, struct ctl_reply *r)
{
	char pub[64];
	bool nat = nat_text(&a->view.self, pub, sizeof(pub));

	if (json) {
		ctl_reply_printf(r, "\"nat\":%s,\"public_address\":",
				 nat ? "true" : "false");
		ctl_json_string(r, nat ? pub : NULL);
		ctl_reply_printf(r, ",");
	} else if (nat) {
		ctl_reply_printf(r, "behind NAT, public address %s\n", pub);
	}
}

/* Every configured instance of the leader, as a JSON array. */
static void status_leaders(struct agent *a, struct ctl_reply *r)
{
	char text[64];

	ctl_reply_printf(r, ",\"leaders\":[");
	for (size_t i = 0; i < a->cfg.n_leaders; i++) {
		addr_format(&a->cfg.leaders[i], text, sizeof(text));
		ctl_reply_printf(r, i ? "," : "");
		ctl_json_string(r, text);
	}
	ctl_reply_printf(r, "],\"term\":%llu",
			 (unsigned long long)a->view.term);
}

static void status_head(struct agent *a, bool json, struct ctl_reply *r)
{
	struct session_status st;
	char catchall[DESIRED_CATCHALL_MAX * 48 + 64];

	session_status(a->session, &st);
	agent_catchall_text(&a->cfg, catchall, sizeof(catchall));
	if (json) {
		ctl_reply_printf(r, "{\"node_id\":");
		ctl_json_string(r, a->cfg.node_id);
		ctl_reply_printf(r, ",\"leader\":");
		ctl_json_string(r, st.leader);
		status_leaders(a, r);
		ctl_reply_printf(r, ",\"session\":");
		ctl_json_string(r, session_state_name(st.state));
		ctl_reply_printf(r, ",\"last_error\":");
		ctl_json_string(r, st.last_error.msg[0] ? st.last_error.msg
							: NULL);
		ctl_reply_printf(
			r,
			",\"reconnects\":%u,\"revision\":%llu,"
			"\"kernel_revision\":%llu,\"in_sync\":%s,"
			"\"last_sync_ms\":%.1f,\"cert_not_after\":%lld,",
			st.reconnects, (unsigned long long)a->view.revision,
			(unsigned long long)a->applied,
			a->in_sync ? "true" : "false", a->last_sync_ms,
			(long long)st.cert_not_after);
		ctl_reply_printf(r, "\"sas\":%zu,\"policies\":%zu,", a->n_sas,
				 a->n_pols);
		ctl_reply_printf(r, "\"catchall\":");
		ctl_json_string(r, catchall[0] ? catchall : NULL);
		ctl_reply_printf(r, ",");
		return;
	}
	ctl_reply_printf(r, "node %s, leader %s (term %llu): %s\n",
			 a->cfg.node_id, st.leader,
			 (unsigned long long)a->view.term,
			 session_state_name(st.state));
	if (a->cfg.n_leaders > 1)
		ctl_reply_printf(r, "leader instances: %s\n",
				 a->cfg.leader_text);
	if (st.last_error.msg[0])
		ctl_reply_printf(r, "last error: %s\n", st.last_error.msg);
	ctl_reply_printf(r,
			 "revision %llu, kernel at %llu (%s), %zu SAs, %zu "
			 "policies, reqid %u\n",
			 (unsigned long long)a->view.revision,
			 (unsigned long long)a->applied,
			 a->in_sync ? "in sync" : "NOT in sync", a->n_sas,
			 a->n_pols, a->cfg.dc.reqid);
	if (a->last.why.msg[0] && !a->in_sync)
		ctl_reply_printf(r, "last kernel error: %s\n", a->last.why.msg);
	if (catchall[0])
		ctl_reply_printf(r,
				 "catch-all: %s (cleartext VXLAN to or from "
				 "anyone else is dropped)\n",
				 catchall);
	else
		ctl_reply_printf(r, "catch-all: off (catchall = no): cleartext "
				    "VXLAN from non-members is not refused\n");
}

static void status_gens(struct agent *a, bool json, struct ctl_reply *r)
{
	ctl_reply_printf(r, json ? "\"generations\":[" : "generations:");
	for (size_t i = 0; i < a->view.n_gens; i++)
		ctl_reply_printf(r,
				 json ? "%s{\"generation\":%u,\"phase\":\"%s\"}"
				      : "%s %u (%s)",
				 i && json ? "," : "", a->view.gens[i].g,
				 view_phase_name(a->view.gens[i].phase));
	ctl_reply_printf(r, json ? "]," : "%s\n",
			 a->view.n_gens ? "" : " none");
}

/* One peer: its address and, per generation, whether both SAs are held. */
static void status_peer(struct agent *a, size_t i, const struct held_set *hs,
			bool json, struct ctl_reply *r)
{
	const struct desired_peer *p = &a->view.peers[i];
	const struct desired_addr *peer = NULL, *me = pair_self(a, p, &peer);
	char ip[64] = "?", fpr[PAIRKEY_FPR_LEN], pub[64];
	bool nat = nat_text(&a->view.meta[i], pub, sizeof(pub));
	struct desired_pair pr;

	pair_path(a, p, &pr);

	if (peer)
		xfrm_ip_fmt(peer->family, &peer->ip, ip, sizeof(ip));
	key_fpr(&a->view, &a->view.meta[i], fpr);
	if (json) {
		ctl_reply_printf(r, "%s{\"node_id\":", i ? "," : "");
		ctl_json_string(r, a->view.meta[i].id);
		ctl_reply_printf(
			r,
			",\"index\":%u,\"incarnation\":%llu,"
			"\"address\":\"%s\",\"static_key\":",
			p->index,
			(unsigned long long)a->view.meta[i].incarnation, ip);
		ctl_json_string(r, fpr[0] ? fpr : NULL);
		ctl_reply_printf(r, ",\"nat\":%s,\"public_address\":",
				 nat ? "true" : "false");
		ctl_json_string(r, nat ? pub : NULL);
		ctl_reply_printf(r, ",\"path\":\"%s\",\"port\":%u,\"refused\":",
				 path_name(pr.path),
				 pr.path == DPATH_UDP ? pr.dport : 0);
		ctl_json_string(r, pr.path == DPATH_REFUSED ? pr.why : NULL);
		ctl_reply_printf(r, ",\"sas\":[");
	} else {
		ctl_reply_printf(r, "  %-20s %-16s %s\n   ", a->view.meta[i].id,
				 ip, fpr[0] ? fpr : "no key");
		if (nat)
			ctl_reply_printf(
				r, "behind NAT, public address %s\n   ", pub);
		if (pr.path == DPATH_UDP)
			ctl_reply_printf(r, "ESP in UDP: %u -> port %u\n   ",
					 pr.sport, pr.dport);
		else if (pr.path == DPATH_REFUSED)
			ctl_reply_printf(r, "UNREACHABLE: %s\n   ", pr.why);
	}
	for (size_t k = 0; k < p->n_keys; k++) {
		const struct desired_keys *dk = &p->keys[k];
		const struct held *out =
			me && peer ? held_find(hs, dk->spi_out, &peer->ip)
				   : NULL;
		const struct held *in =
			me && peer ? held_find(hs, dk->spi_in, &me->ip) : NULL;

		ctl_reply_printf(r,
				 json ? "%s{\"generation\":%u,\"spi_out\":%u,"
					"\"out\":%s,\"spi_in\":%u,\"in\":%s,"
					"\"packets_out\":%llu,"
					"\"packets_in\":%llu}"
				      : "%s g%u out 0x%08x %s in 0x%08x %s "
					"(%llu/%llu packets)",
				 k && json ? "," : "", dk->g, dk->spi_out,
				 json ? (out ? "true" : "false")
				      : (out ? "ok" : "MISSING"),
				 dk->spi_in,
				 json ? (in ? "true" : "false")
				      : (in ? "ok" : "MISSING"),
				 (unsigned long long)(out ? out->packets : 0),
				 (unsigned long long)(in ? in->packets : 0));
	}
	ctl_reply_printf(r, json ? "]}" : "%s\n", p->n_keys ? "" : " no keys");
}

static void status_xstat(bool json, struct ctl_reply *r)
{
	struct xstat xs;
	int err = xstat_read(&xs);

	if (err) {
		ctl_reply_printf(r,
				 json ? "\"xfrm_stat\":null}\n"
				      : "kernel drop counters: %s\n",
				 strerror(-err));
		return;
	}
	ctl_reply_printf(r, json ? "\"xfrm_stat\":{" : "kernel counters:");
	for (size_t i = 0, shown = 0; i < xs.n; i++) {
		if (!json && !xs.c[i].value)
			continue; /* the human view shows what happened */
		ctl_reply_printf(r, json ? "%s\"%s\":%llu" : "%s %s %llu",
				 shown++ && json ? "," : "", xs.c[i].name,
				 (unsigned long long)xs.c[i].value);
	}
	ctl_reply_printf(r, json ? "}}\n" : "\n");
}

static int cmd_status(void *arg, int argc, char **argv, struct ctl_reply *r)
{
	struct agent *a = arg;
	bool json = want_json(argc, argv);
	struct held_set hs = { 0 };
	int err = held_dump(a, &hs);

	status_head(a, json, r);
	status_key(a, json, r);
	status_nat(a, json, r);
	status_gens(a, json, r);
	overlay_set_status(&a->ov, json, r);
	if (err)
		ctl_reply_printf(r,
				 json ? "\"dump_error\":\"%s\","
				      : "cannot dump the kernel's SAs: %s\n",
				 strerror(-err));
	ctl_reply_printf(r, json ? "\"peers\":[" : "peers: %zu\n",
			 a->view.n_peers);
	for (size_t i = 0; i < a->view.n_peers; i++)
		status_peer(a, i, &hs, json, r);
	if (json)
		ctl_reply_printf(r, "],");
	status_xstat(json, r);
	free(hs.h);
	return CTL_OK;
}

/* ---- metrics ---- */

static size_t peers_nat(const struct view *v)
{
	size_t k = 0;

	for (size_t i = 0; i < v->n_peers; i++)
		k += v->meta[i].nat;
	return k;
}

static void metric(struct ctl_reply *r, const char *name, const char *help,
		   unsigned long long v)
{
	ctl_reply_printf(r,
			 "# HELP vxsec_agent_%s %s\n# TYPE vxsec_agent_%s %s\n"
			 "vxsec_agent_%s %llu\n",
			 name, help, name,
			 strstr(name, "_total") ? "counter" : "gauge", name, v);
}

static int cmd_metrics(void *arg, int argc, char **argv, struct ctl_reply *r)
{
	struct agent *a = arg;
	struct session_status st;
	struct xstat xs;

	(void)argc, (void)argv;
	session_status(a->session, &st);
	metric(r, "connected", "1 while the session with the leader is up",
	       st.state == SESSION_LIVE);
	metric(r, "revision", "the cluster revision last received",
	       a->view.revision);
	metric(r, "kernel_revision", "the revision the kernel holds",
	       a->applied);
	metric(r, "in_sync", "1 when the kernel equals the desired state",
	       a->in_sync);
	metric(r, "peers", "peers in the view", a->view.n_peers);
	metric(r, "nat", "1 when the leader found this node behind NAT",
	       a->view.self.nat);
	metric(r, "peers_nat", "peers the leader found behind NAT",
	       peers_nat(&a->view));
	metric(r, "nat_probes_sent_total", "NAT probes sent", a->nat.n_sent);
	metric(r, "nat_probes_accepted_total",
	       "NAT probes authenticated and fresh", a->nat.n_ok);
	metric(r, "nat_probes_refused_total",
	       "datagrams on the ESP-in-UDP socket refused", a->nat.n_bad);
	metric(r, "nat_mappings_moved_total",
	       "peers' NAT ports that moved (probes, mapping events)",
	       a->nat.n_moves);
	metric(r, "generations", "live key generations", a->view.n_gens);
	metric(r, "sas", "SAs in the desired state", a->n_sas);
	metric(r, "policies", "policies in the desired state", a->n_pols);
	metric(r, "reconnects_total", "sessions lost", st.reconnects);
	metric(r, "syncs_total", "reconcile runs", a->n_syncs);
	metric(r, "sync_failures_total", "reconcile runs that failed",
	       a->n_sync_failures);
	metric(r, "soft_expires_total", "soft lifetime expiries",
	       a->n_soft_expires);
	metric(r, "hard_expires_total", "hard lifetime expiries",
	       a->n_hard_expires);
	if (xstat_read(&xs) == 0) {
		ctl_reply_printf(r, "# HELP vxsec_xfrm_stat the kernel's "
				    "/proc/net/xfrm_stat\n# TYPE "
				    "vxsec_xfrm_stat counter\n");
		for (size_t i = 0; i < xs.n; i++)
			ctl_reply_printf(r,
					 "vxsec_xfrm_stat{name=\"%s\"} %llu\n",
					 xs.c[i].name,
					 (unsigned long long)xs.c[i].value);
	}
	return CTL_OK;
}

/* ---- sync, and the table ---- */

static int cmd_sync(void *arg, int argc, char **argv, struct ctl_reply *r)
{
	struct agent *a = arg;

	(void)argc, (void)argv;
	agent_sync(a, "asked by the operator");
	ctl_reply_printf(r, "kernel at revision %llu (%s)\n",
			 (unsigned long long)a->applied,
			 a->in_sync ? "in sync" : "NOT in sync");
	return a->in_sync ? CTL_OK : CTL_FAIL;
}

static const struct ctl_cmd commands[] = {
	{ "status", "[--json]",
	  "leader session, revisions, generations, per-peer\n"
	  "SA state, the kernel's XFRM counters",
	  cmd_status, 0 },
	{ "metrics", "", "the same figures in Prometheus text format",
	  cmd_metrics, 1 },
	{ "sync", "", "reconcile with the kernel now", cmd_sync, 1 },
};

const struct ctl_table agent_commands = {
	.prog = "vxsec-agent",
	.cmds = commands,
	.n = sizeof(commands) / sizeof(commands[0]),
	.width = 16,
	.list_unknown = true,
};

int agent_ctl(void *arg, int argc, char **argv, struct ctl_reply *reply)
{
	return ctl_dispatch(&agent_commands, arg, argc, argv, reply);
}
