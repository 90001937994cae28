/* AFP backend: the stages over DSI.  connect = resolve, TCP, DSIGetStatus
 * (server identity, versions, UAMs: the `negotiate` stage), DSIOpenSession,
 * the UAM's login exchange (`authenticate`), FPOpenVol (`mount`).  The DSI
 * session multiplexes, so FUSE threads keep several reads in flight on one
 * connection without a lock of ours. */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <linux/fs.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "sharesfs/answer_cache.h"
#include "sharesfs/clock.h"
#include "afp_catalog.h"
#include "afp_enum.h"
#include "afp_fork.h"
#include "afp_login.h"
#include "afp_login_gss.h"
#include "afp_params.h"
#include "afp_path.h"
#include "afp_proto.h"
#include "afp_request.h"
#include "afp_srvrinfo.h"
#include "afp_uam.h"
#include "afp_volume.h"
#include "afp_xattr.h"
#include "dsi_session.h"
#include "sharesfs/krb5_preflight.h"
#include "sharesfs/net.h"
#include "afp_backend.h"

#define ROOT_DIR_ID 2
#define FILE_BITMAP (kFPAttributeBit | kFPParentDirIDBit | kFPCreateDateBit | kFPModDateBit | kFPFinderInfoBit | \
                     kFPNodeIDBit | kFPExtDataForkLenBit | kFPUTF8NameBit | kFPUnixPrivsBit)
#define DIR_BITMAP (kFPAttributeBit | kFPParentDirIDBit | kFPCreateDateBit | kFPModDateBit | kFPNodeIDBit | \
                    kFPOffspringCountBit | kFPUTF8NameBit | kFPUnixPrivsBit)
#define ENUM_BATCH 200
#define ENUM_REPLY_MAX (256 * 1024)     /* FPEnumerateExt2: the request offers the server this much */
#define LISTXATTR_REPLY_MAX (256 * 1024) /* FPListExtAttrs: always the whole list (docs/afp.md) */
#define LOGIN_REPLY_MAX (16 * 1024)     /* DH values (DHX2 primes up to 1024 bytes), Kerberos tokens */
#define SRVRPARMS_REPLY_MAX (4 + 1 + 255 * 257)   /* server time, count, 255 x (flags, name) */

#define WRITE_BEHIND 8              /* FPWriteExt requests of a file in flight after its write returned */
#define WRITE_SPLIT_MIN (128 * 1024)  /* from here on a call is at least two requests */

struct sfs_conn {
    struct dsi_session *dsi;
    uint16_t vol_id;
    char *base;            /* path below the volume from the URL; "" for none */
    char volume[256];
    char host[256];        /* for attention messages */
    bool logged_in;
    bool ext_attrs;        /* the volume has kSupportsExtAttrs */
    size_t name_max;       /* bytes in a name we create (afp_name_max_for) */
};

/* One FPWriteExt of a write call. */
struct write_chunk {
    uint16_t fork;
    uint64_t off;
    size_t len;
    int rc;                 /* transport: 0 or -errno */
    int32_t code;           /* AFP result */
    uint8_t reply[64];
    size_t reply_len;
};

struct sfs_file {
    uint16_t fork;
    struct sfs_conn *conn;
    /* Write-behind (afp_write): FPWriteExt requests sent, their replies
     * not read yet, oldest at wb_head; the first failure among them,
     * returned by the next write, fsync or close.  Under wb_lock. */
    pthread_mutex_t wb_lock;
    struct write_chunk wb[WRITE_BEHIND];
    struct dsi_call wb_call[WRITE_BEHIND];
    unsigned wb_head, wb_count;
    struct sfs_write_error wb_err;
};

static int out_of_memory(struct sfs_status *st, enum sfs_stage stage)
{
    return sfs_status_set(st, stage, ENOMEM, SFS_DOMAIN_SYS, ENOMEM, "out of memory");
}

static void join_list(char *out, size_t cap, char list[][AFP_SRVRINFO_STR], size_t n)
{
    out[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < n && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? ", " : "", list[i]);
}

/* Path below the volume root for a path below the mount root, in a new
 * string: 0, or -errno with *st filled and nothing sent.  The limits are
 * the protocol's (a name a server can store, the u16 length of an AFP
 * pathname, checked again when it is encoded), not a buffer of ours: the
 * FUSE layer hands over paths from the mount root, longer than PATH_MAX
 * when a program works deep inside it with relative paths. */
static int full_path(const struct sfs_conn *c, const char *path, enum sfs_stage stage, char **out,
                     struct sfs_status *st)
{
    while (*path == '/')
        path++;
    int rc = sfs_path_check(path, stage, "AFP path", st);
    if (rc < 0)
        return rc;
    size_t n = strlen(c->base) + 1 + strlen(path);
    if (n > AFP_PATH_MAX)
        return sfs_status_set(st, stage, ENAMETOOLONG, SFS_DOMAIN_SYS, ENAMETOOLONG,
                              "\"%.80s...\": path too long for AFP (%zu bytes, at most %d)", path, n, AFP_PATH_MAX);
    *out = malloc(n + 1);
    if (!*out)
        return out_of_memory(st, stage);
    snprintf(*out, n + 1, "%s%s%s", c->base, *c->base && *path ? "/" : "", path);
    return 0;
}

static void free_path(char **p)
{
    free(*p);
}

/* Declares VAR, the volume path of P (freed when VAR goes out of scope),
 * or returns the failure. */
#define AFP_FULL_PATH(var, p, stage)                                                                       \
    __attribute__((cleanup(free_path))) char *var = NULL;                                                  \
    do {                                                                                                   \
        int var##_rc = full_path(c, p, stage, &var, st);                                                   \
        if (var##_rc < 0)                                                                                  \
            return var##_rc;                                                                               \
    } while (0)

static void fill_server_info(const struct afp_srvrinfo *si, struct sfs_server_info *info)
{
    snprintf(info->server_name, sizeof(info->server_name), "%.127s", si->has_utf8_name ? si->utf8_name : si->server_name);
    snprintf(info->server_os, sizeof(info->server_os), "%.127s", si->machine_type);
    join_list(info->versions, sizeof(info->versions), (char (*)[AFP_SRVRINFO_STR])si->versions, si->n_versions);
    join_list(info->uams, sizeof(info->uams), (char (*)[AFP_SRVRINFO_STR])si->uams, si->n_uams);
    info->flags = si->flags;
    for (size_t i = 0; i < si->n_dirnames; i++)
        if (strchr(si->dirnames[i], '@')) {
            snprintf(info->principal, sizeof(info->principal), "%s", si->dirnames[i]);
            break;
        }
}

/* FPGetSrvrInfo on its own connection: who the server is and what it offers. */
static int stage_get_status(const struct sfs_target *t, const struct sfs_addr *addr, struct afp_srvrinfo *si,
                            struct sfs_server_info *info, struct sfs_status *st)
{
    int fd = sfs_net_connect(addr, t->timeout_ms, st);
    if (fd < 0)
        return fd;
    uint8_t *reply = NULL;
    size_t len = 0;
    int rc = dsi_get_status(fd, t->timeout_ms, &reply, &len, st);
    if (rc < 0)
        return rc;
    rc = afp_srvrinfo_parse(reply, len, si);
    free(reply);
    if (rc < 0)
        return sfs_status_set(st, SFS_STAGE_NEGOTIATE, EPROTO, SFS_DOMAIN_SYS, EPROTO,
                              "FPGetSrvrInfo reply is malformed (%zu bytes)", len);
    fill_server_info(si, info);
    return 0;
}

/* FPGetSrvrInfo, or the answer kept from an earlier connect to ADDR
 * (reuse_server_answer) unless ASK, which asks and keeps the new one. */
static int stage_server_answer(const struct sfs_target *t, bool ask, const struct sfs_addr *addr,
                               struct afp_srvrinfo *si, struct sfs_server_info *info, struct sfs_status *st)
{
    if (t->reuse_server_answer && !ask &&
        sfs_answer_cache_get("afp", addr, si, sizeof(*si), info->answer_of, sizeof(info->answer_of))) {
        fill_server_info(si, info);
        return 0;
    }
    int rc = stage_get_status(t, addr, si, info, st);
    if (t->reuse_server_answer && rc == 0)
        sfs_answer_cache_put("afp", addr, si, sizeof(*si), t->label);
    else if (t->reuse_server_answer)
        sfs_answer_cache_forget("afp", addr);
    return rc;
}

static int check_uam(const struct sfs_target *t, const struct afp_srvrinfo *si, const struct afp_uam **uam,
                     struct sfs_status *st)
{
    if (!afp_srvrinfo_has_uam(si, t->auth.uam)) {
        char offered[512];
        join_list(offered, sizeof(offered), (char (*)[AFP_SRVRINFO_STR])si->uams, si->n_uams);
        return sfs_status_set(st, SFS_STAGE_AUTHENTICATE, EPROTONOSUPPORT, SFS_DOMAIN_AFP, -5002,
                              "the server does not offer the UAM \"%s\"; it offers: %s", t->auth.uam,
                              offered[0] ? offered : "(none)");
    }
    if (t->auth.kind == SFS_AUTH_KRB5)
        return 0;   /* stage_login_krb5, not a password UAM */
    *uam = afp_uam_find(t->auth.uam);
    if (!*uam)
        return sfs_status_set(st, SFS_STAGE_AUTHENTICATE, EPROTONOSUPPORT, SFS_DOMAIN_NONE, 0,
                              "the server offers the UAM \"%s\" but sharesfs does not implement it yet",
                              t->auth.uam);
    return 0;
}

static int login_refused(const struct afp_login *l, struct sfs_status *st)
{
    const char *name = sfs_afp_result_name(l->result);
    return sfs_status_set(st, SFS_STAGE_AUTHENTICATE,
                          sfs_errno_for_afp(l->result) ? sfs_errno_for_afp(l->result) : EACCES, SFS_DOMAIN_AFP,
                          l->result, "%s: %s (%s %d)%s%s", l->uam->name, afp_login_outcome_name(l->outcome),
                          name ? name : "AFP result", (int)l->result, l->detail[0] ? ": " : "", l->detail);
}

/* A login that failed on our side or on a reply it could not use. */
static int login_failed(const struct afp_login *l, int rc, struct sfs_status *st)
{
    /* A local failure (crypto library, memory; before any reply when the
     * first request cannot be built) is ours, not the server's: its errno. */
    bool local = l->outcome == AFP_LOGIN_LOCAL_ERROR && rc < 0;
    return sfs_status_set(st, SFS_STAGE_AUTHENTICATE, local ? -rc : EPROTO, local ? SFS_DOMAIN_NONE : SFS_DOMAIN_AFP,
                          local ? 0 : l->result, "%s: %s: %s", l->uam->name, afp_login_outcome_name(l->outcome),
                          l->detail);
}

/* Sends W (the login's first request) and each request the UAM makes of
 * the server's reply until the login ends. */
static int login_exchange(struct sfs_conn *c, struct afp_login *l, struct afp_writer *w, struct sfs_status *st)
{
    uint8_t reply[LOGIN_REPLY_MAX];
    struct afp_call q = {.stage = SFS_STAGE_AUTHENTICATE, .what = l->uam->name, .reply = reply, .cap = sizeof(reply)};
    int rc;
    do {
        rc = afp_exchange(c->dsi, w, &q, st);
        if (rc < 0)
            return rc;
        afp_writer_init(w);
        rc = afp_login_continue(l, q.code, q.reply, q.len, w);
    } while (rc == AFP_LOGIN_MORE);
    if (rc == AFP_LOGIN_SERVER_REFUSED)
        return login_refused(l, st);
    return rc < 0 ? login_failed(l, rc, st) : 0;
}

static int stage_login(struct sfs_conn *c, const struct sfs_target *t, const struct afp_uam *uam,
                       const char *version, struct sfs_status *st)
{
    struct afp_login l;
    const char *user = t->creds.user ? t->creds.user : "";
    const char *pw = t->creds.password ? t->creds.password : "";
    if (afp_login_init(&l, uam, version, user, pw, false) < 0) {
        int rc = sfs_status_set(st, SFS_STAGE_AUTHENTICATE, EINVAL, SFS_DOMAIN_NONE, 0, "%s: %s", uam->name, l.detail);
        afp_login_cleanup(&l);
        return rc;
    }
    struct afp_writer w;
    afp_writer_init(&w);
    int rc = afp_login_start(&l, &w);
    rc = rc < 0 ? login_failed(&l, rc, st) : login_exchange(c, &l, &w, st);
    afp_writer_free(&w);
    afp_login_cleanup(&l);
    return rc;
}

/* FPGetSrvrParms: the volumes this login may see, comma-separated.  Only
 * said in a refused mount's detail, so its own failure is not reported. */
static void list_volumes(struct sfs_conn *c, char *out, size_t cap)
{
    out[0] = '\0';
    struct afp_call q = {.stage = SFS_STAGE_MOUNT, .reply = malloc(SRVRPARMS_REPLY_MAX), .cap = SRVRPARMS_REPLY_MAX};
    struct afp_writer w;
    afp_writer_init(&w);
    afp_encode_getsrvrparms(&w);
    struct afp_srvrparms sp;
    struct afp_srvr_volume vol;
    size_t used = 0;
    if (q.reply && afp_request(c->dsi, &w, &q, NULL) == 0 && afp_srvrparms_init(&sp, q.reply, q.len) == 0)
        while (used < cap && afp_srvrparms_next(&sp, &vol) > 0)
            used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? ", " : "", vol.name);
    afp_writer_free(&w);
    free(q.reply);
}

