#include "sharesfs/mounts.h"

#include <errno.h>
#include <malloc.h>
#include <pwd.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sharesfs/engine.h"

/* Each key with a worker process where its backend asks for one (a
 * server that stops answering holds up only its own key), and read-ahead
 * for files read front to back. */
#define MOUNT_ENGINE_FLAGS (SFS_ENGINE_ISOLATE | SFS_ENGINE_READAHEAD)

const char *mount_state_name(enum mount_state s)
{
    switch (s) {
    case MOUNT_IDLE: return "idle";
    case MOUNT_CONNECTING: return "connecting";
    case MOUNT_UP: return "mounted";
    case MOUNT_FAILED: return "failed";
    }
    return "?";
}

/* One structured line per state change; journald gets the fields. */
static void log_state(const struct mount *m, const char *what, const struct sfs_status *st)
{
    char errno_text[16] = "0", code[96] = "";
    if (st) {
        snprintf(errno_text, sizeof(errno_text), "%d", st->err);
        sfs_status_code_text(st, code, sizeof(code));
    }
    g_log_structured("sharesfs", st && st->err ? G_LOG_LEVEL_WARNING : G_LOG_LEVEL_MESSAGE,
                     "SHARESFS_MOUNT", m->entry.mountpoint ? m->entry.mountpoint : m->entry.key,
                     "SHARESFS_STATE", mount_state_name(m->state),
                     "SHARESFS_STAGE", st ? sfs_stage_name(st->stage) : "",
                     "SHARESFS_ERRNO", errno_text,
                     "SHARESFS_STATUS", code,
                     "MESSAGE", "%s: %s%s%s%s%s", m->entry.mountpoint ? m->entry.mountpoint : m->entry.key, what,
                     st && st->err ? " at " : "", st && st->err ? sfs_stage_name(st->stage) : "",
                     st && st->err ? ": " : "", st && st->err ? st->detail : "");
}

/* A record for entry E, which it takes over (E is left empty), or NULL
 * (E then stays the caller's). */
static struct mount *mount_new_taking(struct sfs_map_entry *e)
{
    struct mount *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->entry = *e;
    memset(e, 0, sizeof(*e));
    e = &m->entry;
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->changed, NULL);
    if (e->url_ok) {
        char *d = sfs_url_to_display(&e->url);
        m->url_display = g_strdup(d ? d : "");
        free(d);
        m->ops = sfs_engine_ops(e->url.proto, MOUNT_ENGINE_FLAGS);
    } else {
        m->url_display = g_strdup(e->location_display ? e->location_display : "");
    }
    return m;
}

static struct mount *mount_new(const struct sfs_map_entry *e)
{
    struct sfs_map_entry copy;
    if (sfs_map_entry_copy(&copy, e) < 0)
        return NULL;
    struct mount *m = mount_new_taking(&copy);
    if (!m)
        sfs_map_entry_free(&copy);
    return m;
}

/* What the table's map keeps once the records hold the keys' entries. */
static void map_keep_wildcards(struct sfs_map *map)
{
    size_t kept = 0;
    for (size_t i = 0; i < map->n_entries; i++) {
        if (map->entries[i].wildcard)
            map->entries[kept++] = map->entries[i];
        else
            sfs_map_entry_free(&map->entries[i]);
    }
    map->n_entries = kept;
}

/* The directories between the root and key KEY ("h/a/b": "h", "h/a")
 * gain (DELTA 1) or lose (-1) a key below them.  Caller holds t->lock. */
static void index_below(struct mount_table *t, const char *key, int delta)
{
    for (const char *p = strchr(key, '/'); p; p = strchr(p + 1, '/')) {
        char *dir = g_strndup(key, (gsize)(p - key));
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(t->below, dir));
        n = delta > 0 ? n + 1 : n > 0 ? n - 1 : 0;
        if (n)
            g_hash_table_replace(t->below, dir, GUINT_TO_POINTER(n));
        else {
            g_hash_table_remove(t->below, dir);
            g_free(dir);
        }
    }
}

