#include "config_private.h"

#include "sharesfs/file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT_MS 10000

static const char *const known_keys[] = {
    "timeout", "smb_min_protocol", "smb_max_protocol", "smb_conf", "krb5_ccache",
    "credentials", "allow_cleartext", NULL,
};

/* GKeyFile errors carry no line numbers: find where NEEDLE stands in the
 * file so every config error names file, line and column. */
static void locate(const char *path, const char *needle, int *line, int *col)
{
    *line = 0;
    *col = 0;
    gchar *text = NULL;
    if (!needle || !*needle || !g_file_get_contents(path, &text, NULL, NULL))
        return;
    int n = 1;
    for (char *p = text; *p; n++) {
        char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char *hit = g_strstr_len(p, (gssize)len, needle);
        if (hit) {
            *line = n;
            *col = (int)(hit - p) + 1;
            break;
        }
        if (!end)
            break;
        p = end + 1;
    }
    g_free(text);
}

/* GLib quotes the offending text as “…”; that is what we look for. */
static void locate_glib_error(const char *path, const char *message, int *line, int *col)
{
    const char *open = strstr(message, "\xe2\x80\x9c"), *close = NULL;
    if (open)
        close = strstr(open + 3, "\xe2\x80\x9d");
    if (!open || !close) {
        *line = *col = 0;
        return;
    }
    gchar *needle = g_strndup(open + 3, (gsize)(close - open - 3));
    locate(path, needle, line, col);
    g_free(needle);
}

/* [directory]: where "+auto_master", "-fstab", "-static" and "ldap:DN" are read
 * (docs/config.md). */
static const char *const directory_keys[] = {
    "uri", "base", "bind", "bind_dn", "password_file", "starttls", "ca_file", "krb5_ccache", "schema", "timeout",
    NULL,
};
static const char *const directory_binds[] = {"anonymous", "simple", "gssapi", NULL};
static const char *const directory_schemas[] = {"auto", "rfc2307bis", "autofs", "nis", NULL};
static const char *const booleans[] = {"true", "false", "yes", "no", "1", "0", NULL};

static bool in_list(const char *v, const char *const *list)
{
    for (; *list; list++)
        if (g_ascii_strcasecmp(v, *list) == 0)
            return true;
    return false;
}

/* Values of [directory] that can be checked without a server. */
static int check_directory(GKeyFile *kf, const char *path, struct sfs_status *st)
{
    static const struct {
        const char *key;
        const char *const *allowed;
        const char *what;
    } enums[] = {
        {"bind", directory_binds, "anonymous, simple or gssapi"},
        {"schema", directory_schemas, "auto, rfc2307bis, autofs or nis"},
        {"starttls", booleans, "true or false"},
    };
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof(enums) / sizeof(enums[0]); i++) {
        gchar *v = g_key_file_get_string(kf, "directory", enums[i].key, NULL);
        if (v && !in_list(v, enums[i].allowed)) {
            int line, col;
            locate(path, enums[i].key, &line, &col);
            rc = sfs_status_set(st, SFS_STAGE_PARSE, EINVAL, SFS_DOMAIN_CONFIG, 0,
                                "%s:%d:%d: [directory] %s must be %s", path, line, col, enums[i].key, enums[i].what);
        }
        g_free(v);
    }
    gchar *uri = rc == 0 ? g_key_file_get_string(kf, "directory", "uri", NULL) : NULL;
    if (uri && g_ascii_strncasecmp(uri, "ldap://", 7) != 0 && g_ascii_strncasecmp(uri, "ldaps://", 8) != 0) {
        int line, col;
        locate(path, "uri", &line, &col);
        rc = sfs_status_set(st, SFS_STAGE_PARSE, EINVAL, SFS_DOMAIN_CONFIG, 0,
                            "%s:%d:%d: [directory] uri must be ldap://HOST[:PORT] or ldaps://HOST[:PORT]", path,
                            line, col);
    }
    g_free(uri);
    return rc;
}

static int check_keys(GKeyFile *kf, const char *path, struct sfs_status *st)
{
    gsize n_groups = 0;
    gchar **groups = g_key_file_get_groups(kf, &n_groups);
    int rc = 0;
    for (gsize g = 0; rc == 0 && g < n_groups; g++) {
        bool directory = strcmp(groups[g], "directory") == 0;
        if (strcmp(groups[g], "global") != 0 && strncmp(groups[g], "entry ", 6) != 0 && !directory) {
            int line, col;
            locate(path, groups[g], &line, &col);
            rc = sfs_status_set(st, SFS_STAGE_PARSE, EINVAL, SFS_DOMAIN_CONFIG, 0,
                                "%s:%d:%d: unknown section [%s] (expected [global], [directory] or [entry KEY])",
                                path, line, col > 1 ? col - 1 : col, groups[g]);
            break;
        }
        gchar **keys = g_key_file_get_keys(kf, groups[g], NULL, NULL);
        for (gchar **k = keys; rc == 0 && k && *k; k++) {
            bool ok = false;
            for (const char *const *known = directory ? directory_keys : known_keys; *known; known++)
                ok = ok || strcmp(*k, *known) == 0;
            if (!ok) {
                int line, col;
                locate(path, *k, &line, &col);
                rc = sfs_status_set(st, SFS_STAGE_PARSE, EINVAL, SFS_DOMAIN_CONFIG, 0,
                                    "%s:%d:%d: [%s]: unknown key '%s'", path, line, col, groups[g], *k);
            }
        }
        g_strfreev(keys);
    }
    g_strfreev(groups);
    return rc;
}

