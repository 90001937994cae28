/* Share URLs as automount maps write them (see include/sharesfs/url.h and
 * docs/map-formats.md):
 *   afp://[user[;AUTH=uam][:password]@]host[:port]/volume[/path]
 *   smb://[domain;][user[:password]@]host[:port]/share[/path]
 *   //[user@]host/share[/path] and ://host/share[/path]  (SMB)
 *
 * The parser works on byte offsets into the input so that every error can
 * name the 1-based column of the offending byte.  Error messages never echo
 * the password component. */
#include "sharesfs/url.h"

#include "sharesfs/text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define URL_MAX_HOST 253     /* longest DNS name */
#define URL_MAX_ECHO 48      /* longest input excerpt quoted in a message */

struct url_parser {
    const char *text;
    size_t len;
    struct sfs_parse_error *err;
};

/* The parts of a URL, for decoding rules and for messages. */
enum url_part {
    PART_USER,
    PART_PASSWORD,
    PART_DOMAIN,
    PART_AUTH,
    PART_HOST,
    PART_ZONE,
    PART_SHARE,
    PART_PATH,
};

static const char *const part_names[] = {
    [PART_USER] = "user name",
    [PART_PASSWORD] = "password",
    [PART_DOMAIN] = "domain",
    [PART_AUTH] = "AUTH name",
    [PART_HOST] = "host",
    [PART_ZONE] = "IPv6 zone",
    [PART_SHARE] = "share name",
    [PART_PATH] = "path",
};

/* A decoded part and, for each decoded byte, the input offset it came from
 * (src[len] is the end offset), so later checks can still point at a column. */
struct decoded {
    char *s;
    size_t len;
    size_t *src;
};

/* ---- character classes (ASCII only: the locale must not matter) ---- */

static bool is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(unsigned char c)
{
    return is_alpha(c) || is_digit(c);
}

