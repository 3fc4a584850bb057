#!/bin/sh
# SPDX-License-Identifier: MIT
# Issue 17, the packages under systemd as an operator runs them: VMs booted
# with systemd 252 as PID 1 (tests/lab/guest-systemd.sh), the .debs of
# make deb installed with dpkg -i, the units started with systemctl.
# vxsec-keymgr on vm1, vxsec-agent on vm1-vm3 (vm1 is leader and member).
#  a. the boot (systemd-analyze time), dpkg -i: the units enabled, not
#     started; the users and state directories exist
#  b. vm1: keymgr.conf, vxsec-keymgr init (the join token), systemctl start
#     vxsec-keymgr; agent.conf (leader, address, token_file, underlay_cidr,
#     vxlan) and the token (0600, the agent's user) on every VM, systemctl
#     start vxsec-agent; readiness: is-active, in sync, StatusText when the
#     unit is Type=notify; systemctl status healthy; overlay pings
#  c. the hardening in force, from /proc/PID/status of the running
#     services: the agent's CapEff, CapPrm and CapBnd are CAP_NET_ADMIN
#     alone, its user is vxsec-agent, NoNewPrivs, a seccomp filter; the
#     leader has no capability at all
#  d. systemctl restart vxsec-agent on vm2 while vm1 and vm3 ping vm2's
#     overlay address (asked at 100/s, tests/lab/ping.sh): 0 lost; the
#     restart adopts the kernel's SAs unchanged
#  e. journalctl -u shows each daemon's lines (vm2: both runs of the agent)
#  f. GET /metrics with curl, when the installed daemons know
#     metrics_listen; otherwise a printed skip naming why
#  g. vm1: libvxsec-keymgr0 and -dev installed with dpkg -i; the example
#     the -dev package ships built with cc and pkg-config against them, as
#     a control plane would, linked to the installed library, run on
#     127.0.0.1: the packaged vxsec-keymgr reads its status, SIGUSR1 rotates
#     (its done callback logged), SIGTERM ends it with 0
set -eu
. "$LAB_SRC/tests/lab/lib.sh"
. "$LAB_SRC/tests/lab/vxsec.sh"
. "$LAB_SRC/tests/lab/daemons.sh"
# The installed commands; they find the sockets in /etc/vxsec/*.conf.
KM=vxsec-keymgr
AG=vxsec-agent
DEB=$LAB_SRC/build/deb
peers=$(for p in $(seq "$LAB_VMS"); do [ "$p" = "$me" ] || printf "%s " "$p"; done)
sas=$((2 * (LAB_VMS - 1))) # each peer: in + out, one generation
CAP_NET_ADMIN=0000000000001000
AG_METRICS=127.0.0.1:7122 KM_METRICS=127.0.0.1:7121

