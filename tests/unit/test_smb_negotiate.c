/* Our SMB NEGOTIATE encoder/decoder on hand-built PDUs laid out per MS-SMB2
 * 2.2.3/2.2.4 and MS-CIFS 2.2.4.52. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "smb/smb_dialect.h"
#include "smb/smb_negotiate.h"

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16; }

static void test_dialect_names(void **state)
{
    (void)state;
    assert_int_equal(smb_dialect_from_name("nt1"), SMB_DIALECT_NT1);
    assert_int_equal(smb_dialect_from_name("SMB3"), SMB_DIALECT_SMB3_11);
    assert_int_equal(smb_dialect_from_name("SMB2"), SMB_DIALECT_SMB2_10);
    assert_int_equal(smb_dialect_from_name("bogus"), SMB_DIALECT_NONE);
    assert_string_equal(smb_dialect_name(SMB_DIALECT_SMB3_02), "SMB3_02");
    assert_int_equal(smb_dialect_wire(SMB_DIALECT_SMB3_11), 0x0311);
    assert_int_equal(smb_dialect_from_wire(0x0210), SMB_DIALECT_SMB2_10);
    assert_int_equal(smb_dialect_from_wire(0x02ff), SMB_DIALECT_NONE);
}

static void test_vers_ranges(void **state)
{
    (void)state;
    enum smb_dialect lo, hi;
    assert_true(smb_dialect_range_from_vers("1.0", &lo, &hi));
    assert_int_equal(lo, SMB_DIALECT_NT1);
    assert_int_equal(hi, SMB_DIALECT_NT1);
    assert_true(smb_dialect_range_from_vers("3", &lo, &hi));
    assert_int_equal(lo, SMB_DIALECT_SMB3_00);
    assert_int_equal(hi, SMB_DIALECT_SMB3_11);
    assert_true(smb_dialect_range_from_vers("3.1.1", &lo, &hi));
    assert_int_equal(lo, SMB_DIALECT_SMB3_11);
    assert_false(smb_dialect_range_from_vers("4.0", &lo, &hi));
}

static void test_smb2_request_layout(void **state)
{
    (void)state;
    uint8_t buf[512], guid[16] = {1, 2, 3};
    int n = smb2_negotiate_encode(buf, sizeof(buf), SMB_DIALECT_SMB2_02, SMB_DIALECT_SMB3_11, 7, guid);
    assert_true(n > 4 + 64 + 36);
    size_t pdu = (size_t)buf[1] << 16 | (size_t)buf[2] << 8 | buf[3];
    assert_int_equal(pdu + 4, (size_t)n);
    const uint8_t *h = buf + 4, *b = h + 64;
    assert_memory_equal(h, "\xfeSMB", 4);
    assert_int_equal(rd16(h + 4), 64);
    assert_int_equal(rd16(h + 12), 0);                   /* NEGOTIATE */
    assert_int_equal(rd32(h + 24), 7);                   /* MessageId */
    assert_int_equal(rd16(b), 36);
    assert_int_equal(rd16(b + 2), 5);                    /* 2.02 2.10 3.00 3.02 3.11 */
    assert_memory_equal(b + 12, guid, 16);
    assert_int_equal(rd16(b + 36), 0x0202);
    assert_int_equal(rd16(b + 36 + 8), 0x0311);
    uint32_t ctx_off = rd32(b + 28);
    assert_int_equal(ctx_off % 8, 0);
    assert_int_equal(rd16(b + 32), 2);
    assert_int_equal(rd16(h + ctx_off), 1);              /* preauth integrity */
    assert_int_equal(rd16(h + ctx_off + 12), 1);         /* SHA-512 */
}

static void test_smb2_request_without_311_has_no_contexts(void **state)
{
    (void)state;
    uint8_t buf[512], guid[16] = {0};
    int n = smb2_negotiate_encode(buf, sizeof(buf), SMB_DIALECT_SMB2_02, SMB_DIALECT_SMB2_02, 0, guid);
    assert_int_equal(n, 4 + 64 + 36 + 2);
    assert_int_equal(rd16(buf + 4 + 64 + 2), 1);
    assert_int_equal(rd32(buf + 4 + 64 + 28), 0);
}

static void test_smb2_request_empty_range(void **state)
{
    (void)state;
    uint8_t buf[512], guid[16] = {0};
    assert_int_equal(smb2_negotiate_encode(buf, sizeof(buf), SMB_DIALECT_NT1, SMB_DIALECT_NT1, 0, guid),
                     -EPROTONOSUPPORT);
    assert_int_equal(smb2_negotiate_encode(buf, 10, SMB_DIALECT_SMB2_02, SMB_DIALECT_SMB3_11, 0, guid), -EMSGSIZE);
}

