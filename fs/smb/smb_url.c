/* URLs for libsmbclient.  It percent-decodes the URL and takes '?' as the
 * start of its options: a name with '%' or '?' must be encoded, or it
 * names another file.  URLs are sized to what they hold: the only length
 * limit is the protocol's (SMB_PATH_MAX_UTF16), never a buffer of ours. */
#include "smb_url.h"

#include "sharesfs/backend.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool url_plain(unsigned char ch, bool keep_slash)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
           ch == '_' || ch == '.' || ch == '~' || ch == '$' || (keep_slash && ch == '/');
}

/* Bytes S takes once encoded, without a terminator. */
static size_t encoded_len(const char *s, bool keep_slash)
{
    size_t n = 0;
    for (; *s; s++)
        n += url_plain((unsigned char)*s, keep_slash) ? 1 : 3;
    return n;
}

/* Writes S encoded at OUT (room: encoded_len + 1); returns its end. */
static char *put_encoded(char *out, const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (url_plain(ch, keep_slash)) {
            *out++ = (char)ch;
        } else {
            *out++ = '%';
            *out++ = hex[ch >> 4];
            *out++ = hex[ch & 15];
        }
    }
    *out = '\0';
    return out;
}

int smb_url_for(const char *base_url, const char *path, char **out)
{
    while (*path == '/')
        path++;
    if (sfs_utf16_units(path, strlen(path)) > SMB_PATH_MAX_UTF16)
        return -ENAMETOOLONG;
    size_t base_len = strlen(base_url);
    char *url = malloc(base_len + 1 + encoded_len(path, true) + 1);
    if (!url)
        return -ENOMEM;
    memcpy(url, base_url, base_len + 1);
    if (*path) {
        url[base_len] = '/';
        put_encoded(url + base_len + 1, path, true);
    }
    *out = url;
    return 0;
}

/* libsmbclient takes IPv6 hosts in brackets, as they are. */
static size_t host_len(const struct sfs_url *u)
{
    return u->host_is_ipv6 ? strlen(u->host) + 2 : encoded_len(u->host, false);
}

static char *put_host(char *out, const struct sfs_url *u)
{
    if (!u->host_is_ipv6)
        return put_encoded(out, u->host, false);
    return out + sprintf(out, "[%s]", u->host);
}

int smb_url_base(const struct sfs_url *u, char **out)
{
    const char *share = u->share ? u->share : "", *path = u->path ? u->path : "";
    if (sfs_utf16_units(path, strlen(path)) > SMB_PATH_MAX_UTF16)
        return -ENAMETOOLONG;
    static const char scheme[] = "smb://";
    /* scheme, host, '/', share, '/', path, terminator */
    char *url = malloc(strlen(scheme) + host_len(u) + 1 + encoded_len(share, false) + 1 +
                       encoded_len(path, true) + 1);
    if (!url)
        return -ENOMEM;
    char *end = put_host(url + sprintf(url, "%s", scheme), u);
    *end++ = '/';
    end = put_encoded(end, share, false);
    if (*path) {
        *end++ = '/';
        put_encoded(end, path, true);
    }
    *out = url;
    return 0;
}
