/* Process isolation: a backend whose library cannot serve two calls at
 * once in one process (libsmbclient, see smb_backend.c) would let one
 * server that stops answering hold up every other key of a mount.  Each
 * connection of such a backend (SFS_BACKEND_ISOLATE) is therefore served
 * by a worker: sharesfs itself, re-executed with --worker, running the
 * in-process backend that the target's protocol names, for one
 * connection.  The caller talks to it through proxy.c (a backend with the
 * same operations) over a socket pair, in frames (sharesfs/wire.h), one
 * request at a time; file data goes through a shared memory buffer.
 * A worker that does not answer within its deadline is killed: the key is
 * then lost and reconnects (a new worker) on next use. */
#ifndef SHARESFS_ENGINE_WORKER_H
#define SHARESFS_ENGINE_WORKER_H

#include "readahead.h"
#include "sharesfs/backend.h"
#include "sharesfs/wire.h"

enum sfs_worker_op {
    SW_CONNECT = 1,
    SW_GETATTR,
    SW_READDIR,
    SW_OPEN,
    SW_READ,        /* into the shared buffer at an offset (0: scratch; above: a read-ahead window) */
    SW_RELEASE,
    SW_STATFS,
    SW_CREATE,
    SW_WRITE,       /* from the shared buffer */
    SW_FTRUNCATE,
    SW_FSYNC,
    SW_MKDIR,
    SW_UNLINK,
    SW_RMDIR,
    SW_RENAME,
    SW_UTIMENS,
    SW_CHMOD,
};

/* Frames from the worker. */
enum sfs_worker_frame {
    SW_REPLY = 100,   /* i64 rc, u32 alive, i64 reconnects, status, then what the op returns */
    SW_STAGE,         /* during SW_CONNECT: u32 stage, f64 ms */
    SW_ENTRIES,       /* during SW_READDIR: u32 count, then (str name, stat) each */
};

/* Descriptors the worker is started with. */
#define SFS_WORKER_SOCK_FD 3
#define SFS_WORKER_SHM_FD 4
/* The shared buffer: a scratch area for direct reads and writes (larger
 * ones are split), then room for the read-ahead windows of a few files,
 * which the worker fills in place (no copy on the way to the reader).
 * Pages are only allocated as they are used, and given back when a
 * window is. */
#define SFS_WORKER_SCRATCH_SIZE (8u << 20)
#define SFS_WORKER_WINDOW_SIZE SFS_READAHEAD_MAX_WINDOW
#define SFS_WORKER_WINDOWS 8
#define SFS_WORKER_SHM_SIZE (SFS_WORKER_SCRATCH_SIZE + SFS_WORKER_WINDOWS * SFS_WORKER_WINDOW_SIZE)

void sfs_worker_wire_put_status(struct sfs_wire_out *w, const struct sfs_status *st);
void sfs_worker_wire_get_status(struct sfs_wire_in *r, struct sfs_status *st);

/* A target as the worker rebuilds it, owning all its strings. */
struct sfs_worker_target {
    struct sfs_target t;
    struct sfs_url url;
    char *label, *module;
};
void sfs_worker_wire_put_target(struct sfs_wire_out *w, const struct sfs_target *t);
/* 0, or -EPROTO for a frame that does not hold a whole target. */
int sfs_worker_wire_get_target(struct sfs_wire_in *r, struct sfs_worker_target *out);
void sfs_worker_wire_target_free(struct sfs_worker_target *wt);

#endif
