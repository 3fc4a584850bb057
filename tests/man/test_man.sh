#!/bin/sh
# SPDX-License-Identifier: MIT
# The man pages against the daemons' own tables: every flag, config key and command that clidump prints has an entry in man/*.scd; self-checks prove a page missing one fails. cmocka-style totals for tests/run.sh.
#
# An entry is a term of a definition in the scdoc source: a line that
# starts with '*' followed by a line indented with a tab ("*-d*,
# *--state-dir* _DIR_", "*state_dir* = _DIR_", "*status* [*--json*]"),
# that holds the word in bold, "*WORD*" (a synopsis line is no entry). Flags, the daemon's own commands
# and the control socket's commands belong in PROG.8.scd, config keys in
# PROG.conf.5.scd. The words come from build/tests/clidump_PROG, which
# reads the daemon's longopts, the keys its setter compares, the commands
# its main.c runs and its control socket's table (tests/tools/clidump.c).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
. "$root/tests/shtest.sh"

# missing DUMP PAGE8 PAGE5: "PAGE: no entry for KIND WORD" for each line
# "KIND WORD" of DUMP without an entry in its page; returns 1 if any.
missing() {
	awk -v p8="$2" -v p5="$3" '
	FNR == 1 { file++ }
	file == 1 { kind[NR] = $1; word[NR] = $2; n = NR; next }
	FNR == 1 { prev = "" }
	/^\t/ && prev ~ /^\*/ { text[FILENAME] = text[FILENAME] "\n" prev }
	{ prev = $0 }
	END {
		bad = 0
		for (i = 1; i <= n; i++) {
			page = kind[i] == "key" ? p5 : p8
			if (index(text[page], "*" word[i] "*") == 0) {
				printf "%s: no entry for %s %s\n", page, kind[i], word[i]
				bad = 1
			}
		}
		exit bad
	}' "$1" "$2" "$3"
}

# without PAGE WORD OUT: PAGE without its term lines holding *WORD*.
without() {
	awk -v w="*$2*" '!(/^\*/ && index($0, w))' "$1" >"$3"
}

for prog in keymgr agent; do
	dumper=$build/tests/clidump_$prog
	p8=$root/man/vxsec-$prog.8.scd
	p5=$root/man/vxsec-$prog.conf.5.scd
	dump=$tmp/$prog.dump
	if ! "$dumper" >"$dump" 2>"$tmp/err"; then
		t_fail "${prog}_tables" "$dumper failed: $(cat "$dump" "$tmp/err")"
		continue
	fi
	# Each kind must come out of the code: an empty one means the probe
	# no longer sees it, and the page would be checked against nothing.
	for k in flag key daemon command command-flag; do
		if grep -q "^$k " "$dump"; then
			t_ok "${prog}_tables_$k"
		else
			t_fail "${prog}_tables_$k" "clidump_$prog printed no $k"
		fi
	done

	# The pages as they are: every word has its entry.
	if missing "$dump" "$p8" "$p5" >"$tmp/out"; then
		t_ok "${prog}_pages_cover_the_code"
	else
		t_fail "${prog}_pages_cover_the_code" "what the code has and no page:"
		sed 's/^/    /' "$tmp/out"
	fi

	# Self-checks: the first word of each kind, its entry taken out of
	# a copy of its page, must be named; so must a word no page has.
	for k in flag key daemon command command-flag daemon-flag; do
		w=$(awk -v k="$k" '$1 == k { print $2; exit }' "$dump")
		[ -n "$w" ] || continue
		if [ "$k" = key ]; then
			without "$p5" "$w" "$tmp/p5"
			cp "$p8" "$tmp/p8"
		else
			without "$p8" "$w" "$tmp/p8"
			cp "$p5" "$tmp/p5"
		fi
		name="${prog}_selfcheck_page_without_$k"
		if missing "$dump" "$tmp/p8" "$tmp/p5" >"$tmp/out"; then
			t_fail "$name" "a page without $w passed"
		elif grep -qx ".*: no entry for $k $w" "$tmp/out"; then
			t_ok "$name"
		else
			t_fail "$name" "$w not named: $(cat "$tmp/out")"
		fi
	done
	{ cat "$dump"; echo "key no_such_setting"; echo "flag --no-such-flag"; } \
		>"$tmp/more"
	missing "$tmp/more" "$p8" "$p5" >"$tmp/out"
	if grep -q "vxsec-$prog.conf.5.scd: no entry for key no_such_setting" \
		"$tmp/out" &&
		grep -q "vxsec-$prog.8.scd: no entry for flag --no-such-flag" \
			"$tmp/out"; then
		t_ok "${prog}_selfcheck_new_words"
	else
		t_fail "${prog}_selfcheck_new_words" "not named: $(cat "$tmp/out")"
	fi

	# The built page exists (make all runs scdoc on the source).
	for page in vxsec-$prog.8 vxsec-$prog.conf.5; do
		if [ -s "$build/man/$page" ] &&
			grep -q '^\.TH' "$build/man/$page"; then
			t_ok "${page}_built"
		else
			t_fail "${page}_built" "no $build/man/$page (make man)"
		fi
	done
done

t_totals
