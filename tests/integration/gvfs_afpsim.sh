#!/bin/bash
# gvfs's AFP backend (Debian 12: gvfs-backends + gvfs-fuse 1.50, a real
# third-party AFP client) against every afpsim personality but hostile.  The
# test starts its own afpsim per personality on loopback (127.0.0.100-179,
# port 548: gvfs 1.50 drops the port of an afp:// URI, client/afpuri.c, so it
# only reaches the default port), a private D-Bus session (dbus-run-session)
# with gvfsd and gvfsd-fuse in a temporary XDG_RUNTIME_DIR, and per
# personality
#   - mounts the Public volume as guest (gio mount -a) and the Private volume
#     as a user (gio mount, password on stdin: gvfs uses DHX2, else DHCAST128),
#   - checks in afpsim's log which UAM and AFP version gvfs chose (gvfs speaks
#     AFPX03 to AFP3.3 and takes the highest the server lists) and that
#     FPGetUserInfo was answered,
#   - lists the volume and reads two files (6 bytes, 1.5 MB: many FPReadExt)
#     through the FUSE path and compares them with the originals,
#   - checks what FPGetUserInfo and FPMapID feed: the user may write its own
#     file (gvfs compares the owner with FPGetUserInfo's user ID), a guest
#     may not, and the owner and group of a file have names,
#   - unmounts and checks that the session logged out.
# A login gvfs cannot do for a reason the real server shares (no "No User
# Authent" in the server's list; no UAM gvfs implements) is tried anyway:
# gvfs must refuse it for that reason, and the check is a TAP SKIP.
# gvfs 1.50 fails now and then by itself (gvfsd-afp crashes or hangs on
# timing bugs, see LATENCY_MS; one DHX2/DHCAST128 login in ~128 fails, see
# cycle): afpsim answers 5 ms late, as on a network, and a failed mount cycle
# is run again on a fresh address, with a diagnostic.
# Needs root (FUSE) and gvfs-backends gvfs-fuse dbus-daemon libglib2.0-bin
# fuse3 procps; not the lab.  Every wait is bounded (the whole run: 540 s;
# it takes about 20 s, a minute or two when gvfs fails often).
#
# By hand: AFPSIM=build/contrib/afpsim/afpsim AFPTEST=build/probes/afptest \
#          bash tests/integration/gvfs_afpsim.sh
# (GVFS_AFPSIM_KEEP=1 keeps the temporary directory with all logs.)

# Defaults for a run by hand (meson test sets these); SHARESFS is not used.
: "${SFS_SRC:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SHARESFS:=unused}"
: "${SHARESFS_AFPSIM:=${AFPSIM:-}}"
export SFS_SRC SHARESFS SHARESFS_AFPSIM

# The whole test runs inside its own D-Bus session bus, bounded in time.
if [ -z "${GVFS_AFPSIM_BUS:-}" ]; then
    command -v dbus-run-session >/dev/null || { echo "Bail out! dbus-run-session missing (package dbus-daemon)"; exit 1; }
    export GVFS_AFPSIM_BUS=1
    exec timeout -k 5 540 dbus-run-session -- bash "$0" "$@"
fi

. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || bail "needs root (FUSE)"
need_afpsim
for f in /usr/libexec/gvfsd /usr/libexec/gvfsd-afp /usr/libexec/gvfsd-fuse; do
    [ -x "$f" ] || bail "$f missing: apt-get install gvfs-backends gvfs-fuse"
