/* Unit tests for fs/core/url.c: share URL parsing, display and errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sharesfs/url.h"

#define SECRET "Hunter2Secret"

/* ---- helpers ---- */

static void parse_ok(const char *text, struct sfs_url *u)
{
    struct sfs_parse_error err;
    int rc = sfs_url_parse(text, u, &err);
    if (rc != 0)
        fail_msg("'%s' should parse, got col %d: %s", text, err.column, err.message);
}

static void assert_str_or_null(const char *got, const char *want)
{
    if (!want)
        assert_null(got);
    else
        assert_string_equal(got, want);
}

/* TEXT must fail at COLUMN with a message containing NEEDLE, and leave the
 * output zeroed. */
static void expect_error(const char *text, int column, const char *needle)
{
    struct sfs_url u;
    struct sfs_parse_error err;
    struct sfs_url zero;

    memset(&u, 0x5a, sizeof(u));
    memset(&zero, 0, sizeof(zero));
    int rc = sfs_url_parse(text, &u, &err);
    if (rc != -EINVAL)
        fail_msg("'%s' should fail, got rc %d", text, rc);
    if (err.column != column)
        fail_msg("'%s': column %d, want %d (%s)", text, err.column, column, err.message);
    if (!strstr(err.message, needle))
        fail_msg("'%s': message '%s' lacks '%s'", text, err.message, needle);
    assert_memory_equal(&u, &zero, sizeof(u));
    assert_string_equal(err.file, "");
    assert_int_equal(err.line, 0);
}

static char *display_of(const char *text)
{
    struct sfs_url u;
    parse_ok(text, &u);
    char *d = sfs_url_to_display(&u);
    assert_non_null(d);
    sfs_url_free(&u);
    return d;
}

static void expect_display(const char *text, const char *want)
{
    char *d = display_of(text);
    assert_string_equal(d, want);
    free(d);
}

/* ---- AFP ---- */

static void afp_basic(void **state)
{
    (void)state;
    struct sfs_url u;
    parse_ok("afp://lion.lab.test/Attic", &u);
    assert_int_equal(u.proto, SFS_PROTO_AFP);
    assert_string_equal(u.host, "lion.lab.test");
    assert_string_equal(u.share, "Attic");
    assert_null(u.path);
    assert_null(u.user);
    assert_null(u.password);
    assert_null(u.auth);
    assert_null(u.domain);
    assert_int_equal(u.port, 0);
    assert_false(u.host_is_ipv6);
    sfs_url_free(&u);
}

static void afp_full_userinfo(void **state)
{
    (void)state;
    struct sfs_url u;
    parse_ok("afp://labuser;AUTH=DHX2:" SECRET "@lion.lab.test:10548/Attic/Projects/2024", &u);
    assert_string_equal(u.user, "labuser");
    assert_string_equal(u.auth, "DHX2");
    assert_string_equal(u.password, SECRET);
    assert_int_equal(u.port, 10548);
    assert_string_equal(u.share, "Attic");
    assert_string_equal(u.path, "Projects/2024");
    sfs_url_free(&u);
}

static void afp_auth_without_user(void **state)
{
    (void)state;
    struct sfs_url u;
    parse_ok("afp://;AUTH=No%20User%20Authent@lion.lab.test/Attic", &u);
    assert_null(u.user);
    assert_string_equal(u.auth, "No User Authent");
    assert_string_equal(u.host, "lion.lab.test");
    assert_string_equal(u.share, "Attic");
    sfs_url_free(&u);
}

static void afp_auth_uppercase_od(void **state)
{
    (void)state;
    struct sfs_url u;
    /* Open Directory stores the UAM name in upper case. */
    parse_ok("afp://;AUTH=NO%20USER%20AUTHENT@lion.lab.test/Attic", &u);
    assert_string_equal(u.auth, "NO USER AUTHENT");
    sfs_url_free(&u);
}

static void afp_auth_key_case_insensitive(void **state)
{
    (void)state;
    struct sfs_url u;
    parse_ok("afp://alice;auth=Client%20Krb%20v2@lion.lab.test/Multimedia", &u);
    assert_string_equal(u.user, "alice");
    assert_string_equal(u.auth, "Client Krb v2");
    sfs_url_free(&u);
    parse_ok("afp://;Auth=DHCAST128@h/v", &u);
    assert_string_equal(u.auth, "DHCAST128");
    sfs_url_free(&u);
}

