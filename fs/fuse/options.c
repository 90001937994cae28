/* sharesfs's command line from one option table (see options.h).
 *
 * Not getopt: it keeps global state and prints its own messages, and the
 * -o form needs the same table anyway.  The behaviour getopt_long gave the
 * existing command lines is kept: options and operands in any order,
 * clustered short options (-fs), values attached or separate (-t5, -t 5,
 * --timeout=5, --timeout 5), unique prefixes of long options, "--". */
#include "options.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum opt_type {
    T_FLAG,           /* bool, no value */
    T_STRING,         /* char *, owned */
    T_SECONDS,        /* double, a fraction allowed */
    T_WHOLE_SECONDS,  /* int */
    T_OPTION_LIST,    /* -o OPT[,OPT...] */
    T_ACTION,         /* sets action, no value */
    T_ACTION_ARG,     /* sets action, and a char * from its value */
};

struct option_spec {
    char short_name;          /* 0: none */
    const char *long_name;    /* NULL: none */
    const char *o_key;        /* NULL: no -o form */
    enum opt_type type;
    size_t offset;            /* of the field in struct sharesfs_options */
    double min, max;          /* T_SECONDS, T_WHOLE_SECONDS */
    enum sharesfs_action action;
    const char *metavar;
    const char *help;         /* '\n' starts a continuation line */
};

#define FIELD(f) offsetof(struct sharesfs_options, f)

/* The order is that of --help. */
static const struct option_spec option_table[] = {
    {.short_name = 'f', .type = T_FLAG, .offset = FIELD(foreground),
     .help = "stay in the foreground and log to stderr"},
    {.short_name = 'd', .type = T_FLAG, .offset = FIELD(debug),
     .help = "foreground with FUSE debug output"},
    {.short_name = 's', .type = T_FLAG, .offset = FIELD(single),
     .help = "single-threaded"},
    {.short_name = 'o', .type = T_OPTION_LIST, .metavar = "OPT[,OPT...]",
     .help = "sharesfs options by their -o names below, and\n"
             "FUSE mount options (allow_other, ro, ...), which\n"
             "go to libfuse; fstab-only ones (noauto, nofail,\n"
             "_netdev, user, x-systemd.*, ...) are ignored"},
    {.short_name = 'c', .long_name = "config", .o_key = "config", .type = T_STRING,
     .offset = FIELD(config_path), .metavar = "FILE",
     .help = "sharesfs.conf (default\n/etc/sharesfs/sharesfs.conf if present)"},
    {.short_name = 't', .long_name = "timeout", .o_key = "timeout", .type = T_SECONDS,
     .offset = FIELD(timeout_s), .min = 0, .max = 3600, .metavar = "SECS",
     .help = "timeout of each connection stage (default 10;\n0: the configuration's)"},
    {.long_name = "negative-timeout", .o_key = "negative_timeout", .type = T_WHOLE_SECONDS,
     .offset = FIELD(negative_s), .min = 0, .max = 86400, .metavar = "SECS",
     .help = "how long a failed mount is answered from cache\n(default 10)"},
    {.long_name = "attr-timeout", .o_key = "attr_timeout", .type = T_SECONDS,
     .offset = FIELD(attr_s), .min = 0, .max = 3600, .metavar = "SECS",
     .help = "kernel attribute cache (default 1)"},
    {.long_name = "idle-timeout", .o_key = "idle_timeout", .type = T_WHOLE_SECONDS,
     .offset = FIELD(idle_s), .min = 0, .max = 604800, .metavar = "SECS",
     .help = "disconnect a key unused this long (default 600,\n0 = never)"},
    {.long_name = "map-refresh", .o_key = "map_refresh", .type = T_WHOLE_SECONDS,
     .offset = FIELD(map_refresh_s), .min = 0, .max = 604800, .metavar = "SECS",
     .help = "read the map (and its directory sources) again\nevery SECS (default 0: only on SIGHUP)"},
    {.long_name = "direct-io", .o_key = "direct_io", .type = T_FLAG, .offset = FIELD(direct_io),
     .help = "no page cache for file data: reads and writes go\n"
             "to sharesfs in the caller's sizes (faster\n"
             "streaming reads; no shared mmap)"},
    {.long_name = "shared-session", .o_key = "shared_session", .type = T_FLAG, .offset = FIELD(shared_session),
     .help = "with allow_other: every user reaches a key through\n"
             "ONE session, with the identity of whoever\n"
             "connected it first (default: one session per user,\n"
             "each with that user's own credentials)"},
    {.long_name = "nobrowse", .o_key = "nobrowse", .type = T_FLAG, .offset = FIELD(nobrowse),
     .help = "list only keys already mounted (as -nobrowse on\nan auto_master line)"},
    {.long_name = "status", .type = T_ACTION_ARG, .offset = FIELD(status_path),
     .action = SHARESFS_ACTION_STATUS, .metavar = "MOUNTPOINT",
     .help = "print the status of a running sharesfs as a\n"
             "table (an AUTO_MASTER: of every mount point it\n"
             "lists)"},
    {.short_name = 'h', .long_name = "help", .type = T_ACTION, .action = SHARESFS_ACTION_HELP,
     .help = "this text"},
    {.short_name = 'V', .long_name = "version", .type = T_ACTION, .action = SHARESFS_ACTION_VERSION,
     .help = "print the version"},
};

