/* The engine over the fake backend (fake_backend.h): entry -> target ->
 * connect with its wrappers (read-ahead, process isolation), failures,
 * and the mount table (connect once, negative cache, lost connections,
 * the idle reaper, one key never holding up another).  No root, no server.
 *
 * afp:// keys reach the fake in this process; smb:// keys reach it in a
 * worker process, which is this binary run as `--worker LABEL`, so main()
 * installs the fake before it looks at its arguments.
 *
 * Waits are bounded and generous (a busy 2-core machine, ASan): nothing
 * here asserts how fast something happened, only what did or did not. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>

#include "fake_backend.h"
#include "sharesfs/engine.h"
#include "sharesfs/mounts.h"
#include "sharesfs/probe.h"

#define ROOT "/Network/Fake"
#define WAIT_MS 30000   /* for anything that should happen */

/* ---- helpers ---- */

static void parse_map(const char *text, struct sfs_map *map)
{
    struct sfs_parse_error perr;
    if (sfs_map_parse_text(text, "test.map", ROOT, map, &perr) < 0)
        fail_msg("map does not parse: %s", perr.message);
}

struct stages {
    pthread_mutex_t lock;
    enum sfs_stage s[16];
    size_t n;
};

static void record_stage(void *ctx, enum sfs_stage stage, double ms, const struct sfs_status *st)
{
    (void)ms;
    (void)st;
    struct stages *r = ctx;
    pthread_mutex_lock(&r->lock);
    if (r->n < 16)
        r->s[r->n++] = stage;
    pthread_mutex_unlock(&r->lock);
}

static const enum sfs_stage all_stages[] = {SFS_STAGE_PARSE, SFS_STAGE_RESOLVE, SFS_STAGE_CONNECT,
                                            SFS_STAGE_NEGOTIATE, SFS_STAGE_AUTHENTICATE, SFS_STAGE_MOUNT};

/* The stages reported are exactly the first N of all_stages, in order. */
static void assert_stages(const struct stages *r, size_t n)
{
    assert_int_equal(r->n, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(sfs_stage_name(r->s[i]), sfs_stage_name(all_stages[i]));
}

/* One connection by sfs_engine_connect, with what it reported. */
struct conn_try {
    struct sfs_map map;
    struct sfs_session s;
    struct sfs_server_info info;
    struct sfs_status st;
    struct stages stages;
    char auth[64];
    int rc;
};

static void try_connect(struct conn_try *c, const char *map_text, unsigned flags)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->stages.lock, NULL);
    parse_map(map_text, &c->map);
    struct sfs_connect_request req = {.entry = &c->map.entries[0], .flags = flags, .stage_cb = record_stage,
                                      .stage_ctx = &c->stages};
    c->rc = sfs_engine_connect(&req, &c->s, &c->info, c->auth, sizeof(c->auth), &c->st);
}

static void try_free(struct conn_try *c)
{
    sfs_session_close(&c->s);
    sfs_map_free(&c->map);
    pthread_mutex_destroy(&c->stages.lock);
}

/* The whole of a (small) file through OPS; its length. */
static ssize_t slurp(const struct sfs_backend_ops *ops, struct sfs_conn *conn, const char *path, char *buf,
                     size_t size)
{
    struct sfs_status st = {0};
    struct sfs_file *f = NULL;
    int rc = ops->open(conn, path, O_RDONLY, &f, &st);
    if (rc < 0)
        return rc;
    ssize_t n = ops->read(conn, f, buf, size - 1, 0, &st);
    ops->release(conn, f);
    if (n >= 0)
        buf[n] = '\0';
    return n;
}

/* The pid in the fake's /pid: the process that made the connection. */
static pid_t connecting_pid(const struct sfs_backend_ops *ops, struct sfs_conn *conn)
{
    char buf[32];
    assert_true(slurp(ops, conn, "/pid", buf, sizeof(buf)) > 0);
    return (pid_t)atoi(buf);
}

static void check_big_range(const char *buf, size_t n, off_t off)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)buf[i] != fake_big_byte(off + (off_t)i))
            fail_msg("big.bin byte %lld: got %u, want %u", (long long)(off + (off_t)i), (unsigned char)buf[i],
                     fake_big_byte(off + (off_t)i));
}

/* /big.bin at one offset on a handle of its own, then front to back in
 * CHUNK reads and at scattered offsets; every byte checked.  Returns the
 * number of sequential reads. */
static unsigned read_big(const struct sfs_backend_ops *ops, struct sfs_conn *conn, size_t chunk)
{
    struct sfs_status st = {0};
    struct sfs_file *f = NULL;
    char *buf = malloc(chunk);
    /* A first read away from the start: a jump, read directly (a miss). */
    assert_int_equal(ops->open(conn, "/big.bin", O_RDONLY, &f, &st), 0);
    assert_int_equal(ops->read(conn, f, buf, 1000, 777777, &st), 1000);
    check_big_range(buf, 1000, 777777);
    ops->release(conn, f);
    assert_int_equal(ops->open(conn, "/big.bin", O_RDONLY, &f, &st), 0);
    unsigned reads = 0;
    off_t off = 0;
    for (;;) {
        ssize_t n = ops->read(conn, f, buf, chunk, off, &st);
        assert_true(n >= 0);
        if (n == 0)
            break;
        check_big_range(buf, (size_t)n, off);
        off += n;
        reads++;
    }
    assert_int_equal(off, FAKE_BIG_SIZE);
    uint32_t seed = 12345;
    for (int i = 0; i < 40; i++) {
        seed = seed * 1103515245u + 12345u;
        off_t at = (off_t)(seed % FAKE_BIG_SIZE);
        size_t want = 1 + (seed >> 7) % chunk;
        ssize_t n = ops->read(conn, f, buf, want, at, &st);
        size_t expect = (size_t)(FAKE_BIG_SIZE - at) < want ? (size_t)(FAKE_BIG_SIZE - at) : want;
        assert_int_equal(n, expect);
        check_big_range(buf, (size_t)n, at);
    }
    free(buf);
    ops->release(conn, f);
    return reads;
}

struct names {
    char text[512];
};

static int collect_name(void *ctx, const char *name, const struct stat *st)
{
    (void)st;
    struct names *n = ctx;
    fake_names_add(n->text, sizeof(n->text), name);
    return 0;
}

static bool listing_has(const struct names *n, const char *name)
{
    return fake_names_has(n->text, name);
}

