#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make vagrant-lab (root): the project's Vagrantfile run for real on this
# machine (no KVM, no hypervisor of its own), the encrypted-overlay scenario
# on its VMs, and everything stopped again. docs/testing.md, "On real VMs".
#
#  1. a network namespace (VXSEC_VAGRANT_NS, default vxsec-vagrant) that
#     this script creates and removes: libvirtd, virtlogd, their bridges,
#     dnsmasq and the VMs live only there;
#  2. inside it, in ip netns exec's own mount namespace, libvirt's run,
#     state, log and config directories are this lab's own (under
#     build/vagrant-lab/), so nothing clashes with a libvirt on the host;
#  3. the box (tests/lab/vagrant-box.sh, on the host's network: mmdebstrap
#     talks to the Debian mirror; `vagrant-lab.sh box` builds only it) built
#     once into
#     build/vagrant-lab/vxsec-bookworm.box and added to Vagrant's home
#     build/vagrant-lab/vagrant.d (VAGRANT_HOME): a second run reuses both;
#  4. vagrant up of VXSEC_VMS (3) VMs with the repository shared as /vagrant
#     over virtio-9p (VXSEC_SYNC=9p), the project's .debs installed
#     (build/deb, made by make deb when missing), the scenario run by
#     tests/lab/vagrant.sh, vagrant destroy.
# Ends with "N passed, N failed" (vagrant.sh's totals, and a FAIL line for
# a step before them). Everything it starts it stops, on failure too.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
B=$SRC/build/vagrant-lab
NS=${VXSEC_VAGRANT_NS:-vxsec-vagrant}
BOX=$B/vxsec-bookworm.box
BOXNAME=vxsec-lab/bookworm
SCENARIO=${VXSEC_VAGRANT_SCENARIO:-overlay}
# The lab's own Vagrant home and machine records (VAGRANT_DOTFILE_PATH):
# a user's ~/.vagrant.d and ./.vagrant, with VMs of their own, are left alone.
export VAGRANT_HOME=$B/vagrant.d VAGRANT_DOTFILE_PATH=$B/dot-vagrant VAGRANT_DEFAULT_PROVIDER=libvirt
export VAGRANT_CHECKPOINT_DISABLE=1 VAGRANT_NO_COLOR=1
export VXSEC_BOX=$BOXNAME VXSEC_VMS=${VXSEC_VMS:-3} VXSEC_SYNC=9p
export VXSEC_PROVISION=no LIBVIRT_DEFAULT_URI=qemu:///system

[ "$(id -u)" = 0 ] || { echo "vagrant-lab: run as root" >&2; exit 1; }
for c in vagrant libvirtd virtlogd virsh mmdebstrap qemu-img qemu-system-x86_64 dnsmasq; do
	command -v "$c" >/dev/null || { echo "vagrant-lab: $c is missing (make vagrant-deps)" >&2; exit 1; }
done

# A signal ends the run through its EXIT trap (VMs destroyed, daemons
# stopped, the namespace removed), as a failure does.
trap 'exit 130' INT
trap 'exit 143' TERM HUP
now() { date +%s; }
fail() {
	echo "FAIL vagrant-lab: $*"
	echo "0 passed, 1 failed"
	exit 1
}

