# shellcheck shell=bash
# contrib/lab/rootfs-lib.sh: Debian root filesystems built by mmdebstrap from
# the machine's own Debian mirror, cached by suite, package set and the
# package versions the mirror offers now.  Sourced, never run, by
# contrib/lab/realservers.sh, contrib/lab/vm.sh, contrib/ansible/fleet.sh and
# contrib/matrix/container.sh.
#
#   . "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/rootfs-lib.sh"
#                                # sets ROOTFS_CACHE ($SHARESFS_LAB_CACHE, else
#                                # /var/cache/sharesfs-lab), ROOTFS_NODOCS
#   ROOTFS_DIR=$ROOTFS_CACHE/rootfs  # the cache: NAME-KEY/ (root/, manifest,
#                                # info, build.log), NAME -> NAME-KEY, .lock-NAME
#   APT_DIR=$ROOTFS_CACHE/apt    # private apt state per suite: SUITE@MIRRORHASH/
#                                # (lists, resolved-NAME), and the mirror memo
#   RECIPE=1                     # bump when the recipe changes: all rebuilt
#   PACKAGES=(samba netatalk)    # mmdebstrap --include, on top of the variant
#   DPKG_OPTS=("${ROOTFS_NODOCS[@]}")                     # mmdebstrap --dpkgopt
#   rootfs_ensure NAME [SUITE]   # build or reuse; SUITE defaults to NAME
#     -> ROOTFS (NAME-KEY/root), ROOTFS_ENTRY (NAME-KEY), KEY, MANIFEST
#        (sorted "package version" lines; empty in offline mode).  A new
#        build deletes NAME's older entries that no running process uses.
#
# Optional settings (default in brackets):
#   ROOTFS_VARIANT          mmdebstrap --variant [apt]
#   ROOTFS_MMDEBSTRAP_ARGS  more mmdebstrap options, e.g. a --customize-hook []
#   ROOTFS_INFO_PACKAGES    packages whose version is written to NAME-KEY/info []
#   ROOTFS_FRESH            seconds a mirror check of a suite is reused [0]
#   ROOTFS_OFFLINE          1: the current cached entry, mirror not asked
#                           [$SHARESFS_LAB_OFFLINE, else 0]
#   SHARESFS_LAB_MIRROR     the mirror [the machine's apt Debian archive]
# Hooks the caller may define, before or after sourcing (default in brackets):
#   rootfs_recipe SUITE     prints the text hashed into KEY [RECIPE, SUITE,
#                           PACKAGES, DPKG_OPTS, one a line]
#   rootfs_built DIR        true when DIR is a complete cache entry
#                           [DIR/manifest and DIR/root/usr/bin/dpkg]
#   rootfs_prepare TMP      before mmdebstrap; may add to ROOTFS_BUILD_ARGS []
#   rootfs_finish TMP       after it, TMP/root, TMP/manifest, TMP/info done []
# Helpers the library defines unless the caller has (the caller's win):
#   say MSG, warn MSG ("PROG: MSG" on stderr), die MSG ("PROG: error: MSG",
#   exit 1), now_ms, usage (the script's header comment, exit 2),
#   need_tool TOOL... (dies naming $NEED_PACKAGES to install [mmdebstrap]).
# The pieces, for a caller with keys of its own (container.sh):
#   rootfs_lock NAME / rootfs_unlock, rootfs_offline NAME, rootfs_mirror_url,
#   rootfs_resolve NAME SUITE MIRROR, rootfs_build NAME SUITE DEST SOURCE...,
#   rootfs_link NAME NAME-KEY, rootfs_prune NAME, rootfs_remove_tree DIR.
# Works with or without set -e; uses fd 8 (the lock) and, during a build, the
# EXIT trap (removes the half-made tree).  Needs root, apt-get, flock, and
# mmdebstrap for a build.  One error line names a suite the mirror lacks.

declare -F say >/dev/null || say() { printf '%s\n' "$*"; }
declare -F warn >/dev/null ||
    warn() { printf '%s: %s\n' "${PROG:-${0##*/}}" "$*" >&2; }
