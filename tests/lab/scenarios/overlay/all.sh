#!/bin/sh
# SPDX-License-Identifier: MIT
# Issue 7, the encrypted overlay with the real daemons: vxsec-keymgr on vm1
# (not a member), vxsec-agent --vxlan on vm2-vm4.
#  a. join and converge: overlay pings in every direction (pcaps: ESP only);
#     the SAs carry the default lifetimes (soft 2^40 bytes, nothing hard)
#  b. every member's periodic static key change (static_key_lifetime 1m),
#     then 3 rotations back to back under pings on every pair (asked at
#     100/s, accounted for by tests/lab/ping.sh): 0 lost, the old SAs gone
#     after each retire; the first rotation takes the new keys into use
#     (every peer and the leader show them), and the old private keys are
#     wiped when the last generation that used them retires
#  c. an agent killed with -9 and started again under traffic: 0 lost, its
#     SAs untouched (none re-added with a used key); then SAs deleted behind
#     an agent's back: their keys are not installed again, the node gets a
#     new incarnation (fresh keys) and traffic resumes
#  g. cleartext VXLAN from a member and from a non-member: dropped
#  h. least privilege: no node holds a key of a pair it is not in; and
#     the leader is blind: no key any kernel holds is in its memory
set -eu
. "$LAB_SRC/tests/lab/lib.sh"
. "$LAB_SRC/tests/lab/vxsec.sh"
. "$LAB_SRC/tests/lab/daemons.sh"
. "$LAB_SRC/tests/lab/overlay-steps.sh" # the steps overlay-v6 runs too
lab_modprobe

# ---- a. join and converge ----
ov_join --static-key-lifetime 1m
ov_ping_peers a
ov_member && $AG status
lab_barrier converged

# ---- b. the periodic static key change, three rotations under traffic ----
# Nothing rotated yet: each member's first key is bound (every generation),
# and a minute after it was made (checked every 15 s) comes a new one,
# which waits unbound for the leader's next generation.
if ov_member; then
	used=$(d_jstr static_key_in_use)
	end=$(($(date +%s) + 120))
	until [ "$(d_json static_key_bound)" = false ]; do
		[ "$(date +%s)" -lt "$end" ] ||
			d_die "b: no new static key within 120 s (lifetime 1m)"
		sleep 1
	done
	new=$(d_jstr static_key)
	[ -n "$new" ] && [ "$new" != "$used" ] ||
		d_die "b: the new static key '$new' is the one in use '$used'"
	echo "$new" >"$LAB_DIR/key.vm$me"
	echo "b: vm$me made its periodic new static key $new (in use: $used)"
fi
lab_barrier b-new-keys
ov_rate_pings b 3000 # 30 s if the guest reached 100/s
lab_barrier b-pinging
if [ "$me" = 1 ]; then
	sleep 1
	ov_rotate 2 3 4
	for p in $OV_MEMBERS; do
		k=$(cat "$LAB_DIR/key.vm$p")
		$KM nodes --json | grep -q -F "\"key\":\"$k\"" ||
			d_die "b: the leader does not list vm$p's new key $k"
	done
	echo "b: the leader lists every member's new key"
fi
lab_barrier b-rotated
ov_rate_running b "b: 3 rotations"
ov_hold_gen 4
if ov_member; then
	new=$(cat "$LAB_DIR/key.vm$me")
	[ "$(d_jstr static_key_in_use)" = "$new" ] ||
		d_die "b: generation 4 does not use vm$me's new key $new"
	grep -q "old static key wiped: generation 1" /tmp/agent.log ||
		d_die "b: the old static key was not wiped with generation 1"
	for p in $(ov_peers); do
		k=$(cat "$LAB_DIR/key.vm$p")
		$AG status --json | grep -q -F "\"static_key\":\"$k\"" ||
			d_die "b: vm$me does not show vm$p's new key $k"
	done
	echo "b: vm$me and its peers use their new keys; its old key is wiped"
fi
ov_rate_end b "b: 3 rotations,"
lab_barrier b-done

# ---- c. agent kill -9 and restart under traffic ----
ov_rate_pings c 1500
lab_barrier c-pinging
ov_kill_agent 3 --static-key-lifetime 1m
lab_barrier c-restarted
ov_rate_end c "c: agent restart,"
lab_barrier c-done
if [ "$me" = 2 ]; then
	before=$(d_sas)
	ip xfrm state deleteall src "$(lab_ip_of 2)" dst "$(lab_ip_of 3)"
	echo "c: the SAs vm2 -> vm3 deleted behind vm2's agent"
	end=$(($(date +%s) + 30))
	until grep -q "asking the leader for fresh keys" /tmp/agent.log; do
		[ "$(date +%s)" -lt "$end" ] || d_die "c: the agent did not notice"
		sleep 0.2
	done
	d_wait_sync $OV_SAS
	[ "$(d_sas)" != "$before" ] || d_die "c: the same keys came back"
	echo "c: vm2 got a new incarnation: fresh keys for its pairs"
fi
lab_barrier c-relearned
ov_member && d_wait_sync $OV_SAS
ov_ping_peers c
lab_barrier c-resumed

# ---- g. cleartext VXLAN injection: member vm2, stranger vm1, at vm3 ----
ov_inject 2 3 3

# ---- h. least privilege ----
ov_least_privilege
lab_barrier done
exit 0