# ---- the libvirt directories of this lab (inside the namespaces) ----
libvirt_dirs() {
	mkdir -p "$B/libvirt/run" "$B/libvirt/lib" "$B/libvirt/log" "$B/libvirt/cache"
	if [ ! -f "$B/libvirt/etc/qemu.conf" ]; then
		rm -rf "$B/libvirt/etc"
		cp -a /etc/libvirt "$B/libvirt/etc"
		# No default NAT network; QEMU runs as root (it reads the kernel
		# in the box and serves the 9p share as the files' owner), no
		# AppArmor or SELinux labels (none on this host).
		rm -f "$B"/libvirt/etc/qemu/networks/autostart/*.xml
		rm -f "$B"/libvirt/etc/qemu/networks/default.xml
		cat >>"$B/libvirt/etc/qemu.conf" <<-EOF
			user = "root"
			group = "root"
			dynamic_ownership = 0
			security_driver = "none"
		EOF
	fi
	rm -rf "$B/libvirt/run"/*
	mkdir -p /run/libvirt /var/lib/libvirt /var/log/libvirt
	mount --bind "$B/libvirt/etc" /etc/libvirt
	mount --bind "$B/libvirt/run" /run/libvirt
	mount --bind "$B/libvirt/lib" /var/lib/libvirt
	mount --bind "$B/libvirt/log" /var/log/libvirt
	mkdir -p /var/cache/libvirt
	mount --bind "$B/libvirt/cache" /var/cache/libvirt
}

stop_daemons() {
	for d in libvirtd virtlogd; do
		[ -f "$B/$d.pid" ] || continue
		p=$(cat "$B/$d.pid")
		kill "$p" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
		rm -f "$B/$d.pid"
	done
}

start_daemons() {
	stop_daemons
	virtlogd -d -p "$B/virtlogd.pid"
	libvirtd -d -p "$B/libvirtd.pid"
	for _ in $(seq 100); do
		virsh -q version >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	fail "libvirtd did not answer"
}

# What a run leaves (also after a crash): domains, their volumes, the
# networks vagrant-libvirt made. Used by the inner run's trap and by clean.
destroy_all() {
	if [ -d "$VAGRANT_DOTFILE_PATH/machines" ]; then
		(cd "$SRC" && timeout 300 vagrant destroy -f) >>"$B/vagrant.log" 2>&1 || true
	fi
	for d in $(virsh list --all --name 2>/dev/null); do
		virsh destroy "$d" >/dev/null 2>&1 || true
		virsh undefine "$d" --nvram >/dev/null 2>&1 || virsh undefine "$d" >/dev/null 2>&1 || true
	done
	for n in $(virsh net-list --all --name 2>/dev/null); do
		virsh net-destroy "$n" >/dev/null 2>&1 || true
		virsh net-undefine "$n" >/dev/null 2>&1 || true
	done
	rm -rf "$VAGRANT_DOTFILE_PATH"
}

# ---- inner: inside the network namespace and its mount namespace ----
inner() {
	ip link set lo up
	libvirt_dirs
	trap 'destroy_all; stop_daemons' EXIT
	start_daemons
	destroy_all # a run killed before its trap: its domains go first

	t0=$(now)
	# A box rebuilt since it was added (vagrant-box.sh changed, the
	# file removed by hand) replaces the one in Vagrant's home.
	added=$VAGRANT_HOME/boxes/${BOXNAME//\//-VAGRANTSLASH-}
	if [ -d "$added" ] && [ "$BOX" -nt "$added" ]; then
		vagrant box remove -f --all "$BOXNAME" >>"$B/vagrant.log" 2>&1 || true
	fi
	if ! vagrant box list 2>/dev/null | grep -q "^$BOXNAME "; then
		vagrant box add --name "$BOXNAME" "$BOX" >>"$B/vagrant.log" 2>&1 ||
			{ tail -n 20 "$B/vagrant.log"; fail "vagrant box add failed"; }
	fi
	t_box=$(($(now) - t0))
	echo "vagrant-lab: box ready in $((t_box + ${VXSEC_BOX_BUILT:-0})) s ($BOXNAME, VAGRANT_HOME=$VAGRANT_HOME)"

	t0=$(now)
	(cd "$SRC" && vagrant up) >>"$B/vagrant.log" 2>&1 ||
		{ tail -n 40 "$B/vagrant.log"; fail "vagrant up failed"; }
	t_up=$(($(now) - t0))
	echo "vagrant-lab: vagrant up of $VXSEC_VMS VMs in $t_up s"

	t0=$(now)
	debs=$(cd "$SRC" && ls build/deb/vxsec-keymgr_*_amd64.deb build/deb/vxsec-agent_*_amd64.deb \
		build/deb/libvxsec-keymgr0_*_amd64.deb)
	for i in $(seq "$VXSEC_VMS"); do
		(cd "$SRC" && vagrant ssh "vm$i" -c "sudo dpkg -i $(for d in $debs; do printf '/vagrant/%s ' "$d"; done) >/tmp/dpkg.log 2>&1 || { tail -n 20 /tmp/dpkg.log; exit 1; }; \
			sudo systemctl stop vxsec-agent.service vxsec-keymgr.service 2>/dev/null; \
			dpkg-query -W -f='\${Package} \${Version}\n' vxsec-keymgr vxsec-agent") \
			>"$B/install.vm$i.log" 2>&1 &
	done
	ok=1
	for j in $(jobs -p); do wait "$j" || ok=0; done
	[ "$ok" = 1 ] || { tail -n 20 "$B"/install.vm*.log; fail "dpkg -i in the VMs failed"; }
	echo "vagrant-lab: installed in $(($(now) - t0)) s: $(sort -u "$B"/install.vm*.log | tr '\n' ' ')"

	t0=$(now)
	rc=0
	(cd "$SRC" && VXSEC_VAGRANT_BIN=/usr/sbin "$HERE/vagrant.sh" "$SCENARIO") || rc=$?
	t_sc=$(($(now) - t0))
	echo "vagrant-lab: scenario $SCENARIO in $t_sc s"

	t0=$(now)
	destroy_all
	echo "vagrant-lab: vagrant destroy in $(($(now) - t0)) s"
	return $rc
}

# ---- the box: built once, on the host ----
# On the host's network: mmdebstrap talks to the Debian mirror (the lab's
# namespace has no way out). Its build time is kept in box.secs for the
# run that reports it.
build_box() {
	local t0
	mkdir -p "$B"
	[ -f "$BOX" ] && return 0
	t0=$(now)
	echo "vagrant-lab: building the box $BOX"
	"$HERE/vagrant-box.sh" "$BOX" || fail "the box build failed"
	echo "$(($(now) - t0))" >"$B/box.secs"
	echo "vagrant-lab: box built in $(cat "$B/box.secs") s"
}

# ---- outer: on the host ----
outer() {
	mkdir -p "$B"
	: >"$B/vagrant.log"
	start=$(now)
	# The .debs the VMs install (as the systemd scenario does).
	"$HERE/scenarios/systemd/prepare.sh" "$B" | sed 's/^prepare/vagrant-lab/' ||
		fail "make deb failed"
	build_box
	# The seconds the box took if this run or `make vagrant-box` just
	# before it built it (CI builds it in the background), else 0.
	export VXSEC_BOX_BUILT=0
	if [ -f "$B/box.secs" ]; then
		VXSEC_BOX_BUILT=$(cat "$B/box.secs")
		rm -f "$B/box.secs"
	fi
	ip netns del "$NS" 2>/dev/null || true
	ip netns add "$NS"
	# The mount points the inner run binds its directories on: the host
	# may have no /run/libvirt (no libvirtd of its own); an empty one made
	# here goes again.
	made_run=
	[ -d /run/libvirt ] || made_run=1
	trap 'ip netns del "$NS" 2>/dev/null || true; [ -z "$made_run" ] || rmdir /run/libvirt 2>/dev/null || true' EXIT
	rc=0
	ip netns exec "$NS" "$0" inner || rc=$?
	echo "vagrant-lab: wall time $(($(now) - start)) s (log: $B/vagrant.log)"
	return $rc
}

# ---- clean: box, Vagrant's home, domains, volumes, libvirt's state ----
clean() {
	if [ -d "$B/libvirt/etc" ] && command -v libvirtd >/dev/null; then
		ip netns del "$NS" 2>/dev/null || true
		ip netns add "$NS"
		made_run=
		[ -d /run/libvirt ] || made_run=1
		ip netns exec "$NS" "$0" clean-inner || true
		ip netns del "$NS"
		[ -z "$made_run" ] || rmdir /run/libvirt 2>/dev/null || true
	fi
	rm -rf "$B"
	echo "vagrant-lab-clean: removed $B"
}
clean_inner() {
	libvirt_dirs
	trap 'stop_daemons' EXIT
	start_daemons
	destroy_all
	for v in $(virsh vol-list default --name 2>/dev/null); do
		virsh vol-delete "$v" --pool default >/dev/null 2>&1 || true
	done
}

case "${1:-run}" in
run) outer ;;
box) build_box ;;
inner) inner ;;
clean) clean ;;
clean-inner) clean_inner ;;
*) echo "usage: vagrant-lab.sh [run|box|clean]" >&2; exit 2 ;;
esac
