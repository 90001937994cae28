/* What the SMB backend's files share beyond the operations table. */
#ifndef SHARESFS_SMB_BACKEND_H
#define SHARESFS_SMB_BACKEND_H

#include "sharesfs/config.h"
#include "sharesfs/smb.h"

/* The backend's prepare_target (smb_target.c). */
int smb_prepare_target(const struct sfs_map_entry *e, const struct sfs_config *cfg, struct sfs_target *t,
                       struct sfs_status *st);
/* The backend's server_info (smb_server_info.c). */
int smb_server_info(const struct sfs_target *t, struct sfs_server_info *info, struct sfs_server_facts *facts,
                    struct sfs_status *st);

#endif
