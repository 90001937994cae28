/* Unit tests for fs/model/map_directory.c and fs/model/ldif.c: directory
 * records (LDIF fixtures in tests/unit/data/directory/) turned into map
 * entries, in each schema, and the errors, each naming the record's DN. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sharesfs/map.h"
#include "sharesfs/map_directory.h"

#ifndef TEST_DATA
#define TEST_DATA "tests/unit/data"
#endif

#define DIR_DATA TEST_DATA "/directory/"

/* ---- helpers ---- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void records_text(const char *text, struct sfs_dir_records *recs)
{
    struct sfs_parse_error err;
    char buf[600];
    int rc = sfs_ldif_parse(text, strlen(text), "test.ldif", recs, &err);
    if (rc != 0) {
        sfs_parse_error_format(&err, buf, sizeof(buf));
        fail_msg("LDIF should parse, got %d: %s", rc, buf);
    }
}

static void records_file(const char *name, struct sfs_dir_records *recs)
{
    char path[512];
    size_t len;
    struct sfs_parse_error err;
    char buf[600];
    snprintf(path, sizeof(path), "%s%s", DIR_DATA, name);
    char *text = slurp(path, &len);
    int rc = sfs_ldif_parse(text, len, path, recs, &err);
    free(text);
    if (rc != 0) {
        sfs_parse_error_format(&err, buf, sizeof(buf));
        fail_msg("%s should parse, got %d: %s", name, rc, buf);
    }
}

static void load_ok(const char *file, enum sfs_dir_kind kind, enum sfs_dir_schema schema, const char *name,
                    const char *root, struct sfs_map *m)
{
    struct sfs_dir_records recs;
    struct sfs_parse_error err;
    char buf[600];
    struct sfs_dir_request req = {.kind = kind, .schema = schema, .name = name, .root = root};
    records_file(file, &recs);
    int rc = sfs_dir_map_load(&recs, &req, m, &err);
    sfs_dir_records_free(&recs);
    if (rc != 0) {
        sfs_parse_error_format(&err, buf, sizeof(buf));
        fail_msg("%s should convert, got %d: %s", file, rc, buf);
    }
}

/* FILE must fail with RC; the error names DN (as its file, no line) and
 * holds NEEDLE. */
static void load_error(const char *file, enum sfs_dir_kind kind, enum sfs_dir_schema schema, const char *name,
                       int want_rc, const char *dn, const char *needle)
{
    struct sfs_dir_records recs;
    struct sfs_parse_error err;
    struct sfs_map m;
    char buf[600];
    struct sfs_dir_request req = {.kind = kind, .schema = schema, .name = name};
    records_file(file, &recs);
    int rc = sfs_dir_map_load(&recs, &req, &m, &err);
    sfs_dir_records_free(&recs);
    sfs_parse_error_format(&err, buf, sizeof(buf));
    if (rc != want_rc)
        fail_msg("rc %d, want %d (%s)", rc, want_rc, buf);
    if (strcmp(err.file, dn) != 0)
        fail_msg("error names '%s', want the DN '%s' (%s)", err.file, dn, buf);
    assert_int_equal(err.line, 0);
    if (!strstr(err.message, needle))
        fail_msg("message '%s' lacks '%s'", err.message, needle);
    /* The formatted error starts with the DN. */
    assert_int_equal(strncmp(buf, dn, strlen(dn)), 0);
    assert_int_equal(m.n_entries, 0);
    assert_null(m.entries);
    assert_null(m.warnings);
}

static const struct sfs_map_entry *find(const struct sfs_map *m, const char *root, const char *key)
{
    for (size_t i = 0; i < m->n_entries; i++)
        if (strcmp(m->entries[i].key, key) == 0 &&
            ((!root && !m->entries[i].root) || (root && m->entries[i].root && strcmp(m->entries[i].root, root) == 0)))
            return &m->entries[i];
    fail_msg("no entry '%s' under '%s'", key, root ? root : "(none)");
    return NULL;
}

static bool has_other(const struct sfs_map_entry *e, const char *opt)
{
    for (char **p = e->opts.other; p && *p; p++)
        if (strcmp(*p, opt) == 0)
            return true;
    return false;
}

/* ---- Open Directory ---- */

#define OD_GROUPS "cn=lion.lab.test:/Groups,cn=mounts,dc=lab,dc=test"
#define OD_ATTIC "cn=lion.lab.test:/Volumes/Data/Attic,cn=mounts,dc=lab,dc=test"
#define OD_MULTI "cn=lion.lab.test:/Volumes/Data/Multimedia,cn=mounts,dc=lab,dc=test"

