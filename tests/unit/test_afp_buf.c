/* The bounds-checked reader and the growable writer. */
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "afp/afp_buf.h"

static void test_reader_ints(void **state)
{
    (void)state;
    static const uint8_t b[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0xff };
    struct afp_reader r;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    int32_t i32;
    uint64_t u64;

    afp_reader_init(&r, b, sizeof(b));
    assert_int_equal(afp_read_u8(&r, &u8), 0);
    assert_int_equal(u8, 1);
    assert_int_equal(afp_read_u16(&r, &u16), 0);
    assert_int_equal(u16, 0x0203);
    assert_int_equal(afp_read_u32(&r, &u32), 0);
    assert_int_equal(u32, 0x04050607);
    assert_int_equal(afp_read_u64(&r, &u64), 0);
    assert_int_equal(u64, 0x08090a0b0c0d0effull);
    assert_int_equal(afp_reader_remaining(&r), 0);
    /* every read at the end fails and leaves pos alone */
    assert_int_equal(afp_read_u8(&r, &u8), -EPROTO);
    assert_int_equal(afp_read_u16(&r, &u16), -EPROTO);
    assert_int_equal(afp_read_u32(&r, &u32), -EPROTO);
    assert_int_equal(afp_read_u64(&r, &u64), -EPROTO);
    assert_int_equal(afp_read_skip(&r, 1), -EPROTO);
    assert_int_equal(r.pos, sizeof(b));

    afp_reader_init(&r, "\xff\xff\xec\x61", 4);
    assert_int_equal(afp_read_i32(&r, &i32), 0);
    assert_int_equal(i32, -5023);
    /* 3 bytes left is not enough for a u32 */
    afp_reader_init(&r, b, 3);
    assert_int_equal(afp_read_u32(&r, &u32), -EPROTO);
    assert_int_equal(r.pos, 0);
    afp_reader_init(&r, NULL, 5);
    assert_int_equal(afp_reader_remaining(&r), 0);
}

static void test_reader_offsets(void **state)
{
    (void)state;
    static const uint8_t b[] = "\x00\x04" "xx\x03" "abc";
    struct afp_reader r, at, sub;
    char s[8];

    afp_reader_init(&r, b, 8);
    assert_int_equal(afp_reader_at(&r, 0, 4, &at), 0);
    assert_int_equal(afp_read_pstring(&at, s, sizeof(s)), 0);
    assert_string_equal(s, "abc");
    assert_int_equal(afp_reader_at(&r, 2, 6, &at), 0);     /* == end: nothing to read */
    assert_int_equal(afp_reader_remaining(&at), 0);
    assert_int_equal(afp_reader_at(&r, 2, 7, &at), -EPROTO);
    assert_int_equal(afp_reader_at(&r, 9, 0, &at), -EPROTO);
    assert_int_equal(afp_reader_at(&r, 1, SIZE_MAX, &at), -EPROTO);

    assert_int_equal(afp_reader_sub(&r, 3, &sub), 0);
    assert_int_equal(sub.len, 3);
    assert_int_equal(r.pos, 3);
    assert_int_equal(afp_read_skip(&sub, 4), -EPROTO);
    assert_int_equal(afp_reader_sub(&r, 6, &sub), -EPROTO);

    afp_reader_init(&r, b, 8);
    r.pos = 1;
    assert_int_equal(afp_read_align2(&r), 0);
    assert_int_equal(r.pos, 2);
    assert_int_equal(afp_read_align2(&r), 0);
    assert_int_equal(r.pos, 2);
}

