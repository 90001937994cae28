#!/bin/bash
# AFP read through sharesfs beside two peers measured in the same run, on
# the lab's REAL netatalk 4.2.3 (netatalk42.lab.test, 10.231.43.2:548, a
# container in the lab's network namespace labsfs-nt42), printed as ratios
# (never asserted: tests do not time things):
#   sharesfs `cat` vs `cat` through gvfs's FUSE path (Debian 12's gvfs
#     1.50 AFP backend, gvfsd-afp, mounted with `gio mount` as labuser;
#     gvfs logs in with DHX2, the best UAM it has, and speaks AFP 3.3:
#     its highest)    ratio = gvfs time / sharesfs time, issue target >= 3
#   sharesfs `cat` vs `cat` of the same file on the server's disk (the
#     container's volume is a directory of this machine, on ext4)
#                     ratio = local time / sharesfs time, issue target >= 0.5
# The cache is COLD for every timed read: `sync; echo 3 >
# /proc/sys/vm/drop_caches` just before it (this drops the whole machine's
# page cache, the server's copy of the file included, so each side reads
# the file from the disk).  As in throughput.sh: RUNS (default 5) pairs per
# row, each a sharesfs run followed at once by the peer's; printed are every
# pair's times, each side's best time and the median of the pairs' ratios.
# Every sharesfs run is a fresh mount (logged in and listed before the
# clock starts); gvfs is mounted once (its login is not timed either).
# SIZE_MB (default 256) is the size of the random file, put into the
# Private volume (owned by labuser, uid 2001) and removed at the end.
#
# RTT_US (say 1000): both clients reach netatalk through
# build/tests/bench/latency_proxy on 127.0.0.48:548, which adds RTT_US/2 each
# way (this kernel has no netem), and one more line gives sharesfs through
# the same relay without delay (127.0.0.49:548): the relay's own ceiling.
#
# gvfs AFP against netatalk 4.2.3 works (measured 2026-12-02: DHX2, AFP 3.3
# in afpd.log).  gvfs 1.50 drops the port of an afp:// URI (client/afpuri.c),
# so only a server on port 548 can be reached: netatalk42 listens there.
# gvfs is given the server's address, not its name: the lab resolves
# names through nss_wrapper (LD_PRELOAD), which gvfs's processes run
# without.  Should gvfs's AFP mount fail (its backend has timing bugs, see
# tests/integration/gvfs_afpsim.sh), GVFS_PROTO=smb (also chosen by
# itself after 3 failed AFP mounts) compares instead gvfs's SMB backend
# with sharesfs SMB on fs-default.lab.test's `user` share, whose files are
# also on this machine's disk.
#
# Needs root, the lab (contrib/lab/lab.sh start), a built tree (ninja -C
# build); installs gvfs-backends gvfs-fuse dbus-daemon libglib2.0-bin when
# missing.  gvfs runs in its own D-Bus session (dbus-run-session) with its
# own gvfsd and gvfsd-fuse in a temporary XDG_RUNTIME_DIR; every mount and
# process started here is stopped on exit, and every wait is bounded (the
# whole run: BENCH_TIMEOUT seconds, default 1800).
#   SIZE_MB=256 RUNS=5 bash tests/bench/afp_gvfs.sh
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${RUNS:-5}
SIZE_MB=${SIZE_MB:-256}
SHARESFS=${SHARESFS:-$ROOT/build/fs/fuse/sharesfs}
GVFS_PROTO=${GVFS_PROTO:-afp}
READ_TIMEOUT=${READ_TIMEOUT:-300}   # one timed read, seconds

# Outside the D-Bus session: root, packages, then the session itself.
if [ -z "${AFP_GVFS_BUS:-}" ]; then
    [ "$(id -u)" -eq 0 ] || { echo "needs root (FUSE, drop_caches)" >&2; exit 2; }
    missing=()
    for p in gvfs-backends gvfs-fuse dbus-daemon libglib2.0-bin bc; do
        dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "installing ${missing[*]}" >&2
        DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y "${missing[@]}" >&2 ||
            { echo "apt-get install ${missing[*]} failed" >&2; exit 2; }
    fi
    export AFP_GVFS_BUS=1
    exec timeout -k 30 "${BENCH_TIMEOUT:-1800}" dbus-run-session -- bash "$0" "$@"
