/* One DSI session (runs in the forked child): message framing, the AFP
 * command dispatch, tickles, attentions, closing, and the hostile
 * misbehaviours that wrap replies.
 *
 * Observed netatalk behaviour imitated here (tests/data/afp/):
 *  - DSIOpenSession reply options: server request quantum (type 0), and the
 *    replay cache size (type 2) when the personality has one.
 *  - After a refused login: the error reply, a DSIAttention 0x8000 (server
 *    shutting down, 0 minutes), a DSICloseSession, then the connection closes.
 *  - After FPLogout or a client DSICloseSession the server sends its own
 *    DSICloseSession.  Server-initiated requests number from 0. */
#include "afpsim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <gcrypt.h>

#define HEADER_TIMEOUT_MS 30000     /* rest of a message once its first byte came */
#define WRITE_TIMEOUT_MS 60000      /* client not reading */
/* After FPLogout netatalk does not close the session: it waits for the
 * client's DSICloseSession or end of stream and answers either with its own
 * DSICloseSession (afp_logout sets DSI_AFP_LOGGED_OUT, "quit on next EOF";
 * captures p02-p09, p17: the server's close follows the client's; a20: it
 * follows afpfs-ng's half-close, which the .dsi.txt rendering does not show).
 * Real clients close at once (gvfs, afpfs-ng, sharesfs); gvfs's AFP backend
 * even exits, failing its unmount, when the server closes first.  With
 * session.logout_close afpsim closes by itself only when the client has not
 * closed within this grace, so that a client waiting for the server's close
 * is not held until the session timeout. */
#define LOGOUT_GRACE_S 0.5
#define MAX_COMMAND_PAYLOAD (1u << 20)

static volatile sig_atomic_t s_term, s_usr1;
static sigset_t s_waitmask;
static bool s_in_shutdown;

static void sess_sig(int sig)
{
    if (sig == SIGUSR1)
        s_usr1 = 1;
    else
        s_term = 1;
}

double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ I/O */

static void graceful_close_exit(struct session *s) __attribute__((noreturn));
static void send_server_request(struct session *s, uint8_t cmd, const void *payload, uint32_t len);

/* Waits for ev on the socket; handles signals.  >0 ready, 0 timeout, <0 error. */
static int wait_fd(struct session *s, short ev, int timeout_ms)
{
    for (;;) {
        struct pollfd pfd = { .fd = s->fd, .events = ev };
        struct timespec ts, *tsp = NULL;
        if (timeout_ms >= 0) {
            ts.tv_sec = timeout_ms / 1000;
            ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
            tsp = &ts;
        }
        int n = ppoll(&pfd, 1, tsp, &s_waitmask);
        if (n < 0 && errno == EINTR) {
            if (!s_in_shutdown)
                session_signals_pending(s);
            else if (s_term)
                return -1;
            continue;
        }
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        if (pfd.revents & (POLLERR | POLLNVAL))
            return -1;
        return 1;
    }
}

void signals_catch(void (*handler)(int), const int *sigs, size_t n, sigset_t *orig, sigset_t *waitmask)
{
    struct sigaction sa;
    sigset_t block, before;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigemptyset(&block);
    for (size_t i = 0; i < n; i++) {
        sigaction(sigs[i], &sa, NULL);
        sigaddset(&block, sigs[i]);
    }
    sigprocmask(SIG_BLOCK, &block, &before);
    *waitmask = before;
    for (size_t i = 0; i < n; i++)
        sigdelset(waitmask, sigs[i]);
    if (orig)
        *orig = before;
}

void session_signals_pending(struct session *s)
{
    if (s_term) {
        s_term = 0;
        session_shutdown(s, 0x8000, "SIGTERM");
    }
    if (s_usr1) {
        s_usr1 = 0;
        if (s->opened) {
            uint8_t a[2] = { 0x20, 0x00 };      /* server message available */
            g_free(s->server_message);
            s->server_message = g_strdup("afpsim: message from the server operator");
            send_server_request(s, DSI_ATTENTION, a, 2);
        }
    }
}

