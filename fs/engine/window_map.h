/* Memory for large read-ahead windows (window_map.c). */
#ifndef SHARESFS_ENGINE_WINDOW_MAP_H
#define SHARESFS_ENGINE_WINDOW_MAP_H

#include <stddef.h>

/* SIZE bytes (a multiple of the page size) of fresh anonymous memory,
 * aligned to and advised for transparent huge pages; NULL when it cannot
 * be mapped (the caller falls back to malloc). */
char *sfs_window_map(size_t size);
/* Unmaps what sfs_window_map returned for SIZE. */
void sfs_window_unmap(char *p, size_t size);

#endif
