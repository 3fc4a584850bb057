# SPDX-License-Identifier: MIT
# Lab helpers for scenarios that run the real daemons: vxsec-keymgr on the
# leader's VM, vxsec-agent --vxlan on the members. Sourced inside a VM after
# lib.sh and vxsec.sh.

# LAB_BIN: where the daemons are (the Vagrant lab's installed .debs:
# /usr/sbin); the shared build by default.
KM="${LAB_BIN:-$LAB_SRC/build}/vxsec-keymgr -d /tmp/km -s /tmp/km.sock"
AG="${LAB_BIN:-$LAB_SRC/build}/vxsec-agent -s /tmp/agent.sock"
me=$LAB_INDEX

# lab_on_fail (lab_fail calls it): the status and logs of the daemons this
# VM started (D_LOGS: the host's own /tmp shows through, so files prove
# nothing).
D_LOGS=
lab_on_fail() {
	case " $D_LOGS " in *" /tmp/agent.log "*) $AG status || true ;; esac
	case " $D_LOGS " in *" /tmp/km.log "*) $KM status || true ;; esac
	for log in $D_LOGS; do
		echo "--- the last 40 lines of $log"
		tail -n 40 "$log"
	done
}
# d_die MESSAGE: the failure, after the logs.
d_die() { lab_fail "$@"; }

# d_stamp: each line of stdin with the time it was read (HH:MM:SS.mmm), so
# that the daemons' logs line up with each other and with ping -D.
d_stamp() {
	while IFS= read -r line; do
		printf '%s %s\n' "$(date +%T.%3N)" "$line"
	done
}

# d_spawn LOG PIDFILE CMD...: CMD in the background, its output stamped into
# LOG through a FIFO (the PID is CMD's own, for kill and wait).
d_spawn() {
	log=$1 pidfile=$2
	shift 2
	case " $D_LOGS " in *" $log "*) ;; *) D_LOGS="$D_LOGS $log" ;; esac
	rm -f "$log.fifo"
	mkfifo "$log.fifo"
	d_stamp <"$log.fifo" >>"$log" &
	echo $! >"$pidfile.stamp"
	"$@" >"$log.fifo" 2>&1 &
	echo $! >"$pidfile"
}

# d_wait_exit PIDFILE: waits for a d_spawn'ed command and returns its exit
# code, once its last line is in the log.
d_wait_exit() {
	rc=0
	wait "$(cat "$1")" || rc=$?
	wait "$(cat "$1.stamp")" || true
	return $rc
}

# The leader: a new cluster, its join token on the share, serving.
d_leader_init() {
	$KM init | sed -n 's/^join token: //p' >"$LAB_DIR/token"
	[ -s "$LAB_DIR/token" ] || d_die "vxsec-keymgr init gave no token"
}

# The underlay the daemons use. A scenario on another underlay (IPv6,
# dual-stack: overlay-v6) redefines these after sourcing this file:
#  d_addrs N        node N's underlay addresses, its agent's -a, in order
#  d_leader_addr N  the address the leader on vm N listens on
#  D_CIDR           the agents' --underlay-cidr; empty (the default):
#                   none given, the catch-all covers every address
d_addrs() { lab_ip_of "$1"; }
d_leader_addr() { lab_ip_of "$1"; }
D_CIDR=

# d_hostport ADDRESS PORT: 192.168.77.11:7120, or [fd00::11]:7120.
d_hostport() {
	case "$1" in
	*:*) echo "[$1]:$2" ;;
	*) echo "$1:$2" ;;
	esac
}

# d_leader_start [FLAGS...]: the leader on this VM's address, port 7120.
d_leader_start() {
	d_spawn /tmp/km.log /tmp/km.pid \
		$KM -l "$(d_hostport "$(d_leader_addr "$me")" 7120)" "$@" run
	end=$(($(date +%s) + 20))
	until [ -S /tmp/km.sock ] && $KM status >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$end" ] || d_die "the leader did not start"
		sleep 0.2
	done
}

# d_agent_start LEADER_VM [FLAGS...]: this VM's agent, joining with the
# token, on the addresses d_addrs gives (D_CIDR: its --underlay-cidr).
d_agent_start() {
	leader_vm=$1
	shift
	set -- $(for a in $(d_addrs "$me"); do printf -- '-a %s ' "$a"; done) \
		${D_CIDR:+--underlay-cidr "$D_CIDR"} "$@"
	d_spawn /tmp/agent.log /tmp/agent.pid \
		$AG -L "$(d_hostport "$(d_leader_addr "$leader_vm")" 7120)" \
		-n "vm$me" -t "$LAB_DIR/token" -d /tmp/agent --vxlan \
		--resync-interval 2s "$@" run
}

# d_json FIELD: the first number or word FIELD has in `status --json`.
d_json() {
	$AG status --json 2>/dev/null | grep -o "\"$1\":[a-z0-9]*" |
		head -n 1 | cut -d: -f2
}

