#!/bin/sh
# SPDX-License-Identifier: MIT
# Issue 16, a highly available leader on etcd, on the wire: etcd on vm1,
# vxsec-keymgr instance a on vm2 and b on vm3 (store = etcd), agents on
# vm4-vm6 with `-L a,b` (the lists of docs/operations.md).
#  a. etcd up (one member, its data on a tmpfs: 2 x 64 MB of WAL at once);
#     a starts with an empty state directory, creates the cluster and seeds
#     etcd; its state.key goes to b through the share; b stands by; the
#     agents join a, the overlay pings on every pair (pcaps: ESP only)
#  b. pings asked at 100/s on every pair (the count sized from the rate a
#     probe reached, to last ~75 s), a rotation started on a, and vm2
#     powered off once a's status says commit or grace (every prepare
#     acked, generation g not retired; grace 4 s): a
#     sysrq power-off, no shutdown, no FIN or RST. b must lead with a
#     newer term, the rotation must end (one generation, newer, on every
#     agent) and no ping may lose a packet.
#     lab.sh boots vm2 again at once (a power cycle, lab_power_cycle): its
#     kernel is back within seconds; its keymgr starts only once b has
#     ended the rotation.
#  c. a, started again with the cluster's state.key, stands by; b still
#     leads with the same term; the agents stay with b.
# Times are taken from mark files created on the share (mark): their
# mtimes are the host's clock, the same for every VM; check.sh prints the
# figures (takeover, agents on b, rotation).
#
# What agents wait for after the power-off: nothing tells them that a's
# host is gone (no FIN, no RST; neither daemon starts a Ping, each only
# answers one). Their session to a ends when TCP does: the keepalive probe
# after 30 s idle, answered with a RST by vm2's new kernel, or unanswered
# (3 x 10 s more) if vm2 stayed down; an agent with an unacknowledged ack
# in flight waits for TCP's retransmissions instead. "agents on b" in the
# figures is that time, not the takeover's.
set -eu
. "$LAB_SRC/tests/lab/lib.sh"
. "$LAB_SRC/tests/lab/vxsec.sh"
. "$LAB_SRC/tests/lab/daemons.sh"
LAB_BARRIER_TIMEOUT=150
lab_modprobe
ETCD=$(lab_ip_of 1):2379
A=$(lab_ip_of 2):7120 B=$(lab_ip_of 3):7120
KM="$LAB_SRC/build/vxsec-keymgr -c /dev/null -d /tmp/km -s /tmp/km.sock"
KM_FLAGS="--store etcd --etcd-endpoints $ETCD --grace 4s --ack-deadline 90s"
members="4 5 6"
peers=$(for p in $members; do [ "$p" = "$me" ] || printf "%s " "$p"; done)
sas=4 # 2 peers x (in + out) of one generation

# mark NAME: a new file on the share; its mtime is the host's clock.
mark() {
	rm -f "$LAB_DIR/mark.$1"
	date +%T.%3N >"$LAB_DIR/mark.$1"
}
km_json() { $KM status --json 2>/dev/null; }
km_has() { km_json | grep -q "$1"; }
# km_wait PATTERN SECONDS WHAT: this VM's keymgr status matches.
km_wait() {
	end=$(($(date +%s) + $2))
	until km_has "$1"; do
		[ "$(date +%s)" -lt "$end" ] || d_die "$3: status never matched $1"
		sleep 0.2
	done
}
km_term() { km_json | grep -o '"term":[0-9]*' | head -n 1 | cut -d: -f2; }
# km_start NAME: this VM's instance, with the state key on the share if
# its state directory has none yet (a's first start creates it).
km_start() {
	rm -rf /tmp/km /tmp/km.sock
	mkdir -m 700 /tmp/km
	if [ -f "$LAB_DIR/state.key" ]; then
		cp "$LAB_DIR/state.key" /tmp/km/state.key
		chmod 600 /tmp/km/state.key
	fi
	d_spawn /tmp/km.log /tmp/km.pid $KM -l "$(lab_ip_of "$me"):7120" \
		$KM_FLAGS --instance "$1" run
}
ag_on_b() { # connected to b, with b's term, the kernel in sync
	s=$($AG status --json 2>/dev/null) || return 1
	echo "$s" | grep -q "\"leader\":\"$B\"" &&
		echo "$s" | grep -q '"session":"connected"' &&
		echo "$s" | grep -q "\"term\":$(cat "$LAB_DIR/term.b")[,}]" &&
		echo "$s" | grep -q '"in_sync":true'
}
rate_pings() { # one ping per pair, from its lower index: both directions
	for p in $peers; do
		[ "$p" -gt "$me" ] && d_ping_start "$1-$p" "$p" "$2"
	done
	return 0
}

