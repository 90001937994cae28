/* SMB backend over libsmbclient.
 * Debian's libsmbclient keeps its talloc stack frames and loadparm state
 * process-wide and does not export smbc_thread_posix(), so calls from two
 * threads at once corrupt it even on separate contexts (seen: aborts in
 * lp_load_global, "Freed frame" warnings).  Every libsmbclient call is
 * therefore made under one process-wide lock; large reads still go fast
 * because smbc_read pipelines internally.  afptest gets its concurrency by
 * probing each entry in its own process instead.
 * Stages before libsmbclient's all-in-one connect (resolve, connect,
 * negotiate) are done by us so failures land in the right stage (a prober
 * may take the NEGOTIATE answer of an earlier connect instead: see
 * smb_connect); the rest is attributed from libsmbclient's log
 * (smb_capture). */
#include <errno.h>
#include <fcntl.h>
#include <libsmbclient.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "sharesfs/answer_cache.h"
#include "sharesfs/clock.h"
#include "sharesfs/krb5_preflight.h"
#include "sharesfs/net.h"
#include "sharesfs/backend.h"
#include "smb_backend.h"
#include "smb_ccache.h"
#include "smb_negotiate.h"
#include "smb_ntstatus_capture.h"
#include "smb_lib.h"
#include "smb_statvfs.h"
#include "smb_url.h"

struct sfs_conn {
    char *base_url;          /* smb://host/share[/path], percent-encoded (smb_url.h) */
    char *user, *domain, *password;
    enum sfs_auth_kind auth;
    char min_proto[16], max_proto[16];
    char *smb_conf;
    char *krb5_ccache;
    char *ccache_copy;        /* a private copy of a user's ccache (smb_ccache.c), removed at the end */
    uint16_t port;
    int timeout_ms;
    SMBCCTX *ctx;
    bool dead;               /* the session is gone (see session_lost) */
    uint64_t relogins;       /* sessions libsmbclient set up again by itself */
};

struct sfs_file {
    SMBCFILE *fh;
    bool read_only;
    off_t size;                 /* read-only handles: the size last seen; -1 unknown */
    char path[];                /* as opened: failures on the handle name it */
};

/* Held around every libsmbclient call (see the top of this file); taken
 * only by smb_call_begin. */
static pthread_mutex_t smb_lib_lock = PTHREAD_MUTEX_INITIALIZER;

static void smb_auth_cb(SMBCCTX *ctx, const char *srv, const char *shr, char *wg, int wglen,
                        char *un, int unlen, char *pw, int pwlen)
{
    (void)srv;
    (void)shr;
    struct sfs_conn *c = smb_lib.smbc_getOptionUserData(ctx);
    /* An empty user name is libsmbclient's way of asking for anonymous. */
    if (c->auth == SFS_AUTH_NONE) {
        un[0] = pw[0] = '\0';
        return;
    }
    snprintf(un, unlen, "%s", c->user ? c->user : (c->auth == SFS_AUTH_KRB5 ? "krb5" : ""));
    snprintf(pw, pwlen, "%s", c->password ? c->password : "");
    if (c->domain)
        snprintf(wg, wglen, "%s", c->domain);
}

static SMBCCTX *smb_context_failed(SMBCCTX *ctx, struct sfs_status *st)
{
    int err = errno ? errno : EIO;
    if (ctx)
        smb_lib.smbc_free_context(ctx, 1);
    sfs_status_set(st, SFS_STAGE_AUTHENTICATE, err, SFS_DOMAIN_SYS, err, "cannot initialise libsmbclient: %s",
                   strerror(err));
    return NULL;
}

/* Called inside an smb_call (it holds the lock).  NULL with *ST set when
 * libsmbclient cannot be set up for C. */
static SMBCCTX *smb_context_new(struct sfs_conn *c, struct sfs_status *st)
{
    SMBCCTX *ctx = smb_lib.smbc_new_context();
    if (!ctx)
        return smb_context_failed(NULL, st);
    smb_capture_attach(ctx);
    /* smb_prepare_target checked that the file can be read: this is its
     * content (a section or line Samba's parser stops at). */
    if (c->smb_conf && smb_lib_configure(ctx, c->smb_conf) < 0) {
        smb_lib.smbc_free_context(ctx, 1);
        sfs_status_set(st, SFS_STAGE_AUTHENTICATE, EINVAL, SFS_DOMAIN_CONFIG, 0,
                       "libsmbclient cannot load the client smb.conf '%s' (testparm -s names the line)", c->smb_conf);
        return NULL;
    }
    /* Without this a refused login silently becomes an anonymous session and
     * the user sees ACCESS_DENIED instead of the real cause. */
    smb_lib.smbc_setOptionNoAutoAnonymousLogin(ctx, 1);
    smb_lib.smbc_setFunctionAuthDataWithContext(ctx, smb_auth_cb);
    smb_lib.smbc_setOptionUserData(ctx, c);
    smb_lib.smbc_setTimeout(ctx, c->timeout_ms);
    if (c->port)
        smb_lib.smbc_setPort(ctx, c->port);
    smb_lib.smbc_setOptionProtocols(ctx, c->min_proto, c->max_proto);
    if (c->auth == SFS_AUTH_KRB5) {
        /* libsmbclient's Kerberos reads KRB5CCNAME. */
        if (c->krb5_ccache)
            setenv("KRB5CCNAME", c->krb5_ccache, 1);
        smb_lib.smbc_setOptionUseKerberos(ctx, 1);
        smb_lib.smbc_setOptionFallbackAfterKerberos(ctx, 0);
        smb_lib.smbc_setOptionUseCCache(ctx, 1);
    }
    return smb_lib.smbc_init_context(ctx) ? ctx : smb_context_failed(ctx, st);
}

/* ---- one request path: every libsmbclient call goes through smb_call ---- */

/* An operation on a connection: smb_call_begin takes the process-wide lock,
 * each libsmbclient call is checked with smb_call_check right after it
 * returns (errno is still its own), and smb_call_end lets go, returning 0
 * or the -errno of the first failure, whose status names the step and the
 * path.  Failures are attributed from libsmbclient's log (smb_capture). */
