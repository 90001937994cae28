/* server_info for SMB: our own NEGOTIATE (smb_negotiate.c) over NT1..SMB3_11,
 * no session setup. */
#include <stdio.h>
#include <unistd.h>

#include "sharesfs/net.h"
#include "smb_backend.h"
#include "smb_negotiate.h"

int smb_server_info(const struct sfs_target *t, struct sfs_server_info *info, struct sfs_server_facts *facts,
                    struct sfs_status *st)
{
    struct sfs_addr addr;
    int fd = sfs_stage_resolve_connect(t, &addr, info, NULL, NULL, st);
    if (fd < 0)
        return fd;
    struct smb_negotiate_result neg;
    int rc = smb_negotiate_probe(fd, SMB_DIALECT_NT1, SMB_DIALECT_SMB3_11, t->timeout_ms, &neg, st);
    close(fd);
    if (rc < 0)
        return rc;
    snprintf(info->dialect, sizeof(info->dialect), "%s", smb_dialect_name(neg.dialect));
    sfs_server_facts_add(facts, "dialect:", "%s (offered NT1..SMB3_11)", smb_dialect_name(neg.dialect));
    sfs_server_facts_add(facts, "security mode:", "0x%04x (signing %s)", neg.security_mode,
                         neg.security_mode & 2 ? "required" : neg.security_mode & 1 ? "enabled" : "off");
    if (neg.dialect >= SMB_DIALECT_SMB2_02) {
        sfs_server_facts_add(facts, "capabilities:", "0x%08x%s", neg.capabilities,
                             neg.capabilities & 0x40 ? " (encryption)" : "");
        char guid[33];
        for (int i = 0; i < 16; i++)
            snprintf(guid + 2 * i, 3, "%02x", neg.server_guid[i]);
        sfs_server_facts_add(facts, "server GUID:", "%s", guid);
    }
    return 0;
}
