#!/bin/sh
# SPDX-License-Identifier: MIT
# Host-side check of the overlay-faults scenario: the members' underlay
# carries ESP, and the only cleartext VXLAN on any wire is what the removed
# vm4 sent with its policies flushed (step f), which nobody answered.
set -eu
. "$(dirname "$0")/../../pcap.sh"
dir=$1
inject='src 192.168.77.14'
pcap_esp_only "$dir" -n vm1 -x "$inject" -l 'from the removed vm4'
n=$(pcap_count "$dir/vm2.pcap" "udp port 4789 and $inject")
[ "$n" -gt 0 ] || { echo "FAIL: the removed vm4's cleartext never reached vm2"; exit 1; }
