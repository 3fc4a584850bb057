# SPDX-License-Identifier: MIT
# Lab stage-2 init, the part guest-init.sh and guest-systemd.sh share: the kernel command line's lab.* words, the modules tree, the VM's name and eth0.
#
# Sourced as PID 1, with /proc mounted, from the same folder:
#   . "$(dirname "$0")/guest-common.sh"

# param NAME: the value of NAME=... on the kernel command line.
param() {
	for w in $(cat /proc/cmdline); do
		case "$w" in "$1"=*) echo "${w#*=}" ;; esac
	done
}

# guest_setup NAME ADDR: the hostname; the unpacked Debian kernel's modules
# (lab.kroot) where modprobe looks for them; lo up, eth0 up with ADDR. A VM
# with more NICs (a scenario's `nets` file) has eth1... up, without an
# address: the scenario's script gives them theirs.
guest_setup() {
	hostname "$1"
	kver=$(uname -r)
	rm -rf "/lib/modules/$kver"
	mkdir -p /lib/modules
	ln -s "$(param lab.kroot)/lib/modules/$kver" "/lib/modules/$kver"
	ip link set lo up
	ip link set eth0 up
	ip addr add "$2" dev eth0
	for d in /sys/class/net/eth*; do
		[ "${d##*/}" = eth0 ] || ip link set "${d##*/}" up
	done
}