#define N_OPTIONS (sizeof(option_table) / sizeof(option_table[0]))

size_t sharesfs_option_count(void) { return N_OPTIONS; }
const char *sharesfs_option_long_name(size_t i) { return i < N_OPTIONS ? option_table[i].long_name : NULL; }
const char *sharesfs_option_o_key(size_t i) { return i < N_OPTIONS ? option_table[i].o_key : NULL; }

/* ---- looking options up ---- */

static const struct option_spec *find_short(char c)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (option_table[i].short_name == c)
            return &option_table[i];
    return NULL;
}

/* NAME (LEN bytes) exactly, else the one long option it is a prefix of. */
static const struct option_spec *find_long(const char *name, size_t len, bool *ambiguous)
{
    const struct option_spec *prefix_of = NULL;
    *ambiguous = false;
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const char *l = option_table[i].long_name;
        if (!l || strncmp(l, name, len) != 0)
            continue;
        if (l[len] == '\0')
            return &option_table[i];
        if (prefix_of)
            *ambiguous = true;
        prefix_of = &option_table[i];
    }
    return *ambiguous ? NULL : prefix_of;
}

static const struct option_spec *find_o_key(const char *key, size_t len)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const char *k = option_table[i].o_key;
        if (k && strncmp(k, key, len) == 0 && k[len] == '\0')
            return &option_table[i];
    }
    return NULL;
}

static bool takes_value(const struct option_spec *s)
{
    return s->type != T_FLAG && s->type != T_ACTION;
}

bool sharesfs_option_is_fstab_only(const char *opt)
{
    /* mount(8) and mount.fuse3 drop most of these before sharesfs sees
     * them, but not when sharesfs is run directly with an fstab line's
     * options.  "user=NAME" is libfuse's own and stays. */
    static const char *const names[] = {
        "defaults", "auto", "noauto", "nofail", "_netdev",
        "user", "nouser", "users", "owner", "group",
    };
    static const char *const prefixes[] = {"x-", "X-", "comment="};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(opt, names[i]) == 0)
            return true;
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(opt, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

/* ---- the parser ---- */

struct parser {
    struct sharesfs_options *out;
    char *fuse_opts;          /* the -o list for libfuse (fuse_opt_add_opt) */
    bool operands_only;       /* after "--" */
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct parser *p, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, p->errlen, fmt, ap);
    va_end(ap);
    return code;
}

static int out_of_memory(struct parser *p)
{
    return fail(p, SHARESFS_OPT_BAD_VALUE, "out of memory");
}

/* Seconds as a person writes them: digits, an optional fraction, an
 * optional sign (a '-' is then out of range).  strtod alone would also
 * take "5x" (as 5), " 5", "0x10", "inf" and "1e3". */
static bool is_decimal(const char *t)
{
    if (*t == '+' || *t == '-')
        t++;
    size_t digits = strspn(t, "0123456789");
    t += digits;
    if (*t == '.') {
        size_t frac = strspn(t + 1, "0123456789");
        digits += frac;
        t += 1 + frac;
    }
    return *t == '\0' && digits > 0;
}

static int parse_seconds(struct parser *p, const struct option_spec *s, const char *value,
                         const char *shown, double *secs)
{
    if (!is_decimal(value))
        return fail(p, SHARESFS_OPT_BAD_VALUE, "%s: '%s' is not a number of seconds", shown, value);
    double v = strtod(value, NULL);
    if (v < s->min || v > s->max)
        return fail(p, SHARESFS_OPT_BAD_VALUE, "%s: '%s' is out of range (seconds from %g to %g)",
                    shown, value, s->min, s->max);
    if (s->type == T_WHOLE_SECONDS && v != (double)(long)v)
        return fail(p, SHARESFS_OPT_BAD_VALUE, "%s: '%s' is not a whole number of seconds", shown, value);
    *secs = v;
    return 0;
}

static int set_string(struct parser *p, char **field, const char *value, const char *shown)
{
    if (!*value)
        return fail(p, SHARESFS_OPT_BAD_VALUE, "%s: the value is empty", shown);
    char *copy = strdup(value);
    if (!copy)
        return out_of_memory(p);
    free(*field);
    *field = copy;
    return 0;
}

