/* Outcomes of a run against its baseline and expectations, the summary,
 * and `afptest matrix compare` (two runs or baselines side by side). */
#include <string.h>

#include "matrix.h"

const char *mx_outcome_name(enum mx_outcome o)
{
    static const char *const n[] = {"ok", "CHANGED", "UNEXPECTED(failure)", "UNEXPECTED(success)", "xfail", "NEW",
                                    "MISSING", "ERROR", "skipped"};
    return n[o];
}

bool mx_outcome_gates(enum mx_outcome o)
{
    return o == MX_CHANGED || o == MX_UNEXPECTED_FAILURE || o == MX_UNEXPECTED_SUCCESS || o == MX_MISSING ||
           o == MX_ERROR;
}

static bool same_fields(const struct mx_result *a, const struct mx_result *b)
{
    for (int i = 0; i < MX_N_FIELDS; i++)
        if (strcmp(mx_result_field(a, i), mx_result_field(b, i)))
            return false;
    return true;
}

enum mx_outcome mx_outcome_of(const struct mx_result *before, const struct mx_result *after,
                              const struct mx_expectation *ex)
{
    if (!after)
        return before ? MX_MISSING : MX_OK;
    bool knownfail = ex && ex->kind == MX_EXPECT_KNOWNFAIL;
    if (knownfail)
        return mx_result_passed(after) ? MX_UNEXPECTED_SUCCESS : MX_XFAIL;
    if (!before)
        return MX_NEW;
    bool was = mx_result_passed(before), is = mx_result_passed(after);
    if (was && !is)
        return MX_UNEXPECTED_FAILURE;
    if (!was && is)
        return MX_UNEXPECTED_SUCCESS;
    return same_fields(before, after) ? MX_OK : MX_CHANGED;
}

void mx_verdict_free(void *p)
{
    struct mx_verdict *v = p;
    g_free(v->id);
    g_free(v->cell);
    g_free(v->message);
    g_free(v);
}

static struct mx_verdict *verdict(const char *id, const char *cell, enum mx_outcome o, GPtrArray *expectations)
{
    struct mx_verdict *v = g_new0(struct mx_verdict, 1);
    v->id = g_strdup(id);
    v->cell = g_strdup(cell);
    v->ex = mx_expectation_for(expectations, id);
    v->outcome = o;
    return v;
}

static bool cell_is(const char *id, const char *cell)
{
    size_t n = strlen(cell);
    return strncmp(id, cell, n) == 0 && id[n] == '/';
}

static int by_id(gconstpointer a, gconstpointer b)
{
    const struct mx_verdict *x = *(struct mx_verdict *const *)a, *y = *(struct mx_verdict *const *)b;
    return strcmp(x->id, y->id);
}

GPtrArray *mx_compare_run(GPtrArray *cells, GHashTable *errors, GPtrArray *run, GHashTable *baseline,
                          GPtrArray *expectations)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(mx_verdict_free);
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < cells->len; i++) {
        const struct mx_cell *c = cells->pdata[i];
        const char *msg = errors ? g_hash_table_lookup(errors, c->id) : NULL;
        if (c->excluded || msg) {
            struct mx_verdict *v = verdict(c->id, c->id, c->excluded ? MX_SKIPPED : MX_ERROR, NULL);
            v->message = g_strdup(c->excluded ? c->reason : msg);
            g_ptr_array_add(out, v);
        }
    }
    for (guint i = 0; i < run->len; i++) {
        const struct mx_result *r = run->pdata[i];
        char *id = mx_result_id(r);
        const struct mx_result *before = g_hash_table_lookup(baseline, id);
        struct mx_verdict *v = verdict(id, r->cell, MX_OK, expectations);
        v->before = before;
        v->after = r;
        v->outcome = mx_outcome_of(before, r, v->ex);
        g_ptr_array_add(out, v);
        g_hash_table_add(seen, id);
    }
    /* Baseline results the run did not give: of a cell that ran (or is no
     * longer in the matrix), MISSING; of an excluded or errored cell, left
     * alone (the cell's own verdict says why). */
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, baseline);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        const struct mx_result *b = value;
        if (g_hash_table_contains(seen, key))
            continue;
        bool quiet = false;
        for (guint i = 0; i < cells->len && !quiet; i++) {
            const struct mx_cell *c = cells->pdata[i];
            quiet = cell_is(key, c->id) && (c->excluded || (errors && g_hash_table_contains(errors, c->id)));
        }
        if (quiet)
            continue;
        struct mx_verdict *v = verdict(key, b->cell, MX_MISSING, expectations);
        v->before = b;
        g_ptr_array_add(out, v);
    }
    g_hash_table_destroy(seen);
    g_ptr_array_sort(out, by_id);
    for (guint i = 0; i < out->len; i++) {
        struct mx_verdict *v = out->pdata[i];
        v->gating = mx_outcome_gates(v->outcome) && !(v->ex && v->ex->kind == MX_EXPECT_FLAPPING);
    }
    return out;
}

