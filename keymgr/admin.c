// SPDX-License-Identifier: MIT
/* vxsec-keymgr: the operator's commands on the control socket (status, nodes, token, rotate, remove, unlock-key, metrics) and their table, leader_commands. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "common/ctl.h"
#include "common/loop.h"
#include "common/pairkey.h"
#include "common/token.h"

/* The name of each value of a status enum, for status and nodes. */
static const char *const ROT_PHASES[] = {
	[ROT_IDLE] = "idle",
	[ROT_PREPARE] = "prepare",
	[ROT_COMMIT] = "commit",
	[ROT_GRACE] = "grace",
};
static const char *const GEN_PHASES[] = {
	[GEN_PREPARED] = "prepared",
	[GEN_COMMITTED] = "committed",
	[GEN_RETIRING] = "retiring",
};
static const char *const NODE_STATES[] = {
	[NODE_CONNECTED] = "connected",
	[NODE_DISCONNECTED] = "disconnected",
	[NODE_REMOVED] = "removed",
};
#define NAME_OF(names, v)                                              \
	((unsigned)(v) < sizeof(names) / sizeof(*(names)) ? (names)[v] \
							  : "unknown")

const char *admin_rot_phase_name(enum rot_phase p)
{
	return NAME_OF(ROT_PHASES, p);
}

static const char *gen_phase_name(enum gen_phase p)
{
	return NAME_OF(GEN_PHASES, p);
}

static const char *node_state_name(enum node_state s)
{
	return NAME_OF(NODE_STATES, s);
}

static bool want_json(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--json") == 0)
			return true;
	return false;
}

static long long next_rotation_s(const struct cluster_status *s)
{
	uint64_t now = loop_now_ms();

	if (s->phase != ROT_IDLE || s->requested)
		return 0;
	return s->next_due > now ? (long long)((s->next_due - now) / 1000) : 0;
}

/* Members (not removed) the leader found behind NAT. */
static size_t members_nat(const struct admin *a)
{
	const struct node *n;
	size_t k = 0;

	for (size_t i = 0; (n = cluster_at(a->cl, i)); i++)
		k += n->state != NODE_REMOVED && n->nat;
	return k;
}

static void status_json(struct admin *a, struct ctl_reply *r)
{
	struct cluster_status s;

	cluster_status(a->cl, &s);
	ctl_reply_printf(r, "{");
	admin_ha_json(a, r);
	ctl_reply_printf(r, "\"revision\":%llu,\"persisted_revision\":%llu,",
			 (unsigned long long)s.revision,
			 (unsigned long long)store_persisted(a->st));
	ctl_reply_printf(r, "\"members\":%zu,\"connected\":%zu,",
			 cluster_members(a->cl), session_count(a->ss));
	ctl_reply_printf(r, "\"members_nat\":%zu,", members_nat(a));
	ctl_reply_printf(r, "\"transmit_generation\":%u,\"generations\":[",
			 s.transmit);
	for (size_t i = 0; i < s.n_gens; i++)
		ctl_reply_printf(r, "%s{\"generation\":%u,\"phase\":\"%s\"}",
				 i ? "," : "", s.gens[i].g,
				 gen_phase_name(s.gens[i].phase));
	ctl_reply_printf(r, "],\"rotation\":{\"phase\":\"%s\",",
			 admin_rot_phase_name(s.phase));
	ctl_reply_printf(r, "\"target\":%u,\"pending_acks\":%zu,", s.target,
			 s.n_pending);
	ctl_reply_printf(r, "\"requested\":%s,\"next_in_s\":%lld,",
			 s.requested ? "true" : "false", next_rotation_s(&s));
	ctl_reply_printf(r, "\"completed\":%llu,\"last_duration_ms\":%llu},",
			 (unsigned long long)a->rot->count,
			 (unsigned long long)a->rot->last_ms);
	ctl_reply_printf(r, "\"autolock\":%s,\"state_saved\":%s,",
			 store_autolock(a->st) ? "true" : "false",
			 store_failed(a->st) ? "false" : "true");
	ctl_reply_printf(r, "\"unsaved_s\":%llu,\"save_error\":",
			 (unsigned long long)store_unsaved_s(a->st));
	if (store_failed(a->st))
		ctl_json_string(r, strerror(-store_error(a->st)));
	else
		ctl_reply_printf(r, "null");
	ctl_reply_printf(r, ",\"listen\":");
	ctl_json_string(r, a->listen);
	ctl_reply_printf(r, ",\"uptime_s\":%llu}\n",
			 (unsigned long long)(loop_now_ms() - a->started_ms) /
				 1000);
}

