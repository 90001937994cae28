#!/bin/bash
# The lab's real servers (Samba 4.13 and 4.22, netatalk 3.1.12 and 4.2.3,
# Debian's own packages in containers): the probe table of
# expected/real-servers.tsv for every version, with no ticket, a valid
# ticket and an expired one; then through a sharesfs mount, the mode,
# owner and times of what it creates, as each server stores them on its
# disk, Kerberos with an expired and a valid ticket, and the lab's 64 MiB
# file by checksum.
. "$(dirname "$0")/lib.sh"
lab_join
command -v jq >/dev/null || bail "jq not installed"
LABDIR=$SHARESFS_LAB_DIR
C=$LABDIR/creds
tmp=$(mktemp -d)
mnt=$tmp/mnt
mkdir "$mnt"
cleanup() { fusermount3 -u "$mnt" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
export KRB5CCNAME=FILE:$tmp/ccache

# A user the servers do not know, with a password.
printf 'username=nosuchuser\npassword=Whatever1!\n' >"$tmp/nouser.cred"
chmod 0600 "$tmp/nouser.cred"
# Cleartext is refused unless the config allows it, per entry.
for v in 31 42; do printf '[entry RealNt%sCleartext]\nallow_cleartext = true\n' "$v"; done >"$tmp/sharesfs.conf"

# One map per version pair: samba413 + netatalk31, samba422 + netatalk42.
write_map() {   # SMB AFP
    local s=$1 a=$2
    cat <<MAP
RealSmb${s}Guest	-fstype=url,guest	smb://samba$s.lab.test/public
RealSmb${s}User	-fstype=url,credentials=$C/labuser.cred	smb://samba$s.lab.test/user
RealSmb${s}WrongPass	-fstype=url,credentials=$C/wrong.cred	smb://samba$s.lab.test/user
RealSmb${s}Missing	-fstype=url,credentials=$C/labuser.cred	smb://samba$s.lab.test/nosuchshare
RealSmb${s}Smb1	-fstype=url,guest,vers=1.0	smb://samba$s.lab.test/public
RealSmb${s}GuestOnUser	-fstype=url,guest	smb://samba$s.lab.test/user
RealSmb${s}Krb	-fstype=url,sec=krb5	smb://samba$s.lab.test/user
RealNt${a}Guest	-fstype=url	afp://;AUTH=No%20User%20Authent@netatalk$a.lab.test/Public
RealNt${a}DHX2	-fstype=url,credentials=$C/labuser.cred	afp://labuser;AUTH=DHX2@netatalk$a.lab.test/Private
RealNt${a}DHCAST128	-fstype=url,credentials=$C/labuser.cred	afp://labuser;AUTH=DHCAST128@netatalk$a.lab.test/Private
RealNt${a}Cleartext	-fstype=url,credentials=$C/clruser.cred	afp://clruser;AUTH=Cleartxt%20Passwrd@netatalk$a.lab.test/Private
RealNt${a}WrongPass	-fstype=url,credentials=$C/wrong.cred	afp://labuser;AUTH=DHX2@netatalk$a.lab.test/Private
RealNt${a}NoUser	-fstype=url,credentials=$tmp/nouser.cred	afp://nosuchuser;AUTH=DHX2@netatalk$a.lab.test/Private
RealNt${a}NoUAM	-fstype=url,credentials=$C/labuser.cred	afp://labuser;AUTH=Recon1@netatalk$a.lab.test/Private
RealNt${a}Missing	-fstype=url	afp://;AUTH=No%20User%20Authent@netatalk$a.lab.test/NoSuchVolume
RealNt${a}GuestPrivate	-fstype=url	afp://;AUTH=No%20User%20Authent@netatalk$a.lab.test/Private
RealNt${a}Krb	-fstype=url	afp://labuser;AUTH=Client%20Krb%20v2@netatalk$a.lab.test/Private
MAP
}

probe_rows() {   # TICKET SMB AFP
    local ticket=$1 s=$2 a=$3 out key stage result status t only row want
    write_map "$s" "$a" >"$tmp/map.$s"
    out=$("$AFPTEST" probe --json -j 8 -t 8 --config "$tmp/sharesfs.conf" "$tmp/map.$s" 2>"$tmp/err")
    while IFS=$'\t' read -r key stage result status t only; do
        [ "${key:0:1}" = "#" ] && continue
        [ "$t" = "$ticket" ] || continue
        [ -z "$only" ] || [ "$only" = "$s" ] || [ "$only" = "$a" ] || continue
        key=${key/Smb413/Smb$s}
        key=${key/Nt31/Nt$a}
        row=$(jq -c --arg k "$key" '.entries[] | select(.key == $k)' <<<"$out")
        # netatalk 3.1.12 refuses one DHCAST128 login in 128 whatever the
        # password (it drops a leading zero byte of its own key: netatalk
        # issue #1465, fixed in 2024; no client can avoid it): once more.
        if [ "$key" = "RealNt${a}DHCAST128" ] && [ "$(jq -r '.result' <<<"$row")" != "$result" ]; then
            diag "$key: $(jq -r '.result' <<<"$row") once (netatalk #1465?), probed again"
            row=$("$AFPTEST" probe --json -t 8 -k "$key" "$tmp/map.$s" 2>/dev/null | jq -c '.entries[0]')
        fi
        is "$(jq -r '.stage' <<<"$row")/$(jq -r '.result' <<<"$row")/$(jq -r '.status.name // "-"' <<<"$row")" \
            "$stage/$result/$status" "$key ($ticket ticket): stage/result/status" || diag "$row"
        # What every version negotiates with us once past negotiate.
        if [ "$result" = ok ]; then
            case $key in
                *Smb1) want=NT1 ;;
                RealSmb*) want=SMB3_11 ;;
                *) want=AFP3.4 ;;
            esac
            is "$(jq -r '.server.dialect' <<<"$row")" "$want" \
                "$key: dialect negotiated"
        fi
    done <"$(dirname "$0")/expected/real-servers.tsv"
}