declare -F die >/dev/null ||
    die() { printf '%s: error: %s\n' "${PROG:-${0##*/}}" "$*" >&2; exit 1; }
declare -F now_ms >/dev/null ||
    now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }
declare -F usage >/dev/null ||
    usage() { sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$0" >&2; exit 2; }
declare -F need_tool >/dev/null ||
    need_tool() {
        local t
        for t in "$@"; do
            command -v "$t" >/dev/null 2>&1 ||
                die "$t not found (apt-get install -y --no-install-recommends ${NEED_PACKAGES:-mmdebstrap})"
        done
    }

# The cache of every lab script (rootfs/, apt/, vm/, fleet/, matrix-rootfs/).
ROOTFS_CACHE=${SHARESFS_LAB_CACHE:-/var/cache/sharesfs-lab}
ROOTFS_CACHE=${ROOTFS_CACHE%/}

# dpkg filters: no man pages, documentation (copyright files kept),
# translations, info pages (nothing in the lab reads them).
# shellcheck disable=SC2034  # the caller's
ROOTFS_NODOCS=(
    'path-exclude=/usr/share/man/*'
    'path-exclude=/usr/share/doc/*'
    'path-include=/usr/share/doc/*/copyright'
    'path-exclude=/usr/share/locale/*'
    'path-exclude=/usr/share/info/*'
)

# ------------------------------------------- servers in these containers
# The layout both container scripts (realservers.sh, contrib/matrix/
# container.sh) give a server: its state directory bound at /lab, and
# server-init.sh (next to this file) as /lab/init.sh, the entry point.
# shellcheck disable=SC2034  # the caller's
ROOTFS_SERVER_INIT=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/server-init.sh
# The [global] lines that put a Samba's state, private files and logs
# under /lab (one smbd per container, nothing in the rootfs written).
samba_lab_paths() {
    cat <<'EOF'
  pid directory = /lab/state/run
  lock directory = /lab/state/lock
  state directory = /lab/state/state
  cache directory = /lab/state/cache
  private dir = /lab/state/private
  ncalrpc dir = /lab/state/ncalrpc
  binddns dir = /lab/state/binddns
  usershare path = /lab/state/usershares
  passdb backend = tdbsam:/lab/state/private/passdb.tdb
  log file = /lab/log/log.%m
EOF
}

declare -F rootfs_recipe >/dev/null ||
    rootfs_recipe() { printf '%s\n' "$RECIPE" "$1" "${PACKAGES[*]}" "${DPKG_OPTS[*]}"; }
declare -F rootfs_built >/dev/null ||
    rootfs_built() { [ -f "$1/manifest" ] && [ -x "$1/root/usr/bin/dpkg" ]; }

# --------------------------------------------------------------- the mirror

# The Debian archive the machine's apt uses (not the security archive).
# SHARESFS_LAB_MIRROR overrides it.
rootfs_mirror_url() {
    local u sig t
    if [ -n "${SHARESFS_LAB_MIRROR:-}" ]; then
        echo "${SHARESFS_LAB_MIRROR%/}"
        return 0
    fi
    # apt-get indextargets takes ~0.4 s: remembered while the sources are unchanged
    sig=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
          sha256sum | cut -c1-64 || true)
    if [ -f "$APT_DIR/mirror" ] && [ "$(sed -n 1p "$APT_DIR/mirror")" = "$sig" ]; then
        sed -n 2p "$APT_DIR/mirror"
        return 0
    fi
    u=$(rootfs_mirror_url_apt) || exit 1
    if mkdir -p "$APT_DIR" && t=$(mktemp "$APT_DIR/.mirror.XXXXXX"); then
        printf '%s\n%s\n' "$sig" "$u" >"$t" && mv "$t" "$APT_DIR/mirror"
    fi
    echo "$u"
}
rootfs_mirror_url_apt() {
    local u
    # Known to apt once its lists exist (Label/Origin come from the Release file).
    u=$(apt-get indextargets --format '$(REPO_URI)' 'Identifier: Packages' 'Origin: Debian' 'Label: Debian' \
            2>/dev/null | awk 'NF && !n++' || true)
    if [ -z "$u" ]; then
        # sources.list (one-line) and *.sources (deb822): the first URI not
        # ending in -security.
        u=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
                awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\//) { print $i; break } }' |
                grep -v -- '-security/*$' | head -n 1 || true)
    fi
    if [ -z "$u" ]; then
        u=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
                awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' |
                grep -v -- '-security/*$' | head -n 1 || true)
    fi
    [ -n "$u" ] || die "no Debian mirror in the apt configuration (/etc/apt/sources.list*); set SHARESFS_LAB_MIRROR"
    echo "${u%/}"
}