/* The write side through OPS: create, write, rename, mkdir, rmdir, unlink. */
static void exercise_writes(const struct sfs_backend_ops *ops, struct sfs_conn *conn)
{
    struct sfs_status st = {0};
    struct sfs_file *f = NULL;
    assert_int_equal(ops->create(conn, "/new.txt", 0640, O_WRONLY | O_CREAT, &f, &st), 0);
    assert_int_equal(ops->write(conn, f, "0123456789", 10, 0, &st), 10);
    assert_int_equal(ops->ftruncate(conn, f, 4, &st), 0);
    assert_int_equal(ops->fsync(conn, f, &st), 0);
    ops->release(conn, f);
    struct stat sb;
    assert_int_equal(ops->getattr(conn, "/new.txt", &sb, &st), 0);
    assert_int_equal(sb.st_size, 4);
    assert_int_equal(sb.st_mode & 07777, 0640);
    assert_int_equal(ops->chmod(conn, "/new.txt", 0600, &st), 0);
    struct timespec tv[2] = {{1000000000, 0}, {1000000001, 0}};
    assert_int_equal(ops->utimens(conn, "/new.txt", tv, &st), 0);
    assert_int_equal(ops->getattr(conn, "/new.txt", &sb, &st), 0);
    assert_int_equal(sb.st_mode & 07777, 0600);
    assert_int_equal(sb.st_mtime, 1000000001);
    assert_int_equal(ops->rename(conn, "/new.txt", "/hello.txt", RENAME_NOREPLACE, &st), -EEXIST);
    assert_int_equal(st.err, EEXIST);
    assert_int_equal(ops->rename(conn, "/new.txt", "/dir/moved.txt", 0, &st), 0);
    assert_int_equal(ops->getattr(conn, "/new.txt", &sb, &st), -ENOENT);
    assert_int_equal(ops->mkdir(conn, "/made", 0755, &st), 0);
    assert_int_equal(ops->rmdir(conn, "/dir", &st), -ENOTEMPTY);
    assert_int_equal(ops->rmdir(conn, "/made", &st), 0);
    assert_int_equal(ops->unlink(conn, "/dir/moved.txt", &st), 0);
    assert_int_equal(ops->unlink(conn, "/dir/moved.txt", &st), -ENOENT);
    assert_int_equal(st.err, ENOENT);
    assert_int_equal(st.stage, SFS_STAGE_WRITE);
}

/* A thread that runs one call and says when it is done. */
struct runner {
    pthread_t thread;
    void *(*fn)(struct runner *);
    bool done;
    struct mount_table *t;
    struct mount *m;
    const char *path;
    int rc;
    struct sfs_conn *conn;
};

static void *runner_main(void *arg)
{
    struct runner *r = arg;
    r->fn(r);
    __atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
    return NULL;
}

static void runner_start(struct runner *r)
{
    assert_int_equal(pthread_create(&r->thread, NULL, runner_main, r), 0);
}

static bool runner_done(struct runner *r)
{
    return __atomic_load_n(&r->done, __ATOMIC_ACQUIRE);
}

static void runner_join(struct runner *r)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += WAIT_MS / 1000;
    if (pthread_timedjoin_np(r->thread, NULL, &deadline) != 0)
        fail_msg("a call did not return within %d s", WAIT_MS / 1000);
}

/* Acquires R's key; on success runs a getattr of R's path, then mount_done. */
static void *acquire_and_stat(struct runner *r)
{
    struct sfs_status st = {0};
    r->conn = mount_acquire(r->t, r->m, NULL, &st);
    if (!r->conn) {
        r->rc = -st.err;
        return NULL;
    }
    struct stat sb;
    r->rc = r->path ? r->m->ops->getattr(r->conn, r->path, &sb, &st) : 0;
    mount_done(r->m);
    return NULL;
}

static enum mount_state state_of(struct mount *m)
{
    pthread_mutex_lock(&m->lock);
    enum mount_state s = m->state;
    pthread_mutex_unlock(&m->lock);
    return s;
}

static bool wait_state(struct mount *m, enum mount_state want, int timeout_ms)
{
    for (int waited = 0; state_of(m) != want; waited += 20) {
        if (waited >= timeout_ms)
            return false;
        usleep(20 * 1000);
    }
    return true;
}

static void table_new(struct mount_table *t, const char *map_text)
{
    struct sfs_map map;
    parse_map(map_text, &map);
    assert_int_equal(mounts_init(t, &map, NULL, ROOT), 0);
}

static struct mount *find(struct mount_table *t, const char *key)
{
    struct mount *m = mounts_find(t, key);
    assert_non_null(m);
    return m;
}

/* A file kept open on M, as the FUSE layer's open does. */
static void note_open(struct mount *m)
{
    pthread_mutex_lock(&m->lock);
    m->open_files++;
    pthread_mutex_unlock(&m->lock);
}

static int reset(void **state)
{
    (void)state;
    sfs_probe_sessions_close();   /* one left by a failed probe test */
    fake_reset();
    return 0;
}

/* ---- sfs_engine_connect, in process ---- */

static void connect_in_process(void **state)
{
    (void)state;
    struct conn_try c;
    try_connect(&c, "k afp://fake.example/vol\n", SFS_ENGINE_ISOLATE | SFS_ENGINE_READAHEAD);
    assert_int_equal(c.rc, 0);
    assert_int_equal(c.st.err, 0);
    assert_stages(&c.stages, 6);
    assert_string_equal(c.auth, "FakeAuth(fake-guest)");
    assert_string_equal(c.info.dialect, "FAKE1");
    assert_string_equal(c.info.address, "192.0.2.7");
    /* Not flagged for isolation: the read-ahead wrapper over the fake itself. */
    assert_ptr_equal(c.s.ops, sfs_engine_ops(SFS_PROTO_AFP, SFS_ENGINE_READAHEAD));
    assert_ptr_equal(c.s.ops, sfs_engine_ops(SFS_PROTO_AFP, SFS_ENGINE_ISOLATE | SFS_ENGINE_READAHEAD));
    assert_ptr_not_equal(c.s.ops, &fake_backend);
    assert_ptr_equal(sfs_engine_ops(SFS_PROTO_AFP, 0), &fake_backend);
    assert_ptr_equal(sfs_backend_for(SFS_PROTO_AFP), &fake_backend);
    assert_int_equal(connecting_pid(c.s.ops, c.s.conn), getpid());
    assert_int_equal(fake_count(FAKE_CONNECTS), 1);
    try_free(&c);
    assert_int_equal(fake_count(FAKE_DISCONNECTS), 1);
}

static void connect_auth_from_url(void **state)
{
    (void)state;
    struct conn_try c;
    try_connect(&c, "k afp://;AUTH=Magic@fake.example/vol\n", SFS_ENGINE_READAHEAD);
    assert_int_equal(c.rc, 0);
    assert_string_equal(c.auth, "FakeAuth(Magic)");
    try_free(&c);
}

/* The wrapper's bytes are the backend's, sequential or not, and its
 * counters reach stats once the file is closed. */
static void readahead_reads(void **state)
{
    (void)state;
    struct conn_try c;
    try_connect(&c, "k afp://fake.example/vol\n", SFS_ENGINE_READAHEAD);
    assert_int_equal(c.rc, 0);
    const struct sfs_backend_ops *ops = c.s.ops;
    struct sfs_conn_stats cs = {0};
    ops->stats(c.s.conn, &cs);
    assert_int_equal(cs.readahead_hits + cs.readahead_misses + cs.readahead_fetches, 0);
    unsigned reads = read_big(ops, c.s.conn, 128 << 10);
    memset(&cs, 0, sizeof(cs));
    ops->stats(c.s.conn, &cs);
    assert_true(cs.readahead_hits >= reads - 1);   /* the sequential run, served from windows */
    assert_true(cs.readahead_fetches > 0);
    assert_true(cs.readahead_fetches < reads);     /* windows, not one fetch per read */
    assert_true(cs.readahead_misses > 0);          /* the jump */
    assert_true(cs.requests > 0);                  /* the fake's own counter, passed through */
    char buf[64];
    assert_int_equal(slurp(ops, c.s.conn, "/hello.txt", buf, sizeof(buf)), strlen(FAKE_HELLO));
    assert_string_equal(buf, FAKE_HELLO);
    /* A handle open for writing reads directly, and sees its own writes. */
    struct sfs_status st = {0};
    struct sfs_file *f = NULL;
    assert_int_equal(ops->open(c.s.conn, "/hello.txt", O_RDWR, &f, &st), 0);
    assert_int_equal(ops->write(c.s.conn, f, "J", 1, 0, &st), 1);
    assert_int_equal(ops->read(c.s.conn, f, buf, 5, 0, &st), 5);
    assert_memory_equal(buf, "Jello", 5);
    ops->release(c.s.conn, f);
    exercise_writes(ops, c.s.conn);
    try_free(&c);
}

