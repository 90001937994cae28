#!/bin/bash
# The main job on the built-in local lab, in one command:
#   installs what is missing, builds, (re)starts the lab, mounts the lab's
#   sample map under /Network/Shares with sharesfs, lists and reads through
#   it, and prints afptest's per-mount-point report.  Safe to run again.
# Needs root.  MOUNT=/some/dir to mount elsewhere.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
MOUNT=${MOUNT:-/Network/Shares}
MAP=$ROOT/contrib/maps/auto_shares

step() { printf '\n=== %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (the lab needs network namespaces, FUSE needs /dev/fuse)"

step "dependencies and build"
contrib/setup/install-deps.sh >/dev/null || die "installing dependencies failed"
[ -f build/build.ninja ] || meson setup build >/dev/null || die "meson setup failed"
ninja -C build >/dev/null || die "build failed (run: ninja -C build)"

step "local lab"
# A sharesfs left from an earlier run is unmounted first.
if mountpoint -q "$MOUNT"; then fusermount3 -u "$MOUNT" || umount -l "$MOUNT"; fi
contrib/lab/lab.sh start || die "the lab did not start"
eval "$(contrib/lab/lab.sh env)"

step "sharesfs $MAP $MOUNT"
LOG=$SHARESFS_LAB_DIR/sharesfs.log
build/fs/fuse/sharesfs "$MAP" "$MOUNT" 2>"$LOG" || die "sharesfs failed: $(cat "$LOG")"
for _ in $(seq 100); do mountpoint -q "$MOUNT" && break; sleep 0.05; done
mountpoint -q "$MOUNT" || die "not mounted: $(cat "$LOG")"

step "ls $MOUNT"
ls "$MOUNT"
step "ls -l $MOUNT/Public; cat $MOUNT/Public/hello.txt"
ls -l "$MOUNT/Public"
cat "$MOUNT/Public/hello.txt"
step "sha256sum $MOUNT/Data/big.bin (64 MiB through FUSE) vs the lab's checksum"
sha256sum "$MOUNT/Data/big.bin"
cat "$SHARESFS_LAB_DIR/big.bin.sha256"
step "sha256sum $MOUNT/AfpPublic/big.bin (the same 64 MiB over AFP from afpsim)"
sha256sum "$MOUNT/AfpPublic/big.bin"
step "ls of keys that are meant to fail"
for k in WrongPass Missing Nas1Modern Gone AfpWrongPass AfpNoDHX2 AfpMissing; do ls "$MOUNT/$k" 2>&1 | head -1; done
step "$MOUNT/.sharesfs/status.json (WrongPass)"
jq -c '.mounts[] | select(.key == "WrongPass") | .last_error' "$MOUNT/.sharesfs/status.json"

step "afptest probe $ROOT/contrib/maps/auto_master"
build/probes/afptest probe -j 12 contrib/maps/auto_master
echo
echo "sharesfs stays mounted at $MOUNT (log: $LOG).  To stop:"
echo "  fusermount3 -u $MOUNT && $ROOT/contrib/lab/lab.sh stop"
echo "To use the lab's host names in your shell: eval \"\$($ROOT/contrib/lab/lab.sh env)\""
exit 0
