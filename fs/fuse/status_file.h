#ifndef SHARESFS_FUSE_STATUS_FILE_H
#define SHARESFS_FUSE_STATUS_FILE_H

#include <stddef.h>

#include "map_refresh.h"
#include "sharesfs/mounts.h"

/* status.json: every mount point, its state and last error (schema
 * sharesfs.status/1, docs/status-json.md), and the map as last read (R:
 * its directory sources; NULL for a direct mount).  Multiuser: one row
 * per (key, uid) session; VIEWER sees only its own unless it is root.  Caller frees. */
char *status_json_render(struct mount_table *t, const struct map_refresh *r, uid_t viewer, size_t *len);
/* The same for one mount: the user.sharesfs.status xattr. */
char *status_json_render_one(struct mount *m, size_t *len);

#endif
