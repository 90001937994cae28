/* Changing the catalog: FPCreateFile, FPCreateDir, FPDelete, FPRename,
 * FPMoveAndRename, FPSetFileDirParms.  Paths are POSIX paths relative to
 * the directory ID given (see afp_write_pathname); new names are single
 * POSIX names (':' becomes the AFP '/'). */
#ifndef SHARESFS_AFP_CATALOG_H
#define SHARESFS_AFP_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "afp_buf.h"
#include "afp_params.h"

/* hard: replace an existing file (soft create fails with kFPObjectExists). */
int afp_encode_createfile(struct afp_writer *w, bool hard, uint16_t vol_id, uint32_t dir_id,
                          const char *path);
int afp_encode_createdir(struct afp_writer *w, uint16_t vol_id, uint32_t dir_id, const char *path);
/* FPCreateDir reply: u32 ID of the new directory. */
int afp_createdir_decode(const uint8_t *buf, size_t len, uint32_t *new_dir_id);

int afp_encode_delete(struct afp_writer *w, uint16_t vol_id, uint32_t dir_id, const char *path);
int afp_encode_rename(struct afp_writer *w, uint16_t vol_id, uint32_t dir_id, const char *path,
                      const char *new_name);
/* new_name NULL keeps the name. */
int afp_encode_moveandrename(struct afp_writer *w, uint16_t vol_id, uint32_t src_dir_id,
                             uint32_t dst_dir_id, const char *src_path, const char *dst_path,
                             const char *new_name);
/* u8 cmd, pad, u16 volume, u32 directory, u16 bitmap, pathname, pad to
 * even, parameters in bit order.  -EINVAL for bits that cannot be set. */
int afp_encode_setfiledirparms(struct afp_writer *w, uint16_t vol_id, uint32_t dir_id,
                               const char *path, const struct afp_set_params *p);

#endif
