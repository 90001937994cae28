#include "status_file.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void append_json_string(GString *s, const char *v)
{
    if (!v) {
        g_string_append(s, "null");
        return;
    }
    g_string_append_c(s, '"');
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\')
            g_string_append_printf(s, "\\%c", *p);
        else if (*p < 0x20)
            g_string_append_printf(s, "\\u%04x", *p);
        else
            g_string_append_c(s, (char)*p);
    }
    g_string_append_c(s, '"');
}

static void append_time(GString *s, time_t t)
{
    if (!t) {
        g_string_append(s, "null");
        return;
    }
    char buf[32];
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    append_json_string(s, buf);
}

static void append_error(GString *s, const struct sfs_status *e, time_t at)
{
    char code[96];
    sfs_status_code_text(e, code, sizeof(code));
    g_string_append(s, "{\"stage\":");
    append_json_string(s, sfs_stage_name(e->stage));
    g_string_append_printf(s, ",\"errno\":%d,\"errno_name\":", e->err);
    append_json_string(s, sfs_errno_name(e->err));
    g_string_append(s, ",\"status\":");
    append_json_string(s, code[0] ? code : NULL);
    g_string_append(s, ",\"detail\":");
    append_json_string(s, e->detail);
    g_string_append(s, ",\"macos\":");
    append_json_string(s, sfs_macos_equivalent(e));
    g_string_append(s, ",\"at\":");
    append_time(s, at);
    g_string_append(s, "}");
}

/* "map": where the keys come from, when the map was last read, and each
 * directory source's state (ok, or failed and serving its last good
 * entries).  Caller holds the table's lock. */
static void append_map(GString *s, const struct mount_table *t, const struct map_refresh *r)
{
    g_string_append(s, ",\"map\":{\"path\":");
    append_json_string(s, r->path);
    g_string_append(s, ",\"read_at\":");
    append_time(s, r->read_at);
    g_string_append(s, ",\"good_at\":");
    append_time(s, r->good_at);
    g_string_append_printf(s, ",\"reads\":%" G_GUINT64_FORMAT ",\"failed_reads\":%" G_GUINT64_FORMAT
                              ",\"refresh_s\":%d,\"added\":%zu,\"removed\":%zu,\"error\":",
                           (guint64)r->reads, (guint64)r->failed_reads, r->interval_s, r->added, r->removed);
    append_json_string(s, r->error[0] ? r->error : NULL);
    g_string_append(s, ",\"sources\":[");
    size_t shown = 0;
    for (size_t i = 0; i < t->map.n_dirrefs; i++) {
        const struct sfs_map_dirref *d = &t->map.dirrefs[i];
        if (d->kind != SFS_DIRREF_MASTER && d->kind != SFS_DIRREF_TOP && d->root && strcmp(d->root, r->root) != 0)
            continue;
        g_string_append(s, shown++ ? ",\n    " : "\n    ");
        g_string_append(s, "{\"source\":");
        append_json_string(s, d->label);
        g_string_append(s, ",\"where\":");
        append_json_string(s, d->where);
        g_string_append(s, ",\"server\":");
        append_json_string(s, d->server[0] ? d->server : NULL);
        g_string_append(s, ",\"auth\":");
        append_json_string(s, d->auth[0] ? d->auth : NULL);
        g_string_append(s, ",\"state\":");
        append_json_string(s, !d->status.err ? "ok" : d->last_good ? "last_good" : "failed");
        g_string_append_printf(s, ",\"records\":%zu,\"entries\":%zu,\"good_at\":", d->n_records, d->n_entries);
        append_time(s, d->status.err ? (time_t)d->good_at : r->read_at);
        g_string_append(s, ",\"error\":");
        if (d->status.err)
            append_error(s, &d->status, r->read_at);
        else
            g_string_append(s, "null");
        g_string_append(s, "}");
    }
    g_string_append(s, "]}");
}

