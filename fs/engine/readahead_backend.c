/* Read-ahead as a wrapper over any backend's operations (as sshfs wraps
 * its operations with its cache): a connection is wrapped once it is up,
 * files opened read-only get a read-ahead (readahead.c) whose fetches are
 * the inner backend's reads, and every other operation passes through.
 * Handles open for writing never read ahead: they would have to keep the
 * windows in step with their own writes. */
#include "readahead_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "ops_cache.h"
#include "readahead.h"

struct sfs_conn {
    const struct sfs_backend_ops *inner;
    struct sfs_conn *conn;           /* the inner backend's connection */
    struct sfs_readahead_totals totals;
};

struct sfs_file {
    struct sfs_conn *conn;
    struct sfs_file *file;           /* the inner backend's file */
    struct sfs_readahead *ra;        /* read-only handles only */
};

/* A failure needs no status: the read-ahead then leaves the read to a
 * direct read, which reports it with its full cause. */
static ssize_t ra_fetch(void *ctx, char *buf, size_t size, off_t off)
{
    struct sfs_file *f = ctx;
    struct sfs_status st = {0};
    ssize_t n = f->conn->inner->read(f->conn->conn, f->file, buf, size, off, &st);
    return n < 0 ? -(st.err ? st.err : EIO) : n;
}

static int wrap_file(struct sfs_conn *c, struct sfs_file *inner, bool read_only, struct sfs_file **out,
                     enum sfs_stage stage, struct sfs_status *st)
{
    struct sfs_file *f = calloc(1, sizeof(*f));
    if (!f) {
        c->inner->release(c->conn, inner);
        return sfs_status_set(st, stage, ENOMEM, SFS_DOMAIN_SYS, ENOMEM, "out of memory");
    }
    f->conn = c;
    f->file = inner;
    if (read_only) {
        struct sfs_window_pool pool;
        bool pooled = c->inner->window_pool && c->inner->window_pool(c->conn, &pool);
        f->ra = sfs_readahead_new_pooled(ra_fetch, f, pooled ? &pool : NULL);
        if (c->inner->flags & SFS_BACKEND_PARALLEL_READS)
            sfs_readahead_set_depth(f->ra, 2);
    }
    *out = f;
    return 0;
}

static int ra_open(struct sfs_conn *c, const char *path, int flags, struct sfs_file **out, struct sfs_status *st)
{
    struct sfs_file *inner = NULL;
    int rc = c->inner->open(c->conn, path, flags, &inner, st);
    return rc < 0 ? rc : wrap_file(c, inner, (flags & O_ACCMODE) == O_RDONLY, out, SFS_STAGE_READ, st);
}

static int ra_create(struct sfs_conn *c, const char *path, mode_t mode, int flags, struct sfs_file **out,
                     struct sfs_status *st)
{
    struct sfs_file *inner = NULL;
    int rc = c->inner->create(c->conn, path, mode, flags, &inner, st);
    return rc < 0 ? rc : wrap_file(c, inner, false, out, SFS_STAGE_WRITE, st);
}

static ssize_t ra_read(struct sfs_conn *c, struct sfs_file *f, char *buf, size_t size, off_t off,
                       struct sfs_status *st)
{
    ssize_t n = f->ra ? sfs_readahead_read(f->ra, buf, size, off) : SFS_READAHEAD_MISS;
    return n != SFS_READAHEAD_MISS ? n : c->inner->read(c->conn, f->file, buf, size, off, st);
}

static int ra_release(struct sfs_conn *c, struct sfs_file *f)
{
    if (f->ra) {
        sfs_readahead_add_stats(&c->totals, f->ra);
        sfs_readahead_free(f->ra);   /* waits for a fetch in progress */
    }
    int rc = c->inner->release(c->conn, f->file);
    free(f);
    return rc;
}

static void ra_stats(struct sfs_conn *c, struct sfs_conn_stats *out)
{
    if (c->inner->stats)
        c->inner->stats(c->conn, out);
    sfs_readahead_read_totals(&c->totals, &out->readahead_hits, &out->readahead_misses, &out->readahead_fetches);
}

static void ra_disconnect(struct sfs_conn *c)
{
    c->inner->disconnect(c->conn);
    free(c);
}

/* The rest pass through. */
static ssize_t ra_write(struct sfs_conn *c, struct sfs_file *f, const char *buf, size_t size, off_t off,
                        struct sfs_status *st)
{
    return c->inner->write(c->conn, f->file, buf, size, off, st);
}

static int ra_ftruncate(struct sfs_conn *c, struct sfs_file *f, off_t size, struct sfs_status *st)
{
    return c->inner->ftruncate(c->conn, f->file, size, st);
}

static int ra_fsync(struct sfs_conn *c, struct sfs_file *f, struct sfs_status *st)
{
    return c->inner->fsync(c->conn, f->file, st);
}

static int ra_flush(struct sfs_conn *c, struct sfs_file *f, struct sfs_status *st)
{
    return c->inner->flush(c->conn, f->file, st);
}

