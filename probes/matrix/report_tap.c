/* TAP version 14: one test point per result, an excluded cell as one
 * `# SKIP`, an expected failure (knownfail) and a failing flapping entry
 * as `# TODO`; a YAML block says before and after. */
#include <string.h>

#include "matrix.h"

/* A description may hold neither '#' nor '\' unescaped, nor a newline. */
static void tap_text(GString *o, const char *s)
{
    for (const char *p = s ? s : ""; *p; p++) {
        if (*p == '#' || *p == '\\')
            g_string_append_c(o, '\\');
        g_string_append_c(o, (unsigned char)*p < 0x20 ? ' ' : *p);
    }
}

static void yaml_value(GString *o, const char *key, const char *value)
{
    g_string_append_printf(o, "  %s: \"", key);
    for (const unsigned char *p = (const unsigned char *)(value ? value : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            g_string_append_printf(o, "\\%c", *p);
        else if (*p < 0x20)
            g_string_append_printf(o, "\\x%02x", *p);
        else
            g_string_append_c(o, (char)*p);
    }
    g_string_append(o, "\"\n");
}

void mx_report_tap(FILE *out, GPtrArray *verdicts)
{
    GString *o = g_string_new("TAP version 14\n");
    g_string_append_printf(o, "1..%u\n", verdicts->len);
    for (guint i = 0; i < verdicts->len; i++) {
        const struct mx_verdict *v = verdicts->pdata[i];
        bool flapping = v->ex && v->ex->kind == MX_EXPECT_FLAPPING;
        bool bad = v->gating || v->outcome == MX_XFAIL || (flapping && mx_outcome_gates(v->outcome));
        g_string_append_printf(o, "%s %u - ", bad ? "not ok" : "ok", i + 1);
        tap_text(o, v->id);
        if (v->outcome == MX_SKIPPED) {
            g_string_append(o, " # SKIP excluded: ");
            tap_text(o, v->message);
        } else if (v->outcome == MX_XFAIL || (flapping && bad)) {
            g_string_append(o, " # TODO ");
            tap_text(o, v->ex->kind == MX_EXPECT_KNOWNFAIL ? "knownfail: " : "flapping: ");
            tap_text(o, v->ex->reason);
        }
        g_string_append_c(o, '\n');
        if (v->outcome == MX_OK || v->outcome == MX_SKIPPED)
            continue;
        char *text = mx_verdict_text(v);
        g_string_append(o, "  ---\n");
        yaml_value(o, "outcome", mx_outcome_name(v->outcome));
        yaml_value(o, "message", text);
        g_string_append(o, "  ...\n");
        g_free(text);
    }
    fputs(o->str, out);
    g_string_free(o, TRUE);
}
