/* SMB backend over libsmbclient.
 * Debian's libsmbclient keeps its talloc stack frames and loadparm state
 * process-wide and does not export smbc_thread_posix(), so calls from two
 * threads at once corrupt it even on separate contexts (seen: aborts in
 * lp_load_global, "Freed frame" warnings).  Every libsmbclient call is
 * therefore made under one process-wide lock; large reads still go fast
 * because smbc_read pipelines internally.  afptest gets its concurrency by
 * probing each entry in its own process instead.
 * Stages before libsmbclient's all-in-one connect (resolve, connect,
 * negotiate) are done by us so failures land in the right stage; the rest
 * is attributed from libsmbclient's log (smb_capture). */
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

#include "sharesfs/clock.h"
#include "sharesfs/krb5_preflight.h"
#include "sharesfs/net.h"
#include "sharesfs/backend.h"
#include "smb_backend.h"
#include "smb_negotiate.h"
#include "smb_ntstatus_capture.h"

struct sfs_conn {
    char *base_url;          /* smb://host[:port]/share[/path], percent-encoded */
    char *label;
    char *user, *domain, *password;
    enum sfs_auth_kind auth;
    char min_proto[16], max_proto[16];
    char *smb_conf;
    char *krb5_ccache;
    uint16_t port;
    int timeout_ms;
    SMBCCTX *ctx;
    bool dead;               /* the session is gone (see session_lost) */
    uint64_t relogins;       /* sessions libsmbclient set up again by itself */
};

struct sfs_file {
    SMBCFILE *fh;
    struct sfs_conn *conn;
    bool read_only;
    off_t size;                 /* read-only handles: the size last seen; -1 unknown */
};

/* Held around every libsmbclient call (see the top of this file). */
static pthread_mutex_t smb_lib_lock = PTHREAD_MUTEX_INITIALIZER;

static void smb_lock(void) { pthread_mutex_lock(&smb_lib_lock); }
static void smb_unlock(void) { pthread_mutex_unlock(&smb_lib_lock); }

/* Around an operation on connected C: libsmbclient silently reconnects
 * (and logs in again) when it finds its session gone; counted here so
 * status.json shows it.  Begin returns the mark end compares with. */
static uint64_t smb_op_begin(void)
{
    smb_lock();
    return smb_capture_sessions();
}

static void smb_op_end(struct sfs_conn *c, uint64_t mark)
{
    if (smb_capture_sessions() != mark)
        __atomic_add_fetch(&c->relogins, smb_capture_sessions() - mark, __ATOMIC_RELAXED);
    smb_unlock();
}

static void smb_auth_cb(SMBCCTX *ctx, const char *srv, const char *shr, char *wg, int wglen,
                        char *un, int unlen, char *pw, int pwlen)
{
    (void)srv;
    (void)shr;
    struct sfs_conn *c = smbc_getOptionUserData(ctx);
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

/* Caller holds smb_lib_lock. */
static SMBCCTX *smb_context_new(struct sfs_conn *c)
{
    SMBCCTX *ctx = smbc_new_context();
    if (!ctx)
        return NULL;
    smb_capture_attach(ctx);
    if (c->smb_conf)
        smbc_setConfiguration(ctx, c->smb_conf);
    /* Without this a refused login silently becomes an anonymous session and
     * the user sees ACCESS_DENIED instead of the real cause. */
    smbc_setOptionNoAutoAnonymousLogin(ctx, 1);
    smbc_setFunctionAuthDataWithContext(ctx, smb_auth_cb);
    smbc_setOptionUserData(ctx, c);
    smbc_setTimeout(ctx, c->timeout_ms);
    if (c->port)
        smbc_setPort(ctx, c->port);
    smbc_setOptionProtocols(ctx, c->min_proto, c->max_proto);
    if (c->auth == SFS_AUTH_KRB5) {
        /* libsmbclient's Kerberos reads KRB5CCNAME. */
        if (c->krb5_ccache)
            setenv("KRB5CCNAME", c->krb5_ccache, 1);
        smbc_setOptionUseKerberos(ctx, 1);
        smbc_setOptionFallbackAfterKerberos(ctx, 0);
        smbc_setOptionUseCCache(ctx, 1);
    }
    SMBCCTX *ok = smbc_init_context(ctx);
    if (!ok)
        smbc_free_context(ctx, 1);
    return ok ? ctx : NULL;
}

static int append_encoded(char *out, size_t cap, size_t *len, const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                     ch == '-' || ch == '_' || ch == '.' || ch == '~' || ch == '$' || (keep_slash && ch == '/');
        if (*len + 4 >= cap)
            return -ENAMETOOLONG;
        if (plain) {
            out[(*len)++] = (char)ch;
        } else {
            out[(*len)++] = '%';
            out[(*len)++] = hex[ch >> 4];
            out[(*len)++] = hex[ch & 15];
        }
    }
    out[*len] = '\0';
    return 0;
}