fi

eval "$("$ROOT/contrib/lab/lab.sh" env)"
[ -f "$SHARESFS_LAB_DIR/env" ] || { echo "lab not running" >&2; exit 2; }
[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || { echo "no session bus" >&2; exit 2; }
[ -x "$SHARESFS" ] || { echo "$SHARESFS missing: ninja -C build" >&2; exit 2; }
S=$SHARESFS_LAB_DIR
CRED=$S/creds/labuser.cred
USER_NAME=$(sed -n 's/^username=//p' "$CRED")
PASSWORD=$(sed -n 's/^password=//p' "$CRED")
DOMAIN=$(sed -n 's/^domain=//p' "$CRED")
# The address of a lab host (the lab's names exist only in its nss_wrapper
# hosts file).
addr_of() { getent hosts "$1" | awk '{print $1; exit}'; }
AFP_HOST=netatalk42.lab.test
AFP_DIR=$S/hosts/$AFP_HOST/volumes/Private
SMB_HOST=fs-default.lab.test
SMB_DIR=$S/hosts/$SMB_HOST/shares/user
[ -d "$AFP_DIR" ] || { echo "$AFP_DIR missing: is netatalk42 part of the lab?" >&2; exit 2; }
RTT_US=${RTT_US:-}
AFP_ADDR=$(addr_of "$AFP_HOST")
AFP_URL_HOST=$AFP_HOST
proxy_pids=()
if [ -n "$RTT_US" ]; then
    PROXY=${LATENCY_PROXY:-$ROOT/build/tests/bench/latency_proxy}
    [ -x "$PROXY" ] || { echo "$PROXY missing: ninja -C build" >&2; exit 2; }
    for a in 127.0.0.48 127.0.0.49; do
        if ss -ltnH 'sport = :548' | awk '{print $4}' | grep -Eq "^($a|0\.0\.0\.0|\*):548$"; then
            echo "port 548 on $a is taken: $(ss -ltnpH 'sport = :548')" >&2; exit 2
        fi
    done
    trap 'kill "${proxy_pids[@]}" 2>/dev/null' EXIT   # until cleanup's trap below
    "$PROXY" 127.0.0.48:548 "$AFP_ADDR:548" "$((RTT_US / 2))" & proxy_pids+=($!)
    "$PROXY" 127.0.0.49:548 "$AFP_ADDR:548" 0 & proxy_pids+=($!)
    for a in 127.0.0.48 127.0.0.49; do
        for _ in $(seq 50); do (exec 3<>"/dev/tcp/$a/548") 2>/dev/null && break; sleep 0.05; done
    done
    AFP_ADDR=127.0.0.48 AFP_URL_HOST=127.0.0.48
fi

tmp=$(mktemp -d /tmp/afp-gvfs.XXXXXX)
BENCH=bench-gvfs.$$
mkdir "$tmp/mnt" "$tmp/run" "$tmp/home"
chmod 700 "$tmp/run"
# A copy of the binary: every run uses the same one, even if build/ is
# rebuilt meanwhile (its SMB worker is the same file, run via /proc/self/exe).
cp "$SHARESFS" "$tmp/sharesfs" || exit 1
BUILT="$SHARESFS, built $(date -u -r "$SHARESFS" '+%F %T UTC'), tree $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(
    git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null || echo ' + uncommitted changes')"
SHARESFS=$tmp/sharesfs
cat >"$tmp/map" <<MAP
Afp	-fstype=url,credentials=$CRED	afp://labuser;AUTH=DHX2@$AFP_URL_HOST/Private
Smb	-fstype=url,credentials=$CRED	smb://$SMB_HOST/user
MAP
[ -n "$RTT_US" ] && printf 'Relay\t-fstype=url,credentials=%s\tafp://labuser;AUTH=DHX2@127.0.0.49/Private\n' "$CRED" >>"$tmp/map"

# gvfs in this script's own runtime directory, without the lab's
# nss_wrapper (LD_PRELOAD) and without anything of a desktop session.
GVFS_ENV=(env -u LD_PRELOAD -u NSS_WRAPPER_PASSWD -u NSS_WRAPPER_GROUP -u NSS_WRAPPER_HOSTS
    XDG_RUNTIME_DIR="$tmp/run" HOME="$tmp/home" GVFS_REMOTE_VOLUME_MONITOR_IGNORE=1
    GSETTINGS_BACKEND=memory)
