/* Kerberos pre-flight on ccaches built here (no KDC needed for these):
 * none, empty, expired TGT, TGT for another realm, KDC unreachable. */
#include <errno.h>
#include <krb5.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "sharesfs/krb5_preflight.h"

static char dir[] = "/tmp/sfs-test-krb5-XXXXXX";
static char conf[600];

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(conf, sizeof(conf), "%s/krb5.conf", dir);
    FILE *f = fopen(conf, "w");
    if (!f)
        return -1;
    /* A KDC address where nothing listens: loopback, closed port, TCP. */
    fprintf(f, "[libdefaults]\n  default_realm = LAB.TEST\n  dns_lookup_kdc = false\n  dns_lookup_realm = false\n"
               "  udp_preference_limit = 1\n  kdc_timeout = 1000\n  max_retries = 1\n"
               "[realms]\n  LAB.TEST = {\n    kdc = 127.0.0.9:9\n  }\n  OTHER.TEST = {\n    kdc = 127.0.0.9:9\n  }\n"
               "[domain_realm]\n  .lab.test = LAB.TEST\n  .other.test = OTHER.TEST\n");
    fclose(f);
    setenv("KRB5_CONFIG", conf, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A ccache for CLIENT holding a TGT (fake ticket bytes) that ends at END. */
static void make_ccache(const char *name, const char *client, const char *tgt_realm, time_t end)
{
    krb5_context ctx;
    krb5_ccache cc;
    krb5_principal cp, sp;
    assert_int_equal(krb5_init_context(&ctx), 0);
    assert_int_equal(krb5_cc_resolve(ctx, name, &cc), 0);
    assert_int_equal(krb5_parse_name(ctx, client, &cp), 0);
    assert_int_equal(krb5_cc_initialize(ctx, cc, cp), 0);
    if (tgt_realm) {
        char tgs[200];
        snprintf(tgs, sizeof(tgs), "krbtgt/%s@%s", tgt_realm, tgt_realm);
        assert_int_equal(krb5_parse_name(ctx, tgs, &sp), 0);
        krb5_creds c;
        memset(&c, 0, sizeof(c));
        c.client = cp;
        c.server = sp;
        c.times.authtime = c.times.starttime = (krb5_timestamp)(end - 3600);
        c.times.endtime = (krb5_timestamp)end;
        c.keyblock.enctype = ENCTYPE_AES256_CTS_HMAC_SHA1_96;
        c.keyblock.length = 32;
        c.keyblock.contents = (krb5_octet *)"0123456789abcdef0123456789abcdef";
        /* A well-formed Ticket (DER) whose encrypted part is junk: enough for
         * the library to build a TGS request, never accepted by a KDC. */
        static char ticket[] =
            "\x61\x64\x30\x62\xa0\x03\x02\x01\x05\xa1\x0a\x1b\x08LAB.TEST\xa2\x1d\x30\x1b\xa0\x03"
            "\x02\x01\x02\xa1\x14\x30\x12\x1b\x06krbtgt\x1b\x08LAB.TEST\xa3\x30\x30\x2e\xa0\x03\x02"
            "\x01\x12\xa1\x03\x02\x01\x01\xa2\x22\x04\x20"
            "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
        c.ticket.length = sizeof(ticket) - 1;
        c.ticket.data = ticket;
        assert_int_equal(krb5_cc_store_cred(ctx, cc, &c), 0);
        krb5_free_principal(ctx, sp);
    }
    krb5_free_principal(ctx, cp);
    krb5_cc_close(ctx, cc);
    krb5_free_context(ctx);
}

static void test_no_ccache(void **state)
{
    (void)state;
    char name[600];
    snprintf(name, sizeof(name), "FILE:%s/none", dir);
    struct krb5_preflight pf;
    struct sfs_status st = {0};
    assert_int_equal(sfs_krb5_preflight(name, NULL, "afpserver", "lion.lab.test", NULL, &pf, &st), -ENOKEY);
    assert_int_equal(st.stage, SFS_STAGE_AUTHENTICATE);
    assert_int_equal(st.domain, SFS_DOMAIN_KRB5);
    assert_non_null(strstr(st.detail, "does not exist"));
    assert_non_null(strstr(st.detail, "kinit"));
}

/* The library opens a FILE ccache blocking: a FIFO is refused first. */
static void test_fifo_ccache(void **state)
{
    (void)state;
    char path[600], name[620];
    snprintf(path, sizeof(path), "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    snprintf(name, sizeof(name), "FILE:%s", path);
    struct krb5_preflight pf;
    struct sfs_status st = {0};
    assert_int_equal(sfs_krb5_preflight(name, NULL, "afpserver", "lion.lab.test", NULL, &pf, &st), -ENOKEY);
    assert_int_equal(st.stage, SFS_STAGE_AUTHENTICATE);
    assert_non_null(strstr(st.detail, "is a FIFO, not a file"));
}

static void test_empty_ccache(void **state)
{
    (void)state;
    char name[600];
    snprintf(name, sizeof(name), "FILE:%s/empty", dir);
    make_ccache(name, "labuser@LAB.TEST", NULL, 0);
    struct krb5_preflight pf;
    struct sfs_status st = {0};
    assert_int_equal(sfs_krb5_preflight(name, NULL, "afpserver", "lion.lab.test", NULL, &pf, &st), -ENODATA);
    assert_non_null(strstr(st.detail, "holds no TGT"));
    assert_string_equal(pf.client, "labuser@LAB.TEST");
}

static void test_expired_tgt(void **state)
{
    (void)state;
    char name[600];
    snprintf(name, sizeof(name), "FILE:%s/expired", dir);
    make_ccache(name, "labuser@LAB.TEST", "LAB.TEST", time(NULL) - 60);
    struct krb5_preflight pf;
    struct sfs_status st = {0};
    assert_int_equal(sfs_krb5_preflight(name, NULL, "cifs", "fs-krb.lab.test", NULL, &pf, &st), -EKEYEXPIRED);
    assert_non_null(strstr(st.detail, "expired at"));
    assert_non_null(strstr(st.detail, "UTC"));
}

static void test_kdc_unreachable(void **state)
{
    (void)state;
    char name[600];
    snprintf(name, sizeof(name), "FILE:%s/valid", dir);
    make_ccache(name, "labuser@LAB.TEST", "LAB.TEST", time(NULL) + 3600);
    struct krb5_preflight pf;
    struct sfs_status st = {0};
    int rc = sfs_krb5_preflight(name, NULL, "afpserver", "lion.lab.test", NULL, &pf, &st);
    if (rc != -EHOSTUNREACH)
        fail_msg("rc %d: %s", rc, st.detail);
    assert_non_null(strstr(st.detail, "KRB5_KDC_UNREACH"));
    assert_string_equal(pf.service, "afpserver/lion.lab.test@LAB.TEST");
}

static void test_other_realm(void **state)
{
    (void)state;
    char name[600];
    snprintf(name, sizeof(name), "FILE:%s/valid2", dir);
    make_ccache(name, "labuser@LAB.TEST", "LAB.TEST", time(NULL) + 3600);
    struct krb5_preflight pf;
    struct sfs_status st = {0};
    int rc = sfs_krb5_preflight(name, "afpserver/nas.other.test@OTHER.TEST", NULL, NULL, NULL, &pf, &st);
    assert_int_equal(rc, -EREMOTE);
    assert_non_null(strstr(st.detail, "in realm OTHER.TEST"));
}

static void test_unmapped_host(void **state)
{
    (void)state;
    char name[600];
    snprintf(name, sizeof(name), "FILE:%s/valid3", dir);
    make_ccache(name, "labuser@LAB.TEST", "LAB.TEST", time(NULL) + 3600);
    struct krb5_preflight pf;
    struct sfs_status st = {0};
    /* Not in [domain_realm]: MIT falls back to the default realm, so the
     * principal is built in LAB.TEST and the (dead) KDC is asked. */
    int rc = sfs_krb5_preflight(name, NULL, "cifs", "host.example", NULL, &pf, &st);
    assert_true(rc == -EHOSTUNREACH || rc == -EREMOTE);
}

static void test_error_names(void **state)
{
    (void)state;
    assert_string_equal(sfs_krb5_error_name(KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN), "KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN");
    assert_string_equal(sfs_krb5_error_name(KRB5KRB_AP_ERR_SKEW), "KRB5KRB_AP_ERR_SKEW");
    assert_null(sfs_krb5_error_name(12345));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_ccache),       cmocka_unit_test(test_empty_ccache),
        cmocka_unit_test(test_expired_tgt),     cmocka_unit_test(test_kdc_unreachable),
        cmocka_unit_test(test_other_realm),     cmocka_unit_test(test_unmapped_host),
        cmocka_unit_test(test_error_names),     cmocka_unit_test(test_fifo_ccache),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
