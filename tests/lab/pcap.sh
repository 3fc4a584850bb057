# SPDX-License-Identifier: MIT
# Host-side pcap checks for the scenarios' check.sh: each VM's underlay carried encrypted packets only, never cleartext VXLAN.
#
# Sourced by tests/lab/scenarios/*/check.sh (on the host, after the VMs
# powered off; lib.sh is the guests' library). POSIX sh; its variables
# start with _p so that a check.sh's own are left alone.

# pcap_count FILE FILTER: how many packets of FILE match the tcpdump FILTER.
# The lines that start with a timestamp: tcpdump prints a VXLAN packet's
# inner frame on a line of its own.
pcap_count() {
	tcpdump -nn -tt -r "$1" "$2" 2>/dev/null | awk '/^[0-9]+\.[0-9]+ / { n++ } END { print n + 0 }'
}

# pcap_esp_only DIR [-e KIND] [-o VMS] [-m VMS] [-n VMS] [-x FILTER -l WHAT] [-i]
#
# For every DIR/vm*.pcap (vmN.pcap, and vmN.bootB.pcap of a power-cycled
# VM), in the glob's order, prints one line
#   vmN.pcap: E ESP packets, C cleartext udp/4789 packets[ SUFFIX]
# and returns 1 after a "FAIL: ..." line at the first pcap where cleartext
# VXLAN crossed the wire, or where a VM that must show encrypted packets
# shows none (also when there is no pcap at all).
#   -e KIND    which packets are the encrypted ones, by name:
#              esp       IP protocol 50, over IPv4 or IPv6 (tcpdump's esp
#                        is "ip proto 50 or ip6 proto 50"); printed "ESP".
#                        The default.
#              espinudp  ESP in UDP, port 4500 (NAT traversal, RFC 3948),
#                        over IPv4 or IPv6; printed "ESP-in-UDP/4500"
#              Cleartext VXLAN is "udp port 4789" (IPv4 or IPv6) with
#              either: ESP hides the inner UDP header, and tcpdump reads a
#              UDP-encapsulated packet's outer port only.
#   -o VMS     only these pcaps, in this order ("vm1", "vm2.boot2")
#   -m VMS     only these must show encrypted packets (default: every one)
#   -n VMS     these need not show any (the others must)
#   -x FILTER  cleartext VXLAN that also matches the tcpdump FILTER
#              ("src 192.168.77.14", "src fd00::14") was sent on purpose:
#              counted apart, SUFFIX "(besides N WHAT)" with -l WHAT; the
#              rest must be 0
#   -i         the scenario injected cleartext VXLAN: it must be there
#              (at least 1 packet), SUFFIX "(injected)"
pcap_esp_only() {
	_pdir=$1
	shift
	_penc=esp _plabel=ESP _ponly='' _pmust='' _pnot='' _px='' _pwhat='' _pinj=''
	OPTIND=1
	while getopts e:o:m:n:x:l:i _popt; do
		case $_popt in
		e) case $OPTARG in
			esp) _penc=esp _plabel=ESP ;;
			espinudp) _penc='udp port 4500' _plabel=ESP-in-UDP/4500 ;;
			*) echo "FAIL: pcap_esp_only: -e $OPTARG: esp or espinudp"; return 1 ;;
			esac ;;
		o) _ponly=$OPTARG ;;
		m) _pmust=$OPTARG ;;
		n) _pnot=$OPTARG ;;
		x) _px=$OPTARG ;;
		l) _pwhat=$OPTARG ;;
		i) _pinj=1 ;;
		*) echo "FAIL: pcap_esp_only: bad option"; return 1 ;;
		esac
	done
	[ $# -eq $((OPTIND - 1)) ] || { echo "FAIL: pcap_esp_only: stray arguments"; return 1; }
	if [ -n "$_ponly" ]; then
		set --
		for _pvm in $_ponly; do set -- "$@" "$_pdir/$_pvm.pcap"; done
	else
		set -- "$_pdir"/vm*.pcap
	fi
	for _pcap in "$@"; do
		[ -f "$_pcap" ] || { echo "FAIL: no pcap $_pcap"; return 1; }
		_pvm=$(basename "$_pcap" .pcap)
		_pn=$(pcap_count "$_pcap" "$_penc")
		if [ -n "$_px" ]; then
			_pclear=$(pcap_count "$_pcap" "udp port 4789 and not ($_px)")
			_psfx=" (besides $(pcap_count "$_pcap" "udp port 4789 and ($_px)") $_pwhat)"
		else
			_pclear=$(pcap_count "$_pcap" 'udp port 4789')
			_psfx=${_pinj:+" (injected)"}
		fi
		echo "$_pvm.pcap: $_pn $_plabel packets, $_pclear cleartext udp/4789 packets$_psfx"
		_pneed=1
		[ -z "$_pmust" ] || case " $_pmust " in *" $_pvm "*) ;; *) _pneed= ;; esac
		case " $_pnot " in *" $_pvm "*) _pneed= ;; esac
		[ -z "$_pneed" ] || [ "$_pn" -gt 0 ] || { echo "FAIL: no $_plabel in $_pcap"; return 1; }
		if [ -n "$_pinj" ]; then
			[ "$_pclear" -gt 0 ] || { echo "FAIL: no injected cleartext VXLAN in $_pcap"; return 1; }
		else
			[ "$_pclear" -eq 0 ] || { echo "FAIL: cleartext VXLAN in $_pcap"; return 1; }
		fi
	done
}
