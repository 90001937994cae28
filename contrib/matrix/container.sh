#!/bin/bash
# container_command of the regression matrix (docs/matrix.md, "Container
# targets"): a Debian suite + packages + a server config, run by
# systemd-nspawn in a network namespace of its own, as the lab's real-version
# hosts are (contrib/lab/realservers.sh, which knows only its four hosts).
#
#   container.sh start | stop        (afptest passes the action as $1)
#
# afptest sets (every value from the matrix file, never a password):
#   SFS_MATRIX_TARGET         the target's name
#   SFS_MATRIX_SUITE          Debian suite: trixie, bookworm, bookworm-backports, ...
#   SFS_MATRIX_PACKAGES       packages to install, space-separated ("samba")
#   SFS_MATRIX_SERVER         smb | afp (from the target's shares): smbd or netatalk
#   SFS_MATRIX_SERVER_CONFIG  smb.conf / afp.conf to use (a path), or empty: a
#                             default one with [public] (guest, read-only) and
#                             [user] (the users below, writable); afp: Public, Private
#   SFS_MATRIX_ADDRESS        the container's address (10.231.60.4n+2/30)
#   SFS_MATRIX_PEER           this machine's end of the link (10.231.60.4n+1/30)
#   SFS_MATRIX_NETNS          the network namespace to create
#   SFS_MATRIX_STATE          a directory of the run for this target (bound at /lab)
#   SFS_MATRIX_USERS          "user:credentials-file ..." of the password clients
#
# Root filesystems are cached under ${SHARESFS_LAB_CACHE:-/var/cache/sharesfs-lab}/matrix-rootfs,
# keyed by suite, packages and the suites' InRelease files (hence the package
# versions the mirror offers); SHARESFS_LAB_OFFLINE=1 takes the newest cached
# one of that suite and package set without asking the mirror.  The mirror is
# SHARESFS_LAB_MIRROR, else the apt configuration's Debian archive
# (contrib/lab/rootfs-lib.sh, which builds and caches the trees).
# A suite NAME-backports is built on NAME with the backports preferred
# (APT::Default-Release).  Requires root, mmdebstrap, systemd-container, curl.
set -euo pipefail

