#!/bin/bash
# sharesfs local lab: real Samba servers, one network namespace per host.
#
#   lab.sh start    (re)start the lab; idempotent, cleans up any previous run first
#   lab.sh stop     stop every server and delete the namespaces; idempotent
#   lab.sh status   one line per host: name, address, pid, listening or not
#   lab.sh env      `export` lines a client needs (eval "$(lab.sh env)")
#   lab.sh kinit [USER[@REALM] [CCACHE [KINIT-OPTION...]]]
#                   TGT of a lab user (default labuser; USER@REALM picks the
#                   realm, aduser is in AD.LAB.TEST) into CCACHE (default
#                   FILE:$STATE/ccache-USER) with the lab password; prints CCACHE
#
# Hosts live in 10.231.N.0/24 on veth pairs that exist only on this machine
# (host side .1, namespace side .2).  Names resolve through nss_wrapper only;
# nothing under /etc is changed.  Kerberos: an MIT KDC for realm LAB.TEST
# (host kdc) and a Samba AD DC for realm AD.LAB.TEST (host dc1.ad.lab.test);
# clients use $STATE/krb5.conf.  LDAP: OpenLDAP slapd on ldap.lab.test
# (contrib/lab/ldap.sh).  See contrib/lab/README.md.
#
# State:    ${SHARESFS_LAB_DIR:-/run/sharesfs-lab}
# Requires: root, the packages in contrib/lab/PACKAGES.

set -uo pipefail

STATE=${SHARESFS_LAB_DIR:-/run/sharesfs-lab}
STATE=${STATE%/}
NS_PREFIX=labsfs-          # every netns whose name starts with this belongs to the lab
LINK_PREFIX=labsfs         # host-side veth ends: labsfs<N>
NS_IFACE=lab0              # namespace-side veth end
NET=10.231
DOMAIN=lab.test
WORKGROUP=LAB

LAB_USER=labuser
LAB_UID=2001
LAB_GID=2001
LAB_PASS='Lab-Passw0rd'
WRONG_PASS='Wrong-Passw0rd'
# "Cleartxt Passwrd" carries at most 8 bytes: an AFP-only user that fits.
CLR_USER=clruser
CLR_PASS='Clr8pass'
CLR_UID=2003              # in the real netatalk and Samba containers
# Kerberos realm of the lab (MIT krb5kdc on host kdc).  otheruser is a second
# realm user with a Unix account (nss_wrapper) but no SMB/AFP password.
REALM=LAB.TEST
OTHER_USER=otheruser
OTHER_UID=2002
OTHER_PASS='Other-Passw0rd'
# Samba AD DC (host kind "addc"): its own realm and DNS domain, so it does not
# clash with the MIT realm above.  Provisioned once into $STATE/cache (see
# ensure_ad_template); aduser is a domain user made there with samba-tool.
AD_REALM=AD.LAB.TEST
AD_DOMAIN=ad.lab.test
AD_WORKGROUP=AD
AD_USER=aduser
AD_PASS='Ad-Passw0rd!'
AD_ADMIN_PASS='Adm1n-Passw0rd!'
# Bump when the provisioning steps change: the cached template is rebuilt.
AD_TEMPLATE_VERSION=2

READY_TIMEOUT_MS=10000     # per start, all hosts together
READY_STEP=0.01            # poll TCP :445 every 10 ms
TERM_GRACE_MS=2000         # SIGTERM, then SIGKILL after this

# big.bin: 64 MiB of AES-128-CTR keystream, key "sharesfs-lab-v1\0", IV 0.
BIG_SIZE=67108864
BIG_KEY=73686172657366732d6c61622d763100
BIG_IV=00000000000000000000000000000000
BIG_SHA256_OPENSSL=244e3daaf3849acf81315ee4f8d66e118cdf003288a4393cfb3bcb2c3b99283d
# Fallback when openssl is missing: xorshift64 in perl (different content).
BIG_SHA256_PERL=a271990038660ae044c9d479cc40f7c49602c732551943b85244b27b685d1687

# Hosts: name|N|netns|kind.  kind "smb" runs an smbd, "afp:PERSONALITY" an
# afpsim with contrib/afpsim/personalities/PERSONALITY.conf, "down" is a
# namespace whose veth end is down (nothing answers: EHOSTUNREACH after ~3 s),
# "kdc" the MIT krb5kdc of realm $REALM (UDP and TCP :88), "addc" a Samba
# AD DC of realm $AD_REALM (named NAME.$AD_DOMAIN, not NAME.$DOMAIN), "ldap"
# OpenLDAP slapd (contrib/lab/ldap.sh; :389 and :636), "real" a
# real server of another Debian release in a container (realservers.sh:
# samba413 and netatalk31 from bullseye, samba422 and netatalk42 from trixie).
HOSTS=(
    "fs-default|10|${NS_PREFIX}default|smb"
    "nas-smb1|11|${NS_PREFIX}smb1|smb"
    "fs-smb2|12|${NS_PREFIX}smb2|smb"
    "fs-smb3|13|${NS_PREFIX}smb3|smb"
    "fs-krb|14|${NS_PREFIX}krb|smb"
    "gone|19|${NS_PREFIX}gone|down"
    "lion|20|${NS_PREFIX}lion|afp:macos-10.7-lion"
    "snowleopard|21|${NS_PREFIX}snow|afp:macos-10.6-snowleopard"
    "tiger|22|${NS_PREFIX}tiger|afp:macos-10.4-tiger"
    "netatalk4|23|${NS_PREFIX}ntalk4|afp:netatalk-4"
    "hostile|24|${NS_PREFIX}hostile|afp:hostile"
    "krbmissing|25|${NS_PREFIX}krbmiss|afp:macos-10.6-snowleopard"
    "kdc|30|${NS_PREFIX}kdc|kdc"
    "dc1|31|${NS_PREFIX}dc1|addc"
    "ldap|32|${NS_PREFIX}ldap|ldap"
    "samba413|40|${NS_PREFIX}s413|real"
    "samba422|41|${NS_PREFIX}s422|real"
    "netatalk31|42|${NS_PREFIX}nt31|real"
    "netatalk42|43|${NS_PREFIX}nt42|real"
)
# Kerberos service principals in the KDC, each with a keytab in its host's
# directory ($STATE/hosts/<fqdn>/krb5.keytab).  krbmissing is left out on
# purpose: its principal is unknown to the KDC (KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN).
KRB_SERVICES=(
    "fs-krb|cifs"
    "lion|afpserver"
    "snowleopard|afpserver"
    "tiger|afpserver"
    "netatalk4|afpserver"
    "samba413|cifs"
    "samba422|cifs"
    "netatalk31|afpserver"
    "netatalk42|afpserver"
    "ldap|ldap"
)
REPO=$(cd "$(dirname "$0")/../.." && pwd)
AFPSIM=${SHARESFS_AFPSIM:-$REPO/build/contrib/afpsim/afpsim}
PERSONALITIES=$REPO/contrib/afpsim/personalities
REALSERVERS=$REPO/contrib/lab/realservers.sh
# Each server's pid file is DIR/NAME.pid, one NAME per kind of host
# (nspawn: the container of a real server).
SERVERS=(smbd afpsim krb5kdc samba nspawn slapd)

# nss_wrapper_lib, veth_configure, smb.conf and krb5.conf pieces
# shellcheck source=contrib/lab/common.sh
. "$REPO/contrib/lab/common.sh"
# the LDAP host: slapd's config, data, TLS files (ldap_* and start_slapd)
# shellcheck source=contrib/lab/ldap.sh
. "$REPO/contrib/lab/ldap.sh"