bool session_send_raw(struct session *s, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    double deadline = now_mono() + (s_in_shutdown ? 1.0 : WRITE_TIMEOUT_MS / 1000.0);
    while (len) {
        ssize_t n = send(s->fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int left = (int)((deadline - now_mono()) * 1000);
            if (left <= 0 || wait_fd(s, POLLOUT, left) <= 0) {
                log_msg(LOG_INFO, "%s: client does not read, closing", s->peer);
                close(s->fd);
                _exit(0);
            }
            continue;
        }
        if (s_in_shutdown)
            return false;
        log_msg(LOG_INFO, "%s: connection lost while sending (%s)", s->peer,
                n < 0 ? strerror(errno) : "closed");
        close(s->fd);
        _exit(0);
    }
    s->last_out = now_mono();
    return true;
}

/* Reads exactly len bytes.  false on EOF/error/timeout. */
static bool recv_exact(struct session *s, void *buf, size_t len, int timeout_ms)
{
    uint8_t *p = buf;
    double deadline = now_mono() + timeout_ms / 1000.0;
    while (len) {
        ssize_t n = recv(s->fd, p, len, 0);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n == 0)
            return false;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return false;
        int left = (int)((deadline - now_mono()) * 1000);
        if (left <= 0 || wait_fd(s, POLLIN, left) <= 0)
            return false;
    }
    return true;
}

static void header_bytes(uint8_t out[DSI_HEADER_LEN], uint8_t flags, uint8_t cmd, uint16_t rid,
                         int32_t code, uint32_t len)
{
    struct dsi_header h = {
        .flags = flags, .command = cmd, .request_id = rid, .code = code, .length = len,
    };
    dsi_header_encode(&h, out);
}

static void send_server_request(struct session *s, uint8_t cmd, const void *payload, uint32_t len)
{
    uint8_t hdr[DSI_HEADER_LEN];
    header_bytes(hdr, DSI_FLAG_REQUEST, cmd, s->srv_rid++, 0, len);
    if (!session_send_raw(s, hdr, sizeof(hdr)))
        return;
    if (len)
        session_send_raw(s, payload, len);
}

/* Sends FIN, reads (and drops) what the client still sends for a moment,
 * so the last replies are not lost to a reset, then exits. */
static void graceful_close_exit(struct session *s)
{
    uint8_t junk[4096];
    shutdown(s->fd, SHUT_WR);
    double deadline = now_mono() + 0.5;
    s_in_shutdown = true;
    for (;;) {
        int left = (int)((deadline - now_mono()) * 1000);
        if (left <= 0 || wait_fd(s, POLLIN, left) <= 0)
            break;
        ssize_t n = recv(s->fd, junk, sizeof(junk), 0);
        if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR)))
            break;
    }
    close(s->fd);
    forks_close(s, 0);
    _exit(0);
}

void session_close(struct session *s, const char *why)
{
    log_msg(LOG_INFO, "%s: closing session (%s)", s->peer, why);
    s_in_shutdown = true;
    if (s->opened)
        send_server_request(s, DSI_CLOSESESSION, NULL, 0);
    graceful_close_exit(s);
}

void session_shutdown(struct session *s, uint16_t attention, const char *why)
{
    log_msg(LOG_INFO, "%s: shutting session down (%s)", s->peer, why);
    s_in_shutdown = true;
    if (s->opened) {
        uint8_t a[2] = { (uint8_t)(attention >> 8), (uint8_t)attention };
        send_server_request(s, DSI_ATTENTION, a, 2);
        send_server_request(s, DSI_CLOSESESSION, NULL, 0);
    }
    graceful_close_exit(s);
}

static void abort_exit(struct session *s, const char *why) __attribute__((noreturn));
static void abort_exit(struct session *s, const char *why)
{
    log_msg(LOG_INFO, "%s: hostile: %s", s->peer, why);
    close(s->fd);
    forks_close(s, 0);
    _exit(0);
}

/* Keeps the connection open and answers nothing until the client gives up
 * (or SIGTERM): the "server stops answering" case. */
