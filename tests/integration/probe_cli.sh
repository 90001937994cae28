#!/bin/bash
# afptest's command line: single URLs, key selection, exit statuses, map and
# credential errors that name where and why.
. "$(dirname "$0")/lib.sh"
lab_join
plan 20

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

out=$("$AFPTEST" probe smb://fs-default.lab.test/public 2>&1)
is "$?" 0 "a single guest URL probes ok (exit 0)"
like "$out" 'MOUNT POINT +URL +PROTO +SERVER' "table header"
like "$out" 'public +smb://fs-default.lab.test/public +smb +10\.231\.[0-9]+\.2 SMB3_11' "row shows address and dialect"

out=$("$AFPTEST" probe --json -k WrongPass "$MAPS/auto_shares" 2>&1)
is "$?" 1 "one failing key: exit 1"
is "$(jq '.entries | length' <<<"$out")" 1 "--key selects one entry"
is "$(jq -r '.entries[0].macos' <<<"$out")" "EAUTH (80)" "the macOS equivalent of a refused login is EAUTH"

out=$("$AFPTEST" probe -k WrongPass "$MAPS/auto_shares" 2>&1)
like "$out" '/Network/Shares/WrongPass \[authenticate, EACCES\]: .*NT_STATUS_LOGON_FAILURE' \
    "the table explains the failure: mount point, stage, errno, NT_STATUS"

printf 'Good\t-fstype=url\tsmb://fs-default.lab.test/public\nBad\t-fstype=url\tsmb://host:99999/x\n' >"$tmp/bad.map"
out=$("$AFPTEST" probe "$tmp/bad.map" 2>&1)
is "$?" 2 "malformed map: exit 2"
like "$out" "bad.map:2:[0-9]+: " "the error names file, line and column"

out=$("$AFPTEST" probe 'smb://labuser:Sekr1t-Cli@fs-default.lab.test/user' 2>&1)
is "$?" 2 "a password on the command line is refused"
if grep -qF 'Sekr1t-Cli' <<<"$out"; then fail "the refusal does not echo it"; else pass "the refusal does not echo it"; fi

cp "$SHARESFS_LAB_DIR/creds/labuser.cred" "$tmp/open.cred"
chmod 644 "$tmp/open.cred"
printf 'Home\t-fstype=url,credentials=%s\tsmb://fs-default.lab.test/user\n' "$tmp/open.cred" >"$tmp/open.map"
out=$("$AFPTEST" probe --json "$tmp/open.map" 2>&1)
is "$(jq -r '.entries[0] | "\(.stage) \(.result)"' <<<"$out")" "authenticate EPERM" \
    "a world-readable credentials file is refused"
like "$(jq -r '.entries[0].detail' <<<"$out")" 'chmod 600' "and the detail says how to fix it"
# A FIFO as the credentials file used to block afptest for good in open().
mkfifo -m 600 "$tmp/cred.fifo"
printf 'Home\t-fstype=url,credentials=%s\tsmb://fs-default.lab.test/user\n' "$tmp/cred.fifo" >"$tmp/fifo.map"
out=$(timeout 60 "$AFPTEST" probe --json "$tmp/fifo.map" 2>&1)
is "$(jq -r '.entries[0] | "\(.stage) \(.result)"' <<<"$out" 2>/dev/null)" "authenticate EACCES" \
    "a FIFO as the credentials file fails at authenticate (no hang)"
like "$(jq -r '.entries[0].detail' <<<"$out" 2>/dev/null)" 'is a FIFO, not a regular file' "and the detail says what it is"

out=$(SHARESFS_PASSWORD=Lab-Passw0rd "$AFPTEST" probe --json smb://labuser@fs-default.lab.test/user 2>&1)
is "$(jq -r '.entries[0].result' <<<"$out")" ok "SHARESFS_PASSWORD supplies the password"

out=$("$AFPTEST" info smb://nas-smb1.lab.test 2>&1)
like "$out" 'dialect: +NT1' "afptest info: the SMB1-only server negotiates NT1"
"$AFPTEST" info smb://gone.lab.test >/dev/null 2>&1
is "$?" 1 "afptest info: an unreachable server exits 1"
# libsmbclient is loaded on first use: one that cannot be loaded is the
# authenticate stage's ELIBACC, naming the library, not a crash.
mkdir "$tmp/badlib" && : >"$tmp/badlib/libsmbclient.so.0"
out=$(LD_LIBRARY_PATH=$tmp/badlib "$AFPTEST" probe --json -k Public -r /x "$SFS_SRC/contrib/maps/auto_shares" 2>&1)
is "$(jq -r '.entries[0] | "\(.stage) \(.result)"' <<<"$out" 2>/dev/null)" "authenticate ELIBACC" \
    "a libsmbclient that cannot be loaded: authenticate ELIBACC"
like "$(jq -r '.entries[0].detail' <<<"$out" 2>/dev/null)" 'cannot load libsmbclient: .*libsmbclient.so.0' \
    "and the detail names the library"
"$AFPTEST" frobnicate >/dev/null 2>&1
is "$?" 2 "unknown command: exit 2"
printf '# nothing here\n' >"$tmp/empty.map"
"$AFPTEST" probe "$tmp/empty.map" >/dev/null 2>&1
is "$?" 2 "a map without entries: exit 2"
done_testing
