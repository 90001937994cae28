/* The FUSE layer's operations (fs/fuse/ops.c) without a mount: the
 * sharesfs_ops functions called directly over a mount table of fake
 * backends (fake_backend.h).  ops.c finds its table through
 * fuse_get_context()->private_data; this file defines fuse_get_context
 * itself, which the link prefers to libfuse's, so no FUSE session is
 * needed.  Keys are afp:// (the fake in this process). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_backend.h"
#include "fuse/ops.h"
#include "sharesfs/engine.h"

#define ROOT "/Network/Fake"

static struct sharesfs fs;
static struct fuse_context ctx;

/* The caller of every operation: this process, with FS as private data. */
struct fuse_context *fuse_get_context(void)
{
    return &ctx;
}

static void fs_start(const char *map_text, bool direct)
{
    memset(&fs, 0, sizeof(fs));
    struct sfs_map map;
    struct sfs_parse_error perr;
    if (sfs_map_parse_text(map_text, "test.map", direct ? "/" : ROOT, &map, &perr) < 0)
        fail_msg("map does not parse: %s", perr.message);
    assert_int_equal(mounts_init(&fs.table, &map, NULL, direct ? "/" : ROOT), 0);
    fs.attr_timeout = 5;
    fs.direct = direct;
    ctx = (struct fuse_context){.uid = getuid(), .gid = getgid(), .pid = getpid(), .private_data = &fs};
}

static int setup(void **state)
{
    (void)state;
    fake_reset();
    fs_start("a afp://fake.example/a\nb afp://fake.example/b\nro -ro afp://fake.example/r\n", false);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mounts_destroy(&fs.table);
    return 0;
}

static struct mount *key(const char *name)
{
    struct mount *m = mounts_find(&fs.table, name);
    assert_non_null(m);
    return m;
}

/* Names a readdir handed out, comma-terminated, and the last one's stat. */
struct listing {
    char names[1024];
    unsigned with_offsets;
    struct stat last;
};

static int filler(void *buf, const char *name, const struct stat *st, off_t off, enum fuse_fill_dir_flags flags)
{
    (void)flags;
    struct listing *l = buf;
    fake_names_add(l->names, sizeof(l->names), name);
    if (off)
        l->with_offsets++;
    if (st)
        l->last = *st;
    return 0;
}

static bool listed(const struct listing *l, const char *name)
{
    return fake_names_has(l->names, name);
}

/* opendir + readdir (READDIRPLUS) + releasedir; the opendir's result. */
static int list_dir(const char *path, struct listing *l)
{
    memset(l, 0, sizeof(*l));
    struct fuse_file_info fi = {0};
    int rc = sharesfs_ops.opendir(path, &fi);
    if (rc < 0)
        return rc;
    assert_int_equal(sharesfs_ops.readdir(path, l, filler, 0, &fi, FUSE_READDIR_PLUS), 0);
    assert_int_equal(sharesfs_ops.releasedir(path, &fi), 0);
    return 0;
}

/* The whole of PATH through open/read/release, NUL-terminated; its length or -errno. */
static int read_path(const char *path, char *buf, size_t size)
{
    struct fuse_file_info fi = {.flags = O_RDONLY};
    int rc = sharesfs_ops.open(path, &fi);
    if (rc < 0)
        return rc;
    int n = sharesfs_ops.read(path, buf, size - 1, 0, &fi);
    sharesfs_ops.release(path, &fi);
    if (n >= 0)
        buf[n] = '\0';
    return n;
}

static char *status_xattr(const char *path)
{
    int len = sharesfs_ops.getxattr(path, SFS_STATUS_XATTR, NULL, 0);
    assert_true(len > 0);
    char *text = calloc(1, (size_t)len + 1);
    assert_int_equal(sharesfs_ops.getxattr(path, SFS_STATUS_XATTR, text, (size_t)len), len);
    return text;
}

/* ---- tests ---- */

static void root_and_status(void **state)
{
    (void)state;
    struct stat sb;
    assert_int_equal(sharesfs_ops.getattr("/", &sb, NULL), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sharesfs_ops.getattr("/.sharesfs", &sb, NULL), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sharesfs_ops.getattr("/.sharesfs/status.json", &sb, NULL), 0);
    assert_true(S_ISREG(sb.st_mode) && sb.st_size > 0);
    assert_int_equal(sharesfs_ops.getattr("/nokey", &sb, NULL), -ENOENT);
    /* A key's stat answers without logging in. */
    assert_int_equal(sharesfs_ops.getattr("/a", &sb, NULL), 0);
    assert_true(S_ISDIR(sb.st_mode));
    struct listing l;
    assert_int_equal(list_dir("/", &l), 0);
    assert_true(listed(&l, ".sharesfs") && listed(&l, "a") && listed(&l, "b") && listed(&l, "ro"));
    struct statvfs sv;
    assert_int_equal(sharesfs_ops.statfs("/", &sv), 0);
    assert_int_equal(fake_count(FAKE_CONNECT_CALLS), 0);
    char text[4096];
    assert_true(read_path("/.sharesfs/status.json", text, sizeof(text)) > 0);
    assert_non_null(strstr(text, "\"key\":\"a\""));
    assert_non_null(strstr(text, "\"state\":\"idle\""));
}