/* ---- failures ---- */

struct failure {
    int err;
    enum sfs_stage stage;
    const char *detail;
    size_t stages_before;   /* reported before it failed, PARSE included */
    const char *auth;
};

static void check_failure(const struct failure *f, const char *map_text, unsigned flags)
{
    fake_reset();
    fake_fail_connect(f->err, f->stage, f->detail);
    struct conn_try c;
    try_connect(&c, map_text, flags);
    assert_int_equal(c.rc, -f->err);
    assert_int_equal(c.st.err, f->err);
    assert_string_equal(sfs_stage_name(c.st.stage), sfs_stage_name(f->stage));
    assert_non_null(strstr(c.st.detail, f->detail));
    assert_null(c.s.conn);
    assert_null(c.s.ops);
    assert_stages(&c.stages, f->stages_before);
    assert_string_equal(c.auth, f->auth);
    assert_int_equal(fake_count(FAKE_CONNECT_CALLS), 1);
    assert_int_equal(fake_count(FAKE_CONNECTS), 0);
    try_free(&c);
}

static const struct failure failures[] = {
    {ECONNREFUSED, SFS_STAGE_CONNECT, "refused by the fake", 2, "fake-guest"},
    {EPROTONOSUPPORT, SFS_STAGE_NEGOTIATE, "no common dialect", 3, "fake-guest"},
    {EACCES, SFS_STAGE_AUTHENTICATE, "bad password", 4, "fake-guest"},
    {ENOENT, SFS_STAGE_MOUNT, "no such volume", 5, "FakeAuth(fake-guest)"},
};

static void connect_failures(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(failures) / sizeof(failures[0]); i++)
        check_failure(&failures[i], "k afp://fake.example/vol\n", SFS_ENGINE_ISOLATE | SFS_ENGINE_READAHEAD);
}

/* ---- sfs_engine_probe_prepare: each protocol's preinit, once ---- */

static int preinit_calls[SFS_PROTO_SMB + 1];
static void preinit_afp(const struct sfs_config *cfg)
{
    (void)cfg;
    preinit_calls[SFS_PROTO_AFP]++;
}
static void preinit_smb(const struct sfs_config *cfg)
{
    (void)cfg;
    preinit_calls[SFS_PROTO_SMB]++;
}

static void probe_prepare_preinits(void **state)
{
    (void)state;
    struct sfs_backend_ops afp = fake_backend, smb = fake_backend_isolated;
    afp.preinit = preinit_afp;
    smb.preinit = preinit_smb;
    memset(preinit_calls, 0, sizeof(preinit_calls));
    struct sfs_map_entry e[5];
    memset(e, 0, sizeof(e));
    e[0].url_ok = e[1].url_ok = e[3].url_ok = true;
    e[0].url.proto = e[1].url.proto = SFS_PROTO_AFP;
    e[3].url.proto = SFS_PROTO_UNKNOWN;
    e[2].url.proto = SFS_PROTO_SMB;   /* not parsed: no library needed for it */
    const struct sfs_map_entry *list[5] = {&e[0], &e[1], &e[2], &e[3], &e[4]};
    sfs_backend_override(SFS_PROTO_AFP, &afp);
    sfs_backend_override(SFS_PROTO_SMB, &smb);
    sfs_engine_probe_prepare(list, 5, NULL);
    assert_int_equal(preinit_calls[SFS_PROTO_AFP], 1);
    assert_int_equal(preinit_calls[SFS_PROTO_SMB], 0);
    e[4].url_ok = true;
    e[4].url.proto = SFS_PROTO_SMB;
    sfs_engine_probe_prepare(list, 5, NULL);
    assert_int_equal(preinit_calls[SFS_PROTO_AFP], 2);
    assert_int_equal(preinit_calls[SFS_PROTO_SMB], 1);
    /* A backend without the operation is skipped. */
    sfs_backend_override(SFS_PROTO_AFP, &fake_backend);
    sfs_backend_override(SFS_PROTO_SMB, &fake_backend_isolated);
    sfs_engine_probe_prepare(list, 5, NULL);
    assert_int_equal(preinit_calls[SFS_PROTO_AFP], 2);
    assert_int_equal(preinit_calls[SFS_PROTO_SMB], 1);
}

/* ---- sfs_engine_probe_footprint: which entries may share a worker ---- */

static void probe_footprints(void **state)
{
    (void)state;
    /* AFP stands for a backend whose library keeps its client config, as
     * libsmbclient does; the plain fake for one that keeps none. */
    struct sfs_backend_ops keeps = fake_backend;
    keeps.flags |= SFS_BACKEND_PROCESS_CONFIG;
    struct sfs_backend_ops keeps_iso = fake_backend_isolated;
    keeps_iso.flags |= SFS_BACKEND_PROCESS_CONFIG;
    sfs_backend_override(SFS_PROTO_AFP, &keeps);
    sfs_backend_override(SFS_PROTO_SMB, &keeps_iso);
    struct sfs_map map;
    parse_map("plain afp://fake.example/a\n"
              "plain2 afp://u;AUTH=DHX2@other.example/b\n"
              "own afp://;AUTH=conf-one@fake.example/a\n"
              "own2 afp://;AUTH=conf-one@fake.example/c\n"
              "other afp://;AUTH=conf-two@fake.example/a\n"
              "refused afp://;AUTH=forbidden@fake.example/a\n"
              "smb smb://fake.example/a\n",
              &map);
    assert_int_equal(map.n_entries, 7);
    char fp[7][300];
    for (size_t i = 0; i < 7; i++)
        sfs_engine_probe_footprint(&map.entries[i], NULL, fp[i], sizeof(fp[i]));
    assert_string_equal(fp[0], "afp (default)");
    assert_string_equal(fp[1], fp[0]);   /* server, user and auth do not matter */
    assert_string_equal(fp[2], "afp /etc/fake/one");
    assert_string_equal(fp[3], fp[2]);
    assert_string_equal(fp[4], "afp /etc/fake/two");
    assert_string_equal(fp[5], "");       /* fails before any library call: fits anywhere */
    assert_string_equal(fp[6], "smb (default)");
    struct sfs_map_entry bad = {.key = "bad", .url_ok = false};
    sfs_engine_probe_footprint(&bad, NULL, fp[0], sizeof(fp[0]));
    assert_string_equal(fp[0], "");
    /* A backend that keeps no config: every entry fits any worker, its own
     * client config or not. */
    sfs_backend_override(SFS_PROTO_AFP, &fake_backend);
    for (size_t i = 0; i < 6; i++) {
        sfs_engine_probe_footprint(&map.entries[i], NULL, fp[i], sizeof(fp[i]));
        assert_string_equal(fp[i], "");
    }
    sfs_backend_override(SFS_PROTO_SMB, &fake_backend_isolated);
    sfs_engine_probe_footprint(&map.entries[6], NULL, fp[6], sizeof(fp[6]));
    assert_string_equal(fp[6], "");
    sfs_map_free(&map);
}

