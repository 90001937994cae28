/* Personalities: data files (GKeyFile) that say what one AFP server version
 * looks like on the wire, and the FPGetSrvrInfo block built from them. */
#include "afpsim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gcrypt.h>

static const struct {
    const char *name;
    unsigned bit;
} hostile_names[] = {
    { "truncate", H_TRUNCATE },
    { "badlength", H_BADLENGTH },
    { "badoffset", H_BADOFFSET },
    { "endless", H_ENDLESS },
    { "stall-read", H_STALL_READ },
    { "garbage-status", H_GARBAGE_STATUS },
    { "wrong-rid", H_WRONG_RID },
    { "no-reply", H_NO_REPLY },
    { "close", H_CLOSE },
    { "slow", H_SLOW },
    { "oversize-read", H_OVERSIZE_READ },
    { "badcount", H_BADCOUNT },
    { "bad-dh", H_BAD_DH },
    { "bad-flags", H_BAD_FLAGS },
    { "bad-aprep", H_BAD_APREP },
    { "short-write", H_SHORT_WRITE },
};

const char *hostile_mode_name(unsigned bit)
{
    for (size_t i = 0; i < G_N_ELEMENTS(hostile_names); i++)
        if (hostile_names[i].bit == bit)
            return hostile_names[i].name;
    return "?";
}

int hostile_mode_parse(const char *s, unsigned *bit)
{
    for (size_t i = 0; i < G_N_ELEMENTS(hostile_names); i++)
        if (!strcasecmp(hostile_names[i].name, s)) {
            *bit = hostile_names[i].bit;
            return 0;
        }
    return -1;
}

