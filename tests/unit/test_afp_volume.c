/* Volume commands (FPGetSrvrParms, FPOpenVol, FPGetVolParms, FPCloseVol)
 * and AFP dates, on the recorded netatalk sessions. */
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
#include "afp/afp_volume.h"

#include "afp_vectors.h"

static struct afpv_file p02, p03, p17, a21, a22;
static const struct afpv_named recordings[] = {
    AFPV_SESSIONS(p02, p03, a21, a22), { &p17, "p17-fail-guest-openvol-private" }, { NULL, NULL },
};
AFPV_GROUP_FIXTURES(recordings)

static void test_getsrvrparms(void **state)
{
    (void)state;
    struct afp_writer w;
    struct afp_srvrparms sp;
    struct afp_srvr_volume v;
    const struct afpv_msg *rep;

    afp_writer_init(&w);
    assert_int_equal(afp_encode_getsrvrparms(&w), 0);
    afpv_assert_payload(&w, afpv_find(&p02, "FPGetSrvrParms", false, 0));
    afp_writer_free(&w);

    /* guest sees Public only */
    rep = afpv_find(&p02, "FPGetSrvrParms", true, 0);
    assert_int_equal(afp_srvrparms_init(&sp, rep->payload, rep->payload_len), 0);
    assert_int_equal(sp.server_time, 0x3294e696);
    assert_int_equal(afp_date_to_time(sp.server_time), 1795303958);
    assert_int_equal(sp.count, 1);
    assert_int_equal(afp_srvrparms_next(&sp, &v), 1);
    assert_string_equal(v.name, "Public");
    assert_int_equal(v.flags, 0);
    assert_int_equal(afp_srvrparms_next(&sp, &v), 0);

    /* afpuser sees both, in this order */
    rep = afpv_find(&p03, "FPGetSrvrParms", true, 0);
    assert_int_equal(afp_srvrparms_init(&sp, rep->payload, rep->payload_len), 0);
    assert_int_equal(sp.count, 2);
    assert_int_equal(afp_srvrparms_next(&sp, &v), 1);
    assert_string_equal(v.name, "Private");
    assert_int_equal(afp_srvrparms_next(&sp, &v), 1);
    assert_string_equal(v.name, "Public");
    assert_int_equal(afp_srvrparms_next(&sp, &v), 0);

    /* p17: the private volume is not even listed for the guest */
    rep = afpv_find(&p17, "FPGetSrvrParms", true, 0);
    assert_int_equal(afp_srvrparms_init(&sp, rep->payload, rep->payload_len), 0);
    assert_int_equal(sp.count, 1);
}

static void test_openvol(void **state)
{
    (void)state;
    struct afp_writer w;
    struct afp_volparms vp;
    const struct afpv_msg *rep;

    afp_writer_init(&w);
    assert_int_equal(afp_encode_openvol(&w, AFP_OPENVOL_BITMAP, "Public", NULL), 0);
    afpv_assert_payload(&w, afpv_find(&p02, "FPOpenVol", false, 0));
    rep = afpv_find(&p02, "FPOpenVol", true, 0);
    assert_int_equal(afp_volparms_decode(rep->payload, rep->payload_len, &vp), 0);
    assert_int_equal(vp.bitmap, 0x0023);
    assert_int_equal(vp.attributes, 0x14ec);
    assert_true(vp.attributes & kSupportsUTF8Names);
    assert_true(vp.attributes & kSupportsUnixPrivs);
    assert_true(vp.attributes & kSupportsExtAttrs);
    assert_false(vp.attributes & kReadOnly);
    assert_int_equal(vp.signature, 2);
    assert_int_equal(vp.vol_id, 1);

    afp_writer_reset(&w);
    assert_int_equal(afp_encode_openvol(&w, AFP_OPENVOL_BITMAP, "Private", NULL), 0);
    afpv_assert_payload(&w, afpv_find(&p03, "FPOpenVol", false, 0));
    rep = afpv_find(&p03, "FPOpenVol", true, 0);
    assert_int_equal(afp_volparms_decode(rep->payload, rep->payload_len, &vp), 0);
    assert_int_equal(vp.vol_id, 2);

    /* p17: guest opening Private gets kFPObjectNotFound, not kFPAccessDenied */
    afpv_assert_payload(&w, afpv_find(&p17, "FPOpenVol", false, 0));
    rep = afpv_find(&p17, "FPOpenVol", true, 0);
    assert_int_equal(rep->code, kFPObjectNotFound);
    assert_int_equal(rep->payload_len, 0);

    /* afpfs-ng asks for more: create date, name, block size */
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_openvol(&w, 0x0927, "Public", NULL), 0);
    afpv_assert_payload(&w, afpv_find(&a21, "FPOpenVol", false, 0));
    rep = afpv_find(&a21, "FPOpenVol", true, 0);
    assert_int_equal(afp_volparms_decode(rep->payload, rep->payload_len, &vp), 0);
    assert_int_equal(vp.create_date, 0x3294e292);
    assert_int_equal(afp_date_to_time(vp.create_date), 1795302930);   /* 2026-11-21 23:15:30 UTC */
    assert_int_equal(vp.vol_id, 1);
    assert_string_equal(vp.name, "Public");
    assert_int_equal(vp.block_size, 4096);
    rep = afpv_find(&a22, "FPOpenVol", true, 0);
    assert_int_equal(afp_volparms_decode(rep->payload, rep->payload_len, &vp), 0);
    assert_string_equal(vp.name, "Private");

    /* with a volume password: pad to even, 8 bytes */
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_openvol(&w, 0x0020, "Vol", "secret"), 0);
    assert_int_equal(w.len, 8 + 8);
    assert_memory_equal(w.buf, "\x18\x00\x00\x20\x03Volsecret\x00\x00", 16);
    /* an odd-length header gets a pad byte before the password */
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_openvol(&w, 0x0020, "Vo", "pw"), 0);
    assert_int_equal(w.len, 7 + 1 + 8);
    assert_memory_equal(w.buf, "\x18\x00\x00\x20\x02Vo\x00pw\x00\x00\x00\x00\x00\x00", 16);
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_openvol(&w, 0x0020, "Vol", "123456789"), -EINVAL);
    afp_writer_free(&w);
}

