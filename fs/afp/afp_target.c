/* The AFP part of map entry -> target: the UAM, from the URL's ;AUTH=,
 * or DHX2 with a password, or guest with Kerberos when the server offers
 * it (as the macOS automounter does); cleartext only where allowed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "afp_backend.h"
#include "sharesfs/config.h"

int afp_prepare_target(const struct sfs_map_entry *e, const struct sfs_config *cfg, struct sfs_target *t,
                       struct sfs_status *st)
{
    struct sfs_auth_choice *a = &t->auth;
    const char *canonical = NULL;
    if (e->url.auth) {
        if (!sfs_auth_kind_from_uam(e->url.auth, &a->kind, &canonical)) {
            /* Unknown to us; the server may still offer it: the negotiate
             * stage reports what it does offer. */
            snprintf(a->uam, sizeof(a->uam), "%s", e->url.auth);
            a->kind = SFS_AUTH_PASSWORD;
            a->module = "unknown";
            return 0;
        }
        snprintf(a->uam, sizeof(a->uam), "%s", canonical);
    } else if (t->creds.user && t->creds.password) {
        a->kind = SFS_AUTH_DHX2;
        snprintf(a->uam, sizeof(a->uam), "DHX2");
    } else if (t->personal) {
        /* One user's own session without a password: the user's ticket
         * (its pre-flight says why when there is none), never guest. */
        a->kind = SFS_AUTH_KRB5;
        snprintf(a->uam, sizeof(a->uam), "Client Krb v2");
    } else {
        a->kind = SFS_AUTH_NONE;
        a->auto_krb5 = true;
        snprintf(a->uam, sizeof(a->uam), "No User Authent");
    }
    a->module = sfs_auth_kind_name(a->kind);
    t->allow_cleartext = sfs_config_bool(cfg, e->key, "allow_cleartext", false);
    if (a->kind == SFS_AUTH_CLEARTEXT && !t->allow_cleartext)
        return sfs_status_set(st, SFS_STAGE_AUTHENTICATE, EPERM, SFS_DOMAIN_CONFIG, 0,
                              "%s: \"Cleartxt Passwrd\" sends the password unencrypted; refused unless "
                              "allow_cleartext = true is set for this entry in the config", t->label);
    return 0;
}

