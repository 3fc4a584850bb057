#!/bin/sh
# SPDX-License-Identifier: MIT
# Issue 18, IPv6 underlays: the overlay scenario's steps (tests/lab/overlay-steps.sh)
# in one boot, twice: vxsec-keymgr on vm1 (not a member), vxsec-agent --vxlan on
# vm2-vm4.
#  6. IPv6-only underlay: every VM has fd00::1N and no IPv4 address; the
#     leader listens on [fd00::11]:7120; underlay_cidr fd00::/64.
#  ds. dual-stack: a new cluster on the same VMs. vm2 and vm3 announce
#     fd00::1N then 192.168.77.1N, vm4 only 192.168.77.14 (its IPv6
#     address gone): vm2<->vm3 is an IPv6 pair, vm2<->vm4 and vm3<->vm4
#     are IPv4 pairs; the leader listens on 192.168.77.11:7120; no
#     underlay_cidr (the default catch-all: 0.0.0.0/0 and ::/0). A kernel
#     VXLAN device carries one family: on vm2 and vm3 the agent's vxsec0
#     is IPv6 (their first address's) and the agent makes vxsec0v4 for
#     their IPv4 pair with vm4 (agent/overlay_set.c); vm4, IPv4 only, has
#     vxsec0 alone. ds_v4dev checks both devices and routes vm4's overlay
#     address through vxsec0v4 (docs/testing.md).
# In each: a. join, every pair's SAs on the pair's addresses, vxsec0's MTU
# for its family, pings in every direction, the largest DF ping answered
# and one byte more refused; b. two rotations under pings on every pair,
# then vm3's agent killed with -9 and restarted, still under the same
# pings, stopped 1 s later: 0 lost; g. cleartext VXLAN from a member (policies flushed) and
# from a stranger: dropped; h. least privilege (and, once, the leader
# blind).
# check.sh: ESP only on the wire, both families, none larger than 1500
# bytes, no fragment.
set -eu
. "$LAB_SRC/tests/lab/lib.sh"
. "$LAB_SRC/tests/lab/vxsec.sh"
. "$LAB_SRC/tests/lab/daemons.sh"
. "$LAB_SRC/tests/lab/overlay-steps.sh"
lab_modprobe
ip6_of() { echo "fd00::$((10 + $1))"; }
# Per pair and phase, asked at 100/s; each ping is stopped 1 s after vm3's
# agent is back (lab_ping_stop), so its length is the events' own.
PINGS=6000

OV_GRACE=1s
# phase TAG CIDR MEMSCAN: the overlay scenario's steps on the underlay
# d_addrs gives; the leader's memory is scanned (h) in the last phase only:
# what it may hold does not depend on the underlay.
phase() {
	OV_TAG=$1- D_CIDR=$2 OV_MEMSCAN=$3
	ov_join
	if [ "$1" = ds ]; then
		ds_v4dev
		ov_barrier routed # every route in place before anyone pings
	fi
	ov_ping_peers "$1 a"
	ov_mtu_df
	ov_barrier pinged
	# b. two rotations, then an agent's kill -9, under the same pings
	ov_rate_pings b $PINGS
	ov_barrier b-pinging
	ov_rotate 2 3
	ov_barrier b-rotated
	ov_hold_gen 3
	ov_barrier b-held
	ov_kill_agent 3
	ov_barrier c-restarted
	ov_rate_running b "b: 2 rotations and vm3's agent restart"
	ov_rate_stop b
	ov_rate_end b "$1 b: 2 rotations and vm3's agent restart,"
	ov_barrier b-done
	# g. cleartext VXLAN from member vm2 to its peers, from stranger vm1
	if [ "$1" = 6 ]; then ov_inject 2 3 3; else ov_inject 2 "3 4" 4; fi
	ov_least_privilege
	ov_barrier done
}

