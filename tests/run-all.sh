#!/bin/bash
# The whole test suite, as .ci/run and the README run it:
#   installs what is missing, builds with -Werror, starts the local lab,
#   runs unit + integration tests, then the same again under ASan+UBSan,
#   runs every libFuzzer target for a bounded time, stops the lab, and ends
#   with one line "N passed, N failed".
# Needs root (network namespaces, FUSE).  FUZZ_SECONDS (default 30) bounds
# each fuzz target.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
FUZZ_SECONDS=${FUZZ_SECONDS:-30}

step() { printf '\n=== %s\n' "$*"; }
die() { printf 'run-all: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (the lab needs network namespaces, FUSE needs /dev/fuse)"
# One run at a time: runs share the build directories and the lab.
exec 9>/run/lock/sharesfs-run-all.lock
flock -n 9 || die "another tests/run-all.sh is running"

step "dependencies"
contrib/setup/install-deps.sh || die "installing dependencies failed"

step "build (gcc, -Werror)"
if [ -f build/build.ninja ]; then
    meson configure build -Dwerror=true -Dtests=true >/dev/null || die "meson configure failed"
else
    meson setup build -Dwerror=true -Dtests=true || die "meson setup failed"
fi
ninja -C build || die "build failed"

step "build (ASan+UBSan)"
if [ ! -f build-asan/build.ninja ]; then
    meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
        -Dbuildtype=debug || die "meson setup (asan) failed"
fi
ninja -C build-asan || die "asan build failed"

step "local lab"
contrib/lab/lab.sh start || die "the lab did not start"
trap 'contrib/lab/lab.sh stop >/dev/null 2>&1' EXIT

rc=0
step "unit + integration tests"
meson test -C build --suite unit --suite integration --print-errorlogs || rc=1
step "unit + integration tests under ASan+UBSan"
ASAN_OPTIONS=verify_asan_link_order=0 NSS_WRAPPER_DISABLE_DEEPBIND=1 \
    meson test -C build-asan --suite unit --suite integration --print-errorlogs || rc=1

step "fuzz targets (${FUZZ_SECONDS}s each)"
fuzz_passed=0 fuzz_failed=0
if [ ! -f build-fuzz/build.ninja ]; then
    CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=false -Dbuildtype=debug >/dev/null || die "fuzz setup failed"
fi
ninja -C build-fuzz >/dev/null || die "fuzz build failed"
ls build-fuzz/tests/fuzz/fuzz_* >/dev/null 2>&1 || die "no fuzz targets were built"
for f in build-fuzz/tests/fuzz/fuzz_*; do
    [ -f "$f" ] && [ -x "$f" ] || continue
    name=$(basename "$f")
    corpus=tests/fuzz/corpus/${name#fuzz_}
    work=$(mktemp -d)
    [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
    if "$f" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=build-fuzz/ "$work" \
            >"build-fuzz/$name.log" 2>&1; then
        fuzz_passed=$((fuzz_passed + 1))
        printf 'fuzz %-28s ok  %s\n' "$name" "$(grep -m1 'stat::number_of_executed_units' "build-fuzz/$name.log" | awk '{print $2}') runs"
    else
        fuzz_failed=$((fuzz_failed + 1)); rc=1
        printf 'fuzz %-28s FAILED (see build-fuzz/%s.log)\n' "$name" "$name"
        tail -30 "build-fuzz/$name.log"
    fi
    rm -rf "$work"
done

step "summary"
# Each TAP line and each cmocka case counts as one test.
count() {
    local log=$1/meson-logs/testlog.json
    [ -f "$log" ] || { echo "0 1"; return; }
    jq -rs '[.[] | (.stdout // "") as $o |
        ($o | [scan("(?m)^ok [0-9]+")] | length) as $tap_ok |
        ($o | [scan("(?m)^not ok [0-9]+")] | length) as $tap_bad |
        ($o | [scan("\\[       OK \\]")] | length) as $cm_ok |
        ($o | [scan("\\[  FAILED  \\] [a-z_]")] | length) as $cm_bad |
        # A test meson judged failed (crash, bad plan, exit status) counts
        # as a failure even when every line it printed said ok.
        (if .result == "OK" or ($tap_bad + $cm_bad) > 0 then 0 else 1 end) as $judged |
        if ($tap_ok + $tap_bad + $cm_ok + $cm_bad) > 0 then [$tap_ok + $cm_ok, $tap_bad + $cm_bad + $judged]
        elif .result == "OK" then [1, 0] else [0, 1] end]
        | [(map(.[0]) | add // 0), (map(.[1]) | add // 0)] | "\(.[0]) \(.[1])"' "$log"
}
read -r p1 f1 < <(count build)
read -r p2 f2 < <(count build-asan)
printf 'gcc build:   %s passed, %s failed\n' "$p1" "$f1"
printf 'ASan+UBSan:  %s passed, %s failed\n' "$p2" "$f2"
printf 'fuzz:        %s passed, %s failed\n' "$fuzz_passed" "$fuzz_failed"
passed=$((p1 + p2 + fuzz_passed)) failed=$((f1 + f2 + fuzz_failed))
[ "$failed" -eq 0 ] || rc=1
echo "$passed passed, $failed failed"
exit $rc
