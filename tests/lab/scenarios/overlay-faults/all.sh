#!/bin/sh
# SPDX-License-Identifier: MIT
# Issue 7, failures with the real daemons: vxsec-keymgr on vm1, agents on
# vm2-vm4.
#  d. vm4 "reboots" (agent killed, its SAs and policies flushed, a new boot
#     id): its pairs come back with new keys, traffic resumes
#  e. the leader killed with -9 in each rotation phase (prepare, commit,
#     grace; vm4's messages to the leader are delayed 1.5 s in prepare and
#     commit so that those phases last; grace lasts 6 s), then restarted:
#     the rotation completes, 0 packets lost on every pair. vm4 changes its
#     qdisc only while no ping runs: replacing a root qdisc drops what is
#     sent in that instant (QDISC_DROP), which once showed as a lost packet
#  f. vm4 removed: its agent exits (3), its SAs are gone everywhere, a
#     rotation follows, it can neither send into nor receive from the
#     overlay, and it is refused when it comes back
set -eu
. "$LAB_SRC/tests/lab/lib.sh"
. "$LAB_SRC/tests/lab/vxsec.sh"
. "$LAB_SRC/tests/lab/daemons.sh"
lab_modprobe
members="2 3 4"
peers=$(for p in $members; do [ "$p" = "$me" ] || printf "%s " "$p"; done)
sas=4
LEADER_FLAGS="--grace 6s --ack-deadline 60s"

# the key of the SA src -> dst (72 hex digits)
key_of() {
	ip xfrm state | awk -v s="$1" -v d="$2" '/^src/ { m = ($2 == s && $4 == d) }
		m && /aead/ { print $3; exit }'
}

if [ "$me" = 1 ]; then
	d_leader_init
	d_leader_start $LEADER_FLAGS
fi
lab_barrier leader
if [ "$me" != 1 ]; then
	d_agent_start 1
	d_wait_sync $sas 90
	d_overlay_up
fi
lab_barrier joined

# ---- d. node reboot ----
if [ "$me" = 2 ]; then
	key_of "$(lab_ip_of 2)" "$(lab_ip_of 4)" >/tmp/k24.0
	key_of "$(lab_ip_of 2)" "$(lab_ip_of 3)" >/tmp/k23.0
fi
lab_barrier d-keys
if [ "$me" = 4 ]; then
	kill -9 "$(cat /tmp/agent.pid)"
	ip xfrm state flush
	ip xfrm policy flush
	cat /proc/sys/kernel/random/uuid >/tmp/boot_id
	echo "d: vm4 rebooted: agent killed, SAs and policies flushed, new boot id"
	d_agent_start 1 --boot-id-file /tmp/boot_id
	d_wait_sync $sas
fi
lab_barrier d-rebooted
if [ "$me" != 1 ]; then
	d_wait_sync $sas
	for p in $peers; do
		ping -c 3 -W 5 "$(vx_overlay_ip "$p")" >/dev/null ||
			d_die "d: overlay vm$me -> vm$p broken after vm4's reboot"
	done
fi
if [ "$me" = 2 ]; then
	k24=$(key_of "$(lab_ip_of 2)" "$(lab_ip_of 4)")
	k23=$(key_of "$(lab_ip_of 2)" "$(lab_ip_of 3)")
	[ -n "$k24" ] && [ "$k24" != "$(cat /tmp/k24.0)" ] ||
		d_die "d: the pair vm2 -> vm4 kept its key across vm4's reboot"
	[ "$k23" = "$(cat /tmp/k23.0)" ] ||
		d_die "d: the pair vm2 -> vm3 changed keys for vm4's reboot"
	echo "d: vm2 -> vm4 has a new key, vm2 -> vm3 kept its own; traffic resumed"
fi
lab_barrier d-done

# ---- e. the leader killed in each rotation phase ----
if [ "$me" = 4 ]; then # vm4's messages to the leader take 1.5 s
	for m in sch_prio sch_netem cls_u32; do modprobe "$m" || d_die "modprobe $m"; done
	tc qdisc add dev eth0 root handle 1: prio
	tc qdisc add dev eth0 parent 1:3 handle 30: netem delay 1500ms
	# TCP to the leader's port only (u32's "dport" alone would also match
	# bytes of an ESP packet's SPI)
	tc filter add dev eth0 parent 1: protocol ip prio 1 u32 \
		match ip protocol 6 0xff match ip dport 7120 0xffff flowid 1:3
