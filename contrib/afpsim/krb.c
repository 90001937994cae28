/* "Client Krb v2", server side: the message layout of its FPLoginCont and a
 * GSSAPI (MIT krb5) acceptor whose key comes from a keytab (--keytab).
 * login.c drives the exchange; this file knows nothing about sessions.
 *
 * Layout, read off capture p06 (netatalk 4.0.3dev accepting an MIT client)
 * and p18 (the same with a damaged token):
 *
 *   FPLoginExt (user "afpuser") -> kFPAuthContinue, payload u16 ID (0x0001)
 *   FPLoginCont request, offsets from the command byte:
 *     0  u8   command (0x13)
 *     1  u8   pad
 *     2  u8   0 (ignored)
 *     3  u16  ID from the FPLoginExt reply           p06: 00 01
 *     5  ...  user name, NUL-terminated              p06: "afpuser" 00
 *        ...  one pad byte when the next offset is odd   p06: 00 (at 13)
 *     n  u16  token length                           p06: 02 e0 (736)
 *   n+2  ...  GSS-API krb5 initial context token (AP-REQ, 0x60 ...)
 *   reply kFPNoErr: u16 length, then the GSS reply token (AP-REP when the
 *   client asked for mutual authentication)   p06: 00 9c, 60 81 99 ... (156)
 *   a token the acceptor rejects: kFPMiscErr, no payload (p18). */
#include "afpsim.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>

int krb_parse_logincont(const uint8_t *req, size_t len, struct krb_cont *out)
{
    struct afp_reader r;
    uint8_t cmd, pad, zero;
    uint16_t tlen;
    const uint8_t *name;

    memset(out, 0, sizeof(*out));
    afp_reader_init(&r, req, len);
    if (afp_read_u8(&r, &cmd) || afp_read_u8(&r, &pad) || afp_read_u8(&r, &zero) ||
        afp_read_u16(&r, &out->id))
        return -EPROTO;
    /* The user name: a C string, at most 255 bytes. */
    size_t left = afp_reader_remaining(&r);
    if (afp_read_view(&r, 0, &name))
        return -EPROTO;
    const uint8_t *nul = memchr(name, 0, left < sizeof(out->user) ? left : sizeof(out->user));
    if (!nul)
        return -EPROTO;
    size_t ulen = (size_t)(nul - name);
    memcpy(out->user, name, ulen);
    out->user[ulen] = '\0';
    if (afp_read_skip(&r, ulen + 1) || afp_read_align2(&r) || afp_read_u16(&r, &tlen) ||
        afp_read_view(&r, tlen, &out->token))
        return -EPROTO;
    out->token_len = tlen;
    /* Anything after the token is ignored. */
    return 0;
}

int krb_principal_user(const char *principal, char *user, size_t sz)
{
    /* gss_display_name escapes a literal '@' in a name component as "\@";
     * the realm starts after the last unescaped '@'. */
    const char *at = NULL;
    for (const char *p = principal; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            continue;
        }
        if (*p == '@')
            at = p;
    }
    size_t n = at ? (size_t)(at - principal) : strlen(principal);
    if (n == 0 || n >= sz)
        return -1;
    memcpy(user, principal, n);
    user[n] = '\0';
    return 0;
}

/* ------------------------------------------------------------------ GSS */

static void append_status(GString *s, OM_uint32 code, int type)
{
    OM_uint32 ctx = 0, min;
    bool first = true;
    do {
        gss_buffer_desc b = GSS_C_EMPTY_BUFFER;
        OM_uint32 maj = gss_display_status(&min, code, type,
                                           type == GSS_C_MECH_CODE ? gss_mech_krb5 : GSS_C_NO_OID,
                                           &ctx, &b);
        if (GSS_ERROR(maj)) {
            g_string_append_printf(s, "%scode %u", first ? "" : "; ", code);
            break;
        }
        g_string_append_printf(s, "%s%.*s", first ? "" : "; ", (int)b.length, (const char *)b.value);
        gss_release_buffer(&min, &b);
        first = false;
    } while (ctx);
}

/* "major text (minor text)", as gss_display_status gives them. */
static char *gss_text(OM_uint32 major, OM_uint32 minor)
{
    GString *s = g_string_new(NULL);
    append_status(s, major, GSS_C_GSS_CODE);
    if (minor) {
        g_string_append(s, " (");
        append_status(s, minor, GSS_C_MECH_CODE);
        g_string_append(s, ")");
    }
    return g_string_free(s, FALSE);
}

static void log_gss(enum log_level lvl, const char *who, const char *what, OM_uint32 major,
                    OM_uint32 minor)
{
    char *t = gss_text(major, minor);
    log_msg(lvl, "%s: %s: %s [major 0x%08x, minor %u]", who, what, t, (unsigned)major,
            (unsigned)minor);
    g_free(t);
}

/* Acceptor credentials for `acceptor` (NULL: any key in the keytab) from
 * `keytab`.  On failure logs why and returns -1. */