static void test_reader_strings(void **state)
{
    (void)state;
    struct afp_reader r;
    char s[8];
    char big[256];
    uint32_t hint;
    size_t n;
    const uint8_t *p;

    afp_reader_init(&r, "\x05hello", 6);
    assert_int_equal(afp_read_pstring(&r, s, sizeof(s)), 0);
    assert_string_equal(s, "hello");
    /* too long for the buffer: -ENAMETOOLONG, pos unchanged */
    afp_reader_init(&r, "\x08" "12345678", 9);
    assert_int_equal(afp_read_pstring(&r, s, sizeof(s)), -ENAMETOOLONG);
    assert_int_equal(r.pos, 0);
    assert_int_equal(afp_read_pstring(&r, big, sizeof(big)), 0);
    /* length past the end */
    afp_reader_init(&r, "\x09" "12345678", 9);
    assert_int_equal(afp_read_pstring(&r, big, sizeof(big)), -EPROTO);
    assert_int_equal(r.pos, 0);
    assert_int_equal(afp_read_pstring_view(&r, &p, &n), -EPROTO);
    /* embedded NUL */
    afp_reader_init(&r, "\x03" "a\0b", 4);
    assert_int_equal(afp_read_pstring(&r, s, sizeof(s)), -EPROTO);
    /* empty */
    afp_reader_init(&r, "\x00", 1);
    assert_int_equal(afp_read_pstring(&r, s, sizeof(s)), 0);
    assert_string_equal(s, "");

    /* AFP UTF-8 name: hint, u16 length, bytes */
    afp_reader_init(&r, "\x08\x00\x01\x03\x00\x03" "sub", 9);
    assert_int_equal(afp_read_utf8name(&r, &hint, s, sizeof(s), &n), 0);
    assert_int_equal(hint, 0x08000103);
    assert_int_equal(n, 3);
    assert_string_equal(s, "sub");
    afp_reader_init(&r, "\x08\x00\x01\x03\x00\x04" "sub", 9);
    assert_int_equal(afp_read_utf8name(&r, &hint, s, sizeof(s), &n), -EPROTO);
    assert_int_equal(r.pos, 0);
    afp_reader_init(&r, "\x08\x00\x01\x03\x00", 5);
    assert_int_equal(afp_read_utf8name(&r, &hint, s, sizeof(s), &n), -EPROTO);
}

static void test_utf8_valid(void **state)
{
    (void)state;
    assert_true(afp_utf8_valid((const uint8_t *)"plain", 5));
    assert_true(afp_utf8_valid((const uint8_t *)"caf\xc3\xa9", 5));
    assert_true(afp_utf8_valid((const uint8_t *)"\xe2\x82\xac", 3));
    assert_true(afp_utf8_valid((const uint8_t *)"\xf0\x9f\x98\x80", 4));
    assert_true(afp_utf8_valid((const uint8_t *)"", 0));
    assert_false(afp_utf8_valid((const uint8_t *)"a\0b", 3));
    assert_false(afp_utf8_valid((const uint8_t *)"\xc3", 1));          /* truncated */
    assert_false(afp_utf8_valid((const uint8_t *)"\xc0\xaf", 2));      /* overlong */
    assert_false(afp_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3));  /* surrogate */
    assert_false(afp_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(afp_utf8_valid((const uint8_t *)"\xff", 1));
    assert_false(afp_utf8_valid((const uint8_t *)"\x80", 1));
}

static void test_writer(void **state)
{
    (void)state;
    struct afp_writer w;
    afp_writer_init(&w);
    assert_int_equal(afp_write_u8(&w, 0x12), 0);
    assert_int_equal(afp_write_pad_even(&w), 0);
    assert_int_equal(afp_write_u16(&w, 0xabcd), 0);
    assert_int_equal(afp_write_u32(&w, 0x01020304), 0);
    assert_int_equal(afp_write_u64(&w, 0x05060708090a0b0cull), 0);
    assert_int_equal(afp_write_pstring(&w, "hi"), 0);
    assert_int_equal(afp_write_pad_even(&w), 0);
    assert_int_equal(afp_write_zeros(&w, 2), 0);
    assert_int_equal(w.len, 22);
    assert_memory_equal(w.buf, "\x12\x00\xab\xcd\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c"
                               "\x02hi\x00\x00", 21);
    /* growth past the first allocation keeps the content */
    for (int i = 0; i < 1000; i++)
        afp_write_u32(&w, (uint32_t)i);
    assert_int_equal(w.len, 22 + 4000);
    assert_memory_equal(w.buf + 22 + 4 * 999, "\x00\x00\x03\xe7", 4);

    /* a 256-byte Pascal string is refused, and the error sticks */
    char big[257];
    memset(big, 'a', 256);
    big[256] = 0;
    assert_int_equal(afp_write_pstring(&w, big), -ENAMETOOLONG);
    assert_int_equal(afp_write_u8(&w, 1), -ENAMETOOLONG);
    assert_int_equal(afp_writer_error(&w), -ENAMETOOLONG);
    assert_int_equal(afp_write_pstring(&w, NULL), -ENAMETOOLONG);
    afp_writer_reset(&w);
    assert_int_equal(afp_writer_error(&w), 0);
    assert_int_equal(w.len, 0);
    assert_int_equal(afp_write_pstring_n(&w, big, 255), 0);
    assert_int_equal(w.len, 256);
    afp_writer_free(&w);
    assert_null(w.buf);
    afp_writer_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_ints),
        cmocka_unit_test(test_reader_offsets),
        cmocka_unit_test(test_reader_strings),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
