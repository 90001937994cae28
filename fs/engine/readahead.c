/* Sequential read-ahead: two windows per file, one being read by the
 * caller while the other is fetched by a small process-wide pool of worker
 * threads (several, so one slow server's prefetch does not hold up the
 * files of another); three with two fetches at once where the backend
 * can run them (sfs_readahead_set_depth). */
#include "readahead.h"
#include "window_map.h"

#include "sharesfs/clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Window sizing by how long a fetch takes: the library lock is held for
 * the whole fetch (libsmbclient), so on a slow link a large window would
 * make every other operation of the process wait behind it. */
#define FETCH_FAST_MS 50     /* faster than this: the next window may double */
#define FETCH_SLOW_MS 100    /* slower: it halves, down to SLOW_MIN_WINDOW */
#define SLOW_MIN_WINDOW (256u << 10)

enum slot_state { SLOT_EMPTY, SLOT_FILLING, SLOT_READY };

struct ra_slot {
    enum slot_state state;
    char *buf;
    size_t cap;        /* allocated */
    off_t off;
    size_t want;       /* asked of the fetch */
    size_t len;        /* valid bytes once READY */
    bool eof;          /* the fetch came back short: the file ends at off+len */
    bool pooled;       /* buf came from the pool, not malloc */
    bool mapped;       /* buf is sfs_window_map's, cap bytes */
    struct sfs_readahead *owner;
    struct ra_slot *queue_next;   /* in the workers' queue while a prefetch waits */
};

#define MAX_SLOTS 3

struct sfs_readahead {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    sfs_readahead_fetch fetch;
    void *ctx;
    struct sfs_window_pool pool;   /* get == NULL: malloc */
    struct ra_slot slot[MAX_SLOTS];
    unsigned nslots;       /* depth + 1 */
    unsigned depth;        /* prefetches at once, each a window ahead of the last */
    off_t next;            /* where the sequential run continues */
    size_t window;
    unsigned queued;       /* prefetches queued or running in the workers */
    bool closing;
    struct sfs_readahead_stats stats;
};

/* ---- the worker ---- */

static pthread_mutex_t worker_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t worker_cond = PTHREAD_COND_INITIALIZER;
static struct ra_slot *queue_head, *queue_tail;
static pthread_once_t worker_once = PTHREAD_ONCE_INIT;

/* After a full window came back in MS milliseconds.  Caller holds ra->lock. */
static void adapt_window(struct sfs_readahead *ra, double ms)
{
    if (ms > FETCH_SLOW_MS) {
        ra->window /= 2;
        if (ra->window < SLOW_MIN_WINDOW)
            ra->window = SLOW_MIN_WINDOW;
    } else if (ms < FETCH_FAST_MS && ra->window < SFS_READAHEAD_MAX_WINDOW) {
        ra->window *= 2;
    }
}

/* Runs the fetch for S (FILLING, its buffer ours) without ra->lock, then
 * publishes it and sizes the next window.  Caller holds ra->lock. */
static void slot_fetch(struct sfs_readahead *ra, struct ra_slot *s);

static void slot_finish(struct sfs_readahead *ra, struct ra_slot *s, ssize_t n)
{
    if (n < 0) {
        s->state = SLOT_EMPTY;
    } else {
        s->len = (size_t)n;
        s->eof = (size_t)n < s->want;
        s->state = SLOT_READY;
    }
    pthread_cond_broadcast(&ra->cond);
}

/* Nothing of RA is touched after the unlock: sfs_readahead_free may be
 * waiting to free it. */
static void prefetch_run(struct ra_slot *s)
{
    struct sfs_readahead *ra = s->owner;
    pthread_mutex_lock(&ra->lock);
    if (ra->closing) {
        s->state = SLOT_EMPTY;
    } else {
        slot_fetch(ra, s);
    }
    ra->queued--;
    pthread_cond_broadcast(&ra->cond);
    pthread_mutex_unlock(&ra->lock);
}