/* ---- share_sessions: which entries may share a login, and the sharing ---- */

static void probe_session_ids(void **state)
{
    (void)state;
    struct sfs_map map;
    parse_map("a afp://u:pw@fake.example/vol\n"
              "b afp://u:pw@fake.example/vol\n"
              "c afp://u:other@fake.example/vol\n"
              "d -ro afp://u:pw@fake.example/vol\n"
              "e afp://u:pw@fake.example/vol/sub\n"
              "* afp://fake.example/&\n",
              &map);
    assert_int_equal(map.n_entries, 6);
    char *id[6];
    for (size_t i = 0; i < 6; i++)
        id[i] = sfs_engine_probe_session_id(&map.entries[i]);
    assert_string_equal(id[0], id[1]);          /* only the key differs */
    assert_string_not_equal(id[0], id[2]);      /* another password: its own login */
    assert_string_not_equal(id[0], id[3]);      /* another option */
    assert_string_not_equal(id[0], id[4]);      /* another path */
    assert_null(id[5]);                         /* a wildcard: never shared */
    for (size_t i = 0; i < 6; i++)
        sfs_engine_probe_session_id_free(id[i]);
    sfs_map_free(&map);
}

static void probe_one(const struct sfs_map *map, size_t i, bool share, struct sfs_probe_result *r)
{
    struct sfs_probe_options opts = {.share_sessions = share, .read_path = "/hello.txt"};  /* the fake wants a slash */
    sfs_probe_entry(&map->entries[i], NULL, &opts, r);
    if (r->status.err)
        fail_msg("%s: %s", r->key, r->status.detail);
    assert_true(r->ran[SFS_STAGE_LIST]);
    assert_true(r->ran[SFS_STAGE_READ]);
    assert_int_equal(r->read_bytes, strlen(FAKE_HELLO));
}

static void probe_shared_sessions(void **state)
{
    (void)state;
    struct sfs_map map;
    parse_map("a afp://fake.example/vol\nb afp://fake.example/vol\nc afp://fake.example/vol2\n"
              "d afp://fake.example/vol2\ne afp://fake.example/vol2\n",
              &map);
    struct sfs_probe_result *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    probe_one(&map, 0, true, r);
    assert_string_equal(r->session_of, "");
    assert_true(r->ran[SFS_STAGE_AUTHENTICATE]);
    assert_int_equal(fake_count(FAKE_CONNECTS), 1);
    assert_int_equal(fake_count(FAKE_DISCONNECTS), 0);   /* kept for the next entry */
    probe_one(&map, 1, true, r);
    assert_string_equal(r->session_of, "a");
    assert_string_equal(r->auth, "FakeAuth(fake-guest)");   /* a's login's */
    assert_false(r->ran[SFS_STAGE_AUTHENTICATE]);
    assert_int_equal(fake_count(FAKE_CONNECTS), 1);
    /* Another location: a's session goes, c logs in. */
    probe_one(&map, 2, true, r);
    assert_string_equal(r->session_of, "");
    assert_int_equal(fake_count(FAKE_CONNECTS), 2);
    assert_int_equal(fake_count(FAKE_DISCONNECTS), 1);
    /* c's session lost: d is not told so, it logs in afresh. */
    fake_kill_connections();
    probe_one(&map, 3, true, r);
    assert_string_equal(r->session_of, "");
    assert_non_null(strstr(r->session_lost, "closed"));   /* c's, of the same location, was gone */
    assert_int_equal(fake_count(FAKE_CONNECTS), 3);
    probe_one(&map, 4, true, r);
    assert_string_equal(r->session_of, "d");
    assert_string_equal(r->session_lost, "");
    assert_int_equal(fake_count(FAKE_CONNECTS), 3);
    sfs_probe_sessions_close();
    assert_int_equal(fake_count(FAKE_DISCONNECTS), 3);
    /* Without the option every entry is its own login. */
    probe_one(&map, 0, false, r);
    probe_one(&map, 1, false, r);
    assert_string_equal(r->session_of, "");
    assert_int_equal(fake_count(FAKE_CONNECTS), 5);
    assert_int_equal(fake_count(FAKE_DISCONNECTS), 5);
    free(r);
    sfs_map_free(&map);
}

/* A backend that cannot tell its session is gone (no alive op): the list
 * on the kept session fails, and that failure is not the entry's row. */
static void probe_shared_session_failure(void **state)
{
    (void)state;
    struct sfs_backend_ops blind = fake_backend;
    blind.alive = NULL;
    sfs_backend_override(SFS_PROTO_AFP, &blind);
    struct sfs_map map;
    parse_map("a afp://fake.example/vol\nb afp://fake.example/vol\n", &map);
    struct sfs_probe_result *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    probe_one(&map, 0, true, r);
    fake_kill_connections();
    probe_one(&map, 1, true, r);
    assert_string_equal(r->session_of, "");
    assert_non_null(strstr(r->session_lost, "list of a's session: EIO"));   /* the cause, kept */
    assert_true(r->ran[SFS_STAGE_AUTHENTICATE]);
    assert_int_equal(fake_count(FAKE_CONNECTS), 2);
    assert_int_equal(fake_count(FAKE_DISCONNECTS), 1);
    sfs_probe_sessions_close();
    assert_int_equal(fake_count(FAKE_DISCONNECTS), 2);
    sfs_backend_override(SFS_PROTO_AFP, &fake_backend);
    free(r);
    sfs_map_free(&map);
}

/* The backend's prepare_target refuses: no connect is even tried. */
static void prepare_target_failure(void **state)
{
    (void)state;
    struct conn_try c;
    try_connect(&c, "k afp://;AUTH=forbidden@fake.example/vol\n", SFS_ENGINE_READAHEAD);
    assert_int_equal(c.rc, -EPERM);
    assert_int_equal(c.st.err, EPERM);
    assert_int_equal(c.st.stage, SFS_STAGE_AUTHENTICATE);
    assert_non_null(strstr(c.st.detail, "forbidden"));
    assert_int_equal(c.stages.n, 0);
    assert_int_equal(fake_count(FAKE_CONNECT_CALLS), 0);
    try_free(&c);
}

static void parse_failure(void **state)
{
    (void)state;
    struct conn_try c;
    try_connect(&c, "k afp://fake.example\n", SFS_ENGINE_READAHEAD);
    assert_true(c.rc < 0);
    assert_int_equal(c.st.err, -c.rc);
    assert_int_equal(c.st.stage, SFS_STAGE_PARSE);
    assert_true(c.st.detail[0] != '\0');
    assert_int_equal(fake_count(FAKE_CONNECT_CALLS), 0);
    try_free(&c);
}

