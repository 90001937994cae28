/* A server's answer to the first exchange of a connection (SMB NEGOTIATE,
 * AFP FPGetSrvrInfo), kept per process by address, port and the kind of
 * question, so that the next connect to the same server may take it
 * instead of a connection of its own (sfs_target.reuse_server_answer:
 * afptest, where every such connection costs the server a process).
 * Only answers that let a connect go on are kept.  Thread-safe. */
#ifndef SHARESFS_ANSWER_CACHE_H
#define SHARESFS_ANSWER_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "sharesfs/net.h"

/* Copies the answer to KIND ("smb NT1..SMB3_11", "afp") kept for ADDR
 * into OUT (exactly SIZE bytes, as put) and the label of the connect that
 * got it into OWNER; false when none is kept. */
bool sfs_answer_cache_get(const char *kind, const struct sfs_addr *addr, void *out, size_t size, char *owner,
                          size_t owner_size);
/* Keeps a copy of ANSWER, replacing the one for the same KIND and ADDR or
 * else the oldest.  Out of memory: nothing is kept. */
void sfs_answer_cache_put(const char *kind, const struct sfs_addr *addr, const void *answer, size_t size,
                          const char *owner);
/* Drops the answer kept for KIND and ADDR (asking the server again
 * failed: the next connect asks too). */
void sfs_answer_cache_forget(const char *kind, const struct sfs_addr *addr);

#endif
