/* The fake backend (fake_backend.h): a flat list of nodes by full path per
 * connection, and knobs read from files so a worker process obeys them too. */
#include "fake_backend.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "sharesfs/engine.h"

#define DIR_ENV "SHARESFS_FAKE_DIR"
#define GATE_GIVE_UP_MS 60000

/* ---- the shared directory: knobs, counters, gate ---- */

static char shared_dir[256];
static bool own_dir;

static void shared_path(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", shared_dir, name);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static const char *counter_name(enum fake_counter c)
{
    static const char *names[FAKE_COUNTER_COUNT] = {"connect_calls", "connects", "disconnects", "blocked", "releases"};
    return names[c];
}

/* A counter is a file of one byte per event: appends from several
 * processes add up without a lock. */
static void bump(enum fake_counter c)
{
    char p[512];
    shared_path(p, sizeof(p), counter_name(c));
    int fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    if (write(fd, "x", 1) != 1)
        perror("fake backend: counter");
    close(fd);
}

unsigned fake_count(enum fake_counter c)
{
    char p[512];
    struct stat sb;
    shared_path(p, sizeof(p), counter_name(c));
    return stat(p, &sb) == 0 ? (unsigned)sb.st_size : 0;
}

bool fake_wait_count(enum fake_counter c, unsigned n, int timeout_ms)
{
    for (int waited = 0; fake_count(c) < n; waited += 5) {
        if (waited >= timeout_ms)
            return false;
        sleep_ms(5);
    }
    return true;
}

void fake_knobs_get(struct fake_knobs *k)
{
    char p[512];
    memset(k, 0, sizeof(*k));
    shared_path(p, sizeof(p), "knobs");
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    if (read(fd, k, sizeof(*k)) != (ssize_t)sizeof(*k))
        memset(k, 0, sizeof(*k));
    close(fd);
}

/* Written aside and renamed, so a reader never sees half of it. */
void fake_knobs_set(const struct fake_knobs *k)
{
    char p[512], tmp[600];
    shared_path(p, sizeof(p), "knobs");
    snprintf(tmp, sizeof(tmp), "%s.%d", p, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    bool ok = write(fd, k, sizeof(*k)) == (ssize_t)sizeof(*k);
    close(fd);
    if (!ok || rename(tmp, p) < 0)
        perror("fake backend: knobs");
}

void fake_fail_connect(int err, enum sfs_stage stage, const char *detail)
{
    struct fake_knobs k;
    fake_knobs_get(&k);
    k.connect_err = err;
    k.connect_stage = stage;
    snprintf(k.connect_detail, sizeof(k.connect_detail), "%s", detail ? detail : "");
    fake_knobs_set(&k);
}

void fake_kill_connections(void)
{
    struct fake_knobs k;
    fake_knobs_get(&k);
    k.kill_gen++;
    fake_knobs_set(&k);
}

static bool gate_closed(void)
{
    char p[512];
    shared_path(p, sizeof(p), "gate");
    return access(p, F_OK) == 0;
}

void fake_gate_close(void)
{
    char p[512];
    shared_path(p, sizeof(p), "gate");
    int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
}

void fake_gate_open(void)
{
    char p[512];
    shared_path(p, sizeof(p), "gate");
    unlink(p);
}

/* Polls: a file is the one gate every process sees. */
static int gate_wait(void)
{
    if (!gate_closed())
        return 0;
    bump(FAKE_BLOCKED);
    for (int waited = 0; gate_closed(); waited += 5) {
        if (waited >= GATE_GIVE_UP_MS)
            return -ETIMEDOUT;
        sleep_ms(5);
    }
    return 0;
}

void fake_reset(void)
{
    static const char *files[] = {"knobs", "gate"};
    char p[512];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        shared_path(p, sizeof(p), files[i]);
        unlink(p);
    }
    for (int c = 0; c < FAKE_COUNTER_COUNT; c++) {
        shared_path(p, sizeof(p), counter_name((enum fake_counter)c));
        unlink(p);
    }
}

int fake_backend_setup(void)
{
    const char *d = getenv(DIR_ENV);
    if (d && *d) {
        snprintf(shared_dir, sizeof(shared_dir), "%s", d);
    } else {
        snprintf(shared_dir, sizeof(shared_dir), "/tmp/sfs-fake.XXXXXX");
        if (!mkdtemp(shared_dir))
            return -errno;
        own_dir = true;
        setenv(DIR_ENV, shared_dir, 1);   /* before any thread or worker */
    }
    sfs_backend_override(SFS_PROTO_AFP, &fake_backend);
    sfs_backend_override(SFS_PROTO_SMB, &fake_backend_isolated);
    return 0;
}

/* The engine logs every state change; tests keep quiet unless asked. */
static GLogWriterOutput quiet_writer(GLogLevelFlags level, const GLogField *fields, gsize n, gpointer data)
{
    (void)level;
    (void)fields;
    (void)n;
    (void)data;
    return G_LOG_WRITER_HANDLED;
}

int fake_test_main(int argc, char **argv)
{
    unsetenv("SHARESFS_IN_PROCESS");
    unsetenv("SHARESFS_SMB_IN_PROCESS");
    if (fake_backend_setup() < 0)
        return 1;
    if (argc > 1 && strcmp(argv[1], "--worker") == 0)
        return sfs_worker_main();
    if (!getenv("SFS_TEST_LOG"))
        g_log_set_writer_func(quiet_writer, NULL, NULL);
    return -1;
}

void fake_backend_cleanup(void)
{
    if (!own_dir)
        return;
    DIR *dp = opendir(shared_dir);
    struct dirent *de;
    char p[512];
    while (dp && (de = readdir(dp))) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            shared_path(p, sizeof(p), de->d_name);
            unlink(p);
        }
    }
    if (dp)
        closedir(dp);
    rmdir(shared_dir);
}

