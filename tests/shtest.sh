# SPDX-License-Identifier: MIT
# The shell tests' verdicts (tests/lab/test_ping.sh, test_pcap.sh, tests/man/test_man.sh): cmocka-style lines and totals, which tests/run.sh reads.
#
# POSIX sh, sourced; t_totals last, as the script's exit status. $tmp: a
# folder of the test's own, removed when it exits.
passed=0 failed=0 skipped=0 failed_names=
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

t_ok() { # NAME
	echo "[       OK ] $1"
	passed=$((passed + 1))
}

t_fail() { # NAME WHY
	echo "[  FAILED  ] $1: $2"
	failed=$((failed + 1))
	failed_names="$failed_names $1"
}

t_skip() { # NAME WHY: loud, and counted
	echo "[  SKIPPED ] $1: $2"
	skipped=$((skipped + 1))
}

# t_expect NAME GOT WANT PATTERN FILE: OK when the status GOT is WANT and
# a line of FILE matches the extended regex PATTERN; else FAILED, FILE shown.
t_expect() {
	if [ "$2" = "$3" ] && grep -Eq "$4" "$5"; then
		t_ok "$1"
		return
	fi
	t_fail "$1" "returned $2 (want $3), output:"
	sed 's/^/    /' "$5"
	echo "    (want a line matching: $4)"
}

t_totals() {
	[ -z "$failed_names" ] || echo "failing:$failed_names"
	echo "[==========] $((passed + failed + skipped)) test(s) run."
	echo "[  PASSED  ] $passed test(s)."
	[ "$skipped" -eq 0 ] || echo "[  SKIPPED ] $skipped test(s)."
	[ "$failed" -eq 0 ] || echo "[  FAILED  ] $failed test(s), listed above."
	[ "$failed" -eq 0 ]
}
