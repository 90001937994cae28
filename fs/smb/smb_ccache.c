/* libsmbclient (Samba) ignores a FILE ccache owned by another uid than
 * its process's: the session setup then fails with INVALID_PARAMETER (seen
 * here with a user's ticket in sharesfs, which runs as root, for that
 * user's own session).  So such a ccache is used through a private copy
 * owned by this process, removed when the connection ends.  The ticket
 * has already been checked to be the user's own (the FUSE layer takes
 * only a ccache file the calling user owns). */
#include "smb_ccache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CCACHE_MAX (1 << 20)   /* a ccache is a few KiB; refuse anything absurd */

int smb_ccache_private_copy(const char *ccache, char **name, char **copy_path)
{
    *name = *copy_path = NULL;
    if (!ccache || strncmp(ccache, "FILE:", 5) != 0)
        return 0;
    const char *path = ccache + 5;
    int in = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);   /* a FIFO must not block */
    if (in < 0)
        return 0;   /* the pre-flight has said why already */
    struct stat sb;
    if (fstat(in, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_uid == geteuid() || sb.st_size > CCACHE_MAX) {
        close(in);
        return 0;
    }
    char tmpl[] = "/tmp/sharesfs-krb5cc-XXXXXX";
    int out = mkostemp(tmpl, O_CLOEXEC);   /* mode 0600, ours */
    if (out < 0) {
        int e = errno;
        close(in);
        return -e;
    }
    char buf[8192];
    ssize_t n;
    int rc = 0;
    while ((n = read(in, buf, sizeof(buf))) > 0)
        if (write(out, buf, (size_t)n) != n) {
            rc = -EIO;
            break;
        }
    if (n < 0)
        rc = -errno;
    close(in);
    if (close(out) < 0 && rc == 0)
        rc = -errno;
    if (rc < 0) {
        unlink(tmpl);
        return rc;
    }
    *copy_path = strdup(tmpl);
    if (!*copy_path || asprintf(name, "FILE:%s", tmpl) < 0) {
        unlink(tmpl);
        free(*copy_path);
        *copy_path = NULL;
        *name = NULL;
        return -ENOMEM;
    }
    return 1;
}
