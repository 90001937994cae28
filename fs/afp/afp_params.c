#include "afp_params.h"

#include <errno.h>
#include <string.h>

time_t afp_date_to_time(int32_t afp_date)
{
    return (time_t)AFP_DATE_EPOCH_DELTA + (time_t)afp_date;
}

int32_t afp_date_from_time(time_t t)
{
    long long d = (long long)t - AFP_DATE_EPOCH_DELTA;
    if (d <= (long long)INT32_MIN)
        return INT32_MIN + 1;
    if (d > (long long)INT32_MAX)
        return INT32_MAX;
    return (int32_t)d;
}

/* Sizes of the fixed fields, by bit number, 0 = unknown (cannot be parsed). */
static const uint8_t file_field_size[16] = {
    2, 4, 4, 4, 4, 32, 2, 2,    /* attr, parent, create, mod, backup, finder, long, short */
    4, 4, 4, 8, 0, 6, 8, 16,    /* node, data, rsrc, ext data, launch, utf8, ext rsrc, unix */
};
static const uint8_t dir_field_size[16] = {
    2, 4, 4, 4, 4, 32, 2, 2,
    4, 2, 4, 4, 4, 6, 0, 16,    /* node, offspring, owner, group, access, utf8, -, unix */
};

int afp_node_fixed_size(bool is_dir, uint16_t bitmap)
{
    const uint8_t *size = is_dir ? dir_field_size : file_field_size;
    int total = 0;
    for (int bit = 0; bit < 16; bit++) {
        if (!(bitmap & (1u << bit)))
            continue;
        if (!size[bit])
            return -EPROTO;
        total += size[bit];
    }
    return total;
}

/* A long or short name field of the block r reads: u16 offset, 0 for no
 * name, else past the fixed part, where a Pascal string stands. */
static int read_pname(struct afp_reader *r, int fixed, char *out, size_t outsz)
{
    struct afp_reader at;
    uint16_t off;
    afp_read_u16(r, &off);
    if (!off)
        return 0;
    if (off < fixed)
        return -EPROTO;
    int rc = afp_reader_at(r, 0, off, &at);
    return rc ? rc : afp_read_pstring(&at, out, outsz);
}

int afp_node_decode(const uint8_t *buf, size_t len, bool is_dir, uint16_t bitmap,
                    struct afp_node *out)
{
    struct afp_reader r;
    int fixed = afp_node_fixed_size(is_dir, bitmap);
    uint16_t off;
    uint32_t u32;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (fixed < 0)
        return fixed;
    if ((size_t)fixed > len)
        return -EPROTO;
    out->is_dir = is_dir;
    out->bitmap = bitmap;
    afp_reader_init(&r, buf, len);

    /* Every fixed field fits (checked above), so the reads below cannot
     * fail; only the name offsets need their own checks. */
    for (int bit = 0; bit < 16 && rc == 0; bit++) {
        uint16_t b = (uint16_t)(1u << bit);
        if (!(bitmap & b))
            continue;
        switch (b) {
        case kFPAttributeBit: afp_read_u16(&r, &out->attributes); break;
        case kFPParentDirIDBit: afp_read_u32(&r, &out->parent_id); break;
        case kFPCreateDateBit: afp_read_i32(&r, &out->create_date); break;
        case kFPModDateBit: afp_read_i32(&r, &out->mod_date); break;
        case kFPBackupDateBit: afp_read_i32(&r, &out->backup_date); break;
        case kFPFinderInfoBit: afp_read_bytes(&r, out->finder_info, 32); break;
        case kFPLongNameBit: rc = read_pname(&r, fixed, out->long_name, sizeof(out->long_name)); break;
        case kFPShortNameBit: rc = read_pname(&r, fixed, out->short_name, sizeof(out->short_name)); break;
        case kFPNodeIDBit: afp_read_u32(&r, &out->node_id); break;
        case kFPUTF8NameBit:
            afp_read_u16(&r, &off);
            afp_read_skip(&r, 4);
            if (off && off < fixed) {
                rc = -EPROTO;
            } else if (off) {
                struct afp_reader at;
                rc = afp_reader_at(&r, 0, off, &at);
                if (rc == 0)
                    rc = afp_read_utf8name(&at, &out->name_hint, out->name, sizeof(out->name),
                                           &out->name_len);
                if (rc == -ENAMETOOLONG)
                    rc = -EPROTO;
            }
            break;
        case kFPUnixPrivsBit:
            afp_read_u32(&r, &out->unix_privs.uid);
            afp_read_u32(&r, &out->unix_privs.gid);
            afp_read_u32(&r, &out->unix_privs.mode);
            afp_read_u32(&r, &out->unix_privs.ua_rights);
            break;
        default:
            if (is_dir) {
                switch (b) {
                case kFPOffspringCountBit: afp_read_u16(&r, &out->offspring_count); break;
                case kFPOwnerIDBit: afp_read_u32(&r, &out->owner_id); break;
                case kFPGroupIDBit: afp_read_u32(&r, &out->group_id); break;
                case kFPAccessRightsBit: afp_read_u32(&r, &out->access_rights); break;
                default: rc = -EPROTO; break;
                }
            } else {
                switch (b) {
                case kFPDataForkLenBit:
                    afp_read_u32(&r, &u32);
                    if (!(bitmap & kFPExtDataForkLenBit))
                        out->data_fork_len = u32;
                    break;
                case kFPRsrcForkLenBit:
                    afp_read_u32(&r, &u32);
                    if (!(bitmap & kFPExtRsrcForkLenBit))
                        out->rsrc_fork_len = u32;
                    break;
                case kFPExtDataForkLenBit: afp_read_u64(&r, &out->data_fork_len); break;
                case kFPExtRsrcForkLenBit: afp_read_u64(&r, &out->rsrc_fork_len); break;
                default: rc = -EPROTO; break;
                }
            }
            break;
        }
    }
    if (rc)
        return rc == -ENAMETOOLONG ? -EPROTO : rc;
    return 0;
}

