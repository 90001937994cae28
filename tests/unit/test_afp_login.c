/* FPLogin / FPLoginExt / FPLoginCont / FPLogout encoding and the login
 * driver's verdicts, against the recorded netatalk sessions (p02-p18). */
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "afp/afp_login.h"
#include "afp/afp_proto.h"
#include "sharesfs/status.h"
#include "afp/afp_uam.h"

#include "afp_vectors.h"

/* Runs a one-step login and returns the driver's verdict on the recorded reply. */
static int one_step(const char *name, const struct afp_uam *uam, const char *version,
                    const char *user, const char *password, struct afp_login *l)
{
    struct afpv_file f;
    struct afp_writer w;
    int rc;
    afpv_open(name, &f);
    afp_writer_init(&w);
    assert_int_equal(afp_login_init(l, uam, version, user, password, false), 0);
    assert_int_equal(afp_login_start(l, &w), 0);
    afpv_assert_payload(&w, afpv_find(&f, "FPLogin", false, 0));
    const struct afpv_msg *rep = afpv_find(&f, "FPLogin", true, 0);
    assert_non_null(rep);
    afp_writer_reset(&w);
    rc = afp_login_continue(l, rep->code, rep->payload, rep->payload_len, &w);
    afp_login_cleanup(l);
    afp_writer_free(&w);
    afpv_free(&f);
    return rc;
}

/* A fresh login of uam whose first answer is code (and reply): the driver's
 * verdict and the outcome must be these.  l is left cleaned up. */
static void first_answer(struct afp_login *l, const struct afp_uam *uam, const char *user,
                         const char *password, int32_t code, const uint8_t *reply, size_t len,
                         int verdict, enum afp_login_outcome outcome)
{
    struct afp_writer w;
    afp_writer_init(&w);
    afp_login_init(l, uam, "AFP3.4", user, password, false);
    afp_login_start(l, &w);
    assert_int_equal(afp_login_continue(l, code, reply, len, &w), verdict);
    assert_int_equal(l->outcome, outcome);
    afp_login_cleanup(l);
    afp_writer_free(&w);
}

static void test_guest(void **state)
{
    (void)state;
    struct afp_login l;
    assert_int_equal(one_step("p02-guest-public-enum-read", &afp_uam_guest, "AFP3.4", NULL, NULL, &l),
                     AFP_LOGIN_DONE);
    assert_int_equal(l.outcome, AFP_LOGIN_OK);
    /* afpfs-ng sends the same guest FPLogin */
    assert_int_equal(one_step("a21-afpfsng-guest-public", &afp_uam_guest, "AFP3.4", NULL, NULL, &l),
                     AFP_LOGIN_DONE);
}

static void test_cleartext(void **state)
{
    (void)state;
    struct afp_login l;
    assert_int_equal(one_step("p03-clrtxt-private-enum-read", &afp_uam_cleartext, "AFP3.4",
                              "afpuser", "afppass", &l), AFP_LOGIN_DONE);
    assert_int_equal(one_step("a22-afpfsng-clrtxt-private", &afp_uam_cleartext, "AFP3.4",
                              "afpuser", "afppass", &l), AFP_LOGIN_DONE);
    /* p10: wrong password, -5023 at once; cleartext cannot say which part was wrong */
    assert_int_equal(one_step("p10-fail-clrtxt-wrong-password", &afp_uam_cleartext, "AFP3.4",
                              "afpuser", "wrongpw", &l), AFP_LOGIN_SERVER_REFUSED);
    assert_int_equal(l.result, kFPUserNotAuth);
    assert_int_equal(l.outcome, AFP_LOGIN_BAD_CREDENTIALS);
    /* the password was wiped */
    for (size_t i = 0; i < sizeof(l.password); i++)
        assert_int_equal(l.password[i], 0);
}

