/* The one path from a map entry to a connected share, for the FUSE layer
 * and the prober alike: generic target, the backend's part of it, the
 * stages, then the wrappers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isolate.h"
#include "readahead_backend.h"
#include "sharesfs/clock.h"
#include "sharesfs/engine.h"

/* SHARESFS_IN_PROCESS=1 (or the older SHARESFS_SMB_IN_PROCESS=1) keeps
 * every backend in this process, for debuggers; read once. */
static bool in_process(void)
{
    static int cached = -1;
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v < 0) {
        const char *a = getenv("SHARESFS_IN_PROCESS"), *b = getenv("SHARESFS_SMB_IN_PROCESS");
        v = (a && !strcmp(a, "1")) || (b && !strcmp(b, "1"));
        __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    }
    return v;
}

static int no_backend(const char *label, enum sfs_proto proto, struct sfs_status *st)
{
    return sfs_status_set(st, SFS_STAGE_CONNECT, EPROTONOSUPPORT, SFS_DOMAIN_URL, 0, "%s: no %s backend in this build",
                          label, sfs_proto_name(proto));
}

/* The table that connects: the bare backend, or its isolation wrapper. */
static const struct sfs_backend_ops *connecting_ops(enum sfs_proto proto, unsigned flags)
{
    const struct sfs_backend_ops *ops = sfs_backend_for(proto);
    if (ops && (flags & SFS_ENGINE_ISOLATE) && (ops->flags & SFS_BACKEND_ISOLATE) && !in_process())
        ops = sfs_isolated_backend(ops);
    return ops;
}

const struct sfs_backend_ops *sfs_engine_ops(enum sfs_proto proto, unsigned flags)
{
    const struct sfs_backend_ops *ops = connecting_ops(proto, flags);
    return ops && (flags & SFS_ENGINE_READAHEAD) ? sfs_readahead_backend(ops) : ops;
}

int sfs_engine_target_for(const struct sfs_map_entry *e, const struct sfs_config *cfg,
                          const struct sfs_identity *who, struct sfs_target *t, struct sfs_status *st)
{
    int rc = sfs_target_for(e, cfg, who, t, st);
    if (rc < 0)
        return rc;
    const struct sfs_backend_ops *ops = sfs_backend_for(e->url.proto);
    if (!ops)
        rc = sfs_status_set(st, SFS_STAGE_PARSE, EPROTONOSUPPORT, SFS_DOMAIN_URL, 0, "%s: unsupported protocol",
                            t->label);
    else if (ops->prepare_target)
        rc = ops->prepare_target(e, cfg, t, st);
    if (rc < 0)
        sfs_target_free(t);
    return rc;
}

int sfs_engine_target(const struct sfs_map_entry *e, const struct sfs_config *cfg, struct sfs_target *t,
                      struct sfs_status *st)
{
    return sfs_engine_target_for(e, cfg, NULL, t, st);
}

int sfs_engine_connect(const struct sfs_connect_request *req, struct sfs_session *out, struct sfs_server_info *info,
                       char *auth, size_t auth_size, struct sfs_status *st)
{
    const struct sfs_map_entry *e = req->entry;
    memset(out, 0, sizeof(*out));
    struct sfs_target t;
    double t0 = sfs_now_ms();
    int rc = sfs_engine_target_for(e, req->cfg, req->who, &t, st);
    if (rc < 0)
        return rc;
    const struct sfs_backend_ops *ops = connecting_ops(e->url.proto, req->flags);
    const struct sfs_backend_ops *final = sfs_engine_ops(e->url.proto, req->flags);
    if (!ops || !final)
        rc = no_backend(t.label, e->url.proto, st);
    t.reuse_server_answer = req->reuse_server_answer;
    if (rc == 0 && req->ccache && !t.krb5_ccache)
        t.krb5_ccache = strdup(req->ccache);
    if (rc == 0 && auth)
        snprintf(auth, auth_size, "%s", t.auth.uam[0] ? t.auth.uam : t.auth.module ? t.auth.module : "");
    if (rc == 0 && req->stage_cb)
        req->stage_cb(req->stage_ctx, SFS_STAGE_PARSE, sfs_now_ms() - t0, NULL);
    struct sfs_conn *conn = NULL;
    if (rc == 0)
        rc = ops->connect(&t, &conn, info, req->stage_cb, req->stage_ctx, st);
    sfs_target_free(&t);
    if (info && info->auth_used[0] && auth)
        snprintf(auth, auth_size, "%s", info->auth_used);
    if (rc == 0 && final != ops)
        rc = sfs_readahead_wrap(ops, conn, &conn, st);
    /* A failure always carries its cause: a caller answers -st->err, and
     * 0 there would be success for a failed mount. */
    if (rc < 0 && st->err == 0)
        sfs_status_set(st, st->stage ? st->stage : SFS_STAGE_CONNECT, -rc, SFS_DOMAIN_SYS, -rc,
                       "%s: the %s backend failed without saying why (%s)", e->mountpoint ? e->mountpoint : e->key,
                       sfs_proto_name(e->url.proto), strerror(-rc));
    if (rc < 0)
        return rc;
    out->ops = final;
    out->conn = conn;
    return 0;
}

void sfs_session_close(struct sfs_session *s)
{
    if (s->conn)
        s->ops->disconnect(s->conn);
    s->conn = NULL;
}

int sfs_engine_server_info(const struct sfs_url *url, int timeout_ms, struct sfs_server_info *info,
                           struct sfs_server_facts *facts, struct sfs_status *st)
{
    const struct sfs_backend_ops *ops = sfs_backend_for(url->proto);
    if (!ops || !ops->server_info)
        return no_backend(url->host, url->proto, st);
    struct sfs_target t = {.label = url->host, .url = url, .timeout_ms = timeout_ms};
    return ops->server_info(&t, info, facts, st);
}
