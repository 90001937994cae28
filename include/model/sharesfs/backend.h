/* A backend is a table of operations over one connected share.
 * Operations return 0 (or a byte count) or a negative errno, and fill the
 * caller's struct sfs_status on failure.  A connection may be used from
 * several threads at once: each backend serialises what its library needs. */
#ifndef SHARESFS_BACKEND_H
#define SHARESFS_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <time.h>

#include "sharesfs/auth.h"
#include "sharesfs/map.h"
#include "sharesfs/status.h"
#include "sharesfs/url.h"

struct sfs_config;

#ifdef __cplusplus
extern "C" {
#endif

/* What the server says about itself (filled during negotiate). */
struct sfs_server_info {
    char address[64];        /* numeric address connected to */
    char dialect[32];        /* "SMB3_11", "AFP3.4" */
    char server_name[128];   /* AFP server name / SMB NetBIOS or DNS name when known */
    char server_os[128];     /* SMB native OS / AFP machine type */
    char versions[256];      /* AFP versions offered, comma-separated */
    char uams[256];          /* AFP UAMs offered, comma-separated */
    uint32_t flags;          /* AFP server flags */
    char principal[256];     /* Kerberos principal the server advertises */
    bool encrypted;          /* SMB3 encryption offered */
    char auth_used[64];      /* the auth module finally used, when the backend chose it (AFP auto) */
    char answer_of[256];     /* reuse_server_answer: label of the earlier connect whose answer to the
                                first exchange (SMB NEGOTIATE, AFP FPGetSrvrInfo) the facts above come
                                from; empty: this connect asked the server itself */
};

/* Everything a backend needs to reach one share. */
struct sfs_target {
    const char *label;               /* mount point or key: names the entry in messages */
    const struct sfs_url *url;
    const struct sfs_mount_options *opts; /* may be NULL */
    struct sfs_credentials creds;
    struct sfs_auth_choice auth;
    /* Filled by the backend's prepare_target: */
    char dialect_min[16];            /* SMB: "NT1", "SMB2_02", "SMB3_11"; empty = library default */
    char dialect_max[16];
    int timeout_ms;                  /* per stage */
    bool allow_cleartext;
    const char *client_conf;         /* the protocol library's client config (SMB: smb.conf); NULL = its default */
    const char *krb5_ccache;         /* Kerberos ccache ("FILE:/tmp/x"); NULL = KRB5CCNAME or the default */
    bool personal;                   /* one user's own session (multiuser): without a password, Kerberos,
                                        never a guest fall-back unless the entry says guest */
    char *label_owned;               /* a personal session's label, "KEY (uid N)": LABEL points here */
    bool reuse_server_answer;        /* take the server's answer to the first exchange from an earlier
                                        connect of this process to the same address (answer_cache.h)
                                        instead of a connection of its own; asked afresh when the
                                        connect then fails before its login */
};

/* Called as stages complete so probes can time them. */
typedef void (*sfs_stage_cb)(void *ctx, enum sfs_stage stage, double ms, const struct sfs_status *st);

struct sfs_conn;
struct sfs_file;

/* Protocol counters of one connection, for status.json. */
struct sfs_conn_stats {
    uint64_t requests;          /* protocol requests sent */
    unsigned max_in_flight;     /* most requests outstanding at once */
    /* Read-ahead of the files closed so far (fs/core/readahead.c): reads
     * served from windows, reads left to a direct read, windows fetched. */
    uint64_t readahead_hits, readahead_misses, readahead_fetches;
    /* Sessions the library set up again by itself on this connection
     * (libsmbclient, finding its session gone); ours are the mount's
     * `connects`. */
    uint64_t reconnects;
};

typedef int (*sfs_dirent_cb)(void *ctx, const char *name, const struct stat *st);

/* Memory for read-ahead windows that a backend provides (the isolation
 * wrapper's shared buffer, so a fetch lands where the reader copies
 * from): get returns a buffer of at least 8 MiB or NULL (then the window
 * is malloc'd), put takes it back once no fetch uses it. */
struct sfs_window_pool {
    void *(*get)(void *ctx);
    void (*put)(void *ctx, void *buf);
    void *ctx;
};

/* What a server says about itself before any login, as labelled lines for
 * `afptest info` (the backend formats them: it knows the protocol). */
#define SFS_SERVER_FACTS_MAX 24
struct sfs_server_facts {
    size_t n;
    struct {
        char label[24];
        char value[768];
    } rows[SFS_SERVER_FACTS_MAX];
};
/* Appends one line (silently dropped past SFS_SERVER_FACTS_MAX). */
void sfs_server_facts_add(struct sfs_server_facts *f, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Longest name component AFP and SMB servers store: 255 UTF-16 code units
 * (HFS+, NTFS; netatalk and Samba on Linux store at most 255 bytes, which
 * they refuse themselves).  Linux's NAME_MAX, which statfs reports. */
#define SFS_NAME_MAX_UTF16 255
/* -ENAMETOOLONG when a component of PATH (UTF-8, '/'-separated) is longer
 * than SFS_NAME_MAX_UTF16, -EILSEQ when PATH is not UTF-8 (both protocols
 * carry names as Unicode; a local filesystem takes any bytes), else 0:
 * checked before anything is sent, so a program gets the errno POSIX gives
 * rather than the server's "invalid name" (EINVAL) or libsmbclient's
 * conversion failure (ENOMEM). */
int sfs_path_check_names(const char *path);
/* The same, with *st filled for the operation STEP ("mkdir") at STAGE. */
int sfs_path_check(const char *path, enum sfs_stage stage, const char *step, struct sfs_status *st);
/* UTF-16 code units of the UTF-8 bytes S[0..N): one per character, two
 * above U+FFFF (a surrogate pair); a stray byte counts as one. */
size_t sfs_utf16_units(const char *s, size_t n);

/* Backend flags. */
enum {
    /* Run each connection in a worker process of its own (the engine's
     * isolation wrapper): the protocol library cannot serve two calls at
     * once in one process, so one stalled server would hold up every key. */
    SFS_BACKEND_ISOLATE = 1u << 0,
    /* The protocol library loads its client config (sfs_target.client_conf,
     * or its own default) for the whole process and keeps it: a probe
     * worker takes entries of one such config only
     * (sfs_engine_probe_footprint).  Without it an entry fits any worker. */
    SFS_BACKEND_PROCESS_CONFIG = 1u << 1,
    /* Two reads of one file may run at once and share the connection's
     * pipeline: read-ahead then keeps two windows in flight, not one. */
    SFS_BACKEND_PARALLEL_READS = 1u << 2,
};

struct sfs_backend_ops {
    const char *name;
    unsigned flags;                  /* SFS_BACKEND_* */
    /* Optional: the protocol's part of ENTRY -> target (auth module,
     * dialect range, client config), after the generic part
     * (sfs_target_from_entry).  Fails with stage PARSE or AUTHENTICATE. */
    int (*prepare_target)(const struct sfs_map_entry *entry, const struct sfs_config *cfg, struct sfs_target *t,
                          struct sfs_status *st);
    /* Optional: resolve, connect and ask the server to describe itself,
     * without logging in (AFP FPGetSrvrInfo, SMB NEGOTIATE). */
    int (*server_info)(const struct sfs_target *t, struct sfs_server_info *info, struct sfs_server_facts *facts,
                       struct sfs_status *st);
    int (*connect)(const struct sfs_target *t, struct sfs_conn **out, struct sfs_server_info *info,
                   sfs_stage_cb cb, void *cb_ctx, struct sfs_status *st);
    void (*disconnect)(struct sfs_conn *c);
    int (*getattr)(struct sfs_conn *c, const char *path, struct stat *out, struct sfs_status *st);
    /* cb returns nonzero to stop early. */
    int (*readdir)(struct sfs_conn *c, const char *path, sfs_dirent_cb cb, void *cb_ctx, struct sfs_status *st);
    int (*open)(struct sfs_conn *c, const char *path, int flags, struct sfs_file **out, struct sfs_status *st);
    ssize_t (*read)(struct sfs_conn *c, struct sfs_file *f, char *buf, size_t size, off_t off, struct sfs_status *st);
    int (*release)(struct sfs_conn *c, struct sfs_file *f);
    int (*statfs)(struct sfs_conn *c, const char *path, struct statvfs *out, struct sfs_status *st);
    /* The write side (NULL: the backend is read-only: EROFS).  Writes are
     * write-through: a write returns only after the server acknowledged
     * it, so fsync has nothing left to lose (it still asks the server to
     * flush where the protocol can). */
    int (*create)(struct sfs_conn *c, const char *path, mode_t mode, int flags, struct sfs_file **out,
                  struct sfs_status *st);
    ssize_t (*write)(struct sfs_conn *c, struct sfs_file *f, const char *buf, size_t size, off_t off,
                     struct sfs_status *st);
    int (*ftruncate)(struct sfs_conn *c, struct sfs_file *f, off_t size, struct sfs_status *st);
    int (*fsync)(struct sfs_conn *c, struct sfs_file *f, struct sfs_status *st);
    int (*mkdir)(struct sfs_conn *c, const char *path, mode_t mode, struct sfs_status *st);
    int (*unlink)(struct sfs_conn *c, const char *path, struct sfs_status *st);
    int (*rmdir)(struct sfs_conn *c, const char *path, struct sfs_status *st);
    /* flags: RENAME_NOREPLACE; without it an existing target is replaced. */
    int (*rename)(struct sfs_conn *c, const char *from, const char *to, unsigned flags, struct sfs_status *st);
    /* TV holds real times (the FUSE layer resolves UTIME_NOW and UTIME_OMIT). */
    int (*utimens)(struct sfs_conn *c, const char *path, const struct timespec tv[2], struct sfs_status *st);
    int (*chmod)(struct sfs_conn *c, const char *path, mode_t mode, struct sfs_status *st);
    /* Optional (NULL where the library keeps no such counters). */
    void (*stats)(struct sfs_conn *c, struct sfs_conn_stats *out);
    /* Optional: false once the connection is gone for good (the server
     * closed the session, stopped answering); NULL where the library
     * reconnects by itself.  A dead connection is replaced on next use. */
    bool (*alive)(struct sfs_conn *c);
    /* Optional: the target of a symbolic link, NUL-terminated; the length or -errno. */
    int (*readlink)(struct sfs_conn *c, const char *path, char *buf, size_t size, struct sfs_status *st);
    /* Optional: creates PATH as a symbolic link to TARGET (NULL: EPERM). */
    int (*symlink)(struct sfs_conn *c, const char *target, const char *path, struct sfs_status *st);
    /* Optional extended attributes (NULL: ENOTSUP).  NAME is a Linux name
     * with its namespace ("user.x"); the FUSE layer passes only "user.*".
     * As for the syscalls, SIZE 0 asks for the length only, a value or
     * list longer than SIZE is -ERANGE, and a missing attribute -ENODATA.
     * These answers (ENODATA, ERANGE, ENOTSUP) leave *st untouched: they
     * say nothing about the mount. */
    ssize_t (*getxattr)(struct sfs_conn *c, const char *path, const char *name, char *value, size_t size,
                        struct sfs_status *st);
    /* flags: XATTR_CREATE, XATTR_REPLACE, or 0. */
    int (*setxattr)(struct sfs_conn *c, const char *path, const char *name, const char *value, size_t size,
                    int flags, struct sfs_status *st);
    /* NUL-separated names, as listxattr(2). */
    ssize_t (*listxattr)(struct sfs_conn *c, const char *path, char *list, size_t size, struct sfs_status *st);
    int (*removexattr)(struct sfs_conn *c, const char *path, const char *name, struct sfs_status *st);
    /* Optional: where read-ahead windows of files on C should live; false
     * (or NULL): malloc'd memory. */
    bool (*window_pool)(struct sfs_conn *c, struct sfs_window_pool *out);
    /* Optional, for a backend that acknowledges writes before the server
     * answered them (write-behind): waits for F's writes in flight and
     * returns the failure of any not reported yet.  Called by close(2). */
    int (*flush)(struct sfs_conn *c, struct sfs_file *f, struct sfs_status *st);
    /* Optional: the protocol library's one-time, process-wide set-up (its
     * configuration, modules, caches), done ahead of time by a process
     * that forks a child per connection (afptest), so that every child
     * inherits it copy-on-write instead of paying for it.  Called
     * single-threaded, before any fork; never contacts a server. */
    void (*preinit)(const struct sfs_config *cfg);
};

/* The resolve and connect stages of every backend: resolves the target's
 * host, connects, reports both stages' times through CB and the address in
 * INFO; returns the connected fd (ADDR kept for more connections). */
struct sfs_addr;
int sfs_stage_resolve_connect(const struct sfs_target *t, struct sfs_addr *addr, struct sfs_server_info *info,
                              sfs_stage_cb cb, void *cb_ctx, struct sfs_status *st);
/* reuse_server_answer: whether a connect that failed (ST) after taking a
 * kept answer (INFO->answer_of) is done again asking the server itself.
 * Only when it failed at connect or negotiate, before its login: the
 * credentials are never sent twice. */
bool sfs_kept_answer_retry(const struct sfs_server_info *info, const struct sfs_status *st);
/* The same in two steps, for a backend that may not need the connection. */
int sfs_stage_resolve(const struct sfs_target *t, struct sfs_addr *addr, struct sfs_server_info *info,
                      sfs_stage_cb cb, void *cb_ctx, struct sfs_status *st);
int sfs_stage_connect(const struct sfs_target *t, const struct sfs_addr *addr, sfs_stage_cb cb, void *cb_ctx,
                      struct sfs_status *st);

#ifdef __cplusplus
}
#endif
#endif
