/* Every backend of this build, by protocol: the only place that names one. */
#include "sharesfs/afp.h"
#include "sharesfs/engine.h"
#include "sharesfs/smb.h"

const struct sfs_backend_ops *sfs_backend_for(enum sfs_proto proto)
{
    switch (proto) {
    case SFS_PROTO_SMB:
        return &sfs_smb_backend;
    case SFS_PROTO_AFP:
        return &sfs_afp_backend;
    default:
        return NULL;
    }
}
