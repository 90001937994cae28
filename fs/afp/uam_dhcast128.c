/* "DHCAST128" (netatalk's uams_dhx.so; Apple calls it DHX): Diffie-Hellman
 * over a fixed 128-bit prime, then CAST5-CBC with the 16-byte shared
 * secret as key.
 *
 *   FPLogin      user, pad to even, Ma (16)         Ma = g^Ra mod p
 *   <- -5001     u16 id, Mb (16), E_s(nonce (16), signature (16))
 *   FPLoginCont  u16 id, E_c(nonce + 1 (16), password (64, NUL-padded))
 *   <- 0
 * E_c/E_s: CAST5-CBC, key K = Mb^Ra mod p, IV "LWallace" / "CJalbert". */
#include "afp_uam.h"

#include <errno.h>
#include <string.h>

#define DHCAST_LEN 16
#define DHCAST_PASSWORD_LEN 64

static const uint8_t dhcast_p[DHCAST_LEN] = {
    0xba, 0x28, 0x73, 0xdf, 0xb0, 0x60, 0x57, 0xd4,
    0x3f, 0x20, 0x24, 0x74, 0x4c, 0xee, 0xe7, 0x5b,
};
static const uint8_t dhcast_g[1] = { 7 };

struct dhcast_state {
    uint8_t ra[DHCAST_LEN];
};

static int dhcast_start(struct afp_login *l, struct afp_writer *w)
{
    struct dhcast_state *s = l->state;
    uint8_t ma[DHCAST_LEN];
    int rc;

    afp_uam_random(l, AFP_RANDOM_DH_PRIVATE, s->ra, sizeof(s->ra));
    rc = afp_dh_public(dhcast_p, sizeof(dhcast_p), dhcast_g, sizeof(dhcast_g), s->ra, sizeof(s->ra), ma);
    if (rc)
        return afp_uam_fail(l, AFP_LOGIN_LOCAL_ERROR, rc, "DHCAST128: computing Ma failed");
    afp_uam_write_user(l, w);
    afp_write_bytes(w, ma, sizeof(ma));
    return afp_writer_error(w);
}

static int dhcast_step(struct afp_login *l, const uint8_t *reply, size_t len, struct afp_writer *w)
{
    struct dhcast_state *s = l->state;
    struct afp_reader r;
    const uint8_t *mb, *enc;
    uint8_t key[DHCAST_LEN];
    uint8_t box[32];
    uint8_t out[DHCAST_LEN + DHCAST_PASSWORD_LEN];
    uint16_t id;
    int rc;

    if (!s)
        return -EINVAL;
    afp_reader_init(&r, reply, len);
    if (len != 2 + DHCAST_LEN + 32 || afp_read_u16(&r, &id) || afp_read_view(&r, DHCAST_LEN, &mb) ||
        afp_read_view(&r, 32, &enc))
        return afp_uam_fail(l, AFP_LOGIN_MALFORMED_REPLY, -EPROTO,
                            "DHCAST128: first reply has %zu bytes, expected 50", len);
    rc = afp_dh_shared(dhcast_p, sizeof(dhcast_p), mb, DHCAST_LEN, s->ra, sizeof(s->ra), key);
    if (rc == -EPROTO)
        return afp_uam_fail(l, AFP_LOGIN_MALFORMED_REPLY, rc, "DHCAST128: server value Mb out of range");
    if (rc)
        return afp_uam_fail(l, AFP_LOGIN_LOCAL_ERROR, rc, "DHCAST128: computing K failed");

    memcpy(box, enc, sizeof(box));
    rc = afp_cast5_cbc(false, key, AFP_IV_SERVER, box, sizeof(box));
    if (rc == 0) {
        /* box = server nonce, server signature (not checked: AFP gives it
         * no defined content a client could verify). */
        memcpy(out, box, DHCAST_LEN);
        afp_nonce_increment(out);
        memset(out + DHCAST_LEN, 0, DHCAST_PASSWORD_LEN);
        memcpy(out + DHCAST_LEN, l->password, l->password_len);
        rc = afp_cast5_cbc(true, key, AFP_IV_CLIENT, out, sizeof(out));
    }
    if (rc == 0) {
        afp_encode_login_cont(w, id);
        afp_write_bytes(w, out, sizeof(out));
        rc = afp_writer_error(w);
    } else {
        afp_uam_fail(l, AFP_LOGIN_LOCAL_ERROR, rc, "DHCAST128: CAST5 failed");
    }
    explicit_bzero(key, sizeof(key));
    explicit_bzero(box, sizeof(box));
    explicit_bzero(out, sizeof(out));
    l->id = id;
    return rc;
}

const struct afp_uam afp_uam_dhcast128 = {
    .name = "DHCAST128",
    .needs_user = true,
    .max_password = DHCAST_PASSWORD_LEN,
    .replies = 2,
    .user_step = 0,
    .password_step = 1,
    .start = dhcast_start,
    .step = dhcast_step,
    .state_size = sizeof(struct dhcast_state),
};
