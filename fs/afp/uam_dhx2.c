/* "DHX2": Diffie-Hellman over a prime the server chooses (netatalk 4 makes
 * a fresh 1024-bit one per login), key K = MD5(Mb^Ra mod p), CAST5-CBC,
 * and nonces in both directions so each side proves it has K.
 *
 *   FPLogin      user, pad to even
 *   <- -5001     u16 id, u32 g, u16 len, p (len), Mb (len)
 *   FPLoginCont  u16 id, Ma (len), E_c(client nonce (16))
 *   <- -5001     u16 id2, E_s(client nonce + 1 (16), server nonce (16))
 *   FPLoginCont  u16 id2, E_c(server nonce + 1 (16), password (256, NUL-padded))
 *   <- 0
 * E_c/E_s: CAST5-CBC with K, IV "LWallace" / "CJalbert".  netatalk refuses
 * an unknown user at the first reply and a wrong password only at the
 * last, so the two can be told apart (p12, p13). */
#include "afp_uam.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DHX2_NONCE_LEN 16
#define DHX2_PASSWORD_LEN 256
#define DHX2_MIN_PRIME 64       /* bytes: 512 bits; netatalk sends 128 */
#define DHX2_MAX_PRIME 1024     /* bytes: 8192 bits */

struct dhx2_state {
    uint8_t key[16];
    uint8_t client_nonce[DHX2_NONCE_LEN];
};

static int dhx2_start(struct afp_login *l, struct afp_writer *w)
{
    return afp_uam_write_user(l, w);
}

/* First reply: DH parameters.  Answers with Ma and the client nonce. */
static int dhx2_key_exchange(struct afp_login *l, const uint8_t *reply, size_t len,
                             struct afp_writer *w)
{
    struct dhx2_state *s = l->state;
    struct afp_reader r;
    const uint8_t *g, *p, *mb;
    uint16_t id, plen;
    uint8_t *ra = NULL, *buf = NULL;
    uint8_t enc[DHX2_NONCE_LEN];
    int rc;

    afp_reader_init(&r, reply, len);
    if (afp_read_u16(&r, &id) || afp_read_view(&r, 4, &g) || afp_read_u16(&r, &plen))
        return afp_uam_fail(l, AFP_LOGIN_MALFORMED_REPLY, -EPROTO, "DHX2: first reply too short (%zu bytes)", len);
    if (plen < DHX2_MIN_PRIME || plen > DHX2_MAX_PRIME)
        return afp_uam_fail(l, AFP_LOGIN_MALFORMED_REPLY, -EPROTO, "DHX2: prime of %u bytes", plen);
    if (len != 8u + 2u * plen || afp_read_view(&r, plen, &p) || afp_read_view(&r, plen, &mb))
        return afp_uam_fail(l, AFP_LOGIN_MALFORMED_REPLY, -EPROTO,
                            "DHX2: first reply has %zu bytes, expected %u", len, 8u + 2u * plen);
    if (afp_dh_check_range(p, plen, g, 4) || afp_dh_check_range(p, plen, mb, plen))
        return afp_uam_fail(l, AFP_LOGIN_MALFORMED_REPLY, -EPROTO, "DHX2: g or Mb out of range");

