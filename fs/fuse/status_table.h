#ifndef SHARESFS_FUSE_STATUS_TABLE_H
#define SHARESFS_FUSE_STATUS_TABLE_H

/* sharesfs --status MOUNTPOINT: reads MOUNTPOINT/.sharesfs/status.json of a
 * running sharesfs and prints one row per key.  Returns the exit status. */
int sharesfs_print_status(const char *mountpoint);

#endif
