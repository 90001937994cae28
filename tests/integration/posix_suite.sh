#!/bin/bash
# POSIX behaviour through real sharesfs mounts, the same checks over SMB
# (fs-default, labuser) and AFP (lion and netatalk4 afpsim, DHX2): file and
# directory operations, the errors applications rely on, a random-I/O
# integrity run against a local reference file, and a tree of 1000 small
# files plus a 256 MiB file copied there and back byte for byte.  Then the
# edge section (edge_checks): create modes, failed creates, unlink/rmdir of
# read-only objects, name and path limits, statfs, a huge truncate and
# times, each checked by the errno a program sees and by what the server
# stores on its disk (read directly under $SHARESFS_LAB_DIR/hosts).
# POSIX_MOUNT_OPTS: extra sharesfs options (--direct-io), POSIX_KEYS: the
# keys to run (default the three above; RealSmb413, RealSmb422, RealNt31 and
# RealNt42 are the lab's real Samba and netatalk servers, AfpSnowLeopard and
# AfpTiger afpsim's other personalities with a writable Private volume),
# POSIX_HEAVY=0: leave out the round trip (1000 files, 256 MiB) and the
# reads of it, to save time.
. "$(dirname "$0")/lib.sh"
lab_join
read -r -a KEYS <<<"${POSIX_KEYS:-Smb AfpLion AfpNetatalk}"
read -r -a MOUNT_OPTS <<<"${POSIX_MOUNT_OPTS:-}"
HEAVY=${POSIX_HEAVY:-1}
# Checks per key: 26 quick ones, 7 of the round trip (HEAVY), EDGE_CHECKS.
EDGE_CHECKS=43
PER_KEY=$(( 26 + (HEAVY == 1 ? 7 : 0) + EDGE_CHECKS ))
PLANNED=$(( ${#KEYS[@]} * PER_KEY + 2 ))   # + sharesfs exits cleanly, + the count itself
plan "$PLANNED"

tmp=$(mktemp -d)
mnt=$tmp/mnt
mkdir "$mnt"
cleanup() { fusermount3 -u "$mnt" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
CRED=$SHARESFS_LAB_DIR/creds/labuser.cred
cat >"$tmp/map" <<MAP
Smb	-fstype=url,credentials=$CRED	smb://fs-default.lab.test/user
AfpLion	-fstype=url,credentials=$CRED	afp://labuser;AUTH=DHX2@lion.lab.test/Private
AfpNetatalk	-fstype=url,credentials=$CRED	afp://labuser;AUTH=DHX2@netatalk4.lab.test/Private
RealSmb413	-fstype=url,credentials=$CRED	smb://samba413.lab.test/user
RealSmb422	-fstype=url,credentials=$CRED	smb://samba422.lab.test/user
RealNt31	-fstype=url,credentials=$CRED	afp://labuser;AUTH=DHX2@netatalk31.lab.test/Private
RealNt42	-fstype=url,credentials=$CRED	afp://labuser;AUTH=DHX2@netatalk42.lab.test/Private
AfpSnowLeopard	-fstype=url,credentials=$CRED	afp://labuser;AUTH=DHX2@snowleopard.lab.test/Private
AfpTiger	-fstype=url,credentials=$CRED	afp://labuser;AUTH=DHCAST128@tiger.lab.test/Private
MAP
# Where each key's share lies on the server's disk (contrib/lab/lab.sh:
# Samba shares/user, afpsim and netatalk volumes/Private).
H=$SHARESFS_LAB_DIR/hosts
declare -A DISK=(
    [Smb]=$H/fs-default.lab.test/shares/user
    [AfpLion]=$H/lion.lab.test/volumes/Private
    [AfpNetatalk]=$H/netatalk4.lab.test/volumes/Private
    [AfpSnowLeopard]=$H/snowleopard.lab.test/volumes/Private
    [AfpTiger]=$H/tiger.lab.test/volumes/Private
    [RealSmb413]=$H/samba413.lab.test/shares/user
    [RealSmb422]=$H/samba422.lab.test/shares/user
    [RealNt31]=$H/netatalk31.lab.test/volumes/Private
    [RealNt42]=$H/netatalk42.lab.test/volumes/Private
)
# The longest name each server can create, rename and delete: 255 bytes,
# but netatalk (3.1.12 and 4.2.3 measured; afpsim's netatalk-4 personality
# is taken for one) creates 254- and 255-byte names it then cannot rename
# or delete (FPDelete, FPRename: kFPParamErr), so sharesfs says 253 there.
declare -A NAMEMAX=([AfpNetatalk]=253 [RealNt31]=253 [RealNt42]=253)
# Servers known to make folders 4110 bytes below the share: Samba 4.17
# (fs-default) and 4.22 (smbclient made them up to 4284 bytes, but no file
# past about 4098: NT_STATUS_OBJECT_PATH_NOT_FOUND).  The others stop
# before: Samba 4.13 at PATH_MAX with its share's path (smbclient gets
# NT_STATUS_OBJECT_NAME_INVALID too), afpsim at PATH_MAX with its volume's
# path, netatalk around 4.1 KB.
declare -A DEEP_OK=([Smb]=1 [RealSmb422]=1)
# netatalk makes a folder past its own path limit and then refuses it
# (kFPParamErr: ENAMETOOLONG), leaving that folder on its disk, which no
# AFP client can reach: a server bug (docs/server-versions.md).
declare -A HALF_MADE=([RealNt31]=1 [RealNt42]=1)
# SMB without POSIX extensions (docs/posix.md): a new file gets the
# share's create mask (0744 in the lab) whatever is asked; a mode without
# the owner's write bit becomes the DOS read-only attribute, which Samba
# keeps apart from the mode bits and libsmbclient shows as r--/r-x.
declare -A SMB_KEY=([Smb]=1 [RealSmb413]=1 [RealSmb422]=1)
create_mode_want() {   # KEY MODE -> "disk=D mount=M"
    if [ -z "${SMB_KEY[$1]:-}" ]; then echo "disk=$2 mount=$2"; return; fi
    case $2 in
        0644|0600) echo "disk=0744 mount=0744" ;;
        0151)      echo "disk=0744 mount=0544" ;;
        *)         echo "disk=0744 mount=0444" ;;
    esac
}
for key in "${KEYS[@]}"; do
    [ -n "${DISK[$key]:-}" ] || bail "unknown key $key"
    [ -d "${DISK[$key]}" ] || bail "$key: the server's disk ${DISK[$key]} is missing: is the lab running?"
done
"$SHARESFS" -f -t 10 "$mnt/../mnt" >/dev/null 2>&1 </dev/null &   # usage error: exits at once
"$SHARESFS" -f -t 10 "${MOUNT_OPTS[@]}" "$tmp/map" "$mnt" >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.05; done
mountpoint -q "$mnt" || bail "sharesfs did not mount: $(cat "$tmp/log")"

# errno_of CMD...: the strerror text perl's $! gives for a failed syscall.
errno_of() { perl -e "$1" 2>&1; }

# sys.pl OP ARGS...: one system call (or a short sequence) as a program
# makes it, with umask 0, printing "ok" or the errno's name (EACCES); a
# failure after the first call names its step (write:EIO).
cat >"$tmp/sys.pl" <<'PERL'
use strict; use Fcntl; use Errno;
umask 0;
sub en { my $n = $! + 0; for my $k (keys %!) { return $k if $!{$k} } "errno$n" }
# walk TOP LEVELS LEN MAKE: chdir into TOP, then down LEVELS directories of
# LEN-byte names, each by a relative path (made first when MAKE): "ok", or
# the step that failed ("mkdir21:ENAMETOOLONG").
sub walk {
    my ($top, $levels, $len, $make) = @_;
    chdir $top or return "chdir:" . en();
    for my $i (1 .. $levels) {
        my $n = sprintf("L%02d", $i) . ("x" x ($len - 3));
        if ($make) { mkdir($n, 0755) or return "mkdir$i:" . en() }
        chdir $n or return "chdir$i:" . en();
    }
    "ok";
}
my ($op, @a) = @ARGV;
my $r;
if ($op eq 'create') {          # PATH MODE DATA: O_CREAT|O_EXCL|O_WRONLY, write, close
    my ($p, $m, $data) = @a;
    if (!sysopen(my $fh, $p, O_CREAT | O_EXCL | O_WRONLY, oct $m)) { $r = en() }
    else {
        my $w = syswrite($fh, $data);
        $r = !defined $w ? "write:" . en() : $w != length $data ? "write:short" : close($fh) ? "ok" : "close:" . en();
    }
} elsif ($op eq 'mkdir')     { $r = mkdir($a[0], oct $a[1]) ? "ok" : en() }
elsif ($op eq 'rmdir')       { $r = rmdir($a[0]) ? "ok" : en() }
elsif ($op eq 'unlink')      { $r = unlink($a[0]) ? "ok" : en() }
elsif ($op eq 'stat')        { $r = lstat($a[0]) ? "ok" : en() }
elsif ($op eq 'rename')      { $r = rename($a[0], $a[1]) ? "ok" : en() }
elsif ($op eq 'truncate')    { $r = truncate($a[0], $a[1]) ? "ok" : en() }
elsif ($op eq 'ftruncate') {
    if (!sysopen(my $fh, $a[0], O_WRONLY)) { $r = "open:" . en() }
    else { $r = truncate($fh, $a[1]) ? "ok" : en(); close $fh }
} elsif ($op eq 'unlink-open') {  # PATH: unlink while open, read on
    if (!sysopen(my $fh, $a[0], O_RDONLY)) { $r = "open:" . en() }
    else {
        my $data;
        $r = "unlink=" . (unlink($a[0]) ? "ok" : en());
        $r .= " read=" . (defined sysread($fh, $data, 100) ? $data : en());
        $r .= " name=" . (lstat($a[0]) ? "present" : en());
        close $fh;
    }
} elsif ($op eq 'rename-open') {  # FROM TO: rename while open, read on
    if (!sysopen(my $fh, $a[0], O_RDONLY)) { $r = "open:" . en() }
    else {
        my $data;
        $r = "rename=" . (rename($a[0], $a[1]) ? "ok" : en());
        $r .= " read=" . (defined sysread($fh, $data, 100) ? $data : en());
        close $fh;
    }
} elsif ($op eq 'deep-mkdir') {   # TOP LEVELS LEN: the tree only
    $r = walk(@a[0 .. 2], 1);
} elsif ($op eq 'deep-levels') {  # TOP LEVELS LEN: how many levels exist
    my ($top, $levels, $len) = @a;
    $r = 0;
    if (chdir $top) {
        for my $i (1 .. $levels) { chdir(sprintf("L%02d", $i) . ("x" x ($len - 3))) or last; $r = $i }
    }
} elsif ($op eq 'deep-file') {    # TOP LEVELS LEN: a file at the bottom, by relative paths
    $r = walk(@a[0 .. 2], 0);
    if ($r eq "ok") {
        my ($fh, $dh, $data);
        $r = "create=" . (!sysopen($fh, "f", O_CREAT | O_EXCL | O_WRONLY, 0644) ? en()
                          : syswrite($fh, "deep") != 4 ? "write:" . en() : close($fh) ? "ok" : "close:" . en());
        $r .= " read=" . (!sysopen($fh, "f", O_RDONLY) ? en() : !defined sysread($fh, $data, 100) ? "read:" . en() : $data);
        my @st = stat("f");
        $r .= " stat=" . (@st ? $st[7] : en());
        $r .= " list=" . (opendir($dh, ".") ? join(",", sort grep { !/^\.\.?$/ } readdir $dh) : en());
    }
} elsif ($op eq 'deep-read') {    # TOP LEVELS LEN: the file's content, or why not
    $r = walk(@a[0 .. 2], 0);
    if ($r eq "ok") { my ($fh, $data); $r = !open($fh, "<", "f") ? en() : defined($data = <$fh>) ? $data : "empty" }
} elsif ($op eq 'deep-unlink') {
    $r = walk(@a[0 .. 2], 0);
    $r = unlink("f") ? "ok" : en() if $r eq "ok";
} else { die "sys.pl: unknown op $op\n" }
print $r;
PERL
sys() { perl "$tmp/sys.pl" "$@" 2>&1; }
# The mode of a path as octal with 4 digits, or "absent".
mode_of() { stat -c %04a "$1" 2>/dev/null || echo absent; }
on_disk() { if [ -e "$1" ] || [ -L "$1" ]; then echo present; else echo absent; fi; }

# edge_checks KEY DIR SHARE_DISK DIR_DISK: the edge behaviours below DIR
# (on the mount) whose copy on the server's disk is DIR_DISK (SHARE_DISK:
# the share's root there).  Expected: what a local Linux filesystem gives a
# process of the user the server acts for (labuser, not root).  Modes a
# check needs beforehand are set through the mount, as a program does; a
# directory the server must refuse writes in gets its mode on the server's
# disk too (as root): SMB cannot set one (read-only is a DOS attribute,
# which does not stop creates in a folder).
# Always runs exactly EDGE_CHECKS checks.
edge_checks() {
    local key=$1 e=$2/edge share_disk=$3 x=$4/edge r m before
    mkdir "$e"

    # 1. open(O_CREAT|O_EXCL|O_WRONLY, MODE): the descriptor writes whatever
    # MODE says; the server stores MODE exactly and the data.
    for m in 0644 0600 0444 0151 0000; do
        r=$(sys create "$e/m$m" "$m" x)
        local want_mode
        want_mode=$(create_mode_want "$key" "$m")
        is "$r disk=$(mode_of "$x/m$m") data=$(cat "$x/m$m" 2>&1) mount=$(mode_of "$e/m$m")" \
            "ok ${want_mode%% *} data=x ${want_mode#* }" \
            "$key: create with mode $m: writable descriptor, the data, stored as ${want_mode%% *} (${want_mode#* })"
    done

    # 2. A create that fails leaves nothing behind.
    sys create "$e/old" 0644 old >/dev/null
    before=$(mode_of "$x/old")
    r=$(sys create "$e/old" 0600 new)
    is "$r data=$(cat "$x/old" 2>&1) disk=$(mode_of "$x/old")" "EEXIST data=old disk=$before" \
        "$key: O_CREAT|O_EXCL on an existing name: EEXIST, the old file intact"
    mkdir "$e/ro" "$e/ro/keepdir"
    echo keep >"$e/ro/keep"
    chmod 0555 "$e/ro"
    chmod 0555 "$x/ro"
    r=$(sys create "$e/ro/new" 0644 x)
    is "$r $(on_disk "$x/ro/new")" "EACCES absent" "$key: create in a mode 0555 directory: EACCES, nothing on disk"
    r=$(sys mkdir "$e/ro/newdir" 0755)
    is "$r $(on_disk "$x/ro/newdir")" "EACCES absent" "$key: mkdir in a mode 0555 directory: EACCES, nothing on disk"

    # 3. unlink and rmdir: the object's own mode does not matter, the
    # directory's does; never EIO.
    sys create "$e/f0444" 0644 x >/dev/null
    chmod 0444 "$e/f0444"
    r=$(sys unlink "$e/f0444")
    is "$r $(on_disk "$x/f0444")" "ok absent" "$key: unlink of a mode 0444 file"
    for m in 0555 0151; do
        sys mkdir "$e/d$m" "$m" >/dev/null
        chmod "$m" "$e/d$m"
        r=$(sys rmdir "$e/d$m")
        is "$r $(on_disk "$x/d$m")" "ok absent" "$key: rmdir of an empty mode $m directory"
    done
    r=$(sys unlink "$e/ro/keep")
    is "$r $(on_disk "$x/ro/keep")" "EACCES present" "$key: unlink in a mode 0555 directory: EACCES, the file stays"
    r=$(sys rmdir "$e/ro/keepdir")
    is "$r $(on_disk "$x/ro/keepdir")" "EACCES present" "$key: rmdir in a mode 0555 directory: EACCES, the directory stays"
    is "$(sys unlink "$e/nothing")/$(sys rmdir "$e/nothing")" "ENOENT/ENOENT" "$key: unlink and rmdir of a missing name: ENOENT"
    # An open file: unlink and rename go ahead (no sharing modes), the
    # descriptor reads on.  Not over SMB: libsmbclient opens without
    # FILE_SHARE_DELETE, so Samba refuses both while the file is open
    # (SHARING_VIOLATION: EBUSY) and the file stays as it was (docs/posix.md).
    local busy_want=("unlink=ok read=data name=ENOENT absent" "rename=ok read=data moved=data old=absent")
    [ -n "${SMB_KEY[$key]:-}" ] &&
        busy_want=("unlink=EBUSY read=data name=present present" "rename=EBUSY read=data moved=absent old=present")
    sys create "$e/busy" 0644 data >/dev/null
    r=$(sys unlink-open "$e/busy")
    is "$r $(on_disk "$x/busy")" "${busy_want[0]}" \
        "$key: unlink of an open file: $([ -n "${SMB_KEY[$key]:-}" ] && echo "EBUSY (SMB), the file stays" || echo "done, gone on disk after close"), the descriptor reads on"
    sys create "$e/busy2" 0644 data >/dev/null
    r=$(sys rename-open "$e/busy2" "$e/moved")
    is "$r moved=$(cat "$x/moved" 2>/dev/null || echo absent) old=$(on_disk "$x/busy2")" "${busy_want[1]}" \
        "$key: rename of an open file: $([ -n "${SMB_KEY[$key]:-}" ] && echo "EBUSY (SMB)" || echo done), the descriptor reads on"
    rm -f "$e/busy" "$e/busy2"
    chmod 0755 "$x/ro"
    chmod 0755 "$e/ro"

    # 4. Names: the longest the server takes (NAME_MAX: 255 bytes, 253 on
    # netatalk) works; one byte more is ENAMETOOLONG, never a half-made
    # object or another errno.
    local max=${NAMEMAX[$key]:-255} nmax nover
    nmax=$(printf 'n%.0s' $(seq "$max"))
    nover=${nmax}o
    is "$(sys create "$e/$nover" 0644 x)" ENAMETOOLONG "$key: open(O_CREAT) of a $((max + 1))-byte name: ENAMETOOLONG"
    is "$(sys mkdir "$e/$nover" 0755)" ENAMETOOLONG "$key: mkdir of a $((max + 1))-byte name: ENAMETOOLONG"
    # Looking a name up is the server's answer: on netatalk a 254-byte name
    # can exist (made on its disk), so it is ENOENT, not ours to refuse.
    local stat_want=ENAMETOOLONG
    [ "$max" -lt 255 ] && stat_want=ENOENT
    is "$(sys stat "$e/$nover")" "$stat_want" "$key: stat of a $((max + 1))-byte name: $stat_want"
    r=$(sys rename "$e/old" "$e/$nover")
    is "$r $(on_disk "$x/old")" "ENAMETOOLONG present" "$key: rename to a $((max + 1))-byte name: ENAMETOOLONG, the file stays"
    r=$(sys create "$e/$nmax" 0644 x)
    is "$r $(on_disk "$x/$nmax")" "ok present" "$key: create of a $max-byte name"
    is "$(sys stat "$e/$nmax") $(stat -c %s "$e/$nmax" 2>&1)" "ok 1" "$key: stat of a $max-byte name"
    is "$(ls "$e" | grep -cx "$nmax")" 1 "$key: readdir lists the $max-byte name"
    r=$(sys unlink "$e/$nmax")
    is "$r $(on_disk "$x/$nmax")" "ok absent" "$key: unlink of a $max-byte name"
    # A name made of decomposed UTF-8 (NFD, as macOS writes it): whatever
    # readdir lists opens and unlinks, and so does the name as created.
    local nfd listed
    nfd=nfd-$(printf 'e\xcc\x81te\xcc\x81')
    r=$(sys create "$e/$nfd" 0644 x)
    listed=$(ls "$e" | grep '^nfd-')
    r="$r listed=$(printf '%s\n' "$listed" | grep -c .) open(listed)=$(cat "$e/$listed" 2>&1) open(created)=$(cat "$e/$nfd" 2>&1)"
    is "$r unlink(listed)=$(sys unlink "$e/$listed")" "ok listed=1 open(listed)=x open(created)=x unlink(listed)=ok" \
        "$key: a decomposed (NFD) name: the listed name and the created one both open, the listed one unlinks"

    # 5. Paths longer than PATH_MAX inside the key, each system call given
    # a short relative path: no limit of ours, and the server's own is
    # ENAMETOOLONG with nothing half-made (no lab server holds a file much
    # past 4 KiB).  Just past PATH_MAX: 20 levels of 203-byte names (about
    # 4100 bytes), which the servers of DEEP_OK make; a file at the bottom
    # of what was made.  Far past: 25 levels of 200 bytes (5025 bytes).
    local deep=$e/deep xdeep=$x/deep levels want made half=1
    [ -n "${HALF_MADE[$key]:-}" ] && half=0   # the refused folder stays on the server
    mkdir "$deep"
    r=$(sys deep-mkdir "$deep" 20 203)
    levels=$(sys deep-levels "$xdeep" 20 203)
    if [ -z "${DEEP_OK[$key]:-}" ] && [[ $r =~ ^mkdir([0-9]+):ENAMETOOLONG$ ]]; then
        want="$r levels on disk: $((BASH_REMATCH[1] - half))"
    else
        want="ok levels on disk: 20"
    fi
    is "$r levels on disk: $levels" "$want" \
        "$key: 20 nested directories of 203-byte names ($(( ${#deep} - ${#mnt} - ${#key} - 2 + 20 * 204 )) bytes inside the key)"
    levels=20   # the file goes to the bottom of what mkdir said it made
    [[ $r =~ ^mkdir([0-9]+): ]] && levels=$((BASH_REMATCH[1] - 1))
    r=$(sys deep-file "$deep" "$levels" 203)
    made=$(sys deep-read "$xdeep" "$levels" 203)
    if [[ $r =~ ^create=ENAMETOOLONG ]]; then
        want="create=ENAMETOOLONG on disk: ENOENT"
        is "${r%% read=*} on disk: $made" "$want" "$key: a file $levels levels deep: made, or ENAMETOOLONG and nothing on disk"
        want="read=ENAMETOOLONG stat=ENAMETOOLONG list=(L20x+)?"   # the server cannot resolve that path at all
    else
        is "${r%% read=*} on disk: $made" "create=ok on disk: deep" "$key: a file $levels levels deep: made, or ENAMETOOLONG and nothing on disk"
        want="read=deep stat=4 list=(L20x+,)?f"
    fi
    is "$(sed 's/.* read=/read=/; s/list=.*/list=/' <<<"$r")" "${want%list=*}list=" "$key: read and stat it there"
    # (a directory left half-made below is listed too: the mkdir check says so)
    like "$r" " list=${want#*list=}$" "$key: list the deep directory"
    r=$(sys deep-unlink "$deep" "$levels" 203)
    if [ "$made" = deep ]; then want="ok ENOENT"; else want="ENAMETOOLONG ENOENT"; fi
    is "$r $(sys deep-read "$xdeep" "$levels" 203)" "$want" "$key: unlink it there (gone on disk)"
    mkdir "$e/deeper"
    r=$(sys deep-mkdir "$e/deeper" 25 200)
    levels=$(sys deep-levels "$x/deeper" 25 200)
    want="mkdirN:ENAMETOOLONG levels on disk: N-1"
    [[ $r =~ ^mkdir([0-9]+):ENAMETOOLONG$ ]] &&
        want="$r levels on disk: $((BASH_REMATCH[1] - half))"
    [ "$r" = ok ] && want="ok levels on disk: 25"
    is "$r levels on disk: $levels" "$want" \
        "$key: 25 levels of 200-byte names (5025 bytes): made, or ENAMETOOLONG at the server's limit and nothing half-made"
    rm -rf "$deep" "$e/deeper" 2>/dev/null

    # 6. statfs.
    is "$(stat -f -c %l "$e" 2>&1)" "$max" "$key: statfs f_namemax"
    r=$(stat -f -c %S "$e" 2>&1)
    [ "$r" -ge 512 ] 2>/dev/null && pass "$key: statfs block size $r >= 512" || fail "$key: statfs block size >= 512 (got '$r')"
    local mine theirs
    mine=$(( $(stat -f -c '%b*%S' "$e" 2>/dev/null || echo 0) ))
    theirs=$(( $(stat -f -c '%b*%S' "$share_disk") ))
    if [ "$mine" -ge $((theirs - theirs / 10)) ] && [ "$mine" -le $((theirs + theirs / 10)) ]; then
        pass "$key: statfs total size $mine within 10% of the server's filesystem ($theirs)"
    else
        fail "$key: statfs total size $mine within 10% of the server's filesystem ($theirs)"
    fi
    is "$(getconf NAME_MAX "$e" 2>&1)" "$max" "$key: pathconf(_PC_NAME_MAX)"

    # 7. A size no filesystem here can hold: EFBIG (ext4) or EINVAL, not EIO
    # or ENOSPC; the file keeps its size.
    sys create "$e/huge" 0644 123456 >/dev/null
    r=$(sys truncate "$e/huge" 999999999999999)
    like "$r size=$(stat -c %s "$e/huge" 2>&1)/$(stat -c %s "$x/huge" 2>&1)" "^(EFBIG|EINVAL) size=6/6$" \
        "$key: truncate(2) to 999999999999999 bytes: EFBIG or EINVAL, size kept"
    r=$(sys ftruncate "$e/huge" 999999999999999)
    like "$r size=$(stat -c %s "$e/huge" 2>&1)/$(stat -c %s "$x/huge" 2>&1)" "^(EFBIG|EINVAL) size=6/6$" \
        "$key: ftruncate(2) to 999999999999999 bytes: EFBIG or EINVAL, size kept"

    # 8. Times: nothing changes on its own, a whole second set is read back
    # exactly.  Each first stat is asked of the server (past the attribute
    # cache's second); the share's root is watched on the server's disk as
    # well: another client of the lab writing there changes it for real,
    # and the measurement is then made again (at most three times).
    local p s1 s2 d1 d2 try
    for try in 1 2 3; do
        s1=() s2=()
        d1=$(stat -c '%.9X %.9Y %.9Z' "$share_disk")
        sleep 1.1
        for p in "$e/old" "$e" "$mnt/$key" "$mnt"; do s1+=("$(stat -c '%.9X %.9Y %.9Z' "$p" 2>&1)"); done
        sleep 1.5
        for p in "$e/old" "$e" "$mnt/$key" "$mnt"; do s2+=("$(stat -c '%.9X %.9Y %.9Z' "$p" 2>&1)"); done
        d2=$(stat -c '%.9X %.9Y %.9Z' "$share_disk")
        [ "$d1" = "$d2" ] && break
        diag "$key: the share's root changed on the server's disk meanwhile ('$d1', then '$d2'): once more"
    done
    is "${s2[0]}" "${s1[0]}" "$key: a file's atime, mtime and ctime do not change between two stats"
    is "${s2[1]}" "${s1[1]}" "$key: a directory's times do not change between two stats"
    is "${s2[2]}" "${s1[2]}" "$key: the key directory's times do not change between two stats"
    is "${s2[3]}" "${s1[3]}" "$key: the mount root's times do not change between two stats"
    touch -d '2019-05-06 07:08:09 UTC' "$e/old"
    is "$(stat -c '%.9X %.9Y' "$e/old" 2>&1)" "1557126489.000000000 1557126489.000000000" \
        "$key: utimens with whole seconds reads back exactly (atime, mtime)"
    is "$(stat -c '%.9Y' "$x/old" 2>&1)" "1557126489.000000000" "$key: the server stores that mtime"
    # Sub-second times: said, not checked (docs/posix.md).
    touch -d '2019-05-06 07:08:09.123456789 UTC' "$e/old"
    r=$(stat -c '%.9Y' "$e/old" 2>&1)
    sleep 1.1
    diag "$key: mtime 1557126489.123456789 set; read back $r, a second later $(stat -c '%.9Y' "$e/old" 2>&1), on disk $(stat -c '%.9Y' "$x/old" 2>&1)"

    # Whatever the checks left, so the test tree can go: through the mount,
    # then as root on the server's disk (said when needed).
    chmod -R u+rwX "$x" 2>/dev/null
    rm -rf "$e" 2>/dev/null
    if [ -e "$x" ]; then
        diag "$key: left on the server's disk after rm -rf through the mount: $(cd "$x" && find . -mindepth 1 | cut -c1-60 | head -5 | tr '\n' ' ')"
        rm -rf "$x"
    fi
}

# The local tree the round trip starts from.
if [ "$HEAVY" = 1 ]; then
    mkdir -p "$tmp/tree"
    for d in $(seq 0 9); do
        mkdir -p "$tmp/tree/d$d"
        for f in $(seq 0 99); do head -c $(( (d * 100 + f) * 37 % 4000 + 1 )) /dev/urandom >"$tmp/tree/d$d/f$f"; done
    done
    head -c 256M /dev/urandom >"$tmp/big256"
fi

for key in "${KEYS[@]}"; do
    d=$mnt/$key/posix-$$
    rm -rf "$d" 2>/dev/null
    mkdir "$d" && pass "$key: mkdir" || fail "$key: mkdir"
    echo hello >"$d/a.txt"
    is "$(cat "$d/a.txt")" hello "$key: create, write, read back"
    echo world >>"$d/a.txt"
    is "$(cat "$d/a.txt" | tr '\n' ' ')" "hello world " "$key: append"
    echo short >"$d/a.txt"
    is "$(cat "$d/a.txt")" short "$key: overwrite truncates"
    is "$(stat -c %s "$d/a.txt")" 6 "$key: stat size"
    like "$(ls "$d")" "a.txt" "$key: readdir lists the file"
    mv "$d/a.txt" "$d/b.txt"
    is "$(cat "$d/b.txt" 2>&1)$(ls "$d")" "shortb.txt" "$key: rename within a directory"
    mkdir "$d/sub"
    mv "$d/b.txt" "$d/sub/c.txt"
    is "$(cat "$d/sub/c.txt")" short "$key: rename across directories"
    echo old >"$d/old.txt"
    echo new >"$d/new.txt"
    mv "$d/new.txt" "$d/old.txt"
    is "$(cat "$d/old.txt")$(ls "$d" | tr '\n' ' ')" "newold.txt sub " "$key: rename over an existing file replaces it"
    truncate -s 10000 "$d/old.txt"
    is "$(stat -c %s "$d/old.txt")" 10000 "$key: truncate grows"
    is "$(head -c 4 "$d/old.txt")$(tail -c 3 "$d/old.txt" | od -An -tx1 | tr -d ' ')" "new000000" \
        "$key: the grown part reads as zeros"
    truncate -s 2 "$d/old.txt"
    is "$(cat "$d/old.txt")" ne "$key: truncate shrinks"
    touch -d '2021-02-03 04:05:06 UTC' "$d/old.txt"
    is "$(stat -c %Y "$d/old.txt")" 1612325106 "$key: utimens sets the modification time"
    rm "$d/old.txt"
    is "$(ls "$d")" sub "$key: unlink"
    like "$(cat "$d/nope" 2>&1)" "No such file or directory" "$key: ENOENT"
    like "$(mkdir "$d/sub" 2>&1)" "File exists" "$key: EEXIST (mkdir)"
    like "$(errno_of "open(F, '>', '$d/sub') or print \$!")" "Is a directory" "$key: EISDIR (open a directory for writing)"
    like "$(errno_of "mkdir('$d/sub/c.txt/x') or print \$!")" "Not a directory" "$key: ENOTDIR"
    like "$(rmdir "$d/sub" 2>&1)" "Directory not empty" "$key: ENOTEMPTY"
    like "$(errno_of "rmdir('$d/sub/c.txt') or print \$!")" "Not a directory" "$key: rmdir of a file: ENOTDIR"
    like "$(errno_of "unlink('$d/sub') or print \$!")" "Is a directory|Operation not permitted" "$key: unlink of a directory fails"
    other=$([ "$key" = Smb ] && echo AfpLion || echo Smb)
    like "$(errno_of "rename('$d/sub/c.txt', '$mnt/$other/x') or print \$!")" "Invalid cross-device link" \
        "$key: rename to another key: EXDEV"
    rm "$d/sub/c.txt"
    rmdir "$d/sub"
    is "$(ls -A "$d")" "" "$key: rmdir"

    # Random I/O against a local reference file.
    ref=$tmp/ref.$key
    : >"$ref"
    : >"$d/rand.bin"
    perl -e '
        use Fcntl;
        my ($a, $b) = @ARGV;
        sysopen(A, $a, O_RDWR) or die "$a: $!"; sysopen(B, $b, O_RDWR) or die "$b: $!";
        srand(7);
        for my $i (1 .. 400) {
            my $off = int(rand(2 * 1024 * 1024)); my $len = 1 + int(rand(200000));
            if ($i % 37 == 0) { my $t = int(rand(2 * 1024 * 1024)); truncate(A, $t) or die; truncate(B, $t) or die; next }
            my $buf = join("", map { chr(int(rand(256))) } 1 .. 64) x int($len / 64 + 1); $buf = substr($buf, 0, $len);
            for my $fh (\*A, \*B) { sysseek($fh, $off, 0) or die; my $w = syswrite($fh, $buf); die "short write" unless $w == $len }
            if ($i % 11 == 0) {
                my $ro = int(rand(2 * 1024 * 1024)); my ($x, $y) = ("", "");
                sysseek(A, $ro, 0); sysread(A, $x, 100000); sysseek(B, $ro, 0); sysread(B, $y, 100000);
                die "read mismatch at $ro" unless $x eq $y;
            }
        }' "$ref" "$d/rand.bin" 2>"$tmp/perl.err"
    is "$?" 0 "$key: 400 random writes, reads and truncates ran $(cat "$tmp/perl.err")"
    if cmp -s "$ref" "$d/rand.bin"; then pass "$key: random I/O result equals the local reference"; \
        else fail "$key: random I/O result equals the local reference"; fi
    rm "$d/rand.bin"

    # Round trip: 1000 small files and a 256 MiB file, there and back.
    if [ "$HEAVY" = 1 ]; then
        cp -r "$tmp/tree" "$d/tree" && cp "$tmp/big256" "$d/big256"
        is "$?" 0 "$key: copy 1000 small files and 256 MiB onto the mount"
        is "$(find "$d/tree" -type f | wc -l)" 1000 "$key: 1000 files arrived"
        rm -rf "$tmp/back"
        mkdir "$tmp/back"
        cp -r "$d/tree" "$tmp/back/tree" && cp "$d/big256" "$tmp/back/big256"
        is "$?" 0 "$key: copy them back"
        if diff -r "$tmp/tree" "$tmp/back/tree" >/dev/null; then pass "$key: the tree round-trips byte for byte"; \
            else fail "$key: the tree round-trips byte for byte"; fi
        if cmp -s "$tmp/big256" "$tmp/back/big256"; then pass "$key: the 256 MiB file round-trips byte for byte"; \
            else fail "$key: the 256 MiB file round-trips byte for byte"; fi
        # One read-only handle, O_DIRECT so every read reaches sharesfs: runs
        # across read-ahead windows, jumps back and forward, odd sizes, the end.
        perl -e '
            use Fcntl;
            my ($a, $b) = @ARGV;
            sysopen(A, $a, O_RDONLY | O_DIRECT) or die "$a: $!"; sysopen(B, $b, O_RDONLY) or die "$b: $!";
            my $size = -s $b; srand(11);
            my @steps = ([0, 3 << 20, 131072], [1 << 20, 9 << 20, 262144], [100, 5 << 20, 77777],
                         [200 << 20, 20 << 20, 1 << 20], [($size - (3 << 20)), 4 << 20, 99999], [7, 1 << 20, 4096]);
            push @steps, [int(rand($size)), 1 + int(rand(3 << 20)), 1 + int(rand(300000))] for 1 .. 40;
            for my $s (@steps) {
                my ($off, $len, $chunk) = @$s;
                for (my $p = $off; $p < $off + $len; $p += $chunk) {
                    my ($x, $y) = ("", "");
                    sysseek(A, $p, 0); my $n = sysread(A, $x, $chunk); die "read at $p: $!" unless defined $n;
                    sysseek(B, $p, 0); sysread(B, $y, $chunk);
                    die "mismatch at $p (+$chunk)" unless $x eq $y;
                    last if $n < $chunk;
                }
            }' "$d/big256" "$tmp/big256" 2>"$tmp/perl.err"
        is "$?" 0 "$key: a read-only handle: sequential runs, jumps and the end read right $(cat "$tmp/perl.err")"
        # Seven files read at once: more than the SMB worker's shared windows
        # hold (four files' worth), so some windows go through its scratch area.
        for i in 1 2 3 4 5 6 7; do head -c $((3 * 1024 * 1024 + i * 4099)) "$tmp/big256" >"$tmp/conc$i"; cp "$tmp/conc$i" "$d/conc$i"; done
        readers=()
        for i in 1 2 3 4 5 6 7; do (sha256sum <"$d/conc$i" >"$tmp/conc$i.got") & readers+=($!); done
        wait "${readers[@]}"   # not sharesfs, which runs in the background too
        bad=0
        for i in 1 2 3 4 5 6 7; do [ "$(cut -d' ' -f1 "$tmp/conc$i.got")" = "$(sha256sum <"$tmp/conc$i" | cut -d' ' -f1)" ] || bad=$((bad + 1)); done
        is "$bad" 0 "$key: seven files read at once all read right"
    fi

    edge_checks "$key" "$d" "${DISK[$key]}" "${DISK[$key]}/posix-$$"
    rm -rf "$d"
    [ ! -e "$d" ] && pass "$key: rm -r of the whole test tree" || fail "$key: rm -r of the whole test tree"
    rm -rf "$tmp/back"
done
fusermount3 -u "$mnt"
# Bounded: a sharesfs that hangs on its way out fails here, not at meson's timeout.
t0=$SECONDS
for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
    fail "sharesfs exits cleanly"
    diag "still running 60 s after the unmount; its threads wait in: $(for t in /proc/"$pid"/task/*/wchan; do cat "$t"; echo; done 2>/dev/null | sort | uniq -c | tr -s ' \n' ' ')"
    diag "(threads in fuse_dev_do_read: the kernel kept the connection, as when a mount namespace made meanwhile holds a copy of the mount)"
    kill -9 "$pid"
    wait "$pid" 2>/dev/null
else
    wait "$pid"
    is "$?" 0 "sharesfs exits cleanly"
    [ $((SECONDS - t0)) -lt 5 ] || diag "sharesfs took $((SECONDS - t0)) s to exit after the unmount"
fi
is "$((_tap_n + 1))" "$PLANNED" "ran the planned number of checks ($PER_KEY per key)"
done_testing
