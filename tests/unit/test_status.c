/* The errno table: every protocol status the lab produces maps to the errno
 * and stage docs/errno.md promises. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sharesfs/status.h"

static void test_ntstatus_errno(void **state)
{
    (void)state;
    assert_int_equal(sfs_errno_for_ntstatus(0xc000006d), EACCES);
    assert_int_equal(sfs_errno_for_ntstatus(0xc0000022), EACCES);
    assert_int_equal(sfs_errno_for_ntstatus(0xc00000cc), ENOENT);
    assert_int_equal(sfs_errno_for_ntstatus(0xc0000236), ECONNREFUSED);
    assert_int_equal(sfs_errno_for_ntstatus(0xc000023d), EHOSTUNREACH);
    assert_int_equal(sfs_errno_for_ntstatus(0xc00000b5), ETIMEDOUT);
    assert_int_equal(sfs_errno_for_ntstatus(0xc00000bb), EPROTONOSUPPORT);
    assert_int_equal(sfs_errno_for_ntstatus(0xc0000418), EPROTONOSUPPORT);
    assert_int_equal(sfs_errno_for_ntstatus(0xc0000071), EKEYEXPIRED);
    /* Removing what has the DOS read-only attribute (Samba 4.13, 4.17, 4.22). */
    assert_int_equal(sfs_errno_for_ntstatus(0xc0000121), EACCES);
    assert_int_equal(sfs_errno_for_ntstatus(0x12345678), EIO);
}

static void test_ntstatus_stage(void **state)
{
    (void)state;
    assert_int_equal(sfs_stage_for_ntstatus(0xc000006d, SFS_STAGE_MOUNT), SFS_STAGE_AUTHENTICATE);
    assert_int_equal(sfs_stage_for_ntstatus(0xc00000cc, SFS_STAGE_AUTHENTICATE), SFS_STAGE_MOUNT);
    /* ACCESS_DENIED happens at session setup and at tree connect: caller decides. */
    assert_int_equal(sfs_stage_for_ntstatus(0xc0000022, SFS_STAGE_MOUNT), SFS_STAGE_MOUNT);
    assert_int_equal(sfs_stage_for_ntstatus(0xc0000022, SFS_STAGE_AUTHENTICATE), SFS_STAGE_AUTHENTICATE);
    assert_int_equal(sfs_stage_for_ntstatus(0xc00000c3, SFS_STAGE_AUTHENTICATE), SFS_STAGE_NEGOTIATE);
}

static void test_ntstatus_names(void **state)
{
    (void)state;
    assert_string_equal(sfs_ntstatus_name(0xc000006d), "NT_STATUS_LOGON_FAILURE");
    assert_string_equal(sfs_ntstatus_name(0xc0000121), "NT_STATUS_CANNOT_DELETE");
    assert_null(sfs_ntstatus_name(0xdeadbeef));
    uint32_t code = 0;
    assert_true(sfs_ntstatus_from_name("NT_STATUS_BAD_NETWORK_NAME", &code));
    assert_int_equal(code, 0xc00000cc);
    assert_false(sfs_ntstatus_from_name("NT_STATUS_NOPE", &code));
}

static void test_afp_results(void **state)
{
    (void)state;
    assert_int_equal(sfs_errno_for_afp(-5023), EACCES);
    assert_int_equal(sfs_errno_for_afp(-5002), EPROTONOSUPPORT);
    assert_int_equal(sfs_errno_for_afp(-5018), ENOENT);
    assert_int_equal(sfs_errno_for_afp(-5019), EINVAL);
    assert_int_equal(sfs_errno_for_afp(-5009), 0);
    assert_int_equal(sfs_errno_for_afp(-1), EIO);
    assert_string_equal(sfs_afp_result_name(-5023), "kFPUserNotAuth");
    assert_null(sfs_afp_result_name(-4999));
    /* One row per result: a name, and an errno with a name of its own
     * (a report's "result" is that name). */
    for (int32_t code = -5047; code <= -5000; code++) {
        assert_non_null(sfs_afp_result_name(code));
        int err = sfs_errno_for_afp(code);
        assert_true(err == 0 || sfs_errno_name(err) != NULL);
    }
}

