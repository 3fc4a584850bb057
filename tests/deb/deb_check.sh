#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make deb-check: the packages of make deb unpacked (no root) and used as a control plane would.
#
# usage: tests/deb/deb_check.sh DEBDIR   (make deb-check: build/deb)
# dpkg -x puts the four packages in a temporary root; their contents and
# maintainer scripts are checked; the example daemon of the -dev package
# is built with pkg-config against that root (PKG_CONFIG_PATH,
# PKG_CONFIG_SYSROOT_DIR) and run on 127.0.0.1: a leader in a temporary
# state directory, asked for its status by the packaged vxsec-keymgr,
# made to rotate (SIGUSR1: leader_rotate, its done callback and events)
# and to log its status (SIGHUP), stopped by SIGTERM, then started again
# on the same state; then on an autolocked state (packaged init
# --autolock), its unlock key given as text. One PASS or
# FAIL line each; exit 1 on any FAIL. The commands' output: DEBDIR/deb-check.log.
set -u
deb=$(realpath "${1:?usage: deb_check.sh DEBDIR}")
cd "$(dirname "$0")/../.." || exit 1
start=$(date +%s)
log=$deb/deb-check.log
: >"$log"
tmp=$(mktemp -d /tmp/vxsec-deb-check-XXXXXX)
root=$tmp/root
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
passed=0
failed=0

pass() {
	echo "PASS $*"
	passed=$((passed + 1))
}
fail() {
	echo "FAIL $*"
	failed=$((failed + 1))
}
# check WHAT COMMAND...: PASS if the command succeeds; its output to the log.
check() {
	local what=$1
	shift
	echo "== $what: $*" >>"$log"
	if "$@" >>"$log" 2>&1; then pass "$what"; else fail "$what (see $log)"; fi
}

ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
mkdir -p "$root"
for p in vxsec-keymgr vxsec-agent libvxsec-keymgr0 libvxsec-keymgr-dev; do
	set -- "$deb/${p}"_*_"$arch".deb
	f=$1
	if [ ! -e "$f" ]; then
		fail "$p: no ${p}_*_$arch.deb in $deb (make deb first)"
		continue
	fi
	if dpkg-deb -x "$f" "$root" && dpkg-deb -e "$f" "$tmp/ctl-$p"; then
		pass "$p: $(basename "$f") unpacked"
	else
		fail "$p: dpkg-deb -x $f"
	fi
done
[ "$failed" = 0 ] || exit 1

# Each daemon's package: binary, unit, users, directories, conffile.
has_files() {
	local f
	for f in "$@"; do
		[ -e "$root/$f" ] || { echo "missing: /$f"; return 1; }
	done
}
# The users before the directories they own, in the postinst; the unit enabled.
postinst_order() {
	local s=$1 u t
	u=$(grep -n 'systemd-sysusers' "$s" | head -n 1 | cut -d: -f1)
	t=$(grep -n 'systemd-tmpfiles' "$s" | head -n 1 | cut -d: -f1)
	[ -n "$u" ] && [ -n "$t" ] && [ "$u" -lt "$t" ] &&
		grep -q "deb-systemd-helper enable" "$s"
}
# ExecStart='s program is the packaged one.
unit_execs() {
	local exe
	exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$1")
	echo "ExecStart: $exe"
	[ -n "$exe" ] && [ -x "$root$exe" ]
}
for d in keymgr agent; do
	p=vxsec-$d
	check "$p: daemon, unit, sysusers.d, tmpfiles.d, /etc/vxsec/$d.conf" \
		has_files usr/sbin/$p lib/systemd/system/$p.service \
		usr/lib/sysusers.d/$p.conf usr/lib/tmpfiles.d/$p.conf \
		etc/vxsec/$d.conf
	check "$p: /etc/vxsec/$d.conf is a conffile" \
		grep -qx "/etc/vxsec/$d.conf" "$tmp/ctl-$p/conffiles"
	check "$p: postinst makes the user before its directory, enables the unit" \
		postinst_order "$tmp/ctl-$p/postinst"
	check "$p: the unit starts /usr/sbin/$p" \
		unit_execs "$root/lib/systemd/system/$p.service"
done

