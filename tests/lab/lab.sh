#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The VM lab: Debian's kernel under QEMU, host root shared read-only, scenarios with barriers and pcaps.
set -euo pipefail

LAB_HERE=$(cd "$(dirname "$0")" && pwd)
LAB_SRC=$(cd "$LAB_HERE/../.." && pwd)
CACHE=${VXSEC_LAB_CACHE:-/var/cache/vxsec-lab}
OUT=${VXSEC_LAB_OUT:-$LAB_SRC/build/lab}
SCENARIOS=$LAB_HERE/scenarios # tests/lab/bench for "bench"
NET=192.168.77
# nftables, conntrack: the nat scenario's router (the guests run the host's nft).
PKGS="qemu-system-x86 busybox-static kmod vde2 tcpdump xz-utils iproute2 iputils-ping nftables conntrack"
INIT_MODS="virtio_pci virtio_net 9pnet_virtio 9p overlay"

say() { echo "lab: $*"; }
die() {
	echo "lab: error: $*" >&2
	exit 1
}

usage() {
	cat <<EOF
usage: tests/lab/lab.sh setup | run [SCENARIO...] | bench [NAME...] | demo [NAME...] |
       list | shell [N]

  setup     install the lab's packages, fetch and unpack Debian's kernel
            (never installed on the host), build the initramfs; cached in
            $CACHE (VXSEC_LAB_CACHE)
  run       boot the VMs of every scenario (or those named) in
            tests/lab/scenarios/, collect results in $OUT (VXSEC_LAB_OUT),
            end with "N passed, N failed"
  bench [NAME...]
            the same for the benchmarks in tests/lab/bench/ (not run by
            "run"); their "bench ..." lines are printed
  demo [NAME...]
            the same for tests/lab/demo/ (make demo runs overlay-demo)
  list      the scenarios
  shell [N] an interactive VM (vmN's address) on a private switch
EOF
}

# ---- setup ----

install_pkgs() {
	local missing=() p
	for p in $PKGS; do
		dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" = 0 ] || die "missing packages ${missing[*]}: run as root"
	say "installing ${missing[*]}"
	apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "${missing[@]}" >/dev/null
}

# The kernel package linux-image-amd64 depends on (not -cloud: it lacks 9p).
resolve_kver() {
	local pkg
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/.*Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
	if [ -z "$pkg" ]; then
		apt-get update -q >/dev/null 2>&1 || true
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
			sed -n 's/.*Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
	fi
	if [ -z "$pkg" ]; then
		# Offline: fall back to the newest complete cache.
		pkg=$(ls -d "$CACHE"/*/ready 2>/dev/null | sort -V | tail -n 1 |
			sed 's|.*/\([^/]*\)/ready$|linux-image-\1|')
	fi
	[ -n "$pkg" ] || die "cannot resolve the Debian kernel (apt-cache depends linux-image-amd64)"
	echo "${pkg#linux-image-}"
}

# vmlinuz is a bzImage with an XZ payload: boot the ELF inside it (PVH).
extract_vmlinux() {
	local z=$1 out=$2 off
	off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$z" | head -n 1 | cut -d: -f1)
	[ -n "$off" ] || die "no XZ payload in $z"
	tail -c +"$((off + 1))" "$z" | xz -dc >"$out.tmp" 2>/dev/null || true
	[ "$(head -c 4 "$out.tmp" | od -An -c | tr -d ' ')" = '177ELF' ] ||
		die "the payload of $z is not an ELF vmlinux"
	mv "$out.tmp" "$out"
}

build_initramfs() {
	local kdir=$1 kver=$2 dir
	dir=$(mktemp -d)
	mkdir -p "$dir"/{bin,dev,proc,sys,mnt/lower,mnt/rw,newroot,lib/modules}
	cp /bin/busybox "$dir/bin/busybox"
	ln -s busybox "$dir/bin/sh"
	# Modules in dependency order, as modprobe would load them.
	local m
	for m in $INIT_MODS; do
		modprobe -d "$kdir" -S "$kver" --show-depends "$m" ||
			die "module $m not found in $kdir"
	done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' >"$dir/mods.list"
	while read -r m; do
		cp "$m" "$dir/lib/modules/"
		basename "$m" >>"$dir/lib/modules/order"
	done <"$dir/mods.list"
	rm "$dir/mods.list"
	install -m 0755 "$LAB_HERE/initramfs-init" "$dir/init"
	(cd "$dir" && find . | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$CACHE/$kver/initrd.gz.tmp"
	mv "$CACHE/$kver/initrd.gz.tmp" "$CACHE/$kver/initrd.gz"
	rm -rf "$dir"
}

cmd_setup() {
	local kver kdir deb
	install_pkgs
	kver=$(resolve_kver)
	kdir=$CACHE/$kver/root
	# The initramfs depends on its init script: rebuild it when that changes.
	if [ -f "$CACHE/$kver/ready" ] &&
		cmp -s "$LAB_HERE/initramfs-init" "$CACHE/$kver/initramfs-init"; then
		echo "$kver"
		return 0
	fi
	[ "$(id -u)" = 0 ] || die "setup needs root (apt-get download, depmod)"
	mkdir -p "$CACHE/$kver"
	if [ ! -f "$CACHE/$kver/unpacked" ]; then
		say "fetching linux-image-$kver (unpacked in $CACHE, not installed)"
		rm -rf "$kdir" "$CACHE/$kver"/*.deb
		(cd "$CACHE/$kver" && apt-get download -q "linux-image-$kver" >/dev/null 2>&1) ||
			die "apt-get download linux-image-$kver failed"
		deb=$(ls "$CACHE/$kver"/linux-image-*.deb)
		dpkg-deb -x "$deb" "$kdir"
		depmod -b "$kdir" "$kver"
		extract_vmlinux "$kdir/boot/vmlinuz-$kver" "$CACHE/$kver/vmlinux"
		rm -f "$deb"
		touch "$CACHE/$kver/unpacked"
	fi
	build_initramfs "$kdir" "$kver"
	cp "$LAB_HERE/initramfs-init" "$CACHE/$kver/initramfs-init"
	touch "$CACHE/$kver/ready"
	echo "$kver"
}

# ---- VMs ----

# boot_vm KVER INDEX VMS SWITCHES RESULTS TEST [interactive]
# SWITCHES: the vde sockets of the VM's NICs, in order (eth0, eth1...),
# space-separated. NIC 0's pcap is vmN.pcap, NIC K's vmN.ethK.pcap.
# A guest that powers off after writing RESULTS/vmN.reboot (lab_power_cycle)
# is booted again at once, with lab.boot=2 (3, ...), within the same
# timeout: a power cycle. Its pcap and console of that boot are
# vmN.bootB.pcap and vmN.bootB.console.
boot_vm() {
	local i=$2 res=$5 mode=${7:-batch} boot=1 end
	end=$(($(date +%s) + ${TIMEOUT:-120}))
	while :; do
		boot_vm_once "$1" "$2" "$3" "$4" "$5" "$6" "$mode" "$boot" "$end"
		[ "$mode" = batch ] && [ -f "$res/vm$i.reboot" ] &&
			[ "$(date +%s)" -lt "$end" ] || return 0
		rm -f "$res/vm$i.reboot"
		boot=$((boot + 1))
	done
}

boot_vm_once() {
	local kver=$1 i=$2 vms=$3 sw=$4 res=$5 test=$6 mode=${7:-batch}
	local boot=$8 end=$9 kdir=$CACHE/$kver append sfx=
	[ "$boot" = 1 ] || sfx=.boot$boot
	append="console=ttyS0 panic=-1 quiet no_timer_check lab.name=vm$i lab.index=$i lab.vms=$vms lab.boot=$boot"
	append+=" lab.ip=$NET.$((10 + i))/24 lab.src=$LAB_SRC lab.kroot=$kdir/root"
	append+=" lab.test=$test lab.init=$LAB_HERE/${GUEST_INIT:-guest-init.sh}"
	local args=(
		-m "${MEM:-${VXSEC_LAB_MEM:-256}}" -smp 1 -accel tcg,tb-size=256 -cpu max
		-nographic -no-reboot
		-kernel "$kdir/vmlinux" -initrd "$kdir/initrd.gz" -append "$append"
		-fsdev local,id=hostroot,path=/,readonly=on,security_model=none,multidevs=remap
		-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
		-fsdev "local,id=labres,path=$res,security_model=none"
		-device virtio-9p-pci,fsdev=labres,mount_tag=labres
	)
	local k=0 s nic
	for s in $sw; do
		args+=(-netdev "vde,id=n$k,sock=$s"
			-device "virtio-net-pci,netdev=n$k,mac=52:54:00:77:$(printf %02x $k):$(printf %02x "$i")")
		k=$((k + 1))
	done
	if [ "$mode" = interactive ]; then
		qemu-system-x86_64 "${args[@]}"
		return
	fi
	for k in $(seq 0 $((k - 1))); do
		nic=
		[ "$k" = 0 ] || nic=.eth$k
		args+=(-object "filter-dump,id=dump$k,netdev=n$k,file=$res/vm$i$nic$sfx.pcap")
	done
	local left=$((end - $(date +%s)))
	[ "$left" -gt 0 ] || left=1
	timeout -k 5 "$left" qemu-system-x86_64 "${args[@]}" \
		</dev/null >"$res/vm$i$sfx.console" 2>&1
}

# Switches still running when the script ends (error, ^C) are stopped.
SWITCHES=()
cleanup_switches() {
	local d
	for d in "${SWITCHES[@]}"; do
		stop_switch "$d"
		rm -rf "$d"
	done
}
trap cleanup_switches EXIT

start_switch() {
	local dir=$1
	SWITCHES+=("$dir")
	vde_switch --sock "$dir/switch" --daemon --pidfile "$dir/switch.pid" ||
		die "vde_switch failed"
	for _ in $(seq 50); do
		[ -S "$dir/switch/ctl" ] && return 0
		sleep 0.1
	done
	die "vde_switch did not come up"
}

stop_switch() {
	local dir=$1
	[ -f "$dir/switch.pid" ] && kill "$(cat "$dir/switch.pid")" 2>/dev/null || true
}

# ---- scenarios ----

# scenario_nets DIR VMS TMP: for VM 1..VMS, one line with the vde sockets of
# its NICs. Without DIR/nets, every VM has one NIC on one switch; with it,
# each line "vmN SWITCH..." puts vmN's NICs (eth0, eth1...) on the switches
# named, every VM listed once. Starts the switches (in TMP/sw-NAME).
scenario_nets() {
	local dir=$1 vms=$2 tmp=$3 i line vm sws name
	if [ ! -f "$dir/nets" ]; then
		start_switch "$tmp" >&2
		for i in $(seq "$vms"); do echo "$tmp/switch"; done
		return 0
	fi
	declare -A of=()
	while read -r vm sws; do
		case "$vm" in '' | '#'*) continue ;; esac
		i=${vm#vm}
		[[ "$i" =~ ^[0-9]+$ ]] && [ "$i" -ge 1 ] && [ "$i" -le "$vms" ] && [ -n "$sws" ] ||
			die "$dir/nets: bad line '$vm $sws' (vmN SWITCH..., N from 1 to $vms)"
		[ -z "${of[$i]:-}" ] || die "$dir/nets: vm$i listed twice"
		line=
		for name in $sws; do
			[[ "$name" =~ ^[a-z0-9]+$ ]] || die "$dir/nets: bad switch name '$name'"
			if [ ! -d "$tmp/sw-$name" ]; then
				mkdir "$tmp/sw-$name"
				start_switch "$tmp/sw-$name" >&2
			fi
			line+="${line:+ }$tmp/sw-$name/switch"
		done
		of[$i]=$line
	done <"$dir/nets"
	for i in $(seq "$vms"); do
		[ -n "${of[$i]:-}" ] || die "$dir/nets: vm$i is on no switch"
		echo "${of[$i]}"
	done
}

scenario_script() { # DIR INDEX
	if [ -f "$1/vm$2.sh" ]; then
		echo "$1/vm$2.sh"
	elif [ -f "$1/all.sh" ]; then
		echo "$1/all.sh"
	fi
}

run_scenario() {
	local kver=$1 name=$2 dir=$SCENARIOS/$2 res=$OUT/$2
	local vms i script ok=1 t0 pids=() tmp
	[ -f "$dir/vms" ] || die "scenario $name: no 'vms' file"
	vms=$(cat "$dir/vms")
	TIMEOUT=$(cat "$dir/timeout" 2>/dev/null || echo "${VXSEC_LAB_TIMEOUT:-120}")
	MEM=$(cat "$dir/mem" 2>/dev/null || echo "${VXSEC_LAB_MEM:-256}")
	GUEST_INIT=$(cat "$dir/init" 2>/dev/null || echo guest-init.sh)
	[ -f "$LAB_HERE/$GUEST_INIT" ] || die "scenario $name: no tests/lab/$GUEST_INIT (its 'init' file)"
	rm -rf "$res"
	mkdir -p "$res"
	# What the VMs need from the host first (the systemd scenario: the .debs).
	if [ -x "$dir/prepare.sh" ] && ! "$dir/prepare.sh" "$res" >"$res/prepare.log" 2>&1; then
		cat "$res/prepare.log"
		echo "FAIL $name (prepare.sh)"
		return 1
	fi
	[ -f "$res/prepare.log" ] && cat "$res/prepare.log"
	tmp=$(mktemp -d)
	local nets=() sw
	# Not in a subshell: the switches must land in SWITCHES.
	scenario_nets "$dir" "$vms" "$tmp" >"$tmp/nets"
	mapfile -t nets <"$tmp/nets"
	t0=$(date +%s)
	for i in $(seq "$vms"); do
		script=$(scenario_script "$dir" "$i")
		[ -n "$script" ] || die "scenario $name: no vm$i.sh or all.sh"
		boot_vm "$kver" "$i" "$vms" "${nets[$((i - 1))]}" "$res" "$script" &
		pids+=($!)
	done
	for i in $(seq "$vms"); do
		wait "${pids[$((i - 1))]}" || true
	done
	for sw in "${SWITCHES[@]}"; do
		case "$sw" in "$tmp" | "$tmp"/*) stop_switch "$sw" ;; esac
	done
	rm -rf "$tmp"
	for i in $(seq "$vms"); do
		if ! grep -qx 'rc=0' "$res/vm$i.rc" 2>/dev/null; then
			ok=0
			echo "--- $name vm$i: $(cat "$res/vm$i.rc" 2>/dev/null || echo 'no result: killed by the timeout or crashed') ---"
			echo "--- vm$i output (last 30 lines of $res/vm$i.log) ---"
			tail -n 30 "$res/vm$i.log" 2>/dev/null || true
			echo "--- vm$i console (last 40 lines of $res/vm$i.console) ---"
			tail -n 40 "$res/vm$i.console" 2>/dev/null || true
		fi
	done
	if [ "$ok" = 1 ] && [ -x "$dir/check.sh" ]; then
		"$dir/check.sh" "$res" >"$res/check.log" 2>&1 || ok=0
		cat "$res/check.log"
	fi
	local dt=$(($(date +%s) - t0))
	if [ "$ok" = 1 ]; then
		echo "PASS $name (${dt}s)"
		return 0
	fi
	echo "FAIL $name (${dt}s)"
	return 1
}

list_scenarios() {
	local d
	for d in "$SCENARIOS"/*/; do
		[ -f "$d/vms" ] && basename "$d"
	done
}

cmd_run() {
	local kver names passed=0 failed=0 n
	[ "$(id -u)" = 0 ] || die "the lab needs root (9p export of /, XFRM in VMs)"
	[ -x "$LAB_SRC/build/tests/xfrmctl" ] || die "build first: make all"
	kver=$(cmd_setup | tail -n 1)
	if [ $# -gt 0 ]; then names=("$@"); else mapfile -t names < <(list_scenarios); fi
	say "kernel $kver, scenarios: ${names[*]}"
	for n in "${names[@]}"; do
		[ -d "$SCENARIOS/$n" ] || die "no scenario $n in $SCENARIOS (see: lab.sh list)"
		if run_scenario "$kver" "$n"; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
		fi
	done
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

cmd_shell() {
	local kver i=${1:-1}
	kver=$(cmd_setup | tail -n 1)
	SHELL_TMP=$(mktemp -d)
	mkdir -p "$SHELL_TMP/res"
	start_switch "$SHELL_TMP"
	say "vm$i ($NET.$((10 + i))); leave with: exit"
	boot_vm "$kver" "$i" 1 "$SHELL_TMP/switch" "$SHELL_TMP/res" "" interactive
}

case "${1:-}" in
setup) shift; cmd_setup "$@" >/dev/null && say "ready" ;;
run) shift; cmd_run "$@" ;;
bench) shift; SCENARIOS=$LAB_HERE/bench; cmd_run "$@" ;;
demo) shift; SCENARIOS=$LAB_HERE/demo; cmd_run "$@" ;;
list) list_scenarios ;;
shell) shift; cmd_shell "$@" ;;
-h | --help | help) usage ;;
*) usage >&2; exit 2 ;;
esac