unsigned char fake_big_byte(off_t off)
{
    uint64_t o = (uint64_t)off;
    return (unsigned char)(((o * 2654435761u) >> 13) ^ (o >> 20));
}

void fake_names_add(char *text, size_t size, const char *name)
{
    size_t len = strlen(text);
    snprintf(text + len, size - len, "%s,", name);
}

bool fake_names_has(const char *text, const char *name)
{
    char want[128];
    snprintf(want, sizeof(want), "%s,", name);
    for (const char *p = text; (p = strstr(p, want)); p++)
        if (p == text || p[-1] == ',')
            return true;
    return false;
}

/* ---- the tree ---- */

struct fake_xattr {
    char *name;
    char *value;
    size_t size;
};

struct fake_node {
    char *path;
    mode_t mode;
    ino_t ino;
    char *data;              /* contents, or a link's target */
    size_t size;
    struct timespec atime, mtime;
    struct fake_xattr *x;
    size_t nx;
    unsigned refs;           /* open files */
    bool orphan;             /* unlinked while open: freed at its last release */
};

struct sfs_conn {
    pthread_mutex_t lock;
    struct fake_node **nodes;
    size_t n;
    ino_t next_ino;
    unsigned gen;            /* kill_gen when connected: alive while it still is */
    uint64_t requests;
};

struct sfs_file {
    struct fake_node *node;
};

/* Test code: running out of memory ends the test. */
static void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q)
        abort();
    return q;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

static const char *norm(const char *path)
{
    return path && *path ? path : "/";
}

/* PATH's parent into OUT ("/" for top-level names). */
static void parent_of(const char *path, char *out, size_t len)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash && slash != path ? (size_t)(slash - path) : 1;
    snprintf(out, len, "%.*s", (int)n, path);
}

static struct fake_node *node_find(struct sfs_conn *c, const char *path)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->nodes[i]->path, path))
            return c->nodes[i];
    return NULL;
}

static struct fake_node *node_add(struct sfs_conn *c, const char *path, mode_t mode, const char *data, size_t size)
{
    struct fake_node *n = calloc(1, sizeof(*n));
    if (!n)
        abort();
    n->path = xstrdup(path);
    n->mode = mode;
    n->ino = c->next_ino++;
    n->data = xrealloc(NULL, size);
    if (data)
        memcpy(n->data, data, size);
    n->size = size;
    clock_gettime(CLOCK_REALTIME, &n->mtime);
    n->atime = n->mtime;
    c->nodes = xrealloc(c->nodes, (c->n + 1) * sizeof(*c->nodes));
    c->nodes[c->n++] = n;
    return n;
}

static void node_free(struct fake_node *n)
{
    for (size_t i = 0; i < n->nx; i++) {
        free(n->x[i].name);
        free(n->x[i].value);
    }
    free(n->x);
    free(n->data);
    free(n->path);
    free(n);
}

/* Takes N out of the tree; an open one lives on until its release. */
static void node_remove(struct sfs_conn *c, struct fake_node *n)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->nodes[i] == n) {
            c->nodes[i] = c->nodes[--c->n];
            break;
        }
    }
    if (n->refs)
        n->orphan = true;
    else
        node_free(n);
}

static bool is_child(const struct fake_node *n, const char *dir)
{
    char parent[PATH_MAX];
    if (!strcmp(n->path, "/"))
        return false;
    parent_of(n->path, parent, sizeof(parent));
    return !strcmp(parent, dir);
}

static bool has_children(struct sfs_conn *c, const char *dir)
{
    for (size_t i = 0; i < c->n; i++)
        if (is_child(c->nodes[i], dir))
            return true;
    return false;
}

