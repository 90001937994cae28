/* Running the cells.  The pool is made of processes, not threads:
 * libsmbclient cannot be shared between threads, and a cell's Kerberos
 * ticket and password are process environment (KRB5CCNAME,
 * SHARESFS_PASSWORD).  This single-threaded parent forks up to -j cell
 * processes; each probes its entries one after another, each entry in a
 * process of its own (a library crash costs one result), and sends the
 * results back through a pipe (struct mx_wire records, wire.c).  The fuse
 * and seed suites run in the same cell process (fuse_suite.c, seed.c);
 * container targets are started before the first cell and stopped after
 * the last (container.c).
 *
 * Before any cell runs, each client gets what it names: a config file
 * (stage timeout, SMB dialect range) and a credentials cache of its own,
 * filled by the matrix's ticket_command (valid: a ticket; expired: a ticket
 * of a few seconds' lifetime, waited out; absent: no cache at all). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "matrix.h"
#include "sharesfs/clock.h"
#include "sharesfs/config.h"
#include "sharesfs/map.h"
#include "sharesfs/probe.h"

#define EXPIRED_LIFETIME_S 3
#define MAX_JOBS 64

struct client_env {
    char *config;        /* path */
    char *ccache;        /* "FILE:path" */
    char *error;         /* the client cannot be used: why */
};

struct running {
    pid_t pid;
    int fd;
    const struct mx_cell *cell;
    GByteArray *data;
    double started, deadline;
};

int mx_entry_deadline_ms(const struct mx_matrix *m)
{
    return (int)(m->timeout_s * 1000) * (SFS_STAGE_COUNT + 1) + 5000;
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    interrupted = sig;
}

/* ---- the client's ticket ---- */

static char *run_ticket_command(const struct mx_matrix *m, const struct mx_client *cl, const char *ccache)
{
    const char *cmd = m->ticket_command ? m->ticket_command : getenv("SHARESFS_MATRIX_TICKET_COMMAND");
    if (!cmd)
        return g_strdup_printf("client %s: a Kerberos ticket needs ticket_command in the matrix (or "
                               "SHARESFS_MATRIX_TICKET_COMMAND)", cl->name);
    char *dir = g_path_get_dirname(m->file);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0)
            dup2(null, STDOUT_FILENO);
        setenv("SFS_MATRIX_PRINCIPAL", cl->principal, 1);
        setenv("SFS_MATRIX_CCACHE", ccache, 1);
        setenv("SFS_MATRIX_CLIENT", cl->name, 1);
        setenv("SFS_MATRIX_DIR", dir, 1);
        char life[16] = "";
        if (cl->ticket == MX_TICKET_EXPIRED)
            snprintf(life, sizeof(life), "%ds", EXPIRED_LIFETIME_S);
        setenv("SFS_MATRIX_LIFETIME", life, 1);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    g_free(dir);
    int ws = 0;
    if (pid < 0 || waitpid(pid, &ws, 0) < 0)
        return g_strdup_printf("client %s: ticket_command: %s", cl->name, g_strerror(errno));
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
        return g_strdup_printf("client %s: ticket_command failed (%s %d)", cl->name,
                               WIFEXITED(ws) ? "exit status" : "signal", WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws));
    return NULL;
}

static bool used(const struct mx_client *cl, GPtrArray *cells)
{
    for (guint i = 0; i < cells->len; i++) {
        const struct mx_cell *c = cells->pdata[i];
        if (!c->excluded && c->client == cl)
            return true;
    }
    return false;
}

