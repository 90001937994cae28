#!/bin/bash
# Every row of issue 16's table, each against its peer in one run:
#   throughput.sh     SMB read/write vs smbclient (lab, fs-default `user`),
#                     AFP write vs AFP read, ls -l, memory over a read
#   smb_loopback.sh   SMB read/write vs smbclient on a guest smbd on
#                     127.0.0.9, and what each side negotiated
#   afp_gvfs.sh       AFP read on the real netatalk 4.2.3 vs gvfs and vs
#                     the server's own disk
#   afp_gvfs_rtt      the same with both clients behind a relay adding
#                     RTT_US (default 1000) us of round trip (latency_proxy)
#   probe_scale.sh    afptest CPU per entry, wall time vs -j, 1,000
#                     entries vs xargs -P 16 smbclient
#   many_keys.sh      10,000 keys: memory at rest and ls -l of the root
# First, one line of page_cost: what a page fault costs on this machine (a
# process start, a probe worker and a new read-ahead window pay mostly in
# faults; docs/performance.md "Probe cost per entry").
# Needs the lab (contrib/lab/lab.sh start) and a built tree (ninja -C
# build).  Prints; never asserts a time.  ONLY="throughput many_keys"
# runs some of them.
set -uo pipefail
DIR=$(cd "$(dirname "$0")" && pwd)
rc=0
ROOT=$(cd "$DIR/../.." && pwd)
echo "==== machine: $(nproc) CPUs, $(uname -r)"
"$ROOT/build/tests/bench/page_cost" || { echo "==== page_cost failed (ninja -C build)"; rc=1; }
for b in ${ONLY:-throughput smb_loopback afp_gvfs afp_gvfs_rtt probe_scale many_keys}; do
    echo "==== $b ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))"
    case $b in
        afp_gvfs_rtt) cmd=(env RTT_US="${RTT_US:-1000}" bash "$DIR/afp_gvfs.sh") ;;
        *) cmd=(bash "$DIR/$b.sh") ;;
    esac
    "${cmd[@]}" || { echo "==== $b failed (exit $?)"; rc=1; }
done
exit "$rc"