static int gss_fail(struct sfs_status *st, const char *what, OM_uint32 major, OM_uint32 minor)
{
    char text[400] = "";
    size_t used = 0;
    OM_uint32 ctx = 0, min2;
    gss_buffer_desc msg;
    do {
        if (gss_display_status(&min2, minor ? minor : major, minor ? GSS_C_MECH_CODE : GSS_C_GSS_CODE,
                               GSS_C_NO_OID, &ctx, &msg) != GSS_S_COMPLETE)
            break;
        used += (size_t)snprintf(text + used, used < sizeof(text) ? sizeof(text) - used : 0, "%s%.*s",
                                 used ? "; " : "", (int)msg.length, (char *)msg.value);
        gss_release_buffer(&min2, &msg);
    } while (ctx && used < sizeof(text));
    const char *kname = minor ? sfs_krb5_error_name((long)(int32_t)minor) : NULL;
    if (kname)
        return sfs_status_set(st, SFS_STAGE_AUTHENTICATE, EACCES, SFS_DOMAIN_KRB5, (long)(int32_t)minor,
                              "%s: %s (%s)", what, kname, text);
    return sfs_status_set(st, SFS_STAGE_AUTHENTICATE, EACCES, SFS_DOMAIN_GSS, major, "%s: %s", what, text);
}

/* FPLoginExt for "Client Krb v2", then FPLoginCont with the AP-REQ TOKEN
 * for SERVICE; the server's answer (its AP-REP) is left in Q. */
static int krb5_send_token(struct sfs_conn *c, const char *version, const char *user, const char *service,
                           const gss_buffer_desc *token, struct afp_call *q, struct sfs_status *st)
{
    struct afp_writer w;
    afp_writer_init(&w);
    afp_encode_login_ext(&w, version, AFP_UAM_KRB5, user);
    int rc = afp_exchange(c->dsi, &w, q, st);
    uint16_t id = 0;
    if (rc < 0)
        return rc;
    if (q->code != kFPAuthContinue)
        return afp_call_refused(q, st);
    if (afp_gss_decode_login_id(q->reply, q->len, &id) < 0)
        return afp_call_malformed(q, st);
    afp_writer_init(&w);
    afp_gss_encode_logincont(&w, id, user, token->value, token->length);
    rc = afp_exchange(c->dsi, &w, q, st);
    if (rc == 0 && q->code == kFPMiscErr)
        /* netatalk's answer when gss_accept_sec_context fails. */
        return sfs_status_set(st, SFS_STAGE_AUTHENTICATE, EACCES, SFS_DOMAIN_AFP, q->code,
                              "the server rejected the Kerberos token for %s: kFPMiscErr (-5014), its "
                              "GSS acceptor failed (keytab without %s, or the server's clock is skewed)",
                              service, service);
    return rc == 0 && q->code != kFPNoErr ? afp_call_refused(q, st) : rc;
}

/* Mutual authentication: the server's AP-REP (the reply in Q) must
 * complete our context. */
static int krb5_check_reply(const struct afp_call *q, gss_ctx_id_t *gctx, gss_name_t target, struct sfs_status *st)
{
    const uint8_t *tok = NULL;
    size_t tlen = 0;
    if (afp_gss_decode_reply_token(q->reply, q->len, &tok, &tlen) < 0 || tlen == 0)
        return sfs_status_set(st, SFS_STAGE_AUTHENTICATE, EACCES, SFS_DOMAIN_AFP, 0,
                              "the server sent no Kerberos reply token: mutual authentication failed");
    OM_uint32 minor, ignored;
    gss_buffer_desc in_tok = {.length = tlen, .value = (void *)tok};
    gss_buffer_desc more = GSS_C_EMPTY_BUFFER;
    OM_uint32 major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, gctx, target, (gss_OID)gss_mech_krb5,
                                           GSS_C_MUTUAL_FLAG, 0, GSS_C_NO_CHANNEL_BINDINGS, &in_tok, NULL, &more,
                                           NULL, NULL);
    gss_release_buffer(&ignored, &more);   /* not &minor: gss_fail names its error */
    if (major != GSS_S_COMPLETE)
        return gss_fail(st, "the server's Kerberos reply failed mutual authentication", major, minor);
    return 0;
}

/* Client Krb v2: pre-flight the ccache and service ticket, then FPLoginExt,
 * then FPLoginCont with the AP-REQ, and check the server's AP-REP. */
static int stage_login_krb5(struct sfs_conn *c, const struct sfs_target *t, const char *version,
                            const char *advertised, struct sfs_status *st)
{
    struct krb5_preflight pf;
    /* The server's own principal wins: it is what its keytab holds. */
    int rc = sfs_krb5_preflight(t->krb5_ccache, advertised[0] ? advertised : NULL, "afpserver", t->url->host,
                                advertised[0] ? advertised : NULL, &pf, st);
    if (rc < 0)
        return rc;
    char user[256];
    snprintf(user, sizeof(user), "%s", pf.client);
    char *at = strrchr(user, '@');
    if (at)
        *at = '\0';

    OM_uint32 major, minor;
    gss_name_t target = GSS_C_NO_NAME;
    gss_buffer_desc name_buf = {.length = strlen(pf.service), .value = pf.service};
    major = gss_import_name(&minor, &name_buf, GSS_KRB5_NT_PRINCIPAL_NAME, &target);
    if (GSS_ERROR(major))
        return gss_fail(st, "gss_import_name", major, minor);
    if (t->krb5_ccache)
        gss_krb5_ccache_name(&minor, t->krb5_ccache, NULL);
    gss_ctx_id_t gctx = GSS_C_NO_CONTEXT;
    gss_buffer_desc out_tok = GSS_C_EMPTY_BUFFER;
    major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &gctx, target, (gss_OID)gss_mech_krb5,
                                 GSS_C_MUTUAL_FLAG, 0, GSS_C_NO_CHANNEL_BINDINGS, GSS_C_NO_BUFFER, NULL, &out_tok,
                                 NULL, NULL);
    if (GSS_ERROR(major)) {
        gss_release_name(&minor, &target);
        return gss_fail(st, "cannot make a Kerberos token", major, minor);
    }
    uint8_t reply[LOGIN_REPLY_MAX];
    struct afp_call q = {.stage = SFS_STAGE_AUTHENTICATE, .path = AFP_UAM_KRB5, .reply = reply, .cap = sizeof(reply)};
    rc = krb5_send_token(c, version, user, pf.service, &out_tok, &q, st);
    if (rc == 0)
        rc = krb5_check_reply(&q, &gctx, target, st);
    gss_release_buffer(&minor, &out_tok);
    gss_delete_sec_context(&minor, &gctx, GSS_C_NO_BUFFER);
    gss_release_name(&minor, &target);
    return rc;
}

