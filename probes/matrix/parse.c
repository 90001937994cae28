/* The matrix file (YAML, schema version 1, docs/matrix.md) through
 * libyaml's document loader; every error names FILE:LINE:COLUMN. */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yaml.h>

#include "matrix.h"

struct ctx {
    yaml_document_t *doc;
    const char *file;
    struct mx_error *err;
};

void mx_error_set(struct mx_error *err, const char *file, int line, int column, const char *fmt, ...)
{
    if (!err)
        return;
    snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
    err->line = line;
    err->column = column;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
}

void mx_error_format(const struct mx_error *err, char *buf, size_t len)
{
    if (err->line > 0)
        snprintf(buf, len, "%s:%d:%d: %s", err->file, err->line, err->column, err->message);
    else
        snprintf(buf, len, "%s: %s", err->file, err->message);
}

static bool fail(struct ctx *c, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    mx_error_set(c->err, c->file, n ? (int)n->start_mark.line + 1 : 0, n ? (int)n->start_mark.column + 1 : 0,
                 "%s", msg);
    return false;
}

static yaml_node_t *node(struct ctx *c, int i)
{
    return yaml_document_get_node(c->doc, i);
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A mapping's keys are scalars, each once; KNOWN (NULL-terminated) lists
 * the keys allowed. */
static bool check_mapping(struct ctx *c, yaml_node_t *n, const char *what, const char *const *known)
{
    if (!n || n->type != YAML_MAPPING_NODE)
        return fail(c, n, "%s must be a mapping", what);
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key);
        const char *ks = scalar(k);
        if (!ks)
            return fail(c, k, "%s: keys must be plain names", what);
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++)
            if (!strcmp(scalar(node(c, q->key)) ? scalar(node(c, q->key)) : "", ks))
                return fail(c, k, "%s: key '%s' given twice", what, ks);
        if (!known)
            continue;
        if (!strcmp(ks, "password"))
            return fail(c, k, "%s: an inline password is refused: name an environment variable "
                              "(password_env) or a credentials file of mode 0600 (credentials)", what);
        bool ok = false;
        for (size_t i = 0; known[i] && !ok; i++)
            ok = !strcmp(known[i], ks);
        if (!ok)
            return fail(c, k, "%s: unknown key '%s'", what, ks);
    }
    return true;
}

static yaml_node_t *get(struct ctx *c, yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        const char *ks = scalar(node(c, p->key));
        if (ks && !strcmp(ks, key))
            return node(c, p->value);
    }
    return NULL;
}

static bool get_string(struct ctx *c, yaml_node_t *map, const char *key, bool required, char **out)
{
    yaml_node_t *v = get(c, map, key);
    if (!v) {
        if (required)
            return fail(c, map, "missing key '%s'", key);
        return true;
    }
    const char *s = scalar(v);
    if (!s || !*s)
        return fail(c, v, "'%s' must be a non-empty string", key);
    g_free(*out);
    *out = g_strdup(s);
    return true;
}

static bool one_of(struct ctx *c, yaml_node_t *v, const char *key, const char *const *names, int *out)
{
    const char *s = scalar(v);
    for (int i = 0; s && names[i]; i++)
        if (!strcmp(s, names[i])) {
            *out = i;
            return true;
        }
    GString *all = g_string_new(NULL);
    for (int i = 0; names[i]; i++)
        g_string_append_printf(all, "%s%s", i ? ", " : "", names[i]);
    fail(c, v, "%s: '%s' is not one of %s", key, s ? s : "(not a string)", all->str);
    g_string_free(all, TRUE);
    return false;
}

static bool get_enum(struct ctx *c, yaml_node_t *map, const char *key, const char *const *names, bool required,
                     int *out)
{
    yaml_node_t *v = get(c, map, key);
    if (!v)
        return required ? fail(c, map, "missing key '%s'", key) : true;
    return one_of(c, v, key, names, out);
}

