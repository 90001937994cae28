/* One AFP request over a DSI session, and the one way its failures become a
 * struct sfs_status: the AFP result through the base errno table, transport
 * errors as docs/errno.md lists them.  Whatever fails, *st says errno, stage
 * and a detail that names the command (and its path). */
#ifndef SHARESFS_AFP_REQUEST_H
#define SHARESFS_AFP_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "afp_buf.h"
#include "dsi_session.h"
#include "sharesfs/status.h"

/* Parameter blocks, names and result-only replies fit in this; commands
 * whose replies are lists or data bring a buffer of their own size. */
#define AFP_REPLY_SMALL 4096

/* One request: what a failure reports, where the reply goes, what came. */
struct afp_call {
    enum sfs_stage stage;   /* the stage a failure belongs to */
    const char *what;       /* names the request in a detail; NULL: its AFP command */
    const char *path;       /* quoted after that when the server refuses; NULL: none */
    uint8_t *reply;         /* the reply payload lands here... */
    size_t cap;             /* ...and a longer one is a protocol error */
    /* set by afp_exchange */
    uint8_t command;        /* the request's AFP command */
    int32_t code;           /* the AFP result; 0 unless a reply came */
    size_t len;             /* payload bytes in reply */
};

/* Sends W's request (and frees W, which may hold a password) and waits for
 * the reply.  0 when a reply came, whatever its AFP result (q->code).
 * -errno with *st filled when W could not be encoded, the session failed
 * (or had failed before: nothing is sent then) or the reply was too long. */
int afp_exchange(struct dsi_session *dsi, struct afp_writer *w, struct afp_call *q, struct sfs_status *st);
/* The same, and an AFP result other than kFPNoErr is a failure too. */
int afp_request(struct dsi_session *dsi, struct afp_writer *w, struct afp_call *q, struct sfs_status *st);

/* After afp_exchange: the server refused (q->code), or its reply did not
 * decode.  Both return -errno. */
int afp_call_refused(const struct afp_call *q, struct sfs_status *st);
int afp_call_malformed(const struct afp_call *q, struct sfs_status *st);

/* The same mapping for requests sent with dsi_submit (pipelined reads and
 * writes).  RC is what the session returned (-errno); WHAT names the
 * request, PATH may be NULL. */
int afp_transport_failed(struct sfs_status *st, enum sfs_stage stage, const char *what, int rc);
int afp_result_failed(struct sfs_status *st, enum sfs_stage stage, const char *what, const char *path,
                      int32_t code);

#endif
