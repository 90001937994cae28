/* afpsim: command line, listening socket, one forked process per
 * connection, clean shutdown on SIGTERM. */
#include "afpsim.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gcrypt.h>

#include "afp/afp_uam.h"

static volatile sig_atomic_t got_term, got_chld;

static void on_signal(int sig)
{
    if (sig == SIGCHLD)
        got_chld = 1;
    else
        got_term = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
        "usage: afpsim --listen ADDR:PORT --personality FILE --users FILE\n"
        "              [--root DIR] [--volume NAME=DIR[:valid=USER,...][:ro] ...]\n"
        "              [--log FILE] [--foreground] [--pidfile FILE] [--verbose]\n"
        "              [--set GROUP.KEY=VALUE ...] [--hostile MODE[,MODE...]]\n"
        "              [--max-sessions N] [--keytab FILE] [--check]\n"
        "\n"
        "  --listen ADDR:PORT  address to bind (IPv4, or [IPv6]:PORT); never a wildcard\n"
        "  --root DIR          every subdirectory of DIR becomes a volume open to all\n"
        "  --volume NAME=DIR   a volume; valid= limits it to these users (no guests)\n"
        "  --personality FILE  contrib/afpsim/personalities/NAME.conf\n"
        "  --users FILE        user:password lines\n"
        "  --set G.K=V         override a personality key (e.g. server.server_name=lion)\n"
        "  --hostile MODES     shortcut for --set hostile.mode=MODES\n"
        "  --keytab FILE       accept \"Client Krb v2\" logins with this keytab (GSSAPI)\n"
        "  --check             load everything, print the personality, exit\n");
}

static int parse_listen(const char *s, struct sockaddr_storage *ss)
{
    char host[256];
    const char *port_s;
    memset(ss, 0, sizeof(*ss));
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof(host))
            return -1;
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = '\0';
        port_s = end + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof(host))
            return -1;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
        port_s = colon + 1;
    }
    char *end;
    long port = strtol(port_s, &end, 10);
    if (!*port_s || *end || port <= 0 || port > 65535)
        return -1;
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        if (a4->sin_addr.s_addr == htonl(INADDR_ANY)) {
            fprintf(stderr, "afpsim: refusing the wildcard address %s\n", host);
            return -1;
        }
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        if (IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr)) {
            fprintf(stderr, "afpsim: refusing the wildcard address %s\n", host);
            return -1;
        }
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        return 0;
    }
    return -1;
}

static int add_volume(struct server *srv, const char *name, const char *dir, char **valid, bool ro)
{
    char real[PATH_MAX];
    struct stat st;
    if (!*name || strlen(name) > 27) {
        /* AFP volume names are at most 27 bytes. */
        fprintf(stderr, "afpsim: volume name \"%s\" must be 1..27 bytes\n", name);
        return -1;
    }
    if (!realpath(dir, real) || stat(real, &st) || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "afpsim: volume %s: %s is not a directory\n", name, dir);
        return -1;
    }
    for (size_t i = 0; i < srv->n_vols; i++)
        if (!g_ascii_strcasecmp(srv->vols[i].name, name)) {
            /* --volume given after --root's automatic volumes replaces them. */
            g_free(srv->vols[i].path);
            g_strfreev(srv->vols[i].valid);
            srv->vols[i].path = g_strdup(real);
            srv->vols[i].valid = valid;
            srv->vols[i].ro = ro;
            return 0;
        }
    if (srv->n_vols >= AFPSIM_MAX_VOLUMES) {
        fprintf(stderr, "afpsim: too many volumes\n");
        return -1;
    }
    struct volume *v = &srv->vols[srv->n_vols];
    v->name = g_strdup(name);
    v->path = g_strdup(real);
    v->valid = valid;
    v->ro = ro;
    v->id = (uint16_t)(srv->n_vols + 1);
    srv->n_vols++;
    return 0;
}

