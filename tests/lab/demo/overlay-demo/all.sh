#!/bin/sh
# SPDX-License-Identifier: MIT
# The demo (make demo) in the lab: vxsec-keymgr on vm1, vxsec-agent --vxlan on every VM; status, pings, a rotation, a clean stop.
# Written to be read: vm1 narrates (a. to g.), each VM prints what it did;
# tests/demo/demo.sh streams these logs to the terminal as they grow.
set -eu
. "$LAB_SRC/tests/lab/lib.sh"
. "$LAB_SRC/tests/lab/vxsec.sh"
lab_modprobe
me=$LAB_INDEX
KM="$LAB_SRC/build/vxsec-keymgr -d /tmp/km -s /tmp/km.sock"
AG="$LAB_SRC/build/vxsec-agent -s /tmp/agent.sock"
PORT=7120
nodes=$(seq 1 "$LAB_VMS" | tr '\n' ' ')
peers=$(for p in $nodes; do if [ "$p" != "$me" ]; then printf '%s ' "$p"; fi; done)
sas=$((2 * (LAB_VMS - 1))) # in + out, per peer, one generation

# step TEXT: vm1's narration. The pause lets the host print what the other
# VMs wrote before it (it reads the logs every half second, vm1's first).
step() {
	sleep 0.7
	echo
	echo "$*"
}

# fail MESSAGE: this VM's status and daemon logs, then the failure.
fail() {
	[ -S /tmp/agent.sock ] && { $AG status || true; }
	[ -f /tmp/agent.log ] && tail -n 30 /tmp/agent.log
	[ -S /tmp/km.sock ] && { $KM status || true; }
	[ -f /tmp/km.log ] && tail -n 30 /tmp/km.log
	save_logs
	lab_fail "$*"
}

save_logs() {
	[ -f /tmp/agent.log ] && cp /tmp/agent.log "$LAB_DIR/vm$me.agent.log"
	[ -f /tmp/km.log ] && cp /tmp/km.log "$LAB_DIR/vm$me.keymgr.log"
	return 0
}

# json FIELD: the first number or word FIELD has in the agent's status --json.
json() {
	$AG status --json 2>/dev/null | grep -o "\"$1\":[a-z0-9]*" |
		head -n 1 | cut -d: -f2
}

# wait_sync GEN: in sync, generation GEN committed and alone, all SAs there.
wait_sync() {
	want="\"generations\":\[{\"generation\":$1,\"phase\":\"committed\"}\]"
	end=$(($(date +%s) + 90))
	until [ "$(json in_sync)" = true ] && [ "$(json sas)" = "$sas" ] &&
		$AG status --json 2>/dev/null | grep -q "$want"; do
		[ "$(date +%s)" -lt "$end" ] ||
			fail "the agent is not in sync on generation $1 with $sas SAs"
		sleep 0.2
	done
}

