/* Extended attributes (AFP 3.2+, volumes with kSupportsExtAttrs):
 * FPGetExtAttr, FPSetExtAttr, FPRemoveExtAttr and FPListExtAttrs. */
#ifndef SHARESFS_AFP_XATTR_H
#define SHARESFS_AFP_XATTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "afp_buf.h"

#define AFP_XATTR_NOFOLLOW 0x0001   /* bitmap: do not follow a symlink */
#define AFP_XATTR_CREATE 0x0002     /* FPSetExtAttr: fail if it exists */
#define AFP_XATTR_REPLACE 0x0004    /* FPSetExtAttr: fail if it does not exist */
#define AFP_XATTR_NAME_MAX 255

/* u8 cmd, pad, u16 vol, u32 dir, u16 bitmap, u64 offset, u64 request
 * count, u32 max reply size, pathname, pad to even, u16 name length,
 * UTF-8 name.  max_reply 0 asks only for the size. */
int afp_encode_getextattr(struct afp_writer *w, uint16_t vol_id, uint32_t dir_id, uint16_t bitmap,
                          uint64_t offset, uint64_t req_count, uint32_t max_reply, const char *path,
                          const char *name);
/* Reply: u16 bitmap, u32 length, then the data (absent when only the size
 * was asked for).  *data is NULL in that case. */
int afp_getextattr_decode(const uint8_t *buf, size_t len, uint32_t *attr_len,
                          const uint8_t **data, size_t *data_len);

/* u8 cmd, pad, u16 vol, u32 dir, u16 bitmap, u64 offset (0), pathname,
 * pad to even, u16 name length, UTF-8 name, u32 data length, data.
 * The reply carries no data. */
int afp_encode_setextattr(struct afp_writer *w, uint16_t vol_id, uint32_t dir_id, uint16_t bitmap,
                          const char *path, const char *name, const void *data, uint32_t len);

/* u8 cmd, pad, u16 vol, u32 dir, u16 bitmap, pathname, pad to even,
 * u16 name length, UTF-8 name.  The reply carries no data. */
int afp_encode_removeextattr(struct afp_writer *w, uint16_t vol_id, uint32_t dir_id, uint16_t bitmap,
                             const char *path, const char *name);

/* u8 cmd, pad, u16 vol, u32 dir, u16 bitmap, u16 request count,
 * u32 start index, u32 max reply size, pathname. */
int afp_encode_listextattrs(struct afp_writer *w, uint16_t vol_id, uint32_t dir_id, uint16_t bitmap,
                            uint16_t req_count, uint32_t start_index, uint32_t max_reply,
                            const char *path);
/* Reply: u16 bitmap, u32 length of the names, then NUL-terminated UTF-8
 * names (absent when only the size was asked for). */
struct afp_xattr_list {
    uint32_t names_len;
    struct afp_reader r;
};
int afp_listextattrs_init(struct afp_xattr_list *l, const uint8_t *buf, size_t len);
/* 1 with *name (NUL-terminated, inside the reply) set, 0 at the end. */
int afp_listextattrs_next(struct afp_xattr_list *l, const char **name);

#endif
