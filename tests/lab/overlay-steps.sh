# SPDX-License-Identifier: MIT
# The steps of the overlay scenarios on any underlay (overlay: IPv4; overlay-v6: IPv6-only, then dual-stack): join, pings, DF pings at the MTU, rotations and an agent's kill -9 under traffic, cleartext injection, least privilege.
#
# Sourced inside a VM after lib.sh, vxsec.sh and daemons.sh. vm1 runs the
# leader (not a member), OV_MEMBERS the agents. Every VM calls every step:
# a step's barriers are inside it, named with OV_TAG in front, so that one
# boot can run the steps once per underlay. The underlay is what d_addrs
# and d_leader_addr (daemons.sh) say; a pair uses the first of a node's
# addresses whose family the other node has (docs/agent.md), and
# ov_pair_ip says which, from the scenario's own list.

OV_MEMBERS="2 3 4"
OV_TAG=
OV_SAS=4 # 2 peers x (in + out) of one generation
OV_GRACE=2s # the leader's --grace
OV_MEMSCAN=yes # ov_least_privilege scans the leader's memory

ov_member() {
	case " $OV_MEMBERS " in *" $me "*) return 0 ;; esac
	return 1
}
ov_peers() {
	for p in $OV_MEMBERS; do [ "$p" = "$me" ] || printf '%s ' "$p"; done
}
ov_barrier() { lab_barrier "$OV_TAG$1"; }

# ov_family ADDRESS: 4 or 6.
ov_family() {
	case "$1" in
	*:*) echo 6 ;;
	*) echo 4 ;;
	esac
}

# ov_pair_ip N P: N's address in the pair N-P: the first of d_addrs N whose
# family P has too.
ov_pair_ip() {
	for a in $(d_addrs "$1"); do
		for b in $(d_addrs "$2"); do
			[ "$(ov_family "$a")" = "$(ov_family "$b")" ] || continue
			echo "$a"
			return 0
		done
	done
	d_die "vm$1 and vm$2 have no address family in common"
}

# ov_sa_ip N P V: the address of node N in the SAs of the pair N-P as node
# V holds them: ov_pair_ip N P. A scenario with NAT redefines it (nat: a
# node behind NAT is its public address at its peers).
ov_sa_ip() { ov_pair_ip "$1" "$2"; }

# ov_has_addr N ADDRESS: ADDRESS is one of node N's.
ov_has_addr() {
	for a in $(d_addrs "$1"); do [ "$a" = "$2" ] && return 0; done
	return 1
}

# ov_wait_dad: no address of this VM is tentative any more (IPv6 duplicate
# address detection): until then the kernel does not send from it.
ov_wait_dad() {
	end=$(($(date +%s) + 20))
	while ip -6 addr show tentative | grep -q inet6; do
		[ "$(date +%s)" -lt "$end" ] || d_die "IPv6 address still tentative"
		sleep 0.1
	done
}

# ---- a. join and converge ----

# ov_join FLAGS...: the leader creates the cluster and serves; each member
# joins with FLAGS and syncs. Its vxsec0 has the MTU its first address's
# family allows on a 1500-byte underlay (agent/overlay.c: 1416 over IPv4,
# 1396 over IPv6), its SAs the default lifetimes, and each pair's SAs the
# pair's addresses.
ov_join() {
	if [ "$me" = 1 ]; then
		d_leader_init
		d_leader_start --grace "$OV_GRACE"
	fi
	ov_barrier leader
	if ov_member; then
		t0=$(date +%s)
		d_agent_start 1 "$@"
		d_wait_sync $OV_SAS 90
		d_overlay_up
		echo "a: vm$me joined and in sync in $(($(date +%s) - t0)) s"
		ov_check_mtu
		ov_check_lifetimes
		ov_check_pairs
	fi
	ov_barrier joined
}

ov_check_mtu() {
	set -- $(d_addrs "$me")
	want=1416
	[ "$(ov_family "$1")" = 6 ] && want=1396
	mtu=$(cat /sys/class/net/vxsec0/mtu)
	[ "$mtu" = $want ] ||
		d_die "a: vxsec0 MTU $mtu, not $want (IPv$(ov_family "$1") underlay of 1500)"
}

