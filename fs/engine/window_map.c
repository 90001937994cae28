/* Large read-ahead windows in transparent huge pages.  A window of several
 * MiB is written by the receive copy and read by the FUSE reply copy once
 * per file; in 4 KiB pages each new window costs a page fault per page
 * (about 6,000 for a 256 MiB AFP read) and the copies miss the TLB.
 * Measured on a 256 MiB read from netatalk 4.2 (docs/performance.md
 * "Windows in huge pages"): 0.28-0.30 s -> 0.20-0.24 s, faults per file
 * 6,100 -> 350-480.
 * The kernel falls back to small pages when no huge page is free, and
 * does nothing of it where THP is "never". */
#include "window_map.h"

#include <stdint.h>
#include <sys/mman.h>

#define HUGE_PAGE (2u << 20)   /* x86-64 and arm64 with 4 KiB pages */

char *sfs_window_map(size_t size)
{
    /* Mapped with a huge page of slack, then trimmed to an aligned start:
     * only whole aligned 2 MiB ranges can be backed by huge pages. */
    size_t span = size + HUGE_PAGE;
    char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    uintptr_t start = ((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    char *p = (char *)start;
    if (p > raw)
        munmap(raw, (size_t)(p - raw));
    size_t tail = (size_t)(raw + span - (p + size));
    if (tail)
        munmap(p + size, tail);
#ifdef MADV_HUGEPAGE
    madvise(p, size, MADV_HUGEPAGE);   /* a hint: EINVAL without THP in the kernel */
#endif
    return p;
}

void sfs_window_unmap(char *p, size_t size)
{
    if (p)
        munmap(p, size);
}