static void test_ldap_results(void **state)
{
    (void)state;
    static const struct {
        int code;
        const char *name;
        int err;
    } rows[] = {
        {0, "success", 0},
        {49, "invalidCredentials", EACCES},
        {48, "inappropriateAuthentication", EACCES},
        {50, "insufficientAccessRights", EACCES},
        {8, "strongerAuthRequired", EACCES},
        {13, "confidentialityRequired", EACCES},
        {7, "authMethodNotSupported", EPROTONOSUPPORT},
        {32, "noSuchObject", ENOENT},
        {34, "invalidDNSyntax", EINVAL},
        {51, "busy", EAGAIN},
        {52, "unavailable", EAGAIN},
        {53, "unwillingToPerform", EPERM},
        {3, "timeLimitExceeded", ETIMEDOUT},
        {4, "sizeLimitExceeded", E2BIG},
        {11, "adminLimitExceeded", E2BIG},
        {2, "protocolError", EPROTO},
        {1, "operationsError", EIO},
        {80, "other", EIO},
        {10, "referral", EREMOTE},
        {-1, "LDAP_SERVER_DOWN", EIO},
        {-4, "LDAP_DECODING_ERROR", EPROTO},
        {-5, "LDAP_TIMEOUT", ETIMEDOUT},
        {-11, "LDAP_CONNECT_ERROR", EKEYREJECTED},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        assert_string_equal(sfs_ldap_result_name(rows[i].code), rows[i].name);
        assert_int_equal(sfs_errno_for_ldap(rows[i].code), rows[i].err);
    }
    assert_null(sfs_ldap_result_name(9999));
    assert_int_equal(sfs_errno_for_ldap(9999), EIO);
    assert_null(sfs_ldap_result_name(-99));
    /* Every row's errno has a name (reports print it). */
    for (int code = -20; code <= 130; code++) {
        int err = sfs_errno_for_ldap(code);
        assert_true(err == 0 || sfs_errno_name(err) != NULL);
    }
}

static void test_code_text(void **state)
{
    (void)state;
    struct sfs_status st;
    char buf[96];
    sfs_status_set(&st, SFS_STAGE_AUTHENTICATE, EACCES, SFS_DOMAIN_SMB, 0xc000006d, "x");
    sfs_status_code_text(&st, buf, sizeof(buf));
    assert_string_equal(buf, "NT_STATUS_LOGON_FAILURE (0xc000006d)");
    sfs_status_set(&st, SFS_STAGE_AUTHENTICATE, EACCES, SFS_DOMAIN_AFP, -5023, "x");
    sfs_status_code_text(&st, buf, sizeof(buf));
    assert_string_equal(buf, "kFPUserNotAuth (-5023)");
    sfs_status_set(&st, SFS_STAGE_CONNECT, ECONNREFUSED, SFS_DOMAIN_SYS, ECONNREFUSED, "x");
    sfs_status_code_text(&st, buf, sizeof(buf));
    assert_string_equal(buf, "");
    sfs_status_set(&st, SFS_STAGE_MAP, EACCES, SFS_DOMAIN_LDAP, 49, "x");
    sfs_status_code_text(&st, buf, sizeof(buf));
    assert_string_equal(buf, "invalidCredentials (49)");
    sfs_status_set(&st, SFS_STAGE_MAP, ETIMEDOUT, SFS_DOMAIN_LDAP, -5, "x");
    sfs_status_code_text(&st, buf, sizeof(buf));
    assert_string_equal(buf, "LDAP_TIMEOUT (-5)");
    sfs_status_set(&st, SFS_STAGE_MAP, EIO, SFS_DOMAIN_LDAP, 4242, "x");
    sfs_status_code_text(&st, buf, sizeof(buf));
    assert_string_equal(buf, "LDAP result (4242)");
}

