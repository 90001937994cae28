#include "afp_volume.h"

#include <errno.h>
#include <string.h>

#include "afp_proto.h"

int afp_encode_getsrvrparms(struct afp_writer *w)
{
    afp_write_u8(w, kFPGetSrvrParms);
    afp_write_u8(w, 0);     /* pad (afpfs-ng omits it; netatalk accepts both) */
    return afp_writer_error(w);
}

int afp_encode_openvol(struct afp_writer *w, uint16_t bitmap, const char *volume, const char *password)
{
    if (!volume || (password && strlen(password) > 8))
        return afp_writer_fail(w, -EINVAL);
    afp_write_head(w, kFPOpenVol, 0, bitmap);
    afp_write_pstring(w, volume);
    if (password) {
        uint8_t pw[8] = { 0 };
        memcpy(pw, password, strlen(password));
        afp_write_pad_even(w);
        afp_write_bytes(w, pw, sizeof(pw));
        explicit_bzero(pw, sizeof(pw));
    }
    return afp_writer_error(w);
}

int afp_encode_getvolparms(struct afp_writer *w, uint16_t vol_id, uint16_t bitmap)
{
    afp_write_head(w, kFPGetVolParms, 0, vol_id);
    afp_write_u16(w, bitmap);
    return afp_writer_error(w);
}

int afp_encode_closevol(struct afp_writer *w, uint16_t vol_id)
{
    afp_write_head(w, kFPCloseVol, 0, vol_id);
    return afp_writer_error(w);
}

static int read_volume(struct afp_reader *r, struct afp_srvr_volume *vol)
{
    int rc = afp_read_u8(r, &vol->flags);
    if (rc == 0)
        rc = afp_read_pstring(r, vol->name, sizeof(vol->name));
    return rc ? -EPROTO : 0;
}

int afp_srvrparms_init(struct afp_srvrparms *sp, const uint8_t *buf, size_t len)
{
    struct afp_srvr_volume scratch;
    struct afp_reader check;
    int rc;

    memset(sp, 0, sizeof(*sp));
    afp_reader_init(&sp->r, buf, len);
    if ((rc = afp_read_i32(&sp->r, &sp->server_time)) || (rc = afp_read_u8(&sp->r, &sp->count)))
        return -EPROTO;
    check = sp->r;
    for (unsigned i = 0; i < sp->count; i++)
        if ((rc = read_volume(&check, &scratch)))
            return rc;
    return 0;
}

int afp_srvrparms_next(struct afp_srvrparms *sp, struct afp_srvr_volume *vol)
{
    if (sp->index >= sp->count)
        return 0;
    int rc = read_volume(&sp->r, vol);
    if (rc)
        return rc;
    sp->index++;
    return 1;
}
