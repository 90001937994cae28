/* The DSI session transport over a real socket pair, with a scripted server
 * thread: replies out of order, silence, oversize replies, attention, close. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "sharesfs/clock.h"
#include "afp/dsi.h"
#include "afp/dsi_session.h"

enum script { ANSWER_REVERSED, STAY_SILENT, OVERSIZE, CLOSE_AFTER_OPEN, ATTENTION_THEN_ANSWER };

struct server {
    int fd;
    enum script script;
    int n_requests;
};

static int read_msg(int fd, struct dsi_header *h, uint8_t *payload, size_t cap)
{
    uint8_t hdr[DSI_HEADER_LEN];
    if (sfs_net_read_all(fd, hdr, sizeof(hdr), 5000) < 0 || dsi_header_decode(hdr, sizeof(hdr), h) < 0)
        return -1;
    if (h->length > cap)
        return -1;
    return h->length ? sfs_net_read_all(fd, payload, h->length, 5000) : 0;
}

static void send_msg(int fd, uint8_t flags, uint8_t cmd, uint16_t id, int32_t code, const void *p, size_t n)
{
    uint8_t hdr[DSI_HEADER_LEN];
    struct dsi_header h = {.flags = flags, .command = cmd, .request_id = id, .code = code, .length = (uint32_t)n};
    dsi_header_encode(&h, hdr);
    sfs_net_write_all(fd, hdr, sizeof(hdr), 5000);
    if (n)
        sfs_net_write_all(fd, p, n, 5000);
}

static void *server_main(void *arg)
{
    struct server *sv = arg;
    struct dsi_header h;
    uint8_t buf[256];
    if (read_msg(sv->fd, &h, buf, sizeof(buf)) < 0 || h.command != DSI_OPENSESSION)
        return NULL;
    static const uint8_t quantum[] = {0x00, 4, 0x00, 0x10, 0x00, 0x00};
    send_msg(sv->fd, DSI_FLAG_REPLY, DSI_OPENSESSION, h.request_id, 0, quantum, sizeof(quantum));
    if (sv->script == CLOSE_AFTER_OPEN) {
        send_msg(sv->fd, DSI_FLAG_REQUEST, DSI_CLOSESESSION, 0, 0, NULL, 0);
        return NULL;
    }
    uint16_t ids[8];
    for (int i = 0; i < sv->n_requests; i++) {
        if (read_msg(sv->fd, &h, buf, sizeof(buf)) < 0)
            return NULL;
        ids[i] = h.request_id;
    }
    if (sv->script == STAY_SILENT) {
        sleep(2);
        return NULL;
    }
    if (sv->script == OVERSIZE) {
        uint8_t big[64] = {0};
        send_msg(sv->fd, DSI_FLAG_REPLY, DSI_COMMAND, ids[0], 0, big, sizeof(big));
        return NULL;
    }
    if (sv->script == ATTENTION_THEN_ANSWER) {
        static const uint8_t flags[2] = {0x20, 0x00};
        send_msg(sv->fd, DSI_FLAG_REQUEST, DSI_ATTENTION, 0, 0, flags, sizeof(flags));
        send_msg(sv->fd, DSI_FLAG_REQUEST, DSI_TICKLE, 1, 0, NULL, 0);
    }
    for (int i = sv->n_requests - 1; i >= 0; i--) {
        uint8_t reply[2] = {(uint8_t)(ids[i] >> 8), (uint8_t)ids[i]};
        send_msg(sv->fd, DSI_FLAG_REPLY, DSI_COMMAND, ids[i], -5009 + i, reply, sizeof(reply));
    }
    return NULL;
}

struct fixture {
    struct server sv;
    pthread_t thread;
    struct dsi_session *s;
    uint16_t attention;
};

static void on_attention(void *ctx, uint16_t flags)
{
    ((struct fixture *)ctx)->attention = flags;
}

static void start(struct fixture *fx, enum script script, int n_requests, int timeout_ms)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fx->sv.fd = sv[1];
    fx->sv.script = script;
    fx->sv.n_requests = n_requests;
    pthread_create(&fx->thread, NULL, server_main, &fx->sv);
    struct dsi_options o = {.timeout_ms = timeout_ms, .on_attention = on_attention, .cb_ctx = fx};
    struct sfs_status st = {0};
    assert_int_equal(dsi_session_open(sv[0], &o, &fx->s, &st), 0);
    assert_int_equal(dsi_server_quantum(fx->s), 0x100000);
}

static void stop(struct fixture *fx)
{
    dsi_session_close(fx->s);
    pthread_join(fx->thread, NULL);
    close(fx->sv.fd);
}

struct call {
    struct dsi_session *s;
    int rc;
    int32_t code;
    uint8_t reply[4];
    size_t got;
};

static void *call_main(void *arg)
{
    struct call *c = arg;
    static const uint8_t req[2] = {60, 0};
    c->rc = dsi_command(c->s, req, sizeof(req), c->reply, sizeof(c->reply), &c->got, &c->code);
    return NULL;
}

static void test_replies_matched_out_of_order(void **state)
{
    (void)state;
    struct fixture fx = {0};
    start(&fx, ANSWER_REVERSED, 3, 3000);
    struct call calls[3];
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        calls[i] = (struct call){.s = fx.s};
        pthread_create(&t[i], NULL, call_main, &calls[i]);
        usleep(20000);   /* keep request order = thread order */
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(calls[i].rc, 0);
        assert_int_equal(calls[i].got, 2);
        /* Each caller got the reply carrying its own request id. */
        uint16_t id = (uint16_t)(calls[i].reply[0] << 8 | calls[i].reply[1]);
        assert_int_equal(calls[i].code, -5009 + (int)(id - 1));
    }
    stop(&fx);
}

