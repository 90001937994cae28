#include "afp_buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void afp_reader_init(struct afp_reader *r, const void *buf, size_t len)
{
    static const uint8_t nothing[1];
    /* Never NULL, so that even "NULL + 0" pointer arithmetic cannot happen. */
    r->buf = buf ? buf : nothing;
    r->len = buf ? len : 0;
    r->pos = 0;
}

size_t afp_reader_remaining(const struct afp_reader *r)
{
    return r->pos < r->len ? r->len - r->pos : 0;
}

int afp_reader_at(const struct afp_reader *r, size_t base, size_t offset, struct afp_reader *out)
{
    if (base > r->len || offset > r->len - base)
        return -EPROTO;
    out->buf = r->buf;
    out->len = r->len;
    out->pos = base + offset;
    return 0;
}

int afp_reader_sub(struct afp_reader *r, size_t n, struct afp_reader *out)
{
    if (n > afp_reader_remaining(r))
        return -EPROTO;
    out->buf = r->buf + r->pos;
    out->len = n;
    out->pos = 0;
    r->pos += n;
    return 0;
}

int afp_read_view(struct afp_reader *r, size_t n, const uint8_t **p)
{
    if (n > afp_reader_remaining(r))
        return -EPROTO;
    *p = r->buf + r->pos;
    r->pos += n;
    return 0;
}

int afp_read_skip(struct afp_reader *r, size_t n)
{
    const uint8_t *p;
    return afp_read_view(r, n, &p);
}

int afp_read_bytes(struct afp_reader *r, void *out, size_t n)
{
    const uint8_t *p;
    int rc = afp_read_view(r, n, &p);
    if (rc == 0 && n)
        memcpy(out, p, n);
    return rc;
}

int afp_read_uint(struct afp_reader *r, size_t n, uint64_t *v)
{
    const uint8_t *p;
    if (n > 8)
        return -EINVAL;
    int rc = afp_read_view(r, n, &p);
    if (rc)
        return rc;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x = x << 8 | p[i];
    *v = x;
    return 0;
}

/* afp_read_u8 ... afp_read_u64: the reads differ only in width. */
#define DEFINE_READ_BE(name, type)                      \
    int name(struct afp_reader *r, type *v)             \
    {                                                   \
        uint64_t x;                                     \
        int rc = afp_read_uint(r, sizeof(type), &x);    \
        if (rc == 0)                                    \
            *v = (type)x;                               \
        return rc;                                      \
    }
DEFINE_READ_BE(afp_read_u8, uint8_t)
DEFINE_READ_BE(afp_read_u16, uint16_t)
DEFINE_READ_BE(afp_read_u32, uint32_t)
DEFINE_READ_BE(afp_read_i32, int32_t)
DEFINE_READ_BE(afp_read_u64, uint64_t)

int afp_read_head(struct afp_reader *r, uint8_t *cmd, uint8_t *flag, uint16_t *ref)
{
    size_t save = r->pos;
    uint8_t c, f;
    if (afp_read_u8(r, &c) || afp_read_u8(r, &f) || afp_read_u16(r, ref)) {
        r->pos = save;
        return -EPROTO;
    }
    if (cmd)
        *cmd = c;
    if (flag)
        *flag = f;
    return 0;
}

int afp_read_align2(struct afp_reader *r)
{
    if (r->pos & 1)
        return afp_read_skip(r, 1);
    return 0;
}

