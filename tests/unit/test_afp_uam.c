/* UAM state machines against the recorded netatalk logins.  p08 (DHX2) and
 * p09 (DHCAST128) come with the client's secrets (keylog.jsonl): fed the
 * same Ra and nonce, our UAMs must send the captured FPLoginCont payloads
 * byte for byte. */
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
#include "afp/afp_uam.h"

#include "afp_vectors.h"

#define P08 AFPV_DIR "p08-dhx2-keylog-private"
#define P09 AFPV_DIR "p09-dhcast128-keylog-private"
#define LAB_USER "afpuser"
#define LAB_PASSWORD "afppass"

/* Random numbers replayed from a keylog. */
struct replay {
    uint8_t ra[256];
    int ra_len;
    uint8_t nonce[16];
    int nonce_len;
    int calls_ra, calls_nonce;
};

static void replay_random(void *arg, enum afp_random_purpose purpose, uint8_t *buf, size_t len)
{
    struct replay *r = arg;
    if (purpose == AFP_RANDOM_DH_PRIVATE) {
        assert_int_equal(len, (size_t)r->ra_len);
        memcpy(buf, r->ra, len);
        r->calls_ra++;
    } else {
        assert_int_equal(len, (size_t)r->nonce_len);
        memcpy(buf, r->nonce, len);
        r->calls_nonce++;
    }
}

static void assert_payload(const struct afp_writer *w, const struct afpv_msg *m)
{
    assert_non_null(m);
    assert_int_equal(w->len, m->payload_len);
    assert_memory_equal(w->buf, m->payload, w->len);
}

static void test_dhcast128_known_answer(void **state)
{
    (void)state;
    struct afpv_file f;
    struct afp_login l;
    struct afp_writer w;
    struct replay rp = { 0 };
    const struct afpv_msg *rep;

    assert_int_equal(afpv_load(P09 ".dsi.txt", &f), 0);
    rp.ra_len = afpv_keylog_get(P09 ".keylog.jsonl", "Ra", rp.ra, sizeof(rp.ra));
    assert_int_equal(rp.ra_len, 16);

    afp_writer_init(&w);
    assert_int_equal(afp_login_init(&l, &afp_uam_dhcast128, "AFP3.4", LAB_USER, LAB_PASSWORD, false), 0);
    afp_login_set_random(&l, replay_random, &rp);
    assert_int_equal(afp_login_start(&l, &w), 0);
    assert_payload(&w, afpv_find(&f, "FPLogin", false, 0));

    rep = afpv_find(&f, "FPLogin", true, 0);
    assert_int_equal(rep->code, kFPAuthContinue);
    afp_writer_reset(&w);
    assert_int_equal(afp_login_continue(&l, rep->code, rep->payload, rep->payload_len, &w), AFP_LOGIN_MORE);
    assert_payload(&w, afpv_find(&f, "FPLoginCont", false, 0));
    assert_int_equal(l.id, 0xea60);

    rep = afpv_find(&f, "FPLoginCont", true, 0);
    afp_writer_reset(&w);
    assert_int_equal(afp_login_continue(&l, rep->code, rep->payload, rep->payload_len, &w), AFP_LOGIN_DONE);
    assert_int_equal(l.outcome, AFP_LOGIN_OK);
    assert_int_equal(rp.calls_ra, 1);
    /* nothing else is accepted once finished */
    assert_int_equal(afp_login_continue(&l, 0, NULL, 0, &w), -EINVAL);

    afp_login_cleanup(&l);
    assert_null(l.state);
    afp_writer_free(&w);
    afpv_free(&f);
}

