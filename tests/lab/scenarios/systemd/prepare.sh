#!/bin/sh
# SPDX-License-Identifier: MIT
# Host side, before the systemd scenario boots: the .debs the guests install (make deb when one is missing or older than the daemons or the packaging).
set -eu
src=$(cd "$(dirname "$0")/../../../.." && pwd)
deb=$src/build/deb
stale=
for p in vxsec-keymgr vxsec-agent; do
	set -- "$deb/${p}"_*_amd64.deb
	if [ ! -f "$1" ]; then
		stale="$stale $p: missing;"
	elif [ -n "$(find "$src/build/$p" "$src/debian" "$src/contrib" -newer "$1" -type f 2>/dev/null | head -n 1)" ]; then
		stale="$stale $p: older than $(find "$src/build/$p" "$src/debian" "$src/contrib" -newer "$1" -type f | head -n 1);"
	fi
done
if [ -n "$stale" ]; then
	echo "prepare: make deb ($stale)"
	t0=$(date +%s)
	make -C "$src" --no-print-directory deb
	echo "prepare: make deb took $(($(date +%s) - t0)) s"
fi
for p in vxsec-keymgr vxsec-agent; do
	set -- "$deb/${p}"_*_amd64.deb
	echo "prepare: $(basename "$1"), $(stat -c %s "$1") bytes"
done
