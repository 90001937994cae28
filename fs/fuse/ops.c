/* FUSE operations (high-level, path based).  Paths are "/" (the map's keys),
 * "/.sharesfs/status.json", and "/KEY/rest" served by KEY's backend. */
#include "ops.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "status_file.h"

#define STATUS_DIR ".sharesfs"
#define STATUS_FILE "status.json"

/* NODE_KEYDIR: a directory between the root and keys that hold '/'
 * (macOS -fstab: "HOST/PATH" is the directory HOST, the key PATH below). */
enum node_kind { NODE_ROOT, NODE_STATUS_DIR, NODE_STATUS_FILE, NODE_SHARE, NODE_KEYDIR, NODE_NONE };

struct node {
    enum node_kind kind;
    struct mount *m;
    const char *rest;     /* path below the share root, "" for the share itself */
    char key[1024];
};

struct open_file {
    enum node_kind kind;
    struct mount *m;
    struct sfs_conn *conn;   /* the connection the file was opened on */
    struct sfs_file *f;
    char *text;           /* status.json snapshot taken at open */
    size_t len;
};

static struct sharesfs *fs_data(void)
{
    return fuse_get_context()->private_data;
}

static void resolve(const char *path, struct node *n)
{
    memset(n, 0, sizeof(*n));
    n->kind = NODE_NONE;
    struct sharesfs *fs = fs_data();
    if (fs->direct) {
        /* A direct mount: "/" is the share itself (a stat of it does not
         * log in, a listing does, as for a key), "/rest" lies below it.
         * Its one entry is fixed (direct maps have no '*'). */
        if (fs->table.n == 0)
            return;
        n->m = fs->table.mounts[0];
        n->kind = NODE_SHARE;
        n->rest = strcmp(path, "/") ? path : "";
        return;
    }
    if (!strcmp(path, "/")) {
        n->kind = NODE_ROOT;
        return;
    }
    const char *p = path + 1;
    size_t first = strcspn(p, "/");
    if (first == strlen(STATUS_DIR) && !strncmp(p, STATUS_DIR, first)) {
        const char *rest = p + first;
        if (!*rest)
            n->kind = NODE_STATUS_DIR;
        else if (!strcmp(rest, "/" STATUS_FILE))
            n->kind = NODE_STATUS_FILE;
        return;
    }
    size_t klen = 0;
    n->m = mounts_find_path(&fs->table, p, &klen);
    if (!n->m) {
        if (strlen(p) < sizeof(n->key) && mounts_has_below(&fs->table, p)) {
            snprintf(n->key, sizeof(n->key), "%s", p);
            n->kind = NODE_KEYDIR;
        }
        return;
    }
    if (klen >= sizeof(n->key)) {
        n->m = NULL;
        return;
    }
    memcpy(n->key, p, klen);
    n->key[klen] = '\0';
    /* Multiuser: the caller's own session of the key. */
    n->m = mount_session(&fs->table, n->m, fuse_get_context()->uid);
    if (!n->m)
        return;
    const char *rest = p + klen;
    n->kind = NODE_SHARE;
    n->rest = *rest ? rest : "";
}

/* Synthetic directories get inode numbers far above any server's. */
static ino_t synthetic_ino(const char *name)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (ino_t)((h >> 2) | (1ULL << 62));
}

/* The times of the synthetic directories: when this filesystem first
 * answered, so two stats agree (a time that moves on its own makes tools
 * like make and rsync think something changed). */
