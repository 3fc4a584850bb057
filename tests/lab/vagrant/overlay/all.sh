#!/bin/sh
# SPDX-License-Identifier: MIT
# make vagrant-lab's scenario (tests/lab/vagrant-lab.sh), on 3 Vagrant VMs
# with the project's .debs installed: vxsec-keymgr on vm1 (not a member),
# vxsec-agent --vxlan on vm2 and vm3. The steps are the QEMU lab's overlay
# scenario's (tests/lab/overlay-steps.sh), fewer of them, on fewer VMs:
#  a. join and converge: overlay pings both ways (the pcaps: ESP only)
#  b. a rotation under pings (asked at 100/s, tests/lab/ping.sh): 0 lost,
#     the old SAs gone after the retire
#  c. an agent killed with -9 and started again under pings: 0 lost, its
#     SAs adopted unchanged
#  h. least privilege: each key held by the two nodes of its pair only,
#     none in the leader's memory
#  teardown: the agents and the leader stopped with SIGTERM, exit 0
set -eu
. "$LAB_SRC/tests/lab/lib.sh"
. "$LAB_SRC/tests/lab/vxsec.sh"
. "$LAB_SRC/tests/lab/daemons.sh"
. "$LAB_SRC/tests/lab/overlay-steps.sh"
OV_MEMBERS="2 3"
OV_SAS=2 # 1 peer x (in + out) of one generation
lab_modprobe

# ---- a. join and converge ----
ov_join
ov_ping_peers a
lab_barrier converged

# ---- b. a rotation under traffic ----
ov_rate_pings b 1500
lab_barrier b-pinging
if [ "$me" = 1 ]; then
	sleep 1
	ov_rotate 2
fi
lab_barrier b-rotated
ov_rate_running b "b: a rotation"
ov_hold_gen 2
ov_rate_stop b
ov_rate_end b "b: a rotation,"
lab_barrier b-done

# ---- c. agent kill -9 and restart under traffic ----
ov_rate_pings c 1000
lab_barrier c-pinging
ov_kill_agent 3
lab_barrier c-restarted
ov_rate_running c "c: agent restart"
ov_rate_stop c
ov_rate_end c "c: agent restart,"
lab_barrier c-done
ov_ping_peers c
lab_barrier c-resumed

# ---- h. least privilege ----
ov_least_privilege
lab_barrier h-done

# ---- teardown ----
if ov_member; then
	kill -TERM "$(cat /tmp/agent.pid)"
	d_wait_exit /tmp/agent.pid || d_die "teardown: the agent exited with $?"
	echo "teardown: vm$me's agent stopped (exit 0)"
fi
lab_barrier agents-stopped
if [ "$me" = 1 ]; then
	kill -TERM "$(cat /tmp/km.pid)"
	d_wait_exit /tmp/km.pid || d_die "teardown: the leader exited with $?"
	echo "teardown: the leader stopped (exit 0)"
fi
lab_barrier done
exit 0
