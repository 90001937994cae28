/* The baseline directory: one sorted, tab-separated file per cell
 * (TARGET.CLIENT.SUITE.tsv) and `expectations` (knownfail / flapping, each
 * with a reason).  Also reads a JSON report back (libyaml reads JSON). */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "matrix.h"

char *mx_baseline_file_name(const char *cell)
{
    char *n = g_strdup_printf("%s.tsv", cell);
    for (char *p = n; *p; p++)
        if (*p == '/')
            *p = '.';
    return n;
}

static char *cell_of_file(const char *name)
{
    if (!g_str_has_suffix(name, ".tsv") || name[0] == '.')
        return NULL;
    char *c = g_strndup(name, strlen(name) - 4);
    for (char *p = c; *p; p++)
        if (*p == '.')
            *p = '/';
    return c;
}

static GHashTable *new_table(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, mx_result_free);
}

static bool load_file(GHashTable *t, const char *dir, const char *name, const char *cell, struct mx_error *err)
{
    char *path = g_build_filename(dir, name, NULL), *text = NULL;
    GError *gerr = NULL;
    bool ok = g_file_get_contents(path, &text, NULL, &gerr);
    if (!ok) {
        mx_error_set(err, path, 0, 0, "%s", gerr->message);
        g_error_free(gerr);
    }
    char **lines = ok ? g_strsplit(text, "\n", -1) : NULL;
    for (int i = 0; ok && lines[i]; i++) {
        if (!lines[i][0] || lines[i][0] == '#')
            continue;
        struct mx_result *r = mx_result_from_line(cell, lines[i]);
        if (!r) {
            mx_error_set(err, path, i + 1, 1, "expected 7 tab-separated fields: entry.stage, stage, result, "
                                             "status, auth, server, dialect");
            ok = false;
            break;
        }
        g_hash_table_replace(t, mx_result_id(r), r);
    }
    g_strfreev(lines);
    g_free(text);
    g_free(path);
    return ok;
}

GHashTable *mx_baseline_load(const char *dir, struct mx_error *err)
{
    GHashTable *t = new_table();
    GError *gerr = NULL;
    GDir *d = g_dir_open(dir, 0, &gerr);
    if (!d) {
        if (g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
            g_error_free(gerr);
            return t;   /* no baseline yet: everything is NEW */
        }
        mx_error_set(err, dir, 0, 0, "%s", gerr->message);
        g_error_free(gerr);
        g_hash_table_destroy(t);
        return NULL;
    }
    const char *name;
    bool ok = true;
    while (ok && (name = g_dir_read_name(d))) {
        char *cell = cell_of_file(name);
        if (cell)
            ok = load_file(t, dir, name, cell, err);
        g_free(cell);
    }
    g_dir_close(d);
    if (!ok) {
        g_hash_table_destroy(t);
        return NULL;
    }
    return t;
}

static int write_cell(const char *dir, const char *cell, GPtrArray *results, guint from, guint to,
                      struct mx_error *err)
{
    char *name = mx_baseline_file_name(cell);
    char *path = g_build_filename(dir, name, NULL);
    GString *text = g_string_new(MX_BASELINE_HEADER);
    g_string_append_printf(text, ": %s\n# entry.stage\tstage\tresult\tstatus\tauth\tserver\tdialect\n", cell);
    for (guint i = from; i < to; i++) {
        char *line = mx_result_line(results->pdata[i]);
        g_string_append_printf(text, "%s\n", line);
        g_free(line);
    }
    GError *gerr = NULL;
    int rc = 0;
    if (!g_file_set_contents(path, text->str, (gssize)text->len, &gerr)) {
        mx_error_set(err, path, 0, 0, "%s", gerr->message);
        g_error_free(gerr);
        rc = -EIO;
    }
    g_string_free(text, TRUE);
    g_free(path);
    g_free(name);
    return rc;
}

