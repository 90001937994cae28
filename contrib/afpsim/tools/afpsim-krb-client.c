/* afpsim-krb-client: logs in to an AFP server with the "Client Krb v2" UAM
 * (MIT GSSAPI, the ticket cache of KRB5CCNAME), checks the server's AP-REP
 * (mutual authentication), lists the volumes and logs out.  A test tool for
 * afpsim's Kerberos acceptor; see tools/krb-selftest.sh.
 *
 *   afpsim-krb-client HOST:PORT [--service afpserver@FQDN | --principal P |
 *                     --status-principal] [--user NAME] [--plain]
 *                     [--afp-version AFP3.4] [--corrupt] [--no-mutual]
 *
 * Default target: the host-based service afpserver@HOST.  --status-principal
 * takes the principal from the server's DSIGetStatus Directory Names, as a
 * Mac does.  --plain uses FPLogin instead of FPLoginExt.  --corrupt flips a
 * byte of the AP-REQ's authenticator.
 *
 * Output: one line per step.  Exit status: 0 logged in and the AP-REP
 * verified, 1 the server refused the login (its code is printed),
 * 3 the server's AP-REP did not verify, 2 anything else. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>

#include "afp/afp_buf.h"
#include "afp/afp_srvrinfo.h"
#include "afp/dsi.h"

#define MAX_PAYLOAD (1u << 20)
#define UAM_KRB "Client Krb v2"

static uint16_t next_rid;
/* GSS state, released by finish(). */
static gss_name_t target = GSS_C_NO_NAME;
static gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
static gss_buffer_desc tok = GSS_C_EMPTY_BUFFER;
static char *status_princ;

static int finish(int rc, int fd)
{
    OM_uint32 min;
    gss_release_buffer(&min, &tok);
    if (ctx != GSS_C_NO_CONTEXT)
        gss_delete_sec_context(&min, &ctx, GSS_C_NO_BUFFER);
    if (target != GSS_C_NO_NAME)
        gss_release_name(&min, &target);
    free(status_princ);
    status_princ = NULL;
    close(fd);
    return rc;
}

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "afpsim-krb-client: ");
    fprintf(stderr, fmt, arg ? arg : "");
    fprintf(stderr, "\n");
    exit(2);
}

/* Every message gss_display_status has for one status code; the mechanism's
 * (minor) ones in parentheses. */
static void gss_print(OM_uint32 code, int type, gss_OID mech)
{
    OM_uint32 ctx = 0, min;
    do {
        gss_buffer_desc b = GSS_C_EMPTY_BUFFER;
        if (GSS_ERROR(gss_display_status(&min, code, type, mech, &ctx, &b)))
            break;
        fprintf(stderr, type == GSS_C_MECH_CODE ? " (%.*s)" : " %.*s", (int)b.length,
                (const char *)b.value);
        gss_release_buffer(&min, &b);
    } while (ctx);
}

static void gss_die(const char *what, OM_uint32 major, OM_uint32 minor)
{
    fprintf(stderr, "afpsim-krb-client: %s:", what);
    gss_print(major, GSS_C_GSS_CODE, GSS_C_NO_OID);
    if (minor)
        gss_print(minor, GSS_C_MECH_CODE, gss_mech_krb5);
    fprintf(stderr, "\n");
}

static int connect_to(const char *hostport, char *host, size_t hostsz)
{
    const char *colon = strrchr(hostport, ':');
    if (!colon || (size_t)(colon - hostport) >= hostsz)
        die("expected HOST:PORT, not %s", hostport);
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = '\0';
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc)
        die("cannot resolve %s", host);
    int fd = -1;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        struct timeval tv = { 10, 0 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        die("cannot connect to %s", hostport);
    return fd;
}

static void send_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            die("send: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
}

/* 1: got len bytes, 0: orderly EOF before the first byte, -1: error. */
static int recv_all(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = recv(fd, p + got, len - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 && got == 0)
            return 0;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 1;
}

static uint16_t send_dsi(int fd, uint8_t cmd, const void *payload, size_t len)
{
    struct dsi_header h = { .flags = DSI_FLAG_REQUEST, .command = cmd, .request_id = next_rid++,
                            .length = (uint32_t)len };
    uint8_t hb[DSI_HEADER_LEN];
    dsi_header_encode(&h, hb);
    send_all(fd, hb, sizeof(hb));
    if (len)
        send_all(fd, payload, len);
    return h.request_id;
}

