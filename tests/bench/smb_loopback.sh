#!/bin/bash
# SMB throughput through sharesfs against a guest share of an smbd on
# 127.0.0.9, with no network namespace in between, beside smbclient
# measured in the same run, printed as ratios (never asserted: tests do not
# time things).  The script starts its own smbd (Debian 12's Samba; config,
# state, locks and pid file in a mktemp directory; `smbd --foreground`, in
# its own process group, stopped on exit; bound to 127.0.0.9:445
# only, which must be free) with one share, `bench`: guest ok (map to
# guest = Bad User), writable, force user = root, its directory on tmpfs
# (SHARE_PARENT, default /dev/shm).  Then, as in throughput.sh, RUNS
# (default 5) pairs per row, each a sharesfs run followed at once by the
# peer's; printed are every pair's times, each side's best time and the
# median of the pairs' ratios (ratio = smbclient time / sharesfs time):
#   write: `dd if=SRC of=MNT/Guest/w.bin bs=1M conv=fsync` through sharesfs
#          vs `smbclient //127.0.0.9/bench -N -c 'put SRC p.bin'`
#   read:  `cat MNT/Guest/file.bin` vs `smbclient -c 'get file.bin /dev/null'`
# SIZE_MB (default 256) per file.  Every sharesfs run is a fresh mount
# (map line `Guest -fstype=url,guest smb://127.0.0.9/bench`, docs/map-formats.md:
# `guest` logs in with no user name and no password), logged in and listed
# before the clock starts; smbclient's time includes its own connect and
# login, as in throughput.sh.  The caches are warm, as in throughput.sh.
#
# Before the timings, what each client negotiated, as the server sees it
# (`smbstatus -b` and `-S` of the session that holds the client's TCP
# connection, found by its source port): dialect, session encryption and
# signing, and the tree connect's encryption and signing; for sharesfs also
# the dialect in its status.json (from sharesfs's own NEGOTIATE).  The same
# for the lab's fs-default.lab.test `user` share (the one throughput.sh
# uses, as labuser, reached from this namespace; its smbd runs in netns
# labsfs-default with the lab's smb.conf) when the lab is running, or with
# --lab (which then needs it); --no-lab leaves it out.
#
# Needs root (FUSE, port 445) and a built tree (ninja -C build); samba,
# smbclient, bc.  Every wait is bounded; the smbd, the mounts and the
# temporary directories are removed on exit.
#   SIZE_MB=256 RUNS=5 bash tests/bench/smb_loopback.sh [--lab|--no-lab]
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${RUNS:-5}
SIZE_MB=${SIZE_MB:-256}
SHARESFS=${SHARESFS:-$ROOT/build/fs/fuse/sharesfs}
SHARE_PARENT=${SHARE_PARENT:-/dev/shm}
ADDR=127.0.0.9
SHARE=bench
OP_TIMEOUT=${OP_TIMEOUT:-300}   # one timed operation, seconds
LAB=auto
case ${1:-} in
    --lab) LAB=yes ;;
    --no-lab) LAB=no ;;
    "") ;;
    *) echo "usage: $0 [--lab|--no-lab]" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "needs root (FUSE, port 445)" >&2; exit 2; }
[ -x "$SHARESFS" ] || { echo "$SHARESFS missing: ninja -C build" >&2; exit 2; }
for c in smbd smbclient smbstatus bc ss fusermount3; do
    command -v "$c" >/dev/null || { echo "$c missing (apt-get install samba smbclient bc iproute2 fuse3)" >&2; exit 2; }
done
. "$ROOT/tests/bench/loopback_smbd.sh"
loopback_port_taken "$ADDR" && exit 2

