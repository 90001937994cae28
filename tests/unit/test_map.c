/* Unit tests for fs/core/map.c: macOS and autofs automount maps. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp, nftw */
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sharesfs/map.h"

#ifndef TEST_DATA
#define TEST_DATA "tests/unit/data"
#endif

#define SECRET "Hunter2Secret"

/* ---- helpers ---- */

static void parse_ok(const char *text, const char *root, struct sfs_map *m)
{
    struct sfs_parse_error err;
    char buf[600];
    int rc = sfs_map_parse_text(text, "test.map", root, m, &err);
    if (rc != 0) {
        sfs_parse_error_format(&err, buf, sizeof(buf));
        fail_msg("map should parse, got %d: %s", rc, buf);
    }
}

static void load_ok(const char *path, const char *root, struct sfs_map *m)
{
    struct sfs_parse_error err;
    char buf[600];
    int rc = sfs_map_load(path, root, m, &err);
    if (rc != 0) {
        sfs_parse_error_format(&err, buf, sizeof(buf));
        fail_msg("%s should load, got %d: %s", path, rc, buf);
    }
}

static void check_error(int rc, const struct sfs_parse_error *err, const struct sfs_map *m, int want_rc,
                        const char *file_suffix, int line, int col, const char *needle)
{
    size_t fl = strlen(err->file), sl = strlen(file_suffix);
    if (rc != want_rc)
        fail_msg("rc %d, want %d (%s:%d:%d: %s)", rc, want_rc, err->file, err->line, err->column, err->message);
    if (fl < sl || strcmp(err->file + fl - sl, file_suffix) != 0)
        fail_msg("error file '%s' does not end in '%s'", err->file, file_suffix);
    if (err->line != line || err->column != col)
        fail_msg("error at %d:%d, want %d:%d (%s)", err->line, err->column, line, col, err->message);
    if (!strstr(err->message, needle))
        fail_msg("message '%s' lacks '%s'", err->message, needle);
    assert_int_equal(m->n_entries, 0);
    assert_null(m->entries);
    assert_int_equal(m->n_warnings, 0);
    assert_null(m->warnings);
}

/* TEXT (as "test.map") must fail at LINE:COL with NEEDLE in the message. */
static void expect_error(const char *text, int line, int col, const char *needle)
{
    struct sfs_map m;
    struct sfs_parse_error err;
    int rc = sfs_map_parse_text(text, "test.map", NULL, &m, &err);
    check_error(rc, &err, &m, -EINVAL, "test.map", line, col, needle);
}

static void expect_load_error(const char *path, int want_rc, const char *file_suffix, int line, int col,
                              const char *needle)
{
    struct sfs_map m;
    struct sfs_parse_error err;
    int rc = sfs_map_load(path, NULL, &m, &err);
    check_error(rc, &err, &m, want_rc, file_suffix, line, col, needle);
}

static const struct sfs_map_entry *find(const struct sfs_map *m, const char *key)
{
    for (size_t i = 0; i < m->n_entries; i++)
        if (strcmp(m->entries[i].key, key) == 0)
            return &m->entries[i];
    fail_msg("no entry '%s'", key);
    return NULL;
}

static const char *find_warning(const struct sfs_map *m, const char *needle)
{
    for (size_t i = 0; i < m->n_warnings; i++)
        if (strstr(m->warnings[i], needle))
            return m->warnings[i];
    return NULL;
}

static void expect_warning(const struct sfs_map *m, const char *exact)
{
    for (size_t i = 0; i < m->n_warnings; i++)
        if (strcmp(m->warnings[i], exact) == 0)
            return;
    for (size_t i = 0; i < m->n_warnings; i++)
        print_message("warning: %s\n", m->warnings[i]);
    fail_msg("no warning '%s'", exact);
}

static bool holds_secret(const char *s)
{
    return s && (strstr(s, "Hunter2") || strstr(s, "Secret"));
}

/* Nothing meant for printing may hold the password. */
static void assert_no_secret(const struct sfs_map *m)
{
    for (size_t i = 0; i < m->n_warnings; i++)
        if (holds_secret(m->warnings[i]))
            fail_msg("warning leaks the password: %s", m->warnings[i]);
    for (size_t i = 0; i < m->n_entries; i++) {
        const struct sfs_map_entry *e = &m->entries[i];
        char *d = e->url_ok ? sfs_url_to_display(&e->url) : NULL;
        if (holds_secret(e->location_display) || holds_secret(d))
            fail_msg("display of '%s' leaks the password", e->key);
        for (char **o = e->opts.other; o && *o; o++)
            if (holds_secret(*o))
                fail_msg("option list of '%s' leaks the password", e->key);
        free(d);
    }
}

/* ---- temporary files ---- */

static char tmpdir[64];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/sfs-test-map-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    return nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes LEN bytes of CONTENT to tmpdir/NAME; returns the path, in a static
 * buffer that the next call overwrites. */