int afp_volparms_decode(const uint8_t *buf, size_t len, struct afp_volparms *out)
{
    struct afp_reader r, block;
    uint16_t name_off = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    afp_reader_init(&r, buf, len);
    if ((rc = afp_read_u16(&r, &out->bitmap)))
        return rc;
    if (out->bitmap & 0xf000)
        return -EPROTO;
    block.buf = buf + 2;
    block.len = len - 2;
    block.pos = 0;

    for (int bit = 0; bit < 12 && rc == 0; bit++) {
        uint16_t b = (uint16_t)(1u << bit);
        if (!(out->bitmap & b))
            continue;
        switch (b) {
        case kFPVolAttributeBit: rc = afp_read_u16(&block, &out->attributes); break;
        case kFPVolSignatureBit: rc = afp_read_u16(&block, &out->signature); break;
        case kFPVolCreateDateBit: rc = afp_read_i32(&block, &out->create_date); break;
        case kFPVolModDateBit: rc = afp_read_i32(&block, &out->mod_date); break;
        case kFPVolBackupDateBit: rc = afp_read_i32(&block, &out->backup_date); break;
        case kFPVolIDBit: rc = afp_read_u16(&block, &out->vol_id); break;
        case kFPVolBytesFreeBit: rc = afp_read_u32(&block, &out->bytes_free); break;
        case kFPVolBytesTotalBit: rc = afp_read_u32(&block, &out->bytes_total); break;
        case kFPVolNameBit: rc = afp_read_u16(&block, &name_off); break;
        case kFPVolExtBytesFreeBit: rc = afp_read_u64(&block, &out->ext_bytes_free); break;
        case kFPVolExtBytesTotalBit: rc = afp_read_u64(&block, &out->ext_bytes_total); break;
        case kFPVolBlockSizeBit: rc = afp_read_u32(&block, &out->block_size); break;
        }
    }
    if (rc)
        return rc;
    if (out->bitmap & kFPVolNameBit) {
        struct afp_reader at;
        if (name_off < block.pos)
            return -EPROTO;     /* pointing into the fixed part */
        if ((rc = afp_reader_at(&block, 0, name_off, &at)) ||
            (rc = afp_read_pstring(&at, out->name, sizeof(out->name))))
            return -EPROTO;
    }
    return 0;
}

int afp_set_params_encode(struct afp_writer *w, const struct afp_set_params *p)
{
    if (p->bitmap & ~(unsigned)AFP_SETTABLE_BITS)
        return afp_writer_fail(w, -EINVAL);
    if (p->bitmap & kFPAttributeBit)
        afp_write_u16(w, p->attributes);
    if (p->bitmap & kFPCreateDateBit)
        afp_write_u32(w, (uint32_t)p->create_date);
    if (p->bitmap & kFPModDateBit)
        afp_write_u32(w, (uint32_t)p->mod_date);
    if (p->bitmap & kFPBackupDateBit)
        afp_write_u32(w, (uint32_t)p->backup_date);
    if (p->bitmap & kFPFinderInfoBit)
        afp_write_bytes(w, p->finder_info, 32);
    if (p->bitmap & kFPUnixPrivsBit) {
        afp_write_u32(w, p->unix_privs.uid);
        afp_write_u32(w, p->unix_privs.gid);
        afp_write_u32(w, p->unix_privs.mode);
        afp_write_u32(w, p->unix_privs.ua_rights);
    }
    return afp_writer_error(w);
}
