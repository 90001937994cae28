#!/bin/bash
# The lab's directory servers, server side: OpenLDAP slapd on ldap.lab.test
# (suffix dc=lab,dc=test; contrib/lab/ldap.sh) and the NIS-form automount
# maps of the Samba AD DC dc1.ad.lab.test, read with OpenLDAP's own clients
# (ldapsearch, ldapwhoami): every tree, each kind of bind, StartTLS and LDAPS
# with the lab CA and with a wrong one, the result codes of the failures.
# What sharesfs itself does with these records is tested elsewhere.
. "$(dirname "$0")/lib.sh"
lab_join
for t in ldapsearch ldapwhoami klist; do
    command -v "$t" >/dev/null || bail "$t not installed (contrib/lab/PACKAGES: ldap-utils, krb5-user)"
done
[ -n "${SHARESFS_LAB_LDAP_URI:-}" ] || bail "the lab env has no SHARESFS_LAB_LDAP_URI: a lab without ldap.lab.test?"
getent hosts ldap.lab.test >/dev/null || bail "ldap.lab.test does not resolve: a lab without the LDAP host?"
getent hosts dc1.ad.lab.test >/dev/null || bail "dc1.ad.lab.test does not resolve: a lab without the AD DC?"
[ -n "${KRB5_CONFIG:-}" ] && [ -f "$KRB5_CONFIG" ] || bail "the lab has no Kerberos (KRB5_CONFIG)"
for f in "$SHARESFS_LAB_LDAP_PWFILE" "$SHARESFS_LAB_LDAP_CA" "$SHARESFS_LAB_LDAP_WRONG_CA"; do
    [ -r "$f" ] || bail "$f missing: is the lab started?"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
URI=$SHARESFS_LAB_LDAP_URI
BASE=$SHARESFS_LAB_LDAP_BASE
# No ~/.ldaprc or $LDAPRC of the caller; /etc/ldap/ldap.conf is read, the
# LDAPTLS_* variables below override its TLS settings.
unset LDAPRC LDAPBASE LDAPURI LDAPBINDDN LDAPTLS_CACERT LDAPTLS_CACERTDIR LDAPTLS_REQCERT
export LDAPRC=/dev/null
export KRB5CCNAME=FILE:$tmp/cc
# q CMD...: runs an LDAP client, its output (stdout and stderr) in $out,
# its exit status in $rc
q() { out=$("$@" 2>&1); rc=$?; }
search() { q ldapsearch -LLL -o ldif-wrap=no -o nettimeout=5 "$@"; }
# count of "dn:" lines in $out
ndn() { grep -c '^dn:' <<<"$out"; }

# ---------------------------------------------------------------- anonymous
search -x -H "$URI" -b "$BASE" -s base dn
is "$rc" 0 "anonymous base search of $BASE"
[ "$rc" = 0 ] || bail "ldap.lab.test does not answer: $out"

search -x -H "$URI" -b "cn=mounts,$BASE" '(&(objectClass=mount)(cn=lion.lab.test:*))' mountOption
is "$(ndn)" 3 "anonymous: the 3 seed Open Directory mount records of lion"
for want in "url==afp://lion.lab.test/Groups" \
            "url==afp://;AUTH=No%20User%20Authent@lion.lab.test/Attic" \
            "url==afp://;AUTH=Client%20Krb%20v2@lion.lab.test/Multimedia"; do
    is "$(grep -cxF "mountOption: $want" <<<"$out")" 1 "seed record: mountOption $want"
done
is "$(grep -cx 'mountOption: net' <<<"$out")" 3 "seed records: each has mountOption net"
search -x -H "$URI" -b "cn=lion.lab.test:/Volumes/Data/Attic,cn=mounts,$BASE" -s base mountDirectory mountType
like "$out" "mountDirectory: /Network/Servers/" "Attic: mountDirectory /Network/Servers/"
like "$out" "mountType: url" "Attic: mountType url"

search -x -H "$URI" -b "cn=mounts,$BASE" '(&(objectClass=mount)(mountOption=net))' cn
is "$(ndn)" 7 "-fstab: 7 net records (lion x3, netatalk31, netatalk42, samba413, samba422)"
search -x -H "$URI" -b "cn=mounts,$BASE" '(&(objectClass=mount)(!(mountOption=net)))' mountDirectory
is "$(grep '^mountDirectory:' <<<"$out")" "mountDirectory: /Volumes/LabPublic" "-static: one record, at /Volumes/LabPublic"

search -x -H "$URI" -b "automountMapName=auto_master,$BASE" '(objectClass=automount)' automountKey automountInformation
is "$(grep '^automountKey:' <<<"$out" | sort | tr '\n' ' ')" "automountKey: /- automountKey: /Network/Servers automountKey: /Network/Shares " \
    "auto_master (Open Directory, rfc2307bis): /Network/Servers, /-, /Network/Shares"