static void scheme_case_insensitive(void **state)
{
    (void)state;
    struct sfs_url u;
    parse_ok("AFP://h/v", &u);
    assert_int_equal(u.proto, SFS_PROTO_AFP);
    sfs_url_free(&u);
    parse_ok("SmB://h/v", &u);
    assert_int_equal(u.proto, SFS_PROTO_SMB);
    sfs_url_free(&u);
}

static void afp_user_with_encoded_at(void **state)
{
    (void)state;
    struct sfs_url u;
    parse_ok("afp://alice%40LAB.TEST;AUTH=Client%20Krb%20v2@lion.lab.test/Attic", &u);
    assert_string_equal(u.user, "alice@LAB.TEST");
    sfs_url_free(&u);
    expect_display("afp://alice%40LAB.TEST@h/v", "afp://alice%40LAB.TEST@h/v");
}

static void afp_password_only_user(void **state)
{
    (void)state;
    struct sfs_url u;
    parse_ok("afp://bob:" SECRET "@h/v", &u);
    assert_string_equal(u.user, "bob");
    assert_null(u.auth);
    assert_string_equal(u.password, SECRET);
    sfs_url_free(&u);
}

static void percent_decoding_everywhere(void **state)
{
    (void)state;
    struct sfs_url u;
    parse_ok("afp://J%C3%BCrgen;AUTH=No%20User%20Authent:p%25w%3A@lion%2Elab.test/My%20Volume/Sub%20Dir/f%23.txt",
             &u);
    assert_string_equal(u.user, "J\xc3\xbcrgen");
    assert_string_equal(u.password, "p%w:");
    assert_string_equal(u.host, "lion.lab.test");
    assert_string_equal(u.share, "My Volume");
    assert_string_equal(u.path, "Sub Dir/f#.txt");
    sfs_url_free(&u);
}

static void raw_space_in_share_decoded(void **state)
{
    (void)state;
    struct sfs_url u;
    /* Quoted map locations may hold raw spaces. */
    parse_ok("smb://h/Team Share/a b", &u);
    assert_string_equal(u.share, "Team Share");
    assert_string_equal(u.path, "a b");
    sfs_url_free(&u);
}

/* ---- SMB ---- */

static void smb_basic(void **state)
{
    (void)state;
    struct sfs_url u;
    parse_ok("smb://fs-default.lab.test/user", &u);
    assert_int_equal(u.proto, SFS_PROTO_SMB);
    assert_string_equal(u.host, "fs-default.lab.test");
    assert_string_equal(u.share, "user");
    assert_null(u.path);
    sfs_url_free(&u);
}

static void smb_domain_user_password(void **state)
{
    (void)state;
    struct sfs_url u;
    parse_ok("smb://LAB;labuser:" SECRET "@fs-default.lab.test:1445/Groups/IT", &u);
    assert_string_equal(u.domain, "LAB");
    assert_string_equal(u.user, "labuser");
    assert_string_equal(u.password, SECRET);
    assert_int_equal(u.port, 1445);
    assert_string_equal(u.share, "Groups");
    assert_string_equal(u.path, "IT");
    sfs_url_free(&u);
}

static void smb_domain_user(void **state)
{
    (void)state;
    struct sfs_url u;
    parse_ok("smb://DOM;user@h/s", &u);
    assert_string_equal(u.domain, "DOM");
    assert_string_equal(u.user, "user");
    assert_null(u.password);
    sfs_url_free(&u);
}

static void cifs_double_slash(void **state)
{
    (void)state;
    struct sfs_url u;
    parse_ok("//fs-default.lab.test/public/docs/a", &u);
    assert_int_equal(u.proto, SFS_PROTO_SMB);
    assert_string_equal(u.host, "fs-default.lab.test");
    assert_string_equal(u.share, "public");
    assert_string_equal(u.path, "docs/a");
    sfs_url_free(&u);
}

