/* "Client Krb v2": FPLoginExt naming the UAM, answered kFPAuthContinue with
 * a u16 ID; then FPLoginCont carrying a GSS krb5 AP-REQ, answered kFPNoErr
 * with the AP-REP (mutual authentication).  Layout as seen from netatalk
 * (capture p06):
 *   FPLoginCont: u8 19, u8 pad, u8 0, u16 ID, user name + NUL, pad to even,
 *                u16 token length, token
 *   reply:       u16 token length, token */
#ifndef SHARESFS_AFP_LOGIN_GSS_H
#define SHARESFS_AFP_LOGIN_GSS_H

#include <stddef.h>
#include <stdint.h>

#include "afp_buf.h"

#define AFP_UAM_KRB5 "Client Krb v2"

/* The ID in the kFPAuthContinue reply to FPLoginExt. */
int afp_gss_decode_login_id(const uint8_t *buf, size_t len, uint16_t *id);
int afp_gss_encode_logincont(struct afp_writer *w, uint16_t id, const char *user, const void *token, size_t len);
/* The server's token in the final reply (may be empty). */
int afp_gss_decode_reply_token(const uint8_t *buf, size_t len, const uint8_t **token, size_t *tlen);

#endif
