/* What the AFP backend's files share beyond the operations table. */
#ifndef SHARESFS_AFP_BACKEND_H
#define SHARESFS_AFP_BACKEND_H

#include "afp_srvrinfo.h"
#include "sharesfs/afp.h"
#include "sharesfs/config.h"

/* The backend's prepare_target (afp_target.c). */
int afp_prepare_target(const struct sfs_map_entry *e, const struct sfs_config *cfg, struct sfs_target *t,
                       struct sfs_status *st);
/* FPGetSrvrInfo as `afptest info` lines (afp_server_info.c). */
void afp_srvrinfo_facts(const struct afp_srvrinfo *si, struct sfs_server_facts *facts);

#endif
