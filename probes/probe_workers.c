/* Each entry is probed in a worker process, never in afptest itself:
 * libsmbclient is not safe to call from several threads at once, and a
 * library crash or a hung server costs one row, not the report.  A worker
 * is forked once and probes entry after entry (a fork per entry cost more
 * client CPU than the probe itself: copy-on-write faults of a parent that
 * maps the Samba libraries), each with a fresh library context,
 * connection and session, and the environment put back as it was.  A
 * worker that misses its entry's deadline is killed, one that dies is
 * reaped, and either is replaced for the next entry.  A worker only takes
 * entries of one footprint (sfs_engine_probe_footprint: libsmbclient keeps
 * the smb.conf it loaded; an entry of a backend that keeps no config fits
 * any), and is replaced after PROBE_ENTRIES_PER_WORKER.
 * Workers are forked from this single-threaded parent only (fork from a
 * threaded process can deadlock the sanitizers' allocators). */
#include "probe_workers.h"

#include <errno.h>
#include <glib.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sharesfs/clock.h"
#include "sharesfs/net.h"

extern char **environ;

struct worker {
    pid_t pid;           /* 0: no process in this slot */
    int fd;              /* socketpair: entry indexes down, rows up */
    int footprint;       /* 0: none yet (only entries that fit anywhere) */
    int session;         /* share_sessions: the group of the entry it probed last; 0 none */
    unsigned probed;
    bool busy;
    size_t index, got;   /* the entry being probed, bytes of its row read */
    double deadline;
};

struct pool {
    const struct probe_jobs *jobs;
    struct worker *w;
    int n_workers;
    int *footprint;      /* per entry; 0 fits anywhere */
    /* share_sessions: per entry, its group of entries that would log in the
     * same way (0: none); next_same[i], the next entry of i's group (n:
     * none); cursor[g], group g's first entry that may still be free. */
    int *session;
    size_t *next_same, *cursor;
    bool *taken;
    size_t first_free;   /* entries before it are all taken */
    int deadline_ms;
    unsigned started;    /* worker processes forked */
};

/* A copy of the environment, put back after each entry: a backend may set
 * a variable for its library (KRB5CCNAME) that the next entry must not see. */
static char **environ_copy(void)
{
    size_t n = 0;
    while (environ && environ[n])
        n++;
    char **copy = calloc(n + 1, sizeof(*copy));
    for (size_t i = 0; copy && i < n; i++)
        copy[i] = strdup(environ[i]);
    return copy;
}

static void environ_restore(char **copy)
{
    if (!copy)
        return;
    clearenv();
    for (size_t i = 0; copy[i]; i++)
        putenv(copy[i]);
}

static _Noreturn void worker_main(const struct probe_jobs *jobs, int fd)
{
    char **env = environ_copy();
    struct sfs_probe_result *row = malloc(sizeof(*row));
    if (!row)
        _exit(4);
    uint32_t index;
    /* Blocking socket: waits for afptest as long as it takes. */
    while (sfs_net_read_all(fd, &index, sizeof(index), INT_MAX) == 0) {
        if (index >= jobs->n)
            _exit(5);
        sfs_probe_entry(jobs->entries[index], jobs->cfg, jobs->opts, row);
        environ_restore(env);
        if (sfs_net_write_all(fd, row, sizeof(*row), INT_MAX) < 0)
            _exit(3);
    }
    sfs_probe_sessions_close();
    _exit(0);   /* afptest closed our socket: no more entries */
}

static bool worker_start(struct pool *p, struct worker *w)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
        return false;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    if (pid == 0) {
        /* Only afptest may hold the other workers' sockets, or they would
         * never see their EOF. */
        for (int k = 0; k < p->n_workers; k++)
            if (p->w[k].pid)
                close(p->w[k].fd);
        close(fds[0]);
        worker_main(p->jobs, fds[1]);
    }
    close(fds[1]);
    *w = (struct worker){.pid = pid, .fd = fds[0]};
    p->started++;
    return true;
}

/* An idle worker is told there is no more work by its socket's EOF; a late
 * or broken one is killed.  Returns its wait status. */
static int worker_stop(struct worker *w, bool kill_it)
{
    if (kill_it)
        kill(w->pid, SIGKILL);
    close(w->fd);
    int wstatus = 0;
    while (waitpid(w->pid, &wstatus, 0) < 0 && errno == EINTR)
        ;
    w->pid = 0;
    w->busy = false;
    return wstatus;
}

