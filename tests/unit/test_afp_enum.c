/* FPEnumerateExt2 and FPGetFileDirParms on recorded netatalk replies. */
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "afp/afp_enum.h"
#include "afp/afp_proto.h"

#include "afp_vectors.h"

static struct afpv_file p02, p03, a21, a22;
static const struct afpv_named recordings[] = { AFPV_SESSIONS(p02, p03, a21, a22), { NULL, NULL } };
AFPV_GROUP_FIXTURES(recordings)

static void test_enumerate_request(void **state)
{
    (void)state;
    struct afp_writer w;
    afp_writer_init(&w);
    assert_int_equal(afp_encode_enumerate_ext2(&w, 1, 2, AFP_ENUM_FILE_BITMAP, AFP_ENUM_DIR_BITMAP,
                                               20, 1, 8192, "smalldir"), 0);
    afpv_assert_payload(&w, afpv_find(&p02, "FPEnumerateExt2", false, 0));
    afp_writer_reset(&w);
    /* the second call starts after the 3 entries */
    assert_int_equal(afp_encode_enumerate_ext2(&w, 1, 2, AFP_ENUM_FILE_BITMAP, AFP_ENUM_DIR_BITMAP,
                                               20, 4, 8192, "smalldir"), 0);
    afpv_assert_payload(&w, afpv_find(&p02, "FPEnumerateExt2", false, 1));
    /* afpfs-ng: the volume root (empty path), bigger bitmaps and counts */
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_enumerate_ext2(&w, 1, 2, 0xa91f, 0xaf1f, 256, 1, 0x20000, ""), 0);
    afpv_assert_payload(&w, afpv_find(&a21, "FPEnumerateExt2", false, 0));
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_enumerate_ext2(&w, 1, 2, 0xa91f, 0xaf1f, 256, 0, 0x20000, ""), -EINVAL);
    afp_writer_free(&w);
}

/* p02: smalldir holds b.txt (12 B), sub/ and a.txt (6 B), in that order. */
static void test_enumerate_p02(void **state)
{
    (void)state;
    const struct afpv_msg *m = afpv_find(&p02, "FPEnumerateExt2", true, 0);
    struct afp_enum_reply e;
    struct afp_node n;

    assert_int_equal(afp_enumerate_reply_init(&e, m->payload, m->payload_len), 0);
    assert_int_equal(e.file_bitmap, 0x2903);
    assert_int_equal(e.dir_bitmap, 0x2303);
    assert_int_equal(e.count, 3);

    assert_int_equal(afp_enumerate_reply_next(&e, &n), 1);
    assert_false(n.is_dir);
    assert_string_equal(n.name, "b.txt");
    assert_int_equal(n.name_len, 5);
    assert_int_equal(n.data_fork_len, 12);
    assert_int_equal(n.node_id, 19);
    assert_int_equal(n.parent_id, 17);
    assert_int_equal(n.attributes, 0);

    assert_int_equal(afp_enumerate_reply_next(&e, &n), 1);
    assert_true(n.is_dir);
    assert_string_equal(n.name, "sub");
    assert_int_equal(n.node_id, 20);
    assert_int_equal(n.offspring_count, 1);
    assert_int_equal(n.parent_id, 17);

    assert_int_equal(afp_enumerate_reply_next(&e, &n), 1);
    assert_string_equal(n.name, "a.txt");
    assert_int_equal(n.data_fork_len, 6);
    assert_int_equal(n.node_id, 21);

    assert_int_equal(afp_enumerate_reply_next(&e, &n), 0);
    assert_int_equal(afp_enumerate_reply_next(&e, &n), 0);

    /* the end of the directory: kFPObjectNotFound, empty payload */
    m = afpv_find(&p02, "FPEnumerateExt2", true, 1);
    assert_int_equal(m->code, kFPObjectNotFound);
    assert_int_equal(m->payload_len, 0);

    /* p03: docs holds one.txt (8 B) */
    m = afpv_find(&p03, "FPEnumerateExt2", true, 0);
    assert_int_equal(afp_enumerate_reply_init(&e, m->payload, m->payload_len), 0);
    assert_int_equal(afp_enumerate_reply_next(&e, &n), 1);
    assert_string_equal(n.name, "one.txt");
    assert_int_equal(n.data_fork_len, 8);
    assert_int_equal(afp_enumerate_reply_next(&e, &n), 0);
}

