#!/bin/bash
# A server that stops answering (SIGSTOP) and a server that restarts, under
# a real sharesfs mount, over SMB (smbd) and AFP (afpsim, lion personality):
# operations return within the stage timeout, never hang; unmount still
# works; after a restart the next operation reconnects and re-authenticates;
# while one SMB server is stopped, another SMB key of the same mount (its
# own worker process) still answers.
# The servers are this test's own (own_servers.sh: one network namespace
# each, config, state, shares and user under a temporary dir), never the
# shared lab's, so it needs no lab and disturbs no other test.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/own_servers.sh"
own_need fusermount3 mountpoint jq bc

stopped=()
resume() { local p; for p in "${stopped[@]}"; do kill -CONT "$p" 2>/dev/null; done; stopped=(); }
# Run first by the EXIT trap (own_cleanup), before the servers are killed.
own_pre_cleanup() {
    resume
    exec 9<&-
    own_sharesfs_stop "$1"
}

own_init
own_smbd smb
own_smbd smb2
own_afpsim afp macos-10.7-lion
own_wait smb
own_wait smb2
own_wait afp
diag "smbd on ${OWN_IP[smb]}:445 (netns ${OWN_NS[smb]}), afpsim on ${OWN_IP[afp]}:548 (netns ${OWN_NS[afp]})"

mnt=$OWN_DIR/mnt
mkdir "$mnt"
cat >"$OWN_DIR/map" <<MAP
Smb	-fstype=url,credentials=$OWN_CRED	smb://${OWN_IP[smb]}/user
Smb2	-fstype=url,credentials=$OWN_CRED	smb://${OWN_IP[smb2]}/user
Afp	-fstype=url,credentials=$OWN_CRED	afp://$OWN_USER;AUTH=DHX2@${OWN_IP[afp]}/Private
MAP
declare -A SERVER=([Smb]=smb [Afp]=afp)
TIMEOUT=3
own_sharesfs "$mnt" -t "$TIMEOUT" --attr-timeout 0 --negative-timeout 1 "$OWN_DIR/map"
pid=$OWN_SHARESFS_PID