static void cifs_with_user(void **state)
{
    (void)state;
    struct sfs_url u;
    parse_ok("//labuser@fs-default.lab.test/user", &u);
    assert_int_equal(u.proto, SFS_PROTO_SMB);
    assert_string_equal(u.user, "labuser");
    assert_string_equal(u.share, "user");
    sfs_url_free(&u);
}

static void autofs_colon_slash_slash(void **state)
{
    (void)state;
    struct sfs_url u;
    parse_ok("://fs-default.lab.test/public", &u);
    assert_int_equal(u.proto, SFS_PROTO_SMB);
    assert_string_equal(u.host, "fs-default.lab.test");
    assert_string_equal(u.share, "public");
    sfs_url_free(&u);
}

/* ---- hosts and ports ---- */

static void ipv6_with_port(void **state)
{
    (void)state;
    struct sfs_url u;
    parse_ok("afp://[fe80::1]:548/Attic", &u);
    assert_string_equal(u.host, "fe80::1");
    assert_true(u.host_is_ipv6);
    assert_int_equal(u.port, 548);
    assert_string_equal(u.share, "Attic");
    sfs_url_free(&u);
}

static void ipv6_without_port(void **state)
{
    (void)state;
    struct sfs_url u;
    parse_ok("smb://user@[2001:db8::10]/share", &u);
    assert_string_equal(u.host, "2001:db8::10");
    assert_true(u.host_is_ipv6);
    assert_int_equal(u.port, 0);
    assert_string_equal(u.user, "user");
    sfs_url_free(&u);
}

static void ipv6_zone(void **state)
{
    (void)state;
    struct sfs_url u;
    parse_ok("afp://[fe80::1%25eth0]/v", &u);
    assert_string_equal(u.host, "fe80::1%eth0");
    sfs_url_free(&u);
    expect_display("afp://[fe80::1%25eth0]:548/v", "afp://[fe80::1%25eth0]:548/v");
}

static void port_bounds(void **state)
{
    (void)state;
    struct sfs_url u;
    parse_ok("afp://h:1/v", &u);
    assert_int_equal(u.port, 1);
    sfs_url_free(&u);
    parse_ok("afp://h:65535/v", &u);
    assert_int_equal(u.port, 65535);
    sfs_url_free(&u);
    parse_ok("afp://h:00548/v", &u);
    assert_int_equal(u.port, 548);
    sfs_url_free(&u);
}

static void server_only(void **state)
{
    (void)state;
    struct sfs_url u;
    parse_ok("afp://lion.lab.test", &u);
    assert_string_equal(u.host, "lion.lab.test");
    assert_null(u.share);
    assert_null(u.path);
    sfs_url_free(&u);
    parse_ok("afp://lion.lab.test/", &u);
    assert_null(u.share);
    sfs_url_free(&u);
    parse_ok("smb://h:445", &u);
    assert_int_equal(u.port, 445);
    assert_null(u.share);
    sfs_url_free(&u);
}

static void trailing_slash_dropped(void **state)
{
    (void)state;
    struct sfs_url u;
    parse_ok("afp://h/Attic/", &u);
    assert_string_equal(u.share, "Attic");
    assert_null(u.path);
    sfs_url_free(&u);
    parse_ok("afp://h/Attic/a/b//", &u);
    assert_string_equal(u.path, "a/b");
    sfs_url_free(&u);
}

static void default_ports(void **state)
{
    (void)state;
    struct sfs_url u;
    parse_ok("afp://h/v", &u);
    assert_int_equal(sfs_url_port(&u), 548);
    sfs_url_free(&u);
    parse_ok("//h/v", &u);
    assert_int_equal(sfs_url_port(&u), 445);
    sfs_url_free(&u);
    parse_ok("smb://h:8445/v", &u);
    assert_int_equal(sfs_url_port(&u), 8445);
    sfs_url_free(&u);
    assert_int_equal(sfs_url_port(NULL), 0);
}

static void proto_names(void **state)
{
    (void)state;
    assert_string_equal(sfs_proto_name(SFS_PROTO_AFP), "afp");
    assert_string_equal(sfs_proto_name(SFS_PROTO_SMB), "smb");
    assert_string_equal(sfs_proto_name(SFS_PROTO_UNKNOWN), "unknown");
}

