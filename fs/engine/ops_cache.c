#include "ops_cache.h"

const struct sfs_backend_ops *sfs_ops_cache_get(struct sfs_ops_cache *cache, const struct sfs_backend_ops *inner,
                                                sfs_ops_build build)
{
    const struct sfs_backend_ops *found = NULL;
    pthread_mutex_lock(&cache->lock);
    for (size_t i = 0; i < SFS_OPS_CACHE_SLOTS && !found; i++) {
        if (cache->slot[i].inner == inner) {
            found = &cache->slot[i].ops;
        } else if (!cache->slot[i].inner) {
            build(inner, &cache->slot[i].ops);
            cache->slot[i].inner = inner;
            found = &cache->slot[i].ops;
        }
    }
    pthread_mutex_unlock(&cache->lock);
    return found;
}
