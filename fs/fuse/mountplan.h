/* The mount points of an auto_master (or of a direct map given alone):
 * which FUSE mounts `sharesfs AUTO_MASTER` makes and which entries each
 * one serves.  Pure functions (no FUSE, no processes): unit-tested in
 * tests/unit/test_mountplan.c. */
#ifndef SHARESFS_FUSE_MOUNTPLAN_H
#define SHARESFS_FUSE_MOUNTPLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "sharesfs/map.h"

struct mountplan_point {
    char *path;          /* normalised absolute path: no doubled or trailing '/' */
    bool direct;         /* one direct-map entry whose share IS the mount's root */
    struct sfs_map map;  /* the entries served there (direct: exactly one) */
};

struct mountplan {
    struct mountplan_point *points;
    size_t n;
};

/* PATH without doubled '/' and without a trailing '/' ("/" stays "/").
 * Returns a new string, or NULL when out of memory. */
char *mountplan_normalize(const char *path);

/* True when the normalised absolute paths A and B are the same directory or
 * one lies below the other ("/a" and "/a/b"; not "/a" and "/ab"). */
bool mountplan_paths_nest(const char *a, const char *b);

/* Splits MAP (loaded from an auto_master, or a direct map loaded alone)
 * into mount points: one per indirect master line (entries grouped by
 * root), one per direct entry (at its key).  The entries are moved out of
 * MAP (MAP keeps only its warnings).  Fails when an entry has no mount
 * point (an indirect map loaded alone), when a mount point is not an
 * absolute path, or when two mount points nest or coincide; ERR (of ERRLEN
 * bytes) then names the paths and where they come from.  Returns 0,
 * -EINVAL or -ENOMEM. */
int mountplan_build(struct sfs_map *map, struct mountplan *out, char *err, size_t errlen);

void mountplan_free(struct mountplan *plan);

/* True when TEXT (the contents of /proc/self/mountinfo) lists a mount of
 * file system type FSTYPE ("fuse.sharesfs") at PATH.  Mount points are
 * matched after undoing mountinfo's octal escapes ("\040" for a blank). */
bool mountplan_mountinfo_has(const char *text, const char *path, const char *fstype);

#endif
