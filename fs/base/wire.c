/* Frames for sharesfs's helper processes: see wire.h. */
#include "sharesfs/wire.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NULL_STR 0xffffffffu

void sfs_wire_out_init(struct sfs_wire_out *w)
{
    memset(w, 0, sizeof(*w));
    sfs_wire_put_u32(w, 0);   /* the length, patched in sfs_wire_send */
}

void sfs_wire_out_free(struct sfs_wire_out *w)
{
    if (w->p)
        explicit_bzero(w->p, w->cap);
    free(w->p);
    memset(w, 0, sizeof(*w));
}

static bool out_reserve(struct sfs_wire_out *w, size_t n)
{
    if (w->oom)
        return false;
    if (w->len + n <= w->cap)
        return true;
    size_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + n)
        cap *= 2;
    char *p = cap <= SFS_WIRE_MAX_FRAME ? malloc(cap) : NULL;
    if (!p) {
        w->oom = true;   /* sfs_wire_send then refuses the frame */
        return false;
    }
    if (w->p) {
        memcpy(p, w->p, w->len);
        explicit_bzero(w->p, w->cap);   /* grown buffers are wiped too */
        free(w->p);
    }
    w->p = p;
    w->cap = cap;
    return true;
}

static void put_raw(struct sfs_wire_out *w, const void *p, size_t n)
{
    if (!out_reserve(w, n))
        return;
    memcpy(w->p + w->len, p, n);
    w->len += n;
}

void sfs_wire_put_u32(struct sfs_wire_out *w, uint32_t v) { put_raw(w, &v, sizeof(v)); }
void sfs_wire_put_i64(struct sfs_wire_out *w, int64_t v) { put_raw(w, &v, sizeof(v)); }
void sfs_wire_put_f64(struct sfs_wire_out *w, double v) { put_raw(w, &v, sizeof(v)); }

void sfs_wire_put_bytes(struct sfs_wire_out *w, const void *p, size_t n)
{
    sfs_wire_put_u32(w, (uint32_t)n);
    put_raw(w, p, n);
}

void sfs_wire_put_str(struct sfs_wire_out *w, const char *s)
{
    if (!s)
        sfs_wire_put_u32(w, NULL_STR);
    else
        sfs_wire_put_bytes(w, s, strlen(s));
}

int sfs_wire_send(int fd, const struct sfs_wire_out *w)
{
    if (w->oom)
        return -ENOMEM;
    uint32_t len = (uint32_t)(w->len - sizeof(uint32_t));
    memcpy(w->p, &len, sizeof(len));
    size_t done = 0;
    while (done < w->len) {
        ssize_t n = send(fd, w->p + done, w->len - done, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == ECONNRESET ? -EPIPE : -errno;
        }
        done += (size_t)n;
    }
    return 0;
}

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Reads exactly N bytes before DEADLINE (< 0: none). */
static int read_full(int fd, char *p, size_t n, double deadline)
{
    size_t done = 0;
    while (done < n) {
        if (deadline >= 0) {
            int left = (int)(deadline - mono_ms());
            if (left <= 0)
                return -ETIMEDOUT;
            struct pollfd pfd = {.fd = fd, .events = POLLIN};
            int pr = poll(&pfd, 1, left);
            if (pr < 0 && errno == EINTR)
                continue;
            if (pr < 0)
                return -errno;
            if (pr == 0)
                return -ETIMEDOUT;
        }
        ssize_t got = read(fd, p + done, n - done);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return errno == ECONNRESET ? -EPIPE : -errno;
        }
        if (got == 0)
            return -EPIPE;
        done += (size_t)got;
    }
    return 0;
}

int sfs_wire_recv(int fd, struct sfs_wire_in *r, int timeout_ms)
{
    memset(r, 0, sizeof(*r));
    double deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
    uint32_t len;
    int rc = read_full(fd, (char *)&len, sizeof(len), deadline);
    if (rc < 0)
        return rc;
    if (len > SFS_WIRE_MAX_FRAME)
        return -EPROTO;
    r->buf = malloc(len ? len : 1);
    if (!r->buf)
        return -ENOMEM;
    rc = read_full(fd, r->buf, len, deadline);
    if (rc < 0) {
        sfs_wire_in_free(r);
        return rc;
    }
    r->len = len;
    return 0;
}

void sfs_wire_in_free(struct sfs_wire_in *r)
{
    if (r->buf)
        explicit_bzero(r->buf, r->len);
    free(r->buf);
    memset(r, 0, sizeof(*r));
}

static bool get_raw(struct sfs_wire_in *r, void *p, size_t n)
{
    if (r->bad || r->len - r->pos < n) {
        r->bad = true;
        memset(p, 0, n);
        return false;
    }
    memcpy(p, r->buf + r->pos, n);
    r->pos += n;
    return true;
}

uint32_t sfs_wire_get_u32(struct sfs_wire_in *r)
{
    uint32_t v;
    get_raw(r, &v, sizeof(v));
    return v;
}

int64_t sfs_wire_get_i64(struct sfs_wire_in *r)
{
    int64_t v;
    get_raw(r, &v, sizeof(v));
    return v;
}

double sfs_wire_get_f64(struct sfs_wire_in *r)
{
    double v;
    get_raw(r, &v, sizeof(v));
    return v;
}

void sfs_wire_get_fixed(struct sfs_wire_in *r, void *p, size_t n)
{
    if (sfs_wire_get_u32(r) != n) {
        r->bad = true;
        memset(p, 0, n);
        return;
    }
    get_raw(r, p, n);
}

char *sfs_wire_get_str(struct sfs_wire_in *r)
{
    uint32_t n = sfs_wire_get_u32(r);
    if (r->bad || n == NULL_STR)
        return NULL;
    if (r->len - r->pos < n) {
        r->bad = true;
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (!s) {
        r->bad = true;
        return NULL;
    }
    memcpy(s, r->buf + r->pos, n);
    s[n] = '\0';
    r->pos += n;
    return s;
}

void sfs_wire_get_str_into(struct sfs_wire_in *r, char *out, size_t cap)
{
    char *s = sfs_wire_get_str(r);
    if (cap)
        out[0] = '\0';
    if (s && cap) {
        size_t n = strlen(s);
        if (n >= cap)
            n = cap - 1;
        memcpy(out, s, n);
        out[n] = '\0';
    }
    free(s);
}