static void share_listing(void **state)
{
    (void)state;
    struct listing l;
    assert_int_equal(list_dir("/a", &l), 0);
    assert_int_equal(fake_count(FAKE_CONNECTS), 1);
    assert_true(listed(&l, "hello.txt") && listed(&l, "dir") && listed(&l, "big.bin"));
    assert_false(listed(&l, "a.txt"));
    assert_true(l.with_offsets > 0);   /* READDIRPLUS gets attributes */
    struct mount *a = key("a");
    assert_int_equal(a->state, MOUNT_UP);
    assert_int_equal(a->busy, 0);
    struct stat sb;
    assert_int_equal(sharesfs_ops.getattr("/a/hello.txt", &sb, NULL), 0);
    assert_int_equal(sb.st_size, strlen(FAKE_HELLO));
    assert_int_equal(sb.st_blksize, 1 << 20);
    assert_int_equal((uint64_t)sb.st_ino >> 48, a->index + 1);   /* unique across keys */
    assert_int_equal(sharesfs_ops.getattr("/a/nope", &sb, NULL), -ENOENT);
    assert_int_equal(a->failures, 0);   /* an everyday answer says nothing of the mount */
    assert_int_equal(list_dir("/a/dir", &l), 0);
    assert_true(listed(&l, "a.txt") && listed(&l, "sub"));
    struct fuse_file_info fi = {0};
    assert_int_equal(sharesfs_ops.opendir("/a/hello.txt", &fi), 0);
    assert_int_not_equal(sharesfs_ops.readdir("/a/hello.txt", &l, filler, 0, &fi, 0), 0);   /* ...readdir says */
    sharesfs_ops.releasedir("/a/hello.txt", &fi);
    assert_int_equal(fake_count(FAKE_CONNECTS), 1);
}

static void read_files(void **state)
{
    (void)state;
    struct mount *a = key("a");
    struct fuse_file_info fi = {.flags = O_RDONLY};
    assert_int_equal(sharesfs_ops.open("/a/big.bin", &fi), 0);
    assert_int_equal(a->open_files, 1);
    assert_int_equal(a->busy, 0);
    char *buf = malloc(128 << 10);
    off_t off = 0;
    for (int n; (n = sharesfs_ops.read("/a/big.bin", buf, 128 << 10, off, &fi)) > 0; off += n)
        for (int i = 0; i < n; i++)
            if ((unsigned char)buf[i] != fake_big_byte(off + i))
                fail_msg("big.bin byte %lld differs", (long long)(off + i));
    free(buf);
    assert_int_equal(off, FAKE_BIG_SIZE);
    assert_int_equal(sharesfs_ops.release("/a/big.bin", &fi), 0);
    assert_int_equal(a->open_files, 0);
    assert_int_equal(a->bytes_read, FAKE_BIG_SIZE);
    char text[64];
    assert_int_equal(read_path("/a/hello.txt", text, sizeof(text)), strlen(FAKE_HELLO));
    assert_string_equal(text, FAKE_HELLO);
    assert_int_equal(read_path("/a/dir", text, sizeof(text)), -EISDIR);
    assert_int_equal(read_path("/a", text, sizeof(text)), -EISDIR);
    assert_int_equal(read_path("/nokey/x", text, sizeof(text)), -ENOENT);
    assert_int_equal(read_path("/a/missing", text, sizeof(text)), -ENOENT);
    assert_int_equal(a->opens, 2);
    assert_int_equal(fake_count(FAKE_CONNECTS), 1);
}

