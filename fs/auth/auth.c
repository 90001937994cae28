#include "sharesfs/auth.h"

#include <string.h>
#include <strings.h>

const char *sfs_auth_kind_name(enum sfs_auth_kind kind)
{
    switch (kind) {
    case SFS_AUTH_NONE: return "guest";
    case SFS_AUTH_PASSWORD: return "ntlmssp";
    case SFS_AUTH_CLEARTEXT: return "cleartext";
    case SFS_AUTH_DHCAST128: return "dhcast128";
    case SFS_AUTH_DHX2: return "dhx2";
    case SFS_AUTH_KRB5: return "krb5";
    }
    return "?";
}

bool sfs_auth_kind_from_uam(const char *uam, enum sfs_auth_kind *kind, const char **canonical)
{
    static const struct {
        const char *name;
        enum sfs_auth_kind kind;
    } uams[] = {
        {"No User Authent", SFS_AUTH_NONE},
        {"Cleartxt Passwrd", SFS_AUTH_CLEARTEXT},
        {"DHCAST128", SFS_AUTH_DHCAST128},
        {"DHX", SFS_AUTH_DHCAST128},
        {"DHX2", SFS_AUTH_DHX2},
        {"Client Krb v2", SFS_AUTH_KRB5},
    };
    for (size_t i = 0; i < sizeof(uams) / sizeof(uams[0]); i++)
        if (strcasecmp(uam, uams[i].name) == 0) {
            *kind = uams[i].kind;
            if (canonical)
                *canonical = uams[i].kind == SFS_AUTH_DHCAST128 ? "DHCAST128" : uams[i].name;
            return true;
        }
    return false;
}
