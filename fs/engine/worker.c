/* The worker process: one connection of one backend, one request at a
 * time, for proxy.c (see worker.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "sharesfs/engine.h"
#include "worker.h"

/* The backend the target's protocol names, chosen at SW_CONNECT. */
static const struct sfs_backend_ops *be;

struct worker {
    int sock;
    char *shm;
    struct sfs_conn *conn;
    struct sfs_file **files;   /* id - 1 -> file; NULL when free */
    size_t n_files;
};

static uint64_t file_add(struct worker *w, struct sfs_file *f)
{
    for (size_t i = 0; i < w->n_files; i++) {
        if (!w->files[i]) {
            w->files[i] = f;
            return i + 1;
        }
    }
    struct sfs_file **grown = realloc(w->files, (w->n_files + 16) * sizeof(*grown));
    if (!grown)
        return 0;
    memset(grown + w->n_files, 0, 16 * sizeof(*grown));
    w->files = grown;
    w->files[w->n_files] = f;
    w->n_files += 16;
    return w->n_files - 15;
}

static struct sfs_file *file_get(struct worker *w, uint64_t id)
{
    return id >= 1 && id <= w->n_files ? w->files[id - 1] : NULL;
}

/* The reply header: every reply says whether the session still stands. */
static void reply_begin(struct sfs_wire_out *o, const struct worker *w, int64_t rc, const struct sfs_status *st)
{
    sfs_wire_out_init(o);
    sfs_wire_put_u32(o, SW_REPLY);
    sfs_wire_put_i64(o, rc);
    sfs_wire_put_u32(o, w->conn && be->alive ? be->alive(w->conn) : 1);
    struct sfs_conn_stats cs = {0};
    if (w->conn && be->stats)
        be->stats(w->conn, &cs);
    sfs_wire_put_i64(o, (int64_t)cs.reconnects);
    sfs_worker_wire_put_status(o, st);
}

struct stage_fwd {
    int sock;
};

static void stage_forward(void *ctx, enum sfs_stage stage, double ms, const struct sfs_status *st)
{
    (void)st;
    struct stage_fwd *f = ctx;
    struct sfs_wire_out o;
    sfs_wire_out_init(&o);
    sfs_wire_put_u32(&o, SW_STAGE);
    sfs_wire_put_u32(&o, (uint32_t)stage);
    sfs_wire_put_f64(&o, ms);
    sfs_wire_send(f->sock, &o);
    sfs_wire_out_free(&o);
}

struct entries {
    int sock;
    struct sfs_wire_out o;
    uint32_t count;
    size_t count_at;
};

static void entries_start(struct entries *e)
{
    sfs_wire_out_init(&e->o);
    sfs_wire_put_u32(&e->o, SW_ENTRIES);
    e->count_at = e->o.len;
    sfs_wire_put_u32(&e->o, 0);
    e->count = 0;
}

static int entries_flush(struct entries *e)
{
    if (!e->o.oom)
        memcpy(e->o.p + e->count_at, &e->count, sizeof(e->count));
    int rc = e->count ? sfs_wire_send(e->sock, &e->o) : 0;
    sfs_wire_out_free(&e->o);
    entries_start(e);
    return rc;
}

static int entry_add(void *ctx, const char *name, const struct stat *st)
{
    struct entries *e = ctx;
    sfs_wire_put_str(&e->o, name);
    sfs_wire_put_bytes(&e->o, st, sizeof(*st));
    e->count++;
    if (e->o.len > (256u << 10))
        return entries_flush(e) < 0;
    return 0;
}

