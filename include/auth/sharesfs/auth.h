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
#include <sys/types.h>

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

/* The rule of a file that holds a password (a credentials file, the LDAP
 * bind's password file): a regular file that group and others can neither
 * read nor write; with OWNER other than SFS_ANY_UID (a user's own file in
 * a per-user session) also owned by OWNER and not a symbolic link.
 * Checked on the open descriptor, so the file checked is the file read,
 * and opened without blocking, so a FIFO cannot hang the caller.  Returns
 * the descriptor (caller closes), or -1 with OUT saying what is wrong;
 * each caller words the message and picks the errno (docs/errno.md). */
#define SFS_ANY_UID ((uid_t)-1)
enum sfs_secret_file_fault {
    SFS_SECRET_FILE_OK = 0,
    SFS_SECRET_FILE_OPEN,         /* open or fstat failed: err */
    SFS_SECRET_FILE_NOT_REGULAR,  /* a FIFO, directory, device, socket, or a symbolic link for OWNER: mode */
    SFS_SECRET_FILE_OWNER,        /* owned by uid, not OWNER */
    SFS_SECRET_FILE_MODE,         /* group or others may read or write it: mode */
};
struct sfs_secret_file {
    int fd;
    enum sfs_secret_file_fault fault;
    int err;
    mode_t mode;
    uid_t uid;
};
int sfs_secret_file_open(const char *path, uid_t owner, struct sfs_secret_file *out);

/* Reads a cifs-style credentials file (username=, password=, domain=),
 * under the rule above: group/other access is EPERM (a leaked password is
 * caught early), not a regular file EACCES, missing ENOKEY.  Errors fill
 * *st with stage AUTHENTICATE. */
int sfs_credentials_from_file(const char *path, struct sfs_credentials *out, struct sfs_status *st);
/* The same for a per-user session: the file must also be OWNER's and not
 * a symbolic link, and a missing file means the user has no credentials
 * (all EACCES); OWNER_NAME (may be NULL) names the user in the messages. */
int sfs_credentials_from_own_file(const char *path, uid_t owner, const char *owner_name, struct sfs_credentials *out,
                                  struct sfs_status *st);
void sfs_credentials_free(struct sfs_credentials *c);

#ifdef __cplusplus
}
#endif
#endif
