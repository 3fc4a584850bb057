#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# depcheck: every #include follows the module arrows of DESIGN.md, and
# inside a module no two units depend on each other, even through others.
# One exception to the arrows: common/why.h (struct why, the reason an
# error carries back) is header-only, and every module may include it.
#
# A unit is the files that share a name up to its first '_': leader.c,
# leader.h, leader_int.h and leader_config.c are the unit "leader";
# session.c, session_send.c and session_int.h the unit "session". (A file
# that is to stand on its own gets a name of its own, not a suffix.)
# Unit X depends on unit Y (X != Y, both in this module) when a file of X
#   - includes a header of Y ("y.h", "y_int.h", "m/y.h"), or
#   - is a header that declares a function or variable a file of Y
#     defines (not static): including it makes them usable. That is how
#     leader_int.h, declaring session_*, let leader.c call session.c
#     while session.c called leader.c through the same header.
# Declarations and definitions are the lines that start in column one
# with a type and name a function ("struct client *session_client_new("),
# or define a variable ("const struct ctl_table leader_commands = {"), or
# declare one ("extern const struct ctl_table leader_commands;").
# In the modules listed in acyclic (below) these dependencies must form
# no cycle; a cycle is printed as a path of units.
set -u
cd "$(dirname "$0")/.."

# module -> modules it may include (itself always allowed)
declare -A allow=(
	[nl]=""
	[xfrm]="nl"
	[proto]=""
	[common]=""
	[keymgr]="proto common"
	[agent]="nl xfrm proto common"
)
# module -> system headers (by prefix) it must not include
declare -A forbid=(
	[nl]="openssl/ sodium protobuf-c/ linux/xfrm linux/rtnetlink cmocka"
	[xfrm]="openssl/ sodium protobuf-c/ cmocka"
	[proto]="openssl/ sodium libmnl/ linux/xfrm cmocka"
	[common]="libmnl/ linux/xfrm protobuf-c/ cmocka"
	[keymgr]="libmnl/ linux/xfrm cmocka"
	[agent]="cmocka"
)
modules="nl xfrm proto common keymgr agent"
bad=0 checked=0
declare -A edges=() # "module unit" -> units it depends on (space-separated)
declare -A units=() # "module unit" -> 1

re_local='^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]*)"'
re_sys='^[[:space:]]*#[[:space:]]*include[[:space:]]*<([^>]*)>'

add_edge() { # module from to
	[ "$2" = "$3" ] && return
	case " ${edges["$1 $2"]-} " in
	*" $3 "*) ;;
	*) edges["$1 $2"]="${edges["$1 $2"]-} $3" ;;
	esac
}

for m in $modules; do
	[ -d "$m" ] || continue
	while IFS= read -r f; do
		checked=$((checked + 1))
		u=${f##*/}
		u=${u%.*}
		u=${u%%_*}
		units["$m $u"]=1
		while IFS= read -r line; do
			inc="" sys=""
			[[ "$line" =~ $re_local ]] && inc=${BASH_REMATCH[1]}
			[[ "$line" =~ $re_sys ]] && sys=${BASH_REMATCH[1]}
			if [ -n "$inc" ]; then
				case "$inc" in
				*/*) dep=${inc%%/*} ;;
				*) dep=$m ;;	# same folder
				esac
				if [ "$dep" = "$m" ]; then
					iu=${inc##*/}
					iu=${iu%.*}
					add_edge "$m" "$u" "${iu%%_*}"
				fi
				ok=0
				for a in $m ${allow[$m]}; do
					[ "$dep" = "$a" ] && ok=1
				done
				[ "$inc" = "common/why.h" ] && ok=1 # header-only, for all
				# another module's internal header is never allowed
				if [ "$dep" != "$m" ] && [[ "$inc" == *_int.h ]]; then ok=0; fi
				if [ "$ok" = 0 ]; then
					echo "depcheck: $f includes \"$inc\": $m may not depend on $dep" >&2
					bad=1
				fi
			fi
			if [ -n "$sys" ]; then
				for p in ${forbid[$m]}; do
					if [[ "$sys" == "$p"* ]]; then
						echo "depcheck: $f includes <$sys>: $m may not use it" >&2
						bad=1
					fi
				done
			fi
		done < <(grep -E '^[[:space:]]*#[[:space:]]*include' "$f")
	done < <(find "$m" -name '*.[ch]' | sort)
done

# Declaration edges: a header of X that declares a function or a variable
# a file of Y defines (not static).
proto='^[a-z][a-z0-9_ ]*[ *][a-z][a-z0-9_]*\('
var='^[a-z][a-z0-9_ ]*[ *][a-z][a-z0-9_]*(\[[^]]*\])? ='
re_fn='([a-z][a-z0-9_]*)\('
re_var='([a-z][a-z0-9_]*)(\[[^]]*\])? =$'
re_ext='([a-z][a-z0-9_]*)(\[[^]]*\])?;'
for m in $modules; do
	[ -d "$m" ] || continue
	declare -A defd=()
	while IFS=: read -r f line; do
		if [[ "$line" =~ $re_fn ]]; then
			y=${BASH_REMATCH[1]}
		elif [[ "${line%%=*}=" =~ $re_var ]]; then
			y=${BASH_REMATCH[1]}
		else
			continue
		fi
		u=${f##*/}
		u=${u%.*}
		defd[$y]=${u%%_*}
	done < <(grep -HE "$proto|$var" "$m"/*.c | grep -vE ':(static|typedef) |;$')
	while IFS=: read -r f line; do
		if [[ "$line" == extern* ]]; then
			[[ "$line" =~ $re_ext ]] || continue
		else
			[[ "$line" =~ $re_fn ]] || continue
		fi
		y=${defd[${BASH_REMATCH[1]}]-}
		u=${f##*/}
		u=${u%.*}
		[ -n "$y" ] && add_edge "$m" "${u%%_*}" "$y"
	done < <(grep -HE "$proto|^extern " "$m"/*.h | grep -v ':typedef ')
	unset defd
done

# Cycles: a depth-first search from each unit; grey = on the path.
declare -A colour=()
cycles=0
visit() { # module unit path
	local m=$1 u=$2 path=$3 v
	colour["$m $u"]=grey
	for v in ${edges["$m $u"]-}; do
		case "${colour["$m $v"]-}" in
		grey)
			tail="$path -> "
			tail=${tail#*" -> $v -> "}
			echo "depcheck: include cycle in $m/: $v -> $tail$v" >&2
			cycles=$((cycles + 1))
			;;
		black) ;;
		*) visit "$m" "$v" "$path -> $v" ;;
		esac
	done
	colour["$m $u"]=black
}
# The daemon layers checked so far. Not yet agent, xfrm and proto: their
# public header (agentd.h, xfrm.h, frame.h) declares functions of several
# files that include it, which this rule reads as a cycle.
acyclic="keymgr"
for key in "${!units[@]}"; do
	[[ " $acyclic " == *" ${key%% *} "* ]] || continue
	[ -z "${colour[$key]-}" ] && visit "${key%% *}" "${key#* }" " -> ${key#* }"
done
[ "$cycles" != 0 ] && bad=1

if [ "$bad" != 0 ]; then
	echo "depcheck: FAILED (see DESIGN.md, Layout)" >&2
	exit 1
fi
echo "depcheck: $checked files follow the module arrows;" \
	"${#units[@]} units, no include cycle"
