/* Sequential read-ahead for one open file: the kernel's FUSE reads are
 * small (256 KiB here), and each would otherwise cost a round trip
 * (libsmbclient, serialised process-wide) or a few small requests (AFP).
 *
 * A file read front to back is fetched in windows that grow from 1 MiB to
 * 8 MiB while fetches are fast, and shrink to 256 KiB when they are slow;
 * while the caller copies out of one window, one of a small pool of
 * worker threads fetches the next, so the server transfer and the FUSE
 * copies overlap.  Random
 * reads are not served here (the caller reads directly), so they cost
 * nothing extra.  Errors are never answered from here either: a failed
 * fetch makes the caller read directly, which reports the error with its
 * full status. */
#ifndef SHARESFS_READAHEAD_H
#define SHARESFS_READAHEAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sharesfs/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads SIZE bytes at OFF into BUF: bytes read (fewer only at end of file)
 * or -errno.  Called from the caller's thread or a worker thread; twice at
 * once for one read-ahead only after sfs_readahead_set_depth(ra, 2). */
typedef ssize_t (*sfs_readahead_fetch)(void *ctx, char *buf, size_t size, off_t off);

struct sfs_readahead;

#define SFS_READAHEAD_MIN_WINDOW (1u << 20)   /* the first window, and after a jump */
#define SFS_READAHEAD_MAX_WINDOW (8u << 20)
#define SFS_READAHEAD_MISS (-100000)   /* not served: read directly */

struct sfs_readahead *sfs_readahead_new(sfs_readahead_fetch fetch, void *ctx);

/* With windows from POOL where it has room (sharesfs/backend.h). */
struct sfs_readahead *sfs_readahead_new_pooled(sfs_readahead_fetch fetch, void *ctx,
                                               const struct sfs_window_pool *pool);

/* Up to DEPTH (1, the default, or 2) prefetches at once, each a window
 * further ahead, so that a backend whose fetches share one pipelined
 * connection (AFP's requests on one DSI session) is never left with
 * nothing to send while the reader crosses from one window to the next.
 * Before the first read only. */
void sfs_readahead_set_depth(struct sfs_readahead *ra, unsigned depth);

/* Copies [off, off+size) into buf when the read is part of a sequential
 * run: the byte count (short only at end of file), or SFS_READAHEAD_MISS. */
ssize_t sfs_readahead_read(struct sfs_readahead *ra, char *buf, size_t size, off_t off);

/* Waits for a fetch in progress, then frees.  After this the fetch
 * callback is never called again for this read-ahead. */
void sfs_readahead_free(struct sfs_readahead *ra);

/* Counters for tests and status. */
struct sfs_readahead_stats {
    unsigned long hits, misses, fetches, prefetches;
};
void sfs_readahead_get_stats(struct sfs_readahead *ra, struct sfs_readahead_stats *out);

/* Totals over the files of one connection, for status.json: add_stats
 * folds a file's counters in (at close), atomically. */
struct sfs_readahead_totals {
    uint64_t hits, misses, fetches;
};
void sfs_readahead_add_stats(struct sfs_readahead_totals *t, struct sfs_readahead *ra);
void sfs_readahead_read_totals(struct sfs_readahead_totals *t, uint64_t *hits, uint64_t *misses,
                               uint64_t *fetches);

#ifdef __cplusplus
}
#endif
#endif
