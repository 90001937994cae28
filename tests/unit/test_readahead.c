/* Read-ahead over an in-memory file: the bytes handed out, when it steps
 * aside (jumps, errors, end of file), and reads from several threads. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/readahead.h"

struct memfile {
    unsigned char *data;
    size_t size;
    pthread_mutex_t lock;
    unsigned fetches;
    unsigned running, max_running;   /* fetches at once, and the most seen */
    off_t fail_from;      /* fetches reaching this offset fail with EIO; -1 = never */
    unsigned delay_us;
    size_t sizes[64];     /* sizes asked, in order (the first 64) */
    char *bufs[64];       /* and the windows they went to */
};

static ssize_t mem_fetch(void *ctx, char *buf, size_t size, off_t off)
{
    struct memfile *m = ctx;
    pthread_mutex_lock(&m->lock);
    if (m->fetches < 64) {
        m->sizes[m->fetches] = size;
        m->bufs[m->fetches] = buf;
    }
    m->fetches++;
    if (++m->running > m->max_running)
        m->max_running = m->running;
    off_t fail = m->fail_from;
    pthread_mutex_unlock(&m->lock);
    if (m->delay_us)
        usleep(m->delay_us);
    pthread_mutex_lock(&m->lock);
    m->running--;
    pthread_mutex_unlock(&m->lock);
    if (fail >= 0 && off + (off_t)size > fail)
        return -EIO;
    if ((size_t)off >= m->size)
        return 0;
    size_t n = m->size - (size_t)off < size ? m->size - (size_t)off : size;
    memcpy(buf, m->data + off, n);
    return (ssize_t)n;
}

static struct memfile *memfile_new(size_t size)
{
    struct memfile *m = calloc(1, sizeof(*m));
    m->data = malloc(size ? size : 1);
    m->size = size;
    for (size_t i = 0; i < size; i++)
        m->data[i] = (unsigned char)((i * 2654435761u) >> 13);
    pthread_mutex_init(&m->lock, NULL);
    m->fail_from = -1;
    return m;
}

static void memfile_free(struct memfile *m)
{
    pthread_mutex_destroy(&m->lock);
    free(m->data);
    free(m);
}

/* Reads the file front to back in CHUNK pieces, through read-ahead where it
 * serves, directly where it steps aside, and compares every byte. */
static void read_all(struct sfs_readahead *ra, struct memfile *m, size_t chunk, unsigned *misses)
{
    char *buf = malloc(chunk);
    off_t off = 0;
    for (;;) {
        ssize_t n = sfs_readahead_read(ra, buf, chunk, off);
        if (n == SFS_READAHEAD_MISS) {
            (*misses)++;
            n = mem_fetch(m, buf, chunk, off);
        }
        assert_true(n >= 0);
        if (n == 0)
            break;
        assert_memory_equal(buf, m->data + off, (size_t)n);
        off += n;
    }
    assert_int_equal((size_t)off, m->size);
    free(buf);
}

static void test_sequential_is_served_in_large_windows(void **state)
{
    (void)state;
    struct memfile *m = memfile_new(40u << 20);
    struct sfs_readahead *ra = sfs_readahead_new(mem_fetch, m);
    assert_non_null(ra);
    unsigned misses = 0;
    read_all(ra, m, 128 * 1024, &misses);
    /* Only the read at end of file is left to the caller. */
    assert_true(misses <= 1);
    struct sfs_readahead_stats st;
    sfs_readahead_get_stats(ra, &st);
    /* 40 MiB in windows of 1, 2, 4, 8, 8, ... MiB: far fewer than 320 reads. */
    assert_true(m->fetches < 12);
    assert_true(st.prefetches > 0);
    sfs_readahead_free(ra);
    memfile_free(m);
}

/* The VmFlags line of /proc/self/smaps for the mapping holding P: "" when
 * none does. */
static void vm_flags_of(const void *p, char *out, size_t cap)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    assert_non_null(f);
    char line[512];
    bool in = false;
    out[0] = '\0';
    while (fgets(line, sizeof(line), f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
            in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
        else if (in && !strncmp(line, "VmFlags:", 8)) {
            size_t n = strlen(line + 8);
            n = n < cap - 1 ? n : cap - 1;
            memcpy(out, line + 8, n);
            out[n] = '\0';
            break;
        }
    }
    fclose(f);
}

