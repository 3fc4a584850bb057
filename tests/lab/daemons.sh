# SPDX-License-Identifier: MIT
# Lab helpers for scenarios that run the real daemons: vxsec-keymgr on the
# leader's VM, vxsec-agent --vxlan on the members. Sourced inside a VM after
# lib.sh and vxsec.sh.

KM="$LAB_SRC/build/vxsec-keymgr -d /tmp/km -s /tmp/km.sock"
AG="$LAB_SRC/build/vxsec-agent -s /tmp/agent.sock"
me=$LAB_INDEX

# d_die MESSAGE: this VM's daemon status and logs, then the failure.
d_die() {
	[ -S /tmp/agent.sock ] && { $AG status || true; }
	[ -f /tmp/agent.log ] && tail -n 40 /tmp/agent.log
	[ -S /tmp/km.sock ] && { $KM status || true; }
	[ -f /tmp/km.log ] && tail -n 40 /tmp/km.log
	lab_fail "$*"
}

# The leader: a new cluster, its join token on the share, serving.
d_leader_init() {
	$KM init | sed -n 's/^join token: //p' >"$LAB_DIR/token"
	[ -s "$LAB_DIR/token" ] || d_die "vxsec-keymgr init gave no token"
}

# d_leader_start [FLAGS...]: the leader on this VM's address, port 7120.
d_leader_start() {
	$KM -l "$(lab_ip_of "$me"):7120" "$@" run >>/tmp/km.log 2>&1 &
	echo $! >/tmp/km.pid
	end=$(($(date +%s) + 20))
	until [ -S /tmp/km.sock ] && $KM status >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$end" ] || d_die "the leader did not start"
		sleep 0.2
	done
}

# d_agent_start LEADER_VM [FLAGS...]: this VM's agent, joining with the token.
d_agent_start() {
	leader_vm=$1
	shift
	$AG -L "$(lab_ip_of "$leader_vm"):7120" -a "$(lab_ip_of "$me")" \
		-n "vm$me" -t "$LAB_DIR/token" -d /tmp/agent --vxlan \
		--underlay-cidr "$LAB_NET.0/24" --resync-interval 2s "$@" \
		run >>/tmp/agent.log 2>&1 &
	echo $! >/tmp/agent.pid
}

# d_json FIELD: the first number or word FIELD has in `status --json`.
d_json() {
	$AG status --json 2>/dev/null | grep -o "\"$1\":[a-z0-9]*" |
		head -n 1 | cut -d: -f2
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

# d_ping_start NAME PEER COUNT: 100 packets/s to PEER's overlay address.
# The deadline (-w) lets a late reply still count (without it ping gives up
# on the last ones after a few round trips, and a VM the host paused for a
# moment would show a loss the overlay never had); with it, ping may send
# a few more than COUNT, so d_ping_end checks the sequence numbers.
d_ping_start() {
	echo "$3" >"/tmp/ping.$1.count"
	ping -i 0.01 -c "$3" -w $(($3 / 100 + 20)) "$(vx_overlay_ip "$2")" \
		>"/tmp/ping.$1" 2>&1 &
	echo $! >"/tmp/ping.$1.pid"
}

# d_ping_running NAME: the ping still runs (it must cover the whole event).
d_ping_running() { kill -0 "$(cat "/tmp/ping.$1.pid")" 2>/dev/null; }

# d_ping_end NAME LABEL: waits for the ping; every one of the first COUNT
# echo requests must have been answered: 0 lost.
d_ping_end() {
	wait "$(cat "/tmp/ping.$1.pid")" || true
	n=$(cat "/tmp/ping.$1.count")
	got=$(sed -n 's/.* icmp_seq=\([0-9]*\) .*/\1/p' "/tmp/ping.$1" |
		awk -v n="$n" '$1 >= 1 && $1 <= n' | sort -u | wc -l)
	echo "loss $2: sent $n received $got lost $((n - got))"
	[ "$got" = "$n" ] || d_die "$2: packets lost (sent $n, received $got)"
}