# in_turn NAME: VMs print NAME one after another (vm1, vm2, ...), so the
# streamed logs read in order. turn_done NAME lets the next one go.
in_turn() {
	prev=$((me - 1))
	[ "$prev" -ge 1 ] || return 0
	n=600
	until [ -f "$LAB_DIR/turn.$1.vm$prev" ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || fail "vm$prev never finished $1"
		sleep 0.1
	done
}
turn_done() { touch "$LAB_DIR/turn.$1.vm$me"; }

status_in_turn() {
	in_turn "$1"
	echo "\$ vxsec-agent status      (on vm$me)"
	$AG status
	turn_done "$1"
}

pings_in_turn() {
	in_turn "$1"
	for p in $peers; do
		ip=$(vx_overlay_ip "$p")
		out=$(ping -c 3 -i 0.2 -W 5 "$ip") ||
			fail "overlay ping vm$me -> vm$p ($ip) got no reply"
		echo "vm$me -> vm$p $ip: $(echo "$out" | grep 'packets transmitted')"
	done
	turn_done "$1"
}

# ---- a. the leader ----
if [ "$me" = 1 ]; then
	step "a. The leader (vm1, $(lab_ip_of 1)): 'vxsec-keymgr init' creates the cluster (its CA, key generation 1, a join token), 'run' serves agents on port $PORT."
	$KM init | sed -n 's/^join token: //p' >"$LAB_DIR/token"
	[ -s "$LAB_DIR/token" ] || fail "vxsec-keymgr init gave no join token"
	echo "\$ vxsec-keymgr init: new cluster in /tmp/km; join token handed to the nodes"
	$KM -l "$(lab_ip_of 1):$PORT" --grace 2s run >/tmp/km.log 2>&1 &
	echo $! >/tmp/km.pid
	n=100
	until $KM status >/dev/null 2>&1; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || fail "the leader did not start"
		sleep 0.2
	done
	echo "\$ vxsec-keymgr status"
	$KM status
	step "b. The agents (vm1-vm$LAB_VMS): 'vxsec-agent --vxlan' joins with the token, installs one SA per direction and peer plus fail-closed policies, and creates vxsec0."
fi
lab_barrier leader

# ---- b. the agents join ----
t0=$(date +%s)
$AG -L "$(lab_ip_of 1):$PORT" -a "$(lab_ip_of "$me")" -n "vm$me" \
	-t "$LAB_DIR/token" -d /tmp/agent --vxlan --vni 77 --resync-interval 5s \
	run >/tmp/agent.log 2>&1 &
echo $! >/tmp/agent.pid
wait_sync 1
ip addr add "$(vx_overlay_ip "$me")/24" dev vxsec0
mtu=$(cat /sys/class/net/vxsec0/mtu)
echo "vm$me joined, in sync in $(($(date +%s) - t0)) s: $sas SAs; vxsec0 $(vx_overlay_ip "$me")/24, MTU $mtu (underlay 1500 minus ESP and VXLAN)"
lab_barrier joined

# ---- c. status ----
if [ "$me" = 1 ]; then
	step "c. Status: the leader's members, then what each agent has programmed (SPIs, packets per SA)."
	echo "\$ vxsec-keymgr nodes"
	$KM nodes
fi
status_in_turn status1
lab_barrier status1

# ---- d. pings ----
[ "$me" = 1 ] && step "d. Pings over the overlay (vxsec0, 10.77.0.0/24): every node to every other; on the wire they are ESP."
lab_barrier pings1-announced
pings_in_turn pings1
lab_barrier pinged1

# ---- e. rotation ----
if [ "$me" = 1 ]; then
	step "e. A rotation: 'vxsec-keymgr rotate'. Prepare (every node installs generation 2), commit (senders switch), grace, retire generation 1."
	t0=$(date +%s%N)
	echo "\$ vxsec-keymgr rotate"
	$KM rotate
	n=600
	until $KM status --json | grep -q '"generations":\[{"generation":2,"phase":"committed"}\]' &&
		$KM status --json | grep -q '"phase":"idle"'; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || fail "the rotation to generation 2 did not finish"
		sleep 0.1
	done
	echo "rotation to generation 2 done in $((($(date +%s%N) - t0) / 1000000)) ms (2 s of it is the grace period)"
	echo "\$ vxsec-keymgr status"
	$KM status
fi
lab_barrier rotated
wait_sync 2
lab_barrier synced2

# ---- f. status and pings on generation 2 ----
if [ "$me" = 1 ]; then
	step "f. After the rotation: every agent holds generation 2 alone (new SPIs 0x03......), and the overlay still answers."
fi
status_in_turn status2
lab_barrier status2
pings_in_turn pings2
lab_barrier pinged2

# ---- g. teardown ----
if [ "$me" = 1 ]; then
	step "g. Teardown: each agent stops on SIGTERM (exit 0) and leaves the kernel as it is (a restart adopts it); the demo then deletes vxsec0 and the SAs and policies itself, and the leader stops."
fi
in_turn stop
kill -TERM "$(cat /tmp/agent.pid)"
rc=0
wait "$(cat /tmp/agent.pid)" || rc=$?
[ "$rc" = 0 ] || fail "the agent exited with $rc on SIGTERM"
ip link del vxsec0
ip xfrm state deleteall reqid 30328
ip xfrm policy flush
echo "vm$me: agent stopped (exit 0); vxsec0 deleted; $(ip xfrm state | grep -c '^src' || true) SAs, $(ip xfrm policy | grep -c '^src' || true) policies left"
turn_done stop
lab_barrier agents-stopped
if [ "$me" = 1 ]; then
	kill -TERM "$(cat /tmp/km.pid)"
	rc=0
	wait "$(cat /tmp/km.pid)" || rc=$?
	[ "$rc" = 0 ] || fail "the leader exited with $rc on SIGTERM"
	rm -f "$LAB_DIR/token"
	echo "vm1: leader stopped (exit 0); the VMs power off"
fi
save_logs
exit 0
