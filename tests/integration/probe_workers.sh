#!/bin/bash
# afptest's worker processes (probes/probe_workers.c), each probing entry
# after entry:
#  - a worker killed in the middle of an entry costs that entry's row only
#    (it names the signal) and the entries after it are probed by a new
#    worker (-j 1: one worker at a time; the killed entry talks to an afpsim
#    on 127.0.0.234 that never answers a read, so it is still running when
#    the worker is killed);
#  - entries whose SMB client configs differ never share a worker:
#    libsmbclient keeps the smb.conf it loaded for the whole process, so an
#    entry after one whose config disables NTLMv2 would fail its login too;
#  - a worker parses an entry's smb.conf only when it is not the one it
#    loaded last or has changed on disk (smb_lib_configure): the config is
#    rewritten while an entry of the same worker waits for a server that
#    never answers, and the next entry logs in with the new one;
#  - AFP entries keep no client config and fit any worker: three SMB
#    entries then three AFP entries at -j 2 are probed by two workers (the
#    SMB workers go on with the AFP entries; `afptest -v` counts them).
. "$(dirname "$0")/lib.sh"
lab_join
need_afpsim
command -v jq >/dev/null || bail "jq not installed"
ADDR=127.0.0.234
PORT=10548

tmp=$(mktemp -d /tmp/probe_workers.XXXXXX)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT
command -v python3 >/dev/null || bail "python3 not installed"
creds=$SHARESFS_LAB_DIR/creds
row() { jq -r --arg k "$2" '.entries[] | select(.key == $k) | "\(.stage) \(.result)"' "$1"; }

# 1. A worker killed mid-entry.
mkdir -p "$tmp/Public"
head -c 300000 "$SHARESFS_LAB_DIR/cache/big.bin" >"$tmp/Public/big.bin"
printf 'labuser:Lab-Passw0rd\n' >"$tmp/users"
chmod 600 "$tmp/users"
"$AFPSIM" --listen "$ADDR:$PORT" --foreground --personality "$SFS_SRC/contrib/afpsim/personalities/hostile.conf" \
    --users "$tmp/users" --volume "Public=$tmp/Public" --hostile no-reply --set hostile.after_bytes=1000 \
    >"$tmp/afpsim.log" 2>&1 &
