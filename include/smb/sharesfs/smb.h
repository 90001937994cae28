/* The SMB backend (SMB1/2/3 through libsmbclient). */
#ifndef SHARESFS_SMB_H
#define SHARESFS_SMB_H

#include "sharesfs/backend.h"

extern const struct sfs_backend_ops sfs_smb_backend;

#endif