done
command -v gio >/dev/null || bail "gio missing: apt-get install libglib2.0-bin"
[ -c /dev/fuse ] || bail "/dev/fuse missing"
[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || bail "no session bus"

PORT=548
# Every afpsim reply waits this long (hostile mode "slow"), as on a network:
# gvfs 1.50's AFP connection has two timing bugs that an instant loopback
# reply brings out.  A job waits for its reply with g_cond_wait and no
# predicate, so a reply that comes back before the wait begins is lost and
# the job hangs; and a request is freed when its reply has been handled,
# while the callback of its own write may still be queued (gvfsd-afp
# segfaults in write_command_cb, "segfault at 18" in dmesg).  Measured here:
# 0 ms, 1-8 retried cycles a run and one run in four failing; 5 ms, none in
# seven runs (a hung mount still now and then, below).
# GVFS_AFPSIM_LATENCY_MS=0 shows them.
LATENCY_MS=${GVFS_AFPSIM_LATENCY_MS:-5}
PASSWORD=Gvfs-Passw0rd
SECONDS=0

tmp=$(mktemp -d /tmp/gvfs-afpsim.XXXXXX)
mkdir -p "$tmp/Public/sub" "$tmp/Private" "$tmp/run" "$tmp/home"
echo hello >"$tmp/Public/hello.txt"
echo nested >"$tmp/Public/sub/n.txt"
head -c 1500000 /dev/urandom >"$tmp/Public/big.bin"
echo secret >"$tmp/Private/secret.txt"
cp "$tmp/Public/big.bin" "$tmp/Private/big.bin"
echo theirs >"$tmp/Private/nobody.txt"
chown nobody:"$(id -gn nobody)" "$tmp/Private/nobody.txt"
chmod -R u+rwX,go+rX "$tmp/Public" "$tmp/Private"
# The user has no system account: afpsim acts as itself for it (its files
# are the user's), which the access check below relies on.
getent passwd gvfsuser >/dev/null && bail "a system account gvfsuser exists"
printf 'gvfsuser:%s\n' "$PASSWORD" >"$tmp/users"
chmod 600 "$tmp/users"

# gvfs in this test's own runtime directory; nothing of the caller's session.
export XDG_RUNTIME_DIR=$tmp/run HOME=$tmp/home
export GVFS_REMOTE_VOLUME_MONITOR_IGNORE=1 GSETTINGS_BACKEND=memory
unset GVFS_DEBUG
chmod 700 "$XDG_RUNTIME_DIR"
FUSE=$XDG_RUNTIME_DIR/gvfs
mkdir -m 700 "$FUSE"

gvfsd_pid= fuse_pid= server=
cleanup() {
    local d
    for d in "$FUSE"/*; do
        [ -d "$d" ] || continue
        timeout -k 2 10 gio mount -u "$(uri_of_dir "$d")" >/dev/null 2>&1
    done
    [ -n "$server" ] && kill "$server" 2>/dev/null
    [ -n "$fuse_pid" ] && kill "$fuse_pid" 2>/dev/null
    [ -n "$gvfsd_pid" ] && kill "$gvfsd_pid" 2>/dev/null
    sleep 0.3
    mountpoint -q "$FUSE" 2>/dev/null && fusermount3 -u -z "$FUSE" 2>/dev/null
    # GVFS_AFPSIM_KEEP=1 keeps the logs (afpsim's, gvfsd's) for a look.
    if [ -n "${GVFS_AFPSIM_KEEP:-}" ]; then echo "# kept $tmp" >&2; else rm -rf --one-file-system "$tmp"; fi
}
# "afp-volume:host=H,user=U,volume=V" -> afp://U@H/V
uri_of_dir() {
    local b=${1##*/} h= u= v=
    IFS=, read -ra kv <<<"${b#afp-volume:}"
    for x in "${kv[@]}"; do
        case $x in host=*) h=${x#host=} ;; user=*) u=${x#user=}@ ;; volume=*) v=${x#volume=} ;; esac
    done
    echo "afp://$u$h/$v"
}
trap cleanup EXIT