static int acquire(const char *keytab, const char *acceptor, const char *who, gss_cred_id_t *cred)
{
    OM_uint32 maj, min, min2;
    gss_name_t name = GSS_C_NO_NAME;
    *cred = GSS_C_NO_CREDENTIAL;
    if (acceptor) {
        gss_buffer_desc nb = { strlen(acceptor), (void *)acceptor };
        maj = gss_import_name(&min, &nb, GSS_KRB5_NT_PRINCIPAL_NAME, &name);
        if (GSS_ERROR(maj)) {
            char what[400];
            snprintf(what, sizeof(what), "Client Krb v2: acceptor name %s", acceptor);
            log_gss(LOG_ERR, who, what, maj, min);
            return -1;
        }
    }
    gss_key_value_element_desc kv = { "keytab", keytab };
    gss_key_value_set_desc store = { 1, &kv };
    gss_OID_set_desc mechs = { 1, gss_mech_krb5 };
    maj = gss_acquire_cred_from(&min, name, GSS_C_INDEFINITE, &mechs, GSS_C_ACCEPT, &store, cred,
                                NULL, NULL);
    if (name != GSS_C_NO_NAME)
        gss_release_name(&min2, &name);
    if (GSS_ERROR(maj)) {
        char what[700];
        snprintf(what, sizeof(what), "Client Krb v2: no acceptor key for %s in keytab %s",
                 acceptor ? acceptor : "(any principal)", keytab);
        log_gss(LOG_ERR, who, what, maj, min);
        *cred = GSS_C_NO_CREDENTIAL;
        return -1;
    }
    return 0;
}

int krb_check(const char *keytab, const char *acceptor)
{
    gss_cred_id_t cred;
    OM_uint32 min;
    if (acquire(keytab, acceptor, "startup", &cred))
        return -1;
    gss_release_cred(&min, &cred);
    log_msg(LOG_INFO, "Client Krb v2: accepting as %s with keytab %s",
            acceptor ? acceptor : "any principal", keytab);
    return 0;
}

int krb_accept(const char *keytab, const char *acceptor, const char *who, const uint8_t *token,
               size_t token_len, char *client, size_t clientsz, GByteArray *reply)
{
    OM_uint32 maj, min, min2, flags = 0;
    gss_cred_id_t cred;
    gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
    gss_name_t src = GSS_C_NO_NAME;
    gss_buffer_desc in = { token_len, (void *)token };
    gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
    gss_buffer_desc dn = GSS_C_EMPTY_BUFFER;
    int rc = -1;

    if (acquire(keytab, acceptor, who, &cred))
        return -1;
    maj = gss_accept_sec_context(&min, &ctx, cred, &in, GSS_C_NO_CHANNEL_BINDINGS, &src, NULL,
                                 &out, &flags, NULL, NULL);
    if (GSS_ERROR(maj)) {
        log_gss(LOG_INFO, who, "Client Krb v2: gss_accept_sec_context", maj, min);
        goto out;
    }
    if (maj & GSS_S_CONTINUE_NEEDED) {
        /* Client Krb v2 has one round trip; a mechanism that wants more
         * (DCE-style krb5, SPNEGO) cannot be served. */
        log_msg(LOG_INFO, "%s: Client Krb v2: the GSS context needs another round trip", who);
        goto out;
    }
    maj = gss_display_name(&min, src, &dn, NULL);
    if (GSS_ERROR(maj)) {
        log_gss(LOG_INFO, who, "Client Krb v2: gss_display_name", maj, min);
        goto out;
    }
    if (dn.length == 0 || dn.length >= clientsz || memchr(dn.value, 0, dn.length)) {
        log_msg(LOG_INFO, "%s: Client Krb v2: unusable client principal (%zu bytes)", who,
                (size_t)dn.length);
        goto out;
    }
    memcpy(client, dn.value, dn.length);
    client[dn.length] = '\0';
    g_byte_array_set_size(reply, 0);
    if (out.length)
        g_byte_array_append(reply, out.value, (guint)out.length);
    log_msg(LOG_INFO, "%s: Client Krb v2: accepted %s (%s, %zu-byte token, %zu-byte reply)", who,
            client, (flags & GSS_C_MUTUAL_FLAG) ? "mutual authentication" : "no mutual authentication",
            token_len, (size_t)out.length);
    rc = 0;
out:
    gss_release_buffer(&min2, &dn);
    gss_release_buffer(&min2, &out);
    if (src != GSS_C_NO_NAME)
        gss_release_name(&min2, &src);
    if (ctx != GSS_C_NO_CONTEXT)
        gss_delete_sec_context(&min2, &ctx, GSS_C_NO_BUFFER);
    gss_release_cred(&min2, &cred);
    return rc;
}

char *krb_keytab_resolve(const char *arg)
{
    /* "TYPE:residual" is passed on as is (FILE:, MEMORY:, ...); a plain
     * path must be a readable file and is made absolute. */
    const char *colon = strchr(arg, ':');
    const char *slash = strchr(arg, '/');
    if (colon && (!slash || colon < slash)) {
        if (!strncmp(arg, "FILE:", 5) && access(arg + 5, R_OK)) {
            fprintf(stderr, "afpsim: --keytab %s: %s\n", arg, strerror(errno));
            return NULL;
        }
        return g_strdup(arg);
    }
    char real[PATH_MAX];
    if (!realpath(arg, real) || access(real, R_OK)) {
        fprintf(stderr, "afpsim: --keytab %s: %s\n", arg, strerror(errno));
        return NULL;
    }
    return g_strdup_printf("FILE:%s", real);
}
