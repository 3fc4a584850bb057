#!/bin/sh
# SPDX-License-Identifier: MIT
# Lab stage-2 init for scenarios under systemd: the VM's identity, network and a boot target of its own, then exec systemd as PID 1; "run": the scenario's unit.
#
# A scenario whose folder holds an `init` file naming this script boots
# with systemd 252 (the host's) as PID 1 instead of guest-init.sh. Before
# the exec, in the tmpfs overlay over the host's root:
#  - /etc/machine-id (non-empty: not a first boot) and /etc/hostname;
#  - eth0's address, the modules tree (guest-common.sh, as guest-init.sh);
#  - masked: tmp.conf's tmpfiles rule (`D /tmp` would empty /tmp, hiding
#    the host's /tmp and whatever lives there), the timers, the gettys,
#    timesyncd: a lab VM needs none, and TCG pays for each;
#  - default.target = lab.target (basic.target and lab-scenario.service):
#    the host's multi-user.target would pull in its postgresql and etcd;
#  - lab-scenario.service runs this script with "run": the scenario's
#    script, its output in /lab/vmN.log and rc=N in /lab/vmN.rc, then
#    SuccessAction=/FailureAction=poweroff-force (they act only in
#    [Unit]). Type=exec: the boot is over when the scenario starts, so
#    `systemd-analyze time` is the boot's time.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

if [ "${1:-}" = run ]; then # lab-scenario.service (LAB_* from /etc/lab.env)
	cd "$LAB_SRC" || exit 1
	echo "lab: $LAB_NAME running $LAB_TEST under systemd"
	rc=0
	sh "$LAB_TEST" >"$LAB_DIR/$LAB_NAME.log" 2>&1 || rc=$?
	echo "rc=$rc" >"$LAB_DIR/$LAB_NAME.rc"
	echo "lab: $LAB_NAME done, rc=$rc"
	sync
	exit "$rc"
fi

mount -t proc proc /proc
. "$(dirname "$0")/guest-common.sh"
name=$(param lab.name)
test=$(param lab.test)
if [ -z "$test" ]; then
	echo "lab: the systemd init runs scenarios only (lab.test is empty)"
	echo o >/proc/sysrq-trigger
fi
echo "$name" >/etc/hostname
# Non-empty, distinct per VM (journald and D-Bus want one).
tr -d '-' </proc/sys/kernel/random/uuid >/etc/machine-id
guest_setup "$name" "$(param lab.ip)"

cat >/etc/lab.env <<EOF
LAB_NAME=$name
LAB_INDEX=$(param lab.index)
LAB_VMS=$(param lab.vms)
LAB_IP=$(param lab.ip)
LAB_SRC=$(param lab.src)
LAB_BOOT=1
LAB_DIR=/lab
LAB_TEST=$test
HOME=/root
EOF

u=/etc/systemd/system
mkdir -p /etc/tmpfiles.d
ln -sf /dev/null /etc/tmpfiles.d/tmp.conf
rm -rf $u/timers.target.wants $u/getty.target.wants $u/sysinit.target.wants/systemd-timesyncd.service
for m in timers.target getty.target getty@.service serial-getty@.service \
	console-getty.service systemd-timesyncd.service; do
	ln -sf /dev/null "$u/$m"
done
cat >$u/lab.target <<EOF
[Unit]
Description=vxsec lab: basic.target and the scenario, nothing else
Requires=basic.target
After=basic.target
Wants=lab-scenario.service
AllowIsolate=yes
EOF
cat >$u/lab-scenario.service <<EOF
[Unit]
Description=vxsec lab scenario $test
After=basic.target
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
Type=exec
EnvironmentFile=/etc/lab.env
ExecStart=/bin/sh $0 run
StandardOutput=journal+console
StandardError=journal+console
EOF
ln -sf lab.target $u/default.target
exec /lib/systemd/systemd
