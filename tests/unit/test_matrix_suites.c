/* Unit tests for the matrix's suites and targets that need no server:
 * the fuse checks on a local directory (fuse_checks.c), the records a cell
 * sends (wire.c), the child process killed at its deadline (fuse_mount.c),
 * the seed scenario's map (seed.c), the container addresses and the hook's
 * start/stop (container.c), and the new keys of the matrix file. */
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

/* The records in a pipe's read end, as results of cell "t/c/fuse". */
static GPtrArray *drain(int fd)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(mx_result_free);
    struct mx_wire w;
    while (read(fd, &w, sizeof(w)) == (ssize_t)sizeof(w))
        g_ptr_array_add(out, mx_wire_result("t/c/fuse", &w));
    return out;
}

static const struct mx_result *named(GPtrArray *rs, const char *name)
{
    for (guint i = 0; i < rs->len; i++)
        if (!strcmp(((struct mx_result *)rs->pdata[i])->name, name))
            return rs->pdata[i];
    fail_msg("no result %s", name);
    return NULL;
}

static void test_write_checks_on_a_local_dir(void **state)
{
    (void)state;
    char *root = g_dir_make_tmp("mx-fuse-XXXXXX", NULL);
    assert_non_null(root);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    struct mx_fuse_entry e = {.entry = "k", .root = root, .write = true, .run_dir = ".sfs-matrix-1"};
    mx_fuse_check_entry(&e, fds[1]);
    close(fds[1]);
    GPtrArray *rs = drain(fds[0]);
    close(fds[0]);
    unsigned n = 0;
    while (mx_fuse_write_checks[n])
        n++;
    assert_int_equal(rs->len, n);
    for (guint i = 0; i < rs->len; i++) {
        const struct mx_result *r = rs->pdata[i];
        if (strcmp(r->result, "ok"))
            fail_msg("%s: %s (%s)", r->name, r->result, r->detail);
        assert_true(g_str_has_prefix(r->name, "k."));
        assert_string_equal(r->reached, r->name + 2);
    }
    assert_string_equal(named(rs, "k.enoent")->status, "ENOENT");
    assert_string_equal(named(rs, "k.eexist")->status, "EEXIST");
    assert_string_equal(named(rs, "k.enotdir")->status, "ENOTDIR");
    assert_string_equal(named(rs, "k.enotempty")->status, "ENOTEMPTY");
    assert_string_equal(named(rs, "k.name-too-long")->status, "ENAMETOOLONG");
    assert_string_equal(named(rs, "k.mode")->status, "0640");
    assert_string_equal(named(rs, "k.mkdir")->status, "-");
    /* Nothing of the checks stays behind. */
    char *run = g_build_filename(root, ".sfs-matrix-1", NULL);
    struct stat sb;
    assert_int_equal(stat(run, &sb), -1);
    g_free(run);
    g_ptr_array_free(rs, TRUE);
    assert_int_equal(rmdir(root), 0);
    g_free(root);
}

static void test_read_checks_and_a_missing_key(void **state)
{
    (void)state;
    char *root = g_dir_make_tmp("mx-fuse-XXXXXX", NULL);
    char *file = g_build_filename(root, "b.txt", NULL);
    char *other = g_build_filename(root, "a.txt", NULL);
    assert_true(g_file_set_contents(file, "b\n", -1, NULL));
    assert_true(g_file_set_contents(other, "a\n", -1, NULL));
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    struct mx_fuse_entry e = {.entry = "ro", .root = root, .write = false, .run_dir = ".sfs-matrix-2"};
    mx_fuse_check_entry(&e, fds[1]);
    char *missing = g_build_filename(root, "nothing-here", NULL);
    struct mx_fuse_entry gone = {.entry = "gone", .root = missing, .write = true, .run_dir = ".sfs-matrix-2"};
    mx_fuse_check_entry(&gone, fds[1]);
    close(fds[1]);
    GPtrArray *rs = drain(fds[0]);
    close(fds[0]);
    assert_string_equal(named(rs, "ro.mount")->result, "ok");
    assert_string_equal(named(rs, "ro.list")->result, "ok");
    assert_string_equal(named(rs, "ro.read")->result, "ok");
    /* A writable directory: the refusal the check wants does not come. */
    assert_string_equal(named(rs, "ro.write-refused")->result, "unexpected-success");
    /* A key that does not mount: every check says so, with its errno. */
    assert_string_equal(named(rs, "gone.mount")->result, "ENOENT");
    assert_string_equal(named(rs, "gone.rename")->result, "ENOENT");
    assert_non_null(strstr(named(rs, "gone.rename")->detail, "did not mount"));
    g_ptr_array_free(rs, TRUE);
    unlink(file);
    unlink(other);
    assert_int_equal(rmdir(root), 0);
    g_free(missing);
    g_free(file);
    g_free(other);
    g_free(root);
}

