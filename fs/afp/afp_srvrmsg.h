/* FPGetSrvrMsg: the login message or the server message (seen in a20-a22,
 * where afpfs-ng fetches netatalk's "login message"). */
#ifndef SHARESFS_AFP_SRVRMSG_H
#define SHARESFS_AFP_SRVRMSG_H

#include <stddef.h>
#include <stdint.h>

#include "afp_buf.h"

enum afp_srvrmsg_type {
    AFP_SRVRMSG_LOGIN = 0,
    AFP_SRVRMSG_SERVER = 1,
};
#define AFP_SRVRMSG_GET 0x0001      /* bitmap: return the message text */
#define AFP_SRVRMSG_UTF8 0x0002     /* bitmap: as UTF-8 with a u16 length */

int afp_encode_getsrvrmsg(struct afp_writer *w, uint16_t type, uint16_t bitmap);

struct afp_srvrmsg {
    uint16_t type;
    uint16_t bitmap;
    char text[1024];        /* UTF-8 (or Mac Roman without AFP_SRVRMSG_UTF8) */
};
/* Reply: u16 type, u16 bitmap, then the message as a u16-length UTF-8
 * string when the bitmap has AFP_SRVRMSG_UTF8, else a Pascal string. */
int afp_srvrmsg_decode(const uint8_t *buf, size_t len, struct afp_srvrmsg *out);

#endif
