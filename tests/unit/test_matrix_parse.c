/* Unit tests for probes/matrix/parse.c and cells.c: the matrix file, every
 * error with file, line and column, the cells and their map lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "matrix.h"
#include "sharesfs/map.h"

#ifndef TEST_DATA
#define TEST_DATA "tests/unit/data"
#endif
#define DIR TEST_DATA "/matrix/"

static struct mx_matrix *load(const char *name, struct mx_error *err)
{
    return mx_matrix_load(name, err);
}

static void test_good(void **state)
{
    (void)state;
    struct mx_error err;
    struct mx_matrix *m = load(DIR "good.yaml", &err);
    if (!m) {
        char msg[1024];
        mx_error_format(&err, msg, sizeof(msg));
        fail_msg("good.yaml: %s", msg);
    }
    assert_int_equal(m->version, 1);
    assert_true(m->timeout_s == 2.5);
    assert_string_equal(m->ticket_command, "true");
    assert_int_equal(m->targets->len, 4);
    const struct mx_target *t = m->targets->pdata[0];
    assert_string_equal(t->host, "fs-default.lab.test");
    assert_int_equal(t->shares->len, 4);
    const struct mx_share *s = t->shares->pdata[1];
    assert_string_equal(s->name, "smb-user");
    assert_string_equal(s->read, "hello.txt");
    s = t->shares->pdata[3];
    assert_string_equal(s->name, "attic");
    assert_true(s->no_read);
    assert_non_null(s->url);
    t = m->targets->pdata[1];
    assert_int_equal(t->kind, MX_TARGET_CONTAINER);
    assert_string_equal(t->packages[0], "samba");
    t = m->targets->pdata[3];
    assert_int_equal(t->kind, MX_TARGET_REMOTE);
    assert_string_equal(t->password_env, "WINSRV_PASSWORD");
    assert_string_equal(((struct mx_share *)t->shares->pdata[0])->name, "smb-C_");
    assert_int_equal(m->clients->len, 4);
    const struct mx_client *cl = m->clients->pdata[1];
    assert_int_equal(cl->auth, MX_AUTH_PASSWORD);
    assert_string_equal(cl->smb_min, "SMB2_02");
    assert_int_equal(((struct mx_client *)m->clients->pdata[2])->flavour, MX_FLAVOUR_SUN);
    assert_int_equal(((struct mx_client *)m->clients->pdata[3])->ticket, MX_TICKET_EXPIRED);
    assert_int_equal(m->suites->len, 3);
    assert_int_equal(((struct mx_suite *)m->suites->pdata[2])->kind, MX_SUITE_SEED);
    assert_int_equal(m->rules->len, 2);
    mx_matrix_free(m);
}

static void test_cells(void **state)
{
    (void)state;
    struct mx_error err;
    struct mx_matrix *m = load(DIR "good.yaml", &err);
    assert_non_null(m);
    GPtrArray *cells = mx_cells(m);
    assert_int_equal(cells->len, 4 * 4 * 3);
    unsigned run = 0;
    for (guint i = 0; i < cells->len; i++) {
        const struct mx_cell *c = cells->pdata[i];
        if (!strcmp(c->id, "fs-default/krb/probe")) {
            assert_true(c->excluded);
            assert_string_equal(c->reason, "no keytab");
        }
        if (!strcmp(c->id, "winsrv/guest/fuse"))
            assert_string_equal(c->reason, "the others are stubs");
        run += !c->excluded;
    }
    assert_int_equal(run, 15);
    /* Map lines per flavour and auth; they parse, and hold no password. */
    const char *want[][2] = {
        {"fs-default/guest/probe", "smb-public\t-fstype=url,guest\tsmb://fs-default.lab.test/public"},
        {"fs-default/guest/probe", "afp-Public\t-fstype=url\tafp://;AUTH=No%20User%20Authent@fs-default.lab.test/Public"},
        {"fs-default/labuser/probe", "smb-user\t-fstype=url\tsmb://labuser@fs-default.lab.test/user"},
        {"fs-default/labuser/probe", "afp-Public\t-fstype=url\tafp://labuser;AUTH=DHCAST128@fs-default.lab.test/Public"},
        {"fs-default/sun/probe", "smb-public\t-fstype=cifs,guest\t://fs-default.lab.test/public"},
        {"fs-default/sun/probe", "afp-Public\t-fstype=afp\tafp://;AUTH=No%20User%20Authent@fs-default.lab.test/Public"},
        {"winsrv/krb/probe", "smb-C_\t-fstype=url,sec=krb5\tsmb://labuser@winsrv.example.com/C$"},
    };
    for (size_t w = 0; w < G_N_ELEMENTS(want); w++) {
        for (guint i = 0; i < cells->len; i++) {
            const struct mx_cell *c = cells->pdata[i];
            if (strcmp(c->id, want[w][0]))
                continue;
            char *text = mx_cell_map_text(m, c);
            if (!strstr(text, want[w][1]))
                fail_msg("%s: no line '%s' in\n%s", c->id, want[w][1], text);
            struct sfs_map map = {0};
            struct sfs_parse_error perr;
            assert_int_equal(sfs_map_parse_text(text, c->id, "/Network/Shares", &map, &perr), 0);
            assert_int_equal(map.n_entries, c->target->shares->len);
            sfs_map_free(&map);
            g_free(text);
        }
    }
    g_ptr_array_free(cells, TRUE);
    mx_matrix_free(m);
}

