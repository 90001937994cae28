/* JUnit XML as GitLab and Jenkins read it: one <testsuite> per cell,
 * classname = the cell, one <testcase> per result (entry.stage, unique in
 * its cell); <failure> for what gates, <error> for infrastructure,
 * <skipped> for excluded cells and xfail. */
#include <string.h>

#include "matrix.h"

/* Text and attribute values: the five entities, and nothing XML 1.0
 * forbids (control characters become '?', bad UTF-8 U+FFFD). */
void mx_xml_escape(GString *out, const char *s)
{
    if (!s)
        return;
    char *valid = g_utf8_make_valid(s, -1);
    for (const unsigned char *p = (const unsigned char *)valid; *p; p++) {
        switch (*p) {
        case '&': g_string_append(out, "&amp;"); break;
        case '<': g_string_append(out, "&lt;"); break;
        case '>': g_string_append(out, "&gt;"); break;
        case '"': g_string_append(out, "&quot;"); break;
        case '\'': g_string_append(out, "&apos;"); break;
        case '\t': g_string_append(out, "&#9;"); break;
        case '\n': g_string_append(out, "&#10;"); break;
        case '\r': g_string_append(out, "&#13;"); break;
        default: g_string_append_c(out, *p < 0x20 || *p == 0x7f ? '?' : (char)*p);
        }
    }
    g_free(valid);
}

static void attr(GString *o, const char *name, const char *value)
{
    g_string_append_printf(o, " %s=\"", name);
    mx_xml_escape(o, value);
    g_string_append_c(o, '"');
}

static void testcase(GString *o, const char *cell, const char *name, double secs, const char *tag,
                     const char *message, const char *text)
{
    g_string_append(o, "    <testcase");
    attr(o, "classname", cell);
    attr(o, "name", name);
    g_string_append_printf(o, " time=\"%.3f\"", secs);
    if (!tag) {
        if (text) {
            g_string_append(o, "><system-out>");
            mx_xml_escape(o, text);
            g_string_append(o, "</system-out></testcase>\n");
        } else {
            g_string_append(o, "/>\n");
        }
        return;
    }
    g_string_append_printf(o, ">\n      <%s", tag);
    attr(o, "message", message);
    if (strcmp(tag, "skipped"))
        attr(o, "type", message);
    if (text) {
        g_string_append_c(o, '>');
        mx_xml_escape(o, text);
        g_string_append_printf(o, "</%s>\n    </testcase>\n", tag);
    } else {
        g_string_append(o, "/>\n    </testcase>\n");
    }
}

void mx_report_junit(FILE *out, const struct mx_run_info *info, GPtrArray *cells, GPtrArray *verdicts)
{
    GString *body = g_string_new(NULL);
    unsigned all_tests = 0, all_fail = 0, all_err = 0, all_skip = 0;
    for (guint i = 0; i < cells->len; i++) {
        const struct mx_cell *c = cells->pdata[i];
        GString *cases = g_string_new(NULL);
        unsigned tests = 0, fail = 0, err = 0, skip = 0;
        double *secs = info->cell_seconds ? g_hash_table_lookup(info->cell_seconds, c->id) : NULL;
        for (guint k = 0; k < verdicts->len; k++) {
            const struct mx_verdict *v = verdicts->pdata[k];
            if (strcmp(v->cell, c->id))
                continue;
            char *text = mx_verdict_text(v);
            const char *oname = mx_outcome_name(v->outcome);
            tests++;
            if (v->outcome == MX_SKIPPED) {
                skip++;
                testcase(cases, c->id, "excluded", 0, "skipped", v->message, NULL);
            } else if (v->outcome == MX_ERROR) {
                err++;
                testcase(cases, c->id, "cell", 0, "error", v->message, text);
            } else {
                const struct mx_result *r = v->after ? v->after : v->before;
                double t = v->after ? v->after->ms / 1000.0 : 0;
                if (v->gating) {
                    fail++;
                    testcase(cases, c->id, r->name, t, "failure", oname, text);
                } else if (v->outcome == MX_XFAIL) {
                    skip++;
                    testcase(cases, c->id, r->name, t, "skipped", text, NULL);
                } else {
                    testcase(cases, c->id, r->name, t, NULL, NULL, v->outcome == MX_OK ? NULL : text);
                }
            }
            g_free(text);
        }
        g_string_append(body, "  <testsuite");
        attr(body, "name", c->id);
        g_string_append_printf(body, " tests=\"%u\" failures=\"%u\" errors=\"%u\" skipped=\"%u\" time=\"%.3f\">\n",
                               tests, fail, err, skip, secs ? *secs : 0.0);
        g_string_append(body, cases->str);
        g_string_append(body, "  </testsuite>\n");
        g_string_free(cases, TRUE);
        all_tests += tests;
        all_fail += fail;
        all_err += err;
        all_skip += skip;
    }
    /* Results of cells no longer in the matrix. */
    GString *gone = g_string_new(NULL);
    unsigned n_gone = 0;
    for (guint k = 0; k < verdicts->len; k++) {
        const struct mx_verdict *v = verdicts->pdata[k];
        bool known = false;
        for (guint i = 0; i < cells->len && !known; i++)
            known = !strcmp(((struct mx_cell *)cells->pdata[i])->id, v->cell);
        if (known)
            continue;
        char *text = mx_verdict_text(v);
        testcase(gone, v->cell, v->before ? v->before->name : v->id, 0, "failure", mx_outcome_name(v->outcome), text);
        g_free(text);
        n_gone++;
    }
    if (n_gone) {
        g_string_append_printf(body, "  <testsuite name=\"(cells gone from the matrix)\" tests=\"%u\" failures=\"%u\" "
                                     "errors=\"0\" skipped=\"0\">\n%s  </testsuite>\n", n_gone, n_gone, gone->str);
        all_tests += n_gone;
        all_fail += n_gone;
    }
    g_string_free(gone, TRUE);
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"sharesfs matrix\" tests=\"%u\" "
                 "failures=\"%u\" errors=\"%u\" skipped=\"%u\" time=\"%.3f\">\n%s</testsuites>\n",
            all_tests, all_fail, all_err, all_skip, info->seconds, body->str);
    g_string_free(body, TRUE);
}
