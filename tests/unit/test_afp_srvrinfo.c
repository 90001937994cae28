/* FPGetSrvrInfo (DSIGetStatus) parsing on recorded netatalk replies and on
 * synthetic ones for the quirks and address tags the captures lack. */
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
#include "afp/afp_srvrinfo.h"
#include "afp/afp_srvrmsg.h"

#include "afp_vectors.h"

static struct afpv_file p01;
static const struct afpv_msg *status;   /* the 514-byte reply */

static int setup(void **state)
{
    (void)state;
    if (afpv_load(AFPV_DIR "p01-getstatus.dsi.txt", &p01))
        return -1;
    status = afpv_find_dsi(&p01, "DSIGetStatus", true, 0);
    return status ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    afpv_free(&p01);
    return 0;
}

static void test_request_bytes(void **state)
{
    (void)state;
    struct afp_writer w;
    const struct afpv_msg *req = afpv_find_dsi(&p01, "DSIGetStatus", false, 0);
    assert_non_null(req);
    afp_writer_init(&w);
    assert_int_equal(afp_encode_getsrvrinfo(&w), 0);
    assert_int_equal(w.len, req->payload_len);
    assert_memory_equal(w.buf, req->payload, w.len);
    afp_writer_free(&w);
}

static void test_p01_decoded(void **state)
{
    (void)state;
    static const char *versions[] = {
        "AFPVersion 1.1", "AFPVersion 2.0", "AFPVersion 2.1", "AFP2.2", "AFPX03",
        "AFP3.1", "AFP3.2", "AFP3.3", "AFP3.4",
    };
    static const char *uams[] = {
        "Client Krb v2", "DHX2", "DHCAST128", "Cleartxt Passwrd", "No User Authent",
    };
    struct afp_srvrinfo *si = malloc(sizeof(*si));
    char addr[64];

    assert_int_equal(status->payload_len, 514);
    assert_int_equal(afp_srvrinfo_parse(status->payload, status->payload_len, si), 0);
    assert_int_equal(si->flags, 0x8f7d);
    assert_int_equal(si->flags & (kSupportsChgPwd | kSupportsReconnect), 0);
    assert_string_equal(si->server_name, "vm");
    assert_string_equal(si->machine_type, "Netatalk4.0.3dev");
    assert_int_equal(si->n_versions, 9);
    assert_int_equal(si->n_versions_total, 9);
    for (size_t i = 0; i < 9; i++)
        assert_string_equal(si->versions[i], versions[i]);
    assert_int_equal(si->n_uams, 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(si->uams[i], uams[i]);
    assert_true(si->has_icon);
    assert_int_equal(si->icon_offset, 0x00be);
    assert_true(si->has_signature);
    assert_memory_equal(si->signature, "NETATALKLABSIG01", 16);
    assert_int_equal(si->n_addrs, 2);
    assert_int_equal(si->addrs[0].tag, AFP_ADDR_IPV4);
    afp_net_addr_format(&si->addrs[0], addr, sizeof(addr));
    assert_string_equal(addr, "127.0.0.1");
    assert_int_equal(si->addrs[1].tag, AFP_ADDR_DNS);
    assert_string_equal(si->addrs[1].dns, "localhost");
    assert_string_equal(afp_addr_tag_name(si->addrs[1].tag), "DNS");
    assert_int_equal(si->n_dirnames, 1);
    assert_string_equal(si->dirnames[0], "afpserver/localhost@LAB.TEST");
    assert_true(si->has_utf8_name);
    assert_string_equal(si->utf8_name, "vm");
    assert_int_equal(si->quirks, 0);

    assert_true(afp_srvrinfo_has_uam(si, "dhx2"));
    assert_true(afp_srvrinfo_has_uam(si, "NO USER AUTHENT"));
    assert_false(afp_srvrinfo_has_uam(si, "DHX"));
    assert_false(afp_srvrinfo_has_uam(si, "Randnum Exchange"));
    assert_true(afp_srvrinfo_has_version(si, "AFP3.4"));
    free(si);
}

/* Every scenario starts with the same status reply; afpfs-ng's empty
 * DSIGetStatus request gets the same answer too. */
static void test_all_captures_parse(void **state)
{
    (void)state;
    static const char *names[] = {
        "p02-guest-public-enum-read", "p03-clrtxt-private-enum-read",
        "p04-dhcast128-private-enum-read", "p05-dhx2-private-enum-read",
        "p06-krbv2-gss-private-enum-read", "a20-afpfsng-getstatus",
        "a21-afpfsng-guest-public", "a24-afpfsng-dhx2-private",
    };
    struct afp_srvrinfo *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
    assert_int_equal(afp_srvrinfo_parse(status->payload, status->payload_len, a), 0);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[512];
        struct afpv_file f;
        snprintf(path, sizeof(path), AFPV_DIR "%s.dsi.txt", names[i]);
        assert_int_equal(afpv_load(path, &f), 0);
        const struct afpv_msg *m = afpv_find_dsi(&f, "DSIGetStatus", true, 0);
        assert_non_null(m);
        assert_int_equal(afp_srvrinfo_parse(m->payload, m->payload_len, b), 0);
        assert_int_equal(memcmp(a, b, sizeof(*a)), 0);
        afpv_free(&f);
    }
    free(a);
    free(b);
}

