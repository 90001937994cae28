#include "afp_enum.h"

#include <errno.h>
#include <string.h>

#include "afp_path.h"
#include "afp_proto.h"

int afp_encode_getfiledirparms(struct afp_writer *w, uint16_t vol_id, uint32_t dir_id,
                               uint16_t file_bitmap, uint16_t dir_bitmap, const char *path)
{
    afp_write_dir_head(w, kFPGetFileDirParms, 0, vol_id, dir_id);
    afp_write_u16(w, file_bitmap);
    afp_write_u16(w, dir_bitmap);
    afp_write_pathname(w, path);
    return afp_writer_error(w);
}

int afp_getfiledirparms_decode(const uint8_t *buf, size_t len, struct afp_node *out)
{
    struct afp_reader r;
    uint16_t fbm, dbm;
    uint8_t flags, pad;
    afp_reader_init(&r, buf, len);
    if (afp_read_u16(&r, &fbm) || afp_read_u16(&r, &dbm) || afp_read_u8(&r, &flags) ||
        afp_read_u8(&r, &pad)) {
        memset(out, 0, sizeof(*out));
        return -EPROTO;
    }
    bool is_dir = flags & AFP_ENTRY_IS_DIR;
    return afp_node_decode(buf + 6, len - 6, is_dir, is_dir ? dbm : fbm, out);
}

int afp_encode_enumerate_ext2(struct afp_writer *w, uint16_t vol_id, uint32_t dir_id,
                              uint16_t file_bitmap, uint16_t dir_bitmap, uint16_t req_count,
                              uint32_t start_index, uint32_t max_reply, const char *path)
{
    if (start_index == 0)
        return afp_writer_fail(w, -EINVAL);
    afp_write_dir_head(w, kFPEnumerateExt2, 0, vol_id, dir_id);
    afp_write_u16(w, file_bitmap);
    afp_write_u16(w, dir_bitmap);
    afp_write_u16(w, req_count);
    afp_write_u32(w, start_index);
    afp_write_u32(w, max_reply);
    afp_write_pathname(w, path);
    return afp_writer_error(w);
}

static int read_entry(struct afp_enum_reply *e, struct afp_reader *r, struct afp_node *node)
{
    uint16_t elen;
    uint8_t flags, pad;
    struct afp_reader entry;
    const uint8_t *block;

    if (afp_read_u16(r, &elen) || elen < 4 || afp_reader_sub(r, elen - 2u, &entry))
        return -EPROTO;
    afp_read_u8(&entry, &flags);
    afp_read_u8(&entry, &pad);
    afp_read_view(&entry, elen - 4u, &block);
    bool is_dir = flags & AFP_ENTRY_IS_DIR;
    int rc = afp_node_decode(block, elen - 4u, is_dir, is_dir ? e->dir_bitmap : e->file_bitmap, node);
    return rc ? -EPROTO : 0;
}

int afp_enumerate_reply_init(struct afp_enum_reply *e, const uint8_t *buf, size_t len)
{
    struct afp_reader check;
    struct afp_node scratch;

    memset(e, 0, sizeof(*e));
    afp_reader_init(&e->r, buf, len);
    if (afp_read_u16(&e->r, &e->file_bitmap) || afp_read_u16(&e->r, &e->dir_bitmap) ||
        afp_read_u16(&e->r, &e->count))
        return -EPROTO;
    check = e->r;
    for (unsigned i = 0; i < e->count; i++)
        if (read_entry(e, &check, &scratch))
            return -EPROTO;
    return 0;
}

int afp_enumerate_reply_next(struct afp_enum_reply *e, struct afp_node *node)
{
    if (e->index >= e->count)
        return 0;
    int rc = read_entry(e, &e->r, node);
    if (rc)
        return rc;
    e->index++;
    return 1;
}
