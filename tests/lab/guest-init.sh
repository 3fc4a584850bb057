#!/bin/sh
# SPDX-License-Identifier: MIT
# Lab stage-2 init (PID 1 in the VM): network, modules tree, run the scenario script, power off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
# /tmp stays the overlay's (writable, in RAM): a tmpfs there would hide a
# checkout under the host's /tmp, as CI's fresh clones are.
mount -t tmpfs tmpfs /run
. "$(dirname "$0")/guest-common.sh"

LAB_NAME=$(param lab.name)
LAB_INDEX=$(param lab.index)
LAB_VMS=$(param lab.vms)
LAB_IP=$(param lab.ip)
LAB_SRC=$(param lab.src)
LAB_BOOT=$(param lab.boot)
LAB_BOOT=${LAB_BOOT:-1} # 2, 3...: booted again after lab_power_cycle
LAB_DIR=/lab
test=$(param lab.test)
export LAB_NAME LAB_INDEX LAB_VMS LAB_IP LAB_SRC LAB_DIR LAB_BOOT HOME=/root

guest_setup "$LAB_NAME" "$LAB_IP"

off() {
	sync
	busybox poweroff -f 2>/dev/null || echo o >/proc/sysrq-trigger
}

if [ -z "$test" ]; then
	echo "lab: $LAB_NAME ($LAB_IP); the repo is $LAB_SRC; leave with: exit"
	setsid sh -c 'exec bash -i </dev/ttyS0 >/dev/ttyS0 2>&1'
	off
fi
cd "$LAB_SRC"
echo "lab: $LAB_NAME running $test (boot $LAB_BOOT)"
if [ "$LAB_BOOT" = 1 ]; then
	sh "$test" >"$LAB_DIR/$LAB_NAME.log" 2>&1
else # the log of the boot before stays: this boot's follows it
	echo "--- boot $LAB_BOOT of $LAB_NAME" >>"$LAB_DIR/$LAB_NAME.log"
	sh "$test" >>"$LAB_DIR/$LAB_NAME.log" 2>&1
fi
rc=$?
echo "rc=$rc" >"$LAB_DIR/$LAB_NAME.rc"
echo "lab: $LAB_NAME done, rc=$rc"
off