static time_t synthetic_time(void)
{
    static time_t first;
    time_t t = __atomic_load_n(&first, __ATOMIC_RELAXED);
    if (t)
        return t;
    time_t zero = 0, now = time(NULL);
    __atomic_compare_exchange_n(&first, &zero, now, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    return __atomic_load_n(&first, __ATOMIC_RELAXED);
}

static void dir_stat(struct stat *st, mode_t perm, const char *name)
{
    memset(st, 0, sizeof(*st));
    st->st_ino = synthetic_ino(name);
    st->st_mode = S_IFDIR | perm;
    st->st_nlink = 2;
    st->st_uid = getuid();
    st->st_gid = getgid();
    st->st_mtime = st->st_ctime = st->st_atime = synthetic_time();
}

/* Is the ccache CC ("FILE:/path" or a path) a file of UID?  A process can
 * name any file in KRB5CCNAME: a session of one user must never use
 * another's ticket. */
static bool ccache_owned_by(const char *cc, uid_t uid)
{
    if (!strncmp(cc, "FILE:", 5))
        cc += 5;
    else if (strchr(cc, ':'))
        return false;   /* KEYRING:, KCM:, DIR:... cannot be checked here: not used for another user */
    struct stat sb;
    return lstat(cc, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_uid == uid;
}

/* The Kerberos ccache of the process that triggered the access: its
 * KRB5CCNAME, else /tmp/krb5cc_UID when that exists (MIT's default).
 * Multiuser (OWN): only a ccache file owned by the caller's uid, and
 * always a name (a missing one makes the pre-flight say ENOKEY), never
 * sharesfs's own default. */
static bool caller_ccache(char *out, size_t len, bool own)
{
    const struct fuse_context *fc = fuse_get_context();
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/environ", (int)fc->pid);
    FILE *f = fopen(path, "r");
    bool found = false;
    if (f) {
        char var[4096];
        size_t n = 0;
        int ch;
        /* environ is NUL-separated; look at each variable in turn. */
        while (!found && (ch = fgetc(f)) != EOF) {
            if (ch != '\0' && n + 1 < sizeof(var)) {
                var[n++] = (char)ch;
                continue;
            }
            var[n] = '\0';
            if (strncmp(var, "KRB5CCNAME=", 11) == 0 && var[11] && (!own || ccache_owned_by(var + 11, fc->uid))) {
                snprintf(out, len, "%.1000s", var + 11);
                found = true;
            }
            n = 0;
        }
        fclose(f);
    }
    if (!found) {
        snprintf(path, sizeof(path), "/tmp/krb5cc_%u", (unsigned)fc->uid);
        if (access(path, R_OK) == 0 && (!own || ccache_owned_by(path, fc->uid))) {
            snprintf(out, len, "FILE:%s", path);
            found = true;
        } else if (own) {
            snprintf(out, len, "FILE:%s", path);
            found = true;
        }
    }
    return found;
}

static struct sfs_conn *acquire(struct mount *m, struct sfs_status *st)
{
    char ccache[1024];
    bool have = m->state != MOUNT_UP && caller_ccache(ccache, sizeof(ccache), m->is_session);
    return mount_acquire(&fs_data()->table, m, have ? ccache : NULL, st);
}

/* Errors that say something about the mount (not the everyday answers to
 * an application: no such file, exists, not empty, wrong type) are kept
 * for status.json and logged. */
static int op_error(struct mount *m, const struct sfs_status *st, int rc)
{
    int e = st->err;
    if (e && e != ENOENT && e != EEXIST && e != ENOTEMPTY && e != EISDIR && e != ENOTDIR)
        mount_note_error(m, st);
    return rc < 0 ? rc : -EIO;
}

/* What every stat below a key carries whatever the server said: inode
 * numbers unique across keys, and a 1 MiB preferred I/O size (as the
 * kernel's cifs and NFS clients report), so cp, cat and stdio read and
 * write in 1 MiB calls instead of 128 KiB ones. */
#define SHARE_BLKSIZE (1 << 20)

static void share_stat_fixup(const struct mount *m, struct stat *st)
{
    st->st_ino = mount_ino(m, st->st_ino);
    st->st_blksize = SHARE_BLKSIZE;
}

static int sfs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    (void)fi;
    struct node n;
    resolve(path, &n);
    switch (n.kind) {
    case NODE_ROOT:
    case NODE_STATUS_DIR:
    case NODE_KEYDIR:
        dir_stat(st, 0555, path);
        return 0;
    case NODE_STATUS_FILE: {
        size_t len = 0;
        char *text = status_json_render(&fs_data()->table, &fs_data()->refresh, fuse_get_context()->uid, &len);
        g_free(text);
        memset(st, 0, sizeof(*st));
        st->st_mode = S_IFREG | 0444;
        st->st_ino = synthetic_ino(path);
        st->st_nlink = 1;
        st->st_size = (off_t)len;
        st->st_mtime = st->st_ctime = st->st_atime = time(NULL);
        return 0;
    }
    case NODE_SHARE: {
        struct sfs_status status = {0};
        /* A stat of the key itself does not log in (`ls -l` of the root
         * would try every server, and retry bad credentials every
         * negative_timeout); it stays visible after a failed mount, so its
         * user.sharesfs.status xattr can be read.  Opening it connects. */
        if (!*n.rest && n.m->state != MOUNT_UP) {
            dir_stat(st, 0555, path);
            return 0;
        }
        struct sfs_conn *c = acquire(n.m, &status);
        if (!c && !*n.rest) {
            dir_stat(st, 0555, path);
            return 0;
        }
        if (!c)
            return -status.err;
        int rc = n.m->ops->getattr(c, n.rest, st, &status);
        mount_done(n.m);
        if (rc < 0)
            return op_error(n.m, &status, rc);
        share_stat_fixup(n.m, st);
        return 0;
    }
    default:
        return -ENOENT;
    }
}

/* A listing below a key, read from the server once per opendir/rewind and
 * handed out with offsets, so the kernel gets every entry's attributes in
 * READDIRPLUS replies and `ls -l` needs no LOOKUP per entry (libfuse sends
 * attributes only for entries filled with a nonzero offset). */
struct dir_entry {
    char *name;
    struct stat st;
};

struct dir_listing {
    struct dir_entry *e;
    size_t n, cap;
    bool loaded;
};

static void listing_clear(struct dir_listing *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->e[i].name);
    free(l->e);
    l->e = NULL;
    l->n = l->cap = 0;
    l->loaded = false;
}

