/* A cell of the directory suite: the target's automount map read from its
 * LDAP server with the cell's client's bind (guest: anonymous; password:
 * the target's simple-bind account; kerberos: GSSAPI with the client's
 * ticket), through the same sfs_engine_map_load as afptest and sharesfs.
 * One result SOURCE.map per directory source (stage map, errno, the LDAP
 * result code's name), then every entry the directory gave probed to
 * `list` (KEY.list).  Result names keep letters, digits, '.', '-', '_';
 * anything else ('/', '+') becomes '_'. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>

#include "matrix.h"
#include "sharesfs/config.h"
#include "sharesfs/map.h"
#include "sharesfs/map_sources.h"
#include "sharesfs/probe.h"
#include "sharesfs/status.h"

#define MAX_ENTRIES 64   /* a cell probes at most this many entries */

int mx_directory_cell_deadline_ms(const struct mx_matrix *m)
{
    return (int)(m->timeout_s * 1000) * 4 + MAX_ENTRIES * mx_entry_deadline_ms(m) / 8 + 5000;
}

static char *result_name(const char *key, const char *stage)
{
    char *name = g_strdup_printf("%s.%s", key, stage);
    for (char *p = name; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-' && *p != '_')
            *p = '_';
    return name;
}

/* The client's config with the target's [directory] section added. */
static char *cell_config(const struct mx_cell *c, const struct mx_cell_env *env, char *why, size_t len)
{
    const struct mx_directory *d = c->target->directory;
    gchar *text = NULL;
    if (!g_file_get_contents(env->config, &text, NULL, NULL)) {
        snprintf(why, len, "cannot read %s", env->config);
        return NULL;
    }
    GString *g = g_string_new(text);
    g_free(text);
    const char *bind = c->client->auth == MX_AUTH_KERBEROS ? "gssapi"
                     : c->client->auth == MX_AUTH_PASSWORD && d->bind_dn ? "simple" : "anonymous";
    g_string_append_printf(g, "\n[directory]\nuri = %s\nbase = %s\nbind = %s\n", d->uri, d->base, bind);
    if (!strcmp(bind, "simple"))
        g_string_append_printf(g, "bind_dn = %s\npassword_file = %s\n", d->bind_dn, d->password_file);
    if (d->ca_file)
        g_string_append_printf(g, "ca_file = %s\n", d->ca_file);
    if (d->starttls)
        g_string_append(g, "starttls = true\n");
    char *path = g_strdup_printf("%s/cell%d-directory.conf", env->tmp, env->index);
    if (!g_file_set_contents(path, g->str, -1, NULL)) {
        snprintf(why, len, "cannot write %s", path);
        g_free(path);
        path = NULL;
    }
    g_string_free(g, TRUE);
    return path;
}

/* The map the target names: a file with "+auto_master" (or any map line),
 * or the ldap: map argument itself. */
static char *map_path(const struct mx_cell *c, const struct mx_cell_env *env)
{
    const char *map = c->target->directory->map;
    if (!g_ascii_strncasecmp(map, "ldap:", 5) || !g_ascii_strncasecmp(map, "ldaps:", 6))
        return g_strdup(map);
    /* Named auto_master, so "+auto_master" in it is macOS's include of the
     * directory's master map (a file including its own name). */
    char *dir = g_strdup_printf("%s/cell%d-directory", env->tmp, env->index);
    char *path = g_strdup_printf("%s/auto_master", dir);
    char *text = g_strdup_printf("%s\n", map);
    bool ok = (mkdir(dir, 0700) == 0 || errno == EEXIST) && g_file_set_contents(path, text, -1, NULL);
    g_free(dir);
    g_free(text);
    if (!ok) {
        g_free(path);
        return NULL;
    }
    return path;
}

static void send_source(int fd, const struct sfs_map_dirref *r)
{
    struct mx_wire w;
    char *name = result_name(r->label, "map"), code[96] = "", errno_buf[32];
    const struct sfs_status *st = &r->status;
    const char *status = NULL;
    if (st->err && st->domain == SFS_DOMAIN_LDAP)
        status = sfs_ldap_result_name((int)st->code);
    else if (st->err && st->domain == SFS_DOMAIN_KRB5)
        status = sfs_krb5_error_name(st->code);
    else if (st->err)
        sfs_status_code_text(st, code, sizeof(code));
    mx_wire_set(&w, name, st->err ? sfs_stage_name(st->stage) : "map",
                st->err ? mx_errno_name(st->err, errno_buf, sizeof(errno_buf)) : "ok",
                status ? status : code[0] ? code : NULL, st->err ? st->detail : NULL);
    snprintf(w.auth, sizeof(w.auth), "%s", r->auth);
    mx_wire_send(fd, &w);
    g_free(name);
}

void mx_directory_cell(const struct mx_matrix *m, const struct mx_cell *c, const struct mx_cell_env *env, int fd)
{
    char why[512] = "";
    if (!c->target->directory) {
        mx_wire_error(fd, "the directory suite needs a target with 'directory'; %s has none", c->target->name);
        return;
    }
    char *conf = cell_config(c, env, why, sizeof(why));
    char *path = conf ? map_path(c, env) : NULL;
    struct sfs_config *cfg = NULL;
    struct sfs_status st = {0};
    if (!conf || !path || sfs_config_load(conf, &cfg, &st) < 0) {
        mx_wire_error(fd, "the cell's directory config: %s", why[0] ? why : st.detail[0] ? st.detail : "no map");
        g_free(conf);
        g_free(path);
        return;
    }
    struct sfs_map map = {0};
    struct sfs_parse_error perr = {0};
    if (sfs_engine_map_load(path, NULL, cfg, &map, &perr) < 0) {
        char msg[768];
        sfs_parse_error_format(&perr, msg, sizeof(msg));
        mx_wire_error(fd, "the directory map: %s", msg);
    } else {
        for (size_t i = 0; i < map.n_dirrefs; i++)
            send_source(fd, &map.dirrefs[i]);
        struct sfs_probe_result *r = calloc(1, sizeof(*r));
        for (size_t i = 0; r && i < map.n_entries && i < MAX_ENTRIES; i++) {
            const struct sfs_map_entry *e = &map.entries[i];
            if (e->wildcard || !e->dirref)
                continue;
            struct sfs_probe_options po = {.skip_read = true};
            struct mx_wire w;
            memset(r, 0, sizeof(*r));
            mx_probe_one(e, cfg, &po, mx_entry_deadline_ms(m), r);
            char *name = result_name(e->mountpoint ? e->mountpoint : e->key, "list");
            mx_wire_from_probe(NULL, name, r, &w);
            g_free(name);
            if (!mx_wire_send(fd, &w))
                break;
        }
        free(r);
    }
    sfs_map_free(&map);
    sfs_config_free(cfg);
    g_free(conf);
    g_free(path);
}
