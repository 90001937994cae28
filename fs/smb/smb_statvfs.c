/* libsmbclient's statvfs (SMBC_fstatvfs_ctx in Samba's libsmb_stat.c) fills
 * the fields from one of two replies:
 *  - FileFsFullSizeInformation (SMB2, or SMB1 without Unix extensions;
 *    SMBC_VFS_FEATURE_NO_UNIXCIFS set in f_flag): f_bsize = bytes per
 *    sector, f_frsize = sectors per allocation unit, block counts in
 *    allocation units.  df multiplies the counts by f_frsize, so a 252 GiB
 *    disk showed as ~504 MiB.
 *  - SMB1 Unix extensions' POSIX filesystem info: f_bsize = the block
 *    size, f_frsize left 0, counts in blocks, inode counts filled.
 * When the server answered neither, everything is 0 but f_flag. */
#include "smb_statvfs.h"

#include <libsmbclient.h>

#include "sharesfs/backend.h"

/* What an empty answer is reported in: the FUSE layer's own default. */
#define SMB_STATVFS_DEFAULT_UNIT 4096

/* The size in bytes of the unit libsmbclient's block counts are in. */
static uint64_t smb_statvfs_unit(const struct statvfs *sv)
{
    if (sv->f_flag & SMBC_VFS_FEATURE_NO_UNIXCIFS)
        return (uint64_t)sv->f_bsize * sv->f_frsize;
    return sv->f_bsize;
}

void smb_statvfs_normalize(struct statvfs *sv)
{
    uint64_t unit = smb_statvfs_unit(sv);
    if (unit == 0 || unit > UINT32_MAX)
        unit = SMB_STATVFS_DEFAULT_UNIT;
    sv->f_bsize = sv->f_frsize = (unsigned long)unit;
    sv->f_namemax = SFS_NAME_MAX_UTF16;
    /* The other bits are libsmbclient's own (DFS, case-insensitive, no
     * Unix extensions), which statvfs(3) callers would take for ST_* flags;
     * its read-only bit is ST_RDONLY's. */
    sv->f_flag &= SMBC_VFS_FEATURE_RDONLY;
}

uint64_t smb_statvfs_total_bytes(const struct statvfs *sv)
{
    uint64_t bytes;
    if (__builtin_mul_overflow((uint64_t)sv->f_blocks, (uint64_t)sv->f_frsize, &bytes))
        return UINT64_MAX;
    return bytes;
}

bool smb_statvfs_size_beyond(const struct statvfs *sv, int64_t size)
{
    uint64_t total = smb_statvfs_total_bytes(sv);
    return total > 0 && size > 0 && (uint64_t)size > total;
}
