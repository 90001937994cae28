/* libFuzzer target: the fields of SMB worker frames (fs/core/wire.c,
 * fs/smb/smb_worker_wire.c) as the FUSE side and the worker read them.
 * The first byte picks what the rest is read as: a connect request's
 * target, a reply's status, or a run of mixed fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sharesfs/wire.h"
#include "engine/worker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct sfs_wire_in r = {.buf = malloc(size), .len = size - 1};
    if (!r.buf)
        return 0;
    memcpy(r.buf, data + 1, size - 1);
    switch (data[0] % 3) {
    case 0: {
        struct sfs_worker_target t;
        if (sfs_worker_wire_get_target(&r, &t) == 0)
            sfs_worker_wire_target_free(&t);
        break;
    }
    case 1: {
        struct sfs_status st;
        sfs_worker_wire_get_status(&r, &st);
        break;
    }
    default:
        while (!r.bad) {
            uint32_t n = sfs_wire_get_u32(&r);
            char *s = sfs_wire_get_str(&r);
            free(s);
            struct stat sb;
            if (n & 1)
                sfs_wire_get_fixed(&r, &sb, sizeof(sb));
            char small[16];
            sfs_wire_get_str_into(&r, small, sizeof(small));
            (void)sfs_wire_get_f64(&r);
        }
        break;
    }
    sfs_wire_in_free(&r);
    return 0;
}