/* smb://host/share/<base path>/<path>; path is relative to the mount root. */
static int smb_url_for(const struct sfs_conn *c, const char *path, char *out, size_t cap)
{
    size_t len = strlen(c->base_url);
    if (len + 1 >= cap)
        return -ENAMETOOLONG;
    memcpy(out, c->base_url, len + 1);
    while (*path == '/')
        path++;
    if (*path) {
        out[len++] = '/';
        return append_encoded(out, cap, &len, path, true);
    }
    return 0;
}

static int build_base_url(struct sfs_conn *c, const struct sfs_url *u)
{
    char buf[4096];
    size_t len = 0;
    int rc = 0;
    len = (size_t)snprintf(buf, sizeof(buf), "smb://");
    if (u->host_is_ipv6) {
        /* libsmbclient takes IPv6 hosts in brackets. */
        buf[len++] = '[';
        memcpy(buf + len, u->host, strlen(u->host) + 1);
        len += strlen(u->host);
        buf[len++] = ']';
        buf[len] = '\0';
    } else {
        rc = append_encoded(buf, sizeof(buf), &len, u->host, false);
    }
    if (rc == 0) {
        buf[len++] = '/';
        rc = append_encoded(buf, sizeof(buf), &len, u->share, false);
    }
    if (rc == 0 && u->path && *u->path) {
        buf[len++] = '/';
        rc = append_encoded(buf, sizeof(buf), &len, u->path, true);
    }
    if (rc < 0)
        return rc;
    c->base_url = strdup(buf);
    return c->base_url ? 0 : -ENOMEM;
}

/* errno and stage for a failed libsmbclient call, from what its log showed. */
static int smb_fail(struct sfs_status *st, enum sfs_stage stage, int sys_err, const char *what)
{
    struct smb_capture *cap = smb_capture_current();
    if (cap->have_status) {
        uint32_t code = cap->status;
        const char *name = sfs_ntstatus_name(code);
        return sfs_status_set(st, stage, sfs_errno_for_ntstatus(code), SFS_DOMAIN_SMB, code,
                              "%s failed: %s", what, name ? name : "unknown NTSTATUS");
    }
    return sfs_status_set(st, stage, sys_err ? sys_err : EIO, SFS_DOMAIN_SYS, sys_err,
                          "%s failed: %s", what, strerror(sys_err ? sys_err : EIO));
}

/* A failed operation whose cause says the session is gone: the
 * connection is reported dead and replaced on next use (a fresh login),
 * rather than left to libsmbclient, which retries on the dead session
 * first (another full timeout against a server that stopped answering). */
static bool session_lost(int err)
{
    return err == ETIMEDOUT || err == ECONNRESET || err == ECONNABORTED || err == EPIPE ||
           err == ENOTCONN || err == ESHUTDOWN || err == ENETRESET;
}