FUSE=$tmp/run/gvfs
gvfsd_pid='' fuse_pid='' gvfs_uri='' gvfs_dir=''
gio_() { "${GVFS_ENV[@]}" timeout -k 2 "$1" gio "${@:2}"; }
kill_backends() {
    local pid
    [ -n "$gvfsd_pid" ] || return 0
    for pid in $(ps -o pid= --ppid "$gvfsd_pid" 2>/dev/null); do kill "$pid" 2>/dev/null; done
    sleep 0.5
}
cleanup() {
    mountpoint -q "$tmp/mnt" && { fusermount3 -u "$tmp/mnt" 2>/dev/null || fusermount3 -u -z "$tmp/mnt"; }
    [ -n "$gvfs_uri" ] && gio_ 10 mount -u "$gvfs_uri" >/dev/null 2>&1
    kill_backends
    [ -n "$fuse_pid" ] && kill "$fuse_pid" 2>/dev/null
    [ -n "$gvfsd_pid" ] && kill "$gvfsd_pid" 2>/dev/null
    sleep 0.3
    mountpoint -q "$FUSE" 2>/dev/null && fusermount3 -u -z "$FUSE" 2>/dev/null
    for pid in "${proxy_pids[@]}"; do kill "$pid" 2>/dev/null; done
    rm -rf --one-file-system "$tmp" "${AFP_DIR:?}/$BENCH" "${SMB_DIR:?}/$BENCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# gvfsd without its own gvfsd-fuse (started here, so its pid is known);
# gvfsd owns its bus name before any client asks for it.
bus_has() {
    timeout -k 2 5 gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
        --method org.freedesktop.DBus.NameHasOwner "$1" 2>/dev/null | grep -q true
}
(cd "$tmp" && exec "${GVFS_ENV[@]}" /usr/libexec/gvfsd --no-fuse) >"$tmp/gvfsd.log" 2>&1 &
gvfsd_pid=$!
for _ in $(seq 100); do bus_has org.gtk.vfs.Daemon && break; sleep 0.05; done
bus_has org.gtk.vfs.Daemon || { echo "gvfsd did not start: $(cat "$tmp/gvfsd.log")" >&2; exit 1; }
mkdir -m 700 "$FUSE"
"${GVFS_ENV[@]}" /usr/libexec/gvfsd-fuse "$FUSE" -f >"$tmp/gvfsd-fuse.log" 2>&1 &
fuse_pid=$!
for _ in $(seq 100); do mountpoint -q "$FUSE" && break; sleep 0.05; done
mountpoint -q "$FUSE" || { echo "gvfsd-fuse did not mount $FUSE: $(cat "$tmp/gvfsd-fuse.log")" >&2; exit 1; }

# gvfs_mount PROTO: mounts the share with gio (password, and for SMB the
# domain, on stdin); sets gvfs_uri and gvfs_dir.
gvfs_mount() {
    local out rc
    if [ "$1" = afp ]; then
        gvfs_uri="afp://$USER_NAME@$AFP_ADDR/Private"
        gvfs_dir="$FUSE/afp-volume:host=$AFP_ADDR,user=$USER_NAME,volume=Private"
        out=$(printf '%s\n' "$PASSWORD" | gio_ 30 mount "$gvfs_uri" 2>&1)
    else
        gvfs_uri="smb://$USER_NAME@$(addr_of "$SMB_HOST")/user"
        gvfs_dir="$FUSE/smb-share:server=$(addr_of "$SMB_HOST"),share=user,user=$USER_NAME"
        out=$(printf '%s\n%s\n' "$DOMAIN" "$PASSWORD" | gio_ 30 mount "$gvfs_uri" 2>&1)
    fi
    rc=$?
    if [ "$rc" -eq 0 ]; then
        # gvfsd-fuse may show a new mount's directory a moment later.
        for _ in $(seq 20); do
            timeout -k 2 10 ls "$gvfs_dir" >/dev/null 2>&1 && return 0
            sleep 0.25
        done
        out="$out (but $gvfs_dir cannot be listed)"
    fi
    echo "gio mount $gvfs_uri failed (exit $rc): $(tr '\n' ' ' <<<"$out")" >&2
    return 1
}
AFPD_LOG=$S/hosts/$AFP_HOST/log/afpd.log
log_lines=$(wc -l <"$AFPD_LOG" 2>/dev/null || echo 0)
mounted=
for attempt in 1 2 3; do
    gvfs_mount "$GVFS_PROTO" && { mounted=1; break; }
    kill_backends
    echo "gvfs $GVFS_PROTO mount: attempt $attempt of 3 failed" >&2
done
if [ -z "$mounted" ] && [ "$GVFS_PROTO" = afp ]; then
    echo "gvfs's AFP backend could not mount $AFP_HOST/Private: falling back to gvfs SMB on $SMB_HOST/user" >&2
    GVFS_PROTO=smb
    gvfs_mount smb && mounted=1
fi
[ -n "$mounted" ] || { echo "gvfs could not mount anything" >&2; exit 1; }
# What gvfs's login was, as netatalk logged it ("Login by labuser (AFP3.3)").
gvfs_login=$(tail -n +"$((log_lines + 1))" "$AFPD_LOG" 2>/dev/null | grep "Login by $USER_NAME (" | tail -1 |
    sed -n 's/.*Login by [^ ]* (\(.*\))/\1/p')

if [ "$GVFS_PROTO" = afp ]; then KEY=Afp DIR=$AFP_DIR; else KEY=Smb DIR=$SMB_DIR; fi
head -c "${SIZE_MB}M" /dev/urandom >"$DIR/$BENCH.tmp" || exit 1
mkdir -p "$DIR/$BENCH"
mv "$DIR/$BENCH.tmp" "$DIR/$BENCH/file.bin"
chown -R 2001:2001 "$DIR/$BENCH"
sum=$(sha256sum <"$DIR/$BENCH/file.bin" | cut -d' ' -f1)

now() { date +%s.%N; }
best() { sort -n | head -1; }
cold() { sync; echo 3 >/proc/sys/vm/drop_caches; }
# timed CMD...: the seconds CMD took, after dropping the caches; nothing
# (and status 1) when it failed or ran out of time.
timed() {
    local t0 t1
    cold
    t0=$(now)
    timeout -k 5 "$READ_TIMEOUT" "$@" >/dev/null 2>"$tmp/timed.err" || { echo "exit $?" >>"$tmp/timed.err"; return 1; }
    t1=$(now)
    echo "$t1 - $t0" | bc -l
}
mount_fs() {
    timeout -k 5 30 "$SHARESFS" "$tmp/map" "$tmp/mnt" 2>"$tmp/sharesfs.err" || {
        echo "sharesfs did not mount: $(cat "$tmp/sharesfs.err")" >&2; return 1; }
    for _ in $(seq 100); do mountpoint -q "$tmp/mnt" && break; sleep 0.02; done
    timeout -k 2 30 ls "$tmp/mnt/$KEY/$BENCH" >/dev/null
}
umount_fs() { fusermount3 -u "$tmp/mnt" 2>/dev/null || fusermount3 -u -z "$tmp/mnt"; }
fs_read() {
    mount_fs || { umount_fs 2>/dev/null; return 1; }
    timed cat "$tmp/mnt/$KEY/$BENCH/file.bin"
    local rc=$?
    umount_fs
    return "$rc"
}
# gvfs's read; one new mount and a second try when its backend hung or died.
gvfs_read() {
    timed cat "$gvfs_dir/$BENCH/file.bin" && return 0
    echo "gvfs read failed ($(tail -n 2 "$tmp/timed.err" 2>/dev/null | tr '\n' ' '); gvfsd-$GVFS_PROTO alive: $(
        pgrep -P "$gvfsd_pid" -x "gvfsd-$GVFS_PROTO" >/dev/null && echo yes || echo no)); mounting again" >&2
    gio_ 10 mount -u "$gvfs_uri" >/dev/null 2>&1
    kill_backends
    gvfs_mount "$GVFS_PROTO" || return 1
    timed cat "$gvfs_dir/$BENCH/file.bin"
}
local_read() { timed cat "$DIR/$BENCH/file.bin"; }

