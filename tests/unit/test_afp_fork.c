/* Fork I/O (FPOpenFork, FPReadExt, FPWriteExt, FPFlushFork, FPCloseFork)
 * on the recorded netatalk sessions, and the one request path the backend
 * sends them on (afp_request.c) against a scripted server. */
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "afp/afp_fork.h"
#include "afp/afp_proto.h"
#include "afp/afp_request.h"
#include "afp/dsi.h"
#include "afp/dsi_session.h"

#include "afp_vectors.h"

static struct afpv_file p02, p03, a21, a22;
static const struct afpv_named recordings[] = { AFPV_SESSIONS(p02, p03, a21, a22), { NULL, NULL } };
AFPV_GROUP_FIXTURES(recordings)

static void test_openfork(void **state)
{
    (void)state;
    struct afp_writer w;
    struct afp_openfork_reply o;
    const struct afpv_msg *m;

    afp_writer_init(&w);
    assert_int_equal(afp_encode_openfork(&w, false, 1, 2, kFPExtDataForkLenBit, kFPForkRead, "hello.txt"), 0);
    afpv_assert_payload(&w, afpv_find(&p02, "FPOpenFork", false, 0));
    m = afpv_find(&p02, "FPOpenFork", true, 0);
    assert_int_equal(afp_openfork_decode(m->payload, m->payload_len, &o), 0);
    assert_int_equal(o.bitmap, kFPExtDataForkLenBit);
    assert_int_equal(o.fork, 256);
    assert_int_equal(o.params.data_fork_len, 42);

    afp_writer_reset(&w);
    assert_int_equal(afp_encode_openfork(&w, false, 2, 2, kFPExtDataForkLenBit, kFPForkRead, "secret.txt"), 0);
    afpv_assert_payload(&w, afpv_find(&p03, "FPOpenFork", false, 0));
    m = afpv_find(&p03, "FPOpenFork", true, 0);
    assert_int_equal(afp_openfork_decode(m->payload, m->payload_len, &o), 0);
    assert_int_equal(o.params.data_fork_len, 32);

    /* afpfs-ng: empty bitmap, so the reply is bitmap + fork only */
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_openfork(&w, false, 1, 2, 0, kFPForkRead, "hello.txt"), 0);
    afpv_assert_payload(&w, afpv_find(&a21, "FPOpenFork", false, 0));
    m = afpv_find(&a21, "FPOpenFork", true, 0);
    assert_int_equal(afp_openfork_decode(m->payload, m->payload_len, &o), 0);
    assert_int_equal(o.fork, 256);

    /* resource fork, read/write, deny write */
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_openfork(&w, true, 1, 2, 0, kFPForkRead | kFPForkWrite | kFPForkDenyWrite, "f"), 0);
    assert_int_equal(w.buf[1], AFP_FORK_RSRC);
    assert_int_equal(w.buf[10] << 8 | w.buf[11], 0x0023);

    /* fork reference 0 and short replies are refused */
    assert_int_equal(afp_openfork_decode((const uint8_t *)"\x00\x00\x00\x00", 4, &o), -EPROTO);
    m = afpv_find(&p02, "FPOpenFork", true, 0);
    for (size_t cut = 0; cut < m->payload_len; cut++)
        assert_int_equal(afp_openfork_decode(m->payload, cut, &o), -EPROTO);
    afp_writer_free(&w);
}

