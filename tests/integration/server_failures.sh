#!/bin/bash
# A server that stops answering (SIGSTOP) and a server that restarts, under
# a real sharesfs mount, over SMB (fs-default) and AFP (lion): operations
# return within the stage timeout, never hang; unmount still works; after a
# restart the next operation reconnects and re-authenticates.
# NOT in the meson suite yet: it kills and restarts the lab's own servers,
# and the restarted ones disturb the tests that run after it.  Run it by
# hand against a fresh lab (contrib/lab/lab.sh start; then restart the lab):
#   SFS_SRC=$PWD AFPTEST=build/probes/afptest SHARESFS=build/fs/fuse/sharesfs \
#       bash tests/integration/server_failures.sh
. "$(dirname "$0")/lib.sh"
lab_join

tmp=$(mktemp -d)
mnt=$tmp/mnt
mkdir "$mnt"
stopped=()
resume() { for p in "${stopped[@]}"; do kill -CONT "$p" 2>/dev/null; done; stopped=(); }
trap 'resume; fusermount3 -u "$mnt" 2>/dev/null; rm -rf "$tmp"' EXIT
CRED=$SHARESFS_LAB_DIR/creds/labuser.cred
cat >"$tmp/map" <<MAP
Smb	-fstype=url,credentials=$CRED	smb://fs-default.lab.test/user
Afp	-fstype=url,credentials=$CRED	afp://labuser;AUTH=DHX2@lion.lab.test/Private
MAP
declare -A NS=([Smb]=labsfs-default [Afp]=labsfs-lion)
TIMEOUT=3
"$SHARESFS" -f -t "$TIMEOUT" --attr-timeout 0 --negative-timeout 1 "$tmp/map" "$mnt" >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.05; done
mountpoint -q "$mnt" || bail "sharesfs did not mount: $(cat "$tmp/log")"

# The server's processes, and a way to start them again as they were.
server_pids() { ip netns pids "$1"; }
save_server() {   # NS -> $tmp/restart.NS: the oldest process's command line and environment
    local p
    p=$(for q in $(server_pids "$1"); do echo "$(awk '{print $22}' "/proc/$q/stat") $q"; done | sort -n | head -1 | cut -d' ' -f2)
    tr '\0' '\n' <"/proc/$p/cmdline" >"$tmp/cmd.$1"
    tr '\0' '\n' <"/proc/$p/environ" | grep -E '^(LD_PRELOAD|NSS_WRAPPER_|KRB5_|SELFTEST)' >"$tmp/env.$1"
}
restart_server() {
    mapfile -t cmd <"$tmp/cmd.$1"
    mapfile -t envs <"$tmp/env.$1"
    # fd 9 (a file on the mount) must not be inherited: it would keep the mount busy.
    setsid ip netns exec "$1" env "${envs[@]}" "${cmd[@]}" </dev/null >>"$tmp/restart.log" 2>&1 9<&- &
}

for key in Smb Afp; do
    ns=${NS[$key]}
    echo "$key-data" >"$mnt/$key/fail-$$.txt"
    is "$(cat "$mnt/$key/fail-$$.txt")" "$key-data" "$key: mounted and writable"

    # SIGSTOP: every process of the server stops answering.
    for p in $(server_pids "$ns"); do kill -STOP "$p" && stopped+=("$p"); done
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

    # Restart: kill the server, start it again, use the mount.
    save_server "$ns"
    exec 9<"$mnt/$key/fail-$$.txt"
    for p in $(server_pids "$ns"); do kill -KILL "$p"; done
    sleep 0.3
    restart_server "$ns"
    port=$([ "$key" = Smb ] && echo 445 || echo 548)
    addr=$(getent hosts "$([ "$key" = Smb ] && echo fs-default || echo lion).lab.test" | cut -d' ' -f1)
    for _ in $(seq 300); do (exec 3<>"/dev/tcp/$addr/$port") 2>/dev/null && break; sleep 0.02; done
    got=""
    for _ in 1 2 3 4 5 6; do   # the first uses may meet the dead connection or the cached failure
        got=$(cat "$mnt/$key/fail-$$.txt" 2>/dev/null) && [ "$got" = "$key-data" ] && break
        sleep 1
    done
    is "$got" "$key-data" "$key: after a server restart the next operations reconnect and read"
    echo more >"$mnt/$key/after-$$.txt" && pass "$key: and write" || fail "$key: and write"
    read -r -u 9 line 2>/dev/null
    exec 9<&-
    pass "$key: a handle opened before the restart does not hang (it resumes or fails with EIO)"
    rm -f "$mnt/$key/fail-$$.txt" "$mnt/$key/after-$$.txt"
done
is "$(jq -r '.mounts[] | select(.key=="Afp") | .counters.connects' "$mnt/.sharesfs/status.json")" 2 \
    "status.json: the AFP key connected twice"
if fusermount3 -u "$mnt"; then
    wait "$pid"
    is "$?" 0 "unmount works after all this"
else
    fail "unmount works after all this"
    kill "$pid"
fi
done_testing
