/* Directory sources of a map: which server and base each reference asks,
 * one fetch per (server, base), and the merge (model). */
#include "sharesfs/map_sources.h"

#include <errno.h>
#include <stdbool.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sharesfs/directory.h"
#include "sharesfs/map_directory.h"

/* The settings of [directory], read once per load. */
struct dir_settings {
    char *uri, *base, *bind, *bind_dn, *password_file, *starttls, *ca_file, *ccache, *schema, *timeout;
};

static void settings_load(struct dir_settings *s, const struct sfs_config *cfg)
{
    s->uri = sfs_config_directory_string(cfg, "uri");
    s->base = sfs_config_directory_string(cfg, "base");
    s->bind = sfs_config_directory_string(cfg, "bind");
    s->bind_dn = sfs_config_directory_string(cfg, "bind_dn");
    s->password_file = sfs_config_directory_string(cfg, "password_file");
    s->starttls = sfs_config_directory_string(cfg, "starttls");
    s->ca_file = sfs_config_directory_string(cfg, "ca_file");
    s->ccache = sfs_config_directory_string(cfg, "krb5_ccache");
    s->schema = sfs_config_directory_string(cfg, "schema");
    s->timeout = sfs_config_directory_string(cfg, "timeout");
}

static void settings_free(struct dir_settings *s)
{
    free(s->uri);
    free(s->base);
    free(s->bind);
    free(s->bind_dn);
    free(s->password_file);
    free(s->starttls);
    free(s->ca_file);
    free(s->ccache);
    free(s->schema);
    free(s->timeout);
}

/* The naming context of a DN: its trailing dc= components
 * ("ou=automount,dc=lab,dc=test" -> "dc=lab,dc=test"); without any, its
 * parent; the DN itself at the top. */
static char *dn_context(const char *dn)
{
    const char *ctx = NULL, *parent = NULL, *rdn = dn;
    for (const char *p = dn;; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            continue;
        }
        if (*p != ',' && *p != '\0')
            continue;
        bool dc = g_ascii_strncasecmp(rdn + strspn(rdn, " "), "dc=", 3) == 0;
        if (dc && !ctx)
            ctx = rdn;
        else if (!dc)
            ctx = NULL;
        if (*p == '\0')
            break;
        rdn = p + 1;
        if (!parent)
            parent = rdn;
    }
    const char *out = ctx ? ctx : parent ? parent : dn;
    return g_strdup(out + strspn(out, " "));
}

/* Where REF is searched.  A master (named by DN, or the map argument) is
 * searched in its whole naming context, so the maps it names, by name or
 * by DN, are found with it. */
static char *search_base(const struct sfs_map_dirref *ref, const struct dir_settings *s)
{
    if (!ref->base)
        return s->base ? g_strdup(s->base) : NULL;
    if (ref->kind == SFS_DIRREF_MASTER || ref->kind == SFS_DIRREF_TOP)
        return dn_context(ref->base);
    return g_strdup(ref->base);
}

struct fetched {
    char *key;                    /* uri \037 base */
    struct sfs_dir_records recs;
    struct sfs_status status;
    struct sfs_dir_fetch_info info;
    char auth[48];
    int rc;
};

static void fetched_free(gpointer p)
{
    struct fetched *f = p;
    g_free(f->key);
    sfs_dir_records_free(&f->recs);
    g_free(f);
}

static int config_error(struct sfs_map_dirref *ref, const char *what)
{
    return sfs_status_set(&ref->status, SFS_STAGE_MAP, EINVAL, SFS_DOMAIN_CONFIG, 0,
                          "%s (%s): no %s for the directory: set %s in [directory] of sharesfs.conf", ref->label,
                          ref->where, what, strcmp(what, "server") == 0 ? "uri" : "base");
}