static void test_readext(void **state)
{
    (void)state;
    struct afp_writer w;
    const struct afpv_msg *m;
    const uint8_t *data;
    size_t n;
    bool eof;

    afp_writer_init(&w);
    assert_int_equal(afp_encode_readext(&w, 256, 0, 42), 0);
    afpv_assert_payload(&w, afpv_find(&p02, "FPReadExt", false, 0));
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_readext(&w, 256, 42, 512), 0);
    afpv_assert_payload(&w, afpv_find(&p02, "FPReadExt", false, 1));
    afp_writer_free(&w);

    /* whole file */
    m = afpv_find(&p02, "FPReadExt", true, 0);
    assert_true(afp_readext_result_has_data(m->code));
    assert_int_equal(afp_readext_decode(m->code, m->payload, m->payload_len, 42, &data, &n, &eof), 0);
    assert_int_equal(n, 42);
    assert_false(eof);
    assert_memory_equal(data, "Hello from the netatalk lab guest volume.\n", 42);

    /* at EOF: -5009 and nothing */
    m = afpv_find(&p02, "FPReadExt", true, 1);
    assert_int_equal(m->code, kFPEOFErr);
    assert_int_equal(afp_readext_decode(m->code, m->payload, m->payload_len, 512, &data, &n, &eof), 0);
    assert_int_equal(n, 0);
    assert_true(eof);

    /* a21: afpfs-ng asks for 100 KiB and gets -5009 WITH the 42 bytes */
    m = afpv_find(&a21, "FPReadExt", true, 0);
    assert_int_equal(m->code, kFPEOFErr);
    assert_int_equal(afp_readext_decode(m->code, m->payload, m->payload_len, 0x19000, &data, &n, &eof), 0);
    assert_int_equal(n, 42);
    assert_true(eof);
    assert_memory_equal(data, "Hello from", 10);
    m = afpv_find(&a22, "FPReadExt", true, 0);
    assert_int_equal(afp_readext_decode(m->code, m->payload, m->payload_len, 0x19000, &data, &n, &eof), 0);
    assert_memory_equal(data, "top secret lab data for afpuser\n", 32);

    /* a short read without -5009 also means EOF */
    m = afpv_find(&p02, "FPReadExt", true, 0);
    assert_int_equal(afp_readext_decode(0, m->payload, 10, 20, &data, &n, &eof), 0);
    assert_true(eof);
    /* more than asked for, or an error code */
    assert_int_equal(afp_readext_decode(0, m->payload, 42, 41, &data, &n, &eof), -EPROTO);
    assert_false(afp_readext_result_has_data(kFPAccessDenied));
    assert_int_equal(afp_readext_decode(kFPAccessDenied, NULL, 0, 1, &data, &n, &eof), -EINVAL);
}

static void test_writeext(void **state)
{
    (void)state;
    struct afp_writer w;
    uint64_t end;
    afp_writer_init(&w);
    assert_int_equal(afp_encode_writeext(&w, false, 0x0100, 0x123456789ull, 4096), 0);
    assert_int_equal(w.len, AFP_WRITEEXT_HEADER_LEN);
    assert_memory_equal(w.buf, "\x3d\x00\x01\x00\x00\x00\x00\x01\x23\x45\x67\x89"
                               "\x00\x00\x00\x00\x00\x00\x10\x00", 20);
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_writeext(&w, true, 1, 0, 1), 0);
    assert_int_equal(w.buf[1], AFP_WRITE_FROM_END);
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_writeext(&w, false, 1, UINT64_MAX, 1), -EINVAL);
    assert_int_equal(afp_writeext_decode((const uint8_t *)"\0\0\0\x01\0\0\0\x02", 8, &end), 0);
    assert_int_equal(end, 0x100000002ull);
    assert_int_equal(afp_writeext_decode((const uint8_t *)"\0\0\0\x01", 4, &end), -EPROTO);
    afp_writer_free(&w);
}

static void test_close_flush(void **state)
{
    (void)state;
    struct afp_writer w;
    afp_writer_init(&w);
    assert_int_equal(afp_encode_closefork(&w, 256), 0);
    afpv_assert_payload(&w, afpv_find(&p02, "FPCloseFork", false, 0));
    afp_writer_reset(&w);
    assert_int_equal(afp_encode_flushfork(&w, 256), 0);
    assert_memory_equal(w.buf, "\x0b\x00\x01\x00", 4);
    assert_int_equal(w.len, 4);
    afp_writer_free(&w);
}

/* ---- the request path: every failure fills the status ---- */