PROG=${0##*/}

say()  { printf '%s\n' "$*"; }
warn() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die()  { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }

# SHARESFS_LAB_DEBUG=1 prints the time of each start/stop phase.
T_START=${EPOCHREALTIME/[.,]/}
phase() {
    [ -n "${SHARESFS_LAB_DEBUG:-}" ] || return 0
    local t=${EPOCHREALTIME/[.,]/}
    printf '%s: +%d ms %s\n' "$PROG" $(( (t - T_START) / 1000 )) "$*" >&2
}

# host_fields "name|N|ns|kind" -> H_NAME H_N H_NS H_KIND H_IP H_FQDN H_LINK H_DIR H_PORT H_PERSONA
host_fields() {
    IFS='|' read -r H_NAME H_N H_NS H_KIND <<<"$1"
    H_PERSONA=
    H_PORT=445
    if [ "${H_KIND%%:*}" = afp ]; then
        H_PERSONA=${H_KIND#afp:}
        H_KIND=afp
        H_PORT=548
    fi
    [ "$H_KIND" = kdc ] && H_PORT=88
    [ "$H_KIND" = ldap ] && H_PORT=389
    [ "$H_KIND" = real ] && [ "${H_NAME#netatalk}" != "$H_NAME" ] && H_PORT=548
    H_IP=$NET.$H_N.2
    H_FQDN=$H_NAME.$DOMAIN
    [ "$H_KIND" = addc ] && H_FQDN=$H_NAME.$AD_DOMAIN
    H_LINK=$LINK_PREFIX$H_N
    H_DIR=$STATE/hosts/$H_FQDN
}

# Human description of a host's personality, for the summary.
host_dialects() {
    case $1 in
        fs-default) echo "SMB2_02..SMB3_11 (Samba defaults)" ;;
        nas-smb1)   echo "NT1 only" ;;
        fs-smb2)    echo "SMB2_02 only" ;;
        fs-smb3)    echo "SMB3_11 only, encryption required, no guest" ;;
        fs-krb)     echo "SMB2_02..SMB3_11, Kerberos (keytab) + NTLM" ;;
        gone)       echo "none: link down, EHOSTUNREACH" ;;
        kdc)        echo "MIT krb5kdc, realm $REALM, UDP+TCP :88" ;;
        dc1)        echo "Samba AD DC, realm $AD_REALM (KDC, LDAP)" ;;
        ldap)       echo "OpenLDAP slapd, StartTLS :389, LDAPS :636" ;;
        samba413)   echo "real Samba 4.13 (Debian 11), SMB2_02..SMB3_11" ;;
        samba422)   echo "real Samba 4.22 (Debian 13), SMB2_02..SMB3_11" ;;
        netatalk31) echo "AFP: real netatalk 3.1.12 (Debian 11)" ;;
        netatalk42) echo "AFP: real netatalk 4.2.3 (Debian 13)" ;;
        *)          echo "AFP: afpsim $(host_persona_of "$1")" ;;
    esac
}
host_persona_of() {
    local h
    for h in "${HOSTS[@]}"; do
        [ "${h%%|*}" = "$1" ] && { host_fields "$h"; echo "$H_PERSONA"; return; }
    done
}
host_shares() {
    case $1 in
        fs-default) echo "public(guest,ro) user data" ;;
        fs-smb3)    echo "public(labuser only,ro) user" ;;
        gone|kdc)   echo "-" ;;
        dc1)        echo "netlogon sysvol (domain users)" ;;
        ldap)       echo "$LDAP_SUFFIX: cn=mounts ou=automount ou=autofs ou=nis ou=broken" ;;
        lion|snowleopard|tiger|netatalk4|hostile|krbmissing) echo "Public Attic(guest) Private Groups Multimedia(labuser)" ;;
        netatalk31|netatalk42) echo "Public(guest,ro) Private(labuser, clruser)" ;;
        *)          echo "public(guest,ro) user" ;;
    esac
}

need_root() { [ "$(id -u)" = 0 ] || die "must run as root (network namespaces, smbd on :445)"; }

need_tools() {
    local t missing=()
    for t in ip smbd smbpasswd setsid flock sha256sum timeout awk head \
             krb5kdc kdb5_util kadmin.local kinit; do
        command -v "$t" >/dev/null 2>&1 || missing+=("$t")
    done
    nss_wrapper_lib >/dev/null || missing+=("libnss_wrapper.so")
    if kind_fields addc; then
        # Each of these is a separate Debian package that the DC needs and
        # that `samba` only recommends (or not at all): see PACKAGES.
        for t in samba samba-tool smbclient winbindd; do
            command -v "$t" >/dev/null 2>&1 || missing+=("$t")
        done
        [ -d /usr/share/samba/setup ] || missing+=("/usr/share/samba/setup (samba-ad-provision)")
        local mod
        for mod in /usr/lib/*-linux-gnu/samba /usr/lib64/samba /usr/lib/samba ""; do
            [ -n "$mod" ] && [ -d "$mod/ldb" ] && break
        done
        [ -n "$mod" ] || mod=$(smbd -b 2>/dev/null | awk '$1 == "MODULESDIR:" { print $2 }')
        [ -e "${mod:-/nonexistent}/ldb/samba_dsdb.so" ] || missing+=("samba_dsdb.so (samba-dsdb-modules)")
        [ -e "${mod:-/nonexistent}/vfs/acl_xattr.so" ] || missing+=("vfs/acl_xattr.so (samba-vfs-modules)")
    fi
    if kind_fields ldap; then
        mapfile -t -O "${#missing[@]}" missing < <(ldap_missing_tools)
    fi
    command -v openssl >/dev/null 2>&1 || command -v perl >/dev/null 2>&1 || missing+=("openssl")
    [ -x "$AFPSIM" ] || missing+=("afpsim at $AFPSIM (build it: ninja -C build, or set SHARESFS_AFPSIM)")
    [ ${#missing[@]} -eq 0 ] ||
        die "missing: ${missing[*]} (install the packages in contrib/lab/PACKAGES)"
}

# One lab at a time: start/stop serialise on a lock next to the state dir.
take_lock() {
    local parent=${STATE%/*}
    [ -n "$parent" ] || parent=/
    mkdir -p "$parent" || die "cannot create $parent"
    exec 9>"$STATE.lock" || die "cannot open $STATE.lock"
    flock -w 30 9 || die "another lab.sh holds $STATE.lock"
}

# ---------------------------------------------------------------- teardown

# Is PID still one of our server processes?  PIDs wrap quickly, so check the
# command line names our config before signalling anything from a pid file.
pid_is_ours() {
    local pid=$1 conf=$2 cmd
    [ -r "/proc/$pid/cmdline" ] || return 1
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ "$cmd" == *"$conf"* ]]
}

# samba renames itself ("samba: root process"): its command line no longer
# names the config.  It is ours when its stdout is the DC's log/stdout.
samba_pid_is_ours() {
    local pid=$1 d=$2 out
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = samba ] || return 1
    out=$(readlink "/proc/$pid/fd/1" 2>/dev/null) || return 1
    [ "$out" = "$(readlink -f "$d/log/stdout")" ]
}

# Is PID, read from DIR/NAME.pid, still the server that wrote it?
server_is_ours() {
    local d=$1 name=$2 pid=$3
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    case $name in
        smbd)    pid_is_ours "$pid" "$d/smb.conf" ;;
        afpsim)  pid_is_ours "$pid" "$d/users" ;;
        krb5kdc) pid_is_ours "$pid" "$d/run/krb5kdc.pid" ;;
        samba)   samba_pid_is_ours "$pid" "$d" ;;
        nspawn)  pid_is_ours "$pid" "--bind=$d:/lab" ;;
        slapd)   pid_is_ours "$pid" "$d/slapd.d" ;;
        *)       return 1 ;;
    esac
}

# The pid a host's server wrote; false when there is none.
host_pid() {
    local name
    for name in "${SERVERS[@]}"; do
        [ -f "$1/$name.pid" ] && { cat "$1/$name.pid"; return; }
    done
    return 1
}

lab_netns_list() {
    ip netns list 2>/dev/null | awk -v p="$NS_PREFIX" 'index($1, p) == 1 { print $1 }'
}

lab_link_list() {
    ip -o link show 2>/dev/null |
        awk -v p="$LINK_PREFIX" '{ n = $2; sub(/:$/, "", n); sub(/@.*/, "", n);
                                   if (n ~ ("^" p "[0-9]+$")) print n }'
}

# Stops everything the lab owns: tracked smbd pids, every process inside a
# labsfs-* namespace (the AD DC's ~25 samba/smbd/winbindd processes too),
# the namespaces and any host-side veth left behind.
teardown() {
    local quiet=${1:-}
    local pids=() f pid ns name deadline alive left p

    for name in "${SERVERS[@]}"; do
        for f in "$STATE"/hosts/*/"$name.pid"; do
            [ -e "$f" ] || continue
            pid=$(cat "$f" 2>/dev/null) || continue
            server_is_ours "${f%/*}" "$name" "$pid" && pids+=("$pid")
        done
    done
    for ns in $(lab_netns_list); do
        for p in $(ip netns pids "$ns" 2>/dev/null); do pids+=("$p"); done
    done

    if [ ${#pids[@]} -gt 0 ]; then
        mapfile -t pids < <(printf '%s\n' "${pids[@]}" | sort -un)
        [ -n "$quiet" ] || say "stopping ${#pids[@]} process(es)"
        kill -TERM "${pids[@]}" 2>/dev/null
        deadline=$(( $(now_ms) + TERM_GRACE_MS ))
        while :; do
            alive=()
            for p in "${pids[@]}"; do
                # a zombie counts as gone
                if [ -e "/proc/$p" ] && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null; then
                    alive+=("$p")
                fi
            done
            [ ${#alive[@]} -eq 0 ] && break
            if [ "$(now_ms)" -ge "$deadline" ]; then
                warn "SIGKILL to ${alive[*]} (no exit ${TERM_GRACE_MS} ms after SIGTERM)"
                kill -KILL "${alive[@]}" 2>/dev/null
                sleep 0.05
                break
            fi
            sleep 0.01
        done
        pids=()
    fi

    # Host-side veth ends first: deleting one end removes the pair at once,
    # while a namespace's own links go away asynchronously after netns del.
    for name in $(lab_link_list); do
        ip link del "$name" 2>/dev/null || warn "cannot delete link $name"
    done
    for ns in $(lab_netns_list); do
        # anything that entered the namespace meanwhile
        left=$(ip netns pids "$ns" 2>/dev/null)
        [ -n "$left" ] && kill -KILL $left 2>/dev/null
        ip netns del "$ns" 2>/dev/null || warn "cannot delete netns $ns"
    done
    for name in "${SERVERS[@]}"; do
        rm -f "$STATE"/hosts/*/"$name.pid" 2>/dev/null
    done
    [ -d "$STATE" ] && echo stopped >"$STATE/state"
    return 0
}

