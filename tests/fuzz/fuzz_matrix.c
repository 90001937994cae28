/* libFuzzer target for the regression matrix's YAML parser
 * (mx_matrix_parse_text).  Besides "no crash, no leak": a refused file
 * always says why, at a position inside the input, and an accepted one
 * frees cleanly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "matrix/matrix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mx_error err;
    memset(&err, 0, sizeof(err));
    struct mx_matrix *m = mx_matrix_parse_text((const char *)data, size, "fuzz.yaml", &err);
    if (m) {
        mx_matrix_free(m);
        return 0;
    }
    if (err.message[0] == '\0' || err.line < 0 || err.column < 0)
        abort();
    char buf[1024];
    mx_error_format(&err, buf, sizeof(buf));
    if (!strstr(buf, "fuzz.yaml"))
        abort();
    return 0;
}
