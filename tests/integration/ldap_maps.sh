#!/bin/bash
# Automount maps from directory services, client side, against the lab's
# real slapd (ldap.lab.test) and Samba AD DC (dc1.ad.lab.test): afptest's
# map stage for each bind and each failure (errno + LDAP result code), the
# seed's three Open Directory records probed with and without a ticket (the
# same table as the seed scenario), and a FUSE mount of a directory map
# that follows records added and removed (SIGHUP, --map-refresh) and keeps
# serving its last good map while the directory is unreachable.
. "$(dirname "$0")/lib.sh"
lab_join
command -v jq >/dev/null || bail "jq not installed"
for t in ldapadd ldapdelete; do
    command -v "$t" >/dev/null || bail "$t not installed (ldap-utils)"
done
[ -n "${SHARESFS_LAB_LDAP_URI:-}" ] || bail "the lab env has no SHARESFS_LAB_LDAP_URI: a lab without ldap.lab.test?"
[ -n "${SHARESFS_LAB_LDAPI:-}" ] || bail "the lab env has no SHARESFS_LAB_LDAPI (slapd's local admin socket)"
[ -n "${KRB5_CONFIG:-}" ] && [ -f "$KRB5_CONFIG" ] || bail "the lab has no Kerberos (KRB5_CONFIG)"