/* afpfs-ng asks for dates and Unix privileges too. */
static void test_enumerate_unix_privs(void **state)
{
    (void)state;
    const struct afpv_msg *m = afpv_find(&a21, "FPEnumerateExt2", true, 0);
    struct afp_enum_reply e;
    struct afp_node n;

    assert_int_equal(afp_enumerate_reply_init(&e, m->payload, m->payload_len), 0);
    assert_int_equal(e.count, 2);
    assert_int_equal(afp_enumerate_reply_next(&e, &n), 1);
    assert_true(n.is_dir);
    assert_string_equal(n.name, "smalldir");
    assert_int_equal(n.node_id, 17);
    assert_int_equal(n.parent_id, 2);
    assert_int_equal(n.offspring_count, 3);
    assert_int_equal(n.create_date, 0x3294e292);
    assert_int_equal(n.mod_date, 0x3294e292);
    assert_int_equal(n.backup_date, AFP_DATE_NEVER);
    assert_int_equal(n.unix_privs.mode, S_IFDIR | 0755);
    assert_int_equal(n.unix_privs.uid, 0);
    assert_int_equal(n.unix_privs.ua_rights, 0x83030307);

    assert_int_equal(afp_enumerate_reply_next(&e, &n), 1);
    assert_false(n.is_dir);
    assert_string_equal(n.name, "hello.txt");
    assert_int_equal(n.data_fork_len, 42);
    assert_int_equal(n.node_id, 18);
    assert_int_equal(n.unix_privs.mode, S_IFREG | 0644);
    assert_int_equal(afp_enumerate_reply_next(&e, &n), 0);

    /* the private volume belongs to uid/gid 1001 */
    m = afpv_find(&a22, "FPEnumerateExt2", true, 0);
    assert_int_equal(afp_enumerate_reply_init(&e, m->payload, m->payload_len), 0);
    assert_int_equal(afp_enumerate_reply_next(&e, &n), 1);
    assert_string_equal(n.name, "docs");
    assert_int_equal(n.unix_privs.uid, 1001);
    assert_int_equal(n.unix_privs.gid, 1001);
    assert_int_equal(n.owner_id, 1001);
    assert_int_equal(n.group_id, 1001);
    assert_int_equal(afp_enumerate_reply_next(&e, &n), 1);
    assert_string_equal(n.name, "secret.txt");
    assert_int_equal(n.data_fork_len, 32);

    /* a21's third listing: smalldir, 3 entries */
    m = afpv_find(&a21, "FPEnumerateExt2", true, 2);
    assert_int_equal(afp_enumerate_reply_init(&e, m->payload, m->payload_len), 0);
    assert_int_equal(e.count, 3);
}