# gvfsd without its own gvfsd-fuse, which this test starts (so it knows
# every process it has to stop).  gvfsd must own its bus name before any
# client asks for it, or the bus would start another one.
bus_has() {
    timeout -k 2 5 gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
        --method org.freedesktop.DBus.NameHasOwner "$1" 2>/dev/null | grep -q true
}
# (In $tmp: a core file of a crashing backend, if the limits allow one,
# goes away with it.)
(cd "$tmp" && exec /usr/libexec/gvfsd --no-fuse) >"$tmp/gvfsd.log" 2>&1 &
gvfsd_pid=$!
for _ in $(seq 100); do bus_has org.gtk.vfs.Daemon && break; sleep 0.05; done
bus_has org.gtk.vfs.Daemon || bail "gvfsd did not start: $(cat "$tmp/gvfsd.log")"
/usr/libexec/gvfsd-fuse "$FUSE" -f >"$tmp/gvfsd-fuse.log" 2>&1 &
fuse_pid=$!
for _ in $(seq 100); do mountpoint -q "$FUSE" && break; sleep 0.05; done
mountpoint -q "$FUSE" || bail "gvfsd-fuse did not mount $FUSE: $(cat "$tmp/gvfsd-fuse.log")"

# The AFP version gvfs 1.50 picks: the highest of AFPX03..AFP3.3 offered,
# as afpsim logs it ("AFP 3.3"); empty when there is none.
gvfs_version() {
    tr ';' '\n' <<<"$1" | awk '
        $0 == "AFPX03" { v = 30 } $0 ~ /^AFP3\.[123]$/ { v = 30 + substr($0, 6) }
        v > best { best = v } END { if (best) printf "AFP %d.%d\n", best / 10, best % 10 }'
}
offers() { grep -qiF ";$2;" <<<";$1"; }

# afpsim's log lines of the session that logged in last (one per connection).
last_session() {
    local peer
    peer=$(grep ' logged in as ' "$1" | tail -n 1 | sed -E 's/.*\] info: ([^ ]+): logged in as.*/\1/')
    [ -n "$peer" ] && grep -F " $peer: " "$1"
}

# The timing bugs of gvfs's AFP backend (see LATENCY_MS) still strike now
# and then, more on a loaded machine, against any server: gvfsd-afp dies or
# hangs.  Such a mount cycle is run again on a fresh address (MAX_ATTEMPTS
# in all) and says so in a diagnostic; a fault of afpsim's fails every
# attempt.
MAX_ATTEMPTS=4

# Results of one cycle, printed only when the cycle is kept: "P name",
# "F name", "D text".
R=()
r_pass() { R+=("P $1"); }
r_fail() { R+=("F $1"); }
r_diag() { local l; while IFS= read -r l; do R+=("D $l"); done <<<"$1"; }
r_is() { if [ "$1" = "$2" ]; then r_pass "$3"; else r_fail "$3"; r_diag "got:  '$1'"; r_diag "want: '$2'"; fi; }
r_like() {
    if printf '%s' "$1" | grep -Eq -- "$2"; then r_pass "$3"; else r_fail "$3"; r_diag "got: '$1'"; r_diag "want /$2/"; fi
}
r_flush() {
    local l
    for l in "${R[@]}"; do
        case $l in "P "*) pass "${l#P }" ;; "F "*) fail "${l#F }" ;; *) diag "${l#D }" ;; esac
    done
    R=()
}

# Is the gvfs mount of URI still there (its backend alive)?
mounted() { timeout -k 2 10 gio mount -l 2>/dev/null | grep -qF -- "-> $1/"; }
# Stops the AFP backends of this test's gvfsd (after one hung).
kill_backends() {
    local pid
    for pid in $(ps -o pid= --ppid "$gvfsd_pid" 2>/dev/null); do
        [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = gvfsd-afp ] && kill "$pid" 2>/dev/null
    done
    sleep 0.5
}

