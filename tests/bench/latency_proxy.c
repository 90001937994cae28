/* A TCP relay that adds a fixed delay each way, for benches that compare
 * clients on a link with a round trip (this machine's kernel has no
 * netem).  Every byte read from one side is written to the other DELAY_US
 * microseconds later; up to 64 MiB wait per direction, so the relay, not
 * the delay, bounds bandwidth: a bench prints its time without delay too.
 *   latency_proxy LISTEN_ADDR:PORT SERVER_ADDR:PORT DELAY_US
 * IPv4 literals only (benches stay on loopback and the lab's veths).
 * Runs until killed; each accepted connection gets its own threads. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sharesfs/net.h"

#define CHUNK (1u << 20)
#define MAX_QUEUED (64u << 20)

struct chunk {
    struct chunk *next;
    double due_us;
    size_t len;
    char data[];
};

/* One direction of one connection: a reader queues, a writer sends when due. */
struct direction {
    int from, to;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct chunk *head, *tail;
    size_t queued;
    bool eof;
};

static long delay_us;

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void *read_side(void *arg)
{
    struct direction *d = arg;
    for (;;) {
        struct chunk *c = malloc(sizeof(*c) + CHUNK);
        ssize_t n = c ? read(d->from, c->data, CHUNK) : -1;
        if (n < 0 && errno == EINTR) {
            free(c);
            continue;
        }
        pthread_mutex_lock(&d->lock);
        if (n <= 0) {
            d->eof = true;
            pthread_cond_broadcast(&d->cond);
            pthread_mutex_unlock(&d->lock);
            free(c);
            return NULL;
        }
        while (d->queued > MAX_QUEUED)
            pthread_cond_wait(&d->cond, &d->lock);
        c->len = (size_t)n;
        c->due_us = now_us() + (double)delay_us;
        c->next = NULL;
        if (d->tail)
            d->tail->next = c;
        else
            d->head = c;
        d->tail = c;
        d->queued += c->len;
        pthread_cond_broadcast(&d->cond);
        pthread_mutex_unlock(&d->lock);
    }
}

static void *write_side(void *arg)
{
    struct direction *d = arg;
    for (;;) {
        pthread_mutex_lock(&d->lock);
        while (!d->head && !d->eof)
            pthread_cond_wait(&d->cond, &d->lock);
        struct chunk *c = d->head;
        pthread_mutex_unlock(&d->lock);
        if (!c) {
            shutdown(d->to, SHUT_WR);   /* the other side's end of file, passed on */
            return NULL;
        }
        double wait = c->due_us - now_us();
        if (wait > 0) {
            struct timespec ts = {(time_t)(wait / 1e6), (long)(wait * 1e3) % 1000000000L};
            while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
            }
        }
        bool ok = sfs_net_write_all(d->to, c->data, c->len, 60000) == 0;
        pthread_mutex_lock(&d->lock);
        d->head = c->next;
        if (!d->head)
            d->tail = NULL;
        d->queued -= c->len;
        pthread_cond_broadcast(&d->cond);
        pthread_mutex_unlock(&d->lock);
        free(c);
        if (!ok) {
            shutdown(d->from, SHUT_RDWR);   /* ends this direction's reader too */
            return NULL;
        }
    }
}

static bool parse_addr(const char *s, struct sockaddr_in *out)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof(host))
        return false;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    memset(out, 0, sizeof(*out));
    out->sin_family = AF_INET;
    out->sin_port = htons((uint16_t)port);
    return *end == '\0' && port > 0 && port < 65536 && inet_pton(AF_INET, host, &out->sin_addr) == 1;
}

static bool start_direction(int from, int to)
{
    struct direction *d = calloc(1, sizeof(*d));
    if (!d)
        return false;
    d->from = from;
    d->to = to;
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->cond, NULL);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    /* Threads and queues of a closed connection are left: a bench's relay
     * lives for a few connections. */
    bool ok = pthread_create(&t, &attr, read_side, d) == 0 && pthread_create(&t, &attr, write_side, d) == 0;
    pthread_attr_destroy(&attr);
    return ok;
}

int main(int argc, char **argv)
{
    struct sockaddr_in listen_at, server;
    char *end = NULL;
    if (argc != 4 || !parse_addr(argv[1], &listen_at) || !parse_addr(argv[2], &server))
        goto usage;
    delay_us = strtol(argv[3], &end, 10);
    if (*end != '\0' || delay_us < 0 || delay_us > 10000000)
        goto usage;
    signal(SIGPIPE, SIG_IGN);
    int one = 1;
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    if (ls >= 0)
        setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ls < 0 || bind(ls, (struct sockaddr *)&listen_at, sizeof(listen_at)) < 0 || listen(ls, 16) < 0) {
        fprintf(stderr, "latency_proxy: cannot listen on %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    for (;;) {
        int c = accept(ls, NULL, NULL);
        if (c < 0)
            continue;
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (s < 0 || connect(s, (struct sockaddr *)&server, sizeof(server)) < 0) {
            fprintf(stderr, "latency_proxy: cannot connect to %s: %s\n", argv[2], strerror(errno));
            close(c);
            if (s >= 0)
                close(s);
            continue;
        }
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (!start_direction(c, s) || !start_direction(s, c))
            fprintf(stderr, "latency_proxy: out of threads\n");
    }
usage:
    fprintf(stderr, "usage: latency_proxy LISTEN_ADDR:PORT SERVER_ADDR:PORT DELAY_US (IPv4, 0-10000000 us)\n");
    return 2;
}
