# SPDX-License-Identifier: MIT
# Lab helpers for scenario scripts, sourced inside a VM (LAB_* set by guest-init.sh).

LAB_NET=192.168.77
. "$LAB_SRC/tests/lab/ping.sh"

# A scenario may define lab_on_fail (daemons.sh does: its daemons' logs).
lab_fail() {
	command -v lab_on_fail >/dev/null 2>&1 && lab_on_fail
	echo "FAIL ($LAB_NAME): $*" >&2
	exit 1
}

lab_ip_of() { echo "$LAB_NET.$((10 + $1))"; }

# lab_barrier NAME: wait until every VM of the scenario has reached NAME;
# fail at once if a VM's script has failed.
lab_barrier() {
	touch "$LAB_DIR/barrier.$1.$LAB_NAME"
	tries=$((${LAB_BARRIER_TIMEOUT:-90} * 10))
	while [ "$(ls "$LAB_DIR" | grep -c "^barrier\.$1\.vm")" -lt "$LAB_VMS" ]; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || lab_fail "barrier $1: not every VM arrived"
		# A VM whose script failed never arrives: stop now, not at the
		# deadline (its rc file is written when its script ends).
		bad=$(grep -Lx 'rc=0' "$LAB_DIR"/vm*.rc 2>/dev/null | head -n 1)
		[ -z "$bad" ] || lab_fail "barrier $1: $(basename "$bad" .rc) failed, so not every VM can arrive"
		sleep 0.1
	done
}

# Loads what the scenarios need; ESP and xfrm_user are mandatory.
lab_modprobe() {
	for m in xfrm_user esp4 esp6 vxlan; do
		modprobe "$m" || lab_fail "modprobe $m failed"
	done
	for m in aesni_intel gcm ghash_clmulni_intel; do
		modprobe -q "$m" 2>/dev/null || true
	done
}

# lab_xfrm_stat NAME: a counter of /proc/net/xfrm_stat.
lab_xfrm_stat() {
	awk -v k="$1" '$1 == k { print $2 }' /proc/net/xfrm_stat
}

# lab_power_cycle: this VM loses power at once (no shutdown, no FIN or RST
# sent: the kernel's sysrq power-off), and lab.sh boots it again at once;
# the scenario's script then runs again with LAB_BOOT=2.
lab_power_cycle() {
	touch "$LAB_DIR/$LAB_NAME.reboot"
	echo o >/proc/sysrq-trigger
	sleep 10
	lab_fail "still running after the sysrq power-off"
}
