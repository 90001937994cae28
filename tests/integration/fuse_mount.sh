#!/bin/bash
# sharesfs over the lab's sample map through a real FUSE mount: keys listed,
# a 64 MiB file read with its checksum checked, failing keys give the mapped
# errno, status.json and the xattr explain them, SIGTERM unmounts cleanly.
. "$(dirname "$0")/lib.sh"
lab_join
plan 30

tmp=$(mktemp -d)
mnt=$tmp/Shares
cleanup() { fusermount3 -u "$mnt" 2>/dev/null; kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
"$SHARESFS" -f -t 5 "$MAPS/auto_shares" "$mnt" >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.05; done
mountpoint -q "$mnt" || bail "sharesfs did not mount: $(cat "$tmp/log")"
pass "mounted at $mnt"

listing=$(ls -A "$mnt" | tr '\n' ' ')
like "$listing" '(^| )Public ' "root lists Public"
like "$listing" '(^| )WrongPass ' "root lists WrongPass before any use"
like "$listing" '\.sharesfs' "root lists .sharesfs"

is "$(cat "$mnt/Public/hello.txt" 2>&1)" "Hello from the sharesfs lab." "Public/hello.txt reads"
want=$(cut -d' ' -f1 "$SHARESFS_LAB_DIR/big.bin.sha256")
[ -n "$want" ] || bail "no checksum at $SHARESFS_LAB_DIR/big.bin.sha256"
got=$(sha256sum "$mnt/Data/big.bin" | cut -d' ' -f1)
is "$got" "$want" "Data/big.bin (64 MiB) has the lab's checksum"
is "$(stat -c %s "$mnt/Data/big.bin")" 67108864 "Data/big.bin size"
like "$(ls "$mnt/Smb3" 2>&1)" 'notes' "Smb3 (SMB3_11, encryption required) lists"
like "$(ls "$mnt/Nas1" 2>&1)" 'hello' "Nas1 (SMB1 with vers=1.0) lists"

like "$(ls "$mnt/WrongPass" 2>&1)" 'Permission denied' "ls WrongPass: EACCES"
like "$(ls "$mnt/Missing" 2>&1)" 'No such file or directory' "ls Missing: ENOENT"
like "$(ls "$mnt/Nas1Modern" 2>&1)" 'Protocol not supported' "ls Nas1Modern: EPROTONOSUPPORT"
like "$(ls "$mnt/Gone" 2>&1)" 'No route to host' "ls Gone: EHOSTUNREACH"
like "$(ls "$mnt/NoSuchKey" 2>&1)" 'No such file or directory' "unknown key: ENOENT"
like "$(ls "$mnt/WrongPass" 2>&1)" 'Permission denied' "WrongPass again: cached failure, same errno"
like "$(sh -c "echo x > '$mnt/Public/new.txt'" 2>&1)" 'Permission denied' "the server refuses writes to its read-only share: EACCES"

status=$(cat "$mnt/.sharesfs/status.json")
row() { jq -c --arg k "$1" '.mounts[] | select(.key == $k)' <<<"$status"; }
is "$(jq -r .schema <<<"$status")" "sharesfs.status/1" "status.json schema"
is "$(row Data | jq -r .state)" mounted "status.json: Data is mounted"
# big.bin was read front to back and closed: from read-ahead windows.
ra=$(row Data | jq -c .counters.readahead)
[ "$(jq .hits <<<"$ra")" -gt 0 ] && [ "$(jq .fetches <<<"$ra")" -gt 0 ] && [ "$(jq .fetches <<<"$ra")" -lt 64 ] &&
    pass "status.json: Data's reads came from read-ahead windows ($ra)" ||
    fail "status.json: Data's reads came from read-ahead windows ($ra)"
is "$(row WrongPass | jq -r '.last_error | "\(.stage) \(.errno_name)"')" "authenticate EACCES" \
    "status.json: WrongPass failed at authenticate with EACCES"
like "$(row WrongPass | jq -r .last_error.status)" NT_STATUS_LOGON_FAILURE "status.json: WrongPass NT_STATUS"
is "$(row WrongPass | jq -r .counters.failures)" 1 "negative cache: the second ls did not reconnect"
is "$(row Missing | jq -r '.last_error | "\(.stage) \(.errno_name)"')" "mount ENOENT" "status.json: Missing"
like "$(getfattr --only-values -n user.sharesfs.status "$mnt/WrongPass" 2>&1)" '"stage":"authenticate"' \
    "xattr user.sharesfs.status on WrongPass"

table=$("$SHARESFS" --status "$mnt" 2>&1)
like "$table" "$mnt/WrongPass +failed +ntlmssp +EACCES +authenticate" "sharesfs --status: one row per key with its failure"

kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
if mountpoint -q "$mnt" || kill -0 "$pid" 2>/dev/null; then fail "SIGTERM unmounts and exits"; else pass "SIGTERM unmounts and exits"; fi

# Idle keys are disconnected and come back on next use; an open file keeps
# its key connected.
"$SHARESFS" -f -t 5 --idle-timeout 2 "$MAPS/auto_shares" "$mnt" >"$tmp/log2" 2>&1 &
pid=$!
for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.05; done
cat "$mnt/Public/hello.txt" >/dev/null
exec 8<"$mnt/Home/notes.txt"
sleep 4
state() { jq -r --arg k "$1" '.mounts[] | select(.key == $k) | .state' "$mnt/.sharesfs/status.json"; }
is "$(state Public)" idle "an unused key is disconnected after --idle-timeout"
is "$(state Home)" mounted "a key with an open file stays connected"
exec 8<&-
is "$(cat "$mnt/Public/hello.txt")" "Hello from the sharesfs lab." "the idle key reconnects on next use"
is "$(jq -r '.mounts[] | select(.key == "Public") | .counters.connects' "$mnt/.sharesfs/status.json")" 2 \
    "status.json counts the second connect"
like "$(cat "$tmp/log2")" "Public: idle: disconnected" "the log says why the key was disconnected"
fusermount3 -u "$mnt"
wait "$pid"
done_testing
