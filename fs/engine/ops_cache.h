/* Wrapped operation tables, one per inner table, made on first use (the
 * read-ahead and isolation wrappers keep the inner table's NULLs, so a
 * table is made per backend, not once). */
#ifndef SHARESFS_ENGINE_OPS_CACHE_H
#define SHARESFS_ENGINE_OPS_CACHE_H

#include <pthread.h>

#include "sharesfs/backend.h"

#define SFS_OPS_CACHE_SLOTS 8
struct sfs_ops_cache {
    pthread_mutex_t lock;
    struct {
        const struct sfs_backend_ops *inner;
        struct sfs_backend_ops ops;
    } slot[SFS_OPS_CACHE_SLOTS];
};
#define SFS_OPS_CACHE_INIT {.lock = PTHREAD_MUTEX_INITIALIZER}

typedef void (*sfs_ops_build)(const struct sfs_backend_ops *inner, struct sfs_backend_ops *out);

/* The table BUILD makes for INNER; NULL when every slot is taken. */
const struct sfs_backend_ops *sfs_ops_cache_get(struct sfs_ops_cache *cache, const struct sfs_backend_ops *inner,
                                                sfs_ops_build build);

#endif