# ---------------------------------------------------------------- setup

write_nss_files() {
    local d=$STATE/nss h
    mkdir -p "$d"
    # Copies of the machine's files (so every real user and host still
    # resolves) without any line that would clash with the lab users.
    awk -F: -v u="$LAB_USER" -v id="$LAB_UID" -v o="$OTHER_USER" -v oid="$OTHER_UID" \
        '$1 != u && $3 != id && $1 != o && $3 != oid' /etc/passwd >"$d/passwd.new"
    echo "$LAB_USER:x:$LAB_UID:$LAB_GID:sharesfs lab user:/nonexistent:/usr/sbin/nologin" >>"$d/passwd.new"
    echo "$OTHER_USER:x:$OTHER_UID:$OTHER_UID:sharesfs lab second user:/nonexistent:/usr/sbin/nologin" >>"$d/passwd.new"
    awk -F: -v u="$LAB_USER" -v id="$LAB_GID" -v o="$OTHER_USER" -v oid="$OTHER_UID" \
        '$1 != u && $3 != id && $1 != o && $3 != oid' /etc/group >"$d/group.new"
    echo "$LAB_USER:x:$LAB_GID:" >>"$d/group.new"
    echo "$OTHER_USER:x:$OTHER_UID:" >>"$d/group.new"
    # nss_wrapper rejects the whole hosts file on a comment line: keep only
    # "address name..." lines, comments stripped.
    {
        sed -e 's/#.*//' -e 's/[[:space:]]*$//' /etc/hosts 2>/dev/null |
            awk -v dom=".$DOMAIN" 'NF >= 2 { for (i = 2; i <= NF; i++)
                                       if (substr($i, length($i) - length(dom) + 1) == dom) next
                                   print }'
        for h in "${HOSTS[@]}"; do
            host_fields "$h"
            echo "$H_IP $H_FQDN $H_NAME"
        done
    } >"$d/hosts.new"
    mv "$d/passwd.new" "$d/passwd"
    mv "$d/group.new" "$d/group"
    mv "$d/hosts.new" "$d/hosts"
    chmod 0644 "$d/passwd" "$d/group" "$d/hosts"
}

write_creds() {
    local d=$STATE/creds
    mkdir -p "$d"
    chmod 0755 "$d"
    (
        umask 077
        printf 'username=%s\npassword=%s\ndomain=%s\n' "$LAB_USER" "$LAB_PASS" "$WORKGROUP" >"$d/labuser.cred"
        printf 'username=%s\npassword=%s\ndomain=%s\n' "$LAB_USER" "$WRONG_PASS" "$WORKGROUP" >"$d/wrong.cred"
        printf 'username=%s\npassword=%s\n' "$CLR_USER" "$CLR_PASS" >"$d/clruser.cred"
        printf 'username=%s\npassword=%s\ndomain=%s\n' "$OTHER_USER" "$OTHER_PASS" "$WORKGROUP" >"$d/otheruser.cred"
    )
    chmod 0600 "$d/labuser.cred" "$d/wrong.cred" "$d/clruser.cred" "$d/otheruser.cred"
}

# Client-side smb.conf for smbclient -s / smbc_setConfiguration: resolve
# names through the host resolver only (nss_wrapper), never by broadcast.
write_client_conf() {
    mkdir -p "$STATE/client"
    chmod 0755 "$STATE/client"
    {
        echo "# sharesfs lab client settings (written by lab.sh).  Also keeps the"
        echo "# client's gencache.tdb out of /run/samba."
        smbconf_client "$WORKGROUP" "$STATE/client"
    } >"$STATE/client.conf"
    chmod 0644 "$STATE/client.conf"
}

# The `export` lines a client needs (lab.sh env).
env_exports() {
    local lib
    lib=$(nss_wrapper_lib) || lib=libnss_wrapper.so
    cat <<EOF
export SHARESFS_LAB_DIR=$STATE
export LD_PRELOAD=$lib
export NSS_WRAPPER_PASSWD=$STATE/nss/passwd
export NSS_WRAPPER_GROUP=$STATE/nss/group
export NSS_WRAPPER_HOSTS=$STATE/nss/hosts
export SHARESFS_LAB_CLIENT_CONF=$STATE/client.conf
export SHARESFS_SMB_CONF=$STATE/client.conf
export KRB5_CONFIG=$STATE/krb5.conf
EOF
    kind_fields ldap && ldap_env_exports
    return 0
}

write_env_file() {
    env_exports >"$STATE/env.new"
    mv "$STATE/env.new" "$STATE/env"
    chmod 0644 "$STATE/env"
}

# Personality knobs, one per host.  Every host but fs-smb3 maps unknown
# users to the guest.
smb_conf_personality() {
    case $1 in
        fs-default)
            echo "  # Samba defaults for protocols and auth." ;;
        nas-smb1)
            echo '  # An old NAS: SMB1 (NT1) only.  NTLMv2 logins work as is in 4.17, so'
            echo '  # "ntlm auth" keeps its default (ntlmv2-only).'
            smb_conf_protocol NT1 ;;
        fs-smb2)
            smb_conf_protocol SMB2_02 ;;
        fs-smb3)
            smb_conf_protocol SMB3_11
            printf '  %s\n' "server smb encrypt = required" "map to guest = Never" "restrict anonymous = 2"
            return ;;
        fs-krb)
            cat <<EOF
  # Kerberos without AD: tickets from the lab's MIT KDC (no PAC), service
  # key cifs/$1.$DOMAIN from a keytab.  NTLM still works.
  realm = $REALM
  kerberos method = dedicated keytab
  dedicated keytab file = FILE:$STATE/hosts/$1.$DOMAIN/krb5.keytab
EOF
            ;;
    esac
    echo "  map to guest = Bad User"
}

# The one SMB dialect a host speaks.
smb_conf_protocol() {
    printf '  server min protocol = %s\n  server max protocol = %s\n' "$1" "$1"
}

smb_conf_shares() {
    local name=$1 d=$2 guest=yes
    [ "$name" = fs-smb3 ] && guest=no
    cat <<EOF

[public]
  comment = public files
  path = $d/shares/public
  read only = yes
  guest ok = $guest

[user]
  comment = $LAB_USER's files
  path = $d/shares/user
  valid users = $LAB_USER
  read only = no
EOF
    if [ "$name" = fs-default ]; then
        cat <<EOF

[data]
  comment = test data (big.bin, 64 MiB)
  path = $d/shares/data
  valid users = $LAB_USER
  read only = no

[team]
  comment = written by $LAB_USER and $OTHER_USER (per-user sessions)
  path = $d/shares/team
  valid users = $LAB_USER $OTHER_USER
  read only = no
EOF
    fi
}

write_smb_conf() {
    local name=$1 n=$2 d=$3 nb
    nb=$(echo "$name" | tr '[:lower:]' '[:upper:]')
    {
        echo "# $name.$DOMAIN - sharesfs lab (written by contrib/lab/lab.sh)"
        smbconf_standalone "$WORKGROUP" "$nb" "$NET.$n.2" "$d"
        echo "  server string = sharesfs lab $name (Samba %v)"
        echo "  guest account = nobody"
        smb_conf_personality "$name"
        smb_conf_shares "$name" "$d"
    } >"$d/smb.conf"
}

# A host's directory DIR for a new run: the logs of the previous one move
# to log.prev.
rotate_log() {
    local d=$1
    mkdir -p "$d"
    if [ -d "$d/log" ]; then
        rm -rf "$d/log.prev"
        mv "$d/log" "$d/log.prev"
    fi
}