static void od_fstab_seed_records(void **state)
{
    (void)state;
    struct sfs_map m;
    load_ok("od_lion.ldif", SFS_DIR_FSTAB, SFS_DIR_SCHEMA_AUTO, NULL, NULL, &m);
    assert_int_equal(m.n_entries, 3);
    assert_int_equal(m.n_warnings, 0);

    const struct sfs_map_entry *g = find(&m, "/Network/Servers", "lion.lab.test/Groups");
    assert_string_equal(g->mountpoint, "/Network/Servers/lion.lab.test/Groups");
    assert_int_equal(g->type, SFS_MAP_TYPE_INDIRECT);
    assert_true(g->url_ok);
    assert_int_equal(g->url.proto, SFS_PROTO_AFP);
    assert_string_equal(g->url.host, "lion.lab.test");
    assert_string_equal(g->url.share, "Groups");
    assert_null(g->url.auth);
    assert_string_equal(g->location, "afp://lion.lab.test/Groups");
    assert_string_equal(g->file, OD_GROUPS);
    assert_int_equal(g->line, 0);

    /* Attic's URL was cut by an LDIF continuation line. */
    const struct sfs_map_entry *a = find(&m, "/Network/Servers", "lion.lab.test/Volumes/Data/Attic");
    assert_string_equal(a->mountpoint, "/Network/Servers/lion.lab.test/Volumes/Data/Attic");
    assert_string_equal(a->url.auth, "No User Authent");
    assert_string_equal(a->url.share, "Attic");
    assert_string_equal(a->file, OD_ATTIC);

    /* Multimedia's mountOption was base64. */
    const struct sfs_map_entry *mm = find(&m, "/Network/Servers", "lion.lab.test/Volumes/Data/Multimedia");
    assert_string_equal(mm->url.auth, "Client Krb v2");
    assert_string_equal(mm->url.share, "Multimedia");
    assert_string_equal(mm->file, OD_MULTI);

    /* A key holding '/' is found by an exact lookup. */
    struct sfs_map_entry out;
    struct sfs_parse_error err;
    assert_int_equal(sfs_map_lookup(&m, "/Network/Servers", "lion.lab.test/Groups", &out, &err), 0);
    assert_string_equal(out.url.share, "Groups");
    sfs_map_entry_free(&out);
    sfs_map_free(&m);
}

static void od_fstab_other_root(void **state)
{
    (void)state;
    struct sfs_map m;
    load_ok("od_lion.ldif", SFS_DIR_FSTAB, SFS_DIR_SCHEMA_AUTO, NULL, "/srv/servers/", &m);
    assert_int_equal(m.n_entries, 3);
    assert_string_equal(find(&m, "/srv/servers", "lion.lab.test/Groups")->mountpoint,
                        "/srv/servers/lion.lab.test/Groups");
    sfs_map_free(&m);
}

static void od_static_records(void **state)
{
    (void)state;
    struct sfs_map m;
    load_ok("od_lion.ldif", SFS_DIR_STATIC, SFS_DIR_SCHEMA_AUTO, NULL, NULL, &m);
    assert_int_equal(m.n_entries, 1);
    const struct sfs_map_entry *e = find(&m, "/", "/Volumes/Scratch");
    assert_int_equal(e->type, SFS_MAP_TYPE_DIRECT);
    assert_string_equal(e->mountpoint, "/Volumes/Scratch");
    assert_true(e->opts.nobrowse);
    assert_string_equal(e->url.share, "Scratch");
    assert_string_equal(e->file, "cn=lion.lab.test:/Volumes/Data/Scratch,cn=mounts,dc=lab,dc=test");
    sfs_map_free(&m);
}

/* +auto_master: the directory's own master map, with -fstab and -static. */
static void od_auto_master(void **state)
{
    (void)state;
    struct sfs_map m;
    load_ok("od_lion.ldif", SFS_DIR_MASTER, SFS_DIR_SCHEMA_AUTO, "auto_master", NULL, &m);
    assert_int_equal(m.n_entries, 5);
    find(&m, "/Network/Servers", "lion.lab.test/Groups");
    find(&m, "/Network/Servers", "lion.lab.test/Volumes/Data/Attic");
    find(&m, "/Network/Servers", "lion.lab.test/Volumes/Data/Multimedia");
    find(&m, "/", "/Volumes/Scratch");
    const struct sfs_map_entry *p = find(&m, "/Network/Shares", "Public");
    assert_string_equal(p->mountpoint, "/Network/Shares/Public");
    assert_true(p->opts.nobrowse); /* from the master entry */
    assert_string_equal(p->opts.fstype, "url");
    assert_string_equal(p->url.auth, "No User Authent");
    /* -hosts is skipped with a warning naming its record. */
    assert_int_equal(m.n_warnings, 1);
    assert_non_null(strstr(m.warnings[0], "automountKey=/net,automountMapName=auto_master,dc=lab,dc=test: "));
    assert_non_null(strstr(m.warnings[0], "special map '-hosts'"));
    /* Without a name, auto.master then auto_master is looked for. */
    struct sfs_map m2;
    load_ok("od_lion.ldif", SFS_DIR_MASTER, SFS_DIR_SCHEMA_AUTO, NULL, NULL, &m2);
    assert_int_equal(m2.n_entries, 5);
    sfs_map_free(&m2);
    sfs_map_free(&m);
}

/* ---- rfc2307bis ---- */