static void test_grown_windows_are_in_huge_pages(void **state)
{
    (void)state;
    struct memfile *m = memfile_new(24u << 20);
    struct sfs_readahead *ra = sfs_readahead_new(mem_fetch, m);
    assert_non_null(ra);
    unsigned misses = 0;
    read_all(ra, m, 128 * 1024, &misses);
    /* A kernel without THP refuses the advice (EINVAL): only the alignment
     * can be checked there. */
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    void *probe = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(probe != MAP_FAILED);
    bool thp = madvise(probe, pg, MADV_HUGEPAGE) == 0;
    munmap(probe, pg);
    unsigned grown = 0;
    for (unsigned i = 0; i < m->fetches && i < 64; i++) {
        if (m->sizes[i] <= SFS_READAHEAD_MIN_WINDOW)
            continue;
        grown++;
        /* Aligned to 2 MiB, and advised: VM_HUGEPAGE shows as "hg". */
        assert_int_equal((uintptr_t)m->bufs[i] % (2u << 20), 0);
        char flags[512];
        vm_flags_of(m->bufs[i], flags, sizeof(flags));
        if (thp)
            assert_non_null(strstr(flags, " hg"));
    }
    assert_true(grown >= 2);
    sfs_readahead_free(ra);
    memfile_free(m);
}

static void test_sizes_that_do_not_divide_the_window(void **state)
{
    (void)state;
    size_t sizes[] = {0, 1, 4095, (1u << 20) - 1, (1u << 20) + 1, (9u << 20) + 12345};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct memfile *m = memfile_new(sizes[i]);
        struct sfs_readahead *ra = sfs_readahead_new(mem_fetch, m);
        unsigned misses = 0;
        read_all(ra, m, 100000, &misses);
        sfs_readahead_free(ra);
        memfile_free(m);
    }
}

static void test_a_jump_is_left_to_the_caller(void **state)
{
    (void)state;
    struct memfile *m = memfile_new(4u << 20);
    struct sfs_readahead *ra = sfs_readahead_new(mem_fetch, m);
    char buf[4096];
    assert_int_equal(sfs_readahead_read(ra, buf, sizeof(buf), 0), sizeof(buf));
    /* Far outside what was fetched and not where the run continues. */
    assert_int_equal(sfs_readahead_read(ra, buf, sizeof(buf), 3u << 20), SFS_READAHEAD_MISS);
    /* Inside the first window: still served. */
    assert_int_equal(sfs_readahead_read(ra, buf, sizeof(buf), 8192), sizeof(buf));
    assert_memory_equal(buf, m->data + 8192, sizeof(buf));
    sfs_readahead_free(ra);
    memfile_free(m);
}

static void test_a_failed_fetch_is_left_to_the_caller(void **state)
{
    (void)state;
    struct memfile *m = memfile_new(4u << 20);
    m->fail_from = 0;
    struct sfs_readahead *ra = sfs_readahead_new(mem_fetch, m);
    char buf[4096];
    assert_int_equal(sfs_readahead_read(ra, buf, sizeof(buf), 0), SFS_READAHEAD_MISS);
    sfs_readahead_free(ra);
    memfile_free(m);
}

/* Depth 2 (AFP: fetches share one pipelined session): two windows are
 * fetched at once, each from its own worker, and every byte is right.
 * The 20 ms fetches overlap whatever the machine's load: both prefetches
 * are queued by the same read. */
static void test_depth_two_fetches_two_windows_at_once(void **state)
{
    (void)state;
    struct memfile *m = memfile_new((40u << 20) + 4321);
    m->delay_us = 20000;
    struct sfs_readahead *ra = sfs_readahead_new(mem_fetch, m);
    sfs_readahead_set_depth(ra, 2);
    unsigned misses = 0;
    read_all(ra, m, 256 * 1024, &misses);
    assert_true(misses <= 1);   /* the read at end of file */
    assert_int_equal(m->max_running, 2);
    assert_true(m->fetches < 16);   /* windows of 1, 2, 4, 8 MiB, not reads */
    sfs_readahead_free(ra);
    memfile_free(m);
}

/* Without it the fetch is never called twice at once for one file: the
 * contract SMB's worker relies on. */
static void test_depth_one_fetches_one_window_at_a_time(void **state)
{
    (void)state;
    struct memfile *m = memfile_new(24u << 20);
    m->delay_us = 20000;
    struct sfs_readahead *ra = sfs_readahead_new(mem_fetch, m);
    unsigned misses = 0;
    read_all(ra, m, 256 * 1024, &misses);
    assert_int_equal(m->max_running, 1);
    sfs_readahead_free(ra);
    memfile_free(m);
}