/* Names of targets, clients, suites, entries: they make up result ids. */
static bool check_name(struct ctx *c, yaml_node_t *n, const char *what)
{
    const char *s = scalar(n);
    if (!s || !*s || strlen(s) > 64)
        return fail(c, n, "%s name must be 1-64 characters", what);
    for (const char *p = s; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
            return fail(c, n, "%s name '%s': use letters, digits, '-' and '_' only", what, s);
    return true;
}

/* A scalar or a sequence of scalars -> NULL-terminated list. */
static bool get_list(struct ctx *c, yaml_node_t *v, const char *key, char ***out)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);   /* a refused list frees what it took */
    if (scalar(v)) {
        g_ptr_array_add(a, g_strdup(scalar(v)));
    } else if (v->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
            const char *s = scalar(node(c, *i));
            if (!s || !*s) {
                g_ptr_array_free(a, TRUE);
                return fail(c, node(c, *i), "%s: items must be non-empty strings", key);
            }
            g_ptr_array_add(a, g_strdup(s));
        }
    } else {
        g_ptr_array_free(a, TRUE);
        return fail(c, v, "%s must be a string or a list of strings", key);
    }
    g_ptr_array_add(a, NULL);
    g_strfreev(*out);
    *out = (char **)g_ptr_array_free(a, FALSE);
    return true;
}

static bool check_secret_file(struct ctx *c, yaml_node_t *map, const char *key)
{
    yaml_node_t *v = get(c, map, key);
    struct stat sb;
    if (!v || !scalar(v))
        return true;
    if (stat(scalar(v), &sb) < 0)
        return fail(c, v, "%s: %s: %s", key, scalar(v), g_strerror(errno));
    if (sb.st_mode & 077)
        return fail(c, v, "%s: %s has mode %04o: a file holding a password must be 0600", key, scalar(v),
                    (unsigned)(sb.st_mode & 07777));
    return true;
}

static void share_free(void *p)
{
    struct mx_share *s = p;
    g_free(s->name);
    g_free(s->share);
    g_free(s->url);
    g_free(s->read);
    g_free(s);
}