static void rfc2307bis_master(void **state)
{
    (void)state;
    struct sfs_map m;
    load_ok("rfc2307bis.ldif", SFS_DIR_MASTER, SFS_DIR_SCHEMA_AUTO, NULL, NULL, &m);
    assert_int_equal(m.n_entries, 5);
    assert_int_equal(m.n_warnings, 0);

    const struct sfs_map_entry *l = find(&m, "/home", "labuser");
    assert_string_equal(l->mountpoint, "/home/labuser");
    assert_string_equal(l->opts.fstype, "cifs");
    assert_string_equal(l->opts.sec, "krb5");
    assert_true(has_other(l, "cruid=1000"));
    assert_true(has_other(l, "timeout=60")); /* master options inherited */
    assert_true(has_other(l, "ghost"));
    assert_int_equal(l->url.proto, SFS_PROTO_SMB);

    /* automountKey "/" is the wildcard. */
    const struct sfs_map_entry *w = find(&m, "/home", "*");
    assert_true(w->wildcard);
    assert_false(w->url_ok);
    assert_null(w->mountpoint);
    assert_true(w->opts.guest);

    /* ldap:DN names the map by its DN; -ro inherited, rw wins in the entry. */
    const struct sfs_map_entry *pub = find(&m, "/mnt/shares", "public");
    assert_true(pub->opts.ro);
    assert_string_equal(pub->opts.vers, "3.0");
    const struct sfs_map_entry *team = find(&m, "/mnt/shares", "team share");
    assert_false(team->opts.ro);
    assert_string_equal(team->url.share, "Team Share");
    assert_string_equal(team->mountpoint, "/mnt/shares/team share");

    /* ldap://host/DN for /-: a direct map. */
    const struct sfs_map_entry *d = find(&m, "/", "/Volumes/Scratch");
    assert_int_equal(d->type, SFS_MAP_TYPE_DIRECT);
    assert_string_equal(d->url.share, "scratch");
    assert_string_equal(d->file, "automountKey=/Volumes/Scratch,automountMapName=auto.direct,ou=automount,dc=lab,dc=test");

    /* '&' behaves as in a file: the key, percent-encoded. */
    struct sfs_map_entry out;
    struct sfs_parse_error err;
    assert_int_equal(sfs_map_lookup(&m, "/home", "My Files", &out, &err), 0);
    assert_string_equal(out.location, "://fs-default.lab.test/My%20Files");
    sfs_map_entry_free(&out);
    sfs_map_free(&m);
}

static void rfc2307bis_wildcard_lookup(void **state)
{
    (void)state;
    struct sfs_map m;
    struct sfs_map_entry out;
    struct sfs_parse_error err;
    load_ok("rfc2307bis.ldif", SFS_DIR_MAP, SFS_DIR_SCHEMA_RFC2307BIS, "auto.home", "/home", &m);
    assert_int_equal(m.n_entries, 2);
    assert_int_equal(sfs_map_lookup(&m, "/home", "alice", &out, &err), 0);
    assert_string_equal(out.mountpoint, "/home/alice");
    assert_string_equal(out.location, "://fs-default.lab.test/alice");
    assert_string_equal(out.url.share, "alice");
    assert_true(out.opts.guest);
    sfs_map_entry_free(&out);
    assert_int_equal(sfs_map_lookup(&m, "/home", "My Files", &out, &err), 0);
    assert_string_equal(out.location, "://fs-default.lab.test/My%20Files");
    assert_string_equal(out.url.share, "My Files");
    sfs_map_entry_free(&out);
    sfs_map_free(&m);
}

/* A map alone: direct when its keys are absolute paths. */
static void rfc2307bis_direct_alone(void **state)
{
    (void)state;
    struct sfs_map m;
    load_ok("rfc2307bis.ldif", SFS_DIR_MAP, SFS_DIR_SCHEMA_AUTO, "auto.direct", NULL, &m);
    assert_int_equal(m.n_entries, 1);
    assert_int_equal(m.entries[0].type, SFS_MAP_TYPE_DIRECT);
    assert_string_equal(m.entries[0].root, "/");
    sfs_map_free(&m);
}

/* The same text gives the same entry from the directory and from a file. */
static void same_as_file_map(void **state)
{
    (void)state;
    struct sfs_map d, f;
    struct sfs_parse_error err;
    load_ok("rfc2307bis.ldif", SFS_DIR_MAP, SFS_DIR_SCHEMA_AUTO, "auto.cifs", "/mnt/shares", &d);
    assert_int_equal(sfs_map_parse_text("public -fstype=cifs,guest,vers=3.0 ://fs-default.lab.test/public\n"
                                        "\"team share\" -fstype=cifs,rw \"://fs-default.lab.test/Team Share\"\n",
                                        "auto.cifs", "/mnt/shares", &f, &err),
                     0);
    assert_int_equal(d.n_entries, f.n_entries);
    for (size_t i = 0; i < f.n_entries; i++) {
        const struct sfs_map_entry *a = find(&d, "/mnt/shares", f.entries[i].key), *b = &f.entries[i];
        assert_string_equal(a->mountpoint, b->mountpoint);
        assert_string_equal(a->location, b->location);
        assert_string_equal(a->location_display, b->location_display);
        assert_string_equal(a->opts.fstype, b->opts.fstype);
        assert_int_equal(a->opts.guest, b->opts.guest);
        assert_int_equal(a->opts.ro, b->opts.ro);
        assert_int_equal(a->url.proto, b->url.proto);
        assert_string_equal(a->url.host, b->url.host);
        assert_string_equal(a->url.share, b->url.share);
    }
    sfs_map_free(&d);
    sfs_map_free(&f);
}

/* ---- older autofs schema ---- */