static void prepare_clients(const struct mx_matrix *m, GPtrArray *cells, const char *tmp, struct client_env *env)
{
    double expire_at = 0;
    for (guint i = 0; i < m->clients->len; i++) {
        const struct mx_client *cl = m->clients->pdata[i];
        struct client_env *e = &env[i];
        e->config = g_strdup_printf("%s/%s.conf", tmp, cl->name);
        e->ccache = g_strdup_printf("FILE:%s/%s.ccache", tmp, cl->name);
        GString *conf = g_string_new("[global]\n");
        g_string_append_printf(conf, "timeout = %g\n", m->timeout_s);
        if (cl->smb_min)
            g_string_append_printf(conf, "smb_min_protocol = %s\n", cl->smb_min);
        if (cl->smb_max)
            g_string_append_printf(conf, "smb_max_protocol = %s\n", cl->smb_max);
        if (!g_file_set_contents(e->config, conf->str, -1, NULL))
            e->error = g_strdup_printf("client %s: cannot write %s", cl->name, e->config);
        g_string_free(conf, TRUE);
        if (e->error || cl->auth != MX_AUTH_KERBEROS || cl->ticket == MX_TICKET_ABSENT || !used(cl, cells))
            continue;
        e->error = run_ticket_command(m, cl, e->ccache);
        if (!e->error && cl->ticket == MX_TICKET_EXPIRED)
            expire_at = sfs_now_ms() + EXPIRED_LIFETIME_S * 1000 + 1500;
    }
    /* Wait the short tickets out, once for every client that wants one. */
    if (expire_at > 0 && isatty(STDERR_FILENO))
        fprintf(stderr, "matrix: waiting %.1f s for the short tickets to expire\n", (expire_at - sfs_now_ms()) / 1000);
    while (expire_at > 0 && sfs_now_ms() < expire_at && !interrupted)
        g_usleep(100000);
}

/* ---- one cell, in its own process ---- */

static const struct mx_share *share_named(const struct mx_target *t, const char *name)
{
    for (guint i = 0; i < t->shares->len; i++)
        if (!strcmp(((struct mx_share *)t->shares->pdata[i])->name, name))
            return t->shares->pdata[i];
    return NULL;
}

static void fail_record(struct sfs_probe_result *r, const struct sfs_map_entry *e, const char *why)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->key, sizeof(r->key), "%s", e->key);
    sfs_status_set(&r->status, SFS_STAGE_CONNECT, EIO, SFS_DOMAIN_SYS, 0, "%s", why);
}

void mx_probe_one(const struct sfs_map_entry *e, const struct sfs_config *cfg, const struct sfs_probe_options *po,
                  int deadline_ms, struct sfs_probe_result *r)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        sfs_probe_entry(e, cfg, po, r);
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        sfs_probe_entry(e, cfg, po, r);
        _exit(mx_write_all(fds[1], r, sizeof(*r)) ? 0 : 3);
    }
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        sfs_probe_entry(e, cfg, po, r);
        return;
    }
    size_t got = 0;
    double deadline = sfs_now_ms() + deadline_ms;
    while (got < sizeof(*r)) {
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        int left = (int)(deadline - sfs_now_ms());
        if (left <= 0 || poll(&p, 1, left) == 0)
            break;
        ssize_t n = read(fds[0], (char *)r + got, sizeof(*r) - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got < sizeof(*r))
        kill(pid, SIGKILL);
    int ws = 0;
    waitpid(pid, &ws, 0);
    close(fds[0]);
    if (got < sizeof(*r)) {
        char why[128];
        if (WIFSIGNALED(ws) && WTERMSIG(ws) != SIGKILL)
            snprintf(why, sizeof(why), "the probe process died of signal %d: a client library bug", WTERMSIG(ws));
        else if (WIFEXITED(ws))
            snprintf(why, sizeof(why), "the probe process exited with status %d before reporting", WEXITSTATUS(ws));
        else
            snprintf(why, sizeof(why), "the probe did not finish within %d ms", deadline_ms);
        fail_record(r, e, why);
    }
}

static const char *status_name(const struct sfs_status *st, char *buf, size_t len)
{
    const char *name = NULL;
    if (st->code == 0 && st->domain != SFS_DOMAIN_SMB && st->domain != SFS_DOMAIN_AFP && st->domain != SFS_DOMAIN_LDAP)
        return NULL;   /* no protocol code, e.g. a Kerberos failure found before any exchange */
    switch (st->domain) {
    case SFS_DOMAIN_SMB: name = sfs_ntstatus_name((uint32_t)st->code); break;
    case SFS_DOMAIN_AFP: name = sfs_afp_result_name((int32_t)st->code); break;
    case SFS_DOMAIN_KRB5: name = sfs_krb5_error_name(st->code); break;
    case SFS_DOMAIN_LDAP: name = sfs_ldap_result_name((int)st->code); break;
    default: return NULL;
    }
    if (name)
        return name;
    snprintf(buf, len, "%s:%ld", sfs_domain_name(st->domain), st->code);
    return buf;
}