# ---- boot 2 of vm2: a comes back (c) ----
if [ "$me" = 2 ] && [ "$LAB_BOOT" != 1 ]; then
	mark a-up
	echo "c: vm2 booted again ($(cat "$LAB_DIR/mark.a-up") guest time); a waits for b's rotation"
	end=$(($(date +%s) + 150))
	until [ -f "$LAB_DIR/mark.rotated" ]; do
		[ "$(date +%s)" -lt "$end" ] || d_die "c: b never ended the rotation"
		sleep 0.2
	done
	km_start a
	km_wait '"role":"standby"' 30 "c: a back"
	mark a-standby
	sleep 3 # a campaigns: it must still stand by
	km_has '"role":"standby"' || d_die "c: a, back, does not stand by"
	km_has '"election":"standby"' || d_die "c: a's election is not standby"
	echo "c: a is back and stands by: $(km_json)"
	lab_barrier b-rotated
	lab_barrier b-pinged
	lab_barrier b-done
	lab_barrier done
	km_has '"role":"standby"' || d_die "c: a left standby"
	echo "c: a's log since vm2 came back:"
	cat /tmp/km.log
	exit 0
fi

# ---- a. etcd, a seeds it, b stands by, agents join ----
if [ "$me" = 1 ]; then
	mkdir -p /tmp/etcd
	mount -t tmpfs -o size=180m tmpfs /tmp/etcd
	d_spawn /tmp/etcd.log /tmp/etcd.pid etcd --name e \
		--data-dir /tmp/etcd/data \
		--listen-client-urls "http://$ETCD,http://127.0.0.1:2379" \
		--advertise-client-urls "http://$ETCD" \
		--listen-peer-urls http://127.0.0.1:2380 \
		--initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster e=http://127.0.0.1:2380
	# etcd's own /health over curl: etcdctl is a second large Go
	# program, slow to load over 9p and to dial (2 s) on a loaded host.
	t0=$(date +%s)
	end=$((t0 + 90))
	until curl -fsS --max-time 10 http://127.0.0.1:2379/health 2>/dev/null |
		grep -q '"health":"true"'; do
		[ "$(date +%s)" -lt "$end" ] || d_die "a: etcd not healthy in 90 s"
		sleep 0.2
	done
	echo "a: etcd $(etcd --version | head -n 1 | cut -d' ' -f3) healthy on $ETCD, $(($(date +%s) - t0)) s after its start"
fi
lab_barrier etcd
if [ "$me" = 2 ]; then
	rm -f "$LAB_DIR/state.key"
	km_start a
	km_wait '"role":"leader"' 30 "a: a"
	grep -q "seeding it from /tmp/km" /tmp/km.log || d_die "a: a did not seed etcd"
	$KM token show >"$LAB_DIR/token"
	cp /tmp/km/state.key "$LAB_DIR/state.key"
	km_term >"$LAB_DIR/term.a"
	echo "a: a created the cluster, seeded etcd, leads with term $(cat "$LAB_DIR/term.a")"
fi
lab_barrier a-leads
if [ "$me" = 3 ]; then
	km_start b
	km_wait '"role":"standby"' 30 "a: b"
	$KM rotate >/tmp/rotate.out 2>&1 && d_die "a: the standby b accepted rotate"
	echo "a: b stands by and refuses commands: $(cat /tmp/rotate.out)"
	! ss -ltn | grep -q ":7120 " || d_die "a: the standby b listens"
