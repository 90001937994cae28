/* What the SMB backend's files share beyond the operations table. */
#ifndef SHARESFS_SMB_BACKEND_H
#define SHARESFS_SMB_BACKEND_H

#include "sharesfs/config.h"
#include "sharesfs/smb.h"

/* The backend's prepare_target (smb_target.c). */
/* 0 when PATH may be given to libsmbclient as the client smb.conf: a file
 * we can read, or a character device (`smbclient -s /dev/null`); else an
 * errno with *WHY saying what is wrong.  Never blocks (a FIFO is refused). */
int smb_client_conf_check(const char *path, const char **why);
int smb_prepare_target(const struct sfs_map_entry *e, const struct sfs_config *cfg, struct sfs_target *t,
                       struct sfs_status *st);
/* The backend's server_info (smb_server_info.c). */
int smb_server_info(const struct sfs_target *t, struct sfs_server_info *info, struct sfs_server_facts *facts,
                    struct sfs_status *st);

#endif
