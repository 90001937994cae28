/* afptest info URL: what a server says about itself before any login.
 * AFP: the whole FPGetSrvrInfo reply; SMB: our NEGOTIATE's result. */
#include "info.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "afp/afp_proto.h"
#include "afp/afp_srvrinfo.h"
#include "afp/dsi_session.h"
#include "core/net.h"
#include "sharesfs/url.h"
#include "smb/smb_negotiate.h"

static void print_list(const char *label, char list[][AFP_SRVRINFO_STR], size_t n, size_t total)
{
    printf("%-20s", label);
    for (size_t i = 0; i < n; i++)
        printf("%s%s", i ? ", " : "", list[i]);
    if (total > n)
        printf(" (+%zu more)", total - n);
    printf("%s\n", n ? "" : "(none)");
}

static void print_flags(uint16_t flags)
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
    printf("%-20s0x%04x", "flags:", flags);
    const char *sep = " (";
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (flags & names[i].bit) {
            printf("%s%s", sep, names[i].name);
            sep = ", ";
        }
    printf("%s\n", sep[0] == ',' ? ")" : "");
}

static int afp_info(const struct sfs_url *url, int timeout_ms)
{
    struct sfs_status st = {0};
    struct sfs_addr addr;
    int fd;
    if (sfs_net_resolve(url->host, sfs_url_port(url), &addr, &st) < 0 ||
        (fd = sfs_net_connect(&addr, timeout_ms, &st)) < 0) {
        fprintf(stderr, "afptest: %s: %s: %s\n", url->host, sfs_stage_name(st.stage), st.detail);
        return 1;
    }
    uint8_t *reply = NULL;
    size_t len = 0;
    if (dsi_get_status(fd, timeout_ms, &reply, &len, &st) < 0) {
        fprintf(stderr, "afptest: %s: %s\n", url->host, st.detail);
        return 1;
    }
    struct afp_srvrinfo si;
    int rc = afp_srvrinfo_parse(reply, len, &si);
    free(reply);
    if (rc < 0) {
        fprintf(stderr, "afptest: %s: FPGetSrvrInfo reply is malformed (%zu bytes)\n", url->host, len);
        return 1;
    }
    printf("%-20s%s (%s)\n", "address:", addr.text, url->host);
    printf("%-20s%s\n", "server name:", si.server_name);
    if (si.has_utf8_name)
        printf("%-20s%s\n", "UTF-8 name:", si.utf8_name);
    printf("%-20s%s\n", "machine type:", si.machine_type);
    print_list("AFP versions:", si.versions, si.n_versions, si.n_versions_total);
    print_list("UAMs:", si.uams, si.n_uams, si.n_uams_total);
    print_flags(si.flags);
    if (si.has_signature) {
        printf("%-20s", "signature:");
        for (int i = 0; i < AFP_SIGNATURE_LEN; i++)
            printf("%02x", si.signature[i]);
        printf("\n");
    }
    printf("%-20s", "addresses:");
    for (size_t i = 0; i < si.n_addrs; i++) {
        char a[300];
        afp_net_addr_format(&si.addrs[i], a, sizeof(a));
        printf("%s%s (%s)", i ? ", " : "", a, afp_addr_tag_name(si.addrs[i].tag));
    }
    printf("%s\n", si.n_addrs ? "" : "(none)");
    print_list("directory names:", si.dirnames, si.n_dirnames, si.n_dirnames_total);
    if (si.quirks)
        printf("%-20s0x%x (the reply needed leniency: see docs/afp.md)\n", "quirks:", si.quirks);
    return 0;
}

static int smb_info(const struct sfs_url *url, int timeout_ms)
{
    struct sfs_status st = {0};
    struct sfs_addr addr;
    int fd;
    if (sfs_net_resolve(url->host, sfs_url_port(url), &addr, &st) < 0 ||
        (fd = sfs_net_connect(&addr, timeout_ms, &st)) < 0) {
        fprintf(stderr, "afptest: %s: %s: %s\n", url->host, sfs_stage_name(st.stage), st.detail);
        return 1;
    }
    struct smb_negotiate_result neg;
    int rc = smb_negotiate_probe(fd, SMB_DIALECT_NT1, SMB_DIALECT_SMB3_11, timeout_ms, &neg, &st);
    close(fd);
    if (rc < 0) {
        fprintf(stderr, "afptest: %s: negotiate: %s\n", url->host, st.detail);
        return 1;
    }
    printf("%-20s%s (%s)\n", "address:", addr.text, url->host);
    printf("%-20s%s (offered NT1..SMB3_11)\n", "dialect:", smb_dialect_name(neg.dialect));
    printf("%-20s0x%04x (signing %s)\n", "security mode:", neg.security_mode,
           neg.security_mode & 2 ? "required" : neg.security_mode & 1 ? "enabled" : "off");
    if (neg.dialect >= SMB_DIALECT_SMB2_02) {
        printf("%-20s0x%08x%s\n", "capabilities:", neg.capabilities, neg.capabilities & 0x40 ? " (encryption)" : "");
        printf("%-20s", "server GUID:");
        for (int i = 0; i < 16; i++)
            printf("%02x", neg.server_guid[i]);
        printf("\n");
    }
    return 0;
}

int afptest_info(const char *text, int timeout_ms)
{
    struct sfs_url url;
    struct sfs_parse_error perr = {0};
    if (sfs_url_parse(text, &url, &perr) < 0) {
        char msg[600];
        sfs_parse_error_format(&perr, msg, sizeof(msg));
        fprintf(stderr, "afptest: URL: %s\n", msg);
        return 2;
    }
    int rc = url.proto == SFS_PROTO_AFP ? afp_info(&url, timeout_ms) : smb_info(&url, timeout_ms);
    sfs_url_free(&url);
    return rc;
}