/* The keylog's Ma and K follow from Ra, p, g and Mb. */
static void test_dhcast128_keylog_values(void **state)
{
    (void)state;
    uint8_t p[16], g[1], ra[16], ma[16], mb[16], k[16], out[16];
    assert_int_equal(afpv_keylog_get(P09 ".keylog.jsonl", "p", p, 16), 16);
    assert_int_equal(afpv_keylog_get(P09 ".keylog.jsonl", "g", g, 1), 1);
    assert_int_equal(afpv_keylog_get(P09 ".keylog.jsonl", "Ra", ra, 16), 16);
    assert_int_equal(afpv_keylog_get(P09 ".keylog.jsonl", "Ma", ma, 16), 16);
    assert_int_equal(afpv_keylog_get(P09 ".keylog.jsonl", "Mb", mb, 16), 16);
    assert_int_equal(afpv_keylog_get(P09 ".keylog.jsonl", "K", k, 16), 16);
    assert_int_equal(g[0], 7);
    assert_int_equal(afp_dh_public(p, 16, g, 1, ra, 16, out), 0);
    assert_memory_equal(out, ma, 16);
    assert_int_equal(afp_dh_shared(p, 16, mb, 16, ra, 16, out), 0);
    assert_memory_equal(out, k, 16);
}

static void test_dhx2_known_answer(void **state)
{
    (void)state;
    struct afpv_file f;
    struct afp_login l;
    struct afp_writer w;
    struct replay rp = { 0 };
    const struct afpv_msg *rep;

    assert_int_equal(afpv_load(P08 ".dsi.txt", &f), 0);
    rp.ra_len = afpv_keylog_get(P08 ".keylog.jsonl", "Ra", rp.ra, sizeof(rp.ra));
    rp.nonce_len = afpv_keylog_get(P08 ".keylog.jsonl", "client_nonce", rp.nonce, sizeof(rp.nonce));
    assert_int_equal(rp.ra_len, 128);
    assert_int_equal(rp.nonce_len, 16);

    afp_writer_init(&w);
    assert_int_equal(afp_login_init(&l, &afp_uam_dhx2, "AFP3.4", LAB_USER, LAB_PASSWORD, false), 0);
    afp_login_set_random(&l, replay_random, &rp);
    assert_int_equal(afp_login_start(&l, &w), 0);
    assert_payload(&w, afpv_find(&f, "FPLogin", false, 0));

    rep = afpv_find(&f, "FPLogin", true, 0);
    assert_int_equal(rep->payload_len, 264);
    afp_writer_reset(&w);
    assert_int_equal(afp_login_continue(&l, rep->code, rep->payload, rep->payload_len, &w), AFP_LOGIN_MORE);
    assert_payload(&w, afpv_find(&f, "FPLoginCont", false, 0));

    rep = afpv_find(&f, "FPLoginCont", true, 0);
    afp_writer_reset(&w);
    assert_int_equal(afp_login_continue(&l, rep->code, rep->payload, rep->payload_len, &w), AFP_LOGIN_MORE);
    assert_payload(&w, afpv_find(&f, "FPLoginCont", false, 1));
    assert_int_equal(l.id, 0x60eb);

    rep = afpv_find(&f, "FPLoginCont", true, 1);
    afp_writer_reset(&w);
    assert_int_equal(afp_login_continue(&l, rep->code, rep->payload, rep->payload_len, &w), AFP_LOGIN_DONE);
    assert_int_equal(l.outcome, AFP_LOGIN_OK);
    assert_int_equal(rp.calls_ra, 1);
    assert_int_equal(rp.calls_nonce, 1);

    afp_login_cleanup(&l);
    afp_writer_free(&w);
    afpv_free(&f);
}

