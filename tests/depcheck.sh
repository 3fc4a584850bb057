#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# depcheck: every #include follows the module arrows of DESIGN.md.
set -u
cd "$(dirname "$0")/.."

# module -> modules it may include (itself always allowed)
declare -A allow=(
	[xfrm]=""
	[proto]=""
	[common]=""
	[keymgr]="proto common"
	[agent]="xfrm proto common"
)
# module -> system headers (by prefix) it must not include
declare -A forbid=(
	[xfrm]="openssl/ sodium protobuf-c/ cmocka"
	[proto]="openssl/ sodium libmnl/ linux/xfrm cmocka"
	[common]="libmnl/ linux/xfrm protobuf-c/ cmocka"
	[keymgr]="libmnl/ linux/xfrm cmocka"
	[agent]="cmocka"
)
modules="xfrm proto common keymgr agent"
bad=0 checked=0

for m in $modules; do
	[ -d "$m" ] || continue
	while IFS= read -r f; do
		checked=$((checked + 1))
		while IFS= read -r line; do
			inc=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' <<<"$line")
			if [ -n "$inc" ]; then
				case "$inc" in
				*/*) dep=${inc%%/*} ;;
				*) dep=$m ;;	# same folder
				esac
				ok=0
				for a in $m ${allow[$m]}; do
					[ "$dep" = "$a" ] && ok=1
				done
				# another module's internal header is never allowed
				if [ "$dep" != "$m" ] && [[ "$inc" == *_int.h ]]; then ok=0; fi
				if [ "$ok" = 0 ]; then
					echo "depcheck: $f includes \"$inc\": $m may not depend on $dep" >&2
					bad=1
				fi
			fi
			sys=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*<\([^>]*\)>.*/\1/p' <<<"$line")
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

if [ "$bad" != 0 ]; then
	echo "depcheck: FAILED (see DESIGN.md, Layout)" >&2
	exit 1
fi
echo "depcheck: $checked files follow the module arrows"
