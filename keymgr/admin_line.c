// SPDX-License-Identifier: MIT
/* vxsec-keymgr: the leader's status in one line, for systemd's STATUS= (systemctl status). */
#include <stdio.h>
#include <string.h>

#include "admin.h"

void admin_status_line(const struct admin *a, char *line, size_t len)
{
	struct cluster_status s;
	struct admin_ha h = { 0 };
	size_t off;

	if (a->ha)
		a->ha(a->ha_arg, &h);
	if (h.etcd && !h.serving) {
		snprintf(line, len, "%s (term %lld), election %s: not serving",
			 h.role, (long long)h.term, h.election);
		return;
	}
	cluster_status(a->cl, &s);
	off = (size_t)snprintf(line, len,
			       "leader: %zu members, %zu connected, revision "
			       "%llu, generation %u, rotation %s",
			       cluster_members(a->cl), session_count(a->ss),
			       (unsigned long long)s.revision, s.transmit,
			       admin_rot_phase_name(s.phase));
	if (off < len && s.phase != ROT_IDLE)
		off += (size_t)snprintf(line + off, len - off,
					" of %u (%zu acks pending)", s.target,
					s.n_pending);
	if (off < len && store_failed(a->st))
		snprintf(line + off, len - off, ", state NOT SAVED for %llu s",
			 (unsigned long long)store_unsaved_s(a->st));
}