static void test_bad_version_and_uam(void **state)
{
    (void)state;
    struct afp_login l;
    /* p16: AFP9.9 */
    assert_int_equal(one_step("p16-fail-bad-afp-version", &afp_uam_guest, "AFP9.9", NULL, NULL, &l),
                     AFP_LOGIN_SERVER_REFUSED);
    assert_int_equal(l.result, kFPBadVersNum);
    assert_int_equal(l.outcome, AFP_LOGIN_BAD_VERSION);

    /* p14, p15: UAMs sharesfs does not have; the request is still encodable */
    static const struct { const char *name, *uam; } cases[] = {
        { "p14-fail-uam-not-offered-randnum", "Randnum Exchange" },
        { "p15-fail-uam-unknown-name", "Bogus UAM" },
    };
    for (size_t i = 0; i < 2; i++) {
        struct afpv_file f;
        struct afp_writer w;
        afpv_open(cases[i].name, &f);
        assert_null(afp_uam_find(cases[i].uam));
        afp_writer_init(&w);
        afp_encode_login(&w, "AFP3.4", cases[i].uam);
        afp_write_pstring(&w, "afpuser");
        assert_int_equal(afp_writer_error(&w), 0);
        afpv_assert_payload(&w, afpv_find(&f, "FPLogin", false, 0));
        const struct afpv_msg *rep = afpv_find(&f, "FPLogin", true, 0);
        assert_int_equal(rep->code, kFPBadUAM);
        /* the driver's verdict on that code */
        struct afp_login l2;
        first_answer(&l2, &afp_uam_cleartext, "afpuser", "x", rep->code, NULL, 0,
                     AFP_LOGIN_SERVER_REFUSED, AFP_LOGIN_BAD_UAM);
        afp_writer_free(&w);
        afpv_free(&f);
    }
}

/* DHCAST128 with a wrong password: -5023 to the FPLoginCont (p11). */
static void test_dhcast128_wrong_password(void **state)
{
    (void)state;
    struct afpv_file f;
    struct afp_writer w;
    struct afp_login l;
    afpv_open("p11-fail-dhcast128-wrong-password", &f);
    afp_writer_init(&w);
    assert_int_equal(afp_login_init(&l, &afp_uam_dhcast128, "AFP3.4", "afpuser", "wrongpw", false), 0);
    assert_int_equal(afp_login_start(&l, &w), 0);
    const struct afpv_msg *req = afpv_find(&f, "FPLogin", false, 0);
    assert_int_equal(w.len, req->payload_len);
    assert_memory_equal(w.buf, req->payload, 26);   /* all but Ma, which is random */
    const struct afpv_msg *rep = afpv_find(&f, "FPLogin", true, 0);
    afp_writer_reset(&w);
    assert_int_equal(afp_login_continue(&l, rep->code, rep->payload, rep->payload_len, &w), AFP_LOGIN_MORE);
    assert_int_equal(w.len, afpv_find(&f, "FPLoginCont", false, 0)->payload_len);
    rep = afpv_find(&f, "FPLoginCont", true, 0);
    afp_writer_reset(&w);
    assert_int_equal(afp_login_continue(&l, rep->code, rep->payload, rep->payload_len, &w),
                     AFP_LOGIN_SERVER_REFUSED);
    assert_int_equal(l.outcome, AFP_LOGIN_BAD_PASSWORD);
    afp_login_cleanup(&l);
    afp_writer_free(&w);
    afpv_free(&f);
}