static int copy_name(const uint8_t *p, size_t n, char *out, size_t outsz)
{
    if (memchr(p, 0, n))
        return -EPROTO;
    if (n >= outsz)
        return -ENAMETOOLONG;
    if (n)
        memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

int afp_read_pstring_view(struct afp_reader *r, const uint8_t **p, size_t *n)
{
    size_t save = r->pos;
    uint8_t len;
    int rc = afp_read_u8(r, &len);
    if (rc == 0)
        rc = afp_read_view(r, len, p);
    if (rc == 0)
        *n = len;
    else
        r->pos = save;
    return rc;
}

int afp_read_pstring(struct afp_reader *r, char *out, size_t outsz)
{
    size_t save = r->pos;
    const uint8_t *p;
    size_t n;
    int rc = afp_read_pstring_view(r, &p, &n);
    if (rc == 0)
        rc = copy_name(p, n, out, outsz);
    if (rc)
        r->pos = save;
    return rc;
}

int afp_read_utf8name(struct afp_reader *r, uint32_t *hint, char *out, size_t outsz, size_t *outlen)
{
    size_t save = r->pos;
    uint32_t h;
    uint16_t len;
    const uint8_t *p;
    int rc = afp_read_u32(r, &h);
    if (rc == 0)
        rc = afp_read_u16(r, &len);
    if (rc == 0)
        rc = afp_read_view(r, len, &p);
    if (rc == 0)
        rc = copy_name(p, len, out, outsz);
    if (rc) {
        r->pos = save;
        return rc;
    }
    if (hint)
        *hint = h;
    if (outlen)
        *outlen = len;
    return 0;
}

bool afp_utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        size_t need;
        uint32_t cp, min;
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            need = 1; cp = c & 0x1f; min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            need = 2; cp = c & 0x0f; min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            need = 3; cp = c & 0x07; min = 0x10000;
        } else {
            return false;
        }
        if (need > n - i - 1)
            return false;
        for (size_t k = 1; k <= need; k++) {
            uint8_t cc = p[i + k];
            if ((cc & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (cc & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += need + 1;
    }
    return true;
}

void afp_writer_init(struct afp_writer *w)
{
    w->buf = NULL;
    w->len = 0;
    w->cap = 0;
    w->err = 0;
}

void afp_writer_free(struct afp_writer *w)
{
    if (w->buf) {
        explicit_bzero(w->buf, w->cap);
        free(w->buf);
    }
    afp_writer_init(w);
}

void afp_writer_reset(struct afp_writer *w)
{
    if (w->buf)
        explicit_bzero(w->buf, w->cap);
    w->len = 0;
    w->err = 0;
}

int afp_writer_error(const struct afp_writer *w)
{
    return w->err;
}

int afp_writer_fail(struct afp_writer *w, int err)
{
    if (!w->err)
        w->err = err;
    return w->err;
}

int afp_write_reserve(struct afp_writer *w, size_t n, uint8_t **p)
{
    if (w->err)
        return w->err;
    if (n > SIZE_MAX / 2 - w->len)
        return afp_writer_fail(w, -ENOMEM);
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 64;
        while (cap < w->len + n)
            cap *= 2;
        /* Not realloc: the old buffer may hold a password and must be wiped. */
        uint8_t *nb = malloc(cap);
        if (!nb)
            return afp_writer_fail(w, -ENOMEM);
        if (w->buf) {
            memcpy(nb, w->buf, w->len);
            explicit_bzero(w->buf, w->cap);
            free(w->buf);
        }
        w->buf = nb;
        w->cap = cap;
    }
    *p = w->buf + w->len;
    w->len += n;
    return 0;
}

int afp_write_bytes(struct afp_writer *w, const void *src, size_t n)
{
    uint8_t *p;
    int rc = afp_write_reserve(w, n, &p);
    if (rc == 0 && n)
        memcpy(p, src, n);
    return rc;
}

int afp_write_zeros(struct afp_writer *w, size_t n)
{
    uint8_t *p;
    int rc = afp_write_reserve(w, n, &p);
    if (rc == 0 && n)
        memset(p, 0, n);
    return rc;
}

int afp_write_head(struct afp_writer *w, uint8_t cmd, uint8_t flag, uint16_t ref)
{
    afp_write_u8(w, cmd);
    afp_write_u8(w, flag);
    return afp_write_u16(w, ref);
}

int afp_write_dir_head(struct afp_writer *w, uint8_t cmd, uint8_t flag, uint16_t vol_id, uint32_t dir_id)
{
    afp_write_head(w, cmd, flag, vol_id);
    return afp_write_u32(w, dir_id);
}

int afp_write_u8(struct afp_writer *w, uint8_t v)
{
    return afp_write_bytes(w, &v, 1);
}

int afp_write_u16(struct afp_writer *w, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    return afp_write_bytes(w, b, 2);
}

void afp_writer_patch_u16(struct afp_writer *w, size_t at, uint16_t v)
{
    if (w->err || at + 2 > w->len)
        return;
    w->buf[at] = (uint8_t)(v >> 8);
    w->buf[at + 1] = (uint8_t)v;
}

int afp_write_u32(struct afp_writer *w, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    return afp_write_bytes(w, b, 4);
}

int afp_write_u64(struct afp_writer *w, uint64_t v)
{
    int rc = afp_write_u32(w, (uint32_t)(v >> 32));
    return rc ? rc : afp_write_u32(w, (uint32_t)v);
}

int afp_write_pstring_n(struct afp_writer *w, const void *s, size_t n)
{
    if (n > 255)
        return afp_writer_fail(w, -ENAMETOOLONG);
    int rc = afp_write_u8(w, (uint8_t)n);
    return rc ? rc : afp_write_bytes(w, s, n);
}

int afp_write_pstring(struct afp_writer *w, const char *s)
{
    if (!s)
        return afp_writer_fail(w, -EINVAL);
    return afp_write_pstring_n(w, s, strlen(s));
}

int afp_write_pad_even(struct afp_writer *w)
{
    if (w->err)
        return w->err;
    return (w->len & 1) ? afp_write_u8(w, 0) : 0;
}
