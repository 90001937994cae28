#!/bin/bash
# sharesfs lab: servers that need a kernel of their own (ksmbd), as Debian
# guests booted with QEMU inside a network namespace.
#
#   vm.sh build NAME
#       build (or reuse) the cached disk image of VM NAME; prints its directory
#   vm.sh start NAME [OPTION...]
#       boot NAME in a network namespace; returns once SMB answers on IP:445
#         --netns NS             default sfsvm-NAME (created when missing, with a
#                                veth pair: IP on the namespace side, .1 on the host)
#         --ip A.B.C.D           the namespace's address, 10.231.0.0/16 only
#                                (default 10.231.50.2)
#         --password-file FILE   labuser's password: the password= line of a cifs
#                                credentials file, or its first line (default
#                                /run/sharesfs-lab/creds/labuser.cred, or SHARESFS_LAB_PASSWORD)
#         --accel kvm|tcg        default: kvm when /dev/kvm can be opened, else tcg
#         --memory MIB           default 512;  --smp N  default 1
#         --timeout SECS         wait for SMB at most this long (default 300)
#         --set 'OPT = VALUE'    one more [global] line of ksmbd.conf (repeatable)
#   vm.sh stop NAME              idempotent; deletes the namespace if start created it
#   vm.sh status NAME            state and ksmbd version; exit 0 while running
#   vm.sh list                   the known VMs: name, suite, server
#
# VMs: ksmbd (Debian trixie: linux-image-amd64 + ksmbd-tools, shares
# [public] (guest, read only) and [user] (labuser, read/write)), and
# ksmbd-bookworm (the same on Debian 12, whose kernel's ksmbd oopses).
# Images are cached under ${SHARESFS_LAB_CACHE:-/var/cache/sharesfs-lab}/vm,
# keyed by suite, package set and the package versions the mirror offers now.
# The guest's disk is never written: QEMU runs it with snapshot=on.
# Run state: /run/sharesfs-vm/NAME.  See contrib/lab/VM.md.
# Requires root, mmdebstrap, e2fsprogs, qemu-system-x86, iproute2.

set -euo pipefail