static void status_text(struct admin *a, struct ctl_reply *r)
{
	struct cluster_status s;

	cluster_status(a->cl, &s);
	if (admin_ha_serving(a))
		ctl_reply_printf(r, "leader:      listening on %s%s\n",
				 a->listen,
				 store_autolock(a->st) ? ", autolock on" : "");
	else
		ctl_reply_printf(r, "leader:      no: this instance stands "
				    "by, not listening\n");
	ctl_reply_printf(
		r, "revision:    %llu%s\n", (unsigned long long)s.revision,
		store_failed(a->st) ? " (NOT SAVED: see the log)" : "");
	if (store_failed(a->st))
		ctl_reply_printf(r,
				 "state:       NOT SAVED for %llu s: %s; "
				 "holding (no rotation, no join answered, no "
				 "removal) until it can\n",
				 (unsigned long long)store_unsaved_s(a->st),
				 strerror(-store_error(a->st)));
	ctl_reply_printf(r, "members:     %zu, %zu connected",
			 cluster_members(a->cl), session_count(a->ss));
	if (members_nat(a))
		ctl_reply_printf(r, ", %zu behind NAT", members_nat(a));
	ctl_reply_printf(r, "\n");
	ctl_reply_printf(r, "transmit:    generation %u\n", s.transmit);
	for (size_t i = 0; i < s.n_gens; i++)
		ctl_reply_printf(r, "generation:  %u %s\n", s.gens[i].g,
				 gen_phase_name(s.gens[i].phase));
	if (s.phase == ROT_IDLE)
		ctl_reply_printf(r, "rotation:    idle, next in %lld s%s\n",
				 next_rotation_s(&s),
				 s.requested ? " (requested)" : "");
	else
		ctl_reply_printf(r,
				 "rotation:    %s of generation %u, %zu acks "
				 "pending\n",
				 admin_rot_phase_name(s.phase), s.target,
				 s.n_pending);
	ctl_reply_printf(r, "rotations:   %llu done, the last took %llu ms\n",
			 (unsigned long long)a->rot->count,
			 (unsigned long long)a->rot->last_ms);
	admin_ha_text(a, r);
}

/* Prometheus text exposition (for a textfile collector or a scraper). */
static void metric(struct ctl_reply *r, const char *name, const char *type,
		   const char *help, unsigned long long v)
{
	ctl_reply_printf(r, "# HELP vxsec_keymgr_%s %s\n", name, help);
	ctl_reply_printf(r, "# TYPE vxsec_keymgr_%s %s\n", name, type);
	ctl_reply_printf(r, "vxsec_keymgr_%s %llu\n", name, v);
}