/* M is (true) or is no longer (false) the live record of its key. */
static void index_key(struct mount_table *t, struct mount *m, bool live)
{
    if (live) {
        g_hash_table_replace(t->by_key, m->entry.key, m);
        index_below(t, m->entry.key, 1);
    } else if (g_hash_table_lookup(t->by_key, m->entry.key) == m) {
        g_hash_table_remove(t->by_key, m->entry.key);
        index_below(t, m->entry.key, -1);
    }
}

static int table_add(struct mount_table *t, struct mount *m)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        struct mount **grown = realloc(t->mounts, cap * sizeof(*grown));
        if (!grown)
            return -ENOMEM;
        t->mounts = grown;
        t->cap = cap;
    }
    m->index = (unsigned)t->n;
    t->mounts[t->n++] = m;
    index_key(t, m, true);
    return 0;
}

int mounts_init(struct mount_table *t, struct sfs_map *map, struct sfs_config *cfg, const char *root)
{
    memset(t, 0, sizeof(*t));
    t->map = *map;
    t->cfg = cfg;
    t->root = strdup(root);
    t->negative_timeout_s = 10;
    t->idle_timeout_s = 600;
    pthread_mutex_init(&t->lock, NULL);
    pthread_mutex_init(&t->reaper_lock, NULL);
    pthread_cond_init(&t->reaper_wake, NULL);
    t->by_key = g_hash_table_new(g_str_hash, g_str_equal);
    t->below = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (size_t i = 0; i < t->map.n_entries; i++) {
        struct sfs_map_entry *e = &t->map.entries[i];
        if (e->wildcard)
            continue;
        if (e->opts.nobrowse)
            t->nobrowse = true;
        struct mount *m = mount_new_taking(e);
        if (!m || table_add(t, m) < 0)
            return -ENOMEM;
    }
    map_keep_wildcards(&t->map);
    memset(map, 0, sizeof(*map));
    return 0;
}

ino_t mount_ino(const struct mount *m, ino_t server_ino)
{
    return (ino_t)(((uint64_t)(m->index + 1) << 48) ^ (uint64_t)server_ino);
}

/* *P becomes V (NULL when empty), allocated only when it changes. */
static void set_text(char **p, const char *v)
{
    if (!v || !*v) {
        g_free(*p);
        *p = NULL;
    } else if (!*p || strcmp(*p, v) != 0) {
        g_free(*p);
        *p = g_strdup(v);
    }
}

static void mount_free(struct mount *m)
{
    if (m->sessions) {
        for (guint i = 0; i < m->sessions->len; i++)
            mount_free(m->sessions->pdata[i]);
        g_ptr_array_free(m->sessions, TRUE);
    }
    if (m->conn)
        m->ops->disconnect(m->conn);
    for (size_t i = 0; i < m->n_retired; i++)
        m->ops->disconnect(m->retired[i]);
    free(m->retired);
    sfs_map_entry_free(&m->entry);
    g_free(m->url_display);
    g_free(m->last_error);
    g_free(m->auth);
    g_free(m->server_address);
    g_free(m->server_dialect);
    g_free(m->user);
    pthread_mutex_destroy(&m->lock);
    pthread_cond_destroy(&m->changed);
    free(m);
}

/* Connections replaced after they died are freed once nothing can use
 * them: no operation running and no file open on the key (files opened
 * on an old connection are counted in open_files too).  Caller holds
 * m->lock; the list returned is the caller's to disconnect unlocked. */
static struct sfs_conn **take_unused_retired(struct mount *m, size_t *n)
{
    *n = 0;
    if (m->n_retired == 0 || m->busy > 0 || m->open_files > 0)
        return NULL;
    struct sfs_conn **list = m->retired;
    *n = m->n_retired;
    m->retired = NULL;
    m->n_retired = 0;
    return list;
}

