/* Process isolation as a wrapper over any backend (worker.h): the
 * backend operations, each one request to the connection's worker
 * process.  Read-ahead (readahead_backend.c) wraps this in turn; its
 * windows live in the shared buffer (window_pool), so a window read lands
 * where the reader copies from, with no copy here. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "isolate.h"
#include "ops_cache.h"
#include "worker.h"

extern char **environ;

/* Write-behind (docs/architecture.md "Writes"): a write of at most one
 * slot is copied into a slot of the scratch area, sent, and acknowledged
 * to FUSE at once; its reply is collected when the slots are full or
 * before any other request.  So the FUSE thread copies the next write
 * while the worker and the server handle this one.  A failure is kept on
 * its file and returned by that file's next write, fsync and close. */
#define WB_SLOTS 4u
#define WB_SLOT_SIZE (SFS_WORKER_SCRATCH_SIZE / WB_SLOTS)

struct sfs_conn {
    pthread_mutex_t lock;    /* one request at a time: the worker is serial */
    /* Writes sent whose replies are not read yet, oldest at wb_head;
     * under lock. */
    struct sfs_file *wb_file[WB_SLOTS];
    size_t wb_size[WB_SLOTS];
    unsigned wb_head, wb_count;
    int sock;                /* -1 once the worker is gone */
    pid_t pid;
    char *shm;
    int memfd;
    pthread_mutex_t pool_lock;
    unsigned windows_used;   /* bit i: window i of the shared buffer is a file's */
    bool dead;
    uint64_t reconnects;     /* libsmbclient's own, as the worker last said */
    int deadline_ms;         /* a reply later than this: the worker is stopped */
    char label[256];
    char what[16];           /* "SMB": names the worker in messages */
};

struct sfs_file {
    struct sfs_conn *conn;
    int64_t id;              /* the worker's */
    struct sfs_write_error wb_err;   /* of a write that failed after FUSE had its answer */
};

/* ---- the worker process ---- */

static int fd_above(int fd, int min)
{
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, min);
    close(fd);
    return moved;
}

/* Starts `sharesfs --worker LABEL` (this same binary, even if replaced
 * on disk since) with the socket and the shared buffer. */
static int worker_spawn(struct sfs_conn *c, struct sfs_status *st)
{
    int sv[2] = {-1, -1};
    int memfd = memfd_create("sharesfs-worker", MFD_CLOEXEC);
    if (memfd < 0 || ftruncate(memfd, SFS_WORKER_SHM_SIZE) < 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        goto fail;
    c->shm = mmap(NULL, SFS_WORKER_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    if (c->shm == MAP_FAILED) {
        c->shm = NULL;
        goto fail;
    }
    /* Above the numbers they are moved to, so each dup2 clears CLOEXEC. */
    if ((memfd = fd_above(memfd, 10)) < 0 || (sv[1] = fd_above(sv[1], 10)) < 0)
        goto fail;
    c->memfd = fcntl(memfd, F_DUPFD_CLOEXEC, 0);   /* for giving window pages back */
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, sv[1], SFS_WORKER_SOCK_FD);
    posix_spawn_file_actions_adddup2(&fa, memfd, SFS_WORKER_SHM_FD);
    /* Not the signal mask of whichever FUSE thread starts it (a master's
     * mount processes block SIGTERM and friends for their signalfd). */
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, dflt;
    sigemptyset(&none);
    sigemptyset(&dflt);
    sigaddset(&dflt, SIGTERM);
    sigaddset(&dflt, SIGCHLD);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &dflt);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char *argv[] = {"sharesfs", "--worker", c->label, NULL};
    int rc = posix_spawn(&c->pid, "/proc/self/exe", &fa, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    close(sv[1]);
    close(memfd);
    if (rc != 0) {
        close(sv[0]);
        return sfs_status_set(st, SFS_STAGE_CONNECT, rc, SFS_DOMAIN_SYS, rc, "%s: cannot start the %s worker: %s",
                              c->label, c->what, strerror(rc));
    }
    c->sock = sv[0];
    return 0;
fail:;
    int err = errno;
    if (memfd >= 0)
        close(memfd);
    if (sv[0] >= 0)
        close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    return sfs_status_set(st, SFS_STAGE_CONNECT, err, SFS_DOMAIN_SYS, err, "%s: cannot set up the %s worker: %s",
                          c->label, c->what, strerror(err));
}

/* Ends the worker: closing the socket lets an idle one exit by itself;
 * whatever still runs after a moment is killed.  Caller holds c->lock or
 * owns C alone. */
static void worker_stop(struct sfs_conn *c, int *exit_status)
{
    if (c->sock >= 0)
        close(c->sock);
    c->sock = -1;
    if (c->pid <= 0)
        return;
    int status = 0;
    pid_t got = 0;
    for (int i = 0; i < 20 && (got = waitpid(c->pid, &status, WNOHANG)) == 0; i++) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (got == 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, &status, 0);
    }
    if (exit_status)
        *exit_status = status;
    c->pid = 0;
}