struct fill_ctx {
    struct dir_listing *l;
    const struct mount *m;
};

static int fill_one(void *ctx, const char *name, const struct stat *st)
{
    struct fill_ctx *f = ctx;
    struct dir_listing *l = f->l;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct dir_entry *e = realloc(l->e, cap * sizeof(*e));
        if (!e)
            return 1;
        l->e = e;
        l->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return 1;
    l->e[l->n].name = copy;
    l->e[l->n].st = *st;
    share_stat_fixup(f->m, &l->e[l->n].st);
    l->n++;
    return 0;
}

struct level_fill {
    void *buf;
    fuse_fill_dir_t filler;
    const struct stat *st;
};

static int level_one(void *arg, const char *name)
{
    struct level_fill *lf = arg;
    return lf->filler(lf->buf, name, lf->st, 0, 0);
}

static int sfs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
                       struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    struct node n;
    resolve(path, &n);
    struct stat dst;
    dir_stat(&dst, 0555, path);
    if (n.kind == NODE_ROOT || n.kind == NODE_KEYDIR) {
        filler(buf, ".", &dst, 0, 0);
        filler(buf, "..", &dst, 0, 0);
        if (n.kind == NODE_ROOT)
            filler(buf, STATUS_DIR, &dst, 0, 0);
        struct level_fill lf = {.buf = buf, .filler = filler, .st = &dst};
        mounts_list_level(&fs_data()->table, n.kind == NODE_ROOT ? "" : n.key, level_one, &lf);
        return 0;
    }
    if (n.kind == NODE_STATUS_DIR) {
        struct stat fst = {.st_mode = S_IFREG | 0444};
        filler(buf, ".", &dst, 0, 0);
        filler(buf, "..", &dst, 0, 0);
        filler(buf, STATUS_FILE, &fst, 0, 0);
        return 0;
    }
    if (n.kind != NODE_SHARE)
        return n.kind == NODE_STATUS_FILE ? -ENOTDIR : -ENOENT;
    struct dir_listing *l = (struct dir_listing *)(uintptr_t)fi->fh;
    if (!l)
        return -EBADF;
    if (off == 0 || !l->loaded) {
        listing_clear(l);
        struct sfs_status status = {0};
        struct sfs_conn *c = acquire(n.m, &status);
        if (!c)
            return -status.err;
        struct fill_ctx fc = {.l = l, .m = n.m};
        int rc = n.m->ops->readdir(c, n.rest, fill_one, &fc, &status);
        mount_done(n.m);
        if (rc < 0) {
            listing_clear(l);
            return op_error(n.m, &status, rc);
        }
        l->loaded = true;
    }
    /* Offsets: 1 ".", 2 "..", 3+i entry i. */
    bool plus = flags & FUSE_READDIR_PLUS;
    if (off < 1 && filler(buf, ".", &dst, 1, 0))
        return 0;
    if (off < 2 && filler(buf, "..", &dst, 2, 0))
        return 0;
    for (size_t i = off > 2 ? (size_t)off - 2 : 0; i < l->n; i++)
        if (filler(buf, l->e[i].name, &l->e[i].st, (off_t)i + 3, plus ? FUSE_FILL_DIR_PLUS : 0))
            break;
    return 0;
}

