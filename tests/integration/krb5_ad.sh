#!/bin/bash
# Active Directory: SMB with Kerberos (sec=krb5) against the lab's Samba AD DC
# dc1.ad.lab.test, realm AD.LAB.TEST, whose own KDC issues the tickets.
# netlogon and sysvol with aduser's TGT, without a ticket, with an expired
# one, with a TGT of the other realm; smbclient as the reference client.
. "$(dirname "$0")/lib.sh"
lab_join
command -v jq >/dev/null || bail "jq not installed"
[ -n "${KRB5_CONFIG:-}" ] && [ -f "$KRB5_CONFIG" ] || bail "the lab has no Kerberos (KRB5_CONFIG)"
getent hosts dc1.ad.lab.test >/dev/null || bail "dc1.ad.lab.test does not resolve: a lab without the AD DC?"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
MAP=$MAPS/auto_krb
export KRB5CCNAME=FILE:$tmp/cc
kinit_ad() { "$LAB" kinit aduser@AD.LAB.TEST "$KRB5CCNAME" "$@" >/dev/null || bail "kinit aduser@AD.LAB.TEST failed"; }
row() { jq -c --arg k "$2" '.entries[] | select(.key == $k)' <<<"$1"; }
smb_ls() {
    smbclient -s "$SHARESFS_LAB_CLIENT_CONF" -N --use-kerberos=required "//dc1.ad.lab.test/$1" -c "${2:-ls}" 2>&1
}

# With aduser's TGT from the DC's KDC.
rm -f "$tmp/cc"
kinit_ad
like "$(klist 2>&1)" "krbtgt/AD\.LAB\.TEST@AD\.LAB\.TEST" "lab.sh kinit aduser@AD.LAB.TEST: a TGT of realm AD.LAB.TEST"
out=$("$AFPTEST" probe --json -k AdNetlogon -k AdSysvol "$MAP" 2>&1)
is "$(row "$out" AdNetlogon | jq -r '"\(.stage) \(.result) \(.auth)"')" "read ok krb5" \
    "AdNetlogon: Kerberos login with aduser's ticket, netlogon read"
is "$(row "$out" AdNetlogon | jq -r .read_path)" "hello.txt" "AdNetlogon: the file read is netlogon's hello.txt"
# sysvol's top level holds only the ad.lab.test directory: nothing to read
is "$(row "$out" AdSysvol | jq -r '"\(.stage) \(.result) \(.auth)"')" "list ok krb5" \
    "AdSysvol: Kerberos login with aduser's ticket, sysvol listed"
like "$(klist 2>&1)" "cifs/dc1\.ad\.lab\.test@AD\.LAB\.TEST" \
    "the service ticket is cifs/dc1.ad.lab.test@AD.LAB.TEST (.ad.lab.test maps to AD.LAB.TEST)"

# smbclient, the reference client, with the same ccache.
got=$(smb_ls netlogon)
rc=$?
is "$rc" 0 "smbclient --use-kerberos=required lists //dc1.ad.lab.test/netlogon"
like "$got" "hello\.txt" "smbclient: netlogon holds hello.txt"
is "$(smb_ls netlogon 'get hello.txt -' | head -n 1)" "Hello from the sharesfs lab (netlogon on dc1.ad.lab.test)." \
    "smbclient: hello.txt's contents"
like "$(smb_ls sysvol)" "ad\.lab\.test +D" "smbclient lists sysvol (the ad.lab.test directory)"

# No ticket: sharesfs stops before sending anything to the server.
rm -f "$tmp/cc"
out=$("$AFPTEST" probe --json -k AdNetlogon "$MAP" 2>&1)
is "$(row "$out" AdNetlogon | jq -r '"\(.stage) \(.result) \(.status.name)"')" "authenticate ENOKEY KRB5_FCC_NOFILE" \
    "no ticket: authenticate, ENOKEY"
got=$(smb_ls netlogon)
like "$got" "NT_STATUS_INVALID_PARAMETER" "smbclient without a ticket: NT_STATUS_INVALID_PARAMETER"

# Expired TGT.
kinit_ad -l 3s
sleep 4
out=$("$AFPTEST" probe --json -k AdNetlogon "$MAP" 2>&1)
is "$(row "$out" AdNetlogon | jq -r '"\(.stage) \(.result)"')" "authenticate EKEYEXPIRED" "expired TGT: authenticate, EKEYEXPIRED"
like "$(row "$out" AdNetlogon | jq -r .detail)" "TGT of aduser@AD\.LAB\.TEST expired at .* UTC" "the report gives the expiry time"
got=$(smb_ls netlogon)
like "$got" "NT_STATUS_LOGON_FAILURE" "smbclient with an expired TGT: NT_STATUS_LOGON_FAILURE"

# A TGT of the other realm (labuser@LAB.TEST, no trust): the realm of the
# DC's name comes from [domain_realm], where .ad.lab.test beats .lab.test.
rm -f "$tmp/cc"
"$LAB" kinit labuser "$KRB5CCNAME" >/dev/null || bail "kinit labuser failed"
out=$("$AFPTEST" probe --json -k AdNetlogon "$MAP" 2>&1)
is "$(row "$out" AdNetlogon | jq -r '"\(.stage) \(.result)"')" "authenticate EREMOTE" "TGT of LAB.TEST for the AD DC: EREMOTE"
like "$(row "$out" AdNetlogon | jq -r .detail)" "server cifs/dc1\.ad\.lab\.test@AD\.LAB\.TEST is in realm AD\.LAB\.TEST" \
    "the report names the DC's realm"
done_testing
