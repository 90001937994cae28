/* afpsim: personalities load, and the FPGetSrvrInfo block they produce is
 * what the client parser (fs/afp/afp_srvrinfo.c) and the netatalk capture
 * p01 say it should be.  Built from contrib/afpsim/meson.build. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>
#include <gcrypt.h>

#include "afpsim.h"
#include "afp/afp_srvrinfo.h"

/* The recordings, read with the AFP tests' loader (a unity include: this
 * test is built from contrib/afpsim/meson.build). */
#include "afp_vectors.c"

static void loopback(struct sockaddr_storage *ss, uint16_t port)
{
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    memset(ss, 0, sizeof(*ss));
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static char *conf(const char *name)
{
    return g_strdup_printf("%s/%s.conf", AFPSIM_PERSONALITIES, name);
}

static void test_netatalk4_matches_p01(void **state)
{
    (void)state;
    struct persona p;
    struct sockaddr_storage ss;
    char *f = conf("netatalk-4");
    assert_int_equal(persona_load(&p, f, NULL), 0);
    loopback(&ss, 548);
    GByteArray *got = status_build(&p, &ss, false);
    struct afpv_file p01;
    afpv_open("p01-getstatus", &p01);
    const struct afpv_msg *exp = afpv_find_dsi(&p01, "DSIGetStatus", true, 0);
    assert_non_null(exp);
    assert_int_equal(got->len, exp->payload_len);
    /* Everything but the icon (afpsim draws its own) is the same. */
    struct afp_srvrinfo si;
    assert_int_equal(afp_srvrinfo_parse(exp->payload, exp->payload_len, &si), 0);
    assert_int_equal(si.icon_offset, 190);
    for (size_t i = 0; i < exp->payload_len; i++)
        if (i < 190 || i >= 190 + 256)
            assert_int_equal(got->data[i], exp->payload[i]);
    g_byte_array_free(got, TRUE);
    afpv_free(&p01);
    persona_free(&p);
    g_free(f);
}

static void test_every_personality_parses(void **state)
{
    (void)state;
    GDir *d = g_dir_open(AFPSIM_PERSONALITIES, 0, NULL);
    const char *name;
    int n = 0;
    assert_non_null(d);
    while ((name = g_dir_read_name(d))) {
        if (!g_str_has_suffix(name, ".conf"))
            continue;
        char *f = g_build_filename(AFPSIM_PERSONALITIES, name, NULL);
        struct persona p;
        struct sockaddr_storage ss;
        struct afp_srvrinfo si;
        print_message("personality %s\n", name);
        assert_int_equal(persona_load(&p, f, NULL), 0);
        loopback(&ss, 10548);
        GByteArray *st = status_build(&p, &ss, false);
        assert_int_equal(afp_srvrinfo_parse(st->data, st->len, &si), 0);
        assert_string_equal(si.machine_type, p.machine_type);
        assert_string_equal(si.server_name, p.server_name);
        assert_int_equal(si.flags, p.flags);
        size_t k;
        for (k = 0; p.versions[k]; k++)
            assert_string_equal(si.versions[k], p.versions[k]);
        assert_int_equal(si.n_versions, k);
        for (k = 0; p.uams[k]; k++)
            assert_string_equal(si.uams[k], p.uams[k]);
        assert_int_equal(si.n_uams, k);
        assert_int_equal(si.quirks, 0);
        if (p.krb_principal) {
            assert_int_equal(si.n_dirnames, 1);
            assert_string_equal(si.dirnames[0], p.krb_principal);
        }
        /* every version string is one afpsim knows */
        for (k = 0; p.versions[k]; k++)
            assert_true(afp_version_num(p.versions[k]) > 0);
        g_byte_array_free(st, TRUE);

        /* the hostile variant must not parse */
        GByteArray *bad = status_build(&p, &ss, true);
        assert_int_not_equal(afp_srvrinfo_parse(bad->data, bad->len, &si), 0);
        g_byte_array_free(bad, TRUE);
        persona_free(&p);
        g_free(f);
        n++;
    }
    g_dir_close(d);
    assert_true(n >= 7);
}

static void test_utf8_name_shift_quirk(void **state)
{
    (void)state;
    struct persona p;
    struct sockaddr_storage ss;
    struct afp_srvrinfo si;
    char *f = conf("netatalk-2.2");
    char *ov[] = { "server.utf8_name_shift=1", "server.server_name=oldnas", NULL };
    assert_int_equal(persona_load(&p, f, ov), 0);
    loopback(&ss, 548);
    GByteArray *st = status_build(&p, &ss, false);
    /* The client tolerates a name one byte after its offset. */
    assert_int_equal(afp_srvrinfo_parse(st->data, st->len, &si), 0);
    assert_true(si.has_utf8_name);
    assert_string_equal(si.utf8_name, "oldnas");
    assert_true(si.quirks & AFP_SI_QUIRK_OFFSET_SHORT);
    g_byte_array_free(st, TRUE);
    persona_free(&p);
    g_free(f);
}

static void test_bad_files_refused(void **state)
{
    (void)state;
    struct persona p;
    char *f = conf("netatalk-4");
    char *unknown[] = { "server.no_such_key=1", NULL };
    char *badmode[] = { "hostile.mode=explode", NULL };
    char *badnum[] = { "session.server_quantum=lots", NULL };
    char *good[] = { "hostile.mode=truncate|stall-read", "session.server_quantum=0x4A2E0", NULL };
    assert_int_not_equal(persona_load(&p, f, unknown), 0);
    assert_int_not_equal(persona_load(&p, f, badmode), 0);
    assert_int_not_equal(persona_load(&p, f, badnum), 0);
    assert_int_equal(persona_load(&p, f, good), 0);
    assert_int_equal(p.hostile.modes, H_TRUNCATE | H_STALL_READ);
    assert_int_equal(p.server_quantum, 0x4A2E0);
    persona_free(&p);
    assert_int_not_equal(persona_load(&p, "/nonexistent/x.conf", NULL), 0);
    g_free(f);
}

int main(void)
{
    gcry_check_version(NULL);
    gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
    gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    log_open("/dev/null");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_netatalk4_matches_p01),
        cmocka_unit_test(test_every_personality_parses),
        cmocka_unit_test(test_utf8_name_shift_quirk),
        cmocka_unit_test(test_bad_files_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
