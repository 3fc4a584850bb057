#!/bin/sh
# SPDX-License-Identifier: MIT
# ha_phase.sh: kill -9 the leading keymgr in a rotation phase (test_ha; run by fakeagents --failover-after-sync, its parent holding the agents).
#
# usage: ha_phase.sh KM SOCK PID PHASE   (PHASE: prepare, commit or grace)
# prepare: the agents ($PPID, fakeagents) are stopped first, so no ack
# comes and the leader stays in prepare; grace: the leader runs with a
# grace of seconds; commit: the leader is stopped as soon as its status
# says commit (the agents hold their commit acks: fakeagents --hold-commit).
km=$1 sock=$2 pid=$3 phase=$4 fa=$PPID # exec'd by sh -c: its parent is fakeagents

# The rotation's phase once etcd holds it (the revision persisted), else
# nothing: a leader killed before its commit of the phase leaves etcd
# (and the next leader) in the phase before, and test_ha expects the next
# leader to find this one.
phase_now() {
	"$km" -s "$sock" status --json 2>/dev/null |
		sed -n 's/.*"revision":\([0-9]*\),"persisted_revision":\([0-9]*\),.*"rotation":{"phase":"\([a-z]*\)".*/\3 \1 \2/p' |
		awk '$2 == $3 { print $1 }'
}

case $(cat "/proc/$fa/comm" 2>/dev/null) in
fakeagents*) ;;
*)
	echo "ha_phase: my parent ($fa) is not fakeagents: run me with exec" >&2
	exit 1
	;;
esac
[ "$phase" = prepare ] && kill -STOP "$fa"
"$km" -s "$sock" rotate >/dev/null &
i=0
while [ "$(phase_now)" != "$phase" ]; do
	i=$((i + 1))
	if [ "$i" -gt 2000 ]; then
		echo "ha_phase: the leader never reached $phase" >&2
		kill -CONT "$fa"
		exit 1
	fi
	sleep 0.01
done
kill -STOP "$pid"
echo "ha_phase: leader $pid killed in $phase" >&2
kill -KILL "$pid"
[ "$phase" = prepare ] && kill -CONT "$fa"
exit 0
