#!/bin/sh
# SPDX-License-Identifier: MIT
# The lab's ping accounting (tests/lab/ping.sh) on ping outputs: a deadline cut, real losses, too few sent, the real ping's own format; cmocka-style totals for tests/run.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/ping.sh"
. "$here/../shtest.sh"

# gen COUNT SENT MS [ANSWERED_TO [SKIP...]]: the output of iputils ping -D
# asked for COUNT: SENT transmitted in MS ms, replies for 1..ANSWERED_TO
# (default SENT) except each SKIP. A SKIP of the form N:err writes
# ping's "Destination Host Unreachable" line for N instead of a reply,
# N:dup a reply and its duplicate.
gen() {
	count=$1 sent=$2 ms=$3 to=${4:-$2}
	shift 3
	[ $# -gt 0 ] && shift
	awk -v count="$count" -v sent="$sent" -v ms="$ms" -v to="$to" -v skip="$*" '
	BEGIN {
		n = split(skip, k, " ")
		for (i = 1; i <= n; i++) {
			split(k[i], f, ":")
			mode[f[1] + 0] = (f[2] == "") ? "lost" : f[2]
		}
		print "PING 10.77.0.3 (10.77.0.3) 56(84) bytes of data."
		t = 1796485623.5
		got = 0; dup = 0; err = 0
		for (i = 1; i <= to; i++) {
			t += ms / 1000 / (sent > 1 ? sent - 1 : 1)
			m = (i in mode) ? mode[i] : ""
			if (m == "lost") continue
			if (m == "err") {
				printf "[%.6f] From 10.77.0.2 icmp_seq=%d Destination Host Unreachable\n", t, i
				err++
				continue
			}
			printf "[%.6f] 64 bytes from 10.77.0.3: icmp_seq=%d ttl=64 time=3.%02d ms\n", t, i, i % 100
			got++
			if (m == "dup") {
				printf "[%.6f] 64 bytes from 10.77.0.3: icmp_seq=%d ttl=64 time=4.10 ms (DUP!)\n", t, i
				dup++
			}
		}
		print ""
		print "--- 10.77.0.3 ping statistics ---"
		printf "%d packets transmitted, %d received", sent, got
		if (dup) printf ", +%d duplicates", dup
		if (err) printf ", +%d errors", err
		printf ", %d%% packet loss, time %dms\n", (sent - got) * 100 / sent, ms
		print "rtt min/avg/max/mdev = 2.011/3.912/98.004/2.870 ms, pipe 2"
	}'
}

# expect NAME RC PATTERN FILE COUNT: lab_ping_account FILE COUNT returns
# RC and its output (with LAB_PING_WHY) matches the extended regex PATTERN.
expect() {
	name=$1 want=$2 pat=$3
	got=0
	lab_ping_account "$4" "$5" "$name" >"$tmp/out" || got=$?
	echo "why: $LAB_PING_WHY" >>"$tmp/out"
	t_expect "$name" "$got" "$want" "$pat" "$tmp/out"
}

# A round cut by its deadline at 47/s: 2,361 of 3,000 sent, the last two
# in flight. Counted on what was sent: 0 lost (the old rule said 641).
gen 3000 2361 50000 2359 >"$tmp/cut"
expect deadline_cut_counts_only_what_was_sent 0 \
	'sent 2361 in 50\.0 s \(47/s reached\); counted 2359 \(2 more in flight when ping stopped\), answered 2359, lost 0$' \
	"$tmp/cut" 3000

# A real loss: seq 1234 unanswered, ping sent one more to get its count.
gen 3000 3001 62000 3001 1234 >"$tmp/loss"
expect real_loss_is_named 1 \
	'^lost icmp_seq=1234: reply 1233 at [0-9.]+, reply 1235 at [0-9.]+$' \
	"$tmp/loss" 3000
expect real_loss_counted 1 'counted 3001, answered 3000, lost 1$' \
	"$tmp/loss" 3000
expect real_loss_why 1 '^why: 1 of 3001 packets lost$' "$tmp/loss" 3000

# A loss just before a deadline cut is still a loss.
gen 3000 2361 50000 2359 2350 >"$tmp/cutloss"
expect loss_before_the_cut 1 'counted 2359 \(2 more.*lost 1$' \
	"$tmp/cutloss" 3000

# The overlay stopped answering 10 s before the deadline: the unanswered
# tail is longer than 1 s of sending, so all of it is lost.
gen 3000 2361 50000 1891 >"$tmp/outage"
expect outage_at_the_end_is_lost 1 'counted 2361, answered 1891, lost 470$' \
	"$tmp/outage" 3000

# Too few sent: a guest at 20/s for 60 s sent 1,200 of 3,000.
gen 3000 1200 60000 1199 >"$tmp/few"
expect too_few_fails 2 \
	'^why: too few packets to prove anything: 1199 sent and counted, at least 1500 \(50% of 3000\) needed; the guest reached 20/s of the 100/s asked$' \
	"$tmp/few" 3000
expect too_few_reports_no_loss 2 'answered 1199, lost 0$' "$tmp/few" 3000

# Exactly the minimum is enough.
gen 3000 1500 60000 >"$tmp/half"
expect half_is_enough 0 'counted 1500, answered 1500, lost 0$' \
	"$tmp/half" 3000

# A loss in a round that also sent too few: the loss is what it reports.
gen 3000 1200 60000 1200 600 >"$tmp/fewloss"
expect loss_wins_over_too_few 1 '^why: 1 of 1200 packets lost$' \
	"$tmp/fewloss" 3000

# "Destination Host Unreachable" lines are not replies.
gen 1500 1503 30000 1503 5:err 6:err 7:err >"$tmp/err"
expect errors_are_not_replies 1 'counted 1503, answered 1500, lost 3$' \
	"$tmp/err" 1500

# A duplicate reply does not hide a lost one.
gen 1500 1501 30000 1501 3:dup 4 >"$tmp/dup"
expect duplicates_do_not_count_twice 1 'answered 1500, lost 1$' \
	"$tmp/dup" 1500

# Ping killed before its summary: nothing can be claimed.
gen 1500 1500 30000 | sed '/packets transmitted/d' >"$tmp/nosum"
expect no_summary_fails 2 '^why: ping left no summary$' "$tmp/nosum" 1500

# The deadline leaves room for the whole count at half the rate.
d=$(lab_ping_deadline 3000)
if [ "$d" = 80 ]; then
	t_ok deadline_for_half_the_rate
else
	t_fail deadline_for_half_the_rate "$d s for 3000, want 80"
fi

# The real ping's output on loopback (this host's iputils), once complete
# and once cut by its deadline long before its count.
if ping -c 1 -W 2 127.0.0.1 >/dev/null 2>&1; then
	ping -D -i 0.01 -c 50 -w 30 127.0.0.1 >"$tmp/real" 2>&1
	expect real_ping_complete 2 \
		'asked 2000 at 100/s, sent 50 in [0-9.]+ s \([0-9]+/s reached\); counted 50, answered 50, lost 0$' \
		"$tmp/real" 2000
	expect real_ping_enough 0 'counted 50, answered 50, lost 0$' \
		"$tmp/real" 50
	ping -D -i 0.01 -c 100000 -w 1 127.0.0.1 >"$tmp/realcut" 2>&1
	expect real_ping_deadline_cut 2 \
		'^why: too few packets to prove anything: [0-9]+ sent and counted, at least 50000 ' \
		"$tmp/realcut" 100000
	# A round stopped once its event is over: judged on what it sent.
	lab_ping_start "test-stop-$$" 127.0.0.1 100000
	sleep 1
	lab_ping_running "test-stop-$$" && lab_ping_stop "test-stop-$$"
	if lab_ping_check "test-stop-$$" stop >"$tmp/stop" &&
		grep -Eq '^ping stop \(stopped after the event\): asked ([0-9]+) at 100/s, sent \1 in .*, lost 0$' "$tmp/stop"; then
		echo "[       OK ] real_ping_stopped"
		passed=$((passed + 1))
	else
		echo "[  FAILED  ] real_ping_stopped: output:"
		sed 's/^/    /' "$tmp/stop"
		failed=$((failed + 1)) failed_names="$failed_names real_ping_stopped"
	fi
	rm -f /tmp/ping."test-stop-$$"*
else
	t_skip real_ping "ping 127.0.0.1 does not work here (no raw socket or ping_group_range?)"
fi

t_totals
