/* Auth modules and credential sources.
 * An auth module is chosen per entry: AFP by the URL's ;AUTH= (UAM name,
 * matched case-insensitively), SMB by the map options (guest, sec=,
 * credentials=, username=) or the config.  Passwords come from a
 * credentials file (mode 0600 enforced), the SHARESFS_PASSWORD environment
 * variable, or the URL/map itself (accepted with a warning); never from the
 * command line, and they are never printed. */
#ifndef SHARESFS_AUTH_H
#define SHARESFS_AUTH_H

#include <stdbool.h>

#include "sharesfs/status.h"

#ifdef __cplusplus
extern "C" {
#endif

enum sfs_auth_kind {
    SFS_AUTH_NONE = 0,     /* guest / anonymous ("No User Authent") */
    SFS_AUTH_PASSWORD,     /* SMB NTLMSSP user+password */
    SFS_AUTH_CLEARTEXT,    /* AFP "Cleartxt Passwrd": refused unless allowed */
    SFS_AUTH_DHCAST128,    /* AFP "DHCAST128" */
    SFS_AUTH_DHX2,         /* AFP "DHX2" */
    SFS_AUTH_KRB5,         /* AFP "Client Krb v2", SMB sec=krb5 */
};

struct sfs_credentials {
    char *user;       /* NULL for guest */
    char *domain;     /* SMB workgroup/domain; NULL when none */
    char *password;   /* never print; wiped on free */
    const char *source; /* "credentials file /etc/x", "SHARESFS_PASSWORD", "URL", "map option", "none" */
};

struct sfs_auth_choice {
    enum sfs_auth_kind kind;
    char uam[64];          /* AFP UAM name as it goes on the wire, e.g. "DHX2"; empty for SMB */
    const char *module;    /* display name: "guest", "ntlmssp", "krb5", "No User Authent", ... */
    /* AFP URL naming neither a UAM nor a user: as the macOS automounter
     * does, log in with Kerberos when the server offers "Client Krb v2"
     * and the user has a valid TGT, else as guest. */
    bool auto_krb5;
};

const char *sfs_auth_kind_name(enum sfs_auth_kind kind);
/* Maps a UAM name (any case, percent-decoded) to a kind; false when unknown. */
bool sfs_auth_kind_from_uam(const char *uam, enum sfs_auth_kind *kind, const char **canonical);

/* Reads a cifs-style credentials file (username=, password=, domain=).
 * Refuses a file readable or writable by group/other (EPERM) so a leaked
 * password is caught early.  Errors fill *st with stage AUTHENTICATE. */
int sfs_credentials_from_file(const char *path, struct sfs_credentials *out, struct sfs_status *st);
void sfs_credentials_free(struct sfs_credentials *c);

#ifdef __cplusplus
}
#endif
#endif
