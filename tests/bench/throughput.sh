#!/bin/bash
# Read and write throughput through sharesfs beside a peer measured in the
# same run, printed as ratios (never asserted: tests do not time things).
#   SMB: sharesfs read/write vs `smbclient get`/`put` of the same file
#   AFP: sharesfs read/write vs reading/writing the file afpsim serves, on local disk
#   AFP: sharesfs write vs sharesfs read of a file of the same size, the
#        write also without fsync, and the server's local write split into
#        page cache and fdatasync
#   ls -l of a 2000-entry directory through sharesfs vs `smbclient -c ls`
# SIZE_MB (default 512) per file; RUNS (default 5) pairs, each a sharesfs run
# followed at once by the peer's, so both meet the same machine (this one
# varies by 20 % from minute to minute): printed are the best time of each
# and the median of the pairs' ratios.  Every sharesfs run is a fresh mount,
# so no page cache is reused.
# Needs the lab (contrib/lab/lab.sh start) and a built tree (ninja -C build).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${RUNS:-5}
SIZE_MB=${SIZE_MB:-512}
SHARESFS=${SHARESFS:-$ROOT/build/fs/fuse/sharesfs}
eval "$("$ROOT/contrib/lab/lab.sh" env)"
[ -f "$SHARESFS_LAB_DIR/env" ] || { echo "lab not running" >&2; exit 2; }
S=$SHARESFS_LAB_DIR
SMBDIR=$S/hosts/fs-default.lab.test/shares/user
AFPDIR=$S/hosts/lion.lab.test/volumes/Private
CRED=$S/creds/labuser.cred
tmp=$(mktemp -d)
trap 'fusermount3 -u "$tmp/mnt" 2>/dev/null; rm -rf "$tmp" "$SMBDIR/bench" "$AFPDIR/bench"' EXIT
mkdir "$tmp/mnt"
cat >"$tmp/map" <<MAP
Smb	-fstype=url,credentials=$CRED	smb://fs-default.lab.test/user
Afp	-fstype=url,credentials=$CRED	afp://labuser;AUTH=DHX2@lion.lab.test/Private
MAP
head -c "${SIZE_MB}M" /dev/urandom >"$tmp/src.bin"
for d in "$SMBDIR" "$AFPDIR"; do
    mkdir -p "$d/bench/many"
    cp "$tmp/src.bin" "$d/bench/file.bin"
    for i in $(seq 2000); do : >"$d/bench/many/entry-$i"; done
    chown -R 2001:2001 "$d/bench"
done

now() { date +%s.%N; }
best() { sort -n | head -1; }
mount_fs() {
    "$SHARESFS" ${MOUNT_OPTS:-} "$tmp/map" "$tmp/mnt" 2>/dev/null || exit 1
    for _ in $(seq 100); do mountpoint -q "$tmp/mnt" && break; sleep 0.02; done
    ls "$tmp/mnt/$1" >/dev/null
}
umount_fs() { fusermount3 -u "$tmp/mnt"; }
timed() { local t0 t1; t0=$(now); "$@" >/dev/null 2>&1; t1=$(now); echo "$t1 - $t0" | bc -l; }