/* The errno of a failed mount reaches the user here: `ls KEY`, `cd KEY`. */
static int sfs_opendir(const char *path, struct fuse_file_info *fi)
{
    struct node n;
    resolve(path, &n);
    fi->fh = 0;
    if (n.kind != NODE_SHARE)
        return n.kind == NODE_NONE ? -ENOENT : (n.kind == NODE_STATUS_FILE ? -ENOTDIR : 0);
    struct sfs_status status = {0};
    if (!acquire(n.m, &status))
        return -status.err;
    mount_done(n.m);
    struct dir_listing *l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    fi->fh = (uintptr_t)l;
    return 0;
}

static int sfs_releasedir(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    struct dir_listing *l = (struct dir_listing *)(uintptr_t)fi->fh;
    if (l) {
        listing_clear(l);
        free(l);
    }
    return 0;
}

static int sfs_open(const char *path, struct fuse_file_info *fi)
{
    struct node n;
    resolve(path, &n);
    bool writing = (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC);
    if (writing && (n.kind != NODE_SHARE || !n.m->ops->write || n.m->entry.opts.ro))
        return n.kind == NODE_NONE ? -ENOENT : -EROFS;
    struct open_file *of = calloc(1, sizeof(*of));
    if (!of)
        return -ENOMEM;
    of->kind = n.kind;
    if (n.kind == NODE_STATUS_FILE) {
        of->text = status_json_render(&fs_data()->table, &fs_data()->refresh, fuse_get_context()->uid, &of->len);
        fi->direct_io = 1;   /* the size changes between snapshots */
        fi->fh = (uintptr_t)of;
        return 0;
    }
    if (n.kind != NODE_SHARE || !*n.rest) {
        free(of);
        return n.kind == NODE_NONE ? -ENOENT : -EISDIR;
    }
    struct sfs_status status = {0};
    struct sfs_conn *c = acquire(n.m, &status);
    if (!c) {
        free(of);
        return -status.err;
    }
    int rc = n.m->ops->open(c, n.rest, fi->flags & (O_ACCMODE | O_TRUNC), &of->f, &status);
    if (rc < 0) {
        mount_done(n.m);
        free(of);
        return op_error(n.m, &status, rc);
    }
    of->m = n.m;
    of->conn = c;
    pthread_mutex_lock(&n.m->lock);
    n.m->opens++;
    n.m->open_files++;   /* keeps the idle reaper away until release */
    if (n.m->busy > 0)
        n.m->busy--;
    pthread_mutex_unlock(&n.m->lock);
    fi->keep_cache = !writing;
    fi->fh = (uintptr_t)of;
    return 0;
}

/* ---- the write side ---- */

/* For operations on a path below a key: the mount and its connection. */
static int writable(const char *path, struct node *n, struct sfs_conn **c, struct sfs_status *st)
{
    resolve(path, n);
    if (n->kind == NODE_NONE)
        return -ENOENT;
    if (n->kind != NODE_SHARE)
        return -EPERM;   /* the root and .sharesfs hold only what the map says */
    if (!*n->rest)
        return -EBUSY;   /* the key itself is a mount point */
    if (!n->m->ops->write || n->m->entry.opts.ro)
        return -EROFS;   /* the backend cannot write, or the map says `ro` */
    *c = acquire(n->m, st);
    return *c ? 0 : -st->err;
}

#define WITH_CONN(path, body)                                                                              \
    struct node n;                                                                                         \
    struct sfs_conn *c = NULL;                                                                             \
    struct sfs_status status = {0};                                                                        \
    int rc = writable(path, &n, &c, &status);                                                              \
    if (rc < 0)                                                                                            \
        return rc;                                                                                         \
    body;                                                                                                  \
    mount_done(n.m);                                                                                       \
    return rc < 0 ? op_error(n.m, &status, rc) : 0

