#include "sharesfs/net.h"

#include "sharesfs/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int errno_for_eai(int eai)
{
    switch (eai) {
    case EAI_NONAME:
#ifdef EAI_NODATA
    case EAI_NODATA:
#endif
        return EHOSTUNREACH;
    case EAI_AGAIN:
        return EAGAIN;
    case EAI_MEMORY:
        return ENOMEM;
    default:
        return EIO;
    }
}

int sfs_net_resolve(const char *host, int port, struct sfs_addr *out, struct sfs_status *st)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    /* A literal address needs no lookup, and AI_ADDRCONFIG would cost a
     * netlink dump of the machine's addresses on every connect. */
    hints.ai_flags = AI_NUMERICHOST;
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc == EAI_NONAME) {
        hints.ai_flags = AI_ADDRCONFIG;
        rc = getaddrinfo(host, portstr, &hints, &res);
    }
    if (rc == EAI_NONAME || rc == EAI_ADDRFAMILY) {
        /* AI_ADDRCONFIG hides loopback-only families; retry without it. */
        hints.ai_flags = 0;
        rc = getaddrinfo(host, portstr, &hints, &res);
    }
    if (rc != 0) {
        int err = rc == EAI_SYSTEM ? errno : errno_for_eai(rc);
        return sfs_status_set(st, SFS_STAGE_RESOLVE, err, SFS_DOMAIN_DNS, rc,
                              "cannot resolve host '%s': %s", host, gai_strerror(rc));
    }
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    if (getnameinfo(res->ai_addr, res->ai_addrlen, out->text, sizeof(out->text), NULL, 0, NI_NUMERICHOST) != 0)
        snprintf(out->text, sizeof(out->text), "?");
    freeaddrinfo(res);
    return 0;
}

static int wait_fd(int fd, short events, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    for (;;) {
        int rc = poll(&p, 1, timeout_ms);
        if (rc > 0)
            return 0;
        if (rc == 0)
            return -ETIMEDOUT;
        if (errno != EINTR)
            return -errno;
    }
}

int sfs_net_connect(const struct sfs_addr *addr, int timeout_ms, struct sfs_status *st)
{
    int fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return sfs_status_set(st, SFS_STAGE_CONNECT, errno, SFS_DOMAIN_SYS, errno,
                              "socket: %s", strerror(errno));
    int rc = connect(fd, (const struct sockaddr *)&addr->ss, addr->len);
    int err = 0;
    if (rc < 0 && errno != EINPROGRESS) {
        err = errno;
    } else if (rc < 0) {
        int w = wait_fd(fd, POLLOUT, timeout_ms);
        if (w < 0) {
            err = -w;
        } else {
            socklen_t len = sizeof(err);
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
        }
    }
    if (err) {
        close(fd);
        return sfs_status_set(st, SFS_STAGE_CONNECT, err, SFS_DOMAIN_SYS, err,
                              "TCP connect to %s failed: %s%s", addr->text, strerror(err),
                              err == ETIMEDOUT ? " (no answer before the connect timeout)" : "");
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

int sfs_net_write_all(int fd, const void *buf, size_t len, int timeout_ms)
{
    const char *p = buf;
    double deadline = sfs_now_ms() + timeout_ms;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        int left = (int)(deadline - sfs_now_ms());
        if (left <= 0)
            return -ETIMEDOUT;
        int w = wait_fd(fd, POLLOUT, left);
        if (w < 0)
            return w;
    }
    return 0;
}

int sfs_net_read_all(int fd, void *buf, size_t len, int timeout_ms)
{
    char *p = buf;
    double deadline = sfs_now_ms() + timeout_ms;
    while (len > 0) {
        ssize_t n = recv(fd, p, len, 0);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n == 0)
            return -ECONNRESET;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        int left = (int)(deadline - sfs_now_ms());
        if (left <= 0)
            return -ETIMEDOUT;
        int w = wait_fd(fd, POLLIN, left);
        if (w < 0)
            return w;
    }
    return 0;
}