/* The depth is fixed before the first read: slots in use keep their places. */
static void test_depth_is_set_before_the_first_read_only(void **state)
{
    (void)state;
    struct memfile *m = memfile_new(24u << 20);
    m->delay_us = 20000;
    struct sfs_readahead *ra = sfs_readahead_new(mem_fetch, m);
    char buf[4096];
    assert_int_equal(sfs_readahead_read(ra, buf, sizeof(buf), 0), sizeof(buf));
    sfs_readahead_set_depth(ra, 2);
    unsigned misses = 0;
    read_all(ra, m, 256 * 1024, &misses);
    assert_int_equal(m->max_running, 1);
    sfs_readahead_free(ra);
    sfs_readahead_set_depth(NULL, 2);
    memfile_free(m);
}

/* Read to the end, then again from the start (a rewind, as `cmp` of two
 * passes would): the windows still holding the end are reused, and the
 * second pass is served from windows again, not read directly. */
static void test_depth_two_prefetches_again_after_a_rewind(void **state)
{
    (void)state;
    for (unsigned depth = 1; depth <= 2; depth++) {
        struct memfile *m = memfile_new((20u << 20) + 99);
        struct sfs_readahead *ra = sfs_readahead_new(mem_fetch, m);
        sfs_readahead_set_depth(ra, depth);
        unsigned misses = 0;
        read_all(ra, m, 128 * 1024, &misses);
        struct sfs_readahead_stats first;
        sfs_readahead_get_stats(ra, &first);
        misses = 0;
        read_all(ra, m, 128 * 1024, &misses);
        struct sfs_readahead_stats second;
        sfs_readahead_get_stats(ra, &second);
        assert_true(misses <= 2);   /* the jump back to 0, and end of file */
        assert_true(second.prefetches - first.prefetches >= 3);
        sfs_readahead_free(ra);
        memfile_free(m);
    }
}

/* A fetch failing from 9 MiB on, with a second window already fetched or
 * being fetched past it: the caller reads directly from there (and gets
 * the error with its status), and every byte served is right. */
static void test_depth_two_failed_fetch_is_left_to_the_caller(void **state)
{
    (void)state;
    struct memfile *m = memfile_new(30u << 20);
    m->fail_from = 9u << 20;
    struct sfs_readahead *ra = sfs_readahead_new(mem_fetch, m);
    sfs_readahead_set_depth(ra, 2);
    char *buf = malloc(128 * 1024);
    off_t off = 0;
    unsigned served = 0, direct = 0;
    while ((size_t)off < m->size) {
        ssize_t n = sfs_readahead_read(ra, buf, 128 * 1024, off);
        if (n == SFS_READAHEAD_MISS) {
            direct++;
            n = mem_fetch(m, buf, 128 * 1024, off);
            if (n < 0) {
                assert_true(off + 128 * 1024 > (off_t)m->fail_from);
                break;
            }
        } else {
            served++;
            assert_true(n > 0);
            assert_memory_equal(buf, m->data + off, (size_t)n);
        }
        off += n;
    }
    assert_true(served > 0);
    assert_true(direct > 0);
    assert_true(off < (off_t)m->size);
    free(buf);
    sfs_readahead_free(ra);
    memfile_free(m);
}

static void test_no_read_ahead_object_means_miss(void **state)
{
    (void)state;
    char buf[16];
    assert_int_equal(sfs_readahead_read(NULL, buf, sizeof(buf), 0), SFS_READAHEAD_MISS);
    sfs_readahead_free(NULL);
}

struct reader {
    struct sfs_readahead *ra;
    struct memfile *m;
    _Atomic long next;     /* the next chunk to read, shared: a kernel sending reads from several threads */
    size_t chunk;
    _Atomic int bad;
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    char *buf = malloc(r->chunk);
    for (;;) {
        off_t off = (off_t)r->next++ * (off_t)r->chunk;
        if ((size_t)off >= r->m->size)
            break;
        ssize_t n = sfs_readahead_read(r->ra, buf, r->chunk, off);
        if (n == SFS_READAHEAD_MISS)
            n = mem_fetch(r->m, buf, r->chunk, off);
        size_t want = r->m->size - (size_t)off < r->chunk ? r->m->size - (size_t)off : r->chunk;
        if (n != (ssize_t)want || memcmp(buf, r->m->data + off, want) != 0)
            r->bad++;
    }
    free(buf);
    return NULL;
}