static void write_side(void **state)
{
    (void)state;
    struct fuse_file_info fi = {.flags = O_WRONLY | O_CREAT};
    assert_int_equal(sharesfs_ops.create("/a/new.txt", 0644, &fi), 0);
    assert_int_equal(sharesfs_ops.write("/a/new.txt", "0123456789", 10, 0, &fi), 10);
    assert_int_equal(sharesfs_ops.fsync("/a/new.txt", 0, &fi), 0);
    assert_int_equal(sharesfs_ops.truncate("/a/new.txt", 6, &fi), 0);
    assert_int_equal(sharesfs_ops.release("/a/new.txt", &fi), 0);
    assert_int_equal(key("a")->open_files, 0);
    struct stat sb;
    assert_int_equal(sharesfs_ops.getattr("/a/new.txt", &sb, NULL), 0);
    assert_int_equal(sb.st_size, 6);
    assert_int_equal(sharesfs_ops.truncate("/a/new.txt", 2, NULL), 0);
    char text[64];
    assert_int_equal(read_path("/a/new.txt", text, sizeof(text)), 2);
    assert_string_equal(text, "01");
    assert_int_equal(sharesfs_ops.chmod("/a/new.txt", 0600, NULL), 0);
    struct timespec tv[2] = {{1000000000, 0}, {1000000002, 0}};
    assert_int_equal(sharesfs_ops.utimens("/a/new.txt", tv, NULL), 0);
    assert_int_equal(sharesfs_ops.getattr("/a/new.txt", &sb, NULL), 0);
    assert_int_equal(sb.st_mode & 07777, 0600);
    assert_int_equal(sb.st_mtime, 1000000002);
    assert_int_equal(sharesfs_ops.chown("/a/new.txt", getuid(), (gid_t)-1, NULL), 0);
    assert_int_equal(sharesfs_ops.chown("/a/new.txt", getuid() + 1, (gid_t)-1, NULL), -EPERM);
    assert_int_equal(sharesfs_ops.rename("/a/new.txt", "/a/hello.txt", RENAME_NOREPLACE), -EEXIST);
    assert_int_equal(sharesfs_ops.rename("/a/new.txt", "/a/hello.txt", RENAME_EXCHANGE), -EINVAL);
    assert_int_equal(sharesfs_ops.rename("/a/new.txt", "/b/new.txt", 0), -EXDEV);
    assert_int_equal(sharesfs_ops.rename("/a/new.txt", "/a/dir/moved.txt", 0), 0);
    assert_int_equal(sharesfs_ops.unlink("/a/dir/moved.txt"), 0);
    assert_int_equal(sharesfs_ops.unlink("/a/dir/moved.txt"), -ENOENT);
    assert_int_equal(sharesfs_ops.mkdir("/a/made", 0755), 0);
    assert_int_equal(sharesfs_ops.mkdir("/a/made", 0755), -EEXIST);
    assert_int_equal(sharesfs_ops.rmdir("/a/dir"), -ENOTEMPTY);
    assert_int_equal(sharesfs_ops.rmdir("/a/made"), 0);
    assert_int_equal(sharesfs_ops.symlink("hello.txt", "/a/sl"), 0);
    assert_int_equal(sharesfs_ops.readlink("/a/sl", text, sizeof(text)), 0);
    assert_string_equal(text, "hello.txt");
    /* Everyday answers so far (EEXIST, ENOENT, ENOTEMPTY) say nothing of the mount. */
    assert_int_equal(key("a")->failures, 0);
    /* (ops.c notes readlink's EINVAL on a regular file as a mount failure.) */
    assert_int_equal(sharesfs_ops.readlink("/a/hello.txt", text, sizeof(text)), -EINVAL);
    /* Not the server's to change: the keys themselves, the root, a read-only key. */
    assert_int_equal(sharesfs_ops.mkdir("/a", 0755), -EBUSY);
    assert_int_equal(sharesfs_ops.mkdir("/newkey", 0755), -ENOENT);
    assert_int_equal(sharesfs_ops.unlink("/.sharesfs"), -EPERM);
    struct fuse_file_info ro = {.flags = O_WRONLY | O_CREAT};
    assert_int_equal(sharesfs_ops.create("/ro/x", 0644, &ro), -EROFS);
    ro.flags = O_WRONLY;
    assert_int_equal(sharesfs_ops.open("/ro/hello.txt", &ro), -EROFS);
    assert_int_equal(read_path("/ro/hello.txt", text, sizeof(text)), strlen(FAKE_HELLO));
}

struct release_call {
    const char *path;
    struct fuse_file_info *fi;
};

static void *release_in_background(void *arg)
{
    struct release_call *r = arg;
    sharesfs_ops.release(r->path, r->fi);
    return NULL;
}

/* PATH opened, then released on another thread; returns once the
 * backend's release has begun (it then takes the release_delay_ms knob). */
static pthread_t open_then_release_slowly(const char *path, struct fuse_file_info *fi, struct release_call *r)
{
    *fi = (struct fuse_file_info){.flags = O_RDONLY};
    assert_int_equal(sharesfs_ops.open(path, fi), 0);
    *r = (struct release_call){path, fi};
    unsigned before = fake_count(FAKE_RELEASES);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, release_in_background, r), 0);
    assert_true(fake_wait_count(FAKE_RELEASES, before + 1, 5000));
    return t;
}

