/* The percent-encoded smb:// URLs libsmbclient takes: one for the share
 * (and the base path of the entry), one per path below it. */
#ifndef SHARESFS_SMB_URL_H
#define SHARESFS_SMB_URL_H

#include <stddef.h>

#include "sharesfs/url.h"

/* The longest path SMB carries: SMB2 CREATE's name length is a 16-bit count
 * of bytes of UTF-16, so 32767 code units (Windows' own limit).  Anything
 * shorter is sent, and the server refuses what it refuses. */
#define SMB_PATH_MAX_UTF16 32767

/* smb://host/share[/path] of U, malloc'd into *OUT (the port is set on the
 * context, not in the URL).  0, -ENAMETOOLONG (the path is longer than SMB
 * carries) or -ENOMEM. */
int smb_url_base(const struct sfs_url *u, char **out);
/* BASE_URL/PATH, malloc'd into *OUT; PATH is relative to the mount root
 * ("/a/b", "a/b" and "/" all work).  0, -ENAMETOOLONG (PATH is longer than
 * SMB carries) or -ENOMEM. */
int smb_url_for(const char *base_url, const char *path, char **out);

#endif
