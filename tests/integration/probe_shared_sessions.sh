#!/bin/bash
# afptest --share-sessions (fs/engine/probe_session.c): entries with the
# same location and options share one login per worker; the first logs in,
# the next ones list and read on its session.
#  - four equal entries on an afpsim (netatalk-4) at -j 1: one login on the
#    server, rows 2-4 name the first (session_of) and time list and read
#    only; without the option, four logins;
#  - a server that closes the kept session's next listing (afpsim hostile
#    `close`, the 3rd FPEnumerateExt2 of each session): every row is still
#    ok, each from a login of its own (a failure on a shared session is
#    never reported: that entry is probed afresh), and says so
#    (session_lost, the summary, the table's last line);
#  - the lab's map three times over at -j 2: the same stage and result for
#    every row as without the option, shared rows only where the entry
#    mounts, each naming an entry of the same location that logged in
#    itself; an entry with a wrong password between two good ones of the
#    same URL still fails its own login.
. "$(dirname "$0")/lib.sh"
lab_join
need_afpsim
command -v jq >/dev/null || bail "jq not installed"
ADDR=127.0.0.235
PORT=10548

tmp=$(mktemp -d /tmp/probe_shared.XXXXXX)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT
creds=$SHARESFS_LAB_DIR/creds
mkdir -p "$tmp/Public"
echo "shared" >"$tmp/Public/a.txt"
printf 'labuser:Lab-Passw0rd\n' >"$tmp/users"
chmod 600 "$tmp/users"
for i in 1 2 3 4; do
    printf 'A%d\t-fstype=url,credentials=%s\tafp://labuser;AUTH=DHX2@%s:%d/Public\n' "$i" "$creds/labuser.cred" "$ADDR" "$PORT"
done >"$tmp/afp.map"

afpsim_start() {   # PERSONALITY [afpsim options...]
    local persona=$1
    shift
    "$AFPSIM" --listen "$ADDR:$PORT" --foreground --personality "$SFS_SRC/contrib/afpsim/personalities/$persona.conf" \
        --users "$tmp/users" --volume "Public=$tmp/Public" "$@" >"$tmp/afpsim.log" 2>&1 &
    server=$!
    tcp_wait "$ADDR" "$PORT" || bail "afpsim did not listen on $ADDR:$PORT: $(cat "$tmp/afpsim.log")"
}
afpsim_stop() {
    kill "$server" 2>/dev/null
    wait "$server" 2>/dev/null
    server=
}
logins() { grep -c "logged in as labuser" "$tmp/afpsim.log"; }
rows() { jq -r '.entries[] | "\(.key) \(.stage) \(.result) \(.session_of // "-") \(.timings_ms | keys | join(","))"' "$1"; }

# 1. Four equal entries, one login.
afpsim_start netatalk-4
"$AFPTEST" probe --json -j 1 --share-sessions -r /w "$tmp/afp.map" >"$tmp/one.json" 2>"$tmp/one.err"
is "$?" 0 "equal entries, shared: afptest exits 0"
is "$(rows "$tmp/one.json")" "A1 read ok - authenticate,connect,list,mount,negotiate,parse,read,resolve
A2 read ok A1 list,read
A3 read ok A1 list,read
A4 read ok A1 list,read" "A1 logs in; A2-A4 list and read on its session"
is "$(logins)" 1 "the server saw one login for four entries"
is "$(jq -r '"\(.summary.shared) \(.summary.session_lost)"' "$tmp/one.json")" "3 0" "summary: 3 shared rows, none lost"
is "$(jq -r '.entries[1].auth' "$tmp/one.json")" "DHX2" "a shared row keeps the login's auth module"
"$AFPTEST" probe -j 1 --share-sessions -r /w "$tmp/afp.map" >"$tmp/one.txt" 2>&1
like "$(grep '/w/A3 ' "$tmp/one.txt")" "DHX2 \(session of A1\)" "the table's AUTH cell names whose session"
"$AFPTEST" probe --json -j 1 -r /w "$tmp/afp.map" >"$tmp/own.json" 2>"$tmp/own.err"
is "$(jq -r '[.entries[] | select(.session_of == null and .result == "ok")] | length' "$tmp/own.json")" 4 \
    "without --share-sessions: four rows of their own"
is "$(logins)" 6 "... and four more logins (1 + 1 for the table + 4)"
afpsim_stop

