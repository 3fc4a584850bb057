#!/bin/sh
# SPDX-License-Identifier: MIT
# Lab scenario "agent-expire": SAs carry a 20 s hard lifetime (soft at
# 90%). The kernel's soft expiry reaches the agent as an event, the agent
# reports it, the leader rotates early: a newer generation replaces 1
# before any SA dies, and the overlay keeps working.
set -eu
. "$LAB_SRC/tests/lab/lib.sh"
. "$LAB_SRC/tests/lab/vxsec.sh"
. "$LAB_SRC/tests/lab/daemons.sh"
lab_modprobe
peer=$((3 - me))

if [ "$me" = 1 ]; then
	d_leader_init
	d_leader_start --grace 1s
fi
lab_barrier leader
d_agent_start 1 --sa-lifetime 20s
d_wait_sync 2
d_overlay_up
lab_barrier joined
ping -c 3 -W 5 "$(vx_overlay_ip "$peer")" >/dev/null || d_die "overlay ping before expiry"
t0=$(date +%s)
# Soft expiry at 18 s: the rotation must be done before the hard one at 20 s.
end=$((t0 + 40))
until $AG status --json | grep -q '"generations":\[{"generation":[2-9],"phase":"committed"}\]'; do
	[ "$(date +%s)" -lt "$end" ] || d_die "no newer generation within 40 s"
	sleep 0.3
done
echo "vm$me: a newer generation took over $(($(date +%s) - t0)) s after the first ping"
grep "reached its soft lifetime" /tmp/agent.log || d_die "no soft expiry seen"
ping -c 3 -W 5 "$(vx_overlay_ip "$peer")" >/dev/null || d_die "overlay ping after the early rotation"
[ "$(lab_xfrm_stat XfrmOutStateExpired)" = 0 ] || d_die "an SA hard-expired while in use"
lab_barrier done
[ "$me" = 1 ] && grep "soft expiry" /tmp/km.log
exit 0
