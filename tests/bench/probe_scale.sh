#!/bin/bash
# afptest's cost per probed entry and how its wall time scales with -j
# (issue 16), printed, never asserted (tests do not time things):
#   1. client CPU per entry (user + sys of afptest and its children, ms):
#      N lab entries (default 100: the lab's entries that mount, from
#      contrib/maps/auto_shares, round robin: SMB guest and password, SMB1,
#      AFP guest, DHX2, DHCAST128, the real Samba and netatalk servers),
#      and N entries on one loopback smbd;
#   2. wall time of the N lab entries and of the N loopback entries at
#      -j 1, 4, 16, 64;
#   3. BIG entries (default 1000) on the loopback smbd: `afptest -j 16`
#      against `xargs -P 16 smbclient -c ls` over the same entries
#      (ratio = xargs time / afptest time; the issue asks for >= 5), with
#      the client and server CPU of each; and afptest -j 16
#      --share-sessions, where entries of one location share a login per
#      worker (its row in section 1 too).
# The loopback smbd is this script's own (as in smb_loopback.sh: Debian
# 12's Samba, config, state and pid file in a mktemp directory, bound to
# 127.0.0.9:445 only, which must be free; one guest share `probe` with a
# few files; stopped on exit).  Its CPU (the listener's and its
# per-connection children's, which it reaps) is the server side.
# AFPTEST (default build/probes/afptest) is copied first, so a rebuild
# meanwhile does not change it; AFPTEST_BEFORE=path adds the same rows
# for another build (e.g. the previous commit's) beside it.  This machine
# varies by 20-30 % from minute to minute: compare rows of one run.
#   N=100 BIG=1000 bash tests/bench/probe_scale.sh
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${N:-100}
BIG=${BIG:-1000}
JOBS=${JOBS:-"1 4 16 64"}
AFPTEST=${AFPTEST:-$ROOT/build/probes/afptest}
AFPTEST_BEFORE=${AFPTEST_BEFORE:-}
ADDR=127.0.0.9
SHARE=probe
[ "$(id -u)" -eq 0 ] || { echo "needs root (port 445, the lab's namespaces)" >&2; exit 2; }
[ -x "$AFPTEST" ] || { echo "$AFPTEST missing: ninja -C build" >&2; exit 2; }
for c in smbd smbclient xargs ss; do
    command -v "$c" >/dev/null || { echo "$c missing (apt-get install samba smbclient iproute2)" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "/usr/bin/time missing (apt-get install time)" >&2; exit 2; }
eval "$("$ROOT/contrib/lab/lab.sh" env)"
[ -f "${SHARESFS_LAB_DIR:-/nonexistent}/env" ] || { echo "lab not running (contrib/lab/lab.sh start)" >&2; exit 2; }
. "$ROOT/tests/bench/loopback_smbd.sh"
loopback_port_taken "$ADDR" && exit 2

tmp=$(mktemp -d /tmp/probe-scale.XXXXXX)
mkdir -p "$tmp/share"
cp "$AFPTEST" "$tmp/afptest" || exit 1
builds="after:$tmp/afptest"
if [ -n "$AFPTEST_BEFORE" ]; then
    cp "$AFPTEST_BEFORE" "$tmp/afptest-before" || exit 1
    builds="before:$tmp/afptest-before $builds"
fi
cleanup() {
    loopback_smbd_stop
    rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for i in 1 2 3; do echo "file $i" >"$tmp/share/f$i.txt"; done
chmod -R a+rX "$tmp/share"
# Without the lab's nss_wrapper (its passwd has no guest account).
loopback_smbd_start "$tmp/smbd" "$ADDR" PROBESCALE "$SHARE" "$tmp/share" ro -u LD_PRELOAD || exit 1

# Maps: the lab's entries that mount (contrib/maps/auto_shares, the keys
# tests/integration/expected/lab-map.tsv says end "read ok"), N of them
# round robin; N and BIG entries on the loopback share.
ok_keys=$(awk -F'\t' '!/^#/ && $2 == "read" && $3 == "ok" {print $1}' "$ROOT/tests/integration/expected/lab-map.tsv")
grep -v '^#' "$ROOT/contrib/maps/auto_shares" | awk 'NF >= 3' |
    awk -v keys="$(echo $ok_keys)" 'BEGIN { n = split(keys, k, " "); for (i = 1; i <= n; i++) ok[k[i]] = 1 }
        ok[$1] { print }' >"$tmp/lab.ok"
awk -v n="$N" '{ line[NR] = $0 } END { for (i = 0; i < n; i++) { split(line[i % NR + 1], f, /[ \t]+/);
    printf "%s-%04d\t%s\t%s\n", f[1], i, f[2], f[3] } }' "$tmp/lab.ok" >"$tmp/lab.map"
loop_map() { awk -v n="$1" -v u="smb://$ADDR/$SHARE" 'BEGIN { for (i = 0; i < n; i++) printf "L%04d\t-fstype=url,guest\t%s\n", i, u }'; }
loop_map "$N" >"$tmp/loop.map"
loop_map "$BIG" >"$tmp/big.map"

