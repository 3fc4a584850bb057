#!/bin/sh
# SPDX-License-Identifier: MIT
# Host-side check of scenario c: the refused ESP and the injected cleartext
# really crossed the wire (else the negative test proved nothing).
set -eu
pcap=$1/vm1.pcap
esp=$(tcpdump -nn -r "$pcap" esp 2>/dev/null | wc -l)
clear=$(tcpdump -nn -r "$pcap" 'udp port 4789' 2>/dev/null | wc -l)
echo "vm1.pcap: $esp ESP packets, $clear cleartext udp/4789 packets (injected)"
[ "$esp" -gt 0 ] || { echo "FAIL: vm1 sent no ESP"; exit 1; }
[ "$clear" -gt 0 ] || { echo "FAIL: vm1 sent no cleartext VXLAN"; exit 1; }
