/* libsmbclient in a process of its own per SMB connection.
 * Debian's libsmbclient can run only one call at a time per process
 * (smb_backend.c), so in one sharesfs mount a server that stops answering
 * would hold every other SMB key up to the stage timeout.  Each SMB key of
 * a mount is therefore served by a worker: sharesfs itself, re-executed
 * with --smb-worker, running the in-process backend (smb_backend.c) for
 * one connection.  The FUSE side talks to it through smb_proxy.c (a
 * backend with the same operations) over a socket pair, in frames
 * (core/wire.h), one request at a time; file data goes through a shared
 * memory buffer.
 * A worker that does not answer within its deadline is killed: the key is
 * then lost and reconnects (a new worker) on next use. */
#ifndef SHARESFS_SMB_WORKER_H
#define SHARESFS_SMB_WORKER_H

#include "core/readahead.h"
#include "core/wire.h"
#include "sharesfs/backend.h"

enum smb_worker_op {
    SW_CONNECT = 1,
    SW_GETATTR,
    SW_READDIR,
    SW_OPEN,
    SW_READ,        /* into the shared buffer at offset 0 */
    SW_FETCH,       /* a read-ahead window: capped at end of file, into the shared buffer at an offset */
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
enum smb_worker_frame {
    SW_REPLY = 100,   /* i64 rc, u32 alive, i64 reconnects, status, then what the op returns */
    SW_STAGE,         /* during SW_CONNECT: u32 stage, f64 ms */
    SW_ENTRIES,       /* during SW_READDIR: u32 count, then (str name, stat) each */
};

/* Descriptors the worker is started with. */
#define SMB_WORKER_SOCK_FD 3
#define SMB_WORKER_SHM_FD 4
/* The shared buffer: a scratch area for direct reads and writes (larger
 * ones are split), then room for the read-ahead windows of a few files,
 * which the worker fills in place (no copy on the way to the reader).
 * Pages are only allocated as they are used, and given back when a
 * window is. */
#define SMB_WORKER_SCRATCH_SIZE (8u << 20)
#define SMB_WORKER_WINDOW_SIZE SFS_READAHEAD_MAX_WINDOW
#define SMB_WORKER_WINDOWS 8
#define SMB_WORKER_SHM_SIZE (SMB_WORKER_SCRATCH_SIZE + SMB_WORKER_WINDOWS * SMB_WORKER_WINDOW_SIZE)

void smb_wire_put_status(struct sfs_wire_out *w, const struct sfs_status *st);
void smb_wire_get_status(struct sfs_wire_in *r, struct sfs_status *st);

/* A target as the worker rebuilds it, owning all its strings. */
struct smb_wire_target {
    struct sfs_target t;
    struct sfs_url url;
    char *label, *module;
};
void smb_wire_put_target(struct sfs_wire_out *w, const struct sfs_target *t);
/* 0, or -EPROTO for a frame that does not hold a whole target. */
int smb_wire_get_target(struct sfs_wire_in *r, struct smb_wire_target *out);
void smb_wire_target_free(struct smb_wire_target *wt);

/* The worker's main loop (`sharesfs --smb-worker`): serves one connection
 * until the socket closes.  Returns the exit status. */
int sfs_smb_worker_main(void);

/* What the FUSE side uses for SMB keys. */
extern const struct sfs_backend_ops sfs_smb_proxy_backend;

#endif
