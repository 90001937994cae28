#ifndef SHARESFS_FUSE_OPS_H
#define SHARESFS_FUSE_OPS_H

#define FUSE_USE_VERSION 314
#include <fuse.h>

#include "map_refresh.h"
#include "sharesfs/mounts.h"

extern const struct fuse_operations sharesfs_ops;

/* The extended attribute on each key that explains its state (JSON). */
#define SFS_STATUS_XATTR "user.sharesfs.status"

/* The FUSE private data. */
struct sharesfs {
    struct mount_table table;
    double attr_timeout;
    bool direct_io;   /* --direct-io: every file opened without the page cache */
    /* A direct-map entry mounted at its own path: the table holds that one
     * entry and "/" is its share (no keys, no .sharesfs directory). */
    bool direct;
    struct map_refresh refresh;   /* not for a direct mount */
};

#endif
