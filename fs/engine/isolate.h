/* Process isolation as a wrapper over a backend (proxy.c, worker.c). */
#ifndef SHARESFS_ENGINE_ISOLATE_H
#define SHARESFS_ENGINE_ISOLATE_H

#include "sharesfs/backend.h"

/* The table that runs each connection of INNER in a worker process of its
 * own (`sharesfs --worker`); NULL when no more tables can be made. */
const struct sfs_backend_ops *sfs_isolated_backend(const struct sfs_backend_ops *inner);

#endif
