/* afptest: probe every entry of automount maps, or single URLs, stage by
 * stage, and report one row per mount point.  Exit 0: all passed; 1: some
 * entry failed; 2: usage, config or map error. */
#include <errno.h>
#include <glib.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sharesfs/clock.h"
#include "info.h"
#include "matrix/matrix.h"
#include "report.h"
#include "sharesfs/config.h"
#include "sharesfs/map.h"
#include "sharesfs/map_sources.h"
#include "sharesfs/probe.h"

#define EXIT_ALL_OK 0
#define EXIT_SOME_FAILED 1
#define EXIT_USAGE 2

struct job_list {
    const struct sfs_map_entry **entries;
    struct sfs_probe_result *results;
    size_t n;
    const struct sfs_config *cfg;
    const struct sfs_probe_options *opts;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: afptest probe [options] MAP|URL...\n"
            "       afptest info [-t SECS] URL\n"
            "       afptest matrix run|compare|plan ...   (afptest matrix --help)\n"
            "       afptest --version\n"
            "\n"
            "Probes each entry of the automount maps (auto_master, indirect or direct maps,\n"
            "Linux sun-format maps) or each URL through the stages parse, resolve, connect,\n"
            "negotiate, authenticate, mount, list, read, and prints one row per mount point.\n"
            "\n"
            "options:\n"
            "  -j, --jobs N        probe N entries at a time (default 4)\n"
            "  -t, --timeout SECS  timeout of each stage (default 10, or the config's)\n"
            "      --json          JSON report (schema sharesfs.afptest/1, docs/afptest-json.md)\n"
            "      --table         aligned table (the default)\n"
            "  -c, --config FILE   sharesfs.conf to use (default /etc/sharesfs/sharesfs.conf if present)\n"
            "  -r, --root DIR      mount root for an indirect map given alone (default /Network/Shares)\n"
            "  -k, --key KEY       probe only this key (repeatable; also instantiates '*' entries)\n"
            "      --read PATH     file to read in the read stage (default: the first file listed)\n"
            "      --no-read       stop after the list stage\n"
            "  -v, --verbose       table: add every stage's time per entry\n"
            "\n"
            "Passwords are never taken from the command line: use a credentials file\n"
            "(credentials= in the map, mode 0600) or SHARESFS_PASSWORD.\n"
            "exit status: 0 all entries passed, 1 some entry failed, 2 usage or map error\n");
}

/* Each entry is probed in a child process: libsmbclient is not safe to call
 * from several threads at once, and a library crash costs one row, not the
 * report.  Children are forked from this single-threaded parent only
 * (fork from a threaded process can deadlock the sanitizers' allocators). */
struct child {
    pid_t pid;
    int fd;
    size_t index, got;
    double deadline;
};

static void fail_row(struct sfs_probe_result *r, const struct sfs_map_entry *e, int wstatus, bool timed_out,
                     int deadline_ms)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->key, sizeof(r->key), "%s", e->key);
    snprintf(r->mountpoint, sizeof(r->mountpoint), "%s", e->mountpoint ? e->mountpoint : e->key);
    snprintf(r->url, sizeof(r->url), "%s", e->location_display ? e->location_display : "");
    if (timed_out)
        sfs_status_set(&r->status, SFS_STAGE_CONNECT, ETIMEDOUT, SFS_DOMAIN_SYS, ETIMEDOUT,
                       "the probe did not finish within %d ms", deadline_ms);
    else if (WIFSIGNALED(wstatus))
        sfs_status_set(&r->status, SFS_STAGE_CONNECT, EIO, SFS_DOMAIN_SYS, 0,
                       "the probe process died of signal %d (%s): a client library bug", WTERMSIG(wstatus),
                       strsignal(WTERMSIG(wstatus)));
    else
        sfs_status_set(&r->status, SFS_STAGE_CONNECT, EIO, SFS_DOMAIN_SYS, 0,
                       "the probe process exited with status %d before reporting", WEXITSTATUS(wstatus));
}

static bool spawn(struct job_list *jobs, size_t i, struct child *c, int deadline_ms)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return false;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    if (pid == 0) {
        close(fds[0]);
        struct sfs_probe_result *mine = calloc(1, sizeof(*mine));
        if (mine) {
            sfs_probe_entry(jobs->entries[i], jobs->cfg, jobs->opts, mine);
            const char *p = (const char *)mine;
            size_t left = sizeof(*mine);
            while (left > 0) {
                ssize_t n = write(fds[1], p, left);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0)
                    _exit(3);
                p += n;
                left -= (size_t)n;
            }
        }
        _exit(mine ? 0 : 4);
    }
    close(fds[1]);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    *c = (struct child){.pid = pid, .fd = fds[0], .index = i, .deadline = sfs_now_ms() + deadline_ms};
    return true;
}

