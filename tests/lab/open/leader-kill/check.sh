#!/bin/sh
# SPDX-License-Identifier: MIT
# Host-side check of the overlay-faults scenario: the members' underlay
# carries ESP, and the only cleartext VXLAN on any wire is what the removed
# vm4 sent with its policies flushed (step f), which nobody answered.
set -eu
dir=$1
inject='src 192.168.77.14'
for pcap in "$dir"/vm*.pcap; do
	vm=$(basename "$pcap" .pcap)
	esp=$(tcpdump -nn -r "$pcap" esp 2>/dev/null | wc -l)
	clear=$(tcpdump -nn -r "$pcap" "udp port 4789 and not ($inject)" 2>/dev/null | wc -l)
	injected=$(tcpdump -nn -r "$pcap" "udp port 4789 and ($inject)" 2>/dev/null | wc -l)
	echo "$vm.pcap: $esp ESP packets, $clear cleartext udp/4789 packets (besides $injected from the removed vm4)"
	[ "$vm" = vm1 ] || [ "$esp" -gt 0 ] || { echo "FAIL: no ESP in $pcap"; exit 1; }
	[ "$clear" -eq 0 ] || { echo "FAIL: cleartext VXLAN in $pcap"; exit 1; }
done
n=$(tcpdump -nn -r "$dir/vm2.pcap" "udp port 4789 and $inject" 2>/dev/null | wc -l)
[ "$n" -gt 0 ] || { echo "FAIL: the removed vm4's cleartext never reached vm2"; exit 1; }