tmp=$(mktemp -d /tmp/smb-loopback.XXXXXX)
share=$(mktemp -d "$SHARE_PARENT/smb-loopback-share.XXXXXX")
chmod 777 "$share"
mkdir -p "$tmp/mnt"
# A copy of the binary: every run uses the same one, even if build/ is
# rebuilt meanwhile (its SMB worker is the same file, run via /proc/self/exe).
cp "$SHARESFS" "$tmp/sharesfs" || exit 1
BUILT="$SHARESFS, built $(date -u -r "$SHARESFS" '+%F %T UTC'), tree $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(
    git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null || echo ' + uncommitted changes')"
SHARESFS=$tmp/sharesfs
cleanup() {
    mountpoint -q "$tmp/mnt" && { fusermount3 -u "$tmp/mnt" 2>/dev/null || fusermount3 -u -z "$tmp/mnt"; }
    loopback_smbd_stop
    rm -rf --one-file-system "$tmp" "$share"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

loopback_smbd_start "$tmp" "$ADDR" SMBLOOPBACK "$SHARE" "$share" rw || exit 1

printf 'Guest\t-fstype=url,guest\tsmb://%s/%s\n' "$ADDR" "$SHARE" >"$tmp/map"
head -c "${SIZE_MB}M" /dev/urandom >"$tmp/src.bin" || exit 1
cp "$tmp/src.bin" "$share/file.bin"

now() { date +%s.%N; }
best() { sort -n | head -1; }
# timed CMD...: the seconds CMD took; nothing (status 1) when it failed.
timed() {
    local t0 t1
    t0=$(now)
    timeout -k 5 "$OP_TIMEOUT" "$@" >/dev/null 2>&1 || return 1
    t1=$(now)
    echo "$t1 - $t0" | bc -l
}
# mount_fs MAP KEY: a fresh sharesfs mount on $tmp/mnt, KEY logged in.
mount_fs() {
    timeout -k 5 30 "$SHARESFS" "$1" "$tmp/mnt" 2>"$tmp/sharesfs.err" || {
        echo "sharesfs did not mount: $(cat "$tmp/sharesfs.err")" >&2; return 1; }
    for _ in $(seq 100); do mountpoint -q "$tmp/mnt" && break; sleep 0.02; done
    timeout -k 2 30 ls "$tmp/mnt/$2" >/dev/null
}
umount_fs() { fusermount3 -u "$tmp/mnt" 2>/dev/null || fusermount3 -u -z "$tmp/mnt"; }

# ---- what each side negotiated ----------------------------------------
# session_line LABEL SERVER_ADDR PIDS -- SMBSTATUS_CMD...: the session that
# holds a TCP connection of one of PIDS to SERVER_ADDR:445, as smbstatus
# shows it (-b: dialect, encryption, signing; -S: the tree connect's).
session_line() {
    local label=$1 addr=$2 pids=() port b s spid
    shift 2
    while [ "$1" != -- ]; do pids+=("$1"); shift; done
    shift
    port=$(ss -tnpH "dst $addr:445" 2>/dev/null | grep -E "pid=($(
        IFS='|'
        echo "${pids[*]}"
    ))," | awk '{n = split($4, a, ":"); print a[n]; exit}')
    if [ -z "$port" ]; then
        printf '  %-10s no TCP connection to %s:445 found\n' "$label" "$addr"
        return
    fi
    b=$(timeout -k 2 10 "$@" -b 2>/dev/null | grep -F ":$port)")
    spid=$(awk '{print $1; exit}' <<<"$b")
    s=$(timeout -k 2 10 "$@" -S 2>/dev/null | awk -v p="$spid" '$2 == p' | head -1)
    if [ -z "$b" ]; then
        printf '  %-10s source port %s: no session in smbstatus\n' "$label" "$port"
        return
    fi
    # -b: PID USER GROUP ADDR (ipv4:ADDR:PORT) DIALECT ENCRYPTION SIGNING
    # -S: SHARE PID ADDR WEEKDAY MON DAY TIME YEAR ZONE ENCRYPTION SIGNING
    # shellcheck disable=SC2086 # split into columns
    set -- $b
    printf '  %-10s user %-8s dialect %-8s encryption %-14s signing %-22s' "$label" "$2" "$6" "$7" "$8"
    # shellcheck disable=SC2086 # split into columns
    set -- $s
    if [ $# -ge 2 ]; then
        printf ' share %s: encryption %s, signing %s\n' "$1" "${*: -2:1}" "${*: -1}"
    else
        printf ' (no tree connect)\n'
    fi
}
# negotiated TITLE SERVER_ADDR MAP KEY SMBCLIENT_ARGS -- SMBSTATUS_CMD...
negotiated() {
    local title=$1 addr=$2 map=$3 key=$4 cargs=() status=() pids cpid d
    shift 4
    while [ "$1" != -- ]; do cargs+=("$1"); shift; done
    shift
    status=("$@")
    echo "$title"
    if mount_fs "$map" "$key"; then
        pids=$(pgrep -f -- " $tmp/mnt" | tr '\n' ' ')
        d=$(timeout -k 2 10 cat "$tmp/mnt/.sharesfs/status.json" 2>/dev/null |
            sed -n "s/.*\"key\":\"$key\".*\"auth\":\"\([^\"]*\)\".*\"dialect\":\"\([^\"]*\)\".*/auth \1, dialect \2/p")
        # shellcheck disable=SC2086 # a list of pids
        session_line sharesfs "$addr" $pids -- "${status[@]}"
        echo "             (sharesfs status.json: ${d:-?})"
        umount_fs
    else
        echo "  sharesfs   did not mount"
    fi
    # smbclient, kept connected for 3 s by its own command stream.
    { echo ls; sleep 3; echo quit; } | timeout -k 2 20 smbclient "${cargs[@]}" >/dev/null 2>&1 &
    cpid=$!
    for _ in $(seq 50); do
        ss -tnpH "dst $addr:445" 2>/dev/null | grep -q '"smbclient"' && break
        sleep 0.05
    done
    # shellcheck disable=SC2046 # a list of pids
    session_line smbclient "$addr" $(pgrep -P "$cpid" -x smbclient) -- "${status[@]}"
    wait "$cpid" 2>/dev/null
}

negotiated "Negotiated with the loopback smbd ($ADDR, guest share $SHARE; server's smbstatus):" \
    "$ADDR" "$tmp/map" Guest -s "$tmp/client.conf" -N "//$ADDR/$SHARE" -- smbstatus -s "$tmp/smb.conf"

if [ "$LAB" != no ]; then
    (
        eval "$("$ROOT/contrib/lab/lab.sh" env)"
        S=${SHARESFS_LAB_DIR:-}
        if [ ! -f "$S/env" ] || ! ip netns list 2>/dev/null | grep -q '^labsfs-default\b'; then
            [ "$LAB" = yes ] && { echo "--lab: the lab is not running" >&2; exit 1; }
            echo "(the lab is not running: its fs-default session is not shown)"
            exit 0
        fi
        CRED=$S/creds/labuser.cred
        printf 'Smb\t-fstype=url,credentials=%s\tsmb://fs-default.lab.test/user\n' "$CRED" >"$tmp/labmap"
        addr=$(getent hosts fs-default.lab.test | awk '{print $1; exit}')
        negotiated "Negotiated with the lab's fs-default.lab.test ($addr, share user, as labuser; smbstatus in netns labsfs-default):" \
            "$addr" "$tmp/labmap" Smb -s "$SHARESFS_SMB_CONF" -A "$CRED" //fs-default.lab.test/user -- \
            ip netns exec labsfs-default smbstatus -s "$S/hosts/fs-default.lab.test/smb.conf"
    ) || exit 1
fi
echo

# ---- throughput -------------------------------------------------------
export SHARESFS_SMB_CONF=$tmp/client.conf
SMB=(smbclient -s "$tmp/client.conf" -N "//$ADDR/$SHARE")
fs_write() {
    mount_fs "$tmp/map" Guest || { umount_fs 2>/dev/null; return 1; }
    timed dd if="$tmp/src.bin" of="$tmp/mnt/Guest/w.bin" bs=1M conv=fsync
    local rc=$?
    umount_fs
    return "$rc"
}
fs_read() {
    mount_fs "$tmp/map" Guest || { umount_fs 2>/dev/null; return 1; }
    timed cat "$tmp/mnt/Guest/file.bin"
    local rc=$?
    umount_fs
    return "$rc"
}
smb_put() { timed "${SMB[@]}" -c "put $tmp/src.bin p.bin"; }
smb_get() { timed "${SMB[@]}" -c 'get file.bin /dev/null'; }

mbps() { echo "$SIZE_MB / $1" | bc -l; }
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# pairs LABEL OURS PEER: RUNS pairs back to back, each printed; then
# "best_ours best_peer median_ratio" into $tmp/result.
pairs() {
    local i o p r
    : >"$tmp/pairs"
    for i in $(seq "$RUNS"); do
        o=$($2) || { printf '  %-6s run %d: sharesfs failed\n' "$1" "$i"; continue; }
        p=$($3) || { printf '  %-6s run %d: sharesfs %7.3f s, smbclient failed\n' "$1" "$i" "$o"; continue; }
        r=$(echo "$p / $o" | bc -l)
        printf '  %-6s run %d: sharesfs %7.3f s   smbclient %7.3f s   ratio %5.2f\n' "$1" "$i" "$o" "$p" "$r"
        echo "$o $p $r" >>"$tmp/pairs"
    done
    if [ -s "$tmp/pairs" ]; then
        echo "$(cut -d' ' -f1 "$tmp/pairs" | best) $(cut -d' ' -f2 "$tmp/pairs" | best) $(cut -d' ' -f3 "$tmp/pairs" | median)" >"$tmp/result"
    else
        : >"$tmp/result"
    fi
}
line() {   # label "ours peer ratio"
    local label=$1
    # shellcheck disable=SC2086 # three numbers
    set -- $2
    [ $# -eq 3 ] || { printf '%-34s no complete pair\n' "$label"; return; }
    printf '%-34s %7.3f s %7.1f MiB/s   peer %7.3f s %7.1f MiB/s   ratio %5.2f (best %5.2f)\n' \
        "$label" "$1" "$(mbps "$1")" "$2" "$(mbps "$2")" "$3" "$(echo "$2 / $1" | bc -l)"
}

# sharesfs reads and writes the right bytes (once each, not timed; the
# written file is compared on the server's side, after the unmount).
mount_fs "$tmp/map" Guest || exit 1
cmp -s "$tmp/src.bin" "$tmp/mnt/Guest/file.bin" || { echo "sharesfs read wrong data" >&2; exit 1; }
timeout -k 5 "$OP_TIMEOUT" dd if="$tmp/src.bin" of="$tmp/mnt/Guest/w.bin" bs=1M conv=fsync status=none ||
    { echo "sharesfs write failed" >&2; exit 1; }
umount_fs
cmp -s "$tmp/src.bin" "$share/w.bin" || { echo "sharesfs wrote wrong data" >&2; exit 1; }

echo "Guest share of an smbd on $ADDR (no namespaces, share on $(stat -f -c %T "$share")): $SIZE_MB MiB files,"
echo "$RUNS pairs of runs (sharesfs, then smbclient); ratio = smbclient time / sharesfs time, median of"
echo "the pairs (best: of the best times); 1.00 = as fast as smbclient"
echo "binary: $BUILT"
echo "load average (1, 5, 15 min) at start: $(cut -d' ' -f1-3 /proc/loadavg)"
pairs write fs_write smb_put
line "SMB write (vs smbclient put)" "$(cat "$tmp/result")"
pairs read fs_read smb_get
line "SMB read  (vs smbclient get)" "$(cat "$tmp/result")"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