/* ---- errors: one per message, with the column ---- */

static void err_port_out_of_range(void **state)
{
    (void)state;
    expect_error("afp://h:99999/v", 9, "invalid port '99999'");
    expect_error("afp://h:65536/v", 9, "invalid port '65536'");
}

static void err_port_zero(void **state)
{
    (void)state;
    expect_error("afp://h:0/v", 9, "invalid port '0'");
}

static void err_port_not_numeric(void **state)
{
    (void)state;
    expect_error("smb://h:abc/v", 9, "invalid port 'abc'");
    expect_error("smb://h:+445/v", 9, "invalid port '+445'");
    expect_error("smb://h:-1/v", 9, "invalid port '-1'");
}

static void err_port_missing(void **state)
{
    (void)state;
    expect_error("afp://h:/v", 9, "missing port number");
}

static void err_bad_percent_escape(void **state)
{
    (void)state;
    expect_error("afp://h/At%zztic", 11, "bad percent-escape '%zz'");
    expect_error("afp://h/Attic%2", 14, "bad percent-escape");
    expect_error("afp://us%g0er@h/v", 9, "bad percent-escape");
}

static void err_percent_nul(void **state)
{
    (void)state;
    expect_error("afp://h/Attic%00x", 14, "NUL byte (%00)");
    expect_error("afp://u%00@h/v", 8, "NUL byte");
}

static void err_control_chars(void **state)
{
    (void)state;
    expect_error("afp://h/At\x01tic", 11, "control character (0x01)");
    expect_error("afp://h/Attic%0A", 14, "control character (%0A)");
    expect_error("afp://h/At\ttic", 11, "control character (0x09)");
    expect_error("afp://h/x%7F", 10, "control character (%7F)");
}

static void err_unknown_scheme(void **state)
{
    (void)state;
    expect_error("http://h/v", 1, "unsupported scheme 'http'");
    expect_error("nfs://h/export", 1, "unsupported scheme 'nfs'");
}

static void err_not_a_url(void **state)
{
    (void)state;
    expect_error("lion.lab.test/Attic", 1, "not a share URL");
    expect_error(" afp://h/v", 1, "not a share URL");
    expect_error("/local/path", 1, "not a share URL");
}

static void err_scheme_without_slashes(void **state)
{
    (void)state;
    expect_error("afp:/h/v", 5, "expected '//' after 'afp:'");
    expect_error("host:/export", 6, "expected '//'");
}

static void err_empty(void **state)
{
    (void)state;
    struct sfs_url u;
    struct sfs_parse_error err;
    expect_error("", 1, "empty URL");
    assert_int_equal(sfs_url_parse(NULL, &u, &err), -EINVAL);
    assert_string_equal(err.message, "empty URL");
    /* A NULL error pointer is allowed. */
    assert_int_equal(sfs_url_parse("http://x", &u, NULL), -EINVAL);
}

static void err_missing_host(void **state)
{
    (void)state;
    expect_error("afp:///Attic", 7, "missing host");
    expect_error("afp://user@/Attic", 12, "missing host");
    expect_error("//", 3, "missing host");
    expect_error("smb://:445/s", 7, "missing host");
}

static void err_ipv6_unterminated(void **state)
{
    (void)state;
    expect_error("afp://[fe80::1/Attic", 7, "unterminated IPv6 literal");
}

static void err_ipv6_invalid(void **state)
{
    (void)state;
    expect_error("afp://[fe80::zz]/v", 8, "invalid IPv6 address 'fe80::zz'");
    expect_error("afp://[]/v", 8, "empty IPv6 literal");
    expect_error("afp://[::1%25]/v", 11, "empty IPv6 zone");
    expect_error("afp://[::1]x/v", 12, "unexpected character after IPv6 literal");
}

static void err_ipv6_without_brackets(void **state)
{
    (void)state;
    expect_error("afp://fe80::1/v", 7, "must be written in brackets");
}

static void err_bad_host_char(void **state)
{
    (void)state;
    expect_error("afp://li on/v", 9, "invalid character (0x20) in host");
    expect_error("afp://lion!/v", 11, "invalid character '!' in host");
    expect_error("afp://li%2Fon/v", 9, "invalid character '/' in host");
}