static void test_getfiledirparms(void **state)
{
    (void)state;
    struct afp_writer w;
    struct afp_node n;
    const struct afpv_msg *m;

    afp_writer_init(&w);
    assert_int_equal(afp_encode_getfiledirparms(&w, 1, 2, 0x892f, 0x830f, "smalldir"), 0);
    afpv_assert_payload(&w, afpv_find(&a21, "FPGetFileDirParms", false, 0));
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_getfiledirparms(&w, 1, 2, 0x892f, 0x830f, "hello.txt"), 0);
    afpv_assert_payload(&w, afpv_find(&a21, "FPGetFileDirParms", false, 1));
    afp_writer_free(&w);

    m = afpv_find(&a21, "FPGetFileDirParms", true, 0);
    assert_int_equal(afp_getfiledirparms_decode(m->payload, m->payload_len, &n), 0);
    assert_true(n.is_dir);
    assert_int_equal(n.bitmap, 0x830f);
    assert_int_equal(n.node_id, 17);
    assert_int_equal(n.offspring_count, 3);
    assert_int_equal(n.unix_privs.mode, S_IFDIR | 0755);

    m = afpv_find(&a21, "FPGetFileDirParms", true, 1);
    assert_int_equal(afp_getfiledirparms_decode(m->payload, m->payload_len, &n), 0);
    assert_false(n.is_dir);
    assert_int_equal(n.bitmap, 0x892f);
    assert_int_equal(n.node_id, 18);
    assert_int_equal(n.data_fork_len, 42);
    /* Finder flags 0x0100 (kHasBeenInited), everything else zero */
    for (int i = 0; i < 32; i++)
        assert_int_equal(n.finder_info[i], i == 8 ? 0x01 : 0);
    assert_int_equal(n.unix_privs.mode, S_IFREG | 0644);

    m = afpv_find(&a22, "FPGetFileDirParms", true, 1);
    assert_int_equal(afp_getfiledirparms_decode(m->payload, m->payload_len, &n), 0);
    assert_int_equal(n.data_fork_len, 32);
    assert_int_equal(n.unix_privs.uid, 1001);
}

/* Names with long/short name offsets, 32-bit fork lengths, access rights. */
static void test_other_bits(void **state)
{
    (void)state;
    struct afp_writer w;
    struct afp_node n;
    afp_writer_init(&w);
    /* file, in bit order: attr, long name, short name, data fork len (32),
     * rsrc fork len (32) */
    afp_write_u16(&w, 0x0021);                  /* invisible + write inhibit */
    afp_write_u16(&w, 14);                      /* long name offset */
    afp_write_u16(&w, 14 + 10);                 /* short name offset */
    afp_write_u32(&w, 1000);
    afp_write_u32(&w, 7);
    afp_write_pstring(&w, "Long Name");
    afp_write_pstring(&w, "LONGNA~1");
    uint16_t bm = kFPAttributeBit | kFPLongNameBit | kFPDataForkLenBit | kFPRsrcForkLenBit | kFPShortNameBit;
    assert_int_equal(afp_node_decode(w.buf, w.len, false, bm, &n), 0);
    assert_int_equal(n.attributes, kFPInvisibleBit | kFPWriteInhibitBit);
    assert_string_equal(n.long_name, "Long Name");
    assert_string_equal(n.short_name, "LONGNA~1");
    assert_int_equal(n.data_fork_len, 1000);
    assert_int_equal(n.rsrc_fork_len, 7);
    /* a name offset pointing into the fixed part */
    w.buf[3] = 4;
    assert_int_equal(afp_node_decode(w.buf, w.len, false, bm, &n), -EPROTO);
    /* past the end */
    w.buf[2] = 0x10;
    assert_int_equal(afp_node_decode(w.buf, w.len, false, bm, &n), -EPROTO);

    /* directory access rights */
    afp_writer_reset(&w);
    afp_write_u32(&w, 0x87070707);
    assert_int_equal(afp_node_decode(w.buf, w.len, true, kFPAccessRightsBit, &n), 0);
    assert_int_equal(n.access_rights, 0x87070707);
    /* bits that cannot be sized */
    assert_int_equal(afp_node_decode(w.buf, w.len, false, kFPLaunchLimitBit, &n), -EPROTO);
    assert_int_equal(afp_node_decode(w.buf, w.len, true, 0x4000, &n), -EPROTO);
    assert_int_equal(afp_node_fixed_size(false, 0x2903), 2 + 4 + 4 + 8 + 6);
    assert_int_equal(afp_node_fixed_size(true, 0xaf1f), 54);
    /* fixed part longer than the block */
    assert_int_equal(afp_node_decode(w.buf, 3, true, kFPAccessRightsBit, &n), -EPROTO);
    afp_writer_free(&w);
}

