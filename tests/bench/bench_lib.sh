# SPDX-License-Identifier: MIT
# The leader benchmarks' shared part (bash): binaries, failing with the logs' last lines, the fakeagents run and its bench lines, one run per N.
#
# Sourced by bench_keymgr.sh and bench_failover.sh from the top of the
# checkout, after they set BENCH (their name, for messages). They define
# run_one N, which makes $dir (its logs: $dir/*.log), calls
# bench_fakeagents and ends with bench_cleanup; bench_main runs it for
# each N and prints the results. They define bench_stop too: it stops
# their processes (bench_cleanup calls it, and so does the exit).

KEYMGR=${KEYMGR:-build/vxsec-keymgr}
FAKEAGENTS=${FAKEAGENTS:-build/tests/fakeagents}
dir="" results=""

# bench_cleanup: bench_stop, then $dir removed.
bench_cleanup() {
	bench_stop
	[ -n "$dir" ] && rm -rf "$dir"
	dir=""
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# bench_need BIN...: every one of them executable, or give up.
bench_need() {
	local b
	for b in "$@"; do
		if [ ! -x "$b" ]; then
			echo "$BENCH: $b is missing: run make (etcd: make deps) first" >&2
			exit 1
		fi
	done
}

# bench_fail MESSAGE: say why, show the last lines of each log, give up.
bench_fail() {
	local f
	echo "$BENCH: $1" >&2
	for f in "$dir"/*.log; do
		[ -n "$dir" ] && [ -s "$f" ] || continue
		echo "$BENCH: $f ends with:" >&2
		tail -n 20 "$f" >&2
	done
	exit 1
}

# bench_fakeagents N PATTERN ARG...: N agents of fakeagents with ARG...
# (--leader, --token, what to do), verifying every pair's keys; its output
# shown and kept in $dir; its lines that match PATTERN go to the results.
bench_fakeagents() {
	local n=$1 pat=$2 out=$dir/fakeagents.out rc
	shift 2
	"$FAKEAGENTS" -n "$n" "$@" --bench keymgr --verify | tee "$out"
	rc=${PIPESTATUS[0]}
	[ "$rc" -eq 0 ] || bench_fail "fakeagents with $n agents failed (status $rc)"
	results+=$(grep "$pat" "$out")$'\n'
}

# bench_main N...: run_one for each N (numbers of agents), then the results.
bench_main() {
	local n
	for n in "$@"; do
		case $n in
		'' | *[!0-9]* | 0)
			echo "usage: $0 [N...]  (numbers of agents)" >&2
			exit 2
			;;
		esac
	done
	ulimit -n "$(ulimit -Hn)" 2>/dev/null
	for n in "$@"; do
		run_one "$n"
	done
	echo "== results"
	printf '%s' "$results"
}
