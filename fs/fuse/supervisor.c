#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mountplan.h"
#include "sharesfs/clock.h"

#define FSTYPE "fuse.sharesfs"
#define BACKOFF_MAX_S 60

enum child_state {
    CHILD_STARTING,   /* forked, not yet mounted */
    CHILD_UP,         /* mounted and serving */
    CHILD_WAITING,    /* died; restarts at deadline_ms */
    CHILD_DOWN,       /* unmounted from outside, or stopped */
};

struct child {
    const char *path;
    pid_t pid;            /* 0 when no process runs */
    int ready_fd;         /* read end of the readiness pipe while starting, else -1 */
    enum child_state state;
    int64_t deadline_ms;  /* STARTING: give up then; WAITING: restart then */
    int64_t started_ms;
    bool killed;          /* SIGKILLed for not mounting in time */
    bool ever_up;         /* was mounted at least once */
    int backoff_s;
};

struct sup {
    struct child *c;
    size_t n;
    supervisor_child_fn run;
    void *ctx;
    int sfd;              /* signalfd: SIGTERM, SIGINT, SIGHUP, SIGCHLD */
    int notify_fd;
    sigset_t oldmask;
    bool stop;            /* a stop signal arrived */
    bool started;         /* every mount point was up once */
    bool failed;          /* a child failed before that */
    int start_timeout_ms, stop_timeout_ms;
};

/* Whole milliseconds of the one monotonic clock (sharesfs/clock.h). */
static int64_t now_ms(void)
{
    return (int64_t)sfs_now_ms();
}