static void test_dhx2_keylog_values(void **state)
{
    (void)state;
    uint8_t p[128], g[1], ra[128], ma[128], mb[128], k[16], out[128], md[16], ks[16];
    assert_int_equal(afpv_keylog_get(P08 ".keylog.jsonl", "p", p, 128), 128);
    assert_int_equal(afpv_keylog_get(P08 ".keylog.jsonl", "g", g, 1), 1);
    assert_int_equal(afpv_keylog_get(P08 ".keylog.jsonl", "Ra", ra, 128), 128);
    assert_int_equal(afpv_keylog_get(P08 ".keylog.jsonl", "Ma", ma, 128), 128);
    assert_int_equal(afpv_keylog_get(P08 ".keylog.jsonl", "Mb", mb, 128), 128);
    assert_int_equal(afpv_keylog_get(P08 ".keylog.jsonl", "K", k, 16), 16);
    assert_int_equal(afp_dh_public(p, 128, g, 1, ra, 128, out), 0);
    assert_memory_equal(out, ma, 128);
    assert_int_equal(afp_dh_shared(p, 128, mb, 128, ra, 128, out), 0);
    assert_int_equal(afp_md5(out, 128, md), 0);
    assert_memory_equal(md, k, 16);

    /* The server nonce in the keylog is what the second reply decrypts to. */
    struct afpv_file f;
    assert_int_equal(afpv_load(P08 ".dsi.txt", &f), 0);
    const struct afpv_msg *rep = afpv_find(&f, "FPLoginCont", true, 0);
    uint8_t box[32];
    memcpy(box, rep->payload + 2, 32);
    assert_int_equal(afp_cast5_cbc(false, k, AFP_IV_SERVER, box, 32), 0);
    assert_int_equal(afpv_keylog_get(P08 ".keylog.jsonl", "server_nonce", ks, 16), 16);
    assert_memory_equal(box + 16, ks, 16);
    afpv_free(&f);
}

/* Runs DHX2 on p08 up to the second FPLoginCont, for the failure tests. */
static void dhx2_to_last_step(struct afpv_file *f, struct afp_login *l, struct replay *rp,
                              struct afp_writer *w)
{
    const struct afpv_msg *rep;
    assert_int_equal(afpv_load(P08 ".dsi.txt", f), 0);
    rp->ra_len = afpv_keylog_get(P08 ".keylog.jsonl", "Ra", rp->ra, sizeof(rp->ra));
    rp->nonce_len = afpv_keylog_get(P08 ".keylog.jsonl", "client_nonce", rp->nonce, sizeof(rp->nonce));
    assert_int_equal(afp_login_init(l, &afp_uam_dhx2, "AFP3.4", LAB_USER, LAB_PASSWORD, false), 0);
    afp_login_set_random(l, replay_random, rp);
    assert_int_equal(afp_login_start(l, w), 0);
    rep = afpv_find(f, "FPLogin", true, 0);
    afp_writer_reset(w);
    assert_int_equal(afp_login_continue(l, rep->code, rep->payload, rep->payload_len, w), AFP_LOGIN_MORE);
    rep = afpv_find(f, "FPLoginCont", true, 0);
    afp_writer_reset(w);
    assert_int_equal(afp_login_continue(l, rep->code, rep->payload, rep->payload_len, w), AFP_LOGIN_MORE);
}

/* Wrong password: netatalk says -5023 only to the last FPLoginCont (p12). */
static void test_dhx2_wrong_password_vs_unknown_user(void **state)
{
    (void)state;
    struct afpv_file f, p12, p13;
    struct afp_login l;
    struct afp_writer w;
    struct replay rp = { 0 };

    assert_int_equal(afpv_load(AFPV_DIR "p12-fail-dhx2-wrong-password.dsi.txt", &p12), 0);
    const struct afpv_msg *last = afpv_find(&p12, "FPLoginCont", true, 1);
    assert_non_null(last);
    assert_int_equal(last->code, kFPUserNotAuth);

    afp_writer_init(&w);
    dhx2_to_last_step(&f, &l, &rp, &w);
    afp_writer_reset(&w);
    assert_int_equal(afp_login_continue(&l, last->code, last->payload, last->payload_len, &w),
                     AFP_LOGIN_SERVER_REFUSED);
    assert_int_equal(l.outcome, AFP_LOGIN_BAD_PASSWORD);
    assert_int_equal(l.result, kFPUserNotAuth);
    assert_non_null(strstr(l.detail, "step 3 of 3"));
    assert_non_null(strstr(l.detail, "kFPUserNotAuth"));
    afp_login_cleanup(&l);
    afpv_free(&f);

    /* Unknown user: -5023 to the FPLogin itself, no DH parameters (p13). */
    assert_int_equal(afpv_load(AFPV_DIR "p13-fail-dhx2-unknown-user.dsi.txt", &p13), 0);
    afp_writer_reset(&w);
    assert_int_equal(afp_login_init(&l, &afp_uam_dhx2, "AFP3.4", "nosuchuser", "x", false), 0);
    assert_int_equal(afp_login_start(&l, &w), 0);
    assert_payload(&w, afpv_find(&p13, "FPLogin", false, 0));
    const struct afpv_msg *rep = afpv_find(&p13, "FPLogin", true, 0);
    assert_int_equal(rep->code, kFPUserNotAuth);
    assert_int_equal(rep->payload_len, 0);
    assert_int_equal(afp_login_continue(&l, rep->code, rep->payload, rep->payload_len, &w),
                     AFP_LOGIN_SERVER_REFUSED);
    assert_int_equal(l.outcome, AFP_LOGIN_UNKNOWN_USER);
    afp_login_cleanup(&l);

    afpv_free(&p12);
    afpv_free(&p13);
    afp_writer_free(&w);
}

