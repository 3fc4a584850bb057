#!/bin/sh
# SPDX-License-Identifier: MIT
# Issue 18, a node behind NAT (docs/nat.md, "The router in the lab"): two
# switches (the `nets` file). Outside (192.168.77.0/24): vxsec-keymgr on
# vm1 (not a member), agents on vm2 and vm3, vm4's eth0. Inside
# (10.0.9.0/24): vm4's eth1 and vm5's agent, its default route via vm4.
# vm4 is the router: IP forwarding, an nftables masquerade of 10.0.9.0/24
# out of eth0, and a forward filter that lets in only what conntrack
# knows (a home router).
#  a. join: the leader's `nodes --json` has vm5 behind NAT with the
#     router's outside address as its public address, vm2 and vm3 not;
#     vm5's agent says it is behind NAT, its peers show it; every pair's
#     SAs on the addresses the pair uses (vm5's public address at vm2/vm3)
#  b. overlay pings in every direction: vm2<->vm3 over ESP, vm2<->vm5 and
#     vm3<->vm5 over ESP in UDP through the NAT
#  c. a rotation under pings on every pair (asked at 100/s): 0 lost
#  d. the router's conntrack flushed (its NAT mappings forgotten) under
#     pings on every pair: the pairs of vm5 recover by themselves; the
#     longest gap between replies is printed and must stay below
#     nat_keepalive (10 s here) + 10 s; vm2<->vm3 loses nothing
#  d2. the same, with the peers' packets reaching the router before vm5's
#     (vm5's held there 1 s): its mappings get another port, which the
#     peers follow (probes, mapping events)
#  e. `ip xfrm state`: the SAs of vm5's pairs carry `encap espinudp` with
#     port 4500 on this node's side (and on vm5, on both), at vm2 and vm3
#     vm5's port the router's mapping; those of vm2<->vm3 none
# check.sh: vm5's traffic is UDP 4500 only on every wire (no bare ESP, no
# cleartext VXLAN), nothing of 10.0.9.0/24 outside.
set -eu
. "$LAB_SRC/tests/lab/lib.sh"
. "$LAB_SRC/tests/lab/vxsec.sh"
. "$LAB_SRC/tests/lab/daemons.sh"
. "$LAB_SRC/tests/lab/overlay-steps.sh"
lab_modprobe

OV_MEMBERS="2 3 5"
OV_GRACE=1s
ROUTER=4 INSIDE=5
IN_NET=10.0.9
NAT_PORT=4500
NAT_KEEPALIVE=10 # the agents' nat_keepalive here (default 20), s: the
                 # outage after a NAT forgets is bounded by it
PINGS=6000       # per pair and round, asked at 100/s; stopped after the event
in_ip() { echo "$IN_NET.$((10 + $1))"; }
PUBLIC=$(lab_ip_of $ROUTER) # what the masquerade makes of vm5's address

# vm5 announces its inside address; the others their usual one.
d_addrs() {
	if [ "$1" = $INSIDE ]; then in_ip "$1"; else lab_ip_of "$1"; fi
}
# ov_sa_ip N P V: at a node outside, vm5's pairs' SAs name its public
# address (docs/nat.md, "What each pair uses"); at vm5, its own.
ov_sa_ip() {
	if [ "$1" = $INSIDE ] && [ "$3" != $INSIDE ]; then echo "$PUBLIC"; else ov_pair_ip "$1" "$2"; fi
}

# ---- the topology ----
case $me in
$ROUTER)
	for m in nf_tables nf_conntrack nf_nat nft_chain_nat nft_masq nft_ct nf_conntrack_netlink; do
		modprobe "$m" || d_die "modprobe $m failed"
	done
	ip addr add "$(in_ip $ROUTER)/24" dev eth1
	sysctl -qw net.ipv4.ip_forward=1
	nft -f - <<NFT || d_die "nft refused the router's rules"
