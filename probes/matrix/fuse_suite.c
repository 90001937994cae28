/* A cell of the fuse suite, in the cell's process: the cell's map mounted
 * with sharesfs at a mount point of the run, the checks of fuse_checks.c
 * run per entry in a child process that is killed at the cell's deadline
 * (checks it did not get to are ETIMEDOUT), the mount always taken down. */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "matrix.h"
#include "sharesfs/status.h"

#define MOUNT_WAIT_MS 10000

struct job {
    const struct mx_cell *c;
    const char *mnt;
    char *run_dir;
    long uid;            /* > 0: the checks run as this user (a multi-user client) */
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
    if (j->uid > 0 && (setgroups(0, NULL) < 0 || setresgid((gid_t)j->uid, (gid_t)j->uid, (gid_t)j->uid) < 0 ||
                       setresuid((uid_t)j->uid, (uid_t)j->uid, (uid_t)j->uid) < 0)) {
        mx_wire_error(fd, "cannot become uid %ld for the checks: %s", j->uid, g_strerror(errno));
        return;
    }
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

/* A multi-user client: its credentials file copied to one of its uid
 * (sharesfs takes only a user's own file for that user's session), its
 * ccache given to the uid, the run's directory open to it.  The map then
 * names the copy.  Returns the new map text, or NULL with *WHY. */
static char *multiuser_setup(const struct mx_cell *c, const struct mx_cell_env *env, char *text, char *why,
                             size_t len)
{
    uid_t uid = (uid_t)c->client->uid;
    if (chmod(env->tmp, 0711) < 0) {
        snprintf(why, len, "chmod %s: %s", env->tmp, g_strerror(errno));
        return NULL;
    }
    const char *cc = getenv("KRB5CCNAME");
    if (cc && !strncmp(cc, "FILE:", 5) && access(cc + 5, F_OK) == 0 && chown(cc + 5, uid, uid) < 0) {
        snprintf(why, len, "chown %s: %s", cc + 5, g_strerror(errno));
        return NULL;
    }
    if (!c->client->credentials)
        return text;
    gchar *data = NULL;
    gsize n = 0;
    char *copy = g_strdup_printf("%s/cell%d.cred", env->tmp, env->index);
    if (!g_file_get_contents(c->client->credentials, &data, &n, NULL) ||
        !g_file_set_contents(copy, data, (gssize)n, NULL) || chmod(copy, 0600) < 0 || chown(copy, uid, uid) < 0) {
        snprintf(why, len, "cannot copy %s for uid %u", c->client->credentials, (unsigned)uid);
        g_free(data);
        g_free(copy);
        return NULL;
    }
    g_free(data);
    char *from = g_strdup_printf("credentials=%s", c->client->credentials);
    char *to = g_strdup_printf("credentials=%s", copy);
    char **parts = g_strsplit(text, from, -1);
    char *out = g_strjoinv(to, parts);
    g_strfreev(parts);
    g_free(from);
    g_free(to);
    g_free(copy);
    g_free(text);
    return out;
}

void mx_fuse_cell(const struct mx_matrix *m, const struct mx_cell *c, const struct mx_cell_env *env, int fd)
{
    char *text = mx_cell_map_text(m, c);
    char mu_why[512] = "";
    if (c->client->uid > 0 && text && !(text = multiuser_setup(c, env, text, mu_why, sizeof(mu_why)))) {
        mx_wire_error(fd, "multi-user client: %s", mu_why);
        return;
    }
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
    if (!mx_mount_start_opts(&mt, map, env->config, m->timeout_s, c->client->uid > 0 ? "allow_other" : NULL, mnt,
                             MOUNT_WAIT_MS, mwhy, sizeof(mwhy))) {
        mx_mount_stop(&mt);
        mx_wire_error(fd, "sharesfs: %s", mwhy);
        goto out;
    }
    struct job j = {.c = c, .mnt = mnt, .run_dir = g_strdup_printf(".sfs-matrix-%d", (int)getpid()),
                    .uid = c->client->uid};
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
