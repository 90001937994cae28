#!/bin/bash
# Write-behind (docs/architecture.md "Writes"): a write() returns once its
# data is on its way to the server, and a failure the server reports later
# is returned by a later write(), by fsync() or by close(), never lost.
# Over SMB (smbd, through the key's worker) and AFP (afpsim, lion):
#   - a share on a 4 MiB tmpfs, 16 MiB written: some call fails with
#     ENOSPC, with close() and with fsync() as the last call; the server's
#     file never holds more than the disk; 5 MiB: the last MiB fails after
#     its write() returned, and close() says so;
#   - 2 MiB on the same full-able share: every call succeeds and the file
#     on the server's disk is the data written;
#   - a handle open for reading and writing reads back what it wrote
#     before close (the writes in flight are answered first);
#   - the server killed in the middle of a 1 GiB write, and (SMB) the key's
#     worker killed: the writer gets an error, from write() or close().
# The servers are this test's own (own_servers.sh), never the lab's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/own_servers.sh"
own_need fusermount3 mountpoint python3 cmp stat

tmpfs_made=()
own_pre_cleanup() {
    [ -n "${writer:-}" ] && kill "$writer" 2>/dev/null
    own_sharesfs_stop "$1"
    local d
    for d in "${tmpfs_made[@]}"; do umount "$d" 2>/dev/null; done
    return 0
}

# A small disk under a server's share: writes beyond 4 MiB fail there.
small_disk() {
    mount -t tmpfs -o size=4m,mode=0755 sharesfs-wb "$1" || bail "cannot mount a tmpfs on $1"
    tmpfs_made+=("$1")
    chown "$OWN_UID:$OWN_UID" "$1"
}

own_init
own_smbd smb
own_smbd smbfull
own_afpsim afp macos-10.7-lion
own_afpsim afpfull macos-10.7-lion
small_disk "$OWN_DIR/smbfull/share"
small_disk "$OWN_DIR/afpfull/Private"
for s in smb smbfull afp afpfull; do own_wait "$s"; done

mnt=$OWN_DIR/mnt
mkdir "$mnt"
cat >"$OWN_DIR/map" <<MAP
Smb	-fstype=url,credentials=$OWN_CRED	smb://${OWN_IP[smb]}/user
SmbFull	-fstype=url,credentials=$OWN_CRED	smb://${OWN_IP[smbfull]}/user
Afp	-fstype=url,credentials=$OWN_CRED	afp://$OWN_USER;AUTH=DHX2@${OWN_IP[afp]}/Private
AfpFull	-fstype=url,credentials=$OWN_CRED	afp://$OWN_USER;AUTH=DHX2@${OWN_IP[afpfull]}/Private
MAP
own_sharesfs "$mnt" -t 5 "$OWN_DIR/map"

# writer.py PATH MIB LAST [SEED]: writes MIB MiB in 1 MiB write() calls
# (the data: SEED's bytes, so the test can compare), then fsync() when LAST
# is fsync, then close().  Prints "BYTES_ACKED CALL ERRNO": the first call
# that failed (none) and its errno name.
cat >"$OWN_DIR/writer.py" <<'PY'
import errno, os, random, sys
path, mib, last = sys.argv[1], int(sys.argv[2]), sys.argv[3]
block = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 1).randbytes(1 << 20)
acked, where, err = 0, "none", 0
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
for _ in range(mib):
    try:
        acked += os.write(fd, block)
    except OSError as e:
        where, err = "write", e.errno
        break
if where == "none" and last == "fsync":
    try:
        os.fsync(fd)
    except OSError as e:
        where, err = "fsync", e.errno
try:
    os.close(fd)
except OSError as e:
    if where == "none":
        where, err = "close", e.errno
print(acked, where, errno.errorcode.get(err, "0") if err else "0", flush=True)
PY
# readback.py PATH: writes 3 MiB on an O_RDWR handle, reads the middle MiB
# back before closing; prints "same" or "differs".
cat >"$OWN_DIR/readback.py" <<'PY'
import os, sys
data = os.urandom(3 << 20)
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
for i in range(3):
    os.write(fd, data[i << 20:(i + 1) << 20])