static int cmd_metrics(struct admin *a, struct ctl_reply *r)
{
	struct cluster_status s;
	static const enum rot_phase phases[] = { ROT_IDLE, ROT_PREPARE,
						 ROT_COMMIT, ROT_GRACE };

	cluster_status(a->cl, &s);
	metric(r, "members", "gauge", "Members not removed.",
	       cluster_members(a->cl));
	metric(r, "members_nat", "gauge",
	       "Members found behind NAT (their session's source address is "
	       "not their socket's).",
	       members_nat(a));
	metric(r, "connected_agents", "gauge", "Agents with a session.",
	       session_count(a->ss));
	metric(r, "revision", "gauge", "The cluster revision.", s.revision);
	metric(r, "state_saved", "gauge",
	       "1 if the last state save succeeded; 0: the leader holds still.",
	       !store_failed(a->st));
	metric(r, "state_unsaved_seconds", "gauge",
	       "How long saves have failed (0: the state is saved).",
	       store_unsaved_s(a->st));
	metric(r, "transmit_generation", "gauge", "The committed generation.",
	       s.transmit);
	metric(r, "live_generations", "gauge", "Generations installed.",
	       s.n_gens);
	metric(r, "rotation_pending_acks", "gauge",
	       "Acks the rotation phase waits for.", s.n_pending);
	metric(r, "rotations_total", "counter",
	       "Rotations completed since the leader started.", a->rot->count);
	ctl_reply_printf(r,
			 "# HELP vxsec_keymgr_rotation_last_duration_seconds"
			 " Prepare to retire of the last rotation.\n"
			 "# TYPE vxsec_keymgr_rotation_last_duration_seconds"
			 " gauge\nvxsec_keymgr_rotation_last_duration_seconds"
			 " %.3f\n",
			 (double)a->rot->last_ms / 1000.0);
	ctl_reply_printf(r, "# HELP vxsec_keymgr_rotation_phase The phase "
			    "under way (1).\n# TYPE "
			    "vxsec_keymgr_rotation_phase gauge\n");
	for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++)
		ctl_reply_printf(r,
				 "vxsec_keymgr_rotation_phase{phase=\"%s\"} "
				 "%d\n",
				 admin_rot_phase_name(phases[i]),
				 s.phase == phases[i]);
	admin_ha_metrics(a, r);
	return 0;
}

void admin_addr_text(const struct node_addr *a, char *out, size_t len)
{
	if (!inet_ntop(a->len == 4 ? AF_INET : AF_INET6, a->ip, out,
		       (socklen_t)len))
		snprintf(out, len, "?");
}

/* The node's static keys and pending key, fingerprints (no secret). */
static void keys_json(const struct node *n, struct ctl_reply *r)
{
	char fpr[PAIRKEY_FPR_LEN];

	ctl_reply_printf(r, ",\"key\":");
	if (n->n_keys) {
		pairkey_fingerprint(n->keys[n->n_keys - 1].pub, fpr);
		ctl_json_string(r, fpr);
	} else {
		ctl_reply_printf(r, "null");
	}
	ctl_reply_printf(r, ",\"keys\":[");
	for (size_t i = 0; i < n->n_keys; i++) {
		pairkey_fingerprint(n->keys[i].pub, fpr);
		ctl_reply_printf(r, "%s{\"from_generation\":%u,\"key\":",
				 i ? "," : "", n->keys[i].from);
		ctl_json_string(r, fpr);
		ctl_reply_printf(r, "}");
	}
	ctl_reply_printf(r, "],\"pending_key\":");
	if (n->has_pending) {
		pairkey_fingerprint(n->pending, fpr);
		ctl_json_string(r, fpr);
	} else {
		ctl_reply_printf(r, "null");
	}
}

static void node_json(struct admin *ad, const struct node *n,
		      struct ctl_reply *r, bool first)
{
	uint64_t sent, acked;
	char a[INET6_ADDRSTRLEN];

	session_revisions(ad->ss, n->index, &sent, &acked);
	ctl_reply_printf(r, "%s{\"id\":", first ? "" : ",");
	ctl_json_string(r, n->id);
	ctl_reply_printf(r,
			 ",\"index\":%u,\"incarnation\":%llu,\"state\":\"%s\"",
			 n->index, (unsigned long long)n->incarnation,
			 node_state_name(n->state));
	ctl_reply_printf(r, ",\"cert_serial\":");
	ctl_json_string(r, n->cert_serial);
	ctl_reply_printf(r, ",\"sent_revision\":%llu,\"acked_revision\":%llu",
			 (unsigned long long)sent, (unsigned long long)acked);
	ctl_reply_printf(r, ",\"underlay\":[");
	for (size_t i = 0; i < n->n_addrs; i++) {
		admin_addr_text(&n->addrs[i], a, sizeof(a));
		ctl_reply_printf(r, "%s", i ? "," : "");
		ctl_json_string(r, a);
	}
	ctl_reply_printf(r, "],\"nat\":%s,\"public_address\":",
			 n->nat ? "true" : "false");
	if (n->nat) {
		admin_addr_text(&n->public_addr, a, sizeof(a));
		ctl_json_string(r, a);
	} else {
		ctl_reply_printf(r, "null");
	}
	keys_json(n, r);
	ctl_reply_printf(r, "}");
}