void mx_summarise(GPtrArray *verdicts, struct mx_summary *s)
{
    memset(s, 0, sizeof(*s));
    s->flapping = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < verdicts->len; i++) {
        const struct mx_verdict *v = verdicts->pdata[i];
        if (v->ex && v->ex->kind == MX_EXPECT_FLAPPING)
            g_ptr_array_add(s->flapping, g_strdup_printf("%s: %s (flapping: %s)", v->id, mx_outcome_name(v->outcome),
                                                         v->ex->reason));
        switch (v->outcome) {
        case MX_SKIPPED: s->skipped++; continue;
        case MX_ERROR: s->errors++; continue;
        case MX_XFAIL: s->xfail++; break;
        case MX_NEW: s->added++; break;
        case MX_MISSING: s->missing++; break;
        case MX_CHANGED: s->changed++; break;
        default: break;
        }
        if (v->gating)
            s->failed++;
        else
            s->passed++;
    }
}

void mx_summary_clear(struct mx_summary *s)
{
    if (s->flapping)
        g_ptr_array_free(s->flapping, TRUE);
    s->flapping = NULL;
}

static void side(GString *t, const char *label, const struct mx_result *r)
{
    if (r)
        g_string_append_printf(t, "%s: stage=%s errno=%s status=%s auth=%s server=%s dialect=%s", label, r->reached,
                               r->result, r->status, r->auth, r->server, r->dialect);
    else
        g_string_append_printf(t, "%s: (none)", label);
}

char *mx_verdict_text(const struct mx_verdict *v)
{
    GString *t = g_string_new(NULL);
    g_string_append_printf(t, "%s %s", mx_outcome_name(v->outcome), v->id);
    if (v->outcome == MX_ERROR || v->outcome == MX_SKIPPED) {
        char *msg = mx_normalise(v->message);
        g_string_append_printf(t, ": %s", msg);
        g_free(msg);
        return g_string_free(t, FALSE);
    }
    char **parts = g_strsplit(v->cell, "/", 3);
    const char *name = v->after ? v->after->name : v->before ? v->before->name : "";
    const char *dot = strrchr(name, '.');
    char *entry = dot ? g_strndup(name, (gsize)(dot - name)) : g_strdup(name);
    g_string_append_printf(t, ": target=%s client=%s entry=%s stage=%s | ", parts[0] ? parts[0] : "",
                           parts[0] && parts[1] ? parts[1] : "", entry, dot ? dot + 1 : "-");
    side(t, "before", v->before);
    g_string_append(t, " | ");
    side(t, "after", v->after);
    if (v->ex)
        g_string_append_printf(t, " | %s: %s", v->ex->kind == MX_EXPECT_KNOWNFAIL ? "knownfail" : "flapping",
                               v->ex->reason);
    if (v->after && !mx_result_passed(v->after) && strcmp(v->after->detail, "-"))
        g_string_append_printf(t, " | detail: %s", v->after->detail);
    g_free(entry);
    g_strfreev(parts);
    return g_string_free(t, FALSE);
}

static int str_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int mx_compare_tables(FILE *out, GHashTable *a, GHashTable *b, const char *name_a, const char *name_b)
{
    GPtrArray *ids = g_ptr_array_new();
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, a);
    while (g_hash_table_iter_next(&it, &key, NULL))
        g_ptr_array_add(ids, key);
    g_hash_table_iter_init(&it, b);
    while (g_hash_table_iter_next(&it, &key, NULL))
        if (!g_hash_table_contains(a, key))
            g_ptr_array_add(ids, key);
    g_ptr_array_sort(ids, str_cmp);
    int w = 10;
    for (guint i = 0; i < ids->len; i++) {
        const struct mx_result *x = g_hash_table_lookup(a, ids->pdata[i]);
        for (int f = 0; x && f < MX_N_FIELDS; f++)
            w = MAX(w, (int)strlen(mx_result_field(x, f)));
    }
    w = MIN(w, 40);
    fprintf(out, "%-8s %-*s %s\n", "field", w, name_a, name_b);
    int differing = 0;
    for (guint i = 0; i < ids->len; i++) {
        const struct mx_result *x = g_hash_table_lookup(a, ids->pdata[i]);
        const struct mx_result *y = g_hash_table_lookup(b, ids->pdata[i]);
        if (x && y && same_fields(x, y))
            continue;
        differing++;
        fprintf(out, "%s\n", (const char *)ids->pdata[i]);
        for (int f = 0; f < MX_N_FIELDS; f++) {
            const char *va = x ? mx_result_field(x, f) : "(absent)", *vb = y ? mx_result_field(y, f) : "(absent)";
            if (strcmp(va, vb))
                fprintf(out, "  %-8s %-*s %s\n", mx_field_names[f], w, va, vb);
        }
    }
    fprintf(out, "%d result%s differ, %u compared\n", differing, differing == 1 ? "" : "s", ids->len);
    g_ptr_array_free(ids, TRUE);
    return differing;
}