/* Serves one request; false when the worker should exit. */
static bool serve_one(struct worker *w, struct sfs_wire_in *r)
{
    uint32_t op = sfs_wire_get_u32(r);
    struct sfs_status st = {0};
    struct sfs_wire_out o;
    int64_t rc = 0;
    char *path = NULL, *path2 = NULL;
    bool keep = true;

    if (op != SW_CONNECT && !w->conn) {
        rc = sfs_status_set(&st, SFS_STAGE_CONNECT, ENOTCONN, SFS_DOMAIN_SYS, ENOTCONN, "worker not connected");
        reply_begin(&o, w, rc, &st);
        goto send;
    }
    switch (op) {
    case SW_CONNECT: {
        struct sfs_worker_target t;
        struct sfs_server_info info = {0};
        struct stage_fwd fwd = {.sock = w->sock};
        if (w->conn || sfs_worker_wire_get_target(r, &t) < 0) {
            rc = sfs_status_set(&st, SFS_STAGE_CONNECT, EPROTO, SFS_DOMAIN_SYS, EPROTO, "bad connect request");
        } else if (!(be = sfs_backend_for(t.url.proto))) {
            rc = sfs_status_set(&st, SFS_STAGE_CONNECT, EPROTONOSUPPORT, SFS_DOMAIN_URL, 0,
                                "%s: no %s backend in this build", t.t.label, sfs_proto_name(t.url.proto));
            sfs_worker_wire_target_free(&t);
        } else {
            char name[16];
            snprintf(name, sizeof(name), "sfs-%s-worker", be->name);
            prctl(PR_SET_NAME, name, 0, 0, 0);
            rc = be->connect(&t.t, &w->conn, &info, stage_forward, &fwd, &st);
            sfs_worker_wire_target_free(&t);
        }
        reply_begin(&o, w, rc, &st);
        sfs_wire_put_bytes(&o, &info, sizeof(info));
        keep = rc == 0;   /* a failed connect ends the worker */
        break;
    }
    case SW_GETATTR: {
        struct stat sb = {0};
        path = sfs_wire_get_str(r);
        rc = path ? be->getattr(w->conn, path, &sb, &st) : -EPROTO;
        reply_begin(&o, w, rc, &st);
        sfs_wire_put_bytes(&o, &sb, sizeof(sb));
        break;
    }
    case SW_READDIR: {
        struct entries e = {.sock = w->sock};
        entries_start(&e);
        path = sfs_wire_get_str(r);
        rc = path ? be->readdir(w->conn, path, entry_add, &e, &st) : -EPROTO;
        if (entries_flush(&e) < 0)
            keep = false;
        sfs_wire_out_free(&e.o);
        reply_begin(&o, w, rc, &st);
        break;
    }
    case SW_OPEN:
    case SW_CREATE: {
        path = sfs_wire_get_str(r);
        int flags = (int)sfs_wire_get_i64(r);
        mode_t mode = (mode_t)sfs_wire_get_i64(r);
        struct sfs_file *f = NULL;
        if (!path)
            rc = -EPROTO;
        else if (op == SW_OPEN)
            rc = be->open(w->conn, path, flags, &f, &st);
        else
            rc = be->create(w->conn, path, mode, flags, &f, &st);
        uint64_t id = 0;
        if (rc == 0 && !(id = file_add(w, f))) {
            be->release(w->conn, f);
            rc = sfs_status_set(&st, SFS_STAGE_READ, ENOMEM, SFS_DOMAIN_SYS, ENOMEM, "out of memory");
        }
        reply_begin(&o, w, rc, &st);
        sfs_wire_put_i64(&o, (int64_t)id);
        break;
    }
    case SW_READ:
    case SW_WRITE: {
        struct sfs_file *f = file_get(w, (uint64_t)sfs_wire_get_i64(r));
        uint64_t at = (uint64_t)sfs_wire_get_i64(r);
        uint64_t size = (uint64_t)sfs_wire_get_i64(r);
        off_t off = (off_t)sfs_wire_get_i64(r);
        if (!f || r->bad || at > SFS_WORKER_SHM_SIZE || size > SFS_WORKER_SHM_SIZE - at)
            rc = sfs_status_set(&st, SFS_STAGE_READ, EBADF, SFS_DOMAIN_SYS, EBADF, "bad request to the worker");
        else if (op == SW_READ)
            rc = be->read(w->conn, f, w->shm + at, size, off, &st);
        else
            rc = be->write(w->conn, f, w->shm + at, size, off, &st);
        reply_begin(&o, w, rc, &st);
        break;
    }
    case SW_RELEASE: {
        uint64_t id = (uint64_t)sfs_wire_get_i64(r);
        struct sfs_file *f = file_get(w, id);
        if (f) {
            w->files[id - 1] = NULL;
            rc = be->release(w->conn, f);
        }
        reply_begin(&o, w, rc, &st);
        break;
    }
    case SW_FTRUNCATE:
    case SW_FSYNC: {
        struct sfs_file *f = file_get(w, (uint64_t)sfs_wire_get_i64(r));
        off_t size = (off_t)sfs_wire_get_i64(r);
        if (!f)
            rc = sfs_status_set(&st, SFS_STAGE_WRITE, EBADF, SFS_DOMAIN_SYS, EBADF, "bad file in a request to the worker");
        else
            rc = op == SW_FTRUNCATE ? be->ftruncate(w->conn, f, size, &st) : be->fsync(w->conn, f, &st);
        reply_begin(&o, w, rc, &st);
        break;
    }
    case SW_STATFS: {
        struct statvfs sv = {0};
        path = sfs_wire_get_str(r);
        rc = path ? be->statfs(w->conn, path, &sv, &st) : -EPROTO;
        reply_begin(&o, w, rc, &st);
        sfs_wire_put_bytes(&o, &sv, sizeof(sv));
        break;
    }
    case SW_MKDIR:
    case SW_UNLINK:
    case SW_RMDIR:
    case SW_CHMOD: {
        path = sfs_wire_get_str(r);
        mode_t mode = (mode_t)sfs_wire_get_i64(r);
        if (!path)
            rc = -EPROTO;
        else if (op == SW_MKDIR)
            rc = be->mkdir(w->conn, path, mode, &st);
        else if (op == SW_UNLINK)
            rc = be->unlink(w->conn, path, &st);
        else if (op == SW_RMDIR)
            rc = be->rmdir(w->conn, path, &st);
        else
            rc = be->chmod(w->conn, path, mode, &st);
        reply_begin(&o, w, rc, &st);
        break;
    }
    case SW_RENAME: {
        path = sfs_wire_get_str(r);
        path2 = sfs_wire_get_str(r);
        unsigned flags = sfs_wire_get_u32(r);
        rc = path && path2 ? be->rename(w->conn, path, path2, flags, &st) : -EPROTO;
        reply_begin(&o, w, rc, &st);
        break;
    }
    case SW_UTIMENS: {
        struct timespec tv[2];
        path = sfs_wire_get_str(r);
        sfs_wire_get_fixed(r, tv, sizeof(tv));
        rc = path && !r->bad ? be->utimens(w->conn, path, tv, &st) : -EPROTO;
        reply_begin(&o, w, rc, &st);
        break;
    }
    default:
        rc = sfs_status_set(&st, SFS_STAGE_CONNECT, EPROTO, SFS_DOMAIN_SYS, EPROTO, "unknown request %u to the worker", op);
        reply_begin(&o, w, rc, &st);
        break;
    }
send:
    if (sfs_wire_send(w->sock, &o) < 0)
        keep = false;
    sfs_wire_out_free(&o);
    free(path);
    free(path2);
    return keep;
}

