#!/bin/bash
# The AFP client against afpsim's hostile modes (a server on 127.0.0.231
# started by this test): every misbehaviour ends in a clean error at the
# right stage, within the stage timeout; never a crash or a hang.  Through
# FUSE, a server that stalls mid-read fails the read and still unmounts.
. "$(dirname "$0")/lib.sh"
lab_join
need_afpsim
ADDR=127.0.0.231
PORT=10548

cases=(
    # mode            stage          result
    "truncate         negotiate      ECONNRESET"
    "badlength        negotiate      ECONNRESET"
    "badoffset        negotiate      EPROTO"
    "garbage-status   negotiate      EPROTO"
    "bad-flags        negotiate      EPROTO"
    "bad-dh           authenticate   EPROTO"
    "wrong-rid        authenticate   ETIMEDOUT"
    "badcount         list           EPROTO"
    "endless          read           EPROTO"
    "oversize-read    read           EPROTO"
    "close            read           ECONNRESET"
    "no-reply         read           ETIMEDOUT"
    "stall-read       read           ETIMEDOUT"
)
plan $(( ${#cases[@]} * 3 + 5 ))

tmp=$(mktemp -d)
vol=$tmp/Public
mkdir -p "$vol" "$tmp/mnt"
head -c 3000000 "$SHARESFS_LAB_DIR/cache/big.bin" >"$vol/big.bin"
printf 'hello\n' >"$vol/hello.txt"
printf 'labuser:Lab-Passw0rd\n' >"$tmp/users"
chmod 600 "$tmp/users"
server=
stop_server() { [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null; server=; }
trap 'fusermount3 -u "$tmp/mnt" 2>/dev/null; stop_server; rm -rf "$tmp"' EXIT

start_server() {
    "$AFPSIM" --listen "$ADDR:$PORT" --foreground --personality "$SFS_SRC/contrib/afpsim/personalities/hostile.conf" \
        --users "$tmp/users" --volume "Public=$vol" --hostile "$1" --set hostile.after_bytes=1000 \
        >"$tmp/afpsim-$1.log" 2>&1 &
    server=$!
    tcp_wait "$ADDR" "$PORT" || bail "afpsim ($1) did not listen on $ADDR:$PORT: $(cat "$tmp/afpsim-$1.log")"
}

printf 'H\t-fstype=url,credentials=%s\tafp://labuser;AUTH=DHX2@%s:%d/Public\n' \
    "$SHARESFS_LAB_DIR/creds/labuser.cred" "$ADDR" "$PORT" >"$tmp/map"
for c in "${cases[@]}"; do
    read -r mode stage result <<<"$c"
    start_server "$mode"
    # The probe reads 64 KiB of big.bin; every stage has a 2 s timeout.
    out=$(timeout 60 "$AFPTEST" probe --json -t 2 --read big.bin "$tmp/map" 2>&1)
    rc=$?
    stop_server
    if [ "$rc" -eq 1 ]; then pass "$mode: afptest finished, entry failed"; else fail "$mode: afptest finished, entry failed (rc $rc)"; fi
    is "$(jq -r '.entries[0].stage' <<<"$out" 2>/dev/null)" "$stage" "$mode: stage"
    is "$(jq -r '.entries[0].result' <<<"$out" 2>/dev/null)" "$result" "$mode: result"
done

# Through FUSE: the server stops sending after 1000 bytes of a read.
start_server stall-read
"$SHARESFS" -f -t 2 "$tmp/map" "$tmp/mnt" >"$tmp/sharesfs.log" 2>&1 &
pid=$!
for _ in $(seq 100); do mountpoint -q "$tmp/mnt" && break; sleep 0.05; done
mountpoint -q "$tmp/mnt" || bail "sharesfs did not mount: $(cat "$tmp/sharesfs.log")"
like "$(ls "$tmp/mnt/H" 2>&1)" big.bin "the hostile volume lists"
err=$(timeout 60 cat "$tmp/mnt/H/big.bin" 2>&1 >/dev/null)
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then pass "a stalled read fails (no hang)"; else fail "a stalled read fails (no hang): rc $rc"; fi
# The read that met the stall gets ETIMEDOUT; reads the kernel retries on
# the dead handle get EIO.  Either way status.json keeps the cause.
like "$err" "timed out|Input/output error" "the read returns ETIMEDOUT or EIO"
is "$(jq -r '.mounts[0].last_error | "\(.stage) \(.errno_name)"' "$tmp/mnt/.sharesfs/status.json")" "read ETIMEDOUT" \
    "status.json names the read stage and ETIMEDOUT"
fusermount3 -u "$tmp/mnt"
wait "$pid"
is "$?" 0 "sharesfs unmounts and exits cleanly after the stall"
done_testing