static void autofs_schema(void **state)
{
    (void)state;
    struct sfs_map m;
    struct sfs_map_entry out;
    struct sfs_parse_error err;
    load_ok("autofs.ldif", SFS_DIR_MASTER, SFS_DIR_SCHEMA_AUTO, NULL, NULL, &m);
    assert_int_equal(m.n_entries, 2);
    const struct sfs_map_entry *a = find(&m, "/shares", "archive");
    assert_true(a->opts.ro);
    assert_string_equal(a->opts.fstype, "afp");
    assert_string_equal(a->url.user, "labuser");
    assert_int_equal(a->url.port, 548);
    assert_true(find(&m, "/shares", "*")->wildcard);
    assert_int_equal(sfs_map_lookup(&m, "/shares", "Projects", &out, &err), 0);
    assert_string_equal(out.url.share, "Projects");
    assert_string_equal(out.opts.fstype, "smbfs");
    sfs_map_entry_free(&out);
    sfs_map_free(&m);

    /* Forced, the same map. */
    load_ok("autofs.ldif", SFS_DIR_MAP, SFS_DIR_SCHEMA_AUTOFS, "auto.shares", "/shares", &m);
    assert_int_equal(m.n_entries, 2);
    sfs_map_free(&m);
}

/* ---- RFC 2307 NIS (Active Directory) ---- */

static void nis_active_directory(void **state)
{
    (void)state;
    struct sfs_map m;
    struct sfs_map_entry out;
    struct sfs_parse_error err;
    load_ok("nis_ad.ldif", SFS_DIR_MASTER, SFS_DIR_SCHEMA_AUTO, "auto.master", NULL, &m);
    assert_int_equal(m.n_entries, 2);
    const struct sfs_map_entry *l = find(&m, "/home", "labuser");
    assert_true(l->opts.nobrowse);
    assert_string_equal(l->opts.sec, "krb5");
    assert_string_equal(l->url.host, "dc.lab.test");
    assert_string_equal(l->url.share, "users");
    assert_string_equal(l->url.path, "labuser");
    assert_string_equal(l->file, "CN=labuser,CN=auto.home,CN=automount,DC=lab,DC=test");
    /* cn "/" is the wildcard; two nisMapEntry values are joined by a blank. */
    const struct sfs_map_entry *w = find(&m, "/home", "*");
    assert_string_equal(w->location, "://dc.lab.test/users/&");
    assert_string_equal(w->opts.sec, "krb5");
    assert_int_equal(sfs_map_lookup(&m, "/home", "bob", &out, &err), 0);
    assert_string_equal(out.url.path, "bob");
    sfs_map_entry_free(&out);
    sfs_map_free(&m);
}

static void forced_schema_mismatch(void **state)
{
    (void)state;
    load_error("nis_ad.ldif", SFS_DIR_MAP, SFS_DIR_SCHEMA_RFC2307BIS, "auto.home", -ENOENT, "",
               "map 'auto.home' not found in the directory (rfc2307bis)");
    load_error("rfc2307bis.ldif", SFS_DIR_MAP, SFS_DIR_SCHEMA_AUTO, "auto.nothing", -ENOENT, "",
               "map 'auto.nothing' not found");
}

static void schema_names(void **state)
{
    (void)state;
    enum sfs_dir_schema s;
    assert_int_equal(sfs_dir_schema_from_name("NIS", &s), 0);
    assert_int_equal(s, SFS_DIR_SCHEMA_NIS);
    assert_int_equal(sfs_dir_schema_from_name("rfc2307bis", &s), 0);
    assert_string_equal(sfs_dir_schema_name(s), "rfc2307bis");
    assert_int_equal(sfs_dir_schema_from_name("autofs", &s), 0);
    assert_int_equal(sfs_dir_schema_from_name("auto", &s), 0);
    assert_int_equal(sfs_dir_schema_from_name("ad", &s), -EINVAL);
    assert_null(sfs_dir_schema_name((enum sfs_dir_schema)42));

    struct sfs_dir_records recs = {0};
    struct sfs_dir_request req = {.kind = SFS_DIR_MAP, .schema = (enum sfs_dir_schema)42, .name = "x"};
    struct sfs_map m;
    struct sfs_parse_error err;
    assert_int_equal(sfs_dir_map_load(&recs, &req, &m, &err), -EINVAL);
    assert_non_null(strstr(err.message, "unknown schema"));
}

/* ---- malformed records: each error names the DN ---- */

static void error_missing_attribute(void **state)
{
    (void)state;
    load_error("bad_missing.ldif", SFS_DIR_MAP, SFS_DIR_SCHEMA_AUTO, "auto.bad", -EINVAL,
               "automountKey=broken,automountMapName=auto.bad,dc=lab,dc=test",
               "missing attribute 'automountInformation'");
}

static void error_bad_url(void **state)
{
    (void)state;
    load_error("bad_url.ldif", SFS_DIR_FSTAB, SFS_DIR_SCHEMA_AUTO, NULL, -EINVAL,
               "cn=lion.lab.test:/Attic,cn=mounts,dc=lab,dc=test", "invalid URL: invalid port '99999'");
}

static void error_duplicate_key(void **state)
{
    (void)state;
    load_error("bad_duplicate.ldif", SFS_DIR_MAP, SFS_DIR_SCHEMA_AUTO, "auto.dup", -EINVAL,
               "cn=share+nisMapEntry=x,nisMapName=auto.dup,dc=lab,dc=test",
               "duplicate key 'share' (also defined by cn=share,nisMapName=auto.dup,dc=lab,dc=test)");
}

