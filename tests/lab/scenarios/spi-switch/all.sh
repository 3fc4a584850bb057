#!/bin/sh
# SPDX-License-Identifier: MIT
# Lab scenario d: both generations' SAs installed, transmit switched from
# generation 1 to 2 by updating the out policy's template SPI while vm1
# pings (asked at 100 packets/s; tests/lab/ping.sh): 0 packets lost.
set -eu
. "$LAB_SRC/tests/lab/lib.sh"
. "$LAB_SRC/tests/lab/vxsec.sh"
lab_modprobe
me=$LAB_INDEX
peer=$((3 - me))
mip=$(lab_ip_of "$me") pip=$(lab_ip_of "$peer")
f=/tmp/switch.batch
count=${LAB_PING_COUNT:-800}

{
	vx_sa_lines 1 "$me" "$peer"
	vx_sa_lines 2 "$me" "$peer"
	vx_policy_lines "$me" "$peer" "$(vx_spi 1 "$me")"
} >"$f"
vx_apply "$f"
vx_vxlan "$me" "$peer"
lab_barrier configured
# Resolve the overlay neighbours before counting losses.
ping -c 2 -W 5 "$(vx_overlay_ip "$peer")" >/dev/null || lab_fail "warm-up ping failed"
lab_barrier warm

[ "$me" = 1 ] && lab_ping_start switch "$(vx_overlay_ip 2)" "$count"
sleep 3
vx_policy_lines "$me" "$peer" "$(vx_spi 2 "$me")" update >/tmp/upd.batch
vx_apply /tmp/upd.batch
echo "vm$me: transmit switched to $(vx_spi 2 "$me")"

if [ "$me" = 1 ]; then
	lab_ping_running switch || lab_fail "the ping ended before the switch"
	lab_ping_check switch "across the SPI switch" || lab_fail "spi-switch: $LAB_PING_WHY"
fi
lab_barrier pinged
# Both generations carried traffic: before and after the switch.
for g in 1 2; do
	n=$("$XFRMCTL" sa get "$mip" "$pip" "$(vx_spi "$g" "$me")" | sed -n 's/^packets=//p')
	echo "vm$me out SA gen $g: ${n:-0} packets"
	[ "${n:-0}" -gt 0 ] || lab_fail "out SA of generation $g carried nothing"
done
