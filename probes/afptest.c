/* afptest: probe every entry of automount maps, or single URLs, stage by
 * stage, and report one row per mount point.  Exit 0: all passed; 1: some
 * entry failed; 2: usage, config or map error. */
#include <errno.h>
#include <glib.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sharesfs/clock.h"
#include "info.h"
#include "probe_workers.h"
#include "matrix/matrix.h"
#include "report.h"
#include "sharesfs/config.h"
#include "sharesfs/map.h"
#include "sharesfs/map_sources.h"
#include "sharesfs/probe.h"

#define EXIT_ALL_OK 0
#define EXIT_SOME_FAILED 1
#define EXIT_USAGE 2

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
            "      --share-sessions  entries with the same location and options share one login\n"
            "                      per worker: the first logs in, the others list and read on its\n"
            "                      session (AUTH says whose); a failure there is probed afresh\n"
            "      --negotiate-each  every entry asks its server on a connection of its own\n"
            "                      (SMB NEGOTIATE, AFP FPGetSrvrInfo); by default an entry takes\n"
            "                      the answer an earlier entry of its worker got from the same\n"
            "                      address (-v and JSON say whose) and asks afresh if it then\n"
            "                      fails before its login\n"
            "  -v, --verbose       table: add every stage's time per entry; on stderr, how many\n"
            "                      worker processes probed the entries\n"
            "\n"
            "Passwords are never taken from the command line: use a credentials file\n"
            "(credentials= in the map, mode 0600) or SHARESFS_PASSWORD.\n"
            "exit status: 0 all entries passed, 1 some entry failed, 2 usage or map error\n");
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
        case 'S': cli->popts.share_sessions = true; break;
        case 'E': cli->popts.reuse_server_answers = false; break;
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
        {"share-sessions", no_argument, NULL, 'S'},
        {"negotiate-each", no_argument, NULL, 'E'},
        {NULL, 0, NULL, 0},
    };
    if (argc > 1 && strcmp(argv[1], "matrix") == 0)
        return afptest_matrix(argc - 1, argv + 1);
    struct cli cli = {.jobs = 4, .root = "/Network/Shares", .popts = {.reuse_server_answers = true}};
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
        struct probe_jobs list = {.entries = entries, .results = results, .n = n, .cfg = cfg, .opts = &popts};
        if (n > 0) {
            /* The libraries' one-time set-up, once here rather than in
             * every worker. */
            sfs_engine_probe_prepare(entries, n, cfg);
            unsigned started = probe_workers_run(&list, jobs < (int)n ? jobs : (int)n);
            /* What the run cost in process starts (docs/performance.md). */
            if (verbose)
                fprintf(stderr, "afptest: %zu entries probed by %u worker processes (-j %d)\n", n, started, jobs);
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
