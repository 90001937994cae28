/* "ldap://host[:port]" and "ldaps://host[:port]": ours, not ldap_url_parse,
 * which also takes ldapi://, cldap://, lists and extensions that a map
 * source has no use for.  A trailing "/" or "/DN..." is ignored (the base
 * is configured on its own). */
#include "dir_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int bad(struct sfs_status *st, const char *uri, const char *why)
{
    return sfs_status_set(st, SFS_STAGE_MAP, EINVAL, SFS_DOMAIN_URL, 0, "directory URI \"%.200s\": %s",
                          uri ? uri : "", why);
}

int dir_uri_parse(const char *uri, struct dir_uri *out, struct sfs_status *st)
{
    memset(out, 0, sizeof(*out));
    if (!uri)
        return bad(st, uri, "missing");
    const char *p;
    if (strncasecmp(uri, "ldap://", 7) == 0) {
        p = uri + 7;
    } else if (strncasecmp(uri, "ldaps://", 8) == 0) {
        out->ldaps = true;
        p = uri + 8;
    } else {
        return bad(st, uri, "expected ldap://host[:port] or ldaps://host[:port]");
    }
    const char *host = p, *host_end;
    bool v6 = *p == '[';
    if (v6) {
        host = p + 1;
        host_end = strchr(host, ']');
        if (!host_end)
            return bad(st, uri, "unterminated [IPv6 address]");
        p = host_end + 1;
    } else {
        host_end = p + strcspn(p, ":/?");
        p = host_end;
    }
    size_t hlen = (size_t)(host_end - host);
    if (hlen == 0)
        return bad(st, uri, "no host");
    if (hlen > 239)   /* the canonical text must fit in 256 */
        return bad(st, uri, "host name too long");
    memcpy(out->host, host, hlen);
    out->host[hlen] = '\0';
    if (strpbrk(out->host, " \t@%"))
        return bad(st, uri, "bad character in the host");
    out->port = out->ldaps ? 636 : 389;
    if (*p == ':') {
        char *end;
        errno = 0;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || errno || port < 1 || port > 65535 || (*end && *end != '/'))
            return bad(st, uri, "bad port");
        out->port = (int)port;
        p = end;
    }
    if (*p && *p != '/')
        return bad(st, uri, "unexpected text after the host");
    snprintf(out->text, sizeof(out->text), "%s://%s%.239s%s:%d", out->ldaps ? "ldaps" : "ldap", v6 ? "[" : "",
             out->host, v6 ? "]" : "", out->port);
    return 0;
}