static int sfs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    struct open_file *of = calloc(1, sizeof(*of));
    if (!of)
        return -ENOMEM;
    struct node n;
    struct sfs_conn *c = NULL;
    struct sfs_status status = {0};
    int rc = writable(path, &n, &c, &status);
    if (rc < 0) {
        free(of);
        return rc;
    }
    rc = n.m->ops->create(c, n.rest, mode, fi->flags, &of->f, &status);
    if (rc < 0) {
        mount_done(n.m);
        free(of);
        return op_error(n.m, &status, rc);
    }
    of->kind = NODE_SHARE;
    of->m = n.m;
    of->conn = c;
    pthread_mutex_lock(&n.m->lock);
    n.m->opens++;
    n.m->open_files++;
    if (n.m->busy > 0)
        n.m->busy--;
    pthread_mutex_unlock(&n.m->lock);
    fi->fh = (uintptr_t)of;
    return 0;
}

static int sfs_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)path;
    struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;
    if (!of->f || !of->m->ops->write)
        return -EBADF;
    if (of->m->ops->alive && !of->m->ops->alive(of->conn))
        return -EIO;
    struct sfs_status status = {0};
    /* Write-through, or write-behind with the failure returned later (docs/architecture.md "Writes"). */
    ssize_t n = of->m->ops->write(of->conn, of->f, buf, size, off, &status);
    if (n < 0)
        return op_error(of->m, &status, (int)n);
    return (int)n;
}

/* truncate(2) by path: the backend's own open, ftruncate and release. */
static int truncate_path(const struct sfs_backend_ops *ops, struct sfs_conn *c, const char *path, off_t size,
                         struct sfs_status *st)
{
    struct sfs_file *f = NULL;
    int rc = ops->open(c, path, O_WRONLY, &f, st);
    if (rc < 0)
        return rc;
    rc = ops->ftruncate(c, f, size, st);
    ops->release(c, f);
    return rc;
}

static int sfs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    struct open_file *of = fi ? (struct open_file *)(uintptr_t)fi->fh : NULL;
    if (of && of->f) {
        struct sfs_status status = {0};
        int rc = of->m->ops->ftruncate(of->conn, of->f, size, &status);
        return rc < 0 ? op_error(of->m, &status, rc) : 0;
    }
    WITH_CONN(path, rc = truncate_path(n.m->ops, c, n.rest, size, &status));
}

static int sfs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    (void)path;
    (void)datasync;
    struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;
    if (!of->f || !of->m->ops->fsync)
        return 0;
    struct sfs_status status = {0};
    int rc = of->m->ops->fsync(of->conn, of->f, &status);
    return rc < 0 ? op_error(of->m, &status, rc) : 0;
}

/* close(2) of a handle: a backend with write-behind returns here the
 * failure of a write it had already acknowledged. */
static int sfs_flush(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;
    if (!of->f || !of->m->ops->flush)
        return 0;
    struct sfs_status status = {0};
    int rc = of->m->ops->flush(of->conn, of->f, &status);
    return rc < 0 ? op_error(of->m, &status, rc) : 0;
}

static int sfs_mkdir(const char *path, mode_t mode)
{
    WITH_CONN(path, rc = n.m->ops->mkdir(c, n.rest, mode, &status));
}

/* SMB and AFP refuse to rename or remove a file a handle holds open
 * (SHARING_VIOLATION, kFPFileBusy: EBUSY), and close(2) returns before
 * that handle is closed here: the kernel sends FUSE's RELEASE in the
 * background, and another thread may run the next request first, so
 * `cat f; mv f g` lost that race now and then.  ATTEMPT, met with EBUSY,
 * is made again once the mount's releases in progress are done, if one
 * finished meanwhile (at most three times): a file someone still holds
 * open stays EBUSY. */
#define RETRY_AFTER_RELEASES(m, attempt)                                                                   \
    for (uint64_t since_ = mount_releases_done(m), tries_ = 1;; tries_++) {                                \
        attempt;                                                                                           \
        if (rc != -EBUSY || tries_ == 3 || !mount_wait_releases(m, &since_))                               \
            break;                                                                                         \
        status = (struct sfs_status){0};                                                                   \
    }