lab_on_fail() {
	systemctl --no-pager status vxsec-agent vxsec-keymgr 2>&1 || true
	for u in vxsec-agent vxsec-keymgr; do
		echo "--- journalctl -u $u (last 40 lines)"
		journalctl --no-pager -u "$u" -n 40 2>&1 || true
	done
	echo "--- failed units"
	systemctl --no-pager --failed 2>&1 || true
}
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
# unit_active UNIT SECONDS: the unit is active (running) in time.
unit_active() {
	end=$(($(date +%s) + $2))
	until systemctl is-active -q "$1"; do
		[ "$(date +%s)" -lt "$end" ] ||
			d_die "$1: $(systemctl is-active "$1") after $2 s"
		sleep 0.2
	done
}
# unit_healthy UNIT: systemctl status exits 0 and says active (running),
# the service was not restarted by Restart=on-failure.
unit_healthy() {
	st=$(systemctl --no-pager status "$1" 2>&1) ||
		d_die "systemctl status $1 failed: $st"
	echo "$st" | grep -q "Active: active (running)" ||
		d_die "systemctl status $1 is not active (running): $st"
	n=$(systemctl show -p NRestarts --value "$1")
	[ "$n" = 0 ] || d_die "$1 was restarted $n times by systemd"
	echo "$st" | sed -n 's/^ *\(Active: .*\)/\1/p' | sed "s/^/$1: /"
}
# proc_field PID FIELD: a line of /proc/PID/status, its value only.
proc_field() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
is_notify() { [ "$(systemctl show -p Type --value "$1")" = notify ]; }
# readiness UNIT: with Type=notify, its StatusText (READY=1 reached by
# then: systemctl start waited for it); Type=simple has none, said so.
readiness() {
	type=$(systemctl show -p Type --value "$1")
	if [ "$type" = notify ]; then
		end=$(($(date +%s) + 30))
		until st=$(systemctl show -p StatusText --value "$1") && [ -n "$st" ]; do
			[ "$(date +%s)" -lt "$end" ] || d_die "$1: Type=notify but no StatusText"
			sleep 0.2
		done
		echo "$1: Type=notify, StatusText: $st"
	else
		echo "SKIP readiness of $1: its unit is Type=$type (no READY=1 nor STATUS= to check; the installed package predates Type=notify)"
	fi
}
# knows_metrics DAEMON CONFFILE: the installed daemon has metrics_listen.
knows_metrics() {
	"$1" --help 2>&1 | grep -q metrics_listen || grep -q metrics_listen "$2"
}
# metrics DAEMON CONFFILE ADDRESS FAMILY: curl of /metrics answers with
# FAMILY's lines, or a skip that says why.
metrics() {
	if ! knows_metrics "$1" "$2"; then
		echo "SKIP metrics of $1: the installed $1 does not know metrics_listen (not in '$1 --help' nor in $2)"
		return 0
	fi
	out=$(curl -fsS --max-time 10 "http://$3/metrics") ||
		d_die "f: curl http://$3/metrics ($1) failed"
	n=$(echo "$out" | grep -c "^$4") || true
	[ "$n" -gt 0 ] || d_die "f: http://$3/metrics of $1 has no $4 line: $out"
	echo "f: curl http://$3/metrics ($1): $n lines of $4*, e.g. $(echo "$out" | grep "^$4" | head -n 1)"
}

# ---- a. the boot, the packages ----
echo "a: vm$me up $(cut -d' ' -f1 /proc/uptime) s after its kernel started; $(systemd-analyze time 2>&1 | head -n 1)"
echo "a: vm$me system state: $(systemctl is-system-running 2>&1 || true)$(systemctl --failed --no-legend --plain 2>/dev/null | awk '{ printf " %s", $1 }')"
lab_modprobe
# The underlay first: once (1 run in 7) vm2's frames stopped reaching the
# switch's other ports (its pcap held its ARP requests, vm1's none), and
# the scenario failed 90 s later as "agent not in sync".
lab_barrier up
for p in $peers; do
	ping -c 1 -w 10 "$(lab_ip_of "$p")" >/dev/null ||
		d_die "a: vm$me cannot ping vm$p's underlay address: the lab's switch, not vxsec"
done
pkgs=$DEB/vxsec-agent_*_amd64.deb
[ "$me" = 1 ] && pkgs="$DEB/vxsec-keymgr_*_amd64.deb $pkgs"
t0=$(date +%s%N)
# shellcheck disable=SC2086 # globs
dpkg -i $pkgs >/tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log; d_die "a: dpkg -i failed"; }
echo "a: vm$me: dpkg -i $(echo $pkgs | sed "s|$DEB/||g") in $(ms_since "$t0") ms"
units=vxsec-agent
[ "$me" = 1 ] && units="vxsec-keymgr vxsec-agent"
for u in $units; do
	[ "$(systemctl is-enabled "$u")" = enabled ] || d_die "a: $u is not enabled"
	! systemctl is-active -q "$u" || d_die "a: $u was started by the installation"
	getent passwd "$u" >/dev/null || d_die "a: no user $u"
	st=$(stat -c '%U %a' "/var/lib/$u") || d_die "a: no /var/lib/$u"
	[ "$st" = "$u 700" ] || d_die "a: /var/lib/$u is '$st', not '$u 700'"
	echo "a: vm$me: $u enabled, not started; user $u; /var/lib/$u $st"