static int parse_o_list(struct parser *p, const char *list);

/* Applies option S with VALUE (NULL for a flag); SHOWN is how the user
 * wrote its name, for messages. */
static int apply(struct parser *p, const struct option_spec *s, const char *value, const char *shown)
{
    void *field = (char *)p->out + s->offset;
    double secs;
    int rc;
    switch (s->type) {
    case T_FLAG:
        *(bool *)field = true;
        return 0;
    case T_STRING:
        return set_string(p, field, value, shown);
    case T_SECONDS:
        return parse_seconds(p, s, value, shown, field);
    case T_WHOLE_SECONDS:
        rc = parse_seconds(p, s, value, shown, &secs);
        if (rc == 0)
            *(int *)field = (int)secs;
        return rc;
    case T_OPTION_LIST:
        return parse_o_list(p, value);
    case T_ACTION:
        p->out->action = s->action;
        return 0;
    case T_ACTION_ARG:
        p->out->action = s->action;
        return set_string(p, field, value, shown);
    }
    return 0;
}

/* One item of a -o list: RAW as written (escapes kept, for libfuse),
 * PLAIN with them resolved. */
static int parse_o_item(struct parser *p, const char *raw, const char *plain)
{
    if (!*plain)
        return 0;
    const char *eq = strchr(plain, '=');
    size_t key_len = eq ? (size_t)(eq - plain) : strlen(plain);
    const struct option_spec *s = find_o_key(plain, key_len);
    if (!s) {
        if (sharesfs_option_is_fstab_only(plain))
            return 0;
        if (!strcmp(plain, "allow_other") || !strcmp(plain, "allow_root"))
            p->out->allow_other = true;   /* other users reach the mount: per-user sessions */
        return fuse_opt_add_opt(&p->fuse_opts, raw) < 0 ? out_of_memory(p) : 0;
    }
    char shown[64];
    snprintf(shown, sizeof(shown), "-o %s", s->o_key);
    if (takes_value(s) && !eq)
        return fail(p, SHARESFS_OPT_BAD_VALUE, "%s needs a value (%s=%s)", shown, s->o_key, s->metavar);
    if (!takes_value(s) && eq)
        return fail(p, SHARESFS_OPT_BAD_VALUE, "%s takes no value", shown);
    return apply(p, s, eq ? eq + 1 : NULL, shown);
}

/* Splits LIST at the commas not escaped with '\', as fuse_opt does. */
static int parse_o_list(struct parser *p, const char *list)
{
    size_t len = strlen(list);
    char *raw = malloc(len + 1), *plain = malloc(len + 1);
    int rc = raw && plain ? 0 : out_of_memory(p);
    const char *c = list;
    while (rc == 0) {
        size_t r = 0, q = 0;
        for (; *c && *c != ','; c++) {
            if (*c == '\\' && c[1])
                raw[r++] = *c++;
            raw[r++] = *c;
            plain[q++] = *c;
        }
        raw[r] = plain[q] = '\0';
        rc = parse_o_item(p, raw, plain);
        if (!*c++)
            break;
    }
    free(raw);
    free(plain);
    return rc;
}

/* argv[*I] is "--NAME" or "--NAME=VALUE"; a separate value advances *I. */
static int parse_long(struct parser *p, int argc, char **argv, int *i)
{
    const char *name = argv[*i] + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    bool ambiguous;
    const struct option_spec *s = find_long(name, len, &ambiguous);
    if (!s)
        return fail(p, SHARESFS_OPT_USAGE, "%s option '--%.*s'", ambiguous ? "ambiguous" : "unknown",
                    (int)len, name);
    char shown[64];
    snprintf(shown, sizeof(shown), "--%s", s->long_name);
    if (!takes_value(s)) {
        if (eq)
            return fail(p, SHARESFS_OPT_USAGE, "option '%s' takes no value", shown);
        return apply(p, s, NULL, shown);
    }
    const char *value = eq ? eq + 1 : *i + 1 < argc ? argv[++*i] : NULL;
    if (!value)
        return fail(p, SHARESFS_OPT_USAGE, "option '%s' needs a value", shown);
    return apply(p, s, value, shown);
}

/* argv[*I] is "-X", a cluster "-fs", or "-tVALUE"; a separate value
 * advances *I. */
