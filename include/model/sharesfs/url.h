/* Share URLs as automount maps write them:
 *   afp://[user[;AUTH=uam][:password]@]host[:port]/volume[/path]
 *   afp://;AUTH=uam@host/volume
 *   smb://[domain;][user[:password]@]host[:port]/share[/path]
 *   //host/share[/path]      (Linux cifs maps; proto SMB)
 *   ://host/share[/path]     (autofs sun-format shorthand for cifs; proto SMB)
 * Host may be an IPv6 literal in brackets.  All parts are percent-decoded. */
#ifndef SHARESFS_URL_H
#define SHARESFS_URL_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum sfs_proto {
    SFS_PROTO_UNKNOWN = 0,
    SFS_PROTO_AFP,
    SFS_PROTO_SMB,
};

struct sfs_url {
    enum sfs_proto proto;
    char *user;      /* NULL when absent */
    char *password;  /* NULL when absent; never print, log or expose */
    char *domain;    /* SMB "domain;user"; NULL when absent */
    char *auth;      /* AFP ";AUTH=" UAM name, decoded ("No User Authent"); NULL when absent */
    char *host;      /* without brackets for IPv6 */
    bool host_is_ipv6;
    int port;        /* 0 = protocol default (548 / 445) */
    char *share;     /* volume or share name, decoded; NULL for a server-only URL */
    char *path;      /* path below the share, decoded, without leading '/'; NULL when absent */
};

/* Where a parse failed.  column is 1-based and counts bytes of the input. */
struct sfs_parse_error {
    char file[256];  /* empty for text not from a file */
    int line;        /* 0 when not from a file */
    int column;
    char message[256];
};

/* Returns 0, or -EINVAL with *err filled.  On failure *out is left zeroed. */
int sfs_url_parse(const char *text, struct sfs_url *out, struct sfs_parse_error *err);
void sfs_url_free(struct sfs_url *url);
/* Deep copy; 0 or -ENOMEM. */
int sfs_url_copy(struct sfs_url *dst, const struct sfs_url *src);

/* Canonical text without the password (a password present shows as "****"
 * nowhere: it is simply left out).  Caller frees. */
char *sfs_url_to_display(const struct sfs_url *url);

/* Default TCP port of the protocol (548 AFP, 445 SMB). */
int sfs_url_port(const struct sfs_url *url);

const char *sfs_proto_name(enum sfs_proto proto);

/* Formats "file:line:col: message" (or "col N: message") into buf. */
void sfs_parse_error_format(const struct sfs_parse_error *err, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
