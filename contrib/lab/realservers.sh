#!/bin/bash
# sharesfs lab: real Samba and netatalk servers from Debian's own releases,
# run by systemd-nspawn inside an existing lab network namespace.
#
#   realservers.sh rootfs SUITE
#       build (or reuse) the cached root filesystem of a Debian suite; prints its path
#   realservers.sh start HOST NETNS CONFDIR [OPTION...]
#       start HOST's server in netns NETNS; config, shares, state, logs in CONFDIR;
#       returns once the port answers (pid of systemd-nspawn in CONFDIR/pid)
#         --password-file FILE   labuser's password: first line, or the password=
#                                line of a cifs credentials file (or SHARESFS_LAB_PASSWORD)
#         --user NAME:UID:FILE   one more user (repeatable), e.g. clruser for Cleartxt
#         --keytab FILE          enables Kerberos (cifs/HOST or afpserver/HOST@REALM)
#         --realm REALM          default LAB.TEST;  --kdc ADDR  kdc line of its krb5.conf
#         --address IP[/LEN]     default: the netns's first global IPv4 address
#         --rootfs DIR           use this root filesystem (no mirror check)
#         --set 'OPT = VALUE'    one more [global] line (repeatable)
#         --timeout SECS         default 60;  --no-wait  do not wait for the port
#   realservers.sh stop HOST CONFDIR
#   realservers.sh status HOST CONFDIR
#   realservers.sh version HOST CONFDIR
#       the server's own version line (smbd -V / afpd -V, run in the container)
#   realservers.sh hosts
#       the known hosts: name, suite, server
#   realservers.sh prune
#       delete cached root filesystems that are no longer current and not in use
#       (a new build does this for its suite by itself)
#
# Hosts: samba413 (bullseye), samba422 (trixie), netatalk31 (bullseye),
# netatalk42 (trixie); HOST may be the short name or NAME.lab.test.
# The root filesystems are cached under ${SHARESFS_LAB_CACHE:-/var/cache/sharesfs-lab}/rootfs,
# keyed by suite, package set and the package versions the mirror offers now.
# The mirror is the one the machine's apt configuration uses for Debian.
# The rootfs is never written to: each container runs on a tmpfs overlay
# (systemd-nspawn --volatile=overlay); CONFDIR is bind-mounted at /lab.
# The cache is contrib/lab/rootfs-lib.sh's.
# See contrib/lab/REALSERVERS.md.  Requires root, mmdebstrap, systemd-container.

set -euo pipefail

