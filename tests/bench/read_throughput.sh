#!/bin/bash
# Read throughput of a 64 MiB file through sharesfs, beside a peer measured
# in the same run, printed as ratios (never asserted: tests do not time).
#   SMB: sharesfs (fs-default/data) vs `smbclient get` of the same file
#   AFP: sharesfs (lion and netatalk4 afpsim, Public) vs `cat` of the file
#        the server reads, from local disk
# Each number is the best of RUNS (default 5); every sharesfs run is a fresh
# mount, so no page cache is reused.  Needs the lab (contrib/lab/lab.sh start)
# and a built tree (ninja -C build).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${RUNS:-5}
SHARESFS=${SHARESFS:-$ROOT/build/fs/fuse/sharesfs}
eval "$("$ROOT/contrib/lab/lab.sh" env)"
[ -f "$SHARESFS_LAB_DIR/env" ] || { echo "lab not running" >&2; exit 2; }
SIZE=$(stat -c %s "$SHARESFS_LAB_DIR/cache/big.bin")
tmp=$(mktemp -d)
trap 'fusermount3 -u "$tmp/mnt" 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir "$tmp/mnt"
cat >"$tmp/map" <<MAP
Data	-fstype=url,credentials=$SHARESFS_LAB_DIR/creds/labuser.cred	smb://fs-default.lab.test/data
Lion	afp://lion.lab.test/Public
Netatalk	afp://netatalk4.lab.test/Public
MAP

now() { date +%s.%N; }
best() { sort -n | head -1; }

sharesfs_read() {   # KEY -> seconds for one cold read
    "$SHARESFS" "$tmp/map" "$tmp/mnt" 2>/dev/null || return 1
    for _ in $(seq 100); do mountpoint -q "$tmp/mnt" && break; sleep 0.02; done
    ls "$tmp/mnt/$1" >/dev/null
    local t0 t1
    t0=$(now); cat "$tmp/mnt/$1/big.bin" >/dev/null; t1=$(now)
    if [ "$1" != Data ]; then
        jq -r --arg k "$1" '.mounts[] | select(.key == $k) | .counters.max_in_flight' \
            "$tmp/mnt/.sharesfs/status.json" >>"$tmp/inflight.$1"
    fi
    fusermount3 -u "$tmp/mnt"
    echo "$t1 - $t0" | bc -l
}

smbclient_get() {
    local t0 t1
    t0=$(now)
    smbclient -s "$SHARESFS_SMB_CONF" -A "$SHARESFS_LAB_DIR/creds/labuser.cred" //fs-default.lab.test/data \
        -c 'get big.bin /dev/null' >/dev/null 2>&1
    t1=$(now)
    echo "$t1 - $t0" | bc -l
}

local_cat() {
    local t0 t1
    t0=$(now); cat "$1" >/dev/null; t1=$(now)
    echo "$t1 - $t0" | bc -l
}

mbps() { echo "$SIZE / 1048576 / $1" | bc -l; }
row() { printf '%-44s %8.3f s %9.1f MiB/s\n' "$1" "$2" "$(mbps "$2")"; }

echo "64 MiB file, best of $RUNS runs"
s_fs=$(for _ in $(seq "$RUNS"); do sharesfs_read Data; done | best)
s_peer=$(for _ in $(seq "$RUNS"); do smbclient_get; done | best)
row "SMB  sharesfs read (fs-default, SMB3_11)" "$s_fs"
row "SMB  smbclient get (same file)" "$s_peer"
printf '%-44s %8.2f\n' "SMB  ratio sharesfs / smbclient (throughput)" "$(echo "$s_peer / $s_fs" | bc -l)"
for key in Lion Netatalk; do
    a_fs=$(for _ in $(seq "$RUNS"); do sharesfs_read "$key"; done | best)
    host=$([ "$key" = Lion ] && echo lion || echo netatalk4)
    a_local=$(for _ in $(seq "$RUNS"); do local_cat "$SHARESFS_LAB_DIR/hosts/$host.lab.test/volumes/Public/big.bin"; done | best)
    row "AFP  sharesfs read ($host afpsim)" "$a_fs"
    row "AFP  cat of the server's file, local disk" "$a_local"
    printf '%-44s %8.2f   (requests in flight, max: %s)\n' "AFP  ratio sharesfs / local cat" \
        "$(echo "$a_local / $a_fs" | bc -l)" "$(sort -n "$tmp/inflight.$key" | tail -1)"
done