done

# ---- b. the leader, then the agents, as an operator starts them ----
if [ "$me" = 1 ]; then
	knows_metrics vxsec-keymgr /etc/vxsec/keymgr.conf &&
		echo "metrics_listen = $KM_METRICS" >>/etc/vxsec/keymgr.conf
	# As root, as the docs say: init gives its files to the owner of the
	# directory the package made (the service's user). Before, they
	# stayed root's and the first start failed with "state file ...:
	# Permission denied" (StateDirectory= leaves a directory it owns
	# already alone).
	$KM init | sed -n 's/^join token: //p' >"$LAB_DIR/token"
	[ -s "$LAB_DIR/token" ] || d_die "b: vxsec-keymgr init gave no token"
	owner=$(stat -c %U /var/lib/vxsec-keymgr/state /var/lib/vxsec-keymgr/ca.pem | sort -u)
	[ "$owner" = vxsec-keymgr ] ||
		d_die "b: the files init made are $owner's, not vxsec-keymgr's"
	t0=$(date +%s%N)
	systemctl start vxsec-keymgr || d_die "b: systemctl start vxsec-keymgr failed"
	# Type=notify: start returns at READY=1, once the state is loaded and
	# the leader listens.
	if is_notify vxsec-keymgr; then
		ss -Hltn 'sport = :7120' | grep -q . ||
			d_die "b: systemctl start vxsec-keymgr returned before it listened on 7120"
		echo "b: READY=1: vxsec-keymgr listened on 7120 when systemctl start returned"
	fi
	unit_active vxsec-keymgr 30
	end=$(($(date +%s) + 30))
	until $KM status >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$end" ] || d_die "b: vxsec-keymgr status does not answer"
		sleep 0.2
	done
	echo "b: vxsec-keymgr started, its status answering in $(ms_since "$t0") ms"
	readiness vxsec-keymgr
	unit_healthy vxsec-keymgr
fi
lab_barrier leader
cat >>/etc/vxsec/agent.conf <<EOF
leader = $(lab_ip_of 1):7120
address = $(lab_ip_of "$me")
token_file = /etc/vxsec/token
underlay_cidr = $LAB_NET.0/24
vxlan = yes
EOF
knows_metrics vxsec-agent /etc/vxsec/agent.conf &&
	echo "metrics_listen = $AG_METRICS" >>/etc/vxsec/agent.conf
install -m 0600 -o vxsec-agent -g vxsec-agent "$LAB_DIR/token" /etc/vxsec/token
t0=$(date +%s%N)
systemctl start vxsec-agent || d_die "b: systemctl start vxsec-agent failed"
t_start=$(ms_since "$t0")
# Type=notify: start returns at READY=1, once the kernel holds the first
# revision from the leader (a revision number never goes back).
if is_notify vxsec-agent; then
	kr=$(d_json kernel_revision)
	[ "${kr:-0}" -ge 1 ] ||
		d_die "b: systemctl start vxsec-agent returned with the kernel at revision '$kr'"
	echo "b: READY=1: the kernel held revision $kr when systemctl start returned"
fi
unit_active vxsec-agent 30
d_wait_sync $sas 90
echo "b: vm$me: systemctl start vxsec-agent returned in $t_start ms; in sync ($sas SAs) in $(ms_since "$t0") ms"
readiness vxsec-agent
unit_healthy vxsec-agent
d_overlay_up
lab_barrier joined
for p in $peers; do
	ping -c 3 -i 0.2 -W 5 "$(vx_overlay_ip "$p")" >/dev/null ||
		d_die "b: overlay ping vm$me -> vm$p got no reply"
done
echo "b: vm$me pinged every peer over the overlay"

# ---- c. the hardening in force ----
pid=$(systemctl show -p MainPID --value vxsec-agent)
for f in CapEff CapPrm CapBnd; do
	v=$(proc_field "$pid" $f)
	[ "$v" = $CAP_NET_ADMIN ] || d_die "c: the agent's $f is $v, not CAP_NET_ADMIN alone ($CAP_NET_ADMIN)"
