#!/bin/bash
# AFP against the lab's afpsim personalities: identity from FPGetSrvrInfo,
# every UAM against every personality (and the failure where it is not
# offered), refused logins told apart, missing volumes, and a 64 MiB read
# through a real FUSE mount with its checksum.
. "$(dirname "$0")/lib.sh"
lab_join
command -v jq >/dev/null || bail "jq not installed"
expected=$(dirname "$0")/expected/afp-uams.tsv
n_rows=$(grep -vc '^#' "$expected")
plan $(( 4 * 2 + n_rows * 3 + 22 ))

tmp=$(mktemp -d)
mnt=$tmp/mnt
trap 'fusermount3 -u "$mnt" 2>/dev/null; rm -rf "$tmp"' EXIT
CRED=$SHARESFS_LAB_DIR/creds/labuser.cred
# Cleartext is refused unless a config allows it for the entry.
printf '[global]\nallow_cleartext = true\n' >"$tmp/cleartext.conf"

# Identity: the AFP version chosen and the UAM list the server sent.
while read -r host version uam; do
    out=$("$AFPTEST" probe --json --no-read "afp://$host.lab.test/Public" 2>&1)
    is "$(jq -r '.entries[0].server.dialect' <<<"$out")" "$version" "$host: AFP version chosen"
    like "$(jq -r '.entries[0].server.uams' <<<"$out")" "$uam" "$host: FPGetSrvrInfo lists $uam"
done <<'HOSTS'
lion AFP3.3 DHCAST128, DHX2, Recon1, Client Krb v2, No User Authent
snowleopard AFP3.3 DHX2
tiger AFP3.2 ^DHCAST128, Recon1, Client Krb v2, No User Authent$
netatalk4 AFP3.4 ^Client Krb v2, DHX2, DHCAST128, Cleartxt Passwrd, No User Authent$
HOSTS