static void error_unknown_schema(void **state)
{
    (void)state;
    load_error("bad_schema.ldif", SFS_DIR_MAP, SFS_DIR_SCHEMA_AUTO, "auto.mixed", -EINVAL,
               "cn=share,automountMapName=auto.mixed,dc=lab,dc=test", "unknown schema: a nisObject record");
}

/* Inline records for the rest of the errors. */
static void convert_error(const char *ldif, enum sfs_dir_kind kind, const char *name, const char *dn,
                          const char *needle)
{
    struct sfs_dir_records recs;
    struct sfs_parse_error err;
    struct sfs_map m;
    struct sfs_dir_request req = {.kind = kind, .name = name};
    records_text(ldif, &recs);
    int rc = sfs_dir_map_load(&recs, &req, &m, &err);
    sfs_dir_records_free(&recs);
    int want = strstr(needle, "not found") ? -ENOENT : -EINVAL;
    if (rc != want)
        fail_msg("rc %d, want %d (%s)", rc, want, err.message);
    assert_string_equal(err.file, dn);
    if (!strstr(err.message, needle))
        fail_msg("message '%s' lacks '%s'", err.message, needle);
    assert_int_equal(m.n_entries, 0);
}

#define MAPREC "dn: automountMapName=m,dc=t\nobjectClass: automountMap\nautomountMapName: m\n\n"
#define MOUNT(dn) "dn: " dn "\nobjectClass: mount\n"

static void error_cases(void **state)
{
    (void)state;
    convert_error(MAPREC "dn: automountKey=k,automountMapName=m,dc=t\nobjectClass: automount\n"
                         "automountInformation: ://h/s\n",
                  SFS_DIR_MAP, "m", "automountKey=k,automountMapName=m,dc=t", "missing attribute 'automountKey'");
    convert_error(MAPREC "dn: automountKey=k,automountMapName=m,dc=t\nobjectClass: automount\nautomountKey: k\n"
                         "automountInformation: -fstype=nfs ://h/s\n",
                  SFS_DIR_MAP, "m", "automountKey=k,automountMapName=m,dc=t",
                  "automountInformation (column 9): unknown fstype 'nfs'");
    convert_error(MAPREC "dn: automountKey=a/b,automountMapName=m,dc=t\nobjectClass: automount\nautomountKey: a/b\n"
                         "automountInformation: ://h/s\n",
                  SFS_DIR_MAP, "m", "automountKey=a/b,automountMapName=m,dc=t",
                  "automountKey (column 2): key 'a/b' contains '/'");
    convert_error(MAPREC "dn: automountKey=k,automountMapName=m,dc=t\nobjectClass: automount\nautomountKey: k\n"
                         "automountInformation: -ro\n",
                  SFS_DIR_MAP, "m", "automountKey=k,automountMapName=m,dc=t", "missing location for key 'k'");
    convert_error(MOUNT("cn=h:/x,dc=t") "cn: h:/x\nmountType: url\nmountOption: net\n", SFS_DIR_FSTAB, NULL,
                  "cn=h:/x,dc=t", "mountOption 'url==URL'");
    convert_error(MOUNT("cn=h:/x,dc=t") "cn: h:/x\nmountOption: net\nmountOption: url==afp://h/x\n", SFS_DIR_FSTAB,
                  NULL, "cn=h:/x,dc=t", "missing attribute 'mountType'");
    convert_error(MOUNT("cn=h:/x,dc=t") "cn: h:/x\nmountType: nfs\nmountOption: net\n", SFS_DIR_FSTAB, NULL,
                  "cn=h:/x,dc=t", "mountType 'nfs' is not supported");
    convert_error(MOUNT("cn=x,dc=t") "mountType: url\nmountOption: net\nmountOption: url==afp://h/x\n",
                  SFS_DIR_FSTAB, NULL, "cn=x,dc=t", "missing attribute 'cn'");
    convert_error(MOUNT("cn=x,dc=t") "cn: nohost\nmountType: url\nmountOption: net\nmountOption: url==afp://h/x\n",
                  SFS_DIR_FSTAB, NULL, "cn=x,dc=t", "is not HOST:/PATH");
    convert_error(MOUNT("cn=x,dc=t") "cn: *:/\nmountType: url\nmountOption: net\nmountOption: url==afp://h/x\n",
                  SFS_DIR_FSTAB, NULL, "cn=x,dc=t", "is not HOST:/PATH");
    convert_error(MOUNT("cn=x,dc=t") "cn: ..:/x\nmountType: url\nmountOption: net\nmountOption: url==afp://h/x\n",
                  SFS_DIR_FSTAB, NULL, "cn=x,dc=t", "is not HOST:/PATH");
    convert_error(MOUNT("cn=x,dc=t") "cn: h:/a/../b\nmountType: url\nmountOption: net\nmountOption: url==afp://h/x\n",
                  SFS_DIR_FSTAB, NULL, "cn=x,dc=t", "'.' and '..' are not allowed");
    convert_error(MOUNT("cn=h:/x,dc=t") "cn: h:/x\nmountType: url\nmountOption: url==afp://h/x\n", SFS_DIR_STATIC,
                  NULL, "cn=h:/x,dc=t", "missing attribute 'mountDirectory'");
    convert_error(MOUNT("cn=h:/x,dc=t") "cn: h:/x\nmountType: url\nmountDirectory: Volumes/x\n"
                                        "mountOption: url==afp://h/x\n",
                  SFS_DIR_STATIC, NULL, "cn=h:/x,dc=t", "must be an absolute path");
    convert_error(MOUNT("cn=h:/x,dc=t") "cn: h:/x\nmountType: url\nmountOption: net\nmountOption: url==afp://h/x\n\n"
                  MOUNT("cn=h:/x+mountType=url,dc=t") "cn: h:/x\nmountType: url\nmountOption: net\n"
                                                      "mountOption: url==afp://h/y\n",
                  SFS_DIR_FSTAB, NULL, "cn=h:/x+mountType=url,dc=t", "duplicate key 'h/x' (also defined by cn=h:/x,dc=t)");
    /* Master maps. */
    convert_error("dn: automountMapName=auto.master,dc=t\nobjectClass: automountMap\nautomountMapName: auto.master\n\n"
                  "dn: automountKey=home,automountMapName=auto.master,dc=t\nobjectClass: automount\n"
                  "automountKey: home\nautomountInformation: auto.home\n",
                  SFS_DIR_MASTER, NULL, "automountKey=home,automountMapName=auto.master,dc=t",
                  "mount point 'home' must be an absolute path");
    convert_error("dn: automountMapName=auto.master,dc=t\nobjectClass: automountMap\nautomountMapName: auto.master\n\n"
                  "dn: automountKey=/home,automountMapName=auto.master,dc=t\nobjectClass: automount\n"
                  "automountKey: /home\nautomountInformation: auto.home\n",
                  SFS_DIR_MASTER, NULL, "automountKey=/home,automountMapName=auto.master,dc=t",
                  "map 'auto.home' not found in the directory");
    convert_error("dn: automountMapName=auto.master,dc=t\nobjectClass: automountMap\nautomountMapName: auto.master\n\n"
                  "dn: automountKey=/home,automountMapName=auto.master,dc=t\nobjectClass: automount\n"
                  "automountKey: /home\nautomountInformation: auto.home -ro,,rw\n",
                  SFS_DIR_MASTER, NULL, "automountKey=/home,automountMapName=auto.master,dc=t",
                  "automountInformation (column 15): empty option in option list");
    convert_error(MAPREC "dn: automountMapName=m,dc=u\nobjectClass: automountMap\nautomountMapName: m\n",
                  SFS_DIR_MAP, "m", "automountMapName=m,dc=u", "map 'm' is defined twice (also by automountMapName=m,dc=t)");
}