for pair in "413 31" "422 42"; do
    read -r s a <<<"$pair"
    rm -f "$tmp/ccache"
    probe_rows none "$s" "$a"
    "$LAB" kinit labuser "$KRB5CCNAME" >/dev/null || bail "kinit failed"
    probe_rows kinit "$s" "$a"
    "$LAB" kinit labuser "$KRB5CCNAME" -l 3s >/dev/null || bail "kinit -l 3s failed"
    sleep 4
    probe_rows expired "$s" "$a"
done

# What a mount creates, as the servers store it.  netatalk sets the asked
# mode (and adds setgid to directories); Samba without POSIX extensions
# keeps its create mask (0744) and directory mask (0755) whatever is asked.
cat >"$tmp/fuse.map" <<MAP
samba413	-fstype=url,credentials=$C/labuser.cred	smb://samba413.lab.test/user
samba422	-fstype=url,credentials=$C/labuser.cred	smb://samba422.lab.test/user
netatalk31	-fstype=url,credentials=$C/labuser.cred	afp://labuser;AUTH=DHX2@netatalk31.lab.test/Private
netatalk42	-fstype=url,credentials=$C/labuser.cred	afp://labuser;AUTH=DHX2@netatalk42.lab.test/Private
pub-samba413	-fstype=url,guest	smb://samba413.lab.test/public
pub-samba422	-fstype=url,guest	smb://samba422.lab.test/public
pub-netatalk31	-fstype=url	afp://;AUTH=No%20User%20Authent@netatalk31.lab.test/Public
pub-netatalk42	-fstype=url	afp://;AUTH=No%20User%20Authent@netatalk42.lab.test/Public
krb-samba413	-fstype=url,sec=krb5	smb://samba413.lab.test/user
krb-samba422	-fstype=url,sec=krb5	smb://samba422.lab.test/user
krb-netatalk31	-fstype=url	afp://labuser;AUTH=Client%20Krb%20v2@netatalk31.lab.test/Private
krb-netatalk42	-fstype=url	afp://labuser;AUTH=Client%20Krb%20v2@netatalk42.lab.test/Private
MAP
# No negative cache: the Kerberos keys fail first (expired ticket), then
# must log in at once with a fresh one.
"$SHARESFS" -f -t 10 -o negative_timeout=0 "$tmp/fuse.map" "$mnt" >"$tmp/log" 2>&1 &
for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.05; done
mountpoint -q "$mnt" || bail "sharesfs did not mount: $(cat "$tmp/log")"

