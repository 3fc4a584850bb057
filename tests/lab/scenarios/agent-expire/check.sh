#!/bin/sh
# SPDX-License-Identifier: MIT
# Host-side check of the agent scenario: every underlay pcap holds ESP and no cleartext VXLAN.
set -eu
. "$(dirname "$0")/../../pcap.sh"
pcap_esp_only "$1"
