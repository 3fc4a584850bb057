#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench_failover: a leader failover under N simulated agents — etcd, two keymgr instances, kill -9 of the one that leads.
#
# usage: tests/bench/bench_failover.sh [N...]      (default: 1000)
# For each N: a single-member etcd (Debian's etcd-server) and two
# vxsec-keymgr instances with store = etcd and the default 5 s lease, all
# on 127.0.0.1; N fakeagents with both addresses join; once all are in
# sync the leading instance is killed with SIGKILL; the line
# "bench keymgr_failover_N<N> <s> s" is the time from the kill until every
# agent acked the new leader's snapshot (a newer term); then a rotation
# on the new leader and a check of every pair's keys. Root (one loopback
# source address per agent). Environment: KEYMGR, FAKEAGENTS, ETCD.
set -u
cd "$(dirname "$0")/../.." || exit 1
BENCH=bench_failover
. tests/bench/bench_lib.sh

ETCD=${ETCD:-/usr/bin/etcd}

[ $# -gt 0 ] || set -- 1000
bench_need "$KEYMGR" "$FAKEAGENTS" "$ETCD"

pids=()

bench_stop() { # etcd and the instances (bench_cleanup)
	local p
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	pids=()
}

# A loopback TCP port nobody listens on now.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		ss -Hltn "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}

# keymgr instance NAME PORT
instance() {
	"$KEYMGR" -c /dev/null -d "$dir/$1" -s "$dir/$1.sock" -l "127.0.0.1:$2" \
		--store etcd --etcd-endpoints "127.0.0.1:$cport" --instance "$1" \
		--grace 0s --ack-deadline 3600s --rotate-interval 24h run \
		2>"$dir/$1.log" &
	pids+=($!)
	echo $! >"$dir/$1.pid"
}

role_of() { "$KEYMGR" -s "$dir/$1.sock" status --json 2>/dev/null | grep -o '"role":"[a-z]*"'; }

run_one() {
	local n=$1 pa pb ppeer token i
	dir=$(mktemp -d /tmp/vxsec-bench-failover.XXXXXX) || bench_fail mktemp
	cport=$(free_port) ppeer=$(free_port) pa=$(free_port) pb=$(free_port)
	"$ETCD" --name b --data-dir "$dir/etcd" \
		--listen-client-urls "http://127.0.0.1:$cport" \
		--advertise-client-urls "http://127.0.0.1:$cport" \
		--listen-peer-urls "http://127.0.0.1:$ppeer" \
		--initial-advertise-peer-urls "http://127.0.0.1:$ppeer" \
		--initial-cluster "b=http://127.0.0.1:$ppeer" >"$dir/etcd.log" 2>&1 &
	pids+=($!)
	mkdir -m 700 "$dir/a" "$dir/b"
	instance a "$pa"
	for i in $(seq 300); do
		[ "$(role_of a)" = '"role":"leader"' ] && break
		sleep 0.1
	done
	[ "$(role_of a)" = '"role":"leader"' ] || bench_fail "instance a did not lead within 30 s"
	cp "$dir/a/state.key" "$dir/b/" && chmod 600 "$dir/b/state.key"
	instance b "$pb"
	token=$("$KEYMGR" -s "$dir/a.sock" token show | head -n 1) || bench_fail "no token"
	echo "== failover with $n agents (etcd :$cport, a :$pa leads, b :$pb stands by)"
	bench_fakeagents "$n" '^bench keymgr_failover' \
		--leader "127.0.0.1:$pa,127.0.0.1:$pb" --token "$token" \
		--failover-after-sync "kill -KILL $(cat "$dir/a.pid")" \
		--rotations 1 --rotate-cmd "$KEYMGR -s $dir/b.sock rotate >/dev/null" \
		--timeout 1800
	bench_cleanup
}

bench_main "$@"
