/* afpsim "Client Krb v2": the FPLoginCont layout against the netatalk
 * captures p06 (accepted login) and p18 (damaged token), principal -> user
 * mapping, and the acceptor turning down tokens it cannot accept (no KDC
 * needed: a keytab with a made-up key).  The full exchange with a KDC is
 * contrib/afpsim/tools/krb-selftest.sh.  Built from contrib/afpsim/meson.build. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <krb5/krb5.h>

#include "afpsim.h"

/* The recordings, read with the AFP tests' loader (a unity include: this
 * test is built from contrib/afpsim/meson.build). */
#include "afp_vectors.c"

static struct afpv_file p06, p18;
static const struct afpv_named recordings[] = {
    { &p06, "p06-krbv2-gss-private-enum-read" }, { &p18, "p18-fail-krbv2-corrupt-token" }, { NULL, NULL },
};
AFPV_GROUP_FIXTURES(recordings)

/* The client's recorded FPLoginCont in f, parsed into c. */
static const struct afpv_msg *parse_recorded(const struct afpv_file *f, struct krb_cont *c)
{
    const struct afpv_msg *req = afpv_get(f, "FPLoginCont", false, 0);
    assert_int_equal(krb_parse_logincont(req->payload, req->payload_len, c), 0);
    return req;
}

/* GSS-API krb5 mechanism OID as DER, and the token IDs (RFC 1964/4121). */
static const uint8_t krb5_oid[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02 };

static void assert_krb5_token(const uint8_t *t, size_t len, uint8_t tok_id_hi)
{
    assert_true(len > 20);
    assert_int_equal(t[0], 0x60);
    /* 0x60, a 2- or 3-byte DER length, the OID, then the 2-byte token ID. */
    size_t off = (t[1] & 0x80) ? 2 + (t[1] & 0x7f) : 2;
    assert_memory_equal(t + off, krb5_oid, sizeof(krb5_oid));
    assert_int_equal(t[off + sizeof(krb5_oid)], tok_id_hi);
    assert_int_equal(t[off + sizeof(krb5_oid) + 1], 0x00);
}

static void test_p06_layout(void **state)
{
    (void)state;
    struct krb_cont c;
    const struct afpv_msg *req = parse_recorded(&p06, &c);
    assert_int_equal(c.id, 0x0001);
    assert_string_equal(c.user, "afpuser");
    assert_int_equal(c.token_len, 736);
    assert_ptr_equal(c.token, req->payload + 16);     /* 13 + NUL + pad + u16 */
    assert_int_equal(req->payload[13], 0);             /* the pad byte */
    assert_int_equal(c.token + c.token_len, req->payload + req->payload_len);
    assert_krb5_token(c.token, c.token_len, 0x01);  /* AP-REQ */

    /* The ID the server gave in its FPLoginExt reply. */
    const struct afpv_msg *ext = afpv_get(&p06, "FPLoginExt", true, 0);
    assert_int_equal(ext->payload_len, 2);
    assert_int_equal(ext->payload[0] << 8 | ext->payload[1], c.id);

    /* The reply (rid 2, code 0): u16 length, then the AP-REP, nothing else. */
    const struct afpv_msg *rep = afpv_get(&p06, "FPLoginCont", true, 0);
    assert_int_equal(rep->rid, 2);
    assert_int_equal(rep->code, 0);
    assert_int_equal(rep->payload_len, 158);
    assert_int_equal(rep->payload[0] << 8 | rep->payload[1], 156);
    assert_krb5_token(rep->payload + 2, 156, 0x02);     /* AP-REP */
}

static void test_p18_layout(void **state)
{
    (void)state;
    struct krb_cont c;
    const struct afpv_msg *req = parse_recorded(&p18, &c);
    assert_int_equal(c.id, 1);
    assert_string_equal(c.user, "afpuser");
    assert_int_equal(c.token_len, 737);
    assert_int_equal(c.token + c.token_len, req->payload + req->payload_len);
}