/* A refused FPOpenVol says which volumes the login could have opened. */
static void append_volumes(struct sfs_conn *c, struct sfs_status *st)
{
    char vols[256];
    list_volumes(c, vols, sizeof(vols));
    size_t l = strlen(st->detail);
    snprintf(st->detail + l, sizeof(st->detail) - l, "; volumes this login can see: %s", vols[0] ? vols : "(none)");
}

static int stage_open_volume(struct sfs_conn *c, const char *volume, struct sfs_status *st)
{
    struct afp_writer w;
    afp_writer_init(&w);
    afp_encode_openvol(&w, AFP_OPENVOL_BITMAP, volume, NULL);
    uint8_t reply[AFP_REPLY_SMALL];
    struct afp_call q = {.stage = SFS_STAGE_MOUNT, .path = volume, .reply = reply, .cap = sizeof(reply)};
    struct afp_volparms vp;
    int rc = afp_request(c->dsi, &w, &q, st);
    if (rc < 0 && q.code != kFPNoErr)
        append_volumes(c, st);
    else if (rc == 0 && afp_volparms_decode(q.reply, q.len, &vp) < 0)
        rc = afp_call_malformed(&q, st);
    if (rc == 0) {
        c->vol_id = vp.vol_id;
        c->ext_attrs = (vp.bitmap & kFPVolAttributeBit) && (vp.attributes & kSupportsExtAttrs);
    }
    return rc;
}

/* DSIAttention from the server: logged once logged in; a shutdown also ends
 * the session, which the mount notices as a lost connection.  Before that,
 * servers send a shutdown attention after every refused login (netatalk):
 * the login's own result says why, so it is not logged. */
static void on_attention(void *ctx, uint16_t flags)
{
    const struct sfs_conn *c = ctx;
    const char *host = c->host;
    if (!__atomic_load_n(&c->logged_in, __ATOMIC_ACQUIRE))
        return;
    if (flags & 0x8000)
        g_log_structured("sharesfs", G_LOG_LEVEL_WARNING, "SHARESFS_SERVER", host, "MESSAGE",
                         "AFP server %s is shutting down in %u minutes", host, flags & 0x0fff);
    else if (flags & 0x2000)
        g_log_structured("sharesfs", G_LOG_LEVEL_MESSAGE, "SHARESFS_SERVER", host, "MESSAGE",
                         "AFP server %s has a message for its users (attention 0x%04x)", host, flags);
    else
        g_log_structured("sharesfs", G_LOG_LEVEL_INFO, "SHARESFS_SERVER", host, "MESSAGE",
                         "AFP server %s sent attention 0x%04x", host, flags);
}

/* The longest name worth creating on a server.  netatalk (3.1.12 and
 * 4.2.3 seen) creates a name of 254 or 255 bytes but then refuses to
 * delete or rename it (kFPParamErr: its "._" AppleDouble name would be
 * two bytes over Linux's 255), so sharesfs refuses to make one
 * (ENAMETOOLONG) rather than leave an object no client can remove. */
static size_t afp_name_max_for(const struct afp_srvrinfo *si)
{
    return strncasecmp(si->machine_type, "Netatalk", 8) == 0 ? 253 : 255;
}

/* A name CREATE would make that the server cannot take back: *st filled. */
static int new_name_check(const struct sfs_conn *c, const char *path, struct sfs_status *st)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    if (strlen(name) <= c->name_max)
        return 0;
    return sfs_status_set(st, SFS_STAGE_WRITE, ENAMETOOLONG, SFS_DOMAIN_SYS, ENAMETOOLONG,
                          "\"%.80s...\": %zu bytes; this server cannot delete or rename a name of more than %zu bytes,"
                          " so none is created", name, strlen(name), c->name_max);
}

/* server_info: the GetStatus stage alone: no session, no login. */
static int afp_server_info(const struct sfs_target *t, struct sfs_server_info *info, struct sfs_server_facts *facts,
                           struct sfs_status *st)
{
    memset(info, 0, sizeof(*info));
    struct sfs_addr addr;
    int rc = sfs_net_resolve(t->url->host, sfs_url_port(t->url), &addr, st);
    if (rc < 0)
        return rc;
    snprintf(info->address, sizeof(info->address), "%s", addr.text);
    struct afp_srvrinfo *si = calloc(1, sizeof(*si));
    if (!si)
        return out_of_memory(st, SFS_STAGE_NEGOTIATE);
    rc = stage_get_status(t, &addr, si, info, st);
    if (rc == 0)
        afp_srvrinfo_facts(si, facts);
    free(si);
    return rc;
}

static int afp_connect_once(const struct sfs_target *t, bool ask, struct sfs_conn **out,
                            struct sfs_server_info *info, sfs_stage_cb cb, void *cb_ctx, struct sfs_status *st)
{
    memset(info, 0, sizeof(*info));
    struct sfs_addr addr;
    int fd = sfs_stage_resolve_connect(t, &addr, info, cb, cb_ctx, st);
    if (fd < 0)
        return fd;

    double t0 = sfs_now_ms();
    int rc = 0;
    struct afp_srvrinfo *si = calloc(1, sizeof(*si));
    if (!si) {
        close(fd);
        return out_of_memory(st, SFS_STAGE_NEGOTIATE);
    }
    struct afp_version_choice version;
    const struct afp_uam *uam = NULL;
    char detail[256] = "";
    rc = stage_server_answer(t, ask, &addr, si, info, st);
    if (rc == 0 && afp_version_pick(si, &version, detail, sizeof(detail)) < 0)
        rc = sfs_status_set(st, SFS_STAGE_NEGOTIATE, EPROTONOSUPPORT, SFS_DOMAIN_AFP, -5003, "%s", detail);
    if (rc == 0)
        snprintf(info->dialect, sizeof(info->dialect), "%s", version.name);
    struct sfs_conn *c = rc == 0 ? calloc(1, sizeof(*c)) : NULL;
    if (rc == 0 && !c)
        rc = out_of_memory(st, SFS_STAGE_NEGOTIATE);
    if (rc == 0) {
        snprintf(c->host, sizeof(c->host), "%s", t->url->host);
        c->name_max = afp_name_max_for(si);
        struct dsi_options o = {.timeout_ms = t->timeout_ms, .on_attention = on_attention, .cb_ctx = c};
        rc = dsi_session_open(fd, &o, &c->dsi, st);
        fd = -1;
    }
    if (rc == 0 && cb)
        cb(cb_ctx, SFS_STAGE_NEGOTIATE, sfs_now_ms() - t0, NULL);

    t0 = sfs_now_ms();
    struct sfs_target chosen;
    if (rc == 0 && t->auth.auto_krb5 && afp_srvrinfo_has_uam(si, AFP_UAM_KRB5)) {
        /* No UAM named: Kerberos when the user has a usable ticket for this
         * server (the pre-flight says so without sending anything), else guest. */
        struct krb5_preflight pf;
        struct sfs_status quiet = {0};
        if (sfs_krb5_preflight(t->krb5_ccache, info->principal[0] ? info->principal : NULL, "afpserver",
                               t->url->host, NULL, &pf, &quiet) == 0) {
            chosen = *t;
            chosen.auth.kind = SFS_AUTH_KRB5;
            snprintf(chosen.auth.uam, sizeof(chosen.auth.uam), "%s", AFP_UAM_KRB5);
            t = &chosen;
        }
    }
    if (rc == 0)
        snprintf(info->auth_used, sizeof(info->auth_used), "%s", t->auth.uam);
    if (rc == 0)
        rc = check_uam(t, si, &uam, st);
    if (rc == 0)
        rc = t->auth.kind == SFS_AUTH_KRB5 ? stage_login_krb5(c, t, version.name, info->principal, st)
                                           : stage_login(c, t, uam, version.name, st);
    if (rc == 0)
        __atomic_store_n(&c->logged_in, true, __ATOMIC_RELEASE);   /* read by the DSI reader thread */
    if (rc == 0 && cb)
        cb(cb_ctx, SFS_STAGE_AUTHENTICATE, sfs_now_ms() - t0, NULL);

    t0 = sfs_now_ms();
    if (rc == 0) {
        snprintf(c->volume, sizeof(c->volume), "%s", t->url->share);
        c->base = strdup(t->url->path ? t->url->path : "");
        rc = c->base ? stage_open_volume(c, t->url->share, st)
                     : out_of_memory(st, SFS_STAGE_MOUNT);
    }
    if (rc == 0 && cb)
        cb(cb_ctx, SFS_STAGE_MOUNT, sfs_now_ms() - t0, NULL);
    free(si);
    if (fd >= 0)
        close(fd);
    if (rc < 0) {
        if (c) {
            dsi_session_close(c->dsi);
            free(c->base);
            free(c);
        }
        return rc;
    }
    *out = c;
    return 0;
}

