/* afptest matrix: targets x clients x suites, run, compared with a stored
 * baseline (docs/matrix.md).  One header for the small files of this folder:
 * parse.c (the YAML file), cells.c (the cells and their map entries),
 * run.c (the process pool), results.c (one result, its baseline line),
 * baseline.c (baseline dir and expectations), compare.c (outcomes),
 * report_*.c (JSON, JUnit, TAP, terminal), plan.c, cli.c; the suites:
 * wire.c (records from a cell's process), fuse_checks.c, fuse_mount.c,
 * fuse_suite.c, seed.c, directory.c; container.c (container / vm targets' hook). */
#ifndef SHARESFS_PROBES_MATRIX_H
#define SHARESFS_PROBES_MATRIX_H

#include <stdbool.h>
#include <stdio.h>

#include <glib.h>

#define MX_SCHEMA_VERSION 1
#define MX_JSON_SCHEMA "sharesfs.matrix/1"
#define MX_BASELINE_HEADER "# sharesfs matrix baseline 1"

enum mx_target_kind { MX_TARGET_LAB, MX_TARGET_CONTAINER, MX_TARGET_VM, MX_TARGET_REMOTE };
enum mx_proto { MX_PROTO_SMB, MX_PROTO_AFP };
enum mx_auth { MX_AUTH_GUEST, MX_AUTH_PASSWORD, MX_AUTH_KERBEROS };
enum mx_ticket { MX_TICKET_VALID, MX_TICKET_EXPIRED, MX_TICKET_ABSENT };
enum mx_flavour { MX_FLAVOUR_MACOS, MX_FLAVOUR_SUN };
enum mx_suite_kind { MX_SUITE_PROBE, MX_SUITE_FUSE, MX_SUITE_SEED, MX_SUITE_DIRECTORY };

