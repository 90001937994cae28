#include "smb_dialect.h"

#include <string.h>
#include <strings.h>

static const struct {
    enum smb_dialect d;
    const char *name;
    uint16_t wire;
} dialects[] = {
    {SMB_DIALECT_NT1, "NT1", 0},
    {SMB_DIALECT_SMB2_02, "SMB2_02", 0x0202},
    {SMB_DIALECT_SMB2_10, "SMB2_10", 0x0210},
    {SMB_DIALECT_SMB3_00, "SMB3_00", 0x0300},
    {SMB_DIALECT_SMB3_02, "SMB3_02", 0x0302},
    {SMB_DIALECT_SMB3_11, "SMB3_11", 0x0311},
};
#define N_DIALECTS (sizeof(dialects) / sizeof(dialects[0]))

enum smb_dialect smb_dialect_from_name(const char *name)
{
    if (!name)
        return SMB_DIALECT_NONE;
    for (size_t i = 0; i < N_DIALECTS; i++)
        if (strcasecmp(name, dialects[i].name) == 0)
            return dialects[i].d;
    if (strcasecmp(name, "SMB2") == 0)
        return SMB_DIALECT_SMB2_10;
    if (strcasecmp(name, "SMB3") == 0)
        return SMB_DIALECT_SMB3_11;
    if (strcasecmp(name, "CORE") == 0 || strcasecmp(name, "COREPLUS") == 0 ||
        strcasecmp(name, "LANMAN1") == 0 || strcasecmp(name, "LANMAN2") == 0)
        return SMB_DIALECT_NT1;
    return SMB_DIALECT_NONE;
}

const char *smb_dialect_name(enum smb_dialect d)
{
    for (size_t i = 0; i < N_DIALECTS; i++)
        if (dialects[i].d == d)
            return dialects[i].name;
    return "none";
}

uint16_t smb_dialect_wire(enum smb_dialect d)
{
    for (size_t i = 0; i < N_DIALECTS; i++)
        if (dialects[i].d == d)
            return dialects[i].wire;
    return 0;
}

enum smb_dialect smb_dialect_from_wire(uint16_t revision)
{
    for (size_t i = 1; i < N_DIALECTS; i++)
        if (dialects[i].wire == revision)
            return dialects[i].d;
    return SMB_DIALECT_NONE;
}

bool smb_dialect_range_from_vers(const char *vers, enum smb_dialect *min, enum smb_dialect *max)
{
    static const struct {
        const char *vers;
        enum smb_dialect min, max;
    } table[] = {
        {"1.0", SMB_DIALECT_NT1, SMB_DIALECT_NT1},
        {"2.0", SMB_DIALECT_SMB2_02, SMB_DIALECT_SMB2_02},
        {"2.1", SMB_DIALECT_SMB2_10, SMB_DIALECT_SMB2_10},
        {"3.0", SMB_DIALECT_SMB3_00, SMB_DIALECT_SMB3_00},
        {"3.02", SMB_DIALECT_SMB3_02, SMB_DIALECT_SMB3_02},
        {"3.0.2", SMB_DIALECT_SMB3_02, SMB_DIALECT_SMB3_02},
        {"3.1.1", SMB_DIALECT_SMB3_11, SMB_DIALECT_SMB3_11},
        {"3.11", SMB_DIALECT_SMB3_11, SMB_DIALECT_SMB3_11},
        {"3", SMB_DIALECT_SMB3_00, SMB_DIALECT_SMB3_11},
        {"default", SMB_DIALECT_SMB2_10, SMB_DIALECT_SMB3_11},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(vers, table[i].vers) == 0) {
            *min = table[i].min;
            *max = table[i].max;
            return true;
        }
    return false;
}