static char *write_file_n(const char *name, const char *content, size_t len)
{
    static char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(content, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

static char *write_file(const char *name, const char *content)
{
    return write_file_n(name, content, strlen(content));
}

/* ---- macOS maps ---- */

static void macos_fstype_url(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("Attic -fstype=url afp://;AUTH=No%20User%20Authent@lion.lab.test/Attic\n", "/Network/Shares", &m);
    assert_int_equal(m.n_entries, 1);
    const struct sfs_map_entry *e = &m.entries[0];
    assert_string_equal(e->key, "Attic");
    assert_string_equal(e->root, "/Network/Shares");
    assert_string_equal(e->mountpoint, "/Network/Shares/Attic");
    assert_int_equal(e->type, SFS_MAP_TYPE_INDIRECT);
    assert_string_equal(e->opts.fstype, "url");
    assert_true(e->url_ok);
    assert_int_equal(e->url.proto, SFS_PROTO_AFP);
    assert_string_equal(e->url.auth, "No User Authent");
    assert_string_equal(e->url.share, "Attic");
    assert_string_equal(e->location, "afp://;AUTH=No%20User%20Authent@lion.lab.test/Attic");
    assert_string_equal(e->location_display, e->location);
    assert_string_equal(e->file, "test.map");
    assert_int_equal(e->line, 1);
    assert_false(e->wildcard);
    assert_int_equal(m.n_warnings, 0);
    sfs_map_free(&m);
}

static void macos_implied_url(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("Multimedia\tafp://;AUTH=Client%20Krb%20v2@lion.lab.test/Multimedia\n"
             "Groups smb://fs-default.lab.test/Groups\n",
             NULL, &m);
    assert_int_equal(m.n_entries, 2);
    assert_null(m.entries[0].opts.fstype);
    assert_string_equal(m.entries[0].url.auth, "Client Krb v2");
    assert_int_equal(m.entries[1].url.proto, SFS_PROTO_SMB);
    /* Without a root the mount point is the key. */
    assert_null(m.entries[0].root);
    assert_string_equal(m.entries[0].mountpoint, "Multimedia");
    sfs_map_free(&m);
}

static void macos_fstype_afp_and_smbfs(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("Archive -fstype=afp,ro afp://labuser@tiger.lab.test:548/Archive\n"
             "User -fstype=smbfs //labuser@fs-default.lab.test/user\n",
             "/Network/Shares/", &m);
    const struct sfs_map_entry *a = find(&m, "Archive"), *u = find(&m, "User");
    assert_string_equal(a->opts.fstype, "afp");
    assert_true(a->opts.ro);
    assert_int_equal(a->url.port, 548);
    assert_string_equal(u->opts.fstype, "smbfs");
    assert_int_equal(u->url.proto, SFS_PROTO_SMB);
    assert_string_equal(u->url.user, "labuser");
    assert_string_equal(u->mountpoint, "/Network/Shares/User");
    sfs_map_free(&m);
}

static void fstype_is_lowercased(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("a -fstype=CIFS ://h/s\n", NULL, &m);
    assert_string_equal(m.entries[0].opts.fstype, "cifs");
    sfs_map_free(&m);
}

static void macos_master_fixture(void **state)
{
    (void)state;
    struct sfs_map m;
    load_ok(TEST_DATA "/macos/auto_master", NULL, &m);
    assert_int_equal(m.n_entries, 7);

    const struct sfs_map_entry *attic = find(&m, "Attic");
    assert_string_equal(attic->root, "/Network/Shares");
    assert_string_equal(attic->mountpoint, "/Network/Shares/Attic");
    assert_true(attic->opts.nobrowse); /* from the master line */
    assert_string_equal(attic->file, TEST_DATA "/macos/auto_shares");
    assert_int_equal(attic->line, 2);

    /* The entry's -browse wins over the master's -nobrowse. */
    assert_false(find(&m, "Groups")->opts.nobrowse);

    const struct sfs_map_entry *scratch = find(&m, "/Volumes/Scratch");
    assert_int_equal(scratch->type, SFS_MAP_TYPE_DIRECT);
    assert_string_equal(scratch->root, "/");
    assert_string_equal(scratch->mountpoint, "/Volumes/Scratch");

    const struct sfs_map_entry *home = find(&m, "*");
    assert_string_equal(home->root, "/home");
    assert_null(home->mountpoint);
    assert_true(home->wildcard);
    assert_false(home->url_ok);

    expect_warning(&m, TEST_DATA "/macos/auto_master:5:8: special map '-hosts' for /net is not supported; skipped");
    assert_int_equal(m.n_warnings, 1);
    /* "+auto_master" and "-fstab" are the directory's: recorded for the engine. */
    assert_int_equal(m.n_dirrefs, 2);
    assert_int_equal(m.dirrefs[0].kind, SFS_DIRREF_MASTER);
    assert_string_equal(m.dirrefs[0].label, "+auto_master");
    assert_string_equal(m.dirrefs[0].name, "auto_master");
    assert_string_equal(m.dirrefs[0].where, TEST_DATA "/macos/auto_master:4");
    assert_null(m.dirrefs[0].uri);
    assert_int_equal(m.dirrefs[1].kind, SFS_DIRREF_FSTAB);
    assert_string_equal(m.dirrefs[1].root, "/Network/Servers");
    assert_string_equal(m.dirrefs[1].label, "-fstab");
    sfs_map_free(&m);
}

static void macos_master_wildcard_lookup(void **state)
{
    (void)state;
    struct sfs_map m;
    struct sfs_map_entry e;
    struct sfs_parse_error err;
    load_ok(TEST_DATA "/macos/auto_master", NULL, &m);
    assert_int_equal(sfs_map_lookup(&m, "/home", "alice", &e, &err), 0);
    assert_string_equal(e.key, "alice");
    assert_string_equal(e.mountpoint, "/home/alice");
    assert_true(e.url_ok);
    assert_string_equal(e.url.host, "homes.lab.test");
    assert_string_equal(e.url.share, "Users");
    assert_string_equal(e.url.path, "alice");
    assert_true(e.opts.nobrowse);
    sfs_map_entry_free(&e);
    sfs_map_free(&m);
}

/* ---- Linux sun format ---- */

static void linux_cifs_options(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("team -fstype=cifs,sec=krb5,credentials=/etc/creds,vers=3.0,username=u,domain=D,ro,uid=1000,"
             "soft ://fs.lab.test/team\n"
             "pub -fstype=cifs,guest,rw //fs.lab.test/public\n",
             "/mnt/shares", &m);
    const struct sfs_map_entry *t = find(&m, "team"), *p = find(&m, "pub");
    assert_string_equal(t->opts.fstype, "cifs");
    assert_string_equal(t->opts.sec, "krb5");
    assert_string_equal(t->opts.credentials, "/etc/creds");
    assert_string_equal(t->opts.vers, "3.0");
    assert_string_equal(t->opts.username, "u");
    assert_string_equal(t->opts.domain, "D");
    assert_true(t->opts.ro);
    assert_false(t->opts.guest);
    assert_false(t->opts.has_password);
    assert_null(t->opts.password);
    assert_non_null(t->opts.other);
    assert_string_equal(t->opts.other[0], "uid=1000");
    assert_string_equal(t->opts.other[1], "soft");
    assert_null(t->opts.other[2]);
    assert_int_equal(t->url.proto, SFS_PROTO_SMB);
    assert_string_equal(t->url.share, "team");
    assert_true(p->opts.guest);
    assert_false(p->opts.ro);
    assert_null(p->opts.other);
    assert_int_equal(m.n_warnings, 0);
    sfs_map_free(&m);
}

static void option_aliases(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("a -fstype=cifs,user=bob,dom=LAB,cred=/c,rdonly ://h/s\n"
             "b -fstype=cifs,workgroup=WG,user ://h/s\n",
             NULL, &m);
    const struct sfs_map_entry *a = find(&m, "a"), *b = find(&m, "b");
    assert_string_equal(a->opts.username, "bob");
    assert_string_equal(a->opts.domain, "LAB");
    assert_string_equal(a->opts.credentials, "/c");
    assert_true(a->opts.ro);
    assert_string_equal(b->opts.domain, "WG");
    assert_null(b->opts.username); /* bare "user" is the fstab flag */
    assert_string_equal(b->opts.other[0], "user");
    sfs_map_free(&m);
}

static void several_option_groups(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("user -fstype=cifs -ro -sec=ntlmssp,vers=2.1 //h/user\n", NULL, &m);
    const struct sfs_map_entry *e = &m.entries[0];
    assert_string_equal(e->opts.fstype, "cifs");
    assert_true(e->opts.ro);
    assert_string_equal(e->opts.sec, "ntlmssp");
    assert_string_equal(e->opts.vers, "2.1");
    sfs_map_free(&m);
}

static void later_option_wins(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("a -ro,fstype=afp -rw,fstype=url afp://h/v\n", NULL, &m);
    assert_false(m.entries[0].opts.ro);
    assert_string_equal(m.entries[0].opts.fstype, "url");
    sfs_map_free(&m);
}

static void linux_master_fixture(void **state)
{
    (void)state;
    struct sfs_map m;
    load_ok(TEST_DATA "/linux/auto.master", NULL, &m);
    assert_int_equal(m.n_entries, 6);
    const struct sfs_map_entry *pub = find(&m, "public");
    assert_string_equal(pub->mountpoint, "/mnt/shares/public");
    assert_true(pub->opts.guest);
    assert_string_equal(pub->opts.vers, "3.0");
    /* --timeout=60 --ghost from the master line are kept. */
    assert_string_equal(pub->opts.other[0], "timeout=60");
    assert_string_equal(pub->opts.other[1], "ghost");

    const struct sfs_map_entry *sec = find(&m, "secure");
    assert_string_equal(sec->opts.sec, "krb5");
    assert_string_equal(sec->url.share, "secure");
    assert_int_equal(sec->line, 3);

    const struct sfs_map_entry *team = find(&m, "team share");
    assert_string_equal(team->mountpoint, "/mnt/shares/team share");
    assert_string_equal(team->url.share, "Team Share");

    const struct sfs_map_entry *user = find(&m, "user");
    assert_true(user->opts.ro);
    assert_string_equal(user->opts.credentials, "/etc/sharesfs/labuser.cred");

    const struct sfs_map_entry *arch = find(&m, "/srv/archive");
    assert_int_equal(arch->type, SFS_MAP_TYPE_DIRECT);
    assert_string_equal(arch->opts.username, "labuser");
    assert_string_equal(arch->opts.domain, "LAB");

    assert_int_equal(m.n_dirrefs, 1);
    assert_int_equal(m.dirrefs[0].kind, SFS_DIRREF_MASTER);
    assert_string_equal(m.dirrefs[0].name, "auto.master");
    assert_non_null(find_warning(&m, "auto.master:5:7: special map '-hosts' for /net"));
    assert_non_null(find_warning(&m, "auto.master:6:7: map source 'program' is not supported; skipped"));
    assert_int_equal(m.n_warnings, 2);
    sfs_map_free(&m);
}

/* ---- wildcards and lookup ---- */

static void wildcard_entry(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("* -fstype=cifs,guest ://fs.lab.test/&\n", "/mnt/s", &m);
    const struct sfs_map_entry *w = &m.entries[0];
    assert_true(w->wildcard);
    assert_false(w->url_ok);
    assert_null(w->mountpoint);
    assert_string_equal(w->root, "/mnt/s");
    assert_string_equal(w->location, "://fs.lab.test/&");
    assert_null(w->url.host);
    sfs_map_free(&m);
}

static void wildcard_without_ampersand(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("* smb://h/common\n", NULL, &m);
    assert_true(m.entries[0].wildcard);
    assert_true(m.entries[0].url_ok);
    assert_string_equal(m.entries[0].url.share, "common");
    sfs_map_free(&m);
}

static void lookup_exact_key(void **state)
{
    (void)state;
    struct sfs_map m;
    struct sfs_map_entry e;
    parse_ok("Attic afp://h/Attic\n* afp://h/&\n", "/Network/Shares", &m);
    assert_int_equal(sfs_map_lookup(&m, "/Network/Shares", "Attic", &e, NULL), 0);
    assert_string_equal(e.key, "Attic");
    assert_string_equal(e.mountpoint, "/Network/Shares/Attic");
    assert_string_equal(e.url.share, "Attic");
    assert_false(e.wildcard);
    sfs_map_entry_free(&e);
    /* NULL root matches any root; trailing slashes do not matter. */
    assert_int_equal(sfs_map_lookup(&m, NULL, "Attic", &e, NULL), 0);
    sfs_map_entry_free(&e);
    assert_int_equal(sfs_map_lookup(&m, "/Network/Shares/", "Attic", &e, NULL), 0);
    sfs_map_entry_free(&e);
    sfs_map_free(&m);
}

static void lookup_wildcard_substitutes(void **state)
{
    (void)state;
    struct sfs_map m;
    struct sfs_map_entry e;
    struct sfs_parse_error err;
    parse_ok("Attic afp://h/Attic\n* -fstype=cifs ://&.lab.test/&\n", "/mnt/s", &m);
    assert_int_equal(sfs_map_lookup(&m, "/mnt/s", "projects", &e, &err), 0);
    assert_string_equal(e.key, "projects");
    assert_string_equal(e.mountpoint, "/mnt/s/projects");
    assert_string_equal(e.location, "://projects.lab.test/projects");
    assert_true(e.url_ok);
    assert_true(e.wildcard);
    assert_string_equal(e.url.host, "projects.lab.test");
    assert_string_equal(e.url.share, "projects");
    assert_string_equal(e.opts.fstype, "cifs");
    sfs_map_entry_free(&e);
    sfs_map_free(&m);
}

static void lookup_wildcard_encodes_key(void **state)
{
    (void)state;
    struct sfs_map m;
    struct sfs_map_entry e;
    parse_ok("* smb://h/&\n", "/mnt/s", &m);
    /* A key can never inject URL structure: it is percent-encoded. */
    assert_int_equal(sfs_map_lookup(&m, NULL, "My Files@x:1", &e, NULL), 0);
    assert_string_equal(e.url.host, "h");
    assert_string_equal(e.url.share, "My Files@x:1");
    assert_null(e.url.path);
    assert_string_equal(e.location, "smb://h/My%20Files%40x%3A1");
    sfs_map_entry_free(&e);
    sfs_map_free(&m);
}

static void lookup_not_found(void **state)
{
    (void)state;
    struct sfs_map m;
    struct sfs_map_entry e;
    parse_ok("Attic afp://h/Attic\n", "/a", &m);
    assert_int_equal(sfs_map_lookup(&m, NULL, "Nope", &e, NULL), -ENOENT);
    assert_int_equal(sfs_map_lookup(&m, "/b", "Attic", &e, NULL), -ENOENT);
    assert_null(e.key);
    sfs_map_free(&m);
    parse_ok("* afp://h/&\n", "/a", &m);
    assert_int_equal(sfs_map_lookup(&m, NULL, "..", &e, NULL), -ENOENT);
    assert_int_equal(sfs_map_lookup(&m, NULL, "a/b", &e, NULL), -ENOENT);
    assert_int_equal(sfs_map_lookup(&m, NULL, "", &e, NULL), -ENOENT);
    assert_int_equal(sfs_map_lookup(&m, NULL, "a\nb", &e, NULL), -ENOENT);
    assert_int_equal(sfs_map_lookup(&m, NULL, NULL, &e, NULL), -EINVAL);
    sfs_map_free(&m);
}

static void lookup_wildcard_bad_url(void **state)
{
    (void)state;
    struct sfs_map m;
    struct sfs_map_entry e;
    struct sfs_parse_error err;
    parse_ok("\n* afp://h:&/v\n", NULL, &m);
    assert_int_equal(sfs_map_lookup(&m, NULL, "notaport", &e, &err), -EINVAL);
    assert_string_equal(err.file, "test.map");
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.message, "key 'notaport': invalid URL: invalid port"));
    assert_null(e.key);
    assert_int_equal(sfs_map_lookup(&m, NULL, "10548", &e, &err), 0);
    assert_int_equal(e.url.port, 10548);
    sfs_map_entry_free(&e);
    sfs_map_free(&m);
}