/* FPLoginExt headers: DHX2 (p07) and Client Krb v2 (p06, p18). */
static void test_login_ext(void **state)
{
    (void)state;
    struct afpv_file f;
    struct afp_writer w;
    struct afp_login l;

    afp_writer_init(&w);
    afpv_open("p07-dhx2-loginext-private", &f);
    assert_int_equal(afp_login_init(&l, &afp_uam_dhx2, "AFP3.4", "afpuser", "afppass", true), 0);
    assert_int_equal(afp_login_start(&l, &w), 0);
    afpv_assert_payload(&w, afpv_find(&f, "FPLoginExt", false, 0));
    /* the server answers FPLoginExt with the same DH parameters reply */
    const struct afpv_msg *rep = afpv_find(&f, "FPLoginExt", true, 0);
    afp_writer_reset(&w);
    assert_int_equal(afp_login_continue(&l, rep->code, rep->payload, rep->payload_len, &w), AFP_LOGIN_MORE);
    assert_int_equal(w.len, 148);
    assert_memory_equal(w.buf, afpv_find(&f, "FPLoginCont", false, 0)->payload, 4);
    afp_login_cleanup(&l);
    afpv_free(&f);

    afpv_open("p06-krbv2-gss-private-enum-read", &f);
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_login_ext(&w, "AFP3.4", "Client Krb v2", "afpuser"), 0);
    afpv_assert_payload(&w, afpv_find(&f, "FPLoginExt", false, 0));
    afpv_free(&f);

    /* p18: corrupt Kerberos token -> kFPMiscErr, a plain refusal */
    afpv_open("p18-fail-krbv2-corrupt-token", &f);
    rep = afpv_find(&f, "FPLoginCont", true, 0);
    assert_int_equal(rep->code, kFPMiscErr);
    assert_string_equal(afp_result_name(rep->code), "kFPMiscErr");
    afpv_free(&f);
    afp_writer_free(&w);
}

static void test_login_cont_and_logout(void **state)
{
    (void)state;
    struct afpv_file f;
    struct afp_writer w;
    afp_writer_init(&w);
    afpv_open("p02-guest-public-enum-read", &f);
    assert_int_equal(afp_encode_logout(&w), 0);
    afpv_assert_payload(&w, afpv_find(&f, "FPLogout", false, 0));
    afpv_free(&f);
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_login_cont(&w, 0xef0a), 0);
    assert_int_equal(w.len, 4);
    assert_memory_equal(w.buf, "\x13\x00\xef\x0a", 4);
    afp_writer_free(&w);
}

static void test_init_errors(void **state)
{
    (void)state;
    struct afp_login l;
    assert_int_equal(afp_login_init(&l, &afp_uam_cleartext, "AFP3.4", "u", "123456789", false), -EINVAL);
    assert_int_equal(l.outcome, AFP_LOGIN_LOCAL_ERROR);
    assert_non_null(strstr(l.detail, "at most 8 bytes"));
    assert_int_equal(afp_login_init(&l, &afp_uam_cleartext, "AFP3.4", "u", "12345678", false), 0);
    afp_login_cleanup(&l);
    assert_int_equal(afp_login_init(&l, &afp_uam_dhx2, "AFP3.4", NULL, "pw", false), -EINVAL);
    assert_int_equal(afp_login_init(&l, &afp_uam_dhx2, "AFP3.4", "", "pw", false), -EINVAL);
    char big[300];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    assert_int_equal(afp_login_init(&l, &afp_uam_dhx2, "AFP3.4", big, "pw", false), -EINVAL);
    assert_int_equal(afp_login_init(&l, &afp_uam_dhx2, "AFP3.4", "u", big, false), -EINVAL);
    assert_int_equal(afp_login_init(&l, &afp_uam_dhcast128, "AFP3.4", "u", big + 234, false), -EINVAL);
    assert_int_equal(afp_login_init(&l, &afp_uam_dhcast128, "AFP3.4", "u", big + 235, false), 0);
    afp_login_cleanup(&l);
    assert_int_equal(afp_login_init(&l, NULL, "AFP3.4", "u", "p", false), -EINVAL);

    assert_ptr_equal(afp_uam_find("dhx2"), &afp_uam_dhx2);
    assert_ptr_equal(afp_uam_find("NO USER AUTHENT"), &afp_uam_guest);
    assert_ptr_equal(afp_uam_find("cleartxt passwrd"), &afp_uam_cleartext);
    assert_ptr_equal(afp_uam_find("DHCAST128"), &afp_uam_dhcast128);
    assert_null(afp_uam_find("Client Krb v2"));
    assert_null(afp_uam_find(NULL));
}

