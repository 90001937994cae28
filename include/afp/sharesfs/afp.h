/* The AFP backend (AFP 3.x over DSI/TCP, our own client). */
#ifndef SHARESFS_AFP_H
#define SHARESFS_AFP_H

#include "sharesfs/backend.h"

extern const struct sfs_backend_ops sfs_afp_backend;

#endif