/* Warnings name the DN too, and never the password. */
static void warnings_name_dn(void **state)
{
    (void)state;
    struct sfs_dir_records recs;
    struct sfs_parse_error err;
    struct sfs_map m;
    struct sfs_dir_request req = {.kind = SFS_DIR_MAP, .name = "m", .root = "/x"};
    records_text(MAPREC "dn: automountKey=k,automountMapName=m,dc=t\nobjectClass: automount\nautomountKey: k\n"
                        "automountKey: k2\nautomountInformation: -frob smb://u:Hunter2Secret@h/s\n",
                 &recs);
    assert_int_equal(sfs_dir_map_load(&recs, &req, &m, &err), 0);
    sfs_dir_records_free(&recs);
    assert_int_equal(m.n_entries, 1);
    assert_string_equal(m.entries[0].key, "k");
    assert_string_equal(m.entries[0].location_display, "smb://u@h/s");
    assert_int_equal(m.n_warnings, 3);
    for (size_t i = 0; i < m.n_warnings; i++) {
        assert_int_equal(strncmp(m.warnings[i], "automountKey=k,automountMapName=m,dc=t: ", 40), 0);
        assert_null(strstr(m.warnings[i], "Hunter2Secret"));
    }
    assert_non_null(strstr(m.warnings[0], "more than one 'automountKey'; using 'k'"));
    assert_non_null(strstr(m.warnings[1], "automountInformation (column 2): unknown option 'frob'"));
    assert_non_null(strstr(m.warnings[2], "password stored in map"));
    sfs_map_free(&m);
}

/* ---- LDIF ---- */

static void ldif_values(void **state)
{
    (void)state;
    struct sfs_dir_records recs;
    /* "Team Share/é" base64, a folded value, a comment folded too, CRLF. */
    records_text("version: 1\r\n"
                 "# a comment\r\n"
                 "  that continues\r\n"
                 "dn: cn=a,\r\n dc=t\r\n"
                 "cn: a\r\n"
                 "description:: VGVhbSBTaGFyZS/DqQ==\r\n"
                 "description:   leading blanks go\r\n"
                 "cn;lang-en: b\r\n"
                 "empty:\r\n"
                 "\r\n\r\n"
                 "dn:: Y249YixkYz10\n"
                 "objectClass: x\n",
                 &recs);
    assert_int_equal(recs.n_records, 2);
    assert_string_equal(recs.records[0].dn, "cn=a,dc=t");
    assert_int_equal(recs.records[0].line, 4);
    const struct sfs_dir_attr *d = sfs_dir_record_attr(&recs.records[0], "DESCRIPTION");
    assert_non_null(d);
    assert_int_equal(d->n_values, 2);
    assert_string_equal(d->values[0], "Team Share/\xc3\xa9");
    assert_string_equal(d->values[1], "leading blanks go");
    const struct sfs_dir_attr *cn = sfs_dir_record_attr(&recs.records[0], "cn");
    assert_int_equal(cn->n_values, 2);
    assert_string_equal(cn->values[1], "b");
    assert_string_equal(sfs_dir_record_attr(&recs.records[0], "empty")->values[0], "");
    assert_string_equal(recs.records[1].dn, "cn=b,dc=t");
    assert_int_equal(recs.records[1].line, 13);
    sfs_dir_records_free(&recs);

    records_text("", &recs);
    assert_int_equal(recs.n_records, 0);
    sfs_dir_records_free(&recs);
}

