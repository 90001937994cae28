#!/bin/bash
# ksmbd, the kernel's SMB server, in a Debian guest under QEMU
# (contrib/lab/vm.sh): a server that cannot run on the host's kernel.
# Builds or reuses the cached image, boots its own VM in its own namespace
# (sfsvm-ksmbd, 10.231.50.2), probes it with afptest (guest, labuser, wrong
# password, missing share, guest on the user share), checks smbclient
# against it, reads and writes through a sharesfs mount, and stops it.
# Needs no lab: its own password, credentials files and client config.
# Without KVM the boot takes 20-40 s; a cold image build 1-3 minutes.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || bail "needs root (network namespace, QEMU, FUSE)"
command -v jq >/dev/null || bail "jq not installed"
command -v qemu-system-x86_64 >/dev/null || bail "qemu-system-x86 not installed (contrib/setup/install-deps.sh)"
command -v smbclient >/dev/null || bail "smbclient not installed"

VM=$SFS_SRC/contrib/lab/vm.sh
NAME=ksmbd
NS=sfsvm-ksmbd
IP=10.231.50.2
tmp=$(mktemp -d)
chmod 0700 "$tmp"
mnt=$tmp/mnt
mkdir "$mnt"
fuse_pid=
cleanup() {
    if mountpoint -q "$mnt"; then fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null; fi
    [ -n "$fuse_pid" ] && kill "$fuse_pid" 2>/dev/null
    "$VM" stop "$NAME" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT

# A fresh password for this run, only in 0600 files (never on a command line).
pw=Vm-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
(
    umask 077
    printf 'username=labuser\npassword=%s\ndomain=LAB\n' "$pw" >"$tmp/labuser.cred"
    printf 'username=labuser\npassword=%s\ndomain=LAB\n' "Wrong-$pw" >"$tmp/wrong.cred"
)
mkdir "$tmp/smb"
printf '[global]\n  workgroup = LAB\n  name resolve order = host\n  disable netbios = yes\n  lock directory = %s\n  state directory = %s\n  cache directory = %s\n  client min protocol = SMB2\n' \
    "$tmp/smb" "$tmp/smb" "$tmp/smb" >"$tmp/smb.conf"
smbc() { timeout 60 smbclient -s "$tmp/smb.conf" "$@" 2>&1; }

"$VM" status "$NAME" >/dev/null 2>&1 && bail "VM '$NAME' is already running (contrib/lab/vm.sh stop $NAME)"
[ -e "/run/netns/$NS" ] && bail "netns $NS exists already: another run? (ip netns del $NS)"

t0=$(date +%s)
out=$("$VM" build "$NAME" 2>&1) || bail "vm.sh build $NAME failed: $out"
diag "image: $(printf '%s\n' "$out" | tail -n 1) ($(( $(date +%s) - t0 )) s)"
out=$("$VM" start "$NAME" --netns "$NS" --ip "$IP" --password-file "$tmp/labuser.cred" 2>&1) ||
    bail "vm.sh start $NAME failed: $out"
diag "$out"
like "$out" "^$NAME $IP:445 pid [0-9]+ SMB answered in [0-9.]+ s" "vm.sh start: SMB answers on $IP:445"

st=$("$VM" status "$NAME" 2>&1)
is "$?" 0 "vm.sh status: exit 0 while running"
like "$st" "ksmbd-tools [0-9]+\.[0-9]+" "vm.sh status names the ksmbd-tools version"
like "$st" "ksmbd in Linux [0-9]+\.[0-9]+" "vm.sh status names the guest's kernel"
diag "$(printf '%s\n' "$st" | sed -n 2p)"
if grep -rqF "$pw" "/run/sharesfs-vm/$NAME/console.log" "/run/sharesfs-vm/$NAME/qemu.log" 2>/dev/null ||
   grep -qF "$pw" <<<"$out$st"; then
    fail "the password appears in no output or log"
else
    pass "the password appears in no output or log"
fi
# QEMU listens on the namespace's address only.
is "$(ip netns exec "$NS" ss -Hltn | awk '{ print $4 }' | sort | tr '\n' ' ')" "$IP:445 " \
    "QEMU listens on $IP:445 in $NS and nowhere else"

# The probe contract of ksmbd: stage / result / status per entry.
cat >"$tmp/map" <<MAP
VmGuest	-fstype=url,guest	smb://$IP/public
VmUser	-fstype=url,credentials=$tmp/labuser.cred	smb://$IP/user
VmWrongPass	-fstype=url,credentials=$tmp/wrong.cred	smb://$IP/user
VmMissing	-fstype=url,credentials=$tmp/labuser.cred	smb://$IP/nosuchshare
VmGuestOnUser	-fstype=url,guest	smb://$IP/user
MAP
json=$("$AFPTEST" probe --json -t 15 "$tmp/map" 2>"$tmp/probe.err")
# ksmbd answers a missing share with ACCESS_DENIED to a user who logged in
# (Samba: BAD_NETWORK_NAME); an anonymous tree connect gets BAD_NETWORK_NAME.
while read -r key want; do
    row=$(jq -c --arg k "$key" '.entries[] | select(.key == $k)' <<<"$json")
    is "$(jq -r '"\(.stage)/\(.result)/\(.status.name // "-")"' <<<"$row")" "$want" "$key: stage/result/status" ||
        diag "$row" "$(cat "$tmp/probe.err")"
done <<'EOF'
VmGuest read/ok/-
VmUser read/ok/-
VmWrongPass authenticate/EACCES/NT_STATUS_LOGON_FAILURE
VmMissing mount/EACCES/NT_STATUS_ACCESS_DENIED
VmGuestOnUser mount/EACCES/NT_STATUS_ACCESS_DENIED
EOF
is "$(jq -r '.entries[] | select(.key == "VmUser") | "\(.server.dialect) \(.auth)"' <<<"$json")" "SMB3_11 ntlmssp" \
    "VmUser: SMB 3.1.1, NTLMSSP"

# Samba's own client, with an authfile (-A): nothing secret in ps.
like "$(smbc -L "//$IP" -N)" "public +Disk" "smbclient -L lists public"
like "$(smbc "//$IP/public" -N -c ls)" "hello.txt" "smbclient //IP/public -N: ls"
like "$(smbc "//$IP/user" -A "$tmp/labuser.cred" -c ls)" "notes.txt" "smbclient //IP/user as labuser: ls"
like "$(smbc "//$IP/user" -A "$tmp/wrong.cred" -c ls)" "NT_STATUS_LOGON_FAILURE" "smbclient, wrong password: NT_STATUS_LOGON_FAILURE"
like "$(smbc "//$IP/public" -N -c "put $tmp/map x.txt")" "NT_STATUS_ACCESS_DENIED" "smbclient: public is read-only"

# Through a real sharesfs mount.
cat >"$tmp/fuse.map" <<MAP
pub	-fstype=url,guest	smb://$IP/public
home	-fstype=url,credentials=$tmp/labuser.cred	smb://$IP/user
bad	-fstype=url,credentials=$tmp/wrong.cred	smb://$IP/user
MAP
"$SHARESFS" -f -t 15 "$tmp/fuse.map" "$mnt" >"$tmp/fuse.log" 2>&1 &
fuse_pid=$!
for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.05; done
mountpoint -q "$mnt" || bail "sharesfs did not mount: $(cat "$tmp/fuse.log")"
is "$(cat "$mnt/pub/hello.txt" 2>&1)" "Hello from the sharesfs lab." "sharesfs: read public/hello.txt from ksmbd"
is "$(cat "$mnt/home/notes.txt" 2>&1)" "Notes of labuser on $NAME." "sharesfs: read user/notes.txt as labuser"
printf 'written through sharesfs %s\n' "$$" >"$mnt/home/w-$$.txt" 2>"$tmp/w.err"
is "$(smbc "//$IP/user" -A "$tmp/labuser.cred" -c "get w-$$.txt $tmp/w.txt" >/dev/null; cat "$tmp/w.txt" 2>&1)" \
    "written through sharesfs $$" "sharesfs: a file written as labuser, read back with smbclient"
like "$(ls "$mnt/bad" 2>&1)" "Permission denied" "sharesfs: wrong password: EACCES"
fusermount3 -u "$mnt"
wait "$fuse_pid" 2>/dev/null
fuse_pid=

# ksmbd still alive after all that (a kernel oops would hang it).
like "$(smbc "//$IP/public" -N -c ls)" "hello.txt" "ksmbd still answers after the tests"
grep -q 'BUG:\|Oops' "/run/sharesfs-vm/$NAME/console.log" &&
    diag "guest kernel: $(grep -m1 'BUG:' "/run/sharesfs-vm/$NAME/console.log")"
is "$(grep -c 'BUG:\|Oops' "/run/sharesfs-vm/$NAME/console.log")" 0 "no kernel oops in the guest"

t0=$(date +%s%N)
"$VM" stop "$NAME"
is "$?" 0 "vm.sh stop"
diag "stop took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
"$VM" status "$NAME" >/dev/null 2>&1
is "$?" 1 "vm.sh status: exit 1 once stopped"
[ -e "/run/netns/$NS" ] && fail "stop deleted netns $NS" || pass "stop deleted netns $NS"
pgrep -f "qemu-system-x86_64 -name sfsvm-$NAME " >/dev/null && fail "no QEMU left" || pass "no QEMU left"
done_testing