int afp_version_num(const char *s)
{
    static const struct {
        const char *name;
        int num;
    } v[] = {
        { "AFPVersion 1.1", 11 }, { "AFPVersion 2.0", 20 }, { "AFPVersion 2.1", 21 },
        { "AFP2.2", 22 }, { "AFPX03", 30 }, { "AFP3.1", 31 }, { "AFP3.2", 32 },
        { "AFP3.3", 33 }, { "AFP3.4", 34 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(v); i++)
        if (!strcasecmp(v[i].name, s))
            return v[i].num;
    return 0;
}

/* ---------------------------------------------------------------- loading */

/* Every key afpsim understands, by group.  Keys ending in "_source" are
 * notes for humans and are accepted anywhere. */
static const char *const known_keys[] = {
    "personality.name", "personality.description",
    "server.machine_type", "server.afp_versions", "server.uams", "server.flags",
    "server.server_name", "server.utf8_server_name", "server.signature",
    "server.signature_hex", "server.icon", "server.fqdn", "server.krb_principal",
    "server.addr_port_always", "server.utf8_name_shift",
    "session.server_quantum", "session.replay_cache", "session.login_message",
    "session.tickle_interval", "session.session_timeout", "session.answer_tickles",
    "session.logout_close",
    "volumes.attributes", "volumes.first_cnid", "volumes.first_fork", "volumes.guest_uaowner",
    "volumes.umask", "volumes.dir_setgid", "volumes.efbig_error", "volumes.through_file_error",
    "uams.krb_refusal", "uams.dhx2_prime", "uams.auth_fail_delay_ms",
    "hostile.mode", "hostile.target", "hostile.nth", "hostile.count", "hostile.delta",
    "hostile.after_bytes", "hostile.interval_ms", "hostile.length",
    NULL,
};

static bool key_known(const char *group, const char *key)
{
    if (g_str_has_suffix(key, "_source"))
        return true;
    char *full = g_strdup_printf("%s.%s", group, key);
    bool ok = false;
    for (size_t i = 0; known_keys[i]; i++)
        if (!strcmp(known_keys[i], full)) {
            ok = true;
            break;
        }
    g_free(full);
    return ok;
}

static char *get_str(GKeyFile *kf, const char *g, const char *k, const char *def)
{
    char *v = g_key_file_get_string(kf, g, k, NULL);
    if (!v)
        return def ? g_strdup(def) : NULL;
    if (!*v) {
        g_free(v);
        return NULL;
    }
    return v;
}

static bool get_num(GKeyFile *kf, const char *g, const char *k, unsigned long long def,
                    unsigned long long max, unsigned long long *out)
{
    char *v = g_key_file_get_string(kf, g, k, NULL);
    if (!v) {
        *out = def;
        return true;
    }
    char *end;
    errno = 0;
    unsigned long long n = strtoull(g_strstrip(v), &end, 0);
    bool ok = errno == 0 && end != v && *end == '\0' && n <= max;
    if (!ok)
        log_msg(LOG_ERR, "personality: %s.%s = \"%s\" is not a number <= %llu", g, k, v, max);
    g_free(v);
    *out = n;
    return ok;
}

static bool get_long(GKeyFile *kf, const char *g, const char *k, long def, long *out)
{
    char *v = g_key_file_get_string(kf, g, k, NULL);
    if (!v) {
        *out = def;
        return true;
    }
    char *end;
    errno = 0;
    long n = strtol(g_strstrip(v), &end, 0);
    bool ok = errno == 0 && end != v && *end == '\0';
    if (!ok)
        log_msg(LOG_ERR, "personality: %s.%s = \"%s\" is not a number", g, k, v);
    g_free(v);
    *out = n;
    return ok;
}

static bool get_bool(GKeyFile *kf, const char *g, const char *k, bool def, bool *out)
{
    GError *err = NULL;
    if (!g_key_file_has_key(kf, g, k, NULL)) {
        *out = def;
        return true;
    }
    gboolean b = g_key_file_get_boolean(kf, g, k, &err);
    if (err) {
        log_msg(LOG_ERR, "personality: %s.%s: %s", g, k, err->message);
        g_error_free(err);
        return false;
    }
    *out = b;
    return true;
}

/* g.k, one of two words (the first is the default): *second tells which.
 * False, after saying what is allowed, when it is neither. */
static bool get_either(GKeyFile *kf, const char *file, const char *g, const char *k,
                       const char *first, const char *other, bool *second)
{
    char *v = get_str(kf, g, k, first);
    bool ok = !strcmp(v, first) || !strcmp(v, other);
    *second = !strcmp(v, other);
    if (!ok)
        log_msg(LOG_ERR, "personality %s: %s.%s must be %s or %s", file, g, k, first, other);
    g_free(v);
    return ok;
}

/* g.k, an AFP result by name: "misc", "diskfull", "param", "notfound". */
static bool get_alt_error(GKeyFile *kf, const char *file, const char *g, const char *k,
                          const char *def, int32_t *out)
{
    static const struct { const char *name; int32_t code; } errs[] = {
        { "misc", kFPMiscErr }, { "diskfull", kFPDiskFull },
        { "param", kFPParamErr }, { "notfound", kFPObjectNotFound },
    };
    char *v = get_str(kf, g, k, def);
    bool ok = false;
    for (size_t i = 0; v && i < G_N_ELEMENTS(errs); i++)
        if (!strcmp(v, errs[i].name)) {
            *out = errs[i].code;
            ok = true;
        }
    if (!ok)
        log_msg(LOG_ERR, "personality %s: %s.%s must be misc, diskfull, param or notfound", file, g, k);
    g_free(v);
    return ok;
}

static char **get_list(GKeyFile *kf, const char *g, const char *k)
{
    gsize n = 0;
    char **l = g_key_file_get_string_list(kf, g, k, &n, NULL);
    if (!l)
        return g_new0(char *, 1);
    /* Trim, drop empty items (a trailing ';'). */
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        g_strstrip(l[i]);
        if (*l[i])
            l[o++] = l[i];
        else
            g_free(l[i]);
    }
    l[o] = NULL;
    return l;
}

