#include "afp_path.h"

#include <errno.h>
#include <string.h>

#include "afp_proto.h"

/* Copies one name, swapping the separators `from` -> `to`; a `bad` byte in
 * it is -EINVAL. */
static int map_name(const char *in, size_t len, char bad, char from, char to, char *out, size_t outsz)
{
    if (len >= outsz)
        return -ENAMETOOLONG;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == bad)
            return -EINVAL;
        out[i] = in[i] == from ? to : in[i];
    }
    out[len] = '\0';
    return 0;
}

int afp_name_to_posix(const char *afp, size_t len, char *out, size_t outsz)
{
    return map_name(afp, len, '\0', '/', ':', out, outsz);
}

int afp_name_from_posix(const char *posix, char *out, size_t outsz)
{
    return map_name(posix, strlen(posix), '/', ':', '/', out, outsz);
}

/* Writes the NUL-separated body of a path into w, mapping ':' to '/'. */
static int write_components(struct afp_writer *w, const char *path)
{
    bool first = true;
    const char *p = path;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.')) {
            /* empty or "." component */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            return -EINVAL;
        } else if (n > AFP_NAME_MAX) {
            return -ENAMETOOLONG;
        } else {
            if (!first)
                afp_write_u8(w, 0);
            for (size_t i = 0; i < n; i++)
                afp_write_u8(w, p[i] == ':' ? '/' : (uint8_t)p[i]);
            first = false;
        }
        p += n;
        if (*p == '/')
            p++;
    }
    return afp_writer_error(w);
}

static int write_type3(struct afp_writer *w, const char *path, bool single)
{
    size_t len_at;
    uint8_t *lenp;
    int rc;

    if (w->err)
        return w->err;
    if (single && (strchr(path, '/') || !strcmp(path, ".") || !strcmp(path, "..")))
        return afp_writer_fail(w, -EINVAL);
    afp_write_u8(w, kFPUTF8Name);
    afp_write_u32(w, AFP_UTF8_HINT);
    len_at = w->len;
    afp_write_u16(w, 0);
    if ((rc = afp_writer_error(w)))
        return rc;
    if ((rc = write_components(w, path))) {
        w->len = len_at - 5;    /* take the partial pathname back out */
        return afp_writer_fail(w, rc);
    }
    size_t n = w->len - len_at - 2;
    if (n > AFP_PATH_MAX) {
        w->len = len_at - 5;
        return afp_writer_fail(w, -ENAMETOOLONG);
    }
    lenp = w->buf + len_at;
    lenp[0] = (uint8_t)(n >> 8);
    lenp[1] = (uint8_t)n;
    return 0;
}

int afp_write_pathname(struct afp_writer *w, const char *posix_path)
{
    if (!posix_path)
        return afp_writer_fail(w, -EINVAL);
    return write_type3(w, posix_path, false);
}

int afp_write_name(struct afp_writer *w, const char *posix_name)
{
    return write_type3(w, posix_name ? posix_name : "", true);
}