for key in Smb Afp; do
    srv=${SERVER[$key]}
    echo "$key-data" >"$mnt/$key/fail-$$.txt"
    is "$(cat "$mnt/$key/fail-$$.txt")" "$key-data" "$key: mounted and writable"

    # SIGSTOP: every process of the server stops answering.
    for p in $(own_pids "$srv"); do kill -STOP "$p" && stopped+=("$p"); done
    [ ${#stopped[@]} -gt 0 ] || bail "$key: no server process to stop"
    t0=$(date +%s.%N)
    err=$(timeout 60 stat "$mnt/$key/fail-$$.txt" 2>&1 >/dev/null)
    rc=$?
    t1=$(date +%s.%N)
    secs=$(echo "$t1 - $t0" | bc)
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then pass "$key: stopped server: the operation fails"; \
        else fail "$key: stopped server: the operation fails (rc $rc, $secs s)"; fi
    like "$err" "timed out|Input/output error|Connection reset" "$key: stopped server: ETIMEDOUT ($err)"
    # A generous bound: the point is "returns", not a speed (the stage timeout is $TIMEOUT s).
    if [ "$(echo "$secs < 4 * $TIMEOUT + 5" | bc)" = 1 ]; then pass "$key: returned within the timeout bound ($secs s)"; \
        else fail "$key: returned within the timeout bound ($secs s)"; fi
    resume

    # Resumed, the server answers again (once the failure cached for
    # --negative-timeout has expired).  The handle opened here is used
    # after the restart.
    opened=0
    for _ in $(seq 50); do
        if exec 9<"$mnt/$key/fail-$$.txt"; then opened=1; break; fi 2>/dev/null
        sleep 0.1
    done
    if [ "$opened" = 1 ]; then pass "$key: after SIGCONT the mount answers again"; \
        else bail "$key: after SIGCONT the mount does not answer within 5 s"; fi
    connects=$(jq -r --arg k "$key" '.mounts[] | select(.key==$k) | .counters.connects' "$mnt/.sharesfs/status.json")
    logins=$(jq -r --arg k "$key" '.mounts[] | select(.key==$k) | .counters.connects + .counters.reconnects' "$mnt/.sharesfs/status.json")

    # Restart: kill the server, start it again (same config, state and
    # share), use the mount.
    own_kill "$srv"
    own_start "$srv"
    own_wait "$srv"
    got=""
    for _ in 1 2 3 4 5 6; do   # the first uses may meet the dead connection or the cached failure
        got=$(cat "$mnt/$key/fail-$$.txt" 2>/dev/null) && [ "$got" = "$key-data" ] && break
        sleep 1
    done
    is "$got" "$key-data" "$key: after a server restart the next operations reconnect and read"
    echo more >"$mnt/$key/after-$$.txt" && pass "$key: and write" || fail "$key: and write"
    # The handle opened before the restart, read in a child with a time limit.
    out=$(timeout 30 head -c 64 <&9 2>&1)
    rc=$?
    exec 9<&-
    if [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] &&
       { [ "$rc:$out" = "0:$key-data" ] || [[ "$out" == *"Input/output error"* ]]; }; then
        pass "$key: a handle opened before the restart does not hang (it resumes or fails with EIO)"
    else
        fail "$key: a handle opened before the restart does not hang (it resumes or fails with EIO)"
    fi
    diag "$key: the old handle gave rc $rc: $out"
    after=$(jq -r --arg k "$key" '.mounts[] | select(.key==$k) | .counters.connects' "$mnt/.sharesfs/status.json")
    # AFP notices the lost session and connects (and logs in) anew; for SMB
    # either the key's worker is replaced (connects) or libsmbclient logs in
    # again by itself (reconnects), depending on when it sees the reset.
    [ "$key" = Afp ] && is "$after" $((connects + 1)) "status.json: the AFP key connected once more after the restart"
    if [ "$key" = Smb ]; then
        now=$(jq -r '.mounts[] | select(.key=="Smb") | .counters.connects + .counters.reconnects' "$mnt/.sharesfs/status.json")
        [ "$now" -gt "$logins" ] && pass "status.json: the SMB key's new login is counted ($logins -> $now)" \
            || fail "status.json: the SMB key's new login is counted ($logins -> $now)"
    fi
    diag "$key: status.json connects: $connects before the restart, $after after"
    rm -f "$mnt/$key/fail-$$.txt" "$mnt/$key/after-$$.txt"
done
# Isolation: each SMB key has its own worker process, so with the Smb
# server stopped an operation on Smb2 completes while the one on Smb is
# still waiting for its timeout (in one process they would share
# libsmbclient's lock and Smb2 would wait too).
echo iso >"$mnt/Smb2/iso-$$.txt"
echo iso >"$mnt/Smb/iso-$$.txt"
# The workers: one per SMB key, children of sharesfs, holding none of its
# descriptors (/dev/fuse, pipes) beyond their socket.
workers=$(pgrep -P "$pid" -f -- '--worker' | tr '\n' ' ')
is "$(echo $workers | wc -w)" 2 "one SMB worker process per SMB key ($workers)"
leaked=""
for w in $workers; do leaked+=$(ls -l "/proc/$w/fd" 2>/dev/null | grep -E 'fuse|pipe:' || true); done
is "$leaked" "" "the SMB workers hold no descriptor of sharesfs's (/dev/fuse, pipes)"

smb_failures() { jq -r '.mounts[] | select(.key=="Smb") | .counters.failures' "$mnt/.sharesfs/status.json"; }
failures=$(smb_failures)
for p in $(own_pids smb); do kill -STOP "$p" && stopped+=("$p"); done
( timeout 60 stat "$mnt/Smb/iso-$$.txt" >/dev/null 2>&1; echo $? >"$OWN_DIR/stalled.rc" ) &
stalled=$!
sleep 0.5
kill -0 "$stalled" 2>/dev/null || diag "the operation on the stopped server ended early: $(cat "$OWN_DIR/stalled.rc" 2>/dev/null)"
t0=$(date +%s.%N)
got=$(timeout 30 cat "$mnt/Smb2/iso-$$.txt" 2>&1)
diag "isolation: Smb2 read in $(echo "$(date +%s.%N) - $t0" | bc) s; SMB workers running: $(pgrep -fc -- '--worker')"
is "$got" iso "isolation: Smb2 reads while the Smb server is stopped"
# Ordering, not timing: the stalled operation's failure is counted in
# status.json when it gives up; Smb2 must have answered before that.
is "$(smb_failures)" "$failures" "isolation: ... before the operation on Smb gave up (Smb2 did not wait for it)"
wait "$stalled"
resume
[ "$(cat "$OWN_DIR/stalled.rc")" != 0 ] && pass "isolation: the operation on the stopped server failed" \
    || fail "isolation: the operation on the stopped server failed"
for _ in $(seq 50); do cat "$mnt/Smb/iso-$$.txt" >/dev/null 2>&1 && break; sleep 0.1; done
is "$(cat "$mnt/Smb/iso-$$.txt" 2>&1)" iso "isolation: after SIGCONT Smb answers again"
rm -f "$mnt/Smb/iso-$$.txt" "$mnt/Smb2/iso-$$.txt"

if fusermount3 -u "$mnt"; then
    for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then
        fail "unmount works after all this (sharesfs still running 10 s after fusermount3 -u)"
    else
        wait "$pid"
        is "$?" 0 "unmount works after all this"
        OWN_SHARESFS_PID=
    fi
else
    fail "unmount works after all this"
fi
done_testing
