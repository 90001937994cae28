/* The JSON report, schema "sharesfs.matrix/1" (docs/matrix.md).  Written
 * with ": " after each key so that libyaml reads it back (compare). */
#include <string.h>
#include <time.h>

#include "matrix.h"

void mx_json_string(GString *out, const char *s)
{
    if (!s) {
        g_string_append(out, "null");
        return;
    }
    g_string_append_c(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            g_string_append_printf(out, "\\%c", *p);
        else if (*p == '\n')
            g_string_append(out, "\\n");
        else if (*p == '\t')
            g_string_append(out, "\\t");
        else if (*p < 0x20 || *p == 0x7f)
            g_string_append_printf(out, "\\u%04x", *p);
        else
            g_string_append_c(out, (char)*p);
    }
    g_string_append_c(out, '"');
}

static void kv(GString *o, const char *k, const char *v, bool comma)
{
    mx_json_string(o, k);
    g_string_append(o, ": ");
    mx_json_string(o, v);
    if (comma)
        g_string_append(o, ", ");
}

static void fields(GString *o, const struct mx_result *r)
{
    for (int f = 0; f < MX_N_FIELDS; f++)
        kv(o, mx_field_names[f], mx_result_field(r, f), f + 1 < MX_N_FIELDS);
}

static void result_json(GString *o, const struct mx_verdict *v)
{
    const struct mx_result *r = v->after ? v->after : v->before;
    g_string_append(o, "{");
    kv(o, "id", v->id, true);
    kv(o, "name", r->name, true);
    kv(o, "outcome", mx_outcome_name(v->outcome), true);
    g_string_append_printf(o, "\"gating\": %s, ", v->gating ? "true" : "false");
    if (v->after) {
        fields(o, v->after);
        g_string_append(o, ", ");
        kv(o, "detail", v->after->detail, true);
        g_string_append_printf(o, "\"ms\": %.1f, ", v->after->ms);
    }
    g_string_append(o, "\"baseline\": ");
    if (v->before) {
        g_string_append(o, "{");
        fields(o, v->before);
        g_string_append(o, "}");
    } else {
        g_string_append(o, "null");
    }
    g_string_append(o, ", \"expectation\": ");
    if (v->ex) {
        g_string_append(o, "{");
        kv(o, "kind", v->ex->kind == MX_EXPECT_KNOWNFAIL ? "knownfail" : "flapping", true);
        kv(o, "pattern", v->ex->pattern, true);
        kv(o, "reason", v->ex->reason, false);
        g_string_append(o, "}");
    } else {
        g_string_append(o, "null");
    }
    g_string_append(o, "}");
}

static void cell_json(GString *o, const struct mx_run_info *info, const struct mx_cell *c, GPtrArray *verdicts)
{
    const struct mx_verdict *state = NULL;
    for (guint i = 0; i < verdicts->len && !state; i++) {
        const struct mx_verdict *v = verdicts->pdata[i];
        if (!strcmp(v->id, c->id) && (v->outcome == MX_ERROR || v->outcome == MX_SKIPPED))
            state = v;
    }
    g_string_append(o, "{");
    kv(o, "cell", c->id, true);
    kv(o, "target", c->target->name, true);
    kv(o, "target_kind", mx_target_kind_name(c->target->kind), true);
    kv(o, "client", c->client->name, true);
    kv(o, "suite", c->suite->name, true);
    kv(o, "state", c->excluded ? "excluded" : state ? "error" : "ran", true);
    kv(o, "reason", state ? state->message : NULL, true);
    double *secs = info->cell_seconds ? g_hash_table_lookup(info->cell_seconds, c->id) : NULL;
    g_string_append_printf(o, "\"seconds\": %.2f, \"results\": [", secs ? *secs : 0.0);
    bool first = true;
    for (guint i = 0; i < verdicts->len; i++) {
        const struct mx_verdict *v = verdicts->pdata[i];
        if (strcmp(v->cell, c->id) || v->outcome == MX_ERROR || v->outcome == MX_SKIPPED)
            continue;
        g_string_append(o, first ? "\n    " : ",\n    ");
        result_json(o, v);
        first = false;
    }
    g_string_append(o, "]}");
}

void mx_report_json(FILE *out, const struct mx_run_info *info, GPtrArray *cells, GPtrArray *verdicts,
                    const struct mx_summary *s)
{
    GString *o = g_string_new("{");
    char when[32];
    time_t now = time(NULL);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    kv(o, "schema", MX_JSON_SCHEMA, true);
    kv(o, "version", SHARESFS_VERSION, true);
    kv(o, "generated", when, true);
    kv(o, "matrix", info->matrix, true);
    kv(o, "baseline", info->baseline, true);
    g_string_append_printf(o, "\"jobs\": %d, \"seconds\": %.2f,\n\"cells\": [", info->jobs, info->seconds);
    for (guint i = 0; i < cells->len; i++) {
        g_string_append(o, i ? ",\n  " : "\n  ");
        cell_json(o, info, cells->pdata[i], verdicts);
    }
    /* Results of cells no longer in the matrix. */
    g_string_append(o, "],\n\"missing\": [");
    bool first = true;
    for (guint i = 0; i < verdicts->len; i++) {
        const struct mx_verdict *v = verdicts->pdata[i];
        bool known = false;
        for (guint k = 0; k < cells->len && !known; k++)
            known = !strcmp(((struct mx_cell *)cells->pdata[k])->id, v->cell);
        if (known || v->outcome != MX_MISSING)
            continue;
        g_string_append(o, first ? "\n  " : ",\n  ");
        result_json(o, v);
        first = false;
    }
    g_string_append_printf(o,
                           "],\n\"summary\": {\"passed\": %u, \"failed\": %u, \"errors\": %u, \"xfail\": %u, "
                           "\"new\": %u, \"missing\": %u, \"changed\": %u, \"skipped_cells\": %u, \"flapping\": [",
                           s->passed, s->failed, s->errors, s->xfail, s->added, s->missing, s->changed, s->skipped);
    for (guint i = 0; i < s->flapping->len; i++) {
        if (i)
            g_string_append(o, ", ");
        mx_json_string(o, s->flapping->pdata[i]);
    }
    g_string_append(o, "]}}\n");
    fputs(o->str, out);
    g_string_free(o, TRUE);
}