static int ra_getattr(struct sfs_conn *c, const char *path, struct stat *out, struct sfs_status *st)
{
    return c->inner->getattr(c->conn, path, out, st);
}

static int ra_readdir(struct sfs_conn *c, const char *path, sfs_dirent_cb cb, void *cb_ctx, struct sfs_status *st)
{
    return c->inner->readdir(c->conn, path, cb, cb_ctx, st);
}

static int ra_statfs(struct sfs_conn *c, const char *path, struct statvfs *out, struct sfs_status *st)
{
    return c->inner->statfs(c->conn, path, out, st);
}

static int ra_mkdir(struct sfs_conn *c, const char *path, mode_t mode, struct sfs_status *st)
{
    return c->inner->mkdir(c->conn, path, mode, st);
}

static int ra_unlink(struct sfs_conn *c, const char *path, struct sfs_status *st)
{
    return c->inner->unlink(c->conn, path, st);
}

static int ra_rmdir(struct sfs_conn *c, const char *path, struct sfs_status *st)
{
    return c->inner->rmdir(c->conn, path, st);
}

static int ra_rename(struct sfs_conn *c, const char *from, const char *to, unsigned flags, struct sfs_status *st)
{
    return c->inner->rename(c->conn, from, to, flags, st);
}

static int ra_utimens(struct sfs_conn *c, const char *path, const struct timespec tv[2], struct sfs_status *st)
{
    return c->inner->utimens(c->conn, path, tv, st);
}

static int ra_chmod(struct sfs_conn *c, const char *path, mode_t mode, struct sfs_status *st)
{
    return c->inner->chmod(c->conn, path, mode, st);
}

static bool ra_alive(struct sfs_conn *c)
{
    return c->inner->alive(c->conn);
}

static int ra_readlink(struct sfs_conn *c, const char *path, char *buf, size_t size, struct sfs_status *st)
{
    return c->inner->readlink(c->conn, path, buf, size, st);
}

static int ra_symlink(struct sfs_conn *c, const char *target, const char *path, struct sfs_status *st)
{
    return c->inner->symlink(c->conn, target, path, st);
}

static ssize_t ra_getxattr(struct sfs_conn *c, const char *path, const char *name, char *value, size_t size,
                           struct sfs_status *st)
{
    return c->inner->getxattr(c->conn, path, name, value, size, st);
}

static int ra_setxattr(struct sfs_conn *c, const char *path, const char *name, const char *value, size_t size,
                       int flags, struct sfs_status *st)
{
    return c->inner->setxattr(c->conn, path, name, value, size, flags, st);
}

static ssize_t ra_listxattr(struct sfs_conn *c, const char *path, char *list, size_t size, struct sfs_status *st)
{
    return c->inner->listxattr(c->conn, path, list, size, st);
}

static int ra_removexattr(struct sfs_conn *c, const char *path, const char *name, struct sfs_status *st)
{
    return c->inner->removexattr(c->conn, path, name, st);
}

/* One wrapped table per inner table, made on first use: an operation the
 * inner backend lacks stays NULL, so callers still see what it cannot do. */
static struct sfs_ops_cache tables = SFS_OPS_CACHE_INIT;

#define PASS(op) t->op = inner->op ? ra_##op : NULL

static void wrap_table(const struct sfs_backend_ops *inner, struct sfs_backend_ops *t)
{
    *t = (struct sfs_backend_ops){
        .name = inner->name,
        .flags = inner->flags,
        .prepare_target = inner->prepare_target,
        .server_info = inner->server_info,
        .disconnect = ra_disconnect,
        .open = ra_open,
        .read = ra_read,
        .release = ra_release,
        .stats = ra_stats,
    };
    PASS(getattr);
    PASS(readdir);
    PASS(statfs);
    PASS(create);
    PASS(write);
    PASS(ftruncate);
    PASS(fsync);
    PASS(flush);
    PASS(mkdir);
    PASS(unlink);
    PASS(rmdir);
    PASS(rename);
    PASS(utimens);
    PASS(chmod);
    PASS(alive);
    PASS(readlink);
    PASS(symlink);
    PASS(getxattr);
    PASS(setxattr);
    PASS(listxattr);
    PASS(removexattr);
}

const struct sfs_backend_ops *sfs_readahead_backend(const struct sfs_backend_ops *inner)
{
    return sfs_ops_cache_get(&tables, inner, wrap_table);
}

int sfs_readahead_wrap(const struct sfs_backend_ops *inner, struct sfs_conn *inner_conn, struct sfs_conn **out,
                       struct sfs_status *st)
{
    struct sfs_conn *c = calloc(1, sizeof(*c));
    if (!c) {
        inner->disconnect(inner_conn);
        return sfs_status_set(st, SFS_STAGE_MOUNT, ENOMEM, SFS_DOMAIN_SYS, ENOMEM, "out of memory");
    }
    c->inner = inner;
    c->conn = inner_conn;
    *out = c;
    return 0;
}
