# TAP helpers and the lab environment for integration tests.
# A test that cannot reach what it needs fails loudly: it never skips.

set -u
_tap_n=0
_tap_failed=0

# The plan is printed at the end (TAP allows it there), from the checks that
# actually ran; a script that dies early prints none, and fails.
plan() { :; }
pass() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
fail() { _tap_n=$((_tap_n + 1)); _tap_failed=$((_tap_failed + 1)); echo "not ok $_tap_n - $*"; }
# Every line of every argument gets its "# ": a tool's multi-line output
# (gio's password prompt, say) is otherwise read as unknown TAP.
diag() { local a l; for a in "$@"; do while IFS= read -r l; do printf '# %s\n' "$l"; done <<<"$a"; done; }
# is GOT WANT NAME
is() {
    if [ "$1" = "$2" ]; then pass "$3"; else fail "$3"; diag "got:  '$1'" "want: '$2'"; fi
}
# like GOT REGEX NAME
like() {
    if printf '%s' "$1" | grep -Eq -- "$2"; then pass "$3"; else fail "$3"; diag "got: '$1'" "want /$2/"; fi
}
bail() { echo "Bail out! $*"; exit 1; }
done_testing() { echo "1..$_tap_n"; [ "$_tap_failed" -eq 0 ]; }

: "${SFS_SRC:?SFS_SRC not set: run through meson test}"
: "${AFPTEST:?AFPTEST not set}"
: "${SHARESFS:?SHARESFS not set}"

LAB=$SFS_SRC/contrib/lab/lab.sh
MAPS=$SFS_SRC/contrib/maps

# Packages built by contrib/package/build-deb.sh, kept in the build
# directory under the key of the tree they were built from (build-deb.sh
# --key): debian_package stores what it builds, and ansible_fleet, after
# it in the same run, installs that .deb instead of building the same
# files again (about 40 s on 2 cores).  Only the latest key is kept.
DEB_CACHE=${SFS_BUILD:-$SFS_SRC/build}/tests/deb-cache
deb_tree_key() { "$SFS_SRC/contrib/package/build-deb.sh" --key; }
# deb_cache_store KEY DIR: DIR's .deb files, built from the tree of KEY.
deb_cache_store() {
    [ -n "$1" ] || return 1
    rm -rf "$DEB_CACHE" && mkdir -p "$DEB_CACHE/$1" && cp "$2"/*.deb "$DEB_CACHE/$1/"
}
# deb_cache_find NAME: the cached NAME_*.deb built from the tree as it is
# now; false when there is none.
deb_cache_find() {
    local key f
    key=$(deb_tree_key) || return 1
    for f in "$DEB_CACHE/$key/$1"_*.deb; do
        [ -f "$f" ] && { echo "$f"; return 0; }
    done
    return 1
}

# AFPSIM: the afpsim binary (SHARESFS_AFPSIM, else the build in the source
# tree); bails when there is none.
need_afpsim() {
    AFPSIM=${SHARESFS_AFPSIM:-$SFS_SRC/build/contrib/afpsim/afpsim}
    [ -x "$AFPSIM" ] || bail "afpsim not built at $AFPSIM"
}

# tcp_wait ADDR PORT: true once ADDR:PORT accepts a connection, false when
# it does not within 2 s.  ADDR must be numeric: bash's /dev/tcp resolves a
# name with the machine's resolver, not the lab's nss_wrapper hosts file,
# and the lab's names must never be asked outside this machine.
tcp_wait() {
    case $1 in *[!0-9a-fA-F.:]*) echo "tcp_wait: '$1' is not a numeric address" >&2; return 1 ;; esac
    local _
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
        sleep 0.01
    done
    return 1
}

# Joins the running lab (name resolution through nss_wrapper).
lab_join() {
    [ "$(id -u)" -eq 0 ] || bail "integration tests need root (network namespaces, FUSE)"
    local env
    env=$("$LAB" env 2>&1) || bail "lab not available: $env"
    eval "$env"
    [ -f "${SHARESFS_LAB_DIR:-/nonexistent}/env" ] || bail "lab not started: run contrib/lab/lab.sh start"
    getent hosts fs-default.lab.test >/dev/null || bail "fs-default.lab.test does not resolve: is the lab running?"
    # ASan must come first among preloaded libraries; it is linked in, so
    # only nss_wrapper is preloaded and the link-order check is off.
}
