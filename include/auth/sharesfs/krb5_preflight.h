/* Kerberos pre-flight: before any protocol exchange, check what a Kerberos
 * login needs, in the order a user can fix it, and name the exact cause:
 * no ccache, an empty one, an expired TGT, a TGT for another realm, the KDC
 * unreachable, the service principal unknown to the KDC, clock skew, no
 * common encryption type.  Each has its own errno (docs/errno.md). */
#ifndef SHARESFS_AUTH_KRB5_PREFLIGHT_H
#define SHARESFS_AUTH_KRB5_PREFLIGHT_H

#include <stdbool.h>
#include <time.h>

#include "sharesfs/status.h"

struct krb5_preflight {
    char ccache[512];            /* the ccache used, "FILE:/tmp/krb5cc_0" */
    char client[256];            /* its principal */
    time_t tgt_end;              /* end time of its TGT */
    char service[256];           /* the service principal a ticket was obtained for */
    time_t service_end;
};

/* CCACHE: NULL for the default (KRB5CCNAME, else the library's default).
 * SERVICE: the full principal ("afpserver/lion.lab.test@LAB.TEST"), or
 * NULL to derive it from SERVICE_NAME ("afpserver", "cifs") and HOST with
 * the realm krb5.conf maps HOST to.  ADVERTISED: what the server itself
 * named (AFP directory names), reported beside the one tried; may be NULL.
 * Fills *st with stage AUTHENTICATE and domain KRB5 on failure. */
int sfs_krb5_preflight(const char *ccache, const char *service, const char *service_name, const char *host,
                       const char *advertised, struct krb5_preflight *out, struct sfs_status *st);


#endif
