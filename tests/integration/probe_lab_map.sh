#!/bin/bash
# afptest against the lab's sample maps (macOS auto_master and Linux
# auto.master flavours): the exact stage, errno and NT_STATUS of every key.
. "$(dirname "$0")/lib.sh"
lab_join
command -v jq >/dev/null || bail "jq not installed"

expected=$(dirname "$0")/expected/lab-map.tsv
n_both=$(grep -v '^#' "$expected" | grep -c $'\tboth$')
n_mac=$(grep -v '^#' "$expected" | grep -c $'\tmac$')
plan $(( (n_both * 2 + n_mac) * 3 + 4 ))

for master in auto_master auto.master; do
    out=$("$AFPTEST" probe --json -j 12 -t 8 "$MAPS/$master" 2>/tmp/afptest.err.$$)
    rc=$?
    is "$rc" 1 "$master: exit status 1 (some entries are meant to fail)"
    is "$(jq -r '.schema' <<<"$out")" "sharesfs.afptest/1" "$master: JSON schema"
    while IFS=$'\t' read -r key stage result status maps; do
        [ "${key:0:1}" = "#" ] && continue
        [ "$maps" = mac ] && [ "$master" != auto_master ] && continue
        row=$(jq -c --arg k "$key" '.entries[] | select(.key == $k)' <<<"$out")
        is "$(jq -r '.stage' <<<"$row")" "$stage" "$master $key: stage"
        is "$(jq -r '.result' <<<"$row")" "$result" "$master $key: result"
        is "$(jq -r '.status.name // "-"' <<<"$row")" "$status" "$master $key: protocol status"
        [ "$(jq -r '.result' <<<"$row")" = "$result" ] || diag "$row"
    done <"$expected"
done
rm -f /tmp/afptest.err.$$
done_testing
