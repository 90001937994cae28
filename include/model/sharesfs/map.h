/* Automount maps: macOS auto_master / indirect / direct maps and Linux autofs
 * sun-format maps.  See docs/map-formats.md. */
#ifndef SHARESFS_MAP_H
#define SHARESFS_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include "sharesfs/status.h"
#include "sharesfs/url.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Mount options of one entry, merged from the master line and the entry
 * (the entry wins).  Strings are NULL when absent. */
struct sfs_mount_options {
    char *fstype;       /* "url", "afp", "smbfs", "cifs"; NULL when none given */
    bool nobrowse;      /* -nobrowse: keys are not listed until mounted */
    bool ro;
    bool guest;         /* cifs "guest": no credentials, anonymous/guest login */
    char *sec;          /* cifs sec=: "krb5", "krb5i", "ntlmssp", "ntlmv2", "none" */
    char *credentials;  /* cifs credentials= file path */
    char *vers;         /* cifs vers=: "1.0", "2.0", "2.1", "3.0", "3.02", "3.1.1", "3", "default" */
    char *username;     /* cifs username=/user= */
    char *domain;       /* cifs domain=/dom= */
    bool has_password;  /* a password=/pass= option was present (value kept below) */
    char *password;     /* never print, log or expose */
    char **other;       /* every other option, as written ("soft", "uid=501"), NULL-terminated; may be NULL */
};

enum sfs_map_type {
    SFS_MAP_TYPE_INDIRECT = 0,
    SFS_MAP_TYPE_DIRECT,
};

struct sfs_map_entry {
    char *root;          /* master mount point ("/Network/Shares"); "/" for direct maps; NULL when the map was loaded alone */
    char *key;           /* "Attic" (indirect), "/Volumes/Attic" (direct), or "*" */
    char *mountpoint;    /* root + "/" + key, or key for direct maps; NULL for "*" */
    enum sfs_map_type type;
    char *location;      /* raw location text as written (may hold a password: never print) */
    char *location_display; /* location with any password removed: safe to print */
    bool wildcard;       /* key "*": location may hold '&' */
    bool url_ok;         /* url is parsed (false for wildcard entries whose location has '&') */
    struct sfs_url url;  /* location parsed as a URL; for cifs "//h/s" and "://h/s" proto is SMB */
    struct sfs_mount_options opts;
    char *file;          /* map file this entry came from; a directory record's DN (never NULL once loaded) */
    int line;            /* 1-based line of the entry's first physical line; 0 for a directory record */
    unsigned dirref;     /* 1 + index in map->dirrefs of the directory source it came from; 0: a file */
};

/* A map that lives in a directory service, as a map file names it
 * (docs/map-formats.md, "Directory sources"): "+auto_master", "-fstab",
 * "-static", "ldap:DN", "ldap://HOST/DN", or the map argument itself.  The
 * file parser cannot reach a directory: it records the reference, and the
 * engine (sfs_engine_map_load) fetches the records and merges the entries
 * (sfs_map_add_directory, sharesfs/map_directory.h). */
enum sfs_map_dirref_kind {
    SFS_DIRREF_MAP = 0, /* one automount map, by name or DN, under ROOT */
    SFS_DIRREF_MASTER,  /* a master map (NAME; NULL: auto.master, then auto_master) and what it names */
    SFS_DIRREF_FSTAB,   /* macOS "-fstab": mount records with "net", under ROOT as HOST/PATH */
    SFS_DIRREF_STATIC,  /* macOS "-static": mount records without "net", at their mountDirectory */
    SFS_DIRREF_TOP,     /* the map argument is ldap://HOST/DN: the map at DN, else the master below DN */
};

struct sfs_map_dirref {
    char *where;          /* "auto_master:3", or the map argument */
    char *label;          /* as written: "+auto_master", "-fstab", "ldap:automountMapName=auto.home,dc=..." */
    enum sfs_map_dirref_kind kind;
    char *uri;            /* "ldap://host[:port]", "ldaps://..."; NULL: the configured directory's */
    char *base;           /* DN searched (subtree); NULL: the configured base */
    char *name;           /* MAP: a map name or DN; MASTER: a master map name, NULL for the defaults */
    char *root;           /* mount point; "/" for direct; NULL for a map loaded alone */
    enum sfs_map_type type;
    char *options;        /* options of the master line ("-nobrowse,ro"), NULL when none */
    /* Filled when the engine resolves the reference: */
    bool resolved;
    struct sfs_status status;   /* stage map (or resolve/connect) and errno when it failed */
    char server[256];           /* the server asked: "ldap://ldap.lab.test:389" */
    char auth[48];              /* the bind and TLS: "gssapi+starttls", "anonymous" */
    size_t n_records, n_entries;
    double ms;                  /* connect + bind + search */
    /* sharesfs, when the directory could not be read at a refresh: the
     * entries are those of the last read that succeeded, at GOOD_AT. */
    bool last_good;
    long long good_at;
};

