/* The fuse suite's checks: a fixed list of named POSIX calls on one key of
 * a sharesfs mount, each one result "ENTRY.CHECK" (docs/matrix.md).
 * result: "ok", or the errno name the call gave ("mismatch" when data or a
 * size read back differs); status: what was seen where it says something
 * (the errno of an errno check, a created file's mode, f_namemax).  A
 * write-capable entry gets the write checks inside a directory of its own
 * (RUN_DIR), removed at the end whatever happened; a read-only one (or a
 * guest) lists, reads a file and is refused a write. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "matrix.h"
#include "sharesfs/clock.h"

const char *const mx_fuse_write_checks[] = {
    "mount", "mkdir", "create", "append", "rename", "truncate-grow", "truncate-shrink", "utimens", "mode",
    "namemax", "name-too-long", "enoent", "eexist", "enotdir", "enotempty", "unlink", "rmdir", NULL,
};
const char *const mx_fuse_read_checks[] = {"mount", "list", "read", "write-refused", NULL};

const char *const *mx_fuse_checks_of(bool write)
{
    return write ? mx_fuse_write_checks : mx_fuse_read_checks;
}

#define DATA "sharesfs matrix\n"
#define MORE "appended\n"
#define GROW 70000
#define MTIME 1000000000

struct run {
    const struct mx_fuse_entry *e;
    int fd;
    char *dir;           /* root/run_dir */
    int mount_err;       /* the key did not mount: every check says so */
};

struct outcome {
    char result[48], status[64], detail[256];
    int err;
};

static void set_errno(struct outcome *o, const char *step, int err)
{
    char buf[32];
    o->err = err;
    snprintf(o->result, sizeof(o->result), "%s", mx_errno_name(err, buf, sizeof(buf)));
    snprintf(o->detail, sizeof(o->detail), "%s: %s", step, g_strerror(err));
}

static void set_mismatch(struct outcome *o, const char *what)
{
    snprintf(o->result, sizeof(o->result), "mismatch");
    snprintf(o->detail, sizeof(o->detail), "%s", what);
}

/* An errno check: ok when the call failed with WANT (or one of WANT2). */
static void expect_errno(struct outcome *o, const char *step, int rc, int err, int want, int want2)
{
    char buf[32];
    if (rc == 0) {
        snprintf(o->result, sizeof(o->result), "unexpected-success");
        snprintf(o->detail, sizeof(o->detail), "%s succeeded", step);
        return;
    }
    snprintf(o->status, sizeof(o->status), "%s", mx_errno_name(err, buf, sizeof(buf)));
    if (err != want && err != want2)
        set_errno(o, step, err);
}

static char *at(const struct run *r, const char *name)
{
    return g_build_filename(r->dir, name, NULL);
}

static int write_file(const char *path, int flags, mode_t mode, const char *data, const char **step)
{
    *step = "open";
    int fd = open(path, flags, mode);
    if (fd < 0)
        return -1;
    *step = "write";
    ssize_t n = write(fd, data, strlen(data));
    int err = errno;
    if (n >= 0 && (size_t)n != strlen(data))
        err = EIO;
    *step = n < 0 || (size_t)n != strlen(data) ? "write" : "close";
    if (close(fd) < 0 && n >= 0 && (size_t)n == strlen(data))
        return -1;
    if (n < 0 || (size_t)n != strlen(data)) {
        errno = err;
        return -1;
    }
    return 0;
}

/* The whole file (up to LEN - 1 bytes) into BUF; its length or -1. */
static ssize_t read_file(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    size_t got = 0;
    ssize_t n = 0;
    while (got + 1 < len && (n = read(fd, buf + got, len - 1 - got)) > 0)
        got += (size_t)n;
    int err = errno;
    close(fd);
    if (n < 0) {
        errno = err;
        return -1;
    }
    buf[got] = '\0';
    return (ssize_t)got;
}

static void expect_content(struct outcome *o, const char *path, const char *want)
{
    char buf[256];
    ssize_t n = read_file(path, buf, sizeof(buf));
    if (n < 0)
        set_errno(o, "read back", errno);
    else if (strcmp(buf, want))
        set_mismatch(o, "the data read back differs from the data written");
}

