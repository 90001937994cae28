/* Read-ahead as a wrapper over a connected backend (readahead_backend.c). */
#ifndef SHARESFS_ENGINE_READAHEAD_BACKEND_H
#define SHARESFS_ENGINE_READAHEAD_BACKEND_H

#include "sharesfs/backend.h"

/* The wrapper's table over INNER (NULL when no more tables can be made).
 * It has no connect: it wraps connections that are up. */
const struct sfs_backend_ops *sfs_readahead_backend(const struct sfs_backend_ops *inner);
/* A connection of that table over INNER_CONN, which it then owns (its
 * disconnect disconnects it).  On failure INNER_CONN is disconnected. */
int sfs_readahead_wrap(const struct sfs_backend_ops *inner, struct sfs_conn *inner_conn, struct sfs_conn **out,
                       struct sfs_status *st);

#endif