PROG=${0##*/}

# The rootfs cache (rootfs_ensure SUITE -> ROOTFS): mirror, apt state, keys,
# mmdebstrap, locking, offline mode; and say, warn, die, now_ms, usage,
# need_tool (naming NEED_PACKAGES).
NEED_PACKAGES="mmdebstrap systemd-container"
# shellcheck source=contrib/lab/rootfs-lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/rootfs-lib.sh"

ROOTFS_DIR=$ROOTFS_CACHE/rootfs
APT_DIR=$ROOTFS_CACHE/apt
DOMAIN=lab.test
WORKGROUP=LAB
REALM_DEFAULT=LAB.TEST
LAB_USER_DEFAULT=labuser
LAB_UID_DEFAULT=2001

# Bump when the way a rootfs is built changes: every cached rootfs is rebuilt.
RECIPE=1
# Packages installed on top of mmdebstrap's "apt" variant (Essential + apt).
# samba: smbd, smbpasswd (samba-common-bin), Samba's Heimdal libraries (keytab
# acceptance).  netatalk: afpd, cnid_metad/cnid_dbd, the UAMs (PAM versions;
# uams_gss.so links MIT libgssapi-krb5-2), PAM's pam_unix (libpam-modules).
# Neither server needs winbind, krb5-user or any recommends.
PACKAGES=(samba netatalk)
# Left out of the rootfs: documentation and translations (nothing reads them).
DPKG_OPTS=("${ROOTFS_NODOCS[@]}")
# the bind-mount point of CONFDIR; the versions that go into the rootfs's info
# shellcheck disable=SC2016  # $1: mmdebstrap's
ROOTFS_MMDEBSTRAP_ARGS=(--customize-hook='mkdir -p "$1/lab"')
ROOTFS_INFO_PACKAGES=(samba netatalk)

# name|suite|kind
HOSTS=(
    "samba413|bullseye|samba"
    "samba422|trixie|samba"
    "netatalk31|bullseye|netatalk"
    "netatalk42|trixie|netatalk"
)

READY_TIMEOUT=${SHARESFS_LAB_RS_TIMEOUT:-60}   # seconds, start until the port answers
ROOTFS_FRESH=${SHARESFS_LAB_RS_FRESH:-30}      # seconds a mirror check of a suite stays valid
TERM_GRACE=5                                   # seconds, SIGTERM then SIGKILL

need_root() { [ "$(id -u)" = 0 ] || die "must run as root"; }

# host_fields HOST -> HN (short name) HFQDN HSUITE HKIND HPORT
host_fields() {
    local want=${1%."$DOMAIN"} h
    for h in "${HOSTS[@]}"; do
        IFS='|' read -r HN HSUITE HKIND <<<"$h"
        if [ "$HN" = "$want" ]; then
            HFQDN=$HN.$DOMAIN
            HPORT=445
            [ "$HKIND" = netatalk ] && HPORT=548
            return 0
        fi
    done
    die "unknown host '$1' (known: $(hosts_list))"
}
hosts_list() { local h o=(); for h in "${HOSTS[@]}"; do o+=("${h%%|*}"); done; echo "${o[*]}"; }

# ------------------------------------------------------------ rootfs cache

cmd_prune() {
    need_root
    local s
    for s in $(printf '%s\n' "${HOSTS[@]}" | cut -d'|' -f2 | sort -u); do
        rootfs_lock "$s"
        rootfs_prune "$s"
        rootfs_unlock
    done
}

cmd_rootfs() {
    [ $# = 1 ] || usage
    need_root
    need_tool apt-get flock
    rootfs_ensure "$1"
    echo "$ROOTFS"
}

# ---------------------------------------------------------------- containers

write_smb_conf() {
    local f=$1 ip=$2 prefix=$3 kt=$4 realm=$5 s
    {
        cat <<EOF
# $HFQDN: Samba from Debian $HSUITE (written by contrib/lab/realservers.sh; paths are inside the container)
[global]
  server role = standalone server
  workgroup = $WORKGROUP
  netbios name = ${HN^^}
  server string = sharesfs lab $HFQDN (Samba %v)
  disable netbios = yes
  smb ports = 445
  interfaces = $ip/$prefix
  bind interfaces only = yes
$(samba_lab_paths)
  max log size = 0
  log level = 1
  map to guest = Bad User
  guest account = nobody
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
EOF
        if [ -n "$kt" ]; then
            cat <<EOF
  realm = $realm
  kerberos method = dedicated keytab
  dedicated keytab file = FILE:/lab/private/krb5.keytab
EOF
        fi
        # Samba 4.13 still serves SMB1 (NT1) when a server enables it:
        # samba413 does, samba422 keeps the default refusal, so the lab
        # shows both sides of "SMB1 when enabled".
        [ "$HN" = samba413 ] && printf '  server min protocol = NT1\n'
        for s in "${SETS[@]}"; do printf '  %s\n' "$s"; done
        cat <<EOF

[public]
  path = /lab/shares/public
  guest ok = yes
  read only = yes

[user]
  path = /lab/shares/user
  valid users = $VALID_USERS
  read only = no
EOF
    } >"$f"
}

write_afp_conf() {
    local f=$1 ip=$2 kt=$3 realm=$4 s VOLNAME=''
    # netatalk 4 lower-cases section names ("public"); its "volume name"
    # option (unknown to 3.1) keeps the advertised names Public and Private
    if grep -qa 'volume name' "$ROOTFS"/usr/lib/*/libatalk.so.* 2>/dev/null; then
        VOLNAME=1
    fi
    {
        cat <<EOF
; $HFQDN: netatalk from Debian $HSUITE (written by contrib/lab/realservers.sh; paths are inside the container)
[Global]
  afp listen = $ip
  afp port = 548
  uam list = uams_guest.so uams_clrtxt.so uams_dhx.so uams_dhx2.so${kt:+ uams_gss.so}
  guest account = nobody
  zeroconf = no
  spotlight = no
  log file = /lab/log/afpd.log
  log level = default:note
  vol dbpath = /lab/state/cnid/\$v/
EOF
        if [ -n "$kt" ]; then
            cat <<EOF
  k5 keytab = /lab/private/krb5.keytab
  k5 service = afpserver
  k5 realm = $realm
EOF
        fi
        for s in "${SETS[@]}"; do printf '  %s\n' "$s"; done
        cat <<EOF

[Public]
  path = /lab/volumes/Public
  read only = yes
  cnid scheme = $CNID${VOLNAME:+
  volume name = Public}

[Private]
  path = /lab/volumes/Private
  valid users = $VALID_USERS
  cnid scheme = $CNID${VOLNAME:+
  volume name = Private}
EOF
    } >"$f"
}

write_krb5_conf() {
    local f=$1 realm=$2 kdc=$3
    {
        cat <<EOF
[libdefaults]
  default_realm = $realm
  dns_lookup_realm = false
  dns_lookup_kdc = false
  rdns = false
  dns_canonicalize_hostname = false

[realms]
  $realm = {
EOF
        [ -n "$kdc" ] && echo "    kdc = $kdc"
        cat <<EOF
  }

[domain_realm]
  .$DOMAIN = $realm
  $DOMAIN = $realm
EOF
    } >"$f"
}

# Sample contents, only for share directories that do not exist yet.
fill_shares() {
    local d=$1 v
    if [ "$HKIND" = samba ]; then
        if [ ! -d "$d/shares/public" ]; then
            mkdir -p "$d/shares/public/dir"
            printf 'Hello from the sharesfs lab.\n' >"$d/shares/public/hello.txt"
            printf 'a\n' >"$d/shares/public/dir/a.txt"
            printf 'b\n' >"$d/shares/public/dir/b.txt"
            printf '%s\n' "$HFQDN" >"$d/shares/public/host.txt"
            chmod -R u=rwX,go=rX "$d/shares/public"
        fi
        if [ ! -d "$d/shares/user" ]; then
            mkdir -p "$d/shares/user"
            printf 'Notes of %s on %s.\n' "$LAB_USER" "$HFQDN" >"$d/shares/user/notes.txt"
            chown -R "$LAB_UID:$LAB_UID" "$d/shares/user"
        fi
        chmod 0755 "$d/shares"
    else
        for v in Public Private; do
            [ -d "$d/volumes/$v" ] && continue
            mkdir -p "$d/volumes/$v/dir"
            printf 'Hello from the sharesfs lab (%s on %s).\n' "$v" "$HFQDN" >"$d/volumes/$v/hello.txt"
            printf 'a\n' >"$d/volumes/$v/dir/a.txt"
            chmod -R u=rwX,go=rX "$d/volumes/$v"
            [ "$v" = Private ] && chown -R "$LAB_UID:$LAB_UID" "$d/volumes/$v"
        done
        chmod 0755 "$d/volumes"
    fi
}

# Password of a file: the first line, or the password= line of a cifs-style
# credentials file (the lab's creds/labuser.cred).
read_password_file() {
    local f=$1 p
    [ -r "$f" ] || die "cannot read password file $f"
    if grep -q '^password=' "$f"; then
        p=$(sed -n 's/^password=//p' "$f" | sed -n 1p)
    else
        p=$(head -n 1 "$f")
    fi
    [ -n "$p" ] || die "no password in $f"
    printf '%s' "$p"
}

# pid of the running container's nspawn for CONFDIR, or nothing.
running_pid() {
    local d=$1 pid
    [ -f "$d/pid" ] || return 0
    pid=$(cat "$d/pid" 2>/dev/null || true)
    case $pid in ''|*[!0-9]*) return 0 ;; esac
    # pids wrap: trust it only while it is this CONFDIR's nspawn
    local c nl=$'\n'
    c=$(tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline") || return 0
    case "$nl$c$nl" in
        *"$nl--bind=$d:/lab$nl"*) echo "$pid" ;;
    esac
    return 0
}

# The container's pid 1 (nspawn's stub init), a child of nspawn.
container_leader() {
    local pid=$1 c
    c=$(cat /proc/"$pid"/task/*/children 2>/dev/null | tr ' ' '\n' | awk 'NF && !n++' || true)
    [ -n "$c" ] && echo "$c"
}

# nspawn's machine name: unique per CONFDIR (nspawn keeps per-machine state
# in /run/systemd/nspawn/propagate/NAME), so two labs can run the same host.
machine_name() { echo "sfsrs-$HN-$(printf '%s' "$1" | sha256sum | cut -c1-8)"; }

# A process that exists and is not a zombie.  nspawn is reparented to the
# machine's pid 1 (start does not wait for it), which may reap it only
# about a second after it exited.
alive() {
    local st
    st=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

port_open() {
    local ns=$1 ip=$2 port=$3
    nsenter --net="/run/netns/$ns" timeout 1 bash -c "exec 3<>/dev/tcp/$ip/$port" 2>/dev/null
}

# SIGTERM to nspawn makes it send --kill-signal (SIGRTMIN+3, "halt") to the
# container's stub init, which passes SIGTERM (then SIGHUP) to the server and
# exits when the server has.  (The stub ignores SIGTERM itself.)  Should that
# hang, SIGKILL to the stub init ends the container's whole pid namespace;
# SIGKILL to nspawn alone would leave the container running.
stop_confdir() {
    local d=$1 pid leader i
    pid=$(running_pid "$d")
    [ -n "$pid" ] || { rm -f "$d/pid"; return 0; }
    leader=$(container_leader "$pid" || true)
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < TERM_GRACE * 50; i++)); do
        alive "$pid" || break
        sleep 0.02
    done
    if alive "$pid"; then
        warn "$HFQDN: container still running ${TERM_GRACE}s after SIGTERM, SIGKILL"
        [ -n "$leader" ] && kill -KILL "$leader" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do alive "$pid" || break; sleep 0.02; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    # nspawn leaves this behind when /run is not a tmpfs, or when killed
    rmdir "/run/systemd/nspawn/propagate/$(machine_name "$d")" 2>/dev/null || true
    rm -f "$d/pid"
}