server=$!
tcp_wait "$ADDR" "$PORT" || bail "afpsim did not listen on $ADDR:$PORT: $(cat "$tmp/afpsim.log")"
{
    printf 'Stalls\t-fstype=url,credentials=%s\tafp://labuser;AUTH=DHX2@%s:%d/Public\n' "$creds/labuser.cred" "$ADDR" "$PORT"
    for i in 1 2 3; do printf 'Guest%d\t-fstype=url,guest\tsmb://fs-default.lab.test/public\n' "$i"; done
} >"$tmp/kill.map"
# Every stage has 20 s: the stalled read is still waiting when killed.
"$AFPTEST" probe --json -j 1 -t 20 -r /w "$tmp/kill.map" >"$tmp/kill.json" 2>"$tmp/kill.err" &
afptest=$!
# The worker is the child of afptest connected to afpsim (not any child:
# the SMB preinit's robust-mutex test forks one that exits at once).
worker=
for _ in $(seq 400); do
    for pid in $(ss -tnpH state established "dst $ADDR:$PORT" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
        [ "$(ps -o ppid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$afptest" ] && worker=$pid
    done
    [ -n "$worker" ] && break
    sleep 0.05
done
[ -n "$worker" ] || bail "no worker of afptest connected to afpsim: $(cat "$tmp/kill.err")"
kill -9 "$worker" || bail "worker $worker was gone before it could be killed"
wait "$afptest"
is "$?" 1 "a killed worker: afptest exits 1 (one entry failed)"
is "$(jq -r '.summary.total' "$tmp/kill.json")" 4 "a killed worker: 4 rows"
is "$(row "$tmp/kill.json" Stalls)" "connect EIO" "the entry whose worker was killed: its own failure row"
like "$(jq -r '.entries[] | select(.key == "Stalls") | .detail' "$tmp/kill.json")" "died of signal 9" \
    "its detail names the signal"
for i in 1 2 3; do
    is "$(row "$tmp/kill.json" "Guest$i")" "read ok" "Guest$i after the killed worker: probed by a new one, ok"
done
kill "$server" 2>/dev/null
wait "$server" 2>/dev/null
server=

# 2. Different SMB client configs, alternating, at -j 1.
cp "$SHARESFS_SMB_CONF" "$tmp/ntlmv1.conf"
printf '[global]\n   client ntlmv2 auth = no\n' >>"$tmp/ntlmv1.conf"
printf '[entry V1a]\nsmb_conf = %s\n[entry V1b]\nsmb_conf = %s\n' "$tmp/ntlmv1.conf" "$tmp/ntlmv1.conf" >"$tmp/cfg"
for k in V1a D1 V1b D2; do
    printf '%s\t-fstype=url,credentials=%s\tsmb://fs-default.lab.test/data\n' "$k" "$creds/labuser.cred"
done >"$tmp/conf.map"
"$AFPTEST" probe --json -j 1 --config "$tmp/cfg" -r /w "$tmp/conf.map" >"$tmp/conf.json" 2>"$tmp/conf.err"
is "$?" 1 "alternating client configs: afptest exits 1"
is "$(row "$tmp/conf.json" V1a)" "authenticate EACCES" "V1a (NTLMv2 off; the server wants it): login refused"
is "$(row "$tmp/conf.json" D1)" "read ok" "D1 (the lab's config) after V1a: ok"
is "$(row "$tmp/conf.json" V1b)" "authenticate EACCES" "V1b (NTLMv2 off) after D1: login refused"
is "$(row "$tmp/conf.json" D2)" "read ok" "D2 after V1b: ok"

# 3. One config, rewritten between two entries of one worker (-j 1): Old
# loads it (NTLMv2 off: refused), Stall waits for a listener that never
# accepts (its connection is queued), meanwhile the file gets NTLMv2 back,
# and New must log in (a worker that kept the file by name alone would
# refuse it too).
STALL=127.0.0.235:10445
python3 -c 'import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.235", 10445)); s.listen(4); print("listening", flush=True); time.sleep(120)' >"$tmp/stall.out" 2>&1 &
server=$!
# Not tcp_wait: its connection would stay queued on a listener that never accepts.
for _ in $(seq 100); do grep -q listening "$tmp/stall.out" && break; sleep 0.05; done
grep -q listening "$tmp/stall.out" || bail "the stalling listener did not start: $(cat "$tmp/stall.out")"
cp "$tmp/ntlmv1.conf" "$tmp/switch.conf"
printf '[entry Old]\nsmb_conf = %s\n[entry Stall]\nsmb_conf = %s\n[entry New]\nsmb_conf = %s\n' \
    "$tmp/switch.conf" "$tmp/switch.conf" "$tmp/switch.conf" >"$tmp/cfg2"
{
    printf 'Old\t-fstype=url,credentials=%s\tsmb://fs-default.lab.test/data\n' "$creds/labuser.cred"
    printf 'Stall\t-fstype=url,guest\tsmb://%s/x\n' "$STALL"
    printf 'New\t-fstype=url,credentials=%s\tsmb://fs-default.lab.test/data\n' "$creds/labuser.cred"
} >"$tmp/switch.map"
"$AFPTEST" probe --json -j 1 -t 3 --config "$tmp/cfg2" -r /w "$tmp/switch.map" >"$tmp/switch.json" 2>"$tmp/switch.err" &
afptest=$!
queued=
for _ in $(seq 200); do
    # Recv-Q of a listener: connections waiting for accept.
    queued=$(ss -ltnH "src $STALL" | awk '$2 > 0 {print $2}')
    [ -n "$queued" ] && break
    sleep 0.05
done
[ -n "$queued" ] || bail "Stall never reached its listener: $(cat "$tmp/switch.err")"
# Said outright: libsmbclient's reload keeps what a file no longer sets.
{ cat "$SHARESFS_SMB_CONF"; printf '[global]\n   client ntlmv2 auth = yes\n'; } >"$tmp/switch.conf.new"
mv "$tmp/switch.conf.new" "$tmp/switch.conf"
wait "$afptest"
is "$(row "$tmp/switch.json" Old)" "authenticate EACCES" "Old (NTLMv2 off): login refused"
is "$(row "$tmp/switch.json" Stall)" "negotiate ETIMEDOUT" "Stall: its server never answers"
is "$(row "$tmp/switch.json" New)" "read ok" "New, same worker, after the config got NTLMv2 back: it is read again, ok"
is "$(jq -r '[.entries[] | select(.key == "New")] | length' "$tmp/switch.json")" 1 "New has one row"
kill "$server" 2>/dev/null
wait "$server" 2>/dev/null
server=

# 4. SMB entries, then AFP entries: no worker replaced when the SMB entries
# run out.
{
    for i in 1 2 3; do printf 'S%d\t-fstype=url,guest\tsmb://fs-default.lab.test/public\n' "$i"; done
    for i in 1 2 3; do printf 'A%d\t-fstype=url\tafp://;AUTH=No%%20User%%20Authent@lion.lab.test/Public\n' "$i"; done
} >"$tmp/mixed.map"
"$AFPTEST" probe --json -v -j 2 -r /w "$tmp/mixed.map" >"$tmp/mixed.json" 2>"$tmp/mixed.err"
is "$?" 0 "SMB then AFP entries: afptest exits 0"
is "$(jq -r '.summary.ok' "$tmp/mixed.json")" 6 "SMB then AFP entries: 6 rows ok"
is "$(grep '^afptest: .* worker processes' "$tmp/mixed.err")" "afptest: 6 entries probed by 2 worker processes (-j 2)" \
    "SMB then AFP entries at -j 2: two workers, none replaced"
done_testing
