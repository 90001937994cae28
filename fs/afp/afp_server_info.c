/* FPGetSrvrInfo as labelled lines for `afptest info`: everything the
 * server says about itself before a login. */
#include <stdio.h>
#include <string.h>

#include "afp_backend.h"
#include "afp_proto.h"

static void add_list(struct sfs_server_facts *f, const char *label, const char list[][AFP_SRVRINFO_STR], size_t n,
                     size_t total)
{
    char text[768] = "";
    size_t len = 0;
    for (size_t i = 0; i < n && len < sizeof(text); i++)
        len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s", i ? ", " : "", list[i]);
    if (total > n && len < sizeof(text))
        snprintf(text + len, sizeof(text) - len, " (+%zu more)", total - n);
    sfs_server_facts_add(f, label, "%s", n ? text : "(none)");
}

static void add_flags(struct sfs_server_facts *f, uint16_t flags)
{
    static const struct {
        uint16_t bit;
        const char *name;
    } names[] = {
        {kSupportsCopyFile, "CopyFile"},       {kSupportsChgPwd, "ChangePassword"},
        {kDontAllowSavePwd, "NoSavePassword"}, {kSupportsSrvrMsg, "ServerMessages"},
        {kSrvrSig, "ServerSignature"},         {kSupportsTCP, "TCP/IP"},
        {kSupportsSrvrNotify, "ServerNotify"}, {kSupportsReconnect, "Reconnect"},
        {kSupportsDirServices, "DirectoryServices"}, {kSupportsUTF8SrvrName, "UTF8ServerName"},
        {kSupportsUUIDs, "UUIDs"},             {kSupportsExtSleep, "ExtendedSleep"},
        {kSupportsSuperClient, "SuperClient"},
    };
    char text[768];
    size_t len = (size_t)snprintf(text, sizeof(text), "0x%04x", flags);
    const char *sep = " (";
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && len < sizeof(text); i++)
        if (flags & names[i].bit) {
            len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s", sep, names[i].name);
            sep = ", ";
        }
    if (sep[0] == ',' && len < sizeof(text))
        snprintf(text + len, sizeof(text) - len, ")");
    sfs_server_facts_add(f, "flags:", "%s", text);
}

void afp_srvrinfo_facts(const struct afp_srvrinfo *si, struct sfs_server_facts *f)
{
    sfs_server_facts_add(f, "server name:", "%s", si->server_name);
    if (si->has_utf8_name)
        sfs_server_facts_add(f, "UTF-8 name:", "%s", si->utf8_name);
    sfs_server_facts_add(f, "machine type:", "%s", si->machine_type);
    add_list(f, "AFP versions:", si->versions, si->n_versions, si->n_versions_total);
    add_list(f, "UAMs:", si->uams, si->n_uams, si->n_uams_total);
    add_flags(f, si->flags);
    if (si->has_signature) {
        char hex[2 * AFP_SIGNATURE_LEN + 1];
        for (int i = 0; i < AFP_SIGNATURE_LEN; i++)
            snprintf(hex + 2 * i, 3, "%02x", si->signature[i]);
        sfs_server_facts_add(f, "signature:", "%s", hex);
    }
    char text[768] = "";
    size_t len = 0;
    for (size_t i = 0; i < si->n_addrs && len < sizeof(text); i++) {
        char a[300];
        afp_net_addr_format(&si->addrs[i], a, sizeof(a));
        len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s (%s)", i ? ", " : "", a,
                                afp_addr_tag_name(si->addrs[i].tag));
    }
    sfs_server_facts_add(f, "addresses:", "%s", si->n_addrs ? text : "(none)");
    add_list(f, "directory names:", si->dirnames, si->n_dirnames, si->n_dirnames_total);
    if (si->quirks)
        sfs_server_facts_add(f, "quirks:", "0x%x (the reply needed leniency: see docs/afp.md)", si->quirks);
}