# One mount cycle: cycle NAME KIND(guest|user) VOLUME WANT_UAM WANT_VERSION.
# Fills R; returns 2 when gvfs failed by itself on the way (its backend died
# or hung, or its Diffie-Hellman bug struck).
cycle() {
    local name=$1 kind=$2 vol=$3 uam=$4 ver=$5 log=$tmp/$1.log
    local uri out dir got sess files rc
    if [ "$kind" = guest ]; then
        uri="afp://$ADDR/$vol"
        out=$(timeout -k 2 15 gio mount -a "$uri" </dev/null 2>&1)
    else
        uri="afp://gvfsuser@$ADDR/$vol"
        out=$(printf '%s\n' "$PASSWORD" | timeout -k 2 15 gio mount "$uri" 2>&1)
    fi
    rc=$?
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] ||
        { [ "$rc" -ne 0 ] && grep -q "disconnected from message bus" <<<"$out"; }; then
        r_diag "mount (exit $rc): $out"
        return 2
    fi
    # gvfs prints its Diffie-Hellman values without leading zero bytes (Ma
    # in DHX2 and DHCAST128, and the shared key it hashes): one login in
    # about 128 then fails against any server, netatalk's included (it pads
    # them, as afpsim does).  DHX2 then reports the server's kFPAuthContinue,
    # DHCAST128 a wrong password.
    if [ "$rc" -ne 0 ] && [ "$kind" = user ] &&
        { grep -q "kFPAuthContinue" <<<"$out" ||
            tail -n 5 "$log" | grep -Eq "login refused .*(DHX2|DHCAST128)"; }; then
        r_diag "mount (exit $rc): $out"
        r_diag "$(tail -n 3 "$log" | sed 's/^/afpsim: /')"
        r_diag "gvfs's unpadded Diffie-Hellman value (1 login in ~128)"
        return 2
    fi
    r_is "$rc" 0 "$name: $kind mounts $vol"
    if [ "$rc" -ne 0 ]; then
        r_diag "$out"
        r_diag "$(tail -n 5 "$log" | sed 's/^/afpsim: /')"
        return 0
    fi
    sess=$(last_session "$log")
    r_like "$(grep ' logged in as ' <<<"$sess")" \
        "logged in as $([ "$kind" = guest ] && echo guest || echo gvfsuser) with $uam \($ver\)" \
        "$name: $kind logged in with $uam, $ver"
    r_like "$(grep 'FPGetUserInfo' <<<"$sess" | tr '\n' ' ')" \
        'FPGetUserInfo \(8 bytes\) -> 0, 22 bytes.*FPGetUserInfo \(8 bytes\) -> 0, 6 bytes' \
        "$name: $kind: FPGetUserInfo answered (user ID + UUID, then group ID)"

    dir=$FUSE/afp-volume:host=$ADDR,$([ "$kind" = user ] && echo "user=gvfsuser,")volume=$vol
    if [ "$vol" = Public ]; then files="big.bin hello.txt sub"; else files="big.bin nobody.txt secret.txt"; fi
    got=$(timeout -k 2 10 ls "$dir" 2>&1 | tr '\n' ' ')
    r_is "${got% }" "$files" "$name: $kind lists $vol through FUSE"
    local small=hello.txt
    [ "$vol" = Private ] && small=secret.txt
    if timeout -k 2 10 cmp "$dir/$small" "$tmp/$vol/$small" >"$tmp/cmp.out" 2>&1; then
        r_pass "$name: $kind reads $small through FUSE"
    else
        r_fail "$name: $kind reads $small through FUSE"
        r_diag "$(cat "$tmp/cmp.out")"
    fi
    if timeout -k 2 20 cmp "$dir/big.bin" "$tmp/$vol/big.bin" >"$tmp/cmp.out" 2>&1; then
        r_pass "$name: $kind reads big.bin (1.5 MB) through FUSE"
    else
        r_fail "$name: $kind reads big.bin (1.5 MB) through FUSE"
        r_diag "$(cat "$tmp/cmp.out")"
    fi
    if [ "$kind" = user ]; then
        # afpsim's files are the user's own (afpsim acts as itself): gvfs
        # trusts the owner bits when FPGetUserInfo's user ID is the owner.
        got=$(timeout -k 2 10 gio info -a access::can-write "$uri/secret.txt" 2>&1 | sed -n 's/^ *access::can-write: //p')
        r_is "$got" TRUE "$name: user may write its own file (FPGetUserInfo user ID = owner)"
        # One attribute a call: gvfs asks FPMapID once per attribute, in parallel.
        got="$(timeout -k 2 10 gio info -a owner::user "$uri/nobody.txt" 2>&1 | sed -n 's/^ *owner::user: //p')"
        got+=" $(timeout -k 2 10 gio info -a owner::group "$uri/nobody.txt" 2>&1 | sed -n 's/^ *owner::group: //p')"
        r_is "$got" "nobody $(id -gn nobody)" "$name: owner and group names of nobody.txt (FPMapID)"
    else
        # A guest is the server's "nobody": only the "other" bits (r--) apply.
        got=$(timeout -k 2 10 gio info -a access::can-read,access::can-write "$uri/hello.txt" 2>&1 |
            sed -n 's/^ *access::\(can-read\|can-write\): //p' | tr '\n' ' ')
        r_is "${got% }" "TRUE" "$name: guest may read, not write hello.txt (FPGetUserInfo IDs are not the owner's)"
    fi

    if ! mounted "$uri"; then
        r_diag "the mount is gone before its unmount"
        return 2
    fi
    out=$(timeout -k 2 10 gio mount -u "$uri" 2>&1)
    rc=$?
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        r_diag "unmount: no answer in 10 s"
        kill_backends
        return 2
    fi
    # The backend died while unmounting (D-Bus: its peer went away).
    if [ "$rc" -ne 0 ] && grep -Eq "disconnected from message bus|The connection is closed" <<<"$out"; then
        r_diag "unmount (exit $rc): $out"
        return 2
    fi
    r_is "$rc" 0 "$name: $kind unmounts $vol"
    [ "$rc" -eq 0 ] || r_diag "$out"
    for _ in $(seq 50); do [ -e "$dir" ] || break; sleep 0.1; done
    [ ! -e "$dir" ] && grep -q "$(grep ' logged in as ' <<<"$sess" | tail -n 1 | awk '{print $5}') logged out" "$log"
    r_is "$?" 0 "$name: $kind: the FUSE entry is gone and the session logged out"
    return 0
}

