#!/bin/bash
# What the SMB login checks, and what it leaves to the stages after it
# (fs/smb/smb_backend.c smb_login: a stat of the URL's directory, not a
# listing of it), against an smbd of this test's own:
#  - a directory the user may enter but not list logs in and mounts, and
#    fails at the list stage with EACCES (a Mac mounts it too, then `ls`
#    says Permission denied); under FUSE, stat works and ls gives EACCES;
#  - a URL naming a file fails at the mount stage with ENOTDIR, in the
#    prober and under FUSE;
#  - a missing directory fails at the mount stage with ENOENT;
#  - a large share root is listed once per probe (the list stage), not
#    also by the login: smbd's own log counts the directory searches;
#  - a client smb.conf that cannot be read (or is a FIFO) fails at parse
#    (naming the file and where it was named), one libsmbclient cannot
#    parse at authenticate: never a probe that goes on with Samba's
#    defaults, or one that blocks.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/own_servers.sh"
own_need fusermount3 mountpoint jq smbclient

own_pre_cleanup() { own_sharesfs_stop "$1"; }

own_init
own_smbd smb
own_wait smb
ip=${OWN_IP[smb]}
share=$OWN_DIR/smb/share
# The share is served as $OWN_USER: "locked" is root's, enterable, not listable.
mkdir "$share/locked" "$share/big"
echo secret >"$share/locked/inside.txt"
chmod 0711 "$share/locked"
echo plain >"$share/plain.txt"
for i in $(seq 3000); do : >"$share/big/f$i"; done
chown -R "$OWN_UID:$OWN_UID" "$share/plain.txt" "$share/big"

cat >"$OWN_DIR/map" <<MAP
Locked	-fstype=url,credentials=$OWN_CRED	smb://$ip/user/locked
File	-fstype=url,credentials=$OWN_CRED	smb://$ip/user/plain.txt
Missing	-fstype=url,credentials=$OWN_CRED	smb://$ip/user/no-such-dir
Big	-fstype=url,credentials=$OWN_CRED	smb://$ip/user/big
MAP
row() { jq -r --arg k "$1" '.entries[] | select(.key == $k) | "\(.stage) \(.result)"' "$OWN_DIR/probe.json"; }
detail() { jq -r --arg k "$1" '.entries[] | select(.key == $k) | .detail' "$OWN_DIR/probe.json"; }

"$AFPTEST" probe --json -j 1 -t 10 -r /x "$OWN_DIR/map" >"$OWN_DIR/probe.json" 2>"$OWN_DIR/probe.err"
jq -e '.entries | length == 4' "$OWN_DIR/probe.json" >/dev/null ||
    bail "afptest gave no report: $(head -c 2000 "$OWN_DIR/probe.json") $(cat "$OWN_DIR/probe.err")"
is "$(row Locked)" "list EACCES" "a directory that may be entered but not listed: logs in, fails at list ($(detail Locked))"
is "$(row File)" "mount ENOTDIR" "a URL naming a file: mount stage, ENOTDIR ($(detail File))"
like "$(detail File)" "folder \"plain.txt\" is a file" "the File row's detail names the folder and says it is a file"
is "$(row Missing)" "mount ENOENT" "a missing directory: mount stage, ENOENT ($(detail Missing))"
like "$(detail Missing)" "folder \"no-such-dir\".*OBJECT_NAME_NOT_FOUND" "the Missing row's detail names the folder, not the tree connect"
is "$(row Big)" "read ok" "a 3,000-entry directory probes ok"
is "$(jq -r '.entries[] | select(.key == "Big") | .listed' "$OWN_DIR/probe.json")" 3000 "... and lists all 3,000 entries"

# Client smb.conf files that are missing, a directory, or not an smb.conf.
printf '[global\n' >"$OWN_DIR/broken.conf"
cat >"$OWN_DIR/conf.cfg" <<CFG
[entry NoConf]
smb_conf = $OWN_DIR/no-such.conf
[entry DirConf]
smb_conf = $OWN_DIR
[entry BrokenConf]
smb_conf = $OWN_DIR/broken.conf
[entry FifoConf]
smb_conf = $OWN_DIR/fifo.conf
CFG
mkfifo -m 0600 "$OWN_DIR/fifo.conf"
for k in NoConf DirConf BrokenConf FifoConf; do
    printf '%s\t-fstype=url,credentials=%s\tsmb://%s/user\n' "$k" "$OWN_CRED" "$ip"