mbps() { echo "$SIZE_MB / $1" | bc -l; }
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# pairs LABEL OURS PEER: RUNS pairs back to back, each printed; then
# "best_ours best_peer median_ratio" into $tmp/result.
pairs() {
    local i o p r
    : >"$tmp/pairs"
    for i in $(seq "$RUNS"); do
        o=$($2) || { printf '  %-9s run %d: sharesfs failed\n' "$1" "$i"; continue; }
        p=$($3) || { printf '  %-9s run %d: sharesfs %7.3f s, peer failed\n' "$1" "$i" "$o"; continue; }
        r=$(echo "$p / $o" | bc -l)
        printf '  %-9s run %d: sharesfs %7.3f s   peer %7.3f s   ratio %5.2f\n' "$1" "$i" "$o" "$p" "$r"
        echo "$o $p $r" >>"$tmp/pairs"
    done
    if [ -s "$tmp/pairs" ]; then
        echo "$(cut -d' ' -f1 "$tmp/pairs" | best) $(cut -d' ' -f2 "$tmp/pairs" | best) $(cut -d' ' -f3 "$tmp/pairs" | median)" >"$tmp/result"
    else
        : >"$tmp/result"
    fi
}
line() {   # label target "ours peer ratio"
    local label=$1 target=$2
    # shellcheck disable=SC2086 # three numbers
    set -- $3
    [ $# -eq 3 ] || { printf '%-34s no complete pair\n' "$label"; return; }
    printf '%-34s %7.3f s %7.1f MiB/s   peer %7.3f s %7.1f MiB/s   ratio %5.2f (best %5.2f; target >= %s)\n' \
        "$label" "$1" "$(mbps "$1")" "$2" "$(mbps "$2")" "$3" "$(echo "$2 / $1" | bc -l)" "$target"
}

# Both sides read the right bytes (once, not timed).
mount_fs || exit 1
got=$(timeout -k 2 "$READ_TIMEOUT" sha256sum <"$tmp/mnt/$KEY/$BENCH/file.bin" | cut -d' ' -f1)
[ "$got" = "$sum" ] || { echo "sharesfs read wrong data ($got, want $sum)" >&2; exit 1; }
status=$(timeout -k 2 10 cat "$tmp/mnt/.sharesfs/status.json" 2>/dev/null |
    sed -n "s/.*\"key\":\"$KEY\".*\"auth\":\"\([^\"]*\)\".*\"dialect\":\"\([^\"]*\)\".*/\2, \1/p")
umount_fs
got=$(timeout -k 2 "$READ_TIMEOUT" sha256sum <"$gvfs_dir/$BENCH/file.bin" | cut -d' ' -f1)
[ "$got" = "$sum" ] || { echo "gvfs read wrong data ($got, want $sum)" >&2; exit 1; }

if [ "$GVFS_PROTO" = afp ]; then
    peer="gvfs 1.50 AFP (${gvfs_login:-?} in afpd.log; DHX2)"
    what="AFP, real netatalk 4.2.3 ($AFP_HOST/Private)${RTT_US:+, both clients through a relay adding $RTT_US us of round trip}"
else
    peer="gvfs 1.50 SMB (libsmbclient)"
    what="SMB, fs-default.lab.test/user (gvfs SMB instead of AFP)"
fi
echo "$what: $SIZE_MB MiB random file, $RUNS pairs of runs (sharesfs, then the peer), cold cache before every read"
echo "sharesfs: ${status:-?}; peer: $peer"
echo "ratio = peer time / sharesfs time, median of the pairs (best: of the best times); > 1: sharesfs is faster"
echo "binary: $BUILT"
echo "load average (1, 5, 15 min) at start: $(cut -d' ' -f1-3 /proc/loadavg)"
pairs "vs gvfs" fs_read gvfs_read
line "read vs gvfs FUSE cat" 3 "$(cat "$tmp/result")"
pairs "vs local" fs_read local_read
line "read vs server-disk cat" 0.5 "$(cat "$tmp/result")"
if [ -n "$RTT_US" ]; then
    relay=$(for _ in 1 2 3; do KEY=Relay fs_read; done | best)
    echo "sharesfs through the same relay without delay (its ceiling): best of 3 ${relay:-failed} s"
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
