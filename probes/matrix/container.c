/* Container targets (and vm targets, when the matrix names a vm_command):
 * started before the first cell through the matrix's hook, stopped after
 * the last, whatever the cells did.  Nothing about Debian, nspawn or
 * namespaces is here: the hook (contrib/matrix/container.sh for the lab)
 * builds and runs the server; afptest gives it the target's fields and an
 * address of its own in 10.231.60.0/24 (a /30 per target: the host side
 * .4n+1, the target .4n+2), and reaches the target by that address.  A
 * target that does not start makes its cells ERROR (infrastructure). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "matrix.h"
#include "sharesfs/clock.h"

#define START_TIMEOUT_S 900   /* a first start builds a root filesystem */
#define STOP_TIMEOUT_S 60
#define MAX_CONTAINERS 63

struct started_one {
    struct mx_target *t;
    char *command, *state, *config, *address, *peer, *netns, *users;
};

struct mx_started {
    const struct mx_matrix *m;
    GPtrArray *list;     /* struct started_one *, in start order */
};

void mx_container_addresses(int n, char *addr, size_t alen, char *peer, size_t plen)
{
    snprintf(addr, alen, "10.231.60.%d", 4 * n + 2);
    snprintf(peer, plen, "10.231.60.%d", 4 * n + 1);
}

static bool used(const struct mx_target *t, GPtrArray *cells)
{
    for (guint i = 0; i < cells->len; i++) {
        const struct mx_cell *c = cells->pdata[i];
        if (!c->excluded && c->target == t)
            return true;
    }
    return false;
}

/* The last non-empty line of a file (the hook's stderr), or "". */
static char *last_line(const char *path)
{
    gchar *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return g_strdup("");
    char **lines = g_strsplit(text, "\n", -1);
    char *out = g_strdup("");
    for (int i = 0; lines[i]; i++)
        if (*g_strstrip(lines[i])) {
            g_free(out);
            out = g_strdup(lines[i]);
        }
    g_strfreev(lines);
    g_free(text);
    return out;
}

/* Runs the hook for ACTION; NULL when it succeeded, else why. */
static char *hook(const struct mx_matrix *m, const struct started_one *s, const char *action, int timeout_s)
{
    char *log = g_strdup_printf("%s/%s.log", s->state, action);
    char *dir = g_path_get_dirname(m->file);
    const struct mx_target *t = s->t;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (null >= 0)
            dup2(null, STDIN_FILENO);
        dup2(fd >= 0 ? fd : null, STDOUT_FILENO);
        dup2(fd >= 0 ? fd : null, STDERR_FILENO);
        setpgid(0, 0);
        char *packages = t->packages ? g_strjoinv(" ", t->packages) : g_strdup("");
        bool smb = false;
        for (guint i = 0; i < t->shares->len; i++)
            smb |= ((struct mx_share *)t->shares->pdata[i])->proto == MX_PROTO_SMB;
        setenv("SFS_MATRIX_ACTION", action, 1);
        setenv("SFS_MATRIX_TARGET", t->name, 1);
        setenv("SFS_MATRIX_KIND", mx_target_kind_name(t->kind), 1);
        setenv("SFS_MATRIX_SUITE", t->suite ? t->suite : "", 1);
        setenv("SFS_MATRIX_PACKAGES", packages, 1);
        setenv("SFS_MATRIX_IMAGE", t->image ? t->image : "", 1);
        setenv("SFS_MATRIX_SERVER", smb ? "smb" : "afp", 1);
        setenv("SFS_MATRIX_SERVER_CONFIG", s->config ? s->config : "", 1);
        setenv("SFS_MATRIX_ADDRESS", s->address, 1);
        setenv("SFS_MATRIX_PEER", s->peer, 1);
        setenv("SFS_MATRIX_PREFIX", "30", 1);
        setenv("SFS_MATRIX_NETNS", s->netns, 1);
        setenv("SFS_MATRIX_STATE", s->state, 1);
        setenv("SFS_MATRIX_USERS", s->users, 1);
        setenv("SFS_MATRIX_DIR", dir, 1);
        execl("/bin/sh", "sh", "-c", s->command, "sfs-matrix-hook", action, (char *)NULL);
        _exit(127);
    }
    g_free(dir);
    char *why = NULL;
    if (pid < 0) {
        why = g_strdup_printf("fork: %s", g_strerror(errno));
    } else {
        double deadline = sfs_now_ms() + timeout_s * 1000.0;
        int ws = 0;
        pid_t w;
        while ((w = waitpid(pid, &ws, WNOHANG)) == 0 && sfs_now_ms() < deadline)
            g_usleep(50000);
        if (w == 0) {
            kill(-pid, SIGKILL);
            waitpid(pid, &ws, 0);
            why = g_strdup_printf("the %s command did not finish within %d s", action, timeout_s);
        } else if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
            char *line = last_line(log);
            why = g_strdup_printf("the %s command failed (%s %d)%s%s", action, WIFEXITED(ws) ? "exit status" : "signal",
                                  WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws), *line ? ": " : "", line);
            g_free(line);
        }
    }
    g_free(log);
    return why;
}

