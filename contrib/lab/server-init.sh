#!/bin/bash
# The entry point of a server container (pid 2 under systemd-nspawn's stub
# init), for contrib/lab/realservers.sh and contrib/matrix/container.sh
# alike: installed as /lab/init.sh.  It adds the users of
# /lab/private/users (NAME:UID:PASSWORD lines, written 0600 by the starting
# script at each start, deleted here once read) to the container's /etc
# (the overlay, never the cached rootfs) and, for Samba, to its tdbsam;
# then execs the server in the foreground.
#   SERVER_KIND  samba | netatalk
#   SERVER_CONF  the server's configuration file inside the container
#   AFPD_ONLY    1: afpd alone, without the netatalk supervisor
set -euo pipefail
: "${SERVER_KIND:?}" "${SERVER_CONF:?}"
# nspawn mounts an empty tmpfs on /run; netatalk locks /var/lock/netatalk (/var/lock -> /run/lock)
mkdir -p /run/lock
days=$(( $(date +%s) / 86400 ))
grep -qx /bin/bash /etc/shells || echo /bin/bash >>/etc/shells
while IFS=: read -r name uid pw; do
    [ -n "$name" ] || continue
    salt=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
    hash=$(printf '%s\n' "$pw" | perl -e 'my $p = <STDIN>; chomp $p; print crypt($p, "\$6\$" . $ARGV[0] . "\$")' "$salt")
    case $hash in '$6$'*) ;; *) echo "init: crypt() failed for $name" >&2; exit 1 ;; esac
    sed -i "/^$name:/d" /etc/passwd /etc/group /etc/shadow
    echo "$name:x:$uid:$uid::/nonexistent:/bin/bash" >>/etc/passwd
    echo "$name:x:$uid:" >>/etc/group
    echo "$name:$hash:$days:0:99999:7:::" >>/etc/shadow
    if [ "$SERVER_KIND" = samba ]; then
        printf '%s\n%s\n' "$pw" "$pw" | smbpasswd -c "$SERVER_CONF" -s -a "$name" >/dev/null
    fi
done </lab/private/users
rm -f /lab/private/users
[ -f /lab/etc/krb5.conf ] && export KRB5_CONFIG=/lab/etc/krb5.conf
case $SERVER_KIND in
    samba) exec /usr/sbin/smbd -F --no-process-group -s "$SERVER_CONF" -l /lab/log ;;
    netatalk)
        [ "${AFPD_ONLY:-0}" = 1 ] && exec /usr/sbin/afpd -d -F "$SERVER_CONF"
        exec /usr/sbin/netatalk -d -F "$SERVER_CONF" ;;
esac
echo "init: unknown SERVER_KIND '$SERVER_KIND'" >&2
exit 1