static bool parse_hex(const char *s, uint8_t *out, size_t n)
{
    if (strlen(s) != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        int hi = g_ascii_xdigit_value(s[2 * i]), lo = g_ascii_xdigit_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static bool apply_override(GKeyFile *kf, const char *ov)
{
    const char *eq = strchr(ov, '=');
    const char *dot = strchr(ov, '.');
    if (!eq || !dot || dot > eq || dot == ov || eq == dot + 1) {
        log_msg(LOG_ERR, "--set %s: expected GROUP.KEY=VALUE", ov);
        return false;
    }
    char *group = g_strndup(ov, (size_t)(dot - ov));
    char *key = g_strndup(dot + 1, (size_t)(eq - dot - 1));
    bool ok = key_known(group, key);
    if (!ok)
        log_msg(LOG_ERR, "--set %s: unknown key %s.%s", ov, group, key);
    else
        g_key_file_set_value(kf, group, key, eq + 1);
    g_free(group);
    g_free(key);
    return ok;
}

int persona_load(struct persona *p, const char *file, char **overrides)
{
    GKeyFile *kf = g_key_file_new();
    GError *err = NULL;
    bool ok = true;
    unsigned long long n;

    memset(p, 0, sizeof(*p));
    p->file = g_strdup(file);
    if (!g_key_file_load_from_file(kf, file, G_KEY_FILE_NONE, &err)) {
        log_msg(LOG_ERR, "personality %s: %s", file, err->message);
        g_error_free(err);
        g_key_file_free(kf);
        persona_free(p);
        return -1;
    }
    for (size_t i = 0; overrides && overrides[i]; i++)
        ok &= apply_override(kf, overrides[i]);

    gchar **groups = g_key_file_get_groups(kf, NULL);
    for (size_t gi = 0; groups[gi]; gi++) {
        gchar **keys = g_key_file_get_keys(kf, groups[gi], NULL, NULL);
        for (size_t ki = 0; keys && keys[ki]; ki++)
            if (!key_known(groups[gi], keys[ki])) {
                log_msg(LOG_ERR, "personality %s: unknown key [%s] %s", file, groups[gi], keys[ki]);
                ok = false;
            }
        g_strfreev(keys);
    }
    g_strfreev(groups);

    char *base = g_path_get_basename(file);
    if (g_str_has_suffix(base, ".conf"))
        base[strlen(base) - 5] = '\0';
    p->name = get_str(kf, "personality", "name", base);
    g_free(base);
    p->description = get_str(kf, "personality", "description", "");

    p->machine_type = get_str(kf, "server", "machine_type", "afpsim");
    p->versions = get_list(kf, "server", "afp_versions");
    p->uams = get_list(kf, "server", "uams");
    if (!p->versions[0]) {
        log_msg(LOG_ERR, "personality %s: server.afp_versions is empty", file);
        ok = false;
    }
    for (size_t i = 0; p->versions[i]; i++)
        if (strlen(p->versions[i]) > 255)
            ok = false;
    for (size_t i = 0; p->uams[i]; i++)
        if (strlen(p->uams[i]) > 255)
            ok = false;
    ok &= get_num(kf, "server", "flags", 0x8f79, 0xffff, &n);
    p->flags = (uint16_t)n;
    /* Without server_name: the first label of fqdn, else the host name. */
    p->fqdn = get_str(kf, "server", "fqdn", NULL);
    char host[256] = "afpsim";
    if (p->fqdn)
        g_strlcpy(host, p->fqdn, sizeof(host));
    else if (gethostname(host, sizeof(host) - 1) == 0)
        host[sizeof(host) - 1] = '\0';
    char *dot = strchr(host, '.');
    if (dot && dot != host)
        *dot = '\0';
    p->server_name = get_str(kf, "server", "server_name", host);
    if (!p->server_name)
        p->server_name = g_strdup(host);
    if (strlen(p->server_name) > 255) {
        log_msg(LOG_ERR, "personality %s: server_name longer than 255 bytes", file);
        ok = false;
    }
    /* Default: the UTF-8 name equals the server name when flag 0x0200 is set. */
    if (g_key_file_has_key(kf, "server", "utf8_server_name", NULL))
        p->utf8_server_name = get_str(kf, "server", "utf8_server_name", NULL);
    else if (p->flags & kSupportsUTF8SrvrName)
        p->utf8_server_name = g_strdup(p->server_name);
    char *sig = get_str(kf, "server", "signature", NULL);
    char *sighex = get_str(kf, "server", "signature_hex", NULL);
    if (sighex) {
        p->has_signature = parse_hex(sighex, p->signature, 16);
        if (!p->has_signature) {
            log_msg(LOG_ERR, "personality %s: signature_hex needs 32 hex digits", file);
            ok = false;
        }
    } else if (sig) {
        size_t l = strlen(sig);
        memset(p->signature, 0, 16);
        memcpy(p->signature, sig, l > 16 ? 16 : l);
        p->has_signature = true;
    } else if (p->flags & kSrvrSig) {
        /* Stable per server name, like a host ID. */
        uint8_t md[32];
        gcry_md_hash_buffer(GCRY_MD_SHA256, md, p->server_name, strlen(p->server_name));
        memcpy(p->signature, md, 16);
        p->has_signature = true;
    }
    g_free(sig);
    g_free(sighex);
    ok &= get_bool(kf, "server", "icon", true, &p->icon);
    char *princ = get_str(kf, "server", "krb_principal", NULL);
    if (princ) {
        /* %h: fqdn (or server name) */
        const char *h = p->fqdn ? p->fqdn : p->server_name;
        GString *s = g_string_new(NULL);
        for (const char *c = princ; *c; c++) {
            if (c[0] == '%' && c[1] == 'h') {
                g_string_append(s, h);
                c++;
            } else {
                g_string_append_c(s, *c);
            }
        }
        p->krb_principal = g_string_free(s, FALSE);
        g_free(princ);
        if (strlen(p->krb_principal) > 255)
            ok = false;
    }
    ok &= get_bool(kf, "server", "addr_port_always", false, &p->addr_port_always);
    long shift;
    ok &= get_long(kf, "server", "utf8_name_shift", 0, &shift);
    if (shift < -1 || shift > 8) {
        log_msg(LOG_ERR, "personality %s: utf8_name_shift must be -1..8", file);
        ok = false;
    }
    p->utf8_name_shift = (int)shift;

    ok &= get_num(kf, "session", "server_quantum", 0x100000, 0x7fffffff, &n);
    p->server_quantum = (uint32_t)n;
    if (p->server_quantum < 4096) {
        log_msg(LOG_ERR, "personality %s: server_quantum below 4096", file);
        ok = false;
    }
    ok &= get_num(kf, "session", "replay_cache", 0, 0xffffffff, &n);
    p->replay_cache = (uint32_t)n;
    p->login_message = get_str(kf, "session", "login_message", NULL);
    ok &= get_num(kf, "session", "tickle_interval", 30, 86400, &n);
    p->tickle_interval = (unsigned)n;
    ok &= get_num(kf, "session", "session_timeout", 120, 86400 * 7, &n);
    p->session_timeout = (unsigned)n;
    ok &= get_bool(kf, "session", "answer_tickles", false, &p->answer_tickles);
    ok &= get_bool(kf, "session", "logout_close", true, &p->logout_close);

    ok &= get_num(kf, "volumes", "attributes", 0x14ec, 0xffff, &n);
    p->vol_attributes = (uint16_t)n;
    ok &= get_num(kf, "volumes", "first_cnid", 17, 0x7fffffff, &n);
    p->first_cnid = (uint32_t)n;
    ok &= get_num(kf, "volumes", "first_fork", 256, 0xffff - AFPSIM_MAX_FORKS, &n);
    p->first_fork = (uint16_t)(n ? n : 1);
    ok &= get_bool(kf, "volumes", "guest_uaowner", true, &p->guest_uaowner);
    ok &= get_num(kf, "volumes", "umask", 022, 0777, &n);
    p->umask = (unsigned)n;
    ok &= get_bool(kf, "volumes", "dir_setgid", false, &p->dir_setgid);
    ok &= get_alt_error(kf, file, "volumes", "efbig_error", "misc", &p->efbig_error);
    ok &= get_alt_error(kf, file, "volumes", "through_file_error", "notfound", &p->through_file_error);

    bool second;
    ok &= get_either(kf, file, "uams", "krb_refusal", "misc", "bad-uam", &second);
    p->krb_refusal = second ? KRB_REFUSE_BAD_UAM : KRB_REFUSE_MISC;
    ok &= get_either(kf, file, "uams", "dhx2_prime", "fresh", "fixed", &second);
    p->dhx2_prime = second ? DHX2_PRIME_FIXED : DHX2_PRIME_FRESH;
    ok &= get_num(kf, "uams", "auth_fail_delay_ms", 0, 60000, &n);
    p->auth_fail_delay_ms = (unsigned)n;

    struct hostile *h = &p->hostile;
    char *modes = get_str(kf, "hostile", "mode", NULL);
    if (modes) {
        char **parts = g_strsplit_set(modes, "|,; ", -1);
        for (size_t i = 0; parts[i]; i++) {
            unsigned bit;
            if (!*parts[i])
                continue;
            if (hostile_mode_parse(parts[i], &bit)) {
                log_msg(LOG_ERR, "personality %s: unknown hostile mode \"%s\"", file, parts[i]);
                ok = false;
            } else {
                h->modes |= bit;
            }
        }
        g_strfreev(parts);
        g_free(modes);
    }
    char *targets = get_str(kf, "hostile", "target", NULL);
    h->targets = targets ? g_strsplit_set(targets, "|,; ", -1) : NULL;
    g_free(targets);
    ok &= get_num(kf, "hostile", "nth", 1, 1000000, &n);
    h->nth = n ? (unsigned)n : 1;
    ok &= get_num(kf, "hostile", "count", 0, 1000000, &n);
    h->count = (unsigned)n;
    ok &= get_long(kf, "hostile", "delta", 16, &h->delta);
    ok &= get_num(kf, "hostile", "after_bytes", 65536, UINT64_MAX, &n);
    h->after_bytes = n;
    ok &= get_num(kf, "hostile", "interval_ms", 200, 3600000, &n);
    h->interval_ms = (unsigned)n;
    ok &= get_num(kf, "hostile", "length", 0x7ffffff0, 0xffffffff, &n);
    h->length = (uint32_t)n;

    g_key_file_free(kf);
    if (!ok)
        persona_free(p);
    return ok ? 0 : -1;
}

bool persona_offers_uam(const struct persona *p, const char *uam)
{
    for (size_t i = 0; p->uams[i]; i++)
        if (!strcasecmp(p->uams[i], uam))
            return true;
    return false;
}

bool persona_offers_version(const struct persona *p, const char *version)
{
    for (size_t i = 0; p->versions[i]; i++)
        if (!strcasecmp(p->versions[i], version))
            return true;
    return false;
}

void persona_free(struct persona *p)
{
    g_free(p->file);
    g_free(p->name);
    g_free(p->description);
    g_free(p->machine_type);
    g_strfreev(p->versions);
    g_strfreev(p->uams);
    g_free(p->server_name);
    g_free(p->utf8_server_name);
    g_free(p->fqdn);
    g_free(p->krb_principal);
    g_free(p->login_message);
    g_strfreev(p->hostile.targets);
    memset(p, 0, sizeof(*p));
}

void persona_dump(const struct persona *p, FILE *out)
{
    fprintf(out, "personality   %s (%s)\n", p->name, p->file);
    if (p->description && *p->description)
        fprintf(out, "description   %s\n", p->description);
    fprintf(out, "machine type  %s\n", p->machine_type);
    fprintf(out, "AFP versions ");
    for (size_t i = 0; p->versions[i]; i++)
        fprintf(out, " \"%s\"", p->versions[i]);
    fprintf(out, "\nUAMs         ");
    for (size_t i = 0; p->uams[i]; i++)
        fprintf(out, " \"%s\"", p->uams[i]);
    fprintf(out, "\nflags         0x%04x\n", p->flags);
    fprintf(out, "server name   %s\n", p->server_name);
    fprintf(out, "UTF-8 name    %s\n", p->utf8_server_name ? p->utf8_server_name : "(none)");
    fprintf(out, "signature     ");
    if (p->has_signature)
        for (int i = 0; i < 16; i++)
            fprintf(out, "%02x", p->signature[i]);
    else
        fprintf(out, "(none)");
    fprintf(out, "\nfqdn          %s\n", p->fqdn ? p->fqdn : "(none)");
    fprintf(out, "krb principal %s\n", p->krb_principal ? p->krb_principal : "(none)");
    fprintf(out, "quantum       %u\nreplay cache  %u\n", p->server_quantum, p->replay_cache);
    fprintf(out, "vol attrs     0x%04x\n", p->vol_attributes);
    fprintf(out, "tickle        %u s, timeout %u s\n", p->tickle_interval, p->session_timeout);
    if (p->utf8_name_shift)
        fprintf(out, "quirk         UTF-8 server name %+d byte(s) from its offset\n", p->utf8_name_shift);
    if (p->hostile.modes) {
        fprintf(out, "hostile      ");
        for (unsigned b = 1; b; b <<= 1)
            if (p->hostile.modes & b)
                fprintf(out, " %s", hostile_mode_name(b));
        fprintf(out, " (targets:");
        if (p->hostile.targets)
            for (size_t i = 0; p->hostile.targets[i]; i++)
                fprintf(out, " %s", p->hostile.targets[i]);
        else
            fprintf(out, " defaults");
        fprintf(out, ")\n");
    }
}

/* ---------------------------------------------------------- status block */

/* A 32x32 1-bit icon (a small tower with two drive bays) and its mask,
 * drawn here: 128 bytes each, rows top to bottom, MSB leftmost. */
static void make_icon(uint8_t icon[128], uint8_t mask[128])
{
    memset(icon, 0, 128);
    memset(mask, 0, 128);
    for (int y = 2; y <= 29; y++) {
        for (int x = 8; x <= 23; x++) {
            bool edge = y == 2 || y == 29 || x == 8 || x == 23;
            bool bay = (y == 7 || y == 11) && x >= 11 && x <= 20;
            bool led = y == 25 && (x == 19 || x == 20);
            bool base = y == 27 && x >= 10 && x <= 21;
            if (edge || bay || led || base)
                icon[y * 4 + x / 8] |= (uint8_t)(0x80 >> (x % 8));
            mask[y * 4 + x / 8] |= (uint8_t)(0x80 >> (x % 8));
        }
    }
}

static void put16_at(GByteArray *b, size_t at, uint16_t v)
{
    b->data[at] = (uint8_t)(v >> 8);
    b->data[at + 1] = (uint8_t)v;
}

static void append(GByteArray *b, const void *p, size_t n)
{
    g_byte_array_append(b, p, (guint)n);
}

static void append_u8(GByteArray *b, uint8_t v)
{
    append(b, &v, 1);
}

static void append_u16(GByteArray *b, uint16_t v)
{
    uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    append(b, x, 2);
}

/* One IP address entry: on port 548 the plain tag and the address (unless
 * the personality always sends the port), else tag_port, address, port. */
static void append_ip(GByteArray *b, const struct persona *p, uint8_t tag, uint8_t tag_port,
                      const void *ip, uint8_t iplen, uint16_t port)
{
    bool with_port = port != DSI_DEFAULT_PORT || p->addr_port_always;
    append_u8(b, (uint8_t)(2 + iplen + (with_port ? 2 : 0)));
    append_u8(b, with_port ? tag_port : tag);
    append(b, ip, iplen);
    if (with_port)
        append_u16(b, port);
}

static void append_pstring(GByteArray *b, const char *s)
{
    size_t n = strlen(s);
    if (n > 255)
        n = 255;
    append_u8(b, (uint8_t)n);
    append(b, s, n);
}

GByteArray *status_build(const struct persona *p, const struct sockaddr_storage *listen, bool bad)
{
    GByteArray *b = g_byte_array_new();
    size_t n;

    /* Fixed header: 4 offsets, flags, server name, pad, 4 more offsets. */
    for (int i = 0; i < 4; i++)
        append_u16(b, 0);
    append_u16(b, p->flags);
    append_pstring(b, p->server_name);
    if (b->len & 1)
        append_u8(b, 0);
    size_t off2 = b->len;
    for (int i = 0; i < 4; i++)
        append_u16(b, 0);

    put16_at(b, 0, (uint16_t)b->len);
    append_pstring(b, p->machine_type);

    put16_at(b, 2, (uint16_t)b->len);
    for (n = 0; p->versions[n]; n++)
        ;
    append_u8(b, (uint8_t)n);
    for (size_t i = 0; i < n; i++)
        append_pstring(b, p->versions[i]);

    put16_at(b, 4, (uint16_t)b->len);
    for (n = 0; p->uams[n]; n++)
        ;
    append_u8(b, (uint8_t)n);
    for (size_t i = 0; i < n; i++)
        append_pstring(b, p->uams[i]);

    if (p->icon) {
        uint8_t icon[128], mask[128];
        make_icon(icon, mask);
        put16_at(b, 6, (uint16_t)b->len);
        append(b, icon, 128);
        append(b, mask, 128);
    }

    if (p->has_signature) {
        put16_at(b, off2, (uint16_t)b->len);
        append(b, p->signature, 16);
    }

    /* Network addresses: the listening address, then the DNS name. */
    put16_at(b, off2 + 2, (uint16_t)b->len);
    uint8_t naddr = p->fqdn ? 2 : 1;
    append_u8(b, naddr);
    if (listen->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)listen;
        append_ip(b, p, AFP_ADDR_IPV4, AFP_ADDR_IPV4_PORT, &a->sin_addr, 4, ntohs(a->sin_port));
    } else {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)listen;
        append_ip(b, p, AFP_ADDR_IPV6, AFP_ADDR_IPV6_PORT, &a->sin6_addr, 16, ntohs(a->sin6_port));
    }
    if (p->fqdn) {
        size_t l = strlen(p->fqdn);
        if (l > 253)
            l = 253;
        append_u8(b, (uint8_t)(l + 2));
        append_u8(b, AFP_ADDR_DNS);
        append(b, p->fqdn, l);
    }

    if (p->krb_principal) {
        put16_at(b, off2 + 4, (uint16_t)b->len);
        append_u8(b, 1);
        append_pstring(b, p->krb_principal);
    }

    if (p->utf8_server_name) {
        size_t at = b->len;
        /* Quirk: the name lies utf8_name_shift bytes after (or before) the
         * offset that announces it. */
        if (p->utf8_name_shift > 0)
            for (int i = 0; i < p->utf8_name_shift; i++)
                append_u8(b, 0);
        else if (p->utf8_name_shift < 0)
            at += (size_t)(-p->utf8_name_shift);
        put16_at(b, off2 + 6, (uint16_t)at);
        size_t l = strlen(p->utf8_server_name);
        if (l > 255)
            l = 255;
        append_u16(b, (uint16_t)l);
        append(b, p->utf8_server_name, l);
    }

    if (bad) {
        /* Offsets that point outside the block, or at its very end. */
        put16_at(b, 4, (uint16_t)(b->len + 100));           /* UAMs */
        put16_at(b, 2, (uint16_t)(b->len - 1));             /* versions: count byte only... */
        b->data[b->len - 1] = 40;                           /* ...claiming 40 strings */
        put16_at(b, off2 + 4, 0xfff0);                      /* directory names */
    }
    return b;
}

GByteArray *status_garbage(void)
{
    GByteArray *b = g_byte_array_new();
    uint8_t buf[300];
    gcry_create_nonce(buf, sizeof(buf));
    size_t n = 64 + buf[0] % 200;
    append(b, buf + 1, n);
    return b;
}
