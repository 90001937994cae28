#include "sharesfs/text.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *sfs_strdup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

bool sfs_is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

const char *sfs_file_kind_name(mode_t mode)
{
    if (S_ISREG(mode))
        return "a regular file";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISLNK(mode))
        return "a symbolic link";
    return "not a file";
}
