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

/* A login of the lab user that replays a recorded one: the recording, its
 * randoms, the driver and the request buffer. */
struct replayed {
    struct afpv_file f;
    struct replay rp;
    struct afp_login l;
    struct afp_writer w;
};

/* Loads BASE.dsi.txt and the randoms of BASE.keylog.jsonl: Ra, and the
 * client nonce too when with_nonce (DHX2). */
static void replayed_load(struct replayed *x, const char *base, bool with_nonce)
{
    char path[512];
    memset(x, 0, sizeof(*x));
    snprintf(path, sizeof(path), "%s.dsi.txt", base);
    assert_int_equal(afpv_load(path, &x->f), 0);
    snprintf(path, sizeof(path), "%s.keylog.jsonl", base);
    x->rp.ra_len = afpv_keylog_get(path, "Ra", x->rp.ra, sizeof(x->rp.ra));
    if (with_nonce)
        x->rp.nonce_len = afpv_keylog_get(path, "client_nonce", x->rp.nonce, sizeof(x->rp.nonce));
    afp_writer_init(&x->w);
}

/* Starts the login with uam: w holds the FPLogin. */
static void replayed_start(struct replayed *x, const struct afp_uam *uam)
{
    assert_int_equal(afp_login_init(&x->l, uam, "AFP3.4", LAB_USER, LAB_PASSWORD, false), 0);
    afp_login_set_random(&x->l, replay_random, &x->rp);
    assert_int_equal(afp_login_start(&x->l, &x->w), 0);
}

/* Feeds the nth recorded reply to op to the login: the driver's verdict; w
 * then holds the next request. */
static int replayed_feed(struct replayed *x, const char *op, int nth)
{
    const struct afpv_msg *rep = afpv_get(&x->f, op, true, nth);
    afp_writer_reset(&x->w);
    return afp_login_continue(&x->l, rep->code, rep->payload, rep->payload_len, &x->w);
}

/* Plays the whole recorded login, STEPS server replies long: after each
 * reply but the last the client's FPLoginCont is the recorded one, byte for
 * byte; the last reply logs in. */
static void replayed_run(struct replayed *x, const struct afp_uam *uam, int steps)
{
    replayed_start(x, uam);
    afpv_assert_payload(&x->w, afpv_find(&x->f, "FPLogin", false, 0));
    for (int i = 0; i < steps; i++) {
        bool last = i + 1 == steps;
        int rc = i ? replayed_feed(x, "FPLoginCont", i - 1) : replayed_feed(x, "FPLogin", 0);
        assert_int_equal(rc, last ? AFP_LOGIN_DONE : AFP_LOGIN_MORE);
        if (!last)
            afpv_assert_payload(&x->w, afpv_find(&x->f, "FPLoginCont", false, i));
    }
    assert_int_equal(x->l.outcome, AFP_LOGIN_OK);
}

static void replayed_free(struct replayed *x)
{
    afp_login_cleanup(&x->l);
    afp_writer_free(&x->w);
    afpv_free(&x->f);
}

/* A keylog value of exactly len bytes. */
static void keylog(const char *path, const char *key, uint8_t *buf, int len)
{
    assert_int_equal(afpv_keylog_get(path, key, buf, (size_t)len), len);
}

static void test_dhcast128_known_answer(void **state)
{
    (void)state;
    struct replayed x;

    replayed_load(&x, P09, false);
    assert_int_equal(x.rp.ra_len, 16);
    assert_int_equal(afpv_get(&x.f, "FPLogin", true, 0)->code, kFPAuthContinue);
    replayed_run(&x, &afp_uam_dhcast128, 2);
    assert_int_equal(x.l.id, 0xea60);
    assert_int_equal(x.rp.calls_ra, 1);
    /* nothing else is accepted once finished */
    assert_int_equal(afp_login_continue(&x.l, 0, NULL, 0, &x.w), -EINVAL);

    afp_login_cleanup(&x.l);
    assert_null(x.l.state);
    replayed_free(&x);
}

/* The keylog's Ma and K follow from Ra, p, g and Mb. */
/* A keylog's DH values: p, Ra, Ma and Mb of n bytes, g of one, K of 16. */
struct dh_values {
    uint8_t p[128], g[1], ra[128], ma[128], mb[128], k[16];
};

/* Loads them from PATH and checks Ma = g^Ra mod p; shared = Mb^Ra mod p. */
static void dh_values_check(const char *path, int n, struct dh_values *v, uint8_t *shared)
{
    uint8_t ma[128];
    keylog(path, "p", v->p, n);
    keylog(path, "g", v->g, 1);
    keylog(path, "Ra", v->ra, n);
    keylog(path, "Ma", v->ma, n);
    keylog(path, "Mb", v->mb, n);
    keylog(path, "K", v->k, 16);
    assert_int_equal(afp_dh_public(v->p, (size_t)n, v->g, 1, v->ra, (size_t)n, ma), 0);
    assert_memory_equal(ma, v->ma, n);
    assert_int_equal(afp_dh_shared(v->p, (size_t)n, v->mb, (size_t)n, v->ra, (size_t)n, shared), 0);
}

