/* The map of a mount point, read at start and again on SIGHUP and every
 * --map-refresh seconds: directory sources that cannot be read keep
 * serving their last good entries, and status.json says so. */
#ifndef SHARESFS_FUSE_MAP_REFRESH_H
#define SHARESFS_FUSE_MAP_REFRESH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "sharesfs/config.h"
#include "sharesfs/map.h"

struct mount_table;

struct map_refresh {
    char *path;            /* the map as given (a file or ldap://) */
    char *load_root;       /* root given to the loader (NULL for a master) */
    char *root;            /* the mount point whose entries are kept */
    int interval_s;        /* 0: SIGHUP only */
    pthread_t thread;
    bool prepared;         /* wake is open */
    bool running;
    int wake[2];           /* SIGHUP and stop write here */
    /* status.json "map"; guarded by the table's lock */
    time_t read_at, good_at;
    uint64_t reads, failed_reads;
    char error[512];       /* why the last read failed as a whole ("" when it did not) */
    size_t added, removed; /* keys, at the last read */
};

/* Loads PATH for the mount point ROOT (LOAD_ROOT given to the loader),
 * keeps that mount point's indirect entries (ROOT NULL: every entry),
 * prints warnings and failed directory sources to stderr.  0, or -1 after
 * printing why. */
int map_refresh_load(const char *path, const char *load_root, const char *root, const struct sfs_config *cfg,
                     struct sfs_map *out);

/* Opens what SIGHUP and stop write to: before the mount, where a failure
 * can still be printed.  0 or -errno. */
int map_refresh_prepare(struct map_refresh *r);
/* Starts the thread that re-reads the map of table T on SIGHUP (after
 * map_refresh_catch_sighup) and every R->interval_s seconds; nothing when
 * R was not prepared.  Called from FUSE's init, in the process that serves:
 * fuse_main forks into the background after main's set-up and threads do
 * not follow a fork (one started before it was missing in the daemon, so
 * the map was never re-read, and joining it at unmount crashed before the
 * sessions were logged out). */
int map_refresh_start(struct map_refresh *r, struct mount_table *t);
/* Stops the thread if it runs and closes what prepare opened. */
void map_refresh_stop(struct map_refresh *r);
/* Replaces libfuse's SIGHUP handler (which would unmount) by a re-read. */
void map_refresh_catch_sighup(struct map_refresh *r);
/* One re-read now (the thread's body; tests). */
void map_refresh_now(struct map_refresh *r, struct mount_table *t);

#endif
