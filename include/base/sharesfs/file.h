/* What a named file is, found without blocking: for the checks of files
 * that name settings or secrets (a FIFO with no writer would block a
 * plain open for good). */
#ifndef SHARESFS_FILE_H
#define SHARESFS_FILE_H

#include <sys/stat.h>
#include <sys/types.h>

/* Opens PATH without blocking (O_NONBLOCK, O_NOCTTY), fstat()s and closes
 * it: 0 with *SB filled, or the errno of the open or fstat. */
int sfs_file_peek(const char *path, struct stat *sb);
/* What a file is, for messages: "a FIFO", "a directory", "a regular file"... */
const char *sfs_file_kind_name(mode_t mode);

#endif
