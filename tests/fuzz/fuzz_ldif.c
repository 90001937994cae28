/* libFuzzer target for the LDIF reader (sfs_ldif_parse) and the conversion
 * of directory records into map entries (sfs_dir_map_load) for every kind
 * of request.  Besides "no crash, no hang, no leak", it checks that an LDIF
 * error names a line and column, that a conversion error names a record
 * (its DN, no line) or nothing at all, and that every entry can be copied
 * and looked up. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sharesfs/map.h"
#include "sharesfs/map_directory.h"

static void check_entry(const struct sfs_map *m, const struct sfs_map_entry *e)
{
    struct sfs_map_entry copy, found;
    struct sfs_parse_error err;

    if (!e->key || !e->location || !e->location_display || e->line != 0 || e->file[0] == '\0')
        abort();
    if (!e->wildcard && !e->mountpoint)
        abort();
    if (sfs_map_entry_copy(&copy, e) != 0)
        abort();
    sfs_map_entry_free(&copy);
    int rc = sfs_map_lookup(m, e->root, e->wildcard ? "fuzzkey" : e->key, &found, &err);
    if (rc == 0)
        sfs_map_entry_free(&found);
    else if (rc != -ENOENT && rc != -EINVAL)
        abort();
}

static void convert(const struct sfs_dir_records *recs, enum sfs_dir_kind kind, enum sfs_dir_schema schema,
                    const char *name, const char *root)
{
    struct sfs_dir_request req = {.kind = kind, .schema = schema, .name = name, .root = root};
    struct sfs_map m;
    struct sfs_parse_error err;
    char buf[600];

    int rc = sfs_dir_map_load(recs, &req, &m, &err);
    if (rc == 0) {
        for (size_t i = 0; i < m.n_entries; i++)
            check_entry(&m, &m.entries[i]);
        sfs_map_free(&m);
        return;
    }
    if (m.n_entries || m.entries || m.n_warnings || m.warnings || err.message[0] == '\0' || err.line != 0)
        abort();
    if (rc != -EINVAL && rc != -ENOENT && rc != -ENOMEM)
        abort();
    sfs_parse_error_format(&err, buf, sizeof(buf));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sfs_dir_records recs;
    struct sfs_parse_error err;
    char buf[600];

    int rc = sfs_ldif_parse((const char *)data, size, "fuzz.ldif", &recs, &err);
    if (rc < 0) {
        if (recs.n_records || recs.records || err.message[0] == '\0')
            abort();
        /* Errors in the text name a line and a column. */
        if (rc == -EINVAL && (err.line < 1 || err.column < 1))
            abort();
        sfs_parse_error_format(&err, buf, sizeof(buf));
        return 0;
    }
    convert(&recs, SFS_DIR_FSTAB, SFS_DIR_SCHEMA_AUTO, NULL, NULL);
    convert(&recs, SFS_DIR_STATIC, SFS_DIR_SCHEMA_AUTO, NULL, NULL);
    convert(&recs, SFS_DIR_MASTER, SFS_DIR_SCHEMA_AUTO, NULL, NULL);
    convert(&recs, SFS_DIR_MASTER, SFS_DIR_SCHEMA_RFC2307BIS, "auto_master", NULL);
    /* Every map the records name, alone and under a mount point. */
    for (size_t i = 0; i < recs.n_records && i < 8; i++) {
        const struct sfs_dir_attr *names[] = {sfs_dir_record_attr(&recs.records[i], "automountMapName"),
                                              sfs_dir_record_attr(&recs.records[i], "nisMapName"),
                                              sfs_dir_record_attr(&recs.records[i], "ou")};
        for (size_t k = 0; k < 3; k++)
            if (names[k] && names[k]->n_values) {
                convert(&recs, SFS_DIR_MAP, SFS_DIR_SCHEMA_AUTO, names[k]->values[0], NULL);
                convert(&recs, SFS_DIR_MAP, (enum sfs_dir_schema)(k == 0 ? SFS_DIR_SCHEMA_RFC2307BIS
                                                                : k == 1 ? SFS_DIR_SCHEMA_NIS : SFS_DIR_SCHEMA_AUTOFS),
                        names[k]->values[0], "/fuzz");
            }
    }
    sfs_dir_records_free(&recs);
    return 0;
}