static void disconnect_all(struct mount *m, struct sfs_conn **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        m->ops->disconnect(list[i]);
    free(list);
}

/* A key removed from the map is disconnected once nothing uses it.
 * Caller holds m->lock; the connection returned is the caller's to
 * disconnect unlocked. */
static struct sfs_conn *take_if_removed(struct mount *m)
{
    if (!m->removed || m->state != MOUNT_UP || m->busy > 0 || m->open_files > 0)
        return NULL;
    struct sfs_conn *c = m->conn;
    m->conn = NULL;
    m->state = MOUNT_IDLE;
    return c;
}

static void release_unused(struct mount *m)
{
    size_t n;
    struct sfs_conn **dead = take_unused_retired(m, &n);
    struct sfs_conn *gone = take_if_removed(m);
    pthread_mutex_unlock(&m->lock);
    disconnect_all(m, dead, n);
    if (gone) {
        m->ops->disconnect(gone);
        log_state(m, "removed from the map: disconnected", NULL);
    }
}

void mount_done(struct mount *m)
{
    pthread_mutex_lock(&m->lock);
    if (m->busy > 0)
        m->busy--;
    m->last_used = time(NULL);
    release_unused(m);
}

void mount_release_begin(struct mount *m)
{
    pthread_mutex_lock(&m->lock);
    m->releasing++;
    pthread_mutex_unlock(&m->lock);
}

void mount_file_closed(struct mount *m)
{
    pthread_mutex_lock(&m->lock);
    if (m->open_files > 0)
        m->open_files--;
    if (m->releasing > 0)
        m->releasing--;
    m->releases_done++;
    pthread_cond_broadcast(&m->changed);
    m->last_used = time(NULL);
    release_unused(m);
}

uint64_t mount_releases_done(struct mount *m)
{
    pthread_mutex_lock(&m->lock);
    uint64_t done = m->releases_done;
    pthread_mutex_unlock(&m->lock);
    return done;
}

#define RELEASE_GRACE_NS (5 * 1000 * 1000)
#define RELEASE_WAIT_MAX_S 30

bool mount_wait_releases(struct mount *m, uint64_t *since)
{
    pthread_mutex_lock(&m->lock);
    if (m->releasing == 0 && m->releases_done == *since) {
        pthread_mutex_unlock(&m->lock);
        nanosleep(&(struct timespec){.tv_nsec = RELEASE_GRACE_NS}, NULL);
        pthread_mutex_lock(&m->lock);
    }
    /* A release in progress has its path from libfuse already, so it
     * needs nothing the waiting operation holds, and its backend call has
     * the stage timeouts of any other; the bound is one more guard. */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += RELEASE_WAIT_MAX_S;
    while (m->releasing > 0 && pthread_cond_timedwait(&m->changed, &m->lock, &until) != ETIMEDOUT)
        ;
    bool closed = m->releases_done != *since;
    *since = m->releases_done;
    pthread_mutex_unlock(&m->lock);
    return closed;
}

/* Record I of the table, NULL past the end.  t->mounts grows (realloc) when
 * a '*' key is first used or the map is re-read: read each record under
 * the table lock; records themselves live until the table is destroyed. */
static struct mount *mount_at(struct mount_table *t, size_t i)
{
    pthread_mutex_lock(&t->lock);
    struct mount *m = i < t->n ? t->mounts[i] : NULL;
    pthread_mutex_unlock(&t->lock);
    return m;
}

void mounts_for_each(struct mount_table *t, void (*fn)(void *arg, struct mount *m), void *arg)
{
    struct mount *m;
    for (size_t i = 0; (m = mount_at(t, i)); i++) {
        fn(arg, m);
        for (size_t j = 0; m->sessions; j++) {
            pthread_mutex_lock(&m->lock);
            struct mount *s = j < m->sessions->len ? m->sessions->pdata[j] : NULL;
            pthread_mutex_unlock(&m->lock);
            if (!s)
                break;
            fn(arg, s);
        }
    }
}

