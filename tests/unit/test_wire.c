/* Unit tests for fs/core/wire.c and the SMB worker's frames
 * (fs/smb/smb_worker_wire.c), over real socket pairs: round trips,
 * every truncation of a frame, a peer that closes or stays silent. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "sharesfs/wire.h"
#include "sharesfs/config.h"
#include "engine/worker.h"

static void pair(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

static void fields_round_trip(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    struct sfs_wire_out w;
    sfs_wire_out_init(&w);
    sfs_wire_put_u32(&w, 7);
    sfs_wire_put_i64(&w, -5);
    sfs_wire_put_f64(&w, 2.5);
    sfs_wire_put_str(&w, "name with spaces");
    sfs_wire_put_str(&w, NULL);
    sfs_wire_put_str(&w, "");
    struct stat sb = {.st_size = 12345, .st_mode = 0100644};
    sfs_wire_put_bytes(&w, &sb, sizeof(sb));
    assert_int_equal(sfs_wire_send(sv[0], &w), 0);
    sfs_wire_out_free(&w);

    struct sfs_wire_in r;
    assert_int_equal(sfs_wire_recv(sv[1], &r, 1000), 0);
    assert_int_equal(sfs_wire_get_u32(&r), 7);
    assert_int_equal(sfs_wire_get_i64(&r), -5);
    assert_true(sfs_wire_get_f64(&r) == 2.5);
    char *s = sfs_wire_get_str(&r);
    assert_string_equal(s, "name with spaces");
    free(s);
    assert_null(sfs_wire_get_str(&r));
    s = sfs_wire_get_str(&r);
    assert_string_equal(s, "");
    free(s);
    struct stat got;
    sfs_wire_get_fixed(&r, &got, sizeof(got));
    assert_false(r.bad);
    assert_int_equal(got.st_size, 12345);
    /* Past the end: zeros and the bad mark, no crash. */
    assert_int_equal(sfs_wire_get_u32(&r), 0);
    assert_true(r.bad);
    sfs_wire_in_free(&r);
    close(sv[0]);
    close(sv[1]);
}

static void fixed_field_of_another_size_is_bad(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    struct sfs_wire_out w;
    sfs_wire_out_init(&w);
    char small[8] = {0};
    sfs_wire_put_bytes(&w, small, sizeof(small));
    assert_int_equal(sfs_wire_send(sv[0], &w), 0);
    sfs_wire_out_free(&w);
    struct sfs_wire_in r;
    assert_int_equal(sfs_wire_recv(sv[1], &r, 1000), 0);
    struct stat got;
    sfs_wire_get_fixed(&r, &got, sizeof(got));
    assert_true(r.bad);
    sfs_wire_in_free(&r);
    close(sv[0]);
    close(sv[1]);
}

static struct sfs_wire_out target_frame(struct sfs_url *u, struct sfs_target *t)
{
    memset(u, 0, sizeof(*u));
    memset(t, 0, sizeof(*t));
    u->proto = SFS_PROTO_SMB;
    u->host = "fs-default.lab.test";
    u->share = "user";
    u->path = "sub/dir";
    u->port = 4450;
    t->label = "/Network/Shares/Smb";
    t->url = u;
    t->creds.user = "labuser";
    t->creds.password = "s3cret";
    t->auth.kind = SFS_AUTH_PASSWORD;
    t->auth.module = "ntlmssp";
    snprintf(t->dialect_max, sizeof(t->dialect_max), "SMB3_11");
    t->timeout_ms = 2500;
    t->client_conf = "/tmp/smb.conf";
    struct sfs_wire_out w;
    sfs_wire_out_init(&w);
    sfs_worker_wire_put_target(&w, t);
    return w;
}

static void target_round_trip(void **state)
{
    (void)state;
    struct sfs_url u;
    struct sfs_target t;
    struct sfs_wire_out w = target_frame(&u, &t);
    struct sfs_wire_in r = {.buf = w.p + 4, .len = w.len - 4};
    struct sfs_worker_target got;
    assert_int_equal(sfs_worker_wire_get_target(&r, &got), 0);
    assert_string_equal(got.t.label, "/Network/Shares/Smb");
    assert_string_equal(got.t.url->host, "fs-default.lab.test");
    assert_string_equal(got.t.url->share, "user");
    assert_string_equal(got.t.url->path, "sub/dir");
    assert_null(got.t.url->user);
    assert_int_equal(got.t.url->port, 4450);
    assert_string_equal(got.t.creds.user, "labuser");
    assert_string_equal(got.t.creds.password, "s3cret");
    assert_null(got.t.creds.domain);
    assert_int_equal(got.t.auth.kind, SFS_AUTH_PASSWORD);
    assert_string_equal(got.t.auth.module, "ntlmssp");
    assert_string_equal(got.t.dialect_max, "SMB3_11");
    assert_string_equal(got.t.dialect_min, "");
    assert_int_equal(got.t.timeout_ms, 2500);
    assert_string_equal(got.t.client_conf, "/tmp/smb.conf");
    assert_null(got.t.krb5_ccache);
    sfs_worker_wire_target_free(&got);
    sfs_wire_out_free(&w);
}