/* A backend that fails without a word (rc < 0, status untouched): the
 * caller must still get an errno, or mount_acquire's caller would answer
 * "-0", success, for a failed mount. */
static void failure_without_status(const char *map_text)
{
    struct fake_knobs k = {.connect_err = EHOSTDOWN, .connect_stage = SFS_STAGE_CONNECT, .connect_no_status = true};
    fake_knobs_set(&k);
    struct conn_try c;
    try_connect(&c, map_text, SFS_ENGINE_ISOLATE | SFS_ENGINE_READAHEAD);
    assert_true(c.rc < 0);
    int err = c.st.err;
    try_free(&c);
    assert_int_equal(err, -c.rc);
}

static void failure_without_status_isolated(void **state)
{
    (void)state;
    failure_without_status("k smb://fake.example/share\n");
}

static void failure_without_status_in_process(void **state)
{
    (void)state;
    failure_without_status("k afp://fake.example/vol\n");
}

/* ---- the mount table ---- */

static void mounts_connect_once(void **state)
{
    (void)state;
    struct mount_table t;
    table_new(&t, "a afp://fake.example/a\nb afp://fake.example/b\n");
    assert_int_equal(t.n, 2);
    struct mount *a = find(&t, "a"), *b = find(&t, "b");
    assert_null(mounts_find(&t, "nope"));
    assert_ptr_equal(a->ops, sfs_engine_ops(SFS_PROTO_AFP, SFS_ENGINE_ISOLATE | SFS_ENGINE_READAHEAD));
    assert_int_equal(a->state, MOUNT_IDLE);
    struct sfs_status st = {0};
    struct sfs_conn *c1 = mount_acquire(&t, a, NULL, &st);
    assert_non_null(c1);
    assert_int_equal(a->state, MOUNT_UP);
    assert_int_equal(a->busy, 1);
    assert_string_equal(a->auth, "FakeAuth(fake-guest)");
    assert_string_equal(a->server_dialect, "FAKE1");
    mount_done(a);
    assert_int_equal(a->busy, 0);
    struct sfs_conn *c2 = mount_acquire(&t, a, NULL, &st);
    assert_ptr_equal(c1, c2);
    note_open(a);
    mount_done(a);
    assert_int_equal(a->open_files, 1);
    mount_file_closed(a);
    assert_int_equal(a->open_files, 0);
    assert_int_equal(a->connects, 1);
    assert_int_equal(fake_count(FAKE_CONNECTS), 1);
    assert_int_equal(b->state, MOUNT_IDLE);
    assert_int_equal(b->connects, 0);
    mounts_destroy(&t);
    assert_int_equal(fake_count(FAKE_DISCONNECTS), 1);
}

static void mounts_wildcard(void **state)
{
    (void)state;
    struct mount_table t;
    table_new(&t, "a afp://fake.example/a\n* afp://fake.example/&\n");
    assert_int_equal(t.n, 1);
    struct mount *m = find(&t, "anything");
    assert_int_equal(t.n, 2);
    assert_ptr_equal(find(&t, "anything"), m);
    assert_string_equal(m->entry.url.share, "anything");
    struct sfs_status st = {0};
    assert_non_null(mount_acquire(&t, m, NULL, &st));
    mount_done(m);
    assert_true(mount_ino(m, 5) != mount_ino(find(&t, "a"), 5));
    mounts_destroy(&t);
}

/* A re-read map: keys added, removed and changed; a file open on a removed
 * key keeps its connection until it is closed, then the key disconnects. */
static void mounts_refresh_keys(void **state)
{
    (void)state;
    struct mount_table t;
    table_new(&t, "a afp://fake.example/a\nb afp://fake.example/b\nc afp://fake.example/c\n* afp://fake.example/&\n");
    struct mount *a = find(&t, "a"), *b = find(&t, "b"), *c = find(&t, "c"), *w = find(&t, "w1");
    struct sfs_status st = {0};
    struct sfs_conn *bc = mount_acquire(&t, b, NULL, &st);
    assert_non_null(bc);
    note_open(b);           /* a file open on b */
    mount_done(b);
    assert_non_null(mount_acquire(&t, c, NULL, &st));
    mount_done(c);

    struct sfs_map next;
    parse_map("a afp://fake.example/a\nc afp://fake.example/c2\nd afp://fake.example/d\n* afp://other.example/&\n",
              &next);
    size_t added = 0, removed = 0;
    assert_int_equal(mounts_refresh(&t, &next, &added, &removed), 0);
    assert_int_equal(added, 2);     /* d, and c anew */
    assert_int_equal(removed, 3);   /* b, the old c, and w1 (its '*' now names another server) */
    assert_ptr_equal(mounts_find(&t, "a"), a);
    struct mount *w2 = find(&t, "w1");   /* instantiated anew from the new '*' */
    assert_ptr_not_equal(w2, w);
    assert_string_equal(w2->entry.url.host, "other.example");
    assert_string_equal(find(&t, "b")->entry.url.host, "other.example");   /* b: now the '*' */
    assert_true(b->removed);
    struct mount *c2 = find(&t, "c");
    assert_ptr_not_equal(c2, c);
    assert_string_equal(c2->entry.url.share, "c2");
    assert_non_null(find(&t, "d"));
    /* c had nothing open: disconnected at once.  b keeps its file's connection. */
    assert_int_equal(c->state, MOUNT_IDLE);
    assert_int_equal(b->state, MOUNT_UP);
    assert_ptr_equal(b->conn, bc);
    mount_file_closed(b);
    assert_int_equal(b->state, MOUNT_IDLE);
    assert_null(b->conn);
    /* New keys never share an inode range with removed ones. */
    assert_true(mount_ino(c2, 5) != mount_ino(c, 5));
    mounts_destroy(&t);
}

static int level_name(void *arg, const char *name)
{
    GString *g = arg;
    g_string_append_printf(g, "%s ", name);
    return 0;
}

