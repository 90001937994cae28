#!/bin/bash
# Checks the running lab against the expectations of contrib/maps/README.md,
# with smbclient as the reference client: every map key once, in parallel.
#
#   contrib/lab/check.sh          table + exit 0 when every key behaves as expected
#   contrib/lab/check.sh -v       also print smbclient's last lines per key
#
# The keys, URLs and options mirror contrib/maps/auto_shares and auto.lab.

set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
VERBOSE=
[ "${1:-}" = -v ] && VERBOSE=1

eval "$("$HERE/lab.sh" env 2>/dev/null)"
S=$SHARESFS_LAB_DIR
[ -f "$S/env" ] || { echo "check.sh: lab not started ($S/env missing)" >&2; exit 2; }
command -v smbclient >/dev/null || { echo "check.sh: smbclient not installed" >&2; exit 2; }

CRED=$S/creds/labuser.cred
WRONG=$S/creds/wrong.cred
NT1="--option=client min protocol=NT1"

# key|expected (OK or NT_STATUS_*)|smbclient arguments (split on spaces; ^ stands for a space)|command
CASES=(
    "Public|OK|-N //fs-default.lab.test/public|get^hello.txt^-"
    "Data|OK|-A $CRED //fs-default.lab.test/data|get^big.bin^-"
    "Home|OK|-A $CRED //fs-default.lab.test/user|get^notes.txt^-"
    "Smb2|OK|-N //fs-smb2.lab.test/public|ls"
    "Smb3|OK|-A $CRED //fs-smb3.lab.test/user|ls"
    "Nas1|OK|-N ${NT1// /^} //nas-smb1.lab.test/public|ls"
    "Nas1Modern|NT_STATUS_CONNECTION_DISCONNECTED|-N //nas-smb1.lab.test/public|ls"
    "WrongPass|NT_STATUS_LOGON_FAILURE|-A $WRONG //fs-default.lab.test/user|ls"
    "Missing|NT_STATUS_BAD_NETWORK_NAME|-A $CRED //fs-default.lab.test/nosuchshare|ls"
    "Smb3Guest|NT_STATUS_ACCESS_DENIED|-N //fs-smb3.lab.test/public|ls"
    "Gone|NT_STATUS_HOST_UNREACHABLE|-N //gone.lab.test/public|ls"
)

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

run_case() {
    local key=$1 args=$2 cmd=$3 a argv=() t0 t1 rc
    for a in $args; do argv+=("${a//^/ }"); done
    t0=${EPOCHREALTIME/[.,]/}
    if [ "$key" = Data ]; then
        # stream big.bin and compare its checksum with the lab's
        timeout 60 smbclient -s "$SHARESFS_LAB_CLIENT_CONF" "${argv[@]}" -c "${cmd//^/ }" \
            2>"$TMP/$key.err" | sha256sum | cut -d' ' -f1 >"$TMP/$key.out"
        rc=${PIPESTATUS[0]}
    else
        timeout 60 smbclient -s "$SHARESFS_LAB_CLIENT_CONF" "${argv[@]}" -c "${cmd//^/ }" \
            >"$TMP/$key.out" 2>"$TMP/$key.err"
        rc=$?
    fi
    t1=${EPOCHREALTIME/[.,]/}
    echo "$rc $(( (t1 - t0) / 1000 ))" >"$TMP/$key.rc"
}

for c in "${CASES[@]}"; do
    IFS='|' read -r key want args cmd <<<"$c"
    run_case "$key" "$args" "$cmd" &
done
wait

fail=0
printf '%-11s %-34s %-46s %7s  %s\n' KEY EXPECTED GOT TIME RESULT
for c in "${CASES[@]}"; do
    IFS='|' read -r key want args cmd <<<"$c"
    read -r rc ms <"$TMP/$key.rc"
    all=$(cat "$TMP/$key.out" "$TMP/$key.err")
    if [ "$rc" = 0 ]; then
        got=OK
        case $key in
            Public) [ "$(cat "$TMP/$key.out")" = "Hello from the sharesfs lab." ] || got="OK but wrong hello.txt" ;;
            Data)   [ "$(cat "$TMP/$key.out")" = "$(cut -d' ' -f1 "$S/big.bin.sha256")" ] || got="OK but big.bin sha256 differs" ;;
        esac
    else
        got=$(grep -o 'NT_STATUS_[A-Z_]*' <<<"$all" | tail -n 1)
        [ -n "$got" ] || got="rc=$rc"
        stage=$(grep -o -m1 -e 'protocol negotiation failed' -e 'session setup failed' \
                -e 'tree connect failed' -e 'do_connect: Connection to' <<<"$all" || true)
        case $stage in
            protocol*) got="$got @negprot" ;;
            session*)  got="$got @sess" ;;
            tree*)     got="$got @tcon" ;;
            do_connect*) got="$got @connect" ;;
        esac
    fi
    if [ "${got%% *}" = "$want" ] && [[ "$got" != "OK but"* ]]; then res=pass; else res=FAIL; fail=1; fi
    printf '%-11s %-34s %-46s %5s ms  %s\n' "$key" "$want" "$got" "$ms" "$res"
    if [ -n "$VERBOSE" ] || [ "$res" = FAIL ]; then
        tail -n 3 "$TMP/$key.err" | sed 's/^/      | /'
    fi
done
exit $fail