static void test_wire_round_trip(void **state)
{
    (void)state;
    struct mx_wire w;
    mx_wire_set(&w, "e.read", "mount", "EACCES", "NT_STATUS_ACCESS_DENIED", "tree\tconnect\nfailed");
    snprintf(w.auth, sizeof(w.auth), "ntlmssp");
    w.ms = 12.5;
    struct mx_result *r = mx_wire_result("a/b/c", &w);
    assert_string_equal(r->cell, "a/b/c");
    assert_string_equal(r->name, "e.read");
    assert_string_equal(r->reached, "mount");
    assert_string_equal(r->result, "EACCES");
    assert_string_equal(r->status, "NT_STATUS_ACCESS_DENIED");
    assert_string_equal(r->auth, "ntlmssp");
    assert_string_equal(r->server, "-");
    assert_string_equal(r->detail, "tree connect failed");
    assert_true(r->ms == 12.5);
    mx_result_free(r);
    /* A record whose strings are not terminated is still read safely. */
    memset(&w, 'x', sizeof(w));
    r = mx_wire_result("a/b/c", &w);
    assert_int_equal(strlen(r->name), sizeof(w.name));
    mx_result_free(r);
    char buf[32];
    assert_string_equal(mx_errno_name(2, buf, sizeof(buf)), "ENOENT");
    assert_string_equal(mx_errno_name(9999, buf, sizeof(buf)), "errno9999");
}

static void sends_two_then_hangs(void *arg, int fd)
{
    (void)arg;
    struct mx_wire w;
    mx_wire_set(&w, "x.one", "one", "ok", NULL, NULL);
    mx_wire_send(fd, &w);
    mx_wire_set(&w, "x.two", "two", "ok", NULL, NULL);
    mx_wire_send(fd, &w);
    pause();
}

static void crashes(void *arg, int fd)
{
    (void)arg;
    (void)fd;
    _exit(3);
}

static void test_child_killed_at_deadline(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    char why[128];
    assert_int_equal(mx_run_child(sends_two_then_hangs, NULL, fds[1], 300, seen, why, sizeof(why)), MX_CHILD_KILLED);
    assert_non_null(strstr(why, "300 ms"));
    assert_int_equal(g_hash_table_size(seen), 2);
    assert_true(g_hash_table_contains(seen, "x.two"));
    assert_int_equal(mx_run_child(crashes, NULL, fds[1], 5000, seen, why, sizeof(why)), MX_CHILD_DIED);
    assert_non_null(strstr(why, "exit status 3"));
    close(fds[1]);
    GPtrArray *rs = drain(fds[0]);
    assert_int_equal(rs->len, 2);   /* forwarded as they came */
    g_ptr_array_free(rs, TRUE);
    close(fds[0]);
    g_hash_table_destroy(seen);
}

static void test_seed_map(void **state)
{
    (void)state;
    char *text = mx_seed_map_text("lion.lab.test");
    struct sfs_map map = {0};
    struct sfs_parse_error perr = {0};
    assert_int_equal(sfs_map_parse_text(text, "seed", "/Network/Shares", &map, &perr), 0);
    assert_int_equal(map.n_entries, 3);
    for (size_t i = 0; i < map.n_entries; i++)
        assert_string_equal(map.entries[i].key, mx_seed_rows[i]);
    assert_non_null(strstr(text, "afp://lion.lab.test/Groups"));
    assert_non_null(strstr(text, "afp://;AUTH=No%20User%20Authent@lion.lab.test/Attic"));
    assert_non_null(strstr(text, "afp://;AUTH=Client%20Krb%20v2@lion.lab.test/Multimedia"));
    sfs_map_free(&map);
    g_free(text);
}

