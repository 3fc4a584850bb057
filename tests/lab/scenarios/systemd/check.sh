#!/bin/sh
# SPDX-License-Identifier: MIT
# Host-side check of the systemd scenario: only ESP, never cleartext VXLAN, on every wire; the figures (boot, dpkg -i, start, restart, pings) gathered from the VMs' logs.
set -eu
dir=$1
for pcap in "$dir"/vm*.pcap; do
	vm=$(basename "$pcap" .pcap)
	esp=$(tcpdump -nn -r "$pcap" esp 2>/dev/null | wc -l)
	clear=$(tcpdump -nn -r "$pcap" "udp port 4789" 2>/dev/null | wc -l)
	echo "$vm.pcap: $esp ESP packets, $clear cleartext udp/4789 packets"
	[ "$esp" -gt 0 ] || { echo "FAIL: no ESP in $pcap"; exit 1; }
	[ "$clear" -eq 0 ] || { echo "FAIL: cleartext VXLAN in $pcap"; exit 1; }
done
for log in "$dir"/vm*.log; do
	vm=$(basename "$log" .log)
	sed -n "s/^a: $vm up \(.*\)/figure: $vm boot: \1/p; s/^a: $vm: dpkg -i \(.*\)/figure: $vm dpkg -i \1/p" "$log"
	sed -n "s/^b: $vm: systemctl start vxsec-agent \(.*\)/figure: $vm systemctl start vxsec-agent \1/p" "$log"
done
grep -h '^b: vxsec-keymgr started' "$dir"/vm1.log | sed 's/^b: /figure: vm1 /'
grep -h '^figure: ' "$dir"/vm2.log
grep -h '^ping d: ' "$dir"/vm1.log "$dir"/vm3.log | sed 's/^/figure: /'
grep -h '^SKIP' "$dir"/vm*.log | sort | uniq -c | sed 's/^ */skipped (VMs): /'
