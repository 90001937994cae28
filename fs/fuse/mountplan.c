#include "mountplan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *mountplan_normalize(const char *path)
{
    return sfs_path_normalize(path);
}

bool mountplan_paths_nest(const char *a, const char *b)
{
    size_t an = strlen(a), bn = strlen(b);
    const char *shorter = an <= bn ? a : b, *longer = an <= bn ? b : a;
    size_t sn = an <= bn ? an : bn;
    if (strncmp(shorter, longer, sn) != 0)
        return false;
    /* Equal, below "/" (everything is), or the next byte starts a component. */
    return longer[sn] == '\0' || (sn == 1 && shorter[0] == '/') || longer[sn] == '/';
}

/* Where a mount point comes from, for messages. */
static void describe(const struct mountplan_point *p, char *out, size_t len)
{
    const struct sfs_map_entry *e = &p->map.entries[0];
    if (p->direct)
        snprintf(out, len, "direct map entry %s:%d", e->file, e->line);
    else
        snprintf(out, len, "indirect map %s", e->file);
}

static int append_entry(struct sfs_map *m, struct sfs_map_entry *e)
{
    struct sfs_map_entry *grown = realloc(m->entries, (m->n_entries + 1) * sizeof(*grown));
    if (!grown)
        return -ENOMEM;
    m->entries = grown;
    m->entries[m->n_entries++] = *e;
    memset(e, 0, sizeof(*e));
    return 0;
}

static struct mountplan_point *add_point(struct mountplan *plan, char *path, bool direct)
{
    struct mountplan_point *grown = realloc(plan->points, (plan->n + 1) * sizeof(*grown));
    if (!grown)
        return NULL;
    plan->points = grown;
    struct mountplan_point *p = &plan->points[plan->n++];
    memset(p, 0, sizeof(*p));
    p->path = path;
    p->direct = direct;
    return p;
}

static int check_nesting(const struct mountplan *plan, char *err, size_t errlen)
{
    for (size_t i = 0; i < plan->n; i++)
        for (size_t j = i + 1; j < plan->n; j++) {
            const struct mountplan_point *a = &plan->points[i], *b = &plan->points[j];
            if (!mountplan_paths_nest(a->path, b->path))
                continue;
            char da[320], db[320];
            describe(a, da, sizeof(da));
            describe(b, db, sizeof(db));
            if (strcmp(a->path, b->path) == 0) {
                snprintf(err, errlen, "mount point %s is given twice (%s; %s)", a->path, da, db);
            } else {
                bool a_outer = strlen(a->path) < strlen(b->path);
                snprintf(err, errlen, "mount points nest: %s (%s) is inside %s (%s)", a_outer ? b->path : a->path,
                         a_outer ? db : da, a_outer ? a->path : b->path, a_outer ? da : db);
            }
            return -EINVAL;
        }
    return 0;
}

int mountplan_build(struct sfs_map *map, struct mountplan *out, char *err, size_t errlen)
{
    int rc = 0;
    memset(out, 0, sizeof(*out));
    if (errlen)
        err[0] = '\0';
    for (size_t i = 0; i < map->n_entries && rc == 0; i++) {
        struct sfs_map_entry *e = &map->entries[i];
        bool direct = e->type == SFS_MAP_TYPE_DIRECT;
        const char *where = direct ? (e->mountpoint ? e->mountpoint : e->key) : e->root;
        if (!where) {
            snprintf(err, errlen, "indirect map without a mount point (%s): mount it with "
                     "'sharesfs MAP MOUNTPOINT', or name it in an auto_master", e->file);
            rc = -EINVAL;
            break;
        }
        if (where[0] != '/') {
            snprintf(err, errlen, "%s:%d: mount point '%s' is not an absolute path", e->file, e->line, where);
            rc = -EINVAL;
            break;
        }
        char *path = mountplan_normalize(where);
        if (!path) {
            rc = -ENOMEM;
            break;
        }
        struct mountplan_point *p = NULL;
        for (size_t k = 0; !direct && k < out->n; k++)
            if (!out->points[k].direct && strcmp(out->points[k].path, path) == 0)
                p = &out->points[k];
        if (p)
            free(path);
        else if (!(p = add_point(out, path, direct))) {
            free(path);
            rc = -ENOMEM;
            break;
        }
        rc = append_entry(&p->map, e);
    }
    /* Whatever was not moved (after an error) is freed with MAP's array. */
    for (size_t i = 0; i < map->n_entries; i++)
        sfs_map_entry_free(&map->entries[i]);
    free(map->entries);
    map->entries = NULL;
    map->n_entries = 0;
    if (rc == -ENOMEM)
        snprintf(err, errlen, "out of memory");
    if (rc == 0)
        rc = check_nesting(out, err, errlen);
    if (rc < 0)
        mountplan_free(out);
    return rc;
}

void mountplan_free(struct mountplan *plan)
{
    for (size_t i = 0; i < plan->n; i++) {
        free(plan->points[i].path);
        sfs_map_free(&plan->points[i].map);
    }
    free(plan->points);
    memset(plan, 0, sizeof(*plan));
}

/* Copies the mountinfo field at P (up to a blank or the line's end) into
 * OUT, undoing "\ooo" escapes.  Returns the end of the field. */
static const char *mountinfo_field(const char *p, char *out, size_t len)
{
    size_t o = 0;
    while (*p && *p != ' ' && *p != '\n') {
        char c = *p++;
        if (c == '\\' && p[0] >= '0' && p[0] <= '3' && p[1] >= '0' && p[1] <= '7' && p[2] >= '0' && p[2] <= '7') {
            c = (char)(((p[0] - '0') << 6) | ((p[1] - '0') << 3) | (p[2] - '0'));
            p += 3;
        }
        if (o + 1 < len)
            out[o++] = c;
    }
    if (len)
        out[o] = '\0';
    return p;
}

bool mountplan_mountinfo_has(const char *text, const char *path, const char *fstype)
{
    char field[4096];
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n');
        /* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER */
        const char *p = line;
        for (int skip = 0; skip < 4 && p && (!eol || p < eol); skip++) {
            p = strchr(p, ' ');
            if (p)
                p++;
        }
        if (p && (!eol || p < eol)) {
            mountinfo_field(p, field, sizeof(field));
            bool same = strcmp(field, path) == 0;
            const char *sep = strstr(p, " - ");
            if (same && sep && (!eol || sep < eol)) {
                mountinfo_field(sep + 3, field, sizeof(field));
                if (strcmp(field, fstype) == 0)
                    return true;
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    return false;
}
