/* One result on its way from a cell's process to the parent: a fixed
 * record written in one write() (smaller than PIPE_BUF, so a process killed
 * at its deadline never leaves half a record in the pipe). */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "matrix.h"
#include "sharesfs/status.h"

G_STATIC_ASSERT(sizeof(struct mx_wire) <= 4096);

bool mx_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

const char *mx_errno_name(int err, char *buf, size_t len)
{
    const char *n = sfs_errno_name(err);
    if (n)
        return n;
    snprintf(buf, len, "errno%d", err);
    return buf;
}

static void put(char *dst, size_t len, const char *s)
{
    snprintf(dst, len, "%s", s ? s : "");
}

void mx_wire_set(struct mx_wire *w, const char *name, const char *reached, const char *result, const char *status,
                 const char *detail)
{
    memset(w, 0, sizeof(*w));
    put(w->name, sizeof(w->name), name);
    put(w->reached, sizeof(w->reached), reached);
    put(w->result, sizeof(w->result), result);
    put(w->status, sizeof(w->status), status);
    put(w->detail, sizeof(w->detail), detail);
}

bool mx_wire_send(int fd, const struct mx_wire *w)
{
    return mx_write_all(fd, w, sizeof(*w));
}

void mx_wire_error(int fd, const char *fmt, ...)
{
    struct mx_wire w;
    mx_wire_set(&w, "!", NULL, NULL, NULL, NULL);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w.detail, sizeof(w.detail), fmt, ap);
    va_end(ap);
    mx_wire_send(fd, &w);
}

/* A record's strings, terminated even when the sender was not ours. */
static char *field(const char *s, size_t len)
{
    return g_strndup(s, len);
}

struct mx_result *mx_wire_result(const char *cell, const struct mx_wire *w)
{
    char *name = field(w->name, sizeof(w->name));
    struct mx_result *r = mx_result_new(cell, name);
    char *f[7] = {
        field(w->reached, sizeof(w->reached)), field(w->result, sizeof(w->result)),
        field(w->status, sizeof(w->status)),   field(w->auth, sizeof(w->auth)),
        field(w->server, sizeof(w->server)),   field(w->dialect, sizeof(w->dialect)),
        field(w->detail, sizeof(w->detail)),
    };
    mx_result_set(r, f[0], f[1], f[2], f[3], f[4], f[5], f[6]);
    r->ms = w->ms;
    for (int i = 0; i < 7; i++)
        g_free(f[i]);
    g_free(name);
    return r;
}