    ra = malloc(plen);
    buf = malloc(2u * plen);    /* Ma, then the shared secret */
    if (!ra || !buf) {
        rc = afp_uam_fail(l, AFP_LOGIN_LOCAL_ERROR, -ENOMEM, "DHX2: out of memory");
        goto out;
    }
    afp_uam_random(l, AFP_RANDOM_DH_PRIVATE, ra, plen);
    if ((rc = afp_dh_public(p, plen, g, 4, ra, plen, buf)) ||
        (rc = afp_dh_shared(p, plen, mb, plen, ra, plen, buf + plen)) ||
        (rc = afp_md5(buf + plen, plen, s->key))) {
        afp_uam_fail(l, rc == -EPROTO ? AFP_LOGIN_MALFORMED_REPLY : AFP_LOGIN_LOCAL_ERROR, rc,
                     "DHX2: key exchange failed");
        goto out;
    }
    afp_uam_random(l, AFP_RANDOM_NONCE, s->client_nonce, DHX2_NONCE_LEN);
    /* netatalk before 2024 (3.1.12 among them, issue #1456) drops a
     * leading zero byte of "client nonce + 1" and so refuses one login in
     * 128 whatever the password: a first byte of neither 0x00 nor 0xff
     * keeps the sum 16 bytes long; the nonce loses under one bit. */
    if (s->client_nonce[0] == 0x00 || s->client_nonce[0] == 0xff)
        s->client_nonce[0] ^= 0x5a;
    memcpy(enc, s->client_nonce, DHX2_NONCE_LEN);
    if ((rc = afp_cast5_cbc(true, s->key, AFP_IV_CLIENT, enc, sizeof(enc)))) {
        afp_uam_fail(l, AFP_LOGIN_LOCAL_ERROR, rc, "DHX2: CAST5 failed");
        goto out;
    }
    afp_encode_login_cont(w, id);
    afp_write_bytes(w, buf, plen);          /* Ma */
    afp_write_bytes(w, enc, sizeof(enc));
    rc = afp_writer_error(w);
    l->id = id;
out:
    if (ra) {
        explicit_bzero(ra, plen);
        free(ra);
    }
    if (buf) {
        explicit_bzero(buf, 2u * plen);
        free(buf);
    }
    return rc;
}

/* Second reply: the server's proof and nonce.  Answers with the password. */
static int dhx2_send_password(struct afp_login *l, const uint8_t *reply, size_t len,
                              struct afp_writer *w)
{
    struct dhx2_state *s = l->state;
    struct afp_reader r;
    const uint8_t *enc;
    uint8_t box[2 * DHX2_NONCE_LEN];
    uint8_t expect[DHX2_NONCE_LEN];
    uint8_t out[DHX2_NONCE_LEN + DHX2_PASSWORD_LEN];
    uint16_t id;
    int rc;

    afp_reader_init(&r, reply, len);
    if (len != 2 + sizeof(box) || afp_read_u16(&r, &id) || afp_read_view(&r, sizeof(box), &enc))
        return afp_uam_fail(l, AFP_LOGIN_MALFORMED_REPLY, -EPROTO,
                            "DHX2: second reply has %zu bytes, expected 34", len);
    memcpy(box, enc, sizeof(box));
    if ((rc = afp_cast5_cbc(false, s->key, AFP_IV_SERVER, box, sizeof(box))))
        return afp_uam_fail(l, AFP_LOGIN_LOCAL_ERROR, rc, "DHX2: CAST5 failed");
    memcpy(expect, s->client_nonce, DHX2_NONCE_LEN);
    afp_nonce_increment(expect);
    if (memcmp(expect, box, DHX2_NONCE_LEN) != 0) {
        explicit_bzero(box, sizeof(box));
        return afp_uam_fail(l, AFP_LOGIN_SERVER_PROOF_FAILED, -EPROTO,
                            "DHX2: server did not return client nonce + 1");
    }
    memcpy(out, box + DHX2_NONCE_LEN, DHX2_NONCE_LEN);
    afp_nonce_increment(out);
    memset(out + DHX2_NONCE_LEN, 0, DHX2_PASSWORD_LEN);
    memcpy(out + DHX2_NONCE_LEN, l->password, l->password_len);
    rc = afp_cast5_cbc(true, s->key, AFP_IV_CLIENT, out, sizeof(out));
    if (rc == 0) {
        afp_encode_login_cont(w, id);
        afp_write_bytes(w, out, sizeof(out));
        rc = afp_writer_error(w);
        l->id = id;
    } else {
        afp_uam_fail(l, AFP_LOGIN_LOCAL_ERROR, rc, "DHX2: CAST5 failed");
    }
    explicit_bzero(box, sizeof(box));
    explicit_bzero(out, sizeof(out));
    return rc;
}

static int dhx2_step(struct afp_login *l, const uint8_t *reply, size_t len, struct afp_writer *w)
{
    if (!l->state)
        return -EINVAL;
    return l->replies == 0 ? dhx2_key_exchange(l, reply, len, w) : dhx2_send_password(l, reply, len, w);
}

const struct afp_uam afp_uam_dhx2 = {
    .name = "DHX2",
    .needs_user = true,
    .max_password = DHX2_PASSWORD_LEN,
    .replies = 3,
    .user_step = 0,
    .password_step = 2,
    .start = dhx2_start,
    .step = dhx2_step,
    .state_size = sizeof(struct dhx2_state),
};
