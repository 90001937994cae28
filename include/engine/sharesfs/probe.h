/* The probe: one map entry taken stage by stage (parse, resolve, connect,
 * negotiate, authenticate, mount, list, read), stopping at the first failure. */
#ifndef SHARESFS_PROBE_H
#define SHARESFS_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "sharesfs/backend.h"
#include "sharesfs/config.h"
#include "sharesfs/map.h"
#include "sharesfs/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SFS_PROBE_READ_BYTES (64 * 1024)

struct sfs_probe_result {
    char key[256];
    char mountpoint[1024];
    char url[1024];             /* display form: never holds a password */
    char protocol[8];
    char auth[64];              /* auth module: "guest", "ntlmssp", "DHX2", ... */
    char source[300];           /* "file:line" of the map entry */
    struct sfs_server_info server;
    enum sfs_stage reached;     /* last stage that succeeded */
    struct sfs_status status;   /* err == 0: every stage passed */
    bool ran[SFS_STAGE_COUNT];
    double ms[SFS_STAGE_COUNT];
    unsigned listed;            /* entries seen by `list` */
    char read_path[512];        /* file read by `read`; empty when none */
    size_t read_bytes;
    char session_of[256];       /* share_sessions: key of the entry whose session this one
                                   listed and read on; empty: its own stages, login included */
    char session_lost[384];     /* share_sessions: why the kept session of this entry's location
                                   failed its list or read (or was gone), so it was probed afresh;
                                   empty: it was not */
};

struct sfs_probe_options {
    const char *read_path;      /* file to read below the share; NULL: the first regular file listed */
    bool skip_read;
    /* Entries that would log in the same way (sfs_engine_probe_session_id)
     * share one session per process: the first connects, negotiates and
     * logs in, the next ones only list and read on it.  A failure on a
     * shared session is never reported: that entry is probed afresh. */
    bool share_sessions;
    /* An entry whose server (address, port, and for SMB the dialect range)
     * an earlier entry of this process asked already takes that answer to
     * the first exchange (SMB NEGOTIATE, AFP FPGetSrvrInfo) instead of a
     * connection of its own: each costs the server a process.  Its login,
     * share, list and read are its own; server.answer_of names the entry
     * that asked. */
    bool reuse_server_answers;
};

/* Before a prober forks its probing processes: each protocol library the
 * N ENTRIES use does its one-time set-up here (the backends' preinit), so
 * the children inherit it instead of each paying for it.  Single-threaded
 * callers, before the first fork; contacts no server. */
void sfs_engine_probe_prepare(const struct sfs_map_entry *const *entries, size_t n, const struct sfs_config *cfg);

/* What probing entry E leaves behind in a process, as a string into OUT:
 * entries with the same footprint may be probed one after another by the
 * same process.  The protocol and its library's client config, for a
 * backend marked SFS_BACKEND_PROCESS_CONFIG (libsmbclient loads smb.conf
 * process-wide, and keeps it); "" for an entry of any other backend (AFP)
 * or one that fails before any library is called (bad URL or options),
 * which fits anywhere: a worker of SMB entries takes AFP entries too. */
void sfs_engine_probe_footprint(const struct sfs_map_entry *e, const struct sfs_config *cfg, char *out,
                                size_t size);

/* What decides entry E's login, as text (malloc'd; it may hold a
 * password: free it with sfs_engine_probe_session_id_free, which wipes
 * it): entries with equal ids may share a session.  NULL: never shared
 * (no URL, a wildcard). */
char *sfs_engine_probe_session_id(const struct sfs_map_entry *e);
void sfs_engine_probe_session_id_free(char *id);

/* Closes the session share_sessions kept in this process, if any. */
void sfs_probe_sessions_close(void);

/* Never fails as a call: the outcome is in *r. */
void sfs_probe_entry(const struct sfs_map_entry *entry, const struct sfs_config *cfg,
                     const struct sfs_probe_options *opts, struct sfs_probe_result *r);

#ifdef __cplusplus
}
#endif
#endif