# apt's proxy and date-check settings, passed on to mmdebstrap (which does
# not read the host's apt.conf.d).
rootfs_host_aptopts() {
    apt-config dump 2>/dev/null |
        grep -E '^Acquire::(http|https|ftp)::Proxy |^Acquire::(http|https)::Proxy::|^Acquire::Check-Valid-Until |^Acquire::Check-Date ' || true
}

# ------------------------------------------------------- resolving a suite

# rootfs_apt_private SUITE MIRROR -> ROOTFS_APTD ($APT_DIR/SUITE@HASH, lists
# kept between calls: a second call only revalidates InRelease), ROOTFS_APT_OPTS.
rootfs_apt_private() {
    local a
    a=$APT_DIR/$1@$(printf '%s' "$2" | sha256sum | cut -c1-8)
    mkdir -p "$a/lists/partial" "$a/cache/archives/partial" "$a/sources.list.d" "$a/preferences.d" "$a/state" ||
        die "cannot create $a"
    : >"$a/status"
    printf 'deb %s %s main\n' "$2" "$1" >"$a/sources.list"
    ROOTFS_APTD=$a
    ROOTFS_APT_OPTS=(
        -o "Dir::Etc::SourceList=$a/sources.list" -o "Dir::Etc::SourceParts=$a/sources.list.d"
        -o "Dir::Etc::Preferences=$a/preferences" -o "Dir::Etc::PreferencesParts=$a/preferences.d"
        -o "Dir::State=$a/state" -o "Dir::State::Lists=$a/lists" -o "Dir::State::status=$a/status"
        -o "Dir::Cache=$a/cache" -o "Debug::NoLocking=true" -o "APT::Install-Recommends=false"
        -o "APT::Get::List-Cleanup=true" -o "Acquire::Languages=none"
    )
}

