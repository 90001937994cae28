#!/bin/bash
# End-to-end check of afpsim's "Client Krb v2" acceptor with a throwaway MIT
# KDC.  Everything lives in a temporary directory and on loopback addresses:
# KDC 127.0.0.241:10088, afpsim 127.0.0.242:10548, whose name
# krbtest.lab.test comes from nss_wrapper (for the client only).  Speaks TAP.
#
#   contrib/afpsim/tools/krb-selftest.sh [AFPSIM [AFPSIM_KRB_CLIENT]]
#
# Defaults: build/contrib/afpsim/{afpsim,afpsim-krb-client}.  AFPTEST=path
# also logs in with the sharesfs client (probes/afptest).  KEEP=1 keeps the
# directory (logs, keytabs) and prints its name.  Needs krb5-kdc,
# krb5-admin-server (kadmin.local), krb5-user (kinit) and libnss-wrapper;
# without them the test is skipped.
set -u
SRC=$(cd "$(dirname "$0")/../../.." && pwd)
# nss_wrapper_lib and the krb5.conf pieces of the lab
# shellcheck source=contrib/lab/common.sh
. "$SRC/contrib/lab/common.sh"
AFPSIM=${1:-$SRC/build/contrib/afpsim/afpsim}
CLIENT=${2:-$SRC/build/contrib/afpsim/afpsim-krb-client}
PERS=$SRC/contrib/afpsim/personalities
KDC_IP=127.0.0.241 KDC_PORT=10088
AFP_IP=127.0.0.242 AFP_PORT=10548
FQDN=krbtest.lab.test
REALM=LAB.TEST
SPN=afpserver/$FQDN@$REALM

n=0 failed=0 starts=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
diag() { sed 's/^/# /'; }
bail() { echo "Bail out! $*"; exit 1; }

for t in krb5kdc kdb5_util kadmin.local kinit; do
    command -v $t >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
    command -v $t >/dev/null 2>&1 || { echo "1..0 # SKIP $t not installed"; exit 0; }