static void test_getvolparms_closevol(void **state)
{
    (void)state;
    struct afp_writer w;
    struct afp_volparms vp;
    afp_writer_init(&w);
    assert_int_equal(afp_encode_closevol(&w, 1), 0);
    afpv_assert_payload(&w, afpv_find(&p02, "FPCloseVol", false, 0));
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_getvolparms(&w, 2, 0x0f7f), 0);
    assert_memory_equal(w.buf, "\x11\x00\x00\x02\x0f\x7f", 6);
    afp_writer_free(&w);

    /* A full reply with 64-bit sizes, built by hand (no capture has one). */
    afp_writer_init(&w);
    afp_write_u16(&w, 0x0fff);
    afp_write_u16(&w, 0x0001);          /* attributes: read only */
    afp_write_u16(&w, 3);               /* signature */
    afp_write_u32(&w, 1);               /* create */
    afp_write_u32(&w, 2);               /* mod */
    afp_write_u32(&w, (uint32_t)AFP_DATE_NEVER);
    afp_write_u16(&w, 7);               /* vol id */
    afp_write_u32(&w, 100);             /* bytes free */
    afp_write_u32(&w, 200);             /* bytes total */
    afp_write_u16(&w, 2 + 2 + 12 + 2 + 8 + 2 + 16 + 4);   /* name offset: after the fixed part */
    afp_write_u64(&w, 0x100000000ull);
    afp_write_u64(&w, 0x200000000ull);
    afp_write_u32(&w, 512);
    afp_write_pstring(&w, "Big");
    assert_int_equal(afp_volparms_decode(w.buf, w.len, &vp), 0);
    assert_int_equal(vp.attributes, kReadOnly);
    assert_int_equal(vp.backup_date, AFP_DATE_NEVER);
    assert_int_equal(vp.vol_id, 7);
    assert_int_equal(vp.ext_bytes_free, 0x100000000ull);
    assert_int_equal(vp.ext_bytes_total, 0x200000000ull);
    assert_int_equal(vp.block_size, 512);
    assert_string_equal(vp.name, "Big");
    /* name offset into the fixed part, reserved bitmap bits: refused */
    w.buf[2 + 2 + 2 + 12 + 2 + 8] = 0;
    w.buf[2 + 2 + 2 + 12 + 2 + 8 + 1] = 4;
    assert_int_equal(afp_volparms_decode(w.buf, w.len, &vp), -EPROTO);
    w.buf[0] = 0x1f;
    assert_int_equal(afp_volparms_decode(w.buf, w.len, &vp), -EPROTO);
    afp_writer_free(&w);
}

static void test_dates(void **state)
{
    (void)state;
    assert_int_equal(afp_date_to_time(0), 946684800);
    assert_int_equal(afp_date_to_time(-946684800), 0);
    assert_int_equal(afp_date_from_time(946684800), 0);
    assert_int_equal(afp_date_from_time(1795302930), 0x3294e292);
    assert_int_equal(afp_date_from_time(0), -946684800);
    /* out of range clamps; "never" is not produced */
    assert_int_equal(afp_date_from_time((time_t)946684800 + 0x7fffffffLL + 100), INT32_MAX);
    assert_int_equal(afp_date_from_time((time_t)946684800 - 0x80000000LL - 100), INT32_MIN + 1);
}

static int decode_srvrparms(const uint8_t *buf, size_t len, const void *arg)
{
    struct afp_srvrparms sp;
    struct afp_srvr_volume vol;
    (void)arg;
    int rc = afp_srvrparms_init(&sp, buf, len);
    if (rc == 0)
        while (afp_srvrparms_next(&sp, &vol) == 1)
            ;
    return rc;
}

static int decode_volparms(const uint8_t *buf, size_t len, const void *arg)
{
    struct afp_volparms vp;
    (void)arg;
    return afp_volparms_decode(buf, len, &vp);
}

/* Every proper prefix of every volume reply is refused; corruptions never crash. */
static void test_truncated_and_corrupted(void **state)
{
    (void)state;
    struct { struct afpv_file *f; const char *op; afpv_decode_fn fn; } cases[] = {
        { &p02, "FPGetSrvrParms", decode_srvrparms }, { &p03, "FPGetSrvrParms", decode_srvrparms },
        { &p02, "FPOpenVol", decode_volparms }, { &a21, "FPOpenVol", decode_volparms },
        { &a22, "FPOpenVol", decode_volparms },
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const struct afpv_msg *m = afpv_get(cases[c].f, cases[c].op, true, 0);
        afpv_check_prefixes(m, cases[c].fn, NULL);
        afpv_check_corruptions(m, 17, cases[c].fn, NULL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_getsrvrparms),
        cmocka_unit_test(test_openvol),
        cmocka_unit_test(test_getvolparms_closevol),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_truncated_and_corrupted),
    };
    return cmocka_run_group_tests(tests, afpv_setup, afpv_teardown);
}