table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr $IN_NET.0/24 oifname "eth0" masquerade
	}
}
table ip filter {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "eth1" oifname "eth0" accept
	}
}
NFT
	echo "router: forwarding eth1 ($IN_NET.0/24) -> eth0, masquerade as $PUBLIC"
	;;
$INSIDE)
	ip addr flush dev eth0
	ip addr add "$(in_ip $INSIDE)/24" dev eth0
	ip route add default via "$(in_ip $ROUTER)"
	;;
esac
lab_barrier topology
if [ "$me" = $INSIDE ]; then
	ping -c 1 -W 10 "$(lab_ip_of 1)" >/dev/null ||
		d_die "vm$me cannot reach the leader's $(lab_ip_of 1) through the router"
	echo "topology: vm$me ($(in_ip $INSIDE)) reaches $(lab_ip_of 1) through the router"
fi
lab_barrier routed

# ---- a. join: who is behind NAT ----
ov_join --nat-keepalive ${NAT_KEEPALIVE}s
if [ "$me" = 1 ]; then
	$KM nodes
	nodes=$($KM nodes --json)
	for n in $OV_MEMBERS; do
		if [ "$n" = $INSIDE ]; then want="\"nat\":true,\"public_address\":\"$PUBLIC\""; else want='"nat":false,"public_address":null'; fi
		echo "$nodes" | grep -q "\"id\":\"vm$n\"[^}]*$want" ||
			d_die "a: the leader does not list vm$n with $want"
		echo "a: the leader lists vm$n with $want"
	done
fi
if ov_member; then
	if [ "$me" = $INSIDE ]; then
		$AG status | grep -q "^behind NAT, public address $PUBLIC\$" ||
			d_die "a: vm$me's status does not say it is behind NAT at $PUBLIC"
		[ "$(d_json nat)" = true ] || d_die "a: vm$me's status --json has no \"nat\":true"
		echo "a: vm$me's agent: behind NAT, public address $PUBLIC"
	else
		$AG status | grep -q "behind NAT, public address $PUBLIC" ||
			d_die "a: vm$me's status does not show its peer vm$INSIDE behind NAT"
		[ "$(d_json nat)" = false ] || d_die "a: vm$me's status --json has not \"nat\":false"
		echo "a: vm$me's agent: not behind NAT, its peer vm$INSIDE behind NAT at $PUBLIC"
	fi
fi
lab_barrier a-done

# ---- b. pings in every direction ----
ov_ping_peers b
ov_member && $AG status
lab_barrier b-done

# ---- c. a rotation under traffic ----
ov_rate_pings c $PINGS
lab_barrier c-pinging
ov_rotate 2
lab_barrier c-rotated
ov_hold_gen 2
lab_barrier c-held
ov_rate_running c "c: a rotation"
ov_rate_stop c
ov_rate_end c "c: a rotation,"
lab_barrier c-done

# ---- d. the router forgets its mappings under traffic ----

# nat_mappings: the router's conntrack entries of vm5's udp/4500, one line
# each: the peer and the port vm5's traffic leaves with.
nat_mappings() {
	conntrack -L -p udp --orig-src "$(in_ip $INSIDE)" --sport $NAT_PORT 2>/dev/null |
		awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "=")
			if (kv[1] == "dst" && !d) d = kv[2]
			if (kv[1] == "dport") dp = kv[2] }
			print d ":" dp; d = ""; dp = "" }' | sort
}

# nat_gap FILE: the longest time between two replies in a ping -D output,
# and when it began (ping's clock, s).
nat_gap() {
	awk '/ bytes from .* icmp_seq=/ && $1 ~ /^\[/ {
		t = substr($1, 2, length($1) - 2) + 0
		if (last && t - last > gap) { gap = t - last; at = last }
		last = t
	} END { printf "%.3f %.3f\n", gap, at }' "$1"
}