struct bad {
    const char *file;
    int line, column;
    const char *message;
};

static const struct bad bad_files[] = {
    {"version-missing", 1, 1, "missing key 'version'"},
    {"version-2", 1, 10, "version: '2' is not supported"},
    {"syntax", 4, 1, "did not find expected"},
    {"unknown-key", 2, 1, "unknown key 'bogus'"},
    {"target-kind", 4, 11, "'ship' is not one of lab, container, vm, remote"},
    {"target-name", 3, 3, "target name 'a.b'"},
    {"no-shares", 4, 5, "needs 'shares'"},
    {"dup-entry", 5, 23, "entry 'smb-x' is listed twice"},
    {"inline-password", 8, 5, "an inline password is refused"},
    {"remote-no-host", 4, 5, "a remote target needs 'host'"},
    {"container-packages", 4, 5, "needs 'packages'"},
    {"client-auth", 5, 13, "'magic' is not one of guest, password, kerberos"},
    {"client-password-none", 5, 6, "exactly one of credentials"},
    {"client-inline-password", 5, 32, "an inline password is refused"},
    {"client-ticket", 5, 45, "'stale' is not one of valid, expired, absent"},
    {"dialects", 5, 25, "dialect range SMB3_11..NT1 is empty"},
    {"suite-kind", 7, 3, "needs 'kind'"},
    {"rule-reason", 9, 5, "missing key 'reason'"},
    {"rule-glob", 9, 18, "'b*' matches no target"},
    {"rule-both", 9, 5, "exactly one of 'only' and 'no'"},
    {"dup-key", 2, 1, "key 'version' given twice"},
    {"timeout", 2, 10, "timeout: seconds per stage"},
    {"empty", 1, 1, "the file is empty"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < G_N_ELEMENTS(bad_files); i++) {
        char *path = g_strdup_printf(DIR "errors/%s.yaml", bad_files[i].file);
        struct mx_error err;
        struct mx_matrix *m = load(path, &err);
        char msg[1024];
        if (m)
            fail_msg("%s: parsed, expected an error", path);
        mx_error_format(&err, msg, sizeof(msg));
        char *prefix = g_strdup_printf("%s:%d:%d: ", path, bad_files[i].line, bad_files[i].column);
        if (strncmp(msg, prefix, strlen(prefix)) || !strstr(msg, bad_files[i].message))
            fail_msg("%s: got '%s', expected '%s%s'", bad_files[i].file, msg, prefix, bad_files[i].message);
        g_free(prefix);
        g_free(path);
    }
}

static void test_secret_file_mode(void **state)
{
    (void)state;
    char *dir = g_dir_make_tmp("mx-test-XXXXXX", NULL);
    char *cred = g_build_filename(dir, "c.cred", NULL);
    g_file_set_contents(cred, "username=u\npassword=Hunter2Secret\n", -1, NULL);
    chmod(cred, 0644);
    char *text = g_strdup_printf("version: 1\ntargets:\n  a: {kind: lab, shares: {smb: [s]}}\n"
                                 "clients:\n  c: {auth: password, user: u, credentials: %s}\nsuites:\n  probe:\n",
                                 cred);
    struct mx_error err;
    struct mx_matrix *m = mx_matrix_parse_text(text, strlen(text), "mem.yaml", &err);
    assert_null(m);
    assert_int_equal(err.line, 5);
    assert_non_null(strstr(err.message, "must be 0600"));
    assert_null(strstr(err.message, "Hunter2Secret"));
    chmod(cred, 0600);
    m = mx_matrix_parse_text(text, strlen(text), "mem.yaml", &err);
    assert_non_null(m);
    mx_matrix_free(m);
    unlink(cred);
    rmdir(dir);
    g_free(text);
    g_free(cred);
    g_free(dir);
}