static void test_dhcast128_keylog_values(void **state)
{
    (void)state;
    struct dh_values v;
    uint8_t shared[16];
    dh_values_check(P09 ".keylog.jsonl", 16, &v, shared);
    assert_int_equal(v.g[0], 7);
    assert_memory_equal(shared, v.k, 16);     /* K is the shared secret itself */
}

static void test_dhx2_known_answer(void **state)
{
    (void)state;
    struct replayed x;

    replayed_load(&x, P08, true);
    assert_int_equal(x.rp.ra_len, 128);
    assert_int_equal(x.rp.nonce_len, 16);
    assert_int_equal(afpv_get(&x.f, "FPLogin", true, 0)->payload_len, 264);
    replayed_run(&x, &afp_uam_dhx2, 3);
    assert_int_equal(x.l.id, 0x60eb);
    assert_int_equal(x.rp.calls_ra, 1);
    assert_int_equal(x.rp.calls_nonce, 1);
    replayed_free(&x);
}

static void test_dhx2_keylog_values(void **state)
{
    (void)state;
    struct dh_values v;
    uint8_t shared[128], md[16], ks[16];
    dh_values_check(P08 ".keylog.jsonl", 128, &v, shared);
    assert_int_equal(afp_md5(shared, 128, md), 0);
    assert_memory_equal(md, v.k, 16);           /* K = MD5(shared secret) */

    /* The server nonce in the keylog is what the second reply decrypts to. */
    struct afpv_file f;
    assert_int_equal(afpv_load(P08 ".dsi.txt", &f), 0);
    const struct afpv_msg *rep = afpv_find(&f, "FPLoginCont", true, 0);
    uint8_t box[32];
    memcpy(box, rep->payload + 2, 32);
    assert_int_equal(afp_cast5_cbc(false, v.k, AFP_IV_SERVER, box, 32), 0);
    keylog(P08 ".keylog.jsonl", "server_nonce", ks, 16);
    assert_memory_equal(box + 16, ks, 16);
    afpv_free(&f);
}

/* Wrong password: netatalk says -5023 only to the last FPLoginCont (p12). */
static void test_dhx2_wrong_password_vs_unknown_user(void **state)
{
    (void)state;
    struct afpv_file p12, p13;
    struct replayed x;

    assert_int_equal(afpv_load(AFPV_DIR "p12-fail-dhx2-wrong-password.dsi.txt", &p12), 0);
    const struct afpv_msg *last = afpv_find(&p12, "FPLoginCont", true, 1);
    assert_non_null(last);
    assert_int_equal(last->code, kFPUserNotAuth);

    /* p08 up to the second FPLoginCont, then p12's answer to it */
    replayed_load(&x, P08, true);
    replayed_start(&x, &afp_uam_dhx2);
    assert_int_equal(replayed_feed(&x, "FPLogin", 0), AFP_LOGIN_MORE);
    assert_int_equal(replayed_feed(&x, "FPLoginCont", 0), AFP_LOGIN_MORE);
    afp_writer_reset(&x.w);
    assert_int_equal(afp_login_continue(&x.l, last->code, last->payload, last->payload_len, &x.w),
                     AFP_LOGIN_SERVER_REFUSED);
    assert_int_equal(x.l.outcome, AFP_LOGIN_BAD_PASSWORD);
    assert_int_equal(x.l.result, kFPUserNotAuth);
    assert_non_null(strstr(x.l.detail, "step 3 of 3"));
    assert_non_null(strstr(x.l.detail, "kFPUserNotAuth"));
    afp_login_cleanup(&x.l);

    /* Unknown user: -5023 to the FPLogin itself, no DH parameters (p13). */
    assert_int_equal(afpv_load(AFPV_DIR "p13-fail-dhx2-unknown-user.dsi.txt", &p13), 0);
    afp_writer_reset(&x.w);
    assert_int_equal(afp_login_init(&x.l, &afp_uam_dhx2, "AFP3.4", "nosuchuser", "x", false), 0);
    assert_int_equal(afp_login_start(&x.l, &x.w), 0);
    afpv_assert_payload(&x.w, afpv_find(&p13, "FPLogin", false, 0));
    const struct afpv_msg *rep = afpv_find(&p13, "FPLogin", true, 0);
    assert_int_equal(rep->code, kFPUserNotAuth);
    assert_int_equal(rep->payload_len, 0);
    assert_int_equal(afp_login_continue(&x.l, rep->code, rep->payload, rep->payload_len, &x.w),
                     AFP_LOGIN_SERVER_REFUSED);
    assert_int_equal(x.l.outcome, AFP_LOGIN_UNKNOWN_USER);

    replayed_free(&x);
    afpv_free(&p12);
    afpv_free(&p13);
}

