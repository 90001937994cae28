#!/bin/bash
# Every afpsim personality (contrib/afpsim/personalities/*.conf, started by
# this test on 127.0.0.232) against every UAM sharesfs implements: a UAM the
# personality lists logs in and reads; one it does not list fails at
# authenticate with EPROTONOSUPPORT, and the report names what it offers.
# The AFP version afptest picks is the highest 3.x the personality lists.
. "$(dirname "$0")/lib.sh"
lab_join
need_afpsim
ADDR=127.0.0.232
PORT=10548
UAMS=("No User Authent" "Cleartxt Passwrd" "DHCAST128" "DHX2")
personalities=()
for f in "$SFS_SRC"/contrib/afpsim/personalities/*.conf; do
    [ "$(basename "$f")" = hostile.conf ] || personalities+=("$f")
done
plan $(( ${#personalities[@]} * (1 + ${#UAMS[@]} * 2) ))

tmp=$(mktemp -d)
mkdir -p "$tmp/Public" "$tmp/Private"
echo hello >"$tmp/Public/hello.txt"
echo secret >"$tmp/Private/secret.txt"
printf 'labuser:Lab-Passw0rd\nclruser:Clr8pass\n' >"$tmp/users"
chmod 600 "$tmp/users"
printf '[global]\nallow_cleartext = true\n' >"$tmp/clear.conf"
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT

# The highest AFP 3.x string a personality lists (what afptest must pick).
highest_afp3() {
    tr ';' '\n' <<<"$1" | awk '
        /^AFPX03$/ { v = 30; s = $0 } /^AFP3\.[0-9]$/ { n = substr($0, 6) + 30; v = n; s = $0 }
        v > best { best = v; bs = s } END { print bs }'
}

for f in "${personalities[@]}"; do
    name=$(basename "$f" .conf)
    uams=$(sed -n 's/^uams *= *//p' "$f")
    versions=$(sed -n 's/^afp_versions *= *//p' "$f")
    "$AFPSIM" --listen "$ADDR:$PORT" --foreground --personality "$f" --users "$tmp/users" \
        --volume "Public=$tmp/Public" --volume "Private=$tmp/Private:valid=labuser,clruser" \
        >"$tmp/$name.log" 2>&1 &
    server=$!
    tcp_wait "$ADDR" "$PORT"
    : >"$tmp/map"
    for i in "${!UAMS[@]}"; do
        uam=${UAMS[$i]}
        enc=${uam// /%20}
        case $uam in
            "No User Authent") printf 'u%d\tafp://;AUTH=%s@%s:%d/Public\n' "$i" "$enc" "$ADDR" "$PORT" ;;
            "Cleartxt Passwrd") printf 'u%d\t-fstype=url,credentials=%s\tafp://clruser;AUTH=%s@%s:%d/Private\n' \
                "$i" "$SHARESFS_LAB_DIR/creds/clruser.cred" "$enc" "$ADDR" "$PORT" ;;
            *) printf 'u%d\t-fstype=url,credentials=%s\tafp://labuser;AUTH=%s@%s:%d/Private\n' \
                "$i" "$SHARESFS_LAB_DIR/creds/labuser.cred" "$enc" "$ADDR" "$PORT" ;;
        esac >>"$tmp/map"
    done
    out=$("$AFPTEST" probe --json -j 4 -t 5 -c "$tmp/clear.conf" "$tmp/map" 2>&1)
    kill "$server"
    wait "$server" 2>/dev/null
    server=
    is "$(jq -r '.entries[0].server.dialect' <<<"$out")" "$(highest_afp3 "$versions")" "$name: AFP version chosen"
    for i in "${!UAMS[@]}"; do
        uam=${UAMS[$i]}
        row=$(jq -c --arg k "u$i" '.entries[] | select(.key == $k)' <<<"$out")
        if grep -qiF ";$uam;" <<<";$uams"; then
            is "$(jq -r '"\(.stage) \(.result)"' <<<"$row")" "read ok" "$name: $uam (offered) logs in and reads"
            pass "$name: $uam (offered)"
        else
            is "$(jq -r '"\(.stage) \(.result)"' <<<"$row")" "authenticate EPROTONOSUPPORT" \
                "$name: $uam (not offered) fails at authenticate"
            like "$(jq -r .detail <<<"$row")" "it offers: " "$name: the report lists what the server offers"
        fi
    done
done
done_testing
