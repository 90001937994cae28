/* The directory layer against a real slapd started here, on 127.0.0.77 only:
 * its config and data built with slapadd, a throwaway CA and server
 * certificate made with openssl.  No slapd installed is a failure, not a
 * skip (contrib/setup/install-deps.sh installs it).  Covers anonymous,
 * simple and GSSAPI (pre-flight only: no KDC) binds, StartTLS and ldaps
 * with the right and a wrong CA, paging past the server's size limit, and
 * the failures: refused, silent server, unknown base, bad password, a
 * password file others can read, a value with a NUL byte. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "sharesfs/clock.h"
#include "sharesfs/directory.h"
#include "directory/dir_private.h"

#define ADDR "127.0.0.77"
#define SUFFIX "dc=lab,dc=test"
#define READER "cn=reader," SUFFIX
#define READER_PW "reader-secret-pw"
#define BIG_N 1200
/* cn=we\,ird\+\"dn\" Ærø+nisMapName=auto.huge,nisMapName=auto.huge,ou=huge,dc=lab,dc=test */
#define ODD_DN "cn=we\\,ird\\+\\\"dn\\\" \xc3\x86r\xc3\xb8+nisMapName=auto.huge,nisMapName=auto.huge,ou=huge," SUFFIX
static char ODD_DN_B64[256], ODD_CN_B64[64];

static char dir[] = "/tmp/sfs-test-ldap-XXXXXX";
static pid_t slapd_pid = -1;
static int port_ldap, port_ldaps;
static char uri_ldap[64], uri_ldaps[64];

static char *path(const char *name)
{
    static __thread char buf[8][600];
    static __thread int i;
    char *p = buf[i++ % 8];
    snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
    return p;
}

/* A port on ADDR that nothing listens on (bound, read, closed). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, ADDR, &a.sin_addr);
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

/* A listener that completes TCP handshakes (the kernel's backlog) and then
 * never reads or answers.  Returns the fd; *port gets its port. */
static int silent_listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, ADDR, &a.sin_addr);
    socklen_t len = sizeof(a);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static int run(const char *cmd)
{
    int rc = system(cmd);
    if (rc != 0)
        print_error("command failed (%d): %s\n", rc, cmd);
    return rc == 0 ? 0 : -1;
}

static int write_file(const char *name, mode_t mode, const char *text)
{
    int fd = open(path(name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    fchmod(fd, mode);
    size_t n = strlen(text);
    int rc = write(fd, text, n) == (ssize_t)n ? 0 : -1;
    close(fd);
    return rc;
}

static int make_certs(void)
{
    char cmd[4096];
    if (write_file("srv.ext", 0644, "subjectAltName=IP:" ADDR "\nbasicConstraints=CA:FALSE\n"
                                   "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n") < 0)
        return -1;
    snprintf(cmd, sizeof(cmd),
             "cd %s && for ca in ca other; do openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
             "-nodes -keyout $ca.key -out $ca.pem -days 2 -subj /CN=sharesfs-test-$ca "
             "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign || exit 1; done && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout srv.key -out srv.csr "
             "-subj /CN=" ADDR " && openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
             "-out srv.pem -days 2 -extfile srv.ext",
             dir);
    char quiet[4200];
    snprintf(quiet, sizeof(quiet), "(%s) >%s/openssl.log 2>&1", cmd, dir);
    return run(quiet);
}

static int make_config(void)
{
    FILE *f = fopen(path("config.ldif"), "w");
    if (!f)
        return -1;
    fprintf(f,
            "dn: cn=config\nobjectClass: olcGlobal\ncn: config\nolcPidFile: %s\n"
            "olcTLSCACertificateFile: %s\nolcTLSCertificateFile: %s\nolcTLSCertificateKeyFile: %s\n\n"
            "dn: cn=module{0},cn=config\nobjectClass: olcModuleList\ncn: module{0}\n"
            "olcModulePath: /usr/lib/ldap\nolcModuleLoad: back_mdb\n\n"
            "dn: cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: schema\n\n"
            "include: file:///etc/ldap/schema/core.ldif\n\ninclude: file:///etc/ldap/schema/cosine.ldif\n\n"
            "include: file:///etc/ldap/schema/nis.ldif\n\ninclude: file:///etc/ldap/schema/inetorgperson.ldif\n\n"
            "dn: olcDatabase={-1}frontend,cn=config\nobjectClass: olcDatabaseConfig\nobjectClass: olcFrontendConfig\n"
            "olcDatabase: {-1}frontend\n\n"
            "dn: olcDatabase={0}config,cn=config\nobjectClass: olcDatabaseConfig\nolcDatabase: {0}config\n\n"
            "dn: olcDatabase={1}mdb,cn=config\nobjectClass: olcDatabaseConfig\nobjectClass: olcMdbConfig\n"
            "olcDatabase: {1}mdb\nolcDbDirectory: %s\nolcSuffix: " SUFFIX "\nolcRootDN: cn=admin," SUFFIX "\n"
            "olcRootPW: admin-pw\nolcDbMaxSize: 268435456\n"
            /* Below BIG_N without paging: only the paged search gets them all. */
            "olcLimits: * size.soft=1000 size.hard=1000 size.prtotal=unlimited\n",
            path("slapd.pid"), path("ca.pem"), path("srv.pem"), path("srv.key"), path("db"));
    return fclose(f) == 0 ? 0 : -1;
}

static void map_entry(FILE *f, const char *ou, const char *map, const char *key, const char *value)
{
    fprintf(f, "dn: cn=%s,nisMapName=%s,ou=%s," SUFFIX "\nobjectClass: nisObject\ncn: %s\nnisMapName: %s\n"
               "nisMapEntry: %s\n\n", key, map, ou, key, map, value);
}

static void map_head(FILE *f, const char *ou, const char *map)
{
    fprintf(f, "dn: nisMapName=%s,ou=%s," SUFFIX "\nobjectClass: nisMap\nnisMapName: %s\n\n", map, ou, map);
}

static void base64(const char *in, char *out, size_t cap)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in), o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i += 3) {
        unsigned v = (unsigned char)in[i] << 16 | (i + 1 < n ? (unsigned char)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? (unsigned char)in[i + 2] : 0);
        out[o++] = tbl[v >> 18 & 63];
        out[o++] = tbl[v >> 12 & 63];
        out[o++] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? tbl[v & 63] : '=';
    }
    out[o] = '\0';
}