/* Keys with '/' (macOS -fstab: HOST/PATH) and the directories between. */
static void mounts_nested_keys(void **state)
{
    (void)state;
    struct mount_table t;
    struct sfs_map map;
    struct sfs_parse_error perr;
    assert_int_equal(sfs_map_parse_text("a afp://fake.example/a\n* afp://fake.example/&\n", "m", ROOT, &map, &perr), 0);
    /* Keys as -fstab records give them (the map line parser refuses '/' in a key). */
    const char *nested[] = {"h.example/Groups", "h.example/Volumes/Data/Attic"};
    for (size_t i = 0; i < 2; i++) {
        map.entries = realloc(map.entries, (map.n_entries + 1) * sizeof(*map.entries));
        assert_int_equal(sfs_map_entry_copy(&map.entries[map.n_entries], &map.entries[0]), 0);
        free(map.entries[map.n_entries].key);
        map.entries[map.n_entries++].key = strdup(nested[i]);
    }
    assert_int_equal(mounts_init(&t, &map, NULL, ROOT), 0);
    size_t kl = 0;
    struct mount *g = mounts_find_path(&t, "h.example/Groups/sub/file", &kl);
    assert_non_null(g);
    assert_string_equal(g->entry.key, "h.example/Groups");
    assert_int_equal(kl, strlen("h.example/Groups"));
    assert_ptr_equal(mounts_find_path(&t, "h.example/Volumes/Data/Attic", &kl), find(&t, "h.example/Volumes/Data/Attic"));
    /* Between the root and the keys: directories, not a '*' instance. */
    assert_null(mounts_find_path(&t, "h.example", &kl));
    assert_null(mounts_find_path(&t, "h.example/Volumes", &kl));
    assert_true(mounts_has_below(&t, "h.example"));
    assert_true(mounts_has_below(&t, "h.example/Volumes/Data"));
    assert_false(mounts_has_below(&t, "h.example/Groups"));
    assert_false(mounts_has_below(&t, "h.exam"));
    /* A plain name still gets its '*' instance. */
    struct mount *w = mounts_find_path(&t, "other/x", &kl);
    assert_non_null(w);
    assert_string_equal(w->entry.key, "other");
    assert_int_equal(kl, 5);
    GString *names = g_string_new(NULL);
    mounts_list_level(&t, "", level_name, names);
    assert_string_equal(names->str, "a h.example other ");
    g_string_truncate(names, 0);
    mounts_list_level(&t, "h.example", level_name, names);
    assert_string_equal(names->str, "Groups Volumes ");
    g_string_free(names, TRUE);
    mounts_destroy(&t);
}

static void count_record(void *arg, struct mount *m)
{
    (void)m;
    (*(int *)arg)++;
}

/* Multiuser: one session per (key, uid), each with its own connection;
 * one user's disconnect leaves the other's connection and files alone. */
static void mounts_per_user_sessions(void **state)
{
    (void)state;
    struct mount_table t;
    table_new(&t, "a afp://fake.example/a\n");
    t.multiuser = true;
    struct mount *a = find(&t, "a");
    struct mount *s1 = mount_session(&t, a, 1001), *s2 = mount_session(&t, a, 1002);
    assert_non_null(s1);
    assert_non_null(s2);
    assert_ptr_not_equal(s1, s2);
    assert_ptr_equal(mount_session(&t, a, 1001), s1);
    assert_ptr_equal(mount_session(&t, s1, 1002), s1);   /* a session is its own */
    assert_true(s1->is_session);
    assert_int_equal(s2->uid, 1002);
    assert_int_equal(s1->index, a->index);   /* the same inode numbers for both users */
    struct sfs_status st = {0};
    struct sfs_conn *c1 = mount_acquire(&t, s1, NULL, &st), *c2 = mount_acquire(&t, s2, NULL, &st);
    assert_non_null(c1);
    assert_non_null(c2);
    assert_ptr_not_equal(c1, c2);
    assert_int_equal(fake_count(FAKE_CONNECTS), 2);
    assert_int_equal(a->state, MOUNT_IDLE);   /* the key itself never connects */
    note_open(s2);
    mount_done(s2);
    mount_done(s1);
    int n = 0;
    mounts_for_each(&t, count_record, &n);
    assert_int_equal(n, 3);
    /* A refresh that removes the key: s1 (nothing open) disconnects now,
     * s2 keeps its file's connection until it is closed. */
    struct sfs_map next;
    parse_map("b afp://fake.example/b\n", &next);
    assert_int_equal(mounts_refresh(&t, &next, NULL, NULL), 0);
    assert_int_equal(s1->state, MOUNT_IDLE);
    assert_int_equal(s2->state, MOUNT_UP);
    mount_file_closed(s2);
    assert_int_equal(s2->state, MOUNT_IDLE);
    mounts_destroy(&t);
    assert_int_equal(fake_count(FAKE_DISCONNECTS), 2);
}

static void *acquire_only(struct runner *r)
{
    struct sfs_status st = {0};
    r->conn = mount_acquire(r->t, r->m, NULL, &st);
    r->rc = r->conn ? 0 : -st.err;
    return NULL;
}

/* Callers arriving while a key connects wait for that connect. */
static void mounts_concurrent_acquire(void **state)
{
    (void)state;
    struct fake_knobs k = {.connect_delay_ms = 300};
    fake_knobs_set(&k);
    struct mount_table t;
    table_new(&t, "a afp://fake.example/a\n");
    struct mount *a = find(&t, "a");
    struct runner r[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (struct runner){.fn = acquire_only, .t = &t, .m = a};
        runner_start(&r[i]);
    }
    for (int i = 0; i < 4; i++) {
        runner_join(&r[i]);
        assert_int_equal(r[i].rc, 0);
        assert_ptr_equal(r[i].conn, r[0].conn);
    }
    assert_int_equal(fake_count(FAKE_CONNECT_CALLS), 1);
    assert_int_equal(a->connects, 1);
    assert_int_equal(a->busy, 4);
    for (int i = 0; i < 4; i++)
        mount_done(a);
    assert_int_equal(a->busy, 0);
    mounts_destroy(&t);
}

/* A failed connect is answered from cache within negative_timeout_s, and
 * tried again after it. */
static void mounts_negative_cache(void **state)
{
    (void)state;
    struct mount_table t;
    table_new(&t, "a afp://fake.example/a\n");
    t.negative_timeout_s = 60;   /* the cached answer cannot expire mid-test */
    struct mount *a = find(&t, "a");
    fake_fail_connect(EHOSTUNREACH, SFS_STAGE_CONNECT, "no route (fake)");
    struct sfs_status st = {0};
    assert_null(mount_acquire(&t, a, NULL, &st));
    assert_int_equal(st.err, EHOSTUNREACH);
    assert_int_equal(st.stage, SFS_STAGE_CONNECT);
    assert_int_equal(a->state, MOUNT_FAILED);
    assert_int_equal(a->failures, 1);
    assert_non_null(a->last_error);
    assert_int_equal(a->last_error->err, EHOSTUNREACH);
    memset(&st, 0, sizeof(st));
    assert_null(mount_acquire(&t, a, NULL, &st));
    assert_int_equal(st.err, EHOSTUNREACH);
    assert_non_null(strstr(st.detail, "no route (fake)"));
    assert_int_equal(fake_count(FAKE_CONNECT_CALLS), 1);
    /* The server is back; once the failure is older than the timeout the
     * next use connects. */
    fake_reset();
    t.negative_timeout_s = 1;
    for (int i = 0; i < 100 && time(NULL) - a->last_error_at < 1; i++)
        usleep(50 * 1000);
    struct sfs_conn *c = mount_acquire(&t, a, NULL, &st);
    assert_non_null(c);
    assert_int_equal(fake_count(FAKE_CONNECT_CALLS), 1);
    assert_int_equal(a->state, MOUNT_UP);
    mount_done(a);
    mounts_destroy(&t);
}

/* A lost connection is retired (kept for the files open on it) and the
 * next use connects anew. */