# The default lifetimes: a soft byte limit (2^40), no hard limit of any
# kind, no time limit (docs/design.md): no leader outage ends an SA.
ov_check_lifetimes() {
	for l in "limit: soft 1099511627776(bytes), hard (INF)(bytes)" \
		"limit: soft (INF)(packets), hard (INF)(packets)" \
		"expire add: soft 0(sec), hard 0(sec)" \
		"expire use: soft 0(sec), hard 0(sec)"; do
		n=$(ip -s xfrm state | grep -c -F "$l")
		[ "$n" = $OV_SAS ] || d_die "a: $n of $OV_SAS SAs have \"$l\""
	done
	echo "a: vm$me's $OV_SAS SAs: soft limit 2^40 bytes, no hard limit, no time limit"
}

# Each pair's SAs, one each way, between the addresses the pair uses.
ov_check_pairs() {
	for p in $(ov_peers); do
		a=$(ov_sa_ip "$me" "$p" "$me") b=$(ov_sa_ip "$p" "$me" "$me")
		n=$(ip xfrm state list src "$a" dst "$b" | grep -c "^src")
		m=$(ip xfrm state list src "$b" dst "$a" | grep -c "^src")
		[ "$n" = 1 ] && [ "$m" = 1 ] ||
			d_die "a: vm$me<->vm$p: $n SAs $a -> $b and $m back, not 1 and 1"
		echo "a: vm$me<->vm$p over IPv$(ov_family "$a"): SAs $a <-> $b"
	done
}

# ov_ping_peers LABEL: each member pings every peer over the overlay.
ov_ping_peers() {
	ov_member || return 0
	for p in $(ov_peers); do
		ping -c 3 -i 0.2 -W 5 "$(vx_overlay_ip "$p")" >/dev/null ||
			d_die "$1: overlay ping vm$me -> vm$p got no reply"
	done
	echo "$1: vm$me pinged every peer over the overlay"
}

# ov_mtu_df: from each member to every peer, through the device its route
# takes: the largest ping with DF set (the device's MTU less 28 bytes of
# IPv4 and ICMP headers) is answered, one byte more is refused as too long
# (the host's check: tests/lab/scenarios/overlay-v6/check.sh sees the ESP
# packets on the wire: 1500 bytes at most, never a fragment).
ov_mtu_df() {
	ov_member || return 0
	for p in $(ov_peers); do
		ip=$(vx_overlay_ip "$p")
		dev=$(ip -o route get "$ip" | sed -n 's/.* dev \([^ ]*\).*/\1/p')
		mtu=$(cat "/sys/class/net/$dev/mtu")
		n=$((mtu - 28))
		ping -M do -c 2 -i 0.2 -W 5 -s $n "$ip" >/dev/null ||
			d_die "mtu: vm$me -> vm$p: a DF ping of $n bytes ($dev, MTU $mtu) got no reply"
		if out=$(ping -M do -c 1 -W 2 -s $((n + 1)) "$ip" 2>&1); then
			d_die "mtu: vm$me -> vm$p: a DF ping of $((n + 1)) bytes ($dev, MTU $mtu) was answered"
		fi
		echo "$out" | grep -q "message too long, mtu=$mtu" ||
			d_die "mtu: vm$me -> vm$p: $((n + 1)) bytes not refused as too long: $out"
		echo "mtu: vm$me -> vm$p through $dev (MTU $mtu, IPv$(ov_family "$(ov_pair_ip "$me" "$p")") underlay): DF ping of $n bytes answered, $((n + 1)) refused as too long"
	done
}

# ---- traffic: rotations, an agent's restart ----

# ov_rate_pings NAME COUNT: one ping per pair, from its lower index (both
# directions), COUNT asked at LAB_PING_RATE/s (tests/lab/ping.sh).
ov_rate_pings() {
	ov_member || return 0
	for p in $(ov_peers); do
		[ "$p" -gt "$me" ] && d_ping_start "$1-$p" "$p" "$2"
	done
	return 0
}

# ov_rate_running NAME LABEL: every such ping still runs (it covered the
# whole event).
ov_rate_running() {
	ov_member || return 0
	for p in $(ov_peers); do
		if [ "$p" -gt "$me" ] && ! d_ping_running "$1-$p"; then
			d_die "$2: the ping vm$me -> vm$p ended before the event did"
		fi
	done
	return 0
}

# ov_rate_stop NAME: each such ping stopped (lab_ping_stop), 1 s after the
# event it covered.
ov_rate_stop() {
	ov_member || return 0
	sleep 1
	for p in $(ov_peers); do
		[ "$p" -gt "$me" ] && lab_ping_stop "$1-$p"
	done
	return 0
}

# ov_rate_end NAME LABEL: each ping accounted for: 0 lost, enough sent.
ov_rate_end() {
	ov_member || return 0
	for p in $(ov_peers); do
		[ "$p" -gt "$me" ] && d_ping_end "$1-$p" "$2 vm$me<->vm$p"
	done
	return 0
}

