#!/bin/sh
# SPDX-License-Identifier: MIT
# Lab scenario "agent": the real daemons. vm1 runs vxsec-keymgr; every VM
# runs vxsec-agent, which joins with the token, programs SAs and policies,
# and manages the VXLAN device. Then: overlay pings in every direction; a
# rotation; an agent killed with -9 and restarted adopts the kernel's state
# without a change; an SA deleted behind the agent's back is not added
# again with its used key: the node gets fresh keys (a new incarnation).
set -eu
. "$LAB_SRC/tests/lab/lib.sh"
. "$LAB_SRC/tests/lab/vxsec.sh"
lab_modprobe
me=$LAB_INDEX
peers=$(vx_peers "$me")
KM="$LAB_SRC/build/vxsec-keymgr -d /tmp/km -s /tmp/km.sock"
AG="$LAB_SRC/build/vxsec-agent -s /tmp/agent.sock"
npeers=$((LAB_VMS - 1))

# agent_json FIELD: one top-level number or word of `status --json`.
agent_json() {
	$AG status --json | grep -o "\"$1\":[a-z0-9]*" | head -n 1 | cut -d: -f2
}

# wait_sync REVISION_MIN SAS: the kernel holds at least that revision,
# in sync, with that many SAs.
wait_sync() {
	end=$(($(date +%s) + 60))
	while :; do
		rev=$(agent_json kernel_revision 2>/dev/null || true)
		if [ "$(agent_json in_sync 2>/dev/null || true)" = true ] &&
			[ "${rev:-0}" -ge "$1" ] && [ "$(agent_json sas)" = "$2" ]; then
			return 0
		fi
		[ "$(date +%s)" -lt "$end" ] || die "agent not in sync at revision >= $1 with $2 SAs"
		sleep 0.2
	done
}

# die MESSAGE: the agent's status and logs, then the failure.
die() {
	$AG status || true
	tail -n 30 /tmp/agent.log
	[ "$me" = 1 ] && tail -n 30 /tmp/km.log
	lab_fail "$*"
}

start_agent() {
	$AG -L "$(lab_ip_of 1):7120" -a "$(lab_ip_of "$me")" -n "vm$me" \
		-t "$LAB_DIR/token" -d /tmp/agent --vxlan --vni 77 \
		--underlay-cidr "$LAB_NET.0/24" --resync-interval 2s \
		run >>/tmp/agent.log 2>&1 &
	echo $! >/tmp/agent.pid
}

ping_peers() {
	for p in $peers; do
		ping -c 3 -i 0.2 -W 5 "$(vx_overlay_ip "$p")" >/dev/null ||
			lab_fail "$1: overlay ping vm$me -> vm$p got no reply"
	done
	echo "vm$me: $1: overlay pings to every peer answered"
}

if [ "$me" = 1 ]; then
	$KM init >/tmp/init.out
	sed -n 's/^join token: //p' /tmp/init.out >"$LAB_DIR/token"
	$KM -l "$(lab_ip_of 1):7120" --grace 2s --ack-deadline 20s run >/tmp/km.log 2>&1 &
fi
lab_barrier leader
start_agent
echo "vm$me: agent started"
wait_sync 1 $((2 * npeers))
ip addr add "$(vx_overlay_ip "$me")/24" dev vxsec0
mtu=$(cat /sys/class/net/vxsec0/mtu)
echo "vm$me: joined; vxsec0 MTU $mtu (underlay 1500)"
[ "$mtu" = 1416 ] || lab_fail "vxsec0 MTU is $mtu, not 1416"
$AG status
lab_barrier configured
ping_peers "joined"
lab_barrier pinged

# Rotation: generation 2 replaces 1 everywhere.
[ "$me" = 1 ] && $KM rotate
tries=300
until $AG status --json | grep -q '"generations":\[{"generation":2,"phase":"committed"}\]'; do
	tries=$((tries - 1))
	[ "$tries" -gt 0 ] || die "generation 2 never became the only one"
	sleep 0.2
done
wait_sync 1 $((2 * npeers))
ping_peers "after a rotation"
ip xfrm state | grep -c "^src" | sed "s/^/vm$me: SAs after the rotation: /"
lab_barrier rotated

# kill -9 and restart: the kernel's state is adopted, nothing changes.
# SPIs and keys only: the replay counters move with any packet.
sas() { ip xfrm state | grep -E "proto esp spi|aead" | md5sum; }
before=$(sas)
kill -9 "$(cat /tmp/agent.pid)"
sleep 0.5
start_agent
sleep 1
wait_sync 1 $((2 * npeers))
[ "$(sas)" = "$before" ] ||
	lab_fail "the restarted agent changed the kernel's SAs"
grep -q "kernel at revision" /tmp/agent.log
echo "vm$me: restarted agent adopted the kernel's SAs unchanged"
ping_peers "after an agent restart"
lab_barrier restarted

# An SA deleted behind vm2's back: its key is never installed again.
if [ "$me" = 2 ]; then
	key_before=$(sas)
	ip xfrm state deleteall src "$(lab_ip_of 2)" dst "$(lab_ip_of 1)"
	echo "vm2: deleted the SAs vm2 -> vm1 behind the agent's back"
	tries=300
	until grep -q "asking the leader for fresh keys" /tmp/agent.log; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || die "the agent did not notice the lost SAs"
		sleep 0.2
	done
	wait_sync 1 $((2 * npeers))
	[ "$(sas)" != "$key_before" ] ||
		lab_fail "the same SAs came back"
fi
lab_barrier relearned
wait_sync 1 $((2 * npeers))
ping_peers "after new keys for vm2"
$AG status
$AG metrics | grep -E "^vxsec_agent_(in_sync|revision|syncs_total)"
lab_barrier done
cat /tmp/agent.log
[ "$me" = 1 ] && cat /tmp/km.log
exit 0
