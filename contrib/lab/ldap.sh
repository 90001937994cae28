# shellcheck shell=bash
# The lab's LDAP directory: OpenLDAP slapd (Debian's package) on host
# ldap.lab.test, suffix dc=lab,dc=test.  Sourced by contrib/lab/lab.sh, whose
# globals it uses (STATE, REPO, DOMAIN, REALM, LAB_USER, LAB_PASS, OTHER_USER,
# OTHER_PASS); it only defines functions and constants.
#
# Every start rebuilds the server from scratch in the host's directory D:
#   D/slapd.ldif   cn=config as LDIF (written by ldap_config_ldif)
#   D/slapd.d/     cn=config, built with slapadd -n0 from slapd.ldif
#   D/tree.ldif    contrib/lab/ldap/lab-tree.ldif with the password hashes
#   D/db/          the mdb database, loaded with slapadd -n1 from tree.ldif
#   D/krb5.keytab  ldap/ldap.lab.test@LAB.TEST (written by lab.sh's setup_kdc)
#   D/slapd.pid    slapd's pid (spawn_in_ns); D/log/stdout its log (-d stats)
# The TLS files are made once into $STATE/cache/ldap-tls (ldap_ensure_tls).
# See contrib/lab/README.md, "ldap.lab.test".

LDAP_SUFFIX=dc=lab,dc=test
LDAP_READER_DN=cn=reader,$LDAP_SUFFIX
# Lab-only password of cn=reader (also in $STATE/creds/ldap-reader.pw).
LDAP_READER_PASS='Ldap-Reader-Passw0rd'
LDAP_SRC=$REPO/contrib/lab/ldap
LDAP_TLS=$STATE/cache/ldap-tls
# Bump when ldap_ensure_tls changes: the cached certificates are remade.
LDAP_TLS_VERSION=1
LDAP_SCHEMA_DIR=/etc/ldap/schema
LDAP_MODULE_DIR=/usr/lib/ldap

# ldapi://PATH of the local socket in DIR/run (a file, reachable from the
# host: no namespace in the way); for tests that write to the directory.
ldap_ldapi_uri() {
    local p=$1/run/ldapi
    printf 'ldapi://%s\n' "${p//\//%2F}"
}

# The `export` lines of the directory, for lab.sh env.
ldap_env_exports() {
    cat <<EOF2
export SHARESFS_LAB_LDAP_URI=ldap://ldap.$DOMAIN
export SHARESFS_LAB_LDAPS_URI=ldaps://ldap.$DOMAIN
export SHARESFS_LAB_LDAP_BASE=$LDAP_SUFFIX
export SHARESFS_LAB_LDAP_BINDDN=$LDAP_READER_DN
export SHARESFS_LAB_LDAP_PWFILE=$STATE/creds/ldap-reader.pw
export SHARESFS_LAB_LDAP_CA=$LDAP_TLS/ca.pem
export SHARESFS_LAB_LDAP_WRONG_CA=$LDAP_TLS/wrong-ca.pem
export SHARESFS_LAB_LDAPI=$(ldap_ldapi_uri "$STATE/hosts/ldap.$DOMAIN")
EOF2
}

# Programs and files the directory needs (lab.sh need_tools); prints the
# missing ones.
ldap_missing_tools() {
    local t
    for t in slapd slapadd slappasswd ldapsearch openssl; do
        command -v "$t" >/dev/null 2>&1 || echo "$t"
    done
    for t in core cosine nis inetorgperson; do
        [ -f "$LDAP_SCHEMA_DIR/$t.ldif" ] || echo "$LDAP_SCHEMA_DIR/$t.ldif (slapd)"
    done
    [ -e "$LDAP_MODULE_DIR/back_mdb.so" ] || echo "$LDAP_MODULE_DIR/back_mdb.so (slapd)"
    compgen -G '/usr/lib/*/sasl2/libgssapiv2.so*' >/dev/null ||
        echo "sasl2/libgssapiv2.so (libsasl2-modules-gssapi-mit)"
}