out=$("$AFPTEST" info afp://lion.lab.test 2>&1)
like "$out" 'directory names: +afpserver/lion.lab.test@LAB.TEST' "afptest info shows the Kerberos principal"
like "$out" 'machine type: +Macmini5,3' "afptest info shows the machine type"

# Every UAM x personality, in one map.
: >"$tmp/uams.map"
i=0
while IFS=$'\t' read -r host uam stage result status; do
    [ "${host:0:1}" = "#" ] && continue
    i=$((i + 1))
    enc=${uam// /%20}
    cred=$CRED
    [ "$uam" = "Cleartxt Passwrd" ] && cred=$SHARESFS_LAB_DIR/creds/clruser.cred
    if [ "$uam" = "No User Authent" ]; then
        printf 'k%d\tafp://;AUTH=%s@%s.lab.test/Public\n' "$i" "$enc" "$host" >>"$tmp/uams.map"
    else
        printf 'k%d\t-fstype=url,credentials=%s\tafp://labuser;AUTH=%s@%s.lab.test/Private\n' \
            "$i" "$cred" "$enc" "$host" >>"$tmp/uams.map"
    fi
done <"$expected"
out=$("$AFPTEST" probe --json -j 8 -c "$tmp/cleartext.conf" "$tmp/uams.map" 2>&1)
i=0
while IFS=$'\t' read -r host uam stage result status; do
    [ "${host:0:1}" = "#" ] && continue
    i=$((i + 1))
    row=$(jq -c --arg k "k$i" '.entries[] | select(.key == $k)' <<<"$out")
    is "$(jq -r .stage <<<"$row")" "$stage" "$host $uam: stage"
    is "$(jq -r .result <<<"$row")" "$result" "$host $uam: result"
    is "$(jq -r '.status.name // "-"' <<<"$row")" "$status" "$host $uam: status"
done <"$expected"

# Refusals a user can meet, told apart.
cat >"$tmp/fail.map" <<MAP
WrongPass	-fstype=url,credentials=$SHARESFS_LAB_DIR/creds/wrong.cred	afp://labuser;AUTH=DHX2@lion.lab.test/Private
NoVolume	afp://;AUTH=No%20User%20Authent@lion.lab.test/NoSuchVolume
GuestPrivate	afp://lion.lab.test/Private
Cleartext	-fstype=url,credentials=$SHARESFS_LAB_DIR/creds/clruser.cred	afp://clruser;AUTH=Cleartxt%20Passwrd@netatalk4.lab.test/Private
LongClear	-fstype=url,credentials=$CRED	afp://labuser;AUTH=Cleartxt%20Passwrd@netatalk4.lab.test/Private
MAP
printf 'username=nosuchuser\npassword=whatever\n' >"$tmp/nouser.cred"
chmod 600 "$tmp/nouser.cred"
printf 'NoUser\t-fstype=url,credentials=%s\tafp://x;AUTH=DHX2@lion.lab.test/Private\n' "$tmp/nouser.cred" >>"$tmp/fail.map"
out=$("$AFPTEST" probe --json "$tmp/fail.map" 2>&1)
row() { jq -c --arg k "$1" '.entries[] | select(.key == $k)' <<<"$out"; }
is "$(row WrongPass | jq -r '"\(.stage) \(.result) \(.status.name)"')" "authenticate EACCES kFPUserNotAuth" \
    "DHX2 wrong password: authenticate, EACCES, kFPUserNotAuth"
like "$(row WrongPass | jq -r .detail)" "wrong password" "DHX2 wrong password is named as such"
is "$(row WrongPass | jq -r .macos)" "EAUTH (80)" "macOS would have said EAUTH"
like "$(row NoUser | jq -r .detail)" "unknown user" "DHX2 unknown user is told apart from a wrong password"
is "$(row NoVolume | jq -r '"\(.stage) \(.result) \(.status.name)"')" "mount ENOENT kFPObjectNotFound" \
    "missing volume: mount, ENOENT"
like "$(row NoVolume | jq -r .detail)" "volumes this login can see: .*Public" "the report lists the volumes the login can see"
is "$(row GuestPrivate | jq -r '"\(.stage) \(.result)"')" "mount ENOENT" "guest on a valid-users volume: ENOENT"
is "$(row Cleartext | jq -r '"\(.stage) \(.result)"')" "authenticate EPERM" "cleartext refused without allow_cleartext"
out=$("$AFPTEST" probe --json -c "$tmp/cleartext.conf" -k LongClear "$tmp/fail.map" 2>&1)
like "$(row LongClear | jq -r '"\(.result): \(.detail)"')" "EINVAL: .*at most 8 bytes" \
    "a cleartext password over 8 bytes is refused before it is sent"

# A 64 MiB file through FUSE from an AFP volume.
printf 'Lion\tafp://lion.lab.test/Public\nNetatalk\tafp://netatalk4.lab.test/Public\n' >"$tmp/fuse.map"
"$SHARESFS" -f -t 5 "$tmp/fuse.map" "$mnt" >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.05; done
mountpoint -q "$mnt" || bail "sharesfs did not mount: $(cat "$tmp/log")"
want=$(cut -d' ' -f1 "$SHARESFS_LAB_DIR/big.bin.sha256")
is "$(sha256sum "$mnt/Lion/big.bin" | cut -d' ' -f1)" "$want" "Lion/big.bin (64 MiB over AFP) has the lab's checksum"
is "$(sha256sum "$mnt/Netatalk/big.bin" | cut -d' ' -f1)" "$want" "Netatalk/big.bin has the lab's checksum"
# Read-ahead on an AFP session fetches two windows at once (8 FPReadExt
# each, a sliding window): more requests in flight than one window's.
inflight=$(jq -r '.mounts[] | select(.key=="Lion") | .counters.max_in_flight' "$mnt/.sharesfs/status.json")
if [ "${inflight:-0}" -gt 8 ]; then pass "a 64 MiB read keeps two windows of FPReadExt in flight ($inflight)"; \
    else fail "a 64 MiB read keeps two windows of FPReadExt in flight (max_in_flight ${inflight:-none})"; fi
like "$(cat "$mnt/Lion/hello.txt")" "Hello from the sharesfs lab" "Lion/hello.txt reads"
ino=$(stat -c %i "$mnt/Lion/hello.txt")
cnid=$(( ino & 0xffffffffffff ))
if [ "$cnid" -gt 2 ] && [ "$cnid" -lt 100000 ]; then pass "inode number holds the CNID ($cnid)"; else fail "inode number holds the CNID ($ino)"; fi
if [ "$(stat -c %i "$mnt/Lion")" != "$(stat -c %i "$mnt/Netatalk")" ]; then pass "volume roots of two keys have distinct inodes"; \
    else fail "volume roots of two keys have distinct inodes"; fi
is "$(du -s "$mnt/Lion" "$mnt/Netatalk" | wc -l)" 2 "du counts both keys (no inode collision)"
like "$(ls "$mnt/Lion/dir")" "a.txt" "a subdirectory lists"
is "$(readlink "$mnt/Lion/link")" "hello.txt" "a symlink's target is read from its data fork"

# The server ends the session (afpd child killed): the next access reconnects.
parent=$(cat "$SHARESFS_LAB_DIR/hosts/lion.lab.test/afpsim.pid")
for p in $(ip netns pids labsfs-lion); do [ "$p" != "$parent" ] && kill "$p"; done
for _ in $(seq 50); do [ "$(jq -r '.mounts[] | select(.key=="Lion") | .state' "$mnt/.sharesfs/status.json")" = lost ] && break; sleep 0.05; done
is "$(jq -r '.mounts[] | select(.key=="Lion") | .state' "$mnt/.sharesfs/status.json")" lost "status.json shows the lost session"
like "$(cat "$mnt/Lion/dir/a.txt" 2>&1)" "^a$" "the next access reconnects and reads"
is "$(jq -r '.mounts[] | select(.key=="Lion") | "\(.state) \(.counters.connects)"' "$mnt/.sharesfs/status.json")" "mounted 2" \
    "status.json: mounted again, second connect"
fusermount3 -u "$mnt"
wait "$pid"
done_testing
