#!/bin/sh
# SPDX-License-Identifier: MIT
# Lab scenario c: a wrong key is refused (XfrmInStateProtoError rises) and
# cleartext VXLAN sent to a node with an inbound policy is dropped
# (XfrmInTmplMismatch rises); the overlay ping fails in both cases.
set -eu
. "$LAB_SRC/tests/lab/lib.sh"
. "$LAB_SRC/tests/lab/vxsec.sh"
lab_modprobe
me=$LAB_INDEX
peer=$((3 - me))
f=/tmp/neg.batch

# vm2 installs vm1's inbound SA with a wrong key.
if [ "$me" = 2 ]; then
	vx_sa_lines 1 "$me" "$peer" wrongkey >"$f"
else
	vx_sa_lines 1 "$me" "$peer" >"$f"
fi
vx_policy_lines "$me" "$peer" "$(vx_spi 1 "$me")" >>"$f"
vx_apply "$f"
vx_vxlan "$me" "$peer"

proto0=$(lab_xfrm_stat XfrmInStateProtoError)
tmpl0=$(lab_xfrm_stat XfrmInTmplMismatch)
lab_barrier configured

# 1. Wrong key: vm1's ESP cannot be authenticated by vm2.
if [ "$me" = 1 ]; then
	if ping -c 3 -i 0.3 -W 2 "$(vx_overlay_ip 2)"; then
		lab_fail "ping succeeded although vm2 holds a wrong key"
	fi
fi
lab_barrier wrongkey-sent
if [ "$me" = 2 ]; then
	proto1=$(lab_xfrm_stat XfrmInStateProtoError)
	echo "XfrmInStateProtoError: $proto0 -> $proto1"
	[ "$proto1" -gt "$proto0" ] || lab_fail "XfrmInStateProtoError did not rise"
fi

# 2. Cleartext: vm1 drops its out policy, so its VXLAN leaves unencrypted.
if [ "$me" = 1 ]; then
	"$XFRMCTL" policy del "$(lab_ip_of 1)/32" "$(lab_ip_of 2)/32" --dir out \
		--proto udp --dport "$VX_PORT"
	if ping -c 3 -i 0.3 -W 2 "$(vx_overlay_ip 2)"; then
		lab_fail "cleartext VXLAN was accepted by vm2"
	fi
fi
lab_barrier cleartext-sent
if [ "$me" = 2 ]; then
	tmpl1=$(lab_xfrm_stat XfrmInTmplMismatch)
	echo "XfrmInTmplMismatch: $tmpl0 -> $tmpl1"
	[ "$tmpl1" -gt "$tmpl0" ] || lab_fail "XfrmInTmplMismatch did not rise"
fi
lab_barrier done
