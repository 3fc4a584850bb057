#!/bin/sh
# SPDX-License-Identifier: MIT
# Host-side check of the nat scenario. vm5 (10.0.9.15, behind vm4's
# masquerade) reaches its peers over ESP in UDP, port 4500, only: on the
# router's two NICs (vm4.pcap outside, vm4.eth1.pcap inside) and on vm5's
# wire, no bare ESP and no cleartext VXLAN; on vm2's and vm3's, their own
# pair is plain ESP and vm5's traffic (at the router's address) is UDP
# 4500 only. No packet of 10.0.9.0/24 reaches the outside. The peers
# followed vm5's mapping to another port (step d2).
set -eu
. "$(dirname "$0")/../../pcap.sh"
dir=$1
pub=192.168.77.14 inside=10.0.9.0/24
count() { pcap_count "$dir/$1.pcap" "$2"; }
fail() {
	echo "FAIL: $*"
	exit 1
}

# The outside members' own pair: ESP; no cleartext VXLAN anywhere.
pcap_esp_only "$dir" -o "vm1 vm2 vm3" -n vm1
# Through the NAT: ESP in UDP, no cleartext VXLAN.
pcap_esp_only "$dir" -o "vm2 vm3 vm4 vm4.eth1 vm5" -e espinudp
for vm in vm2 vm3; do
	esp=$(count $vm "ip proto 50 and host $pub")
	udp=$(count $vm "udp port 4500 and not host $pub")
	echo "$vm.pcap: $esp bare ESP packets to or from the router's $pub, $udp ESP-in-UDP packets with anyone else"
	[ "$esp" = 0 ] || fail "$vm: bare ESP with vm5 (the router's address)"
	[ "$udp" = 0 ] || fail "$vm: ESP in UDP outside vm5's pairs"
done
for vm in vm4 vm4.eth1 vm5; do
	esp=$(count $vm "ip proto 50")
	other=$(count $vm "udp and not port 4500")
	probes=$(count $vm "udp port 4500 and udp[4:2] >= 12 and udp[8:4] = 0")
	ka=$(count $vm "udp port 4500 and udp[4:2] = 9 and udp[8] = 0xff")
	echo "$vm.pcap: $esp bare ESP packets, $other other UDP packets; of its udp/4500: $probes NAT probes (non-ESP marker), $ka keepalives (0xff)"
	[ "$esp" = 0 ] || fail "$vm: bare ESP through the NAT"
	[ "$other" = 0 ] || fail "$vm: UDP other than port 4500 through the NAT"
done
# The masquerade: nothing of the inside network outside; vm5's session to
# the leader came from the router's address.
for vm in vm1 vm2 vm3 vm4; do
	n=$(count $vm "net $inside")
	echo "$vm.pcap: $n packets of $inside"
	[ "$n" = 0 ] || fail "$vm: the inside network $inside leaked outside"
done
n=$(count vm1 "tcp port 7120 and host $pub")
echo "vm1.pcap: $n packets of vm5's session to the leader, from the router's $pub"
[ "$n" -gt 0 ] || fail "vm1: no session from $pub"
# The ports the mappings used (the flush of step d may have moved one).
ports=$(tcpdump -nn -r "$dir/vm4.pcap" "udp and src host $pub" 2>/dev/null |
	sed -n "s/.* $pub\.\([0-9]*\) > .*/\1/p" | sort | uniq -c | awk '{ printf "%s%s (%d)", sep, $2, $1; sep = ", " }')
echo "vm4.pcap: vm5's udp/4500 left the router from port(s) $ports"
# Step d2 moved the mapping: the peers followed it (their traffic to it is
# counted on their own wires).
for vm in vm2 vm3; do
	n=$(count $vm "udp and dst host $pub and not dst port 4500")
	echo "$vm.pcap: $n packets to vm5 at a port its NAT chose (not 4500)"
	[ "$n" -gt 0 ] || fail "$vm never sent to vm5's moved mapping"
done