/* A connect that fails before its login on an FPGetSrvrInfo answer kept
 * from another connect (reuse_server_answer) is tried once more asking the
 * server itself, so that the row is what a connect of its own gives. */
static int afp_connect(const struct sfs_target *t, struct sfs_conn **out, struct sfs_server_info *info,
                       sfs_stage_cb cb, void *cb_ctx, struct sfs_status *st)
{
    struct sfs_server_info scratch;
    if (!info)
        info = &scratch;
    int rc = afp_connect_once(t, false, out, info, cb, cb_ctx, st);
    if (rc == 0 || !sfs_kept_answer_retry(info, st))
        return rc;
    memset(st, 0, sizeof(*st));
    return afp_connect_once(t, true, out, info, cb, cb_ctx, st);
}

/* The request a call sends only to tidy up (FPLogout, FPCloseFork): no one
 * is left to hear of its failure, and a dead session sends nothing. */
static void send_best_effort(struct sfs_conn *c, struct afp_writer *w)
{
    uint8_t reply[64];
    struct afp_call q = {.stage = SFS_STAGE_NONE, .reply = reply, .cap = sizeof(reply)};
    afp_exchange(c->dsi, w, &q, NULL);
}

static void afp_disconnect(struct sfs_conn *c)
{
    if (!c)
        return;
    struct afp_writer w;
    afp_writer_init(&w);
    afp_encode_logout(&w);
    send_best_effort(c, &w);
    dsi_session_close(c->dsi);
    free(c->base);
    free(c);
}

/* Finder type and creator of a symbolic link (Mac OS X, netatalk). */
#define SYMLINK_FINDER_INFO "slnkrhap"

static bool finder_info_is_symlink(const struct afp_node *n)
{
    return !n->is_dir && (n->bitmap & kFPFinderInfoBit) &&
           memcmp(n->finder_info, SYMLINK_FINDER_INFO, 8) == 0;
}

static void node_to_stat(const struct afp_node *n, struct stat *out)
{
    memset(out, 0, sizeof(*out));
    mode_t type = n->is_dir ? S_IFDIR : S_IFREG;
    if ((n->bitmap & kFPUnixPrivsBit) && (n->unix_privs.mode & S_IFMT))
        out->st_mode = n->unix_privs.mode;
    else
        out->st_mode = type | (n->is_dir ? 0755 : 0644);
    if ((out->st_mode & S_IFMT) != type && (out->st_mode & S_IFMT) != S_IFLNK)
        out->st_mode = type | (out->st_mode & 07777);
    /* A server that keeps links as files says so in the Finder info. */
    if (finder_info_is_symlink(n))
        out->st_mode = S_IFLNK | ((n->bitmap & kFPUnixPrivsBit) ? (out->st_mode & 07777) : 0777);
    if (n->bitmap & kFPUnixPrivsBit) {
        out->st_uid = n->unix_privs.uid;
        out->st_gid = n->unix_privs.gid;
    }
    out->st_nlink = n->is_dir ? 2u + n->offspring_count : 1;
    out->st_ino = n->node_id;
    out->st_size = n->is_dir ? 0 : (off_t)n->data_fork_len;
    out->st_blksize = 4096;
    out->st_blocks = (out->st_size + 511) / 512;
    out->st_mtime = out->st_ctime = afp_date_to_time(n->mod_date);
    out->st_atime = out->st_mtime;
}

static int afp_getattr(struct sfs_conn *c, const char *path, struct stat *out, struct sfs_status *st)
{
    AFP_FULL_PATH(full, path, SFS_STAGE_LIST);
    struct afp_writer w;
    afp_writer_init(&w);
    afp_encode_getfiledirparms(&w, c->vol_id, ROOT_DIR_ID, FILE_BITMAP, DIR_BITMAP, full);
    uint8_t reply[AFP_REPLY_SMALL];
    struct afp_call q = {.stage = SFS_STAGE_LIST, .path = full, .reply = reply, .cap = sizeof(reply)};
    struct afp_node node;
    int rc = afp_request(c->dsi, &w, &q, st);
    if (rc == 0 && afp_getfiledirparms_decode(q.reply, q.len, &node) < 0)
        rc = afp_call_malformed(&q, st);
    if (rc == 0)
        node_to_stat(&node, out);
    return rc;
}

/* Hands one entry to CB under its Linux name; nonzero: CB wants no more. */
static int emit_entry(const struct afp_node *node, sfs_dirent_cb cb, void *cb_ctx)
{
    char name[AFP_NAME_MAX + 1];
    if (afp_name_to_posix(node->name, node->name_len, name, sizeof(name)) < 0)
        return 0;   /* no Linux name for it */
    struct stat sb;
    node_to_stat(node, &sb);
    /* Mac servers send decomposed (NFD) names; Linux expects composed. */
    gchar *nfc = g_utf8_validate(name, -1, NULL) ? g_utf8_normalize(name, -1, G_NORMALIZE_NFC) : NULL;
    int stop = cb(cb_ctx, nfc ? nfc : name, &sb);
    g_free(nfc);
    return stop;
}

/* One directory being listed: where it is, and who gets its entries. */
struct listing {
    const char *path;       /* below the mount root */
    const char *full;       /* below the volume root */
    sfs_dirent_cb cb;
    void *cb_ctx;
};

/* One FPEnumerateExt2 from INDEX on (the reply into Q), each entry to the
 * listing's callback: how many entries came (more may follow), 0 at the
 * end or when the callback has had enough, or -errno with *st filled. */
static int enumerate_batch(struct sfs_conn *c, const struct listing *ls, uint32_t index, struct afp_call *q,
                           struct sfs_status *st)
{
    struct afp_writer w;
    afp_writer_init(&w);
    afp_encode_enumerate_ext2(&w, c->vol_id, ROOT_DIR_ID, FILE_BITMAP, DIR_BITMAP, ENUM_BATCH, index,
                              (uint32_t)q->cap, ls->full);
    int rc = afp_exchange(c->dsi, &w, q, st);
    if (rc < 0)
        return rc;
    /* kFPObjectNotFound ends the directory, and is all an empty one says:
     * that it exists is asked before *st is touched (a success leaves it). */
    if (q->code == kFPObjectNotFound && (index > 1 || afp_getattr(c, ls->path, &(struct stat){0}, NULL) == 0))
        return 0;
    if (q->code != kFPNoErr)
        return afp_call_refused(q, st);
    struct afp_enum_reply e;
    struct afp_node node;
    int got = 0, stop = 0;
    rc = afp_enumerate_reply_init(&e, q->reply, q->len);
    while (rc >= 0 && !stop && (rc = afp_enumerate_reply_next(&e, &node)) > 0) {
        got++;
        stop = emit_entry(&node, ls->cb, ls->cb_ctx);
    }
    if (rc < 0)
        return afp_call_malformed(q, st);
    return stop ? 0 : got;
}

static int afp_readdir(struct sfs_conn *c, const char *path, sfs_dirent_cb cb, void *cb_ctx, struct sfs_status *st)
{
    AFP_FULL_PATH(full, path, SFS_STAGE_LIST);
    struct listing ls = {.path = path, .full = full, .cb = cb, .cb_ctx = cb_ctx};
    struct afp_call q = {.stage = SFS_STAGE_LIST, .path = full, .reply = malloc(ENUM_REPLY_MAX), .cap = ENUM_REPLY_MAX};
    if (!q.reply)
        return out_of_memory(st, SFS_STAGE_LIST);
    uint32_t index = 1;
    int got;
    while ((got = enumerate_batch(c, &ls, index, &q, st)) > 0)
        index += (uint32_t)got;
    free(q.reply);
    return got;
}

static int afp_ftruncate(struct sfs_conn *c, struct sfs_file *f, off_t size, struct sfs_status *st);
static int afp_release(struct sfs_conn *c, struct sfs_file *f);
static void wb_drain(struct sfs_conn *c, struct sfs_file *f);
static void wb_settle(struct sfs_conn *c, struct sfs_file *f);

static void close_fork(struct sfs_conn *c, uint16_t fork)
{
    struct afp_writer w;
    afp_writer_init(&w);
    afp_encode_closefork(&w, fork);
    send_best_effort(c, &w);
}

static int afp_open(struct sfs_conn *c, const char *path, int flags, struct sfs_file **out, struct sfs_status *st)
{
    AFP_FULL_PATH(full, path, SFS_STAGE_READ);
    uint16_t access = (flags & O_ACCMODE) == O_RDONLY ? kFPForkRead : (kFPForkRead | kFPForkWrite);
    struct afp_writer w;
    afp_writer_init(&w);
    afp_encode_openfork(&w, false, c->vol_id, ROOT_DIR_ID, kFPExtDataForkLenBit, access, full);
    uint8_t reply[AFP_REPLY_SMALL];
    struct afp_call q = {.stage = SFS_STAGE_READ, .path = full, .reply = reply, .cap = sizeof(reply)};
    struct afp_openfork_reply of;
    int rc = afp_request(c->dsi, &w, &q, st);
    if (rc == 0 && afp_openfork_decode(q.reply, q.len, &of) < 0)
        rc = afp_call_malformed(&q, st);
    if (rc < 0)
        return rc;
    struct sfs_file *f = calloc(1, sizeof(*f));
    if (!f) {
        close_fork(c, of.fork);
        return out_of_memory(st, SFS_STAGE_READ);
    }
    f->fork = of.fork;
    f->conn = c;
    pthread_mutex_init(&f->wb_lock, NULL);
    *out = f;
    if (flags & O_TRUNC) {
        rc = afp_ftruncate(c, f, 0, st);
        if (rc < 0) {
            afp_release(c, f);
            *out = NULL;
        }
    }
    return rc;
}

