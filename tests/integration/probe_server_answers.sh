#!/bin/bash
# afptest's default reuse of a server's answer to the first exchange (SMB
# NEGOTIATE, AFP FPGetSrvrInfo) by later entries of the same worker
# (sfs_probe_options.reuse_server_answers), against --negotiate-each:
#  - eight entries on this test's own smbd and afpsim (lion), ok and
#    failing (wrong password, no such share or volume), at -j 1: every row
#    the same as with --negotiate-each but for server.answer_of, which
#    names the first entry of each server; the SMB rows that reused have no
#    connect or negotiate time of their own; afpsim sees 3 connections
#    fewer;
#  - a server stopped (SIGSTOP) between two entries of it, while the entry
#    in between waits for another, stopped, server: the later entry's
#    connect fails before its login on the kept answer, so it is probed
#    again asking the server itself (the stopped server's listen queue
#    holds one connection more than with --negotiate-each), and its row is
#    the row --negotiate-each gives (SMB and AFP).
# The servers are this test's own (own_servers.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/own_servers.sh"
own_need jq ss
own_init
own_smbd smb
own_smbd smbstall
own_afpsim afp macos-10.7-lion
own_afpsim afpstall macos-10.7-lion
for s in smb smbstall afp afpstall; do own_wait "$s"; done
W=$OWN_DIR/work
mkdir "$W"
echo "hello" >"$OWN_DIR/smb/share/a.txt"
echo "hello" >"$OWN_DIR/afp/Private/a.txt"
printf 'username=%s\npassword=wrong-password\n' "$OWN_USER" >"$W/wrong.cred"
chmod 600 "$W/wrong.cred"
smb=${OWN_IP[smb]} afp=${OWN_IP[afp]}
cat >"$W/map" <<MAP
S1	-fstype=url,credentials=$OWN_CRED	smb://$smb/user
S2	-fstype=url,credentials=$OWN_CRED	smb://$smb/user
S3	-fstype=url,credentials=$W/wrong.cred	smb://$smb/user
S4	-fstype=url,credentials=$OWN_CRED	smb://$smb/nosuchshare
A1	-fstype=url,credentials=$OWN_CRED	afp://$OWN_USER;AUTH=DHX2@$afp/Private
A2	-fstype=url,credentials=$OWN_CRED	afp://$OWN_USER;AUTH=DHX2@$afp/Private
A3	-fstype=url,credentials=$W/wrong.cred	afp://$OWN_USER;AUTH=DHX2@$afp/Private
A4	-fstype=url,credentials=$OWN_CRED	afp://$OWN_USER;AUTH=DHX2@$afp/NoSuchVolume
MAP
# A row without its timings and answer_of.
rows() { jq -r '.entries[] | [.key, (del(.timings_ms, .server.answer_of) | tojson)] | @tsv' "$1"; }
afp_connections() { grep -c ": connected" "$OWN_DIR/afp/log/afpsim.log"; }

# 1. The same rows, fewer connections.
before=$(afp_connections)
"$AFPTEST" probe --json -j 1 -r /w "$W/map" >"$W/reuse.json" 2>"$W/reuse.err"
is "$?" 1 "reusing answers: exit status 1 (S3, S4, A3, A4 fail)"
reuse_conns=$(($(afp_connections) - before))
before=$(afp_connections)
"$AFPTEST" probe --json -j 1 --negotiate-each -r /w "$W/map" >"$W/each.json" 2>"$W/each.err"
is "$?" 1 "--negotiate-each: exit status 1"
each_conns=$(($(afp_connections) - before))
is "$(jq -r '[.entries[] | "\(.key):\(.stage):\(.result)"] | join(" ")' "$W/reuse.json")" \
    "S1:read:ok S2:read:ok S3:authenticate:EACCES S4:mount:ENOENT A1:read:ok A2:read:ok A3:authenticate:EACCES A4:mount:ENOENT" \
    "the rows' stages and results"
if [ "$(rows "$W/reuse.json")" = "$(rows "$W/each.json")" ]; then
    pass "every row is the row --negotiate-each gives, but for timings and answer_of"
else
    fail "every row is the row --negotiate-each gives, but for timings and answer_of"
    diag "$(diff <(rows "$W/each.json") <(rows "$W/reuse.json"))"
fi
is "$(jq -r '[.entries[] | .server.answer_of // "-"] | join(" ")' "$W/reuse.json")" "- /w/S1 /w/S1 /w/S1 - /w/A1 /w/A1 /w/A1" \
    "answer_of names the first entry of each server"