fs_read()  { mount_fs "$1"; timed cat "$tmp/mnt/$1/bench/file.bin"; umount_fs; }
# O_DIRECT: FUSE hands the data straight to the reader, no page cache: what
# sharesfs itself delivers, without the kernel's copy into the cache.
# --direct-io: the same cat on a mount without the page cache for file data.
fs_read_dio() { MOUNT_OPTS=--direct-io fs_read "$1"; }
fs_read_direct() { mount_fs "$1"; timed dd if="$tmp/mnt/$1/bench/file.bin" of=/dev/null bs=1M iflag=direct; umount_fs; }
fs_write() { mount_fs "$1"; timed dd if="$tmp/src.bin" of="$tmp/mnt/$1/bench/w.bin" bs=1M conv=fsync; umount_fs; }
# Without fsync: dd's close still waits for every write's answer (FUSE's
# FLUSH), so the server has each byte, in its page cache, not yet on disk.
fs_write_close() { mount_fs "$1"; timed dd if="$tmp/src.bin" of="$tmp/mnt/$1/bench/w.bin" bs=1M; umount_fs; }
fs_ls()    { mount_fs "$1"; timed ls -l "$tmp/mnt/$1/bench/many"; umount_fs; }
smb() { smbclient -s "$SHARESFS_SMB_CONF" -A "$CRED" //fs-default.lab.test/user -c "$1"; }
smb_get() { timed smb 'get bench/file.bin /dev/null'; }
smb_put() { timed smb "put $tmp/src.bin bench/p.bin"; }
smb_ls()  { timed smb 'ls bench/many/*'; }
local_read()  { timed cat "$AFPDIR/bench/file.bin"; }
local_write() { timed dd if="$tmp/src.bin" of="$AFPDIR/bench/l.bin" bs=1M conv=fsync; }
# The same local write in two parts: into the page cache, then its
# fdatasync (afpsim's FPFlushFork, which a FUSE fsync sends, does that).
local_write_split() {
    rm -f "$AFPDIR/bench/l.bin"
    sync
    local t0 t1 t2
    t0=$(now)
    dd if="$tmp/src.bin" of="$AFPDIR/bench/l.bin" bs=1M status=none
    t1=$(now)
    sync "$AFPDIR/bench/l.bin"
    t2=$(now)
    echo "$(echo "$t1 - $t0" | bc -l) $(echo "$t2 - $t1" | bc -l)"
}

mbps() { echo "$SIZE_MB / $1" | bc -l; }
measure() { for _ in $(seq "$RUNS"); do "$@"; done | best; }
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# pairs OURS PEER: RUNS pairs run back to back; prints "best_ours best_peer median_ratio".
pairs() {
    local i o p
    for i in $(seq "$RUNS"); do
        o=$($1) p=$($2)
        echo "$o $p $(echo "$p / $o" | bc -l)"
    done >"$tmp/pairs"
    echo "$(cut -d' ' -f1 "$tmp/pairs" | best) $(cut -d' ' -f2 "$tmp/pairs" | best) $(cut -d' ' -f3 "$tmp/pairs" | median)"
}
line() {   # label "ours peer ratio"
    set -- "$1" $2
    printf '%-30s %7.3f s %7.1f MiB/s   peer %7.3f s %7.1f MiB/s   ratio %4.2f (best %4.2f)\n' \
        "$1" "$2" "$(mbps "$2")" "$3" "$(mbps "$3")" "$4" "$(echo "$3 / $2" | bc -l)"
}

echo "$SIZE_MB MiB files, $RUNS pairs of runs (sharesfs, then the peer); times: best run;"
echo "ratio = peer time / sharesfs time, median of the pairs (best: of the best times); 1.00 = as fast as the peer"
line "SMB read  (vs smbclient get)" "$(pairs 'fs_read Smb' smb_get)"
line "SMB read --direct-io (vs get)" "$(pairs 'fs_read_dio Smb' smb_get)"
line "SMB read O_DIRECT (vs get)" "$(pairs 'fs_read_direct Smb' smb_get)"
line "SMB write (vs smbclient put)" "$(pairs 'fs_write Smb' smb_put)"
line "AFP read  (vs local read)" "$(pairs 'fs_read Afp' local_read)"
line "AFP write (vs local write)" "$(pairs 'fs_write Afp' local_write)"
# The issue's row: AFP writes at least 0.8 of AFP reads through sharesfs.
line "AFP write (vs AFP read)" "$(pairs 'fs_write Afp' 'fs_read Afp')"
# Why that row trails: the write ends with the server's fdatasync of the
# whole file, the read comes from the server's page cache.  The transfer
# alone (to close, every FPWriteExt answered) and that fdatasync:
line "AFP write to close (vs read)" "$(pairs 'fs_write_close Afp' 'fs_read Afp')"
for _ in $(seq "$RUNS"); do local_write_split; done >"$tmp/split"
printf '%-30s %7.3f s into its page cache, fdatasync %7.3f s (best of %d; median fdatasync %.3f s)\n' \
    "server's own write (local)" "$(cut -d' ' -f1 "$tmp/split" | best)" "$(cut -d' ' -f2 "$tmp/split" | best)" \
    "$RUNS" "$(cut -d' ' -f2 "$tmp/split" | median)"
set -- $(pairs 'fs_ls Smb' smb_ls)
printf '%-30s %7.3f s   smbclient -c ls %7.3f s   ratio %4.2f\n' "ls -l of 2000 entries (SMB)" "$1" "$2" "$3"
printf '%-30s %7.3f s\n' "ls -l of 2000 entries (AFP)" "$(measure fs_ls Afp)"

# Memory: peak resident set of the sharesfs process over one 512 MiB read
# (its read-ahead windows are part of it) beside smbclient get's.
hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
fs_read_hwm() {
    mount_fs Smb
    local pid
    pid=$(pgrep -n -f "^$SHARESFS $tmp/map ") || { echo 0; umount_fs; return; }
    local before
    before=$(hwm_kib "$pid")
    cat "$tmp/mnt/Smb/bench/file.bin" >/dev/null
    # The key's SMB worker process (libsmbclient and its buffers live there).
    local worker
    worker=$(pgrep -n -f -- "--worker $tmp/mnt/Smb") || worker=
    echo "$before $(hwm_kib "$pid") ${worker:+$(hwm_kib "$worker")}"
    umount_fs
}
set -- $(fs_read_hwm)
/usr/bin/time -o "$tmp/rss" -f %M smbclient -s "$SHARESFS_SMB_CONF" -A "$CRED" //fs-default.lab.test/user \
    -c 'get bench/file.bin /dev/null' >/dev/null 2>&1
peer=$(tail -1 "$tmp/rss")
printf '%-30s sharesfs peak RSS %6.1f MiB (%.1f MiB before the read) + its SMB worker %6.1f MiB   smbclient get %6.1f MiB\n' \
    "memory, SMB read of $SIZE_MB MiB" "$(echo "$2 / 1024" | bc -l)" "$(echo "$1 / 1024" | bc -l)" \
    "$(echo "${3:-0} / 1024" | bc -l)" "$(echo "$peer / 1024" | bc -l)"