# Tails of the console (nspawn, init.sh) and the server's own log.
show_logs() {
    local d=$1 f
    for f in "$d/log/console.log" "$d/log/log.smbd" "$d/log/afpd.log"; do
        [ -s "$f" ] || continue
        printf '  --- %s\n' "$f" >&2
        tail -n 15 "$f" | sed 's/^/  /' >&2
    done
}

cmd_start() {
    [ $# -ge 3 ] || usage
    local host=$1 ns=$2 d=$3
    shift 3
    local pwfile='' keytab='' realm=$REALM_DEFAULT kdc='' ip='' prefix='' rootfs='' wait=1 extra_users=()
    SETS=()
    while [ $# -gt 0 ]; do
        case $1 in
            --no-wait) ;;
            --*) [ $# -ge 2 ] || die "start option $1 needs a value" ;;
        esac
        case $1 in
            --password-file) pwfile=$2; shift 2 ;;
            --keytab)        keytab=$2; shift 2 ;;
            --realm)         realm=$2; shift 2 ;;
            --kdc)           kdc=$2; shift 2 ;;
            --address)       ip=$2; shift 2 ;;
            --rootfs)        rootfs=$2; shift 2 ;;
            --user)          extra_users+=("$2"); shift 2 ;;
            --set)           SETS+=("$2"); shift 2 ;;
            --timeout)       READY_TIMEOUT=$2; shift 2 ;;
            --no-wait)       wait=0; shift ;;
            *) die "unknown start option '$1'" ;;
        esac
    done
    need_root
    need_tool systemd-nspawn nsenter flock apt-get
    host_fields "$host"
    [ -e "/run/netns/$ns" ] || die "no network namespace '$ns' (/run/netns/$ns)"
    case $d in /*) ;; *) d=$(pwd)/$d ;; esac
    d=${d%/}
    case $d in *[:,[:space:]]*) die "CONFDIR may not contain ':', ',' or white space (systemd-nspawn --bind): $d" ;; esac
    LAB_USER=${SHARESFS_LAB_USER:-$LAB_USER_DEFAULT}
    LAB_UID=${SHARESFS_LAB_UID:-$LAB_UID_DEFAULT}

    local pw
    if [ -n "$pwfile" ]; then
        pw=$(read_password_file "$pwfile")
    elif [ -n "${SHARESFS_LAB_PASSWORD:-}" ]; then
        pw=$SHARESFS_LAB_PASSWORD
    else
        die "no password for $LAB_USER: give --password-file FILE (e.g. \$SHARESFS_LAB_DIR/creds/labuser.cred) or SHARESFS_LAB_PASSWORD"
    fi
    case $pw in *:*|*$'\n'*) die "the password may not contain ':' or a newline" ;; esac
    [ -z "$keytab" ] || [ -r "$keytab" ] || die "cannot read keytab $keytab"
    # netatalk's CNID database.  cnid_metad (scheme dbd) raises RLIMIT_NOFILE
    # to 65535 and exits when it cannot; netatalk then restarts it every second
    # and no volume opens (FPOpenVol: kFPMiscErr).  Where the hard limit is
    # lower and cannot be raised (no CAP_SYS_RESOURCE, e.g. in a sandbox),
    # use a scheme without a daemon (3.1: tdb; 4.x has no tdb: last) and run
    # afpd alone, without the netatalk master process and cnid_metad.
    CNID=${SHARESFS_LAB_RS_CNID:-}
    AFPD_ONLY=0
    if [ "$HKIND" = netatalk ]; then
        if [ -z "$CNID" ]; then
            if [ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge 65535 ] ||
               (ulimit -Hn 65535) 2>/dev/null; then
                CNID=dbd
            else
                case $HN in netatalk3*) CNID=tdb ;; *) CNID=last ;; esac
                warn "$HFQDN: RLIMIT_NOFILE hard limit $(ulimit -Hn) < 65535 and not raisable: cnid_metad cannot run; using 'cnid scheme = $CNID' and afpd without the netatalk master"
            fi
        fi
        [ "$CNID" = dbd ] || AFPD_ONLY=1
    fi
    # the user share/volume: labuser and every --user
    VALID_USERS=$LAB_USER
    local u
    for u in "${extra_users[@]}"; do VALID_USERS+=" ${u%%:*}"; done

    if [ -z "$ip" ]; then
        read -r ip prefix < <(ip -n "$ns" -4 -o addr show scope global |
                              awk '{ split($4, a, "/"); print a[1], a[2]; exit }') || true
        [ -n "$ip" ] || die "netns $ns has no IPv4 address: give --address"
    else
        prefix=${ip#*/}; ip=${ip%/*}
        [ "$prefix" != "$ip" ] || prefix=$(ip -n "$ns" -4 -o addr show | awk -v a="$ip" '{ split($4, b, "/"); if (b[1] == a && !n++) print b[2] }' || true)
        [ -n "$prefix" ] || prefix=24
    fi

    # The rootfs first: a mirror or build failure starts nothing.
    if [ -n "$rootfs" ]; then
        [ -x "$rootfs/usr/bin/dpkg" ] || die "$rootfs is not a root filesystem"
        ROOTFS=$(realpath "$rootfs")
    else
        rootfs_ensure "$HSUITE"
    fi

    mkdir -p "$d"
    stop_confdir "$d"
    mkdir -p "$d/etc" "$d/log" "$d/private"
    chmod 0700 "$d/private"
    if [ "$HKIND" = samba ]; then
        mkdir -p "$d/state/run" "$d/state/lock" "$d/state/state" "$d/state/cache" "$d/state/private" \
                 "$d/state/ncalrpc" "$d/state/binddns" "$d/state/usershares"
        chmod 0700 "$d/state/private"
    else
        mkdir -p "$d/state/cnid" "$d/state/netatalk"
    fi
    fill_shares "$d"
    # users: NAME:UID:PASSWORD, root-only
    (
        umask 077
        printf '%s:%s:%s\n' "$LAB_USER" "$LAB_UID" "$pw"
        local u name uid f
        for u in "${extra_users[@]}"; do
            IFS=: read -r name uid f <<<"$u"
            [ -n "$name" ] && [ -n "$uid" ] && [ -n "$f" ] || die "--user wants NAME:UID:PASSWORD-FILE"
            printf '%s:%s:%s\n' "$name" "$uid" "$(read_password_file "$f")"
        done
    ) >"$d/private/users.new"
    chmod 0600 "$d/private/users.new"
    mv "$d/private/users.new" "$d/private/users"
    rm -f "$d/private/krb5.keytab"
    if [ -n "$keytab" ]; then
        install -m 0600 "$keytab" "$d/private/krb5.keytab"
    fi
    install -m 0755 "$ROOTFS_SERVER_INIT" "$d/init.sh"   # the container's entry point
    write_krb5_conf "$d/etc/krb5.conf" "$realm" "$kdc"
    if [ "$HKIND" = samba ]; then
        write_smb_conf "$d/etc/smb.conf" "$ip" "$prefix" "$keytab" "$realm"
    else
        write_afp_conf "$d/etc/afp.conf" "$ip" "$keytab" "$realm"
    fi
    echo "$ROOTFS" >"$d/rootfs"
    echo "$HFQDN" >"$d/host"
    if [ -d "$d/log" ] && [ -n "$(ls -A "$d/log")" ]; then
        rm -rf "$d/log.prev"
        mv "$d/log" "$d/log.prev"
        mkdir -p "$d/log"
    fi

    # readiness is "the port answers": it must not answer before we start
    if port_open "$ns" "$ip" "$HPORT"; then
        die "something already listens on $ip:$HPORT in netns $ns (another container? stop it first)"
    fi
    # RLIMIT_NOFILE: the container has no CAP_SYS_RESOURCE; give it at least
    # 65536 when this machine allows it (cnid_metad wants 65535, see CNID).
    # nspawn's image lock and propagation directories:
    mkdir -p /run/lock /run/systemd/nspawn
    local binds=(--bind="$d:/lab")
    [ "$HKIND" = netatalk ] && binds+=(--bind="$d/state/netatalk:/var/lib/netatalk")
    local t0 t1 pid nofile
    nofile=$(ulimit -Hn)
    [ "$nofile" = unlimited ] || [ "$nofile" -ge 65536 ] || { (ulimit -Hn 65536) 2>/dev/null && nofile=65536; }
    t0=$(now_ms)
    setsid systemd-nspawn --quiet --register=no --keep-unit --as-pid2 \
        --machine="$(machine_name "$d")" --hostname="$HFQDN" \
        --directory="$ROOTFS" --read-only --volatile=overlay \
        --network-namespace-path="/run/netns/$ns" \
        "${binds[@]}" \
        --resolv-conf=off --timezone=off --link-journal=no --console=pipe \
        --rlimit=RLIMIT_NOFILE="$nofile" \
        --kill-signal=SIGRTMIN+3 --setenv=SERVER_KIND="$HKIND" --setenv=AFPD_ONLY="$AFPD_ONLY" \
        --setenv=SERVER_CONF="/lab/etc/$([ "$HKIND" = samba ] && echo smb || echo afp).conf" \
        /lab/init.sh </dev/null >"$d/log/console.log" 2>&1 8>&- 9>&- &
    pid=$!
    echo "$pid" >"$d/pid"
    disown "$pid" 2>/dev/null || true
    [ "$wait" = 1 ] || { say "$HFQDN $ip:$HPORT pid $pid (not waiting)"; return 0; }

    local deadline=$(( t0 + READY_TIMEOUT * 1000 ))
    while :; do
        if ! alive "$pid"; then
            warn "!!! $HFQDN: the container exited during start-up"
            show_logs "$d"
            rm -f "$d/pid"
            exit 1
        fi
        port_open "$ns" "$ip" "$HPORT" && break
        if [ "$(now_ms)" -ge "$deadline" ]; then
            warn "!!! $HFQDN: $ip:$HPORT not open after ${READY_TIMEOUT}s"
            show_logs "$d"
            stop_confdir "$d"
            exit 1
        fi
        sleep 0.05
    done
    t1=$(now_ms)
    say "$HFQDN $ip:$HPORT pid $pid ready in $((t1 - t0)) ms ($HKIND, Debian $HSUITE)"
}

cmd_stop() {
    [ $# = 2 ] || usage
    need_root
    host_fields "$1"
    local d=${2%/}
    case $d in /*) ;; *) d=$(pwd)/$d ;; esac
    stop_confdir "$d"
}

cmd_status() {
    [ $# = 2 ] || usage
    host_fields "$1"
    local d=${2%/} pid
    case $d in /*) ;; *) d=$(pwd)/$d ;; esac
    pid=$(running_pid "$d")
    if [ -n "$pid" ]; then
        say "$HFQDN running, nspawn pid $pid, rootfs $(cat "$d/rootfs" 2>/dev/null)"
    else
        say "$HFQDN not running"
        return 1
    fi
}

cmd_version() {
    [ $# = 2 ] || usage
    need_root
    host_fields "$1"
    local d=${2%/} pid leader bin out
    case $d in /*) ;; *) d=$(pwd)/$d ;; esac
    bin=/usr/sbin/smbd
    [ "$HKIND" = netatalk ] && bin=/usr/sbin/afpd
    pid=$(running_pid "$d")
    if [ -n "$pid" ] && leader=$(container_leader "$pid"); then
        out=$(nsenter --target "$leader" --mount --uts --ipc --pid -- "$bin" -V 2>&1) ||
            die "$bin -V failed in the container of $HFQDN: $out"
    else
        # not running: the same binary, from the rootfs it would run on
        local r
        r=$(cat "$d/rootfs" 2>/dev/null || true)
        if [ -z "$r" ] || [ ! -x "$r$bin" ]; then
            SHARESFS_LAB_OFFLINE=1 rootfs_ensure "$HSUITE"
            r=$ROOTFS
        fi
        out=$(chroot "$r" "$bin" -V 2>&1) || die "$bin -V failed in $r: $out"
    fi
    printf '%s\n' "$out" | awk 'NF && !n++'
}

cmd_hosts() {
    local h
    for h in "${HOSTS[@]}"; do
        IFS='|' read -r HN HSUITE HKIND <<<"$h"
        printf '%s.%s %s %s\n' "$HN" "$DOMAIN" "$HSUITE" "$HKIND"
    done
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
    rootfs)  cmd_rootfs "$@" ;;
    start)   cmd_start "$@" ;;
    stop)    cmd_stop "$@" ;;
    status)  cmd_status "$@" ;;
    version) cmd_version "$@" ;;
    hosts)   cmd_hosts "$@" ;;
    prune)   cmd_prune "$@" ;;
    -h|--help|help) usage ;;
    *) usage ;;
esac
