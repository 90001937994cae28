/* sharesfs MAP MOUNTPOINT: every key of an indirect automount map as a
 * directory under MOUNTPOINT, connected on first use; mount(8) runs it so
 * for a fuse.sharesfs line of /etc/fstab (options: options.c).
 * sharesfs AUTO_MASTER: every mount point an auto_master lists, each in its
 * own process (fs/fuse/supervisor.c); direct-map entries are mounted at
 * their own paths, the share itself at the mount's root. */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <malloc.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "mountplan.h"
#include "ops.h"
#include "options.h"
#include "status_table.h"
#include "supervisor.h"
#include "sharesfs/engine.h"
#include "sharesfs/map_sources.h"


static void usage(FILE *out)
{
    fprintf(out,
            "usage: sharesfs [options] MAP MOUNTPOINT\n"
            "       sharesfs [options] AUTO_MASTER\n"
            "       sharesfs --status MOUNTPOINT|AUTO_MASTER\n"
            "       mount -t fuse.sharesfs [-o OPT[,OPT...]] MAP MOUNTPOINT  (/etc/fstab)\n"
            "\n"
            "Mounts every key of the automount map MAP (an indirect map, or an auto_master\n"
            "whose entry for MOUNTPOINT names one) as a directory under MOUNTPOINT.  A key is\n"
            "connected on first access; failures come back as errno and are explained in\n"
            "MOUNTPOINT/.sharesfs/status.json and the user.sharesfs.status xattr of the key.\n"
            "\n"
            "With one argument, mounts everything AUTO_MASTER lists: each indirect map at its\n"
            "mount point, and each entry of a direct map (\"/- auto_direct\") at its own path,\n"
            "the share itself at the root (status: the user.sharesfs.status xattr of that\n"
            "root).  Each mount point is served by its own process.  A direct map given alone\n"
            "is mounted the same way.\n"
            "\n");
    sharesfs_options_print_help(out);
}

static int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(buf, 0755) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* What every mount of this run is given. */
struct run_opts {
    struct sharesfs_options opt;
    struct fuse_args fuse;   /* all of libfuse's arguments but the mount point and -f */
};

/* In a child of the supervisor: told once the kernel's INIT is answered,
 * i.e. the mount is in place and served. */
static int child_ready_fd = -1;
static bool child_detach;

static void *child_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    void *data = sharesfs_ops.init ? sharesfs_ops.init(conn, cfg) : fuse_get_context()->private_data;
    if (child_ready_fd >= 0) {
        char ok = 'R';
        if (write(child_ready_fd, &ok, 1) < 0) { /* the supervisor is gone; it stops us */ }
        close(child_ready_fd);
        child_ready_fd = -1;
    }
    if (child_detach) {
        supervisor_detach_stdio();
    }
    return data;
}

/* libfuse's arguments for one mount: the run's, MOUNTPOINT, -f when
 * FOREGROUND.  Returns 0, or -1 when out of memory. */
static int fuse_args_for_mount(const struct run_opts *o, const char *mountpoint, bool foreground,
                               struct fuse_args *args)
{
    for (int i = 0; i < o->fuse.argc; i++)
        if (fuse_opt_add_arg(args, o->fuse.argv[i]) < 0)
            return -1;
    if (fuse_opt_add_arg(args, mountpoint) < 0)
        return -1;
    return foreground && fuse_opt_add_arg(args, "-f") < 0 ? -1 : 0;
}

/* Mounts MAP's entries at MOUNTPOINT and serves until unmounted.  Takes MAP
 * and CFG.  DIRECT: MAP holds one direct entry, served at the root.
 * READY_FD >= 0: run as a child of the supervisor (in the foreground,
 * reporting readiness there). */