static void test_silent_server_times_out(void **state)
{
    (void)state;
    struct fixture fx = {0};
    start(&fx, STAY_SILENT, 1, 300);
    struct call c = {.s = fx.s};
    double t0 = sfs_now_ms();
    call_main(&c);
    assert_int_equal(c.rc, -ETIMEDOUT);
    assert_true(sfs_now_ms() - t0 < 2000);
    assert_int_equal(dsi_session_error(fx.s), ETIMEDOUT);
    call_main(&c);   /* the session stays dead: no second wait */
    assert_int_equal(c.rc, -ETIMEDOUT);
    stop(&fx);
}

static void test_oversize_reply_is_protocol_error(void **state)
{
    (void)state;
    struct fixture fx = {0};
    start(&fx, OVERSIZE, 1, 3000);
    struct call c = {.s = fx.s};
    call_main(&c);
    assert_int_equal(c.rc, -EMSGSIZE);
    stop(&fx);
}

static void test_server_close_session(void **state)
{
    (void)state;
    struct fixture fx = {0};
    start(&fx, CLOSE_AFTER_OPEN, 0, 3000);
    usleep(100000);
    struct call c = {.s = fx.s};
    call_main(&c);
    assert_int_equal(c.rc, -ESHUTDOWN);
    stop(&fx);
}

static void test_attention_and_tickle(void **state)
{
    (void)state;
    struct fixture fx = {0};
    start(&fx, ATTENTION_THEN_ANSWER, 1, 3000);
    struct call c = {.s = fx.s};
    call_main(&c);
    assert_int_equal(c.rc, 0);
    assert_int_equal(fx.attention, 0x2000);
    stop(&fx);
}

static void test_get_status_garbage(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    const char junk[] = "HTTP/1.0 400 Bad Request\r\n\r\n";
    assert_int_equal(write(sv[1], junk, sizeof(junk)), (ssize_t)sizeof(junk));
    uint8_t *out = NULL;
    size_t len = 0;
    struct sfs_status st = {0};
    assert_int_equal(dsi_get_status(sv[0], 1000, &out, &len, &st), -EPROTO);
    assert_int_equal(st.stage, SFS_STAGE_NEGOTIATE);
    assert_non_null(strstr(st.detail, "not a DSI reply"));
    close(sv[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replies_matched_out_of_order),
        cmocka_unit_test(test_silent_server_times_out),
        cmocka_unit_test(test_oversize_reply_is_protocol_error),
        cmocka_unit_test(test_server_close_session),
        cmocka_unit_test(test_attention_and_tickle),
        cmocka_unit_test(test_get_status_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
