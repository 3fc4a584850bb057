#!/bin/sh
# SPDX-License-Identifier: MIT
# Lab scenario a: the xfrm/ SA, policy and ESP-in-UDP tests, for real, on a kernel with ESP.
set -eu
. "$LAB_SRC/tests/lab/lib.sh"
lab_modprobe
cd "$LAB_SRC"
# VXSEC_REQUIRE_ESP=1: a missing ESP fails here instead of skipping.
VXSEC_REQUIRE_ESP=1 tests/run.sh build/tests/test_netns_sa build/tests/test_netns_policy \
	build/tests/test_netns_events build/tests/test_netns_encap
