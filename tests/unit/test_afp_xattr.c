/* FPGetExtAttr / FPSetExtAttr / FPRemoveExtAttr / FPListExtAttrs.  No capture uses extended attributes, so
 * replies are built by hand from the layouts in docs/afp.md. */
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "afp/afp_proto.h"
#include "afp/afp_xattr.h"

#define HINT "\x08\x00\x01\x03"

static void test_getextattr_request(void **state)
{
    (void)state;
    struct afp_writer w;
    afp_writer_init(&w);
    /* header 30 bytes + path "f" 8 = 38, even, no pad */
    assert_int_equal(afp_encode_getextattr(&w, 1, 2, AFP_XATTR_NOFOLLOW, 0, 4096, 4096, "f",
                                           "com.apple.FinderInfo"), 0);
    assert_int_equal(w.len, 38 + 2 + 20);
    assert_memory_equal(w.buf, "\x45\x00\x00\x01\x00\x00\x00\x02\x00\x01"
                               "\x00\x00\x00\x00\x00\x00\x00\x00"
                               "\x00\x00\x00\x00\x00\x00\x10\x00"
                               "\x00\x00\x10\x00"
                               "\x03" HINT "\x00\x01" "f"
                               "\x00\x14" "com.apple.FinderInfo", w.len);
    /* path "ab": odd, one pad byte before the name length */
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_getextattr(&w, 1, 2, 0, 0, 0, 0, "ab", "x"), 0);
    assert_int_equal(w.len, 39 + 1 + 2 + 1);
    assert_memory_equal(w.buf + 39, "\x00\x00\x01x", 4);
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_getextattr(&w, 1, 2, 0, 0, 0, 0, "ab", ""), -EINVAL);
    afp_writer_free(&w);
}

static void test_getextattr_reply(void **state)
{
    (void)state;
    uint32_t alen;
    const uint8_t *data;
    size_t n;
    assert_int_equal(afp_getextattr_decode((const uint8_t *)"\x00\x00\x00\x00\x00\x03" "abc", 9,
                                           &alen, &data, &n), 0);
    assert_int_equal(alen, 3);
    assert_int_equal(n, 3);
    assert_memory_equal(data, "abc", 3);
    /* size only */
    assert_int_equal(afp_getextattr_decode((const uint8_t *)"\x00\x00\x00\x00\x01\x00", 6,
                                           &alen, &data, &n), 0);
    assert_int_equal(alen, 256);
    assert_null(data);
    assert_int_equal(n, 0);
    /* length past the data */
    assert_int_equal(afp_getextattr_decode((const uint8_t *)"\x00\x00\x00\x00\x00\x04" "abc", 9,
                                           &alen, &data, &n), -EPROTO);
    assert_int_equal(afp_getextattr_decode((const uint8_t *)"\x00\x00\x00\x00\x00", 5,
                                           &alen, &data, &n), -EPROTO);
}

static void test_setextattr_request(void **state)
{
    (void)state;
    struct afp_writer w;
    afp_writer_init(&w);
    /* header 18 bytes + path "ab" 9 = 27, odd: one pad byte before the name */
    assert_int_equal(afp_encode_setextattr(&w, 1, 2, AFP_XATTR_NOFOLLOW | AFP_XATTR_CREATE, "ab", "k", "vv", 2), 0);
    assert_int_equal(w.len, 27 + 1 + 2 + 1 + 4 + 2);
    assert_memory_equal(w.buf, "\x46\x00\x00\x01\x00\x00\x00\x02\x00\x03"
                               "\x00\x00\x00\x00\x00\x00\x00\x00"
                               "\x03" HINT "\x00\x02" "ab" "\x00"
                               "\x00\x01" "k" "\x00\x00\x00\x02" "vv", w.len);
    /* an empty value is allowed, an empty or overlong name is not */
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_setextattr(&w, 1, 2, 0, "f", "k", NULL, 0), 0);
    assert_memory_equal(w.buf + w.len - 4, "\x00\x00\x00\x00", 4);
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_setextattr(&w, 1, 2, 0, "f", "", "v", 1), -EINVAL);
    afp_writer_reset(&w);
    char longname[300];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(afp_encode_setextattr(&w, 1, 2, 0, "f", longname, "v", 1), -EINVAL);
    afp_writer_free(&w);
}

static void test_removeextattr_request(void **state)
{
    (void)state;
    struct afp_writer w;
    afp_writer_init(&w);
    /* header 10 bytes + path "f" 8 = 18, even: no pad */
    assert_int_equal(afp_encode_removeextattr(&w, 1, 2, AFP_XATTR_NOFOLLOW, "f", "key"), 0);
    assert_int_equal(w.len, 18 + 2 + 3);
    assert_memory_equal(w.buf, "\x47\x00\x00\x01\x00\x00\x00\x02\x00\x01"
                               "\x03" HINT "\x00\x01" "f"
                               "\x00\x03" "key", w.len);
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_removeextattr(&w, 1, 2, 0, "f", NULL), -EINVAL);
    afp_writer_free(&w);
}

static void test_listextattrs(void **state)
{
    (void)state;
    struct afp_writer w;
    struct afp_xattr_list l;
    const char *name;

    afp_writer_init(&w);
    assert_int_equal(afp_encode_listextattrs(&w, 1, 2, 0, 0, 0, 4096, "f"), 0);
    assert_int_equal(w.len, 20 + 8);
    assert_memory_equal(w.buf, "\x48\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x00"
                               "\x00\x00\x00\x00\x00\x00\x10\x00"
                               "\x03" HINT "\x00\x01" "f", w.len);
    afp_writer_free(&w);

    static const uint8_t reply[] = "\x00\x00\x00\x00\x00\x0c" "user.a\0b.cd\0";
    assert_int_equal(afp_listextattrs_init(&l, reply, 18), 0);
    assert_int_equal(l.names_len, 12);
    assert_int_equal(afp_listextattrs_next(&l, &name), 1);
    assert_string_equal(name, "user.a");
    assert_int_equal(afp_listextattrs_next(&l, &name), 1);
    assert_string_equal(name, "b.cd");
    assert_int_equal(afp_listextattrs_next(&l, &name), 0);

    /* size only */
    assert_int_equal(afp_listextattrs_init(&l, reply, 6), 0);
    assert_int_equal(l.names_len, 12);
    assert_int_equal(afp_listextattrs_next(&l, &name), 0);
    /* names not NUL-terminated, or running past the reply */
    assert_int_equal(afp_listextattrs_init(&l, (const uint8_t *)"\x00\x00\x00\x00\x00\x02" "ab", 8), -EPROTO);
    assert_int_equal(afp_listextattrs_init(&l, reply, 17), -EPROTO);
    for (size_t cut = 0; cut < 6; cut++)
        assert_int_equal(afp_listextattrs_init(&l, reply, cut), -EPROTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_getextattr_request),
        cmocka_unit_test(test_getextattr_reply),
        cmocka_unit_test(test_setextattr_request),
        cmocka_unit_test(test_removeextattr_request),
        cmocka_unit_test(test_listextattrs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