static void mounts_lost_connection(void **state)
{
    (void)state;
    struct mount_table t;
    table_new(&t, "a afp://fake.example/a\n");
    struct mount *a = find(&t, "a");
    struct sfs_status st = {0};
    struct sfs_conn *old = mount_acquire(&t, a, NULL, &st);
    assert_non_null(old);
    struct sfs_file *f = NULL;
    assert_int_equal(a->ops->open(old, "/hello.txt", O_RDONLY, &f, &st), 0);
    note_open(a);
    mount_done(a);

    fake_kill_connections();
    assert_false(a->ops->alive(old));
    struct sfs_conn *fresh = mount_acquire(&t, a, NULL, &st);
    assert_non_null(fresh);
    assert_ptr_not_equal(fresh, old);
    assert_true(a->ops->alive(fresh));
    assert_int_equal(a->connects, 2);
    assert_int_equal(fake_count(FAKE_CONNECTS), 2);
    assert_int_equal(a->n_retired, 1);
    mount_done(a);
    assert_int_equal(a->n_retired, 1);   /* a file is still open on it */
    char buf[16];
    assert_true(a->ops->read(old, f, buf, sizeof(buf), 0, &st) < 0);
    assert_int_equal(st.err, EIO);
    a->ops->release(old, f);
    mount_file_closed(a);
    assert_int_equal(a->n_retired, 0);
    assert_int_equal(fake_count(FAKE_DISCONNECTS), 1);
    mounts_destroy(&t);
}

/* Lost right after a timeout: answered from cache, no second timeout. */
static void mounts_lost_after_timeout(void **state)
{
    (void)state;
    struct mount_table t;
    table_new(&t, "a afp://fake.example/a\n");
    t.negative_timeout_s = 60;
    struct mount *a = find(&t, "a");
    struct sfs_status st = {0};
    assert_non_null(mount_acquire(&t, a, NULL, &st));
    mount_done(a);
    struct sfs_status timeout;
    sfs_status_set(&timeout, SFS_STAGE_READ, ETIMEDOUT, SFS_DOMAIN_SYS, ETIMEDOUT, "no answer (fake)");
    mount_note_error(a, &timeout);
    fake_kill_connections();
    assert_null(mount_acquire(&t, a, NULL, &st));
    assert_int_equal(st.err, ETIMEDOUT);
    assert_int_equal(a->state, MOUNT_FAILED);
    assert_int_equal(fake_count(FAKE_CONNECT_CALLS), 1);
    mounts_destroy(&t);
}

/* The reaper disconnects a key nobody uses, and never one with a file
 * open or an operation running. */
static void mounts_idle_reaper(void **state)
{
    (void)state;
    struct mount_table t;
    table_new(&t, "idle afp://fake.example/a\nopen afp://fake.example/b\nbusy afp://fake.example/c\n");
    t.idle_timeout_s = 1;
    struct mount *idle = find(&t, "idle"), *open = find(&t, "open"), *busy = find(&t, "busy");
    struct sfs_status st = {0};
    assert_non_null(mount_acquire(&t, idle, NULL, &st));
    mount_done(idle);
    assert_non_null(mount_acquire(&t, open, NULL, &st));
    note_open(open);
    mount_done(open);
    assert_non_null(mount_acquire(&t, busy, NULL, &st));   /* no mount_done yet */
    mounts_start_reaper(&t);
    assert_true(wait_state(idle, MOUNT_IDLE, WAIT_MS));
    assert_int_equal(idle->idle_disconnects, 1);
    assert_true(fake_wait_count(FAKE_DISCONNECTS, 1, WAIT_MS));
    /* A few more rounds of the reaper, with the others long past idle_timeout_s. */
    sleep(3);
    assert_int_equal(state_of(open), MOUNT_UP);
    assert_int_equal(state_of(busy), MOUNT_UP);
    assert_int_equal(open->idle_disconnects + busy->idle_disconnects, 0);
    assert_int_equal(fake_count(FAKE_DISCONNECTS), 1);
    /* Reaped keys reconnect on next use. */
    assert_non_null(mount_acquire(&t, idle, NULL, &st));
    assert_int_equal(idle->connects, 2);
    mount_done(idle);
    /* Once the file is closed and the operation done, they go too. */
    mount_file_closed(open);
    mount_done(busy);
    assert_true(wait_state(open, MOUNT_IDLE, WAIT_MS));
    assert_true(wait_state(busy, MOUNT_IDLE, WAIT_MS));
    mounts_destroy(&t);
}

/* One key stuck connecting, or stuck in an operation, holds up no other. */
static void mounts_blocked_key_in_process(void **state)
{
    (void)state;
    struct mount_table t;
    table_new(&t, "slow afp://blockhost.example/a\nstuck afp://fake.example/b\nfast afp://fake.example/c\n");
    struct mount *slow = find(&t, "slow"), *stuck = find(&t, "stuck"), *fast = find(&t, "fast");
    fake_gate_close();
    struct runner r1 = {.fn = acquire_and_stat, .t = &t, .m = slow, .path = "/hello.txt"};
    struct runner r2 = {.fn = acquire_and_stat, .t = &t, .m = stuck, .path = "/block.txt"};
    runner_start(&r1);
    runner_start(&r2);
    assert_true(fake_wait_count(FAKE_BLOCKED, 2, WAIT_MS));
    struct sfs_status st = {0};
    struct sfs_conn *c = mount_acquire(&t, fast, NULL, &st);
    assert_non_null(c);
    char buf[64];
    assert_int_equal(slurp(fast->ops, c, "/hello.txt", buf, sizeof(buf)), strlen(FAKE_HELLO));
    mount_done(fast);
    /* The stuck key's other operations are not held up either. */
    c = mount_acquire(&t, stuck, NULL, &st);
    assert_non_null(c);
    struct stat sb;
    assert_int_equal(stuck->ops->getattr(c, "/dir", &sb, &st), 0);
    mount_done(stuck);
    assert_false(runner_done(&r1));
    assert_false(runner_done(&r2));
    fake_gate_open();
    runner_join(&r1);
    runner_join(&r2);
    assert_int_equal(r1.rc, 0);
    assert_int_equal(r2.rc, 0);
    mounts_destroy(&t);
}

/* ---- process isolation ---- */

static bool is_worker(pid_t pid)
{
    char path[64], cmd[256] = "";
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(cmd, 1, sizeof(cmd) - 1, f);
    fclose(f);
    /* NUL-separated: "sharesfs", "--worker", LABEL */
    size_t first = strnlen(cmd, n);
    return first + 1 < n && strcmp(cmd + first + 1, "--worker") == 0;
}

