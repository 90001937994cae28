/* A sharesfs mount for the fuse and seed suites: the binary found, started
 * in the foreground at a mount point of the run, waited for, and always
 * unmounted (fusermount3 -u, then -uz) and ended; and the child process the
 * checks run in, killed at its deadline. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "matrix.h"
#include "sharesfs/clock.h"

#define STOP_GRACE_MS 3000

char *mx_sharesfs_path(void)
{
    const char *env = getenv("SHARESFS");
    if (env && *env)
        return g_strdup(env);
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = '\0';
        char *dir = g_path_get_dirname(self);
        char *p = g_build_filename(dir, "..", "fs", "fuse", "sharesfs", NULL);
        g_free(dir);
        if (access(p, X_OK) == 0)
            return p;
        g_free(p);
    }
    char *found = g_find_program_in_path("sharesfs");
    return found ? found : g_strdup("sharesfs");
}

/* Mounted: the directory's device differs from its parent's. */
static bool mounted(const char *dir)
{
    struct stat a, b;
    char *parent = g_path_get_dirname(dir);
    bool yes = stat(dir, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev;
    g_free(parent);
    return yes;
}

static void last_line(const char *path, char *why, size_t len)
{
    gchar *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL) || !*g_strstrip(text)) {
        g_free(text);
        return;
    }
    char *nl = strrchr(text, '\n');
    size_t used = strlen(why);
    snprintf(why + used, len - used, ": %s", nl ? nl + 1 : text);
    g_free(text);
}

bool mx_mount_start(struct mx_mount *mt, const char *map_path, const char *config, double timeout_s,
                    const char *dir, int wait_ms, char *why, size_t len)
{
    return mx_mount_start_opts(mt, map_path, config, timeout_s, NULL, dir, wait_ms, why, len);
}

bool mx_mount_start_opts(struct mx_mount *mt, const char *map_path, const char *config, double timeout_s,
                         const char *o_opts, const char *dir, int wait_ms, char *why, size_t len)
{
    memset(mt, 0, sizeof(*mt));
    mt->dir = g_strdup(dir);
    mt->log = g_strdup_printf("%s.log", dir);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        snprintf(why, len, "mkdir %s: %s", dir, g_strerror(errno));
        return false;
    }
    char *bin = mx_sharesfs_path();
    char t[32];
    g_ascii_formatd(t, sizeof(t), "%g", timeout_s);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        int log = open(mt->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (null >= 0)
            dup2(null, STDIN_FILENO);
        dup2(log >= 0 ? log : null, STDOUT_FILENO);
        dup2(log >= 0 ? log : null, STDERR_FILENO);
        setpgid(0, 0);
        if (o_opts)
            execl(bin, bin, "-f", "-t", t, "-c", config, "-o", o_opts, map_path, dir, (char *)NULL);
        else
            execl(bin, bin, "-f", "-t", t, "-c", config, map_path, dir, (char *)NULL);
        _exit(127);
    }
    if (pid < 0) {
        snprintf(why, len, "fork: %s", g_strerror(errno));
        g_free(bin);
        return false;
    }
    mt->pid = pid;
    double deadline = sfs_now_ms() + wait_ms;
    int ws = 0;
    while (!mounted(dir)) {
        pid_t w = waitpid(pid, &ws, WNOHANG);
        if (w == pid) {
            mt->pid = 0;
            snprintf(why, len, "%s exited (%s %d) before mounting", bin, WIFEXITED(ws) ? "status" : "signal",
                     WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws));
            last_line(mt->log, why, len);
            g_free(bin);
            return false;
        }
        if (sfs_now_ms() > deadline) {
            snprintf(why, len, "%s did not mount within %d ms", bin, wait_ms);
            last_line(mt->log, why, len);
            g_free(bin);
            mx_mount_stop(mt);
            return false;
        }
        g_usleep(20000);
    }
    g_free(bin);
    return true;
}

static int run_fusermount(const char *flag, const char *dir)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
        }
        execlp("fusermount3", "fusermount3", flag, dir, (char *)NULL);
        _exit(127);
    }
    int ws = 0;
    if (pid < 0 || waitpid(pid, &ws, 0) < 0)
        return -1;
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
}

void mx_mount_stop(struct mx_mount *mt)
{
    if (mt->dir && mounted(mt->dir) && run_fusermount("-u", mt->dir) != 0)
        run_fusermount("-uz", mt->dir);
    if (mt->pid > 0) {
        double deadline = sfs_now_ms() + STOP_GRACE_MS;
        int ws;
        bool gone = false;
        while (!(gone = waitpid(mt->pid, &ws, WNOHANG) == mt->pid) && sfs_now_ms() < deadline) {
            if (sfs_now_ms() > deadline - STOP_GRACE_MS / 2)
                kill(mt->pid, SIGTERM);
            g_usleep(20000);
        }
        if (!gone) {
            kill(-mt->pid, SIGKILL);
            kill(mt->pid, SIGKILL);
            waitpid(mt->pid, &ws, 0);
        }
        /* A killed sharesfs leaves its mount: detach it. */
        if (mt->dir && mounted(mt->dir))
            run_fusermount("-uz", mt->dir);
    }
    if (mt->dir)
        rmdir(mt->dir);
    if (mt->log)
        unlink(mt->log);
    g_free(mt->dir);
    g_free(mt->log);
    memset(mt, 0, sizeof(*mt));
}

void mx_mount_sweep(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        if (!g_str_has_suffix(name, ".mnt"))
            continue;
        char *p = g_build_filename(dir, name, NULL);
        if (mounted(p))
            run_fusermount("-uz", p);
        rmdir(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
}

int mx_run_child(void (*fn)(void *arg, int fd), void *arg, int out_fd, int deadline_ms, GHashTable *seen,
                 char *why, size_t len)
{
    int fds[2];
    snprintf(why, len, "-");
    if (pipe2(fds, O_CLOEXEC) < 0) {
        snprintf(why, len, "pipe: %s", g_strerror(errno));
        return MX_CHILD_DIED;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        fn(arg, fds[1]);
        _exit(0);
    }
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        snprintf(why, len, "fork: %s", g_strerror(errno));
        return MX_CHILD_DIED;
    }
    struct mx_wire w;
    size_t got = 0;
    bool in_time = true;
    double deadline = sfs_now_ms() + deadline_ms;
    for (;;) {
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        int left = (int)(deadline - sfs_now_ms());
        if (left <= 0 || poll(&p, 1, left) == 0) {
            in_time = false;
            break;
        }
        ssize_t n = read(fds[0], (char *)&w + got, sizeof(w) - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
        if (got < sizeof(w))
            continue;
        got = 0;
        w.name[sizeof(w.name) - 1] = '\0';
        if (seen)
            g_hash_table_add(seen, g_strdup(w.name));
        mx_wire_send(out_fd, &w);
    }
    if (!in_time)
        kill(pid, SIGKILL);
    int ws = 0;
    waitpid(pid, &ws, 0);
    close(fds[0]);
    if (!in_time) {
        snprintf(why, len, "did not finish within %d ms (killed)", deadline_ms);
        return MX_CHILD_KILLED;
    }
    if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
        return MX_CHILD_OK;
    snprintf(why, len, "the process ended early (%s %d)", WIFEXITED(ws) ? "exit status" : "signal",
             WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws));
    return MX_CHILD_DIED;
}
