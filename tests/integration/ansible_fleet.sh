#!/bin/bash
# The Ansible fleet (contrib/ansible/) end to end: two client containers
# (fleet.sh start 2, each in its own network namespace with an sshd), the
# project's .deb installed on each by the playbook, each running its share
# of a small matrix (tests/integration/data/fleet/fleet.yaml, from
# `afptest matrix plan --hosts 2`) against the running lab, the JSON results
# fetched, merged and compared on the controller; then the fleet stops and
# leaves nothing behind.
#
# Needs the lab (contrib/lab/lab.sh start), root, ansible, mmdebstrap,
# systemd-container, openssh-client.  The package: SHARESFS_DEB=FILE, else
# the one debian_package built from this same tree in this build directory
# (lib.sh, deb_cache_*), else contrib/package/build-deb.sh --no-lintian
# builds one (about a minute).
# The fleet's rootfs is cached (/var/cache/sharesfs-lab/fleet); a cold build
# adds a minute or two.  FLEET_MATRIX / FLEET_BASELINE (paths relative to the
# source root) run another matrix, e.g. contrib/matrix/lab.yaml; FLEET_JOBS
# is each client's -j (default 2).
. "$(dirname "$0")/lib.sh"

lab_join
for t in ansible-playbook systemd-nspawn mmdebstrap ssh jq python3; do
    command -v "$t" >/dev/null || bail "$t not found (contrib/setup/install-deps.sh)"
done

