// SPDX-License-Identifier: MIT
/* vxsec-agent under systemd: when the node is ready, and its status in one line for STATUS= (systemctl status). */
#include <stdio.h>

#include "agentd_int.h"
#include "common/log.h"

void agent_notify_check(struct agent *a)
{
	struct session_status st;

	if (!a->sd.on || a->sd.ready)
		return;
	if (a->view.have_snapshot && a->in_sync) {
		sdnotify_ready(&a->sd);
		return;
	}
	session_status(a->session, &st);
	if (st.state == SESSION_BACKOFF && st.cert_not_after) {
		log_info("ready without a leader: the kernel keeps revision "
			 "%llu and its policies until one answers",
			 (unsigned long long)a->saved_rev);
		sdnotify_ready(&a->sd);
	}
}

void agent_notify_line(void *arg, char *line, size_t len)
{
	struct agent *a = arg;
	struct session_status st;

	agent_notify_check(a); /* a polled readiness: no leader */
	session_status(a->session, &st);
	snprintf(line, len,
		 "%s, leader %s: kernel at revision %llu of %llu (%s), %zu "
		 "peers, %zu SAs, %zu policies",
		 session_state_name(st.state), st.leader,
		 (unsigned long long)a->applied,
		 (unsigned long long)a->view.revision,
		 a->in_sync ? "in sync" : "NOT in sync", a->view.n_peers,
		 a->n_sas, a->n_pols);
}