/* The worker failed to answer (ERR: -ETIMEDOUT, -EPIPE, -EPROTO): it is
 * stopped and the connection is lost. */
static int worker_failed(struct sfs_conn *c, int err, enum sfs_stage stage, struct sfs_status *st)
{
    int status = 0;
    if (err == -ETIMEDOUT && c->pid > 0)
        kill(c->pid, SIGKILL);
    worker_stop(c, &status);
    __atomic_store_n(&c->dead, true, __ATOMIC_RELAXED);
    int rc;
    if (err == -ETIMEDOUT)
        rc = sfs_status_set(st, stage, ETIMEDOUT, SFS_DOMAIN_SYS, ETIMEDOUT,
                            "no answer from the server within %d s (its %s worker was stopped)",
                            c->deadline_ms / 1000, c->what);
    else if (WIFSIGNALED(status))
        rc = sfs_status_set(st, stage, EIO, SFS_DOMAIN_SYS, EIO, "the %s worker died (signal %d)", c->what,
                            WTERMSIG(status));
    else if (err == -EPROTO)
        rc = sfs_status_set(st, stage, EIO, SFS_DOMAIN_SYS, EIO, "the %s worker sent a garbled reply", c->what);
    else
        rc = sfs_status_set(st, stage, EIO, SFS_DOMAIN_SYS, EIO, "the %s worker ended (exit status %d)", c->what,
                            WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    /* Writes already acknowledged to the application are lost with it. */
    for (; c->wb_count > 0; c->wb_count--, c->wb_head = (c->wb_head + 1) % WB_SLOTS) {
        sfs_write_error_keep(&c->wb_file[c->wb_head]->wb_err, rc, st);
    }
    return rc;
}

struct call {
    /* Frames other than the reply. */
    sfs_stage_cb stage_cb;
    void *stage_ctx;
    sfs_dirent_cb entry_cb;
    void *entry_ctx;
    bool entry_stop;
};

static void handle_entries(struct sfs_wire_in *r, struct call *k)
{
    uint32_t n = sfs_wire_get_u32(r);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        char *name = sfs_wire_get_str(r);
        struct stat sb;
        sfs_wire_get_fixed(r, &sb, sizeof(sb));
        if (name && !r->bad && !k->entry_stop && k->entry_cb)
            k->entry_stop = k->entry_cb(k->entry_ctx, name, &sb) != 0;
        free(name);
    }
}

/* Waits for the reply to the oldest request, handing stage and entry
 * frames to K.  Caller holds c->lock.  The reply's result with *REP
 * positioned after its status (*ST set when negative), or -errno when
 * the worker failed (it is then stopped and *ST says why). */