smbd_ticks() {   # CPU of the smbd and the children it reaped, in clock ticks
    awk '{ print $14 + $15 + $16 + $17 }' "/proc/$smbd_pid/stat" 2>/dev/null || echo 0
}
hz=$(getconf CLK_TCK)
# run LABEL MAP ENV... -- CMD...: one timed run; prints wall, client CPU and
# server CPU (loopback smbd) per entry and the failures
run() {
    local label=$1 entries=$2; shift 2
    local s0 s1
    s0=$(smbd_ticks)
    /usr/bin/time -f '%e %U %S' -o "$tmp/t" "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    s1=$(smbd_ticks)
    read -r wall u s < <(tail -1 "$tmp/t")
    awk -v l="$label" -v w="$wall" -v u="$u" -v s="$s" -v n="$entries" -v srv=$((s1 - s0)) -v hz="$hz" -v rc="$rc" \
        'BEGIN { printf "  %-44s wall %7.2f s  client CPU %6.1f ms/entry  loopback smbd CPU %6.1f ms/entry  (exit %d)\n",
                 l, w, (u + s) * 1000 / n, srv * 1000 / hz / n, rc }'
}
failed_rows() { grep -Ec ' (E[A-Z]+ \([0-9]+\)|EIO) ' "$tmp/out"; }
# afptest -v's count of worker processes (each start costs client CPU)
workers() { grep -o 'by [0-9]* worker processes' "$tmp/err" | grep -o '[0-9]*' || echo '?'; }

echo "probe_scale.sh: N=$N BIG=$BIG, $(nproc) CPUs, $(date -u '+%F %T UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  afptest: $AFPTEST, built $(date -u -r "$AFPTEST" '+%F %T UTC'), tree $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(
    git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null || echo ' + uncommitted changes')"
[ -n "$AFPTEST_BEFORE" ] && echo "  before:  $AFPTEST_BEFORE"

echo
echo "1. client CPU per entry (-j 4 and -j 8, as in the issue)"
for b in $builds; do
    name=${b%%:*} bin=${b#*:}
    run "$name: $N lab entries, -j 4" "$N" "$bin" probe -v -j 4 -r /x "$tmp/lab.map"
    echo "      rows not ok: $(failed_rows); worker processes: $(workers)"
    run "$name: $N loopback entries, -j 8" "$N" \
        env SHARESFS_SMB_CONF="$tmp/smbd/client.conf" "$bin" probe -v -j 8 -r /x "$tmp/loop.map"
    echo "      rows not ok: $(failed_rows); worker processes: $(workers)"
done
run "after: $N loopback entries, -j 8, --share-sessions" "$N" \
    env SHARESFS_SMB_CONF="$tmp/smbd/client.conf" "$tmp/afptest" probe -j 8 --share-sessions -r /x "$tmp/loop.map"
echo "      rows not ok: $(failed_rows); rows on a shared session: $(grep -c '(session of ' "$tmp/out")"
echo "  (the start of afptest itself, paid once a run:"
run "one entry" 1 env SHARESFS_SMB_CONF="$tmp/smbd/client.conf" "$tmp/afptest" probe -j 1 -r /x -k L0000 "$tmp/loop.map"
echo "  )"

echo
echo "2. wall time against -j"
for b in $builds; do
    name=${b%%:*} bin=${b#*:}
    for j in $JOBS; do
        run "$name: $N lab entries, -j $j" "$N" "$bin" probe -j "$j" -r /x "$tmp/lab.map"
    done
    for j in $JOBS; do
        run "$name: $N loopback entries, -j $j" "$N" env SHARESFS_SMB_CONF="$tmp/smbd/client.conf" "$bin" probe -j "$j" \
            -r /x "$tmp/loop.map"
    done
done

echo
echo "3. $BIG loopback entries: afptest -j 16 vs xargs -P 16 smbclient -c ls"
for b in $builds; do
    name=${b%%:*} bin=${b#*:}
    run "$name: afptest -j 16" "$BIG" env SHARESFS_SMB_CONF="$tmp/smbd/client.conf" "$bin" probe -j 16 -r /x "$tmp/big.map"
    echo "      rows not ok: $(failed_rows)"
    cp "$tmp/t" "$tmp/t.$name"
done
# The same entries sharing a login per worker (an opt-in: a row's login is
# then the first entry's of its location, docs/architecture.md "Probe").
run "after: afptest -j 16 --share-sessions" "$BIG" env SHARESFS_SMB_CONF="$tmp/smbd/client.conf" "$tmp/afptest" probe \
    -j 16 --share-sessions -r /x "$tmp/big.map"
echo "      rows not ok: $(failed_rows); rows on a shared session: $(grep -c '(session of ' "$tmp/out")"
cp "$tmp/t" "$tmp/t.shared"
awk -v n="$BIG" -v u="//$ADDR/$SHARE" 'BEGIN { for (i = 0; i < n; i++) print u }' >"$tmp/big.list"
run "xargs -P 16 smbclient -c ls" "$BIG" sh -c "xargs -P 16 -I{} smbclient -s '$tmp/smbd/client.conf' -N '{}' -c ls <'$tmp/big.list'"
echo "      listings: $(grep -c 'f1.txt' "$tmp/out") of $BIG"
xargs_wall=$(tail -1 "$tmp/t" | cut -d' ' -f1)
for b in $builds; do
    name=${b%%:*}
    awk -v x="$xargs_wall" -v a="$(tail -1 "$tmp/t.$name" | cut -d' ' -f1)" -v l="$name" \
        'BEGIN { printf "  ratio (%s) = xargs time / afptest time = %.2f / %.2f = %.2f (issue: >= 5)\n", l, x, a, x / a }'
done
awk -v x="$xargs_wall" -v a="$(tail -1 "$tmp/t.shared" | cut -d' ' -f1)" \
    'BEGIN { printf "  ratio (after, --share-sessions) = %.2f / %.2f = %.2f (issue: >= 5)\n", x, a, x / a }'