# rootfs_resolve NAME SUITE MIRROR: what the variant plus PACKAGES would be
# from SUITE on MIRROR now -> MANIFEST, KEY (16 hex digits of the recipe and
# MANIFEST).  Remembered in $ROOTFS_APTD/resolved-NAME while the suite's
# InRelease and the recipe are the same.  Dies with one line naming the suite
# when the mirror cannot be reached or lacks it.
rootfs_resolve() {
    local name=$1 suite=$2 mirror=$3 a out reason inrel sig ess memo base=()
    rootfs_apt_private "$suite" "$mirror"
    a=$ROOTFS_APTD
    memo=$a/resolved-$name
    ROOTFS_MEMO=$memo
    # Checked against the mirror less than ROOTFS_FRESH seconds ago (e.g. by
    # another host of the same suite, started in parallel): that answer.
    if [ -f "$a/checked-$name" ] && [ -f "$memo" ] &&
       [ $(( $(date +%s) - $(stat -c %Y "$a/checked-$name") )) -lt "${ROOTFS_FRESH:-0}" ]; then
        KEY=$(sed -n 2p "$memo")
        MANIFEST=$(sed -n '3,$p' "$memo")
        return 0
    fi
    rm -f "$a/checked-$name"
    # one retry, 15 s per connection: an unreachable mirror fails in seconds,
    # not minutes (apt's defaults: 3 retries with back-off, 30 s timeouts)
    if ! out=$(apt-get "${ROOTFS_APT_OPTS[@]}" -q --error-on=any -o Acquire::Retries=1 \
                   -o Acquire::http::Timeout=15 -o Acquire::https::Timeout=15 update 2>&1); then
        reason=$(printf '%s\n' "$out" | grep -E '^E:' | grep -v 'Some index files failed' | head -n 1 | sed 's/^E: *//; s/  */ /g' || true)
        printf '%s\n' "$out" >"$a/update.log"
        die "cannot fetch Debian suite '$suite' from $mirror: ${reason:-apt-get update failed} (full output: $a/update.log)"
    fi
    inrel=$(ls "$a"/lists/*_dists_"${suite}"_InRelease 2>/dev/null | head -n 1 || true)
    [ -n "$inrel" ] || die "cannot fetch Debian suite '$suite' from $mirror: no InRelease file"
    # Same InRelease, same recipe as last time: same package set, same key
    # (resolving again takes seconds).
    sig=$( { rootfs_recipe "$suite"; cat "$inrel"; } | sha256sum | cut -c1-64)
    if [ -f "$memo" ] && [ "$(sed -n 1p "$memo")" = "$sig" ]; then
        KEY=$(sed -n 2p "$memo")
        MANIFEST=$(sed -n '3,$p' "$memo")
        touch "$a/checked-$name"
        return 0
    fi
    ess=$(apt-cache "${ROOTFS_APT_OPTS[@]}" dumpavail |
            awk -v RS= '/(^|\n)Essential: yes(\n|$)/ { n = split($0, l, "\n"); for (i = 1; i <= n; i++) if (l[i] ~ /^Package: /) { sub(/^Package: /, "", l[i]); print l[i] } }' |
            sort -u)
    [ -n "$ess" ] || die "cannot fetch Debian suite '$suite' from $mirror: empty package index"
    [ "${ROOTFS_VARIANT:-apt}" = apt ] && base=(apt)
    # shellcheck disable=SC2086
    if ! out=$(apt-get "${ROOTFS_APT_OPTS[@]}" -s -q install "${base[@]}" $ess "${PACKAGES[@]}" 2>&1); then
        die "Debian suite '$suite' on $mirror cannot install ${PACKAGES[*]}: $(printf '%s\n' "$out" | grep -E '^E:' | head -n 1)"
    fi
    MANIFEST=$(printf '%s\n' "$out" | awk '$1 == "Inst" { v = $3; sub(/^\(/, "", v); print $2, v }' | sort)
    KEY=$( { rootfs_recipe "$suite"; printf '%s\n' "$MANIFEST"; } | sha256sum | cut -c1-16)
    printf '%s\n%s\n%s\n' "$sig" "$KEY" "$MANIFEST" >"$memo.new" && mv "$memo.new" "$memo"
    touch "$a/checked-$name"
}

# ---------------------------------------------------------------- the cache

# rootfs_lock NAME: holds $ROOTFS_DIR/.lock-NAME (fd 8) until rootfs_unlock,
# and removes what an interrupted build of NAME left.
rootfs_lock() {
    local tmp
    case $1 in *[!a-z0-9-]*|'') die "bad suite name '$1'" ;; esac
    mkdir -p "$ROOTFS_DIR" || die "cannot create $ROOTFS_DIR"
    exec 8>"$ROOTFS_DIR/.lock-$1" || die "cannot open $ROOTFS_DIR/.lock-$1"
    flock 8
    for tmp in "$ROOTFS_DIR"/.build-"$1".*; do
        [ -e "$tmp" ] && rootfs_remove_tree "$tmp"
    done
    return 0
}
rootfs_unlock() { exec 8>&-; }

# Unmounts everything below DIR (a build killed half-way may leave mmdebstrap's
# /proc, /sys, /dev mounts), then deletes DIR without crossing file systems.
rootfs_remove_tree() {
    local d=$1 m
    [ -e "$d" ] || return 0
    d=$(realpath "$d")
    case $d in "$ROOTFS_DIR"/*) ;; *) die "refusing to delete $d" ;; esac
    while read -r m; do
        [ -n "$m" ] && umount -l "$m" 2>/dev/null || true
    done < <(awk -v p="$d/" 'index($2, p) == 1 { print $2 }' /proc/self/mounts | sort -r)
    rm -rf --one-file-system "$d"
}

# rootfs_offline NAME -> ROOTFS_ENTRY, ROOTFS: the current entry (the NAME
# symlink), without asking the mirror.
rootfs_offline() {
    local final
    final=$(readlink -f "$ROOTFS_DIR/$1" 2>/dev/null || true)
    [ -n "$final" ] && rootfs_built "$final" ||
        die "offline, and no cached rootfs for '$1' in $ROOTFS_DIR"
    # shellcheck disable=SC2034  # the caller's
    ROOTFS_ENTRY=$final ROOTFS=$final/root
    KEY=${final##*-}
    MANIFEST=
}

# rootfs_link NAME TARGET: the symlink NAME -> TARGET, replaced atomically.
rootfs_link() {
    ln -sfn "$2" "$ROOTFS_DIR/.$1.link" && mv -T "$ROOTFS_DIR/.$1.link" "$ROOTFS_DIR/$1"
}

# rootfs_build NAME SUITE DEST SOURCE...: mmdebstrap SUITE from SOURCE (a
# mirror URL or "deb ..." lines) into DEST, via $ROOTFS_DIR/.build-NAME.*.
# Checks the result against MANIFEST when set; writes DEST/manifest, DEST/info.
# Caller holds the lock of NAME.
rootfs_build() {
    local name=$1 suite=$2 final=$3 tmp t0 t1 have missing o p
    shift 3
    need_tool mmdebstrap
    tmp=$(mktemp -d "$ROOTFS_DIR/.build-$name.XXXXXX") || die "cannot create a build directory in $ROOTFS_DIR"
    # any failure from here on (die included) removes the half-made tree;
    # after a SIGKILL, the next rootfs_lock does
    ROOTFS_BUILD_TMP=$tmp
    trap '[ -n "${ROOTFS_BUILD_TMP:-}" ] && rootfs_remove_tree "$ROOTFS_BUILD_TMP"' EXIT
    ROOTFS_BUILD_ARGS=(--variant="${ROOTFS_VARIANT:-apt}" --mode=root --format=directory --components=main
                       "--include=$(IFS=,; echo "${PACKAGES[*]}")")
    for o in "${DPKG_OPTS[@]}"; do ROOTFS_BUILD_ARGS+=("--dpkgopt=$o"); done
    while IFS= read -r o; do [ -n "$o" ] && ROOTFS_BUILD_ARGS+=("--aptopt=$o"); done < <(rootfs_host_aptopts)
    ROOTFS_BUILD_ARGS+=(${ROOTFS_MMDEBSTRAP_ARGS[@]+"${ROOTFS_MMDEBSTRAP_ARGS[@]}"})
    if declare -F rootfs_prepare >/dev/null; then
        rootfs_prepare "$tmp"
    fi
    warn "building the $name rootfs (Debian $suite: ${PACKAGES[*]}; a few minutes) into $final"
    t0=$(now_ms)
    if ! mmdebstrap "${ROOTFS_BUILD_ARGS[@]}" "$suite" "$tmp/root" "$@" </dev/null >"$tmp/build.log" 2>&1 8>&- 9>&-; then
        cp "$tmp/build.log" "$ROOTFS_DIR/build-$name.failed.log" 2>/dev/null || true
        die "cannot build the rootfs of Debian suite '$suite' from $* (mmdebstrap failed: $(grep -E '^E:' "$ROOTFS_DIR/build-$name.failed.log" | tail -n 1 | cut -c1-200); log: $ROOTFS_DIR/build-$name.failed.log)"
    fi
    t1=$(now_ms)
    ROOTFS_BUILD_MS=$((t1 - t0))
    have=$(chroot "$tmp/root" dpkg-query -W -f '${Package} ${Version}\n' | sort)
    # Packages the resolution expected but the tree lacks (or has in another
    # version): the mirror changed during the build.  Resolve again next time.
    missing=$(comm -23 <(printf '%s\n' "${MANIFEST:-}" | sed '/^$/d') <(printf '%s\n' "$have"))
    if [ -n "$missing" ]; then
        rm -f "${ROOTFS_MEMO:-}"
        die "the mirror changed while the $name rootfs was built ($(echo "$missing" | head -n 3 | tr '\n' ' ')); run again"
    fi
    printf '%s\n' "$have" >"$tmp/manifest"
    {
        echo "name=$name"
        echo "suite=$suite"
        echo "key=$KEY"
        echo "recipe=$RECIPE"
        echo "packages=${PACKAGES[*]}"
        echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "build_seconds=$((ROOTFS_BUILD_MS / 1000)).$(printf '%03d' $((ROOTFS_BUILD_MS % 1000)))"
        for p in ${ROOTFS_INFO_PACKAGES[@]+"${ROOTFS_INFO_PACKAGES[@]}"}; do
            echo "$p=$(awk -v p="$p" '$1 == p { print $2 }' "$tmp/manifest")"
        done
    } >"$tmp/info"
    if declare -F rootfs_finish >/dev/null; then
        rootfs_finish "$tmp"
    fi
    chmod 0755 "$tmp"
    mv -T "$tmp" "$final" || die "cannot move $tmp to $final"
    ROOTFS_BUILD_TMP=
    trap - EXIT
    warn "built the $name rootfs in $((ROOTFS_BUILD_MS / 1000)) s: $(du -sh "$final" | cut -f1)$(for p in ${ROOTFS_INFO_PACKAGES[@]+"${ROOTFS_INFO_PACKAGES[@]}"}; do printf ', %s' "$(grep -E "^$p=" "$final/info")"; done)"
}

# rootfs_prune NAME: deletes the entries NAME-KEY other than the current one
# (the NAME symlink), unless a running process names a path inside one (a
# container's --directory, a VM's disk).  Caller holds the lock of NAME.
rootfs_prune() {
    local name=$1 cur d
    cur=$(readlink "$ROOTFS_DIR/$name" 2>/dev/null || true)
    for d in "$ROOTFS_DIR/$name"-*; do
        # NAME-* also matches NAME-OTHER-KEY: only NAME's own entries
        [[ ${d##*/} =~ ^$name-[0-9a-f]{16}$ ]] && [ -d "$d" ] && [ "${d##*/}" != "$cur" ] || continue
        # (the pattern from a file: grep's own command line must not match)
        if grep -qszF -f <(printf '%s/\n' "$d") /proc/[0-9]*/cmdline; then
            warn "keeping $d: a container or VM still runs on it"
        else
            rootfs_remove_tree "$d"
            warn "removed the old rootfs $d"
        fi
    done
}

# rootfs_ensure NAME [SUITE]: see the top of this file.
rootfs_ensure() {
    local name=$1 suite=${2:-$1} mirror final
    case $suite in *[!a-z0-9-]*|'') die "bad suite name '$suite'" ;; esac
    rootfs_lock "$name"
    if [ "${ROOTFS_OFFLINE:-${SHARESFS_LAB_OFFLINE:-0}}" = 1 ]; then
        rootfs_offline "$name"
        rootfs_unlock
        return 0
    fi
    mirror=$(rootfs_mirror_url) || exit 1
    rootfs_resolve "$name" "$suite" "$mirror"
    final=$ROOTFS_DIR/$name-$KEY
    if rootfs_built "$final"; then
        rootfs_link "$name" "$name-$KEY"
    else
        rootfs_build "$name" "$suite" "$final" "$mirror"
        rootfs_link "$name" "$name-$KEY"
        # a new entry: the older ones of NAME go, unless in use
        rootfs_prune "$name"
    fi
    # shellcheck disable=SC2034  # the caller's
    ROOTFS_ENTRY=$final ROOTFS=$final/root
    rootfs_unlock
}