tmp=$(mktemp -d)
mnt=$tmp/mnt
mkdir "$mnt"
NS=labsfs-ldap
BASE=$SHARESFS_LAB_LDAP_BASE
pid=
cleanup() {
    ip -n "$NS" link set lab0 up 2>/dev/null
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    fusermount3 -u "$mnt" 2>/dev/null
    fusermount3 -u "$tmp/servers" 2>/dev/null
    ldapdelete -Q -Y EXTERNAL -H "$SHARESFS_LAB_LDAPI" -r "automountMapName=auto.refresh,ou=automount,$BASE" \
        >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
export KRB5CCNAME=FILE:$tmp/cc

# conf NAME KEY=VALUE...: a sharesfs.conf with a [directory] section
conf() {
    local f=$tmp/$1.conf
    shift
    { echo "[directory]"; printf '%s\n' "$@"; } >"$f"
    echo "$f"
}
ANON=$(conf anon "uri = $SHARESFS_LAB_LDAP_URI" "base = $BASE" "timeout = 3")
SIMPLE=$(conf simple "uri = $SHARESFS_LAB_LDAP_URI" "base = $BASE" "bind = simple" \
    "bind_dn = $SHARESFS_LAB_LDAP_BINDDN" "password_file = $SHARESFS_LAB_LDAP_PWFILE" \
    "starttls = true" "ca_file = $SHARESFS_LAB_LDAP_CA")
printf 'not-the-password\n' >"$tmp/wrong.pw"
chmod 600 "$tmp/wrong.pw"
WRONG=$(conf wrong "uri = $SHARESFS_LAB_LDAP_URI" "base = $BASE" "bind = simple" \
    "bind_dn = $SHARESFS_LAB_LDAP_BINDDN" "password_file = $tmp/wrong.pw")
BADCA=$(conf badca "uri = $SHARESFS_LAB_LDAP_URI" "base = $BASE" "starttls = true" \
    "ca_file = $SHARESFS_LAB_LDAP_WRONG_CA")
GSS=$(conf gss "uri = $SHARESFS_LAB_LDAP_URI" "base = $BASE" "bind = gssapi")
LDAPS=$(conf ldaps "uri = $SHARESFS_LAB_LDAPS_URI" "base = $BASE" "ca_file = $SHARESFS_LAB_LDAP_CA")
GONE=$(conf gone "uri = ldap://gone.lab.test" "base = $BASE" "timeout = 2")

printf '+auto_master\n' >"$tmp/auto_master"
# row KEY: the JSON row of KEY in $out
row() { jq -c --arg k "$1" '.entries[] | select(.key == $k)' <<<"$out"; }
probe() { out=$("$AFPTEST" probe --json -j 6 "$@" 2>&1); }

# ---------------------------------------------------------------- binds
for c in ANON SIMPLE LDAPS; do
    probe -c "${!c}" --no-read "$tmp/auto_master"
    r=$(row "+auto_master")
    is "$(jq -r '"\(.stage) \(.result)"' <<<"$r")" "map ok" "$c: +auto_master read (stage map, ok)"
    is "$(jq -r '.listed' <<<"$r")" 11 "$c: +auto_master gives 11 entries (-fstab 7, -static 1, auto_shares 3)"
done
r=$(row "+auto_master")
is "$(jq -r .auth <<<"$r")" "anonymous+ldaps" "the row names the bind and TLS"
probe -c "$SIMPLE" --no-read "$tmp/auto_master"
is "$(row "+auto_master" | jq -r .auth)" "simple+starttls" "simple bind over StartTLS"
is "$(row lion.lab.test/Groups | jq -r .source)" "cn=lion.lab.test:/Groups,cn=mounts,$BASE" \
    "an entry from the directory names its record's DN"
is "$(row lion.lab.test/Groups | jq -r .mountpoint)" "/Network/Servers/lion.lab.test/Groups" \
    "-fstab records are mounted at /Network/Servers/HOST/PATH"
is "$(row /Volumes/LabPublic | jq -r '"\(.stage) \(.result)"')" "list ok" "-static record: at its mountDirectory"
like "$out" '"key":"Public","mountpoint":"/Network/Shares/Public"' "auto_shares under /Network/Shares"

# GSSAPI: with and without labuser's ticket
rm -f "$tmp/cc"
probe -c "$GSS" --no-read "$tmp/auto_master"
r=$(row "+auto_master")
is "$(jq -r '"\(.stage) \(.result) \(.status.name)"' <<<"$r")" "map ENOKEY KRB5_FCC_NOFILE" "gssapi without a ticket: ENOKEY"
"$LAB" kinit labuser "$KRB5CCNAME" >/dev/null || bail "kinit labuser failed"
probe -c "$GSS" --no-read "$tmp/auto_master"
is "$(row "+auto_master" | jq -r '"\(.stage) \(.result) \(.auth)"')" "map ok gssapi" "gssapi with labuser's ticket"

# ---------------------------------------------------------------- failures
probe -c "$WRONG" --no-read "$tmp/auto_master"
r=$(row "+auto_master")
is "$(jq -r '"\(.stage) \(.result) \(.status.code) \(.status.name)"' <<<"$r")" "map EACCES 49 invalidCredentials" \
    "wrong password: EACCES, invalidCredentials (49)"
like "$(jq -r .detail <<<"$r")" "cn=reader" "the detail names the bind DN"
[ "$(grep -c not-the-password <<<"$out")" = 0 ] && pass "the password is not printed" || fail "the password is printed"
printf '/mnt/x ldap:automountMapName=nope,ou=nowhere,%s\n' "$BASE" >"$tmp/unknown"
probe -c "$ANON" --no-read "$tmp/unknown"
is "$(jq -r '.entries[0] | "\(.stage) \(.result) \(.status.code) \(.status.name)"' <<<"$out")" \
    "map ENOENT 32 noSuchObject" "unknown base: ENOENT, noSuchObject (32)"
probe -c "$GONE" --no-read "$tmp/auto_master"
like "$(row "+auto_master" | jq -r '"\(.stage) \(.result)"')" "^(connect|map) (EHOSTUNREACH|ETIMEDOUT)$" \
    "server down (gone.lab.test): unreachable"
probe -c "$BADCA" --no-read "$tmp/auto_master"
r=$(row "+auto_master")
is "$(jq -r '"\(.stage) \(.result)"' <<<"$r")" "map EKEYREJECTED" "StartTLS with a CA that did not sign the certificate"
like "$(jq -r .detail <<<"$r")" "certificate" "the detail says it is the certificate"
# libldap is loaded on first use: where it cannot be (hidden in a mount
# namespace of this probe only), the map's row says so, nothing crashes.
libldap=$(readlink -f "$(ldconfig -p | awk '/libldap(-2\.[0-9]+)?\.so\.[0-9]+ .*x86-64/ {print $NF; exit}')")
[ -f "$libldap" ] || bail "libldap not found by ldconfig"
out=$(unshare -m --propagation private sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' sh "$libldap" \
    "$AFPTEST" probe --json -c "$ANON" --no-read "$tmp/auto_master" 2>&1)
r=$(row "+auto_master")
is "$(jq -r '"\(.stage) \(.result)"' <<<"$r")" "map ELIBACC" "libldap that cannot be loaded: stage map, ELIBACC"
like "$(jq -r .detail <<<"$r")" "cannot load libldap: .*libldap" "the detail names the library and why"
printf '/mnt/bad ldap:automountMapName=auto.broken,ou=broken,%s\n' "$BASE" >"$tmp/broken"
probe -c "$ANON" --no-read "$tmp/broken"
r=$(jq -c '.entries[0]' <<<"$out")
is "$(jq -r '"\(.stage) \(.result)"' <<<"$r")" "map EINVAL" "a malformed record: EINVAL at stage map"
like "$(jq -r .detail <<<"$r")" "automountKey=broken,automountMapName=auto.broken" "the error names the record's DN"

# The schemas, by URL as the map argument: rfc2307bis master with maps of
# all three schemas, and Active Directory's NIS form over GSSAPI.
probe -c "$ANON" --no-read "ldap://ldap.lab.test/ou=automount,$BASE"
for k in /mnt/lab/Public /mnt/lab-ro/Smb2 /mnt/old/Public /mnt/nis/Smb2; do
    is "$(jq -r --arg m "$k" '.entries[] | select(.mountpoint == $m) | "\(.stage) \(.result)"' <<<"$out")" \
        "list ok" "ldap://.../ou=automount: $k"
done
AD=$(conf ad "uri = ldap://dc1.ad.lab.test" "base = DC=ad,DC=lab,DC=test" "bind = gssapi")
export KRB5CCNAME=FILE:$tmp/adcc
"$LAB" kinit aduser@AD.LAB.TEST "$KRB5CCNAME" >/dev/null || bail "kinit aduser failed"
probe -c "$AD" --no-read "ldap://dc1.ad.lab.test/OU=automount,DC=ad,DC=lab,DC=test"
is "$(jq -r '.entries[0] | "\(.stage) \(.result) \(.listed)"' <<<"$out")" "map ok 2" \
    "Active Directory: the NIS-form master read with aduser's ticket"
is "$(jq -r '.entries[] | select(.mountpoint == "/mnt/ad/netlogon") | "\(.stage) \(.result)"' <<<"$out")" \
    "list ok" "AD: netlogon from the NIS map, listed with Kerberos"
rm -f "$tmp/adcc"
export KRB5CCNAME=FILE:$tmp/cc

# ---------------------------------------------------------------- the seed
# The three Lion records of Open Directory, probed with and without a
# ticket: the same table as the seed scenario from a file map.
declare -A od=([Groups]=lion.lab.test/Groups [Attic]=lion.lab.test/Volumes/Data/Attic
               [Multimedia]=lion.lab.test/Volumes/Data/Multimedia)
expected=$(dirname "$0")/expected/krb5-seed.tsv
for ticket in none kinit; do
    rm -f "$tmp/cc"
    [ "$ticket" = kinit ] && { "$LAB" kinit labuser "$KRB5CCNAME" >/dev/null || bail "kinit failed"; }
    probe -c "$ANON" "$tmp/auto_master"
    while IFS=$'\t' read -r key t stage result status _; do
        [ "${key:0:1}" = "#" ] || [ "$t" != "$ticket" ] || [ -z "${od[$key]:-}" ] && continue
        is "$(row "${od[$key]}" | jq -r '"\(.stage) \(.result) \(.status.name // "-")"')" \
            "$stage $result $status" "seed from OD, $ticket: ${od[$key]} as $key in the seed table"
    done <"$expected"
done

# ---------------------------------------------------------------- FUSE
# -fstab through a real mount: HOST/PATH keys under the mount point.
srv=$tmp/servers
mkdir "$srv"
rm -f "$tmp/cc"
printf '%s -fstab\n' "$srv" >"$tmp/fstab_master"
"$SHARESFS" -f -c "$ANON" "$tmp/fstab_master" "$srv" >"$tmp/log.fstab" 2>&1 &
pid=$!
for _ in $(seq 100); do mountpoint -q "$srv" && break; sleep 0.05; done
mountpoint -q "$srv" || bail "sharesfs did not mount the -fstab records: $(cat "$tmp/log.fstab")"
like "$(ls "$srv" | tr '\n' ' ')" "lion.lab.test .*netatalk31.lab.test" "-fstab: a directory per server"
is "$(ls "$srv/lion.lab.test" | tr '\n' ' ')" "Groups Volumes " "-fstab: the records' paths below the server"
is "$(ls "$srv/lion.lab.test/Volumes/Data" | tr '\n' ' ')" "Attic Multimedia " "-fstab: nested path components"
got=$(ls "$srv/lion.lab.test/Volumes/Data/Attic" 2>&1 >/dev/null)
is "${got:-ok}" ok "-fstab: Attic (No User Authent) lists through sharesfs"
got=$(ls "$srv/lion.lab.test/Volumes/Data/Multimedia" 2>&1 >/dev/null)
like "$got" "Required key not available" "-fstab: Multimedia (Client Krb v2) without a ticket: ENOKEY"
fusermount3 -u "$srv"
wait "$pid"
pid=

ldapadd -Q -Y EXTERNAL -H "$SHARESFS_LAB_LDAPI" >/dev/null <<EOF || bail "cannot add the refresh map"
dn: automountMapName=auto.refresh,ou=automount,$BASE
objectClass: automountMap
automountMapName: auto.refresh

dn: automountKey=Keep,automountMapName=auto.refresh,ou=automount,$BASE
objectClass: automount
automountKey: Keep
automountInformation: -fstype=cifs,guest ://fs-default.lab.test/public

dn: automountKey=Going,automountMapName=auto.refresh,ou=automount,$BASE
objectClass: automount
automountKey: Going
automountInformation: -fstype=cifs,guest ://fs-smb2.lab.test/public
EOF
MAP="ldap:automountMapName=auto.refresh,ou=automount,$BASE"
"$SHARESFS" -f -c "$ANON" --map-refresh 2 "$MAP" "$mnt" >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.05; done
mountpoint -q "$mnt" || bail "sharesfs did not mount the directory map: $(cat "$tmp/log")"
is "$(ls "$mnt" | tr '\n' ' ')" "Going Keep " "the directory map's keys are listed"
exec 3<"$mnt/Going/hello.txt" || bail "cannot open a file on Going"
ldapdelete -Q -Y EXTERNAL -H "$SHARESFS_LAB_LDAPI" "automountKey=Going,automountMapName=auto.refresh,ou=automount,$BASE" ||
    bail "cannot delete Going"
ldapadd -Q -Y EXTERNAL -H "$SHARESFS_LAB_LDAPI" >/dev/null <<EOF || bail "cannot add New"
dn: automountKey=New,automountMapName=auto.refresh,ou=automount,$BASE
objectClass: automount
automountKey: New
automountInformation: -fstype=cifs,guest ://fs-krb.lab.test/public
EOF
kill -HUP "$pid"
for _ in $(seq 50); do [ "$(ls "$mnt" | tr '\n' ' ')" = "Keep New " ] && break; sleep 0.1; done
is "$(ls "$mnt" | tr '\n' ' ')" "Keep New " "after SIGHUP: the added key is there, the removed one gone"
mountpoint -q "$mnt" && pass "SIGHUP re-reads the map, it does not unmount" || fail "SIGHUP unmounted"
like "$(cat <&3)" "Hello from the sharesfs lab" "a file open on the removed key still reads"
# (the kernel may answer from its name cache for attr_timeout, 1 s)
for _ in $(seq 30); do [ -d "$mnt/Going" ] || break; sleep 0.1; done
[ -d "$mnt/Going" ] && fail "the removed key is still found" || pass "the removed key is not found any more"
s=$(cat "$mnt/.sharesfs/status.json")
is "$(jq -r '.mounts[] | select(.key == "Going") | .removed' <<<"$s")" true "status.json: Going removed, a file still open"
exec 3<&-
like "$(cat "$mnt/New/hello.txt")" "Hello" "the added key mounts and reads"
is "$(jq -r '.map.sources[0] | "\(.state) \(.entries)"' <<<"$s")" "ok 2" "status.json: the source read, 2 entries"

# wait_source_state STATE: up to 15 s for the map's first source to be in
# STATE (the refresh runs every 2 s); status.json in $s
wait_source_state() {
    for _ in $(seq 60); do
        s=$(cat "$mnt/.sharesfs/status.json")
        [ "$(jq -r '.map.sources[0].state' <<<"$s")" = "$1" ] && return 0
        sleep 0.25
    done
    return 1
}

# The directory becomes unreachable: the last good map is still served.
ip -n "$NS" link set lab0 down || bail "cannot take ldap.lab.test's link down"
wait_source_state last_good
is "$(jq -r '.map.sources[0].state' <<<"$s")" last_good "status.json: the source failed, its last good entries served"
like "$(jq -r '.map.sources[0].error | "\(.stage) \(.errno_name)"' <<<"$s")" "^(connect|map) (EHOSTUNREACH|ETIMEDOUT)$" \
    "status.json: why the directory could not be read"
is "$(ls "$mnt" | tr '\n' ' ')" "Keep New " "the last good map is still served"
like "$(cat "$mnt/Keep/hello.txt")" "Hello" "and its keys still read"
ip -n "$NS" link set lab0 up
wait_source_state ok
is "$(jq -r '.map.sources[0].state' <<<"$s")" ok "the directory is back: the source reads again"
fusermount3 -u "$mnt"
wait "$pid"
is "$?" 0 "sharesfs exits 0 after the unmount"
pid=

done_testing
