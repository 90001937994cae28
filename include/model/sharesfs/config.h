/* sharesfs.conf (GKeyFile): /etc/sharesfs/sharesfs.conf or --config FILE.
 *   [global]  timeout, smb_min_protocol, smb_max_protocol, smb_conf,
 *             credentials, allow_cleartext
 *   [entry KEY] the same keys, for one map key or mount point
 *   [directory] the LDAP server of directory maps (+auto_master, -fstab, ldap:DN)
 * See docs/config.md. */
#ifndef SHARESFS_CONFIG_H
#define SHARESFS_CONFIG_H

#include <stdbool.h>
#include <sys/types.h>

#include "sharesfs/backend.h"
#include "sharesfs/map.h"
#include "sharesfs/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SFS_DEFAULT_CONFIG "/etc/sharesfs/sharesfs.conf"

struct sfs_config;

/* PATH NULL: the default file, which may be absent.  A named file that is
 * missing, or any syntax error, is an error naming file, line and cause. */
int sfs_config_load(const char *path, struct sfs_config **out, struct sfs_status *st);
void sfs_config_free(struct sfs_config *cfg);

/* Overrides from the command line (afptest --timeout). */
void sfs_config_set_timeout_ms(struct sfs_config *cfg, int ms);
int sfs_config_timeout_ms(const struct sfs_config *cfg);

/* A string setting for ENTRY_KEY ("[entry KEY]" first, then [global]);
 * caller frees; NULL when unset or CFG is NULL. */
char *sfs_config_string(const struct sfs_config *cfg, const char *entry_key, const char *name);
/* Boolean setting likewise; DEF when unset. */
bool sfs_config_bool(const struct sfs_config *cfg, const char *entry_key, const char *name, bool def);

/* A [directory] setting (uri, base, bind, bind_dn, password_file, starttls,
 * ca_file, krb5_ccache, schema, timeout); caller frees; NULL when unset.
 * The setter overrides the file (command-line options). */
char *sfs_config_directory_string(const struct sfs_config *cfg, const char *name);
void sfs_config_set_directory_string(struct sfs_config *cfg, const char *name, const char *value);

/* Whose access a connection is made for (sharesfs multiuser): the target
 * then carries that user's own identity and never another's: credentials
 * files with %u (uid) and %U (user name) expanded, owned by that uid and of
 * mode 0600; no password from the map or from sharesfs's environment; and,
 * without credentials, the user's Kerberos ticket, never a guest session
 * (unless the entry says guest).  docs/config.md "Several users". */
struct sfs_identity {
    uid_t uid;
    const char *name;   /* user name for %U; NULL: the uid's number */
};
/* "/home/%U/.cred" -> "/home/alice/.cred"; %% is '%'.  Caller frees; NULL
 * when out of memory. */
char *sfs_identity_expand(const struct sfs_identity *who, const char *text);

/* Builds the connection target for ENTRY: auth module, credentials,
 * dialect range, timeouts.  Fails (stage PARSE or AUTHENTICATE) when the
 * entry cannot be tried at all, e.g. a credentials file with mode 0644 or
 * cleartext auth that is not allowed.  Free with sfs_target_free. */
int sfs_target_from_entry(const struct sfs_map_entry *entry, const struct sfs_config *cfg,
                          struct sfs_target *t, struct sfs_status *st);
/* The same for WHO (NULL: as sfs_target_from_entry). */
int sfs_target_for(const struct sfs_map_entry *entry, const struct sfs_config *cfg, const struct sfs_identity *who,
                   struct sfs_target *t, struct sfs_status *st);
void sfs_target_free(struct sfs_target *t);

#ifdef __cplusplus
}
#endif
#endif
