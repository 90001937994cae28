/* See afp_vectors.h.  Line format of NAME.dsi.txt:
 *   c2 S>C 548>52966 DSICommand rep rid=13 code=-5009 len=42 FPReadExt | <16-byte header hex> <payload hex>
 * Lines starting with '#' are comments. */
#include "afp_vectors.h"

#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "afp/afp_buf.h"

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int afpv_unhex(const char *hex, size_t hexlen, uint8_t *out, size_t outsz)
{
    if (hexlen % 2 || hexlen / 2 > outsz)
        return -EINVAL;
    for (size_t i = 0; i < hexlen / 2; i++) {
        int hi = hexval((unsigned char)hex[2 * i]), lo = hexval((unsigned char)hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return (int)(hexlen / 2);
}

static int parse_line(char *line, int lineno, struct afpv_msg *m)
{
    char dir[8], req[8], hdr[40];
    char *bar, *fields, *tok, *save = NULL;
    int n = 0;

    memset(m, 0, sizeof(*m));
    m->line = lineno;
    bar = strchr(line, '|');
    if (!bar)
        return -EINVAL;
    *bar = '\0';
    fields = line;

    /* c<conn> DIR ports DSICMD req|rep rid= code= len= [AFPOP] */
    for (tok = strtok_r(fields, " ", &save); tok; tok = strtok_r(NULL, " ", &save), n++) {
        switch (n) {
        case 0: if (sscanf(tok, "c%d", &m->conn) != 1) return -EINVAL; break;
        case 1: snprintf(dir, sizeof(dir), "%s", tok); break;
        case 2: break;
        case 3: snprintf(m->dsi_cmd, sizeof(m->dsi_cmd), "%s", tok); break;
        case 4: snprintf(req, sizeof(req), "%s", tok); break;
        case 5: if (sscanf(tok, "rid=%d", &m->rid) != 1) return -EINVAL; break;
        case 6: if (sscanf(tok, "code=%d", &m->code) != 1) return -EINVAL; break;
        case 7: if (sscanf(tok, "len=%u", &m->len) != 1) return -EINVAL; break;
        case 8: snprintf(m->afp_op, sizeof(m->afp_op), "%s", tok); break;
        default: return -EINVAL;
        }
    }
    if (n < 8)
        return -EINVAL;
    m->from_server = strcmp(dir, "S>C") == 0;
    m->reply = strcmp(req, "rep") == 0;

    /* header hex, then payload hex (possibly empty) */
    char *p = bar + 1;
    while (*p == ' ')
        p++;
    if (sscanf(p, "%32s", hdr) != 1 || strlen(hdr) != 32 || afpv_unhex(hdr, 32, m->header, 16) != 16)
        return -EINVAL;
    p += 32;
    while (*p == ' ')
        p++;
    size_t hl = strcspn(p, " \r\n");
    m->payload = malloc(hl / 2 + 1);
    if (!m->payload)
        return -ENOMEM;
    int got = afpv_unhex(p, hl, m->payload, hl / 2 + 1);
    if (got < 0)
        return got;
    m->payload_len = (size_t)got;
    if (m->payload_len != m->len)
        return -EINVAL;
    return 0;
}

int afpv_load(const char *path, struct afpv_file *f)
{
    FILE *fp = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, rc = 0;

    f->msgs = NULL;
    f->n = 0;
    if (!fp)
        return -errno;
    while (getline(&line, &cap, fp) >= 0) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n' || line[0] == '\0')
            continue;
        struct afpv_msg *nm = realloc(f->msgs, (f->n + 1) * sizeof(*nm));
        if (!nm) {
            rc = -ENOMEM;
            break;
        }
        f->msgs = nm;
        rc = parse_line(line, lineno, &f->msgs[f->n]);
        f->n++;
        if (rc) {
            fprintf(stderr, "%s:%d: cannot parse vector line\n", path, lineno);
            break;
        }
    }
    free(line);
    fclose(fp);
    if (rc)
        afpv_free(f);
    return rc;
}

void afpv_free(struct afpv_file *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->msgs[i].payload);
    free(f->msgs);
    f->msgs = NULL;
    f->n = 0;
}

