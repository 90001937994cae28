/* "Client Krb v2" messages against netatalk's capture p06 (and p18). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "afp/afp_login.h"
#include "afp/afp_login_gss.h"
#include "afp_vectors.h"

static struct afpv_file p06, p18;
static const struct afpv_named recordings[] = {
    { &p06, "p06-krbv2-gss-private-enum-read" }, { &p18, "p18-fail-krbv2-corrupt-token" }, { NULL, NULL },
};
AFPV_GROUP_FIXTURES(recordings)

static void test_loginext_matches_p06(void **state)
{
    (void)state;
    struct afp_writer w;
    afp_writer_init(&w);
    assert_int_equal(afp_encode_login_ext(&w, "AFP3.4", AFP_UAM_KRB5, "afpuser"), 0);
    afpv_assert_payload(&w, afpv_find(&p06, "FPLoginExt", false, 0));
    afp_writer_free(&w);
}

static void test_login_id_from_p06(void **state)
{
    (void)state;
    const struct afpv_msg *rep = afpv_find(&p06, "FPLoginExt", true, 0);
    assert_int_equal(rep->code, -5001);
    uint16_t id = 0;
    assert_int_equal(afp_gss_decode_login_id(rep->payload, rep->payload_len, &id), 0);
    assert_int_equal(id, 1);
    assert_int_not_equal(afp_gss_decode_login_id(rep->payload, 1, &id), 0);
}

/* Re-encoding the captured token with the captured ID and user gives the
 * captured FPLoginCont byte for byte. */
static void test_logincont_matches_p06(void **state)
{
    (void)state;
    const struct afpv_msg *req = afpv_find(&p06, "FPLoginCont", false, 0);
    assert_non_null(req);
    const uint8_t *p = req->payload;
    size_t tlen = (size_t)(p[14] << 8 | p[15]);
    assert_int_equal(tlen, 736);
    struct afp_writer w;
    afp_writer_init(&w);
    assert_int_equal(afp_gss_encode_logincont(&w, 1, "afpuser", p + 16, tlen), 0);
    assert_int_equal(w.len, 16 + tlen);
    assert_memory_equal(w.buf, p, w.len);
    assert_int_equal(req->payload_len, w.len);
    afp_writer_free(&w);
}

static void test_reply_token_p06(void **state)
{
    (void)state;
    const struct afpv_msg *rep = afpv_find(&p06, "FPLoginCont", true, 0);
    assert_int_equal(rep->code, 0);
    const uint8_t *tok = NULL;
    size_t tlen = 0;
    assert_int_equal(afp_gss_decode_reply_token(rep->payload, rep->payload_len, &tok, &tlen), 0);
    assert_int_equal(tlen, 156);
    assert_int_equal(tok[0], 0x60);   /* GSS InitialContextToken */
    for (size_t n = 1; n < rep->payload_len; n++)
        assert_int_not_equal(afp_gss_decode_reply_token(rep->payload, n, &tok, &tlen), 0);
}

static void test_corrupt_token_p18_is_miscerr(void **state)
{
    (void)state;
    const struct afpv_msg *rep = afpv_find(&p18, "FPLoginCont", true, 0);
    assert_int_equal(rep->code, -5014);
    assert_int_equal(rep->payload_len, 0);
}

static void test_logincont_pads_to_even(void **state)
{
    (void)state;
    struct afp_writer w;
    uint8_t tok[3] = {1, 2, 3};
    afp_writer_init(&w);
    assert_int_equal(afp_gss_encode_logincont(&w, 7, "ab", tok, 3), 0);
    /* 5 header bytes + "ab\0" = 8: even, no pad; then length 3 */
    assert_int_equal(w.len, 8 + 2 + 3);
    assert_int_equal(w.buf[8], 0);
    assert_int_equal(w.buf[9], 3);
    afp_writer_reset(&w);
    assert_int_equal(afp_gss_encode_logincont(&w, 7, "abc", tok, 3), 0);
    assert_int_equal(w.len, 9 + 1 + 2 + 3);
    afp_writer_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loginext_matches_p06),     cmocka_unit_test(test_login_id_from_p06),
        cmocka_unit_test(test_logincont_matches_p06),    cmocka_unit_test(test_reply_token_p06),
        cmocka_unit_test(test_corrupt_token_p18_is_miscerr), cmocka_unit_test(test_logincont_pads_to_even),
    };
    return cmocka_run_group_tests(tests, afpv_setup, afpv_teardown);
}
