/* Sessions shared between probed entries (sfs_probe_options.share_sessions).
 * Two entries share only when everything that decides their login is the
 * same text: the location as written (host, port, share, path, user,
 * password, UAM) and every mount option.  The prober's config is the
 * same for all of them, so their targets are too. */
#include "probe_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct probe_kept_session kept;

/* Length-prefixed, so no value can be read as the next one. */
static void id_field(FILE *f, const char *s)
{
    fprintf(f, "%zu:%s\n", s ? strlen(s) : (size_t)0, s ? s : "");
}

char *sfs_engine_probe_session_id(const struct sfs_map_entry *e)
{
    if (!e->url_ok || e->wildcard || !e->location)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    const struct sfs_mount_options *o = &e->opts;
    fprintf(f, "%s\n", sfs_proto_name(e->url.proto));
    id_field(f, e->location);
    id_field(f, o->fstype);
    fprintf(f, "%d%d%d%d\n", o->nobrowse, o->ro, o->guest, o->has_password);
    id_field(f, o->sec);
    id_field(f, o->credentials);
    id_field(f, o->vers);
    id_field(f, o->username);
    id_field(f, o->domain);
    id_field(f, o->password);
    for (char **p = o->other; p && *p; p++)
        id_field(f, *p);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

void sfs_engine_probe_session_id_free(char *id)
{
    if (!id)
        return;
    explicit_bzero(id, strlen(id));
    free(id);
}

void sfs_probe_sessions_close(void)
{
    if (!kept.id)
        return;
    sfs_session_close(&kept.s);
    sfs_engine_probe_session_id_free(kept.id);
    memset(&kept, 0, sizeof(kept));
}

struct probe_kept_session *probe_session_for(const char *id, const char **gone)
{
    if (!kept.id)
        return NULL;
    bool same = id && strcmp(kept.id, id) == 0;
    if (same && kept.s.ops->alive && !kept.s.ops->alive(kept.s.conn)) {
        *gone = "the connection was closed before this entry";
        same = false;
    }
    if (!same)
        sfs_probe_sessions_close();
    return same ? &kept : NULL;
}

void probe_session_keep(char *id, struct sfs_session *s, const struct sfs_probe_result *r)
{
    sfs_probe_sessions_close();
    kept.id = id;
    kept.s = *s;
    s->conn = NULL;
    kept.server = r->server;
    snprintf(kept.auth, sizeof(kept.auth), "%s", r->auth);
    snprintf(kept.owner, sizeof(kept.owner), "%s", r->key);
}

uint64_t probe_session_relogins(const struct probe_kept_session *k)
{
    struct sfs_conn_stats cs = {0};
    if (k->s.ops->stats)
        k->s.ops->stats(k->s.conn, &cs);
    return cs.reconnects;
}