static void test_status_set(void **state)
{
    (void)state;
    struct sfs_status st;
    int rc = sfs_status_set(&st, SFS_STAGE_MOUNT, ENOENT, SFS_DOMAIN_SMB, 0xc00000cc, "share %s", "nope");
    assert_int_equal(rc, -ENOENT);
    assert_string_equal(st.detail, "share nope");
    assert_int_equal(st.stage, SFS_STAGE_MOUNT);
    char long_text[2000];
    memset(long_text, 'a', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    sfs_status_set(&st, SFS_STAGE_MOUNT, ENOENT, SFS_DOMAIN_SYS, 0, "%s", long_text);
    assert_int_equal(strlen(st.detail), SFS_DETAIL_MAX - 1);
    sfs_status_clear(&st);
    assert_int_equal(st.err, 0);
}

/* A layer above names what the layer below did not know; the rest stays. */
static void test_status_prefix(void **state)
{
    (void)state;
    struct sfs_status st;
    sfs_status_set(&st, SFS_STAGE_AUTHENTICATE, EACCES, SFS_DOMAIN_CONFIG, 7, "file is a FIFO");
    assert_int_equal(sfs_status_prefix(&st, "%s: ", "Team"), -EACCES);
    assert_string_equal(st.detail, "Team: file is a FIFO");
    assert_int_equal(st.stage, SFS_STAGE_AUTHENTICATE);
    assert_int_equal(st.domain, SFS_DOMAIN_CONFIG);
    assert_int_equal(st.code, 7);
    /* Too long: cut at the end, still terminated. */
    char long_text[2000];
    memset(long_text, 'b', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    sfs_status_prefix(&st, "%s", long_text);
    assert_int_equal(strlen(st.detail), SFS_DETAIL_MAX - 1);
    assert_int_equal(st.detail[0], 'b');
    sfs_status_set(&st, SFS_STAGE_MAP, EIO, SFS_DOMAIN_SYS, 0, "tail");
    memset(long_text, 'c', SFS_DETAIL_MAX - 3);
    long_text[SFS_DETAIL_MAX - 3] = '\0';
    sfs_status_prefix(&st, "%s", long_text);
    assert_int_equal(strlen(st.detail), SFS_DETAIL_MAX - 1);
    assert_memory_equal(st.detail + SFS_DETAIL_MAX - 3, "ta", 2);
    assert_int_equal(sfs_status_prefix(NULL, "x"), 0);
}

static void test_macos_equivalent(void **state)
{
    (void)state;
    struct sfs_status st;
    sfs_status_set(&st, SFS_STAGE_AUTHENTICATE, EACCES, SFS_DOMAIN_SMB, 0xc000006d, "x");
    assert_string_equal(sfs_macos_equivalent(&st), "EAUTH (80)");
    sfs_status_set(&st, SFS_STAGE_MOUNT, EINVAL, SFS_DOMAIN_AFP, -5019, "x");
    assert_string_equal(sfs_macos_equivalent(&st), "EINVAL (22)");
    sfs_status_set(&st, SFS_STAGE_CONNECT, ECONNREFUSED, SFS_DOMAIN_SYS, 0, "x");
    assert_string_equal(sfs_macos_equivalent(&st), "ECONNREFUSED (61)");
    sfs_status_set(&st, SFS_STAGE_MOUNT, ENOENT, SFS_DOMAIN_SMB, 0xc00000cc, "x");
    assert_null(sfs_macos_equivalent(&st));
    sfs_status_clear(&st);
    assert_null(sfs_macos_equivalent(&st));
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(sfs_stage_name(SFS_STAGE_NEGOTIATE), "negotiate");
    /* Every stage has a name; "map" comes right after "parse". */
    for (int s = 0; s < SFS_STAGE_COUNT; s++)
        assert_string_not_equal(sfs_stage_name((enum sfs_stage)s), "?");
    assert_int_equal(SFS_STAGE_MAP, SFS_STAGE_PARSE + 1);
    assert_string_equal(sfs_stage_name(SFS_STAGE_MAP), "map");
    assert_string_equal(sfs_stage_name(SFS_STAGE_WRITE), "write");
    assert_string_equal(sfs_domain_name(SFS_DOMAIN_LDAP), "ldap");
    assert_string_equal(sfs_errno_name(E2BIG), "E2BIG");
    assert_string_equal(sfs_stage_name((enum sfs_stage)99), "?");
    assert_string_equal(sfs_errno_name(EHOSTUNREACH), "EHOSTUNREACH");
    assert_string_equal(sfs_errno_name(ENOKEY), "ENOKEY");
    assert_string_equal(sfs_errno_name(EPIPE), "EPIPE");   /* a peer gone while we send */
    assert_null(sfs_errno_name(9999));
    assert_string_equal(sfs_domain_name(SFS_DOMAIN_KRB5), "krb5");
}

/* Write-behind: the first failure is kept, reported by every write, and
 * forgotten once fsync or close reported it. */
static void test_write_error(void **state)
{
    (void)state;
    struct sfs_write_error we = {0};
    struct sfs_status st = {0}, got = {0};
    assert_int_equal(sfs_write_error_report(&we, false, &got), 0);
    sfs_write_error_keep(&we, 0, &st);
    assert_int_equal(we.err, 0);
    sfs_status_set(&st, SFS_STAGE_READ, ENOSPC, SFS_DOMAIN_SYS, ENOSPC, "disk full");
    sfs_write_error_keep(&we, -ENOSPC, &st);
    sfs_status_set(&st, SFS_STAGE_READ, EIO, SFS_DOMAIN_SYS, EIO, "later");
    sfs_write_error_keep(&we, -EIO, &st);
    assert_int_equal(sfs_write_error_report(&we, false, &got), -ENOSPC);
    assert_int_equal(got.err, ENOSPC);
    assert_int_equal(got.stage, SFS_STAGE_WRITE);
    assert_string_equal(got.detail, "disk full");
    assert_int_equal(sfs_write_error_report(&we, true, &got), -ENOSPC);
    memset(&got, 0, sizeof(got));
    assert_int_equal(sfs_write_error_report(&we, true, &got), 0);
    assert_int_equal(got.err, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ntstatus_errno),  cmocka_unit_test(test_ntstatus_stage),
        cmocka_unit_test(test_ntstatus_names),  cmocka_unit_test(test_afp_results),
        cmocka_unit_test(test_code_text),       cmocka_unit_test(test_status_set),
        cmocka_unit_test(test_status_prefix),
        cmocka_unit_test(test_ldap_results),
        cmocka_unit_test(test_macos_equivalent), cmocka_unit_test(test_names),
        cmocka_unit_test(test_write_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