static int smb_op_fail(struct sfs_conn *c, struct sfs_status *st, enum sfs_stage stage, int sys_err,
                       const char *what)
{
    int rc = smb_fail(st, stage, sys_err, what);
    if (session_lost(st->err))
        __atomic_store_n(&c->dead, true, __ATOMIC_RELAXED);
    return rc;
}

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
        smb_lock();
        smbc_free_context(c->ctx, 1);
        smb_unlock();
    }
    free(c->base_url);
    free(c->label);
    free(c->user);
    free(c->domain);
    if (c->password) {
        explicit_bzero(c->password, strlen(c->password));
        free(c->password);
    }
    free(c->smb_conf);
    free(c->krb5_ccache);
    free(c);
}

static int stage_probe_network(const struct sfs_target *t, struct sfs_server_info *info, sfs_stage_cb cb,
                               void *cb_ctx, struct sfs_status *st)
{
    struct sfs_addr addr;
    int fd = sfs_stage_resolve_connect(t, &addr, info, cb, cb_ctx, st);
    if (fd < 0)
        return fd;
    double t0 = sfs_now_ms();
    struct smb_negotiate_result neg;
    int rc = smb_negotiate_probe(fd, smb_dialect_from_name(t->dialect_min), smb_dialect_from_name(t->dialect_max),
                             t->timeout_ms, &neg, st);
    close(fd);
    if (rc < 0)
        return rc;
    snprintf(info->dialect, sizeof(info->dialect), "%s", smb_dialect_name(neg.dialect));
    info->flags = neg.security_mode;
    info->encrypted = (neg.capabilities & 0x40) != 0 || neg.dialect == SMB_DIALECT_SMB3_11;
    if (cb)
        cb(cb_ctx, SFS_STAGE_NEGOTIATE, sfs_now_ms() - t0, NULL);
    return 0;
}

static int smb_connect(const struct sfs_target *t, struct sfs_conn **out, struct sfs_server_info *info,
                       sfs_stage_cb cb, void *cb_ctx, struct sfs_status *st)
{
    struct sfs_server_info scratch;
    if (!info)
        info = &scratch;
    memset(info, 0, sizeof(*info));
    int rc = stage_probe_network(t, info, cb, cb_ctx, st);
    if (rc < 0)
        return rc;

    struct sfs_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return sfs_status_set(st, SFS_STAGE_MOUNT, ENOMEM, SFS_DOMAIN_SYS, ENOMEM, "out of memory");
    c->label = strdup(t->label ? t->label : t->url->host);
    c->auth = t->auth.kind;
    c->user = t->creds.user ? strdup(t->creds.user) : NULL;
    c->domain = t->creds.domain ? strdup(t->creds.domain) : NULL;
    c->password = t->creds.password ? strdup(t->creds.password) : NULL;
    c->smb_conf = t->client_conf ? strdup(t->client_conf) : NULL;
    c->krb5_ccache = t->krb5_ccache ? strdup(t->krb5_ccache) : NULL;
    c->port = (uint16_t)t->url->port;
    c->timeout_ms = t->timeout_ms;
    snprintf(c->min_proto, sizeof(c->min_proto), "%s", t->dialect_min);
    snprintf(c->max_proto, sizeof(c->max_proto), "%s", t->dialect_max);
    rc = build_base_url(c, t->url);
    if (rc < 0) {
        conn_free(c);
        return sfs_status_set(st, SFS_STAGE_PARSE, -rc, SFS_DOMAIN_URL, 0, "URL too long");
    }

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
    smb_lock();
    struct smb_capture *cap = smb_capture_begin();
    SMBCCTX *ctx = smb_context_new(c);
    if (!ctx) {
        int err = errno;
        smb_unlock();
        conn_free(c);
        return sfs_status_set(st, SFS_STAGE_AUTHENTICATE, err ? err : EIO, SFS_DOMAIN_SYS, err,
                              "cannot initialise libsmbclient: %s", strerror(err ? err : EIO));
    }
    c->ctx = ctx;
    cap = smb_capture_begin();
    SMBCFILE *dir = smbc_getFunctionOpendir(ctx)(ctx, c->base_url);
    double t_end = sfs_now_ms();
    if (!dir) {
        int err = errno;
        smb_unlock();
        if (cb && cap->session_ok)
            cb(cb_ctx, SFS_STAGE_AUTHENTICATE, cap->session_ok_at - t0, NULL);
        enum sfs_stage stage = connect_failure_stage(cap);
        smb_fail(st, stage, err, stage == SFS_STAGE_MOUNT ? "tree connect" :
                                 stage == SFS_STAGE_AUTHENTICATE ? "session setup" : "connect");
        if (cap->last_error[0] && !cap->have_status)
            snprintf(st->detail + strlen(st->detail), sizeof(st->detail) - strlen(st->detail),
                     " (%s)", cap->last_error);
        conn_free(c);
        return -st->err;
    }
    smbc_getFunctionClosedir(ctx)(ctx, dir);
    smb_unlock();
    if (cb) {
        double t_auth = cap->session_ok ? cap->session_ok_at : t_end;
        cb(cb_ctx, SFS_STAGE_AUTHENTICATE, t_auth - t0, NULL);
        cb(cb_ctx, SFS_STAGE_MOUNT, t_end - t_auth, NULL);
    }
    *out = c;
    return 0;
}