static void test_version_pick(void **state)
{
    (void)state;
    struct afp_srvrinfo *si = malloc(sizeof(*si));
    struct afp_version_choice v;
    char detail[256];

    assert_int_equal(afp_srvrinfo_parse(status->payload, status->payload_len, si), 0);
    assert_int_equal(afp_version_pick(si, &v, detail, sizeof(detail)), 0);
    assert_string_equal(v.name, "AFP3.4");
    assert_int_equal(v.number, 34);

    /* A server that stops at AFP3.1 */
    si->n_versions = 6;
    assert_int_equal(afp_version_pick(si, &v, detail, sizeof(detail)), 0);
    assert_string_equal(v.name, "AFP3.1");

    /* An AFP 2.x server */
    si->n_versions = 4;
    assert_int_equal(afp_version_pick(si, &v, detail, sizeof(detail)), -EPROTONOSUPPORT);
    assert_null(v.name);
    assert_non_null(strstr(detail, "AFP 2.2 and older"));
    assert_non_null(strstr(detail, "\"AFPVersion 2.1\""));

    /* Nothing known */
    strcpy(si->versions[0], "AFP9.9");
    si->n_versions = 1;
    assert_int_equal(afp_version_pick(si, &v, detail, sizeof(detail)), -EPROTONOSUPPORT);
    assert_non_null(strstr(detail, "no AFP version in common"));

    assert_int_equal(afp_version_number("AFPX03"), 30);
    assert_int_equal(afp_version_number("AFPVersion 2.1"), 21);
    assert_int_equal(afp_version_number("AFP3.5"), 0);
    free(si);
}

/* Every proper prefix of the real reply is an error. */
static void test_truncated(void **state)
{
    (void)state;
    struct afp_srvrinfo *si = malloc(sizeof(*si));
    for (size_t n = 0; n < status->payload_len; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, status->payload, n);
        int rc = afp_srvrinfo_parse(copy, n, si);
        if (rc != -EPROTO)
            fail_msg("prefix of %zu bytes: rc %d", n, rc);
        free(copy);
    }
    assert_int_equal(afp_srvrinfo_parse(NULL, 0, si), -EPROTO);
    free(si);
}

/* Corrupting any byte gives 0 or -EPROTO, never a crash (ASan/UBSan). */
static void test_corrupted(void **state)
{
    (void)state;
    static const uint8_t xors[] = { 0x01, 0x80, 0xff, 0x7f, 0x10 };
    struct afp_srvrinfo *si = malloc(sizeof(*si));
    size_t n = status->payload_len, ok = 0, bad = 0;
    uint8_t *copy = malloc(n);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < sizeof(xors); k++) {
            memcpy(copy, status->payload, n);
            copy[i] ^= xors[k];
            int rc = afp_srvrinfo_parse(copy, n, si);
            if (rc != 0 && rc != -EPROTO)
                fail_msg("byte %zu ^ %02x: rc %d", i, xors[k], rc);
            rc ? bad++ : ok++;
        }
        /* and the same at a few fixed values */
        for (unsigned v = 0; v < 256; v += 51) {
            memcpy(copy, status->payload, n);
            copy[i] = (uint8_t)v;
            int rc = afp_srvrinfo_parse(copy, n, si);
            assert_true(rc == 0 || rc == -EPROTO);
        }
    }
    /* Offsets and counts are checked: some corruptions must be refused. */
    assert_true(bad > 0);
    assert_true(ok > 0);
    free(copy);
    free(si);
}