static void err_host_too_long(void **state)
{
    (void)state;
    char text[400];
    memset(text, 'a', sizeof(text));
    memcpy(text, "afp://", 6);
    strcpy(text + 6 + 260, "/v");
    expect_error(text, 7, "host name longer than 253");
}

static void err_empty_share(void **state)
{
    (void)state;
    expect_error("afp://h//Attic", 9, "empty share name");
}

static void err_share_with_slash(void **state)
{
    (void)state;
    expect_error("afp://h/a%2Fb", 10, "invalid character '/' in share name");
    expect_error("afp://h/../x", 9, "share name '..' not allowed");
}

static void err_path_components(void **state)
{
    (void)state;
    expect_error("afp://h/v/a/../b", 13, "path component '..' not allowed");
    expect_error("afp://h/v/./b", 11, "path component '.' not allowed");
    expect_error("afp://h/v/a//b", 13, "empty path component");
    expect_error("afp://h/v/a/%2E%2E", 13, "path component '..'");
}

static void err_query_fragment(void **state)
{
    (void)state;
    expect_error("smb://h/s?x=1", 10, "'?' in share name must be written %3F");
    expect_error("smb://h/s/p#frag", 12, "'#' in path must be written %23");
}

static void err_two_at_signs(void **state)
{
    (void)state;
    expect_error("afp://a@b@h/v", 8, "must be written %40");
}

static void err_empty_auth(void **state)
{
    (void)state;
    expect_error("afp://;AUTH=@h/v", 13, "empty ;AUTH= name");
}

static void err_bad_semicolon_afp(void **state)
{
    (void)state;
    expect_error("afp://user;UAM=x@h/v", 11, "expected ';AUTH=uam'");
    expect_error("afp://user;@h/v", 11, "expected ';AUTH=uam'");
}

static void err_auth_after_password(void **state)
{
    (void)state;
    expect_error("afp://u:" SECRET ";AUTH=DHX2@h/v", 8, "';AUTH=uam' must come before ':password'");
}

static void err_empty_user(void **state)
{
    (void)state;
    expect_error("afp://@h/v", 7, "empty user name");
    expect_error("afp://:" SECRET "@h/v", 7, "empty user name");
    expect_error("smb://DOM;@h/v", 11, "empty user name");
    expect_error("smb://:pw@h/v", 7, "empty user name");
}

static void err_empty_domain(void **state)
{
    (void)state;
    expect_error("smb://;user@h/v", 7, "empty domain");
}

/* ---- passwords never leak ---- */

static void password_not_in_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "afp://u:" SECRET "%zz@h/v",
        "afp://u:" SECRET "@h:99999/v",
        "afp://u:Hunter2/Secret@h/v",
        "afp://u:" SECRET ";AUTH=x@h/v",
        "smb://d;u:" SECRET "@@h/s",
        "smb://u:" SECRET "@/s",
        "smb://u:" SECRET "\x01@h/s",
        "smb://u:" SECRET "?@h/s",
        "afp://u:" SECRET "@[zz]/v",
        "smb://u:" SECRET "@h/s/../x",
        NULL,
    };
    for (const char *const *t = bad; *t; t++) {
        struct sfs_url u;
        struct sfs_parse_error err;
        char buf[600];
        assert_int_equal(sfs_url_parse(*t, &u, &err), -EINVAL);
        sfs_parse_error_format(&err, buf, sizeof(buf));
        if (strstr(buf, "Hunter2") || strstr(buf, "Secret"))
            fail_msg("'%s' leaks the password: %s", *t, buf);
    }
}

static void err_port_hint_for_slash_in_password(void **state)
{
    (void)state;
    struct sfs_url u;
    struct sfs_parse_error err;
    assert_int_equal(sfs_url_parse("afp://u:Hunter2/Secret@h/v", &u, &err), -EINVAL);
    assert_int_equal(err.column, 9);
    assert_non_null(strstr(err.message, "must be written %2F"));
    assert_null(strstr(err.message, "Hunter2"));
}

/* ---- display ---- */

