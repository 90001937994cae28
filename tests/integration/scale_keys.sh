#!/bin/bash
# A 10,000-key map (issue 16): every key listed once at the root, `ls -l`
# of the root stats every key without logging in anywhere, keys far apart
# in the map mount and read, status.json holds every key.  Correctness
# only: the times are the bench's (docs/performance.md), not asserted here.
. "$(dirname "$0")/lib.sh"
lab_join
command -v jq >/dev/null || bail "jq not installed"
N=10000
tmp=$(mktemp -d)
mnt=$tmp/mnt
mkdir "$mnt"
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; fusermount3 -u "$mnt" 2>/dev/null; rm -rf "$tmp"' EXIT
for i in $(seq 0 $((N - 1))); do
    printf 'k%05d\t-fstype=url,guest\tsmb://fs-default.lab.test/public\n' "$i"
done >"$tmp/map"
"$SHARESFS" -f "$tmp/map" "$mnt" >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 200); do mountpoint -q "$mnt" && break; sleep 0.05; done
mountpoint -q "$mnt" || bail "sharesfs did not mount $N keys: $(cat "$tmp/log")"
is "$(ls "$mnt" | wc -l)" "$N" "the root lists all $N keys"
is "$(ls "$mnt" | sort -u | wc -l)" "$N" "each key once"
is "$(ls -l "$mnt" | grep -c '^dr')" "$N" "ls -l: every key is a directory"
s=$(cat "$mnt/.sharesfs/status.json")
is "$(jq '.mounts | length' <<<"$s")" "$N" "status.json holds every key"
is "$(jq '[.mounts[] | select(.state != "idle")] | length' <<<"$s")" 0 "ls -l logged in nowhere"
for k in k00000 k04999 k09999; do
    like "$(cat "$mnt/$k/hello.txt" 2>&1)" "Hello from the sharesfs lab" "$k mounts and reads"
done
s=$(cat "$mnt/.sharesfs/status.json")
is "$(jq '[.mounts[] | select(.state == "mounted")] | length' <<<"$s")" 3 "exactly the three keys used are mounted"
[ -d "$mnt/k10000" ] && fail "a key past the map's end exists" || pass "a key past the map's end is ENOENT"
fusermount3 -u "$mnt"
wait "$pid"
is "$?" 0 "sharesfs exits 0"
pid=
done_testing