static int sfs_unlink(const char *path)
{
    WITH_CONN(path, RETRY_AFTER_RELEASES(n.m, rc = n.m->ops->unlink(c, n.rest, &status)));
}

static int sfs_rmdir(const char *path)
{
    WITH_CONN(path, RETRY_AFTER_RELEASES(n.m, rc = n.m->ops->rmdir(c, n.rest, &status)));
}

static int sfs_rename(const char *from, const char *to, unsigned int flags)
{
    if (flags & ~RENAME_NOREPLACE)
        return -EINVAL;   /* RENAME_EXCHANGE: no protocol here can swap atomically */
    struct node dst;
    resolve(to, &dst);
    if (dst.kind != NODE_SHARE || !*dst.rest)
        return dst.kind == NODE_NONE ? -ENOENT : -EPERM;
    struct node src_probe;
    resolve(from, &src_probe);
    if (src_probe.kind == NODE_SHARE && src_probe.m != dst.m)
        return -EXDEV;   /* two keys are two servers or shares */
    WITH_CONN(from, RETRY_AFTER_RELEASES(n.m, rc = n.m->ops->rename(c, n.rest, dst.rest, flags, &status)));
}

/* Backends get real times: UTIME_NOW is now, UTIME_OMIT the file's current
 * time (one getattr, only then).  Passed through, SMB stored UTIME_NOW's
 * nanoseconds as a time: 1970-01-01 00:00:01.07 for every `touch`. */
static int resolve_times(const struct sfs_backend_ops *ops, struct sfs_conn *c, const char *rest,
                         const struct timespec in[2], struct timespec out[2], struct sfs_status *st)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct stat sb;
    bool have = false;
    for (int i = 0; i < 2; i++) {
        out[i] = in[i].tv_nsec == UTIME_NOW ? now : in[i];
        if (in[i].tv_nsec != UTIME_OMIT)
            continue;
        if (!have) {
            int rc = ops->getattr(c, rest, &sb, st);
            if (rc < 0)
                return rc;
            have = true;
        }
        out[i] = i == 0 ? sb.st_atim : sb.st_mtim;
    }
    return 0;
}

static int sfs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
    (void)fi;
    struct timespec t[2];
    WITH_CONN(path, rc = resolve_times(n.m->ops, c, n.rest, tv, t, &status);
              if (rc == 0) rc = n.m->ops->utimens(c, n.rest, t, &status));
}

static int sfs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    (void)fi;
    WITH_CONN(path, rc = n.m->ops->chmod(c, n.rest, mode, &status));
}

/* Ownership is the server's business: neither AFP nor SMB lets a client
 * give a file away.  Changing to what it already is succeeds. */
static int sfs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
    struct stat sb;
    int rc = sfs_getattr(path, &sb, fi);
    if (rc < 0)
        return rc;
    if ((uid == (uid_t)-1 || uid == sb.st_uid) && (gid == (gid_t)-1 || gid == sb.st_gid))
        return 0;
    return -EPERM;
}

static int sfs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)path;
    struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;
    if (of->kind == NODE_STATUS_FILE) {
        if ((size_t)off >= of->len)
            return 0;
        size_t n = of->len - (size_t)off < size ? of->len - (size_t)off : size;
        memcpy(buf, of->text + off, n);
        return (int)n;
    }
    struct sfs_status status = {0};
    /* A handle whose connection died earlier does not resume: EIO
     * (the read that met the failure returned its own errno). */
    if (of->m->ops->alive && !of->m->ops->alive(of->conn))
        return -EIO;
    ssize_t n = of->m->ops->read(of->conn, of->f, buf, size, off, &status);
    if (n < 0)
        return op_error(of->m, &status, (int)n);
    pthread_mutex_lock(&of->m->lock);
    of->m->bytes_read += (uint64_t)n;
    pthread_mutex_unlock(&of->m->lock);
    return (int)n;
}

static int sfs_release(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;
    if (of->f) {
        mount_release_begin(of->m);
        of->m->ops->release(of->conn, of->f);
        mount_file_closed(of->m);
    }
    g_free(of->text);
    free(of);
    return 0;
}