/* NAME NULL: "KEY.read" (or ".list" for a share with no_read). */
void mx_wire_from_probe(const struct mx_cell *c, const char *name, const struct sfs_probe_result *p,
                        struct mx_wire *w)
{
    const struct mx_share *s = c ? share_named(c->target, p->key) : NULL;
    char own[sizeof(p->key) + 8];
    if (!name) {
        snprintf(own, sizeof(own), "%s.%s", p->key, s && s->no_read ? "list" : "read");
        name = own;
    }
    const struct sfs_status *st = &p->status;
    char errbuf[32], stbuf[64];
    mx_wire_set(w, name, sfs_stage_name(st->err ? st->stage : p->reached),
                st->err ? mx_errno_name(st->err, errbuf, sizeof(errbuf)) : "ok",
                st->err ? status_name(st, stbuf, sizeof(stbuf)) : NULL, st->err ? st->detail : NULL);
    snprintf(w->auth, sizeof(w->auth), "%s", p->auth);
    snprintf(w->server, sizeof(w->server), "%s", p->server.server_os);
    snprintf(w->dialect, sizeof(w->dialect), "%s", p->server.dialect);
    for (int i = 0; i < SFS_STAGE_COUNT; i++)
        if (p->ran[i])
            w->ms += p->ms[i];
}

static void probe_cell(const struct mx_matrix *m, const struct mx_cell *c, const struct client_env *env, int fd)
{
    char *text = mx_cell_map_text(m, c);
    struct sfs_map map = {0};
    struct sfs_parse_error perr = {0};
    if (sfs_map_parse_text(text, c->id, "/Network/Shares", &map, &perr) < 0) {
        char msg[768];
        sfs_parse_error_format(&perr, msg, sizeof(msg));
        mx_wire_error(fd, "the cell's map: %s", msg);
        g_free(text);
        return;
    }
    g_free(text);
    struct sfs_config *cfg = NULL;
    struct sfs_status st = {0};
    if (sfs_config_load(env->config, &cfg, &st) < 0) {
        mx_wire_error(fd, "the cell's config: %s", st.detail);
        sfs_map_free(&map);
        return;
    }
    struct sfs_probe_result *r = calloc(1, sizeof(*r));
    struct mx_wire w;
    for (size_t i = 0; r && i < map.n_entries; i++) {
        const struct mx_share *s = share_named(c->target, map.entries[i].key);
        struct sfs_probe_options po = {.read_path = s ? s->read : NULL, .skip_read = s && s->no_read};
        memset(r, 0, sizeof(*r));
        mx_probe_one(&map.entries[i], cfg, &po, mx_entry_deadline_ms(m), r);
        mx_wire_from_probe(c, NULL, r, &w);
        if (!mx_wire_send(fd, &w))
            break;
    }
    free(r);
    sfs_config_free(cfg);
    sfs_map_free(&map);
}

static void run_cell(const struct mx_matrix *m, const struct mx_cell *c, const struct client_env *env,
                     const char *password, const char *tmp, int index, int fd)
{
    setenv("KRB5CCNAME", env->ccache, 1);
    if (password)
        setenv("SHARESFS_PASSWORD", password, 1);
    else
        unsetenv("SHARESFS_PASSWORD");
    struct mx_cell_env ce = {.config = env->config, .tmp = tmp, .index = index};
    switch (c->suite->kind) {
    case MX_SUITE_PROBE: probe_cell(m, c, env, fd); break;
    case MX_SUITE_FUSE: mx_fuse_cell(m, c, &ce, fd); break;
    case MX_SUITE_SEED: mx_seed_cell(m, c, &ce, fd); break;
    case MX_SUITE_DIRECTORY: mx_directory_cell(m, c, &ce, fd); break;
    }
    struct mx_wire end;
    mx_wire_set(&end, ".", NULL, NULL, NULL, NULL);
    mx_wire_send(fd, &end);
}

/* ---- back in the parent ---- */

