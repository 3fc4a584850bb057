#!/bin/sh
# SPDX-License-Identifier: MIT
# Host-side check of the overlay-v6 scenario: the members' underlay carries
# ESP over IPv6 and over IPv4, no ESP packet is larger than the underlay's
# 1500 bytes and the largest is exactly that (the DF pings at vxsec0's MTU,
# step a), nothing is fragmented, and the only cleartext VXLAN on any wire
# is the injection of step g (member vm2 with its policies flushed, the
# stranger vm1), which reached its targets and which no member answered.
set -eu
. "$(dirname "$0")/../../pcap.sh"
dir=$1
inject='src fd00::11 or src fd00::12 or src 192.168.77.11 or src 192.168.77.12'
count() { pcap_count "$@"; }
fail() {
	echo "FAIL: $*"
	exit 1
}

# esp_max PCAP FILTER: the largest Ethernet frame of FILTER's ESP packets.
esp_max() {
	tcpdump -e -nn -r "$1" "$2" 2>/dev/null |
		sed -n 's/.*ethertype [^,]*, length \([0-9]*\):.*/\1/p' | sort -n | tail -n 1
}

pcap_esp_only "$dir" -n vm1 -x "$inject" -l 'injected by vm1/vm2'
# Every member's wire carried ESP over both families.
for vm in 2 3 4; do
	esp6=$(count "$dir/vm$vm.pcap" 'ip6 proto 50') esp4=$(count "$dir/vm$vm.pcap" 'ip proto 50')
	echo "vm$vm.pcap: $esp6 ESP packets over IPv6, $esp4 over IPv4"
	[ "$esp6" -gt 0 ] || fail "no ESP over IPv6 in vm$vm.pcap"
	[ "$esp4" -gt 0 ] || fail "no ESP over IPv4 in vm$vm.pcap"
done
for vm in 2 3 4; do
	pcap=$dir/vm$vm.pcap
	m6=$(esp_max "$pcap" 'ip6 proto 50') m4=$(esp_max "$pcap" 'ip proto 50')
	frag=$(count "$pcap" '(ip and ip[6:2] & 0x3fff != 0) or ip6 proto 44')
	echo "vm$vm.pcap: largest ESP frame $m6 bytes over IPv6, $m4 over IPv4 (IP packets of $((m6 - 14)) and $((m4 - 14))); $frag fragments"
	[ "$m6" = 1514 ] && [ "$m4" = 1514 ] ||
		fail "vm$vm: the largest ESP packets are not the underlay's 1500 bytes"
	[ "$frag" = 0 ] || fail "vm$vm: fragments on the wire"
done
# The injections really crossed the wire.
for x in 3:fd00::12 3:fd00::11 4:192.168.77.12 4:192.168.77.11; do
	n=$(count "$dir/vm${x%%:*}.pcap" "udp port 4789 and src ${x#*:}")
	echo "vm${x%%:*}.pcap: $n cleartext VXLAN packets injected from ${x#*:}"
	[ "$n" -gt 0 ] || fail "no injected packet from ${x#*:} reached vm${x%%:*}"
done
