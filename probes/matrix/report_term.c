/* What the terminal shows at the end: a line per result that is not ok
 * (each names target, client, entry, stage, errno and status before and
 * after), a table of the unexpected ones on a terminal, and the summary:
 * "N passed, N failed", errors apart, flapping entries always listed. */
#include <string.h>

#include "matrix.h"

static void table(FILE *out, GPtrArray *verdicts)
{
    unsigned n = 0;
    for (guint i = 0; i < verdicts->len; i++)
        n += ((struct mx_verdict *)verdicts->pdata[i])->gating;
    if (!n)
        return;
    fprintf(out, "\n%-20s %-40s %-25s %-30s %s\n", "OUTCOME", "RESULT", "STAGE", "ERRNO", "STATUS");
    for (guint i = 0; i < verdicts->len; i++) {
        const struct mx_verdict *v = verdicts->pdata[i];
        if (!v->gating)
            continue;
        const struct mx_result *b = v->before, *a = v->after;
        char *stage = g_strdup_printf("%s -> %s", b ? b->reached : "", a ? a->reached : "");
        char *err = g_strdup_printf("%s -> %s", b ? b->result : "", a ? a->result : "");
        char *st = g_strdup_printf("%s -> %s", b ? b->status : "", a ? a->status : "");
        if (v->outcome == MX_ERROR)
            fprintf(out, "%-20s %-40s %s\n", mx_outcome_name(v->outcome), v->id, v->message ? v->message : "");
        else
            fprintf(out, "%-20s %-40s %-25s %-30s %s\n", mx_outcome_name(v->outcome), v->id, stage, err, st);
        g_free(stage);
        g_free(err);
        g_free(st);
    }
}

void mx_report_terminal(FILE *out, GPtrArray *verdicts, const struct mx_summary *s, bool tty)
{
    for (guint i = 0; i < verdicts->len; i++) {
        const struct mx_verdict *v = verdicts->pdata[i];
        if (v->outcome == MX_OK || v->outcome == MX_SKIPPED)
            continue;
        char *text = mx_verdict_text(v);
        fprintf(out, "%s\n", text);
        g_free(text);
    }
    if (tty)
        table(out, verdicts);
    fprintf(out, "\n%u passed, %u failed", s->passed, s->failed);
    fprintf(out, " (%u changed, %u missing; %u xfail, %u new; %u cells excluded or not selected)", s->changed, s->missing, s->xfail,
            s->added, s->skipped);
    if (s->errors)
        fprintf(out, ", %u ERROR (infrastructure)", s->errors);
    fputc('\n', out);
    fprintf(out, "flapping: %u%s\n", s->flapping->len, s->flapping->len ? "" : " (none listed)");
    for (guint i = 0; i < s->flapping->len; i++)
        fprintf(out, "  %s\n", (const char *)s->flapping->pdata[i]);
    fprintf(out, "%s\n", s->failed || s->errors ? "FAILED" : "ALL OK");
}
