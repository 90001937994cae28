#include "sharesfs/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sharesfs/clock.h"
#include "sharesfs/engine.h"
#include "probe_session.h"

static void on_stage(void *ctx, enum sfs_stage stage, double ms, const struct sfs_status *st)
{
    (void)st;
    struct sfs_probe_result *r = ctx;
    r->ran[stage] = true;
    r->ms[stage] = ms;
    r->reached = stage;
}

struct list_state {
    struct sfs_probe_result *r;
    char first_file[512];
    char first_hidden[512];   /* a dot file: read only when there is nothing else */
};

/* The read stage reads the first regular file listed, preferring one whose
 * name does not start with '.': dot files come and go (another client's
 * temporary file, .DS_Store), and one deleted between list and read made
 * a healthy share fail with ENOENT. */
static int on_dirent(void *ctx, const char *name, const struct stat *st)
{
    struct list_state *ls = ctx;
    ls->r->listed++;
    char *slot = name[0] == '.' ? ls->first_hidden : ls->first_file;
    if (!slot[0] && S_ISREG(st->st_mode))
        snprintf(slot, sizeof(ls->first_file), "%s", name);
    return 0;
}

static void describe_entry(const struct sfs_map_entry *e, struct sfs_probe_result *r)
{
    snprintf(r->key, sizeof(r->key), "%s", e->key ? e->key : "");
    snprintf(r->mountpoint, sizeof(r->mountpoint), "%s", e->mountpoint ? e->mountpoint : (e->key ? e->key : ""));
    if (e->line > 0)
        snprintf(r->source, sizeof(r->source), "%s:%d", e->file, e->line);
    else /* a directory record: its DN */
        snprintf(r->source, sizeof(r->source), "%s", e->file);
    if (e->url_ok) {
        char *display = sfs_url_to_display(&e->url);
        snprintf(r->url, sizeof(r->url), "%s", display ? display : "");
        free(display);
        snprintf(r->protocol, sizeof(r->protocol), "%s", sfs_proto_name(e->url.proto));
    } else {
        snprintf(r->url, sizeof(r->url), "%s", e->location_display ? e->location_display : "");
    }
}

/* The failing stage reports no time of its own: it is what the connect
 * call spent beyond the stages that completed. */
static void note_failed_stage_time(struct sfs_probe_result *r, double connect_ms)
{
    double done = 0;
    for (int s = SFS_STAGE_RESOLVE; s < SFS_STAGE_COUNT; s++)
        done += r->ran[s] ? r->ms[s] : 0;
    enum sfs_stage failed = r->status.stage;
    if (failed > SFS_STAGE_NONE && failed < SFS_STAGE_COUNT && !r->ran[failed]) {
        r->ran[failed] = true;
        r->ms[failed] = connect_ms > done ? connect_ms - done : 0;
    }
}

static int stage_list_and_read(const struct sfs_backend_ops *ops, struct sfs_conn *conn,
                               const struct sfs_probe_options *opts, struct sfs_probe_result *r)
{
    struct list_state ls = {.r = r};
    double t0 = sfs_now_ms();
    int rc = ops->readdir(conn, "/", on_dirent, &ls, &r->status);
    if (rc < 0)
        return rc;
    on_stage(r, SFS_STAGE_LIST, sfs_now_ms() - t0, NULL);
    if (opts && opts->skip_read)
        return 0;
    const char *path = opts && opts->read_path ? opts->read_path : ls.first_file[0] ? ls.first_file : ls.first_hidden;
    if (!path[0])
        return 0;   /* an empty share: nothing to read, not a failure */
    snprintf(r->read_path, sizeof(r->read_path), "%s", path);
    t0 = sfs_now_ms();
    struct sfs_file *f = NULL;
    rc = ops->open(conn, path, O_RDONLY, &f, &r->status);
    if (rc < 0)
        return rc;
    char *buf = malloc(SFS_PROBE_READ_BYTES);
    ssize_t n = buf ? ops->read(conn, f, buf, SFS_PROBE_READ_BYTES, 0, &r->status) : -ENOMEM;
    free(buf);
    ops->release(conn, f);
    if (n < 0) {
        if (r->status.err == 0)
            sfs_status_set(&r->status, SFS_STAGE_READ, (int)-n, SFS_DOMAIN_SYS, -n, "read: %s", strerror((int)-n));
        return (int)n;
    }
    r->read_bytes = (size_t)n;
    on_stage(r, SFS_STAGE_READ, sfs_now_ms() - t0, NULL);
    return 0;
}