static int64_t reply_locked(struct sfs_conn *c, struct call *k, enum sfs_stage stage, struct sfs_wire_in *rep,
                            struct sfs_status *st)
{
    int rc;
    for (;;) {
        rc = sfs_wire_recv(c->sock, rep, c->deadline_ms);
        if (rc < 0)
            return worker_failed(c, rc == -ENOMEM ? -EPROTO : rc, stage, st);
        uint32_t kind = sfs_wire_get_u32(rep);
        if (kind == SW_REPLY)
            break;
        if (kind == SW_STAGE && k && k->stage_cb) {
            enum sfs_stage s = (enum sfs_stage)sfs_wire_get_u32(rep);
            double ms = sfs_wire_get_f64(rep);
            k->stage_cb(k->stage_ctx, s, ms, NULL);
        } else if (kind == SW_ENTRIES && k) {
            handle_entries(rep, k);
        }
        bool bad = rep->bad;
        sfs_wire_in_free(rep);
        if (bad)
            return worker_failed(c, -EPROTO, stage, st);
    }
    int64_t result = sfs_wire_get_i64(rep);
    bool alive = sfs_wire_get_u32(rep) != 0;
    uint64_t reconnects = (uint64_t)sfs_wire_get_i64(rep);
    struct sfs_status got = {0};
    sfs_worker_wire_get_status(rep, &got);
    if (rep->bad) {
        sfs_wire_in_free(rep);
        return worker_failed(c, -EPROTO, stage, st);
    }
    if (!alive)
        __atomic_store_n(&c->dead, true, __ATOMIC_RELAXED);
    __atomic_store_n(&c->reconnects, reconnects, __ATOMIC_RELAXED);
    if (result < 0) {
        *st = got;
        if (!st->err)
            sfs_status_set(st, stage, (int)-result, SFS_DOMAIN_SYS, -result, "%s", strerror((int)-result));
    }
    return result;
}

/* Reads the reply to the oldest write in flight; its failure (or a short
 * write, which FUSE was told was whole) goes to its file.  0, or -errno
 * when the worker failed. */
static int wb_reap_locked(struct sfs_conn *c, struct sfs_status *st)
{
    struct sfs_file *f = c->wb_file[c->wb_head];
    size_t size = c->wb_size[c->wb_head];
    struct sfs_wire_in rep = {0};
    struct sfs_status got = {0};
    int64_t n = reply_locked(c, NULL, SFS_STAGE_WRITE, &rep, &got);
    sfs_wire_in_free(&rep);
    if (c->wb_count == 0)   /* the worker failed: worker_failed gave every write its error */
    {
        *st = got;
        return -got.err;
    }
    c->wb_head = (c->wb_head + 1) % WB_SLOTS;
    c->wb_count--;
    if (n >= 0 && (size_t)n < size)
        n = sfs_status_set(&got, SFS_STAGE_WRITE, EIO, SFS_DOMAIN_SYS, EIO,
                           "the server took %lld of %zu bytes of a write already acknowledged", (long long)n, size);
    sfs_write_error_keep(&f->wb_err, (int)n, &got);
    return 0;
}

/* Every write in flight answered: before any other request, which could
 * see the data, and before the scratch area is used otherwise. */
