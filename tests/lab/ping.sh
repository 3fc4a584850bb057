# SPDX-License-Identifier: MIT
# Lab pings under load: one rule for what a round sent, lost and proved (lab_ping_account), sourced by lib.sh and tests/lab/test_ping.sh.
#
# The rounds ask ping for LAB_PING_RATE packets/s (-i); TCG guests on a
# busy host reach less (47-69/s measured with 4 VMs on 2 cores), so a
# round is judged on what ping really sent, never on the count asked:
#  - sent: ping's own "N packets transmitted"; the echo requests are
#    icmp_seq 1..N (a round never sends 65,536, so no wrap);
#  - in flight: the unanswered sequence numbers after the last answered
#    one, when ping stopped (deadline, or its count of replies reached),
#    are not counted if they are at most what ping sends in
#    LAB_PING_TAIL_S seconds at the rate it reached (3 at least); a longer
#    unanswered tail is an outage, and every packet of it counts as lost;
#  - lost: counted sequence numbers without a reply (error lines such as
#    "Destination Host Unreachable" are not replies);
#  - too few: a round that counted fewer than LAB_PING_MIN_PCT % of the
#    count asked fails as such: it proves nothing about the event it was
#    meant to cover. The deadline leaves room for the whole count at that
#    fraction of the rate, so a round only falls short on a guest slower
#    still.
# The rate reached is printed beside the rate asked.

LAB_PING_RATE=100
LAB_PING_MIN_PCT=50
LAB_PING_TAIL_S=1

# lab_ping_deadline COUNT: ping's -w for COUNT packets (20 s of slack for
# late replies and a paused VM).
lab_ping_deadline() {
	echo $(($1 * 100 / (LAB_PING_RATE * LAB_PING_MIN_PCT) + 20))
}

# lab_ping_start NAME ADDRESS COUNT: COUNT echo requests at LAB_PING_RATE/s
# to ADDRESS in the background, output (with -D times) in /tmp/ping.NAME.
# With the deadline (-w) a late reply still counts, and ping sends past
# COUNT while it waits for one: lab_ping_account judges what it sent.
# But with -w, iputils' ping ends at its first error ("deadline &&
# nerrors"): an outage long enough for the overlay's ARP entry to fail
# ("Destination Host Unreachable") ends the round. A round that must
# outlive an outage (nat: the router's mappings flushed) sets
# LAB_PING_DEADLINE=no: no -w, and it is stopped with lab_ping_stop.
LAB_PING_DEADLINE=yes
lab_ping_start() {
	rm -f "/tmp/ping.$1.stopped"
	echo "$3" >"/tmp/ping.$1.count"
	lab_ping_w="-w $(lab_ping_deadline "$3")"
	[ "$LAB_PING_DEADLINE" != no ] || lab_ping_w=
	# shellcheck disable=SC2086 # lab_ping_w: nothing, or -w and its value
	ping -D -i "$(awk -v r="$LAB_PING_RATE" 'BEGIN { print 1 / r }')" \
		-c "$3" $lab_ping_w "$2" >"/tmp/ping.$1" 2>&1 &
	echo $! >"/tmp/ping.$1.pid"
}

# lab_ping_running NAME: the ping still runs (it must cover the whole event).
lab_ping_running() { kill -0 "$(cat "/tmp/ping.$1.pid")" 2>/dev/null; }

# lab_ping_stop NAME: ends a round once the event it covered is over (the
# caller checked with lab_ping_running that it ran through all of it):
# SIGINT, and ping stops sending and prints its summary. Such a round is
# judged as if asked for what it sent: every loss counts, the unanswered
# tail in flight is not counted (as above), and "too few" cannot apply.
lab_ping_stop() {
	: >"/tmp/ping.$1.stopped"
	kill -INT "$(cat "/tmp/ping.$1.pid")" 2>/dev/null || true
}