int mx_baseline_write(const char *dir, GPtrArray *results, GPtrArray *keep_cells, struct mx_error *err)
{
    if (g_mkdir_with_parents(dir, 0755) < 0) {
        mx_error_set(err, dir, 0, 0, "%s", g_strerror(errno));
        return -errno;
    }
    GPtrArray *sorted = g_ptr_array_copy(results, NULL, NULL);
    g_ptr_array_set_free_func(sorted, NULL);   /* the copy took the owner's */
    mx_results_sort(sorted);
    int rc = 0;
    for (guint i = 0; i < sorted->len && rc == 0;) {
        const char *cell = ((struct mx_result *)sorted->pdata[i])->cell;
        guint j = i;
        while (j < sorted->len && !strcmp(((struct mx_result *)sorted->pdata[j])->cell, cell))
            j++;
        rc = write_cell(dir, cell, sorted, i, j, err);
        i = j;
    }
    g_ptr_array_free(sorted, TRUE);
    /* Files of cells gone from the matrix (or excluded by it) go. */
    GDir *d = rc == 0 ? g_dir_open(dir, 0, NULL) : NULL;
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        char *cell = cell_of_file(name);
        bool keep = !cell;
        for (guint k = 0; cell && k < keep_cells->len && !keep; k++)
            keep = !strcmp(cell, keep_cells->pdata[k]);
        if (!keep) {
            char *path = g_build_filename(dir, name, NULL);
            unlink(path);
            g_free(path);
        }
        g_free(cell);
    }
    if (d)
        g_dir_close(d);
    return rc;
}

void mx_expectation_free(void *p)
{
    struct mx_expectation *e = p;
    g_free(e->pattern);
    g_free(e->reason);
    g_free(e);
}

GPtrArray *mx_expectations_parse(const char *text, const char *name, struct mx_error *err)
{
    GPtrArray *list = g_ptr_array_new_with_free_func(mx_expectation_free);
    char **lines = g_strsplit(text, "\n", -1);
    bool ok = true;
    for (int i = 0; ok && lines[i]; i++) {
        char *l = g_strstrip(lines[i]);
        if (!*l || *l == '#')
            continue;
        char **w = g_strsplit_set(l, " \t", 3);
        int n = (int)g_strv_length(w);
        enum mx_expect_kind kind = n < 1                        ? MX_EXPECT_NONE
                                   : !strcmp(w[0], "knownfail") ? MX_EXPECT_KNOWNFAIL
                                   : !strcmp(w[0], "flapping")  ? MX_EXPECT_FLAPPING
                                                                : MX_EXPECT_NONE;
        char *reason = n == 3 ? g_strstrip(g_strdup(w[2])) : NULL;
        if (kind == MX_EXPECT_NONE) {
            mx_error_set(err, name, i + 1, 1, "expected 'knownfail' or 'flapping', not '%s'", w[0]);
            ok = false;
        } else if (n < 2 || !*w[1] || !reason || !*reason) {
            mx_error_set(err, name, i + 1, (int)strlen(l) + 1,
                         "%s needs a result pattern (target/client/suite/entry.stage, globs allowed) and a reason",
                         w[0]);
            ok = false;
        } else {
            struct mx_expectation *e = g_new0(struct mx_expectation, 1);
            e->kind = kind;
            e->pattern = g_strdup(w[1]);
            e->reason = g_strdup(reason);
            e->line = i + 1;
            g_ptr_array_add(list, e);
        }
        g_free(reason);
        g_strfreev(w);
    }
    g_strfreev(lines);
    if (!ok) {
        g_ptr_array_free(list, TRUE);
        return NULL;
    }
    return list;
}