fi
lab_barrier b-standby
if [ "$me" -ge 4 ]; then
	t0=$(date +%s)
	d_spawn /tmp/agent.log /tmp/agent.pid $AG -L "$A,$B" \
		-a "$(lab_ip_of "$me")" -n "vm$me" -t "$LAB_DIR/token" \
		-d /tmp/agent --vxlan --underlay-cidr "$LAB_NET.0/24" \
		--resync-interval 2s run
	d_wait_sync $sas 90
	d_overlay_up
	$AG status --json | grep -q "\"leader\":\"$A\"" || d_die "a: vm$me is not on a"
	echo "a: vm$me joined a and is in sync in $(($(date +%s) - t0)) s"
fi
lab_barrier joined
if [ "$me" -ge 4 ]; then
	for p in $peers; do
		ping -c 3 -i 0.2 -W 5 "$(vx_overlay_ip "$p")" >/dev/null ||
			d_die "a: overlay ping vm$me -> vm$p got no reply"
	done
	echo "a: vm$me pinged every peer over the overlay"
	# the rate this guest reaches now, to size b's rounds
	rate_pings probe 200
	for p in $peers; do
		[ "$p" -gt "$me" ] && d_ping_end "probe-$p" "a: rate probe vm$me<->vm$p"
	done
fi
lab_barrier converged

# ---- b. a powered off in the middle of a rotation ----
if [ "$me" -ge 4 ]; then
	d_xstat_mark b
	d_drops_start
	rate= # the slowest of this VM's probes
	for p in $peers; do
		[ "$p" -gt "$me" ] || continue
		lab_ping_account "/tmp/ping.probe-$p" 200 x |
			sed -n 's/.*(\([0-9]*\)\/s reached).*/\1/p'
	done >/tmp/rates
	rate=$(sort -n /tmp/rates | head -n 1)
	count=$((${rate:-50} * 75))
	[ "$count" -ge 2000 ] || count=2000
	[ "$count" -le 7500 ] || count=7500
	[ -n "$rate" ] && echo "b: vm$me: the probe reached $rate/s: $count pings per pair, asked at 100/s"
	rate_pings b "$count"
fi
lab_barrier b-pinging
if [ "$me" = 2 ]; then
	g=$(km_json | grep -o '"transmit_generation":[0-9]*' | cut -d: -f2)
	echo "$g" >"$LAB_DIR/gen.before"
	sleep 2
	mark rotate
	# rotate answers once etcd holds the request: the prepare may be acked
	# by then, so the phase is watched while it waits
	$KM rotate >/tmp/rotate.out 2>&1 &
	# Past the prepare (every agent acked it): commit, or grace when the
	# commit's acks came back between two polls (a status takes ~0.2 s in
	# a loaded guest); either way before generation g retires.
	end=$(($(date +%s) + 60))
	until s=$(km_json) &&
		ph=$(echo "$s" | grep -o "\"rotation\":{\"phase\":\"[a-z]*\",\"target\":$((g + 1))" | cut -d'"' -f6) &&
		{ [ "$ph" = commit ] || [ "$ph" = grace ]; }; do
		echo "$s" | grep -q "\"generations\":\[{\"generation\":$((g + 1)),\"phase\":\"committed\"}\]" &&
			d_die "b: the rotation ended unseen: $s"
		[ "$(date +%s)" -lt "$end" ] || d_die "b: the prepare was not acked in 60 s: $s"
		sleep 0.05
	done
	mark a-off
	echo "$ph" >"$LAB_DIR/phase.off"
	echo "b: generation $((g + 1)) prepared and acked; vm2 powered off in $ph: $s"
	echo "b: a's log until then (guest clock):"
	cat /tmp/km.log
	lab_power_cycle
