#!/bin/sh
# SPDX-License-Identifier: MIT
# Host-side check of the ha scenario: only ESP, never cleartext VXLAN, on
# every wire (both boots of vm2), and the figures from the marks' mtimes
# (the host's clock) and the members' ping lines.
set -eu
. "$(dirname "$0")/../../pcap.sh"
dir=$1
pcap_esp_only "$dir" -m "vm4 vm5 vm6"
at() { stat -c %.3Y "$dir/mark.$1"; }
ms() { awk -v a="$(at "$1")" -v b="$(at "$2")" 'BEGIN { printf "%.0f ms", (b - a) * 1000 }'; }
last=
for vm in vm4 vm5 vm6; do
	t=$(at "on-b.$vm")
	echo "figure: $vm on b (connected, b's term, in sync) $(ms a-off "on-b.$vm") after a's power-off"
	[ -z "$last" ] || [ "$(awk -v a="$t" -v b="$last" 'BEGIN { print (a > b) }')" = 1 ] && last=$t
done
echo "figure: takeover (a's power-off to b leading): $(ms a-off b-leads)"
echo "figure: every agent on b: $(awk -v a="$(at a-off)" -v b="$last" 'BEGIN { printf "%.0f ms", (b - a) * 1000 }') after a's power-off"
echo "figure: rotation (rotate on a to b's generation alone): $(ms rotate rotated) (a powered off in $(cat "$dir/phase.off") $(ms rotate a-off) after rotate)"
echo "figure: vm2 booted again $(ms a-off a-up) after its power-off; a stood by $(ms a-off a-standby) after it"
grep -h '^ping b: ' "$dir"/vm4.log "$dir"/vm5.log | sed 's/^/figure: /'