/* The inventory: every cell that runs on exactly one host, loads balanced. */
/* A directory server target and the directory suite. */
static void test_directory(void **state)
{
    (void)state;
    const char *text = "version: 1\n"
                       "targets:\n"
                       "  ldap:\n"
                       "    kind: lab\n"
                       "    directory: {map: +auto_master, base: 'dc=lab,dc=test', starttls: true}\n"
                       "clients:\n"
                       "  guest: {auth: guest}\n"
                       "suites:\n"
                       "  directory:\n";
    struct mx_error err;
    struct mx_matrix *m = mx_matrix_parse_text(text, strlen(text), "d.yaml", &err);
    if (!m) {
        char msg[1024];
        mx_error_format(&err, msg, sizeof(msg));
        fail_msg("%s", msg);
    }
    const struct mx_target *t = m->targets->pdata[0];
    assert_non_null(t->directory);
    assert_string_equal(t->directory->map, "+auto_master");
    assert_string_equal(t->directory->uri, "ldap://ldap.lab.test");
    assert_true(t->directory->starttls);
    assert_int_equal(t->shares->len, 0);
    assert_int_equal(((struct mx_suite *)m->suites->pdata[0])->kind, MX_SUITE_DIRECTORY);
    assert_string_equal(mx_suite_kind_name(MX_SUITE_DIRECTORY), "directory");
    mx_matrix_free(m);

    static const struct {
        const char *dir, *message;
    } bad[] = {
        {"{base: x}", "missing key 'map'"},
        {"{map: m}", "missing key 'base'"},
        {"{map: m, base: b, bind_dn: cn=r}", "bind_dn needs password_file"},
        {"{map: m, base: b, password: x}", "password"},
        {"{map: m, base: b, starttls: maybe}", "starttls: 'maybe' is not one of"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        char *t2 = g_strdup_printf("version: 1\ntargets:\n  l:\n    kind: lab\n    directory: %s\n"
                                   "clients:\n  g: {auth: guest}\n", bad[i].dir);
        m = mx_matrix_parse_text(t2, strlen(t2), "d.yaml", &err);
        if (m)
            fail_msg("%s: parsed, expected an error", bad[i].dir);
        char msg[1024];
        mx_error_format(&err, msg, sizeof(msg));
        if (!strstr(msg, bad[i].message))
            fail_msg("%s: got '%s', expected '%s'", bad[i].dir, msg, bad[i].message);
        g_free(t2);
    }
}

static void test_plan(void **state)
{
    (void)state;
    struct mx_error err;
    struct mx_matrix *m = mx_matrix_load(DIR "good.yaml", &err);
    assert_non_null(m);
    GPtrArray *cells = mx_cells(m);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    mx_plan(out, m, cells, 3);
    fclose(out);
    assert_non_null(strstr(buf, "\n[sharesfs_matrix_clients]\nclient1 matrix_cells=\""));
    assert_non_null(strstr(buf, "\nclient3 matrix_cells="));
    assert_null(strstr(buf, "\nclient4 "));
    for (guint i = 0; i < cells->len; i++) {
        const struct mx_cell *c = cells->pdata[i];
        char *quoted = g_strdup_printf("\"%s,", c->id), *mid = g_strdup_printf(",%s,", c->id),
             *last = g_strdup_printf(",%s\"", c->id), *only = g_strdup_printf("\"%s\"", c->id);
        const char *inv = strstr(buf, "[sharesfs_matrix_clients]");
        int hits = !!strstr(inv, quoted) + !!strstr(inv, mid) + !!strstr(inv, last) + !!strstr(inv, only);
        assert_int_equal(hits, c->excluded ? 0 : 1);
        g_free(quoted);
        g_free(mid);
        g_free(last);
        g_free(only);
    }
    assert_non_null(strstr(buf, "matrix_entries=8"));   /* 24 entries over 3 hosts */
    free(buf);
    g_ptr_array_free(cells, TRUE);
    mx_matrix_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_cells),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_secret_file_mode),
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