static void ldif_error(const char *text, size_t len, int line, int col, const char *needle)
{
    struct sfs_dir_records recs;
    struct sfs_parse_error err;
    int rc = sfs_ldif_parse(text, len, "bad.ldif", &recs, &err);
    if (rc != -EINVAL)
        fail_msg("rc %d, want -EINVAL", rc);
    assert_string_equal(err.file, "bad.ldif");
    if (err.line != line || err.column != col)
        fail_msg("error at %d:%d, want %d:%d (%s)", err.line, err.column, line, col, err.message);
    if (!strstr(err.message, needle))
        fail_msg("message '%s' lacks '%s'", err.message, needle);
    assert_int_equal(recs.n_records, 0);
    assert_null(recs.records);
}

#define LE(text, line, col, needle) ldif_error(text, sizeof(text) - 1, line, col, needle)

static void ldif_errors(void **state)
{
    (void)state;
    LE("cn: a\n", 1, 1, "a record must start with 'dn:'");
    LE(" cn: a\n", 1, 1, "continuation line with no line to continue");
    LE("dn: a=b\n\n continued\n", 3, 1, "continuation line with no line to continue");
    LE("dn: a=b\ncn:: QQ=x\n", 2, 9, "base64 data after '=' padding");
    LE("dn: a=b\ncn:: Q!==\n", 2, 7, "invalid character in base64 value");
    LE("dn: a=b\ncn:: QUJDR\n", 2, 6, "truncated base64 value");
    LE("dn: a=b\ncn:: AA==\n", 2, 6, "NUL byte in base64 value");
    /* A bad byte on a continuation line is found at its own line and column. */
    LE("dn: a=b\ncn:: QUJD\n RE!F\n", 3, 4, "invalid character in base64 value");
    LE("dn: a=b\ncn a\n", 2, 3, "invalid character in attribute name");
    LE("dn: a=b\ncn\n", 2, 3, "missing ':'");
    LE("dn: a=b\n: x\n", 2, 1, "expected 'attribute: value'");
    LE("dn: a=b\n;x: y\n", 2, 1, "expected 'attribute: value'");
    LE("dn: a=b\ncn:< file:///etc/passwd\n", 2, 4, "URL values");
    LE("dn: a=b\nchangetype: add\n", 2, 1, "change records are not supported");
    LE("dn: a=b\ndn: c=d\n", 2, 1, "second 'dn:' in a record");
    LE("dn:\n", 1, 4, "empty DN");
    LE("dn: a=b\n\ndn: A=B\n", 3, 1, "duplicate DN 'A=B' (first at line 1)");
    LE("version: 2\n", 1, 10, "unsupported LDIF version");
    LE("dn: a=b\ncn: x\ry\n", 2, 6, "stray CR");
    LE("dn: a=b\ncn: x\0y\n", 2, 6, "NUL byte in file");
}

/* ---- records built by hand (what an LDAP client will do) ---- */

/* A map file naming the directory: the references it records, merged with
 * the records fetched for them (what the engine does after a search). */
