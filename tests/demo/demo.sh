#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make demo: install what is missing, build, run the encrypted overlay in network namespaces (kernel with ESP) or in the VM lab.
#
# VXSEC_DEMO_MODE=auto (default) | netns | lab forces a path; netns on a
# kernel without ESP stops at the agents' first SA, says so, and cleans up.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$SRC/build/demo
MODE=${VXSEC_DEMO_MODE:-auto}
MAKE=${MAKE:-make}
KM_BIN=$SRC/build/vxsec-keymgr
AG_BIN=$SRC/build/vxsec-agent

# The netns path: a switch namespace holding the bridge, the leader's
# namespace and one per node. These addresses exist only inside them.
NS=vxdemo
NS_SW=$NS-switch
NS_LEADER=$NS-leader
NODES=(node1 node2 node3)
UNDERLAY=192.168.77
LEADER_IP=$UNDERLAY.10
PORT=7120
VNI=77

T0=$SECONDS
STEP=0
if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B='' N=''; fi

step() {
	STEP=$((STEP + 1))
	printf '\n%s%d. %s%s\n' "$B" "$STEP" "$1" "$N"
	[ $# -lt 2 ] || echo "   $2"
}
sub() { printf '\n%s%s%s\n' "$B" "$*" "$N"; }
say() { echo "   $*"; }
indent() { sed 's/^/   /'; }
die() {
	echo "demo: error: $*" >&2
	exit 1
}

# ---- cleanup: whatever this run started or created, on every exit ----

PIDS=()         # daemons and tcpdump, all children of this shell
CREATED_NS=()   # network namespaces, deleted in reverse order
TMPD=''         # state directories and sockets (keys): removed
LAB_PID=''      # lab.sh, leader of its own process group

STOP_RC=0
stop_pid() { # PID: SIGTERM, up to 5 s, then SIGKILL; its exit code in STOP_RC
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		[ "$i" -lt 50 ] || kill -KILL "$pid" 2>/dev/null || true
		sleep 0.1
	done
	STOP_RC=0
	wait "$pid" 2>/dev/null || STOP_RC=$?
}

# descendants PID: every process under PID, children first.
descendants() {
	ps -eo pid=,ppid= | awk -v root="$1" '
		{ kids[$2] = kids[$2] " " $1 }
		function walk(p,  n, a, i) {
			n = split(kids[p], a, " ")
			for (i = 1; i <= n; i++) { print a[i]; walk(a[i]) }
		}
		END { walk(root) }'
}

# The lab: its VMs run under timeout(1), which makes its own process group,
# so the VMs are stopped by id (timeout passes SIGTERM to QEMU), then lab.sh,
# whose exit trap stops the switch.
stop_lab() {
	local pids i p alive
	pids=$(descendants "$LAB_PID")
	# shellcheck disable=SC2086 # a list of pids
	[ -z "$pids" ] || kill -TERM $pids 2>/dev/null
	kill -TERM -- "-$LAB_PID" 2>/dev/null
	wait "$LAB_PID" 2>/dev/null
	for i in $(seq 50); do
		alive=0
		for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ "$alive" = 1 ] || break
		sleep 0.1
	done
}

