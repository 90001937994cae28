#!/bin/bash
# A password written into a map's URL is used, warned about, and appears in
# no output: afptest's table, JSON and stderr, sharesfs's log, status.json
# and xattr.
. "$(dirname "$0")/lib.sh"
lab_join
plan 12

SECRET='Lab-Passw0rd'
WRONG='Wrong-Passw0rd-Xyz'
tmp=$(mktemp -d)
trap 'fusermount3 -u "$tmp/mnt" 2>/dev/null; rm -rf "$tmp"' EXIT
cp "$MAPS/with-password.map" "$tmp/map"
printf 'Bad\t-fstype=url\tsmb://labuser:%s@fs-default.lab.test/user\n' "$WRONG" >>"$tmp/map"
printf 'Gone\t-fstype=url\tsmb://labuser:%s@gone.lab.test/user\n' "$WRONG" >>"$tmp/map"

"$AFPTEST" probe -t 5 "$tmp/map" >"$tmp/table" 2>&1
is "$?" 1 "afptest: the wrong-password entry fails"
"$AFPTEST" probe --json -t 5 "$tmp/map" >"$tmp/json" 2>&1
like "$(cat "$tmp/table")" 'Secret .* ok' "afptest: the entry with a password in its URL mounts"
like "$(cat "$tmp/table")" 'password' "afptest: warns that the map stores a password"
like "$(jq -r '.entries[] | select(.key=="Bad") | .status.name' "$tmp/json")" 'NT_STATUS_LOGON_FAILURE' \
    "afptest: the wrong password is reported as LOGON_FAILURE"
for f in table json; do
    if grep -qF -e "$SECRET" -e "$WRONG" "$tmp/$f"; then fail "afptest $f output holds no password"; \
        else pass "afptest $f output holds no password"; fi
done

mkdir "$tmp/mnt"
"$SHARESFS" -f -t 5 "$tmp/map" "$tmp/mnt" >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 100); do mountpoint -q "$tmp/mnt" && break; sleep 0.05; done
mountpoint -q "$tmp/mnt" || bail "sharesfs did not mount: $(cat "$tmp/log")"
ls "$tmp/mnt/Secret" >/dev/null 2>&1
is "$?" 0 "sharesfs: Secret is readable"
ls "$tmp/mnt/Bad" >/dev/null 2>"$tmp/ls.err"
like "$(cat "$tmp/ls.err")" 'Permission denied' "sharesfs: Bad gives EACCES"
ls "$tmp/mnt/Gone" >/dev/null 2>&1
cat "$tmp/mnt/.sharesfs/status.json" >"$tmp/status" 2>&1
getfattr --only-values -n user.sharesfs.status "$tmp/mnt/Bad" >"$tmp/xattr" 2>&1
like "$(jq -r '.mounts[] | select(.key=="Bad") | .last_error.status' "$tmp/status")" LOGON_FAILURE \
    "status.json: Bad's last error is LOGON_FAILURE"
fusermount3 -u "$tmp/mnt"
wait "$pid"
for f in status xattr log; do
    if grep -qF -e "$SECRET" -e "$WRONG" "$tmp/$f"; then fail "sharesfs $f holds no password"; \
        else pass "sharesfs $f holds no password"; fi
done
done_testing
