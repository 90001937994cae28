/* Automount maps from directory records (docs/map-formats.md, "Directory
 * records"): Open Directory mount records (macOS -fstab and -static),
 * automount maps in the rfc2307bis, older autofs and RFC 2307 NIS schemas,
 * and master maps that name them.  The text of every record goes through
 * the map line parser (sfs_map_add_item), so an entry from the directory is
 * the entry the same text would give in a file.  Pure: the records come
 * from an LDAP search or from LDIF (ldif.c). */
#include "sharesfs/map_directory.h"

#include "sharesfs/text.h"

#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DIR_ECHO 64                     /* longest key or name quoted in a message */
#define FSTAB_ROOT "/Network/Servers"   /* macOS auto_master: /Network/Servers -fstab */

/* ======================================================================
 * Records
 * ==================================================================== */

/* Arrays grow to 4, 8, 16...: a new slot is needed when N is 0 or a power
 * of two from 4 on. */
static bool grow(void **v, size_t n, size_t size)
{
    if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
        return true;
    size_t cap = n < 4 ? 4 : n * 2;
    void *nv = realloc(*v, cap * size);
    if (!nv)
        return false;
    *v = nv;
    return true;
}

struct sfs_dir_record *sfs_dir_records_add(struct sfs_dir_records *recs, const char *dn)
{
    void *v = recs->records;
    if (!dn || !grow(&v, recs->n_records, sizeof(*recs->records)))
        return NULL;
    recs->records = v;
    struct sfs_dir_record *r = &recs->records[recs->n_records];
    memset(r, 0, sizeof(*r));
    if (!(r->dn = strdup(dn)))
        return NULL;
    recs->n_records++;
    return r;
}

const struct sfs_dir_attr *sfs_dir_record_attr(const struct sfs_dir_record *rec, const char *name)
{
    for (size_t i = 0; rec && i < rec->n_attrs; i++)
        if (strcasecmp(rec->attrs[i].name, name) == 0)
            return &rec->attrs[i];
    return NULL;
}

int sfs_dir_record_add_value(struct sfs_dir_record *rec, const char *attr, const char *value)
{
    struct sfs_dir_attr *a = (struct sfs_dir_attr *)sfs_dir_record_attr(rec, attr);
    if (!a) {
        void *v = rec->attrs;
        if (!grow(&v, rec->n_attrs, sizeof(*rec->attrs)))
            return -ENOMEM;
        rec->attrs = v;
        a = &rec->attrs[rec->n_attrs];
        memset(a, 0, sizeof(*a));
        if (!(a->name = strdup(attr)))
            return -ENOMEM;
        rec->n_attrs++;
    }
    void *v = a->values;
    if (!grow(&v, a->n_values, sizeof(*a->values)))
        return -ENOMEM;
    a->values = v;
    if (!(a->values[a->n_values] = strdup(value)))
        return -ENOMEM;
    a->n_values++;
    return 0;
}

void sfs_dir_records_free(struct sfs_dir_records *recs)
{
    if (!recs)
        return;
    for (size_t i = 0; i < recs->n_records; i++) {
        struct sfs_dir_record *r = &recs->records[i];
        for (size_t j = 0; j < r->n_attrs; j++) {
            for (size_t k = 0; k < r->attrs[j].n_values; k++)
                free(r->attrs[j].values[k]);
            free(r->attrs[j].values);
            free(r->attrs[j].name);
        }
        free(r->attrs);
        free(r->dn);
    }
    free(recs->records);
    memset(recs, 0, sizeof(*recs));
}

static bool has_value(const struct sfs_dir_record *rec, const char *attr, const char *value)
{
    const struct sfs_dir_attr *a = sfs_dir_record_attr(rec, attr);
    for (size_t i = 0; a && i < a->n_values; i++)
        if (strcasecmp(a->values[i], value) == 0)
            return true;
    return false;
}

static bool has_class(const struct sfs_dir_record *rec, const char *cls)
{
    return has_value(rec, "objectClass", cls);
}

/* A DN to compare: ASCII lower case, no blanks around ',', '=' and '+'
 * (escaped ones stay). */
