#!/bin/bash
# The Debian package (debian/, issue 13 item 7): contrib/package/build-deb.sh
# builds it from a clean copy of this tree with dpkg-buildpackage; lintian
# finds no error and no warning; the package, unpacked into a throwaway
# root (dpkg-deb -x; nothing is installed on this machine), holds runnable
# sharesfs and afptest, their man pages, the systemd units (checked with
# systemd-analyze verify) and the configuration, and no test program; the
# afpsim package holds afpsim, its man page and every personality.
# build-deb.sh --key follows the tree; the .deb is kept under it for
# ansible_fleet, which runs next (lib.sh, deb_cache_*).
# Needs no lab, no root and no network; about a minute on 2 cores, most of
# it the compile.  Needs debhelper, dpkg-dev, fakeroot, lintian and the
# Build-Depends (contrib/setup/install-deps.sh).
. "$(dirname "$0")/lib.sh"

for tool in dpkg-buildpackage dh fakeroot lintian dpkg-deb git; do
    command -v "$tool" >/dev/null || bail "$tool missing: run contrib/setup/install-deps.sh"
done

WORK=$(mktemp -d /tmp/sfs-debtest.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
OUT=$WORK/out
ROOT=$WORK/root

version=$(dpkg-parsechangelog -l "$SFS_SRC/debian/changelog" -S Version)
meson_version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$SFS_SRC/meson.build" | head -n1)
is "$version" "$meson_version" "debian/changelog's version is meson.build's ($meson_version)"

# Every Build-Depends of debian/control is installed by install-deps.sh.
deps=$(sed -n '/^Build-Depends:/,/^[A-Z]/p' "$SFS_SRC/debian/control" | sed '1s/^Build-Depends://; /^[A-Z]/d' \
       | tr ',' '\n' | sed 's/[[(<].*//; s/^ *//; s/ *$//; s/^debhelper-compat$/debhelper/' | grep . | sort -u)
listed=$(sed -n 's/^[A-Z_]*PKGS="\(.*\)/\1/p; /^  [a-z]/p' "$SFS_SRC/contrib/setup/install-deps.sh" | tr -d '"' | tr ' ' '\n')
unlisted=""
for d in $deps; do printf '%s\n' "$listed" | grep -qx -- "$d" || unlisted="$unlisted $d"; done
is "$unlisted" "" "contrib/setup/install-deps.sh installs every Build-Depends ($(echo $deps))"

# --- build-deb.sh --key (the .deb kept for ansible_fleet is found by it) ---
key=$(deb_tree_key) || key=""   # before the build: the tree it starts from
like "$key" '^[0-9a-f]{32}$' "build-deb.sh --key prints a key"
is "$(deb_tree_key)" "$key" "the same tree gives the same key"
# In a small git tree of its own: a changed file, mode or new file changes it.
k=$WORK/keytree
mkdir -p "$k/contrib/package" "$k/debian"
cp "$SFS_SRC/contrib/package/build-deb.sh" "$k/contrib/package/"
cp "$SFS_SRC/debian/changelog" "$k/debian/"
echo one >"$k/file"
git -C "$k" init -q && git -C "$k" add -A && git -C "$k" -c user.name=t -c user.email=t@t commit -qm t
k0=$("$k/contrib/package/build-deb.sh" --key)
echo two >"$k/file"; k1=$("$k/contrib/package/build-deb.sh" --key)
chmod +x "$k/file"; k2=$("$k/contrib/package/build-deb.sh" --key)
echo new >"$k/new"; k3=$("$k/contrib/package/build-deb.sh" --key)
rm "$k/new"; chmod -x "$k/file"; echo one >"$k/file"; k4=$("$k/contrib/package/build-deb.sh" --key)
is "$(printf '%s\n' "$k0" "$k1" "$k2" "$k3" | sort -u | wc -l)/$k4" "4/$k0" \
    "the key changes with a file's contents, its mode and a new file, and comes back with the tree"

# --- build ---
t0=$(date +%s.%N)
if "$SFS_SRC/contrib/package/build-deb.sh" --no-lintian "$OUT" > "$WORK/build-deb.out" 2>&1; then
    t1=$(date +%s.%N)
    pass "dpkg-buildpackage -b builds the packages from a clean copy of the tree"
    diag "package build: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s on $(nproc) cores"
    # For ansible_fleet (lib.sh, deb_cache_*); the checks below judge it.
    deb_cache_store "$key" "$OUT" && diag "kept in $DEB_CACHE/$key" || diag "not kept for ansible_fleet"
else
    fail "dpkg-buildpackage -b builds the packages from a clean copy of the tree"
    sed 's/^/# /' "$WORK/build-deb.out"
    bail "no package to check"
fi
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
DEB=$OUT/sharesfs_${version}_${arch}.deb
CHANGES=$OUT/sharesfs_${version}_${arch}.changes
[ -f "$DEB" ] && [ -f "$CHANGES" ] || bail "no $DEB or $CHANGES"

# --- lintian ---
lintian --fail-on none "$CHANGES" > "$WORK/lintian.out" 2> "$WORK/lintian.err"
n_err=$(grep -c '^E:' "$WORK/lintian.out")
n_warn=$(grep -c '^W:' "$WORK/lintian.out")
is "$n_err" 0 "lintian: no errors"
is "$n_warn" 0 "lintian: no warnings"
grep '^[EW]:' "$WORK/lintian.out" | sed 's/^/# /'
# lintian's own failures (it says "running with root privileges" as root).
if grep -v 'running with root privileges' "$WORK/lintian.err" | grep -q .; then
    fail "lintian ran without errors of its own"
    sed 's/^/# /' "$WORK/lintian.err"
else
    pass "lintian ran without errors of its own"
fi

# --- metadata ---
is "$(dpkg-deb -f "$DEB" Version)" "$version" "package version $version"
like "$(dpkg-deb -f "$DEB" Depends)" '(^|, )fuse3(,|$)' "depends on fuse3 (fusermount3, mount.fuse3)"
like "$(dpkg-deb -f "$DEB" Depends)" 'libfuse3-3.*libsmbclient|libsmbclient.*libfuse3-3' "shlibs: libfuse3-3 and libsmbclient"
# libldap is dlopened (fs/directory/dir_ldap_lib.c); the package still
# depends on it through liblber, which the same Debian package ships.
like "$(dpkg-deb -f "$DEB" Depends)" '(^|, )(libldap-2\.5-0|libldap2)( |,|$)' "depends on libldap's package (liblber is linked)"
conffiles=$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./conffiles 2>/dev/null | sort | tr '\n' ' ')
is "$conffiles" "/etc/default/sharesfs /etc/sharesfs/sharesfs.conf " "conffiles: /etc/default/sharesfs, /etc/sharesfs/sharesfs.conf"
contents=$(dpkg-deb -c "$DEB" | awk '{ print $NF }')
stray=$(printf '%s\n' "$contents" | grep -E '/(test_[^/]*|afpsim[^/]*|[^/]*fuzz[^/]*)$|/usr/local/|\.a$|/include/' || true)
is "$stray" "" "no test program, afpsim, static library, header or /usr/local file"