static int hex_value(unsigned char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* RFC 3986 unreserved characters: never percent-encoded on output. */
static bool is_unreserved(unsigned char c)
{
    return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* ---- errors ---- */

static int url_fail(struct url_parser *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int url_fail(struct url_parser *p, size_t pos, const char *fmt, ...)
{
    va_list ap;

    memset(p->err, 0, sizeof(*p->err));
    p->err->column = pos >= (size_t)INT32_MAX ? INT32_MAX : (int)pos + 1;
    va_start(ap, fmt);
    vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static int url_oom(struct url_parser *p)
{
    url_fail(p, 0, "out of memory");
    return -ENOMEM;
}

static int echo_len(size_t n)
{
    return n > URL_MAX_ECHO ? URL_MAX_ECHO : (int)n;
}

/* Offset of the first C in [from, to), or TO when there is none. */
static size_t find_char(const struct url_parser *p, size_t from, size_t to, char c)
{
    for (size_t i = from; i < to; i++)
        if (p->text[i] == c)
            return i;
    return to;
}

/* Offset of the first case-insensitive NEEDLE in [from, to), or TO. */
static size_t find_ci(const struct url_parser *p, size_t from, size_t to, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = from; i + n <= to; i++)
        if (strncasecmp(p->text + i, needle, n) == 0)
            return i;
    return to;
}

/* ---- percent-decoding ---- */

static bool decoded_byte_ok(enum url_part part, unsigned char c)
{
    switch (part) {
    case PART_HOST:
    case PART_ZONE:
        return is_unreserved(c) || c >= 0x80;
    case PART_SHARE:
        return c != '/';
    default:
        return true;
    }
}

static void decoded_free(struct decoded *d)
{
    free(d->s);
    free(d->src);
    memset(d, 0, sizeof(*d));
}

/* Reads one %XX escape at I.  Returns the byte, or -1 (error reported). */
static int decode_escape(struct url_parser *p, size_t i, size_t end, enum url_part part)
{
    const char *t = p->text;
    const char *what = part_names[part];

    if (i + 2 >= end || hex_value((unsigned char)t[i + 1]) < 0 || hex_value((unsigned char)t[i + 2]) < 0) {
        if (part == PART_PASSWORD)
            url_fail(p, i, "bad percent-escape in password");
        else
            url_fail(p, i, "bad percent-escape '%.*s' in %s", echo_len(end - i < 3 ? end - i : 3), t + i, what);
        return -1;
    }
    int c = hex_value((unsigned char)t[i + 1]) * 16 + hex_value((unsigned char)t[i + 2]);
    if (c == 0) {
        url_fail(p, i, "NUL byte (%%00) not allowed in %s", what);
        return -1;
    }
    if (sfs_is_control((unsigned char)c)) {
        url_fail(p, i, "control character (%%%02X) not allowed in %s", c, what);
        return -1;
    }
    return c;
}

/* Checks one literal byte at I. */
static int check_literal(struct url_parser *p, size_t i, enum url_part part)
{
    unsigned char c = (unsigned char)p->text[i];
    const char *what = part_names[part];

    if (sfs_is_control(c))
        return url_fail(p, i, "control character (0x%02X) not allowed in %s", c, what);
    /* '?' and '#' would start a query or fragment in a generic URL. */
    if (c == '?' || c == '#')
        return url_fail(p, i, "'%c' in %s must be written %%%02X", c, what, c);
    return 0;
}

/* Decodes [start, end) of the input as PART into *out. */
static int decode_part(struct url_parser *p, size_t start, size_t end, enum url_part part,
                       struct decoded *out)
{
    size_t n = end - start;

    memset(out, 0, sizeof(*out));
    out->s = malloc(n + 1);
    out->src = malloc((n + 1) * sizeof(*out->src));
    if (!out->s || !out->src) {
        decoded_free(out);
        return url_oom(p);
    }
    for (size_t i = start; i < end;) {
        size_t at = i;
        int c;
        if (p->text[i] == '%') {
            c = decode_escape(p, i, end, part);
            if (c < 0)
                goto fail;
            i += 3;
        } else {
            if (check_literal(p, i, part) < 0)
                goto fail;
            c = (unsigned char)p->text[i++];
        }
        if (!decoded_byte_ok(part, (unsigned char)c)) {
            if (c > 0x20 && c < 0x7f)
                url_fail(p, at, "invalid character '%c' in %s", c, part_names[part]);
            else
                url_fail(p, at, "invalid character (0x%02X) in %s", c, part_names[part]);
            goto fail;
        }
        out->src[out->len] = at;
        out->s[out->len++] = (char)c;
    }
    out->s[out->len] = '\0';
    out->src[out->len] = end;
    return 0;
fail:
    decoded_free(out);
    return -EINVAL;
}

/* Decodes [start, end) and keeps only the string. */
static int decode_string(struct url_parser *p, size_t start, size_t end, enum url_part part, char **out)
{
    struct decoded d;
    int rc = decode_part(p, start, end, part, &d);
    if (rc < 0)
        return rc;
    free(d.src);
    *out = d.s;
    return 0;
}

/* ---- scheme ---- */

static int parse_scheme(struct url_parser *p, enum sfs_proto *proto, size_t *pos)
{
    const char *t = p->text;
    size_t k = 0;

    if (t[0] == '/' && t[1] == '/') {
        *proto = SFS_PROTO_SMB;
        *pos = 2;
        return 0;
    }
    if (t[0] == ':' && t[1] == '/' && t[2] == '/') {
        *proto = SFS_PROTO_SMB;
        *pos = 3;
        return 0;
    }
    while (is_alnum((unsigned char)t[k]) || t[k] == '+' || t[k] == '-' || t[k] == '.')
        k++;
    if (k == 0 || !is_alpha((unsigned char)t[0]) || t[k] != ':')
        return url_fail(p, 0, "not a share URL (expected afp://, smb://, //host/share or ://host/share)");
    if (t[k + 1] != '/' || t[k + 2] != '/')
        return url_fail(p, k + 1, "expected '//' after '%.*s:'", echo_len(k), t);
    if (k == 3 && strncasecmp(t, "afp", 3) == 0)
        *proto = SFS_PROTO_AFP;
    else if (k == 3 && strncasecmp(t, "smb", 3) == 0)
        *proto = SFS_PROTO_SMB;
    else
        return url_fail(p, 0, "unsupported scheme '%.*s' (expected afp or smb)", echo_len(k), t);
    *pos = k + 3;
    return 0;
}

/* ---- user information ---- */

/* AFP: user[;AUTH=uam][:password], user may be empty when ;AUTH= is given. */
static int parse_afp_userinfo(struct url_parser *p, struct sfs_url *u, size_t s, size_t e)
{
    size_t colon = find_char(p, s, e, ':');
    size_t semi = find_char(p, s, colon, ';');
    int rc;

    if (semi == s && colon == s)
        return url_fail(p, s, "empty user name");
    if (semi < colon && (colon - semi < 6 || strncasecmp(p->text + semi, ";AUTH=", 6) != 0))
        return url_fail(p, semi, "expected ';AUTH=uam' after the user name");
    if (semi > s && (rc = decode_string(p, s, semi, PART_USER, &u->user)) < 0)
        return rc;
    if (semi < colon) {
        if (semi + 6 == colon)
            return url_fail(p, semi + 6, "empty ;AUTH= name");
        if ((rc = decode_string(p, semi + 6, colon, PART_AUTH, &u->auth)) < 0)
            return rc;
    }
    if (colon < e) {
        /* "user:pass;AUTH=x@" would silently put the UAM into the password. */
        size_t late_auth = find_ci(p, colon + 1, e, ";AUTH=");
        if (late_auth < e)
            return url_fail(p, colon, "';AUTH=uam' must come before ':password'");
        if ((rc = decode_string(p, colon + 1, e, PART_PASSWORD, &u->password)) < 0)
            return rc;
    }
    return 0;
}

/* SMB: [domain;]user[:password]. */
static int parse_smb_userinfo(struct url_parser *p, struct sfs_url *u, size_t s, size_t e)
{
    size_t colon = find_char(p, s, e, ':');
    size_t semi = find_char(p, s, colon, ';');
    size_t user_start = s;
    int rc;

    if (semi < colon) {
        if (semi == s)
            return url_fail(p, s, "empty domain before ';'");
        if ((rc = decode_string(p, s, semi, PART_DOMAIN, &u->domain)) < 0)
            return rc;
        user_start = semi + 1;
    }
    if (user_start == colon)
        return url_fail(p, user_start, "empty user name");
    if ((rc = decode_string(p, user_start, colon, PART_USER, &u->user)) < 0)
        return rc;
    if (colon < e && (rc = decode_string(p, colon + 1, e, PART_PASSWORD, &u->password)) < 0)
        return rc;
    return 0;
}

/* ---- host and port ---- */

/* [s, e) is the inside of "[...]": an IPv6 address, optionally "%25zone". */
static int parse_ipv6(struct url_parser *p, struct sfs_url *u, size_t s, size_t e)
{
    char addr[INET6_ADDRSTRLEN];
    struct in6_addr bin;
    size_t zone = find_ci(p, s, e, "%25");
    size_t n = zone - s;
    char *zone_text = NULL;
    int rc;

    if (s == e)
        return url_fail(p, s, "empty IPv6 literal");
    if (n == 0 || n >= sizeof(addr))
        return url_fail(p, s, "invalid IPv6 address '%.*s'", echo_len(e - s), p->text + s);
    memcpy(addr, p->text + s, n);
    addr[n] = '\0';
    if (inet_pton(AF_INET6, addr, &bin) != 1)
        return url_fail(p, s, "invalid IPv6 address '%.*s'", echo_len(n), p->text + s);
    if (zone < e) {
        if (zone + 3 == e)
            return url_fail(p, zone, "empty IPv6 zone after '%%25'");
        if ((rc = decode_string(p, zone + 3, e, PART_ZONE, &zone_text)) < 0)
            return rc;
    }
    size_t total = n + (zone_text ? strlen(zone_text) + 1 : 0) + 1;
    u->host = malloc(total);
    if (!u->host) {
        free(zone_text);
        return url_oom(p);
    }
    snprintf(u->host, total, "%s%s%s", addr, zone_text ? "%" : "", zone_text ? zone_text : "");
    free(zone_text);
    u->host_is_ipv6 = true;
    return 0;
}

/* [s, e) holds the port digits. */
static int parse_port(struct url_parser *p, struct sfs_url *u, size_t s, size_t e)
{
    long value = 0;
    bool ok = e - s <= 5;

    if (s == e)
        return url_fail(p, s, "missing port number after ':'");
    for (size_t i = s; i < e && ok; i++) {
        if (!is_digit((unsigned char)p->text[i]))
            ok = false;
        else
            value = value * 10 + (p->text[i] - '0');
    }
    if (ok && value >= 1 && value <= 65535) {
        u->port = (int)value;
        return 0;
    }
    /* An '@' further on means the "port" is likely part of a password that
     * holds a raw '/': do not quote it. */
    if (strchr(p->text + e, '@'))
        return url_fail(p, s, "invalid port (a '/' in a user name or password must be written %%2F)");
    return url_fail(p, s, "invalid port '%.*s' (expected 1-65535)", echo_len(e - s), p->text + s);
}

static int parse_host_port(struct url_parser *p, struct sfs_url *u, size_t s, size_t e)
{
    size_t port_colon = e;
    int rc;

    if (s == e)
        return url_fail(p, s, "missing host");
    if (p->text[s] == '[') {
        size_t close = find_char(p, s + 1, e, ']');
        if (close == e)
            return url_fail(p, s, "unterminated IPv6 literal");
        if ((rc = parse_ipv6(p, u, s + 1, close)) < 0)
            return rc;
        if (close + 1 < e && p->text[close + 1] != ':')
            return url_fail(p, close + 1, "unexpected character after IPv6 literal");
        port_colon = close + 1;
    } else {
        port_colon = find_char(p, s, e, ':');
        if (port_colon < e && find_char(p, port_colon + 1, e, ':') < e)
            return url_fail(p, s, "IPv6 address must be written in brackets ([...])");
        if (port_colon == s)
            return url_fail(p, s, "missing host");
        if ((rc = decode_string(p, s, port_colon, PART_HOST, &u->host)) < 0)
            return rc;
        if (strlen(u->host) > URL_MAX_HOST)
            return url_fail(p, s, "host name longer than %d bytes", URL_MAX_HOST);
    }
    if (port_colon < e)
        return parse_port(p, u, port_colon + 1, e);
    return 0;
}

/* [s, e) is everything between "//" and the first '/' after it. */
static int parse_authority(struct url_parser *p, struct sfs_url *u, size_t s, size_t e)
{
    size_t at = find_char(p, s, e, '@');
    size_t host_start = s;
    int rc;

    if (at < e) {
        if (find_char(p, at + 1, e, '@') < e)
            return url_fail(p, at, "'@' in a user name or password must be written %%40");
        if (u->proto == SFS_PROTO_AFP)
            rc = parse_afp_userinfo(p, u, s, at);
        else
            rc = parse_smb_userinfo(p, u, s, at);
        if (rc < 0)
            return rc;
        host_start = at + 1;
    }
    return parse_host_port(p, u, host_start, e);
}

/* ---- share and path ---- */

static bool is_dot_name(const char *s, size_t n)
{
    return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

/* Path components may not be empty, "." or "..": the path must stay inside
 * the share and mean one thing. */
static int check_path_components(struct url_parser *p, const struct decoded *d)
{
    size_t start = 0;

    for (size_t i = 0; i <= d->len; i++) {
        if (i < d->len && d->s[i] != '/')
            continue;
        if (i == start)
            return url_fail(p, d->src[start], "empty path component");
        if (is_dot_name(d->s + start, i - start))
            return url_fail(p, d->src[start], "path component '%.*s' not allowed", (int)(i - start),
                            d->s + start);
        start = i + 1;
    }
    return 0;
}

static int parse_share_path(struct url_parser *p, struct sfs_url *u, size_t start)
{
    size_t s = start + 1, e = p->len;
    struct decoded d;
    int rc;

    if (start >= p->len)
        return 0;
    while (e > s && p->text[e - 1] == '/')
        e--; /* a trailing slash means nothing */
    if (s == e)
        return 0; /* server-only URL */
    size_t slash = find_char(p, s, e, '/');
    if (slash == s)
        return url_fail(p, s, "empty share name");
    if ((rc = decode_string(p, s, slash, PART_SHARE, &u->share)) < 0)
        return rc;
    if (is_dot_name(u->share, strlen(u->share)))
        return url_fail(p, s, "share name '%s' not allowed", u->share);
    if (slash == e)
        return 0;
    if ((rc = decode_part(p, slash + 1, e, PART_PATH, &d)) < 0)
        return rc;
    rc = check_path_components(p, &d);
    if (rc == 0) {
        u->path = d.s;
        d.s = NULL;
    }
    decoded_free(&d);
    return rc;
}

/* ---- public API ---- */

static int parse_url(struct url_parser *p, struct sfs_url *u)
{
    size_t pos = 0;
    int rc = parse_scheme(p, &u->proto, &pos);
    if (rc < 0)
        return rc;
    size_t authority_end = find_char(p, pos, p->len, '/');
    if ((rc = parse_authority(p, u, pos, authority_end)) < 0)
        return rc;
    return parse_share_path(p, u, authority_end);
}

int sfs_url_parse(const char *text, struct sfs_url *out, struct sfs_parse_error *err)
{
    struct sfs_parse_error scratch;
    struct url_parser p = {.text = text, .len = text ? strlen(text) : 0, .err = err ? err : &scratch};
    struct sfs_url u = {0};
    int rc;

    memset(p.err, 0, sizeof(*p.err));
    if (out)
        memset(out, 0, sizeof(*out));
    if (!out || !text || !*text)
        return url_fail(&p, 0, "empty URL");
    rc = parse_url(&p, &u);
    if (rc < 0) {
        sfs_url_free(&u);
        return rc;
    }
    *out = u;
    return 0;
}

void sfs_url_free(struct sfs_url *url)
{
    if (!url)
        return;
    free(url->user);
    free(url->password);
    free(url->domain);
    free(url->auth);
    free(url->host);
    free(url->share);
    free(url->path);
    memset(url, 0, sizeof(*url));
}

static int dup_field(char **dst, const char *src)
{
    *dst = NULL;
    if (!src)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : -ENOMEM;
}

int sfs_url_copy(struct sfs_url *dst, const struct sfs_url *src)
{
    if (!dst)
        return -EINVAL;
    memset(dst, 0, sizeof(*dst));
    if (!src)
        return -EINVAL;
    dst->proto = src->proto;
    dst->host_is_ipv6 = src->host_is_ipv6;
    dst->port = src->port;
    if (dup_field(&dst->user, src->user) || dup_field(&dst->password, src->password) ||
        dup_field(&dst->domain, src->domain) || dup_field(&dst->auth, src->auth) ||
        dup_field(&dst->host, src->host) || dup_field(&dst->share, src->share) ||
        dup_field(&dst->path, src->path)) {
        sfs_url_free(dst);
        return -ENOMEM;
    }
    return 0;
}

/* ---- display ---- */

struct out_buf {
    char *s;
    size_t len, cap;
    bool failed;
};

static void out_put(struct out_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *ns = realloc(b->s, cap);
        if (!ns) {
            b->failed = true;
            return;
        }
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void out_str(struct out_buf *b, const char *s)
{
    out_put(b, s, strlen(s));
}

/* Appends S percent-encoded; unreserved characters and those in KEEP stay. */
static void out_encoded(struct out_buf *b, const char *s, const char *keep)
{
    static const char hex[] = "0123456789ABCDEF";

    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (is_unreserved(*c) || strchr(keep, *c)) {
            out_put(b, (const char *)c, 1);
        } else {
            char esc[3] = {'%', hex[*c >> 4], hex[*c & 15]};
            out_put(b, esc, 3);
        }
    }
}

/* Sub-delimiters that are safe to leave as they are in each part. */
#define KEEP_USERINFO "!$&'()*+,="
#define KEEP_SHARE "!$&'()*+,=:@"
#define KEEP_PATH "!$&'()*+,=:@/"

static void out_userinfo(struct out_buf *b, const struct sfs_url *u)
{
    if (u->proto == SFS_PROTO_AFP && (u->user || u->auth)) {
        if (u->user)
            out_encoded(b, u->user, KEEP_USERINFO);
        if (u->auth) {
            out_str(b, ";AUTH=");
            out_encoded(b, u->auth, KEEP_USERINFO);
        }
        out_str(b, "@");
    } else if (u->proto != SFS_PROTO_AFP && u->user) {
        if (u->domain) {
            out_encoded(b, u->domain, KEEP_USERINFO);
            out_str(b, ";");
        }
        out_encoded(b, u->user, KEEP_USERINFO);
        out_str(b, "@");
    }
}

char *sfs_url_to_display(const struct sfs_url *url)
{
    struct out_buf b = {0};
    char port[16];

    if (!url)
        return NULL;
    out_str(&b, url->proto == SFS_PROTO_AFP ? "afp://" : "smb://");
    out_userinfo(&b, url);
    if (url->host_is_ipv6) {
        out_str(&b, "[");
        out_encoded(&b, url->host ? url->host : "", ":");
        out_str(&b, "]");
    } else {
        out_encoded(&b, url->host ? url->host : "", "");
    }
    if (url->port > 0) {
        snprintf(port, sizeof(port), ":%d", url->port);
        out_str(&b, port);
    }
    if (url->share) {
        out_str(&b, "/");
        out_encoded(&b, url->share, KEEP_SHARE);
        if (url->path) {
            out_str(&b, "/");
            out_encoded(&b, url->path, KEEP_PATH);
        }
    }
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

int sfs_url_port(const struct sfs_url *url)
{
    if (!url)
        return 0;
    if (url->port > 0)
        return url->port;
    switch (url->proto) {
    case SFS_PROTO_AFP:
        return 548;
    case SFS_PROTO_SMB:
        return 445;
    default:
        return 0;
    }
}

const char *sfs_proto_name(enum sfs_proto proto)
{
    switch (proto) {
    case SFS_PROTO_AFP:
        return "afp";
    case SFS_PROTO_SMB:
        return "smb";
    default:
        return "unknown";
    }
}

void sfs_parse_error_format(const struct sfs_parse_error *err, char *buf, size_t len)
{
    if (!buf || len == 0)
        return;
    if (!err) {
        buf[0] = '\0';
        return;
    }
    if (err->file[0] && err->line > 0)
        snprintf(buf, len, "%s:%d:%d: %s", err->file, err->line, err->column, err->message);
    else if (err->file[0])
        snprintf(buf, len, "%s: %s", err->file, err->message);
    else if (err->column > 0)
        snprintf(buf, len, "col %d: %s", err->column, err->message);
    else
        snprintf(buf, len, "%s", err->message);
}
