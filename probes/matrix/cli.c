/* afptest matrix run | compare | plan: the command line.
 * Exit status: 0 nothing unexpected, 1 something unexpected (or an
 * infrastructure ERROR), 2 a bad matrix, baseline or command line. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "matrix.h"
#include "sharesfs/clock.h"

#define EXIT_OK 0
#define EXIT_UNEXPECTED 1
#define EXIT_BAD 2

static void usage(FILE *out)
{
    fprintf(out,
            "usage: afptest matrix run MATRIX --baseline DIR [--json F] [--junit F] [--tap F] [-j N]\n"
            "                          [--cells GLOB[,GLOB...]] [--bless]\n"
            "       afptest matrix compare RESULTS-A RESULTS-B [--targets A,B]   (JSON reports or baseline dirs)\n"
            "       afptest matrix plan MATRIX [--hosts N] [--inventory F]\n"
            "\n"
            "Runs targets x clients x suites (docs/matrix.md) and compares every result with the\n"
            "baseline: ok, CHANGED, UNEXPECTED(failure), UNEXPECTED(success), xfail, NEW, MISSING,\n"
            "ERROR (infrastructure).  --bless writes the baseline (refused after an ERROR).\n"
            "exit status: 0 nothing unexpected, 1 something unexpected or an ERROR, 2 bad input\n");
}

static FILE *open_out(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "afptest matrix: %s: %s\n", path, g_strerror(errno));
    return f;
}

static struct mx_matrix *load_matrix(const char *path)
{
    struct mx_error err;
    struct mx_matrix *m = mx_matrix_load(path, &err);
    if (!m) {
        char msg[1024];
        mx_error_format(&err, msg, sizeof(msg));
        fprintf(stderr, "%s\n", msg);
    }
    return m;
}

/* --cells: the others are left out of this run (not of the matrix). */
static void select_cells(GPtrArray *cells, const char *list)
{
    if (!list)
        return;
    char **globs = g_strsplit(list, ",", -1);
    for (guint i = 0; i < cells->len; i++) {
        struct mx_cell *c = cells->pdata[i];
        if (!c->excluded && !mx_globs_match(globs, c->id)) {
            c->excluded = true;
            c->reason = g_strdup("not selected by --cells");
        }
    }
    g_strfreev(globs);
}

static bool write_reports(const struct mx_run_info *info, GPtrArray *cells, GPtrArray *verdicts,
                          const struct mx_summary *s, const char *json, const char *junit, const char *tap)
{
    bool ok = true;
    FILE *f;
    if (json && (ok = (f = open_out(json)) != NULL)) {
        mx_report_json(f, info, cells, verdicts, s);
        ok = fclose(f) == 0;
    }
    if (ok && junit && (ok = (f = open_out(junit)) != NULL)) {
        mx_report_junit(f, info, cells, verdicts);
        ok = fclose(f) == 0;
    }
    if (ok && tap && (ok = (f = open_out(tap)) != NULL)) {
        mx_report_tap(f, verdicts);
        ok = fclose(f) == 0;
    }
    return ok;
}

static int bless(const char *dir, GPtrArray *cells, GPtrArray *results, const struct mx_summary *s)
{
    if (s->errors) {
        fprintf(stderr, "afptest matrix: not blessing: %u cell%s could not run (ERROR)\n", s->errors,
                s->errors == 1 ? "" : "s");
        return EXIT_UNEXPECTED;
    }
    GPtrArray *keep = g_ptr_array_new();
    for (guint i = 0; i < cells->len; i++) {
        struct mx_cell *c = cells->pdata[i];
        if (!c->excluded || (c->reason && !strcmp(c->reason, "not selected by --cells")))
            g_ptr_array_add(keep, c->id);
    }
    struct mx_error err;
    int rc = mx_baseline_write(dir, results, keep, &err);
    g_ptr_array_free(keep, TRUE);
    if (rc < 0) {
        char msg[1024];
        mx_error_format(&err, msg, sizeof(msg));
        fprintf(stderr, "afptest matrix: %s\n", msg);
        return EXIT_BAD;
    }
    char *ex = g_build_filename(dir, "expectations", NULL);
    if (!g_file_test(ex, G_FILE_TEST_EXISTS))
        g_file_set_contents(ex,
                            "# knownfail|flapping <TAB> target/client/suite/entry.stage (globs) <TAB> reason\n"
                            "# knownfail: meant to pass, known to fail (passing is UNEXPECTED(success)).\n"
                            "# flapping: never gates, always listed in the summary.\n",
                            -1, NULL);
    g_free(ex);
    printf("blessed: %u results written to %s\n", results->len, dir);
    return EXIT_OK;
}