static void stall_forever(struct session *s) __attribute__((noreturn));
static void stall_forever(struct session *s)
{
    uint8_t junk[65536];
    log_msg(LOG_INFO, "%s: hostile: stalling", s->peer);
    for (;;) {
        int r = wait_fd(s, POLLIN, -1);
        if (r < 0)
            break;
        ssize_t n = recv(s->fd, junk, sizeof(junk), 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            break;
    }
    abort_exit(s, "client went away while stalled");
}

/* Sleeps ms, interruptible by SIGTERM. */
static void sleep_ms(struct session *s, unsigned ms)
{
    double end = now_mono() + ms / 1000.0;
    for (;;) {
        int left = (int)((end - now_mono()) * 1000);
        if (left <= 0)
            return;
        struct timespec ts = { left / 1000, (long)(left % 1000) * 1000000L };
        if (ppoll(NULL, 0, &ts, &s_waitmask) < 0 && errno == EINTR)
            session_signals_pending(s);
    }
}

/* ------------------------------------------------------------- hostile */

static const char *const *default_targets(unsigned modes)
{
    static const char *const status[] = { "status", NULL };
    static const char *const read[] = { "FPReadExt", "FPRead", NULL };
    static const char *const enumr[] = { "FPEnumerateExt2", "FPEnumerateExt", NULL };
    static const char *const login[] = { "FPLogin", "FPLoginExt", "FPLoginCont", NULL };
    static const char *const badoff[] = { "status", "FPEnumerateExt2", "FPEnumerateExt", NULL };
    static const char *const write[] = { "FPWriteExt", "FPWrite", NULL };
    static const char *const any[] = { "any", NULL };
    if (modes & H_BADOFFSET)
        return badoff;
    if (modes & (H_STALL_READ | H_ENDLESS | H_OVERSIZE_READ | H_NO_REPLY | H_CLOSE))
        return read;
    if (modes & H_BADCOUNT)
        return enumr;
    if (modes & H_SHORT_WRITE)
        return write;
    if (modes & (H_BAD_DH | H_BAD_APREP))
        return login;
    if (modes & (H_TRUNCATE | H_BADLENGTH | H_GARBAGE_STATUS))
        return status;
    return any;
}

/* Decides, once per reply, whether the hostile modes apply to it. */
static void hostile_begin(struct session *s, const char *kind)
{
    const struct hostile *h = &s->p->hostile;
    s->h_active = false;
    if (!h->modes)
        return;
    const char *const *t = h->targets ? (const char *const *)h->targets : default_targets(h->modes);
    bool match = false;
    for (size_t i = 0; t[i]; i++)
        if (*t[i] && (!g_ascii_strcasecmp(t[i], "any") || !g_ascii_strcasecmp(t[i], kind) ||
                      (!g_ascii_strcasecmp(t[i], "status") && !strcmp(kind, "FPGetSrvrInfo"))))
            match = true;
    if (!match)
        return;
    s->h_matches++;
    if (s->h_matches < h->nth || (h->count && s->h_fired >= h->count))
        return;
    s->h_fired++;
    s->h_active = true;
    log_msg(LOG_DEBUG, "%s: hostile modes apply to this %s reply", s->peer, kind);
}

bool session_hostile(struct session *s, unsigned mode)
{
    return s->h_active && (s->p->hostile.modes & mode);
}

/* Sends a reply header (after the hostile header changes); false when the
 * reply must not be sent at all.  Handles the modes that take the
 * connection over (close, endless). */
static bool reply_header(struct session *s, int32_t code, uint32_t len, const void *payload,
                         size_t plen)
{
    const struct hostile *h = &s->p->hostile;
    uint16_t rid = s->req.request_id;
    uint8_t cmd = s->req.command;
    uint32_t wire_len = len;

    if (session_hostile(s, H_SLOW))
        sleep_ms(s, h->interval_ms);
    if (session_hostile(s, H_NO_REPLY)) {
        log_msg(LOG_INFO, "%s: hostile: dropping the reply to request %u", s->peer, rid);
        return false;
    }
    if (session_hostile(s, H_CLOSE))
        abort_exit(s, "closing instead of replying");
    if (session_hostile(s, H_WRONG_RID))
        rid = (uint16_t)(rid + 1);
    if (session_hostile(s, H_BAD_FLAGS))
        cmd = 0x2a;
    if (session_hostile(s, H_BADLENGTH)) {
        long long l = (long long)len + h->delta;
        wire_len = l < 0 ? 0 : l > 0xffffffffLL ? 0xffffffffu : (uint32_t)l;
    }
    if (session_hostile(s, H_ENDLESS))
        wire_len = h->length;

    uint8_t hdr[DSI_HEADER_LEN];
    header_bytes(hdr, DSI_FLAG_REPLY, cmd, rid, code, wire_len);

    if (session_hostile(s, H_TRUNCATE) && !s->streaming) {
        size_t cut = plen / 2;
        if (h->after_bytes < cut)
            cut = (size_t)h->after_bytes;
        session_send_raw(s, hdr, sizeof(hdr));
        if (cut)
            session_send_raw(s, payload, cut);
        abort_exit(s, "truncated reply, connection closed");
    }
    if (session_hostile(s, H_ENDLESS)) {
        session_send_raw(s, hdr, sizeof(hdr));
        if (plen)
            session_send_raw(s, payload, plen);
        log_msg(LOG_INFO, "%s: hostile: endless reply (length %u), trickling", s->peer, wire_len);
        uint8_t z = 0;
        for (;;) {
            sleep_ms(s, h->interval_ms ? h->interval_ms : 1);
            /* A poll for input tells us when the client has gone. */
            struct pollfd pfd = { .fd = s->fd, .events = POLLRDHUP };
            if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)))
                abort_exit(s, "client gave up on the endless reply");
            session_send_raw(s, &z, 1);
        }
    }
    if (plen) {
        /* header and payload in one write when small */
        if (plen <= 65536) {
            uint8_t *buf = g_malloc(DSI_HEADER_LEN + plen);
            memcpy(buf, hdr, DSI_HEADER_LEN);
            memcpy(buf + DSI_HEADER_LEN, payload, plen);
            session_send_raw(s, buf, DSI_HEADER_LEN + plen);
            g_free(buf);
        } else {
            session_send_raw(s, hdr, sizeof(hdr));
            session_send_raw(s, payload, plen);
        }
    } else {
        session_send_raw(s, hdr, sizeof(hdr));
    }
    return true;
}