static void *worker_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "sfs-readahead");   /* for top and perf */
    for (;;) {
        pthread_mutex_lock(&worker_lock);
        while (!queue_head)
            pthread_cond_wait(&worker_cond, &worker_lock);
        struct ra_slot *s = queue_head;
        queue_head = s->queue_next;
        if (!queue_head)
            queue_tail = NULL;
        pthread_mutex_unlock(&worker_lock);
        prefetch_run(s);
    }
    return NULL;
}

#define WORKERS 8   /* two per file at depth 2: four slow servers still leave room */

static bool worker_started;

static void worker_start(void)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (int i = 0; i < WORKERS; i++) {
        pthread_t t;
        if (pthread_create(&t, &attr, worker_main, NULL) == 0)
            worker_started = true;
    }
    pthread_attr_destroy(&attr);
}

static void enqueue(struct ra_slot *s)
{
    pthread_mutex_lock(&worker_lock);
    s->queue_next = NULL;
    if (queue_tail)
        queue_tail->queue_next = s;
    else
        queue_head = s;
    queue_tail = s;
    pthread_cond_signal(&worker_cond);
    pthread_mutex_unlock(&worker_lock);
}

/* ---- one file ---- */

struct sfs_readahead *sfs_readahead_new_pooled(sfs_readahead_fetch fetch, void *ctx,
                                               const struct sfs_window_pool *pool)
{
    struct sfs_readahead *ra = sfs_readahead_new(fetch, ctx);
    if (ra && pool)
        ra->pool = *pool;
    return ra;
}

struct sfs_readahead *sfs_readahead_new(sfs_readahead_fetch fetch, void *ctx)
{
    pthread_once(&worker_once, worker_start);
    if (!worker_started)
        return NULL;
    struct sfs_readahead *ra = calloc(1, sizeof(*ra));
    if (!ra)
        return NULL;
    pthread_mutex_init(&ra->lock, NULL);
    pthread_cond_init(&ra->cond, NULL);
    ra->fetch = fetch;
    ra->ctx = ctx;
    ra->window = SFS_READAHEAD_MIN_WINDOW;
    ra->depth = 1;
    ra->nslots = 2;
    for (int i = 0; i < MAX_SLOTS; i++)
        ra->slot[i].owner = ra;
    return ra;
}

void sfs_readahead_set_depth(struct sfs_readahead *ra, unsigned depth)
{
    if (!ra)
        return;
    depth = depth < 1 ? 1 : depth > MAX_SLOTS - 1 ? MAX_SLOTS - 1 : depth;
    pthread_mutex_lock(&ra->lock);
    /* Only grows, and only before the first read: slots in use keep their places. */
    if (depth > ra->depth && ra->stats.hits + ra->stats.misses == 0) {
        ra->depth = depth;
        ra->nslots = depth + 1;
    }
    pthread_mutex_unlock(&ra->lock);
}

static bool slot_grow(struct sfs_readahead *ra, struct ra_slot *s, size_t size)
{
    if (s->cap >= size)
        return true;
    if (!s->buf && ra->pool.get && size <= SFS_READAHEAD_MAX_WINDOW) {
        s->buf = ra->pool.get(ra->pool.ctx);
        if (s->buf) {
            s->pooled = true;
            s->cap = SFS_READAHEAD_MAX_WINDOW;
            return true;
        }
    }
    if (s->pooled || s->mapped)
        return false;   /* a window larger than the largest: read directly */
    /* Grown past the first window: the file is read front to back, so the
     * largest window at once, in huge pages (window_map.c). */
    if (size > SFS_READAHEAD_MIN_WINDOW && size <= SFS_READAHEAD_MAX_WINDOW) {
        char *m = sfs_window_map(SFS_READAHEAD_MAX_WINDOW);
        if (m) {
            free(s->buf);
            s->buf = m;
            s->cap = SFS_READAHEAD_MAX_WINDOW;
            s->mapped = true;
            return true;
        }
    }
    char *b = realloc(s->buf, size);
    if (!b)
        return false;
    s->buf = b;
    s->cap = size;
    return true;
}

/* The slot holding (or fetching) byte OFF. */
static struct ra_slot *slot_covering(struct sfs_readahead *ra, off_t off)
{
    for (unsigned i = 0; i < ra->nslots; i++) {
        struct ra_slot *s = &ra->slot[i];
        size_t span = s->state == SLOT_READY ? s->len : s->want;
        if (s->state != SLOT_EMPTY && off >= s->off && off - s->off < (off_t)span)
            return s;
    }
    return NULL;
}