/* Every prefix of a target frame is refused (and leaks nothing under ASan). */
static void truncated_targets_are_refused(void **state)
{
    (void)state;
    struct sfs_url u;
    struct sfs_target t;
    struct sfs_wire_out w = target_frame(&u, &t);
    for (size_t n = 0; n < w.len - 4; n++) {
        struct sfs_wire_in r = {.buf = w.p + 4, .len = n};
        struct sfs_worker_target got;
        assert_int_equal(sfs_worker_wire_get_target(&r, &got), -EPROTO);
    }
    sfs_wire_out_free(&w);
}

static void status_round_trip(void **state)
{
    (void)state;
    struct sfs_status st, got;
    sfs_status_set(&st, SFS_STAGE_AUTHENTICATE, EACCES, SFS_DOMAIN_SMB, 0xc000006d,
                   "session setup failed: NT_STATUS_LOGON_FAILURE");
    struct sfs_wire_out w;
    sfs_wire_out_init(&w);
    sfs_worker_wire_put_status(&w, &st);
    struct sfs_wire_in r = {.buf = w.p + 4, .len = w.len - 4};
    sfs_worker_wire_get_status(&r, &got);
    assert_false(r.bad);
    assert_int_equal(got.stage, SFS_STAGE_AUTHENTICATE);
    assert_int_equal(got.err, EACCES);
    assert_int_equal(got.domain, SFS_DOMAIN_SMB);
    assert_int_equal(got.code, 0xc000006d);
    assert_string_equal(got.detail, st.detail);
    sfs_wire_out_free(&w);
}

static void peer_closed_mid_frame(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    uint32_t len = 100;
    assert_int_equal(write(sv[0], &len, sizeof(len)), (ssize_t)sizeof(len));
    assert_int_equal(write(sv[0], "abc", 3), 3);
    close(sv[0]);
    struct sfs_wire_in r;
    assert_int_equal(sfs_wire_recv(sv[1], &r, 1000), -EPIPE);
    assert_null(r.buf);
    close(sv[1]);
}

static void silent_peer_times_out(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    struct sfs_wire_in r;
    assert_int_equal(sfs_wire_recv(sv[1], &r, 50), -ETIMEDOUT);
    /* Half a frame, then silence. */
    uint32_t len = 10;
    assert_int_equal(write(sv[0], &len, sizeof(len)), (ssize_t)sizeof(len));
    assert_int_equal(sfs_wire_recv(sv[1], &r, 50), -ETIMEDOUT);
    close(sv[0]);
    close(sv[1]);
}

static void oversized_length_is_refused(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    uint32_t len = SFS_WIRE_MAX_FRAME + 1;
    assert_int_equal(write(sv[0], &len, sizeof(len)), (ssize_t)sizeof(len));
    struct sfs_wire_in r;
    assert_int_equal(sfs_wire_recv(sv[1], &r, 1000), -EPROTO);
    close(sv[0]);
    close(sv[1]);
}

static void send_to_closed_peer_is_epipe(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    close(sv[1]);
    struct sfs_wire_out w;
    sfs_wire_out_init(&w);
    sfs_wire_put_u32(&w, 1);
    assert_int_equal(sfs_wire_send(sv[0], &w), -EPIPE);
    sfs_wire_out_free(&w);
    close(sv[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fields_round_trip),
        cmocka_unit_test(fixed_field_of_another_size_is_bad),
        cmocka_unit_test(target_round_trip),
        cmocka_unit_test(truncated_targets_are_refused),
        cmocka_unit_test(status_round_trip),
        cmocka_unit_test(peer_closed_mid_frame),
        cmocka_unit_test(silent_peer_times_out),
        cmocka_unit_test(oversized_length_is_refused),
        cmocka_unit_test(send_to_closed_peer_is_epipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