/* Reads what the child sent; true when the child is finished with. */
static bool drain(struct job_list *jobs, struct child *c, bool timed_out, int deadline_ms)
{
    struct sfs_probe_result *r = &jobs->results[c->index];
    while (!timed_out && c->got < sizeof(*r)) {
        ssize_t n = read(c->fd, (char *)r + c->got, sizeof(*r) - c->got);
        if (n > 0) {
            c->got += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return false;
        break;   /* EOF: the child is gone */
    }
    if (timed_out)
        kill(c->pid, SIGKILL);
    int wstatus = 0;
    waitpid(c->pid, &wstatus, 0);
    close(c->fd);
    if (c->got < sizeof(*r))
        fail_row(r, jobs->entries[c->index], wstatus, timed_out, deadline_ms);
    c->pid = 0;
    return true;
}

static void run_probes(struct job_list *jobs, int max_children)
{
    /* Every stage has its own timeout; allow them all plus slack. */
    int deadline_ms = sfs_config_timeout_ms(jobs->cfg) * (SFS_STAGE_COUNT + 1) + 5000;
    struct child *kids = calloc((size_t)max_children, sizeof(*kids));
    size_t next = 0, running = 0;
    while (next < jobs->n || running > 0) {
        for (int k = 0; k < max_children && next < jobs->n; k++) {
            if (kids[k].pid)
                continue;
            if (spawn(jobs, next, &kids[k], deadline_ms)) {
                running++;
            } else {
                /* No process to spare: probe here, without isolation. */
                sfs_probe_entry(jobs->entries[next], jobs->cfg, jobs->opts, &jobs->results[next]);
            }
            next++;
        }
        struct pollfd pfds[256];
        int map[256], n = 0;
        for (int k = 0; k < max_children; k++)
            if (kids[k].pid) {
                pfds[n] = (struct pollfd){.fd = kids[k].fd, .events = POLLIN};
                map[n++] = k;
            }
        if (n == 0)
            continue;
        poll(pfds, (nfds_t)n, 200);
        double now = sfs_now_ms();
        for (int i = 0; i < n; i++) {
            struct child *c = &kids[map[i]];
            bool late = now > c->deadline;
            if ((pfds[i].revents || late) && drain(jobs, c, late && !pfds[i].revents, deadline_ms))
                running--;
        }
    }
    free(kids);
}

/* A share URL (an LDAP URL is a map: a directory source). */
static bool looks_like_url(const char *arg)
{
    if (g_ascii_strncasecmp(arg, "ldap:", 5) == 0 || g_ascii_strncasecmp(arg, "ldaps:", 6) == 0)
        return false;
    return strstr(arg, "://") != NULL || strncmp(arg, "//", 2) == 0;
}

static bool looks_like_ldap(const char *arg)
{
    return g_ascii_strncasecmp(arg, "ldap:", 5) == 0 || g_ascii_strncasecmp(arg, "ldaps:", 6) == 0;
}

/* The row of a directory source: stage map, the server asked, the records
 * it gave (as "listed") or why it could not be read. */
static void dirref_row(const struct sfs_map_dirref *ref, struct sfs_probe_result *r)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->key, sizeof(r->key), "%s", ref->label);
    snprintf(r->mountpoint, sizeof(r->mountpoint), "%s", ref->root ? ref->root : "");
    snprintf(r->url, sizeof(r->url), "%s%s%s", ref->server, ref->base ? "/" : "", ref->base ? ref->base : "");
    snprintf(r->protocol, sizeof(r->protocol), "ldap");
    snprintf(r->auth, sizeof(r->auth), "%s", ref->auth);
    snprintf(r->source, sizeof(r->source), "%s", ref->where);
    r->status = ref->status;
    r->ran[SFS_STAGE_MAP] = true;
    r->ms[SFS_STAGE_MAP] = ref->ms;
    r->reached = ref->status.err ? SFS_STAGE_PARSE : SFS_STAGE_MAP;
    r->listed = (unsigned)ref->n_entries;
}

/* A URL from the command line becomes a one-entry map keyed by its share. */
static int map_from_url(const char *url, const char *root, struct sfs_map *map, struct sfs_parse_error *perr)
{
    struct sfs_url parsed;
    int rc = sfs_url_parse(url, &parsed, perr);
    if (rc < 0)
        return rc;
    bool has_password = parsed.password != NULL;
    char key[256];
    snprintf(key, sizeof(key), "%s", parsed.share ? parsed.share : parsed.host);
    for (char *p = key; *p; p++)
        if (*p == '/' || *p == ' ' || *p == '\t')
            *p = '_';
    sfs_url_free(&parsed);
    if (has_password) {
        snprintf(perr->message, sizeof(perr->message),
                 "a password on the command line is visible to every user of this machine: "
                 "use SHARESFS_PASSWORD or a credentials file");
        perr->column = 1;
        return -EINVAL;
    }
    char *text = NULL;
    if (asprintf(&text, "%s -fstype=url %s\n", key, url) < 0)
        return -ENOMEM;
    rc = sfs_map_parse_text(text, "command line", root, map, perr);
    free(text);
    return rc;
}