# Rebuilds a host's directory: config, empty runtime dirs, fresh share
# contents.  Logs of the previous run move to log.prev.
prepare_host() {
    local name=$1 n=$2 d=$3 sub
    rotate_log "$d"
    for sub in "${SMBD_STATE_DIRS[@]}" shares; do
        rm -rf "${d:?}/$sub"
    done
    smbd_state_dirs "$d"
    mkdir -p "$d/shares/public/dir" "$d/shares/user"
    chmod 0755 "$d" "$d/shares" "$d/shares/public" "$d/shares/public/dir"

    printf 'Hello from the sharesfs lab.\n' >"$d/shares/public/hello.txt"
    printf 'a\n' >"$d/shares/public/dir/a.txt"
    printf 'b\n' >"$d/shares/public/dir/b.txt"
    printf '%s\n' "$name.$DOMAIN" >"$d/shares/public/host.txt"
    chmod 0644 "$d"/shares/public/*.txt "$d"/shares/public/dir/*.txt

    printf 'Notes of %s on %s.\n' "$LAB_USER" "$name.$DOMAIN" >"$d/shares/user/notes.txt"
    chown -R "$LAB_UID:$LAB_GID" "$d/shares/user"
    chmod 0755 "$d/shares/user"
    chmod 0644 "$d/shares/user/notes.txt"

    if [ "$name" = fs-default ]; then
        mkdir -p "$d/shares/data" "$d/shares/team"
        chown "$LAB_UID:$LAB_GID" "$d/shares/data"
        chmod 0755 "$d/shares/data"
        # team: written by labuser and otheruser (per-user sessions)
        chmod 1777 "$d/shares/team"
        printf 'The team share of %s.\n' "$name.$DOMAIN" >"$d/shares/team/readme.txt"
        chmod 0644 "$d/shares/team/readme.txt"
    fi
    write_smb_conf "$name" "$n" "$d"
}

# labuser and otheruser (a second account: per-user sessions) in the host's tdbsam.
add_lab_user() {
    local d=$1
    {
        printf '%s\n%s\n' "$LAB_PASS" "$LAB_PASS" |
            LD_PRELOAD=$NSSW NSS_WRAPPER_PASSWD=$STATE/nss/passwd NSS_WRAPPER_GROUP=$STATE/nss/group \
            smbpasswd -c "$d/smb.conf" -s -a "$LAB_USER" &&
        printf '%s\n%s\n' "$OTHER_PASS" "$OTHER_PASS" |
            LD_PRELOAD=$NSSW NSS_WRAPPER_PASSWD=$STATE/nss/passwd NSS_WRAPPER_GROUP=$STATE/nss/group \
            smbpasswd -c "$d/smb.conf" -s -a "$OTHER_USER"
    } >"$d/log/smbpasswd.out" 2>&1
}

# big.bin: generated once into $STATE/cache, checked against
# $STATE/big.bin.sha256 on every start, hard-linked into the data share.
# Root-owned and 0444 so writes through the share cannot change it.
gen_big_openssl() {
    head -c "$BIG_SIZE" /dev/zero |
        openssl enc -aes-128-ctr -nosalt -K "$BIG_KEY" -iv "$BIG_IV"
}
gen_big_perl() {
    perl -e '
        my ($n) = @ARGV; my $x = 0x9E3779B97F4A7C15; my $buf = "";
        for (my $i = 0; $i < $n / 8; $i++) {
            $x ^= ($x << 13) & 0xFFFFFFFFFFFFFFFF; $x ^= $x >> 7;
            $x ^= ($x << 17) & 0xFFFFFFFFFFFFFFFF;
            $buf .= pack("Q<", $x);
            if (length($buf) >= 1048576) { print $buf; $buf = ""; }
        }
        print $buf;' "$BIG_SIZE"
}

ensure_big() {
    local c=$STATE/cache d=$STATE/hosts/fs-default.$DOMAIN/shares/data
    local want have expect gen
    mkdir -p "$c"
    if [ -f "$c/big.bin" ] && [ -f "$STATE/big.bin.sha256" ]; then
        want=$(cut -d' ' -f1 "$STATE/big.bin.sha256")
        have=$(sha256sum "$c/big.bin" | cut -d' ' -f1)
        [ -n "$want" ] && [ "$want" = "$have" ] || { warn "big.bin checksum mismatch, regenerating"; have=; }
    else
        have=
    fi
    if [ -z "$have" ]; then
        if command -v openssl >/dev/null 2>&1; then
            gen=openssl expect=$BIG_SHA256_OPENSSL
        else
            warn "openssl not found: generating big.bin with perl xorshift64 (different content)"
            gen=perl expect=$BIG_SHA256_PERL
        fi
        rm -f "$c/big.bin" "$c/big.bin.tmp"
        "gen_big_$gen" >"$c/big.bin.tmp" || { warn "big.bin generation failed"; return 1; }
        [ "$(stat -c %s "$c/big.bin.tmp")" = "$BIG_SIZE" ] || { warn "big.bin has the wrong size"; return 1; }
        have=$(sha256sum "$c/big.bin.tmp" | cut -d' ' -f1)
        [ "$have" = "$expect" ] ||
            warn "big.bin sha256 $have differs from the known $gen value $expect"
        chown 0:0 "$c/big.bin.tmp"
        chmod 0444 "$c/big.bin.tmp"
        mv "$c/big.bin.tmp" "$c/big.bin"
        echo "$have  big.bin" >"$STATE/big.bin.sha256"
    fi
    ln -f "$c/big.bin" "$d/big.bin" || cp "$c/big.bin" "$d/big.bin" || return 1
    return 0
}

# Namespace with a veth pair.  UP=0 leaves the namespace side down.
make_netns() {
    local ns=$1 link=$2 n=$3 up=$4
    ip netns add "$ns" || return 1
    ip link add "$link" type veth peer name "$NS_IFACE" netns "$ns" || return 1
    veth_configure "$ns" "$link" "$NS_IFACE" "$NET.$n" "$up"
}

# spawn_in_ns NS DIR NAME COMMAND...: the server of host directory DIR,
# detached, in namespace NS; its output goes to DIR/log/stdout, its pid to
# DIR/NAME.pid.  It does not inherit fd 9 (the lock).
spawn_in_ns() {
    local ns=$1 d=$2 name=$3
    shift 3
    setsid ip netns exec "$ns" "$@" </dev/null >"$d/log/stdout" 2>&1 9>&- &
    echo $! >"$d/$name.pid"
    disown $!
}

# The environment (NAME=VALUE lines) of a server that sees the lab's users
# and hosts through nss_wrapper; NSSW is set by cmd_start.
nss_env() {
    printf '%s\n' LD_PRELOAD="$NSSW" NSS_WRAPPER_PASSWD="$STATE/nss/passwd" \
        NSS_WRAPPER_GROUP="$STATE/nss/group" NSS_WRAPPER_HOSTS="$STATE/nss/hosts"
}

start_smbd() {
    local ns=$1 d=$2 envs
    mapfile -t envs < <(nss_env)
    spawn_in_ns "$ns" "$d" smbd env "${envs[@]}" KRB5_CONFIG="$STATE/krb5.conf" \
        smbd -F --no-process-group -s "$d/smb.conf" -l "$d/log"
}

# An AFP host: afpsim with a personality, volumes under $d/volumes.
prepare_afp_host() {
    local name=$1 d=$2 v
    rm -rf "$d/volumes"
    rotate_log "$d"
    mkdir -p "$d/log"
    for v in Public Attic Private Groups Multimedia; do
        mkdir -p "$d/volumes/$v/dir"
        printf 'Hello from the sharesfs lab (%s on %s).\n' "$v" "$name.$DOMAIN" >"$d/volumes/$v/hello.txt"
        printf 'a\n' >"$d/volumes/$v/dir/a.txt"
        ln -s hello.txt "$d/volumes/$v/link"
    done
    printf '%s:%s\n%s:%s\n' "$LAB_USER" "$LAB_PASS" "$CLR_USER" "$CLR_PASS" >"$d/users"
    chmod 0600 "$d/users"
}

# Extra afpsim arguments of a host.  The 10.6 personality advertises a Local
# KDC principal (afpserver/LKDC:SHA1.<hex>@LKDC:SHA1.<hex>); the lab's 10.6
# hosts are bound to the realm instead, as a 10.6 Server in a realm would be.
# The keytab is passed only when this afpsim knows --keytab and the host has
# one (krbmissing has none: its principal is not in the KDC).
afp_host_args() {
    local name=$1 d=$2
    case $name in
        snowleopard|krbmissing) printf '%s\n' --set "server.krb_principal=afpserver/%h@$REALM" ;;
    esac
    if [ "${AFPSIM_KEYTAB:-0}" = 1 ] && [ -s "$d/krb5.keytab" ]; then
        printf '%s\n' --keytab "$d/krb5.keytab"
    fi
}

start_afpsim() {
    local ns=$1 d=$2 ip=$3 persona=$4 name=$5 extra=()
    mapfile -t extra < <(afp_host_args "$name" "$d")
    spawn_in_ns "$ns" "$d" afpsim env KRB5_CONFIG="$STATE/krb5.conf" \
        "$AFPSIM" --listen "$ip:548" --foreground \
        --personality "$PERSONALITIES/$persona.conf" --users "$d/users" \
        --set "server.fqdn=${d##*/}" "${extra[@]}" \
        --volume "Public=$d/volumes/Public" --volume "Attic=$d/volumes/Attic" \
        --volume "Private=$d/volumes/Private:valid=$LAB_USER,$CLR_USER" \
        --volume "Groups=$d/volumes/Groups:valid=$LAB_USER" \
        --volume "Multimedia=$d/volumes/Multimedia:valid=$LAB_USER" \
        --log "$d/log/afpsim.log"
}

