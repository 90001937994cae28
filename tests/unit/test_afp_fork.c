/* Fork I/O (FPOpenFork, FPReadExt, FPWriteExt, FPFlushFork, FPCloseFork)
 * on the recorded netatalk sessions. */
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "afp/afp_fork.h"
#include "afp/afp_proto.h"

#include "afp_vectors.h"

static struct afpv_file p02, p03, a21, a22;

static int setup(void **state)
{
    (void)state;
    if (afpv_load(AFPV_DIR "p02-guest-public-enum-read.dsi.txt", &p02) ||
        afpv_load(AFPV_DIR "p03-clrtxt-private-enum-read.dsi.txt", &p03) ||
        afpv_load(AFPV_DIR "a21-afpfsng-guest-public.dsi.txt", &a21) ||
        afpv_load(AFPV_DIR "a22-afpfsng-clrtxt-private.dsi.txt", &a22))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    afpv_free(&p02);
    afpv_free(&p03);
    afpv_free(&a21);
    afpv_free(&a22);
    return 0;
}

static void assert_payload(const struct afp_writer *w, const struct afpv_msg *m)
{
    assert_non_null(m);
    assert_int_equal(w->len, m->payload_len);
    assert_memory_equal(w->buf, m->payload, w->len);
}

static void test_openfork(void **state)
{
    (void)state;
    struct afp_writer w;
    struct afp_openfork_reply o;
    const struct afpv_msg *m;

    afp_writer_init(&w);
    assert_int_equal(afp_encode_openfork(&w, false, 1, 2, kFPExtDataForkLenBit, kFPForkRead, "hello.txt"), 0);
    assert_payload(&w, afpv_find(&p02, "FPOpenFork", false, 0));
    m = afpv_find(&p02, "FPOpenFork", true, 0);
    assert_int_equal(afp_openfork_decode(m->payload, m->payload_len, &o), 0);
    assert_int_equal(o.bitmap, kFPExtDataForkLenBit);
    assert_int_equal(o.fork, 256);
    assert_int_equal(o.params.data_fork_len, 42);

    afp_writer_reset(&w);
    assert_int_equal(afp_encode_openfork(&w, false, 2, 2, kFPExtDataForkLenBit, kFPForkRead, "secret.txt"), 0);
    assert_payload(&w, afpv_find(&p03, "FPOpenFork", false, 0));
    m = afpv_find(&p03, "FPOpenFork", true, 0);
    assert_int_equal(afp_openfork_decode(m->payload, m->payload_len, &o), 0);
    assert_int_equal(o.params.data_fork_len, 32);

    /* afpfs-ng: empty bitmap, so the reply is bitmap + fork only */
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_openfork(&w, false, 1, 2, 0, kFPForkRead, "hello.txt"), 0);
    assert_payload(&w, afpv_find(&a21, "FPOpenFork", false, 0));
    m = afpv_find(&a21, "FPOpenFork", true, 0);
    assert_int_equal(afp_openfork_decode(m->payload, m->payload_len, &o), 0);
    assert_int_equal(o.fork, 256);

    /* resource fork, read/write, deny write */
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_openfork(&w, true, 1, 2, 0, kFPForkRead | kFPForkWrite | kFPForkDenyWrite, "f"), 0);
    assert_int_equal(w.buf[1], AFP_FORK_RSRC);
    assert_int_equal(w.buf[10] << 8 | w.buf[11], 0x0023);

    /* fork reference 0 and short replies are refused */
    assert_int_equal(afp_openfork_decode((const uint8_t *)"\x00\x00\x00\x00", 4, &o), -EPROTO);
    m = afpv_find(&p02, "FPOpenFork", true, 0);
    for (size_t cut = 0; cut < m->payload_len; cut++)
        assert_int_equal(afp_openfork_decode(m->payload, cut, &o), -EPROTO);
    afp_writer_free(&w);
}