static void node_stat(const struct fake_node *n, struct stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_ino = n->ino;
    st->st_mode = n->mode;
    st->st_nlink = S_ISDIR(n->mode) ? 2 : 1;
    st->st_uid = getuid();
    st->st_gid = getgid();
    st->st_size = (off_t)n->size;
    st->st_blksize = 4096;
    st->st_blocks = (blkcnt_t)((n->size + 511) / 512);
    st->st_atim = n->atime;
    st->st_mtim = st->st_ctim = n->mtime;
}

static void node_resize(struct fake_node *n, size_t size)
{
    n->data = xrealloc(n->data, size);
    if (size > n->size)
        memset(n->data + n->size, 0, size - n->size);
    n->size = size;
    clock_gettime(CLOCK_REALTIME, &n->mtime);
}

static struct fake_xattr *xattr_find(struct fake_node *n, const char *name)
{
    for (size_t i = 0; i < n->nx; i++)
        if (!strcmp(n->x[i].name, name))
            return &n->x[i];
    return NULL;
}

static void xattr_put(struct fake_node *n, const char *name, const char *value, size_t size)
{
    struct fake_xattr *x = xattr_find(n, name);
    if (!x) {
        n->x = xrealloc(n->x, (n->nx + 1) * sizeof(*n->x));
        x = &n->x[n->nx++];
        x->name = xstrdup(name);
        x->value = NULL;
    }
    x->value = xrealloc(x->value, size);
    memcpy(x->value, value, size);
    x->size = size;
}

static struct sfs_conn *conn_new(unsigned gen)
{
    struct sfs_conn *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    pthread_mutex_init(&c->lock, NULL);
    c->gen = gen;
    c->next_ino = 2;
    node_add(c, "/", S_IFDIR | 0755, NULL, 0);
    struct fake_node *hello = node_add(c, "/hello.txt", S_IFREG | 0644, FAKE_HELLO, strlen(FAKE_HELLO));
    xattr_put(hello, "user.color", "blue", 4);
    node_add(c, "/dir", S_IFDIR | 0755, NULL, 0);
    node_add(c, "/dir/a.txt", S_IFREG | 0644, "a\n", 2);
    node_add(c, "/dir/sub", S_IFDIR | 0755, NULL, 0);
    struct fake_node *big = node_add(c, "/big.bin", S_IFREG | 0644, NULL, FAKE_BIG_SIZE);
    for (size_t i = 0; i < FAKE_BIG_SIZE; i++)
        big->data[i] = (char)fake_big_byte((off_t)i);
    char pid[32];
    snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
    node_add(c, "/pid", S_IFREG | 0444, pid, strlen(pid));
    node_add(c, "/link", S_IFLNK | 0777, "hello.txt", strlen("hello.txt"));
    node_add(c, "/block.txt", S_IFREG | 0644, "blocked\n", 8);
    return c;
}

/* ---- operations ---- */

static int fail(struct sfs_status *st, enum sfs_stage stage, int err, const char *path)
{
    return sfs_status_set(st, stage, err, SFS_DOMAIN_SYS, err, "fake: %s: %s", path, strerror(err));
}

/* What every operation goes through: the count, the delay knob, the gate
 * for "/block*", and the lost connection. */
static int op_begin(struct sfs_conn *c, const char *path, enum sfs_stage stage, struct sfs_status *st)
{
    struct fake_knobs k;
    fake_knobs_get(&k);
    __atomic_add_fetch(&c->requests, 1, __ATOMIC_RELAXED);
    if (k.op_delay_ms)
        sleep_ms(k.op_delay_ms);
    if (!strncmp(path, "/block", 6) && gate_wait() < 0)
        return fail(st, stage, ETIMEDOUT, path);
    if (k.kill_gen != c->gen)
        return sfs_status_set(st, stage, EIO, SFS_DOMAIN_SYS, EIO, "fake: %s: the connection is lost", path);
    return 0;
}

/* Releases the lock an operation took; RC passes through. */
static int op_end(struct sfs_conn *c, int rc)
{
    pthread_mutex_unlock(&c->lock);
    return rc;
}

/* The start of an operation on *PATH (made "/" when empty): op_begin, then
 * the lock and the node at *PATH in *NP (NULL when there is none).  0 with
 * c->lock held, or op_begin's -errno without it. */
static int op_lock(struct sfs_conn *c, const char **path, enum sfs_stage stage, struct sfs_status *st,
                   struct fake_node **np)
{
    *path = norm(*path);
    int rc = op_begin(c, *path, stage, st);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&c->lock);
    *np = node_find(c, *path);
    return 0;
}