# ov_rotate G...: on the leader, a rotation to each generation G in turn,
# the next one once G is committed and alone.
ov_rotate() {
	[ "$me" = 1 ] || return 0
	for g in "$@"; do
		t0=$(date +%s%N)
		$KM rotate >/dev/null || d_die "rotate refused"
		d_wait_km "\"generations\":\[{\"generation\":$g,\"phase\":\"committed\"}\]" 60
		echo "b: rotation to generation $g done in $((($(date +%s%N) - t0) / 1000000)) ms"
	done
}

# ov_hold_gen G: this member holds generation G alone: OV_SAS SAs.
ov_hold_gen() {
	ov_member || return 0
	d_wait_gen "$1"
	d_wait_sync $OV_SAS
	n=$(ip xfrm state | grep -c "^src")
	[ "$n" = $OV_SAS ] || d_die "b: $n SAs after the last retire, not $OV_SAS"
	echo "b: vm$me holds generation $1 alone: $n SAs"
}

# ov_kill_agent VM FLAGS...: VM's agent killed with -9 and started again
# with FLAGS: it adopts the kernel's SAs unchanged (none re-added).
ov_kill_agent() {
	[ "$me" = "$1" ] || return 0
	shift
	before=$(d_sas)
	changes=$(grep -c "kernel at revision" /tmp/agent.log)
	kill -9 "$(cat /tmp/agent.pid)"
	echo "c: vm$me's agent killed with -9"
	sleep 2
	d_agent_start 1 "$@"
	d_wait_sync $OV_SAS
	[ "$(d_sas)" = "$before" ] || d_die "c: the restarted agent changed the SAs"
	[ "$(grep -c "kernel at revision" /tmp/agent.log)" = "$changes" ] ||
		d_die "c: the restarted agent changed the kernel"
	echo "c: vm$me's agent restarted: the kernel's SAs adopted unchanged"
}

# ---- g. cleartext VXLAN injection ----

ov_tmpl() { lab_xfrm_stat XfrmInTmplMismatch; }

# ov_catchall_in FAMILY: this node's kernel holds an in policy for the
# VXLAN port from a prefix (not one address) of FAMILY: a catch-all.
ov_catchall_in() {
	ip xfrm policy list dir in | awk -v f="$1" -v port="$VX_PORT" '
		$1 == "src" && $0 ~ ("dport " port) {
			split($2, a, "/"); fam = a[1] ~ /:/ ? 6 : 4
			if (fam == f && a[2] < (fam == 6 ? 128 : 32)) found = 1
		}
		END { exit !found }'
}

# ov_inject FROM "TARGETS" STRANGER_TO: member vm FROM stops its agent,
# flushes its policies (the catch-all too) and pings each of TARGETS in
# cleartext VXLAN: no reply, and each target's XfrmInTmplMismatch rises.
# Then vm1, a stranger with a VXLAN device of the same VNI, sends to
# STRANGER_TO over the family of their pair. STRANGER_TO must hold a
# catch-all in policy for that family (the default covers 0.0.0.0/0 and
# ::/0, underlay_cidr narrows it): no reply, its XfrmInTmplMismatch rises.
ov_inject() {
	from=$1 targets=$2 sto=$3
	ov_tmpl >/tmp/tmpl.0
	ov_barrier g-ready
	if [ "$me" = "$from" ]; then
		kill -STOP "$(cat /tmp/agent.pid)"
		ip xfrm policy flush
		for t in $targets; do
			if ping -c 2 -i 0.3 -W 1 "$(vx_overlay_ip "$t")" >/dev/null; then
				d_die "g: cleartext VXLAN from member vm$me was accepted by vm$t"
			fi
			echo "g: member vm$me sent cleartext VXLAN to vm$t over IPv$(ov_family "$(ov_pair_ip "$me" "$t")"): no reply"
		done
		kill -CONT "$(cat /tmp/agent.pid)"
		$AG sync || d_die "g: the agent did not restore the policies"
		d_wait_sync $OV_SAS
	fi
	ov_barrier g-member
	ov_tmpl >/tmp/tmpl.1
	if [ "$me" = "$sto" ]; then
		f=$(ov_family "$(ov_pair_ip "$me" 1)")
		ov_catchall_in "$f" ||
			d_die "g: vm$me holds no IPv$f catch-all in policy (on by default)"
	fi
	ov_barrier g-member-counted
	if [ "$me" = 1 ]; then
		src=$(ov_pair_ip 1 "$sto") dst=$(ov_pair_ip "$sto" 1)
		ip link add vx0 type vxlan id 4242 dstport "$VX_PORT" local "$src" nolearning
		bridge fdb append 00:00:00:00:00:00 dev vx0 dst "$dst"
		ip addr add "$(vx_overlay_ip 1)/24" dev vx0
		ip link set vx0 up
		if ping -c 2 -i 0.3 -W 1 "$(vx_overlay_ip "$sto")" >/dev/null; then
			d_die "g: cleartext VXLAN from non-member vm1 was accepted by vm$sto"
		fi
		echo "g: non-member vm1 sent cleartext VXLAN to vm$sto ($src -> $dst): no reply"
		ip link del vx0
	fi
	ov_barrier g-stranger
	t0=$(cat /tmp/tmpl.0) t1=$(cat /tmp/tmpl.1)
	for t in $targets; do
		[ "$me" = "$t" ] || continue
		echo "g: vm$me XfrmInTmplMismatch $t0 -> $t1 (member vm$from)"
		[ "$t1" -gt "$t0" ] || d_die "g: vm$me saw no dropped cleartext from vm$from"
	done
	if [ "$me" = "$sto" ]; then
		t2=$(ov_tmpl)
		echo "g: vm$me XfrmInTmplMismatch $t1 -> $t2 (stranger vm1, IPv$f catch-all)"
		[ "$t2" -gt "$t1" ] || d_die "g: vm$me saw no dropped cleartext from vm1"
	fi
	ov_ping_peers g
	ov_barrier g-done
}

