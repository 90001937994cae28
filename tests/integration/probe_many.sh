#!/bin/bash
# afptest on a 1,000-entry map at -j 16 (issue 16): every row must be the
# row of its kind of entry probed alone.  The map mixes entries that work
# (SMB guest and password, AFP guest, DHX2, DHCAST128), a share, a volume
# and a path that do not exist, wrong passwords, and a closed port on
# 127.0.0.1 (SMB and AFP).  Each kind is probed once alone (one afptest run
# per kind), then its row is expected for every entry of that kind in the
# big run; rows are compared on everything but the key, mount point, map
# line and timings (JSON).  No timing is asserted.
. "$(dirname "$0")/lib.sh"
lab_join
command -v jq >/dev/null || bail "jq not installed"

work=$(mktemp -d /tmp/probe_many.XXXXXX)
trap 'rm -rf "$work"' EXIT
creds=$SHARESFS_LAB_DIR/creds

# A port on 127.0.0.1 that refuses connections (nothing of ours listens).
closed=""
for p in 9 7 1 19 37; do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then closed=$p; break; fi
done
[ -n "$closed" ] || bail "no closed port found on 127.0.0.1"

# kind  count  options  location
kinds=$(cat <<EOF
smb_guest	60	-fstype=url,guest	smb://fs-default.lab.test/public
smb_password	40	-fstype=url,credentials=$creds/labuser.cred	smb://fs-default.lab.test/data
smb_no_share	40	-fstype=url,credentials=$creds/labuser.cred	smb://fs-default.lab.test/nosuchshare
smb_no_path	30	-fstype=url,guest	smb://fs-default.lab.test/public/no/such/dir
smb_wrong_password	30	-fstype=url,credentials=$creds/wrong.cred	smb://fs-default.lab.test/user
smb_refused	250	-fstype=url,guest	smb://127.0.0.1:$closed/public
afp_guest	200	-fstype=url	afp://;AUTH=No%20User%20Authent@lion.lab.test/Public
afp_dhx2	20	-fstype=url,credentials=$creds/labuser.cred	afp://labuser;AUTH=DHX2@lion.lab.test/Private
afp_dhcast128	30	-fstype=url,credentials=$creds/labuser.cred	afp://labuser;AUTH=DHCAST128@tiger.lab.test/Private
afp_no_volume	60	-fstype=url	afp://;AUTH=No%20User%20Authent@lion.lab.test/NoSuchVolume
afp_no_path	40	-fstype=url	afp://;AUTH=No%20User%20Authent@lion.lab.test/Public/no/such/dir
afp_wrong_password	40	-fstype=url,credentials=$creds/wrong.cred	afp://labuser;AUTH=DHX2@lion.lab.test/Private
afp_refused	160	-fstype=url	afp://;AUTH=No%20User%20Authent@127.0.0.1:$closed/Public
EOF
)

# The big map: KIND-NNNN keys, kinds interleaved so that every batch of 16
# children mixes them; one map per kind with its entry alone.
printf '%s\n' "$kinds" | cut -f1,2 >"$work/kinds"
printf '%s\n' "$kinds" | awk -F'\t' -v dir="$work" '
    { printf "solo\t%s\t%s\n", $3, $4 > (dir "/solo." $1)
      for (i = 1; i <= $2; i++) printf "%d\t%s-%04d\t%s\t%s\n", i, $1, i, $3, $4 }' |
    sort -n -s -k1,1 | cut -f2- >"$work/map"
total=$(wc -l <"$work/map")
is "$total" 1000 "the map has 1000 entries"

# A row without what names or times it (server.answer_of names the entry
# whose answer to NEGOTIATE or FPGetSrvrInfo it took); the key and mount
# point in the detail become placeholders.
normalise='.entries[] | . as $e
  | del(.key, .mountpoint, .source, .timings_ms, .server.answer_of)
  | .detail |= (if . == null then . else gsub($e.mountpoint; "MOUNTPOINT") | gsub($e.key; "KEY") end)
  | [$e.key, tojson] | @tsv'

