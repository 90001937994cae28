/* DSI framing (Data Stream Interface, AFP over TCP): the 16-byte header and
 * the commands.  Pure encode/decode, no I/O, so it is tested on recorded bytes. */
#ifndef SHARESFS_AFP_DSI_H
#define SHARESFS_AFP_DSI_H

#include <stddef.h>
#include <stdint.h>

#define DSI_HEADER_LEN 16
#define DSI_DEFAULT_PORT 548

enum dsi_flags {
    DSI_FLAG_REQUEST = 0x00,
    DSI_FLAG_REPLY = 0x01,
};

enum dsi_command {
    DSI_CLOSESESSION = 1,
    DSI_COMMAND = 2,
    DSI_GETSTATUS = 3,
    DSI_OPENSESSION = 4,
    DSI_TICKLE = 5,
    DSI_WRITE = 6,
    DSI_ATTENTION = 8,
};

/* DSIOpenSession option types. */
enum dsi_option {
    DSI_OPT_SERVER_QUANTUM = 0x00,
    DSI_OPT_ATTENTION_QUANTUM = 0x01,
    DSI_OPT_REPLAY_CACHE_SIZE = 0x02,
};

struct dsi_header {
    uint8_t flags;        /* DSI_FLAG_REQUEST or DSI_FLAG_REPLY */
    uint8_t command;      /* enum dsi_command */
    uint16_t request_id;
    int32_t code;         /* requests: data offset (DSIWrite); replies: AFP result code */
    uint32_t length;      /* payload bytes after the header */
    uint32_t reserved;
};

void dsi_header_encode(const struct dsi_header *h, uint8_t out[DSI_HEADER_LEN]);
/* 0, or -EPROTO for an unknown flags/command byte, -EMSGSIZE when len < 16. */
int dsi_header_decode(const uint8_t *buf, size_t len, struct dsi_header *h);
const char *dsi_command_name(uint8_t command);

#endif
