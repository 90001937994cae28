/* One compared result and its baseline line:
 *   entry.stage <TAB> reached <TAB> result <TAB> status <TAB> auth <TAB> server <TAB> dialect
 * Never a timing: a baseline changes only when behaviour does. */
#include <string.h>

#include "matrix.h"

const char *const mx_field_names[MX_N_FIELDS] = {"stage", "result", "status", "auth", "server", "dialect"};

const char *mx_result_field(const struct mx_result *r, int i)
{
    switch (i) {
    case 0: return r->reached;
    case 1: return r->result;
    case 2: return r->status;
    case 3: return r->auth;
    case 4: return r->server;
    default: return r->dialect;
    }
}

char *mx_normalise(const char *s)
{
    if (!s)
        return g_strdup("-");
    char *n = g_strstrip(g_strdup(s));
    for (char *p = n; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    if (!*n) {
        g_free(n);
        return g_strdup("-");
    }
    return n;
}

struct mx_result *mx_result_new(const char *cell, const char *name)
{
    struct mx_result *r = g_new0(struct mx_result, 1);
    r->cell = g_strdup(cell);
    r->name = g_strdup(name);
    mx_result_set(r, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    return r;
}

void mx_result_set(struct mx_result *r, const char *reached, const char *result, const char *status,
                   const char *auth, const char *server, const char *dialect, const char *detail)
{
    char **fields[] = {&r->reached, &r->result, &r->status, &r->auth, &r->server, &r->dialect, &r->detail};
    const char *values[] = {reached, result, status, auth, server, dialect, detail};
    for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
        g_free(*fields[i]);
        *fields[i] = mx_normalise(values[i]);
    }
}

void mx_result_free(void *p)
{
    struct mx_result *r = p;
    if (!r)
        return;
    g_free(r->cell);
    g_free(r->name);
    g_free(r->reached);
    g_free(r->result);
    g_free(r->status);
    g_free(r->auth);
    g_free(r->server);
    g_free(r->dialect);
    g_free(r->detail);
    g_free(r);
}

bool mx_result_passed(const struct mx_result *r)
{
    return strcmp(r->result, "ok") == 0;
}

char *mx_result_id(const struct mx_result *r)
{
    return g_strdup_printf("%s/%s", r->cell, r->name);
}

char *mx_result_line(const struct mx_result *r)
{
    return g_strdup_printf("%s\t%s\t%s\t%s\t%s\t%s\t%s", r->name, r->reached, r->result, r->status, r->auth,
                           r->server, r->dialect);
}

struct mx_result *mx_result_from_line(const char *cell, const char *line)
{
    char **f = g_strsplit(line, "\t", -1);
    if (g_strv_length(f) != 7 || !strchr(f[0], '.')) {
        g_strfreev(f);
        return NULL;
    }
    struct mx_result *r = mx_result_new(cell, f[0]);
    mx_result_set(r, f[1], f[2], f[3], f[4], f[5], f[6], NULL);
    g_strfreev(f);
    return r;
}

static int by_id(gconstpointer a, gconstpointer b)
{
    const struct mx_result *x = *(struct mx_result *const *)a, *y = *(struct mx_result *const *)b;
    int c = strcmp(x->cell, y->cell);
    return c ? c : strcmp(x->name, y->name);
}

void mx_results_sort(GPtrArray *results)
{
    g_ptr_array_sort(results, by_id);
}