static int parse_short(struct parser *p, int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    for (size_t j = 1; arg[j]; j++) {
        const struct option_spec *s = find_short(arg[j]);
        char shown[3] = {'-', arg[j], '\0'};
        if (!s)
            return fail(p, SHARESFS_OPT_USAGE, "unknown option '%s'", shown);
        if (!takes_value(s)) {
            int rc = apply(p, s, NULL, shown);
            if (rc < 0 || p->out->action != SHARESFS_ACTION_RUN)
                return rc;
            continue;
        }
        const char *value = arg[j + 1] ? arg + j + 1 : *i + 1 < argc ? argv[++*i] : NULL;
        if (!value)
            return fail(p, SHARESFS_OPT_USAGE, "option '%s' needs a value", shown);
        return apply(p, s, value, shown);
    }
    return 0;
}

static int parse_arg(struct parser *p, int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    if (p->operands_only || arg[0] != '-' || arg[1] == '\0') {
        if (p->out->n_args < 2)
            p->out->args[p->out->n_args] = arg;
        p->out->n_args++;
        return 0;
    }
    if (strcmp(arg, "--") == 0) {
        p->operands_only = true;
        return 0;
    }
    if (arg[1] == '-')
        return parse_long(p, argc, argv, i);
    return parse_short(p, argc, argv, i);
}

/* libfuse's arguments: all but the mount point and -f, which depend on
 * the mount (see options.h). */
static int build_fuse_args(struct parser *p, const char *argv0, struct fuse_args *fuse_out)
{
    bool ok = fuse_opt_add_arg(fuse_out, argv0) == 0 &&
              fuse_opt_add_arg(fuse_out, "-o") == 0 &&
              fuse_opt_add_arg(fuse_out, p->fuse_opts) == 0 &&
              (!p->out->debug || fuse_opt_add_arg(fuse_out, "-d") == 0) &&
              (!p->out->single || fuse_opt_add_arg(fuse_out, "-s") == 0);
    return ok ? 0 : out_of_memory(p);
}

int sharesfs_options_parse(int argc, char **argv, struct sharesfs_options *out,
                           struct fuse_args *fuse_out, char *err, size_t errlen)
{
    *out = (struct sharesfs_options){.negative_s = 10, .attr_s = 1, .idle_s = 600};
    *fuse_out = (struct fuse_args)FUSE_ARGS_INIT(0, NULL);
    struct parser p = {.out = out, .fuse_opts = strdup(SHARESFS_FUSE_DEFAULTS), .err = err, .errlen = errlen};
    if (errlen)
        err[0] = '\0';
    int rc = p.fuse_opts ? 0 : out_of_memory(&p);
    /* --status, --help, --version end the parsing where they stand. */
    for (int i = 1; rc == 0 && i < argc && out->action == SHARESFS_ACTION_RUN; i++)
        rc = parse_arg(&p, argc, argv, &i);
    if (out->debug)
        out->foreground = true;
    if (rc == 0)
        rc = build_fuse_args(&p, argc > 0 ? argv[0] : "sharesfs", fuse_out);
    free(p.fuse_opts);
    if (rc < 0) {
        sharesfs_options_free(out);
        fuse_opt_free_args(fuse_out);
    }
    return rc;
}

void sharesfs_options_free(struct sharesfs_options *o)
{
    free(o->config_path);
    free(o->status_path);
    o->config_path = o->status_path = NULL;
}

/* ---- --help ---- */

#define HELP_COLUMN 30   /* help lines are at most 50 wide: 80 columns */

/* "-c, --config FILE, -o config=FILE" */
static void format_forms(const struct option_spec *s, char *buf, size_t len)
{
    const char *meta = s->metavar ? s->metavar : "";
    const char *sep = s->metavar ? " " : "";
    int n = 0;
    if (s->short_name)
        n += snprintf(buf + n, len - n, "-%c%s", s->short_name, s->long_name ? ", " : "");
    else
        n += snprintf(buf + n, len - n, "    ");
    if (s->long_name)
        n += snprintf(buf + n, len - n, "--%s", s->long_name);
    snprintf(buf + n, len - n, "%s%s", sep, meta);
    if (s->o_key) {
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, ", -o %s%s%s", s->o_key, s->metavar ? "=" : "", meta);
    }
}

void sharesfs_options_print_help(FILE *out)
{
    fprintf(out, "options (each sharesfs option also as -o KEY[=VALUE], e.g. in /etc/fstab):\n");
    for (size_t i = 0; i < N_OPTIONS; i++) {
        char forms[128];
        format_forms(&option_table[i], forms, sizeof(forms));
        int width = fprintf(out, "  %s", forms);
        if (width > HELP_COLUMN - 2) {
            fputc('\n', out);
            width = 0;
        }
        fprintf(out, "%*s", HELP_COLUMN - width, "");
        for (const char *h = option_table[i].help; *h; h++) {
            fputc(*h, out);
            if (*h == '\n')
                fprintf(out, "%*s", HELP_COLUMN, "");
        }
        fputc('\n', out);
    }
}