/* close(2) returns before FUSE's RELEASE is done (the kernel sends it in
 * the background, and another thread may run the next request first), and
 * SMB refuses to rename or remove an open file (EBUSY): a rename, unlink
 * or rmdir that meets EBUSY while a release is in progress waits for it
 * and succeeds; a file still held open stays EBUSY. */
static void busy_until_released(void **state)
{
    (void)state;
    struct fake_knobs k;
    fake_knobs_get(&k);
    k.busy_while_open = true;
    k.release_delay_ms = 300;
    fake_knobs_set(&k);
    struct fuse_file_info held = {.flags = O_RDONLY};
    assert_int_equal(sharesfs_ops.open("/a/hello.txt", &held), 0);
    assert_int_equal(sharesfs_ops.rename("/a/hello.txt", "/a/moved.txt", 0), -EBUSY);
    assert_int_equal(sharesfs_ops.unlink("/a/hello.txt"), -EBUSY);

    struct fuse_file_info fi;
    struct release_call r;
    pthread_t t = open_then_release_slowly("/a/dir/a.txt", &fi, &r);
    assert_int_equal(sharesfs_ops.rename("/a/dir/a.txt", "/a/dir/moved.txt", 0), 0);
    pthread_join(t, NULL);
    struct stat sb;
    assert_int_equal(sharesfs_ops.getattr("/a/dir/moved.txt", &sb, NULL), 0);
    assert_int_equal(sharesfs_ops.getattr("/a/dir/a.txt", &sb, NULL), -ENOENT);

    t = open_then_release_slowly("/a/dir/moved.txt", &fi, &r);
    assert_int_equal(sharesfs_ops.unlink("/a/dir/moved.txt"), 0);
    pthread_join(t, NULL);
    assert_int_equal(sharesfs_ops.getattr("/a/dir/moved.txt", &sb, NULL), -ENOENT);

    /* The one held open all along still is. */
    assert_int_equal(sharesfs_ops.rename("/a/hello.txt", "/a/moved.txt", 0), -EBUSY);
    assert_int_equal(sharesfs_ops.release("/a/hello.txt", &held), 0);
    assert_int_equal(sharesfs_ops.rename("/a/hello.txt", "/a/moved.txt", 0), 0);
    assert_int_equal(key("a")->open_files, 0);
    assert_int_equal(key("a")->releasing, 0);
}

static void xattrs(void **state)
{
    (void)state;
    char value[64];
    struct mount *a = key("a");
    assert_int_equal(sharesfs_ops.getxattr("/a/hello.txt", "user.color", value, sizeof(value)), 4);
    assert_memory_equal(value, "blue", 4);
    assert_int_equal(sharesfs_ops.getxattr("/a/hello.txt", "user.color", NULL, 0), 4);
    assert_int_equal(sharesfs_ops.getxattr("/a/hello.txt", "user.color", value, 2), -ERANGE);
    assert_int_equal(sharesfs_ops.getxattr("/a/hello.txt", "user.none", value, sizeof(value)), -ENODATA);
    assert_int_equal(sharesfs_ops.getxattr("/a/hello.txt", "security.capability", value, sizeof(value)), -ENOTSUP);
    assert_int_equal(sharesfs_ops.setxattr("/a/hello.txt", "user.k", "v", 1, 0), 0);
    assert_int_equal(sharesfs_ops.setxattr("/a/hello.txt", "user.k", "w", 1, XATTR_CREATE), -EEXIST);
    char list[64];
    int n = sharesfs_ops.listxattr("/a/hello.txt", list, sizeof(list));
    assert_int_equal(n, sizeof("user.color") + sizeof("user.k"));
    assert_memory_equal(list, "user.color\0user.k\0", (size_t)n);
    assert_int_equal(sharesfs_ops.removexattr("/a/hello.txt", "user.k"), 0);
    assert_int_equal(sharesfs_ops.removexattr("/a/hello.txt", "user.k"), -ENODATA);
    /* The key's own status attribute: computed, listed, never set. */
    assert_int_equal(sharesfs_ops.listxattr("/a", list, sizeof(list)), sizeof(SFS_STATUS_XATTR));
    assert_string_equal(list, SFS_STATUS_XATTR);
    assert_int_equal(sharesfs_ops.setxattr("/a", SFS_STATUS_XATTR, "x", 1, 0), -EPERM);
    assert_int_equal(sharesfs_ops.setxattr("/ro/hello.txt", "user.k", "v", 1, 0), -EROFS);
    char *text = status_xattr("/a");
    assert_non_null(strstr(text, "\"state\":\"mounted\""));
    free(text);
    assert_int_equal(a->failures, 0);
}