/* The server's reply fed to a client with other randoms: the proof of K
 * fails (p12's second reply is for the lab client's key, not ours). */
static void test_dhx2_server_proof_checked(void **state)
{
    (void)state;
    struct afpv_file f;
    struct afp_login l;
    struct afp_writer w;
    struct replay rp = { 0 };
    const struct afpv_msg *rep;

    afp_writer_init(&w);
    assert_int_equal(afpv_load(P08 ".dsi.txt", &f), 0);
    rp.ra_len = afpv_keylog_get(P08 ".keylog.jsonl", "Ra", rp.ra, sizeof(rp.ra));
    rp.nonce_len = 16;
    memset(rp.nonce, 0x5a, 16);     /* not the recorded nonce */
    assert_int_equal(afp_login_init(&l, &afp_uam_dhx2, "AFP3.4", LAB_USER, LAB_PASSWORD, false), 0);
    afp_login_set_random(&l, replay_random, &rp);
    afp_login_start(&l, &w);
    rep = afpv_find(&f, "FPLogin", true, 0);
    assert_int_equal(afp_login_continue(&l, rep->code, rep->payload, rep->payload_len, &w), AFP_LOGIN_MORE);
    rep = afpv_find(&f, "FPLoginCont", true, 0);
    afp_writer_reset(&w);
    assert_int_equal(afp_login_continue(&l, rep->code, rep->payload, rep->payload_len, &w), -EPROTO);
    assert_int_equal(l.outcome, AFP_LOGIN_SERVER_PROOF_FAILED);
    assert_int_equal(w.len, 0);     /* the password was not sent */
    afp_login_cleanup(&l);
    afpv_free(&f);
    afp_writer_free(&w);
}