struct smb_call {
    struct sfs_conn *conn;
    struct sfs_status *st;
    enum sfs_stage stage;
    const char *step;        /* what the detail says failed: "stat", "seek" */
    const char *path;        /* relative to the mount root; NULL: the share itself */
    uint64_t sessions;       /* sessions seen at begin (see smb_call_end) */
    bool locked;
    int rc;                  /* 0, or the -errno of the first failure */
    char *url;               /* PATH's URL, malloc'd (smb_call_begin_path only) */
};

/* A failed operation whose cause says the session is gone: the
 * connection is reported dead and replaced on next use (a fresh login),
 * rather than left to libsmbclient, which retries on the dead session
 * first (another full timeout against a server that stopped answering). */
static bool session_lost(int err)
{
    return err == ETIMEDOUT || err == ECONNRESET || err == ECONNABORTED || err == EPIPE ||
           err == ENOTCONN || err == ESHUTDOWN || err == ENETRESET;
}

/* The errno a failed call stands for: its NTSTATUS's when the log showed one. */
static int smb_failure_errno(int sys_err)
{
    struct smb_capture *cap = smb_capture_current();
    if (cap->have_status)
        return sfs_errno_for_ntstatus(cap->status);
    return sys_err ? sys_err : EIO;
}

/* errno and stage for a failed libsmbclient call, from what its log showed. */
static int smb_fail(struct sfs_status *st, enum sfs_stage stage, int sys_err, const char *what)
{
    struct smb_capture *cap = smb_capture_current();
    int err = smb_failure_errno(sys_err);
    if (cap->have_status) {
        const char *name = sfs_ntstatus_name(cap->status);
        return sfs_status_set(st, stage, err, SFS_DOMAIN_SMB, cap->status, "%s failed: %s", what,
                              name ? name : "unknown NTSTATUS");
    }
    return sfs_status_set(st, stage, err, SFS_DOMAIN_SYS, sys_err, "%s failed: %s", what, strerror(err));
}

/* PATH's URL, malloc'd into *URL, or the status of a path that cannot be
 * sent (nothing is): a name longer than servers store (POSIX's
 * ENAMETOOLONG rather than the server's OBJECT_NAME_INVALID, EINVAL), or a
 * path longer than SMB carries.  Any shorter path goes to the server,
 * which refuses what it refuses. */
static int smb_path_url(const struct sfs_conn *c, enum sfs_stage stage, const char *step, const char *path,
                        char **url, struct sfs_status *st)
{
    *url = NULL;
    int rc = sfs_path_check(path, stage, step, st);
    if (rc < 0)
        return rc;
    rc = smb_url_for(c->base_url, path, url);
    if (rc == -ENAMETOOLONG)
        return sfs_status_set(st, stage, ENAMETOOLONG, SFS_DOMAIN_SYS, ENAMETOOLONG,
                              "%s \"%.80s...\": path longer than SMB carries (%zu characters, at most %d)", step,
                              path, sfs_utf16_units(path, strlen(path)), SMB_PATH_MAX_UTF16);
    if (rc < 0)
        return sfs_status_set(st, stage, -rc, SFS_DOMAIN_SYS, -rc, "%s: out of memory", step);
    return 0;
}

static void smb_call_begin(struct smb_call *call, struct sfs_conn *c, enum sfs_stage stage, const char *step,
                           const char *path, struct sfs_status *st)
{
    call->conn = c;
    call->st = st;
    call->stage = stage;
    call->step = step;
    call->path = path;
    call->rc = 0;
    call->url = NULL;
    pthread_mutex_lock(&smb_lib_lock);
    call->locked = true;
    call->sessions = smb_capture_sessions();
    smb_capture_begin();
}

/* The same for an operation on PATH, whose URL it puts in call->url
 * first; false (and nothing to do but smb_call_end) when PATH cannot be
 * sent (smb_path_url). */
static bool smb_call_begin_path(struct smb_call *call, struct sfs_conn *c, enum sfs_stage stage, const char *step,
                                const char *path, struct sfs_status *st)
{
    char *url;
    int rc = smb_path_url(c, stage, step, path, &url, st);
    if (rc < 0) {
        *call = (struct smb_call){.st = st, .rc = rc};
        return false;
    }
    smb_call_begin(call, c, stage, step, path, st);
    call->url = url;
    return true;
}

/* The next libsmbclient call of the same operation: a failure is named
 * after it, and attributed from its own log lines only. */
static void smb_call_step(struct smb_call *call, const char *step)
{
    call->step = step;
    smb_capture_begin();
}

#define SMB_NT_STATUS_OBJECT_PATH_NOT_FOUND 0xc000003au
#define SMB_NT_STATUS_OBJECT_NAME_INVALID 0xc0000033u
/* Servers refuse a path longer than their own filesystem resolves (Samba
 * 4.17/4.22 with OBJECT_PATH_NOT_FOUND past about 4098 bytes, 4.13 with
 * OBJECT_NAME_INVALID near 4090) as if it did not exist or were invalid.
 * From this length on, when the folder it names does exist, that is the
 * cause, and ENAMETOOLONG what a local filesystem says. */
#define SMB_LONG_PATH 3072

/* Whether CALL's failure is the server's path limit: a long path, one of
 * those statuses, and a parent folder that stat finds (under the lock
 * still: one more request, only on this failure). */
static bool smb_path_beyond_server(const struct smb_call *call)
{
    const struct sfs_status *st = call->st;
    if (!call->url || !call->path || strlen(call->path) < SMB_LONG_PATH || st->domain != SFS_DOMAIN_SMB ||
        (st->code != SMB_NT_STATUS_OBJECT_PATH_NOT_FOUND && st->code != SMB_NT_STATUS_OBJECT_NAME_INVALID))
        return false;
    char *parent = strdup(call->url);
    char *slash = parent ? strrchr(parent, '/') : NULL;
    bool exists = false;
    if (slash) {
        *slash = '\0';
        struct stat sb;
        SMBCCTX *ctx = call->conn->ctx;
        exists = smb_lib.smbc_getFunctionStat(ctx)(ctx, parent, &sb) == 0 && S_ISDIR(sb.st_mode);
    }
    free(parent);
    return exists;
}