/* A failed mount: the errno reaches opendir, the key stays visible with
 * its status, and the failure is answered from cache for a while. */
static void failed_mount(void **state)
{
    (void)state;
    fake_fail_connect(EACCES, SFS_STAGE_AUTHENTICATE, "bad password (fake)");
    struct listing l;
    assert_int_equal(list_dir("/a", &l), -EACCES);
    struct stat sb;
    assert_int_equal(sharesfs_ops.getattr("/a", &sb, NULL), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sharesfs_ops.getattr("/a/hello.txt", &sb, NULL), -EACCES);
    char *text = status_xattr("/a");
    assert_non_null(strstr(text, "\"state\":\"failed\""));
    assert_non_null(strstr(text, "\"errno_name\":\"EACCES\""));
    assert_non_null(strstr(text, "bad password (fake)"));
    free(text);
    assert_int_equal(fake_count(FAKE_CONNECT_CALLS), 1);
    /* Another key is not affected by the cache. */
    fake_reset();
    assert_int_equal(list_dir("/b", &l), 0);
}

/* A lost connection: open files get EIO, the status says "lost", the
 * next access reconnects. */
static void lost_connection(void **state)
{
    (void)state;
    struct fuse_file_info fi = {.flags = O_RDONLY};
    assert_int_equal(sharesfs_ops.open("/a/hello.txt", &fi), 0);
    fake_kill_connections();
    char *text = status_xattr("/a");
    assert_non_null(strstr(text, "\"state\":\"lost\""));
    free(text);
    char buf[64];
    assert_int_equal(sharesfs_ops.read("/a/hello.txt", buf, sizeof(buf), 0, &fi), -EIO);
    struct stat sb;
    assert_int_equal(sharesfs_ops.getattr("/a/hello.txt", &sb, NULL), 0);
    assert_int_equal(key("a")->connects, 2);
    assert_int_equal(sharesfs_ops.release("/a/hello.txt", &fi), 0);
    assert_int_equal(key("a")->n_retired, 0);
    assert_int_equal(fake_count(FAKE_DISCONNECTS), 1);
}

static void init_config(void **state)
{
    (void)state;
    struct fuse_conn_info conn = {0};
    struct fuse_config cfg = {0};
    assert_ptr_equal(sharesfs_ops.init(&conn, &cfg), &fs);
    assert_true(cfg.attr_timeout == 5);
    assert_true(cfg.negative_timeout == 0);
    assert_int_equal(cfg.use_ino, 1);
    assert_int_equal(conn.max_read, 1 << 20);
    assert_true(fs.table.reaper_running);
}

/* A direct mount: "/" is the share. */
static void direct_mount(void **state)
{
    (void)state;
    mounts_destroy(&fs.table);
    fs_start("/Volumes/Fake afp://fake.example/v\n", true);
    struct stat sb;
    assert_int_equal(sharesfs_ops.getattr("/", &sb, NULL), 0);
    assert_true(S_ISDIR(sb.st_mode));
    struct statvfs sv;
    assert_int_equal(sharesfs_ops.statfs("/", &sv), 0);
    assert_int_equal(fake_count(FAKE_CONNECT_CALLS), 0);
    struct listing l;
    assert_int_equal(list_dir("/", &l), 0);
    assert_true(listed(&l, "hello.txt"));
    assert_false(listed(&l, ".sharesfs"));
    char text[64];
    assert_int_equal(read_path("/hello.txt", text, sizeof(text)), strlen(FAKE_HELLO));
    assert_int_equal(fake_count(FAKE_CONNECTS), 1);
}

int main(int argc, char **argv)
{
    int status = fake_test_main(argc, argv);   /* setup, or a worker's whole run */
    if (status >= 0)
        return status;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(root_and_status, setup, teardown),
        cmocka_unit_test_setup_teardown(share_listing, setup, teardown),
        cmocka_unit_test_setup_teardown(read_files, setup, teardown),
        cmocka_unit_test_setup_teardown(write_side, setup, teardown),
        cmocka_unit_test_setup_teardown(busy_until_released, setup, teardown),
        cmocka_unit_test_setup_teardown(xattrs, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_mount, setup, teardown),
        cmocka_unit_test_setup_teardown(lost_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(init_config, setup, teardown),
        cmocka_unit_test_setup_teardown(direct_mount, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fake_backend_cleanup();
    return rc;
}