/* op_lock on a node that must exist: ENOENT, without the lock, when it does not. */
static int op_lock_node(struct sfs_conn *c, const char **path, enum sfs_stage stage, struct sfs_status *st,
                        struct fake_node **np)
{
    int rc = op_lock(c, path, stage, st, np);
    if (rc == 0 && !*np)
        return op_end(c, fail(st, stage, ENOENT, *path));
    return rc;
}

/* The start of an operation on an open file: op_begin on its path, then
 * the lock.  0 with c->lock held, or op_begin's -errno without it. */
static int file_lock(struct sfs_conn *c, struct sfs_file *f, enum sfs_stage stage, struct sfs_status *st)
{
    int rc = op_begin(c, f->node->path, stage, st);
    if (rc == 0)
        pthread_mutex_lock(&c->lock);
    return rc;
}

static int fake_prepare_target(const struct sfs_map_entry *e, const struct sfs_config *cfg, struct sfs_target *t,
                               struct sfs_status *st)
{
    (void)cfg;
    if (e->url.auth && !strcmp(e->url.auth, "forbidden"))
        return sfs_status_set(st, SFS_STAGE_AUTHENTICATE, EPERM, SFS_DOMAIN_SYS, EPERM,
                              "%s: auth module 'forbidden' is not allowed", t->label);
    t->auth.module = e->url.auth ? e->url.auth : "fake-guest";
    /* AUTH=conf-NAME: a client config of its own (probe footprints). */
    if (e->url.auth && !strncmp(e->url.auth, "conf-", 5)) {
        char path[256];
        snprintf(path, sizeof(path), "/etc/fake/%s", e->url.auth + 5);
        t->client_conf = strdup(path);
    }
    snprintf(t->dialect_min, sizeof(t->dialect_min), "FAKE0");
    snprintf(t->dialect_max, sizeof(t->dialect_max), "FAKE1");
    return 0;
}

static int fake_server_info(const struct sfs_target *t, struct sfs_server_info *info,
                            struct sfs_server_facts *facts, struct sfs_status *st)
{
    (void)st;
    if (info) {
        snprintf(info->dialect, sizeof(info->dialect), "FAKE1");
        snprintf(info->server_name, sizeof(info->server_name), "fake-%s", t->url->host);
    }
    if (facts)
        sfs_server_facts_add(facts, "Server", "fake-%s", t->url->host);
    return 0;
}

/* What a stage of connect learns about the server. */
static void stage_learn(enum sfs_stage s, const struct sfs_target *t, struct sfs_server_info *info)
{
    if (!info)
        return;
    if (s == SFS_STAGE_RESOLVE)
        snprintf(info->address, sizeof(info->address), "192.0.2.7");
    if (s == SFS_STAGE_NEGOTIATE) {
        snprintf(info->dialect, sizeof(info->dialect), "FAKE1");
        snprintf(info->server_name, sizeof(info->server_name), "fake-%.100s", t->url->host);
        snprintf(info->server_os, sizeof(info->server_os), "fakeOS");
    }
    if (s == SFS_STAGE_AUTHENTICATE)
        snprintf(info->auth_used, sizeof(info->auth_used), "FakeAuth(%.40s)",
                 t->auth.module ? t->auth.module : "none");
}

static int connect_fail(const struct fake_knobs *k, enum sfs_stage s, const struct sfs_target *t,
                        struct sfs_status *st)
{
    if (k->connect_no_status)
        return -k->connect_err;
    if (k->connect_detail[0])
        return sfs_status_set(st, s, k->connect_err, SFS_DOMAIN_SYS, k->connect_err, "%s", k->connect_detail);
    return sfs_status_set(st, s, k->connect_err, SFS_DOMAIN_SYS, k->connect_err, "fake: %s: %s", t->url->host,
                          strerror(k->connect_err));
}

static int fake_connect(const struct sfs_target *t, struct sfs_conn **out, struct sfs_server_info *info,
                        sfs_stage_cb cb, void *cb_ctx, struct sfs_status *st)
{
    static const enum sfs_stage stages[] = {SFS_STAGE_RESOLVE, SFS_STAGE_CONNECT, SFS_STAGE_NEGOTIATE,
                                            SFS_STAGE_AUTHENTICATE, SFS_STAGE_MOUNT};
    bump(FAKE_CONNECT_CALLS);
    struct fake_knobs k;
    fake_knobs_get(&k);
    if (k.connect_delay_ms)
        sleep_ms(k.connect_delay_ms);
    if (!strncmp(t->url->host, "block", 5) && gate_wait() < 0)
        return fail(st, SFS_STAGE_CONNECT, ETIMEDOUT, t->url->host);
    enum sfs_stage fail_at = SFS_STAGE_NONE;
    if (k.connect_err)
        fail_at = k.connect_stage != SFS_STAGE_NONE ? k.connect_stage : SFS_STAGE_CONNECT;
    for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
        if (stages[i] == fail_at)
            return connect_fail(&k, fail_at, t, st);
        stage_learn(stages[i], t, info);
        if (cb)
            cb(cb_ctx, stages[i], 0.25, NULL);
    }
    if (fail_at != SFS_STAGE_NONE)   /* a stage after mount: fails all the same */
        return connect_fail(&k, fail_at, t, st);
    *out = conn_new(k.kill_gen);
    bump(FAKE_CONNECTS);
    return 0;
}