static void fail_row(struct sfs_probe_result *r, const struct sfs_map_entry *e, int wstatus, bool timed_out,
                     int deadline_ms)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->key, sizeof(r->key), "%s", e->key);
    snprintf(r->mountpoint, sizeof(r->mountpoint), "%s", e->mountpoint ? e->mountpoint : e->key);
    snprintf(r->url, sizeof(r->url), "%s", e->location_display ? e->location_display : "");
    if (timed_out)
        sfs_status_set(&r->status, SFS_STAGE_CONNECT, ETIMEDOUT, SFS_DOMAIN_SYS, ETIMEDOUT,
                       "the probe did not finish within %d ms", deadline_ms);
    else if (WIFSIGNALED(wstatus))
        sfs_status_set(&r->status, SFS_STAGE_CONNECT, EIO, SFS_DOMAIN_SYS, 0,
                       "the probe process died of signal %d (%s): a client library bug", WTERMSIG(wstatus),
                       strsignal(WTERMSIG(wstatus)));
    else
        sfs_status_set(&r->status, SFS_STAGE_CONNECT, EIO, SFS_DOMAIN_SYS, 0,
                       "the probe process exited with status %d before reporting", WEXITSTATUS(wstatus));
}

/* The next entry W may take: one of the group whose session W keeps;
 * else in map order, the first free one for a new worker, else the first
 * free one of W's footprint (or of none).  n: none. */
static size_t next_entry(struct pool *p, const struct worker *w)
{
    if (w->pid && w->session && p->session) {
        size_t *c = &p->cursor[w->session];
        while (*c < p->jobs->n && p->taken[*c])
            *c = p->next_same[*c];
        if (*c < p->jobs->n)
            return *c;
    }
    while (p->first_free < p->jobs->n && p->taken[p->first_free])
        p->first_free++;
    for (size_t i = p->first_free; i < p->jobs->n; i++)
        if (!p->taken[i] && (!w->pid || !w->footprint || !p->footprint[i] || p->footprint[i] == w->footprint))
            return i;
    return p->jobs->n;
}

/* Gives slot W its next entry, starting or replacing its process as
 * needed; false when no entry is left for it. */
static bool assign(struct pool *p, struct worker *w)
{
    const struct probe_jobs *jobs = p->jobs;
    if (w->pid && w->probed >= PROBE_ENTRIES_PER_WORKER)
        worker_stop(w, false);
    size_t i = next_entry(p, w);
    if (i == jobs->n && w->pid) {
        worker_stop(w, false);   /* entries remain, none of its footprint */
        i = next_entry(p, w);
    }
    if (i == jobs->n)
        return false;
    p->taken[i] = true;
    if (!w->pid && !worker_start(p, w)) {
        /* No process to spare: probe here, without isolation, and keep no
         * session (a worker forked later would inherit its connection). */
        sfs_probe_entry(jobs->entries[i], jobs->cfg, jobs->opts, &jobs->results[i]);
        sfs_probe_sessions_close();
        return true;
    }
    uint32_t index = (uint32_t)i;
    if (send(w->fd, &index, sizeof(index), MSG_NOSIGNAL) != (ssize_t)sizeof(index)) {
        fail_row(&jobs->results[i], jobs->entries[i], worker_stop(w, true), false, p->deadline_ms);
        return true;
    }
    if (p->footprint[i])
        w->footprint = p->footprint[i];
    w->session = p->session ? p->session[i] : 0;
    w->busy = true;
    w->index = i;
    w->got = 0;
    w->probed++;
    w->deadline = sfs_now_ms() + p->deadline_ms;
    return true;
}

/* Reads what W sent of its row; a row that cannot be finished (the worker
 * died, or is late) becomes a failure row and the worker is gone. */