static void test_container_addresses(void **state)
{
    (void)state;
    char a[32], p[32];
    mx_container_addresses(0, a, sizeof(a), p, sizeof(p));
    assert_string_equal(a, "10.231.60.2");
    assert_string_equal(p, "10.231.60.1");
    mx_container_addresses(62, a, sizeof(a), p, sizeof(p));
    assert_string_equal(a, "10.231.60.250");
    assert_string_equal(p, "10.231.60.249");
}

static void test_new_keys_and_the_hook(void **state)
{
    (void)state;
    /* A copy of the matrix in a directory of its own: the hook writes there. */
    char *dir = g_dir_make_tmp("mx-hook-XXXXXX", NULL);
    char *path = g_build_filename(dir, "m.yaml", NULL), *text = NULL, *log = g_build_filename(dir, "hook.log", NULL);
    assert_true(g_file_get_contents(DIR "suites.yaml", &text, NULL, NULL));
    assert_true(g_file_set_contents(path, text, -1, NULL));
    struct mx_error err;
    struct mx_matrix *m = mx_matrix_load(path, &err);
    assert_non_null(m);
    assert_non_null(m->container_command);
    assert_string_equal(m->vm_command, "false");
    const struct mx_target *fs = m->targets->pdata[0], *bp = m->targets->pdata[1];
    assert_true(((struct mx_share *)fs->shares->pdata[1])->write);
    assert_false(((struct mx_share *)fs->shares->pdata[0])->write);
    assert_null(bp->host);   /* its address, once started */
    assert_non_null(strchr(bp->server_config, '\n'));
    GPtrArray *cells = mx_cells(m);
    /* Before it starts, a container's map names no real host. */
    char *map = mx_cell_map_text(m, cells->pdata[2]);
    assert_non_null(strstr(map, "not-started.invalid"));
    g_free(map);
    GHashTable *failed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    struct mx_started *st = mx_targets_start(m, cells, dir, failed);
    assert_string_equal(bp->host, "10.231.60.2");
    /* The vm's hook fails: its cells will be ERROR, with the reason. */
    assert_int_equal(g_hash_table_size(failed), 1);
    assert_non_null(strstr(g_hash_table_lookup(failed, "ksmbd"), "did not start: the start command failed"));
    mx_targets_stop(st);
    char *got = NULL;
    assert_true(g_file_get_contents(log, &got, NULL, NULL));
    assert_string_equal(got, "bp start\nbp stop\n");
    g_free(got);
    g_hash_table_destroy(failed);
    g_ptr_array_free(cells, TRUE);
    mx_matrix_free(m);
    unlink(log);
    char *conf = g_build_filename(dir, "target-bp", "server.conf", NULL), *logs[] = {"start.log", "stop.log"};
    unlink(conf);
    for (int i = 0; i < 2; i++) {
        char *p = g_build_filename(dir, "target-bp", logs[i], NULL);
        unlink(p);
        g_free(p);
        p = g_build_filename(dir, "target-ksmbd", logs[i], NULL);
        unlink(p);
        g_free(p);
    }
    char *sub = g_build_filename(dir, "target-bp", NULL);
    rmdir(sub);
    g_free(sub);
    sub = g_build_filename(dir, "target-ksmbd", NULL);
    rmdir(sub);
    g_free(sub);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
    g_free(conf);
    g_free(text);
    g_free(path);
    g_free(log);
    g_free(dir);
}

static void test_sharesfs_path(void **state)
{
    (void)state;
    setenv("SHARESFS", "/opt/x/sharesfs", 1);
    char *p = mx_sharesfs_path();
    assert_string_equal(p, "/opt/x/sharesfs");
    g_free(p);
    unsetenv("SHARESFS");
    p = mx_sharesfs_path();
    assert_non_null(strstr(p, "sharesfs"));
    g_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_checks_on_a_local_dir),
        cmocka_unit_test(test_read_checks_and_a_missing_key),
        cmocka_unit_test(test_wire_round_trip),
        cmocka_unit_test(test_child_killed_at_deadline),
        cmocka_unit_test(test_seed_map),
        cmocka_unit_test(test_container_addresses),
        cmocka_unit_test(test_new_keys_and_the_hook),
        cmocka_unit_test(test_sharesfs_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