struct sfs_map {
    struct sfs_map_entry *entries;
    size_t n_entries;
    /* Non-fatal remarks (a password found in a URL, an unknown option),
     * one "file:line:col: text" string each, safe to print. */
    char **warnings;
    size_t n_warnings;
    struct sfs_map_dirref *dirrefs;
    size_t n_dirrefs;
};

/* Loads PATH.  "ldap://HOST[:PORT]/DN", "ldaps://...", "ldap:DN" and
 * "ldap:HOST:DN" name a directory map instead (one SFS_DIRREF_TOP reference).
 * The format of a file is detected:
 *  - a master map (lines "MOUNTPOINT MAPNAME [options]", "/- MAP" for direct,
 *    "+name" includes): every map it names is loaded, MAPNAME resolved relative
 *    to the master's directory (absolute paths as they are);
 *  - an indirect or direct map (lines "KEY [-options] LOCATION"): entries get
 *    root = ROOT (may be NULL) and are direct when every key starts with '/'.
 * `+name` includes are followed in both, relative to the including file's
 * directory, with loop detection.  Lines end with LF or CRLF; `\` at the end
 * of a line continues it; `#` starts a comment.
 * Returns 0, or a negative errno with *err naming file, line and column. */
int sfs_map_load(const char *path, const char *root, struct sfs_map *out,
                 struct sfs_parse_error *err);

/* Same, from text; NAME stands for the file name in errors and includes are
 * resolved relative to the current directory. */
int sfs_map_parse_text(const char *text, const char *name, const char *root,
                       struct sfs_map *out, struct sfs_parse_error *err);

void sfs_map_free(struct sfs_map *map);
void sfs_map_dirref_free(struct sfs_map_dirref *ref);
int sfs_map_dirref_copy(struct sfs_map_dirref *dst, const struct sfs_map_dirref *src);
/* "ldap://HOST[:PORT]/DN" (DN percent-decoded), "ldaps://...", "ldap:DN",
 * "ldap:HOST:DN" -> *URI ("ldap://HOST[:PORT]", NULL for the configured
 * server) and *BASE (NULL when none).  1 when TEXT is not an LDAP source, 0,
 * or -EINVAL with *WHY (static text). */
int sfs_map_ldap_source(const char *text, char **uri, char **base, const char **why);

/* "/a//b/" -> "/a/b"; "/" stays "/".  Newly allocated, NULL if out of memory. */
char *sfs_path_normalize(const char *path);

/* Finds the entry for KEY under ROOT (ROOT may be NULL to match any root).
 * A "*" entry matches any key: its '&' are replaced by the key and the URL is
 * parsed.  Fills *out with a deep copy (free with sfs_map_entry_free).
 * Returns 0, -ENOENT, or -EINVAL (*err filled). */
int sfs_map_lookup(const struct sfs_map *map, const char *root, const char *key,
                   struct sfs_map_entry *out, struct sfs_parse_error *err);

void sfs_map_entry_free(struct sfs_map_entry *entry);

/* Entries that come from elsewhere than a map file: directory records
 * (sharesfs/map_directory.h).  Their text goes through the same option and
 * location parsing as a map line; messages name SOURCE (a DN) and FIELD (the
 * attribute) with a column, never a line, and such entries have
 * file = SOURCE, line = 0. */

/* Options inherited from a master entry ("-nobrowse,ro"), parsed once;
 * warnings go to MAP. */
struct sfs_map_options;
int sfs_map_options_parse(struct sfs_map *map, const char *source, const char *field, const char *text,
                          struct sfs_map_options **out, struct sfs_parse_error *err);
void sfs_map_options_free(struct sfs_map_options *opts);

struct sfs_map_item {
    const char *source;     /* names the entry: a DN */
    const char *key_field;  /* attribute of KEY, in messages ("automountKey") */
    const char *field;      /* attribute of TEXT, in messages ("automountInformation") */
    const char *root;       /* as for a master line's mount point; "/" for direct maps; may be NULL */
    enum sfs_map_type type;
    const struct sfs_map_options *inherited; /* may be NULL */
    const char *key;        /* checked as a map key of TYPE unless KEY_CHECKED */
    bool key_checked;       /* KEY is used as it is (the caller checked it) */
    const char *text;       /* "[-options]... LOCATION", as after the key of a map line */
};

/* Parses ITEM into one entry appended to MAP (warnings too).  Does not look
 * for duplicate keys: the caller does.  0, or -EINVAL / -ENOMEM with *err
 * naming ITEM's source; no entry is added then. */
int sfs_map_add_item(struct sfs_map *map, const struct sfs_map_item *item, struct sfs_parse_error *err);
int sfs_map_entry_copy(struct sfs_map_entry *dst, const struct sfs_map_entry *src);

#ifdef __cplusplus
}
#endif
#endif
