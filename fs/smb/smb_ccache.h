#ifndef SHARESFS_SMB_CCACHE_H
#define SHARESFS_SMB_CCACHE_H

/* CCACHE ("FILE:/path") owned by another uid: a private copy owned by this
 * process.  Returns 1 with *NAME ("FILE:/tmp/sharesfs-krb5cc-...") and
 * *COPY_PATH (unlink it when done, free both); 0 when CCACHE can be used
 * as it is; -errno when the copy fails. */
int smb_ccache_private_copy(const char *ccache, char **name, char **copy_path);

#endif
