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

KEYMGR=${KEYMGR:-build/vxsec-keymgr}
FAKEAGENTS=${FAKEAGENTS:-build/tests/fakeagents}
ROTATIONS=${ROTATIONS:-}
TIMEOUT=${BENCH_TIMEOUT:-3600}

[ $# -gt 0 ] || set -- 1000 10000
for n in "$@"; do
	case $n in
	'' | *[!0-9]* | 0)
		echo "usage: $0 [N...]  (numbers of agents, default 1000 10000)" >&2
		exit 2
		;;
	esac
done
for b in "$KEYMGR" "$FAKEAGENTS"; do
	if [ ! -x "$b" ]; then
		echo "bench_keymgr: $b is missing: run make first" >&2
		exit 1
	fi
done

dir="" pid="" results=""

stop_leader() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		wait "$pid" 2>/dev/null
	fi
	pid=""
	[ -n "$dir" ] && rm -rf "$dir"
	dir=""
}
trap stop_leader EXIT
trap 'exit 130' INT TERM

fail() { # fail <message>: say why, show the leader's last words, give up
	echo "bench_keymgr: $1" >&2
	if [ -n "$dir" ] && [ -s "$dir/leader.log" ]; then
		echo "bench_keymgr: the leader's log ends with:" >&2
		tail -n 20 "$dir/leader.log" >&2
	fi
	exit 1
}

# The leader, its address in $dir/listen once it listens.
start_leader() {
	local i
	dir=$(mktemp -d /tmp/vxsec-bench-keymgr.XXXXXX) || fail "mktemp"
	"$KEYMGR" -d "$dir" -s "$dir/ctl.sock" -l 127.0.0.1:0 --grace 0s \
		--ack-deadline 3600s --rotate-interval 24h run \
		2>"$dir/leader.log" &
	pid=$!
	for i in $(seq 100); do
		[ -s "$dir/listen" ] && return 0
		kill -0 "$pid" 2>/dev/null || fail "the leader exited at start"
		sleep 0.1
	done
	fail "the leader did not write $dir/listen within 10 s"
}

run_one() {
	local n=$1 listen token out rc
	start_leader
	listen=$(head -n 1 "$dir/listen")
	token=$("$KEYMGR" -s "$dir/ctl.sock" token show) ||
		fail "cannot get the join token"
	echo "== keymgr with $n agents (leader pid $pid on $listen)"
	out="$dir/fakeagents.out"
	"$FAKEAGENTS" --leader "$listen" --token "$token" -n "$n" \
		--rotations "${ROTATIONS:-$([ "$n" -le 2000 ] && echo 3 || echo 1)}" \
		--rotate-cmd "$KEYMGR -s $dir/ctl.sock rotate >/dev/null" \
		--leader-pid "$pid" --bench keymgr --verify \
		--timeout "$TIMEOUT" | tee "$out"
	rc=${PIPESTATUS[0]}
	[ "$rc" -eq 0 ] || fail "fakeagents with $n agents failed (status $rc)"
	kill -0 "$pid" 2>/dev/null || fail "the leader died during the run"
	results+=$(grep '^bench ' "$out")$'\n'
	stop_leader
}

ulimit -n "$(ulimit -Hn)" 2>/dev/null
for n in "$@"; do
	run_one "$n"
done
echo "== results"
printf '%s' "$results"