/* Where a problem is: "FILE:LINE:COLUMN: message". */
struct mx_error {
    char file[256];
    int line, column;
    char message[512];
};
void mx_error_set(struct mx_error *err, const char *file, int line, int column, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* "FILE:LINE:COLUMN: message" (LINE/COLUMN left out when 0). */
void mx_error_format(const struct mx_error *err, char *buf, size_t len);

struct mx_share {
    char *name;          /* entry name: unique in its target */
    enum mx_proto proto;
    char *share;         /* share or volume name; NULL when url is given */
    char *url;           /* a full URL, used as written */
    char *read;          /* file for the read stage; NULL: the first listed */
    bool no_read;        /* stop after list */
    bool write;          /* fuse suite: the write checks (clients other than guest) */
};

struct mx_target {
    char *name;
    enum mx_target_kind kind;
    char *host;          /* lab: NAME.<lab_domain> by default; remote: required */
    char *suite, *server_config, *image;  /* container / vm */
    char **packages;     /* container: NULL-terminated */
    char *remote_proto;  /* remote: "smb" or "afp" */
    char *user, *credentials, *password_env;  /* remote: its own secret, never inline */
    GPtrArray *shares;   /* struct mx_share * */
    struct mx_directory *directory;   /* a directory server's maps (the directory suite); NULL when none */
    int line, column;
};

/* A target that serves automount maps over LDAP (docs/matrix.md). */
struct mx_directory {
    char *map;           /* what is read: "+auto_master", "ldap://HOST/DN", "ldap:DN" */
    char *uri;           /* default ldap://HOST */
    char *base;
    char *bind_dn, *password_file;   /* the simple bind of clients with auth: password */
    char *ca_file;
    bool starttls;
};

struct mx_client {
    char *name;
    enum mx_auth auth;
    char *user, *credentials, *password_env;  /* password */
    char *principal;                          /* kerberos */
    enum mx_ticket ticket;
    char *afp_uam;                            /* password over AFP: default DHX2 */
    char *smb_min, *smb_max;                  /* dialect range; NULL: the config's */
    enum mx_flavour flavour;
    long uid;            /* > 0: a multi-user client: the fuse suite mounts with allow_other and runs its
                            checks as this uid, with the client's credentials in a file of that uid */
    int line, column;
};

struct mx_suite {
    char *name;
    enum mx_suite_kind kind;
    int line, column;
};

/* `only` / `no` rule of `cells:`: each field a list of globs (NULL: any). */
struct mx_rule {
    bool only;
    char **targets, **clients, **suites;
    char *reason;
    int line, column;
};

struct mx_matrix {
    char *file;
    int version;
    double timeout_s;
    char *ticket_command;
    char *lab_domain;
    char *container_command;  /* starts / stops container targets (container.c) */
    char *vm_command;         /* the same for vm targets, when one is given */
    GPtrArray *targets, *clients, *suites, *rules;
};

/* parse.c */
struct mx_matrix *mx_matrix_load(const char *path, struct mx_error *err);
struct mx_matrix *mx_matrix_parse_text(const char *text, size_t len, const char *name, struct mx_error *err);
void mx_matrix_free(struct mx_matrix *m);
const char *mx_suite_kind_name(enum mx_suite_kind k);
const char *mx_target_kind_name(enum mx_target_kind k);

/* cells.c */
struct mx_cell {
    char *id;            /* "target/client/suite" */
    struct mx_target *target;
    struct mx_client *client;
    struct mx_suite *suite;
    bool excluded;
    char *reason;        /* why excluded */
};
/* Every target x client x suite in file order, excluded ones included. */
GPtrArray *mx_cells(const struct mx_matrix *m);
/* The automount map (one line per share) of a cell; NULL when a share has
 * no URL for this client.  Holds no password. */
char *mx_cell_map_text(const struct mx_matrix *m, const struct mx_cell *c);
/* fnmatch over a NULL-terminated glob list; a NULL list matches anything. */
bool mx_globs_match(char **globs, const char *name);

/* results.c: one compared result.  Strings are never NULL ("-" when empty). */
struct mx_result {
    char *cell;          /* "target/client/suite" */
    char *name;          /* "entry.stage": entry and the stage it should reach */
    char *reached;       /* stage where it stopped (the failing one) or the last passed */
    char *result;        /* "ok" or an errno name */
    char *status;        /* protocol status name */
    char *auth;          /* auth module */
    char *server;        /* server identity: machine type / version string */
    char *dialect;
    char *detail;        /* not compared */
    double ms;           /* not compared */
};
#define MX_N_FIELDS 6
extern const char *const mx_field_names[MX_N_FIELDS];   /* stage, result, status, auth, server, dialect */
const char *mx_result_field(const struct mx_result *r, int i);
struct mx_result *mx_result_new(const char *cell, const char *name);
void mx_result_set(struct mx_result *r, const char *reached, const char *result, const char *status,
                   const char *auth, const char *server, const char *dialect, const char *detail);
void mx_result_free(void *r);
bool mx_result_passed(const struct mx_result *r);
/* "target/client/suite/entry.stage"; caller frees. */
char *mx_result_id(const struct mx_result *r);
/* Baseline line (tab-separated, no newline); caller frees. */
char *mx_result_line(const struct mx_result *r);
/* Parses a baseline line of CELL; NULL when malformed. */
struct mx_result *mx_result_from_line(const char *cell, const char *line);
/* Tabs, newlines and control characters become spaces; empty becomes "-". */
char *mx_normalise(const char *s);
/* Sorts a GPtrArray of results by id. */
void mx_results_sort(GPtrArray *results);

/* baseline.c */
enum mx_expect_kind { MX_EXPECT_NONE, MX_EXPECT_KNOWNFAIL, MX_EXPECT_FLAPPING };
struct mx_expectation {
    enum mx_expect_kind kind;
    char *pattern;       /* glob over result ids */
    char *reason;
    int line;
};
/* DIR/CELL-with-dots.tsv: "a/b/c" -> "a.b.c.tsv"; caller frees. */
char *mx_baseline_file_name(const char *cell);
/* Every result of DIR (all cells): a table id -> struct mx_result * (owned). */
GHashTable *mx_baseline_load(const char *dir, struct mx_error *err);
/* Writes one file per cell present in RESULTS (struct mx_result *), removes
 * *.tsv files of cells not in KEEP_CELLS (char *), 0 or -errno. */
int mx_baseline_write(const char *dir, GPtrArray *results, GPtrArray *keep_cells, struct mx_error *err);
/* DIR/expectations; absent file: empty list.  NULL on a syntax error. */
GPtrArray *mx_expectations_load(const char *dir, struct mx_error *err);
GPtrArray *mx_expectations_parse(const char *text, const char *name, struct mx_error *err);
const struct mx_expectation *mx_expectation_for(GPtrArray *expectations, const char *id);
void mx_expectation_free(void *e);
/* Results of a JSON report (sharesfs.matrix/1) or a baseline dir; id -> result. */
GHashTable *mx_results_load_any(const char *path, struct mx_error *err);

/* compare.c */
enum mx_outcome {
    MX_OK, MX_CHANGED, MX_UNEXPECTED_FAILURE, MX_UNEXPECTED_SUCCESS, MX_XFAIL, MX_NEW, MX_MISSING, MX_ERROR,
    MX_SKIPPED,          /* an excluded cell (reports only) */
};
const char *mx_outcome_name(enum mx_outcome o);
/* Does this outcome make the run fail (flapping entries never do)? */
bool mx_outcome_gates(enum mx_outcome o);
enum mx_outcome mx_outcome_of(const struct mx_result *before, const struct mx_result *after,
                              const struct mx_expectation *ex);

/* One line of the comparison: before and/or after, and what it means. */
struct mx_verdict {
    char *id;
    char *cell;
    const struct mx_result *before, *after;  /* borrowed */
    const struct mx_expectation *ex;         /* borrowed, may be NULL */
    enum mx_outcome outcome;
    bool gating;         /* counts as failed (not for flapping) */
    char *message;       /* for ERROR / SKIPPED: why */
};
struct mx_summary {
    unsigned passed, failed, errors, xfail, added, missing, skipped, changed;
    GPtrArray *flapping;  /* char *: "id (reason)" */
};
/* Compares a run with a baseline: one verdict per id of either (+ one per
 * excluded / errored cell).  RUN_CELLS lists the cells that ran (char *);
 * baseline results of other cells are left alone unless they are unknown to
 * the matrix (ALL_CELLS): those are MISSING. */
GPtrArray *mx_compare_run(GPtrArray *cells, GHashTable *errors, GPtrArray *run, GHashTable *baseline,
                          GPtrArray *expectations);
void mx_verdict_free(void *v);
void mx_summarise(GPtrArray *verdicts, struct mx_summary *s);
void mx_summary_clear(struct mx_summary *s);
/* The line printed for a verdict that is not ok; caller frees. */
char *mx_verdict_text(const struct mx_verdict *v);
/* `afptest matrix compare`: every differing field side by side; returns the
 * number of differing ids. */
int mx_compare_tables(FILE *out, GHashTable *a, GHashTable *b, const char *name_a, const char *name_b);

/* report_*.c */
struct mx_run_info {
    const char *matrix, *baseline;
    double seconds;
    int jobs;
    GHashTable *cell_seconds;  /* cell id -> double * */
};
void mx_report_json(FILE *out, const struct mx_run_info *info, GPtrArray *cells, GPtrArray *verdicts,
                    const struct mx_summary *s);
void mx_report_junit(FILE *out, const struct mx_run_info *info, GPtrArray *cells, GPtrArray *verdicts);
void mx_report_tap(FILE *out, GPtrArray *verdicts);
/* Lines of everything not ok, the summary line(s); a table when TTY. */
void mx_report_terminal(FILE *out, GPtrArray *verdicts, const struct mx_summary *s, bool tty);
void mx_xml_escape(GString *out, const char *s);
void mx_json_string(GString *out, const char *s);

/* run.c */
struct mx_run_options {
    int jobs;
    bool progress;       /* a progress line on stderr */
};
/* Runs every included cell; results (struct mx_result *) of all cells;
 * *errors: cell id -> message (char *) for cells that could not run. */
GPtrArray *mx_run(struct mx_matrix *m, GPtrArray *cells, const struct mx_run_options *o,
                  GHashTable **errors, GHashTable *cell_seconds);

/* wire.c: one result as a cell's process sends it to the parent, in one
 * write() of less than PIPE_BUF bytes (a killed writer never leaves half a
 * record).  Name "!" carries a cell error in detail; "." ends a cell. */
struct mx_wire {
    char name[160];
    char reached[32], result[48], status[64], auth[64], server[128], dialect[32];
    char detail[480];
    double ms;
};
void mx_wire_set(struct mx_wire *w, const char *name, const char *reached, const char *result, const char *status,
                 const char *detail);
bool mx_wire_send(int fd, const struct mx_wire *w);
void mx_wire_error(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct mx_result *mx_wire_result(const char *cell, const struct mx_wire *w);
/* The errno's name ("ENOENT"), or "errnoN". */
const char *mx_errno_name(int err, char *buf, size_t len);
bool mx_write_all(int fd, const void *buf, size_t len);

/* run.c, for the suites: one map entry probed in a process of its own. */
struct sfs_map_entry;
struct sfs_config;
struct sfs_probe_options;
struct sfs_probe_result;
void mx_probe_one(const struct sfs_map_entry *e, const struct sfs_config *cfg, const struct sfs_probe_options *po,
                  int deadline_ms, struct sfs_probe_result *r);
void mx_wire_from_probe(const struct mx_cell *c, const char *name, const struct sfs_probe_result *p,
                        struct mx_wire *w);

/* fuse_checks.c: the fuse suite's named checks on one directory (the key
 * of a sharesfs mount, or any directory in a test).  Each check sends one
 * record named "ENTRY.CHECK" to FD. */
extern const char *const mx_fuse_write_checks[];   /* NULL-terminated */
extern const char *const mx_fuse_read_checks[];
struct mx_fuse_entry {
    const char *entry;   /* the key */
    const char *root;    /* its directory */
    const char *read;    /* the file the read check reads; NULL: the first listed */
    bool write;          /* write checks, else read-only checks */
    const char *run_dir; /* name of the directory the write checks make (".sfs-matrix-PID") */
};
void mx_fuse_check_entry(const struct mx_fuse_entry *e, int fd);
/* The checks an entry gets, so a cell that hangs can name the missing ones. */
const char *const *mx_fuse_checks_of(bool write);

/* fuse_mount.c: a sharesfs mount of a map, with deadlines. */
struct mx_mount {
    char *dir;           /* the mount point */
    pid_t pid;           /* sharesfs */
    char *log;           /* its stderr */
};
/* $SHARESFS, else ../fs/fuse/sharesfs next to this executable, else PATH. */
char *mx_sharesfs_path(void);
/* Mounts MAP_PATH at DIR with CONFIG; false and WHY when it did not come up
 * within WAIT_MS. */
bool mx_mount_start(struct mx_mount *mt, const char *map_path, const char *config, double timeout_s,
                    const char *dir, int wait_ms, char *why, size_t len);
/* The same with sharesfs -o O_OPTS ("allow_other"); NULL: none. */
bool mx_mount_start_opts(struct mx_mount *mt, const char *map_path, const char *config, double timeout_s,
                         const char *o_opts, const char *dir, int wait_ms, char *why, size_t len);
/* fusermount3 -u (then -uz), sharesfs ended (SIGKILL after a grace). */
void mx_mount_stop(struct mx_mount *mt);
/* Detaches every DIR/ *.mnt still mounted (cells killed at a deadline). */
void mx_mount_sweep(const char *dir);
/* Runs FN(ARG, FD) in a child process; its records go to OUT_FD as they
 * come; killed at DEADLINE_MS.  Names seen are added to SEEN (char *).
 * Returns MX_CHILD_OK, or MX_CHILD_DIED (a crash: WHY says how) or
 * MX_CHILD_KILLED (the deadline). */
enum { MX_CHILD_OK, MX_CHILD_DIED, MX_CHILD_KILLED };
int mx_run_child(void (*fn)(void *arg, int fd), void *arg, int out_fd, int deadline_ms, GHashTable *seen,
                 char *why, size_t len);

/* fuse_suite.c, seed.c: a cell of that suite, in the cell's process. */
struct mx_cell_env {
    const char *config;  /* the client's sharesfs.conf */
    const char *tmp;     /* a directory of the run */
    int index;           /* the cell's number (unique names under tmp) */
};
void mx_fuse_cell(const struct mx_matrix *m, const struct mx_cell *c, const struct mx_cell_env *env, int fd);
void mx_seed_cell(const struct mx_matrix *m, const struct mx_cell *c, const struct mx_cell_env *env, int fd);
/* directory.c: the target's directory map read with the client's bind
 * (guest: anonymous, password: simple, kerberos: GSSAPI); SOURCE.map per
 * directory source, then each entry it gave probed to `list`. */
void mx_directory_cell(const struct mx_matrix *m, const struct mx_cell *c, const struct mx_cell_env *env, int fd);
int mx_directory_cell_deadline_ms(const struct mx_matrix *m);
/* The seed scenario's map for HOST (docs/kerberos.md): Groups, Attic, Multimedia. */
char *mx_seed_map_text(const char *host);
extern const char *const mx_seed_rows[];  /* NULL-terminated */
/* How long a cell of this suite may take (the parent's deadline). */
int mx_fuse_cell_deadline_ms(const struct mx_matrix *m, const struct mx_cell *c);
int mx_seed_cell_deadline_ms(const struct mx_matrix *m);
int mx_entry_deadline_ms(const struct mx_matrix *m);
/* Removes what a run or a cell left in DIR (mount points, files a check
 * made, a container's state), never crossing into a file system still
 * mounted there. */
void mx_remove_tree(const char *dir);

/* container.c: container (and vm) targets through the matrix's hook. */
struct mx_started;
/* Starts every container target an included cell uses; a target that does
 * not start gets its reason in *FAILED (target name -> char *).  Sets each
 * started target's host to its address. */
struct mx_started *mx_targets_start(struct mx_matrix *m, GPtrArray *cells, const char *tmp, GHashTable *failed);
void mx_targets_stop(struct mx_started *s);
/* The address of the Nth container target (0-based) and its host side. */
void mx_container_addresses(int n, char *addr, size_t alen, char *peer, size_t plen);

/* plan.c */
void mx_plan(FILE *out, const struct mx_matrix *m, GPtrArray *cells, int hosts);

/* cli.c: `afptest matrix ...`; ARGV[0] is "matrix". */
int afptest_matrix(int argc, char **argv);

#endif