static char *dn_norm(const char *dn)
{
    size_t n = strlen(dn), o = 0;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char c = dn[i];
        if (c == '\\' && i + 1 < n) {
            out[o++] = c;
            out[o++] = g_ascii_tolower(dn[++i]);
            continue;
        }
        if (c == ' ') {
            size_t j = i;
            while (j < n && dn[j] == ' ')
                j++;
            bool before_sep = j == n || dn[j] == ',' || dn[j] == '=' || dn[j] == '+';
            bool after_sep = o == 0 || out[o - 1] == ',' || out[o - 1] == '=' || out[o - 1] == '+';
            if (before_sep || (after_sep && !(o >= 2 && out[o - 2] == '\\'))) {
                i = j - 1;
                continue;
            }
        }
        out[o++] = g_ascii_tolower(c);
    }
    out[o] = '\0';
    return out;
}

/* CHILD is strictly below PARENT (both normalised). */
static bool dn_below(const char *child, const char *parent)
{
    size_t cn = strlen(child), pn = strlen(parent);
    if (cn <= pn + 1 || strcmp(child + cn - pn, parent) != 0 || child[cn - pn - 1] != ',')
        return false;
    size_t bs = 0; /* an escaped ',' is part of a value */
    for (size_t i = cn - pn - 1; i > 0 && child[i - 1] == '\\'; i--)
        bs++;
    return bs % 2 == 0;
}

/* ======================================================================
 * Schemas
 * ==================================================================== */

struct schema_def {
    enum sfs_dir_schema id;
    const char *name;
    const char *map_class, *map_attr;
    const char *entry_class, *key_attr, *info_attr;
};

/* In the order autofs tries them. */
static const struct schema_def schemas[] = {
    {SFS_DIR_SCHEMA_NIS, "nis", "nisMap", "nisMapName", "nisObject", "cn", "nisMapEntry"},
    {SFS_DIR_SCHEMA_AUTOFS, "autofs", "automountMap", "ou", "automount", "cn", "automountInformation"},
    {SFS_DIR_SCHEMA_RFC2307BIS, "rfc2307bis", "automountMap", "automountMapName", "automount", "automountKey",
     "automountInformation"},
};
#define N_SCHEMAS (sizeof(schemas) / sizeof(schemas[0]))

const char *sfs_dir_schema_name(enum sfs_dir_schema schema)
{
    if (schema == SFS_DIR_SCHEMA_AUTO)
        return "auto";
    for (size_t i = 0; i < N_SCHEMAS; i++)
        if (schemas[i].id == schema)
            return schemas[i].name;
    return NULL;
}

int sfs_dir_schema_from_name(const char *name, enum sfs_dir_schema *out)
{
    if (!name || !out)
        return -EINVAL;
    if (strcasecmp(name, "auto") == 0) {
        *out = SFS_DIR_SCHEMA_AUTO;
        return 0;
    }
    for (size_t i = 0; i < N_SCHEMAS; i++)
        if (strcasecmp(name, schemas[i].name) == 0) {
            *out = schemas[i].id;
            return 0;
        }
    return -EINVAL;
}

static const struct schema_def *schema_def(enum sfs_dir_schema id)
{
    for (size_t i = 0; i < N_SCHEMAS; i++)
        if (schemas[i].id == id)
            return &schemas[i];
    return NULL;
}

/* ======================================================================
 * Conversion state and messages
 * ==================================================================== */

struct conv {
    const struct sfs_dir_records *recs;
    char **norm;            /* normalised DN of each record */
    struct sfs_map *map;
    struct sfs_parse_error *err;
    enum sfs_dir_schema forced;
    GHashTable *keys;       /* root \037 key (or \036 mount point) -> DN of its record */
};

