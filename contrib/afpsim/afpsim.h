/* afpsim: a small AFP-over-DSI/TCP server with per-version personalities,
 * for testing AFP clients.  One process listens; every connection is served
 * by a forked child (like afpd).  Node IDs live in a table shared by all
 * children (cnid.c), so they are stable per path for the server's lifetime.
 *
 * Wire formats are taken from the shared protocol code in fs/afp/ (DSI
 * header, bounds-checked reader/writer, constants, DH/CAST5 helpers) and
 * from captures of real netatalk traffic (tests/data/afp/). */
#ifndef AFPSIM_H
#define AFPSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <glib.h>

#include "afp/afp_buf.h"
#include "afp/afp_proto.h"
#include "afp/dsi.h"

#define AFPSIM_MAX_VOLUMES 64
#define AFPSIM_MAX_FORKS 1024
#define AFPSIM_NAME_MAX 255         /* bytes in one backing file name */

/* ---------------------------------------------------------------- log */

enum log_level { LOG_ERR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };
void log_open(const char *path);        /* NULL: stderr */
void log_set_level(enum log_level l);
bool log_enabled(enum log_level l);
void log_msg(enum log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---------------------------------------------------------- hostile */

enum hostile_mode {
    H_TRUNCATE = 1u << 0,       /* reply cut short, then the connection is closed */
    H_BADLENGTH = 1u << 1,      /* DSI length field off by `delta` */
    H_BADOFFSET = 1u << 2,      /* offsets out of range (GetSrvrInfo, enumerate) */
    H_ENDLESS = 1u << 3,        /* huge DSI length, data trickles forever */
    H_STALL_READ = 1u << 4,     /* stop sending after `after_bytes` of FPReadExt data */
    H_GARBAGE_STATUS = 1u << 5, /* DSIGetStatus reply is random bytes */
    H_WRONG_RID = 1u << 6,      /* reply carries another request ID */
    H_NO_REPLY = 1u << 7,       /* request is silently dropped */
    H_CLOSE = 1u << 8,          /* connection closed instead of the reply */
    H_SLOW = 1u << 9,           /* every matching reply waits interval_ms */
    H_OVERSIZE_READ = 1u << 10, /* FPReadExt returns more bytes than asked for */
    H_BADCOUNT = 1u << 11,      /* enumerate count larger than the entries sent */
    H_BAD_DH = 1u << 12,        /* DH public values 1 / out of range */
    H_BAD_FLAGS = 1u << 13,     /* DSI reply with an unknown command byte */
    H_BAD_APREP = 1u << 14,     /* Client Krb v2: one byte of the AP-REP flipped */
    H_SHORT_WRITE = 1u << 15,   /* FPWriteExt writes and acknowledges half of its data */
};

struct hostile {
    unsigned modes;
    char **targets;             /* "status", "opensession", "any", AFP names */
    unsigned nth;               /* first matching reply that misbehaves (1 = first) */
    unsigned count;             /* how many times (0 = from then on, always) */
    long delta;                 /* H_BADLENGTH */
    uint64_t after_bytes;       /* H_STALL_READ, H_TRUNCATE */
    unsigned interval_ms;       /* H_ENDLESS trickle, H_SLOW */
    uint32_t length;            /* H_ENDLESS announced length */
};

const char *hostile_mode_name(unsigned bit);
int hostile_mode_parse(const char *s, unsigned *bit);

/* ------------------------------------------------------- personality */

enum krb_refusal { KRB_REFUSE_MISC, KRB_REFUSE_BAD_UAM };
enum dhx2_prime_mode { DHX2_PRIME_FRESH, DHX2_PRIME_FIXED };
/* The AFP result for an errno that differs between servers. */
enum alt_error { ALT_MISC, ALT_DISK_FULL, ALT_PARAM, ALT_NOT_FOUND };

struct persona {
    char *file;
    char *name;
    char *description;
    /* FPGetSrvrInfo */
    char *machine_type;
    char **versions;
    char **uams;
    uint16_t flags;
    char *server_name;          /* Mac Roman Pascal string (ASCII here) */
    char *utf8_server_name;     /* NULL: no UTF-8 name */
    bool has_signature;
    uint8_t signature[16];
    bool icon;
    char *fqdn;                 /* DNS entry in the address list, NULL: none */
    char *krb_principal;        /* Directory Names entry, NULL: none */
    bool addr_port_always;      /* IPv4 tag 2 (with port) even on port 548 */
    int utf8_name_shift;        /* quirk: UTF-8 name this many bytes after its offset */
    /* session */
    uint32_t server_quantum;
    uint32_t replay_cache;      /* 0: option not sent */
    char *login_message;
    unsigned tickle_interval;   /* s, 0: never */
    unsigned session_timeout;   /* s without client traffic, 0: never */
    bool answer_tickles;
    bool logout_close;          /* server sends DSICloseSession after FPLogout */
    /* volumes and files */
    uint16_t vol_attributes;
    uint32_t first_cnid;
    uint16_t first_fork;
    bool guest_uaowner;         /* 0x80 in the user access byte for guests too */
    unsigned umask;             /* new files 0666, directories 0777, minus this */
    bool dir_setgid;            /* Unix privileges set on a directory add S_ISGID on disk,
                                 * which is never reported (netatalk) */
    int32_t efbig_error;        /* FPSetForkParms beyond the file system's size limit */
    int32_t through_file_error; /* a path that goes through a file ("file/x") */
    /* UAMs */
    enum krb_refusal krb_refusal;
    enum dhx2_prime_mode dhx2_prime;
    unsigned auth_fail_delay_ms; /* a known user's wrong password is refused after this */
    /* hostile */
    struct hostile hostile;
};

/* Loads FILE, applies overrides ("group.key=value"), fills p.  On error
 * prints to the log and returns -1. */
int persona_load(struct persona *p, const char *file, char **overrides);
void persona_dump(const struct persona *p, FILE *out);
/* Frees what persona_load allocated (the server keeps its persona for life). */
void persona_free(struct persona *p);
bool persona_offers_uam(const struct persona *p, const char *uam);
bool persona_offers_version(const struct persona *p, const char *version);

/* The FPGetSrvrInfo block (DSIGetStatus reply payload). */
GByteArray *status_build(const struct persona *p, const struct sockaddr_storage *listen, bool bad);
/* Random bytes of a plausible size (H_GARBAGE_STATUS). */
GByteArray *status_garbage(void);

/* "AFP3.4" -> 34 ... 0 when unknown. */
int afp_version_num(const char *s);

/* ------------------------------------------------------------- users */

GHashTable *users_load(const char *file);     /* user -> password; NULL on error */

/* ----------------------------------------------------------- volumes */

struct volume {
    char *name;
    char *path;                 /* backing directory, absolute, no trailing '/' */
    char **valid;               /* NULL: everybody, incl. guests */
    bool ro;
    uint16_t id;                /* 1-based, in command line order */
};

struct server {
    struct persona p;
    GHashTable *users;
    struct volume vols[AFPSIM_MAX_VOLUMES];
    size_t n_vols;
    struct sockaddr_storage listen;
    GByteArray *status;
    GByteArray *status_bad;     /* H_BADOFFSET variant */
    char *keytab;               /* --keytab ("FILE:/abs/path"), NULL: Kerberos not configured */
};

/* ------------------------------------------------------------- CNIDs */

/* The shared table; created before the first fork.  0 or -errno. */
int cnid_init(uint32_t max_nodes);
/* The ID of (vol, parent, name), adding it when new; 0 when the table is full. */
uint32_t cnid_get(uint16_t vol, uint32_t parent, const char *name);
/* The ID when known, else 0. */
uint32_t cnid_find(uint16_t vol, uint32_t parent, const char *name);
/* Parent and name of id; false when unknown.  (2 is the root: parent 1, "".) */
bool cnid_lookup(uint16_t vol, uint32_t id, uint32_t *parent, char *name, size_t namesz);
void cnid_move(uint16_t vol, uint32_t id, uint32_t new_parent, const char *new_name);
void cnid_remove(uint16_t vol, uint32_t id);
void cnid_set_first(uint32_t first);

#define CNID_ROOT_PARENT 1u
#define CNID_ROOT 2u

/* ----------------------------------------------------------- session */

struct fork {
    bool used;
    int fd;                     /* -1 for an (empty) resource fork */
    bool rsrc;
    uint16_t access;
    uint16_t vol;
    uint32_t id;
    uint32_t parent;
    char *name;
};

struct enum_cache {
    uint16_t vol;
    uint32_t dir;
    GPtrArray *names;           /* backing names (char *) */
};

struct login;                    /* login.c */

struct session {
    struct server *srv;
    const struct persona *p;
    int fd;
    char peer[64];
    uint16_t srv_rid;           /* request IDs of server-initiated messages */
    bool opened;
    bool logged_in;
    bool guest;
    char user[256];
    bool has_ids;               /* uid/gid: the account of the user (nobody for a guest) */
    uid_t uid;
    gid_t gid;
    int afp_version;            /* 34 for "AFP3.4" */
    struct login *login;
    bool vol_open[AFPSIM_MAX_VOLUMES];
    struct fork forks[AFPSIM_MAX_FORKS];
    uint16_t next_fork;
    struct enum_cache ecache;
    /* current request */
    struct dsi_header req;
    uint8_t *in;
    size_t in_cap;
    uint8_t afp_cmd;            /* 0 for non-command replies */
    bool login_failed;          /* shut the session down after this reply */
    bool logging_out;
    bool logged_out;            /* FPLogout answered; the session waits for the client to close */
    double logout_close_at;     /* monotonic time to close if the client has not (0: never) */
    /* hostile bookkeeping */
    bool h_active;              /* the modes apply to the reply being built */
    bool streaming;
    unsigned h_matches;
    unsigned h_fired;
    uint64_t read_bytes_sent;
    /* timers (monotonic seconds) */
    double last_in, last_out;
    char *server_message;
};

/* Session entry point (in the child). Never returns. */
void session_run(struct server *srv, int fd, const struct sockaddr_storage *peer) __attribute__((noreturn));

/* Replies: payload may be NULL.  Applies hostile behaviour. */
void session_reply(struct session *s, int32_t code, const void *payload, size_t len);
/* Starts a reply whose payload is produced in chunks (FPReadExt). */
bool session_reply_stream_begin(struct session *s, int32_t code, uint64_t total);
bool session_send_raw(struct session *s, const void *buf, size_t len);
/* Attention, close, then exit(0). */
void session_shutdown(struct session *s, uint16_t attention, const char *why) __attribute__((noreturn));
void session_close(struct session *s, const char *why) __attribute__((noreturn));
/* Hostile endings: stop answering (keep the socket open) / drop the socket. */
void session_stall(struct session *s) __attribute__((noreturn));
void session_abort(struct session *s, const char *why) __attribute__((noreturn));
bool session_hostile(struct session *s, unsigned mode);
double now_mono(void);
/* Catches the n signals sigs with handler and blocks them; *waitmask lets
 * them through (for ppoll), *orig (may be NULL) is the mask before. */
void signals_catch(void (*handler)(int), const int *sigs, size_t n, sigset_t *orig, sigset_t *waitmask);
void session_signals_pending(struct session *s);

/* ---------------------------------------------------------- commands */

/* Each handler gets the whole AFP request (cmd byte first) and writes the
 * reply payload into w; returns the AFP result. */
typedef int32_t (*afp_handler)(struct session *s, struct afp_reader *r, struct afp_writer *w);

int32_t cmd_login(struct session *s, struct afp_reader *r, struct afp_writer *w);
int32_t cmd_login_ext(struct session *s, struct afp_reader *r, struct afp_writer *w);
int32_t cmd_login_cont(struct session *s, struct afp_reader *r, struct afp_writer *w);
void login_free(struct session *s);
/* FPGetUserInfo and FPMapID: the session's identity, names of IDs (login.c). */
int32_t cmd_getuserinfo(struct session *s, struct afp_reader *r, struct afp_writer *w);
int32_t cmd_mapid(struct session *s, struct afp_reader *r, struct afp_writer *w);

/* Client Krb v2 (krb.c).  FPLoginCont request, command byte first:
 * u8 cmd, u8 pad, u8 0, u16 ID, user name + NUL, pad to an even offset,
 * u16 length, GSS token (capture p06). */
struct krb_cont {
    uint16_t id;
    char user[256];             /* as the client sent it (informational) */
    const uint8_t *token;       /* points into the request */
    size_t token_len;
};
int krb_parse_logincont(const uint8_t *req, size_t len, struct krb_cont *out);
/* "user@REALM" -> "user"; -1 when empty or longer than sz - 1. */
int krb_principal_user(const char *principal, char *user, size_t sz);
/* --keytab argument -> "FILE:/absolute/path" (or TYPE:residual as given);
 * NULL (message on stderr) when a file keytab is not readable. */
char *krb_keytab_resolve(const char *arg);
/* Acquires and drops acceptor credentials once, logging the result. */
int krb_check(const char *keytab, const char *acceptor);
/* Accepts the client's initial token as `acceptor` (NULL: any key in the
 * keytab).  0: client principal in `client`, the reply token (AP-REP, empty
 * without mutual authentication) in `reply`.  -1: the reason is logged with
 * the GSS major/minor status text, prefixed by `who`. */
int krb_accept(const char *keytab, const char *acceptor, const char *who, const uint8_t *token,
               size_t token_len, char *client, size_t clientsz, GByteArray *reply);

int32_t cmd_getsrvrparms(struct session *s, struct afp_reader *r, struct afp_writer *w);
int32_t cmd_getsrvrmsg(struct session *s, struct afp_reader *r, struct afp_writer *w);
int32_t cmd_openvol(struct session *s, struct afp_reader *r, struct afp_writer *w);
int32_t cmd_closevol(struct session *s, struct afp_reader *r, struct afp_writer *w);
int32_t cmd_getvolparms(struct session *s, struct afp_reader *r, struct afp_writer *w);
int32_t cmd_flush(struct session *s, struct afp_reader *r, struct afp_writer *w);

int32_t cmd_getfiledirparms(struct session *s, struct afp_reader *r, struct afp_writer *w);
int32_t cmd_setfiledirparms(struct session *s, struct afp_reader *r, struct afp_writer *w);
int32_t cmd_enumerate(struct session *s, struct afp_reader *r, struct afp_writer *w);
int32_t cmd_createfile(struct session *s, struct afp_reader *r, struct afp_writer *w);
int32_t cmd_createdir(struct session *s, struct afp_reader *r, struct afp_writer *w);
int32_t cmd_delete(struct session *s, struct afp_reader *r, struct afp_writer *w);
int32_t cmd_rename(struct session *s, struct afp_reader *r, struct afp_writer *w);
int32_t cmd_moveandrename(struct session *s, struct afp_reader *r, struct afp_writer *w);

int32_t cmd_openfork(struct session *s, struct afp_reader *r, struct afp_writer *w);
int32_t cmd_closefork(struct session *s, struct afp_reader *r, struct afp_writer *w);
int32_t cmd_flushfork(struct session *s, struct afp_reader *r, struct afp_writer *w);
int32_t cmd_getforkparms(struct session *s, struct afp_reader *r, struct afp_writer *w);
int32_t cmd_setforkparms(struct session *s, struct afp_reader *r, struct afp_writer *w);
/* FPRead/FPReadExt send their reply themselves (streamed); they return 1. */
int32_t cmd_read(struct session *s, struct afp_reader *r, struct afp_writer *w);
int32_t cmd_write(struct session *s, struct afp_reader *r, struct afp_writer *w);
/* Closes the forks open on volume vol; every fork when vol is 0. */
void forks_close(struct session *s, uint16_t vol);

int32_t cmd_getextattr(struct session *s, struct afp_reader *r, struct afp_writer *w);
int32_t cmd_setextattr(struct session *s, struct afp_reader *r, struct afp_writer *w);
int32_t cmd_removeextattr(struct session *s, struct afp_reader *r, struct afp_writer *w);
int32_t cmd_listextattrs(struct session *s, struct afp_reader *r, struct afp_writer *w);

#define AFPSIM_REPLY_SENT 1     /* a handler that already replied */

/* ------------------------------------------------------ file helpers */

/* A resolved object: the directory that holds it and its name there. */
struct node {
    const struct volume *vol;
    uint32_t parent;            /* CNID of the containing directory (1 for the root) */
    uint32_t id;                /* 0 when it does not exist */
    char name[AFPSIM_NAME_MAX + 1];     /* backing name ("" for the root) */
    char path[4096];            /* backing path */
    bool exists;
    struct stat st;
};

/* Reads the head of a volume request (u8 command, u8 flag, u16 volume ID)
 * and returns that volume if it is open, else NULL (result in *err).
 * flag may be NULL. */
const struct volume *vol_head(struct session *s, struct afp_reader *r, uint8_t *flag, int32_t *err);
bool vol_visible(const struct session *s, const struct volume *v);
/* Reads a pathname (type byte, ...) from r and resolves it below dir_id. */
int32_t node_resolve(struct session *s, const struct volume *v, uint32_t dir_id,
                     struct afp_reader *r, struct node *out);
/* Full backing path of directory id; false when unknown. */
bool node_dir_path(const struct volume *v, uint32_t id, char *out, size_t outsz);
/* Fills n from (vol, parent, name): path, lstat, id. */
int32_t node_from(const struct volume *v, uint32_t parent, const char *name, struct node *n);
int32_t errno_to_afp(int e);
/* AFP access bits (search 1, read 2, write 4) of this session on st. */
uint8_t node_rights(const struct session *s, const struct stat *st);
/* 0, kFPAccessDenied or kFPVolLocked for a change inside directory parent. */
int32_t check_write(const struct session *s, const struct volume *v, const struct stat *st);
void enum_cache_drop(struct session *s);

/* File/directory parameter block (bit order, names after the fixed part). */
int32_t params_put(struct session *s, struct afp_writer *w, const struct node *n, uint16_t bitmap);
bool params_bitmap_ok(bool is_dir, uint16_t bitmap);

/* Finder type 'slnk' and creator 'rhap': a symbolic link. */
#define AFPSIM_SYMLINK_FINFO "slnkrhap"

/* Metadata kept in the backing file's xattr "user.afpsim.meta". */
struct meta {
    uint16_t attr;
    bool has_cdate, has_bdate;
    int32_t cdate, bdate;
    bool has_finfo;
    uint8_t finfo[32];
};
void meta_get(const char *path, struct meta *m);
int meta_set(const char *path, const struct meta *m);

int32_t afp_date(time_t t);
int32_t afp_now(void);

/* A pathname-style name (type byte, ...) read from r, mapped to a backing
 * name ('/' -> ':').  Empty names are allowed when allow_empty. */
int32_t read_afp_name(struct afp_reader *r, char *out, size_t outsz, bool allow_empty);

#endif
