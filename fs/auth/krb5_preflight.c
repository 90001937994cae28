#include "sharesfs/krb5_preflight.h"

#include "sharesfs/file.h"

#include <errno.h>
#include <krb5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* errno for a failure to get a service ticket. */
static int errno_for_tgs(krb5_error_code code)
{
    switch (code) {
    case KRB5_KDC_UNREACH:
    case KRB5_REALM_CANT_RESOLVE:
        return EHOSTUNREACH;
    case KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN:
        return EKEYREJECTED;
    case KRB5KRB_AP_ERR_SKEW:
        return ETIME;
    case KRB5KDC_ERR_ETYPE_NOSUPP:
    case KRB5_PROG_ETYPE_NOSUPP:
    case KRB5_CC_NOT_KTYPE:
        return EPROTONOSUPPORT;
    case KRB5KRB_AP_ERR_TKT_EXPIRED:
        return EKEYEXPIRED;
    default:
        return EACCES;
    }
}

static int fail(struct sfs_status *st, krb5_context ctx, int err, krb5_error_code code, const char *fmt,
                const char *a, const char *b)
{
    char what[1400];
    snprintf(what, sizeof(what), fmt, a ? a : "", b ? b : "");
    if (code) {
        const char *text = ctx ? krb5_get_error_message(ctx, code) : NULL;
        const char *name = sfs_krb5_error_name(code);
        sfs_status_set(st, SFS_STAGE_AUTHENTICATE, err, SFS_DOMAIN_KRB5, code, "%s: %s%s%s%s", what,
                       name ? name : "krb5 error", text ? " (" : "", text ? text : "", text ? ")" : "");
        if (text)
            krb5_free_error_message(ctx, text);
    } else {
        sfs_status_set(st, SFS_STAGE_AUTHENTICATE, err, SFS_DOMAIN_KRB5, 0, "%s", what);
    }
    return -err;
}

static void format_time(time_t t, char *buf, size_t len)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* The TGT for the client's own realm, or 0 when the ccache holds none. */
static krb5_error_code find_tgt(krb5_context ctx, krb5_ccache cc, krb5_principal client, krb5_creds *tgt)
{
    krb5_cc_cursor cur;
    krb5_creds creds;
    krb5_error_code rc = krb5_cc_start_seq_get(ctx, cc, &cur);
    if (rc)
        return rc;
    bool found = false;
    while (!found && krb5_cc_next_cred(ctx, cc, &cur, &creds) == 0) {
        const krb5_data *realm = krb5_princ_realm(ctx, client);
        krb5_principal s = creds.server;
        if (krb5_princ_size(ctx, s) == 2 && krb5_princ_component(ctx, s, 0)->length == 6 &&
            memcmp(krb5_princ_component(ctx, s, 0)->data, "krbtgt", 6) == 0 &&
            krb5_princ_component(ctx, s, 1)->length == realm->length &&
            memcmp(krb5_princ_component(ctx, s, 1)->data, realm->data, realm->length) == 0) {
            *tgt = creds;
            found = true;
        } else {
            krb5_free_cred_contents(ctx, &creds);
        }
    }
    krb5_cc_end_seq_get(ctx, cc, &cur);
    return found ? 0 : KRB5_CC_NOTFOUND;
}

static int check_ccache(krb5_context ctx, krb5_ccache cc, krb5_principal *client, struct krb5_preflight *out,
                        struct sfs_status *st)
{
    const char *type = krb5_cc_get_type(ctx, cc), *name = krb5_cc_get_name(ctx, cc);
    snprintf(out->ccache, sizeof(out->ccache), "%s:%s", type ? type : "?", name ? name : "?");
    /* The library opens a FILE ccache blocking: a FIFO there would hang
     * this stage for good.  stat() does not open it. */
    struct stat sb;
    if (type && name && strcmp(type, "FILE") == 0 && stat(name, &sb) == 0 && !S_ISREG(sb.st_mode))
        return fail(st, ctx, ENOKEY, 0, "no Kerberos credentials: ccache %s is %s, not a file",
                    out->ccache, sfs_file_kind_name(sb.st_mode));
    krb5_error_code rc = krb5_cc_get_principal(ctx, cc, client);
    if (rc == KRB5_FCC_NOFILE || rc == KRB5_CC_NOTFOUND)
        return fail(st, ctx, ENOKEY, rc, "no Kerberos credentials: ccache %s does not exist (run kinit)%s",
                    out->ccache, "");
    if (rc)
        return fail(st, ctx, ENOKEY, rc, "cannot read ccache %s%s", out->ccache, "");
    char *cname = NULL;
    krb5_unparse_name(ctx, *client, &cname);
    snprintf(out->client, sizeof(out->client), "%s", cname ? cname : "?");
    krb5_free_unparsed_name(ctx, cname);
    krb5_creds tgt;
    rc = find_tgt(ctx, cc, *client, &tgt);
    if (rc)
        return fail(st, ctx, ENODATA, 0, "ccache %s (%s) holds no TGT: run kinit", out->ccache, out->client);
    out->tgt_end = tgt.times.endtime;
    krb5_free_cred_contents(ctx, &tgt);
    if (out->tgt_end <= time(NULL)) {
        char when[64], what[600];
        format_time(out->tgt_end, when, sizeof(when));
        snprintf(what, sizeof(what), "the TGT of %s expired at %s (run kinit)", out->client, when);
        return fail(st, ctx, EKEYEXPIRED, 0, "%s%s", what, "");
    }
    return 0;
}

