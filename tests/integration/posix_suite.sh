#!/bin/bash
# POSIX behaviour through real sharesfs mounts, the same checks over SMB
# (fs-default, labuser) and AFP (lion and netatalk4 afpsim, DHX2): file and
# directory operations, the errors applications rely on, a random-I/O
# integrity run against a local reference file, and a tree of 1000 small
# files plus a 256 MiB file copied there and back byte for byte.
# POSIX_MOUNT_OPTS: extra sharesfs options (--direct-io), POSIX_KEYS: the
# keys to run (default the three above; RealSmb413, RealSmb422, RealNt31 and
# RealNt42 are the lab's real Samba and netatalk servers).
. "$(dirname "$0")/lib.sh"
lab_join
read -r -a KEYS <<<"${POSIX_KEYS:-Smb AfpLion AfpNetatalk}"
read -r -a MOUNT_OPTS <<<"${POSIX_MOUNT_OPTS:-}"
PER_KEY=32
plan $(( ${#KEYS[@]} * PER_KEY + 1 ))

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
MAP
"$SHARESFS" -f -t 10 "$mnt/../mnt" >/dev/null 2>&1 </dev/null &   # usage error: exits at once
"$SHARESFS" -f -t 10 "${MOUNT_OPTS[@]}" "$tmp/map" "$mnt" >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.05; done
mountpoint -q "$mnt" || bail "sharesfs did not mount: $(cat "$tmp/log")"

# errno_of CMD...: the strerror text perl's $! gives for a failed syscall.
errno_of() { perl -e "$1" 2>&1; }

# The local tree the round trip starts from.
mkdir -p "$tmp/tree"
for d in $(seq 0 9); do
    mkdir -p "$tmp/tree/d$d"
    for f in $(seq 0 99); do head -c $(( (d * 100 + f) * 37 % 4000 + 1 )) /dev/urandom >"$tmp/tree/d$d/f$f"; done
done
head -c 256M /dev/urandom >"$tmp/big256"

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
    rm -rf "$d"
    [ ! -e "$d" ] && pass "$key: rm -r of the whole test tree" || fail "$key: rm -r of the whole test tree"
    rm -rf "$tmp/back"
done
fusermount3 -u "$mnt"
wait "$pid"
is "$?" 0 "sharesfs exits cleanly"
done_testing