static void test_unexpected_sequences(void **state)
{
    (void)state;
    struct afp_login l;
    struct afp_writer w;
    afp_writer_init(&w);

    /* DHX2 "accepted" before any key exchange */
    first_answer(&l, &afp_uam_dhx2, "afpuser", "afppass", kFPNoErr, NULL, 0, -EPROTO,
                 AFP_LOGIN_MALFORMED_REPLY);
    /* guest asked to continue */
    first_answer(&l, &afp_uam_guest, NULL, NULL, kFPAuthContinue, (const uint8_t *)"\0\1", 2, -EPROTO,
                 AFP_LOGIN_MALFORMED_REPLY);
    /* guest refused */
    first_answer(&l, &afp_uam_guest, NULL, NULL, kFPUserNotAuth, NULL, 0, AFP_LOGIN_SERVER_REFUSED,
                 AFP_LOGIN_GUEST_REFUSED);

    /* expired password, access denied */
    static const struct { int32_t code; enum afp_login_outcome o; } v[] = {
        { kFPPwdExpiredErr, AFP_LOGIN_PASSWORD_EXPIRED },
        { kFPPwdNeedsChangeErr, AFP_LOGIN_PASSWORD_MUST_CHANGE },
        { kFPAccessDenied, AFP_LOGIN_REFUSED },
        { kFPServerGoingDown, AFP_LOGIN_REFUSED },
        { 12345, AFP_LOGIN_REFUSED },
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        first_answer(&l, &afp_uam_cleartext, "u", "p", v[i].code, NULL, 0, AFP_LOGIN_SERVER_REFUSED, v[i].o);
    assert_non_null(strstr(l.detail, "unknown result"));

    /* out of order: continue before start, start twice, start after the end */
    afp_writer_reset(&w);
    afp_login_init(&l, &afp_uam_dhx2, "AFP3.4", "u", "p", false);
    assert_int_equal(afp_login_continue(&l, kFPNoErr, NULL, 0, &w), -EINVAL);
    assert_int_equal(afp_login_start(&l, &w), 0);
    assert_int_equal(afp_login_start(&l, &w), -EINVAL);
    afp_login_cleanup(&l);
    afp_login_init(&l, &afp_uam_guest, "AFP3.4", NULL, NULL, false);
    afp_login_start(&l, &w);
    afp_login_continue(&l, kFPNoErr, NULL, 0, &w);
    assert_int_equal(afp_login_start(&l, &w), -EINVAL);
    afp_login_cleanup(&l);

    for (int o = AFP_LOGIN_PENDING; o <= AFP_LOGIN_LOCAL_ERROR; o++)
        assert_string_not_equal(afp_login_outcome_name((enum afp_login_outcome)o), "?");
    afp_writer_free(&w);
}

/* After a failed login netatalk ends the session: the caller must
 * reconnect before it tries again. */
static void test_session_dead_after_failure(void **state)
{
    (void)state;
    struct afpv_file f;
    static const char *names[] = {
        "p10-fail-clrtxt-wrong-password", "p11-fail-dhcast128-wrong-password",
        "p12-fail-dhx2-wrong-password", "p13-fail-dhx2-unknown-user",
        "p14-fail-uam-not-offered-randnum", "p15-fail-uam-unknown-name",
        "p16-fail-bad-afp-version", "p18-fail-krbv2-corrupt-token",
    };
    /* After every failed login the server sends DSIAttention 0x8000
     * (shutting down, 0 minutes): the session cannot be reused. */
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        afpv_open(names[i], &f);
        const struct afpv_msg *att = NULL;
        for (size_t k = 0; k < f.n; k++)
            if (strcmp(f.msgs[k].dsi_cmd, "DSIAttention") == 0)
                att = &f.msgs[k];
        assert_non_null(att);
        assert_int_equal(att->payload_len, 2);
        assert_int_equal(att->payload[0] << 8 | att->payload[1], 0x8000);
        afpv_free(&f);
    }
}