static char *entry_name_for(const char *proto, const char *share)
{
    char *n = g_strdup_printf("%s-%s", proto, share);
    for (char *p = n; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
            *p = '_';
    return n;
}

static bool parse_share(struct ctx *c, struct mx_target *t, enum mx_proto proto, yaml_node_t *item)
{
    static const char *const keys[] = {"share", "url", "name", "read", "no_read", "write", NULL};
    static const char *const protos[] = {"smb", "afp"};
    struct mx_share *s = g_new0(struct mx_share, 1);
    s->proto = proto;
    g_ptr_array_add(t->shares, s);
    if (scalar(item)) {
        s->share = g_strdup(scalar(item));
    } else {
        if (!check_mapping(c, item, "share", keys) || !get_string(c, item, "share", false, &s->share) ||
            !get_string(c, item, "url", false, &s->url) || !get_string(c, item, "read", false, &s->read))
            return false;
        static const char *const bools[] = {"false", "true", NULL};
        yaml_node_t *nr = get(c, item, "no_read"), *wr = get(c, item, "write");
        int b = 0;
        if (nr) {
            if (!one_of(c, nr, "no_read", bools, &b))
                return false;
            s->no_read = b;
        }
        if (wr) {
            if (!one_of(c, wr, "write", bools, &b))
                return false;
            s->write = b;
        }
        if (!s->share == !s->url)
            return fail(c, item, "a share needs either 'share' or 'url'");
        if (s->url && g_ascii_strncasecmp(s->url, protos[proto], 3))
            return fail(c, get(c, item, "url"), "url: a %s share needs a %s:// URL", protos[proto], protos[proto]);
        yaml_node_t *nn = get(c, item, "name");
        if (nn && !check_name(c, nn, "entry"))
            return false;
        if (nn)
            s->name = g_strdup(scalar(nn));
    }
    if (s->share && (!*s->share || strchr(s->share, '/')))
        return fail(c, item, "share name '%s' must be one path component", s->share);
    if (!s->name) {
        if (!s->share)
            return fail(c, item, "a share given by url needs a 'name'");
        s->name = entry_name_for(protos[proto], s->share);
    }
    for (guint i = 0; i + 1 < t->shares->len; i++)
        if (!strcmp(((struct mx_share *)t->shares->pdata[i])->name, s->name))
            return fail(c, item, "entry '%s' is listed twice in target '%s' (give one a 'name')", s->name, t->name);
    return true;
}

static bool parse_shares(struct ctx *c, struct mx_target *t, yaml_node_t *v)
{
    static const char *const keys[] = {"smb", "afp", NULL};
    if (!check_mapping(c, v, "shares", keys))
        return false;
    for (int proto = 0; proto < 2; proto++) {
        yaml_node_t *list = get(c, v, keys[proto]);
        if (!list)
            continue;
        if (list->type != YAML_SEQUENCE_NODE)
            return fail(c, list, "shares: %s must be a list", keys[proto]);
        for (yaml_node_item_t *i = list->data.sequence.items.start; i < list->data.sequence.items.top; i++)
            if (!parse_share(c, t, (enum mx_proto)proto, node(c, *i)))
                return false;
    }
    if (t->shares->len == 0)
        return fail(c, v, "target '%s' lists no shares", t->name);
    return true;
}

static void directory_free(struct mx_directory *d)
{
    if (!d)
        return;
    g_free(d->map);
    g_free(d->uri);
    g_free(d->base);
    g_free(d->bind_dn);
    g_free(d->password_file);
    g_free(d->ca_file);
    g_free(d);
}

static void target_free(void *p)
{
    struct mx_target *t = p;
    g_free(t->name);
    g_free(t->host);
    g_free(t->suite);
    g_free(t->server_config);
    g_free(t->image);
    g_strfreev(t->packages);
    g_free(t->remote_proto);
    g_free(t->user);
    g_free(t->credentials);
    g_free(t->password_env);
    if (t->shares)
        g_ptr_array_free(t->shares, TRUE);
    directory_free(t->directory);
    g_free(t);
}

/* directory: {map, base, uri, bind_dn, password_file, ca_file, starttls} */
static bool parse_directory(struct ctx *c, struct mx_target *t, yaml_node_t *v)
{
    static const char *const keys[] = {"map", "uri", "base", "bind_dn", "password_file", "ca_file", "starttls", NULL};
    static const char *const bools[] = {"false", "true", NULL};
    if (!check_mapping(c, v, "directory", keys))
        return false;
    struct mx_directory *d = t->directory = g_new0(struct mx_directory, 1);
    int tls = 0;
    if (!get_string(c, v, "map", true, &d->map) || !get_string(c, v, "base", true, &d->base) ||
        !get_string(c, v, "uri", false, &d->uri) || !get_string(c, v, "bind_dn", false, &d->bind_dn) ||
        !get_string(c, v, "password_file", false, &d->password_file) ||
        !get_string(c, v, "ca_file", false, &d->ca_file) || !get_enum(c, v, "starttls", bools, false, &tls))
        return false;
    d->starttls = tls == 1;
    if (d->bind_dn && !d->password_file)
        return fail(c, v, "directory: bind_dn needs password_file (a file of mode 0600; never a password here)");
    if (!d->uri)
        d->uri = g_strdup_printf("ldap://%s", t->host);
    return true;
}

static bool parse_target(struct ctx *c, struct mx_matrix *m, yaml_node_t *k, yaml_node_t *v)
{
    static const char *const kinds[] = {"lab", "container", "vm", "remote", NULL};
    static const char *const keys[] = {"kind", "host", "shares", "suite", "packages", "server_config", "image",
                                       "protocol", "user", "credentials", "password_env", "memory", "directory",
                                       NULL};
    if (!check_name(c, k, "target") || !check_mapping(c, v, "target", keys))
        return false;
    struct mx_target *t = g_new0(struct mx_target, 1);
    g_ptr_array_add(m->targets, t);
    t->name = g_strdup(scalar(k));
    t->line = (int)k->start_mark.line + 1;
    t->column = (int)k->start_mark.column + 1;
    t->shares = g_ptr_array_new_with_free_func(share_free);
    int kind = 0;
    if (!get_enum(c, v, "kind", kinds, true, &kind) || !get_string(c, v, "host", false, &t->host))
        return false;
    t->kind = (enum mx_target_kind)kind;
    if (t->kind == MX_TARGET_REMOTE && !t->host)
        return fail(c, v, "a remote target needs 'host'");
    if (t->kind != MX_TARGET_CONTAINER && (get(c, v, "suite") || get(c, v, "packages") || get(c, v, "server_config")))
        return fail(c, v, "suite, packages and server_config are for container targets");
    if (t->kind != MX_TARGET_VM && (get(c, v, "image") || get(c, v, "memory")))
        return fail(c, v, "image and memory are for vm targets");
    if (t->kind != MX_TARGET_REMOTE &&
        (get(c, v, "protocol") || get(c, v, "user") || get(c, v, "credentials") || get(c, v, "password_env")))
        return fail(c, v, "protocol, user, credentials and password_env are for remote targets");
    switch (t->kind) {
    case MX_TARGET_CONTAINER: {
        if (!get_string(c, v, "suite", true, &t->suite) || !get_string(c, v, "server_config", false, &t->server_config))
            return false;
        yaml_node_t *p = get(c, v, "packages");
        if (!p)
            return fail(c, v, "a container target needs 'packages'");
        if (!get_list(c, p, "packages", &t->packages))
            return false;
        break;
    }
    case MX_TARGET_VM:
        if (!get_string(c, v, "image", true, &t->image))
            return false;
        break;
    case MX_TARGET_REMOTE: {
        static const char *const protos[] = {"smb", "afp", NULL};
        int pr = 0;
        if (!get_enum(c, v, "protocol", protos, true, &pr) || !get_string(c, v, "user", false, &t->user) ||
            !get_string(c, v, "credentials", false, &t->credentials) ||
            !get_string(c, v, "password_env", false, &t->password_env) || !check_secret_file(c, v, "credentials"))
            return false;
        t->remote_proto = g_strdup(protos[pr]);
        if (t->password_env && !t->user)
            return fail(c, get(c, v, "password_env"), "password_env needs 'user'");
        yaml_node_t *sh = get(c, v, "shares");
        if (sh && sh->type == YAML_MAPPING_NODE && get(c, sh, protos[1 - pr]))
            return fail(c, get(c, sh, protos[1 - pr]), "remote target of protocol %s lists %s shares", protos[pr],
                        protos[1 - pr]);
        break;
    }
    case MX_TARGET_LAB:
        break;
    }
    /* A container's host is the address it gets when it starts. */
    if (!t->host && t->kind != MX_TARGET_CONTAINER && t->kind != MX_TARGET_VM)
        t->host = g_strdup_printf("%s.%s", t->name, m->lab_domain);
    yaml_node_t *dir = get(c, v, "directory");
    if (dir && !parse_directory(c, t, dir))
        return false;
    yaml_node_t *sh = get(c, v, "shares");
    if (!sh && dir)
        return true;   /* a directory server needs no shares of its own */
    if (!sh)
        return fail(c, v, "target '%s' needs 'shares'", t->name);
    return parse_shares(c, t, sh);
}

static void client_free(void *p)
{
    struct mx_client *cl = p;
    g_free(cl->name);
    g_free(cl->user);
    g_free(cl->credentials);
    g_free(cl->password_env);
    g_free(cl->principal);
    g_free(cl->afp_uam);
    g_free(cl->smb_min);
    g_free(cl->smb_max);
    g_free(cl);
}

static bool parse_dialects(struct ctx *c, struct mx_client *cl, yaml_node_t *v)
{
    static const char *const keys[] = {"min", "max", NULL};
    static const char *const dialects[] = {"NT1", "SMB2_02", "SMB2_10", "SMB3_00", "SMB3_02", "SMB3_11", NULL};
    if (!check_mapping(c, v, "smb", keys))
        return false;
    int lo = 1, hi = 5;
    if (!get_enum(c, v, "min", dialects, false, &lo) || !get_enum(c, v, "max", dialects, false, &hi))
        return false;
    if (lo > hi)
        return fail(c, v, "smb: dialect range %s..%s is empty", dialects[lo], dialects[hi]);
    if (get(c, v, "min"))
        cl->smb_min = g_strdup(dialects[lo]);
    if (get(c, v, "max"))
        cl->smb_max = g_strdup(dialects[hi]);
    return true;
}

static bool parse_client(struct ctx *c, struct mx_matrix *m, yaml_node_t *k, yaml_node_t *v)
{
    static const char *const auths[] = {"guest", "password", "kerberos", NULL};
    static const char *const tickets[] = {"valid", "expired", "absent", NULL};
    static const char *const flavours[] = {"macos", "sun", NULL};
    static const char *const keys[] = {"auth", "user", "credentials", "password_env", "principal", "ticket",
                                       "afp_uam", "smb", "map", "uid", NULL};
    if (!check_name(c, k, "client") || !check_mapping(c, v, "client", keys))
        return false;
    struct mx_client *cl = g_new0(struct mx_client, 1);
    g_ptr_array_add(m->clients, cl);
    cl->name = g_strdup(scalar(k));
    cl->line = (int)k->start_mark.line + 1;
    cl->column = (int)k->start_mark.column + 1;
    int auth = 0, ticket = 0, flavour = 0;
    if (!get_enum(c, v, "auth", auths, true, &auth) || !get_enum(c, v, "ticket", tickets, false, &ticket) ||
        !get_enum(c, v, "map", flavours, false, &flavour) || !get_string(c, v, "user", false, &cl->user) ||
        !get_string(c, v, "credentials", false, &cl->credentials) ||
        !get_string(c, v, "password_env", false, &cl->password_env) ||
        !get_string(c, v, "principal", false, &cl->principal) || !get_string(c, v, "afp_uam", false, &cl->afp_uam) ||
        !check_secret_file(c, v, "credentials"))
        return false;
    cl->auth = (enum mx_auth)auth;
    cl->ticket = (enum mx_ticket)ticket;
    cl->flavour = (enum mx_flavour)flavour;
    yaml_node_t *smb = get(c, v, "smb");
    if (smb && !parse_dialects(c, cl, smb))
        return false;
    if (cl->auth != MX_AUTH_PASSWORD && (cl->credentials || cl->password_env || cl->afp_uam))
        return fail(c, v, "credentials, password_env and afp_uam are for auth: password");
    if (cl->auth != MX_AUTH_KERBEROS && (cl->principal || get(c, v, "ticket")))
        return fail(c, v, "principal and ticket are for auth: kerberos");
    if (cl->auth == MX_AUTH_GUEST && cl->user)
        return fail(c, get(c, v, "user"), "a guest client has no user");
    if (cl->auth == MX_AUTH_PASSWORD) {
        if (!cl->credentials == !cl->password_env)
            return fail(c, v, "auth: password needs exactly one of credentials (a 0600 file) and password_env");
        if (!cl->user)
            return fail(c, v, "auth: password needs 'user'");
    }
    if (cl->auth == MX_AUTH_KERBEROS && !cl->principal)
        return fail(c, v, "auth: kerberos needs 'principal'");
    yaml_node_t *u = get(c, v, "uid");
    if (u) {
        const char *us = scalar(u);
        char *end = NULL;
        long uid = us ? strtol(us, &end, 10) : 0;
        if (!us || !*us || *end || uid < 1 || uid > 65534)
            return fail(c, u, "uid: a number from 1 to 65534 (the local user the client's checks run as)");
        if (cl->auth == MX_AUTH_GUEST)
            return fail(c, u, "uid is for clients with their own identity (password or kerberos)");
        cl->uid = uid;
    }
    return true;
}

static void suite_free(void *p)
{
    struct mx_suite *s = p;
    g_free(s->name);
    g_free(s);
}

static bool parse_suite(struct ctx *c, struct mx_matrix *m, yaml_node_t *k, yaml_node_t *v)
{
    static const char *const kinds[] = {"probe", "fuse", "seed", "directory", NULL};
    static const char *const keys[] = {"kind", NULL};
    if (!check_name(c, k, "suite"))
        return false;
    struct mx_suite *s = g_new0(struct mx_suite, 1);
    g_ptr_array_add(m->suites, s);
    s->name = g_strdup(scalar(k));
    s->line = (int)k->start_mark.line + 1;
    s->column = (int)k->start_mark.column + 1;
    int kind = -1;
    if (v && v->type == YAML_SCALAR_NODE && !*scalar(v)) {
        /* "probe:" alone */
    } else if (!check_mapping(c, v, "suite", keys) || !get_enum(c, v, "kind", kinds, false, &kind)) {
        return false;
    }
    if (kind < 0 && !one_of(c, k, "suite (a name other than probe, fuse, seed, directory needs 'kind')", kinds,
                            &kind))
        return false;
    s->kind = (enum mx_suite_kind)kind;
    return true;
}

static void rule_free(void *p)
{
    struct mx_rule *r = p;
    g_strfreev(r->targets);
    g_strfreev(r->clients);
    g_strfreev(r->suites);
    g_free(r->reason);
    g_free(r);
}

/* Each glob of a rule must match something, else it is a typo. */
static bool check_globs(struct ctx *c, yaml_node_t *v, char **globs, GPtrArray *things, size_t name_off,
                        const char *what)
{
    for (size_t g = 0; globs && globs[g]; g++) {
        bool hit = false;
        for (guint i = 0; i < things->len && !hit; i++)
            hit = fnmatch(globs[g], *(char **)((char *)things->pdata[i] + name_off), 0) == 0;
        if (!hit)
            return fail(c, v, "'%s' matches no %s", globs[g], what);
    }
    return true;
}

static bool parse_rule(struct ctx *c, struct mx_matrix *m, yaml_node_t *v)
{
    static const char *const keys[] = {"only", "no", "reason", NULL};
    static const char *const sel_keys[] = {"target", "client", "suite", NULL};
    if (!check_mapping(c, v, "cells rule", keys))
        return false;
    yaml_node_t *only = get(c, v, "only"), *no = get(c, v, "no");
    if (!only == !no)
        return fail(c, v, "a cells rule has exactly one of 'only' and 'no'");
    struct mx_rule *r = g_new0(struct mx_rule, 1);
    g_ptr_array_add(m->rules, r);
    r->only = only != NULL;
    r->line = (int)v->start_mark.line + 1;
    r->column = (int)v->start_mark.column + 1;
    yaml_node_t *sel = only ? only : no;
    if (!get_string(c, v, "reason", true, &r->reason) || !check_mapping(c, sel, only ? "only" : "no", sel_keys))
        return false;
    if (!sel->data.mapping.pairs.top || sel->data.mapping.pairs.top == sel->data.mapping.pairs.start)
        return fail(c, sel, "%s: name a target, client or suite", only ? "only" : "no");
    char ***lists[] = {&r->targets, &r->clients, &r->suites};
    GPtrArray *things[] = {m->targets, m->clients, m->suites};
    size_t offs[] = {offsetof(struct mx_target, name), offsetof(struct mx_client, name),
                     offsetof(struct mx_suite, name)};
    for (int i = 0; i < 3; i++) {
        yaml_node_t *g = get(c, sel, sel_keys[i]);
        if (g && (!get_list(c, g, sel_keys[i], lists[i]) || !check_globs(c, g, *lists[i], things[i], offs[i], sel_keys[i])))
            return false;
    }
    return true;
}

/* KEY: mapping NAME -> body, each through FN. */
static bool parse_section(struct ctx *c, struct mx_matrix *m, yaml_node_t *root, const char *key, bool required,
                          bool (*fn)(struct ctx *, struct mx_matrix *, yaml_node_t *, yaml_node_t *))
{
    yaml_node_t *v = get(c, root, key);
    if (!v)
        return required ? fail(c, root, "missing key '%s'", key) : true;
    if (!check_mapping(c, v, key, NULL))
        return false;
    if (v->data.mapping.pairs.top == v->data.mapping.pairs.start)
        return fail(c, v, "%s is empty", key);
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++)
        if (!fn(c, m, node(c, p->key), node(c, p->value)))
            return false;
    return true;
}