static int make_data(void)
{
    base64(ODD_DN, ODD_DN_B64, sizeof(ODD_DN_B64));
    base64("we,ird+\"dn\" \xc3\x86r\xc3\xb8", ODD_CN_B64, sizeof(ODD_CN_B64));
    FILE *f = fopen(path("data.ldif"), "w");
    if (!f)
        return -1;
    fprintf(f, "dn: " SUFFIX "\nobjectClass: dcObject\nobjectClass: organization\ndc: lab\no: lab\n\n"
               "dn: " READER "\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: reader\n"
               "userPassword: " READER_PW "\n\n");
    static const char *const ous[] = {"small", "big", "bad", "huge"};
    for (size_t i = 0; i < 4; i++)
        fprintf(f, "dn: ou=%s," SUFFIX "\nobjectClass: organizationalUnit\nou: %s\n\n", ous[i], ous[i]);
    /* small: a master map and one indirect map (6 records, one not a map:
     * the person below is not asked for). */
    map_head(f, "small", "auto.master");
    map_entry(f, "small", "auto.master", "/Network/Shares", "auto.shares");
    map_head(f, "small", "auto.shares");
    map_entry(f, "small", "auto.shares", "docs", "-fstype=smbfs smb://fs.lab.test/docs");
    map_entry(f, "small", "auto.shares", "home", "afp://lion.lab.test/home");
    map_entry(f, "small", "auto.shares", "*", "smb://fs.lab.test/&");
    fprintf(f, "dn: cn=someone,ou=small," SUFFIX "\nobjectClass: person\ncn: someone\nsn: one\n\n");
    map_head(f, "big", "auto.big");
    for (int i = 0; i < BIG_N; i++) {
        char key[32], value[64];
        snprintf(key, sizeof(key), "k%04d", i);
        snprintf(value, sizeof(value), "smb://fs.lab.test/s%04d", i);
        map_entry(f, "big", "auto.big", key, value);
    }
    /* bad: a value with a NUL byte ("a\0b", base64). */
    map_head(f, "bad", "auto.bad");
    fprintf(f, "dn: cn=nul,nisMapName=auto.bad,ou=bad," SUFFIX "\nobjectClass: nisObject\ncn: nul\n"
               "nisMapName: auto.bad\nnisMapEntry:: YQBi\n\n");
    /* huge: one 256 KiB value. */
    map_head(f, "huge", "auto.huge");
    fprintf(f, "dn: cn=big,nisMapName=auto.huge,ou=huge," SUFFIX "\nobjectClass: nisObject\ncn: big\n"
               "nisMapName: auto.huge\nnisMapEntry: smb://fs.lab.test/");
    for (int i = 0; i < 256 * 1024; i++)
        fputc('a' + i % 26, f);
    fputs("\n\n", f);
    /* An odd DN: escaped ',', '+', '"', a multi-valued RDN, UTF-8. */
    fprintf(f, "dn:: %s\nobjectClass: nisObject\ncn:: %s\nnisMapName: auto.huge\n"
               "nisMapEntry: smb://fs.lab.test/odd\n\n", ODD_DN_B64, ODD_CN_B64);
    return fclose(f) == 0 ? 0 : -1;
}