# ---------------------------------------------------------------- Kerberos

# The entry of HOSTS of this kind (the KDC, the AD DC) -> H_* fields; false
# when the lab has none.
# A real server's directory is made anew each start (realservers.sh writes
# its configuration, shares and state there); the KDC puts its keytab in.
prepare_real_host() {
    local d=$1
    rm -rf "$d"
    mkdir -p "$d/log" && chmod 0755 "$d"
}

# The Debian suite of a real host, as realservers.sh knows it.
real_suite() {
    "$REALSERVERS" hosts | awk -v h="$1.$DOMAIN" '$1 == h { print $2 }'
}

# start_real NAME NS DIR ROOTFS: the container, detached; lab.sh's own
# readiness loop waits for its port.
start_real() {
    local name=$1 ns=$2 d=$3 rootfs=$4
    "$REALSERVERS" start "$name" "$ns" "$d" --rootfs "$rootfs" --no-wait \
        --password-file "$STATE/creds/labuser.cred" --user "$CLR_USER:$CLR_UID:$STATE/creds/clruser.cred" \
        --keytab "$d/krb5.keytab" --realm "$REALM" --kdc "$NET.30.2" >"$d/log/start.out" 2>&1 || {
        cat "$d/log/start.out" >&2
        return 1
    }
    cp "$d/pid" "$d/nspawn.pid"
}

kind_fields() {
    local h
    for h in "${HOSTS[@]}"; do
        host_fields "$h"
        [ "$H_KIND" = "$1" ] && return 0
    done
    return 1
}

# Client krb5.conf.  The KDCs are named by address: no name lookup, no DNS.
# In [domain_realm] the longest matching entry wins in MIT
# (krb5_get_host_realm tries the full host name, then each parent domain)
# and in Heimdal alike, whatever the order of the lines: dc1.ad.lab.test ->
# AD.LAB.TEST, fs-krb.lab.test -> LAB.TEST.
write_krb5_conf() {
    local kdc_ip ad_ip=
    kind_fields kdc || die "no kdc host in HOSTS"
    kdc_ip=$H_IP
    kind_fields addc && ad_ip=$H_IP
    {
        echo "# sharesfs lab Kerberos client configuration (written by contrib/lab/lab.sh)."
        echo "# Used through KRB5_CONFIG=$STATE/krb5.conf; /etc/krb5.conf is not read."
        krb5_libdefaults "$REALM"
        printf '\n[realms]\n'
        krb5_realm "$REALM" "$kdc_ip"
        [ -n "$ad_ip" ] && krb5_realm "$AD_REALM" "$ad_ip"
        printf '\n[domain_realm]\n'
        krb5_domain "$DOMAIN" "$REALM"
        [ -n "$ad_ip" ] && krb5_domain "$AD_DOMAIN" "$AD_REALM"
    } >"$STATE/krb5.conf.new"
    mv "$STATE/krb5.conf.new" "$STATE/krb5.conf"
    chmod 0644 "$STATE/krb5.conf"
}

# The KDC host's directory: kdc.conf; database, stash and logs are rebuilt
# by setup_kdc on every start.
prepare_kdc_host() {
    local d=$1 ip=$2
    rotate_log "$d"
    rm -rf "$d/db" "$d/run"
    mkdir -p "$d/log" "$d/db" "$d/run"
    chmod 0700 "$d/db"
    : >"$d/db/kadm5.acl"
    cat >"$d/kdc.conf" <<EOF
# kdc.lab.test - MIT krb5kdc of the sharesfs lab (written by contrib/lab/lab.sh).
# Used through KRB5_KDC_PROFILE; /etc/krb5kdc/kdc.conf is not read.
[kdcdefaults]
  kdc_listen = $ip:88
  kdc_tcp_listen = $ip:88

[realms]
  $REALM = {
    database_name = $d/db/principal
    key_stash_file = $d/db/stash
    acl_file = $d/db/kadm5.acl
    # A standalone smbd rejects tickets with a PAC (NT_STATUS_BAD_TOKEN_TYPE).
    disable_pac = true
    max_life = 10h 0m 0s
    max_renewable_life = 7d 0h 0m 0s
    # preauth required, as on AD and Open Directory (wrong password: the KDC
    # logs PREAUTH_FAILED, MIT kinit says "Password incorrect")
    default_principal_flags = +preauth
  }

[logging]
  kdc = FILE:$d/log/kdc.log
  admin_server = FILE:$d/log/kadmin.log
  default = FILE:$d/log/krb5.log
EOF
}

# Database, principals and keytabs, rebuilt on every start.  Every key is
# derived from a fixed lab-only password, so the keys are the same after each
# rebuild: tickets cached before a restart stay valid, as with a real KDC.
# (Random keys would make them fail: "Decrypt integrity check failed".)
setup_kdc() {
    local d=$1 s name svc kt cmds
    local -x KRB5_KDC_PROFILE=$d/kdc.conf KRB5_CONFIG=$STATE/krb5.conf
    kdb5_util create -s -r "$REALM" -P "sharesfs-lab-master-key" || return 1
    cmds="cpw -pw sharesfs-lab-key:krbtgt krbtgt/$REALM
addprinc -pw $LAB_PASS $LAB_USER
addprinc -pw $OTHER_PASS $OTHER_USER
"
    for s in "${KRB_SERVICES[@]}"; do
        IFS='|' read -r name svc <<<"$s"
        kt=$STATE/hosts/$name.$DOMAIN/krb5.keytab
        rm -f "$kt"
        cmds+="addprinc -pw sharesfs-lab-key:$svc/$name.$DOMAIN $svc/$name.$DOMAIN
ktadd -norandkey -k $kt $svc/$name.$DOMAIN
"
    done
    kadmin.local -r "$REALM" <<<"$cmds" || return 1
    for s in "${KRB_SERVICES[@]}"; do
        IFS='|' read -r name svc <<<"$s"
        kt=$STATE/hosts/$name.$DOMAIN/krb5.keytab
        [ -s "$kt" ] || { echo "no keytab $kt"; return 1; }
        chmod 0600 "$kt"
    done
    return 0
}

start_kdc() {
    local ns=$1 d=$2
    spawn_in_ns "$ns" "$d" krb5kdc env KRB5_KDC_PROFILE="$d/kdc.conf" KRB5_CONFIG="$STATE/krb5.conf" \
        krb5kdc -n -r "$REALM" -P "$d/run/krb5kdc.pid"
}

# ---------------------------------------------------------------- AD DC

# What the AD template depends on; a different stamp rebuilds it.
ad_template_stamp() {
    printf '%s\n' "sharesfs lab AD DC template v$AD_TEMPLATE_VERSION" \
        "$(samba -V 2>/dev/null)" \
        "realm=$AD_REALM workgroup=$AD_WORKGROUP dns=$AD_DOMAIN host=$1 ip=$2" \
        "administrator=$AD_ADMIN_PASS $AD_USER=$AD_PASS"
}

# ensure_ad_template NAME IP: `samba-tool domain provision` takes 3.4-4.6 s,
# so it runs once, into $STATE/cache/ad-provisioned/dc, and each start copies
# that.  Only the provisioned etc/smb.conf names absolute paths (the
# databases do not), and the lab writes its own smb.conf, so the copy works
# anywhere.  The template also holds aduser and a TLS key: without one, every
# first start of a fresh copy spends 1.7 s generating a 4096-bit RSA key.
ensure_ad_template() {
    local name=$1 ip=$2 t=$STATE/cache/ad-provisioned stamp t0
    stamp=$(ad_template_stamp "$name" "$ip")
    if [ -f "$t/stamp" ] && [ "$(cat "$t/stamp")" = "$stamp" ] && [ -s "$t/dc/private/sam.ldb" ]; then
        echo "AD template: cached in $t"
        return 0
    fi
    echo "AD template: provisioning $AD_REALM into $t (once; log: $t.log)"
    t0=$(now_ms)
    provision_ad_template "$name" "$ip" "$t.new" "$stamp" >"$t.log" 2>&1 || {
        tail -n 30 "$t.log"
        echo "AD template: provisioning failed (log: $t.log)"
        return 1
    }
    rm -rf "$t"
    mv "$t.new" "$t"
    echo "AD template: provisioned in $(( $(now_ms) - t0 )) ms"
}

