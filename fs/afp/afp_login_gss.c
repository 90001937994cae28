#include "afp_login_gss.h"

#include <errno.h>
#include <string.h>

#include "afp_proto.h"

int afp_gss_decode_login_id(const uint8_t *buf, size_t len, uint16_t *id)
{
    struct afp_reader r;
    afp_reader_init(&r, buf, len);
    return afp_read_u16(&r, id);
}

int afp_gss_encode_logincont(struct afp_writer *w, uint16_t id, const char *user, const void *token, size_t len)
{
    if (len > UINT16_MAX)
        return -EMSGSIZE;
    size_t start = w->len;
    afp_write_u8(w, kFPLoginCont);
    afp_write_u8(w, 0);
    afp_write_u8(w, 0);
    afp_write_u16(w, id);
    afp_write_bytes(w, user, strlen(user) + 1);
    if ((w->len - start) % 2)
        afp_write_u8(w, 0);
    afp_write_u16(w, (uint16_t)len);
    afp_write_bytes(w, token, len);
    return afp_writer_error(w);
}

int afp_gss_decode_reply_token(const uint8_t *buf, size_t len, const uint8_t **token, size_t *tlen)
{
    struct afp_reader r;
    uint16_t n = 0;
    afp_reader_init(&r, buf, len);
    if (len == 0) {
        *token = NULL;
        *tlen = 0;
        return 0;
    }
    int rc = afp_read_u16(&r, &n);
    if (rc == 0)
        rc = afp_read_view(&r, n, token);
    if (rc == 0)
        *tlen = n;
    return rc;
}
