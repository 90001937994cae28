/* Automount maps: macOS auto_master / indirect / direct maps and Linux autofs
 * sun-format maps.  The formats, options, warnings and errors are described
 * in docs/map-formats.md; keep the two in step.
 *
 * Reading goes in layers: a file is read whole (regular files only, size
 * capped), split into logical lines (CRLF, '\' continuations), each line into
 * tokens (quotes, backslash escapes, '#' comments), and each token keeps the
 * line offset of every byte so that any error, even one found deep inside a
 * URL, names the physical line and column it came from. */
#include "sharesfs/map.h"

#include "sharesfs/text.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAP_MAX_LINE 65536          /* bytes in one line, continuations included */
#define MAP_MAX_FILE (4u << 20)     /* bytes in one map file */
#define MAP_MAX_DEPTH 16            /* nested includes / master -> map */
#define MAP_MAX_FILES 256           /* files read by one load */
#define MAP_ECHO 64                 /* longest key or name quoted in a message */

/* ======================================================================
 * Small helpers
 * ==================================================================== */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Tabs separate fields; every other control character is refused. */
static bool is_control_not_tab(unsigned char c)
{
    return c != '\t' && sfs_is_control(c);
}

static bool is_unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/* Replaces *DST by a copy of SRC; false when out of memory. */
static bool set_string(char **dst, const char *src)
{
    char *copy = sfs_strdup_or_null(src);
    if (src && !copy)
        return false;
    free(*dst);
    *dst = copy;
    return true;
}

static bool str_in(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcasecmp(s, *list) == 0)
            return true;
    return false;
}

/* "/a//b/" -> "/a/b"; "/" stays "/". */
char *sfs_path_normalize(const char *path)
{
    size_t n = strlen(path);
    char *out = malloc(n + 1);
    size_t o = 0;

    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (path[i] == '/' && o > 0 && out[o - 1] == '/')
            continue;
        out[o++] = path[i];
    }
    while (o > 1 && out[o - 1] == '/')
        o--;
    out[o] = '\0';
    return out;
}

/* ROOT + "/" + KEY without doubled slashes; KEY alone when ROOT is NULL. */
static char *join_mountpoint(const char *root, const char *key)
{
    if (!root)
        return strdup(key);
    size_t rn = strlen(root);
    while (rn > 0 && root[rn - 1] == '/')
        rn--;
    size_t total = rn + 1 + strlen(key) + 1;
    char *out = malloc(total);
    if (out)
        snprintf(out, total, "%.*s/%s", (int)rn, root, key);
    return out;
}

/* Root paths compare equal with or without trailing slashes. */
static bool roots_equal(const char *a, const char *b)
{
    size_t an = a ? strlen(a) : 0, bn = b ? strlen(b) : 0;
    while (an > 1 && a[an - 1] == '/')
        an--;
    while (bn > 1 && b[bn - 1] == '/')
        bn--;
    if (!a || !b)
        return !a && !b;
    return an == bn && memcmp(a, b, an) == 0;
}

/* Copy of TEXT with every '&' replaced by KEY percent-encoded (so that a key
 * can never change the structure of the URL).  When SRCMAP is given it
 * receives, for each output byte, the offset in TEXT it stands for. */
static char *substitute_key(const char *text, const char *key, size_t **srcmap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t klen = 0, amps = 0, n = strlen(text);

    for (const unsigned char *k = (const unsigned char *)key; *k; k++)
        klen += is_unreserved(*k) ? 1 : 3;
    for (size_t i = 0; i < n; i++)
        amps += text[i] == '&';
    size_t total = n - amps + amps * klen;
    char *out = malloc(total + 1);
    size_t *map = srcmap ? malloc((total + 1) * sizeof(*map)) : NULL;
    if (!out || (srcmap && !map)) {
        free(out);
        free(map);
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] != '&') {
            if (map)
                map[o] = i;
            out[o++] = text[i];
            continue;
        }
        for (const unsigned char *k = (const unsigned char *)key; *k; k++) {
            size_t start = o;
            if (is_unreserved(*k)) {
                out[o++] = (char)*k;
            } else {
                out[o++] = '%';
                out[o++] = hex[*k >> 4];
                out[o++] = hex[*k & 15];
            }
            for (size_t j = start; map && j < o; j++)
                map[j] = i;
        }
    }
    out[o] = '\0';
    if (map) {
        map[o] = n;
        *srcmap = map;
    }
    return out;
}

/* Where the password sits in a location, as the URL parser splits it:
 * [*start, *end) covers ":password" in "//user:password@host".  False when
 * the location holds no password. */
static bool find_password(const char *loc, size_t *start, size_t *end)
{
    const char *auth = strstr(loc, "//");
    if (!auth)
        return false;
    auth += 2;
    size_t alen = strcspn(auth, "/");
    const char *at = memchr(auth, '@', alen);
    if (!at)
        return false;
    const char *colon = memchr(auth, ':', (size_t)(at - auth));
    if (!colon)
        return false;
    *start = (size_t)(colon - loc);
    *end = (size_t)(at - loc);
    return true;
}

/* LOC without its ":password" part: safe to print. */
static char *strip_password(const char *loc)
{
    size_t s, e;
    if (!find_password(loc, &s, &e))
        return strdup(loc);
    size_t n = strlen(loc);
    char *out = malloc(n - (e - s) + 1);
    if (!out)
        return NULL;
    memcpy(out, loc, s);
    memcpy(out + s, loc + e, n - e + 1);
    return out;
}

/* ======================================================================
 * Mount options
 * ==================================================================== */

enum opt_kind {
    OPT_OTHER,
    OPT_FSTYPE,
    OPT_NOBROWSE,
    OPT_BROWSE,
    OPT_RO,
    OPT_RW,
    OPT_GUEST,
    OPT_SEC,
    OPT_CREDENTIALS,
    OPT_VERS,
    OPT_USERNAME,
    OPT_DOMAIN,
    OPT_PASSWORD,
};

struct opt_def {
    const char *name;
    enum opt_kind kind;
    bool has_value; /* "name=value" (true) or a bare flag (false) */
};

static const struct opt_def opt_defs[] = {
    {"fstype", OPT_FSTYPE, true},
    {"nobrowse", OPT_NOBROWSE, false},
    {"browse", OPT_BROWSE, false},
    {"ro", OPT_RO, false},
    {"rdonly", OPT_RO, false},
    {"rw", OPT_RW, false},
    {"guest", OPT_GUEST, false},
    {"sec", OPT_SEC, true},
    {"credentials", OPT_CREDENTIALS, true},
    {"cred", OPT_CREDENTIALS, true},
    {"vers", OPT_VERS, true},
    {"username", OPT_USERNAME, true},
    {"user", OPT_USERNAME, true},
    {"domain", OPT_DOMAIN, true},
    {"dom", OPT_DOMAIN, true},
    {"workgroup", OPT_DOMAIN, true},
    {"password", OPT_PASSWORD, true},
    {"pass", OPT_PASSWORD, true},
    {"passwd", OPT_PASSWORD, true},
};

/* Options kept in `other` without a warning: common macOS automount, autofs
 * and mount.cifs options. */
static const char *const known_other_opts[] = {
    "hidefromfinder", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "noowners", "owners",
    "automounted", "quarantine", "noquarantine", "nosymfollow", "union", "soft", "hard", "intr",
    "nointr", "resvport", "noatime", "atime", "nolocks", "locallocks", "timeout", "ghost",
    "strict", "nonstrict", "fg", "bg", "uid", "gid", "forceuid", "forcegid", "file_mode",
    "dir_mode", "iocharset", "nounix", "unix", "noserverino", "serverino", "cache", "actimeo",
    "seal", "sign", "nobrl", "mfsymlinks", "noperm", "perm", "port", "ip", "addr", "domainauto",
    "sfu", "nocase", "echo_interval", "rsize", "wsize", "multiuser", "cruid", "nosharesock",
    "noacl", "acl", "user", "nouser", "users", "auto", "noauto", "sync", "async", "_netdev",
    "nofail", "handlecache", "nohandlecache", "max_credits", "snapshot", "mapchars",
    "nomapchars", "mapposix", "nomapposix", "forcemand", "nostrictsync", "rdirplus", "locale",
    "mountport", "vol", "volume", NULL};

static const char *const known_fstypes[] = {"url", "afp", "smbfs", "cifs", "smb3", NULL};
static const char *const known_secs[] = {"krb5", "krb5i", "ntlm", "ntlmi", "ntlmv2", "ntlmv2i",
                                         "ntlmssp", "ntlmsspi", "none", NULL};
static const char *const known_vers[] = {"1.0", "2.0", "2.1", "3", "3.0", "3.02", "3.0.2",
                                         "3.1.1", "3.11", "default", NULL};
/* Special macOS/autofs maps that are not files. */
static const char *const special_maps[] = {"-hosts", "-fstab", "-static", "-null", NULL};
/* autofs map sources ("type:name"); only "file" is read. */
static const char *const map_sources[] = {"file", "program", "yp", "nis", "nisplus", "ldap",
                                          "ldaps", "hesiod", "sss", "dir", "multi", NULL};

/* One parsed option, as written and classified. */
struct opt_item {
    enum opt_kind kind;
    char *text;  /* "uid=501" as written */
    char *value; /* after '=', NULL for a flag */
};

struct opt_list {
    struct opt_item *items;
    size_t n, cap;
};

static void opt_list_free(struct opt_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].text);
        free(l->items[i].value);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}