/* GLib opens the file blocking before it refuses anything but a regular
 * file, so a FIFO with no writer would hang sharesfs and afptest at start;
 * this look does not block.  Also keeps the open's own errno (GLib's file
 * errors all became ENOENT). */
static int check_config_file(const char *file, struct sfs_status *st)
{
    struct stat sb;
    int err = sfs_file_peek(file, &sb);
    if (err)
        return sfs_status_set(st, SFS_STAGE_PARSE, err, SFS_DOMAIN_CONFIG, 0, "%s: %s", file, strerror(err));
    if (!S_ISREG(sb.st_mode))
        return sfs_status_set(st, SFS_STAGE_PARSE, S_ISDIR(sb.st_mode) ? EISDIR : EINVAL, SFS_DOMAIN_CONFIG, 0,
                              "%s is %s, not a regular file", file, sfs_file_kind_name(sb.st_mode));
    return 0;
}

int sfs_config_load(const char *path, struct sfs_config **out, struct sfs_status *st)
{
    struct sfs_config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg)
        return sfs_status_set(st, SFS_STAGE_PARSE, ENOMEM, SFS_DOMAIN_SYS, ENOMEM, "out of memory");
    cfg->timeout_ms = DEFAULT_TIMEOUT_MS;
    const char *file = path ? path : SFS_DEFAULT_CONFIG;
    if (!path && !g_file_test(file, G_FILE_TEST_EXISTS)) {
        *out = cfg;
        return 0;
    }
    int checked = check_config_file(file, st);
    if (checked < 0) {
        free(cfg);
        return checked;
    }
    GError *gerr = NULL;
    GKeyFile *kf = g_key_file_new();
    if (!g_key_file_load_from_file(kf, file, G_KEY_FILE_NONE, &gerr)) {
        int line = 0, col = 0;
        if (gerr->domain != G_FILE_ERROR)
            locate_glib_error(file, gerr->message, &line, &col);
        int rc = sfs_status_set(st, SFS_STAGE_PARSE, gerr->domain == G_FILE_ERROR ? ENOENT : EINVAL,
                                SFS_DOMAIN_CONFIG, 0, "%s:%d:%d: %s", file, line, col, gerr->message);
        g_error_free(gerr);
        g_key_file_free(kf);
        free(cfg);
        return rc;
    }
    cfg->kf = kf;
    cfg->path = strdup(file);
    int rc = check_keys(kf, file, st);
    if (rc == 0)
        rc = check_directory(kf, file, st);
    if (rc == 0 && g_key_file_has_key(kf, "global", "timeout", NULL)) {
        double secs = g_key_file_get_double(kf, "global", "timeout", &gerr);
        if (gerr || secs <= 0 || secs > 3600) {
            int line, col;
            locate(file, "timeout", &line, &col);
            rc = sfs_status_set(st, SFS_STAGE_PARSE, EINVAL, SFS_DOMAIN_CONFIG, 0,
                                "%s:%d:%d: [global] timeout must be seconds between 0 and 3600", file, line, col);
            g_clear_error(&gerr);
        } else {
            cfg->timeout_ms = (int)(secs * 1000);
        }
    }
    if (rc < 0) {
        sfs_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return 0;
}

void sfs_config_free(struct sfs_config *cfg)
{
    if (!cfg)
        return;
    if (cfg->kf)
        g_key_file_free(cfg->kf);
    free(cfg->path);
    free(cfg);
}

void sfs_config_set_timeout_ms(struct sfs_config *cfg, int ms) { cfg->timeout_ms = ms; }
int sfs_config_timeout_ms(const struct sfs_config *cfg) { return cfg->timeout_ms; }

char *sfs_config_string(const struct sfs_config *cfg, const char *entry_key, const char *name)
{
    if (!cfg || !cfg->kf)
        return NULL;
    if (entry_key) {
        char *group = g_strdup_printf("entry %s", entry_key);
        gchar *v = g_key_file_get_string(cfg->kf, group, name, NULL);
        g_free(group);
        if (v) {
            char *copy = strdup(v);
            g_free(v);
            return copy;
        }
    }
    gchar *v = g_key_file_get_string(cfg->kf, "global", name, NULL);
    if (!v)
        return NULL;
    char *copy = strdup(v);
    g_free(v);
    return copy;
}

bool sfs_config_bool(const struct sfs_config *cfg, const char *entry_key, const char *name, bool def)
{
    char *v = sfs_config_string(cfg, entry_key, name);
    if (!v)
        return def;
    bool b = !g_ascii_strcasecmp(v, "true") || !g_ascii_strcasecmp(v, "yes") || !strcmp(v, "1");
    free(v);
    return b;
}

char *sfs_config_directory_string(const struct sfs_config *cfg, const char *name)
{
    if (!cfg || !cfg->kf)
        return NULL;
    gchar *v = g_key_file_get_string(cfg->kf, "directory", name, NULL);
    char *copy = v ? strdup(v) : NULL;
    g_free(v);
    return copy;
}

void sfs_config_set_directory_string(struct sfs_config *cfg, const char *name, const char *value)
{
    if (!cfg)
        return;
    if (!cfg->kf)
        cfg->kf = g_key_file_new();
    g_key_file_set_string(cfg->kf, "directory", name, value);
}
