/* Servers' answers kept per process (sharesfs/answer_cache.h).  A prober's
 * worker talks to a handful of servers, so a few slots searched linearly. */
#include "sharesfs/answer_cache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANSWER_SLOTS 16

struct answer {
    char kind[64];
    struct sockaddr_storage ss;
    socklen_t len;
    char owner[256];
    void *bytes;
    size_t size;
    uint64_t stamp;   /* when put: the smallest is replaced first */
};

static struct answer slots[ANSWER_SLOTS];
static uint64_t put_count;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static bool same_server(const struct answer *a, const char *kind, const struct sfs_addr *addr)
{
    return a->bytes && a->len == addr->len && memcmp(&a->ss, &addr->ss, addr->len) == 0 &&
           strcmp(a->kind, kind) == 0;
}

static struct answer *find(const char *kind, const struct sfs_addr *addr)
{
    for (size_t i = 0; i < ANSWER_SLOTS; i++)
        if (same_server(&slots[i], kind, addr))
            return &slots[i];
    return NULL;
}

/* The slot of KIND and ADDR, else a free one, else the oldest. */
static struct answer *slot_for(const char *kind, const struct sfs_addr *addr)
{
    struct answer *a = find(kind, addr);
    if (a)
        return a;
    struct answer *oldest = &slots[0];
    for (size_t i = 0; i < ANSWER_SLOTS; i++) {
        if (!slots[i].bytes)
            return &slots[i];
        if (slots[i].stamp < oldest->stamp)
            oldest = &slots[i];
    }
    return oldest;
}

static void drop(struct answer *a)
{
    free(a->bytes);
    memset(a, 0, sizeof(*a));
}

bool sfs_answer_cache_get(const char *kind, const struct sfs_addr *addr, void *out, size_t size, char *owner,
                          size_t owner_size)
{
    pthread_mutex_lock(&lock);
    struct answer *a = find(kind, addr);
    bool found = a && a->size == size;
    if (found) {
        memcpy(out, a->bytes, size);
        snprintf(owner, owner_size, "%s", a->owner);
    }
    pthread_mutex_unlock(&lock);
    return found;
}

void sfs_answer_cache_put(const char *kind, const struct sfs_addr *addr, const void *answer, size_t size,
                          const char *owner)
{
    if (strlen(kind) >= sizeof(slots[0].kind) || addr->len > sizeof(slots[0].ss))
        return;
    void *copy = malloc(size);
    if (!copy)
        return;
    memcpy(copy, answer, size);
    pthread_mutex_lock(&lock);
    struct answer *a = slot_for(kind, addr);
    drop(a);
    snprintf(a->kind, sizeof(a->kind), "%s", kind);
    memcpy(&a->ss, &addr->ss, addr->len);
    a->len = addr->len;
    snprintf(a->owner, sizeof(a->owner), "%s", owner ? owner : "");
    a->bytes = copy;
    a->size = size;
    a->stamp = ++put_count;
    pthread_mutex_unlock(&lock);
}

void sfs_answer_cache_forget(const char *kind, const struct sfs_addr *addr)
{
    pthread_mutex_lock(&lock);
    struct answer *a = find(kind, addr);
    if (a)
        drop(a);
    pthread_mutex_unlock(&lock);
}
