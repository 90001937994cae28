#include "sharesfs/text.h"

#include <stdlib.h>
#include <string.h>

char *sfs_strdup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

bool sfs_is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}