/* NAME=DIR[:valid=u1,u2][:ro] */
static int parse_volume(struct server *srv, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) {
        fprintf(stderr, "afpsim: --volume %s: expected NAME=DIR\n", arg);
        return -1;
    }
    char *name = g_strndup(arg, (size_t)(eq - arg));
    char **parts = g_strsplit(eq + 1, ":", -1);
    char **valid = NULL;
    bool ro = false;
    int rc = 0;
    for (size_t i = 1; parts[i]; i++) {
        if (g_str_has_prefix(parts[i], "valid=")) {
            char **l = g_strsplit(parts[i] + 6, ",", -1);
            g_strfreev(valid);
            valid = l;
        } else if (!strcmp(parts[i], "ro")) {
            ro = true;
        } else {
            fprintf(stderr, "afpsim: --volume %s: unknown option \"%s\"\n", arg, parts[i]);
            rc = -1;
        }
    }
    if (rc == 0)
        rc = add_volume(srv, name, parts[0], valid, ro);
    else
        g_strfreev(valid);
    g_free(name);
    g_strfreev(parts);
    return rc;
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int root_volumes(struct server *srv, const char *root)
{
    DIR *d = opendir(root);
    if (!d) {
        fprintf(stderr, "afpsim: --root %s: %s\n", root, strerror(errno));
        return -1;
    }
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *p = g_build_filename(root, de->d_name, NULL);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode) && strlen(de->d_name) <= 27)
            g_ptr_array_add(names, g_strdup(de->d_name));
        g_free(p);
    }
    closedir(d);
    g_ptr_array_sort(names, cmp_str_ptr);
    int rc = 0;
    for (guint i = 0; i < names->len && rc == 0; i++) {
        const char *n = g_ptr_array_index(names, i);
        char *p = g_build_filename(root, n, NULL);
        rc = add_volume(srv, n, p, NULL, false);
        g_free(p);
    }
    g_ptr_array_free(names, TRUE);
    return rc;
}

