#ifndef SHARESFS_PROBES_INFO_H
#define SHARESFS_PROBES_INFO_H

/* afptest info URL: prints the server's self-description without logging
 * in.  Returns the exit status (0, 1 unreachable or malformed, 2 bad URL). */
int afptest_info(const char *url, int timeout_ms);

#endif