static int rec_error(struct conv *c, const char *dn, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int rec_error(struct conv *c, const char *dn, int rc, const char *fmt, ...)
{
    va_list ap;
    memset(c->err, 0, sizeof(*c->err));
    snprintf(c->err->file, sizeof(c->err->file), "%s", dn ? dn : "");
    va_start(ap, fmt);
    vsnprintf(c->err->message, sizeof(c->err->message), fmt, ap);
    va_end(ap);
    return rc;
}

static int oom(struct conv *c)
{
    return rec_error(c, NULL, -ENOMEM, "out of memory");
}

static int warn(struct conv *c, const char *dn, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int warn(struct conv *c, const char *dn, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    char *line = g_strdup_printf("%s: %s", dn, text);
    g_free(text);
    char **w = realloc(c->map->warnings, (c->map->n_warnings + 1) * sizeof(*w));
    char *copy = strdup(line);
    g_free(line);
    if (!w || !copy) {
        if (w)
            c->map->warnings = w;
        free(copy);
        return oom(c);
    }
    c->map->warnings = w;
    w[c->map->n_warnings++] = copy;
    return 0;
}

/* Records the key ID of DN; an error naming both records when it is taken.
 * In a directory two records have no order, so neither can win. */
static int claim(struct conv *c, const char *id, const char *dn, const char *what, const char *name)
{
    const char *first = g_hash_table_lookup(c->keys, id);
    if (first)
        return rec_error(c, dn, -EINVAL, "duplicate %s '%.*s' (also defined by %.120s)", what, DIR_ECHO, name, first);
    g_hash_table_insert(c->keys, g_strdup(id), g_strdup(dn));
    return 0;
}

/* Adds one entry through the map line parser; ERR then names DN. */
static int add_item(struct conv *c, const struct sfs_map_item *item, const char *dup_root)
{
    int rc = sfs_map_add_item(c->map, item, c->err);
    if (rc < 0)
        return rc;
    const struct sfs_map_entry *e = &c->map->entries[c->map->n_entries - 1];
    char *id = g_strdup_printf("%s\037%s", dup_root ? dup_root : "", e->key);
    rc = claim(c, id, item->source, "key", e->key);
    g_free(id);
    return rc;
}

/* ======================================================================
 * Automount maps (rfc2307bis, autofs, NIS)
 * ==================================================================== */

/* The map record of schema S whose name is NAME: its index, -1 when none,
 * or an error when two records claim the name. */
static int find_map_named(struct conv *c, const struct schema_def *s, const char *name, long *found)
{
    *found = -1;
    for (size_t i = 0; i < c->recs->n_records; i++) {
        const struct sfs_dir_record *r = &c->recs->records[i];
        if (!has_class(r, s->map_class) || !has_value(r, s->map_attr, name))
            continue;
        if (*found >= 0)
            return rec_error(c, r->dn, -EINVAL, "map '%.*s' is defined twice (also by %.120s)", DIR_ECHO, name,
                             c->recs->records[*found].dn);
        *found = (long)i;
    }
    return 0;
}

/* The map record for NAME (a map name) or, when BY_DN, for the DN NAME.
 * *S gets its schema.  -ENOENT (error set, naming WHERE) when none. */
static int find_map(struct conv *c, const char *name, bool by_dn, const char *where, long *idx,
                    const struct schema_def **s)
{
    char *want = by_dn ? dn_norm(name) : NULL;
    int rc = 0;

    if (by_dn && !want)
        return oom(c);
    *idx = -1;
    for (size_t k = 0; k < N_SCHEMAS && *idx < 0 && rc == 0; k++) {
        if (c->forced != SFS_DIR_SCHEMA_AUTO && schemas[k].id != c->forced)
            continue;
        *s = &schemas[k];
        if (!by_dn) {
            rc = find_map_named(c, &schemas[k], name, idx);
            continue;
        }
        for (size_t i = 0; i < c->recs->n_records && *idx < 0; i++)
            if (strcmp(c->norm[i], want) == 0 && has_class(&c->recs->records[i], schemas[k].map_class) &&
                sfs_dir_record_attr(&c->recs->records[i], schemas[k].map_attr))
                *idx = (long)i;
    }
    free(want);
    if (rc == 0 && *idx < 0) {
        const char *schema = c->forced == SFS_DIR_SCHEMA_AUTO ? "any schema" : sfs_dir_schema_name(c->forced);
        rc = rec_error(c, where, -ENOENT, "map '%.*s' not found in the directory (%s)", 2 * DIR_ECHO, name, schema);
    }
    return rc;
}

/* The key of an entry record: a "/" or "*" value is the wildcard (autofs
 * writes '/' in LDAP); several other values: the first, with a warning. */
static int entry_key(struct conv *c, const struct sfs_dir_record *r, const struct schema_def *s, const char **key)
{
    const struct sfs_dir_attr *a = sfs_dir_record_attr(r, s->key_attr);
    if (!a || a->n_values == 0)
        return rec_error(c, r->dn, -EINVAL, "missing attribute '%s' (the entry's key)", s->key_attr);
    for (size_t i = 0; i < a->n_values; i++)
        if (strcmp(a->values[i], "/") == 0 || strcmp(a->values[i], "*") == 0) {
            *key = "*";
            return 0;
        }
    *key = a->values[0];
    if (a->n_values > 1)
        return warn(c, r->dn, "more than one '%s'; using '%.*s'", s->key_attr, DIR_ECHO, *key);
    return 0;
}

/* The entry text: the values of the information attribute, joined by a
 * blank (as autofs does). */
static int entry_text(struct conv *c, const struct sfs_dir_record *r, const struct schema_def *s, char **text)
{
    const struct sfs_dir_attr *a = sfs_dir_record_attr(r, s->info_attr);
    if (!a || a->n_values == 0)
        return rec_error(c, r->dn, -EINVAL, "missing attribute '%s' (the options and location of the entry)",
                         s->info_attr);
    GString *g = g_string_new(NULL);
    for (size_t i = 0; i < a->n_values; i++)
        g_string_append_printf(g, "%s%s", i ? " " : "", a->values[i]);
    *text = strdup(g->str);
    g_string_free(g, TRUE);
    return *text ? 0 : oom(c);
}

/* Does record R look like an entry of some schema other than S? */
static const char *foreign_entry_class(const struct sfs_dir_record *r, const struct schema_def *s)
{
    for (size_t k = 0; k < N_SCHEMAS; k++)
        if (strcasecmp(schemas[k].entry_class, s->entry_class) != 0 && has_class(r, schemas[k].entry_class))
            return schemas[k].entry_class;
    return NULL;
}

/* Is the map of record MAP direct?  With ROOT "/" yes, with another root
 * no; alone, when one of its keys is an absolute path. */
static bool map_is_direct(struct conv *c, size_t map, const struct schema_def *s, const char *root)
{
    if (root)
        return strcmp(root, "/") == 0;
    for (size_t i = 0; i < c->recs->n_records; i++) {
        const struct sfs_dir_record *r = &c->recs->records[i];
        const struct sfs_dir_attr *a = sfs_dir_record_attr(r, s->key_attr);
        if (dn_below(c->norm[i], c->norm[map]) && has_class(r, s->entry_class) && a && a->n_values &&
            a->values[0][0] == '/' && a->values[0][1] != '\0')
            return true;
    }
    return false;
}

static int load_entry(struct conv *c, const struct sfs_dir_record *r, const struct schema_def *s,
                      const char *root, bool direct, const struct sfs_map_options *inherited)
{
    const char *key;
    char *text = NULL;
    int rc = entry_key(c, r, s, &key);
    if (rc == 0)
        rc = entry_text(c, r, s, &text);
    if (rc == 0 && direct && strcmp(key, "*") == 0) {
        free(text);
        return warn(c, r->dn, "wildcard key in a direct map; skipped");
    }
    if (rc == 0) {
        struct sfs_map_item item = {.source = r->dn, .key_field = s->key_attr, .field = s->info_attr,
                                    .root = direct ? "/" : root,
                                    .type = direct ? SFS_MAP_TYPE_DIRECT : SFS_MAP_TYPE_INDIRECT,
                                    .inherited = inherited, .key = key, .text = text};
        rc = add_item(c, &item, direct ? "/" : root);
    }
    free(text);
    return rc;
}

/* Every entry of map record MAP (schema S), under ROOT. */
static int load_map_at(struct conv *c, size_t map, const struct schema_def *s, const char *root,
                       const struct sfs_map_options *inherited)
{
    bool direct = map_is_direct(c, map, s, root);
    for (size_t i = 0; i < c->recs->n_records; i++) {
        const struct sfs_dir_record *r = &c->recs->records[i];
        if (!dn_below(c->norm[i], c->norm[map]))
            continue;
        int rc = 0;
        if (has_class(r, s->entry_class)) {
            rc = load_entry(c, r, s, root, direct, inherited);
        } else if (foreign_entry_class(r, s)) {
            rc = rec_error(c, r->dn, -EINVAL, "unknown schema: a %s record in %s map '%.*s' (schema %s expects %s)",
                           foreign_entry_class(r, s), s->map_class, DIR_ECHO,
                           sfs_dir_record_attr(&c->recs->records[map], s->map_attr)->values[0], s->name,
                           s->entry_class);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ======================================================================
 * Open Directory mount records (-fstab, -static)
 * ==================================================================== */

/* S in double quotes for the map line parser: '"' and '\' escaped. */
static void append_quoted(GString *g, const char *s)
{
    g_string_append_c(g, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            g_string_append_c(g, '\\');
        g_string_append_c(g, *s);
    }
    g_string_append_c(g, '"');
}

static bool is_net(const struct sfs_dir_record *r)
{
    return has_value(r, "mountOption", "net");
}

/* "-opt,opt" from the mountOption values other than "net" and "url==",
 * then the url== location: the text of a map line. */
static int mount_text(struct conv *c, const struct sfs_dir_record *r, char **text)
{
    const struct sfs_dir_attr *type = sfs_dir_record_attr(r, "mountType");
    const struct sfs_dir_attr *opts = sfs_dir_record_attr(r, "mountOption");
    const char *url = NULL;

    if (!type || type->n_values == 0)
        return rec_error(c, r->dn, -EINVAL, "missing attribute 'mountType' (VFSType; 'url' for AFP and SMB)");
    if (strcasecmp(type->values[0], "url") != 0)
        return rec_error(c, r->dn, -EINVAL, "mountType '%.*s' is not supported (only 'url': afp:// and smb:// URLs)",
                         DIR_ECHO, type->values[0]);
    GString *o = g_string_new(NULL);
    for (size_t i = 0; opts && i < opts->n_values; i++) {
        const char *v = opts->values[i];
        if (strncasecmp(v, "url==", 5) == 0) {
            if (url) {
                g_string_free(o, TRUE);
                return rec_error(c, r->dn, -EINVAL, "more than one 'url==' mountOption");
            }
            url = v + 5;
        } else if (strcasecmp(v, "net") != 0) {
            g_string_append_printf(o, "%s%s", o->len ? "," : "-", v);
        }
    }
    if (!url) {
        g_string_free(o, TRUE);
        return rec_error(c, r->dn, -EINVAL, "missing attribute value: mountOption 'url==URL' (VFSOpts of a url mount)");
    }
    GString *g = g_string_new(NULL);
    if (o->len) {
        append_quoted(g, o->str);
        g_string_append_c(g, ' ');
    }
    append_quoted(g, url);
    *text = strdup(g->str);
    g_string_free(g, TRUE);
    g_string_free(o, TRUE);
    return *text ? 0 : oom(c);
}

/* "host:/path" -> "host/path" ("host" for "host:/").  Components may not be
 * empty, "." or "..". */
static int fstab_key(struct conv *c, const struct sfs_dir_record *r, char **key)
{
    const struct sfs_dir_attr *cn = sfs_dir_record_attr(r, "cn");
    if (!cn || cn->n_values == 0)
        return rec_error(c, r->dn, -EINVAL, "missing attribute 'cn' (the mount record's name, HOST:/PATH)");
    const char *name = cn->values[0];
    const char *colon = strchr(name, ':');
    if (!colon || colon == name || colon[1] != '/' || memchr(name, '/', (size_t)(colon - name)) ||
        memchr(name, '*', (size_t)(colon - name)) || strncmp(name, ".:", 2) == 0 || strncmp(name, "..:", 3) == 0)
        return rec_error(c, r->dn, -EINVAL, "mount record name '%.*s' is not HOST:/PATH", DIR_ECHO, name);
    char *path = sfs_path_normalize(colon + 1);
    if (!path)
        return oom(c);
    for (const char *p = path; *p; p++) {
        size_t n = strcspn(p + 1, "/");
        if (*p == '/' && ((n == 1 && p[1] == '.') || (n == 2 && p[1] == '.' && p[2] == '.'))) {
            free(path);
            return rec_error(c, r->dn, -EINVAL, "'.' and '..' are not allowed in mount record name '%.*s'",
                             DIR_ECHO, name);
        }
    }
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (sfs_is_control(*p)) {
            free(path);
            return rec_error(c, r->dn, -EINVAL, "control character (0x%02X) in mount record name", *p);
        }
    *key = g_strdup_printf("%.*s%s", (int)(colon - name), name, strcmp(path, "/") == 0 ? "" : path);
    free(path);
    return 0;
}

/* -fstab (NET true: records with "net", under ROOT) or -static (the others,
 * at their mountDirectory). */
static int load_mounts(struct conv *c, bool net, const char *root, const struct sfs_map_options *inherited)
{
    for (size_t i = 0; i < c->recs->n_records; i++) {
        const struct sfs_dir_record *r = &c->recs->records[i];
        if (!has_class(r, "mount") || is_net(r) != net)
            continue;
        char *key = NULL, *text = NULL;
        const struct sfs_dir_attr *dir = sfs_dir_record_attr(r, "mountDirectory");
        int rc = 0;
        if (net)
            rc = fstab_key(c, r, &key);
        else if (!dir || dir->n_values == 0)
            rc = rec_error(c, r->dn, -EINVAL, "missing attribute 'mountDirectory' (VFSLinkDir: where a mount "
                                              "without 'net' is mounted)");
        if (rc == 0)
            rc = mount_text(c, r, &text);
        if (rc == 0) {
            struct sfs_map_item item = {.source = r->dn, .key_field = net ? "cn" : "mountDirectory",
                                        .field = "mountOption", .root = net ? root : "/",
                                        .type = net ? SFS_MAP_TYPE_INDIRECT : SFS_MAP_TYPE_DIRECT,
                                        .inherited = inherited, .key = net ? key : dir->values[0],
                                        .key_checked = net, .text = text};
            rc = add_item(c, &item, net ? root : "/");
        }
        g_free(key);
        free(text);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ======================================================================
 * Master maps
 * ==================================================================== */

static const char *const other_sources[] = {"file", "program", "yp", "nis", "nisplus", "hesiod", "sss", "dir",
                                            "multi", NULL};

/* Where a master entry's map lives.  0 with *NAME (and *BY_DN) set; 1 when
 * it is not in the directory (warned); <0 on error. */
static int master_map_ref(struct conv *c, const char *dn, const char *ref, char **name, bool *by_dn)
{
    size_t n = strcspn(ref, ",:");
    *by_dn = false;
    *name = NULL;
    if (ref[n] != '\0' && n > 0) {
        const char *colon = strchr(ref, ':');
        bool ldap = (n == 4 && strncasecmp(ref, "ldap", 4) == 0) || (n == 5 && strncasecmp(ref, "ldaps", 5) == 0);
        for (const char *const *o = other_sources; !ldap && colon && *o; o++)
            if (strlen(*o) == n && strncasecmp(ref, *o, n) == 0)
                return warn(c, dn, "map '%.*s' is not in the directory; skipped", DIR_ECHO, ref) < 0 ? -ENOMEM : 1;
        if (ldap && colon) {
            const char *rest = colon + 1;
            if (rest[0] == '/' && rest[1] == '/') { /* ldap://host/DN: the DN, percent-decoded */
                const char *slash = strchr(rest + 2, '/');
                if (!slash || !slash[1])
                    return rec_error(c, dn, -EINVAL, "map '%.*s': no DN after the LDAP server", DIR_ECHO, ref);
                *name = g_uri_unescape_string(slash + 1, NULL);
                if (!*name)
                    return rec_error(c, dn, -EINVAL, "map '%.*s': bad percent-escape in the DN", DIR_ECHO, ref);
            } else {
                *name = g_strdup(rest);
            }
            *by_dn = strchr(*name, '=') != NULL;
            return 0;
        }
    }
    if (strchr(ref, '/'))
        return warn(c, dn, "map '%.*s' is a file, not in the directory; skipped", DIR_ECHO, ref) < 0 ? -ENOMEM : 1;
    *name = g_strdup(ref);
    return 0;
}

/* One entry of the master map: "MOUNTPOINT" -> "MAP [-options]...". */
static int load_master_entry(struct conv *c, const struct sfs_dir_record *r, const struct schema_def *s)
{
    const char *mp;
    char *text = NULL, *name = NULL, *root = NULL;
    struct sfs_map_options *opts = NULL;
    bool by_dn;
    int rc = entry_key(c, r, s, &mp);

    if (rc == 0 && mp[0] == '+')
        return warn(c, r->dn, "include '%.*s' in a directory master map is not supported; skipped", DIR_ECHO, mp);
    if (rc == 0 && mp[0] != '/')
        rc = rec_error(c, r->dn, -EINVAL, "%s: mount point '%.*s' must be an absolute path ('/path' or '/-')",
                       s->key_attr, DIR_ECHO, mp);
    if (rc == 0)
        rc = entry_text(c, r, s, &text);
    if (rc < 0)
        return rc;
    bool direct = strcmp(mp, "/-") == 0;
    char *p = text + strspn(text, " \t");
    size_t len = strcspn(p, " \t");
    char *ref = g_strndup(p, len);
    if (!(root = sfs_path_normalize(direct ? "/" : mp)))
        rc = oom(c);
    if (rc == 0 && ref[0] == '\0')
        rc = rec_error(c, r->dn, -EINVAL, "%s: missing map name for mount point '%.*s'", s->info_attr, DIR_ECHO, mp);
    if (rc == 0 && !direct) {
        char *id = g_strdup_printf("\036%s", root);
        rc = claim(c, id, r->dn, "mount point", root);
        g_free(id);
    }
    if (rc == 0) {
        /* The options with the map name blanked out: columns are the value's. */
        memset(p, ' ', len);
        rc = sfs_map_options_parse(c->map, r->dn, s->info_attr, text, &opts, c->err);
    }
    if (rc == 0 && ref[0] == '-') {
        if (strcmp(ref, "-fstab") == 0 || strcmp(ref, "-static") == 0) {
            bool net = strcmp(ref, "-fstab") == 0;
            rc = load_mounts(c, net, net ? root : "/", opts);
        } else if (strcmp(ref, "-hosts") == 0 || strcmp(ref, "-null") == 0) {
            rc = warn(c, r->dn, "special map '%s' for %.*s is not supported; skipped", ref, DIR_ECHO, mp);
        } else {
            rc = rec_error(c, r->dn, -EINVAL, "%s: missing map name for mount point '%.*s' (options come after the "
                           "map name)", s->info_attr, DIR_ECHO, mp);
        }
    } else if (rc == 0 && (rc = master_map_ref(c, r->dn, ref, &name, &by_dn)) == 0) {
        long idx;
        const struct schema_def *ms;
        rc = find_map(c, name, by_dn, r->dn, &idx, &ms);
        if (rc == 0)
            rc = load_map_at(c, (size_t)idx, ms, root, opts);
    }
    sfs_map_options_free(opts);
    g_free(ref);
    g_free(name);
    free(root);
    free(text);
    return rc < 0 ? rc : 0;
}

/* The master map NAME (NULL: auto.master, then auto_master). */
static int load_master(struct conv *c, const char *name)
{
    static const char *const defaults[] = {"auto.master", "auto_master"};
    const char *const *names = name ? &name : defaults;
    size_t n_names = name ? 1 : 2;
    const struct schema_def *s = NULL;
    long idx = -1;
    int rc = 0;

    for (size_t k = 0; k < n_names && idx < 0 && rc == 0; k++) {
        rc = find_map(c, names[k], strchr(names[k], '=') != NULL, NULL, &idx, &s);
        if (rc == -ENOENT && k + 1 < n_names)
            rc = 0;
    }
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < c->recs->n_records && rc == 0; i++) {
        const struct sfs_dir_record *r = &c->recs->records[i];
        if (!dn_below(c->norm[i], c->norm[idx]))
            continue;
        if (has_class(r, s->entry_class))
            rc = load_master_entry(c, r, s);
        else if (foreign_entry_class(r, s))
            rc = rec_error(c, r->dn, -EINVAL, "unknown schema: a %s record in %s master map (schema %s expects %s)",
                           foreign_entry_class(r, s), s->map_class, s->name, s->entry_class);
    }
    return rc;
}

int sfs_dir_map_load(const struct sfs_dir_records *recs, const struct sfs_dir_request *req, struct sfs_map *out,
                     struct sfs_parse_error *err)
{
    struct sfs_parse_error scratch;
    struct conv c = {.recs = recs, .map = out, .err = err ? err : &scratch};
    int rc = 0;

    if (!out)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    memset(c.err, 0, sizeof(*c.err));
    if (!recs || !req)
        return rec_error(&c, NULL, -EINVAL, "no records or no request given");
    if (req->schema != SFS_DIR_SCHEMA_AUTO && !schema_def(req->schema))
        return rec_error(&c, NULL, -EINVAL, "unknown schema %d", (int)req->schema);
    c.forced = req->schema;
    c.norm = calloc(recs->n_records + 1, sizeof(*c.norm));
    if (!c.norm)
        return oom(&c);
    for (size_t i = 0; i < recs->n_records && rc == 0; i++)
        if (!(c.norm[i] = dn_norm(recs->records[i].dn)))
            rc = oom(&c);
    c.keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    char *root = NULL;
    struct sfs_map_options *opts = NULL;
    if (rc == 0 && req->root && !(root = sfs_path_normalize(req->root)))
        rc = oom(&c);
    if (rc == 0 && req->options && *req->options)
        rc = sfs_map_options_parse(out, req->where ? req->where : "options", "options", req->options, &opts, c.err);
    if (rc == 0) {
        switch (req->kind) {
        case SFS_DIR_MAP: {
            long idx;
            const struct schema_def *s;
            if (!req->name || !*req->name)
                rc = rec_error(&c, NULL, -EINVAL, "no map name given");
            if (rc == 0)
                rc = find_map(&c, req->name, strchr(req->name, '=') != NULL, NULL, &idx, &s);
            if (rc == 0)
                rc = load_map_at(&c, (size_t)idx, s, root, opts);
            break;
        }
        case SFS_DIR_MASTER:
            rc = load_master(&c, req->name && *req->name ? req->name : NULL);
            break;
        case SFS_DIR_FSTAB:
            rc = load_mounts(&c, true, root ? root : FSTAB_ROOT, opts);
            break;
        case SFS_DIR_STATIC:
            rc = load_mounts(&c, false, "/", opts);
            break;
        default:
            rc = rec_error(&c, NULL, -EINVAL, "unknown request kind %d", (int)req->kind);
        }
    }
    free(root);
    sfs_map_options_free(opts);
    for (size_t i = 0; i < recs->n_records; i++)
        free(c.norm[i]);
    free(c.norm);
    g_hash_table_destroy(c.keys);
    if (rc < 0)
        sfs_map_free(out);
    return rc < 0 ? rc : 0;
}

/* ======================================================================
 * Merging a directory source into a map
 * ==================================================================== */

/* "root \037 key" of an entry, as the map loader and claim() key them. */
static char *entry_id(const struct sfs_map_entry *e)
{
    const char *root = e->type == SFS_MAP_TYPE_DIRECT ? "/" : e->root;
    return g_strdup_printf("%s\037%s", root ? root : "", e->key);
}

static int append_warning(struct sfs_map *map, char *text)
{
    char **w = realloc(map->warnings, (map->n_warnings + 1) * sizeof(*w));
    if (!w) {
        free(text);
        return -ENOMEM;
    }
    map->warnings = w;
    w[map->n_warnings++] = text;
    return 0;
}

/* Moves the entries and warnings of FROM to the end of MAP; a key MAP has
 * already is skipped with a warning (a file's entry or an earlier source's
 * wins, as the first of two lines does in a file). */
static int merge_map(struct sfs_map *map, struct sfs_map *from, unsigned dirref, size_t *added)
{
    GHashTable *have = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    int rc = 0;
    *added = 0;
    for (size_t i = 0; i < map->n_entries; i++)
        g_hash_table_add(have, entry_id(&map->entries[i]));
    struct sfs_map_entry *v = realloc(map->entries, (map->n_entries + from->n_entries + 1) * sizeof(*v));
    if (!v)
        rc = -ENOMEM;
    else
        map->entries = v;
    for (size_t i = 0; rc == 0 && i < from->n_entries; i++) {
        struct sfs_map_entry *e = &from->entries[i];
        char *id = entry_id(e);
        if (g_hash_table_contains(have, id)) {
            rc = append_warning(map, g_strdup_printf("%s: duplicate key '%.*s' ignored (already in the map)",
                                                     e->file, DIR_ECHO, e->key));
            g_free(id);
            continue;
        }
        g_hash_table_add(have, id);
        e->dirref = dirref;
        map->entries[map->n_entries++] = *e;
        memset(e, 0, sizeof(*e));
        (*added)++;
    }
    for (size_t i = 0; rc == 0 && i < from->n_warnings; i++) {
        rc = append_warning(map, from->warnings[i]);
        from->warnings[i] = NULL;
    }
    g_hash_table_destroy(have);
    sfs_map_free(from);
    return rc;
}

int sfs_map_add_directory(struct sfs_map *map, size_t ref, const struct sfs_dir_records *recs,
                          enum sfs_dir_schema schema, struct sfs_parse_error *err)
{
    struct sfs_parse_error scratch;
    if (!err)
        err = &scratch;
    memset(err, 0, sizeof(*err));
    if (!map || !recs || ref >= map->n_dirrefs)
        return -EINVAL;
    const struct sfs_map_dirref *r = &map->dirrefs[ref];
    struct sfs_dir_request req = {.schema = schema, .name = r->name, .root = r->root, .options = r->options,
                                  .where = r->where};
    switch (r->kind) {
    case SFS_DIRREF_MAP: req.kind = SFS_DIR_MAP; break;
    case SFS_DIRREF_MASTER: req.kind = SFS_DIR_MASTER; break;
    case SFS_DIRREF_FSTAB: req.kind = SFS_DIR_FSTAB; break;
    case SFS_DIRREF_STATIC: req.kind = SFS_DIR_STATIC; break;
    case SFS_DIRREF_TOP: req.kind = SFS_DIR_MAP; break;
    }
    struct sfs_map got;
    int rc = sfs_dir_map_load(recs, &req, &got, err);
    if (rc == -ENOENT && r->kind == SFS_DIRREF_TOP) {
        /* Not a map record: the master map below the DN. */
        req.kind = SFS_DIR_MASTER;
        req.name = NULL;
        rc = sfs_dir_map_load(recs, &req, &got, err);
    }
    if (rc < 0)
        return rc;
    size_t added = 0;
    rc = merge_map(map, &got, (unsigned)ref + 1, &added);
    if (rc < 0)
        return rec_error(&(struct conv){.err = err}, NULL, rc, "out of memory");
    map->dirrefs[ref].n_entries = added;
    return 0;
}