static void display_without_password(void **state)
{
    (void)state;
    expect_display("afp://labuser;AUTH=DHX2:" SECRET "@lion.lab.test/Attic",
                   "afp://labuser;AUTH=DHX2@lion.lab.test/Attic");
    expect_display("smb://LAB;labuser:" SECRET "@fs-default.lab.test/user",
                   "smb://LAB;labuser@fs-default.lab.test/user");
    expect_display("smb://labuser:" SECRET "@fs-default.lab.test/user", "smb://labuser@fs-default.lab.test/user");
}

static void display_reencodes(void **state)
{
    (void)state;
    expect_display("afp://;AUTH=No%20User%20Authent@lion.lab.test/Attic",
                   "afp://;AUTH=No%20User%20Authent@lion.lab.test/Attic");
    expect_display("smb://h/Team Share/a b/c%23d%3F", "smb://h/Team%20Share/a%20b/c%23d%3F");
    expect_display("afp://a%3Bb%3Ac@h/v", "afp://a%3Bb%3Ac@h/v");
    expect_display("afp://J%c3%bcrgen@h/v", "afp://J%C3%BCrgen@h/v");
}

static void display_forms(void **state)
{
    (void)state;
    expect_display("//labuser@fs-default.lab.test/user", "smb://labuser@fs-default.lab.test/user");
    expect_display("://fs-default.lab.test/public/x", "smb://fs-default.lab.test/public/x");
    expect_display("afp://h", "afp://h");
    expect_display("afp://h/", "afp://h");
    expect_display("AFP://[::1]:548/v/", "afp://[::1]:548/v");
    expect_display("smb://h:445/C$", "smb://h:445/C$");
    assert_null(sfs_url_to_display(NULL));
}

static void display_round_trip(void **state)
{
    (void)state;
    static const char *const urls[] = {
        "afp://J%C3%BCrgen%40x;AUTH=Client%20Krb%20v2:pw@lion.lab.test:548/My%20Vol/a%2Fb/c",
        "smb://D%3BX;u%3Av@[fe80::1%25en0]:445/s%20s/p%3F",
        "//h/share/sub dir",
        "afp://;AUTH=NO%20USER%20AUTHENT@h",
        NULL,
    };
    for (const char *const *t = urls; *t; t++) {
        struct sfs_url a, b;
        parse_ok(*t, &a);
        char *d = sfs_url_to_display(&a);
        assert_non_null(d);
        parse_ok(d, &b);
        assert_int_equal(a.proto, b.proto);
        assert_str_or_null(b.user, a.user);
        assert_null(b.password);
        assert_str_or_null(b.domain, a.domain);
        assert_str_or_null(b.auth, a.auth);
        assert_str_or_null(b.host, a.host);
        assert_int_equal(a.host_is_ipv6, b.host_is_ipv6);
        assert_int_equal(a.port, b.port);
        assert_str_or_null(b.share, a.share);
        assert_str_or_null(b.path, a.path);
        free(d);
        sfs_url_free(&a);
        sfs_url_free(&b);
    }
}

/* ---- copy, free, error format ---- */

static void copy_is_deep(void **state)
{
    (void)state;
    struct sfs_url a, b;
    parse_ok("smb://LAB;u:" SECRET "@[::1]:99/s/p", &a);
    assert_int_equal(sfs_url_copy(&b, &a), 0);
    sfs_url_free(&a);
    assert_string_equal(b.domain, "LAB");
    assert_string_equal(b.user, "u");
    assert_string_equal(b.password, SECRET);
    assert_string_equal(b.host, "::1");
    assert_true(b.host_is_ipv6);
    assert_int_equal(b.port, 99);
    assert_string_equal(b.share, "s");
    assert_string_equal(b.path, "p");
    sfs_url_free(&b);
    assert_null(b.host);
    sfs_url_free(&b); /* twice is harmless */
    sfs_url_free(NULL);
    assert_int_equal(sfs_url_copy(&b, NULL), -EINVAL);
}

