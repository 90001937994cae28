/* The resolve stage: literal addresses are taken as they are (no lookup,
 * no address-family filter), names go through the resolver. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sharesfs/net.h"

static void ipv4_literal_keeps_address_and_port(void **state)
{
    (void)state;
    struct sfs_addr a;
    struct sfs_status st = {0};
    assert_int_equal(sfs_net_resolve("127.0.0.9", 548, &a, &st), 0);
    assert_int_equal(a.ss.ss_family, AF_INET);
    assert_int_equal(a.len, sizeof(struct sockaddr_in));
    const struct sockaddr_in *in = (const struct sockaddr_in *)&a.ss;
    assert_int_equal(ntohs(in->sin_port), 548);
    assert_string_equal(a.text, "127.0.0.9");
}

static void ipv6_literal_resolves_without_ipv6_configured(void **state)
{
    (void)state;
    struct sfs_addr a;
    struct sfs_status st = {0};
    /* AI_ADDRCONFIG alone would refuse this on a host with no IPv6 address. */
    assert_int_equal(sfs_net_resolve("::1", 445, &a, &st), 0);
    assert_int_equal(a.ss.ss_family, AF_INET6);
    assert_int_equal(ntohs(((const struct sockaddr_in6 *)&a.ss)->sin6_port), 445);
    assert_string_equal(a.text, "::1");
}

static void name_goes_through_the_resolver(void **state)
{
    (void)state;
    struct sfs_addr a;
    struct sfs_status st = {0};
    /* /etc/hosts: no DNS needed. */
    assert_int_equal(sfs_net_resolve("localhost", 139, &a, &st), 0);
    assert_true(strcmp(a.text, "127.0.0.1") == 0 || strcmp(a.text, "::1") == 0);
}

static void malformed_literal_is_a_resolve_failure(void **state)
{
    (void)state;
    struct sfs_addr a;
    struct sfs_status st = {0};
    /* Not a literal and not a valid host name: the resolver refuses it
     * without asking a server. */
    int rc = sfs_net_resolve("127.0.0.1:548", 548, &a, &st);
    assert_true(rc < 0);
    assert_int_equal(st.stage, SFS_STAGE_RESOLVE);
    assert_non_null(strstr(st.detail, "127.0.0.1:548"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipv4_literal_keeps_address_and_port),
        cmocka_unit_test(ipv6_literal_resolves_without_ipv6_configured),
        cmocka_unit_test(name_goes_through_the_resolver),
        cmocka_unit_test(malformed_literal_is_a_resolve_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
