/* The directory layer's parts: the URI (dir_uri.c), the connection and TLS
 * (dir_conn.c), binds (dir_bind.c), the paged search (dir_search.c), LDAP
 * failures as statuses (dir_status.c).  One connection is one struct
 * dir_conn, used by one thread. */
#ifndef SHARESFS_DIR_PRIVATE_H
#define SHARESFS_DIR_PRIVATE_H

#include <stdbool.h>

#include "dir_ldap_lib.h"   /* ldap.h, and libldap's functions as dir_ldap.NAME */

#include "sharesfs/directory.h"


/* A parsed "ldap[s]://host[:port][/...]". */
struct dir_uri {
    bool ldaps;
    char host[256];   /* without IPv6 brackets */
    int port;
    char text[256];   /* canonical: "ldap://host:389" (IPv6 in brackets) */
};

/* 0, or -EINVAL with *st (stage map) naming what is wrong. */
int dir_uri_parse(const char *uri, struct dir_uri *out, struct sfs_status *st);

struct dir_conn {
    LDAP *ld;
    struct dir_uri uri;
    int timeout_ms;
    char address[64];
};

/* Resolve, TCP connect, the libldap handle over the descriptor with its
 * per-handle options, then TLS (ldaps, or StartTLS when STARTTLS).
 * On failure nothing is left open. */
int dir_conn_open(struct dir_conn *c, const struct sfs_dir_server *srv, struct sfs_status *st);
void dir_conn_close(struct dir_conn *c);
/* Sets LDAP_OPT_TIMEOUT / NETWORK_TIMEOUT to MS for the next request. */
void dir_conn_set_timeout(struct dir_conn *c, int ms);

/* The bind SRV asks for (the password file is checked by dir_bind_check). */
int dir_bind(struct dir_conn *c, const struct sfs_dir_server *srv, struct sfs_status *st);
/* Checks what a bind needs before any traffic (the password file's mode). */
int dir_bind_check(const struct sfs_dir_server *srv, struct sfs_status *st);
/* Reads the password file's first line into BUF (NUL-terminated);
 * 0 or -errno with *st. */
int dir_password_read(const char *path, char *buf, size_t len, struct sfs_status *st);

/* The paged subtree search; records go into OUT.  *PAGES counts pages. */
int dir_search(struct dir_conn *c, const char *base, struct sfs_dir_records *out, size_t *pages,
               struct sfs_status *st);
/* The records of one search result message chain (entries only). */
int dir_collect_entries(LDAP *ld, LDAPMessage *res, struct sfs_dir_records *out, struct sfs_status *st);

/* Fills *st for LDAP code RC at the step STEP ("bind (simple, DN) to URI"):
 * errno from the table (socket errno for LDAP_SERVER_DOWN when known),
 * stage map, domain ldap, "STEP: name (rc): message".  MSG: the server's
 * diagnostic message or NULL to take the handle's. */
int dir_fail(struct sfs_status *st, LDAP *ld, int rc, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
