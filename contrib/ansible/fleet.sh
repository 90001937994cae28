#!/bin/bash
# A fleet of throwaway test clients for the Ansible playbook (contrib/ansible/):
# N Debian containers, each in its own network namespace with an sshd that
# the machine (the Ansible controller) reaches by key, routed to the lab.
#
#   fleet.sh start N     (re)start N clients client1..clientN; idempotent, stops
#                        any previous fleet first; waits until every sshd answers
#   fleet.sh stop        stop every client, delete the namespaces, the bridge,
#                        the routes in the lab's namespaces and the forwarding
#                        flags set by start; idempotent
#   fleet.sh status      one line per client: name, address, pid, ssh or not
#   fleet.sh inventory   path of the Ansible inventory of the running fleet
#   fleet.sh ssh K [COMMAND...]   ssh into client K (root, the fleet's key)
#   fleet.sh routes      add the routes and forwarding flags again (after a
#                        lab restart, which makes new namespaces and veths)
#   fleet.sh rootfs      build (or reuse) the cached root filesystem; prints its path
#
# Network: a bridge sfsfleetbr 10.231.70.1/24 on this machine; client K in
# namespace sfsfleet-K at 10.231.70.(10+K) on a veth (host end sfsfleetK),
# routed to 10.231.0.0/16 through 10.231.70.1.  Each running lab namespace
# (labsfs-*, 10.231.X.2) gets a route 10.231.70.0/24 via 10.231.X.1, and
# forwarding is enabled only on the interfaces involved (the bridge and the
# lab's host-side veths: net.ipv4.conf.IF.forwarding), never globally.
# Names: the lab's hosts (from $SHARESFS_LAB_DIR/nss/hosts) go into each
# client's /etc/hosts.  Nothing else of the lab is touched.
#
# Containers: systemd-nspawn --register=no --keep-unit, the cached rootfs
# read-only under a tmpfs overlay (every start is a fresh client; writes,
# such as an installed package, vanish at stop); the payload is sshd.  For
# the matrix's fuse suite a client gets /dev/fuse and CAP_SYS_ADMIN
# (SHARESFS_FLEET_FUSE=0: neither).
# The rootfs (mmdebstrap, suite ${SHARESFS_FLEET_SUITE:-bookworm}: sshd,
# python3 and the libraries sharesfs needs, so its .deb installs offline)
# is cached under ${SHARESFS_LAB_CACHE:-/var/cache/sharesfs-lab}/fleet,
# keyed by recipe, suite, packages and the package versions the mirror
# offers now (contrib/lab/rootfs-lib.sh, as realservers.sh).
# SHARESFS_FLEET_OFFLINE=1 (or SHARESFS_LAB_OFFLINE=1) takes the newest
# cached rootfs without asking the mirror.
#
# State:    ${SHARESFS_FLEET_DIR:-/run/sharesfs-fleet} (ssh keypair, known_hosts,
#           inventory.ini, ssh_config, clients/K/{console.log,...})
# Requires: root, iproute2, systemd-container, mmdebstrap, openssh-client.

set -uo pipefail

