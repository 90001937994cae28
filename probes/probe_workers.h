/* afptest's probing processes: N entries probed by up to J long-lived
 * worker processes, each taking entry after entry. */
#ifndef AFPTEST_PROBE_WORKERS_H
#define AFPTEST_PROBE_WORKERS_H

#include <stddef.h>

#include "sharesfs/probe.h"

struct probe_jobs {
    const struct sfs_map_entry **entries;
    struct sfs_probe_result *results;   /* results[i] is entries[i]'s row */
    size_t n;
    const struct sfs_config *cfg;
    const struct sfs_probe_options *opts;
};

/* Entries a worker probes before it is replaced by a fresh process: bounds
 * whatever a client library keeps from one login to the next. */
#define PROBE_ENTRIES_PER_WORKER 256

/* Fills every row; returns when all entries are probed, with the number of
 * worker processes it started.  Single-threaded callers only (it forks). */
unsigned probe_workers_run(const struct probe_jobs *jobs, int max_workers);

#endif