/* Next message from the server; payload malloc'd into *buf.  1, 0 at EOF, -1. */
static int recv_dsi(int fd, struct dsi_header *h, uint8_t **buf)
{
    uint8_t hb[DSI_HEADER_LEN];
    *buf = NULL;
    int rc = recv_all(fd, hb, sizeof(hb));
    if (rc <= 0)
        return rc;
    if (dsi_header_decode(hb, sizeof(hb), h) || h->length > MAX_PAYLOAD)
        return -1;
    *buf = malloc(h->length ? h->length : 1);
    if (!*buf || (h->length && recv_all(fd, *buf, h->length) != 1)) {
        free(*buf);
        *buf = NULL;
        return -1;
    }
    return 1;
}

/* Prints server-initiated messages until the reply to rid arrives. */
static int reply_to(int fd, uint16_t rid, struct dsi_header *h, uint8_t **buf)
{
    for (;;) {
        int rc = recv_dsi(fd, h, buf);
        if (rc <= 0) {
            printf("connection closed by the server%s\n", rc < 0 ? " (or broken)" : "");
            return -1;
        }
        if (h->flags == DSI_FLAG_REPLY && h->request_id == rid)
            return 0;
        if (h->command == DSI_ATTENTION && h->length >= 2)
            printf("server DSIAttention 0x%04x\n", (unsigned)((*buf)[0] << 8 | (*buf)[1]));
        else if (h->command == DSI_CLOSESESSION)
            printf("server DSICloseSession\n");
        else if (h->command == DSI_TICKLE)
            ;
        else
            printf("server message %s\n", dsi_command_name(h->command));
        free(*buf);
    }
}

/* After a refusal or logout: what the server sends until it closes. */
static void drain(int fd)
{
    struct dsi_header h;
    uint8_t *buf;
    for (;;) {
        int rc = recv_dsi(fd, &h, &buf);
        if (rc <= 0) {
            printf("connection closed by the server\n");
            return;
        }
        if (h.command == DSI_ATTENTION && h.length >= 2)
            printf("server DSIAttention 0x%04x\n", (unsigned)(buf[0] << 8 | buf[1]));
        else if (h.command == DSI_CLOSESESSION)
            printf("server DSICloseSession\n");
        else if (h.command != DSI_TICKLE)
            printf("server message %s (%s)\n", dsi_command_name(h.command),
                   h.flags == DSI_FLAG_REPLY ? "reply" : "request");
        free(buf);
    }
}

static int32_t command(int fd, const struct afp_writer *w, uint8_t **buf, uint32_t *len)
{
    struct dsi_header h;
    uint16_t rid = send_dsi(fd, DSI_COMMAND, w->buf, w->len);
    if (reply_to(fd, rid, &h, buf))
        exit(2);
    *len = h.length;
    return h.code;
}

/* A request of a command byte and a pad byte only (FPGetSrvrParms, FPLogout). */
static int32_t command_bare(int fd, uint8_t cmd, uint8_t **buf, uint32_t *len)
{
    struct afp_writer w;
    afp_writer_init(&w);
    afp_write_u8(&w, cmd);
    afp_write_u8(&w, 0);
    int32_t code = command(fd, &w, buf, len);
    afp_writer_free(&w);
    return code;
}