static void ampersand_in_plain_entry(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("projects ://fs.lab.test/&\n", NULL, &m);
    assert_true(m.entries[0].url_ok);
    assert_string_equal(m.entries[0].url.share, "projects");
    assert_string_equal(m.entries[0].location, "://fs.lab.test/&");
    sfs_map_free(&m);
}

/* ---- lexical rules ---- */

static void continuation_lines(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("secure -fstype=cifs,sec=krb5 \\\n"
             "       ://fs.lab.test/secure\n"
             "next \\\n"
             "  -ro \\\n"
             "  afp://h/v\n",
             NULL, &m);
    assert_int_equal(m.n_entries, 2);
    assert_int_equal(find(&m, "secure")->line, 1);
    assert_string_equal(find(&m, "secure")->url.share, "secure");
    assert_int_equal(find(&m, "next")->line, 3);
    assert_true(find(&m, "next")->opts.ro);
    sfs_map_free(&m);
}

static void continuation_error_column(void **state)
{
    (void)state;
    /* The bad port is on the second physical line, column 18. */
    expect_error("k -fstype=url \\\n  afp://lion.lab:99999/v\n", 2, 18, "invalid URL: invalid port '99999'");
}

static void comments(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("# a comment\n"
             "   # indented comment \\\n"
             "a afp://h/a # trailing comment\n"
             "\"b#1\" afp://h/b\n"
             "c#2 afp://h/c\t#tab comment\n",
             NULL, &m);
    assert_int_equal(m.n_entries, 3);
    assert_string_equal(find(&m, "a")->url.share, "a");
    /* '#' inside quotes or inside a token is not a comment. */
    assert_string_equal(find(&m, "b#1")->url.share, "b");
    assert_string_equal(find(&m, "c#2")->url.share, "c");
    assert_int_equal(find(&m, "c#2")->line, 5);
    sfs_map_free(&m);
}