static int sfs_readlink(const char *path, char *buf, size_t size)
{
    struct node n;
    resolve(path, &n);
    if (n.kind != NODE_SHARE || !*n.rest)
        return n.kind == NODE_NONE ? -ENOENT : -EINVAL;
    if (!n.m->ops->readlink)
        return -ENOTSUP;
    struct sfs_status status = {0};
    struct sfs_conn *c = acquire(n.m, &status);
    if (!c)
        return -status.err;
    int rc = n.m->ops->readlink(c, n.rest, buf, size, &status);
    mount_done(n.m);
    /* EINVAL (not a link) is readlink's everyday answer, not the mount's. */
    if (rc == -EINVAL)
        return rc;
    return rc < 0 ? op_error(n.m, &status, rc) : 0;
}

static int sfs_statfs(const char *path, struct statvfs *out)
{
    struct node n;
    resolve(path, &n);
    memset(out, 0, sizeof(*out));
    out->f_bsize = out->f_frsize = 4096;
    out->f_namemax = 255;
    if (n.kind != NODE_SHARE)
        return 0;
    /* df with no arguments asks every mount: the root of a direct mount
     * that is not connected answers without logging in, like its stat. */
    if (!*n.rest && fs_data()->direct && n.m->state != MOUNT_UP)
        return 0;
    struct sfs_status status = {0};
    struct sfs_conn *c = acquire(n.m, &status);
    if (!c)
        return -status.err;
    int rc = n.m->ops->statfs(c, n.rest, out, &status);
    mount_done(n.m);
    return rc < 0 ? op_error(n.m, &status, rc) : 0;
}

/* user.sharesfs.status on a key is ours; other "user." names below a key
 * are the server's.  Other namespaces never reach a server: the kernel
 * asks for security.capability on every write, ls -l for ACLs. */
static int sfs_getxattr(const char *path, const char *name, char *value, size_t size)
{
    struct node n;
    resolve(path, &n);
    if (n.kind != NODE_SHARE)
        return -ENODATA;
    if (!*n.rest && strcmp(name, SFS_STATUS_XATTR) == 0) {
        size_t len = 0;
        char *text = status_json_render_one(n.m, &len);
        int rc;
        if (size == 0)
            rc = (int)len;
        else if (size < len)
            rc = -ERANGE;
        else {
            memcpy(value, text, len);
            rc = (int)len;
        }
        g_free(text);
        return rc;
    }
    if (strncmp(name, "user.", 5) != 0 || !n.m->ops->getxattr)
        return -ENOTSUP;
    struct sfs_status status = {0};
    struct sfs_conn *c = acquire(n.m, &status);
    if (!c)
        return -status.err;
    ssize_t rc = n.m->ops->getxattr(c, n.rest, name, value, size, &status);
    mount_done(n.m);
    return rc < 0 ? op_error(n.m, &status, (int)rc) : (int)rc;
}

/* A key lists its status xattr, plus the share root's attributes once the
 * key is mounted: a listing never logs in (ls -l lists every key's).
 * Without attributes on the server the list is empty. */
static int sfs_listxattr(const char *path, char *list, size_t size)
{
    struct node n;
    resolve(path, &n);
    if (n.kind != NODE_SHARE)
        return 0;
    size_t own = *n.rest ? 0 : sizeof(SFS_STATUS_XATTR);
    if (size && size < own)
        return -ERANGE;
    if (size && own)
        memcpy(list, SFS_STATUS_XATTR, own);
    if (!n.m->ops->listxattr || (!*n.rest && n.m->state != MOUNT_UP))
        return (int)own;
    struct sfs_status status = {0};
    struct sfs_conn *c = acquire(n.m, &status);
    if (!c)
        return *n.rest ? -status.err : (int)own;
    ssize_t theirs = n.m->ops->listxattr(c, n.rest, size ? list + own : NULL, size ? size - own : 0, &status);
    mount_done(n.m);
    if (theirs == -ENOTSUP || (theirs < 0 && theirs != -ERANGE && !*n.rest))
        return (int)own;
    return theirs < 0 ? op_error(n.m, &status, (int)theirs) : (int)(own + (size_t)theirs);
}

/* Whether NAME on PATH may be set or removed by the server: 0 (N filled)
 * or -errno.  The key's status xattr is computed: never. */
