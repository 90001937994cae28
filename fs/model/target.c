/* From a map entry and the config to what every backend needs: the label,
 * where the password comes from and the timeouts.  The protocol's part
 * (auth module, dialect range) is the backend's prepare_target. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_private.h"
#include "sharesfs/text.h"

static const char *entry_name(const struct sfs_map_entry *e)
{
    return e->mountpoint ? e->mountpoint : e->key;
}

/* Password sources, most explicit first: credentials= file, the URL, a
 * password= option, SHARESFS_PASSWORD, the config's credentials file. */
static int find_credentials(const struct sfs_map_entry *e, const struct sfs_config *cfg,
                            struct sfs_credentials *c, struct sfs_status *st)
{
    if (e->opts.credentials)
        return sfs_credentials_from_file(e->opts.credentials, c, st);
    const char *user = e->url.user ? e->url.user : e->opts.username;
    c->domain = sfs_strdup_or_null(e->url.domain ? e->url.domain : e->opts.domain);
    c->user = sfs_strdup_or_null(user);
    if (e->url.password) {
        c->password = strdup(e->url.password);
        c->source = "URL";
        return 0;
    }
    if (e->opts.password) {
        c->password = strdup(e->opts.password);
        c->source = "map option";
        return 0;
    }
    const char *env = getenv("SHARESFS_PASSWORD");
    if (env && user) {
        c->password = strdup(env);
        c->source = "SHARESFS_PASSWORD";
        return 0;
    }
    char *file = sfs_config_string(cfg, e->key, "credentials");
    if (file) {
        sfs_credentials_free(c);
        int rc = sfs_credentials_from_file(file, c, st);
        free(file);
        return rc;
    }
    c->source = "none";
    return 0;
}

int sfs_target_from_entry(const struct sfs_map_entry *entry, const struct sfs_config *cfg,
                          struct sfs_target *t, struct sfs_status *st)
{
    memset(t, 0, sizeof(*t));
    t->label = entry_name(entry);
    t->url = &entry->url;
    t->opts = &entry->opts;
    t->timeout_ms = cfg ? cfg->timeout_ms : 10000;
    if (!entry->url_ok)
        return sfs_status_set(st, SFS_STAGE_PARSE, EINVAL, SFS_DOMAIN_MAP, 0,
                              "%s:%d: %s: location is not a usable URL", entry->file, entry->line, t->label);
    if (!entry->url.share)
        return sfs_status_set(st, SFS_STAGE_PARSE, EINVAL, SFS_DOMAIN_URL, 0,
                              "%s: URL names no share or volume", t->label);
    t->krb5_ccache = sfs_config_string(cfg, entry->key, "krb5_ccache");
    int rc = find_credentials(entry, cfg, &t->creds, st);
    if (rc < 0)
        sfs_target_free(t);
    return rc;
}

void sfs_target_free(struct sfs_target *t)
{
    sfs_credentials_free(&t->creds);
    free((char *)t->krb5_ccache);
    t->krb5_ccache = NULL;
    free((char *)t->client_conf);
    t->client_conf = NULL;
}