static void hash_inside_url_is_an_error(void **state)
{
    (void)state;
    /* No whitespace before '#': part of the location, refused by the URL parser. */
    expect_error("a afp://h/v#c\n", 1, 12, "'#' in share name must be written %23");
}

static void crlf_lines(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("a afp://h/a\r\nb -ro \\\r\n  afp://h/b\r\n\r\n", NULL, &m);
    assert_int_equal(m.n_entries, 2);
    assert_string_equal(find(&m, "a")->url.share, "a");
    assert_string_equal(find(&m, "b")->url.share, "b");
    assert_true(find(&m, "b")->opts.ro);
    sfs_map_free(&m);
}

static void blank_lines_and_whitespace(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("\n\n   \t\n  a\t\t-ro   afp://h/a   \t\n\n b afp://h/b", NULL, &m);
    assert_int_equal(m.n_entries, 2);
    assert_int_equal(find(&m, "a")->line, 4);
    assert_int_equal(find(&m, "b")->line, 6);
    sfs_map_free(&m);
}

static void empty_map(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("# nothing here\n\n", NULL, &m);
    assert_int_equal(m.n_entries, 0);
    assert_int_equal(m.n_warnings, 0);
    sfs_map_free(&m);
    parse_ok("", NULL, &m);
    assert_int_equal(m.n_entries, 0);
    sfs_map_free(&m);
}

static void quoted_location_and_key(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("\"Team Share\" -fstype=cifs \"://fs.lab.test/Team Share\"\n"
             "esc smb://h/a\\ b\n"
             "q \"smb://h/say \\\"hi\\\"\"\n",
             "/mnt", &m);
    const struct sfs_map_entry *t = find(&m, "Team Share");
    assert_string_equal(t->mountpoint, "/mnt/Team Share");
    assert_string_equal(t->location, "://fs.lab.test/Team Share");
    assert_string_equal(t->url.share, "Team Share");
    assert_string_equal(find(&m, "esc")->url.share, "a b");
    assert_string_equal(find(&m, "q")->url.share, "say \"hi\"");
    sfs_map_free(&m);
}

static void duplicate_key_first_wins(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("Attic afp://first/Attic\n"
             "Other afp://h/o\n"
             "  Attic afp://second/Attic\n",
             "/N", &m);
    assert_int_equal(m.n_entries, 2);
    assert_string_equal(find(&m, "Attic")->url.host, "first");
    expect_warning(&m, "test.map:3:3: duplicate key 'Attic' ignored (first defined at test.map:1)");
    sfs_map_free(&m);
}

/* ---- passwords ---- */

static void password_in_url(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("Attic afp://labuser;AUTH=DHX2:" SECRET "@lion.lab.test/Attic\n", "/N", &m);
    const struct sfs_map_entry *e = &m.entries[0];
    assert_string_equal(e->url.password, SECRET);
    assert_string_equal(e->location_display, "afp://labuser;AUTH=DHX2@lion.lab.test/Attic");
    assert_int_equal(m.n_warnings, 1);
    /* Column 31 is the first byte of the password. */
    assert_string_equal(m.warnings[0], "test.map:1:31: password stored in map; prefer a credentials file");
    assert_no_secret(&m);
    sfs_map_free(&m);
}

static void password_option(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("a -fstype=cifs,username=u,password=" SECRET " ://h/s\n"
             "b -fstype=cifs,pass= ://h/s\n",
             NULL, &m);
    const struct sfs_map_entry *a = find(&m, "a"), *b = find(&m, "b");
    assert_true(a->opts.has_password);
    assert_string_equal(a->opts.password, SECRET);
    assert_null(a->opts.other);
    assert_true(b->opts.has_password);
    assert_string_equal(b->opts.password, "");
    expect_warning(&m, "test.map:1:27: password stored in map; prefer a credentials file");
    expect_warning(&m, "test.map:2:16: password stored in map; prefer a credentials file");
    assert_no_secret(&m);
    sfs_map_free(&m);
}

static void password_wildcard_display(void **state)
{
    (void)state;
    struct sfs_map m;
    struct sfs_map_entry e;
    parse_ok("* smb://u:" SECRET "@h/&\n", NULL, &m);
    assert_string_equal(m.entries[0].location_display, "smb://u@h/&");
    assert_non_null(find_warning(&m, "password stored in map"));
    assert_no_secret(&m);
    assert_int_equal(sfs_map_lookup(&m, NULL, "x", &e, NULL), 0);
    assert_string_equal(e.url.password, SECRET);
    assert_string_equal(e.location_display, "smb://u@h/x");
    sfs_map_entry_free(&e);
    sfs_map_free(&m);
}

static void password_never_in_errors(void **state)
{
    (void)state;
    static const char *const maps[] = {
        "a afp://u:" SECRET "@h:99999/v\n",
        "a afp://u:" SECRET "%zz@h/v\n",
        "a smb://u:Hunter2/Secret@h/s\n",
        "a -fstype=afp smb://u:" SECRET "@h/s\n",
        "a -fstype=cifs,password=" SECRET ",fstype= ://h/s\n",
        "a -fstype=cifs,password=" SECRET ",bogus=1 ://h/s extra\n",
        "a -password=" SECRET "\n",
        "a \"smb://u:" SECRET "@h/s\n",
        "a smb://u:" SECRET "@h/s/../x\n",
        NULL,
    };
    for (const char *const *t = maps; *t; t++) {
        struct sfs_map m;
        struct sfs_parse_error err;
        char buf[600];
        assert_true(sfs_map_parse_text(*t, "test.map", NULL, &m, &err) < 0);
        sfs_parse_error_format(&err, buf, sizeof(buf));
        if (holds_secret(buf))
            fail_msg("'%s' leaks the password: %s", *t, buf);
    }
}

static void unknown_option_warning_has_no_value(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("a -fstype=cifs,bogus=" SECRET ",noatime ://h/s\n", NULL, &m);
    expect_warning(&m, "test.map:1:16: unknown option 'bogus' (kept)");
    assert_int_equal(m.n_warnings, 1);
    assert_string_equal(m.entries[0].opts.other[1], "noatime");
    sfs_map_free(&m);
}

