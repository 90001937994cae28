/* The SMB backend's pure parts: URLs sized to what they hold (the only
 * limit is the protocol's), and libsmbclient's statvfs turned into what df
 * expects. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libsmbclient.h>

#include "sharesfs/backend.h"
#include "smb/smb_statvfs.h"
#include "smb/smb_url.h"

/* A path of N characters: "d/d/.../d" (N odd) or ending in '/' (N even). */
static char *deep_path(size_t n)
{
    char *p = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        p[i] = i % 2 ? '/' : 'd';
    p[n] = '\0';
    return p;
}

static void test_url_encodes(void **state)
{
    (void)state;
    char *url = NULL;
    assert_int_equal(smb_url_for("smb://h/s", "/a b/50%?x", &url), 0);
    assert_string_equal(url, "smb://h/s/a%20b/50%25%3Fx");
    free(url);
    assert_int_equal(smb_url_for("smb://h/s", "/", &url), 0);
    assert_string_equal(url, "smb://h/s");
    free(url);
}

/* Paths longer than PATH_MAX go out: the limit is SMB's, not a buffer's. */
static void test_url_long_paths(void **state)
{
    (void)state;
    char *url = NULL;
    char *p = deep_path(SMB_PATH_MAX_UTF16);
    assert_int_equal(smb_url_for("smb://h/s", p, &url), 0);
    assert_int_equal(strlen(url), strlen("smb://h/s/") + SMB_PATH_MAX_UTF16);
    free(url);
    free(p);
    p = deep_path(SMB_PATH_MAX_UTF16 + 1);
    url = NULL;
    assert_int_equal(smb_url_for("smb://h/s", p, &url), -ENAMETOOLONG);
    assert_null(url);
    free(p);
}