like "$out" "automountInformation: -fstab" "auto_master: /Network/Servers -fstab"

# rfc2307bis, the old autofs schema, NIS
search -x -H "$URI" -b "ou=automount,$BASE" '(objectClass=automountMap)' automountMapName
is "$(grep '^automountMapName:' <<<"$out" | sort | tr '\n' ' ')" "automountMapName: auto.lab automountMapName: auto.master " \
    "ou=automount: maps auto.master and auto.lab"
search -x -H "$URI" -b "automountMapName=auto.master,ou=automount,$BASE" '(automountKey=/mnt/lab-ro)' automountInformation
is "$(grep '^automountInformation:' <<<"$out")" \
    "automountInformation: ldap:automountMapName=auto.lab,ou=automount,dc=lab,dc=test -ro" \
    "auto.master: /mnt/lab-ro names its map by ldap:DN"
search -x -H "$URI" -b "automountMapName=auto.lab,ou=automount,$BASE" '(objectClass=automount)' automountKey
is "$(ndn)" 4 "auto.lab: 4 keys"
search -x -H "$URI" -b "automountMapName=auto.lab,ou=automount,$BASE" '(automountKey=/)' automountInformation
is "$(grep '^automountInformation:' <<<"$out")" "automountInformation: -fstype=cifs,guest ://fs-default.lab.test/&" \
    "auto.lab: the wildcard key /"
search -x -H "$URI" -b "ou=auto.old,ou=autofs,$BASE" '(&(objectClass=automount)(cn=*))' cn automountInformation
is "$(ndn)" 2 "ou=autofs: auto.old (automountMap + ou) has 2 automount entries keyed by cn"
search -x -H "$URI" -b "ou=nis,$BASE" '(&(objectClass=nisObject)(nisMapName=auto.nis))' cn nisMapEntry
is "$(ndn)" 2 "ou=nis: auto.nis has 2 nisObject entries"
like "$out" "nisMapEntry: -fstype=cifs,guest ://fs-default.lab.test/public" "auto.nis: Public's nisMapEntry"
search -x -H "$URI" -b "automountMapName=auto.broken,ou=broken,$BASE" '(objectClass=automount)' automountKey automountInformation
is "$(ndn)" 2 "ou=broken: auto.broken has 2 entries"
search -x -H "$URI" -b "automountKey=broken,automountMapName=auto.broken,ou=broken,$BASE" -s base '(!(automountInformation=*))' dn
is "$(ndn)" 1 "ou=broken: the key 'broken' has no automountInformation"

# userPassword: for binds only
search -x -H "$URI" -b "$BASE" '(cn=reader)' userPassword
is "$(grep -c '^userPassword' <<<"$out")" 0 "anonymous: userPassword is not readable"

# ---------------------------------------------------------------- simple binds
q ldapwhoami -x -H "$URI" -D "$SHARESFS_LAB_LDAP_BINDDN" -y "$SHARESFS_LAB_LDAP_PWFILE"
is "$rc:$out" "0:dn:$SHARESFS_LAB_LDAP_BINDDN" "simple bind as $SHARESFS_LAB_LDAP_BINDDN with the password file"
search -x -H "$URI" -D "$SHARESFS_LAB_LDAP_BINDDN" -y "$SHARESFS_LAB_LDAP_PWFILE" -b "$BASE" '(cn=reader)' userPassword
is "$(grep -c '^userPassword' <<<"$out")" 0 "bound as reader: userPassword is not readable either"
printf 'Wrong-Passw0rd' >"$tmp/wrong.pw"
chmod 0600 "$tmp/wrong.pw"
q ldapwhoami -x -H "$URI" -D "$SHARESFS_LAB_LDAP_BINDDN" -y "$tmp/wrong.pw"
is "$rc" 49 "simple bind with a wrong password: exit status 49"
like "$out" "Invalid credentials \(49\)" "wrong password: invalidCredentials (49)"
search -x -H "$URI" -b "ou=nosuch,$BASE" dn
is "$rc" 32 "search of an unknown base: exit status 32"
like "$out" "No such object \(32\)" "unknown base: noSuchObject (32)"