static void fake_disconnect(struct sfs_conn *c)
{
    bump(FAKE_DISCONNECTS);
    for (size_t i = 0; i < c->n; i++)
        node_free(c->nodes[i]);
    free(c->nodes);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static int fake_getattr(struct sfs_conn *c, const char *path, struct stat *out, struct sfs_status *st)
{
    struct fake_node *n;
    int rc = op_lock_node(c, &path, SFS_STAGE_LIST, st, &n);
    if (rc < 0)
        return rc;
    node_stat(n, out);
    return op_end(c, 0);
}

static int fake_readdir(struct sfs_conn *c, const char *path, sfs_dirent_cb cb, void *cb_ctx, struct sfs_status *st)
{
    struct fake_node *d;
    int rc = op_lock_node(c, &path, SFS_STAGE_LIST, st, &d);
    if (rc < 0)
        return rc;
    if (!S_ISDIR(d->mode))
        return op_end(c, fail(st, SFS_STAGE_LIST, ENOTDIR, path));
    for (size_t i = 0; i < c->n; i++) {
        if (!is_child(c->nodes[i], path))
            continue;
        struct stat sb;
        node_stat(c->nodes[i], &sb);
        if (cb(cb_ctx, strrchr(c->nodes[i]->path, '/') + 1, &sb))
            break;
    }
    return op_end(c, 0);
}

static struct sfs_file *file_of(struct fake_node *n)
{
    struct sfs_file *f = calloc(1, sizeof(*f));
    if (!f)
        abort();
    f->node = n;
    n->refs++;
    return f;
}

static int fake_open(struct sfs_conn *c, const char *path, int flags, struct sfs_file **out, struct sfs_status *st)
{
    struct fake_node *n;
    int rc = op_lock_node(c, &path, SFS_STAGE_READ, st, &n);
    if (rc < 0)
        return rc;
    if (S_ISDIR(n->mode))
        rc = fail(st, SFS_STAGE_READ, EISDIR, path);
    else if (S_ISLNK(n->mode))
        rc = fail(st, SFS_STAGE_READ, ELOOP, path);
    else if ((flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY)
        node_resize(n, 0);
    if (rc == 0)
        *out = file_of(n);
    return op_end(c, rc);
}

static ssize_t fake_read(struct sfs_conn *c, struct sfs_file *f, char *buf, size_t size, off_t off,
                         struct sfs_status *st)
{
    int rc = file_lock(c, f, SFS_STAGE_READ, st);
    if (rc < 0)
        return rc;
    struct fake_node *n = f->node;
    size_t len = (size_t)off < n->size ? n->size - (size_t)off : 0;
    if (len > size)
        len = size;
    if (len)
        memcpy(buf, n->data + off, len);
    op_end(c, 0);
    return (ssize_t)len;
}

static int fake_release(struct sfs_conn *c, struct sfs_file *f)
{
    bump(FAKE_RELEASES);
    struct fake_knobs k;
    fake_knobs_get(&k);
    if (k.release_delay_ms)
        sleep_ms(k.release_delay_ms);
    pthread_mutex_lock(&c->lock);
    struct fake_node *n = f->node;
    if (--n->refs == 0 && n->orphan)
        node_free(n);
    pthread_mutex_unlock(&c->lock);
    free(f);
    return 0;
}

static int fake_statfs(struct sfs_conn *c, const char *path, struct statvfs *out, struct sfs_status *st)
{
    path = norm(path);
    int rc = op_begin(c, path, SFS_STAGE_LIST, st);
    if (rc < 0)
        return rc;
    memset(out, 0, sizeof(*out));
    out->f_bsize = out->f_frsize = 4096;
    out->f_blocks = 1u << 20;
    out->f_bfree = out->f_bavail = 1u << 19;
    out->f_files = 1000;
    out->f_ffree = 900;
    out->f_namemax = 255;
    out->f_fsid = (unsigned long)getpid();   /* which process answered */
    return 0;
}

/* The parent of PATH must be a directory: 0 or -errno with ST filled.
 * Caller holds c->lock. */
static int parent_ok(struct sfs_conn *c, const char *path, enum sfs_stage stage, struct sfs_status *st)
{
    char parent[PATH_MAX];
    parent_of(path, parent, sizeof(parent));
    struct fake_node *p = node_find(c, parent);
    if (!p)
        return fail(st, stage, ENOENT, parent);
    return S_ISDIR(p->mode) ? 0 : fail(st, stage, ENOTDIR, parent);
}

static int fake_create(struct sfs_conn *c, const char *path, mode_t mode, int flags, struct sfs_file **out,
                       struct sfs_status *st)
{
    struct fake_node *n;
    int rc = op_lock(c, &path, SFS_STAGE_WRITE, st, &n);
    if (rc < 0)
        return rc;
    if ((rc = parent_ok(c, path, SFS_STAGE_WRITE, st)) < 0)
        ;
    else if (n && (flags & O_EXCL))
        rc = fail(st, SFS_STAGE_WRITE, EEXIST, path);
    else if (n && !S_ISREG(n->mode))
        rc = fail(st, SFS_STAGE_WRITE, EISDIR, path);
    else if (n && (flags & O_TRUNC))
        node_resize(n, 0);
    else if (!n)
        n = node_add(c, path, S_IFREG | (mode & 07777), NULL, 0);
    if (rc == 0)
        *out = file_of(n);
    return op_end(c, rc);
}

static ssize_t fake_write(struct sfs_conn *c, struct sfs_file *f, const char *buf, size_t size, off_t off,
                          struct sfs_status *st)
{
    int rc = file_lock(c, f, SFS_STAGE_WRITE, st);
    if (rc < 0)
        return rc;
    struct fake_node *n = f->node;
    if ((size_t)off + size > n->size)
        node_resize(n, (size_t)off + size);
    memcpy(n->data + off, buf, size);
    clock_gettime(CLOCK_REALTIME, &n->mtime);
    op_end(c, 0);
    return (ssize_t)size;
}

static int fake_ftruncate(struct sfs_conn *c, struct sfs_file *f, off_t size, struct sfs_status *st)
{
    int rc = file_lock(c, f, SFS_STAGE_WRITE, st);
    if (rc < 0)
        return rc;
    if (size < 0)
        rc = fail(st, SFS_STAGE_WRITE, EINVAL, f->node->path);
    else
        node_resize(f->node, (size_t)size);
    return op_end(c, rc);
}

static int fake_fsync(struct sfs_conn *c, struct sfs_file *f, struct sfs_status *st)
{
    return op_begin(c, f->node->path, SFS_STAGE_WRITE, st);
}

/* mkdir and symlink: a new node at PATH (MODE, contents DATA), where
 * nothing is yet and the parent is a directory. */
static int node_make(struct sfs_conn *c, const char *path, mode_t mode, const char *data, size_t size,
                     struct sfs_status *st)
{
    struct fake_node *n;
    int rc = op_lock(c, &path, SFS_STAGE_WRITE, st, &n);
    if (rc < 0)
        return rc;
    if (n)
        rc = fail(st, SFS_STAGE_WRITE, EEXIST, path);
    else if ((rc = parent_ok(c, path, SFS_STAGE_WRITE, st)) == 0)
        node_add(c, path, mode, data, size);
    return op_end(c, rc);
}

static int fake_mkdir(struct sfs_conn *c, const char *path, mode_t mode, struct sfs_status *st)
{
    return node_make(c, path, S_IFDIR | (mode & 07777), NULL, 0, st);
}

/* unlink and rmdir: the node at PATH removed, which must be a directory
 * (not "/", and empty) when DIR and must not be one otherwise. */
/* The busy_while_open knob: an open node may not be renamed or removed. */
static bool busy_while_open(const struct fake_node *n)
{
    struct fake_knobs k;
    fake_knobs_get(&k);
    return k.busy_while_open && n->refs > 0;
}

static int node_unmake(struct sfs_conn *c, const char *path, bool dir, struct sfs_status *st)
{
    struct fake_node *n;
    int rc = op_lock_node(c, &path, SFS_STAGE_WRITE, st, &n);
    if (rc < 0)
        return rc;
    if ((bool)S_ISDIR(n->mode) != dir)
        rc = fail(st, SFS_STAGE_WRITE, dir ? ENOTDIR : EISDIR, path);
    else if (busy_while_open(n))
        rc = fail(st, SFS_STAGE_WRITE, EBUSY, path);
    else if (dir && !strcmp(path, "/"))
        rc = fail(st, SFS_STAGE_WRITE, EBUSY, path);
    else if (dir && has_children(c, path))
        rc = fail(st, SFS_STAGE_WRITE, ENOTEMPTY, path);
    else
        node_remove(c, n);
    return op_end(c, rc);
}

static int fake_unlink(struct sfs_conn *c, const char *path, struct sfs_status *st)
{
    return node_unmake(c, path, false, st);
}

static int fake_rmdir(struct sfs_conn *c, const char *path, struct sfs_status *st)
{
    return node_unmake(c, path, true, st);
}

/* Whether TO may be replaced by SRC (rename(2)'s rules); caller holds c->lock. */
static int rename_target_ok(struct sfs_conn *c, struct fake_node *src, struct fake_node *dst, unsigned flags,
                            struct sfs_status *st)
{
    if (!dst)
        return 0;
    if (flags & RENAME_NOREPLACE)
        return fail(st, SFS_STAGE_WRITE, EEXIST, dst->path);
    if (S_ISDIR(dst->mode) && !S_ISDIR(src->mode))
        return fail(st, SFS_STAGE_WRITE, EISDIR, dst->path);
    if (!S_ISDIR(dst->mode) && S_ISDIR(src->mode))
        return fail(st, SFS_STAGE_WRITE, ENOTDIR, dst->path);
    if (S_ISDIR(dst->mode) && has_children(c, dst->path))
        return fail(st, SFS_STAGE_WRITE, ENOTEMPTY, dst->path);
    return 0;
}

/* FROM and everything below it now live under TO; caller holds c->lock. */
static void rename_subtree(struct sfs_conn *c, const char *from, const char *to)
{
    size_t flen = strlen(from);
    for (size_t i = 0; i < c->n; i++) {
        struct fake_node *n = c->nodes[i];
        if (strncmp(n->path, from, flen) || (n->path[flen] && n->path[flen] != '/'))
            continue;
        char *moved = NULL;
        if (asprintf(&moved, "%s%s", to, n->path + flen) < 0)
            abort();
        free(n->path);
        n->path = moved;
    }
}

static int fake_rename(struct sfs_conn *c, const char *from, const char *to, unsigned flags, struct sfs_status *st)
{
    struct fake_node *src;
    int rc = op_lock_node(c, &from, SFS_STAGE_WRITE, st, &src);
    if (rc < 0)
        return rc;
    to = norm(to);
    size_t flen = strlen(from);
    struct fake_node *dst = node_find(c, to);
    if (!strcmp(from, "/") || !strcmp(to, "/"))
        rc = fail(st, SFS_STAGE_WRITE, EBUSY, "/");
    else if (!strncmp(to, from, flen) && to[flen] == '/')
        rc = fail(st, SFS_STAGE_WRITE, EINVAL, to);
    else if (src == dst)
        rc = 0;
    else if (busy_while_open(src))
        rc = fail(st, SFS_STAGE_WRITE, EBUSY, from);
    else if ((rc = parent_ok(c, to, SFS_STAGE_WRITE, st)) == 0 &&
             (rc = rename_target_ok(c, src, dst, flags, st)) == 0) {
        if (dst)
            node_remove(c, dst);
        rename_subtree(c, from, to);
    }
    return op_end(c, rc);
}

static void time_set(struct timespec *dst, const struct timespec *src)
{
    if (src->tv_nsec == UTIME_OMIT)
        return;
    if (src->tv_nsec == UTIME_NOW)
        clock_gettime(CLOCK_REALTIME, dst);
    else
        *dst = *src;
}

static int fake_utimens(struct sfs_conn *c, const char *path, const struct timespec tv[2], struct sfs_status *st)
{
    struct fake_node *n;
    int rc = op_lock_node(c, &path, SFS_STAGE_WRITE, st, &n);
    if (rc < 0)
        return rc;
    time_set(&n->atime, &tv[0]);
    time_set(&n->mtime, &tv[1]);
    return op_end(c, 0);
}

static int fake_chmod(struct sfs_conn *c, const char *path, mode_t mode, struct sfs_status *st)
{
    struct fake_node *n;
    int rc = op_lock_node(c, &path, SFS_STAGE_WRITE, st, &n);
    if (rc < 0)
        return rc;
    n->mode = (n->mode & ~(mode_t)07777) | (mode & 07777);
    return op_end(c, 0);
}

static void fake_stats(struct sfs_conn *c, struct sfs_conn_stats *out)
{
    out->requests = __atomic_load_n(&c->requests, __ATOMIC_RELAXED);
    out->max_in_flight = 1;
}

static bool fake_alive(struct sfs_conn *c)
{
    struct fake_knobs k;
    fake_knobs_get(&k);
    return k.kill_gen == c->gen;
}

static int fake_readlink(struct sfs_conn *c, const char *path, char *buf, size_t size, struct sfs_status *st)
{
    struct fake_node *n;
    int rc = op_lock(c, &path, SFS_STAGE_LIST, st, &n);
    if (rc < 0)
        return rc;
    if (size == 0) {
        rc = fail(st, SFS_STAGE_LIST, EINVAL, path);
    } else if (!n || !S_ISLNK(n->mode)) {
        rc = fail(st, SFS_STAGE_LIST, n ? EINVAL : ENOENT, path);
    } else {
        size_t len = n->size < size - 1 ? n->size : size - 1;
        memcpy(buf, n->data, len);
        buf[len] = '\0';
        rc = (int)len;
    }
    return op_end(c, rc);
}

static int fake_symlink(struct sfs_conn *c, const char *target, const char *path, struct sfs_status *st)
{
    return node_make(c, path, S_IFLNK | 0777, target, strlen(target), st);
}

/* Extended attributes: ENODATA and ERANGE leave ST untouched (backend.h). */
static ssize_t fake_getxattr(struct sfs_conn *c, const char *path, const char *name, char *value, size_t size,
                             struct sfs_status *st)
{
    struct fake_node *n;
    int rc = op_lock_node(c, &path, SFS_STAGE_LIST, st, &n);
    if (rc < 0)
        return rc;
    ssize_t out;
    struct fake_xattr *x = xattr_find(n, name);
    if (!x) {
        out = -ENODATA;
    } else if (size && size < x->size) {
        out = -ERANGE;
    } else {
        if (size)
            memcpy(value, x->value, x->size);
        out = (ssize_t)x->size;
    }
    op_end(c, 0);
    return out;
}

static int fake_setxattr(struct sfs_conn *c, const char *path, const char *name, const char *value, size_t size,
                         int flags, struct sfs_status *st)
{
    struct fake_node *n;
    int rc = op_lock_node(c, &path, SFS_STAGE_WRITE, st, &n);
    if (rc < 0)
        return rc;
    struct fake_xattr *x = xattr_find(n, name);
    if (x && (flags & XATTR_CREATE))
        rc = fail(st, SFS_STAGE_WRITE, EEXIST, name);
    else if (!x && (flags & XATTR_REPLACE))
        rc = -ENODATA;
    else
        xattr_put(n, name, value, size);
    return op_end(c, rc);
}

static ssize_t fake_listxattr(struct sfs_conn *c, const char *path, char *list, size_t size, struct sfs_status *st)
{
    struct fake_node *n;
    int rc = op_lock_node(c, &path, SFS_STAGE_LIST, st, &n);
    if (rc < 0)
        return rc;
    size_t total = 0;
    for (size_t i = 0; i < n->nx; i++)
        total += strlen(n->x[i].name) + 1;
    ssize_t out = size && size < total ? -ERANGE : (ssize_t)total;
    for (size_t i = 0, at = 0; size && out >= 0 && i < n->nx; i++) {
        size_t len = strlen(n->x[i].name) + 1;
        memcpy(list + at, n->x[i].name, len);
        at += len;
    }
    op_end(c, 0);
    return out;
}

static int fake_removexattr(struct sfs_conn *c, const char *path, const char *name, struct sfs_status *st)
{
    struct fake_node *n;
    int rc = op_lock_node(c, &path, SFS_STAGE_WRITE, st, &n);
    if (rc < 0)
        return rc;
    struct fake_xattr *x = xattr_find(n, name);
    if (!x)
        return op_end(c, -ENODATA);
    free(x->name);
    free(x->value);
    *x = n->x[--n->nx];
    return op_end(c, 0);
}

#define FAKE_OPS(NAME, FLAGS)                                                                              \
    {                                                                                                      \
        .name = NAME, .flags = FLAGS, .prepare_target = fake_prepare_target,                               \
        .server_info = fake_server_info, .connect = fake_connect, .disconnect = fake_disconnect,           \
        .getattr = fake_getattr, .readdir = fake_readdir, .open = fake_open, .read = fake_read,            \
        .release = fake_release, .statfs = fake_statfs, .create = fake_create, .write = fake_write,        \
        .ftruncate = fake_ftruncate, .fsync = fake_fsync, .mkdir = fake_mkdir, .unlink = fake_unlink,      \
        .rmdir = fake_rmdir, .rename = fake_rename, .utimens = fake_utimens, .chmod = fake_chmod,          \
        .stats = fake_stats, .alive = fake_alive, .readlink = fake_readlink, .symlink = fake_symlink,      \
        .getxattr = fake_getxattr, .setxattr = fake_setxattr, .listxattr = fake_listxattr,                 \
        .removexattr = fake_removexattr,                                                                   \
    }

const struct sfs_backend_ops fake_backend = FAKE_OPS("fake", 0);
const struct sfs_backend_ops fake_backend_isolated = FAKE_OPS("fakeiso", SFS_BACKEND_ISOLATE);
