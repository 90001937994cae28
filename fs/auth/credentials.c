#include "sharesfs/auth.h"

#include "sharesfs/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void wipe_free(char *s)
{
    if (!s)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}

void sfs_credentials_free(struct sfs_credentials *c)
{
    free(c->user);
    free(c->domain);
    wipe_free(c->password);
    memset(c, 0, sizeof(*c));
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

static int set_field(char **field, const char *value)
{
    char *copy = strdup(value);
    if (!copy)
        return -ENOMEM;
    wipe_free(*field);
    *field = copy;
    return 0;
}

/* OWNER_NAME: a per-user file's user, for the messages; NULL for a
 * shared file. */
static int refuse_file(const char *path, const struct sfs_secret_file *sf, uid_t owner, const char *owner_name,
                       struct sfs_status *st)
{
    char whose[96] = "";
    if (owner != SFS_ANY_UID)
        snprintf(whose, sizeof(whose), "uid %u%s%s%s", (unsigned)owner, owner_name ? " (" : "",
                 owner_name ? owner_name : "", owner_name ? ")" : "");
    switch (sf->fault) {
    case SFS_SECRET_FILE_NOT_REGULAR:
        return sfs_status_set(st, SFS_STAGE_AUTHENTICATE, EACCES, SFS_DOMAIN_CONFIG, 0,
                              "credentials file %s is %s, not a regular file", path, sfs_file_kind_name(sf->mode));
    case SFS_SECRET_FILE_OWNER:
        return sfs_status_set(st, SFS_STAGE_AUTHENTICATE, EACCES, SFS_DOMAIN_CONFIG, 0,
                              "credentials file %s is owned by another uid (%u), not by %s: a user's session "
                              "uses only the user's own credentials", path, (unsigned)sf->uid, whose);
    case SFS_SECRET_FILE_MODE:
        return sfs_status_set(st, SFS_STAGE_AUTHENTICATE, EPERM, SFS_DOMAIN_CONFIG, 0,
                              "credentials file %s has mode %04o: it must not be readable or writable "
                              "by group or others (chmod 600)", path, (int)(sf->mode & 0777));
    default:
        /* A user without a file of their own has no identity here: no
         * entry, EACCES, as for a file that is not theirs. */
        if (owner != SFS_ANY_UID && (sf->err == ENOENT || sf->err == ENOTDIR))
            return sfs_status_set(st, SFS_STAGE_AUTHENTICATE, EACCES, SFS_DOMAIN_CONFIG, 0,
                                  "no credentials for %s: %s: %s", whose, path, strerror(sf->err));
        return sfs_status_set(st, SFS_STAGE_AUTHENTICATE, sf->err == ENOENT ? ENOKEY : sf->err, SFS_DOMAIN_SYS,
                              sf->err, "credentials file %s: %s", path, strerror(sf->err));
    }
}

static int read_credentials(const char *path, uid_t owner, const char *owner_name, struct sfs_credentials *out,
                            struct sfs_status *st)
{
    memset(out, 0, sizeof(*out));
    struct sfs_secret_file sf;
    int fd = sfs_secret_file_open(path, owner, &sf);
    if (fd < 0)
        return refuse_file(path, &sf, owner, owner_name, st);
    FILE *f = fdopen(fd, "r");
    if (!f) {
        int e = errno;
        close(fd);
        return sfs_status_set(st, SFS_STAGE_AUTHENTICATE, e, SFS_DOMAIN_SYS, e, "credentials file %s: %s", path,
                              strerror(e));
    }
    char line[1024];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        lineno++;
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = sfs_status_set(st, SFS_STAGE_AUTHENTICATE, EINVAL, SFS_DOMAIN_CONFIG, 0,
                                "%s:%d:1: expected key=value", path, lineno);
            break;
        }
        *eq = '\0';
        char *key = trim(s), *value = eq + 1;
        if (!strcmp(key, "username") || !strcmp(key, "user"))
            rc = set_field(&out->user, value);
        else if (!strcmp(key, "password") || !strcmp(key, "pass"))
            rc = set_field(&out->password, value);
        else if (!strcmp(key, "domain") || !strcmp(key, "workgroup") || !strcmp(key, "dom"))
            rc = set_field(&out->domain, value);
        else
            rc = sfs_status_set(st, SFS_STAGE_AUTHENTICATE, EINVAL, SFS_DOMAIN_CONFIG, 0,
                                "%s:%d:1: unknown key '%s' (username, password, domain)", path, lineno, key);
    }
    explicit_bzero(line, sizeof(line));
    fclose(f);
    if (rc == 0 && !out->user)
        rc = sfs_status_set(st, SFS_STAGE_AUTHENTICATE, EINVAL, SFS_DOMAIN_CONFIG, 0,
                            "credentials file %s has no username= line", path);
    if (rc < 0)
        sfs_credentials_free(out);
    else
        out->source = "credentials file";
    return rc;
}

int sfs_credentials_from_file(const char *path, struct sfs_credentials *out, struct sfs_status *st)
{
    return read_credentials(path, SFS_ANY_UID, NULL, out, st);
}

int sfs_credentials_from_own_file(const char *path, uid_t owner, const char *owner_name, struct sfs_credentials *out,
                                  struct sfs_status *st)
{
    return read_credentials(path, owner, owner_name, out, st);
}
