/* Binds: anonymous, simple (DN + the first line of a password file) and
 * SASL GSSAPI (Kerberos, after fs/auth's pre-flight so a missing or
 * expired ticket is the same errno and message as for the backends). */
#include "dir_private.h"

#include "sharesfs/auth.h"
#include "sharesfs/krb5_preflight.h"
#include "sharesfs/file.h"

#include <errno.h>
#include <fcntl.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <sasl/sasl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_PASSWORD_MAX 1024

static const char *const bind_names[] = {"anonymous", "simple", "gssapi"};

const char *sfs_dir_bind_name(enum sfs_dir_bind b)
{
    return (unsigned)b < sizeof(bind_names) / sizeof(bind_names[0]) ? bind_names[b] : "?";
}

int sfs_dir_bind_from_name(const char *name, enum sfs_dir_bind *out)
{
    for (size_t i = 0; name && i < sizeof(bind_names) / sizeof(bind_names[0]); i++)
        if (strcasecmp(name, bind_names[i]) == 0) {
            *out = (enum sfs_dir_bind)i;
            return 0;
        }
    return -EINVAL;
}

/* A password file under the rule of credentials files
 * (sfs_secret_file_open). */
int dir_password_read(const char *path, char *buf, size_t len, struct sfs_status *st)
{
    buf[0] = '\0';
    if (!path)
        return sfs_status_set(st, SFS_STAGE_MAP, ENOKEY, SFS_DOMAIN_CONFIG, 0,
                              "simple bind without a password file");
    struct sfs_secret_file sf;
    int fd = sfs_secret_file_open(path, SFS_ANY_UID, &sf);
    if (fd < 0 && sf.fault == SFS_SECRET_FILE_OPEN)
        return sfs_status_set(st, SFS_STAGE_MAP, sf.err == ENOENT ? ENOKEY : sf.err, SFS_DOMAIN_SYS, sf.err,
                              "password file %s: %s", path, strerror(sf.err));
    if (fd < 0 && sf.fault == SFS_SECRET_FILE_MODE)
        return sfs_status_set(st, SFS_STAGE_MAP, EACCES, SFS_DOMAIN_CONFIG, 0,
                              "password file %s has mode %04o: it must not be readable or writable by group "
                              "or others (chmod 600)", path, (int)(sf.mode & 0777));
    if (fd < 0)
        return sfs_status_set(st, SFS_STAGE_MAP, EACCES, SFS_DOMAIN_CONFIG, 0,
                              "password file %s is %s, not a regular file", path, sfs_file_kind_name(sf.mode));
    ssize_t n;
    size_t got = 0;
    while (got + 1 < len && (n = read(fd, buf + got, len - 1 - got)) > 0)
        got += (size_t)n;
    close(fd);
    buf[got] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (!buf[0]) {
        explicit_bzero(buf, len);
        /* An empty password makes a simple bind anonymous (RFC 4513 5.1.2). */
        return sfs_status_set(st, SFS_STAGE_MAP, ENOKEY, SFS_DOMAIN_CONFIG, 0,
                              "password file %s: the first line is empty", path);
    }
    return 0;
}

int dir_bind_check(const struct sfs_dir_server *srv, struct sfs_status *st)
{
    if (srv->bind != SFS_DIR_BIND_SIMPLE)
        return 0;
    if (!srv->bind_dn || !srv->bind_dn[0])
        return sfs_status_set(st, SFS_STAGE_MAP, EINVAL, SFS_DOMAIN_CONFIG, 0, "simple bind without a bind DN");
    char pw[DIR_PASSWORD_MAX];
    int rc = dir_password_read(srv->password_file, pw, sizeof(pw), st);
    explicit_bzero(pw, sizeof(pw));
    return rc;
}

static int bind_simple(struct dir_conn *c, const char *dn, const char *password_file, struct sfs_status *st)
{
    char pw[DIR_PASSWORD_MAX] = "";
    if (dn) {
        int rc = dir_password_read(password_file, pw, sizeof(pw), st);
        if (rc < 0)
            return rc;
    }
    struct berval cred = {.bv_len = strlen(pw), .bv_val = pw};
    int rc = dir_ldap.ldap_sasl_bind_s(c->ld, dn ? dn : "", LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
    explicit_bzero(pw, sizeof(pw));
    if (rc == LDAP_SUCCESS)
        return 0;
    if (dn)
        return dir_fail(st, c->ld, rc, NULL, "bind (simple, %.120s) to %s", dn, c->uri.text);
    return dir_fail(st, c->ld, rc, NULL, "bind (anonymous) to %s", c->uri.text);
}

/* No prompts: every SASL question gets its default. */
static int sasl_defaults(LDAP *ld, unsigned flags, void *defaults, void *in)
{
    (void)ld;
    (void)flags;
    (void)defaults;
    for (sasl_interact_t *i = in; i && i->id != SASL_CB_LIST_END; i++) {
        i->result = i->defresult ? i->defresult : "";
        i->len = (unsigned)strlen(i->result);
    }
    return LDAP_SUCCESS;
}

static int bind_gssapi(struct dir_conn *c, const char *ccache, struct sfs_status *st)
{
    struct krb5_preflight pf;
    int rc = sfs_krb5_preflight(ccache, NULL, "ldap", c->uri.host, NULL, &pf, st);
    if (rc < 0) {
        st->stage = SFS_STAGE_MAP;
        return sfs_status_prefix(st, "bind (gssapi) to %s: ", c->uri.text);
    }
    /* The lab (and many sites) have no reverse DNS: use the host as named. */
    dir_ldap.ldap_set_option(c->ld, LDAP_OPT_X_SASL_NOCANON, LDAP_OPT_ON);
    /* The ccache for this thread's GSS calls only (MIT keeps the name
     * per thread); the SASL plugin runs in this thread.  KRB5CCNAME would
     * change it for every thread of the process. */
    OM_uint32 minor = 0;
    const char *prev = NULL;
    char *saved = NULL;
    bool set = false;
    if (ccache && gss_krb5_ccache_name(&minor, ccache, &prev) == GSS_S_COMPLETE) {
        set = true;
        saved = prev ? strdup(prev) : NULL;   /* PREV is the library's until the next call */
    }
    rc = dir_ldap.ldap_sasl_interactive_bind_s(c->ld, NULL, "GSSAPI", NULL, NULL, LDAP_SASL_QUIET, sasl_defaults, NULL);
    if (set)
        gss_krb5_ccache_name(&minor, saved, NULL);
    free(saved);
    if (rc == LDAP_SUCCESS)
        return 0;
    return dir_fail(st, c->ld, rc, NULL, "bind (gssapi as %.100s) to %s", pf.client, c->uri.text);
}

int dir_bind(struct dir_conn *c, const struct sfs_dir_server *srv, struct sfs_status *st)
{
    dir_conn_set_timeout(c, c->timeout_ms);
    switch (srv->bind) {
    case SFS_DIR_BIND_ANONYMOUS:
        return bind_simple(c, NULL, NULL, st);
    case SFS_DIR_BIND_SIMPLE:
        return bind_simple(c, srv->bind_dn, srv->password_file, st);
    case SFS_DIR_BIND_GSSAPI:
        return bind_gssapi(c, srv->krb5_ccache, st);
    }
    return sfs_status_set(st, SFS_STAGE_MAP, EINVAL, SFS_DOMAIN_CONFIG, 0, "unknown bind kind %d", (int)srv->bind);
}