PROG=${0##*/}

# The image cache (rootfs_ensure NAME SUITE with the hooks below): mirror,
# apt state, keys, mmdebstrap, locking, offline mode; and say, warn, die,
# now_ms, usage, need_tool (naming NEED_PACKAGES).
NEED_PACKAGES="mmdebstrap e2fsprogs qemu-system-x86 iproute2"
# shellcheck source=contrib/lab/rootfs-lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/rootfs-lib.sh"

VM_DIR=$ROOTFS_CACHE/vm
ROOTFS_DIR=$VM_DIR
# the guest boots its own kernel: no apt in the image
ROOTFS_VARIANT=essential
APT_DIR=$VM_DIR/apt
RUN_DIR=${SHARESFS_VM_RUN:-/run/sharesfs-vm}
LAB_STATE=${SHARESFS_LAB_DIR:-/run/sharesfs-lab}
LAB_USER=${SHARESFS_LAB_USER:-labuser}
LAB_UID=${SHARESFS_LAB_UID:-2001}
WORKGROUP=LAB

# Bump when the recipe changes (the guest's init included): every cached
# image is rebuilt.
RECIPE=1

# name|suite|packages (comma-separated, on top of mmdebstrap's "essential")
# ksmbd-bookworm: Debian 12's kernel (6.1.176-1 on 2026-12-02) oopses in
# smb2_open (opinfo_put, NULL) on the first file or directory open, and
# ksmbd hangs from then on: kept as a target that shows it (VM.md).
VMS=(
    "ksmbd|trixie|linux-image-amd64,ksmbd-tools,iproute2,kmod,mount"
    "ksmbd-bookworm|bookworm|linux-image-amd64,ksmbd-tools,iproute2,kmod,mount"
)

# Left out of the image: documentation, translations, and kernel modules a
# virtio guest never loads (about half of the kernel's size).
DPKG_OPTS=(
    "${ROOTFS_NODOCS[@]}"
    'path-exclude=/lib/modules/*/kernel/sound/*'
    'path-exclude=/usr/lib/modules/*/kernel/sound/*'
    'path-exclude=/lib/modules/*/kernel/drivers/gpu/*'
    'path-exclude=/usr/lib/modules/*/kernel/drivers/gpu/*'
    'path-exclude=/lib/modules/*/kernel/drivers/media/*'
    'path-exclude=/usr/lib/modules/*/kernel/drivers/media/*'
    'path-exclude=/lib/modules/*/kernel/drivers/infiniband/*'
    'path-exclude=/usr/lib/modules/*/kernel/drivers/infiniband/*'
    'path-exclude=/lib/modules/*/kernel/drivers/staging/*'
    'path-exclude=/usr/lib/modules/*/kernel/drivers/staging/*'
    'path-exclude=/lib/modules/*/kernel/drivers/net/wireless/*'
    'path-exclude=/usr/lib/modules/*/kernel/drivers/net/wireless/*'
    'path-exclude=/lib/modules/*/kernel/drivers/net/ethernet/*'
    'path-exclude=/usr/lib/modules/*/kernel/drivers/net/ethernet/*'
    'path-exclude=/lib/modules/*/kernel/drivers/bluetooth/*'
    'path-exclude=/usr/lib/modules/*/kernel/drivers/bluetooth/*'
    'path-exclude=/lib/modules/*/kernel/drivers/iio/*'
    'path-exclude=/usr/lib/modules/*/kernel/drivers/iio/*'
    'path-exclude=/lib/modules/*/kernel/drivers/usb/*'
    'path-exclude=/usr/lib/modules/*/kernel/drivers/usb/*'
    'path-exclude=/lib/modules/*/kernel/drivers/hid/*'
    'path-exclude=/usr/lib/modules/*/kernel/drivers/hid/*'
    'path-exclude=/lib/modules/*/kernel/drivers/isdn/*'
    'path-exclude=/usr/lib/modules/*/kernel/drivers/isdn/*'
    'path-exclude=/lib/modules/*/kernel/net/wireless/*'
    'path-exclude=/usr/lib/modules/*/kernel/net/wireless/*'
    'path-exclude=/lib/modules/*/kernel/net/mac80211/*'
    'path-exclude=/usr/lib/modules/*/kernel/net/mac80211/*'
    'path-exclude=/lib/modules/*/kernel/net/bluetooth/*'
    'path-exclude=/usr/lib/modules/*/kernel/net/bluetooth/*'
)

DEFAULT_IP=10.231.50.2
READY_TIMEOUT=${SHARESFS_VM_TIMEOUT:-300}
TERM_GRACE=10

secs() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

need_root() { [ "$(id -u)" = 0 ] || die "must run as root"; }

# vm_fields NAME -> VN VSUITE VPKGS
vm_fields() {
    local v
    for v in "${VMS[@]}"; do
        IFS='|' read -r VN VSUITE VPKGS <<<"$v"
        [ "$VN" = "$1" ] && return 0
    done
    die "unknown VM '$1' (known: $(for v in "${VMS[@]}"; do printf '%s\n' "${v%%|*}"; done | paste -sd' '))"
}

# --------------------------------------------------------- the guest's init

# PID 1 of the guest, baked into the image (its text is part of the cache
# key).  Runtime settings come from the second disk (/dev/vdb), a tar file
# written by `start`: users (NAME:UID:PASSWORD), hostname.  Nothing it
# prints contains a password.
guest_init() {
    cat <<'EOF'
#!/bin/bash
# PID 1 of a sharesfs lab VM (written by contrib/lab/vm.sh at build time).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
say() { echo "sfs-vm: $*" >/dev/console; }
fail() { say "FAILED: $*"; sync; echo o >/proc/sysrq-trigger; sleep 10; exit 1; }
t0=$(cut -d' ' -f1 /proc/uptime)
mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mountpoint -q /run || mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mkdir -p /run/lock /dev/pts /dev/shm
mountpoint -q /dev/pts || mount -t devpts devpts /dev/pts
mount -o remount,rw / || fail "cannot remount / read-write"
echo 1 >/proc/sys/kernel/sysrq
mkdir -m 0700 /run/sfs
tar -xf /dev/vdb -C /run/sfs 2>/dev/null || fail "no configuration disk on /dev/vdb"
[ -s /run/sfs/hostname ] && hostname "$(cat /run/sfs/hostname)"

# Network: QEMU's user-mode network (10.0.2.15, gateway 10.0.2.2).
modprobe virtio_net || fail "modprobe virtio_net"
ip link set lo up
for _ in $(seq 50); do [ -e /sys/class/net/eth0 ] && break; sleep 0.1; done
ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up && ip route add default via 10.0.2.2 ||
    fail "cannot configure eth0"

# Users: Unix accounts (ksmbd maps a session to its uid) and ksmbd's own
# password database.
mkdir -p /etc/ksmbd
: >/etc/ksmbd/ksmbdpwd.db
chmod 0600 /etc/ksmbd/ksmbdpwd.db
valid=
while IFS=: read -r name uid pw; do
    [ -n "$name" ] || continue
    sed -i "/^$name:/d" /etc/passwd /etc/group
    echo "$name:x:$uid:$uid::/nonexistent:/usr/sbin/nologin" >>/etc/passwd
    echo "$name:x:$uid:" >>/etc/group
    valid="$valid $name"
done </run/sfs/users

mkdir -p /srv/public/dir /srv/user
printf 'Hello from the sharesfs lab.\n' >/srv/public/hello.txt
printf 'a\n' >/srv/public/dir/a.txt
printf 'b\n' >/srv/public/dir/b.txt
printf '%s\n' "$(hostname)" >/srv/public/host.txt
first=$(sed -n '1s/:.*//p' /run/sfs/users)
printf 'Notes of %s on %s.\n' "$first" "$(hostname)" >/srv/user/notes.txt
chown -R "$(sed -n '1s/^[^:]*:\([0-9]*\):.*/\1/p' /run/sfs/users)" /srv/user
chmod 0755 /srv /srv/public /srv/user

cat >/etc/ksmbd/ksmbd.conf <<CONF
[global]
  workgroup = $(cat /run/sfs/workgroup 2>/dev/null || echo WORKGROUP)
  netbios name = $(hostname | tr a-z A-Z | cut -c1-15)
  server string = sharesfs lab $(hostname) (ksmbd)
  guest account = nobody
  map to guest = bad user
$(cat /run/sfs/global 2>/dev/null)

[public]
  path = /srv/public
  guest ok = yes
  read only = yes

[user]
  path = /srv/user
  valid users =$valid
  read only = no
  guest ok = no
CONF

modprobe ksmbd || fail "modprobe ksmbd"
while IFS=: read -r name uid pw; do
    [ -n "$name" ] || continue
    # 3.5 and later: flags, then USER; 3.4: -a USER
    if ksmbd.adduser --help 2>&1 | grep -q -- '-P PWDDB'; then
        ksmbd.adduser -a -p "$pw" "$name" >/dev/null 2>&1
    else
        ksmbd.adduser -a "$name" -p "$pw" >/dev/null 2>&1
    fi || fail "ksmbd.adduser $name"
done </run/sfs/users
rm -f /run/sfs/users

tools=$(ksmbd.mountd -V 2>&1 | sed -n 's/.*ksmbd-tools version : *//p' | head -n 1)
module=$(modinfo -F version ksmbd 2>/dev/null || true)
say "version: ksmbd-tools ${tools:-unknown}, ksmbd in Linux $(uname -r) ($(sed -n 's/.* Debian \([^ ]*\) .*/Debian \1/p' /proc/version))${module:+, ksmbd module $module}"
ksmbd.mountd || fail "ksmbd.mountd"
say "ksmbd.mountd started, $(awk -v t="$t0" '{ printf "%.2f s after the init started, %.2f s after boot", $1 - t, $1 }' /proc/uptime)"
# Stay PID 1 and reap whatever is reparented to us.
trap 'say "halt"; echo o >/proc/sysrq-trigger' TERM INT
while :; do sleep 3600 & wait $!; done
EOF
}

# The initramfs needs only virtio disks and ext4: a hook instead of
# MODULES=most (a much smaller initrd, which matters without KVM).
initramfs_conf() {
    cat <<'EOF'
MODULES=list
COMPRESS=gzip
EOF
}
initramfs_hook() {
    cat <<'EOF'
#!/bin/sh
# sharesfs lab VM: the modules to mount a virtio ext4 root (contrib/lab/vm.sh)
[ "$1" = prereqs ] && exit 0
. /usr/share/initramfs-tools/hook-functions
for m in virtio_pci virtio_blk ext4 crc32c_generic; do
    manual_add_modules "$m"
    force_load "$m"
done
EOF
}

# ------------------------------------------------------------ image cache

# rootfs-lib hooks.  The recipe's own text: changes to any of it give a new key.
rootfs_recipe() {
    printf '%s\n' "$RECIPE" "$VSUITE" "$VPKGS" "${DPKG_OPTS[@]}"
    guest_init
    initramfs_conf
    initramfs_hook
}

# A complete image: QEMU boots vmlinuz and initrd.img with root.img.
rootfs_built() { [ -f "$1/info" ] && [ -f "$1/root.img" ] && [ -f "$1/vmlinuz" ] && [ -f "$1/initrd.img" ]; }

# Before mmdebstrap: the guest's init and the initramfs settings, put in place
# by hooks (the setup hook runs before the kernel's postinst builds the initrd).
rootfs_prepare() {
    local tmp=$1
    need_tool mke2fs
    guest_init >"$tmp/sfs-vm-init"
    initramfs_conf >"$tmp/initramfs.conf"
    initramfs_hook >"$tmp/initramfs.hook"
    ROOTFS_BUILD_ARGS+=(--setup-hook="mkdir -p \"\$1/etc/initramfs-tools/conf.d\" \"\$1/etc/initramfs-tools/hooks\" &&
        cp '$tmp/initramfs.conf' \"\$1/etc/initramfs-tools/conf.d/sfs-vm.conf\" &&
        install -m 0755 '$tmp/initramfs.hook' \"\$1/etc/initramfs-tools/hooks/sfs-vm\"")
    ROOTFS_BUILD_ARGS+=(--customize-hook="install -m 0755 '$tmp/sfs-vm-init' \"\$1/sbin/sfs-vm-init\" &&
        rm -rf \"\$1/var/cache/apt\"/*.bin \"\$1/var/lib/apt/lists\"/*_dists_* \"\$1/var/log\"/* &&
        printf '127.0.0.1 localhost\\n' >\"\$1/etc/hosts\"")
}

# After mmdebstrap: the tree becomes kernel, initrd and a disk image.
rootfs_finish() {
    local tmp=$1 t1 t2 size
    t1=$(now_ms)
    # kernel and initrd: booted directly by QEMU (-kernel/-initrd)
    cp -L "$tmp/root/vmlinuz" "$tmp/vmlinuz" 2>/dev/null || cp "$(ls "$tmp"/root/boot/vmlinuz-* | tail -n 1)" "$tmp/vmlinuz"
    cp -L "$tmp/root/initrd.img" "$tmp/initrd.img" 2>/dev/null || cp "$(ls "$tmp"/root/boot/initrd.img-* | tail -n 1)" "$tmp/initrd.img"
    [ -s "$tmp/vmlinuz" ] && [ -s "$tmp/initrd.img" ] || die "no kernel or initrd in the rootfs"
    rm -f "$tmp"/root/boot/initrd.img-* "$tmp"/root/boot/vmlinuz-* "$tmp"/root/boot/System.map-*
    # the root file system: mke2fs -d copies the tree (owners, modes, links,
    # devices) into the image file: no loop mount
    size=$(( $(du -sm --apparent-size "$tmp/root" | cut -f1) * 13 / 10 + 128 ))
    mke2fs -q -t ext4 -O ^has_journal -L sfsvm -d "$tmp/root" -F "$tmp/root.img" "${size}M" \
        >>"$tmp/build.log" 2>&1 || die "mke2fs -d failed (log: $tmp/build.log)"
    t2=$(now_ms)
    {
        echo "image_seconds=$(secs $((t2 - t1)))"
        echo "kernel=$(ls "$tmp/root/lib/modules" | tail -n 1)"
        echo "ksmbd_tools=$(awk '$1 == "ksmbd-tools" { print $2 }' "$tmp/manifest")"
        echo "linux_image=$(awk '$1 ~ /^linux-image-[0-9]/ { print $1, $2 }' "$tmp/manifest")"
    } >>"$tmp/info"
    rm -rf --one-file-system "$tmp/root" "$tmp/sfs-vm-init" "$tmp/initramfs.conf" "$tmp/initramfs.hook"
    chmod 0444 "$tmp/root.img"
    warn "VM image '$VN': mke2fs $(secs $((t2 - t1))) s, $(du -sh "$tmp/root.img" | cut -f1) used of $(du -sh --apparent-size "$tmp/root.img" | cut -f1), kernel $(sed -n 's/^kernel=//p' "$tmp/info"), ksmbd-tools $(sed -n 's/^ksmbd_tools=//p' "$tmp/info")"
}

# ensure_image NAME -> IMAGE (the cache directory).  SHARESFS_LAB_OFFLINE=1:
# the current cached image, without asking the mirror.
ensure_image() {
    vm_fields "$1"
    read -r -a PACKAGES <<<"${VPKGS//,/ }"
    rootfs_ensure "$1" "$VSUITE"
    IMAGE=$ROOTFS_ENTRY
}

cmd_build() {
    [ $# = 1 ] || usage
    need_root
    need_tool apt-get flock
    local t0
    t0=$(now_ms)
    ensure_image "$1"
    warn "image of '$1' ready in $(secs $(( $(now_ms) - t0 ))) s"
    echo "$IMAGE"
}

# ------------------------------------------------------------------- run

# An SMB2 NEGOTIATE (dialects 2.0.2, 2.1, 3.0, 3.0.2) to IP:445; prints the
# dialect the server chose (e.g. 0302) and succeeds when an SMB2 answer with
# status 0 came back.  A TCP accept alone proves nothing here: QEMU's
# user-mode network accepts on the forwarded port before the guest listens.
smb_negotiate() {
    local ip=$1 req hex
    # NetBIOS length 108; SMB2 header (64 bytes): NEGOTIATE, 1 credit
    req='0000006c fe534d42 4000 0000 00000000 0000 0100 00000000 00000000'
    req+=' 0000000000000000 00000000 00000000 0000000000000000 00000000000000000000000000000000'
    # NEGOTIATE request (36 bytes): 4 dialects, signing enabled, no client GUID
    req+=' 2400 0400 0100 0000 00000000 00000000000000000000000000000000 0000000000000000'
    req+=' 0202 1002 0003 0203'
    req=${req// /}
    # shellcheck disable=SC2016
    hex=$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/445" || exit 1; printf "$2" >&3; head -c 76 <&3' _ \
            "$ip" "$(sed 's/../\\x&/g' <<<"$req")" 2>/dev/null | od -An -v -tx1 | tr -d ' \n') || true
    [ "${hex:8:8}" = fe534d42 ] && [ "${hex:24:8}" = 00000000 ] && [ ${#hex} -ge 148 ] || return 1
    echo "${hex:146:2}${hex:144:2}"
}

dialect_name() {
    case $1 in 0202) echo 2.0.2 ;; 0210) echo 2.1 ;; 0300) echo 3.0 ;; 0302) echo 3.0.2 ;; 0311) echo 3.1.1 ;; *) echo "0x$1" ;; esac
}

