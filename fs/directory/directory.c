/* sfs_dir_fetch: the steps in order (checks before any traffic, connect +
 * TLS, bind, search), each timed, into a record set of its own that is
 * handed over only when everything worked. */
#include "dir_private.h"

#include "sharesfs/clock.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#define DIR_DEFAULT_TIMEOUT_MS 10000

static void info_start(struct sfs_dir_fetch_info *info, const struct dir_conn *c, bool starttls)
{
    snprintf(info->uri, sizeof(info->uri), "%s", c->uri.text);
    snprintf(info->tls, sizeof(info->tls), "%s", c->uri.ldaps ? "ldaps" : starttls ? "starttls" : "none");
}

/* libldap and GnuTLS write to the socket without MSG_NOSIGNAL: a server
 * that closes while we send (TLS to a plain port) raises SIGPIPE, which
 * would kill a program that has not ignored it.  It is blocked in this
 * thread for the fetch, and one raised here is taken before unblocking
 * (a write raises it for the writing thread). */
struct pipe_guard {
    sigset_t old;
    bool was_pending;
};

static void pipe_block(struct pipe_guard *g)
{
    sigset_t pipe, pending;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, &g->old);
    g->was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
}

static void pipe_restore(struct pipe_guard *g)
{
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    struct timespec zero = {0, 0};
    if (!g->was_pending)
        while (sigtimedwait(&pipe, NULL, &zero) == SIGPIPE) {
        }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

static int fetch(const struct sfs_dir_server *srv, struct sfs_dir_records *out, struct sfs_dir_fetch_info *info,
                 struct sfs_status *st);

int sfs_dir_fetch(const struct sfs_dir_server *srv, struct sfs_dir_records *out, struct sfs_dir_fetch_info *info,
                  struct sfs_status *st)
{
    struct pipe_guard g;
    pipe_block(&g);
    int rc = fetch(srv, out, info, st);
    pipe_restore(&g);
    return rc;
}

static int fetch(const struct sfs_dir_server *srv, struct sfs_dir_records *out, struct sfs_dir_fetch_info *info,
                 struct sfs_status *st)
{
    struct sfs_dir_fetch_info own;
    if (!info)
        info = &own;
    memset(info, 0, sizeof(*info));
    snprintf(info->tls, sizeof(info->tls), "none");
    struct sfs_status own_st;
    if (!st)
        st = &own_st;
    sfs_status_clear(st);
    if (!srv || !out)
        return sfs_status_set(st, SFS_STAGE_MAP, EINVAL, SFS_DOMAIN_CONFIG, 0, "no directory server or records");
    if (out->n_records)
        return sfs_status_set(st, SFS_STAGE_MAP, EINVAL, SFS_DOMAIN_CONFIG, 0,
                              "the record set to fill already holds %zu records", out->n_records);
    struct dir_conn c = {.timeout_ms = srv->timeout_ms > 0 ? srv->timeout_ms : DIR_DEFAULT_TIMEOUT_MS};
    int rc = dir_uri_parse(srv->uri, &c.uri, st);
    if (rc < 0)
        return rc;
    info_start(info, &c, srv->starttls);
    if (!srv->base)
        return sfs_status_set(st, SFS_STAGE_MAP, EINVAL, SFS_DOMAIN_CONFIG, 0, "%s: no search base", c.uri.text);
    if (c.uri.ldaps && srv->starttls)
        return sfs_status_set(st, SFS_STAGE_MAP, EINVAL, SFS_DOMAIN_CONFIG, 0,
                              "%s: StartTLS on an ldaps:// connection (TLS already)", c.uri.text);
    /* What needs no server is checked before any traffic. */
    rc = dir_bind_check(srv, st);
    if (rc < 0)
        return rc;

    double t0 = sfs_now_ms();
    rc = dir_conn_open(&c, srv, st);
    info->ms_connect = sfs_now_ms() - t0;
    snprintf(info->address, sizeof(info->address), "%s", c.address);
    if (rc == 0) {
        t0 = sfs_now_ms();
        rc = dir_bind(&c, srv, st);
        info->ms_bind = sfs_now_ms() - t0;
    }
    struct sfs_dir_records recs = {0};
    if (rc == 0) {
        t0 = sfs_now_ms();
        rc = dir_search(&c, srv->base, &recs, &info->n_pages, st);
        info->ms_search = sfs_now_ms() - t0;
    }
    dir_conn_close(&c);
    if (rc < 0) {
        sfs_dir_records_free(&recs);
        if (st->domain == SFS_DOMAIN_LDAP)
            info->ldap_code = (int)st->code;
        return rc;
    }
    *out = recs;
    info->n_records = recs.n_records;
    return 0;
}
