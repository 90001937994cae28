/* "Cleartxt Passwrd": user name, pad to even, the password in 8 bytes,
 * NUL-padded, in clear (p03).  One reply judges user and password
 * together, so a refusal cannot say which was wrong. */
#include "afp_uam.h"

#include <string.h>

#define CLEARTEXT_PASSWORD_LEN 8

static int cleartext_start(struct afp_login *l, struct afp_writer *w)
{
    uint8_t pw[CLEARTEXT_PASSWORD_LEN] = { 0 };
    afp_uam_write_user(l, w);
    memcpy(pw, l->password, l->password_len);
    afp_write_bytes(w, pw, sizeof(pw));
    explicit_bzero(pw, sizeof(pw));
    return afp_writer_error(w);
}

const struct afp_uam afp_uam_cleartext = {
    .name = "Cleartxt Passwrd",
    .needs_user = true,
    .max_password = CLEARTEXT_PASSWORD_LEN,
    .replies = 1,
    .user_step = 0,
    .password_step = 0,
    .start = cleartext_start,
};
