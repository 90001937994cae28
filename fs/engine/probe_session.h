/* The session a prober keeps between entries that would log in the same
 * way (sfs_probe_options.share_sessions): one per process, since
 * afptest's workers probe one entry at a time. */
#ifndef SHARESFS_ENGINE_PROBE_SESSION_H
#define SHARESFS_ENGINE_PROBE_SESSION_H

#include "sharesfs/engine.h"
#include "sharesfs/probe.h"

struct probe_kept_session {
    char *id;                       /* sfs_engine_probe_session_id of its entry (may hold a password) */
    struct sfs_session s;
    struct sfs_server_info server;  /* what the login's stages found */
    char auth[64];
    char owner[256];                /* key of the entry that logged in */
};

/* The kept session if it is ID's and still alive, else NULL (and any other
 * kept session is closed: a new login is coming).  *GONE: why ID's kept
 * session could not be used, when there was one. */
struct probe_kept_session *probe_session_for(const char *id, const char **gone);

/* Keeps S, the session of R's fresh probe, for entries with ID; takes
 * both.  Any session kept before is closed. */
void probe_session_keep(char *id, struct sfs_session *s, const struct sfs_probe_result *r);

/* The session the library set up again by itself so far (its stats'
 * reconnects): a probe on a kept session that saw one is redone fresh. */
uint64_t probe_session_relogins(const struct probe_kept_session *k);

#endif