/* Every prefix and many corruptions of the DH replies: errors, no crash. */
static void test_dh_replies_truncated_and_corrupted(void **state)
{
    (void)state;
    static const struct { const char *file; const struct afp_uam *uam; } cases[] = {
        { P08 ".dsi.txt", &afp_uam_dhx2 },
        { P09 ".dsi.txt", &afp_uam_dhcast128 },
        { AFPV_DIR "p05-dhx2-private-enum-read.dsi.txt", &afp_uam_dhx2 },
        { AFPV_DIR "a24-afpfsng-dhx2-private.dsi.txt", &afp_uam_dhx2 },
        { AFPV_DIR "a23-afpfsng-dhcast128-private.dsi.txt", &afp_uam_dhcast128 },
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct afpv_file f;
        struct afp_writer w;
        assert_int_equal(afpv_load(cases[c].file, &f), 0);
        const struct afpv_msg *rep = afpv_find(&f, "FPLogin", true, 0);
        assert_non_null(rep);
        afp_writer_init(&w);
        size_t n = rep->payload_len;
        uint8_t *copy = malloc(n);
        for (size_t cut = 0; cut < n; cut++) {
            struct afp_login l;
            afp_login_init(&l, cases[c].uam, "AFP3.4", LAB_USER, LAB_PASSWORD, false);
            afp_login_start(&l, &w);
            memcpy(copy, rep->payload, cut);
            afp_writer_reset(&w);
            assert_int_equal(afp_login_continue(&l, kFPAuthContinue, copy, cut, &w), -EPROTO);
            assert_int_equal(l.outcome, AFP_LOGIN_MALFORMED_REPLY);
            afp_login_cleanup(&l);
        }
        for (size_t i = 0; i < n; i++) {
            struct afp_login l;
            memcpy(copy, rep->payload, n);
            copy[i] ^= 0xff;
            afp_login_init(&l, cases[c].uam, "AFP3.4", LAB_USER, LAB_PASSWORD, false);
            afp_writer_reset(&w);
            afp_login_start(&l, &w);
            afp_writer_reset(&w);
            int rc = afp_login_continue(&l, kFPAuthContinue, copy, n, &w);
            assert_true(rc == AFP_LOGIN_MORE || rc == -EPROTO);
            afp_login_cleanup(&l);
        }
        free(copy);
        afp_writer_free(&w);
        afpv_free(&f);
    }
}

static void test_dh_values_out_of_range(void **state)
{
    (void)state;
    struct afpv_file f;
    struct afp_writer w;
    struct afp_login l;
    uint8_t *copy;

    afp_writer_init(&w);
    /* DHX2 with Mb = 1 */
    assert_int_equal(afpv_load(P08 ".dsi.txt", &f), 0);
    const struct afpv_msg *rep = afpv_find(&f, "FPLogin", true, 0);
    copy = malloc(rep->payload_len);
    memcpy(copy, rep->payload, rep->payload_len);
    memset(copy + 8 + 128, 0, 128);
    copy[8 + 255] = 1;
    afp_login_init(&l, &afp_uam_dhx2, "AFP3.4", LAB_USER, LAB_PASSWORD, false);
    afp_login_start(&l, &w);
    assert_int_equal(afp_login_continue(&l, kFPAuthContinue, copy, rep->payload_len, &w), -EPROTO);
    assert_int_equal(l.outcome, AFP_LOGIN_MALFORMED_REPLY);
    afp_login_cleanup(&l);
    /* DHX2 with a prime too small to be safe (len field 16) */
    memcpy(copy, rep->payload, rep->payload_len);
    copy[6] = 0;
    copy[7] = 16;
    afp_login_init(&l, &afp_uam_dhx2, "AFP3.4", LAB_USER, LAB_PASSWORD, false);
    afp_login_start(&l, &w);
    assert_int_equal(afp_login_continue(&l, kFPAuthContinue, copy, 8 + 32, &w), -EPROTO);
    afp_login_cleanup(&l);
    free(copy);
    afpv_free(&f);

    /* DHCAST128 with Mb = p - 1 */
    static const uint8_t pm1[16] = { 0xba, 0x28, 0x73, 0xdf, 0xb0, 0x60, 0x57, 0xd4,
                                     0x3f, 0x20, 0x24, 0x74, 0x4c, 0xee, 0xe7, 0x5a };
    assert_int_equal(afpv_load(P09 ".dsi.txt", &f), 0);
    rep = afpv_find(&f, "FPLogin", true, 0);
    copy = malloc(rep->payload_len);
    memcpy(copy, rep->payload, rep->payload_len);
    memcpy(copy + 2, pm1, 16);
    afp_login_init(&l, &afp_uam_dhcast128, "AFP3.4", LAB_USER, LAB_PASSWORD, false);
    afp_login_start(&l, &w);
    assert_int_equal(afp_login_continue(&l, kFPAuthContinue, copy, rep->payload_len, &w), -EPROTO);
    assert_int_equal(l.outcome, AFP_LOGIN_MALFORMED_REPLY);
    afp_login_cleanup(&l);
    free(copy);
    afpv_free(&f);
    afp_writer_free(&w);
}