static void password_like_option_not_kept(void **state)
{
    (void)state;
    struct sfs_map m;
    /* mount.cifs' password2= is a password too: warned about, not kept in `other`. */
    parse_ok("a -fstype=cifs,password2=" SECRET ",uid=1,PWD=" SECRET " ://h/s\n", NULL, &m);
    expect_warning(&m, "test.map:1:16: password stored in map; prefer a credentials file");
    expect_warning(&m, "test.map:1:46: password stored in map; prefer a credentials file");
    assert_int_equal(m.n_warnings, 2);
    assert_string_equal(m.entries[0].opts.other[0], "uid=1");
    assert_null(m.entries[0].opts.other[1]);
    assert_false(m.entries[0].opts.has_password);
    assert_no_secret(&m);
    sfs_map_free(&m);
}

static void unknown_sec_and_vers_warn(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("a -fstype=cifs,sec=kerberos,vers=4.0 ://h/s\n", NULL, &m);
    assert_non_null(find_warning(&m, "test.map:1:20: unknown sec 'kerberos'"));
    assert_non_null(find_warning(&m, "test.map:1:34: unknown vers '4.0'"));
    assert_string_equal(m.entries[0].opts.sec, "kerberos");
    sfs_map_free(&m);
}

/* ---- direct maps and mount points ---- */

static void direct_map(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("/Volumes/Archive -fstype=url smb://h/archive\n"
             "/srv//data/ ://h/data\n",
             NULL, &m);
    const struct sfs_map_entry *a = find(&m, "/Volumes/Archive"), *d = find(&m, "/srv/data");
    assert_int_equal(a->type, SFS_MAP_TYPE_DIRECT);
    assert_string_equal(a->root, "/");
    assert_string_equal(a->mountpoint, "/Volumes/Archive");
    assert_string_equal(d->mountpoint, "/srv/data");
    sfs_map_free(&m);
}

static void mountpoint_join(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("a afp://h/a\n", "/Network/Shares//", &m);
    assert_string_equal(m.entries[0].mountpoint, "/Network/Shares/a");
    assert_string_equal(m.entries[0].root, "/Network/Shares");
    sfs_map_free(&m);
    parse_ok("a afp://h/a\n", "/", &m);
    assert_string_equal(m.entries[0].mountpoint, "/a");
    sfs_map_free(&m);
}

/* ---- master maps and includes (temporary files) ---- */

static void master_options_inherited(void **state)
{
    (void)state;
    struct sfs_map m;
    write_file("inh_shares", "a -rw,fstype=url afp://h/a\nb afp://h/b\n");
    char *master = write_file("inh_master", "/Network/Shares inh_shares -nobrowse,ro,fstype=afp\n");
    load_ok(master, NULL, &m);
    const struct sfs_map_entry *a = find(&m, "a"), *b = find(&m, "b");
    assert_true(a->opts.nobrowse);
    assert_false(a->opts.ro);
    assert_string_equal(a->opts.fstype, "url");
    assert_true(b->opts.ro);
    assert_string_equal(b->opts.fstype, "afp");
    assert_string_equal(b->mountpoint, "/Network/Shares/b");
    sfs_map_free(&m);
}

static void master_absolute_map_path(void **state)
{
    (void)state;
    struct sfs_map m;
    char line[128];
    write_file("abs_shares", "x smb://h/x\n");
    snprintf(line, sizeof(line), "/mnt/abs %s/abs_shares\n", tmpdir);
    char *master = write_file("abs_master", line);
    load_ok(master, NULL, &m);
    assert_string_equal(m.entries[0].mountpoint, "/mnt/abs/x");
    sfs_map_free(&m);
}

static void master_duplicate_mountpoint(void **state)
{
    (void)state;
    struct sfs_map m;
    write_file("dup_one", "x smb://h/one\n");
    write_file("dup_two", "x smb://h/two\n");
    char *master = write_file("dup_master", "/mnt/d dup_one\n/mnt/d/ dup_two\n");
    load_ok(master, NULL, &m);
    assert_int_equal(m.n_entries, 1);
    assert_string_equal(m.entries[0].url.share, "one");
    assert_non_null(find_warning(&m, "dup_master:2:1: duplicate mount point '/mnt/d' ignored (first defined at"));
    sfs_map_free(&m);
}

static void master_map_not_found(void **state)
{
    (void)state;
    char *master = write_file("nf_master", "# master\n/mnt/x   no_such_map -nobrowse\n");
    expect_load_error(master, -ENOENT, "nf_master", 2, 10, "map 'no_such_map' not found");
}

static void master_missing_map_name(void **state)
{
    (void)state;
    write_file("mm_direct", "/srv/x smb://h/x\n");
    char *master = write_file("mm_master", "/- mm_direct\n/mnt/x\n");
    expect_load_error(master, -EINVAL, "mm_master", 2, 7, "missing map name for mount point '/mnt/x'");
    master = write_file("mm_master2", "/- mm_direct\n/mnt/x -nobrowse\n");
    expect_load_error(master, -EINVAL, "mm_master2", 2, 8, "options come after the map name");
}

static void master_bad_line(void **state)
{
    (void)state;
    write_file("bl_map", "k smb://h/k\n");
    char *master = write_file("bl_master", "/mnt/x bl_map\nkey smb://h/s\n");
    expect_load_error(master, -EINVAL, "bl_master", 2, 1, "master map line must start with a mount point");
    master = write_file("bl_master2", "/mnt/y bl_map -nobrowse stray\n");
    expect_load_error(master, -EINVAL, "bl_master2", 1, 25, "options start with '-'");
}

static void includes_fixture(void **state)
{
    (void)state;
    struct sfs_map m;
    load_ok(TEST_DATA "/includes/top.map", "/r", &m);
    assert_int_equal(m.n_entries, 3);
    assert_string_equal(m.entries[0].key, "first");
    assert_string_equal(m.entries[1].key, "second");
    assert_string_equal(m.entries[2].key, "last");
    assert_string_equal(m.entries[1].file, TEST_DATA "/includes/sub/second.map");
    assert_string_equal(m.entries[1].mountpoint, "/r/second");
    assert_string_equal(find(&m, "first")->url.share, "first");
    assert_non_null(find_warning(&m, "second.map:3:1: duplicate key 'first' ignored (first defined at "));
    sfs_map_free(&m);
}

static void include_loop(void **state)
{
    (void)state;
    struct sfs_map m;
    struct sfs_parse_error err;
    int rc = sfs_map_load(TEST_DATA "/includes/loop_a.map", NULL, &m, &err);
    check_error(rc, &err, &m, -ELOOP, "loop_b.map", 2, 1, "include loop: ");
    assert_non_null(strstr(err.message, "loop_a.map -> loop_b.map -> loop_a.map"));
}

static void include_not_found(void **state)
{
    (void)state;
    expect_load_error(TEST_DATA "/includes/missing.map", -ENOENT, "missing.map", 2, 3,
                      "include 'does_not_exist.map' not found");
}

