/* Pathnames, POSIX <-> AFP names, and the catalog-changing requests
 * (FPCreateFile/Dir, FPDelete, FPRename, FPMoveAndRename,
 * FPSetFileDirParms).  No capture changes the catalog, so the expected
 * bytes are written out from the layouts in docs/afp.md. */
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "afp/afp_catalog.h"
#include "afp/afp_path.h"
#include "afp/afp_proto.h"

#define HINT "\x08\x00\x01\x03"

static void assert_bytes(const struct afp_writer *w, const char *expect, size_t n)
{
    assert_int_equal(afp_writer_error(w), 0);
    assert_int_equal(w->len, n);
    assert_memory_equal(w->buf, expect, n);
}

/* The pathname of path, written into w (reset first), is exactly expect. */
static void assert_pathname(struct afp_writer *w, const char *path, const char *expect, size_t n)
{
    afp_writer_reset(w);
    afp_write_pathname(w, path);
    assert_bytes(w, expect, n);
}

static void test_pathnames(void **state)
{
    (void)state;
    struct afp_writer w;
    afp_writer_init(&w);

    assert_pathname(&w, "smalldir", "\x03" HINT "\x00\x08smalldir", 15);
    /* components separated by NUL; empty and "." components dropped */
    assert_pathname(&w, "/a//./b/", "\x03" HINT "\x00\x03" "a\0b", 10);
    /* the directory itself */
    assert_pathname(&w, "", "\x03" HINT "\x00\x00", 7);
    assert_pathname(&w, ".", "\x03" HINT "\x00\x00", 7);
    /* POSIX ':' is AFP '/' */
    assert_pathname(&w, "dir/a:b", "\x03" HINT "\x00\x07" "dir\0a/b", 14);

    /* ".." must be resolved above this layer */
    afp_writer_reset(&w);
    assert_int_equal(afp_write_pathname(&w, "a/../b"), -EINVAL);
    assert_int_equal(afp_writer_error(&w), -EINVAL);
    assert_int_equal(w.len, 0);
    afp_writer_reset(&w);
    assert_int_equal(afp_write_pathname(&w, NULL), -EINVAL);

    /* one component too long; the whole path over 65535 */
    char *big = malloc(70000);
    memset(big, 'x', 1024);
    big[1024] = 0;
    afp_writer_reset(&w);
    assert_int_equal(afp_write_pathname(&w, big), -ENAMETOOLONG);
    big[1023] = 0;
    afp_writer_reset(&w);
    assert_int_equal(afp_write_pathname(&w, big), 0);
    assert_int_equal(w.len, 7 + 1023);
    for (size_t i = 0; i < 69999; i++)
        big[i] = (i % 100 == 99) ? '/' : 'y';
    big[69999] = 0;
    afp_writer_reset(&w);
    assert_int_equal(afp_write_pathname(&w, big), -ENAMETOOLONG);
    free(big);

    /* a single name */
    afp_writer_reset(&w);
    assert_int_equal(afp_write_name(&w, "new:name"), 0);
    assert_bytes(&w, "\x03" HINT "\x00\x08" "new/name", 15);
    afp_writer_reset(&w);
    assert_int_equal(afp_write_name(&w, "a/b"), -EINVAL);
    afp_writer_reset(&w);
    assert_int_equal(afp_write_name(&w, ".."), -EINVAL);
    afp_writer_reset(&w);
    assert_int_equal(afp_write_name(&w, NULL), 0);
    assert_bytes(&w, "\x03" HINT "\x00\x00", 7);
    afp_writer_free(&w);
}

static void test_name_mapping(void **state)
{
    (void)state;
    char out[16];
    assert_int_equal(afp_name_to_posix("a/b", 3, out, sizeof(out)), 0);
    assert_string_equal(out, "a:b");
    assert_int_equal(afp_name_to_posix("a\0b", 3, out, sizeof(out)), -EINVAL);
    assert_int_equal(afp_name_to_posix("0123456789abcdef", 16, out, sizeof(out)), -ENAMETOOLONG);
    assert_int_equal(afp_name_from_posix("a:b", out, sizeof(out)), 0);
    assert_string_equal(out, "a/b");
    assert_int_equal(afp_name_from_posix("a/b", out, sizeof(out)), -EINVAL);
    assert_int_equal(afp_name_from_posix("0123456789abcdef", out, sizeof(out)), -ENAMETOOLONG);
    /* UTF-8 passes through untouched */
    assert_int_equal(afp_name_to_posix("caf\xc3\xa9", 5, out, sizeof(out)), 0);
    assert_string_equal(out, "caf\xc3\xa9");
}