fi
g=1
for phase in prepare commit grace; do
	g=$((g + 1))
	lab_barrier "e-$phase-ready"
	if [ "$me" != 1 ]; then
		d_xstat_mark "e-$phase"
		d_drops_start
		for p in $peers; do
			if [ "$p" -gt "$me" ]; then
				d_ping_start "e-$phase-$p" "$p" 4000
			fi
		done
	fi
	lab_barrier "e-$phase-pinging"
	if [ "$me" = 1 ]; then
		sleep 1
		$KM rotate >/dev/null || d_die "rotate refused"
		d_wait_km "\"rotation\":{\"phase\":\"$phase\",\"target\":$g" 60
		# Killed once the phase is on disk: it must resume from there.
		d_wait_km '"revision":\([0-9]*\),"persisted_revision":\1,' 20
		kill -9 "$(cat /tmp/km.pid)"
		echo "e: leader killed in $phase of generation $g"
		sleep 3 # the data plane on its own
		t0=$(date +%s)
		d_leader_start $LEADER_FLAGS
		d_wait_km "\"generations\":\[{\"generation\":$g,\"phase\":\"committed\"}\]" 120
		echo "e: generation $g completed $(($(date +%s) - t0)) s after the restart"
	fi
	lab_barrier "e-$phase-rotated"
	lost= why=
	if [ "$me" != 1 ]; then
		for p in $peers; do
			if [ "$p" -gt "$me" ] && ! d_ping_running "e-$phase-$p"; then
				d_die "e: the ping ended before the rotation did"
			fi
		done
		d_wait_gen $g 120
		for p in $peers; do
			if [ "$p" -gt "$me" ] &&
				! d_ping_check "e-$phase-$p" "e: leader killed in $phase, vm$me<->vm$p"; then
				lost=1 why="$why vm$me<->vm$p: $LAB_PING_WHY;"
				touch "$LAB_DIR/e-lost"
			fi
		done
	fi
	# Every ping has ended: only now may vm4 touch its qdisc.
	lab_barrier "e-$phase-pinged"
	if [ "$me" != 1 ]; then
		# where each member's kernel dropped packets, if a ping lost one
		echo "e: $phase: vm$me xfrm_stat moved:$(d_xstat_diff "e-$phase")"
		[ -f "$LAB_DIR/e-lost" ] && d_drops_show "vm$me e-$phase"
	fi
	[ -z "$lost" ] || d_die "e: leader killed in $phase:$why"
	# Grace is held by --grace 6s: no need to slow vm4 down for it.
	[ "$me" = 4 ] && [ "$phase" = commit ] && tc qdisc del dev eth0 root
done
lab_barrier e-done

# ---- f. removal of vm4 ----
if [ "$me" = 2 ]; then
	lab_xfrm_stat XfrmInTmplMismatch >/tmp/tmpl.0
fi
lab_barrier f-ready
if [ "$me" = 1 ]; then
	$KM remove vm4 || d_die "remove vm4 failed"
	d_wait_km "\"generations\":\[{\"generation\":5,\"phase\":\"committed\"}\]" 60
	echo "f: vm4 removed; a rotation to generation 5 followed"
fi
if [ "$me" = 4 ]; then
	rc=0
	d_wait_exit /tmp/agent.pid || rc=$?
	[ "$rc" = 3 ] || d_die "f: vm4's agent exited $rc, not 3"
	[ "$(ip xfrm state | grep -c '^src')" = 0 ] || d_die "f: vm4 still holds SAs"
	[ "$(ip xfrm policy | grep -c 'dir out')" -gt 0 ] ||
		d_die "f: vm4 dropped its policies (it must fail closed)"
	echo "f: vm4's agent exited 3: its SAs deleted, its policies kept"
fi
lab_barrier f-removed
if [ "$me" = 2 ] || [ "$me" = 3 ]; then
	d_wait_gen 5
	d_wait_sync 2
	ip4=$(lab_ip_of 4)
	[ "$(ip xfrm state | grep -c "$ip4")" = 0 ] || d_die "f: vm$me holds vm4's SAs"
	[ "$(ip xfrm policy | grep -c "$ip4/32")" = 0 ] || d_die "f: vm$me holds vm4's policies"
	echo "f: vm$me holds nothing of vm4's; generation 5 alone"
fi
lab_barrier f-cleaned
if [ "$me" = 4 ]; then
	ping -c 3 -W 2 "$(vx_overlay_ip 2)" >/dev/null && d_die "f: removed vm4 reached vm2"
	# Even with its own policies gone, its cleartext is dropped at vm2.
	ip xfrm policy flush
	ping -c 3 -W 2 "$(vx_overlay_ip 2)" >/dev/null &&
		d_die "f: removed vm4 reached vm2 in cleartext"
	echo "f: removed vm4 cannot send into the overlay, even in cleartext"
	: >/tmp/agent.log
	rc=0
	d_agent_start 1
	d_wait_exit /tmp/agent.pid || rc=$?
	[ "$rc" = 3 ] && grep -q "removed" /tmp/agent.log ||
		d_die "f: removed vm4's agent was not refused (exit $rc)"
	echo "f: vm4's agent is refused when it comes back: $(grep -m 1 removed /tmp/agent.log)"
fi
lab_barrier f-tried
if [ "$me" = 2 ]; then
	t1=$(lab_xfrm_stat XfrmInTmplMismatch)
	echo "f: vm2 XfrmInTmplMismatch $(cat /tmp/tmpl.0) -> $t1"
	[ "$t1" -gt "$(cat /tmp/tmpl.0)" ] || d_die "f: vm2 saw no dropped cleartext from vm4"
	ping -c 3 -W 2 "$(vx_overlay_ip 4)" >/dev/null && d_die "f: vm2 still reaches removed vm4"
	ping -c 3 -W 5 "$(vx_overlay_ip 3)" >/dev/null || d_die "f: vm2 -> vm3 broken"
	echo "f: vm2 reaches vm3 and not removed vm4"
fi
lab_barrier done
[ "$me" = 1 ] && $KM status
exit 0
