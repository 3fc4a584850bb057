#!/bin/sh
# SPDX-License-Identifier: MIT
# Issue 7, the encrypted overlay with the real daemons: vxsec-keymgr on vm1
# (not a member), vxsec-agent --vxlan on vm2-vm4.
#  a. join and converge: overlay pings in every direction (pcaps: ESP only);
#     the SAs carry the default lifetimes (soft 2^40 bytes, nothing hard)
#  b. every member's periodic static key change (static_key_lifetime 1m),
#     then 3 rotations back to back under pings on every pair (asked at
#     100/s, accounted for by tests/lab/ping.sh): 0 lost, the old SAs gone
#     after each retire; the first rotation takes the new keys into use
#     (every peer and the leader show them), and the old private keys are
#     wiped when the last generation that used them retires
#  c. an agent killed with -9 and started again under traffic: 0 lost, its
#     SAs untouched (none re-added with a used key); then SAs deleted behind
#     an agent's back: their keys are not installed again, the node gets a
#     new incarnation (fresh keys) and traffic resumes
#  g. cleartext VXLAN from a member and from a non-member: dropped
#  h. least privilege: no node holds a key of a pair it is not in; and
#     the leader is blind: no key any kernel holds is in its memory
set -eu
. "$LAB_SRC/tests/lab/lib.sh"
. "$LAB_SRC/tests/lab/vxsec.sh"
. "$LAB_SRC/tests/lab/daemons.sh"
lab_modprobe
members="2 3 4"
peers=$(for p in $members; do [ "$p" = "$me" ] || printf "%s " "$p"; done)
sas=4 # 2 peers x (in + out) of one generation
rate_pings() { # one ping per pair, from its lower index: both directions
	for p in $peers; do
		[ "$p" -gt "$me" ] && d_ping_start "$1-$p" "$p" "$2"
	done
	return 0
}
rate_end() {
	for p in $peers; do
		[ "$p" -gt "$me" ] && d_ping_end "$1-$p" "$2 vm$me<->vm$p"
	done
	return 0
}

# ---- a. join and converge ----
if [ "$me" = 1 ]; then
	d_leader_init
	d_leader_start --grace 2s
fi
lab_barrier leader
if [ "$me" != 1 ]; then
	t0=$(date +%s)
	d_agent_start 1 --static-key-lifetime 1m
	d_wait_sync $sas 90
	d_overlay_up
	echo "a: vm$me joined and in sync in $(($(date +%s) - t0)) s"
	mtu=$(cat /sys/class/net/vxsec0/mtu)
	[ "$mtu" = 1416 ] || d_die "a: vxsec0 MTU $mtu, not 1416 (underlay 1500)"
	# The default lifetimes: a soft byte limit (2^40), no hard limit of
	# any kind, no time limit (docs/design.md): no leader outage ends an SA.
	for l in "limit: soft 1099511627776(bytes), hard (INF)(bytes)" \
		"limit: soft (INF)(packets), hard (INF)(packets)" \
		"expire add: soft 0(sec), hard 0(sec)" \
		"expire use: soft 0(sec), hard 0(sec)"; do
		n=$(ip -s xfrm state | grep -c -F "$l")
		[ "$n" = $sas ] || d_die "a: $n of $sas SAs have \"$l\""
	done
	echo "a: vm$me's $sas SAs: soft limit 2^40 bytes, no hard limit, no time limit"
fi
lab_barrier joined
if [ "$me" != 1 ]; then
	for p in $peers; do
		ping -c 3 -i 0.2 -W 5 "$(vx_overlay_ip "$p")" >/dev/null ||
			d_die "a: overlay ping vm$me -> vm$p got no reply"
	done
	echo "a: vm$me pinged every peer over the overlay"
	$AG status
fi
lab_barrier converged

# ---- b. the periodic static key change, three rotations under traffic ----
# Nothing rotated yet: each member's first key is bound (every generation),
# and a minute after it was made (checked every 15 s) comes a new one,
# which waits unbound for the leader's next generation.
if [ "$me" != 1 ]; then
	used=$(d_jstr static_key_in_use)
	end=$(($(date +%s) + 120))
	until [ "$(d_json static_key_bound)" = false ]; do
		[ "$(date +%s)" -lt "$end" ] ||
			d_die "b: no new static key within 120 s (lifetime 1m)"
		sleep 1
	done
	new=$(d_jstr static_key)
	[ -n "$new" ] && [ "$new" != "$used" ] ||
		d_die "b: the new static key '$new' is the one in use '$used'"
	echo "$new" >"$LAB_DIR/key.vm$me"
	echo "b: vm$me made its periodic new static key $new (in use: $used)"