/* True when a fetched window says the file ends at or before OFF. */
static bool past_eof(struct sfs_readahead *ra, off_t off)
{
    for (unsigned i = 0; i < ra->nslots; i++) {
        struct ra_slot *s = &ra->slot[i];
        if (s->state == SLOT_READY && s->eof && off >= s->off + (off_t)s->len)
            return true;
    }
    return false;
}

/* A slot that may be refilled: not being fetched, not KEEP (the windows
 * ahead of the reader, for a prefetch; NULL: none) and not holding OFF.
 * Empty first, then one the reader has moved past, then (a run that
 * jumped back, or started over) the one farthest ahead. */
static struct ra_slot *slot_reusable(struct sfs_readahead *ra, off_t off, const bool *keep)
{
    struct ra_slot *behind = NULL, *ahead = NULL;
    for (unsigned i = 0; i < ra->nslots; i++) {
        struct ra_slot *s = &ra->slot[i];
        if (s->state == SLOT_FILLING || (keep && keep[i]))
            continue;
        if (s->state == SLOT_EMPTY)
            return s;
        if (s->off + (off_t)s->len <= off) {
            if (!behind || s->off < behind->off)
                behind = s;
        } else if (s->off > off) {
            if (!ahead || s->off > ahead->off)
                ahead = s;
        }
    }
    return behind ? behind : ahead;
}

/* Claims S for a fetch of WANT bytes at OFF: its buffer is the fetcher's
 * until slot_finish. */
static bool slot_begin(struct sfs_readahead *ra, struct ra_slot *s, off_t off, size_t want)
{
    if (!slot_grow(ra, s, want))
        return false;
    s->state = SLOT_FILLING;
    s->off = off;
    s->want = want;
    s->len = 0;
    s->eof = false;
    return true;
}

static void slot_fetch(struct sfs_readahead *ra, struct ra_slot *s)
{
    off_t off = s->off;
    size_t want = s->want;
    pthread_mutex_unlock(&ra->lock);
    double t0 = sfs_now_ms();
    ssize_t n = ra->fetch(ra->ctx, s->buf, want, off);
    double ms = sfs_now_ms() - t0;
    pthread_mutex_lock(&ra->lock);
    slot_finish(ra, s, n);
    if (n == (ssize_t)want)   /* a short one (end of file) says nothing of the link */
        adapt_window(ra, ms);
}

/* After a read ending at END: start fetching the window after the last
 * one fetched or being fetched ahead of the reader, until DEPTH windows
 * are ahead of the one END falls in, unless the file ends first. */
static void maybe_prefetch(struct sfs_readahead *ra, off_t end)
{
    while (ra->queued < ra->depth && !ra->closing) {
        struct ra_slot *cur = slot_covering(ra, end > 0 ? end - 1 : 0);
        if (!cur || cur->state != SLOT_READY)
            return;
        bool keep[MAX_SLOTS] = {false};
        unsigned ahead = 0;
        struct ra_slot *last = cur;
        off_t after;
        for (;;) {
            keep[last - ra->slot] = true;
            if (last->state == SLOT_READY && last->eof)
                return;
            after = last->off + (off_t)(last->state == SLOT_READY ? last->len : last->want);
            struct ra_slot *n = slot_covering(ra, after);
            if (!n || keep[n - ra->slot])
                break;
            last = n;
            ahead++;
        }
        if (ahead >= ra->depth)
            return;
        struct ra_slot *s = slot_reusable(ra, end, keep);
        if (!s || !slot_begin(ra, s, after, ra->window))
            return;
        ra->queued++;
        ra->stats.prefetches++;
        enqueue(s);
    }
}