/* Disconnects M if it has been idle long enough; the caller holds nothing. */
static void reap_one(struct mount_table *t, struct mount *m, time_t now)
{
    struct sfs_conn *conn = NULL;
    pthread_mutex_lock(&m->lock);
    if (m->state == MOUNT_UP && m->busy == 0 && m->open_files == 0 &&
        (m->removed || now - m->last_used >= t->idle_timeout_s)) {
        conn = m->conn;
        m->conn = NULL;
        m->state = MOUNT_IDLE;
        m->idle_disconnects++;
    }
    pthread_mutex_unlock(&m->lock);
    if (conn) {
        m->ops->disconnect(conn);
        log_state(m, "idle: disconnected", NULL);
    }
}

struct reap_arg {
    struct mount_table *t;
    time_t now;
    unsigned in_use;   /* keys with an operation under way or a file open */
};

static void reap_each(void *arg, struct mount *m)
{
    struct reap_arg *ra = arg;
    pthread_mutex_lock(&m->lock);
    ra->in_use += m->busy > 0 || m->open_files > 0;
    pthread_mutex_unlock(&m->lock);
    reap_one(ra->t, m, ra->now);
}

static void *reaper_main(void *arg)
{
    struct mount_table *t = arg;
    int step = t->idle_timeout_s >= 20 ? 5 : (t->idle_timeout_s + 3) / 4;
    pthread_mutex_lock(&t->reaper_lock);
    while (!t->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += step > 0 ? step : 1;
        pthread_cond_timedwait(&t->reaper_wake, &t->reaper_lock, &ts);
        if (t->stopping)
            break;
        pthread_mutex_unlock(&t->reaper_lock);
        time_t now = time(NULL);
        struct reap_arg ra = {.t = t, .now = now};
        mounts_for_each(t, reap_each, &ra);
        /* A quiet mount gives back the heap pages a listing or a map
         * refresh freed (10,000 keys: 2.4 MiB after an `ls -l`). */
        if (!ra.in_use)
            malloc_trim(0);
        pthread_mutex_lock(&t->reaper_lock);
    }
    pthread_mutex_unlock(&t->reaper_lock);
    return NULL;
}

void mounts_start_reaper(struct mount_table *t)
{
    if (t->idle_timeout_s <= 0 || t->reaper_running)
        return;
    t->reaper_running = pthread_create(&t->reaper, NULL, reaper_main, t) == 0;
}

void mounts_destroy(struct mount_table *t)
{
    if (t->reaper_running) {
        pthread_mutex_lock(&t->reaper_lock);
        t->stopping = true;
        pthread_cond_signal(&t->reaper_wake);
        pthread_mutex_unlock(&t->reaper_lock);
        pthread_join(t->reaper, NULL);
    }
    if (t->by_key)
        g_hash_table_destroy(t->by_key);
    if (t->below)
        g_hash_table_destroy(t->below);
    for (size_t i = 0; i < t->n; i++)
        mount_free(t->mounts[i]);
    free(t->mounts);
    free(t->root);
    sfs_map_free(&t->map);
    sfs_config_free(t->cfg);
}

struct mount *mounts_find(struct mount_table *t, const char *key)
{
    pthread_mutex_lock(&t->lock);
    struct mount *live = g_hash_table_lookup(t->by_key, key);
    if (live) {
        pthread_mutex_unlock(&t->lock);
        return live;
    }
    struct sfs_map_entry inst;
    struct sfs_parse_error perr;
    struct mount *m = NULL;
    if (sfs_map_lookup(&t->map, NULL, key, &inst, &perr) == 0) {
        m = mount_new_taking(&inst);
        if (m)
            m->instance = true;
        if (m && table_add(t, m) < 0) {
            mount_free(m);
            m = NULL;
        }
        sfs_map_entry_free(&inst);
    }
    pthread_mutex_unlock(&t->lock);
    return m;
}