/* The fetch for URI and BASE, done once per load. */
static struct fetched *fetch_once(GHashTable *done, const struct dir_settings *s, const struct sfs_config *cfg,
                                  const char *uri, const char *base)
{
    char *key = g_strdup_printf("%s\037%s", uri, base);
    struct fetched *f = g_hash_table_lookup(done, key);
    if (f) {
        g_free(key);
        return f;
    }
    f = g_new0(struct fetched, 1);
    f->key = key;
    g_hash_table_insert(done, f->key, f);

    struct sfs_dir_server srv = {.uri = uri, .base = base, .bind_dn = s->bind_dn,
                                 .password_file = s->password_file, .ca_file = s->ca_file,
                                 .krb5_ccache = s->ccache, .timeout_ms = cfg ? sfs_config_timeout_ms(cfg) : 10000};
    if (s->timeout)
        srv.timeout_ms = (int)(g_ascii_strtod(s->timeout, NULL) * 1000);
    srv.starttls = s->starttls && (g_ascii_strcasecmp(s->starttls, "true") == 0 ||
                                   g_ascii_strcasecmp(s->starttls, "yes") == 0 || strcmp(s->starttls, "1") == 0);
    if (s->bind)
        sfs_dir_bind_from_name(s->bind, &srv.bind);
    else if (s->bind_dn)
        srv.bind = SFS_DIR_BIND_SIMPLE;
    f->rc = sfs_dir_fetch(&srv, &f->recs, &f->info, &f->status);
    bool tls = srv.starttls || g_ascii_strncasecmp(uri, "ldaps:", 6) == 0;
    snprintf(f->auth, sizeof(f->auth), "%s%s", sfs_dir_bind_name(srv.bind),
             tls ? (srv.starttls ? "+starttls" : "+ldaps") : "");
    return f;
}

static void resolve_one(struct sfs_map *map, size_t i, GHashTable *done, const struct dir_settings *s,
                        const struct sfs_config *cfg, enum sfs_dir_schema schema)
{
    struct sfs_map_dirref *ref = &map->dirrefs[i];
    const char *uri = ref->uri ? ref->uri : s->uri;
    char *base = search_base(ref, s);
    ref->resolved = true;
    sfs_status_clear(&ref->status);
    if (!uri || !base) {
        config_error(ref, !uri ? "server" : "search base");
        g_free(base);
        return;
    }
    struct fetched *f = fetch_once(done, s, cfg, uri, base);
    g_free(base);
    snprintf(ref->server, sizeof(ref->server), "%s", f->info.uri[0] ? f->info.uri : uri);
    ref->n_records = f->info.n_records;
    snprintf(ref->auth, sizeof(ref->auth), "%s", f->auth);
    ref->ms = f->info.ms_connect + f->info.ms_bind + f->info.ms_search;
    if (f->rc < 0) {
        ref->status = f->status;
        return;
    }
    struct sfs_parse_error perr;
    int rc = sfs_map_add_directory(map, i, &f->recs, schema, &perr);
    ref = &map->dirrefs[i];
    if (rc < 0) {
        char msg[sizeof(ref->status.detail)];
        sfs_parse_error_format(&perr, msg, sizeof(msg));
        sfs_status_set(&ref->status, SFS_STAGE_MAP, -rc, SFS_DOMAIN_MAP, 0, "%s on %s: %s", ref->label, ref->server,
                       msg);
    }
}

int sfs_engine_map_load(const char *path, const char *root, const struct sfs_config *cfg, struct sfs_map *out,
                        struct sfs_parse_error *err)
{
    int rc = sfs_map_load(path, root, out, err);
    if (rc < 0 || out->n_dirrefs == 0)
        return rc;
    struct dir_settings s = {0};
    settings_load(&s, cfg);
    enum sfs_dir_schema schema = SFS_DIR_SCHEMA_AUTO;
    if (s.schema)
        sfs_dir_schema_from_name(s.schema, &schema);
    GHashTable *done = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, fetched_free);
    for (size_t i = 0; i < out->n_dirrefs; i++)
        resolve_one(out, i, done, &s, cfg, schema);
    g_hash_table_destroy(done);
    settings_free(&s);
    return 0;
}

size_t sfs_map_failed_sources(const struct sfs_map *map)
{
    size_t n = 0;
    for (size_t i = 0; i < map->n_dirrefs; i++)
        n += map->dirrefs[i].resolved && map->dirrefs[i].status.err != 0;
    return n;
}
