/* Reading a mount point's map, at start and again while mounted. */
#include "map_refresh.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sharesfs/map_sources.h"
#include "sharesfs/mounts.h"

/* Keeps the entries that belong under ROOT (all of a plain indirect map;
 * from an auto_master only those of the master line for ROOT). */
static size_t keep_entries_for_root(struct sfs_map *map, const char *root)
{
    size_t kept = 0;
    for (size_t i = 0; i < map->n_entries; i++) {
        struct sfs_map_entry *e = &map->entries[i];
        bool mine = e->type == SFS_MAP_TYPE_INDIRECT && (!e->root || strcmp(e->root, root) == 0);
        if (!mine) {
            sfs_map_entry_free(e);
            continue;
        }
        if (kept != i)
            map->entries[kept] = *e;
        kept++;
    }
    map->n_entries = kept;
    return kept;
}

/* Directory sources of a mount point other than ROOT are not its business. */
static bool source_is_mine(const struct sfs_map_dirref *r, const char *root)
{
    return !root || r->kind == SFS_DIRREF_MASTER || r->kind == SFS_DIRREF_TOP || !r->root || strcmp(r->root, root) == 0;
}

static void print_failed_sources(const struct sfs_map *map, const char *root)
{
    for (size_t i = 0; i < map->n_dirrefs; i++) {
        const struct sfs_map_dirref *r = &map->dirrefs[i];
        if (!r->status.err || !source_is_mine(r, root))
            continue;
        char code[96];
        sfs_status_code_text(&r->status, code, sizeof(code));
        fprintf(stderr, "sharesfs: %s: directory source %s (%s) failed at %s: %s%s%s%s\n",
                root ? root : r->root ? r->root : "/", r->label, r->where,
                sfs_stage_name(r->status.stage), sfs_errno_name(r->status.err) ? sfs_errno_name(r->status.err) : "",
                code[0] ? " " : "", code, r->last_good ? "; serving its last good entries" : "");
        fprintf(stderr, "sharesfs:   %s\n", r->status.detail);
    }
}

int map_refresh_load(const char *path, const char *load_root, const char *root, const struct sfs_config *cfg,
                     struct sfs_map *out)
{
    struct sfs_parse_error perr = {0};
    if (sfs_engine_map_load(path, load_root, cfg, out, &perr) < 0) {
        char msg[768];
        sfs_parse_error_format(&perr, msg, sizeof(msg));
        fprintf(stderr, "sharesfs: %s\n", msg);
        return -1;
    }
    for (size_t i = 0; i < out->n_warnings; i++)
        fprintf(stderr, "sharesfs: warning: %s\n", out->warnings[i]);
    print_failed_sources(out, root);
    if (root)
        keep_entries_for_root(out, root);
    return 0;
}

static bool same_source(const struct sfs_map_dirref *a, const struct sfs_map_dirref *b)
{
    return a->kind == b->kind && strcmp(a->where, b->where) == 0 && strcmp(a->label, b->label) == 0;
}

/* Appends a copy of E to NOW as an entry of source REF (unless NOW has its
 * key: KEYS).  1 when carried, 0 when not, -1 when out of memory. */
static int carry_entry(struct sfs_map *now, GHashTable *keys, const struct sfs_map_entry *e, unsigned ref)
{
    if (g_hash_table_contains(keys, e->key))
        return 0;
    struct sfs_map_entry *v = realloc(now->entries, (now->n_entries + 1) * sizeof(*v));
    if (!v)
        return -1;
    now->entries = v;
    if (sfs_map_entry_copy(&v[now->n_entries], e) < 0)
        return -1;
    v[now->n_entries].dirref = ref;
    g_hash_table_add(keys, v[now->n_entries++].key);   /* the strings stay where they are */
    return 1;
}

/* A source that could not be read now keeps what it gave last time: its
 * '*' entries from the table's map, its keys from their records (the
 * table's map holds no others).  Caller holds t->lock. */
static void carry_last_good(struct sfs_map *now, struct mount_table *t, time_t before_at)
{
    const struct sfs_map *before = &t->map;
    GHashTable *keys = NULL;
    for (size_t i = 0; i < now->n_dirrefs; i++) {
        struct sfs_map_dirref *r = &now->dirrefs[i];
        if (!r->status.err)
            continue;
        if (!keys) {
            keys = g_hash_table_new(g_str_hash, g_str_equal);
            for (size_t k = 0; k < now->n_entries; k++)
                g_hash_table_add(keys, now->entries[k].key);
        }
        for (size_t j = 0; j < before->n_dirrefs; j++) {
            const struct sfs_map_dirref *old = &before->dirrefs[j];
            if (!same_source(r, old) || (old->status.err && !old->last_good))
                continue;
            size_t carried = 0;
            int rc = 0;
            for (size_t k = 0; rc >= 0 && k < before->n_entries; k++)
                if (before->entries[k].dirref == j + 1 && (rc = carry_entry(now, keys, &before->entries[k], (unsigned)i + 1)) > 0)
                    carried++;
            for (size_t k = 0; rc >= 0 && k < t->n; k++) {
                const struct mount *m = t->mounts[k];
                if (!m->removed && !m->instance && m->entry.dirref == j + 1 &&
                    (rc = carry_entry(now, keys, &m->entry, (unsigned)i + 1)) > 0)
                    carried++;
            }
            r->last_good = true;
            r->good_at = old->last_good ? old->good_at : (long long)before_at;
            r->n_entries = carried;
            break;
        }
    }
    if (keys)
        g_hash_table_destroy(keys);
}

