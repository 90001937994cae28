#include "dsi.h"

#include <errno.h>

static void put_be16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24; p[1] = (v >> 16) & 0xff; p[2] = (v >> 8) & 0xff; p[3] = v & 0xff;
}
static uint16_t get_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void dsi_header_encode(const struct dsi_header *h, uint8_t out[DSI_HEADER_LEN])
{
    out[0] = h->flags;
    out[1] = h->command;
    put_be16(out + 2, h->request_id);
    put_be32(out + 4, (uint32_t)h->code);
    put_be32(out + 8, h->length);
    put_be32(out + 12, h->reserved);
}

int dsi_header_decode(const uint8_t *buf, size_t len, struct dsi_header *h)
{
    if (len < DSI_HEADER_LEN)
        return -EMSGSIZE;
    h->flags = buf[0];
    h->command = buf[1];
    h->request_id = get_be16(buf + 2);
    h->code = (int32_t)get_be32(buf + 4);
    h->length = get_be32(buf + 8);
    h->reserved = get_be32(buf + 12);
    if (h->flags > DSI_FLAG_REPLY)
        return -EPROTO;
    if (h->command < DSI_CLOSESESSION || h->command > DSI_ATTENTION || h->command == 7)
        return -EPROTO;
    return 0;
}

const char *dsi_command_name(uint8_t command)
{
    switch (command) {
    case DSI_CLOSESESSION: return "DSICloseSession";
    case DSI_COMMAND: return "DSICommand";
    case DSI_GETSTATUS: return "DSIGetStatus";
    case DSI_OPENSESSION: return "DSIOpenSession";
    case DSI_TICKLE: return "DSITickle";
    case DSI_WRITE: return "DSIWrite";
    case DSI_ATTENTION: return "DSIAttention";
    default: return "DSI?";
    }
}
