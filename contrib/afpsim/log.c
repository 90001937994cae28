/* Logging: one line per message, written with a single write() so lines
 * from concurrent session processes do not interleave. */
#include "afpsim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int log_fd = STDERR_FILENO;
static enum log_level log_level = LOG_INFO;

void log_open(const char *path)
{
    if (!path)
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "afpsim: cannot open log %s: %s\n", path, strerror(errno));
        return;
    }
    log_fd = fd;
}

void log_set_level(enum log_level l)
{
    log_level = l;
}

bool log_enabled(enum log_level l)
{
    return l <= log_level;
}

void log_msg(enum log_level l, const char *fmt, ...)
{
    static const char *names[] = { "error", "warning", "info", "debug" };
    char line[2048];
    struct timeval tv;
    struct tm tm;
    va_list ap;
    int n;

    if (l > log_level)
        return;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    n = snprintf(line, sizeof(line), "%04d-%02d-%02d %02d:%02d:%02d.%03ld afpsim[%ld] %s: ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (long)tv.tv_usec / 1000, (long)getpid(), names[l]);
    if (n < 0)
        return;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        return;
    size_t len = strlen(line);
    line[len++] = '\n';
    ssize_t w;
    do
        w = write(log_fd, line, len);
    while (w < 0 && errno == EINTR);
}
