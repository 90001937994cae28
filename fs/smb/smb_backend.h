/* What the SMB worker (smb_worker.c) needs of the in-process backend
 * beyond its operations table. */
#ifndef SHARESFS_SMB_BACKEND_H
#define SHARESFS_SMB_BACKEND_H

#include <sys/types.h>

#include "sharesfs/backend.h"

/* Files opened from now on get no read-ahead of their own: in a worker the
 * FUSE side reads ahead, asking for whole windows (sfs_smb_fetch_window). */
void sfs_smb_backend_no_readahead(void);

/* One read-ahead window of F: SIZE bytes at OFF, never past the end of
 * file.  Bytes read, or -errno (the direct read that follows a failed
 * window reports the cause). */
ssize_t sfs_smb_fetch_window(struct sfs_file *f, char *buf, size_t size, off_t off);

#endif
