/* The connection: resolve and TCP connect through fs/base/net.c (so DNS
 * failures, refusals and timeouts are the backends' own statuses), libldap
 * over that descriptor (ldap_init_fd), options on this handle only (the
 * global ones are shared by every thread and must not change after first
 * use), then TLS.  Certificate verification is always on. */
#include "dir_private.h"

#include "sharesfs/clock.h"
#include "sharesfs/net.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Largest LDAP message accepted: a hostile server could announce a length
 * of gigabytes and libldap would try to allocate it.  One automount entry
 * is well below a kilobyte; 16 MiB is any sane entry. */
#define DIR_MAX_INCOMING (16 * 1024 * 1024)

void dir_conn_set_timeout(struct dir_conn *c, int ms)
{
    if (ms < 1)
        ms = 1;
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    dir_ldap.ldap_set_option(c->ld, LDAP_OPT_TIMEOUT, &tv);
    dir_ldap.ldap_set_option(c->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
}

static int set_options(struct dir_conn *c, struct sfs_status *st)
{
    int v3 = LDAP_VERSION3;
    ber_len_t max = DIR_MAX_INCOMING;
    Sockbuf *sb = NULL;
    if (dir_ldap.ldap_set_option(c->ld, LDAP_OPT_PROTOCOL_VERSION, &v3) != LDAP_OPT_SUCCESS ||
        dir_ldap.ldap_set_option(c->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
        /* The TLS handshake honours LDAP_OPT_NETWORK_TIMEOUT only in "async"
         * mode (libldap 2.5 tls2.c: otherwise it spins on a non-blocking
         * socket with no deadline).  Our descriptor is connected and
         * non-blocking already, so async changes nothing else. */
        dir_ldap.ldap_set_option(c->ld, LDAP_OPT_CONNECT_ASYNC, LDAP_OPT_ON) != LDAP_OPT_SUCCESS ||
        dir_ldap.ldap_get_option(c->ld, LDAP_OPT_SOCKBUF, &sb) != LDAP_OPT_SUCCESS || !sb ||
        ber_sockbuf_ctrl(sb, LBER_SB_OPT_SET_MAX_INCOMING, &max) != 1)
        return sfs_status_set(st, SFS_STAGE_MAP, EIO, SFS_DOMAIN_LDAP, LDAP_LOCAL_ERROR,
                              "connect %s: cannot set the LDAP handle's options", c->uri.text);
    dir_conn_set_timeout(c, c->timeout_ms);
    return 0;
}

/* The system's CAs: Debian's bundle (ca-certificates). */
#define DIR_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

/* Without CA_FILE: ldap.conf's TLS_CACERT/TLS_CACERTDIR when set, else the
 * system bundle (libldap 2.5 with GnuTLS trusts nothing by default). */
static bool system_cas(LDAP *ld)
{
    char *file = NULL, *dirname = NULL;
    dir_ldap.ldap_get_option(ld, LDAP_OPT_X_TLS_CACERTFILE, &file);
    dir_ldap.ldap_get_option(ld, LDAP_OPT_X_TLS_CACERTDIR, &dirname);
    bool configured = (file && *file) || (dirname && *dirname);
    dir_ldap.ldap_memfree(file);
    dir_ldap.ldap_memfree(dirname);
    if (configured || access(DIR_SYSTEM_CA, R_OK) != 0)
        return true;
    return dir_ldap.ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, DIR_SYSTEM_CA) == LDAP_OPT_SUCCESS;
}

/* A TLS context of this handle's own: demand a valid certificate, trust
 * CA_FILE only (or the system's CAs when NULL). */
static int set_tls(struct dir_conn *c, const char *ca_file, struct sfs_status *st)
{
    int demand = LDAP_OPT_X_TLS_DEMAND, is_server = 0;
    if (ca_file && access(ca_file, R_OK) != 0)
        return sfs_status_set(st, SFS_STAGE_MAP, errno, SFS_DOMAIN_SYS, errno, "TLS with %s: CA file %s: %s",
                              c->uri.text, ca_file, strerror(errno));
    bool ok = dir_ldap.ldap_set_option(c->ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) == LDAP_OPT_SUCCESS;
    if (ok && ca_file)
        ok = dir_ldap.ldap_set_option(c->ld, LDAP_OPT_X_TLS_CACERTFILE, ca_file) == LDAP_OPT_SUCCESS &&
             dir_ldap.ldap_set_option(c->ld, LDAP_OPT_X_TLS_CACERTDIR, NULL) == LDAP_OPT_SUCCESS;
    else if (ok)
        ok = system_cas(c->ld);
    if (ok)
        ok = dir_ldap.ldap_set_option(c->ld, LDAP_OPT_X_TLS_NEWCTX, &is_server) == LDAP_OPT_SUCCESS;
    if (!ok)
        return sfs_status_set(st, SFS_STAGE_MAP, EINVAL, SFS_DOMAIN_SYS, EINVAL,
                              "TLS with %s: cannot set up a TLS context with CA file %s (not a PEM bundle?)",
                              c->uri.text, ca_file ? ca_file : "(the system's)");
    return 0;
}

/* The handshake failed: say whether the certificate was refused.  With
 * GnuTLS, libldap 2.5 checks the certificate after a good handshake and
 * then reports no reason (gnutls_strerror(-1): "(unknown error code)");
 * a handshake error has GnuTLS's own text; OpenSSL builds say
 * "certificate verify failed". */
static int tls_failed(struct dir_conn *c, int rc, const char *how, const char *ca_file, struct sfs_status *st)
{
    char *text = NULL;
    dir_ldap.ldap_get_option(c->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &text);
    const char *t = text && *text ? text : dir_ldap.ldap_err2string(rc);
    bool cert = strcmp(t, "(unknown error code)") == 0;
    bool named = strcasestr(t, "certif") || strcasestr(t, "hostname") || strcasestr(t, "issuer") ||
                 strcasestr(t, "verif");
    char msg[400];
    if (rc == LDAP_CONNECT_ERROR && cert)
        snprintf(msg, sizeof(msg), "certificate verify failed (the certificate of %.100s is not signed by a CA "
                 "%s%.120s, has expired, or names another host; libldap/GnuTLS gave no reason)", c->uri.host,
                 ca_file ? "in " : "the system trusts", ca_file ? ca_file : "");
    else if (rc == LDAP_CONNECT_ERROR)
        snprintf(msg, sizeof(msg), "%s (%.200s)", named ? "certificate verify failed" : "TLS handshake failed", t);
    else
        snprintf(msg, sizeof(msg), "%.200s", t);
    if (text)
        dir_ldap.ldap_memfree(text);
    return dir_fail(st, c->ld, rc, msg, "%s with %s", how, c->uri.text);
}

static int start_tls(struct dir_conn *c, const struct sfs_dir_server *srv, struct sfs_status *st)
{
    if (!c->uri.ldaps && !srv->starttls)
        return 0;
    int rc = set_tls(c, srv->ca_file, st);
    if (rc < 0)
        return rc;
    if (c->uri.ldaps) {
        rc = dir_ldap.ldap_install_tls(c->ld);
        return rc == LDAP_SUCCESS ? 0 : tls_failed(c, rc, "TLS (ldaps)", srv->ca_file, st);
    }
    rc = dir_ldap.ldap_start_tls_s(c->ld, NULL, NULL);
    return rc == LDAP_SUCCESS ? 0 : tls_failed(c, rc, "StartTLS", srv->ca_file, st);
}

/* net.c's statuses keep their stage, errno and domain; the detail names
 * the directory server. */
static void name_server(struct sfs_status *st, const char *what, const char *uri)
{
    sfs_status_prefix(st, "%s %s: ", what, uri);
}

int dir_conn_open(struct dir_conn *c, const struct sfs_dir_server *srv, struct sfs_status *st)
{
    int rc = dir_ldap_lib_open(st);
    if (rc < 0)
        return rc;
    struct sfs_addr addr;
    rc = sfs_net_resolve(c->uri.host, c->uri.port, &addr, st);
    if (rc < 0) {
        name_server(st, "resolve", c->uri.text);
        return rc;
    }
    snprintf(c->address, sizeof(c->address), "%s", addr.text);
    int fd = sfs_net_connect(&addr, c->timeout_ms, st);
    if (fd < 0) {
        int err = -fd;
        sfs_status_set(st, SFS_STAGE_CONNECT, err, SFS_DOMAIN_SYS, err, "connect %s (%s): %s%s", c->uri.text,
                       addr.text, strerror(err), err == ETIMEDOUT ? " (no answer before the connect timeout)" : "");
        return fd;
    }
    rc = dir_ldap.ldap_init_fd(fd, LDAP_PROTO_TCP, c->uri.text, &c->ld);
    if (rc != LDAP_SUCCESS) {
        close(fd);   /* not attached to a handle: ours to close */
        c->ld = NULL;
        return dir_fail(st, NULL, rc, NULL, "connect %s", c->uri.text);
    }
    rc = set_options(c, st);
    if (rc == 0)
        rc = start_tls(c, srv, st);
    if (rc < 0)
        dir_conn_close(c);
    return rc;
}

void dir_conn_close(struct dir_conn *c)
{
    if (!c->ld)
        return;
    /* Unbind is one small write on a non-blocking socket: it never waits.
     * It frees the handle and closes the descriptor. */
    dir_ldap.ldap_unbind_ext_s(c->ld, NULL, NULL);
    c->ld = NULL;
}