#define READ_PIPELINE 8             /* FPReadExt requests in flight per read call */
#define READ_CHUNK_MIN (64 * 1024)

static ssize_t read_result(int32_t code, size_t got, size_t want, bool *eof, struct sfs_status *st)
{
    if (!afp_readext_result_has_data(code))
        return afp_result_failed(st, SFS_STAGE_READ, "FPReadExt", NULL, code);
    if (got > want)
        return sfs_status_set(st, SFS_STAGE_READ, EPROTO, SFS_DOMAIN_SYS, EPROTO,
                              "FPReadExt returned %zu bytes for a request of %zu", got, want);
    *eof = code == -5009 || got < want;
    return (ssize_t)got;
}

/* One read call as a sliding window of READ_PIPELINE FPReadExt requests,
 * each straight into its part of BUF: a new request goes out as soon as
 * the oldest is answered, so the server streams them back to back and the
 * link never drains inside a call (waiting for a whole batch of 8 before
 * the next left it idle for a round trip, and an 8 MiB window's ninth,
 * 8 KiB request for another).  Answers are collected in offset order;
 * after a short one (end of file) or a failure nothing more is sent. */
static ssize_t afp_read_direct(struct sfs_conn *c, struct sfs_file *f, char *buf, size_t size, off_t off,
                               struct sfs_status *st)
{
    size_t quantum = dsi_server_quantum(c->dsi);
    size_t max = quantum > 2048 ? quantum - 1024 : quantum;   /* room for the reply header */
    size_t chunk = size / READ_PIPELINE;
    chunk = chunk < READ_CHUNK_MIN ? READ_CHUNK_MIN : chunk;
    chunk = chunk > max ? max : chunk;
    struct dsi_call calls[READ_PIPELINE];
    size_t want[READ_PIPELINE];
    unsigned sent = 0, collected = 0;   /* requests; sent - collected are in flight */
    size_t asked = 0, total = 0;
    ssize_t failed = 0;
    bool eof = false;
    for (;;) {
        while (failed == 0 && !eof && asked < size && sent - collected < READ_PIPELINE) {
            unsigned i = sent % READ_PIPELINE;
            want[i] = size - asked < chunk ? size - asked : chunk;
            struct afp_writer w;
            afp_writer_init(&w);
            afp_encode_readext(&w, f->fork, (uint64_t)off + asked, want[i]);
            int rc = afp_writer_error(&w) ? afp_writer_error(&w)
                                          : dsi_submit(c->dsi, w.buf, w.len, buf + asked, want[i], &calls[i]);
            afp_writer_free(&w);
            if (rc < 0) {
                failed = afp_transport_failed(st, SFS_STAGE_READ, "FPReadExt", rc);
                break;
            }
            asked += want[i];
            sent++;
        }
        if (collected == sent)
            break;
        /* Every request that went out is collected, even after an error. */
        unsigned i = collected++ % READ_PIPELINE;
        size_t got = 0;
        int32_t code = 0;
        int wrc = dsi_wait(c->dsi, &calls[i], &got, &code);
        if (failed < 0 || eof)
            continue;
        if (wrc < 0) {
            failed = afp_transport_failed(st, SFS_STAGE_READ, "FPReadExt", wrc);
            continue;
        }
        ssize_t r = read_result(code, got, want[i], &eof, st);
        if (r < 0)
            failed = r;
        else
            total += (size_t)r;
    }
    return failed < 0 ? failed : (ssize_t)total;
}

/* Read-ahead (the engine's wrapper) asks for windows of 1-8 MiB: that is
 * READ_PIPELINE requests of up to the quantum in flight, where the
 * kernel's 128 KiB reads alone would be two small ones. */
static ssize_t afp_read(struct sfs_conn *c, struct sfs_file *f, char *buf, size_t size, off_t off,
                        struct sfs_status *st)
{
    wb_settle(c, f);
    return afp_read_direct(c, f, buf, size, off, st);
}

/* Nothing is told of a failure: the kernel has forgotten the file. */
static int afp_release(struct sfs_conn *c, struct sfs_file *f)
{
    wb_settle(c, f);   /* a failure left here was returned by close's flush, or nobody asked */
    close_fork(c, f->fork);
    pthread_mutex_destroy(&f->wb_lock);
    free(f);
    return 0;
}

static int afp_statfs(struct sfs_conn *c, const char *path, struct statvfs *out, struct sfs_status *st)
{
    (void)path;
    struct afp_writer w;
    afp_writer_init(&w);
    afp_encode_getvolparms(&w, c->vol_id, kFPVolExtBytesFreeBit | kFPVolExtBytesTotalBit | kFPVolBlockSizeBit);
    uint8_t reply[AFP_REPLY_SMALL];
    struct afp_call q = {.stage = SFS_STAGE_LIST, .reply = reply, .cap = sizeof(reply)};
    struct afp_volparms vp;
    int rc = afp_request(c->dsi, &w, &q, st);
    if (rc == 0 && afp_volparms_decode(q.reply, q.len, &vp) < 0)
        rc = afp_call_malformed(&q, st);
    if (rc < 0)
        return rc;
    memset(out, 0, sizeof(*out));
    unsigned long bs = vp.block_size ? vp.block_size : 4096;
    out->f_bsize = out->f_frsize = bs;
    out->f_blocks = vp.ext_bytes_total / bs;
    out->f_bfree = out->f_bavail = vp.ext_bytes_free / bs;
    out->f_namemax = c->name_max;
    return 0;
}

/* ---- the write side: every call returns after the server's answer ---- */

/* A command whose reply is its result alone (the catalog and fork
 * commands): 0, or -errno with *st filled, its detail naming PATH. */
static int simple_call(struct sfs_conn *c, struct afp_writer *w, const char *path, struct sfs_status *st)
{
    uint8_t reply[AFP_REPLY_SMALL];
    struct afp_call q = {.stage = SFS_STAGE_WRITE, .path = path, .reply = reply, .cap = sizeof(reply)};
    return afp_request(c->dsi, w, &q, st);
}

#define AFP_PATH_OR_FAIL(var, p) AFP_FULL_PATH(var, p, SFS_STAGE_WRITE)

static int set_params(struct sfs_conn *c, const char *path, const struct afp_set_params *p, struct sfs_status *st)
{
    AFP_PATH_OR_FAIL(full, path);
    struct afp_writer w;
    afp_writer_init(&w);
    afp_encode_setfiledirparms(&w, c->vol_id, ROOT_DIR_ID, full, p);
    return simple_call(c, &w, full, st);
}

static int afp_chmod(struct sfs_conn *c, const char *path, mode_t mode, struct sfs_status *st)
{
    struct stat sb;
    int rc = afp_getattr(c, path, &sb, st);
    if (rc < 0)
        return rc;
    struct afp_set_params p = {.bitmap = kFPUnixPrivsBit};
    p.unix_privs.uid = sb.st_uid;
    p.unix_privs.gid = sb.st_gid;
    p.unix_privs.mode = (sb.st_mode & S_IFMT) | (mode & 07777);
    return set_params(c, path, &p, st);
}

/* Removes a file this call created and could not open: a failed create
 * leaves nothing behind.  Best effort (the create's failure is reported). */
static void delete_new_file(struct sfs_conn *c, const char *full)
{
    struct afp_writer w;
    afp_writer_init(&w);
    afp_encode_delete(&w, c->vol_id, ROOT_DIR_ID, full);
    struct sfs_status ignored = {0};
    simple_call(c, &w, full, &ignored);
}

/* An existing file is opened as it is unless O_EXCL.  A new one is empty
 * (no truncate: a server may refuse FPSetForkParms where it allowed the
 * create) and gets MODE once its fork is open, as on a local filesystem:
 * the creator writes through its descriptor whatever MODE says (0444, 0).
 * The mode is always set: real netatalk creates with umask 0000 (0666),
 * so skipping the "usual" 0644 left files world-writable on the server.
 * Best effort: servers without Unix privileges keep theirs. */
static int afp_create(struct sfs_conn *c, const char *path, mode_t mode, int flags, struct sfs_file **out,
                      struct sfs_status *st)
{
    AFP_PATH_OR_FAIL(full, path);
    int rc = new_name_check(c, path, st);
    if (rc < 0)
        return rc;
    struct afp_writer w;
    afp_writer_init(&w);
    afp_encode_createfile(&w, false, c->vol_id, ROOT_DIR_ID, full);
    uint8_t reply[AFP_REPLY_SMALL];
    struct afp_call q = {.stage = SFS_STAGE_WRITE, .path = full, .reply = reply, .cap = sizeof(reply)};
    rc = afp_exchange(c->dsi, &w, &q, st);
    if (rc < 0)
        return rc;
    bool existed = q.code == kFPObjectExists;
    if (q.code != kFPNoErr && (!existed || (flags & O_EXCL)))
        return afp_call_refused(&q, st);
    if (existed)
        return afp_open(c, path, flags & ~O_CREAT, out, st);
    rc = afp_open(c, path, flags & ~(O_CREAT | O_TRUNC), out, st);
    if (rc < 0) {
        delete_new_file(c, full);
        return rc;
    }
    afp_chmod(c, path, mode, NULL);
    return 0;
}

/* Bytes of CH the server acknowledged from its start (fewer than sent: a
 * short write), or -errno with *st filled. */
