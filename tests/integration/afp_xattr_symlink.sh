#!/bin/bash
# Symbolic links and extended attributes over AFP, through a real sharesfs
# mount of two afpsim servers this test starts (AFP 3.3 with the Lion
# personality and AFP 3.4 with netatalk 4's: a missing attribute is
# kFPMiscErr before 3.4, kFPItemNotFound from it): links made through the
# mount are real links on the server's disk and the other way round;
# "user.*" attributes map to the server's and back; other namespaces, SMB
# and read-only entries give the documented errors.  Also checks that a
# large write is pipelined and arrives intact, and that a short FPWriteExt
# among those in flight (a third afpsim, hostile "short-write") is returned
# by close() as EIO, the write having gone behind.
. "$(dirname "$0")/lib.sh"
lab_join
AFPSIM=${SHARESFS_AFPSIM:-$(cd "$(dirname "$SHARESFS")/../.." && pwd)/contrib/afpsim/afpsim}
[ -x "$AFPSIM" ] || bail "afpsim not built at $AFPSIM"
KEYS=(SimLion SimNetatalk)
declare -A ADDR=([SimLion]=127.0.0.71 [SimNetatalk]=127.0.0.72 [SimShort]=127.0.0.73)
declare -A PERSONA=([SimLion]=macos-10.7-lion [SimNetatalk]=netatalk-4 [SimShort]=netatalk-4)
declare -A EXTRA=([SimShort]="--hostile short-write --set hostile.count=1")