static void error_format(void **state)
{
    (void)state;
    struct sfs_parse_error e = {.line = 3, .column = 7};
    char buf[300];
    snprintf(e.file, sizeof(e.file), "auto_shares");
    snprintf(e.message, sizeof(e.message), "missing host");
    sfs_parse_error_format(&e, buf, sizeof(buf));
    assert_string_equal(buf, "auto_shares:3:7: missing host");
    e.file[0] = '\0';
    e.line = 0;
    sfs_parse_error_format(&e, buf, sizeof(buf));
    assert_string_equal(buf, "col 7: missing host");
    snprintf(e.file, sizeof(e.file), "auto_x");
    sfs_parse_error_format(&e, buf, sizeof(buf));
    assert_string_equal(buf, "auto_x: missing host");
    sfs_parse_error_format(&e, buf, 5);
    assert_string_equal(buf, "auto");
    sfs_parse_error_format(&e, NULL, 0); /* no crash */
}

static void error_format_from_parse(void **state)
{
    (void)state;
    struct sfs_url u;
    struct sfs_parse_error err;
    char buf[300];
    assert_int_equal(sfs_url_parse("afp://h:99999/v", &u, &err), -EINVAL);
    sfs_parse_error_format(&err, buf, sizeof(buf));
    assert_string_equal(buf, "col 9: invalid port '99999' (expected 1-65535)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(afp_basic),
        cmocka_unit_test(afp_full_userinfo),
        cmocka_unit_test(afp_auth_without_user),
        cmocka_unit_test(afp_auth_uppercase_od),
        cmocka_unit_test(afp_auth_key_case_insensitive),
        cmocka_unit_test(scheme_case_insensitive),
        cmocka_unit_test(afp_user_with_encoded_at),
        cmocka_unit_test(afp_password_only_user),
        cmocka_unit_test(percent_decoding_everywhere),
        cmocka_unit_test(raw_space_in_share_decoded),
        cmocka_unit_test(smb_basic),
        cmocka_unit_test(smb_domain_user_password),
        cmocka_unit_test(smb_domain_user),
        cmocka_unit_test(cifs_double_slash),
        cmocka_unit_test(cifs_with_user),
        cmocka_unit_test(autofs_colon_slash_slash),
        cmocka_unit_test(ipv6_with_port),
        cmocka_unit_test(ipv6_without_port),
        cmocka_unit_test(ipv6_zone),
        cmocka_unit_test(port_bounds),
        cmocka_unit_test(server_only),
        cmocka_unit_test(trailing_slash_dropped),
        cmocka_unit_test(default_ports),
        cmocka_unit_test(proto_names),
        cmocka_unit_test(err_port_out_of_range),
        cmocka_unit_test(err_port_zero),
        cmocka_unit_test(err_port_not_numeric),
        cmocka_unit_test(err_port_missing),
        cmocka_unit_test(err_bad_percent_escape),
        cmocka_unit_test(err_percent_nul),
        cmocka_unit_test(err_control_chars),
        cmocka_unit_test(err_unknown_scheme),
        cmocka_unit_test(err_not_a_url),
        cmocka_unit_test(err_scheme_without_slashes),
        cmocka_unit_test(err_empty),
        cmocka_unit_test(err_missing_host),
        cmocka_unit_test(err_ipv6_unterminated),
        cmocka_unit_test(err_ipv6_invalid),
        cmocka_unit_test(err_ipv6_without_brackets),
        cmocka_unit_test(err_bad_host_char),
        cmocka_unit_test(err_host_too_long),
        cmocka_unit_test(err_empty_share),
        cmocka_unit_test(err_share_with_slash),
        cmocka_unit_test(err_path_components),
        cmocka_unit_test(err_query_fragment),
        cmocka_unit_test(err_two_at_signs),
        cmocka_unit_test(err_empty_auth),
        cmocka_unit_test(err_bad_semicolon_afp),
        cmocka_unit_test(err_auth_after_password),
        cmocka_unit_test(err_empty_user),
        cmocka_unit_test(err_empty_domain),
        cmocka_unit_test(password_not_in_errors),
        cmocka_unit_test(err_port_hint_for_slash_in_password),
        cmocka_unit_test(display_without_password),
        cmocka_unit_test(display_reencodes),
        cmocka_unit_test(display_forms),
        cmocka_unit_test(display_round_trip),
        cmocka_unit_test(copy_is_deep),
        cmocka_unit_test(error_format),
        cmocka_unit_test(error_format_from_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
