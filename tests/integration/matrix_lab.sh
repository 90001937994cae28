#!/bin/bash
# The shipped regression matrix (contrib/matrix/lab.yaml) against its
# committed baseline: it passes; with one lab host taken off the network
# in the middle of the test (tiger: its namespace's link down, as the lab's
# "gone" host) the same run exits 1 and reports UNEXPECTED(failure) for
# that host's cells only, on the terminal and in the JSON, JUnit and TAP
# reports; with the host back it passes again.  Then a vm target (ksmbd
# in a QEMU guest, contrib/matrix/vm.yaml) started and stopped by the run.
. "$(dirname "$0")/lib.sh"
lab_join
command -v jq >/dev/null || bail "jq not installed"
MATRIX=$SFS_SRC/contrib/matrix/lab.yaml
BASE=$SFS_SRC/contrib/matrix/baseline
DOWN=tiger
NS=labsfs-tiger
ip netns pids "$NS" >/dev/null 2>&1 || bail "lab namespace $NS missing: is the lab running?"
tmp=$(mktemp -d)
restore() { ip -n "$NS" link set lab0 up 2>/dev/null; }
cleanup() { restore; rm -rf "$tmp"; }
trap cleanup EXIT

run_matrix() {   # NAME: runs the matrix, reports in $tmp/NAME.*; sets rc
    "$AFPTEST" matrix run "$MATRIX" --baseline "$BASE" -j 2 --json "$tmp/$1.json" --junit "$tmp/$1.xml" \
        --tap "$tmp/$1.tap" >"$tmp/$1.out" 2>&1
    rc=$?
}

# 1. As shipped: everything as the baseline says.
run_matrix before
is "$rc" 0 "the shipped matrix passes against its baseline (exit 0)"
[ "$rc" = 0 ] || diag "$(grep -E 'UNEXPECTED|CHANGED|MISSING|ERROR' "$tmp/before.out" | head)" "$(tail -5 "$tmp/before.out")"
like "$(tail -5 "$tmp/before.out")" "ALL OK" "the terminal summary says ALL OK"
is "$(jq -r '.summary.failed' "$tmp/before.json")/$(jq -r '.summary.errors' "$tmp/before.json")" 0/0 \
    "JSON: nothing failed, no infrastructure error"
cells=$(jq '[.cells[] | select(.state == "ran")] | length' "$tmp/before.json")
[ "$cells" -ge 60 ] && pass "JSON: $cells cells ran" || fail "JSON: only $cells cells ran"
down_cells=$(jq --arg t "$DOWN" '[.cells[] | select(.target == $t and .state == "ran")] | length' "$tmp/before.json")
[ "$down_cells" -ge 3 ] && pass "$DOWN has $down_cells cells" || fail "$DOWN has $down_cells cells"

# 2. The host goes away.
ip -n "$NS" link set lab0 down || bail "cannot take $DOWN's link down"
run_matrix down
restore
is "$rc" 1 "with $DOWN unreachable the run exits 1" || diag "$(tail -30 "$tmp/down.out")"
unexpected=$(grep -E 'UNEXPECTED|CHANGED' "$tmp/down.out" | grep -vE '^[0-9]+ passed' || true)
[ -n "$unexpected" ] && pass "terminal: UNEXPECTED lines are printed" || fail "terminal: no UNEXPECTED line"
is "$(grep -cv "$DOWN/" <<<"$unexpected")" 0 "terminal: every UNEXPECTED/CHANGED line names $DOWN" \
    || diag "$(grep -v "$DOWN/" <<<"$unexpected" | head -5)"
like "$unexpected" "UNEXPECTED\\(failure\\)" "terminal: the outcome is UNEXPECTED(failure)"
like "$(grep -m1 "UNEXPECTED(failure)" "$tmp/down.out")" "EHOSTUNREACH|ETIMEDOUT|ENETUNREACH" \
    "terminal: the line gives the errno after"
like "$(tail -5 "$tmp/down.out")" "FAILED" "terminal: the summary says FAILED"
# JSON: the gating results are exactly the down host's, all UNEXPECTED(failure).
is "$(jq -r '[.cells[].results[]? | select(.gating) | .id | split("/")[0]] | unique | join(",")' "$tmp/down.json")" \
    "$DOWN" "JSON: gating results belong to $DOWN only"
