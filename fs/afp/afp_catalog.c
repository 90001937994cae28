#include "afp_catalog.h"

#include <errno.h>

#include "afp_path.h"
#include "afp_proto.h"

int afp_encode_createfile(struct afp_writer *w, bool hard, uint16_t vol_id, uint32_t dir_id,
                          const char *path)
{
    afp_write_dir_head(w, kFPCreateFile, hard ? AFP_CREATE_HARD : 0, vol_id, dir_id);
    afp_write_pathname(w, path);
    return afp_writer_error(w);
}

int afp_encode_createdir(struct afp_writer *w, uint16_t vol_id, uint32_t dir_id, const char *path)
{
    afp_write_dir_head(w, kFPCreateDir, 0, vol_id, dir_id);
    afp_write_pathname(w, path);
    return afp_writer_error(w);
}

int afp_createdir_decode(const uint8_t *buf, size_t len, uint32_t *new_dir_id)
{
    struct afp_reader r;
    afp_reader_init(&r, buf, len);
    return afp_read_u32(&r, new_dir_id) ? -EPROTO : 0;
}

int afp_encode_delete(struct afp_writer *w, uint16_t vol_id, uint32_t dir_id, const char *path)
{
    afp_write_dir_head(w, kFPDelete, 0, vol_id, dir_id);
    afp_write_pathname(w, path);
    return afp_writer_error(w);
}

int afp_encode_rename(struct afp_writer *w, uint16_t vol_id, uint32_t dir_id, const char *path,
                      const char *new_name)
{
    if (!new_name || !*new_name)
        return afp_writer_fail(w, -EINVAL);
    afp_write_dir_head(w, kFPRename, 0, vol_id, dir_id);
    afp_write_pathname(w, path);
    afp_write_name(w, new_name);
    return afp_writer_error(w);
}

int afp_encode_moveandrename(struct afp_writer *w, uint16_t vol_id, uint32_t src_dir_id,
                             uint32_t dst_dir_id, const char *src_path, const char *dst_path,
                             const char *new_name)
{
    afp_write_dir_head(w, kFPMoveAndRename, 0, vol_id, src_dir_id);
    afp_write_u32(w, dst_dir_id);
    afp_write_pathname(w, src_path);
    afp_write_pathname(w, dst_path);
    afp_write_name(w, new_name);
    return afp_writer_error(w);
}

int afp_encode_setfiledirparms(struct afp_writer *w, uint16_t vol_id, uint32_t dir_id,
                               const char *path, const struct afp_set_params *p)
{
    afp_write_dir_head(w, kFPSetFileDirParms, 0, vol_id, dir_id);
    afp_write_u16(w, p->bitmap);
    afp_write_pathname(w, path);
    afp_write_pad_even(w);
    afp_set_params_encode(w, p);
    return afp_writer_error(w);
}
