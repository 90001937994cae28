/* The rule of every file that holds a password (credentials files, the
 * LDAP bind's password file), in one place. */
#include "sharesfs/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int sfs_secret_file_open(const char *path, uid_t owner, struct sfs_secret_file *out)
{
    *out = (struct sfs_secret_file){.fd = -1};
    /* O_NONBLOCK: opening a FIFO with no writer would block for good (a
     * probe's parse stage has no deadline); a per-user file is never
     * reached through a symbolic link. */
    int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (owner != SFS_ANY_UID ? O_NOFOLLOW : 0);
    int fd = open(path, flags);
    if (fd < 0) {
        out->err = errno;
        out->fault = out->err == ELOOP && owner != SFS_ANY_UID ? SFS_SECRET_FILE_NOT_REGULAR : SFS_SECRET_FILE_OPEN;
        if (out->fault == SFS_SECRET_FILE_NOT_REGULAR)
            out->mode = S_IFLNK;
        return -1;
    }
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        out->err = errno;
        out->fault = SFS_SECRET_FILE_OPEN;
        close(fd);
        return -1;
    }
    out->mode = sb.st_mode;
    out->uid = sb.st_uid;
    if (!S_ISREG(sb.st_mode))
        out->fault = SFS_SECRET_FILE_NOT_REGULAR;
    else if (owner != SFS_ANY_UID && sb.st_uid != owner)
        out->fault = SFS_SECRET_FILE_OWNER;
    else if ((sb.st_mode & 077) != 0)
        out->fault = SFS_SECRET_FILE_MODE;
    if (out->fault != SFS_SECRET_FILE_OK) {
        close(fd);
        return -1;
    }
    /* A regular file reads the same either way; the reader may block. */
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    out->fd = fd;
    return fd;
}