static void test_smb1_request_dialects(void **state)
{
    (void)state;
    uint8_t buf[512];
    int n = smb1_negprot_encode(buf, sizeof(buf), SMB_DIALECT_NT1, SMB_DIALECT_SMB3_11);
    assert_true(n > 0);
    const uint8_t *h = buf + 4;
    assert_memory_equal(h, "\xffSMB", 4);
    assert_int_equal(h[4], 0x72);
    uint16_t bytes = rd16(h + 33);
    const char *d = (const char *)h + 35;
    assert_int_equal(d[0], 2);
    assert_string_equal(d + 1, "NT LM 0.12");
    assert_non_null(memmem(d, bytes, "SMB 2.???", 9));
    n = smb1_negprot_encode(buf, sizeof(buf), SMB_DIALECT_NT1, SMB_DIALECT_NT1);
    assert_null(memmem(buf, (size_t)n, "SMB 2", 5));
}

static void make_smb2_reply(uint8_t *p, uint32_t status, uint16_t rev, uint16_t secmode, uint32_t caps)
{
    memset(p, 0, 128);
    memcpy(p, "\xfeSMB", 4);
    p[4] = 64;
    p[8] = status & 0xff;
    p[9] = (status >> 8) & 0xff;
    p[10] = (status >> 16) & 0xff;
    p[11] = (uint8_t)(status >> 24);
    p[14] = 1;
    p[64] = 65;
    p[66] = (uint8_t)secmode;
    p[68] = rev & 0xff;
    p[69] = rev >> 8;
    p[64 + 24] = caps & 0xff;
}

static void test_decode_smb2_reply(void **state)
{
    (void)state;
    uint8_t p[128];
    struct smb_negotiate_result r;
    make_smb2_reply(p, 0, 0x0311, 3, 0x40);
    assert_int_equal(smb_negotiate_decode(p, sizeof(p), NULL, &r), 0);
    assert_int_equal(r.dialect, SMB_DIALECT_SMB3_11);
    assert_int_equal(r.security_mode, 3);
    assert_int_equal(r.capabilities, 0x40);
    make_smb2_reply(p, 0, 0x02ff, 1, 0);
    assert_int_equal(smb_negotiate_decode(p, sizeof(p), NULL, &r), 0);
    assert_true(r.smb2_wildcard);
    make_smb2_reply(p, 0xc00000bb, 0, 0, 0);
    assert_int_equal(smb_negotiate_decode(p, 64, NULL, &r), 0);
    assert_int_equal(r.status, 0xc00000bb);
    make_smb2_reply(p, 0, 0x0999, 0, 0);
    assert_int_equal(smb_negotiate_decode(p, sizeof(p), NULL, &r), -EPROTO);
}

static void test_decode_truncated_and_garbage(void **state)
{
    (void)state;
    uint8_t p[128];
    struct smb_negotiate_result r;
    make_smb2_reply(p, 0, 0x0302, 1, 0);
    for (size_t len = 0; len < 128; len++)
        assert_int_equal(smb_negotiate_decode(p, len, NULL, &r), -EPROTO);
    uint8_t junk[64] = "HTTP/1.1 400 Bad Request\r\n";
    assert_int_equal(smb_negotiate_decode(junk, sizeof(junk), NULL, &r), -EPROTO);
    p[12] = 1;   /* SESSION_SETUP, not NEGOTIATE */
    assert_int_equal(smb_negotiate_decode(p, sizeof(p), NULL, &r), -EPROTO);
}

static void test_decode_smb1_reply(void **state)
{
    (void)state;
    uint8_t p[40] = {0xff, 'S', 'M', 'B', 0x72};
    struct smb_negotiate_result r;
    p[32] = 17;
    p[33] = 0;
    p[34] = 0;
    assert_int_equal(smb_negotiate_decode(p, sizeof(p), NULL, &r), 0);
    assert_int_equal(r.dialect, SMB_DIALECT_NT1);
    p[33] = 0xff;
    p[34] = 0xff;
    assert_int_equal(smb_negotiate_decode(p, sizeof(p), NULL, &r), 0);
    assert_int_equal(r.dialect, SMB_DIALECT_NONE);
    p[32] = 0;
    assert_int_equal(smb_negotiate_decode(p, sizeof(p), NULL, &r), -EPROTO);
    assert_int_equal(smb_negotiate_decode(p, 34, NULL, &r), -EPROTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dialect_names),
        cmocka_unit_test(test_vers_ranges),
        cmocka_unit_test(test_smb2_request_layout),
        cmocka_unit_test(test_smb2_request_without_311_has_no_contexts),
        cmocka_unit_test(test_smb2_request_empty_range),
        cmocka_unit_test(test_smb1_request_dialects),
        cmocka_unit_test(test_decode_smb2_reply),
        cmocka_unit_test(test_decode_truncated_and_garbage),
        cmocka_unit_test(test_decode_smb1_reply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
