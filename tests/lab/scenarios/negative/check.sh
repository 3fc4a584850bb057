#!/bin/sh
# SPDX-License-Identifier: MIT
# Host-side check of scenario c: the refused ESP and the injected cleartext
# really crossed the wire (else the negative test proved nothing).
set -eu
. "$(dirname "$0")/../../pcap.sh"
pcap_esp_only "$1" -o vm1 -i