# The host's directory for a new run (before setup_kdc writes its keytab).
ldap_prepare_host() {
    local d=$1
    rotate_log "$d"
    rm -rf "${d:?}/slapd.d" "$d/db" "$d/run" "$d/slapd.ldif" "$d/tree.ldif"
    mkdir -p "$d/log" "$d/slapd.d" "$d/db" "$d/run"
    chmod 0755 "$d"
    chmod 0700 "$d/slapd.d" "$d/db"
}

# ldap_ensure_tls FQDN IP: a lab CA, a server certificate for FQDN (SAN DNS
# and IP) signed by it, and an unrelated self-signed CA (wrong-ca.pem, for
# "bad certificate" tests), made once into $LDAP_TLS.  Remade when the name,
# the address or LDAP_TLS_VERSION change or within 30 days of expiry.
ldap_ensure_tls() {
    local fqdn=$1 ip=$2 t=$LDAP_TLS new stamp ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1)
    local have='' expires=0 end
    stamp="sharesfs lab LDAP TLS v$LDAP_TLS_VERSION $fqdn $ip"
    # stamp: that line, then the certificate's notAfter in epoch seconds (no
    # openssl process on a warm start: this runs beside the other setup)
    [ -f "$t/stamp" ] && { read -r have; read -r expires; } <"$t/stamp"
    if [ "$have" = "$stamp" ] && [ -s "$t/server.key" ] && [ -s "$t/server.pem" ] &&
       [[ "$expires" =~ ^[0-9]+$ ]] && [ "$expires" -gt $((EPOCHSECONDS + 2592000)) ]; then
        return 0
    fi
    echo "LDAP TLS: making a lab CA and a certificate for $fqdn into $t"
    new=$t.new
    rm -rf "$new"
    mkdir -p "$new" && chmod 0755 "$new" || return 1
    openssl req -x509 "${ec[@]}" -nodes -sha256 -days 3650 \
        -subj "/O=sharesfs lab/CN=sharesfs lab LDAP CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$new/ca.key" -out "$new/ca.pem" 2>&1 || return 1
    openssl req -new "${ec[@]}" -nodes -subj "/O=sharesfs lab/CN=$fqdn" \
        -keyout "$new/server.key" -out "$new/server.csr" 2>&1 || return 1
    printf '%s\n' "subjectAltName=DNS:$fqdn,IP:$ip" "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >"$new/server.ext"
    openssl x509 -req -sha256 -days 3650 -in "$new/server.csr" -CA "$new/ca.pem" -CAkey "$new/ca.key" \
        -set_serial "0x$(openssl rand -hex 8)" -extfile "$new/server.ext" -out "$new/server.pem" 2>&1 || return 1
    # Same subject as the real CA: only the key differs.
    openssl req -x509 "${ec[@]}" -nodes -sha256 -days 3650 \
        -subj "/O=sharesfs lab/CN=sharesfs lab LDAP CA" \
        -keyout "$new/wrong-ca.key" -out "$new/wrong-ca.pem" 2>&1 || return 1
    rm -f "$new/server.csr" "$new/wrong-ca.key"
    chmod 0600 "$new/ca.key" "$new/server.key"
    chmod 0644 "$new/ca.pem" "$new/server.pem" "$new/wrong-ca.pem"
    end=$(openssl x509 -noout -enddate -in "$new/server.pem") || return 1
    end=$(date -u -d "${end#notAfter=}" +%s) || return 1
    printf '%s\n%s\n' "$stamp" "$end" >"$new/stamp"
    rm -rf "$t"
    mv "$new" "$t"
}