static bool parse_root(struct ctx *c, struct mx_matrix *m, yaml_node_t *root)
{
    static const char *const keys[] = {"version", "description", "timeout", "ticket_command", "lab_domain",
                                       "container_command", "vm_command", "targets", "clients", "suites", "cells",
                                       NULL};
    if (!root) {
        mx_error_set(c->err, c->file, 1, 1, "the file is empty");
        return false;
    }
    if (!check_mapping(c, root, "the matrix", keys))
        return false;
    yaml_node_t *v = get(c, root, "version");
    if (!v)
        return fail(c, root, "missing key 'version' (this afptest reads version %d)", MX_SCHEMA_VERSION);
    if (!scalar(v) || strcmp(scalar(v), "1"))
        return fail(c, v, "version: '%s' is not supported (this afptest reads version %d)",
                    scalar(v) ? scalar(v) : "?", MX_SCHEMA_VERSION);
    m->version = 1;
    yaml_node_t *t = get(c, root, "timeout");
    if (t) {
        char *end = NULL;
        double d = scalar(t) ? g_ascii_strtod(scalar(t), &end) : -1;
        if (!scalar(t) || end == scalar(t) || *end || d <= 0 || d > 3600)
            return fail(c, t, "timeout: seconds per stage, a number in (0, 3600]");
        m->timeout_s = d;
    }
    if (!get_string(c, root, "ticket_command", false, &m->ticket_command) ||
        !get_string(c, root, "lab_domain", false, &m->lab_domain) ||
        !get_string(c, root, "container_command", false, &m->container_command) ||
        !get_string(c, root, "vm_command", false, &m->vm_command))
        return false;
    if (!m->lab_domain)
        m->lab_domain = g_strdup("lab.test");
    if (!parse_section(c, m, root, "targets", true, parse_target) ||
        !parse_section(c, m, root, "clients", true, parse_client) ||
        !parse_section(c, m, root, "suites", true, parse_suite))
        return false;
    yaml_node_t *cells = get(c, root, "cells");
    if (cells) {
        if (cells->type != YAML_SEQUENCE_NODE)
            return fail(c, cells, "cells must be a list of rules (only: / no: with a reason)");
        for (yaml_node_item_t *i = cells->data.sequence.items.start; i < cells->data.sequence.items.top; i++)
            if (!parse_rule(c, m, node(c, *i)))
                return false;
    }
    return true;
}