static void append_mount(GString *s, struct mount *m)
{
    pthread_mutex_lock(&m->lock);
    g_string_append(s, "{\"key\":");
    append_json_string(s, m->entry.key);
    if (m->is_session) {
        g_string_append_printf(s, ",\"uid\":%u,\"user\":", (unsigned)m->uid);
        append_json_string(s, m->user);
    }
    g_string_append(s, ",\"source\":");
    append_json_string(s, m->entry.file);
    if (m->removed)
        g_string_append(s, ",\"removed\":true");
    g_string_append(s, ",\"mountpoint\":");
    append_json_string(s, m->entry.mountpoint);
    g_string_append(s, ",\"url\":");
    append_json_string(s, m->url_display);
    g_string_append(s, ",\"state\":");
    bool lost = m->state == MOUNT_UP && m->ops && m->ops->alive && !m->ops->alive(m->conn);
    /* "lost": the server ended the session; the next access reconnects. */
    append_json_string(s, lost ? "lost" : mount_state_name(m->state));
    g_string_append(s, ",\"auth\":");
    append_json_string(s, m->auth);
    g_string_append(s, ",\"server\":{\"address\":");
    append_json_string(s, m->server_address);
    g_string_append(s, ",\"dialect\":");
    append_json_string(s, m->server_dialect);
    g_string_append(s, "},\"connected_at\":");
    append_time(s, m->state == MOUNT_UP ? m->connected_at : 0);
    g_string_append(s, ",\"last_error\":");
    if (m->last_error && m->last_error->err) {
        append_error(s, m->last_error, m->last_error_at);
    } else {
        g_string_append(s, "null");
    }
    struct sfs_conn_stats cs = {0};
    if (m->state == MOUNT_UP && m->ops && m->ops->stats)
        m->ops->stats(m->conn, &cs);
    g_string_append_printf(s,
                           ",\"counters\":{\"connects\":%" G_GUINT64_FORMAT ",\"failures\":%" G_GUINT64_FORMAT
                           ",\"opens\":%" G_GUINT64_FORMAT ",\"bytes_read\":%" G_GUINT64_FORMAT
                           ",\"reconnects\":%" G_GUINT64_FORMAT
                           ",\"requests\":%" G_GUINT64_FORMAT ",\"max_in_flight\":%u"
                           ",\"readahead\":{\"hits\":%" G_GUINT64_FORMAT ",\"misses\":%" G_GUINT64_FORMAT
                           ",\"fetches\":%" G_GUINT64_FORMAT "}}}",
                           m->connects, m->failures, m->opens, m->bytes_read, (guint64)cs.reconnects,
                           (guint64)cs.requests,
                           cs.max_in_flight, (guint64)cs.readahead_hits, (guint64)cs.readahead_misses,
                           (guint64)cs.readahead_fetches);
    pthread_mutex_unlock(&m->lock);
}

struct render {
    GString *s;
    size_t shown;
    uid_t viewer;
    bool multiuser;
};

static void render_one(void *arg, struct mount *m)
{
    struct render *r = arg;
    /* A removed key is shown while files opened on it are still open. */
    if (m->removed && m->open_files == 0)
        return;
    if (r->multiuser && !m->is_session) {
        /* The key itself: shown once, when the viewer has no session on it yet. */
        bool own = false;
        pthread_mutex_lock(&m->lock);
        for (guint i = 0; m->sessions && i < m->sessions->len; i++)
            own |= ((struct mount *)m->sessions->pdata[i])->uid == r->viewer;
        pthread_mutex_unlock(&m->lock);
        if (own && r->viewer != 0)
            return;
        if (r->viewer == 0 && m->sessions && m->sessions->len)
            return;
    }
    if (r->multiuser && m->is_session && r->viewer != 0 && m->uid != r->viewer)
        return;   /* another user's session: theirs alone (root sees all) */
    g_string_append(r->s, r->shown++ ? ",\n  " : "\n  ");
    append_mount(r->s, m);
}

char *status_json_render(struct mount_table *t, const struct map_refresh *r, uid_t viewer, size_t *len)
{
    GString *s = g_string_new("{\"schema\":\"sharesfs.status/1\",\"root\":");
    append_json_string(s, t->root);
    g_string_append(s, ",\"generated\":");
    append_time(s, time(NULL));
    g_string_append_printf(s, ",\"multiuser\":%s,\"mounts\":[", t->multiuser ? "true" : "false");
    struct render rd = {.s = s, .viewer = viewer, .multiuser = t->multiuser};
    mounts_for_each(t, render_one, &rd);
    g_string_append(s, "\n]");
    pthread_mutex_lock(&t->lock);
    if (r && r->path)
        append_map(s, t, r);
    pthread_mutex_unlock(&t->lock);
    g_string_append(s, "}\n");
    *len = s->len;
    return g_string_free(s, FALSE);
}

char *status_json_render_one(struct mount *m, size_t *len)
{
    GString *s = g_string_new(NULL);
    append_mount(s, m);
    g_string_append_c(s, '\n');
    *len = s->len;
    return g_string_free(s, FALSE);
}
