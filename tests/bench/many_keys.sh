#!/bin/bash
# A mount of many keys at rest (issue 16): sharesfs's resident memory with
# 1,000, 3,000 and 10,000 keys mounted and idle, and `ls -l` of the root,
# printed against their peers: the memory against the issue's 20 MiB for
# 10,000 keys, the time of 10,000 keys against ten times that of 1,000
# (linear: ratio >= 1). Every key is an SMB URL of a host that does not
# exist: `ls -l` stats keys without logging in, so nothing connects.
# RUNS (default 5) listings per size, each of a fresh mount, alternating
# the sizes so both meet the same machine; printed: best and median.
# Needs a built tree (ninja -C build); not the lab. Never asserts a time.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${RUNS:-5}
SHARESFS=${SHARESFS:-$ROOT/build/fs/fuse/sharesfs}
[ -x "$SHARESFS" ] || { echo "no sharesfs at $SHARESFS (ninja -C build)" >&2; exit 2; }
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; fusermount3 -u "$tmp/mnt" 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir "$tmp/mnt"
for n in 1000 3000 10000; do
    for i in $(seq 0 $((n - 1))); do
        printf 'k%05d\t-fstype=url,guest\tsmb://nohost-%d.invalid/share\n' "$i" "$i"
    done >"$tmp/map.$n"
done

# mount_map N [-f]: as automount runs it (a daemon), or with -f in the
# foreground; sets pid.
mount_map() {
    if [ "${2:-}" = -f ]; then
        "$SHARESFS" -f "$tmp/map.$1" "$tmp/mnt" >"$tmp/log" 2>&1 &
        pid=$!
    else
        "$SHARESFS" "$tmp/map.$1" "$tmp/mnt" >"$tmp/log" 2>&1 || {
            echo "sharesfs did not mount $1 keys: $(cat "$tmp/log")" >&2; exit 1; }
    fi
    for _ in $(seq 400); do mountpoint -q "$tmp/mnt" && break; sleep 0.025; done
    mountpoint -q "$tmp/mnt" || { echo "sharesfs did not mount $1 keys: $(cat "$tmp/log")" >&2; exit 1; }
    [ "${2:-}" = -f ] || pid=$(fuser -m "$tmp/mnt" 2>/dev/null | awk '{print $1}')
    [ -z "$pid" ] && pid=$(pgrep -n -f "sharesfs $tmp/map.$1")
}
umount_map() {
    fusermount3 -u "$tmp/mnt"
    for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.025; done
    pid=
}
kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
best() { sort -n | head -1; }
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# Memory: mounted, listed once (every key's node exists), then idle; as a
# daemon (what automount starts) and in the foreground (-f).  VmRSS also
# counts the pages of shared libraries the process has mapped: a daemon
# only those it touched since it forked; in the foreground also those the
# dynamic loader touched at start (about 6 MiB here, shared with every
# other process using them: Pss counts each its share).
echo "keys   mode        RssAnon    VmRSS      Pss   (after one ls -l of the root, then 6 s idle)"
for n in 1000 3000 10000; do
    for mode in daemon -f; do
        mount_map "$n" "$mode"
        ls -l "$tmp/mnt" >/dev/null
        sleep 6   # idle: one pass of the reaper (every 5 s), which trims the heap
        anon=$(kib "$pid" RssAnon) rss=$(kib "$pid" VmRSS)
        pss=$(awk '$1 == "Pss:" {print $2}' "/proc/$pid/smaps_rollup")
        umount_map
        printf '%-6s %-8s %7.1f MiB %7.1f MiB %7.1f MiB\n' "$n" "$mode" "$(echo "$anon / 1024" | bc -l)" \
            "$(echo "$rss / 1024" | bc -l)" "$(echo "$pss / 1024" | bc -l)"
        [ "$n" = 10000 ] && [ "$mode" = daemon ] && rss10k=$rss anon10k=$anon
        [ "$n" = 10000 ] && [ "$mode" = -f ] && rssf10k=$rss
    done
done
printf '%-44s %6.1f MiB   peer: 20 MiB   ratio %4.2f\n' "10,000 keys idle, daemon, VmRSS (<= 20 MiB)" \
    "$(echo "$rss10k / 1024" | bc -l)" "$(echo "20 * 1024 / $rss10k" | bc -l)"
printf '%-44s %6.1f MiB   peer: 20 MiB   ratio %4.2f\n' "10,000 keys idle, RssAnon" \
    "$(echo "$anon10k / 1024" | bc -l)" "$(echo "20 * 1024 / $anon10k" | bc -l)"
printf '%-44s %6.1f MiB   peer: 20 MiB   ratio %4.2f\n' "10,000 keys idle, -f, VmRSS" \
    "$(echo "$rssf10k / 1024" | bc -l)" "$(echo "20 * 1024 / $rssf10k" | bc -l)"

# ls -l of the root: a fresh mount per listing (no kernel cache).
for _ in $(seq "$RUNS"); do
    for n in 1000 10000; do
        mount_map "$n" -f
        echo "$n $(secs ls -l "$tmp/mnt")" >>"$tmp/ls"
        umount_map
    done
done
t1k=$(awk '$1 == 1000 {print $2}' "$tmp/ls" | median)
t10k=$(awk '$1 == 10000 {print $2}' "$tmp/ls" | median)
printf 'ls -l of the root: 1,000 keys %.3f s (best %.3f), 10,000 keys %.3f s (best %.3f)\n' \
    "$t1k" "$(awk '$1 == 1000 {print $2}' "$tmp/ls" | best)" "$t10k" "$(awk '$1 == 10000 {print $2}' "$tmp/ls" | best)"
printf '%-44s %6.2f x     peer: 10 x       ratio %4.2f\n' "ls -l, 10,000 keys / 1,000 keys (medians)" \
    "$(echo "$t10k / $t1k" | bc -l)" "$(echo "10 * $t1k / $t10k" | bc -l)"
printf '%-44s %6.3f s     peer: 1 s        ratio %4.2f\n' "ls -l of 10,000 keys (median)" "$t10k" "$(echo "1 / $t10k" | bc -l)"
