/* A DSI session over TCP: one reader thread matches replies to request IDs,
 * so several requests (reads especially) can be in flight at once.  Every
 * wait has a deadline; a dead or silent server ends the session with
 * ETIMEDOUT or ECONNRESET and wakes every waiter, never a hang. */
#ifndef SHARESFS_AFP_DSI_SESSION_H
#define SHARESFS_AFP_DSI_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dsi.h"
#include "sharesfs/net.h"
#include "sharesfs/status.h"

#define DSI_MAX_IN_FLIGHT 64
#define DSI_MAX_REPLY (16u * 1024 * 1024)   /* larger replies are a protocol error */

struct dsi_session;

/* Server-initiated DSIAttention: FLAGS is the attention code (0x8000 shutdown,
 * 0x2000 server message, 0x1000 ...). */
typedef void (*dsi_attention_cb)(void *ctx, uint16_t flags);

struct dsi_options {
    int timeout_ms;              /* per request */
    uint32_t attention_quantum;  /* what we ask for in DSIOpenSession (0 = 1024) */
    dsi_attention_cb on_attention;
    void *cb_ctx;
};

/* Connects FD (already connected, owned from now on) with DSIOpenSession.
 * Stage NEGOTIATE on failure. */
int dsi_session_open(int fd, const struct dsi_options *opts, struct dsi_session **out, struct sfs_status *st);
/* Sends DSICloseSession (best effort), stops the reader, frees. */
void dsi_session_close(struct dsi_session *s);

/* The server's request quantum (largest request it accepts). */
uint32_t dsi_server_quantum(const struct dsi_session *s);
/* 0 while usable, else the positive errno that ended the session. */
int dsi_session_error(const struct dsi_session *s);

/* DSICommand.  The reply payload goes into BUF (up to CAP bytes; more is a
 * protocol error unless ALLOW_TRUNCATE... never silently dropped).  *GOT is
 * the payload length, *CODE the AFP result.  Returns 0 or -errno (transport). */
int dsi_command(struct dsi_session *s, const void *req, size_t req_len, void *buf, size_t cap,
                size_t *got, int32_t *code);
/* The same in two halves, so several requests can be in flight from one
 * thread: dsi_submit sends and returns; dsi_wait collects the reply (and
 * must be called for every successful submit). */
struct dsi_call {
    int slot;
    struct timespec deadline;
};
int dsi_submit(struct dsi_session *s, const void *req, size_t req_len, void *buf, size_t cap, struct dsi_call *call);
int dsi_wait(struct dsi_session *s, struct dsi_call *call, size_t *got, int32_t *code);
/* DSIWrite as submit/wait: the data is in the socket when this returns
 * (only BUF must stay valid until dsi_wait), so several writes can be in
 * flight after their callers' buffers are gone. */
int dsi_write_submit(struct dsi_session *s, const void *req, size_t req_len, const void *data, size_t data_len,
                     void *buf, size_t cap, struct dsi_call *call);
/* DSIWrite: REQ holds the AFP parameters (the data offset), DATA follows. */
int dsi_write(struct dsi_session *s, const void *req, size_t req_len, const void *data, size_t data_len,
              void *buf, size_t cap, size_t *got, int32_t *code);

/* Requests sent so far and the most that were in flight at once. */
void dsi_session_stats(struct dsi_session *s, uint64_t *requests, unsigned *max_in_flight);

/* DSIGetStatus on its own connection FD (closed on return): the
 * FPGetSrvrInfo reply, malloc'd into *out. */
/* The errno a transport error RC (-errno) is reported as: one event, one
 * errno, whichever thread saw it first (a server close is ECONNRESET for
 * the reader at end of stream and for a sender's EPIPE alike); never 0. */
int dsi_errno_for_transport(int rc);

int dsi_get_status(int fd, int timeout_ms, uint8_t **out, size_t *len, struct sfs_status *st);

#endif