static ssize_t write_chunk_acked(const struct write_chunk *ch, struct sfs_status *st)
{
    if (ch->rc < 0)
        return afp_transport_failed(st, SFS_STAGE_WRITE, "FPWriteExt", ch->rc);
    if (ch->code != kFPNoErr)
        return afp_result_failed(st, SFS_STAGE_WRITE, "FPWriteExt", NULL, ch->code);
    uint64_t end = 0;
    if (afp_writeext_decode(ch->reply, ch->reply_len, &end) < 0)
        return sfs_status_set(st, SFS_STAGE_WRITE, EPROTO, SFS_DOMAIN_SYS, EPROTO, "FPWriteExt reply is malformed");
    if (end <= ch->off)
        return sfs_status_set(st, SFS_STAGE_WRITE, EIO, SFS_DOMAIN_SYS, EIO,
                              "FPWriteExt: the server acknowledged none of the %zu bytes sent", ch->len);
    return (ssize_t)(end - ch->off < ch->len ? end - ch->off : ch->len);
}

/* As few requests as the server's quantum allows, of equal size, but at
 * least two from WRITE_SPLIT_MIN on so the server writes one while the
 * next arrives: each request costs system calls at both ends, and more
 * of them were slower when the CPUs are the limit. */
static size_t write_chunk_size(const struct sfs_conn *c, size_t size)
{
    size_t quantum = dsi_server_quantum(c->dsi);
    size_t max = quantum > 2048 ? quantum - 1024 : quantum;   /* room for the request header */
    size_t parts = (size + max - 1) / max;
    if (parts < 2 && size >= WRITE_SPLIT_MIN)
        parts = 2;
    return parts ? (size + parts - 1) / parts : size;
}

/* Reads the reply to F's oldest write in flight.  Its failure, or a short
 * write (FUSE was told the write was whole), becomes F's error. */
static void wb_reap(struct sfs_conn *c, struct sfs_file *f)
{
    unsigned i = f->wb_head;
    struct write_chunk *ch = &f->wb[i];
    if (ch->rc == 0)
        ch->rc = dsi_wait(c->dsi, &f->wb_call[i], &ch->reply_len, &ch->code);
    struct sfs_status got = {0};
    ssize_t acked = write_chunk_acked(ch, &got);
    if (acked >= 0 && (size_t)acked < ch->len)
        acked = sfs_status_set(&got, SFS_STAGE_WRITE, EIO, SFS_DOMAIN_SYS, EIO,
                               "FPWriteExt: the server took %zd of %zu bytes of a write already acknowledged",
                               acked, ch->len);
    sfs_write_error_keep(&f->wb_err, (int)acked, &got);
    f->wb_head = (i + 1) % WRITE_BEHIND;
    f->wb_count--;
}

static void wb_drain(struct sfs_conn *c, struct sfs_file *f)
{
    while (f->wb_count > 0)
        wb_reap(c, f);
}

/* Before a read or a size change of F: its writes answered (a server may
 * serve one session's requests out of order), a failure kept for later. */
static void wb_settle(struct sfs_conn *c, struct sfs_file *f)
{
    pthread_mutex_lock(&f->wb_lock);
    wb_drain(c, f);
    pthread_mutex_unlock(&f->wb_lock);
}

/* Write-behind, pipelined: a call becomes FPWriteExt requests of at most
 * the server's request quantum, each sent (the data is in the socket when
 * dsi_write_submit returns) and left in flight; the call returns once all
 * are sent, with up to WRITE_BEHIND requests of the file unanswered.  So
 * the kernel hands over the next call while the server writes this one.
 * A failure met later is returned by the next write, fsync or close (the
 * contract in docs/architecture.md "Writes"). */
static ssize_t afp_write(struct sfs_conn *c, struct sfs_file *f, const char *buf, size_t size, off_t off,
                         struct sfs_status *st)
{
    size_t chunk = write_chunk_size(c, size);
    pthread_mutex_lock(&f->wb_lock);
    for (size_t pos = 0; pos < size && !f->wb_err.err;) {
        if (f->wb_count == WRITE_BEHIND) {
            wb_reap(c, f);
            continue;
        }
        size_t len = size - pos < chunk ? size - pos : chunk;
        unsigned i = (f->wb_head + f->wb_count) % WRITE_BEHIND;
        struct write_chunk *ch = &f->wb[i];
        *ch = (struct write_chunk){.fork = f->fork, .off = (uint64_t)off + pos, .len = len};
        struct afp_writer w;
        afp_writer_init(&w);
        afp_encode_writeext(&w, false, f->fork, ch->off, len);
        ch->rc = afp_writer_error(&w) ? afp_writer_error(&w)
                                      : dsi_write_submit(c->dsi, w.buf, w.len, buf + pos, len, ch->reply,
                                                         sizeof(ch->reply), &f->wb_call[i]);
        afp_writer_free(&w);
        f->wb_count++;
        pos += len;
    }
    ssize_t rc = sfs_write_error_report(&f->wb_err, false, st);
    pthread_mutex_unlock(&f->wb_lock);
    return rc < 0 ? rc : (ssize_t)size;
}

/* close(2): F's writes in flight answered, a failure not yet reported returned. */
static int afp_flush(struct sfs_conn *c, struct sfs_file *f, struct sfs_status *st)
{
    pthread_mutex_lock(&f->wb_lock);
    wb_drain(c, f);
    int rc = sfs_write_error_report(&f->wb_err, true, st);
    pthread_mutex_unlock(&f->wb_lock);
    return rc;
}

/* The volume's size in bytes, 0 when the server does not say. */
static uint64_t volume_bytes_total(struct sfs_conn *c)
{
    struct afp_writer w;
    afp_writer_init(&w);
    afp_encode_getvolparms(&w, c->vol_id, kFPVolExtBytesTotalBit);
    uint8_t reply[AFP_REPLY_SMALL];
    struct afp_call q = {.stage = SFS_STAGE_LIST, .reply = reply, .cap = sizeof(reply)};
    struct afp_volparms vp;
    struct sfs_status ignored = {0};
    if (afp_request(c->dsi, &w, &q, &ignored) < 0 || afp_volparms_decode(q.reply, q.len, &vp) < 0)
        return 0;
    return vp.ext_bytes_total;
}

/* A size the server's filesystem cannot hold comes back as kFPDiskFull
 * (netatalk: its ftruncate's EFBIG) or kFPMiscErr (Mac OS X, afpsim);
 * a local filesystem says EFBIG.  Only beyond the volume's size: a
 * refusal below it is a real full disk (ENOSPC) or a real error. */
static int afp_ftruncate(struct sfs_conn *c, struct sfs_file *f, off_t size, struct sfs_status *st)
{
    wb_settle(c, f);
    struct afp_writer w;
    afp_writer_init(&w);
    afp_encode_setforklen(&w, f->fork, (uint64_t)size);
    uint8_t reply[AFP_REPLY_SMALL];
    struct afp_call q = {.stage = SFS_STAGE_WRITE, .path = "(open file)", .reply = reply, .cap = sizeof(reply)};
    int rc = afp_exchange(c->dsi, &w, &q, st);
    if (rc < 0 || q.code == kFPNoErr)
        return rc;
    if (q.code == kFPDiskFull || q.code == kFPMiscErr) {
        uint64_t total = volume_bytes_total(c);
        if (total && (uint64_t)size > total)
            return sfs_status_set(st, SFS_STAGE_WRITE, EFBIG, SFS_DOMAIN_AFP, q.code,
                                  "FPSetForkParms: %lld bytes is more than the volume holds (%llu): %s (%d)",
                                  (long long)size, (unsigned long long)total, sfs_afp_result_name(q.code),
                                  (int)q.code);
    }
    return afp_call_refused(&q, st);
}

static int afp_fsync(struct sfs_conn *c, struct sfs_file *f, struct sfs_status *st)
{
    int rc = afp_flush(c, f, st);
    if (rc < 0)
        return rc;
    struct afp_writer w;
    afp_writer_init(&w);
    afp_encode_flushfork(&w, f->fork);
    return simple_call(c, &w, "(open file)", st);
}

static int afp_mkdir(struct sfs_conn *c, const char *path, mode_t mode, struct sfs_status *st)
{
    AFP_PATH_OR_FAIL(full, path);
    int rc = new_name_check(c, path, st);
    if (rc < 0)
        return rc;
    struct afp_writer w;
    afp_writer_init(&w);
    afp_encode_createdir(&w, c->vol_id, ROOT_DIR_ID, full);
    rc = simple_call(c, &w, full, st);
    if (rc == 0)
        afp_chmod(c, path, mode, NULL);   /* always, as for files (netatalk: 0777) */
    return rc;
}

/* FPDelete removes files and empty directories alike: unlink and rmdir
 * check the type first so they fail as POSIX says. */
