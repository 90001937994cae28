/* Unit tests for probes/matrix/report_junit.c and report_tap.c: the JUnit
 * file is well-formed XML (parsed here with GMarkup) with the structure CI
 * servers read; the TAP output follows TAP 14's line grammar. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "matrix.h"

/* Names and details a report must survive. */
#define NASTY "a<b>&\"c'\x01\t\n]]>\xff\xfe end"

static const char *matrix_text = "version: 1\n"
                                 "targets:\n  t1: {kind: lab, shares: {smb: [a, b, c]}}\n"
                                 "  t2: {kind: lab, shares: {smb: [a]}}\n"
                                 "clients:\n  guest: {auth: guest}\n  krb: {auth: kerberos, principal: p}\n"
                                 "suites:\n  probe:\n"
                                 "cells:\n  - no: {target: t2, client: krb}\n    reason: \"no <keytab> & no \\\"KDC\\\"\"\n";

struct fixture {
    struct mx_matrix *m;
    GPtrArray *cells, *run, *expect, *verdicts;
    GHashTable *baseline, *errors;
};

static struct mx_result *res(const char *cell, const char *name, const char *result, const char *detail)
{
    struct mx_result *r = mx_result_new(cell, name);
    mx_result_set(r, strcmp(result, "ok") ? "mount" : "read", result, strcmp(result, "ok") ? NASTY : NULL, "guest",
                  NASTY, "SMB3_11", detail);
    return r;
}

static int setup(void **state)
{
    struct fixture *f = g_new0(struct fixture, 1);
    struct mx_error err;
    f->m = mx_matrix_parse_text(matrix_text, strlen(matrix_text), "mem.yaml", &err);
    assert_non_null(f->m);
    f->cells = mx_cells(f->m);
    f->baseline = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, mx_result_free);
    const char *before[][3] = {{"t1/guest/probe", "smb-a.read", "ok"},
                               {"t1/guest/probe", "smb-b.read", "ok"},
                               {"t1/guest/probe", "smb-c.read", "EACCES"},
                               {"t2/guest/probe", "smb-a.read", "ok"},
                               {"t2/guest/probe", "smb-gone.read", "ok"}};
    for (size_t i = 0; i < G_N_ELEMENTS(before); i++) {
        struct mx_result *r = res(before[i][0], before[i][1], before[i][2], NULL);
        g_hash_table_replace(f->baseline, mx_result_id(r), r);
    }
    f->run = g_ptr_array_new_with_free_func(mx_result_free);
    g_ptr_array_add(f->run, res("t1/guest/probe", "smb-a.read", "ok", NULL));            /* ok */
    g_ptr_array_add(f->run, res("t1/guest/probe", "smb-b.read", "EHOSTUNREACH", NASTY)); /* UNEXPECTED(failure) */
    g_ptr_array_add(f->run, res("t1/guest/probe", "smb-c.read", "EACCES", NASTY));       /* xfail */
    g_ptr_array_add(f->run, res("t2/guest/probe", "smb-a.read", "ok", NULL));            /* ok; gone: MISSING */
    f->expect = mx_expectations_parse("knownfail t1/guest/probe/smb-c.read # a <reason> & \\ more\n", "ex", &err);
    assert_non_null(f->expect);
    f->errors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_hash_table_replace(f->errors, g_strdup("t1/krb/probe"), g_strdup("ticket_command failed: " NASTY));
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

/* ---- JUnit through GMarkup ---- */

struct junit {
    int suites, cases, failures, errors, skipped, depth_error;
    char *classname_mismatch;
    GHashTable *names;      /* "suite\ncase" seen */
    char *suite;
    unsigned declared_tests, declared_failures;
};

static const char *attr_of(const char **names, const char **values, const char *want)
{
    for (int i = 0; names[i]; i++)
        if (!strcmp(names[i], want))
            return values[i];
    return NULL;
}

static void start(GMarkupParseContext *ctx, const char *el, const char **an, const char **av, gpointer data,
                  GError **error)
{
    (void)ctx;
    (void)error;
    struct junit *j = data;
    if (!strcmp(el, "testsuites")) {
        j->declared_tests = (unsigned)atoi(attr_of(an, av, "tests"));
        j->declared_failures = (unsigned)atoi(attr_of(an, av, "failures"));
    } else if (!strcmp(el, "testsuite")) {
        j->suites++;
        g_free(j->suite);
        j->suite = g_strdup(attr_of(an, av, "name"));
    } else if (!strcmp(el, "testcase")) {
        j->cases++;
        const char *cn = attr_of(an, av, "classname"), *name = attr_of(an, av, "name");
        if (!cn || !name || (j->suite && strcmp(cn, j->suite) && !j->classname_mismatch))
            j->classname_mismatch = g_strdup(name ? name : "?");
        char *key = g_strdup_printf("%s\n%s", cn ? cn : "", name ? name : "");
        if (g_hash_table_contains(j->names, key))
            fail_msg("test name %s is not unique in its suite", key);
        g_hash_table_add(j->names, key);
    } else if (!strcmp(el, "failure")) {
        j->failures++;
        assert_non_null(attr_of(an, av, "message"));
    } else if (!strcmp(el, "error")) {
        j->errors++;
    } else if (!strcmp(el, "skipped")) {
        j->skipped++;
    }
}