# --- the afpsim package ---
ADEB=$OUT/afpsim_${version}_${arch}.deb
if [ -f "$ADEB" ]; then pass "afpsim package built"; else fail "afpsim package built"; fi
acontents=$(dpkg-deb -c "$ADEB" | awk '{ print $NF }')
is "$(printf '%s\n' "$acontents" | grep -E '/usr/bin/.' | tr '\n' ' ')" "./usr/bin/afpsim " "afpsim package: /usr/bin/afpsim only"
is "$(printf '%s\n' "$acontents" | grep -E 'krb-client|selftest|/test_|/tools/' || true)" "" "afpsim package: no test tool"
want=$(cd "$SFS_SRC/contrib/afpsim/personalities" && ls -1 ./*.conf | sed 's,^\./,,' | sort | tr '\n' ' ')
got=$(printf '%s\n' "$acontents" | sed -n 's,^\./usr/share/afpsim/personalities/,,p' | grep . | sort | tr '\n' ' ')
is "$got" "$want" "afpsim package: every personality in /usr/share/afpsim/personalities"

# --- unpacked into a throwaway root ---
mkdir -p "$ROOT"
dpkg-deb -x "$DEB" "$ROOT" || bail "dpkg-deb -x failed"
dpkg-deb -x "$ADEB" "$ROOT" || bail "dpkg-deb -x failed"
for b in sharesfs afptest; do
    if [ -x "$ROOT/usr/bin/$b" ]; then pass "/usr/bin/$b"; else fail "/usr/bin/$b"; fi
    missing=$(ldd "$ROOT/usr/bin/$b" 2>&1 | grep 'not found' || true)
    is "$missing" "" "$b: every shared library found"
done
out=$("$ROOT/usr/bin/sharesfs" --version 2>&1); rc=$?
is "$rc:$out" "0:sharesfs $version" "sharesfs --version"
out=$("$ROOT/usr/bin/sharesfs" --help 2>&1); rc=$?
is "$rc" 0 "sharesfs --help exits 0"
like "$out" '^usage: sharesfs \[options\] MAP MOUNTPOINT' "sharesfs --help prints the usage"
like "$out" '--idle-timeout SECS, -o idle_timeout=SECS' "sharesfs --help lists the options"
out=$("$ROOT/usr/bin/afptest" --version 2>&1); rc=$?
is "$rc:$out" "0:afptest $version" "afptest --version"
out=$("$ROOT/usr/bin/afptest" --help 2>&1); rc=$?
is "$rc" 0 "afptest --help exits 0"
like "$out" '^usage: afptest probe \[options\] MAP\|URL' "afptest --help prints the usage"

# The packaged configuration loads (an error in it would be exit status 2
# with file:line:column before any map is read).
out=$("$ROOT/usr/bin/afptest" -c "$ROOT/etc/sharesfs/sharesfs.conf" probe "$WORK/no-such-map" 2>&1); rc=$?
like "$rc:$out" "^2:.*no-such-map.*cannot read map file" "the packaged sharesfs.conf loads"

out=$("$ROOT/usr/bin/afpsim" --help 2>&1); rc=$?
like "$rc:$out" '^0:usage: afpsim --listen' "afpsim --help"
bad=""
for p in "$ROOT"/usr/share/afpsim/personalities/*.conf; do
    "$ROOT/usr/bin/afpsim" --check --personality "$p" > /dev/null 2>&1 || bad="$bad ${p##*/}"
