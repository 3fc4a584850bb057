#!/bin/sh
# SPDX-License-Identifier: MIT
# Host-side check of the overlay scenario: the members' underlay carries ESP,
# and the only cleartext VXLAN on any wire is the injection of step g (vm2
# with its policies flushed, and the stranger vm1; their VXLAN devices
# flood it to the members), which no member ever answered in cleartext.
set -eu
dir=$1
inject='src 192.168.77.11 or src 192.168.77.12'
for pcap in "$dir"/vm*.pcap; do
	vm=$(basename "$pcap" .pcap)
	esp=$(tcpdump -nn -r "$pcap" esp 2>/dev/null | wc -l)
	clear=$(tcpdump -nn -r "$pcap" "udp port 4789 and not ($inject)" 2>/dev/null | wc -l)
	injected=$(tcpdump -nn -r "$pcap" "udp port 4789 and ($inject)" 2>/dev/null | wc -l)
	echo "$vm.pcap: $esp ESP packets, $clear cleartext udp/4789 packets (besides $injected injected by vm1/vm2)"
	[ "$vm" = vm1 ] || [ "$esp" -gt 0 ] || { echo "FAIL: no ESP in $pcap"; exit 1; }
	[ "$clear" -eq 0 ] || { echo "FAIL: cleartext VXLAN in $pcap"; exit 1; }
done
# The injections really crossed the wire, from both sources.
for src in 192.168.77.11 192.168.77.12; do
	n=$(tcpdump -nn -r "$dir/vm3.pcap" "udp port 4789 and src $src" 2>/dev/null | wc -l)
	echo "vm3.pcap: $n cleartext VXLAN packets injected from $src"
	[ "$n" -gt 0 ] || { echo "FAIL: no injected packet from $src reached vm3"; exit 1; }
done