# ---- h. least privilege ----

# ov_least_privilege: every key any kernel holds is held by exactly the two
# nodes of its pair, and (OV_MEMSCAN=yes) none is in the leader's memory.
ov_least_privilege() {
	keys_of="$LAB_DIR/${OV_TAG}keys"
	if ov_member; then
		ip xfrm state | awk '/^src/ { s = $2; d = $4 } /proto esp spi/ { spi = $4 }
			/aead/ { print s, d, spi, $3 }' >"$keys_of.vm$me"
		[ -s "$keys_of.vm$me" ] || d_die "h: no keys read"
	fi
	ov_barrier h-dumped
	[ "$me" = 1 ] || return 0
	# One awk over every member's dump (a fork costs tens of ms in a
	# loaded TCG guest): addrs maps each node to its addresses.
	addrs=$(for n in $OV_MEMBERS; do printf 'vm%s=%s;' "$n" "$(d_addrs "$n" | tr ' ' ',')"; done)
	for n in $OV_MEMBERS; do echo "$keys_of.vm$n"; done | xargs awk -v addrs="$addrs" '
		BEGIN {
			n = split(addrs, nodes, ";")
			for (i = 1; i <= n; i++) {
				if (split(nodes[i], kv, "=") != 2) continue
				m = split(kv[2], a, ",")
				for (j = 1; j <= m; j++) has[kv[1], a[j]] = 1
			}
		}
		{
			vm = FILENAME; sub(/.*keys\./, "", vm)
			if (!has[vm, $1] && !has[vm, $2]) {
				printf "h: %s holds the key of %s -> %s, a pair it is not in\n", vm, $1, $2
				bad = 1
			}
			if (!((vm, $4) in held)) { held[vm, $4] = 1; holders[$4]++ }
			pair[$4] = $1 " -> " $2 " spi " $3
			lines++
		}
		END {
			for (k in holders) if (holders[k] != 2) {
				printf "h: the key of %s is held by %d nodes, not 2\n", pair[k], holders[k]
				bad = 1
			}
			if (!bad) printf "h: %d SAs checked: each key is held by exactly the two nodes of its pair\n", lines
			exit bad
		}' || d_die "h: a key is held outside its pair"
	[ "$OV_MEMSCAN" = yes ] || return 0
	# The AES key (the first 32 of the 36 bytes), and the whole.
	keys=$(cut -d' ' -f4 "$keys_of".vm* | sort -u)
	aes=$(for k in $keys; do echo "${k%????????}"; done)
	"$LAB_SRC/build/tests/memscan" --self-test >/dev/null ||
		d_die "h: memscan cannot find a string it put in its own heap"
	"$LAB_SRC/build/tests/memscan" "$(cat /tmp/km.pid)" $keys $aes ||
		d_die "h: the leader's memory holds a key of the agents' SAs"
	echo "h: the leader's memory holds none of the $(echo $keys | wc -w) keys in the kernels"
	$KM status
}