# ds_v4dev: vm2 and vm3 (vxsec0 over IPv6) have the agent's second device,
# vxsec0v4: IPv4 from their own address, the agent's VNI and port, MTU 1416,
# an FDB of exactly vm4, which vxsec0's FDB lacks, and both devices in the
# agent's status; vm4 (IPv4 only) has vxsec0 alone. vm4's overlay address
# is routed through vxsec0v4 (the node's address on it as a /32).
ds_v4dev() {
	case $me in 2 | 3) ;; 4)
		[ ! -e /sys/class/net/vxsec0v4 ] && [ ! -e /sys/class/net/vxsec0v6 ] ||
			d_die "ds: vm4 (one family) has a second VXLAN device"
		echo "ds: vm4 (IPv4 only): vxsec0 alone"
		return 0 ;;
	*) return 0 ;; esac
	end=$(($(date +%s) + 20))
	# The agent makes it, then fills its FDB, right after the reconcile
	# that d_wait_sync saw.
	until bridge fdb show dev vxsec0v4 2>/dev/null | grep -q "dst $(lab_ip_of 4) "; do
		[ "$(date +%s)" -lt "$end" ] || d_die "ds: no vxsec0v4 with vm4 in its FDB within 20 s"
		sleep 0.2
	done
	mtu=$(cat /sys/class/net/vxsec0v4/mtu)
	[ "$mtu" = 1416 ] || d_die "ds: vxsec0v4 MTU $mtu, not 1416"
	ip -d link show vxsec0v4 | grep -q "vxlan id 4242 local $(lab_ip_of "$me") .*dstport $VX_PORT" ||
		d_die "ds: vxsec0v4 is not VXLAN 4242 from $(lab_ip_of "$me"): $(ip -d link show vxsec0v4)"
	fdb4=$(bridge fdb show dev vxsec0v4 | grep '^00:00:00:00:00:00')
	[ "$(echo "$fdb4" | wc -l)" = 1 ] && echo "$fdb4" | grep -q "dst $(lab_ip_of 4) " ||
		d_die "ds: vxsec0v4's FDB is not vm4 alone: $fdb4"
	fdb6=$(bridge fdb show dev vxsec0 | grep '^00:00:00:00:00:00')
	[ "$(echo "$fdb6" | wc -l)" = 1 ] && echo "$fdb6" | grep -q "dst $(ip6_of $((5 - me))) " ||
		d_die "ds: vxsec0's FDB is not vm$((5 - me)) alone: $fdb6"
	st=$($AG status --json)
	echo "$st" | grep -q '"vxlan_devices":\[{"name":"vxsec0","family":"IPv6",[^]]*"peers":1,"left_out":0,"error":null},{"name":"vxsec0v4","family":"IPv4",[^]]*"made":true,"mtu":1416,"peers":1,"left_out":0' ||
		d_die "ds: status --json does not show both devices: $st"
	ip addr add "$(vx_overlay_ip "$me")/32" dev vxsec0v4
	ip route add "$(vx_overlay_ip 4)/32" dev vxsec0v4
	echo "ds: vm$me: vxsec0 (IPv6, MTU $(cat /sys/class/net/vxsec0/mtu)) for vm$((5 - me)), vxsec0v4 (IPv4, MTU $mtu) for vm4, both the agent's"
}

# ---- IPv6-only ----
ip addr del "$LAB_IP" dev eth0
ip addr add "$(ip6_of "$me")/64" dev eth0
ov_wait_dad
d_addrs() { ip6_of "$1"; }
d_leader_addr() { ip6_of "$1"; }
phase 6 fd00::/64 no

# ---- between: the daemons stopped, the kernel emptied ----
if [ "$me" = 1 ]; then
	kill "$(cat /tmp/km.pid)"
	d_wait_exit /tmp/km.pid || d_die "the leader did not stop cleanly"
	rm -rf /tmp/km /tmp/km.sock
	mv /tmp/km.log /tmp/km.log.6
else
	kill "$(cat /tmp/agent.pid)"
	d_wait_exit /tmp/agent.pid || d_die "the agent did not stop cleanly"
	ip xfrm state flush
	ip xfrm policy flush
	ip link del vxsec0
	rm -rf /tmp/agent /tmp/agent.sock
	mv /tmp/agent.log /tmp/agent.log.6
fi
ip addr add "$LAB_IP" dev eth0
[ "$me" = 4 ] && ip addr del "$(ip6_of 4)/64" dev eth0
lab_barrier between

# ---- dual-stack ----
d_addrs() {
	if [ "$1" = 4 ]; then lab_ip_of 4; else echo "$(ip6_of "$1") $(lab_ip_of "$1")"; fi
}
d_leader_addr() { lab_ip_of "$1"; }
phase ds "" yes
exit 0
