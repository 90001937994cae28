# Servers that belong to one test run, for tests that stop, kill or restart
# them (the shared lab's servers must never be touched).  Source it after
# lib.sh.  Each server runs in a network namespace of its own, created here,
# joined to this machine by a veth pair on a free 10.232.N.0/24 (host side .1,
# namespace side .2); every config, state dir, share and user lives under a
# mktemp dir.  The EXIT trap kills every process of those namespaces, deletes
# them and the temporary dir; a run that cannot start a server bails.
#
#   own_init                  $OWN_DIR, the user $OWN_USER, its credentials
#                             file $OWN_CRED, a client smb.conf
#                             (SHARESFS_SMB_CONF), the EXIT trap
#   own_smbd NAME             namespace NAME with smbd: share [user], read-write,
#                             $OWN_USER only
#   own_afpsim NAME PERSONA   namespace NAME with afpsim (contrib/afpsim/
#                             personalities/PERSONA.conf): volume Private,
#                             $OWN_USER only
#   own_start NAME            start NAME's server again, configured as before
#   own_wait NAME             until it accepts connections (bails after 10 s;
#                             the trap then prints the servers' logs)
#   own_pids NAME             every process of NAME's namespace
#   own_kill NAME             SIGKILL them all, wait until they are gone
#   ${OWN_IP[NAME]}           the server's address
#   own_sharesfs MNT ARGS...  "$SHARESFS" -f ARGS... MNT in the background,
#                             its output in $OWN_DIR/sharesfs.log, its pid in
#                             $OWN_SHARESFS_PID; returns once MNT is mounted
#                             (bails after 5 s)
#   own_sharesfs_stop RC      unmount it and wait up to 10 s for it to exit
#                             (then SIGKILL); after a failure (RC not 0, or a
#                             failed check) the tail of its log, on stderr
#
# A test may define own_pre_cleanup (own_sharesfs_stop, SIGCONT, ...): the
# trap runs it first, with the exit status; after a failure the servers'
# logs follow, on stderr.  smbd maps $OWN_USER to a uid through nss_wrapper, as the lab does
# for labuser, with passwd/group files of this run only.  The password is
# random, written only to 0600 files and smbpasswd's stdin, and never printed.

# nss_wrapper_lib, veth_configure and the smb.conf pieces the lab uses too
# (a file of the source tree: no running lab is needed).
# shellcheck source=contrib/lab/common.sh
. "$SFS_SRC/contrib/lab/common.sh"

OWN_NET=10.232
OWN_PREFIX=sfsown           # netns sfsownN, host-side veth sfsownN
OWN_IFACE=own0              # namespace-side veth
OWN_USER=ownuser
OWN_UID=2101
OWN_WORKGROUP=SFSOWN
OWN_DIR=
OWN_CLEANED=
OWN_SHARESFS_PID=
OWN_SHARESFS_MNT=
OWN_NETNS_MADE=()
OWN_LINKS_MADE=()
declare -A OWN_NS=() OWN_IP=() OWN_PORT=() OWN_KIND=() OWN_PID=() OWN_PERSONA=()

own_need() {
    local t
    for t; do command -v "$t" >/dev/null 2>&1 || bail "$t not found (needed to run this test's own servers)"; done
}

