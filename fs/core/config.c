#include "core/config_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT_MS 10000

static const char *const known_keys[] = {
    "timeout", "smb_min_protocol", "smb_max_protocol", "smb_conf",
    "credentials", "allow_cleartext", NULL,
};

static int check_keys(GKeyFile *kf, const char *path, struct sfs_status *st)
{
    gsize n_groups = 0;
    gchar **groups = g_key_file_get_groups(kf, &n_groups);
    int rc = 0;
    for (gsize g = 0; rc == 0 && g < n_groups; g++) {
        if (strcmp(groups[g], "global") != 0 && strncmp(groups[g], "entry ", 6) != 0) {
            rc = sfs_status_set(st, SFS_STAGE_PARSE, EINVAL, SFS_DOMAIN_CONFIG, 0,
                                "%s: unknown section [%s] (expected [global] or [entry KEY])", path, groups[g]);
            break;
        }
        gchar **keys = g_key_file_get_keys(kf, groups[g], NULL, NULL);
        for (gchar **k = keys; rc == 0 && k && *k; k++) {
            bool ok = false;
            for (const char *const *known = known_keys; *known; known++)
                ok = ok || strcmp(*k, *known) == 0;
            if (!ok)
                rc = sfs_status_set(st, SFS_STAGE_PARSE, EINVAL, SFS_DOMAIN_CONFIG, 0,
                                    "%s: [%s]: unknown key '%s'", path, groups[g], *k);
        }
        g_strfreev(keys);
    }
    g_strfreev(groups);
    return rc;
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
    GError *gerr = NULL;
    GKeyFile *kf = g_key_file_new();
    if (!g_key_file_load_from_file(kf, file, G_KEY_FILE_NONE, &gerr)) {
        /* GLib's message carries the line number for syntax errors. */
        int rc = sfs_status_set(st, SFS_STAGE_PARSE, gerr->domain == G_FILE_ERROR ? ENOENT : EINVAL,
                                SFS_DOMAIN_CONFIG, 0, "config %s: %s", file, gerr->message);
        g_error_free(gerr);
        g_key_file_free(kf);
        free(cfg);
        return rc;
    }
    cfg->kf = kf;
    cfg->path = strdup(file);
    int rc = check_keys(kf, file, st);
    if (rc == 0 && g_key_file_has_key(kf, "global", "timeout", NULL)) {
        double secs = g_key_file_get_double(kf, "global", "timeout", &gerr);
        if (gerr || secs <= 0 || secs > 3600) {
            rc = sfs_status_set(st, SFS_STAGE_PARSE, EINVAL, SFS_DOMAIN_CONFIG, 0,
                                "%s: [global] timeout must be seconds between 0 and 3600", file);
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
