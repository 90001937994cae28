/* A cell of the seed suite: the seed scenario of docs/kerberos.md (the map
 * contrib/maps/auto_krb, tests/integration/expected/krb5-seed.tsv) against
 * the cell's target, with the cell's client's ticket (or none).  Per row,
 * ROW.read is the probe of the entry (stage, errno, status, auth, server,
 * as the probe suite) and ROW.ls is `ls` of the key through a sharesfs
 * mount of the same map (ok or the errno name). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "matrix.h"
#include "sharesfs/config.h"
#include "sharesfs/map.h"
#include "sharesfs/probe.h"
#include "sharesfs/status.h"

#define MOUNT_WAIT_MS 10000

const char *const mx_seed_rows[] = {"Groups", "Attic", "Multimedia", NULL};

char *mx_seed_map_text(const char *host)
{
    /* No UAM named (the client chooses), guest, Kerberos. */
    return g_strdup_printf("# the seed scenario (docs/kerberos.md)\n"
                           "Groups\t-fstype=url\tafp://%s/Groups\n"
                           "Attic\t-fstype=url\tafp://;AUTH=No%%20User%%20Authent@%s/Attic\n"
                           "Multimedia\t-fstype=url\tafp://;AUTH=Client%%20Krb%%20v2@%s/Multimedia\n",
                           host, host, host);
}

int mx_seed_cell_deadline_ms(const struct mx_matrix *m)
{
    return MOUNT_WAIT_MS + 2 * 3 * mx_entry_deadline_ms(m);
}

struct ls_job {
    const char *mnt;
};

static void ls_all(void *arg, int fd)
{
    const struct ls_job *j = arg;
    for (const char *const *row = mx_seed_rows; *row; row++) {
        char *p = g_build_filename(j->mnt, *row, NULL), name[64], buf[32];
        snprintf(name, sizeof(name), "%s.ls", *row);
        DIR *d = opendir(p);
        int err = d ? 0 : errno;
        if (d) {
            errno = 0;
            while (readdir(d))
                ;
            err = errno;
            closedir(d);
        }
        struct mx_wire w;
        mx_wire_set(&w, name, "ls", err ? mx_errno_name(err, buf, sizeof(buf)) : "ok", NULL,
                    err ? g_strerror(err) : NULL);
        mx_wire_send(fd, &w);
        g_free(p);
    }
}

static void probe_rows(const struct mx_matrix *m, const struct mx_cell *c, const struct mx_cell_env *env,
                       const char *text, int fd)
{
    struct sfs_map map = {0};
    struct sfs_parse_error perr = {0};
    if (sfs_map_parse_text(text, c->id, "/Network/Shares", &map, &perr) < 0) {
        char msg[768];
        sfs_parse_error_format(&perr, msg, sizeof(msg));
        mx_wire_error(fd, "the seed map: %s", msg);
        return;
    }
    struct sfs_config *cfg = NULL;
    struct sfs_status st = {0};
    if (sfs_config_load(env->config, &cfg, &st) < 0) {
        mx_wire_error(fd, "the cell's config: %s", st.detail);
        sfs_map_free(&map);
        return;
    }
    struct sfs_probe_result *r = calloc(1, sizeof(*r));
    for (size_t i = 0; r && i < map.n_entries; i++) {
        struct sfs_probe_options po = {0};
        char name[300];
        struct mx_wire w;
        memset(r, 0, sizeof(*r));
        mx_probe_one(&map.entries[i], cfg, &po, mx_entry_deadline_ms(m), r);
        snprintf(name, sizeof(name), "%s.read", map.entries[i].key);
        mx_wire_from_probe(NULL, name, r, &w);
        mx_wire_send(fd, &w);
    }
    free(r);
    sfs_config_free(cfg);
    sfs_map_free(&map);
}

void mx_seed_cell(const struct mx_matrix *m, const struct mx_cell *c, const struct mx_cell_env *env, int fd)
{
    bool afp = false;
    for (guint i = 0; i < c->target->shares->len; i++)
        afp |= ((struct mx_share *)c->target->shares->pdata[i])->proto == MX_PROTO_AFP;
    if (!afp) {
        mx_wire_error(fd, "the seed suite needs an AFP target (its map is AFP); %s lists no afp shares",
                      c->target->name);
        return;
    }
    char *text = mx_seed_map_text(c->target->host);
    probe_rows(m, c, env, text, fd);
    char *map = g_strdup_printf("%s/cell%d.map", env->tmp, env->index);
    char *mnt = g_strdup_printf("%s/cell%d.mnt", env->tmp, env->index);
    GError *gerr = NULL;
    struct mx_mount mt;
    char why[512] = "";
    if (!g_file_set_contents(map, text, -1, &gerr)) {
        mx_wire_error(fd, "the seed map: %s", gerr->message);
        g_error_free(gerr);
    } else if (!mx_mount_start(&mt, map, env->config, m->timeout_s, mnt, MOUNT_WAIT_MS, why, sizeof(why))) {
        mx_mount_stop(&mt);
        mx_wire_error(fd, "sharesfs: %s", why);
    } else {
        struct ls_job j = {.mnt = mnt};
        GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        int deadline = 3 * mx_entry_deadline_ms(m);
        char cwhy[128], detail[160];
        int rc = mx_run_child(ls_all, &j, fd, deadline, seen, cwhy, sizeof(cwhy));
        snprintf(detail, sizeof(detail), "ls: %s", cwhy);
        for (const char *const *row = mx_seed_rows; *row; row++) {
            char name[64];
            snprintf(name, sizeof(name), "%s.ls", *row);
            if (g_hash_table_contains(seen, name))
                continue;
            struct mx_wire w;
            mx_wire_set(&w, name, "ls", rc == MX_CHILD_KILLED ? "ETIMEDOUT" : "EIO", NULL, detail);
            mx_wire_send(fd, &w);
        }
        g_hash_table_destroy(seen);
        mx_mount_stop(&mt);
    }
    unlink(map);
    g_free(map);
    g_free(mnt);
    g_free(text);
}
