/* Unit tests for fs/fuse/mountplan.c: the mount points of an auto_master
 * (sharesfs AUTO_MASTER), the nesting check, the mountinfo lookup. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp */
#endif
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fuse/mountplan.h"

/* ---- helpers ---- */

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_mountplan.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Loads the auto_master written to tmpdir and builds its plan; returns
 * mountplan_build's result, ERR holding its message. */
static int plan_master(const char *master_text, struct mountplan *plan, char *err, size_t errlen)
{
    write_file("auto_master", master_text);
    char path[256];
    snprintf(path, sizeof(path), "%s/auto_master", tmpdir);
    struct sfs_map map;
    struct sfs_parse_error perr;
    int rc = sfs_map_load(path, NULL, &map, &perr);
    if (rc < 0)
        fail_msg("%s does not load: %s", path, perr.message);
    rc = mountplan_build(&map, plan, err, errlen);
    assert_int_equal(map.n_entries, 0);   /* moved out, or freed on error */
    sfs_map_free(&map);
    return rc;
}

static void write_maps(void)
{
    write_file("auto_a", "Public -fstype=url,guest smb://fs.lab.test/public\n"
                         "Home   -fstype=url smb://fs.lab.test/user\n");
    write_file("auto_b", "Data -fstype=url smb://fs.lab.test/data\n");
    write_file("auto_direct", "/srv/direct//one/ -fstype=url,guest smb://fs.lab.test/public\n"
                              "/srv/direct/two   -fstype=url smb://fs.lab.test/user\n");
}

/* ---- normalisation and nesting ---- */

