# SPDX-License-Identifier: MIT
# Lab helpers for vxsec scenarios: test keys, SPIs, SAs/policies via xfrmctl, VXLAN.
# Sourced inside a VM after lib.sh. Keys here are test keys derived from
# public strings: they protect nothing and exist only inside lab VMs.

XFRMCTL=$LAB_SRC/build/tests/xfrmctl
VX_REQID=${VX_REQID:-4660}
VX_PORT=${VX_PORT:-4789}

# vx_key GEN FROM TO: 36-byte AES-256-GCM key + salt as 72 hex characters.
vx_key() {
	printf 'vxsec-lab-key-%s-%s-%s' "$1" "$2" "$3" | sha512sum | cut -c1-72
}

# vx_spi GEN SENDER_INDEX: the DESIGN.md rule, (1 + g mod 255) << 24 | index.
vx_spi() {
	printf '0x%08x' $(( ((1 + $1 % 255) << 24) | $2 ))
}

vx_overlay_ip() { echo "10.77.0.$1"; }

# vx_sa_lines GEN ME PEER [WRONGKEY]: xfrmctl batch lines for the pair's SAs.
vx_sa_lines() {
	g=$1 me=$2 peer=$3
	mip=$(lab_ip_of "$me") pip=$(lab_ip_of "$peer")
	inkey=$(vx_key "$g" "$peer" "$me")
	[ "${4:-}" = wrongkey ] && inkey=$(vx_key "$g" wrong "$me")
	echo "sa add $mip $pip $(vx_spi "$g" "$me") --reqid $VX_REQID --esn --replay 1024 --key $(vx_key "$g" "$me" "$peer")"
	echo "sa add $pip $mip $(vx_spi "$g" "$peer") --reqid $VX_REQID --esn --replay 1024 --key $inkey"
}

# vx_policy_lines ME PEER TX_SPI [VERB]: out pinned to TX_SPI, in requires ESP.
vx_policy_lines() {
	me=$1 peer=$2 spi=$3 verb=${4:-add}
	mip=$(lab_ip_of "$me") pip=$(lab_ip_of "$peer")
	echo "policy $verb $mip/32 $pip/32 --dir out --proto udp --dport $VX_PORT --reqid $VX_REQID --spi $spi"
	[ "$verb" = update ] && return 0
	echo "policy $verb $pip/32 $mip/32 --dir in --proto udp --dport $VX_PORT --reqid $VX_REQID"
}

# vx_apply FILE: one xfrm/ batch; fails the scenario on any failed request.
vx_apply() {
	"$XFRMCTL" batch "$1" || lab_fail "xfrmctl batch $1 failed"
}

# vx_vxlan ME PEER...: vx0 with a static FDB entry per peer, overlay /24.
vx_vxlan() {
	me=$1
	shift
	ip link add vx0 type vxlan id 42 dstport "$VX_PORT" local "$(lab_ip_of "$me")" nolearning
	for p in "$@"; do
		bridge fdb append 00:00:00:00:00:00 dev vx0 dst "$(lab_ip_of "$p")"
	done
	ip addr add "$(vx_overlay_ip "$me")/24" dev vx0
	ip link set vx0 up
}

# vx_peers ME: every other VM index.
vx_peers() {
	i=1
	while [ "$i" -le "$LAB_VMS" ]; do
		[ "$i" != "$1" ] && printf '%s ' "$i"
		i=$((i + 1))
	done
}