void map_refresh_now(struct map_refresh *r, struct mount_table *t)
{
    struct sfs_map map;
    struct sfs_parse_error perr = {0};
    time_t now = time(NULL);
    int rc = sfs_engine_map_load(r->path, r->load_root, t->cfg, &map, &perr);
    pthread_mutex_lock(&t->lock);
    r->reads++;
    r->read_at = now;
    if (rc < 0) {
        /* The file itself cannot be read: everything stays as it is. */
        r->failed_reads++;
        sfs_parse_error_format(&perr, r->error, sizeof(r->error));
        pthread_mutex_unlock(&t->lock);
        g_log_structured("sharesfs", G_LOG_LEVEL_WARNING, "SHARESFS_MOUNT", r->root, "MESSAGE",
                         "%s: map %s not re-read, serving the last one: %s", r->root, r->path, r->error);
        return;
    }
    keep_entries_for_root(&map, r->root);
    carry_last_good(&map, t, r->good_at ? r->good_at : now);
    size_t failed = 0;
    for (size_t i = 0; i < map.n_dirrefs; i++)
        failed += map.dirrefs[i].status.err != 0 && source_is_mine(&map.dirrefs[i], r->root);
    r->error[0] = '\0';
    if (failed)
        r->failed_reads++;
    else
        r->good_at = now;
    pthread_mutex_unlock(&t->lock);
    for (size_t i = 0; i < map.n_dirrefs; i++) {
        const struct sfs_map_dirref *d = &map.dirrefs[i];
        if (d->status.err && source_is_mine(d, r->root))
            g_log_structured("sharesfs", G_LOG_LEVEL_WARNING, "SHARESFS_MOUNT", r->root, "SHARESFS_STAGE",
                             sfs_stage_name(d->status.stage), "MESSAGE", "%s: directory source %s (%s): %s%s",
                             r->root, d->label, d->where, d->status.detail,
                             d->last_good ? "; serving its last good entries" : "");
    }
    size_t added = 0, removed = 0;
    mounts_refresh(t, &map, &added, &removed);
    pthread_mutex_lock(&t->lock);
    r->added = added;
    r->removed = removed;
    pthread_mutex_unlock(&t->lock);
    g_log_structured("sharesfs", G_LOG_LEVEL_MESSAGE, "SHARESFS_MOUNT", r->root, "MESSAGE",
                     "%s: map %s re-read: %zu key%s added, %zu removed%s", r->root, r->path, added,
                     added == 1 ? "" : "s", removed, failed ? " (a directory source failed)" : "");
}

struct refresh_arg {
    struct map_refresh *r;
    struct mount_table *t;
};

static void *refresh_main(void *p)
{
    struct refresh_arg a = *(struct refresh_arg *)p;
    free(p);
    for (;;) {
        struct pollfd pfd = {.fd = a.r->wake[0], .events = POLLIN};
        int n = poll(&pfd, 1, a.r->interval_s > 0 ? a.r->interval_s * 1000 : -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0) {
            char buf[64];
            ssize_t got = read(a.r->wake[0], buf, sizeof(buf));
            if (got <= 0 || memchr(buf, 'q', (size_t)got))
                return NULL;
        }
        map_refresh_now(a.r, a.t);
    }
}

int map_refresh_prepare(struct map_refresh *r)
{
    if (pipe2(r->wake, O_CLOEXEC | O_NONBLOCK) < 0)
        return -errno;
    r->good_at = r->read_at = time(NULL);
    r->prepared = true;
    return 0;
}

int map_refresh_start(struct map_refresh *r, struct mount_table *t)
{
    if (!r->prepared || r->running)
        return 0;
    struct refresh_arg *a = malloc(sizeof(*a));
    if (!a)
        return -ENOMEM;
    *a = (struct refresh_arg){.r = r, .t = t};
    int rc = pthread_create(&r->thread, NULL, refresh_main, a);
    if (rc != 0) {
        free(a);
        return -rc;
    }
    r->running = true;
    return 0;
}

void map_refresh_stop(struct map_refresh *r)
{
    if (r->running) {
        if (write(r->wake[1], "q", 1) < 0) { /* the pipe is ours and empty enough */ }
        pthread_join(r->thread, NULL);
        r->running = false;
    }
    if (r->prepared) {
        close(r->wake[0]);
        close(r->wake[1]);
        r->prepared = false;
    }
}

static int sighup_fd = -1;

static void on_sighup(int sig)
{
    (void)sig;
    int saved = errno;
    if (sighup_fd >= 0 && write(sighup_fd, "h", 1) < 0) { /* a re-read is already pending */ }
    errno = saved;
}

void map_refresh_catch_sighup(struct map_refresh *r)
{
    if (!r->running)
        return;
    sighup_fd = r->wake[1];
    struct sigaction sa = {.sa_handler = on_sighup, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
}
