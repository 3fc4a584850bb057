#!/bin/sh
# SPDX-License-Identifier: MIT
# Host side of make vagrant-lab's scenario: the members' underlay (eth1 of
# vm2 and vm3, captured in the VMs) carried ESP and no cleartext VXLAN;
# the leader's (vm1) carried no VXLAN at all.
set -eu
. "$(dirname "$0")/../../pcap.sh"
pcap_esp_only "$1" -n vm1
