/* Helpers every backend shares (declared in sharesfs/backend.h). */
#include "sharesfs/backend.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sharesfs/clock.h"
#include "sharesfs/net.h"

int sfs_stage_resolve_connect(const struct sfs_target *t, struct sfs_addr *addr, struct sfs_server_info *info,
                              sfs_stage_cb cb, void *cb_ctx, struct sfs_status *st)
{
    double t0 = sfs_now_ms();
    int rc = sfs_net_resolve(t->url->host, sfs_url_port(t->url), addr, st);
    if (rc < 0)
        return rc;
    snprintf(info->address, sizeof(info->address), "%s", addr->text);
    if (cb)
        cb(cb_ctx, SFS_STAGE_RESOLVE, sfs_now_ms() - t0, NULL);
    t0 = sfs_now_ms();
    int fd = sfs_net_connect(addr, t->timeout_ms, st);
    if (fd >= 0 && cb)
        cb(cb_ctx, SFS_STAGE_CONNECT, sfs_now_ms() - t0, NULL);
    return fd;
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

int sfs_path_check_names(const char *path)
{
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