static void test_result_names(void **state)
{
    (void)state;
    assert_string_equal(afp_result_name(kFPUserNotAuth), "kFPUserNotAuth");
    assert_string_equal(afp_result_name(-5001), "kFPAuthContinue");
    assert_string_equal(afp_result_name(-5047), "kFPDiskQuotaExceeded");
    assert_string_equal(afp_result_name(0), "kFPNoErr");
    assert_null(afp_result_name(-5048));
    assert_string_equal(afp_command_name(kFPLoginExt), "FPLoginExt");
    assert_string_equal(afp_command_name(68), "FPEnumerateExt2");
    assert_null(afp_command_name(13));
    /* every code the captures show has a name */
    static const int32_t seen[] = { -5001, -5002, -5003, -5009, -5014, -5018, -5023 };
    for (size_t i = 0; i < sizeof(seen) / sizeof(seen[0]); i++)
        assert_non_null(afp_result_name(seen[i]));
    for (int32_t c = -5047; c <= -5000; c++)
        assert_non_null(afp_result_name(c));
    /* The constants of afp_proto.h and the rows of the errno table (the one
     * table of names) agree, name for name. */
#define RESULT(k) { k, #k }
    static const struct { int32_t code; const char *name; } rows[] = {
        RESULT(kFPNoErr), RESULT(kFPAccessDenied), RESULT(kFPAuthContinue), RESULT(kFPBadUAM),
        RESULT(kFPBadVersNum), RESULT(kFPBitmapErr), RESULT(kFPCantMove), RESULT(kFPDenyConflict),
        RESULT(kFPDirNotEmpty), RESULT(kFPDiskFull), RESULT(kFPEOFErr), RESULT(kFPFileBusy),
        RESULT(kFPFlatVol), RESULT(kFPItemNotFound), RESULT(kFPLockErr), RESULT(kFPMiscErr),
        RESULT(kFPNoMoreLocks), RESULT(kFPNoServer), RESULT(kFPObjectExists), RESULT(kFPObjectNotFound),
        RESULT(kFPParamErr), RESULT(kFPRangeNotLocked), RESULT(kFPRangeOverlap), RESULT(kFPSessClosed),
        RESULT(kFPUserNotAuth), RESULT(kFPCallNotSupported), RESULT(kFPObjectTypeErr),
        RESULT(kFPTooManyFilesOpen), RESULT(kFPServerGoingDown), RESULT(kFPCantRename),
        RESULT(kFPDirNotFound), RESULT(kFPIconTypeError), RESULT(kFPVolLocked), RESULT(kFPObjectLocked),
        RESULT(kFPContainsSharedErr), RESULT(kFPIDNotFound), RESULT(kFPIDExists), RESULT(kFPDiffVolErr),
        RESULT(kFPCatalogChanged), RESULT(kFPSameObjectErr), RESULT(kFPBadIDErr), RESULT(kFPPwdSameErr),
        RESULT(kFPPwdTooShortErr), RESULT(kFPPwdExpiredErr), RESULT(kFPInsideSharedErr),
        RESULT(kFPInsideTrashErr), RESULT(kFPPwdNeedsChangeErr), RESULT(kFPPwdPolicyErr),
        RESULT(kFPDiskQuotaExceeded),
    };
#undef RESULT
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        assert_string_equal(afp_result_name(rows[i].code), rows[i].name);
        assert_ptr_equal(afp_result_name(rows[i].code), sfs_afp_result_name(rows[i].code));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guest),
        cmocka_unit_test(test_cleartext),
        cmocka_unit_test(test_bad_version_and_uam),
        cmocka_unit_test(test_dhcast128_wrong_password),
        cmocka_unit_test(test_login_ext),
        cmocka_unit_test(test_login_cont_and_logout),
        cmocka_unit_test(test_init_errors),
        cmocka_unit_test(test_unexpected_sequences),
        cmocka_unit_test(test_session_dead_after_failure),
        cmocka_unit_test(test_result_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
