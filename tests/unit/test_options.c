/* Unit tests for fs/fuse/options.c: sharesfs's command line in its long
 * form, its -o form (mount -t fuse.sharesfs, /etc/fstab), both mixed, what
 * reaches libfuse, what is dropped, and each bad value named in the error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuse/options.h"

/* ---- helpers ---- */

#define MAX_ARGS 32

struct parsed {
    int rc;
    struct sharesfs_options opt;
    struct fuse_args fuse;
    char err[512];
};

/* Parses the NULL-terminated words of a command line (argv[0] first). */
static struct parsed *parse_words(const char *const *words)
{
    static char *argv[MAX_ARGS];
    int argc = 0;
    while (words[argc]) {
        assert_true(argc < MAX_ARGS - 1);
        argv[argc] = (char *)words[argc];
        argc++;
    }
    argv[argc] = NULL;
    struct parsed *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    p->rc = sharesfs_options_parse(argc, argv, &p->opt, &p->fuse, p->err, sizeof(p->err));
    return p;
}

#define PARSE(...) parse_words((const char *const[]){"sharesfs", __VA_ARGS__, NULL})

static void parsed_free(struct parsed *p)
{
    if (p->rc == 0) {
        sharesfs_options_free(&p->opt);
        fuse_opt_free_args(&p->fuse);
    }
    free(p);
}

/* The -o list given to libfuse (argv: argv0 "-o" LIST ...). */
static const char *fuse_o_list(const struct parsed *p)
{
    assert_true(p->fuse.argc >= 3);
    assert_string_equal(p->fuse.argv[1], "-o");
    return p->fuse.argv[2];
}

/* The options libfuse gets beyond SHARESFS_FUSE_DEFAULTS ("" for none). */
static const char *fuse_extra(const struct parsed *p)
{
    const char *list = fuse_o_list(p);
    size_t n = strlen(SHARESFS_FUSE_DEFAULTS);
    assert_memory_equal(list, SHARESFS_FUSE_DEFAULTS, n);
    return list[n] == ',' ? list + n + 1 : list + n;
}

static bool fuse_has_arg(const struct parsed *p, const char *arg)
{
    for (int i = 0; i < p->fuse.argc; i++)
        if (strcmp(p->fuse.argv[i], arg) == 0)
            return true;
    return false;
}

/* PARSED failed with CODE and an error containing NEEDLE. */
static void assert_error(struct parsed *p, int code, const char *needle)
{
    assert_int_equal(p->rc, code);
    if (!strstr(p->err, needle))
        fail_msg("error '%s' does not contain '%s'", p->err, needle);
    assert_int_equal(p->fuse.argc, 0);   /* nothing left to free */
    assert_null(p->opt.config_path);
    parsed_free(p);
}

static void assert_bad(struct parsed *p, const char *needle)
{
    assert_error(p, SHARESFS_OPT_BAD_VALUE, needle);
}

/* ---- the forms ---- */

static void test_defaults(void **state)
{
    (void)state;
    struct parsed *p = PARSE("/etc/auto_shares", "/Network/Shares");
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->opt.action, SHARESFS_ACTION_RUN);
    assert_int_equal(p->opt.n_args, 2);
    assert_string_equal(p->opt.args[0], "/etc/auto_shares");
    assert_string_equal(p->opt.args[1], "/Network/Shares");
    assert_false(p->opt.foreground);
    assert_false(p->opt.direct_io);
    assert_false(p->opt.nobrowse);
    assert_null(p->opt.config_path);
    assert_true(p->opt.timeout_s == 0);
    assert_true(p->opt.attr_s == 1);
    assert_int_equal(p->opt.negative_s, 10);
    assert_int_equal(p->opt.idle_s, 600);
    assert_int_equal(p->fuse.argc, 3);
    assert_string_equal(p->fuse.argv[0], "sharesfs");
    assert_string_equal(fuse_o_list(p), SHARESFS_FUSE_DEFAULTS);
    parsed_free(p);
}