# The conffiles: every key the daemon accepts is there, each line parses.
keys_listed() {
	local k miss=0
	while read -r k; do
		grep -Eq "^#?$k = " "$2" || { echo "not in $2: $k"; miss=1; }
	done < <(grep -o 'strcmp(key, "[a-z_]*")' "$1" | cut -d'"' -f2 | sort -u)
	return $miss
}
# The file with every commented setting uncommented, read by the packaged
# command: exit 69 (no daemon at that socket), not 2 (config error).
conf_parses() {
	local bin=$1 conf=$2 rc
	sed 's/^#\([a-z_]* = \)/\1/' "$conf" >"$tmp/all.conf"
	"$root/usr/sbin/$bin" -c "$tmp/all.conf" -s "$tmp/none.sock" status
	rc=$?
	echo "exit $rc"
	[ "$rc" = 69 ]
}
check "keymgr.conf lists every key of keymgr/leader_config.c" \
	keys_listed keymgr/leader_config.c "$root/etc/vxsec/keymgr.conf"
check "agent.conf lists every key of agent/agent_config.c" \
	keys_listed agent/agent_config.c "$root/etc/vxsec/agent.conf"
check "keymgr.conf: every line, uncommented, accepted by vxsec-keymgr" \
	conf_parses vxsec-keymgr "$root/etc/vxsec/keymgr.conf"
check "agent.conf: every line, uncommented, accepted by vxsec-agent" \
	conf_parses vxsec-agent "$root/etc/vxsec/agent.conf"

# The library: its soname, and only the functions of leader.h exported.
lib=$root/usr/lib/$ma/libvxsec-keymgr.so.0
exports_only_leader() {
	local syms
	syms=$(nm -D --defined-only "$lib" | awk '{print $3}')
	echo "$syms"
	[ -n "$syms" ] && ! echo "$syms" |
		grep -Ev '^(leader_[a-z_]+@@)?VXSEC_KEYMGR_0(\.[0-9]+)?$'
}
check "libvxsec-keymgr0: SONAME libvxsec-keymgr.so.0" \
	sh -c "readelf -d '$lib' | grep -F '[libvxsec-keymgr.so.0]'"
check "libvxsec-keymgr0: exports leader_* only, versions VXSEC_KEYMGR_0 and 0.N" \
	exports_only_leader
check "libvxsec-keymgr0: 0.3's leader_unlock_key_parse in VXSEC_KEYMGR_0.3" \
	sh -c "nm -D --defined-only '$lib' | grep -F ' leader_unlock_key_parse@@VXSEC_KEYMGR_0.3'"

# The -dev package through pkg-config, as a control plane's build would.
export PKG_CONFIG_PATH=$root/usr/lib/$ma/pkgconfig PKG_CONFIG_SYSROOT_DIR=$root
check "pkg-config --cflags --libs vxsec-keymgr" \
	pkg-config --cflags --libs vxsec-keymgr
pc_cflags=$(pkg-config --cflags vxsec-keymgr)
pc_libs=$(pkg-config --libs vxsec-keymgr)
CC=${CC:-cc}
WARN="-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes"
echo '#include <vxsec/leader.h>' >"$tmp/only.c"
# shellcheck disable=SC2086 # the flags are words
check "vxsec/leader.h compiles alone (C11 + POSIX)" \
	$CC -std=c11 -D_POSIX_C_SOURCE=200809L $WARN -pedantic $pc_cflags \
	-fsyntax-only "$tmp/only.c"
# A C++ host links it too (the header's extern "C").
if command -v c++ >/dev/null; then
	cat >"$tmp/host.cc" <<'CC'
#include <cerrno>
#include <vxsec/leader.h>
int main()
{
	struct leader_config c;
	struct why w;
	uint8_t *k = nullptr;
	leader_config_defaults(&c);
	if (leader_unlock_key_parse("VXSEC-1-X", &k, &w) != -EINVAL || k)
		return 1;
	return c.grace_ms == 10000 ? 0 : 1;
}
CC
	# shellcheck disable=SC2086
	check "a C++ program includes vxsec/leader.h, links and calls it" \
		sh -c "c++ -Wall -Wextra -Werror $pc_cflags -o '$tmp/host' \
			'$tmp/host.cc' $pc_libs && LD_LIBRARY_PATH='$root/usr/lib/$ma' '$tmp/host'"