is "$(jq -r '[.entries[] | .server.answer_of // "-"] | unique | join(" ")' "$W/each.json")" "-" \
    "--negotiate-each: no answer_of"
is "$(jq -r '[.entries[] | select(.key | startswith("S")) | .timings_ms | has("connect") and has("negotiate")] | map(tostring) | join(" ")' "$W/reuse.json")" \
    "true false false false" "SMB: only S1 has connect and negotiate times of its own"
is "$(jq -r '[.entries[] | select(.key | startswith("A")) | .timings_ms | has("connect") and has("negotiate")] | map(tostring) | join(" ")' "$W/reuse.json")" \
    "true true true true" "AFP: every entry connects its session (negotiate is DSIOpenSession)"
is "$each_conns" 8 "--negotiate-each: afpsim saw 8 connections (status + session per entry)"
is "$reuse_conns" 5 "reusing: 5 (A2-A4 asked nothing)"
"$AFPTEST" probe -v -j 1 -r /w "$W/map" >"$W/reuse.txt" 2>&1
like "$(grep '^  /w/S2:' "$W/reuse.txt")" "server's answer asked by /w/S1" "-v names whose answer a row took"

# 2. A server stopped between two of its entries.
# Connections waiting in NAME's listen queue (its server is stopped).
queued() { nsenter --net="/run/netns/${OWN_NS[$1]}" ss -Hltn "sport = :${OWN_PORT[$1]}" | awk '{ print $2 }'; }
stop() { kill -STOP $(own_pids "$1"); }
cont() { kill -CONT $(own_pids "$1"); }
# stalled_run SERVER STALL OUT [afptest options]: probes $W/map.SERVER, whose
# middle entry waits for STALL; SERVER is stopped meanwhile, so the last
# entry finds it stopped.
stalled_run() {
    local server=$1 stall=$2 out=$3 i
    shift 3
    cont "$stall"
    for i in $(seq 200); do [ "$(queued "$stall")" = 0 ] && break; sleep 0.05; done
    stop "$stall"
    "$AFPTEST" probe --json -j 1 -t 2 -r /w "$@" "$W/map.$server" >"$out" 2>"$out.err" &
    local apid=$!
    for i in $(seq 400); do [ "$(queued "$stall")" != 0 ] && break; sleep 0.05; done
    [ "$(queued "$stall")" != 0 ] || diag "the middle entry never reached $stall"
    stop "$server"
    wait "$apid"
    queued "$server" >"$out.queued"   # connections the last entry made
    cont "$server"
}
cat >"$W/map.smb" <<MAP
S1	-fstype=url,credentials=$OWN_CRED	smb://$smb/user
Stall	-fstype=url,credentials=$OWN_CRED	smb://${OWN_IP[smbstall]}/user
S2	-fstype=url,credentials=$OWN_CRED	smb://$smb/user
MAP
cat >"$W/map.afp" <<MAP
A1	-fstype=url,credentials=$OWN_CRED	afp://$OWN_USER;AUTH=DHX2@$afp/Private
Stall	-fstype=url,credentials=$OWN_CRED	afp://$OWN_USER;AUTH=DHX2@${OWN_IP[afpstall]}/Private
A2	-fstype=url,credentials=$OWN_CRED	afp://$OWN_USER;AUTH=DHX2@$afp/Private
MAP
last_row() { jq -r '.entries[2] | "\(.key) \(.stage) \(.result) \(.server.answer_of // "-") \(.detail)"' "$1"; }
for proto in smb afp; do
    stalled_run "$proto" "${proto}stall" "$W/stalled.$proto.json"
    stalled_run "$proto" "${proto}stall" "$W/stalled-each.$proto.json" --negotiate-each
    got=$(last_row "$W/stalled.$proto.json")
    want=$(last_row "$W/stalled-each.$proto.json")
    is "$(jq -r '.entries[0].result' "$W/stalled.$proto.json")" ok "$proto: the first entry of the server is ok"
    like "$got" "^[SA]2 negotiate ETIMEDOUT - " "$proto: the entry after the stop fails at negotiate, asked afresh (no answer_of)"
    is "$got" "$want" "$proto: ... the row --negotiate-each gives"
    # SMB: libsmbclient's on the kept answer, then ours asking afresh; AFP:
    # the session's on the kept answer, then the session's and FPGetSrvrInfo's.
    is "$(cat "$W/stalled.$proto.json.queued") $(cat "$W/stalled-each.$proto.json.queued")" \
        "$([ "$proto" = smb ] && echo "2 1" || echo "3 2")" "$proto: connections to the stopped server: one more when asked afresh"
done
done_testing
