#!/bin/sh
# SPDX-License-Identifier: MIT
# Host-side check of the demo: every VM's underlay carried ESP and not one cleartext VXLAN packet.
set -eu
dir=$1
for pcap in "$dir"/vm*.pcap; do
	name=$(basename "$pcap" .pcap)
	all=$(tcpdump -nn -r "$pcap" 2>/dev/null | wc -l)
	esp=$(tcpdump -nn -r "$pcap" esp 2>/dev/null | wc -l)
	tls=$(tcpdump -nn -r "$pcap" 'tcp port 7120' 2>/dev/null | wc -l)
	clear=$(tcpdump -nn -r "$pcap" 'udp port 4789' 2>/dev/null | wc -l)
	echo "$name underlay: $all packets: $esp ESP, $tls TLS to the leader (tcp/7120), $clear cleartext VXLAN (udp/4789)"
	[ "$clear" -eq 0 ] || { echo "FAIL: cleartext VXLAN in $pcap"; exit 1; }
	[ "$esp" -gt 0 ] || { echo "FAIL: no ESP in $pcap"; exit 1; }
done
echo "the wire: ESP only; no cleartext VXLAN crossed the underlay"
