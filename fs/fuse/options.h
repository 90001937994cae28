/* sharesfs's command line: one table of options that drives the long form
 * (--idle-timeout 60), the -o form (-o idle_timeout=60, as mount(8) and
 * /etc/fstab give it through mount.fuse3) and the usage text.  Parsing is
 * a pure function (no FUSE, no mount, no global state): unit-tested in
 * tests/unit/test_options.c. */
#ifndef SHARESFS_FUSE_OPTIONS_H
#define SHARESFS_FUSE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <fuse_opt.h>

/* What libfuse is always given, before the user's own -o options (which
 * therefore win). */
#define SHARESFS_FUSE_DEFAULTS \
    "fsname=sharesfs,subtype=sharesfs,max_read=1048576,max_threads=32,max_idle_threads=16"

enum sharesfs_action {
    SHARESFS_ACTION_RUN,      /* mount MAP MOUNTPOINT, or AUTO_MASTER */
    SHARESFS_ACTION_STATUS,   /* --status PATH */
    SHARESFS_ACTION_HELP,     /* -h, --help */
    SHARESFS_ACTION_VERSION,  /* -V, --version */
};

struct sharesfs_options {
    enum sharesfs_action action;
    bool foreground, debug, single, direct_io, nobrowse;
    bool allow_other;           /* -o allow_other (or allow_root) went to libfuse */
    bool shared_session;        /* --shared-session: one identity for every user (its risk: docs/config.md) */
    char *config_path;          /* owned; NULL: the default config */
    double timeout_s;           /* 0: the configuration's */
    double attr_s;
    int negative_s, idle_s;     /* whole seconds: the mount table counts in seconds */
    int map_refresh_s;          /* --map-refresh: 0 = only on SIGHUP */
    char *status_path;          /* owned; --status */
    const char *args[2];        /* positional arguments, pointing into argv */
    int n_args;                 /* how many were given (may exceed 2) */
};

/* Returned by sharesfs_options_parse. */
#define SHARESFS_OPT_BAD_VALUE (-1)   /* a value is not valid: exit status 2, no usage text */
#define SHARESFS_OPT_USAGE (-2)       /* unknown option, missing argument: exit status 2 */

/* Parses ARGV into OUT and the arguments for libfuse into FUSE_OUT: argv[0],
 * "-o" SHARESFS_FUSE_DEFAULTS plus every -o option that is not sharesfs's
 * own nor an fstab-only one, then "-d" and "-s" when given; the caller adds
 * the mount point and "-f".  Options not known here go to libfuse, which
 * rejects unknown ones itself when mounting.  Parsing stops at --status,
 * --help or --version (OUT->action), as getopt did.
 * Returns 0, or SHARESFS_OPT_BAD_VALUE / SHARESFS_OPT_USAGE with ERR naming
 * the option as it was written ("--timeout", "-t", "-o timeout"); OUT and
 * FUSE_OUT are then already freed.  On success free both with
 * sharesfs_options_free() and fuse_opt_free_args(). */
int sharesfs_options_parse(int argc, char **argv, struct sharesfs_options *out,
                           struct fuse_args *fuse_out, char *err, size_t errlen);

void sharesfs_options_free(struct sharesfs_options *o);

/* The "options:" part of --help, from the table. */
void sharesfs_options_print_help(FILE *out);

/* True for the mount(8)/fstab/systemd options that mean nothing to a FUSE
 * filesystem and are dropped (noauto, _netdev, x-systemd.*, ...). */
bool sharesfs_option_is_fstab_only(const char *opt);

/* The option table, for tests: entry I's long name (NULL: none) and its
 * -o key (NULL: no -o form), which is the long name with '-' turned into
 * '_'. */
size_t sharesfs_option_count(void);
const char *sharesfs_option_long_name(size_t i);
const char *sharesfs_option_o_key(size_t i);

#endif