static void collect(struct pool *p, struct worker *w, bool readable, bool late)
{
    struct sfs_probe_result *r = &p->jobs->results[w->index];
    while (readable && w->got < sizeof(*r)) {
        ssize_t n = recv(w->fd, (char *)r + w->got, sizeof(*r) - w->got, MSG_DONTWAIT);
        if (n > 0) {
            w->got += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        /* EOF: the worker is gone before its row was whole. */
        fail_row(r, p->jobs->entries[w->index], worker_stop(w, true), false, p->deadline_ms);
        return;
    }
    if (w->got == sizeof(*r)) {
        w->busy = false;
    } else if (late) {
        worker_stop(w, true);
        fail_row(r, p->jobs->entries[w->index], 0, true, p->deadline_ms);
    }
}

static int *footprints(const struct probe_jobs *jobs)
{
    int *ids = calloc(jobs->n ? jobs->n : 1, sizeof(*ids));
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (size_t i = 0; ids && i < jobs->n; i++) {
        char fp[1200];
        sfs_engine_probe_footprint(jobs->entries[i], jobs->cfg, fp, sizeof(fp));
        if (!fp[0])
            continue;
        gpointer id = g_hash_table_lookup(seen, fp);
        if (!id) {
            id = GINT_TO_POINTER(g_hash_table_size(seen) + 1);
            g_hash_table_insert(seen, g_strdup(fp), id);
        }
        ids[i] = GPOINTER_TO_INT(id);
    }
    g_hash_table_destroy(seen);
    return ids;
}

static void wipe_id(gpointer id)
{
    sfs_engine_probe_session_id_free(id);
}

/* share_sessions: P's session groups (see struct pool).  Out of memory:
 * none (workers then take entries in map order; a worker still keeps a
 * session for a next entry that fits). */
static void session_groups(struct pool *p)
{
    size_t n = p->jobs->n;
    p->session = calloc(n ? n : 1, sizeof(*p->session));
    p->next_same = calloc(n ? n : 1, sizeof(*p->next_same));
    p->cursor = calloc(n + 1, sizeof(*p->cursor));
    size_t *last = calloc(n + 1, sizeof(*last));
    if (!p->session || !p->next_same || !p->cursor || !last) {
        free(p->session);
        free(p->next_same);
        free(p->cursor);
        free(last);
        p->session = NULL;
        p->next_same = p->cursor = NULL;
        return;
    }
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, wipe_id, NULL);
    for (size_t i = 0; i < n; i++) {
        p->next_same[i] = n;
        char *id = sfs_engine_probe_session_id(p->jobs->entries[i]);
        if (!id)
            continue;
        int g = GPOINTER_TO_INT(g_hash_table_lookup(seen, id));
        if (g) {
            sfs_engine_probe_session_id_free(id);
            p->next_same[last[g]] = i;
        } else {
            g = (int)g_hash_table_size(seen) + 1;
            g_hash_table_insert(seen, id, GINT_TO_POINTER(g));
            p->cursor[g] = i;
        }
        last[g] = i;
        p->session[i] = g;
    }
    g_hash_table_destroy(seen);
    free(last);
}

unsigned probe_workers_run(const struct probe_jobs *jobs, int max_workers)
{
    if (max_workers > 256)
        max_workers = 256;
    struct pool p = {
        .jobs = jobs,
        .w = calloc((size_t)max_workers, sizeof(struct worker)),
        .n_workers = max_workers,
        .footprint = footprints(jobs),
        .taken = calloc(jobs->n ? jobs->n : 1, sizeof(bool)),
        /* Every stage has its own timeout; allow them all plus slack. */
        .deadline_ms = sfs_config_timeout_ms(jobs->cfg) * (SFS_STAGE_COUNT + 1) + 5000,
    };
    if (jobs->opts && jobs->opts->share_sessions)
        session_groups(&p);
    if (!p.w || !p.footprint || !p.taken) {
        for (size_t i = 0; i < jobs->n; i++)
            sfs_probe_entry(jobs->entries[i], jobs->cfg, jobs->opts, &jobs->results[i]);
        goto out;
    }
    for (;;) {
        bool any_busy = false;
        for (int k = 0; k < p.n_workers; k++) {
            struct worker *w = &p.w[k];
            while (!w->busy && assign(&p, w))
                ;
            any_busy |= w->busy;
        }
        if (!any_busy)
            break;
        struct pollfd pfds[256];
        int slot[256], n = 0;
        for (int k = 0; k < p.n_workers; k++)
            if (p.w[k].busy) {
                pfds[n] = (struct pollfd){.fd = p.w[k].fd, .events = POLLIN};
                slot[n++] = k;
            }
        poll(pfds, (nfds_t)n, 200);
        double now = sfs_now_ms();
        for (int i = 0; i < n; i++) {
            struct worker *w = &p.w[slot[i]];
            bool late = now > w->deadline;
            if (pfds[i].revents || late)
                collect(&p, w, pfds[i].revents != 0, late);
        }
    }
    for (int k = 0; k < p.n_workers; k++)
        if (p.w[k].pid)
            worker_stop(&p.w[k], false);
out:
    sfs_probe_sessions_close();   /* kept by the probes above, without workers */
    free(p.w);
    free(p.footprint);
    free(p.taken);
    free(p.session);
    free(p.next_same);
    free(p.cursor);
    return p.started;
}