fi
if [ "$me" = 3 ]; then
	# b may lead only after a's power-off
	end=$(($(date +%s) + 150))
	until km_has '"role":"leader"'; do
		[ "$(date +%s)" -lt "$end" ] || d_die "b: b never took over"
		sleep 0.1
	done
	mark b-leads
	[ -f "$LAB_DIR/mark.a-off" ] || d_die "b: b leads while a runs"
	km_term >"$LAB_DIR/term.b"
	ta=$(cat "$LAB_DIR/term.a") tb=$(cat "$LAB_DIR/term.b")
	[ "$tb" -gt "$ta" ] || d_die "b: b leads with term $tb, not newer than a's $ta"
	echo "b: b leads with term $tb (a had $ta)"
	g=$(cat "$LAB_DIR/gen.before")
	km_wait "\"generations\":\[{\"generation\":$((g + 1)),\"phase\":\"committed\"}\]" 150 "b: b's rotation"
	mark rotated
	echo "b: b ended the rotation: generation $((g + 1)) alone: $(km_json)"
fi
if [ "$me" -ge 4 ]; then
	end=$(($(date +%s) + 150))
	until [ -f "$LAB_DIR/term.b" ] && ag_on_b; do
		[ "$(date +%s)" -lt "$end" ] || d_die "b: vm$me never reached b"
		sleep 0.2
	done
	mark "on-b.vm$me"
	echo "b: vm$me is on b (term $(cat "$LAB_DIR/term.b")), in sync"
	echo "b: vm$me's log about a and b:"
	grep -E "leader |$A|$B" /tmp/agent.log | tail -n 8
	g=$(cat "$LAB_DIR/gen.before")
	d_wait_gen $((g + 1)) 150
	for p in $peers; do
		if [ "$p" -gt "$me" ] && ! d_ping_running "b-$p"; then
			d_die "b: the ping to vm$p ended before the rotation did"
		fi
	done
	echo "b: vm$me holds generation $((g + 1)) alone, committed"
	$AG status
fi
lab_barrier b-rotated
if [ "$me" -ge 4 ]; then
	lost=
	for p in $peers; do
		if [ "$p" -gt "$me" ] && ! d_ping_check "b-$p" "b: a powered off in a rotation, vm$me<->vm$p"; then
			lost="$lost vm$me<->vm$p: $LAB_PING_WHY;"
			touch "$LAB_DIR/b-lost"
		fi
	done
fi
lab_barrier b-pinged
if [ "$me" -ge 4 ]; then
	# where each member's kernel dropped packets, if a ping lost one
	echo "b: vm$me xfrm_stat moved:$(d_xstat_diff b)"
	[ -f "$LAB_DIR/b-lost" ] && d_drops_show "vm$me b"
	[ -z "$lost" ] || d_die "b:$lost"
fi
lab_barrier b-done

# ---- c. a stands by, b still leads ----
if [ "$me" = 3 ]; then
	km_has '"role":"leader"' || d_die "c: b no longer leads"
	[ "$(km_term)" = "$(cat "$LAB_DIR/term.b")" ] || d_die "c: b's term changed"
	echo "c: b still leads with term $(km_term)"
	$KM status
fi
if [ "$me" -ge 4 ]; then
	ag_on_b || d_die "c: vm$me left b"
	for p in $peers; do
		ping -c 3 -i 0.2 -W 5 "$(vx_overlay_ip "$p")" >/dev/null ||
			d_die "c: overlay ping vm$me -> vm$p got no reply"
	done
	echo "c: vm$me is still on b; the overlay pings"
fi
if [ "$me" = 1 ]; then
	echo "c: etcd holds: $(etcdctl --endpoints 127.0.0.1:2379 get --prefix /vxsec/ --keys-only | grep . | tr '\n' ' ')"
	echo "c: the leader key names: $(etcdctl --endpoints 127.0.0.1:2379 get /vxsec/leader --print-value-only | tr -cd '[:print:]')"
fi
lab_barrier done
if [ "$me" = 3 ]; then
	echo "c: b's log (guest clock):"
	cat /tmp/km.log
fi
exit 0