void session_reply(struct session *s, int32_t code, const void *payload, size_t len)
{
    reply_header(s, code, (uint32_t)len, payload, len);
}

bool session_reply_stream_begin(struct session *s, int32_t code, uint64_t total)
{
    /* endless/close/no-reply are handled in reply_header; truncation of a
     * streamed reply by the caller, which knows where to cut */
    s->streaming = true;
    bool ok = reply_header(s, code, total > UINT32_MAX ? UINT32_MAX : (uint32_t)total, NULL, 0);
    s->streaming = false;
    return ok;
}

void session_stall(struct session *s)
{
    stall_forever(s);
}

void session_abort(struct session *s, const char *why)
{
    abort_exit(s, why);
}

/* ------------------------------------------------------------ dispatch */

static int32_t cmd_getsrvrinfo(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    (void)r;
    GByteArray *st = session_hostile(s, H_BADOFFSET) ? s->srv->status_bad : s->srv->status;
    if (session_hostile(s, H_GARBAGE_STATUS)) {
        GByteArray *g = status_garbage();
        afp_write_bytes(w, g->data, g->len);
        g_byte_array_free(g, TRUE);
    } else {
        afp_write_bytes(w, st->data, st->len);
    }
    return kFPNoErr;
}

static int32_t cmd_logout(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    (void)r;
    (void)w;
    s->logging_out = true;
    return kFPNoErr;
}

