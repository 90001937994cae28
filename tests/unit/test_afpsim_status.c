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

#define P01 TEST_VECTORS "/afp/netatalk-4.0.3dev/p01-getstatus.dsi.txt"

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

/* The payload of the first server reply in a .dsi.txt file. */
static GByteArray *capture_reply(const char *path)
{
    char *text = NULL;
    assert_true(g_file_get_contents(path, &text, NULL, NULL));
    GByteArray *out = NULL;
    char **lines = g_strsplit(text, "\n", -1);
    for (size_t i = 0; lines[i] && !out; i++) {
        if (!strstr(lines[i], " S>C ") || !strchr(lines[i], '|'))
            continue;
        char **tok = g_strsplit(strchr(lines[i], '|') + 1, " ", -1);
        size_t n = 0;
        char *hex = NULL;
        for (size_t k = 0; tok[k]; k++)
            if (*tok[k] && ++n == 2)
                hex = tok[k];
        assert_non_null(hex);
        out = g_byte_array_new();
        for (size_t k = 0; hex[k] && hex[k + 1]; k += 2) {
            uint8_t b = (uint8_t)(g_ascii_xdigit_value(hex[k]) << 4 | g_ascii_xdigit_value(hex[k + 1]));
            g_byte_array_append(out, &b, 1);
        }
        g_strfreev(tok);
    }
    g_strfreev(lines);
    g_free(text);
    assert_non_null(out);
    return out;
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
    GByteArray *exp = capture_reply(P01);
    assert_int_equal(got->len, exp->len);
    /* Everything but the icon (afpsim draws its own) is the same. */
    struct afp_srvrinfo si;
    assert_int_equal(afp_srvrinfo_parse(exp->data, exp->len, &si), 0);
    assert_int_equal(si.icon_offset, 190);
    for (size_t i = 0; i < exp->len; i++)
        if (i < 190 || i >= 190 + 256)
            assert_int_equal(got->data[i], exp->data[i]);
    g_byte_array_free(got, TRUE);
    g_byte_array_free(exp, TRUE);
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
