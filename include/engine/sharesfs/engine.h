/* The engine: what the FUSE layer and the prober use to reach a share.
 * It knows every backend (the registry), turns a map entry into a target
 * (the generic part, then the backend's prepare_target), connects, and
 * wraps the connection in read-ahead and, for backends that ask for it,
 * a worker process of its own.  Callers then use the returned operations
 * table only: they never name a backend. */
#ifndef SHARESFS_ENGINE_H
#define SHARESFS_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include "sharesfs/backend.h"
#include "sharesfs/config.h"
#include "sharesfs/map.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The bare backend for a protocol, or NULL. */
const struct sfs_backend_ops *sfs_backend_for(enum sfs_proto proto);

/* For tests only: OPS (a fake backend) answers for PROTO from now on,
 * in sfs_backend_for and so everywhere; NULL puts the real one back.
 * Install it before anything asks for PROTO's table (mounts_init,
 * sfs_engine_ops): wrapped tables are made once per inner table.  A test
 * binary that isolates must install it in its worker too (first thing in
 * main, before `--worker` is handled). */
void sfs_backend_override(enum sfs_proto proto, const struct sfs_backend_ops *ops);

/* Wrappers sfs_engine_connect may put around a backend. */
enum {
    SFS_ENGINE_ISOLATE = 1u << 0,    /* a worker process per connection, where the backend asks for it */
    SFS_ENGINE_READAHEAD = 1u << 1,  /* sequential read-ahead for files opened read-only */
};

/* The table sfs_engine_connect hands out for PROTO with FLAGS (the same
 * for every connection), so a caller can tell what a share can do before
 * it connects; NULL when this build has no such backend. */
const struct sfs_backend_ops *sfs_engine_ops(enum sfs_proto proto, unsigned flags);

/* A connected share: call OPS on CONN, nothing else. */
struct sfs_session {
    const struct sfs_backend_ops *ops;
    struct sfs_conn *conn;
};

struct sfs_connect_request {
    const struct sfs_map_entry *entry;
    const struct sfs_config *cfg;
    const char *ccache;              /* Kerberos ccache of the user whose access connects; NULL: the default */
    const struct sfs_identity *who;  /* multiuser: the user the session is for (sfs_target_for); NULL: none */
    unsigned flags;                  /* SFS_ENGINE_* */
    sfs_stage_cb stage_cb;           /* may be NULL */
    void *stage_ctx;
    bool reuse_server_answer;        /* sfs_target.reuse_server_answer (the prober) */
};

/* Entry -> target: the generic part (sfs_target_from_entry), then the
 * backend's (prepare_target).  Free with sfs_target_free. */
int sfs_engine_target(const struct sfs_map_entry *e, const struct sfs_config *cfg, struct sfs_target *t,
                      struct sfs_status *st);
/* The same for one user's own session (multiuser; WHO NULL: as above). */
int sfs_engine_target_for(const struct sfs_map_entry *e, const struct sfs_config *cfg,
                          const struct sfs_identity *who, struct sfs_target *t, struct sfs_status *st);

/* Entry -> target -> connect, with the wrappers FLAGS ask for.  AUTH gets
 * the auth module tried (the UAM or module name), INFO what the server
 * said; both are filled as far as the stages got, also on failure. */
int sfs_engine_connect(const struct sfs_connect_request *req, struct sfs_session *out, struct sfs_server_info *info,
                       char *auth, size_t auth_size, struct sfs_status *st);
void sfs_session_close(struct sfs_session *s);

/* What the server of URL says about itself, without logging in. */
int sfs_engine_server_info(const struct sfs_url *url, int timeout_ms, struct sfs_server_info *info,
                           struct sfs_server_facts *facts, struct sfs_status *st);

/* `sharesfs --worker LABEL`: a worker process (process isolation) serving
 * one connection on the descriptors it was started with, until its
 * socket closes.  Returns the exit status. */
int sfs_worker_main(void);

#ifdef __cplusplus
}
#endif
#endif
