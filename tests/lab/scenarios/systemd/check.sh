#!/bin/sh
# SPDX-License-Identifier: MIT
# Host-side check of the systemd scenario: only ESP, never cleartext VXLAN, on every wire; the figures (boot, dpkg -i, start, restart, pings) gathered from the VMs' logs.
set -eu
. "$(dirname "$0")/../../pcap.sh"
dir=$1
pcap_esp_only "$dir"
for log in "$dir"/vm*.log; do
	vm=$(basename "$log" .log)
	sed -n "s/^a: $vm up \(.*\)/figure: $vm boot: \1/p; s/^a: $vm: dpkg -i \(.*\)/figure: $vm dpkg -i \1/p" "$log"
	sed -n "s/^b: $vm: systemctl start vxsec-agent \(.*\)/figure: $vm systemctl start vxsec-agent \1/p" "$log"
done
grep -h '^b: vxsec-keymgr started' "$dir"/vm1.log | sed 's/^b: /figure: vm1 /'
grep -h '^figure: ' "$dir"/vm2.log
grep -h '^ping d: ' "$dir"/vm1.log "$dir"/vm3.log | sed 's/^/figure: /'
grep -h '^SKIP' "$dir"/vm*.log | sort | uniq -c | sed 's/^ */skipped (VMs): /'