# Kerberos through FUSE, with the ticket of the process that touches the
# key (its KRB5CCNAME): the probes' last ticket has expired by now.
for host in samba413 samba422 netatalk31 netatalk42; do
    like "$(ls "$mnt/krb-$host" 2>&1)" "Key has expired" "$host: Kerberos through FUSE with an expired ticket: EKEYEXPIRED"
done
"$LAB" kinit labuser "$KRB5CCNAME" >/dev/null || bail "kinit failed"
for host in samba413 samba422 netatalk31 netatalk42; do
    case $host in
        samba*) disk=$LABDIR/hosts/$host.lab.test/shares/user ;;
        *)      disk=$LABDIR/hosts/$host.lab.test/volumes/Private ;;
    esac
    f=krb-$$.txt
    echo "ticket $host" >"$mnt/krb-$host/$f"
    is "$(cat "$mnt/krb-$host/$f" 2>&1)/$(stat -c %U "$disk/$f" 2>&1)" "ticket $host/labuser" \
        "$host: Kerberos through FUSE with a valid ticket: write, read back, owned by labuser on the server"
    rm -f "$mnt/krb-$host/$f"
done

big_sum=$(cut -d' ' -f1 "$LABDIR/big.bin.sha256")
for host in samba413 samba422 netatalk31 netatalk42; do
    case $host in
        samba*) disk=$LABDIR/hosts/$host.lab.test/shares/user
                want="f644=744 f600=744 d755=755 d700=755" ;;
        *)      disk=$LABDIR/hosts/$host.lab.test/volumes/Private
                want="f644=644 f600=600 d755=2755 d700=2700" ;;
    esac
    d=$mnt/$host/modes-$$
    mkdir "$d" || { fail "$host: mkdir"; continue; }
    (cd "$d" && umask 022 && : >f644 && mkdir d755 && umask 077 && : >f600 && mkdir d700)
    for pair in $want; do
        name=${pair%=*}
        is "$(stat -c %a "$disk/modes-$$/$name" 2>&1)" "${pair#*=}" "$host: $name as the server stores it"
    done
    is "$(stat -c %U "$disk/modes-$$/f644" 2>&1)" labuser "$host: a new file belongs to the user who logged in"
    touch -d '2020-01-02 03:04:05' "$d/f644"
    is "$(stat -c %Y "$d/f644")/$(stat -c %Y "$disk/modes-$$/f644")" "1577934245/1577934245" \
        "$host: an explicit mtime, through the mount and on the server"
    before=$(date +%s)
    touch "$d/f600"
    m=$(stat -c %Y "$disk/modes-$$/f600")
    [ "$m" -ge $((before - 2)) ] && [ "$m" -le $(( $(date +%s) + 2 )) ] &&
        pass "$host: touch sets the time to now ($m)" || fail "$host: touch sets the time to now (stored $m, now $before)"
    is "$(stat -c %Y "$d/f600")" "$(stat -c %Y "$d/f600")" "$host: two stats agree"
    rm -rf "$d"
    is "$(sha256sum "$mnt/pub-$host/big.bin" | cut -d' ' -f1)" "$big_sum" "$host: 64 MiB big.bin through FUSE, by checksum"
done
done_testing
