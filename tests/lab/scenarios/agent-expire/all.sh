#!/bin/sh
# SPDX-License-Identifier: MIT
# Lab scenario "agent-expire": SAs carry a 20 s hard lifetime (soft at
# 90%). The kernel's soft expiry reaches the agent as an event, the agent
# reports it, the leader rotates early: a newer generation replaces 1 before any
# SA dies, and the overlay keeps working.
set -eu
. "$LAB_SRC/tests/lab/lib.sh"
. "$LAB_SRC/tests/lab/vxsec.sh"
lab_modprobe
me=$LAB_INDEX
peer=$((3 - me))
KM="$LAB_SRC/build/vxsec-keymgr -d /tmp/km -s /tmp/km.sock"
AG="$LAB_SRC/build/vxsec-agent -s /tmp/agent.sock"

die() {
	$AG status || true
	tail -n 30 /tmp/agent.log
	[ "$me" = 1 ] && tail -n 30 /tmp/km.log
	lab_fail "$*"
}

# until_status PATTERN SECONDS: `status --json` matches within the time.
until_status() {
	end=$(($(date +%s) + $2))
	until $AG status --json 2>/dev/null | grep -q "$1"; do
		[ "$(date +%s)" -lt "$end" ] || die "no status matching $1 within $2 s"
		sleep 0.3
	done
}

if [ "$me" = 1 ]; then
	$KM init | sed -n 's/^join token: //p' >"$LAB_DIR/token"
	$KM -l "$(lab_ip_of 1):7120" --grace 1s run >/tmp/km.log 2>&1 &
fi
lab_barrier leader
$LAB_SRC/build/vxsec-agent -s /tmp/agent.sock -L "$(lab_ip_of 1):7120" \
	-a "$(lab_ip_of "$me")" -n "vm$me" -t "$LAB_DIR/token" -d /tmp/agent \
	--vxlan --sa-lifetime 20s run >/tmp/agent.log 2>&1 &
until_status '"in_sync":true,"last_sync_ms":[0-9.]*,"cert_not_after":[0-9]*,"sas":2,' 60
ip addr add "$(vx_overlay_ip "$me")/24" dev vxsec0
lab_barrier joined
ping -c 3 -W 5 "$(vx_overlay_ip "$peer")" >/dev/null || die "overlay ping before expiry"
t0=$(date +%s)
# Soft expiry at 18 s: the rotation must be done before the hard one at 20 s.
until_status '"generations":\[{"generation":[2-9],"phase":"committed"}\]' 40
echo "vm$me: a newer generation took over $(($(date +%s) - t0)) s after the first ping"
grep "reached its soft lifetime" /tmp/agent.log || die "no soft expiry seen"
ping -c 3 -W 5 "$(vx_overlay_ip "$peer")" >/dev/null || die "overlay ping after the early rotation"
[ "$(lab_xfrm_stat XfrmOutStateExpired)" = 0 ] || die "an SA hard-expired while in use"
lab_barrier done
[ "$me" = 1 ] && grep "soft expiry" /tmp/km.log
exit 0
