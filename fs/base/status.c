#include "sharesfs/status.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const stage_names[SFS_STAGE_COUNT] = {
    [SFS_STAGE_NONE] = "none",
    [SFS_STAGE_PARSE] = "parse",
    [SFS_STAGE_MAP] = "map",
    [SFS_STAGE_RESOLVE] = "resolve",
    [SFS_STAGE_CONNECT] = "connect",
    [SFS_STAGE_NEGOTIATE] = "negotiate",
    [SFS_STAGE_AUTHENTICATE] = "authenticate",
    [SFS_STAGE_MOUNT] = "mount",
    [SFS_STAGE_LIST] = "list",
    [SFS_STAGE_READ] = "read",
    [SFS_STAGE_WRITE] = "write",
};

const char *sfs_stage_name(enum sfs_stage stage)
{
    if ((unsigned)stage >= SFS_STAGE_COUNT)
        return "?";
    return stage_names[stage];
}

const char *sfs_domain_name(enum sfs_domain domain)
{
    switch (domain) {
    case SFS_DOMAIN_NONE: return "none";
    case SFS_DOMAIN_SYS: return "sys";
    case SFS_DOMAIN_AFP: return "afp";
    case SFS_DOMAIN_SMB: return "smb";
    case SFS_DOMAIN_KRB5: return "krb5";
    case SFS_DOMAIN_GSS: return "gss";
    case SFS_DOMAIN_DNS: return "dns";
    case SFS_DOMAIN_MAP: return "map";
    case SFS_DOMAIN_URL: return "url";
    case SFS_DOMAIN_CONFIG: return "config";
    case SFS_DOMAIN_LDAP: return "ldap";
    }
    return "?";
}

void sfs_status_clear(struct sfs_status *st)
{
    memset(st, 0, sizeof(*st));
}

void sfs_write_error_keep(struct sfs_write_error *we, int err, const struct sfs_status *st)
{
    if (err < 0 && !we->err) {
        we->err = err;
        we->st = *st;
        we->st.stage = SFS_STAGE_WRITE;
    }
}

int sfs_write_error_report(struct sfs_write_error *we, bool forget, struct sfs_status *st)
{
    int rc = we->err;
    if (rc < 0) {
        *st = we->st;
        if (forget)
            we->err = 0;
    }
    return rc;
}

int sfs_status_set(struct sfs_status *st, enum sfs_stage stage, int err,
                   enum sfs_domain domain, long code, const char *fmt, ...)
{
    if (!st)
        return -err;
    st->stage = stage;
    st->err = err;
    st->domain = domain;
    st->code = code;
    st->detail[0] = '\0';
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(st->detail, sizeof(st->detail), fmt, ap);
        va_end(ap);
    }
    return -err;
}

int sfs_status_prefix(struct sfs_status *st, const char *fmt, ...)
{
    if (!st)
        return 0;
    char was[SFS_DETAIL_MAX];
    memcpy(was, st->detail, sizeof(was));
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(st->detail, sizeof(st->detail), fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof(st->detail))
        snprintf(st->detail + n, sizeof(st->detail) - (size_t)n, "%s", was);
    return -st->err;
}

void sfs_status_code_text(const struct sfs_status *st, char *buf, size_t len)
{
    const char *name = NULL;
    if (len == 0)
        return;
    buf[0] = '\0';
    switch (st->domain) {
    case SFS_DOMAIN_SMB:
        name = sfs_ntstatus_name((uint32_t)st->code);
        if (name)
            snprintf(buf, len, "%s (0x%08lx)", name, (unsigned long)(uint32_t)st->code);
        else
            snprintf(buf, len, "NTSTATUS 0x%08lx", (unsigned long)(uint32_t)st->code);
        break;
    case SFS_DOMAIN_AFP:
        name = sfs_afp_result_name((int32_t)st->code);
        snprintf(buf, len, "%s (%ld)", name ? name : "AFP result", st->code);
        break;
    case SFS_DOMAIN_KRB5:
        name = sfs_krb5_error_name(st->code);
        if (name)
            snprintf(buf, len, "%s", name);
        else if (st->code)
            snprintf(buf, len, "krb5 error %ld", st->code);
        break;
    case SFS_DOMAIN_GSS:
        snprintf(buf, len, "GSS major 0x%08lx", (unsigned long)st->code);
        break;
    case SFS_DOMAIN_DNS:
        snprintf(buf, len, "EAI %ld", st->code);
        break;
    case SFS_DOMAIN_LDAP:
        name = sfs_ldap_result_name((int)st->code);
        snprintf(buf, len, "%s (%ld)", name ? name : "LDAP result", st->code);
        break;
    default:
        break;
    }
}