static int service_principal(krb5_context ctx, const char *service, const char *service_name, const char *host,
                             krb5_principal *out, struct sfs_status *st)
{
    krb5_error_code rc;
    if (service) {
        rc = krb5_parse_name(ctx, service, out);
        return rc ? fail(st, ctx, EINVAL, rc, "bad service principal \"%s\"%s", service, "") : 0;
    }
    char **realms = NULL;
    rc = krb5_get_host_realm(ctx, host, &realms);
    if (rc || !realms || !realms[0] || !realms[0][0]) {
        if (realms)
            krb5_free_host_realm(ctx, realms);
        return fail(st, ctx, EREMOTE, rc ? rc : KRB5_REALM_UNKNOWN,
                    "no Kerberos realm for host %s (krb5.conf [domain_realm])%s", host, "");
    }
    rc = krb5_build_principal(ctx, out, (unsigned)strlen(realms[0]), realms[0], service_name, host, NULL);
    krb5_free_host_realm(ctx, realms);
    return rc ? fail(st, ctx, EINVAL, rc, "cannot build %s/%s", service_name, host) : 0;
}

int sfs_krb5_preflight(const char *ccache, const char *service, const char *service_name, const char *host,
                       const char *advertised, struct krb5_preflight *out, struct sfs_status *st)
{
    memset(out, 0, sizeof(*out));
    krb5_context ctx = NULL;
    krb5_ccache cc = NULL;
    krb5_principal client = NULL, server = NULL;
    krb5_creds in, *creds = NULL;
    memset(&in, 0, sizeof(in));
    krb5_error_code rc = krb5_init_context(&ctx);
    if (rc)
        return fail(st, NULL, EIO, rc, "cannot initialise Kerberos (krb5.conf?)%s%s", "", "");
    int ret = 0;
    rc = ccache ? krb5_cc_resolve(ctx, ccache, &cc) : krb5_cc_default(ctx, &cc);
    if (rc)
        ret = fail(st, ctx, ENOKEY, rc, "no usable ccache %s%s", ccache ? ccache : "(default)", "");
    if (ret == 0)
        ret = check_ccache(ctx, cc, &client, out, st);
    if (ret == 0)
        ret = service_principal(ctx, service, service_name, host, &server, st);
    char *sname = NULL;
    if (ret == 0) {
        krb5_unparse_name(ctx, server, &sname);
        snprintf(out->service, sizeof(out->service), "%s", sname ? sname : "?");
        const krb5_data *cr = krb5_princ_realm(ctx, client), *sr = krb5_princ_realm(ctx, server);
        if (cr->length != sr->length || memcmp(cr->data, sr->data, cr->length) != 0) {
            char what[1000];
            snprintf(what, sizeof(what), "the TGT is for %s but the server %s is in realm %.*s", out->client,
                     out->service, (int)sr->length, sr->data);
            /* Cross-realm may still work: try, and report the realms if not. */
            in.client = client;
            in.server = server;
            rc = krb5_get_credentials(ctx, 0, cc, &in, &creds);
            if (rc)
                ret = fail(st, ctx, EREMOTE, rc, "%s%s", what, "");
        }
    }
    if (ret == 0 && !creds) {
        in.client = client;
        in.server = server;
        rc = krb5_get_credentials(ctx, 0, cc, &in, &creds);
        if (rc) {
            char what[1000];
            if (rc == KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN && advertised && strcmp(advertised, out->service) != 0)
                snprintf(what, sizeof(what), "the KDC does not know %s (the server advertises %s)", out->service,
                         advertised);
            else if (rc == KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN)
                snprintf(what, sizeof(what), "the KDC does not know the service principal %s", out->service);
            else if (rc == KRB5_KDC_UNREACH)
                snprintf(what, sizeof(what), "no KDC of realm %.*s answers", (int)krb5_princ_realm(ctx, server)->length,
                         krb5_princ_realm(ctx, server)->data);
            else if (rc == KRB5KDC_ERR_ETYPE_NOSUPP || rc == KRB5_CC_NOT_KTYPE || rc == KRB5_PROG_ETYPE_NOSUPP)
                snprintf(what, sizeof(what), "no encryption type in common for %s (krb5.conf permitted_enctypes, "
                         "the KDC's keys, the TGT's)", out->service);
            else if (rc == KRB5KRB_AP_ERR_SKEW)
                snprintf(what, sizeof(what), "this machine's clock differs from the KDC's by more than the allowed skew");
            else
                snprintf(what, sizeof(what), "cannot get a ticket for %s", out->service);
            ret = fail(st, ctx, errno_for_tgs(rc), rc, "%s%s", what, "");
        }
    }
    if (ret == 0 && creds)
        out->service_end = creds->times.endtime;
    krb5_free_unparsed_name(ctx, sname);
    if (creds)
        krb5_free_creds(ctx, creds);
    if (server)
        krb5_free_principal(ctx, server);
    if (client)
        krb5_free_principal(ctx, client);
    if (cc)
        krb5_cc_close(ctx, cc);
    krb5_free_context(ctx);
    return ret;
}