# Each kind alone.
while IFS=$'\t' read -r kind count; do
    "$AFPTEST" probe --json -j 1 -t 10 -r /probe_many "$work/solo.$kind" >"$work/solo.$kind.json" 2>>"$work/err"
    jq -r "$normalise" "$work/solo.$kind.json" | cut -f2 >"$work/want.$kind"
    [ "$(wc -l <"$work/want.$kind")" -eq 1 ] || bail "$kind: the lone probe gave no row ($(cat "$work/err"))"
done <"$work/kinds"
# The lone rows differ from each other where the kinds should.
is "$(sort -u "$work"/want.* | wc -l)" "$(wc -l <"$work/kinds")" "each kind of entry has a row of its own"
like "$(cat "$work/want.smb_guest")" '"result":"ok"' "smb_guest alone: ok"
like "$(cat "$work/want.afp_dhx2")" '"result":"ok"' "afp_dhx2 alone: ok"
like "$(cat "$work/want.smb_refused")" '"result":"ECONNREFUSED"' "smb_refused alone: ECONNREFUSED"
like "$(cat "$work/want.afp_no_volume")" '"result":"ENOENT"' "afp_no_volume alone: ENOENT"
like "$(cat "$work/want.smb_wrong_password")" '"stage":"authenticate"' "smb_wrong_password alone: authenticate"

# All of them at once.
"$AFPTEST" probe --json -j 16 -t 10 -r /probe_many "$work/map" >"$work/all.json" 2>"$work/all.err"
is "$?" 1 "-j 16: exit status 1 (some entries are meant to fail)"
is "$(jq -r '.summary.total' "$work/all.json")" 1000 "-j 16: 1000 rows"
jq -r "$normalise" "$work/all.json" >"$work/got"
is "$(wc -l <"$work/got")" 1000 "-j 16: 1000 entries in the JSON"
reused=$(jq -r '[.entries[] | select(.server.answer_of != null)] | length' "$work/all.json")
# 590 entries reach a server that answers; a worker asks each server once.
if [ "$reused" -ge 300 ]; then pass "-j 16: $reused rows took their server's answer from an earlier entry";
else fail "-j 16: only $reused rows took their server's answer from an earlier entry (want >= 300 of 590)"; fi
is "$(cut -f1 "$work/got" | sort -u | wc -l)" 1000 "-j 16: every key once"

# Expected rows, expanded from the lone probes, against the big run's.
while IFS=$'\t' read -r kind count; do
    awk -v kind="$kind" -v n="$count" '{ for (i = 1; i <= n; i++) printf "%s-%04d\t%s\n", kind, i, $0 }' \
        "$work/want.$kind"
done <"$work/kinds" | LC_ALL=C sort >"$work/want"
LC_ALL=C sort "$work/got" >"$work/got.sorted"
while IFS=$'\t' read -r kind count; do
    n_same=$(LC_ALL=C join -t $'\t' "$work/want" "$work/got.sorted" | awk -F'\t' -v k="$kind-" \
        'index($1, k) == 1 && $2 == $3' | wc -l)
    is "$n_same" "$count" "$kind: all $count rows are the row probed alone"
    if [ "$n_same" != "$count" ]; then
        LC_ALL=C join -t $'\t' "$work/want" "$work/got.sorted" | awk -F'\t' -v k="$kind-" 'index($1, k) == 1 && $2 != $3' |
            head -2 | while IFS=$'\t' read -r key want got; do diag "$key" "  want $want" "  got  $got"; done
    fi
done <"$work/kinds"
if cmp -s "$work/want" "$work/got.sorted"; then pass "-j 16: the sorted rows are the lone probes' rows"
else fail "-j 16: the sorted rows are the lone probes' rows"; diff "$work/want" "$work/got.sorted" | head -6 | while read -r l; do diag "$l"; done; fi

is "$(jq -r '.summary.ok' "$work/all.json")" 350 "-j 16: 350 ok (the five kinds that work)"
done_testing
