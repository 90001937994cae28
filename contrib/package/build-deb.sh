#!/bin/bash
# Builds the Debian packages (debian/) out of a clean copy of this tree and
# checks them with lintian.
#
#   contrib/package/build-deb.sh [--head] [--no-lintian] OUTDIR
#   contrib/package/build-deb.sh --key
#
# The copy is of the working tree as git sees it (tracked files and new ones
# not ignored, with their current contents: build directories and the lab's
# state are left out), or with --head of the last commit (git archive HEAD).
# It is built with `dpkg-buildpackage -b -us -uc` (offline, no tests: see
# debian/rules) and OUTDIR receives the .deb, .buildinfo and .changes files
# and build.log.  Then `lintian --fail-on error,warning` runs on the
# .changes: the exit status is non-zero on any error or warning.
# --key prints, without building, a key of what a build of the working tree
# would be made of: the version, each file's path, mode and contents, and
# the time the installed packages last changed (the Build-Depends linked
# in).  Equal keys, equal builds: the tests reuse a .deb under its key
# (tests/integration/lib.sh, deb_cache_*).
# Needs debhelper, dpkg-dev, fakeroot, lintian and the Build-Depends of
# debian/control (contrib/setup/install-deps.sh installs them all); not root.
set -euo pipefail

usage() { echo "usage: $0 [--head] [--no-lintian] OUTDIR | --key" >&2; exit 2; }
from=worktree
print_key=0
run_lintian=1
while [ $# -gt 0 ]; do
    case $1 in
    --head) from=head ;;
    --no-lintian) run_lintian=0 ;;
    --key) print_key=1 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) usage ;;
    *) break ;;
    esac
    shift
done
SRC=$(cd "$(dirname "$0")/../.." && pwd)

# The working tree as git sees it, NUL-separated, relative to SRC:
# tracked files and new ones not ignored; deleted-but-tracked files are
# skipped, and the build directory of a dpkg-buildpackage run in the tree.
worktree_files() {
    (cd "$SRC" && git ls-files -z -co --exclude-standard \
        | while IFS= read -r -d '' f; do
              case $f in obj-*/*) continue ;; esac
              [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"
          done)
}

if [ "$print_key" = 1 ]; then
    [ $# -eq 0 ] || usage
    command -v git >/dev/null || { echo "build-deb: git is missing" >&2; exit 1; }
    {
        dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version
        stat -c '%Y' /var/lib/dpkg/status
        # Symlinks by their target, files by mode and contents.
        worktree_files | (cd "$SRC" && xargs -0 -r stat -c '%A %N')
        worktree_files | (cd "$SRC" && xargs -0 -r sha256sum -b 2>/dev/null || true)
    } | sha256sum | cut -c1-32
    exit 0
fi
[ $# -eq 1 ] || usage
mkdir -p "$1"
OUT=$(cd "$1" && pwd)

for tool in dpkg-buildpackage dh fakeroot git; do
    command -v "$tool" >/dev/null || { echo "build-deb: $tool is missing (contrib/setup/install-deps.sh)" >&2; exit 1; }
done
if [ "$run_lintian" = 1 ] && ! command -v lintian >/dev/null; then
    echo "build-deb: lintian is missing (contrib/setup/install-deps.sh)" >&2
    exit 1
fi

version=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
meson_version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$SRC/meson.build" | head -n1)
if [ "$version" != "$meson_version" ]; then
    echo "build-deb: debian/changelog says $version, meson.build $meson_version: add a changelog entry" >&2
    exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sharesfs-deb.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
tree=$WORK/sharesfs-$version
mkdir "$tree"
if [ "$from" = head ]; then
    git -C "$SRC" archive --format=tar HEAD | tar -x -C "$tree"
    [ -f "$tree/debian/control" ] || { echo "build-deb: HEAD has no debian/ (commit it, or build the working tree)" >&2; exit 1; }
else
    worktree_files | (cd "$SRC" && tar --null -T - -c) | tar -x -C "$tree"
fi

echo "build-deb: building sharesfs $version from the $from in $tree"
start=$(date +%s.%N)
if ! (cd "$tree" && dpkg-buildpackage -b -us -uc) > "$OUT/build.log" 2>&1; then
    tail -n 40 "$OUT/build.log" >&2
    echo "build-deb: dpkg-buildpackage failed (full log: $OUT/build.log)" >&2
    exit 1
fi
end=$(date +%s.%N)
secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
changes=sharesfs_${version}_${arch}.changes
files=$(cd "$WORK" && ls -1 ./*.deb ./*.buildinfo ./*.changes)
(cd "$WORK" && cp $files "$OUT/")
echo "build-deb: built in ${secs} s:"
(cd "$OUT" && for f in $files; do echo "  $OUT/${f#./}"; done)

if [ "$run_lintian" = 1 ]; then
    echo "build-deb: lintian $changes"
    # --fail-on error,warning: the packages must be free of both.
    lintian --fail-on error,warning --display-info "$OUT/$changes"
    echo "build-deb: lintian clean (no errors, no warnings)"
fi
