/* sharesfs AUTO_MASTER: one child process per mount point, forked by a
 * single-threaded supervisor before any thread or library starts, so each
 * mount point has its own libsmbclient (whose lock is process-wide) and a
 * crash costs one mount point.  The supervisor waits until every child has
 * mounted, forwards SIGTERM/SIGINT/SIGHUP, restarts a child that dies, and
 * leaves nothing mounted when it stops. */
#ifndef SHARESFS_FUSE_SUPERVISOR_H
#define SHARESFS_FUSE_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>

/* Runs in the child for mount point INDEX.  It mounts, writes one byte to
 * READY_FD once the file system answers, serves until SIGTERM/SIGINT/SIGHUP
 * (which must unmount), and returns the child's exit status. */
typedef int (*supervisor_child_fn)(size_t index, int ready_fd, void *ctx);

struct supervisor_opts {
    bool foreground;      /* stay attached: progress on stderr, stdio kept */
    int notify_fd;        /* from supervisor_daemonize(), or -1 */
    int start_timeout_s;  /* a child not mounted by then fails (0: 30) */
    int stop_timeout_s;   /* SIGKILL after this long on stop (0: 10) */
};

/* Starts a child for every one of the N mount points PATHS and supervises
 * them.  When a child fails to mount, names its mount point, stops the
 * others and returns 1.  Once all are up, returns 0 when a stop signal
 * arrives (children stopped, any mount left behind detached) or when every
 * mount point was unmounted from outside (fusermount3 -u); a child that
 * dies otherwise is restarted, after 1 s and then up to 60 s. */
int supervisor_run(const char *const *paths, size_t n, supervisor_child_fn run, void *ctx,
                   const struct supervisor_opts *opts);

/* Goes to the background before any child is started.  The calling
 * process waits until the daemon reports (through the returned descriptor,
 * passed to supervisor_run as notify_fd) that everything is mounted, and
 * exits with the status it reports (1 when it dies first); only the daemon
 * returns.  Returns -1 (errno set) when fork or pipe fail. */
int supervisor_daemonize(void);

/* What fuse_daemonize() does once a daemon is ready: stdio to /dev/null,
 * working directory "/". */
void supervisor_detach_stdio(void);

#endif