static bool same_string(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Would a connection made for A serve B?  Location and every option that
 * changes what is connected or how. */
static bool same_entry(const struct sfs_map_entry *a, const struct sfs_map_entry *b)
{
    const struct sfs_mount_options *x = &a->opts, *y = &b->opts;
    bool others = true;
    for (size_t i = 0; others && ((x->other && x->other[i]) || (y->other && y->other[i])); i++)
        others = x->other && y->other && same_string(x->other[i], y->other[i]);
    return same_string(a->location, b->location) && same_string(a->mountpoint, b->mountpoint) &&
           same_string(x->fstype, y->fstype) && same_string(x->sec, y->sec) &&
           same_string(x->credentials, y->credentials) && same_string(x->vers, y->vers) &&
           same_string(x->username, y->username) && same_string(x->domain, y->domain) &&
           same_string(x->password, y->password) && x->ro == y->ro && x->guest == y->guest &&
           x->nobrowse == y->nobrowse && others;
}

/* The entry MAP gives for KEY ('*' instances too); false when none. */
static bool map_entry_for(struct sfs_map *map, const char *key, struct sfs_map_entry *out)
{
    struct sfs_parse_error perr;
    return sfs_map_lookup(map, NULL, key, out, &perr) == 0;
}

static void release_one(void *arg, struct mount *m)
{
    (void)arg;
    pthread_mutex_lock(&m->lock);
    release_unused(m);
}

struct mount *mount_session(struct mount_table *t, struct mount *m, uid_t uid)
{
    if (!t->multiuser || m->is_session)
        return m;
    pthread_mutex_lock(&m->lock);
    if (!m->sessions)
        m->sessions = g_ptr_array_new();
    for (guint i = 0; i < m->sessions->len; i++) {
        struct mount *s = m->sessions->pdata[i];
        if (s->uid == uid) {
            pthread_mutex_unlock(&m->lock);
            return s;
        }
    }
    struct mount *s = mount_new(&m->entry);
    if (s) {
        s->is_session = true;
        s->uid = uid;
        s->index = m->index;     /* the same inode numbers for every user of the key */
        s->removed = m->removed;
        struct passwd pw, *found = NULL;
        char buf[1024];
        if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) == 0 && found)
            s->user = g_strdup(found->pw_name);
        g_ptr_array_add(m->sessions, s);
    }
    pthread_mutex_unlock(&m->lock);
    return s;
}

int mounts_refresh(struct mount_table *t, struct sfs_map *map, size_t *added, size_t *removed)
{
    size_t n_added = 0, n_removed = 0;
    int rc = 0;
    pthread_mutex_lock(&t->lock);
    size_t before = t->n;
    for (size_t i = 0; i < before; i++) {
        struct mount *m = t->mounts[i];
        if (m->removed)
            continue;
        struct sfs_map_entry e;
        bool keep = map_entry_for(map, m->entry.key, &e);
        if (keep) {
            keep = same_entry(&m->entry, &e);
            if (keep)
                m->entry.dirref = e.dirref;   /* the source's index in the new map */
            sfs_map_entry_free(&e);
        }
        if (!keep) {
            index_key(t, m, false);
            pthread_mutex_lock(&m->lock);
            m->removed = true;
            for (guint j = 0; m->sessions && j < m->sessions->len; j++) {
                struct mount *sess = m->sessions->pdata[j];
                pthread_mutex_lock(&sess->lock);
                sess->removed = true;
                pthread_mutex_unlock(&sess->lock);
            }
            pthread_mutex_unlock(&m->lock);
            n_removed++;
        }
    }
    for (size_t i = 0; rc == 0 && i < map->n_entries; i++) {
        struct sfs_map_entry *e = &map->entries[i];
        if (e->wildcard)
            continue;
        if (g_hash_table_contains(t->by_key, e->key))
            continue;
        if (e->opts.nobrowse)
            t->nobrowse = true;
        struct mount *m = mount_new_taking(e);
        if (!m || table_add(t, m) < 0) {
            if (m)
                mount_free(m);
            rc = -ENOMEM;
            break;
        }
        n_added++;
    }
    map_keep_wildcards(map);
    sfs_map_free(&t->map);
    t->map = *map;
    memset(map, 0, sizeof(*map));
    pthread_mutex_unlock(&t->lock);
    if (added)
        *added = n_added;
    if (removed)
        *removed = n_removed;
    /* Removed keys with nothing open are disconnected now; the others
     * when their last file closes (mount_file_closed). */
    mounts_for_each(t, release_one, NULL);
    return rc;
}