static void test_readext(void **state)
{
    (void)state;
    struct afp_writer w;
    const struct afpv_msg *m;
    const uint8_t *data;
    size_t n;
    bool eof;

    afp_writer_init(&w);
    assert_int_equal(afp_encode_readext(&w, 256, 0, 42), 0);
    assert_payload(&w, afpv_find(&p02, "FPReadExt", false, 0));
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_readext(&w, 256, 42, 512), 0);
    assert_payload(&w, afpv_find(&p02, "FPReadExt", false, 1));
    afp_writer_free(&w);

    /* whole file */
    m = afpv_find(&p02, "FPReadExt", true, 0);
    assert_true(afp_readext_result_has_data(m->code));
    assert_int_equal(afp_readext_decode(m->code, m->payload, m->payload_len, 42, &data, &n, &eof), 0);
    assert_int_equal(n, 42);
    assert_false(eof);
    assert_memory_equal(data, "Hello from the netatalk lab guest volume.\n", 42);

    /* at EOF: -5009 and nothing */
    m = afpv_find(&p02, "FPReadExt", true, 1);
    assert_int_equal(m->code, kFPEOFErr);
    assert_int_equal(afp_readext_decode(m->code, m->payload, m->payload_len, 512, &data, &n, &eof), 0);
    assert_int_equal(n, 0);
    assert_true(eof);

    /* a21: afpfs-ng asks for 100 KiB and gets -5009 WITH the 42 bytes */
    m = afpv_find(&a21, "FPReadExt", true, 0);
    assert_int_equal(m->code, kFPEOFErr);
    assert_int_equal(afp_readext_decode(m->code, m->payload, m->payload_len, 0x19000, &data, &n, &eof), 0);
    assert_int_equal(n, 42);
    assert_true(eof);
    assert_memory_equal(data, "Hello from", 10);
    m = afpv_find(&a22, "FPReadExt", true, 0);
    assert_int_equal(afp_readext_decode(m->code, m->payload, m->payload_len, 0x19000, &data, &n, &eof), 0);
    assert_memory_equal(data, "top secret lab data for afpuser\n", 32);

    /* a short read without -5009 also means EOF */
    m = afpv_find(&p02, "FPReadExt", true, 0);
    assert_int_equal(afp_readext_decode(0, m->payload, 10, 20, &data, &n, &eof), 0);
    assert_true(eof);
    /* more than asked for, or an error code */
    assert_int_equal(afp_readext_decode(0, m->payload, 42, 41, &data, &n, &eof), -EPROTO);
    assert_false(afp_readext_result_has_data(kFPAccessDenied));
    assert_int_equal(afp_readext_decode(kFPAccessDenied, NULL, 0, 1, &data, &n, &eof), -EINVAL);
}

static void test_writeext(void **state)
{
    (void)state;
    struct afp_writer w;
    uint64_t end;
    afp_writer_init(&w);
    assert_int_equal(afp_encode_writeext(&w, false, 0x0100, 0x123456789ull, 4096), 0);
    assert_int_equal(w.len, AFP_WRITEEXT_HEADER_LEN);
    assert_memory_equal(w.buf, "\x3d\x00\x01\x00\x00\x00\x00\x01\x23\x45\x67\x89"
                               "\x00\x00\x00\x00\x00\x00\x10\x00", 20);
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_writeext(&w, true, 1, 0, 1), 0);
    assert_int_equal(w.buf[1], AFP_WRITE_FROM_END);
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_writeext(&w, false, 1, UINT64_MAX, 1), -EINVAL);
    assert_int_equal(afp_writeext_decode((const uint8_t *)"\0\0\0\x01\0\0\0\x02", 8, &end), 0);
    assert_int_equal(end, 0x100000002ull);
    assert_int_equal(afp_writeext_decode((const uint8_t *)"\0\0\0\x01", 4, &end), -EPROTO);
    afp_writer_free(&w);
}

static void test_close_flush(void **state)
{
    (void)state;
    struct afp_writer w;
    afp_writer_init(&w);
    assert_int_equal(afp_encode_closefork(&w, 256), 0);
    assert_payload(&w, afpv_find(&p02, "FPCloseFork", false, 0));
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_flushfork(&w, 256), 0);
    assert_memory_equal(w.buf, "\x0b\x00\x01\x00", 4);
    assert_int_equal(w.len, 4);
    afp_writer_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openfork),
        cmocka_unit_test(test_readext),
        cmocka_unit_test(test_writeext),
        cmocka_unit_test(test_close_flush),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
