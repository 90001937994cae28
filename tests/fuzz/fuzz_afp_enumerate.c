/* libFuzzer target for the AFP reply decoders: FPEnumerateExt2 replies
 * first, and the same input as FPGetFileDirParms, FPOpenFork,
 * FPOpenVol/FPGetVolParms, FPGetSrvrParms, FPListExtAttrs, FPGetExtAttr,
 * FPReadExt, FPWriteExt, FPCreateDir and FPGetSrvrMsg replies.
 * Checks: an enumeration that init accepted yields exactly its count of
 * entries, names are NUL-terminated and as long as reported.
 *   clang -fsanitize=fuzzer,address,undefined -Iinclude -Ifs \
 *     tests/fuzz/fuzz_afp_enumerate.c fs/afp/afp_enum.c fs/afp/afp_params.c \
 *     fs/afp/afp_path.c fs/afp/afp_buf.c fs/afp/afp_fork.c fs/afp/afp_volume.c \
 *     fs/afp/afp_xattr.c fs/afp/afp_catalog.c fs/afp/afp_srvrmsg.c */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "afp/afp_catalog.h"
#include "afp/afp_enum.h"
#include "afp/afp_fork.h"
#include "afp/afp_srvrmsg.h"
#include "afp/afp_volume.h"
#include "afp/afp_xattr.h"

#define EPROTO_ (-71)

static void check_node(const struct afp_node *n)
{
    if (!memchr(n->name, 0, sizeof(n->name)) || strlen(n->name) != n->name_len ||
        !memchr(n->long_name, 0, sizeof(n->long_name)) ||
        !memchr(n->short_name, 0, sizeof(n->short_name)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct afp_node node;
    static struct afp_openfork_reply of;
    static struct afp_volparms vp;
    struct afp_enum_reply e;
    struct afp_srvrparms sp;
    struct afp_srvr_volume vol;
    struct afp_xattr_list xl;
    const char *xname;
    int rc;

    rc = afp_enumerate_reply_init(&e, data, size);
    if (rc == 0) {
        unsigned n = 0;
        while ((rc = afp_enumerate_reply_next(&e, &node)) == 1) {
            check_node(&node);
            n++;
        }
        if (rc != 0 || n != e.count)
            abort();
    } else if (rc != EPROTO_) {
        abort();
    }

    rc = afp_getfiledirparms_decode(data, size, &node);
    if (rc == 0)
        check_node(&node);
    else if (rc != EPROTO_)
        abort();

    rc = afp_openfork_decode(data, size, &of);
    if (rc == 0)
        check_node(&of.params);
    else if (rc != EPROTO_)
        abort();

    rc = afp_volparms_decode(data, size, &vp);
    if (rc == 0 && !memchr(vp.name, 0, sizeof(vp.name)))
        abort();

    if (afp_srvrparms_init(&sp, data, size) == 0) {
        unsigned n = 0;
        while ((rc = afp_srvrparms_next(&sp, &vol)) == 1)
            n++;
        if (rc != 0 || n != sp.count)
            abort();
    }

    if (afp_listextattrs_init(&xl, data, size) == 0)
        while ((rc = afp_listextattrs_next(&xl, &xname)) == 1)
            if (strlen(xname) > size)
                abort();

    uint32_t attr_len;
    const uint8_t *payload;
    size_t payload_len;
    if (afp_getextattr_decode(data, size, &attr_len, &payload, &payload_len) == 0 && payload &&
        (payload < data || payload + payload_len > data + size))
        abort();

    /* A reply never yields more than was asked for, nor bytes outside itself. */
    bool eof;
    uint64_t requested = size > 8 ? data[0] | (uint64_t)data[1] << 8 : 0;
    if (afp_readext_decode(0, data, size, requested, &payload, &payload_len, &eof) == 0 &&
        (payload_len > requested || (payload_len && (payload < data || payload + payload_len > data + size))))
        abort();

    uint64_t end;
    (void)afp_writeext_decode(data, size, &end);
    uint32_t dir_id;
    (void)afp_createdir_decode(data, size, &dir_id);
    static struct afp_srvrmsg msg;
    if (afp_srvrmsg_decode(data, size, &msg) == 0 && !memchr(msg.text, 0, sizeof(msg.text)))
        abort();
    return 0;
}