static int serve(const struct run_opts *o, struct sfs_map *map, struct sfs_config *cfg, const char *mountpoint,
                 bool direct, int ready_fd, const char *map_path, const char *load_root)
{
    int rc = mkdir_p(mountpoint);
    if (rc < 0) {
        fprintf(stderr, "sharesfs: cannot create mount point %s: %s\n", mountpoint, strerror(-rc));
        return 2;
    }

    struct sharesfs *fs = calloc(1, sizeof(*fs));
    if (!fs) {
        fprintf(stderr, "sharesfs: out of memory\n");
        return 1;
    }
    fs->attr_timeout = o->opt.attr_s;
    fs->direct_io = o->opt.direct_io;
    fs->direct = direct;
    if (mounts_init(&fs->table, map, cfg, mountpoint) < 0) {
        fprintf(stderr, "sharesfs: out of memory\n");
        return 1;
    }
    fs->table.negative_timeout_s = o->opt.negative_s;
    fs->table.idle_timeout_s = o->opt.idle_s;
    if (o->opt.nobrowse)
        fs->table.nobrowse = true;
    /* Other users reach the mount: each through a session of their own. */
    fs->table.multiuser = o->opt.allow_other && !o->opt.shared_session;
    if (!direct && map_path) {
        struct map_refresh *r = &fs->refresh;
        r->path = strdup(map_path);
        r->load_root = load_root ? strdup(load_root) : NULL;
        r->root = strdup(mountpoint);
        r->interval_s = o->opt.map_refresh_s;
        if (!r->path || !r->root || (load_root && !r->load_root)) {
            fprintf(stderr, "sharesfs: cannot start the map refresh: out of memory\n");
            return 1;
        }
        int prc = map_refresh_prepare(r);
        if (prc < 0) {
            fprintf(stderr, "sharesfs: cannot start the map refresh: pipe: %s\n", strerror(-prc));
            return 1;
        }
        r->good_at = sfs_map_failed_sources(&fs->table.map) ? 0 : time(NULL);
    }

    struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
    rc = fuse_args_for_mount(o, mountpoint, o->opt.foreground || ready_fd >= 0, &args);
    struct fuse_operations ops = sharesfs_ops;
    if (ready_fd >= 0) {
        child_ready_fd = ready_fd;
        child_detach = !o->opt.foreground;
        ops.init = child_init;
    }
    if (rc == 0) {
        rc = fuse_main(args.argc, args.argv, &ops, fs);
    } else {
        fprintf(stderr, "sharesfs: out of memory\n");
        rc = 1;
    }
    fuse_opt_free_args(&args);
    map_refresh_stop(&fs->refresh);
    mounts_destroy(&fs->table);
    free(fs->refresh.path);
    free(fs->refresh.load_root);
    free(fs->refresh.root);
    free(fs);
    return rc;
}

static struct sfs_config *load_config(const struct run_opts *o)
{
    struct sfs_status st = {0};
    struct sfs_config *cfg = NULL;
    if (sfs_config_load(o->opt.config_path, &cfg, &st) < 0) {
        fprintf(stderr, "sharesfs: %s\n", st.detail);
        return NULL;
    }
    if (o->opt.timeout_s > 0)
        sfs_config_set_timeout_ms(cfg, (int)(o->opt.timeout_s * 1000));
    return cfg;
}

/* sharesfs MAP MOUNTPOINT, as it has always been. */
static int run_single(const struct run_opts *o, const char *map_path, const char *mountpoint_arg)
{
    char mountpoint[PATH_MAX];
    snprintf(mountpoint, sizeof(mountpoint), "%s", mountpoint_arg);
    size_t mlen = strlen(mountpoint);
    while (mlen > 1 && mountpoint[mlen - 1] == '/')
        mountpoint[--mlen] = '\0';

    struct sfs_config *cfg = load_config(o);
    if (!cfg)
        return 2;
    struct sfs_map map;
    if (map_refresh_load(map_path, mountpoint, mountpoint, cfg, &map) < 0) {
        sfs_config_free(cfg);
        return 2;
    }
    if (map.n_entries == 0) {
        fprintf(stderr, "sharesfs: %s has no indirect entries for %s%s\n", map_path, mountpoint,
                sfs_map_failed_sources(&map) ? " (a directory source could not be read: see above)" : "");
        sfs_map_free(&map);
        sfs_config_free(cfg);
        return 2;
    }
    return serve(o, &map, cfg, mountpoint, false, -1, map_path, mountpoint);
}