GPtrArray *mx_expectations_load(const char *dir, struct mx_error *err)
{
    char *path = g_build_filename(dir, "expectations", NULL), *text = NULL;
    GError *gerr = NULL;
    GPtrArray *list = NULL;
    if (g_file_get_contents(path, &text, NULL, &gerr)) {
        list = mx_expectations_parse(text, path, err);
    } else if (g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
        list = g_ptr_array_new_with_free_func(mx_expectation_free);
    } else {
        mx_error_set(err, path, 0, 0, "%s", gerr->message);
    }
    if (gerr)
        g_error_free(gerr);
    g_free(text);
    g_free(path);
    return list;
}

/* The first entry that matches wins; knownfail over flapping when both do. */
const struct mx_expectation *mx_expectation_for(GPtrArray *expectations, const char *id)
{
    const struct mx_expectation *found = NULL;
    for (guint i = 0; expectations && i < expectations->len; i++) {
        const struct mx_expectation *e = expectations->pdata[i];
        if (fnmatch(e->pattern, id, 0) == 0 && (!found || (found->kind == MX_EXPECT_FLAPPING &&
                                                           e->kind == MX_EXPECT_KNOWNFAIL)))
            found = e;
    }
    return found;
}

/* ---- a JSON report read back: JSON is YAML's flow style ---- */

static const char *jscalar(yaml_document_t *d, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(d, p->key), *v = yaml_document_get_node(d, p->value);
        if (k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
            return v->type == YAML_SCALAR_NODE ? (const char *)v->data.scalar.value : NULL;
    }
    return NULL;
}

static yaml_node_t *jget(yaml_document_t *d, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(d, p->key);
        if (k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
            return yaml_document_get_node(d, p->value);
    }
    return NULL;
}

static GHashTable *load_json(const char *path, struct mx_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        mx_error_set(err, path, 0, 0, "%s", g_strerror(errno));
        return NULL;
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    GHashTable *t = NULL;
    if (!yaml_parser_load(&parser, &doc)) {
        mx_error_set(err, path, (int)parser.problem_mark.line + 1, (int)parser.problem_mark.column + 1, "%s",
                     parser.problem ? parser.problem : "not JSON");
        yaml_parser_delete(&parser);
        fclose(f);
        return NULL;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    const char *schema = jscalar(&doc, root, "schema");
    yaml_node_t *cells = jget(&doc, root, "cells");
    if (!schema || strcmp(schema, MX_JSON_SCHEMA) || !cells || cells->type != YAML_SEQUENCE_NODE) {
        mx_error_set(err, path, 1, 1, "not a matrix report (schema %s)", MX_JSON_SCHEMA);
    } else {
        t = new_table();
        for (yaml_node_item_t *i = cells->data.sequence.items.start; i < cells->data.sequence.items.top; i++) {
            yaml_node_t *cell = yaml_document_get_node(&doc, *i);
            yaml_node_t *rs = jget(&doc, cell, "results");
            const char *id = jscalar(&doc, cell, "cell");
            for (yaml_node_item_t *j = rs && rs->type == YAML_SEQUENCE_NODE ? rs->data.sequence.items.start : NULL;
                 j && j < rs->data.sequence.items.top; j++) {
                yaml_node_t *r = yaml_document_get_node(&doc, *j);
                const char *name = jscalar(&doc, r, "name");
                if (!id || !name || !jscalar(&doc, r, "result"))
                    continue;   /* MISSING: only its baseline side */
                struct mx_result *res = mx_result_new(id, name);
                mx_result_set(res, jscalar(&doc, r, "stage"), jscalar(&doc, r, "result"), jscalar(&doc, r, "status"),
                              jscalar(&doc, r, "auth"), jscalar(&doc, r, "server"), jscalar(&doc, r, "dialect"),
                              jscalar(&doc, r, "detail"));
                g_hash_table_replace(t, mx_result_id(res), res);
            }
        }
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(f);
    return t;
}

GHashTable *mx_results_load_any(const char *path, struct mx_error *err)
{
    if (g_file_test(path, G_FILE_TEST_IS_DIR))
        return mx_baseline_load(path, err);
    return load_json(path, err);
}
