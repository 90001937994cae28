#!/bin/bash
# Installs what building, the local lab and the tests need, and nothing when
# everything is already there.  Debian 12; needs root (or sudo).
set -euo pipefail

BUILD_PKGS="build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
  libfuse3-dev fuse3 libsmbclient-dev libkrb5-dev libglib2.0-dev libcmocka-dev libgcrypt20-dev
  libyaml-dev libldap-dev libsasl2-dev"
# Lab servers and clients (contrib/lab/PACKAGES lists the lab's own needs).
LAB_PKGS="samba smbclient winbind krb5-kdc krb5-user krb5-admin-server libnss-wrapper faketime
  iproute2 openssl"
TEST_PKGS="jq attr psmisc procps bc time libxml2-utils"
# gvfs's AFP client against afpsim (tests/integration/gvfs_afpsim.sh).
TEST_PKGS="$TEST_PKGS gvfs-backends gvfs-fuse dbus-daemon libglib2.0-bin"
# The Debian package (debian/, contrib/package/build-deb.sh,
# tests/integration/debian_package.sh); its Build-Depends are BUILD_PKGS.
TEST_PKGS="$TEST_PKGS debhelper dpkg-dev fakeroot lintian git man-db"
# The Ansible fleet (contrib/ansible/): the controller side.  The clients'
# openssh-server comes inside the fleet's own rootfs (fleet.sh), not here:
# no sshd on this machine.
TEST_PKGS="$TEST_PKGS ansible openssh-client mmdebstrap systemd-container"

HERE=$(cd "$(dirname "$0")/../.." && pwd)
extra=""
[ -f "$HERE/contrib/lab/PACKAGES" ] && extra=$(grep -v '^#' "$HERE/contrib/lab/PACKAGES" || true)

missing=()
for p in $BUILD_PKGS $LAB_PKGS $TEST_PKGS $extra; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all packages present"
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# slapd: no system directory.  Without this preseed Debian's postinst builds
# /etc/ldap/slapd.d for a made-up domain and starts slapd on *:389; the lab
# runs its own slapd, inside its namespace only (contrib/lab/ldap.sh).
if printf '%s\n' "${missing[@]}" | grep -qx slapd; then
    echo "slapd slapd/no_configuration boolean true" | $SUDO debconf-set-selections
fi
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
# Should a system slapd run all the same (a system configured before the
# preseed): stop it and keep it from starting at boot.  Servers of this
# project listen only inside the lab's namespaces or on 127.0.0.0/8.
if [ -d /etc/ldap/slapd.d ] || [ -f /etc/ldap/slapd.conf ]; then
    if pidof slapd >/dev/null 2>&1 && [ -x /etc/init.d/slapd ]; then
        echo "install-deps: stopping the system slapd (the lab runs its own)"
        $SUDO /etc/init.d/slapd stop || true
    fi
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        $SUDO systemctl disable --now slapd >/dev/null 2>&1 || true
    fi
fi