# d_jstr FIELD: the first string FIELD has in `status --json` (this node's
# static_key, static_key_in_use: base64).
d_jstr() {
	$AG status --json 2>/dev/null | grep -o "\"$1\":\"[^\"]*\"" |
		head -n 1 | cut -d'"' -f4
}

# d_wait_sync SAS [SECONDS]: connected, the kernel in sync, SAS SAs.
d_wait_sync() {
	end=$(($(date +%s) + ${2:-60}))
	until [ "$(d_json in_sync)" = true ] && [ "$(d_json sas)" = "$1" ]; do
		[ "$(date +%s)" -lt "$end" ] || d_die "agent not in sync with $1 SAs"
		sleep 0.2
	done
}

# d_wait_km PATTERN [SECONDS]: the leader's `status --json` matches.
d_wait_km() {
	end=$(($(date +%s) + ${2:-60}))
	until $KM status --json 2>/dev/null | grep -q "$1"; do
		[ "$(date +%s)" -lt "$end" ] || d_die "leader status never matched $1"
		sleep 0.2
	done
}

# d_wait_gen G [SECONDS]: this agent holds generation G alone, committed.
d_wait_gen() {
	end=$(($(date +%s) + ${2:-60}))
	until $AG status --json 2>/dev/null |
		grep -q "\"generations\":\[{\"generation\":$1,\"phase\":\"committed\"}\]"; do
		[ "$(date +%s)" -lt "$end" ] || d_die "generation $1 never stood alone"
		sleep 0.2
	done
}

# The SAs' SPIs and keys (replay counters move with every packet).
d_sas() { ip xfrm state | grep -E "proto esp spi|aead" | md5sum; }

# The overlay address on the agent's device.
d_overlay_up() {
	ip addr add "$(vx_overlay_ip "$me")/24" dev vxsec0 ||
		d_die "no vxsec0 device"
}

# d_ping_start NAME PEER COUNT: COUNT pings asked at LAB_PING_RATE/s to
# PEER's overlay address (tests/lab/ping.sh: deadline and accounting).
d_ping_start() { lab_ping_start "$1" "$(vx_overlay_ip "$2")" "$3"; }

# d_ping_running NAME: the ping still runs (it must cover the whole event).
d_ping_running() { lab_ping_running "$1"; }

# d_ping_check NAME LABEL: waits for the ping and accounts for it
# (lab_ping_account): 1 on a loss, 2 when too few were sent to prove
# anything; LAB_PING_WHY says which.
d_ping_check() { lab_ping_check "$1" "$2"; }

# d_ping_end NAME LABEL: d_ping_check, and the scenario fails on a loss or
# on a round that sent too few.
d_ping_end() {
	d_ping_check "$1" "$2" || d_die "$2: $LAB_PING_WHY"
}

# d_xstat_mark NAME / d_xstat_diff NAME: the /proc/net/xfrm_stat counters
# that moved since the mark (where the kernel dropped a packet).
d_xstat_mark() { cat /proc/net/xfrm_stat >"/tmp/xstat.$1"; }
d_xstat_diff() {
	awk 'NR == FNR { a[$1] = $2; next }
		$2 != a[$1] { printf "%s %s+%d", sep, $1, $2 - a[$1]; sep = "," }
		END { print "" }' "/tmp/xstat.$1" /proc/net/xfrm_stat
}

# d_drops_start: from now on the kernel records every IPv4 packet it drops
# (tracepoint skb:kfree_skb, with the reason and a stack), apart from the
# expected ones: no socket, and a ping's socket filter (each ping sees the
# other pings' replies). d_drops_show LABEL prints what it recorded since.
D_TRACE=/sys/kernel/tracing D_DROPS_ON=
d_drops_start() {
	ev=$D_TRACE/events/skb/kfree_skb
	[ -d $D_TRACE/events ] || mount -t tracefs nodev $D_TRACE
	echo 0 >$D_TRACE/tracing_on
	: >$D_TRACE/trace
	if [ -z "$D_DROPS_ON" ]; then
		f="protocol == 2048"
		for r in NO_SOCKET SOCKET_FILTER; do
			n=$(grep -o "{ [0-9]*, \"$r\" }" $ev/format | grep -o '[0-9][0-9]*')
			[ -n "$n" ] && f="$f && reason != $n"
		done
		echo "$f" >$ev/filter
		echo "stacktrace if $f" >$ev/trigger
		echo 1 >$ev/enable
		D_DROPS_ON=1
	fi
	echo 1 >$D_TRACE/tracing_on
}
d_drops_show() {
	echo "drops $1:$(grep -o 'reason: [A-Z_]*' $D_TRACE/trace |
		sed 's/reason: //' | sort | uniq -c | awk '{ printf " %s %d", $2, $1 }')"
	grep -v '^#' $D_TRACE/trace | head -n 60
}