static int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"baseline", required_argument, NULL, 'b'}, {"json", required_argument, NULL, 'J'},
        {"junit", required_argument, NULL, 'U'},    {"tap", required_argument, NULL, 'T'},
        {"jobs", required_argument, NULL, 'j'},     {"bless", no_argument, NULL, 'B'},
        {"cells", required_argument, NULL, 'c'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *baseline = NULL, *json = NULL, *junit = NULL, *tap = NULL, *select = NULL;
    int jobs = 1, opt;
    bool do_bless = false;
    optind = 0;
    while ((opt = getopt_long(argc, argv, "j:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'b': baseline = optarg; break;
        case 'J': json = optarg; break;
        case 'U': junit = optarg; break;
        case 'T': tap = optarg; break;
        case 'j': jobs = atoi(optarg); break;
        case 'B': do_bless = true; break;
        case 'c': select = optarg; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_BAD;
        }
    }
    if (optind + 1 != argc || !baseline || jobs < 1 || jobs > 64) {
        usage(stderr);
        return EXIT_BAD;
    }
    struct mx_matrix *m = load_matrix(argv[optind]);
    if (!m)
        return EXIT_BAD;
    struct mx_error err;
    char msg[1024];
    GHashTable *before = mx_baseline_load(baseline, &err);
    GPtrArray *expect = before ? mx_expectations_load(baseline, &err) : NULL;
    if (!before || !expect) {
        mx_error_format(&err, msg, sizeof(msg));
        fprintf(stderr, "%s\n", msg);
        if (before)
            g_hash_table_destroy(before);
        mx_matrix_free(m);
        return EXIT_BAD;
    }
    GPtrArray *cells = mx_cells(m);
    select_cells(cells, select);
    GHashTable *secs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    GHashTable *errors = NULL;
    struct mx_run_options ro = {.jobs = jobs, .progress = isatty(STDERR_FILENO)};
    double t0 = sfs_now_ms();
    GPtrArray *results = mx_run(m, cells, &ro, &errors, secs);
    struct mx_run_info info = {.matrix = argv[optind], .baseline = baseline, .jobs = jobs,
                               .seconds = (sfs_now_ms() - t0) / 1000.0, .cell_seconds = secs};
    GPtrArray *verdicts = mx_compare_run(cells, errors, results, before, expect);
    struct mx_summary s;
    mx_summarise(verdicts, &s);
    mx_report_terminal(stdout, verdicts, &s, isatty(STDOUT_FILENO));
    printf("%u cells in %.1f s at -j %d\n", g_hash_table_size(secs) + g_hash_table_size(errors), info.seconds, jobs);
    int rc = s.failed || s.errors ? EXIT_UNEXPECTED : EXIT_OK;
    if (!write_reports(&info, cells, verdicts, &s, json, junit, tap))
        rc = EXIT_BAD;
    if (do_bless && rc != EXIT_BAD)
        rc = bless(baseline, cells, results, &s);
    mx_summary_clear(&s);
    g_ptr_array_free(verdicts, TRUE);
    g_ptr_array_free(results, TRUE);
    g_hash_table_destroy(errors);
    g_hash_table_destroy(secs);
    g_ptr_array_free(cells, TRUE);
    g_ptr_array_free(expect, TRUE);
    g_hash_table_destroy(before);
    mx_matrix_free(m);
    return rc;
}

/* --targets A,B: A's results of side one against B's of side two, each
 * renamed to "*" (Samba 4.13 against 4.22 for the same clients). */
static GHashTable *only_target(GHashTable *t, const char *target)
{
    GHashTable *out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, mx_result_free);
    GHashTableIter it;
    gpointer key, value;
    size_t n = strlen(target);
    g_hash_table_iter_init(&it, t);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        if (strncmp(key, target, n) || ((char *)key)[n] != '/')
            continue;
        g_hash_table_iter_steal(&it);
        struct mx_result *r = value;
        char *cell = g_strdup_printf("*%s", r->cell + n);
        g_free(r->cell);
        r->cell = cell;
        g_hash_table_replace(out, mx_result_id(r), r);
        g_free(key);
    }
    g_hash_table_destroy(t);
    return out;
}