const struct afpv_msg *afpv_find(const struct afpv_file *f, const char *afp_op, bool reply, int nth)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->msgs[i].reply == reply && strcmp(f->msgs[i].afp_op, afp_op) == 0 && nth-- == 0)
            return &f->msgs[i];
    return NULL;
}

const struct afpv_msg *afpv_find_dsi(const struct afpv_file *f, const char *dsi_cmd, bool reply, int nth)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->msgs[i].reply == reply && strcmp(f->msgs[i].dsi_cmd, dsi_cmd) == 0 && nth-- == 0)
            return &f->msgs[i];
    return NULL;
}

int afpv_keylog_get(const char *path, const char *key, uint8_t *buf, size_t bufsz)
{
    FILE *fp = fopen(path, "r");
    char *line = NULL, pat[80];
    size_t cap = 0;
    int rc = -ENOENT;

    if (!fp)
        return -errno;
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    while (rc == -ENOENT && getline(&line, &cap, fp) >= 0) {
        char *p = strstr(line, pat);
        if (!p)
            continue;
        p += strlen(pat);
        while (*p == ' ')
            p++;
        if (*p == '"') {
            char *end = strchr(++p, '"');
            rc = end ? afpv_unhex(p, (size_t)(end - p), buf, bufsz) : -EINVAL;
        } else {
            unsigned long long v = strtoull(p, NULL, 10);
            size_t n = 0;
            uint8_t tmp[8];
            do {
                tmp[n++] = (uint8_t)v;
                v >>= 8;
            } while (v);
            if (n > bufsz) {
                rc = -EINVAL;
            } else {
                for (size_t i = 0; i < n; i++)
                    buf[i] = tmp[n - 1 - i];
                rc = (int)n;
            }
        }
    }
    free(line);
    fclose(fp);
    return rc;
}

void afpv_open(const char *name, struct afpv_file *f)
{
    char path[512];
    snprintf(path, sizeof(path), AFPV_DIR "%s.dsi.txt", name);
    if (afpv_load(path, f))
        fail_msg("cannot load %s", path);
}

const struct afpv_msg *afpv_get(const struct afpv_file *f, const char *afp_op, bool reply, int nth)
{
    const struct afpv_msg *m = afpv_find(f, afp_op, reply, nth);
    if (!m)
        fail_msg("no %s %s #%d in the recording", afp_op, reply ? "reply" : "request", nth);
    return m;
}

void afpv_assert_payload(const struct afp_writer *w, const struct afpv_msg *m)
{
    assert_non_null(m);
    assert_int_equal(w->len, m->payload_len);
    assert_memory_equal(w->buf, m->payload, w->len);
}

int afpv_load_all(const struct afpv_named *set)
{
    char path[512];
    for (const struct afpv_named *n = set; n->f; n++) {
        snprintf(path, sizeof(path), AFPV_DIR "%s.dsi.txt", n->name);
        if (afpv_load(path, n->f))
            return -1;
    }
    return 0;
}

void afpv_free_all(const struct afpv_named *set)
{
    for (const struct afpv_named *n = set; n->f; n++)
        afpv_free(n->f);
}

void afpv_check_prefixes(const struct afpv_msg *m, afpv_decode_fn fn, const void *arg)
{
    uint8_t *copy = malloc(m->payload_len + 1);
    assert_non_null(copy);
    for (size_t cut = 0; cut < m->payload_len; cut++) {
        memcpy(copy, m->payload, cut);
        int rc = fn(copy, cut, arg);
        if (rc != -EPROTO)
            fail_msg("%s (line %d), prefix %zu: rc %d", m->afp_op, m->line, cut, rc);
    }
    free(copy);
}

void afpv_check_corruptions(const struct afpv_msg *m, unsigned step, afpv_decode_fn fn, const void *arg)
{
    size_t n = m->payload_len;
    uint8_t *copy = malloc(n + 1);
    assert_non_null(copy);
    for (size_t i = 0; i < n; i++) {
        for (unsigned v = 0; v < 256; v += step) {
            memcpy(copy, m->payload, n);
            copy[i] = (uint8_t)v;
            int rc = fn(copy, n, arg);
            if (rc != 0 && rc != -EPROTO)
                fail_msg("%s (line %d), byte %zu = %u: rc %d", m->afp_op, m->line, i, v, rc);
        }
    }
    free(copy);
}
