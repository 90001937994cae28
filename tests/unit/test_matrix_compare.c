/* Unit tests for probes/matrix/compare.c and baseline.c: each outcome on
 * fixture results (tests/unit/data/matrix/baseline), expectations, the
 * baseline files, the JSON report read back, `matrix compare`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "matrix.h"

#ifndef TEST_DATA
#define TEST_DATA "tests/unit/data"
#endif
#define BASE TEST_DATA "/matrix/baseline"

static const char *matrix_text = "version: 1\n"
                                 "targets:\n  lab: {kind: lab, shares: {smb: [a, b]}}\n"
                                 "clients:\n  guest: {auth: guest}\n  krb: {auth: kerberos, principal: p}\n"
                                 "suites:\n  probe:\n";

static struct mx_result *res(const char *cell, const char *name, const char *stage, const char *result,
                             const char *status, const char *dialect)
{
    struct mx_result *r = mx_result_new(cell, name);
    mx_result_set(r, stage, result, status, "guest", NULL, dialect, result && strcmp(result, "ok") ? "why" : NULL);
    return r;
}

struct fixture {
    struct mx_matrix *m;
    GPtrArray *cells, *run, *expect, *verdicts;
    GHashTable *baseline, *errors;
};

static int setup(void **state)
{
    struct fixture *f = g_new0(struct fixture, 1);
    struct mx_error err;
    f->m = mx_matrix_parse_text(matrix_text, strlen(matrix_text), "mem.yaml", &err);
    assert_non_null(f->m);
    f->cells = mx_cells(f->m);
    f->baseline = mx_baseline_load(BASE, &err);
    assert_non_null(f->baseline);
    assert_int_equal(g_hash_table_size(f->baseline), 8);
    /* A baseline result of a cell that is no longer in the matrix. */
    struct mx_result *old = res("old/guest/probe", "smb-x.read", "read", "ok", NULL, "SMB3_11");
    g_hash_table_replace(f->baseline, mx_result_id(old), old);
    f->expect = mx_expectations_load(BASE, &err);
    assert_non_null(f->expect);
    assert_int_equal(f->expect->len, 2);
    const char *c = "lab/guest/probe";
    f->run = g_ptr_array_new_with_free_func(mx_result_free);
    g_ptr_array_add(f->run, res(c, "smb-a.read", "read", "ok", NULL, "SMB3_11"));                  /* ok */
    struct mx_result *b = res(c, "smb-b.read", "authenticate", "EACCES", "NT_STATUS_LOGON_FAILURE", "SMB3_11");
    g_free(b->auth);
    b->auth = g_strdup("ntlmssp");
    g_ptr_array_add(f->run, b);                                                                      /* ok */
    g_ptr_array_add(f->run, res(c, "smb-c.read", "connect", "EHOSTUNREACH", NULL, NULL));           /* UNEXPECTED(failure) */
    g_ptr_array_add(f->run, res(c, "smb-d.read", "read", "ok", NULL, "SMB3_02"));                   /* CHANGED */
    g_ptr_array_add(f->run, res(c, "smb-e.read", "read", "ok", NULL, "SMB3_11"));                   /* UNEXPECTED(success) */
    g_ptr_array_add(f->run, res(c, "smb-public.read", "mount", "EACCES", "NT_STATUS_ACCESS_DENIED", "SMB3_11")); /* xfail */
    g_ptr_array_add(f->run, res(c, "smb-slow.read", "connect", "ETIMEDOUT", NULL, NULL));           /* flapping */
    g_ptr_array_add(f->run, res(c, "smb-new.read", "read", "ok", NULL, "SMB3_11"));                 /* NEW */
    f->errors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_hash_table_replace(f->errors, g_strdup("lab/krb/probe"), g_strdup("client krb: ticket_command failed"));
    f->verdicts = mx_compare_run(f->cells, f->errors, f->run, f->baseline, f->expect);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    g_ptr_array_free(f->verdicts, TRUE);
    g_ptr_array_free(f->run, TRUE);
    g_ptr_array_free(f->expect, TRUE);
    g_ptr_array_free(f->cells, TRUE);
    g_hash_table_destroy(f->baseline);
    g_hash_table_destroy(f->errors);
    mx_matrix_free(f->m);
    g_free(f);
    return 0;
}