fi
lab_barrier b-new-keys
[ "$me" != 1 ] && rate_pings b 3000 # 30 s if the guest reached 100/s
lab_barrier b-pinging
if [ "$me" = 1 ]; then
	sleep 1
	for g in 2 3 4; do
		t0=$(date +%s%N)
		$KM rotate >/dev/null || d_die "rotate refused"
		d_wait_km "\"generations\":\[{\"generation\":$g,\"phase\":\"committed\"}\]" 60
		echo "b: rotation to generation $g done in $((($(date +%s%N) - t0) / 1000000)) ms"
	done
	for p in $members; do
		k=$(cat "$LAB_DIR/key.vm$p")
		$KM nodes --json | grep -q -F "\"key\":\"$k\"" ||
			d_die "b: the leader does not list vm$p's new key $k"
	done
	echo "b: the leader lists every member's new key"
fi
lab_barrier b-rotated
if [ "$me" != 1 ]; then
	for p in $peers; do
		if [ "$p" -gt "$me" ] && ! d_ping_running "b-$p"; then
			d_die "b: the ping ended before the rotations did"
		fi
	done
	d_wait_gen 4
	d_wait_sync $sas
	n=$(ip xfrm state | grep -c "^src")
	[ "$n" = $sas ] || d_die "b: $n SAs after the last retire, not $sas"
	echo "b: vm$me holds generation 4 alone: $n SAs"
	new=$(cat "$LAB_DIR/key.vm$me")
	[ "$(d_jstr static_key_in_use)" = "$new" ] ||
		d_die "b: generation 4 does not use vm$me's new key $new"
	grep -q "old static key wiped: generation 1" /tmp/agent.log ||
		d_die "b: the old static key was not wiped with generation 1"
	for p in $peers; do
		k=$(cat "$LAB_DIR/key.vm$p")
		$AG status --json | grep -q -F "\"static_key\":\"$k\"" ||
			d_die "b: vm$me does not show vm$p's new key $k"
	done
	echo "b: vm$me and its peers use their new keys; its old key is wiped"
	rate_end b "b: 3 rotations,"
fi
lab_barrier b-done

# ---- c. agent kill -9 and restart under traffic ----
[ "$me" != 1 ] && rate_pings c 1500
lab_barrier c-pinging
if [ "$me" = 3 ]; then
	before=$(d_sas)
	changes=$(grep -c "kernel at revision" /tmp/agent.log)
	kill -9 "$(cat /tmp/agent.pid)"
	echo "c: vm3's agent killed with -9"
	sleep 2
	d_agent_start 1 --static-key-lifetime 1m
	d_wait_sync $sas
	[ "$(d_sas)" = "$before" ] || d_die "c: the restarted agent changed the SAs"
	[ "$(grep -c "kernel at revision" /tmp/agent.log)" = "$changes" ] ||
		d_die "c: the restarted agent changed the kernel"
	echo "c: vm3's agent restarted: the kernel's SAs adopted unchanged"
fi
lab_barrier c-restarted
[ "$me" != 1 ] && rate_end c "c: agent restart,"
lab_barrier c-done
if [ "$me" = 2 ]; then
	before=$(d_sas)
	ip xfrm state deleteall src "$(lab_ip_of 2)" dst "$(lab_ip_of 3)"
	echo "c: the SAs vm2 -> vm3 deleted behind vm2's agent"
	end=$(($(date +%s) + 30))
	until grep -q "asking the leader for fresh keys" /tmp/agent.log; do
		[ "$(date +%s)" -lt "$end" ] || d_die "c: the agent did not notice"
		sleep 0.2
	done
	d_wait_sync $sas
	[ "$(d_sas)" != "$before" ] || d_die "c: the same keys came back"
	echo "c: vm2 got a new incarnation: fresh keys for its pairs"
fi
lab_barrier c-relearned
if [ "$me" != 1 ]; then
	d_wait_sync $sas
	for p in $peers; do
		ping -c 2 -W 5 "$(vx_overlay_ip "$p")" >/dev/null ||
			d_die "c: overlay vm$me -> vm$p broken after vm2's new keys"
	done
fi
lab_barrier c-resumed