static int opt_list_add(struct opt_list *l, enum opt_kind kind, const char *text, size_t tlen,
                        const char *value, size_t vlen)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct opt_item *items = realloc(l->items, cap * sizeof(*items));
        if (!items)
            return -ENOMEM;
        l->items = items;
        l->cap = cap;
    }
    struct opt_item *it = &l->items[l->n];
    it->kind = kind;
    it->text = strndup(text, tlen);
    it->value = value ? strndup(value, vlen) : NULL;
    if (!it->text || (value && !it->value)) {
        free(it->text);
        free(it->value);
        return -ENOMEM;
    }
    if (kind == OPT_FSTYPE)
        for (char *c = it->value; *c; c++)
            *c = (char)((*c >= 'A' && *c <= 'Z') ? *c + 32 : *c);
    l->n++;
    return 0;
}

static void mount_options_free(struct sfs_mount_options *o)
{
    free(o->fstype);
    free(o->sec);
    free(o->credentials);
    free(o->vers);
    free(o->username);
    free(o->domain);
    free(o->password);
    for (char **p = o->other; p && *p; p++)
        free(*p);
    free(o->other);
    memset(o, 0, sizeof(*o));
}

static int strv_push(char ***v, const char *s)
{
    size_t n = 0;
    while (*v && (*v)[n])
        n++;
    char **nv = realloc(*v, (n + 2) * sizeof(*nv));
    if (!nv)
        return -ENOMEM;
    *v = nv;
    nv[n] = strdup(s);
    nv[n + 1] = NULL;
    return nv[n] ? 0 : -ENOMEM;
}

static int mount_options_copy(struct sfs_mount_options *dst, const struct sfs_mount_options *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->nobrowse = src->nobrowse;
    dst->ro = src->ro;
    dst->guest = src->guest;
    dst->has_password = src->has_password;
    bool ok = set_string(&dst->fstype, src->fstype) && set_string(&dst->sec, src->sec) &&
              set_string(&dst->credentials, src->credentials) && set_string(&dst->vers, src->vers) &&
              set_string(&dst->username, src->username) && set_string(&dst->domain, src->domain) &&
              set_string(&dst->password, src->password);
    for (char **p = src->other; ok && p && *p; p++)
        ok = strv_push(&dst->other, *p) == 0;
    if (!ok) {
        mount_options_free(dst);
        return -ENOMEM;
    }
    return 0;
}

/* Applies the options of L in order: later ones win. */
static int apply_options(struct sfs_mount_options *o, const struct opt_list *l)
{
    bool ok = true;
    for (size_t i = 0; l && i < l->n && ok; i++) {
        const struct opt_item *it = &l->items[i];
        switch (it->kind) {
        case OPT_FSTYPE: ok = set_string(&o->fstype, it->value); break;
        case OPT_NOBROWSE: o->nobrowse = true; break;
        case OPT_BROWSE: o->nobrowse = false; break;
        case OPT_RO: o->ro = true; break;
        case OPT_RW: o->ro = false; break;
        case OPT_GUEST: o->guest = true; break;
        case OPT_SEC: ok = set_string(&o->sec, it->value); break;
        case OPT_CREDENTIALS: ok = set_string(&o->credentials, it->value); break;
        case OPT_VERS: ok = set_string(&o->vers, it->value); break;
        case OPT_USERNAME: ok = set_string(&o->username, it->value); break;
        case OPT_DOMAIN: ok = set_string(&o->domain, it->value); break;
        case OPT_PASSWORD:
            o->has_password = true;
            ok = set_string(&o->password, it->value);
            break;
        case OPT_OTHER: ok = strv_push(&o->other, it->text) == 0; break;
        }
    }
    return ok ? 0 : -ENOMEM;
}

/* ======================================================================
 * Lines and tokens
 * ==================================================================== */

/* Where a piece of a logical line came from. */
struct segment {
    size_t off; /* offset in the logical line */
    int line;   /* physical line */
};

struct lline {
    char *text;
    size_t len, cap;
    struct segment *segs;
    size_t nsegs, capsegs;
};

struct token {
    char *text;
    size_t len, cap;
    size_t start; /* logical-line offset of the token's first byte (maybe a quote) */
    size_t *off; /* off[i]: logical-line offset of text[i]; off[len]: just past the token */
};

struct tokens {
    struct token *v;
    size_t n, cap;
};

static void lline_free(struct lline *ll)
{
    free(ll->text);
    free(ll->segs);
    memset(ll, 0, sizeof(*ll));
}

static void lline_position(const struct lline *ll, size_t off, int *line, int *col)
{
    size_t k = 0;
    while (k + 1 < ll->nsegs && ll->segs[k + 1].off <= off)
        k++;
    *line = ll->segs[k].line;
    size_t c = off - ll->segs[k].off + 1;
    *col = c > (size_t)INT32_MAX ? INT32_MAX : (int)c;
}

static void tokens_free(struct tokens *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].text);
        free(t->v[i].off);
    }
    free(t->v);
    memset(t, 0, sizeof(*t));
}

static int token_put(struct token *t, char c, size_t off)
{
    if (t->len + 2 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        char *text = realloc(t->text, cap);
        if (!text)
            return -ENOMEM;
        t->text = text;
        size_t *offs = realloc(t->off, cap * sizeof(*offs));
        if (!offs)
            return -ENOMEM;
        t->off = offs;
        t->cap = cap;
    }
    t->text[t->len] = c;
    t->off[t->len++] = off;
    t->text[t->len] = '\0';
    return 0;
}

/* ======================================================================
 * Loader state
 * ==================================================================== */

enum file_mode { MODE_UNKNOWN, MODE_MASTER, MODE_MAP };

#define MAP_MAX_UNDECIDED 64

/* One map: a master line's map, or the file given to sfs_map_load, shared
 * with the files it includes. */
struct scope {
    enum file_mode mode;
    bool type_known;
    enum sfs_map_type type;
    const char *root;               /* NULL for a standalone indirect map */
    const struct opt_list *inherited; /* options of the master line */
};

/* A file being read, for loop detection and messages. */
struct frame {
    const char *label; /* as written: the include name, or the path given */
    bool has_id;
    dev_t dev;
    ino_t ino;
};

struct loader {
    struct sfs_map *map;
    size_t cap_entries, cap_warnings;
    struct sfs_parse_error *err;
    struct frame stack[MAP_MAX_DEPTH + 1];
    int depth;
    int files_read;
    GHashTable *seen; /* root\037key -> "file:line" of the first definition */
    /* Includes of directory maps met before the file's kind was known
     * (macOS "+auto_master" comes first): decided at the end of the file. */
    struct undecided {
        size_t ref;
        const struct scope *scope;
    } undecided[MAP_MAX_UNDECIDED];
    size_t n_undecided;
};

/* The file whose lines are being handled. */
struct source {
    const char *name;    /* in messages */
    char *dir;           /* includes resolve here; NULL = as written */
    const char *base;    /* last path component, for self includes */
    bool has_id;
    dev_t dev;
    ino_t ino;
    struct scope *scope;
    const struct lline *ll; /* the current line */
    /* A directory record's value rather than a file's line (sfs_map_add_item):
     * NAME is the record's DN and FIELD the attribute the text came from;
     * messages say "DN: FIELD (column N): ..." and name no line. */
    const char *field;
};

/* Where a file was named (an include or a master line), for errors. */
struct site {
    struct source *src;
    const struct token *tok;
    const char *what; /* "include" or "map" */
};

static void set_error(struct loader *ld, const char *file, int line, int col, const char *fmt, va_list ap)
{
    struct sfs_parse_error *e = ld->err;
    memset(e, 0, sizeof(*e));
    snprintf(e->file, sizeof(e->file), "%s", file ? file : "");
    e->line = line;
    e->column = col;
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
}