static const struct mx_verdict *find(GPtrArray *verdicts, const char *id)
{
    for (guint i = 0; i < verdicts->len; i++)
        if (!strcmp(((struct mx_verdict *)verdicts->pdata[i])->id, id))
            return verdicts->pdata[i];
    fail_msg("no verdict for %s", id);
    return NULL;
}

static void test_outcomes(void **state)
{
    struct fixture *f = *state;
    const struct {
        const char *id;
        enum mx_outcome o;
        bool gating;
    } want[] = {
        {"lab/guest/probe/smb-a.read", MX_OK, false},
        {"lab/guest/probe/smb-b.read", MX_OK, false},
        {"lab/guest/probe/smb-c.read", MX_UNEXPECTED_FAILURE, true},
        {"lab/guest/probe/smb-d.read", MX_CHANGED, true},
        {"lab/guest/probe/smb-e.read", MX_UNEXPECTED_SUCCESS, true},
        {"lab/guest/probe/smb-gone.read", MX_MISSING, true},
        {"lab/guest/probe/smb-public.read", MX_XFAIL, false},
        {"lab/guest/probe/smb-slow.read", MX_UNEXPECTED_FAILURE, false},
        {"lab/guest/probe/smb-new.read", MX_NEW, false},
        {"old/guest/probe/smb-x.read", MX_MISSING, true},
        {"lab/krb/probe", MX_ERROR, true},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
        const struct mx_verdict *v = find(f->verdicts, want[i].id);
        if (v->outcome != want[i].o || v->gating != want[i].gating)
            fail_msg("%s: %s%s, expected %s%s", want[i].id, mx_outcome_name(v->outcome), v->gating ? " (gating)" : "",
                     mx_outcome_name(want[i].o), want[i].gating ? " (gating)" : "");
    }
    assert_int_equal(f->verdicts->len, G_N_ELEMENTS(want));
    struct mx_summary s;
    mx_summarise(f->verdicts, &s);
    assert_int_equal(s.passed, 5);   /* a, b, public (xfail), slow (flapping), new */
    assert_int_equal(s.failed, 5);   /* c, d, e, gone, old */
    assert_int_equal(s.errors, 1);
    assert_int_equal(s.xfail, 1);
    assert_int_equal(s.missing, 2);
    assert_int_equal(s.flapping->len, 1);
    assert_non_null(strstr(s.flapping->pdata[0], "smb-slow.read"));
    assert_non_null(strstr(s.flapping->pdata[0], "slow server"));
    mx_summary_clear(&s);
}

static void test_knownfail_passes(void **state)
{
    (void)state;
    struct mx_error err;
    const char *text = "knownfail\tt/c/s/e.read\tbroken since 4.13\n";
    GPtrArray *ex = mx_expectations_parse(text, "expectations", &err);
    assert_non_null(ex);
    struct mx_result *before = res("t/c/s", "e.read", "mount", "EACCES", NULL, NULL);
    struct mx_result *after = res("t/c/s", "e.read", "read", "ok", NULL, NULL);
    const struct mx_expectation *e = mx_expectation_for(ex, "t/c/s/e.read");
    assert_non_null(e);
    assert_int_equal(mx_outcome_of(before, after, e), MX_UNEXPECTED_SUCCESS);
    assert_int_equal(mx_outcome_of(before, before, e), MX_XFAIL);
    assert_int_equal(mx_outcome_of(NULL, before, e), MX_XFAIL);
    assert_int_equal(mx_outcome_of(before, NULL, NULL), MX_MISSING);
    mx_result_free(before);
    mx_result_free(after);
    g_ptr_array_free(ex, TRUE);
}

static void test_expectation_errors(void **state)
{
    (void)state;
    struct mx_error err;
    assert_null(mx_expectations_parse("# c\nknownfail a/b/c/d.read\n", "ex", &err));
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.message, "reason"));
    assert_null(mx_expectations_parse("expunge a/b/c/d.read because\n", "ex", &err));
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, 1);
}

static void test_verdict_text(void **state)
{
    struct fixture *f = *state;
    char *t = mx_verdict_text(find(f->verdicts, "lab/guest/probe/smb-c.read"));
    const char *parts[] = {"UNEXPECTED(failure)", "target=lab", "client=guest", "entry=smb-c", "stage=read",
                           "before: stage=read errno=ok status=-", "after: stage=connect errno=EHOSTUNREACH status=-"};
    for (size_t i = 0; i < G_N_ELEMENTS(parts); i++)
        if (!strstr(t, parts[i]))
            fail_msg("'%s' not in '%s'", parts[i], t);
    g_free(t);
    t = mx_verdict_text(find(f->verdicts, "lab/guest/probe/smb-d.read"));
    assert_non_null(strstr(t, "CHANGED"));
    assert_non_null(strstr(t, "dialect=SMB3_11"));
    assert_non_null(strstr(t, "dialect=SMB3_02"));
    g_free(t);
}

