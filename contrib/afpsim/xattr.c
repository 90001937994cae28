/* Extended attributes: FPGetExtAttr, FPSetExtAttr, FPRemoveExtAttr,
 * FPListExtAttrs, mapped to the Linux "user." namespace of the backing
 * files ("foo" on the wire is "user.foo" on disk).  afpsim's own
 * "user.afpsim.*" attributes are not shown.
 *
 * A missing attribute is kFPItemNotFound (-5012) in an AFP 3.4 session and
 * kFPMiscErr (-5014) before, the change Apple made with AFP 3.4 (OS X 10.8;
 * server-versions.md 1.1, S3). */
#include "afpsim.h"

#include <errno.h>
#include <string.h>
#include <sys/xattr.h>

#define XATTR_PREFIX "user."
#define HIDDEN_PREFIX "user.afpsim."
#define MAX_XATTR (64 * 1024)

enum {
    kXAttrNoFollow = 0x0001,
    kXAttrCreate = 0x0002,
    kXAttrReplace = 0x0004,
};

static int32_t enoattr(const struct session *s)
{
    return s->afp_version >= 34 ? kFPItemNotFound : kFPMiscErr;
}

static int32_t xattr_errno(const struct session *s, int e)
{
    switch (e) {
    case ENODATA: return enoattr(s);
    case ENOTSUP: return kFPMiscErr;
    case ERANGE:
    case E2BIG: return kFPParamErr;
    case EEXIST: return kFPObjectExists;
    default: return errno_to_afp(e);
    }
}

/* u8 command, u8 pad, u16 volume, u32 directory, u16 bitmap. */
static int32_t read_head(struct session *s, struct afp_reader *r, const struct volume **v,
                         uint32_t *dir, uint16_t *bitmap)
{
    int32_t err;
    if (!(*v = vol_head(s, r, NULL, &err)))
        return err;
    return afp_read_u32(r, dir) || afp_read_u16(r, bitmap) ? kFPParamErr : kFPNoErr;
}

/* 0, or why this session may not read the attributes of n. */
static int32_t check_read(const struct session *s, const struct node *n)
{
    if (!n->exists)
        return kFPObjectNotFound;
    return node_rights(s, &n->st) & 0x02 ? kFPNoErr : kFPAccessDenied;
}

/* Pad to even, u16 length, UTF-8 name -> "user.NAME". */
static int32_t read_xname(struct afp_reader *r, char *out, size_t outsz)
{
    uint16_t len;
    const uint8_t *p;
    if (afp_read_align2(r) || afp_read_u16(r, &len) || afp_read_view(r, len, &p))
        return kFPParamErr;
    if (len == 0 || len > 255 || memchr(p, 0, len) || !afp_utf8_valid(p, len))
        return kFPParamErr;
    size_t pl = strlen(XATTR_PREFIX);
    if (pl + len >= outsz)
        return kFPParamErr;
    memcpy(out, XATTR_PREFIX, pl);
    memcpy(out + pl, p, len);
    out[pl + len] = '\0';
    if (g_str_has_prefix(out, HIDDEN_PREFIX))
        return kFPAccessDenied;
    return kFPNoErr;
}

int32_t cmd_getextattr(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    const struct volume *v;
    uint32_t dir, maxreply;
    uint16_t bitmap;
    uint64_t off, count;
    struct node n;
    char name[300];
    int32_t rc = read_head(s, r, &v, &dir, &bitmap);
    if (rc)
        return rc;
    if (afp_read_u64(r, &off) || afp_read_u64(r, &count) || afp_read_u32(r, &maxreply))
        return kFPParamErr;
    if ((rc = node_resolve(s, v, dir, r, &n)) || (rc = read_xname(r, name, sizeof(name))) ||
        (rc = check_read(s, &n)))
        return rc;
    uint8_t *val = g_malloc(MAX_XATTR);
    ssize_t len = lgetxattr(n.path, name, val, MAX_XATTR);
    if (len < 0) {
        rc = xattr_errno(s, errno);
        g_free(val);
        return rc;
    }
    afp_write_u16(w, bitmap);
    if (maxreply == 0) {
        /* only the size is wanted */
        afp_write_u32(w, (uint32_t)len);
        g_free(val);
        return kFPNoErr;
    }
    uint64_t from = off < (uint64_t)len ? off : (uint64_t)len;
    uint64_t n_out = (uint64_t)len - from;
    if (n_out > count)
        n_out = count;
    if (maxreply > 6 && n_out > maxreply - 6)
        n_out = maxreply - 6;
    afp_write_u32(w, (uint32_t)n_out);
    afp_write_bytes(w, val + from, (size_t)n_out);
    g_free(val);
    return kFPNoErr;
}