cleanup() {
	local rc=$? pid ns i
	set +e
	trap - EXIT INT TERM
	[ -z "$LAB_PID" ] || stop_lab
	for pid in "${PIDS[@]}"; do
		stop_pid "$pid"
	done
	for ((i = ${#CREATED_NS[@]} - 1; i >= 0; i--)); do
		ns=${CREATED_NS[$i]}
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	[ -z "$TMPD" ] || rm -rf "$TMPD"
	if [ "$rc" != 0 ]; then
		local what=FAILED
		[ "$rc" != 130 ] && [ "$rc" != 143 ] || what=INTERRUPTED
		echo >&2
		echo "demo: $what (exit $rc) after $((SECONDS - T0)) s; cleaned up: daemons and VMs stopped, namespaces deleted, temporary state removed" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- 1-3: root, packages, build ----

deps_list() {
	if [ -n "${DEPS_PKGS:-}" ]; then
		echo "$DEPS_PKGS"
		return
	fi
	# Run directly, not from make: the list in the Makefile.
	awk '/^DEPS_PKGS :=/ { on = 1; sub(/^DEPS_PKGS :=/, "") }
		on { c = sub(/\\$/, ""); print; if (!c) exit }' "$SRC/Makefile"
}

check_root() {
	step "Privileges" "network namespaces, XFRM and the VM lab need root."
	if [ "$(id -u)" != 0 ]; then
		echo "demo: make demo needs root: run it as 'sudo make demo'" >&2
		trap - EXIT
		exit 1
	fi
	say "running as root"
}

install_deps() {
	local p missing=()
	step "Packages" "every Debian package the build and the lab need; 'make deps' (apt-get) runs only if one is missing."
	command -v dpkg-query >/dev/null || die "dpkg-query not found: vxsec targets Debian 12"
	for p in $(deps_list); do
		[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = 'install ok installed' ] ||
			missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		say "all $(deps_list | wc -w) packages installed"
		return
	fi
	say "missing: ${missing[*]}"
	say "\$ make deps"
	"$MAKE" --no-print-directory -C "$SRC" deps 2>&1 | indent
}

build() {
	step "Build" "the leader, the agent, their libraries and test tools, in build/."
	say "\$ make all"
	"$MAKE" --no-print-directory -C "$SRC" all 2>&1 | indent
	if [ ! -x "$KM_BIN" ] || [ ! -x "$AG_BIN" ]; then
		die "make all did not produce the daemons"
	fi
	say "built: build/vxsec-keymgr, build/vxsec-agent"
}

# ---- 4: can this kernel do ESP? ----

ESP_OK=0
ESP_WHY=''

# A throwaway namespace and one AES-GCM SA: exactly what the agents need.
probe_esp() {
	local ns="$NS-probe-$$" key out
	key=0x$(printf '%072d' 0) # 32-byte key + 4-byte salt of zeros: a probe, not a secret
	if ! ip netns add "$ns" 2>/dev/null; then
		ESP_WHY="cannot create a network namespace (ip netns add)"
		return
	fi
	CREATED_NS+=("$ns")
	if out=$(ip -n "$ns" xfrm state add src 192.0.2.1 dst 192.0.2.2 \
		proto esp spi 0x100 mode transport \
		aead 'rfc4106(gcm(aes))' "$key" 128 2>&1); then
		ESP_OK=1
		ESP_WHY="an ESP SA with rfc4106(gcm(aes)) was added in a throwaway namespace"
	else
		out=${out#Error: }
		ESP_WHY="adding an ESP SA with rfc4106(gcm(aes)) failed: ${out%.}"
	fi
	ip netns del "$ns"
	unset 'CREATED_NS[-1]'
}

choose_path() {
	step "Kernel" "does this kernel have ESP and AES-GCM? One SA is added in a throwaway network namespace (deleted right after)."
	probe_esp
	say "$ESP_WHY"
	case "$MODE" in
	auto)
		if [ "$ESP_OK" = 1 ]; then MODE=netns; else MODE=lab; fi
		;;
	netns | lab) say "VXSEC_DEMO_MODE=$MODE: that path is forced" ;;
	*) die "VXSEC_DEMO_MODE=$MODE: use auto, netns or lab" ;;
	esac
	if [ "$MODE" = netns ]; then
		say "=> the overlay runs here, in network namespaces (the host's own network is not touched)"
		[ "$ESP_OK" = 1 ] || say "   (forced: expect the agents to fail at their first SA)"
	else
		say "=> this kernel cannot carry ESP: the overlay runs in the VM lab (QEMU, Debian's kernel)"
	fi
}

# ---- 5 (netns): the overlay in network namespaces ----

# Foreground only: started with &, a function would leave a subshell between
# this script and the daemon; daemons are started with ip netns exec itself.
nsx() { ip netns exec "$@"; }
node_ns() { echo "$NS-$1"; }
node_ip() { echo "$UNDERLAY.$((10 + $1))"; } # node1 = .11
overlay_ip() { echo "10.77.0.$1"; }
agent_sock() { echo "$TMPD/$1/agent.sock"; }
km() { "$KM_BIN" -d "$TMPD/leader" -s "$TMPD/km.sock" "$@"; }
ag() { local n=$1; shift; "$AG_BIN" -s "$(agent_sock "$n")" "$@"; }

# A previous run that was killed hard may have left its namespaces.
remove_stale() {
	local ns
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }' | grep "^$NS-" || true); do
		say "removing $ns, left by an interrupted run"
		ip netns pids "$ns" | xargs -r kill -KILL
		ip netns del "$ns"
	done
	# Its temporary state (keys): no other demo runs, we hold the lock.
	rm -rf /tmp/vxsec-demo.*
}

add_ns() {
	ip netns add "$1"
	CREATED_NS+=("$1")
	ip -n "$1" link set lo up
}

# plug NS IP: a veth from the switch's bridge into NS, as eth0 with IP/24.
plug() {
	local ns=$1 ip=$2 port="p-${1#"$NS"-}"
	ip -n "$NS_SW" link add "$port" type veth peer name eth0 netns "$ns"
	ip -n "$NS_SW" link set "$port" master br0 up
	ip -n "$ns" addr add "$ip/24" dev eth0
	ip -n "$ns" link set eth0 up
}

netns_network() {
	local i
	remove_stale
	TMPD=$(mktemp -d /tmp/vxsec-demo.XXXXXX)
	rm -rf "$LOGS"
	mkdir -p "$LOGS"
	add_ns "$NS_SW"
	ip -n "$NS_SW" link add br0 type bridge
	ip -n "$NS_SW" link set br0 up
	add_ns "$NS_LEADER"
	plug "$NS_LEADER" "$LEADER_IP"
	for i in "${!NODES[@]}"; do
		add_ns "$(node_ns "${NODES[$i]}")"
		plug "$(node_ns "${NODES[$i]}")" "$(node_ip $((i + 1)))"
		mkdir -p "$TMPD/${NODES[$i]}"
	done
	say "namespaces: $NS_SW (bridge br0), $NS_LEADER $LEADER_IP, $(for i in "${!NODES[@]}"; do printf '%s %s  ' "$(node_ns "${NODES[$i]}")" "$(node_ip $((i + 1)))"; done)"
	if command -v tcpdump >/dev/null; then
		ip netns exec "$NS_SW" tcpdump -Z root -i br0 -nn -U -w "$LOGS/underlay.pcap" \
			2>"$LOGS/tcpdump.log" &
		PIDS+=($!)
		for i in $(seq 50); do
			grep -q 'listening on' "$LOGS/tcpdump.log" && break
			sleep 0.1
		done
		say "tcpdump records the underlay (br0) in build/demo/netns/underlay.pcap"
	fi
	for i in "${!NODES[@]}"; do
		nsx "$(node_ns "${NODES[$i]}")" ping -c 1 -W 5 "$LEADER_IP" >/dev/null ||
			die "${NODES[$i]} cannot reach the leader's namespace at $LEADER_IP"
	done
}

netns_leader() {
	local i
	sub "a. The leader ($NS_LEADER, $LEADER_IP): 'vxsec-keymgr init' creates the cluster (its CA, key generation 1, a join token), 'run' serves agents on port $PORT."
	(umask 077 && nsx "$NS_LEADER" "$KM_BIN" -d "$TMPD/leader" -s "$TMPD/km.sock" init |
		sed -n 's/^join token: //p' >"$TMPD/token")
	[ -s "$TMPD/token" ] || die "vxsec-keymgr init gave no join token"
	say "\$ vxsec-keymgr init: new cluster in a temporary directory; join token handed to the nodes"
	ip netns exec "$NS_LEADER" "$KM_BIN" -d "$TMPD/leader" -s "$TMPD/km.sock" \
		-l "$LEADER_IP:$PORT" --grace 2s run >"$LOGS/keymgr.log" 2>&1 &
	PIDS+=($!)
	KM_PID=$!
	for i in $(seq 100); do
		km status >/dev/null 2>&1 && break
		kill -0 "$KM_PID" 2>/dev/null || { indent <"$LOGS/keymgr.log"; die "the leader exited"; }
		[ "$i" -lt 100 ] || die "the leader did not start in 10 s"
		sleep 0.1
	done
	say "\$ vxsec-keymgr status"
	km status | indent
}

# agent_synced NODE GEN: in sync, GEN committed and alone, every SA there.
agent_synced() {
	local j
	j=$(ag "$1" status --json 2>/dev/null) || return 1
	grep -q '"in_sync":true' <<<"$j" &&
		grep -q "\"sas\":$SAS," <<<"$j" &&
		grep -q "\"generations\":\[{\"generation\":$2,\"phase\":\"committed\"}\]" <<<"$j"
}

agent_fail() { # NODE MESSAGE
	local n=$1
	shift
	echo "   --- $n: vxsec-agent status ---"
	ag "$n" status 2>&1 | indent || true
	echo "   --- $n: last lines of build/demo/netns/$n.log ---"
	tail -n 15 "$LOGS/$n.log" | indent
	if [ "$ESP_OK" != 1 ]; then
		die "$n: $*: this kernel cannot add ESP SAs ($ESP_WHY).
    Run 'sudo make demo' without VXSEC_DEMO_MODE=netns: it then uses the VM lab, whose kernel has ESP."
	fi
	die "$n: $*"
}

# wait_agents GEN: every agent in sync on generation GEN, within 60 s.
wait_agents() {
	local n end=$((SECONDS + 60))
	for n in "${NODES[@]}"; do
		until agent_synced "$n" "$1"; do
			kill -0 "${AG_PID[$n]}" 2>/dev/null || agent_fail "$n" "the agent exited"
			# Without ESP no SA can ever be added: fail at the first refusal.
			if [ "$ESP_OK" != 1 ] && [[ "$(ag "$n" status 2>/dev/null)" == *"last kernel error"* ]]; then
				agent_fail "$n" "the agent cannot install its SAs"
			fi
			[ "$SECONDS" -lt "$end" ] ||
				agent_fail "$n" "not in sync on generation $1 with $SAS SAs after 60 s"
			sleep 0.2
		done
	done
}

netns_agents() {
	local i n t
	sub "b. The agents (${NODES[*]}): 'vxsec-agent --vxlan' joins with the token, installs one SA per direction and peer plus fail-closed policies, and creates vxsec0."
	declare -gA AG_PID=()
	t=$SECONDS
	for i in "${!NODES[@]}"; do
		n=${NODES[$i]}
		ip netns exec "$(node_ns "$n")" "$AG_BIN" -s "$(agent_sock "$n")" -L "$LEADER_IP:$PORT" \
			-a "$(node_ip $((i + 1)))" -n "$n" -t "$TMPD/token" -d "$TMPD/$n/state" \
			--vxlan --vni "$VNI" --resync-interval 5s run >"$LOGS/$n.log" 2>&1 &
		PIDS+=($!)
		AG_PID[$n]=$!
	done
	wait_agents 1
	for i in "${!NODES[@]}"; do
		n=${NODES[$i]}
		ip -n "$(node_ns "$n")" addr add "$(overlay_ip $((i + 1)))/24" dev vxsec0
		say "$n joined, in sync in $((SECONDS - t)) s: $SAS SAs; vxsec0 $(overlay_ip $((i + 1)))/24, MTU $(nsx "$(node_ns "$n")" cat /sys/class/net/vxsec0/mtu) (underlay 1500 minus ESP and VXLAN)"
	done
}

netns_status() {
	local n
	for n in "${NODES[@]}"; do
		say "\$ vxsec-agent status      (in $(node_ns "$n"))"
		ag "$n" status | indent
	done
}

netns_pings() {
	local i j out
	for i in "${!NODES[@]}"; do
		for j in "${!NODES[@]}"; do
			[ "$i" != "$j" ] || continue
			out=$(nsx "$(node_ns "${NODES[$i]}")" ping -c 3 -i 0.2 -W 5 "$(overlay_ip $((j + 1)))") ||
				die "overlay ping ${NODES[$i]} -> ${NODES[$j]} got no reply"
			say "${NODES[$i]} -> ${NODES[$j]} $(overlay_ip $((j + 1))): $(grep 'packets transmitted' <<<"$out")"
		done
	done
}

netns_rotate() {
	local t i j
	sub "e. A rotation: 'vxsec-keymgr rotate'. Prepare (every node installs generation 2), commit (senders switch), grace, retire generation 1."
	t=$(date +%s%N)
	say "\$ vxsec-keymgr rotate"
	km rotate | indent
	for i in $(seq 600); do
		j=$(km status --json)
		grep -q '"generations":\[{"generation":2,"phase":"committed"}\]' <<<"$j" &&
			grep -q '"phase":"idle"' <<<"$j" && break
		[ "$i" -lt 600 ] || die "the rotation to generation 2 did not finish in 60 s"
		sleep 0.1
	done
	say "rotation to generation 2 done in $((($(date +%s%N) - t) / 1000000)) ms (2 s of it is the grace period)"
	say "\$ vxsec-keymgr status"
	km status | indent
	wait_agents 2
}

netns_wire() {
	local pcap=$LOGS/underlay.pcap all esp tls clear
	[ -s "$pcap" ] || { say "no pcap (tcpdump missing)"; return; }
	all=$(tcpdump -nn -r "$pcap" 2>/dev/null | wc -l)
	esp=$(tcpdump -nn -r "$pcap" esp 2>/dev/null | wc -l)
	tls=$(tcpdump -nn -r "$pcap" "tcp port $PORT" 2>/dev/null | wc -l)
	clear=$(tcpdump -nn -r "$pcap" 'udp port 4789' 2>/dev/null | wc -l)
	say "underlay (br0): $all packets: $esp ESP, $tls TLS to the leader (tcp/$PORT), $clear cleartext VXLAN (udp/4789)"
	[ "$clear" -eq 0 ] || die "cleartext VXLAN crossed the underlay"
	[ "$esp" -gt 0 ] || die "no ESP on the underlay"
	WIRE="ESP only: $esp ESP packets, 0 cleartext VXLAN"
}

netns_teardown() {
	local n pid left i
	sub "g. Teardown: each agent stops on SIGTERM (exit 0), then the leader; deleting the namespaces removes vxsec0, the SAs and the policies."
	for n in "${NODES[@]}"; do
		stop_pid "${AG_PID[$n]}"
		[ "$STOP_RC" = 0 ] || die "$n: the agent exited with $STOP_RC on SIGTERM"
		say "$n: agent stopped (exit 0); the kernel still holds $(ip -n "$(node_ns "$n")" xfrm state | grep -c '^src' || true) SAs (fail closed)"
	done
	stop_pid "$KM_PID"
	[ "$STOP_RC" = 0 ] || die "the leader exited with $STOP_RC on SIGTERM"
	say "leader stopped (exit 0)"
	for pid in "${PIDS[@]}"; do
		stop_pid "$pid"
	done
	PIDS=()
	sub "h. The wire: what crossed the underlay bridge, from tcpdump in $NS_SW."
	netns_wire
	for ((i = ${#CREATED_NS[@]} - 1; i >= 0; i--)); do
		ip netns del "${CREATED_NS[$i]}"
	done
	CREATED_NS=()
	rm -rf "$TMPD"
	TMPD=''
	left=$(ip netns list | grep -c "^$NS-" || true)
	say "namespaces deleted ($left left), temporary state removed"
}

run_netns() {
	LOGS=$OUT/netns
	SAS=$((2 * (${#NODES[@]} - 1)))
	WIRE=''
	step "The encrypted overlay, in network namespaces" "1 leader + ${#NODES[@]} nodes on a private bridge; every packet stays in namespaces this script created."
	netns_network
	netns_leader
	netns_agents
	sub "c. Status: the leader's members, then what each agent has programmed (SPIs, packets per SA)."
	say "\$ vxsec-keymgr nodes"
	km nodes | indent
	netns_status
	sub "d. Pings over the overlay (vxsec0, 10.77.0.0/24): every node to every other; on the wire they are ESP."
	netns_pings
	netns_rotate
	sub "f. After the rotation: every agent holds generation 2 alone (new SPIs 0x03......), and the overlay still answers."
	netns_status
	netns_pings
	netns_teardown
	WHERE="here, in network namespaces: $NS_LEADER + ${NODES[*]/#/$NS-} on a bridge in $NS_SW"
	LOGS_AT="build/demo/netns/ (keymgr.log, node1.log..., underlay.pcap)"
}

# ---- 5 (lab): the same in VMs ----

# follow PID LABEL=FILE...: print the new complete lines of each file, with
# its label, every half second until PID has ended (then once more). Files
# may not exist yet, or be replaced.
follow() {
	local pid=$1 spec label file total done=0
	shift
	local -A seen=()
	while :; do
		kill -0 "$pid" 2>/dev/null || done=1
		for spec; do
			label=${spec%%=*}
			file=${spec#*=}
			total=0
			[ -f "$file" ] && total=$(wc -l <"$file")
			[ "$total" -ge "${seen[$label]:-0}" ] || seen[$label]=0
			if [ "$total" -gt "${seen[$label]:-0}" ]; then
				if [ "$label" = lab ]; then # lab.sh's progress lines only
					sed -n "$((${seen[$label]:-0} + 1)),${total}p" "$file" |
						grep '^lab:' | grep -v '^lab: vm[0-9]' | indent || true
				else
					sed -n "$((${seen[$label]:-0} + 1)),${total}p" "$file" | sed "s/^/   $label | /"
				fi
				seen[$label]=$total
			fi
		done
		[ "$done" = 0 ] || break
		sleep 0.5
	done
}

run_lab() {
	local name=overlay-demo res labout rc=0 vms i specs=()
	res=${VXSEC_LAB_OUT:-$SRC/build/lab}/$name
	labout=$OUT/lab.out
	vms=$(cat "$SRC/tests/lab/demo/$name/vms")
	step "The encrypted overlay, in the VM lab" "$vms QEMU VMs on a private switch: the leader on vm1, an agent on each; their output streams below as they go."
	say "\$ tests/lab/lab.sh demo $name     (first run: fetches Debian's kernel into /var/cache/vxsec-lab, never installs it)"
	rm -rf "$res"
	: >"$labout"
	# Its own process group: an interrupted demo stops every VM it started.
	setsid -w "$SRC/tests/lab/lab.sh" demo "$name" >"$labout" 2>&1 </dev/null &
	LAB_PID=$!
	specs=("lab=$labout")
	for i in $(seq "$vms"); do specs+=("vm$i=$res/vm$i.log"); done
	follow "$LAB_PID" "${specs[@]}"
	wait "$LAB_PID" || rc=$?
	LAB_PID=''
	if [ "$rc" != 0 ]; then
		echo "   --- the lab's report ---"
		grep -v '^lab:' "$labout" | indent || true
		die "the lab run failed (exit $rc); its logs, consoles and pcaps are in ${res#"$SRC"/}/"
	fi
	step "The wire" "the pcaps QEMU recorded of each VM's underlay: ESP, never cleartext VXLAN."
	grep -v '^lab:' "$labout" | indent
	WIRE=$(tail -n 1 "$res/check.log" 2>/dev/null | sed 's/^the wire: //' || true)
	WHERE="in the VM lab: the leader on vm1, agents on vm1-vm$vms (QEMU, $(sed -n 's/^lab: kernel \([^,]*\),.*/Debian kernel \1/p' "$labout"))"
	LOGS_AT="${res#"$SRC"/}/ (vmN.log, vmN.agent.log, vm1.keymgr.log, vmN.pcap, vmN.console) and build/demo/lab.out"
}

# ---- main ----

main() {
	local t
	echo "${B}vxsec demo${N}: the leader and three agents build an encrypted VXLAN overlay (ESP, AES-GCM, one key per node pair), then rotate its keys."
	check_root
	mkdir -p "$OUT"
	exec 9>"$OUT/.lock"
	flock -n 9 || die "another 'make demo' is running"
	t=$SECONDS
	install_deps
	build
	T_PREP=$((SECONDS - t))
	choose_path
	t=$SECONDS
	if [ "$MODE" = netns ]; then run_netns; else run_lab; fi
	T_RUN=$((SECONDS - t))
	printf '\n%sSummary%s\n' "$B" "$N"
	say "ran:    $WHERE"
	say "kernel: $ESP_WHY"
	say "wire:   ${WIRE:-see above}"
	say "time:   $((SECONDS - T0)) s in all (packages + build ${T_PREP} s, overlay ${T_RUN} s)"
	say "logs:   $LOGS_AT"
	say "left:   nothing running, no namespace of ours ($(ip netns list | grep -c "^$NS-" || true) left); files only under build/"
}

main "$@"
