/* Looking at the catalog: FPGetFileDirParms and FPEnumerateExt2. */
#ifndef SHARESFS_AFP_ENUM_H
#define SHARESFS_AFP_ENUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "afp_buf.h"
#include "afp_params.h"

/* Bitmaps the probe client enumerates with (p02): attributes, parent ID,
 * node ID, ext data fork length / offspring count, UTF-8 name. */
#define AFP_ENUM_FILE_BITMAP 0x2903
#define AFP_ENUM_DIR_BITMAP 0x2303

/* path is a POSIX path relative to dir_id (see afp_write_pathname). */
int afp_encode_getfiledirparms(struct afp_writer *w, uint16_t vol_id, uint32_t dir_id,
                               uint16_t file_bitmap, uint16_t dir_bitmap, const char *path);
/* Reply: u16 file bitmap, u16 dir bitmap, u8 flags (0x80 = directory),
 * u8 pad, then the file or directory block (the rest of the reply). */
int afp_getfiledirparms_decode(const uint8_t *buf, size_t len, struct afp_node *out);

/* start_index counts from 1. */
int afp_encode_enumerate_ext2(struct afp_writer *w, uint16_t vol_id, uint32_t dir_id,
                              uint16_t file_bitmap, uint16_t dir_bitmap, uint16_t req_count,
                              uint32_t start_index, uint32_t max_reply, const char *path);

/* Reply: u16 file bitmap, u16 dir bitmap, u16 count, then count entries of
 * u16 entry length (including itself), u8 flags (0x80 = directory), u8 pad,
 * parameter block.  The end of a directory is result kFPObjectNotFound
 * with no payload, not an empty reply.  Init checks every entry; next
 * then yields them in order. */
struct afp_enum_reply {
    uint16_t file_bitmap, dir_bitmap;
    uint16_t count;
    uint16_t index;
    struct afp_reader r;
};

int afp_enumerate_reply_init(struct afp_enum_reply *e, const uint8_t *buf, size_t len);
/* 1 and *node filled, 0 after the last entry. */
int afp_enumerate_reply_next(struct afp_enum_reply *e, struct afp_node *node);

#endif