static const struct {
    uint8_t cmd;
    const char *name;
    afp_handler fn;
    bool before_login;
} commands[] = {
    { kFPCloseVol, "FPCloseVol", cmd_closevol, false },
    { kFPCloseFork, "FPCloseFork", cmd_closefork, false },
    { kFPCreateDir, "FPCreateDir", cmd_createdir, false },
    { kFPCreateFile, "FPCreateFile", cmd_createfile, false },
    { kFPDelete, "FPDelete", cmd_delete, false },
    { kFPFlush, "FPFlush", cmd_flush, false },
    { kFPFlushFork, "FPFlushFork", cmd_flushfork, false },
    { kFPGetForkParms, "FPGetForkParms", cmd_getforkparms, false },
    { kFPGetSrvrInfo, "FPGetSrvrInfo", cmd_getsrvrinfo, true },
    { kFPGetSrvrParms, "FPGetSrvrParms", cmd_getsrvrparms, false },
    { kFPGetVolParms, "FPGetVolParms", cmd_getvolparms, false },
    { kFPLogin, "FPLogin", cmd_login, true },
    { kFPLoginCont, "FPLoginCont", cmd_login_cont, true },
    { kFPLogout, "FPLogout", cmd_logout, false },
    { kFPMapID, "FPMapID", cmd_mapid, false },
    { kFPMoveAndRename, "FPMoveAndRename", cmd_moveandrename, false },
    { kFPOpenVol, "FPOpenVol", cmd_openvol, false },
    { kFPOpenFork, "FPOpenFork", cmd_openfork, false },
    { kFPRead, "FPRead", cmd_read, false },
    { kFPRename, "FPRename", cmd_rename, false },
    { kFPSetDirParms, "FPSetDirParms", cmd_setfiledirparms, false },
    { kFPSetFileParms, "FPSetFileParms", cmd_setfiledirparms, false },
    { kFPSetForkParms, "FPSetForkParms", cmd_setforkparms, false },
    { kFPWrite, "FPWrite", cmd_write, false },
    { kFPGetFileDirParms, "FPGetFileDirParms", cmd_getfiledirparms, false },
    { kFPSetFileDirParms, "FPSetFileDirParms", cmd_setfiledirparms, false },
    { kFPGetSrvrMsg, "FPGetSrvrMsg", cmd_getsrvrmsg, false },
    { kFPGetUserInfo, "FPGetUserInfo", cmd_getuserinfo, false },
    { kFPReadExt, "FPReadExt", cmd_read, false },
    { kFPWriteExt, "FPWriteExt", cmd_write, false },
    { kFPLoginExt, "FPLoginExt", cmd_login_ext, true },
    { kFPEnumerateExt, "FPEnumerateExt", cmd_enumerate, false },
    { kFPEnumerateExt2, "FPEnumerateExt2", cmd_enumerate, false },
    { kFPGetExtAttr, "FPGetExtAttr", cmd_getextattr, false },
    { kFPSetExtAttr, "FPSetExtAttr", cmd_setextattr, false },
    { kFPRemoveExtAttr, "FPRemoveExtAttr", cmd_removeextattr, false },
    { kFPListExtAttrs, "FPListExtAttrs", cmd_listextattrs, false },
};

static void dispatch_afp(struct session *s, const uint8_t *buf, size_t len)
{
    struct afp_reader r;
    struct afp_writer w;
    int32_t rc;
    size_t i;

    if (len == 0) {
        session_close(s, "empty AFP request");
    }
    s->afp_cmd = buf[0];
    for (i = 0; i < G_N_ELEMENTS(commands); i++)
        if (commands[i].cmd == buf[0])
            break;
    const char *name = i < G_N_ELEMENTS(commands) ? commands[i].name : "FP?";
    bool is_write = s->req.command == DSI_WRITE;
    if (is_write && buf[0] != kFPWriteExt && buf[0] != kFPWrite) {
        /* DSIWrite carries only write commands. */
        name = "FP?";
        i = G_N_ELEMENTS(commands);
    }
    if (!is_write && (buf[0] == kFPWriteExt || buf[0] == kFPWrite)) {
        /* A write must come as DSIWrite (data after the header). */
        i = G_N_ELEMENTS(commands);
    }
    hostile_begin(s, name);
    afp_reader_init(&r, buf, len);
    afp_writer_init(&w);
    if (i == G_N_ELEMENTS(commands)) {
        log_msg(LOG_DEBUG, "%s: AFP command %u not supported", s->peer, buf[0]);
        rc = kFPCallNotSupported;
    } else if (!s->logged_in && !commands[i].before_login) {
        rc = kFPUserNotAuth;
    } else {
        rc = commands[i].fn(s, &r, &w);
    }
    if (afp_writer_error(&w)) {
        afp_writer_reset(&w);
        rc = kFPMiscErr;
    }
    if (log_enabled(LOG_DEBUG) && rc != AFPSIM_REPLY_SENT)
        log_msg(LOG_DEBUG, "%s: %s (%u bytes) -> %d, %zu bytes", s->peer, name, (unsigned)len,
                rc, w.len);
    if (rc != AFPSIM_REPLY_SENT)
        session_reply(s, rc, w.buf, w.len);
    afp_writer_free(&w);

    if (s->login_failed)
        session_shutdown(s, 0x8000, "login refused");
    if (s->logging_out) {
        log_msg(LOG_INFO, "%s: logged out", s->peer);
        s->logged_out = true;
        if (s->p->logout_close && !s->logout_close_at)
            s->logout_close_at = now_mono() + LOGOUT_GRACE_S;
        s->logging_out = false;
        s->logged_in = false;
    }
}