own_init() {
    local pass
    [ "$(id -u)" -eq 0 ] || bail "needs root (network namespaces, smbd, FUSE)"
    own_need ip nsenter smbd smbpasswd timeout mktemp
    OWN_NSSW=$(nss_wrapper_lib) || bail "libnss_wrapper.so not found (package libnss-wrapper)"
    # afpsim of the same build as sharesfs (meson passes SHARESFS).
    OWN_AFPSIM=${SHARESFS_AFPSIM:-${SHARESFS%/fs/fuse/sharesfs}/contrib/afpsim/afpsim}
    [ -x "$OWN_AFPSIM" ] || bail "afpsim not built at $OWN_AFPSIM (or set SHARESFS_AFPSIM)"

    trap own_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
    OWN_DIR=$(mktemp -d /tmp/sfs-own.XXXXXX) || bail "mktemp failed"
    # smbd serves the share as $OWN_USER, who must be able to walk down to it.
    chmod 0755 "$OWN_DIR"

    mkdir "$OWN_DIR/nss" "$OWN_DIR/client"
    awk -F: -v u="$OWN_USER" -v id="$OWN_UID" '$1 != u && $3 != id' /etc/passwd >"$OWN_DIR/nss/passwd"
    echo "$OWN_USER:x:$OWN_UID:$OWN_UID:sharesfs test user:/nonexistent:/usr/sbin/nologin" >>"$OWN_DIR/nss/passwd"
    awk -F: -v u="$OWN_USER" -v id="$OWN_UID" '$1 != u && $3 != id' /etc/group >"$OWN_DIR/nss/group"
    echo "$OWN_USER:x:$OWN_UID:" >>"$OWN_DIR/nss/group"
    : >"$OWN_DIR/krb5.conf"

    pass=$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 20)
    [ ${#pass} -eq 20 ] || bail "cannot make a password"
    OWN_CRED=$OWN_DIR/own.cred
    (
        umask 077
        printf 'username=%s\npassword=%s\ndomain=%s\n' "$OWN_USER" "$pass" "$OWN_WORKGROUP" >"$OWN_CRED"
        printf '%s:%s\n' "$OWN_USER" "$pass" >"$OWN_DIR/afp-users"
        printf '%s\n%s\n' "$pass" "$pass" >"$OWN_DIR/smbpasswd.in"
    )

    # libsmbclient in sharesfs: its caches here, not in /run/samba.
    smbconf_client "$OWN_WORKGROUP" "$OWN_DIR/client" >"$OWN_DIR/client.conf"
    export SHARESFS_SMB_CONF=$OWN_DIR/client.conf
}

# own_netns NAME: a namespace on the first free 10.232.N.0/24.  `ip netns
# add` fails when the name exists, which makes it the lock between runs.
own_netns() {
    local name=$1 start n i ns
    start=$(( $$ % 254 ))
    for i in $(seq 0 253); do
        n=$(( (start + i) % 254 + 1 ))
        ip -o -4 addr show | grep -q " inet $OWN_NET\.$n\." && continue
        ns=$OWN_PREFIX$n
        ip netns add "$ns" 2>/dev/null || continue
        OWN_NETNS_MADE+=("$ns")
        if ! ip link add "$ns" type veth peer name "$OWN_IFACE" netns "$ns" 2>/dev/null; then
            # a link of that name left by a run that was killed: next one
            ip netns del "$ns"
            unset 'OWN_NETNS_MADE[-1]'
            continue
        fi
        OWN_LINKS_MADE+=("$ns")
        veth_configure "$ns" "$ns" "$OWN_IFACE" "$OWN_NET.$n" 1 ||
            bail "cannot set up the veth pair of netns $ns"
        # The address must lead into our namespace and nowhere else.
        ip route get "$OWN_NET.$n.2" | grep -q " dev $ns " ||
            bail "$OWN_NET.$n.2 is not routed through $ns: $(ip route get "$OWN_NET.$n.2")"
        OWN_NS[$name]=$ns
        OWN_IP[$name]=$OWN_NET.$n.2
        return 0
    done
    bail "no free $OWN_NET.N.0/24 for a network namespace"
}

own_smbd() {
    local name=$1 d=$OWN_DIR/$1
    own_netns "$name"
    smbd_state_dirs "$d"
    mkdir -p "$d/share"
    chown "$OWN_UID:$OWN_UID" "$d/share"
    {
        echo "# smbd of one sharesfs test run (tests/integration/own_servers.sh)"
        smbconf_standalone "$OWN_WORKGROUP" SFSOWN "${OWN_IP[$name]}" "$d"
        cat <<EOF
  map to guest = Never

[user]
  path = $d/share
  valid users = $OWN_USER
  read only = no
EOF
    } >"$d/smb.conf"
    LD_PRELOAD=$OWN_NSSW NSS_WRAPPER_PASSWD=$OWN_DIR/nss/passwd NSS_WRAPPER_GROUP=$OWN_DIR/nss/group \
        smbpasswd -c "$d/smb.conf" -s -a "$OWN_USER" <"$OWN_DIR/smbpasswd.in" >"$d/log/smbpasswd.out" 2>&1 ||
        bail "smbpasswd failed: $(cat "$d/log/smbpasswd.out")"
    OWN_KIND[$name]=smb
    OWN_PORT[$name]=445
    own_start "$name"
}

own_afpsim() {
    local name=$1 d=$OWN_DIR/$1
    [ -f "$SFS_SRC/contrib/afpsim/personalities/$2.conf" ] || bail "no afpsim personality $2"
    own_netns "$name"
    mkdir -p "$d/log" "$d/Private"
    OWN_KIND[$name]=afp
    OWN_PORT[$name]=548
    OWN_PERSONA[$name]=$2
    own_start "$name"
}

# Starts NAME's server in its namespace.  nsenter --net, not `ip netns
# exec`: the latter also gives the server a mount namespace of its own, a
# copy of ours, and a FUSE mount made before a restart would live on in that
# copy after `fusermount3 -u` (sharesfs would not exit).  Its output goes to
# its log dir; fd 9 is closed (a test may hold a file of a FUSE mount open on
# it, which would keep the mount busy).  It stays in the test's process
# group, so a test killed from outside takes it along.
own_start() {
    local name=$1 d=$OWN_DIR/$1
    case ${OWN_KIND[$name]} in
        smb)
            nsenter --net="/run/netns/${OWN_NS[$name]}" \
                env LD_PRELOAD="$OWN_NSSW" NSS_WRAPPER_PASSWD="$OWN_DIR/nss/passwd" \
                    NSS_WRAPPER_GROUP="$OWN_DIR/nss/group" KRB5_CONFIG="$OWN_DIR/krb5.conf" \
                smbd -F --no-process-group -s "$d/smb.conf" -l "$d/log" \
                </dev/null >>"$d/log/stdout" 2>&1 9<&- &
            ;;
        afp)
            nsenter --net="/run/netns/${OWN_NS[$name]}" env KRB5_CONFIG="$OWN_DIR/krb5.conf" \
                "$OWN_AFPSIM" --listen "${OWN_IP[$name]}:548" --foreground \
                --personality "$SFS_SRC/contrib/afpsim/personalities/${OWN_PERSONA[$name]}.conf" \
                --users "$OWN_DIR/afp-users" --volume "Private=$d/Private:valid=$OWN_USER" \
                --log "$d/log/afpsim.log" </dev/null >>"$d/log/stdout" 2>&1 9<&- &
            ;;
        *) bail "own_start: no server named $name" ;;
    esac
    OWN_PID[$name]=$!
    disown "$!"
}