static void finish(struct running *k, GPtrArray *results, GHashTable *errors, bool timed_out)
{
    if (timed_out) {
        kill(-k->pid, SIGKILL);
        kill(k->pid, SIGKILL);
    }
    int ws = 0;
    waitpid(k->pid, &ws, 0);
    close(k->fd);
    size_t n = k->data->len / sizeof(struct mx_wire);
    const struct mx_wire *w = (const void *)k->data->data;
    char *error = NULL;
    bool complete = false;
    GPtrArray *mine = g_ptr_array_new_with_free_func(mx_result_free);
    for (size_t i = 0; i < n && !error && !complete; i++) {
        if (!strcmp(w[i].name, "!"))
            error = g_strndup(w[i].detail, sizeof(w[i].detail));
        else if (!strcmp(w[i].name, "."))
            complete = true;
        else
            g_ptr_array_add(mine, mx_wire_result(k->cell->id, &w[i]));
    }
    if (!error && timed_out)
        error = g_strdup("the cell did not finish in time");
    else if (!error && (!complete || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0))
        error = g_strdup_printf("the cell's process ended early (%s %d) after %u results",
                                WIFEXITED(ws) ? "exit status" : "signal", WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws),
                                mine->len);
    if (error) {
        g_hash_table_replace(errors, g_strdup(k->cell->id), error);
    } else {
        for (guint i = 0; i < mine->len; i++)
            g_ptr_array_add(results, mine->pdata[i]);
        g_ptr_array_set_free_func(mine, NULL);
    }
    g_ptr_array_free(mine, TRUE);
    g_byte_array_free(k->data, TRUE);
    k->pid = 0;
}

static int cell_deadline_ms(const struct mx_matrix *m, const struct mx_cell *c)
{
    switch (c->suite->kind) {
    case MX_SUITE_FUSE: return mx_fuse_cell_deadline_ms(m, c) + 15000;
    case MX_SUITE_SEED: return mx_seed_cell_deadline_ms(m) + 15000;
    case MX_SUITE_DIRECTORY: return mx_directory_cell_deadline_ms(m) + 15000;
    default: return mx_entry_deadline_ms(m) * (int)c->target->shares->len + 10000;
    }
}

static bool start(const struct mx_matrix *m, const struct mx_cell *c, const struct client_env *env,
                  const char *password, const char *tmp, int index, struct running *k)
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
        /* A group of its own: killed whole at its deadline (its probes and
         * checks with it), and a terminal's ^C goes to the parent only. */
        setpgid(0, 0);
        close(fds[0]);
        run_cell(m, c, env, password, tmp, index, fds[1]);
        _exit(0);
    }
    close(fds[1]);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    double now = sfs_now_ms();
    *k = (struct running){.pid = pid, .fd = fds[0], .cell = c, .data = g_byte_array_new(), .started = now,
                          .deadline = now + cell_deadline_ms(m, c)};
    return true;
}

/* Why a cell cannot run at all, or NULL. */
static char *not_runnable(const struct mx_cell *c, const struct client_env *env, GHashTable *down,
                          const char **password)
{
    *password = NULL;
    const char *why = g_hash_table_lookup(down, c->target->name);
    if (why)
        return g_strdup(why);
    if (env->error)
        return g_strdup(env->error);
    const char *var = NULL;
    if (c->client->auth == MX_AUTH_PASSWORD)
        var = c->target->kind == MX_TARGET_REMOTE && c->target->password_env ? c->target->password_env
              : c->target->kind == MX_TARGET_REMOTE && c->target->credentials ? NULL
                                                                              : c->client->password_env;
    if (var && !(*password = getenv(var)))
        return g_strdup_printf("the environment variable %s (the password) is not set", var);
    return NULL;
}