done
is "$bad" "" "afpsim --check loads every packaged personality"
missing=$(ldd "$ROOT/usr/bin/afpsim" 2>&1 | grep 'not found' || true)
is "$missing" "" "afpsim: every shared library found"

# --- man pages ---
for m in sharesfs afptest afpsim; do
    page=$ROOT/usr/share/man/man1/$m.1.gz
    if [ -f "$page" ]; then pass "man page $m(1)"; else fail "man page $m(1)"; continue; fi
    warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)
    is "$warnings" "" "$m(1) renders without groff warnings"
    like "$(MANWIDTH=80 man -l "$page" 2>/dev/null | sed -n '1,8p' | tr -s ' \n' ' ')" "NAME $m - " "$m(1) has its NAME line"
done
# Every option of --help is in the man page.
for m in sharesfs afptest afpsim; do
    text=$(MANWIDTH=200 man -l "$ROOT/usr/share/man/man1/$m.1.gz" 2>/dev/null | sed 's/‐/-/g')
    absent=""
    for o in $("$ROOT/usr/bin/$m" --help 2>&1 | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
        printf '%s' "$text" | grep -q -- "$o" || absent="$absent $o"
    done
    is "$absent" "" "$m(1) documents every long option of $m --help"
done

# --- systemd units ---
UNITS=$ROOT/lib/systemd/system
for u in sharesfs@.service sharesfs-master.service; do
    if [ -f "$UNITS/$u" ]; then pass "unit $u"; else fail "unit $u"; continue; fi
    like "$(grep '^ExecStart=' "$UNITS/$u")" '^ExecStart=/usr/bin/sharesfs -f ' "$u runs /usr/bin/sharesfs -f"
    is "$(grep -c '/usr/local' "$UNITS/$u")" 0 "$u names nothing under /usr/local"
done
is "$(sed -n 's/^Type=//p' "$UNITS/sharesfs@.service")" simple "sharesfs@.service is Type=simple"
if command -v systemd-analyze >/dev/null; then
    # The units as they are, but with the unpacked sharesfs (systemd checks
    # that ExecStart's program exists) and its man page (Documentation=).
    mkdir "$WORK/units"
    for u in sharesfs@.service sharesfs-master.service; do
        sed "s,/usr/bin/sharesfs,$ROOT/usr/bin/sharesfs,g" "$UNITS/$u" > "$WORK/units/$u"
    done
    for u in sharesfs@Network-Shares.service sharesfs-master.service; do
        # Any message (an unknown key or value is only a warning) fails.
        out=$(cd "$WORK/units" && SYSTEMD_UNIT_PATH=$WORK/units: MANPATH=$ROOT/usr/share/man \
              systemd-analyze verify "$u" 2>&1); rc=$?
        is "$rc:$out" "0:" "systemd-analyze verify $u"
    done
else
    diag "systemd-analyze not installed: units not verified"
fi
# Maintainer scripts: nothing started, and nothing enabled at installation
# (dh_installsystemd --no-enable: a unit is enabled again on upgrade only
# when the administrator enabled it, under "debian-installed").
postinst=$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./postinst 2>/dev/null)
is "$(printf '%s\n' "$postinst" | grep -c 'deb-systemd-invoke')" 0 "postinst starts no unit"
unguarded=""
for u in $(printf '%s\n' "$postinst" | sed -n "s/.*deb-systemd-helper enable '\([^']*\)'.*/\1/p" | sort -u); do
    printf '%s\n' "$postinst" | grep -q "if deb-systemd-helper debian-installed '$u'" || unguarded="$unguarded $u"
done
is "$unguarded" "" "postinst enables no unit on a new installation"

done_testing