static int wait_for_port(int port)
{
    for (int i = 0; i < 100; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        inet_pton(AF_INET, ADDR, &a.sin_addr);
        int rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
        close(fd);
        if (rc == 0)
            return 0;
        int status;
        if (waitpid(slapd_pid, &status, WNOHANG) == slapd_pid) {
            slapd_pid = -1;
            print_error("slapd exited (see %s/slapd.log)\n", dir);
            return -1;
        }
        usleep(50 * 1000);
    }
    print_error("slapd does not listen on %s:%d\n", ADDR, port);
    return -1;
}

static int start_slapd(void)
{
    char urls[128], cmd[1024];
    port_ldap = free_port();
    port_ldaps = free_port();
    if (port_ldap < 0 || port_ldaps < 0 || port_ldap == port_ldaps)
        return -1;
    snprintf(urls, sizeof(urls), "ldap://%s:%d/ ldaps://%s:%d/", ADDR, port_ldap, ADDR, port_ldaps);
    snprintf(uri_ldap, sizeof(uri_ldap), "ldap://%s:%d", ADDR, port_ldap);
    snprintf(uri_ldaps, sizeof(uri_ldaps), "ldaps://%s:%d", ADDR, port_ldaps);
    slapd_pid = fork();
    if (slapd_pid < 0)
        return -1;
    if (slapd_pid == 0) {
        int log = open(path("slapd.log"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(log, 1);
        dup2(log, 2);
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);   /* a crashed test leaves no slapd behind */
        /* -d: stays in the foreground, so this pid is slapd's. */
        execl("/usr/sbin/slapd", "slapd", "-d", "0", "-h", urls, "-F", path("slapd.d"), (char *)NULL);
        _exit(127);
    }
    (void)cmd;
    return wait_for_port(port_ldap) == 0 && wait_for_port(port_ldaps) == 0 ? 0 : -1;
}

static int setup(void **state)
{
    (void)state;
    if (access("/usr/sbin/slapd", X_OK) != 0 || access("/usr/sbin/slapadd", X_OK) != 0) {
        print_error("slapd is not installed: this test needs slapd and ldap-utils "
                    "(contrib/setup/install-deps.sh)\n");
        return -1;
    }
    if (!mkdtemp(dir))
        return -1;
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "mkdir -p %s/slapd.d %s/db", dir, dir);
    if (run(cmd) < 0 || make_certs() < 0 || make_config() < 0 || make_data() < 0)
        return -1;
    snprintf(cmd, sizeof(cmd),
             "(slapadd -n0 -F %s/slapd.d -l %s/config.ldif && slapadd -q -n1 -F %s/slapd.d -l %s/data.ldif) "
             ">%s/slapadd.log 2>&1",
             dir, dir, dir, dir, dir);
    if (run(cmd) < 0) {
        snprintf(cmd, sizeof(cmd), "cat %s/slapadd.log >&2", dir);
        if (system(cmd) != 0)
            print_error("no slapadd log\n");
        return -1;
    }
    /* Kerberos without /etc/krb5.conf: the GSSAPI test needs no KDC. */
    if (write_file("krb5.conf", 0644, "[libdefaults]\n  default_realm = LAB.TEST\n  dns_lookup_kdc = false\n"
                                      "  dns_lookup_realm = false\n[realms]\n  LAB.TEST = {\n    kdc = 127.0.0.9:9\n  }\n") < 0 ||
        write_file("pw", 0600, READER_PW "\nsecond line ignored\n") < 0 ||
        write_file("pw-wrong", 0600, "not-the-password\n") < 0 || write_file("pw-644", 0644, READER_PW "\n") < 0)
        return -1;
    setenv("KRB5_CONFIG", path("krb5.conf"), 1);
    /* libldap reads ~/.ldaprc and ./ldaprc: none of the user's settings. */
    setenv("LDAPNOINIT", "1", 1);
    return start_slapd();
}