static void test_long_form(void **state)
{
    (void)state;
    struct parsed *p = PARSE("-f", "--config", "/etc/x.conf", "--timeout=2.5", "--negative-timeout", "5",
                             "--attr-timeout", "0", "--idle-timeout", "60", "--direct-io", "--nobrowse",
                             "map", "mnt");
    assert_int_equal(p->rc, 0);
    assert_true(p->opt.foreground);
    assert_string_equal(p->opt.config_path, "/etc/x.conf");
    assert_true(p->opt.timeout_s == 2.5);
    assert_int_equal(p->opt.negative_s, 5);
    assert_true(p->opt.attr_s == 0);
    assert_int_equal(p->opt.idle_s, 60);
    assert_true(p->opt.direct_io);
    assert_true(p->opt.nobrowse);
    assert_int_equal(p->opt.n_args, 2);
    assert_string_equal(fuse_extra(p), "");
    assert_false(fuse_has_arg(p, "-f"));   /* serve() adds it per mount */
    parsed_free(p);
}

static void test_short_forms(void **state)
{
    (void)state;
    /* -t 5, -t5, -c FILE, a cluster, and a value taken from the cluster. */
    struct parsed *p = PARSE("-t", "5", "-cFILE", "-fs", "auto_master");
    assert_int_equal(p->rc, 0);
    assert_true(p->opt.timeout_s == 5);
    assert_string_equal(p->opt.config_path, "FILE");
    assert_true(p->opt.foreground);
    assert_true(p->opt.single);
    assert_true(fuse_has_arg(p, "-s"));
    assert_int_equal(p->opt.n_args, 1);
    assert_string_equal(p->opt.args[0], "auto_master");
    parsed_free(p);

    p = PARSE("-st3", "-d", "map", "mnt");
    assert_int_equal(p->rc, 0);
    assert_true(p->opt.single);
    assert_true(p->opt.timeout_s == 3);
    assert_true(p->opt.debug);
    assert_true(p->opt.foreground);   /* -d implies -f */
    assert_true(fuse_has_arg(p, "-d"));
    parsed_free(p);
}

static void test_o_form(void **state)
{
    (void)state;
    struct parsed *p = PARSE("-o", "idle_timeout=60,negative_timeout=5,timeout=3,config=/etc/x.conf,"
                             "attr_timeout=0.5,direct_io,nobrowse",
                             "map", "mnt");
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->opt.idle_s, 60);
    assert_int_equal(p->opt.negative_s, 5);
    assert_true(p->opt.timeout_s == 3);
    assert_string_equal(p->opt.config_path, "/etc/x.conf");
    assert_true(p->opt.attr_s == 0.5);
    assert_true(p->opt.direct_io);
    assert_true(p->opt.nobrowse);
    /* Ours never reach libfuse (it has its own attr_timeout,
     * negative_timeout and direct_io). */
    assert_string_equal(fuse_extra(p), "");
    parsed_free(p);
}

/* As mount.fuse3 runs it for "mount -t fuse.sharesfs MAP DIR -o ...":
 * operands first, then -o, with dev,suid added by mount.fuse3. */
static void test_mount_helper_form(void **state)
{
    (void)state;
    struct parsed *p = PARSE("/etc/auto_shares", "/Network/Shares", "-o",
                             "rw,idle_timeout=60,allow_other,dev,suid");
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->opt.n_args, 2);
    assert_string_equal(p->opt.args[0], "/etc/auto_shares");
    assert_string_equal(p->opt.args[1], "/Network/Shares");
    assert_int_equal(p->opt.idle_s, 60);
    assert_string_equal(fuse_extra(p), "rw,allow_other,dev,suid");
    parsed_free(p);
}

static void test_allow_other_sessions(void **state)
{
    (void)state;
    struct parsed *p = PARSE("-o", "allow_other,ro", "map", "mnt");
    assert_int_equal(p->rc, 0);
    assert_true(p->opt.allow_other);
    assert_false(p->opt.shared_session);
    parsed_free(p);
    p = PARSE("-o", "allow_other,shared_session", "map", "mnt");
    assert_true(p->opt.allow_other);
    assert_true(p->opt.shared_session);
    parsed_free(p);
    p = PARSE("map", "mnt");
    assert_false(p->opt.allow_other);
    parsed_free(p);
}