# ldap_config_ldif DIR FQDN: cn=config of the lab's slapd.
ldap_config_ldif() {
    local d=$1 fqdn=$2 s
    cat <<EOF2
# $fqdn - cn=config of the sharesfs lab's slapd (written by contrib/lab/ldap.sh;
# slapadd -n0 turns it into $d/slapd.d at every start).
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $d/run/slapd.pid
olcArgsFile: $d/run/slapd.args
olcLogLevel: none
olcToolThreads: 1
olcTLSCACertificateFile: $LDAP_TLS/ca.pem
olcTLSCertificateFile: $LDAP_TLS/server.pem
olcTLSCertificateKeyFile: $LDAP_TLS/server.key
olcSaslHost: $fqdn
olcSaslRealm: $REALM
# GSSAPI: USER@$REALM binds as uid=USER[,cn=$REALM],cn=gssapi,cn=auth
# (normalised to lower case; the realm is left out when it is olcSaslRealm),
# mapped to the person entry.
olcAuthzRegexp: {0}"^uid=([^,/]+),(cn=${REALM,,},)?cn=gssapi,cn=auth\$" "uid=\$1,ou=people,$LDAP_SUFFIX"

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: $LDAP_MODULE_DIR
olcModuleLoad: {0}back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

EOF2
    for s in core cosine nis inetorgperson; do
        printf 'include: file://%s\n\n' "$LDAP_SCHEMA_DIR/$s.ldif"
    done
    printf 'include: file://%s\n\n' "$LDAP_SRC/automount-lab.ldif"
    cat <<EOF2
dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: 1000

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

# Everyone (anonymous too) reads everything but userPassword, which only
# serves simple binds; root on this machine, through the local socket
# (ldapi, SASL EXTERNAL), may change anything: tests add and remove records.
dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: $LDAP_SUFFIX
olcDbDirectory: $d/db
olcDbMaxSize: 67108864
olcDbIndex: objectClass eq
olcDbIndex: cn,ou,uid,automountMapName,automountKey,nisMapName eq
olcAccess: {0}to * by dn.exact=gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth manage by * break
olcAccess: {1}to attrs=userPassword by * auth
olcAccess: {2}to * by * read
EOF2
}