static bool key_selected(char **keys, size_t n_keys, const struct sfs_map_entry *e)
{
    if (n_keys == 0)
        return !e->wildcard;
    for (size_t i = 0; i < n_keys; i++)
        if (!strcmp(keys[i], e->key) || (e->mountpoint && !strcmp(keys[i], e->mountpoint)))
            return true;
    return false;
}

struct cli {
    int jobs;
    double timeout_s;
    bool json, verbose;
    const char *config_path, *root;
    char *keys[64];
    size_t n_keys;
    struct sfs_probe_options popts;
};

/* One getopt pass; -1 to go on, else the exit status (--help, errors). */
static int parse_options(int argc, char **argv, const struct option *long_opts, struct cli *cli)
{
    int opt;
    while ((opt = getopt_long(argc, argv, "+j:t:c:r:k:hVv", long_opts, NULL)) != -1) {
        switch (opt) {
        case 'j': cli->jobs = atoi(optarg); break;
        case 't': cli->timeout_s = atof(optarg); break;
        case 'J': cli->json = true; break;
        case 'T': cli->json = false; break;
        case 'c': cli->config_path = optarg; break;
        case 'r': cli->root = optarg; break;
        case 'k':
            if (cli->n_keys < 64)
                cli->keys[cli->n_keys++] = optarg;
            break;
        case 'R': cli->popts.read_path = optarg; break;
        case 'N': cli->popts.skip_read = true; break;
        case 'v': cli->verbose = true; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("afptest %s\n", SHARESFS_VERSION); return 0;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    return -1;
}

int main(int argc, char **argv)
{
    static const struct option long_opts[] = {
        {"jobs", required_argument, NULL, 'j'},   {"timeout", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'J'},         {"table", no_argument, NULL, 'T'},
        {"config", required_argument, NULL, 'c'}, {"root", required_argument, NULL, 'r'},
        {"key", required_argument, NULL, 'k'},    {"read", required_argument, NULL, 'R'},
        {"no-read", no_argument, NULL, 'N'},      {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {"verbose", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    if (argc > 1 && strcmp(argv[1], "matrix") == 0)
        return afptest_matrix(argc - 1, argv + 1);
    struct cli cli = {.jobs = 4, .root = "/Network/Shares"};
    int rc = parse_options(argc, argv, long_opts, &cli);
    if (rc >= 0)
        return rc;
    if (optind < argc && strcmp(argv[optind], "info") == 0) {
        optind++;   /* options may follow the command word, as usage shows: info -t 3 URL */
        if ((rc = parse_options(argc, argv, long_opts, &cli)) >= 0)
            return rc;
        if (optind + 1 != argc) {
            usage(stderr);
            return EXIT_USAGE;
        }
        return afptest_info(argv[optind], cli.timeout_s > 0 ? (int)(cli.timeout_s * 1000) : 10000);
    }
    if (optind < argc && strcmp(argv[optind], "probe") == 0)
        optind++;
    else if (optind < argc && !looks_like_url(argv[optind]) && !looks_like_ldap(argv[optind]) &&
             access(argv[optind], F_OK) != 0) {
        fprintf(stderr, "afptest: unknown command '%s'\n", argv[optind]);
        usage(stderr);
        return EXIT_USAGE;
    }
    /* Options may also follow the command word. */
    if ((rc = parse_options(argc, argv, long_opts, &cli)) >= 0)
        return rc;
    int jobs = cli.jobs;
    double timeout_s = cli.timeout_s;
    bool json = cli.json, verbose = cli.verbose;
    const char *config_path = cli.config_path, *root = cli.root;
    char **keys = cli.keys;
    size_t n_keys = cli.n_keys;
    struct sfs_probe_options popts = cli.popts;
    if (optind >= argc || jobs < 1 || jobs > 256 || timeout_s < 0) {
        usage(stderr);
        return EXIT_USAGE;
    }

    struct sfs_status st = {0};
    struct sfs_config *cfg = NULL;
    if (sfs_config_load(config_path, &cfg, &st) < 0) {
        fprintf(stderr, "afptest: %s\n", st.detail);
        return EXIT_USAGE;
    }
    if (timeout_s > 0)
        sfs_config_set_timeout_ms(cfg, (int)(timeout_s * 1000));

    size_t n_inputs = (size_t)(argc - optind);
    struct sfs_map *maps = calloc(n_inputs, sizeof(*maps));
    size_t total = 0, n_warnings = 0;
    int exit_code = EXIT_ALL_OK;
    for (size_t i = 0; i < n_inputs; i++) {
        const char *arg = argv[optind + (int)i];
        struct sfs_parse_error perr = {0};
        int rc = looks_like_url(arg) ? map_from_url(arg, root, &maps[i], &perr)
                                     : sfs_engine_map_load(arg, root, cfg, &maps[i], &perr);
        if (rc < 0) {
            char msg[768];
            sfs_parse_error_format(&perr, msg, sizeof(msg));
            fprintf(stderr, "afptest: %s: %s\n", looks_like_url(arg) ? "URL" : arg, msg);
            exit_code = EXIT_USAGE;
            continue;
        }
        total += maps[i].n_entries + maps[i].n_dirrefs;
        n_warnings += maps[i].n_warnings;
    }
    if (exit_code == EXIT_USAGE) {
        for (size_t i = 0; i < n_inputs; i++)
            sfs_map_free(&maps[i]);
        free(maps);
        sfs_config_free(cfg);
        return EXIT_USAGE;
    }

    const struct sfs_map_entry **entries = calloc(total + n_keys + 1, sizeof(*entries));
    struct sfs_map_entry *instances = calloc(n_keys + 1, sizeof(*instances));
    const char **warnings = calloc(n_warnings + n_keys + 1, sizeof(*warnings));
    size_t n = 0, n_inst = 0, w = 0;
    for (size_t i = 0; i < n_inputs; i++) {
        for (size_t j = 0; j < maps[i].n_warnings; j++)
            warnings[w++] = maps[i].warnings[j];
        for (size_t j = 0; j < maps[i].n_entries; j++)
            if (key_selected(keys, n_keys, &maps[i].entries[j]) && !maps[i].entries[j].wildcard)
                entries[n++] = &maps[i].entries[j];
    }
    /* Keys asked for by name that only a '*' entry covers. */
    for (size_t k = 0; k < n_keys; k++) {
        bool found = false;
        for (size_t i = 0; i < n && !found; i++)
            found = !strcmp(entries[i]->key, keys[k]);
        for (size_t i = 0; i < n_inputs && !found; i++) {
            struct sfs_parse_error perr = {0};
            if (sfs_map_lookup(&maps[i], NULL, keys[k], &instances[n_inst], &perr) == 0) {
                entries[n++] = &instances[n_inst++];
                found = true;
            }
        }
        if (!found) {
            fprintf(stderr, "afptest: no entry for key '%s' in the maps given\n", keys[k]);
            exit_code = EXIT_USAGE;
        }
    }

    /* One row per directory source first (stage map), then the entries. */
    size_t n_src = 0;
    for (size_t i = 0; i < n_inputs; i++)
        n_src += maps[i].n_dirrefs;
    struct sfs_probe_result *rows = calloc(n_src + n + 1, sizeof(*rows));
    struct sfs_probe_result *results = rows + n_src;
    for (size_t i = 0, k = 0; i < n_inputs; i++)
        for (size_t j = 0; j < maps[i].n_dirrefs; j++)
            dirref_row(&maps[i].dirrefs[j], &rows[k++]);
    if (exit_code != EXIT_USAGE && n + n_src > 0) {
        struct job_list list = {.entries = entries, .results = results, .n = n, .cfg = cfg, .opts = &popts};
        if (n > 0) {
            /* The libraries' one-time set-up, once here rather than in
             * every child. */
            sfs_engine_probe_prepare(entries, n, cfg);
            run_probes(&list, jobs < (int)n ? jobs : (int)n);
        }
        if (json)
            report_json(stdout, rows, n_src + n, warnings, w);
        else
            report_table(stdout, rows, n_src + n, warnings, w, verbose);
        for (size_t i = 0; i < n_src + n; i++)
            if (rows[i].status.err)
                exit_code = EXIT_SOME_FAILED;
    } else if (exit_code != EXIT_USAGE) {
        fprintf(stderr, "afptest: the maps hold no entries to probe\n");
        exit_code = EXIT_USAGE;
    }

    for (size_t i = 0; i < n_inst; i++)
        sfs_map_entry_free(&instances[i]);
    for (size_t i = 0; i < n_inputs; i++)
        sfs_map_free(&maps[i]);
    free(instances);
    free(rows);
    free(entries);
    free(warnings);
    free(maps);
    sfs_config_free(cfg);
    return exit_code;
}