done
NSSW=$(nss_wrapper_lib) || { echo "1..0 # SKIP libnss_wrapper.so not installed"; exit 0; }
[ -x "$AFPSIM" ] && [ -x "$CLIENT" ] || bail "build afpsim and afpsim-krb-client first ($AFPSIM, $CLIENT)"
for a in $KDC_IP:$KDC_PORT $AFP_IP:$AFP_PORT; do
    if (exec 3<>/dev/tcp/${a%:*}/${a#*:}) 2>/dev/null; then bail "something listens on $a already"; fi
done

T=$(mktemp -d /tmp/afpsim-krb.XXXXXX)
KDC_PID=
AFP_PIDFILE=$T/afpsim.pid
stop_afpsim() {
    [ -s "$AFP_PIDFILE" ] || return 0
    local p
    p=$(cat "$AFP_PIDFILE")
    kill "$p" 2>/dev/null
    # Gone, or a zombie waiting for whoever adopted the daemon.
    for _ in $(seq 50); do
        [ "$(ps -o stat= -p "$p" 2>/dev/null | cut -c1)" = "" ] && break
        [ "$(ps -o stat= -p "$p" 2>/dev/null | cut -c1)" = Z ] && break
        sleep 0.1
    done
    rm -f "$AFP_PIDFILE"
}
cleanup() {
    stop_afpsim
    [ -n "$KDC_PID" ] && kill "$KDC_PID" 2>/dev/null && wait "$KDC_PID" 2>/dev/null
    if [ "${KEEP:-0}" = 1 ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

# ------------------------------------------------------------------ KDC
{
    krb5_libdefaults "$REALM"
    echo "[realms]"
    krb5_realm "$REALM" "$KDC_IP:$KDC_PORT"
    echo "[domain_realm]"
    krb5_domain lab.test "$REALM"
} >"$T/krb5.conf"
cat >"$T/kdc.conf" <<EOF
[kdcdefaults]
  kdc_listen = $KDC_IP:$KDC_PORT
  kdc_tcp_listen = $KDC_IP:$KDC_PORT
[realms]
  $REALM = {
    database_name = $T/principal
    key_stash_file = $T/stash
    acl_file = $T/kadm5.acl
    disable_pac = true
  }
[logging]
  kdc = FILE:$T/kdc.log
EOF
: >"$T/kadm5.acl"
export KRB5_CONFIG=$T/krb5.conf KRB5_KDC_PROFILE=$T/kdc.conf KRB5CCNAME=FILE:$T/ccache
mkdir -p "$T/rcache"
export KRB5RCACHEDIR=$T/rcache
{
    kdb5_util create -s -r $REALM -P masterpw &&
    kadmin.local -r $REALM -q 'addprinc -pw labpass labuser' &&
    kadmin.local -r $REALM -q 'addprinc -pw strangerpw stranger' &&
    kadmin.local -r $REALM -q "addprinc -randkey afpserver/$FQDN" &&
    kadmin.local -r $REALM -q "ktadd -k $T/afpserver.keytab afpserver/$FQDN" &&
    kadmin.local -r $REALM -q 'addprinc -randkey afpserver/other.lab.test' &&
    kadmin.local -r $REALM -q "ktadd -k $T/wrong.keytab afpserver/other.lab.test"
} >"$T/kdb.log" 2>&1 || { diag <"$T/kdb.log"; bail "KDC database setup failed"; }
krb5kdc -n -r $REALM >"$T/kdc.stdout" 2>&1 </dev/null &
KDC_PID=$!
for _ in $(seq 50); do
    (exec 3<>/dev/tcp/$KDC_IP/$KDC_PORT) 2>/dev/null && break
    sleep 0.1
done
kinit_as() { echo "$2" | kinit "$1" >"$T/kinit.log" 2>&1 || { diag <"$T/kinit.log"; bail "kinit $1 failed"; }; }
kinit_as labuser labpass

# -------------------------------------------------------------- afpsim
printf '127.0.0.242 %s krbtest\n127.0.0.241 kdc.lab.test\n' $FQDN >"$T/hosts"
cp /etc/passwd "$T/passwd"
cp /etc/group "$T/group"
printf 'labuser:unused-for-kerberos\nafpuser:afppass\n' >"$T/users"
mkdir -p "$T/vol/Private" "$T/vol/Public"
echo "kerberos lab data" >"$T/vol/Private/secret.txt"

start_afpsim() {   # extra afpsim arguments
    stop_afpsim
    starts=$((starts + 1))
    [ -e "$T/afpsim.log" ] && mv "$T/afpsim.log" "$T/afpsim.log.$starts"
    "$AFPSIM" --listen $AFP_IP:$AFP_PORT --personality "$PERS/netatalk-4.conf" \
        --set server.fqdn=$FQDN --users "$T/users" \
        --volume "Private=$T/vol/Private:valid=labuser" --volume "Public=$T/vol/Public" \
        --log "$T/afpsim.log" --pidfile "$AFP_PIDFILE" "$@" 2>"$T/afpsim.stderr" ||
        { diag <"$T/afpsim.stderr"; bail "afpsim did not start"; }
}
client() {   # client arguments; output in $T/out, status in $rc
    LD_PRELOAD=$NSSW NSS_WRAPPER_HOSTS=$T/hosts NSS_WRAPPER_PASSWD=$T/passwd \
        NSS_WRAPPER_GROUP=$T/group "$CLIENT" $FQDN:$AFP_PORT "$@" >"$T/out" 2>&1
    rc=$?
}
# check NAME EXPECTED_STATUS PATTERN... (each an extended regexp on one line of output)
check() {
    local name=$1 want=$2 bad=
    shift 2
    [ "$rc" = "$want" ] || bad="exit $rc, expected $want"
    for p in "$@"; do
        grep -Eq -- "$p" "$T/out" || bad="${bad:+$bad; }no line matching /$p/"
    done
    if [ -z "$bad" ]; then ok "$name"; else not_ok "$name ($bad)"; diag <"$T/out"; fi
}
logcheck() {   # NAME PATTERN: in afpsim's log
    if grep -Eq -- "$2" "$T/afpsim.log"; then ok "$1"; else not_ok "$1"; diag <"$T/afpsim.log"; fi
}

start_afpsim --keytab "$T/afpserver.keytab"
logcheck "startup: acceptor key found" "accepting as $SPN with keytab FILE:$T/afpserver.keytab"

client
check "FPLoginExt + AP-REQ accepted, AP-REP verified" 0 '^FPLoginExt -> -5001 id 0x0001$' \
    '^FPLoginCont -> 0 ' 'mutual authentication: [0-9]+-byte AP-REP verified' \
    '^FPGetSrvrParms -> 0 volumes: Public Private$' '^FPLogout -> 0$'
logcheck "log: client principal and user" "principal labuser@$REALM is user labuser"

client --status-principal
check "principal from DSIGetStatus Directory Names" 0 "^status: directory name $SPN\$" \
    'AP-REP verified'

client --plain
check "FPLogin (AFP3.4)" 0 '^FPLogin -> -5001 id 0x0001$' 'AP-REP verified'
client --plain --afp-version AFP2.2
check "FPLogin (AFP2.2)" 0 '^FPLogin -> -5001 id 0x0001$' 'AP-REP verified'

client --user abcdef
check "even-length user name (no pad byte)" 0 'AP-REP verified' 'volumes: Public Private'
logcheck "log: the name the client gave is only noted" 'the client named itself "abcdef"'

client --no-mutual
check "without mutual authentication: empty reply token" 0 '^FPLoginCont -> 0 \(2 bytes\)$' \
    'no mutual authentication: 0-byte reply token'

client --corrupt
check "damaged AP-REQ: -5014, attention, close" 1 '^FPLoginCont -> -5014 \(0 bytes\)$' \
    '^server DSIAttention 0x8000$' '^server DSICloseSession$' '^connection closed by the server$'
logcheck "log: GSS status of the refusal" 'gss_accept_sec_context: .*\[major 0x[0-9a-f]+, minor [0-9]+\]'

client --service afpserver@other.lab.test
check "ticket for another service: -5014" 1 '^FPLoginCont -> -5014 ' '^server DSIAttention 0x8000$'

kinit_as stranger strangerpw
client
check "principal whose user is not in the users file: -5023" 1 '^FPLoginCont -> -5023 ' \
    '^server DSIAttention 0x8000$' '^server DSICloseSession$'
logcheck "log: user not in the users file" "the user of stranger@$REALM is not in the users file"
kinit_as labuser labpass

# The sharesfs client itself (probes/afptest), when $AFPTEST names it.
if [ -x "${AFPTEST:-}" ]; then
    LD_PRELOAD=$NSSW NSS_WRAPPER_HOSTS=$T/hosts NSS_WRAPPER_PASSWD=$T/passwd NSS_WRAPPER_GROUP=$T/group \
        "$AFPTEST" probe -v "afp://;AUTH=Client%20Krb%20v2@$FQDN:$AFP_PORT/Private" >"$T/out" 2>&1
    rc=$?
    check "afptest (sharesfs client): Client Krb v2 login, list, read" 0 \
        'Client Krb v2 +read +ok' 'read 18 bytes of secret.txt'
else
    echo "# AFPTEST not set: the sharesfs client is not tried"
fi

start_afpsim --keytab "$T/afpserver.keytab" --hostile bad-aprep
client
check "hostile bad-aprep: the client rejects the AP-REP" 3 '^FPLoginCont -> 0 ' 'AP-REP NOT verified'

start_afpsim --keytab "$T/wrong.keytab"
logcheck "startup: wrong keytab is logged" "no acceptor key for $SPN in keytab"
client
check "wrong keytab: -5014" 1 '^FPLoginCont -> -5014 ' '^server DSIAttention 0x8000$'

start_afpsim
client
check "no --keytab, krb_refusal = misc: -5001 then -5014" 1 '^FPLoginExt -> -5001 id 0x0001$' \
    '^FPLoginCont -> -5014 ' '^server DSIAttention 0x8000$'

start_afpsim --set uams.krb_refusal=bad-uam
client
check "no --keytab, krb_refusal = bad-uam: -5002" 1 '^FPLoginExt -> -5002$' '^server DSIAttention 0x8000$'

start_afpsim --keytab "$T/afpserver.keytab" --set uams.krb_refusal=bad-uam
client
check "--keytab overrides krb_refusal = bad-uam" 0 'AP-REP verified'

stop_afpsim
echo "1..$n"
[ $failed -eq 0 ]