static void include_depth_limit(void **state)
{
    (void)state;
    char name[32], content[64], path[128];
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "deep%d", i);
        snprintf(content, sizeof(content), "k%d smb://h/s\n+deep%d\n", i, i + 1);
        write_file(name, content);
    }
    write_file("deep20", "end smb://h/end\n");
    snprintf(path, sizeof(path), "%s/deep0", tmpdir);
    expect_load_error(path, -ELOOP, "deep15", 2, 1, "includes nested more than 16 levels deep");
}

static void include_self_in_text(void **state)
{
    (void)state;
    struct sfs_map m;
    struct sfs_parse_error err;
    assert_int_equal(sfs_map_parse_text("+auto.shares\na smb://h/a\n", "/etc/auto.shares", NULL, &m, &err), 0);
    assert_int_equal(m.n_entries, 1);
    assert_int_equal(m.n_warnings, 0);
    assert_int_equal(m.n_dirrefs, 1);
    assert_int_equal(m.dirrefs[0].kind, SFS_DIRREF_MAP);
    assert_string_equal(m.dirrefs[0].name, "auto.shares");
    assert_string_equal(m.dirrefs[0].where, "/etc/auto.shares:1");
    sfs_map_free(&m);
}

static void include_from_text_absolute(void **state)
{
    (void)state;
    struct sfs_map m;
    char text[256];
    write_file("inc_abs", "inc smb://h/inc\n");
    snprintf(text, sizeof(text), "a smb://h/a\n+%s/inc_abs\n+file:%s/inc_abs\n", tmpdir, tmpdir);
    parse_ok(text, "/r", &m);
    assert_int_equal(m.n_entries, 2);
    assert_string_equal(find(&m, "inc")->mountpoint, "/r/inc");
    assert_non_null(find_warning(&m, "duplicate key 'inc'"));
    sfs_map_free(&m);
}

static void include_unsupported_source(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("+ldap:ou=auto.shares,dc=lab\na smb://h/a\n+yp:auto.x\n", NULL, &m);
    expect_warning(&m, "test.map:3:2: map source 'yp' is not supported; skipped");
    assert_int_equal(m.n_dirrefs, 1);
    assert_int_equal(m.dirrefs[0].kind, SFS_DIRREF_MAP);
    assert_string_equal(m.dirrefs[0].base, "ou=auto.shares,dc=lab");
    assert_string_equal(m.dirrefs[0].name, "ou=auto.shares,dc=lab");
    sfs_map_free(&m);
}

/* An auto_master of nothing but "+auto_master" names the directory's master. */
static void include_master_alone(void **state)
{
    (void)state;
    struct sfs_map m;
    struct sfs_parse_error err;
    assert_int_equal(sfs_map_parse_text("# macOS\n+auto_master\n", "/etc/auto_master", "/Network/Shares", &m, &err), 0);
    assert_int_equal(m.n_dirrefs, 1);
    assert_int_equal(m.dirrefs[0].kind, SFS_DIRREF_MASTER);
    assert_null(m.dirrefs[0].root);
    sfs_map_free(&m);
    /* In a map of entries, "+auto_shares" stays that map's. */
    assert_int_equal(sfs_map_parse_text("+auto_shares\n", "/etc/auto_shares", "/Network/Shares", &m, &err), 0);
    assert_int_equal(m.dirrefs[0].kind, SFS_DIRREF_MAP);
    assert_string_equal(m.dirrefs[0].root, "/Network/Shares");
    sfs_map_free(&m);
}

/* The LDAP forms autofs and macOS write, and what each becomes. */
static void ldap_sources(void **state)
{
    (void)state;
    struct sfs_map m;
    parse_ok("/mnt/a ldap:automountMapName=auto.a,dc=lab,dc=test -ro\n"
             "/mnt/b ldap://ldap.lab.test:3389/automountMapName=auto.b,dc=lab%2Cx\n"
             "/mnt/c ldaps:ldap.lab.test:ou=auto.c,dc=lab\n"
             "/Network/Servers -fstab -nobrowse\n"
             "/- -static\n"
             "+ldap:automountMapName=auto_master,dc=lab,dc=test\n",
             NULL, &m);
    assert_int_equal(m.n_entries, 0);
    assert_int_equal(m.n_dirrefs, 6);
    const struct sfs_map_dirref *r = m.dirrefs;
    assert_int_equal(r[0].kind, SFS_DIRREF_MAP);
    assert_null(r[0].uri);
    assert_string_equal(r[0].base, "automountMapName=auto.a,dc=lab,dc=test");
    assert_string_equal(r[0].root, "/mnt/a");
    assert_string_equal(r[0].options, "-ro");
    assert_string_equal(r[0].where, "test.map:1");
    assert_string_equal(r[1].uri, "ldap://ldap.lab.test:3389");
    assert_string_equal(r[1].base, "automountMapName=auto.b,dc=lab,x");
    assert_null(r[1].options);
    assert_string_equal(r[2].uri, "ldaps://ldap.lab.test");
    assert_string_equal(r[2].base, "ou=auto.c,dc=lab");
    assert_int_equal(r[3].kind, SFS_DIRREF_FSTAB);
    assert_string_equal(r[3].root, "/Network/Servers");
    assert_string_equal(r[3].options, "-nobrowse");
    assert_int_equal(r[4].kind, SFS_DIRREF_STATIC);
    assert_string_equal(r[4].root, "/");
    assert_int_equal(r[5].kind, SFS_DIRREF_MASTER);
    assert_string_equal(r[5].name, "automountMapName=auto_master,dc=lab,dc=test");
    sfs_map_free(&m);

    /* The map argument itself. */
    struct sfs_parse_error err;
    assert_int_equal(sfs_map_load("ldap://ldap.lab.test/ou=automount,dc=lab,dc=test", "/mnt", &m, &err), 0);
    assert_int_equal(m.n_dirrefs, 1);
    assert_int_equal(m.dirrefs[0].kind, SFS_DIRREF_TOP);
    assert_string_equal(m.dirrefs[0].uri, "ldap://ldap.lab.test");
    assert_string_equal(m.dirrefs[0].base, "ou=automount,dc=lab,dc=test");
    assert_string_equal(m.dirrefs[0].root, "/mnt");
    sfs_map_free(&m);

    /* Bad forms are errors naming the line. */
    assert_int_equal(sfs_map_parse_text("/mnt ldap://bad host/dc=x\n", "t", NULL, &m, &err), -EINVAL);
    assert_int_equal(sfs_map_parse_text("/mnt ldap:nodn\n", "t", NULL, &m, &err), -EINVAL);
    assert_non_null(strstr(err.message, "no DN"));
    assert_int_equal(sfs_map_parse_text("/mnt ldap://h/dc=x??sub\n", "t", NULL, &m, &err), -EINVAL);
    assert_int_equal(sfs_map_parse_text("/mnt -static\n", "t", NULL, &m, &err), -EINVAL);
    assert_int_equal(sfs_map_load("ldap://h", NULL, &m, &err), -EINVAL);
    assert_non_null(strstr(err.message, "no DN"));
}

static void include_file_limit(void **state)
{
    (void)state;
    /* The same small file included 300 times: no loop, but bounded work.  The
     * map itself is file 1, so the include on line 256 is file 257. */
    size_t n = 300 * strlen("+lim.inc\n") + 1;
    char *text = malloc(n);
    assert_non_null(text);
    text[0] = '\0';
    for (int i = 0; i < 300; i++)
        strcat(text, "+lim.inc\n");
    write_file("lim.inc", "# nothing\n");
    char *path = write_file("lim.map", text);
    free(text);
    expect_load_error(path, -E2BIG, "lim.map", 256, 1, "more than 256 map files read");
}

