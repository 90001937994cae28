/* An LDIF reader (RFC 2849, content records only) giving directory records
 * (sharesfs/map_directory.h): what the unit tests' fixtures and afptest's
 * offline mode read instead of an LDAP search.  Errors name the physical
 * line and column, also inside a continued line. */
#include "sharesfs/map_directory.h"

#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A piece of a logical line: the text from OFF on came from physical line
 * LINE, whose column 1 is at offset OFF - SKIP (SKIP is the continuation's
 * leading space). */
struct piece {
    size_t off;
    int line;
    int skip;
};

struct ldif {
    const char *name;
    struct sfs_parse_error *err;
    GString *text;      /* the current logical line */
    struct piece *pieces;
    size_t n_pieces, cap_pieces;
};

static int ldif_error(struct ldif *p, int line, int col, int rc, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int ldif_error(struct ldif *p, int line, int col, int rc, const char *fmt, ...)
{
    va_list ap;
    memset(p->err, 0, sizeof(*p->err));
    snprintf(p->err->file, sizeof(p->err->file), "%s", p->name);
    p->err->line = line;
    p->err->column = col;
    va_start(ap, fmt);
    vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
    va_end(ap);
    return rc;
}

/* Error at offset OFF of the current logical line. */
static int at_error(struct ldif *p, size_t off, const char *what)
{
    size_t k = 0;
    while (k + 1 < p->n_pieces && p->pieces[k + 1].off <= off)
        k++;
    size_t col = off - p->pieces[k].off + (size_t)p->pieces[k].skip + 1;
    return ldif_error(p, p->pieces[k].line, col > INT32_MAX ? INT32_MAX : (int)col, -EINVAL, "%s", what);
}

static int add_piece(struct ldif *p, const char *s, size_t n, int line, int skip)
{
    if (p->n_pieces == p->cap_pieces) {
        size_t cap = p->cap_pieces ? p->cap_pieces * 2 : 8;
        struct piece *v = realloc(p->pieces, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        p->pieces = v;
        p->cap_pieces = cap;
    }
    p->pieces[p->n_pieces++] = (struct piece){.off = p->text->len, .line = line, .skip = skip};
    g_string_append_len(p->text, s, (gssize)n);
    return 0;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decodes the base64 text at offset OFF of the logical line (length N).
 * *out is a NUL-terminated copy; a NUL byte inside is refused. */
static int decode_base64(struct ldif *p, size_t off, size_t n, char **out)
{
    const char *s = p->text->str + off;
    char *buf = malloc(n / 4 * 3 + 4);
    size_t o = 0, i = 0;
    unsigned acc = 0;
    int bits = 0, pad = 0;

    if (!buf)
        return -ENOMEM;
    for (; i < n; i++) {
        if (s[i] == '=') {
            pad++;
            continue;
        }
        int v = b64_value(s[i]);
        if (v < 0 || pad) {
            free(buf);
            return at_error(p, off + i, v < 0 ? "invalid character in base64 value" : "base64 data after '=' padding");
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    if ((n - (size_t)pad) % 4 == 1 || pad > 2 || (pad && n % 4 != 0)) {
        free(buf);
        return at_error(p, off, "truncated base64 value");
    }
    if (memchr(buf, '\0', o)) {
        free(buf);
        return at_error(p, off, "NUL byte in base64 value (not supported)");
    }
    buf[o] = '\0';
    *out = buf;
    return 0;
}

static bool is_attr_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == ';' ||
           c == '.';
}

struct rec_state {
    struct sfs_dir_record *rec; /* NULL between records */
    bool any_record;            /* a record was started (version: must come first) */
    GHashTable *dns;            /* lowercased DN -> line */
};

/* One logical "attr: value" line. */
static int handle_line(struct ldif *p, struct sfs_dir_records *out, struct rec_state *st)
{
    const char *t = p->text->str;
    size_t n = p->text->len, i = 0;
    char *value = NULL;
    int rc;

    while (i < n && is_attr_char(t[i]))
        i++;
    if (i == 0)
        return at_error(p, 0, "expected 'attribute: value'");
    if (i == n || t[i] != ':')
        return at_error(p, i, i == n ? "missing ':' after the attribute name" : "invalid character in attribute name");
    size_t name_len = strcspn(t, ";:");
    if (name_len == 0)
        return at_error(p, 0, "expected 'attribute: value'");
    char *name = g_strndup(t, name_len);
    size_t v = i + 1;
    bool b64 = v < n && t[v] == ':';
    if (v < n && t[v] == '<') {
        g_free(name);
        return at_error(p, v, "URL values (':<') are not supported");
    }
    if (b64)
        v++;
    while (v < n && t[v] == ' ')
        v++;
    if (b64) {
        rc = decode_base64(p, v, n - v, &value);
    } else {
        rc = 0;
        value = strndup(t + v, n - v);
        if (!value)
            rc = -ENOMEM;
    }
    if (rc < 0) {
        g_free(name);
        return rc == -ENOMEM ? ldif_error(p, 0, 0, rc, "out of memory") : rc;
    }

    bool is_dn = g_ascii_strcasecmp(name, "dn") == 0;
    int line = p->pieces[0].line;
    if (g_ascii_strcasecmp(name, "version") == 0 && !st->rec && !st->any_record) {
        rc = strcmp(value, "1") == 0 ? 0 : at_error(p, v, "unsupported LDIF version (expected 1)");
    } else if (g_ascii_strcasecmp(name, "changetype") == 0 || g_ascii_strcasecmp(name, "control") == 0) {
        rc = at_error(p, 0, "change records are not supported (content records only)");
    } else if (!st->rec && !is_dn) {
        rc = at_error(p, 0, "a record must start with 'dn:'");
    } else if (st->rec && is_dn) {
        rc = at_error(p, 0, "second 'dn:' in a record (records are separated by a blank line)");
    } else if (is_dn && value[0] == '\0') {
        rc = at_error(p, v, "empty DN");
    } else if (is_dn) {
        char *low = g_ascii_strdown(value, -1);
        gpointer first = g_hash_table_lookup(st->dns, low);
        if (first) {
            g_free(low);
            rc = ldif_error(p, line, 1, -EINVAL, "duplicate DN '%.100s' (first at line %d)", value,
                            GPOINTER_TO_INT(first));
        } else {
            g_hash_table_insert(st->dns, low, GINT_TO_POINTER(line));
            st->rec = sfs_dir_records_add(out, value);
            st->any_record = true;
            if (!st->rec)
                rc = ldif_error(p, 0, 0, -ENOMEM, "out of memory");
            else
                st->rec->line = line;
        }
    } else if (sfs_dir_record_add_value(st->rec, name, value) < 0) {
        rc = ldif_error(p, 0, 0, -ENOMEM, "out of memory");
    }
    g_free(name);
    free(value);
    return rc;
}

/* Handles the logical line gathered so far (if any) and empties it. */
static int flush_line(struct ldif *p, struct sfs_dir_records *out, struct rec_state *st, bool comment)
{
    int rc = 0;
    if (p->n_pieces > 0 && !comment)
        rc = handle_line(p, out, st);
    g_string_truncate(p->text, 0);
    p->n_pieces = 0;
    return rc;
}

int sfs_ldif_parse(const char *text, size_t len, const char *name, struct sfs_dir_records *out,
                   struct sfs_parse_error *err)
{
    struct sfs_parse_error scratch;
    struct ldif p = {.name = name && *name ? name : "<ldif>", .err = err ? err : &scratch};
    struct rec_state st = {0};
    size_t pos = 0;
    int line = 0, rc = 0;
    bool comment = false;

    if (!out)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    memset(p.err, 0, sizeof(*p.err));
    if (!text)
        return ldif_error(&p, 0, 0, -EINVAL, "no LDIF text given");
    p.text = g_string_new(NULL);
    st.dns = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    while (rc == 0 && pos < len) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl ? 1 : 0);
        line++;
        if (n > 0 && s[n - 1] == '\r')
            n--;
        const char *bad = NULL;
        for (size_t i = 0; i < n && !bad; i++)
            if (s[i] == '\0' || s[i] == '\r')
                bad = s + i;
        if (bad) {
            rc = ldif_error(&p, line, (int)(bad - s) + 1, -EINVAL, *bad ? "stray CR in line" : "NUL byte in file");
            break;
        }
        if (n > 0 && s[0] == ' ') { /* continues the previous line */
            if (p.n_pieces == 0 && !comment)
                rc = ldif_error(&p, line, 1, -EINVAL, "continuation line with no line to continue");
            else if (!comment)
                rc = add_piece(&p, s + 1, n - 1, line, 1) < 0 ? ldif_error(&p, 0, 0, -ENOMEM, "out of memory") : 0;
            continue;
        }
        rc = flush_line(&p, out, &st, comment);
        comment = false;
        if (rc < 0)
            break;
        if (n == 0) { /* end of a record */
            st.rec = NULL;
            continue;
        }
        if (s[0] == '#') {
            comment = true;
            continue;
        }
        if (add_piece(&p, s, n, line, 0) < 0)
            rc = ldif_error(&p, 0, 0, -ENOMEM, "out of memory");
    }
    if (rc == 0)
        rc = flush_line(&p, out, &st, comment);
    g_string_free(p.text, TRUE);
    free(p.pieces);
    g_hash_table_destroy(st.dns);
    if (rc < 0)
        sfs_dir_records_free(out);
    return rc < 0 ? rc : 0;
}
