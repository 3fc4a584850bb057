#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The lab's pcap check (tests/lab/pcap.sh) on pcaps written here: ESP or ESP-in-UDP over IPv4 and IPv6, cleartext VXLAN, injections; cmocka-style totals for tests/run.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/pcap.sh"
. "$here/../shtest.sh"

if ! command -v tcpdump >/dev/null; then
	t_fail tcpdump "tcpdump is missing (make deps installs it)"
	t_totals
	exit
fi

# ---- packets, as hex: Ethernet, IPv4 or IPv6, UDP ----
h16() { printf '%04x' "$1"; }
le32() { printf '%02x%02x%02x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
v4() { printf 'c0a84d%02x' "$1"; }                 # 192.168.77.N, N in hex
v6() { printf 'fd00000000000000000000000000%04x' "0x$1"; } # fd00::N
ESP=02000001000000010011223344556677
# VXLAN (vni 42) of an ARP request: tcpdump prints it on two lines.
VXLAN=0800000000002a00ffffffffffff0200000000010806
VXLAN+=00010800060400010200000000010a4d00010000000000000a4d0002
udp() { echo "$(h16 "$1")$(h16 "$2")$(h16 $((8 + ${#3} / 2)))0000$3"; } # SPORT DPORT PAYLOAD
# ip4 PROTO SRC DST L4, ip6 NEXT SRC DST L4 (SRC, DST: 192.168.77.SRC, fd00::SRC)
ip4() { echo "4500$(h16 $((20 + ${#4} / 2)))0000400040$(printf '%02x' "$1")0000$(v4 "$2")$(v4 "$3")$4"; }
ip6() { echo "60000000$(h16 $((${#4} / 2)))$(printf '%02x' "$1")40$(v6 "$2")$(v6 "$3")$4"; }

# frame TYPE IP: an Ethernet frame (TYPE 0800 or 86dd).
frame() { echo "525400770002525400770001$1$2"; }

# pcap FILE FRAME...: a pcap (Ethernet, as QEMU's filter-dump writes).
pcap() {
	local f=$1 hex=d4c3b2a1020004000000000000000000ffff000001000000 n t=1000
	shift
	for n in "$@"; do
		t=$((t + 1))
		hex+=$(le32 "$t")00000000$(le32 $((${#n} / 2)))$(le32 $((${#n} / 2)))$n
	done
	printf '%b' "$(echo "$hex" | sed 's/../\\x&/g')" >"$f"
}

E4=$(frame 0800 "$(ip4 50 11 12 "$ESP")")                 # ESP, IPv4
C4=$(frame 0800 "$(ip4 17 11 12 "$(udp 40000 4789 "$VXLAN")")") # VXLAN, IPv4
I4=$(frame 0800 "$(ip4 17 14 12 "$(udp 40000 4789 "$VXLAN")")") # VXLAN from .14
T4=$(frame 0800 "$(ip4 17 11 12 "$(udp 4500 4500 "$ESP")")")  # ESP in UDP, IPv4
E6=$(frame 86dd "$(ip6 50 11 12 "$ESP")")
C6=$(frame 86dd "$(ip6 17 11 12 "$(udp 40000 4789 "$VXLAN")")")
I6=$(frame 86dd "$(ip6 17 14 12 "$(udp 40000 4789 "$VXLAN")")")
T6=$(frame 86dd "$(ip6 17 11 12 "$(udp 4500 4500 "$ESP")")")
O4=$(frame 0800 "$(ip4 17 11 12 "$(udp 40000 53 0000)")") # neither

# case_dir NAME VM=FRAMES...: a results folder, one pcap per VM.
case_dir() {
	local d=$tmp/$1 a
	shift
	mkdir -p "$d"
	for a in "$@"; do
		# shellcheck disable=SC2086 # the frames are words
		pcap "$d/${a%%=*}.pcap" ${a#*=}
	done
	echo "$d"
}

# expect NAME RC PATTERN DIR [OPTIONS...]: pcap_esp_only DIR OPTIONS
# returns RC and prints a line matching the extended regex PATTERN.
expect() {
	local name=$1 want=$2 pat=$3 got=0
	shift 3
	(set -eu; pcap_esp_only "$@") >"$tmp/out" 2>&1 || got=$?
	t_expect "$name" "$got" "$want" "$pat" "$tmp/out"
}

d=$(case_dir esp4 vm1="$E4 $E4 $O4" vm2="$E4")
expect esp_only_passes 0 '^vm1\.pcap: 2 ESP packets, 0 cleartext udp/4789 packets$' "$d"
expect every_vm_has_a_line 0 '^vm2\.pcap: 1 ESP packets, 0 cleartext udp/4789 packets$' "$d"

d=$(case_dir clear4 vm1="$E4 $C4 $E4" vm2="$E4")
expect cleartext_fails 1 "^FAIL: cleartext VXLAN in $d/vm1\.pcap$" "$d"
expect vxlan_counted_once 1 '^vm1\.pcap: 2 ESP packets, 1 cleartext udp/4789 packets$' "$d"

d=$(case_dir noesp vm1="$E4" vm2="$O4" vm2.boot2="$E4")
expect no_esp_fails 1 "^FAIL: no ESP in $d/vm2\.pcap$" "$d"
expect boots_have_lines 1 '^vm2\.boot2\.pcap: 1 ESP packets' "$d"
expect exempt_vm_passes 0 '^vm2\.pcap: 0 ESP packets, 0 cleartext' "$d" -n vm2
expect must_list_passes 0 '^vm2\.pcap: 0 ESP packets' "$d" -m 'vm1 vm2.boot2'
expect must_list_still_checks 1 "^FAIL: no ESP in $d/vm2\.pcap$" "$d" -m 'vm1 vm2'

d=$(case_dir inject4 vm1="$E4 $I4" vm2="$E4 $I4 $C4")
expect excluded_source_counted_apart 1 \
	'^vm1\.pcap: 1 ESP packets, 0 cleartext udp/4789 packets \(besides 1 from the removed vm4\)$' \
	"$d" -x 'src 192.168.77.14' -l 'from the removed vm4'
expect other_source_still_fails 1 "^FAIL: cleartext VXLAN in $d/vm2\.pcap$" \
	"$d" -x 'src 192.168.77.14' -l 'from the removed vm4'
expect excluded_source_alone_passes 0 '^vm1\.pcap: .*\(besides 1 from' \
	"$d" -o vm1 -x 'src 192.168.77.14' -l 'from the removed vm4'

expect injected_passes 0 '^vm2\.pcap: 1 ESP packets, 2 cleartext udp/4789 packets \(injected\)$' \
	"$d" -o vm2 -i
d2=$(case_dir noinject vm1="$E4")
expect injected_missing_fails 1 "^FAIL: no injected cleartext VXLAN in $d2/vm1\.pcap$" "$d2" -i

d=$(case_dir esp6 vm1="$E6 $E6" vm2="$E6 $C6" vm3="$E6 $I6")
expect esp_over_ipv6_counted 1 '^vm1\.pcap: 2 ESP packets, 0 cleartext udp/4789 packets$' "$d"
expect vxlan_over_ipv6_fails 1 "^FAIL: cleartext VXLAN in $d/vm2\.pcap$" "$d"
expect ipv6_source_excluded 0 '^vm3\.pcap: 1 ESP packets, 0 cleartext udp/4789 packets \(besides 1 from fd00::14\)$' \
	"$d" -o 'vm1 vm3' -x 'src fd00::14' -l 'from fd00::14'

d=$(case_dir espinudp vm1="$T4 $T4" vm2="$T6 $E6")
expect espinudp_counted 0 '^vm1\.pcap: 2 ESP-in-UDP/4500 packets, 0 cleartext udp/4789 packets$' "$d" -e espinudp
expect espinudp_over_ipv6 0 '^vm2\.pcap: 1 ESP-in-UDP/4500 packets, 0 cleartext' "$d" -e espinudp
expect espinudp_is_not_esp 1 "^FAIL: no ESP in $d/vm1\.pcap$" "$d"
d2=$(case_dir espinudp_clear vm1="$T4 $C4")
expect espinudp_with_cleartext_fails 1 "^FAIL: cleartext VXLAN in $d2/vm1\.pcap$" "$d2" -e espinudp
expect unknown_kind_fails 1 '^FAIL: pcap_esp_only: -e ah: esp or espinudp$' "$d" -e ah

mkdir -p "$tmp/empty"
expect no_pcap_fails 1 "^FAIL: no pcap $tmp/empty/vm\*\.pcap$" "$tmp/empty"
expect named_pcap_missing_fails 1 "^FAIL: no pcap $d/vm9\.pcap$" "$d" -o vm9

t_totals