static void include_directory(void **state)
{
    (void)state;
    char dir[128];
    snprintf(dir, sizeof(dir), "%s/adir", tmpdir);
    assert_int_equal(mkdir(dir, 0700), 0);
    char *path = write_file("incdir.map", "a smb://h/a\n\t+adir\n");
    expect_load_error(path, -EISDIR, "incdir.map", 2, 2, "cannot read include 'adir' (");
    expect_load_error(path, -EISDIR, "incdir.map", 2, 2, "): Is a directory");
}

static void master_empty_source_name(void **state)
{
    (void)state;
    char *master = write_file("src_master", "/mnt/x file:\n");
    expect_load_error(master, -EINVAL, "src_master", 1, 8, "missing map name after the map source");
}

static void master_password_option(void **state)
{
    (void)state;
    struct sfs_map m;
    write_file("pw_shares", "a ://h/a\nb ://h/b\n");
    char *master = write_file("pw_master", "/mnt/pw pw_shares -fstype=cifs,password=" SECRET "\n");
    load_ok(master, NULL, &m);
    /* Inherited by both entries, warned about once, at the master line. */
    assert_string_equal(find(&m, "a")->opts.password, SECRET);
    assert_true(find(&m, "b")->opts.has_password);
    assert_int_equal(m.n_warnings, 1);
    assert_non_null(find_warning(&m, "pw_master:1:32: password stored in map"));
    assert_no_secret(&m);
    sfs_map_free(&m);
}

static void err_include_syntax(void **state)
{
    (void)state;
    expect_error("a smb://h/a\n+\n", 2, 1, "include '+' without a map name");
    expect_error("+other.map trailing\n", 1, 12, "unexpected text after include '+other.map'");
}

/* ---- file errors ---- */

static void err_file_missing(void **state)
{
    (void)state;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/does-not-exist", tmpdir);
    expect_load_error(path, -ENOENT, "does-not-exist", 0, 0, "cannot read map file: No such file or directory");
}

static void err_file_is_directory(void **state)
{
    (void)state;
    expect_load_error(tmpdir, -EISDIR, tmpdir + 1, 0, 0, "cannot read map file: Is a directory");
}

static void err_file_not_regular(void **state)
{
    (void)state;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/fifo", tmpdir);
    assert_int_equal(mkfifo(path, 0600), 0);
    /* Must not block waiting for a writer. */
    expect_load_error(path, -EINVAL, "fifo", 0, 0, "not a regular file");
}

static void err_nul_byte(void **state)
{
    (void)state;
    char *path = write_file_n("nul.map", "a smb://h/a\nbb smb://h\0/b\n", 26);
    expect_load_error(path, -EINVAL, "nul.map", 2, 11, "NUL byte in file");
}

static void err_file_too_large(void **state)
{
    (void)state;
    size_t n = (4u << 20) + 10;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, '#', n);
    char *path = write_file_n("big.map", big, n);
    free(big);
    expect_load_error(path, -EFBIG, "big.map", 0, 0, "File too large");
}

static void err_line_too_long(void **state)
{
    (void)state;
    size_t n = 70000;
    char *text = malloc(n + 32);
    assert_non_null(text);
    strcpy(text, "ok smb://h/s\nk smb://h/");
    size_t used = strlen(text);
    memset(text + used, 'a', n);
    text[used + n] = '\0';
    expect_error(text, 2, 65537, "line too long (more than 65536 bytes)");
    free(text);
}

/* ---- entry errors: one per message, with line and column ---- */

static void err_continued_line_too_long(void **state)
{
    (void)state;
    size_t n = 40000;
    char *text = malloc(2 * n + 32);
    assert_non_null(text);
    strcpy(text, "k \\\n");
    size_t used = strlen(text);
    memset(text + used, 'a', n);
    strcpy(text + used + n, "\\\n");
    used = strlen(text);
    memset(text + used, 'b', n);
    text[used + n] = '\0';
    expect_error(text, 3, 1, "line too long (continued lines exceed 65536 bytes)");
    free(text);
}

static void err_missing_location(void **state)
{
    (void)state;
    expect_error("ok smb://h/s\nAttic\n", 2, 6, "missing location for key 'Attic'");
    expect_error("Attic -fstype=url  \n", 1, 18, "missing location for key 'Attic'");
}

static void err_empty_location(void **state)
{
    (void)state;
    expect_error("Attic \"\"\n", 1, 7, "empty location for key 'Attic'");
}

static void err_empty_fstype(void **state)
{
    (void)state;
    expect_error("Attic -fstype= afp://h/v\n", 1, 15, "empty value in 'fstype='");
}

static void err_unknown_fstype(void **state)
{
    (void)state;
    expect_error("data -fstype=nfs,ro server:/export\n", 1, 14, "unknown fstype 'nfs'");
}

static void err_bad_url_column(void **state)
{
    (void)state;
    expect_error("Attic  -fstype=url  afp://lion.lab.test:99999/Attic\n", 1, 41, "invalid URL: invalid port '99999'");
    expect_error("a \"afp://h/My Vol/%zz\"\n", 1, 19, "invalid URL: bad percent-escape '%zz'");
    /* An escaped byte is reported where it stands, after its backslash. */
    expect_error("a \\h\\t\\t\\p://h/v\n", 1, 4, "invalid URL: unsupported scheme 'http'");
    expect_error("a http://h/v\n", 1, 3, "invalid URL: unsupported scheme 'http'");
}

static void err_bad_url_after_ampersand(void **state)
{
    (void)state;
    /* Column maps back through the key substituted for '&'. */
    expect_error("longkey smb://&:x/s\n", 1, 17, "invalid URL: invalid port 'x'");
    expect_error("* smb://&:x/s\n", 1, 11, "invalid URL: invalid port 'x'");
}

static void err_unterminated_quote(void **state)
{
    (void)state;
    expect_error("ok smb://h/s\nAttic -ro \"afp://h/Attic\n", 2, 11, "unterminated quote");
}

static void err_empty_key(void **state)
{
    (void)state;
    expect_error("  \"\" afp://h/v\n", 1, 3, "empty key");
}

static void err_key_with_slash(void **state)
{
    (void)state;
    expect_error("Attic afp://h/a\nsub/dir afp://h/v\n", 2, 4, "key 'sub/dir' contains '/'");
    expect_error("..  afp://h/v\n", 1, 1, "key '..' is not allowed");
}

static void err_direct_key(void **state)
{
    (void)state;
    expect_error("/Volumes/A smb://h/a\nB smb://h/b\n", 2, 1, "key 'B' in a direct map must be an absolute path");
    expect_error("/Volumes/../etc smb://h/a\n", 1, 10, "'.' and '..' are not allowed in key");
    expect_error("/ smb://h/a\n", 1, 1, "key '/' is not allowed in a direct map");
}