static void test_map_refresh(void **state)
{
    (void)state;
    struct parsed *p = PARSE("--map-refresh", "30", "map", "mnt");
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->opt.map_refresh_s, 30);
    parsed_free(p);
    p = PARSE("-o", "map_refresh=5", "map", "mnt");
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->opt.map_refresh_s, 5);
    parsed_free(p);
    p = PARSE("map", "mnt");
    assert_int_equal(p->opt.map_refresh_s, 0);   /* SIGHUP only */
    parsed_free(p);
    assert_bad(PARSE("--map-refresh", "1.5", "map", "mnt"), "--map-refresh: '1.5' is not a whole number");
}

static void test_mixed_and_repeated(void **state)
{
    (void)state;
    struct parsed *p = PARSE("--idle-timeout", "30", "-o", "allow_other", "map", "-t", "4",
                             "-oidle_timeout=90,ro", "mnt", "-o", "negative_timeout=2", "--direct-io");
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->opt.idle_s, 90);   /* the last one wins */
    assert_true(p->opt.timeout_s == 4);
    assert_int_equal(p->opt.negative_s, 2);
    assert_true(p->opt.direct_io);
    assert_int_equal(p->opt.n_args, 2);
    assert_string_equal(p->opt.args[0], "map");
    assert_string_equal(p->opt.args[1], "mnt");
    assert_string_equal(fuse_extra(p), "allow_other,ro");
    parsed_free(p);

    p = PARSE("-c", "/a.conf", "-o", "config=/b.conf", "map", "mnt");
    assert_int_equal(p->rc, 0);
    assert_string_equal(p->opt.config_path, "/b.conf");
    parsed_free(p);
}

static void test_comma_lists(void **state)
{
    (void)state;
    /* Empty items are skipped; an escaped comma stays in the value for us
     * and stays escaped for libfuse. */
    struct parsed *p = PARSE("-o", ",,timeout=7,,allow_other,", "-o", "config=/etc/a\\,b.conf,fsname=x\\,y",
                             "map", "mnt");
    assert_int_equal(p->rc, 0);
    assert_true(p->opt.timeout_s == 7);
    assert_string_equal(p->opt.config_path, "/etc/a,b.conf");
    assert_string_equal(fuse_extra(p), "allow_other,fsname=x\\,y");
    parsed_free(p);
}

static void test_fstab_only_dropped(void **state)
{
    (void)state;
    struct parsed *p = PARSE("/etc/auto_shares", "/Network/Shares", "-o",
                             "defaults,noauto,auto,nofail,_netdev,user,users,nouser,owner,group,"
                             "x-systemd.automount,x-systemd.idle-timeout=60,X-mount.mkdir,comment=x,"
                             "idle_timeout=60,allow_other");
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->opt.idle_s, 60);
    assert_string_equal(fuse_extra(p), "allow_other");
    parsed_free(p);

    assert_true(sharesfs_option_is_fstab_only("x-systemd.requires=network-online.target"));
    assert_false(sharesfs_option_is_fstab_only("user=alice"));   /* libfuse's own */
    assert_false(sharesfs_option_is_fstab_only("allow_other"));
    assert_false(sharesfs_option_is_fstab_only("autofoo"));
}

static void test_libfuse_options_pass_through(void **state)
{
    (void)state;
    /* Including ones libfuse will reject itself when mounting. */
    struct parsed *p = PARSE("-o", "allow_other,default_permissions,ro,uid=1000,entry_timeout=3,"
                             "max_threads=8,user=alice,debug,sharesfs_no_such_option",
                             "-o", "kernel_cache", "map", "mnt");
    assert_int_equal(p->rc, 0);
    assert_string_equal(fuse_extra(p), "allow_other,default_permissions,ro,uid=1000,entry_timeout=3,"
                                       "max_threads=8,user=alice,debug,sharesfs_no_such_option,kernel_cache");
    parsed_free(p);
}