struct mx_matrix *mx_matrix_parse_text(const char *text, size_t len, const char *name, struct mx_error *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    memset(err, 0, sizeof(*err));
    if (!yaml_parser_initialize(&parser)) {
        mx_error_set(err, name, 0, 0, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        yaml_mark_t mk = parser.problem_mark;
        mx_error_set(err, name, (int)mk.line + 1, (int)mk.column + 1, "%s%s%s", parser.problem ? parser.problem : "syntax error",
                     parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return NULL;
    }
    struct mx_matrix *m = g_new0(struct mx_matrix, 1);
    m->file = g_strdup(name);
    m->timeout_s = 8;
    m->targets = g_ptr_array_new_with_free_func(target_free);
    m->clients = g_ptr_array_new_with_free_func(client_free);
    m->suites = g_ptr_array_new_with_free_func(suite_free);
    m->rules = g_ptr_array_new_with_free_func(rule_free);
    struct ctx c = {.doc = &doc, .file = name, .err = err};
    bool ok = parse_root(&c, m, yaml_document_get_root_node(&doc));
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (!ok) {
        mx_matrix_free(m);
        return NULL;
    }
    return m;
}

struct mx_matrix *mx_matrix_load(const char *path, struct mx_error *err)
{
    gchar *text = NULL;
    gsize len = 0;
    GError *gerr = NULL;
    if (!g_file_get_contents(path, &text, &len, &gerr)) {
        mx_error_set(err, path, 0, 0, "%s", gerr->message);
        g_error_free(gerr);
        return NULL;
    }
    struct mx_matrix *m = mx_matrix_parse_text(text, len, path, err);
    g_free(text);
    return m;
}

void mx_matrix_free(struct mx_matrix *m)
{
    if (!m)
        return;
    g_free(m->file);
    g_free(m->ticket_command);
    g_free(m->lab_domain);
    g_free(m->container_command);
    g_free(m->vm_command);
    g_ptr_array_free(m->targets, TRUE);
    g_ptr_array_free(m->clients, TRUE);
    g_ptr_array_free(m->suites, TRUE);
    g_ptr_array_free(m->rules, TRUE);
    g_free(m);
}

const char *mx_suite_kind_name(enum mx_suite_kind k)
{
    return k == MX_SUITE_PROBE ? "probe" : k == MX_SUITE_FUSE ? "fuse" : k == MX_SUITE_SEED ? "seed" : "directory";
}

const char *mx_target_kind_name(enum mx_target_kind k)
{
    static const char *const n[] = {"lab", "container", "vm", "remote"};
    return n[k];
}
