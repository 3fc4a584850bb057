#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make deb: the Debian packages (debian/) from a copy of the work tree, then lintian.
#
# usage: tests/deb/make_deb.sh OUT   (make deb: OUT = build/deb)
# The copy (OUT/src/vxsec-VERSION) holds the tracked files and the new ones
# git does not ignore, as they are in the work tree, so dpkg-buildpackage
# writes nowhere else. OUT gets the .debs, the .changes, build.log and
# lintian.txt. Fails on a build error or a lintian error; warnings are
# listed. DEB_JOBS: make's jobs (default 2).
set -euo pipefail
out=${1:?usage: make_deb.sh OUT}
cd "$(dirname "$0")/../.."
start=$(date +%s)
ver=$(dpkg-parsechangelog -S Version)
src=$out/src/vxsec-$ver

rm -rf "$out"
mkdir -p "$src"
if git rev-parse --git-dir >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
		done
else
	find . -path ./build -prune -o -type f -print0
fi | tar --null -T - -cf - | tar -C "$src" -xf -

echo "  DEB     $src (log: $out/build.log)"
if ! (cd "$src" && DEB_BUILD_OPTIONS="parallel=${DEB_JOBS:-2}" \
	dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log"
	echo "make deb: dpkg-buildpackage failed (whole log: $out/build.log)" >&2
	exit 1
fi
mv "$out"/src/*.deb "$out"/src/*.changes "$out"/src/*.buildinfo "$out"/
mv "$out"/src/*.ddeb "$out"/ 2>/dev/null || true
built=$(date +%s)

for d in "$out"/*.deb; do
	printf '  %-44s %7s bytes, installed %5s KiB\n' "$(basename "$d")" \
		"$(stat -c %s "$d")" "$(dpkg-deb -f "$d" Installed-Size)"
done

echo "  LINTIAN $out/*.changes (report: $out/lintian.txt)"
rc=0
lintian --display-info "$out"/*.changes >"$out/lintian.txt" 2>&1 || rc=$?
sed -n 's/^\([EWIP]\): \([^:]*\): \([^ ]*\).*/\1 \2 \3/p' "$out/lintian.txt" |
	sort | uniq -c | sed 's/^/    /'
printf '  lintian: %d errors, %d warnings, %d info\n' \
	"$(grep -c '^E: ' "$out/lintian.txt" || true)" \
	"$(grep -c '^W: ' "$out/lintian.txt" || true)" \
	"$(grep -c '^I: ' "$out/lintian.txt" || true)"
echo "  make deb: $((built - start)) s to build, $(($(date +%s) - built)) s of lintian"
if [ "$rc" != 0 ] || grep -q '^E: ' "$out/lintian.txt"; then
	echo "make deb: lintian reports errors (exit $rc), see $out/lintian.txt" >&2
	exit 1
fi