static void test_operands(void **state)
{
    (void)state;
    struct parsed *p = PARSE("-f", "--", "-odd-map", "mnt");
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->opt.n_args, 2);
    assert_string_equal(p->opt.args[0], "-odd-map");
    assert_string_equal(fuse_extra(p), "");
    parsed_free(p);

    p = PARSE("a", "b", "c");
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->opt.n_args, 3);   /* main() rejects it with the usage */
    parsed_free(p);

    p = parse_words((const char *const[]){"sharesfs", NULL});
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->opt.n_args, 0);
    parsed_free(p);
}

/* --status, --help, --version end the parsing where they stand. */
static void test_actions(void **state)
{
    (void)state;
    struct parsed *p = PARSE("-t", "5", "--status", "/Network/Shares", "--no-such");
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->opt.action, SHARESFS_ACTION_STATUS);
    assert_string_equal(p->opt.status_path, "/Network/Shares");
    parsed_free(p);

    p = PARSE("--help", "--no-such");
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->opt.action, SHARESFS_ACTION_HELP);
    parsed_free(p);

    p = PARSE("-V");
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->opt.action, SHARESFS_ACTION_VERSION);
    parsed_free(p);

    p = PARSE("--vers");   /* a unique prefix, as getopt_long took it */
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->opt.action, SHARESFS_ACTION_VERSION);
    parsed_free(p);
}

/* ---- bad values: exit status 2 (no usage text), the option named as written ---- */

static void test_bad_timeout_values(void **state)
{
    (void)state;
    assert_bad(PARSE("--timeout", "abc", "map", "mnt"), "--timeout: 'abc' is not a number of seconds");
    assert_bad(PARSE("-t", "abc", "map", "mnt"), "-t: 'abc' is not a number");
    assert_bad(PARSE("-o", "timeout=abc", "map", "mnt"), "-o timeout: 'abc' is not a number");
    assert_bad(PARSE("-t", "-1", "map", "mnt"), "-t: '-1' is out of range (seconds from 0 to 3600)");
    assert_bad(PARSE("--timeout=5x", "map", "mnt"), "--timeout: '5x' is not a number");
    assert_bad(PARSE("-t", "3601", "map", "mnt"), "-t: '3601' is out of range");
    assert_bad(PARSE("-t", "", "map", "mnt"), "-t: '' is not a number");
    assert_bad(PARSE("-t", " 5", "map", "mnt"), "-t: ' 5' is not a number");
    assert_bad(PARSE("-t", "0x10", "map", "mnt"), "-t: '0x10' is not a number");
    assert_bad(PARSE("-t", "inf", "map", "mnt"), "-t: 'inf' is not a number");
    assert_bad(PARSE("-t", ".", "map", "mnt"), "-t: '.' is not a number");
}

static void test_bad_o_values(void **state)
{
    (void)state;
    assert_bad(PARSE("-o", "idle_timeout=abc", "map", "mnt"), "-o idle_timeout: 'abc' is not a number");
    assert_bad(PARSE("-o", "allow_other,negative_timeout=-5", "map", "mnt"),
               "-o negative_timeout: '-5' is out of range (seconds from 0 to 86400)");
    assert_bad(PARSE("-o", "idle_timeout=5x", "map", "mnt"), "-o idle_timeout: '5x' is not a number");
    assert_bad(PARSE("-o", "idle_timeout=604801", "map", "mnt"), "-o idle_timeout: '604801' is out of range");
    assert_bad(PARSE("-o", "idle_timeout=1.5", "map", "mnt"),
               "-o idle_timeout: '1.5' is not a whole number of seconds");
    assert_bad(PARSE("-o", "attr_timeout=-0.1", "map", "mnt"), "-o attr_timeout: '-0.1' is out of range");
    assert_bad(PARSE("-o", "idle_timeout", "map", "mnt"), "-o idle_timeout needs a value (idle_timeout=SECS)");
    assert_bad(PARSE("-o", "idle_timeout=", "map", "mnt"), "-o idle_timeout: '' is not a number");
    assert_bad(PARSE("-o", "direct_io=1", "map", "mnt"), "-o direct_io takes no value");
    assert_bad(PARSE("-o", "config=", "map", "mnt"), "-o config: the value is empty");
    /* After a good one: what was set so far is freed. */
    assert_bad(PARSE("-c", "/etc/x.conf", "-o", "config=/y,timeout=x", "map", "mnt"),
               "-o timeout: 'x' is not a number");
}