static void test_normalize(void **state)
{
    (void)state;
    static const char *cases[][2] = {
        {"/", "/"}, {"//", "/"}, {"/a//b/", "/a/b"}, {"/a/b", "/a/b"}, {"///x///", "/x"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = mountplan_normalize(cases[i][0]);
        assert_string_equal(got, cases[i][1]);
        free(got);
    }
}

static void test_paths_nest(void **state)
{
    (void)state;
    assert_true(mountplan_paths_nest("/a", "/a"));
    assert_true(mountplan_paths_nest("/a", "/a/b"));
    assert_true(mountplan_paths_nest("/a/b/c", "/a"));
    assert_true(mountplan_paths_nest("/", "/anything"));
    assert_true(mountplan_paths_nest("/x", "/"));
    assert_true(mountplan_paths_nest("/", "/"));
    assert_false(mountplan_paths_nest("/a", "/ab"));
    assert_false(mountplan_paths_nest("/ab", "/a"));
    assert_false(mountplan_paths_nest("/a/b", "/a/c"));
    assert_false(mountplan_paths_nest("/Network/Shares", "/Network/Shared"));
}

/* ---- plans ---- */

static void test_master_plan(void **state)
{
    (void)state;
    write_maps();
    struct mountplan plan;
    char err[1024];
    int rc = plan_master("/Network/Shares auto_a\n"
                         "/mnt/b/ auto_b -nobrowse\n"
                         "/- auto_direct\n"
                         "/net -hosts\n",
                         &plan, err, sizeof(err));
    assert_int_equal(rc, 0);
    assert_int_equal(plan.n, 4);
    assert_string_equal(plan.points[0].path, "/Network/Shares");
    assert_false(plan.points[0].direct);
    assert_int_equal(plan.points[0].map.n_entries, 2);
    assert_string_equal(plan.points[0].map.entries[1].key, "Home");
    assert_string_equal(plan.points[1].path, "/mnt/b");
    assert_int_equal(plan.points[1].map.n_entries, 1);
    assert_true(plan.points[1].map.entries[0].opts.nobrowse);
    assert_string_equal(plan.points[2].path, "/srv/direct/one");
    assert_true(plan.points[2].direct);
    assert_int_equal(plan.points[2].map.n_entries, 1);
    assert_string_equal(plan.points[3].path, "/srv/direct/two");
    assert_true(plan.points[3].direct);
    assert_string_equal(plan.points[3].map.entries[0].location, "smb://fs.lab.test/user");
    mountplan_free(&plan);
    assert_int_equal(plan.n, 0);
}

static void test_direct_map_alone(void **state)
{
    (void)state;
    struct sfs_map map;
    struct sfs_parse_error perr;
    assert_int_equal(sfs_map_parse_text("/Volumes/Attic -fstype=url afp://h/Attic\n"
                                        "/Volumes/Groups -fstype=url afp://h/Groups\n",
                                        "auto_direct", NULL, &map, &perr),
                     0);
    struct mountplan plan;
    char err[256];
    assert_int_equal(mountplan_build(&map, &plan, err, sizeof(err)), 0);
    assert_int_equal(plan.n, 2);
    assert_true(plan.points[0].direct && plan.points[1].direct);
    assert_string_equal(plan.points[1].path, "/Volumes/Groups");
    mountplan_free(&plan);
    sfs_map_free(&map);
}

static void test_indirect_alone_refused(void **state)
{
    (void)state;
    struct sfs_map map;
    struct sfs_parse_error perr;
    assert_int_equal(sfs_map_parse_text("Attic -fstype=url afp://h/Attic\n", "auto_shares", NULL, &map, &perr), 0);
    struct mountplan plan;
    char err[256];
    assert_int_equal(mountplan_build(&map, &plan, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "indirect map without a mount point"));
    assert_non_null(strstr(err, "sharesfs MAP MOUNTPOINT"));
    assert_int_equal(plan.n, 0);
    assert_int_equal(map.n_entries, 0);
    sfs_map_free(&map);
}

static void test_indirect_inside_indirect(void **state)
{
    (void)state;
    write_maps();
    struct mountplan plan;
    char err[1024];
    assert_int_equal(plan_master("/Network/Shares auto_a\n/Network/Shares/Data auto_b\n", &plan, err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "mount points nest: /Network/Shares/Data ("));
    assert_non_null(strstr(err, "auto_b) is inside /Network/Shares ("));
    assert_int_equal(plan.n, 0);
}

static void test_direct_inside_indirect(void **state)
{
    (void)state;
    write_maps();
    struct mountplan plan;
    char err[1024];
    /* The direct entry comes first; the message still puts the inner path first. */
    assert_int_equal(plan_master("/- auto_direct\n/srv auto_a\n", &plan, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "mount points nest: /srv/direct/one (direct map entry "));
    assert_non_null(strstr(err, "auto_direct:1) is inside /srv (indirect map "));
}

static void test_coinciding_mount_points(void **state)
{
    (void)state;
    write_maps();
    struct mountplan plan;
    char err[1024];
    assert_int_equal(plan_master("/srv/direct/two auto_b\n/- auto_direct\n", &plan, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "mount point /srv/direct/two is given twice (indirect map "));
    assert_non_null(strstr(err, "direct map entry "));
    assert_non_null(strstr(err, "auto_direct:2)"));
}

static void test_mount_at_root_nests_everything(void **state)
{
    (void)state;
    write_maps();
    struct mountplan plan;
    char err[1024];
    assert_int_equal(plan_master("/ auto_a\n/mnt/b auto_b\n", &plan, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "/mnt/b ("));
    assert_non_null(strstr(err, "is inside / ("));
}

/* ---- mountinfo ---- */

static void test_mountinfo(void **state)
{
    (void)state;
    const char *text =
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
        "90 22 0:50 / /tmp/x/A rw,nosuid,nodev,relatime shared:40 - fuse.sharesfs sharesfs rw,user_id=0\n"
        "91 22 0:51 / /tmp/x/Team\\040Share rw,relatime - fuse.sharesfs sharesfs rw\n"
        "92 22 0:52 / /tmp/x/B rw,relatime - fuse.other other rw\n"
        "93 22 0:53 / /tmp/x/C rw,relatime master:2 shared:7 - fuse.sharesfs sharesfs rw";   /* no final LF */
    assert_true(mountplan_mountinfo_has(text, "/tmp/x/A", "fuse.sharesfs"));
    assert_true(mountplan_mountinfo_has(text, "/tmp/x/Team Share", "fuse.sharesfs"));
    assert_false(mountplan_mountinfo_has(text, "/tmp/x/Team\\040Share", "fuse.sharesfs"));
    assert_false(mountplan_mountinfo_has(text, "/tmp/x/B", "fuse.sharesfs"));
    assert_true(mountplan_mountinfo_has(text, "/tmp/x/C", "fuse.sharesfs"));
    assert_false(mountplan_mountinfo_has(text, "/tmp/x", "fuse.sharesfs"));
    assert_true(mountplan_mountinfo_has(text, "/", "ext4"));
    assert_false(mountplan_mountinfo_has("", "/", "ext4"));
    assert_false(mountplan_mountinfo_has("garbage without fields\n", "/", "ext4"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_paths_nest),
        cmocka_unit_test(test_master_plan),
        cmocka_unit_test(test_direct_map_alone),
        cmocka_unit_test(test_indirect_alone_refused),
        cmocka_unit_test(test_indirect_inside_indirect),
        cmocka_unit_test(test_direct_inside_indirect),
        cmocka_unit_test(test_coinciding_mount_points),
        cmocka_unit_test(test_mount_at_root_nests_everything),
        cmocka_unit_test(test_mountinfo),
    };
    return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