PROG=${0##*/}

# The rootfs cache (rootfs_ensure SUITE -> ROOTFS): mirror, apt state, keys,
# mmdebstrap, locking, offline mode; and say, warn, die, now_ms, usage,
# need_tool (naming NEED_PACKAGES).
NEED_PACKAGES="iproute2 systemd-container mmdebstrap openssh-client"
# shellcheck source=contrib/lab/rootfs-lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../lab/rootfs-lib.sh"

STATE=${SHARESFS_FLEET_DIR:-/run/sharesfs-fleet}
STATE=${STATE%/}
LAB_STATE=${SHARESFS_LAB_DIR:-/run/sharesfs-lab}
LAB_STATE=${LAB_STATE%/}
CACHE=$ROOTFS_CACHE/fleet
ROOTFS_DIR=$CACHE/rootfs
APT_DIR=$CACHE/apt
SUITE=${SHARESFS_FLEET_SUITE:-bookworm}

NS_PREFIX=sfsfleet-        # client K: netns sfsfleet-K
LINK_PREFIX=sfsfleet       # host end of client K's veth: sfsfleetK
BRIDGE=sfsfleetbr
NS_IFACE=eth0
NET=10.231.70
SUBNET=$NET.0/24
LAB_NET=10.231.0.0/16
LAB_NS_PREFIX=labsfs-
LAB_NS_IFACE=lab0
MAX_CLIENTS=50
READY_TIMEOUT=${SHARESFS_FLEET_TIMEOUT:-30}   # seconds until every sshd answers
TERM_GRACE=5

# Bump when the way the rootfs is built changes: the cached one is rebuilt.
RECIPE=1
# On top of mmdebstrap's "apt" variant.  sshd and python3 for Ansible; the
# runtime libraries of sharesfs and afptest (their .deb's Depends) so that
# `apt-get install ./sharesfs_*.deb` needs no mirror; krb5-user for the
# matrix's ticket_command (kinit).  SHARESFS_FLEET_PACKAGES adds more.
PACKAGES=(openssh-server python3 fuse3 libfuse3-3 libsmbclient libkrb5-3 libgssapi-krb5-2
          libglib2.0-0 libgcrypt20 libyaml-0-2 krb5-user iproute2)
# shellcheck disable=SC2206
PACKAGES+=(${SHARESFS_FLEET_PACKAGES:-})
# Left out of the rootfs: documentation and translations (nothing reads them).
DPKG_OPTS=("${ROOTFS_NODOCS[@]}")
# /fleet: the bind-mount point of a client's directory; the host keys
# openssh-server generated are removed: each client gets its own
# shellcheck disable=SC2016  # $1: mmdebstrap's
ROOTFS_MMDEBSTRAP_ARGS=(--customize-hook='mkdir -p "$1/fleet" && rm -f "$1"/etc/ssh/ssh_host_*')
ROOTFS_OFFLINE=${SHARESFS_FLEET_OFFLINE:-}

secs_since() { local d=$(( $(now_ms) - $1 )); printf '%d.%03d' $((d / 1000)) $((d % 1000)); }
need_root() { [ "$(id -u)" = 0 ] || die "must run as root (network namespaces, systemd-nspawn)"; }

client_ns()   { echo "$NS_PREFIX$1"; }
client_link() { echo "$LINK_PREFIX$1"; }
client_ip()   { echo "$NET.$((10 + $1))"; }
client_dir()  { echo "$STATE/clients/$1"; }

take_lock() {
    mkdir -p "${STATE%/*}"
    exec 9>"$STATE.lock" || die "cannot open $STATE.lock"
    flock -w 60 9 || die "another fleet.sh holds $STATE.lock"
}

# ---------------------------------------------------------------- network

# The lab's namespaces and their addresses: "NS IFACE-ON-HOST HOST-ADDR" lines
# (labsfs-default labsfs10 10.231.10.1), only for namespaces whose lab0 is up.
lab_links() {
    local ns a n
    for ns in $(ip netns list 2>/dev/null | awk -v p="$LAB_NS_PREFIX" 'index($1, p) == 1 { print $1 }'); do
        a=$(ip -n "$ns" -4 -o addr show dev "$LAB_NS_IFACE" 2>/dev/null | awk '{ print $4; exit }')
        a=${a%/*}
        case $a in 10.231.*.2) ;; *) continue ;; esac
        ip -n "$ns" link show dev "$LAB_NS_IFACE" 2>/dev/null | grep -q 'state UP\|,UP' || continue
        n=${a#10.231.}; n=${n%.2}
        ip link show dev "labsfs$n" >/dev/null 2>&1 || continue
        echo "$ns labsfs$n 10.231.$n.1"
    done
}

# set_forwarding IF: net.ipv4.conf.IF.forwarding=1, its old value kept in
# $STATE/forwarding so that stop restores it.
set_forwarding() {
    local f=/proc/sys/net/ipv4/conf/$1/forwarding old
    [ -w "$f" ] || return 1
    old=$(cat "$f")
    grep -q "^$1 " "$STATE/forwarding" 2>/dev/null || echo "$1 $old" >>"$STATE/forwarding"
    [ "$old" = 1 ] || echo 1 >"$f"
}

add_routes() {
    local ns link gw n=0
    set_forwarding "$BRIDGE" || die "cannot enable forwarding on $BRIDGE"
    while read -r ns link gw; do
        ip -n "$ns" route replace "$SUBNET" via "$gw" dev "$LAB_NS_IFACE" || { warn "no route in $ns"; continue; }
        grep -qx "$ns $gw" "$STATE/routes" 2>/dev/null || echo "$ns $gw" >>"$STATE/routes"
        set_forwarding "$link" || warn "cannot enable forwarding on $link"
        n=$((n + 1))
    done < <(lab_links)
    [ "$n" -gt 0 ] || warn "no running lab namespace ($LAB_NS_PREFIX*): the clients reach no lab host (lab.sh start, then fleet.sh routes)"
    ROUTED=$n
}

del_routes() {
    local ns gw ifc old
    if [ -f "$STATE/routes" ]; then
        while read -r ns gw; do
            [ -e "/run/netns/$ns" ] || continue
            # only the route we added (the lab may have been restarted since)
            ip -n "$ns" route show "$SUBNET" 2>/dev/null | grep -q "via $gw " &&
                ip -n "$ns" route del "$SUBNET" via "$gw" 2>/dev/null
        done <"$STATE/routes"
        rm -f "$STATE/routes"
    fi
    if [ -f "$STATE/forwarding" ]; then
        while read -r ifc old; do
            [ -w "/proc/sys/net/ipv4/conf/$ifc/forwarding" ] && echo "$old" >"/proc/sys/net/ipv4/conf/$ifc/forwarding"
        done <"$STATE/forwarding"
        rm -f "$STATE/forwarding"
    fi
}

make_bridge() {
    ip link add "$BRIDGE" type bridge stp_state 0 forward_delay 0 || return 1
    ip link set dev "$BRIDGE" addrgenmode none 2>/dev/null
    ip addr add "$NET.1/24" dev "$BRIDGE" && ip link set "$BRIDGE" up
}

make_client_net() {
    local k=$1 ns link ip
    ns=$(client_ns "$k") link=$(client_link "$k") ip=$(client_ip "$k")
    ip netns add "$ns" &&
        ip link add "$link" type veth peer name "$NS_IFACE" netns "$ns" &&
        ip link set dev "$link" addrgenmode none &&
        ip -n "$ns" link set dev "$NS_IFACE" addrgenmode none &&
        ip link set "$link" master "$BRIDGE" &&
        ip link set "$link" up &&
        ip -n "$ns" addr add "$ip/24" dev "$NS_IFACE" &&
        ip -n "$ns" link set lo up &&
        ip -n "$ns" link set "$NS_IFACE" up &&
        ip -n "$ns" route add "$LAB_NET" via "$NET.1"
}

# ---------------------------------------------------------------- clients

write_init() {
    cat >"$1" <<'EOF'
#!/bin/sh
# written by contrib/ansible/fleet.sh; the client's pid 2 (runs inside the container)
set -e
mkdir -p /run/sshd /root/.ssh /run/lock
chmod 0700 /root/.ssh
cp /fleet/authorized_keys /root/.ssh/authorized_keys
chmod 0600 /root/.ssh/authorized_keys
cp /fleet/hosts /etc/hosts
cp /fleet/ssh_host_ed25519_key /fleet/ssh_host_ed25519_key.pub /etc/ssh/
chmod 0600 /etc/ssh/ssh_host_ed25519_key
exec /usr/sbin/sshd -D -e -o "ListenAddress=$FLEET_IP" -o HostKey=/etc/ssh/ssh_host_ed25519_key \
    -o PermitRootLogin=prohibit-password -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no \
    -o UsePAM=no -o UseDNS=no -o PrintMotd=no -o MaxStartups=50:30:100 -o MaxSessions=50
EOF
    chmod 0755 "$1"
}

# The client's /etc/hosts: itself, and every lab host (10.231.0.0/16 lines
# of the lab's nss_wrapper hosts file).
write_hosts() {
    local k=$1 f=$2 h
    {
        echo "127.0.0.1 localhost"
        echo "$(client_ip "$k") client$k.fleet.lab.test client$k"
        for h in $(seq 1 "$N"); do
            [ "$h" = "$k" ] || echo "$(client_ip "$h") client$h.fleet.lab.test client$h"
        done
        if [ -r "$LAB_STATE/nss/hosts" ]; then
            awk '$1 ~ /^10\.231\./ && NF >= 2' "$LAB_STATE/nss/hosts"
        else
            warn "no $LAB_STATE/nss/hosts: the clients do not know the lab's names (is the lab running?)"
        fi
    } >"$f"
}

ensure_keypair() {
    mkdir -p "$STATE/ssh"
    chmod 0700 "$STATE/ssh"
    [ -s "$STATE/ssh/id_ed25519" ] ||
        ssh-keygen -q -t ed25519 -N '' -C "sharesfs-fleet@$(hostname)" -f "$STATE/ssh/id_ed25519" ||
        die "ssh-keygen failed"
}

pid_alive() {
    local st
    st=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# nspawn pid of client directory D, if it runs.
client_pid() {
    local d=$1 pid
    pid=$(cat "$d/pid" 2>/dev/null) || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qx -- "--bind-ro=$d:/fleet" || return 1
    pid_alive "$pid" && echo "$pid"
}

start_client() {
    local k=$1 d ip pid fuse=()
    d=$(client_dir "$k") ip=$(client_ip "$k")
    # FUSE mounts (the matrix's fuse and seed suites): the device and the
    # capability to mount; SHARESFS_FLEET_FUSE=0 leaves both out
    if [ "${SHARESFS_FLEET_FUSE:-1}" = 1 ] && [ -c /dev/fuse ]; then
        fuse=(--bind=/dev/fuse --capability=CAP_SYS_ADMIN)
    fi
    rm -rf "$d"
    mkdir -p "$d/log"
    chmod 0700 "$d"
    write_init "$d/init.sh"
    write_hosts "$k" "$d/hosts"
    cp "$STATE/ssh/id_ed25519.pub" "$d/authorized_keys"
    ssh-keygen -q -t ed25519 -N '' -C "client$k" -f "$d/ssh_host_ed25519_key" || return 1
    echo "$ip $(cut -d' ' -f1,2 "$d/ssh_host_ed25519_key.pub")" >>"$STATE/known_hosts.new"
    setsid systemd-nspawn --quiet --register=no --keep-unit --as-pid2 \
        --machine="sfsfleet-$k" --hostname="client$k" \
        --directory="$ROOTFS" --read-only --volatile=overlay \
        --network-namespace-path="/run/netns/$(client_ns "$k")" \
        --bind-ro="$d:/fleet" "${fuse[@]}" \
        --resolv-conf=off --timezone=off --link-journal=no --console=pipe \
        --kill-signal=SIGRTMIN+3 --setenv=FLEET_IP="$ip" \
        /fleet/init.sh </dev/null >"$d/log/console.log" 2>&1 8>&- 9>&- &
    pid=$!
    echo "$pid" >"$d/pid"
    disown "$pid" 2>/dev/null
}

# The container's stub init: nspawn's child.
container_leader() {
    cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | awk 'NF && !n++'
}

stop_clients() {
    local d pid pids=() leaders=() i alive
    for d in "$STATE"/clients/*; do
        [ -d "$d" ] || continue
        pid=$(client_pid "$d") || continue
        pids+=("$pid")
        leaders+=("$(container_leader "$pid")")
        kill -TERM "$pid" 2>/dev/null
    done
    for ((i = 0; i < TERM_GRACE * 50 && ${#pids[@]} > 0; i++)); do
        alive=0
        for pid in "${pids[@]}"; do pid_alive "$pid" && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.02
    done
    for i in "${!pids[@]}"; do
        pid_alive "${pids[$i]}" || continue
        warn "client container ${pids[$i]} still running ${TERM_GRACE}s after SIGTERM: SIGKILL"
        [ -n "${leaders[$i]}" ] && kill -KILL "${leaders[$i]}" 2>/dev/null
        sleep 0.2
        kill -KILL "${pids[$i]}" 2>/dev/null
    done
    for d in "$STATE"/clients/*; do
        [ -d "$d" ] || continue
        rm -f "$d/pid"
        rmdir "/run/systemd/nspawn/propagate/sfsfleet-${d##*/}" 2>/dev/null
    done
}

teardown() {
    local ns l p
    stop_clients
    del_routes
    for ns in $(ip netns list 2>/dev/null | awk -v p="$NS_PREFIX" 'index($1, p) == 1 { print $1 }'); do
        p=$(ip netns pids "$ns" 2>/dev/null)
        # shellcheck disable=SC2086
        [ -n "$p" ] && kill -KILL $p 2>/dev/null
        ip netns del "$ns" 2>/dev/null || warn "cannot delete netns $ns"
    done
    for l in $(ip -o link show 2>/dev/null | awk -v p="$LINK_PREFIX" '{ n = $2; sub(/:$/, "", n); sub(/@.*/, "", n); if (n ~ ("^" p "[0-9]+$")) print n }'); do
        ip link del "$l" 2>/dev/null
    done
    ip link show dev "$BRIDGE" >/dev/null 2>&1 && { ip link del "$BRIDGE" || warn "cannot delete $BRIDGE"; }
    rm -rf "$STATE/clients" "$STATE/inventory.ini" "$STATE/known_hosts" "$STATE/ssh_config"
    [ -d "$STATE" ] && echo stopped >"$STATE/state"
    return 0
}

write_ssh_files() {
    cat >"$STATE/ssh_config" <<EOF
# written by contrib/ansible/fleet.sh: the fleet's clients, by key, host keys pinned
Host client* 10.231.70.*
  User root
  IdentityFile $STATE/ssh/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $STATE/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  PasswordAuthentication no
  BatchMode yes
  ConnectTimeout 5
EOF
    local k
    for k in $(seq 1 "$N"); do
        printf 'Host client%s\n  HostName %s\n' "$k" "$(client_ip "$k")" >>"$STATE/ssh_config"
    done
    {
        echo "# The running fleet (contrib/ansible/fleet.sh start $N): how to reach each client."
        echo "# Use it with the plan's inventory: ansible-playbook -i PLAN.ini -i $STATE/inventory.ini ..."
        echo "[sharesfs_matrix_clients]"
        for k in $(seq 1 "$N"); do
            echo "client$k ansible_host=$(client_ip "$k")"
        done
        echo
        echo "[sharesfs_matrix_clients:vars]"
        echo "ansible_user=root"
        echo "ansible_python_interpreter=/usr/bin/python3"
        echo "ansible_ssh_private_key_file=$STATE/ssh/id_ed25519"
        echo "ansible_ssh_common_args='-o UserKnownHostsFile=$STATE/known_hosts -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes'"
    } >"$STATE/inventory.ini"
}

cmd_start() {
    [ $# = 1 ] && [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le "$MAX_CLIENTS" ] ||
        die "usage: $PROG start N (1..$MAX_CLIENTS)"
    N=$1
    need_root
    need_tool ip systemd-nspawn ssh-keygen ssh flock apt-get
    local t0 t_rootfs k pending left
    t0=$(now_ms)
    take_lock
    teardown
    rootfs_ensure "$SUITE"
    t_rootfs=$(secs_since "$t0")
    mkdir -p "$STATE/clients"
    chmod 0755 "$STATE"
    : >"$STATE/known_hosts.new"
    ensure_keypair
    make_bridge || { teardown; die "cannot create the bridge $BRIDGE ($NET.1/24)"; }
    for k in $(seq 1 "$N"); do
        make_client_net "$k" || { teardown; die "cannot set up the network of client$k"; }
    done
    add_routes
    for k in $(seq 1 "$N"); do
        start_client "$k" || { teardown; die "cannot start client$k"; }
    done
    mv "$STATE/known_hosts.new" "$STATE/known_hosts"
    write_ssh_files
    # ready: sshd answers with the pinned host key
    pending=$(seq 1 "$N")
    while [ -n "$pending" ]; do
        left=
        for k in $pending; do
            if ! client_pid "$(client_dir "$k")" >/dev/null; then
                warn "client$k: the container exited during start-up:"
                tail -n 15 "$(client_dir "$k")/log/console.log" | sed 's/^/  /' >&2
                teardown
                exit 1
            fi
            timeout 5 ssh -F "$STATE/ssh_config" -o ConnectTimeout=1 "client$k" true </dev/null >/dev/null 2>&1 ||
                left="$left $k"
        done
        pending=$left
        [ -z "$pending" ] && break
        if [ $(( $(now_ms) - t0 )) -gt $((READY_TIMEOUT * 1000)) ]; then
            warn "ssh to client(s)$pending not answering after ${READY_TIMEOUT}s"
            for k in $pending; do tail -n 10 "$(client_dir "$k")/log/console.log" | sed "s/^/  client$k: /" >&2; done
            teardown
            exit 1
        fi
        sleep 0.1
    done
    echo "running $N" >"$STATE/state"
    say "fleet: $N client(s) ready in $(secs_since "$t0") s (rootfs $t_rootfs s), routes in $ROUTED lab namespace(s)"
    say "rootfs:    $ROOTFS"
    say "inventory: $STATE/inventory.ini"
    say "ssh:       ssh -F $STATE/ssh_config client1"
}

cmd_stop() {
    need_root
    take_lock
    teardown
    say "fleet stopped"
}

cmd_status() {
    local d k pid ip st rc=0 n=0
    printf '%-10s %-14s %-8s %s\n' CLIENT ADDRESS PID STATE
    for d in "$STATE"/clients/*; do
        [ -d "$d" ] || continue
        k=${d##*/} n=$((n + 1))
        ip=$(client_ip "$k")
        if pid=$(client_pid "$d"); then
            if timeout 5 ssh -F "$STATE/ssh_config" "client$k" true </dev/null >/dev/null 2>&1; then
                st="ssh ok"
            else
                st="ssh FAILED"; rc=1
            fi
        else
            pid=- st="not running"; rc=1
        fi
        printf '%-10s %-14s %-8s %s\n' "client$k" "$ip" "$pid" "$st"
    done
    [ "$n" -gt 0 ] || { say "no fleet running"; return 3; }
    if [ -f "$STATE/routes" ]; then
        say "routes to $SUBNET in: $(awk '{ printf "%s%s", s, $1; s = " " }' "$STATE/routes")"
    fi
    local miss=()
    while read -r ns _ _; do
        ip -n "$ns" route show "$SUBNET" 2>/dev/null | grep -q via || miss+=("$ns")
    done < <(lab_links)
    [ ${#miss[@]} -eq 0 ] || { say "no route back in: ${miss[*]} (fleet.sh routes)"; rc=1; }
    return $rc
}

cmd_routes() {
    need_root
    take_lock
    [ -d "$STATE/clients" ] || die "no fleet running"
    add_routes
    say "routes to $SUBNET in $ROUTED lab namespace(s)"
}

case ${1:-} in
    start)     shift; cmd_start "$@" ;;
    stop)      cmd_stop ;;
    status)    cmd_status ;;
    routes)    cmd_routes ;;
    rootfs)    need_root; need_tool apt-get flock; rootfs_ensure "$SUITE"; echo "$ROOTFS" ;;
    inventory) [ -f "$STATE/inventory.ini" ] || die "no fleet running"; echo "$STATE/inventory.ini" ;;
    ssh)       shift; [ $# -ge 1 ] || usage; k=$1; shift
               exec ssh -F "$STATE/ssh_config" "client$k" "$@" ;;
    -h|--help) usage ;;
    *)         usage ;;
esac
