#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Test runner: runs cmocka binaries, sums their results, prints one totals line.
set -u

passed=0 failed=0 skipped=0
failed_names=()
log=$(mktemp)
why=$(mktemp)
trap 'rm -f "$log" "$why"' EXIT

count() { # count <pattern> : the N of "[  X  ] N test(s)" in the log
	sed -n "s/^\[  $1  *\] \([0-9][0-9]*\) test(s).*/\1/p" "$log" | tail -n 1
}

for t in "$@"; do
	name=$(basename "$t")
	echo "== $name"
	timeout --kill-after=10 "${VXSEC_TEST_TIMEOUT:-600}" "$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(count PASSED) f=$(count FAILED) s=$(count SKIPPED)
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
done

if [ "${#failed_names[@]}" -gt 0 ]; then
	cat "$why"
	echo "failing binaries: ${failed_names[*]}"
fi
echo "check: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