static int xattr_changeable(const char *path, const char *name, struct node *n)
{
    resolve(path, n);
    if (n->kind != NODE_SHARE)
        return n->kind == NODE_NONE ? -ENOENT : -ENOTSUP;
    if (!*n->rest && strcmp(name, SFS_STATUS_XATTR) == 0)
        return -EPERM;
    if (strncmp(name, "user.", 5) != 0)
        return -ENOTSUP;
    return n->m->entry.opts.ro ? -EROFS : 0;
}

static int sfs_setxattr(const char *path, const char *name, const char *value, size_t size, int flags)
{
    struct node n;
    int rc = xattr_changeable(path, name, &n);
    if (rc < 0)
        return rc;
    if (!n.m->ops->setxattr)
        return -ENOTSUP;
    struct sfs_status status = {0};
    struct sfs_conn *c = acquire(n.m, &status);
    if (!c)
        return -status.err;
    rc = n.m->ops->setxattr(c, n.rest, name, value, size, flags, &status);
    mount_done(n.m);
    return rc < 0 ? op_error(n.m, &status, rc) : 0;
}

static int sfs_removexattr(const char *path, const char *name)
{
    struct node n;
    int rc = xattr_changeable(path, name, &n);
    if (rc < 0)
        return rc;
    if (!n.m->ops->removexattr)
        return -ENOTSUP;
    struct sfs_status status = {0};
    struct sfs_conn *c = acquire(n.m, &status);
    if (!c)
        return -status.err;
    rc = n.m->ops->removexattr(c, n.rest, name, &status);
    mount_done(n.m);
    return rc < 0 ? op_error(n.m, &status, rc) : 0;
}

/* A backend without symbolic links (SMB here) answers EPERM, as
 * symlink(2) does on a filesystem that has none. */
static int sfs_symlink(const char *target, const char *path)
{
    WITH_CONN(path, rc = n.m->ops->symlink ? n.m->ops->symlink(c, target, n.rest, &status) : -EPERM);
}

static void *sfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    struct sharesfs *fs = fuse_get_context()->private_data;
    cfg->attr_timeout = fs->attr_timeout;
    cfg->direct_io = fs->direct_io;
    cfg->entry_timeout = fs->attr_timeout;
    cfg->negative_timeout = 0;   /* a failed key must be retried after negative_timeout, not cached by the kernel */
    if (fs->table.multiuser) {
        /* The kernel's name and attribute caches are shared by all users:
         * what one user's session saw must not answer another's stat. */
        cfg->attr_timeout = 0;
        cfg->entry_timeout = 0;
    }
    cfg->use_ino = 1;     /* AFP CNIDs and SMB server inode numbers, as the server reports them */
    mounts_start_reaper(&fs->table);
    if (map_refresh_start(&fs->refresh, &fs->table) < 0)
        g_warning("cannot start the map refresh thread: the map is read again only at the next mount");
    map_refresh_catch_sighup(&fs->refresh);   /* after libfuse's handlers: SIGHUP re-reads the map */
    (void)synthetic_time();   /* the synthetic directories' times: now */
    conn->max_read = 1024 * 1024;     /* must match the max_read mount option */
    conn->max_write = 1024 * 1024;
    conn->max_readahead = 1024 * 1024;
    /* Attributes come with every listing anyway: always READDIRPLUS, not
     * only for the first chunk as the kernel's "auto" heuristic does. */
    conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
    return fs;
}

const struct fuse_operations sharesfs_ops = {
    .init = sfs_init,
    .getattr = sfs_getattr,
    .opendir = sfs_opendir,
    .releasedir = sfs_releasedir,
    .readdir = sfs_readdir,
    .open = sfs_open,
    .read = sfs_read,
    .release = sfs_release,
    .readlink = sfs_readlink,
    .create = sfs_create,
    .write = sfs_write,
    .truncate = sfs_truncate,
    .fsync = sfs_fsync,
    .flush = sfs_flush,
    .mkdir = sfs_mkdir,
    .unlink = sfs_unlink,
    .rmdir = sfs_rmdir,
    .rename = sfs_rename,
    .utimens = sfs_utimens,
    .chmod = sfs_chmod,
    .chown = sfs_chown,
    .statfs = sfs_statfs,
    .getxattr = sfs_getxattr,
    .listxattr = sfs_listxattr,
    .setxattr = sfs_setxattr,
    .removexattr = sfs_removexattr,
    .symlink = sfs_symlink,
};