# Password of a file: the password= line of a cifs credentials file, or
# its first line.
read_password_file() {
    local f=$1 p
    [ -r "$f" ] || die "cannot read password file $f"
    if grep -q '^password=' "$f"; then p=$(sed -n 's/^password=//p' "$f" | sed -n 1p); else p=$(head -n 1 "$f"); fi
    [ -n "$p" ] || die "no password in $f"
    printf '%s' "$p"
}

alive() {
    local st
    st=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# The running QEMU of NAME, or nothing (pid checked against its command line).
running_pid() {
    local d=$RUN_DIR/$1 pid c
    pid=$(cat "$d/pid" 2>/dev/null || true)
    case $pid in ''|*[!0-9]*) return 0 ;; esac
    c=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 0
    case " $c " in *" -name sfsvm-$1 "*) alive "$pid" && echo "$pid" ;; esac
    return 0
}

show_console() {
    local f=$RUN_DIR/$1/console.log
    [ -s "$f" ] || return 0
    printf '  --- %s (last 20 lines)\n' "$f" >&2
    tail -n 20 "$f" | sed 's/^/  /' >&2
}

# kvm when /dev/kvm opens and the CPU has hardware virtualisation (a
# /dev/kvm without vmx/svm in the CPU flags, as in some sandboxes, boots
# nothing: the kernel stalls at "Probing EDD"), else tcg.
auto_accel() {
    if { : <>/dev/kvm; } 2>/dev/null && grep -qwE 'vmx|svm' /proc/cpuinfo; then echo kvm; else echo tcg; fi
}

