#include "afp_fork.h"

#include <errno.h>
#include <string.h>

#include "afp_path.h"
#include "afp_proto.h"

int afp_encode_openfork(struct afp_writer *w, bool rsrc, uint16_t vol_id, uint32_t dir_id,
                        uint16_t bitmap, uint16_t access, const char *path)
{
    afp_write_dir_head(w, kFPOpenFork, rsrc ? AFP_FORK_RSRC : 0, vol_id, dir_id);
    afp_write_u16(w, bitmap);
    afp_write_u16(w, access);
    afp_write_pathname(w, path);
    return afp_writer_error(w);
}

int afp_openfork_decode(const uint8_t *buf, size_t len, struct afp_openfork_reply *out)
{
    struct afp_reader r;
    afp_reader_init(&r, buf, len);
    if (afp_read_u16(&r, &out->bitmap) || afp_read_u16(&r, &out->fork)) {
        memset(out, 0, sizeof(*out));
        return -EPROTO;
    }
    /* A fork reference of 0 is never handed out. */
    if (out->fork == 0)
        return -EPROTO;
    return afp_node_decode(buf + 4, len - 4, false, out->bitmap, &out->params);
}

int afp_encode_readext(struct afp_writer *w, uint16_t fork, uint64_t offset, uint64_t count)
{
    afp_write_head(w, kFPReadExt, 0, fork);
    afp_write_u64(w, offset);
    afp_write_u64(w, count);
    return afp_writer_error(w);
}

bool afp_readext_result_has_data(int32_t result)
{
    return result == kFPNoErr || result == kFPEOFErr;
}

int afp_readext_decode(int32_t result, const uint8_t *buf, size_t len, uint64_t requested,
                       const uint8_t **data, size_t *n, bool *eof)
{
    if (!afp_readext_result_has_data(result))
        return -EINVAL;
    if ((uint64_t)len > requested)
        return -EPROTO;
    *data = buf;
    *n = len;
    *eof = result == kFPEOFErr || (uint64_t)len < requested;
    return 0;
}

int afp_encode_writeext(struct afp_writer *w, bool from_end, uint16_t fork, uint64_t offset,
                        uint64_t count)
{
    if (offset > INT64_MAX || count > INT64_MAX)
        return afp_writer_fail(w, -EINVAL);
    afp_write_head(w, kFPWriteExt, from_end ? AFP_WRITE_FROM_END : 0, fork);
    afp_write_u64(w, offset);
    afp_write_u64(w, count);
    return afp_writer_error(w);
}

int afp_writeext_decode(const uint8_t *buf, size_t len, uint64_t *written_end)
{
    struct afp_reader r;
    afp_reader_init(&r, buf, len);
    return afp_read_u64(&r, written_end) ? -EPROTO : 0;
}

int afp_encode_flushfork(struct afp_writer *w, uint16_t fork)
{
    afp_write_head(w, kFPFlushFork, 0, fork);
    return afp_writer_error(w);
}

int afp_encode_closefork(struct afp_writer *w, uint16_t fork)
{
    afp_write_head(w, kFPCloseFork, 0, fork);
    return afp_writer_error(w);
}

int afp_encode_setforklen(struct afp_writer *w, uint16_t fork, uint64_t length)
{
    if (length > INT64_MAX)
        return afp_writer_fail(w, -EINVAL);
    afp_write_head(w, kFPSetForkParms, 0, fork);
    afp_write_u16(w, kFPExtDataForkLenBit);
    afp_write_u64(w, length);
    return afp_writer_error(w);
}