/* Loads an auto_master (or a direct map) and splits it into mount points.
 * Returns 0, or -1 after printing why. */
static int load_plan(const char *path, const struct sfs_config *cfg, struct mountplan *plan)
{
    struct sfs_map map;
    if (map_refresh_load(path, NULL, NULL, cfg, &map) < 0)
        return -1;
    if (map.n_entries == 0) {
        fprintf(stderr, "sharesfs: %s lists nothing sharesfs can mount\n", path);
        sfs_map_free(&map);
        return -1;
    }
    char err[1024];
    int rc = mountplan_build(&map, plan, err, sizeof(err));
    sfs_map_free(&map);
    if (rc < 0) {
        fprintf(stderr, "sharesfs: %s: %s\n", path, err);
        return -1;
    }
    return 0;
}

static bool mounted_here(const char *path)
{
    gchar *text = NULL;
    bool found = false;
    if (g_file_get_contents("/proc/self/mountinfo", &text, NULL, NULL))
        found = mountplan_mountinfo_has(text, path, "fuse.sharesfs");
    g_free(text);
    return found;
}

struct master_ctx {
    const struct run_opts *o;
    const char *master_path;
    struct mountplan *plan;
    struct sfs_config *cfg;
};

static int master_child(size_t index, int ready_fd, void *vctx)
{
    struct master_ctx *mc = vctx;
    struct mountplan_point *p = &mc->plan->points[index];
    struct sfs_map map = p->map;
    memset(&p->map, 0, sizeof(p->map));   /* serve() owns it now */
    struct sfs_config *cfg = mc->cfg;
    mc->cfg = NULL;
    return serve(mc->o, &map, cfg, p->path, p->direct, ready_fd, mc->master_path, NULL);
}

/* sharesfs AUTO_MASTER: validated and every mount point created before
 * anything is mounted; then one child per mount point. */
static int run_master(const struct run_opts *o, const char *master_path)
{
    struct sfs_config *cfg = load_config(o);
    if (!cfg)
        return 2;
    struct mountplan plan;
    if (load_plan(master_path, cfg, &plan) < 0) {
        sfs_config_free(cfg);
        return 2;
    }
    const char **paths = calloc(plan.n, sizeof(*paths));
    int rc = paths ? 0 : 1;
    for (size_t i = 0; rc == 0 && i < plan.n; i++) {
        paths[i] = plan.points[i].path;
        struct stat sb;
        int e = mkdir_p(plan.points[i].path);
        if (e == 0 && stat(plan.points[i].path, &sb) < 0)
            e = -errno;
        else if (e == 0 && !S_ISDIR(sb.st_mode))
            e = -ENOTDIR;
        if (e < 0) {
            fprintf(stderr, "sharesfs: cannot create mount point %s: %s\n", plan.points[i].path, strerror(-e));
            rc = 2;
        } else if (mounted_here(plan.points[i].path)) {
            /* A second sharesfs on top would hide the first. */
            fprintf(stderr, "sharesfs: %s: a sharesfs is already mounted there\n", plan.points[i].path);
            rc = 2;
        }
    }
    if (rc == 0) {
        struct supervisor_opts so = {.foreground = o->opt.foreground, .notify_fd = -1};
        if (!o->opt.foreground && (so.notify_fd = supervisor_daemonize()) < 0) {
            fprintf(stderr, "sharesfs: cannot go to the background: %s\n", strerror(errno));
            rc = 1;
        } else {
            struct master_ctx mc = {.o = o, .master_path = master_path, .plan = &plan, .cfg = cfg};
            rc = supervisor_run(paths, plan.n, master_child, &mc, &so);
        }
    }
    free(paths);
    mountplan_free(&plan);
    sfs_config_free(cfg);
    return rc;
}