done >"$OWN_DIR/conf.map"
"$AFPTEST" probe --json -j 1 -t 10 --config "$OWN_DIR/conf.cfg" -r /x "$OWN_DIR/conf.map" >"$OWN_DIR/probe.json" 2>"$OWN_DIR/probe.err"
is "$?" 1 "client configs that fail: afptest exits 1"
is "$(row NoConf)" "parse ENOENT" "a missing smb_conf: parse, ENOENT"
like "$(detail NoConf)" "cannot read the client smb.conf '$OWN_DIR/no-such.conf' \\(smb_conf in the config\\)" \
    "... naming the file and where it was set ($(detail NoConf))"
is "$(row DirConf)" "parse EISDIR" "a directory as smb_conf: parse, EISDIR"
is "$(row FifoConf)" "parse EINVAL" "a FIFO as smb_conf: parse, EINVAL, not a probe blocked reading it ($(detail FifoConf))"
is "$(row BrokenConf)" "authenticate EINVAL" "an smb_conf libsmbclient cannot parse: authenticate, EINVAL"
like "$(detail BrokenConf)" "libsmbclient cannot load the client smb.conf '$OWN_DIR/broken.conf'" \
    "... naming the file ($(detail BrokenConf))"
printf 'Env\t-fstype=url,credentials=%s\tsmb://%s/user\n' "$OWN_CRED" "$ip" >"$OWN_DIR/env.map"
SHARESFS_SMB_CONF=$OWN_DIR/no-such.conf "$AFPTEST" probe --json -j 1 -t 10 -r /x "$OWN_DIR/env.map" \
    >"$OWN_DIR/probe.json" 2>"$OWN_DIR/probe.err"
is "$(row Env)" "parse ENOENT" "a missing SHARESFS_SMB_CONF: parse, ENOENT"
like "$(detail Env)" "\\(SHARESFS_SMB_CONF\\)" "... saying it came from SHARESFS_SMB_CONF"

# smbd's log at smb2:10 names each request; a listing of 3,000 names is a
# few directory searches (QUERY_DIRECTORY) of 64 KiB each.  libsmbclient
# lists the way smbclient does (cli_list): one probe must cost as many as
# one `smbclient -c ls` of the directory, not twice as many (the login
# listing it too, as before).
sed -i 's/^  log level = 1$/  log level = 1 smb2:10/' "$OWN_DIR/smb/smb.conf"
kill -HUP "${OWN_PID[smb]}"
sleep 1
searches() { cat "$OWN_DIR"/smb/log/log.* 2>/dev/null | grep -c 'smbd_smb2_request_dispatch: opcode\[SMB2_OP_QUERY_DIRECTORY\]'; }
s0=$(searches)
smbclient -s "$SHARESFS_SMB_CONF" -A "$OWN_CRED" "//$ip/user" -D big -c ls >"$OWN_DIR/smbclient.out" 2>&1 ||
    bail "smbclient ls failed: $(tail -5 "$OWN_DIR/smbclient.out")"
s1=$(searches)
printf 'Big\t-fstype=url,credentials=%s\tsmb://%s/user/big\n' "$OWN_CRED" "$ip" >"$OWN_DIR/big.map"
"$AFPTEST" probe --json -j 1 -t 10 -r /x "$OWN_DIR/big.map" >"$OWN_DIR/probe.json" 2>"$OWN_DIR/probe.err"
s2=$(searches)
is "$(row Big)" "read ok" "Big probed again with smbd logging its requests"
[ "$((s1 - s0))" -ge 2 ] || bail "smbd's log shows no directory searches for smbclient's ls ($((s1 - s0))): logging not on"
is "$((s2 - s1))" "$((s1 - s0))" "one probe of Big: as many directory searches as one smbclient ls ($((s1 - s0))), not twice"

# Under FUSE.
mnt=$OWN_DIR/mnt
mkdir "$mnt"
own_sharesfs "$mnt" -t 10 "$OWN_DIR/map"
is "$(stat -c %F "$mnt/Locked" 2>&1)" directory "FUSE: Locked mounts (a directory)"
err=$(ls "$mnt/Locked" 2>&1 >/dev/null)
like "$err" "Permission denied" "FUSE: ls of Locked: EACCES ($err)"
is "$(cat "$mnt/Locked/inside.txt" 2>&1)" secret "FUSE: a known name inside Locked still reads"
err=$(ls "$mnt/File" 2>&1 >/dev/null)
like "$err" "Not a directory" "FUSE: ls of File: ENOTDIR ($err)"
is "$(ls "$mnt/Big" | wc -l)" 3000 "FUSE: ls of Big lists 3,000 names"
own_sharesfs_stop 0
done_testing