static gint by_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check(struct run *r, const char *name, struct outcome *o)
{
    const struct mx_fuse_entry *e = r->e;
    const char *step = NULL;
    char *f = at(r, "f"), *g = at(r, "g"), *m = at(r, "m"), *d = at(r, "d"), *dx = at(r, "d/x");
    struct stat sb;
    if (!strcmp(name, "mount")) {
        /* Listing the key is what connects it (a stat answers from the map). */
        DIR *dir = opendir(e->root);
        if (!dir) {
            set_errno(o, "opendir of the key", errno);
        } else {
            errno = 0;
            if (!readdir(dir) && errno)
                set_errno(o, "readdir of the key", errno);
            closedir(dir);
        }
    } else if (!strcmp(name, "mkdir")) {
        if (mkdir(r->dir, 0755) < 0)
            set_errno(o, "mkdir of the run's directory", errno);
        else if (mkdir(d, 0755) < 0)
            set_errno(o, "mkdir", errno);
        else if (stat(d, &sb) < 0 || !S_ISDIR(sb.st_mode))
            set_mismatch(o, "the new directory is not one");
    } else if (!strcmp(name, "create")) {
        if (write_file(f, O_CREAT | O_EXCL | O_WRONLY, 0644, DATA, &step) < 0)
            set_errno(o, step, errno);
        else
            expect_content(o, f, DATA);
    } else if (!strcmp(name, "append")) {
        if (write_file(f, O_WRONLY | O_APPEND, 0, MORE, &step) < 0)
            set_errno(o, step, errno);
        else
            expect_content(o, f, DATA MORE);
    } else if (!strcmp(name, "rename")) {
        if (rename(f, g) < 0)
            set_errno(o, "rename", errno);
        else if (stat(g, &sb) < 0)
            set_errno(o, "stat of the new name", errno);
        else if (stat(f, &sb) == 0 || errno != ENOENT)
            set_mismatch(o, "the old name is still there");
        else
            expect_content(o, g, DATA MORE);
    } else if (!strcmp(name, "truncate-grow")) {
        char buf[16] = "x";
        int fd;
        if (truncate(g, GROW) < 0)
            set_errno(o, "truncate", errno);
        else if (stat(g, &sb) < 0)
            set_errno(o, "stat", errno);
        else if (sb.st_size != GROW)
            set_mismatch(o, "the size after truncate is not the size asked for");
        else if ((fd = open(g, O_RDONLY)) < 0)
            set_errno(o, "open", errno);
        else {
            ssize_t n = pread(fd, buf, sizeof(buf), GROW - (off_t)sizeof(buf));
            int err = errno;
            close(fd);
            static const char zeros[16];
            if (n < 0)
                set_errno(o, "pread", err);
            else if (n != sizeof(buf) || memcmp(buf, zeros, sizeof(buf)))
                set_mismatch(o, "the grown part does not read as zeros");
        }
    } else if (!strcmp(name, "truncate-shrink")) {
        if (truncate(g, 7) < 0)
            set_errno(o, "truncate", errno);
        else
            expect_content(o, g, "sharesf");
    } else if (!strcmp(name, "utimens")) {
        struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_sec = MTIME}};
        if (utimensat(AT_FDCWD, g, ts, 0) < 0)
            set_errno(o, "utimensat", errno);
        else if (stat(g, &sb) < 0)
            set_errno(o, "stat", errno);
        else if (sb.st_mtim.tv_sec != MTIME)
            set_mismatch(o, "stat does not give the mtime set");
    } else if (!strcmp(name, "mode")) {
        mode_t old = umask(0);
        int fd = open(m, O_CREAT | O_EXCL | O_WRONLY, 0640);
        int err = errno;
        umask(old);
        if (fd < 0)
            set_errno(o, "open", err);
        else if (close(fd) < 0)
            set_errno(o, "close", errno);
        else if (stat(m, &sb) < 0)
            set_errno(o, "stat", errno);
        else
            snprintf(o->status, sizeof(o->status), "%04o", (unsigned)(sb.st_mode & 07777));
    } else if (!strcmp(name, "namemax")) {
        struct statvfs vf;
        if (statvfs(e->root, &vf) < 0)
            set_errno(o, "statvfs", errno);
        else if (vf.f_namemax == 0)
            set_mismatch(o, "f_namemax is 0");
        else
            snprintf(o->status, sizeof(o->status), "%lu", (unsigned long)vf.f_namemax);
    } else if (!strcmp(name, "name-too-long")) {
        char longname[257];
        memset(longname, 'n', 256);
        longname[256] = '\0';
        char *p = at(r, longname);
        int fd = open(p, O_CREAT | O_EXCL | O_WRONLY, 0644);
        int err = errno;
        if (fd >= 0) {
            close(fd);
            unlink(p);
        }
        expect_errno(o, "open of a 256-byte name", fd >= 0 ? 0 : -1, err, ENAMETOOLONG, ENAMETOOLONG);
        g_free(p);
    } else if (!strcmp(name, "enoent")) {
        char *p = at(r, "missing");
        int rc = stat(p, &sb);
        expect_errno(o, "stat of a missing name", rc, errno, ENOENT, ENOENT);
        g_free(p);
    } else if (!strcmp(name, "eexist")) {
        int rc = mkdir(d, 0755);
        expect_errno(o, "mkdir of an existing directory", rc, errno, EEXIST, EEXIST);
    } else if (!strcmp(name, "enotdir")) {
        char *p = g_build_filename(g, "x", NULL);
        int rc = stat(p, &sb);
        expect_errno(o, "stat below a file", rc, errno, ENOTDIR, ENOTDIR);
        g_free(p);
    } else if (!strcmp(name, "enotempty")) {
        if (write_file(dx, O_CREAT | O_WRONLY, 0644, "x", &step) < 0) {
            set_errno(o, "create in the directory", errno);
        } else {
            int rc = rmdir(d);
            expect_errno(o, "rmdir of a directory with a file", rc, errno, ENOTEMPTY, EEXIST);
        }
    } else if (!strcmp(name, "unlink")) {
        if (unlink(g) < 0)
            set_errno(o, "unlink", errno);
        else if (stat(g, &sb) == 0 || errno != ENOENT)
            set_mismatch(o, "the name is still there after unlink");
        else if (unlink(m) < 0 && errno != ENOENT)
            set_errno(o, "unlink of the mode file", errno);
        else if (unlink(dx) < 0 && errno != ENOENT)
            set_errno(o, "unlink in the directory", errno);
    } else if (!strcmp(name, "rmdir")) {
        if (rmdir(d) < 0)
            set_errno(o, "rmdir", errno);
        else if (rmdir(r->dir) < 0)
            set_errno(o, "rmdir of the run's directory", errno);
        else if (stat(r->dir, &sb) == 0 || errno != ENOENT)
            set_mismatch(o, "the directory is still there after rmdir");
    } else if (!strcmp(name, "list") || !strcmp(name, "read")) {
        DIR *dir = opendir(e->root);
        GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
        unsigned n = 0;
        struct dirent *de;
        if (!dir) {
            set_errno(o, "opendir", errno);
        } else {
            errno = 0;
            while ((de = readdir(dir))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                    continue;
                n++;
                char *p = g_build_filename(e->root, de->d_name, NULL);
                if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode))
                    g_ptr_array_add(files, g_strdup(de->d_name));
                g_free(p);
                errno = 0;
            }
            if (errno)
                set_errno(o, "readdir", errno);
            closedir(dir);
        }
        if (!o->result[0] && !strcmp(name, "list") && n == 0)
            set_mismatch(o, "the share lists nothing");
        if (!o->result[0] && !strcmp(name, "read")) {
            g_ptr_array_sort(files, by_name);
            const char *want = e->read ? e->read : files->len ? files->pdata[0] : NULL;
            char buf[4096];
            char *p = want ? g_build_filename(e->root, want, NULL) : NULL;
            if (!p)
                set_mismatch(o, "no file to read");
            else if (read_file(p, buf, sizeof(buf)) < 0)
                set_errno(o, "read", errno);
            g_free(p);
        }
        g_ptr_array_free(files, TRUE);
    } else if (!strcmp(name, "write-refused")) {
        char *p = g_build_filename(e->root, e->run_dir, NULL);
        int fd = open(p, O_CREAT | O_EXCL | O_WRONLY, 0644);
        int err = errno;
        if (fd >= 0) {
            close(fd);
            unlink(p);
        }
        expect_errno(o, "create on a read-only share", fd >= 0 ? 0 : -1, err, EACCES, EROFS);
        g_free(p);
    }
    g_free(f);
    g_free(g);
    g_free(m);
    g_free(d);
    g_free(dx);
}

void mx_fuse_check_entry(const struct mx_fuse_entry *e, int fd)
{
    struct run r = {.e = e, .fd = fd, .dir = g_build_filename(e->root, e->run_dir, NULL)};
    for (const char *const *c = mx_fuse_checks_of(e->write); *c; c++) {
        struct outcome o;
        memset(&o, 0, sizeof(o));
        char name[200];
        snprintf(name, sizeof(name), "%s.%s", e->entry, *c);
        double t0 = sfs_now_ms();
        if (r.mount_err)
            set_errno(&o, "the key did not mount", r.mount_err);
        else
            check(&r, *c, &o);
        if (!strcmp(*c, "mount") && o.result[0])
            r.mount_err = o.err ? o.err : ENOTDIR;
        struct mx_wire w;
        mx_wire_set(&w, name, *c, o.result[0] ? o.result : "ok", o.status, o.detail);
        w.ms = sfs_now_ms() - t0;
        if (!mx_wire_send(fd, &w))
            break;
    }
    /* Whatever failed half-way: nothing of ours stays on the share. */
    struct stat sb;
    if (e->write && !r.mount_err && lstat(r.dir, &sb) == 0)
        mx_remove_tree(r.dir);
    g_free(r.dir);
}