# nat_live FILE SINCE: ping's last reply came after SINCE and less than
# 0.5 s ago: the pair carries traffic now.
nat_live() {
	awk -v s="$2" -v now="$(date +%s.%N)" '
		/ bytes from .* icmp_seq=/ && $1 ~ /^\[/ { t = substr($1, 2, length($1) - 2) + 0 }
		END { exit !(t > s + 0 && now - t < 0.5) }' "$1"
}

# nat_flush NAME HOW: a round of pings on every pair (NAME), and in the
# middle of it the router forgets vm5's mappings. HOW:
#  flush          conntrack -F: vm5's next packet to each peer makes its
#                 mapping again (port 4500 kept, unless a peer's packet
#                 came first, as below)
#  outside-first  vm5's traffic held at the router (a drop rule in its
#                 forward chain) during the flush and 1 s after, so that
#                 the peers' packets reach the router first: conntrack
#                 takes them for traffic to the router itself, and when
#                 vm5's traffic passes again the masquerade cannot keep
#                 port 4500 for it: the peers must follow a new port (the
#                 agents' probes and mapping events)
# Then every ping must carry traffic again within nat_keepalive + 10 s;
# the longest gap between replies is printed (on vm2<->vm3 too, which the
# NAT does not carry: the guests' own pauses) and must stay below
# nat_keepalive + 10 s; vm2<->vm3 loses nothing.
nat_flush() {
	LAB_PING_DEADLINE=no # ping -w would end at the outage's first error
	ov_rate_pings "$1" $PINGS
	for p in $(ov_peers); do # a failure shows their last lines too
		[ "$p" -gt "$me" ] && D_LOGS="$D_LOGS /tmp/ping.$1-$p"
	done
	lab_barrier "$1-pinging"
	if [ "$me" = $ROUTER ]; then
		sleep 2
		before=$(nat_mappings | tr '\n' ' ')
		[ -n "$before" ] || d_die "$1: the router holds no mapping of vm$INSIDE"
		if [ "$2" = outside-first ]; then
			nft insert rule ip filter forward iifname eth1 drop
			h=$(nft -a list chain ip filter forward |
				sed -n 's/.*iifname "eth1" drop # handle \([0-9]*\).*/\1/p')
			[ -n "$h" ] || d_die "$1: no handle for the drop rule"
		fi
		t0=$(date +%s%N)
		conntrack -F 2>/dev/null || d_die "$1: conntrack -F failed"
		echo "$1: $(date +%T.%3N) the router's conntrack flushed; vm$INSIDE's mappings before: $before"
		if [ "$2" = outside-first ]; then
			sleep 1
			n=$(conntrack -L -p udp --dst "$PUBLIC" --sport $NAT_PORT 2>/dev/null | grep -c UNREPLIED || true)
			nft delete rule ip filter forward handle "$h"
			echo "$1: $(date +%T.%3N) vm$INSIDE's traffic passes again; $n flows from the peers' port $NAT_PORT to the router itself came first"
			[ "$n" -gt 0 ] || d_die "$1: no outside packet reached the router first"
		fi
		end=$(($(date +%s) + NAT_KEEPALIVE + 10))
		until [ "$(nat_mappings | wc -l)" -ge 2 ]; do
			[ "$(date +%s)" -lt "$end" ] || d_die "$1: vm$INSIDE's mappings did not come back"
			sleep 0.05
		done
		nat_mappings >"$LAB_DIR/mappings"
		echo "$1: $(date +%T.%3N) vm$INSIDE's mappings seen again (polling conntrack -L) $((($(date +%s%N) - t0) / 1000000)) ms after the flush: $(nat_mappings | tr '\n' ' ')"
	fi
	lab_barrier "$1-flushed"
	flushed=$(date +%s.%N)
	if ov_member; then
		end=$(($(date +%s) + NAT_KEEPALIVE + 10))
		for p in $(ov_peers); do
			[ "$p" -gt "$me" ] || continue
			until nat_live "/tmp/ping.$1-$p" "$flushed"; do
				[ "$(date +%s)" -lt "$end" ] ||
					d_die "$1: vm$me -> vm$p: no traffic $((NAT_KEEPALIVE + 10)) s after the flush"
				sleep 0.2
			done
		done
	fi
	lab_barrier "$1-recovered"
	ov_rate_running "$1" "$1: the flush"
	ov_rate_stop "$1"
	ov_member || { lab_barrier "$1-done"; return 0; }
	for p in $(ov_peers); do
		[ "$p" -gt "$me" ] || continue
		if [ "$me" != $INSIDE ] && [ "$p" != $INSIDE ]; then
			d_ping_end "$1-$p" "$1: $2, vm$me<->vm$p (no NAT),"
			how="no NAT"
		else
			rc=0
			d_ping_check "$1-$p" "$1: $2, vm$me<->vm$p (through the NAT)," || rc=$?
			[ $rc -le 1 ] || d_die "$1: vm$me<->vm$p: $LAB_PING_WHY"
			how="through the NAT"
		fi
		set -- "$1" "$2" $(nat_gap "/tmp/ping.$1-$p")
		echo "$1: $2, vm$me<->vm$p ($how): the longest gap between replies $3 s, from $(date -d "@$4" +%T.%3N)"
		awk -v g="$3" -v max=$((NAT_KEEPALIVE + 10)) 'BEGIN { exit !(g < max) }' ||
			d_die "$1: vm$me<->vm$p: $3 s without a reply, not below $((NAT_KEEPALIVE + 10)) s"
	done
	lab_barrier "$1-done"
}

nat_flush d flush
nat_flush d2 outside-first

# ---- e. the SAs: ESP in UDP exactly on vm5's pairs ----

# nat_encap SRC DST: the encap of the SA SRC -> DST: "espinudp SPORT
# DPORT", or "none".
nat_encap() {
	ip xfrm state list src "$1" dst "$2" | awk '
		/^src/ { n++ } /encap type/ { t = $3; s = $5; d = $7 }
		END { if (n != 1) print "count " n + 0; else if (t) print t, s, d; else print "none" }'
}

if ov_member; then
	for p in $(ov_peers); do
		a=$(ov_sa_ip "$me" "$p" "$me") b=$(ov_sa_ip "$p" "$me" "$me")
		out=$(nat_encap "$a" "$b") in=$(nat_encap "$b" "$a")
		echo "e: vm$me -> vm$p ($a -> $b): $out; back: $in"
		if [ "$me" != $INSIDE ] && [ "$p" != $INSIDE ]; then
			[ "$out" = none ] && [ "$in" = none ] ||
				d_die "e: vm$me<->vm$p is not plain ESP"
			continue
		fi
		set -- $out $in
		[ "$1" = espinudp ] && [ "$4" = espinudp ] ||
			d_die "e: vm$me<->vm$p is not ESP in UDP"
		# Our side is port 4500: the out SA's source, the in SA's destination.
		[ "$2" = $NAT_PORT ] && [ "$6" = $NAT_PORT ] ||
			d_die "e: vm$me<->vm$p: this node's port is not $NAT_PORT"
		# vm5's peers listen on 4500 (they are not behind NAT); vm5's
		# port at its peers is the router's last mapping (step d2 moved it).
		if [ "$me" = $INSIDE ]; then
			want=$NAT_PORT
		else
			want=$(sed -n "s/^$(lab_ip_of "$me"):\([0-9]*\)\$/\1/p" "$LAB_DIR/mappings")
		fi
		[ "$3" = "$want" ] && [ "$5" = "$want" ] ||
			d_die "e: vm$me<->vm$p: the peer's port is $3 and $5, not $want"
	done
	$AG metrics | grep "^vxsec_agent_nat"
fi
lab_barrier done
exit 0
