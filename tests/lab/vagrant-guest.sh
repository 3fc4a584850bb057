#!/bin/sh
# SPDX-License-Identifier: MIT
# Inside a Vagrant VM: clean the last scenario's state, capture the underlay, run one scenario script.
# usage: vagrant-guest.sh NAME INDEX VMS SCRIPT (SCRIPT: its path in /vagrant)
set -u
s=$1 i=$2 vms=$3 script=$4
export LAB_NAME=vm$i LAB_INDEX=$i LAB_VMS=$vms LAB_SRC=/vagrant LAB_BIN=${LAB_BIN:-}
export LAB_DIR=/vagrant/build/lab-vagrant/$s LAB_IP=192.168.77.$((10 + i))/24
ip xfrm state flush
ip xfrm policy flush
ip link del vx0 2>/dev/null
iface=$(ip -o -4 addr show | awk -v ip="192.168.77.$((10 + i))/" 'index($4, ip) == 1 { print $2 }')
[ -n "$iface" ] || { echo "rc=1 (no interface with 192.168.77.$((10 + i)))" >"$LAB_DIR/vm$i.rc"; exit 1; }
tcpdump -Z root -i "$iface" -U -w "$LAB_DIR/vm$i.pcap" 2>/dev/null &
tp=$!
sleep 1
cd "$LAB_SRC"
sh "$script" >"$LAB_DIR/vm$i.log" 2>&1
rc=$?
sleep 1
kill "$tp"
echo "rc=$rc" >"$LAB_DIR/vm$i.rc"
exit "$rc"