static void set_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* The UTF-8 server name offset is at byte 20 of this reply. */
static void test_offset_one_byte_off(void **state)
{
    (void)state;
    struct afp_srvrinfo *si = malloc(sizeof(*si));
    size_t n = status->payload_len;
    uint8_t *copy = malloc(n + 1);

    memcpy(copy, status->payload, n);
    assert_int_equal(copy[20] << 8 | copy[21], 510);

    /* advertised one byte before the name (afpfs-ng's netatalk workaround) */
    set_u16(copy + 20, 509);
    assert_int_equal(afp_srvrinfo_parse(copy, n, si), 0);
    assert_string_equal(si->utf8_name, "vm");
    assert_int_equal(si->quirks, AFP_SI_QUIRK_OFFSET_SHORT);

    /* advertised one byte after */
    set_u16(copy + 20, 511);
    assert_int_equal(afp_srvrinfo_parse(copy, n, si), 0);
    assert_string_equal(si->utf8_name, "vm");
    assert_int_equal(si->quirks, AFP_SI_QUIRK_OFFSET_LONG);

    /* two bytes off is not tolerated */
    set_u16(copy + 20, 508);
    assert_int_equal(afp_srvrinfo_parse(copy, n, si), -EPROTO);

    /* the versions list (offset 0x27) one byte early */
    memcpy(copy, status->payload, n);
    set_u16(copy + 2, 0x26);
    assert_int_equal(afp_srvrinfo_parse(copy, n, si), 0);
    assert_int_equal(si->n_versions, 9);
    assert_int_equal(si->quirks, AFP_SI_QUIRK_OFFSET_SHORT);

    /* UTF-8 name whose length counts a NUL (appended at the end) */
    memcpy(copy, status->payload, n);
    set_u16(copy + 510, 3);
    copy[n] = 0;
    assert_int_equal(afp_srvrinfo_parse(copy, n + 1, si), 0);
    assert_string_equal(si->utf8_name, "vm");
    assert_int_equal(si->quirks, AFP_SI_QUIRK_UTF8_NAME_NUL);

    free(copy);
    free(si);
}


static void patch(struct afp_writer *w, size_t at, size_t value)
{
    set_u16(w->buf + at, (uint16_t)value);
}

static void test_afp2_server(void **state)
{
    (void)state;
    struct afp_writer w;
    struct afp_srvrinfo *si = malloc(sizeof(*si));
    struct afp_version_choice v;
    char detail[256];

    afp_writer_init(&w);
    afp_write_zeros(&w, 8);                 /* four offsets, patched below */
    afp_write_u16(&w, kSupportsCopyFile | kSupportsChgPwd);
    afp_write_pstring(&w, "Old Mac");       /* ends at 18: even, no pad */
    patch(&w, 0, w.len);
    afp_write_pstring(&w, "Macintosh");
    patch(&w, 2, w.len);
    afp_write_u8(&w, 2);
    afp_write_pstring(&w, "AFPVersion 2.1");
    afp_write_pstring(&w, "AFP2.2");
    patch(&w, 4, w.len);
    afp_write_u8(&w, 2);
    afp_write_pstring(&w, "Cleartxt Passwrd");
    afp_write_pstring(&w, "Randnum Exchange");
    assert_int_equal(afp_writer_error(&w), 0);

    assert_int_equal(afp_srvrinfo_parse(w.buf, w.len, si), 0);
    assert_string_equal(si->server_name, "Old Mac");
    assert_string_equal(si->machine_type, "Macintosh");
    assert_false(si->has_signature);
    assert_false(si->has_utf8_name);
    assert_false(si->has_icon);
    assert_int_equal(si->n_addrs, 0);
    assert_int_equal(afp_version_pick(si, &v, detail, sizeof(detail)), -EPROTONOSUPPORT);
    assert_non_null(strstr(detail, "AFP 2.2"));
    afp_writer_free(&w);
    free(si);
}