/* Every byte of a name that needs encoding takes three in the URL. */
static void test_url_encoded_size(void **state)
{
    (void)state;
    size_t n = 10000;
    char *p = malloc(n * 3 + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(p + 3 * i, "\xe2\x82\xac", 3);   /* U+20AC: one UTF-16 unit, three bytes */
    p[3 * n] = '\0';
    char *url = NULL;
    assert_int_equal(smb_url_for("smb://h/s", p, &url), 0);
    assert_int_equal(strlen(url), strlen("smb://h/s/") + 9 * n);
    assert_memory_equal(url + strlen(url) - 9, "%E2%82%AC", 9);
    free(url);
    free(p);
}

#define U(s) sfs_utf16_units(s, strlen(s))

static void test_utf16_units(void **state)
{
    (void)state;
    assert_int_equal(U(""), 0);
    assert_int_equal(U("abc"), 3);
    assert_int_equal(U("\xc3\xa9"), 1);          /* U+00E9 */
    assert_int_equal(U("\xf0\x9f\x98\x80"), 2);  /* U+1F600: a surrogate pair */
}

/* Names of 255 UTF-16 units pass and of 256 do not, in any component;
 * a 4-byte character counts two, a 2-byte one counts one. */
static void test_path_check_names(void **state)
{
    (void)state;
    char name[1200], path[1400];
    memset(name, 'a', 255);
    name[255] = '\0';
    assert_int_equal(sfs_path_check_names(name), 0);
    snprintf(path, sizeof(path), "/x/%s/y", name);
    assert_int_equal(sfs_path_check_names(path), 0);
    strcat(name, "a");
    snprintf(path, sizeof(path), "/x/%s/y", name);
    assert_int_equal(sfs_path_check_names(path), -ENAMETOOLONG);
    assert_int_equal(sfs_path_check_names(name), -ENAMETOOLONG);
    name[0] = '\0';   /* 200 x U+00E9: 400 bytes, 200 units */
    for (int i = 0; i < 200; i++)
        strcat(name, "\xc3\xa9");
    assert_int_equal(sfs_path_check_names(name), 0);
    name[0] = '\0';   /* 128 x U+1F600: 512 bytes, 256 units */
    for (int i = 0; i < 128; i++)
        strcat(name, "\xf0\x9f\x98\x80");
    assert_int_equal(sfs_path_check_names(name), -ENAMETOOLONG);
    assert_int_equal(sfs_path_check_names("a/\xff/b"), -EILSEQ);          /* not UTF-8 */
    assert_int_equal(sfs_path_check_names("\xc0\xaf"), -EILSEQ);          /* overlong '/' */
    assert_int_equal(sfs_path_check_names("\xed\xa0\x80"), -EILSEQ);      /* a surrogate */
    assert_int_equal(sfs_path_check_names("e\xcc\x81t\xc3\xa9"), 0);      /* NFD and NFC alike */
    struct sfs_status st = {0};
    assert_int_equal(sfs_path_check("x/\xfe", SFS_STAGE_WRITE, "mkdir", &st), -EILSEQ);
    assert_int_equal(st.err, EILSEQ);
    assert_non_null(strstr(st.detail, "not UTF-8"));
    assert_int_equal(sfs_path_check_names(""), 0);
    assert_int_equal(sfs_path_check_names("//a//b/"), 0);
}

static void test_url_base(void **state)
{
    (void)state;
    struct sfs_url u = {.host = "fs.lab.test", .share = "user", .path = "a b"};
    char *url = NULL;
    assert_int_equal(smb_url_base(&u, &url), 0);
    assert_string_equal(url, "smb://fs.lab.test/user/a%20b");
    free(url);
    struct sfs_url v6 = {.host = "fe80::1%eth0", .host_is_ipv6 = true, .share = "s"};
    assert_int_equal(smb_url_base(&v6, &url), 0);
    assert_string_equal(url, "smb://[fe80::1%eth0]/s");
    free(url);
}

/* SMB2 (FileFsFullSizeInformation), as Samba 4.17 answered for a 252 GiB
 * disk: 512 bytes per sector, 2 sectors per unit, counts in 1 KiB units. */
static void test_statvfs_full_size(void **state)
{
    (void)state;
    struct statvfs sv = {.f_bsize = 512, .f_frsize = 2, .f_blocks = 264000000, .f_bfree = 100000000,
                         .f_bavail = 90000000, .f_flag = SMBC_VFS_FEATURE_NO_UNIXCIFS |
                                                        SMBC_VFS_FEATURE_CASE_INSENSITIVE};
    smb_statvfs_normalize(&sv);
    assert_int_equal(sv.f_bsize, 1024);
    assert_int_equal(sv.f_frsize, 1024);
    assert_int_equal(sv.f_blocks, 264000000);
    assert_int_equal(sv.f_bavail, 90000000);
    assert_int_equal(sv.f_namemax, SFS_NAME_MAX_UTF16);
    assert_int_equal(sv.f_flag, 0);
    assert_int_equal(smb_statvfs_total_bytes(&sv), 264000000ull * 1024);
}

/* SMB1 Unix extensions: the block size alone, f_frsize left 0. */
static void test_statvfs_posix(void **state)
{
    (void)state;
    struct statvfs sv = {.f_bsize = 4096, .f_blocks = 1000, .f_bfree = 10, .f_files = 77,
                         .f_flag = SMBC_VFS_FEATURE_RDONLY};
    smb_statvfs_normalize(&sv);
    assert_int_equal(sv.f_bsize, 4096);
    assert_int_equal(sv.f_frsize, 4096);
    assert_int_equal(sv.f_blocks, 1000);
    assert_int_equal(sv.f_files, 77);
    assert_int_equal(sv.f_flag, ST_RDONLY);
    assert_int_equal(smb_statvfs_total_bytes(&sv), 4096000);
}

/* The server answered no size: a unit df can divide by, no blocks. */
static void test_statvfs_empty(void **state)
{
    (void)state;
    struct statvfs sv = {.f_flag = SMBC_VFS_FEATURE_NO_UNIXCIFS};
    smb_statvfs_normalize(&sv);
    assert_int_equal(sv.f_frsize, 4096);
    assert_int_equal(sv.f_blocks, 0);
    assert_int_equal(sv.f_namemax, 255);
    struct statvfs huge = {.f_blocks = UINT64_MAX / 2, .f_frsize = 4096};
    assert_true(smb_statvfs_total_bytes(&huge) == UINT64_MAX);
}

/* A truncate beyond the whole filesystem (EFBIG), not a full disk. */
static void test_statvfs_size_beyond(void **state)
{
    (void)state;
    struct statvfs sv = {.f_bsize = 512, .f_frsize = 2, .f_blocks = 264212084,
                         .f_flag = SMBC_VFS_FEATURE_NO_UNIXCIFS};
    smb_statvfs_normalize(&sv);
    assert_true(smb_statvfs_size_beyond(&sv, 999999999999999));
    assert_false(smb_statvfs_size_beyond(&sv, 264212084ll * 1024));
    assert_false(smb_statvfs_size_beyond(&sv, 1 << 20));
    struct statvfs unknown = {.f_flag = SMBC_VFS_FEATURE_NO_UNIXCIFS};
    smb_statvfs_normalize(&unknown);
    assert_false(smb_statvfs_size_beyond(&unknown, 999999999999999));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_encodes),       cmocka_unit_test(test_url_long_paths),
        cmocka_unit_test(test_url_encoded_size),  cmocka_unit_test(test_utf16_units),
        cmocka_unit_test(test_url_base),          cmocka_unit_test(test_statvfs_full_size),
        cmocka_unit_test(test_statvfs_posix),     cmocka_unit_test(test_statvfs_empty),
        cmocka_unit_test(test_statvfs_size_beyond), cmocka_unit_test(test_path_check_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