static void node_text(struct admin *ad, const struct node *n,
		      struct ctl_reply *r)
{
	uint64_t sent, acked;
	char a[INET6_ADDRSTRLEN] = "-", fpr[PAIRKEY_FPR_LEN] = "-";

	session_revisions(ad->ss, n->index, &sent, &acked);
	if (n->n_addrs)
		admin_addr_text(&n->addrs[0], a, sizeof(a));
	if (n->n_keys)
		pairkey_fingerprint(n->keys[n->n_keys - 1].pub, fpr);
	ctl_reply_printf(r, "%-24s %6u %6llu %-12s %-39s %10llu/%-10llu %s\n",
			 n->id, n->index, (unsigned long long)n->incarnation,
			 node_state_name(n->state), a,
			 (unsigned long long)acked, (unsigned long long)sent,
			 fpr);
	if (n->has_pending) {
		pairkey_fingerprint(n->pending, fpr);
		ctl_reply_printf(r,
				 "%-24s pending key %s (from the next "
				 "generation)\n",
				 "", fpr);
	}
	if (n->nat) {
		admin_addr_text(&n->public_addr, a, sizeof(a));
		ctl_reply_printf(r, "%-24s behind NAT, public address %s\n", "",
				 a);
	}
}

static int cmd_nodes(void *arg, int argc, char **argv, struct ctl_reply *r)
{
	struct admin *a = arg;
	bool json = want_json(argc, argv);
	struct node *n;

	if (json)
		ctl_reply_printf(r, "[");
	else
		ctl_reply_printf(r, "%-24s %6s %6s %-12s %-39s %21s %s\n",
				 "NODE", "INDEX", "INC", "STATE", "UNDERLAY",
				 "ACKED/SENT", "KEY");
	for (size_t i = 0; (n = cluster_at(a->cl, i)); i++) {
		if (json)
			node_json(a, n, r, i == 0);
		else
			node_text(a, n, r);
	}
	if (json)
		ctl_reply_printf(r, "]\n");
	return 0;
}

/* A change's start as the control socket answers it. */
static int change_reply(struct admin *a, int err, struct admin_wait *w,
			enum admin_wait_what what, const char *node,
			const struct why *why, struct ctl_reply *r)
{
	if (err == ADMIN_WAITING)
		return admin_wait_reply(w, r);
	if (err == 0)
		return admin_done_reply(a, what, node, r);
	ctl_reply_printf(r, "%s\n", why->msg);
	return ADMIN_EXIT_FAIL;
}

static int cmd_token(void *arg, int argc, char **argv, struct ctl_reply *r)
{
	struct admin *a = arg;
	struct admin_wait *w = NULL;
	struct why why = { "" };
	int err;

	if (argc != 2 ||
	    (strcmp(argv[1], "show") != 0 && strcmp(argv[1], "rotate") != 0)) {
		ctl_reply_printf(r, "usage: token show|rotate\n");
		return ADMIN_EXIT_USAGE;
	}
	if (strcmp(argv[1], "show") == 0)
		return admin_token_reply(a, r);
	err = admin_token_rotate(a, &w, &why); /* before w is read */
	return change_reply(a, err, w, ADMIN_WAIT_TOKEN, NULL, &why, r);
}

int admin_token_reply(struct admin *a, struct ctl_reply *r)
{
	char text[TOKEN_TEXT_LEN + 1];

	if (store_token_text(a->st, a->ca, text, sizeof(text)))
		return ADMIN_EXIT_FAIL;
	ctl_reply_printf(r, "%s\n", text);
	sodium_memzero(text, sizeof(text));
	if (a->leaders && a->leaders[0])
		ctl_reply_printf(r, "leader = %s\n", a->leaders);
	return 0;
}