# ---------------------------------------------------------------- TLS
q env LDAPTLS_CACERT="$SHARESFS_LAB_LDAP_CA" ldapwhoami -x -ZZ -H "$URI" -D "$SHARESFS_LAB_LDAP_BINDDN" -y "$SHARESFS_LAB_LDAP_PWFILE"
is "$rc:$out" "0:dn:$SHARESFS_LAB_LDAP_BINDDN" "StartTLS (-ZZ) with the lab CA, then a simple bind"
q env LDAPTLS_CACERT="$SHARESFS_LAB_LDAP_CA" ldapwhoami -x -H "ldaps://ldap.lab.test"
is "$rc:$out" "0:anonymous" "LDAPS (:636) with the lab CA"
q env LDAPTLS_CACERT="$SHARESFS_LAB_LDAP_CA" ldapwhoami -x -H "ldaps://10.231.32.2"
is "$rc:$out" "0:anonymous" "LDAPS by address: the certificate names IP 10.231.32.2 too"
q env LDAPTLS_CACERT="$SHARESFS_LAB_LDAP_WRONG_CA" ldapwhoami -x -ZZ -H "$URI"
is "$rc" 1 "StartTLS with the wrong CA fails: exit status 1"
like "$out" "ldap_start_tls: Connect error \(-11\)" "wrong CA, StartTLS: Connect error (-11)"
q env LDAPTLS_CACERT="$SHARESFS_LAB_LDAP_WRONG_CA" ldapwhoami -x -H "ldaps://ldap.lab.test"
is "$rc" 255 "LDAPS with the wrong CA fails: exit status 255"
like "$out" "Can't contact LDAP server \(-1\)" "wrong CA, LDAPS: Can't contact LDAP server (-1)"

# ---------------------------------------------------------------- GSSAPI
rm -f "$tmp/cc"
q ldapwhoami -Y GSSAPI -N -Q -H "$URI"
isnt_ok=$rc
like "$isnt_ok" "^[1-9][0-9]*$" "GSSAPI without a ticket fails (exit status $isnt_ok)"
"$LAB" kinit labuser "$KRB5CCNAME" >/dev/null || bail "kinit labuser failed"
q ldapwhoami -Y GSSAPI -N -Q -H "$URI"
is "$rc:$out" "0:dn:uid=labuser,ou=people,dc=lab,dc=test" \
    "GSSAPI with labuser's ticket (-N: no reverse lookup): mapped to uid=labuser,ou=people"
like "$(klist 2>&1)" "ldap/ldap\.lab\.test@LAB\.TEST" "the service ticket is ldap/ldap.lab.test@LAB.TEST"
q env LDAPTLS_CACERT="$SHARESFS_LAB_LDAP_CA" ldapwhoami -Y GSSAPI -N -Q -ZZ -H "$URI"
is "$rc:$out" "0:dn:uid=labuser,ou=people,dc=lab,dc=test" "GSSAPI over StartTLS"

# ---------------------------------------------------------------- AD DC
AD=ldap://dc1.ad.lab.test
ADBASE=OU=automount,DC=ad,DC=lab,DC=test
rm -f "$tmp/cc"
"$LAB" kinit aduser@AD.LAB.TEST "$KRB5CCNAME" >/dev/null || bail "kinit aduser@AD.LAB.TEST failed"
search -Y GSSAPI -N -Q -H "$AD" -b "$ADBASE" '(objectClass=nisMap)' nisMapName
is "$rc" 0 "AD: GSSAPI search of $ADBASE as aduser"
is "$(grep '^nisMapName:' <<<"$out" | sort | tr '\n' ' ')" "nisMapName: auto.ad nisMapName: auto.master " \
    "AD: nisMap records auto.master and auto.ad"
search -Y GSSAPI -N -Q -H "$AD" -b "$ADBASE" '(objectClass=nisObject)' cn nisMapName nisMapEntry
is "$(ndn)" 3 "AD: 3 nisObject records"
like "$out" "nisMapEntry: auto\.ad" "AD: auto.master's /mnt/ad names auto.ad"
like "$out" "nisMapEntry: -fstype=cifs,sec=krb5 ://dc1\.ad\.lab\.test/netlogon" "AD: auto.ad's netlogon entry"
like "$out" "nisMapEntry: -fstype=cifs,sec=krb5 ://dc1\.ad\.lab\.test/sysvol" "AD: auto.ad's sysvol entry"
printf 'Ad-Passw0rd!' >"$tmp/ad.pw"
chmod 0600 "$tmp/ad.pw"
search -x -H "$AD" -D "aduser@AD.LAB.TEST" -y "$tmp/ad.pw" -b "$ADBASE" dn
is "$rc" 8 "AD: simple bind without TLS: exit status 8"
like "$out" "Strong\(er\) authentication required \(8\)" "AD: simple bind without TLS: strongerAuthRequired (8)"
search -x -H "$AD" -b "$ADBASE" dn
is "$rc" 1 "AD: anonymous search: exit status 1"
like "$out" "Operations error \(1\)" "AD: anonymous search: operationsError (1)"

done_testing