static void err_option_syntax(void **state)
{
    (void)state;
    expect_error("a - smb://h/s\n", 1, 3, "empty option list after '-'");
    expect_error("a -ro,,rw smb://h/s\n", 1, 7, "empty option in option list");
    expect_error("a -ro, smb://h/s\n", 1, 6, "empty option in option list (trailing ',')");
    expect_error("a -ro,=x smb://h/s\n", 1, 7, "option without a name");
    expect_error("a -ro=yes smb://h/s\n", 1, 4, "option 'ro' takes no value");
    expect_error("a -fstype=cifs,sec ://h/s\n", 1, 16, "option 'sec' needs a value");
    expect_error("a -fstype=cifs,credentials= ://h/s\n", 1, 28, "empty value in 'credentials='");
}

static void err_fstype_mismatch(void **state)
{
    (void)state;
    expect_error("a -fstype=afp smb://h/s\n", 1, 15, "fstype 'afp' needs an afp:// location");
    expect_error("a -fstype=cifs afp://h/v\n", 1, 16, "fstype 'cifs' needs an SMB location");
    expect_error("a -fstype=smbfs afp://h/v\n", 1, 17, "fstype 'smbfs' needs an SMB location");
}

static void err_text_after_location(void **state)
{
    (void)state;
    expect_error("a smb://h/s /sub smb://h/t\n", 1, 13, "unexpected text after the location");
}

static void err_control_character(void **state)
{
    (void)state;
    expect_error("a smb://h/s\x01x\n", 1, 12, "control character (0x01)");
    expect_error("a\rb smb://h/s\n", 1, 2, "control character (0x0D)");
}

/* ---- API odds and ends ---- */

static void entry_copy_and_free(void **state)
{
    (void)state;
    struct sfs_map m;
    struct sfs_map_entry c;
    parse_ok("a -fstype=cifs,uid=1,password=" SECRET " //u:" SECRET "@h/s/p\n", "/r", &m);
    assert_int_equal(sfs_map_entry_copy(&c, &m.entries[0]), 0);
    sfs_map_free(&m);
    assert_string_equal(c.key, "a");
    assert_string_equal(c.root, "/r");
    assert_string_equal(c.mountpoint, "/r/a");
    assert_string_equal(c.location_display, "//u@h/s/p");
    assert_string_equal(c.url.path, "p");
    assert_string_equal(c.opts.password, SECRET);
    assert_string_equal(c.opts.other[0], "uid=1");
    assert_string_equal(c.file, "test.map");
    sfs_map_entry_free(&c);
    sfs_map_entry_free(&c);
    sfs_map_entry_free(NULL);
    sfs_map_free(NULL);
    assert_int_equal(sfs_map_entry_copy(&c, NULL), -EINVAL);
}

static void parse_text_defaults(void **state)
{
    (void)state;
    struct sfs_map m;
    struct sfs_parse_error err;
    assert_int_equal(sfs_map_parse_text("a\n", NULL, NULL, &m, &err), -EINVAL);
    assert_string_equal(err.file, "<text>");
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, 2);
    assert_int_equal(sfs_map_parse_text(NULL, "x", NULL, &m, &err), -EINVAL);
    assert_int_equal(sfs_map_parse_text("a smb://h/s", "x", NULL, &m, NULL), 0);
    assert_int_equal(m.n_entries, 1);
    sfs_map_free(&m);
    assert_int_equal(sfs_map_load(NULL, NULL, &m, &err), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(macos_fstype_url),
        cmocka_unit_test(macos_implied_url),
        cmocka_unit_test(macos_fstype_afp_and_smbfs),
        cmocka_unit_test(fstype_is_lowercased),
        cmocka_unit_test(macos_master_fixture),
        cmocka_unit_test(macos_master_wildcard_lookup),
        cmocka_unit_test(linux_cifs_options),
        cmocka_unit_test(option_aliases),
        cmocka_unit_test(several_option_groups),
        cmocka_unit_test(later_option_wins),
        cmocka_unit_test(linux_master_fixture),
        cmocka_unit_test(wildcard_entry),
        cmocka_unit_test(wildcard_without_ampersand),
        cmocka_unit_test(lookup_exact_key),
        cmocka_unit_test(lookup_wildcard_substitutes),
        cmocka_unit_test(lookup_wildcard_encodes_key),
        cmocka_unit_test(lookup_not_found),
        cmocka_unit_test(lookup_wildcard_bad_url),
        cmocka_unit_test(ampersand_in_plain_entry),
        cmocka_unit_test(continuation_lines),
        cmocka_unit_test(continuation_error_column),
        cmocka_unit_test(comments),
        cmocka_unit_test(hash_inside_url_is_an_error),
        cmocka_unit_test(crlf_lines),
        cmocka_unit_test(blank_lines_and_whitespace),
        cmocka_unit_test(empty_map),
        cmocka_unit_test(quoted_location_and_key),
        cmocka_unit_test(duplicate_key_first_wins),
        cmocka_unit_test(password_in_url),
        cmocka_unit_test(password_option),
        cmocka_unit_test(password_wildcard_display),
        cmocka_unit_test(password_never_in_errors),
        cmocka_unit_test(unknown_option_warning_has_no_value),
        cmocka_unit_test(password_like_option_not_kept),
        cmocka_unit_test(unknown_sec_and_vers_warn),
        cmocka_unit_test(direct_map),
        cmocka_unit_test(mountpoint_join),
        cmocka_unit_test(master_options_inherited),
        cmocka_unit_test(master_absolute_map_path),
        cmocka_unit_test(master_duplicate_mountpoint),
        cmocka_unit_test(master_map_not_found),
        cmocka_unit_test(master_missing_map_name),
        cmocka_unit_test(master_bad_line),
        cmocka_unit_test(includes_fixture),
        cmocka_unit_test(include_loop),
        cmocka_unit_test(include_not_found),
        cmocka_unit_test(include_depth_limit),
        cmocka_unit_test(include_self_in_text),
        cmocka_unit_test(include_from_text_absolute),
        cmocka_unit_test(include_unsupported_source),
        cmocka_unit_test(ldap_sources),
        cmocka_unit_test(include_master_alone),
        cmocka_unit_test(include_file_limit),
        cmocka_unit_test(include_directory),
        cmocka_unit_test(master_empty_source_name),
        cmocka_unit_test(master_password_option),
        cmocka_unit_test(err_include_syntax),
        cmocka_unit_test(err_file_missing),
        cmocka_unit_test(err_file_is_directory),
        cmocka_unit_test(err_file_not_regular),
        cmocka_unit_test(err_nul_byte),
        cmocka_unit_test(err_file_too_large),
        cmocka_unit_test(err_line_too_long),
        cmocka_unit_test(err_continued_line_too_long),
        cmocka_unit_test(err_missing_location),
        cmocka_unit_test(err_empty_location),
        cmocka_unit_test(err_empty_fstype),
        cmocka_unit_test(err_unknown_fstype),
        cmocka_unit_test(err_bad_url_column),
        cmocka_unit_test(err_bad_url_after_ampersand),
        cmocka_unit_test(err_unterminated_quote),
        cmocka_unit_test(err_empty_key),
        cmocka_unit_test(err_key_with_slash),
        cmocka_unit_test(err_direct_key),
        cmocka_unit_test(err_option_syntax),
        cmocka_unit_test(err_fstype_mismatch),
        cmocka_unit_test(err_text_after_location),
        cmocka_unit_test(err_control_character),
        cmocka_unit_test(entry_copy_and_free),
        cmocka_unit_test(parse_text_defaults),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