FLEET=$SFS_SRC/contrib/ansible/fleet.sh
MATRIX=${FLEET_MATRIX:-tests/integration/data/fleet/fleet.yaml}
BASELINE=${FLEET_BASELINE:-tests/integration/data/fleet/baseline}
JOBS=${FLEET_JOBS:-2}
N=2
TMP=$(mktemp -d /tmp/sfs-ansible-fleet.XXXXXX)
# Ansible and ssh run without nss_wrapper (lab_join preloads it for afptest)
# and keep their own files here, not in root's home.
nonss() { env -u LD_PRELOAD -u NSS_WRAPPER_PASSWD -u NSS_WRAPPER_GROUP -u NSS_WRAPPER_HOSTS "$@"; }
export ANSIBLE_CONFIG=$SFS_SRC/contrib/ansible/ansible.cfg
export ANSIBLE_HOME=$TMP/ansible ANSIBLE_LOCAL_TEMP=$TMP/ansible/tmp ANSIBLE_SSH_CONTROL_PATH_DIR=$TMP/ansible/cp
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
cleanup() {
    nonss "$FLEET" stop >/dev/null 2>&1
    [ -n "${FLEET_KEEP:-}" ] && echo "# kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---- the package
DEB=${SHARESFS_DEB:-}
if [ -z "$DEB" ] && DEB=$(deb_cache_find sharesfs); then
    diag "the .deb debian_package built from this tree: $DEB"
elif [ -z "$DEB" ]; then
    t0=$(now)
    if nonss "$SFS_SRC/contrib/package/build-deb.sh" --no-lintian "$TMP/deb" >"$TMP/build-deb.log" 2>&1; then
        DEB=$(ls "$TMP"/deb/sharesfs_*.deb 2>/dev/null | head -n 1)
    fi
    [ -n "$DEB" ] || { tail -n 20 "$TMP/build-deb.log" | sed 's/^/# /'; bail "cannot build the .deb"; }
    diag "built $(basename "$DEB") in $(elapsed "$t0") s"
fi
[ -f "$DEB" ] || bail "no package at $DEB"
DEB_VERSION=$(dpkg-deb -f "$DEB" Version)

# ---- the fleet
t0=$(now)
if out=$(nonss "$FLEET" start "$N" 2>&1); then
    pass "fleet.sh start $N"
else
    fail "fleet.sh start $N"; printf '%s\n' "$out" | sed 's/^/# /'
    bail "no fleet"
fi
diag "fleet start: $(elapsed "$t0") s" "$(printf '%s\n' "$out" | head -n 1)"
INV=$(nonss "$FLEET" inventory)
status=$(nonss "$FLEET" status 2>&1)
is "$(printf '%s\n' "$status" | grep -c 'ssh ok')" "$N" "fleet.sh status: $N clients answer ssh by key"
like "$(nonss "$FLEET" ssh 1 'getent hosts samba413.lab.test; exec 3<>/dev/tcp/10.231.40.2/445 && echo port-open' 2>&1 | tr '\n' ' ')" \
    '^10\.231\.40\.2 .*samba413.*port-open' "client1 resolves the lab's names and reaches a lab host over its route"
is "$(cat /proc/sys/net/ipv4/ip_forward)" 0 "global ip_forward stays off (forwarding per interface only)"

# ---- the plan and the playbook
(cd "$SFS_SRC" && "$AFPTEST" matrix plan "$MATRIX" --hosts "$N" --inventory "$TMP/plan.ini") >"$TMP/plan.out" 2>&1
is $? 0 "afptest matrix plan --hosts $N writes the inventory"
t0=$(now)
(cd "$SFS_SRC" && nonss ansible-playbook contrib/ansible/matrix.yml -i "$TMP/plan.ini" -i "$INV" \
    -e "sharesfs_deb=$DEB" -e "matrix_baseline=$BASELINE" -e @contrib/ansible/lab-vars.yml \
    -e "matrix_results=$TMP/results" -e "matrix_afptest=$AFPTEST" -e "matrix_jobs=$JOBS") >"$TMP/playbook.log" 2>&1
rc=$?
PLAY_SECS=$(elapsed "$t0")
is "$rc" 0 "ansible-playbook matrix.yml exits 0 (nothing unexpected)"
[ "$rc" = 0 ] || tail -n 60 "$TMP/playbook.log" | sed 's/^/# /'
diag "playbook: $PLAY_SECS s"
grep -E '^(client[0-9]+|localhost) +:' "$TMP/playbook.log" | sed 's/^/# /'

# ---- each client: the package, its share
for k in $(seq 1 "$N"); do
    h=client$k
    is "$(nonss "$FLEET" ssh "$k" "dpkg-query -W -f '\${Version}' sharesfs" 2>&1)" "$DEB_VERSION" \
        "$h: sharesfs $DEB_VERSION installed from the .deb"
    want=$(sed -n "s/^$h matrix_cells=\"\([^\"]*\)\".*/\1/p" "$TMP/plan.ini" | tr ',' '\n' | sed '/^$/d' | sort)
    got=$(jq -r '.cells[] | select(.state != "excluded") | .cell' "$TMP/results/$h.json" 2>/dev/null | sort)
    if [ -n "$want" ] && [ "$got" = "$want" ]; then
        pass "$h ran exactly its share ($(echo "$want" | wc -l) cells)"
    else
        fail "$h ran exactly its share"; diag "want: $(echo $want)" "got:  $(echo $got)"
    fi
done

# ---- merged on the controller
M=$TMP/results/merged.json
all=$(cd "$SFS_SRC" && "$AFPTEST" matrix plan "$MATRIX" --hosts 1 | sed -n 's/^client1 matrix_cells="\([^"]*\)".*/\1/p' | tr ',' '\n' | sed '/^$/d' | sort)
merged=$(jq -r '.cells[] | select(.state == "ran") | .cell' "$M" 2>/dev/null | sort)
if [ -n "$all" ] && [ "$merged" = "$all" ]; then
    pass "the merged report covers all $(echo "$all" | wc -l) cells of the matrix, each ran once"
else
    fail "the merged report covers all cells"; diag "want: $(echo $all)" "got:  $(echo $merged)"
fi
is "$(jq -r '[.summary.failed, .summary.errors, (.merge_problems | length)] | join(" ")' "$M" 2>/dev/null)" "0 0 0" \
    "merged: 0 failed, 0 ERROR, no merge problem"
is "$(jq -r '[.cells[] | select(.host) | .host] | unique | length' "$M" 2>/dev/null)" "$N" "merged: cells from $N hosts"
out=$(cd "$SFS_SRC" && "$AFPTEST" matrix compare "$BASELINE" "$M" 2>&1)
rc=$?
is "$rc" 0 "afptest matrix compare BASELINE merged.json: no difference"
[ "$rc" = 0 ] || printf '%s\n' "$out" | head -n 30 | sed 's/^/# /'
# The same matrix run here, on the controller: the fleet saw what it sees.
(cd "$SFS_SRC" && "$AFPTEST" matrix run "$MATRIX" --baseline "$BASELINE" -j 2 --json "$TMP/local.json") >"$TMP/local.out" 2>&1
out=$("$AFPTEST" matrix compare "$TMP/local.json" "$M" 2>&1)
rc=$?
is "$rc" 0 "afptest matrix compare local.json merged.json: the fleet's results equal a local run's"
[ "$rc" = 0 ] || { printf '%s\n' "$out" | head -n 30 | sed 's/^/# /'; grep -E '^(UNEXPECTED|CHANGED|ERROR)' "$TMP/local.out" | sed 's/^/# local: /'; }
is "$(python3 -c 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); print(len(r.findall("testsuite")), r.get("failures"), r.get("errors"))' "$TMP/results/merged.xml" 2>&1)" \
    "$(jq '.cells | length' "$M" 2>/dev/null) 0 0" "merged JUnit: one testsuite per cell, no failure, no error"

# ---- a second run against a baseline with one changed line: the package is
# not installed again, the change is found on the client that ran the cell,
# and the play fails (the gate)
BL2=$TMP/baseline-changed
cp -r "$SFS_SRC/$BASELINE" "$BL2"
f=$(ls "$BL2"/*.tsv | head -n 1)
cell=$(sed -n 's/^# sharesfs matrix baseline [0-9]*: //p' "$f")
line=$(grep -v '^#' "$f" | awk -F'\t' '$3 == "ok"' | head -n 1)
entry=${line%%$'\t'*}
awk -F'\t' -v OFS='\t' -v e="$entry" '$1 == e { $7 = "changed-dialect" } { print }' "$f" >"$f.new" && mv "$f.new" "$f"
t0=$(now)
(cd "$SFS_SRC" && nonss ansible-playbook contrib/ansible/matrix.yml -i "$TMP/plan.ini" -i "$INV" \
    -e "sharesfs_deb=$DEB" -e "matrix_baseline=$BL2" -e @contrib/ansible/lab-vars.yml \
    -e "matrix_results=$TMP/results2" -e "matrix_afptest=$AFPTEST" -e "matrix_jobs=$JOBS") >"$TMP/playbook2.log" 2>&1
rc=$?
PLAY2_SECS=$(elapsed "$t0")
diag "second playbook run: $PLAY2_SECS s"
isnt_zero() { if [ "$1" != 0 ]; then pass "$2"; else fail "$2"; fi; }
isnt_zero "$rc" "with one baseline line changed the playbook fails (matrix_gate)"
owner=$(jq -r --arg c "$cell" '.cells[] | select(.cell == $c) | .host' "$TMP/results2/merged.json" 2>/dev/null)
is "$(jq -r '[.cells[].results[] | select(.gating) | .outcome + " " + .id] | join(",")' "$TMP/results2/merged.json" 2>/dev/null)" \
    "CHANGED $cell/$entry" "merged: exactly that result is CHANGED"
like "$(grep -c 'skipping: \[client' "$TMP/playbook2.log") $(grep -A3 'Install sharesfs' "$TMP/playbook2.log" | tr '\n' ' ')" \
    "skipping: \[client1\].*skipping: \[client2\]|skipping: \[client2\].*skipping: \[client1\]" \
    "second run: the unchanged package is not installed again"
like "$(grep -F "CHANGED $cell/$entry ($owner)" "$TMP/playbook2.log" | head -n 1)" "CHANGED" \
    "the merged verdict names the client that ran the cell ($owner)"

# ---- stop
t0=$(now)
nonss "$FLEET" stop >/dev/null 2>&1
is $? 0 "fleet.sh stop"
diag "fleet stop: $(elapsed "$t0") s"
is "$(ip netns list | grep -c '^sfsfleet-')" 0 "no sfsfleet-* namespace left"
is "$(ip -o link show | grep -c 'sfsfleet')" 0 "no sfsfleet link or bridge left"
left=0
for ns in $(ip netns list | awk '/^labsfs-/ { print $1 }'); do
    ip -n "$ns" route show 10.231.70.0/24 | grep -q . && left=$((left + 1))
done
is "$left" 0 "no route to the fleet left in the lab's namespaces"
on=0
for f in /proc/sys/net/ipv4/conf/labsfs*/forwarding; do
    [ -e "$f" ] && [ "$(cat "$f")" != 0 ] && on=$((on + 1))
done
is "$on" 0 "forwarding on the lab's veths restored (off on every labsfs* link)"
is "$(pgrep -fc -- '--machine=sfsfleet-' 2>/dev/null)" 0 "no fleet container left"

done_testing