/* ---- sharesfs --status ---- */

/* The user.sharesfs.status xattr of a direct mount's root (reading it does
 * not log in); NULL when PATH is not one. */
static gchar *direct_status(const char *path)
{
    ssize_t len = getxattr(path, SFS_STATUS_XATTR, NULL, 0);
    if (len <= 0)
        return NULL;
    gchar *buf = g_malloc0((gsize)len + 1);
    ssize_t got = getxattr(path, SFS_STATUS_XATTR, buf, (size_t)len);
    if (got <= 0) {
        g_free(buf);
        return NULL;
    }
    buf[got] = '\0';
    return buf;
}

/* Every mount point of an auto_master in one table; exit status 1 when
 * one of them is not mounted. */
static int print_master_status(const char *master_path)
{
    struct mountplan plan;
    if (load_plan(master_path, NULL, &plan) < 0)
        return 2;
    int rc = 0;
    status_table_header();
    for (size_t i = 0; i < plan.n; i++) {
        const struct mountplan_point *p = &plan.points[i];
        gchar *text = NULL;
        if (mounted_here(p->path)) {
            if (p->direct) {
                text = direct_status(p->path);
            } else {
                gchar *file = g_build_filename(p->path, ".sharesfs", "status.json", NULL);
                if (!g_file_get_contents(file, &text, NULL, NULL))
                    text = NULL;
                g_free(file);
            }
        }
        if (text)
            status_table_rows(text);
        else {
            printf("%-28s %-10s\n", p->path, "unmounted");
            rc = 1;
        }
        g_free(text);
    }
    mountplan_free(&plan);
    return rc;
}

static int print_status(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
        return print_master_status(path);
    /* A direct mount answers with its xattr: looking for .sharesfs in it
     * would connect (its root is the share). */
    gchar *text = direct_status(path);
    if (!text)
        return sharesfs_print_status(path);
    status_table_header();
    status_table_rows(text);
    g_free(text);
    return 0;
}

/* What to do with the parsed command line. */
static int run(const struct run_opts *o)
{
    switch (o->opt.action) {
    case SHARESFS_ACTION_STATUS:
        return print_status(o->opt.status_path);
    case SHARESFS_ACTION_HELP:
        usage(stdout);
        return 0;
    case SHARESFS_ACTION_VERSION:
        printf("sharesfs %s\n", SHARESFS_VERSION);
        return 0;
    case SHARESFS_ACTION_RUN:
        break;
    }
    if (o->opt.n_args == 2)
        return run_single(o, o->opt.args[0], o->opt.args[1]);
    if (o->opt.n_args == 1)
        return run_master(o, o->opt.args[0]);
    usage(stderr);
    return 2;
}

int main(int argc, char **argv)
{
    /* Started by this process itself for each key whose backend runs in a
     * worker process (sharesfs/engine.h). */
    if (argc >= 2 && !strcmp(argv[1], "--worker"))
        return sfs_worker_main();
    /* One malloc arena: every thread (FUSE's, read-ahead's) otherwise keeps
     * its own, each holding libsmbclient's 8 MiB read buffers; measured on
     * a 512 MiB SMB read: peak RSS 84-92 MiB -> 48-51 MiB, same speed. */
    mallopt(M_ARENA_MAX, 1);
    struct run_opts o;
    char err[512];
    int rc = sharesfs_options_parse(argc, argv, &o.opt, &o.fuse, err, sizeof(err));
    if (rc < 0) {
        /* Before anything is loaded or mounted; exit status 2, like every
         * error of the command line, so systemd does not restart a unit
         * whose options can never work (RestartPreventExitStatus=2). */
        fprintf(stderr, "sharesfs: %s\n", err);
        if (rc == SHARESFS_OPT_USAGE)
            usage(stderr);
        return 2;
    }
    rc = run(&o);
    sharesfs_options_free(&o.opt);
    fuse_opt_free_args(&o.fuse);
    return rc;
}
