/* The cells (targets x clients x suites, `only` / `no` rules) and the
 * automount map a cell probes: one line per share of its target, written
 * the way the client's map flavour (macOS auto_master or Linux sun) and
 * auth module say. */
#include <fnmatch.h>
#include <string.h>

#include "matrix.h"

bool mx_globs_match(char **globs, const char *name)
{
    if (!globs)
        return true;
    for (size_t i = 0; globs[i]; i++)
        if (fnmatch(globs[i], name, 0) == 0)
            return true;
    return false;
}

static bool rule_matches(const struct mx_rule *r, const struct mx_cell *c)
{
    return mx_globs_match(r->targets, c->target->name) && mx_globs_match(r->clients, c->client->name) &&
           mx_globs_match(r->suites, c->suite->name);
}

static void cell_free(void *p)
{
    struct mx_cell *c = p;
    g_free(c->id);
    g_free(c->reason);
    g_free(c);
}

GPtrArray *mx_cells(const struct mx_matrix *m)
{
    GPtrArray *cells = g_ptr_array_new_with_free_func(cell_free);
    for (guint t = 0; t < m->targets->len; t++)
        for (guint k = 0; k < m->clients->len; k++)
            for (guint s = 0; s < m->suites->len; s++) {
                struct mx_cell *c = g_new0(struct mx_cell, 1);
                c->target = m->targets->pdata[t];
                c->client = m->clients->pdata[k];
                c->suite = m->suites->pdata[s];
                c->id = g_strdup_printf("%s/%s/%s", c->target->name, c->client->name, c->suite->name);
                for (guint r = 0; r < m->rules->len && !c->excluded; r++) {
                    const struct mx_rule *rule = m->rules->pdata[r];
                    if (rule_matches(rule, c) != rule->only) {
                        c->excluded = true;
                        c->reason = g_strdup(rule->reason);
                    }
                }
                g_ptr_array_add(cells, c);
            }
    return cells;
}

/* Percent-encodes what a URL's user or UAM part cannot hold as is. */
static void url_part(GString *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (g_ascii_isalnum(*p) || strchr("-._~", *p))
            g_string_append_c(out, (char)*p);
        else
            g_string_append_printf(out, "%%%02X", *p);
    }
}

static char *principal_user(const char *principal)
{
    const char *at = strchr(principal, '@');
    return at ? g_strndup(principal, (gsize)(at - principal)) : g_strdup(principal);
}

static void add_share_line(GString *map, const struct mx_matrix *m, const struct mx_cell *c,
                           const struct mx_share *s)
{
    (void)m;
    const struct mx_client *cl = c->client;
    const struct mx_target *t = c->target;
    /* A container or vm target has its host once it has started. */
    const char *host = t->host ? t->host : "not-started.invalid";
    bool sun = cl->flavour == MX_FLAVOUR_SUN;
    const char *creds = NULL;
    char *user = NULL;
    if (cl->auth == MX_AUTH_PASSWORD) {
        bool own = t->kind == MX_TARGET_REMOTE && (t->credentials || t->password_env);
        creds = own ? t->credentials : cl->credentials;
        if (!creds)
            user = g_strdup(own ? t->user : cl->user);
    } else if (cl->auth == MX_AUTH_KERBEROS) {
        user = principal_user(cl->principal);
    }
    GString *opts = g_string_new(NULL), *loc = g_string_new(NULL);
    if (s->proto == MX_PROTO_SMB) {
        g_string_append(opts, sun && !s->url ? "-fstype=cifs" : "-fstype=url");
        if (cl->auth == MX_AUTH_GUEST)
            g_string_append(opts, ",guest");
        if (cl->auth == MX_AUTH_KERBEROS)
            g_string_append(opts, ",sec=krb5");
        if (creds)
            g_string_append_printf(opts, ",credentials=%s", creds);
        if (s->url) {
            g_string_append(loc, s->url);
        } else if (sun) {
            if (user)
                g_string_append_printf(opts, ",username=%s", user);
            g_string_append_printf(loc, "://%s/%s", host, s->share);
        } else {
            g_string_append(loc, "smb://");
            if (user) {
                url_part(loc, user);
                g_string_append_c(loc, '@');
            }
            g_string_append_printf(loc, "%s/%s", host, s->share);
        }
    } else {
        g_string_append(opts, sun ? "-fstype=afp" : "-fstype=url");
        if (creds)
            g_string_append_printf(opts, ",credentials=%s", creds);
        if (s->url) {
            g_string_append(loc, s->url);
        } else {
            const char *uam = cl->auth == MX_AUTH_GUEST      ? "No User Authent"
                              : cl->auth == MX_AUTH_KERBEROS ? "Client Krb v2"
                              : cl->afp_uam                  ? cl->afp_uam
                                                             : "DHX2";
            g_string_append(loc, "afp://");
            const char *u = user ? user : cl->auth == MX_AUTH_PASSWORD ? cl->user : NULL;
            if (u && cl->auth == MX_AUTH_PASSWORD)
                url_part(loc, u);
            g_string_append(loc, ";AUTH=");
            url_part(loc, uam);
            g_string_append_printf(loc, "@%s/%s", host, s->share);
        }
    }
    g_string_append_printf(map, "%s\t%s\t%s\n", s->name, opts->str, loc->str);
    g_string_free(opts, TRUE);
    g_string_free(loc, TRUE);
    g_free(user);
}

char *mx_cell_map_text(const struct mx_matrix *m, const struct mx_cell *c)
{
    GString *map = g_string_new(NULL);
    g_string_append_printf(map, "# cell %s\n", c->id);
    for (guint i = 0; i < c->target->shares->len; i++)
        add_share_line(map, m, c, c->target->shares->pdata[i]);
    return g_string_free(map, FALSE);
}
