#!/bin/bash
# Per-user sessions on a shared mount (-o allow_other), with two real local
# users (the lab's labuser, uid 2001, and otheruser, uid 2002, run through
# setpriv): each gets their own identity on the server (the owner of the
# files they create, as the server's disk stores it); one cannot read the
# other's private share; a uid with no credentials of its own gets EACCES,
# not someone else's session; one user's expired ticket gives EKEYEXPIRED
# while the other's valid one works; killing one user's session leaves the
# other's open file alone; status.json shows each user only their own rows.
. "$(dirname "$0")/lib.sh"
lab_join
command -v jq >/dev/null || bail "jq not installed"
command -v setpriv >/dev/null || bail "setpriv not installed (util-linux)"
CREDS=${SHARESFS_LAB_DIR:?}/creds
for f in labuser otheruser; do
    [ -r "$CREDS/$f.cred" ] || bail "$CREDS/$f.cred missing: a lab without $f's Samba account?"
done
TEAM=$SHARESFS_LAB_DIR/hosts/fs-default.lab.test/shares/team
[ -d "$TEAM" ] || bail "$TEAM missing: a lab without fs-default's team share?"
A=2001
B=2002
C=2003   # a uid with no credentials at all

tmp=$(mktemp -d)
chmod 0755 "$tmp"
mnt=$tmp/mnt
mkdir "$mnt"
pid=
holder=
cleanup() {
    [ -n "$holder" ] && kill "$holder" 2>/dev/null
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    fusermount3 -u "$mnt" 2>/dev/null
    rm -f "$TEAM"/mu-*
    rm -rf "$tmp"
}
trap cleanup EXIT
# as UID CMD...: CMD as that uid (no supplementary groups), in the lab env
as() {
    local uid=$1
    shift
    setpriv --reuid="$uid" --regid="$uid" --clear-groups -- "$@"
}
install -o "$A" -m 0600 "$CREDS/labuser.cred" "$tmp/cred.$A"
install -o "$B" -m 0600 "$CREDS/otheruser.cred" "$tmp/cred.$B"
# C's file exists but is A's: never used for C
install -o "$A" -m 0600 "$CREDS/labuser.cred" "$tmp/cred.$C"
cat >"$tmp/map" <<EOF
Team     -fstype=url,credentials=$tmp/cred.%u  smb://fs-default.lab.test/team
Private  -fstype=url,credentials=$tmp/cred.%u  smb://fs-default.lab.test/user
Krb      -fstype=url,sec=krb5                  smb://fs-krb.lab.test/public
Pub      -fstype=url,guest                     smb://fs-default.lab.test/public
EOF
"$SHARESFS" -f -o allow_other "$tmp/map" "$mnt" >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.05; done
mountpoint -q "$mnt" || bail "sharesfs did not mount: $(cat "$tmp/log")"

# Each user's own identity on the server.
as "$A" sh -c "echo from-a > $mnt/Team/mu-a" && pass "labuser (uid $A) creates a file" || fail "uid $A cannot write"
as "$B" sh -c "echo from-b > $mnt/Team/mu-b" && pass "otheruser (uid $B) creates a file" || fail "uid $B cannot write"
is "$(stat -c %u "$TEAM/mu-a")" "$A" "the owner of labuser's file on the server's disk: uid $A"
is "$(stat -c %u "$TEAM/mu-b")" "$B" "the owner of otheruser's file on the server's disk: uid $B"

# The private share: labuser's only.
got=$(as "$A" ls "$mnt/Private" 2>&1 >/dev/null)
is "${got:-ok}" ok "labuser lists their private share"
got=$(as "$B" ls "$mnt/Private" 2>&1 >/dev/null)
like "$got" "Permission denied" "otheruser cannot read labuser's private share through the same mount"
got=$(as "$C" ls "$mnt/Team" 2>&1 >/dev/null)
like "$got" "Permission denied" "a uid whose credentials file is someone else's: EACCES, no session of another user"
got=$(as "$C" cat "$mnt/Pub/hello.txt" 2>&1)
like "$got" "Hello" "a guest entry stays guest for every user"

