/* Every backend of this build, by protocol: the only place that names one. */
#include "sharesfs/afp.h"
#include "sharesfs/engine.h"
#include "sharesfs/smb.h"

/* Tables put in place of a protocol's by sfs_backend_override (tests). */
static const struct sfs_backend_ops *overrides[SFS_PROTO_SMB + 1];

void sfs_backend_override(enum sfs_proto proto, const struct sfs_backend_ops *ops)
{
    if ((unsigned)proto < sizeof(overrides) / sizeof(overrides[0]))
        __atomic_store_n(&overrides[proto], ops, __ATOMIC_RELEASE);
}

const struct sfs_backend_ops *sfs_backend_for(enum sfs_proto proto)
{
    if ((unsigned)proto < sizeof(overrides) / sizeof(overrides[0])) {
        const struct sfs_backend_ops *ops = __atomic_load_n(&overrides[proto], __ATOMIC_ACQUIRE);
        if (ops)
            return ops;
    }
    switch (proto) {
    case SFS_PROTO_SMB:
        return &sfs_smb_backend;
    case SFS_PROTO_AFP:
        return &sfs_afp_backend;
    default:
        return NULL;
    }
}