static void test_baseline_roundtrip(void **state)
{
    struct fixture *f = *state;
    char *dir = g_dir_make_tmp("mx-base-XXXXXX", NULL);
    char *stale = g_build_filename(dir, "gone.guest.probe.tsv", NULL);
    g_file_set_contents(stale, MX_BASELINE_HEADER "\n", -1, NULL);
    GPtrArray *keep = g_ptr_array_new();
    g_ptr_array_add(keep, "lab/guest/probe");
    struct mx_error err;
    assert_int_equal(mx_baseline_write(dir, f->run, keep, &err), 0);
    assert_false(g_file_test(stale, G_FILE_TEST_EXISTS));
    GHashTable *back = mx_baseline_load(dir, &err);
    assert_non_null(back);
    assert_int_equal(g_hash_table_size(back), f->run->len);
    for (guint i = 0; i < f->run->len; i++) {
        char *id = mx_result_id(f->run->pdata[i]);
        const struct mx_result *b = g_hash_table_lookup(back, id);
        assert_non_null(b);
        for (int k = 0; k < MX_N_FIELDS; k++)
            assert_string_equal(mx_result_field(b, k), mx_result_field(f->run->pdata[i], k));
        g_free(id);
    }
    /* Sorted, one line per result, no timing. */
    char *path = g_build_filename(dir, "lab.guest.probe.tsv", NULL), *text = NULL;
    assert_true(g_file_get_contents(path, &text, NULL, NULL));
    char **lines = g_strsplit(text, "\n", -1);
    const char *prev = "";
    for (int i = 0; lines[i]; i++) {
        if (!lines[i][0] || lines[i][0] == '#')
            continue;
        assert_true(strcmp(prev, lines[i]) < 0);
        prev = lines[i];
    }
    g_strfreev(lines);
    g_free(text);
    unlink(path);
    g_free(path);
    rmdir(dir);
    g_hash_table_destroy(back);
    g_ptr_array_free(keep, TRUE);
    g_free(stale);
    g_free(dir);
}

static void test_json_and_compare(void **state)
{
    struct fixture *f = *state;
    char *dir = g_dir_make_tmp("mx-json-XXXXXX", NULL);
    char *path = g_build_filename(dir, "run.json", NULL);
    FILE *out = fopen(path, "w");
    struct mx_summary s;
    mx_summarise(f->verdicts, &s);
    struct mx_run_info info = {.matrix = "mem.yaml", .baseline = BASE, .jobs = 2, .seconds = 1.5};
    mx_report_json(out, &info, f->cells, f->verdicts, &s);
    fclose(out);
    mx_summary_clear(&s);
    struct mx_error err;
    GHashTable *a = mx_results_load_any(path, &err);
    if (!a) {
        char msg[1024];
        mx_error_format(&err, msg, sizeof(msg));
        fail_msg("%s", msg);
    }
    assert_int_equal(g_hash_table_size(a), f->run->len);
    const struct mx_result *c = g_hash_table_lookup(a, "lab/guest/probe/smb-c.read");
    assert_non_null(c);
    assert_string_equal(c->result, "EHOSTUNREACH");
    /* The run against its baseline: c, d, e differ, gone and old are only
     * in the baseline, new only in the run. */
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    int n = mx_compare_tables(mem, f->baseline, a, "baseline", "run");
    fclose(mem);
    assert_int_equal(n, 7);
    assert_non_null(strstr(buf, "lab/guest/probe/smb-d.read\n  dialect"));
    assert_non_null(strstr(buf, "(absent)"));
    assert_null(strstr(buf, "smb-a.read"));
    free(buf);
    g_hash_table_destroy(a);
    unlink(path);
    rmdir(dir);
    g_free(path);
    g_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_outcomes, setup, teardown),
        cmocka_unit_test(test_knownfail_passes),
        cmocka_unit_test(test_expectation_errors),
        cmocka_unit_test_setup_teardown(test_verdict_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_baseline_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_and_compare, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
