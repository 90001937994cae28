/* sharesfs MAP MOUNTPOINT: every key of an indirect automount map as a
 * directory under MOUNTPOINT, connected on first use. */
#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuse/ops.h"
#include "fuse/status_table.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sharesfs [options] MAP MOUNTPOINT\n"
            "       sharesfs --status MOUNTPOINT\n"
            "\n"
            "Mounts every key of the automount map MAP (an indirect map, or an auto_master\n"
            "whose entry for MOUNTPOINT names one) as a directory under MOUNTPOINT.  A key is\n"
            "connected on first access; failures come back as errno and are explained in\n"
            "MOUNTPOINT/.sharesfs/status.json and the user.sharesfs.status xattr of the key.\n"
            "\n"
            "options:\n"
            "  -f                     stay in the foreground and log to stderr\n"
            "  -d                     foreground with FUSE debug output\n"
            "  -s                     single-threaded\n"
            "  -o OPT[,OPT...]        FUSE mount options (allow_other, ...)\n"
            "  -c, --config FILE      sharesfs.conf (default /etc/sharesfs/sharesfs.conf if present)\n"
            "  -t, --timeout SECS     timeout of each connection stage (default 10)\n"
            "      --negative-timeout SECS  how long a failed mount is answered from cache (default 10)\n"
            "      --attr-timeout SECS      kernel attribute cache (default 1)\n"
            "      --idle-timeout SECS      disconnect a key unused this long (default 600, 0 = never)\n"
            "      --status MOUNTPOINT      print the status of a running sharesfs as a table\n"
            "  -V, --version\n");
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

/* Keeps the entries that belong under ROOT (all of a plain indirect map;
 * from an auto_master only those of the master line for ROOT). */
static size_t keep_entries_for_root(struct sfs_map *map, const char *root)
{
    size_t kept = 0;
    for (size_t i = 0; i < map->n_entries; i++) {
        struct sfs_map_entry *e = &map->entries[i];
        bool mine = e->type == SFS_MAP_TYPE_INDIRECT && (!e->root || strcmp(e->root, root) == 0);
        if (!mine) {
            sfs_map_entry_free(e);
            continue;
        }
        if (kept != i)
            map->entries[kept] = *e;
        kept++;
    }
    map->n_entries = kept;
    return kept;
}

int main(int argc, char **argv)
{
    static const struct option long_opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"timeout", required_argument, NULL, 't'},
        {"negative-timeout", required_argument, NULL, 'n'},
        {"attr-timeout", required_argument, NULL, 'a'},
        {"idle-timeout", required_argument, NULL, 'i'},
        {"status", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    bool foreground = false, debug = false, single = false;
    const char *config_path = NULL;
    double timeout_s = 0, negative_s = 10, attr_s = 1, idle_s = 600;
    GString *fuse_opts = g_string_new("fsname=sharesfs,subtype=sharesfs,max_read=1048576,max_threads=32");
    int opt;
    while ((opt = getopt_long(argc, argv, "fdso:c:t:hV", long_opts, NULL)) != -1) {
        switch (opt) {
        case 'f': foreground = true; break;
        case 'd': debug = foreground = true; break;
        case 's': single = true; break;
        case 'o': g_string_append_printf(fuse_opts, ",%s", optarg); break;
        case 'c': config_path = optarg; break;
        case 't': timeout_s = atof(optarg); break;
        case 'n': negative_s = atof(optarg); break;
        case 'a': attr_s = atof(optarg); break;
        case 'i': idle_s = atof(optarg); break;
        case 'S': return sharesfs_print_status(optarg);
        case 'h': usage(stdout); return 0;
        case 'V': printf("sharesfs %s\n", SHARESFS_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (argc - optind != 2) {
        usage(stderr);
        return 2;
    }
    const char *map_path = argv[optind];
    char mountpoint[PATH_MAX];
    snprintf(mountpoint, sizeof(mountpoint), "%s", argv[optind + 1]);
    size_t mlen = strlen(mountpoint);
    while (mlen > 1 && mountpoint[mlen - 1] == '/')
        mountpoint[--mlen] = '\0';

    struct sfs_status st = {0};
    struct sfs_config *cfg = NULL;
    if (sfs_config_load(config_path, &cfg, &st) < 0) {
        fprintf(stderr, "sharesfs: %s\n", st.detail);
        return 2;
    }
    if (timeout_s > 0)
        sfs_config_set_timeout_ms(cfg, (int)(timeout_s * 1000));

    struct sfs_map map;
    struct sfs_parse_error perr = {0};
    if (sfs_map_load(map_path, mountpoint, &map, &perr) < 0) {
        char msg[768];
        sfs_parse_error_format(&perr, msg, sizeof(msg));
        fprintf(stderr, "sharesfs: %s\n", msg);
        sfs_config_free(cfg);
        return 2;
    }
    for (size_t i = 0; i < map.n_warnings; i++)
        fprintf(stderr, "sharesfs: warning: %s\n", map.warnings[i]);
    if (keep_entries_for_root(&map, mountpoint) == 0) {
        fprintf(stderr, "sharesfs: %s has no indirect entries for %s\n", map_path, mountpoint);
        sfs_map_free(&map);
        sfs_config_free(cfg);
        return 2;
    }
    int rc = mkdir_p(mountpoint);
    if (rc < 0) {
        fprintf(stderr, "sharesfs: cannot create mount point %s: %s\n", mountpoint, strerror(-rc));
        return 2;
    }

    struct sharesfs *fs = calloc(1, sizeof(*fs));
    fs->attr_timeout = attr_s;
    if (mounts_init(&fs->table, &map, cfg, mountpoint) < 0) {
        fprintf(stderr, "sharesfs: out of memory\n");
        return 1;
    }
    fs->table.negative_timeout_s = (int)negative_s;
    fs->table.idle_timeout_s = (int)idle_s;

    char *fargv[8];
    int fargc = 0;
    fargv[fargc++] = argv[0];
    fargv[fargc++] = mountpoint;
    fargv[fargc++] = "-o";
    fargv[fargc++] = fuse_opts->str;
    if (foreground)
        fargv[fargc++] = "-f";
    if (debug)
        fargv[fargc++] = "-d";
    if (single)
        fargv[fargc++] = "-s";
    fargv[fargc] = NULL;
    rc = fuse_main(fargc, fargv, &sharesfs_ops, fs);
    mounts_destroy(&fs->table);
    free(fs);
    g_string_free(fuse_opts, TRUE);
    return rc;
}
