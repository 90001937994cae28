#!/bin/bash
# Kerberos against the lab's KDC: the seed scenario (afptest and sharesfs,
# lion and snowleopard, without and with a ticket), every pre-flight cause
# with its own errno, SMB with sec=krb5, and a server that rejects the token.
. "$(dirname "$0")/lib.sh"
lab_join
command -v jq >/dev/null || bail "jq not installed"
[ -n "${KRB5_CONFIG:-}" ] && [ -f "$KRB5_CONFIG" ] || bail "the lab has no Kerberos (KRB5_CONFIG)"
expected=$(dirname "$0")/expected/krb5-seed.tsv
n_rows=$(grep -vc '^#' "$expected")
plan $(( n_rows * 4 + 14 ))

tmp=$(mktemp -d)
mnt=$tmp/mnt
mkdir "$mnt"
server=
trap 'fusermount3 -u "$mnt" 2>/dev/null; [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT
MAP=$MAPS/auto_krb
export KRB5CCNAME=FILE:$tmp/cc
kinit_lab() { "$LAB" kinit labuser "$KRB5CCNAME" "$@" >/dev/null || bail "kinit failed"; }

for ticket in none kinit; do
    rm -f "$tmp/cc"
    [ "$ticket" = kinit ] && kinit_lab
    out=$("$AFPTEST" probe --json -j 6 "$MAP" 2>&1)
    "$SHARESFS" -f -t 5 "$MAP" "$mnt" >"$tmp/log.$ticket" 2>&1 &
    pid=$!
    for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.05; done
    mountpoint -q "$mnt" || bail "sharesfs did not mount: $(cat "$tmp/log.$ticket")"
    while IFS=$'\t' read -r key t stage result status ls_says; do
        [ "${key:0:1}" = "#" ] || [ "$t" != "$ticket" ] && continue
        row=$(jq -c --arg k "$key" '.entries[] | select(.key == $k)' <<<"$out")
        is "$(jq -r .stage <<<"$row")" "$stage" "$ticket: $key: stage"
        is "$(jq -r .result <<<"$row")" "$result" "$ticket: $key: result"
        is "$(jq -r '.status.name // "-"' <<<"$row")" "$status" "$ticket: $key: status"
        got=$(ls "$mnt/$key" 2>&1 >/dev/null)
        [ -z "$got" ] && got=ok
        like "$got" "$ls_says" "$ticket: ls $key through sharesfs: $ls_says"
    done <"$expected"
    fusermount3 -u "$mnt"
    wait "$pid"
done

row() { jq -c --arg k "$2" '.entries[] | select(.key == $k)' <<<"$1"; }
# SMB with sec=krb5, and the service principal the KDC does not know.
out=$("$AFPTEST" probe --json -k KrbHome -k KrbMissing "$MAP" 2>&1)
is "$(row "$out" KrbHome | jq -r '"\(.stage) \(.result) \(.auth)"')" "read ok krb5" "SMB sec=krb5 logs in with the ticket and reads"
is "$(row "$out" KrbMissing | jq -r '"\(.stage) \(.result) \(.status.name)"')" \
    "authenticate EKEYREJECTED KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN" "service principal unknown to the KDC"
like "$(row "$out" KrbMissing | jq -r .detail)" "afpserver/krbmissing.lab.test@LAB.TEST" "the report names the principal tried"

# Expired TGT.
rm -f "$tmp/cc"
kinit_lab -l 3s
sleep 4
out=$("$AFPTEST" probe --json -k Multimedia -k KrbHome "$MAP" 2>&1)
is "$(row "$out" Multimedia | jq -r '"\(.stage) \(.result)"')" "authenticate EKEYEXPIRED" "expired TGT (AFP)"
like "$(row "$out" Multimedia | jq -r .detail)" "expired at .* UTC" "the report gives the expiry time"
is "$(row "$out" KrbHome | jq -r .result)" EKEYEXPIRED "expired TGT (SMB)"