static void smb_disconnect(struct sfs_conn *c)
{
    conn_free(c);
}

/* url: the share URL of PATH, or the status "path too long" for STAGE. */
#define SMB_PATH_OR_FAIL(stage)                                                                            \
    char url[4096];                                                                                        \
    if (smb_url_for(c, path, url, sizeof(url)) < 0)                                                        \
        return sfs_status_set(st, stage, ENAMETOOLONG, SFS_DOMAIN_SYS, ENAMETOOLONG, "path too long")

static int smb_getattr(struct sfs_conn *c, const char *path, struct stat *out, struct sfs_status *st)
{
    SMB_PATH_OR_FAIL(SFS_STAGE_LIST);
    SMBCCTX *ctx = c->ctx;
    uint64_t mark = smb_op_begin();
    smb_capture_begin();
    int rc = smbc_getFunctionStat(ctx)(ctx, url, out);
    int err = errno;
    if (rc < 0)
        rc = smb_op_fail(c, st, SFS_STAGE_LIST, err, "stat");
    smb_op_end(c, mark);
    return rc < 0 ? rc : 0;
}

static int smb_readdir(struct sfs_conn *c, const char *path, sfs_dirent_cb cb, void *cb_ctx, struct sfs_status *st)
{
    SMB_PATH_OR_FAIL(SFS_STAGE_LIST);
    SMBCCTX *ctx = c->ctx;
    uint64_t mark = smb_op_begin();
    smb_capture_begin();
    SMBCFILE *dir = smbc_getFunctionOpendir(ctx)(ctx, url);
    if (!dir) {
        int rc = smb_op_fail(c, st, SFS_STAGE_LIST, errno, "opendir");
        smb_op_end(c, mark);
        return rc;
    }
    smbc_readdirplus2_fn next = smbc_getFunctionReaddirPlus2(ctx);
    const struct libsmb_file_info *fi;
    struct stat sb;
    int rc = 0;
    while ((fi = next(ctx, dir, &sb)) != NULL) {
        if (!strcmp(fi->name, ".") || !strcmp(fi->name, ".."))
            continue;
        if (cb(cb_ctx, fi->name, &sb))
            break;
    }
    smbc_getFunctionClosedir(ctx)(ctx, dir);
    smb_op_end(c, mark);
    return rc;
}

/* SIZE bytes at OFF, fewer only at end of file, or -errno with *what set
 * to the step that failed.  Caller holds smb_lib_lock. */
static ssize_t smb_pread_locked(SMBCCTX *ctx, SMBCFILE *fh, char *buf, size_t size, off_t off,
                                const char **what)
{
    *what = "seek";
    if (smbc_getFunctionLseek(ctx)(ctx, fh, off, SEEK_SET) < 0)
        return -errno;
    *what = "read";
    size_t total = 0;
    while (total < size) {
        ssize_t n = smbc_getFunctionRead(ctx)(ctx, fh, buf + total, size - total);
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        total += (size_t)n;
    }
    return (ssize_t)total;
}