# lab_ping_check NAME LABEL: waits for the ping, then lab_ping_account;
# on a failure LAB_PING_WHY says what failed.
lab_ping_check() {
	wait "$(cat "/tmp/ping.$1.pid")" || true
	lab_ping_n=$(cat "/tmp/ping.$1.count")
	if [ -f "/tmp/ping.$1.stopped" ]; then
		lab_ping_n=$(sed -n 's/ packets transmitted.*//p' "/tmp/ping.$1")
		set -- "$1" "$2 (stopped after the event)"
	fi
	lab_ping_account "/tmp/ping.$1" "${lab_ping_n:-0}" "$2"
}

# lab_ping_account FILE COUNT LABEL: FILE is the output of ping -D asked
# for COUNT packets. Prints one line (sent, time, rate reached and asked,
# counted, in flight, answered, lost) and, for each lost sequence number
# (10 at most), the times of the replies around it. Returns 0 when nothing
# was lost and enough was sent, 1 on a loss, 2 when too few were sent (or
# ping left no summary); LAB_PING_WHY then says which.
lab_ping_account() {
	LAB_PING_WHY='' lab_ping_rc=0
	lab_ping_out=$(awk -v count="$2" -v label="$3" -v rate_asked="$LAB_PING_RATE" \
		-v min_pct="$LAB_PING_MIN_PCT" -v tail_s="$LAB_PING_TAIL_S" '
	/ bytes from .* icmp_seq=[0-9]+ .*time=/ {
		match($0, /icmp_seq=[0-9]+/)
		s = substr($0, RSTART + 9, RLENGTH - 9) + 0
		if (!(s in at)) at[s] = ($1 ~ /^\[[0-9.]+\]$/) ? substr($1, 2, length($1) - 2) : "-"
		next
	}
	/ packets transmitted, / { sent = $1 + 0; have_sum = 1
		if (match($0, /time [0-9]+ms/))
			ms = substr($0, RSTART + 5, RLENGTH - 7) + 0
	}
	END {
		if (!have_sum) {
			printf "ping %s: no summary from ping (killed, or it never ran)\n", label
			print "why: ping left no summary"
			exit 2
		}
		hi = 0
		for (s in at) if (s + 0 <= sent && s + 0 > hi) hi = s + 0
		rate = (sent > 1 && ms > 0) ? (sent - 1) * 1000 / ms : 0
		tail_max = int(rate * tail_s + 0.999); if (tail_max < 3) tail_max = 3
		inflight = sent - hi
		counted = hi
		if (inflight > tail_max) { counted = sent; inflight = 0 }
		answered = 0
		for (s in at) if (s + 0 >= 1 && s + 0 <= counted) answered++
		lost = counted - answered
		min = int((count * min_pct + 99) / 100)
		printf "ping %s: asked %d at %d/s, sent %d in %.1f s (%.0f/s reached); counted %d", \
			label, count, rate_asked, sent, ms / 1000, rate, counted
		if (inflight) printf " (%d more in flight when ping stopped)", inflight
		printf ", answered %d, lost %d\n", answered, lost
		for (i = 1; i <= counted; i++) if (!(i in at) && ++k <= 10) {
			b = i - 1; while (b > 0 && !(b in at)) b--
			a = i + 1; while (a <= counted && !(a in at)) a++
			printf "lost icmp_seq=%d: reply %d at %s, reply %d at %s\n", \
				i, b, (b in at) ? at[b] : "-", a, (a in at) ? at[a] : "-"
		}
		if (k > 10) printf "... and %d more\n", k - 10
		if (lost) {
			printf "why: %d of %d packets lost\n", lost, counted
			exit 1
		}
		if (counted < min) {
			printf "why: too few packets to prove anything: %d sent and counted, at least %d (%d%% of %d) needed; the guest reached %.0f/s of the %d/s asked\n", \
				counted, min, min_pct, count, rate, rate_asked
			exit 2
		}
	}' "$1") || lab_ping_rc=$?
	printf '%s\n' "$lab_ping_out" | sed '/^why: /d'
	LAB_PING_WHY=$(printf '%s\n' "$lab_ping_out" | sed -n 's/^why: //p')
	return $lab_ping_rc
}