/* KEY lies at or below PREFIX (PLEN bytes): equal, or PREFIX/... */
static bool key_under(const char *key, const char *prefix, size_t plen)
{
    return strncmp(key, prefix, plen) == 0 && (plen == 0 || key[plen] == '/' || key[plen] == '\0');
}

struct mount *mounts_find_path(struct mount_table *t, const char *path, size_t *key_len)
{
    struct mount *best = NULL;
    size_t best_len = 0;
    /* The longest key that is PATH or a leading part of it. */
    char *prefix = g_strdup(path);
    pthread_mutex_lock(&t->lock);
    for (size_t len = strlen(prefix);;) {
        prefix[len] = '\0';
        if ((best = g_hash_table_lookup(t->by_key, prefix))) {
            best_len = len;
            break;
        }
        char *slash = strrchr(prefix, '/');
        if (!slash)
            break;
        len = (size_t)(slash - prefix);
    }
    pthread_mutex_unlock(&t->lock);
    g_free(prefix);
    if (best) {
        *key_len = best_len;
        return best;
    }
    size_t first = strcspn(path, "/");
    char *name = g_strndup(path, first);
    struct mount *m = mounts_has_below(t, name) ? NULL : mounts_find(t, name);
    g_free(name);
    *key_len = first;
    return m;
}

bool mounts_has_below(struct mount_table *t, const char *prefix)
{
    pthread_mutex_lock(&t->lock);
    bool found = g_hash_table_contains(t->below, prefix);
    pthread_mutex_unlock(&t->lock);
    return found;
}

void mounts_list_level(struct mount_table *t, const char *prefix, int (*fn)(void *arg, const char *name),
                       void *arg)
{
    size_t plen = strlen(prefix);
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GPtrArray *names = g_ptr_array_new();   /* the names are the set's; freed with it */
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->n; i++) {
        struct mount *m = t->mounts[i];
        const char *key = m->entry.key;
        if (m->removed || !key_under(key, prefix, plen) || (plen && key[plen] != '/'))
            continue;
        /* -nobrowse: as on macOS, only keys already mounted are listed. */
        if ((t->nobrowse || m->entry.opts.nobrowse) && m->state != MOUNT_UP)
            continue;
        const char *rest = key + plen + (plen ? 1 : 0);
        char *name = g_strndup(rest, strcspn(rest, "/"));
        if (g_hash_table_contains(seen, name)) {
            g_free(name);
            continue;
        }
        g_hash_table_add(seen, name);
        g_ptr_array_add(names, name);
    }
    pthread_mutex_unlock(&t->lock);
    for (guint i = 0; i < names->len; i++)
        if (fn(arg, names->pdata[i]))
            break;
    g_ptr_array_free(names, TRUE);
    g_hash_table_destroy(seen);
}

static void record_failure(struct mount *m, const struct sfs_status *st)
{
    if (!m->last_error)
        m->last_error = g_new0(struct sfs_status, 1);
    *m->last_error = *st;
    m->last_error_at = time(NULL);
    m->failures++;
}