# Creates namespace NS with a veth pair: IP/24 inside, .1/24 on the host end.
make_netns() {
    local ns=$1 ip=$2 link
    link=sfsvm$(cut -d. -f3 <<<"$ip")
    ip link show "$link" >/dev/null 2>&1 && die "host interface $link exists already (another VM on ${ip%.*}.0/24?)"
    ip netns add "$ns" || die "cannot create netns $ns"
    if ! { ip link add "$link" type veth peer name vm0 netns "$ns" &&
           ip link set dev "$link" addrgenmode none 2>/dev/null; ip -n "$ns" link set dev vm0 addrgenmode none 2>/dev/null;
           ip addr add "${ip%.*}.1/24" dev "$link" && ip link set "$link" up &&
           ip -n "$ns" addr add "$ip/24" dev vm0 && ip -n "$ns" link set vm0 up && ip -n "$ns" link set lo up; }; then
        ip link del "$link" 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || true
        die "cannot set up netns $ns with $ip"
    fi
}

cmd_start() {
    [ $# -ge 1 ] || usage
    local name=$1
    shift
    local ns='' ip='' pwfile='' accel='' mem=512 smp=1 sets=()
    while [ $# -gt 0 ]; do
        [ $# -ge 2 ] || die "start option $1 needs a value"
        case $1 in
            --netns) ns=$2 ;;
            --ip) ip=$2 ;;
            --password-file) pwfile=$2 ;;
            --accel) accel=$2 ;;
            --memory) mem=$2 ;;
            --smp) smp=$2 ;;
            --timeout) READY_TIMEOUT=$2 ;;
            --set) case $2 in *=*) sets+=("$2") ;; *) die "--set wants 'OPTION = VALUE', not '$2'" ;; esac ;;
            *) die "unknown start option '$1'" ;;
        esac
        shift 2
    done
    need_root
    need_tool qemu-system-x86_64 ip tar timeout
    vm_fields "$name"
    ns=${ns:-sfsvm-$name}
    ip=${ip:-$DEFAULT_IP}
    # Only the lab's own range: this VM's port must never appear on an
    # address that leaves the machine.
    [[ $ip =~ ^10\.231\.([0-9]{1,3})\.([0-9]{1,3})$ ]] && [ "${BASH_REMATCH[1]}" -le 255 ] &&
        [ "${BASH_REMATCH[2]}" -ge 2 ] && [ "${BASH_REMATCH[2]}" -le 254 ] ||
        die "--ip must be an address 10.231.N.2-254 (the lab's range), not '$ip'"
    case $accel in
        '') accel=$(auto_accel) ;;
        kvm|tcg) ;;
        *) die "--accel kvm or tcg, not '$accel'" ;;
    esac

    local pw
    if [ -n "$pwfile" ]; then
        pw=$(read_password_file "$pwfile")
    elif [ -r "$LAB_STATE/creds/labuser.cred" ]; then
        pw=$(read_password_file "$LAB_STATE/creds/labuser.cred")
    elif [ -n "${SHARESFS_LAB_PASSWORD:-}" ]; then
        pw=$SHARESFS_LAB_PASSWORD
    else
        die "no password for $LAB_USER: give --password-file FILE (or run the lab, or set SHARESFS_LAB_PASSWORD)"
    fi
    case $pw in *:*|*$'\n'*) die "the password may not contain ':' or a newline" ;; esac

    [ -z "$(running_pid "$name")" ] || die "VM '$name' is running already (vm.sh stop $name)"
    # the image: the current cached one; built when there is none
    local cur
    cur=$(readlink -f "$VM_DIR/$name" 2>/dev/null || true)
    if [ -n "$cur" ] && rootfs_built "$cur"; then IMAGE=$cur; else ensure_image "$name"; fi

    local d=$RUN_DIR/$name created=0
    rm -rf "$d"
    mkdir -p "$d"
    chmod 0700 "$RUN_DIR" "$d"
    if [ -e "/run/netns/$ns" ]; then
        ip -n "$ns" -4 -o addr show | awk '{ print $4 }' | grep -q "^$ip/" ||
            die "netns $ns exists but does not have $ip"
    else
        make_netns "$ns" "$ip"
        created=1
    fi
    echo "$ns" >"$d/netns"
    echo "$created" >"$d/created_netns"
    echo "$ip" >"$d/ip"
    echo "$IMAGE" >"$d/image"
    echo "$accel" >"$d/accel"
    if smb_negotiate "$ip" >/dev/null; then
        die "something already answers SMB on $ip:445"
    fi

    # the configuration disk: a tar file, root-only, read by the guest's init
    (
        umask 077
        mkdir "$d/conf"
        printf '%s:%s:%s\n' "$LAB_USER" "$LAB_UID" "$pw" >"$d/conf/users"
        printf '%s\n' "$name" >"$d/conf/hostname"
        printf '%s\n' "$WORKGROUP" >"$d/conf/workgroup"
        for o in "${sets[@]}"; do printf '  %s\n' "$o"; done >"$d/conf/global"
        tar -C "$d/conf" --owner=0 --group=0 -cf "$d/conf.tar" .
        rm -rf "$d/conf"
    )
    local cpu=(-cpu max)
    [ "$accel" = kvm ] && cpu=(-cpu host)
    local t0 t1 pid dialect
    t0=$(now_ms)
    # TMPDIR: where snapshot=on keeps the guest's writes (deleted with it)
    TMPDIR=$d setsid ip netns exec "$ns" qemu-system-x86_64 \
        -name "sfsvm-$name" -machine pc,accel="$accel" "${cpu[@]}" -m "$mem" -smp "$smp" \
        -nodefaults -no-user-config -display none -vga none -no-reboot \
        -serial "file:$d/console.log" -monitor none -pidfile "$d/qemu.pid" \
        -kernel "$IMAGE/vmlinuz" -initrd "$IMAGE/initrd.img" \
        -append "root=/dev/vda rootfstype=ext4 ro console=ttyS0 init=/sbin/sfs-vm-init panic=-1 quiet loglevel=4 net.ifnames=0 tsc=reliable" \
        -drive "file=$IMAGE/root.img,format=raw,if=virtio,snapshot=on,cache=unsafe" \
        -drive "file=$d/conf.tar,format=raw,if=virtio,readonly=on" \
        -netdev "user,id=n0,restrict=on,hostfwd=tcp:$ip:445-:445" \
        -device virtio-net-pci,netdev=n0,romfile= \
        -device virtio-rng-pci \
        </dev/null >"$d/qemu.log" 2>&1 8>&- &
    pid=$!
    echo "$pid" >"$d/pid"
    disown "$pid" 2>/dev/null || true

    # interrupted while waiting: leave nothing behind
    trap 'warn "interrupted: stopping VM $name"; cmd_stop "$name" quiet; exit 130' INT TERM HUP
    local deadline=$(( t0 + READY_TIMEOUT * 1000 ))
    while :; do
        if ! alive "$pid"; then
            warn "!!! VM '$name': QEMU exited during boot: $(tail -n 3 "$d/qemu.log" | tr '\n' ' ')"
            show_console "$name"
            cmd_stop "$name" quiet
            exit 1
        fi
        dialect=$(smb_negotiate "$ip") && break
        if [ "$(now_ms)" -ge "$deadline" ]; then
            warn "!!! VM '$name': no SMB answer on $ip:445 after ${READY_TIMEOUT}s"
            show_console "$name"
            cmd_stop "$name" quiet
            exit 1
        fi
        sleep 0.2
    done
    t1=$(now_ms)
    trap - INT TERM HUP
    echo "$(secs $((t1 - t0)))" >"$d/boot_seconds"
    say "$name $ip:445 pid $pid SMB answered in $(secs $((t1 - t0))) s (SMB $(dialect_name "$dialect"), accel $accel, Debian $VSUITE, netns $ns)"
}