static void isolated_connect(void **state)
{
    (void)state;
    const unsigned flags = SFS_ENGINE_ISOLATE | SFS_ENGINE_READAHEAD;
    struct conn_try c;
    try_connect(&c, "k smb://fake.example/share\n", flags);
    assert_int_equal(c.rc, 0);
    assert_stages(&c.stages, 6);   /* RESOLVE.. come from the worker */
    assert_string_equal(c.auth, "FakeAuth(fake-guest)");
    assert_string_equal(c.info.dialect, "FAKE1");
    const struct sfs_backend_ops *ops = c.s.ops;
    assert_ptr_equal(ops, sfs_engine_ops(SFS_PROTO_SMB, flags));
    assert_ptr_not_equal(ops, sfs_engine_ops(SFS_PROTO_SMB, SFS_ENGINE_READAHEAD));
    assert_ptr_equal(sfs_backend_for(SFS_PROTO_SMB), &fake_backend_isolated);
    pid_t worker = connecting_pid(ops, c.s.conn);
    assert_int_not_equal(worker, getpid());
    assert_true(is_worker(worker));
    assert_int_equal(fake_count(FAKE_CONNECTS), 1);

    struct sfs_status st = {0};
    struct statvfs sv;
    assert_int_equal(ops->statfs(c.s.conn, "/", &sv, &st), 0);
    assert_int_equal(sv.f_fsid, (unsigned long)worker);
    struct stat sb;
    assert_int_equal(ops->getattr(c.s.conn, "/hello.txt", &sb, &st), 0);
    assert_int_equal(sb.st_size, strlen(FAKE_HELLO));
    assert_int_equal(ops->getattr(c.s.conn, "/nope", &sb, &st), -ENOENT);
    assert_int_equal(st.err, ENOENT);
    assert_non_null(strstr(st.detail, "/nope"));
    struct names names = {""};
    assert_int_equal(ops->readdir(c.s.conn, "", collect_name, &names, &st), 0);
    assert_true(listing_has(&names, "hello.txt"));
    assert_true(listing_has(&names, "big.bin"));
    assert_true(listing_has(&names, "dir"));
    assert_false(listing_has(&names, "a.txt"));
    unsigned reads = read_big(ops, c.s.conn, 256 << 10);   /* windows in the shared buffer */
    struct sfs_conn_stats cs = {0};
    ops->stats(c.s.conn, &cs);
    assert_true(cs.readahead_hits >= reads - 1);
    assert_true(cs.readahead_fetches < reads);
    exercise_writes(ops, c.s.conn);
    /* What frames do not carry stays unavailable rather than wrong. */
    assert_null(ops->readlink);
    assert_null(ops->getxattr);
    try_free(&c);
    assert_true(kill(worker, 0) < 0 && errno == ESRCH);   /* stopped and reaped */
}

/* The same backend without SFS_ENGINE_ISOLATE stays in this process. */
static void isolate_flag_off(void **state)
{
    (void)state;
    struct conn_try c;
    try_connect(&c, "k smb://fake.example/share\n", SFS_ENGINE_READAHEAD);
    assert_int_equal(c.rc, 0);
    assert_int_equal(connecting_pid(c.s.ops, c.s.conn), getpid());
    assert_non_null(c.s.ops->readlink);
    try_free(&c);
}

static void isolated_failures(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(failures) / sizeof(failures[0]); i++)
        check_failure(&failures[i], "k smb://fake.example/share\n", SFS_ENGINE_ISOLATE | SFS_ENGINE_READAHEAD);
}

/* Lost inside the worker: the next reply says so, the key reconnects
 * with a new worker. */
static void isolated_lost_connection(void **state)
{
    (void)state;
    struct mount_table t;
    table_new(&t, "a smb://fake.example/a\n");
    struct mount *a = find(&t, "a");
    struct sfs_status st = {0};
    struct sfs_conn *old = mount_acquire(&t, a, NULL, &st);
    assert_non_null(old);
    pid_t first = connecting_pid(a->ops, old);
    assert_int_not_equal(first, getpid());
    mount_done(a);
    fake_kill_connections();
    struct stat sb;
    assert_non_null(mount_acquire(&t, a, NULL, &st));
    assert_int_equal(a->ops->getattr(old, "/hello.txt", &sb, &st), -EIO);
    mount_done(a);
    assert_false(a->ops->alive(old));
    struct sfs_conn *fresh = mount_acquire(&t, a, NULL, &st);
    assert_non_null(fresh);
    assert_ptr_not_equal(fresh, old);
    pid_t second = connecting_pid(a->ops, fresh);
    assert_int_not_equal(second, first);
    assert_int_not_equal(second, getpid());
    assert_int_equal(a->connects, 2);
    mount_done(a);
    assert_int_equal(a->n_retired, 0);
    mounts_destroy(&t);
}

/* One key blocked inside its worker holds up no other key. */
static void isolated_blocked_key(void **state)
{
    (void)state;
    struct mount_table t;
    table_new(&t, "stuck smb://fake.example/a\nfree smb://fake.example/b\n");
    struct mount *stuck = find(&t, "stuck"), *other = find(&t, "free");
    fake_gate_close();
    struct runner r = {.fn = acquire_and_stat, .t = &t, .m = stuck, .path = "/block.txt"};
    runner_start(&r);
    assert_true(fake_wait_count(FAKE_BLOCKED, 1, WAIT_MS));
    struct sfs_status st = {0};
    struct sfs_conn *c = mount_acquire(&t, other, NULL, &st);
    assert_non_null(c);
    char buf[64];
    assert_int_equal(slurp(other->ops, c, "/hello.txt", buf, sizeof(buf)), strlen(FAKE_HELLO));
    assert_string_equal(buf, FAKE_HELLO);
    pid_t worker = connecting_pid(other->ops, c);
    assert_int_not_equal(worker, getpid());
    mount_done(other);
    assert_false(runner_done(&r));
    fake_gate_open();
    runner_join(&r);
    assert_int_equal(r.rc, 0);
    mounts_destroy(&t);
}

int main(int argc, char **argv)
{
    int status = fake_test_main(argc, argv);   /* setup, or a worker's whole run */
    if (status >= 0)
        return status;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(connect_in_process, reset),
        cmocka_unit_test_setup(connect_auth_from_url, reset),
        cmocka_unit_test_setup(readahead_reads, reset),
        cmocka_unit_test_setup(connect_failures, reset),
        cmocka_unit_test_setup(prepare_target_failure, reset),
        cmocka_unit_test_setup(probe_prepare_preinits, reset),
        cmocka_unit_test_setup(probe_footprints, reset),
        cmocka_unit_test_setup(probe_session_ids, reset),
        cmocka_unit_test_setup(probe_shared_sessions, reset),
        cmocka_unit_test_setup(probe_shared_session_failure, reset),
        cmocka_unit_test_setup(parse_failure, reset),
        cmocka_unit_test_setup(failure_without_status_in_process, reset),
        cmocka_unit_test_setup(failure_without_status_isolated, reset),
        cmocka_unit_test_setup(mounts_connect_once, reset),
        cmocka_unit_test_setup(mounts_wildcard, reset),
        cmocka_unit_test_setup(mounts_refresh_keys, reset),
        cmocka_unit_test_setup(mounts_nested_keys, reset),
        cmocka_unit_test_setup(mounts_per_user_sessions, reset),
        cmocka_unit_test_setup(mounts_concurrent_acquire, reset),
        cmocka_unit_test_setup(mounts_negative_cache, reset),
        cmocka_unit_test_setup(mounts_lost_connection, reset),
        cmocka_unit_test_setup(mounts_lost_after_timeout, reset),
        cmocka_unit_test_setup(mounts_idle_reaper, reset),
        cmocka_unit_test_setup(mounts_blocked_key_in_process, reset),
        cmocka_unit_test_setup(isolated_connect, reset),
        cmocka_unit_test_setup(isolate_flag_off, reset),
        cmocka_unit_test_setup(isolated_failures, reset),
        cmocka_unit_test_setup(isolated_lost_connection, reset),
        cmocka_unit_test_setup(isolated_blocked_key, reset),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fake_backend_cleanup();
    return rc;
}