static void progress(unsigned done, unsigned total, double t0)
{
    double el = (sfs_now_ms() - t0) / 1000.0;
    double left = done ? el / done * (total - done) : 0;
    fprintf(stderr, "\r\033[Kmatrix: %u/%u cells, %d:%02d elapsed", done, total, (int)el / 60, (int)el % 60);
    if (done && done < total)
        fprintf(stderr, ", about %d:%02d left", (int)left / 60, (int)left % 60);
    if (done == total)
        fputc('\n', stderr);
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

void mx_remove_tree(const char *dir)
{
    nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* SIGINT / SIGTERM during a run: the running cells are killed, the rest
 * are not started, and the started targets are still stopped; then the
 * signal is raised again. */
GPtrArray *mx_run(struct mx_matrix *m, GPtrArray *cells, const struct mx_run_options *o,
                  GHashTable **errors_out, GHashTable *cell_seconds)
{
    GPtrArray *results = g_ptr_array_new_with_free_func(mx_result_free);
    GHashTable *errors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    *errors_out = errors;
    char *tmp = g_dir_make_tmp("sfs-matrix-XXXXXX", NULL);
    if (!tmp) {
        for (guint i = 0; i < cells->len; i++)
            if (!((struct mx_cell *)cells->pdata[i])->excluded)
                g_hash_table_replace(errors, g_strdup(((struct mx_cell *)cells->pdata[i])->id),
                                     g_strdup("cannot make a temporary directory"));
        return results;
    }
    struct client_env *env = g_new0(struct client_env, m->clients->len);
    GHashTable *down = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    interrupted = 0;
    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    struct mx_started *started = mx_targets_start(m, cells, tmp, down);
    prepare_clients(m, cells, tmp, env);

    int jobs = MAX(1, MIN(o->jobs, MAX_JOBS));
    struct running kids[MAX_JOBS] = {0};
    unsigned total = 0, done = 0;
    for (guint i = 0; i < cells->len; i++)
        total += !((struct mx_cell *)cells->pdata[i])->excluded;
    double t0 = sfs_now_ms();
    if (o->progress)
        progress(0, total, t0);
    guint next = 0;
    int running = 0;
    while (next < cells->len || running > 0) {
        for (int k = 0; k < jobs && next < cells->len; k++) {
            if (kids[k].pid)
                continue;
            const struct mx_cell *c = cells->pdata[next++];
            guint ci = 0;
            while (m->clients->pdata[ci] != c->client)
                ci++;
            const char *password = NULL;
            if (c->excluded)
                continue;
            char *why = interrupted ? g_strdup_printf("interrupted (signal %d)", (int)interrupted)
                                    : not_runnable(c, &env[ci], down, &password);
            if (why || !start(m, c, &env[ci], password, tmp, (int)next, &kids[k])) {
                g_hash_table_replace(errors, g_strdup(c->id), why ? why : g_strdup("cannot fork"));
                done++;
                if (o->progress)
                    progress(done, total, t0);
                continue;
            }
            running++;
        }
        struct pollfd pfds[MAX_JOBS];
        int map[MAX_JOBS], n = 0;
        for (int k = 0; k < jobs; k++)
            if (kids[k].pid) {
                pfds[n] = (struct pollfd){.fd = kids[k].fd, .events = POLLIN};
                map[n++] = k;
            }
        if (n == 0)
            continue;
        poll(pfds, (nfds_t)n, 250);
        double now = sfs_now_ms();
        for (int i = 0; i < n; i++) {
            struct running *k = &kids[map[i]];
            bool ended = false;
            if (pfds[i].revents) {
                guint8 buf[65536];
                ssize_t got;
                while ((got = read(k->fd, buf, sizeof(buf))) > 0)
                    g_byte_array_append(k->data, buf, (guint)got);
                ended = got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR);
            }
            bool late = !ended && (now > k->deadline || interrupted);
            if (ended || late) {
                double *secs = g_new(double, 1);
                *secs = (sfs_now_ms() - k->started) / 1000.0;
                if (cell_seconds)
                    g_hash_table_replace(cell_seconds, g_strdup(k->cell->id), secs);
                else
                    g_free(secs);
                finish(k, results, errors, late);
                running--;
                done++;
                if (o->progress)
                    progress(done, total, t0);
            }
        }
    }
    mx_targets_stop(started);
    g_hash_table_destroy(down);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    for (guint i = 0; i < m->clients->len; i++) {
        g_free(env[i].config);
        g_free(env[i].ccache);
        g_free(env[i].error);
    }
    g_free(env);
    /* The cells' config files, credentials caches, mount points (a cell
     * killed at its deadline leaves its mount: detached here). */
    mx_mount_sweep(tmp);
    mx_remove_tree(tmp);
    g_free(tmp);
    if (interrupted)
        raise(interrupted);
    mx_results_sort(results);
    return results;
}