# check_mount NAME KIND VOLUME WANT_UAM WANT_VERSION: a cycle, run again
# when gvfs's backend died.
check_mount() {
    local attempt l k=0
    [ "$2" = user ] && k=1
    for attempt in $(seq "$MAX_ATTEMPTS"); do
        R=()
        start_server "$(addr_of "$i" "$k" $((attempt - 1)))"
        cycle "$@"
        local rc=$?
        stop_server
        [ "$rc" -eq 0 ] && { r_flush; return; }
        for l in "${R[@]}"; do [ "${l#D }" != "$l" ] && diag "${l#D }"; done
        diag "$1: $2: gvfs failed by itself (see above), attempt $attempt of $MAX_ATTEMPTS"
        kill_backends
    done
    R=()
    r_fail "$1: $2 mount cycle of $3 completes (gvfs failed $MAX_ATTEMPTS times)"
    r_flush
}

# A login gvfs must refuse: skip_mount NAME KIND VOLUME ERROR_REGEX REASON
# (run again, like a cycle, when gvfs's backend died or hung instead).
skip_mount() {
    local name=$1 kind=$2 vol=$3 re=$4 reason=$5 out rc attempt k=0
    [ "$kind" = user ] && k=1
    for attempt in $(seq "$MAX_ATTEMPTS"); do
        start_server "$(addr_of "$i" "$k" $((attempt - 1)))"
        if [ "$kind" = guest ]; then
            out=$(timeout -k 2 15 gio mount -a "afp://$ADDR/$vol" </dev/null 2>&1)
        else
            out=$(printf '%s\n' "$PASSWORD" | timeout -k 2 15 gio mount "afp://gvfsuser@$ADDR/$vol" 2>&1)
        fi
        rc=$?
        stop_server
        if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] || grep -q "disconnected from message bus" <<<"$out"; then
            diag "mount (exit $rc): $out"
            diag "$name: $kind: gvfsd-afp died or hung (gvfs's own bugs), attempt $attempt of $MAX_ATTEMPTS"
            kill_backends
            continue
        fi
        if [ "$rc" -ne 0 ] && grep -Eq "$re" <<<"$out"; then
            pass "$name: $kind mount of $vol # SKIP $reason"
        else
            fail "$name: $kind mount of $vol is refused: $reason"
            diag "rc $rc: $out"
        fi
        return
    done
    fail "$name: $kind mount of $vol is refused: $reason (gvfsd-afp died $MAX_ATTEMPTS times)"
}