/* Caps a read on a read-only handle at the end of file.  libsmbclient
 * splits a large read (read-ahead asks for windows of up to 8 MiB) into
 * parallel READs of the server's maximum (64 KiB on SMB 2.0.2), and when
 * the first comes back short it drops the others while they are in
 * flight; their late replies then break the connection
 * (NT_STATUS_CONNECTION_DISCONNECTED on the next call, seen here).  The
 * size is asked again only when a read reaches past the size last seen,
 * so a file that grew is still read to its new end. */
static size_t smb_cap_at_eof(SMBCCTX *ctx, struct sfs_file *f, size_t size, off_t off)
{
    if (!f->read_only)
        return size;
    if (f->size < 0 || off + (off_t)size > f->size) {
        struct stat sb;
        f->size = smbc_getFunctionFstat(ctx)(ctx, f->fh, &sb) == 0 ? sb.st_size : -2;
    }
    if (f->size < 0)
        return size;
    return off >= f->size ? 0 : ((off_t)size > f->size - off ? (size_t)(f->size - off) : size);
}

static int smb_open(struct sfs_conn *c, const char *path, int flags, struct sfs_file **out, struct sfs_status *st)
{
    SMB_PATH_OR_FAIL(SFS_STAGE_READ);
    struct sfs_file *f = calloc(1, sizeof(*f));
    if (!f)
        return sfs_status_set(st, SFS_STAGE_READ, ENOMEM, SFS_DOMAIN_SYS, ENOMEM, "out of memory");
    SMBCCTX *ctx = c->ctx;
    uint64_t mark = smb_op_begin();
    smb_capture_begin();
    /* No O_APPEND: FUSE gives every write its offset. */
    f->fh = smbc_getFunctionOpen(ctx)(ctx, url, flags & (O_ACCMODE | O_TRUNC), 0);
    if (!f->fh) {
        int rc = smb_op_fail(c, st, SFS_STAGE_READ, errno, "open");
        smb_op_end(c, mark);
        free(f);
        return rc;
    }
    smb_op_end(c, mark);
    f->conn = c;
    f->read_only = (flags & O_ACCMODE) == O_RDONLY;
    f->size = -1;
    *out = f;
    return 0;
}

static ssize_t smb_read(struct sfs_conn *c, struct sfs_file *f, char *buf, size_t size, off_t off,
                        struct sfs_status *st)
{
    const char *what = "read";
    uint64_t mark = smb_op_begin();
    smb_capture_begin();
    size = smb_cap_at_eof(c->ctx, f, size, off);
    ssize_t n = size ? smb_pread_locked(c->ctx, f->fh, buf, size, off, &what) : 0;
    if (n < 0)
        n = smb_op_fail(c, st, SFS_STAGE_READ, (int)-n, what);
    smb_op_end(c, mark);
    return n;
}

static int smb_release(struct sfs_conn *c, struct sfs_file *f)
{
    uint64_t mark = smb_op_begin();
    smbc_getFunctionClose(c->ctx)(c->ctx, f->fh);
    smb_op_end(c, mark);
    free(f);
    return 0;
}

static int smb_statfs(struct sfs_conn *c, const char *path, struct statvfs *out, struct sfs_status *st)
{
    SMB_PATH_OR_FAIL(SFS_STAGE_LIST);
    SMBCCTX *ctx = c->ctx;
    uint64_t mark = smb_op_begin();
    smb_capture_begin();
    int rc = smbc_getFunctionStatVFS(ctx)(ctx, url, out);
    if (rc < 0)
        rc = smb_op_fail(c, st, SFS_STAGE_LIST, errno, "statvfs");
    smb_op_end(c, mark);
    return rc < 0 ? rc : 0;
}

/* ---- the write side: every call returns after the server's answer ---- */

