#!/bin/bash
# sharesfs as users start it: without -f, so fuse_main forks into the
# background after main's set-up.  The map refresh thread must live in that
# background process (it used to be started before the fork, so the daemon
# never re-read its map on SIGHUP, and joining the missing thread at
# unmount crashed the daemon before it logged out: every mount left a
# disconnected session on the server, and netatalk refuses logins after
# 200).  Checked on the lab's real netatalk 4.2.3, whose log says whether a
# session was logged out.
. "$(dirname "$0")/lib.sh"
lab_join
S=$SHARESFS_LAB_DIR
HOST=netatalk42.lab.test
VOL=$S/hosts/$HOST/volumes/Private
LOG=$S/hosts/$HOST/log/afpd.log
[ -d "$VOL" ] && [ -f "$LOG" ] || bail "$HOST is not part of the lab ($VOL, $LOG)"
tmp=$(mktemp -d)
mnt=$tmp/mnt
mkdir "$mnt"
dir=daemon-mode.$$
trap 'fusermount3 -u "$mnt" 2>/dev/null; rm -rf "$tmp" "${VOL:?}/$dir"' EXIT
mkdir "$VOL/$dir"
head -c $((40 << 20)) /dev/urandom >"$VOL/$dir/big.bin"
chown -R 2001:2001 "$VOL/$dir"
want=$(sha256sum <"$VOL/$dir/big.bin" | cut -d' ' -f1)
CRED=$S/creds/labuser.cred
printf 'Afp\t-fstype=url,credentials=%s\tafp://labuser;AUTH=DHX2@%s/Private\n' "$CRED" "$HOST" >"$tmp/map"
logouts() { grep -c 'AFP logout by labuser' "$LOG"; }
before=$(logouts)

"$SHARESFS" "$tmp/map" "$mnt" >"$tmp/log" 2>&1 || bail "sharesfs did not start: $(cat "$tmp/log")"
mountpoint -q "$mnt" || bail "sharesfs returned before its mount was there"
pid=$(pgrep -n -f -x "$SHARESFS $tmp/map $mnt")
[ -n "$pid" ] || bail "no sharesfs daemon for $mnt"
pass "sharesfs without -f mounts and runs in the background (pid $pid)"

# SIGHUP re-reads the map in the daemon: a key added to the file appears.
printf 'Added\t-fstype=url,credentials=%s\tafp://labuser;AUTH=DHX2@%s/Private\n' "$CRED" "$HOST" >>"$tmp/map"
kill -HUP "$pid"
for _ in $(seq 100); do [ -d "$mnt/Added" ] && break; sleep 0.05; done
is "$(ls "$mnt" | tr '\n' ' ')" "Added Afp " "SIGHUP: the daemon re-read its map (the added key is listed)"
mountpoint -q "$mnt" && pass "SIGHUP does not unmount the daemon" || fail "SIGHUP unmounted the daemon"

# A read that starts read-ahead's worker threads, then an unmount from outside.
is "$(sha256sum <"$mnt/Afp/$dir/big.bin" | cut -d' ' -f1)" "$want" "40 MiB read through the daemon"
fusermount3 -u "$mnt"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$pid" 2>/dev/null && fail "the daemon is still running 5 s after its unmount" || pass "the daemon exits after its unmount"
for _ in $(seq 40); do [ "$(logouts)" -gt "$before" ] && break; sleep 0.05; done
is "$(($(logouts) - before))" 1 "the daemon logged its session out (netatalk's afpd.log: one more 'AFP logout by labuser')"
done_testing