static void test_address_tags(void **state)
{
    (void)state;
    static const uint8_t v6[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    struct afp_writer w;
    struct afp_srvrinfo *si = malloc(sizeof(*si));
    char buf[80];

    afp_writer_init(&w);
    afp_write_zeros(&w, 8);
    afp_write_u16(&w, kSupportsTCP | kSrvrSig);
    afp_write_pstring(&w, "s");             /* 10 + 2 = 12 */
    afp_write_zeros(&w, 8);                 /* sig, addrs, dirs, utf8 offsets at 12..19 */
    patch(&w, 0, w.len);
    afp_write_pstring(&w, "M");
    patch(&w, 2, w.len);
    afp_write_u8(&w, 1);
    afp_write_pstring(&w, "AFP3.3");
    patch(&w, 4, w.len);
    afp_write_u8(&w, 1);
    afp_write_pstring(&w, "DHX2");
    patch(&w, 12, w.len);
    afp_write_bytes(&w, "0123456789abcdef", 16);
    patch(&w, 14, w.len);
    afp_write_u8(&w, 6);
    afp_write_bytes(&w, (uint8_t[]){ 8, AFP_ADDR_IPV4_PORT, 10, 0, 0, 1, 0x02, 0x24 }, 8);
    afp_write_bytes(&w, (uint8_t[]){ 6, AFP_ADDR_DDP, 0xff, 0x01, 0x80, 0x04 }, 6);
    afp_write_u8(&w, 18);
    afp_write_u8(&w, AFP_ADDR_IPV6);
    afp_write_bytes(&w, v6, 16);
    afp_write_u8(&w, 20);
    afp_write_u8(&w, AFP_ADDR_IPV6_PORT);
    afp_write_bytes(&w, v6, 16);
    afp_write_u16(&w, 548);
    afp_write_bytes(&w, (uint8_t[]){ 8, AFP_ADDR_SSH_TUNNEL, 192, 168, 1, 2, 0, 22 }, 8);
    afp_write_bytes(&w, (uint8_t[]){ 5, 0x42, 1, 2, 3 }, 5);     /* unknown tag */
    assert_int_equal(afp_writer_error(&w), 0);

    assert_int_equal(afp_srvrinfo_parse(w.buf, w.len, si), 0);
    assert_true(si->has_signature);
    assert_memory_equal(si->signature, "0123456789abcdef", 16);
    assert_int_equal(si->n_addrs, 6);
    afp_net_addr_format(&si->addrs[0], buf, sizeof(buf));
    assert_string_equal(buf, "10.0.0.1:548");
    afp_net_addr_format(&si->addrs[1], buf, sizeof(buf));
    assert_string_equal(buf, "ddp 65281.128:4");
    afp_net_addr_format(&si->addrs[2], buf, sizeof(buf));
    assert_string_equal(buf, "fe80:0:0:0:0:0:0:1");
    afp_net_addr_format(&si->addrs[3], buf, sizeof(buf));
    assert_string_equal(buf, "[fe80:0:0:0:0:0:0:1]:548");
    afp_net_addr_format(&si->addrs[4], buf, sizeof(buf));
    assert_string_equal(buf, "192.168.1.2:22");
    assert_int_equal(si->addrs[5].tag, 0x42);
    assert_int_equal(si->addrs[5].len, 3);
    assert_string_equal(afp_addr_tag_name(0x42), "unknown");

    /* an IPv4 entry of the wrong length is refused */
    size_t at = (size_t)(w.buf[14] << 8 | w.buf[15]) + 1;
    w.buf[at] = 7;
    assert_int_equal(afp_srvrinfo_parse(w.buf, w.len, si), -EPROTO);
    /* a length byte below 2 would not advance: refused */
    w.buf[at] = 1;
    assert_int_equal(afp_srvrinfo_parse(w.buf, w.len, si), -EPROTO);
    afp_writer_free(&w);
    free(si);
}

static void test_bad_offsets(void **state)
{
    (void)state;
    struct afp_srvrinfo *si = malloc(sizeof(*si));
    size_t n = status->payload_len;
    uint8_t *copy = malloc(n);

    /* machine type offset 0 (mandatory) */
    memcpy(copy, status->payload, n);
    set_u16(copy, 0);
    assert_int_equal(afp_srvrinfo_parse(copy, n, si), -EPROTO);
    /* UAM offset past the end */
    memcpy(copy, status->payload, n);
    set_u16(copy + 4, 0xfff0);
    assert_int_equal(afp_srvrinfo_parse(copy, n, si), -EPROTO);
    /* signature offset so that 16 bytes do not fit */
    memcpy(copy, status->payload, n);
    set_u16(copy + 14, (uint16_t)(n - 15));
    assert_int_equal(afp_srvrinfo_parse(copy, n, si), -EPROTO);
    /* icon offset so that 256 bytes do not fit */
    memcpy(copy, status->payload, n);
    set_u16(copy + 6, (uint16_t)(n - 200));
    assert_int_equal(afp_srvrinfo_parse(copy, n, si), -EPROTO);
    /* a version list with zero entries */
    memcpy(copy, status->payload, n);
    copy[0x27] = 0;
    assert_int_equal(afp_srvrinfo_parse(copy, n, si), -EPROTO);
    /* optional offsets absent (0) are fine */
    memcpy(copy, status->payload, n);
    set_u16(copy + 16, 0);
    set_u16(copy + 18, 0);
    assert_int_equal(afp_srvrinfo_parse(copy, n, si), 0);
    assert_int_equal(si->n_addrs, 0);
    assert_int_equal(si->n_dirnames, 0);
    free(copy);
    free(si);
}

/* FPGetSrvrMsg as afpfs-ng sends it (a20): the login message in UTF-8. */
static void test_srvrmsg(void **state)
{
    (void)state;
    struct afpv_file f;
    struct afp_writer w;
    struct afp_srvrmsg msg;
    assert_int_equal(afpv_load(AFPV_DIR "a20-afpfsng-getstatus.dsi.txt", &f), 0);
    afp_writer_init(&w);
    assert_int_equal(afp_encode_getsrvrmsg(&w, AFP_SRVRMSG_LOGIN, AFP_SRVRMSG_GET | AFP_SRVRMSG_UTF8), 0);
    const struct afpv_msg *req = afpv_find(&f, "FPGetSrvrMsg", false, 0);
    assert_int_equal(w.len, req->payload_len);
    assert_memory_equal(w.buf, req->payload, w.len);
    const struct afpv_msg *rep = afpv_find(&f, "FPGetSrvrMsg", true, 0);
    assert_int_equal(afp_srvrmsg_decode(rep->payload, rep->payload_len, &msg), 0);
    assert_int_equal(msg.type, AFP_SRVRMSG_LOGIN);
    assert_string_equal(msg.text, "netatalk lab server");
    for (size_t cut = 0; cut < rep->payload_len; cut++)
        assert_int_equal(afp_srvrmsg_decode(rep->payload, cut, &msg), -EPROTO);
    /* the Pascal-string form */
    assert_int_equal(afp_srvrmsg_decode((const uint8_t *)"\x00\x01\x00\x01\x02hi", 7, &msg), 0);
    assert_string_equal(msg.text, "hi");
    afp_writer_free(&w);
    afpv_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_bytes),
        cmocka_unit_test(test_p01_decoded),
        cmocka_unit_test(test_all_captures_parse),
        cmocka_unit_test(test_version_pick),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_corrupted),
        cmocka_unit_test(test_offset_one_byte_off),
        cmocka_unit_test(test_afp2_server),
        cmocka_unit_test(test_address_tags),
        cmocka_unit_test(test_bad_offsets),
        cmocka_unit_test(test_srvrmsg),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