static int delete_checked(struct sfs_conn *c, const char *path, bool want_dir, struct sfs_status *st)
{
    struct stat sb;
    int rc = afp_getattr(c, path, &sb, st);
    if (rc < 0)
        return rc;
    if (S_ISDIR(sb.st_mode) != want_dir)
        return sfs_status_set(st, SFS_STAGE_WRITE, want_dir ? ENOTDIR : EISDIR, SFS_DOMAIN_SYS, 0,
                              want_dir ? "rmdir: not a directory" : "unlink: is a directory");
    AFP_PATH_OR_FAIL(full, path);
    struct afp_writer w;
    afp_writer_init(&w);
    afp_encode_delete(&w, c->vol_id, ROOT_DIR_ID, full);
    struct sfs_status first = {0};
    rc = simple_call(c, &w, full, &first);
    if (rc == 0)
        return 0;
    /* netatalk cannot empty a folder it may not read (mode 0151:
     * FPDelete answers -1), where a local rmdir needs only the parent's
     * rights: give the owner its bits back and try once more, and put
     * the mode back if that fails too. */
    mode_t owner = want_dir ? S_IRWXU : S_IWUSR;
    if ((sb.st_mode & owner) != owner && afp_chmod(c, path, (sb.st_mode | owner) & 07777, NULL) == 0) {
        afp_writer_init(&w);
        afp_encode_delete(&w, c->vol_id, ROOT_DIR_ID, full);
        struct sfs_status again = {0};
        if (simple_call(c, &w, full, &again) == 0)
            return 0;
        afp_chmod(c, path, sb.st_mode & 07777, NULL);
    }
    if (st)
        *st = first;
    return rc;
}

static int afp_unlink(struct sfs_conn *c, const char *path, struct sfs_status *st)
{
    return delete_checked(c, path, false, st);
}

static int afp_rmdir(struct sfs_conn *c, const char *path, struct sfs_status *st)
{
    return delete_checked(c, path, true, st);
}

/* PATH without its leading '/', split into the length of its directory
 * part (0: the root) and its last name. */
static size_t split_path(const char *path, const char **rel, const char **name)
{
    while (*path == '/')
        path++;
    *rel = path;
    const char *slash = strrchr(path, '/');
    *name = slash ? slash + 1 : path;
    return slash ? (size_t)(slash - path) : 0;
}

/* POSIX rename on AFP: FPRename within a directory, FPMoveAndRename across;
 * an existing target is deleted first (AFP refuses to overwrite), which
 * is not atomic: a crash between the two leaves the target gone. */
static int afp_rename(struct sfs_conn *c, const char *from, const char *to, unsigned flags, struct sfs_status *st)
{
    struct stat src, dst;
    int rc = afp_getattr(c, from, &src, st);
    if (rc < 0)
        return rc;
    rc = sfs_path_check(to, SFS_STAGE_WRITE, "rename to", st);   /* before anything changes */
    if (rc < 0)
        return rc;
    rc = new_name_check(c, to, st);
    if (rc < 0)
        return rc;
    struct sfs_status probe = {0};
    if (afp_getattr(c, to, &dst, &probe) == 0) {
        if (flags & RENAME_NOREPLACE)
            return sfs_status_set(st, SFS_STAGE_WRITE, EEXIST, SFS_DOMAIN_SYS, EEXIST, "rename: target exists");
        if (S_ISDIR(src.st_mode) != S_ISDIR(dst.st_mode))
            return sfs_status_set(st, SFS_STAGE_WRITE, S_ISDIR(dst.st_mode) ? EISDIR : ENOTDIR, SFS_DOMAIN_SYS, 0,
                                  "rename: a file and a directory cannot replace each other");
        if (src.st_ino == dst.st_ino)
            return 0;
        rc = delete_checked(c, to, S_ISDIR(dst.st_mode), st);
        if (rc < 0)
            return rc;
    }
    const char *srel, *sname, *drel, *dname;
    size_t slen = split_path(from, &srel, &sname), dlen = split_path(to, &drel, &dname);
    AFP_PATH_OR_FAIL(full_from, from);
    struct afp_writer w;
    if (slen == dlen && memcmp(srel, drel, slen) == 0) {
        afp_writer_init(&w);
        afp_encode_rename(&w, c->vol_id, ROOT_DIR_ID, full_from, dname);
        return simple_call(c, &w, full_from, st);
    }
    __attribute__((cleanup(free_path))) char *ddir = strndup(drel, dlen);
    if (!ddir)
        return out_of_memory(st, SFS_STAGE_WRITE);
    AFP_PATH_OR_FAIL(full_ddir, ddir);
    afp_writer_init(&w);
    afp_encode_moveandrename(&w, c->vol_id, ROOT_DIR_ID, ROOT_DIR_ID, full_from, full_ddir, dname);
    return simple_call(c, &w, full_from, st);
}

static int afp_utimens(struct sfs_conn *c, const char *path, const struct timespec tv[2], struct sfs_status *st)
{
    /* AFP keeps no access time: tv[0] is dropped. */
    struct afp_set_params p = {.bitmap = kFPModDateBit, .mod_date = afp_date_from_time(tv[1].tv_sec)};
    return set_params(c, path, &p, st);
}

static bool afp_alive(struct sfs_conn *c)
{
    return dsi_session_error(c->dsi) == 0;
}

/* AFP servers keep a symlink's target as the data of its data fork. */
static int afp_readlink(struct sfs_conn *c, const char *path, char *buf, size_t size, struct sfs_status *st)
{
    struct sfs_file *f = NULL;
    int rc = afp_open(c, path, O_RDONLY, &f, st);
    if (rc < 0)
        return rc;
    ssize_t n = afp_read(c, f, buf, size > 1 ? size - 1 : 0, 0, st);
    afp_release(c, f);
    if (n < 0)
        return (int)n;
    buf[n] = '\0';
    return (int)n;
}

/* A file whose data fork is the target, typed 'slnk'/'rhap' as Mac OS X
 * clients do; netatalk turns it into a real symlink on its disk when the
 * Finder info is set.  Any failure removes the half-made file. */
static int afp_symlink(struct sfs_conn *c, const char *target, const char *path, struct sfs_status *st)
{
    size_t len = strlen(target);
    if (len == 0 || len >= 4096)
        return sfs_status_set(st, SFS_STAGE_WRITE, len ? ENAMETOOLONG : ENOENT, SFS_DOMAIN_SYS, 0,
                              "symlink: target length %zu", len);
    struct sfs_file *f = NULL;
    int rc = afp_create(c, path, 0644, O_WRONLY | O_EXCL, &f, st);
    if (rc < 0)
        return rc;
    ssize_t n = afp_write(c, f, target, len, 0, st);
    afp_release(c, f);
    if (n >= 0 && (size_t)n != len)
        n = sfs_status_set(st, SFS_STAGE_WRITE, EIO, SFS_DOMAIN_SYS, EIO, "symlink: short write of the target");
    struct afp_set_params p = {.bitmap = kFPFinderInfoBit};
    memcpy(p.finder_info, SYMLINK_FINDER_INFO, 8);
    rc = n < 0 ? (int)n : set_params(c, path, &p, st);
    if (rc < 0) {
        struct sfs_status ignored = {0};
        delete_checked(c, path, false, &ignored);
    }
    return rc;
}

/* ---- extended attributes: Linux "user.NAME" is AFP "NAME" ---- */

/* ENODATA, ERANGE, ENOTSUP and EEXIST are answers, not failures: they leave
 * *st alone (docs/afp.md), so they never become the mount's last error.
 * So do EINVAL and E2BIG for a request refused before it is sent. */

#define XATTR_USER_PREFIX "user."
#define XATTR_VALUE_MAX (64 * 1024)   /* Linux's XATTR_SIZE_MAX */
#define XATTR_REPLY_HEAD 6            /* FPGetExtAttr reply: u16 bitmap, u32 length, then the value */

/* netatalk lists these for the Finder info and the resource fork but does
 * not serve them through FPGetExtAttr: listing them would break copies. */
static bool xattr_synthetic(const char *afp_name)
{
    return strcmp(afp_name, "com.apple.FinderInfo") == 0 || strcmp(afp_name, "com.apple.ResourceFork") == 0;
}

/* The volume path of PATH, or -ENOTSUP (*st untouched) when the volume
 * keeps no extended attributes. */
static int xattr_path(const struct sfs_conn *c, const char *path, char **full, struct sfs_status *st)
{
    if (!c->ext_attrs)
        return -ENOTSUP;
    return full_path(c, path, SFS_STAGE_LIST, full, st);
}

/* The AFP name of a Linux name: "user.NAME" is "NAME"; other namespaces
 * are -ENOTSUP. */
static int xattr_afp_name(const char *name, const char **afp_name)
{
    size_t plen = strlen(XATTR_USER_PREFIX);
    if (strncmp(name, XATTR_USER_PREFIX, plen) != 0 || !name[plen])
        return -ENOTSUP;
    if (strlen(name + plen) > AFP_XATTR_NAME_MAX)
        return -ERANGE;   /* as Linux answers for a name over 255 bytes */
    *afp_name = name + plen;
    return 0;
}

/* Both of the above, for the operations on one attribute. */
static int xattr_target(const struct sfs_conn *c, const char *path, const char *name, const char **afp_name,
                        char **full, struct sfs_status *st)
{
    int rc = xattr_afp_name(name, afp_name);
    return rc < 0 ? rc : xattr_path(c, path, full, st);
}

/* "No such attribute": kFPItemNotFound since AFP 3.4, kFPMiscErr before. */
static bool xattr_missing(int32_t code)
{
    return code == kFPItemNotFound || code == kFPMiscErr;
}

/* FPGetExtAttr for WANT bytes (0: the size only), the reply into Q, whose
 * buffer holds what the request allows: 0 with q->code, or -errno with *st
 * filled. */
static int getextattr(struct sfs_conn *c, const char *full, const char *afp_name, size_t want, struct afp_call *q,
                      struct sfs_status *st)
{
    struct afp_writer w;
    afp_writer_init(&w);
    afp_encode_getextattr(&w, c->vol_id, ROOT_DIR_ID, AFP_XATTR_NOFOLLOW, 0, want,
                          want ? (uint32_t)(XATTR_REPLY_HEAD + want) : 0, full, afp_name);
    return afp_exchange(c->dsi, &w, q, st);
}