# 2. The kept session closed by the server: each entry probed afresh.
afpsim_start hostile --hostile close --set hostile.target=FPEnumerateExt2 --set hostile.nth=3 --set hostile.count=1
"$AFPTEST" probe --json -j 1 --share-sessions -r /w "$tmp/afp.map" >"$tmp/lost.json" 2>"$tmp/lost.err"
is "$?" 0 "kept session closed by the server: afptest exits 0"
is "$(rows "$tmp/lost.json" | cut -d' ' -f1-4 | tr '\n' ' ')" "A1 read ok - A2 read ok - A3 read ok - A4 read ok - " \
    "every row ok and its own (the failure on the shared session is not reported)"
is "$(logins)" 4 "four logins: each entry after a closed session logged in again"
is "$(jq -r '[.entries[] | .session_lost] | join(" ")' "$tmp/lost.json")" "false true true true" \
    "rows 2-4 say their shared session failed (session_lost)"
is "$(jq -r '.entries[1].session_lost_why' "$tmp/lost.json")" "list of A1's session: ECONNRESET: FPEnumerateExt2: Connection reset by peer" \
    "... and why: the stage, whose session, the errno and the detail"
"$AFPTEST" probe -j 1 --share-sessions -r /w "$tmp/afp.map" >"$tmp/lost.txt" 2>&1
like "$(tail -1 "$tmp/lost.txt")" "^4 entries: 4 ok, 0 failed; 0 on another entry's session, 3 probed afresh" \
    "the table's last line counts them"
is "$(grep -c 'hostile: closing instead of replying' "$tmp/afpsim.log")" 6 "the server closed three kept sessions per run"
afpsim_stop

# 3. The lab's map, three times over, -j 2; a wrong password between two
#    good entries of the same URL.
grep -v '^#' "$SFS_SRC/contrib/maps/auto_shares" | awk 'NF >= 3' >"$tmp/lab.one"
for r in 1 2 3; do awk -v r="$r" '{ printf "%s-%d\t%s\t%s\n", $1, r, $2, $3 }' "$tmp/lab.one"; done >"$tmp/lab.map"
{
    printf 'Good1\t-fstype=url,credentials=%s\tsmb://fs-default.lab.test/data\n' "$creds/labuser.cred"
    printf 'Bad\t-fstype=url,credentials=%s\tsmb://fs-default.lab.test/data\n' "$creds/wrong.cred"
    printf 'Good2\t-fstype=url,credentials=%s\tsmb://fs-default.lab.test/data\n' "$creds/labuser.cred"
} >>"$tmp/lab.map"
n=$(wc -l <"$tmp/lab.map")
"$AFPTEST" probe --json -j 2 --share-sessions -r /w "$tmp/lab.map" >"$tmp/shared.json" 2>"$tmp/shared.err"
is "$?" 1 "lab map, shared: afptest exits 1 (the map has entries meant to fail)"
"$AFPTEST" probe --json -j 2 -r /w "$tmp/lab.map" >"$tmp/plain.json" 2>"$tmp/plain.err"
verdicts() { jq -r '.entries[] | "\(.key) \(.stage) \(.result)"' "$1"; }
is "$(verdicts "$tmp/shared.json")" "$(verdicts "$tmp/plain.json")" "lab map: every row's stage and result as without the option"
is "$(jq -r '.summary.total' "$tmp/shared.json")" "$n" "lab map: $n rows"
shared=$(jq -r '[.entries[] | select(.session_of != null)] | length' "$tmp/shared.json")
ok=$(jq -r '[.entries[] | select(.result == "ok")] | length' "$tmp/shared.json")
like "$shared" '^[1-9][0-9]*$' "lab map: some rows shared a session ($shared of $ok ok rows)"
is "$(jq -r '[.entries[] | select(.session_of != null and .result != "ok")] | length' "$tmp/shared.json")" 0 \
    "no failing row comes from a shared session"
# Each shared row names an entry of the same URL that logged in itself.
bad_refs=$(jq -r '.entries as $e | [$e[] | select(.session_of != null) | . as $r
    | ($e[] | select(.key == $r.session_of)) as $o
    | select($o.url != $r.url or $o.session_of != null or $o.result != "ok")] | length' "$tmp/shared.json")
is "$bad_refs" 0 "every session_of names an ok entry of the same URL with a login of its own"
is "$(jq -r '.entries[] | select(.key == "Bad") | "\(.stage) \(.result) \(.session_of)"' "$tmp/shared.json")" \
    "authenticate EACCES null" "a wrong password between two good entries of its URL: its own login, refused"
is "$(jq -r '.entries[] | select(.key == "Good2") | .result' "$tmp/shared.json")" ok "Good2 after it: ok"
done_testing