fi
example=$root/usr/share/doc/libvxsec-keymgr-dev/examples/embed-leader.c
# shellcheck disable=SC2086
check "the -dev package's example builds: cc \$(pkg-config --cflags --libs vxsec-keymgr)" \
	$CC -std=gnu11 -O2 $WARN -o "$tmp/embed-leader" "$example" $pc_cflags $pc_libs
export LD_LIBRARY_PATH=$root/usr/lib/$ma
check "the example loads the packaged libvxsec-keymgr.so.0" \
	sh -c "ldd '$tmp/embed-leader' | grep -F '$lib'"

# Run it: a leader on 127.0.0.1 in a temporary directory.
run=$tmp/run
mkdir -p "$run"
wait_file() {
	for _ in $(seq 100); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
# wait_log FILE PATTERN...: each (grep -E) in FILE within 10 s.
wait_log() {
	local f=$1 p
	shift
	for p in "$@"; do
		for _ in $(seq 100); do
			grep -Eq "$p" "$f" && break
			sleep 0.1
		done
		grep -E "$p" "$f" || { echo "not in $f: $p"; return 1; }
	done
}
"$tmp/embed-leader" "$run" 127.0.0.1:0 0 >"$tmp/embed.log" 2>&1 &
pid=$!
if wait_file "$run/state/listen"; then
	addr=$(cat "$run/state/listen")
	pass "embedded leader up, listening on $addr"
	port=${addr##*:}
	check "it accepts a TCP connection on $addr" \
		timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
	check "packaged vxsec-keymgr status over its control socket" \
		"$root/usr/sbin/vxsec-keymgr" -c /dev/null -s "$run/ctl.sock" status
	# The library's operations and events, driven by the host's signals.
	kill -USR1 "$pid"
	check "SIGUSR1: leader_rotate, its end told, its phases as events" \
		wait_log "$tmp/embed.log" 'rotation requested and saved' \
		'rotation: commit, generation 2'
	kill -HUP "$pid"
	check "SIGHUP: leader_status_get in the host's log (0.3: the store)" \
		wait_log "$tmp/embed.log" 'status: revision [1-9]' 'store file$'
else
	fail "embedded leader: no $run/state/listen within 10 s"
fi
kill -TERM "$pid" 2>/dev/null
wait "$pid"
rc=$?
pid=
cat "$tmp/embed.log" >>"$log"
if [ "$rc" = 0 ] && grep -q 'leader freed' "$tmp/embed.log"; then
	pass "SIGTERM: the host's loop ends, leader_free, exit 0"
else
	fail "SIGTERM: exit $rc (see $log)"
fi
ca=$(sha256sum "$run/state/ca.pem" 2>/dev/null)
check "started again on the same state, runs 1 s, exit 0" \
	timeout 20 "$tmp/embed-leader" "$run" 127.0.0.1:0 1
check "the same cluster (ca.pem unchanged)" \
	sh -c "[ -n '$ca' ] && [ \"\$(sha256sum '$run/state/ca.pem')\" = '$ca' ]"

# An autolocked state: the packaged init prints the unlock key, the host
# keeps it in DIR/unlock-key and opens the state with
# leader_unlock_key_parse(); a key cut short is refused with the reason.
lock=$tmp/lock
mkdir -m 700 "$lock"
"$root/usr/sbin/vxsec-keymgr" -c /dev/null -d "$lock/state" init --autolock \
	2>>"$log" | sed -n 's/^unlock key: //p' >"$lock/unlock-key"
chmod 600 "$lock/unlock-key"
check "packaged init --autolock: an unlock key printed" \
	grep -q '^VXSEC-UNLOCK-' "$lock/unlock-key"
check "autolocked: the example opens it with leader_unlock_key_parse, runs 1 s, exit 0" \
	timeout 20 "$tmp/embed-leader" "$lock" 127.0.0.1:0 1
cut_key() {
	local rc
	sed -i 's/.$//' "$lock/unlock-key"
	timeout 20 "$tmp/embed-leader" "$lock" 127.0.0.1:0 1 >"$tmp/lock.log" 2>&1
	rc=$?
	cat "$tmp/lock.log"
	echo "exit $rc"
	[ "$rc" = 3 ] && grep -q 'base32 characters, not 51' "$tmp/lock.log"
}
check "a key cut short: exit 3, the reason from leader_unlock_key_parse" \
	cut_key

echo "deb-check: $passed passed, $failed failed, $(($(date +%s) - start)) s"
[ "$failed" = 0 ]
