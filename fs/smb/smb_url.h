/* The percent-encoded smb:// URLs libsmbclient takes: one for the share
 * (and the base path of the entry), one per path below it. */
#ifndef SHARESFS_SMB_URL_H
#define SHARESFS_SMB_URL_H

#include <stddef.h>

#include "sharesfs/url.h"

/* smb://host/share[/path] of U, malloc'd into *OUT (the port is set on the
 * context, not in the URL).  0, -ENAMETOOLONG or -ENOMEM. */
int smb_url_base(const struct sfs_url *u, char **out);
/* BASE_URL/PATH into OUT; PATH is relative to the mount root ("/a/b", "a/b"
 * and "/" all work).  0 or -ENAMETOOLONG. */
int smb_url_for(const char *base_url, const char *path, char *out, size_t cap);

#endif
