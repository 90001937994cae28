/* "No User Authent": guest login, no auth info, one reply. */
#include "afp_uam.h"

static int guest_start(struct afp_login *l, struct afp_writer *w)
{
    (void)l;
    return afp_writer_error(w);
}

const struct afp_uam afp_uam_guest = {
    .name = "No User Authent",
    .needs_user = false,
    .max_password = 0,
    .replies = 1,
    .user_step = AFP_UAM_NO_STEP,
    .password_step = AFP_UAM_NO_STEP,
    .start = guest_start,
};
