#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Test runner: runs cmocka binaries, sums their results, prints one totals line.
#
# VXSEC_TEST_JOBS binaries run at once (default 3): most of the suite's wall
# time is process tests waiting on leases, deadlines and timers, not CPU.
# Each binary's output is printed whole, in the order given, as soon as it
# and every binary before it are done; VXSEC_TEST_JOBS=1 runs them one by one.
# VXSEC_TEST_TIMEOUT (default 600 s) bounds each binary.
set -u

passed=0 failed=0 skipped=0
failed_names=()
work=$(mktemp -d)
why=$work/why
jobs_max=${VXSEC_TEST_JOBS:-3}
case $jobs_max in
'' | *[!0-9]* | 0)
	echo "run.sh: VXSEC_TEST_JOBS must be a positive number, not '$jobs_max'" >&2
	exit 2
	;;
esac
launcher=
killtree() { # killtree <pid>: it and every process below it
	local c
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		killtree "$c"
	done
	kill "$1" 2>/dev/null
}
cleanup() {
	[ -n "$launcher" ] && killtree "$launcher"
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run_one <index> <binary>: its output, exit status and seconds, by index.
run_one() {
	local t0 rc
	t0=$(date +%s)
	timeout --kill-after=10 "${VXSEC_TEST_TIMEOUT:-600}" "$2" >"$work/$1.log" 2>&1
	rc=$?
	echo "$(($(date +%s) - t0))" >"$work/$1.secs"
	echo "$rc" >"$work/$1.rc.tmp" && mv "$work/$1.rc.tmp" "$work/$1.rc"
}

(
	i=0
	for t in "$@"; do
		while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do
			wait -n
		done
		run_one "$i" "$t" &
		i=$((i + 1))
	done
	wait
) &
launcher=$!

count() { # count <pattern> <log> : the N of "[  X  ] N test(s)" in the log
	sed -n "s/^\[  $1  *\] \([0-9][0-9]*\) test(s).*/\1/p" "$2" | tail -n 1
}

i=0
for t in "$@"; do
	name=$(basename "$t")
	log=$work/$i.log
	while [ ! -e "$work/$i.rc" ]; do
		# The launcher gone (killed from outside) and no status: this
		# binary will never finish; say so rather than wait forever.
		if ! kill -0 "$launcher" 2>/dev/null && [ ! -e "$work/$i.rc" ]; then
			echo "run.sh: the launcher stopped before $name finished" >"$log.x"
			[ -e "$log" ] && cat "$log" >>"$log.x"
			mv "$log.x" "$log"
			echo 0 >"$work/$i.secs"
			echo 125 >"$work/$i.rc"
		fi
		sleep 0.2
	done
	rc=$(cat "$work/$i.rc")
	echo "== $name"
	cat "$log"
	echo "== $name took $(cat "$work/$i.secs") s"
	p=$(count PASSED "$log") f=$(count FAILED "$log") s=$(count SKIPPED "$log")
	p=${p:-0} f=${f:-0} s=${s:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "!! $name exited with status $rc without a cmocka failure report" \
			"(crash, timeout or error before the tests ran)"
		echo "$name: exited with status $rc; its last lines:" >>"$why"
		tail -n 5 "$log" | sed "s/^/$name: /" >>"$why"
		f=1
	fi
	if [ "$f" -gt 0 ]; then
		failed_names+=("$name")
		# What failed, kept for the end: a CI log is read from its tail.
		grep -E '^\[  (FAILED|ERROR) +\]|^\[   LINE   \]|Sanitizer|runtime error' \
			"$log" | awk '!seen[$0]++' | head -n 20 |
			sed "s/^/$name: /" >>"$why"
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	i=$((i + 1))
done
wait "$launcher" 2>/dev/null
launcher=

if [ "${#failed_names[@]}" -gt 0 ]; then
	cat "$why"
	echo "failing binaries: ${failed_names[*]}"
fi
echo "check: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
