#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench_keymgr: the leader under N simulated agents (fakeagents): join, rotation, memory.
#
# usage: tests/bench/bench_keymgr.sh [N...]      (default: 1000 10000)
# For each N: a fresh leader in a temporary state directory on 127.0.0.1,
# N agents that join, 3 rotations, a check of every pair's keys, and the
# lines "bench keymgr_<what>_N<N> <value> <unit>". Run from anywhere, as
# root (one loopback source address per agent; the leader's state is
# root's). Environment: KEYMGR, FAKEAGENTS (binaries), ROTATIONS (3 up
# to 2,000 agents, 1 above: a rotation of 10,000 moves 7 GB of keys),
# BENCH_TIMEOUT (seconds per N, 3600).
set -u
cd "$(dirname "$0")/../.." || exit 1
BENCH=bench_keymgr
. tests/bench/bench_lib.sh

ROTATIONS=${ROTATIONS:-}
TIMEOUT=${BENCH_TIMEOUT:-3600}

[ $# -gt 0 ] || set -- 1000 10000
bench_need "$KEYMGR" "$FAKEAGENTS"

pid=""

bench_stop() { # the leader, if it runs (bench_cleanup)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		wait "$pid" 2>/dev/null
	fi
	pid=""
}

# The leader, its address in $dir/listen once it listens.
start_leader() {
	local i
	dir=$(mktemp -d /tmp/vxsec-bench-keymgr.XXXXXX) || bench_fail "mktemp"
	"$KEYMGR" -d "$dir" -s "$dir/ctl.sock" -l 127.0.0.1:0 --grace 0s \
		--ack-deadline 3600s --rotate-interval 24h run \
		2>"$dir/leader.log" &
	pid=$!
	for i in $(seq 100); do
		[ -s "$dir/listen" ] && return 0
		kill -0 "$pid" 2>/dev/null || bench_fail "the leader exited at start"
		sleep 0.1
	done
	bench_fail "the leader did not write $dir/listen within 10 s"
}

run_one() {
	local n=$1 listen token
	start_leader
	listen=$(head -n 1 "$dir/listen")
	token=$("$KEYMGR" -s "$dir/ctl.sock" token show) ||
		bench_fail "cannot get the join token"
	echo "== keymgr with $n agents (leader pid $pid on $listen)"
	bench_fakeagents "$n" '^bench ' --leader "$listen" --token "$token" \
		--rotations "${ROTATIONS:-$([ "$n" -le 2000 ] && echo 3 || echo 1)}" \
		--rotate-cmd "$KEYMGR -s $dir/ctl.sock rotate >/dev/null" \
		--leader-pid "$pid" --timeout "$TIMEOUT"
	kill -0 "$pid" 2>/dev/null || bench_fail "the leader died during the run"
	bench_cleanup
}

bench_main "$@"