/* server_config: text (it has a newline) written to a file, else a path
 * (relative: to the matrix file's directory). */
static char *config_file(const struct mx_matrix *m, const struct mx_target *t, const char *state)
{
    if (!t->server_config)
        return NULL;
    if (strchr(t->server_config, '\n')) {
        char *p = g_build_filename(state, "server.conf", NULL);
        g_file_set_contents(p, t->server_config, -1, NULL);
        return p;
    }
    if (g_path_is_absolute(t->server_config))
        return g_strdup(t->server_config);
    char *dir = g_path_get_dirname(m->file);
    char *p = g_build_filename(dir, t->server_config, NULL);
    g_free(dir);
    return p;
}

/* "user:credentials-file ..." of the password clients (never a password). */
static char *users_of(const struct mx_matrix *m)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < m->clients->len; i++) {
        const struct mx_client *cl = m->clients->pdata[i];
        if (cl->auth == MX_AUTH_PASSWORD && cl->credentials && !strstr(s->str, cl->user))
            g_string_append_printf(s, "%s%s:%s", s->len ? " " : "", cl->user, cl->credentials);
    }
    return g_string_free(s, FALSE);
}

static void one_free(void *p)
{
    struct started_one *s = p;
    g_free(s->command);
    g_free(s->state);
    g_free(s->config);
    g_free(s->address);
    g_free(s->peer);
    g_free(s->netns);
    g_free(s->users);
    g_free(s);
}

struct mx_started *mx_targets_start(struct mx_matrix *m, GPtrArray *cells, const char *tmp, GHashTable *failed)
{
    struct mx_started *st = g_new0(struct mx_started, 1);
    st->m = m;
    st->list = g_ptr_array_new_with_free_func(one_free);
    int n = 0;
    for (guint i = 0; i < m->targets->len; i++) {
        struct mx_target *t = m->targets->pdata[i];
        if (t->kind != MX_TARGET_CONTAINER && t->kind != MX_TARGET_VM)
            continue;
        int index = n++;
        if (!used(t, cells))
            continue;
        const char *cmd = t->kind == MX_TARGET_CONTAINER
                              ? (m->container_command ? m->container_command : getenv("SHARESFS_MATRIX_CONTAINER_COMMAND"))
                              : (m->vm_command ? m->vm_command : getenv("SHARESFS_MATRIX_VM_COMMAND"));
        if (!cmd || index >= MAX_CONTAINERS || !tmp) {
            g_hash_table_replace(failed, g_strdup(t->name),
                                 !cmd ? g_strdup_printf("%s targets: not yet runnable without %s_command in the matrix "
                                                        "(docs/matrix.md)", mx_target_kind_name(t->kind),
                                                        mx_target_kind_name(t->kind))
                                      : g_strdup("too many container targets (63 fit in 10.231.60.0/24)"));
            continue;
        }
        struct started_one *s = g_new0(struct started_one, 1);
        char addr[32], peer[32];
        mx_container_addresses(index, addr, sizeof(addr), peer, sizeof(peer));
        s->t = t;
        s->command = g_strdup(cmd);
        s->state = g_strdup_printf("%s/target-%s", tmp, t->name);
        s->address = g_strdup(addr);
        s->peer = g_strdup(peer);
        s->netns = g_strdup_printf("sfsmx-%d-%d", (int)getpid() % 100000, index);
        s->users = users_of(m);
        mkdir(s->state, 0700);
        s->config = config_file(m, t, s->state);
        if (isatty(STDERR_FILENO))
            fprintf(stderr, "matrix: starting %s target %s at %s\n", mx_target_kind_name(t->kind), t->name, addr);
        char *why = hook(m, s, "start", START_TIMEOUT_S);
        /* Stopped even when the start failed half-way. */
        g_ptr_array_add(st->list, s);
        if (why) {
            g_hash_table_replace(failed, g_strdup(t->name), g_strdup_printf("%s target %s did not start: %s",
                                                                           mx_target_kind_name(t->kind), t->name, why));
            g_free(why);
            continue;
        }
        if (!t->host)
            t->host = g_strdup(addr);
    }
    return st;
}

void mx_targets_stop(struct mx_started *st)
{
    if (!st)
        return;
    for (guint i = st->list->len; i-- > 0;) {
        struct started_one *s = st->list->pdata[i];
        char *why = hook(st->m, s, "stop", STOP_TIMEOUT_S);
        if (why)
            fprintf(stderr, "afptest matrix: %s target %s: %s\n", mx_target_kind_name(s->t->kind), s->t->name, why);
        g_free(why);
    }
    g_ptr_array_free(st->list, TRUE);
    g_free(st);
}