static int wb_drain_locked(struct sfs_conn *c, struct sfs_status *st)
{
    while (c->wb_count > 0) {
        int rc = wb_reap_locked(c, st);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Sends REQ and waits for the reply (reply_locked).  Caller holds c->lock. */
static int64_t call_locked(struct sfs_conn *c, struct sfs_wire_out *req, struct call *k, enum sfs_stage stage,
                           struct sfs_wire_in *rep, struct sfs_status *st)
{
    memset(rep, 0, sizeof(*rep));
    if (c->sock < 0 || __atomic_load_n(&c->dead, __ATOMIC_RELAXED))
        return sfs_status_set(st, stage, EIO, SFS_DOMAIN_SYS, EIO, "the %s session of this key was lost", c->what);
    int rc = wb_drain_locked(c, st);
    if (rc < 0)
        return rc;
    rc = sfs_wire_send(c->sock, req);
    if (rc == -ENOMEM)
        return sfs_status_set(st, stage, ENOMEM, SFS_DOMAIN_SYS, ENOMEM, "out of memory");
    if (rc < 0)
        return worker_failed(c, -EPIPE, stage, st);
    return reply_locked(c, k, stage, rep, st);
}

/* One request with no payload in the reply. */
static int64_t call(struct sfs_conn *c, struct sfs_wire_out *req, enum sfs_stage stage, struct sfs_status *st)
{
    struct sfs_wire_in rep;
    pthread_mutex_lock(&c->lock);
    int64_t rc = call_locked(c, req, NULL, stage, &rep, st);
    pthread_mutex_unlock(&c->lock);
    sfs_wire_in_free(&rep);
    sfs_wire_out_free(req);
    return rc;
}

static void request(struct sfs_wire_out *w, enum sfs_worker_op op)
{
    sfs_wire_out_init(w);
    sfs_wire_put_u32(w, op);
}

/* ---- operations ---- */

static void conn_free(struct sfs_conn *c)
{
    worker_stop(c, NULL);
    if (c->shm)
        munmap(c->shm, SFS_WORKER_SHM_SIZE);
    if (c->memfd >= 0)
        close(c->memfd);
    pthread_mutex_destroy(&c->pool_lock);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static int proxy_connect(const struct sfs_target *t, struct sfs_conn **out, struct sfs_server_info *info,
                         sfs_stage_cb cb, void *cb_ctx, struct sfs_status *st)
{
    struct sfs_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return sfs_status_set(st, SFS_STAGE_CONNECT, ENOMEM, SFS_DOMAIN_SYS, ENOMEM, "out of memory");
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->pool_lock, NULL);
    c->sock = -1;
    c->memfd = -1;
    snprintf(c->label, sizeof(c->label), "%s", t->label ? t->label : t->url->host);
    const char *proto = sfs_proto_name(t->url->proto);
    for (size_t i = 0; proto[i] && i + 1 < sizeof(c->what); i++)
        c->what[i] = (char)toupper((unsigned char)proto[i]);
    /* libsmbclient bounds each request by the stage timeout; an operation
     * is a few requests (rename: three), a connect five stages. */
    c->deadline_ms = 5 * (t->timeout_ms > 0 ? t->timeout_ms : 10000) + 5000;
    int rc = worker_spawn(c, st);
    if (rc < 0) {
        conn_free(c);
        return rc;
    }
    struct sfs_wire_out req;
    request(&req, SW_CONNECT);
    sfs_worker_wire_put_target(&req, t);
    struct call k = {.stage_cb = cb, .stage_ctx = cb_ctx};
    struct sfs_wire_in rep;
    int64_t res = call_locked(c, &req, &k, SFS_STAGE_CONNECT, &rep, st);
    sfs_wire_out_free(&req);
    if (rep.buf && info)
        sfs_wire_get_fixed(&rep, info, sizeof(*info));
    sfs_wire_in_free(&rep);
    if (res < 0) {
        conn_free(c);
        return (int)res;
    }
    c->deadline_ms = 3 * (t->timeout_ms > 0 ? t->timeout_ms : 10000) + 5000;
    *out = c;
    return 0;
}

static void proxy_disconnect(struct sfs_conn *c)
{
    conn_free(c);
}

/* A request whose reply carries one fixed structure (stat, statvfs). */
static int call_for_fixed(struct sfs_conn *c, struct sfs_wire_out *req, enum sfs_stage stage, void *out,
                          size_t size, struct sfs_status *st)
{
    struct sfs_wire_in rep;
    pthread_mutex_lock(&c->lock);
    int64_t rc = call_locked(c, req, NULL, stage, &rep, st);
    pthread_mutex_unlock(&c->lock);
    if (rc == 0)
        sfs_wire_get_fixed(&rep, out, size);
    if (rc == 0 && rep.bad)
        rc = sfs_status_set(st, stage, EIO, SFS_DOMAIN_SYS, EIO, "garbled reply from the %s worker", c->what);
    sfs_wire_in_free(&rep);
    sfs_wire_out_free(req);
    return (int)rc;
}

static int proxy_getattr(struct sfs_conn *c, const char *path, struct stat *out, struct sfs_status *st)
{
    struct sfs_wire_out req;
    request(&req, SW_GETATTR);
    sfs_wire_put_str(&req, path);
    return call_for_fixed(c, &req, SFS_STAGE_LIST, out, sizeof(*out), st);
}

static int proxy_readdir(struct sfs_conn *c, const char *path, sfs_dirent_cb cb, void *cb_ctx, struct sfs_status *st)
{
    struct sfs_wire_out req;
    request(&req, SW_READDIR);
    sfs_wire_put_str(&req, path);
    struct call k = {.entry_cb = cb, .entry_ctx = cb_ctx};
    struct sfs_wire_in rep;
    pthread_mutex_lock(&c->lock);
    int64_t rc = call_locked(c, &req, &k, SFS_STAGE_LIST, &rep, st);
    pthread_mutex_unlock(&c->lock);
    sfs_wire_in_free(&rep);
    sfs_wire_out_free(&req);
    return (int)rc;
}

/* Read-ahead windows in the shared buffer (the window_pool operation). */
static void *window_get(void *ctx)
{
    struct sfs_conn *c = ctx;
    void *buf = NULL;
    pthread_mutex_lock(&c->pool_lock);
    for (unsigned i = 0; i < SFS_WORKER_WINDOWS && c->shm; i++) {
        if (!(c->windows_used & (1u << i))) {
            c->windows_used |= 1u << i;
            buf = c->shm + SFS_WORKER_SCRATCH_SIZE + (size_t)i * SFS_WORKER_WINDOW_SIZE;
            break;
        }
    }
    pthread_mutex_unlock(&c->pool_lock);
    return buf;
}

static void window_put(void *ctx, void *buf)
{
    struct sfs_conn *c = ctx;
    size_t at = (size_t)((char *)buf - c->shm);
    /* Its pages go back to the system: an idle key keeps no windows. */
    if (c->memfd >= 0)
        fallocate(c->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)at, SFS_WORKER_WINDOW_SIZE);
    pthread_mutex_lock(&c->pool_lock);
    c->windows_used &= ~(1u << ((at - SFS_WORKER_SCRATCH_SIZE) / SFS_WORKER_WINDOW_SIZE));
    pthread_mutex_unlock(&c->pool_lock);
}

static bool in_windows(const struct sfs_conn *c, const char *buf, size_t size)
{
    const char *lo = c->shm + SFS_WORKER_SCRATCH_SIZE, *hi = c->shm + SFS_WORKER_SHM_SIZE;
    return c->shm && buf >= lo && buf < hi && size <= (size_t)(hi - buf);
}

/* A read, fetch or write of SIZE bytes at OFF, the data at AT in the
 * shared buffer. */
static void io_request(struct sfs_wire_out *req, enum sfs_worker_op op, const struct sfs_file *f, size_t at,
                       size_t size, off_t off)
{
    request(req, op);
    sfs_wire_put_i64(req, f->id);
    sfs_wire_put_i64(req, (int64_t)at);
    sfs_wire_put_i64(req, (int64_t)size);
    sfs_wire_put_i64(req, off);
}

/* Reads (into RBUF), window fetches (into RBUF) and writes (from WBUF)
 * through the scratch area, in pieces it holds. */
static ssize_t transfer(struct sfs_conn *c, struct sfs_file *f, enum sfs_worker_op op, char *rbuf, const char *wbuf,
                        size_t size, off_t off, struct sfs_status *st)
{
    enum sfs_stage stage = op == SW_WRITE ? SFS_STAGE_WRITE : SFS_STAGE_READ;
    size_t done = 0;
    while (done < size) {
        size_t chunk = size - done < SFS_WORKER_SCRATCH_SIZE ? size - done : SFS_WORKER_SCRATCH_SIZE;
        struct sfs_wire_out req;
        io_request(&req, op, f, 0, chunk, off + (off_t)done);
        struct sfs_wire_in rep;
        pthread_mutex_lock(&c->lock);
        int64_t n = wb_drain_locked(c, st);
        if (n == 0 && wbuf)
            memcpy(c->shm, wbuf + done, chunk);
        if (n == 0)
            n = call_locked(c, &req, NULL, stage, &rep, st);
        else
            memset(&rep, 0, sizeof(rep));
        if (n > 0 && rbuf)
            memcpy(rbuf + done, c->shm, (size_t)n);
        pthread_mutex_unlock(&c->lock);
        sfs_wire_in_free(&rep);
        sfs_wire_out_free(&req);
        if (n < 0)
            return (ssize_t)n;
        done += (size_t)n;
        if ((size_t)n < chunk)
            break;
    }
    return (ssize_t)done;
}

static int open_or_create(struct sfs_conn *c, enum sfs_worker_op op, const char *path, int flags, mode_t mode,
                          struct sfs_file **out, struct sfs_status *st)
{
    enum sfs_stage stage = op == SW_OPEN ? SFS_STAGE_READ : SFS_STAGE_WRITE;
    struct sfs_file *f = calloc(1, sizeof(*f));
    if (!f)
        return sfs_status_set(st, stage, ENOMEM, SFS_DOMAIN_SYS, ENOMEM, "out of memory");
    struct sfs_wire_out req;
    request(&req, op);
    sfs_wire_put_str(&req, path);
    sfs_wire_put_i64(&req, flags);
    sfs_wire_put_i64(&req, mode);
    struct sfs_wire_in rep;
    pthread_mutex_lock(&c->lock);
    int64_t rc = call_locked(c, &req, NULL, stage, &rep, st);
    pthread_mutex_unlock(&c->lock);
    if (rc == 0)
        f->id = sfs_wire_get_i64(&rep);
    sfs_wire_in_free(&rep);
    sfs_wire_out_free(&req);
    if (rc < 0) {
        free(f);
        return (int)rc;
    }
    f->conn = c;
    *out = f;
    return 0;
}

static int proxy_open(struct sfs_conn *c, const char *path, int flags, struct sfs_file **out, struct sfs_status *st)
{
    return open_or_create(c, SW_OPEN, path, flags, 0, out, st);
}

static int proxy_create(struct sfs_conn *c, const char *path, mode_t mode, int flags, struct sfs_file **out,
                        struct sfs_status *st)
{
    return open_or_create(c, SW_CREATE, path, flags, mode, out, st);
}

static ssize_t proxy_read(struct sfs_conn *c, struct sfs_file *f, char *buf, size_t size, off_t off,
                          struct sfs_status *st)
{
    if (!in_windows(c, buf, size))
        return transfer(c, f, SW_READ, buf, NULL, size, off, st);
    /* A read-ahead window in the shared buffer: the worker fills it in place. */
    struct sfs_wire_out req;
    io_request(&req, SW_READ, f, (size_t)(buf - c->shm), size, off);
    return (ssize_t)call(c, &req, SFS_STAGE_READ, st);
}

/* Write-behind (WB_SLOTS): returns once the request is sent. */
static ssize_t proxy_write(struct sfs_conn *c, struct sfs_file *f, const char *buf, size_t size, off_t off,
                           struct sfs_status *st)
{
    pthread_mutex_lock(&c->lock);
    int64_t rc = sfs_write_error_report(&f->wb_err, false, st);
    if (rc == 0 && size > WB_SLOT_SIZE) {
        pthread_mutex_unlock(&c->lock);
        rc = transfer(c, f, SW_WRITE, NULL, buf, size, off, st);
        pthread_mutex_lock(&c->lock);
        if (rc >= 0 && sfs_write_error_report(&f->wb_err, false, st) < 0)
            rc = f->wb_err.err;
        pthread_mutex_unlock(&c->lock);
        return (ssize_t)rc;
    }
    if (rc == 0 && (c->sock < 0 || __atomic_load_n(&c->dead, __ATOMIC_RELAXED)))
        rc = sfs_status_set(st, SFS_STAGE_WRITE, EIO, SFS_DOMAIN_SYS, EIO, "the %s session of this key was lost",
                            c->what);
    if (rc == 0 && c->wb_count == WB_SLOTS)
        rc = wb_reap_locked(c, st);
    if (rc == 0)
        rc = sfs_write_error_report(&f->wb_err, false, st);
    if (rc == 0) {
        unsigned slot = (c->wb_head + c->wb_count) % WB_SLOTS;
        memcpy(c->shm + (size_t)slot * WB_SLOT_SIZE, buf, size);
        struct sfs_wire_out req;
        io_request(&req, SW_WRITE, f, (size_t)slot * WB_SLOT_SIZE, size, off);
        int sent = sfs_wire_send(c->sock, &req);
        sfs_wire_out_free(&req);
        if (sent == -ENOMEM)
            rc = sfs_status_set(st, SFS_STAGE_WRITE, ENOMEM, SFS_DOMAIN_SYS, ENOMEM, "out of memory");
        else if (sent < 0)
            rc = worker_failed(c, -EPIPE, SFS_STAGE_WRITE, st);
        else {
            c->wb_file[slot] = f;
            c->wb_size[slot] = size;
            c->wb_count++;
            rc = (int64_t)size;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return (ssize_t)rc;
}

/* close(2): the writes still in flight answered, and a failure among them
 * (or earlier, not yet reported) returned. */
static int proxy_flush(struct sfs_conn *c, struct sfs_file *f, struct sfs_status *st)
{
    pthread_mutex_lock(&c->lock);
    int rc = c->sock >= 0 ? wb_drain_locked(c, st) : 0;
    if (rc == 0 || f->wb_err.err)
        rc = sfs_write_error_report(&f->wb_err, true, st);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

static int proxy_release(struct sfs_conn *c, struct sfs_file *f)
{
    if (!__atomic_load_n(&c->dead, __ATOMIC_RELAXED)) {
        struct sfs_wire_out req;
        request(&req, SW_RELEASE);
        sfs_wire_put_i64(&req, f->id);
        struct sfs_status st = {0};
        call(c, &req, SFS_STAGE_READ, &st);
    }
    free(f);
    return 0;
}

static int file_call(struct sfs_conn *c, struct sfs_file *f, enum sfs_worker_op op, off_t size,
                     struct sfs_status *st)
{
    struct sfs_wire_out req;
    request(&req, op);
    sfs_wire_put_i64(&req, f->id);
    sfs_wire_put_i64(&req, size);
    return (int)call(c, &req, SFS_STAGE_WRITE, st);
}

static int proxy_ftruncate(struct sfs_conn *c, struct sfs_file *f, off_t size, struct sfs_status *st)
{
    return file_call(c, f, SW_FTRUNCATE, size, st);
}

static int proxy_fsync(struct sfs_conn *c, struct sfs_file *f, struct sfs_status *st)
{
    int rc = proxy_flush(c, f, st);
    return rc < 0 ? rc : file_call(c, f, SW_FSYNC, 0, st);
}

static int proxy_statfs(struct sfs_conn *c, const char *path, struct statvfs *out, struct sfs_status *st)
{
    struct sfs_wire_out req;
    request(&req, SW_STATFS);
    sfs_wire_put_str(&req, path);
    return call_for_fixed(c, &req, SFS_STAGE_LIST, out, sizeof(*out), st);
}

/* mkdir, unlink, rmdir, chmod: a path and a mode. */
static int path_call(struct sfs_conn *c, enum sfs_worker_op op, const char *path, mode_t mode, struct sfs_status *st)
{
    struct sfs_wire_out req;
    request(&req, op);
    sfs_wire_put_str(&req, path);
    sfs_wire_put_i64(&req, mode);
    return (int)call(c, &req, SFS_STAGE_WRITE, st);
}

static int proxy_mkdir(struct sfs_conn *c, const char *path, mode_t mode, struct sfs_status *st)
{
    return path_call(c, SW_MKDIR, path, mode, st);
}

static int proxy_unlink(struct sfs_conn *c, const char *path, struct sfs_status *st)
{
    return path_call(c, SW_UNLINK, path, 0, st);
}

static int proxy_rmdir(struct sfs_conn *c, const char *path, struct sfs_status *st)
{
    return path_call(c, SW_RMDIR, path, 0, st);
}

static int proxy_chmod(struct sfs_conn *c, const char *path, mode_t mode, struct sfs_status *st)
{
    return path_call(c, SW_CHMOD, path, mode, st);
}

static int proxy_rename(struct sfs_conn *c, const char *from, const char *to, unsigned flags, struct sfs_status *st)
{
    struct sfs_wire_out req;
    request(&req, SW_RENAME);
    sfs_wire_put_str(&req, from);
    sfs_wire_put_str(&req, to);
    sfs_wire_put_u32(&req, flags);
    return (int)call(c, &req, SFS_STAGE_WRITE, st);
}

static int proxy_utimens(struct sfs_conn *c, const char *path, const struct timespec tv[2], struct sfs_status *st)
{
    struct sfs_wire_out req;
    request(&req, SW_UTIMENS);
    sfs_wire_put_str(&req, path);
    sfs_wire_put_bytes(&req, tv, 2 * sizeof(tv[0]));
    return (int)call(c, &req, SFS_STAGE_WRITE, st);
}

static void proxy_stats(struct sfs_conn *c, struct sfs_conn_stats *out)
{
    out->reconnects = __atomic_load_n(&c->reconnects, __ATOMIC_RELAXED);
}

static bool proxy_alive(struct sfs_conn *c)
{
    return !__atomic_load_n(&c->dead, __ATOMIC_RELAXED);
}

static bool proxy_window_pool(struct sfs_conn *c, struct sfs_window_pool *out)
{
    *out = (struct sfs_window_pool){.get = window_get, .put = window_put, .ctx = c};
    return true;
}

/* One isolated table per inner table, made on first use: the worker runs
 * the inner backend (chosen by the target's protocol), and an operation
 * the inner backend lacks, or that frames cannot carry yet (symlinks,
 * extended attributes), stays NULL. */
static struct sfs_ops_cache tables = SFS_OPS_CACHE_INIT;

#define CARRY(op) t->op = inner->op ? proxy_##op : NULL

static void isolate_table(const struct sfs_backend_ops *inner, struct sfs_backend_ops *t)
{
    *t = (struct sfs_backend_ops){
        .name = inner->name,
        .flags = inner->flags,
        .prepare_target = inner->prepare_target,
        .server_info = inner->server_info,
        .connect = proxy_connect,
        .disconnect = proxy_disconnect,
        .open = proxy_open,
        .read = proxy_read,
        .release = proxy_release,
        .alive = proxy_alive,
        .stats = proxy_stats,
        .window_pool = proxy_window_pool,
        .flush = inner->write ? proxy_flush : NULL,
    };
    CARRY(getattr);
    CARRY(readdir);
    CARRY(statfs);
    CARRY(create);
    CARRY(write);
    CARRY(ftruncate);
    CARRY(fsync);
    CARRY(mkdir);
    CARRY(unlink);
    CARRY(rmdir);
    CARRY(rename);
    CARRY(utimens);
    CARRY(chmod);
}

const struct sfs_backend_ops *sfs_isolated_backend(const struct sfs_backend_ops *inner)
{
    return sfs_ops_cache_get(&tables, inner, isolate_table);
}