static void merge_into_file_map(void **state)
{
    (void)state;
    struct sfs_dir_records recs = {0};
    struct sfs_map m;
    struct sfs_parse_error err;
    records_file("od_lion.ldif", &recs);
    assert_int_equal(sfs_map_parse_text("/Network/Servers -fstab -nobrowse\n/- -static\n", "auto_master", NULL, &m,
                                        &err), 0);
    assert_int_equal(m.n_dirrefs, 2);
    assert_int_equal(sfs_map_add_directory(&m, 0, &recs, SFS_DIR_SCHEMA_AUTO, &err), 0);
    assert_int_equal(sfs_map_add_directory(&m, 1, &recs, SFS_DIR_SCHEMA_AUTO, &err), 0);
    assert_int_equal(m.n_entries, 4);
    assert_int_equal(m.dirrefs[0].n_entries, 3);
    assert_int_equal(m.dirrefs[1].n_entries, 1);
    const struct sfs_map_entry *g = &m.entries[0];
    assert_string_equal(g->key, "lion.lab.test/Groups");
    assert_string_equal(g->mountpoint, "/Network/Servers/lion.lab.test/Groups");
    assert_true(g->opts.nobrowse); /* the master line's options */
    assert_int_equal(g->dirref, 1);
    assert_int_equal(g->line, 0);
    assert_string_equal(g->file, "cn=lion.lab.test:/Groups,cn=mounts,dc=lab,dc=test");
    assert_string_equal(m.entries[3].key, "/Volumes/Scratch");
    assert_int_equal(m.entries[3].dirref, 2);
    sfs_map_free(&m);

    /* A key the file has already: the file's entry stays, with a warning. */
    assert_int_equal(sfs_map_parse_text("Public smb://h/x\n+ldap:automountMapName=auto_shares,dc=lab,dc=test\n", "m",
                                        "/Network/Shares", &m, &err), 0);
    assert_int_equal(m.dirrefs[0].kind, SFS_DIRREF_MAP);
    assert_string_equal(m.dirrefs[0].root, "/Network/Shares");
    assert_int_equal(sfs_map_add_directory(&m, 0, &recs, SFS_DIR_SCHEMA_AUTO, &err), 0);
    assert_int_equal(m.n_entries, 1);
    assert_string_equal(m.entries[0].url.host, "h");
    assert_non_null(strstr(m.warnings[m.n_warnings - 1], "duplicate key 'Public'"));
    sfs_map_free(&m);

    /* The map argument ldap://HOST/DN: the map at DN, else the master below it. */
    assert_int_equal(sfs_map_load("ldap://ldap.lab.test/automountMapName=auto_shares,dc=lab,dc=test", "/Network/Shares",
                                  &m, &err), 0);
    assert_int_equal(sfs_map_add_directory(&m, 0, &recs, SFS_DIR_SCHEMA_AUTO, &err), 0);
    assert_int_equal(m.n_entries, 1);
    assert_string_equal(m.entries[0].mountpoint, "/Network/Shares/Public");
    sfs_map_free(&m);
    assert_int_equal(sfs_map_load("ldap://ldap.lab.test/dc=lab,dc=test", NULL, &m, &err), 0);
    assert_int_equal(sfs_map_add_directory(&m, 0, &recs, SFS_DIR_SCHEMA_AUTO, &err), 0);
    assert_int_equal(m.n_entries, 5); /* auto_master: -fstab (3), -static (1), auto_shares (1) */
    sfs_map_free(&m);

    /* A map that is not there: -ENOENT naming it, the map unchanged. */
    assert_int_equal(sfs_map_parse_text("/mnt ldap:automountMapName=nope,dc=lab,dc=test\n", "m", NULL, &m, &err), 0);
    assert_int_equal(sfs_map_add_directory(&m, 0, &recs, SFS_DIR_SCHEMA_AUTO, &err), -ENOENT);
    assert_non_null(strstr(err.message, "not found"));
    assert_int_equal(m.n_entries, 0);
    sfs_map_free(&m);
    sfs_dir_records_free(&recs);
}

static void records_by_hand(void **state)
{
    (void)state;
    struct sfs_dir_records recs = {0};
    struct sfs_map m;
    struct sfs_parse_error err;
    struct sfs_dir_record *r = sfs_dir_records_add(&recs, "nisMapName=auto.x, dc=t");
    assert_int_equal(sfs_dir_record_add_value(r, "objectClass", "nisMap"), 0);
    assert_int_equal(sfs_dir_record_add_value(r, "nisMapName", "auto.x"), 0);
    for (int i = 0; i < 20; i++) {
        char dn[64], key[16];
        snprintf(key, sizeof(key), "k%d", i);
        snprintf(dn, sizeof(dn), "cn=%s,nismapname=AUTO.X,dc=t", key);
        r = sfs_dir_records_add(&recs, dn);
        assert_int_equal(sfs_dir_record_add_value(r, "objectclass", "nisObject"), 0);
        assert_int_equal(sfs_dir_record_add_value(r, "CN", key), 0);
        assert_int_equal(sfs_dir_record_add_value(r, "nisMapEntry", "-fstype=cifs ://fs/&"), 0);
    }
    struct sfs_dir_request req = {.kind = SFS_DIR_MAP, .schema = SFS_DIR_SCHEMA_NIS, .name = "auto.x", .root = "/x"};
    assert_int_equal(sfs_dir_map_load(&recs, &req, &m, &err), 0);
    assert_int_equal(m.n_entries, 20);
    assert_string_equal(find(&m, "/x", "k7")->location, "-fstype=cifs ://fs/&" + 13);
    assert_string_equal(find(&m, "/x", "k7")->url.share, "k7");
    sfs_map_free(&m);
    sfs_dir_records_free(&recs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(od_fstab_seed_records),
        cmocka_unit_test(od_fstab_other_root),
        cmocka_unit_test(od_static_records),
        cmocka_unit_test(od_auto_master),
        cmocka_unit_test(rfc2307bis_master),
        cmocka_unit_test(rfc2307bis_wildcard_lookup),
        cmocka_unit_test(rfc2307bis_direct_alone),
        cmocka_unit_test(same_as_file_map),
        cmocka_unit_test(autofs_schema),
        cmocka_unit_test(nis_active_directory),
        cmocka_unit_test(forced_schema_mismatch),
        cmocka_unit_test(schema_names),
        cmocka_unit_test(error_missing_attribute),
        cmocka_unit_test(error_bad_url),
        cmocka_unit_test(error_duplicate_key),
        cmocka_unit_test(error_unknown_schema),
        cmocka_unit_test(error_cases),
        cmocka_unit_test(warnings_name_dn),
        cmocka_unit_test(ldif_values),
        cmocka_unit_test(ldif_errors),
        cmocka_unit_test(records_by_hand),
        cmocka_unit_test(merge_into_file_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
