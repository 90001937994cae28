#include "dsi_session.h"

#include "sharesfs/clock.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TICKLE_IDLE_MS 30000     /* DSI: tickle a quiet server every 30 s */
#define DEAD_AFTER_MS 120000     /* ...and give up after 120 s of silence */
#define STATUS_MAX (64 * 1024)

struct dsi_pending {
    bool used, done, reading;
    uint16_t id;
    int32_t code;
    uint8_t *buf;
    size_t cap, got;
    pthread_cond_t cond;
};

struct dsi_session {
    int fd;
    int timeout_ms;
    uint32_t server_quantum;
    dsi_attention_cb on_attention;
    void *cb_ctx;

    pthread_mutex_t lock;        /* slots, next_id, err */
    pthread_cond_t slot_free;
    pthread_mutex_t send_lock;   /* one DSI message on the wire at a time */
    struct dsi_pending slots[DSI_MAX_IN_FLIGHT];
    uint16_t next_id;
    unsigned in_flight, max_in_flight;
    uint64_t requests;
    int err;
    double last_rx, last_tx;
    pthread_t reader;
    bool reader_started;
};

static void deadline_ts(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Ends the session: every waiter wakes with ERR.  Caller holds s->lock. */
static void fail_locked(struct dsi_session *s, int err)
{
    if (s->err)
        return;
    s->err = err;
    shutdown(s->fd, SHUT_RDWR);
    for (int i = 0; i < DSI_MAX_IN_FLIGHT; i++)
        pthread_cond_broadcast(&s->slots[i].cond);
    pthread_cond_broadcast(&s->slot_free);
}

static void session_fail(struct dsi_session *s, int err)
{
    pthread_mutex_lock(&s->lock);
    fail_locked(s, err);
    pthread_mutex_unlock(&s->lock);
}

static int send_message(struct dsi_session *s, uint8_t command, uint16_t id, int32_t code, const void *a,
                        size_t alen, const void *b, size_t blen)
{
    uint8_t hdr[DSI_HEADER_LEN];
    struct dsi_header h = {.flags = DSI_FLAG_REQUEST, .command = command, .request_id = id, .code = code,
                           .length = (uint32_t)(alen + blen)};
    dsi_header_encode(&h, hdr);
    /* One segment for header and request where it fits (no Nagle wait). */
    uint8_t small[DSI_HEADER_LEN + 512];
    const void *first = hdr;
    size_t first_len = sizeof(hdr);
    if (alen <= sizeof(small) - DSI_HEADER_LEN) {
        memcpy(small, hdr, DSI_HEADER_LEN);
        if (alen)
            memcpy(small + DSI_HEADER_LEN, a, alen);
        first = small;
        first_len = DSI_HEADER_LEN + alen;
        alen = 0;
    }
    pthread_mutex_lock(&s->send_lock);
    int rc = sfs_net_write_all(s->fd, first, first_len, s->timeout_ms);
    if (rc == 0 && alen)
        rc = sfs_net_write_all(s->fd, a, alen, s->timeout_ms);
    if (rc == 0 && blen)
        rc = sfs_net_write_all(s->fd, b, blen, s->timeout_ms);
    s->last_tx = sfs_now_ms();
    pthread_mutex_unlock(&s->send_lock);
    return rc;
}

/* Reads and drops N payload bytes (a reply nobody waits for any more). */
static int discard(struct dsi_session *s, size_t n)
{
    uint8_t junk[4096];
    while (n > 0) {
        size_t k = n < sizeof(junk) ? n : sizeof(junk);
        int rc = sfs_net_read_all(s->fd, junk, k, s->timeout_ms);
        if (rc < 0)
            return rc;
        n -= k;
    }
    return 0;
}

static struct dsi_pending *find_waiting(struct dsi_session *s, uint16_t id)
{
    for (int i = 0; i < DSI_MAX_IN_FLIGHT; i++)
        if (s->slots[i].used && !s->slots[i].done && s->slots[i].id == id)
            return &s->slots[i];
    return NULL;
}

static int handle_reply(struct dsi_session *s, const struct dsi_header *h)
{
    pthread_mutex_lock(&s->lock);
    struct dsi_pending *p = find_waiting(s, h->request_id);
    if (!p) {
        pthread_mutex_unlock(&s->lock);
        return h->length > DSI_MAX_REPLY ? -EPROTO : discard(s, h->length);
    }
    if (h->length > p->cap) {
        /* More than the request allows: a hostile or broken server. */
        pthread_mutex_unlock(&s->lock);
        return -EMSGSIZE;
    }
    p->reading = true;
    pthread_mutex_unlock(&s->lock);
    /* The waiter keeps its buffer alive until `reading` drops. */
    int rc = h->length ? sfs_net_read_all(s->fd, p->buf, h->length, s->timeout_ms) : 0;
    pthread_mutex_lock(&s->lock);
    p->reading = false;
    if (rc == 0) {
        p->done = true;
        p->code = h->code;
        p->got = h->length;
    }
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int handle_server_request(struct dsi_session *s, const struct dsi_header *h)
{
    switch (h->command) {
    case DSI_TICKLE:
        return discard(s, h->length);
    case DSI_ATTENTION: {
        uint8_t flags[2] = {0, 0};
        if (h->length > 1024)
            return -EPROTO;
        int rc = h->length >= 2 ? sfs_net_read_all(s->fd, flags, 2, s->timeout_ms) : discard(s, h->length);
        if (rc == 0 && h->length > 2)
            rc = discard(s, h->length - 2);
        if (rc == 0 && h->length >= 2 && s->on_attention)
            s->on_attention(s->cb_ctx, (uint16_t)(flags[0] << 8 | flags[1]));
        return rc;
    }
    case DSI_CLOSESESSION:
        discard(s, h->length);
        return -ESHUTDOWN;
    default:
        return -EPROTO;
    }
}

static void *reader_main(void *arg)
{
    struct dsi_session *s = arg;
    for (;;) {
        struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
        int ready = poll(&pfd, 1, 1000);
        pthread_mutex_lock(&s->lock);
        bool dead = s->err != 0;
        pthread_mutex_unlock(&s->lock);
        if (dead)
            return NULL;
        if (ready < 0 && errno != EINTR) {
            session_fail(s, errno);
            return NULL;
        }
        double now = sfs_now_ms();
        if (ready <= 0) {
            if (now - s->last_rx > DEAD_AFTER_MS) {
                session_fail(s, ETIMEDOUT);
                return NULL;
            }
            if (now - s->last_tx > TICKLE_IDLE_MS) {
                pthread_mutex_lock(&s->lock);
                uint16_t id = s->next_id++;
                pthread_mutex_unlock(&s->lock);
                send_message(s, DSI_TICKLE, id, 0, NULL, 0, NULL, 0);
            }
            continue;
        }
        uint8_t hdr[DSI_HEADER_LEN];
        struct dsi_header h;
        int rc = sfs_net_read_all(s->fd, hdr, sizeof(hdr), s->timeout_ms);
        if (rc == 0 && dsi_header_decode(hdr, sizeof(hdr), &h) < 0)
            rc = -EPROTO;
        if (rc == 0) {
            s->last_rx = sfs_now_ms();
            rc = h.flags == DSI_FLAG_REPLY ? handle_reply(s, &h) : handle_server_request(s, &h);
        }
        if (rc < 0) {
            session_fail(s, -rc);
            return NULL;
        }
    }
}

static struct dsi_pending *claim_slot(struct dsi_session *s, const struct timespec *deadline, int *err)
{
    for (;;) {
        if (s->err) {
            *err = s->err;
            return NULL;
        }
        for (int i = 0; i < DSI_MAX_IN_FLIGHT; i++) {
            struct dsi_pending *p = &s->slots[i];
            if (!p->used) {
                s->requests++;
                if (++s->in_flight > s->max_in_flight)
                    s->max_in_flight = s->in_flight;
                p->used = true;
                p->done = false;
                p->reading = false;
                p->id = s->next_id++;
                return p;
            }
        }
        if (pthread_cond_timedwait(&s->slot_free, &s->lock, deadline) == ETIMEDOUT) {
            *err = ETIMEDOUT;
            return NULL;
        }
    }
}

/* Claims a slot and sends the request; the reply lands in BUF. */
static int submit(struct dsi_session *s, uint8_t command, int32_t offset, const void *req, size_t req_len,
                  const void *data, size_t data_len, void *buf, size_t cap, struct dsi_call *call)
{
    deadline_ts(&call->deadline, s->timeout_ms);
    int err = 0;
    pthread_mutex_lock(&s->lock);
    struct dsi_pending *p = claim_slot(s, &call->deadline, &err);
    if (!p) {
        pthread_mutex_unlock(&s->lock);
        call->slot = -1;
        return -err;
    }
    p->buf = buf;
    p->cap = cap;
    p->got = 0;
    uint16_t id = p->id;
    call->slot = (int)(p - s->slots);
    pthread_mutex_unlock(&s->lock);
    int rc = send_message(s, command, id, offset, req, req_len, data, data_len);
    if (rc < 0)
        session_fail(s, -rc);
    return 0;   /* a send failure is reported by dsi_wait, which frees the slot */
}

int dsi_wait(struct dsi_session *s, struct dsi_call *call, size_t *got, int32_t *code)
{
    if (call->slot < 0)
        return -EINVAL;
    struct dsi_pending *p = &s->slots[call->slot];
    int rc;
    pthread_mutex_lock(&s->lock);
    while (!p->done && !s->err) {
        if (pthread_cond_timedwait(&p->cond, &s->lock, &call->deadline) == ETIMEDOUT) {
            /* The server stopped answering: the session is unusable. */
            fail_locked(s, ETIMEDOUT);
            break;
        }
    }
    while (p->reading)   /* the reader still writes into buf: wait it out */
        pthread_cond_wait(&p->cond, &s->lock);
    if (p->done) {
        *got = p->got;
        *code = p->code;
        rc = 0;
    } else {
        rc = -s->err;
    }
    p->used = false;
    s->in_flight--;
    call->slot = -1;
    pthread_cond_signal(&s->slot_free);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int dsi_submit(struct dsi_session *s, const void *req, size_t req_len, void *buf, size_t cap, struct dsi_call *call)
{
    return submit(s, DSI_COMMAND, 0, req, req_len, NULL, 0, buf, cap, call);
}

static int request(struct dsi_session *s, uint8_t command, int32_t offset, const void *req, size_t req_len,
                   const void *data, size_t data_len, void *buf, size_t cap, size_t *got, int32_t *code)
{
    struct dsi_call call;
    int rc = submit(s, command, offset, req, req_len, data, data_len, buf, cap, &call);
    return rc < 0 ? rc : dsi_wait(s, &call, got, code);
}

int dsi_command(struct dsi_session *s, const void *req, size_t req_len, void *buf, size_t cap, size_t *got,
                int32_t *code)
{
    return request(s, DSI_COMMAND, 0, req, req_len, NULL, 0, buf, cap, got, code);
}

int dsi_write(struct dsi_session *s, const void *req, size_t req_len, const void *data, size_t data_len, void *buf,
              size_t cap, size_t *got, int32_t *code)
{
    return request(s, DSI_WRITE, (int32_t)req_len, req, req_len, data, data_len, buf, cap, got, code);
}

int dsi_write_submit(struct dsi_session *s, const void *req, size_t req_len, const void *data, size_t data_len,
                     void *buf, size_t cap, struct dsi_call *call)
{
    return submit(s, DSI_WRITE, (int32_t)req_len, req, req_len, data, data_len, buf, cap, call);
}

uint32_t dsi_server_quantum(const struct dsi_session *s)
{
    return s->server_quantum;
}

void dsi_session_stats(struct dsi_session *s, uint64_t *requests, unsigned *max_in_flight)
{
    pthread_mutex_lock(&s->lock);
    *requests = s->requests;
    *max_in_flight = s->max_in_flight;
    pthread_mutex_unlock(&s->lock);
}

int dsi_session_error(const struct dsi_session *s)
{
    return s->err;
}

/* One request/reply on a socket without the reader thread (before it runs). */
static int simple_exchange(int fd, uint8_t command, const void *payload, size_t len, int timeout_ms,
                           struct dsi_header *reply, uint8_t **out, size_t max)
{
    uint8_t hdr[DSI_HEADER_LEN];
    struct dsi_header h = {.flags = DSI_FLAG_REQUEST, .command = command, .length = (uint32_t)len};
    dsi_header_encode(&h, hdr);
    int rc = sfs_net_write_all(fd, hdr, sizeof(hdr), timeout_ms);
    if (rc == 0 && len)
        rc = sfs_net_write_all(fd, payload, len, timeout_ms);
    if (rc == 0)
        rc = sfs_net_read_all(fd, hdr, sizeof(hdr), timeout_ms);
    if (rc == 0 && dsi_header_decode(hdr, sizeof(hdr), reply) < 0)
        rc = -EPROTO;
    if (rc == 0 && (reply->flags != DSI_FLAG_REPLY || reply->command != command))
        rc = -EPROTO;
    if (rc == 0 && reply->length > max)
        rc = -EMSGSIZE;
    if (rc < 0)
        return rc;
    *out = malloc(reply->length ? reply->length : 1);
    if (!*out)
        return -ENOMEM;
    rc = sfs_net_read_all(fd, *out, reply->length, timeout_ms);
    if (rc < 0) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

int dsi_errno_for_transport(int rc)
{
    switch (-rc) {
    case EMSGSIZE:
        return EPROTO;
    case EPIPE:
    case ENOTCONN:
    case ECONNABORTED:
        return ECONNRESET;
    default:
        return rc < 0 ? -rc : EIO;   /* a failure without an errno would read as success */
    }
}

static const char *transport_text(int rc)
{
    switch (-rc) {
    case EPROTO: return "not a DSI reply (is this an AFP server?)";
    case EMSGSIZE: return "reply longer than the protocol allows";
    case ECONNRESET: return "the server closed the connection";
    case ETIMEDOUT: return "no reply before the timeout";
    default: return strerror(-rc);
    }
}

int dsi_get_status(int fd, int timeout_ms, uint8_t **out, size_t *len, struct sfs_status *st)
{
    static const uint8_t get_srvr_info[2] = {15, 0};
    struct dsi_header reply;
    int rc = simple_exchange(fd, DSI_GETSTATUS, get_srvr_info, sizeof(get_srvr_info), timeout_ms, &reply, out,
                             STATUS_MAX);
    close(fd);
    if (rc < 0)
        return sfs_status_set(st, SFS_STAGE_NEGOTIATE, dsi_errno_for_transport(rc), SFS_DOMAIN_SYS, -rc,
                              "DSIGetStatus: %s", transport_text(rc));
    *len = reply.length;
    return 0;
}

static void parse_open_options(struct dsi_session *s, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i + 2 <= n) {
        uint8_t type = p[i], len = p[i + 1];
        if (i + 2 + len > n)
            break;
        if (type == DSI_OPT_SERVER_QUANTUM && len == 4)
            s->server_quantum = (uint32_t)p[i + 2] << 24 | (uint32_t)p[i + 3] << 16 | (uint32_t)p[i + 4] << 8 |
                                p[i + 5];
        i += 2u + len;
    }
}

int dsi_session_open(int fd, const struct dsi_options *opts, struct dsi_session **out, struct sfs_status *st)
{
    struct dsi_session *s = calloc(1, sizeof(*s));
    if (!s) {
        close(fd);
        return sfs_status_set(st, SFS_STAGE_NEGOTIATE, ENOMEM, SFS_DOMAIN_SYS, ENOMEM, "out of memory");
    }
    s->fd = fd;
    s->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 10000;
    s->on_attention = opts->on_attention;
    s->cb_ctx = opts->cb_ctx;
    s->server_quantum = 0x40000;   /* netatalk's old default, until the server says */
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->send_lock, NULL);
    pthread_cond_init(&s->slot_free, NULL);
    for (int i = 0; i < DSI_MAX_IN_FLIGHT; i++)
        pthread_cond_init(&s->slots[i].cond, NULL);

    uint32_t aq = opts->attention_quantum ? opts->attention_quantum : 1024;
    uint8_t option[6] = {DSI_OPT_ATTENTION_QUANTUM, 4, (uint8_t)(aq >> 24), (uint8_t)(aq >> 16), (uint8_t)(aq >> 8),
                         (uint8_t)aq};
    struct dsi_header reply;
    uint8_t *payload = NULL;
    int rc = simple_exchange(fd, DSI_OPENSESSION, option, sizeof(option), s->timeout_ms, &reply, &payload, 1024);
    if (rc == 0 && reply.code != 0)
        rc = -ECONNREFUSED;
    if (rc < 0) {
        free(payload);
        dsi_session_close(s);
        if (rc == -ECONNREFUSED)
            return sfs_status_set(st, SFS_STAGE_NEGOTIATE, ECONNREFUSED, SFS_DOMAIN_AFP, reply.code,
                                  "DSIOpenSession refused by the server (code %d)", (int)reply.code);
        return sfs_status_set(st, SFS_STAGE_NEGOTIATE, dsi_errno_for_transport(rc), SFS_DOMAIN_SYS, -rc,
                              "DSIOpenSession: %s", transport_text(rc));
    }
    parse_open_options(s, payload, reply.length);
    free(payload);
    s->next_id = 1;
    s->last_rx = s->last_tx = sfs_now_ms();
    if (pthread_create(&s->reader, NULL, reader_main, s) != 0) {
        dsi_session_close(s);
        return sfs_status_set(st, SFS_STAGE_NEGOTIATE, EAGAIN, SFS_DOMAIN_SYS, EAGAIN, "cannot start DSI reader");
    }
    s->reader_started = true;
    *out = s;
    return 0;
}

void dsi_session_close(struct dsi_session *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    bool alive = s->err == 0 && s->reader_started;
    uint16_t id = s->next_id++;
    pthread_mutex_unlock(&s->lock);
    if (alive)
        send_message(s, DSI_CLOSESESSION, id, 0, NULL, 0, NULL, 0);
    session_fail(s, ESHUTDOWN);
    if (s->reader_started)
        pthread_join(s->reader, NULL);
    close(s->fd);
    for (int i = 0; i < DSI_MAX_IN_FLIGHT; i++)
        pthread_cond_destroy(&s->slots[i].cond);
    pthread_cond_destroy(&s->slot_free);
    pthread_mutex_destroy(&s->send_lock);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