# status.json: each user sees their own rows; root sees all.
s=$(as "$B" cat "$mnt/.sharesfs/status.json")
is "$(jq -r '.multiuser' <<<"$s")" true "status.json says multiuser"
is "$(jq -r '[.mounts[] | select(.uid != null) | .uid] | unique | map(tostring) | join(",")' <<<"$s")" "$B" \
    "otheruser's status.json holds only otheruser's sessions"
is "$(jq -r '.mounts[] | select(.key == "Private" and .uid != null) | .last_error.errno_name' <<<"$s")" EACCES \
    "otheruser's row for Private: EACCES"
s=$(cat "$mnt/.sharesfs/status.json")
is "$(jq -r '[.mounts[] | select(.key == "Team") | .uid] | sort | map(tostring) | join(",")' <<<"$s")" "$A,$B,$C" \
    "root sees every user's session of Team"
is "$(jq -r '.mounts[] | select(.key == "Team" and .uid == '"$C"') | .last_error.detail' <<<"$s" | grep -c "owned by another uid")" 1 \
    "the cause: the credentials file is another uid's"

# Kerberos: A's valid ticket, B's expired one; B naming A's ccache gets nothing of A's.
"$LAB" kinit labuser "FILE:$tmp/cc.$A" >/dev/null || bail "kinit labuser failed"
chown "$A" "$tmp/cc.$A"
"$LAB" kinit otheruser "FILE:$tmp/cc.$B" -l 3s >/dev/null || bail "kinit otheruser failed"
chown "$B" "$tmp/cc.$B"
sleep 4
got=$(KRB5CCNAME=FILE:$tmp/cc.$A as "$A" ls "$mnt/Krb" 2>&1 >/dev/null)
is "${got:-ok}" ok "labuser's ticket: Kerberos session works"
got=$(KRB5CCNAME=FILE:$tmp/cc.$B as "$B" ls "$mnt/Krb" 2>&1 >/dev/null)
like "$got" "Key has expired" "otheruser's expired ticket: EKEYEXPIRED"
got=$(KRB5CCNAME=FILE:$tmp/cc.$A as "$B" ls "$mnt/Krb" 2>&1 >/dev/null)
like "$got" "(Key has expired|Required key not available)" "otheruser naming labuser's ccache still gets no ticket of labuser's"
got=$(KRB5CCNAME=FILE:$tmp/cc.$A as "$A" ls "$mnt/Krb" 2>&1 >/dev/null)
is "${got:-ok}" ok "labuser's session is unaffected"

# Killing one user's session leaves the other's open file alone.
as "$A" bash -c "exec 3<$mnt/Team/mu-a; sleep 2; cat <&3" >"$tmp/held" 2>&1 &
holder=$!
sleep 0.5
pkill -f -- "--worker .*Team \\(uid $B\\)" && pass "otheruser's Team worker killed" || fail "no worker of otheruser's Team session"
wait "$holder"
holder=
is "$(cat "$tmp/held")" "from-a" "labuser's open file reads on after otheruser's session was killed"
got=$(as "$B" cat "$mnt/Team/mu-b" 2>&1)
for _ in 1 2 3; do [ "$got" = from-b ] && break; sleep 1; got=$(as "$B" cat "$mnt/Team/mu-b" 2>&1); done
is "$got" "from-b" "otheruser's session comes back on next use"

fusermount3 -u "$mnt"
wait "$pid"
is "$?" 0 "sharesfs exits 0 after the unmount"
pid=

# --shared-session: the old single identity, on request only.
"$SHARESFS" -f -o allow_other,shared_session "$tmp/map" "$mnt" >"$tmp/log2" 2>&1 &
pid=$!
for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.05; done
as "$A" ls "$mnt/Team" >/dev/null 2>&1
s=$(cat "$mnt/.sharesfs/status.json")
is "$(jq -r '.multiuser' <<<"$s")" false "--shared-session: one session per key (documented risk)"
fusermount3 -u "$mnt"
wait "$pid"
pid=

done_testing
