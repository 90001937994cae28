/* libFuzzer target for the login state machine: the input is a server
 * reply (first 4 bytes: the AFP result code, big-endian; then the
 * payload) to the FPLogin of each UAM.  A reply must end in a verdict
 * (more, done, refused, -EPROTO), never a crash, and a refusal or a
 * malformed reply must leave nothing to send.
 *   clang -fsanitize=fuzzer,address,undefined -Iinclude -Ifs \
 *     tests/fuzz/fuzz_afp_login.c fs/afp/afp_login.c fs/afp/afp_buf.c \
 *     fs/afp/afp_names.c fs/afp/uam_*.c -lgcrypt */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "afp/afp_login.h"
#include "afp/afp_uam.h"

static void fixed_random(void *arg, enum afp_random_purpose purpose, uint8_t *buf, size_t len)
{
    (void)arg;
    memset(buf, purpose == AFP_RANDOM_NONCE ? 0x5a : 0x33, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct afp_uam *const uams[] = {
        &afp_uam_guest, &afp_uam_cleartext, &afp_uam_dhcast128, &afp_uam_dhx2,
    };
    if (size < 5)
        return 0;
    int32_t result = (int32_t)((uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
                               (uint32_t)data[2] << 8 | data[3]);
    const struct afp_uam *uam = uams[data[4] % 4];
    bool ext = data[4] & 0x80;
    struct afp_writer w;
    struct afp_login l;

    afp_writer_init(&w);
    if (afp_login_init(&l, uam, "AFP3.4", "afpuser", "afppass", ext) == 0) {
        afp_login_set_random(&l, fixed_random, NULL);
        if (afp_login_start(&l, &w) != 0)
            abort();
        afp_writer_reset(&w);
        int rc = afp_login_continue(&l, result, data + 5, size - 5, &w);
        if (rc == AFP_LOGIN_MORE) {
            if (w.len < 4 || w.buf[0] != 19)
                abort();
        } else if (rc == AFP_LOGIN_DONE) {
            if (l.outcome != AFP_LOGIN_OK)
                abort();
        } else if (rc == AFP_LOGIN_SERVER_REFUSED || rc == -71 /* EPROTO */) {
            if (w.len != 0 || l.outcome == AFP_LOGIN_OK || l.outcome == AFP_LOGIN_PENDING)
                abort();
        } else if (rc != -12 /* ENOMEM */) {
            abort();
        }
        if (!memchr(l.detail, 0, sizeof(l.detail)))
            abort();
    }
    afp_login_cleanup(&l);
    afp_writer_free(&w);
    return 0;
}
