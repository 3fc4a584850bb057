#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the lab scenarios on the Vagrant VMs of the Vagrantfile: a scenario of
# tests/lab/vagrant/ (make vagrant-lab's) or of the QEMU lab's
# tests/lab/scenarios/. VXSEC_VAGRANT_BIN: where the VMs' daemons are
# (/usr/sbin once the .debs are installed; default: the shared build/).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
OUT=$SRC/build/lab-vagrant
cd "$SRC"
command -v vagrant >/dev/null || { echo "vagrant.sh: vagrant is not installed" >&2; exit 2; }

if [ $# -gt 0 ]; then names=("$@"); else mapfile -t names < <("$HERE/lab.sh" list); fi
passed=0 failed=0 notrun=0
for s in "${names[@]}"; do
	rel=tests/lab/scenarios/$s
	[ -d "$SRC/tests/lab/vagrant/$s" ] && rel=tests/lab/vagrant/$s
	dir=$SRC/$rel
	if [ ! -f "$dir/vms" ]; then
		echo "FAIL $s (no such scenario)"
		failed=$((failed + 1))
		continue
	fi
	if [ -f "$dir/nets" ]; then # the Vagrantfile has one private network
		echo "NOT RUN $s: its nets file asks for several switches, the Vagrantfile has one network"
		notrun=$((notrun + 1))
		continue
	fi
	vms=$(cat "$dir/vms")
	res=$OUT/$s
	rm -rf "$res"
	mkdir -p "$res"
	# What the VMs need from the host first (the systemd scenario: the .debs).
	if [ -x "$dir/prepare.sh" ] && ! "$dir/prepare.sh" "$res"; then
		echo "FAIL $s (prepare.sh)"
		failed=$((failed + 1))
		continue
	fi
	pids=()
	for i in $(seq "$vms"); do
		if [ -f "$dir/vm$i.sh" ]; then script=vm$i.sh; else script=all.sh; fi
		timeout -k 5 "$(cat "$dir/timeout" 2>/dev/null || echo 300)" \
			vagrant ssh "vm$i" -c "sudo LAB_BIN=${VXSEC_VAGRANT_BIN:-} /vagrant/tests/lab/vagrant-guest.sh $s $i $vms $rel/$script" \
			>"$res/vm$i.console" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || true; done
	ok=1
	for i in $(seq "$vms"); do
		if ! grep -qx 'rc=0' "$res/vm$i.rc" 2>/dev/null; then
			ok=0
			echo "--- $s vm$i failed; last lines of its log ---"
			tail -n 30 "$res/vm$i.log" 2>/dev/null || tail -n 30 "$res/vm$i.console"
		fi
	done
	if [ "$ok" = 1 ] && [ -x "$dir/check.sh" ]; then
		"$dir/check.sh" "$res" || ok=0
	fi
	if [ "$ok" = 1 ]; then
		echo "PASS $s"
		passed=$((passed + 1))
	else
		echo "FAIL $s"
		failed=$((failed + 1))
	fi
done
[ "$notrun" = 0 ] || echo "$notrun not run (several networks: the QEMU lab runs them)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