static GByteArray *make_cont(const char *user, size_t toklen, bool pad_rule)
{
    GByteArray *b = g_byte_array_new();
    uint8_t hdr[5] = { 0x13, 0, 0, 0x00, 0x01 };
    g_byte_array_append(b, hdr, 5);
    g_byte_array_append(b, (const uint8_t *)user, (guint)strlen(user) + 1);
    if (pad_rule && (b->len & 1)) {
        uint8_t z = 0;
        g_byte_array_append(b, &z, 1);
    }
    uint8_t l[2] = { (uint8_t)(toklen >> 8), (uint8_t)toklen };
    g_byte_array_append(b, l, 2);
    for (size_t i = 0; i < toklen; i++) {
        uint8_t v = (uint8_t)(0xa0 + i);
        g_byte_array_append(b, &v, 1);
    }
    return b;
}

static void test_padding(void **state)
{
    (void)state;
    /* 5 + "abcdef\0" = 12: no pad; 5 + "abc\0" = 9: one pad byte. */
    const char *users[] = { "abcdef", "abc", "", "labuser", "x" };
    for (size_t i = 0; i < G_N_ELEMENTS(users); i++) {
        GByteArray *b = make_cont(users[i], 3, true);
        struct krb_cont c;
        assert_int_equal(krb_parse_logincont(b->data, b->len, &c), 0);
        assert_string_equal(c.user, users[i]);
        assert_int_equal(c.token_len, 3);
        assert_int_equal(c.token[0], 0xa0);
        assert_int_equal(c.token[2], 0xa2);
        g_byte_array_free(b, TRUE);
    }
}

static void test_malformed(void **state)
{
    (void)state;
    struct krb_cont c;
    /* Shorter than the ID. */
    static const uint8_t shorty[] = { 0x13, 0, 0, 0 };
    assert_int_not_equal(krb_parse_logincont(shorty, sizeof(shorty), &c), 0);
    /* No NUL after the user name. */
    static const uint8_t nonul[] = { 0x13, 0, 0, 0, 1, 'a', 'b', 'c' };
    assert_int_not_equal(krb_parse_logincont(nonul, sizeof(nonul), &c), 0);
    /* A user name of 256 bytes does not fit. */
    GByteArray *b = g_byte_array_new();
    uint8_t hdr[5] = { 0x13, 0, 0, 0, 1 };
    g_byte_array_append(b, hdr, 5);
    for (int i = 0; i < 256; i++) {
        uint8_t a = 'a';
        g_byte_array_append(b, &a, 1);
    }
    uint8_t tail[4] = { 0, 0, 0, 0 };
    g_byte_array_append(b, tail, 4);
    assert_int_not_equal(krb_parse_logincont(b->data, b->len, &c), 0);
    g_byte_array_free(b, TRUE);
    /* Token length past the end. */
    b = make_cont("abc", 8, true);
    g_byte_array_set_size(b, b->len - 1);
    assert_int_not_equal(krb_parse_logincont(b->data, b->len, &c), 0);
    g_byte_array_free(b, TRUE);
    /* No length field at all. */
    static const uint8_t nolen[] = { 0x13, 0, 0, 0, 1, 'a', 0, 0 };
    assert_int_not_equal(krb_parse_logincont(nolen, sizeof(nolen), &c), 0);
}

static void test_principal_user(void **state)
{
    (void)state;
    char u[16];
    assert_int_equal(krb_principal_user("labuser@LAB.TEST", u, sizeof(u)), 0);
    assert_string_equal(u, "labuser");
    assert_int_equal(krb_principal_user("host/x@LAB.TEST", u, sizeof(u)), 0);
    assert_string_equal(u, "host/x");
    assert_int_equal(krb_principal_user("a\\@b@LAB.TEST", u, sizeof(u)), 0);
    assert_string_equal(u, "a\\@b");
    assert_int_equal(krb_principal_user("norealm", u, sizeof(u)), 0);
    assert_string_equal(u, "norealm");
    assert_int_not_equal(krb_principal_user("@LAB.TEST", u, sizeof(u)), 0);
    assert_int_not_equal(krb_principal_user("", u, sizeof(u)), 0);
    assert_int_not_equal(krb_principal_user("sixteen-bytes-xx@R", u, sizeof(u)), 0);
}