static void test_hostile_entries(void **state)
{
    (void)state;
    const struct afpv_msg *m = afpv_find(&p02, "FPEnumerateExt2", true, 0);
    size_t n = m->payload_len;
    uint8_t *copy = malloc(n + 4);
    struct afp_enum_reply e;

    /* an entry length below 4 */
    memcpy(copy, m->payload, n);
    copy[6] = 0;
    copy[7] = 3;
    assert_int_equal(afp_enumerate_reply_init(&e, copy, n), -EPROTO);
    /* an entry length running past the reply */
    memcpy(copy, m->payload, n);
    copy[6] = 0xff;
    assert_int_equal(afp_enumerate_reply_init(&e, copy, n), -EPROTO);
    /* a count larger than the entries */
    memcpy(copy, m->payload, n);
    copy[5] = 4;
    assert_int_equal(afp_enumerate_reply_init(&e, copy, n), -EPROTO);
    /* a name whose length runs out of its entry (into the next one) */
    memcpy(copy, m->payload, n);
    copy[6 + 32] = 0;
    copy[6 + 33] = 20;
    assert_int_equal(afp_enumerate_reply_init(&e, copy, n), -EPROTO);
    /* a name with a NUL inside */
    memcpy(copy, m->payload, n);
    copy[6 + 35] = 0;
    assert_int_equal(afp_enumerate_reply_init(&e, copy, n), -EPROTO);
    /* trailing bytes after the last entry are ignored */
    memcpy(copy, m->payload, n);
    memset(copy + n, 0xee, 4);
    assert_int_equal(afp_enumerate_reply_init(&e, copy, n + 4), 0);
    free(copy);
}

static int decode_enum(const uint8_t *buf, size_t len, const void *arg)
{
    struct afp_enum_reply e;
    struct afp_node node;
    int k, rc = afp_enumerate_reply_init(&e, buf, len);
    (void)arg;
    if (rc == 0) {
        while ((k = afp_enumerate_reply_next(&e, &node)) == 1)
            assert_true(node.name_len <= AFP_NAME_MAX);
        assert_int_equal(k, 0);    /* init checked every entry */
    }
    return rc;
}

static int decode_filedirparms(const uint8_t *buf, size_t len, const void *arg)
{
    struct afp_node node;
    (void)arg;
    return afp_getfiledirparms_decode(buf, len, &node);
}

static void test_truncated_and_corrupted(void **state)
{
    (void)state;
    struct { struct afpv_file *f; const char *op; int nth; afpv_decode_fn fn; } cases[] = {
        { &p02, "FPEnumerateExt2", 0, decode_enum }, { &p03, "FPEnumerateExt2", 0, decode_enum },
        { &a21, "FPEnumerateExt2", 0, decode_enum }, { &a21, "FPEnumerateExt2", 2, decode_enum },
        { &a22, "FPEnumerateExt2", 0, decode_enum },
        { &a21, "FPGetFileDirParms", 0, decode_filedirparms },
        { &a21, "FPGetFileDirParms", 1, decode_filedirparms },
        { &a22, "FPGetFileDirParms", 1, decode_filedirparms },
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const struct afpv_msg *m = afpv_get(cases[c].f, cases[c].op, true, cases[c].nth);
        afpv_check_prefixes(m, cases[c].fn, NULL);
        afpv_check_corruptions(m, 15, cases[c].fn, NULL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enumerate_request),
        cmocka_unit_test(test_enumerate_p02),
        cmocka_unit_test(test_enumerate_unix_privs),
        cmocka_unit_test(test_getfiledirparms),
        cmocka_unit_test(test_other_bits),
        cmocka_unit_test(test_hostile_entries),
        cmocka_unit_test(test_truncated_and_corrupted),
    };
    return cmocka_run_group_tests(tests, afpv_setup, afpv_teardown);
}