static int teardown(void **state)
{
    (void)state;
    if (slapd_pid > 0) {
        kill(slapd_pid, SIGTERM);
        int status;
        for (int i = 0; i < 100 && waitpid(slapd_pid, &status, WNOHANG) == 0; i++)
            usleep(20 * 1000);
        if (waitpid(slapd_pid, &status, WNOHANG) == 0) {
            kill(slapd_pid, SIGKILL);
            waitpid(slapd_pid, &status, 0);
        }
    }
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct sfs_dir_server server(const char *uri, const char *base)
{
    return (struct sfs_dir_server){.uri = uri, .base = base, .timeout_ms = 3000};
}

static const struct sfs_dir_record *find(const struct sfs_dir_records *r, const char *dn)
{
    for (size_t i = 0; i < r->n_records; i++)
        if (strcmp(r->records[i].dn, dn) == 0)
            return &r->records[i];
    return NULL;
}

static void assert_value(const struct sfs_dir_record *rec, const char *attr, const char *value)
{
    assert_non_null(rec);
    const struct sfs_dir_attr *a = sfs_dir_record_attr(rec, attr);
    assert_non_null(a);
    for (size_t i = 0; i < a->n_values; i++)
        if (strcmp(a->values[i], value) == 0)
            return;
    fail_msg("%s of %s has no value \"%s\"", attr, rec->dn, value);
}

/* A failed fetch: its errno, stage and code, and an empty record set. */
static void assert_failure(const struct sfs_dir_server *srv, int err, enum sfs_stage stage, enum sfs_domain domain,
                           long code, struct sfs_status *st)
{
    struct sfs_dir_records r = {0};
    struct sfs_dir_fetch_info info;
    int rc = sfs_dir_fetch(srv, &r, &info, st);
    print_message("    %s: %s at %s, %s %ld: %s\n", srv->uri, sfs_errno_name(st->err) ? sfs_errno_name(st->err) : "?",
                  sfs_stage_name(st->stage), sfs_domain_name(st->domain), st->code, st->detail);
    assert_int_equal(rc, -err);
    assert_int_equal(st->err, err);
    assert_string_equal(sfs_stage_name(st->stage), sfs_stage_name(stage));
    assert_string_equal(sfs_domain_name(st->domain), sfs_domain_name(domain));
    if (domain == SFS_DOMAIN_LDAP)
        assert_int_equal(st->code, code);
    assert_int_equal(r.n_records, 0);
    assert_null(r.records);
}

static void test_anonymous(void **state)
{
    (void)state;
    struct sfs_dir_server srv = server(uri_ldap, "ou=small," SUFFIX);
    struct sfs_dir_records r = {0};
    struct sfs_dir_fetch_info info;
    struct sfs_status st;
    assert_int_equal(sfs_dir_fetch(&srv, &r, &info, &st), 0);
    assert_int_equal(st.err, 0);
    assert_int_equal(r.n_records, 6);   /* 2 maps, 4 entries; not the person */
    assert_int_equal(info.n_records, 6);
    assert_string_equal(info.uri, uri_ldap);
    assert_string_equal(info.tls, "none");
    assert_string_equal(info.address, ADDR);
    assert_int_equal(info.ldap_code, 0);
    assert_int_equal(info.n_pages, 1);
    const struct sfs_dir_record *rec = find(&r, "cn=docs,nisMapName=auto.shares,ou=small," SUFFIX);
    assert_value(rec, "nisMapEntry", "-fstype=smbfs smb://fs.lab.test/docs");
    assert_value(rec, "nisMapName", "auto.shares");
    assert_value(rec, "cn", "docs");
    assert_value(rec, "objectClass", "nisObject");
    assert_value(find(&r, "nisMapName=auto.master,ou=small," SUFFIX), "objectClass", "nisMap");
    assert_value(find(&r, "cn=*,nisMapName=auto.shares,ou=small," SUFFIX), "nisMapEntry", "smb://fs.lab.test/&");
    assert_null(find(&r, "cn=someone,ou=small," SUFFIX));
    sfs_dir_records_free(&r);

    /* The records are what the model turns into a map. */
    struct sfs_dir_records r2 = {0};
    assert_int_equal(sfs_dir_fetch(&srv, &r2, NULL, &st), 0);
    struct sfs_map map;
    struct sfs_parse_error perr;
    memset(&map, 0, sizeof(map));
    struct sfs_dir_request req = {.kind = SFS_DIR_MAP, .schema = SFS_DIR_SCHEMA_NIS, .name = "auto.shares"};
    int lrc = sfs_dir_map_load(&r2, &req, &map, &perr);
    if (lrc != 0)
        fail_msg("map from the directory: %s", perr.message);
    sfs_map_free(&map);
    sfs_dir_records_free(&r2);
}

static void test_simple_bind(void **state)
{
    (void)state;
    struct sfs_dir_server srv = server(uri_ldap, "ou=small," SUFFIX);
    srv.bind = SFS_DIR_BIND_SIMPLE;
    srv.bind_dn = READER;
    srv.password_file = path("pw");
    struct sfs_dir_records r = {0};
    struct sfs_status st;
    assert_int_equal(sfs_dir_fetch(&srv, &r, NULL, &st), 0);
    assert_int_equal(r.n_records, 6);
    sfs_dir_records_free(&r);
}

static void test_wrong_password(void **state)
{
    (void)state;
    struct sfs_dir_server srv = server(uri_ldap, "ou=small," SUFFIX);
    srv.bind = SFS_DIR_BIND_SIMPLE;
    srv.bind_dn = READER;
    srv.password_file = path("pw-wrong");
    struct sfs_status st;
    assert_failure(&srv, EACCES, SFS_STAGE_MAP, SFS_DOMAIN_LDAP, 49, &st);
    char want[200];
    snprintf(want, sizeof(want), "bind (simple, " READER ") to %s: invalidCredentials (49)", uri_ldap);
    assert_non_null(strstr(st.detail, want));
    assert_null(strstr(st.detail, "not-the-password"));
    char code[96];
    sfs_status_code_text(&st, code, sizeof(code));
    assert_string_equal(code, "invalidCredentials (49)");
}

static void test_password_file_mode(void **state)
{
    (void)state;
    /* A server that would refuse the connection: the file is refused first. */
    char uri[64];
    snprintf(uri, sizeof(uri), "ldap://%s:%d", ADDR, free_port());
    struct sfs_dir_server srv = server(uri, SUFFIX);
    srv.bind = SFS_DIR_BIND_SIMPLE;
    srv.bind_dn = READER;
    srv.password_file = path("pw-644");
    struct sfs_status st;
    assert_failure(&srv, EACCES, SFS_STAGE_MAP, SFS_DOMAIN_CONFIG, 0, &st);
    assert_non_null(strstr(st.detail, path("pw-644")));
    assert_non_null(strstr(st.detail, "0644"));
    assert_null(strstr(st.detail, READER_PW));
    srv.password_file = path("missing");
    assert_failure(&srv, ENOKEY, SFS_STAGE_MAP, SFS_DOMAIN_SYS, 0, &st);
    srv.password_file = dir;   /* a directory */
    assert_failure(&srv, EACCES, SFS_STAGE_MAP, SFS_DOMAIN_CONFIG, 0, &st);
    assert_non_null(strstr(st.detail, "is a directory, not a regular file"));
    /* A FIFO is refused without blocking (no writer ever comes). */
    assert_int_equal(mkfifo(path("pw-fifo"), 0600), 0);
    srv.password_file = path("pw-fifo");
    assert_failure(&srv, EACCES, SFS_STAGE_MAP, SFS_DOMAIN_CONFIG, 0, &st);
    assert_non_null(strstr(st.detail, "is a FIFO, not a regular file"));
}

static void test_unknown_base(void **state)
{
    (void)state;
    struct sfs_dir_server srv = server(uri_ldap, "ou=nope," SUFFIX);
    struct sfs_status st;
    assert_failure(&srv, ENOENT, SFS_STAGE_MAP, SFS_DOMAIN_LDAP, 32, &st);
    char want[200];
    snprintf(want, sizeof(want), "search ou=nope," SUFFIX " on %s: noSuchObject (32)", uri_ldap);
    assert_non_null(strstr(st.detail, want));
    srv.base = "dc=nope,dc=test";
    assert_failure(&srv, ENOENT, SFS_STAGE_MAP, SFS_DOMAIN_LDAP, 32, &st);
    srv.base = "not a DN";
    assert_failure(&srv, EINVAL, SFS_STAGE_MAP, SFS_DOMAIN_LDAP, 34, &st);
}

static void test_refused(void **state)
{
    (void)state;
    char uri[64];
    snprintf(uri, sizeof(uri), "ldap://%s:%d/" SUFFIX, ADDR, free_port());
    struct sfs_dir_server srv = server(uri, SUFFIX);
    struct sfs_status st;
    assert_failure(&srv, ECONNREFUSED, SFS_STAGE_CONNECT, SFS_DOMAIN_SYS, 0, &st);
    assert_non_null(strstr(st.detail, "connect ldap://" ADDR));
    assert_non_null(strstr(st.detail, strerror(ECONNREFUSED)));
    srv.uri = "ldap://no-such-host.invalid";
    assert_failure(&srv, EHOSTUNREACH, SFS_STAGE_RESOLVE, SFS_DOMAIN_DNS, 0, &st);
    assert_non_null(strstr(st.detail, "resolve ldap://no-such-host.invalid:389"));
}

/* TCP accepted, then silence: every step is bounded by the timeout. */
static void test_silent_server(void **state)
{
    (void)state;
    int port;
    int fd = silent_listener(&port);
    char uri[64], uri_s[64];
    snprintf(uri, sizeof(uri), "ldap://%s:%d", ADDR, port);
    snprintf(uri_s, sizeof(uri_s), "ldaps://%s:%d", ADDR, port);
    struct sfs_dir_server srv = server(uri, SUFFIX);
    srv.timeout_ms = 400;
    struct sfs_status st;
    double t0 = sfs_now_ms();
    assert_failure(&srv, ETIMEDOUT, SFS_STAGE_MAP, SFS_DOMAIN_LDAP, LDAP_TIMEOUT, &st);   /* the bind */
    assert_true(sfs_now_ms() - t0 < 2000);
    srv.starttls = true;   /* the StartTLS request */
    t0 = sfs_now_ms();
    assert_failure(&srv, ETIMEDOUT, SFS_STAGE_MAP, SFS_DOMAIN_LDAP, LDAP_TIMEOUT, &st);
    assert_true(sfs_now_ms() - t0 < 2000);
    srv.starttls = false;
    srv.uri = uri_s;       /* the TLS handshake */
    t0 = sfs_now_ms();
    assert_failure(&srv, ETIMEDOUT, SFS_STAGE_MAP, SFS_DOMAIN_LDAP, LDAP_TIMEOUT, &st);
    assert_true(sfs_now_ms() - t0 < 2000);
    close(fd);
}

/* A server that accepts and closes at once. */
static void test_closed_at_once(void **state)
{
    (void)state;
    int port;
    int fd = silent_listener(&port);
    char uri[64];
    snprintf(uri, sizeof(uri), "ldap://%s:%d", ADDR, port);
    struct sfs_dir_server srv = server(uri, SUFFIX);
    pid_t pid = fork();
    if (pid == 0) {
        int c = accept(fd, NULL, NULL);
        close(c);
        _exit(0);
    }
    struct sfs_dir_records r = {0};
    struct sfs_status st;
    int rc = sfs_dir_fetch(&srv, &r, NULL, &st);
    print_message("    closed at once: %s at %s, %ld: %s\n", sfs_errno_name(st.err), sfs_stage_name(st.stage), st.code,
                  st.detail);
    assert_true(rc < 0);
    assert_int_equal(st.stage, SFS_STAGE_MAP);
    assert_int_equal(st.code, LDAP_SERVER_DOWN);
    assert_true(st.err == ECONNRESET || st.err == EIO);
    assert_int_equal(r.n_records, 0);
    waitpid(pid, NULL, 0);
    close(fd);
}

static void test_starttls(void **state)
{
    (void)state;
    struct sfs_dir_server srv = server(uri_ldap, "ou=small," SUFFIX);
    srv.starttls = true;
    srv.ca_file = path("ca.pem");
    srv.bind = SFS_DIR_BIND_SIMPLE;
    srv.bind_dn = READER;
    srv.password_file = path("pw");
    struct sfs_dir_records r = {0};
    struct sfs_dir_fetch_info info;
    struct sfs_status st;
    assert_int_equal(sfs_dir_fetch(&srv, &r, &info, &st), 0);
    assert_int_equal(r.n_records, 6);
    assert_string_equal(info.tls, "starttls");
    sfs_dir_records_free(&r);

    srv.ca_file = path("other.pem");
    assert_failure(&srv, EKEYREJECTED, SFS_STAGE_MAP, SFS_DOMAIN_LDAP, LDAP_CONNECT_ERROR, &st);
    char want[120];
    snprintf(want, sizeof(want), "StartTLS with %s: ", uri_ldap);
    assert_non_null(strstr(st.detail, want));
    assert_non_null(strstr(st.detail, "certificate verify failed"));
    /* The system's CAs do not know the test CA either. */
    srv.ca_file = NULL;
    assert_failure(&srv, EKEYREJECTED, SFS_STAGE_MAP, SFS_DOMAIN_LDAP, LDAP_CONNECT_ERROR, &st);
    srv.ca_file = path("missing.pem");
    assert_failure(&srv, ENOENT, SFS_STAGE_MAP, SFS_DOMAIN_SYS, 0, &st);
}

static void test_ldaps(void **state)
{
    (void)state;
    struct sfs_dir_server srv = server(uri_ldaps, "ou=small," SUFFIX);
    srv.ca_file = path("ca.pem");
    struct sfs_dir_records r = {0};
    struct sfs_dir_fetch_info info;
    struct sfs_status st;
    assert_int_equal(sfs_dir_fetch(&srv, &r, &info, &st), 0);
    assert_int_equal(r.n_records, 6);
    assert_string_equal(info.tls, "ldaps");
    sfs_dir_records_free(&r);
    srv.ca_file = path("other.pem");
    assert_failure(&srv, EKEYREJECTED, SFS_STAGE_MAP, SFS_DOMAIN_LDAP, LDAP_CONNECT_ERROR, &st);
    assert_non_null(strstr(st.detail, "TLS (ldaps) with ldaps://"));
    /* TLS spoken to a plain LDAP port: slapd either closes (a failed
     * handshake, EKEYREJECTED) or waits for more (ETIMEDOUT). */
    char uri[64];
    snprintf(uri, sizeof(uri), "ldaps://%s:%d", ADDR, port_ldap);
    srv.uri = uri;
    srv.ca_file = path("ca.pem");
    srv.timeout_ms = 300;
    struct sfs_dir_records none = {0};
    assert_true(sfs_dir_fetch(&srv, &none, NULL, &st) < 0);
    print_message("    %s: %s: %s\n", uri, sfs_errno_name(st.err), st.detail);
    assert_true((st.err == EKEYREJECTED && st.code == LDAP_CONNECT_ERROR) ||
                (st.err == ETIMEDOUT && st.code == LDAP_TIMEOUT));
    assert_int_equal(none.n_records, 0);
}

/* More records than the server gives one search (its limit is 1000) and
 * than one page: all of them, in pages of 500. */
static void test_paging(void **state)
{
    (void)state;
    struct sfs_dir_server srv = server(uri_ldap, "ou=big," SUFFIX);
    struct sfs_dir_records r = {0};
    struct sfs_dir_fetch_info info;
    struct sfs_status st;
    assert_int_equal(sfs_dir_fetch(&srv, &r, &info, &st), 0);
    assert_int_equal(r.n_records, BIG_N + 1);
    assert_int_equal(info.n_pages, 3);
    assert_value(find(&r, "cn=k1199,nisMapName=auto.big,ou=big," SUFFIX), "nisMapEntry", "smb://fs.lab.test/s1199");
    assert_value(find(&r, "cn=k0000,nisMapName=auto.big,ou=big," SUFFIX), "nisMapEntry", "smb://fs.lab.test/s0000");
    sfs_dir_records_free(&r);
}

static void test_values(void **state)
{
    (void)state;
    struct sfs_dir_server srv = server(uri_ldap, "ou=bad," SUFFIX);
    struct sfs_status st;
    assert_failure(&srv, EINVAL, SFS_STAGE_MAP, SFS_DOMAIN_MAP, 0, &st);
    assert_non_null(strstr(st.detail, "cn=nul,nisMapName=auto.bad,ou=bad," SUFFIX));
    assert_non_null(strstr(st.detail, "NUL"));

    srv.base = "ou=huge," SUFFIX;
    struct sfs_dir_records r = {0};
    assert_int_equal(sfs_dir_fetch(&srv, &r, NULL, &st), 0);
    const struct sfs_dir_attr *a = sfs_dir_record_attr(find(&r, "cn=big,nisMapName=auto.huge,ou=huge," SUFFIX),
                                                        "nisMapEntry");
    assert_non_null(a);
    assert_int_equal(strlen(a->values[0]), strlen("smb://fs.lab.test/") + 256 * 1024);
    assert_int_equal(r.n_records, 3);
    int odd = 0;
    for (size_t i = 0; i < r.n_records; i++)
        if (strstr(r.records[i].dn, "ird") && strstr(r.records[i].dn, "\xc3\x86r\xc3\xb8"))
            odd++;
    assert_int_equal(odd, 1);
    sfs_dir_records_free(&r);
}

static void test_gssapi_no_ccache(void **state)
{
    (void)state;
    struct sfs_dir_server srv = server(uri_ldap, SUFFIX);
    srv.bind = SFS_DIR_BIND_GSSAPI;
    srv.krb5_ccache = "FILE:/nonexistent/sharesfs-test-ccache";
    struct sfs_status st;
    assert_failure(&srv, ENOKEY, SFS_STAGE_MAP, SFS_DOMAIN_KRB5, 0, &st);
    assert_non_null(strstr(st.detail, "bind (gssapi) to ldap://" ADDR));
    assert_non_null(strstr(st.detail, "/nonexistent/sharesfs-test-ccache"));
    assert_non_null(strstr(st.detail, "kinit"));
}

static void test_arguments(void **state)
{
    (void)state;
    struct sfs_status st;
    struct sfs_dir_server srv = server("http://x", SUFFIX);
    assert_failure(&srv, EINVAL, SFS_STAGE_MAP, SFS_DOMAIN_URL, 0, &st);
    srv = server(uri_ldaps, SUFFIX);
    srv.starttls = true;
    assert_failure(&srv, EINVAL, SFS_STAGE_MAP, SFS_DOMAIN_CONFIG, 0, &st);
    srv = server(uri_ldap, NULL);
    assert_failure(&srv, EINVAL, SFS_STAGE_MAP, SFS_DOMAIN_CONFIG, 0, &st);
    srv = server(uri_ldap, SUFFIX);
    srv.bind = SFS_DIR_BIND_SIMPLE;   /* no DN */
    assert_failure(&srv, EINVAL, SFS_STAGE_MAP, SFS_DOMAIN_CONFIG, 0, &st);
    /* OUT must start empty. */
    struct sfs_dir_records r = {0};
    assert_non_null(sfs_dir_records_add(&r, "cn=x"));
    srv = server(uri_ldap, SUFFIX);
    assert_int_equal(sfs_dir_fetch(&srv, &r, NULL, &st), -EINVAL);
    assert_int_equal(r.n_records, 1);
    sfs_dir_records_free(&r);
}

static void test_uri_parse(void **state)
{
    (void)state;
    struct dir_uri u;
    struct sfs_status st;
    assert_int_equal(dir_uri_parse("ldap://ldap.lab.test", &u, &st), 0);
    assert_string_equal(u.text, "ldap://ldap.lab.test:389");
    assert_false(u.ldaps);
    assert_int_equal(dir_uri_parse("LDAPS://ldap.lab.test/dc=lab,dc=test", &u, &st), 0);
    assert_string_equal(u.text, "ldaps://ldap.lab.test:636");
    assert_int_equal(dir_uri_parse("ldap://10.0.0.1:3389/", &u, &st), 0);
    assert_string_equal(u.host, "10.0.0.1");
    assert_int_equal(u.port, 3389);
    assert_int_equal(dir_uri_parse("ldap://[fd00::1]:10389", &u, &st), 0);
    assert_string_equal(u.host, "fd00::1");
    assert_string_equal(u.text, "ldap://[fd00::1]:10389");
    static const char *const bad[] = {
        "ldapi:///var/run/slapd", "ldap://", "ldap://:389", "ldap://h:0", "ldap://h:65536", "ldap://h:12x",
        "ldap://[fd00::1", "ldap://h?x", "ldap://us@h", "ldap://h:", NULL,
    };
    for (size_t i = 0; bad[i]; i++) {
        assert_int_equal(dir_uri_parse(bad[i], &u, &st), -EINVAL);
        assert_int_equal(st.stage, SFS_STAGE_MAP);
    }
    assert_int_equal(dir_uri_parse(NULL, &u, &st), -EINVAL);
    char longhost[300];
    snprintf(longhost, sizeof(longhost), "ldap://%0250d", 0);
    assert_int_equal(dir_uri_parse(longhost, &u, &st), -EINVAL);
}

static void test_bind_names(void **state)
{
    (void)state;
    enum sfs_dir_bind b;
    assert_string_equal(sfs_dir_bind_name(SFS_DIR_BIND_ANONYMOUS), "anonymous");
    assert_string_equal(sfs_dir_bind_name(SFS_DIR_BIND_SIMPLE), "simple");
    assert_string_equal(sfs_dir_bind_name(SFS_DIR_BIND_GSSAPI), "gssapi");
    assert_string_equal(sfs_dir_bind_name((enum sfs_dir_bind)7), "?");
    assert_int_equal(sfs_dir_bind_from_name("GSSAPI", &b), 0);
    assert_int_equal(b, SFS_DIR_BIND_GSSAPI);
    assert_int_equal(sfs_dir_bind_from_name("simple", &b), 0);
    assert_int_equal(b, SFS_DIR_BIND_SIMPLE);
    assert_int_equal(sfs_dir_bind_from_name("kerberos", &b), -EINVAL);
    assert_int_equal(sfs_dir_bind_from_name(NULL, &b), -EINVAL);
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* Several fetches at once (no shared state), and no descriptor left open. */
static void *fetch_thread(void *arg)
{
    const struct sfs_dir_server *srv = arg;
    for (int i = 0; i < 3; i++) {
        struct sfs_dir_records r = {0};
        struct sfs_status st;
        if (sfs_dir_fetch(srv, &r, NULL, &st) != 0 || r.n_records != 6) {
            sfs_dir_records_free(&r);
            return (void *)1;
        }
        sfs_dir_records_free(&r);
    }
    return NULL;
}

static void test_threads_and_fds(void **state)
{
    (void)state;
    int before = count_fds();
    struct sfs_dir_server srv[4];
    for (int i = 0; i < 4; i++) {
        srv[i] = server(i % 2 ? uri_ldaps : uri_ldap, "ou=small," SUFFIX);
        srv[i].starttls = i == 2;
        srv[i].ca_file = path(i == 3 ? "other.pem" : "ca.pem");
    }
    srv[3].uri = uri_ldaps;
    srv[3].ca_file = path("ca.pem");
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, fetch_thread, &srv[i]), 0);
    for (int i = 0; i < 4; i++) {
        void *res = NULL;
        pthread_join(t[i], &res);
        assert_null(res);
    }
    assert_int_equal(count_fds(), before);
    /* Failures at each step leave nothing open either. */
    struct sfs_dir_server bad[3] = {server(uri_ldap, "ou=small," SUFFIX), server(uri_ldaps, "ou=small," SUFFIX),
                                    server(uri_ldap, "ou=nope," SUFFIX)};
    bad[0].bind = SFS_DIR_BIND_SIMPLE;
    bad[0].bind_dn = READER;
    bad[0].password_file = path("pw-wrong");
    bad[1].ca_file = path("other.pem");
    for (int i = 0; i < 3; i++) {
        struct sfs_dir_records r = {0};
        struct sfs_status st;
        assert_true(sfs_dir_fetch(&bad[i], &r, NULL, &st) < 0);
    }
    assert_int_equal(count_fds(), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uri_parse),        cmocka_unit_test(test_bind_names),
        cmocka_unit_test(test_arguments),        cmocka_unit_test(test_anonymous),
        cmocka_unit_test(test_simple_bind),      cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_password_file_mode), cmocka_unit_test(test_unknown_base),
        cmocka_unit_test(test_refused),          cmocka_unit_test(test_silent_server),
        cmocka_unit_test(test_closed_at_once),   cmocka_unit_test(test_starttls),
        cmocka_unit_test(test_ldaps),            cmocka_unit_test(test_paging),
        cmocka_unit_test(test_values),           cmocka_unit_test(test_gssapi_no_ccache),
        cmocka_unit_test(test_threads_and_fds),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