static void test_bad_long_values(void **state)
{
    (void)state;
    assert_bad(PARSE("--idle-timeout", "abc", "map", "mnt"), "--idle-timeout: 'abc'");
    assert_bad(PARSE("--negative-timeout=-1", "map", "mnt"), "--negative-timeout: '-1' is out of range");
    assert_bad(PARSE("--attr-timeout", "1s", "map", "mnt"), "--attr-timeout: '1s' is not a number");
    assert_bad(PARSE("--idle", "2.5", "map", "mnt"), "--idle-timeout: '2.5' is not a whole number");
    assert_bad(PARSE("--config", "", "map", "mnt"), "--config: the value is empty");
}

/* Syntax errors getopt_long reported before: exit status 2 with the usage. */
static void test_usage_errors(void **state)
{
    (void)state;
    assert_error(PARSE("--no-such", "map", "mnt"), SHARESFS_OPT_USAGE, "unknown option '--no-such'");
    assert_error(PARSE("-x", "map", "mnt"), SHARESFS_OPT_USAGE, "unknown option '-x'");
    assert_error(PARSE("-fx", "map", "mnt"), SHARESFS_OPT_USAGE, "unknown option '-x'");
    assert_error(PARSE("map", "mnt", "--timeout"), SHARESFS_OPT_USAGE, "option '--timeout' needs a value");
    assert_error(PARSE("map", "mnt", "-t"), SHARESFS_OPT_USAGE, "option '-t' needs a value");
    assert_error(PARSE("map", "mnt", "-o"), SHARESFS_OPT_USAGE, "option '-o' needs a value");
    assert_error(PARSE("--direct-io=yes", "map", "mnt"), SHARESFS_OPT_USAGE, "option '--direct-io' takes no value");
    /* --n: --negative-timeout or --nobrowse. */
    assert_error(PARSE("--n", "5", "map", "mnt"), SHARESFS_OPT_USAGE, "ambiguous option '--n'");
}

/* ---- the table ---- */

static void test_o_key_is_long_name(void **state)
{
    (void)state;
    size_t with_o = 0;
    for (size_t i = 0; i < sharesfs_option_count(); i++) {
        const char *l = sharesfs_option_long_name(i), *k = sharesfs_option_o_key(i);
        if (!k)
            continue;
        assert_non_null(l);
        assert_int_equal(strlen(l), strlen(k));
        for (size_t j = 0; l[j]; j++)
            assert_int_equal(k[j], l[j] == '-' ? '_' : l[j]);
        with_o++;
    }
    assert_int_equal(with_o, 9);   /* config timeout negative attr idle map_refresh direct_io shared_session nobrowse */
}

static void test_help_lists_every_form(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    sharesfs_options_print_help(f);
    fclose(f);
    assert_non_null(strstr(text, "--idle-timeout SECS, -o idle_timeout=SECS"));
    assert_non_null(strstr(text, "-c, --config FILE, -o config=FILE"));
    assert_non_null(strstr(text, "--direct-io, -o direct_io"));
    assert_non_null(strstr(text, "--status MOUNTPOINT"));
    for (char *line = text, *nl; *line; line = nl + 1) {
        nl = strchrnul(line, '\n');
        if (nl - line > 80)
            fail_msg("help line wider than 80 columns: %.*s", (int)(nl - line), line);
        if (!*nl)
            break;
    }
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_long_form),
        cmocka_unit_test(test_short_forms),
        cmocka_unit_test(test_o_form),
        cmocka_unit_test(test_mount_helper_form),
        cmocka_unit_test(test_mixed_and_repeated),
        cmocka_unit_test(test_map_refresh),
        cmocka_unit_test(test_allow_other_sessions),
        cmocka_unit_test(test_comma_lists),
        cmocka_unit_test(test_fstab_only_dropped),
        cmocka_unit_test(test_libfuse_options_pass_through),
        cmocka_unit_test(test_operands),
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_bad_timeout_values),
        cmocka_unit_test(test_bad_o_values),
        cmocka_unit_test(test_bad_long_values),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_o_key_is_long_name),
        cmocka_unit_test(test_help_lists_every_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