void mount_note_error(struct mount *m, const struct sfs_status *st)
{
    pthread_mutex_lock(&m->lock);
    record_failure(m, st);
    pthread_mutex_unlock(&m->lock);
    log_state(m, "operation failed", st);
}

/* The connection died under an up mount: keep it for the open files that
 * name it (their operations fail with EIO), and connect anew.  Caller
 * holds m->lock. */
static void retire_connection(struct mount *m)
{
    struct sfs_conn **grown = realloc(m->retired, (m->n_retired + 1) * sizeof(*grown));
    if (grown) {
        m->retired = grown;
        m->retired[m->n_retired++] = m->conn;
    }   /* else: leak one connection rather than free it under an open file */
    m->conn = NULL;
    m->state = MOUNT_IDLE;
}

struct sfs_conn *mount_acquire(struct mount_table *t, struct mount *m, const char *ccache, struct sfs_status *st)
{
    pthread_mutex_lock(&m->lock);
    for (;;) {
        if (m->state == MOUNT_UP && m->ops->alive && !m->ops->alive(m->conn)) {
            retire_connection(m);
            /* Lost to a timeout just now: the server is most likely still
             * not answering, and a reconnect would cost the caller a second
             * full timeout.  The timeout is answered from cache like a
             * failed mount; a reset (a restarted server) reconnects now. */
            bool timed_out = m->last_error && m->last_error->err == ETIMEDOUT &&
                             time(NULL) - m->last_error_at < t->negative_timeout_s;
            if (timed_out)
                m->state = MOUNT_FAILED;
            struct sfs_status why = m->last_error ? *m->last_error : (struct sfs_status){0};
            pthread_mutex_unlock(&m->lock);
            log_state(m, timed_out ? "connection lost: server not answering" : "connection lost: reconnecting",
                      timed_out ? &why : NULL);
            pthread_mutex_lock(&m->lock);
            continue;
        }
        if (m->state == MOUNT_UP) {
            struct sfs_conn *c = m->conn;
            m->busy++;
            m->last_used = time(NULL);
            pthread_mutex_unlock(&m->lock);
            return c;
        }
        if (m->state == MOUNT_FAILED && m->last_error && time(NULL) - m->last_error_at < t->negative_timeout_s) {
            *st = *m->last_error;
            pthread_mutex_unlock(&m->lock);
            return NULL;
        }
        if (m->state != MOUNT_CONNECTING)
            break;
        pthread_cond_wait(&m->changed, &m->lock);
    }
    m->state = MOUNT_CONNECTING;
    pthread_mutex_unlock(&m->lock);
    log_state(m, "connecting", NULL);

    struct sfs_status fail = {0};
    struct sfs_server_info info = {0};
    char auth[64] = "";
    struct sfs_identity who = {.uid = m->uid, .name = m->user};
    struct sfs_connect_request req = {.entry = &m->entry, .cfg = t->cfg, .ccache = ccache,
                                      .who = m->is_session ? &who : NULL, .flags = MOUNT_ENGINE_FLAGS};
    struct sfs_session s = {0};
    int rc = sfs_engine_connect(&req, &s, &info, auth, sizeof(auth), &fail);

    pthread_mutex_lock(&m->lock);
    set_text(&m->server_address, info.address);
    set_text(&m->server_dialect, info.dialect);
    if (auth[0])
        set_text(&m->auth, auth);
    if (rc == 0) {
        m->state = MOUNT_UP;
        m->conn = s.conn;
        m->connected_at = m->last_used = time(NULL);
        m->connects++;
        m->busy++;
    } else {
        m->state = MOUNT_FAILED;
        record_failure(m, &fail);
        *st = fail;
    }
    pthread_cond_broadcast(&m->changed);
    pthread_mutex_unlock(&m->lock);
    log_state(m, rc == 0 ? "mounted" : "mount failed", rc == 0 ? NULL : &fail);
    return s.conn;
}
