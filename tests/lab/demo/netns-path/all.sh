#!/bin/sh
# SPDX-License-Identifier: MIT
# make demo's network-namespace path, on a kernel that has ESP: tests/demo/demo.sh in one VM must choose it and pass.
# The host that runs make demo here has no ESP, so only this proves that path.
set -eu
. "$LAB_SRC/tests/lab/lib.sh"
lab_modprobe
for m in veth bridge; do modprobe "$m" || lab_fail "modprobe $m failed"; done
rc=0
bash "$LAB_SRC/tests/demo/demo.sh" >/tmp/demo.out 2>&1 || rc=$?
cat /tmp/demo.out
[ "$rc" = 0 ] || lab_fail "tests/demo/demo.sh exited with $rc"
grep -q '=> the overlay runs here, in network namespaces' /tmp/demo.out ||
	lab_fail "the demo did not choose network namespaces on a kernel with ESP"
[ -z "$(ip netns list)" ] || lab_fail "namespaces left: $(ip netns list)"
echo "netns path: PASS"