int main(int argc, char **argv)
{
    static struct server srv;
    const char *listen_s = NULL, *root = NULL, *pfile = NULL, *ufile = NULL;
    const char *logfile = NULL, *pidfile = NULL, *keytab = NULL;
    bool foreground = false, check = false, krb_ok = false;
    long max_sessions = 256;
    GPtrArray *overrides = g_ptr_array_new();
    GPtrArray *volargs = g_ptr_array_new();
    enum { O_SET = 256, O_HOSTILE, O_PIDFILE, O_MAXSESS, O_CHECK, O_KEYTAB };
    static const struct option opts[] = {
        { "listen", required_argument, NULL, 'l' },
        { "root", required_argument, NULL, 'r' },
        { "personality", required_argument, NULL, 'p' },
        { "users", required_argument, NULL, 'u' },
        { "volume", required_argument, NULL, 'V' },
        { "log", required_argument, NULL, 'L' },
        { "foreground", no_argument, NULL, 'f' },
        { "verbose", no_argument, NULL, 'v' },
        { "set", required_argument, NULL, O_SET },
        { "hostile", required_argument, NULL, O_HOSTILE },
        { "pidfile", required_argument, NULL, O_PIDFILE },
        { "max-sessions", required_argument, NULL, O_MAXSESS },
        { "check", no_argument, NULL, O_CHECK },
        { "keytab", required_argument, NULL, O_KEYTAB },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "l:r:p:u:V:L:fvh", opts, NULL)) != -1) {
        switch (c) {
        case 'l': listen_s = optarg; break;
        case 'r': root = optarg; break;
        case 'p': pfile = optarg; break;
        case 'u': ufile = optarg; break;
        case 'V': g_ptr_array_add(volargs, optarg); break;
        case 'L': logfile = optarg; break;
        case 'f': foreground = true; break;
        case 'v': log_set_level(LOG_DEBUG); break;
        case O_SET: g_ptr_array_add(overrides, optarg); break;
        case O_HOSTILE: g_ptr_array_add(overrides, g_strdup_printf("hostile.mode=%s", optarg)); break;
        case O_PIDFILE: pidfile = optarg; break;
        case O_MAXSESS: max_sessions = strtol(optarg, NULL, 10); break;
        case O_CHECK: check = true; break;
        case O_KEYTAB: keytab = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc || !pfile || (!check && (!listen_s || !ufile)) || max_sessions < 1) {
        usage(stderr);
        return 2;
    }
    g_ptr_array_add(overrides, NULL);
    log_open(logfile);

    if (afp_crypto_init()) {
        fprintf(stderr, "afpsim: libgcrypt initialisation failed\n");
        return 1;
    }
    if (persona_load(&srv.p, pfile, (char **)overrides->pdata)) {
        fprintf(stderr, "afpsim: cannot load personality %s (see the log)\n", pfile);
        return 1;
    }
    if (ufile) {
        srv.users = users_load(ufile);
        if (!srv.users) {
            fprintf(stderr, "afpsim: cannot load users file %s (see the log)\n", ufile);
            return 1;
        }
    } else {
        srv.users = g_hash_table_new(g_str_hash, g_str_equal);
    }
    if (keytab) {
        srv.keytab = krb_keytab_resolve(keytab);
        if (!srv.keytab)
            return 1;
        if (!persona_offers_uam(&srv.p, "Client Krb v2"))
            log_msg(LOG_WARN, "--keytab: personality %s does not offer Client Krb v2", srv.p.name);
        /* A keytab without the personality's principal is logged, not
         * fatal: logins then fail with kFPMiscErr, like a misconfigured afpd. */
        krb_ok = krb_check(srv.keytab, srv.p.krb_principal) == 0;
        if (!krb_ok && !check)
            fprintf(stderr, "afpsim: warning: --keytab %s has no key for %s (see the log)\n", keytab,
                    srv.p.krb_principal ? srv.p.krb_principal : "any principal");
    }
    if (root && root_volumes(&srv, root))
        return 1;
    for (guint i = 0; i < volargs->len; i++)
        if (parse_volume(&srv, g_ptr_array_index(volargs, i)))
            return 1;
    if (listen_s && parse_listen(listen_s, &srv.listen)) {
        fprintf(stderr, "afpsim: --listen %s: expected IPv4:PORT or [IPv6]:PORT, not a wildcard\n",
                listen_s);
        return 2;
    }
    if (check) {
        if (!listen_s) {
            struct sockaddr_in *a = (struct sockaddr_in *)&srv.listen;
            a->sin_family = AF_INET;
            a->sin_port = htons(DSI_DEFAULT_PORT);
            a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        }
        persona_dump(&srv.p, stdout);
        if (srv.keytab)
            printf("keytab        %s (%s)\n", srv.keytab,
                   krb_ok ? "ok" : "no usable key, see the log");
        GByteArray *st = status_build(&srv.p, &srv.listen, false);
        printf("status block  %u bytes\n", st->len);
        for (size_t i = 0; i < srv.n_vols; i++) {
            printf("volume %u      %s = %s%s", srv.vols[i].id, srv.vols[i].name, srv.vols[i].path,
                   srv.vols[i].ro ? " (read-only)" : "");
            if (srv.vols[i].valid) {
                char *l = g_strjoinv(",", srv.vols[i].valid);
                printf(" valid users: %s", l);
                g_free(l);
            }
            printf("\n");
        }
        if (srv.users) {
            guint n;
            char **u = (char **)g_hash_table_get_keys_as_array(srv.users, &n);
            qsort(u, n, sizeof(char *), cmp_str_ptr);
            printf("users        ");
            for (guint i = 0; i < n; i++)
                printf(" %s", u[i]);
            printf("\n");
            g_free(u);
        }
        return 0;
    }
    if (srv.n_vols == 0)
        log_msg(LOG_WARN, "no volumes (use --root or --volume)");

    int lfd = socket(srv.listen.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one))) {
        fprintf(stderr, "afpsim: socket: %s\n", strerror(errno));
        return 1;
    }
    if (srv.listen.ss_family == AF_INET6)
        setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    socklen_t alen = srv.listen.ss_family == AF_INET ? sizeof(struct sockaddr_in)
                                                     : sizeof(struct sockaddr_in6);
    if (bind(lfd, (struct sockaddr *)&srv.listen, alen) || listen(lfd, 128)) {
        fprintf(stderr, "afpsim: bind %s: %s\n", listen_s, strerror(errno));
        return 1;
    }
    srv.status = status_build(&srv.p, &srv.listen, false);
    srv.status_bad = status_build(&srv.p, &srv.listen, true);

    int rc = cnid_init(1u << 20);
    if (rc) {
        fprintf(stderr, "afpsim: node table: %s\n", strerror(-rc));
        return 1;
    }
    cnid_set_first(srv.p.first_cnid);

    if (!foreground) {
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "afpsim: fork: %s\n", strerror(errno));
            return 1;
        }
        if (pid > 0)
            _exit(0);   /* the socket is bound and listening already */
        setsid();
        int nul = open("/dev/null", O_RDWR);
        if (nul >= 0) {
            dup2(nul, STDIN_FILENO);
            dup2(nul, STDOUT_FILENO);
            if (logfile)
                dup2(nul, STDERR_FILENO);
            if (nul > STDERR_FILENO)
                close(nul);
        }
    }
    if (pidfile) {
        FILE *f = fopen(pidfile, "w");
        if (f) {
            fprintf(f, "%ld\n", (long)getpid());
            fclose(f);
        } else {
            log_msg(LOG_WARN, "pidfile %s: %s", pidfile, strerror(errno));
        }
    }

    static const int sigs[] = { SIGTERM, SIGINT, SIGCHLD };
    sigset_t orig, waitmask, usr1;
    signals_catch(on_signal, sigs, G_N_ELEMENTS(sigs), &orig, &waitmask);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    /* SIGUSR1 is for the sessions (session.c): blocked here */
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL);

    char addrbuf[INET6_ADDRSTRLEN] = "?";
    if (srv.listen.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&srv.listen)->sin_addr, addrbuf, sizeof(addrbuf));
    else
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&srv.listen)->sin6_addr, addrbuf, sizeof(addrbuf));
    log_msg(LOG_INFO, "listening on %s port %u, personality %s, %zu volume(s)", addrbuf,
            ntohs(((struct sockaddr_in *)&srv.listen)->sin_port), srv.p.name, srv.n_vols);

    GHashTable *children = g_hash_table_new(g_direct_hash, g_direct_equal);
    while (!got_term) {
        struct pollfd pfd = { .fd = lfd, .events = POLLIN };
        int n = ppoll(&pfd, 1, NULL, &waitmask);
        if (got_chld) {
            got_chld = 0;
            pid_t p;
            int status;
            while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
                g_hash_table_remove(children, GINT_TO_POINTER(p));
                if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM && WTERMSIG(status) != SIGKILL)
                    log_msg(LOG_ERR, "session %ld died of signal %d", (long)p, WTERMSIG(status));
            }
        }
        if (n <= 0 || !(pfd.revents & POLLIN))
            continue;
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        int cfd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
        if (cfd < 0)
            continue;
        if (g_hash_table_size(children) >= (guint)max_sessions) {
            log_msg(LOG_WARN, "too many sessions (%ld), refusing a connection", max_sessions);
            close(cfd);
            continue;
        }
        pid_t pid = fork();
        if (pid == 0) {
            close(lfd);
            g_hash_table_steal_all(children);
            signal(SIGCHLD, SIG_DFL);
            sigprocmask(SIG_SETMASK, &orig, NULL);
            session_run(&srv, cfd, &peer);
        }
        if (pid < 0)
            log_msg(LOG_ERR, "fork: %s", strerror(errno));
        else
            g_hash_table_add(children, GINT_TO_POINTER(pid));
        close(cfd);
    }

    log_msg(LOG_INFO, "shutting down (%u session(s))", g_hash_table_size(children));
    close(lfd);
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, children);
    while (g_hash_table_iter_next(&it, &key, NULL))
        kill(GPOINTER_TO_INT(key), SIGTERM);
    /* Sessions send their attention and close quickly; give them 3 s. */
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += 3;
    while (g_hash_table_size(children) > 0) {
        int status;
        pid_t p = waitpid(-1, &status, WNOHANG);
        if (p > 0) {
            g_hash_table_remove(children, GINT_TO_POINTER(p));
            continue;
        }
        if (p < 0 && errno == ECHILD)
            break;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > deadline.tv_sec ||
            (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec)) {
            g_hash_table_iter_init(&it, children);
            while (g_hash_table_iter_next(&it, &key, NULL))
                kill(GPOINTER_TO_INT(key), SIGKILL);
            while (waitpid(-1, &status, 0) > 0)
                ;
            break;
        }
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    if (pidfile)
        unlink(pidfile);
    log_msg(LOG_INFO, "stopped");
    return 0;
}