done
uid=$(proc_field "$pid" Uid)
[ "$uid" = "$(id -u vxsec-agent)" ] || d_die "c: the agent runs as uid $uid"
[ "$(proc_field "$pid" NoNewPrivs)" = 1 ] || d_die "c: the agent may gain privileges"
[ "$(proc_field "$pid" Seccomp)" = 2 ] || d_die "c: the agent has no seccomp filter"
echo "c: vm$me: vxsec-agent (pid $pid) uid $uid (vxsec-agent); CapEff, CapPrm, CapBnd $CAP_NET_ADMIN (CAP_NET_ADMIN alone); NoNewPrivs 1; Seccomp 2"
if [ "$me" = 1 ]; then
	pid=$(systemctl show -p MainPID --value vxsec-keymgr)
	for f in CapEff CapPrm CapBnd; do
		v=$(proc_field "$pid" $f)
		[ "$v" = 0000000000000000 ] || d_die "c: the leader's $f is $v, not empty"
	done
	[ "$(proc_field "$pid" Uid)" = "$(id -u vxsec-keymgr)" ] || d_die "c: the leader is not vxsec-keymgr"
	echo "c: vm1: vxsec-keymgr (pid $pid) as vxsec-keymgr; CapEff, CapPrm, CapBnd empty"
fi
lab_barrier hardened

# ---- d. systemctl restart vxsec-agent under pings ----
[ "$me" != 2 ] && d_ping_start restart 2 1500
lab_barrier d-pinging
if [ "$me" = 2 ]; then
	sleep 3
	before=$(d_sas)
	changes=$(journalctl -u vxsec-agent -o cat | grep -c "kernel at revision") || true
	old=$(systemctl show -p MainPID --value vxsec-agent)
	t0=$(date +%s%N)
	systemctl restart vxsec-agent || d_die "d: systemctl restart vxsec-agent failed"
	t_ret=$(ms_since "$t0")
	unit_active vxsec-agent 30
	new=$(systemctl show -p MainPID --value vxsec-agent)
	[ "$new" != "$old" ] || d_die "d: the agent's pid is still $old"
	d_wait_sync $sas 60
	echo "figure: d: systemctl restart vxsec-agent (pid $old -> $new) returned in $t_ret ms; in sync again in $(ms_since "$t0") ms"
	[ "$(d_sas)" = "$before" ] || d_die "d: the restarted agent changed the SAs"
	n=$(journalctl -u vxsec-agent -o cat | grep -c "kernel at revision") || true
	[ "$n" = "$changes" ] || d_die "d: the restarted agent changed the kernel ($changes -> $n)"
	echo "d: the restarted agent adopted the kernel's SAs unchanged"
	unit_healthy vxsec-agent
fi
lab_barrier d-restarted
if [ "$me" != 2 ]; then
	d_ping_running restart || d_die "d: the ping to vm2 ended before the restart did"
	d_ping_end restart "d: systemctl restart vxsec-agent on vm2, vm$me->vm2"
fi
lab_barrier d-done

# ---- e. the journal ----
jl=$(journalctl --no-pager -u vxsec-agent -o cat)
starts=$(echo "$jl" | grep -c "^vxsec-agent .*: leader ") || true
want=1
[ "$me" = 2 ] && want=2
[ "$starts" = $want ] || d_die "e: journalctl -u vxsec-agent shows $starts starts of the agent, not $want"
echo "$jl" | grep -q "kernel at revision" || d_die "e: no 'kernel at revision' line in the journal"
[ "$me" != 2 ] || echo "$jl" | grep -q "stopping; the kernel keeps its SAs" ||
	d_die "e: the journal lacks the agent's stop at the restart"