int32_t cmd_setextattr(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    const struct volume *v;
    uint32_t dir, dlen;
    uint16_t bitmap;
    uint64_t off;
    struct node n;
    char name[300];
    const uint8_t *data;
    (void)w;
    int32_t rc = read_head(s, r, &v, &dir, &bitmap);
    if (rc)
        return rc;
    if (afp_read_u64(r, &off))
        return kFPParamErr;
    if ((rc = node_resolve(s, v, dir, r, &n)) || (rc = read_xname(r, name, sizeof(name))))
        return rc;
    if (afp_read_u32(r, &dlen) || afp_read_view(r, dlen, &data))
        return kFPParamErr;
    if (!n.exists)
        return kFPObjectNotFound;
    if (off != 0 || dlen > MAX_XATTR)
        return kFPParamErr;
    if ((rc = check_write(s, v, &n.st)))
        return rc;
    int flags = (bitmap & kXAttrCreate) ? XATTR_CREATE : (bitmap & kXAttrReplace) ? XATTR_REPLACE : 0;
    if (lsetxattr(n.path, name, data, dlen, flags))
        return xattr_errno(s, errno);
    return kFPNoErr;
}

int32_t cmd_removeextattr(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    const struct volume *v;
    uint32_t dir;
    uint16_t bitmap;
    struct node n;
    char name[300];
    (void)w;
    int32_t rc = read_head(s, r, &v, &dir, &bitmap);
    if (rc)
        return rc;
    if ((rc = node_resolve(s, v, dir, r, &n)) || (rc = read_xname(r, name, sizeof(name))))
        return rc;
    if (!n.exists)
        return kFPObjectNotFound;
    if ((rc = check_write(s, v, &n.st)))
        return rc;
    if (lremovexattr(n.path, name))
        return xattr_errno(s, errno);
    return kFPNoErr;
}

int32_t cmd_listextattrs(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    const struct volume *v;
    uint32_t dir, start, maxreply;
    uint16_t bitmap, reqcount;
    struct node n;
    int32_t rc = read_head(s, r, &v, &dir, &bitmap);
    if (rc)
        return rc;
    if (afp_read_u16(r, &reqcount) || afp_read_u32(r, &start) || afp_read_u32(r, &maxreply))
        return kFPParamErr;
    if ((rc = node_resolve(s, v, dir, r, &n)) || (rc = check_read(s, &n)))
        return rc;
    char *list = g_malloc(MAX_XATTR);
    ssize_t len = llistxattr(n.path, list, MAX_XATTR);
    if (len < 0) {
        int e = errno;
        g_free(list);
        if (e == ENOTSUP)
            len = 0, list = NULL;
        else
            return xattr_errno(s, e);
    }
    /* names without the prefix, each NUL-terminated */
    GByteArray *out = g_byte_array_new();
    for (ssize_t i = 0; list && i < len;) {
        const char *nm = list + i;
        size_t l = strnlen(nm, (size_t)(len - i));
        if (g_str_has_prefix(nm, XATTR_PREFIX) && !g_str_has_prefix(nm, HIDDEN_PREFIX))
            g_byte_array_append(out, (const guint8 *)nm + strlen(XATTR_PREFIX),
                                (guint)(l - strlen(XATTR_PREFIX) + 1));
        i += (ssize_t)l + 1;
    }
    g_free(list);
    afp_write_u16(w, bitmap);
    if (maxreply == 0) {
        afp_write_u32(w, out->len);
    } else if (out->len + 6 > maxreply) {
        g_byte_array_free(out, TRUE);
        return kFPParamErr;
    } else {
        afp_write_u32(w, out->len);
        afp_write_bytes(w, out->data, out->len);
    }
    g_byte_array_free(out, TRUE);
    return kFPNoErr;
}
