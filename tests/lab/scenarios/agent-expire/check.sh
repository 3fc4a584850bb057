#!/bin/sh
# SPDX-License-Identifier: MIT
# Host-side check of the agent scenario: every underlay pcap holds ESP and no cleartext VXLAN.
set -eu
dir=$1
for pcap in "$dir"/vm*.pcap; do
	esp=$(tcpdump -nn -r "$pcap" esp 2>/dev/null | wc -l)
	clear=$(tcpdump -nn -r "$pcap" 'udp port 4789' 2>/dev/null | wc -l)
	echo "$(basename "$pcap"): $esp ESP packets, $clear cleartext udp/4789 packets"
	[ "$esp" -gt 0 ] || { echo "FAIL: no ESP in $pcap"; exit 1; }
	[ "$clear" -eq 0 ] || { echo "FAIL: cleartext VXLAN in $pcap"; exit 1; }
done
