#!/bin/sh
# SPDX-License-Identifier: MIT
# Lab benchmark agent-cold, on the host: the VM's "bench ..." lines to stdout; none is a failure.
set -eu
res=$1
grep '^bench ' "$res/vm1.log" || {
	echo "agent-cold: no bench lines in $res/vm1.log" >&2
	exit 1
}