static void handle_opensession(struct session *s, const uint8_t *buf, size_t len)
{
    struct afp_reader r;
    afp_reader_init(&r, buf, len);
    /* Options: u8 type, u8 length, data.  Only logged; a malformed list is
     * tolerated (the client gets our options anyway). */
    while (afp_reader_remaining(&r) >= 2) {
        uint8_t type, l;
        afp_read_u8(&r, &type);
        afp_read_u8(&r, &l);
        const uint8_t *d;
        if (afp_read_view(&r, l, &d))
            break;
        if (type == DSI_OPT_ATTENTION_QUANTUM && l == 4)
            log_msg(LOG_DEBUG, "%s: client attention quantum %u", s->peer,
                    (unsigned)(d[0] << 24 | d[1] << 16 | d[2] << 8 | d[3]));
    }
    struct afp_writer w;
    afp_writer_init(&w);
    afp_write_u8(&w, DSI_OPT_SERVER_QUANTUM);
    afp_write_u8(&w, 4);
    afp_write_u32(&w, s->p->server_quantum);
    if (s->p->replay_cache) {
        afp_write_u8(&w, DSI_OPT_REPLAY_CACHE_SIZE);
        afp_write_u8(&w, 4);
        afp_write_u32(&w, s->p->replay_cache);
    }
    s->opened = true;
    s->afp_cmd = 0;
    hostile_begin(s, "opensession");
    session_reply(s, 0, w.buf, w.len);
    afp_writer_free(&w);
}

static void handle_getstatus(struct session *s)
{
    struct afp_writer w;
    afp_writer_init(&w);
    s->afp_cmd = kFPGetSrvrInfo;
    hostile_begin(s, "status");
    cmd_getsrvrinfo(s, NULL, &w);
    session_reply(s, 0, w.buf, w.len);
    afp_writer_free(&w);
}

static int next_timeout_ms(struct session *s)
{
    double now = now_mono();
    double t = -1;
    if (s->opened && s->p->tickle_interval) {
        double due = s->last_out + s->p->tickle_interval;
        t = due - now;
    }
    if (s->p->session_timeout) {
        double due = s->last_in + s->p->session_timeout;
        if (t < 0 || due - now < t)
            t = due - now;
    }
    if (s->logout_close_at) {
        double due = s->logout_close_at;
        if (t < 0 || due - now < t)
            t = due - now;
        if (t < 0)
            return 0;
    }
    if (t < 0 && (s->opened && s->p->tickle_interval))
        return 0;
    if (t < 0)
        return s->p->session_timeout ? 0 : -1;
    return (int)(t * 1000) + 1;
}

static void ensure_in(struct session *s, size_t len)
{
    if (len > s->in_cap) {
        g_free(s->in);
        s->in_cap = len < 65536 ? 65536 : len;
        s->in = g_malloc(s->in_cap);
    }
}

