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

char *sfs_identity_expand(const struct sfs_identity *who, const char *text)
{
    GString *g = g_string_new(NULL);
    for (const char *p = text; *p; p++) {
        if (*p != '%' || !p[1]) {
            g_string_append_c(g, *p);
            continue;
        }
        p++;
        if (*p == 'u')
            g_string_append_printf(g, "%u", (unsigned)who->uid);
        else if (*p == 'U' && who->name)
            g_string_append(g, who->name);
        else if (*p == 'U')
            g_string_append_printf(g, "%u", (unsigned)who->uid);
        else if (*p == '%')
            g_string_append_c(g, '%');
        else
            g_string_append_printf(g, "%%%c", *p);
    }
    char *out = strdup(g->str);
    g_string_free(g, TRUE);
    return out;
}

/* A credentials file of WHO: %u/%U expanded, a regular file (not a
 * symbolic link) owned by WHO's uid, then read as usual (mode 0600). */
static int own_credentials(const struct sfs_identity *who, const char *label, const char *pattern,
                           struct sfs_credentials *c, struct sfs_status *st)
{
    char *path = sfs_identity_expand(who, pattern);
    if (!path)
        return sfs_status_set(st, SFS_STAGE_AUTHENTICATE, ENOMEM, SFS_DOMAIN_SYS, ENOMEM, "out of memory");
    /* The rule is checked on the file opened (a swap after a check by
     * name would slip through); the entry is named here. */
    int rc = sfs_credentials_from_own_file(path, who->uid, who->name, c, st);
    if (rc < 0)
        sfs_status_prefix(st, "%s: ", label);
    free(path);
    return rc;
}

/* Multiuser: the entry's or the config's credentials file of WHO, nothing
 * else (a password in the map, or in sharesfs's own environment, would be
 * everyone's). */
static int find_own_credentials(const struct sfs_map_entry *e, const struct sfs_config *cfg,
                                const struct sfs_identity *who, struct sfs_credentials *c, struct sfs_status *st)
{
    if (e->url.password || e->opts.password)
        return sfs_status_set(st, SFS_STAGE_AUTHENTICATE, EACCES, SFS_DOMAIN_CONFIG, 0,
                              "%s: a password in the map would give every user the same identity: refused "
                              "for a per-user session (use credentials=FILE with %%U, or Kerberos)",
                              entry_name(e));
    if (e->opts.credentials)
        return own_credentials(who, entry_name(e), e->opts.credentials, c, st);
    char *file = sfs_config_string(cfg, e->key, "credentials");
    if (file) {
        int rc = own_credentials(who, entry_name(e), file, c, st);
        free(file);
        return rc;
    }
    const char *user = e->url.user ? e->url.user : e->opts.username;
    c->domain = sfs_strdup_or_null(e->url.domain ? e->url.domain : e->opts.domain);
    c->user = sfs_strdup_or_null(user);
    c->source = "none";
    return 0;
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
    return sfs_target_for(entry, cfg, NULL, t, st);
}

int sfs_target_for(const struct sfs_map_entry *entry, const struct sfs_config *cfg, const struct sfs_identity *who,
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
    char *ccache = sfs_config_string(cfg, entry->key, "krb5_ccache");
    t->personal = who != NULL;
    if (who) {
        /* Every message and the worker's name say whose session it is. */
        t->label_owned = g_strdup_printf("%s (uid %u)", t->label, (unsigned)who->uid);
        t->label = t->label_owned;
    }
    if (who && ccache) {
        /* The config's ccache is a user's only through %u / %U. */
        char *mine = strstr(ccache, "%u") || strstr(ccache, "%U") ? sfs_identity_expand(who, ccache) : NULL;
        free(ccache);
        ccache = mine;
    }
    t->krb5_ccache = ccache;
    int rc = who ? find_own_credentials(entry, cfg, who, &t->creds, st) : find_credentials(entry, cfg, &t->creds, st);
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
    g_free(t->label_owned);
    t->label_owned = NULL;
}
