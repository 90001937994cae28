/* Server and volume commands: FPGetSrvrParms (volume list), FPOpenVol,
 * FPGetVolParms, FPCloseVol.  Encoders append one AFP request (the DSI
 * payload) to w and return 0 or the writer's error. */
#ifndef SHARESFS_AFP_VOLUME_H
#define SHARESFS_AFP_VOLUME_H

#include <stddef.h>
#include <stdint.h>

#include "afp_buf.h"
#include "afp_params.h"

/* The bitmap the probe client opens volumes with: attributes, signature,
 * volume ID (seen in every capture). */
#define AFP_OPENVOL_BITMAP (kFPVolAttributeBit | kFPVolSignatureBit | kFPVolIDBit)

int afp_encode_getsrvrparms(struct afp_writer *w);
/* password: NULL for none, else at most 8 bytes (sent NUL-padded). */
int afp_encode_openvol(struct afp_writer *w, uint16_t bitmap, const char *volume, const char *password);
int afp_encode_getvolparms(struct afp_writer *w, uint16_t vol_id, uint16_t bitmap);
int afp_encode_closevol(struct afp_writer *w, uint16_t vol_id);

/* FPGetSrvrParms reply: u32 server time (AFP date), u8 volume count, then
 * per volume u8 flags and a Pascal name.  Init validates the whole reply;
 * next then yields the volumes in order. */
struct afp_srvrparms {
    int32_t server_time;
    uint8_t count;
    struct afp_reader r;
    uint8_t index;
};
struct afp_srvr_volume {
    uint8_t flags;          /* enum afp_srvr_vol_flag */
    char name[256];
};

int afp_srvrparms_init(struct afp_srvrparms *sp, const uint8_t *buf, size_t len);
/* 1 and *vol filled, 0 after the last volume, -EPROTO never after a
 * successful init. */
int afp_srvrparms_next(struct afp_srvrparms *sp, struct afp_srvr_volume *vol);

#endif