static int error_at(struct loader *ld, const char *file, int line, int col, int rc, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int error_at(struct loader *ld, const char *file, int line, int col, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_error(ld, file, line, col, fmt, ap);
    va_end(ap);
    return rc;
}

static int oom(struct loader *ld)
{
    return error_at(ld, NULL, 0, 0, -ENOMEM, "out of memory");
}

/* Error at logical-line offset OFF of the current line. */
static int line_error(struct loader *ld, const struct source *src, size_t off, int rc, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int line_error(struct loader *ld, const struct source *src, size_t off, int rc, const char *fmt, ...)
{
    int line, col;
    va_list ap;
    lline_position(src->ll, off, &line, &col);
    va_start(ap, fmt);
    if (src->field) {
        char text[256];
        vsnprintf(text, sizeof(text), fmt, ap);
        error_at(ld, src->name, 0, col, rc, "%s (column %d): %s", src->field, col, text);
    } else {
        set_error(ld, src->name, line, col, fmt, ap);
    }
    va_end(ap);
    return rc;
}

/* Logical-line offset of byte I of a token's text (I may be its length). */
static size_t tok_off(const struct token *t, size_t i)
{
    return t->off[i > t->len ? t->len : i];
}

/* Where the token starts as written, for errors about the whole token. */
static size_t tok_start(const struct token *t)
{
    return t->start;
}

static int add_warning(struct loader *ld, const struct source *src, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int add_warning(struct loader *ld, const struct source *src, size_t off, const char *fmt, ...)
{
    struct sfs_map *m = ld->map;
    char text[512];
    int line, col;
    va_list ap;

    lline_position(src->ll, off, &line, &col);
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (m->n_warnings == ld->cap_warnings) {
        size_t cap = ld->cap_warnings ? ld->cap_warnings * 2 : 8;
        char **w = realloc(m->warnings, cap * sizeof(*w));
        if (!w)
            return oom(ld);
        m->warnings = w;
        ld->cap_warnings = cap;
    }
    size_t total = strlen(src->name) + strlen(text) + 32;
    char *s = malloc(total + (src->field ? strlen(src->field) : 0));
    if (!s)
        return oom(ld);
    if (src->field)
        snprintf(s, total + strlen(src->field), "%s: %s (column %d): %s", src->name, src->field, col, text);
    else
        snprintf(s, total, "%s:%d:%d: %s", src->name, line, col, text);
    m->warnings[m->n_warnings++] = s;
    return 0;
}

/* ======================================================================
 * Reading lines
 * ==================================================================== */

struct reader {
    const char *buf;
    size_t len;
    size_t pos;
    int line; /* number of the next physical line */
};

static bool is_comment_line(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && is_blank(s[i]))
        i++;
    return i < n && s[i] == '#';
}

/* An odd number of trailing backslashes continues the line ("\\" is a
 * literal backslash). */
static bool continues(const char *s, size_t n)
{
    size_t k = 0;
    while (k < n && s[n - 1 - k] == '\\')
        k++;
    return k % 2 == 1;
}

static int lline_append(struct lline *ll, const char *s, size_t n, int line)
{
    if (ll->nsegs == ll->capsegs) {
        size_t cap = ll->capsegs ? ll->capsegs * 2 : 4;
        struct segment *segs = realloc(ll->segs, cap * sizeof(*segs));
        if (!segs)
            return -ENOMEM;
        ll->segs = segs;
        ll->capsegs = cap;
    }
    if (ll->len + n + 1 > ll->cap) {
        size_t cap = ll->cap ? ll->cap : 256;
        while (cap < ll->len + n + 1)
            cap *= 2;
        char *text = realloc(ll->text, cap);
        if (!text)
            return -ENOMEM;
        ll->text = text;
        ll->cap = cap;
    }
    ll->segs[ll->nsegs++] = (struct segment){.off = ll->len, .line = line};
    memcpy(ll->text + ll->len, s, n);
    ll->len += n;
    ll->text[ll->len] = '\0';
    return 0;
}

/* Reads the next logical line.  1 = got one, 0 = end of input, <0 = error. */
static int next_line(struct loader *ld, struct source *src, struct reader *r, struct lline *ll)
{
    bool first = true;

    ll->len = 0;
    ll->nsegs = 0;
    if (r->pos >= r->len)
        return 0;
    for (;;) {
        const char *start = r->buf + r->pos;
        const char *nl = memchr(start, '\n', r->len - r->pos);
        size_t n = nl ? (size_t)(nl - start) : r->len - r->pos;
        int line = r->line++;

        r->pos += n + (nl ? 1 : 0);
        if (n > 0 && start[n - 1] == '\r')
            n--;
        if (n > MAP_MAX_LINE)
            return error_at(ld, src->name, line, MAP_MAX_LINE + 1, -EINVAL,
                            "line too long (more than %d bytes)", MAP_MAX_LINE);
        /* A comment line never continues: "# see \" must not eat the next entry. */
        bool cont = !(first && is_comment_line(start, n)) && continues(start, n);
        if (cont)
            n--;
        if (ll->len + n > MAP_MAX_LINE)
            return error_at(ld, src->name, line, 1, -EINVAL,
                            "line too long (continued lines exceed %d bytes)", MAP_MAX_LINE);
        if (lline_append(ll, start, n, line) < 0)
            return oom(ld);
        first = false;
        if (!cont || r->pos >= r->len)
            return 1;
    }
}

/* Reads one token starting at *I (not blank, not '#'). */
static int read_token(struct loader *ld, struct source *src, size_t *i, struct token *tok)
{
    const char *t = src->ll->text;
    size_t n = src->ll->len, p = *i, quote_at = 0;
    bool quoted = false;

    tok->start = p;
    while (p < n && (quoted || !is_blank(t[p]))) {
        if (t[p] == '"') {
            if (!quoted)
                quote_at = p;
            quoted = !quoted;
            p++;
            continue;
        }
        /* Outside quotes '\' escapes any byte; inside only '"' and '\'. */
        if (t[p] == '\\' && p + 1 < n && (!quoted || t[p + 1] == '"' || t[p + 1] == '\\'))
            p++;
        if (is_control_not_tab((unsigned char)t[p]))
            return line_error(ld, src, p, -EINVAL, "control character (0x%02X) in map line",
                              (unsigned char)t[p]);
        if (token_put(tok, t[p], p) < 0)
            return oom(ld);
        p++;
    }
    if (quoted)
        return line_error(ld, src, quote_at, -EINVAL, "unterminated quote");
    if (!tok->text && token_put(tok, '\0', p) == 0)
        tok->len = 0; /* "" is an empty token, not no token */
    if (!tok->text)
        return oom(ld);
    tok->text[tok->len] = '\0';
    tok->off[tok->len] = p;
    *i = p;
    return 0;
}

/* Splits the current line into tokens; a '#' at the start of a token begins
 * a comment. */
static int tokenize(struct loader *ld, struct source *src, struct tokens *out)
{
    size_t i = 0, n = src->ll->len;

    for (;;) {
        while (i < n && is_blank(src->ll->text[i]))
            i++;
        if (i >= n || src->ll->text[i] == '#')
            return 0;
        if (out->n == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 8;
            struct token *v = realloc(out->v, cap * sizeof(*v));
            if (!v)
                return oom(ld);
            out->v = v;
            out->cap = cap;
        }
        struct token *tok = &out->v[out->n++];
        memset(tok, 0, sizeof(*tok));
        int rc = read_token(ld, src, &i, tok);
        if (rc < 0)
            return rc;
    }
}

/* ======================================================================
 * Files
 * ==================================================================== */

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static char *dir_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* NAME relative to DIR (NULL: as written); absolute names as they are. */
static char *resolve_name(const char *dir, const char *name)
{
    if (name[0] == '/' || !dir)
        return strdup(name);
    size_t total = strlen(dir) + 1 + strlen(name) + 1;
    char *out = malloc(total);
    if (out)
        snprintf(out, total, "%s/%s", dir, name);
    return out;
}

/* Reads a regular file whole.  0, or -errno with *WHY set. */
static int read_file(const char *path, char **out, size_t *len, struct stat *st, const char **why)
{
    /* O_NONBLOCK: opening a FIFO must not hang; it is refused below. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    int rc = 0;
    char *buf = NULL;
    size_t n = 0;

    *why = NULL;
    if (fd < 0) {
        rc = -errno;
        *why = strerror(-rc);
        return rc;
    }
    if (fstat(fd, st) < 0) {
        rc = -errno;
    } else if (S_ISDIR(st->st_mode)) {
        rc = -EISDIR;
    } else if (!S_ISREG(st->st_mode)) {
        rc = -EINVAL;
        *why = "not a regular file";
    } else if (!(buf = malloc(MAP_MAX_FILE + 1))) {
        rc = -ENOMEM;
    }
    while (rc == 0) {
        ssize_t got = read(fd, buf + n, MAP_MAX_FILE + 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            rc = -errno;
        else if (got == 0)
            break;
        else if ((n += (size_t)got) > MAP_MAX_FILE)
            rc = -EFBIG;
    }
    close(fd);
    if (rc < 0) {
        free(buf);
        if (!*why)
            *why = strerror(-rc);
        return rc;
    }
    *out = buf;
    *len = n;
    return 0;
}

static int parse_buffer(struct loader *ld, struct source *src, const char *buf, size_t len);

static int site_error(struct loader *ld, const struct site *site, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int site_error(struct loader *ld, const struct site *site, int rc, const char *fmt, ...)
{
    int line = 0, col = 0;
    va_list ap;
    if (site)
        lline_position(site->src->ll, tok_start(site->tok), &line, &col);
    va_start(ap, fmt);
    set_error(ld, site ? site->src->name : NULL, line, col, fmt, ap);
    va_end(ap);
    return rc;
}

/* "include loop: a -> b -> a" from the frame at FROM to the top, then LABEL. */
static int loop_error(struct loader *ld, const struct site *site, int from, const char *label)
{
    char chain[200] = "";
    size_t used = 0;
    for (int i = from; i < ld->depth && used < sizeof(chain); i++)
        used += (size_t)snprintf(chain + used, sizeof(chain) - used, "%s -> ", ld->stack[i].label);
    if (used < sizeof(chain))
        snprintf(chain + used, sizeof(chain) - used, "%s", label);
    return site_error(ld, site, -ELOOP, "include loop: %s", chain);
}

static int check_loop(struct loader *ld, const struct site *site, const struct stat *st, const char *label)
{
    for (int i = 0; i < ld->depth; i++)
        if (ld->stack[i].has_id && ld->stack[i].dev == st->st_dev && ld->stack[i].ino == st->st_ino)
            return loop_error(ld, site, i, label);
    return 0;
}

static int open_error(struct loader *ld, const struct site *site, const char *path, const char *label,
                      int rc, const char *why)
{
    if (!site)
        return error_at(ld, path, 0, 0, rc, "cannot read map file: %s", why);
    if (rc == -ENOENT)
        return site_error(ld, site, rc, "%s '%.*s' not found (%.*s)", site->what, MAP_ECHO, label, 120, path);
    return site_error(ld, site, rc, "cannot read %s '%.*s' (%.*s): %s", site->what, MAP_ECHO, label, 100,
                      path, why);
}

/* Reads PATH and handles its lines in SCOPE.  SITE is where it was named
 * (NULL for the file given by the caller). */
static int load_file(struct loader *ld, const char *path, const char *label, struct scope *scope,
                     const struct site *site)
{
    struct stat st;
    const char *why;
    char *buf = NULL;
    size_t len = 0;

    if (ld->depth >= MAP_MAX_DEPTH)
        return site_error(ld, site, -ELOOP, "includes nested more than %d levels deep", MAP_MAX_DEPTH);
    if (ld->files_read >= MAP_MAX_FILES)
        return site_error(ld, site, -E2BIG, "more than %d map files read", MAP_MAX_FILES);
    int rc = read_file(path, &buf, &len, &st, &why);
    if (rc < 0)
        return open_error(ld, site, path, label, rc, why);
    if ((rc = check_loop(ld, site, &st, label)) < 0) {
        free(buf);
        return rc;
    }
    struct source src = {.name = path, .dir = dir_name(path), .base = base_name(path), .has_id = true,
                         .dev = st.st_dev, .ino = st.st_ino, .scope = scope};
    if (!src.dir) {
        free(buf);
        return oom(ld);
    }
    ld->stack[ld->depth++] = (struct frame){.label = label, .has_id = true, .dev = st.st_dev, .ino = st.st_ino};
    ld->files_read++;
    rc = parse_buffer(ld, &src, buf, len);
    ld->depth--;
    free(src.dir);
    free(buf);
    return rc;
}

/* ======================================================================
 * Includes and master lines
 * ==================================================================== */

static bool is_special_map(const char *s)
{
    return str_in(s, special_maps);
}

/* ----------------------------------------------------------------------
 * Directory sources: recorded here, fetched by the engine
 * -------------------------------------------------------------------- */

void sfs_map_dirref_free(struct sfs_map_dirref *ref)
{
    if (!ref)
        return;
    free(ref->where);
    free(ref->label);
    free(ref->uri);
    free(ref->base);
    free(ref->name);
    free(ref->root);
    free(ref->options);
    memset(ref, 0, sizeof(*ref));
}

int sfs_map_dirref_copy(struct sfs_map_dirref *dst, const struct sfs_map_dirref *src)
{
    *dst = *src;
    dst->where = dst->label = dst->uri = dst->base = dst->name = dst->root = dst->options = NULL;
    bool ok = set_string(&dst->where, src->where) && set_string(&dst->label, src->label) &&
              set_string(&dst->uri, src->uri) && set_string(&dst->base, src->base) &&
              set_string(&dst->name, src->name) && set_string(&dst->root, src->root) &&
              set_string(&dst->options, src->options);
    if (!ok) {
        sfs_map_dirref_free(dst);
        return -ENOMEM;
    }
    return 0;
}

/* A host name or address as an LDAP URL may hold it (no '/', '?', '@', blanks). */
static bool ldap_host_ok(const char *h, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(g_ascii_isalnum(h[i]) || strchr("-._:[]", h[i])))
            return false;
    return true;
}

int sfs_map_ldap_source(const char *text, char **uri, char **base, const char **why)
{
    *uri = *base = NULL;
    *why = NULL;
    size_t scheme = 0;
    if (g_ascii_strncasecmp(text, "ldaps:", 6) == 0)
        scheme = 5;
    else if (g_ascii_strncasecmp(text, "ldap:", 5) == 0)
        scheme = 4;
    else
        return 1;
    const char *rest = text + scheme + 1;
    if (rest[0] == '/' && rest[1] == '/') {
        /* ldap://HOST[:PORT]/DN: RFC 4516 without attributes, scope or filter. */
        const char *host = rest + 2, *slash = strchr(host, '/');
        size_t hn = slash ? (size_t)(slash - host) : strlen(host);
        if (!ldap_host_ok(host, hn)) {
            *why = "the LDAP URL has no server, or a server name with characters a host name cannot have";
            return -EINVAL;
        }
        if (slash && strpbrk(slash + 1, "?#")) {
            *why = "attributes, scope, filter or extensions in an LDAP map URL are not supported (give only the DN)";
            return -EINVAL;
        }
        char *dn = slash && slash[1] ? g_uri_unescape_string(slash + 1, NULL) : NULL;
        if (slash && slash[1] && !dn) {
            *why = "bad percent-escape in the DN of the LDAP URL";
            return -EINVAL;
        }
        *uri = g_strdup_printf("%.*s://%.*s", (int)scheme, text, (int)hn, host);
        *base = dn ? strdup(dn) : NULL;
        g_free(dn);
        return 0;
    }
    /* autofs: ldap:DN or ldap:HOST:DN (a ':' before the DN's first '='). */
    const char *eq = strchr(rest, '='), *colon = strchr(rest, ':');
    if (colon && (!eq || colon < eq)) {
        if (!ldap_host_ok(rest, (size_t)(colon - rest))) {
            *why = "bad server name before the DN";
            return -EINVAL;
        }
        *uri = g_strdup_printf("%.*s://%.*s", (int)scheme, text, (int)(colon - rest), rest);
        rest = colon + 1;
    }
    if (!*rest || !strchr(rest, '=')) {
        free(*uri);
        *uri = NULL;
        *why = "no DN (such as automountMapName=auto.home,dc=example,dc=com) after the LDAP source";
        return -EINVAL;
    }
    *base = strdup(rest);
    return 0;
}

/* Records a directory source the current line names; its entries are
 * merged in later (sfs_map_add_directory). */
static int add_dirref(struct loader *ld, struct source *src, const struct token *tok, enum sfs_map_dirref_kind kind,
                      const char *uri, const char *base, const char *name, const char *root,
                      enum sfs_map_type type, const char *options)
{
    struct sfs_map *m = ld->map;
    int line = 0, col = 0;
    if (src->ll)
        lline_position(src->ll, tok_start(tok), &line, &col);
    struct sfs_map_dirref *v = realloc(m->dirrefs, (m->n_dirrefs + 1) * sizeof(*v));
    if (!v)
        return oom(ld);
    m->dirrefs = v;
    struct sfs_map_dirref *r = &v[m->n_dirrefs];
    memset(r, 0, sizeof(*r));
    r->kind = kind;
    r->type = type;
    r->where = line ? g_strdup_printf("%s:%d", src->name, line) : g_strdup(src->name);
    bool ok = r->where && set_string(&r->label, tok->text) && set_string(&r->uri, uri) &&
              set_string(&r->base, base) && set_string(&r->name, name) && set_string(&r->root, root) &&
              set_string(&r->options, options && *options ? options : NULL);
    if (!ok) {
        sfs_map_dirref_free(r);
        return oom(ld);
    }
    m->n_dirrefs++;
    return 0;
}

/* The option tokens from FIRST on, joined by blanks; NULL when none. */
static char *options_text(const struct tokens *t, size_t first)
{
    if (first >= t->n)
        return NULL;
    GString *g = g_string_new(NULL);
    for (size_t i = first; i < t->n; i++)
        g_string_append_printf(g, "%s%s", i > first ? " " : "", t->v[i].text);
    char *out = strdup(g->str);
    g_string_free(g, TRUE);
    return out;
}

static bool looks_like_location(const char *s)
{
    return strstr(s, "://") || (s[0] == '/' && s[1] == '/');
}

/* Decides from its first entry line whether a file is a master map. */
static enum file_mode detect_mode(const struct tokens *t)
{
    const char *key = t->v[0].text;
    if (key[0] != '/')
        return MODE_MAP;
    if (strcmp(key, "/-") == 0)
        return MODE_MASTER;
    if (t->n < 2)
        return MODE_MAP;
    const char *second = t->v[1].text;
    if (is_special_map(second) || g_ascii_strncasecmp(second, "ldap:", 5) == 0 ||
        g_ascii_strncasecmp(second, "ldaps:", 6) == 0)
        return MODE_MASTER;
    if (second[0] == '-' || looks_like_location(second))
        return MODE_MAP;
    return MODE_MASTER;
}

/* Handles an autofs "type[,format]:name" prefix.  Sets *NAME past a "file:"
 * prefix; returns 2 with *URI and *BASE for an LDAP source ("ldap:DN",
 * "ldap://HOST/DN"), 1 (and warns) for another source that is not a file. */
static int map_source(struct loader *ld, struct source *src, const struct token *tok, size_t at,
                      const char **name, char **uri, char **base)
{
    *uri = *base = NULL;
    const char *why;
    int lrc = sfs_map_ldap_source(*name, uri, base, &why);
    if (lrc < 0)
        return line_error(ld, src, tok_off(tok, at), -EINVAL, "%s", why);
    if (lrc == 0)
        return 2;
    const char *s = *name;
    size_t n = strcspn(s, ",:");
    if (s[n] == '\0' || n == 0)
        return 0;
    char type[16];
    if (n >= sizeof(type))
        return 0;
    memcpy(type, s, n);
    type[n] = '\0';
    if (!str_in(type, map_sources))
        return 0;
    const char *colon = strchr(s, ':');
    if (!colon)
        return 0;
    if (strcasecmp(type, "file") == 0) {
        *name = colon + 1;
        return 0;
    }
    int rc = add_warning(ld, src, tok_off(tok, at), "map source '%s' is not supported; skipped", type);
    return rc < 0 ? rc : 1;
}

/* A bare "+name" naming the file it is in means the directory-service map
 * (macOS "+auto_master") or another autofs source: not a loop. */
static bool is_self_include(const struct source *src, const char *name, const char *path)
{
    struct stat st;
    if (strchr(name, '/'))
        return false;
    if (strcmp(name, src->base) == 0)
        return true;
    return src->has_id && stat(path, &st) == 0 && st.st_dev == src->dev && st.st_ino == src->ino;
}

static int handle_include(struct loader *ld, struct source *src, const struct tokens *t)
{
    const struct token *tok = &t->v[0];
    const char *name = tok->text + 1;
    int rc;

    if (*name == '\0')
        return line_error(ld, src, tok_start(tok), -EINVAL, "include '+' without a map name");
    if (t->n > 1)
        return line_error(ld, src, tok_start(&t->v[1]), -EINVAL, "unexpected text after include '+%.*s'",
                          MAP_ECHO, name);
    char *uri = NULL, *base = NULL;
    struct scope *sc = src->scope;
    bool master = sc->mode == MODE_MASTER;
    enum sfs_map_type type = sc->type_known ? sc->type : SFS_MAP_TYPE_INDIRECT;
    if (sc->mode == MODE_UNKNOWN && ld->n_undecided < MAP_MAX_UNDECIDED)
        ld->undecided[ld->n_undecided++] = (struct undecided){.ref = ld->map->n_dirrefs, .scope = sc};
    if ((rc = map_source(ld, src, tok, 1, &name, &uri, &base)) == 2) {
        /* +ldap:DN: the master map (in a master) or the map (in a map) at DN */
        rc = add_dirref(ld, src, tok, master ? SFS_DIRREF_MASTER : SFS_DIRREF_MAP, uri, base, base,
                        master ? NULL : sc->root, type, NULL);
        free(uri);
        free(base);
        return rc;
    }
    if (rc != 0)
        return rc < 0 ? rc : 0;
    if (*name == '\0')
        return line_error(ld, src, tok_start(tok), -EINVAL, "include '+' without a map name");
    char *path = resolve_name(src->dir, name);
    if (!path)
        return oom(ld);
    if (is_self_include(src, name, path)) {
        /* macOS "+auto_master": the map of that name in the directory */
        rc = add_dirref(ld, src, tok, master ? SFS_DIRREF_MASTER : SFS_DIRREF_MAP, NULL, NULL, name,
                        master ? NULL : sc->root, type, NULL);
    } else {
        struct site site = {.src = src, .tok = tok, .what = "include"};
        rc = load_file(ld, path, name, src->scope, &site);
    }
    free(path);
    return rc;
}

static int parse_option_token(struct loader *ld, struct source *src, const struct token *tok,
                              struct opt_list *out);

/* Records a master mount point; 1 when it was seen before (warned). */
static int check_duplicate(struct loader *ld, struct source *src, size_t off, const char *root,
                           const char *key, bool master)
{
    char where[300];
    int line, col;
    char *id = g_strdup_printf("%s%s\037%s", master ? "\036" : "", root ? root : "", key);
    const char *first = g_hash_table_lookup(ld->seen, id);
    if (first) {
        g_free(id);
        int rc = add_warning(ld, src, off, "duplicate %s '%.*s' ignored (first defined at %s)",
                             master ? "mount point" : "key", MAP_ECHO, key, first);
        return rc < 0 ? rc : 1;
    }
    lline_position(src->ll, off, &line, &col);
    snprintf(where, sizeof(where), "%s:%d", src->name, line);
    g_hash_table_insert(ld->seen, id, g_strdup(where));
    return 0;
}

static int load_master_map(struct loader *ld, struct source *src, const struct token *map_tok,
                           const char *root, bool direct, const struct opt_list *opts,
                           const struct tokens *opts_tokens)
{
    const char *name = map_tok->text;
    char *uri = NULL, *base = NULL;
    int rc = map_source(ld, src, map_tok, 0, &name, &uri, &base);
    if (rc == 2) {
        char *text = options_text(opts_tokens, 2);
        rc = add_dirref(ld, src, map_tok, SFS_DIRREF_MAP, uri, base, base, root,
                        direct ? SFS_MAP_TYPE_DIRECT : SFS_MAP_TYPE_INDIRECT, text);
        free(text);
        free(uri);
        free(base);
        return rc;
    }
    if (rc != 0)
        return rc < 0 ? rc : 0;
    if (*name == '\0')
        return line_error(ld, src, tok_start(map_tok), -EINVAL, "missing map name after the map source");
    char *path = resolve_name(src->dir, name);
    if (!path)
        return oom(ld);
    struct scope scope = {.mode = MODE_MAP, .type_known = true,
                          .type = direct ? SFS_MAP_TYPE_DIRECT : SFS_MAP_TYPE_INDIRECT,
                          .root = root, .inherited = opts};
    struct site site = {.src = src, .tok = map_tok, .what = "map"};
    rc = load_file(ld, path, name, &scope, &site);
    free(path);
    return rc;
}

/* "MOUNTPOINT -fstab" and "/- -static" (macOS): mount records of the
 * configured directory. */
static int add_special_dirref(struct loader *ld, struct source *src, const struct tokens *t, const char *root,
                              bool direct)
{
    bool fstab = strcmp(t->v[1].text, "-fstab") == 0;
    char *text = options_text(t, 2);
    int rc = add_dirref(ld, src, &t->v[1], fstab ? SFS_DIRREF_FSTAB : SFS_DIRREF_STATIC, NULL, NULL, NULL,
                        fstab ? root : "/", direct ? SFS_MAP_TYPE_DIRECT : SFS_MAP_TYPE_INDIRECT, text);
    free(text);
    return rc;
}

/* "MOUNTPOINT MAP [-options]" or "/- MAP [-options]". */
static int handle_master_line(struct loader *ld, struct source *src, const struct tokens *t)
{
    const struct token *mp = &t->v[0];
    struct opt_list opts = {0};
    char *root = NULL;
    int rc = 0;

    if (mp->text[0] != '/')
        return line_error(ld, src, tok_start(mp), -EINVAL,
                          "master map line must start with a mount point ('/path' or '/-') or '+map'");
    if (t->n < 2)
        return line_error(ld, src, tok_off(mp, mp->len), -EINVAL, "missing map name for mount point '%.*s'",
                          MAP_ECHO, mp->text);
    const struct token *map_tok = &t->v[1];
    bool special = strcmp(map_tok->text, "-fstab") == 0 || strcmp(map_tok->text, "-static") == 0;
    if (is_special_map(map_tok->text) && !special)
        return add_warning(ld, src, tok_start(map_tok), "special map '%s' for %.*s is not supported; skipped",
                           map_tok->text, MAP_ECHO, mp->text);
    if (strcmp(map_tok->text, "-static") == 0 && strcmp(mp->text, "/-") != 0)
        return line_error(ld, src, tok_start(map_tok), -EINVAL,
                          "'-static' mounts records at their own paths: write it as '/- -static'");
    if (map_tok->text[0] == '-' && !special)
        return line_error(ld, src, tok_start(map_tok), -EINVAL,
                          "missing map name for mount point '%.*s' (options come after the map name)",
                          MAP_ECHO, mp->text);
    for (size_t i = 2; i < t->n && rc == 0; i++) {
        if (t->v[i].text[0] != '-')
            rc = line_error(ld, src, tok_start(&t->v[i]), -EINVAL,
                            "unexpected text in master map line (options start with '-')");
        else
            rc = parse_option_token(ld, src, &t->v[i], &opts);
    }
    bool direct = strcmp(mp->text, "/-") == 0;
    if (rc == 0 && !(root = sfs_path_normalize(direct ? "/" : mp->text)))
        rc = oom(ld);
    if (rc == 0 && !direct)
        rc = check_duplicate(ld, src, tok_start(mp), NULL, root, true);
    if (rc == 0)
        rc = special ? add_special_dirref(ld, src, t, root, direct) : load_master_map(ld, src, map_tok, root, direct, &opts, t);
    free(root);
    opt_list_free(&opts);
    return rc < 0 ? rc : 0;
}

/* ======================================================================
 * Options
 * ==================================================================== */

static const struct opt_def *find_opt_def(const char *name, size_t n, bool has_value)
{
    for (size_t i = 0; i < sizeof(opt_defs) / sizeof(opt_defs[0]); i++)
        if (opt_defs[i].has_value == has_value && strlen(opt_defs[i].name) == n &&
            strncmp(opt_defs[i].name, name, n) == 0)
            return &opt_defs[i];
    return NULL;
}

/* Unrecognised options that look like a password must not reach `other`,
 * which callers may print. */
static bool looks_secret(const char *name, size_t n)
{
    return (n >= 4 && strncasecmp(name, "pass", 4) == 0) || (n == 3 && strncasecmp(name, "pwd", 3) == 0);
}

static bool is_known_other(const char *name, size_t n)
{
    for (const char *const *k = known_other_opts; *k; k++)
        if (strlen(*k) == n && strncmp(*k, name, n) == 0)
            return true;
    return false;
}

/* Checks the value of a recognised option; warns about unusual ones. */
static int check_opt_value(struct loader *ld, struct source *src, const struct token *tok, size_t at,
                           const struct opt_def *def, const char *value, size_t vlen)
{
    size_t voff = tok_off(tok, at);
    char v[32] = "";
    if (!value || def->kind == OPT_PASSWORD)
        vlen = 0; /* flags have no value; a password is never copied around */
    if (vlen >= sizeof(v))
        vlen = sizeof(v) - 1;
    if (vlen)
        memcpy(v, value, vlen);
    v[vlen] = '\0';

    switch (def->kind) {
    case OPT_FSTYPE:
        if (!str_in(v, known_fstypes))
            return line_error(ld, src, voff, -EINVAL,
                              "unknown fstype '%s' (expected url, afp, smbfs, cifs or smb3)", v);
        return 0;
    case OPT_SEC:
        if (!str_in(v, known_secs))
            return add_warning(ld, src, voff, "unknown sec '%s' (known: krb5, krb5i, ntlmssp, ntlmv2, none)", v);
        return 0;
    case OPT_VERS:
        if (!str_in(v, known_vers))
            return add_warning(ld, src, voff, "unknown vers '%s' (known: 1.0, 2.0, 2.1, 3, 3.0, 3.02, 3.1.1, default)",
                               v);
        return 0;
    case OPT_PASSWORD:
        return add_warning(ld, src, tok_off(tok, at - 1 - strlen(def->name)),
                           "password stored in map; prefer a credentials file");
    default:
        return 0;
    }
}

/* A known option written in the wrong form: "ro=1", or "sec" without a value. */
static int check_option_form(struct loader *ld, struct source *src, const struct token *tok, size_t s,
                             size_t nlen, bool has_value)
{
    const char *name = tok->text + s;
    if (!find_opt_def(name, nlen, !has_value) || is_known_other(name, nlen))
        return 0;
    if (has_value)
        return line_error(ld, src, tok_off(tok, s), -EINVAL, "option '%.*s' takes no value", (int)nlen, name);
    return line_error(ld, src, tok_off(tok, s), -EINVAL, "option '%.*s' needs a value ('%.*s=...')", (int)nlen,
                      name, (int)nlen, name);
}

/* One "name[=value]" in [s, e) of an option token. */
static int parse_one_option(struct loader *ld, struct source *src, const struct token *tok, size_t s,
                            size_t e, struct opt_list *out)
{
    const char *text = tok->text + s;
    const char *eq = memchr(text, '=', e - s);
    size_t nlen = eq ? (size_t)(eq - text) : e - s;
    const char *value = eq ? eq + 1 : NULL;
    size_t vlen = eq ? e - s - nlen - 1 : 0;
    int rc;

    if (s == e)
        return line_error(ld, src, tok_off(tok, s), -EINVAL, "empty option in option list");
    if (nlen == 0)
        return line_error(ld, src, tok_off(tok, s), -EINVAL, "option without a name");
    const struct opt_def *def = find_opt_def(text, nlen, eq != NULL);
    if (!def && (rc = check_option_form(ld, src, tok, s, nlen, eq != NULL)) < 0)
        return rc;
    if (def && vlen == 0 && def->has_value && def->kind != OPT_PASSWORD)
        return line_error(ld, src, tok_off(tok, s + nlen + 1), -EINVAL, "empty value in '%.*s='", (int)nlen,
                          text);
    if (def && (rc = check_opt_value(ld, src, tok, s + nlen + 1, def, value, vlen)) < 0)
        return rc;
    if (!def && looks_secret(text, nlen)) /* warned about, then dropped */
        return add_warning(ld, src, tok_off(tok, s), "password stored in map; prefer a credentials file");
    if (!def && !is_known_other(text, nlen) &&
        (rc = add_warning(ld, src, tok_off(tok, s), "unknown option '%.*s' (kept)",
                          (int)(nlen > MAP_ECHO ? MAP_ECHO : nlen), text)) < 0)
        return rc;
    if (opt_list_add(out, def ? def->kind : OPT_OTHER, text, e - s, value, vlen) < 0)
        return oom(ld);
    return 0;
}

/* "-a,b=c,d" (or "--a" as autofs master maps write it). */
static int parse_option_token(struct loader *ld, struct source *src, const struct token *tok,
                              struct opt_list *out)
{
    size_t i = (tok->len > 1 && tok->text[1] == '-') ? 2 : 1;

    if (i >= tok->len)
        return line_error(ld, src, tok_start(tok), -EINVAL, "empty option list after '-'");
    for (;;) {
        size_t end = i;
        while (end < tok->len && tok->text[end] != ',')
            end++;
        int rc = parse_one_option(ld, src, tok, i, end, out);
        if (rc < 0)
            return rc;
        if (end == tok->len)
            return 0;
        i = end + 1;
        if (i == tok->len)
            return line_error(ld, src, tok_off(tok, end), -EINVAL, "empty option in option list (trailing ',')");
    }
}

/* ======================================================================
 * Entries
 * ==================================================================== */

static void entry_init(struct sfs_map_entry *e)
{
    memset(e, 0, sizeof(*e));
}

void sfs_map_entry_free(struct sfs_map_entry *e)
{
    if (!e)
        return;
    free(e->file);
    free(e->root);
    free(e->key);
    free(e->mountpoint);
    free(e->location);
    free(e->location_display);
    sfs_url_free(&e->url);
    mount_options_free(&e->opts);
    memset(e, 0, sizeof(*e));
}

int sfs_map_entry_copy(struct sfs_map_entry *dst, const struct sfs_map_entry *src)
{
    if (!dst)
        return -EINVAL;
    entry_init(dst);
    if (!src)
        return -EINVAL;
    dst->type = src->type;
    dst->wildcard = src->wildcard;
    dst->url_ok = src->url_ok;
    dst->line = src->line;
    dst->dirref = src->dirref;
    bool ok = set_string(&dst->file, src->file) && set_string(&dst->root, src->root) && set_string(&dst->key, src->key) &&
              set_string(&dst->mountpoint, src->mountpoint) && set_string(&dst->location, src->location) &&
              set_string(&dst->location_display, src->location_display) &&
              sfs_url_copy(&dst->url, &src->url) == 0 && mount_options_copy(&dst->opts, &src->opts) == 0;
    if (!ok) {
        sfs_map_entry_free(dst);
        return -ENOMEM;
    }
    return 0;
}

/* Validates KEY for the scope's map type; *NORM gets the key to store. */
static int check_key(struct loader *ld, struct source *src, const struct token *key, char **norm)
{
    struct scope *sc = src->scope;
    const char *k = key->text;

    *norm = NULL;
    if (key->len == 0)
        return line_error(ld, src, tok_start(key), -EINVAL, "empty key");
    if (!sc->type_known) {
        sc->type = k[0] == '/' ? SFS_MAP_TYPE_DIRECT : SFS_MAP_TYPE_INDIRECT;
        sc->type_known = true;
    }
    if (sc->type == SFS_MAP_TYPE_INDIRECT) {
        const char *slash = strchr(k, '/');
        if (slash)
            return line_error(ld, src, tok_off(key, (size_t)(slash - k)), -EINVAL,
                              "key '%.*s' contains '/' (not allowed in an indirect map)", MAP_ECHO, k);
        if (strcmp(k, ".") == 0 || strcmp(k, "..") == 0)
            return line_error(ld, src, tok_start(key), -EINVAL, "key '%s' is not allowed", k);
        *norm = strdup(k);
        return *norm ? 0 : oom(ld);
    }
    if (k[0] != '/')
        return line_error(ld, src, tok_start(key), -EINVAL,
                          "key '%.*s' in a direct map must be an absolute path", MAP_ECHO, k);
    for (size_t i = 0; i < key->len; i++) {
        size_t n = strcspn(k + i + 1, "/");
        if (k[i] == '/' && ((n == 1 && k[i + 1] == '.') || (n == 2 && k[i + 1] == '.' && k[i + 2] == '.')))
            return line_error(ld, src, tok_off(key, i + 1), -EINVAL, "'.' and '..' are not allowed in key '%.*s'",
                              MAP_ECHO, k);
    }
    if (!(*norm = sfs_path_normalize(k)))
        return oom(ld);
    if (strcmp(*norm, "/") == 0) {
        free(*norm);
        *norm = NULL;
        return line_error(ld, src, tok_start(key), -EINVAL, "key '/' is not allowed in a direct map");
    }
    return 0;
}

/* Parses the location of E (with '&' replaced) and checks it against the
 * fstype.  A wildcard's '&' stands for a key not known yet: it is checked
 * with a placeholder and parsed again by sfs_map_lookup. */
static int parse_location(struct loader *ld, struct source *src, const struct token *loc,
                          struct sfs_map_entry *e)
{
    struct sfs_parse_error uerr;
    struct sfs_url url;
    size_t *srcmap = NULL;
    char *text = NULL;
    bool has_amp = strchr(loc->text, '&') != NULL;

    if (has_amp)
        text = substitute_key(loc->text, e->wildcard ? "1" : e->key, &srcmap);
    if (has_amp && !text)
        return oom(ld);
    int rc = sfs_url_parse(text ? text : loc->text, &url, &uerr);
    if (rc < 0) {
        size_t i = uerr.column > 0 ? (size_t)uerr.column - 1 : 0;
        size_t len = text ? strlen(text) : loc->len;
        if (i > len)
            i = len;
        if (srcmap)
            i = srcmap[i];
        free(text);
        free(srcmap);
        if (rc == -ENOMEM)
            return oom(ld);
        return line_error(ld, src, tok_off(loc, i), rc, "invalid URL: %s", uerr.message);
    }
    free(text);
    free(srcmap);
    e->url = url;
    e->url_ok = true;
    return 0;
}

static int check_fstype(struct loader *ld, struct source *src, const struct token *loc,
                        const struct sfs_map_entry *e)
{
    const char *fs = e->opts.fstype;
    if (!fs || strcmp(fs, "url") == 0)
        return 0;
    if (strcmp(fs, "afp") == 0 && e->url.proto != SFS_PROTO_AFP)
        return line_error(ld, src, tok_start(loc), -EINVAL, "fstype 'afp' needs an afp:// location");
    if (strcmp(fs, "afp") != 0 && e->url.proto != SFS_PROTO_SMB)
        return line_error(ld, src, tok_start(loc), -EINVAL,
                          "fstype '%s' needs an SMB location (smb://, //host/share or ://host/share)", fs);
    return 0;
}

static int check_passwords(struct loader *ld, struct source *src, const struct token *loc,
                           const struct sfs_map_entry *e)
{
    size_t s, end;
    if (!e->url.password || !find_password(loc->text, &s, &end))
        return 0;
    return add_warning(ld, src, tok_off(loc, s + 1), "password stored in map; prefer a credentials file");
}

static int append_entry(struct loader *ld, struct sfs_map_entry *e)
{
    struct sfs_map *m = ld->map;
    if (m->n_entries == ld->cap_entries) {
        size_t cap = ld->cap_entries ? ld->cap_entries * 2 : 16;
        struct sfs_map_entry *v = realloc(m->entries, cap * sizeof(*v));
        if (!v)
            return oom(ld);
        m->entries = v;
        ld->cap_entries = cap;
    }
    m->entries[m->n_entries++] = *e;
    entry_init(e);
    return 0;
}

/* Fills the names and texts of a new entry. */
static int fill_entry(struct loader *ld, struct source *src, char *key, const struct token *loc,
                      struct sfs_map_entry *e)
{
    struct scope *sc = src->scope;
    const char *root = sc->type == SFS_MAP_TYPE_DIRECT ? "/" : sc->root;
    int line, col;

    e->key = key;
    e->type = sc->type;
    e->wildcard = strcmp(key, "*") == 0;
    e->root = sfs_strdup_or_null(root);
    if (sc->type == SFS_MAP_TYPE_DIRECT)
        e->mountpoint = strdup(key);
    else if (!e->wildcard)
        e->mountpoint = join_mountpoint(sc->root, key);
    e->location = strdup(loc->text);
    e->location_display = strip_password(loc->text);
    lline_position(src->ll, 0, &line, &col);
    e->line = line;
    e->file = strdup(src->name);
    if (!e->file || (root && !e->root) || (!e->wildcard && !e->mountpoint) || !e->location || !e->location_display)
        return oom(ld);
    return 0;
}

/* Builds the entry of "KEY [-opts]... LOCATION". */
static int build_entry(struct loader *ld, struct source *src, const struct tokens *t, size_t loc_index,
                       const struct opt_list *opts, char *key, struct sfs_map_entry *e)
{
    const struct token *loc = &t->v[loc_index];
    int rc = fill_entry(ld, src, key, loc, e);

    if (rc == 0 && (apply_options(&e->opts, src->scope->inherited) < 0 || apply_options(&e->opts, opts) < 0))
        rc = oom(ld);
    if (rc == 0)
        rc = parse_location(ld, src, loc, e);
    if (rc == 0)
        rc = check_fstype(ld, src, loc, e);
    if (rc == 0)
        rc = check_passwords(ld, src, loc, e);
    if (rc == 0 && e->wildcard && strchr(e->location, '&')) {
        sfs_url_free(&e->url); /* parsed with a placeholder key: see sfs_map_lookup */
        e->url_ok = false;
    }
    return rc;
}

/* Where an entry's key comes from: the first token of a map line, or a
 * directory record's key attribute (its own source, or already checked). */
struct key_in {
    struct source *src;
    const struct token *tok;
    const char *checked; /* use as it is (sfs_map_add_item with key_checked) */
};

/* "[-opts]... LOCATION" in tokens FIRST.. of T, for the key K. */
static int handle_entry(struct loader *ld, struct source *src, const struct key_in *k, const struct tokens *t,
                        size_t first)
{
    struct opt_list opts = {0};
    struct sfs_map_entry e;
    char *key = NULL;
    size_t i = first;
    const char *kt = k->checked ? k->checked : k->tok->text;
    int rc = 0;

    entry_init(&e);
    if (k->checked && !(key = strdup(k->checked)))
        rc = oom(ld);
    else if (!k->checked)
        rc = check_key(ld, k->src, k->tok, &key);
    for (; rc == 0 && i < t->n && t->v[i].text[0] == '-'; i++)
        rc = parse_option_token(ld, src, &t->v[i], &opts);
    if (rc == 0 && i == t->n) {
        const struct token *last = t->n > first ? &t->v[t->n - 1] : NULL;
        rc = line_error(ld, src, last ? tok_off(last, last->len) : src->ll->len, -EINVAL,
                        "missing location for key '%.*s'", MAP_ECHO, kt);
    }
    if (rc == 0 && i + 1 < t->n)
        rc = line_error(ld, src, tok_start(&t->v[i + 1]), -EINVAL,
                        "unexpected text after the location (one location per key)");
    if (rc == 0 && t->v[i].len == 0)
        rc = line_error(ld, src, tok_start(&t->v[i]), -EINVAL, "empty location for key '%.*s'", MAP_ECHO, kt);
    if (rc == 0) {
        rc = build_entry(ld, src, t, i, &opts, key, &e);
        key = NULL; /* owned by e now */
    }
    if (rc == 0 && ld->seen && k->tok)
        rc = check_duplicate(ld, src, tok_start(k->tok), e.root, e.key, false);
    if (rc == 0 && src->field)
        e.line = 0; /* e.file is the record's DN */
    if (rc == 0)
        rc = append_entry(ld, &e);
    free(key);
    sfs_map_entry_free(&e);
    opt_list_free(&opts);
    return rc < 0 ? rc : 0;
}

static int handle_entry_line(struct loader *ld, struct source *src, const struct tokens *t)
{
    struct key_in k = {.src = src, .tok = &t->v[0]};
    return handle_entry(ld, src, &k, t, 1);
}

/* ======================================================================
 * Driving a file
 * ==================================================================== */

static int handle_line(struct loader *ld, struct source *src, const struct tokens *t)
{
    if (t->n == 0)
        return 0;
    if (t->v[0].text[0] == '+')
        return handle_include(ld, src, t);
    if (src->scope->mode == MODE_UNKNOWN)
        src->scope->mode = detect_mode(t);
    if (src->scope->mode == MODE_MASTER)
        return handle_master_line(ld, src, t);
    return handle_entry_line(ld, src, t);
}

static int nul_error(struct loader *ld, const struct source *src, const char *buf, const char *nul)
{
    int line = 1;
    const char *line_start = buf;
    for (const char *p = buf; p < nul; p++)
        if (*p == '\n') {
            line++;
            line_start = p + 1;
        }
    size_t col = (size_t)(nul - line_start) + 1;
    return error_at(ld, src->name, line, col > INT32_MAX ? INT32_MAX : (int)col, -EINVAL, "NUL byte in file");
}

static int parse_buffer(struct loader *ld, struct source *src, const char *buf, size_t len)
{
    struct reader r = {.buf = buf, .len = len, .pos = 0, .line = 1};
    struct lline ll = {0};
    const char *nul = memchr(buf, '\0', len);
    int rc = 0;

    if (nul)
        return nul_error(ld, src, buf, nul);
    src->ll = &ll;
    while (rc == 0 && (rc = next_line(ld, src, &r, &ll)) > 0) {
        struct tokens t = {0};
        rc = tokenize(ld, src, &t);
        if (rc == 0)
            rc = handle_line(ld, src, &t);
        tokens_free(&t);
    }
    lline_free(&ll);
    src->ll = NULL;
    /* "+name" lines read before the first entry: a master's includes name master maps. */
    for (size_t i = 0; i < ld->n_undecided; i++) {
        struct undecided *u = &ld->undecided[i];
        if (u->scope != src->scope)
            continue;
        /* A file of nothing but "+auto_master" is a master too. */
        bool master_name = u->ref < ld->map->n_dirrefs && ld->map->dirrefs[u->ref].name &&
                           (!strcmp(ld->map->dirrefs[u->ref].name, "auto_master") ||
                            !strcmp(ld->map->dirrefs[u->ref].name, "auto.master"));
        bool master = src->scope->mode == MODE_MASTER || (src->scope->mode == MODE_UNKNOWN && master_name);
        if (master && u->ref < ld->map->n_dirrefs) {
            ld->map->dirrefs[u->ref].kind = SFS_DIRREF_MASTER;
            free(ld->map->dirrefs[u->ref].root);
            ld->map->dirrefs[u->ref].root = NULL;
        }
        *u = ld->undecided[--ld->n_undecided];
        i--;
    }
    return rc;
}

/* ======================================================================
 * Public API
 * ==================================================================== */

void sfs_map_free(struct sfs_map *map)
{
    if (!map)
        return;
    for (size_t i = 0; i < map->n_entries; i++)
        sfs_map_entry_free(&map->entries[i]);
    free(map->entries);
    for (size_t i = 0; i < map->n_warnings; i++)
        free(map->warnings[i]);
    free(map->warnings);
    for (size_t i = 0; i < map->n_dirrefs; i++)
        sfs_map_dirref_free(&map->dirrefs[i]);
    free(map->dirrefs);
    memset(map, 0, sizeof(*map));
}

static void loader_init(struct loader *ld, struct sfs_map *out, struct sfs_parse_error *err)
{
    memset(ld, 0, sizeof(*ld));
    memset(out, 0, sizeof(*out));
    memset(err, 0, sizeof(*err));
    ld->map = out;
    ld->err = err;
    ld->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

static int loader_finish(struct loader *ld, int rc)
{
    g_hash_table_destroy(ld->seen);
    if (rc < 0)
        sfs_map_free(ld->map);
    return rc < 0 ? rc : 0;
}

/* The top scope; *OWNED keeps the normalised root to free. */
static int scope_init(struct scope *sc, const char *root, char **owned)
{
    memset(sc, 0, sizeof(*sc));
    sc->mode = MODE_UNKNOWN;
    *owned = NULL;
    if (root && !(*owned = sfs_path_normalize(root)))
        return -ENOMEM;
    sc->root = *owned;
    return 0;
}

/* What a load starts from: the map file PATH, or TEXT in memory that
 * errors call NAME.  MISSING: why there is nothing to read (an error at
 * NAME), or NULL. */
struct top {
    const char *path, *text, *name, *missing;
};

static int read_top(struct loader *ld, struct scope *scope, const struct top *t)
{
    if (!t->text)
        return load_file(ld, t->path, t->path, scope, NULL);
    struct source src = {.name = t->name, .dir = NULL, .base = base_name(t->name), .scope = scope};
    ld->stack[ld->depth++] = (struct frame){.label = t->name};
    return parse_buffer(ld, &src, t->text, strlen(t->text));
}

/* Both entry points: a loader filling OUT (and ERR, when given), the top
 * scope under ROOT, one read. */
static int load_top(const struct top *t, const char *root, struct sfs_map *out, struct sfs_parse_error *err)
{
    struct sfs_parse_error scratch;
    struct loader ld;
    struct scope scope;
    char *root_copy;

    if (!out)
        return -EINVAL;
    loader_init(&ld, out, err ? err : &scratch);
    if (t->missing)
        return loader_finish(&ld, error_at(&ld, t->name, 0, 0, -EINVAL, "%s", t->missing));
    if (scope_init(&scope, root, &root_copy) < 0)
        return loader_finish(&ld, oom(&ld));
    int rc = read_top(&ld, &scope, t);
    free(root_copy);
    return loader_finish(&ld, rc);
}

/* The map argument is a directory source: one reference, fetched later. */
static int load_ldap_top(const char *path, const char *root, struct sfs_map *out, struct sfs_parse_error *err)
{
    struct sfs_parse_error scratch;
    struct loader ld;
    char *uri, *base, *norm = NULL;
    const char *why;
    loader_init(&ld, out, err ? err : &scratch);
    if (sfs_map_ldap_source(path, &uri, &base, &why) < 0)
        return loader_finish(&ld, error_at(&ld, path, 0, 0, -EINVAL, "%s", why));
    int rc = 0;
    if (!base)
        rc = error_at(&ld, path, 0, 0, -EINVAL, "no DN after the LDAP server (ldap://HOST/DN)");
    if (rc == 0 && root && !(norm = sfs_path_normalize(root)))
        rc = oom(&ld);
    if (rc == 0) {
        struct token tok = {.text = (char *)path};
        struct source src = {.name = path};
        rc = add_dirref(&ld, &src, &tok, SFS_DIRREF_TOP, uri, base, base, norm, SFS_MAP_TYPE_INDIRECT, NULL);
    }
    free(norm);
    free(uri);
    free(base);
    return loader_finish(&ld, rc);
}

int sfs_map_load(const char *path, const char *root, struct sfs_map *out, struct sfs_parse_error *err)
{
    char *uri, *base;
    const char *why;
    if (path && sfs_map_ldap_source(path, &uri, &base, &why) <= 0) {
        free(uri);
        free(base);
        return load_ldap_top(path, root, out, err);
    }
    struct top t = {.path = path, .missing = !path || !*path ? "no map file given" : NULL};
    return load_top(&t, root, out, err);
}

int sfs_map_parse_text(const char *text, const char *name, const char *root, struct sfs_map *out,
                       struct sfs_parse_error *err)
{
    struct top t = {.text = text, .name = name && *name ? name : "<text>",
                    .missing = text ? NULL : "no map text given"};
    return load_top(&t, root, out, err);
}

/* A key typed by a user can become a path component and a URL part: refuse
 * anything that is not a plain name. */
static bool valid_lookup_key(const char *key)
{
    if (!*key || strchr(key, '/') || strcmp(key, ".") == 0 || strcmp(key, "..") == 0)
        return false;
    for (const unsigned char *c = (const unsigned char *)key; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return false;
    return true;
}

/* Makes *OUT the entry of KEY from wildcard entry W. */
static int expand_wildcard(const struct sfs_map_entry *w, const char *key,
                           struct sfs_map_entry *out, struct sfs_parse_error *err)
{
    struct sfs_parse_error uerr;
    int rc = sfs_map_entry_copy(out, w);
    if (rc < 0)
        return rc;
    char *location = substitute_key(w->location, key, NULL);
    char *display = substitute_key(w->location_display, key, NULL);
    bool ok = location && display && set_string(&out->key, key);
    free(out->mountpoint);
    out->mountpoint = ok ? join_mountpoint(w->root, key) : NULL;
    ok = ok && out->mountpoint;
    free(out->location);
    free(out->location_display);
    out->location = location;
    out->location_display = display;
    if (!ok) {
        sfs_map_entry_free(out);
        return -ENOMEM;
    }
    sfs_url_free(&out->url);
    rc = sfs_url_parse(location, &out->url, &uerr);
    if (rc < 0) {
        memset(err, 0, sizeof(*err));
        snprintf(err->file, sizeof(err->file), "%s", w->file);
        err->line = w->line;
        snprintf(err->message, sizeof(err->message), "key '%.*s': invalid URL: %.150s", MAP_ECHO, key,
                 uerr.message);
        sfs_map_entry_free(out);
        return rc;
    }
    out->url_ok = true;
    return 0;
}

int sfs_map_lookup(const struct sfs_map *map, const char *root, const char *key, struct sfs_map_entry *out,
                   struct sfs_parse_error *err)
{
    struct sfs_parse_error scratch;
    const struct sfs_map_entry *wild = NULL;

    if (!err)
        err = &scratch;
    memset(err, 0, sizeof(*err));
    if (!out)
        return -EINVAL;
    entry_init(out);
    if (!map || !key) {
        snprintf(err->message, sizeof(err->message), "no map or no key given");
        return -EINVAL;
    }
    for (size_t i = 0; i < map->n_entries; i++) {
        const struct sfs_map_entry *e = &map->entries[i];
        if (root && !roots_equal(e->root, root))
            continue;
        if (!e->wildcard && strcmp(e->key, key) == 0)
            return sfs_map_entry_copy(out, e);
        if (e->wildcard && !wild)
            wild = e;
    }
    if (!wild || !valid_lookup_key(key))
        return -ENOENT;
    return expand_wildcard(wild, key, out, err);
}

/* ======================================================================
 * Entries that do not come from a file (directory records)
 * ==================================================================== */

struct sfs_map_options {
    struct opt_list list;
};

/* A loader that appends to MAP as it stands; no duplicate table (the
 * caller checks keys). */
static void item_loader_init(struct loader *ld, struct sfs_map *map, struct sfs_parse_error *err)
{
    memset(ld, 0, sizeof(*ld));
    memset(err, 0, sizeof(*err));
    ld->map = map;
    ld->err = err;
    ld->cap_entries = map->n_entries;
    ld->cap_warnings = map->n_warnings;
}

static int item_line(struct lline *ll, const char *text)
{
    memset(ll, 0, sizeof(*ll));
    return lline_append(ll, text, strlen(text), 1);
}

int sfs_map_options_parse(struct sfs_map *map, const char *source, const char *field, const char *text,
                          struct sfs_map_options **out, struct sfs_parse_error *err)
{
    struct sfs_parse_error scratch;
    struct loader ld;
    struct lline ll = {0};
    struct tokens t = {0};
    struct scope sc = {.mode = MODE_MAP};
    struct source src = {.name = source ? source : "", .field = field ? field : "options", .scope = &sc};

    if (!err)
        err = &scratch;
    if (!map || !out || !text)
        return -EINVAL;
    *out = NULL;
    item_loader_init(&ld, map, err);
    struct sfs_map_options *o = calloc(1, sizeof(*o));
    if (!o || item_line(&ll, text) < 0) {
        free(o);
        lline_free(&ll);
        return oom(&ld);
    }
    src.ll = &ll;
    int rc = tokenize(&ld, &src, &t);
    for (size_t i = 0; rc == 0 && i < t.n; i++) {
        if (t.v[i].text[0] != '-')
            rc = line_error(&ld, &src, tok_start(&t.v[i]), -EINVAL, "unexpected text (options start with '-')");
        else
            rc = parse_option_token(&ld, &src, &t.v[i], &o->list);
    }
    tokens_free(&t);
    lline_free(&ll);
    if (rc < 0) {
        sfs_map_options_free(o);
        return rc;
    }
    *out = o;
    return 0;
}

void sfs_map_options_free(struct sfs_map_options *opts)
{
    if (!opts)
        return;
    opt_list_free(&opts->list);
    free(opts);
}

int sfs_map_add_item(struct sfs_map *map, const struct sfs_map_item *item, struct sfs_parse_error *err)
{
    struct sfs_parse_error scratch;
    struct loader ld;
    struct lline ll = {0}, kll = {0};
    struct tokens t = {0};
    struct token ktok = {0};
    char *root = NULL;

    if (!err)
        err = &scratch;
    if (!map || !item || !item->key || !item->text || !item->source)
        return -EINVAL;
    item_loader_init(&ld, map, err);
    if (item->root && !(root = sfs_path_normalize(item->root)))
        return oom(&ld);
    struct scope sc = {.mode = MODE_MAP, .type_known = true, .type = item->type, .root = root,
                       .inherited = item->inherited ? &item->inherited->list : NULL};
    struct source src = {.name = item->source, .field = item->field ? item->field : "value", .scope = &sc};
    struct source ksrc = {.name = item->source, .field = item->key_field ? item->key_field : "key", .scope = &sc};
    int rc = item_line(&ll, item->text) < 0 || item_line(&kll, item->key) < 0 ? oom(&ld) : 0;
    src.ll = &ll;
    ksrc.ll = &kll;
    /* The key is one value: blanks and quotes in it are part of it. */
    for (size_t i = 0; rc == 0 && !item->key_checked && item->key[i]; i++)
        rc = token_put(&ktok, item->key[i], i) < 0 ? oom(&ld) : 0;
    if (rc == 0 && !item->key_checked && !ktok.text && token_put(&ktok, '\0', 0) == 0)
        ktok.len = 0;
    if (rc == 0 && !item->key_checked && !ktok.text)
        rc = oom(&ld);
    if (rc == 0 && !item->key_checked) {
        ktok.text[ktok.len] = '\0';
        ktok.off[ktok.len] = ktok.len;
    }
    if (rc == 0)
        rc = tokenize(&ld, &src, &t);
    if (rc == 0) {
        struct key_in k = {.src = &ksrc, .tok = item->key_checked ? NULL : &ktok,
                           .checked = item->key_checked ? item->key : NULL};
        rc = handle_entry(&ld, &src, &k, &t, 0);
    }
    free(ktok.text);
    free(ktok.off);
    tokens_free(&t);
    lline_free(&ll);
    lline_free(&kll);
    free(root);
    return rc < 0 ? rc : 0;
}
