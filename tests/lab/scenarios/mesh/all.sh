#!/bin/sh
# SPDX-License-Identifier: MIT
# Lab scenario b: 3 VMs in a full mesh; per-pair SAs and udp/4789 policies
# programmed by xfrm/ (xfrmctl batch), VXLAN ping in every direction.
set -eu
. "$LAB_SRC/tests/lab/lib.sh"
. "$LAB_SRC/tests/lab/vxsec.sh"
lab_modprobe
me=$LAB_INDEX
peers=$(vx_peers "$me")

f=/tmp/mesh.batch
: >"$f"
for p in $peers; do
	vx_sa_lines 1 "$me" "$p" >>"$f"
	vx_policy_lines "$me" "$p" "$(vx_spi 1 "$me")" >>"$f"
done
vx_apply "$f"
vx_vxlan "$me" $peers
lab_barrier configured

for p in $peers; do
	ping -c 5 -i 0.2 -W 5 "$(vx_overlay_ip "$p")" ||
		lab_fail "overlay ping vm$me -> vm$p got no reply"
done
# The out SA of every pair carried the traffic.
for p in $peers; do
	n=$("$XFRMCTL" sa get "$(lab_ip_of "$me")" "$(lab_ip_of "$p")" "$(vx_spi 1 "$me")" |
		sed -n 's/^packets=//p')
	[ "${n:-0}" -gt 0 ] || lab_fail "out SA vm$me -> vm$p counted no packets"
	echo "out SA vm$me -> vm$p: $n packets"
done
lab_barrier pinged