static void test_junit(void **state)
{
    struct fixture *f = *state;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    struct mx_run_info info = {.matrix = "mem.yaml", .baseline = "b", .jobs = 1, .seconds = 2};
    mx_report_junit(out, &info, f->cells, f->verdicts);
    fclose(out);
    assert_true(g_utf8_validate(buf, (gssize)len, NULL));
    struct junit j = {.names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
    GMarkupParser p = {.start_element = start};
    GMarkupParseContext *ctx = g_markup_parse_context_new(&p, 0, &j, NULL);
    GError *err = NULL;
    const char *body = strstr(buf, "<testsuites");   /* GMarkup does not take the <?xml?> declaration's place */
    assert_non_null(body);
    assert_true(g_str_has_prefix(buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
    if (!g_markup_parse_context_parse(ctx, body, -1, &err) || !g_markup_parse_context_end_parse(ctx, &err))
        fail_msg("JUnit is not well-formed: %s\n%s", err->message, buf);
    /* cells: t1/guest (a ok, b failure, c xfail), t1/krb (error), t2/guest
     * (a ok, gone MISSING), t2/krb (excluded). */
    assert_int_equal(j.suites, 4);
    assert_int_equal(j.cases, 3 + 1 + 2 + 1);
    assert_int_equal(j.failures, 2);
    assert_int_equal(j.errors, 1);
    assert_int_equal(j.skipped, 2);
    assert_int_equal(j.declared_tests, 7);
    assert_int_equal(j.declared_failures, 2);
    assert_null(j.classname_mismatch);
    assert_null(strstr(buf, "\x01"));
    assert_null(strstr(buf, "]]>"));
    g_markup_parse_context_free(ctx);
    g_hash_table_destroy(j.names);
    g_free(j.suite);
    free(buf);
}

static void test_xml_escape(void **state)
{
    (void)state;
    GString *s = g_string_new(NULL);
    mx_xml_escape(s, "<&>\"'\x02\n");
    assert_string_equal(s->str, "&lt;&amp;&gt;&quot;&apos;?&#10;");
    g_string_free(s, TRUE);
}

/* ---- TAP 14 ---- */

static void test_tap(void **state)
{
    struct fixture *f = *state;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    mx_report_tap(out, f->verdicts);
    fclose(out);
    char **lines = g_strsplit(buf, "\n", -1);
    assert_string_equal(lines[0], "TAP version 14");
    GRegex *plan = g_regex_new("^1\\.\\.([0-9]+)$", 0, 0, NULL);
    GRegex *point = g_regex_new("^(not )?ok ([0-9]+) - ((?:[^#\\\\]|\\\\[#\\\\])*?)( # (SKIP|TODO)( .*)?)?$", 0, 0, NULL);
    GMatchInfo *mi = NULL;
    assert_true(g_regex_match(plan, lines[1], 0, &mi));
    char *count = g_match_info_fetch(mi, 1);
    int n = atoi(count);
    g_free(count);
    g_match_info_free(mi);
    int expect = 1, todo = 0, skip = 0, not_ok = 0;
    bool in_yaml = false;
    for (int i = 2; lines[i] && lines[i][0]; i++) {
        if (in_yaml) {
            if (!strcmp(lines[i], "  ..."))
                in_yaml = false;
            else
                assert_true(g_str_has_prefix(lines[i], "  ") && !strchr(lines[i], '\t'));
            continue;
        }
        if (!strcmp(lines[i], "  ---")) {
            in_yaml = true;
            continue;
        }
        if (!g_regex_match(point, lines[i], 0, &mi))
            fail_msg("not a TAP 14 test point: '%s'", lines[i]);
        char *num = g_match_info_fetch(mi, 2), *dir = g_match_info_fetch(mi, 5), *neg = g_match_info_fetch(mi, 1);
        assert_int_equal(atoi(num), expect++);
        todo += dir && !strcmp(dir, "TODO");
        skip += dir && !strcmp(dir, "SKIP");
        not_ok += neg && *neg && !(dir && !strcmp(dir, "TODO"));
        g_free(num);
        g_free(dir);
        g_free(neg);
        g_match_info_free(mi);
    }
    assert_false(in_yaml);
    assert_int_equal(expect - 1, n);
    assert_int_equal(n, (int)f->verdicts->len);
    assert_int_equal(todo, 1);     /* the knownfail */
    assert_int_equal(skip, 1);     /* the excluded cell */
    assert_int_equal(not_ok, 3);   /* UNEXPECTED(failure), MISSING, ERROR */
    assert_non_null(strstr(buf, "# TODO knownfail: \\# a <reason> & \\\\ more"));
    g_regex_unref(plan);
    g_regex_unref(point);
    g_strfreev(lines);
    free(buf);
}

static void test_terminal(void **state)
{
    struct fixture *f = *state;
    struct mx_summary s;
    mx_summarise(f->verdicts, &s);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    mx_report_terminal(out, f->verdicts, &s, true);
    fclose(out);
    assert_non_null(strstr(buf, "UNEXPECTED(failure) t1/guest/probe/smb-b.read"));
    assert_non_null(strstr(buf, "\n3 passed, 2 failed"));
    assert_non_null(strstr(buf, "1 ERROR (infrastructure)"));
    assert_non_null(strstr(buf, "flapping: 0"));
    assert_non_null(strstr(buf, "\nFAILED\n"));
    mx_summary_clear(&s);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_junit, setup, teardown),
        cmocka_unit_test(test_xml_escape),
        cmocka_unit_test_setup_teardown(test_tap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terminal, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