static void test_create_delete(void **state)
{
    (void)state;
    struct afp_writer w;
    uint32_t id;
    afp_writer_init(&w);

    assert_int_equal(afp_encode_createfile(&w, false, 1, 2, "new.txt"), 0);
    assert_bytes(&w, "\x07\x00\x00\x01\x00\x00\x00\x02\x03" HINT "\x00\x07new.txt", 22);
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_createfile(&w, true, 1, 2, "new.txt"), 0);
    assert_int_equal(w.buf[1], AFP_CREATE_HARD);

    afp_writer_reset(&w);
    assert_int_equal(afp_encode_createdir(&w, 1, 17, "d"), 0);
    assert_bytes(&w, "\x06\x00\x00\x01\x00\x00\x00\x11\x03" HINT "\x00\x01" "d", 16);
    assert_int_equal(afp_createdir_decode((const uint8_t *)"\x00\x00\x00\x2a", 4, &id), 0);
    assert_int_equal(id, 42);
    assert_int_equal(afp_createdir_decode((const uint8_t *)"\x00\x00\x00", 3, &id), -EPROTO);

    afp_writer_reset(&w);
    assert_int_equal(afp_encode_delete(&w, 1, 2, "smalldir/a.txt"), 0);
    assert_bytes(&w, "\x08\x00\x00\x01\x00\x00\x00\x02\x03" HINT "\x00\x0esmalldir\0a.txt", 29);
    afp_writer_free(&w);
}

static void test_rename_move(void **state)
{
    (void)state;
    struct afp_writer w;
    afp_writer_init(&w);

    assert_int_equal(afp_encode_rename(&w, 1, 2, "a.txt", "b.txt"), 0);
    assert_bytes(&w, "\x1c\x00\x00\x01\x00\x00\x00\x02"
                     "\x03" HINT "\x00\x05" "a.txt"
                     "\x03" HINT "\x00\x05" "b.txt", 32);
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_rename(&w, 1, 2, "a.txt", ""), -EINVAL);
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_rename(&w, 1, 2, "a.txt", "x/y"), -EINVAL);

    afp_writer_reset(&w);
    assert_int_equal(afp_encode_moveandrename(&w, 1, 2, 17, "a.txt", "", NULL), 0);
    assert_bytes(&w, "\x17\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x11"
                     "\x03" HINT "\x00\x05" "a.txt"
                     "\x03" HINT "\x00\x00"
                     "\x03" HINT "\x00\x00", 12 + 12 + 7 + 7);
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_moveandrename(&w, 1, 2, 2, "a.txt", "sub", "c.txt"), 0);
    assert_int_equal(w.len, 12 + 12 + 10 + 12);
    afp_writer_free(&w);
}

static void test_setfiledirparms(void **state)
{
    (void)state;
    struct afp_writer w;
    struct afp_set_params p = { 0 };
    afp_writer_init(&w);

    /* path "f" makes the header 8 + 2 + 8 = 18 bytes: no pad */
    p.bitmap = kFPModDateBit | kFPUnixPrivsBit;
    p.mod_date = 0x3294e292;
    p.unix_privs.uid = 1001;
    p.unix_privs.gid = 1001;
    p.unix_privs.mode = 0100600;
    assert_int_equal(afp_encode_setfiledirparms(&w, 1, 2, "f", &p), 0);
    assert_bytes(&w, "\x23\x00\x00\x01\x00\x00\x00\x02\x80\x08"
                     "\x03" HINT "\x00\x01" "f"
                     "\x32\x94\xe2\x92"
                     "\x00\x00\x03\xe9\x00\x00\x03\xe9\x00\x00\x81\x80\x00\x00\x00\x00", 18 + 4 + 16);

    /* path "ab" makes it odd: one pad byte before the parameters */
    afp_writer_reset(&w);
    p.bitmap = kFPAttributeBit;
    p.attributes = kFPSetClearBit | kFPInvisibleBit;
    assert_int_equal(afp_encode_setfiledirparms(&w, 1, 2, "ab", &p), 0);
    assert_bytes(&w, "\x23\x00\x00\x01\x00\x00\x00\x02\x00\x01"
                     "\x03" HINT "\x00\x02" "ab" "\x00"
                     "\x80\x01", 20 + 2);

    /* finder info and all three dates */
    afp_writer_reset(&w);
    p.bitmap = kFPCreateDateBit | kFPModDateBit | kFPBackupDateBit | kFPFinderInfoBit;
    memcpy(p.finder_info, "TEXTttxt", 8);
    p.create_date = 1;
    p.backup_date = AFP_DATE_NEVER;
    assert_int_equal(afp_encode_setfiledirparms(&w, 1, 2, "f", &p), 0);
    assert_int_equal(w.len, 18 + 12 + 32);
    assert_memory_equal(w.buf + 18 + 8, "\x80\x00\x00\x00TEXTttxt", 12);

    /* fork lengths, node IDs and names cannot be set */
    afp_writer_reset(&w);
    p.bitmap = kFPNodeIDBit;
    assert_int_equal(afp_encode_setfiledirparms(&w, 1, 2, "f", &p), -EINVAL);
    afp_writer_reset(&w);
    p.bitmap = kFPUTF8NameBit;
    assert_int_equal(afp_encode_setfiledirparms(&w, 1, 2, "f", &p), -EINVAL);
    afp_writer_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pathnames),
        cmocka_unit_test(test_name_mapping),
        cmocka_unit_test(test_create_delete),
        cmocka_unit_test(test_rename_move),
        cmocka_unit_test(test_setfiledirparms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
