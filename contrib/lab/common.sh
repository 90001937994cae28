# Server setup that contrib/lab/lab.sh (the shared lab),
# tests/integration/own_servers.sh (a test's own throwaway servers) and
# contrib/afpsim/tools/krb-selftest.sh have in common.  Sourced: it only
# defines functions and one array, so a caller needs no running lab.

# The nss_wrapper library (for LD_PRELOAD); false when it is not installed.
nss_wrapper_lib() {
    local p
    for p in /usr/lib/*-linux-gnu/libnss_wrapper.so /usr/lib/libnss_wrapper.so \
             /usr/lib64/libnss_wrapper.so; do
        [ -e "$p" ] && { echo "$p"; return 0; }
    done
    return 1
}

# ---------------------------------------------------------------- network

# NET.1/24 on LINK (this end of a veth pair), NET.2/24 on IFACE (its end in
# namespace NS), lo and both ends up; the namespace end stays down unless UP
# is 1.  No IPv6 link-local chatter on these links.
veth_configure() {
    local ns=$1 link=$2 iface=$3 net=$4 up=$5
    ip link set dev "$link" addrgenmode none 2>/dev/null
    ip -n "$ns" link set dev "$iface" addrgenmode none 2>/dev/null
    ip addr add "$net.1/24" dev "$link" &&
        ip link set "$link" up &&
        ip -n "$ns" addr add "$net.2/24" dev "$iface" &&
        ip -n "$ns" link set lo up || return 1
    [ "$up" = 1 ] || return 0
    ip -n "$ns" link set "$iface" up
}

# ---------------------------------------------------------------- Samba

# What a standalone smbd keeps under its directory (smbconf_standalone names
# each of them); log/ comes on top.
SMBD_STATE_DIRS=(run lock state cache private ncalrpc binddns usershares)

# Creates DIR/log and the state directories, private/ readable by root only.
smbd_state_dirs() {
    local d=$1 sub
    for sub in log "${SMBD_STATE_DIRS[@]}"; do
        mkdir -p "$d/$sub"
    done
    chmod 0700 "$d/private"
}

# [global] of a standalone smbd: WORKGROUP, NETBIOS-NAME, serving IP only
# (port 445, no NetBIOS), every state directory and log under DIR, no
# printing.  The caller appends its own lines and shares.
smbconf_standalone() {
    local wg=$1 nb=$2 ip=$3 d=$4
    cat <<EOF
[global]
  server role = standalone server
  workgroup = $wg
  netbios name = $nb
  disable netbios = yes
  smb ports = 445
  interfaces = $ip/24
  bind interfaces only = yes
  pid directory = $d/run
  lock directory = $d/lock
  state directory = $d/state
  cache directory = $d/cache
  private dir = $d/private
  ncalrpc dir = $d/ncalrpc
  binddns dir = $d/binddns
  usershare path = $d/usershares
  passdb backend = tdbsam:$d/private/passdb.tdb
  log file = $d/log/log.%m
  max log size = 0
  log level = 1
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
EOF
}

# [global] of a client (smbclient -s, libsmbclient): names through the host
# resolver only, never by broadcast; its caches (gencache.tdb) under DIR, not
# in /run/samba.
smbconf_client() {
    local wg=$1 d=$2
    cat <<EOF
[global]
  workgroup = $wg
  name resolve order = host
  disable netbios = yes
  lock directory = $d
  state directory = $d
  cache directory = $d
EOF
}

# ---------------------------------------------------------------- Kerberos

# krb5.conf pieces.  [libdefaults] of REALM: no DNS, no reverse lookups.
krb5_libdefaults() {
    cat <<EOF
[libdefaults]
  default_realm = $1
  dns_lookup_realm = false
  dns_lookup_kdc = false
  rdns = false
  dns_canonicalize_hostname = false
EOF
}

# A [realms] entry: REALM's KDC.  MIT's parser wants the block on separate
# lines (the one-line "LAB.TEST = { kdc = x }" gives "Cannot find KDC for
# realm").
krb5_realm() {
    printf '  %s = {\n    kdc = %s\n  }\n' "$1" "$2"
}

# The [domain_realm] lines that put DOMAIN and every name below it in REALM.
krb5_domain() {
    printf '  .%s = %s\n  %s = %s\n' "$1" "$2" "$1" "$2"
}