static void say(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void say(const char *fmt, ...)
{
    /* One write: the children share stderr. */
    char line[1024] = "sharesfs: ";
    size_t used = strlen(line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + used, sizeof(line) - used - 1, fmt, ap);
    va_end(ap);
    used = strlen(line);
    line[used++] = '\n';
    fflush(stderr);
    if (write(STDERR_FILENO, line, used) < 0) { /* nowhere to report it */ }
}

static void describe_status(int status, char *out, size_t len)
{
    if (WIFEXITED(status))
        snprintf(out, len, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, len, "killed by signal %d, %s", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(out, len, "wait status %#x", (unsigned)status);
}

static bool is_mounted(const char *path)
{
    gchar *text = NULL;
    if (!g_file_get_contents("/proc/self/mountinfo", &text, NULL, NULL))
        return false;
    bool found = mountplan_mountinfo_has(text, path, FSTYPE);
    g_free(text);
    return found;
}

/* A mount its process left behind (it crashed, or was killed): detached so
 * the directory answers again.  Root unmounts itself; others ask
 * fusermount3. */
static void detach(struct sup *s, const char *path)
{
    if (umount2(path, MNT_DETACH) == 0) {
        say("%s: detached the mount its process left behind", path);
        return;
    }
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        sigprocmask(SIG_SETMASK, &s->oldmask, NULL);
        execlp("fusermount3", "fusermount3", "-u", "-z", path, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        say("%s: could not unmount what its process left behind", path);
    else
        say("%s: detached the mount its process left behind", path);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static int spawn(struct sup *s, size_t i)
{
    struct child *c = &s->c[i];
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        say("%s: cannot start: pipe: %s", c->path, strerror(errno));
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        say("%s: cannot start: fork: %s", c->path, strerror(errno));
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        /* The child: none of the supervisor's descriptors, signals as they were. */
        close(s->sfd);
        close_fd(&s->notify_fd);
        for (size_t k = 0; k < s->n; k++)
            close_fd(&s->c[k].ready_fd);
        close(p[0]);
        sigprocmask(SIG_SETMASK, &s->oldmask, NULL);
        /* A supervisor killed outright still takes its mounts with it. */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
            _exit(1);
        /* Tell the mount processes apart in ps/top (comm: 15 bytes). */
        const char *base = strrchr(c->path, '/');
        char comm[16];
        snprintf(comm, sizeof(comm), "sfs:%s", base && base[1] ? base + 1 : c->path);
        prctl(PR_SET_NAME, comm);
        exit(s->run(i, p[1], s->ctx));
    }
    close(p[1]);
    c->pid = pid;
    c->ready_fd = p[0];
    c->state = CHILD_STARTING;
    c->killed = false;
    c->started_ms = now_ms();
    c->deadline_ms = c->started_ms + s->start_timeout_ms;
    return 0;
}

static void schedule_restart(struct sup *s, struct child *c, bool ran_long)
{
    (void)s;
    c->backoff_s = ran_long || c->backoff_s == 0 ? 1 : c->backoff_s * 2;
    if (c->backoff_s > BACKOFF_MAX_S)
        c->backoff_s = BACKOFF_MAX_S;
    c->state = CHILD_WAITING;
    c->deadline_ms = now_ms() + (int64_t)c->backoff_s * 1000;
    say("%s: restarting in %d s", c->path, c->backoff_s);
}

static void child_exited(struct sup *s, struct child *c, int status)
{
    char how[96];
    describe_status(status, how, sizeof(how));
    enum child_state was = c->state;
    c->pid = 0;
    close_fd(&c->ready_fd);
    if (s->stop) {
        c->state = CHILD_DOWN;
        return;
    }
    if (was == CHILD_STARTING)
        say("%s: failed to mount (%s)", c->path, how);
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        say("%s: its sharesfs process ended (%s)", c->path, how);
    if (is_mounted(c->path))
        detach(s, c->path);
    if (was == CHILD_STARTING) {
        if (!s->started) {
            s->failed = true;
            c->state = CHILD_DOWN;
        } else {
            schedule_restart(s, c, false);
        }
        return;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        say("%s: unmounted; not restarted", c->path);
        c->state = CHILD_DOWN;
        return;
    }
    schedule_restart(s, c, now_ms() - c->started_ms >= (int64_t)BACKOFF_MAX_S * 1000);
}

static void reap(struct sup *s)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        for (size_t i = 0; i < s->n; i++)
            if (s->c[i].pid == pid)
                child_exited(s, &s->c[i], status);
}

/* Reads what the signalfd holds: SIGCHLD reaps, the others ask to stop. */
static void read_signals(struct sup *s)
{
    struct signalfd_siginfo si;
    bool chld = false;
    while (read(s->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGCHLD)
            chld = true;
        else
            s->stop = true;
    }
    if (chld)
        reap(s);
}

static void read_ready(struct sup *s, struct child *c)
{
    char b;
    ssize_t r = read(c->ready_fd, &b, 1);
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    close_fd(&c->ready_fd);
    if (r == 1 && c->state == CHILD_STARTING) {
        c->state = CHILD_UP;
        c->ever_up = true;
        if (s->started)
            say("%s: mounted again", c->path);
    }
    /* EOF: the child is ending; SIGCHLD says how. */
}

/* Waits for the signalfd or a readiness pipe, at most until DEADLINE_MS
 * (INT64_MAX: no limit). */
static void wait_events(struct sup *s, int64_t deadline_ms)
{
    struct pollfd *fds = g_new0(struct pollfd, s->n + 1);
    size_t *who = g_new0(size_t, s->n + 1);
    size_t nfds = 0;
    fds[nfds++] = (struct pollfd){.fd = s->sfd, .events = POLLIN};
    for (size_t i = 0; i < s->n; i++)
        if (s->c[i].ready_fd >= 0) {
            who[nfds] = i;
            fds[nfds++] = (struct pollfd){.fd = s->c[i].ready_fd, .events = POLLIN};
        }
    int timeout = -1;
    if (deadline_ms != INT64_MAX) {
        int64_t left = deadline_ms - now_ms();
        timeout = left < 0 ? 0 : (left > 60000 ? 60000 : (int)left);
    }
    if (poll(fds, nfds, timeout) > 0) {
        for (size_t k = 1; k < nfds; k++)
            if (fds[k].revents)
                read_ready(s, &s->c[who[k]]);
        if (fds[0].revents)
            read_signals(s);
    }
    g_free(fds);
    g_free(who);
}

/* systemd's Type=notify (sd_notify(3)'s protocol, without libsystemd):
 * one datagram to $NOTIFY_SOCKET.  Nothing when it is not set. */
static void notify_systemd(const char *text)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = path ? strlen(path) : 0;
    if (len < 2 || len >= sizeof(sa.sun_path) || (path[0] != '/' && path[0] != '@'))
        return;
    memcpy(sa.sun_path, path, len);
    if (path[0] == '@')
        sa.sun_path[0] = '\0';   /* an abstract socket */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (sendto(fd, text, strlen(text), MSG_NOSIGNAL, (struct sockaddr *)&sa,
               (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0) { /* systemd will time out */ }
    close(fd);
}

static void stop_all(struct sup *s)
{
    s->stop = true;
    notify_systemd("STOPPING=1");
    for (size_t i = 0; i < s->n; i++) {
        struct child *c = &s->c[i];
        close_fd(&c->ready_fd);
        if (c->pid > 0)
            kill(c->pid, SIGTERM);
        else
            c->state = CHILD_DOWN;
    }
    int64_t deadline = now_ms() + s->stop_timeout_ms;
    for (;;) {
        bool running = false;
        for (size_t i = 0; i < s->n; i++)
            running = running || s->c[i].pid > 0;
        if (!running || now_ms() >= deadline)
            break;
        wait_events(s, deadline);
    }
    for (size_t i = 0; i < s->n; i++) {
        struct child *c = &s->c[i];
        if (c->pid <= 0)
            continue;
        say("%s: did not stop within %d s; killing it", c->path, s->stop_timeout_ms / 1000);
        kill(c->pid, SIGKILL);
        int st;
        waitpid(c->pid, &st, 0);
        c->pid = 0;
        c->state = CHILD_DOWN;
    }
    for (size_t i = 0; i < s->n; i++)
        if (is_mounted(s->c[i].path))
            detach(s, s->c[i].path);
}

static void report_started(struct sup *s, int64_t t0, bool foreground)
{
    s->started = true;
    char msg[128];
    snprintf(msg, sizeof(msg), "%zu mount point%s mounted in %" PRId64 " ms", s->n, s->n == 1 ? "" : "s",
             now_ms() - t0);
    if (foreground)
        say("%s", msg);
    char note[160];
    snprintf(note, sizeof(note), "READY=1\nSTATUS=%s", msg);
    notify_systemd(note);
    if (s->notify_fd >= 0) {
        /* Tell the waiting foreground process, then let go of the terminal. */
        unsigned char ok = 0;
        if (write(s->notify_fd, &ok, 1) < 0) { /* it is gone: nothing to tell */ }
        close_fd(&s->notify_fd);
        supervisor_detach_stdio();
    }
}

static int supervise(struct sup *s, bool foreground)
{
    int64_t t0 = now_ms();
    for (size_t i = 0; i < s->n; i++)
        if (spawn(s, i) < 0) {
            s->failed = true;
            break;
        }
    for (;;) {
        if (s->failed && !s->started) {
            say("not every mount point could be mounted; stopping the others");
            stop_all(s);
            return 1;
        }
        if (s->stop) {
            stop_all(s);
            return s->started ? 0 : 1;
        }
        bool all_up = true, alive = false;
        int64_t next = INT64_MAX, now = now_ms();
        for (size_t i = 0; i < s->n; i++) {
            struct child *c = &s->c[i];
            all_up = all_up && c->ever_up;
            alive = alive || c->state != CHILD_DOWN;
            if (c->state == CHILD_WAITING && c->deadline_ms <= now) {
                if (spawn(s, i) < 0)
                    schedule_restart(s, c, false);
            } else if (c->state == CHILD_STARTING && !c->killed && c->deadline_ms <= now && c->pid > 0) {
                say("%s: not mounted after %d s; killing its process", c->path, s->start_timeout_ms / 1000);
                kill(c->pid, SIGKILL);
                c->killed = true;
            }
            if ((c->state == CHILD_WAITING || (c->state == CHILD_STARTING && !c->killed)) && c->deadline_ms < next)
                next = c->deadline_ms;
        }
        if (!s->started && all_up)
            report_started(s, t0, foreground);
        if (s->started && !alive) {
            say("every mount point was unmounted; exiting");
            return 0;
        }
        wait_events(s, next);
    }
}

int supervisor_run(const char *const *paths, size_t n, supervisor_child_fn run, void *ctx,
                   const struct supervisor_opts *opts)
{
    struct sup s = {
        .n = n,
        .run = run,
        .ctx = ctx,
        .notify_fd = opts->notify_fd,
        .start_timeout_ms = (opts->start_timeout_s > 0 ? opts->start_timeout_s : 30) * 1000,
        .stop_timeout_ms = (opts->stop_timeout_s > 0 ? opts->stop_timeout_s : 10) * 1000,
    };
    s.c = g_new0(struct child, n);
    for (size_t i = 0; i < n; i++) {
        s.c[i].path = paths[i];
        s.c[i].ready_fd = -1;
    }
    /* A closed stderr (sharesfs ... | head) must not end the supervisor. */
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, &s.oldmask);
    s.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    int rc;
    if (s.sfd < 0) {
        say("signalfd: %s", strerror(errno));
        rc = 1;
    } else {
        rc = supervise(&s, opts->foreground);
        close(s.sfd);
    }
    if (s.notify_fd >= 0) {
        unsigned char st = (unsigned char)rc;
        if (write(s.notify_fd, &st, 1) < 0) { /* the waiting process is gone */ }
        close(s.notify_fd);
    }
    sigprocmask(SIG_SETMASK, &s.oldmask, NULL);
    g_free(s.c);
    return rc;
}

void supervisor_detach_stdio(void)
{
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO)
            close(null);
    }
    if (chdir("/") < 0) { /* keeps the old directory busy; harmless */ }
}

int supervisor_daemonize(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        errno = e;
        return -1;
    }
    if (pid > 0) {
        close(p[1]);
        unsigned char status = 1;
        ssize_t r;
        do
            r = read(p[0], &status, 1);
        while (r < 0 && errno == EINTR);
        _exit(r == 1 ? status : 1);
    }
    close(p[0]);
    setsid();
    return p[1];
}