void sfs_engine_probe_prepare(const struct sfs_map_entry *const *entries, size_t n, const struct sfs_config *cfg)
{
    bool done[SFS_PROTO_SMB + 1] = {false};
    for (size_t i = 0; i < n; i++) {
        const struct sfs_map_entry *e = entries[i];
        if (!e->url_ok || (unsigned)e->url.proto >= sizeof(done) / sizeof(done[0]) || done[e->url.proto])
            continue;
        done[e->url.proto] = true;
        const struct sfs_backend_ops *ops = sfs_backend_for(e->url.proto);
        if (ops && ops->preinit)
            ops->preinit(cfg);
    }
}

void sfs_engine_probe_footprint(const struct sfs_map_entry *e, const struct sfs_config *cfg, char *out, size_t size)
{
    struct sfs_target t;
    struct sfs_status st;
    const struct sfs_backend_ops *ops = e->url_ok ? sfs_backend_for(e->url.proto) : NULL;
    if (!ops || !(ops->flags & SFS_BACKEND_PROCESS_CONFIG) || sfs_engine_target(e, cfg, &t, &st) < 0) {
        snprintf(out, size, "%s", "");
        return;
    }
    snprintf(out, size, "%s %s", sfs_proto_name(e->url.proto), t.client_conf ? t.client_conf : "(default)");
    sfs_target_free(&t);
}

/* ENTRY listed and read on K, another entry's session; false (R as
 * before but for session_lost, which says why) when that failed or needed
 * a new login: then ENTRY is probed afresh, so every failure reported is
 * that of its own stages. */
static bool probe_on_kept_session(struct probe_kept_session *k, const struct sfs_probe_options *opts,
                                  struct sfs_probe_result *r)
{
    struct sfs_probe_result before = *r;
    uint64_t relogins = probe_session_relogins(k);
    int rc = stage_list_and_read(k->s.ops, k->s.conn, opts, r);
    bool relogged = probe_session_relogins(k) != relogins;
    if (rc < 0 || r->status.err || relogged) {
        char why[sizeof(r->session_lost)];
        if (r->status.err)
            snprintf(why, sizeof(why), "%s of %.64s's session: %s: %.250s", sfs_stage_name(r->status.stage), k->owner,
                     sfs_errno_name(r->status.err) ? sfs_errno_name(r->status.err) : "error", r->status.detail);
        else if (rc < 0)
            snprintf(why, sizeof(why), "%.64s's session: %s", k->owner, strerror(-rc));
        else
            snprintf(why, sizeof(why), "%.64s's session: the library logged in again during list and read", k->owner);
        *r = before;
        snprintf(r->session_lost, sizeof(r->session_lost), "%s", why);
        sfs_probe_sessions_close();
        return false;
    }
    r->server = k->server;
    snprintf(r->auth, sizeof(r->auth), "%s", k->auth);
    snprintf(r->session_of, sizeof(r->session_of), "%s", k->owner);
    return true;
}

void sfs_probe_entry(const struct sfs_map_entry *entry, const struct sfs_config *cfg,
                     const struct sfs_probe_options *opts, struct sfs_probe_result *r)
{
    memset(r, 0, sizeof(*r));
    describe_entry(entry, r);
    char *id = opts && opts->share_sessions ? sfs_engine_probe_session_id(entry) : NULL;
    const char *gone = NULL;
    struct probe_kept_session *k = probe_session_for(id, &gone);
    if (k && probe_on_kept_session(k, opts, r)) {
        sfs_engine_probe_session_id_free(id);
        return;
    }
    if (gone)
        snprintf(r->session_lost, sizeof(r->session_lost), "%s", gone);
    /* Each probe runs in a process of its own (afptest), and reads one
     * small block: no worker process, no read-ahead. */
    struct sfs_connect_request req = {.entry = entry, .cfg = cfg, .stage_cb = on_stage, .stage_ctx = r,
                                      .reuse_server_answer = opts && opts->reuse_server_answers};
    struct sfs_session s;
    double t0 = sfs_now_ms();
    int rc = sfs_engine_connect(&req, &s, &r->server, r->auth, sizeof(r->auth), &r->status);
    if (rc < 0) {
        if (r->ran[SFS_STAGE_PARSE])   /* failures before that have no stage time */
            note_failed_stage_time(r, sfs_now_ms() - t0);
        sfs_engine_probe_session_id_free(id);
        return;
    }
    rc = stage_list_and_read(s.ops, s.conn, opts, r);
    if (id && rc == 0 && r->status.err == 0) {
        probe_session_keep(id, &s, r);
        return;
    }
    sfs_session_close(&s);
    sfs_engine_probe_session_id_free(id);
}
