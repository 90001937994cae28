/* Automount records from an LDAP directory (OpenLDAP's libldap): connect
 * through fs/base/net.c, StartTLS or LDAPS with certificate verification
 * always on, an anonymous, simple or GSSAPI bind, and a paged subtree
 * search for the automount object classes.  The records go into the model's
 * record set (sharesfs/map_directory.h), which turns them into map entries.
 * Failures are stage "map" (or resolve/connect), domain "ldap"
 * (docs/errno.md, "LDAP").  Thread-safe: every option is set on the
 * connection's own handle, never libldap's global defaults. */
#ifndef SHARESFS_DIRECTORY_H
#define SHARESFS_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "sharesfs/map_directory.h"
#include "sharesfs/status.h"

#ifdef __cplusplus
extern "C" {
#endif

enum sfs_dir_bind { SFS_DIR_BIND_ANONYMOUS = 0, SFS_DIR_BIND_SIMPLE, SFS_DIR_BIND_GSSAPI };

/* "anonymous", "simple", "gssapi" ("?" out of range); from_name: 0 or
 * -EINVAL (names compare without case). */
const char *sfs_dir_bind_name(enum sfs_dir_bind b);
int sfs_dir_bind_from_name(const char *name, enum sfs_dir_bind *out);

struct sfs_dir_server {
    const char *uri;           /* "ldap://host[:port]" or "ldaps://host[:port]" (a trailing "/" or "/DN" is ignored) */
    const char *base;          /* search base DN; the subtree below it is searched */
    enum sfs_dir_bind bind;
    const char *bind_dn;       /* simple */
    const char *password_file; /* simple: the password is the file's first line; the file must be a regular
                                * file, not readable or writable by group/others, else EACCES at stage map
                                * naming the file (missing or empty: ENOKEY).  The password is never printed
                                * and is wiped right after the bind. */
    bool starttls;             /* ldap:// then StartTLS (required: failure is an error, never cleartext) */
    const char *ca_file;       /* PEM CA bundle for StartTLS/ldaps (the only one trusted); NULL = the system's:
                                * ldap.conf's TLS_CACERT[DIR], else /etc/ssl/certs/ca-certificates.crt */
    const char *krb5_ccache;   /* gssapi: the ccache to use (NULL: the default/KRB5CCNAME) */
    int timeout_ms;            /* each step: connect, TLS, bind, search (<= 0: 10000) */
};

struct sfs_dir_fetch_info {
    char uri[256];           /* the server actually used, for reports: "ldap://ldap.lab.test:389" */
    double ms_connect, ms_bind, ms_search;  /* connect includes resolve and TLS */
    size_t n_records;
    int ldap_code;           /* last LDAP result code (0 ok) */
    char tls[64];            /* "none", "starttls", "ldaps" */
    size_t n_pages;          /* search pages asked for (simple paged results, 500 entries each) */
    char address[64];        /* the numeric address connected to */
};

/* Search filter and attributes (exported for reports and tests). */
#define SFS_DIR_FILTER                                                                              \
    "(|(objectClass=mount)(objectClass=automountMap)(objectClass=automount)(objectClass=nisMap)"  \
    "(objectClass=nisObject))"
#define SFS_DIR_PAGE_SIZE 500

/* Connects (resolve + TCP connect through sfs_net_resolve/sfs_net_connect,
 * then libldap over that descriptor), StartTLS or LDAPS when asked, binds,
 * and searches BASE (subtree) for SFS_DIR_FILTER with the simple paged
 * results control, following no referrals.  OUT must be empty on entry
 * (-EINVAL otherwise); every record found goes into it.  Values containing
 * NUL bytes are an error (EINVAL) naming the DN.  Returns 0, or -errno with
 * ST set: stage SFS_STAGE_MAP (SFS_STAGE_RESOLVE / SFS_STAGE_CONNECT for the
 * TCP part), domain SFS_DOMAIN_LDAP and code = the LDAP result code for LDAP
 * failures (SFS_DOMAIN_KRB5 for the Kerberos pre-flight of a GSSAPI bind),
 * and a detail naming the step and the server.  On failure OUT is left
 * empty.  INFO may be NULL; it is filled as far as the fetch got. */
int sfs_dir_fetch(const struct sfs_dir_server *srv, struct sfs_dir_records *out, struct sfs_dir_fetch_info *info,
                  struct sfs_status *st);

#ifdef __cplusplus
}
#endif
#endif