back = os.pread(fd, 1 << 20, 1 << 20)
os.close(fd)
print("same" if back == data[1 << 20:2 << 20] else "differs")
PY

declare -A DISK=([SmbFull]=$OWN_DIR/smbfull/share [AfpFull]=$OWN_DIR/afpfull/Private
                 [Smb]=$OWN_DIR/smb/share [Afp]=$OWN_DIR/afp/Private)
for key in SmbFull AfpFull; do
    for last in close fsync; do
        set -- $(timeout 120 python3 "$OWN_DIR/writer.py" "$mnt/$key/full-$last.bin" 16 "$last")
        if [ "${2:-none}" != none ]; then
            pass "$key: 16 MiB on a 4 MiB disk, ending with $last: $2() fails ($3, after $1 bytes acknowledged)"
        else
            fail "$key: 16 MiB on a 4 MiB disk, ending with $last: every call succeeded (${1:-no output}): a failure was lost"
        fi
        is "${3:-}" ENOSPC "$key: ... the error is ENOSPC"
        size=$(stat -c %s "${DISK[$key]}/full-$last.bin" 2>/dev/null || echo 0)
        [ "$size" -le $((4 << 20)) ] && pass "$key: ... the server's file holds $size bytes, no more than its disk" ||
            fail "$key: ... the server's file holds $size bytes"
        rm -f "$mnt/$key/full-$last.bin"
    done
    # The fifth MiB fails on the server after its write() returned (up to
    # 4 MiB are in flight): only close() can tell.
    set -- $(timeout 120 python3 "$OWN_DIR/writer.py" "$mnt/$key/five.bin" 5 close)
    is "${2:-}/${3:-}" close/ENOSPC "$key: 5 MiB on a 4 MiB disk: the last write's failure is returned by close()"
    rm -f "$mnt/$key/five.bin"
    set -- $(timeout 120 python3 "$OWN_DIR/writer.py" "$mnt/$key/fits.bin" 2 close 7)
    is "${2:-}/${1:-}" "none/$((2 << 20))" "$key: 2 MiB on the same disk: every call succeeds"
    python3 -c 'import random,sys; sys.stdout.buffer.write(random.Random(7).randbytes(1 << 20) * 2)' >"$OWN_DIR/fits.ref"
    cmp -s "$OWN_DIR/fits.ref" "${DISK[$key]}/fits.bin" && pass "$key: ... the server's file is the data written" ||
        fail "$key: ... the server's file differs from the data written"
done

for key in Smb Afp; do
    is "$(timeout 60 python3 "$OWN_DIR/readback.py" "$mnt/$key/rw.bin")" same \
        "$key: a handle reads back its own writes before close"
done

# The server (or the worker) dies while a 1 GiB write is under way.
die_mid_write() {   # KEY WHAT KILL-COMMAND...
    local key=$1 what=$2 out=$OWN_DIR/die-$1-$2.out
    shift 2
    rm -f "$mnt/$key/big.bin"
    [ -e "${DISK[$key]}/big.bin" ] && bail "$key: big.bin of the previous case is still there"
    timeout 180 python3 "$OWN_DIR/writer.py" "$mnt/$key/big.bin" 1024 close >"$out" 2>&1 &
    writer=$!
    for _ in $(seq 1000); do
        [ "$(stat -c %s "${DISK[$key]}/big.bin" 2>/dev/null || echo 0)" -ge $((8 << 20)) ] && break
        sleep 0.01
    done
    "$@"
    wait "$writer"
    writer=
    set -- $(cat "$out")
    if [ "${2:-none}" != none ] && [ "${1:-0}" -lt $((1024 << 20)) ]; then
        pass "$key: $what in the middle of a 1 GiB write: $2() fails ($3, after $1 bytes acknowledged)"
    else
        fail "$key: $what in the middle of a 1 GiB write: no call failed ($(cat "$out"))"
    fi
}
die_mid_write Smb "the SMB worker killed" pkill -KILL -f -- "--worker $mnt/Smb\$"
die_mid_write Smb "the server killed" own_kill smb
die_mid_write Afp "the server killed" own_kill afp
kill -0 "$OWN_SHARESFS_PID" 2>/dev/null && pass "sharesfs still runs" || fail "sharesfs died"

done_testing
