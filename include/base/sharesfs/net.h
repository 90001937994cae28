/* Name resolution and TCP with deadlines: the resolve and connect stages,
 * shared by the AFP and SMB backends. */
#ifndef SHARESFS_NET_H
#define SHARESFS_NET_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "sharesfs/status.h"

struct sfs_addr {
    struct sockaddr_storage ss;
    socklen_t len;
    char text[64];   /* numeric address, for reports */
};

/* Resolves HOST:PORT (first usable address).  Stage RESOLVE on failure. */
int sfs_net_resolve(const char *host, int port, struct sfs_addr *out, struct sfs_status *st);
/* Connects with a deadline; returns the fd or -errno with stage CONNECT. */
int sfs_net_connect(const struct sfs_addr *addr, int timeout_ms, struct sfs_status *st);
/* Writes/reads exactly LEN bytes before the deadline; -ETIMEDOUT, -ECONNRESET, ... */
int sfs_net_write_all(int fd, const void *buf, size_t len, int timeout_ms);
int sfs_net_read_all(int fd, void *buf, size_t len, int timeout_ms);
#endif