/* Records a failure of the current step (SYS_ERR: its errno).  The detail
 * names it and the path ('stat "/a/b" failed: ...'), a long path cut so
 * that the cause still fits. */
static void smb_call_fail(struct smb_call *call, int sys_err)
{
    char what[400];
    if (call->path)
        snprintf(what, sizeof(what), "%s \"%.300s%s\"", call->step, call->path,
                 strlen(call->path) > 300 ? "..." : "");
    else
        snprintf(what, sizeof(what), "%s", call->step);
    call->rc = smb_fail(call->st, call->stage, sys_err, what);
    if (smb_path_beyond_server(call))
        call->rc = sfs_status_set(call->st, call->stage, ENAMETOOLONG, SFS_DOMAIN_SMB, call->st->code,
                                  "%s \"%.80s...\": the server refused a path of %zu bytes in a folder that"
                                  " exists (%s): longer than it resolves", call->step, call->path, strlen(call->path),
                                  sfs_ntstatus_name((uint32_t)call->st->code));
    if (session_lost(call->st->err))
        __atomic_store_n(&call->conn->dead, true, __ATOMIC_RELAXED);
}

/* Call straight after the libsmbclient call: SUCCEEDED is its result's
 * test, and on failure errno still holds its cause. */
static bool smb_call_check(struct smb_call *call, bool succeeded)
{
    if (!succeeded)
        smb_call_fail(call, errno);
    return succeeded;
}

/* libsmbclient silently reconnects (and logs in again) when it finds its
 * session gone; counted here so status.json shows it. */
static int smb_call_end(struct smb_call *call)
{
    free(call->url);
    call->url = NULL;
    if (!call->locked)
        return call->rc;
    uint64_t now = smb_capture_sessions();
    if (now != call->sessions)
        __atomic_add_fetch(&call->conn->relogins, now - call->sessions, __ATOMIC_RELAXED);
    call->locked = false;
    pthread_mutex_unlock(&smb_lib_lock);
    return call->rc;
}

/* ---- connect ---- */

static enum sfs_stage connect_failure_stage(const struct smb_capture *cap)
{
    enum sfs_stage by_log = cap->session_ok ? SFS_STAGE_MOUNT
                          : cap->session_started ? SFS_STAGE_AUTHENTICATE
                          : SFS_STAGE_NEGOTIATE;
    if (!cap->have_status)
        return by_log;
    /* A status that only one stage can produce wins over the log markers. */
    return sfs_stage_for_ntstatus(cap->status, by_log);
}

static void conn_free(struct sfs_conn *c)
{
    if (!c)
        return;
    if (c->ctx) {
        /* Teardown: nothing to report, but still under the lock. */
        struct sfs_status ignored;
        struct smb_call call;
        smb_call_begin(&call, c, SFS_STAGE_NONE, "disconnect", NULL, &ignored);
        smb_lib.smbc_free_context(c->ctx, 1);
        smb_call_end(&call);
    }
    free(c->base_url);
    free(c->user);
    free(c->domain);
    if (c->password) {
        explicit_bzero(c->password, strlen(c->password));
        free(c->password);
    }
    free(c->smb_conf);
    free(c->krb5_ccache);
    if (c->ccache_copy) {
        unlink(c->ccache_copy);
        free(c->ccache_copy);
    }
    free(c);
}

/* Answers kept for reuse_server_answer are per dialect range offered. */
static void negotiate_kind(const struct sfs_target *t, char *kind, size_t size)
{
    snprintf(kind, size, "smb %s..%s", t->dialect_min, t->dialect_max);
}

/* Resolve, then our NEGOTIATE on a connection of its own, or the answer
 * kept from an earlier connect (reuse_server_answer) unless ASK (the new
 * answer replaces it). */
static int stage_resolve_negotiate(const struct sfs_target *t, bool ask, struct sfs_server_info *info,
                                   sfs_stage_cb cb, void *cb_ctx, struct sfs_status *st)
{
    struct sfs_addr addr;
    int rc = sfs_stage_resolve(t, &addr, info, cb, cb_ctx, st);
    if (rc < 0)
        return rc;
    char kind[64];
    negotiate_kind(t, kind, sizeof(kind));
    struct smb_negotiate_result neg;
    if (ask || !t->reuse_server_answer ||
        !sfs_answer_cache_get(kind, &addr, &neg, sizeof(neg), info->answer_of, sizeof(info->answer_of))) {
        int fd = sfs_stage_connect(t, &addr, cb, cb_ctx, st);
        if (fd < 0)
            return fd;
        double t0 = sfs_now_ms();
        rc = smb_negotiate_probe(fd, smb_dialect_from_name(t->dialect_min), smb_dialect_from_name(t->dialect_max),
                                 t->timeout_ms, &neg, st);
        close(fd);
        if (rc < 0 && t->reuse_server_answer)
            sfs_answer_cache_forget(kind, &addr);
        if (rc < 0)
            return rc;
        if (cb)
            cb(cb_ctx, SFS_STAGE_NEGOTIATE, sfs_now_ms() - t0, NULL);
        if (t->reuse_server_answer)
            sfs_answer_cache_put(kind, &addr, &neg, sizeof(neg), t->label);
    }
    snprintf(info->dialect, sizeof(info->dialect), "%s", smb_dialect_name(neg.dialect));
    info->flags = neg.security_mode;
    info->encrypted = (neg.capabilities & 0x40) != 0 || neg.dialect == SMB_DIALECT_SMB3_11;
    return 0;
}

/* A copy of S, or NULL for NULL; false when out of memory. */
static bool copy_optional(char **out, const char *s)
{
    *out = s ? strdup(s) : NULL;
    return !s || *out;
}