tmp=$(mktemp -d)
mnt=$tmp/mnt
mkdir "$mnt"
servers=()
pid=
cleanup() {
    fusermount3 -u "$mnt" 2>/dev/null
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    for s in "${servers[@]}"; do kill "$s" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT

printf 'labuser:H2-xattr-pw\n' >"$tmp/users"
printf 'username=labuser\npassword=H2-xattr-pw\n' >"$tmp/cred"
chmod 600 "$tmp/users" "$tmp/cred"
: >"$tmp/map"
for key in "${KEYS[@]}" SimShort; do
    vol=$tmp/vol-$key
    mkdir -p "$vol"
    addr=${ADDR[$key]}
    if (exec 3<>"/dev/tcp/$addr/548") 2>/dev/null; then
        bail "$addr:548 is already in use: cannot start afpsim for $key"
    fi
    "$AFPSIM" --listen "$addr:548" --foreground --personality "$SFS_SRC/contrib/afpsim/personalities/${PERSONA[$key]}.conf" \
        --users "$tmp/users" --volume "Private=$vol:valid=labuser" ${EXTRA[$key]:-} >"$tmp/afpsim-$key.log" 2>&1 &
    servers+=($!)
    for _ in $(seq 200); do (exec 3<>"/dev/tcp/$addr/548") 2>/dev/null && break; sleep 0.01; done
    (exec 3<>"/dev/tcp/$addr/548") 2>/dev/null || bail "afpsim for $key did not start: $(cat "$tmp/afpsim-$key.log")"
    printf '%s\t-fstype=url,credentials=%s\tafp://labuser;AUTH=DHX2@%s/Private\n' "$key" "$tmp/cred" "$addr" >>"$tmp/map"
done
printf 'SimRo\t-fstype=url,ro,credentials=%s\tafp://labuser;AUTH=DHX2@%s/Private\n' "$tmp/cred" "${ADDR[SimLion]}" >>"$tmp/map"
printf 'Smb\t-fstype=url,credentials=%s\tsmb://fs-default.lab.test/user\n' \
    "$SHARESFS_LAB_DIR/creds/labuser.cred" >>"$tmp/map"

"$SHARESFS" -f -t 10 "$tmp/map" "$mnt" >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.05; done
mountpoint -q "$mnt" || bail "sharesfs did not mount: $(cat "$tmp/log")"

state_of() { jq -r --arg k "$1" '.mounts[] | select(.key == $k) | .state' "$mnt/.sharesfs/status.json"; }
# errno_of PERLCODE: the strerror text of a failed call ($! in perl).
errno_of() { perl -e "$1" 2>&1; }
# xattr_errno PY: the errno name a python os.* call raised, or "ok".
xattr_errno() {
    python3 -c "import os, errno, sys
try:
    $1
    print('ok')
except OSError as e:
    print(errno.errorcode[e.errno])" 2>&1
}

# A listing of a key never logs in (ls -l asks every key for its xattrs).
getfattr -d -m - "$mnt/SimLion" >/dev/null 2>&1
is "$(state_of SimLion)" idle "listxattr of an unmounted key does not log in"

for key in "${KEYS[@]}"; do
    d=$mnt/$key/t
    vol=$tmp/vol-$key
    mkdir "$d" || bail "$key: mkdir failed: $(tail -3 "$tmp/log")"
    echo hello >"$d/f"

    # Symbolic links, both directions.
    ln -s f "$d/lnk"
    is "$(readlink "$d/lnk")" f "$key: ln -s, readlink reads the target"
    is "$(stat -c '%F %s' "$d/lnk")" "symbolic link 1" "$key: the link stats as a link of the target's length"
    is "$(cat "$d/lnk")" hello "$key: reading through the link reaches the target"
    is "$(stat -c %F "$vol/t/lnk")|$(readlink "$vol/t/lnk")" "symbolic link|f" \
        "$key: on the server's disk it is a real symlink to the same target"
    ln -s /no/such/place "$d/dangling"
    is "$(readlink "$d/dangling")" /no/such/place "$key: an absolute, dangling target"
    ln -s ../t/f "$vol/t/made-on-server"
    is "$(readlink "$d/made-on-server")|$(stat -c %F "$d/made-on-server")" "../t/f|symbolic link" \
        "$key: a link made on the server's disk reads back through the mount"
    like "$(ln -s f "$d/f" 2>&1)" "File exists" "$key: ln -s over an existing name: EEXIST"
    rm "$d/lnk"
    is "$(ls "$d" | tr '\n' ' ')$(cat "$d/f")" "dangling f made-on-server hello" "$key: rm removes the link, not its target"

    # Extended attributes: user.NAME is the server's NAME (afpsim keeps it
    # as user.NAME on its backing file).
    setfattr -n user.color -v blue "$d/f"
    is "$(getfattr --absolute-names --only-values -n user.color "$d/f" 2>&1)" blue "$key: setfattr, getfattr round trip"
    is "$(getfattr --absolute-names --only-values -n user.color "$vol/t/f" 2>&1)" blue "$key: the attribute is on the server's file"
    setfattr -n user.from.server -v yes "$vol/t/f"
    is "$(getfattr -d --absolute-names "$d/f" 2>&1 | grep '^user' | sort | tr '\n' ' ')" \
        'user.color="blue" user.from.server="yes" ' "$key: listxattr shows the server's attributes"
    like "$(getfattr -n user.nope "$d/f" 2>&1)" "No such attribute" "$key: a missing attribute: ENODATA"
    is "$(xattr_errno "os.setxattr('$d/f', 'user.color', b'x', os.XATTR_CREATE)")" EEXIST \
        "$key: XATTR_CREATE on an existing attribute: EEXIST"
    is "$(xattr_errno "os.setxattr('$d/f', 'user.none', b'x', os.XATTR_REPLACE)")" ENODATA \
        "$key: XATTR_REPLACE of a missing attribute: ENODATA"
    is "$(xattr_errno "import ctypes; c = ctypes.CDLL(None, use_errno=True); b = ctypes.create_string_buffer(2)
    if c.getxattr(b'$d/f', b'user.color', b, 2) < 0: raise OSError(ctypes.get_errno(), '')")" ERANGE \
        "$key: a value longer than the buffer: ERANGE"
    # netatalk keeps at most 3802 bytes; ext4 one block for all of a file's.
    head -c 3000 /dev/urandom >"$tmp/big.attr"
    python3 -c "import os; os.setxattr('$d/f', 'user.big', open('$tmp/big.attr', 'rb').read())"
    if python3 -c "import os, sys; sys.exit(os.getxattr('$d/f', 'user.big') != open('$tmp/big.attr', 'rb').read())"; then
        pass "$key: a 3000-byte binary value round-trips"
    else
        fail "$key: a 3000-byte binary value round-trips"
    fi
    setfattr -x user.color "$d/f"
    is "$(getfattr --absolute-names -n user.color "$vol/t/f" 2>&1 | grep -c 'user.color=')" 0 "$key: setfattr -x removes it on the server"
    like "$(setfattr -x user.color "$d/f" 2>&1)" "No such attribute" "$key: removing it again: ENODATA"
    like "$(setfattr -n trusted.x -v 1 "$d/f" 2>&1)" "Operation not supported" "$key: other namespaces: ENOTSUP"
    setfattr -n user.dir -v d1 "$d"
    is "$(getfattr --absolute-names --only-values -n user.dir "$d" 2>&1)" d1 "$key: attributes on a directory"
    setfattr -n user.on.root -v r "$vol"
    is "$(getfattr -d --absolute-names -m - "$mnt/$key" 2>&1 | grep -o '^user\.[a-z.]*' | sort | tr '\n' ' ')" \
        "user.on.root user.sharesfs.status " "$key: a mounted key lists its status and the share root's attributes"
    like "$(setfattr -n user.sharesfs.status -v x "$mnt/$key" 2>&1)" "Operation not permitted" \
        "$key: user.sharesfs.status cannot be set"

    # Writes are pipelined (325 KB: two FPWriteExt in flight) and arrive intact.
    head -c 5000000 /dev/urandom >"$tmp/w.bin"
    dd if="$tmp/w.bin" of="$d/w.bin" bs=333333 status=none
    if cmp -s "$tmp/w.bin" "$vol/t/w.bin"; then pass "$key: 5 MB in odd-sized writes arrive intact"; \
        else fail "$key: 5 MB in odd-sized writes arrive intact"; fi
    inflight=$(jq -r --arg k "$key" '.mounts[] | select(.key == $k) | .counters.max_in_flight' "$mnt/.sharesfs/status.json")
    [ "${inflight:-0}" -ge 2 ] && pass "$key: a write keeps more than one request in flight ($inflight)" \
        || fail "$key: a write keeps more than one request in flight (max_in_flight $inflight)"
    rm -r "$d"
    [ ! -e "$vol/t" ] && pass "$key: rm -r of the test tree" || fail "$key: rm -r of the test tree"
done

# The first FPWriteExt to arrive of a 1 MiB write is cut in half.  Writes
# go behind (docs/architecture.md "Writes"): write() took the whole call
# before the server answered, so the short write is the file's error,
# returned by close() and named in the status, never lost.
out=$(python3 -c "
import os
fd = os.open('$mnt/SimShort/short.bin', os.O_WRONLY | os.O_CREAT, 0o644)
print('wrote', os.pwrite(fd, open('$tmp/w.bin', 'rb').read(1048576), 0))
try:
    os.close(fd)
    print('close ok')
except OSError as e:
    print('close', e.strerror)" 2>&1)
like "$out" '^wrote 1048576' "a write with a short FPWriteExt among those in flight is taken whole by write() ($(head -1 <<<"$out"))"
like "$out" 'close Input/output error' "close() returns the short write as EIO ($(tail -1 <<<"$out"))"
like "$(jq -r '.mounts[] | select(.key == "SimShort") | .last_error.detail // .detail // empty' "$mnt/.sharesfs/status.json" 2>/dev/null; cat "$tmp/log")" \
    'took [0-9]+ of [0-9]+ bytes of a write already acknowledged' "the status or log names the short write"
size=$(stat -c %s "$tmp/vol-SimShort/short.bin" 2>/dev/null || echo 0)
if [ "$size" -gt 0 ] && cmp -s -n 4096 "$tmp/w.bin" "$tmp/vol-SimShort/short.bin"; then
    pass "what the server took is on its disk ($size bytes, start intact)"
else
    fail "what the server took is on its disk (size $size)"
fi

is "$(state_of SimRo)" idle "SimRo not used yet"
like "$(setfattr -n user.x -v 1 "$mnt/SimRo" 2>&1)" "Read-only file system" "an ro entry refuses setfattr: EROFS"
like "$(ln -s x "$mnt/SimRo/l" 2>&1)" "Read-only file system" "an ro entry refuses ln -s: EROFS"

s=$mnt/Smb/xattr-$$
mkdir -p "$s" && echo x >"$s/f"
like "$(ln -s f "$s/l" 2>&1)" "Operation not permitted" "SMB: ln -s: EPERM"
like "$(setfattr -n user.x -v 1 "$s/f" 2>&1)" "Operation not supported" "SMB: setfattr: ENOTSUP"
is "$(getfattr -d "$s/f" 2>&1)" "" "SMB: no attributes listed"
rm -rf "$s"

fusermount3 -u "$mnt"
wait "$pid"
is "$?" 0 "sharesfs exits cleanly"
pid=
done_testing
