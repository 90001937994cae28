/* URLs for libsmbclient.  It percent-decodes the URL and takes '?' as the
 * start of its options: a name with '%' or '?' must be encoded, or it
 * names another file. */
#include "smb_url.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int append_encoded(char *out, size_t cap, size_t *len, const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                     ch == '-' || ch == '_' || ch == '.' || ch == '~' || ch == '$' || (keep_slash && ch == '/');
        if (*len + 4 >= cap)
            return -ENAMETOOLONG;
        if (plain) {
            out[(*len)++] = (char)ch;
        } else {
            out[(*len)++] = '%';
            out[(*len)++] = hex[ch >> 4];
            out[(*len)++] = hex[ch & 15];
        }
    }
    out[*len] = '\0';
    return 0;
}

int smb_url_for(const char *base_url, const char *path, char *out, size_t cap)
{
    size_t len = strlen(base_url);
    if (len + 1 >= cap)
        return -ENAMETOOLONG;
    memcpy(out, base_url, len + 1);
    while (*path == '/')
        path++;
    if (*path) {
        out[len++] = '/';
        return append_encoded(out, cap, &len, path, true);
    }
    return 0;
}

/* libsmbclient takes IPv6 hosts in brackets, as they are. */
static int append_host(char *out, size_t cap, size_t *len, const struct sfs_url *u)
{
    if (!u->host_is_ipv6)
        return append_encoded(out, cap, len, u->host, false);
    int n = snprintf(out + *len, cap - *len, "[%s]", u->host);
    if (n < 0 || (size_t)n + 4 >= cap - *len)
        return -ENAMETOOLONG;   /* a zone name can be any length */
    *len += (size_t)n;
    return 0;
}

int smb_url_base(const struct sfs_url *u, char **out)
{
    char buf[4096];
    size_t len = (size_t)snprintf(buf, sizeof(buf), "smb://");
    int rc = append_host(buf, sizeof(buf), &len, u);
    if (rc == 0) {
        buf[len++] = '/';
        rc = append_encoded(buf, sizeof(buf), &len, u->share, false);
    }
    if (rc == 0 && u->path && *u->path) {
        buf[len++] = '/';
        rc = append_encoded(buf, sizeof(buf), &len, u->path, true);
    }
    if (rc < 0)
        return rc;
    *out = strdup(buf);
    return *out ? 0 : -ENOMEM;
}
