/* A cell of the fuse suite, in the cell's process: the cell's map mounted
 * with sharesfs at a mount point of the run, the checks of fuse_checks.c
 * run per entry in a child process that is killed at the cell's deadline
 * (checks it did not get to are ETIMEDOUT), the mount always taken down. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "matrix.h"
#include "sharesfs/status.h"

#define MOUNT_WAIT_MS 10000

struct job {
    const struct mx_cell *c;
    const char *mnt;
    char *run_dir;
};

static bool writes(const struct mx_cell *c, const struct mx_share *s)
{
    return s->write && c->client->auth != MX_AUTH_GUEST;
}

int mx_fuse_cell_deadline_ms(const struct mx_matrix *m, const struct mx_cell *c)
{
    /* The mount, each entry's connect (every stage's timeout), 20 s of
     * checks per entry. */
    return MOUNT_WAIT_MS + (mx_entry_deadline_ms(m) + 20000) * (int)c->target->shares->len;
}

static void check_all(void *arg, int fd)
{
    const struct job *j = arg;
    for (guint i = 0; i < j->c->target->shares->len; i++) {
        const struct mx_share *s = j->c->target->shares->pdata[i];
        char *root = g_build_filename(j->mnt, s->name, NULL);
        struct mx_fuse_entry e = {.entry = s->name, .root = root, .read = s->read, .write = writes(j->c, s),
                                  .run_dir = j->run_dir};
        mx_fuse_check_entry(&e, fd);
        g_free(root);
    }
}

/* Every check the child did not report: ETIMEDOUT (or the mount's failure). */
static void fill_missing(const struct mx_cell *c, GHashTable *seen, const char *result, const char *detail, int fd)
{
    for (guint i = 0; i < c->target->shares->len; i++) {
        const struct mx_share *s = c->target->shares->pdata[i];
        for (const char *const *k = mx_fuse_checks_of(writes(c, s)); *k; k++) {
            char name[200];
            snprintf(name, sizeof(name), "%s.%s", s->name, *k);
            if (g_hash_table_contains(seen, name))
                continue;
            struct mx_wire w;
            mx_wire_set(&w, name, *k, result, NULL, detail);
            mx_wire_send(fd, &w);
        }
    }
}

void mx_fuse_cell(const struct mx_matrix *m, const struct mx_cell *c, const struct mx_cell_env *env, int fd)
{
    char *text = mx_cell_map_text(m, c);
    char *map = g_strdup_printf("%s/cell%d.map", env->tmp, env->index);
    char *mnt = g_strdup_printf("%s/cell%d.mnt", env->tmp, env->index);
    GError *gerr = NULL;
    if (!g_file_set_contents(map, text, -1, &gerr)) {
        mx_wire_error(fd, "the cell's map: %s", gerr->message);
        g_error_free(gerr);
        goto out;
    }
    struct mx_mount mt;
    char mwhy[512] = "";
    if (!mx_mount_start(&mt, map, env->config, m->timeout_s, mnt, MOUNT_WAIT_MS, mwhy, sizeof(mwhy))) {
        mx_mount_stop(&mt);
        mx_wire_error(fd, "sharesfs: %s", mwhy);
        goto out;
    }
    struct job j = {.c = c, .mnt = mnt, .run_dir = g_strdup_printf(".sfs-matrix-%d", (int)getpid())};
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    int deadline = mx_fuse_cell_deadline_ms(m, c) - MOUNT_WAIT_MS;
    char why[128], detail[160];
    int rc = mx_run_child(check_all, &j, fd, deadline, seen, why, sizeof(why));
    snprintf(detail, sizeof(detail), "the checks: %s", why);
    fill_missing(c, seen, rc == MX_CHILD_KILLED ? "ETIMEDOUT" : "EIO", detail, fd);
    mx_mount_stop(&mt);
    g_hash_table_destroy(seen);
    g_free(j.run_dir);
out:
    unlink(map);
    g_free(text);
    g_free(map);
    g_free(mnt);
}