void session_run(struct server *srv, int fd, const struct sockaddr_storage *peer)
{
    static struct session sess;
    struct session *s = &sess;
    char host[INET6_ADDRSTRLEN] = "?";
    uint16_t port = 0;

    memset(s, 0, sizeof(*s));
    s->srv = srv;
    s->p = &srv->p;
    s->fd = fd;
    s->next_fork = s->p->first_fork;
    for (size_t i = 0; i < AFPSIM_MAX_FORKS; i++)
        s->forks[i].fd = -1;
    if (peer->ss_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, host, sizeof(host));
        port = ntohs(((const struct sockaddr_in *)peer)->sin_port);
    } else if (peer->ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)peer)->sin6_addr, host, sizeof(host));
        port = ntohs(((const struct sockaddr_in6 *)peer)->sin6_port);
    }
    snprintf(s->peer, sizeof(s->peer), "%s:%u", host, port);

    static const int sigs[] = { SIGTERM, SIGINT, SIGUSR1 };
    signals_catch(sess_sig, sigs, G_N_ELEMENTS(sigs), NULL, &s_waitmask);

    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);

    log_msg(LOG_INFO, "%s: connected", s->peer);
    s->last_in = s->last_out = now_mono();

    for (;;) {
        int r = wait_fd(s, POLLIN, next_timeout_ms(s));
        if (r < 0)
            session_close(s, "socket error");
        if (r == 0) {
            double now = now_mono();
            if (s->logout_close_at && now >= s->logout_close_at)
                session_close(s, "logout, the client did not close");
            if (s->p->session_timeout && now - s->last_in >= s->p->session_timeout)
                session_close(s, "no traffic from the client (session timeout)");
            if (s->opened && s->p->tickle_interval && now - s->last_out >= s->p->tickle_interval)
                send_server_request(s, DSI_TICKLE, NULL, 0);
            continue;
        }
        uint8_t hb[DSI_HEADER_LEN];
        ssize_t n = recv(fd, hb, 1, MSG_PEEK);
        if (n == 0) {
            /* After a logout netatalk answers the end of stream with its
             * DSICloseSession (a20). */
            if (s->logged_out && s->opened)
                session_close(s, "logout, the client closed the connection");
            log_msg(LOG_INFO, "%s: client closed the connection", s->peer);
            close(fd);
            forks_close(s, 0);
            _exit(0);
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            session_close(s, "read error");
        }
        if (!recv_exact(s, hb, DSI_HEADER_LEN, HEADER_TIMEOUT_MS))
            session_close(s, "incomplete DSI header");
        if (dsi_header_decode(hb, DSI_HEADER_LEN, &s->req)) {
            log_msg(LOG_WARN, "%s: malformed DSI header (flags %u, command %u)", s->peer, hb[0], hb[1]);
            session_close(s, "malformed DSI header");
        }
        s->last_in = now_mono();
        size_t limit = MAX_COMMAND_PAYLOAD + 4096;
        if (s->req.command == DSI_WRITE) {
            size_t q = s->p->server_quantum > MAX_COMMAND_PAYLOAD ? s->p->server_quantum
                                                                   : MAX_COMMAND_PAYLOAD;
            limit = q + 4096;
            if (s->req.length > s->p->server_quantum + 1024u)
                log_msg(LOG_WARN, "%s: DSIWrite of %u bytes exceeds the server quantum %u",
                        s->peer, s->req.length, s->p->server_quantum);
        }
        if (s->req.length > limit) {
            log_msg(LOG_WARN, "%s: DSI payload of %u bytes is too large", s->peer, s->req.length);
            session_close(s, "oversized request");
        }
        ensure_in(s, s->req.length);
        if (s->req.length && !recv_exact(s, s->in, s->req.length, HEADER_TIMEOUT_MS))
            session_close(s, "incomplete DSI payload");

        if (s->req.flags == DSI_FLAG_REPLY) {
            /* e.g. a client acknowledging our attention: nothing to do */
            continue;
        }
        switch (s->req.command) {
        case DSI_GETSTATUS:
            handle_getstatus(s);
            if (!s->opened) {
                /* netatalk ends a status-only connection after the reply */
                s_in_shutdown = true;
                graceful_close_exit(s);
            }
            break;
        case DSI_OPENSESSION:
            if (s->opened)
                session_close(s, "second DSIOpenSession");
            handle_opensession(s, s->in, s->req.length);
            break;
        case DSI_TICKLE:
            if (s->opened && s->p->answer_tickles)
                send_server_request(s, DSI_TICKLE, NULL, 0);
            break;
        case DSI_CLOSESESSION:
            session_close(s, "client closed the session");
            break;
        case DSI_COMMAND:
        case DSI_WRITE:
            if (!s->opened)
                session_close(s, "command before DSIOpenSession");
            if (s->req.command == DSI_WRITE &&
                ((uint32_t)s->req.code > s->req.length || s->req.code < 0))
                session_close(s, "DSIWrite data offset outside the message");
            dispatch_afp(s, s->in, s->req.length);
            break;
        case DSI_ATTENTION:
        default:
            break;
        }
    }
}