/* The server's reply fed to a client with other randoms: the proof of K
 * fails (p12's second reply is for the lab client's key, not ours). */
static void test_dhx2_server_proof_checked(void **state)
{
    (void)state;
    struct replayed x;

    replayed_load(&x, P08, false);
    x.rp.nonce_len = 16;
    memset(x.rp.nonce, 0x5a, 16);     /* not the recorded nonce */
    replayed_start(&x, &afp_uam_dhx2);
    assert_int_equal(replayed_feed(&x, "FPLogin", 0), AFP_LOGIN_MORE);
    assert_int_equal(replayed_feed(&x, "FPLoginCont", 0), -EPROTO);
    assert_int_equal(x.l.outcome, AFP_LOGIN_SERVER_PROOF_FAILED);
    assert_int_equal(x.w.len, 0);     /* the password was not sent */
    replayed_free(&x);
}

/* A fresh login of uam (the lab user, real randoms) that gets reply as its
 * first kFPAuthContinue: the driver's verdict, and the outcome. */
static int first_reply(const struct afp_uam *uam, const uint8_t *reply, size_t len,
                       enum afp_login_outcome *outcome)
{
    struct afp_login l;
    struct afp_writer w;
    afp_writer_init(&w);
    afp_login_init(&l, uam, "AFP3.4", LAB_USER, LAB_PASSWORD, false);
    afp_login_start(&l, &w);
    afp_writer_reset(&w);
    int rc = afp_login_continue(&l, kFPAuthContinue, reply, len, &w);
    *outcome = l.outcome;
    afp_login_cleanup(&l);
    afp_writer_free(&w);
    return rc;
}

/* For afpv_check_prefixes: a cut reply is refused as malformed. */
static int cut_reply(const uint8_t *buf, size_t len, const void *uam)
{
    enum afp_login_outcome o;
    int rc = first_reply(uam, buf, len, &o);
    if (rc == -EPROTO)
        assert_int_equal(o, AFP_LOGIN_MALFORMED_REPLY);
    return rc;
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
        enum afp_login_outcome o;
        assert_int_equal(afpv_load(cases[c].file, &f), 0);
        const struct afpv_msg *rep = afpv_get(&f, "FPLogin", true, 0);
        afpv_check_prefixes(rep, cut_reply, cases[c].uam);
        /* each byte flipped in turn */
        size_t n = rep->payload_len;
        uint8_t *copy = malloc(n);
        for (size_t i = 0; i < n; i++) {
            memcpy(copy, rep->payload, n);
            copy[i] ^= 0xff;
            int rc = first_reply(cases[c].uam, copy, n, &o);
            assert_true(rc == AFP_LOGIN_MORE || rc == -EPROTO);
        }
        free(copy);
        afpv_free(&f);
    }
}

static void test_dh_values_out_of_range(void **state)
{
    (void)state;
    struct afpv_file f;
    enum afp_login_outcome o;
    uint8_t *copy;

    /* DHX2 with Mb = 1 */
    assert_int_equal(afpv_load(P08 ".dsi.txt", &f), 0);
    const struct afpv_msg *rep = afpv_get(&f, "FPLogin", true, 0);
    copy = malloc(rep->payload_len);
    memcpy(copy, rep->payload, rep->payload_len);
    memset(copy + 8 + 128, 0, 128);
    copy[8 + 255] = 1;
    assert_int_equal(first_reply(&afp_uam_dhx2, copy, rep->payload_len, &o), -EPROTO);
    assert_int_equal(o, AFP_LOGIN_MALFORMED_REPLY);
    /* DHX2 with a prime too small to be safe (len field 16) */
    memcpy(copy, rep->payload, rep->payload_len);
    copy[6] = 0;
    copy[7] = 16;
    assert_int_equal(first_reply(&afp_uam_dhx2, copy, 8 + 32, &o), -EPROTO);
    free(copy);
    afpv_free(&f);

    /* DHCAST128 with Mb = p - 1 */
    static const uint8_t pm1[16] = { 0xba, 0x28, 0x73, 0xdf, 0xb0, 0x60, 0x57, 0xd4,
                                     0x3f, 0x20, 0x24, 0x74, 0x4c, 0xee, 0xe7, 0x5a };
    assert_int_equal(afpv_load(P09 ".dsi.txt", &f), 0);
    rep = afpv_get(&f, "FPLogin", true, 0);
    copy = malloc(rep->payload_len);
    memcpy(copy, rep->payload, rep->payload_len);
    memcpy(copy + 2, pm1, 16);
    assert_int_equal(first_reply(&afp_uam_dhcast128, copy, rep->payload_len, &o), -EPROTO);
    assert_int_equal(o, AFP_LOGIN_MALFORMED_REPLY);
    free(copy);
    afpv_free(&f);
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
