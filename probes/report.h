#ifndef SHARESFS_PROBES_REPORT_H
#define SHARESFS_PROBES_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "sharesfs/probe.h"

/* "ok" or "EACCES (13)". */
void report_result_text(const struct sfs_probe_result *r, char *buf, size_t len);
/* VERBOSE adds the time of every stage per row. */
void report_table(FILE *out, const struct sfs_probe_result *rows, size_t n, const char *const *warnings,
                  size_t n_warnings, bool verbose);
void report_json(FILE *out, const struct sfs_probe_result *rows, size_t n, const char *const *warnings,
                 size_t n_warnings);

#endif