# provision_ad_template NAME IP DIR STAMP: a fresh template in DIR.
provision_ad_template() {
    local name=$1 ip=$2 new=$3 stamp=$4
    rm -rf "$new"
    mkdir -p "$new" || return 1
    # An empty --configfile: with the default one, provision copies "log
    # file", "panic action" and the [homes]/[printers] sections of
    # /etc/samba/smb.conf into the DC's smb.conf.
    : >"$new/empty.conf"
    samba-tool domain provision --configfile="$new/empty.conf" \
        --realm="$AD_REALM" --domain="$AD_WORKGROUP" --server-role=dc \
        --dns-backend=NONE --use-rfc2307 --adminpass="$AD_ADMIN_PASS" \
        --host-name="$name" --host-ip="$ip" --targetdir="$new/dc" || return 1
    samba-tool user create "$AD_USER" "$AD_PASS" --configfile="$new/dc/etc/smb.conf" || return 1
    # The domain's maxPwdAge is 42 days: a template older than that would
    # otherwise hand out an expired password.
    samba-tool user setexpiry "$AD_USER" --noexpiry --configfile="$new/dc/etc/smb.conf" || return 1
    # NIS-form automount maps (contrib/lab/ldap/ad-automount.ldif) and the
    # DC's ldap/ SPNs (GSSAPI binds)
    ad_add_automount_maps "$new/dc/etc/smb.conf" "$name" "$name.$AD_DOMAIN" || return 1
    mkdir -p "$new/dc/private/tls"
    if command -v openssl >/dev/null 2>&1; then
        openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
            -subj "/O=sharesfs lab/CN=$name.$AD_DOMAIN" -addext "subjectAltName=DNS:$name.$AD_DOMAIN" \
            -keyout "$new/dc/private/tls/key.pem" -out "$new/dc/private/tls/cert.pem" 2>&1 || return 1
        cp "$new/dc/private/tls/cert.pem" "$new/dc/private/tls/ca.pem"
        chmod 0600 "$new/dc/private/tls/key.pem"   # samba refuses a key others can read
    fi
    printf 'Hello from the sharesfs lab (netlogon on %s).\n' "$name.$AD_DOMAIN" \
        >"$new/dc/state/sysvol/$AD_DOMAIN/scripts/hello.txt" || return 1
    printf '%s\n' "$stamp" >"$new/stamp"
}

# The DC's directory, rebuilt on every start: smb.conf, krb5.conf, empty
# runtime dirs.  The databases (dc/) are copied in by setup_addc.
prepare_addc_host() {
    local name=$1 d=$2 ip=$3 sub
    rotate_log "$d"
    rm -rf "$d/dc" "$d/run" "$d/lock" "$d/cache" "$d/ncalrpc" "$d/winbindd" \
           "$d/ntp_signd" "$d/usershares"
    for sub in log run lock cache ncalrpc winbindd ntp_signd usershares; do
        mkdir -p "$d/$sub"
    done
    chmod 0755 "$d" "$d/winbindd"
    cat >"$d/smb.conf" <<EOF
# $name.$AD_DOMAIN - sharesfs lab Samba AD DC (written by contrib/lab/lab.sh).
# dc/ is a copy of $STATE/cache/ad-provisioned/dc; this file replaces the
# smb.conf provisioning wrote there.
[global]
  server role = active directory domain controller
  workgroup = $AD_WORKGROUP
  realm = $AD_REALM
  netbios name = $(echo "$name" | tr '[:lower:]' '[:upper:]')
  server string = sharesfs lab $name (Samba %v)
  # no DNS server, NBT, WINS, replication, KCC, dnsupdate or ntp_signd
  server services = s3fs, rpc, ldap, cldap, kdc, winbindd
  # one worker per service instead of 4: ~27 processes instead of ~45
  prefork children = 1
  disable netbios = yes
  smb ports = 445
  interfaces = $ip/24
  bind interfaces only = yes
  private dir = $d/dc/private
  binddns dir = $d/dc/bind-dns
  state directory = $d/dc/state
  lock directory = $d/lock
  cache directory = $d/cache
  pid directory = $d/run
  ncalrpc dir = $d/ncalrpc
  # smbd's libwbclient ignores this line: it finds winbindd here only through
  # SELFTEST_WINBINDD_SOCKET_DIR, honoured while nss_wrapper is preloaded
  # (start_addc).  Otherwise every session setup: NT_STATUS_INTERNAL_ERROR.
  winbindd socket directory = $d/winbindd
  ntp signd socket directory = $d/ntp_signd
  usershare path = $d/usershares
  # All logs go to log/stdout (start_addc: --debug-stdout); this line puts
  # smbd's and winbindd's cores/ under log/ instead of /var/log/samba.
  log file = $d/log/log.%m
  max log size = 0
  log level = 1
  idmap_ldb:use rfc2307 = yes
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes

[sysvol]
  path = $d/dc/state/sysvol
  read only = no

[netlogon]
  path = $d/dc/state/sysvol/$AD_DOMAIN/scripts
  read only = no
EOF
    # The DC's own Kerberos client settings (not /etc/krb5.conf, not LAB.TEST).
    {
        echo "# $name.$AD_DOMAIN - the AD DC's own krb5.conf (written by contrib/lab/lab.sh)"
        krb5_libdefaults "$AD_REALM"
        printf '\n[realms]\n'
        krb5_realm "$AD_REALM" "$ip"
        printf '\n[domain_realm]\n'
        krb5_domain "$AD_DOMAIN" "$AD_REALM"
    } >"$d/krb5.conf"
}

# The template (provisioned when missing or stale), copied into the host dir.
setup_addc() {
    local name=$1 d=$2 ip=$3
    mkdir -p "$STATE/cache"
    ensure_ad_template "$name" "$ip" || return 1
    rm -rf "$d/dc"
    cp -a "$STATE/cache/ad-provisioned/dc" "$d/dc"
}

# samba (AD DC) in its namespace, $! = the samba root process.  Its smbd and
# winbindd run under nss_wrapper (the lab's users and hosts), and
# SELFTEST_WINBINDD_SOCKET_DIR points smbd at winbindd's socket directory.
# --debug-stdout: samba passes it on to the smbd and winbindd it starts, which
# otherwise create /var/log/samba/log.{smbd,winbindd} before reading smb.conf;
# samba relays their output, so every log line lands in log/stdout.
start_addc() {
    local ns=$1 d=$2 envs
    mapfile -t envs < <(nss_env)
    spawn_in_ns "$ns" "$d" samba env "${envs[@]}" \
            SELFTEST_WINBINDD_SOCKET_DIR="$d/winbindd" KRB5_CONFIG="$d/krb5.conf" \
        samba -F --no-process-group --debug-stdout -s "$d/smb.conf" -l "$d/log"
}

# After :445 accepts: winbindd's socket is there, aduser gets a TGT from the
# DC's KDC, and a Kerberos SMB session on netlogon lists it.  (Right after
# :445 opens, a session can still fail with NT_STATUS_INTERNAL_ERROR.)
addc_ready() {
    local d=$1 fqdn=$2 cc=FILE:$1/run/ready.ccache
    [ -S "$d/winbindd/pipe" ] || { echo "no winbindd socket yet" >"$d/log/ready.err"; return 1; }
    lab_kinit "$AD_USER@$AD_REALM" "$cc" 2>"$d/log/ready.err" || return 1
    KRB5CCNAME=$cc KRB5_CONFIG=$STATE/krb5.conf LD_PRELOAD=$NSSW NSS_WRAPPER_HOSTS=$STATE/nss/hosts \
        timeout 10 smbclient -s "$STATE/client.conf" -N --use-kerberos=required \
        "//$fqdn/netlogon" -c ls >"$d/log/ready.err" 2>&1
}

# ---------------------------------------------------------------- kinit

# lab_principal USER -> USER@REALM.  A bare name is in $REALM, except
# $AD_USER, who exists only in $AD_REALM.
lab_principal() {
    case $1 in
        *@*)        printf '%s\n' "$1" ;;
        "$AD_USER") printf '%s\n' "$1@$AD_REALM" ;;
        *)          printf '%s\n' "$1@$REALM" ;;
    esac
}

# lab_password USER -> the lab password of a realm user
lab_password() {
    case $(lab_principal "$1") in
        "$LAB_USER@$REALM")   echo "$LAB_PASS" ;;
        "$OTHER_USER@$REALM") echo "$OTHER_PASS" ;;
        "$AD_USER@$AD_REALM") echo "$AD_PASS" ;;
        *) return 1 ;;
    esac
}

