#include "afp_srvrmsg.h"

#include <errno.h>
#include <string.h>

#include "afp_proto.h"

int afp_encode_getsrvrmsg(struct afp_writer *w, uint16_t type, uint16_t bitmap)
{
    afp_write_head(w, kFPGetSrvrMsg, 0, type);
    afp_write_u16(w, bitmap);
    return afp_writer_error(w);
}

int afp_srvrmsg_decode(const uint8_t *buf, size_t len, struct afp_srvrmsg *out)
{
    struct afp_reader r;
    const uint8_t *p;
    size_t n;
    uint16_t n16;

    memset(out, 0, sizeof(*out));
    afp_reader_init(&r, buf, len);
    if (afp_read_u16(&r, &out->type) || afp_read_u16(&r, &out->bitmap))
        return -EPROTO;
    if (out->bitmap & AFP_SRVRMSG_UTF8) {
        if (afp_read_u16(&r, &n16) || afp_read_view(&r, n16, &p))
            return -EPROTO;
        n = n16;
    } else if (afp_read_pstring_view(&r, &p, &n)) {
        return -EPROTO;
    }
    /* a message longer than we keep is cut, not refused: it is only shown */
    if (n >= sizeof(out->text))
        n = sizeof(out->text) - 1;
    if (memchr(p, 0, n))
        return -EPROTO;
    memcpy(out->text, p, n);
    out->text[n] = '\0';
    return 0;
}