# Results that passed become UNEXPECTED(failure); those that already failed
# (a login the server refuses) now fail earlier: CHANGED.
is "$(jq -r '[.cells[].results[]? | select(.gating) | .outcome] | unique | join(",")' "$tmp/down.json")" \
    "CHANGED,UNEXPECTED(failure)" "JSON: their outcomes are UNEXPECTED(failure) (passed before) and CHANGED (failed before)"
is "$(jq -r '[.cells[].results[]? | select(.outcome == "CHANGED") | .baseline.result] | map(. == "ok") | any' "$tmp/down.json")" \
    false "JSON: no result that passed before is merely CHANGED"
n_json=$(jq '[.cells[].results[]? | select(.gating)] | length' "$tmp/down.json")
is "$(jq -r '.summary.failed' "$tmp/down.json")" "$n_json" "JSON: the summary counts them ($n_json)"
is "$(jq -r --arg t "$DOWN" '[.cells[] | select(.target != $t) | .results[]? | select(.outcome != "ok" and .outcome != "xfail")] | length' "$tmp/down.json")" \
    0 "JSON: every other host's results are ok"
# JUnit: failures only in the down host's testsuites, one per gating result.
junit_fail=$(grep -c '<failure' "$tmp/down.xml")
is "$junit_fail" "$n_json" "JUnit: one <failure> per unexpected result"
is "$(grep -B1 '<failure' "$tmp/down.xml" | grep -o 'classname="[^"/]*' | sort -u | sed 's/classname="//')" "$DOWN" \
    "JUnit: the failing testcases are $DOWN's"
xmllint --noout "$tmp/down.xml" 2>/dev/null; is "$?" 0 "JUnit: well-formed XML"
# TAP: not ok only for the down host.
is "$(grep '^not ok' "$tmp/down.tap" | grep -cv " - $DOWN/")" 0 "TAP: every 'not ok' names $DOWN"
is "$(grep -c '^not ok' "$tmp/down.tap")" "$n_json" "TAP: one 'not ok' per unexpected result"

# 3. The host is back.
for _ in $(seq 50); do "$AFPTEST" info -t 1 "afp://$DOWN.lab.test" >/dev/null 2>&1 && break; sleep 0.1; done
run_matrix after
is "$rc" 0 "with $DOWN back the run passes again"
[ "$rc" = 0 ] || diag "$(grep -E 'UNEXPECTED|CHANGED|MISSING|ERROR' "$tmp/after.out" | head)"
like "$(tail -5 "$tmp/after.out")" "ALL OK" "terminal: ALL OK again"
# 4. A vm target: ksmbd in a QEMU guest that the matrix starts and stops
# through its vm_command (contrib/matrix/vm.yaml, contrib/lab/vm.sh).
"$AFPTEST" matrix run "$SFS_SRC/contrib/matrix/vm.yaml" --baseline "$SFS_SRC/contrib/matrix/baseline-vm" \
    --json "$tmp/vm.json" >"$tmp/vm.out" 2>&1
is "$?" 0 "vm target (ksmbd under QEMU): the run passes against its baseline" || diag "$(tail -20 "$tmp/vm.out")"
is "$(jq -r '[.cells[] | select(.target == "ksmbd" and .state == "ran")] | length' "$tmp/vm.json")/$(jq -r '.summary.errors' "$tmp/vm.json")" \
    "4/0" "vm target: its 4 cells ran (probe and fuse, guest and labuser), no infrastructure error"
is "$(jq -r '[.cells[].results[]? | select(.id == "ksmbd/labuser/probe/smb-user.read") | .result] | join(",")' "$tmp/vm.json")" \
    ok "vm target: labuser reads its share on ksmbd"
pgrep -f 'qemu-system.*ksmbd' >/dev/null && fail "vm target: QEMU still runs after the matrix" || pass "vm target: stopped after the run"
diag "cells: $cells; seconds at -j 2: $(jq -r '.seconds' "$tmp/before.json") / $(jq -r '.seconds' "$tmp/down.json") / $(jq -r '.seconds' "$tmp/after.json"); vm: $(jq -r '.seconds' "$tmp/vm.json")"
done_testing