enum fake_script {
    FAKE_REFUSE,        /* answers kFPObjectNotFound */
    FAKE_CLOSE,         /* reads the request, then closes instead of replying */
    FAKE_STOP_READING,  /* takes no more requests: our send fails before any end of stream arrives */
    FAKE_TOO_LONG,      /* answers with more than the request allows */
};

struct fake_server {
    int fd;
    enum fake_script script;
    pthread_t thread;
    bool joined;
};

static int fake_read(int fd, struct dsi_header *h, uint8_t *payload, size_t cap)
{
    uint8_t hdr[DSI_HEADER_LEN];
    if (sfs_net_read_all(fd, hdr, sizeof(hdr), 5000) < 0 || dsi_header_decode(hdr, sizeof(hdr), h) < 0 ||
        h->length > cap)
        return -1;
    return h->length ? sfs_net_read_all(fd, payload, h->length, 5000) : 0;
}

static void fake_reply(int fd, uint8_t cmd, uint16_t id, int32_t code, const void *p, size_t n)
{
    uint8_t hdr[DSI_HEADER_LEN];
    struct dsi_header h = {.flags = DSI_FLAG_REPLY, .command = cmd, .request_id = id, .code = code,
                           .length = (uint32_t)n};
    dsi_header_encode(&h, hdr);
    sfs_net_write_all(fd, hdr, sizeof(hdr), 5000);
    if (n)
        sfs_net_write_all(fd, p, n, 5000);
}

static void *fake_main(void *arg)
{
    struct fake_server *sv = arg;
    struct dsi_header h;
    uint8_t buf[512] = {0};
    if (fake_read(sv->fd, &h, buf, sizeof(buf)) < 0)
        return NULL;
    fake_reply(sv->fd, DSI_OPENSESSION, h.request_id, 0, NULL, 0);
    if (sv->script == FAKE_STOP_READING) {
        shutdown(sv->fd, SHUT_RD);
        return NULL;
    }
    if (fake_read(sv->fd, &h, buf, sizeof(buf)) < 0)
        return NULL;
    if (sv->script == FAKE_REFUSE)
        fake_reply(sv->fd, DSI_COMMAND, h.request_id, kFPObjectNotFound, NULL, 0);
    else if (sv->script == FAKE_TOO_LONG)
        fake_reply(sv->fd, DSI_COMMAND, h.request_id, kFPNoErr, buf, 100);
    else
        shutdown(sv->fd, SHUT_RDWR);
    return NULL;
}

