/* What a page fault costs on this machine, printed beside the benches:
 * a process start, a probe worker's fork and a read-ahead window are paid
 * mostly in first writes to pages, and a virtual machine can make each
 * of those far dearer than the write itself.  Prints, per 4 KiB:
 *   - the first write to a small page (a fault each) against a second
 *     write to the same pages (none): the ratio is the fault's weight;
 *   - the first write to transparent huge pages (a fault per 2 MiB), the
 *     very first time apart: a guest whose balloon reports free pages has
 *     handed memory freed a few seconds ago back to its host, and the
 *     first use of it costs a fault in the host too (a fresh process's
 *     first read-ahead windows pay that);
 *   - a write after fork to a page the parent had written (copy-on-write);
 * and the time of a fork and exit of a process with SIZE_MB resident.
 * Each is the median of 5 rounds.
 *   page_cost [SIZE_MB]     (default 64) */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sharesfs/clock.h"

#define ROUNDS 5
#define SMALL_PAGE 4096u
#define HUGE_PAGE (2u << 20)

static double now_us(void)
{
    return sfs_now_ms() * 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[n / 2];
}

/* SIZE bytes of fresh anonymous memory aligned to a huge page, advised for
 * huge pages or against them.  NULL on failure. */
static char *map_fresh(size_t size, int huge, char **raw_out, size_t *span_out)
{
    size_t span = size + HUGE_PAGE;
    char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    char *p = (char *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    madvise(p, size, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    *raw_out = raw;
    *span_out = span;
    return p;
}

/* Microseconds per 4 KiB page to write every page of P (one byte each:
 * the fault, not the copy, is what is timed). */
static double touch_us(char *p, size_t size, char value)
{
    double t0 = now_us();
    for (size_t off = 0; off < size; off += SMALL_PAGE)
        ((volatile char *)p)[off] = value;
    return (now_us() - t0) / (double)(size / SMALL_PAGE);
}

/* The child's microseconds per page to write pages its parent wrote. */
static double cow_us(char *p, size_t size)
{
    int fds[2];
    if (pipe(fds) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        double us = touch_us(p, size, 3);
        ssize_t n = write(fds[1], &us, sizeof(us));
        _exit(n == (ssize_t)sizeof(us) ? 0 : 1);
    }
    close(fds[1]);
    double us = -1;
    if (read(fds[0], &us, sizeof(us)) != (ssize_t)sizeof(us))
        us = -1;
    close(fds[0]);
    waitpid(pid, NULL, 0);
    return us;
}

/* Milliseconds from fork to the parent's waitpid of a child that exits at
 * once. */
static double fork_exit_ms(void)
{
    double t0 = now_us();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    return (now_us() - t0) / 1e3;
}

static const char *thp_mode(char *buf, size_t len)
{
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!f || !fgets(buf, (int)len, f)) {
        if (f)
            fclose(f);
        return "unknown";
    }
    fclose(f);
    char *open = strchr(buf, '['), *close = open ? strchr(open, ']') : NULL;
    if (!open || !close)
        return "unknown";
    *close = '\0';
    return open + 1;
}

int main(int argc, char **argv)
{
    long mb = argc > 1 ? strtol(argv[1], NULL, 10) : 64;
    if (mb < 4 || mb > 4096) {
        fprintf(stderr, "usage: page_cost [SIZE_MB: 4-4096]\n");
        return 2;
    }
    size_t size = (size_t)mb << 20;
    double first[ROUNDS], again[ROUNDS], huge[ROUNDS], cow[ROUNDS], fork_ms[ROUNDS];
    char *raw, *p;
    size_t span;
    if (!(p = map_fresh(size, 1, &raw, &span)))
        goto nomem;
    double huge_first = touch_us(p, size, 1);
    munmap(raw, span);
    for (int r = 0; r < ROUNDS; r++) {
        if (!(p = map_fresh(size, 0, &raw, &span)))
            goto nomem;
        first[r] = touch_us(p, size, 1);
        again[r] = touch_us(p, size, 2);
        cow[r] = cow_us(p, size);
        fork_ms[r] = fork_exit_ms();
        munmap(raw, span);
        if (!(p = map_fresh(size, 1, &raw, &span)))
            goto nomem;
        huge[r] = touch_us(p, size, 1);
        munmap(raw, span);
        if (cow[r] < 0 || fork_ms[r] < 0) {
            fprintf(stderr, "page_cost: fork: %s\n", strerror(errno));
            return 1;
        }
    }
    double f = median(first, ROUNDS), a = median(again, ROUNDS), h = median(huge, ROUNDS);
    double c = median(cow, ROUNDS), k = median(fork_ms, ROUNDS);
    char thp[128];
    printf("page cost (%ld MiB, median of %d): first write to a 4 KiB page %.2f us (%.0fx a second write, %.3f us); "
           "to huge pages %.3f us per 4 KiB, the very first time %.3f us (THP %s); copy-on-write after fork %.2f us; "
           "fork+exit with %ld MiB resident %.2f ms\n",
           mb, ROUNDS, f, a > 0 ? f / a : 0, a, h, huge_first, thp_mode(thp, sizeof(thp)), c, mb, k);
    return 0;
nomem:
    fprintf(stderr, "page_cost: mmap of %ld MiB: %s\n", mb, strerror(errno));
    return 1;
}
