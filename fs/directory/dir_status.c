/* LDAP failures as statuses: the errno comes from the one table
 * (sfs_errno_for_ldap); the detail names the step, the server, the code
 * and what the server (or libldap) said. */
#include "dir_private.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* libldap says LDAP_SERVER_DOWN for any failed read or write; the socket's
 * own errno, when it is still in errno, tells which (a reset, a refused
 * write...), as the backends report it. */
static int socket_errno(int e)
{
    switch (e) {
    case ECONNRESET:
    case ECONNABORTED:
    case EPIPE:
    case ETIMEDOUT:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ENOTCONN:
        return e;
    default:
        return 0;
    }
}

int dir_fail(struct sfs_status *st, LDAP *ld, int rc, const char *msg, const char *fmt, ...)
{
    int saved = errno;
    char step[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(step, sizeof(step), fmt, ap);
    va_end(ap);
    char *own = NULL;
    if (!msg && ld && dir_ldap.ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &own) == LDAP_OPT_SUCCESS)
        msg = own;
    if ((!msg || !*msg) && rc < 0 && dir_ldap.ldap_err2string)   /* libldap may not have loaded */
        msg = dir_ldap.ldap_err2string(rc);
    int err = sfs_errno_for_ldap(rc);
    int sock = rc == LDAP_SERVER_DOWN ? socket_errno(saved) : 0;
    if (sock)
        err = sock;
    const char *name = sfs_ldap_result_name(rc);
    sfs_status_set(st, SFS_STAGE_MAP, err, SFS_DOMAIN_LDAP, rc, "%s: %s (%d)%s%s%s%s", step,
                   name ? name : "LDAP result", rc, msg && *msg ? ": " : "", msg && *msg ? msg : "",
                   sock ? ": " : "", sock ? strerror(sock) : "");
    if (own)
        dir_ldap.ldap_memfree(own);
    return -err;
}
