/* Automount maps from directory records: Open Directory mount records,
 * rfc2307bis and autofs automount maps, RFC 2307 NIS maps (Active
 * Directory); and an LDIF reader for them.  Pure: no LDAP library, no
 * network.  See docs/map-formats.md, "Directory records". */
#ifndef SHARESFS_MAP_DIRECTORY_H
#define SHARESFS_MAP_DIRECTORY_H

#include <stddef.h>

#include "sharesfs/map.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One attribute of a record, with all its values (NUL-free strings). */
struct sfs_dir_attr {
    char *name;
    char **values;
    size_t n_values;
};

/* One directory record (an LDAP entry). */
struct sfs_dir_record {
    char *dn;
    struct sfs_dir_attr *attrs;
    size_t n_attrs;
    int line; /* line of its "dn:" in an LDIF text; 0 when not from LDIF */
};

struct sfs_dir_records {
    struct sfs_dir_record *records;
    size_t n_records;
};

/* Building a record set (what an LDAP search or the LDIF reader does).
 * sfs_dir_records_add returns the new record, NULL when out of memory;
 * sfs_dir_record_add_value appends a value (attribute names compare without
 * case): 0 or -ENOMEM. */
struct sfs_dir_record *sfs_dir_records_add(struct sfs_dir_records *recs, const char *dn);
int sfs_dir_record_add_value(struct sfs_dir_record *rec, const char *attr, const char *value);
/* The attribute NAME (without case), or NULL. */
const struct sfs_dir_attr *sfs_dir_record_attr(const struct sfs_dir_record *rec, const char *name);
void sfs_dir_records_free(struct sfs_dir_records *recs);

/* LDIF (RFC 2849 content records): "dn:", "attr: value", "attr:: base64",
 * continuation lines (a leading space), "#" comments, records separated by
 * blank lines, an optional "version: 1".  NAME stands for the file in
 * errors (file:line:column).  0 or -EINVAL / -ENOMEM; on error *out is
 * empty. */
int sfs_ldif_parse(const char *text, size_t len, const char *name, struct sfs_dir_records *out,
                   struct sfs_parse_error *err);

/* How automount maps are written in the directory. */
enum sfs_dir_schema {
    SFS_DIR_SCHEMA_AUTO = 0, /* detected from the map record's objectClass */
    SFS_DIR_SCHEMA_RFC2307BIS, /* automountMap/automountMapName, automount/automountKey+automountInformation */
    SFS_DIR_SCHEMA_AUTOFS,     /* automountMap/ou, automount/cn+automountInformation */
    SFS_DIR_SCHEMA_NIS,        /* nisMap/nisMapName, nisObject/cn+nisMapEntry (Active Directory) */
};

/* "auto", "rfc2307bis", "autofs", "nis"; NULL for a value out of range. */
const char *sfs_dir_schema_name(enum sfs_dir_schema schema);
/* 0, or -EINVAL for an unknown name. */
int sfs_dir_schema_from_name(const char *name, enum sfs_dir_schema *out);

enum sfs_dir_kind {
    SFS_DIR_MAP = 0, /* the automount map NAME (indirect, or direct when its keys are absolute) */
    SFS_DIR_MASTER,  /* the master map NAME (default auto.master, then auto_master) and every map it names */
    SFS_DIR_FSTAB,   /* macOS -fstab: mount records with "net", key HOST/PATH under ROOT (default /Network/Servers) */
    SFS_DIR_STATIC,  /* macOS -static: mount records without "net", at their mountDirectory (direct) */
};

struct sfs_dir_request {
    enum sfs_dir_kind kind;
    enum sfs_dir_schema schema; /* SFS_DIR_MAP, SFS_DIR_MASTER */
    const char *name;           /* the map's name */
    const char *root;           /* SFS_DIR_MAP: mount point ("/" = direct; NULL = alone); SFS_DIR_FSTAB: mount point */
    const char *options;        /* options every entry inherits ("-nobrowse,ro"), as a master line gives them; may be NULL */
    const char *where;          /* names OPTIONS in errors ("auto_master:3"); may be NULL */
};

/* Turns RECS into the entries REQ asks for, as sfs_map_load would from files:
 * the text of each record goes through the map line parser, so keys, '*',
 * '&', options and URLs behave identically.  Entries have file = the
 * record's DN and line = 0; every error and warning names the DN.
 * Returns 0, or -EINVAL (-ENOENT: no such map; -ENOMEM) with *err. */
int sfs_dir_map_load(const struct sfs_dir_records *recs, const struct sfs_dir_request *req, struct sfs_map *out,
                     struct sfs_parse_error *err);

/* Fetched records RECS of MAP's directory source number REF
 * (map->dirrefs[REF], recorded by the map loader) -> their entries,
 * appended to MAP with dirref = REF + 1, and dirrefs[REF].n_entries set.
 * A key MAP already has is skipped with a warning.  0, or -EINVAL /
 * -ENOENT / -ENOMEM with *ERR naming the record (MAP unchanged). */
int sfs_map_add_directory(struct sfs_map *map, size_t ref, const struct sfs_dir_records *recs,
                          enum sfs_dir_schema schema, struct sfs_parse_error *err);

#ifdef __cplusplus
}
#endif
#endif