# start_server ADDR: afpsim with personality $f (name $name) on ADDR:$PORT.
start_server() {
    ADDR=$1
    local lat=()
    [ "$LATENCY_MS" -gt 0 ] && lat=(--hostile slow --set hostile.interval_ms="$LATENCY_MS")
    "$AFPSIM" --listen "$ADDR:$PORT" --foreground --personality "$f" --users "$tmp/users" \
        --volume "Public=$tmp/Public" --volume "Private=$tmp/Private:valid=gvfsuser" \
        "${lat[@]}" -v --log "$tmp/$name.log" >>"$tmp/$name.out" 2>&1 &
    server=$!
    tcp_wait "$ADDR" "$PORT" || bail "$name: afpsim does not listen on $ADDR:$PORT: $(cat "$tmp/$name.out" "$tmp/$name.log")"
}
stop_server() {
    [ -n "$server" ] || return 0
    kill "$server" 2>/dev/null
    wait "$server" 2>/dev/null
    server=
}

# Personality number i, mount kind k (0 guest, 1 user) and attempt a (0..)
# have an address of their own, 127.0.0.100 to 127.0.0.179, so that a retry
# never meets what gvfsd-fuse and the kernel still keep of a dead mount.
addr_of() { echo "127.0.0.$((100 + 8 * $1 + 4 * $2 + $3))"; }
[ "$MAX_ATTEMPTS" -le 4 ] || bail "MAX_ATTEMPTS > 4 overlaps the addresses"

i=0
for f in "$SFS_SRC"/contrib/afpsim/personalities/*.conf; do
    name=$(basename "$f" .conf)
    [ "$name" = hostile ] && continue
    [ "$i" -lt 10 ] || bail "more than 10 personalities: widen addr_of"
    uams=$(sed -n 's/^uams *= *//p' "$f")
    versions=$(sed -n 's/^afp_versions *= *//p' "$f")
    ver=$(gvfs_version "$versions")
    t0=$SECONDS

    if [ -z "$ver" ]; then
        skip_mount "$name" guest Public "AFP version 3.0 or later" "gvfs needs AFP 3.x; $name offers only $versions"
        i=$((i + 1))
        continue
    fi
    if offers "$uams" "No User Authent"; then
        check_mount "$name" guest Public "No User Authent" "$ver"
    else
        # gvfs then asks for a user name instead of offering an anonymous login.
        skip_mount "$name" guest Public "Enter user and password" \
            "$name offers no guest login (no No User Authent), nor does the real server with this UAM list"
    fi
    if offers "$uams" DHX2; then
        check_mount "$name" user Private DHX2 "$ver"
    elif offers "$uams" DHCAST128; then
        check_mount "$name" user Private DHCAST128 "$ver"
    else
        skip_mount "$name" user Private "No suitable authentication mechanism" \
            "gvfs implements DHX2 and DHCAST128 only; $name offers ${uams%;}"
    fi
    diag "$name: $((SECONDS - t0)) s"
    i=$((i + 1))
done
diag "total: $SECONDS s"
done_testing