# ---- g. cleartext VXLAN injection ----
tmpl() { lab_xfrm_stat XfrmInTmplMismatch; }
[ "$me" = 3 ] && tmpl >/tmp/tmpl.0
lab_barrier g-ready
if [ "$me" = 2 ]; then # a member drops its own policies (the catch-all too)
	kill -STOP "$(cat /tmp/agent.pid)"
	ip xfrm policy flush
	if ping -c 3 -i 0.3 -W 2 "$(vx_overlay_ip 3)" >/dev/null; then
		d_die "g: cleartext VXLAN from member vm2 was accepted by vm3"
	fi
	echo "g: member vm2 sent cleartext VXLAN to vm3: no reply"
	kill -CONT "$(cat /tmp/agent.pid)"
	$AG sync || d_die "g: the agent did not restore the policies"
	d_wait_sync $sas
fi
lab_barrier g-member
[ "$me" = 3 ] && tmpl >/tmp/tmpl.1
lab_barrier g-member-counted
if [ "$me" = 1 ]; then # a stranger with a VXLAN device of the same VNI
	ip link add vx0 type vxlan id 4242 dstport 4789 local "$(lab_ip_of 1)" nolearning
	bridge fdb append 00:00:00:00:00:00 dev vx0 dst "$(lab_ip_of 3)"
	ip addr add "$(vx_overlay_ip 1)/24" dev vx0
	ip link set vx0 up
	if ping -c 3 -i 0.3 -W 2 "$(vx_overlay_ip 3)" >/dev/null; then
		d_die "g: cleartext VXLAN from non-member vm1 was accepted by vm3"
	fi
	echo "g: non-member vm1 sent cleartext VXLAN to vm3: no reply"
	ip link del vx0
fi
lab_barrier g-stranger
if [ "$me" = 3 ]; then
	t0=$(cat /tmp/tmpl.0) t1=$(cat /tmp/tmpl.1) t2=$(tmpl)
	echo "g: vm3 XfrmInTmplMismatch $t0 -> $t1 (member) -> $t2 (stranger)"
	[ "$t1" -gt "$t0" ] || d_die "g: vm3 saw no dropped cleartext from vm2"
	[ "$t2" -gt "$t1" ] || d_die "g: vm3 saw no dropped cleartext from vm1"
fi
if [ "$me" != 1 ]; then
	for p in $peers; do
		ping -c 2 -W 5 "$(vx_overlay_ip "$p")" >/dev/null ||
			d_die "g: the overlay vm$me -> vm$p is broken after the injections"
	done
fi
lab_barrier g-done

# ---- h. least privilege ----
if [ "$me" != 1 ]; then
	ip xfrm state | awk '/^src/ { s = $2; d = $4 } /proto esp spi/ { spi = $4 }
		/aead/ { print s, d, spi, $3 }' >"$LAB_DIR/keys.vm$me"
	[ -s "$LAB_DIR/keys.vm$me" ] || d_die "h: no keys read"
fi
lab_barrier h-dumped
if [ "$me" = 1 ]; then
	for n in $members; do
		while read -r s d spi key; do
			ip_n=$(lab_ip_of "$n")
			[ "$s" = "$ip_n" ] || [ "$d" = "$ip_n" ] ||
				d_die "h: vm$n holds the key of $s -> $d, a pair it is not in"
			holders=$(grep -l " $key\$" "$LAB_DIR"/keys.vm* | sed 's/.*keys\.//' | tr '\n' ' ')
			for h in $holders; do
				ip_h=$(lab_ip_of "${h#vm}")
				[ "$ip_h" = "$s" ] || [ "$ip_h" = "$d" ] ||
					d_die "h: $h holds the key of $s -> $d"
			done
			[ "$(echo $holders | wc -w)" = 2 ] ||
				d_die "h: the key of $s -> $d spi $spi is held by: $holders"
		done <"$LAB_DIR/keys.vm$n"
	done
	echo "h: $(cat "$LAB_DIR"/keys.vm* | wc -l) SAs checked: each key is held by exactly the two nodes of its pair"
	# The AES key (the first 32 of the 36 bytes), and the whole.
	keys=$(cut -d' ' -f4 "$LAB_DIR"/keys.vm* | sort -u)
	aes=$(for k in $keys; do echo "${k%????????}"; done)
	"$LAB_SRC/build/tests/memscan" --self-test >/dev/null ||
		d_die "h: memscan cannot find a string it put in its own heap"
	"$LAB_SRC/build/tests/memscan" "$(cat /tmp/km.pid)" $keys $aes ||
		d_die "h: the leader's memory holds a key of the agents' SAs"
	echo "h: the leader's memory holds none of the $(echo $keys | wc -w) keys in the kernels"
	$KM status
fi
lab_barrier done
exit 0