# Clock skew: this machine an hour ahead of the KDC (TGT only in the ccache).
rm -f "$tmp/cc"
kinit_lab
out=$(LD_PRELOAD="$LD_PRELOAD /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1" FAKETIME=+1h \
      "$AFPTEST" probe --json -k Multimedia "$MAP" 2>&1)
is "$(row "$out" Multimedia | jq -r '"\(.result) \(.status.name)"')" "ETIME KRB5KRB_AP_ERR_SKEW" "clock skew"

# KDC unreachable (nothing listens on the port this krb5.conf names).
rm -f "$tmp/cc"
kinit_lab
sed -e 's/kdc = \([0-9.]*\)\(:[0-9]*\)\{0,1\}$/kdc = \1:89/' -e 's/^\[libdefaults\]/[libdefaults]\n  udp_preference_limit = 1/' \
    "$KRB5_CONFIG" >"$tmp/deadkdc.conf"
out=$(KRB5_CONFIG=$tmp/deadkdc.conf "$AFPTEST" probe --json -k Multimedia "$MAP" 2>&1)
is "$(row "$out" Multimedia | jq -r '"\(.result) \(.status.name)"')" "EHOSTUNREACH KRB5_KDC_UNREACH" "KDC unreachable"

# TGT for another realm than the server's (krb5.conf maps fs-krb elsewhere).
sed 's/^\(\s*\)\.lab\.test = LAB\.TEST/\1.lab.test = OTHER.TEST/' "$KRB5_CONFIG" >"$tmp/other.conf"
out=$(KRB5_CONFIG=$tmp/other.conf "$AFPTEST" probe --json -k KrbHome "$MAP" 2>&1)
is "$(row "$out" KrbHome | jq -r .result)" EREMOTE "TGT for another realm than the server's"
like "$(row "$out" KrbHome | jq -r .detail)" "in realm OTHER.TEST" "the report names both realms"

# No common encryption type.
sed 's/^\[libdefaults\]/[libdefaults]\n  permitted_enctypes = camellia128-cts-cmac\n  default_tgs_enctypes = camellia128-cts-cmac/' \
    "$KRB5_CONFIG" >"$tmp/enctype.conf"
out=$(KRB5_CONFIG=$tmp/enctype.conf "$AFPTEST" probe --json -k Multimedia "$MAP" 2>&1)
is "$(row "$out" Multimedia | jq -r .result)" EPROTONOSUPPORT "no common encryption type"

# A server whose GSS acceptor fails (afpsim without its keytab answers
# kFPMiscErr -5014, as netatalk does): an authentication failure, not "already logged in".
AFPSIM=${SHARESFS_AFPSIM:-$SFS_SRC/build/contrib/afpsim/afpsim}
mkdir -p "$tmp/vol"
printf 'labuser:x\n' >"$tmp/users"
"$AFPSIM" --listen 127.0.0.233:10548 --foreground --personality "$SFS_SRC/contrib/afpsim/personalities/macos-10.7-lion.conf" \
    --set server.fqdn=lion.lab.test --users "$tmp/users" --volume "Multimedia=$tmp/vol" >"$tmp/afpsim.log" 2>&1 &
server=$!
for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.233/10548) 2>/dev/null && break; sleep 0.01; done
out=$("$AFPTEST" probe --json 'afp://;AUTH=Client%20Krb%20v2@127.0.0.233:10548/Multimedia' 2>&1)
is "$(jq -r '.entries[0] | "\(.stage) \(.result) \(.status.name)"' <<<"$out")" "authenticate EACCES kFPMiscErr" \
    "the server rejects the token: authenticate, EACCES, kFPMiscErr"
like "$(jq -r '.entries[0].detail' <<<"$out")" "rejected the Kerberos token" "the detail says the token was rejected"
is "$(jq -r '.entries[0].macos' <<<"$out")" "EAUTH (80)" "macOS would have said EAUTH"
done_testing