/* The connection's settings from T, before any libsmbclient call. */
static int conn_new(const struct sfs_target *t, struct sfs_conn **out, struct sfs_status *st)
{
    struct sfs_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return sfs_status_set(st, SFS_STAGE_MOUNT, ENOMEM, SFS_DOMAIN_SYS, ENOMEM, "out of memory");
    bool copied = copy_optional(&c->user, t->creds.user) && copy_optional(&c->domain, t->creds.domain) &&
                  copy_optional(&c->password, t->creds.password) && copy_optional(&c->smb_conf, t->client_conf) &&
                  copy_optional(&c->krb5_ccache, t->krb5_ccache);
    c->auth = t->auth.kind;
    c->port = (uint16_t)t->url->port;
    c->timeout_ms = t->timeout_ms;
    snprintf(c->min_proto, sizeof(c->min_proto), "%s", t->dialect_min);
    snprintf(c->max_proto, sizeof(c->max_proto), "%s", t->dialect_max);
    int rc = copied ? smb_url_base(t->url, &c->base_url) : -ENOMEM;
    if (rc == -ENAMETOOLONG)
        rc = sfs_status_set(st, SFS_STAGE_PARSE, ENAMETOOLONG, SFS_DOMAIN_URL, 0,
                            "URL path longer than SMB carries (at most %d characters)", SMB_PATH_MAX_UTF16);
    else if (rc < 0)
        rc = sfs_status_set(st, SFS_STAGE_MOUNT, -rc, SFS_DOMAIN_SYS, -rc, "out of memory");
    if (rc < 0) {
        conn_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

/* libsmbclient connects, logs in and connects the tree all in its first
 * call on the share: the failure's stage is judged from its log. */
static void smb_login_failed(struct smb_call *call, const char *folder, int sys_err)
{
    struct smb_capture *cap = smb_capture_current();
    call->stage = connect_failure_stage(cap);
    call->step = call->stage == SFS_STAGE_MOUNT ? "tree connect"
               : call->stage == SFS_STAGE_AUTHENTICATE ? "session setup" : "connect";
    if (call->stage == SFS_STAGE_MOUNT && cap->tcon_ok && folder && folder[0]) {
        /* The share is there: the URL's folder in it is what failed. */
        call->step = "the URL's folder";
        call->path = folder;
    }
    smb_call_fail(call, sys_err);
    struct sfs_status *st = call->st;
    if (cap->last_error[0] && !cap->have_status)
        snprintf(st->detail + strlen(st->detail), sizeof(st->detail) - strlen(st->detail), " (%s)",
                 cap->last_error);
}

/* The context and the login: a stat of the URL's folder (FOLDER: its path
 * in the share, "" for the share itself), which connects, logs in and
 * connects the tree.  Not a listing: the folder's entries are the list
 * stage's, and a big share root would be listed twice per probe and once
 * more at every mount's connect.  *T_END: when the login's answer came. */
static int smb_login(struct sfs_conn *c, const char *folder, double *t_end, struct sfs_status *st)
{
    struct smb_call call;
    smb_call_begin(&call, c, SFS_STAGE_AUTHENTICATE, "connect", NULL, st);
    int loaded = smb_lib_open(SFS_STAGE_AUTHENTICATE, st);
    c->ctx = loaded < 0 ? NULL : smb_context_new(c, st);
    if (loaded < 0) {
        call.rc = loaded;
    } else if (!c->ctx) {
        call.rc = -st->err;
    } else {
        smb_call_step(&call, "connect");
        struct stat sb;
        int rc = smb_lib.smbc_getFunctionStat(c->ctx)(c->ctx, c->base_url, &sb);
        int err = errno;
        *t_end = sfs_now_ms();
        if (rc < 0)
            smb_login_failed(&call, folder, err);
        else if (!S_ISDIR(sb.st_mode))
            call.rc = sfs_status_set(st, SFS_STAGE_MOUNT, ENOTDIR, SFS_DOMAIN_SYS, ENOTDIR,
                                     "the URL's folder \"%.300s\" is a file, not a folder", folder);
    }
    /* This session is our login, not libsmbclient logging in again. */
    call.sessions = smb_capture_sessions();
    return smb_call_end(&call);
}

static int smb_connect_once(const struct sfs_target *t, bool ask, struct sfs_conn **out,
                            struct sfs_server_info *info, sfs_stage_cb cb, void *cb_ctx, struct sfs_status *st)
{
    memset(info, 0, sizeof(*info));
    int rc = stage_resolve_negotiate(t, ask, info, cb, cb_ctx, st);
    struct sfs_conn *c = NULL;
    if (rc == 0)
        rc = conn_new(t, &c, st);
    if (rc < 0)
        return rc;

    double t0 = sfs_now_ms();
    if (t->auth.kind == SFS_AUTH_KRB5) {
        /* Kerberos required, no fallback: say why before libsmbclient does
         * (it would only report INVALID_PARAMETER or LOGON_FAILURE). */
        struct krb5_preflight pf;
        rc = sfs_krb5_preflight(t->krb5_ccache, NULL, "cifs", t->url->host, NULL, &pf, st);
        if (rc < 0) {
            conn_free(c);
            return rc;
        }
    }
    if (c->auth == SFS_AUTH_KRB5) {
        char *name = NULL, *copy = NULL;
        const char *cc = c->krb5_ccache ? c->krb5_ccache : getenv("KRB5CCNAME");
        int cr = smb_ccache_private_copy(cc, &name, &copy);
        if (cr < 0) {
            conn_free(c);
            return sfs_status_set(st, SFS_STAGE_AUTHENTICATE, -cr, SFS_DOMAIN_SYS, -cr,
                                  "%s: cannot copy the Kerberos ccache %s for libsmbclient: %s", t->label, cc,
                                  strerror(-cr));
        }
        if (cr > 0) {
            free(c->krb5_ccache);
            c->krb5_ccache = name;
            c->ccache_copy = copy;
        }
    }
    double t_end = t0;
    rc = smb_login(c, t->url->path ? t->url->path : "", &t_end, st);
    /* The capture is this thread's: still the login's after smb_call_end. */
    const struct smb_capture *cap = smb_capture_current();
    if (rc < 0) {
        if (cb && cap->session_ok)
            cb(cb_ctx, SFS_STAGE_AUTHENTICATE, cap->session_ok_at - t0, NULL);
        conn_free(c);
        return rc;
    }
    if (cb) {
        double t_auth = cap->session_ok ? cap->session_ok_at : t_end;
        cb(cb_ctx, SFS_STAGE_AUTHENTICATE, t_auth - t0, NULL);
        cb(cb_ctx, SFS_STAGE_MOUNT, t_end - t_auth, NULL);
    }
    *out = c;
    return 0;
}

/* A login that fails before its session setup on a NEGOTIATE answer kept
 * from another connect (reuse_server_answer) is tried once more asking the
 * server itself, so that the row is what a connect of its own gives (our
 * NEGOTIATE names the stage).  libsmbclient's log says whether it got as
 * far as sending the session setup, whatever stage its status maps to. */
static int smb_connect(const struct sfs_target *t, struct sfs_conn **out, struct sfs_server_info *info,
                       sfs_stage_cb cb, void *cb_ctx, struct sfs_status *st)
{
    struct sfs_server_info scratch;
    if (!info)
        info = &scratch;
    int rc = smb_connect_once(t, false, out, info, cb, cb_ctx, st);
    if (rc == 0 || !sfs_kept_answer_retry(info, st) || smb_capture_current()->session_started)
        return rc;
    memset(st, 0, sizeof(*st));
    return smb_connect_once(t, true, out, info, cb, cb_ctx, st);
}

static void smb_disconnect(struct sfs_conn *c)
{
    conn_free(c);
}

/* ---- the read side ---- */

static int smb_getattr(struct sfs_conn *c, const char *path, struct stat *out, struct sfs_status *st)
{
    struct smb_call call;
    if (smb_call_begin_path(&call, c, SFS_STAGE_LIST, "stat", path, st))
        smb_call_check(&call, smb_lib.smbc_getFunctionStat(c->ctx)(c->ctx, call.url, out) >= 0);
    return smb_call_end(&call);
}

/* Passes DIR's entries but "." and ".." to CB, then closes it.  opendir
 * fetched the whole listing: nothing here can fail. */
static void smb_list_and_close(SMBCCTX *ctx, SMBCFILE *dir, sfs_dirent_cb cb, void *cb_ctx)
{
    smbc_readdirplus2_fn next = smb_lib.smbc_getFunctionReaddirPlus2(ctx);
    const struct libsmb_file_info *fi;
    struct stat sb;
    while ((fi = next(ctx, dir, &sb)) != NULL) {
        if (strcmp(fi->name, ".") && strcmp(fi->name, "..") && cb(cb_ctx, fi->name, &sb))
            break;
    }
    smb_lib.smbc_getFunctionClosedir(ctx)(ctx, dir);
}

static int smb_readdir(struct sfs_conn *c, const char *path, sfs_dirent_cb cb, void *cb_ctx, struct sfs_status *st)
{
    struct smb_call call;
    if (smb_call_begin_path(&call, c, SFS_STAGE_LIST, "opendir", path, st)) {
        SMBCFILE *dir = smb_lib.smbc_getFunctionOpendir(c->ctx)(c->ctx, call.url);
        if (smb_call_check(&call, dir != NULL))
            smb_list_and_close(c->ctx, dir, cb, cb_ctx);
    }
    return smb_call_end(&call);
}

static int smb_statfs(struct sfs_conn *c, const char *path, struct statvfs *out, struct sfs_status *st)
{
    struct smb_call call;
    if (smb_call_begin_path(&call, c, SFS_STAGE_LIST, "statvfs", path, st) &&
        smb_call_check(&call, smb_lib.smbc_getFunctionStatVFS(c->ctx)(c->ctx, call.url, out) >= 0))
        smb_statvfs_normalize(out);
    return smb_call_end(&call);
}

/* open and create: OFLAGS go to the server as they are. */
static int smb_open_file(struct sfs_conn *c, const char *path, int oflags, mode_t mode, enum sfs_stage stage,
                         const char *step, struct sfs_file **out, struct sfs_status *st)
{
    struct sfs_file *f = calloc(1, sizeof(*f) + strlen(path) + 1);
    if (!f)
        return sfs_status_set(st, stage, ENOMEM, SFS_DOMAIN_SYS, ENOMEM, "%s: out of memory", step);
    strcpy(f->path, path);
    /* Only a handle that can see no writes of its own is capped at end of file. */
    f->read_only = !(oflags & O_CREAT) && (oflags & O_ACCMODE) == O_RDONLY;
    f->size = -1;
    struct smb_call call;
    if (smb_call_begin_path(&call, c, stage, step, path, st)) {
        f->fh = smb_lib.smbc_getFunctionOpen(c->ctx)(c->ctx, call.url, oflags, mode);
        smb_call_check(&call, f->fh != NULL);
    }
    int rc = smb_call_end(&call);
    if (rc < 0)
        free(f);
    else
        *out = f;
    return rc;
}

static int smb_open(struct sfs_conn *c, const char *path, int flags, struct sfs_file **out, struct sfs_status *st)
{
    /* No O_APPEND: FUSE gives every write its offset. */
    return smb_open_file(c, path, flags & (O_ACCMODE | O_TRUNC), 0, SFS_STAGE_READ, "open", out, st);
}

/* F's size, or -2 when it cannot be had: the read then goes uncapped,
 * unless the session is gone (the call then fails here rather than wait
 * a second timeout on the read).  libsmbclient's fstat drops the cause
 * (always EINVAL, nothing in its log), so one that took the whole
 * timeout is taken for one: the server stopped answering. */
static off_t smb_file_size(struct smb_call *call, struct sfs_file *f)
{
    SMBCCTX *ctx = call->conn->ctx;
    struct stat sb;
    smb_call_step(call, "fstat");
    double t0 = sfs_now_ms();
    if (smb_lib.smbc_getFunctionFstat(ctx)(ctx, f->fh, &sb) == 0)
        return sb.st_size;
    int err = errno;
    int timeout_ms = call->conn->timeout_ms;
    if (timeout_ms > 0 && sfs_now_ms() - t0 >= timeout_ms)
        err = ETIMEDOUT;
    if (session_lost(smb_failure_errno(err)))
        smb_call_fail(call, err);
    return -2;
}

/* Caps a read on a read-only handle at the end of file.  libsmbclient
 * splits a large read (read-ahead asks for windows of up to 8 MiB) into
 * parallel READs of the server's maximum (64 KiB on SMB 2.0.2), and when
 * the first comes back short it drops the others while they are in
 * flight; their late replies then break the connection
 * (NT_STATUS_CONNECTION_DISCONNECTED on the next call, seen here).  The
 * size is asked again only when a read reaches past the size last seen,
 * so a file that grew is still read to its new end. */
static size_t smb_cap_at_eof(struct smb_call *call, struct sfs_file *f, size_t size, off_t off)
{
    if (!f->read_only)
        return size;
    if (f->size < 0 || off + (off_t)size > f->size)
        f->size = smb_file_size(call, f);
    if (call->rc < 0)
        return 0;
    if (f->size < 0)
        return size;
    return off >= f->size ? 0 : ((off_t)size > f->size - off ? (size_t)(f->size - off) : size);
}

/* SIZE bytes at OFF into BUF, fewer only at end of file. */
static size_t smb_pread(struct smb_call *call, SMBCFILE *fh, char *buf, size_t size, off_t off)
{
    SMBCCTX *ctx = call->conn->ctx;
    smb_call_step(call, "seek");
    if (!smb_call_check(call, smb_lib.smbc_getFunctionLseek(ctx)(ctx, fh, off, SEEK_SET) >= 0))
        return 0;
    smb_call_step(call, "read");
    size_t total = 0;
    while (total < size) {
        ssize_t n = smb_lib.smbc_getFunctionRead(ctx)(ctx, fh, buf + total, size - total);
        if (!smb_call_check(call, n >= 0) || n == 0)
            break;
        total += (size_t)n;
    }
    return total;
}

static ssize_t smb_read(struct sfs_conn *c, struct sfs_file *f, char *buf, size_t size, off_t off,
                        struct sfs_status *st)
{
    struct smb_call call;
    smb_call_begin(&call, c, SFS_STAGE_READ, "read", f->path, st);
    size = smb_cap_at_eof(&call, f, size, off);
    size_t n = size ? smb_pread(&call, f->fh, buf, size, off) : 0;
    int rc = smb_call_end(&call);
    return rc < 0 ? rc : (ssize_t)n;
}

static int smb_release(struct sfs_conn *c, struct sfs_file *f)
{
    /* Nothing to report (every write was acknowledged already), but a
     * close that finds the session gone still marks the connection dead. */
    struct sfs_status ignored;
    struct smb_call call;
    smb_call_begin(&call, c, SFS_STAGE_READ, "close", f->path, &ignored);
    smb_call_check(&call, smb_lib.smbc_getFunctionClose(c->ctx)(c->ctx, f->fh) >= 0);
    smb_call_end(&call);
    free(f);
    return 0;
}

/* ---- the write side: every call returns after the server's answer ---- */

static int smb_chmod(struct sfs_conn *c, const char *path, mode_t mode, struct sfs_status *st);

/* Without POSIX extensions a new file gets the share's create mask
 * whatever MODE says, except what SMB can carry: a MODE without the
 * owner's write bit becomes the DOS read-only attribute, set once the file
 * is open (the creator's descriptor stays writable, as on a local
 * filesystem), so `install -m 0444` leaves a read-only file. */
static int smb_create(struct sfs_conn *c, const char *path, mode_t mode, int flags, struct sfs_file **out,
                      struct sfs_status *st)
{
    struct stat sb;
    struct sfs_status ignored = {0};
    bool read_only_new = !(mode & S_IWUSR) && ((flags & O_EXCL) || smb_getattr(c, path, &sb, &ignored) == -ENOENT);
    int rc = smb_open_file(c, path, O_CREAT | (flags & (O_ACCMODE | O_EXCL | O_TRUNC)), mode, SFS_STAGE_WRITE,
                           "create", out, st);
    if (rc == 0 && read_only_new)
        smb_chmod(c, path, mode, &ignored);   /* best effort: the create itself succeeded */
    return rc;
}

static ssize_t smb_write(struct sfs_conn *c, struct sfs_file *f, const char *buf, size_t size, off_t off,
                         struct sfs_status *st)
{
    struct smb_call call;
    smb_call_begin(&call, c, SFS_STAGE_WRITE, "seek", f->path, st);
    size_t total = 0;
    if (smb_call_check(&call, smb_lib.smbc_getFunctionLseek(c->ctx)(c->ctx, f->fh, off, SEEK_SET) >= 0)) {
        smb_call_step(&call, "write");
        while (total < size) {
            ssize_t n = smb_lib.smbc_getFunctionWrite(c->ctx)(c->ctx, f->fh, buf + total, size - total);
            if (n <= 0) {
                /* A write that takes nothing would loop forever. */
                smb_call_fail(&call, n < 0 ? errno : EIO);
                break;
            }
            total += (size_t)n;
        }
    }
    int rc = smb_call_end(&call);
    return rc < 0 ? rc : (ssize_t)total;
}

/* A failed truncate to SIZE.  libsmbclient's ftruncate drops the server's
 * status (always EINVAL, nothing in its log), and Samba answers
 * NT_STATUS_DISK_FULL alike for a full disk and for a size its filesystem
 * cannot hold (its errno map turns ftruncate(2)'s EFBIG into DISK_FULL).  A size beyond the whole
 * filesystem is the latter: EFBIG, what a local filesystem says. */
static void smb_truncate_failed(struct smb_call *call, struct sfs_file *f, off_t size)
{
    SMBCCTX *ctx = call->conn->ctx;
    struct statvfs sv;
    if (session_lost(call->st->err))
        return;
    smb_call_step(call, "truncate (asking the filesystem's size)");
    if (smb_lib.smbc_getFunctionFstatVFS(ctx)(ctx, f->fh, &sv) < 0)
        return;
    smb_statvfs_normalize(&sv);
    if (!smb_statvfs_size_beyond(&sv, size))
        return;
    call->rc = sfs_status_set(call->st, SFS_STAGE_WRITE, EFBIG, SFS_DOMAIN_SYS, EFBIG,
                              "truncate \"%.300s\" to %lld bytes: more than the server's filesystem holds (%llu bytes)",
                              f->path, (long long)size, (unsigned long long)smb_statvfs_total_bytes(&sv));
}

static int smb_ftruncate(struct sfs_conn *c, struct sfs_file *f, off_t size, struct sfs_status *st)
{
    struct smb_call call;
    smb_call_begin(&call, c, SFS_STAGE_WRITE, "truncate", f->path, st);
    if (!smb_call_check(&call, smb_lib.smbc_getFunctionFtruncate(c->ctx)(c->ctx, f->fh, size) >= 0))
        smb_truncate_failed(&call, f, size);
    return smb_call_end(&call);
}

static int smb_fsync(struct sfs_conn *c, struct sfs_file *f, struct sfs_status *st)
{
    /* smbc_write already waited for the server's acknowledgement. */
    (void)c;
    (void)f;
    (void)st;
    return 0;
}

/* Samba 4.22 makes a folder under a temporary name about 36 characters
 * longer than the one asked for, so it refuses folder names from 220
 * characters on as invalid (files up to 255 work): for a long name that
 * is the server's length limit, ENAMETOOLONG as a local mkdir says. */
#define SMB_MKDIR_LONG_NAME 200

static int smb_mkdir(struct sfs_conn *c, const char *path, mode_t mode, struct sfs_status *st)
{
    struct smb_call call;
    if (smb_call_begin_path(&call, c, SFS_STAGE_WRITE, "mkdir", path, st))
        smb_call_check(&call, smb_lib.smbc_getFunctionMkdir(c->ctx)(c->ctx, call.url, mode) >= 0);
    int rc = smb_call_end(&call);
    const char *slash = strrchr(path, '/');
    size_t name_len = strlen(slash ? slash + 1 : path);
    if (rc == -EINVAL && st && st->domain == SFS_DOMAIN_SMB && st->code == SMB_NT_STATUS_OBJECT_NAME_INVALID &&
        name_len > SMB_MKDIR_LONG_NAME)
        rc = sfs_status_set(st, SFS_STAGE_WRITE, ENAMETOOLONG, SFS_DOMAIN_SMB, st->code,
                            "mkdir: the server refused a folder name of %zu bytes as invalid "
                            "(NT_STATUS_OBJECT_NAME_INVALID): longer than it can create", name_len);
    return rc;
}

/* Samba's answer to deleting what has the DOS read-only attribute. */
#define SMB_NT_STATUS_CANNOT_DELETE 0xc0000121u

/* smbc unlink and rmdir have the same signature; their getters are
 * libsmbclient calls too, made under the lock. */
typedef int (*smb_remove_fn)(SMBCCTX *ctx, const char *url);
typedef smb_remove_fn (*smb_remove_getter)(SMBCCTX *ctx);

/* The current step failed with the NTSTATUS CODE. */
static bool smb_call_failed_with(const struct smb_call *call, uint32_t code)
{
    return call->rc < 0 && call->st->domain == SFS_DOMAIN_SMB && (uint32_t)call->st->code == code;
}

/* Forgets the current failure (a step that is tried again). */
static void smb_call_forget_failure(struct smb_call *call)
{
    call->rc = 0;
    sfs_status_clear(call->st);
}

/* Takes the owner's write bit off or puts it back as MODE says: through
 * libsmbclient's chmod, which maps it to the DOS read-only attribute. */
static bool smb_call_chmod(struct smb_call *call, const char *step, mode_t mode)
{
    SMBCCTX *ctx = call->conn->ctx;
    smb_call_step(call, step);
    return smb_call_check(call, smb_lib.smbc_getFunctionChmod(ctx)(ctx, call->url, mode & 07777) >= 0);
}

/* Removes what only the DOS read-only attribute kept (chmod a-w sets it;
 * Samba then answers NT_STATUS_CANNOT_DELETE), as a local filesystem lets
 * the owner of the directory remove a read-only file and as Linux's cifs
 * client does: the attribute is cleared and the removal tried once more.
 * If that fails too, the attribute is put back and the retry's error is
 * the answer; if it cannot be cleared, the first refusal is. */
static void smb_remove_read_only(struct smb_call *call, const char *step, smb_remove_fn remove)
{
    SMBCCTX *ctx = call->conn->ctx;
    struct sfs_status refused = *call->st;
    int refused_rc = call->rc;
    smb_call_forget_failure(call);
    struct stat sb;
    smb_call_step(call, "stat (to clear the read-only attribute)");
    if (!smb_call_check(call, smb_lib.smbc_getFunctionStat(ctx)(ctx, call->url, &sb) >= 0) ||
        !smb_call_chmod(call, "clear the read-only attribute", sb.st_mode | S_IWUSR)) {
        *call->st = refused;
        call->rc = refused_rc;
        return;
    }
    smb_call_step(call, step);
    if (smb_call_check(call, remove(ctx, call->url) >= 0))
        return;
    struct sfs_status retried = *call->st;
    int retried_rc = call->rc;
    smb_call_chmod(call, "restore the read-only attribute", sb.st_mode);
    *call->st = retried;
    call->rc = retried_rc;
}

/* unlink and rmdir (STEP): see smb_remove_read_only. */
static int smb_remove(struct sfs_conn *c, const char *path, const char *step, smb_remove_getter get_remove,
                      struct sfs_status *st)
{
    struct smb_call call;
    if (!smb_call_begin_path(&call, c, SFS_STAGE_WRITE, step, path, st))
        return smb_call_end(&call);
    smb_remove_fn remove = get_remove(c->ctx);
    if (!smb_call_check(&call, remove(c->ctx, call.url) >= 0) &&
        smb_call_failed_with(&call, SMB_NT_STATUS_CANNOT_DELETE))
        smb_remove_read_only(&call, step, remove);
    return smb_call_end(&call);
}

static int smb_unlink(struct sfs_conn *c, const char *path, struct sfs_status *st)
{
    return smb_remove(c, path, "unlink", smb_lib.smbc_getFunctionUnlink, st);
}

static int smb_rmdir(struct sfs_conn *c, const char *path, struct sfs_status *st)
{
    return smb_remove(c, path, "rmdir", smb_lib.smbc_getFunctionRmdir, st);
}

/* Makes way for a rename onto TO (URL UTO): RENAME_NOREPLACE refuses an
 * existing target; libsmbclient's rename replaces files (it asks the
 * server to), so a directory target, which must be empty, is removed
 * first, as POSIX rename(2) does. */
static bool smb_rename_clear_target(struct smb_call *call, const char *to, const char *uto, unsigned flags)
{
    SMBCCTX *ctx = call->conn->ctx;
    struct stat sb;
    call->path = to;
    smb_call_step(call, "rename (looking at the target)");
    if (smb_lib.smbc_getFunctionStat(ctx)(ctx, uto, &sb) < 0) {
        /* No target is the usual case; only a lost session stops here. */
        int err = errno;
        if (session_lost(smb_failure_errno(err)))
            smb_call_fail(call, err);
        return call->rc == 0;
    }
    if (flags & RENAME_NOREPLACE) {
        call->rc = sfs_status_set(call->st, SFS_STAGE_WRITE, EEXIST, SFS_DOMAIN_SYS, EEXIST,
                                  "rename: target \"%.300s\" exists", to);
        return false;
    }
    if (!S_ISDIR(sb.st_mode))
        return true;
    smb_call_step(call, "rename (removing the target directory)");
    return smb_call_check(call, smb_lib.smbc_getFunctionRmdir(ctx)(ctx, uto) >= 0);
}

static int smb_rename(struct sfs_conn *c, const char *from, const char *to, unsigned flags, struct sfs_status *st)
{
    char *uto;
    int rc = smb_path_url(c, SFS_STAGE_WRITE, "rename", to, &uto, st);
    if (rc < 0)
        return rc;
    struct smb_call call;
    if (smb_call_begin_path(&call, c, SFS_STAGE_WRITE, "rename", from, st) &&
        smb_rename_clear_target(&call, to, uto, flags)) {
        call.path = from;
        smb_call_step(&call, "rename");
        smb_call_check(&call, smb_lib.smbc_getFunctionRename(c->ctx)(c->ctx, call.url, c->ctx, uto) >= 0);
    }
    free(uto);
    return smb_call_end(&call);
}

static int smb_utimens(struct sfs_conn *c, const char *path, const struct timespec tv[2], struct sfs_status *st)
{
    struct timeval t[2] = {{.tv_sec = tv[0].tv_sec, .tv_usec = tv[0].tv_nsec / 1000},
                           {.tv_sec = tv[1].tv_sec, .tv_usec = tv[1].tv_nsec / 1000}};
    struct smb_call call;
    if (smb_call_begin_path(&call, c, SFS_STAGE_WRITE, "utimes", path, st))
        smb_call_check(&call, smb_lib.smbc_getFunctionUtimes(c->ctx)(c->ctx, call.url, t) >= 0);
    return smb_call_end(&call);
}

/* SMB has no Unix modes without the POSIX extensions: libsmbclient maps the
 * owner's write bit to the DOS read-only attribute; other bits are dropped. */
static int smb_chmod(struct sfs_conn *c, const char *path, mode_t mode, struct sfs_status *st)
{
    struct smb_call call;
    if (smb_call_begin_path(&call, c, SFS_STAGE_WRITE, "chmod", path, st))
        smb_call_check(&call, smb_lib.smbc_getFunctionChmod(c->ctx)(c->ctx, call.url, mode) >= 0);
    return smb_call_end(&call);
}

/* libsmbclient keeps no request counters: only its own reconnects. */
static void smb_stats(struct sfs_conn *c, struct sfs_conn_stats *out)
{
    out->reconnects = __atomic_load_n(&c->relogins, __ATOMIC_RELAXED);
}

static bool smb_alive(struct sfs_conn *c)
{
    return !__atomic_load_n(&c->dead, __ATOMIC_RELAXED);
}

/* The preinit operation: libsmbclient loaded and set up once, ahead of the
 * forks of a prober (smb_lib_use_pthreads, smb_lib_warm_caches), and a
 * context kept so that no child's smbc_free_context tears that set-up
 * down.  Nothing here is needed: a child does what is missing itself. */
static void smb_preinit(const struct sfs_config *cfg)
{
    static struct sfs_conn warm = {.auth = SFS_AUTH_NONE, .timeout_ms = 1000};
    static SMBCCTX *kept;
    if (kept || smb_lib_open(SFS_STAGE_NONE, NULL) < 0)
        return;
    pthread_mutex_lock(&smb_lib_lock);
    smb_lib_use_pthreads();
    if (!warm.smb_conf) {
        warm.smb_conf = sfs_config_string(cfg, NULL, "smb_conf");
        if (!warm.smb_conf && getenv("SHARESFS_SMB_CONF"))
            warm.smb_conf = strdup(getenv("SHARESFS_SMB_CONF"));
        /* Not one that would block afptest itself (a FIFO): each entry's
         * own check fails it. */
        const char *why;
        if (warm.smb_conf && smb_client_conf_check(warm.smb_conf, &why) != 0) {
            free(warm.smb_conf);
            warm.smb_conf = NULL;
        }
    }
    struct sfs_status ignored;
    kept = smb_context_new(&warm, &ignored);
    if (kept) {
        smb_lib_warm_caches();
        smb_lib_keep_config();
    }
    pthread_mutex_unlock(&smb_lib_lock);
}

const struct sfs_backend_ops sfs_smb_backend = {
    .name = "smb",
    .flags = SFS_BACKEND_ISOLATE | SFS_BACKEND_PROCESS_CONFIG,
    .prepare_target = smb_prepare_target,
    .server_info = smb_server_info,
    .connect = smb_connect,
    .disconnect = smb_disconnect,
    .getattr = smb_getattr,
    .readdir = smb_readdir,
    .open = smb_open,
    .read = smb_read,
    .release = smb_release,
    .statfs = smb_statfs,
    .create = smb_create,
    .write = smb_write,
    .ftruncate = smb_ftruncate,
    .fsync = smb_fsync,
    .mkdir = smb_mkdir,
    .unlink = smb_unlink,
    .rmdir = smb_rmdir,
    .rename = smb_rename,
    .utimens = smb_utimens,
    .chmod = smb_chmod,
    .alive = smb_alive,
    .stats = smb_stats,
    .preinit = smb_preinit,
};