# lab_kinit USER CCACHE [KINIT-OPTION...]: kinit with the lab password, at
# most 10 s, from the KDC of the principal's realm.  kinit's prompt and
# messages go to stderr.
lab_kinit() {
    local princ cc=$2 pass
    princ=$(lab_principal "$1")
    shift 2
    pass=$(lab_password "$princ") || { echo "no lab password for $princ" >&2; return 2; }
    printf '%s\n' "$pass" |
        KRB5_CONFIG=$STATE/krb5.conf timeout 10 kinit -c "$cc" "$@" "$princ" >&2
}

tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

log_tail() {
    local d=$1 f
    for f in "$d"/log/stdout "$d"/log/log.* "$d"/log/kdc.log "$d"/log/ready-kinit.err "$d"/log/ready.err; do
        [ -s "$f" ] || continue
        printf '  ---- %s (last 20 lines)\n' "$f" >&2
        tail -n 20 "$f" | sed 's/^/  | /' >&2
    done
}

summary() {
    local h
    printf '%-22s %-13s %-7s %-46s %s\n' HOST ADDRESS PID DIALECTS SHARES
    for h in "${HOSTS[@]}"; do
        host_fields "$h"
        printf '%-22s %-13s %-7s %-46s %s\n' "$H_FQDN" "$H_IP" "$(host_pid "$H_DIR" || echo -)" \
            "$(host_dialects "$H_NAME")" "$(host_shares "$H_NAME")"
    done
}

