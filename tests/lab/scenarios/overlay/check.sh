#!/bin/sh
# SPDX-License-Identifier: MIT
# Host-side check of the overlay scenario: the members' underlay carries ESP,
# and the only cleartext VXLAN on any wire is the injection of step g (vm2
# with its policies flushed, and the stranger vm1; their VXLAN devices
# flood it to the members), which no member ever answered in cleartext.
set -eu
. "$(dirname "$0")/../../pcap.sh"
dir=$1
pcap_esp_only "$dir" -n vm1 -x 'src 192.168.77.11 or src 192.168.77.12' -l 'injected by vm1/vm2'
# The injections really crossed the wire, from both sources.
for src in 192.168.77.11 192.168.77.12; do
	n=$(pcap_count "$dir/vm3.pcap" "udp port 4789 and src $src")
	echo "vm3.pcap: $n cleartext VXLAN packets injected from $src"
	[ "$n" -gt 0 ] || { echo "FAIL: no injected packet from $src reached vm3"; exit 1; }
done