static void test_concurrent_readers_get_the_right_bytes(void **state)
{
    (void)state;
    for (unsigned depth = 1; depth <= 2; depth++) {
        struct memfile *m = memfile_new((24u << 20) + 777);
        m->delay_us = 200;
        struct reader r = {.ra = sfs_readahead_new(mem_fetch, m), .m = m, .chunk = 128 * 1024};
        sfs_readahead_set_depth(r.ra, depth);
        pthread_t t[4];
        for (int i = 0; i < 4; i++)
            pthread_create(&t[i], NULL, reader_main, &r);
        for (int i = 0; i < 4; i++)
            pthread_join(t[i], NULL);
        assert_int_equal(r.bad, 0);
        sfs_readahead_free(r.ra);
        memfile_free(m);
    }
}

static void test_free_waits_for_a_prefetch_in_flight(void **state)
{
    (void)state;
    struct memfile *m = memfile_new(16u << 20);
    m->delay_us = 20000;
    struct sfs_readahead *ra = sfs_readahead_new(mem_fetch, m);
    char buf[4096];
    assert_int_equal(sfs_readahead_read(ra, buf, sizeof(buf), 0), sizeof(buf));
    /* A prefetch of the next window is now running in the worker. */
    sfs_readahead_free(ra);
    unsigned before = m->fetches;
    usleep(50000);
    assert_int_equal(m->fetches, before);
    memfile_free(m);

    /* Two at once (depth 2): free waits for both. */
    m = memfile_new(16u << 20);
    m->delay_us = 20000;
    ra = sfs_readahead_new(mem_fetch, m);
    sfs_readahead_set_depth(ra, 2);
    assert_int_equal(sfs_readahead_read(ra, buf, sizeof(buf), 0), sizeof(buf));
    sfs_readahead_free(ra);
    assert_int_equal(m->running, 0);
    before = m->fetches;
    usleep(50000);
    assert_int_equal(m->fetches, before);
    memfile_free(m);
}

/* A fetch slower than 100 ms halves the next window (down to 256 KiB), so
 * on a slow link the library lock is never held for long; 150 ms sleeps
 * make every fetch "slow" whatever the machine's load. */
static void test_slow_fetches_shrink_the_window(void **state)
{
    (void)state;
    struct memfile *m = memfile_new(3u << 20);
    m->delay_us = 150000;
    struct sfs_readahead *ra = sfs_readahead_new(mem_fetch, m);
    unsigned misses = 0;
    char buf[4096];
    read_all(ra, m, sizeof(buf), &misses);
    /* 1 MiB, then 512 KiB, then 256 KiB windows (the direct read at the
     * end of file asks for one read's worth). */
    assert_true(m->fetches >= 4);
    assert_int_equal(m->sizes[0], 1u << 20);
    assert_int_equal(m->sizes[1], 512u << 10);
    for (unsigned i = 2; i < m->fetches && i < 64; i++)
        assert_true(m->sizes[i] == (256u << 10) || m->sizes[i] == sizeof(buf));
    sfs_readahead_free(ra);
    memfile_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sequential_is_served_in_large_windows),
        cmocka_unit_test(test_grown_windows_are_in_huge_pages),
        cmocka_unit_test(test_sizes_that_do_not_divide_the_window),
        cmocka_unit_test(test_a_jump_is_left_to_the_caller),
        cmocka_unit_test(test_a_failed_fetch_is_left_to_the_caller),
        cmocka_unit_test(test_depth_two_fetches_two_windows_at_once),
        cmocka_unit_test(test_depth_one_fetches_one_window_at_a_time),
        cmocka_unit_test(test_depth_is_set_before_the_first_read_only),
        cmocka_unit_test(test_depth_two_prefetches_again_after_a_rewind),
        cmocka_unit_test(test_depth_two_failed_fetch_is_left_to_the_caller),
        cmocka_unit_test(test_no_read_ahead_object_means_miss),
        cmocka_unit_test(test_concurrent_readers_get_the_right_bytes),
        cmocka_unit_test(test_free_waits_for_a_prefetch_in_flight),
        cmocka_unit_test(test_slow_fetches_shrink_the_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