static char *status_principal(const char *hostport)
{
    char host[256];
    int fd = connect_to(hostport, host, sizeof(host));
    uint8_t req[2] = { 0x0f, 0x00 };
    struct dsi_header h;
    uint8_t *buf;
    uint16_t rid = send_dsi(fd, DSI_GETSTATUS, req, sizeof(req));
    if (reply_to(fd, rid, &h, &buf))
        exit(2);
    close(fd);
    struct afp_srvrinfo *si = calloc(1, sizeof(*si));
    if (!si || afp_srvrinfo_parse(buf, h.length, si))
        die("unparsable DSIGetStatus reply%s", NULL);
    free(buf);
    if (si->n_dirnames == 0)
        die("the server lists no Directory Names (Kerberos principal)%s", NULL);
    if (!afp_srvrinfo_has_uam(si, UAM_KRB))
        printf("note: the server does not offer %s\n", UAM_KRB);
    char *p = strdup(si->dirnames[0]);
    printf("status: directory name %s\n", p);
    free(si);
    return p;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: afpsim-krb-client HOST:PORT [--service SVC@HOST | --principal P | --status-principal]\n"
            "                         [--user NAME] [--plain] [--afp-version V] [--corrupt] [--no-mutual]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *service = NULL, *principal = NULL, *user_arg = NULL, *version = "AFP3.4";
    bool from_status = false, plain = false, corrupt = false, mutual = true;
    static const struct option opts[] = {
        { "service", required_argument, NULL, 's' },
        { "principal", required_argument, NULL, 'P' },
        { "status-principal", no_argument, NULL, 'S' },
        { "user", required_argument, NULL, 'u' },
        { "plain", no_argument, NULL, 'p' },
        { "afp-version", required_argument, NULL, 'V' },
        { "corrupt", no_argument, NULL, 'c' },
        { "no-mutual", no_argument, NULL, 'n' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': service = optarg; break;
        case 'P': principal = optarg; break;
        case 'S': from_status = true; break;
        case 'u': user_arg = optarg; break;
        case 'p': plain = true; break;
        case 'V': version = optarg; break;
        case 'c': corrupt = true; break;
        case 'n': mutual = false; break;
        default: usage();
        }
    }
    if (optind != argc - 1)
        usage();
    const char *hostport = argv[optind];

    status_princ = from_status ? status_principal(hostport) : NULL;
    char host[256];
    int fd = connect_to(hostport, host, sizeof(host));

    /* GSS target name and credentials first: no point in a session without. */
    OM_uint32 maj, min;
    gss_buffer_desc nb;
    char svcbuf[300];
    gss_OID ntype;
    if (status_princ || principal) {
        const char *p = status_princ ? status_princ : principal;
        nb.value = (void *)p;
        nb.length = strlen(p);
        ntype = GSS_KRB5_NT_PRINCIPAL_NAME;
    } else {
        if (!service) {
            snprintf(svcbuf, sizeof(svcbuf), "afpserver@%s", host);
            service = svcbuf;
        }
        nb.value = (void *)service;
        nb.length = strlen(service);
        ntype = GSS_C_NT_HOSTBASED_SERVICE;
    }
    maj = gss_import_name(&min, &nb, ntype, &target);
    if (GSS_ERROR(maj)) {
        gss_die("gss_import_name", maj, min);
        return finish(2, fd);
    }

    /* DSIOpenSession, attention quantum 1024 (as in the captures). */
    static const uint8_t opt[] = { DSI_OPT_ATTENTION_QUANTUM, 4, 0, 0, 4, 0 };
    struct dsi_header h;
    uint8_t *buf;
    uint16_t rid = send_dsi(fd, DSI_OPENSESSION, opt, sizeof(opt));
    if (reply_to(fd, rid, &h, &buf) || h.code != 0)
        die("DSIOpenSession failed%s", NULL);
    free(buf);

    OM_uint32 req_flags = mutual ? GSS_C_MUTUAL_FLAG : 0, ret_flags = 0;
    maj = gss_init_sec_context(&min, GSS_C_NO_CREDENTIAL, &ctx, target, gss_mech_krb5, req_flags,
                               GSS_C_INDEFINITE, GSS_C_NO_CHANNEL_BINDINGS, GSS_C_NO_BUFFER, NULL,
                               &tok, &ret_flags, NULL);
    if (GSS_ERROR(maj)) {
        gss_die("gss_init_sec_context", maj, min);
        return finish(2, fd);
    }
    /* The client principal names the user, unless --user says otherwise. */
    char me[512] = "?", user[256];
    gss_name_t src;
    if (!GSS_ERROR(gss_inquire_cred(&min, GSS_C_NO_CREDENTIAL, &src, NULL, NULL, NULL))) {
        gss_buffer_desc dn;
        if (!GSS_ERROR(gss_display_name(&min, src, &dn, NULL))) {
            snprintf(me, sizeof(me), "%.*s", (int)dn.length, (const char *)dn.value);
            gss_release_buffer(&min, &dn);
        }
        gss_release_name(&min, &src);
    }
    const char *u = user_arg ? user_arg : me;
    size_t ul = strlen(u) < sizeof(user) ? strlen(u) : sizeof(user) - 1;
    memcpy(user, u, ul);
    user[ul] = '\0';
    if (!user_arg && strchr(user, '@'))
        *strrchr(user, '@') = '\0';

    /* FPLoginExt / FPLogin naming the UAM. */
    struct afp_writer w;
    afp_writer_init(&w);
    if (plain) {
        afp_write_u8(&w, 18);              /* FPLogin */
        afp_write_pstring(&w, version);
        afp_write_pstring(&w, UAM_KRB);
        afp_write_pstring(&w, user);
    } else {
        afp_write_head(&w, 63, 0, 0);      /* FPLoginExt, no flags */
        afp_write_pstring(&w, version);
        afp_write_pstring(&w, UAM_KRB);
        afp_write_u8(&w, 3);               /* user name: UTF-8 AFPName */
        afp_write_u16(&w, (uint16_t)strlen(user));
        afp_write_bytes(&w, user, strlen(user));
        afp_write_u8(&w, 3);               /* directory name: empty */
        afp_write_u16(&w, 0);
        afp_write_pad_even(&w);
    }
    uint32_t len;
    int32_t code = command(fd, &w, &buf, &len);
    afp_writer_free(&w);
    printf("%s -> %d%s", plain ? "FPLogin" : "FPLoginExt", code, len == 2 ? "" : "\n");
    if (code != -5001 || len != 2) {
        free(buf);
        drain(fd);
        return finish(1, fd);
    }
    uint16_t id = (uint16_t)(buf[0] << 8 | buf[1]);
    printf(" id 0x%04x\n", id);
    free(buf);

    if (corrupt && tok.length > 16) {
        /* The authenticator is the last part of the AP-REQ: one flipped
         * bit there fails its integrity check at the acceptor. */
        ((uint8_t *)tok.value)[tok.length - 12] ^= 0x40;
        printf("AP-REQ damaged on purpose\n");
    }
    printf("GSS: %zu-byte AP-REQ from %s%s\n", (size_t)tok.length, me,
           mutual ? ", mutual authentication requested" : "");

    /* FPLoginCont: cmd, pad, 0, id, user NUL, pad to even, len, token. */
    afp_writer_init(&w);
    afp_write_u8(&w, 19);
    afp_write_u8(&w, 0);
    afp_write_u8(&w, 0);
    afp_write_u16(&w, id);
    afp_write_bytes(&w, user, strlen(user) + 1);
    afp_write_pad_even(&w);
    afp_write_u16(&w, (uint16_t)tok.length);
    afp_write_bytes(&w, tok.value, tok.length);
    gss_release_buffer(&min, &tok);
    code = command(fd, &w, &buf, &len);
    afp_writer_free(&w);
    printf("FPLoginCont -> %d (%u bytes)\n", code, len);
    if (code != 0) {
        free(buf);
        drain(fd);
        return finish(1, fd);
    }
    struct afp_reader r;
    afp_reader_init(&r, buf, len);
    uint16_t rlen;
    const uint8_t *rtok;
    if (afp_read_u16(&r, &rlen) || afp_read_view(&r, rlen, &rtok))
        die("malformed FPLoginCont reply%s", NULL);
    int rc = 0;
    if (mutual) {
        gss_buffer_desc in = { rlen, (void *)rtok };
        maj = gss_init_sec_context(&min, GSS_C_NO_CREDENTIAL, &ctx, target, gss_mech_krb5, req_flags,
                                   GSS_C_INDEFINITE, GSS_C_NO_CHANNEL_BINDINGS, &in, NULL, &tok,
                                   &ret_flags, NULL);
        gss_release_buffer(&min, &tok);
        if (maj == GSS_S_COMPLETE && (ret_flags & GSS_C_MUTUAL_FLAG)) {
            printf("mutual authentication: %u-byte AP-REP verified\n", rlen);
        } else {
            printf("mutual authentication: AP-REP NOT verified\n");
            gss_die("gss_init_sec_context (AP-REP)", maj, min);
            rc = 3;
        }
    } else {
        printf("no mutual authentication: %u-byte reply token\n", rlen);
        if (maj != GSS_S_COMPLETE)
            rc = 3;
    }
    free(buf);

    /* Logged in: the volumes this user sees, then logout. */
    code = command_bare(fd, 16, &buf, &len);     /* FPGetSrvrParms */
    printf("FPGetSrvrParms -> %d", code);
    afp_reader_init(&r, buf, len);
    uint32_t t;
    uint8_t n = 0;
    if (code == 0 && !afp_read_u32(&r, &t) && !afp_read_u8(&r, &n)) {
        printf(" volumes:");
        for (unsigned i = 0; i < n; i++) {
            uint8_t fl;
            char name[256];
            if (afp_read_u8(&r, &fl) || afp_read_pstring(&r, name, sizeof(name)))
                break;
            printf(" %s", name);
        }
    }
    printf("\n");
    free(buf);
    code = command_bare(fd, 20, &buf, &len);     /* FPLogout */
    free(buf);
    printf("FPLogout -> %d\n", code);
    drain(fd);
    return finish(rc, fd);
}