static struct dsi_session *fake_start(struct fake_server *sv, enum fake_script script)
{
    int fds[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    *sv = (struct fake_server){.fd = fds[1], .script = script};
    pthread_create(&sv->thread, NULL, fake_main, sv);
    struct dsi_options o = {.timeout_ms = 3000};
    struct sfs_status st = {0};
    struct dsi_session *s = NULL;
    assert_int_equal(dsi_session_open(fds[0], &o, &s, &st), 0);
    return s;
}

static void fake_join(struct fake_server *sv)
{
    if (!sv->joined)
        pthread_join(sv->thread, NULL);
    sv->joined = true;
}

static void fake_stop(struct fake_server *sv, struct dsi_session *s)
{
    dsi_session_close(s);
    fake_join(sv);
    close(sv->fd);
}

/* FPReadExt of 42 bytes of fork 256, the reply into Q. */
static int readext_request(struct dsi_session *s, struct afp_call *q, struct sfs_status *st)
{
    struct afp_writer w;
    afp_writer_init(&w);
    afp_encode_readext(&w, 256, 0, 42);
    return afp_request(s, &w, q, st);
}

static void test_request_refused(void **state)
{
    (void)state;
    struct fake_server sv;
    struct dsi_session *s = fake_start(&sv, FAKE_REFUSE);
    uint8_t reply[64];
    struct afp_call q = {.stage = SFS_STAGE_READ, .path = "big.bin", .reply = reply, .cap = sizeof(reply)};
    struct sfs_status st = {0};
    assert_int_equal(readext_request(s, &q, &st), -ENOENT);
    assert_int_equal(q.code, kFPObjectNotFound);
    assert_int_equal(st.err, ENOENT);
    assert_int_equal(st.stage, SFS_STAGE_READ);
    assert_int_equal(st.domain, SFS_DOMAIN_AFP);
    assert_int_equal(st.code, kFPObjectNotFound);
    assert_string_equal(st.detail, "FPReadExt \"big.bin\": kFPObjectNotFound (-5018)");
    assert_int_equal(afp_call_malformed(&q, &st), -EPROTO);
    assert_string_equal(st.detail, "FPReadExt reply is malformed");
    fake_stop(&sv, s);
}

/* afpsim's `close`: the server drops the connection instead of replying.
 * The request, and every one after it on the dead session, fails with
 * ECONNRESET and a status saying so. */
static void test_request_server_closes(void **state)
{
    (void)state;
    struct fake_server sv;
    struct dsi_session *s = fake_start(&sv, FAKE_CLOSE);
    uint8_t reply[64];
    struct afp_call q = {.stage = SFS_STAGE_READ, .reply = reply, .cap = sizeof(reply)};
    struct sfs_status st = {0};
    assert_int_equal(readext_request(s, &q, &st), -ECONNRESET);
    assert_int_equal(st.err, ECONNRESET);
    assert_int_equal(st.stage, SFS_STAGE_READ);
    assert_string_equal(st.detail, "FPReadExt: Connection reset by peer");
    sfs_status_clear(&st);
    assert_int_equal(readext_request(s, &q, &st), -ECONNRESET);
    assert_int_equal(st.err, ECONNRESET);
    fake_stop(&sv, s);
}

/* The same server close seen first by our send (EPIPE), not by the
 * session's reader: still ECONNRESET, an errno with a name.  Before, the
 * report of such a run said "result": null. */
static void test_request_send_fails(void **state)
{
    (void)state;
    struct fake_server sv;
    struct dsi_session *s = fake_start(&sv, FAKE_STOP_READING);
    fake_join(&sv);   /* the server has stopped reading before we send */
    uint8_t reply[64];
    struct afp_call q = {.stage = SFS_STAGE_READ, .reply = reply, .cap = sizeof(reply)};
    struct sfs_status st = {0};
    assert_int_equal(readext_request(s, &q, &st), -ECONNRESET);
    assert_int_equal(st.err, ECONNRESET);
    assert_int_equal(st.code, EPIPE);   /* what the socket said */
    assert_non_null(sfs_errno_name(st.err));
    assert_string_equal(st.detail, "FPReadExt: Connection reset by peer");
    fake_stop(&sv, s);
}

static void test_request_reply_too_long(void **state)
{
    (void)state;
    struct fake_server sv;
    struct dsi_session *s = fake_start(&sv, FAKE_TOO_LONG);
    uint8_t reply[64];
    struct afp_call q = {.stage = SFS_STAGE_READ, .reply = reply, .cap = sizeof(reply)};
    struct sfs_status st = {0};
    assert_int_equal(readext_request(s, &q, &st), -EPROTO);
    assert_int_equal(st.err, EPROTO);
    assert_string_equal(st.detail, "FPReadExt: the reply is longer than the request allows");
    fake_stop(&sv, s);
}

/* A request that cannot be encoded is not sent, and says which path. */
static void test_request_encode_fails(void **state)
{
    (void)state;
    struct afp_writer w;
    afp_writer_init(&w);
    afp_encode_openfork(&w, false, 1, 2, kFPExtDataForkLenBit, kFPForkRead, "a");
    afp_writer_fail(&w, -ENAMETOOLONG);
    uint8_t reply[64];
    struct afp_call q = {.stage = SFS_STAGE_READ, .path = "a", .reply = reply, .cap = sizeof(reply)};
    struct sfs_status st = {0};
    assert_int_equal(afp_request(NULL, &w, &q, &st), -ENAMETOOLONG);
    assert_null(w.buf);   /* spent: freed either way */
    assert_int_equal(st.err, ENAMETOOLONG);
    assert_int_equal(st.stage, SFS_STAGE_READ);
    assert_string_equal(st.detail, "FPOpenFork \"a\": File name too long");
}

/* Every mapping gives a named errno, never 0. */
static void test_failure_mapping(void **state)
{
    (void)state;
    static const int transport[] = {-ECONNRESET, -EPIPE, -ENOTCONN, -ECONNABORTED, -ESHUTDOWN, -ETIMEDOUT,
                                    -EMSGSIZE, -EPROTO, 0};
    for (size_t i = 0; i < sizeof(transport) / sizeof(transport[0]); i++) {
        struct sfs_status st = {0};
        int rc = afp_transport_failed(&st, SFS_STAGE_WRITE, "FPWriteExt", transport[i]);
        assert_true(rc < 0);
        assert_int_equal(-rc, st.err);
        assert_non_null(sfs_errno_name(st.err));
        assert_int_equal(st.stage, SFS_STAGE_WRITE);
    }
    assert_int_equal(dsi_errno_for_transport(-EPIPE), ECONNRESET);
    assert_int_equal(dsi_errno_for_transport(-EMSGSIZE), EPROTO);
    assert_int_equal(dsi_errno_for_transport(-ESHUTDOWN), ESHUTDOWN);
    assert_int_equal(dsi_errno_for_transport(0), EIO);
    struct sfs_status st = {0};
    afp_transport_failed(&st, SFS_STAGE_READ, "FPReadExt", -ESHUTDOWN);
    assert_string_equal(st.detail, "FPReadExt: the server closed the session");
    for (int32_t code = -5047; code <= 0; code++) {
        sfs_status_clear(&st);
        int rc = afp_result_failed(&st, SFS_STAGE_LIST, "FPEnumerateExt2", NULL, code);
        assert_int_equal(-rc, st.err);
        assert_non_null(sfs_errno_name(st.err));
    }
    afp_result_failed(&st, SFS_STAGE_READ, "FPReadExt", NULL, kFPEOFErr);   /* not an errno of its own */
    assert_int_equal(st.err, EIO);
    afp_result_failed(&st, SFS_STAGE_LIST, "FPGetFileDirParms", "x", -1);
    assert_int_equal(st.err, EIO);
    assert_string_equal(st.detail, "FPGetFileDirParms \"x\": AFP error (-1)");
}

/* kFPParamErr is EINVAL, except for a long path, which the server could not
 * resolve (netatalk, afpsim: beyond their PATH_MAX): ENAMETOOLONG. */
static void test_param_error_long_path(void **state)
{
    (void)state;
    char longp[1100];
    memset(longp, 'd', sizeof(longp) - 1);
    longp[sizeof(longp) - 1] = '\0';
    struct afp_call q = {.stage = SFS_STAGE_WRITE, .command = kFPCreateDir, .code = kFPParamErr, .path = "a/b"};
    struct sfs_status st = {0};
    assert_int_equal(afp_call_refused(&q, &st), -EINVAL);
    q.path = longp;
    assert_int_equal(afp_call_refused(&q, &st), -ENAMETOOLONG);
    assert_int_equal(st.code, kFPParamErr);
    assert_non_null(strstr(st.detail, "1099 bytes"));
    q.code = kFPAccessDenied;   /* other refusals keep their errno */
    assert_int_equal(afp_call_refused(&q, &st), -EACCES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openfork),
        cmocka_unit_test(test_readext),
        cmocka_unit_test(test_writeext),
        cmocka_unit_test(test_close_flush),
        cmocka_unit_test(test_request_refused),
        cmocka_unit_test(test_request_server_closes),
        cmocka_unit_test(test_request_send_fails),
        cmocka_unit_test(test_request_reply_too_long),
        cmocka_unit_test(test_request_encode_fails),
        cmocka_unit_test(test_failure_mapping),
        cmocka_unit_test(test_param_error_long_path),
    };
    return cmocka_run_group_tests(tests, afpv_setup, afpv_teardown);
}
