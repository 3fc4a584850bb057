// SPDX-License-Identifier: MIT
/* vxsec-keymgr: what the operator sees of store = etcd — role, term, lease, etcd — in status, status --json and metrics, and the refusal of a standby. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "admin.h"

/* The instance's view, or NULL with the file store. */
static bool view(const struct admin *a, struct admin_ha *h)
{
	memset(h, 0, sizeof(*h));
	if (!a->ha)
		return false;
	a->ha(a->ha_arg, h);
	return h->etcd;
}

bool admin_ha_serving(const struct admin *a)
{
	struct admin_ha h;

	return !view(a, &h) || h.serving;
}

void admin_ha_text(const struct admin *a, struct ctl_reply *r)
{
	struct admin_ha h;

	if (!view(a, &h))
		return;
	ctl_reply_printf(r, "instance:    %s, %s (term %lld) for %llu s",
			 h.instance, h.role, (long long)h.term,
			 (unsigned long long)h.role_s);
	if (!h.serving)
		ctl_reply_printf(r, "; the leader: %s%s%s%s",
				 h.leader[0] ? h.leader : "not known yet",
				 h.leader_listen[0] ? " (" : "",
				 h.leader_listen,
				 h.leader_listen[0] ? ")" : "");
	ctl_reply_printf(r, "\n");
	ctl_reply_printf(r,
			 "etcd:        %s, prefix %s, election %s, lease "
			 "%lld s (timers late by %llu ms at most)\n",
			 h.etcd_endpoint, h.prefix, h.election,
			 (long long)h.lease_ttl_s,
			 (unsigned long long)h.loop_late_max_ms);
	ctl_reply_printf(r,
			 "commits:     %llu (%llu transactions, %llu through "
			 "the journal), %llu failed, the last took %llu ms\n",
			 (unsigned long long)h.stats.commits,
			 (unsigned long long)h.stats.txns,
			 (unsigned long long)h.stats.journaled,
			 (unsigned long long)h.stats.failures,
			 (unsigned long long)h.stats.last_ms);
}

void admin_ha_json(const struct admin *a, struct ctl_reply *r)
{
	struct admin_ha h;

	if (!view(a, &h)) {
		ctl_reply_printf(r, "\"store\":\"file\",\"role\":\"leader\","
				    "\"term\":0,");
		return;
	}
	ctl_reply_printf(r, "\"store\":\"etcd\",\"instance\":");
	ctl_json_string(r, h.instance);
	ctl_reply_printf(r, ",\"role\":");
	ctl_json_string(r, h.role);
	ctl_reply_printf(r, ",\"leader\":");
	ctl_json_string(r, h.leader);
	ctl_reply_printf(r, ",\"leader_listen\":");
	ctl_json_string(r, h.leader_listen);
	ctl_reply_printf(r, ",\"term\":%lld,\"role_s\":%llu,\"etcd\":{",
			 (long long)h.term, (unsigned long long)h.role_s);
	ctl_reply_printf(r, "\"endpoint\":");
	ctl_json_string(r, h.etcd_endpoint);
	ctl_reply_printf(r, ",\"prefix\":");
	ctl_json_string(r, h.prefix);
	ctl_reply_printf(r, ",\"election\":");
	ctl_json_string(r, h.election);
	ctl_reply_printf(r,
			 ",\"lease_ttl_s\":%lld,\"loop_late_max_ms\":%llu,"
			 "\"commits\":%llu,\"txns\":%llu,"
			 "\"journaled\":%llu,\"failures\":%llu,"
			 "\"last_commit_ms\":%llu,\"etcd_revision\":%lld},",
			 (long long)h.lease_ttl_s,
			 (unsigned long long)h.loop_late_max_ms,
			 (unsigned long long)h.stats.commits,
			 (unsigned long long)h.stats.txns,
			 (unsigned long long)h.stats.journaled,
			 (unsigned long long)h.stats.failures,
			 (unsigned long long)h.stats.last_ms,
			 (long long)h.stats.etcd_revision);
}

static void gauge(struct ctl_reply *r, const char *name, const char *help,
		  long long v)
{
	ctl_reply_printf(r,
			 "# HELP vxsec_keymgr_%s %s\n# TYPE vxsec_keymgr_%s "
			 "gauge\nvxsec_keymgr_%s %lld\n",
			 name, help, name, name, v);
}

void admin_ha_metrics(const struct admin *a, struct ctl_reply *r)
{
	struct admin_ha h;
	bool etcd = view(a, &h);

	gauge(r, "leader", "1 if this instance serves agents, 0: a standby.",
	      !etcd || h.serving);
	gauge(r, "term", "The leader term (0: store = file).", h.term);
	if (!etcd)
		return;
	gauge(r, "etcd_commits", "Commits to etcd since the start.",
	      (long long)h.stats.commits);
	gauge(r, "etcd_commit_failures", "Commits to etcd that failed.",
	      (long long)h.stats.failures);
	gauge(r, "etcd_last_commit_ms", "The last commit's duration.",
	      (long long)h.stats.last_ms);
	gauge(r, "loop_late_max_ms",
	      "The most a timer (lease keepalive, deadline) fired late.",
	      (long long)h.loop_late_max_ms);
}

int admin_ha_refusal(const struct admin *a, const char *cmd, struct why *why)
{
	struct admin_ha h;

	if (!view(a, &h) || h.serving || strcmp(cmd, "status") == 0 ||
	    strcmp(cmd, "metrics") == 0)
		return 0;
	if (h.leader[0])
		return why_fail(why, -EAGAIN,
				"%s: this instance (%s) is a %s, not the "
				"leader: ask %s, which leads (term %lld, "
				"agents at %s)",
				cmd, h.instance, h.role, h.leader,
				(long long)h.term,
				h.leader_listen[0] ? h.leader_listen : "?");
	return why_fail(why, -EAGAIN,
			"%s: this instance (%s) is a %s, not the leader: ask "
			"the instance that leads (etcd key %sleader)",
			cmd, h.instance, h.role, h.prefix);
}

int admin_ha_refuse(const struct admin *a, const char *cmd, struct ctl_reply *r)
{
	struct why why = { "" };

	if (!admin_ha_refusal(a, cmd, &why))
		return 0;
	ctl_reply_printf(r, "%s\n", why.msg);
	return ADMIN_EXIT_FAIL;
}