static int cmd_rotate(struct admin *a, struct ctl_reply *r)
{
	char what[96];
	struct admin_wait *w = NULL;
	struct why why = { "" };
	int err = admin_rotate(a, what, sizeof(what), &w, &why);

	return change_reply(a, err, w, ADMIN_WAIT_ROTATE, what, &why, r);
}

static int cmd_remove(void *arg, int argc, char **argv, struct ctl_reply *r)
{
	struct admin *a = arg;
	struct admin_wait *w = NULL;
	struct why why = { "" };
	int err;

	if (argc != 2) {
		ctl_reply_printf(r, "usage: remove NODE\n");
		return ADMIN_EXIT_USAGE;
	}
	err = admin_remove(a, argv[1], &w, &why); /* before w is read */
	return change_reply(a, err, w, ADMIN_WAIT_REMOVE, argv[1], &why, r);
}

static int cmd_unlock(void *arg, int argc, char **argv, struct ctl_reply *r)
{
	struct admin *a = arg;
	char text[STATE_UNLOCK_TEXT_LEN + 128];
	struct why why = { "" };
	int err;

	if (argc != 2 ||
	    (strcmp(argv[1], "show") != 0 && strcmp(argv[1], "rotate") != 0)) {
		ctl_reply_printf(r, "usage: unlock-key show|rotate\n");
		return ADMIN_EXIT_USAGE;
	}
	if (strcmp(argv[1], "show") == 0)
		err = admin_unlock_show(a, text, sizeof(text), &why);
	else
		err = admin_unlock_rotate(a, text, sizeof(text), &why);
	if (err) {
		ctl_reply_printf(r, "%s\n", why.msg);
		return ADMIN_EXIT_FAIL;
	}
	ctl_reply_printf(r, "%s\n", text);
	sodium_memzero(text, sizeof(text));
	if (a->leaders && a->leaders[0])
		ctl_reply_printf(r, "leader = %s\n", a->leaders);
	return 0;
}

/* ---- the table: what the leader serves and vxsec-keymgr sends ---- */

static int cmd_status(void *arg, int argc, char **argv, struct ctl_reply *r)
{
	if (want_json(argc, argv))
		status_json(arg, r);
	else
		status_text(arg, r);
	return 0;
}

/* The table's form of the two that take no words. */
static int rotate_cmd(void *arg, int argc, char **argv, struct ctl_reply *r)
{
	(void)argc, (void)argv;
	return cmd_rotate(arg, r);
}

static int metrics_cmd(void *arg, int argc, char **argv, struct ctl_reply *r)
{
	(void)argc, (void)argv;
	return cmd_metrics(arg, r);
}

static const struct ctl_cmd commands[] = {
	{ "status", "[--json]", "revision, members, generations, rotation",
	  cmd_status, 0 },
	{ "nodes", "[--json]", "every member: index, incarnation, state, key",
	  cmd_nodes, 0 },
	{ "token", "show|rotate", "the join token; rotate refuses the old one",
	  cmd_token, 0 },
	{ "rotate", "", "start a key rotation now", rotate_cmd, 0 },
	{ "remove", "NODE", "remove a node for good (a rotation follows)",
	  cmd_remove, 0 },
	{ "unlock-key", "show|rotate", "the key that encrypts the state",
	  cmd_unlock, 0 },
	{ "metrics", "", "the same figures in Prometheus text format",
	  metrics_cmd, 0 },
};

const struct ctl_table leader_commands = {
	.prog = "vxsec-keymgr",
	.cmds = commands,
	.n = sizeof(commands) / sizeof(commands[0]),
	.width = 22,
};

int admin_handle(void *arg, int argc, char **argv, struct ctl_reply *r)
{
	int code = ctl_table_find(&leader_commands, argv[0])
			   ? admin_ha_refuse(arg, argv[0], r)
			   : 0;

	if (code)
		return code;
	return ctl_dispatch(&leader_commands, arg, argc, argv, r);
}