/* The size of an attribute, -ENODATA, or -errno with *st filled. */
static ssize_t xattr_size(struct sfs_conn *c, const char *full, const char *afp_name, struct sfs_status *st)
{
    uint8_t reply[AFP_REPLY_SMALL];
    struct afp_call q = {.stage = SFS_STAGE_READ, .path = full, .reply = reply, .cap = sizeof(reply)};
    int rc = getextattr(c, full, afp_name, 0, &q, st);
    uint32_t size = 0;
    const uint8_t *data;
    size_t n;
    if (rc < 0)
        return rc;
    if (xattr_missing(q.code))
        return -ENODATA;
    if (q.code != kFPNoErr)
        return afp_call_refused(&q, st);
    if (afp_getextattr_decode(q.reply, q.len, &size, &data, &n) < 0)
        return afp_call_malformed(&q, st);
    return (ssize_t)size;
}

/* The value in Q's FPGetExtAttr reply, asked for with one byte more than
 * WANT, copied to VALUE (SIZE bytes). */
static ssize_t xattr_value(struct sfs_conn *c, const struct afp_call *q, const char *afp_name, size_t want,
                           char *value, size_t size, struct sfs_status *st)
{
    uint32_t alen = 0;
    const uint8_t *data = NULL;
    size_t n = 0;
    if (xattr_missing(q->code))
        return -ENODATA;
    if (q->code == kFPParamErr)   /* netatalk: the value does not fit the reply */
        return xattr_size(c, q->path, afp_name, st) > (ssize_t)want ? -ERANGE : afp_call_refused(q, st);
    if (q->code != kFPNoErr)
        return afp_call_refused(q, st);
    if (afp_getextattr_decode(q->reply, q->len, &alen, &data, &n) < 0 || n > want + 1)
        return afp_call_malformed(q, st);
    if (n > size)
        return -ERANGE;
    if (n)
        memcpy(value, data, n);
    return (ssize_t)n;
}

/* One byte more than SIZE is asked for, so a longer value is noticed
 * (ERANGE) even where the server cuts it to the request. */
static ssize_t afp_getxattr(struct sfs_conn *c, const char *path, const char *name, char *value, size_t size,
                            struct sfs_status *st)
{
    const char *afp_name;
    __attribute__((cleanup(free_path))) char *full = NULL;
    int rc = xattr_target(c, path, name, &afp_name, &full, st);
    if (rc < 0)
        return rc;
    if (size == 0)
        return xattr_size(c, full, afp_name, st);
    size_t want = size < XATTR_VALUE_MAX ? size : XATTR_VALUE_MAX;
    struct afp_call q = {.stage = SFS_STAGE_READ, .path = full, .cap = XATTR_REPLY_HEAD + want + 1};
    q.reply = malloc(q.cap);
    if (!q.reply)
        return out_of_memory(st, SFS_STAGE_READ);
    ssize_t out = getextattr(c, full, afp_name, want + 1, &q, st);
    if (out == 0)
        out = xattr_value(c, &q, afp_name, want, value, size, st);
    free(q.reply);
    return out;
}

static int afp_setxattr(struct sfs_conn *c, const char *path, const char *name, const char *value, size_t size,
                        int flags, struct sfs_status *st)
{
    const char *afp_name;
    __attribute__((cleanup(free_path))) char *full = NULL;
    int rc = xattr_target(c, path, name, &afp_name, &full, st);
    if (rc < 0)
        return rc;
    if ((flags & XATTR_CREATE) && (flags & XATTR_REPLACE))
        return -EINVAL;
    if (size > XATTR_VALUE_MAX)
        return -E2BIG;
    uint16_t bitmap = AFP_XATTR_NOFOLLOW | ((flags & XATTR_CREATE) ? AFP_XATTR_CREATE : 0) |
                      ((flags & XATTR_REPLACE) ? AFP_XATTR_REPLACE : 0);
    struct afp_writer w;
    afp_writer_init(&w);
    afp_encode_setextattr(&w, c->vol_id, ROOT_DIR_ID, bitmap, full, afp_name, value, (uint32_t)size);
    uint8_t reply[AFP_REPLY_SMALL];
    struct afp_call q = {.stage = SFS_STAGE_WRITE, .path = full, .reply = reply, .cap = sizeof(reply)};
    rc = afp_exchange(c->dsi, &w, &q, st);
    if (rc < 0)
        return rc;
    if (q.code == kFPObjectExists)
        return -EEXIST;
    if ((flags & XATTR_REPLACE) && xattr_missing(q.code))
        return -ENODATA;
    if (q.code == kFPParamErr)   /* netatalk refuses values over 3802 bytes so */
        return sfs_status_set(st, SFS_STAGE_WRITE, E2BIG, SFS_DOMAIN_AFP, q.code,
                              "FPSetExtAttr \"%s\": the server refused a value of %zu bytes (kFPParamErr)", full, size);
    return q.code != kFPNoErr ? afp_call_refused(&q, st) : 0;
}

/* Appends "user." + the names of the FPListExtAttrs reply L to LIST (SIZE
 * 0: only counts); the length of the Linux list or -ERANGE. */
static ssize_t xattr_list_linux(struct afp_xattr_list *l, char *list, size_t size)
{
    size_t total = 0;
    const char *an;
    while (afp_listextattrs_next(l, &an) > 0) {
        if (!*an || xattr_synthetic(an))
            continue;
        size_t need = strlen(XATTR_USER_PREFIX) + strlen(an) + 1;
        if (size && total + need > size)
            return -ERANGE;
        if (size)
            snprintf(list + total, need, "%s%s", XATTR_USER_PREFIX, an);
        total += need;
    }
    return (ssize_t)total;
}

/* The whole list in one request: netatalk answers a size-only request and
 * keeps the list for the next request, whatever file that names. */
static ssize_t afp_listxattr(struct sfs_conn *c, const char *path, char *list, size_t size, struct sfs_status *st)
{
    __attribute__((cleanup(free_path))) char *full = NULL;
    int rc = xattr_path(c, path, &full, st);
    if (rc < 0)
        return rc;
    struct afp_call q = {.stage = SFS_STAGE_READ, .path = full, .reply = malloc(LISTXATTR_REPLY_MAX), .cap = LISTXATTR_REPLY_MAX};
    if (!q.reply)
        return out_of_memory(st, SFS_STAGE_READ);
    struct afp_writer w;
    afp_writer_init(&w);
    afp_encode_listextattrs(&w, c->vol_id, ROOT_DIR_ID, AFP_XATTR_NOFOLLOW, 0, 0, (uint32_t)q.cap, full);
    struct afp_xattr_list l;
    ssize_t out = afp_request(c->dsi, &w, &q, st);
    if (out == 0 && afp_listextattrs_init(&l, q.reply, q.len) < 0)
        out = afp_call_malformed(&q, st);
    if (out == 0)
        out = xattr_list_linux(&l, list, size);
    free(q.reply);
    return out;
}

static int afp_removexattr(struct sfs_conn *c, const char *path, const char *name, struct sfs_status *st)
{
    const char *afp_name;
    __attribute__((cleanup(free_path))) char *full = NULL;
    int rc = xattr_target(c, path, name, &afp_name, &full, st);
    if (rc < 0)
        return rc;
    struct afp_writer w;
    afp_writer_init(&w);
    afp_encode_removeextattr(&w, c->vol_id, ROOT_DIR_ID, AFP_XATTR_NOFOLLOW, full, afp_name);
    uint8_t reply[AFP_REPLY_SMALL];
    struct afp_call q = {.stage = SFS_STAGE_WRITE, .path = full, .reply = reply, .cap = sizeof(reply)};
    rc = afp_exchange(c->dsi, &w, &q, st);
    if (rc < 0)
        return rc;
    if (q.code == kFPItemNotFound)
        return -ENODATA;
    /* netatalk answers kFPMiscErr for a missing attribute and for failures alike. */
    if (q.code == kFPMiscErr && xattr_size(c, full, afp_name, st) == -ENODATA)
        return -ENODATA;
    return q.code != kFPNoErr ? afp_call_refused(&q, st) : 0;
}

static void afp_stats(struct sfs_conn *c, struct sfs_conn_stats *out)
{
    dsi_session_stats(c->dsi, &out->requests, &out->max_in_flight);
}

/* The preinit operation: libgcrypt's set-up (version check, no secure
 * memory), once before a prober forks.  Its random pool is left alone:
 * each child seeds its own. */
static void afp_preinit(const struct sfs_config *cfg)
{
    (void)cfg;
    afp_crypto_init();
}

const struct sfs_backend_ops sfs_afp_backend = {
    .name = "afp",
    .flags = SFS_BACKEND_PARALLEL_READS,
    .prepare_target = afp_prepare_target,
    .server_info = afp_server_info,
    .connect = afp_connect,
    .disconnect = afp_disconnect,
    .getattr = afp_getattr,
    .readdir = afp_readdir,
    .open = afp_open,
    .read = afp_read,
    .release = afp_release,
    .statfs = afp_statfs,
    .stats = afp_stats,
    .alive = afp_alive,
    .readlink = afp_readlink,
    .create = afp_create,
    .write = afp_write,
    .ftruncate = afp_ftruncate,
    .fsync = afp_fsync,
    .flush = afp_flush,
    .mkdir = afp_mkdir,
    .unlink = afp_unlink,
    .rmdir = afp_rmdir,
    .rename = afp_rename,
    .utimens = afp_utimens,
    .chmod = afp_chmod,
    .symlink = afp_symlink,
    .getxattr = afp_getxattr,
    .setxattr = afp_setxattr,
    .listxattr = afp_listxattr,
    .removexattr = afp_removexattr,
    .preinit = afp_preinit,
};