cmd_start() {
    local t0 h pending=() pid deadline still failed=0 bigpid up start
    need_root
    need_tools
    t0=$(now_ms)
    NSSW=$(nss_wrapper_lib)
    # afpsim gets a keytab only once it has the option (grep on a string:
    # with pipefail, grep -q closing a pipe early could read as a failure)
    AFPSIM_KEYTAB=0
    grep -q -- --keytab <<<"$("$AFPSIM" --help 2>&1)" && AFPSIM_KEYTAB=1
    take_lock

    phase "locked"
    trap 'warn "interrupted: tearing down"; teardown quiet; exit 130' INT TERM HUP
    teardown quiet
    phase "previous run cleaned up"
    mkdir -p "$STATE/hosts"
    chmod 0755 "$STATE" "$STATE/hosts"
    echo starting >"$STATE/state"
    # Lab names must never leave this machine: while a host's veth exists
    # its /24 is routed to it; everything else in $NET.0.0/16 is unreachable,
    # also after `stop`, when a client may still hold the lab's hosts file.
    ip route replace unreachable "$NET.0.0/16" || die "cannot add the unreachable route for $NET.0.0/16"
    write_nss_files
    write_creds
    write_client_conf
    write_env_file
    write_krb5_conf

    for h in "${HOSTS[@]}"; do
        host_fields "$h"
        case $H_KIND in
            smb) prepare_host "$H_NAME" "$H_N" "$H_DIR" || die "cannot prepare $H_DIR" ;;
            afp) prepare_afp_host "$H_NAME" "$H_DIR" || die "cannot prepare $H_DIR" ;;
            kdc) prepare_kdc_host "$H_DIR" "$H_IP" || die "cannot prepare $H_DIR" ;;
            addc) prepare_addc_host "$H_NAME" "$H_DIR" "$H_IP" || die "cannot prepare $H_DIR" ;;
            real) prepare_real_host "$H_DIR" || die "cannot prepare $H_DIR" ;;
            ldap) ldap_prepare_host "$H_DIR" || die "cannot prepare $H_DIR" ;;
        esac
    done

    # Root filesystems of the real servers' releases (cached: under 1 s;
    # the first time 0.5-1.5 min), while the rest is set up.
    local suite rfs_pids=() rfs_suites=()
    for suite in bullseye trixie; do
        "$REALSERVERS" rootfs "$suite" >"$STATE/rootfs.$suite" 2>"$STATE/rootfs.$suite.log" &
        rfs_pids+=($!)
        rfs_suites+=("$suite")
    done

    phase "state files and share contents written"
    ensure_big >"$STATE/cache.log" 2>&1 &
    bigpid=$!

    # KDC database, principals and keytabs, while smbpasswd runs
    local kdcpid kdcdir
    kind_fields kdc
    kdcdir=$H_DIR
    setup_kdc "$kdcdir" >"$kdcdir/log/setup.log" 2>&1 &
    kdcpid=$!

    # AD DC: the cached template copied in (provisioned first if missing)
    local adpid='' addir=''
    if kind_fields addc; then
        addir=$H_DIR
        setup_addc "$H_NAME" "$H_DIR" "$H_IP" >"$addir/log/setup.log" 2>&1 &
        adpid=$!
    fi

    # LDAP: TLS files (made once), cn=config and the database
    local ldappid='' ldapdir=''
    if kind_fields ldap; then
        ldapdir=$H_DIR
        ldap_setup "$H_DIR" "$H_FQDN" "$H_IP" >"$ldapdir/log/setup.log" 2>&1 &
        ldappid=$!
    fi

    # smbpasswd for every host at once (each host has its own tdbsam)
    local upids=()
    for h in "${HOSTS[@]}"; do
        host_fields "$h"
        [ "$H_KIND" = smb ] || continue
        add_lab_user "$H_DIR" &
        upids+=($!)
    done
    for pid in "${upids[@]}"; do
        wait "$pid" || failed=1
    done
    if [ "$failed" = 1 ]; then
        for h in "${HOSTS[@]}"; do
            host_fields "$h"
            [ -f "$H_DIR/log/smbpasswd.out" ] && sed "s|^|  $H_NAME: |" "$H_DIR/log/smbpasswd.out" >&2
        done
        die "smbpasswd failed"
    fi
    if ! wait "$kdcpid"; then
        sed "s|^|  kdc: |" "$kdcdir/log/setup.log" >&2
        die "KDC database or keytabs failed (log: $kdcdir/log/setup.log)"
    fi
    phase "smbpasswd done, KDC database and keytabs written"
    if [ -n "$adpid" ] && ! wait "$adpid"; then
        sed "s|^|  dc: |" "$addir/log/setup.log" >&2
        die "AD DC template failed (log: $addir/log/setup.log)"
    fi
    phase "AD DC databases in place"
    if [ -n "$ldappid" ] && ! wait "$ldappid"; then
        sed "s|^|  ldap: |" "$ldapdir/log/setup.log" >&2
        die "LDAP directory setup failed (log: $ldapdir/log/setup.log)"
    fi
    phase "LDAP configuration and database in place"

    local i
    for i in "${!rfs_pids[@]}"; do
        if ! wait "${rfs_pids[$i]}"; then
            cat "$STATE/rootfs.${rfs_suites[$i]}.log" >&2
            teardown quiet
            die "lab start failed: no root filesystem for Debian ${rfs_suites[$i]} (the real servers' release)"
        fi
    done
    phase "real servers' root filesystems ready"

    # The AD DC first: it takes longest to be ready (~0.9 s), and the other
    # namespaces and servers come up meanwhile.
    local order=()
    for h in "${HOSTS[@]}"; do [[ "$h" == *"|addc" ]] && order+=("$h"); done
    for h in "${HOSTS[@]}"; do [[ "$h" == *"|addc" ]] || order+=("$h"); done
    for h in "${order[@]}"; do
        host_fields "$h"
        up=1
        case $H_KIND in
            smb)  start=(start_smbd "$H_NS" "$H_DIR") ;;
            afp)  start=(start_afpsim "$H_NS" "$H_DIR" "$H_IP" "$H_PERSONA" "$H_NAME") ;;
            kdc)  start=(start_kdc "$H_NS" "$H_DIR") ;;
            addc) start=(start_addc "$H_NS" "$H_DIR") ;;
            ldap) start=(start_slapd "$H_NS" "$H_DIR" "$H_IP") ;;
            real) start=(start_real "$H_NAME" "$H_NS" "$H_DIR" "$(cat "$STATE/rootfs.$(real_suite "$H_NAME")")") ;;
            *)    start=() up=0 ;;     # "down": nothing answers
        esac
        make_netns "$H_NS" "$H_LINK" "$H_N" "$up" || { teardown quiet; die "cannot set up netns $H_NS"; }
        [ ${#start[@]} -gt 0 ] || continue
        "${start[@]}" || { teardown quiet; die "lab start failed: cannot start the server of $H_FQDN (logs in $H_DIR/log)"; }
        pending+=("$h")
    done

    phase "namespaces up, smbd started"
    # Readiness: TCP connect to every server's port, every 10 ms; for the
    # KDC then a real kinit (UDP) of the lab user; for the AD DC a kinit of
    # aduser and a Kerberos SMB session (addc_ready).
    deadline=$(( $(now_ms) + READY_TIMEOUT_MS ))
    while [ ${#pending[@]} -gt 0 ]; do
        still=()
        for h in "${pending[@]}"; do
            host_fields "$h"
            pid=$(host_pid "$H_DIR")
            if ! kill -0 "$pid" 2>/dev/null; then
                warn "the server of $H_FQDN (pid $pid) exited during start-up"
                log_tail "$H_DIR"
                teardown quiet
                die "lab start failed: the server of $H_FQDN died (logs in $H_DIR/log)"
            fi
            if ! tcp_open "$H_IP" "$H_PORT"; then
                still+=("$h")
            elif [ "$H_KIND" = kdc ] &&
                 ! lab_kinit "$LAB_USER" MEMORY:lab-ready 2>"$H_DIR/log/ready-kinit.err"; then
                still+=("$h")
            elif [ "$H_KIND" = ldap ] && ! ldap_ready "$H_DIR" "$H_IP"; then
                still+=("$h")
            elif [ "$H_KIND" = addc ]; then
                if addc_ready "$H_DIR" "$H_FQDN"; then
                    phase "$H_FQDN ready (kinit $AD_USER, Kerberos SMB session)"
                else
                    still+=("$h")
                fi
            fi
        done
        pending=("${still[@]}")
        [ ${#pending[@]} -eq 0 ] && break
        if [ "$(now_ms)" -ge "$deadline" ]; then
            for h in "${pending[@]}"; do
                host_fields "$h"
                if [ "$H_KIND" = kdc ] && tcp_open "$H_IP" "$H_PORT"; then
                    warn "!!! $H_FQDN ($H_IP:$H_PORT) listens, but kinit $LAB_USER@$REALM fails"
                elif [ "$H_KIND" = ldap ] && tcp_open "$H_IP" "$H_PORT"; then
                    warn "!!! $H_FQDN ($H_IP:$H_PORT) listens, but an anonymous search of $LDAP_SUFFIX fails"
                elif [ "$H_KIND" = addc ] && tcp_open "$H_IP" "$H_PORT"; then
                    warn "!!! $H_FQDN ($H_IP:$H_PORT) listens, but kinit $AD_USER@$AD_REALM or a Kerberos session on netlogon fails"
                else
                    warn "!!! $H_FQDN ($H_IP:$H_PORT) not listening after $((READY_TIMEOUT_MS / 1000)) s"
                fi
                log_tail "$H_DIR"
            done
            teardown quiet
            die "lab start failed: servers not ready (logs under $STATE/hosts)"
        fi
        sleep "$READY_STEP"
    done

    phase "all servers listening"
    if ! wait "$bigpid"; then
        cat "$STATE/cache.log" >&2
        teardown quiet
        die "cannot create big.bin"
    fi
    [ -s "$STATE/cache.log" ] && cat "$STATE/cache.log" >&2

    local public
    for h in "${HOSTS[@]}"; do
        host_fields "$h"
        case $H_KIND:$H_PORT in
            afp:*|real:548) public=$H_DIR/volumes/Public ;;
            real:445) public=$H_DIR/shares/public ;;
            *) continue ;;
        esac
        ln -f "$STATE/cache/big.bin" "$public/big.bin" ||
            cp "$STATE/cache/big.bin" "$public/big.bin" || die "cannot place big.bin on $H_FQDN"
    done
    phase "big.bin ready"
    trap - INT TERM HUP
    echo running >"$STATE/state"
    summary
    say "user: $LAB_USER (uid $LAB_UID); credentials in $STATE/creds/; big.bin sha256 $(cut -d' ' -f1 "$STATE/big.bin.sha256")"
    say "Kerberos: realm $REALM, KRB5_CONFIG=$STATE/krb5.conf; afpsim keytabs: $([ "$AFPSIM_KEYTAB" = 1 ] && echo yes || echo "no (afpsim has no --keytab)")"
    kind_fields addc && say "Active Directory: realm $AD_REALM (domain $AD_WORKGROUP), DC $H_FQDN; user $AD_USER: lab.sh kinit $AD_USER@$AD_REALM"
    kind_fields ldap && say "LDAP: ldap://$H_FQDN (StartTLS) and ldaps://$H_FQDN, base $LDAP_SUFFIX; binds: anonymous, $LDAP_READER_DN (password in $STATE/creds/ldap-reader.pw), SASL GSSAPI (ldap/$H_FQDN@$REALM); CA $LDAP_TLS/ca.pem"
    say "lab started in $(( $(now_ms) - t0 )) ms; client env: eval \"\$($0 env)\""
}

cmd_stop() {
    local t0
    need_root
    t0=$(now_ms)
    take_lock
    teardown
    say "lab stopped in $(( $(now_ms) - t0 )) ms"
}

cmd_status() {
    local h pid name rc=0 up=0 nsstate
    printf '%-22s %-13s %-7s %s\n' HOST ADDRESS PID STATE
    for h in "${HOSTS[@]}"; do
        host_fields "$h"
        pid=-
        for name in "${SERVERS[@]}"; do
            [ -f "$H_DIR/$name.pid" ] || continue
            pid=$(cat "$H_DIR/$name.pid")
            server_is_ours "$H_DIR" "$name" "$pid" || pid="$pid(dead)"
            break
        done
        if ! ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$H_NS"; then
            nsstate="no namespace"
            rc=1
        elif [ "$H_KIND" = down ]; then
            if ip -n "$H_NS" link show "$NS_IFACE" 2>/dev/null | grep -q 'state DOWN'; then
                nsstate="unreachable (link down, by design)"
                up=$((up + 1))
            else
                nsstate="namespace link is not down"
                rc=1
            fi
        elif timeout 1 bash -c "exec 3<>/dev/tcp/$H_IP/$H_PORT" 2>/dev/null; then
            nsstate="listening on $H_IP:$H_PORT"
            up=$((up + 1))
            if [ "$H_KIND" = real ]; then
                nsstate+=", $("$REALSERVERS" version "$H_NAME" "$H_DIR" 2>/dev/null | head -1)"
            fi
            if [ "$H_KIND" = ldap ]; then
                if ldap_ready "$H_DIR" "$H_IP"; then
                    nsstate+=", anonymous search of $LDAP_SUFFIX ok"
                else
                    nsstate+=", anonymous search of $LDAP_SUFFIX FAILED"
                    rc=1
                fi
            fi
            if [ "$H_KIND" = kdc ] || [ "$H_KIND" = addc ]; then
                local kuser=$LAB_USER
                [ "$H_KIND" = addc ] && kuser=$AD_USER@$AD_REALM
                if lab_kinit "$kuser" MEMORY:lab-status 2>/dev/null; then
                    nsstate+=", kinit $kuser ok"
                else
                    nsstate+=", kinit $kuser FAILED"
                    rc=1
                fi
            fi
        else
            nsstate="NOT listening"
            rc=1
        fi
        printf '%-22s %-13s %-7s %s\n' "$H_FQDN" "$H_IP" "$pid" "$nsstate"
    done
    [ "$up" = 0 ] && rc=3
    return $rc
}

cmd_env() {
    if [ -f "$STATE/env" ]; then
        cat "$STATE/env"
    else
        warn "lab not started ($STATE/env missing); printing the paths it will use"
        env_exports
    fi
}

# lab.sh kinit [USER[@REALM] [CCACHE [KINIT-OPTION...]]], e.g. `lab.sh kinit
# labuser FILE:/tmp/cc -l 5s` or `lab.sh kinit aduser@AD.LAB.TEST`.  Prints
# the ccache name on stdout; kinit's password prompt and errors go to stderr.
cmd_kinit() {
    local user=${1:-$LAB_USER} cc=${2:-} princ out rc
    [ $# -gt 2 ] && shift 2 || set --
    princ=$(lab_principal "$user")
    [ -n "$cc" ] || cc=FILE:$STATE/ccache-${princ%@*}
    [ -f "$STATE/krb5.conf" ] || die "lab not started ($STATE/krb5.conf missing)"
    lab_password "$princ" >/dev/null ||
        die "no lab password for $princ (lab users: $LAB_USER@$REALM, $OTHER_USER@$REALM, $AD_USER@$AD_REALM)"
    out=$(lab_kinit "$princ" "$cc" "$@" 2>&1)
    rc=$?
    if [ $rc -ne 0 ]; then
        printf '%s\n' "${out#Password for $princ: }" >&2
        die "kinit $princ failed (rc $rc)"
    fi
    say "$cc"
}

case ${1:-} in
    start)  cmd_start ;;
    stop)   cmd_stop ;;
    status) cmd_status ;;
    env)    cmd_env ;;
    kinit)  shift; cmd_kinit "$@" ;;
    *)      echo "usage: $PROG start|stop|status|env|kinit [USER[@REALM] [CCACHE [KINIT-OPTION...]]]" >&2; exit 2 ;;
esac
