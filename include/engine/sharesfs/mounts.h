/* The mount table: one record per map key, connected on first use.
 * Each record keeps its last failure (stage, errno, protocol status) so a
 * user's bare errno can be explained from status.json. */
#ifndef SHARESFS_FUSE_MOUNTS_H
#define SHARESFS_FUSE_MOUNTS_H

#include <glib.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "sharesfs/backend.h"
#include "sharesfs/config.h"
#include "sharesfs/map.h"

enum mount_state {
    MOUNT_IDLE = 0,      /* never used, or disconnected */
    MOUNT_CONNECTING,
    MOUNT_UP,
    MOUNT_FAILED,        /* last attempt failed; cached for negative_timeout */
};

struct mount {
    unsigned index;                /* position in the table: keeps inode numbers of keys apart */
    struct sfs_map_entry entry;
    char *url_display;             /* the URL without a password */
    char *auth;                    /* the auth module of the last connect; NULL before */
    const struct sfs_backend_ops *ops;

    pthread_mutex_t lock;
    pthread_cond_t changed;
    enum mount_state state;
    struct sfs_conn *conn;
    struct sfs_conn **retired;     /* dead connections that open files may still name; freed at unmount */
    size_t n_retired;
    char *server_address;          /* of the last connect, NULL before (the rest of struct
                                      sfs_server_info is the probe's: a key at rest costs what it holds) */
    char *server_dialect;
    struct sfs_status *last_error; /* NULL until something fails (a key at rest costs no 536 bytes) */
    time_t last_error_at;
    time_t connected_at;
    uint64_t connects, failures, opens, bytes_read;
    unsigned busy;                 /* operations using conn right now (mount_acquire .. mount_done) */
    unsigned open_files;           /* files open on conn */
    unsigned releasing;            /* file releases in progress (mount_release_begin .. mount_file_closed) */
    uint64_t releases_done;        /* releases finished: a mark for mount_wait_releases */
    bool removed;                  /* gone from the map at a refresh: not found or listed; open files
                                      keep working; disconnected once unused */
    time_t last_used;
    uint64_t idle_disconnects;
    /* Multiuser (struct mount_table.multiuser): a key's record holds one
     * session per uid, each a struct mount of its own (connection, state,
     * errors, counters) made on that user's first access. */
    bool is_session;
    bool instance;                 /* made from a '*' entry for a key looked up */
    uid_t uid;                     /* a session's user */
    char *user;                    /* its name (NULL when the uid has none) */
    GPtrArray *sessions;           /* a key's: struct mount * (guarded by lock) */
};

struct mount_table {
    /* Its sources and '*' entries: every other entry lives in its key's
     * record only (held once: a 10,000-key map, issue 16). */
    struct sfs_map map;
    struct sfs_config *cfg;
    char *root;
    int negative_timeout_s;
    int idle_timeout_s;            /* 0: never disconnect idle keys */
    pthread_t reaper;
    bool reaper_running, stopping;
    pthread_mutex_t reaper_lock;
    pthread_cond_t reaper_wake;
    bool nobrowse;
    bool multiuser;              /* one session per (key, uid), each with that user's own credentials */
    pthread_mutex_t lock;        /* guards n/mounts growth (wildcard keys) */
    struct mount **mounts;
    size_t n, cap;
    /* Guarded by lock: key -> its live record (not removed), and each
     * directory between the root and a key holding '/' -> how many keys lie
     * below it; so a lookup costs the same for 10 keys as for 10,000. */
    GHashTable *by_key, *below;
};

int mounts_init(struct mount_table *t, struct sfs_map *map, struct sfs_config *cfg, const char *root);
void mounts_destroy(struct mount_table *t);
/* Takes MAP in place of the table's map (a re-read map: SIGHUP,
 * --map-refresh): keys no longer in it are removed (see struct mount),
 * new keys are added, and a key whose entry changed (location or options)
 * is removed and added anew.  '*' instances stay while the map still gives
 * the same entry for their key.  *ADDED and *REMOVED count keys. */
int mounts_refresh(struct mount_table *t, struct sfs_map *map, size_t *added, size_t *removed);

/* Keys may hold '/' (macOS -fstab records: "HOST/PATH"): the record whose
 * key is the longest prefix of PATH ending at a '/' or at its end, *KEY_LEN
 * set to that key's length; else, for a first component that no key lies
 * below, a '*' instance (mounts_find).  NULL when none. */
struct mount *mounts_find_path(struct mount_table *t, const char *path, size_t *key_len);
/* Does some key lie below PREFIX ("lion.lab.test" for key
 * "lion.lab.test/Groups")?  The synthetic directories between keys. */
bool mounts_has_below(struct mount_table *t, const char *prefix);
/* Calls FN once per distinct name one level below PREFIX ("" for the root):
 * the first component of each key there, keys hidden by -nobrowse left
 * out.  Stops when FN returns nonzero. */
void mounts_list_level(struct mount_table *t, const char *prefix, int (*fn)(void *arg, const char *name),
                       void *arg);

/* The session of UID on key M (multiuser; M itself otherwise), made on
 * first use.  NULL when out of memory. */
struct mount *mount_session(struct mount_table *t, struct mount *m, uid_t uid);
/* Calls FN for every record a status or a reaper must see: each key and,
 * multiuser, each of its sessions. */
void mounts_for_each(struct mount_table *t, void (*fn)(void *arg, struct mount *m), void *arg);

/* The record for KEY, instantiating a '*' entry on first use; NULL if none. */
struct mount *mounts_find(struct mount_table *t, const char *key);
/* Connects if needed.  Returns the connection or NULL with *st filled (the
 * cached failure while within negative_timeout).  CCACHE: the Kerberos
 * ccache of the user whose access triggers the connection (NULL: the
 * default); the connection then serves every user of the mount. */
struct sfs_conn *mount_acquire(struct mount_table *t, struct mount *m, const char *ccache, struct sfs_status *st);
/* Ends the use begun by a successful mount_acquire. */
void mount_done(struct mount *m);
/* The release of a file opened on M begins; mount_file_closed ends it. */
void mount_release_begin(struct mount *m);
/* A file opened on M (open/create counted it in open_files) was released. */
void mount_file_closed(struct mount *m);
/* Releases of files of M finished so far: the mark for mount_wait_releases. */
uint64_t mount_releases_done(struct mount *m);
/* Waits until no release of a file of M is in progress.  True when one
 * finished after *SINCE (then updated): a handle that may have been in
 * the way of the last operation is closed now (ops.c, EBUSY).  With none
 * in progress and none finished, it waits a few ms once first: a release
 * the kernel sent may not have reached mount_release_begin yet. */
bool mount_wait_releases(struct mount *m, uint64_t *since);
/* Starts the thread that disconnects keys unused for idle_timeout_s
 * (no operation running, no file open); they reconnect on next use. */
void mounts_start_reaper(struct mount_table *t);
/* Records a failure of an operation on an up mount (for status.json). */
void mount_note_error(struct mount *m, const struct sfs_status *st);
const char *mount_state_name(enum mount_state s);
/* A server's inode number made unique across keys (key index in the high bits). */
ino_t mount_ino(const struct mount *m, ino_t server_ino);

#endif
