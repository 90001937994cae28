/* Helpers every backend shares (declared in sharesfs/backend.h). */
#include "sharesfs/backend.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sharesfs/clock.h"
#include "sharesfs/net.h"

int sfs_stage_resolve(const struct sfs_target *t, struct sfs_addr *addr, struct sfs_server_info *info,
                      sfs_stage_cb cb, void *cb_ctx, struct sfs_status *st)
{
    double t0 = sfs_now_ms();
    int rc = sfs_net_resolve(t->url->host, sfs_url_port(t->url), addr, st);
    if (rc < 0)
        return rc;
    snprintf(info->address, sizeof(info->address), "%s", addr->text);
    if (cb)
        cb(cb_ctx, SFS_STAGE_RESOLVE, sfs_now_ms() - t0, NULL);
    return 0;
}

int sfs_stage_connect(const struct sfs_target *t, const struct sfs_addr *addr, sfs_stage_cb cb, void *cb_ctx,
                      struct sfs_status *st)
{
    double t0 = sfs_now_ms();
    int fd = sfs_net_connect(addr, t->timeout_ms, st);
    if (fd >= 0 && cb)
        cb(cb_ctx, SFS_STAGE_CONNECT, sfs_now_ms() - t0, NULL);
    return fd;
}

bool sfs_kept_answer_retry(const struct sfs_server_info *info, const struct sfs_status *st)
{
    return info->answer_of[0] && (st->stage == SFS_STAGE_CONNECT || st->stage == SFS_STAGE_NEGOTIATE);
}

int sfs_stage_resolve_connect(const struct sfs_target *t, struct sfs_addr *addr, struct sfs_server_info *info,
                              sfs_stage_cb cb, void *cb_ctx, struct sfs_status *st)
{
    int rc = sfs_stage_resolve(t, addr, info, cb, cb_ctx, st);
    return rc < 0 ? rc : sfs_stage_connect(t, addr, cb, cb_ctx, st);
}

void sfs_server_facts_add(struct sfs_server_facts *f, const char *label, const char *fmt, ...)
{
    if (f->n >= SFS_SERVER_FACTS_MAX)
        return;
    snprintf(f->rows[f->n].label, sizeof(f->rows[f->n].label), "%s", label);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->rows[f->n].value, sizeof(f->rows[f->n].value), fmt, ap);
    va_end(ap);
    f->n++;
}

size_t sfs_utf16_units(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t units = 0;
    for (size_t i = 0; i < n; i++) {
        if ((p[i] & 0xc0) == 0x80)
            continue;
        units += p[i] >= 0xf0 ? 2 : 1;
    }
    return units;
}

/* Length of the UTF-8 sequence at P (1-4), or 0 when it is not one:
 * overlong forms, surrogates and values past U+10FFFF are refused. */
static size_t utf8_sequence(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    size_t n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (n == 0 || p[0] > 0xf4)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) || (p[0] == 0xf0 && p[1] < 0x90) ||
        (p[0] == 0xf4 && p[1] >= 0x90))
        return 0;
    return n;
}

static bool is_utf8(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = utf8_sequence(p);
        if (n == 0)
            return false;
        p += n;
    }
    return true;
}

int sfs_path_check_names(const char *path)
{
    if (!is_utf8(path))
        return -EILSEQ;
    const char *p = path;
    while (*p) {
        size_t n = strcspn(p, "/");
        if (n > SFS_NAME_MAX_UTF16 && sfs_utf16_units(p, n) > SFS_NAME_MAX_UTF16)
            return -ENAMETOOLONG;
        p += n;
        if (*p == '/')
            p++;
    }
    return 0;
}

int sfs_path_check(const char *path, enum sfs_stage stage, const char *step, struct sfs_status *st)
{
    int rc = sfs_path_check_names(path);
    if (rc == -EILSEQ)
        return sfs_status_set(st, stage, EILSEQ, SFS_DOMAIN_SYS, EILSEQ,
                              "%s \"%.80s%s\": the name is not UTF-8, which the protocol cannot carry", step, path,
                              strlen(path) > 80 ? "..." : "");
    if (rc == -ENAMETOOLONG)
        return sfs_status_set(st, stage, ENAMETOOLONG, SFS_DOMAIN_SYS, ENAMETOOLONG,
                              "%s \"%.80s%s\": a name in it is longer than %d characters", step, path,
                              strlen(path) > 80 ? "..." : "", SFS_NAME_MAX_UTF16);
    return rc;
}
