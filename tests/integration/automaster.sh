#!/bin/bash
# sharesfs AUTO_MASTER: every mount point of an auto_master, each served by
# its own process.  Two indirect maps at two mount points and a direct map
# whose two entries are mounted at their own paths (the share at the root);
# reads, errno of a failing entry, status.json / xattr / --status, restart
# of a killed mount process, SIGTERM unmounts all, the background mode, a
# direct map alone, and bad masters refused with status 2, nothing mounted.
. "$(dirname "$0")/lib.sh"
lab_join

tmp=$(mktemp -d)
creds=$SHARESFS_LAB_DIR/creds
pid=
kids=
# Our mounts, deepest first (the temp path has no blanks: mktemp).
our_mounts() { awk -v t="$tmp/" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r; }
cleanup() {
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    for k in $kids; do kill -KILL "$k" 2>/dev/null; done
    for m in $(our_mounts); do fusermount3 -u -z "$m" 2>/dev/null; done
    # Never follow a mount still there into a share.
    rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT

cat >"$tmp/auto_master" <<EOF
# test master: two indirect maps, one direct map
$tmp/Shares	auto_shares
$tmp/Afp	auto_afp	-nobrowse
/-		auto_direct
EOF
cat >"$tmp/auto_shares" <<EOF
Public		-fstype=url,guest					smb://fs-default.lab.test/public
WrongPass	-fstype=url,credentials=$creds/wrong.cred	smb://fs-default.lab.test/user
EOF
cat >"$tmp/auto_afp" <<EOF
AfpPublic	-fstype=url	afp://;AUTH=No%20User%20Authent@lion.lab.test/Public
EOF
cat >"$tmp/auto_direct" <<EOF
$tmp/direct/smb2	-fstype=url,guest					smb://fs-smb2.lab.test/public
$tmp/direct/wrong	-fstype=url,credentials=$creds/wrong.cred	smb://fs-default.lab.test/user
EOF
points="$tmp/Shares $tmp/Afp $tmp/direct/smb2 $tmp/direct/wrong"

# wait_for CMD...: up to 10 s for CMD to succeed.
wait_for() { for _ in $(seq 200); do "$@" && return 0; sleep 0.05; done; return 1; }
all_mounted() { for m in $points; do mountpoint -q "$m" || return 1; done; }
none_mounted() { [ -z "$(our_mounts)" ]; }
kids_gone() { for k in $kids; do kill -0 "$k" 2>/dev/null && return 1; done; return 0; }
xattr() { getfattr --only-values -n user.sharesfs.status "$1" 2>/dev/null; }

[ ! -e "$tmp/direct" ] || bail "$tmp/direct exists before the test"
"$SHARESFS" -f -t 5 "$tmp/auto_master" >"$tmp/log" 2>&1 &
pid=$!
# The supervisor says so only once every mount process answers.
wait_for grep -q 'mount points mounted in' "$tmp/log" || bail "not every mount point came up: $(cat "$tmp/log")"
diag "$(grep 'mount points mounted in' "$tmp/log")"
like "$(cat "$tmp/log")" "sharesfs: 4 mount points mounted in [0-9]+ ms" "the supervisor says when everything is up"
if all_mounted; then pass "all four mount points are mounted (the direct ones created)"; else fail "all four mount points are mounted (the direct ones created)"; fi
kids=$(pgrep -P "$pid" | tr '\n' ' ')
is "$(wc -w <<<"$kids" | tr -d ' ')" 4 "one process per mount point"

# Indirect mount points: keys, .sharesfs, master options.
listing=$(ls -A "$tmp/Shares" | tr '\n' ' ')
like "$listing" '(^| )Public ' "Shares lists Public"
like "$listing" '\.sharesfs' "Shares has .sharesfs"
is "$(cat "$tmp/Shares/Public/hello.txt" 2>&1)" "Hello from the sharesfs lab." "Shares/Public/hello.txt reads (SMB)"
is "$(ls "$tmp/Afp" 2>&1)" "" "Afp (-nobrowse on the master line) lists nothing before use"
is "$(cat "$tmp/Afp/AfpPublic/hello.txt" 2>&1)" "Hello from the sharesfs lab (Public on lion.lab.test)." \
    "Afp/AfpPublic/hello.txt reads (AFP)"
like "$(ls "$tmp/Afp")" '^AfpPublic$' "Afp lists the key once mounted"
like "$(ls "$tmp/Shares/WrongPass" 2>&1)" 'Permission denied' "Shares/WrongPass: EACCES"

# Direct mount points: the share is the root.
d=$tmp/direct/smb2
stat "$d" >/dev/null
is "$(xattr "$d" | jq -r .state)" idle "a stat of a direct mount's root does not log in"
listing=$(ls -A "$d" | tr '\n' ' ')
like "$listing" '(^| )hello\.txt ' "listing a direct mount shows the share's files"
if [[ $listing == *.sharesfs* ]]; then fail "no .sharesfs inside a direct mount"; else pass "no .sharesfs inside a direct mount"; fi
is "$(cat "$d/hello.txt" 2>&1)" "Hello from the sharesfs lab." "direct/smb2/hello.txt reads"
is "$(cat "$d/host.txt" 2>&1)" "fs-smb2.lab.test" "direct/smb2 is fs-smb2's share"
is "$(xattr "$d" | jq -r '"\(.state) \(.mountpoint)"')" "mounted $d" "xattr of a direct root: mounted, names it"
w=$tmp/direct/wrong
like "$(ls "$w" 2>&1)" 'Permission denied' "ls of a failing direct entry: EACCES"
like "$(cat "$w/notes.txt" 2>&1)" 'Permission denied' "a file below it: EACCES too"
is "$(xattr "$w" | jq -r '"\(.mountpoint) \(.state) \(.last_error.stage) \(.last_error.errno_name)"')" \
    "$w failed authenticate EACCES" "xattr of the failing direct root names it, the stage and errno"
like "$(xattr "$w" | jq -r .last_error.status)" NT_STATUS_LOGON_FAILURE "xattr: NT_STATUS"

status=$(cat "$tmp/Shares/.sharesfs/status.json")
is "$(jq -r --arg k WrongPass '.mounts[] | select(.key == $k) | "\(.mountpoint) \(.last_error.errno_name)"' <<<"$status")" \
    "$tmp/Shares/WrongPass EACCES" "status.json of an indirect mount point names the failing key"
is "$(jq -r .root <<<"$status")" "$tmp/Shares" "status.json root is its mount point"

table=$("$SHARESFS" --status "$tmp/auto_master" 2>&1)
like "$table" "$w +failed +ntlmssp +EACCES +authenticate" "--status AUTO_MASTER: the direct entry's row"
like "$table" "$tmp/Shares/WrongPass +failed +ntlmssp +EACCES" "--status AUTO_MASTER: an indirect key's row"
like "$table" "$tmp/Afp/AfpPublic +mounted" "--status AUTO_MASTER: the AFP key"
like "$("$SHARESFS" --status "$d" 2>&1)" "$d +mounted +guest" "--status DIRECT_MOUNTPOINT"

# A mount process that dies is replaced; the others are untouched.
victim=${kids%% *}
kill -KILL "$victim"
wait_for grep -q 'mounted again' "$tmp/log"
like "$(cat "$tmp/log")" "its sharesfs process ended \(killed by signal 9" "the supervisor notices a killed mount process"
wait_for all_mounted
ok=1
for f in Shares/Public/hello.txt Afp/AfpPublic/hello.txt direct/smb2/hello.txt; do
    [[ "$(cat "$tmp/$f" 2>&1)" == "Hello from the sharesfs lab"* ]] || { ok=0; diag "$f: $(cat "$tmp/$f" 2>&1)"; }
done
is "$ok" 1 "after the restart every mount point reads again"
kids=$(pgrep -P "$pid" | tr '\n' ' ')

out=$("$SHARESFS" -f -t 5 "$tmp/auto_master" 2>&1)
is "$?" 2 "a second sharesfs on the same master: exit status 2"
like "$out" "sharesfs: $tmp/[^ ]+: a sharesfs is already mounted there" "it names the mount point in use"

kill -TERM "$pid"
wait_for sh -c "! kill -0 $pid 2>/dev/null"
if kill -0 "$pid" 2>/dev/null; then fail "SIGTERM: the supervisor exits"; else pass "SIGTERM: the supervisor exits"; fi
wait "$pid"
is "$?" 0 "exit status 0 after SIGTERM"
pid=
if none_mounted; then pass "SIGTERM unmounted every mount point"; else fail "SIGTERM unmounted every mount point"; diag "$(our_mounts)"; fi
if kids_gone; then pass "no mount process is left"; else fail "no mount process is left"; fi

# Without -f: returns once everything is mounted; unmounting every mount
# point from outside ends it.
start=$(date +%s%N)
"$SHARESFS" -t 5 "$tmp/auto_master" >"$tmp/log2" 2>&1
is "$?" 0 "background mode: exit status 0"
diag "background mode returned after $(( ($(date +%s%N) - start) / 1000000 )) ms"
if all_mounted; then pass "background mode: everything is mounted when it returns"; else fail "background mode: everything is mounted when it returns"; fi
daemon=$(pgrep -xf "$SHARESFS -t 5 $tmp/auto_master" | head -1)
[ -n "$daemon" ] && kids="$(pgrep -P "$daemon" | tr '\n' ' ') $daemon"
is "$(cat "$tmp/Shares/Public/hello.txt" 2>&1)" "Hello from the sharesfs lab." "background mode: Shares/Public reads"
for m in $points; do fusermount3 -u "$m"; done
wait_for sh -c "! pgrep -xf '$SHARESFS -t 5 $tmp/auto_master' >/dev/null"
is "$(pgrep -xf "$SHARESFS -t 5 $tmp/auto_master" | wc -l)" 0 "background mode: exits once everything was unmounted"

# A direct map alone.
"$SHARESFS" -f -t 5 "$tmp/auto_direct" >"$tmp/log3" 2>&1 &
pid=$!
wait_for grep -q '2 mount points mounted in' "$tmp/log3"
is "$(cat "$tmp/direct/smb2/hello.txt" 2>&1)" "Hello from the sharesfs lab." "a direct map alone: its entries are mounted"
kill -TERM "$pid"
wait "$pid"
pid=
if none_mounted; then pass "a direct map alone: SIGTERM unmounts"; else fail "a direct map alone: SIGTERM unmounts"; fi

# A supervisor killed outright takes its mount processes along.
"$SHARESFS" -f -t 5 "$tmp/auto_direct" >"$tmp/log4" 2>&1 &
pid=$!
wait_for grep -q '2 mount points mounted in' "$tmp/log4"
kids=$(pgrep -P "$pid" | tr '\n' ' ')
kill -KILL "$pid"
wait "$pid" 2>/dev/null
pid=
wait_for none_mounted
if none_mounted; then pass "SIGKILL of the supervisor: its mount processes unmount"; else fail "SIGKILL of the supervisor: its mount processes unmount"; fi
wait_for kids_gone
if kids_gone; then pass "SIGKILL of the supervisor: no mount process is left"; else fail "SIGKILL of the supervisor: no mount process is left"; fi

# Bad masters: refused before anything is mounted.
refused() {   # refused NAME REGEX MASTER_TEXT
    printf '%s\n' "$3" >"$tmp/bad_master"
    local out rc
    out=$(timeout 20 "$SHARESFS" -f -t 5 "$tmp/bad_master" 2>&1)
    rc=$?
    is "$rc" 2 "$1: exit status 2"
    like "$out" "$2" "$1: the error says why"
    if none_mounted; then pass "$1: nothing mounted"; else fail "$1: nothing mounted"; diag "$(our_mounts)"; fi
}
refused "indirect inside indirect" "mount points nest: $tmp/Shares/Inner \\(indirect map $tmp/auto_afp\\) is inside $tmp/Shares " \
    "$tmp/Shares auto_shares
$tmp/Shares/Inner auto_afp"
refused "direct entry inside an indirect mount point" \
    "mount points nest: $tmp/direct/smb2 \\(direct map entry $tmp/auto_direct:1\\) is inside $tmp/direct " \
    "/- auto_direct
$tmp/direct auto_shares"
refused "indirect mount point at a direct entry's path" "mount point $tmp/direct/wrong is given twice" \
    "$tmp/direct/wrong auto_afp
/- auto_direct"
refused "missing map file" "bad_master:2:[0-9]+: map 'auto_nosuch' not found \\($tmp/auto_nosuch\\)" \
    "$tmp/Shares auto_shares
$tmp/Other auto_nosuch"
out=$("$SHARESFS" -f "$tmp/auto_shares" 2>&1)
is "$?" 2 "an indirect map alone (no MOUNTPOINT): exit status 2"
like "$out" "indirect map without a mount point" "an indirect map alone: the error says so"

# A mount that fails to start: named, the others stopped, status 1.
out=$(timeout 20 "$SHARESFS" -f -o sharesfs_no_such_option "$tmp/auto_master" 2>&1)
is "$?" 1 "a mount process that fails to start: exit status 1"
like "$out" "sharesfs: $tmp/[^ ]+: failed to mount \\(exit status [0-9]+\\)" "the failing mount point is named"
if none_mounted; then pass "a failed start leaves nothing mounted"; else fail "a failed start leaves nothing mounted"; fi

done_testing