cmd_stop() {
    [ $# -ge 1 ] || usage
    local name=$1 quiet=${2:-} d pid i ns
    need_root
    vm_fields "$name"
    d=$RUN_DIR/$name
    pid=$(running_pid "$name")
    if [ -n "$pid" ]; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < TERM_GRACE * 50; i++)); do alive "$pid" || break; sleep 0.02; done
        if alive "$pid"; then
            warn "VM '$name': QEMU still running ${TERM_GRACE}s after SIGTERM, SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            for ((i = 0; i < 100; i++)); do alive "$pid" || break; sleep 0.02; done
        fi
    fi
    if [ -f "$d/created_netns" ] && [ "$(cat "$d/created_netns")" = 1 ]; then
        ns=$(cat "$d/netns")
        # the host end of the veth pair goes with the namespace's end
        ip netns del "$ns" 2>/dev/null || { [ -n "$quiet" ] || warn "cannot delete netns $ns"; }
    fi
    # the logs of the last run stay in NAME.last/ (never a password in them)
    if [ -d "$d" ]; then
        rm -rf "$d.last"
        mkdir -p "$d.last"
        cp "$d/console.log" "$d/qemu.log" "$d.last/" 2>/dev/null || true
    fi
    rm -rf "$d"
}

cmd_status() {
    [ $# = 1 ] || usage
    local name=$1 d pid ver
    vm_fields "$name"
    d=$RUN_DIR/$name
    pid=$(running_pid "$name")
    if [ -n "$pid" ]; then
        ver=$(sed -n 's/^sfs-vm: version: //p' "$d/console.log" 2>/dev/null | tail -n 1 | tr -d '\r')
        say "$name running, pid $pid, $(cat "$d/ip"):445 in netns $(cat "$d/netns"), accel $(cat "$d/accel"), SMB answered $(cat "$d/boot_seconds" 2>/dev/null || echo '?') s after start"
        say "$name version: ${ver:-unknown (no version line on the console yet)}"
        return 0
    fi
    local img
    img=$(readlink -f "$VM_DIR/$name" 2>/dev/null || true)
    say "$name not running"
    if [ -n "$img" ] && rootfs_built "$img"; then
        say "$name image: $img (kernel $(sed -n 's/^kernel=//p' "$img/info"), ksmbd-tools $(sed -n 's/^ksmbd_tools=//p' "$img/info"))"
    else
        say "$name image: none built (vm.sh build $name)"
    fi
    return 1
}

cmd_list() {
    local v
    for v in "${VMS[@]}"; do
        IFS='|' read -r VN VSUITE VPKGS <<<"$v"
        printf '%s %s %s\n' "$VN" "$VSUITE" "${VPKGS//,/ }"
    done
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
    build)  cmd_build "$@" ;;
    start)  cmd_start "$@" ;;
    stop)   [ $# = 1 ] || usage; cmd_stop "$1" ;;
    status) cmd_status "$@" ;;
    list)   cmd_list "$@" ;;
    -h|--help|help) usage ;;
    *) usage ;;
esac
