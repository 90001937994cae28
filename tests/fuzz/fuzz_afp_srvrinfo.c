/* libFuzzer target for the FPGetSrvrInfo (DSIGetStatus) reply parser.
 * Besides "no crash", it checks what a successful parse promises: every
 * string is NUL-terminated inside its buffer, lists respect their caps,
 * and the helpers that consume the result work on it.
 *   clang -fsanitize=fuzzer,address,undefined -Iinclude -Ifs \
 *     tests/fuzz/fuzz_afp_srvrinfo.c fs/afp/afp_srvrinfo.c fs/afp/afp_buf.c \
 *     fs/afp/afp_login.c fs/afp/afp_names.c fs/afp/uam_*.c -lgcrypt */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "afp/afp_login.h"
#include "afp/afp_srvrinfo.h"

static void check_str(const char *s, size_t cap)
{
    if (!memchr(s, 0, cap))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct afp_srvrinfo si;
    struct afp_version_choice v;
    char buf[320];

    int rc = afp_srvrinfo_parse(data, size, &si);
    if (rc != 0 && rc != -71 /* EPROTO */)
        abort();
    if (rc)
        return 0;
    if (si.n_versions > AFP_SRVRINFO_MAX_LIST || si.n_uams > AFP_SRVRINFO_MAX_LIST ||
        si.n_addrs > AFP_SRVRINFO_MAX_ADDRS || si.n_dirnames > AFP_SRVRINFO_MAX_DIRNAMES ||
        si.n_versions == 0 || si.n_uams == 0)
        abort();
    check_str(si.server_name, sizeof(si.server_name));
    check_str(si.machine_type, sizeof(si.machine_type));
    check_str(si.utf8_name, sizeof(si.utf8_name));
    for (size_t i = 0; i < si.n_versions; i++)
        check_str(si.versions[i], sizeof(si.versions[i]));
    for (size_t i = 0; i < si.n_uams; i++) {
        check_str(si.uams[i], sizeof(si.uams[i]));
        if (!afp_srvrinfo_has_uam(&si, si.uams[i]))
            abort();
    }
    for (size_t i = 0; i < si.n_dirnames; i++)
        check_str(si.dirnames[i], sizeof(si.dirnames[i]));
    for (size_t i = 0; i < si.n_addrs; i++) {
        afp_net_addr_format(&si.addrs[i], buf, sizeof(buf));
        check_str(buf, sizeof(buf));
    }
    if (si.has_icon && (size_t)si.icon_offset + 256 > size)
        abort();
    rc = afp_version_pick(&si, &v, buf, sizeof(buf));
    if (rc == 0 && (!v.name || v.number < 30))
        abort();
    check_str(buf, sizeof(buf));
    return 0;
}