ssize_t sfs_readahead_read(struct sfs_readahead *ra, char *buf, size_t size, off_t off)
{
    if (!ra)
        return SFS_READAHEAD_MISS;
    pthread_mutex_lock(&ra->lock);
    if (ra->closing || (off != ra->next && !slot_covering(ra, off))) {
        /* A jump: start over small, and let the caller read directly. */
        ra->next = off + (off_t)size;
        if (ra->window > SFS_READAHEAD_MIN_WINDOW)
            ra->window = SFS_READAHEAD_MIN_WINDOW;
        ra->stats.misses++;
        pthread_mutex_unlock(&ra->lock);
        return SFS_READAHEAD_MISS;
    }
    size_t done = 0;
    bool miss = false;
    while (done < size) {
        off_t o = off + (off_t)done;
        struct ra_slot *s = slot_covering(ra, o);
        if (s && s->state == SLOT_FILLING) {
            pthread_cond_wait(&ra->cond, &ra->lock);
            continue;
        }
        if (s) {
            size_t avail = (size_t)(s->off + (off_t)s->len - o);
            size_t n = size - done < avail ? size - done : avail;
            memcpy(buf + done, s->buf + (o - s->off), n);
            done += n;
            continue;
        }
        if (past_eof(ra, o)) {
            /* The end of file is the direct read's to say: the file may have grown. */
            miss = done == 0;
            break;
        }
        s = slot_reusable(ra, o, NULL);
        if (!s) {
            pthread_cond_wait(&ra->cond, &ra->lock);
            continue;
        }
        size_t want = ra->window > size - done ? ra->window : size - done;
        if (!slot_begin(ra, s, o, want)) {
            miss = true;
            break;
        }
        ra->stats.fetches++;
        slot_fetch(ra, s);
        if (s->state != SLOT_READY) {
            miss = true;   /* the direct read reports the error with its status */
            break;
        }
    }
    if (miss) {
        ra->stats.misses++;
        pthread_mutex_unlock(&ra->lock);
        return SFS_READAHEAD_MISS;
    }
    ra->stats.hits++;
    ra->next = off + (off_t)done;
    maybe_prefetch(ra, ra->next);
    pthread_mutex_unlock(&ra->lock);
    return (ssize_t)done;
}

void sfs_readahead_get_stats(struct sfs_readahead *ra, struct sfs_readahead_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!ra)
        return;
    pthread_mutex_lock(&ra->lock);
    *out = ra->stats;
    pthread_mutex_unlock(&ra->lock);
}

void sfs_readahead_add_stats(struct sfs_readahead_totals *t, struct sfs_readahead *ra)
{
    struct sfs_readahead_stats st;
    sfs_readahead_get_stats(ra, &st);
    __atomic_add_fetch(&t->hits, st.hits, __ATOMIC_RELAXED);
    __atomic_add_fetch(&t->misses, st.misses, __ATOMIC_RELAXED);
    __atomic_add_fetch(&t->fetches, st.fetches + st.prefetches, __ATOMIC_RELAXED);
}

void sfs_readahead_read_totals(struct sfs_readahead_totals *t, uint64_t *hits, uint64_t *misses,
                               uint64_t *fetches)
{
    *hits = __atomic_load_n(&t->hits, __ATOMIC_RELAXED);
    *misses = __atomic_load_n(&t->misses, __ATOMIC_RELAXED);
    *fetches = __atomic_load_n(&t->fetches, __ATOMIC_RELAXED);
}

void sfs_readahead_free(struct sfs_readahead *ra)
{
    if (!ra)
        return;
    pthread_mutex_lock(&ra->lock);
    ra->closing = true;
    for (;;) {
        bool filling = false;
        for (int i = 0; i < MAX_SLOTS; i++)
            filling |= ra->slot[i].state == SLOT_FILLING;
        if (!ra->queued && !filling)
            break;
        pthread_cond_wait(&ra->cond, &ra->lock);
    }
    pthread_mutex_unlock(&ra->lock);
    for (int i = 0; i < MAX_SLOTS; i++) {
        if (ra->slot[i].pooled)
            ra->pool.put(ra->pool.ctx, ra->slot[i].buf);
        else if (ra->slot[i].mapped)
            sfs_window_unmap(ra->slot[i].buf, ra->slot[i].cap);
        else
            free(ra->slot[i].buf);
    }
    pthread_cond_destroy(&ra->cond);
    pthread_mutex_destroy(&ra->lock);
    free(ra);
}