static int smb_create(struct sfs_conn *c, const char *path, mode_t mode, int flags, struct sfs_file **out,
                      struct sfs_status *st)
{
    SMB_PATH_OR_FAIL(SFS_STAGE_WRITE);
    struct sfs_file *f = calloc(1, sizeof(*f));
    if (!f)
        return sfs_status_set(st, SFS_STAGE_WRITE, ENOMEM, SFS_DOMAIN_SYS, ENOMEM, "out of memory");
    uint64_t mark = smb_op_begin();
    smb_capture_begin();
    f->fh = smbc_getFunctionOpen(c->ctx)(c->ctx, url, O_CREAT | (flags & (O_ACCMODE | O_EXCL | O_TRUNC)), mode);
    if (!f->fh) {
        int rc = smb_op_fail(c, st, SFS_STAGE_WRITE, errno, "create");
        smb_op_end(c, mark);
        free(f);
        return rc;
    }
    smb_op_end(c, mark);
    *out = f;
    return 0;
}

static ssize_t smb_write(struct sfs_conn *c, struct sfs_file *f, const char *buf, size_t size, off_t off,
                         struct sfs_status *st)
{
    SMBCCTX *ctx = c->ctx;
    uint64_t mark = smb_op_begin();
    smb_capture_begin();
    ssize_t total = 0;
    if (smbc_getFunctionLseek(ctx)(ctx, f->fh, off, SEEK_SET) < 0) {
        total = smb_op_fail(c, st, SFS_STAGE_WRITE, errno, "seek");
        goto out;
    }
    while ((size_t)total < size) {
        ssize_t n = smbc_getFunctionWrite(ctx)(ctx, f->fh, buf + total, size - (size_t)total);
        if (n <= 0) {
            total = smb_op_fail(c, st, SFS_STAGE_WRITE, n < 0 ? errno : EIO, "write");
            goto out;
        }
        total += n;
    }
out:
    smb_op_end(c, mark);
    return total;
}

static int smb_ftruncate(struct sfs_conn *c, struct sfs_file *f, off_t size, struct sfs_status *st)
{
    uint64_t mark = smb_op_begin();
    smb_capture_begin();
    int rc = smbc_getFunctionFtruncate(c->ctx)(c->ctx, f->fh, size);
    if (rc < 0)
        rc = smb_op_fail(c, st, SFS_STAGE_WRITE, errno, "truncate");
    smb_op_end(c, mark);
    return rc < 0 ? rc : 0;
}

static int smb_fsync(struct sfs_conn *c, struct sfs_file *f, struct sfs_status *st)
{
    /* smbc_write already waited for the server's acknowledgement. */
    (void)c;
    (void)f;
    (void)st;
    return 0;
}

static int smb_mkdir(struct sfs_conn *c, const char *path, mode_t mode, struct sfs_status *st)
{
    SMB_PATH_OR_FAIL(SFS_STAGE_WRITE);
    uint64_t mark = smb_op_begin();
    smb_capture_begin();
    int rc = smbc_getFunctionMkdir(c->ctx)(c->ctx, url, mode);
    if (rc < 0)
        rc = smb_op_fail(c, st, SFS_STAGE_WRITE, errno, "mkdir");
    smb_op_end(c, mark);
    return rc < 0 ? rc : 0;
}

/* unlink and rmdir: the same call shape, one path. */
static int smb_remove(struct sfs_conn *c, const char *path, int (*fn)(SMBCCTX *, const char *), const char *what,
                      struct sfs_status *st)
{
    SMB_PATH_OR_FAIL(SFS_STAGE_WRITE);
    uint64_t mark = smb_op_begin();
    smb_capture_begin();
    int rc = fn(c->ctx, url);
    if (rc < 0)
        rc = smb_op_fail(c, st, SFS_STAGE_WRITE, errno, what);
    smb_op_end(c, mark);
    return rc < 0 ? rc : 0;
}

static int smb_unlink(struct sfs_conn *c, const char *path, struct sfs_status *st)
{
    return smb_remove(c, path, smbc_getFunctionUnlink(c->ctx), "unlink", st);
}

static int smb_rmdir(struct sfs_conn *c, const char *path, struct sfs_status *st)
{
    return smb_remove(c, path, smbc_getFunctionRmdir(c->ctx), "rmdir", st);
}

