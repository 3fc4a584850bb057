#!/bin/sh
# SPDX-License-Identifier: MIT
# Lab benchmark: agent cold start (1,000 peers x 3 generations) against ip -batch, in one VM with ESP.
set -eu
. "$LAB_SRC/tests/lab/lib.sh"
lab_modprobe
cd "$LAB_SRC"
build/tests/bench_agent
