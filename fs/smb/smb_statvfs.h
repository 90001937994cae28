/* libsmbclient's statvfs turned into what statfs(2) callers expect. */
#ifndef SHARESFS_SMB_STATVFS_H
#define SHARESFS_SMB_STATVFS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/statvfs.h>

/* SV as libsmbclient filled it, rewritten in place: f_bsize = f_frsize =
 * the allocation unit, block counts in that unit, f_namemax the longest
 * name servers store. */
void smb_statvfs_normalize(struct statvfs *sv);
/* Bytes of the whole filesystem a normalized SV describes (saturating). */
uint64_t smb_statvfs_total_bytes(const struct statvfs *sv);
/* SIZE is more than the whole filesystem a normalized SV describes (false
 * when SV tells no size). */
bool smb_statvfs_size_beyond(const struct statvfs *sv, int64_t size);

#endif