static int smb_rename(struct sfs_conn *c, const char *from, const char *to, unsigned flags, struct sfs_status *st)
{
    char ufrom[4096], uto[4096];
    if (smb_url_for(c, from, ufrom, sizeof(ufrom)) < 0 || smb_url_for(c, to, uto, sizeof(uto)) < 0)
        return sfs_status_set(st, SFS_STAGE_WRITE, ENAMETOOLONG, SFS_DOMAIN_SYS, ENAMETOOLONG, "path too long");
    uint64_t mark = smb_op_begin();
    smb_capture_begin();
    struct stat sb;
    bool target_exists = smbc_getFunctionStat(c->ctx)(c->ctx, uto, &sb) == 0;
    int rc = 0;
    if (target_exists && (flags & RENAME_NOREPLACE))
        rc = sfs_status_set(st, SFS_STAGE_WRITE, EEXIST, SFS_DOMAIN_SYS, EEXIST, "rename: target exists");
    /* libsmbclient's rename replaces files (it asks the server to); a
     * directory target must be empty and is removed first, as POSIX
     * rename(2) does. */
    if (rc == 0 && target_exists && S_ISDIR(sb.st_mode)) {
        smb_capture_begin();
        if (smbc_getFunctionRmdir(c->ctx)(c->ctx, uto) < 0)
            rc = smb_op_fail(c, st, SFS_STAGE_WRITE, errno, "rename (removing the target directory)");
    }
    if (rc == 0) {
        smb_capture_begin();
        if (smbc_getFunctionRename(c->ctx)(c->ctx, ufrom, c->ctx, uto) < 0)
            rc = smb_op_fail(c, st, SFS_STAGE_WRITE, errno, "rename");
    }
    smb_op_end(c, mark);
    return rc < 0 ? rc : 0;
}

static int smb_utimens(struct sfs_conn *c, const char *path, const struct timespec tv[2], struct sfs_status *st)
{
    SMB_PATH_OR_FAIL(SFS_STAGE_WRITE);
    struct timeval t[2] = {{.tv_sec = tv[0].tv_sec, .tv_usec = tv[0].tv_nsec / 1000},
                           {.tv_sec = tv[1].tv_sec, .tv_usec = tv[1].tv_nsec / 1000}};
    uint64_t mark = smb_op_begin();
    smb_capture_begin();
    int rc = smbc_getFunctionUtimes(c->ctx)(c->ctx, url, t);
    if (rc < 0)
        rc = smb_op_fail(c, st, SFS_STAGE_WRITE, errno, "utimes");
    smb_op_end(c, mark);
    return rc < 0 ? rc : 0;
}

/* SMB has no Unix modes without the POSIX extensions: libsmbclient maps the
 * owner's write bit to the DOS read-only attribute; other bits are dropped. */
static int smb_chmod(struct sfs_conn *c, const char *path, mode_t mode, struct sfs_status *st)
{
    SMB_PATH_OR_FAIL(SFS_STAGE_WRITE);
    uint64_t mark = smb_op_begin();
    smb_capture_begin();
    int rc = smbc_getFunctionChmod(c->ctx)(c->ctx, url, mode);
    if (rc < 0)
        rc = smb_op_fail(c, st, SFS_STAGE_WRITE, errno, "chmod");
    smb_op_end(c, mark);
    return rc < 0 ? rc : 0;
}

/* libsmbclient keeps no request counters: its own reconnects and read-ahead's. */
static void smb_stats(struct sfs_conn *c, struct sfs_conn_stats *out)
{
    out->reconnects = __atomic_load_n(&c->relogins, __ATOMIC_RELAXED);
}

static bool smb_alive(struct sfs_conn *c)
{
    return !__atomic_load_n(&c->dead, __ATOMIC_RELAXED);
}

const struct sfs_backend_ops sfs_smb_backend = {
    .name = "smb",
    .flags = SFS_BACKEND_ISOLATE,
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
};