int sfs_worker_main(void)
{
    /* Stopping is the FUSE side's to decide: it closes the socket. */
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_NAME, "sfs-worker", 0, 0, 0);
    /* Nothing else of the FUSE process's: a descriptor it did not mark
     * close-on-exec (a daemonising pipe, say) must not live on here. */
    close_range(SFS_WORKER_SHM_FD + 1, ~0u, 0);
    struct worker w = {.sock = SFS_WORKER_SOCK_FD};
    w.shm = mmap(NULL, SFS_WORKER_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, SFS_WORKER_SHM_FD, 0);
    if (w.shm == MAP_FAILED) {
        fprintf(stderr, "sharesfs worker: cannot map the shared buffer: %s\n", strerror(errno));
        return 1;
    }
    close(SFS_WORKER_SHM_FD);
    for (;;) {
        struct sfs_wire_in r;
        if (sfs_wire_recv(w.sock, &r, -1) < 0)
            break;
        bool keep = serve_one(&w, &r);
        sfs_wire_in_free(&r);
        if (!keep)
            break;
    }
    for (size_t i = 0; i < w.n_files; i++)
        if (w.files[i])
            be->release(w.conn, w.files[i]);
    free(w.files);
    if (w.conn)
        be->disconnect(w.conn);
    munmap(w.shm, SFS_WORKER_SHM_SIZE);
    return 0;
}
