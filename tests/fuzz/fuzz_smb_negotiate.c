/* libFuzzer: our SMB NEGOTIATE reply decoder on arbitrary server bytes. */
#include <stddef.h>
#include <stdint.h>

#include "smb/smb_negotiate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct smb_negotiate_result r;
    (void)smb_negotiate_decode(data, size, NULL, &r);
    return 0;
}
