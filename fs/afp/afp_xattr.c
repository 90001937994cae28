#include "afp_xattr.h"

#include <errno.h>
#include <string.h>

#include "afp_path.h"
#include "afp_proto.h"

static bool xattr_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return n > 0 && n <= AFP_XATTR_NAME_MAX;
}

/* The request head every extended attribute command shares: the catalog
 * node head (no flag), then the u16 bitmap. */
static void write_head(struct afp_writer *w, uint8_t cmd, uint16_t vol_id, uint32_t dir_id, uint16_t bitmap)
{
    afp_write_dir_head(w, cmd, 0, vol_id, dir_id);
    afp_write_u16(w, bitmap);
}

/* Pathname, pad to even, u16 length, name: the tail of Get/Set/Remove. */
static void write_path_and_name(struct afp_writer *w, const char *path, const char *name)
{
    size_t n = strlen(name);
    afp_write_pathname(w, path);
    afp_write_pad_even(w);
    afp_write_u16(w, (uint16_t)n);
    afp_write_bytes(w, name, n);
}

int afp_encode_getextattr(struct afp_writer *w, uint16_t vol_id, uint32_t dir_id, uint16_t bitmap,
                          uint64_t offset, uint64_t req_count, uint32_t max_reply, const char *path,
                          const char *name)
{
    if (!xattr_name_ok(name))
        return afp_writer_fail(w, -EINVAL);
    write_head(w, kFPGetExtAttr, vol_id, dir_id, bitmap);
    afp_write_u64(w, offset);
    afp_write_u64(w, req_count);
    afp_write_u32(w, max_reply);
    write_path_and_name(w, path, name);
    return afp_writer_error(w);
}

int afp_encode_setextattr(struct afp_writer *w, uint16_t vol_id, uint32_t dir_id, uint16_t bitmap,
                          const char *path, const char *name, const void *data, uint32_t len)
{
    if (!xattr_name_ok(name) || (len && !data))
        return afp_writer_fail(w, -EINVAL);
    write_head(w, kFPSetExtAttr, vol_id, dir_id, bitmap);
    afp_write_u64(w, 0);
    write_path_and_name(w, path, name);
    afp_write_u32(w, len);
    afp_write_bytes(w, data, len);
    return afp_writer_error(w);
}

int afp_encode_removeextattr(struct afp_writer *w, uint16_t vol_id, uint32_t dir_id, uint16_t bitmap,
                             const char *path, const char *name)
{
    if (!xattr_name_ok(name))
        return afp_writer_fail(w, -EINVAL);
    write_head(w, kFPRemoveExtAttr, vol_id, dir_id, bitmap);
    write_path_and_name(w, path, name);
    return afp_writer_error(w);
}

int afp_getextattr_decode(const uint8_t *buf, size_t len, uint32_t *attr_len,
                          const uint8_t **data, size_t *data_len)
{
    struct afp_reader r;
    uint16_t bitmap;
    afp_reader_init(&r, buf, len);
    if (afp_read_u16(&r, &bitmap) || afp_read_u32(&r, attr_len))
        return -EPROTO;
    *data = NULL;
    *data_len = 0;
    if (afp_reader_remaining(&r) == 0)
        return 0;           /* size only */
    if (*attr_len > afp_reader_remaining(&r))
        return -EPROTO;
    if (afp_read_view(&r, *attr_len, data))
        return -EPROTO;
    *data_len = *attr_len;
    return 0;
}

int afp_encode_listextattrs(struct afp_writer *w, uint16_t vol_id, uint32_t dir_id, uint16_t bitmap,
                            uint16_t req_count, uint32_t start_index, uint32_t max_reply,
                            const char *path)
{
    write_head(w, kFPListExtAttrs, vol_id, dir_id, bitmap);
    afp_write_u16(w, req_count);
    afp_write_u32(w, start_index);
    afp_write_u32(w, max_reply);
    afp_write_pathname(w, path);
    return afp_writer_error(w);
}

int afp_listextattrs_init(struct afp_xattr_list *l, const uint8_t *buf, size_t len)
{
    struct afp_reader r;
    uint16_t bitmap;
    afp_reader_init(&r, buf, len);
    memset(l, 0, sizeof(*l));
    if (afp_read_u16(&r, &bitmap) || afp_read_u32(&r, &l->names_len))
        return -EPROTO;
    if (afp_reader_remaining(&r) == 0) {
        afp_reader_init(&l->r, NULL, 0);    /* size only */
        return 0;
    }
    if (afp_reader_sub(&r, l->names_len, &l->r))
        return -EPROTO;
    /* the list must end with a NUL, so every name is a C string */
    if (l->r.len && l->r.buf[l->r.len - 1] != 0)
        return -EPROTO;
    return 0;
}

int afp_listextattrs_next(struct afp_xattr_list *l, const char **name)
{
    size_t left = afp_reader_remaining(&l->r);
    if (left == 0)
        return 0;
    const uint8_t *start = l->r.buf + l->r.pos;
    const uint8_t *nul = memchr(start, 0, left);
    if (!nul)
        return -EPROTO;     /* cannot happen after init */
    *name = (const char *)start;
    l->r.pos += (size_t)(nul - start) + 1;
    return 1;
}
