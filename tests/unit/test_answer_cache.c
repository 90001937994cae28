/* Unit tests for fs/base/answer_cache.c: answers are kept per kind and
 * per address and port, replaced, forgotten, and the oldest gives way. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sharesfs/answer_cache.h"

static struct sfs_addr addr_of(const char *ip, int port)
{
    struct sfs_addr a;
    memset(&a, 0, sizeof(a));
    struct sockaddr_in *in = (struct sockaddr_in *)&a.ss;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    assert_int_equal(inet_pton(AF_INET, ip, &in->sin_addr), 1);
    a.len = sizeof(*in);
    snprintf(a.text, sizeof(a.text), "%s", ip);
    return a;
}

static void kept_per_kind_address_and_port(void **state)
{
    (void)state;
    struct sfs_addr a = addr_of("127.0.0.9", 445), other_port = addr_of("127.0.0.9", 548),
                    other_ip = addr_of("127.0.0.10", 445);
    uint32_t answer = 0x11223344, got = 0;
    char owner[64] = "";
    assert_false(sfs_answer_cache_get("smb NT1..SMB3_11", &a, &got, sizeof(got), owner, sizeof(owner)));
    sfs_answer_cache_put("smb NT1..SMB3_11", &a, &answer, sizeof(answer), "/Network/Shares/A");
    assert_true(sfs_answer_cache_get("smb NT1..SMB3_11", &a, &got, sizeof(got), owner, sizeof(owner)));
    assert_int_equal(got, answer);
    assert_string_equal(owner, "/Network/Shares/A");
    assert_false(sfs_answer_cache_get("smb SMB2_02..SMB3_11", &a, &got, sizeof(got), owner, sizeof(owner)));
    assert_false(sfs_answer_cache_get("smb NT1..SMB3_11", &other_port, &got, sizeof(got), owner, sizeof(owner)));
    assert_false(sfs_answer_cache_get("smb NT1..SMB3_11", &other_ip, &got, sizeof(got), owner, sizeof(owner)));
    /* Another size is another kind of answer: never copied short or long. */
    uint64_t wide = 0;
    assert_false(sfs_answer_cache_get("smb NT1..SMB3_11", &a, &wide, sizeof(wide), owner, sizeof(owner)));
    sfs_answer_cache_forget("smb NT1..SMB3_11", &a);
    assert_false(sfs_answer_cache_get("smb NT1..SMB3_11", &a, &got, sizeof(got), owner, sizeof(owner)));
}

static void replaced_then_oldest_gives_way(void **state)
{
    (void)state;
    struct sfs_addr a = addr_of("127.0.0.20", 548);
    uint32_t v = 1, got = 0;
    char owner[64];
    sfs_answer_cache_put("afp", &a, &v, sizeof(v), "first");
    v = 2;
    sfs_answer_cache_put("afp", &a, &v, sizeof(v), "second");
    assert_true(sfs_answer_cache_get("afp", &a, &got, sizeof(got), owner, sizeof(owner)));
    assert_int_equal(got, 2);
    assert_string_equal(owner, "second");
    /* Many more servers than slots: the most recent ones are all kept. */
    for (int i = 0; i < 100; i++) {
        char ip[32];
        snprintf(ip, sizeof(ip), "127.0.1.%d", i);
        struct sfs_addr b = addr_of(ip, 548);
        uint32_t n = (uint32_t)i;
        sfs_answer_cache_put("afp", &b, &n, sizeof(n), ip);
    }
    assert_false(sfs_answer_cache_get("afp", &a, &got, sizeof(got), owner, sizeof(owner)));
    for (int i = 96; i < 100; i++) {
        char ip[32];
        snprintf(ip, sizeof(ip), "127.0.1.%d", i);
        struct sfs_addr b = addr_of(ip, 548);
        assert_true(sfs_answer_cache_get("afp", &b, &got, sizeof(got), owner, sizeof(owner)));
        assert_int_equal(got, (uint32_t)i);
        assert_string_equal(owner, ip);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kept_per_kind_address_and_port),
        cmocka_unit_test(replaced_then_oldest_gives_way),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