/* Without the hook the UAMs draw fresh randoms: two runs differ. */
static void test_real_random(void **state)
{
    (void)state;
    struct afp_writer a, b;
    struct afp_login l1, l2;
    afp_writer_init(&a);
    afp_writer_init(&b);
    afp_login_init(&l1, &afp_uam_dhcast128, "AFP3.4", LAB_USER, LAB_PASSWORD, false);
    afp_login_init(&l2, &afp_uam_dhcast128, "AFP3.4", LAB_USER, LAB_PASSWORD, false);
    assert_int_equal(afp_login_start(&l1, &a), 0);
    assert_int_equal(afp_login_start(&l2, &b), 0);
    assert_int_equal(a.len, 42);
    assert_int_equal(b.len, 42);
    assert_memory_not_equal(a.buf + 26, b.buf + 26, 16);
    afp_login_cleanup(&l1);
    afp_login_cleanup(&l2);
    afp_writer_free(&a);
    afp_writer_free(&b);
}

static void test_crypto_primitives(void **state)
{
    (void)state;
    /* RFC 2144 B.1, 128-bit key; one CBC block with a zero IV is ECB. */
    static const uint8_t key[16] = { 0x01, 0x23, 0x45, 0x67, 0x12, 0x34, 0x56, 0x78,
                                     0x23, 0x45, 0x67, 0x89, 0x34, 0x56, 0x78, 0x9a };
    static const uint8_t ct[8] = { 0x23, 0x8b, 0x4f, 0xe5, 0x84, 0x7e, 0x44, 0xb2 };
    uint8_t blk[8] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };
    static const char zero_iv[8] = { 0 };
    assert_int_equal(afp_cast5_cbc(true, key, zero_iv, blk, 8), 0);
    assert_memory_equal(blk, ct, 8);
    assert_int_equal(afp_cast5_cbc(false, key, zero_iv, blk, 8), 0);
    assert_int_equal(blk[0], 0x01);
    assert_int_equal(afp_cast5_cbc(true, key, zero_iv, blk, 7), -EINVAL);

    static const uint8_t md5_empty[16] = { 0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04,
                                           0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42, 0x7e };
    uint8_t md[16];
    assert_int_equal(afp_md5("", 0, md), 0);
    assert_memory_equal(md, md5_empty, 16);

    uint8_t n[16];
    memset(n, 0xff, 16);
    afp_nonce_increment(n);
    for (int i = 0; i < 16; i++)
        assert_int_equal(n[i], 0);
    n[15] = 0xff;
    n[14] = 0x01;
    afp_nonce_increment(n);
    assert_int_equal(n[14], 0x02);
    assert_int_equal(n[15], 0x00);

    /* a modulus that is even, or 1 < x < p - 1 violated */
    static const uint8_t even[2] = { 0x01, 0x00 }, two[1] = { 2 }, one[1] = { 1 };
    uint8_t out[2];
    assert_int_equal(afp_dh_public(even, 2, two, 1, two, 1, out), -EPROTO);
    assert_int_equal(afp_dh_check_range((const uint8_t[]){ 0x01, 0x01 }, 2, one, 1), -EPROTO);
    assert_int_equal(afp_dh_check_range((const uint8_t[]){ 0x01, 0x01 }, 2, two, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dhcast128_known_answer),
        cmocka_unit_test(test_dhcast128_keylog_values),
        cmocka_unit_test(test_dhx2_known_answer),
        cmocka_unit_test(test_dhx2_keylog_values),
        cmocka_unit_test(test_dhx2_wrong_password_vs_unknown_user),
        cmocka_unit_test(test_dhx2_server_proof_checked),
        cmocka_unit_test(test_dh_replies_truncated_and_corrupted),
        cmocka_unit_test(test_dh_values_out_of_range),
        cmocka_unit_test(test_real_random),
        cmocka_unit_test(test_crypto_primitives),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