static int cmd_compare(int argc, char **argv)
{
    static const struct option opts[] = {{"targets", required_argument, NULL, 't'}, {NULL, 0, NULL, 0}};
    const char *targets = NULL;
    int opt;
    optind = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt != 't') {
            usage(stderr);
            return EXIT_BAD;
        }
        targets = optarg;
    }
    char **pair = targets ? g_strsplit(targets, ",", -1) : NULL;
    if (optind + 2 != argc || (pair && g_strv_length(pair) != 2)) {
        g_strfreev(pair);
        usage(stderr);
        return EXIT_BAD;
    }
    struct mx_error err;
    char msg[1024];
    GHashTable *a = mx_results_load_any(argv[optind], &err);
    GHashTable *b = a ? mx_results_load_any(argv[optind + 1], &err) : NULL;
    if (!a || !b) {
        mx_error_format(&err, msg, sizeof(msg));
        fprintf(stderr, "%s\n", msg);
        if (a)
            g_hash_table_destroy(a);
        g_strfreev(pair);
        return EXIT_BAD;
    }
    char *name_a = g_strdup(argv[optind]), *name_b = g_strdup(argv[optind + 1]);
    if (pair) {
        a = only_target(a, pair[0]);
        b = only_target(b, pair[1]);
        g_free(name_a);
        g_free(name_b);
        name_a = g_strdup(pair[0]);
        name_b = g_strdup(pair[1]);
    }
    int n = mx_compare_tables(stdout, a, b, name_a, name_b);
    g_free(name_a);
    g_free(name_b);
    g_strfreev(pair);
    g_hash_table_destroy(a);
    g_hash_table_destroy(b);
    return n ? EXIT_UNEXPECTED : EXIT_OK;
}

static int cmd_plan(int argc, char **argv)
{
    static const struct option opts[] = {
        {"hosts", required_argument, NULL, 'n'}, {"inventory", required_argument, NULL, 'i'},
        {NULL, 0, NULL, 0},
    };
    int hosts = 1, opt;
    const char *inventory = NULL;
    optind = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'n': hosts = atoi(optarg); break;
        case 'i': inventory = optarg; break;
        default: usage(stderr); return EXIT_BAD;
        }
    }
    if (optind + 1 != argc || hosts < 1 || hosts > 1000) {
        usage(stderr);
        return EXIT_BAD;
    }
    struct mx_matrix *m = load_matrix(argv[optind]);
    if (!m)
        return EXIT_BAD;
    GPtrArray *cells = mx_cells(m);
    mx_plan(stdout, m, cells, hosts);
    int rc = EXIT_OK;
    if (inventory) {
        FILE *f = open_out(inventory);
        if (f)
            mx_plan(f, m, cells, hosts);
        rc = f && fclose(f) == 0 ? EXIT_OK : EXIT_BAD;
    }
    g_ptr_array_free(cells, TRUE);
    mx_matrix_free(m);
    return rc;
}

int afptest_matrix(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_BAD;
    }
    if (!strcmp(argv[1], "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(argv[1], "compare"))
        return cmd_compare(argc - 1, argv + 1);
    if (!strcmp(argv[1], "plan"))
        return cmd_plan(argc - 1, argv + 1);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return EXIT_OK;
    }
    fprintf(stderr, "afptest matrix: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_BAD;
}