/* A keytab holding a random key for `princ` (kvno 2, as the p06 ticket). */
static void make_keytab(const char *path, const char *princ)
{
    krb5_context kc;
    krb5_keytab kt;
    krb5_principal p;
    krb5_keytab_entry e;
    char name[300];
    snprintf(name, sizeof(name), "FILE:%s", path);
    assert_int_equal(krb5_init_context(&kc), 0);
    assert_int_equal(krb5_kt_resolve(kc, name, &kt), 0);
    assert_int_equal(krb5_parse_name(kc, princ, &p), 0);
    memset(&e, 0, sizeof(e));
    e.principal = p;
    e.vno = 2;
    assert_int_equal(krb5_c_make_random_key(kc, ENCTYPE_AES256_CTS_HMAC_SHA1_96, &e.key), 0);
    assert_int_equal(krb5_kt_add_entry(kc, kt, &e), 0);
    krb5_free_keyblock_contents(kc, &e.key);
    krb5_free_principal(kc, p);
    krb5_kt_close(kc, kt);
    krb5_free_context(kc);
}

static void test_acceptor_refuses(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_afpsim_krb.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *kt = g_strdup_printf("%s/afpserver.keytab", dir);
    char *ktname = g_strdup_printf("FILE:%s", kt);
    make_keytab(kt, "afpserver/localhost@LAB.TEST");

    struct krb_cont c;
    parse_recorded(&p06, &c);
    char client[256];
    GByteArray *rep = g_byte_array_new();

    /* The keytab has the principal; the captured ticket is under another key. */
    assert_int_equal(krb_check(ktname, "afpserver/localhost@LAB.TEST"), 0);
    assert_int_equal(krb_accept(ktname, "afpserver/localhost@LAB.TEST", "test", c.token,
                                c.token_len, client, sizeof(client), rep), -1);
    assert_int_equal(krb_accept(ktname, NULL, "test", c.token, c.token_len, client,
                                sizeof(client), rep), -1);
    /* Not here: an acceptor name without a key in the keytab.  MIT krb5
     * 1.20 leaks ~95 bytes in that error path of gss_acquire_cred_from,
     * which fails this test under LeakSanitizer; krb-selftest.sh covers it. */
    /* Garbage and empty tokens. */
    static const uint8_t junk[] = { 0x60, 0x03, 0x01, 0x02, 0x03 };
    assert_int_equal(krb_accept(ktname, NULL, "test", junk, sizeof(junk), client, sizeof(client),
                                rep), -1);
    assert_int_equal(krb_accept(ktname, NULL, "test", junk, 0, client, sizeof(client), rep), -1);
    /* A keytab that is not there. */
    assert_int_not_equal(krb_check("FILE:/nonexistent/afpsim.keytab", NULL), 0);
    assert_null(krb_keytab_resolve("/nonexistent/afpsim.keytab"));
    char *res = krb_keytab_resolve(kt);
    assert_string_equal(res, ktname);
    g_free(res);

    g_byte_array_free(rep, TRUE);
    unlink(kt);
    rmdir(dir);
    g_free(kt);
    g_free(ktname);
}

int main(void)
{
    /* Hermetic: no system krb5.conf, no replay cache on disk. */
    setenv("KRB5_CONFIG", "/dev/null", 1);
    setenv("KRB5RCACHETYPE", "none", 1);
    log_set_level(LOG_DEBUG);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_p06_layout),
        cmocka_unit_test(test_p18_layout),
        cmocka_unit_test(test_padding),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_principal_user),
        cmocka_unit_test(test_acceptor_refuses),
    };
    return cmocka_run_group_tests(tests, afpv_setup, afpv_teardown);
}
