/* From a map entry and the config to what a backend needs: the auth module,
 * where the password comes from, the dialect range and the timeouts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config_private.h"
#include "smb/smb_dialect.h"

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static const char *entry_name(const struct sfs_map_entry *e)
{
    return e->mountpoint ? e->mountpoint : e->key;
}

static int smb_dialect_range(const struct sfs_map_entry *e, const struct sfs_config *cfg,
                             struct sfs_target *t, struct sfs_status *st)
{
    enum smb_dialect min = SMB_DIALECT_SMB2_02, max = SMB_DIALECT_SMB3_11;
    char *cmin = sfs_config_string(cfg, e->key, "smb_min_protocol");
    char *cmax = sfs_config_string(cfg, e->key, "smb_max_protocol");
    int rc = 0;
    if (cmin && (min = smb_dialect_from_name(cmin)) == SMB_DIALECT_NONE)
        rc = sfs_status_set(st, SFS_STAGE_PARSE, EINVAL, SFS_DOMAIN_CONFIG, 0,
                            "%s: unknown smb_min_protocol '%s' (NT1, SMB2_02, SMB2_10, SMB3_00, SMB3_02, SMB3_11)",
                            entry_name(e), cmin);
    if (rc == 0 && cmax && (max = smb_dialect_from_name(cmax)) == SMB_DIALECT_NONE)
        rc = sfs_status_set(st, SFS_STAGE_PARSE, EINVAL, SFS_DOMAIN_CONFIG, 0,
                            "%s: unknown smb_max_protocol '%s'", entry_name(e), cmax);
    free(cmin);
    free(cmax);
    if (rc == 0 && e->opts.vers && !smb_dialect_range_from_vers(e->opts.vers, &min, &max))
        rc = sfs_status_set(st, SFS_STAGE_PARSE, EINVAL, SFS_DOMAIN_MAP, 0,
                            "%s:%d: %s: unknown vers=%s (1.0, 2.0, 2.1, 3.0, 3.02, 3.1.1, 3, default)",
                            e->file, e->line, entry_name(e), e->opts.vers);
    if (rc == 0 && min > max)
        rc = sfs_status_set(st, SFS_STAGE_PARSE, EINVAL, SFS_DOMAIN_CONFIG, 0,
                            "%s: SMB dialect range %s..%s is empty", entry_name(e),
                            smb_dialect_name(min), smb_dialect_name(max));
    if (rc == 0) {
        strcpy(t->smb_min_proto, smb_dialect_name(min));
        strcpy(t->smb_max_proto, smb_dialect_name(max));
    }
    return rc;
}

/* Password sources, most explicit first: credentials= file, the URL, a
 * password= option, SHARESFS_PASSWORD, the config's credentials file. */
static int find_credentials(const struct sfs_map_entry *e, const struct sfs_config *cfg,
                            struct sfs_credentials *c, struct sfs_status *st)
{
    if (e->opts.credentials)
        return sfs_credentials_from_file(e->opts.credentials, c, st);
    const char *user = e->url.user ? e->url.user : e->opts.username;
    c->domain = dup_or_null(e->url.domain ? e->url.domain : e->opts.domain);
    c->user = dup_or_null(user);
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

static int choose_smb_auth(const struct sfs_map_entry *e, struct sfs_target *t, struct sfs_status *st)
{
    struct sfs_auth_choice *a = &t->auth;
    if (e->opts.sec && !strncasecmp(e->opts.sec, "krb5", 4)) {
        a->kind = SFS_AUTH_KRB5;
        a->module = "krb5";
        return 0;
    }
    if (e->opts.sec && strcasecmp(e->opts.sec, "none") == 0)
        a->kind = SFS_AUTH_NONE;
    else if (e->opts.guest || (t->creds.user && strcasecmp(t->creds.user, "guest") == 0 && !t->creds.password))
        a->kind = SFS_AUTH_NONE;
    else if (t->creds.user && t->creds.password)
        a->kind = SFS_AUTH_PASSWORD;
    else if (t->creds.user)
        return sfs_status_set(st, SFS_STAGE_AUTHENTICATE, ENOKEY, SFS_DOMAIN_CONFIG, 0,
                              "%s: user '%s' has no password: give credentials=FILE (mode 0600), "
                              "set SHARESFS_PASSWORD, or use guest", entry_name(e), t->creds.user);
    else
        a->kind = SFS_AUTH_NONE;
    a->module = a->kind == SFS_AUTH_NONE ? "guest" : "ntlmssp";
    return 0;
}

static int choose_afp_auth(const struct sfs_map_entry *e, const struct sfs_config *cfg,
                           struct sfs_target *t, struct sfs_status *st)
{
    struct sfs_auth_choice *a = &t->auth;
    const char *canonical = NULL;
    if (e->url.auth) {
        if (!sfs_auth_kind_from_uam(e->url.auth, &a->kind, &canonical)) {
            /* Unknown to us; the server may still offer it: the negotiate
             * stage reports what it does offer. */
            snprintf(a->uam, sizeof(a->uam), "%s", e->url.auth);
            a->kind = SFS_AUTH_PASSWORD;
            a->module = "unknown";
            return 0;
        }
        snprintf(a->uam, sizeof(a->uam), "%s", canonical);
    } else if (t->creds.user && t->creds.password) {
        a->kind = SFS_AUTH_DHX2;
        snprintf(a->uam, sizeof(a->uam), "DHX2");
    } else {
        a->kind = SFS_AUTH_NONE;
        a->auto_krb5 = true;
        snprintf(a->uam, sizeof(a->uam), "No User Authent");
    }
    a->module = sfs_auth_kind_name(a->kind);
    t->allow_cleartext = sfs_config_bool(cfg, e->key, "allow_cleartext", false);
    if (a->kind == SFS_AUTH_CLEARTEXT && !t->allow_cleartext)
        return sfs_status_set(st, SFS_STAGE_AUTHENTICATE, EPERM, SFS_DOMAIN_CONFIG, 0,
                              "%s: \"Cleartxt Passwrd\" sends the password unencrypted; refused unless "
                              "allow_cleartext = true is set for this entry in the config", entry_name(e));
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
        return rc;
    t->smb_conf = NULL;
    if (entry->url.proto == SFS_PROTO_SMB) {
        rc = smb_dialect_range(entry, cfg, t, st);
        if (rc == 0)
            rc = choose_smb_auth(entry, t, st);
        if (rc == 0) {
            /* The config wins; SHARESFS_SMB_CONF serves the lab and tests. */
            char *conf = sfs_config_string(cfg, entry->key, "smb_conf");
            if (!conf && getenv("SHARESFS_SMB_CONF"))
                conf = strdup(getenv("SHARESFS_SMB_CONF"));
            t->smb_conf = conf;
        }
    } else if (entry->url.proto == SFS_PROTO_AFP) {
        rc = choose_afp_auth(entry, cfg, t, st);
    } else {
        rc = sfs_status_set(st, SFS_STAGE_PARSE, EPROTONOSUPPORT, SFS_DOMAIN_URL, 0,
                            "%s: unsupported protocol", t->label);
    }
    if (rc < 0)
        sfs_target_free(t);
    return rc;
}

void sfs_target_free(struct sfs_target *t)
{
    sfs_credentials_free(&t->creds);
    free((char *)t->krb5_ccache);
    t->krb5_ccache = NULL;
    free((char *)t->smb_conf);
    t->smb_conf = NULL;
}
