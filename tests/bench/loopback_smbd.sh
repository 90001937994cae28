# Sourced by the benches that need an smbd of their own on loopback
# (smb_loopback.sh, probe_scale.sh): Debian 12's Samba with its config,
# state, locks and pid file under one directory, bound to ADDR:445 only,
# `smbd --foreground` in a process group of its own.  One guest share
# (map to guest = Bad User, force user = root).
#   loopback_smbd_start DIR ADDR NETBIOS SHARE PATH RW [ENV...]
#       writes DIR/smb.conf and DIR/client.conf (Samba's client defaults,
#       nothing of /etc/samba: for SHARESFS_SMB_CONF and smbclient -s),
#       starts smbd (ENV...: `env` arguments, e.g. -u LD_PRELOAD) and
#       waits until it listens; sets smbd_pid; 1 with the reason on stderr.
#   loopback_smbd_stop
#       stops it and its per-connection children.
#   loopback_port_taken ADDR: 0 (with the owner on stderr) when ADDR:445
#       or the wildcard address already has a listener.
. "$(dirname "${BASH_SOURCE[0]}")/../../contrib/lab/common.sh"
smbd_pid=''

loopback_port_taken() {
    if ss -ltnH 'sport = :445' | awk '{print $4}' | grep -Eq "^($1|0\.0\.0\.0|\*|\[::\]):445$"; then
        echo "port 445 on $1 is taken: $(ss -ltnpH 'sport = :445')" >&2
        return 0
    fi
    return 1
}

loopback_smbd_start() {
    local dir=$1 addr=$2 netbios=$3 share=$4 path=$5 rw=$6
    shift 6
    smbd_state_dirs "$dir"
    mkdir -p "$dir/client"
    {
        echo "# a bench's own smbd: $addr:445 only, everything under $dir"
        smbconf_standalone BENCH "$netbios" "$addr" "$dir"
        cat <<CONF
  guest account = nobody
  map to guest = Bad User
  # Samba's defaults for protocols, signing and encryption.

[$share]
  path = $path
  guest ok = yes
  read only = $([ "$rw" = rw ] && echo no || echo yes)
  force user = root
CONF
    } >"$dir/smb.conf"
    smbconf_client BENCH "$dir/client" >"$dir/client.conf"
    # A process group of its own (no --no-process-group): smbd ends by
    # signalling its whole group, which would otherwise be the bench.
    env "$@" smbd --foreground --debug-stdout -s "$dir/smb.conf" >"$dir/smbd.out" 2>&1 &
    smbd_pid=$!
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/$addr/445") 2>/dev/null && return 0
        kill -0 "$smbd_pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "smbd does not listen on $addr:445: $(tail -n 20 "$dir/smbd.out")" >&2
    return 1
}

loopback_smbd_stop() {
    [ -n "$smbd_pid" ] || return 0
    local kids k
    kids=$(ps -o pid= --ppid "$smbd_pid" 2>/dev/null)
    kill "$smbd_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$smbd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$smbd_pid" 2>/dev/null
    for k in $kids; do kill "$k" 2>/dev/null; done
    wait "$smbd_pid" 2>/dev/null
    smbd_pid=''
}