own_log_tail() {
    local f
    for f in "$OWN_DIR/$1"/log/*; do
        [ -s "$f" ] || continue
        echo "# ---- $f"
        tail -n 15 "$f" | sed 's/^/#   /'
    done
}

own_wait() {
    local name=$1 i
    for i in $(seq 1000); do
        if ! kill -0 "${OWN_PID[$name]}" 2>/dev/null; then
            bail "the $name server (pid ${OWN_PID[$name]}) exited while starting"
        fi
        (exec 3<>"/dev/tcp/${OWN_IP[$name]}/${OWN_PORT[$name]}") 2>/dev/null && return 0
        sleep 0.01
    done
    bail "the $name server does not listen on ${OWN_IP[$name]}:${OWN_PORT[$name]} after 10 s"
}

own_pids() { ip netns pids "${OWN_NS[$1]}"; }

own_kill() {
    local p i
    for p in $(own_pids "$1"); do kill -KILL "$p" 2>/dev/null; done
    for i in $(seq 500); do
        [ -z "$(own_pids "$1")" ] && return 0
        sleep 0.01
    done
    bail "processes of $1 still alive 5 s after SIGKILL: $(own_pids "$1")"
}

own_sharesfs() {
    local mnt=$1 _
    shift
    OWN_SHARESFS_MNT=$mnt
    "$SHARESFS" -f "$@" "$mnt" </dev/null >"$OWN_DIR/sharesfs.log" 2>&1 &
    OWN_SHARESFS_PID=$!
    for _ in $(seq 100); do mountpoint -q "$mnt" && return 0; sleep 0.05; done
    bail "sharesfs did not mount $mnt (its log follows on stderr)"
}

own_sharesfs_stop() {
    local rc=${1:-0} mnt=$OWN_SHARESFS_MNT pid=$OWN_SHARESFS_PID _
    if { [ "$rc" -ne 0 ] || [ "${_tap_failed:-0}" -ne 0 ]; } && [ -s "$OWN_DIR/sharesfs.log" ]; then
        { echo "# ---- sharesfs log"; tail -n 40 "$OWN_DIR/sharesfs.log" | sed 's/^/#   /'; } >&2
    fi
    [ -n "$mnt" ] || return 0
    mountpoint -q "$mnt" && fusermount3 -u "$mnt" 2>/dev/null
    if [ -n "$pid" ]; then
        for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        if kill -0 "$pid" 2>/dev/null; then
            echo "cleanup: sharesfs (pid $pid) still running 10 s after unmount: SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null
        fi
        wait "$pid" 2>/dev/null
    fi
    mountpoint -q "$mnt" && fusermount3 -uz "$mnt"
    OWN_SHARESFS_PID= OWN_SHARESFS_MNT=
    return 0
}

# The EXIT trap.  Leftovers it cannot remove make the test fail.
own_cleanup() {
    local rc=$? left=0 ns p pids i
    [ -z "$OWN_CLEANED" ] || return
    OWN_CLEANED=1
    declare -F own_pre_cleanup >/dev/null && own_pre_cleanup "$rc"
    if [ "$rc" -ne 0 ] || [ "${_tap_failed:-0}" -ne 0 ]; then
        for ns in "${!OWN_KIND[@]}"; do own_log_tail "$ns" >&2; done
    fi
    for ns in "${OWN_NETNS_MADE[@]}"; do
        pids=$(ip netns pids "$ns" 2>/dev/null)
        [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
    done
    for ns in "${OWN_NETNS_MADE[@]}"; do
        for i in $(seq 500); do
            [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
            sleep 0.01
        done
        pids=$(ip netns pids "$ns" 2>/dev/null)
        [ -z "$pids" ] || { echo "cleanup: processes left in netns $ns: $pids" >&2; left=1; }
    done
    for p in "${OWN_LINKS_MADE[@]}"; do
        ip link del "$p" 2>/dev/null
    done
    for ns in "${OWN_NETNS_MADE[@]}"; do
        ip netns del "$ns" || { echo "cleanup: cannot delete netns $ns" >&2; left=1; }
    done
    if [ -n "$OWN_DIR" ] && [ -d "$OWN_DIR" ]; then
        # never rm -rf through a mount that is still there
        if grep -q " $OWN_DIR/" /proc/self/mounts; then
            echo "cleanup: still mounted under $OWN_DIR; not removed" >&2
            left=1
        else
            rm -rf "$OWN_DIR"
        fi
    fi
    [ "$left" = 0 ] || exit 1
    exit "$rc"
}