# ldap_setup DIR FQDN IP: TLS files, cn=config and the database, the reader's
# password file.  Runs in the background of lab.sh start, its output in
# DIR/log/setup.log.
ldap_setup() {
    local d=$1 fqdn=$2 ip=$3 rh uh oh
    ldap_ensure_tls "$fqdn" "$ip" || { echo "LDAP TLS files failed"; return 1; }
    # The three hashes at once (~60 ms each), while cn=config is built.
    # slapadd -q: no fsync per entry (without it -n1 takes ~0.5 s); the
    # database is rebuilt at every start anyway.
    slappasswd -h '{SSHA}' -s "$LDAP_READER_PASS" >"$d/run/reader.hash" &
    slappasswd -h '{SSHA}' -s "$LAB_PASS" >"$d/run/labuser.hash" &
    slappasswd -h '{SSHA}' -s "$OTHER_PASS" >"$d/run/other.hash" &
    ldap_config_ldif "$d" "$fqdn" >"$d/slapd.ldif" || return 1
    slapadd -q -n0 -F "$d/slapd.d" -l "$d/slapd.ldif" || { echo "slapadd -n0 (cn=config) failed"; return 1; }
    wait
    rh=$(<"$d/run/reader.hash") uh=$(<"$d/run/labuser.hash") oh=$(<"$d/run/other.hash")
    rm -f "$d"/run/*.hash
    [ -n "$rh" ] && [ -n "$uh" ] && [ -n "$oh" ] || { echo "slappasswd failed"; return 1; }
    sed -e "s|@READER_HASH@|$rh|" -e "s|@LABUSER_HASH@|$uh|" -e "s|@OTHER_HASH@|$oh|" \
        "$LDAP_SRC/lab-tree.ldif" >"$d/tree.ldif" || return 1
    slapadd -q -n1 -F "$d/slapd.d" -l "$d/tree.ldif" || { echo "slapadd -n1 ($LDAP_SUFFIX) failed"; return 1; }
    mkdir -p "$STATE/creds"
    # The password alone, without a newline: ldapsearch -y FILE sends the
    # file's bytes as they are.
    ( umask 077; printf '%s' "$LDAP_READER_PASS" >"$STATE/creds/ldap-reader.pw" ) || return 1
    chmod 0600 "$STATE/creds/ldap-reader.pw"
}

# start_slapd NS DIR IP: slapd in the foreground (-d), as root, plain LDAP
# with StartTLS on :389 and LDAPS on :636 of IP.  GSSAPI: the host's keytab
# and the lab's krb5.conf.
start_slapd() {
    local ns=$1 d=$2 ip=$3
    spawn_in_ns "$ns" "$d" slapd env KRB5_KTNAME="FILE:$d/krb5.keytab" KRB5_CONFIG="$STATE/krb5.conf" \
        slapd -d stats -F "$d/slapd.d" -h "ldap://$ip:389/ ldaps://$ip:636/ $(ldap_ldapi_uri "$d")"
}

# Ready once an anonymous base search of the suffix answers.
ldap_ready() {
    local d=$1 ip=$2
    LDAPNOINIT=1 timeout 5 ldapsearch -x -LLL -o nettimeout=2 -H "ldap://$ip:389" \
        -b "$LDAP_SUFFIX" -s base dn >"$d/log/ready.err" 2>&1
}

# ad_add_automount_maps SMB.CONF NAME FQDN: adds contrib/lab/ldap/ad-automount.ldif
# to the (stopped) AD DC whose provisioned smb.conf this is, and the SPNs
# ldap/FQDN and ldap/NAME to the DC's account: samba_spnupdate, which would
# add them, runs only with the dnsupdate service, which the lab's DC does not
# run, and without them a GSSAPI bind gets "Server not found in Kerberos
# database" (cifs/ and host/ work through sPNMappings; ldap/ is not in it).
# Offline, through samba's Python bindings (Debian's samba packages have no
# ldbadd), with the interpreter samba-tool itself runs under.
ad_add_automount_maps() {
    local conf=$1 name=$2 fqdn=$3 py
    py=$(head -n 1 "$(command -v samba-tool)" | sed -e 's/^#![[:space:]]*//' -e 's/[[:space:]].*//')
    [ -x "$py" ] || py=/usr/bin/python3
    "$py" - "$conf" "$LDAP_SRC/ad-automount.ldif" "$name" "$fqdn" <<'PY'
import sys
import ldb
from samba.param import LoadParm
from samba.auth import system_session
from samba.samdb import SamDB
conf, ldif, name, fqdn = sys.argv[1:5]
lp = LoadParm()
lp.load(conf)
db = SamDB(url=lp.samdb_url(), lp=lp, session_info=system_session())
with open(ldif) as f:
    db.add_ldif(f.read())
n = len(db.search(base="OU=automount," + str(db.domain_dn()), expression="(objectClass=nisObject)"))
print("AD automount maps: %d nisObject entries under OU=automount" % n)
res = db.search(base=db.domain_dn(), expression="(sAMAccountName=%s$)" % name.upper(),
                attrs=["servicePrincipalName"])
if len(res) != 1:
    sys.exit("no computer account %s$" % name.upper())
have = {str(v).lower() for v in res[0].get("servicePrincipalName", [])}
add = [s for s in ("ldap/" + fqdn, "ldap/" + name.upper()) if s.lower() not in have]
if add:
    m = ldb.Message()
    m.dn = res[0].dn
    m["servicePrincipalName"] = ldb.MessageElement(add, ldb.FLAG_MOD_ADD, "servicePrincipalName")
    db.modify(m)
print("AD SPNs added to %s$: %s" % (name.upper(), " ".join(add)))
PY
}
