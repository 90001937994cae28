/* The SMB part of map entry -> target: the dialect range (config and
 * vers=), the auth module (guest, NTLMSSP, Kerberos) and the client
 * smb.conf. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "sharesfs/config.h"
#include "sharesfs/file.h"
#include "smb_backend.h"
#include "smb_dialect.h"

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
                            t->label, cmin);
    if (rc == 0 && cmax && (max = smb_dialect_from_name(cmax)) == SMB_DIALECT_NONE)
        rc = sfs_status_set(st, SFS_STAGE_PARSE, EINVAL, SFS_DOMAIN_CONFIG, 0,
                            "%s: unknown smb_max_protocol '%s'", t->label, cmax);
    free(cmin);
    free(cmax);
    if (rc == 0 && e->opts.vers && !smb_dialect_range_from_vers(e->opts.vers, &min, &max))
        rc = sfs_status_set(st, SFS_STAGE_PARSE, EINVAL, SFS_DOMAIN_MAP, 0,
                            "%s:%d: %s: unknown vers=%s (1.0, 2.0, 2.1, 3.0, 3.02, 3.1.1, 3, default)",
                            e->file, e->line, t->label, e->opts.vers);
    if (rc == 0 && min > max)
        rc = sfs_status_set(st, SFS_STAGE_PARSE, EINVAL, SFS_DOMAIN_CONFIG, 0,
                            "%s: SMB dialect range %s..%s is empty", t->label,
                            smb_dialect_name(min), smb_dialect_name(max));
    if (rc == 0) {
        strcpy(t->dialect_min, smb_dialect_name(min));
        strcpy(t->dialect_max, smb_dialect_name(max));
    }
    return rc;
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
    else if (t->personal) {
        /* One user's own session without a password: that user's ticket,
         * never a shared guest session. */
        a->kind = SFS_AUTH_KRB5;
        a->module = "krb5";
        return 0;
    } else if (t->creds.user)
        return sfs_status_set(st, SFS_STAGE_AUTHENTICATE, ENOKEY, SFS_DOMAIN_CONFIG, 0,
                              "%s: user '%s' has no password: give credentials=FILE (mode 0600), "
                              "set SHARESFS_PASSWORD, or use guest", t->label, t->creds.user);
    else
        a->kind = SFS_AUTH_NONE;
    a->module = a->kind == SFS_AUTH_NONE ? "guest" : "ntlmssp";
    return 0;
}

/* libsmbclient would otherwise go on silently with Samba's defaults,
 * hiding whatever the file was meant to set (dialects, signing, NTLM), or
 * block reading a FIFO.  sfs_file_peek: a FIFO must not hang this check. */
int smb_client_conf_check(const char *path, const char **why)
{
    struct stat sb;
    int err = sfs_file_peek(path, &sb);
    if (!err && S_ISDIR(sb.st_mode))
        err = EISDIR;
    else if (!err && !S_ISREG(sb.st_mode) && !S_ISCHR(sb.st_mode)) {
        *why = "not a file";
        return EINVAL;
    }
    *why = err ? strerror(err) : NULL;
    return err;
}

static int check_client_conf(const struct sfs_target *t, const char *source, struct sfs_status *st)
{
    const char *why;
    int err = smb_client_conf_check(t->client_conf, &why);
    if (!err)
        return 0;
    return sfs_status_set(st, SFS_STAGE_PARSE, err, SFS_DOMAIN_CONFIG, 0, "%s: cannot read the client smb.conf '%s' (%s): %s",
                          t->label, t->client_conf, source, why);
}

int smb_prepare_target(const struct sfs_map_entry *e, const struct sfs_config *cfg, struct sfs_target *t,
                       struct sfs_status *st)
{
    int rc = smb_dialect_range(e, cfg, t, st);
    if (rc == 0)
        rc = choose_smb_auth(e, t, st);
    if (rc == 0) {
        /* The config wins; SHARESFS_SMB_CONF serves the lab and tests. */
        const char *source = "smb_conf in the config";
        t->client_conf = sfs_config_string(cfg, e->key, "smb_conf");
        if (!t->client_conf && getenv("SHARESFS_SMB_CONF")) {
            t->client_conf = strdup(getenv("SHARESFS_SMB_CONF"));
            source = "SHARESFS_SMB_CONF";
        }
        if (t->client_conf)
            rc = check_client_conf(t, source, st);
    }
    return rc;
}