echo "e: vm$me: journalctl -u vxsec-agent: $(echo "$jl" | wc -l) lines, $starts start(s) of the agent; the last ones:"
journalctl --no-pager -u vxsec-agent -n 6 | sed 's/^/    /'
if [ "$me" = 1 ]; then
	n=$(journalctl --no-pager -u vxsec-keymgr -o cat | grep -c .) || true
	[ "$n" -gt 2 ] || d_die "e: journalctl -u vxsec-keymgr shows $n lines"
	echo "e: vm1: journalctl -u vxsec-keymgr: $n lines; the last ones:"
	journalctl --no-pager -u vxsec-keymgr -n 4 | sed 's/^/    /'
fi

# ---- f. /metrics over HTTP ----
metrics vxsec-agent /etc/vxsec/agent.conf $AG_METRICS vxsec_agent_
[ "$me" = 1 ] && metrics vxsec-keymgr /etc/vxsec/keymgr.conf $KM_METRICS vxsec_keymgr_
unit_healthy vxsec-agent
[ "$me" = 1 ] && unit_healthy vxsec-keymgr
[ "$me" = 1 ] && $KM status

# ---- g. the leader library, installed, used as a control plane would ----
embed_example() {
	t0=$(date +%s%N)
	# shellcheck disable=SC2086 # globs
	dpkg -i $DEB/libvxsec-keymgr0_*_amd64.deb $DEB/libvxsec-keymgr-dev_*_amd64.deb \
		>/tmp/dpkg-dev.log 2>&1 || { cat /tmp/dpkg-dev.log; d_die "g: dpkg -i of the library packages failed"; }
	echo "g: vm1: dpkg -i libvxsec-keymgr0 libvxsec-keymgr-dev in $(ms_since "$t0") ms"
	ex=/usr/share/doc/libvxsec-keymgr-dev/examples/embed-leader.c
	[ -f "$ex" ] || d_die "g: the -dev package has no $ex"
	flags=$(pkg-config --cflags --libs vxsec-keymgr) || d_die "g: pkg-config knows no vxsec-keymgr"
	# shellcheck disable=SC2086 # flags are words
	cc -o /tmp/embed-leader "$ex" $flags ||
		d_die "g: the example does not build against the installed package ($flags)"
	lib=$(ldd /tmp/embed-leader | sed -n 's/.*libvxsec-keymgr.so.0 => \([^ ]*\).*/\1/p')
	owner=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | cut -d: -f1)
	[ "$owner" = libvxsec-keymgr0 ] ||
		d_die "g: the example links '$lib' ($(readlink -f "$lib")), not libvxsec-keymgr0's"
	ed=$(mktemp -d /tmp/embed.XXXXXX)
	/tmp/embed-leader "$ed" 127.0.0.1:0 60 >"$ed/log" 2>&1 &
	ep=$!
	end=$(($(date +%s) + 20))
	until [ -s "$ed/state/listen" ]; do
		[ "$(date +%s)" -lt "$end" ] || { cat "$ed/log"; d_die "g: the example never listened"; }
		sleep 0.2
	done
	st=$($KM -s "$ed/ctl.sock" status) || { cat "$ed/log"; d_die "g: vxsec-keymgr status of the example failed"; }
	echo "$st" | grep -q "^listen: *$(cat "$ed/state/listen")" ||
		echo "$st" | grep -q "$(cat "$ed/state/listen")" ||
		d_die "g: the example's status does not name its address: $st"
	kill -USR1 "$ep"
	end=$(($(date +%s) + 20))
	until grep -q "rotation requested and saved" "$ed/log"; do
		[ "$(date +%s)" -lt "$end" ] || { cat "$ed/log"; d_die "g: SIGUSR1: no rotation done in the example's log"; }
		sleep 0.2
	done
	kill -TERM "$ep"
	rc=0
	wait "$ep" || rc=$?
	[ "$rc" = 0 ] || { cat "$ed/log"; d_die "g: the example exited $rc on SIGTERM"; }
	echo "g: vm1: examples/embed-leader.c built with pkg-config against the installed -dev package, linked to $lib; status answered, SIGUSR1 rotated, SIGTERM: exit 0"
	sed 's/^/    /' "$ed/log" | tail -n 6
	rm -rf "$ed"
}
[ "$me" = 1 ] && embed_example
lab_barrier done
exit 0
