/* sharesfs.conf, credentials files and sfs_engine_target(): where each
 * entry's auth module, password and dialect range come from. */
#include <errno.h>
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

#include "sharesfs/engine.h"
#include "sharesfs/auth.h"
#include "sharesfs/config.h"
#include "sharesfs/map.h"

static char dir[] = "/tmp/sfs-test-config-XXXXXX";

static const char *write_file(const char *name, const char *text, mode_t mode)
{
    static char path[4][512];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, 512, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(p, mode);
    return p;
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_config_defaults_without_file(void **state)
{
    (void)state;
    struct sfs_config *cfg = NULL;
    struct sfs_status st = {0};
    assert_int_equal(sfs_config_load(NULL, &cfg, &st), 0);
    assert_int_equal(sfs_config_timeout_ms(cfg), 10000);
    sfs_config_set_timeout_ms(cfg, 2500);
    assert_int_equal(sfs_config_timeout_ms(cfg), 2500);
    sfs_config_free(cfg);
}

static void test_config_named_file_missing(void **state)
{
    (void)state;
    struct sfs_config *cfg = NULL;
    struct sfs_status st = {0};
    assert_int_equal(sfs_config_load("/nonexistent/sharesfs.conf", &cfg, &st), -ENOENT);
    assert_non_null(strstr(st.detail, "/nonexistent/sharesfs.conf"));
    /* Not a regular file: refused without blocking on a FIFO. */
    char fifo[600];
    snprintf(fifo, sizeof(fifo), "%s/conf.fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(sfs_config_load(fifo, &cfg, &st), -EINVAL);
    assert_non_null(strstr(st.detail, "is a FIFO, not a regular file"));
    assert_int_equal(sfs_config_load(dir, &cfg, &st), -EISDIR);
}

static void test_config_values(void **state)
{
    (void)state;
    const char *p = write_file("ok.conf", "[global]\ntimeout = 2.5\n[entry Data]\nallow_cleartext = true\n", 0644);
    struct sfs_config *cfg = NULL;
    struct sfs_status st = {0};
    assert_int_equal(sfs_config_load(p, &cfg, &st), 0);
    assert_int_equal(sfs_config_timeout_ms(cfg), 2500);
    sfs_config_free(cfg);
}

static void test_config_unknown_key_has_position(void **state)
{
    (void)state;
    const char *p = write_file("typo.conf", "[global]\n\ntimout = 5\n", 0644);
    struct sfs_config *cfg = NULL;
    struct sfs_status st = {0};
    assert_int_equal(sfs_config_load(p, &cfg, &st), -EINVAL);
    char want[600];
    snprintf(want, sizeof(want), "%s:3:1: [global]: unknown key 'timout'", p);
    assert_string_equal(st.detail, want);
}

static void test_config_unknown_section(void **state)
{
    (void)state;
    const char *p = write_file("sect.conf", "[global]\ntimeout = 1\n[mounts]\n", 0644);
    struct sfs_config *cfg = NULL;
    struct sfs_status st = {0};
    assert_int_equal(sfs_config_load(p, &cfg, &st), -EINVAL);
    assert_non_null(strstr(st.detail, ":3:1: unknown section [mounts]"));
}

static void test_config_directory(void **state)
{
    (void)state;
    const char *p = write_file("dir.conf",
                               "[directory]\nuri = ldap://ldap.lab.test\nbase = dc=lab,dc=test\nbind = simple\n"
                               "bind_dn = cn=reader,dc=lab,dc=test\nstarttls = true\n",
                               0644);
    struct sfs_config *cfg = NULL;
    struct sfs_status st = {0};
    assert_int_equal(sfs_config_load(p, &cfg, &st), 0);
    char *v = sfs_config_directory_string(cfg, "base");
    assert_string_equal(v, "dc=lab,dc=test");
    free(v);
    assert_null(sfs_config_directory_string(cfg, "ca_file"));
    sfs_config_set_directory_string(cfg, "ca_file", "/x.pem");
    v = sfs_config_directory_string(cfg, "ca_file");
    assert_string_equal(v, "/x.pem");
    free(v);
    sfs_config_free(cfg);

    static const struct {
        const char *text, *needle;
    } bad[] = {
        {"[directory]\nbind = kerberos\n", ":2:1: [directory] bind must be anonymous, simple or gssapi"},
        {"[directory]\nschema = ad\n", "[directory] schema must be"},
        {"[directory]\nstarttls = maybe\n", "[directory] starttls must be true or false"},
        {"[directory]\nuri = http://x\n", "[directory] uri must be ldap://"},
        {"[directory]\nhost = x\n", "[directory]: unknown key 'host'"},
        {"[global]\nuri = ldap://x\n", "[global]: unknown key 'uri'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        p = write_file("bad.conf", bad[i].text, 0644);
        cfg = NULL;
        assert_int_equal(sfs_config_load(p, &cfg, &st), -EINVAL);
        if (!strstr(st.detail, bad[i].needle))
            fail_msg("%s: got '%s'", bad[i].needle, st.detail);
    }
}

static void test_config_syntax_error_has_line(void **state)
{
    (void)state;
    const char *p = write_file("syntax.conf", "[global]\ntimeout = 1\nthis is not a key\n", 0644);
    struct sfs_config *cfg = NULL;
    struct sfs_status st = {0};
    assert_int_equal(sfs_config_load(p, &cfg, &st), -EINVAL);
    assert_non_null(strstr(st.detail, ":3:1: "));
}

static void test_config_bad_timeout(void **state)
{
    (void)state;
    const char *p = write_file("bad.conf", "[global]\ntimeout = -4\n", 0644);
    struct sfs_config *cfg = NULL;
    struct sfs_status st = {0};
    assert_int_equal(sfs_config_load(p, &cfg, &st), -EINVAL);
    assert_non_null(strstr(st.detail, ":2:1: [global] timeout"));
}

static void test_credentials_file(void **state)
{
    (void)state;
    const char *p = write_file("ok.cred", "username=alice\npassword=s3cret=x\ndomain=LAB\n", 0600);
    struct sfs_credentials c;
    struct sfs_status st = {0};
    assert_int_equal(sfs_credentials_from_file(p, &c, &st), 0);
    assert_string_equal(c.user, "alice");
    assert_string_equal(c.password, "s3cret=x");
    assert_string_equal(c.domain, "LAB");
    sfs_credentials_free(&c);
}

static void test_credentials_mode_refused(void **state)
{
    (void)state;
    const char *p = write_file("open.cred", "username=alice\npassword=s3cret\n", 0640);
    struct sfs_credentials c;
    struct sfs_status st = {0};
    assert_int_equal(sfs_credentials_from_file(p, &c, &st), -EPERM);
    assert_int_equal(st.stage, SFS_STAGE_AUTHENTICATE);
    assert_non_null(strstr(st.detail, "0640"));
    assert_null(strstr(st.detail, "s3cret"));
}

static void test_credentials_errors(void **state)
{
    (void)state;
    struct sfs_credentials c;
    struct sfs_status st = {0};
    const char *p = write_file("nouser.cred", "password=x\n", 0600);
    assert_int_equal(sfs_credentials_from_file(p, &c, &st), -EINVAL);
    assert_non_null(strstr(st.detail, "no username"));
    p = write_file("junk.cred", "username=a\nwhat\n", 0600);
    assert_int_equal(sfs_credentials_from_file(p, &c, &st), -EINVAL);
    assert_non_null(strstr(st.detail, ":2:1: expected key=value"));
    p = write_file("key.cred", "username=a\ncolour=blue\n", 0600);
    assert_int_equal(sfs_credentials_from_file(p, &c, &st), -EINVAL);
    assert_int_equal(sfs_credentials_from_file("/nonexistent.cred", &c, &st), -ENOKEY);
}

/* Only a regular file: opening a FIFO with no writer would block the
 * caller for good (afptest's parse stage, a FUSE lookup). */
static void test_credentials_not_a_regular_file(void **state)
{
    (void)state;
    struct sfs_credentials c;
    struct sfs_status st = {0};
    char fifo[600];
    snprintf(fifo, sizeof(fifo), "%s/cred.fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(sfs_credentials_from_file(fifo, &c, &st), -EACCES);
    assert_int_equal(st.stage, SFS_STAGE_AUTHENTICATE);
    assert_non_null(strstr(st.detail, "is a FIFO, not a regular file"));
    char sub[600];
    snprintf(sub, sizeof(sub), "%s/cred.d", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(sfs_credentials_from_file(sub, &c, &st), -EACCES);
    assert_non_null(strstr(st.detail, "is a directory"));
    /* Through a symbolic link: followed, and the FIFO is still refused. */
    char link[600];
    snprintf(link, sizeof(link), "%s/cred.link", dir);
    assert_int_equal(symlink(fifo, link), 0);
    assert_int_equal(sfs_credentials_from_file(link, &c, &st), -EACCES);
    assert_non_null(strstr(st.detail, "a FIFO"));
}

/* A per-user session's file: the owner is checked on the file opened,
 * and a symbolic link is not followed. */
static void test_credentials_own_file(void **state)
{
    (void)state;
    struct sfs_credentials c;
    struct sfs_status st = {0};
    const char *p = write_file("own.cred", "username=alice\npassword=s3cret\n", 0600);
    assert_int_equal(sfs_credentials_from_own_file(p, geteuid(), "alice", &c, &st), 0);
    assert_string_equal(c.user, "alice");
    sfs_credentials_free(&c);
    assert_int_equal(sfs_credentials_from_own_file(p, geteuid() + 1, NULL, &c, &st), -EACCES);
    char want[160];
    snprintf(want, sizeof(want), "owned by another uid (%u), not by uid %u:", (unsigned)geteuid(),
             (unsigned)geteuid() + 1);
    assert_non_null(strstr(st.detail, want));
    assert_null(strstr(st.detail, "s3cret"));
    char link[600];
    snprintf(link, sizeof(link), "%s/own.link", dir);
    assert_int_equal(symlink(p, link), 0);
    assert_int_equal(sfs_credentials_from_own_file(link, geteuid(), "alice", &c, &st), -EACCES);
    assert_non_null(strstr(st.detail, "a symbolic link"));
    assert_int_equal(sfs_credentials_from_file(link, &c, &st), 0);
    sfs_credentials_free(&c);
}

/* One entry parsed from map text, for target tests. */
static struct sfs_map one_entry(const char *line)
{
    struct sfs_map map;
    struct sfs_parse_error perr = {0};
    int rc = sfs_map_parse_text(line, "test.map", "/Network/Shares", &map, &perr);
    if (rc != 0)
        fail_msg("map: %s", perr.message);
    assert_true(map.n_entries >= 1);
    return map;
}

static void test_target_guest_and_dialects(void **state)
{
    (void)state;
    struct sfs_map map = one_entry("Pub -fstype=cifs,guest,vers=1.0 ://nas.lab.test/public\n");
    struct sfs_target t;
    struct sfs_status st = {0};
    assert_int_equal(sfs_engine_target(&map.entries[0], NULL, &t, &st), 0);
    assert_int_equal(t.auth.kind, SFS_AUTH_NONE);
    assert_string_equal(t.dialect_min, "NT1");
    assert_string_equal(t.dialect_max, "NT1");
    sfs_target_free(&t);
    sfs_map_free(&map);
}

/* Multiuser: a user's session takes only that user's own credentials. */
static void test_target_for_identity(void **state)
{
    (void)state;
    struct sfs_target t;
    struct sfs_status st = {0};
    char line[600];
    uid_t me = getuid();
    snprintf(line, sizeof(line), "Home -fstype=cifs,credentials=%s/id.%%u ://fs.lab.test/user\n", dir);
    struct sfs_map map = one_entry(line);
    char path[512];
    snprintf(path, sizeof(path), "id.%u", (unsigned)me);
    write_file(path, "username=alice\npassword=s3cret\n", 0600);
    struct sfs_identity alice = {.uid = me, .name = "alice"};
    assert_int_equal(sfs_engine_target_for(&map.entries[0], NULL, &alice, &t, &st), 0);
    assert_string_equal(t.creds.user, "alice");
    assert_int_equal(t.auth.kind, SFS_AUTH_PASSWORD);
    assert_true(t.personal);
    sfs_target_free(&t);
    /* Another uid: its own file or nothing, never alice's. */
    struct sfs_identity bob = {.uid = 4242, .name = "bob"};
    assert_int_equal(sfs_engine_target_for(&map.entries[0], NULL, &bob, &t, &st), -EACCES);
    assert_non_null(strstr(st.detail, "no credentials for uid 4242 (bob)"));
    assert_non_null(strstr(st.detail, "/Network/Shares/Home: no credentials"));
    assert_int_equal(st.stage, SFS_STAGE_AUTHENTICATE);
    const char *bobs = write_file("id.4242", "username=bob\npassword=x\n", 0600);
    assert_int_equal(sfs_engine_target_for(&map.entries[0], NULL, &bob, &t, &st), me == 4242 ? 0 : -EACCES);
    if (me != 4242) {
        assert_non_null(strstr(st.detail, "owned by another uid"));
        assert_non_null(strstr(st.detail, "not by uid 4242 (bob)"));
        assert_non_null(strstr(st.detail, "/Network/Shares/Home: credentials file "));
    }
    if (me == 0) {   /* as root the file can be given to bob */
        assert_int_equal(chown(bobs, 4242, 4242), 0);
        assert_int_equal(sfs_engine_target_for(&map.entries[0], NULL, &bob, &t, &st), 0);
        assert_string_equal(t.creds.user, "bob");
        sfs_target_free(&t);
    }
    sfs_map_free(&map);

    /* A password in the map would be everyone's. */
    map = one_entry("P -fstype=url smb://alice:Hunter2@fs.lab.test/user\n");
    assert_int_equal(sfs_engine_target_for(&map.entries[0], NULL, &alice, &t, &st), -EACCES);
    assert_non_null(strstr(st.detail, "every user the same identity"));
    assert_null(strstr(st.detail, "Hunter2"));
    sfs_map_free(&map);
    /* SHARESFS_PASSWORD is sharesfs's own, not a user's. */
    setenv("SHARESFS_PASSWORD", "x", 1);
    map = one_entry("U -fstype=cifs,user=alice ://fs.lab.test/user\n");
    assert_int_equal(sfs_engine_target_for(&map.entries[0], NULL, &alice, &t, &st), 0);
    assert_int_equal(t.auth.kind, SFS_AUTH_KRB5);   /* no password of alice's: her ticket */
    sfs_target_free(&t);
    unsetenv("SHARESFS_PASSWORD");
    sfs_map_free(&map);
    /* Guest stays guest; AFP without a UAM named: Kerberos, not guest. */
    map = one_entry("G -fstype=cifs,guest ://fs.lab.test/public\n");
    assert_int_equal(sfs_engine_target_for(&map.entries[0], NULL, &alice, &t, &st), 0);
    assert_int_equal(t.auth.kind, SFS_AUTH_NONE);
    sfs_target_free(&t);
    sfs_map_free(&map);
    map = one_entry("A -fstype=url afp://lion.lab.test/Groups\n");
    assert_int_equal(sfs_engine_target_for(&map.entries[0], NULL, &alice, &t, &st), 0);
    assert_int_equal(t.auth.kind, SFS_AUTH_KRB5);
    assert_string_equal(t.auth.uam, "Client Krb v2");
    sfs_target_free(&t);
    assert_int_equal(sfs_engine_target(&map.entries[0], NULL, &t, &st), 0);
    assert_int_equal(t.auth.kind, SFS_AUTH_NONE);   /* one shared session: as before */
    sfs_target_free(&t);
    sfs_map_free(&map);
    struct sfs_identity n = {.uid = 7};
    char *x = sfs_identity_expand(&n, "/h/%U/%u/%%/%x");
    assert_string_equal(x, "/h/7/7/%/%x");
    free(x);
}

static void test_target_bad_vers(void **state)
{
    (void)state;
    struct sfs_map map = one_entry("Pub -fstype=cifs,guest,vers=9.9 ://nas.lab.test/public\n");
    struct sfs_target t;
    struct sfs_status st = {0};
    assert_int_equal(sfs_engine_target(&map.entries[0], NULL, &t, &st), -EINVAL);
    assert_int_equal(st.stage, SFS_STAGE_PARSE);
    assert_non_null(strstr(st.detail, "vers=9.9"));
    sfs_map_free(&map);
}

static void test_target_user_without_password(void **state)
{
    (void)state;
    unsetenv("SHARESFS_PASSWORD");
    struct sfs_map map = one_entry("Home smb://alice@fs.lab.test/home\n");
    struct sfs_target t;
    struct sfs_status st = {0};
    assert_int_equal(sfs_engine_target(&map.entries[0], NULL, &t, &st), -ENOKEY);
    assert_non_null(strstr(st.detail, "alice"));
    setenv("SHARESFS_PASSWORD", "from-env", 1);
    assert_int_equal(sfs_engine_target(&map.entries[0], NULL, &t, &st), 0);
    assert_int_equal(t.auth.kind, SFS_AUTH_PASSWORD);
    assert_string_equal(t.creds.password, "from-env");
    assert_string_equal(t.creds.source, "SHARESFS_PASSWORD");
    unsetenv("SHARESFS_PASSWORD");
    sfs_target_free(&t);
    sfs_map_free(&map);
}

static void test_target_credentials_option(void **state)
{
    (void)state;
    const char *cred = write_file("t.cred", "username=bob\npassword=pw\ndomain=D\n", 0600);
    char line[800];
    snprintf(line, sizeof(line), "Data -fstype=url,credentials=%s smb://fs.lab.test/data\n", cred);
    struct sfs_map map = one_entry(line);
    struct sfs_target t;
    struct sfs_status st = {0};
    assert_int_equal(sfs_engine_target(&map.entries[0], NULL, &t, &st), 0);
    assert_string_equal(t.creds.user, "bob");
    assert_string_equal(t.creds.domain, "D");
    assert_string_equal(t.auth.module, "ntlmssp");
    assert_string_equal(t.dialect_min, "SMB2_02");
    assert_string_equal(t.dialect_max, "SMB3_11");
    sfs_target_free(&t);
    sfs_map_free(&map);
}

static void test_target_config_dialects(void **state)
{
    (void)state;
    const char *p = write_file("d.conf", "[global]\nsmb_min_protocol = SMB3_00\n[entry Old]\nsmb_min_protocol = NT1\n", 0644);
    struct sfs_config *cfg = NULL;
    struct sfs_status st = {0};
    assert_int_equal(sfs_config_load(p, &cfg, &st), 0);
    struct sfs_map map = one_entry("Old -fstype=cifs,guest ://a.lab.test/x\nNew -fstype=cifs,guest ://b.lab.test/x\n");
    struct sfs_target t;
    assert_int_equal(sfs_engine_target(&map.entries[0], cfg, &t, &st), 0);
    assert_string_equal(t.dialect_min, "NT1");
    sfs_target_free(&t);
    assert_int_equal(sfs_engine_target(&map.entries[1], cfg, &t, &st), 0);
    assert_string_equal(t.dialect_min, "SMB3_00");
    sfs_target_free(&t);
    sfs_map_free(&map);
    sfs_config_free(cfg);
}

static void test_target_afp_uams(void **state)
{
    (void)state;
    struct sfs_map map = one_entry("Attic afp://;AUTH=No%20User%20Authent@lion.lab.test/Attic\n"
                                   "Media afp://;AUTH=client%20krb%20V2@lion.lab.test/Multimedia\n"
                                   "Clear afp://u;AUTH=Cleartxt%20Passwrd:pw@lion.lab.test/Vol\n");
    struct sfs_target t;
    struct sfs_status st = {0};
    assert_int_equal(sfs_engine_target(&map.entries[0], NULL, &t, &st), 0);
    assert_int_equal(t.auth.kind, SFS_AUTH_NONE);
    assert_string_equal(t.auth.uam, "No User Authent");
    sfs_target_free(&t);
    assert_int_equal(sfs_engine_target(&map.entries[1], NULL, &t, &st), 0);
    assert_int_equal(t.auth.kind, SFS_AUTH_KRB5);
    assert_string_equal(t.auth.uam, "Client Krb v2");
    sfs_target_free(&t);
    /* Cleartext sends the password in the clear: refused unless allowed. */
    assert_int_equal(sfs_engine_target(&map.entries[2], NULL, &t, &st), -EPERM);
    assert_non_null(strstr(st.detail, "allow_cleartext"));
    assert_null(strstr(st.detail, "pw@"));
    const char *p = write_file("clear.conf", "[entry Clear]\nallow_cleartext = true\n", 0644);
    struct sfs_config *cfg = NULL;
    assert_int_equal(sfs_config_load(p, &cfg, &st), 0);
    assert_int_equal(sfs_engine_target(&map.entries[2], cfg, &t, &st), 0);
    assert_int_equal(t.auth.kind, SFS_AUTH_CLEARTEXT);
    sfs_target_free(&t);
    sfs_config_free(cfg);
    sfs_map_free(&map);
}

static void test_uam_names(void **state)
{
    (void)state;
    enum sfs_auth_kind k;
    const char *canon = NULL;
    assert_true(sfs_auth_kind_from_uam("NO USER AUTHENT", &k, &canon));
    assert_int_equal(k, SFS_AUTH_NONE);
    assert_string_equal(canon, "No User Authent");
    assert_true(sfs_auth_kind_from_uam("dhx", &k, &canon));
    assert_string_equal(canon, "DHCAST128");
    assert_false(sfs_auth_kind_from_uam("Randnum Exchange", &k, &canon));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults_without_file),
        cmocka_unit_test(test_config_named_file_missing),
        cmocka_unit_test(test_config_values),
        cmocka_unit_test(test_config_unknown_key_has_position),
        cmocka_unit_test(test_config_unknown_section),
        cmocka_unit_test(test_config_directory),
        cmocka_unit_test(test_config_syntax_error_has_line),
        cmocka_unit_test(test_config_bad_timeout),
        cmocka_unit_test(test_credentials_file),
        cmocka_unit_test(test_credentials_mode_refused),
        cmocka_unit_test(test_credentials_errors),
        cmocka_unit_test(test_credentials_not_a_regular_file),
        cmocka_unit_test(test_credentials_own_file),
        cmocka_unit_test(test_target_guest_and_dialects),
        cmocka_unit_test(test_target_bad_vers),
        cmocka_unit_test(test_target_for_identity),
        cmocka_unit_test(test_target_user_without_password),
        cmocka_unit_test(test_target_credentials_option),
        cmocka_unit_test(test_target_config_dialects),
        cmocka_unit_test(test_target_afp_uams),
        cmocka_unit_test(test_uam_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