PROG=${0##*/}
RECIPE=1
READY_TIMEOUT=${SHARESFS_MATRIX_READY_TIMEOUT:-60}
UID_BASE=2001

die() { printf '%s: %s: %s\n' "$PROG" "${SFS_MATRIX_TARGET:-?}" "$*" >&2; exit 1; }
say() { printf '%s: %s: %s\n' "$PROG" "${SFS_MATRIX_TARGET:-?}" "$*" >&2; }
warn() { say "$*"; }

# The rootfs cache: mirror, locking, mmdebstrap, offline mode.
# shellcheck source=contrib/lab/rootfs-lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../lab/rootfs-lib.sh"
ROOTFS_DIR=$ROOTFS_CACHE/matrix-rootfs
APT_DIR=$ROOTFS_CACHE/apt
DPKG_OPTS=("${ROOTFS_NODOCS[@]}")

action=${1:-${SFS_MATRIX_ACTION:-}}
: "${SFS_MATRIX_TARGET:?}" "${SFS_MATRIX_STATE:?}" "${SFS_MATRIX_NETNS:?}"
STATE=$SFS_MATRIX_STATE
NS=$SFS_MATRIX_NETNS
# host side of the veth pair: at most 15 characters
LINK=sfsmx${SFS_MATRIX_ADDRESS##*.}
NS_IFACE=mx0

# ensure_rootfs -> ROOTFS.  The key is this script's own (suite, sorted
# packages, the InRelease files); the rest is contrib/lab/rootfs-lib.sh's.
ensure_rootfs() {
    local suite=$SFS_MATRIX_SUITE base pkgkey m final tag s sums=''
    base=${suite%-backports}
    read -r -a PACKAGES <<<"$SFS_MATRIX_PACKAGES"
    [ ${#PACKAGES[@]} -gt 0 ] || die "no packages"
    pkgkey=$(printf '%s\n' "${PACKAGES[@]}" | sort -u | tr '\n' ' ')
    # the current tree of this suite and package set: the symlink TAG
    tag=$suite-$(printf '%s\n' "$RECIPE" "$pkgkey" | sha256sum | cut -c1-8)
    rootfs_lock "$suite"
    if [ "${SHARESFS_LAB_OFFLINE:-0}" = 1 ]; then
        rootfs_offline "$tag"
    else
        m=$(rootfs_mirror_url) || exit 1
        for s in $(printf '%s\n' "$base" "$suite" | sort -u); do
            sums+=$(curl -fsS --max-time 30 "$m/dists/$s/InRelease" | sha256sum | cut -c1-64) ||
                die "cannot fetch $m/dists/$s/InRelease"
        done
        KEY=$(printf '%s\n' "$RECIPE" "$suite" "$pkgkey" "$sums" | sha256sum | cut -c1-16)
        final=$ROOTFS_DIR/$suite-$KEY
        if ! rootfs_built "$final"; then
            # NAME-backports: built on NAME, the backports preferred
            ROOTFS_MMDEBSTRAP_ARGS=(--customize-hook='mkdir -p "$1/lab"')
            local sources=("deb $m $base main")
            if [ "$base" != "$suite" ]; then
                ROOTFS_MMDEBSTRAP_ARGS+=("--aptopt=APT::Default-Release \"$suite\"")
                sources+=("deb $m $suite main")
            fi
            MANIFEST=
            rootfs_build "$suite" "$base" "$final" "${sources[@]}"
        fi
        rootfs_link "$tag" "$suite-$KEY"
        ROOTFS=$final/root
    fi
    rootfs_unlock
}

password_of() {
    local f=$1
    [ -r "$f" ] || die "cannot read credentials file $f"
    if grep -q '^password=' "$f"; then sed -n 's/^password=//p' "$f" | sed -n 1p; else head -n 1 "$f"; fi
}

default_config() {
    local users=$1
    if [ "$SFS_MATRIX_SERVER" = smb ]; then
        cat <<EOF
# written by contrib/matrix/container.sh for $SFS_MATRIX_TARGET (Debian $SFS_MATRIX_SUITE)
[global]
  server role = standalone server
  workgroup = MATRIX
  disable netbios = yes
  smb ports = 445
$(samba_lab_paths)
  map to guest = Bad User
  guest account = nobody
  load printers = no
  disable spoolss = yes

[public]
  path = /lab/shares/public
  guest ok = yes
  read only = yes

[user]
  path = /lab/shares/user
  valid users = ${users:-nobody}
  read only = no
EOF
    else
        cat <<EOF
; written by contrib/matrix/container.sh for $SFS_MATRIX_TARGET (Debian $SFS_MATRIX_SUITE)
[Global]
  uam list = uams_guest.so uams_dhx2.so
  guest account = nobody
  zeroconf = no
  log file = /lab/log/afpd.log
  vol dbpath = /lab/state/cnid/\$v/

[Public]
  path = /lab/shares/public
  read only = yes
  cnid scheme = last

[Private]
  path = /lab/shares/user
  valid users = ${users:-nobody}
  cnid scheme = last
EOF
    fi
}

port_open() {
    timeout 1 bash -c "exec 3<>/dev/tcp/$SFS_MATRIX_ADDRESS/$1" 2>/dev/null
}

cmd_start() {
    [ "$(id -u)" = 0 ] || die "must run as root"
    case $SFS_MATRIX_ADDRESS in 10.231.60.*) ;; *) die "address $SFS_MATRIX_ADDRESS is not in 10.231.60.0/24" ;; esac
    command -v systemd-nspawn >/dev/null || die "systemd-nspawn not installed (systemd-container)"
    ensure_rootfs
    local port=445 users='' u name file i=0
    [ "$SFS_MATRIX_SERVER" = afp ] && port=548
    mkdir -p "$STATE"/{etc,log,private,shares/public/dir,shares/user} \
             "$STATE"/state/{run,lock,state,cache,private,ncalrpc,binddns,usershares,cnid}
    chmod 0755 "$STATE" "$STATE/shares"
    chmod 0700 "$STATE/private" "$STATE/state/private"
    printf 'Hello from %s (Debian %s).\n' "$SFS_MATRIX_TARGET" "$SFS_MATRIX_SUITE" >"$STATE/shares/public/hello.txt"
    printf 'a\n' >"$STATE/shares/public/dir/a.txt"
    printf 'Notes.\n' >"$STATE/shares/user/notes.txt"
    chmod -R u=rwX,go=rX "$STATE/shares"
    (
        umask 077
        for u in $SFS_MATRIX_USERS; do
            name=${u%%:*} file=${u#*:}
            printf '%s:%s:%s\n' "$name" "$((UID_BASE + i))" "$(password_of "$file")"
            i=$((i + 1))
        done
    ) >"$STATE/private/users"
    users=$(cut -d: -f1 "$STATE/private/users" | tr '\n' ' ')
    # the user share belongs to the first user
    [ -s "$STATE/private/users" ] && chown -R "$UID_BASE:$UID_BASE" "$STATE/shares/user"
    if [ -n "${SFS_MATRIX_SERVER_CONFIG:-}" ]; then
        cp "$SFS_MATRIX_SERVER_CONFIG" "$STATE/etc/server.conf" || die "cannot read $SFS_MATRIX_SERVER_CONFIG"
    else
        default_config "${users% }" >"$STATE/etc/server.conf"
    fi
    install -m 0755 "$ROOTFS_SERVER_INIT" "$STATE/init.sh"   # the container's entry point

    ip netns add "$NS" || die "cannot create network namespace $NS"
    ip link add "$LINK" type veth peer name "$NS_IFACE" netns "$NS" || die "cannot create veth $LINK"
    ip link set dev "$LINK" addrgenmode none 2>/dev/null || true
    ip addr add "$SFS_MATRIX_PEER/${SFS_MATRIX_PREFIX:-30}" dev "$LINK"
    ip link set "$LINK" up
    ip -n "$NS" addr add "$SFS_MATRIX_ADDRESS/${SFS_MATRIX_PREFIX:-30}" dev "$NS_IFACE"
    ip -n "$NS" link set "$NS_IFACE" up
    ip -n "$NS" link set lo up
    port_open "$port" && die "something already answers on $SFS_MATRIX_ADDRESS:$port"

    mkdir -p /run/lock /run/systemd/nspawn
    setsid systemd-nspawn --quiet --register=no --keep-unit --as-pid2 \
        --machine="sfsmx-${NS#sfsmx-}" --hostname="$SFS_MATRIX_TARGET" \
        --directory="$ROOTFS" --read-only --volatile=overlay \
        --network-namespace-path="/run/netns/$NS" --bind="$STATE:/lab" \
        --resolv-conf=off --timezone=off --link-journal=no --console=pipe \
        --kill-signal=SIGRTMIN+3 --setenv=SERVER_KIND="$([ "$SFS_MATRIX_SERVER" = smb ] && echo samba || echo netatalk)" \
        --setenv=SERVER_CONF=/lab/etc/server.conf --setenv=AFPD_ONLY=1 \
        /lab/init.sh </dev/null >"$STATE/log/console.log" 2>&1 8>&- &
    echo $! >"$STATE/pid"
    disown $! 2>/dev/null || true
    local t=0
    until port_open "$port"; do
        if ! kill -0 "$(cat "$STATE/pid")" 2>/dev/null; then
            tail -n 5 "$STATE/log/console.log" >&2 || true
            die "the container exited during start-up"
        fi
        t=$((t + 1))
        [ "$t" -lt $((READY_TIMEOUT * 10)) ] || die "$SFS_MATRIX_ADDRESS:$port not open after ${READY_TIMEOUT}s"
        sleep 0.1
    done
    say "$SFS_MATRIX_SERVER on $SFS_MATRIX_ADDRESS:$port (Debian $SFS_MATRIX_SUITE: $(grep -E '^(samba|netatalk) ' "${ROOTFS%/root}/manifest" | tr '\n' ' '))"
}

cmd_stop() {
    local pid leader i
    pid=$(cat "$STATE/pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        leader=$(cat /proc/"$pid"/task/*/children 2>/dev/null | tr ' ' '\n' | awk 'NF && !n++' || true)
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 250; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
        if kill -0 "$pid" 2>/dev/null; then
            [ -n "$leader" ] && kill -KILL "$leader" 2>/dev/null || true
            sleep 0.2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$STATE/pid"
    ip link del "$LINK" 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
}

case $action in
    start) cmd_start ;;
    stop) cmd_stop ;;
    *) die "usage: $PROG start|stop (with the SFS_MATRIX_* environment of docs/matrix.md)" ;;
esac
